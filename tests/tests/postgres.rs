//! The PostgreSQL store against a real server each test starts and stops
//! (`oplife_tests::postgres::Cluster`: `initdb` in a temporary directory, a
//! Unix socket, `nobody` when the tests run as root). Without PostgreSQL's
//! binaries each test prints that it was skipped, unless
//! `OPLIFE_REQUIRE_POSTGRES=1` makes that a failure (CI sets it).
//!
//! - the store's contract: one owner, a refused second claim, a takeover
//!   that fences the old owner's next write, compaction and cuts, and many
//!   registries in one database kept apart; the same ownership scenario,
//!   through the `Store` trait, on the memory, SQLite and PostgreSQL stores;
//! - a registry recovers what it acknowledged, `Sync` and `Batched`;
//! - with real processes: 100 `Sync` owners killed with SIGKILL lose no
//!   acknowledged call, 20 `Batched` ones nothing flushed; two processes
//!   racing to open one registry; an
//!   owner stopped (SIGSTOP), taken over once its lease ran out, continued
//!   (SIGCONT) and fenced at its first write;
//! - the server restarted at once (`pg_ctl restart -m immediate`) under
//!   load: calls in flight fail with a typed error, the registry refuses
//!   writes until reopened, and nothing acknowledged is lost.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use oplife_shell::{
    Claim, Durability, DurableOptions, JournalRecord, OperationSpec, OpsLifecycleConfig, OpsLifecycleError,
    OpsLifecycleRegistry, PostgresOptions, PostgresStore, RuntimeOpsLifecycleRegistry, SessionId, Store, StoreError,
    StoredImage,
};
use oplife_tests::postgres::Cluster;
use oplife_tests::scratch::Scratch;
use oplife_tests::worker::{Worker, last, two_owners};
use oplife_tests::workload::{Rng, Step, crash_config, durable_view, matching_prefix, reopened_view};

fn store(cluster: &Cluster, registry: &str, lease: Duration) -> PostgresStore {
    PostgresStore::connect(&cluster.params(), registry, PostgresOptions { lease }).unwrap()
}

fn records(seqs: std::ops::RangeInclusive<u64>) -> Vec<JournalRecord> {
    seqs.map(|seq| JournalRecord { seq, bytes: format!("record {seq}").into_bytes() }).collect()
}

#[test]
fn the_store_keeps_one_owner_fences_the_old_one_and_keeps_registries_apart() {
    let Some(cluster) = Cluster::start("postgres store contract").unwrap() else { return };
    let lease = Duration::from_secs(30);
    let (mut a, mut b) = (store(&cluster, "session-a", lease), store(&cluster, "session-a", lease));
    assert_eq!(a.claim(Claim::IfFree).unwrap().epoch, 1);
    a.append(&records(1..=3)).unwrap();
    // A live owner's lease refuses a second claim, which changes nothing.
    match b.claim(Claim::IfFree) {
        Err(StoreError::Owned { owner }) => assert_eq!(owner.epoch, 1),
        other => panic!("a second claim while the lease runs: {other:?}"),
    }
    assert_eq!(b.append(&records(4..=4)), Err(StoreError::Fenced { epoch: 0, current: 1 }));
    // A takeover fences the old owner: its next write stores nothing.
    assert_eq!(b.claim(Claim::TakeOver).unwrap().epoch, 2);
    assert_eq!(a.append(&records(4..=5)), Err(StoreError::Fenced { epoch: 1, current: 2 }));
    assert_eq!(a.truncate_after(0), Err(StoreError::Fenced { epoch: 1, current: 2 }));
    let image = StoredImage { upto: 4, bytes: b"image".to_vec() };
    assert_eq!(a.compact(&records(4..=4), &image), Err(StoreError::Fenced { epoch: 1, current: 2 }));
    assert_eq!(b.load().unwrap().journal, records(1..=3));
    b.append(&records(4..=6)).unwrap();
    b.compact(&records(7..=7), &image).unwrap();
    let stored = b.load().unwrap();
    assert_eq!(stored.image, Some(image.clone()));
    assert_eq!(stored.journal, records(5..=7));
    b.truncate_after(5).unwrap();
    assert_eq!(b.load().unwrap().journal, records(5..=5));
    assert_eq!(b.owner().unwrap().epoch, 2);
    // Another registry in the same database sees nothing of this one.
    let mut other = store(&cluster, "session-b", lease);
    assert_eq!(other.claim(Claim::IfFree).unwrap().epoch, 1);
    assert_eq!(other.load().unwrap(), oplife_shell::Stored::default());
    other.append(&records(1..=2)).unwrap();
    assert_eq!(b.load().unwrap().journal, records(5..=5));
    // Closing a store ends its lease: the registry is free at once.
    drop(b);
    let mut c = store(&cluster, "session-a", lease);
    assert_eq!(c.claim(Claim::IfFree).unwrap().epoch, 3);
    // Bad input is a typed error.
    assert!(matches!(
        PostgresStore::connect(&cluster.params(), "", PostgresOptions::default()),
        Err(StoreError::Other(_))
    ));
    let short = PostgresOptions { lease: Duration::from_millis(1) };
    assert!(matches!(PostgresStore::connect(&cluster.params(), "x", short), Err(StoreError::Other(_))));
    assert!(matches!(
        PostgresStore::connect("port=notanumber", "x", PostgresOptions::default()),
        Err(StoreError::Other(_))
    ));
}

