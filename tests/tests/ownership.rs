//! One owner per durable store, with real processes on a real SQLite file
//! and in one process (two registries, one file; and the memory store):
//! - two openers race: exactly one owns the store, the other is refused
//!   with `StoreError::Owned`, nothing acknowledged is lost;
//! - the owner is stopped (SIGSTOP), a second opener takes the store over
//!   and works; the first, continued (SIGCONT), is fenced at its next write
//!   and sealed; the file holds every call either acknowledged. (An owner
//!   stopped in the middle of a commit holds SQLite's write lock: a takeover
//!   then fails with `Busy`, changing nothing, and the test lets the owner
//!   go on a little and stops it again.)
//!
//! (An owner killed with SIGKILL holds nothing: `crash.rs` reopens the store
//! right after each of its 240 kills with the default claim.)

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use oplife_shell::Refusal;
use oplife_shell::{
    Claim, DurableOptions, MemoryStore, OperationSpec, OpsLifecycleError, OpsLifecycleRegistry, OwnerState,
    RecoveryError, RuntimeOpsLifecycleRegistry, SessionId, SqliteStore, Store, StoreError,
};
use oplife_tests::scratch::Scratch;
use oplife_tests::worker::{self, Worker, last};
use oplife_tests::workload::{DurableView, crash_config, durable_view};

/// A store file in a directory of its own, deleted when dropped.
fn scratch(name: &str) -> Scratch {
    Scratch::file(&format!("ownership-{name}"), "ops.db").unwrap()
}

fn options() -> DurableOptions {
    DurableOptions { config: crash_config(), ..DurableOptions::default() }
}

/// A worker on the store at `path`, in `Sync` mode, compacting every 40
/// calls.
fn start(path: &Path, seed: u64, claim: Claim) -> Worker {
    let mut args = vec![path.to_str().unwrap().to_owned(), seed.to_string(), "sync".into(), "40".into()];
    if claim == Claim::TakeOver {
        args.push("takeover".into());
    }
    Worker::spawn(env!("CARGO_BIN_EXE_crash_worker"), &args, &[]).unwrap()
}

fn last_ack(lines: &[String]) -> u64 {
    last(lines, "ack ")
}

fn two_owners(seed_a: u64, a: u64, seed_b: u64, b: u64) -> DurableView {
    worker::two_owners(seed_a, a, seed_b, b).unwrap()
}

#[test]
fn two_processes_racing_for_one_file_one_owns_it_and_the_other_is_refused() {
    for round in 0..10u64 {
        let path = scratch(&format!("race-{round}"));
        let (a, b) = (start(&path, 100 + round, Claim::IfFree), start(&path, 200 + round, Claim::IfFree));
        let (first_a, first_b) = (a.next(), b.next());
        let opened: Vec<bool> = [&first_a, &first_b].iter().map(|l| l.as_deref() == Some("open")).collect();
        let refused: Vec<bool> = [&first_a, &first_b].iter().map(|l| l.as_deref() == Some("owned")).collect();
        assert_eq!(opened.iter().filter(|o| **o).count(), 1, "round {round}: {first_a:?} / {first_b:?}");
        assert_eq!(refused.iter().filter(|r| **r).count(), 1, "round {round}: {first_a:?} / {first_b:?}");
        let (owner, other, seed) = if opened[0] { (a, b, 100 + round) } else { (b, a, 200 + round) };
        let mut other = other;
        assert_eq!(other.child.wait().unwrap().code(), Some(4), "round {round}: the refused worker's status");
        assert!(owner.wait_for_ack(20), "the worker stopped before acknowledging call {}", 20);
        let lines = owner.kill();
        let acked = last_ack(&lines).max(20);
        let (recovered, _) = RuntimeOpsLifecycleRegistry::open(&path, options()).unwrap();
        let view = durable_view(&recovered).unwrap();
        let replay = RuntimeOpsLifecycleRegistry::with_config(crash_config());
        let found = oplife_tests::workload::matching_prefix(&replay, seed, true, (acked, acked + 1), &view);
        assert!(found.is_some(), "round {round}: the store lost an acknowledged call of the owner ({acked} acked)");
        drop(recovered);
    }
}

