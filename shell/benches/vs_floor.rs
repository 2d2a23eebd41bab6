//! The registry against its floor (`support/floor.rs`: the same bookkeeping
//! with plain std structures behind one `Mutex`, no table, no feed, no
//! events), scenario by scenario, in one process. Rounds alternate which
//! runs first; each figure is the median of the rounds, and the ratio is
//! ours ÷ floor in time per operation (1.0 = as cheap as the floor): the
//! number to drive down. Run with
//! `cargo bench -p oplife-shell --bench vs_floor`; it writes
//! `docs/vs_floor.md`. Add `-- S1` (any scenario name prefix) to run only
//! the scenarios whose name starts so (nothing is written then).

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

#[path = "support/floor.rs"]
mod floor;
#[path = "support/report.rs"]
mod report;
#[path = "support/scenarios.rs"]
mod scenarios;

use std::fmt::Write as _;
use std::time::Duration;

use floor::Floor;
use oplife_shell::RuntimeOpsLifecycleRegistry;
use report::{load, median, publish};
use scenarios::{SCENARIOS, figure, run};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let (rounds, scale) = if quick { (1, 100) } else { (7, 1) };
    let only: Vec<String> = std::env::args().skip(1).filter(|a| a.starts_with('S')).collect();
    let load_before = load();
    let mut table = format!("scenario | ours | floor | ours ÷ floor (time) — median of {rounds} alternating rounds\n");
    table.push_str("---|---|---|---\n");
    for (which, scenario) in SCENARIOS.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|o| scenario.name.starts_with(o.as_str())) {
            continue;
        }
        let (mut ours, mut bare) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                ours.push(run::<RuntimeOpsLifecycleRegistry>(which, scale));
                bare.push(run::<Floor>(which, scale));
            } else {
                bare.push(run::<Floor>(which, scale));
                ours.push(run::<RuntimeOpsLifecycleRegistry>(which, scale));
            }
        }
        let (ours, bare): (Duration, Duration) = (median(ours), median(bare));
        let show = |took: Duration| figure(which, scale, took);
        let _ = writeln!(
            table,
            "{} | {} | {} | {:.2}",
            scenario.name,
            show(ours),
            show(bare),
            ours.as_secs_f64() / bare.as_secs_f64()
        );
    }
    // A run of some scenarios only is not the whole table.
    publish("vs_floor", "The registry against its floor", &table, &load_before, quick || !only.is_empty());
}