/// The ownership contract of the `Store` trait, on handles `open` makes on
/// one store: one owner, a refused second claim, a takeover that fences
/// the first owner's next write, and a store free at once when its owner's
/// handle is dropped.
fn keeps_the_ownership_contract(name: &str, open: &dyn Fn() -> Box<dyn Store>) {
    let (mut a, mut b) = (open(), open());
    let first = a.claim(Claim::IfFree).unwrap().epoch;
    a.append(&records(1..=2)).unwrap();
    match b.claim(Claim::IfFree) {
        Err(StoreError::Owned { owner }) => assert_eq!(owner.epoch, first, "{name}"),
        other => panic!("{name}: a second claim: {other:?}"),
    }
    assert!(matches!(b.append(&records(3..=3)), Err(StoreError::Fenced { .. })), "{name}: an unclaimed write");
    assert_eq!(b.claim(Claim::TakeOver).unwrap().epoch, first + 1, "{name}");
    assert_eq!(a.append(&records(3..=3)), Err(StoreError::Fenced { epoch: first, current: first + 1 }), "{name}");
    b.append(&records(3..=3)).unwrap();
    assert_eq!(b.load().unwrap().journal, records(1..=3), "{name}");
    drop(a);
    drop(b);
    assert_eq!(open().claim(Claim::IfFree).unwrap().epoch, first + 2, "{name}: free once its owner is dropped");
}

#[test]
fn every_store_keeps_the_same_ownership_contract() {
    keeps_the_ownership_contract("memory", &{
        let memory = oplife_shell::MemoryStore::new();
        move || Box::new(memory.clone())
    });
    let path = Scratch::file("contract", "ops.db").unwrap();
    keeps_the_ownership_contract("sqlite", &|| Box::new(oplife_shell::SqliteStore::open(&path).unwrap()));
    let Some(cluster) = Cluster::start("postgres ownership contract").unwrap() else { return };
    keeps_the_ownership_contract("postgres", &|| Box::new(store(&cluster, "contract", Duration::from_secs(30))));
}

#[test]
fn a_registry_recovers_what_it_acknowledged_sync_and_batched() {
    let Some(cluster) = Cluster::start("postgres recovery").unwrap() else { return };
    for (id, durability) in [("sync", Durability::Sync), ("batched", Durability::Batched)] {
        let options = || DurableOptions {
            durability,
            config: crash_config(),
            compact_after: 25,
            flush_interval: Duration::from_millis(2),
            ..DurableOptions::default()
        };
        let lease = Duration::from_secs(30);
        let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store(&cluster, id, lease), options()).unwrap();
        let mut rng = Rng::new(7);
        for _ in 0..120 {
            Step::draw(&mut rng, durability == Durability::Sync).run(7, &registry).unwrap();
        }
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(registry.flush()).unwrap();
        let expected = reopened_view(&registry).unwrap();
        drop(registry);
        let (reopened, report) =
            RuntimeOpsLifecycleRegistry::open_store(store(&cluster, id, lease), options()).unwrap();
        assert_eq!(durable_view(&reopened).unwrap(), expected, "{id}: {report:?}");
    }
}

