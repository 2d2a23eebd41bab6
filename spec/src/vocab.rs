//! The words the table is written in: statuses, phases, inputs, guards,
//! effects, outcome kinds and error kinds. None of them carries a payload;
//! the machine adds payloads (ids, results, reasons) on top of them.

use std::fmt;

/// The lifecycle status of one operation, as the registry sees it.
///
/// `Absent` means the registry does not know the id (never registered, or
/// forgotten after eviction or collection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Status {
    /// Unknown to the registry.
    Absent,
    /// Registered; its resources are being prepared.
    Provisioning,
    /// Started and doing work.
    Running,
    /// Asked to wind down; still doing work.
    Retiring,
    /// Terminal: finished with a result.
    Completed,
    /// Terminal: finished with an error.
    Failed,
    /// Terminal: provisioning was abandoned.
    Aborted,
    /// Terminal: cancelled by its owner.
    Cancelled,
    /// Terminal: wound down after a retire request.
    Retired,
    /// Terminal: ended because its owner session terminated.
    Terminated,
}

impl Status {
    /// Every status, in declaration order.
    pub const ALL: [Status; 10] = [
        Status::Absent,
        Status::Provisioning,
        Status::Running,
        Status::Retiring,
        Status::Completed,
        Status::Failed,
        Status::Aborted,
        Status::Cancelled,
        Status::Retired,
        Status::Terminated,
    ];

    /// Whether the status is one of the six terminal ones.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Completed
                | Status::Failed
                | Status::Aborted
                | Status::Cancelled
                | Status::Retired
                | Status::Terminated
        )
    }

    /// Whether the registry knows an operation in this status.
    pub const fn is_known(self) -> bool {
        !matches!(self, Status::Absent)
    }

    /// Position of the status in [`Status::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The name used in rendered tables.
    pub const fn name(self) -> &'static str {
        match self {
            Status::Absent => "Absent",
            Status::Provisioning => "Provisioning",
            Status::Running => "Running",
            Status::Retiring => "Retiring",
            Status::Completed => "Completed",
            Status::Failed => "Failed",
            Status::Aborted => "Aborted",
            Status::Cancelled => "Cancelled",
            Status::Retired => "Retired",
            Status::Terminated => "Terminated",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of statuses, used for the "allowed from" column of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StatusSet(u16);

impl StatusSet {
    /// No status at all.
    pub const EMPTY: StatusSet = StatusSet(0);
    /// The six terminal statuses.
    pub const TERMINAL: StatusSet = StatusSet::of(&[
        Status::Completed,
        Status::Failed,
        Status::Aborted,
        Status::Cancelled,
        Status::Retired,
        Status::Terminated,
    ]);
    /// The known statuses that are not terminal.
    pub const ACTIVE: StatusSet = StatusSet::of(&[Status::Provisioning, Status::Running, Status::Retiring]);
    /// Every status the registry knows (all but `Absent`).
    pub const KNOWN: StatusSet = StatusSet(StatusSet::ACTIVE.0 | StatusSet::TERMINAL.0);

    /// The set holding exactly the given statuses.
    pub const fn of(statuses: &[Status]) -> StatusSet {
        let mut bits = 0u16;
        let mut i = 0;
        while i < statuses.len() {
            bits |= 1 << statuses[i].index();
            i += 1;
        }
        StatusSet(bits)
    }

    /// Whether `status` is in the set.
    pub const fn contains(self, status: Status) -> bool {
        self.0 & (1 << status.index()) != 0
    }

    /// The set with `status` added.
    #[must_use]
    pub const fn with(self, status: Status) -> StatusSet {
        StatusSet(self.0 | (1 << status.index()))
    }

    /// The set with `status` removed.
    #[must_use]
    pub const fn without(self, status: Status) -> StatusSet {
        StatusSet(self.0 & !(1 << status.index()))
    }

    /// The statuses in both sets.
    #[must_use]
    pub const fn intersection(self, other: StatusSet) -> StatusSet {
        StatusSet(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The statuses in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Status> {
        Status::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == StatusSet::TERMINAL {
            return f.write_str("any terminal");
        }
        if *self == StatusSet::ACTIVE {
            return f.write_str("any non-terminal");
        }
        if *self == StatusSet::KNOWN {
            return f.write_str("any known");
        }
        let names: Vec<&str> = self.iter().map(Status::name).collect();
        f.write_str(&names.join(", "))
    }
}

/// The phase of the registry as a whole: open until its owner terminates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Phase {
    /// The owner session is alive; operations may be registered.
    Open,
    /// `terminate_owner` has run; the registry refuses new operations.
    OwnerTerminated,
}

impl Phase {
    /// Every phase, in declaration order.
    pub const ALL: [Phase; 2] = [Phase::Open, Phase::OwnerTerminated];

    /// The name used in rendered tables.
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Open => "Open",
            Phase::OwnerTerminated => "OwnerTerminated",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
}

/// Where an input applies: to one operation, to the registry as a whole, or
/// to each operation a registry rule cascades over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A registry call naming one operation.
    Operation,
    /// A registry call about the registry as a whole.
    Registry,
    /// Applied to single operations by a registry-level effect, never called
    /// directly.
    Cascade,
}

/// An input of the machine, without its payload: one per registry call, plus
/// the cascaded per-operation steps of registry-level calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Input {
    /// `register_operation(spec)`.
    Register,
    /// `provisioning_succeeded(id)`.
    ProvisioningSucceeded,
    /// `provisioning_failed(id, error)`.
    ProvisioningFailed,
    /// `abort_provisioning(id, reason)`.
    AbortProvisioning,
    /// `peer_ready(id, handle)`.
    PeerReady,
    /// `register_watcher(id)`.
    RegisterWatcher,
    /// `report_progress(id, update)`.
    ReportProgress,
    /// `complete_operation(id, result)`.
    Complete,
    /// `fail_operation(id, error)`.
    Fail,
    /// `cancel_operation(id, reason)`.
    Cancel,
    /// `request_retire(id)`.
    RequestRetire,
    /// `mark_retired(id)`.
    MarkRetired,
    /// `collect_terminal(id)`: acknowledge one buffered terminal outcome.
    CollectTerminal,
    /// `terminate_owner(reason)`.
    TerminateOwner,
    /// `collect_completed()`.
    CollectCompleted,
    /// `wait_all(run, ids)`: begin a wait request.
    BeginWait,
    /// Dropping a pending `wait_all` future: cancel its wait request.
    CancelWait,
    /// `restore(snapshot, policy)`: rebuild a fresh registry from a captured
    /// image.
    Restore,
    /// Cascade of `terminate_owner`: terminate one operation.
    Terminate,
    /// Cascade of retention: forget the oldest retained record.
    Evict,
    /// Cascade of `collect_completed`: hand over and forget one record.
    Drain,
    /// Cascade of `restore`: end one operation that was not terminal when
    /// the image was captured, as the restore policy says.
    ResolveLost,
}

