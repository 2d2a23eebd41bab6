//! The model's state: the machine's state plus what the environment has
//! seen, and the symmetry representative over operation ids.

use oplife_machine::{Remap, State};
use oplife_spec::{OperationKind, OutcomeKind};
use std::hash::BuildHasher;

use stateright::Representative;

use crate::config::{MAX_OPS, MAX_WAITS};
use crate::domain::Tiny;

/// The environment's view of one wait slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EnvWait {
    /// Whether a wait begun in this slot is pending.
    pub pending: bool,
    /// The ids it waits for (bit `i` for id `i`).
    pub ids: u8,
    /// The outcome the environment saw each id end with while the wait was
    /// pending (or already had when it began).
    pub seen: [Option<OutcomeKind>; MAX_OPS],
    /// The ids whose record was evicted while the wait was pending.
    pub evicted: u8,
}

impl std::hash::Hash for EnvWait {
    /// One word: the fields packed, which is what equality compares.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let EnvWait { pending, ids, seen, evicted } = *self;
        let mut packed = u64::from(pending) | u64::from(ids) << 1 | u64::from(evicted) << 9;
        for (i, outcome) in seen.iter().enumerate() {
            packed |= u64::from(outcome.map_or(0, |kind| kind as u8 + 1)) << (17 + 3 * i);
        }
        state.write_u64(packed);
    }
}

/// Records of ids, oldest first, in a fixed array (no allocation per state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Order {
    ids: [u8; 2 * MAX_OPS],
    len: u8,
}

impl Order {
    /// Appends `id`; false when full.
    pub fn push(&mut self, id: u8) -> bool {
        match self.ids.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = id;
                self.len += 1;
                true
            }
            None => false,
        }
    }
    /// Removes the first `id`; false when absent.
    pub fn remove(&mut self, id: u8) -> bool {
        let Some(pos) = self.as_slice().iter().position(|x| *x == id) else { return false };
        self.ids.copy_within(pos + 1..usize::from(self.len), pos);
        self.len -= 1;
        // Unused places stay zero: equality and hash read the whole array.
        if let Some(vacated) = self.ids.get_mut(usize::from(self.len)) {
            *vacated = 0;
        }
        true
    }
    /// The ids, oldest first.
    pub fn as_slice(&self) -> &[u8] {
        &self.ids[..usize::from(self.len)]
    }
}

/// Transition properties found violated on the step into a state. A
/// correct machine never sets any, so they add no states.
pub mod fault {
    /// A refused input changed the machine state.
    pub const REJECTION_CHANGED_STATE: u32 = 1 << 0;
    /// A terminal operation changed status or outcome.
    pub const TERMINAL_CHANGED: u32 = 1 << 1;
    /// A registration succeeded after owner termination.
    pub const REGISTERED_AFTER_TERMINATION: u32 = 1 << 2;
    /// A wait report disagreed with the outcomes the environment saw, or a
    /// wait was satisfied or cancelled that was not pending.
    pub const WAIT_REPORT: u32 = 1 << 3;
    /// A watcher was resolved twice, not at all, or with a wrong outcome.
    pub const WATCHER: u32 = 1 << 4;
    /// `collect_completed` did not hand over exactly the retained records in
    /// completion order with their outcomes.
    pub const COLLECT: u32 = 1 << 5;
    /// More terminal records were retained than the environment can track.
    pub const RETAINED_OVERFLOW: u32 = 1 << 6;
    /// A feed entry got a sequence number that was not the next one.
    pub const FEED_SEQUENCE: u32 = 1 << 7;
    /// A terminal transition got no feed entry or more than one, or a feed
    /// entry was appended without a terminal transition.
    pub const FEED_ENTRY: u32 = 1 << 8;
    /// A feed entry disagreed with the outcome or kind of the op that ended.
    pub const FEED_OUTCOME: u32 = 1 << 9;
    /// A restart lost or altered a terminal record or feed entry, or did not
    /// end a lost operation as the policy says.
    pub const RESTORE: u32 = 1 << 10;
    /// An accepted call would not survive a crash: replaying the journal
    /// (the last durable image resumed, the call applied if the table
    /// journals it) does not give the durable state the call left.
    pub const LOST_IN_CRASH: u32 = 1 << 11;
    /// A rollback left a trace: the registry is not as if the operation had
    /// never been registered.
    pub const ROLLBACK_TRACE: u32 = 1 << 12;
    /// A registration exceeded a limit its caller gave (on its kind, or on
    /// every kind).
    pub const ADMISSION: u32 = 1 << 13;
    /// A refusal was classified as a retry other than what happened says.
    pub const RETRY: u32 = 1 << 14;
    /// A registry whose store a newer owner took over changed its durable
    /// state (its image) on a call it accepted.
    pub const FENCED_WROTE: u32 = 1 << 15;
    /// A registration was accepted with an operation source that disagrees
    /// with its kind or its child session.
    pub const SOURCE: u32 = 1 << 16;
    /// An operation whose kind drops its ending left a trace of it: a feed
    /// entry, a retained or remembered record, or no report that it was
    /// dropped; or a restart knew it.
    pub const DROPPED: u32 = 1 << 17;
    /// A restart did not keep what it must (a running wait on a detached
    /// job, or what it was asked to keep), kept what it must not, or
    /// refused or accepted a request to keep against what the environment
    /// knows of the operation.
    pub const KEPT: u32 = 1 << 18;
    /// A consumer's cursor went back, passed the durable feed, stayed when
    /// asked ahead within it, or moved when asked where it was.
    pub const CURSOR: u32 = 1 << 19;
}

