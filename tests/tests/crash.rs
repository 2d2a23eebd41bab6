//! Crash consistency with real processes: a worker runs a random workload
//! against a durable registry on a SQLite file and prints each call it was
//! acknowledged; the harness kills it with SIGKILL at a random moment,
//! reopens the file and checks that
//! - every call acknowledged before the kill is there (`Sync`: every `ack`;
//!   `Batched`: every call up to the last `durable` line);
//! - nothing is half-applied: the recovered registry is exactly the
//!   workload's first `m` calls replayed through a fresh registry (and
//!   restored), for one `m` between those and the call in flight.
//!
//! `cargo test` runs 240 kills: 100 per mode with compaction every 40
//! records, and 40 of a worker that compacts after every call, so kills land
//! in compactions too. Each reopen claims the store with the default
//! `Claim::IfFree`, so each also shows that a killed owner holds nothing: the
//! next open succeeds at once. A longer run:
//! `OPLIFE_CRASH_KILLS=5000 cargo test --release -p oplife-tests --test crash -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oplife_shell::MeerkatRegistry;
use oplife_shell::{DurableOptions, OpsLifecycleRegistry, RuntimeOpsLifecycleRegistry};
use oplife_tests::meerkat;
use oplife_tests::scratch::Scratch;
use oplife_tests::workload::{self, DurableView, Rng, crash_config, durable_view};

/// What one killed worker had printed.
#[derive(Debug, Default)]
struct Printed {
    acked: u64,
    durable: u64,
}

/// Runs the worker with `args` after the path and seed, and kills it
/// `after` its start.
fn run_and_kill(path: &Path, seed: u64, args: &[&str], after: Duration) -> Printed {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crash_worker"))
        .args([path.to_str().unwrap(), &seed.to_string()])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut printed = Printed::default();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            match line.split_once(' ') {
                None if line == "open" => {}
                Some(("ack", n)) => printed.acked = n.parse().unwrap(),
                Some(("durable", n)) => printed.durable = n.parse().unwrap(),
                _ => panic!("unexpected worker line {line:?}"),
            }
        }
        printed
    });
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "the worker stopped by itself: {status}");
    reader.join().unwrap()
}

/// The first `m` calls of the workload restored, for each `m` from `floor`
/// up to `ceiling`, until one equals `recovered`.
fn matching_prefix(seed: u64, cursors: bool, floor: u64, ceiling: u64, recovered: &DurableView) -> Option<u64> {
    let replay = RuntimeOpsLifecycleRegistry::with_config(crash_config());
    workload::matching_prefix(&replay, seed, cursors, (floor, ceiling), recovered)
}

fn kills(mode: &str, compact_after: u64, count: u64, first_seed: u64) -> (u64, u64) {
    let dir = Scratch::dir(&format!("crash-{mode}-{compact_after}")).unwrap();
    let mut timing = Rng::new(first_seed ^ 0x5eed);
    let (mut acked_total, mut cut) = (0, 0);
    for seed in first_seed..first_seed + count {
        let path = dir.join(format!("{seed}.db"));
        let after = Duration::from_millis(5 + timing.below(70));
        let printed = run_and_kill(&path, seed, &[mode, &compact_after.to_string()], after);
        let (recovered, report) = RuntimeOpsLifecycleRegistry::open(
            &path,
            DurableOptions { config: crash_config(), ..DurableOptions::default() },
        )
        .unwrap_or_else(|e| panic!("seed {seed} ({mode}): reopening failed: {e}"));
        cut += u64::from(report.cut.is_some());
        let view = durable_view(&recovered).unwrap();
        let floor = if mode == "sync" { printed.acked } else { printed.durable };
        let found = matching_prefix(seed, mode == "sync", floor, printed.acked + 1, &view);
        assert!(
            found.is_some(),
            "seed {seed} ({mode}, killed after {after:?}): the recovered registry is no prefix of {floor}..={} calls",
            printed.acked + 1
        );
        // The recovered registry takes calls again.
        let _ = recovered.collect_completed().unwrap();
        drop(recovered);
        acked_total += printed.acked;
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(path.with_extension("db-wal"));
        let _ = std::fs::remove_file(path.with_extension("db-shm"));
    }
    (acked_total, cut)
}

/// Kills land in a compaction as often as not when every call compacts (an
/// image written and the journal before it dropped, in one transaction).
#[test]
fn killed_workers_compacting_after_every_call_lose_nothing() {
    let started = Instant::now();
    let count = kill_count() / 5;
    let (acked, _) = kills("sync", 1, count, 2_000_000);
    eprintln!(
        "sync, compacting every call: {count} kills, {acked} acknowledged calls checked, {:?}",
        started.elapsed()
    );
    assert!(acked > count, "the workers were killed before they did anything");
}

fn kill_count() -> u64 {
    std::env::var("OPLIFE_CRASH_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(200)
}

#[test]
fn killed_sync_workers_lose_no_acknowledged_call() {
    let started = Instant::now();
    let count = kill_count() / 2;
    let (acked, cut) = kills("sync", 40, count, 1);
    eprintln!("sync: {count} kills, {acked} acknowledged calls checked, {cut} torn tails cut, {:?}", started.elapsed());
    assert!(acked > count, "the workers were killed before they did anything");
}

#[test]
fn killed_batched_workers_lose_nothing_flushed() {
    let started = Instant::now();
    let count = kill_count() - kill_count() / 2;
    let (acked, cut) = kills("batched", 40, count, 1_000_000);
    eprintln!(
        "batched: {count} kills, {acked} acknowledged calls checked, {cut} torn tails cut, {:?}",
        started.elapsed()
    );
    assert!(acked > count, "the workers were killed before they did anything");
}

/// A worker that drives the durable registry through Meerkat's interface
/// (meerkat-core 0.5) loses no acknowledged call either: the recovered
/// registry is a prefix of the same calls made through that interface.
#[test]
fn killed_workers_driving_meerkats_interface_lose_no_acknowledged_call() {
    let count = kill_count() / 5;
    let dir = Scratch::dir("crash-meerkat").unwrap();
    let mut timing = Rng::new(0xfeed);
    let mut acked_total = 0;
    for seed in 3_000_000..3_000_000 + count {
        let path = dir.join(format!("{seed}.db"));
        let after = Duration::from_millis(5 + timing.below(70));
        let printed = run_and_kill(&path, seed, &["sync", "40", "meerkat"], after);
        let options = DurableOptions { config: crash_config(), ..DurableOptions::default() };
        let (recovered, _) = RuntimeOpsLifecycleRegistry::open(&path, options).unwrap();
        let view = durable_view(&recovered).unwrap();
        let replay =
            MeerkatRegistry::new(std::sync::Arc::new(RuntimeOpsLifecycleRegistry::with_config(crash_config())));
        let found = meerkat::matching_prefix(&replay, seed, (printed.acked, printed.acked + 1), &view);
        assert!(found.is_some(), "seed {seed} (killed after {after:?}): no prefix of {} calls", printed.acked + 1);
        acked_total += printed.acked;
        drop(recovered);
        for suffix in ["db", "db-wal", "db-shm"] {
            let _ = std::fs::remove_file(path.with_extension(suffix));
        }
    }
    assert!(acked_total > count, "the workers were killed before they did anything");
}
