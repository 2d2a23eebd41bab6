//! Every row of the shipped table, and every typed error, through the
//! machine.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::{Bg, Child, Harness, T, done};
use oplife_machine::{Lifecycle, LifecycleError, Limits, Outcome, Output, Request, SharedOutcome, State, WaitReport};
use oplife_spec::{ErrorKind, Guard, Input, OperationKind, OutcomeKind, Phase, Retry, Status, Table};
#[test]
fn standard_table_compiles_and_validates() {
    assert!(Lifecycle::new(Table::standard(), Limits::default()).is_ok());
}

#[test]
fn register_goes_to_provisioning_and_claims_a_slot() {
    let mut h = Harness::new();
    assert_eq!(
        h.ok(Request::Register { id: 1, kind: Bg, expects_peer: false, kind_limit: None, limit: None, source: None }),
        vec![Output::Registered { id: 1, kind: Bg }]
    );
    assert_eq!(h.status(1), Status::Provisioning);
    assert_eq!(h.st.active_count(), 1);
    assert_eq!(
        h.err(Request::Register { id: 1, kind: Bg, expects_peer: false, kind_limit: None, limit: None, source: None }),
        LifecycleError::AlreadyRegistered(1)
    );
}

#[test]
fn register_refuses_a_spec_whose_peer_expectation_disagrees_with_its_kind() {
    let mut h = Harness::new();
    assert_eq!(
        h.err(Request::Register { id: 1, kind: Bg, expects_peer: true, kind_limit: None, limit: None, source: None }),
        LifecycleError::PeerExpectationMismatch { id: 1, kind: Bg, expects_peer: true }
    );
    assert_eq!(
        h.err(Request::Register {
            id: 1,
            kind: Child,
            expects_peer: false,
            kind_limit: None,
            limit: None,
            source: None
        })
        .kind(),
        ErrorKind::PeerExpectationMismatch
    );
    assert_eq!(h.status(1), Status::Absent);
}

#[test]
fn register_respects_the_concurrency_limit() {
    let mut h = Harness::with(Limits { max_completed: 8, max_concurrent: Some(2), ..Limits::default() });
    h.register(1, Bg);
    h.running(2, Bg);
    assert_eq!(
        h.err(Request::Register { id: 3, kind: Bg, expects_peer: false, kind_limit: None, limit: None, source: None }),
        LifecycleError::MaxConcurrentExceeded { limit: 2, active: 2 }
    );
    h.ok(done(2));
    h.register(3, Bg);
    assert_eq!(h.st.active_count(), 2);
}

#[test]
fn provisioning_succeeded_starts_the_operation() {
    let mut h = Harness::new();
    h.register(1, Bg);
    assert_eq!(h.ok(Request::ProvisioningSucceeded { id: 1 }), vec![Output::Started { id: 1 }]);
    assert_eq!(h.status(1), Status::Running);
    assert_eq!(
        h.err(Request::ProvisioningSucceeded { id: 1 }),
        LifecycleError::InvalidTransition {
            id: 1,
            status: Status::Running,
            action: Input::ProvisioningSucceeded,
            retry: Retry::Invalid
        }
    );
}

#[test]
fn provisioning_failed_runs_the_terminal_effects_in_order() {
    let mut h = Harness::with(Limits { max_completed: 1, max_concurrent: None, ..Limits::default() });
    h.running(9, Bg);
    h.ok(done(9));
    h.register(1, Bg);
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::BeginWait { wait: 7, ids: vec![1], run: () });
    let out = h.ok(Request::ProvisioningFailed { id: 1, error: "boom" });
    let failed: SharedOutcome<T> = Outcome::Failed { error: "boom" }.into();
    assert_eq!(
        out,
        vec![
            Output::Ended { id: 1, outcome: failed.clone(), seq: Some(2) },
            Output::WatchersNotified { id: 1, count: 1, outcome: failed.clone() },
            Output::WaitSatisfied(WaitReport { wait: 7, outcomes: vec![(1, failed.clone())], run: () }),
            Output::Evicted { id: 9 },
        ]
    );
    assert_eq!(h.status(1), Status::Failed);
    assert_eq!(h.status(9), Status::Absent);
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(h.st.active_count(), 0);
    assert!(h.st.operation(&1).unwrap().buffered());
    let feed: Vec<(u64, u32, SharedOutcome<T>)> =
        h.st.feed().entries().map(|e| (e.seq, e.id, e.outcome.clone())).collect();
    assert_eq!(feed, vec![(1, 9, Outcome::Completed("ok").into()), (2, 1, failed)]);
}

