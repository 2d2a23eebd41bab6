//! The durable registry: what a reopened store holds, compaction, the
//! journal's damaged records, `Batched` group commit, and cursors. Failure
//! injection is in `fail_closed.rs`, killed processes in `crash.rs`.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use oplife_shell::prelude::*;
use oplife_shell::{
    CursorRefusal, DurableOptions, JournalRecord, MemoryStore, RecoveryError, SqliteStore, Store, StoreError,
};
use oplife_tests::scratch::Scratch;
use oplife_tests::workload::{Rng, Step, crash_config, durable_view, reopened_view};

fn options(compact_after: u64) -> DurableOptions {
    DurableOptions { config: crash_config(), compact_after, ..DurableOptions::default() }
}

/// A copy of `store` that shares nothing with it.
fn copy(store: &MemoryStore) -> MemoryStore {
    let copy = MemoryStore::new();
    copy.set_contents(store.contents());
    copy
}

#[test]
fn a_reopened_store_is_the_live_registry_restored_after_every_call() {
    for seed in 1..=6 {
        let store = MemoryStore::new();
        let (live, report) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), options(7)).unwrap();
        assert_eq!((report.replayed, report.lost, report.cut), (0, 0, None));
        let plain = RuntimeOpsLifecycleRegistry::with_config(crash_config());
        let mut rng = Rng::new(seed);
        for n in 1..=500 {
            let step = Step::draw(&mut rng, true);
            // The durable registry answers every call as the in-memory one.
            assert_eq!(step.run(seed, &live).unwrap(), step.run(seed, &plain).unwrap(), "seed {seed}, call {n}");
            let (reopened, _) = RuntimeOpsLifecycleRegistry::open_store(copy(&store), options(7)).unwrap();
            assert_eq!(
                durable_view(&reopened).unwrap(),
                reopened_view(&live).unwrap(),
                "seed {seed}, call {n}: {step:?}"
            );
        }
        // Compaction kept the journal short: never more than `compact_after`
        // records after the image, which holds the rest.
        let stored = store.contents();
        let upto = stored.image.map_or(0, |image| image.upto);
        assert!(stored.journal.len() <= 7 && upto > 20, "{} records after {upto}", stored.journal.len());
        assert_eq!(upto + stored.journal.len() as u64, live.durable_mark().unwrap().seq);
    }
}

#[test]
fn a_sqlite_file_survives_the_process_and_reopens_through_the_journal() {
    let path = Scratch::file("durable", "ops.db").unwrap();
    let seed = 11;
    let (live, _) = RuntimeOpsLifecycleRegistry::open(&path, options(25)).unwrap();
    let mut rng = Rng::new(seed);
    for _ in 0..150 {
        Step::draw(&mut rng, true).run(seed, &live).unwrap();
    }
    let expected = reopened_view(&live).unwrap();
    drop(live);
    let (reopened, report) = RuntimeOpsLifecycleRegistry::open(&path, options(25)).unwrap();
    assert!(report.replayed > 0 && report.replayed <= 25, "{report:?}");
    assert_eq!(durable_view(&reopened).unwrap(), expected);
    // Reopening wrote the recovered registry as the new image.
    let stored = SqliteStore::open(&path).unwrap().load().unwrap();
    assert!(stored.journal.is_empty());
    drop(reopened);
}

/// A store after a few registrations, with its journal.
fn store_with_calls(calls: usize) -> (MemoryStore, RuntimeOpsLifecycleRegistry) {
    let store = MemoryStore::new();
    let (live, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), options(1000)).unwrap();
    for i in 0..calls {
        live.register_operation(OperationSpec::background_tool(SessionId::new(), format!("op {i}"))).unwrap();
    }
    (store, live)
}

#[test]
fn a_torn_last_record_is_cut_and_reported() {
    let (store, live) = store_with_calls(5);
    let expected = reopened_view(&live).unwrap();
    let whole = store.contents();
    let last = whole.journal.last().unwrap().clone();
    for torn in [last.bytes[..last.bytes.len() / 2].to_vec(), b"garbage".to_vec(), Vec::new()] {
        let damaged = copy(&store);
        let mut contents = whole.clone();
        contents.journal.push(JournalRecord { seq: last.seq + 1, bytes: torn });
        damaged.set_contents(contents);
        let (reopened, report) = RuntimeOpsLifecycleRegistry::open_store(damaged.clone(), options(1000)).unwrap();
        let cut = report.cut.unwrap();
        assert_eq!(cut.seq, last.seq + 1);
        assert_eq!(report.replayed, 5);
        assert_eq!(durable_view(&reopened).unwrap(), expected, "cut: {}", cut.reason);
        assert!(damaged.contents().journal.is_empty(), "the torn record was dropped with the rest of the journal");
    }
}

