//! What Meerkat's interface costs over the registry's own: every scenario
//! run through `dyn OpsLifecycleRegistry` of meerkat-core 0.5 and of 0.9.8
//! (`MeerkatRegistry`) and through the registry's own interface, in one
//! process, rounds rotating which runs first; each figure is the median of
//! the rounds, and each ratio is Meerkat's ÷ ours in time per operation
//! (1.05 = the interface costs 5 %). The scenarios hand both the same
//! values: for Meerkat's interface they are moved into Meerkat's types
//! first, inside the measured time, so the figure is an upper bound. Run
//! with `cargo bench -p oplife-shell --features meerkat-0-5,meerkat-0-9 --bench meerkat`;
//! it writes `docs/meerkat.md`. Add `-- S1` to run only S1 (nothing is
//! written then).

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

#[path = "support/floor.rs"]
#[allow(dead_code)]
mod floor;
#[macro_use]
#[path = "support/meerkat_subject.rs"]
mod meerkat_subject;
#[path = "support/report.rs"]
mod report;
#[path = "support/scenarios.rs"]
mod scenarios;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use oplife_shell::{MeerkatRegistry, OpsLifecycleConfig, RuntimeOpsLifecycleRegistry};
use report::{load, median, publish};
use scenarios::{SCENARIOS, Subject, figure, run};

fn ours(max_completed: usize) -> RuntimeOpsLifecycleRegistry {
    RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_completed,
        max_concurrent: None,
        ..OpsLifecycleConfig::default()
    })
}

meerkat_subject!(
    meerkat_core_0_5,
    [Meerkat05 => |max_completed| Arc::new(MeerkatRegistry::new(Arc::new(ours(max_completed))))],
    {},
    |watch| watch.wait(),
    |found| found.unwrap(),
    |all| all.len()
);
meerkat_subject!(
    meerkat_core_0_9,
    [Meerkat09 => |max_completed| Arc::new(MeerkatRegistry::new(Arc::new(ours(max_completed))))],
    { operation_source: None, },
    |watch| async { watch.await.unwrap() },
    |found| found.unwrap().unwrap(),
    |all| all.unwrap().len()
);

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let (rounds, scale) = if quick { (1, 100) } else { (7, 1) };
    let only: Vec<String> = std::env::args().skip(1).filter(|a| a.starts_with('S')).collect();
    let load_before = load();
    let mut table = format!(
        "scenario | ours | through 0.5's interface | through 0.9.8's | 0.5's ÷ ours | 0.9.8's ÷ ours (time) — median of {rounds} rounds, order rotating\n"
    );
    table.push_str("---|---|---|---|---|---\n");
    for (which, scenario) in SCENARIOS.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|o| scenario.name.starts_with(o.as_str())) {
            continue;
        }
        let mut times: [Vec<Duration>; 3] = Default::default();
        for round in 0..rounds {
            // Each subject runs first, second and third in turn.
            for k in 0..3 {
                match (round + k) % 3 {
                    0 => times[0].push(run::<RuntimeOpsLifecycleRegistry>(which, scale)),
                    1 => times[1].push(run::<Meerkat05>(which, scale)),
                    _ => times[2].push(run::<Meerkat09>(which, scale)),
                }
            }
        }
        let [ours, old, new] = times.map(median);
        let show = |took: Duration| figure(which, scale, took);
        let _ = writeln!(
            table,
            "{} | {} | {} | {} | {:.3} | {:.3}",
            scenario.name,
            show(ours),
            show(old),
            show(new),
            old.as_secs_f64() / ours.as_secs_f64(),
            new.as_secs_f64() / ours.as_secs_f64()
        );
    }
    publish("meerkat", "Meerkat's interface over the registry", &table, &load_before, quick || !only.is_empty());
}