/// What the step into a state showed; cleared on every step. `sometimes`
/// properties read it.
pub mod witness {
    /// A record was evicted.
    pub const EVICTED: u32 = 1 << 0;
    /// A wait was satisfied after the record of one of its ops was evicted.
    pub const SATISFIED_AFTER_EVICTION: u32 = 1 << 1;
    /// A pending wait was cancelled.
    pub const WAIT_CANCELLED: u32 = 1 << 2;
    /// Owner termination resolved a pending wait and a pending watcher.
    pub const TERMINATION_RESOLVED_PENDING: u32 = 1 << 3;
    /// The concurrency limit refused a registration.
    pub const LIMIT_REFUSED: u32 = 1 << 4;
    /// The feed dropped its oldest entry to stay within its retention.
    pub const FEED_DROPPED: u32 = 1 << 5;
    /// A restart ended an operation lost with the old process.
    pub const RESTART_RESOLVED_LOST: u32 = 1 << 6;
    /// A retained record survived a restart.
    pub const RESTART_KEPT_RECORD: u32 = 1 << 7;
    /// A pending watcher was released because its watch was dropped.
    pub const WATCHER_RELEASED: u32 = 1 << 8;
    /// A crash recovered a terminal record from the journal.
    pub const CRASH_KEPT_RECORD: u32 = 1 << 9;
    /// A registration was rolled back.
    pub const ROLLED_BACK: u32 = 1 << 10;
    /// A caller's admission limit refused a registration.
    pub const ADMISSION_REFUSED: u32 = 1 << 11;
    /// A refused call was classified as a repeat.
    pub const RETRY_REPEAT: u32 = 1 << 12;
    /// A registry whose store a newer owner took over refused a call as
    /// sealed.
    pub const FENCED_REFUSED: u32 = 1 << 13;

    /// A record a pending wait tracks was evicted (what the wait remembers
    /// for [`SATISFIED_AFTER_EVICTION`]).
    pub const EVICTED_WHILE_AWAITED: u32 = 1 << 14;

    /// A caller's concurrency limit refused a registration the registry's
    /// own limit would have admitted.
    pub const CALLER_LIMIT_REFUSED: u32 = 1 << 15;

    /// A registration was refused because its source disagrees with its
    /// kind or its child session.
    pub const SOURCE_REFUSED: u32 = 1 << 16;

    /// An operation asked to wind down was told to callers as running.
    pub const RETIRING_RUNNING: u32 = 1 << 17;

    /// An operation whose kind drops its ending ended and was forgotten.
    pub const DROPPED_ENDING: u32 = 1 << 18;

