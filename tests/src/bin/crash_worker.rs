//! The crash tests' worker: runs the workload of a seed against a durable
//! registry and reports on stdout what it was acknowledged, until killed.
//!
//! `crash_worker PATH SEED sync|batched COMPACT_AFTER [takeover|meerkat]`
//!
//! A `PATH` of the form `postgres:ID` is registry `ID` in the PostgreSQL
//! database that `OPLIFE_PG_PARAMS` names, with a lease of
//! `OPLIFE_PG_LEASE_MS` milliseconds (1000 if unset).
//!
//! With `meerkat`, every call goes through Meerkat's registry interface
//! (meerkat-core 0.5) where it has a method for it.
//!
//! - `open`: the store was claimed (with `takeover`, even from a live
//!   owner); a worker refused because a live owner holds the store prints
//!   `owned` instead and exits with status 4; one whose takeover met a
//!   commit of the old owner under way (a stopped owner holds SQLite's write
//!   lock) prints `busy` and exits with status 5.
//! - `ack N`: call N returned (accepted or refused); in `sync` mode it is
//!   durable.
//! - `durable N`: in `batched` mode, a flush returned after call N: every
//!   call up to N is durable.
//! - `sealed N`: call N was fenced (a newer owner took the store over), the
//!   registry said it is sealed and refused a further call as fenced; the
//!   worker exits with status 3.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use oplife_shell::MeerkatRegistry;
use oplife_shell::Refusal;
use oplife_shell::{
    Claim, Durability, DurableOptions, OpsLifecycleError, OpsLifecycleRegistry, OwnerState, PostgresOptions,
    PostgresStore, RecoveryError, RuntimeOpsLifecycleRegistry, SqliteStore, StoreError,
};
use oplife_tests::meerkat;
use oplife_tests::workload::{Rng, Step, crash_config};

/// Which interface the worker calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Through {
    Ours,
    Meerkat,
}

fn main() {
    if let Err(why) = run() {
        eprintln!("crash_worker: {why}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let (path, seed, mode, compact_after, claim, through) = match args.as_slice() {
        [_, path, seed, mode, compact_after] => (path, seed, mode, compact_after, Claim::IfFree, Through::Ours),
        [_, path, seed, mode, compact_after, extra] if extra == "takeover" => {
            (path, seed, mode, compact_after, Claim::TakeOver, Through::Ours)
        }
        [_, path, seed, mode, compact_after, extra] if extra == "meerkat" => {
            (path, seed, mode, compact_after, Claim::IfFree, Through::Meerkat)
        }
        _ => return Err("usage: crash_worker PATH SEED sync|batched COMPACT_AFTER [takeover|meerkat]".into()),
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
        claim,
        ..DurableOptions::default()
    };
    let mut out = std::io::stdout().lock();
    let opened = match path.strip_prefix("postgres:") {
        Some(id) => {
            let params = std::env::var("OPLIFE_PG_PARAMS").map_err(|_| "OPLIFE_PG_PARAMS is not set".to_owned())?;
            let lease_ms: u64 = std::env::var("OPLIFE_PG_LEASE_MS")
                .map_or(Ok(1000), |ms| ms.parse())
                .map_err(|e| format!("lease: {e}"))?;
            let store = PostgresStore::connect(&params, id, PostgresOptions { lease: Duration::from_millis(lease_ms) })
                .map_err(|e| e.to_string())?;
            RuntimeOpsLifecycleRegistry::open_store(store, options)
        }
        None => {
            let store = SqliteStore::open(path).map_err(|e| e.to_string())?;
            if claim == Claim::TakeOver {
                // A takeover that meets a commit of the old owner under way
                // gives up soon: the test stops the owner again and retries.
                store.set_busy_timeout(Duration::from_millis(100)).map_err(|e| e.to_string())?;
            }
            RuntimeOpsLifecycleRegistry::open_store(store, options)
        }
    };
    let registry = match opened {
        Ok((registry, _)) => registry,
        Err(RecoveryError::Store(StoreError::Owned { .. })) => {
            writeln!(out, "owned").map_err(|e| e.to_string())?;
            std::process::exit(4);
        }
        Err(RecoveryError::Store(StoreError::Busy)) => {
            writeln!(out, "busy").map_err(|e| e.to_string())?;
            std::process::exit(5);
        }
        Err(error) => return Err(error.to_string()),
    };
    writeln!(out, "open").map_err(|e| e.to_string())?;
    if through == Through::Meerkat {
        let registry = MeerkatRegistry::new(Arc::new(registry));
        let mut rng = Rng::new(seed);
        for n in 1.. {
            meerkat::run(&Step::draw(&mut rng, true), seed, &registry)?;
            writeln!(out, "ack {n}").map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?;
    let mut rng = Rng::new(seed);
    for n in 1.. {
        match Step::draw(&mut rng, durability == Durability::Sync).run(seed, &registry) {
            Err(OpsLifecycleError::Refused(Refusal::Sealed)) => {
                let sealed = registry.owner_state().map_err(|e| e.to_string())? == OwnerState::Sealed;
                let refused = registry.collect_completed() == Err(OpsLifecycleError::Refused(Refusal::Sealed));
                if sealed && refused {
                    writeln!(out, "sealed {n}").map_err(|e| e.to_string())?;
                    std::process::exit(3);
                }
                return Err(format!("call {n} was fenced, but the registry is not sealed"));
            }
            Err(error) => return Err(error.to_string()),
            Ok(_) => {}
        }
        writeln!(out, "ack {n}").map_err(|e| e.to_string())?;
        if durability == Durability::Batched && n % 16 == 0 {
            runtime.block_on(registry.flush()).map_err(|e| e.to_string())?;
            writeln!(out, "durable {n}").map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
