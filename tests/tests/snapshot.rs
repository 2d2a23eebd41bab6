//! Durable snapshots: random registry histories survive capture -> bytes ->
//! restore -> capture with their terminal state identical, and corrupted,
//! truncated or future-version bytes are refused with a typed error.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_machine::OperationImage;
use oplife_shell::{
    OperationId, OperationKind, OperationPeerHandle, OperationProgressUpdate, OperationResult, OperationSpec,
    OpsLifecycleConfig, OpsLifecycleRegistry, RecordSnapshot, RegistrySnapshot, RestorePolicy, RunId,
    RuntimeOpsLifecycleRegistry, SessionId, ShellDomain, SnapshotError,
};
use proptest::prelude::*;

const POOL: usize = 4;

#[derive(Debug, Clone)]
enum Call {
    Register(usize, bool),
    Succeed(usize),
    PeerReady(usize),
    Progress(usize, u8),
    Complete(usize),
    Fail(usize),
    Cancel(usize),
    Retire(usize),
    Retired(usize),
    Watch(usize),
    Wait(usize),
    Collect,
    TerminateOwner,
}

fn call() -> impl Strategy<Value = Call> {
    let id = 0..POOL;
    prop_oneof![
        4 => (id.clone(), any::<bool>()).prop_map(|(i, child)| Call::Register(i, child)),
        3 => id.clone().prop_map(Call::Succeed),
        2 => id.clone().prop_map(Call::PeerReady),
        1 => (id.clone(), 0u8..=100).prop_map(|(i, p)| Call::Progress(i, p)),
        2 => id.clone().prop_map(Call::Complete),
        1 => id.clone().prop_map(Call::Fail),
        1 => id.clone().prop_map(Call::Cancel),
        1 => id.clone().prop_map(Call::Retire),
        1 => id.clone().prop_map(Call::Retired),
        1 => id.clone().prop_map(Call::Watch),
        1 => id.clone().prop_map(Call::Wait),
        1 => Just(Call::Collect),
        1 => Just(Call::TerminateOwner),
    ]
}

/// Runs `calls` (refusals included) on a fresh registry and returns it.
fn history(calls: &[Call], ids: &[OperationId]) -> RuntimeOpsLifecycleRegistry {
    let registry = RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_completed: 16,
        feed_retention: 16,
        ..OpsLifecycleConfig::default()
    });
    let mut held = Vec::new();
    for call in calls {
        let _ = match *call {
            Call::Register(i, child) => registry.register_operation(OperationSpec {
                id: ids[i],
                kind: if child { OperationKind::MobMemberChild } else { OperationKind::BackgroundToolOp },
                owner_session_id: SessionId::new(),
                display_name: format!("op{i}"),
                source_label: "proptest".into(),
                child_session_id: child.then(SessionId::new),
                expect_peer_channel: child,
                operation_source: None,
            }),
            Call::Succeed(i) => registry.provisioning_succeeded(&ids[i]),
            Call::PeerReady(i) => {
                registry.peer_ready(&ids[i], OperationPeerHandle::new(format!("op{i}"), format!("{i}"), "inproc"))
            }
            Call::Progress(i, p) => registry.report_progress(
                &ids[i],
                OperationProgressUpdate { message: format!("{p}%"), percent: Some(p.into()) },
            ),
            Call::Complete(i) => registry.complete_operation(
                &ids[i],
                OperationResult { id: ids[i], content: format!("result {i}"), ..OperationResult::default() },
            ),
            Call::Fail(i) => registry.fail_operation(&ids[i], "failed".into()),
            Call::Cancel(i) => registry.cancel_operation(&ids[i], Some("cancelled".into())),
            Call::Retire(i) => registry.request_retire(&ids[i]),
            Call::Retired(i) => registry.mark_retired(&ids[i]),
            Call::Watch(i) => registry.register_watcher(&ids[i]).map(|w| held.push(w)),
            // A wait future that is never polled: its request stays pending.
            Call::Wait(i) => {
                std::mem::forget(registry.wait_all(&RunId::new(), &[ids[i]]));
                Ok(())
            }
            Call::Collect => registry.collect_completed().map(|_| ()),
            Call::TerminateOwner => registry.terminate_owner("bye".into()),
        };
    }
    registry
}

