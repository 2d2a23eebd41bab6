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
//!
//! The seen table keeps 64-bit fingerprints, not states: two distinct
//! states with the same fingerprint would make the search skip the second
//! one. With `n` states that happens with probability at most about
//! `n² / 2⁶⁵` (for the default suite's largest configuration, 422,188
//! classes, below 5 · 10⁻⁹); `check` prints the bound for every search.
//!
//! - [`seen`](self) table: `seen.rs`; breadth first: `breadth_first.rs`;
//!   depth first: `depth_first.rs`.

use std::collections::BTreeSet;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use stateright::{Expectation, Model, Property};

use breadth_first::explore_breadth_first;

mod breadth_first;
mod depth_first;
mod seen;
#[cfg(test)]
mod tests;

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
    /// The `sometimes` properties some reachable state shows.
    pub reached: BTreeSet<&'static str>,
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
/// use oplife_model::engine::{Expand, Progress, explore};
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
    explore_breadth_first(model, threads, progress, 1 << 16, Found::of(model, Stop::Never))
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

/// Like [`explore`], looking for a state showing each `sometimes` property
/// named in `wanted` instead of checking the `always` ones, and stopping
/// once each was seen: `reached` names those shown. One missing from it
/// after the search is shown by no reachable state (up to the fingerprint
/// bound of the module docs).
pub fn explore_for_examples<M>(
    model: &M,
    wanted: &BTreeSet<&'static str>,
    threads: usize,
    progress: &Progress,
) -> Exploration
where
    M: Expand + Sync,
    M::State: Clone + Hash + Send + Sync,
{
    let examples = model
        .properties()
        .into_iter()
        .filter(|p| p.expectation == Expectation::Sometimes && wanted.contains(p.name))
        .collect();
    explore_breadth_first(model, threads, progress, 1 << 16, Found::new(examples, Stop::OnceEveryExampleIsFound))
}

/// The probability bound of a fingerprint collision among `states`
/// distinct states, `n² / 2⁶⁵` (see the module docs).
pub fn collision_bound(states: usize) -> f64 {
    let n = states as f64;
    n * n / 2f64.powi(65)
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
    explore_breadth_first(model, threads, progress, 1 << 12, Found::of(model, Stop::AtFirstViolation))
}

/// Sets a progress's `done` when dropped, unwinding included.
struct Done<'a>(&'a AtomicBool);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// When a search stops before it has seen every state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Never: every reachable state is seen.
    Never,
    /// At the first state that violates an `always` property.
    AtFirstViolation,
    /// Once a state showing each `sometimes` property was seen.
    OnceEveryExampleIsFound,
}

/// The properties a search checks, what it found, and whether it stops.
struct Found<M: Model> {
    properties: Vec<Property<M>>,
    violated: Mutex<BTreeSet<&'static str>>,
    reached: Mutex<BTreeSet<&'static str>>,
    /// One bit per `sometimes` property not shown yet (by its position in
    /// `properties`; beyond 64 properties, every one is looked at every
    /// time): read without the lock.
    missing: AtomicU64,
    stop: Stop,
    stopped: AtomicBool,
}

impl<M: Model> Found<M> {
    /// The model's `always` and `sometimes` properties, nothing found yet.
    fn of(model: &M, stop: Stop) -> Self {
        Self::new(model.properties(), stop)
    }

    /// `properties` (`eventually` ones aside), nothing found yet.
    fn new(mut properties: Vec<Property<M>>, stop: Stop) -> Self {
        properties.retain(|p| p.expectation != Expectation::Eventually);
        let missing = properties
            .iter()
            .enumerate()
            .filter(|(_, p)| p.expectation == Expectation::Sometimes)
            .fold(0u64, |bits, (at, _)| bits | 1u64.checked_shl(at as u32).unwrap_or(0));
        let stopped = AtomicBool::new(stop == Stop::OnceEveryExampleIsFound && missing == 0);
        Found {
            properties,
            violated: Mutex::default(),
            reached: Mutex::default(),
            missing: AtomicU64::new(missing),
            stop,
            stopped,
        }
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Checks the properties on `state`, recording the `always` ones it
    /// violates and the `sometimes` ones it shows (and stopping the search
    /// when its `Stop` says so).
    fn check(&self, model: &M, state: &M::State) {
        for (at, property) in self.properties.iter().enumerate() {
            match property.expectation {
                Expectation::Always if !(property.condition)(model, state) => {
                    self.violated.lock().unwrap_or_else(PoisonError::into_inner).insert(property.name);
                    if self.stop == Stop::AtFirstViolation {
                        self.stopped.store(true, Ordering::Relaxed);
                    }
                }
                Expectation::Sometimes => {
                    let bit = 1u64.checked_shl(at as u32).unwrap_or(0);
                    let wanted = bit == 0 || self.missing.load(Ordering::Relaxed) & bit != 0;
                    if wanted && (property.condition)(model, state) {
                        self.reached.lock().unwrap_or_else(PoisonError::into_inner).insert(property.name);
                        let left = self.missing.fetch_and(!bit, Ordering::Relaxed) & !bit;
                        if left == 0 && self.stop == Stop::OnceEveryExampleIsFound {
                            self.stopped.store(true, Ordering::Relaxed);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// What the search found, with its figures.
    fn into_exploration(self, unique: usize, generated: usize, depth: usize) -> Exploration {
        Exploration {
            unique,
            generated,
            depth,
            violated: self.violated.into_inner().unwrap_or_else(PoisonError::into_inner),
            reached: self.reached.into_inner().unwrap_or_else(PoisonError::into_inner),
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