    /// A running wait on a detached job survived a restart or a crash.
    pub const DETACHED_SURVIVED: u32 = 1 << 19;

    /// A restart kept an unfinished operation it was asked to keep.
    pub const KEPT_AS_ASKED: u32 = 1 << 20;

    /// A restart asked to keep an operation the image does not hold
    /// unfinished with that kind and source was refused.
    pub const RETENTION_REFUSED: u32 = 1 << 21;

    /// An ending made a feed entry that wakes its owner.
    pub const ENDING_WAKES: u32 = 1 << 22;

    /// A cursor asked past the durable feed was refused.
    pub const CURSOR_REFUSED: u32 = 1 << 23;

    /// A cursor moved ahead.
    pub const CURSOR_MOVED: u32 = 1 << 24;

    /// The witnesses a step shows only from what earlier steps left in the
    /// state, which an exploration without witnesses does not keep (its
    /// steps cannot show them), each with the witness of the step that
    /// leaves it: where no step shows that one, none shows the first.
    pub const REMEMBERED: [(u32, u32); 1] = [(SATISFIED_AFTER_EVICTION, EVICTED_WHILE_AWAITED)];
}

/// One state of the model.
#[derive(PartialEq, Eq)]
pub struct ModelState {
    /// How many ids the configuration uses (constant; the representative
    /// keeps ids beyond it out of the renaming).
    pub ops: u8,
    /// How many wait slots the configuration uses (constant; the
    /// representative only reorders these).
    pub wait_slots: u8,
    /// The real machine's state.
    pub machine: State<Tiny>,
    /// The kind each id was registered with, while it is known.
    pub kinds: [Option<OperationKind>; MAX_OPS],
    /// The terminal records the environment saw retained, oldest first.
    pub completion: Order,
    /// Watchers the environment holds pending, per id.
    pub watchers: [u8; MAX_OPS],
    /// The environment's wait slots.
    pub waits: [EnvWait; MAX_WAITS],
    /// Whether a newer owner took the durable store over: the registry's
    /// writes are fenced from then on.
    pub fenced: bool,
    /// The feed position the environment's consumer acknowledged (rebased
    /// with the feed's sequence numbers).
    pub cursor: u64,
    /// Transition properties violated on the step into this state.
    pub faults: u32,
    /// What the step into this state showed.
    pub witnessed: u32,
}

impl std::hash::Hash for ModelState {
    /// The machine's state, then the environment with its small fields
    /// packed into words: every state the search makes is hashed, and a
    /// write per flag was a tenth of the check.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let ModelState {
            ops,
            wait_slots,
            machine,
            kinds,
            completion,
            watchers,
            waits,
            fenced,
            cursor,
            faults,
            witnessed,
        } = self;
        machine.hash(state);
        let kinds = kinds
            .iter()
            .enumerate()
            .fold(0u64, |packed, (i, kind)| packed | kind.map_or(0, |kind| kind.index() as u64 + 1) << (3 * i));
        state.write_u64(
            u64::from(*ops) | u64::from(*wait_slots) << 8 | kinds << 16 | u64::from(*fenced) << 40 | *cursor << 41,
        );
        state.write_u64(u64::from(*faults) | u64::from(*witnessed) << 32);
        completion.hash(state);
        state.write(watchers);
        for wait in waits {
            wait.hash(state);
        }
    }
}

impl Clone for ModelState {
    /// A copy with buffers of the exact size: the search keeps millions.
    fn clone(&self) -> Self {
        let ModelState {
            ops,
            wait_slots,
            ref machine,
            kinds,
            completion,
            watchers,
            waits,
            fenced,
            cursor,
            faults,
            witnessed,
        } = *self;
        ModelState {
            ops,
            wait_slots,
            machine: machine.clone(),
            kinds,
            completion,
            watchers,
            waits,
            fenced,
            cursor,
            faults,
            witnessed,
        }
    }

