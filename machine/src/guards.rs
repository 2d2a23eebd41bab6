//! Guards and refusals. A guard only says whether it holds and, when it
//! does not, what the refusal is about (its [`Subject`]); the error kind
//! always comes from the table's vocabulary ([`Guard::error`], or the
//! table's refusal for a status no row allows), and [`refusal`] is the one
//! place that turns a kind and a subject into a [`LifecycleError`].

use oplife_spec::{ErrorKind, Guard, Input, OperationKind, Phase, Retry, RetryRule, SourceClaim, Status};

use crate::compiled::Compiled;
use crate::error::LifecycleError;
use crate::invariants::check_image;
use crate::operations::Operation;
use crate::outcome::Domain;
use crate::outcome::Outcome;
use crate::request::{LostPolicy, Payload, Request};
use crate::state::State;

/// What a refusal is about: the facts its error reports.
#[derive(Debug)]
pub(crate) enum Subject<D: Domain> {
    /// The registry as a whole.
    Registry,
    /// The operation named by the request, in its status.
    Operation(D::OpId, Status),
    /// The operation named by a refused request, in its status, with what
    /// the refusal is as a retry.
    Retried(D::OpId, Status, Retry),
    /// An operation listed in a wait request.
    Listed(D::OpId),
    /// A wait request.
    Wait(D::WaitId),
    /// The concurrency limit and the active count.
    Limit { limit: usize, active: usize },
    /// The caller's limit for a kind and that kind's active count.
    KindLimit { kind: OperationKind, limit: u32, active: u32 },
    /// A registration spec whose peer expectation disagrees with its kind.
    Spec { id: D::OpId, kind: OperationKind, expects_peer: bool },
    /// A registration spec whose source disagrees with its kind or child.
    Source { id: D::OpId, kind: OperationKind, source: SourceClaim },
    /// An image, with why it cannot be restored.
    Image(String),
    /// An operation a restore was asked to keep, with the kind asked.
    Kept(D::OpId, OperationKind),
    /// A cursor's move: where it is, where it was asked, how far the feed
    /// is durable.
    Cursor { from: u64, to: u64, durable: u64 },
    /// An operation someone observed, and the guard that says so.
    Observed(D::OpId, Guard),
    /// A guard on a row whose input it does not apply to (only a broken
    /// table has one).
    Misapplied(Guard),
}

/// The error of a refusal of `kind` about `subject`, for `input`. A kind that
/// cannot name its subject (only a broken table produces one) is `Internal`.
pub(crate) fn refusal<D: Domain>(kind: ErrorKind, input: Input, subject: Subject<D>) -> LifecycleError<D> {
    use LifecycleError as E;
    match (kind, subject) {
        (_, Subject::Misapplied(guard)) => E::Internal(format!("guard `{guard}` does not apply to {input}")),
        (ErrorKind::NotFound, Subject::Operation(id, _) | Subject::Listed(id)) => E::NotFound(id),
        (ErrorKind::AlreadyRegistered, Subject::Operation(id, _)) => E::AlreadyRegistered(id),
        (ErrorKind::InvalidTransition, Subject::Operation(id, status)) => {
            E::InvalidTransition { id, status, action: input, retry: Retry::Invalid }
        }
        (ErrorKind::InvalidTransition, Subject::Retried(id, status, retry)) => {
            E::InvalidTransition { id, status, action: input, retry }
        }
        (ErrorKind::PeerNotExpected, Subject::Operation(id, _)) => E::PeerNotExpected(id),
        (ErrorKind::AlreadyPeerReady, Subject::Operation(id, _)) => E::AlreadyPeerReady(id),
        (ErrorKind::MaxConcurrentExceeded, Subject::Limit { limit, active }) => {
            E::MaxConcurrentExceeded { limit, active }
        }
        (ErrorKind::AdmissionLimitExceeded, Subject::KindLimit { kind, limit, active }) => {
            E::AdmissionLimitExceeded { kind, limit, active }
        }
        (ErrorKind::DuplicateWaitOperation, Subject::Listed(id)) => E::DuplicateWaitOperation(id),
        (ErrorKind::WaitNotActive, Subject::Wait(wait)) => E::WaitNotActive(wait),
        (ErrorKind::DuplicateWaitRequest, Subject::Wait(wait)) => E::DuplicateWaitRequest(wait),
        (ErrorKind::WatcherNotPending, Subject::Operation(id, _)) => E::WatcherNotPending(id),
        (ErrorKind::RegistrationObserved, Subject::Observed(id, guard)) => E::RegistrationObserved { id, guard },
        (ErrorKind::OwnerTerminated, _) => E::OwnerTerminated,
        (ErrorKind::PeerExpectationMismatch, Subject::Spec { id, kind, expects_peer }) => {
            E::PeerExpectationMismatch { id, kind, expects_peer }
        }
        (ErrorKind::SourceMismatch, Subject::Source { id, kind, source }) => {
            E::SourceMismatch { id, kind, claim: source }
        }
        (ErrorKind::RegistryInUse, _) => E::RegistryInUse,
        (ErrorKind::Sealed, _) => E::Sealed,
        (ErrorKind::InvalidImage, Subject::Image(why)) => E::InvalidImage(why),
        (ErrorKind::RetentionMismatch, Subject::Kept(id, kind)) => E::RetentionMismatch { id, kind },
        (ErrorKind::CursorBehind, Subject::Cursor { from, to, .. }) => E::CursorBehind { current: from, asked: to },
        (ErrorKind::CursorPastWatermark, Subject::Cursor { to, durable, .. }) => {
            E::CursorPastWatermark { asked: to, durable }
        }
        (kind, subject) => E::Internal(format!("refusal {kind} of {input} cannot name {subject:?}")),
    }
}

