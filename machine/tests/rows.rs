//! Every row of the shipped table, and every typed error, through the
//! machine.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_machine::{
    Domain, Image, Lifecycle, LifecycleError, Limits, LostPolicy, Outcome, Output, Request, State, WaitReport,
};
use oplife_spec::{Effect, ErrorKind, Input, OperationKind, OutcomeKind, Phase, RowId, Status, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
struct T;
impl Domain for T {
    type OpId = u32;
    type WaitId = u32;
    type Result = &'static str;
    type Error = &'static str;
    type Reason = &'static str;
    type Progress = u8;
}

use OperationKind::{BackgroundToolOp as Bg, MobMemberChild as Child};

struct Harness {
    lc: Lifecycle,
    st: State<T>,
    fired: Vec<RowId>,
}

impl Harness {
    fn new() -> Self {
        Self::with(Limits::default())
    }
    fn with(limits: Limits) -> Self {
        Harness { lc: Lifecycle::new(Table::standard(), limits).unwrap(), st: State::new(), fired: Vec::new() }
    }
    fn apply(&mut self, r: Request<T>) -> Result<Vec<Output<T>>, LifecycleError<T>> {
        let before = self.st.clone();
        let mut out = Vec::new();
        let mut fired = Vec::new();
        let result = self.lc.apply_traced(&mut self.st, r, &mut out, &mut |row| fired.push(row));
        if result.is_err() {
            assert_eq!(self.st, before, "a refused request changed the state");
            assert!(out.is_empty());
        }
        self.fired.extend(fired);
        result.map(|()| out)
    }
    fn ok(&mut self, r: Request<T>) -> Vec<Output<T>> {
        self.apply(r).unwrap()
    }
    fn err(&mut self, r: Request<T>) -> LifecycleError<T> {
        self.apply(r).unwrap_err()
    }
    fn register(&mut self, id: u32, kind: OperationKind) {
        self.ok(Request::Register { id, kind, expects_peer: kind == Child });
    }
    fn running(&mut self, id: u32, kind: OperationKind) {
        self.register(id, kind);
        self.ok(Request::ProvisioningSucceeded { id });
    }
    fn status(&self, id: u32) -> Status {
        self.st.status(&id)
    }
    fn row_of(&self, input: Input, status: Status) -> RowId {
        self.lc.table().rows().find(|(_, r)| r.input == input && r.allows_status(status)).unwrap().0
    }
    fn registry_row(&self, input: Input, phase: Phase) -> RowId {
        self.lc.table().rows().find(|(_, r)| r.input == input && r.allows_phase(phase)).unwrap().0
    }
}

fn done(id: u32) -> Request<T> {
    Request::Complete { id, result: "ok" }
}

#[test]
fn standard_table_compiles_and_validates() {
    assert!(Lifecycle::new(Table::standard(), Limits::default()).is_ok());
}

#[test]
fn register_goes_to_provisioning_and_claims_a_slot() {
    let mut h = Harness::new();
    assert_eq!(
        h.ok(Request::Register { id: 1, kind: Bg, expects_peer: false }),
        vec![Output::Registered { id: 1, kind: Bg }]
    );
    assert_eq!(h.status(1), Status::Provisioning);
    assert_eq!(h.st.active_count(), 1);
    assert_eq!(h.err(Request::Register { id: 1, kind: Bg, expects_peer: false }), LifecycleError::AlreadyRegistered(1));
}

#[test]
fn register_refuses_a_spec_whose_peer_expectation_disagrees_with_its_kind() {
    let mut h = Harness::new();
    assert_eq!(
        h.err(Request::Register { id: 1, kind: Bg, expects_peer: true }),
        LifecycleError::PeerExpectationMismatch { id: 1, kind: Bg, expects_peer: true }
    );
    assert_eq!(
        h.err(Request::Register { id: 1, kind: Child, expects_peer: false }).kind(),
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
        h.err(Request::Register { id: 3, kind: Bg, expects_peer: false }),
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
        LifecycleError::InvalidTransition { id: 1, status: Status::Running, action: Input::ProvisioningSucceeded }
    );
}

#[test]
fn provisioning_failed_runs_the_terminal_effects_in_order() {
    let mut h = Harness::with(Limits { max_completed: 1, max_concurrent: None, ..Limits::default() });
    h.running(9, Bg);
    h.ok(done(9));
    h.register(1, Bg);
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::BeginWait { wait: 7, ids: vec![1] });
    let out = h.ok(Request::ProvisioningFailed { id: 1, error: "boom" });
    let failed = Outcome::Failed { error: "boom" };
    assert_eq!(
        out,
        vec![
            Output::Ended { id: 1, outcome: failed.clone() },
            Output::FeedAppended { seq: 2, id: 1 },
            Output::WatchersNotified { id: 1, count: 1, outcome: failed.clone() },
            Output::WaitSatisfied(WaitReport { wait: 7, outcomes: vec![(1, failed.clone())] }),
            Output::Evicted { id: 9 },
        ]
    );
    assert_eq!(h.status(1), Status::Failed);
    assert_eq!(h.status(9), Status::Absent);
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(h.st.active_count(), 0);
    assert!(h.st.operation(&1).unwrap().buffered());
    let feed: Vec<(u64, u32, Outcome<T>)> = h.st.feed().entries().map(|e| (e.seq, e.id, e.outcome.clone())).collect();
    assert_eq!(feed, vec![(1, 9, Outcome::Completed("ok")), (2, 1, failed)]);
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
    assert!(out.contains(&Output::WatchersNotified { id: 1, count: 2, outcome: Outcome::Completed("ok") }));
    assert_eq!(h.st.operation(&1).unwrap().watcher_count(), 0);
    assert_eq!(
        h.ok(Request::RegisterWatcher { id: 1 }),
        vec![Output::WatchResolved { id: 1, outcome: Outcome::Completed("ok") }]
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
fn collect_terminal_clears_the_buffered_flag_once() {
    let mut h = Harness::new();
    h.running(1, Bg);
    assert_eq!(h.err(Request::CollectTerminal { id: 1 }).kind(), ErrorKind::InvalidTransition);
    h.ok(done(1));
    assert_eq!(h.ok(Request::CollectTerminal { id: 1 }), vec![Output::Acknowledged { id: 1 }]);
    assert!(!h.st.operation(&1).unwrap().buffered());
    assert_eq!(
        h.err(Request::CollectTerminal { id: 1 }),
        LifecycleError::InvalidTransition { id: 1, status: Status::Completed, action: Input::CollectTerminal }
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
    assert_eq!(h.err(Request::Register { id: 9, kind: Bg, expects_peer: false }), LifecycleError::OwnerTerminated);
    let before = h.st.clone();
    assert_eq!(h.ok(Request::TerminateOwner { reason: "again" }), vec![]);
    assert_eq!(h.st, before);
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
            Output::Collected { id: 1, outcome: Outcome::Failed { error: "x" } },
            Output::Collected { id: 2, outcome: Outcome::Completed("ok") },
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
    assert_eq!(h.err(Request::BeginWait { wait: 1, ids: vec![1, 9] }), LifecycleError::NotFound(9));
    assert_eq!(h.err(Request::BeginWait { wait: 1, ids: vec![1, 2, 1] }), LifecycleError::DuplicateWaitOperation(1));
    let long: Vec<u32> = (0..40).map(|i| i % 2 + 1).collect();
    assert_eq!(h.err(Request::BeginWait { wait: 1, ids: long }), LifecycleError::DuplicateWaitOperation(1));
    assert_eq!(
        h.ok(Request::BeginWait { wait: 1, ids: vec![] }),
        vec![Output::WaitSatisfied(WaitReport { wait: 1, outcomes: vec![] })]
    );
    assert_eq!(h.ok(Request::BeginWait { wait: 2, ids: vec![2] }), vec![Output::WaitPending { wait: 2 }]);
    assert_eq!(h.err(Request::BeginWait { wait: 2, ids: vec![1] }), LifecycleError::DuplicateWaitRequest(2));
    h.ok(done(1));
    assert_eq!(
        h.ok(Request::BeginWait { wait: 3, ids: vec![1] }),
        vec![Output::WaitSatisfied(WaitReport { wait: 3, outcomes: vec![(1, Outcome::Completed("ok"))] })]
    );
}

#[test]
fn many_waits_are_pending_at_once_and_each_reports_captured_outcomes() {
    let mut h = Harness::with(Limits { max_completed: 1, max_concurrent: None, ..Limits::default() });
    h.running(1, Bg);
    h.running(2, Bg);
    h.running(3, Bg);
    h.ok(Request::BeginWait { wait: 10, ids: vec![2, 1] });
    h.ok(Request::BeginWait { wait: 11, ids: vec![1, 3] });
    h.ok(Request::BeginWait { wait: 12, ids: vec![3] });
    assert_eq!(h.st.pending_waits().count(), 3);
    h.ok(done(1));
    // 1 is collected before its waits are satisfied; they keep its outcome.
    h.ok(Request::CollectCompleted);
    assert_eq!(h.status(1), Status::Absent);
    h.ok(Request::CancelWait { wait: 12 });
    let out = h.ok(Request::Fail { id: 2, error: "e" });
    assert!(out.contains(&Output::WaitSatisfied(WaitReport {
        wait: 10,
        outcomes: vec![(2, Outcome::Failed { error: "e" }), (1, Outcome::Completed("ok"))]
    })));
    // 2 is evicted by 3's end; wait 11 still reports 1's real outcome.
    let out = h.ok(Request::TerminateOwner { reason: "r" });
    assert!(out.contains(&Output::Evicted { id: 2 }));
    assert!(out.contains(&Output::WaitSatisfied(WaitReport {
        wait: 11,
        outcomes: vec![(1, Outcome::Completed("ok")), (3, Outcome::Terminated { reason: "r" })]
    })));
    assert_eq!(h.st.pending_waits().count(), 0);
}

#[test]
fn cancel_wait_forgets_only_that_wait() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.ok(Request::BeginWait { wait: 1, ids: vec![1] });
    h.ok(Request::BeginWait { wait: 2, ids: vec![1] });
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
    lc.apply(&mut st, Request::Register { id: 1, kind: Bg, expects_peer: false }).unwrap();
    lc.apply(&mut st, Request::ProvisioningSucceeded { id: 1 }).unwrap();
    let before = st.clone();
    let err = lc.apply(&mut st, done(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert_eq!(st, before);
}

#[test]
fn every_row_fires() {
    let mut h = Harness::with(Limits { max_completed: 1, max_concurrent: None, ..Limits::default() });
    h.running(1, Child);
    h.ok(Request::PeerReady { id: 1 });
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::ReportProgress { id: 1, update: 1 });
    h.ok(Request::BeginWait { wait: 1, ids: vec![1] });
    h.ok(Request::BeginWait { wait: 2, ids: vec![1] });
    h.ok(Request::CancelWait { wait: 2 });
    h.ok(Request::RequestRetire { id: 1 });
    h.ok(Request::MarkRetired { id: 1 });
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::CollectTerminal { id: 1 });
    for (id, req) in [
        (2, Request::ProvisioningFailed { id: 2, error: "e" }),
        (3, Request::AbortProvisioning { id: 3, reason: None }),
        (4, Request::Fail { id: 4, error: "e" }),
        (5, Request::Cancel { id: 5, reason: None }),
    ] {
        h.register(id, Bg);
        h.ok(req);
    }
    h.running(6, Bg);
    h.ok(done(6));
    h.ok(Request::CollectCompleted);
    h.register(7, Bg);
    let open_image = h.st.image();
    h.ok(Request::TerminateOwner { reason: "r" });
    h.ok(Request::TerminateOwner { reason: "r" });
    let closed_image = h.st.image();
    for (image, policy) in [
        (open_image.clone(), LostPolicy::Terminate { reason: "lost" }),
        (open_image, LostPolicy::Cancel { reason: None }),
        (closed_image, LostPolicy::Terminate { reason: "lost" }),
    ] {
        let mut restored = Harness::with(Limits { max_completed: 1, max_concurrent: None, ..Limits::default() });
        restored.ok(Request::Restore { image: Box::new(image), policy });
        h.fired.extend(restored.fired);
    }
    let mut missing: Vec<String> = Vec::new();
    for (id, rule) in h.lc.table().rows() {
        if !h.fired.contains(&id) {
            missing.push(format!("{id}: {rule}"));
        }
    }
    assert!(missing.is_empty(), "rows never fired: {missing:?}");
    // And the helpers agree with the table about a few rows.
    assert!(h.fired.contains(&h.row_of(Input::Evict, Status::Completed)));
    assert!(h.fired.contains(&h.registry_row(Input::TerminateOwner, Phase::OwnerTerminated)));
    assert!(h.lc.table().rows[h.row_of(Input::Complete, Status::Running).0].effects.contains(&Effect::SatisfyWaits));
}

#[test]
fn every_terminal_transition_mints_the_next_feed_sequence() {
    let mut h = Harness::with(Limits { feed_retention: 2, ..Limits::default() });
    assert_eq!(h.st.feed().watermark(), 0);
    h.running(1, Bg);
    h.running(2, Child);
    h.register(3, Bg);
    h.ok(done(1));
    // A refused request mints nothing.
    h.err(done(1));
    let out = h.ok(Request::TerminateOwner { reason: "r" });
    let minted: Vec<(u64, u32)> = out
        .iter()
        .filter_map(|o| if let Output::FeedAppended { seq, id } = o { Some((*seq, *id)) } else { None })
        .collect();
    assert_eq!(minted, vec![(2, 2), (3, 3)]);
    assert_eq!(h.st.feed().watermark(), 3);
    // Retention keeps the last two; the answer names the dropped range.
    let since = h.st.feed().since(0);
    assert_eq!(since.missed, Some(1..=1));
    assert_eq!(since.entries.iter().map(|e| (e.seq, e.id)).collect::<Vec<_>>(), vec![(2, 2), (3, 3)]);
    assert_eq!(since.entries[0].outcome, Outcome::Terminated { reason: "r" });
    assert_eq!(since.entries[0].kind, Child);
    let since = h.st.feed().since(2);
    assert_eq!((since.missed, since.entries.len()), (None, 1));
    assert!(h.st.feed().since(3).entries.is_empty());
    assert!(h.st.feed().since(99).entries.is_empty());
    // Collection and eviction forget records, never feed entries.
    h.ok(Request::CollectCompleted);
    assert_eq!(h.st.feed().entries().len(), 2);
}

fn used_registry() -> Harness {
    let mut h = Harness::with(Limits { max_completed: 8, ..Limits::default() });
    h.running(1, Child);
    h.ok(Request::PeerReady { id: 1 });
    h.ok(Request::ReportProgress { id: 1, update: 40 });
    h.running(2, Bg);
    h.ok(done(2));
    h.register(3, Bg);
    h.ok(Request::Fail { id: 3, error: "e" });
    h.ok(Request::CollectTerminal { id: 3 });
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::BeginWait { wait: 1, ids: vec![1] });
    h
}

#[test]
fn restore_keeps_terminal_records_and_the_feed_and_ends_lost_operations() {
    let old = used_registry();
    let image = old.st.image();
    let mut h = Harness::with(Limits { max_completed: 8, ..Limits::default() });
    let out =
        h.ok(Request::Restore { image: Box::new(image.clone()), policy: LostPolicy::Terminate { reason: "lost" } });
    let lost = Outcome::Terminated { reason: "lost" };
    assert_eq!(out, vec![Output::Ended { id: 1, outcome: lost.clone() }, Output::FeedAppended { seq: 3, id: 1 }]);
    // Terminal records survive exactly, in completion order, with flags.
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![2, 3, 1]);
    assert_eq!(h.st.operation(&2).unwrap().outcome(), Some(&Outcome::Completed("ok")));
    assert!(!h.st.operation(&3).unwrap().buffered());
    // The lost op keeps what it had, but not its watchers or waits.
    let one = h.st.operation(&1).unwrap();
    assert_eq!(
        (one.status(), one.peer_ready(), one.progress_count(), one.last_progress()),
        (Status::Terminated, true, 1, Some(&40))
    );
    assert_eq!((one.watcher_count(), one.tracking_waits()), (0, 0));
    assert_eq!(h.st.pending_waits().count(), 0);
    assert_eq!(h.st.active_count(), 0);
    // The feed continues after the old watermark.
    let feed: Vec<u64> = h.st.feed().entries().map(|e| e.seq).collect();
    assert_eq!(feed, vec![1, 2, 3]);
    assert_eq!(h.st.image().feed[..2], image.feed[..]);
    // The restored registry is open and used: a second restore is refused.
    h.register(4, Bg);
    assert_eq!(
        h.err(Request::Restore { image: Box::new(image), policy: LostPolicy::Cancel { reason: None } }),
        LifecycleError::RegistryInUse
    );
}

