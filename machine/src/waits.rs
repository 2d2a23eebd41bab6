//! Pending wait requests: each keeps the outcome of every operation it
//! waits for, captured when that operation ended.

use crate::outcome::{Domain, SharedOutcome};

/// A pending wait request.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Wait<D: Domain> {
    /// Each operation waited for, in the order asked, with the outcome
    /// captured when it ended.
    pub(crate) entries: Vec<(D::OpId, Option<SharedOutcome<D>>)>,
    /// How many entries still have no outcome.
    pub(crate) remaining: u32,
    /// The run the wait belongs to, reported back when it is satisfied.
    pub(crate) run: D::RunId,
}

/// A pending wait with its request id: an entry of [`Waits`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct PendingWait<D: Domain> {
    pub(crate) id: D::WaitId,
    pub(crate) wait: Wait<D>,
}

/// The pending waits, sorted by request id (a map with binary-search
/// lookup). Runtimes hold few waits at once, so a sorted list beats a tree.
/// Its hash
/// and equality are those of a map: the entries in id order.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Waits<D: Domain> {
    pub(crate) sorted: Vec<PendingWait<D>>,
}

clone_by_field!(Wait { entries, remaining, run });
clone_by_field!(PendingWait { id, wait });
clone_by_field!(Waits { sorted });

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
    pub fn entries(&self) -> &[(D::OpId, Option<SharedOutcome<D>>)] {
        &self.entries
    }
    /// How many operations have not ended yet.
    pub fn remaining(&self) -> u32 {
        self.remaining
    }
    /// The run the wait belongs to.
    pub fn run(&self) -> &D::RunId {
        &self.run
    }
}
