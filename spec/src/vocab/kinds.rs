//! Payload-free kinds: of an operation, of a terminal outcome, of an error.

use std::fmt;

/// The kind of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum OperationKind {
    /// A child agent of a mob; it exposes a peer channel once ready.
    MobMemberChild,
    /// A background tool job; it never exposes a peer channel.
    BackgroundToolOp,
}

impl OperationKind {
    /// Both kinds.
    pub const ALL: [OperationKind; 2] = [OperationKind::MobMemberChild, OperationKind::BackgroundToolOp];

    /// Whether operations of this kind expose a peer channel.
    pub const fn expects_peer_channel(self) -> bool {
        matches!(self, OperationKind::MobMemberChild)
    }

    /// Position of the kind in [`OperationKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// The variant of a terminal outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutcomeKind {
    /// `Completed(result)`.
    Completed,
    /// `Failed { error }`.
    Failed,
    /// `Aborted { reason? }`.
    Aborted,
    /// `Cancelled { reason? }`.
    Cancelled,
    /// `Retired`.
    Retired,
    /// `Terminated { reason }`.
    Terminated,
}

/// The kind of a typed error, without its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The id is unknown.
    NotFound,
    /// The id is already known.
    AlreadyRegistered,
    /// No row allows this input from this status.
    InvalidTransition,
    /// `peer_ready` for a kind that has no peer channel.
    PeerNotExpected,
    /// `peer_ready` twice.
    AlreadyPeerReady,
    /// Registration while `max_concurrent` operations are active.
    MaxConcurrentExceeded,
    /// Registration while the caller's limit of active operations of the
    /// same kind is reached.
    AdmissionLimitExceeded,
    /// A wait lists an id twice.
    DuplicateWaitOperation,
    /// The wait request is not pending.
    WaitNotActive,
    /// The wait request id is already pending.
    DuplicateWaitRequest,
    /// No watcher of the operation is pending.
    WatcherNotPending,
    /// A rollback of a registration someone already observed (a watcher,
    /// a wait or a progress report).
    RegistrationObserved,
    /// The owner has terminated; the registry takes no new operations.
    OwnerTerminated,
    /// The spec's `expect_peer_channel` disagrees with its kind.
    PeerExpectationMismatch,
    /// `restore` into a registry that has already been used.
    RegistryInUse,
    /// The image to restore is inconsistent.
    InvalidImage,
    /// The registry is sealed: a newer owner holds its store.
    Sealed,
    /// The machine met a table it cannot execute.
    Internal,
}

impl ErrorKind {
    /// Every error kind, in declaration order.
    pub const ALL: [ErrorKind; 18] = [
        ErrorKind::NotFound,
        ErrorKind::AlreadyRegistered,
        ErrorKind::InvalidTransition,
        ErrorKind::PeerNotExpected,
        ErrorKind::AlreadyPeerReady,
        ErrorKind::MaxConcurrentExceeded,
        ErrorKind::AdmissionLimitExceeded,
        ErrorKind::DuplicateWaitOperation,
        ErrorKind::WaitNotActive,
        ErrorKind::DuplicateWaitRequest,
        ErrorKind::WatcherNotPending,
        ErrorKind::RegistrationObserved,
        ErrorKind::OwnerTerminated,
        ErrorKind::PeerExpectationMismatch,
        ErrorKind::RegistryInUse,
        ErrorKind::InvalidImage,
        ErrorKind::Sealed,
        ErrorKind::Internal,
    ];

    /// Position of the kind in [`ErrorKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
