//! The machine's state: plain data, no rules. Every change to it is made by
//! an effect handler that a table row names.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use oplife_spec::{OperationKind, Phase, Status};

use crate::feed::Feed;
use crate::image::{Image, OperationImage};
use crate::outcome::{Domain, Outcome};

/// One operation as the machine knows it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Operation<D: Domain> {
    pub(crate) kind: OperationKind,
    pub(crate) status: Status,
    pub(crate) peer_ready: bool,
    pub(crate) buffered: bool,
    pub(crate) progress: u32,
    pub(crate) last_progress: Option<D::Progress>,
    pub(crate) watchers: u32,
    pub(crate) outcome: Option<Outcome<D>>,
    /// The waits tracking this operation, with the slot each keeps for it.
    pub(crate) waiters: Vec<(D::WaitId, u32)>,
}

impl<D: Domain> Clone for Operation<D> {
    fn clone(&self) -> Self {
        Operation {
            kind: self.kind,
            status: self.status,
            peer_ready: self.peer_ready,
            buffered: self.buffered,
            progress: self.progress,
            last_progress: self.last_progress.clone(),
            watchers: self.watchers,
            outcome: self.outcome.clone(),
            waiters: self.waiters.clone(),
        }
    }

    /// Reuses the waiter list's allocation.
    fn clone_from(&mut self, source: &Self) {
        (self.kind, self.status, self.peer_ready, self.buffered) =
            (source.kind, source.status, source.peer_ready, source.buffered);
        (self.progress, self.watchers) = (source.progress, source.watchers);
        self.last_progress.clone_from(&source.last_progress);
        self.outcome.clone_from(&source.outcome);
        self.waiters.clone_from(&source.waiters);
    }
}

impl<D: Domain> Operation<D> {
    pub(crate) fn new(kind: OperationKind, status: Status) -> Self {
        Operation {
            kind,
            status,
            peer_ready: false,
            buffered: false,
            progress: 0,
            last_progress: None,
            watchers: 0,
            outcome: None,
            waiters: Vec::new(),
        }
    }

    /// The kind it was registered with.
    pub fn kind(&self) -> OperationKind {
        self.kind
    }
    /// Its status.
    pub fn status(&self) -> Status {
        self.status
    }
    /// Whether it reported its peer ready.
    pub fn peer_ready(&self) -> bool {
        self.peer_ready
    }
    /// Whether its terminal outcome is still buffered for collection.
    pub fn buffered(&self) -> bool {
        self.buffered
    }
    /// How many progress reports it made.
    pub fn progress_count(&self) -> u32 {
        self.progress
    }
    /// The last progress update it reported.
    pub fn last_progress(&self) -> Option<&D::Progress> {
        self.last_progress.as_ref()
    }
    /// How many watchers are pending on it.
    pub fn watcher_count(&self) -> u32 {
        self.watchers
    }
    /// Its terminal outcome, once terminal.
    pub fn outcome(&self) -> Option<&Outcome<D>> {
        self.outcome.as_ref()
    }
    /// How many pending waits track it.
    pub fn tracking_waits(&self) -> usize {
        self.waiters.len()
    }
}

/// A pending wait request.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Wait<D: Domain> {
    /// Each operation waited for, in the order asked, with the outcome
    /// captured when it ended.
    pub(crate) entries: Vec<(D::OpId, Option<Outcome<D>>)>,
    /// How many entries still have no outcome.
    pub(crate) remaining: u32,
}

impl<D: Domain> Clone for Wait<D> {
    fn clone(&self) -> Self {
        Wait { entries: self.entries.clone(), remaining: self.remaining }
    }

    /// Reuses the entry list's allocation.
    fn clone_from(&mut self, source: &Self) {
        self.entries.clone_from(&source.entries);
        self.remaining = source.remaining;
    }
}

/// A pending wait with its request id: an entry of [`Waits`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct PendingWait<D: Domain> {
    pub(crate) id: D::WaitId,
    pub(crate) wait: Wait<D>,
}

impl<D: Domain> Clone for PendingWait<D> {
    fn clone(&self) -> Self {
        PendingWait { id: self.id.clone(), wait: self.wait.clone() }
    }

    fn clone_from(&mut self, source: &Self) {
        self.id.clone_from(&source.id);
        self.wait.clone_from(&source.wait);
    }
}