#[test]
fn abort_provisioning_ends_as_aborted() {
    let mut h = Harness::new();
    h.register(1, Bg);
    h.ok(Request::AbortProvisioning { id: 1, reason: Some("stop") });
    assert_eq!(h.status(1), Status::Aborted);
    assert_eq!(h.st.operation(&1).unwrap().outcome(), Some(&Outcome::Aborted { reason: Some("stop") }));
    h.running(2, Bg);
    assert_eq!(h.err(Request::AbortProvisioning { id: 2, reason: None }).kind(), ErrorKind::InvalidTransition);
}

#[test]
fn peer_ready_exposes_the_peer_once_for_children_only() {
    let mut h = Harness::new();
    h.running(1, Child);
    assert_eq!(h.ok(Request::PeerReady { id: 1 }), vec![Output::PeerExposed { id: 1 }]);
    assert!(h.st.operation(&1).unwrap().peer_ready());
    assert_eq!(h.err(Request::PeerReady { id: 1 }), LifecycleError::AlreadyPeerReady(1));
    h.running(2, Bg);
    assert_eq!(h.err(Request::PeerReady { id: 2 }), LifecycleError::PeerNotExpected(2));
    h.register(3, Child);
    assert_eq!(h.err(Request::PeerReady { id: 3 }).kind(), ErrorKind::InvalidTransition);
    h.ok(Request::RequestRetire { id: 1 });
    h.running(4, Child);
    h.ok(Request::RequestRetire { id: 4 });
    h.ok(Request::PeerReady { id: 4 });
}

#[test]
fn watchers_are_pending_before_and_resolved_after_the_end() {
    let mut h = Harness::new();
    h.running(1, Bg);
    assert_eq!(h.ok(Request::RegisterWatcher { id: 1 }), vec![Output::WatchPending { id: 1 }]);
    h.ok(Request::RegisterWatcher { id: 1 });
    assert_eq!(h.st.operation(&1).unwrap().watcher_count(), 2);
    let out = h.ok(done(1));
    assert!(out.contains(&Output::WatchersNotified { id: 1, count: 2, outcome: Outcome::Completed("ok").into() }));
    assert_eq!(h.st.operation(&1).unwrap().watcher_count(), 0);
    assert_eq!(
        h.ok(Request::RegisterWatcher { id: 1 }),
        vec![Output::WatchResolved { id: 1, outcome: Outcome::Completed("ok").into() }]
    );
    assert_eq!(h.err(Request::RegisterWatcher { id: 5 }), LifecycleError::NotFound(5));
}

#[test]
fn progress_is_counted_and_the_last_update_kept() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.ok(Request::ReportProgress { id: 1, update: 10 });
    assert_eq!(h.ok(Request::ReportProgress { id: 1, update: 20 }), vec![Output::Progress { id: 1, update: Some(20) }]);
    let op = h.st.operation(&1).unwrap();
    assert_eq!((op.progress_count(), op.last_progress()), (2, Some(&20)));
    h.register(2, Bg);
    assert_eq!(h.err(Request::ReportProgress { id: 2, update: 1 }).kind(), ErrorKind::InvalidTransition);
}

