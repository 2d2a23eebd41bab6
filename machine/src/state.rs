//! The machine's state: plain data, no rules. Every change to it is made by
//! an effect handler that a table row names.

use std::collections::VecDeque;

use oplife_spec::{OperationKind, Phase, Status};

use crate::feed::Feed;
use crate::image::{Image, OperationImage};
use crate::operations::{Operation, Operations};
use crate::outcome::Domain;
use crate::waits::{Wait, Waits};

/// Everything the machine knows: the registry phase, the operations in
/// registration order, the retained terminal records in completion order,
/// the pending waits, the completion feed and the active count.
///
/// It is plain data with read-only accessors; only
/// [`crate::Lifecycle::apply`] changes it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct State<D: Domain> {
    pub(crate) phase: Phase,
    pub(crate) ops: Operations<D>,
    pub(crate) retained: VecDeque<D::OpId>,
    pub(crate) waits: Waits<D>,
    pub(crate) feed: Feed<D>,
    pub(crate) active: u32,
    /// The active count of each kind, by [`OperationKind::index`].
    pub(crate) active_by_kind: [u32; OperationKind::ALL.len()],
}

clone_by_field!(State { phase, ops, retained, waits, feed, active, active_by_kind });

impl<D: Domain> Default for State<D> {
    fn default() -> Self {
        State {
            phase: Phase::Open,
            ops: Operations::default(),
            retained: VecDeque::new(),
            waits: Waits::default(),
            feed: Feed::default(),
            active: 0,
            active_by_kind: [0; OperationKind::ALL.len()],
        }
    }
}

impl<D: Domain> State<D> {
    /// An empty, open registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The status of `id` (`Absent` when unknown).
    pub fn status(&self, id: &D::OpId) -> Status {
        self.ops.get(id).map_or(Status::Absent, |op| op.status)
    }

    /// The operation `id`, if known.
    pub fn operation(&self, id: &D::OpId) -> Option<&Operation<D>> {
        self.ops.get(id)
    }

    /// Every known operation, in registration order.
    pub fn operations(&self) -> impl Iterator<Item = (&D::OpId, &Operation<D>)> {
        self.ops.iter()
    }

    /// How many operations are known.
    pub fn operation_count(&self) -> usize {
        self.ops.len()
    }

    /// The retained terminal records, oldest first.
    pub fn retained(&self) -> impl ExactSizeIterator<Item = &D::OpId> {
        self.retained.iter()
    }

    /// The active count the machine keeps of operations of `kind`.
    pub fn active_count_of(&self, kind: OperationKind) -> u32 {
        self.active_by_kind.get(kind.index()).copied().unwrap_or(0)
    }

    /// The active count the machine keeps (non-terminal operations).
    pub fn active_count(&self) -> u32 {
        self.active
    }

    /// The pending waits, by wait request id.
    pub fn pending_waits(&self) -> impl Iterator<Item = (&D::WaitId, &Wait<D>)> {
        self.waits.iter()
    }

    /// The pending wait `wait`, if pending.
    pub fn pending_wait(&self, wait: &D::WaitId) -> Option<&Wait<D>> {
        self.waits.get(wait)
    }

    /// The completion feed.
    pub fn feed(&self) -> &Feed<D> {
        &self.feed
    }

    /// Whether the registry was never used: open, with no operation, no
    /// pending wait and no feed entry ever minted. Only such a state can be
    /// restored into.
    pub fn is_pristine(&self) -> bool {
        self.phase == Phase::Open
            && self.ops.len() == 0
            && self.retained.is_empty()
            && self.waits.is_empty()
            && self.feed.watermark == 0
            && self.feed.entries.is_empty()
    }

    /// Takes a concurrency slot for an operation of `kind` (when known).
    pub(crate) fn claim_slot(&mut self, kind: Option<OperationKind>) {
        self.count_active(kind, |count| count.saturating_add(1));
    }

    /// Returns the concurrency slot of an operation of `kind` (when known).
    pub(crate) fn release_slot(&mut self, kind: Option<OperationKind>) {
        self.count_active(kind, |count| count.saturating_sub(1));
    }

    /// Steps the active count, overall and of `kind`.
    fn count_active(&mut self, kind: Option<OperationKind>, step: impl Fn(u32) -> u32) {
        self.active = step(self.active);
        if let Some(count) = kind.and_then(|kind| self.active_by_kind.get_mut(kind.index())) {
            *count = step(*count);
        }
    }