/// The operation a call asks about, as the table sees it: the input, the
/// id, its record (none while absent) and its status.
pub(crate) struct Asked<'a, D: Domain> {
    pub(crate) input: Input,
    pub(crate) id: &'a D::OpId,
    pub(crate) op: Option<&'a Operation<D>>,
    pub(crate) status: Status,
}

/// What a refusal of the call `asked` with `payload` is as a retry: the
/// table's retry row for its input and status, its payload comparison made
/// against the outcome recorded.
pub(crate) fn retry_of<D: Domain>(lc: &Compiled, asked: &Asked<'_, D>, payload: &Payload<D>) -> Retry {
    let op = asked.op;
    match lc.table().retry_rule(asked.input, asked.status) {
        None => Retry::Invalid,
        Some(RetryRule::Repeat) => Retry::Repeat,
        Some(RetryRule::Conflict) => Retry::Conflict,
        Some(RetryRule::RepeatIfSame) => {
            let same = match (op.and_then(|op| op.outcome.as_deref()), payload) {
                (Some(Outcome::Completed(recorded)), Payload::Result(result)) => recorded == result,
                (Some(Outcome::Failed { error: recorded }), Payload::Error(error)) => recorded == error,
                _ => false,
            };
            if same { Retry::Repeat } else { Retry::Conflict }
        }
    }
}

/// Whether `guard` holds for the call `asked` with `payload`; the subject
/// of the refusal when it does not.
pub(crate) fn operation_guard<D: Domain>(
    lc: &Compiled,
    st: &State<D>,
    asked: &Asked<'_, D>,
    guard: Guard,
    payload: &Payload<D>,
) -> Result<(), Subject<D>> {
    let Asked { id, op, status, .. } = *asked;
    let about = || Subject::Operation(id.clone(), status);
    let holds = match guard {
        Guard::OwnerActive => st.phase == Phase::Open,
        Guard::SpecMatchesKind => match payload {
            Payload::Spec { kind, expects_peer, .. } if kind.expects_peer_channel() != *expects_peer => {
                return Err(Subject::Spec { id: id.clone(), kind: *kind, expects_peer: *expects_peer });
            }
            Payload::Spec { .. } => true,
            _ => return Err(Subject::Misapplied(guard)),
        },
        Guard::SourceAgrees => match payload {
            Payload::Spec { kind, source: Some(source), .. } if !source.agrees_with(*kind) => {
                return Err(Subject::Source { id: id.clone(), kind: *kind, source: *source });
            }
            Payload::Spec { .. } => true,
            _ => return Err(Subject::Misapplied(guard)),
        },
        Guard::BelowConcurrencyLimit => match lc.limits().max_concurrent {
            Some(limit) if st.active as usize >= limit => {
                return Err(Subject::Limit { limit, active: st.active as usize });
            }
            _ => true,
        },
        Guard::BelowCallerLimit => match payload {
            Payload::Spec { limit: Some(limit), .. } if st.active >= *limit => {
                return Err(Subject::Limit {
                    limit: usize::try_from(*limit).unwrap_or(usize::MAX),
                    active: st.active as usize,
                });
            }
            Payload::Spec { .. } => true,
            _ => return Err(Subject::Misapplied(guard)),
        },
        Guard::BelowKindLimit => match payload {
            Payload::Spec { kind, kind_limit: Some(limit), .. } if st.active_count_of(*kind) >= *limit => {
                return Err(Subject::KindLimit { kind: *kind, limit: *limit, active: st.active_count_of(*kind) });
            }
            Payload::Spec { .. } => true,
            _ => return Err(Subject::Misapplied(guard)),
        },
        Guard::KindExpectsPeer => op.is_some_and(|op| op.kind.expects_peer_channel()),
        Guard::NotYetPeerReady => op.is_some_and(|op| !op.peer_ready),
        Guard::WatcherPending => op.is_some_and(|op| op.watchers > 0),
        Guard::NoWatcher | Guard::NotWaitedOn | Guard::NoProgress => {
            let unobserved = op.is_some_and(|op| match guard {
                Guard::NoWatcher => op.watchers == 0,
                Guard::NotWaitedOn => op.waiters.is_empty(),
                _ => op.progress == 0,
            });
            return if unobserved { Ok(()) } else { Err(Subject::Observed(id.clone(), guard)) };
        }
        Guard::Buffered => op.is_some_and(|op| op.buffered),
        Guard::NotBuffered => op.is_some_and(|op| !op.buffered),
        Guard::LostAsTerminated => matches!(payload, Payload::Lost { policy: LostPolicy::Terminate { .. }, .. }),
        Guard::LostAsCancelled => matches!(payload, Payload::Lost { policy: LostPolicy::Cancel { .. }, .. }),
        Guard::Kept | Guard::NotKept => {
            let Payload::Lost { asked_to_keep, .. } = payload else {
                return Err(Subject::Misapplied(guard));
            };
            let keeps_running = op.is_some_and(|op| op.status == Status::Running && lc.table().keeps_running(op.kind));
            (*asked_to_keep || keeps_running) == (guard == Guard::Kept)
        }
        Guard::WaitOpsKnown
        | Guard::WaitOpsDistinct
        | Guard::WaitIdFresh
        | Guard::WaitPending
        | Guard::RegistryPristine
        | Guard::ImageConsistent
        | Guard::ImageOpen
        | Guard::ImageOwnerTerminated
        | Guard::RetentionExact
        | Guard::CursorAhead
        | Guard::CursorStays
        | Guard::CursorWithinDurable => return Err(Subject::Misapplied(guard)),
    };
    if holds { Ok(()) } else { Err(about()) }
}

