//! The machine alone on S1's requests: register → start → complete, with
//! the eviction each completion causes past 256 retained records, straight
//! into `Lifecycle::apply_with` with payloads the size of the registry's
//! (128-bit ids, text results shared behind an `Arc`): no lock, no clock,
//! no shell records. What S1 costs beyond this is the shell's. Run with
//! `cargo bench -p oplife-machine --bench machine_alone`; profile it to see
//! what the table's interpretation costs against the effects' work.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

use std::time::{Duration, Instant};

use std::sync::Arc;

use oplife_machine::spec::OperationKind;
use oplife_machine::{Domain, Lifecycle, Limits, Outcome, Output, Request, State};

/// Payloads the size of the registry's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
struct Registry;

impl Domain for Registry {
    type OpId = u128;
    type WaitId = u128;
    type RunId = ();
    type Result = String;
    type Error = String;
    type Reason = String;
    type Progress = String;
    type Shared = Arc<Outcome<Self>>;
}

/// `triplets` register → start → complete sequences on a fresh machine;
/// returns the time and the outputs made.
fn run(triplets: u64) -> (Duration, u64) {
    let lifecycle = Lifecycle::standard(Limits { max_completed: 256, ..Limits::default() });
    let mut state: State<Registry> = State::new();
    let mut outputs = 0u64;
    let mut count = |_: Output<Registry>| outputs += 1;
    let at = Instant::now();
    for n in 1..=triplets {
        let id = u128::from(0x4000_0000_0000_0000 | n.rotate_left(17)) << 64 | u128::from(n);
        let register = Request::Register {
            id,
            kind: OperationKind::BackgroundToolOp,
            expects_peer: false,
            kind_limit: None,
            limit: None,
            source: None,
        };
        lifecycle.apply_with(&mut state, register, &mut count).unwrap();
        lifecycle.apply_with(&mut state, Request::ProvisioningSucceeded { id }, &mut count).unwrap();
        let complete = Request::Complete { id, result: "ok".to_owned() };
        lifecycle.apply_with(&mut state, complete, &mut count).unwrap();
    }
    (at.elapsed(), outputs)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let (rounds, triplets) = if quick { (1, 2_000) } else { (7, 1_000_000) };
    let mut times = Vec::new();
    let mut outputs = 0;
    for _ in 0..rounds {
        let (time, made) = run(triplets);
        times.push(time);
        outputs = made;
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "machine alone, S1's requests: {:.0} ns per register → start → complete ({:.2} M/s), {:.1} outputs each \
         (median of {rounds})",
        median.as_nanos() as f64 / triplets as f64,
        triplets as f64 / median.as_secs_f64() / 1e6,
        outputs as f64 / triplets as f64,
    );
}
