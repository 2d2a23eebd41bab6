//! The types a newcomer builds calls from: constructors, id conversions,
//! outcomes in words, and a result given to the wrong operation.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::str::FromStr;

use oplife_shell::prelude::*;
use oplife_shell::uuid::Uuid;

#[test]
fn ids_convert_from_and_to_uuids_and_parse_from_text() {
    let uuid = Uuid::from_u64_pair(7, 9);
    let id = OperationId::from(uuid);
    assert_eq!(Uuid::from(id), uuid);
    assert_eq!(OperationId::from_str(&id.to_string()).unwrap(), id);
    assert_eq!(SessionId::from_str(&uuid.to_string()).unwrap(), SessionId::from(uuid));
    assert!(OperationId::from_str("not a uuid").is_err());
}

#[test]
fn constructors_agree_with_their_kind() {
    let owner = SessionId::new();
    let tool = OperationSpec::background_tool(owner, "grep");
    assert_eq!(
        (tool.kind, tool.expect_peer_channel, tool.owner_session_id),
        (OperationKind::BackgroundToolOp, false, owner)
    );
    let child = SessionId::new();
    let agent = OperationSpec::child_agent(owner, "scout", child);
    assert_eq!(
        (agent.kind, agent.expect_peer_channel, agent.child_session_id),
        (OperationKind::MobMemberChild, true, Some(child))
    );
    let registry = RuntimeOpsLifecycleRegistry::new();
    registry.register_operation(tool).unwrap();
    registry.register_operation(agent).unwrap();
    let id = OperationId::new();
    assert!(OperationResult::error(id, "boom").is_error);
    assert_eq!(OperationResult::new(id, "ok").id, id);
}

#[test]
fn outcomes_read_as_words() {
    let id = OperationId::new();
    let cases = [
        (OperationTerminalOutcome::Completed(OperationResult::new(id, "x")), "completed"),
        (OperationTerminalOutcome::Failed { error: "disk full".into() }, "failed: disk full"),
        (OperationTerminalOutcome::Aborted { reason: None }, "aborted"),
        (OperationTerminalOutcome::Cancelled { reason: Some("user".into()) }, "cancelled: user"),
        (OperationTerminalOutcome::Retired, "retired"),
        (OperationTerminalOutcome::Terminated { reason: "owner left".into() }, "terminated: owner left"),
    ];
    for (outcome, words) in cases {
        assert_eq!(outcome.to_string(), words);
    }
}

#[test]
fn a_result_given_to_another_operation_is_refused_and_changes_nothing() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let (a, b) =
        (OperationSpec::background_tool(SessionId::new(), "a"), OperationSpec::background_tool(SessionId::new(), "b"));
    let (a, b) = (
        {
            let id = a.id;
            registry.register_operation(a).unwrap();
            id
        },
        {
            let id = b.id;
            registry.register_operation(b).unwrap();
            id
        },
    );
    registry.provisioning_succeeded(&a).unwrap();
    let before = registry.snapshot(&a).unwrap();
    assert_eq!(
        registry.complete_operation(&a, OperationResult::new(b, "wrong")),
        Err(OpsLifecycleError::ResultIdMismatch { call: a, result: b })
    );
    assert_eq!(registry.snapshot(&a).unwrap(), before);
    assert_eq!(registry.snapshot(&a).unwrap().unwrap().status, OperationStatus::Running);
}
