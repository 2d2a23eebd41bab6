//! The seen table: the fingerprint of every state a search has seen, in
//! one flat table of atomics that threads fill without a lock.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use stateright::Model;

/// A state's fingerprint: a fixed-seed hash, never 0 (0 marks an empty
/// place of [`Seen`]).
pub(super) fn fingerprint<S: Hash>(state: &S) -> u64 {
    foldhash::fast::FixedState::with_seed(0x6f70_6c69_6665_6270).hash_one(state).max(1)
}

/// What [`Seen::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Inserted {
    /// The fingerprint is new; it is now in.
    New,
    /// It was already in.
    Seen,
    /// The table had no free place; it is not in.
    Full,
}

/// The fingerprints seen: an open-addressing table of atomics that threads
/// fill without a lock. It only grows while no thread inserts
/// ([`Seen::grow`]); threads stop taking work once it is half full
/// ([`Seen::crowded`]).
pub(super) struct Seen {
    places: Vec<AtomicU64>,
    len: AtomicUsize,
}

impl Seen {
    pub(super) fn with_capacity(places: usize) -> Self {
        Seen { places: (0..places.next_power_of_two()).map(|_| AtomicU64::new(0)).collect(), len: AtomicUsize::new(0) }
    }

    pub(super) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the table is half full: time to grow it.
    pub(super) fn crowded(&self) -> bool {
        self.len().saturating_mul(2) >= self.places.len()
    }

    /// Reads the place where each of `prints` would go first, so that the
    /// reads of [`Seen::insert`] find them in the cache.
    fn touch(&self, prints: impl Iterator<Item = u64>) {
        let mask = self.places.len().saturating_sub(1);
        let mut any = 0;
        for print in prints {
            any |= self.places.get(print as usize & mask).map_or(0, |place| place.load(Ordering::Relaxed));
        }
        std::hint::black_box(any);
    }

    /// Inserts the fingerprint of each of `successors` within the model's
    /// boundary, calling `new` with each not seen before and `full` with
    /// each that found the table full (and its fingerprint); returns how
    /// many were within the boundary. `prints` is a buffer.
    ///
    /// Every fingerprint is taken first, and the place each would take is
    /// read, none waiting for another: in a table larger than the caches
    /// each read is a miss, and so they overlap instead of coming one at a
    /// time.
    pub(super) fn admit<M: Model>(
        &self,
        model: &M,
        successors: &[M::State],
        prints: &mut Vec<Option<u64>>,
        mut new: impl FnMut(&M::State),
        mut full: impl FnMut(u64, &M::State),
    ) -> usize
    where
        M::State: Hash,
    {
        prints.clear();
        prints.extend(successors.iter().map(|s| model.within_boundary(s).then(|| fingerprint(s))));
        self.touch(prints.iter().flatten().copied());
        let mut within = 0;
        for (successor, print) in successors.iter().zip(prints.iter()) {
            let Some(print) = *print else { continue };
            within += 1;
            match self.insert(print) {
                Inserted::New => new(successor),
                Inserted::Seen => {}
                Inserted::Full => full(print, successor),
            }
        }
        within
    }

    /// Inserts `print` (never 0).
    pub(super) fn insert(&self, print: u64) -> Inserted {
        let mask = self.places.len().saturating_sub(1);
        let mut at = print as usize & mask;
        for _ in 0..self.places.len() {
            let Some(place) = self.places.get(at) else { break };
            // Most successors were seen: a load answers them without taking
            // the place's cache line from the other threads.
            match place.load(Ordering::Relaxed) {
                held if held == print => return Inserted::Seen,
                0 => {}
                _ => {
                    at = (at + 1) & mask;
                    continue;
                }
            }
            match place.compare_exchange(0, print, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    self.len.fetch_add(1, Ordering::Relaxed);
                    return Inserted::New;
                }
                Err(held) if held == print => return Inserted::Seen,
                Err(_) => at = (at + 1) & mask,
            }
        }
        Inserted::Full
    }

    /// Doubles the table, and more until `more` insertions leave it less
    /// than half full.
    pub(super) fn grow(&mut self, more: usize) {
        let mut places = self.places.len().saturating_mul(2);
        while self.len().saturating_add(more).saturating_mul(2) >= places {
            places = places.saturating_mul(2);
        }
        let old = std::mem::replace(self, Seen::with_capacity(places));
        for place in old.places {
            let print = place.into_inner();
            if print != 0 {
                self.insert(print);
            }
        }
    }
}
