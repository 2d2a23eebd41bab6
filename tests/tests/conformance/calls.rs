//! The calls of the conformance test: per-operation ones derived from the
//! table's inputs, each with its payload and the shell method that exposes
//! it, and the registry-level ones.

use oplife_machine::Payload;
use oplife_shell::{
    OperationCompletionWatch, OperationId, OperationKind, OperationPeerHandle, OperationProgressUpdate,
    OperationResult, OperationSource, OperationSpec, OpsLifecycleError, OpsLifecycleRegistry,
    RuntimeOpsLifecycleRegistry, SessionId, ShellDomain,
};
use oplife_spec::{Carries, Input, SourceClaim};
use proptest::prelude::*;

use super::POOL;

/// One step of a caller. Per-operation calls are derived from the table's
/// vocabulary ([`Input::per_operation`]): a new input is generated here as
/// soon as it exists, and [`on_shell`] names the shell method it maps to.
#[derive(Debug, Clone)]
pub(crate) enum Call {
    /// A per-operation input on id `.1`, its payload drawn from seed `.2`.
    Op(Input, usize, u8),
    TerminateOwner,
    Collect,
    Wait(Vec<usize>),
    DropWait(usize),
    DropWatch(usize),
}

/// How often a per-operation input is drawn: the calls that move an
/// operation forward more often, so that sequences reach deep states.
pub(crate) fn weight(input: Input) -> u32 {
    match input {
        Input::Register | Input::ProvisioningSucceeded | Input::Complete => 3,
        Input::RegisterWatcher => 2,
        _ => 1,
    }
}

pub(crate) fn call() -> impl Strategy<Value = Call> {
    // Index POOL is an id that is never registered.
    let id = 0..=POOL;
    let per_operation: Vec<(u32, BoxedStrategy<Call>)> = Input::per_operation()
        .map(|input| {
            (weight(input), (id.clone(), any::<u8>()).prop_map(move |(i, seed)| Call::Op(input, i, seed)).boxed())
        })
        .collect();
    prop_oneof![
        20 => proptest::strategy::Union::new_weighted(per_operation),
        1 => Just(Call::TerminateOwner),
        1 => Just(Call::Collect),
        3 => proptest::collection::vec(0..=POOL, 0..4).prop_map(Call::Wait),
        1 => (0usize..8).prop_map(Call::DropWait),
        1 => (0usize..8).prop_map(Call::DropWatch),
    ]
}

/// The machine payload `input` carries, drawn from `seed`, for operation
/// `id`.
pub(crate) fn payload(input: Input, id: OperationId, seed: u8) -> Payload<ShellDomain> {
    match input.carries() {
        Carries::Spec => {
            // Every kind: the low bit and the high bit pick one.
            let kind = OperationKind::ALL[usize::from(seed & 1 | (seed >> 6) & 2)];
            // At most one of the caller's limits: each has its own call.
            let kind_limit = (seed & 4 == 0).then_some(2);
            let limit = (kind_limit.is_none() && seed & 8 == 0).then_some(2);
            // Half the registrations say what they stand for.
            let source = match seed >> 4 & 7 {
                4 => Some(SourceClaim::SessionChild { of_child: true }),
                5 => Some(SourceClaim::SessionChild { of_child: false }),
                6 => Some(SourceClaim::BackendPeer),
                7 => Some(SourceClaim::DetachedJob),
                _ => None,
            };
            Payload::Spec { kind, expects_peer: seed & 2 == 0, kind_limit, limit, source }
        }
        Carries::Result => {
            Payload::Result(OperationResult { id, content: format!("result {seed}"), ..Default::default() })
        }
        Carries::Error => Payload::Error(format!("error {seed}")),
        Carries::Reason => Payload::Reason((seed & 1 == 0).then(|| format!("reason {seed}"))),
        Carries::Progress => Payload::Progress(OperationProgressUpdate {
            message: format!("{seed}%"),
            percent: Some((seed % 101).into()),
        }),
        _ => Payload::None,
    }
}

