//! The registry driven as Meerkat's runtime drives its own, through
//! `Arc<dyn OpsLifecycleRegistry>` of meerkat-core 0.9.8, with Meerkat's
//! types only: every method, the refusals the machine can give through
//! this interface, the feed and the typed cursors, and a durable registry's
//! recovery.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use meerkat_core_0_9::comms::{PeerAddress, PeerId, PeerName, TrustedPeerDescriptor};
use meerkat_core_0_9::lifecycle::RunId;
use meerkat_core_0_9::ops_lifecycle::{
    CompletionCursorConsumer, OperationCompletionWakeClass, OperationId, OperationKind, OperationLifecycleAction,
    OperationPeerHandle, OperationProgressUpdate, OperationPublicResultClass, OperationResult, OperationSource,
    OperationSpec, OperationStatus, OperationTerminalOutcome, OpsLifecycleError, OpsLifecycleRegistry,
    OpsOwnerAdmission,
};
use meerkat_core_0_9::runtime_epoch::EpochCursorState;
use meerkat_core_0_9::types::SessionId;
use oplife_shell::uuid::Uuid;
use oplife_shell::{MeerkatRegistry, OpsLifecycleConfig, RuntimeOpsLifecycleRegistry};

fn meerkat(config: OpsLifecycleConfig) -> Arc<dyn OpsLifecycleRegistry> {
    Arc::new(MeerkatRegistry::new(Arc::new(RuntimeOpsLifecycleRegistry::with_config(config))))
}

fn registry() -> Arc<dyn OpsLifecycleRegistry> {
    meerkat(OpsLifecycleConfig::default())
}

fn tool(name: &str) -> OperationSpec {
    OperationSpec {
        id: OperationId(Uuid::new_v4()),
        kind: OperationKind::BackgroundToolOp,
        owner_session_id: SessionId(Uuid::new_v4()),
        display_name: name.into(),
        source_label: "shell".into(),
        operation_source: None,
        child_session_id: None,
        expect_peer_channel: false,
    }
}

fn child(name: &str) -> OperationSpec {
    let session = SessionId(Uuid::new_v4());
    OperationSpec {
        kind: OperationKind::MobMemberChild,
        operation_source: Some(OperationSource::session_child(session.clone())),
        child_session_id: Some(session),
        expect_peer_channel: true,
        ..tool(name)
    }
}

fn result(id: &OperationId, content: &str) -> OperationResult {
    OperationResult { id: id.clone(), content: content.into(), is_error: false, duration_ms: 7, tokens_used: 11 }
}

fn running(registry: &dyn OpsLifecycleRegistry, spec: OperationSpec) -> OperationId {
    let id = spec.id.clone();
    registry.register_operation(spec).unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    id
}

fn status(registry: &dyn OpsLifecycleRegistry, id: &OperationId) -> Option<OperationStatus> {
    registry.snapshot(id).unwrap().map(|s| s.status)
}

fn peer(name: &str) -> OperationPeerHandle {
    OperationPeerHandle {
        peer_name: PeerName::new(name).unwrap(),
        trusted_peer: TrustedPeerDescriptor {
            peer_id: PeerId(Uuid::new_v4()),
            name: PeerName::new(format!("{name}-trusted")).unwrap(),
            address: PeerAddress::parse("tcp://127.0.0.1:4100").unwrap(),
            pubkey: [7; 32],
        },
    }
}

