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
    /// A slot a background tool holds while it is admitted: a reservation
    /// of this process, not a job of its own.
    BackgroundToolCapacitySlot,
    /// The owner's wait on a job that runs detached from it.
    DetachedJobWait,
}

impl OperationKind {
    /// Its name, as rendered tables and observability labels give it.
    pub const fn name(self) -> &'static str {
        match self {
            OperationKind::MobMemberChild => "MobMemberChild",
            OperationKind::BackgroundToolOp => "BackgroundToolOp",
            OperationKind::BackgroundToolCapacitySlot => "BackgroundToolCapacitySlot",
            OperationKind::DetachedJobWait => "DetachedJobWait",
        }
    }

    /// Every kind, in declaration order.
    pub const ALL: [OperationKind; 4] = [
        OperationKind::MobMemberChild,
        OperationKind::BackgroundToolOp,
        OperationKind::BackgroundToolCapacitySlot,
        OperationKind::DetachedJobWait,
    ];

    /// Whether operations of this kind expose a peer channel.
    pub const fn expects_peer_channel(self) -> bool {
        matches!(self, OperationKind::MobMemberChild)
    }

    /// Position of the kind in [`OperationKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// What a registration says its operation stands for outside the
/// registry, without its payload: a child session (and whether it is the
/// spec's own child session), a peer behind a backend, or a detached job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SourceClaim {
    /// A child agent's session.
    SessionChild {
        /// Whether it is the child session the spec names.
        of_child: bool,
    },
    /// A peer reached through a backend.
    BackendPeer,
    /// A job that runs detached from the owner's turn.
    DetachedJob,
}

impl SourceClaim {
    /// Every claim, in declaration order.
    pub const ALL: [SourceClaim; 4] = [
        SourceClaim::SessionChild { of_child: true },
        SourceClaim::SessionChild { of_child: false },
        SourceClaim::BackendPeer,
        SourceClaim::DetachedJob,
    ];

    /// Whether an operation of `kind` can stand for this: a child session
    /// or a backend peer is an operation with a peer channel (a child
    /// session only the one the spec names), a detached job one without.
    pub const fn agrees_with(self, kind: OperationKind) -> bool {
        match self {
            SourceClaim::SessionChild { of_child } => of_child && kind.expects_peer_channel(),
            SourceClaim::BackendPeer => kind.expects_peer_channel(),
            SourceClaim::DetachedJob => !kind.expects_peer_channel(),
        }
    }
}

impl fmt::Display for SourceClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceClaim::SessionChild { of_child: true } => "the spec's child session",
            SourceClaim::SessionChild { of_child: false } => "another session",
            SourceClaim::BackendPeer => "a backend peer",
            SourceClaim::DetachedJob => "a detached job",
        })
    }
}

/// What the ending of an operation leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ending {
    /// The record: its outcome is fed, retained until collected or
    /// evicted, and every call on it is journaled and imaged.
    Kept,
    /// Nothing: the record is forgotten as it ends (watchers and waits
    /// still get the outcome), no feed entry is made, and the operation is
    /// never journaled or imaged, so a restart does not know it.
    Dropped,
}

/// What a restore does with an operation that is running when the image
/// was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OnRestore {
    /// It ends as lost, as the restore's policy says.
    EndsLost,
    /// It stays running: its work goes on outside the process.
    KeepsRunning,
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
    /// The spec's operation source disagrees with its kind or its child
    /// session.
    SourceMismatch,
    /// `restore` into a registry that has already been used.
    RegistryInUse,
    /// The image to restore is inconsistent.
    InvalidImage,
    /// The registry is sealed: a newer owner holds its store.
    Sealed,
    /// A restore was asked to keep an operation the image does not hold
    /// unfinished with the kind and source the request names.
    RetentionMismatch,
    /// A cursor was asked to go back.
    CursorBehind,
    /// A cursor was asked past the durable feed watermark.
    CursorPastWatermark,
    /// The machine met a table it cannot execute.
    Internal,
}

impl ErrorKind {
    /// Every error kind, in declaration order.
    pub const ALL: [ErrorKind; 22] = [
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
        ErrorKind::SourceMismatch,
        ErrorKind::RegistryInUse,
        ErrorKind::InvalidImage,
        ErrorKind::Sealed,
        ErrorKind::RetentionMismatch,
        ErrorKind::CursorBehind,
        ErrorKind::CursorPastWatermark,
        ErrorKind::Internal,
    ];

    /// Position of the kind in [`ErrorKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl OutcomeKind {
    /// Its name, as rendered tables give it.
    pub const fn name(self) -> &'static str {
        match self {
            OutcomeKind::Completed => "Completed",
            OutcomeKind::Failed => "Failed",
            OutcomeKind::Aborted => "Aborted",
            OutcomeKind::Cancelled => "Cancelled",
            OutcomeKind::Retired => "Retired",
            OutcomeKind::Terminated => "Terminated",
        }
    }
}

impl ErrorKind {
    /// Its name, as rendered tables and observability labels give it.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NotFound",
            ErrorKind::AlreadyRegistered => "AlreadyRegistered",
            ErrorKind::InvalidTransition => "InvalidTransition",
            ErrorKind::PeerNotExpected => "PeerNotExpected",
            ErrorKind::AlreadyPeerReady => "AlreadyPeerReady",
            ErrorKind::MaxConcurrentExceeded => "MaxConcurrentExceeded",
            ErrorKind::AdmissionLimitExceeded => "AdmissionLimitExceeded",
            ErrorKind::DuplicateWaitOperation => "DuplicateWaitOperation",
            ErrorKind::WaitNotActive => "WaitNotActive",
            ErrorKind::DuplicateWaitRequest => "DuplicateWaitRequest",
            ErrorKind::WatcherNotPending => "WatcherNotPending",
            ErrorKind::RegistrationObserved => "RegistrationObserved",
            ErrorKind::OwnerTerminated => "OwnerTerminated",
            ErrorKind::PeerExpectationMismatch => "PeerExpectationMismatch",
            ErrorKind::SourceMismatch => "SourceMismatch",
            ErrorKind::RegistryInUse => "RegistryInUse",
            ErrorKind::InvalidImage => "InvalidImage",
            ErrorKind::Sealed => "Sealed",
            ErrorKind::RetentionMismatch => "RetentionMismatch",
            ErrorKind::CursorBehind => "CursorBehind",
            ErrorKind::CursorPastWatermark => "CursorPastWatermark",
            ErrorKind::Internal => "Internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Retry;

    #[test]
    fn names_are_the_variants_names() {
        for kind in ErrorKind::ALL {
            assert_eq!(kind.name(), format!("{kind:?}"));
        }
        for kind in OperationKind::ALL {
            assert_eq!(kind.name(), format!("{kind:?}"));
        }
        for kind in [
            OutcomeKind::Completed,
            OutcomeKind::Failed,
            OutcomeKind::Aborted,
            OutcomeKind::Cancelled,
            OutcomeKind::Retired,
            OutcomeKind::Terminated,
        ] {
            assert_eq!(kind.name(), format!("{kind:?}"));
        }
        for retry in [Retry::Repeat, Retry::Conflict, Retry::Invalid] {
            assert_eq!(retry.name(), format!("{retry:?}"));
        }
    }
}
