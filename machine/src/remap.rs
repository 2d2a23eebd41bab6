//! The one hook model checkers need, behind the `remap` feature (off by
//! default; only `oplife-model` turns it on). Runtimes never see it.
//!
//! A checker explores states up to renaming and keeps its state space finite
//! by forgetting what no property reads any more. Both are maps over the
//! payloads of a state that the machine never decides on: ids are only
//! compared for equality and order, sequence numbers only for their
//! differences, feed entries and captured outcomes are only handed over.
//! [`State::remap`] applies such a map in place, allocating nothing.

use crate::feed::FeedEntry;
use crate::outcome::{Domain, SharedOutcome};
use crate::state::State;

/// A map over the payloads of a [`State`]. Each method has an identity
/// default; the caller must keep the map a renaming:
/// - `op` and `wait` are bijections;
/// - `seq` preserves differences (a shift);
/// - `feed_entry` and `captured` may rewrite content, which the machine never
///   reads back (the checker has already checked it).
pub trait Remap<D: Domain> {
    /// The new name of an operation id.
    fn op(&self, id: &D::OpId) -> D::OpId {
        id.clone()
    }
    /// The new name of a wait request id.
    fn wait(&self, id: &D::WaitId) -> D::WaitId {
        id.clone()
    }
    /// Whether `op` and `wait` are the identity (the renaming pass is then
    /// skipped).
    fn renames(&self) -> bool {
        true
    }
    /// Whether `seq`, `feed_entry` and `captured` change anything (the
    /// content pass is then run).
    fn rewrites(&self) -> bool {
        true
    }
    /// The new number of a feed sequence number (the watermark included).
    fn seq(&self, seq: u64) -> u64 {
        seq
    }
    /// Rewrites a feed entry's id, kind or outcome (after `op` renamed it;
    /// its sequence number is kept).
    fn feed_entry(&self, _entry: &mut FeedEntry<D>) {}
    /// Rewrites an outcome a pending wait captured.
    fn captured(&self, _outcome: &mut SharedOutcome<D>) {}
}

impl<D: Domain> State<D> {
    /// Applies `map` to every operation id, wait id, feed sequence number,
    /// feed entry and captured outcome, keeping every order the machine
    /// keeps (registration, completion, each operation's waits in wait-id
    /// order, the pending waits sorted by id). The places forgotten
    /// operations left are dropped on the way (they are representation
    /// only): a checker copies every state it makes, and the places only
    /// make the copy longer.
    #[cfg_attr(docsrs, doc(cfg(feature = "remap")))]
    pub fn remap(&mut self, map: &impl Remap<D>) {
        if self.ops.slots.len() != self.ops.len() {
            self.ops.slots.retain(Option::is_some);
            if !map.renames() {
                self.ops.rebuild_index();
            }
        }
        if map.renames() {
            for slot in self.ops.slots.iter_mut().flatten() {
                slot.id = map.op(&slot.id);
                for (wait, _) in &mut slot.op.waiters {
                    *wait = map.wait(wait);
                }
                slot.op.waiters.sort_by(|a, b| a.0.cmp(&b.0));
            }
            self.ops.rebuild_index();
            for id in &mut self.retained {
                *id = map.op(id);
            }
            for pending in &mut self.waits.sorted {
                pending.id = map.wait(&pending.id);
                for (id, _) in &mut pending.wait.entries {
                    *id = map.op(id);
                }
            }
            self.waits.sorted.sort_by(|a, b| a.id.cmp(&b.id));
        }
        if map.renames() {
            for entry in &mut self.feed.entries {
                entry.id = map.op(&entry.id);
            }
        }
        if !map.rewrites() {
            return;
        }
        for pending in &mut self.waits.sorted {
            for outcome in pending.wait.entries.iter_mut().filter_map(|(_, captured)| captured.as_mut()) {
                map.captured(outcome);
            }
        }
        self.feed.watermark = map.seq(self.feed.watermark);
        for entry in &mut self.feed.entries {
            let seq = map.seq(entry.seq);
            map.feed_entry(entry);
            entry.seq = seq;
        }
    }
}
