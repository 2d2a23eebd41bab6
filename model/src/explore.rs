//! The exhaustive searches `check` runs over the states of a
//! [`stateright::Model`], keeping only a fingerprint of each state they have
//! seen: breadth first, one level at a time ([`explore`]), or depth first
//! ([`explore_depth_first`], the default of `check`).
//!
//! stateright's breadth-first checker does the same search; this one does
//! not copy the path to every successor (each pending state of stateright's
//! carries the list of actions that led to it), and keeps its seen set in
//! one flat table of fingerprints that threads fill without a lock.
//! Counterexamples are still found and shortened by stateright (see
//! [`crate::check::shortest_counterexample`]).

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use stateright::{Expectation, Model, Property};

mod depth_first;

/// What an exploration found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exploration {
    /// Unique states (fingerprints) seen, the initial ones included.
    pub unique: usize,
    /// States generated, duplicates included: the initial ones and every
    /// successor.
    pub generated: usize,
    /// Levels explored: the longest shortest path from an initial state,
    /// plus one.
    pub depth: usize,
    /// The `always` properties some reachable state violates.
    pub violated: BTreeSet<&'static str>,
}

/// How far along an exploration is, for a progress line.
#[derive(Debug, Default)]
pub struct Progress {
    /// Unique states seen so far.
    pub unique: AtomicUsize,
    /// The level being expanded (breadth first).
    pub depth: AtomicUsize,
    /// The longest path followed so far (depth first).
    pub longest_path: AtomicUsize,
    /// Set when the exploration is over.
    pub done: AtomicBool,
}

/// A model the search expands one state at a time: the successors are
/// handed over by reference, together, so a model can build them in
/// buffers it keeps, and the search looks them all up in its table at once
/// and copies only those it keeps.
pub trait Expand: Model {
    /// Calls `each` with the successors of `state`, in the order of its
    /// actions, in one or more slices: the states `next_state` returns for
    /// them (`actions` is a buffer). The default asks `actions` and
    /// `next_state`, and hands all the successors over in one slice.
    fn successors(&self, state: &Self::State, actions: &mut Vec<Self::Action>, each: &mut dyn FnMut(&[Self::State])) {
        actions.clear();
        self.actions(state, actions);
        let successors: Vec<Self::State> =
            actions.drain(..).filter_map(|action| self.next_state(state, action)).collect();
        each(&successors);
    }
}

/// Explores every state of `model` reachable from its initial states with
/// `threads` threads, checking its `always` properties on each, and
/// reporting into `progress` as it goes (`done` is set when it returns).
///
/// ```
/// use oplife_model::explore::{Expand, Progress, explore};
/// use stateright::{Model, Property};
///
/// /// A counter that wraps around at 10.
/// struct Counter;
///
/// impl Model for Counter {
///     type State = u8;
///     type Action = ();
///     fn init_states(&self) -> Vec<u8> {
///         vec![0]
///     }
///     fn actions(&self, _: &u8, actions: &mut Vec<()>) {
///         actions.push(());
///     }
///     fn next_state(&self, n: &u8, _: ()) -> Option<u8> {
///         Some((n + 1) % 10)
///     }
///     fn properties(&self) -> Vec<Property<Self>> {
///         vec![Property::always("below 10", |_, n| *n < 10), Property::always("below 5", |_, n| *n < 5)]
///     }
/// }
///
/// // The default hook asks `actions` and `next_state`.
/// impl Expand for Counter {}
///
/// let found = explore(&Counter, 2, &Progress::default());
/// assert_eq!((found.unique, found.generated), (10, 11));
/// assert_eq!(found.violated.into_iter().collect::<Vec<_>>(), ["below 5"]);
/// ```
pub fn explore<M>(model: &M, threads: usize, progress: &Progress) -> Exploration
where
    M: Expand + Sync,
    M::State: Clone + Hash + Send + Sync,
{
    explore_from(model, threads, progress, 1 << 16, false)
}

/// Like [`explore`], depth first: each thread expands the state it made
/// last (see the module `depth_first`). The same states are reached and
/// checked; `depth` is the longest path a thread followed.
pub fn explore_depth_first<M>(model: &M, threads: usize, progress: &Progress) -> Exploration
where
    M: Expand + Sync,
    M::State: Clone + Hash + Send + Sync,
{
    let _done = Done(&progress.done);
    depth_first::explore_depth_first(model, threads, progress, 1 << 16)
}

/// Like [`explore`], but stops at the first state that violates an
/// `always` property, once the properties of that state are all checked:
/// `violated` then names what it violates (with one thread, the same every
/// run), and `unique`, `generated` and `depth` count the search up to it.
/// The mutant catalogue asks only whether a table is caught, and by what.
pub fn explore_until_violated<M>(model: &M, threads: usize, progress: &Progress) -> Exploration
where
    M: Expand + Sync,
    M::State: Clone + Hash + Send + Sync,
{
    explore_from(model, threads, progress, 1 << 12, true)
}

