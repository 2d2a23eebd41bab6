//! Conformance of Meerkat's interface: random sequences of calls, valid or
//! not, made through `dyn OpsLifecycleRegistry` of each published line
//! (meerkat-core 0.5 and 0.9.8) over the registry, and applied to the
//! machine alone. After every step the answers (the same refusal, in
//! Meerkat's words), the snapshots, the completion feed, and what watches
//! and waits delivered must agree. One harness, instantiated per line over
//! that line's crate; what differs between the lines is in `shape_0_5` and
//! `shape_0_9`.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[path = "conformance/calls.rs"]
#[allow(dead_code)]
mod calls;

const POOL: usize = 4;

macro_rules! conformance {
    ($version:ident, $mk:ident, $shape:ident) => {
        mod $version {
            use std::future::Future;
            use std::pin::Pin;
            use std::sync::Arc;
            use std::task::{Context, Poll, Waker};

            use $mk::lifecycle::RunId;
            use $mk::ops_lifecycle as mk;
            use oplife_machine::{Limits, Machine, Output, Payload, Request};
            use oplife_shell::{
                MeerkatRegistry, OperationId, OpsLifecycleConfig, RuntimeOpsLifecycleRegistry, ShellDomain,
                WaitRequestId,
            };
            use oplife_spec::{ErrorKind, Input};
            use proptest::prelude::*;

            use super::$shape as shape;
            use super::{POOL, calls};

            #[derive(Debug, Clone)]
            enum Step {
                Op(Input, usize, u8),
                TerminateOwner,
                Collect,
                Wait(Vec<usize>),
            }

            fn step() -> impl Strategy<Value = Step> {
                prop_oneof![
                    20 => (proptest::sample::select(shape::IN.to_vec()), 0..=POOL, any::<u8>())
                        .prop_map(|(input, i, seed)| Step::Op(input, i, seed)),
                    1 => Just(Step::TerminateOwner),
                    1 => Just(Step::Collect),
                    3 => proptest::collection::vec(0..=POOL, 0..4).prop_map(Step::Wait),
                ]
            }

            type Outcomes = Vec<(mk::OperationId, mk::OperationTerminalOutcome)>;
            pub(super) type Pending<T> = Pin<Box<dyn Future<Output = T> + Send>>;

            /// A watch a caller holds: the operation, Meerkat's watch, and what the
            /// machine delivered to it.
            struct Watch {
                id: OperationId,
                future: Pending<mk::OperationTerminalOutcome>,
                delivered: Option<mk::OperationTerminalOutcome>,
                /// Whether it resolved (and was compared): a later ending
                /// of an operation registered again under its id is not its.
                settled: bool,
            }

            /// A wait a caller holds: its future until it resolves, what it resolved
            /// to, and what the machine satisfied it with.
            struct Wait {
                future: Option<Pending<Result<mk::WaitAllResult, mk::OpsLifecycleError>>>,
                resolved: Option<Outcomes>,
                satisfied: Option<Outcomes>,
                wait: WaitRequestId,
            }

            struct Harness {
                ids: Vec<OperationId>,
                machine: Machine<ShellDomain>,
                registry: Arc<dyn mk::OpsLifecycleRegistry>,
                watches: Vec<Watch>,
                waits: Vec<Wait>,
                log: Vec<String>,
            }

            fn poll_now<T>(future: &mut Pending<T>) -> Option<T> {
                match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                    Poll::Ready(value) => Some(value),
                    Poll::Pending => None,
                }
            }

            fn mk_id(id: OperationId) -> mk::OperationId {
                mk::OperationId(id.0)
            }

            /// The outcome in Meerkat's words, written out here independently of the
            /// adapter's own translation.
            fn mk_outcome(outcome: &oplife_shell::OperationTerminalOutcome) -> mk::OperationTerminalOutcome {
                use oplife_shell::OperationTerminalOutcome as O;
                match outcome {
                    O::Completed(r) => mk::OperationTerminalOutcome::Completed(mk::OperationResult {
                        id: mk_id(r.id),
                        content: r.content.clone(),
                        is_error: r.is_error,
                        duration_ms: r.duration_ms,
                        tokens_used: r.tokens_used,
                    }),
                    O::Failed { error } => mk::OperationTerminalOutcome::Failed { error: error.clone() },
                    O::Aborted { reason } => mk::OperationTerminalOutcome::Aborted { reason: reason.clone() },
                    O::Cancelled { reason } => mk::OperationTerminalOutcome::Cancelled { reason: reason.clone() },
                    O::Retired => mk::OperationTerminalOutcome::Retired,
                    O::Terminated { reason } => mk::OperationTerminalOutcome::Terminated { reason: reason.clone() },
                }
            }

            /// Whether Meerkat's error says what the machine's refusal says.
            fn same_refusal(machine: ErrorKind, meerkat: &mk::OpsLifecycleError) -> bool {
                use mk::OpsLifecycleError as E;
                match machine {
                    ErrorKind::NotFound => matches!(meerkat, E::NotFound(_)),
                    ErrorKind::AlreadyRegistered => matches!(meerkat, E::AlreadyRegistered(_)),
                    ErrorKind::PeerNotExpected => matches!(meerkat, E::PeerNotExpected(_)),
                    ErrorKind::AlreadyPeerReady => matches!(meerkat, E::AlreadyPeerReady(_)),
                    ErrorKind::MaxConcurrentExceeded | ErrorKind::AdmissionLimitExceeded => {
                        matches!(meerkat, E::MaxConcurrentExceeded { .. })
                    }
                    ErrorKind::DuplicateWaitOperation => matches!(meerkat, E::DuplicateWaitOperation(_)),
                    ErrorKind::InvalidTransition | ErrorKind::PeerExpectationMismatch | ErrorKind::SourceMismatch | ErrorKind::RegistrationObserved => {
                        matches!(meerkat, E::InvalidTransition { .. })
                    }
                    ErrorKind::OwnerTerminated => shape::owner_terminated(meerkat),
                    _ => matches!(meerkat, E::Internal(_)),
                }
            }

            impl Harness {
                fn new(max_completed: usize, max_concurrent: Option<usize>) -> Self {
                    let config =
                        OpsLifecycleConfig { max_completed, max_concurrent, feed_retention: 3, ..OpsLifecycleConfig::default() };
                    let ours = Arc::new(RuntimeOpsLifecycleRegistry::with_config(config));
                    Harness {
                        ids: (0..=POOL).map(|_| OperationId::new()).collect(),
                        machine: Machine::new(Limits { max_completed, max_concurrent, feed_retention: 3 }),
                        registry: Arc::new(MeerkatRegistry::new(ours)),
                        watches: Vec::new(),
                        waits: Vec::new(),
                        log: Vec::new(),
                    }
                }

                fn fail(&self, difference: String) -> String {
                    let calls: Vec<String> = self.log.iter().enumerate().map(|(i, l)| format!("  {}. {l}", i + 1)).collect();
                    format!("calls:\n{}\nfirst difference after call {}: {difference}", calls.join("\n"), self.log.len())
                }

                /// Applies `request` to the machine and records what it delivers.
                fn on_machine(&mut self, request: Request<ShellDomain>) -> Result<(), ErrorKind> {
                    let outputs = self.machine.apply(request).map_err(|e| e.kind())?;
                    for output in outputs {
                        match output {
                            Output::WatchResolved { outcome, .. } => {
                                if let Some(watch) = self.watches.last_mut() {
                                    watch.delivered = Some(mk_outcome(&outcome));
                                }
                            }
                            Output::WatchersNotified { id, outcome, .. } => {
                                for watch in self.watches.iter_mut().filter(|w| w.id == id && w.delivered.is_none() && !w.settled) {
                                    watch.delivered = Some(mk_outcome(&outcome));
                                }
                            }
                            Output::WaitSatisfied(report) => {
                                let outcomes: Outcomes =
                                    report.outcomes.iter().map(|(id, o)| (mk_id(*id), mk_outcome(o))).collect();
                                if let Some(wait) = self.waits.iter_mut().find(|w| w.wait == report.wait) {
                                    wait.satisfied = Some(outcomes);
                                } else if let Some(wait) = self.waits.last_mut() {
                                    // A wait satisfied as it begins: the one just added.
                                    wait.wait = report.wait;
                                    wait.satisfied = Some(outcomes);
                                }
                            }
                            Output::WaitPending { wait } => {
                                if let Some(last) = self.waits.last_mut() {
                                    last.wait = wait;
                                }
                            }
                            _ => {}
                        }
                    }
                    Ok(())
                }

                /// Meerkat's call for `input` on operation `i`, with the payload seed.
                fn on_meerkat(
                    &mut self,
                    input: Input,
                    id: OperationId,
                    payload: &Payload<ShellDomain>,
                ) -> Result<(), mk::OpsLifecycleError> {
                    let registry = Arc::clone(&self.registry);
                    let mid = mk_id(id);
                    match (input, payload.clone()) {
                        (Input::Register, Payload::Spec { kind, expects_peer, limit, source, .. }) => {
                            shape::register(&*registry, shape::spec(id, kind, expects_peer, source), limit)
                        }
                        (Input::ProvisioningSucceeded, _) => registry.provisioning_succeeded(&mid),
                        (Input::ProvisioningFailed, Payload::Error(error)) => registry.provisioning_failed(&mid, error),
                        (Input::AbortProvisioning, Payload::Reason(reason)) => registry.abort_provisioning(&mid, reason),
                        (Input::PeerReady, _) => registry.peer_ready(&mid, shape::peer()),
                        (Input::RegisterWatcher, _) => registry.register_watcher(&mid).map(|watch| {
                            self.watches.push(Watch { id, future: shape::resolved(watch), delivered: None, settled: false });
                        }),
                        (Input::RollbackRegistration, _) => shape::rollback(&*registry, &mid),
                        (Input::ReportProgress, Payload::Progress(update)) => registry.report_progress(
                            &mid,
                            mk::OperationProgressUpdate { message: update.message, percent: update.percent.map(|p| p.get()) },
                        ),
                        (Input::Complete, Payload::Result(result)) => registry.complete_operation(
                            &mid,
                            mk::OperationResult {
                                id: mk_id(result.id),
                                content: result.content,
                                is_error: result.is_error,
                                duration_ms: result.duration_ms,
                                tokens_used: result.tokens_used,
                            },
                        ),
                        (Input::Fail, Payload::Error(error)) => registry.fail_operation(&mid, error),
                        (Input::Cancel, Payload::Reason(reason)) => registry.cancel_operation(&mid, reason),
                        (Input::RequestRetire, _) => registry.request_retire(&mid),
                        (Input::MarkRetired, _) => registry.mark_retired(&mid),
                        (input, payload) => panic!("no Meerkat method for {input} with {payload:?}"),
                    }
                }

                fn step(&mut self, step: &Step) -> Result<(), String> {
                    self.log.push(format!("{step:?}"));
                    let (meerkat, machine) = match step.clone() {
                        Step::Op(input, i, seed) => {
                            let id = self.ids[i];
                            // A per-kind limit is the registry's own call; a
                            // caller's concurrency limit is Meerkat's where
                            // the line has it (`shape::CAPS`).
                            let payload = match calls::payload(input, id, seed) {
                                Payload::Spec { kind, expects_peer, limit, source, .. } => Payload::Spec {
                                    kind: shape::KINDS[kind.index() % shape::KINDS.len()],
                                    expects_peer,
                                    kind_limit: None,
                                    limit: limit.filter(|_| shape::CAPS),
                                    source: source.filter(|_| shape::SOURCES),
                                },
                                other => other,
                            };
                            let watches = self.watches.len();
                            let meerkat = self.on_meerkat(input, id, &payload);
                            let request = Request::for_operation(input, id, payload).unwrap();
                            let machine = self.on_machine(request);
                            if meerkat.is_err() && self.watches.len() > watches {
                                return Err(self.fail("a refused register_watcher handed out a watch".into()));
                            }
                            (meerkat, machine)
                        }
                        Step::TerminateOwner => (
                            self.registry.terminate_owner("bye".into()),
                            self.on_machine(Request::TerminateOwner { reason: "bye".into() }),
                        ),
                        Step::Collect => {
                            let retained: Vec<mk::OperationId> = self.machine.state().retained().map(|id| mk_id(*id)).collect();
                            let collected = self.registry.collect_completed();
                            if let Ok(list) = &collected
                                && list.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>() != retained
                            {
                                return Err(
                                    self.fail(format!("collect_completed handed over {list:?}, machine retained {retained:?}"))
                                );
                            }
                            (collected.map(drop), self.on_machine(Request::CollectCompleted))
                        }
                        Step::Wait(indices) => {
                            let ids: Vec<OperationId> = indices.iter().map(|i| self.ids[*i]).collect();
                            let mk_ids: Vec<mk::OperationId> = ids.iter().map(|id| mk_id(*id)).collect();
                            let registry = Arc::clone(&self.registry);
                            let run = uuid();
                            let mut future: Pending<_> = Box::pin(async move { registry.wait_all(&RunId(run), &mk_ids).await });
                            let ready = poll_now(&mut future);
                            let meerkat = match &ready {
                                Some(Err(error)) => Err(error.clone()),
                                _ => Ok(()),
                            };
                            if meerkat.is_ok() {
                                let resolved = ready.and_then(Result::ok).map(|done| done.outcomes);
                                self.waits.push(Wait {
                                    future: Some(future),
                                    resolved,
                                    satisfied: None,
                                    wait: WaitRequestId::new(),
                                });
                            }
                            let run = oplife_shell::RunId(run);
                            let machine = self.on_machine(Request::BeginWait { wait: WaitRequestId::new(), ids, run });
                            if machine.is_err() && meerkat.is_ok() {
                                self.waits.pop();
                            }
                            (meerkat, machine)
                        }
                    };
                    let agree = match (&meerkat, &machine) {
                        (Ok(()), Ok(())) => true,
                        (Err(meerkat), Err(kind)) => same_refusal(*kind, meerkat),
                        _ => false,
                    };
                    if !agree {
                        return Err(self.fail(format!("Meerkat's interface returned {meerkat:?}, the machine {machine:?}")));
                    }
                    self.compare()
                }

                fn compare(&mut self) -> Result<(), String> {
                    for (i, id) in self.ids.iter().enumerate() {
                        let snapshot = shape::snapshot(&*self.registry, &mk_id(*id));
                        let expected = self.machine.state().operation(id).map(|op| {
                            (
                                op.status().name().to_lowercase(),
                                op.peer_ready(),
                                op.progress_count(),
                                op.watcher_count(),
                                op.outcome().map(mk_outcome),
                            )
                        });
                        let got = snapshot.map(|s| {
                            (s.status.as_str().to_owned(), s.peer_ready, s.progress_count, s.watcher_count, s.terminal_outcome)
                        });
                        if got != expected {
                            return Err(self.fail(format!("op{i}: Meerkat's snapshot {got:?}, the machine {expected:?}")));
                        }
                    }
                    if shape::listed(&*self.registry) != self.machine.state().operation_count() {
                        return Err(self.fail("list_operations disagrees with the machine".into()));
                    }
                    let feed = self.registry.completion_feed().unwrap().list_since(0);
                    let machine_feed = self.machine.state().feed();
                    let got: Vec<_> =
                        feed.entries.iter().map(|e| (e.seq, e.operation_id.clone(), e.terminal_outcome.clone())).collect();
                    let expected: Vec<_> = machine_feed.entries().map(|e| (e.seq, mk_id(e.id), mk_outcome(&e.outcome))).collect();
                    if got != expected || feed.watermark != machine_feed.watermark() {
                        return Err(self.fail(format!("feed: Meerkat's {got:?}, the machine's {expected:?}")));
                    }
                    for k in 0..self.watches.len() {
                        let watch = &mut self.watches[k];
                        let got = poll_now(&mut watch.future);
                        let expected = watch.delivered.clone();
                        // A resolved watch stays resolved: poll it no more.
                        if got.is_some() {
                            watch.future = Box::pin(std::future::pending());
                            watch.delivered = None;
                            watch.settled = true;
                        }
                        if got != expected {
                            return Err(self.fail(format!("watch {k}: Meerkat's watch {got:?}, the machine {expected:?}")));
                        }
                    }
                    for k in 0..self.waits.len() {
                        let wait = &mut self.waits[k];
                        if wait.resolved.is_none()
                            && let Some(future) = wait.future.as_mut()
                            && let Some(done) = poll_now(future)
                        {
                            wait.resolved = Some(done.map_err(|e| e.to_string())?.outcomes);
                            wait.future = None;
                        }
                        if wait.resolved != wait.satisfied {
                            let (got, expected) = (wait.resolved.clone(), wait.satisfied.clone());
                            return Err(self.fail(format!("wait {k}: Meerkat's {got:?}, the machine {expected:?}")));
                        }
                    }
                    Ok(())
                }
            }

            fn uuid() -> oplife_shell::uuid::Uuid {
                oplife_shell::uuid::Uuid::new_v4()
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(256))]
                #[test]
                fn meerkats_interface_and_the_machine_agree(
                    steps in proptest::collection::vec(step(), 1..80),
                    max_completed in 0usize..4,
                    max_concurrent in proptest::option::of(1usize..4),
                ) {
                    let mut harness = Harness::new(max_completed, max_concurrent);
                    for step in &steps {
                        if let Err(report) = harness.step(step) {
                            prop_assert!(false, "{}", report);
                        }
                    }
                }
            }

            /// Every per-operation input of the table is either called through
            /// Meerkat's interface here or listed as having no method there: a new
            /// input fails this until it is placed.
            #[test]
            fn every_per_operation_input_is_placed() {
                for input in Input::per_operation() {
                    assert!(
                        shape::IN.contains(&input) ^ shape::NOT_IN.contains(&input),
                        "{input} must be in exactly one of the shape's IN and NOT_IN"
                    );
                }
            }
        }
    };
}