    /// Copies `source` into this state keeping the machine's buffers: the
    /// search copies a state into one buffer for every successor it makes.
    fn clone_from(&mut self, source: &Self) {
        let ModelState {
            ops,
            wait_slots,
            machine,
            kinds,
            completion,
            watchers,
            waits,
            fenced,
            cursor,
            faults,
            witnessed,
        } = self;
        machine.clone_from(&source.machine);
        (*ops, *wait_slots, *kinds, *completion) = (source.ops, source.wait_slots, source.kinds, source.completion);
        (*fenced, *cursor) = (source.fenced, source.cursor);
        (*watchers, *waits, *faults, *witnessed) = (source.watchers, source.waits, source.faults, source.witnessed);
    }
}

impl ModelState {
    /// The initial state: an empty, open registry.
    pub fn initial(ops: u8, wait_slots: u8) -> Self {
        ModelState {
            ops,
            wait_slots,
            machine: State::new(),
            kinds: [None; MAX_OPS],
            completion: Order::default(),
            watchers: [0; MAX_OPS],
            waits: [EnvWait::default(); MAX_WAITS],
            fenced: false,
            cursor: 0,
            faults: 0,
            witnessed: 0,
        }
    }

    /// Whether `self` equals `other` but for `witnessed`, which the step
    /// into a state recomputes.
    pub(crate) fn same_as(&self, other: &ModelState) -> bool {
        let ModelState {
            ops,
            wait_slots,
            machine,
            kinds,
            completion,
            watchers,
            waits,
            fenced,
            cursor,
            faults,
            witnessed: _,
        } = self;
        (*ops, *wait_slots, *kinds, *completion, *watchers, *waits, *fenced, *cursor, *faults)
            == (
                other.ops,
                other.wait_slots,
                other.kinds,
                other.completion,
                other.watchers,
                other.waits,
                other.fenced,
                other.cursor,
                other.faults,
            )
            && *machine == other.machine
    }

    /// The same state with ids renamed by `to` (old id -> new id).
    pub fn permuted(&self, to: &[u8; MAX_OPS]) -> Self {
        let mut renamed = self.clone();
        renamed.rename(to, &SAME_SLOTS);
        renamed
    }

    /// The same state with wait slots renamed by `to` (old slot -> new
    /// slot).
    pub fn with_wait_slots(&self, to: &[u8; MAX_WAITS]) -> Self {
        let mut renamed = self.clone();
        renamed.rename(&SAME_IDS, to);
        renamed
    }

    /// Renames operation ids by `ids` and wait slots by `slots` (old -> new;
    /// both permutations) in place, allocating nothing.
    pub fn rename(&mut self, ids: &[u8; MAX_OPS], slots: &[u8; MAX_WAITS]) {
        if *ids == SAME_IDS && *slots == SAME_SLOTS {
            return;
        }
        let map = |id: &u8| ids.get(usize::from(*id)).copied().unwrap_or(*id);
        self.machine.remap(&Renaming { ids, slots });
        let (kinds, watchers, waits) = (self.kinds, self.watchers, self.waits);
        for (old, new) in ids.iter().enumerate() {
            self.kinds[usize::from(*new)] = kinds[old];
            self.watchers[usize::from(*new)] = watchers[old];
        }
        let completion = self.completion;
        self.completion = Order::default();
        for id in completion.as_slice() {
            self.completion.push(map(id));
        }
        let remap_mask = |mask: u8| (0..MAX_OPS).filter(|i| mask & (1 << i) != 0).fold(0u8, |m, i| m | 1 << ids[i]);
        for (old, w) in waits.iter().enumerate() {
            let mut seen = [None; MAX_OPS];
            for (old_id, new_id) in ids.iter().enumerate() {
                seen[usize::from(*new_id)] = w.seen[old_id];
            }
            self.waits[usize::from(slots[old])] =
                EnvWait { pending: w.pending, ids: remap_mask(w.ids), seen, evicted: remap_mask(w.evicted) };
        }
    }

