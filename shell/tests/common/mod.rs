//! Helpers shared by the shell's tests.

#![allow(dead_code, clippy::unwrap_used)]

use oplife_shell::{
    OperationId, OperationKind, OperationPeerHandle, OperationResult, OperationSpec, OpsLifecycleRegistry, SessionId,
};

/// A background tool op spec named `name`.
pub fn background_spec(name: &str) -> OperationSpec {
    OperationSpec {
        id: OperationId::new(),
        kind: OperationKind::BackgroundToolOp,
        owner_session_id: SessionId::new(),
        display_name: name.into(),
        source_label: "test".into(),
        child_session_id: None,
        expect_peer_channel: false,
        operation_source: None,
    }
}

/// A child agent spec named `name`, expecting a peer channel.
pub fn child_spec(name: &str) -> OperationSpec {
    OperationSpec {
        kind: OperationKind::MobMemberChild,
        child_session_id: Some(SessionId::new()),
        expect_peer_channel: true,
        ..background_spec(name)
    }
}

/// A successful result for `id`.
pub fn result(id: OperationId, content: &str) -> OperationResult {
    OperationResult { id, content: content.into(), is_error: false, duration_ms: 1, tokens_used: 0 }
}

/// A peer handle named `name`.
pub fn handle(name: &str) -> OperationPeerHandle {
    OperationPeerHandle::new(name, format!("{name}-id"), format!("inproc://{name}"))
}

/// Registers and starts a background op; returns its id.
pub fn running(registry: &impl OpsLifecycleRegistry, name: &str) -> OperationId {
    let spec = background_spec(name);
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    id
}