#[test]
fn complete_fail_and_cancel_record_their_outcomes() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.running(2, Bg);
    h.register(3, Bg);
    h.ok(done(1));
    h.ok(Request::Fail { id: 2, error: "e" });
    h.ok(Request::Cancel { id: 3, reason: None });
    let outcome = |id: u32| h.st.operation(&id).unwrap().outcome().cloned();
    assert_eq!(outcome(1), Some(Outcome::Completed("ok")));
    assert_eq!(outcome(2), Some(Outcome::Failed { error: "e" }));
    assert_eq!(outcome(3), Some(Outcome::Cancelled { reason: None }));
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(h.err(done(1)).kind(), ErrorKind::InvalidTransition);
    assert_eq!(h.err(done(4)), LifecycleError::NotFound(4));
}

#[test]
fn retire_goes_through_retiring_to_retired() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.ok(Request::RequestRetire { id: 1 });
    assert_eq!(h.status(1), Status::Retiring);
    assert_eq!(h.err(Request::RequestRetire { id: 1 }).kind(), ErrorKind::InvalidTransition);
    h.ok(Request::ReportProgress { id: 1, update: 1 });
    h.ok(Request::MarkRetired { id: 1 });
    assert_eq!(h.status(1), Status::Retired);
    assert_eq!(h.st.operation(&1).unwrap().outcome(), Some(&Outcome::Retired));
    h.running(2, Bg);
    h.ok(Request::MarkRetired { id: 2 });
    assert_eq!(h.status(2), Status::Retired);
}

#[test]
fn a_released_watcher_is_neither_counted_nor_notified() {
    let mut h = Harness::new();
    h.running(1, Bg);
    assert_eq!(h.err(Request::ReleaseWatcher { id: 1 }), LifecycleError::WatcherNotPending(1));
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::RegisterWatcher { id: 1 });
    assert_eq!(h.ok(Request::ReleaseWatcher { id: 1 }), vec![Output::WatcherReleased { id: 1 }]);
    assert_eq!(h.st.operation(&1).unwrap().watcher_count(), 1);
    let ended = h.ok(done(1));
    assert!(ended.contains(&Output::WatchersNotified { id: 1, count: 1, outcome: Outcome::Completed("ok").into() }));
    // Once ended, nothing is pending to release.
    assert_eq!(h.err(Request::ReleaseWatcher { id: 1 }).kind(), ErrorKind::InvalidTransition);
    assert_eq!(h.err(Request::ReleaseWatcher { id: 9 }), LifecycleError::NotFound(9));
}

#[test]
fn collect_terminal_clears_the_buffered_flag_once() {
    let mut h = Harness::new();
    h.running(1, Bg);
    assert_eq!(h.err(Request::CollectTerminal { id: 1 }).kind(), ErrorKind::InvalidTransition);
    h.ok(done(1));
    assert_eq!(h.ok(Request::CollectTerminal { id: 1 }), vec![Output::Acknowledged { id: 1 }]);
    assert!(!h.st.operation(&1).unwrap().buffered());
    assert_eq!(
        h.err(Request::CollectTerminal { id: 1 }),
        LifecycleError::InvalidTransition {
            id: 1,
            status: Status::Completed,
            action: Input::CollectTerminal,
            retry: Retry::Invalid
        }
    );
}

#[test]
fn terminate_owner_ends_every_active_operation_in_registration_order_and_is_final() {
    let mut h = Harness::new();
    h.running(3, Bg);
    h.register(1, Bg);
    h.running(2, Bg);
    h.ok(Request::RequestRetire { id: 2 });
    h.ok(done(3));
    let out = h.ok(Request::TerminateOwner { reason: "bye" });
    let ended: Vec<u32> =
        out.iter().filter_map(|o| if let Output::Ended { id, .. } = o { Some(*id) } else { None }).collect();
    assert_eq!(ended, vec![1, 2]);
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![3, 1, 2]);
    assert_eq!(h.st.operation(&2).unwrap().outcome(), Some(&Outcome::Terminated { reason: "bye" }));
    assert_eq!(h.st.phase(), Phase::OwnerTerminated);
    assert_eq!(h.st.active_count(), 0);
    assert_eq!(
        h.err(Request::Register { id: 9, kind: Bg, expects_peer: false, kind_limit: None, limit: None, source: None }),
        LifecycleError::OwnerTerminated
    );
    let before = h.st.clone();
    assert_eq!(h.ok(Request::TerminateOwner { reason: "again" }), vec![]);
    assert_eq!(h.st, before);
}

