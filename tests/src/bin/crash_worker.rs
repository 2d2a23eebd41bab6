//! The crash tests' worker: runs the workload of a seed against a durable
//! registry and reports on stdout what it was acknowledged, until killed.
//!
//! `crash_worker PATH SEED sync|batched COMPACT_AFTER`
//!
//! - `ack N`: call N returned (accepted or refused); in `sync` mode it is
//!   durable.
//! - `durable N`: in `batched` mode, a flush returned after call N: every
//!   call up to N is durable.

use std::io::Write;
use std::time::Duration;

use oplife_shell::{Durability, DurableOptions, RuntimeOpsLifecycleRegistry};
use oplife_tests::workload::{Rng, Step, crash_config};

fn main() {
    if let Err(why) = run() {
        eprintln!("crash_worker: {why}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, seed, mode, compact_after] = args.as_slice() else {
        return Err("usage: crash_worker PATH SEED sync|batched COMPACT_AFTER".into());
    };
    let seed: u64 = seed.parse().map_err(|e| format!("seed: {e}"))?;
    let durability = match mode.as_str() {
        "sync" => Durability::Sync,
        "batched" => Durability::Batched,
        other => return Err(format!("mode {other:?} is neither sync nor batched")),
    };
    let options = DurableOptions {
        durability,
        config: crash_config(),
        compact_after: compact_after.parse().map_err(|e| format!("compact_after: {e}"))?,
        flush_interval: Duration::from_millis(2),
        ..DurableOptions::default()
    };
    let (registry, _) = RuntimeOpsLifecycleRegistry::open(path, options).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    let mut rng = Rng::new(seed);
    for n in 1.. {
        Step::draw(&mut rng, durability == Durability::Sync).run(seed, &registry).map_err(|e| e.to_string())?;
        writeln!(out, "ack {n}").map_err(|e| e.to_string())?;
        if durability == Durability::Batched && n % 16 == 0 {
            runtime.block_on(registry.flush()).map_err(|e| e.to_string())?;
            writeln!(out, "durable {n}").map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