#[test]
fn a_stopped_owner_is_taken_over_and_its_next_write_is_fenced() {
    for round in 0..5u64 {
        let path = scratch(&format!("stop-{round}"));
        let (seed_a, seed_b) = (300 + round, 400 + round);
        let a = start(&path, seed_a, Claim::IfFree);
        assert_eq!(a.next().as_deref(), Some("open"));
        let (mut acked, mut busy) = (15, 0);
        assert!(a.wait_for_ack(acked), "the worker stopped before acknowledging call {}", acked);
        let (b, a_before) = loop {
            assert!(a.signal("-STOP"), "kill {} failed", "-STOP");
            // Stopped, it prints nothing more: let the reader take what is
            // already in the pipe.
            std::thread::sleep(Duration::from_millis(100));
            let a_before = last_ack(&a.drain()).max(acked);
            // Without a takeover the stopped owner still holds the store.
            let refused = start(&path, seed_b, Claim::IfFree);
            assert_eq!(refused.next().as_deref(), Some("owned"), "round {round}: a stopped owner is alive");
            let b = start(&path, seed_b, Claim::TakeOver);
            match b.next().as_deref() {
                Some("open") => break (b, a_before),
                // Stopped in the middle of a commit, the owner holds
                // SQLite's write lock: the takeover changed nothing. Let
                // it go on a little, and stop it again.
                Some("busy") => {
                    busy += 1;
                    assert!(a.signal("-CONT"), "kill {} failed", "-CONT");
                    acked = a_before + 1;
                    assert!(a.wait_for_ack(acked), "the worker stopped before acknowledging call {}", acked);
                }
                other => panic!("round {round}: the takeover printed {other:?}"),
            }
        };
        eprintln!("round {round}: {busy} takeovers met a commit under way and changed nothing");
        assert!(b.wait_for_ack(15), "the worker stopped before acknowledging call {}", 15);
        assert!(a.signal("-CONT"), "kill {} failed", "-CONT");
        // A's next write is fenced: it reports its registry sealed and stops.
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
        let b_lines = b.kill();
        let b_acked = last_ack(&b_lines).max(25);
        // Every call A had acknowledged when it was stopped, then B's.
        let (recovered, _) = RuntimeOpsLifecycleRegistry::open(&path, options()).unwrap();
        let view = durable_view(&recovered).unwrap();
        let holds = [a_before, a_before + 1].into_iter().any(|a_calls| {
            [b_acked, b_acked + 1].into_iter().any(|b_calls| two_owners(seed_a, a_calls, seed_b, b_calls) == view)
        });
        assert!(holds, "round {round}: the store is not A's {a_before} calls then B's {b_acked}");
        drop(recovered);
    }
}

fn register(registry: &RuntimeOpsLifecycleRegistry, name: &str) -> Result<(), OpsLifecycleError> {
    registry.register_operation(OperationSpec::background_tool(SessionId::new(), name))
}

#[test]
fn in_one_process_a_second_registry_on_the_same_file_is_refused_and_changes_nothing() {
    let path = scratch("in-process-race");
    let (first, _) = RuntimeOpsLifecycleRegistry::open(&path, options()).unwrap();
    register(&first, "one").unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
    let refused = RuntimeOpsLifecycleRegistry::open(&path, options()).map(drop).unwrap_err();
    let RecoveryError::Store(StoreError::Owned { owner }) = refused else { panic!("not refused as owned: {refused}") };
    assert_eq!((owner.epoch, owner.pid), (1, Some(std::process::id())));
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the refused opener wrote to the file");
    assert_eq!(std::fs::read(path.with_extension("db-wal")).unwrap_or_default(), wal);
    register(&first, "two").unwrap();
    let held = first.capture().unwrap();
    drop(first);
    // Dropped, the owner holds nothing: the next open succeeds at once.
    let (reopened, report) = RuntimeOpsLifecycleRegistry::open(&path, options()).unwrap();
    assert_eq!(report.lost, 2);
    assert_eq!(reopened.capture().unwrap().records.len(), held.records.len(), "an acknowledged call was lost");
}