conformance!(v0_5, meerkat_core_0_5, shape_0_5);
conformance!(v0_9, meerkat_core_0_9, shape_0_9);

/// What differs in meerkat-core 0.5's interface.
mod shape_0_5 {
    use meerkat_core_0_5::comms::TrustedPeerSpec;
    use meerkat_core_0_5::ops_lifecycle as mk;
    use meerkat_core_0_5::types::SessionId;
    use oplife_shell::{OperationId, OperationKind};
    use oplife_spec::Input;

    use super::v0_5::Pending;

    /// The inputs the interface has a method for.
    pub(super) const IN: [Input; 12] = [
        Input::Register,
        Input::ProvisioningSucceeded,
        Input::ProvisioningFailed,
        Input::AbortProvisioning,
        Input::PeerReady,
        Input::RegisterWatcher,
        Input::ReportProgress,
        Input::Complete,
        Input::Fail,
        Input::Cancel,
        Input::RequestRetire,
        Input::MarkRetired,
    ];

    /// Per-operation inputs without a method (a dropped 0.5 watch releases
    /// nothing; collecting one record and rolling back are the registry's
    /// own calls).
    pub(super) const NOT_IN: [Input; 3] = [Input::ReleaseWatcher, Input::CollectTerminal, Input::RollbackRegistration];

