//! The invariants of `spec/SPEC.md` that are facts about one state, each
//! written once as a function returning a named [`Violation`]. The model's
//! properties, the machine's property test and the image check that guards
//! `restore` all call these; none restates them.
//!
//! They read any [`Records`]: a live [`State`] or a captured [`Image`].
//!
//! ```
//! use oplife_machine::{Domain, Lifecycle, Limits, Request, State, invariants};
//! use oplife_spec::OperationKind;
//! # #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
//! # struct Small;
//! # impl Domain for Small {
//! #     type OpId = u8; type WaitId = u8; type RunId = (); type Result = (); type Error = ();
//! #     type Reason = (); type Progress = (); type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
//! # }
//! let lifecycle = Lifecycle::standard(Limits::default());
//! let mut state = State::<Small>::new();
//! lifecycle.apply(&mut state, Request::Register { id: 1, kind: OperationKind::BackgroundToolOp, expects_peer: false, kind_limit: None, limit: None, source: None })?;
//! assert_eq!(invariants::check_state(&state, lifecycle.table(), &lifecycle.limits()), Ok(()));
//! # Ok::<(), oplife_machine::LifecycleError<Small>>(())
//! ```

use oplife_spec::{OperationKind, OutcomeKind, Phase, Status, Table};
use thiserror::Error;

use crate::feed::FeedEntry;
use crate::image::{Image, MAX_WATERMARK};
use crate::limits::Limits;
use crate::outcome::{Domain, Outcome};
use crate::state::State;

/// One operation as an invariant reads it.
#[derive(Debug)]
pub struct OperationView<'a, D: Domain> {
    /// Its id.
    pub id: &'a D::OpId,
    /// Its kind.
    pub kind: OperationKind,
    /// Its status.
    pub status: Status,
    /// Whether it reported its peer ready.
    pub peer_ready: bool,
    /// Whether its terminal outcome is buffered.
    pub buffered: bool,
    /// Its outcome, if it has one.
    pub outcome: Option<&'a Outcome<D>>,
}

/// What the invariants read: the records of a registry, live or captured.
pub trait Records<D: Domain> {
    /// The registry phase.
    fn phase(&self) -> Phase;
    /// The operations, in registration order.
    fn operation_views(&self) -> impl Iterator<Item = OperationView<'_, D>>;
    /// The retained terminal records, oldest first.
    fn retained_ids(&self) -> impl Iterator<Item = &D::OpId>;
    /// The last feed sequence number minted.
    fn feed_watermark(&self) -> u64;
    /// The retained feed entries, oldest first.
    fn feed_entries(&self) -> impl Iterator<Item = &FeedEntry<D>>;
}