/// The operations of `snapshot` (with their records) that `keep` selects,
/// in registration order.
fn operations(
    snapshot: &RegistrySnapshot,
    keep: impl Fn(&OperationImage<ShellDomain>) -> bool,
) -> Vec<(OperationImage<ShellDomain>, RecordSnapshot)> {
    snapshot
        .image
        .operations
        .iter()
        .zip(&snapshot.records)
        .filter(|(op, _)| keep(op))
        .map(|(op, record)| (op.clone(), record.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn capture_restore_capture_keeps_terminal_state(calls in proptest::collection::vec(call(), 0..40), cancel in any::<bool>()) {
        let ids: Vec<OperationId> = (0..POOL).map(|_| OperationId::new()).collect();
        let old = history(&calls, &ids);
        let first = old.capture().unwrap();
        let bytes = first.to_bytes().unwrap();
        let read = RegistrySnapshot::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&read, &first);

        let policy = if cancel { RestorePolicy::Cancel { reason: None } } else { RestorePolicy::default() };
        let restored = RuntimeOpsLifecycleRegistry::restore(read, policy).unwrap();
        let second = restored.capture().unwrap();
        // What was terminal comes back exactly (retention has room here);
        // lost operations end after it, each with its own feed entry.
        let lost = first.image.operations.iter().filter(|op| !op.status.is_terminal()).count();
        let terminal_before = operations(&first, |op| op.status.is_terminal());
        let terminal_ids: Vec<OperationId> = terminal_before.iter().map(|(op, _)| op.id).collect();
        prop_assert_eq!(operations(&second, |op| terminal_ids.contains(&op.id)), terminal_before);
        prop_assert!(second.image.retained.starts_with(&first.image.retained));
        prop_assert!(second.image.feed.starts_with(&first.image.feed));
        prop_assert!(second.feed_details.starts_with(&first.feed_details));
        prop_assert_eq!(second.image.feed.len(), first.image.feed.len() + lost);
        prop_assert_eq!(second.image.feed_watermark, first.image.feed_watermark + lost as u64);
        prop_assert!(second.image.operations.iter().all(|op| op.status.is_terminal()));
        prop_assert_eq!(second.image.phase, first.image.phase);

        // Once everything is terminal, the round trip is the identity.
        let third = RuntimeOpsLifecycleRegistry::restore(RegistrySnapshot::from_bytes(&second.to_bytes().unwrap()).unwrap(), RestorePolicy::default()).unwrap().capture().unwrap();
        prop_assert_eq!(third, second);
    }

    #[test]
    fn corrupted_and_truncated_bytes_are_refused(calls in proptest::collection::vec(call(), 0..25), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let ids: Vec<OperationId> = (0..POOL).map(|_| OperationId::new()).collect();
        let bytes = history(&calls, &ids).capture().unwrap().to_bytes().unwrap();
        let at = at.index(bytes.len());
        let mut corrupted = bytes.clone();
        corrupted[at] ^= flip;
        prop_assert!(RegistrySnapshot::from_bytes(&corrupted).is_err(), "byte {} ^ {} was accepted", at, flip);
        prop_assert!(matches!(RegistrySnapshot::from_bytes(&bytes[..at]), Err(SnapshotError::Malformed(_))));
    }
}

#[test]
fn a_future_version_is_refused_with_both_versions_named() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let mut future = registry.capture().unwrap();
    future.version = 2;
    assert_eq!(
        RegistrySnapshot::from_bytes(&future.to_bytes().unwrap()),
        Err(SnapshotError::UnsupportedVersion { found: 2, supported: 1 })
    );
}

#[test]
fn a_body_whose_checksum_does_not_match_is_corrupted() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let bytes = registry.capture().unwrap().to_bytes().unwrap();
    // Change a digit inside the body only (the feed watermark 0 -> 7).
    let needle = b"feed_watermark\":0";
    let at = bytes.windows(needle.len()).position(|w| w == needle).unwrap() + needle.len() - 1;
    let mut altered = bytes.clone();
    altered[at] = b'7';
    assert_eq!(RegistrySnapshot::from_bytes(&altered), Err(SnapshotError::Corrupted));
    assert!(matches!(RegistrySnapshot::from_bytes(b"{}"), Err(SnapshotError::Malformed(_))));
    assert!(matches!(RegistrySnapshot::from_bytes(b"\xff\xfe"), Err(SnapshotError::Malformed(_))));
    assert!(matches!(RegistrySnapshot::from_bytes(&bytes[..bytes.len() - 1]), Err(SnapshotError::Malformed(_))));
}