    /// The canonical renaming of operation ids (old id -> new id) of this
    /// state with its wait slots renamed by `slots`: known operations in
    /// registration order get the lowest ids; forgotten ids follow, ordered
    /// by what pending waits remember of them and where they appear in the
    /// completion feed.
    fn canonical_ids(&self, slots: &[u8; MAX_WAITS]) -> [u8; MAX_OPS] {
        // (out of range, registration position, what waits remember, feed
        // positions, id)
        type Key = (bool, u8, [(bool, bool, Option<OutcomeKind>); MAX_WAITS], u8, u8);
        let mut keys: [Key; MAX_OPS] = [(false, u8::MAX, [(false, false, None); MAX_WAITS], 0, 0); MAX_OPS];
        for (pos, (id, _)) in self.machine.operations().enumerate() {
            if let Some(key) = keys.get_mut(usize::from(*id)) {
                key.1 = u8::try_from(pos).unwrap_or(u8::MAX);
            }
        }
        for (id, key) in keys.iter_mut().enumerate() {
            key.0 = id >= usize::from(self.ops);
            for (old, w) in self.waits.iter().enumerate() {
                key.2[usize::from(slots[old])] = (w.ids & (1 << id) != 0, w.evicted & (1 << id) != 0, w.seen[id]);
            }
            key.4 = u8::try_from(id).unwrap_or(u8::MAX);
        }
        for (pos, entry) in self.machine.feed().entries().enumerate() {
            if let Some(key) = keys.get_mut(usize::from(entry.id)) {
                key.3 |= 1 << pos.min(7);
            }
        }
        // Ids beyond the configuration sort last, in order: only the others
        // move.
        let used = usize::from(self.ops).min(MAX_OPS);
        keys[..used].sort_unstable();
        let mut to = [0u8; MAX_OPS];
        for (new, key) in keys.iter().enumerate() {
            to[usize::from(key.4)] = u8::try_from(new).unwrap_or(u8::MAX);
        }
        to
    }

    /// Turns this state into its symmetry representative (see
    /// [`Representative::representative`]) in place, with `spare` as a
    /// buffer for a second candidate.
    pub fn become_representative(&mut self, spare: &mut ModelState) {
        let slots = usize::from(self.wait_slots).min(MAX_WAITS);
        if slots < 2 || self.waits.iter().all(|w| !w.pending) {
            let ids = self.canonical_ids(&SAME_SLOTS);
            self.rename(&ids, &SAME_SLOTS);
            return;
        }
        let key = |slot: usize| {
            let w = &self.waits[slot];
            let held = w.seen.iter().filter(|s| s.is_some()).count();
            (!w.pending, w.ids.count_ones(), held)
        };
        let mut orders = [[0u8; MAX_WAITS]; 6];
        let mut count = 0;
        for order in SLOT_ORDERS.iter() {
            // `order` maps old slot -> new slot; keep only orders that fix
            // unused slots and sort the used ones by their key.
            let fixes_unused = order.iter().enumerate().skip(slots).all(|(old, new)| usize::from(*new) == old);
            let mut by_new = [0usize; MAX_WAITS];
            for (old, new) in order.iter().enumerate() {
                by_new[usize::from(*new)] = old;
            }
            let sorted = (1..slots).all(|n| key(by_new[n - 1]) <= key(by_new[n]));
            if fixes_unused && sorted {
                orders[count] = *order;
                count += 1;
            }
        }
        let mut renamings = [(SAME_IDS, SAME_SLOTS); 6];
        for (renaming, order) in renamings.iter_mut().zip(&orders[..count]) {
            *renaming = (self.canonical_ids(order), *order);
        }
        let Some(((ids, order), others)) = renamings[..count].split_first() else { return };
        if others.is_empty() {
            self.rename(ids, order);
            return;
        }
        // A fixed seed: the choice must be the same in every thread and run.
        let digest = |state: &ModelState| foldhash::fast::FixedState::with_seed(0x6f70_6c69_6665).hash_one(state);
        // Each candidate is the state as it was, renamed; the one with the
        // least hash is kept in `self`. The last candidate is built in
        // `spare` itself, so two candidates (two wait slots) allocate
        // nothing.
        spare.clone_from(self);
        self.rename(ids, order);
        let mut least = digest(self);
        for (i, (ids, order)) in others.iter().enumerate() {
            let mut copy;
            let candidate = match i + 1 == others.len() {
                true => &mut *spare,
                false => {
                    copy = spare.clone();
                    &mut copy
                }
            };
            candidate.rename(ids, order);
            let hash = digest(candidate);
            if hash < least {
                least = hash;
                std::mem::swap(self, candidate);
            }
        }
    }
}

