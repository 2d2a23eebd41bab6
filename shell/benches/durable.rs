//! The durable registry beside the in-memory one: S1 (register → start →
//! complete) and S6 (the same with an awaited watcher), in `Sync` and
//! `Batched` mode on a SQLite file, in one run. Rounds alternate the order
//! of the three registries; each figure is the median of the rounds. A
//! durable round ends with `flush().await`, so every counted transition is
//! committed. Run with
//! `cargo bench -p oplife-shell --features durable --bench durable`; it
//! writes `docs/durable.md`.
//!
//! With `--features postgres` (and PostgreSQL's binaries installed), the
//! bench starts a throwaway PostgreSQL server of its own (as the tests do,
//! Unix socket only) and adds `Sync` and `Batched` on it, each run a
//! registry of its own in that one database, and the time a registry
//! takes to be claimed again after its owner is killed (SIGKILL) with a
//! 1-second lease.
//!
//! `-- --callers N` instead runs S1 in `Sync` mode from N callers at once,
//! tasks on a tokio runtime of two worker threads (N = 1: one task), each
//! making 3,000 / N operations of its own (9,000 transitions in all), and
//! prints the transitions per second: `farm-bench` can time two builds of
//! it alternately.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

#[path = "support/report.rs"]
mod report;
#[cfg(feature = "postgres")]
#[path = "support/postgres.rs"]
#[allow(dead_code)] // the tests' server helper: the bench restarts nothing
mod server;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use report::{load, median, publish};

use oplife_shell::{
    Durability, DurableOptions, OperationId, OperationKind, OperationResult, OperationSpec, OpsLifecycleRegistry,
    RuntimeOpsLifecycleRegistry, SessionId,
};

/// Transitions per operation in both scenarios: register, start, complete
/// (the watcher is process-local: not journaled).
const TRANSITIONS: f64 = 3.0;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(not(feature = "postgres"), allow(dead_code))] // PostgreSQL's kinds need its feature
enum Kind {
    Memory,
    Sync,
    Batched,
    /// `Sync` on PostgreSQL (the bench's own server).
    PgSync,
    /// `Batched` on PostgreSQL.
    PgBatched,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::Memory => "in memory",
            Kind::Sync => "Sync, SQLite",
            Kind::Batched => "Batched, SQLite",
            Kind::PgSync => "Sync, PostgreSQL",
            Kind::PgBatched => "Batched, PostgreSQL",
        }
    }
}

/// The connection parameters of the bench's PostgreSQL server, once
/// started.
#[cfg(feature = "postgres")]
static POSTGRES: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn spec(n: u64) -> OperationSpec {
    OperationSpec {
        id: OperationId(uuid::Uuid::from_u64_pair(0x4000_0000_0000_0000 | n.rotate_left(17), n)),
        kind: OperationKind::BackgroundToolOp,
        owner_session_id: SessionId(uuid::Uuid::nil()),
        display_name: format!("op-{n:06}"),
        source_label: "bench".into(),
        child_session_id: None,
        expect_peer_channel: false,
        operation_source: None,
    }
}

fn scratch(round: usize, kind: Kind) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oplife-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{round}-{kind:?}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

fn registry(kind: Kind, round: usize) -> RuntimeOpsLifecycleRegistry {
    let durability = match kind {
        Kind::Memory => return RuntimeOpsLifecycleRegistry::new(),
        Kind::Sync | Kind::PgSync => Durability::Sync,
        Kind::Batched | Kind::PgBatched => Durability::Batched,
    };
    let options = DurableOptions { durability, ..DurableOptions::default() };
    match kind {
        Kind::PgSync | Kind::PgBatched => {
            // A registry of its own each run, in the one database.
            static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            on_postgres(&format!("bench-{round}-{kind:?}-{run}"), options)
        }
        _ => RuntimeOpsLifecycleRegistry::open(scratch(round, kind), options).unwrap().0,
    }
}