#[test]
fn terminate_owner_ends_every_operation_when_eviction_compacts_the_slots_midway() {
    // Forty running and two retained: from the 25th termination on,
    // evictions have forgotten enough records that the slots are compacted
    // while the cascade runs, and the slots it read at the start move.
    let mut h = Harness::with(Limits { max_completed: 2, max_concurrent: None, ..Limits::default() });
    for id in 1..=40 {
        h.running(id, Bg);
    }
    let out = h.ok(Request::TerminateOwner { reason: "bye" });
    let ended: Vec<u32> =
        out.iter().filter_map(|o| if let Output::Ended { id, .. } = o { Some(*id) } else { None }).collect();
    assert_eq!(ended, (1..=40).collect::<Vec<_>>());
    let evicted = out.iter().filter(|o| matches!(o, Output::Evicted { .. })).count();
    assert_eq!(evicted, 38);
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![39, 40]);
    assert_eq!(h.st.operations().map(|(id, _)| *id).collect::<Vec<_>>(), vec![39, 40]);
    assert_eq!(h.st.active_count(), 0);
    assert_eq!(h.st.feed().watermark(), 40);
}

#[test]
fn collect_completed_hands_over_every_retained_record_in_order_and_forgets_them() {
    let mut h = Harness::new();
    h.running(2, Bg);
    h.running(1, Bg);
    h.running(3, Bg);
    h.ok(Request::Fail { id: 1, error: "x" });
    h.ok(done(2));
    let out = h.ok(Request::CollectCompleted);
    assert_eq!(
        out,
        vec![
            Output::Collected { id: 1, outcome: Outcome::Failed { error: "x" }.into() },
            Output::Collected { id: 2, outcome: Outcome::Completed("ok").into() },
        ]
    );
    assert_eq!((h.status(1), h.status(2), h.status(3)), (Status::Absent, Status::Absent, Status::Running));
    assert_eq!(h.ok(Request::CollectCompleted), vec![]);
    h.register(1, Bg);
}

#[test]
fn eviction_forgets_the_oldest_beyond_max_completed() {
    let mut h = Harness::with(Limits { max_completed: 2, max_concurrent: None, ..Limits::default() });
    for id in 0..4 {
        h.running(id, Bg);
        h.ok(done(id));
    }
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(h.status(0), Status::Absent);
    assert_eq!(h.err(Request::RegisterWatcher { id: 0 }), LifecycleError::NotFound(0));
    h.register(0, Bg);
}

#[test]
fn begin_wait_validates_ids_and_resolves_at_once_when_nothing_is_left() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.running(2, Bg);
    assert_eq!(h.err(Request::BeginWait { wait: 1, ids: vec![1, 9], run: () }), LifecycleError::NotFound(9));
    assert_eq!(
        h.err(Request::BeginWait { wait: 1, ids: vec![1, 2, 1], run: () }),
        LifecycleError::DuplicateWaitOperation(1)
    );
    let long: Vec<u32> = (0..40).map(|i| i % 2 + 1).collect();
    assert_eq!(h.err(Request::BeginWait { wait: 1, ids: long, run: () }), LifecycleError::DuplicateWaitOperation(1));
    assert_eq!(
        h.ok(Request::BeginWait { wait: 1, ids: vec![], run: () }),
        vec![Output::WaitSatisfied(WaitReport { wait: 1, outcomes: vec![], run: () })]
    );
    assert_eq!(h.ok(Request::BeginWait { wait: 2, ids: vec![2], run: () }), vec![Output::WaitPending { wait: 2 }]);
    assert_eq!(h.err(Request::BeginWait { wait: 2, ids: vec![1], run: () }), LifecycleError::DuplicateWaitRequest(2));
    h.ok(done(1));
    assert_eq!(
        h.ok(Request::BeginWait { wait: 3, ids: vec![1], run: () }),
        vec![Output::WaitSatisfied(WaitReport {
            wait: 3,
            outcomes: vec![(1, Outcome::Completed("ok").into())],
            run: ()
        })]
    );
}

