//! Every behaviour the reference implementation's own tests exercise,
//! written against this crate's API.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::{background_spec, child_spec, handle, result, running};
use oplife_shell::Refusal;
use oplife_shell::{
    OperationTerminalOutcome, OpsLifecycleConfig, OpsLifecycleError, OpsLifecycleRegistry, RunId,
    RuntimeOpsLifecycleRegistry,
};

#[tokio::test]
async fn late_watchers_resolve_immediately() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "late");
    registry.complete_operation(&id, result(id, "done")).unwrap();
    match &*registry.register_watcher(&id).unwrap().wait().await.unwrap() {
        OperationTerminalOutcome::Completed(r) => assert_eq!(r.content, "done"),
        other => panic!("expected completed, got {other:?}"),
    }
}

#[test]
fn peer_ready_requires_peer_expectation() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "no-peer");
    assert_eq!(registry.peer_ready(&id, handle("peer")), Err(OpsLifecycleError::Refused(Refusal::PeerNotExpected(id))));
}

#[tokio::test]
async fn multi_listener_completion() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "multi");
    let watches: Vec<_> = (0..3).map(|_| registry.register_watcher(&id).unwrap()).collect();
    assert_eq!(registry.snapshot(&id).unwrap().unwrap().watcher_count, 3);
    registry.complete_operation(&id, result(id, "multi-done")).unwrap();
    for watch in watches {
        assert_eq!(*watch.wait().await.unwrap(), OperationTerminalOutcome::Completed(result(id, "multi-done")));
    }
}

#[tokio::test]
async fn wait_all_returns_all_outcomes_in_the_order_asked() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let a = running(&registry, "a");
    let b = running(&registry, "b");
    registry.complete_operation(&a, result(a, "a-done")).unwrap();
    registry.fail_operation(&b, "b-error".into()).unwrap();
    let done = registry.wait_all(&RunId::new(), &[b, a]).await.unwrap();
    assert_eq!(
        done.outcomes,
        vec![
            (b, OperationTerminalOutcome::Failed { error: "b-error".into() }.into()),
            (a, OperationTerminalOutcome::Completed(result(a, "a-done")).into())
        ]
    );
    assert_eq!(done.satisfied.operation_ids, vec![b, a]);
}

#[tokio::test]
async fn wait_all_through_a_trait_object() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "trait-wait");
    registry.complete_operation(&id, result(id, "done")).unwrap();
    let dynamic: &dyn OpsLifecycleRegistry = &registry;
    let done = dynamic.wait_all(&RunId::new(), std::slice::from_ref(&id)).await.unwrap();
    assert_eq!(done.satisfied.operation_ids, vec![id]);
    assert!(matches!(*done.outcomes[0].1, OperationTerminalOutcome::Completed(_)));
}

#[tokio::test]
async fn wait_all_resolves_from_the_machine_owned_wait_request() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "pending");
    let mut wait = registry.wait_all(&RunId::new(), &[id]);
    assert!(tokio::time::timeout(std::time::Duration::from_millis(10), &mut wait).await.is_err());
    assert_eq!(registry.pending_waits().unwrap(), 1);
    registry.complete_operation(&id, result(id, "done")).unwrap();
    let done = wait.await.unwrap();
    assert_eq!(done.satisfied.operation_ids, vec![id]);
    assert!(
        matches!(done.outcomes.as_slice(), [(got, outcome)] if *got == id && matches!(**outcome, OperationTerminalOutcome::Completed(_)))
    );
    assert_eq!(registry.pending_waits().unwrap(), 0);
}

#[tokio::test]
async fn dropping_a_wait_all_future_cancels_its_wait_request() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "cancelled-wait");
    let wait = registry.wait_all(&RunId::new(), &[id]);
    assert_eq!(registry.pending_waits().unwrap(), 1);
    drop(wait);
    assert_eq!(registry.pending_waits().unwrap(), 0);
}

#[test]
fn collect_completed_drains_terminal_operations() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let a = running(&registry, "a");
    registry.complete_operation(&a, result(a, "done")).unwrap();
    let b = background_spec("b");
    let b_id = b.id;
    registry.register_operation(b).unwrap();
    let collected = registry.collect_completed().unwrap();
    assert_eq!(collected, vec![(a, OperationTerminalOutcome::Completed(result(a, "done")).into())]);
    assert!(registry.snapshot(&a).unwrap().is_none());
    assert!(registry.snapshot(&b_id).unwrap().is_some());
    assert!(registry.collect_completed().unwrap().is_empty());
}

#[test]
fn bounded_completed_retention_evicts_oldest() {
    let registry = RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_completed: 3,
        max_concurrent: None,
        ..OpsLifecycleConfig::default()
    });
    let ids: Vec<_> = (0..5)
        .map(|i| {
            let id = running(&registry, &format!("op-{i}"));
            registry.complete_operation(&id, result(id, &format!("done-{i}"))).unwrap();
            id
        })
        .collect();
    let known: Vec<bool> = ids.iter().map(|id| registry.snapshot(id).unwrap().is_some()).collect();
    assert_eq!(known, vec![false, false, true, true, true]);
    assert_eq!(registry.register_watcher(&ids[0]).unwrap_err(), OpsLifecycleError::Refused(Refusal::NotFound(ids[0])));
}

#[test]
fn max_concurrent_enforcement() {
    let registry = RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_completed: 256,
        max_concurrent: Some(2),
        ..OpsLifecycleConfig::default()
    });
    let a = background_spec("a");
    let a_id = a.id;
    registry.register_operation(a).unwrap();
    registry.register_operation(background_spec("b")).unwrap();
    assert_eq!(
        registry.register_operation(background_spec("c")),
        Err(OpsLifecycleError::Refused(Refusal::MaxConcurrentExceeded { limit: 2, active: 2 }))
    );
    registry.provisioning_succeeded(&a_id).unwrap();
    registry.complete_operation(&a_id, result(a_id, "done")).unwrap();
    registry.register_operation(background_spec("d")).unwrap();
}

#[test]
fn snapshot_includes_timestamps() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let spec = background_spec("timed");
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    let s1 = registry.snapshot(&id).unwrap().unwrap();
    assert!(s1.created_at_ms > 0);
    assert_eq!((s1.started_at_ms, s1.completed_at_ms, s1.elapsed_ms), (None, None, None));
    registry.provisioning_succeeded(&id).unwrap();
    let s2 = registry.snapshot(&id).unwrap().unwrap();
    assert!(s2.started_at_ms.unwrap() >= s2.created_at_ms);
    registry.complete_operation(&id, result(id, "done")).unwrap();
    let s3 = registry.snapshot(&id).unwrap().unwrap();
    assert!(s3.completed_at_ms.unwrap() >= s3.started_at_ms.unwrap());
    assert!(s3.elapsed_ms.is_some());
}

#[test]
fn snapshot_includes_peer_handle() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let spec = child_spec("peer-test");
    let id = spec.id;
    let child_session = spec.child_session_id;
    registry.register_operation(spec).unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    assert!(registry.snapshot(&id).unwrap().unwrap().peer_handle.is_none());
    registry.peer_ready(&id, handle("member-x")).unwrap();
    let snapshot = registry.snapshot(&id).unwrap().unwrap();
    assert_eq!(snapshot.peer_handle, Some(handle("member-x")));
    assert!(snapshot.peer_ready);
    assert_eq!(snapshot.child_session_id, child_session);
}