impl Input {
    /// Every input, in declaration order.
    pub const ALL: [Input; 22] = [
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
        Input::CollectTerminal,
        Input::TerminateOwner,
        Input::CollectCompleted,
        Input::BeginWait,
        Input::CancelWait,
        Input::Restore,
        Input::Terminate,
        Input::Evict,
        Input::Drain,
        Input::ResolveLost,
    ];

    /// Position of the input in [`Input::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Where the input applies.
    pub const fn scope(self) -> Scope {
        match self {
            Input::TerminateOwner | Input::CollectCompleted | Input::BeginWait | Input::CancelWait | Input::Restore => {
                Scope::Registry
            }
            Input::Terminate | Input::Evict | Input::Drain | Input::ResolveLost => Scope::Cascade,
            _ => Scope::Operation,
        }
    }

    /// The registry call (or cascade step) the input stands for.
    pub const fn name(self) -> &'static str {
        match self {
            Input::Register => "register_operation",
            Input::ProvisioningSucceeded => "provisioning_succeeded",
            Input::ProvisioningFailed => "provisioning_failed",
            Input::AbortProvisioning => "abort_provisioning",
            Input::PeerReady => "peer_ready",
            Input::RegisterWatcher => "register_watcher",
            Input::ReportProgress => "report_progress",
            Input::Complete => "complete_operation",
            Input::Fail => "fail_operation",
            Input::Cancel => "cancel_operation",
            Input::RequestRetire => "request_retire",
            Input::MarkRetired => "mark_retired",
            Input::CollectTerminal => "collect_terminal",
            Input::TerminateOwner => "terminate_owner",
            Input::CollectCompleted => "collect_completed",
            Input::BeginWait => "begin_wait",
            Input::CancelWait => "cancel_wait",
            Input::Restore => "restore",
            Input::Terminate => "terminate (cascade)",
            Input::Evict => "evict (cascade)",
            Input::Drain => "drain (cascade)",
            Input::ResolveLost => "resolve lost (cascade)",
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A named condition a row needs besides its "allowed from" set. A failing
/// guard refuses the input with [`Guard::error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Guard {
    /// The owner has not terminated.
    OwnerActive,
    /// The spec's `expect_peer_channel` agrees with its kind.
    SpecMatchesKind,
    /// Fewer than `max_concurrent` operations are non-terminal.
    BelowConcurrencyLimit,
    /// The operation's kind exposes a peer channel.
    KindExpectsPeer,
    /// The operation has not reported peer-ready yet.
    NotYetPeerReady,
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
    /// The restore policy ends lost operations `Terminated`.
    LostAsTerminated,
    /// The restore policy ends lost operations `Cancelled`.
    LostAsCancelled,
}

impl Guard {
    /// The error an input gets when this guard fails.
    pub const fn error(self) -> ErrorKind {
        match self {
            Guard::OwnerActive => ErrorKind::OwnerTerminated,
            Guard::SpecMatchesKind => ErrorKind::PeerExpectationMismatch,
            Guard::BelowConcurrencyLimit => ErrorKind::MaxConcurrentExceeded,
            Guard::KindExpectsPeer => ErrorKind::PeerNotExpected,
            Guard::NotYetPeerReady => ErrorKind::AlreadyPeerReady,
            Guard::Buffered | Guard::NotBuffered => ErrorKind::InvalidTransition,
            Guard::WaitOpsKnown => ErrorKind::NotFound,
            Guard::WaitOpsDistinct => ErrorKind::DuplicateWaitOperation,
            Guard::WaitIdFresh => ErrorKind::DuplicateWaitRequest,
            Guard::WaitPending => ErrorKind::WaitNotActive,
            Guard::RegistryPristine => ErrorKind::RegistryInUse,
            Guard::ImageConsistent | Guard::ImageOpen | Guard::ImageOwnerTerminated => ErrorKind::InvalidImage,
            Guard::LostAsTerminated | Guard::LostAsCancelled => ErrorKind::InvalidTransition,
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
        )
    }

