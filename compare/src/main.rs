//! The registry beside Meerkat's published registries, scenario by
//! scenario, in one process: `meerkat-runtime` 0.5.0 (the reference design)
//! and, with the `meerkat-0-9` feature, 0.9.8 (the current release), each
//! called through `Arc<dyn OpsLifecycleRegistry>` of its line of
//! `meerkat-core`, with this registry behind the same interface (the
//! shell's adapter); also this registry through its own API, and the floor
//! (the same bookkeeping behind one `Mutex`, without table, feed or
//! events). Every round runs each subject once, the order rotating; each
//! figure is the median of the rounds. Speed ratios are the other's time ÷
//! ours: above 1, ours is faster.
//!
//! Run from the repository's root:
//!
//! ```text
//! cargo run --release --manifest-path compare/Cargo.toml                        # 0.5.0 only
//! cargo run --release --manifest-path compare/Cargo.toml --features meerkat-0-9 # and 0.9.8
//! ```
//!
//! It writes `docs/compare.md`; with `meerkat-0-9` it writes
//! `docs/compare-0-9.md` instead, at 1/10 of each scenario's size and
//! median of 3: 0.9.8's registry clones its machine state on every write,
//! so its full size would take over an hour. `-- --quick` runs one round at 1/100 of
//! each scenario's size and writes nothing (CI runs that, so the bench
//! cannot rot); `-- S1 S6` runs only those scenarios and writes nothing.
//! `-- --alone ours05 S6` runs one side alone (`own`, `floor`, `ours05`,
//! `reference05`, `ours09`, `reference09`) and prints its figures: a
//! profiler then sees that side's time only.

#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::panic)] // a benchmark: a failed unwrap is a broken run

#[path = "../../shell/benches/support/floor.rs"]
#[allow(dead_code)]
mod floor;
#[macro_use]
#[path = "../../shell/benches/support/meerkat_subject.rs"]
mod meerkat_subject;
#[path = "../../shell/benches/support/report.rs"]
mod report;
#[path = "../../shell/benches/support/scenarios.rs"]
mod scenarios;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use oplife_shell::{MeerkatRegistry, OpsLifecycleConfig, RuntimeOpsLifecycleRegistry};
use report::{load, median, publish};
use scenarios::{SCENARIOS, Subject, figure, run};

fn ours(max_completed: usize) -> Arc<MeerkatRegistry> {
    let config = OpsLifecycleConfig { max_completed, max_concurrent: None, ..OpsLifecycleConfig::default() };
    Arc::new(MeerkatRegistry::new(Arc::new(RuntimeOpsLifecycleRegistry::with_config(config))))
}

meerkat_subject!(
    meerkat_core_0_5,
    [
        Ours05 => |max_completed| ours(max_completed),
        Reference05 => |max_completed| Arc::new(meerkat_runtime_0_5::RuntimeOpsLifecycleRegistry::with_config(
            meerkat_runtime_0_5::OpsLifecycleConfig { max_completed, max_concurrent: None },
        )),
    ],
    {},
    |watch| watch.wait(),
    |found| found.unwrap(),
    |all| all.len()
);

#[cfg(feature = "meerkat-0-9")]
meerkat_subject!(
    meerkat_core_0_9,
    [
        Ours09 => |max_completed| ours(max_completed),
        Reference09 => |max_completed| Arc::new(meerkat_runtime_0_9::RuntimeOpsLifecycleRegistry::with_config(
            meerkat_runtime_0_9::OpsLifecycleConfig { max_completed, max_concurrent: None },
        )),
    ],
    { operation_source: None, },
    |watch| async { watch.await.unwrap() },
    |found| found.unwrap().unwrap(),
    |all| all.unwrap().len()
);

/// The subjects of a run, in the order of the table's columns.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    /// This registry through its own API.
    Own,
    Floor,
    /// This registry behind meerkat-core 0.5's interface.
    Ours05,
    Reference05,
    #[cfg(feature = "meerkat-0-9")]
    Ours09,
    #[cfg(feature = "meerkat-0-9")]
    Reference09,
}

const SIDES: &[Side] = &[
    Side::Own,
    Side::Floor,
    Side::Ours05,
    Side::Reference05,
    #[cfg(feature = "meerkat-0-9")]
    Side::Ours09,
    #[cfg(feature = "meerkat-0-9")]
    Side::Reference09,
];

impl Side {
    fn run(self, which: usize, scale: usize) -> Duration {
        match self {
            Side::Own => run::<RuntimeOpsLifecycleRegistry>(which, scale),
            Side::Floor => run::<floor::Floor>(which, scale),
            Side::Ours05 => run::<Ours05>(which, scale),
            Side::Reference05 => run::<Reference05>(which, scale),
            #[cfg(feature = "meerkat-0-9")]
            Side::Ours09 => run::<Ours09>(which, scale),
            #[cfg(feature = "meerkat-0-9")]
            Side::Reference09 => run::<Reference09>(which, scale),
        }
    }

