//! A design question for S2, answered by measurement: does the kind of lock
//! decide whether two threads beat one?
//!
//! The registry runs S1's calls (register → start → complete, 256 records
//! retained) from one thread and from two, behind each lock it can take
//! through [`StateLock`]:
//!
//! - std's `RwLock` (reads share it) and `Mutex`;
//! - parking_lot's `Mutex`, and its `RwLock` as [`RegistryLock`] wraps it
//!   (the registry's default): they spin a little before they park a
//!   thread, and let a thread that releases the lock take it again at
//!   once.
//!
//! Rounds rotate which lock runs first; each figure is the median of 7.
//! Run with `cargo bench -p oplife-shell --bench locks`.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

#[allow(dead_code)] // the scenarios' registry side is not used here
#[path = "support/floor.rs"]
mod floor;
#[allow(dead_code)]
#[path = "support/scenarios.rs"]
mod scenarios;

use std::sync::Arc;
use std::time::{Duration, Instant};

use oplife_shell::{
    OpsLifecycleConfig, OpsLifecycleRegistry, RegistryLock, RegistryState, RuntimeOpsLifecycleRegistry, StateLock,
};

/// parking_lot's `Mutex` as the registry's lock.
struct ParkingLot(parking_lot::Mutex<RegistryState>);

impl StateLock<RegistryState> for ParkingLot {
    fn new(state: RegistryState) -> Self {
        ParkingLot(parking_lot::Mutex::new(state))
    }
    fn lock(&self) -> Result<impl std::ops::DerefMut<Target = RegistryState> + '_, ()> {
        Ok(self.0.lock())
    }
}

/// `sequences` register → start → complete sequences split over `threads`
/// threads on a fresh registry behind `L`; returns the time they took.
fn run<L: StateLock<RegistryState> + 'static>(threads: usize, sequences: usize) -> Duration {
    let config = OpsLifecycleConfig { max_completed: 256, max_concurrent: None, ..OpsLifecycleConfig::default() };
    let registry = Arc::new(RuntimeOpsLifecycleRegistry::<L>::with_lock(config));
    let at = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let registry = Arc::clone(&registry);
            std::thread::spawn(move || {
                for i in 0..sequences / threads {
                    let spec = scenarios::spec(t * sequences + i);
                    let id = spec.id;
                    registry.register_operation(spec).unwrap();
                    registry.provisioning_succeeded(&id).unwrap();
                    registry.complete_operation(&id, scenarios::result(id)).unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    at.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let (rounds, sequences) = if quick { (1, 2_000) } else { (7, 200_000) };
    type Runner = fn(usize, usize) -> Duration;
    let locks: [(&str, Runner); 4] = [
        ("std RwLock", run::<std::sync::RwLock<RegistryState>>),
        ("std Mutex", run::<std::sync::Mutex<RegistryState>>),
        ("parking_lot Mutex", run::<ParkingLot>),
        ("RegistryLock (parking_lot RwLock; the default)", run::<RegistryLock<RegistryState>>),
    ];
    let mut times = vec![(Vec::new(), Vec::new()); locks.len()];
    for round in 0..rounds {
        for k in 0..locks.len() {
            let which = (round + k) % locks.len();
            let (_, runner) = locks[which];
            times[which].0.push(runner(1, sequences));
            times[which].1.push(runner(2, sequences));
        }
    }
    println!("lock | S1, 1 thread | S2, 2 threads | S2 ÷ S1 — M sequences/s, median of {rounds} rotating rounds");
    println!("---|---|---|---");
    for ((name, _), (one, two)) in locks.iter().zip(times) {
        let rate = |d: Duration| sequences as f64 / d.as_secs_f64() / 1e6;
        let (s1, s2) = (rate(median(one)), rate(median(two)));
        println!("{name} | {s1:.2} | {s2:.2} | {:.2}", s2 / s1);
    }
}