    /// The guards that choose between rows by the request's payload alone
    /// (one of each group always holds), in groups.
    pub const CHOICES: [[Guard; 2]; 2] =
        [[Guard::ImageOpen, Guard::ImageOwnerTerminated], [Guard::LostAsTerminated, Guard::LostAsCancelled]];

    /// The condition as rendered in tables.
    pub const fn description(self) -> &'static str {
        match self {
            Guard::OwnerActive => "owner not terminated",
            Guard::SpecMatchesKind => "expect_peer_channel agrees with kind",
            Guard::BelowConcurrencyLimit => "concurrency limit not reached",
            Guard::KindExpectsPeer => "kind expects a peer",
            Guard::NotYetPeerReady => "not yet peer-ready",
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
            Guard::LostAsTerminated => "policy: lost ops end Terminated",
            Guard::LostAsCancelled => "policy: lost ops end Cancelled",
        }
    }
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// A named effect handler. A row lists its effects in the order they run;
/// the machine implements each handler once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// Count the operation as active (non-terminal).
    ClaimSlot,
    /// Emit the `Registered` event.
    EmitRegistered,
    /// Stop counting the operation as active.
    ReleaseSlot,
    /// Record the terminal outcome of the target status, built from the
    /// input's payload.
    RecordOutcome,
    /// Emit the `Started` event.
    EmitStarted,
    /// Count one progress report, keep its update and emit a `Progress` event.
    RecordProgress,
    /// Emit the `Ended` event carrying the terminal outcome.
    EmitEnded,
    /// Append an entry to the completion feed with the next sequence number
    /// (dropping the oldest entries beyond the feed's retention).
    AppendFeed,
    /// Mark the operation peer-ready and expose its peer.
    ExposePeer,
    /// Add a pending watcher.
    AddWatcher,
    /// Hand the new watcher the terminal outcome at once.
    ResolveWatch,
    /// Send the outcome to every pending watcher (each exactly once).
    NotifyWatchers,
    /// Append the record to the retained completion order and buffer it.
    Retain,
    /// Capture the outcome in every wait tracking the operation; satisfy the
    /// waits that have nothing left to wait for.
    SatisfyWaits,
    /// Evict the oldest retained records while more than `max_completed` are
    /// retained (cascades [`Input::Evict`]).
    EvictOverflow,
    /// Clear the buffered flag.
    ClearBuffered,
    /// Remove the record from the retained completion order.
    Unretain,
    /// Report that the record was evicted.
    ReportEvicted,
    /// Hand the record and its outcome to the collector.
    ReportCollected,
    /// Cascade [`Input::Terminate`] over every operation, in registration
    /// order.
    TerminateEach,
    /// Cascade [`Input::Drain`] over every retained record, in completion
    /// order.
    DrainRetained,
    /// Open a wait request: capture the outcomes of the ids already terminal,
    /// track the others; satisfy it at once if nothing is left.
    OpenWait,
    /// Cancel a pending wait request and stop tracking its operations.
    CloseWait,
    /// Install the image's operations, retained records and feed. Watchers
    /// and waits are not part of an image: they belonged to the old process.
    LoadImage,
    /// Cascade [`Input::ResolveLost`] over every operation, in registration
    /// order (the table allows it from the non-terminal statuses only).
    ResolveEachLost,
}