/// A broken invariant, named by its number in `spec/SPEC.md`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Error)]
pub enum Violation<D: Domain> {
    /// An id appears twice among the operations.
    #[error("operation {0:?} appears twice")]
    DuplicateOperation(D::OpId),
    /// An operation is recorded as `Absent`.
    #[error("operation {0:?} is recorded as Absent")]
    RecordedAbsent(D::OpId),
    /// 1: the buffered flag on a non-terminal operation.
    #[error("invariant 1: operation {0:?} is buffered but not terminal")]
    BufferedNotTerminal(D::OpId),
    /// 2: peer-ready on a kind without a peer channel.
    #[error("invariant 2: operation {0:?} is peer-ready but its kind has no peer")]
    PeerReadyWithoutPeer(D::OpId),
    /// 4: an outcome that does not belong to the status.
    #[error("invariant 4: operation {id:?} is {status} with outcome {outcome:?}")]
    OutcomeMismatch {
        /// The operation.
        id: D::OpId,
        /// Its status.
        status: Status,
        /// The variant of its outcome, if any.
        outcome: Option<OutcomeKind>,
    },
    /// 5: the active count the machine keeps is not the number of
    /// non-terminal operations, or exceeds the limit.
    #[error("invariant 5: {active} operations are active, the count says {counted}, the limit is {limit:?}")]
    ActiveCount {
        /// Non-terminal operations.
        active: usize,
        /// The count kept.
        counted: u32,
        /// `max_concurrent`.
        limit: Option<usize>,
    },
    /// 6: a retained record appears twice.
    #[error("invariant 6: retained record {0:?} appears twice")]
    RetainedTwice(D::OpId),
    /// 6: a retained record is not a known terminal operation.
    #[error("invariant 6: retained record {id:?} is {status}")]
    RetainedNotTerminal {
        /// The record.
        id: D::OpId,
        /// Its status.
        status: Status,
    },
    /// 6: terminal operations and retained records differ in number, or
    /// more than `max_completed` are retained.
    #[error("invariant 6: {terminal} terminal operations, {retained} retained records, limit {limit:?}")]
    RetainedCount {
        /// Terminal operations.
        terminal: usize,
        /// Retained records.
        retained: usize,
        /// `max_completed`, where it applies.
        limit: Option<usize>,
    },
    /// 7: a pending wait whose count of missing outcomes is wrong, or that
    /// waits for nothing that can still end.
    #[error("invariant 7: a pending wait is stranded ({remaining} remaining, {open} of its operations can still end)")]
    WaitStranded {
        /// The count the wait keeps.
        remaining: u32,
        /// Its operations that are known and not terminal, without outcome.
        open: u32,
    },
    /// 6: retained records out of the order their operations ended in, as
    /// their feed sequence numbers tell it.
    #[error("invariant 6: retained record {id:?} ended (feed entry {seq}) before the record retained ahead of it")]
    RetainedOutOfOrder {
        /// The record out of order.
        id: D::OpId,
        /// The sequence number of its ending.
        seq: u64,
    },
    /// 12: a non-terminal operation after owner termination.
    #[error("invariant 12: operation {id:?} is {status} after owner termination")]
    ActiveAfterTermination {
        /// The operation.
        id: D::OpId,
        /// Its status.
        status: Status,
    },
    /// 14: the watermark is out of the range sequence numbers may take.
    #[error("invariant 14: feed watermark {0} is out of range")]
    WatermarkOutOfRange(u64),
    /// 14: the feed entries do not run consecutively up to the watermark,
    /// or exceed the retention.
    #[error("invariant 14: feed entry {found:?} where {expected} was expected (watermark {watermark})")]
    FeedNotConsecutive {
        /// The sequence number found (`None`: too many entries).
        found: Option<u64>,
        /// The one expected.
        expected: u64,
        /// The watermark.
        watermark: u64,
    },
}

type Checked<D> = Result<(), Violation<D>>;

/// Ids are distinct, and no operation is recorded as `Absent`.
pub fn operations_are_distinct<D: Domain>(r: &impl Records<D>) -> Checked<D> {
    for (i, op) in r.operation_views().enumerate() {
        if op.status == Status::Absent {
            return Err(Violation::RecordedAbsent(op.id.clone()));
        }
        if r.operation_views().take(i).any(|other| other.id == op.id) {
            return Err(Violation::DuplicateOperation(op.id.clone()));
        }
    }
    Ok(())
}

/// Invariant 1: The buffered flag is set only on terminal operations.
pub fn buffered_only_when_terminal<D: Domain>(r: &impl Records<D>) -> Checked<D> {
    match r.operation_views().find(|op| op.buffered && !op.status.is_terminal()) {
        Some(op) => Err(Violation::BufferedNotTerminal(op.id.clone())),
        None => Ok(()),
    }
}

/// Invariant 2: Peer-ready is set only on operations whose kind has a peer channel.
pub fn peer_ready_only_for_peer_kinds<D: Domain>(r: &impl Records<D>) -> Checked<D> {
    match r.operation_views().find(|op| op.peer_ready && !op.kind.expects_peer_channel()) {
        Some(op) => Err(Violation::PeerReadyWithoutPeer(op.id.clone())),
        None => Ok(()),
    }
}