/// A crash worker on registry `id` of `cluster`'s database, in `Sync` mode.
fn start(cluster: &Cluster, id: &str, seed: u64, claim: Claim, lease_ms: u64) -> Worker {
    start_in(cluster, id, seed, claim, lease_ms, "sync")
}

/// A crash worker in `mode` (`sync` or `batched`), compacting every 40 calls.
fn start_in(cluster: &Cluster, id: &str, seed: u64, claim: Claim, lease_ms: u64, mode: &str) -> Worker {
    let mut args = vec![format!("postgres:{id}"), seed.to_string(), mode.into(), "40".into()];
    if claim == Claim::TakeOver {
        args.push("takeover".into());
    }
    let env = [("OPLIFE_PG_PARAMS", cluster.params()), ("OPLIFE_PG_LEASE_MS", lease_ms.to_string())];
    Worker::spawn(env!("CARGO_BIN_EXE_crash_worker"), &args, &env).unwrap()
}

fn last_ack(lines: &[String]) -> u64 {
    last(lines, "ack ")
}

fn options() -> DurableOptions {
    DurableOptions { config: crash_config(), ..DurableOptions::default() }
}

/// Reopens registry `id` (taking it over from the dead owner, whose lease
/// may still run) and checks it holds the first `acked` (or one more:
/// the call in flight) calls of the workload of `seed`.
fn holds_what_was_acknowledged(cluster: &Cluster, id: &str, seed: u64, acked: u64) {
    holds_a_prefix(cluster, id, seed, true, (acked, acked + 1));
}

/// Reopens registry `id` as [`holds_what_was_acknowledged`] does and checks
/// it holds the first `m` calls of the workload of `seed`, for an `m` from
/// `floor` to `ceiling`.
fn holds_a_prefix(cluster: &Cluster, id: &str, seed: u64, sync: bool, (floor, ceiling): (u64, u64)) {
    let lease = Duration::from_secs(1);
    let (recovered, _) =
        RuntimeOpsLifecycleRegistry::open_store(store(cluster, id, lease), options().taking_over()).unwrap();
    let view = durable_view(&recovered).unwrap();
    let replay = RuntimeOpsLifecycleRegistry::with_config(crash_config());
    let found = matching_prefix(&replay, seed, sync, (floor, ceiling), &view);
    assert!(found.is_some(), "{id}: the database lost a durable call ({floor} durable, {ceiling} at most)");
}

#[test]
fn a_hundred_killed_owners_lose_no_acknowledged_call() {
    let Some(cluster) = Cluster::start("postgres SIGKILL").unwrap() else { return };
    for round in 0..100u64 {
        let id = format!("killed-{round}");
        let seed = 1000 + round;
        let worker = start(&cluster, &id, seed, Claim::IfFree, 1000);
        assert_eq!(worker.next().as_deref(), Some("open"), "round {round}");
        let wait_for = 3 + round % 17;
        assert!(worker.wait_for_ack(wait_for), "the worker stopped before acknowledging call {}", wait_for);
        let acked = last_ack(&worker.kill()).max(wait_for);
        holds_what_was_acknowledged(&cluster, &id, seed, acked);
    }
}

#[test]
fn killed_batched_owners_lose_nothing_flushed() {
    let Some(cluster) = Cluster::start("postgres SIGKILL, batched").unwrap() else { return };
    for round in 0..20u64 {
        let id = format!("killed-batched-{round}");
        let seed = 2000 + round;
        let worker = start_in(&cluster, &id, seed, Claim::IfFree, 1000, "batched");
        assert_eq!(worker.next().as_deref(), Some("open"), "round {round}");
        let wait_for = 17 + round % 30;
        let mut lines = Vec::new();
        while let Some(line) = worker.next() {
            let done = line == format!("ack {wait_for}");
            lines.push(line);
            if done {
                break;
            }
        }
        lines.extend(worker.kill());
        let (durable, acked) = (last(&lines, "durable "), last_ack(&lines));
        assert!(durable >= 16, "round {round}: no flush before the kill: {lines:?}");
        holds_a_prefix(&cluster, &id, seed, false, (durable, acked + 1));
    }
}