    pub(super) fn spec(
        id: OperationId,
        kind: OperationKind,
        expects_peer: bool,
        _: Option<oplife_spec::SourceClaim>,
    ) -> mk::OperationSpec {
        mk::OperationSpec {
            id: mk::OperationId(id.0),
            kind: match kind {
                OperationKind::MobMemberChild => mk::OperationKind::MobMemberChild,
                // The line has no other kinds (`KINDS`): never asked.
                _ => mk::OperationKind::BackgroundToolOp,
            },
            owner_session_id: SessionId(id.0),
            display_name: format!("op {id}"),
            source_label: "conformance".into(),
            child_session_id: None,
            expect_peer_channel: expects_peer,
        }
    }

    /// 0.5 has no per-registration limit.
    pub(super) const CAPS: bool = false;

    /// The kinds the line has.
    pub(super) const KINDS: [OperationKind; 2] = [OperationKind::MobMemberChild, OperationKind::BackgroundToolOp];

    /// 0.5's specs say nothing of their source.
    pub(super) const SOURCES: bool = false;

    pub(super) fn register(
        registry: &dyn mk::OpsLifecycleRegistry,
        spec: mk::OperationSpec,
        _: Option<u32>,
    ) -> Result<(), mk::OpsLifecycleError> {
        registry.register_operation(spec)
    }