/// Sets a progress's `done` when dropped, unwinding included.
struct Done<'a>(&'a AtomicBool);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// [`explore`] with a seen table of `places` places to start with.
fn explore_from<M>(
    model: &M,
    threads: usize,
    progress: &Progress,
    places: usize,
    stop_at_violation: bool,
) -> Exploration
where
    M: Expand + Sync,
    M::State: Clone + Hash + Send + Sync,
{
    let _done = Done(&progress.done);
    let always: Vec<Property<M>> =
        model.properties().into_iter().filter(|p| p.expectation == Expectation::Always).collect();
    let mut seen = Seen::with_capacity(places);
    let initial = model.init_states();
    let mut generated = initial.len();
    let mut fresh = Vec::new();
    for state in initial {
        if seen.insert(fingerprint(&state)) == Inserted::New {
            fresh.push(state);
        }
    }
    // A level is a list of chunks; a thread takes a chunk out whole, so
    // each state is dropped once expanded.
    let mut level = chunked(fresh);
    let found = Found { violated: Mutex::new(BTreeSet::new()), stop_at_violation, stopped: AtomicBool::new(false) };
    let mut depth = 0;
    while !level.is_empty() && !found.stopped() {
        depth += 1;
        progress.depth.store(depth, Ordering::Relaxed);
        let cursor = AtomicUsize::new(0);
        let mut next = Vec::new();
        loop {
            let shares: Vec<Share<M::State>> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads.max(1))
                    .map(|_| scope.spawn(|| expand(model, &always, &level, &cursor, &seen, &found, progress)))
                    .collect();
                workers.into_iter().map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
            });
            let mut overflow = Vec::new();
            for share in shares {
                generated += share.generated;
                next.extend(share.next);
                overflow.extend(share.overflow);
            }
            if found.stopped()
                || cursor.load(Ordering::Relaxed) >= level.len() && overflow.is_empty() && !seen.crowded()
            {
                break;
            }
            // The table filled up while the threads inserted: it grows
            // between their turns, then takes what did not fit, and the
            // threads go on with the chunks no one took.
            seen.grow(overflow.len());
            let fitted = overflow.into_iter().filter(|(print, _)| seen.insert(*print) == Inserted::New);
            next.extend(chunked(fitted.map(|(_, state)| state).collect()));
            if cursor.load(Ordering::Relaxed) >= level.len() {
                break;
            }
        }
        level = next;
    }
    progress.unique.store(seen.len(), Ordering::Relaxed);
    Exploration {
        unique: seen.len(),
        generated,
        depth,
        violated: found.violated.into_inner().unwrap_or_else(PoisonError::into_inner),
    }
}

/// How many states a thread takes from a level at a time.
const CHUNK: usize = 64;

/// A level's chunks.
type Chunks<S> = Vec<Mutex<Vec<S>>>;

/// `states` in chunks of [`CHUNK`].
fn chunked<S>(states: Vec<S>) -> Chunks<S> {
    let mut chunks: Vec<Vec<S>> = Vec::new();
    for state in states {
        match chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(state),
            _ => chunks.push(vec![state]),
        }
    }
    chunks.into_iter().map(Mutex::new).collect()
}

/// The properties found violated, and whether the search stops at the
/// first.
struct Found {
    violated: Mutex<BTreeSet<&'static str>>,
    stop_at_violation: bool,
    stopped: AtomicBool,
}