#[test]
fn each_call_moves_the_operation_and_snapshots_say_everything() {
    let registry = registry();
    let spec = child("reviewer");
    let id = spec.id.clone();
    let owner = spec.owner_session_id.clone();
    let source = spec.operation_source.clone();
    registry.register_operation(spec).unwrap();
    let snapshot = registry.snapshot(&id).unwrap().unwrap();
    assert_eq!(
        (snapshot.status, snapshot.terminal, snapshot.public_result_class),
        (OperationStatus::Provisioning, false, OperationPublicResultClass::Running)
    );
    assert_eq!((snapshot.owner_session_id, snapshot.source_label.as_str()), (owner, "shell"));
    assert_eq!(snapshot.operation_source, source);
    assert!(snapshot.expect_peer_channel);

    registry.provisioning_succeeded(&id).unwrap();
    let handle = peer("reviewer");
    registry.peer_ready(&id, handle.clone()).unwrap();
    registry.report_progress(&id, OperationProgressUpdate { message: "a third".into(), percent: Some(33.3) }).unwrap();
    registry.request_retire(&id).unwrap();
    let snapshot = registry.snapshot(&id).unwrap().unwrap();
    assert_eq!(snapshot.peer_handle, Some(handle));
    assert_eq!((snapshot.status, snapshot.progress_count), (OperationStatus::Retiring, 1));
    assert_eq!(registry.classify_operation_public_result(&id).unwrap(), OperationPublicResultClass::Running);
    registry.mark_retired(&id).unwrap();
    let snapshot = registry.snapshot(&id).unwrap().unwrap();
    assert_eq!((snapshot.terminal, snapshot.public_result_class), (true, OperationPublicResultClass::Cancelled));
    assert_eq!(snapshot.terminal_outcome, Some(OperationTerminalOutcome::Retired));

    let done = running(&*registry, tool("grep"));
    registry.complete_operation(&done, result(&done, "3 matches")).unwrap();
    let failed = running(&*registry, tool("fetch"));
    registry.fail_operation(&failed, "offline".into()).unwrap();
    let cancelled = running(&*registry, tool("index"));
    registry.cancel_operation(&cancelled, Some("not needed".into())).unwrap();
    let aborted = tool("build");
    let aborted_id = aborted.id.clone();
    registry.register_operation(aborted).unwrap();
    registry.abort_provisioning(&aborted_id, None).unwrap();
    let unstarted = tool("lint");
    let unstarted_id = unstarted.id.clone();
    registry.register_operation(unstarted).unwrap();
    registry.provisioning_failed(&unstarted_id, "no binary".into()).unwrap();

    let classes: Vec<_> = [&done, &failed, &cancelled, &aborted_id, &unstarted_id]
        .into_iter()
        .map(|id| registry.classify_operation_public_result(id).unwrap())
        .collect();
    use OperationPublicResultClass as C;
    assert_eq!(classes, [C::Completed, C::Failed, C::Cancelled, C::Cancelled, C::Failed]);
    let unknown = OperationId(Uuid::new_v4());
    assert_eq!(registry.classify_operation_public_result(&unknown).unwrap(), C::MissingAuthority);

    assert_eq!(registry.list_operations().unwrap().len(), 6);
    assert_eq!(registry.collect_completed().unwrap().len(), 6);
    assert!(registry.list_operations().unwrap().is_empty());
}

#[test]
fn classifications_come_from_the_table() {
    let registry = registry();
    let any = OperationId(Uuid::new_v4());
    for (status, terminal) in [
        (OperationStatus::Absent, false),
        (OperationStatus::Provisioning, false),
        (OperationStatus::Retiring, false),
        (OperationStatus::Completed, true),
        (OperationStatus::Terminated, true),
    ] {
        assert_eq!(registry.classify_operation_terminality(&any, status).unwrap(), terminal, "{status:?}");
    }
    assert_eq!(
        registry.classify_operation_completion_wake(&any, OperationKind::BackgroundToolOp).unwrap(),
        OperationCompletionWakeClass::Wake
    );
    assert_eq!(
        registry.classify_operation_completion_wake(&any, OperationKind::MobMemberChild).unwrap(),
        OperationCompletionWakeClass::Ignore
    );

    // Idempotence is the table's retry rows: a repeat whatever the payload.
    let id = running(&*registry, tool("grep"));
    registry.cancel_operation(&id, None).unwrap();
    assert!(registry.classify_operation_transition_idempotence(&id, OperationLifecycleAction::Cancel).unwrap());
    assert!(!registry.classify_operation_transition_idempotence(&id, OperationLifecycleAction::Complete).unwrap());
    assert!(!registry.classify_operation_transition_idempotence(&id, OperationLifecycleAction::Terminate).unwrap());
}