/// The pending waits, sorted by request id (a map with binary-search
/// lookup). Runtimes hold few waits at once, so a sorted list beats a tree,
/// and copying it into an existing one reuses every allocation. Its hash
/// and equality are those of a map: the entries in id order.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Waits<D: Domain> {
    pub(crate) sorted: Vec<PendingWait<D>>,
}

impl<D: Domain> Clone for Waits<D> {
    fn clone(&self) -> Self {
        Waits { sorted: self.sorted.clone() }
    }

    fn clone_from(&mut self, source: &Self) {
        self.sorted.clone_from(&source.sorted);
    }
}

impl<D: Domain> Default for Waits<D> {
    fn default() -> Self {
        Waits { sorted: Vec::new() }
    }
}

impl<D: Domain> Waits<D> {
    fn find(&self, id: &D::WaitId) -> Result<usize, usize> {
        self.sorted.binary_search_by(|pending| pending.id.cmp(id))
    }

    pub(crate) fn get(&self, id: &D::WaitId) -> Option<&Wait<D>> {
        let pos = self.find(id).ok()?;
        self.sorted.get(pos).map(|pending| &pending.wait)
    }

    pub(crate) fn get_mut(&mut self, id: &D::WaitId) -> Option<&mut Wait<D>> {
        let pos = self.find(id).ok()?;
        self.sorted.get_mut(pos).map(|pending| &mut pending.wait)
    }

    pub(crate) fn contains_key(&self, id: &D::WaitId) -> bool {
        self.find(id).is_ok()
    }

    /// Inserts `wait` as `id`, replacing any wait of that id.
    pub(crate) fn insert(&mut self, id: D::WaitId, wait: Wait<D>) {
        match self.find(&id) {
            Ok(pos) => {
                if let Some(pending) = self.sorted.get_mut(pos) {
                    pending.wait = wait;
                }
            }
            Err(pos) => self.sorted.insert(pos, PendingWait { id, wait }),
        }
    }

