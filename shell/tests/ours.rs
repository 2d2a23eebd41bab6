//! The points where this registry goes further than the reference.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::{background_spec, child_spec, result, running};
use oplife_shell::Refusal;
use oplife_shell::{
    OperationProgressUpdate, OperationStatus, OperationTerminalOutcome, OpsLifecycleConfig, OpsLifecycleError,
    OpsLifecycleRegistry, RunId, RuntimeOpsLifecycleRegistry, SharedTerminalOutcome,
};

fn small(max_completed: usize) -> RuntimeOpsLifecycleRegistry {
    RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_completed,
        max_concurrent: None,
        ..OpsLifecycleConfig::default()
    })
}

#[tokio::test]
async fn many_waits_are_pending_at_once() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let a = running(&registry, "a");
    let b = running(&registry, "b");
    let run = RunId::new();
    let w1 = registry.wait_all(&run, &[a]);
    let w2 = registry.wait_all(&run, &[a, b]);
    let w3 = registry.wait_all(&run, &[b]);
    assert_eq!(registry.pending_waits().unwrap(), 3);
    registry.complete_operation(&a, result(a, "a")).unwrap();
    registry.cancel_operation(&b, Some("enough".into())).unwrap();
    let (r1, r2, r3) = (w1.await.unwrap(), w2.await.unwrap(), w3.await.unwrap());
    assert_ne!(r1.satisfied.wait_request_id, r2.satisfied.wait_request_id);
    assert_eq!(*r2.outcomes[1].1, OperationTerminalOutcome::Cancelled { reason: Some("enough".into()) });
    assert_eq!(r3.outcomes.len(), 1);
}

#[tokio::test]
async fn a_wait_keeps_real_outcomes_through_eviction_and_collection() {
    let registry = small(1);
    let a = running(&registry, "a");
    let b = running(&registry, "b");
    let c = running(&registry, "c");
    let wait = registry.wait_all(&RunId::new(), &[a, b, c]);
    registry.complete_operation(&a, result(a, "a")).unwrap();
    registry.fail_operation(&b, "b failed".into()).unwrap(); // evicts a
    assert!(registry.snapshot(&a).unwrap().is_none());
    registry.collect_completed().unwrap(); // forgets b
    assert!(registry.snapshot(&b).unwrap().is_none());
    registry.complete_operation(&c, result(c, "c")).unwrap();
    let done = wait.await.unwrap();
    assert_eq!(
        done.outcomes,
        vec![
            (a, OperationTerminalOutcome::Completed(result(a, "a")).into()),
            (b, OperationTerminalOutcome::Failed { error: "b failed".into() }.into()),
            (c, OperationTerminalOutcome::Completed(result(c, "c")).into()),
        ]
    );
}

#[tokio::test]
async fn an_unpolled_wait_survives_its_ops_being_evicted() {
    let registry = small(1);
    let a = running(&registry, "a");
    let wait = registry.wait_all(&RunId::new(), &[a]);
    registry.complete_operation(&a, result(a, "a")).unwrap();
    for i in 0..3 {
        let id = running(&registry, &format!("filler-{i}"));
        registry.complete_operation(&id, result(id, "x")).unwrap();
    }
    assert!(registry.snapshot(&a).unwrap().is_none());
    assert_eq!(wait.await.unwrap().outcomes, vec![(a, OperationTerminalOutcome::Completed(result(a, "a")).into())]);
}

#[tokio::test]
async fn owner_termination_resolves_waits_and_watchers_and_is_final() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let a = running(&registry, "a");
    let spec = background_spec("b");
    let b = spec.id;
    registry.register_operation(spec).unwrap();
    let watch = registry.register_watcher(&b).unwrap();
    let wait = registry.wait_all(&RunId::new(), &[a, b]);
    registry.terminate_owner("session closed".into()).unwrap();
    let terminated =
        SharedTerminalOutcome::new(OperationTerminalOutcome::Terminated { reason: "session closed".into() });
    assert_eq!(watch.wait().await.unwrap(), terminated);
    assert_eq!(wait.await.unwrap().outcomes, vec![(a, terminated.clone()), (b, terminated.clone())]);
    assert_eq!(
        registry.register_operation(background_spec("late")),
        Err(OpsLifecycleError::Refused(Refusal::OwnerTerminated))
    );
    registry.terminate_owner("again".into()).unwrap();
    assert_eq!(registry.snapshot(&a).unwrap().unwrap().terminal_outcome, Some(terminated));
}