#[test]
fn in_one_process_a_takeover_fences_and_seals_the_old_registry() {
    let path = scratch("in-process-takeover");
    let (old, _) = RuntimeOpsLifecycleRegistry::open(&path, options()).unwrap();
    register(&old, "before").unwrap();
    let (new, report) = RuntimeOpsLifecycleRegistry::open(&path, options().taking_over()).unwrap();
    assert_eq!((report.replayed, report.lost), (1, 1));
    register(&new, "by the new owner").unwrap();
    // The old registry's next write is fenced; from then on it is sealed.
    assert_eq!(register(&old, "after"), Err(OpsLifecycleError::Refused(Refusal::Sealed)));
    assert_eq!(old.owner_state().unwrap(), OwnerState::Sealed);
    let id = old.list_operations().unwrap()[0].id;
    assert_eq!(old.cancel_operation(&id, None), Err(OpsLifecycleError::Refused(Refusal::Sealed)));
    assert_eq!(old.collect_completed().map(drop), Err(OpsLifecycleError::Refused(Refusal::Sealed)));
    assert_eq!(old.terminate_owner("stop".into()), Err(OpsLifecycleError::Refused(Refusal::Sealed)));
    // Reads keep working, and show what it had.
    assert_eq!(old.list_operations().unwrap().len(), 1);
    assert!(old.snapshot(&id).unwrap().is_some());
    assert_eq!(new.owner_state().unwrap(), OwnerState::Open);
    register(&new, "still working").unwrap();
    drop((old, new));
    let (reopened, _) = RuntimeOpsLifecycleRegistry::open(&path, options()).unwrap();
    let names: Vec<String> = reopened.capture().unwrap().records.into_iter().map(|r| r.display_name).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for name in ["before", "by the new owner", "still working"] {
        assert!(names.iter().any(|n| n == name), "{name} lost: {names:?}");
    }
}

#[test]
fn the_memory_store_has_the_same_owners_and_fences() {
    let store = MemoryStore::new();
    let (old, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), options()).unwrap();
    let refused = RuntimeOpsLifecycleRegistry::open_store(store.clone(), options()).map(drop).unwrap_err();
    assert!(matches!(refused, RecoveryError::Store(StoreError::Owned { .. })), "{refused}");
    register(&old, "before").unwrap();
    let (new, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), options().taking_over()).unwrap();
    assert_eq!(store.owner().epoch, 2);
    assert_eq!(register(&old, "after"), Err(OpsLifecycleError::Refused(Refusal::Sealed)));
    assert_eq!(old.owner_state().unwrap(), OwnerState::Sealed);
    register(&new, "new").unwrap();
    // A handle that never claimed writes as the store's previous owner.
    let mut stale = store.clone();
    assert_eq!(stale.append(&[]), Err(StoreError::Fenced { epoch: 0, current: 2 }));
    drop((old, new));
    let (reopened, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), options()).unwrap();
    assert_eq!(reopened.capture().unwrap().records.len(), 2);
}

#[test]
fn a_batched_registry_is_sealed_when_its_writer_is_fenced() {
    let path = scratch("batched-takeover");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let batched = DurableOptions { config: crash_config(), ..DurableOptions::batched() };
    let (old, _) = RuntimeOpsLifecycleRegistry::open(&path, batched.clone()).unwrap();
    register(&old, "flushed").unwrap();
    runtime.block_on(old.flush()).unwrap();
    let (new, _) = RuntimeOpsLifecycleRegistry::open(&path, batched.taking_over()).unwrap();
    // Acknowledged but never flushed: the writer's commit is fenced.
    let _ = register(&old, "unflushed");
    assert_eq!(runtime.block_on(old.flush()), Err(OpsLifecycleError::Refused(Refusal::Sealed)));
    assert_eq!(old.owner_state().unwrap(), OwnerState::Sealed);
    assert_eq!(register(&old, "later"), Err(OpsLifecycleError::Refused(Refusal::Sealed)));
    register(&new, "new").unwrap();
    runtime.block_on(new.flush()).unwrap();
    drop((old, new));
    let (reopened, _) = RuntimeOpsLifecycleRegistry::open(&path, options()).unwrap();
    let names: Vec<String> = reopened.capture().unwrap().records.into_iter().map(|r| r.display_name).collect();
    assert_eq!(names, vec!["flushed".to_owned(), "new".to_owned()]);
}

#[test]
fn a_sqlite_store_claimed_twice_records_a_growing_epoch() {
    let path = scratch("epochs");
    for expected in 1..=3 {
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.claim(Claim::IfFree).unwrap().epoch, expected);
        assert_eq!(store.owner().unwrap().epoch, expected);
    }
}