#[cfg(feature = "postgres")]
fn on_postgres(id: &str, options: DurableOptions) -> RuntimeOpsLifecycleRegistry {
    let params = POSTGRES.get().expect("the bench's PostgreSQL server");
    let store = oplife_shell::PostgresStore::connect(params, id, oplife_shell::PostgresOptions::default()).unwrap();
    RuntimeOpsLifecycleRegistry::open_store(store, options).unwrap().0
}

#[cfg(not(feature = "postgres"))]
fn on_postgres(_: &str, _: DurableOptions) -> RuntimeOpsLifecycleRegistry {
    unreachable!("PostgreSQL kinds run only with the postgres feature")
}

/// Child mode (`--hold ID`): opens registry `ID` on the bench's server
/// (`OPLIFE_PG_PARAMS`) with a 1-second lease, says `open`, and waits to be
/// killed.
#[cfg(feature = "postgres")]
fn hold(id: &str) {
    let params = std::env::var("OPLIFE_PG_PARAMS").unwrap();
    let lease = oplife_shell::PostgresOptions { lease: std::time::Duration::from_secs(1) };
    let store = oplife_shell::PostgresStore::connect(&params, id, lease).unwrap();
    let _registry = RuntimeOpsLifecycleRegistry::open_store(store, DurableOptions::default()).unwrap();
    println!("open");
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// Seconds from killing (SIGKILL) the owner of a registry with a 1-second
/// lease to claiming it without a takeover, polling every 5 ms.
#[cfg(feature = "postgres")]
fn takeover_after_kill(params: &str, round: usize) -> f64 {
    use oplife_shell::{Claim, PostgresOptions, PostgresStore, Store, StoreError};
    use std::io::BufRead;
    let id = format!("killed-{round}");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--hold", &id])
        .env("OPLIFE_PG_PARAMS", params)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "open");
    // Past its first renewal, as an owner that has been running is.
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.kill().unwrap();
    let killed = Instant::now();
    child.wait().unwrap();
    let mut store = PostgresStore::connect(params, &id, PostgresOptions::default()).unwrap();
    loop {
        match store.claim(Claim::IfFree) {
            Ok(_) => return killed.elapsed().as_secs_f64(),
            Err(StoreError::Owned { .. }) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(other) => panic!("claim after the kill: {other}"),
        }
    }
}

/// Operations per second of `ops` operations, with a watcher each when
/// `watch` (S6), until every transition is durable.
fn run(kind: Kind, round: usize, ops: u64, watch: bool, runtime: &tokio::runtime::Runtime) -> f64 {
    let registry = registry(kind, round);
    let base = (round as u64 + 1) << 32;
    let started = Instant::now();
    runtime.block_on(async {
        for n in base..base + ops {
            let spec = spec(n);
            let id = spec.id;
            registry.register_operation(spec).unwrap();
            registry.provisioning_succeeded(&id).unwrap();
            let watcher = if watch { Some(registry.register_watcher(&id).unwrap()) } else { None };
            let result = OperationResult { id, content: "ok".into(), is_error: false, duration_ms: 1, tokens_used: 1 };
            registry.complete_operation(&id, result).unwrap();
            if let Some(watcher) = watcher {
                watcher.wait().await.unwrap();
            }
        }
        registry.flush().await.unwrap();
    });
    ops as f64 / started.elapsed().as_secs_f64()
}