#[test]
fn many_waits_are_pending_at_once_and_each_reports_captured_outcomes() {
    let mut h = Harness::with(Limits { max_completed: 1, max_concurrent: None, ..Limits::default() });
    h.running(1, Bg);
    h.running(2, Bg);
    h.running(3, Bg);
    h.ok(Request::BeginWait { wait: 10, ids: vec![2, 1], run: () });
    h.ok(Request::BeginWait { wait: 11, ids: vec![1, 3], run: () });
    h.ok(Request::BeginWait { wait: 12, ids: vec![3], run: () });
    assert_eq!(h.st.pending_waits().count(), 3);
    h.ok(done(1));
    // 1 is collected before its waits are satisfied; they keep its outcome.
    h.ok(Request::CollectCompleted);
    assert_eq!(h.status(1), Status::Absent);
    h.ok(Request::CancelWait { wait: 12 });
    let out = h.ok(Request::Fail { id: 2, error: "e" });
    assert!(out.contains(&Output::WaitSatisfied(WaitReport {
        wait: 10,
        outcomes: vec![(2, Outcome::Failed { error: "e" }.into()), (1, Outcome::Completed("ok").into())],
        run: (),
    })));
    // 2 is evicted by 3's end; wait 11 still reports 1's real outcome.
    let out = h.ok(Request::TerminateOwner { reason: "r" });
    assert!(out.contains(&Output::Evicted { id: 2 }));
    assert!(out.contains(&Output::WaitSatisfied(WaitReport {
        wait: 11,
        outcomes: vec![(1, Outcome::Completed("ok").into()), (3, Outcome::Terminated { reason: "r" }.into())],
        run: (),
    })));
    assert_eq!(h.st.pending_waits().count(), 0);
}

#[test]
fn cancel_wait_forgets_only_that_wait() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.ok(Request::BeginWait { wait: 1, ids: vec![1], run: () });
    h.ok(Request::BeginWait { wait: 2, ids: vec![1], run: () });
    assert_eq!(h.ok(Request::CancelWait { wait: 1 }), vec![Output::WaitCancelled { wait: 1 }]);
    assert_eq!(h.st.operation(&1).unwrap().tracking_waits(), 1);
    assert_eq!(h.err(Request::CancelWait { wait: 1 }), LifecycleError::WaitNotActive(1));
    let out = h.ok(done(1));
    assert!(out.iter().any(|o| matches!(o, Output::WaitSatisfied(r) if r.wait == 2)));
    assert!(!out.iter().any(|o| matches!(o, Output::WaitSatisfied(r) if r.wait == 1)));
}