    pub(super) fn peer() -> mk::OperationPeerHandle {
        let trusted = TrustedPeerSpec { name: "p".into(), peer_id: "p".into(), address: "inproc://p".into() };
        mk::OperationPeerHandle { peer_name: "p".into(), trusted_peer: trusted }
    }

    pub(super) fn resolved(watch: mk::OperationCompletionWatch) -> Pending<mk::OperationTerminalOutcome> {
        Box::pin(watch.wait())
    }

    pub(super) fn rollback(_: &dyn mk::OpsLifecycleRegistry, _: &mk::OperationId) -> Result<(), mk::OpsLifecycleError> {
        panic!("0.5's interface has no rollback: never drawn")
    }

    pub(super) fn snapshot(
        registry: &dyn mk::OpsLifecycleRegistry,
        id: &mk::OperationId,
    ) -> Option<mk::OperationLifecycleSnapshot> {
        registry.snapshot(id)
    }

    pub(super) fn listed(registry: &dyn mk::OpsLifecycleRegistry) -> usize {
        registry.list_operations().len()
    }

    /// A registration refused because the owner terminated.
    pub(super) fn owner_terminated(error: &mk::OpsLifecycleError) -> bool {
        matches!(error, mk::OpsLifecycleError::InvalidTransition { status: mk::OperationStatus::Absent, .. })
    }
}