/// `Sync` S1 from `callers` tasks at once on two worker threads; returns
/// transitions per second.
fn sync_callers(callers: u64, total_ops: u64) -> f64 {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let path = scratch(callers as usize, Kind::Sync);
    let options = DurableOptions { durability: Durability::Sync, ..DurableOptions::default() };
    let registry = std::sync::Arc::new(RuntimeOpsLifecycleRegistry::open(&path, options).unwrap().0);
    let each = total_ops / callers;
    let started = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..callers)
            .map(|caller| {
                let registry = std::sync::Arc::clone(&registry);
                tokio::spawn(async move {
                    let base = (caller + 1) << 32;
                    for n in base..base + each {
                        let spec = spec(n);
                        let id = spec.id;
                        registry.register_operation(spec).unwrap();
                        registry.provisioning_succeeded(&id).unwrap();
                        let result = OperationResult {
                            id,
                            content: "ok".into(),
                            is_error: false,
                            duration_ms: 1,
                            tokens_used: 1,
                        };
                        registry.complete_operation(&id, result).unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let rate = (each * callers) as f64 * TRANSITIONS / started.elapsed().as_secs_f64();
    drop(registry);
    rate
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    #[cfg(feature = "postgres")]
    if let Some(at) = args.iter().position(|a| a == "--hold") {
        hold(&args[at + 1]);
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--callers") {
        let callers: u64 = args.get(at + 1).and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
        let rate = sync_callers(callers, 3_000);
        println!("Sync S1, {callers} caller(s) on 2 threads: {rate:.0} transitions/s");
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("oplife-bench-{}", std::process::id())));
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let rounds = if quick { 1 } else { 5 };
    let scale = if quick { 100 } else { 1 };
    let load_before = load();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    #[cfg(feature = "postgres")]
    let server = server::Cluster::start("the durable bench").unwrap();
    #[cfg(feature = "postgres")]
    let on_postgres: &[Kind] = match &server {
        Some(server) => {
            let _ = POSTGRES.set(server.params());
            &[Kind::PgSync, Kind::PgBatched]
        }
        None => &[],
    };
    #[cfg(not(feature = "postgres"))]
    let on_postgres: &[Kind] = &[];
    let kinds: Vec<Kind> = [Kind::Memory, Kind::Sync, Kind::Batched].iter().chain(on_postgres).copied().collect();
    // Sync commits (and syncs) every transition: fewer operations.
    let ops = |kind| if matches!(kind, Kind::Sync | Kind::PgSync) { 2_000 / scale } else { 100_000 / scale };
    let mut table =
        format!("scenario | registry | ops/s | transitions/s | vs in-memory (median of {rounds} alternating rounds)\n");
    table.push_str("---|---|---|---|---\n");
    for (name, watch) in [("S1 register→start→complete", false), ("S6 … with an awaited watcher", true)] {
        let mut samples = vec![Vec::new(); kinds.len()];
        for round in 0..rounds {
            // Alternate the order, so no registry always runs first.
            for k in 0..kinds.len() {
                let at = (k + round) % kinds.len();
                let kind = kinds[at];
                samples[at].push(run(kind, round, ops(kind) as u64, watch, &runtime));
            }
        }
        let rates: Vec<f64> = samples.into_iter().map(median).collect();
        for (kind, rate) in kinds.iter().zip(&rates) {
            let _ = writeln!(
                table,
                "{name} | {} | {:.0} | {:.0} | {:.3}",
                kind.title(),
                rate,
                rate * TRANSITIONS,
                rate / rates[0]
            );
        }
    }
    // Sync from many callers at once: one task, two on two threads, 64.
    table.push_str("\n`Sync` S1 from concurrent callers, tasks on two worker threads (one run each)\n\n");
    table.push_str("callers | transitions/s\n---|---\n");
    for callers in [1, 2, 64] {
        let _ = writeln!(table, "{callers} | {:.0}", sync_callers(callers, 3_000 / scale as u64));
    }
    #[cfg(feature = "postgres")]
    match &server {
        Some(server) => {
            let times: Vec<f64> =
                (0..if quick { 1 } else { 3 }).map(|round| takeover_after_kill(&server.params(), round)).collect();
            let _ = write!(
                table,
                "\nPostgreSQL: a registry claimed again {:.2} s after its owner was killed (SIGKILL) with a 1 s \
                 lease (median of {}; the owner renews every third of a lease).\n",
                median(times.clone()),
                times.len()
            );
        }
        None => table.push_str("\nPostgreSQL: not measured (its binaries are not installed).\n"),
    }
    #[cfg(not(feature = "postgres"))]
    table.push_str("\nPostgreSQL: not measured (run with `--features postgres`).\n");
    publish("durable", "The durable registry beside the in-memory one", &table, &load_before, quick);
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("oplife-bench-{}", std::process::id())));
}