/// Invariant 4: A terminal status has an outcome of the variant `table` gives it; a
/// non-terminal status has none.
pub fn outcome_matches_status<D: Domain>(r: &impl Records<D>, table: &Table) -> Checked<D> {
    for op in r.operation_views() {
        let outcome = op.outcome.map(Outcome::kind);
        let expected = if op.status.is_terminal() { table.outcome_of(op.status) } else { None };
        if outcome != expected || (op.status.is_terminal() && outcome.is_none()) {
            return Err(Violation::OutcomeMismatch { id: op.id.clone(), status: op.status, outcome });
        }
    }
    Ok(())
}

/// Invariant 6: The retained records are exactly the known terminal operations,
/// without duplicates, and never more than `limit` (when given).
pub fn retained_are_terminal<D: Domain>(r: &impl Records<D>, limit: Option<usize>) -> Checked<D> {
    let mut retained = 0;
    for (i, id) in r.retained_ids().enumerate() {
        retained += 1;
        if r.retained_ids().take(i).any(|other| other == id) {
            return Err(Violation::RetainedTwice(id.clone()));
        }
        let status = r.operation_views().find(|op| op.id == id).map_or(Status::Absent, |op| op.status);
        if !status.is_terminal() {
            return Err(Violation::RetainedNotTerminal { id: id.clone(), status });
        }
    }
    let terminal = r.operation_views().filter(|op| op.status.is_terminal()).count();
    if terminal != retained || limit.is_some_and(|limit| retained > limit) {
        return Err(Violation::RetainedCount { terminal, retained, limit });
    }
    Ok(())
}

/// Invariant 6: The retained records are in completion order: where the
/// feed still holds their endings, their sequence numbers increase.
pub fn retained_follow_the_feed<D: Domain>(r: &impl Records<D>) -> Checked<D> {
    let mut last = 0;
    for id in r.retained_ids() {
        if let Some(seq) = r.feed_entries().filter(|entry| entry.id == *id).map(|entry| entry.seq).last() {
            if seq <= last {
                return Err(Violation::RetainedOutOfOrder { id: id.clone(), seq });
            }
            last = seq;
        }
    }
    Ok(())
}

/// Invariant 12: After owner termination no operation is non-terminal.
pub fn termination_is_final<D: Domain>(r: &impl Records<D>) -> Checked<D> {
    if r.phase() == Phase::OwnerTerminated
        && let Some(op) = r.operation_views().find(|op| !op.status.is_terminal())
    {
        return Err(Violation::ActiveAfterTermination { id: op.id.clone(), status: op.status });
    }
    Ok(())
}

/// Invariant 14: Feed sequence numbers run consecutively up to the watermark, which
/// stays below [`MAX_WATERMARK`]; at most `retention` entries (when given).
pub fn feed_is_consecutive<D: Domain>(r: &impl Records<D>, retention: Option<usize>) -> Checked<D> {
    let watermark = r.feed_watermark();
    if watermark >= MAX_WATERMARK {
        return Err(Violation::WatermarkOutOfRange(watermark));
    }
    let len = r.feed_entries().count();
    let too_many = u64::try_from(len).map_or(true, |len| len > watermark) || retention.is_some_and(|max| len > max);
    let first = watermark.saturating_sub(u64::try_from(len).unwrap_or(u64::MAX)) + 1;
    if too_many {
        return Err(Violation::FeedNotConsecutive { found: None, expected: first, watermark });
    }
    for (expected, entry) in (first..).zip(r.feed_entries()) {
        if entry.seq != expected {
            return Err(Violation::FeedNotConsecutive { found: Some(entry.seq), expected, watermark });
        }
    }
    Ok(())
}

/// Invariant 5: The active count equals the number of non-terminal operations and
/// never exceeds `max_concurrent`.
pub fn active_count_is_exact<D: Domain>(state: &State<D>, limits: &Limits) -> Checked<D> {
    let active = state.operations().filter(|(_, op)| !op.status().is_terminal()).count();
    let counted = state.active_count();
    let by_kind_exact = OperationKind::ALL.into_iter().all(|kind| {
        let of_kind = state.operations().filter(|(_, op)| op.kind() == kind && !op.status().is_terminal()).count();
        state.active_count_of(kind) as usize == of_kind
    });
    if counted as usize != active || !by_kind_exact || limits.max_concurrent.is_some_and(|limit| active > limit) {
        return Err(Violation::ActiveCount { active, counted, limit: limits.max_concurrent });
    }
    Ok(())
}