#[test]
fn refusals_are_meerkats_errors() {
    let config = OpsLifecycleConfig { max_concurrent: Some(3), ..Default::default() };
    let registry = meerkat(config);
    let unknown = OperationId(Uuid::new_v4());
    assert_eq!(registry.provisioning_succeeded(&unknown), Err(OpsLifecycleError::NotFound(unknown.clone())));
    let spec = tool("grep");
    let id = spec.id.clone();
    registry.register_operation(spec.clone()).unwrap();
    assert_eq!(registry.register_operation(spec), Err(OpsLifecycleError::AlreadyRegistered(id.clone())));
    assert_eq!(
        registry.mark_retired(&id),
        Err(OpsLifecycleError::InvalidTransition {
            id: id.clone(),
            status: OperationStatus::Provisioning,
            action: "mark_retired"
        })
    );
    let started = running(&*registry, tool("started"));
    assert_eq!(registry.peer_ready(&started, peer("p")), Err(OpsLifecycleError::PeerNotExpected(started.clone())));
    assert_eq!(status(&*registry, &started), Some(OperationStatus::Running));

    // A per-registration limit.
    assert_eq!(
        registry.register_operation_with_admission_limit(tool("third"), Some(2)),
        Err(OpsLifecycleError::MaxConcurrentExceeded { limit: 2, active: 2 })
    );
    registry.register_operation_with_admission_limit(tool("third"), Some(5)).unwrap();
    assert_eq!(
        registry.register_operation(tool("fourth")),
        Err(OpsLifecycleError::MaxConcurrentExceeded { limit: 3, active: 3 })
    );

    // Rolling back a registration nobody saw; one a watcher saw is refused.
    registry.rollback_unreturned_operation(&id).unwrap();
    assert_eq!(registry.snapshot(&id).unwrap(), None);
    let watched = tool("watched");
    let watched_id = watched.id.clone();
    registry.register_operation(watched).unwrap();
    let _watch = registry.register_watcher(&watched_id).unwrap();
    assert!(matches!(
        registry.rollback_unreturned_operation(&watched_id),
        Err(OpsLifecycleError::InvalidTransition { status: OperationStatus::Provisioning, .. })
    ));
    assert_eq!(status(&*registry, &watched_id), Some(OperationStatus::Provisioning));

    // After the owner terminated: its admission is retired, and nothing registers.
    assert_eq!(registry.owner_admission().unwrap(), OpsOwnerAdmission::Open);
    registry.terminate_owner("closed".into()).unwrap();
    assert_eq!(registry.owner_admission().unwrap(), OpsOwnerAdmission::Retired);
    assert_eq!(registry.register_operation(tool("late")), Err(OpsLifecycleError::OwnerRetired));
}

#[tokio::test]
async fn watches_waits_and_the_feed() {
    let registry = registry();
    let a = running(&*registry, tool("a"));
    let b = running(&*registry, tool("b"));
    let watch = registry.register_watcher(&a).unwrap();
    let dropped = registry.register_watcher(&b).unwrap();
    drop(dropped);
    let run = RunId(Uuid::new_v4());
    let both = registry.wait_all(&run, &[a.clone(), b.clone()]);
    let again = registry.wait_all(&run, std::slice::from_ref(&b)); // many waits at once
    registry.complete_operation(&a, result(&a, "A")).unwrap();
    // A dropped Meerkat watch released its watcher.
    assert_eq!(registry.snapshot(&b).unwrap().unwrap().watcher_count, 0);
    registry.fail_operation(&b, "B".into()).unwrap();
    assert_eq!(watch.await.unwrap(), OperationTerminalOutcome::Completed(result(&a, "A")));
    let both = both.await.unwrap();
    assert_eq!(both.satisfied.run_id, run);
    assert_eq!(both.satisfied.operation_ids, vec![a.clone(), b.clone()]);
    assert_eq!(both.outcomes[1], (b.clone(), OperationTerminalOutcome::Failed { error: "B".into() }));
    again.await.unwrap();

    let feed = registry.completion_feed().unwrap();
    assert_eq!(feed.watermark(), 2);
    let batch = feed.list_since(0);
    assert_eq!((batch.entries.len(), batch.watermark, batch.dropped_through), (2, 2, 0));
    assert_eq!(batch.entries[0].operation_id, a);
    assert_eq!(feed.wait_for_advance(1).await, 2);
}

#[test]
fn typed_cursors_are_the_registrys_named_cursors() {
    let ours = Arc::new(RuntimeOpsLifecycleRegistry::new());
    let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::clone(&ours)));
    for consumer in [
        CompletionCursorConsumer::AgentApplied,
        CompletionCursorConsumer::RuntimeObserved,
        CompletionCursorConsumer::RuntimeInjected,
    ] {
        assert_eq!(registry.completion_cursor(consumer).unwrap(), Some(0));
    }
    let id = running(&*registry, tool("grep"));
    registry.complete_operation(&id, result(&id, "done")).unwrap();
    let projection = EpochCursorState::default();
    let consumer = CompletionCursorConsumer::AgentApplied;
    assert_eq!(registry.advance_completion_cursor(consumer, 1, Some(&projection)).unwrap(), 1);
    // The projection is written with what the registry accepted (its one
    // reader is its debug form).
    assert!(format!("{projection:?}").contains("agent_applied_cursor: 1"), "{projection:?}");
    assert_eq!(ours.cursor("agent_applied").unwrap(), 1);
    // Asked to go back, a cursor stays where it is.
    assert_eq!(registry.advance_completion_cursor(consumer, 0, None).unwrap(), 1);
    // Never past the watermark: an entry that does not exist cannot be acknowledged.
    assert!(matches!(
        registry.advance_completion_cursor(CompletionCursorConsumer::RuntimeObserved, 5, None),
        Err(OpsLifecycleError::Internal(_))
    ));
    assert_eq!(registry.completion_cursor(CompletionCursorConsumer::RuntimeObserved).unwrap(), Some(0));
}

