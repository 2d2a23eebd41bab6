//! Guards: named conditions a row needs besides its "allowed from" set.

use std::fmt;

use super::ErrorKind;

/// A named condition a row needs besides its "allowed from" set. A failing
/// guard refuses the input with [`Guard::error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Guard {
    /// The owner has not terminated.
    OwnerActive,
    /// The spec's `expect_peer_channel` agrees with its kind.
    SpecMatchesKind,
    /// The spec's operation source, if it has one, agrees with its kind and
    /// its child session ([`crate::SourceClaim::agrees_with`]).
    SourceAgrees,
    /// Fewer than `max_concurrent` operations are non-terminal.
    BelowConcurrencyLimit,
    /// Fewer operations (of any kind) are non-terminal than the concurrency
    /// limit the caller gave for this registration (if it gave one).
    BelowCallerLimit,
    /// Fewer operations of the registration's kind are non-terminal than
    /// the limit the caller gave for this registration (if it gave one).
    BelowKindLimit,
    /// The operation's kind exposes a peer channel.
    KindExpectsPeer,
    /// The operation has not reported peer-ready yet.
    NotYetPeerReady,
    /// A watcher of the operation is pending.
    WatcherPending,
    /// The terminal outcome is still buffered for collection.
    Buffered,
    /// The terminal outcome has already been collected.
    NotBuffered,
    /// Every id of the wait is known to the registry.
    WaitOpsKnown,
    /// No id appears twice in the wait.
    WaitOpsDistinct,
    /// The wait request id is not already pending.
    WaitIdFresh,
    /// The wait request is pending.
    WaitPending,
    /// The registry has never been used: open, no operation, no wait, no
    /// feed entry minted.
    RegistryPristine,
    /// The image to restore is consistent (its records satisfy the machine's
    /// invariants).
    ImageConsistent,
    /// The image was captured while the owner was active.
    ImageOpen,
    /// The image was captured after the owner terminated.
    ImageOwnerTerminated,
    /// No watcher of the operation is pending.
    NoWatcher,
    /// No pending wait tracks the operation.
    NotWaitedOn,
    /// The operation has reported no progress.
    NoProgress,
    /// The restore policy ends lost operations `Terminated`.
    LostAsTerminated,
    /// The restore policy ends lost operations `Cancelled`.
    LostAsCancelled,
    /// Every operation the restore is asked to keep is in the image,
    /// unfinished, of the kind and source the request names.
    RetentionExact,
    /// The restore keeps the operation as it is: the restore was asked to
    /// keep it, or it is running and its kind keeps running across a
    /// restore ([`crate::OnRestore::KeepsRunning`]).
    Kept,
    /// The restore does not keep the operation (the opposite of
    /// [`Guard::Kept`]).
    NotKept,
    /// The cursor is asked to move ahead of where it is.
    CursorAhead,
    /// The cursor is asked to stay where it is.
    CursorStays,
    /// The position asked is within the feed and no later than its durable
    /// watermark.
    CursorWithinDurable,
}

impl Guard {
    /// The error an input gets when this guard fails.
    pub const fn error(self) -> ErrorKind {
        match self {
            Guard::OwnerActive => ErrorKind::OwnerTerminated,
            Guard::SpecMatchesKind => ErrorKind::PeerExpectationMismatch,
            Guard::SourceAgrees => ErrorKind::SourceMismatch,
            Guard::BelowConcurrencyLimit | Guard::BelowCallerLimit => ErrorKind::MaxConcurrentExceeded,
            Guard::BelowKindLimit => ErrorKind::AdmissionLimitExceeded,
            Guard::KindExpectsPeer => ErrorKind::PeerNotExpected,
            Guard::NotYetPeerReady => ErrorKind::AlreadyPeerReady,
            Guard::WatcherPending => ErrorKind::WatcherNotPending,
            Guard::Buffered | Guard::NotBuffered => ErrorKind::InvalidTransition,
            Guard::WaitOpsKnown => ErrorKind::NotFound,
            Guard::WaitOpsDistinct => ErrorKind::DuplicateWaitOperation,
            Guard::WaitIdFresh => ErrorKind::DuplicateWaitRequest,
            Guard::WaitPending => ErrorKind::WaitNotActive,
            Guard::RegistryPristine => ErrorKind::RegistryInUse,
            Guard::ImageConsistent | Guard::ImageOpen | Guard::ImageOwnerTerminated => ErrorKind::InvalidImage,
            Guard::NoWatcher | Guard::NotWaitedOn | Guard::NoProgress => ErrorKind::RegistrationObserved,
            Guard::LostAsTerminated | Guard::LostAsCancelled | Guard::Kept | Guard::NotKept => {
                ErrorKind::InvalidTransition
            }
            Guard::RetentionExact => ErrorKind::RetentionMismatch,
            Guard::CursorAhead | Guard::CursorStays => ErrorKind::CursorBehind,
            Guard::CursorWithinDurable => ErrorKind::CursorPastWatermark,
        }
    }