/// Invariant 7: Every pending wait counts exactly its missing outcomes, and still has
/// an operation it waits for that can end.
pub fn no_wait_is_stranded<D: Domain>(state: &State<D>) -> Checked<D> {
    for (_, wait) in state.pending_waits() {
        let open = wait
            .entries()
            .iter()
            .filter(|(id, captured)| {
                captured.is_none() && state.status(id).is_known() && !state.status(id).is_terminal()
            })
            .count();
        let open = u32::try_from(open).unwrap_or(u32::MAX);
        if open != wait.remaining() || open == 0 {
            return Err(Violation::WaitStranded { remaining: wait.remaining(), open });
        }
    }
    Ok(())
}

/// Every invariant an image must keep to be restored, with `table`'s
/// outcome variants. Limits are not checked: a restore applies its own.
///
/// # Errors
///
/// The first [`Violation`] found.
pub fn check_image<D: Domain>(image: &Image<D>, table: &Table) -> Checked<D> {
    operations_are_distinct(image)?;
    buffered_only_when_terminal(image)?;
    peer_ready_only_for_peer_kinds(image)?;
    outcome_matches_status(image, table)?;
    retained_are_terminal(image, None)?;
    termination_is_final(image)?;
    feed_is_consecutive(image, None)?;
    retained_follow_the_feed(image)
}

/// Every invariant of one state of a machine running `table` under
/// `limits`.
///
/// # Errors
///
/// The first [`Violation`] found.
pub fn check_state<D: Domain>(state: &State<D>, table: &Table, limits: &Limits) -> Checked<D> {
    buffered_only_when_terminal(state)?;
    peer_ready_only_for_peer_kinds(state)?;
    outcome_matches_status(state, table)?;
    active_count_is_exact(state, limits)?;
    retained_are_terminal(state, Some(limits.max_completed))?;
    no_wait_is_stranded(state)?;
    termination_is_final(state)?;
    feed_is_consecutive(state, Some(limits.feed_retention))?;
    retained_follow_the_feed(state)
}

impl<D: Domain> Records<D> for State<D> {
    fn phase(&self) -> Phase {
        State::phase(self)
    }
    fn operation_views(&self) -> impl Iterator<Item = OperationView<'_, D>> {
        self.operations().map(|(id, op)| OperationView {
            id,
            kind: op.kind(),
            status: op.status(),
            peer_ready: op.peer_ready(),
            buffered: op.buffered(),
            outcome: op.outcome(),
        })
    }
    fn retained_ids(&self) -> impl Iterator<Item = &D::OpId> {
        self.retained()
    }
    fn feed_watermark(&self) -> u64 {
        self.feed().watermark()
    }
    fn feed_entries(&self) -> impl Iterator<Item = &FeedEntry<D>> {
        self.feed().entries()
    }
}

impl<D: Domain> Records<D> for Image<D> {
    fn phase(&self) -> Phase {
        self.phase
    }
    fn operation_views(&self) -> impl Iterator<Item = OperationView<'_, D>> {
        self.operations.iter().map(|op| OperationView {
            id: &op.id,
            kind: op.kind,
            status: op.status,
            peer_ready: op.peer_ready,
            buffered: op.buffered,
            outcome: op.outcome.as_deref(),
        })
    }
    fn retained_ids(&self) -> impl Iterator<Item = &D::OpId> {
        self.retained.iter()
    }
    fn feed_watermark(&self) -> u64 {
        self.feed_watermark
    }
    fn feed_entries(&self) -> impl Iterator<Item = &FeedEntry<D>> {
        self.feed.iter()
    }
}