    /// The side named `name` on the command line.
    fn named(name: &str) -> Option<Side> {
        SIDES.iter().copied().find(|side| format!("{side:?}").eq_ignore_ascii_case(name))
    }

    fn title(self) -> &'static str {
        match self {
            Side::Own => "ours, own API",
            Side::Floor => "floor",
            Side::Ours05 => "ours via 0.5",
            Side::Reference05 => "meerkat-runtime 0.5.0",
            #[cfg(feature = "meerkat-0-9")]
            Side::Ours09 => "ours via 0.9.8",
            #[cfg(feature = "meerkat-0-9")]
            Side::Reference09 => "meerkat-runtime 0.9.8",
        }
    }
}

/// The ratios of a row: (label, the other side, our side), speed = the
/// other's time ÷ ours.
const RATIOS: &[(&str, Side, Side)] = &[
    ("0.5.0 ÷ ours", Side::Reference05, Side::Ours05),
    #[cfg(feature = "meerkat-0-9")]
    ("0.9.8 ÷ ours", Side::Reference09, Side::Ours09),
    ("floor ÷ ours", Side::Floor, Side::Own),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only: Vec<&String> = args.iter().filter(|a| a.starts_with('S')).collect();
    let (rounds, scale) = match (quick, cfg!(feature = "meerkat-0-9")) {
        (true, _) => (1, 100),
        // 0.9.8 clones its state on every write (see the module's doc).
        (false, true) => (3, 10),
        (false, false) => (7, 1),
    };
    if let Some(at) = args.iter().position(|a| a == "--alone") {
        let name = args.get(at + 1).map_or("", String::as_str);
        let Some(side) = Side::named(name) else {
            eprintln!("--alone takes one of: {SIDES:?}");
            std::process::exit(2);
        };
        alone(side, &only, rounds, scale);
        return;
    }
    let load_before = load();
    let mut table = String::from("scenario");
    for side in SIDES {
        let _ = write!(table, " | {}", side.title());
    }
    for (label, _, _) in RATIOS {
        let _ = write!(table, " | {label}");
    }
    let _ = write!(
        table,
        "\n---{}\n",
        "|---".repeat(SIDES.len() + RATIOS.len()) // one per column after the first
    );
    for (which, scenario) in SCENARIOS.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|o| scenario.name.starts_with(o.as_str())) {
            continue;
        }
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); SIDES.len()];
        for round in 0..rounds {
            // Each side runs first in turn.
            for k in 0..SIDES.len() {
                let at = (k + round) % SIDES.len();
                times[at].push(SIDES[at].run(which, scale));
            }
        }
        let medians: Vec<Duration> = times.into_iter().map(median).collect();
        let of = |side: Side| medians[SIDES.iter().position(|s| *s == side).unwrap_or(0)];
        table.push_str(scenario.name);
        for took in &medians {
            let _ = write!(table, " | {}", figure(which, scale, *took));
        }
        for (_, other, mine) in RATIOS {
            let _ = write!(table, " | {:.2}", of(*other).as_secs_f64() / of(*mine).as_secs_f64());
        }
        table.push('\n');
    }
    if scale > 1 {
        let _ = write!(table, "\nEach scenario at 1/{scale} of the size its name gives.");
    }
    let _ = write!(
        table,
        "\nMedian of {rounds} rounds, the order rotating. Each ratio is the other side's time ÷ ours in the same \
         run: above 1, ours is faster. Meerkat's registries and \"ours via\" are called through `Arc<dyn \
         OpsLifecycleRegistry>` of their line; the scenarios' values are moved into Meerkat's types inside the \
         measured time, for both.\n"
    );
    publish(
        if cfg!(feature = "meerkat-0-9") { "compare-0-9" } else { "compare" },
        "The registry beside Meerkat's published registries",
        &table,
        &load_before,
        quick || !only.is_empty(),
    );
}

/// Runs the scenarios named in `only` (all if none) on `side` alone and
/// prints each median, for a profiler to see that side only.
fn alone(side: Side, only: &[&String], rounds: usize, scale: usize) {
    for (which, scenario) in SCENARIOS.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|o| scenario.name.starts_with(o.as_str())) {
            continue;
        }
        let took = median((0..rounds).map(|_| side.run(which, scale)).collect());
        println!("{} | {}: {}", scenario.name, side.title(), figure(which, scale, took));
    }
}
