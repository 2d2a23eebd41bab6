//! The depth-first search: the same states as the breadth-first one, each
//! fingerprinted into the same seen table, but a thread expands the state
//! it made last. The states waiting to be expanded are then the few along
//! the path each thread follows, kept in buffers it reuses, not a whole
//! level of the search: in the largest configurations a level is gigabytes.

use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use super::breadth_first::CHUNK;
use super::seen::{Inserted, Seen, fingerprint};
use super::{Expand, Exploration, Found, Progress, Stop};

/// States waiting to be expanded that any thread may take, and what the
/// threads are doing.
struct Pool<S> {
    inner: Mutex<Shared<S>>,
    wake: Condvar,
    /// Threads waiting for work (read without the lock by the busy ones).
    hungry: AtomicUsize,
}

struct Shared<S> {
    /// States with the length of the path that made them.
    states: Vec<(S, usize)>,
    /// Threads waiting for work.
    idle: usize,
    /// Threads of this turn.
    threads: usize,
    /// Set when the turn ends: every state is expanded, or the seen table
    /// is crowded. (This search never stops at a violation: it records
    /// every property violated.)
    over: bool,
}

impl<S> Pool<S> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared<S>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves up to a chunk of states into `stack`; false when the turn is
    /// over.
    fn take(&self, stack: &mut Vec<(S, usize)>) -> bool {
        let mut shared = self.lock();
        loop {
            if shared.over {
                return false;
            }
            if !shared.states.is_empty() {
                let from = shared.states.len().saturating_sub(CHUNK);
                stack.extend(shared.states.drain(from..));
                return true;
            }
            shared.idle += 1;
            if shared.idle == shared.threads {
                // Nobody holds a state: every one was expanded.
                shared.over = true;
                self.wake.notify_all();
                return false;
            }
            self.hungry.fetch_add(1, Ordering::Relaxed);
            shared = self.wake.wait(shared).unwrap_or_else(PoisonError::into_inner);
            self.hungry.fetch_sub(1, Ordering::Relaxed);
            shared.idle -= 1;
        }
    }

    /// Hands the older half of `stack` to the threads waiting for work.
    fn give(&self, stack: &mut Vec<(S, usize)>) {
        let half = stack.len() / 2;
        let mut shared = self.lock();
        shared.states.extend(stack.drain(..half));
        self.wake.notify_all();
    }

    /// Ends the turn, leaving `stack` for the next.
    fn end(&self, stack: &mut Vec<(S, usize)>) {
        let mut shared = self.lock();
        shared.states.append(stack);
        shared.over = true;
        self.wake.notify_all();
    }
}

/// One thread's part of a turn: what it made.
struct Share<S> {
    overflow: Vec<(u64, S, usize)>,
    generated: usize,
    deepest: usize,
}

/// Explores every state reachable from `initial` depth first with
/// `threads` threads; see [`super::explore`] for what is checked. `depth`
/// in the result is the longest path a thread followed, not the number of
/// levels.
pub(super) fn explore_depth_first<M>(model: &M, threads: usize, progress: &Progress, places: usize) -> Exploration
where
    M: Expand + Sync,
    M::State: Clone + Hash + Send + Sync,
{
    let mut seen = Seen::with_capacity(places);
    let initial = model.init_states();
    let mut generated = initial.len();
    let threads = threads.max(1);
    let pool = Pool {
        inner: Mutex::new(Shared { states: Vec::new(), idle: 0, threads, over: false }),
        wake: Condvar::new(),
        hungry: AtomicUsize::new(0),
    };
    for state in initial {
        if seen.insert(fingerprint(&state)) == Inserted::New {
            pool.lock().states.push((state, 1));
        }
    }
    let found = Found::of(model, Stop::Never);
    let mut deepest = 0;
    loop {
        {
            let mut shared = pool.lock();
            (shared.idle, shared.over) = (0, false);
        }
        let shares: Vec<Share<M::State>> = std::thread::scope(|scope| {
            let workers: Vec<_> =
                (0..threads).map(|_| scope.spawn(|| follow(model, &pool, &seen, &found, progress))).collect();
            workers.into_iter().map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        let mut overflow = Vec::new();
        for share in shares {
            generated += share.generated;
            deepest = deepest.max(share.deepest);
            overflow.extend(share.overflow);
        }
        let waiting = !pool.lock().states.is_empty();
        if !waiting && overflow.is_empty() && !seen.crowded() {
            break;
        }
        seen.grow(overflow.len());
        let mut shared = pool.lock();
        for (print, state, depth) in overflow {
            if seen.insert(print) == Inserted::New {
                shared.states.push((state, depth));
            }
        }
    }
    progress.unique.store(seen.len(), Ordering::Relaxed);
    found.into_exploration(seen.len(), generated, deepest)
}

/// One thread's turn: expands the state it made last, until no thread has
/// a state left or the seen table is crowded.
fn follow<M>(model: &M, pool: &Pool<M::State>, seen: &Seen, found: &Found<M>, progress: &Progress) -> Share<M::State>
where
    M: Expand,
    M::State: Clone + Hash,
{
    let mut share = Share { overflow: Vec::new(), generated: 0, deepest: 0 };
    // The states to expand, with the length of their path, and buffers of
    // states expanded to copy the next ones into.
    let mut stack: Vec<(M::State, usize)> = Vec::new();
    let mut spare: Vec<M::State> = Vec::new();
    let (mut actions, mut prints) = (Vec::new(), Vec::new());
    let mut expanded = 0usize;
    while pool.take(&mut stack) {
        while let Some((state, depth)) = stack.pop() {
            share.deepest = share.deepest.max(depth);
            found.check(model, &state);
            model.successors(&state, &mut actions, &mut |successors| {
                share.generated += seen.admit(
                    model,
                    successors,
                    &mut prints,
                    |successor| {
                        let copy = match spare.pop() {
                            Some(mut buffer) => {
                                buffer.clone_from(successor);
                                buffer
                            }
                            None => successor.clone(),
                        };
                        stack.push((copy, depth + 1));
                    },
                    |print, successor| share.overflow.push((print, successor.clone(), depth + 1)),
                );
            });
            spare.push(state);
            expanded += 1;
            if expanded.is_multiple_of(1024) {
                progress.unique.store(seen.len(), Ordering::Relaxed);
                progress.longest_path.fetch_max(share.deepest, Ordering::Relaxed);
            }
            if seen.crowded() {
                pool.end(&mut stack);
                return share;
            }
            if pool.hungry.load(Ordering::Relaxed) > 0 && stack.len() > 1 {
                pool.give(&mut stack);
            }
        }
    }
    share
}
