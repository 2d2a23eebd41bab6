//! The rows Meerkat 0.9.8's concepts became: the kinds table at work (a
//! capacity slot's ending is dropped, a running wait on a detached job
//! survives a restore), a restore that keeps exactly the unfinished
//! operations it is asked to keep, and the cursor rows.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::{Bg, Child, Harness, T, done};
use oplife_machine::{Keep, LifecycleError, LostPolicy, Outcome, Output, Request, State};
use oplife_spec::{ErrorKind, OperationKind, Status};

const SLOT: OperationKind = OperationKind::BackgroundToolCapacitySlot;
const WAIT: OperationKind = OperationKind::DetachedJobWait;

fn restore(image: &State<T>, keep: Vec<Keep<T>>) -> Result<Harness, LifecycleError<T>> {
    let mut h = Harness::new();
    h.apply(Request::Restore {
        image: Box::new(image.image()),
        policy: LostPolicy::Terminate { reason: "lost" },
        keep,
    })?;
    Ok(h)
}

fn keep(id: u32, kind: OperationKind) -> Keep<T> {
    Keep { id, kind, source_agrees: true }
}

#[test]
fn a_capacity_slot_ends_without_a_trace_but_its_waiters_hear() {
    let mut h = Harness::new();
    h.running(1, SLOT);
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::BeginWait { wait: 7, ids: vec![1], run: () });
    let out = h.ok(done(1));
    let ended = Outcome::Completed("ok");
    assert!(out.iter().any(|o| matches!(o, Output::Ended { id: 1, seq: None, outcome } if **outcome == ended)));
    assert!(out.iter().any(|o| matches!(o, Output::WatchersNotified { id: 1, count: 1, .. })));
    assert!(out.iter().any(|o| matches!(o, Output::WaitSatisfied(report) if report.wait == 7)));
    assert!(out.iter().any(|o| matches!(o, Output::Dropped { id: 1 })));
    assert!(h.st.operation(&1).is_none(), "the record is forgotten as it ends");
    assert_eq!(h.st.feed().watermark(), 0, "no feed entry is minted");
    assert_eq!(h.st.retained().len(), 0);
    assert_eq!(h.st.active_count(), 0, "the slot is released");
    // The id is free again, as after any forgetting.
    h.running(1, SLOT);
}

#[test]
fn a_background_job_beside_it_keeps_its_ending() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.ok(done(1));
    assert_eq!(h.status(1), Status::Completed);
    assert_eq!(h.st.feed().watermark(), 1);
}

#[test]
fn a_capacity_slot_is_never_imaged() {
    let mut h = Harness::new();
    h.running(1, SLOT);
    h.running(2, Bg);
    let image = h.st.image();
    assert_eq!(image.operations.iter().map(|op| op.id).collect::<Vec<_>>(), vec![2]);
    // Its calls change nothing durable.
    let before = h.st.clone();
    h.ok(Request::ReportProgress { id: 1, update: 3 });
    h.ok(done(1));
    assert!(h.st.same_image(&before));
    // A restart does not know it.
    let restored = restore(&h.st, Vec::new()).unwrap();
    assert!(restored.st.operation(&1).is_none());
    assert_eq!(restored.status(2), Status::Terminated);
}

#[test]
fn a_running_detached_job_wait_survives_a_restore_without_a_feed_entry() {
    let mut h = Harness::new();
    h.running(1, WAIT);
    h.register(2, WAIT); // still provisioning: lost like any other
    h.running(3, Bg);
    let restored = restore(&h.st, Vec::new()).unwrap();
    assert_eq!(restored.status(1), Status::Running);
    assert_eq!(restored.status(2), Status::Terminated);
    assert_eq!(restored.status(3), Status::Terminated);
    let fed: Vec<u32> = restored.st.feed().entries().map(|e| e.id).collect();
    assert_eq!(fed, vec![2, 3], "the surviving wait mints nothing");
    assert_eq!(restored.st.active_count(), 1);
    // It ends later as any operation does, fed and retained.
    let mut restored = restored;
    restored.ok(done(1));
    assert_eq!(restored.status(1), Status::Completed);
    assert_eq!(restored.st.feed().watermark(), 3);
}

#[test]
fn a_restore_keeps_the_operations_it_is_asked_to() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.register(2, Child);
    h.running(3, Bg);
    let restored = restore(&h.st, vec![keep(1, Bg), keep(2, Child)]).unwrap();
    assert_eq!(restored.status(1), Status::Running);
    assert_eq!(restored.status(2), Status::Provisioning);
    assert_eq!(restored.status(3), Status::Terminated);
    assert_eq!(restored.st.feed().entries().map(|e| e.id).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn a_restore_asked_to_keep_what_the_image_does_not_hold_so_is_refused() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.running(2, Bg);
    h.ok(done(2));
    let refusals = [
        (keep(1, Child), 1, Child),                              // another kind
        (Keep { id: 1, kind: Bg, source_agrees: false }, 1, Bg), // another source
        (keep(2, Bg), 2, Bg),                                    // already finished
        (keep(9, Bg), 9, Bg),                                    // unknown
    ];
    for (asked, id, kind) in refusals {
        // The harness checks that a refusal leaves the fresh registry as it was.
        let Err(error) = restore(&h.st, vec![keep(1, Bg), asked]) else { panic!("kept {id} {kind:?}") };
        assert_eq!(error, LifecycleError::RetentionMismatch { id, kind });
        assert_eq!(error.kind(), ErrorKind::RetentionMismatch);
    }
}

mod cursor {
    //! The cursor rows: a consumer's cursor moves ahead within the durable
    //! feed, stays when asked where it is, and is refused going back or past
    //! what is durable, changing nothing.

    use super::common::{Bg, Harness, T, done};
    use oplife_machine::{LifecycleError, Output, Request};

    fn advance(from: u64, to: u64, durable: u64) -> Request<T> {
        Request::AdvanceCursor { from, to, durable }
    }

    /// A registry whose feed has two entries.
    fn fed_twice() -> Harness {
        let mut h = Harness::new();
        for id in [1, 2] {
            h.running(id, Bg);
            h.ok(done(id));
        }
        h
    }

    #[test]
    fn a_cursor_moves_ahead_within_the_durable_feed() {
        let mut h = fed_twice();
        assert_eq!(h.ok(advance(0, 2, 2)), vec![Output::CursorMoved { to: 2 }]);
        assert_eq!(h.ok(advance(2, 2, 2)), vec![], "asked where it is, it stays");
    }

    #[test]
    fn a_cursor_never_goes_back_nor_passes_the_durable_feed() {
        let mut h = fed_twice();
        assert_eq!(h.err(advance(2, 1, 2)), LifecycleError::CursorBehind { current: 2, asked: 1 });
        // Durable up to 1 only: 2 is applied but a crash could take it back.
        assert_eq!(h.err(advance(0, 2, 1)), LifecycleError::CursorPastWatermark { asked: 2, durable: 1 });
        // Never past the feed itself, whatever the caller says is durable.
        assert_eq!(h.err(advance(0, 3, 9)), LifecycleError::CursorPastWatermark { asked: 3, durable: 2 });
    }

    #[test]
    fn a_sealed_registry_moves_no_cursor() {
        let mut h = fed_twice();
        h.ok(Request::Seal);
        assert_eq!(h.err(advance(0, 1, 2)), LifecycleError::Sealed);
    }
}
