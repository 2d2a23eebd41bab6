//! The registry's typed errors.

use oplife_machine::LifecycleError;
use oplife_spec::{Input, OperationKind, Status};
use thiserror::Error;

use crate::types::{OperationId, ShellDomain, WaitRequestId};

/// Why a registry call was refused. A refused call changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpsLifecycleError {
    /// The operation is unknown (never registered, or forgotten).
    #[error("operation {0} not found")]
    NotFound(OperationId),
    /// The operation is already registered.
    #[error("operation {0} is already registered")]
    AlreadyRegistered(OperationId),
    /// The call is not allowed in the operation's status.
    #[error("{action} is not allowed for operation {id} in status {status}")]
    InvalidTransition {
        /// The operation.
        id: OperationId,
        /// Its status.
        status: Status,
        /// The refused call.
        action: Input,
    },
    /// `peer_ready` for a kind without a peer channel.
    #[error("operation {0} does not expose a peer channel")]
    PeerNotExpected(OperationId),
    /// `peer_ready` a second time.
    #[error("operation {0} is already peer-ready")]
    AlreadyPeerReady(OperationId),
    /// Registration while `limit` operations are active.
    #[error("concurrency limit reached: {active} of {limit} operations active")]
    MaxConcurrentExceeded {
        /// The configured limit.
        limit: usize,
        /// The active count.
        active: usize,
    },
    /// `wait_all` lists an operation twice.
    #[error("operation {0} is listed twice in one wait")]
    DuplicateWaitOperation(OperationId),
    /// The wait request is not pending.
    #[error("wait request {0} is not pending")]
    WaitNotActive(WaitRequestId),
    /// The wait request id is already pending.
    #[error("wait request {0} is already pending")]
    DuplicateWaitRequest(WaitRequestId),
    /// No watcher of the operation is pending.
    #[error("operation {0} has no pending watcher")]
    WatcherNotPending(OperationId),
    /// The owner terminated; the registry takes no new operations.
    #[error("the owner has terminated; no operation can be registered")]
    OwnerTerminated,
    /// The spec's `expect_peer_channel` disagrees with its kind.
    #[error("operation {id} of kind {kind:?} cannot have expect_peer_channel = {expect_peer_channel}")]
    PeerExpectationMismatch {
        /// The operation.
        id: OperationId,
        /// Its kind.
        kind: OperationKind,
        /// What the spec said.
        expect_peer_channel: bool,
    },
    /// `complete_operation` for one operation with the result of another.
    #[error("the result of operation {result} was given to complete operation {call}")]
    ResultIdMismatch {
        /// The operation the call names.
        call: OperationId,
        /// The operation the result belongs to.
        result: OperationId,
    },
    /// The registry's lock was poisoned by a panic in another thread.
    #[error("the registry lock is poisoned")]
    Poisoned,
    /// The registry was dropped before the watch or wait resolved.
    #[error("the registry was dropped before the outcome arrived")]
    Closed,
    /// The machine met a table it cannot execute (never with the shipped
    /// table).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<LifecycleError<ShellDomain>> for OpsLifecycleError {
    fn from(error: LifecycleError<ShellDomain>) -> Self {
        match error {
            LifecycleError::NotFound(id) => Self::NotFound(id),
            LifecycleError::AlreadyRegistered(id) => Self::AlreadyRegistered(id),
            LifecycleError::InvalidTransition { id, status, action } => Self::InvalidTransition { id, status, action },
            LifecycleError::PeerNotExpected(id) => Self::PeerNotExpected(id),
            LifecycleError::AlreadyPeerReady(id) => Self::AlreadyPeerReady(id),
            LifecycleError::MaxConcurrentExceeded { limit, active } => Self::MaxConcurrentExceeded { limit, active },
            LifecycleError::DuplicateWaitOperation(id) => Self::DuplicateWaitOperation(id),
            LifecycleError::WaitNotActive(wait) => Self::WaitNotActive(wait),
            LifecycleError::DuplicateWaitRequest(wait) => Self::DuplicateWaitRequest(wait),
            LifecycleError::WatcherNotPending(id) => Self::WatcherNotPending(id),
            LifecycleError::OwnerTerminated => Self::OwnerTerminated,
            LifecycleError::PeerExpectationMismatch { id, kind, expects_peer } => {
                Self::PeerExpectationMismatch { id, kind, expect_peer_channel: expects_peer }
            }
            // Only `restore` produces these, and it reports them as a
            // snapshot error; a registry call never does.
            LifecycleError::RegistryInUse | LifecycleError::InvalidImage(_) => Self::Internal(error.to_string()),
            LifecycleError::Internal(message) => Self::Internal(message),
        }
    }
}