#[test]
fn damage_before_the_last_record_is_an_error_and_changes_nothing() {
    let (store, _live) = store_with_calls(5);
    let whole = store.contents();
    // A flipped byte in the third record.
    let mut flipped = whole.clone();
    let byte = flipped.journal[2].bytes.len() - 3;
    flipped.journal[2].bytes[byte] ^= 0x20;
    // A missing record.
    let mut gap = whole.clone();
    gap.journal.remove(1);
    // A damaged image.
    let mut image = whole.clone();
    if let Some(image) = &mut image.image {
        image.bytes.truncate(image.bytes.len() - 1);
    }
    let seq = whole.journal[2].seq;
    type Expect = fn(&RecoveryError, u64) -> bool;
    let cases: [(_, Expect); 3] = [
        (flipped, |e, seq| matches!(e, RecoveryError::CorruptRecord { seq: s, .. } if *s == seq)),
        (gap, |e, _| matches!(e, RecoveryError::Gap { .. })),
        (image, |e, _| matches!(e, RecoveryError::CorruptImage(_))),
    ];
    for (contents, expected) in cases {
        let damaged = MemoryStore::new();
        damaged.set_contents(contents.clone());
        let error = RuntimeOpsLifecycleRegistry::open_store(damaged.clone(), options(1000)).unwrap_err();
        assert!(expected(&error, seq), "{error}");
        assert_eq!(damaged.contents(), contents, "a failed reopening wrote nothing");
    }
}

fn batched(store: &MemoryStore) -> RuntimeOpsLifecycleRegistry {
    // The writer waits an hour unless asked: only `flush` commits.
    let options =
        DurableOptions { flush_interval: Duration::from_secs(3600), max_batch: 1 << 20, ..DurableOptions::batched() };
    RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions { config: crash_config(), ..options })
        .unwrap()
        .0
}

#[tokio::test]
async fn batched_calls_are_durable_only_once_flushed() {
    let store = MemoryStore::new();
    let registry = batched(&store);
    let writes = store.writes();
    let spec = OperationSpec::background_tool(SessionId::new(), "crawl");
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    registry.complete_operation(&id, OperationResult::new(id, "done")).unwrap();
    drop(registry.register_watcher(&id).unwrap()); // process-local: not journaled
    assert_eq!(store.writes(), writes, "nothing committed before a flush");
    assert_eq!(registry.durable_mark().unwrap().seq, 0);
    let mark = registry.flush().await.unwrap();
    assert_eq!((mark.seq, mark.feed_watermark), (3, 1));
    assert_eq!(store.contents().journal.len(), 3);
    assert_eq!(registry.durable_mark().unwrap(), mark);
    // A reopened copy holds the flushed calls.
    let (reopened, report) = RuntimeOpsLifecycleRegistry::open_store(copy(&store), options(1000)).unwrap();
    assert_eq!(report.replayed, 3);
    assert_eq!(reopened.snapshot(&id).unwrap().unwrap().status, OperationStatus::Completed);
}

#[test]
fn dropping_a_batched_registry_commits_what_it_queued() {
    let store = MemoryStore::new();
    let registry = batched(&store);
    let spec = OperationSpec::background_tool(SessionId::new(), "last words");
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    assert!(store.contents().journal.is_empty(), "queued, not committed");
    drop(registry);
    assert_eq!(store.contents().journal.len(), 1);
    let (reopened, _) = RuntimeOpsLifecycleRegistry::open_store(store, options(1000)).unwrap();
    assert!(reopened.snapshot(&id).unwrap().is_some());
}

#[tokio::test]
async fn a_failed_group_commit_refuses_calls_until_a_flush_succeeds() {
    let store = MemoryStore::new();
    let registry = batched(&store);
    let first = OperationSpec::background_tool(SessionId::new(), "first");
    registry.register_operation(first.clone()).unwrap();
    store.fail_writes(StoreError::Full);
    assert_eq!(registry.flush().await, Err(OpsLifecycleError::Store(StoreError::Full)));
    let before = registry.capture().unwrap();
    let second = OperationSpec::background_tool(SessionId::new(), "second");
    assert_eq!(registry.register_operation(second.clone()), Err(OpsLifecycleError::Store(StoreError::Full)));
    assert_eq!(registry.capture().unwrap(), before, "a refused call changed nothing");
    store.write_again();
    assert_eq!(registry.flush().await.unwrap().seq, 1, "the queued call was kept and committed");
    registry.register_operation(second).unwrap();
    assert_eq!(registry.flush().await.unwrap().seq, 2);
    let (reopened, _) = RuntimeOpsLifecycleRegistry::open_store(copy(&store), options(1000)).unwrap();
    assert!(reopened.snapshot(&first.id).unwrap().is_some());
}