    /// Whether this guard and `other` can never hold together, so two rows
    /// guarded by them never both fire.
    pub const fn excludes(self, other: Guard) -> bool {
        matches!(
            (self, other),
            (Guard::Buffered, Guard::NotBuffered)
                | (Guard::NotBuffered, Guard::Buffered)
                | (Guard::ImageOpen, Guard::ImageOwnerTerminated)
                | (Guard::ImageOwnerTerminated, Guard::ImageOpen)
                | (Guard::LostAsTerminated, Guard::LostAsCancelled)
                | (Guard::LostAsCancelled, Guard::LostAsTerminated)
                | (Guard::Kept, Guard::NotKept)
                | (Guard::NotKept, Guard::Kept)
                | (Guard::CursorAhead, Guard::CursorStays)
                | (Guard::CursorStays, Guard::CursorAhead)
        )
    }

    /// The guards that choose between rows by the request's payload alone
    /// (one of each group always holds), in groups.
    pub const CHOICES: [[Guard; 2]; 3] = [
        [Guard::ImageOpen, Guard::ImageOwnerTerminated],
        [Guard::LostAsTerminated, Guard::LostAsCancelled],
        [Guard::Kept, Guard::NotKept],
    ];

    /// The condition as rendered in tables.
    pub const fn description(self) -> &'static str {
        match self {
            Guard::OwnerActive => "owner not terminated",
            Guard::SpecMatchesKind => "expect_peer_channel agrees with kind",
            Guard::SourceAgrees => "operation source agrees with kind and child session",
            Guard::BelowConcurrencyLimit => "concurrency limit not reached",
            Guard::BelowCallerLimit => "caller's limit on active ops not reached",
            Guard::BelowKindLimit => "caller's limit on active ops of its kind not reached",
            Guard::KindExpectsPeer => "kind expects a peer",
            Guard::NotYetPeerReady => "not yet peer-ready",
            Guard::WatcherPending => "a watcher pending",
            Guard::Buffered => "outcome still buffered",
            Guard::NotBuffered => "outcome already collected",
            Guard::WaitOpsKnown => "every id known",
            Guard::WaitOpsDistinct => "no id repeated",
            Guard::WaitIdFresh => "wait id not pending",
            Guard::WaitPending => "wait pending",
            Guard::RegistryPristine => "registry never used",
            Guard::ImageConsistent => "image consistent",
            Guard::ImageOpen => "image captured while open",
            Guard::ImageOwnerTerminated => "image captured after owner termination",
            Guard::NoWatcher => "no watcher",
            Guard::NotWaitedOn => "no wait tracks it",
            Guard::NoProgress => "no progress reported",
            Guard::LostAsTerminated => "policy: lost ops end Terminated",
            Guard::LostAsCancelled => "policy: lost ops end Cancelled",
            Guard::RetentionExact => "every op asked to be kept is unfinished, of the kind and source asked",
            Guard::Kept => "kept: asked to be, or running of a kind that keeps running",
            Guard::NotKept => "not kept",
            Guard::CursorAhead => "asked ahead of the cursor",
            Guard::CursorStays => "asked where the cursor is",
            Guard::CursorWithinDurable => "asked within the durable feed",
        }
    }
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