#[test]
fn two_processes_racing_for_one_registry_one_owns_it() {
    let Some(cluster) = Cluster::start("postgres race").unwrap() else { return };
    for round in 0..10u64 {
        let id = format!("race-{round}");
        let (a, b) = (
            start(&cluster, &id, 100 + round, Claim::IfFree, 1000),
            start(&cluster, &id, 200 + round, Claim::IfFree, 1000),
        );
        let (first_a, first_b) = (a.next(), b.next());
        let firsts = [first_a.as_deref(), first_b.as_deref()];
        assert_eq!(firsts.iter().filter(|l| **l == Some("open")).count(), 1, "round {round}: {firsts:?}");
        assert_eq!(firsts.iter().filter(|l| **l == Some("owned")).count(), 1, "round {round}: {firsts:?}");
        let (owner, mut other, seed) =
            if firsts[0] == Some("open") { (a, b, 100 + round) } else { (b, a, 200 + round) };
        assert_eq!(other.child.wait().unwrap().code(), Some(4), "round {round}: the refused worker's status");
        assert!(owner.wait_for_ack(10), "the worker stopped before acknowledging call {}", 10);
        let acked = last_ack(&owner.kill()).max(10);
        holds_what_was_acknowledged(&cluster, &id, seed, acked);
    }
}

#[test]
fn a_stopped_owner_is_taken_over_after_its_lease_and_fenced_when_continued() {
    let Some(cluster) = Cluster::start("postgres SIGSTOP").unwrap() else { return };
    // Long enough that a second worker starts and is refused while the
    // stopped owner's lease still runs, even on a loaded machine.
    let lease_ms = 3000;
    for round in 0..3u64 {
        let id = format!("stopped-{round}");
        let (seed_a, seed_b) = (300 + round, 400 + round);
        let a = start(&cluster, &id, seed_a, Claim::IfFree, lease_ms);
        assert_eq!(a.next().as_deref(), Some("open"));
        let mut acked = 15;
        assert!(a.wait_for_ack(acked), "the worker stopped before acknowledging call {}", acked);
        let (b, a_before, waited) = loop {
            assert!(a.signal("-STOP"), "kill {} failed", "-STOP");
            let stopped = Instant::now();
            std::thread::sleep(Duration::from_millis(100));
            let a_before = last_ack(&a.drain()).max(acked);
            // While its lease runs, the stopped owner still holds the registry.
            let refused = start(&cluster, &id, seed_b, Claim::IfFree, lease_ms);
            assert_eq!(refused.next().as_deref(), Some("owned"), "round {round}: the lease still runs");
            std::thread::sleep(Duration::from_millis(lease_ms + 200).saturating_sub(stopped.elapsed()));
            let b = start(&cluster, &id, seed_b, Claim::IfFree, lease_ms);
            match b.next().as_deref() {
                Some("open") => break (b, a_before, stopped.elapsed()),
                // Stopped in the middle of a write, A holds its owner row:
                // the claim gave up, changing nothing. Let A go on a little.
                Some("busy") => {
                    assert!(a.signal("-CONT"), "kill {} failed", "-CONT");
                    acked = a_before + 1;
                    assert!(a.wait_for_ack(acked), "the worker stopped before acknowledging call {}", acked);
                }
                other => panic!("round {round}: the claim after the lease printed {other:?}"),
            }
        };
        eprintln!("round {round}: taken over {waited:?} after the owner stopped ({lease_ms} ms lease)");
        assert!(b.wait_for_ack(15), "the worker stopped before acknowledging call {}", 15);
        assert!(a.signal("-CONT"), "kill {} failed", "-CONT");
        let mut a_lines = Vec::new();
        while let Some(line) = a.next() {
            let sealed = line.starts_with("sealed ");
            a_lines.push(line);
            if sealed {
                break;
            }
        }
        assert!(
            a_lines.last().is_some_and(|l| l.starts_with("sealed ")),
            "round {round}: A was not sealed: {a_lines:?}"
        );
        let mut a = a;
        assert_eq!(a.child.wait().unwrap().code(), Some(3));
        assert!(b.wait_for_ack(25), "the worker stopped before acknowledging call {}", 25);
        let b_acked = last_ack(&b.kill()).max(25);
        let (recovered, _) = RuntimeOpsLifecycleRegistry::open_store(
            store(&cluster, &id, Duration::from_secs(1)),
            options().taking_over(),
        )
        .unwrap();
        let view = durable_view(&recovered).unwrap();
        let holds = [a_before, a_before + 1].into_iter().any(|a_calls| {
            [b_acked, b_acked + 1]
                .into_iter()
                .any(|b_calls| two_owners(seed_a, a_calls, seed_b, b_calls).unwrap() == view)
        });
        assert!(holds, "round {round}: the registry is not A's {a_before} calls then B's {b_acked}");
    }
}