    /// The durable part of the state, for [`crate::Request::Restore`] in a
    /// new process: pending watchers and waits are left out, and so are the
    /// operations whose kind is not durable ([`Operation::durable`]).
    pub fn image(&self) -> Image<D> {
        let mut image = Image {
            phase: self.phase,
            operations: Vec::with_capacity(self.ops.len()),
            retained: Vec::with_capacity(self.retained.len()),
            feed_watermark: self.feed.watermark,
            feed: Vec::with_capacity(self.feed.entries.len()),
        };
        self.image_into(&mut image);
        image
    }

    /// Whether `self` and `other` have the same image ([`State::image`]),
    /// compared in place: no image is built. They may still differ in what
    /// an image leaves out (pending watchers and waits). A runtime that
    /// persists images can tell with it whether a call changed anything
    /// durable.
    ///
    /// ```
    /// use oplife_machine::{Lifecycle, Limits, Request, State};
    /// use oplife_machine::spec::OperationKind;
    /// # #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    /// # struct Small;
    /// # impl oplife_machine::Domain for Small {
    /// #     type OpId = u8; type WaitId = u8; type RunId = (); type Result = (); type Error = ();
    /// #     type Reason = (); type Progress = (); type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
    /// # }
    /// let lifecycle = Lifecycle::standard(Limits::default());
    /// let mut state = State::<Small>::new();
    /// let register = Request::Register { id: 1, kind: OperationKind::BackgroundToolOp, expects_peer: false, kind_limit: None, limit: None, source: None };
    /// lifecycle.apply(&mut state, register)?;
    /// let before = state.clone();
    /// lifecycle.apply(&mut state, Request::RegisterWatcher { id: 1 })?;
    /// assert_ne!(state, before); // a watcher is pending...
    /// assert!(state.same_image(&before)); // ...which an image leaves out
    /// # Ok::<(), oplife_machine::LifecycleError<Small>>(())
    /// ```
    pub fn same_image(&self, other: &State<D>) -> bool {
        let durable = |(a_id, a): (&D::OpId, &Operation<D>), (b_id, b): (&D::OpId, &Operation<D>)| {
            a_id == b_id
                && (a.kind, a.status, a.peer_ready, a.buffered, a.progress)
                    == (b.kind, b.status, b.peer_ready, b.buffered, b.progress)
                && a.last_progress == b.last_progress
                && a.outcome == b.outcome
        };
        let mut ours = self.ops.iter().filter(|(_, op)| op.durable);
        let mut theirs = other.ops.iter().filter(|(_, op)| op.durable);
        self.phase == other.phase
            && self.feed.watermark == other.feed.watermark
            && self.retained == other.retained
            && self.feed.entries == other.feed.entries
            && loop {
                match (ours.next(), theirs.next()) {
                    (None, None) => break true,
                    (Some(a), Some(b)) if durable(a, b) => {}
                    _ => break false,
                }
            }
    }

    /// Writes the state's image ([`State::image`]) over `image`, reusing
    /// its buffers: a runtime that captures images often, or compares them,
    /// allocates nothing once they have grown.
    ///
    /// ```
    /// use oplife_machine::{Image, Lifecycle, Limits, Request, State};
    /// use oplife_machine::spec::OperationKind;
    /// # #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    /// # struct Small;
    /// # impl oplife_machine::Domain for Small {
    /// #     type OpId = u8; type WaitId = u8; type RunId = (); type Result = (); type Error = ();
    /// #     type Reason = (); type Progress = (); type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
    /// # }
    /// let lifecycle = Lifecycle::standard(Limits::default());
    /// let mut state = State::<Small>::new();
    /// let mut image: Image<Small> = state.image();
    /// let register = Request::Register { id: 1, kind: OperationKind::BackgroundToolOp, expects_peer: false, kind_limit: None, limit: None, source: None };
    /// lifecycle.apply(&mut state, register)?;
    /// state.image_into(&mut image);
    /// assert_eq!(image, state.image());
    /// assert_eq!(image.operations.len(), 1);
    /// # Ok::<(), oplife_machine::LifecycleError<Small>>(())
    /// ```
    pub fn image_into(&self, image: &mut Image<D>) {
        let Image { phase, operations, retained, feed_watermark, feed } = image;
        *phase = self.phase;
        operations.clear();
        operations.extend(self.ops.iter().filter(|(_, op)| op.durable).map(|(id, op)| OperationImage {
            id: id.clone(),
            kind: op.kind,
            status: op.status,
            peer_ready: op.peer_ready,
            buffered: op.buffered,
            progress_count: op.progress,
            last_progress: op.last_progress.clone(),
            outcome: op.outcome.clone(),
        }));
        retained.clear();
        retained.extend(self.retained.iter().cloned());
        *feed_watermark = self.feed.watermark;
        feed.clear();
        feed.extend(self.feed.entries.iter().cloned());
    }
}