#[tokio::test]
async fn cursors_are_durable_never_go_back_and_never_pass_the_durable_watermark() {
    let store = MemoryStore::new();
    let registry = batched(&store);
    let mut ids = Vec::new();
    for i in 0..12 {
        let spec = OperationSpec::background_tool(SessionId::new(), format!("op {i}"));
        ids.push(spec.id);
        registry.register_operation(spec).unwrap();
        registry.cancel_operation(&ids[i], None).unwrap();
    }
    let past = |asked, durable| OpsLifecycleError::Cursor {
        consumer: "late".into(),
        why: CursorRefusal::PastWatermark { asked, durable },
    };
    assert_eq!(registry.advance_cursor("late", 2), Err(past(2, 0)), "nothing is durable yet");
    assert_eq!(registry.flush().await.unwrap().feed_watermark, 12);
    assert_eq!(registry.advance_cursor("late", 2), Ok(2));
    assert_eq!(registry.advance_cursor("early", 12), Ok(12));
    assert!(matches!(
        registry.advance_cursor("late", 1),
        Err(OpsLifecycleError::Cursor { why: CursorRefusal::Backwards { current: 2, asked: 1 }, .. })
    ));
    assert!(matches!(
        registry.advance_cursor("", 1),
        Err(OpsLifecycleError::Cursor { why: CursorRefusal::BadName, .. })
    ));
    registry.flush().await.unwrap();
    drop(registry);
    // After a restart each consumer resumes from its own cursor; retention
    // (8 entries) dropped entries past "late"'s, which it is told.
    let (reopened, _) = RuntimeOpsLifecycleRegistry::open_store(store, options(1000)).unwrap();
    assert_eq!((reopened.cursor("late").unwrap(), reopened.cursor("early").unwrap()), (2, 12));
    let page = reopened.list_for("late").unwrap();
    assert_eq!(page.missed, Some(3..=4));
    assert_eq!(page.entries.first().map(|e| e.seq), Some(5));
    assert!(reopened.list_for("early").unwrap().entries.is_empty());
}

mod kinds {
    //! The kinds rows through the shell, durable store included: a capacity
    //! slot leaves no trace (no feed entry, no journal record, unknown after a
    //! reopen), a running wait on a detached job survives a reopen without a
    //! completion, and a reopen keeps exactly the unfinished operations it is
    //! asked to keep, refusing one that does not match.

    use oplife_shell::prelude::*;
    use oplife_shell::{
        DurableOptions, MemoryStore, OperationSource, RecoveryError, RestorePolicy, Retention, SnapshotError,
    };

    /// A copy of `store` that shares nothing with it.
    fn copy(store: &MemoryStore) -> MemoryStore {
        let copy = MemoryStore::new();
        copy.set_contents(store.contents());
        copy
    }

    fn reopen(store: &MemoryStore, keep: Vec<Retention>) -> Result<RuntimeOpsLifecycleRegistry, RecoveryError> {
        let options = DurableOptions { keep, ..DurableOptions::default() };
        RuntimeOpsLifecycleRegistry::open_store(copy(store), options).map(|(registry, _)| registry)
    }

    #[test]
    fn a_capacity_slot_is_neither_fed_nor_journaled_nor_recovered() {
        let store = MemoryStore::new();
        let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions::default()).unwrap();
        let owner = SessionId::new();
        let job = OperationSpec::background_tool(owner, "job");
        let job_id = job.id;
        registry.register_operation(job).unwrap();
        let journaled = store.contents().journal.len();

        let slot = OperationSpec::capacity_slot(owner, "slot");
        let slot_id = slot.id;
        registry.register_operation(slot).unwrap();
        registry.provisioning_succeeded(&slot_id).unwrap();
        let watch = registry.register_watcher(&slot_id).unwrap();
        assert_eq!(store.contents().journal.len(), journaled, "no call on a capacity slot is journaled");
        // While it runs, a reopen does not know it.
        assert!(reopen(&store, Vec::new()).unwrap().snapshot(&slot_id).unwrap().is_none());