#[test]
fn a_server_restarted_under_load_loses_nothing_acknowledged() {
    let Some(cluster) = Cluster::start("postgres restart").unwrap() else { return };
    let lease = Duration::from_secs(30);
    // Every operation stays listed after the reopening ends it.
    let options = || DurableOptions {
        config: OpsLifecycleConfig { max_completed: 1 << 20, ..OpsLifecycleConfig::default() },
        ..DurableOptions::default()
    };
    let (registry, _) =
        RuntimeOpsLifecycleRegistry::open_store(store(&cluster, "restarted", lease), options()).unwrap();
    let registry = Arc::new(registry);
    let stop = Arc::new(AtomicBool::new(false));
    let caller = {
        let (registry, stop) = (Arc::clone(&registry), Arc::clone(&stop));
        std::thread::spawn(move || {
            let (mut acknowledged, mut failed) = (Vec::new(), Vec::new());
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let spec = OperationSpec::background_tool(SessionId::new(), format!("call {n}"));
                let id = spec.id;
                match registry.register_operation(spec) {
                    Ok(()) => acknowledged.push(id),
                    // A call in flight fails closed, with the store's error.
                    Err(OpsLifecycleError::Store(error)) => failed.push((id, error)),
                    Err(other) => panic!("call {n}: not a store error: {other:?}"),
                }
            }
            (acknowledged, failed)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    cluster.restart_immediately().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (acknowledged, failed) = caller.join().unwrap();
    assert!(!acknowledged.is_empty(), "no call was acknowledged before the restart");
    assert!(!failed.is_empty(), "no call failed across the restart");
    // Every call after the first failure fails: the registry reports that
    // it cannot write until it is reopened.
    let first_failure = failed[0].0;
    assert!(
        acknowledged.iter().all(|id| registry.snapshot(id).unwrap().is_some()),
        "an acknowledged call is missing from the registry"
    );
    assert!(
        failed.iter().all(|(id, _)| registry.snapshot(id).unwrap().is_none()),
        "a failed call changed the registry"
    );
    let spec = OperationSpec::background_tool(SessionId::new(), "after the restart");
    assert!(matches!(registry.register_operation(spec), Err(OpsLifecycleError::Store(_))));
    drop(registry);
    // Reopened, it holds every acknowledged call, and of the failed ones at
    // most the one in flight when the connection broke.
    let (reopened, _) =
        RuntimeOpsLifecycleRegistry::open_store(store(&cluster, "restarted", lease), options()).unwrap();
    let held: Vec<_> = reopened.list_operations().unwrap().into_iter().map(|s| s.id).collect();
    assert!(acknowledged.iter().all(|id| held.contains(id)), "the database lost an acknowledged call");
    let extra: Vec<_> = held.iter().filter(|id| !acknowledged.contains(id)).collect();
    assert!(extra.len() <= 1 && extra.iter().all(|id| **id == first_failure), "unexpected records: {extra:?}");
    // And it writes again.
    reopened.register_operation(OperationSpec::background_tool(SessionId::new(), "reopened")).unwrap();
}