    pub(crate) fn remove(&mut self, id: &D::WaitId) -> Option<Wait<D>> {
        let pos = self.find(id).ok()?;
        Some(self.sorted.remove(pos).wait)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&D::WaitId, &Wait<D>)> {
        self.sorted.iter().map(|pending| (&pending.id, &pending.wait))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

impl<D: Domain> Wait<D> {
    /// The operations waited for, in the order asked, with the outcomes
    /// captured so far.
    pub fn entries(&self) -> &[(D::OpId, Option<Outcome<D>>)] {
        &self.entries
    }
    /// How many operations have not ended yet.
    pub fn remaining(&self) -> u32 {
        self.remaining
    }
}

/// A live operation slot: the id and the operation.
#[derive(Debug)]
pub(crate) struct Slot<D: Domain> {
    pub(crate) id: D::OpId,
    pub(crate) op: Operation<D>,
}

impl<D: Domain> Clone for Slot<D> {
    fn clone(&self) -> Self {
        Slot { id: self.id.clone(), op: self.op.clone() }
    }

    fn clone_from(&mut self, source: &Self) {
        self.id.clone_from(&source.id);
        self.op.clone_from(&source.op);
    }
}

/// Below this many slots, lookups scan; from it on, a hash index is kept.
const INDEX_FROM: usize = 16;

/// Operations in registration order, with lookup by id. Identity (equality
/// and hash) is the live operations in order; tombstones and the index are
/// representation only.
#[derive(Debug)]
pub(crate) struct Operations<D: Domain> {
    pub(crate) slots: Vec<Option<Slot<D>>>,
    index: HashMap<D::OpId, usize, foldhash::fast::RandomState>,
    live: usize,
}

impl<D: Domain> Clone for Operations<D> {
    fn clone(&self) -> Self {
        Operations { slots: self.slots.clone(), index: self.index.clone(), live: self.live }
    }

    fn clone_from(&mut self, source: &Self) {
        self.slots.clone_from(&source.slots);
        self.index.clone_from(&source.index);
        self.live = source.live;
    }
}

impl<D: Domain> Default for Operations<D> {
    fn default() -> Self {
        Operations { slots: Vec::new(), index: HashMap::default(), live: 0 }
    }
}

impl<D: Domain> Operations<D> {
    pub(crate) fn position(&self, id: &D::OpId) -> Option<usize> {
        if self.slots.len() < INDEX_FROM {
            self.slots.iter().position(|slot| slot.as_ref().is_some_and(|slot| slot.id == *id))
        } else {
            self.index.get(id).copied()
        }
    }

    pub(crate) fn get(&self, id: &D::OpId) -> Option<&Operation<D>> {
        let pos = self.position(id)?;
        self.slots.get(pos)?.as_ref().map(|slot| &slot.op)
    }

    /// The operation in slot `pos`, if that slot is live.
    pub(crate) fn at(&self, pos: usize) -> Option<&Operation<D>> {
        self.slots.get(pos)?.as_ref().map(|slot| &slot.op)
    }

    /// The operation in slot `pos`, if that slot is live.
    pub(crate) fn at_mut(&mut self, pos: usize) -> Option<&mut Operation<D>> {
        self.slots.get_mut(pos)?.as_mut().map(|slot| &mut slot.op)
    }

    pub(crate) fn get_mut(&mut self, id: &D::OpId) -> Option<&mut Operation<D>> {
        let pos = self.position(id)?;
        self.slots.get_mut(pos)?.as_mut().map(|slot| &mut slot.op)
    }

    pub(crate) fn insert(&mut self, id: D::OpId, op: Operation<D>) {
        self.slots.push(Some(Slot { id: id.clone(), op }));
        self.live += 1;
        if self.slots.len() == INDEX_FROM {
            self.rebuild_index();
        } else if self.slots.len() > INDEX_FROM {
            self.index.insert(id, self.slots.len() - 1);
        }
    }

    pub(crate) fn remove(&mut self, id: &D::OpId) -> Option<Operation<D>> {
        let pos = self.position(id)?;
        let Slot { op, .. } = self.slots.get_mut(pos)?.take()?;
        self.index.remove(id);
        self.live -= 1;
        if self.slots.len() > 2 * self.live + 4 {
            self.slots.retain(Option::is_some);
            self.rebuild_index();
        }
        Some(op)
    }

    pub(crate) fn rebuild_index(&mut self) {
        self.index.clear();
        if self.slots.len() >= INDEX_FROM {
            for (pos, slot) in self.slots.iter().enumerate() {
                if let Some(slot) = slot {
                    self.index.insert(slot.id.clone(), pos);
                }
            }
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&D::OpId, &Operation<D>)> {
        self.slots.iter().filter_map(|slot| slot.as_ref().map(|slot| (&slot.id, &slot.op)))
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }
}

impl<D: Domain> PartialEq for Operations<D> {
    fn eq(&self, other: &Self) -> bool {
        self.live == other.live && self.iter().eq(other.iter())
    }
}

impl<D: Domain> Eq for Operations<D> {}

impl<D: Domain> Hash for Operations<D> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.live.hash(state);
        for entry in self.iter() {
            entry.hash(state);
        }
    }
}

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
}

impl<D: Domain> Clone for State<D> {
    fn clone(&self) -> Self {
        State {
            phase: self.phase,
            ops: self.ops.clone(),
            retained: self.retained.clone(),
            waits: self.waits.clone(),
            feed: self.feed.clone(),
            active: self.active,
        }
    }

    /// Reuses `self`'s allocations where it can (model checkers copy states
    /// into reused buffers).
    fn clone_from(&mut self, source: &Self) {
        self.phase = source.phase;
        self.ops.clone_from(&source.ops);
        self.retained.clone_from(&source.retained);
        self.waits.clone_from(&source.waits);
        self.feed.clone_from(&source.feed);
        self.active = source.active;
    }
}

impl<D: Domain> Default for State<D> {
    fn default() -> Self {
        State {
            phase: Phase::Open,
            ops: Operations::default(),
            retained: VecDeque::new(),
            waits: Waits::default(),
            feed: Feed::default(),
            active: 0,
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

    /// The durable part of the state, for [`crate::Request::Restore`] in a
    /// new process: pending watchers and waits are left out.
    pub fn image(&self) -> Image<D> {
        Image {
            phase: self.phase,
            operations: self
                .ops
                .iter()
                .map(|(id, op)| OperationImage {
                    id: id.clone(),
                    kind: op.kind,
                    status: op.status,
                    peer_ready: op.peer_ready,
                    buffered: op.buffered,
                    progress_count: op.progress,
                    last_progress: op.last_progress.clone(),
                    outcome: op.outcome.clone(),
                })
                .collect(),
            retained: self.retained.iter().cloned().collect(),
            feed_watermark: self.feed.watermark,
            feed: self.feed.entries.iter().cloned().collect(),
        }
    }
}