        registry.complete_operation(&slot_id, OperationResult::new(slot_id, "released")).unwrap();
        // Its watcher hears; nothing else remains.
        let outcome = block_on(watch.wait()).unwrap();
        assert_eq!(*outcome, OperationTerminalOutcome::Completed(OperationResult::new(slot_id, "released")));
        assert!(registry.snapshot(&slot_id).unwrap().is_none());
        assert_eq!(registry.feed_watermark().unwrap(), 0);
        assert_eq!(store.contents().journal.len(), journaled);
        assert!(registry.collect_completed().unwrap().is_empty());
        let reopened = reopen(&store, Vec::new()).unwrap();
        assert!(reopened.snapshot(&slot_id).unwrap().is_none());
        assert_eq!(reopened.snapshot(&job_id).unwrap().unwrap().status, OperationStatus::Terminated);
    }

    #[test]
    fn a_running_detached_job_wait_survives_a_reopen_without_a_completion() {
        let store = MemoryStore::new();
        let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions::default()).unwrap();
        let owner = SessionId::new();
        let running = OperationSpec::detached_job_wait(owner, "await scan", "realm", "scan");
        let provisioning = OperationSpec::detached_job_wait(owner, "await index", "realm", "index");
        let (running_id, provisioning_id) = (running.id, provisioning.id);
        registry.register_operation(running).unwrap();
        registry.provisioning_succeeded(&running_id).unwrap();
        registry.register_operation(provisioning).unwrap();

        let reopened = reopen(&store, Vec::new()).unwrap();
        let kept = reopened.snapshot(&running_id).unwrap().unwrap();
        assert_eq!(kept.status, OperationStatus::Running);
        assert!(kept.terminal_outcome.is_none());
        assert_eq!(reopened.snapshot(&provisioning_id).unwrap().unwrap().status, OperationStatus::Terminated);
        let fed: Vec<OperationId> = reopened.list_since(0).unwrap().entries.iter().map(|e| e.id).collect();
        assert_eq!(fed, vec![provisioning_id], "the surviving wait mints nothing");
        // It ends later like any operation, and its ending wakes the owner.
        reopened.complete_operation(&running_id, OperationResult::new(running_id, "scanned")).unwrap();
        assert_eq!(reopened.feed_watermark().unwrap(), 2);
        assert!(reopened.wakes_owner(OperationKind::DetachedJobWait).unwrap());
    }

    #[test]
    fn a_reopen_keeps_exactly_what_it_is_asked_to_keep() {
        let store = MemoryStore::new();
        let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions::default()).unwrap();
        let owner = SessionId::new();
        let child = SessionId::new();
        let agent = OperationSpec::child_agent(owner, "agent", child);
        let job = OperationSpec::background_tool(owner, "job");
        let (agent_id, job_id) = (agent.id, job.id);
        registry.register_operation(agent).unwrap();
        registry.provisioning_succeeded(&agent_id).unwrap();
        registry.register_operation(job).unwrap();
        let source = Some(OperationSource::SessionChild { session_id: child });

        let keep = vec![Retention { id: agent_id, kind: OperationKind::MobMemberChild, source: source.clone() }];
        let reopened = reopen(&store, keep).unwrap();
        assert_eq!(reopened.snapshot(&agent_id).unwrap().unwrap().status, OperationStatus::Running);
        assert_eq!(reopened.snapshot(&job_id).unwrap().unwrap().status, OperationStatus::Terminated);

        let asked = [
            Retention { id: agent_id, kind: OperationKind::BackgroundToolOp, source: source.clone() },
            Retention { id: agent_id, kind: OperationKind::MobMemberChild, source: None },
            Retention { id: OperationId::new(), kind: OperationKind::BackgroundToolOp, source: None },
        ];
        for retention in asked {
            let (id, kind) = (retention.id, retention.kind);
            match reopen(&store, vec![retention]) {
                Err(RecoveryError::Snapshot(SnapshotError::RetentionMismatch { id: got, kind: of })) => {
                    assert_eq!((got, of), (id, kind));
                }
                Err(other) => panic!("{id} as {kind:?}: {other}"),
                Ok(_) => panic!("{id} as {kind:?}: kept"),
            }
        }
    }

    #[test]
    fn a_restore_keeps_what_it_is_asked_to_and_refuses_a_finished_one() {
        let registry = RuntimeOpsLifecycleRegistry::new();
        let job = OperationSpec::background_tool(SessionId::new(), "job");
        let id = job.id;
        registry.register_operation(job).unwrap();
        registry.provisioning_succeeded(&id).unwrap();
        let running = registry.capture().unwrap();
        registry.cancel_operation(&id, None).unwrap();
        let ended = registry.capture().unwrap();
        let keep = || vec![Retention { id, kind: OperationKind::BackgroundToolOp, source: None }];

        let restored = RuntimeOpsLifecycleRegistry::restore_keeping(running, RestorePolicy::default(), keep()).unwrap();
        assert_eq!(restored.snapshot(&id).unwrap().unwrap().status, OperationStatus::Running);
        let refused = RuntimeOpsLifecycleRegistry::restore_keeping(ended, RestorePolicy::default(), keep());
        assert!(matches!(refused, Err(SnapshotError::RetentionMismatch { id: got, .. }) if got == id));
    }

    /// Waits for `future` on a runtime of its own.
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
    }
}