/// What differs in meerkat-core 0.9.8's interface.
mod shape_0_9 {
    use meerkat_core_0_9::comms::{PeerAddress, PeerId, PeerName, TrustedPeerDescriptor};
    use meerkat_core_0_9::ops_lifecycle as mk;
    use meerkat_core_0_9::types::SessionId;
    use oplife_shell::{OperationId, OperationKind};
    use oplife_spec::{Input, SourceClaim};

    use super::v0_9::Pending;

    /// The inputs the interface has a method for: 0.5's, and the rollback.
    pub(super) const IN: [Input; 13] = {
        let mut all = [Input::RollbackRegistration; 13];
        let mut i = 0;
        while i < super::shape_0_5::IN.len() {
            all[i] = super::shape_0_5::IN[i];
            i += 1;
        }
        all
    };

    /// Per-operation inputs without a method here (dropping a watch
    /// releases its watcher, which this harness never does; collecting one
    /// record is the registry's own call).
    pub(super) const NOT_IN: [Input; 2] = [Input::ReleaseWatcher, Input::CollectTerminal];

    pub(super) fn spec(
        id: OperationId,
        kind: OperationKind,
        expects_peer: bool,
        claim: Option<SourceClaim>,
    ) -> mk::OperationSpec {
        let session = SessionId(oplife_shell::uuid::Uuid::new_v4());
        let (child_session_id, operation_source) = match claim {
            None => (None, None),
            Some(SourceClaim::SessionChild { of_child: true }) => {
                (Some(session.clone()), Some(mk::OperationSource::session_child(session)))
            }
            Some(SourceClaim::SessionChild { of_child: false }) => {
                (None, Some(mk::OperationSource::session_child(session)))
            }
            Some(SourceClaim::BackendPeer) => (
                None,
                Some(mk::OperationSource::backend_peer(
                    PeerId(oplife_shell::uuid::Uuid::new_v4()),
                    PeerAddress::parse("tcp://127.0.0.1:1").unwrap(),
                )),
            ),
            Some(SourceClaim::DetachedJob) => (None, Some(mk::OperationSource::detached_job("realm", "job"))),
        };
        mk::OperationSpec {
            id: mk::OperationId(id.0),
            kind: match kind {
                OperationKind::MobMemberChild => mk::OperationKind::MobMemberChild,
                OperationKind::BackgroundToolOp => mk::OperationKind::BackgroundToolOp,
                OperationKind::BackgroundToolCapacitySlot => mk::OperationKind::BackgroundToolCapacitySlot,
                OperationKind::DetachedJobWait => mk::OperationKind::DetachedJobWait,
            },
            owner_session_id: SessionId(id.0),
            display_name: format!("op {id}"),
            source_label: "conformance".into(),
            operation_source,
            child_session_id,
            expect_peer_channel: expects_peer,
        }
    }

