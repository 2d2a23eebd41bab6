//! The registry driven as Meerkat's runtime drives its own: through
//! `Arc<dyn OpsLifecycleRegistry>` of meerkat-core 0.5, with Meerkat's
//! types only. Every method, every error the machine can give through this
//! interface, the completion feed, and a durable registry's recovery.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use meerkat_core_0_5::comms::TrustedPeerSpec;
use meerkat_core_0_5::lifecycle::RunId;
use meerkat_core_0_5::ops_lifecycle::{
    OperationId, OperationKind, OperationPeerHandle, OperationProgressUpdate, OperationResult, OperationSpec,
    OperationStatus, OperationTerminalOutcome, OpsLifecycleError, OpsLifecycleRegistry,
};
use meerkat_core_0_5::types::SessionId;
use oplife_shell::uuid::Uuid;
use oplife_shell::{MeerkatRegistry, OpsLifecycleConfig, RuntimeOpsLifecycleRegistry};

fn meerkat(config: OpsLifecycleConfig) -> (Arc<RuntimeOpsLifecycleRegistry>, Arc<dyn OpsLifecycleRegistry>) {
    let ours = Arc::new(RuntimeOpsLifecycleRegistry::with_config(config));
    let theirs: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::clone(&ours)));
    (ours, theirs)
}

fn registry() -> Arc<dyn OpsLifecycleRegistry> {
    meerkat(OpsLifecycleConfig::default()).1
}

fn tool(name: &str) -> OperationSpec {
    OperationSpec {
        id: OperationId(Uuid::new_v4()),
        kind: OperationKind::BackgroundToolOp,
        owner_session_id: SessionId(Uuid::new_v4()),
        display_name: name.into(),
        source_label: "shell".into(),
        child_session_id: None,
        expect_peer_channel: false,
    }
}