impl Effect {
    /// The effect as rendered in tables.
    pub const fn name(self) -> &'static str {
        match self {
            Effect::ClaimSlot => "claim active slot",
            Effect::EmitRegistered => "event Registered",
            Effect::ReleaseSlot => "release active slot",
            Effect::RecordOutcome => "record outcome",
            Effect::EmitStarted => "event Started",
            Effect::RecordProgress => "progress +1, event Progress",
            Effect::EmitEnded => "event Ended",
            Effect::AppendFeed => "feed entry",
            Effect::ExposePeer => "expose peer",
            Effect::AddWatcher => "pending watch",
            Effect::ResolveWatch => "resolved watch",
            Effect::NotifyWatchers => "notify watchers",
            Effect::Retain => "retain record",
            Effect::SatisfyWaits => "satisfy waits",
            Effect::EvictOverflow => "evict overflow",
            Effect::ClearBuffered => "clear buffered",
            Effect::Unretain => "unretain",
            Effect::ReportEvicted => "report evicted",
            Effect::ReportCollected => "report collected",
            Effect::TerminateEach => "terminate each op",
            Effect::DrainRetained => "drain each retained",
            Effect::OpenWait => "open wait",
            Effect::CloseWait => "close wait",
            Effect::LoadImage => "load image",
            Effect::ResolveEachLost => "resolve each lost op",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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

impl OutcomeKind {
    /// The terminal status an outcome of this kind belongs to.
    pub const fn status(self) -> Status {
        match self {
            OutcomeKind::Completed => Status::Completed,
            OutcomeKind::Failed => Status::Failed,
            OutcomeKind::Aborted => Status::Aborted,
            OutcomeKind::Cancelled => Status::Cancelled,
            OutcomeKind::Retired => Status::Retired,
            OutcomeKind::Terminated => Status::Terminated,
        }
    }
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
    /// A wait lists an id twice.
    DuplicateWaitOperation,
    /// The wait request is not pending.
    WaitNotActive,
    /// The wait request id is already pending.
    DuplicateWaitRequest,
    /// The owner has terminated; the registry takes no new operations.
    OwnerTerminated,
    /// The spec's `expect_peer_channel` disagrees with its kind.
    PeerExpectationMismatch,
    /// `restore` into a registry that has already been used.
    RegistryInUse,
    /// The image to restore is inconsistent.
    InvalidImage,
    /// The machine met a table it cannot execute.
    Internal,
}

impl ErrorKind {
    /// Every error kind, in declaration order.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::NotFound,
        ErrorKind::AlreadyRegistered,
        ErrorKind::InvalidTransition,
        ErrorKind::PeerNotExpected,
        ErrorKind::AlreadyPeerReady,
        ErrorKind::MaxConcurrentExceeded,
        ErrorKind::DuplicateWaitOperation,
        ErrorKind::WaitNotActive,
        ErrorKind::DuplicateWaitRequest,
        ErrorKind::OwnerTerminated,
        ErrorKind::PeerExpectationMismatch,
        ErrorKind::RegistryInUse,
        ErrorKind::InvalidImage,
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
