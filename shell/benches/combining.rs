//! A design question for S2, answered by measurement: does batching calls
//! per lock acquisition (flat combining) let two threads beat one?
//!
//! Both sides keep the floor's bookkeeping for S1 (a map of records, the
//! completion order, eviction past 256 retained) and run register → start →
//! complete from one and from two threads, alternating, median of 7 rounds:
//!
//! - **one lock**: each call takes a `Mutex` and applies itself;
//! - **combining**: each call is published in its thread's slot; whoever
//!   gets the lock applies every published call, its own included, and the
//!   others wait on their slot's flag (spinning, then yielding).
//!
//! Run with `cargo bench -p oplife-shell --bench combining`. The registry
//! keeps one lock: on this 2-core machine combining was slower for one
//! thread and for two (README, "Benchmark").

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oplife_shell::{OperationId, OperationResult, OperationStatus, OperationTerminalOutcome, SharedTerminalOutcome};

/// The most threads a combining lock serves (one slot each).
const SLOTS: usize = 2;

struct Record {
    _display_name: String,
    status: OperationStatus,
    outcome: Option<SharedTerminalOutcome>,
}

/// One call of the scenario.
enum Call {
    Register(OperationId, String),
    Start(OperationId),
    Complete(OperationResult),
}

#[derive(Default)]
struct Bookkeeping {
    records: HashMap<OperationId, Record>,
    completed: VecDeque<OperationId>,
}

impl Bookkeeping {
    fn apply(&mut self, call: Call) {
        match call {
            Call::Register(id, display_name) => {
                let record =
                    Record { _display_name: display_name, status: OperationStatus::Provisioning, outcome: None };
                assert!(self.records.insert(id, record).is_none());
            }
            Call::Start(id) => self.records.get_mut(&id).unwrap().status = OperationStatus::Running,
            Call::Complete(result) => {
                let id = result.id;
                let record = self.records.get_mut(&id).unwrap();
                record.status = OperationStatus::Completed;
                record.outcome = Some(Arc::new(OperationTerminalOutcome::Completed(result)));
                self.completed.push_back(id);
                while self.completed.len() > 256 {
                    let oldest = self.completed.pop_front().unwrap();
                    self.records.remove(&oldest);
                }
            }
        }
    }
}

trait Registry: Send + Sync + 'static {
    fn new() -> Self;
    /// Applies `call` for the thread numbered `thread` (below [`SLOTS`]).
    fn call(&self, thread: usize, call: Call);
}

struct OneLock(Mutex<Bookkeeping>);

impl Registry for OneLock {
    fn new() -> Self {
        OneLock(Mutex::default())
    }
    fn call(&self, _: usize, call: Call) {
        self.0.lock().unwrap().apply(call);
    }
}

#[derive(Default)]
struct Slot {
    call: Mutex<Option<Call>>,
    done: AtomicBool,
}

struct Combining {
    state: Mutex<Bookkeeping>,
    slots: [Slot; SLOTS],
    /// Bit `i` is set while slot `i` holds a call not yet applied.
    published: AtomicU64,
}

impl Registry for Combining {
    fn new() -> Self {
        Combining { state: Mutex::default(), slots: Default::default(), published: AtomicU64::new(0) }
    }
    fn call(&self, thread: usize, call: Call) {
        let slot = &self.slots[thread];
        *slot.call.lock().unwrap() = Some(call);
        slot.done.store(false, Ordering::Relaxed);
        self.published.fetch_or(1 << thread, Ordering::Release);
        let mut spins = 0u32;
        loop {
            if let Ok(mut state) = self.state.try_lock() {
                loop {
                    let published = self.published.swap(0, Ordering::Acquire);
                    if published == 0 {
                        break;
                    }
                    for (i, other) in self.slots.iter().enumerate().filter(|(i, _)| published & (1 << i) != 0) {
                        let call = other.call.lock().unwrap().take();
                        state.apply(call.unwrap_or_else(|| panic!("slot {i} was published empty")));
                        other.done.store(true, Ordering::Release);
                    }
                }
            }
            if slot.done.load(Ordering::Acquire) {
                return;
            }
            spins += 1;
            if spins.is_multiple_of(64) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

fn next_id() -> OperationId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    OperationId(uuid::Uuid::from_u64_pair(0x4000_0000_0000_0000 | n.rotate_left(17), n))
}

/// `ops` register → start → complete sequences on a fresh `R`, split over
/// `threads` threads; returns the wall time.
fn run<R: Registry>(threads: usize, ops: usize) -> Duration {
    let registry = Arc::new(R::new());
    let at = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|thread| {
            let registry = Arc::clone(&registry);
            std::thread::spawn(move || {
                for i in 0..ops / threads {
                    let id = next_id();
                    registry.call(thread, Call::Register(id, format!("op-{i:06}")));
                    registry.call(thread, Call::Start(id));
                    registry.call(thread, Call::Complete(OperationResult::new(id, "ok")));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    at.elapsed()
}

/// A side of the comparison: its name, its run, and how many threads.
type Side = (&'static str, fn(usize, usize) -> Duration, usize);

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let (rounds, ops) = if quick { (1, 2_000) } else { (7, 200_000) };
    let sides: [Side; 4] = [
        ("one lock, 1 thread (S1)", run::<OneLock>, 1),
        ("one lock, 2 threads (S2)", run::<OneLock>, 2),
        ("combining, 1 thread (S1)", run::<Combining>, 1),
        ("combining, 2 threads (S2)", run::<Combining>, 2),
    ];
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for round in 0..rounds {
        for k in 0..sides.len() {
            let which = (round + k) % sides.len();
            let (_, run, threads) = sides[which];
            samples[which].push(run(threads, ops));
        }
    }
    println!("side | M ops/s (median of {rounds} rotating rounds)");
    println!("---|---");
    for ((name, _, _), mut times) in sides.into_iter().zip(samples) {
        times.sort();
        let median = times[times.len() / 2];
        println!("{name} | {:.2}", ops as f64 / median.as_secs_f64() / 1e6);
    }
}
