//! The kinds rows through the shell, durable store included: a capacity
//! slot leaves no trace (no feed entry, no journal record, unknown after a
//! reopen), a running wait on a detached job survives a reopen without a
//! completion, and a reopen keeps exactly the unfinished operations it is
//! asked to keep, refusing one that does not match.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_shell::prelude::*;
use oplife_shell::{
    DurableOptions, MemoryStore, OperationSource, RecoveryError, RestorePolicy, Retention, SnapshotError,
};

/// A copy of `store` that shares nothing with it.
fn copy(store: &MemoryStore) -> MemoryStore {
    let copy = MemoryStore::new();
    copy.set_contents(store.contents());
    copy
}

fn reopen(store: &MemoryStore, keep: Vec<Retention>) -> Result<RuntimeOpsLifecycleRegistry, RecoveryError> {
    let options = DurableOptions { keep, ..DurableOptions::default() };
    RuntimeOpsLifecycleRegistry::open_store(copy(store), options).map(|(registry, _)| registry)
}

#[test]
fn a_capacity_slot_is_neither_fed_nor_journaled_nor_recovered() {
    let store = MemoryStore::new();
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions::default()).unwrap();
    let owner = SessionId::new();
    let job = OperationSpec::background_tool(owner, "job");
    let job_id = job.id;
    registry.register_operation(job).unwrap();
    let journaled = store.contents().journal.len();

    let slot = OperationSpec::capacity_slot(owner, "slot");
    let slot_id = slot.id;
    registry.register_operation(slot).unwrap();
    registry.provisioning_succeeded(&slot_id).unwrap();
    let watch = registry.register_watcher(&slot_id).unwrap();
    assert_eq!(store.contents().journal.len(), journaled, "no call on a capacity slot is journaled");
    // While it runs, a reopen does not know it.
    assert!(reopen(&store, Vec::new()).unwrap().snapshot(&slot_id).unwrap().is_none());

    registry.complete_operation(&slot_id, OperationResult::new(slot_id, "released")).unwrap();
    // Its watcher hears; nothing else remains.
    let outcome = block_on(watch.wait()).unwrap();
    assert_eq!(*outcome, OperationTerminalOutcome::Completed(OperationResult::new(slot_id, "released")));
    assert!(registry.snapshot(&slot_id).unwrap().is_none());
    assert_eq!(registry.feed_watermark().unwrap(), 0);
    assert_eq!(store.contents().journal.len(), journaled);
    assert!(registry.collect_completed().unwrap().is_empty());
    let reopened = reopen(&store, Vec::new()).unwrap();
    assert!(reopened.snapshot(&slot_id).unwrap().is_none());
    assert_eq!(reopened.snapshot(&job_id).unwrap().unwrap().status, OperationStatus::Terminated);
}

#[test]
fn a_running_detached_job_wait_survives_a_reopen_without_a_completion() {
    let store = MemoryStore::new();
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions::default()).unwrap();
    let owner = SessionId::new();
    let running = OperationSpec::detached_job_wait(owner, "await scan", "realm", "scan");
    let provisioning = OperationSpec::detached_job_wait(owner, "await index", "realm", "index");
    let (running_id, provisioning_id) = (running.id, provisioning.id);
    registry.register_operation(running).unwrap();
    registry.provisioning_succeeded(&running_id).unwrap();
    registry.register_operation(provisioning).unwrap();

    let reopened = reopen(&store, Vec::new()).unwrap();
    let kept = reopened.snapshot(&running_id).unwrap().unwrap();
    assert_eq!(kept.status, OperationStatus::Running);
    assert!(kept.terminal_outcome.is_none());
    assert_eq!(reopened.snapshot(&provisioning_id).unwrap().unwrap().status, OperationStatus::Terminated);
    let fed: Vec<OperationId> = reopened.list_since(0).unwrap().entries.iter().map(|e| e.id).collect();
    assert_eq!(fed, vec![provisioning_id], "the surviving wait mints nothing");
    // It ends later like any operation, and its ending wakes the owner.
    reopened.complete_operation(&running_id, OperationResult::new(running_id, "scanned")).unwrap();
    assert_eq!(reopened.feed_watermark().unwrap(), 2);
    assert!(reopened.wakes_owner(OperationKind::DetachedJobWait).unwrap());
}

#[test]
fn a_reopen_keeps_exactly_what_it_is_asked_to_keep() {
    let store = MemoryStore::new();
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions::default()).unwrap();
    let owner = SessionId::new();
    let child = SessionId::new();
    let agent = OperationSpec::child_agent(owner, "agent", child);
    let job = OperationSpec::background_tool(owner, "job");
    let (agent_id, job_id) = (agent.id, job.id);
    registry.register_operation(agent).unwrap();
    registry.provisioning_succeeded(&agent_id).unwrap();
    registry.register_operation(job).unwrap();
    let source = Some(OperationSource::SessionChild { session_id: child });

    let keep = vec![Retention { id: agent_id, kind: OperationKind::MobMemberChild, source: source.clone() }];
    let reopened = reopen(&store, keep).unwrap();
    assert_eq!(reopened.snapshot(&agent_id).unwrap().unwrap().status, OperationStatus::Running);
    assert_eq!(reopened.snapshot(&job_id).unwrap().unwrap().status, OperationStatus::Terminated);

    let asked = [
        Retention { id: agent_id, kind: OperationKind::BackgroundToolOp, source: source.clone() },
        Retention { id: agent_id, kind: OperationKind::MobMemberChild, source: None },
        Retention { id: OperationId::new(), kind: OperationKind::BackgroundToolOp, source: None },
    ];
    for retention in asked {
        let (id, kind) = (retention.id, retention.kind);
        match reopen(&store, vec![retention]) {
            Err(RecoveryError::Snapshot(SnapshotError::RetentionMismatch { id: got, kind: of })) => {
                assert_eq!((got, of), (id, kind));
            }
            Err(other) => panic!("{id} as {kind:?}: {other}"),
            Ok(_) => panic!("{id} as {kind:?}: kept"),
        }
    }
}

#[test]
fn a_restore_keeps_what_it_is_asked_to_and_refuses_a_finished_one() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let job = OperationSpec::background_tool(SessionId::new(), "job");
    let id = job.id;
    registry.register_operation(job).unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    let running = registry.capture().unwrap();
    registry.cancel_operation(&id, None).unwrap();
    let ended = registry.capture().unwrap();
    let keep = || vec![Retention { id, kind: OperationKind::BackgroundToolOp, source: None }];

    let restored = RuntimeOpsLifecycleRegistry::restore_keeping(running, RestorePolicy::default(), keep()).unwrap();
    assert_eq!(restored.snapshot(&id).unwrap().unwrap().status, OperationStatus::Running);
    let refused = RuntimeOpsLifecycleRegistry::restore_keeping(ended, RestorePolicy::default(), keep());
    assert!(matches!(refused, Err(SnapshotError::RetentionMismatch { id: got, .. }) if got == id));
}

/// Waits for `future` on a runtime of its own.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}
