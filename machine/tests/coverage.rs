//! Row coverage: one tour through the machine fires every row of the
//! shipped table.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::{Bg, Child, Harness, done};
use oplife_machine::{Keep, Limits, LostPolicy, Request};
use oplife_spec::{Effect, Input, OperationKind, Phase, Status};

#[test]
fn every_row_fires() {
    let mut h = Harness::with(Limits { max_completed: 1, max_concurrent: None, ..Limits::default() });
    h.running(1, Child);
    h.ok(Request::PeerReady { id: 1 });
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::ReleaseWatcher { id: 1 });
    h.ok(Request::ReportProgress { id: 1, update: 1 });
    h.ok(Request::BeginWait { wait: 1, ids: vec![1], run: () });
    h.ok(Request::BeginWait { wait: 2, ids: vec![1], run: () });
    h.ok(Request::CancelWait { wait: 2 });
    h.ok(Request::RequestRetire { id: 1 });
    h.ok(Request::MarkRetired { id: 1 });
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::CollectTerminal { id: 1 });
    for (id, req) in [
        (2, Request::ProvisioningFailed { id: 2, error: "e" }),
        (3, Request::AbortProvisioning { id: 3, reason: None }),
        (4, Request::Fail { id: 4, error: "e" }),
        (5, Request::Cancel { id: 5, reason: None }),
    ] {
        h.register(id, Bg);
        h.ok(req);
    }
    h.register(8, Bg);
    h.ok(Request::RollbackRegistration { id: 8 });
    h.running(6, Bg);
    h.ok(done(6));
    // A consumer acknowledges the feed, then asks to stay.
    h.ok(Request::AdvanceCursor { from: 0, to: 1, durable: 1 });
    h.ok(Request::AdvanceCursor { from: 1, to: 1, durable: 1 });
    h.ok(Request::CollectCompleted);
    h.register(7, Bg);
    let open_image = h.st.image();
    h.ok(Request::TerminateOwner { reason: "r" });
    h.ok(Request::TerminateOwner { reason: "r" });
    let closed_image = h.st.image();
    for image in [open_image.clone(), closed_image.clone()] {
        let mut resumed = Harness::with(Limits { max_completed: 1, max_concurrent: None, ..Limits::default() });
        resumed.ok(Request::Resume { image: Box::new(image.clone()) });
        assert_eq!(resumed.st.image(), image, "resume loads an image as it is");
        h.fired.extend(resumed.fired);
    }
    // The last restore is asked to keep op 7, still provisioning.
    let keep7 = vec![Keep { id: 7, kind: OperationKind::BackgroundToolOp, source_agrees: true }];
    for (image, policy, keep) in [
        (open_image.clone(), LostPolicy::Terminate { reason: "lost" }, Vec::new()),
        (open_image.clone(), LostPolicy::Cancel { reason: None }, Vec::new()),
        (closed_image, LostPolicy::Terminate { reason: "lost" }, Vec::new()),
        (open_image, LostPolicy::Terminate { reason: "lost" }, keep7),
    ] {
        let mut restored = Harness::with(Limits { max_completed: 1, max_concurrent: None, ..Limits::default() });
        restored.ok(Request::Restore { image: Box::new(image), policy, keep });
        h.fired.extend(restored.fired);
    }
    // A newer owner takes the store over: the registry seals, and stays
    // sealed when the store fences it again.
    h.ok(Request::Seal);
    h.ok(Request::Seal);
    assert_eq!(h.st.phase(), Phase::Sealed);
    let mut missing: Vec<String> = Vec::new();
    for (id, rule) in h.lc.table().rows() {
        if !h.fired.contains(&id) {
            missing.push(format!("{id}: {rule}"));
        }
    }
    assert!(missing.is_empty(), "rows never fired: {missing:?}");
    // And the helpers agree with the table about a few rows.
    assert!(h.fired.contains(&h.row_of(Input::Evict, Status::Completed)));
    assert!(h.fired.contains(&h.registry_row(Input::TerminateOwner, Phase::OwnerTerminated)));
    assert!(h.lc.table().rows[h.row_of(Input::Complete, Status::Running).0].effects.contains(&Effect::SatisfyWaits));
}
