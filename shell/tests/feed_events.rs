//! The completion feed, operation events, and capture / restore without
//! serialisation.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{background_spec, child_spec, handle, result, running};
use oplife_shell::Refusal;
use oplife_shell::{
    ObservedEvent, OperationEvent, OperationId, OperationProgressUpdate, OperationStatus, OperationTerminalOutcome,
    OpsLifecycleConfig, OpsLifecycleError, OpsLifecycleRegistry, RestorePolicy, RunId, RuntimeOpsLifecycleRegistry,
};

fn registry(max_completed: usize, feed_retention: usize, event_capacity: usize) -> RuntimeOpsLifecycleRegistry {
    RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_completed,
        feed_retention,
        event_capacity,
        ..OpsLifecycleConfig::default()
    })
}

/// A safety net against a hang, not a speed assertion.
const HANG: Duration = Duration::from_secs(30);

#[test]
fn the_feed_lists_each_ending_once_and_names_the_range_it_dropped() {
    let registry = registry(8, 2, 16);
    assert_eq!(registry.feed_watermark().unwrap(), 0);
    let a = running(&registry, "alpha");
    let b = running(&registry, "beta");
    let c = running(&registry, "gamma");
    registry.complete_operation(&a, result(a, "A")).unwrap();
    registry.fail_operation(&b, "boom".into()).unwrap();
    // A refused call mints nothing.
    assert!(registry.fail_operation(&b, "again".into()).is_err());
    registry.cancel_operation(&c, None).unwrap();
    assert_eq!(registry.feed_watermark().unwrap(), 3);

    let page = registry.list_since(0).unwrap();
    assert_eq!(page.missed, Some(1..=1));
    assert_eq!(page.watermark, 3);
    let got: Vec<(u64, OperationId, &str)> =
        page.entries.iter().map(|e| (e.seq, e.id, e.display_name.as_str())).collect();
    assert_eq!(got, vec![(2, b, "beta"), (3, c, "gamma")]);
    assert_eq!(*page.entries[0].outcome, OperationTerminalOutcome::Failed { error: "boom".into() });
    let snapshot = registry.snapshot(&c).unwrap().unwrap();
    assert_eq!(Some(page.entries[1].completed_at_ms), snapshot.completed_at_ms);

    let rest = registry.list_since(2).unwrap();
    assert_eq!((rest.missed, rest.entries.len()), (None, 1));
    assert!(registry.list_since(3).unwrap().entries.is_empty());
}

#[test]
fn owner_termination_of_many_stamps_every_record_and_feed_entry() {
    // A hundred endings in one call: their records are stamped after it, in
    // one pass. Each must still get its end time and its feed entry, which
    // keeps its name once the record is collected (kept: 100) or evicted
    // during the termination itself (kept: 2).
    for max_completed in [100, 2] {
        let registry = registry(max_completed, 100, 16);
        let names: Vec<String> = (0..100).map(|i| format!("op-{i:03}")).collect();
        let ids: Vec<OperationId> = names.iter().map(|name| running(&registry, name)).collect();
        registry.terminate_owner("bye".into()).unwrap();

        let page = registry.list_since(0).unwrap();
        let listed: Vec<(OperationId, &str)> = page.entries.iter().map(|e| (e.id, e.display_name.as_str())).collect();
        let expected: Vec<(OperationId, &str)> = ids.iter().copied().zip(names.iter().map(String::as_str)).collect();
        assert_eq!(listed, expected, "max_completed {max_completed}");
        for id in ids.iter().skip(100 - max_completed) {
            let snapshot = registry.snapshot(id).unwrap().unwrap();
            let entry = page.entries.iter().find(|e| e.id == *id).unwrap();
            assert_eq!(snapshot.completed_at_ms, Some(entry.completed_at_ms), "max_completed {max_completed}");
        }

        assert_eq!(registry.collect_completed().unwrap().len(), max_completed);
        let after = registry.list_since(0).unwrap();
        let names_after: Vec<&str> = after.entries.iter().map(|e| e.display_name.as_str()).collect();
        assert_eq!(names_after, names.iter().map(String::as_str).collect::<Vec<_>>(), "max_completed {max_completed}");
    }
}