#[cfg(feature = "durable")]
#[test]
fn a_durable_registry_recovers_behind_the_interface() {
    use oplife_shell::DurableOptions;

    let dir = std::env::temp_dir().join(format!("oplife-meerkat09-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("registry.db");
    let spec = child("kept");
    let (done, lost) = {
        let (ours, _) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default()).unwrap();
        let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::new(ours)));
        let done = running(&*registry, spec.clone());
        registry.peer_ready(&done, peer("kept")).unwrap();
        registry.complete_operation(&done, result(&done, "kept")).unwrap();
        registry.advance_completion_cursor(CompletionCursorConsumer::RuntimeInjected, 1, None).unwrap();
        let lost = running(&*registry, tool("lost"));
        (done, lost)
    };
    let (ours, report) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default()).unwrap();
    assert_eq!(report.lost, 1, "{report:?}");
    let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::new(ours)));
    let snapshot = registry.snapshot(&done).unwrap().unwrap();
    assert_eq!(snapshot.terminal_outcome, Some(OperationTerminalOutcome::Completed(result(&done, "kept"))));
    assert_eq!((snapshot.owner_session_id, snapshot.operation_source), (spec.owner_session_id, spec.operation_source));
    assert!(snapshot.peer_handle.is_some());
    assert!(matches!(
        registry.snapshot(&lost).unwrap().unwrap().terminal_outcome,
        Some(OperationTerminalOutcome::Terminated { .. })
    ));
    assert_eq!(registry.completion_cursor(CompletionCursorConsumer::RuntimeInjected).unwrap(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_two_kinds_of_0_9_behave_as_the_kinds_rows_say() {
    use oplife_shell::DurableOptions;

    assert_eq!(
        registry()
            .classify_operation_completion_wake(&OperationId(Uuid::new_v4()), OperationKind::DetachedJobWait)
            .unwrap(),
        OperationCompletionWakeClass::Wake
    );
    assert_eq!(
        registry()
            .classify_operation_completion_wake(&OperationId(Uuid::new_v4()), OperationKind::BackgroundToolCapacitySlot)
            .unwrap(),
        OperationCompletionWakeClass::Ignore
    );
    let dir = std::env::temp_dir().join(format!("oplife-meerkat09-kinds-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("registry.db");
    let slot_spec = OperationSpec { kind: OperationKind::BackgroundToolCapacitySlot, ..tool("slot") };
    let wait_spec = OperationSpec {
        kind: OperationKind::DetachedJobWait,
        operation_source: Some(OperationSource::detached_job("realm", "scan")),
        ..tool("await scan")
    };
    let (slot, held, wait) = {
        let (ours, _) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default()).unwrap();
        let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::new(ours)));
        // A capacity slot's ending leaves nothing: no snapshot, no feed entry.
        let slot = running(&*registry, slot_spec.clone());
        registry.mark_retired(&slot).unwrap();
        assert_eq!(status(&*registry, &slot), None);
        assert_eq!(registry.completion_feed().unwrap().watermark(), 0);
        let held = running(&*registry, OperationSpec { id: OperationId(Uuid::new_v4()), ..slot_spec });
        let wait = running(&*registry, wait_spec);
        (slot, held, wait)
    };
    let (ours, report) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default()).unwrap();
    assert_eq!(report.lost, 0, "{report:?}");
    let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::new(ours)));
    // Neither slot is known after the reopen; the wait still runs, minting nothing.
    assert_eq!((status(&*registry, &slot), status(&*registry, &held)), (None, None));
    assert_eq!(status(&*registry, &wait), Some(OperationStatus::Running));
    assert_eq!(registry.completion_feed().unwrap().watermark(), 0);
    registry.complete_operation(&wait, result(&wait, "scanned")).unwrap();
    assert_eq!(registry.completion_feed().unwrap().watermark(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