/// The shell method that exposes `input`, called with `payload`; a watch
/// when the call hands one back.
pub(crate) fn on_shell(
    registry: &RuntimeOpsLifecycleRegistry,
    input: Input,
    id: OperationId,
    payload: Payload<ShellDomain>,
) -> Result<Option<OperationCompletionWatch>, OpsLifecycleError> {
    let done = |result: Result<(), OpsLifecycleError>| result.map(|()| None);
    match (input, payload) {
        (Input::Register, Payload::Spec { kind, expects_peer, kind_limit, limit, source }) => {
            let (child_session_id, operation_source) = source_of(source);
            let spec = OperationSpec {
                id,
                kind,
                owner_session_id: SessionId::new(),
                display_name: format!("op {id}"),
                source_label: "conformance".into(),
                child_session_id,
                expect_peer_channel: expects_peer,
                operation_source,
            };
            match (kind_limit, limit) {
                (Some(limit), _) => done(registry.register_operation_limited(spec, limit)),
                (None, Some(limit)) => done(registry.register_operation_within(spec, limit)),
                (None, None) => done(registry.register_operation(spec)),
            }
        }
        (Input::ProvisioningSucceeded, _) => done(registry.provisioning_succeeded(&id)),
        (Input::ProvisioningFailed, Payload::Error(error)) => done(registry.provisioning_failed(&id, error)),
        (Input::AbortProvisioning, Payload::Reason(reason)) => done(registry.abort_provisioning(&id, reason)),
        (Input::PeerReady, _) => {
            let peer = OperationPeerHandle::new("p", "p", "inproc://p");
            done(registry.peer_ready(&id, peer))
        }
        (Input::RegisterWatcher, _) => registry.register_watcher(&id).map(Some),
        // Dropping a watch releases its watcher; `Harness::drop_watch` does.
        (Input::ReleaseWatcher, _) => {
            Err(OpsLifecycleError::Internal("release a watcher by dropping its watch".into()))
        }
        (Input::ReportProgress, Payload::Progress(update)) => done(registry.report_progress(&id, update)),
        (Input::Complete, Payload::Result(result)) => done(registry.complete_operation(&id, result)),
        (Input::Fail, Payload::Error(error)) => done(registry.fail_operation(&id, error)),
        (Input::Cancel, Payload::Reason(reason)) => done(registry.cancel_operation(&id, reason)),
        (Input::RequestRetire, _) => done(registry.request_retire(&id)),
        (Input::MarkRetired, _) => done(registry.mark_retired(&id)),
        (Input::CollectTerminal, _) => done(registry.collect_terminal(&id)),
        (Input::RollbackRegistration, _) => done(registry.rollback_registration(&id)),
        (input, payload) => panic!("no shell method for {input} with {payload:?}: add it here"),
    }
}

/// A child session and a source whose claim is `claim` (the spec names a
/// child session exactly when the claim is the spec's own child session).
pub(crate) fn source_of(claim: Option<SourceClaim>) -> (Option<SessionId>, Option<OperationSource>) {
    let session = SessionId::new();
    match claim {
        None => (None, None),
        Some(SourceClaim::SessionChild { of_child: true }) => {
            (Some(session), Some(OperationSource::SessionChild { session_id: session }))
        }
        Some(SourceClaim::SessionChild { of_child: false }) => {
            (None, Some(OperationSource::SessionChild { session_id: session }))
        }
        Some(SourceClaim::BackendPeer) => (
            None,
            Some(OperationSource::BackendPeer { peer_id: session.to_string(), address: "tcp://127.0.0.1:1".into() }),
        ),
        Some(SourceClaim::DetachedJob) => {
            (None, Some(OperationSource::DetachedJob { realm_id: "realm".into(), job_id: session.to_string() }))
        }
    }
}