impl Found {
    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Checks the `always` properties on `state`, recording those it
    /// violates (and stopping the search, if it stops at the first).
    fn check<M: Model>(&self, model: &M, always: &[Property<M>], state: &M::State) {
        for property in always {
            if !(property.condition)(model, state) {
                self.violated.lock().unwrap_or_else(PoisonError::into_inner).insert(property.name);
                if self.stop_at_violation {
                    self.stopped.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

/// What one thread's turn at a level gave.
struct Share<S> {
    /// Successors not seen before, in chunks.
    next: Chunks<S>,
    /// Successors (with their fingerprint) that found the table full.
    overflow: Vec<(u64, S)>,
    /// Successors made.
    generated: usize,
}

/// One thread's turn at a level: takes a chunk of states at a time while
/// any is left and the seen table has room, checks each state and expands
/// it.
fn expand<M>(
    model: &M,
    always: &[Property<M>],
    level: &Chunks<M::State>,
    cursor: &AtomicUsize,
    seen: &Seen,
    found: &Found,
    progress: &Progress,
) -> Share<M::State>
where
    M: Expand,
    M::State: Clone + Hash,
{
    let mut share = Share { next: Vec::new(), overflow: Vec::new(), generated: 0 };
    let (mut actions, mut filling, mut prints) = (Vec::new(), Vec::with_capacity(CHUNK), Vec::new());
    while !seen.crowded() && !found.stopped() {
        let Some(taken) = level.get(cursor.fetch_add(1, Ordering::Relaxed)) else { break };
        let chunk = std::mem::take(&mut *taken.lock().unwrap_or_else(PoisonError::into_inner));
        for state in chunk {
            if found.stopped() {
                break;
            }
            found.check(model, always, &state);
            if found.stopped() {
                break;
            }
            model.successors(&state, &mut actions, &mut |successors| {
                share.generated += seen.admit(
                    model,
                    successors,
                    &mut prints,
                    |successor| {
                        filling.push(successor.clone());
                        if filling.len() == CHUNK {
                            share.next.push(Mutex::new(std::mem::replace(&mut filling, Vec::with_capacity(CHUNK))));
                        }
                    },
                    |print, successor| share.overflow.push((print, successor.clone())),
                );
            });
        }
        progress.unique.store(seen.len(), Ordering::Relaxed);
    }
    if !filling.is_empty() {
        share.next.push(Mutex::new(filling));
    }
    share
}

/// A state's fingerprint: a fixed-seed hash, never 0 (0 marks an empty
/// place of [`Seen`]).
fn fingerprint<S: Hash>(state: &S) -> u64 {
    foldhash::fast::FixedState::with_seed(0x6f70_6c69_6665_6270).hash_one(state).max(1)
}

/// What [`Seen::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inserted {
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
struct Seen {
    places: Vec<AtomicU64>,
    len: AtomicUsize,
}

impl Seen {
    fn with_capacity(places: usize) -> Self {
        Seen { places: (0..places.next_power_of_two()).map(|_| AtomicU64::new(0)).collect(), len: AtomicUsize::new(0) }
    }

    fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the table is half full: time to grow it.
    fn crowded(&self) -> bool {
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
    fn admit<M: Model>(
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
    fn insert(&self, print: u64) -> Inserted {
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
    fn grow(&mut self, more: usize) {
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

/// How often [`report_progress`] prints.
const EVERY: Duration = Duration::from_secs(1);

/// Prints a progress line to stderr every second until `progress` is done.
/// It waits parked: whoever sets `done` should unpark its thread, and it
/// returns at once instead of at the end of its second.
pub fn report_progress(progress: &Progress) {
    let mut last = (Instant::now(), 0usize);
    while !progress.done.load(Ordering::Relaxed) {
        std::thread::park_timeout(EVERY.saturating_sub(last.0.elapsed()));
        if !progress.done.load(Ordering::Relaxed) && last.0.elapsed() >= EVERY {
            let unique = progress.unique.load(Ordering::Relaxed);
            let rate = unique.saturating_sub(last.1) as f64 / last.0.elapsed().as_secs_f64();
            match progress.longest_path.load(Ordering::Relaxed) {
                0 => {
                    eprintln!("  {unique} unique states, {rate:.0}/s, depth {}", progress.depth.load(Ordering::Relaxed))
                }
                path => eprintln!("  {unique} unique states, {rate:.0}/s, longest path {path}"),
            }
            last = (Instant::now(), unique);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid of `SIDE` × `SIDE` points: from (x, y) a step goes right, up,
    /// or back to the origin (so the graph has cycles).
    struct Grid;

    const SIDE: u8 = 200;

    impl Expand for Grid {}

    impl Model for Grid {
        type State = (u8, u8);
        type Action = u8;
        fn init_states(&self) -> Vec<(u8, u8)> {
            vec![(0, 0)]
        }
        fn actions(&self, _: &(u8, u8), actions: &mut Vec<u8>) {
            actions.extend([0, 1, 2]);
        }
        fn next_state(&self, &(x, y): &(u8, u8), action: u8) -> Option<(u8, u8)> {
            match action {
                0 => (x + 1 < SIDE).then_some((x + 1, y)),
                1 => (y + 1 < SIDE).then_some((x, y + 1)),
                _ => Some((0, 0)),
            }
        }
        fn properties(&self) -> Vec<Property<Self>> {
            vec![
                Property::always("inside", |_, &(x, y)| x < SIDE && y < SIDE),
                Property::always("not the far corner", |_, &(x, y)| (x, y) != (SIDE - 1, SIDE - 1)),
                Property::sometimes("ignored", |_, _| false),
            ]
        }
    }

    #[test]
    fn every_point_is_seen_once_whatever_the_table_and_threads() {
        let side = usize::from(SIDE);
        let expected = Exploration {
            unique: side * side,
            // The origin, then from every point: back to the origin, and
            // right and up unless at the edge.
            generated: 1 + side * side + 2 * side * (side - 1),
            depth: 2 * side - 1,
            violated: BTreeSet::from(["not the far corner"]),
        };
        // 16 places to start with: the table fills and grows many times
        // while threads insert, and successors that found it full are
        // taken in after it grew.
        for (threads, places) in [(1, 1 << 16), (2, 1 << 16), (1, 16), (2, 16), (3, 16)] {
            let progress = Progress::default();
            assert_eq!(
                explore_from(&Grid, threads, &progress, places, false),
                expected,
                "{threads} threads, {places} places"
            );
            assert!(progress.done.load(Ordering::Relaxed));
            assert_eq!(progress.unique.load(Ordering::Relaxed), side * side);
        }
    }

    #[test]
    fn depth_first_sees_every_point_once_whatever_the_table_and_threads() {
        let side = usize::from(SIDE);
        for (threads, places) in [(1, 1 << 16), (2, 1 << 16), (1, 16), (2, 16), (3, 16)] {
            let progress = Progress::default();
            let found = depth_first::explore_depth_first(&Grid, threads, &progress, places);
            assert_eq!(found.unique, side * side, "{threads} threads, {places} places");
            assert_eq!(found.generated, 1 + side * side + 2 * side * (side - 1), "{threads} threads, {places} places");
            assert_eq!(found.violated, BTreeSet::from(["not the far corner"]));
            // A path along the edge and up reaches the far corner in as many
            // steps as breadth first; depth first goes no shorter.
            assert!(found.depth >= 2 * side - 1, "{} with {threads} threads", found.depth);
            assert_eq!(progress.unique.load(Ordering::Relaxed), side * side);
        }
        // One state whose thousand successors find a table of 16 places full.
        for threads in [1, 2] {
            let explored = depth_first::explore_depth_first(&Fan, threads, &Progress::default(), 16);
            assert_eq!((explored.unique, explored.generated, explored.depth), (1001, 1001, 2));
        }
        let progress = Progress::default();
        assert_eq!(
            explore_depth_first(&Line, 2, &progress).violated,
            BTreeSet::from(["below ten", "below five hundred"])
        );
        assert!(progress.done.load(Ordering::Relaxed));
    }

    /// A line of a thousand states, the eleventh of which breaks a rule.
    struct Line;

    impl Expand for Line {}

    impl Model for Line {
        type State = u16;
        type Action = ();
        fn init_states(&self) -> Vec<u16> {
            vec![0]
        }
        fn actions(&self, _: &u16, actions: &mut Vec<()>) {
            actions.push(());
        }
        fn next_state(&self, state: &u16, (): ()) -> Option<u16> {
            (*state < 999).then_some(state + 1)
        }
        fn properties(&self) -> Vec<Property<Self>> {
            vec![
                Property::always("below ten", |_, state| *state < 10),
                Property::always("below five hundred", |_, state| *state < 500),
            ]
        }
    }

    #[test]
    fn the_search_for_a_violation_stops_at_the_first() {
        for threads in [1, 2] {
            let found = explore_until_violated(&Line, threads, &Progress::default());
            assert_eq!(found.violated, BTreeSet::from(["below ten"]));
            // Level 11 holds state 10: its properties are checked, and it
            // is not expanded.
            assert_eq!((found.unique, found.depth), (11, 11), "{threads} threads");
            let all = explore(&Line, threads, &Progress::default());
            assert_eq!(all.violated, BTreeSet::from(["below ten", "below five hundred"]));
            assert_eq!(all.unique, 1000);
        }
    }

    /// One state with a thousand successors, each with none.
    struct Fan;

    impl Expand for Fan {}

    impl Model for Fan {
        type State = u16;
        type Action = u16;
        fn init_states(&self) -> Vec<u16> {
            vec![0]
        }
        fn actions(&self, state: &u16, actions: &mut Vec<u16>) {
            if *state == 0 {
                actions.extend(1..=1000);
            }
        }
        fn next_state(&self, _: &u16, action: u16) -> Option<u16> {
            Some(action)
        }
    }

    #[test]
    fn successors_that_find_the_table_full_are_taken_in_after_it_grows() {
        // 16 places: the one state of the first level fills the table.
        for threads in [1, 2] {
            let explored = explore_from(&Fan, threads, &Progress::default(), 16, false);
            assert_eq!((explored.unique, explored.generated, explored.depth), (1001, 1001, 2));
        }
    }

    #[test]
    fn the_seen_table_reports_full_instead_of_looping() {
        let seen = Seen::with_capacity(4);
        let inserted: Vec<Inserted> = (1..=5).map(|print| seen.insert(print)).collect();
        assert_eq!(inserted, [Inserted::New, Inserted::New, Inserted::New, Inserted::New, Inserted::Full]);
        assert_eq!(seen.insert(3), Inserted::Seen);
        assert!(seen.crowded());
    }
}