    /// 0.9.8 registers under a caller's concurrency limit.
    pub(super) const CAPS: bool = true;

    /// The kinds the line has: all the table's.
    pub(super) const KINDS: [OperationKind; 4] = OperationKind::ALL;

    /// 0.9.8's specs say what they stand for.
    pub(super) const SOURCES: bool = true;

    pub(super) fn register(
        registry: &dyn mk::OpsLifecycleRegistry,
        spec: mk::OperationSpec,
        limit: Option<u32>,
    ) -> Result<(), mk::OpsLifecycleError> {
        match limit {
            Some(limit) => registry.register_operation_with_admission_limit(spec, Some(limit as usize)),
            None => registry.register_operation(spec),
        }
    }

    pub(super) fn peer() -> mk::OperationPeerHandle {
        mk::OperationPeerHandle {
            peer_name: PeerName::new("p").unwrap(),
            trusted_peer: TrustedPeerDescriptor {
                peer_id: PeerId(oplife_shell::uuid::Uuid::from_u128(7)),
                name: PeerName::new("p").unwrap(),
                address: PeerAddress::parse("inproc://p").unwrap(),
                pubkey: [1; 32],
            },
        }
    }

    pub(super) fn resolved(watch: mk::OperationCompletionWatch) -> Pending<mk::OperationTerminalOutcome> {
        Box::pin(async move { watch.await.unwrap() })
    }

    pub(super) fn rollback(
        registry: &dyn mk::OpsLifecycleRegistry,
        id: &mk::OperationId,
    ) -> Result<(), mk::OpsLifecycleError> {
        registry.rollback_unreturned_operation(id)
    }

    pub(super) fn snapshot(
        registry: &dyn mk::OpsLifecycleRegistry,
        id: &mk::OperationId,
    ) -> Option<mk::OperationLifecycleSnapshot> {
        registry.snapshot(id).unwrap()
    }

    pub(super) fn listed(registry: &dyn mk::OpsLifecycleRegistry) -> usize {
        registry.list_operations().unwrap().len()
    }

    /// A call refused because the owner terminated.
    pub(super) fn owner_terminated(error: &mk::OpsLifecycleError) -> bool {
        matches!(error, mk::OpsLifecycleError::OwnerRetired)
    }
}