#[test]
fn an_unexecutable_table_gives_internal_not_a_panic() {
    let mut table = Table::standard();
    for (status, kind) in &mut table.outcomes {
        if *status == Status::Completed {
            *kind = OutcomeKind::Terminated;
        }
    }
    let lc = Lifecycle::new_unchecked(table, Limits::default());
    let mut st = State::<T>::new();
    lc.apply(
        &mut st,
        Request::Register { id: 1, kind: Bg, expects_peer: false, kind_limit: None, limit: None, source: None },
    )
    .unwrap();
    lc.apply(&mut st, Request::ProvisioningSucceeded { id: 1 }).unwrap();
    let before = st.clone();
    let err = lc.apply(&mut st, done(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert_eq!(st, before);
}

#[test]
fn a_refused_call_on_an_ended_operation_is_classified_as_a_retry() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.ok(done(1));
    // The same completion again is a repeat; another result, or another
    // ending, is a conflict.
    assert_eq!(h.err(done(1)).retry(), Retry::Repeat);
    assert_eq!(h.err(Request::Complete { id: 1, result: "other" }).retry(), Retry::Conflict);
    assert_eq!(h.err(Request::Cancel { id: 1, reason: None }).retry(), Retry::Conflict);
    assert_eq!(h.err(Request::Fail { id: 1, error: "e" }).retry(), Retry::Conflict);
    // A second cancel is a repeat whatever its reason.
    h.register(2, Bg);
    h.ok(Request::Cancel { id: 2, reason: Some("a") });
    assert_eq!(h.err(Request::Cancel { id: 2, reason: Some("b") }).retry(), Retry::Repeat);
    // Refusals that are not about an ending are invalid.
    h.register(3, Bg);
    assert_eq!(h.err(Request::Complete { id: 3, result: "early" }).retry(), Retry::Invalid);
    assert_eq!(h.err(Request::CollectTerminal { id: 3 }).retry(), Retry::Invalid);
    assert_eq!(h.err(Request::ProvisioningSucceeded { id: 9 }).retry(), Retry::Invalid);
}

#[test]
fn a_rollback_forgets_an_unobserved_registration_and_nothing_else() {
    let mut h = Harness::with(Limits { max_concurrent: Some(1), ..Limits::default() });
    let pristine = h.st.clone();
    h.register(1, Bg);
    assert_eq!(h.ok(Request::RollbackRegistration { id: 1 }), vec![Output::RolledBack { id: 1 }]);
    assert_eq!(h.st, pristine, "the state is the one before the registration");
    // Observed registrations are refused, naming the guard.
    h.register(2, Child);
    h.ok(Request::RegisterWatcher { id: 2 });
    assert_eq!(
        h.err(Request::RollbackRegistration { id: 2 }),
        LifecycleError::RegistrationObserved { id: 2, guard: Guard::NoWatcher }
    );
    h.ok(Request::ReleaseWatcher { id: 2 });
    h.ok(Request::BeginWait { wait: 1, ids: vec![2], run: () });
    assert_eq!(
        h.err(Request::RollbackRegistration { id: 2 }),
        LifecycleError::RegistrationObserved { id: 2, guard: Guard::NotWaitedOn }
    );
    h.ok(Request::CancelWait { wait: 1 });
    h.ok(Request::ProvisioningSucceeded { id: 2 });
    assert_eq!(h.err(Request::RollbackRegistration { id: 2 }).kind(), ErrorKind::InvalidTransition);
    assert_eq!(h.err(Request::RollbackRegistration { id: 7 }), LifecycleError::NotFound(7));
}

#[test]
fn a_callers_limit_counts_active_operations_of_the_kind() {
    let mut h = Harness::new();
    let limited = |id, kind: OperationKind, limit| Request::Register {
        id,
        kind,
        expects_peer: kind == Child,
        kind_limit: Some(limit),
        limit: None,
        source: None,
    };
    h.ok(limited(1, Bg, 2));
    h.ok(limited(2, Bg, 2));
    assert_eq!(h.err(limited(3, Bg, 2)), LifecycleError::AdmissionLimitExceeded { kind: Bg, limit: 2, active: 2 });
    h.ok(limited(3, Child, 1));
    assert_eq!((h.st.active_count_of(Bg), h.st.active_count_of(Child)), (2, 1));
    h.ok(Request::Cancel { id: 1, reason: None });
    h.ok(limited(4, Bg, 2));
    assert_eq!(h.err(limited(5, Bg, 0)).kind(), ErrorKind::AdmissionLimitExceeded);
}

#[test]
fn a_callers_concurrency_limit_counts_every_kind_and_only_tightens() {
    let mut h = Harness::with(Limits { max_concurrent: Some(3), ..Limits::default() });
    let capped = |id, kind: OperationKind, limit| Request::Register {
        id,
        kind,
        expects_peer: kind == Child,
        kind_limit: None,
        limit: Some(limit),
        source: None,
    };
    h.ok(capped(1, Bg, 2));
    h.ok(capped(2, Child, 2));
    assert_eq!(h.err(capped(3, Bg, 2)), LifecycleError::MaxConcurrentExceeded { limit: 2, active: 2 });
    h.ok(capped(3, Bg, 3));
    assert_eq!(h.st.active_count_of(Bg) + h.st.active_count_of(Child), 3);
    // A caller's limit above the registry's does not lift it.
    assert_eq!(h.err(capped(4, Bg, 10)), LifecycleError::MaxConcurrentExceeded { limit: 3, active: 3 });
    // Without a registry limit, the caller's alone.
    let mut h = Harness::new();
    h.ok(capped(1, Bg, 1));
    assert_eq!(h.err(capped(2, Child, 1)), LifecycleError::MaxConcurrentExceeded { limit: 1, active: 1 });
}

#[test]
fn a_source_must_agree_with_the_kind_and_the_child_session() {
    use oplife_spec::SourceClaim as C;
    let mut h = Harness::new();
    let from = |id, kind: OperationKind, claim| Request::Register {
        id,
        kind,
        expects_peer: kind == Child,
        kind_limit: None,
        limit: None,
        source: Some(claim),
    };
    h.ok(from(1, Child, C::SessionChild { of_child: true }));
    h.ok(from(2, Child, C::BackendPeer));
    h.ok(from(3, Bg, C::DetachedJob));
    for (id, kind, claim) in [
        (4, Child, C::SessionChild { of_child: false }),
        (5, Bg, C::SessionChild { of_child: true }),
        (6, Bg, C::BackendPeer),
        (7, Child, C::DetachedJob),
    ] {
        assert_eq!(h.err(from(id, kind, claim)), LifecycleError::SourceMismatch { id, kind, claim });
    }
    assert_eq!(h.st.operation_count(), 3);
}

#[test]
fn owner_termination_shares_one_outcome_only_where_every_terminate_row_builds_the_same() {
    use oplife_spec::{Allowed, StatusSet, Target};
    let terminate = |st: &mut State<T>, lc: &Lifecycle| {
        for id in [1, 2, 3] {
            let register =
                Request::Register { id, kind: Bg, expects_peer: false, kind_limit: None, limit: None, source: None };
            lc.apply(st, register).unwrap();
        }
        lc.apply(st, Request::ProvisioningSucceeded { id: 2 }).unwrap();
        lc.apply(st, Request::ProvisioningSucceeded { id: 3 }).unwrap();
        lc.apply(st, Request::TerminateOwner { reason: "r" }).unwrap();
        [1, 2, 3].map(|id| st.operation(&id).unwrap().shared_outcome().unwrap().clone())
    };
    // The shipped table: one row, one target: one outcome for all three.
    let shipped = Lifecycle::standard(Limits::default());
    let [a, b, c] = terminate(&mut State::new(), &shipped);
    assert!(SharedOutcome::<T>::ptr_eq(&a, &b) && SharedOutcome::<T>::ptr_eq(&b, &c));
    assert_eq!(*a, Outcome::Terminated { reason: "r" });

    // A table that aborts provisioning operations instead: each builds its
    // own outcome, and each gets the one its row says.
    let mut table = Table::standard();
    let at = table.rows.iter().position(|rule| rule.input == Input::Terminate).unwrap();
    let mut aborts = table.rows[at].clone();
    aborts.from = Allowed::Statuses(StatusSet::of(&[Status::Provisioning]));
    aborts.target = Target::Status(Status::Aborted);
    table.rows.insert(at, aborts);
    let split = Lifecycle::new_unchecked(table, Limits::default());
    let [a, b, c] = terminate(&mut State::new(), &split);
    assert_eq!(*a, Outcome::Aborted { reason: Some("r") });
    assert_eq!((&*b, &*c), (&Outcome::Terminated { reason: "r" }, &Outcome::Terminated { reason: "r" }));
}
