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

thread_local! {
    /// Whether this thread holds the registry lock (of a [`Flagged`] registry).
    pub static HELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A registry lock that flags, per thread, when it is held: a test's
/// waker, subscriber or recorder reads [`HELD`] to tell whether it runs
/// under the lock.
pub struct Flagged(std::sync::Mutex<oplife_shell::RegistryState>);

/// The guard of a [`Flagged`] lock: clears the flag when dropped.
pub struct FlaggedGuard<'a>(std::sync::MutexGuard<'a, oplife_shell::RegistryState>);

impl Drop for FlaggedGuard<'_> {
    fn drop(&mut self) {
        HELD.with(|held| held.set(false));
    }
}

impl std::ops::Deref for FlaggedGuard<'_> {
    type Target = oplife_shell::RegistryState;
    fn deref(&self) -> &oplife_shell::RegistryState {
        &self.0
    }
}

impl std::ops::DerefMut for FlaggedGuard<'_> {
    fn deref_mut(&mut self) -> &mut oplife_shell::RegistryState {
        &mut self.0
    }
}

impl oplife_shell::StateLock<oplife_shell::RegistryState> for Flagged {
    fn new(value: oplife_shell::RegistryState) -> Self {
        Flagged(std::sync::Mutex::new(value))
    }
    fn lock(&self) -> Result<impl std::ops::DerefMut<Target = oplife_shell::RegistryState> + '_, ()> {
        let guard = self.0.lock().map_err(|_| ())?;
        HELD.with(|held| held.set(true));
        Ok(FlaggedGuard(guard))
    }
}
