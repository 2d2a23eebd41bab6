//! `restore` refuses every snapshot whose parts contradict each other, and
//! creates nothing then. One forged snapshot per consistency rule listed on
//! [`RuntimeOpsLifecycleRegistry::restore`].

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::{background_spec, result, running};
use oplife_shell::{
    ConfigError, OperationStatus, OperationTerminalOutcome, OpsLifecycleConfig, OpsLifecycleRegistry, RegistrySnapshot,
    RestorePolicy, RuntimeOpsLifecycleRegistry, SnapshotError,
};

/// Two completed operations (retained, with feed entries) and one running.
fn captured() -> RegistrySnapshot {
    let registry = RuntimeOpsLifecycleRegistry::new();
    for name in ["first", "second"] {
        let id = running(&registry, name);
        registry.complete_operation(&id, result(id, name)).unwrap();
    }
    registry.register_operation(background_spec("live")).unwrap();
    registry.capture().unwrap()
}

fn refused(snapshot: RegistrySnapshot) -> SnapshotError {
    match RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::default()) {
        Err(error) => error,
        Ok(_) => panic!("a forged snapshot was restored"),
    }
}

fn inconsistent(snapshot: RegistrySnapshot, because: &str) {
    match refused(snapshot) {
        SnapshotError::Inconsistent(why) => assert!(why.contains(because), "{because:?} not in {why:?}"),
        other => panic!("{because}: {other:?}"),
    }
}

#[test]
fn the_unforged_snapshot_restores() {
    let restored = RuntimeOpsLifecycleRegistry::restore(captured(), RestorePolicy::default()).unwrap();
    // The two completed, then the live one, ended by the restore.
    assert_eq!(restored.collect_completed().unwrap().len(), 3);
}

#[test]
fn the_version_and_the_configuration_are_checked() {
    let mut snapshot = captured();
    snapshot.version += 1;
    assert!(matches!(refused(snapshot), SnapshotError::UnsupportedVersion { .. }));
    let forged = [
        (
            OpsLifecycleConfig { event_capacity: usize::MAX, ..Default::default() },
            ConfigError::EventCapacity(usize::MAX),
        ),
        (OpsLifecycleConfig { event_capacity: 0, ..Default::default() }, ConfigError::EventCapacity(0)),
        (OpsLifecycleConfig { max_completed: usize::MAX, ..Default::default() }, ConfigError::MaxCompleted(usize::MAX)),
        (
            OpsLifecycleConfig { feed_retention: usize::MAX, ..Default::default() },
            ConfigError::FeedRetention(usize::MAX),
        ),
        (OpsLifecycleConfig { max_concurrent: Some(0), ..Default::default() }, ConfigError::MaxConcurrent),
    ];
    for (config, error) in forged {
        let mut snapshot = captured();
        snapshot.config = config;
        assert_eq!(refused(snapshot), SnapshotError::InvalidConfig(error));
    }
}

#[test]
fn records_must_match_the_operations_one_for_one() {
    let mut snapshot = captured();
    snapshot.records.pop();
    inconsistent(snapshot, "2 records for 3 operations");
    let mut snapshot = captured();
    snapshot.records.swap(0, 1);
    inconsistent(snapshot, "does not match operation");
    let mut snapshot = captured();
    snapshot.records[2].kind = oplife_shell::OperationKind::MobMemberChild;
    inconsistent(snapshot, "does not match operation");
}

#[test]
fn feed_details_must_match_the_feed_entries() {
    let mut snapshot = captured();
    snapshot.feed_details.pop();
    inconsistent(snapshot, "feed details");
    let mut snapshot = captured();
    snapshot.feed_details[0].seq += 7;
    inconsistent(snapshot, "feed details");
}

#[test]
fn retained_records_must_follow_their_feed_sequence() {
    let mut snapshot = captured();
    snapshot.image.retained.swap(0, 1);
    inconsistent(snapshot, "ended (feed entry");
}

#[test]
fn statuses_outcomes_and_ids_must_agree() {
    let mut snapshot = captured();
    snapshot.image.operations[0].outcome = None;
    inconsistent(snapshot, "Completed with outcome None");
    let mut snapshot = captured();
    snapshot.image.operations[2].outcome = Some(OperationTerminalOutcome::Retired.into());
    inconsistent(snapshot, "Provisioning with outcome Some(Retired)");
    let mut snapshot = captured();
    snapshot.image.operations[0].status = OperationStatus::Failed;
    inconsistent(snapshot, "Failed with outcome Some(Completed)");
    let mut snapshot = captured();
    let twin = snapshot.image.operations[0].clone();
    snapshot.image.operations[1] = twin;
    snapshot.records[1].id = snapshot.records[0].id;
    inconsistent(snapshot, "appears twice");
    let mut snapshot = captured();
    snapshot.image.retained.pop();
    inconsistent(snapshot, "2 terminal operations, 1 retained records");
    let mut snapshot = captured();
    let live = snapshot.image.operations[2].id;
    snapshot.image.retained.push(live);
    inconsistent(snapshot, "is Provisioning");
    let mut snapshot = captured();
    snapshot.image.feed_watermark += 1;
    inconsistent(snapshot, "feed entry");
}