fn child(name: &str) -> OperationSpec {
    OperationSpec {
        kind: OperationKind::MobMemberChild,
        child_session_id: Some(SessionId(Uuid::new_v4())),
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
    registry.snapshot(id).map(|s| s.status)
}

#[test]
fn each_call_moves_the_operation_as_meerkat_names_it() {
    let registry = registry();
    let spec = tool("grep");
    let id = spec.id.clone();
    registry.register_operation(spec).unwrap();
    assert_eq!(status(&*registry, &id), Some(OperationStatus::Provisioning));
    registry.provisioning_succeeded(&id).unwrap();
    assert_eq!(status(&*registry, &id), Some(OperationStatus::Running));
    registry.complete_operation(&id, result(&id, "3 matches")).unwrap();
    let snapshot = registry.snapshot(&id).unwrap();
    assert_eq!(snapshot.status, OperationStatus::Completed);
    assert_eq!(snapshot.terminal_outcome, Some(OperationTerminalOutcome::Completed(result(&id, "3 matches"))));
    assert_eq!(snapshot.kind, OperationKind::BackgroundToolOp);
    assert_eq!(snapshot.display_name, "grep");
    assert!(snapshot.completed_at_ms.is_some() && snapshot.started_at_ms.is_some());

    let failed = tool("fetch");
    let failed_id = failed.id.clone();
    registry.register_operation(failed).unwrap();
    registry.provisioning_failed(&failed_id, "no network".into()).unwrap();
    assert_eq!(
        registry.snapshot(&failed_id).unwrap().terminal_outcome,
        Some(OperationTerminalOutcome::Failed { error: "no network".into() })
    );

    let aborted = tool("build");
    let aborted_id = aborted.id.clone();
    registry.register_operation(aborted).unwrap();
    registry.abort_provisioning(&aborted_id, Some("not needed".into())).unwrap();
    assert_eq!(status(&*registry, &aborted_id), Some(OperationStatus::Aborted));

    let cancelled = running(&*registry, tool("index"));
    registry.cancel_operation(&cancelled, None).unwrap();
    assert_eq!(
        registry.snapshot(&cancelled).unwrap().terminal_outcome,
        Some(OperationTerminalOutcome::Cancelled { reason: None })
    );

    let errored = running(&*registry, tool("lint"));
    registry.fail_operation(&errored, "crashed".into()).unwrap();
    assert_eq!(status(&*registry, &errored), Some(OperationStatus::Failed));

    let retired = running(&*registry, child("reviewer"));
    registry.request_retire(&retired).unwrap();
    assert_eq!(status(&*registry, &retired), Some(OperationStatus::Retiring));
    registry.mark_retired(&retired).unwrap();
    assert_eq!(registry.snapshot(&retired).unwrap().terminal_outcome, Some(OperationTerminalOutcome::Retired));

    let names: Vec<String> = registry.list_operations().into_iter().map(|s| s.display_name).collect();
    assert_eq!(names, ["build", "fetch", "grep", "index", "lint", "reviewer"]);

    let collected = registry.collect_completed().unwrap();
    assert_eq!(collected.len(), 6);
    assert_eq!(collected[0], (id.clone(), OperationTerminalOutcome::Completed(result(&id, "3 matches"))));
    assert!(registry.list_operations().is_empty(), "collected records are forgotten");
}

#[test]
fn peer_handles_and_progress_come_back_exactly() {
    let (ours, registry) = meerkat(OpsLifecycleConfig::default());
    let id = running(&*registry, child("researcher"));
    let handle = OperationPeerHandle {
        peer_name: "researcher".into(),
        trusted_peer: TrustedPeerSpec {
            name: "researcher-7".into(),
            peer_id: "ed25519:abc".into(),
            address: "uds:///run/r.sock".into(),
        },
    };
    registry.peer_ready(&id, handle.clone()).unwrap();
    let snapshot = registry.snapshot(&id).unwrap();
    assert!(snapshot.peer_ready);
    assert_eq!(snapshot.peer_handle, Some(handle));

    registry
        .report_progress(&id, OperationProgressUpdate { message: "an eighth".into(), percent: Some(12.5) })
        .unwrap();
    registry.report_progress(&id, OperationProgressUpdate { message: "unknown".into(), percent: None }).unwrap();
    assert_eq!(registry.snapshot(&id).unwrap().progress_count, 2);
    let ours_id = oplife_shell::OperationId(id.0);
    let last = oplife_shell::OpsLifecycleRegistry::snapshot(&*ours, &ours_id).unwrap().unwrap().last_progress.unwrap();
    assert_eq!((last.message.as_str(), last.percent), ("unknown", None));
    registry
        .report_progress(&id, OperationProgressUpdate { message: "an eighth".into(), percent: Some(12.5) })
        .unwrap();
    let last = oplife_shell::OpsLifecycleRegistry::snapshot(&*ours, &ours_id).unwrap().unwrap().last_progress.unwrap();
    assert_eq!(last.percent.map(|p| p.get()), Some(12.5));
}

#[test]
fn every_refusal_is_meerkats_error() {
    let config = OpsLifecycleConfig { max_concurrent: Some(2), ..Default::default() };
    let (_, registry) = meerkat(config);
    let unknown = OperationId(Uuid::new_v4());
    assert_eq!(registry.provisioning_succeeded(&unknown), Err(OpsLifecycleError::NotFound(unknown.clone())));

    let spec = tool("grep");
    let id = spec.id.clone();
    registry.register_operation(spec.clone()).unwrap();
    assert_eq!(registry.register_operation(spec), Err(OpsLifecycleError::AlreadyRegistered(id.clone())));
    assert_eq!(
        registry.complete_operation(&id, result(&id, "early")),
        Err(OpsLifecycleError::InvalidTransition {
            id: id.clone(),
            status: OperationStatus::Provisioning,
            action: "complete_operation"
        })
    );
    registry.provisioning_succeeded(&id).unwrap();
    let handle = OperationPeerHandle {
        peer_name: "p".into(),
        trusted_peer: TrustedPeerSpec { name: "p".into(), peer_id: "p".into(), address: "inproc://p".into() },
    };
    assert_eq!(registry.peer_ready(&id, handle.clone()), Err(OpsLifecycleError::PeerNotExpected(id.clone())));

    let child_id = running(&*registry, child("reviewer"));
    registry.peer_ready(&child_id, handle.clone()).unwrap();
    assert_eq!(registry.peer_ready(&child_id, handle), Err(OpsLifecycleError::AlreadyPeerReady(child_id.clone())));
    assert_eq!(
        registry.register_operation(tool("third")),
        Err(OpsLifecycleError::MaxConcurrentExceeded { limit: 2, active: 2 })
    );

    // A spec whose peer expectation contradicts its kind is not registered.
    let contradictory = OperationSpec { expect_peer_channel: true, ..tool("odd") };
    let odd = contradictory.id.clone();
    registry.cancel_operation(&id, None).unwrap();
    assert!(matches!(
        registry.register_operation(contradictory),
        Err(OpsLifecycleError::InvalidTransition { status: OperationStatus::Absent, action: "register_operation", .. })
    ));
    assert_eq!(registry.snapshot(&odd), None);

    // A result of another operation is refused, and changes nothing.
    let other = OperationId(Uuid::new_v4());
    assert!(matches!(registry.complete_operation(&child_id, result(&other, "x")), Err(OpsLifecycleError::Internal(_))));
    assert_eq!(status(&*registry, &child_id), Some(OperationStatus::Running));

    // After the owner terminated, nothing registers.
    registry.terminate_owner("session closed".into()).unwrap();
    assert_eq!(
        registry.snapshot(&child_id).unwrap().terminal_outcome,
        Some(OperationTerminalOutcome::Terminated { reason: "session closed".into() })
    );
    let late = tool("late");
    let late_id = late.id.clone();
    assert_eq!(
        registry.register_operation(late),
        Err(OpsLifecycleError::InvalidTransition {
            id: late_id,
            status: OperationStatus::Absent,
            action: "register_operation"
        })
    );
}

#[tokio::test]
async fn waits_are_satisfied_with_the_machines_token() {
    let registry = registry();
    let a = running(&*registry, tool("a"));
    let b = running(&*registry, tool("b"));
    let done = registry.register_watcher(&a).unwrap();
    let run = RunId(Uuid::new_v4());
    let both = registry.wait_all(&run, &[a.clone(), b.clone()]);
    let again = registry.wait_all(&run, std::slice::from_ref(&b)); // a second wait is no error here
    assert_eq!(registry.snapshot(&a).unwrap().watcher_count, 1);
    registry.complete_operation(&a, result(&a, "A")).unwrap();
    registry.fail_operation(&b, "B".into()).unwrap();

    assert_eq!(done.wait().await, OperationTerminalOutcome::Completed(result(&a, "A")));
    let both = both.await.unwrap();
    assert_eq!(
        both.outcomes,
        vec![
            (a.clone(), OperationTerminalOutcome::Completed(result(&a, "A"))),
            (b.clone(), OperationTerminalOutcome::Failed { error: "B".into() }),
        ]
    );
    assert_eq!(both.satisfied.operation_ids, vec![a.clone(), b.clone()]);
    let again = again.await.unwrap();
    assert_ne!(again.satisfied.wait_request_id, both.satisfied.wait_request_id);

    // A watch of an operation that has ended resolves at once.
    assert_eq!(
        registry.register_watcher(&b).unwrap().wait().await,
        OperationTerminalOutcome::Failed { error: "B".into() }
    );
    let unknown = OperationId(Uuid::new_v4());
    assert!(matches!(registry.register_watcher(&unknown), Err(OpsLifecycleError::NotFound(_))));
    assert_eq!(
        registry.wait_all(&run, &[a.clone(), a.clone()]).await.unwrap_err(),
        OpsLifecycleError::DuplicateWaitOperation(a)
    );
    assert_eq!(
        registry.wait_all(&run, std::slice::from_ref(&unknown)).await.unwrap_err(),
        OpsLifecycleError::NotFound(unknown)
    );
}

#[cfg(feature = "meerkat-0-5-feed")]
#[tokio::test]
async fn the_completion_feed_is_the_registrys() {
    let registry = registry();
    let feed = registry.completion_feed().unwrap();
    assert_eq!(feed.watermark(), 0);
    let id = running(&*registry, tool("crawl"));
    let advanced = {
        let feed = Arc::clone(&feed);
        tokio::spawn(async move { feed.wait_for_advance(0).await })
    };
    registry.complete_operation(&id, result(&id, "1,204 pages")).unwrap();
    assert_eq!(advanced.await.unwrap(), 1);

    let batch = feed.list_since(0);
    assert_eq!(batch.watermark, 1);
    assert_eq!(batch.entries.len(), 1);
    let entry = &batch.entries[0];
    assert_eq!((entry.seq, &entry.operation_id, entry.display_name.as_str()), (1, &id, "crawl"));
    assert_eq!(entry.terminal_outcome, OperationTerminalOutcome::Completed(result(&id, "1,204 pages")));
    assert!(entry.completed_at_ms.is_some());
    assert!(feed.list_since(1).entries.is_empty());
    assert_eq!(feed.wait_for_advance(0).await, 1, "already past: at once");
}

#[cfg(all(feature = "durable", feature = "meerkat-0-5-feed"))]
#[test]
fn a_durable_registry_recovers_behind_the_interface() {
    use oplife_shell::DurableOptions;

    let dir = std::env::temp_dir().join(format!("oplife-meerkat05-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("registry.db");
    let (done, lost) = {
        let (ours, _) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default()).unwrap();
        let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::new(ours)));
        let done = running(&*registry, tool("done"));
        registry.complete_operation(&done, result(&done, "kept")).unwrap();
        let lost = running(&*registry, tool("lost"));
        (done, lost)
    };
    let (ours, report) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default()).unwrap();
    assert_eq!(report.lost, 1, "{report:?}");
    let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::new(ours)));
    assert_eq!(
        registry.snapshot(&done).unwrap().terminal_outcome,
        Some(OperationTerminalOutcome::Completed(result(&done, "kept")))
    );
    assert!(matches!(
        registry.snapshot(&lost).unwrap().terminal_outcome,
        Some(OperationTerminalOutcome::Terminated { .. })
    ));
    let entries = registry.completion_feed().unwrap().list_since(0).entries;
    let ids: Vec<&OperationId> = entries.iter().map(|e| &e.operation_id).collect();
    assert_eq!(ids, [&done, &lost]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Beyond the reference: a wait is never stranded. Its operation ended and
/// was collected (forgotten) before the wait's future was polled, and the
/// wait still reports the outcome the operation really ended with.
#[tokio::test]
async fn a_wait_reports_an_outcome_collected_before_it_was_polled() {
    let registry = registry();
    let id = running(&*registry, tool("index"));
    let waiting = registry.wait_all(&RunId(Uuid::new_v4()), std::slice::from_ref(&id));
    registry.complete_operation(&id, result(&id, "done")).unwrap();
    assert_eq!(registry.collect_completed().unwrap().len(), 1);
    assert_eq!(registry.snapshot(&id), None, "forgotten");
    let done = waiting.await.unwrap();
    assert_eq!(done.outcomes, vec![(id.clone(), OperationTerminalOutcome::Completed(result(&id, "done")))]);
}