/// A renaming of operation ids and wait slots (old -> new), applied to the
/// machine's state through its checker hook.
struct Renaming<'a> {
    ids: &'a [u8; MAX_OPS],
    slots: &'a [u8; MAX_WAITS],
}

impl Remap<Tiny> for Renaming<'_> {
    fn op(&self, id: &u8) -> u8 {
        self.ids.get(usize::from(*id)).copied().unwrap_or(*id)
    }
    fn wait(&self, slot: &u8) -> u8 {
        self.slots.get(usize::from(*slot)).copied().unwrap_or(*slot)
    }
    fn rewrites(&self) -> bool {
        false
    }
}

/// The orders of up to three wait slots (old slot -> new slot).
const SLOT_ORDERS: [[u8; MAX_WAITS]; 6] = [[0, 1, 2], [1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0], [2, 0, 1]];
/// The identity renaming of wait slots.
const SAME_SLOTS: [u8; MAX_WAITS] = [0, 1, 2];
/// The identity renaming of operation ids.
const SAME_IDS: [u8; MAX_OPS] = [0, 1, 2, 3, 4, 5];

impl Representative for ModelState {
    /// The canonical renaming of operation ids and wait slots. The model is
    /// symmetric in both: operations are kept in registration order, owner
    /// termination follows it, every action is offered for every id; a wait
    /// begins in the first free slot and any pending one may be dropped. So
    /// any renaming is a sound representative.
    ///
    /// Slots are ordered by what no renaming changes (pending first, then
    /// by how many ops they wait for and how many outcomes they hold); ids
    /// are then renamed canonically. Where slots tie, each order of the tied
    /// slots is tried and the candidate with the least hash is kept, which
    /// is the same for every state of an orbit.
    fn representative(&self) -> Self {
        let mut representative = self.clone();
        representative.become_representative(&mut ModelState::initial(self.ops, self.wait_slots));
        representative
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn hash(value: &impl std::hash::Hash) -> u64 {
        foldhash::fast::FixedState::with_seed(7).hash_one(value)
    }

    #[test]
    fn the_packed_hashes_tell_apart_what_equality_tells_apart() {
        // Every field of a wait slot, each value it can take in a place.
        let mut waits = vec![EnvWait::default()];
        for i in 0..MAX_OPS {
            waits.push(EnvWait { ids: 1 << i, ..EnvWait::default() });
            waits.push(EnvWait { evicted: 1 << i, ..EnvWait::default() });
            for kind in [OutcomeKind::Completed, OutcomeKind::Terminated] {
                let mut seen = [None; MAX_OPS];
                seen[i] = Some(kind);
                waits.push(EnvWait { seen, ..EnvWait::default() });
            }
        }
        waits.push(EnvWait { pending: true, ..EnvWait::default() });
        let hashes: HashSet<u64> = waits.iter().map(hash).collect();
        assert_eq!(hashes.len(), waits.len());

        // The model state's own packed fields, one change each.
        let base = ModelState::initial(3, 2);
        let mut changed = Vec::new();
        for i in 0..MAX_OPS {
            for kind in OperationKind::ALL {
                let mut state = base.clone();
                state.kinds[i] = Some(kind);
                changed.push(state);
            }
            let mut state = base.clone();
            state.watchers[i] = 1;
            changed.push(state);
        }
        for bit in 0..25 {
            let mut state = base.clone();
            state.faults = 1 << bit;
            changed.push(state.clone());
            state.faults = 0;
            state.witnessed = 1 << bit;
            changed.push(state);
        }
        let mut other_slot = base.clone();
        other_slot.waits[1].pending = true;
        changed.push(other_slot);
        let mut fenced = base.clone();
        fenced.fenced = true;
        changed.push(fenced);
        let hashes: HashSet<u64> = changed.iter().chain([&base]).map(hash).collect();
        assert_eq!(hashes.len(), changed.len() + 1);
        assert_eq!(hash(&base), hash(&base.clone()));
    }
}