/// Whether `guard` holds for the registry-level `request`; the subject of
/// the refusal when it does not.
pub(crate) fn registry_guard<D: Domain>(
    lc: &Compiled,
    st: &State<D>,
    guard: Guard,
    request: &Request<D>,
) -> Result<(), Subject<D>> {
    let fails = match (guard, request) {
        (Guard::OwnerActive, _) => (st.phase != Phase::Open).then_some(Subject::Registry),
        (Guard::WaitOpsKnown, Request::BeginWait { ids, .. }) => {
            ids.iter().find(|id| st.ops.get(id).is_none()).map(|id| Subject::Listed(id.clone()))
        }
        (Guard::WaitOpsDistinct, Request::BeginWait { ids, .. }) => {
            first_repeated(ids).map(|id| Subject::Listed(id.clone()))
        }
        (Guard::WaitIdFresh, Request::BeginWait { wait, .. }) => {
            st.waits.contains_key(wait).then(|| Subject::Wait(wait.clone()))
        }
        (Guard::WaitPending, Request::CancelWait { wait }) => {
            (!st.waits.contains_key(wait)).then(|| Subject::Wait(wait.clone()))
        }
        (Guard::RegistryPristine, _) => (!st.is_pristine()).then_some(Subject::Registry),
        (Guard::ImageConsistent, Request::Restore { image, .. } | Request::Resume { image }) => {
            check_image(image, lc.table()).err().map(|violation| Subject::Image(violation.to_string()))
        }
        (Guard::CursorAhead, Request::AdvanceCursor { from, to, durable }) => {
            (to <= from).then_some(Subject::Cursor { from: *from, to: *to, durable: *durable })
        }
        (Guard::CursorStays, Request::AdvanceCursor { from, to, durable }) => {
            (to != from).then_some(Subject::Cursor { from: *from, to: *to, durable: *durable })
        }
        (Guard::CursorWithinDurable, Request::AdvanceCursor { from, to, durable }) => {
            // Never past what a crash could take back, nor past the feed.
            let bound = (*durable).min(st.feed.watermark);
            (*to > bound).then_some(Subject::Cursor { from: *from, to: *to, durable: bound })
        }
        (Guard::RetentionExact, Request::Restore { image, keep, .. }) => keep
            .iter()
            .find(|keep| {
                !image.operations.iter().any(|op| {
                    op.id == keep.id && !op.status.is_terminal() && op.kind == keep.kind && keep.source_agrees
                })
            })
            .map(|keep| Subject::Kept(keep.id.clone(), keep.kind)),
        (Guard::ImageOpen, Request::Restore { image, .. } | Request::Resume { image }) => {
            (image.phase != Phase::Open).then(|| Subject::Image("captured after owner termination".into()))
        }
        (Guard::ImageOwnerTerminated, Request::Restore { image, .. } | Request::Resume { image }) => (image.phase
            != Phase::OwnerTerminated)
            .then(|| Subject::Image("captured while the owner was active".into())),
        _ => Some(Subject::Misapplied(guard)),
    };
    fails.map_or(Ok(()), Err)
}

/// The first id that appears a second time: a scan for short lists, a hash
/// set for long ones.
fn first_repeated<T: Eq + std::hash::Hash>(ids: &[T]) -> Option<&T> {
    if ids.len() <= 16 {
        return ids.iter().enumerate().find(|(i, id)| ids[..*i].contains(id)).map(|(_, id)| id);
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.iter().find(|id| !seen.insert(*id))
}