#[test]
fn the_operations_one_termination_ends_share_one_outcome() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let done = running(&registry, "done");
    registry.complete_operation(&done, result(done, "ok")).unwrap();
    let (a, b) = (running(&registry, "a"), running(&registry, "b"));
    registry.terminate_owner("closed".into()).unwrap();
    let outcome = |id| registry.snapshot(&id).unwrap().unwrap().terminal_outcome.unwrap();
    // One allocation for every operation the call ended, not one each; the
    // operation that had already ended keeps its own.
    assert!(SharedTerminalOutcome::ptr_eq(&outcome(a), &outcome(b)));
    assert_eq!(*outcome(b), OperationTerminalOutcome::Terminated { reason: "closed".into() });
    assert!(matches!(*outcome(done), OperationTerminalOutcome::Completed(_)));
}

#[tokio::test]
async fn dropping_one_wait_cancels_only_that_wait() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let a = running(&registry, "a");
    let keep = registry.wait_all(&RunId::new(), &[a]);
    let dropped = registry.wait_all(&RunId::new(), &[a]);
    drop(dropped);
    assert_eq!(registry.pending_waits().unwrap(), 1);
    registry.complete_operation(&a, result(a, "a")).unwrap();
    assert_eq!(keep.await.unwrap().outcomes.len(), 1);
}

#[tokio::test]
async fn wait_all_refuses_unknown_and_repeated_ids_and_accepts_an_empty_list() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let a = running(&registry, "a");
    let unknown = oplife_shell::OperationId::new();
    assert_eq!(
        registry.wait_all(&RunId::new(), &[a, unknown]).await,
        Err(OpsLifecycleError::Refused(Refusal::NotFound(unknown)))
    );
    assert_eq!(
        registry.wait_all(&RunId::new(), &[a, a]).await,
        Err(OpsLifecycleError::Refused(Refusal::DuplicateWaitOperation(a)))
    );
    let empty = registry.wait_all(&RunId::new(), &[]).await.unwrap();
    assert!(empty.outcomes.is_empty());
    assert_eq!(registry.pending_waits().unwrap(), 0);
}

#[test]
fn the_last_progress_update_is_kept() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "p");
    for percent in [10, 60] {
        registry
            .report_progress(
                &id,
                OperationProgressUpdate { message: format!("{percent}%"), percent: Some(percent.into()) },
            )
            .unwrap();
    }
    let snapshot = registry.snapshot(&id).unwrap().unwrap();
    assert_eq!(snapshot.progress_count, 2);
    assert_eq!(
        snapshot.last_progress,
        Some(OperationProgressUpdate { message: "60%".into(), percent: Some(60.into()) })
    );
}

#[test]
fn a_spec_whose_peer_expectation_disagrees_with_its_kind_is_refused() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let mut spec = child_spec("child");
    spec.expect_peer_channel = false;
    let id = spec.id;
    assert!(
        matches!(registry.register_operation(spec), Err(OpsLifecycleError::Refused(Refusal::PeerExpectationMismatch { id: got, .. })) if got == id)
    );
    assert!(registry.snapshot(&id).unwrap().is_none());
}

#[test]
fn every_call_is_refused_with_a_typed_error_and_changes_nothing() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "a");
    let before = registry.list_operations().unwrap();
    assert!(matches!(
        registry.abort_provisioning(&id, None),
        Err(OpsLifecycleError::Refused(Refusal::InvalidTransition { .. }))
    ));
    assert!(matches!(
        registry.provisioning_failed(&id, "x".into()),
        Err(OpsLifecycleError::Refused(Refusal::InvalidTransition { .. }))
    ));
    registry.request_retire(&id).unwrap();
    assert!(matches!(
        registry.request_retire(&id),
        Err(OpsLifecycleError::Refused(Refusal::InvalidTransition { status: OperationStatus::Retiring, .. }))
    ));
    registry.mark_retired(&id).unwrap();
    let after = registry.snapshot(&id).unwrap().unwrap();
    assert_eq!(after.terminal_outcome.as_deref(), Some(&OperationTerminalOutcome::Retired));
    assert!(matches!(
        registry.complete_operation(&id, result(id, "late")),
        Err(OpsLifecycleError::Refused(Refusal::InvalidTransition { .. }))
    ));
    assert_eq!(registry.snapshot(&id).unwrap().unwrap(), after);
    assert_eq!(before.len(), 1);
}

