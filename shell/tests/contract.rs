//! The runtime contract rows on the shell: rolling back a registration
//! nobody observed, and a caller's admission limit per kind.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_shell::prelude::*;
use oplife_shell::{OpsLifecycleConfig, RunId};
use oplife_spec::Guard;

#[tokio::test]
async fn a_rollback_leaves_no_outcome_feed_entry_event_or_slot() {
    let registry = RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_concurrent: Some(1),
        ..OpsLifecycleConfig::default()
    });
    let spec = OperationSpec::background_tool(SessionId::new(), "spawn");
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    let mut events = registry.subscribe_events().unwrap();
    registry.rollback_registration(&id).unwrap();
    assert_eq!(registry.snapshot(&id).unwrap(), None);
    assert_eq!(registry.feed_watermark().unwrap(), 0);
    assert_eq!(events.try_recv(), None, "no event");
    assert!(registry.collect_completed().unwrap().is_empty(), "no outcome");
    // The slot came back: the limit of one admits another.
    registry.register_operation(OperationSpec::background_tool(SessionId::new(), "next")).unwrap();
    // The id can be registered again, as if it had never been.
    assert_eq!(registry.rollback_registration(&id), Err(OpsLifecycleError::Refused(Refusal::NotFound(id))));
}

#[tokio::test]
async fn a_registration_someone_observed_cannot_be_rolled_back() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let owner = SessionId::new();
    let (watched, waited, started) = (
        OperationSpec::background_tool(owner, "watched"),
        OperationSpec::background_tool(owner, "waited"),
        OperationSpec::background_tool(owner, "started"),
    );
    let ids = [watched.id, waited.id, started.id];
    for spec in [watched, waited, started] {
        registry.register_operation(spec).unwrap();
    }
    let watch = registry.register_watcher(&ids[0]).unwrap();
    let wait = registry.wait_all(&RunId::new(), &ids[1..2]);
    registry.provisioning_succeeded(&ids[2]).unwrap();
    let before = registry.capture().unwrap();
    assert_eq!(
        registry.rollback_registration(&ids[0]),
        Err(OpsLifecycleError::Refused(Refusal::RegistrationObserved { id: ids[0], guard: Guard::NoWatcher }))
    );
    assert_eq!(
        registry.rollback_registration(&ids[1]),
        Err(OpsLifecycleError::Refused(Refusal::RegistrationObserved { id: ids[1], guard: Guard::NotWaitedOn }))
    );
    assert!(matches!(
        registry.rollback_registration(&ids[2]),
        Err(OpsLifecycleError::Refused(Refusal::InvalidTransition { status: OperationStatus::Running, .. }))
    ));
    assert_eq!(registry.capture().unwrap(), before, "refusals change nothing");
    // Once the watch and the wait are dropped, nobody observes them.
    drop((watch, wait));
    registry.rollback_registration(&ids[0]).unwrap();
    registry.rollback_registration(&ids[1]).unwrap();
}

#[test]
fn a_callers_limit_counts_the_active_operations_of_its_kind() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let owner = SessionId::new();
    let jobs: Vec<OperationSpec> = (0..3).map(|i| OperationSpec::background_tool(owner, format!("job {i}"))).collect();
    registry.register_operation_limited(jobs[0].clone(), 2).unwrap();
    registry.register_operation_limited(jobs[1].clone(), 2).unwrap();
    assert_eq!(
        registry.register_operation_limited(jobs[2].clone(), 2),
        Err(OpsLifecycleError::Refused(Refusal::AdmissionLimitExceeded {
            kind: OperationKind::BackgroundToolOp,
            limit: 2,
            active: 2
        }))
    );
    // Child agents are another kind; an unlimited registration is not limited.
    registry.register_operation_limited(OperationSpec::child_agent(owner, "agent", SessionId::new()), 1).unwrap();
    registry.register_operation(OperationSpec::background_tool(owner, "unlimited")).unwrap();
    // An ended operation no longer counts.
    registry.cancel_operation(&jobs[0].id, None).unwrap();
    registry.cancel_operation(&jobs[1].id, None).unwrap();
    registry.register_operation_limited(jobs[2].clone(), 2).unwrap();
}
