//! The breadth-first search: one level at a time, each level a list of
//! chunks that threads take whole.

use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use super::seen::{Inserted, Seen, fingerprint};
use super::{Done, Expand, Exploration, Found, Progress};

/// [`super::explore`] with a seen table of `places` places to start with,
/// checking and stopping as `found` says.
pub(super) fn explore_breadth_first<M>(
    model: &M,
    threads: usize,
    progress: &Progress,
    places: usize,
    found: Found<M>,
) -> Exploration
where
    M: Expand + Sync,
    M::State: Clone + Hash + Send + Sync,
{
    let _done = Done(&progress.done);
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
    let mut depth = 0;
    while !level.is_empty() && !found.stopped() {
        depth += 1;
        progress.depth.store(depth, Ordering::Relaxed);
        let cursor = AtomicUsize::new(0);
        let mut next = Vec::new();
        loop {
            let shares: Vec<Share<M::State>> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads.max(1))
                    .map(|_| {
                        scope.spawn(|| expand(model, Level { chunks: &level, taken: &cursor }, &seen, &found, progress))
                    })
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
    found.into_exploration(seen.len(), generated, depth)
}

/// How many states a thread takes from a level at a time.
pub(super) const CHUNK: usize = 64;

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

/// A level being expanded: its chunks, and how many the threads took.
struct Level<'a, S> {
    chunks: &'a Chunks<S>,
    taken: &'a AtomicUsize,
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
    level: Level<'_, M::State>,
    seen: &Seen,
    found: &Found<M>,
    progress: &Progress,
) -> Share<M::State>
where
    M: Expand,
    M::State: Clone + Hash,
{
    let mut share = Share { next: Vec::new(), overflow: Vec::new(), generated: 0 };
    let (mut actions, mut filling, mut prints) = (Vec::new(), Vec::with_capacity(CHUNK), Vec::new());
    while !seen.crowded() && !found.stopped() {
        let Some(taken) = level.chunks.get(level.taken.fetch_add(1, Ordering::Relaxed)) else { break };
        let chunk = std::mem::take(&mut *taken.lock().unwrap_or_else(PoisonError::into_inner));
        for state in chunk {
            if found.stopped() {
                break;
            }
            found.check(model, &state);
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
