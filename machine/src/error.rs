//! The typed errors of the machine.

use oplife_spec::{ErrorKind, Guard, Input, OperationKind, Retry, SourceClaim, Status};
use thiserror::Error;

use crate::outcome::Domain;

/// Why the machine refused a request. A refused request changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Error)]
pub enum LifecycleError<D: Domain> {
    /// The operation is unknown (never registered, or forgotten).
    #[error("operation {0:?} not found")]
    NotFound(D::OpId),
    /// The operation is already known.
    #[error("operation {0:?} is already registered")]
    AlreadyRegistered(D::OpId),
    /// The table does not allow the input from the operation's status.
    #[error("{action} is not allowed for operation {id:?} in status {status}")]
    InvalidTransition {
        /// The operation.
        id: D::OpId,
        /// Its status.
        status: Status,
        /// The refused input.
        action: Input,
        /// What the refusal is as a retry (the table's retry rows): a
        /// repeat of what already happened, a conflict, or invalid.
        retry: Retry,
    },
    /// `peer_ready` for an operation whose kind has no peer channel.
    #[error("operation {0:?} does not expose a peer channel")]
    PeerNotExpected(D::OpId),
    /// `peer_ready` a second time.
    #[error("operation {0:?} is already peer-ready")]
    AlreadyPeerReady(D::OpId),
    /// Registration while `limit` operations are active.
    #[error("concurrency limit reached: {active} of {limit} operations active")]
    MaxConcurrentExceeded {
        /// The configured limit.
        limit: usize,
        /// The active count.
        active: usize,
    },
    /// Registration while the caller's limit of active operations of the
    /// same kind is reached.
    #[error("admission limit reached: {active} of {limit} {kind:?} operations active")]
    AdmissionLimitExceeded {
        /// The kind registered.
        kind: OperationKind,
        /// The caller's limit.
        limit: u32,
        /// The kind's active count.
        active: u32,
    },
    /// A wait lists the same operation twice.
    #[error("operation {0:?} is listed twice in one wait")]
    DuplicateWaitOperation(D::OpId),
    /// The wait request is not pending.
    #[error("wait request {0:?} is not pending")]
    WaitNotActive(D::WaitId),
    /// The wait request id is already pending.
    #[error("wait request {0:?} is already pending")]
    DuplicateWaitRequest(D::WaitId),
    /// No watcher of the operation is pending.
    #[error("operation {0:?} has no pending watcher")]
    WatcherNotPending(D::OpId),
    /// `rollback_registration` of an operation someone already observed.
    #[error("the registration of {id:?} cannot be rolled back: {guard} does not hold")]
    RegistrationObserved {
        /// The operation.
        id: D::OpId,
        /// The guard that does not hold (a watcher, a wait or progress
        /// observed the operation).
        guard: Guard,
    },
    /// The owner terminated; the registry takes no new operations.
    #[error("the owner has terminated; no operation can be registered")]
    OwnerTerminated,
    /// The spec's `expect_peer_channel` disagrees with its kind.
    #[error("operation {id:?} of kind {kind:?} cannot have expect_peer_channel = {expects_peer}")]
    PeerExpectationMismatch {
        /// The operation.
        id: D::OpId,
        /// Its kind.
        kind: OperationKind,
        /// What the spec said.
        expects_peer: bool,
    },
    /// The spec's operation source disagrees with its kind or its child
    /// session.
    #[error("operation {id:?} of kind {kind:?} cannot stand for {claim}")]
    SourceMismatch {
        /// The operation.
        id: D::OpId,
        /// Its kind.
        kind: OperationKind,
        /// What the spec said it stands for.
        claim: SourceClaim,
    },
    /// `restore` into a registry that has already been used.
    #[error("restore needs a registry that was never used")]
    RegistryInUse,
    /// The image to restore is inconsistent.
    #[error("the image cannot be restored: {0}")]
    InvalidImage(String),
    /// A restore was asked to keep an operation the image does not hold
    /// unfinished with the kind and source asked; nothing was restored.
    #[error("the image holds no unfinished operation {id:?} of kind {kind:?} with the source asked")]
    RetentionMismatch {
        /// The operation asked for.
        id: D::OpId,
        /// The kind asked for.
        kind: OperationKind,
    },
    /// A cursor was asked to go back; it stays where it is.
    #[error("the cursor is at {current} and never goes back (asked {asked})")]
    CursorBehind {
        /// Where it is.
        current: u64,
        /// Where it was asked to go.
        asked: u64,
    },
    /// A cursor was asked past the durable feed watermark; it stays where
    /// it is.
    #[error("the feed is durable up to {durable}; the cursor cannot pass it (asked {asked})")]
    CursorPastWatermark {
        /// Where it was asked to go.
        asked: u64,
        /// The durable feed watermark.
        durable: u64,
    },
    /// The machine met a table it cannot execute (only reachable with a
    /// table built by [`crate::Lifecycle::new_unchecked`]).
    #[error("internal error: {0}")]
    Internal(String),
    /// The registry is sealed: a newer owner holds its durable store, and
    /// only dropping a watch or a wait is still admitted.
    #[error("the registry is sealed: a newer owner holds its store")]
    Sealed,
}

impl<D: Domain> LifecycleError<D> {
    /// What the refusal is as a retry: the classification an
    /// `InvalidTransition` carries; [`Retry::Invalid`] for every other
    /// error.
    pub fn retry(&self) -> Retry {
        match self {
            LifecycleError::InvalidTransition { retry, .. } => *retry,
            _ => Retry::Invalid,
        }
    }

    /// The kind of the error, without its payload.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LifecycleError::NotFound(_) => ErrorKind::NotFound,
            LifecycleError::AlreadyRegistered(_) => ErrorKind::AlreadyRegistered,
            LifecycleError::InvalidTransition { .. } => ErrorKind::InvalidTransition,
            LifecycleError::PeerNotExpected(_) => ErrorKind::PeerNotExpected,
            LifecycleError::AlreadyPeerReady(_) => ErrorKind::AlreadyPeerReady,
            LifecycleError::MaxConcurrentExceeded { .. } => ErrorKind::MaxConcurrentExceeded,
            LifecycleError::AdmissionLimitExceeded { .. } => ErrorKind::AdmissionLimitExceeded,
            LifecycleError::DuplicateWaitOperation(_) => ErrorKind::DuplicateWaitOperation,
            LifecycleError::WaitNotActive(_) => ErrorKind::WaitNotActive,
            LifecycleError::DuplicateWaitRequest(_) => ErrorKind::DuplicateWaitRequest,
            LifecycleError::WatcherNotPending(_) => ErrorKind::WatcherNotPending,
            LifecycleError::RegistrationObserved { .. } => ErrorKind::RegistrationObserved,
            LifecycleError::OwnerTerminated => ErrorKind::OwnerTerminated,
            LifecycleError::PeerExpectationMismatch { .. } => ErrorKind::PeerExpectationMismatch,
            LifecycleError::SourceMismatch { .. } => ErrorKind::SourceMismatch,
            LifecycleError::RegistryInUse => ErrorKind::RegistryInUse,
            LifecycleError::InvalidImage(_) => ErrorKind::InvalidImage,
            LifecycleError::Sealed => ErrorKind::Sealed,
            LifecycleError::RetentionMismatch { .. } => ErrorKind::RetentionMismatch,
            LifecycleError::CursorBehind { .. } => ErrorKind::CursorBehind,
            LifecycleError::CursorPastWatermark { .. } => ErrorKind::CursorPastWatermark,
            LifecycleError::Internal(_) => ErrorKind::Internal,
        }
    }
}