#[test]
fn list_operations_is_ordered_by_display_name_and_agrees_with_snapshots() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let ids: Vec<_> = ["zeta", "alpha", "mid"].iter().map(|n| running(&registry, n)).collect();
    let list = registry.list_operations().unwrap();
    let names: Vec<&str> = list.iter().map(|s| s.display_name.as_str()).collect();
    assert_eq!(names, vec!["alpha", "mid", "zeta"]);
    for id in ids {
        let from_list = list.iter().find(|s| s.id == id).unwrap();
        assert_eq!(Some(from_list.clone()), registry.snapshot(&id).unwrap());
    }
}

#[tokio::test]
async fn abort_and_cancel_carry_their_reasons() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let spec = background_spec("p");
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    let watch = registry.register_watcher(&id).unwrap();
    registry.abort_provisioning(&id, Some("no capacity".into())).unwrap();
    assert_eq!(*watch.wait().await.unwrap(), OperationTerminalOutcome::Aborted { reason: Some("no capacity".into()) });
}

#[test]
fn a_poisoned_lock_is_a_typed_error_not_a_silent_answer() {
    use oplife_shell::{RegistryState, StateLock};
    use std::ops::DerefMut;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    static POISON_NEXT: AtomicBool = AtomicBool::new(false);

    /// A std mutex that panics while holding its guard when asked, which
    /// poisons it, as a panic in another thread would.
    struct Poisonable(Mutex<RegistryState>);
    impl StateLock<RegistryState> for Poisonable {
        fn new(value: RegistryState) -> Self {
            Poisonable(Mutex::new(value))
        }
        fn lock(&self) -> Result<impl DerefMut<Target = RegistryState> + '_, ()> {
            let guard = self.0.lock().map_err(|_| ())?;
            if POISON_NEXT.swap(false, Ordering::SeqCst) {
                panic!("poisoning the registry lock");
            }
            Ok(guard)
        }
    }

    let registry =
        std::sync::Arc::new(RuntimeOpsLifecycleRegistry::<Poisonable>::with_lock(OpsLifecycleConfig::default()));
    let id = running(&*registry, "a");
    assert!(registry.snapshot(&id).unwrap().is_some());
    let poisoner = registry.clone();
    POISON_NEXT.store(true, Ordering::SeqCst);
    assert!(std::thread::spawn(move || poisoner.pending_waits()).join().is_err());
    assert_eq!(registry.snapshot(&id), Err(OpsLifecycleError::Poisoned));
    assert_eq!(registry.list_operations(), Err(OpsLifecycleError::Poisoned));
    assert_eq!(registry.collect_completed(), Err(OpsLifecycleError::Poisoned));
    assert_eq!(registry.complete_operation(&id, result(id, "x")), Err(OpsLifecycleError::Poisoned));
    assert_eq!(futures_ready(registry.wait_all(&RunId::new(), &[id])), Err(OpsLifecycleError::Poisoned));
}

/// Polls a future that must already be ready.
fn futures_ready<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
}

/// The satisfaction token names the run that waited: the machine keeps it
/// with the wait and reports it back, whether the wait was satisfied at
/// once or later.
#[tokio::test]
async fn a_waits_token_names_its_run() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "index");
    let (first, second) = (RunId::new(), RunId::new());
    let pending = registry.wait_all(&first, &[id]);
    registry.complete_operation(&id, result(id, "done")).unwrap();
    assert_eq!(pending.await.unwrap().satisfied.run_id, first);
    let at_once = registry.wait_all(&second, &[id]).await.unwrap();
    assert_eq!(at_once.satisfied.run_id, second);
}
