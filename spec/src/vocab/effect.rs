//! Effects: the named handlers a row runs, in order.

use std::fmt;

/// A named effect handler. A row lists its effects in the order they run;
/// the machine implements each handler once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// Create the operation's record, in the row's target status, from the
    /// registration spec.
    CreateRecord,
    /// Forget the operation's record: its id becomes `Absent` (and may be
    /// registered again).
    ForgetRecord,
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
    /// Release one pending watcher: it is no longer counted and will not be
    /// notified.
    RemoveWatcher,
    /// Send the outcome to every pending watcher (each exactly once).
    NotifyWatchers,
    /// Append the record to the retained completion order and buffer it.
    Retain,
    /// Capture the outcome in every wait tracking the operation; satisfy the
    /// waits that have nothing left to wait for.
    SatisfyWaits,
    /// Evict the oldest retained records while more than `max_completed` are
    /// retained (cascades [`crate::Input::Evict`]).
    EvictOverflow,
    /// Clear the buffered flag.
    ClearBuffered,
    /// Remove the record from the retained completion order.
    Unretain,
    /// Report that the record was evicted.
    ReportEvicted,
    /// Hand the record and its outcome to the collector.
    ReportCollected,
    /// Report that the registration was rolled back (the shell forgets its
    /// record; nothing else is told).
    ReportRolledBack,
    /// Move the consumer's cursor to the position asked (the cursor is
    /// the caller's to keep: the machine reports the move).
    MoveCursor,
    /// Report that the ending was dropped: the record is forgotten as it
    /// ends (the shell forgets its own record too).
    ReportDropped,
    /// Cascade [`crate::Input::Terminate`] over every operation, in registration
    /// order.
    TerminateEach,
    /// Cascade [`crate::Input::Drain`] over every retained record, in completion
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
    /// Cascade [`crate::Input::ResolveLost`] over every operation, in registration
    /// order (the table allows it from the non-terminal statuses only).
    ResolveEachLost,
}

impl Effect {
    /// Whether the effect touches only what lives and dies with the process
    /// (pending watchers and wait requests), never the durable state an
    /// image holds.
    pub const fn is_process_local(self) -> bool {
        matches!(
            self,
            Effect::AddWatcher | Effect::ResolveWatch | Effect::RemoveWatcher | Effect::OpenWait | Effect::CloseWait
        )
    }

    /// The effect as rendered in tables.
    pub const fn name(self) -> &'static str {
        match self {
            Effect::CreateRecord => "create record",
            Effect::ForgetRecord => "forget record",
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
            Effect::RemoveWatcher => "release watcher",
            Effect::NotifyWatchers => "notify watchers",
            Effect::Retain => "retain record",
            Effect::SatisfyWaits => "satisfy waits",
            Effect::EvictOverflow => "evict overflow",
            Effect::ClearBuffered => "clear buffered",
            Effect::Unretain => "unretain",
            Effect::ReportEvicted => "report evicted",
            Effect::ReportCollected => "report collected",
            Effect::ReportRolledBack => "report rolled back",
            Effect::ReportDropped => "report dropped",
            Effect::MoveCursor => "move cursor",
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
