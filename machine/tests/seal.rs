//! A sealed registry: its store has a newer owner, so it refuses every call
//! that could change it, lets go of watches and waits, and keeps what it had.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::{Bg, Harness, done};
use oplife_machine::{LifecycleError, LostPolicy, Output, Request};
use oplife_spec::{OperationKind, Phase, Status};

/// A registry with one running operation (watched and waited on), one
/// completed, then sealed.
fn sealed() -> Harness {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.running(2, Bg);
    h.ok(done(2));
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::BeginWait { wait: 7, ids: vec![1], run: () });
    assert!(h.ok(Request::Seal).is_empty(), "sealing has no effect beyond the phase");
    assert_eq!(h.st.phase(), Phase::Sealed);
    h
}

#[test]
fn a_sealed_registry_refuses_every_call_that_could_change_it() {
    let mut h = sealed();
    let image = h.st.image();
    let calls = [
        Request::Register { id: 3, kind: Bg, expects_peer: false, kind_limit: None, limit: None, source: None },
        Request::ProvisioningSucceeded { id: 1 },
        Request::Complete { id: 1, result: "late" },
        Request::Fail { id: 1, error: "late" },
        Request::Cancel { id: 1, reason: None },
        Request::RequestRetire { id: 1 },
        Request::MarkRetired { id: 1 },
        Request::ReportProgress { id: 1, update: 1 },
        Request::CollectTerminal { id: 2 },
        Request::RegisterWatcher { id: 2 },
        Request::TerminateOwner { reason: "stop" },
        Request::CollectCompleted,
        Request::BeginWait { wait: 8, ids: vec![2], run: () },
        Request::Restore {
            image: Box::new(image.clone()),
            policy: LostPolicy::Terminate { reason: "lost" },
            keep: Vec::new(),
        },
        Request::Resume { image: Box::new(image.clone()) },
    ];
    for call in calls {
        let input = call.input();
        assert_eq!(h.err(call), LifecycleError::Sealed, "{input} on a sealed registry");
    }
    // Unknown ids too: the gate answers before the status is looked at.
    assert_eq!(h.err(Request::Complete { id: 99, result: "x" }), LifecycleError::Sealed);
    assert_eq!(h.st.image(), image, "nothing durable changed");
    assert_eq!(h.status(1), Status::Running);
    assert_eq!(h.status(2), Status::Completed);
}

#[test]
fn a_sealed_registry_lets_go_of_watches_and_waits_and_stays_sealed() {
    let mut h = sealed();
    h.ok(Request::ReleaseWatcher { id: 1 });
    assert_eq!(h.ok(Request::CancelWait { wait: 7 }), vec![Output::WaitCancelled { wait: 7 }]);
    h.ok(Request::Seal);
    assert_eq!(h.st.phase(), Phase::Sealed, "sealing again changes nothing");
}

#[test]
fn an_owner_terminated_registry_seals_too() {
    let mut h = Harness::new();
    h.running(1, OperationKind::MobMemberChild);
    h.ok(Request::TerminateOwner { reason: "stop" });
    h.ok(Request::Seal);
    assert_eq!(h.st.phase(), Phase::Sealed);
    assert_eq!(h.err(Request::CollectCompleted), LifecycleError::Sealed);
}