#[test]
fn feed_entries_outlive_collection_and_eviction() {
    let registry = registry(1, 8, 16);
    let a = running(&registry, "a");
    let b = running(&registry, "b");
    registry.complete_operation(&a, result(a, "A")).unwrap();
    registry.complete_operation(&b, result(b, "B")).unwrap(); // evicts a
    assert_eq!(registry.collect_completed().unwrap().len(), 1);
    let c = running(&registry, "c");
    registry.complete_operation(&c, result(c, "C")).unwrap(); // retained: its record holds the name
    let names = |registry: &RuntimeOpsLifecycleRegistry| -> Vec<String> {
        registry.list_since(0).unwrap().entries.into_iter().map(|e| e.display_name).collect()
    };
    assert_eq!(names(&registry), vec!["a", "b", "c"]);
    // A snapshot carries every name, whoever holds it; so does the registry
    // restored from it, after its records are evicted too.
    let restored = RuntimeOpsLifecycleRegistry::restore(registry.capture().unwrap(), RestorePolicy::default()).unwrap();
    assert_eq!(names(&restored), vec!["a", "b", "c"]);
    let d = running(&restored, "d");
    restored.complete_operation(&d, result(d, "D")).unwrap(); // evicts c
    assert!(restored.snapshot(&c).unwrap().is_none());
    assert_eq!(names(&restored), vec!["a", "b", "c", "d"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_the_watermark_loses_no_wake_up() {
    let registry = Arc::new(registry(4, 4, 16));
    // Already past: resolves at once.
    let a = running(&*registry, "a");
    registry.cancel_operation(&a, None).unwrap();
    assert_eq!(registry.wait_for_watermark(0).await, 1);

    // A consumer that reads the watermark and then waits, while another
    // task ends operations at any moment, sees every ending. The watermark
    // is read before the producer starts, so its 200 endings all lie ahead.
    let mut seen = registry.feed_watermark().unwrap();
    assert_eq!(seen, 1);
    let producer = {
        let registry = Arc::clone(&registry);
        tokio::spawn(async move {
            for i in 0..200 {
                let id = running(&*registry, &format!("op{i}"));
                registry.complete_operation(&id, result(id, "done")).unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let mut delivered = 0u64;
    while seen < 201 {
        let now = tokio::time::timeout(HANG, registry.wait_for_watermark(seen)).await.unwrap();
        assert!(now > seen);
        let page = registry.list_since(seen).unwrap();
        delivered += page.entries.len() as u64 + page.missed.map_or(0, |m| m.end() - m.start() + 1);
        seen = page.watermark;
    }
    producer.await.unwrap();
    // Every sequence number was either listed or reported as missed.
    assert_eq!(delivered, 200);
}

#[tokio::test]
async fn events_arrive_in_lifecycle_order_with_their_payloads() {
    let registry = registry(8, 8, 64);
    let mut events = registry.subscribe_events().unwrap();
    let spec = child_spec("child");
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    registry.peer_ready(&id, handle("p")).unwrap();
    let update = OperationProgressUpdate { message: "half".into(), percent: Some(50.into()) };
    registry.report_progress(&id, update.clone()).unwrap();
    registry.complete_operation(&id, result(id, "ok")).unwrap();
    let mut got = Vec::new();
    for _ in 0..5 {
        match events.recv().await.unwrap() {
            ObservedEvent::Event(event) => got.push(event),
            gap => panic!("unexpected {gap:?}"),
        }
    }
    assert_eq!(
        got,
        vec![
            OperationEvent::Registered {
                id,
                kind: oplife_shell::OperationKind::MobMemberChild,
                display_name: "child".into()
            },
            OperationEvent::Started { id },
            OperationEvent::PeerReady { id, peer: handle("p") },
            OperationEvent::Progress { id, update },
            OperationEvent::Ended { id, outcome: OperationTerminalOutcome::Completed(result(id, "ok")).into(), seq: 1 },
        ]
    );
    assert!(events.try_recv().is_none());
}

#[tokio::test]
async fn a_subscriber_sees_only_later_events() {
    let registry = registry(8, 8, 64);
    let early = running(&registry, "early");
    let mut events = registry.subscribe_events().unwrap();
    registry.cancel_operation(&early, None).unwrap();
    match events.recv().await.unwrap() {
        ObservedEvent::Event(OperationEvent::Ended { id, .. }) => assert_eq!(id, early),
        other => panic!("unexpected {other:?}"),
    }
    assert!(events.try_recv().is_none());
}

#[tokio::test]
async fn a_slow_subscriber_gets_an_explicit_gap_and_never_blocks_a_call() {
    let registry = registry(64, 64, 4);
    let mut slow = registry.subscribe_events().unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        // Registered + Started: 10 events, 6 more than the capacity.
        ids.push(running(&registry, &format!("op{i}")));
    }
    assert_eq!(slow.recv().await, Some(ObservedEvent::Gap { missed: 6 }));
    let rest: Vec<ObservedEvent> = std::iter::from_fn(|| slow.try_recv()).collect();
    assert_eq!(
        rest,
        vec![
            ObservedEvent::Event(OperationEvent::Registered {
                id: ids[3],
                kind: oplife_shell::OperationKind::BackgroundToolOp,
                display_name: "op3".into()
            }),
            ObservedEvent::Event(OperationEvent::Started { id: ids[3] }),
            ObservedEvent::Event(OperationEvent::Registered {
                id: ids[4],
                kind: oplife_shell::OperationKind::BackgroundToolOp,
                display_name: "op4".into()
            }),
            ObservedEvent::Event(OperationEvent::Started { id: ids[4] }),
        ]
    );
}

#[test]
fn events_from_many_threads_keep_transition_order() {
    let registry = Arc::new(registry(1024, 1024, 1 << 16));
    let mut events = registry.subscribe_events().unwrap();
    std::thread::scope(|scope| {
        for t in 0..2 {
            let registry = Arc::clone(&registry);
            scope.spawn(move || {
                for i in 0..300 {
                    let id = running(&*registry, &format!("t{t}-{i}"));
                    registry.complete_operation(&id, result(id, "x")).unwrap();
                }
            });
        }
    });
    let mut started = std::collections::HashSet::new();
    let mut last_seq = 0;
    let mut count = 0;
    while let Some(observed) = events.try_recv() {
        count += 1;
        match observed {
            ObservedEvent::Event(OperationEvent::Registered { id, .. }) => assert!(started.insert(id)),
            ObservedEvent::Event(OperationEvent::Ended { id, seq, .. }) => {
                assert!(started.contains(&id), "ended before registered");
                assert_eq!(seq, last_seq + 1, "feed order and event order differ");
                last_seq = seq;
            }
            ObservedEvent::Event(_) => {}
            ObservedEvent::Gap { missed } => panic!("missed {missed}"),
        }
    }
    assert_eq!((count, last_seq), (1800, 600));
}

#[tokio::test]
async fn restore_keeps_terminal_records_and_the_feed_and_ends_lost_operations() {
    let old = registry(8, 8, 16);
    let done = running(&old, "done");
    old.complete_operation(&done, result(done, "kept")).unwrap();
    let lost = running(&old, "lost");
    old.peer_ready(&lost, handle("x")).unwrap_err(); // background: no peer
    let mut watch = old.register_watcher(&lost).unwrap();
    let wait = old.wait_all(&RunId::new(), &[lost]);
    let snapshot = old.capture().unwrap();
    assert_eq!(snapshot.records.len(), 2);

    let restored = RuntimeOpsLifecycleRegistry::restore(snapshot.clone(), RestorePolicy::default()).unwrap();
    let kept = restored.snapshot(&done).unwrap().unwrap();
    let before = old.snapshot(&done).unwrap().unwrap();
    assert_eq!(kept, before);
    let ended = restored.snapshot(&lost).unwrap().unwrap();
    assert_eq!(ended.status, OperationStatus::Terminated);
    assert_eq!(
        ended.terminal_outcome.as_deref(),
        Some(&OperationTerminalOutcome::Terminated { reason: "lost in a restart".into() })
    );
    assert_eq!(ended.watcher_count, 0);
    assert_eq!(restored.pending_waits().unwrap(), 0);
    let page = restored.list_since(0).unwrap();
    assert_eq!(page.entries.iter().map(|e| (e.seq, e.id)).collect::<Vec<_>>(), vec![(1, done), (2, lost)]);
    assert_eq!(page.entries[0], old.list_since(0).unwrap().entries[0]);
    // The old process's watch and wait are its own, and still pending there.
    assert!(watch.try_outcome().is_none());
    drop(wait);
    // The restored registry goes on as usual.
    let next = running(&restored, "next");
    restored.cancel_operation(&next, None).unwrap();
    assert_eq!(restored.feed_watermark().unwrap(), 3);

    let cancelled =
        RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::Cancel { reason: Some("restart".into()) })
            .unwrap();
    assert_eq!(
        cancelled.snapshot(&lost).unwrap().unwrap().terminal_outcome.as_deref(),
        Some(&OperationTerminalOutcome::Cancelled { reason: Some("restart".into()) })
    );
}

#[test]
fn restore_after_owner_termination_stays_terminated() {
    let old = RuntimeOpsLifecycleRegistry::new();
    running(&old, "a");
    old.terminate_owner("bye".into()).unwrap();
    let restored = RuntimeOpsLifecycleRegistry::restore(old.capture().unwrap(), RestorePolicy::default()).unwrap();
    assert_eq!(
        restored.register_operation(background_spec("b")),
        Err(OpsLifecycleError::Refused(Refusal::OwnerTerminated))
    );
    assert_eq!(restored.capture().unwrap(), old.capture().unwrap());
}

#[test]
fn an_inconsistent_snapshot_is_refused() {
    use oplife_shell::SnapshotError;
    let old = RuntimeOpsLifecycleRegistry::new();
    let a = running(&old, "a");
    old.cancel_operation(&a, None).unwrap();
    let good = old.capture().unwrap();

    let mut snapshot = good.clone();
    snapshot.version = 2;
    assert_eq!(
        RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::default()).err(),
        Some(SnapshotError::UnsupportedVersion { found: 2, supported: 1 })
    );
    let mut snapshot = good.clone();
    snapshot.records.clear();
    assert!(matches!(
        RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::default()),
        Err(SnapshotError::Inconsistent(_))
    ));
    let mut snapshot = good.clone();
    snapshot.feed_details.clear();
    assert!(matches!(
        RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::default()),
        Err(SnapshotError::Inconsistent(_))
    ));
    let mut snapshot = good;
    snapshot.image.operations[0].outcome = None;
    match RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::default()) {
        Err(SnapshotError::Inconsistent(why)) => assert!(why.contains("with outcome None"), "{why}"),
        other => panic!("{other:?}"),
    }
}