#[test]
fn restore_under_the_cancel_policy_and_after_owner_termination() {
    let old = used_registry();
    let mut h = Harness::new();
    h.ok(Request::Restore { image: Box::new(old.st.image()), policy: LostPolicy::Cancel { reason: Some("restart") } });
    assert_eq!(h.st.operation(&1).unwrap().outcome(), Some(&Outcome::Cancelled { reason: Some("restart") }));
    assert_eq!(h.st.phase(), Phase::Open);

    let mut old = used_registry();
    old.ok(Request::TerminateOwner { reason: "bye" });
    let mut h = Harness::new();
    let out = h.ok(Request::Restore { image: Box::new(old.st.image()), policy: LostPolicy::Cancel { reason: None } });
    assert_eq!(out, vec![]);
    assert_eq!(h.st.phase(), Phase::OwnerTerminated);
    assert_eq!(h.err(Request::Register { id: 9, kind: Bg, expects_peer: false }), LifecycleError::OwnerTerminated);
    assert_eq!(h.st.image(), old.st.image());
}

#[test]
fn restore_applies_the_new_limits() {
    let old = used_registry();
    let mut h = Harness::with(Limits { max_completed: 1, feed_retention: 1, ..Limits::default() });
    let out = h.ok(Request::Restore { image: Box::new(old.st.image()), policy: LostPolicy::Terminate { reason: "x" } });
    assert!(out.contains(&Output::Evicted { id: 2 }));
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(h.st.feed().entries().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn restore_refuses_inconsistent_images_and_changes_nothing() {
    let image = used_registry().st.image();
    type Corruption = Box<dyn Fn(&mut Image<T>)>;
    let broken: Vec<(&str, Corruption)> = vec![
        ("twice", Box::new(|i: &mut Image<T>| i.operations.push(i.operations[0].clone()))),
        ("Completed with outcome None", Box::new(|i: &mut Image<T>| i.operations[1].outcome = None)),
        (
            "Completed with outcome Some(Failed)",
            Box::new(|i: &mut Image<T>| i.operations[1].outcome = Some(Outcome::Failed { error: "e" })),
        ),
        (
            "Running with outcome Some(Retired)",
            Box::new(|i: &mut Image<T>| i.operations[0].outcome = Some(Outcome::Retired)),
        ),
        ("Absent", Box::new(|i: &mut Image<T>| i.operations[0].status = Status::Absent)),
        ("buffered but", Box::new(|i: &mut Image<T>| i.operations[0].buffered = true)),
        ("peer-ready", Box::new(|i: &mut Image<T>| i.operations[1].peer_ready = true)),
        ("7 is Absent", Box::new(|i: &mut Image<T>| i.retained.push(7))),
        ("appears twice", Box::new(|i: &mut Image<T>| i.retained.push(2))),
        ("1 is Running", Box::new(|i: &mut Image<T>| i.retained[0] = 1)),
        (
            "retained records",
            Box::new(|i: &mut Image<T>| {
                i.retained.pop();
            }),
        ),
        ("after owner termination", Box::new(|i: &mut Image<T>| i.phase = Phase::OwnerTerminated)),
        ("watermark", Box::new(|i: &mut Image<T>| i.feed_watermark = 1)),
        ("out of range", Box::new(|i: &mut Image<T>| i.feed_watermark = u64::MAX)),
        ("where 1 was expected", Box::new(|i: &mut Image<T>| i.feed[0].seq = 0)),
    ];
    for (expected, corrupt) in broken {
        let mut image = image.clone();
        corrupt(&mut image);
        let mut h = Harness::new();
        let err = h.err(Request::Restore { image: Box::new(image), policy: LostPolicy::Terminate { reason: "x" } });
        match err {
            LifecycleError::InvalidImage(why) => assert!(why.contains(expected), "{expected:?} not in {why:?}"),
            other => panic!("{expected}: {other:?}"),
        }
        assert!(h.st.is_pristine());
    }
}
