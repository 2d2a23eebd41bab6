//! One operation as the machine knows it, and the operations of a registry
//! in registration order with lookup by id.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use oplife_spec::{OperationKind, Status};

use crate::outcome::{Domain, Outcome, SharedOutcome};

/// One operation as the machine knows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Operation<D: Domain> {
    pub(crate) kind: OperationKind,
    /// Whether the table makes its kind durable (journaled and imaged).
    pub(crate) durable: bool,
    pub(crate) status: Status,
    pub(crate) peer_ready: bool,
    pub(crate) buffered: bool,
    pub(crate) progress: u32,
    pub(crate) last_progress: Option<D::Progress>,
    pub(crate) watchers: u32,
    pub(crate) outcome: Option<SharedOutcome<D>>,
    /// The waits tracking this operation, with the slot each keeps for it.
    pub(crate) waiters: Vec<(D::WaitId, u32)>,
}

clone_by_field!(Operation {
    kind,
    durable,
    status,
    peer_ready,
    buffered,
    progress,
    last_progress,
    watchers,
    outcome,
    waiters
});

impl<D: Domain> Hash for Operation<D> {
    /// Its counts in one word and its flags in another, then the domain's
    /// values: a checker hashes every state it makes.
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `durable` follows from the kind.
        let Operation {
            kind,
            durable: _,
            status,
            peer_ready,
            buffered,
            progress,
            last_progress,
            watchers,
            outcome,
            waiters,
        } = self;
        state.write_u64(u64::from(*progress) | u64::from(*watchers) << 32);
        state.write_u32(
            kind.index() as u32 | (*status as u32) << 8 | u32::from(*peer_ready) << 16 | u32::from(*buffered) << 17,
        );
        last_progress.hash(state);
        outcome.hash(state);
        waiters.hash(state);
    }
}

impl<D: Domain> Operation<D> {
    pub(crate) fn new(kind: OperationKind, durable: bool, status: Status) -> Self {
        Operation {
            kind,
            durable,
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
    /// Whether it is durable: journaled, imaged and restored (the table
    /// says so of its kind).
    pub fn durable(&self) -> bool {
        self.durable
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
        self.outcome.as_deref()
    }
    /// Its terminal outcome, once terminal, as the record holds it: a clone
    /// shares it.
    pub fn shared_outcome(&self) -> Option<&SharedOutcome<D>> {
        self.outcome.as_ref()
    }
    /// How many pending waits track it.
    pub fn tracking_waits(&self) -> usize {
        self.waiters.len()
    }
}

/// A live operation slot: the id and the operation.
#[derive(Debug)]
pub(crate) struct Slot<D: Domain> {
    pub(crate) id: D::OpId,
    pub(crate) op: Operation<D>,
}

clone_by_field!(Slot { id, op });

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

clone_by_field!(Operations { slots, index, live });

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

    /// The slot of `id`, trying `hint` first: a slot read from an earlier
    /// [`Operations::slotted`] that is still `id`'s is taken without a
    /// lookup (eviction compacts the slots, which moves them).
    pub(crate) fn position_from(&self, hint: Option<usize>, id: &D::OpId) -> Option<usize> {
        match hint {
            Some(pos) if self.slots.get(pos).is_some_and(|slot| slot.as_ref().is_some_and(|slot| slot.id == *id)) => {
                Some(pos)
            }
            _ => self.position(id),
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

    /// Appends `op` as `id` and returns its slot.
    pub(crate) fn insert(&mut self, id: D::OpId, op: Operation<D>) -> usize {
        self.slots.push(Some(Slot { id: id.clone(), op }));
        self.live += 1;
        if self.slots.len() == INDEX_FROM {
            self.rebuild_index();
        } else if self.slots.len() > INDEX_FROM {
            self.index.insert(id, self.slots.len() - 1);
        }
        self.slots.len() - 1
    }

    /// Forgets the operation in slot `pos` (its id must be `id`).
    pub(crate) fn remove_at(&mut self, pos: usize, id: &D::OpId) -> Option<Operation<D>> {
        let Slot { op, .. } = self.slots.get_mut(pos)?.take_if(|slot| slot.id == *id)?;
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

    /// The ids of the live operations in registration order, each with
    /// its slot.
    pub(crate) fn slotted(&self) -> Vec<(usize, D::OpId)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(pos, slot)| slot.as_ref().map(|slot| (pos, slot.id.clone())))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    struct T;
    impl Domain for T {
        type OpId = u8;
        type WaitId = u8;
        type RunId = ();
        type Result = u8;
        type Error = u8;
        type Reason = u8;
        type Progress = u8;
        type Shared = crate::Inline<Outcome<Self>>;
    }

    #[test]
    fn the_packed_hash_tells_apart_each_field() {
        let hash = |op: &Operation<T>| foldhash::fast::FixedState::with_seed(7).hash_one(op);
        let base = Operation::<T>::new(OperationKind::MobMemberChild, true, Status::Provisioning);
        let mut changed: Vec<Operation<T>> = Vec::new();
        for status in Status::ALL.into_iter().filter(|s| *s != base.status) {
            changed.push(Operation { status, ..base.clone() });
        }
        changed.push(Operation { kind: OperationKind::BackgroundToolOp, ..base.clone() });
        changed.push(Operation { peer_ready: true, ..base.clone() });
        changed.push(Operation { buffered: true, ..base.clone() });
        changed.push(Operation { progress: 1, ..base.clone() });
        changed.push(Operation { watchers: 1, ..base.clone() });
        changed.push(Operation { progress: u32::MAX, watchers: u32::MAX, ..base.clone() });
        changed.push(Operation { last_progress: Some(0), ..base.clone() });
        changed.push(Operation { outcome: Some(Outcome::Retired.into()), ..base.clone() });
        changed.push(Operation { waiters: vec![(0, 0)], ..base.clone() });
        let hashes: HashSet<u64> = changed.iter().chain([&base]).map(hash).collect();
        assert_eq!(hashes.len(), changed.len() + 1);
        assert_eq!(hash(&base), hash(&base.clone()));
    }
}
