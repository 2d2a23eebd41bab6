//! A state copied over another with `clone_from` (which keeps the target's
//! buffers) is that state: equal, with the same image, and it answers every
//! request as the original does, the id index of a large registry included.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::T;
use oplife_machine::{Lifecycle, Limits, Request, State};
use oplife_spec::{OperationKind, Status};

/// A registry with `ids` registered (started when `started`), waits on
/// some and a few completed, so every part of the state holds something.
fn used(lc: &Lifecycle, ids: std::ops::Range<u32>, started: bool) -> State<T> {
    let mut st = State::new();
    for id in ids.clone() {
        let kind = OperationKind::BackgroundToolOp;
        lc.apply(
            &mut st,
            Request::Register { id, kind, expects_peer: false, kind_limit: None, limit: None, source: None },
        )
        .unwrap();
        if started {
            lc.apply(&mut st, Request::ProvisioningSucceeded { id }).unwrap();
        }
    }
    let first = ids.start;
    lc.apply(&mut st, Request::BeginWait { wait: first, ids: vec![first + 1, first], run: () }).unwrap();
    lc.apply(&mut st, Request::RegisterWatcher { id: first + 2 }).unwrap();
    lc.apply(&mut st, Request::Cancel { id: first, reason: Some("stop") }).unwrap();
    lc.apply(&mut st, Request::Cancel { id: first + 3, reason: None }).unwrap();
    st
}

#[test]
fn a_state_copied_over_another_is_that_state_and_behaves_as_it_does() {
    let lc = Lifecycle::standard(Limits { max_completed: 1, max_concurrent: None, feed_retention: 2 });
    // Small over large and large over small: the copy shrinks and grows
    // the target's buffers, and the large one keeps an id index.
    for (target_ids, source_ids) in [(100..140, 7..12), (7..12, 100..140), (100..140, 200..260)] {
        let mut target = used(&lc, target_ids, true);
        let source = used(&lc, source_ids.clone(), false);
        target.clone_from(&source);
        assert_eq!(target, source);
        assert_eq!(target.image(), source.image());
        assert_eq!(target.retained().collect::<Vec<_>>(), source.retained().collect::<Vec<_>>());
        // Every id of the source, and one it never had, is found (or not)
        // as in the source, and a step on each leaves the two equal.
        let mut copied = source.clone();
        for id in source_ids.clone().chain([source_ids.end, 100]) {
            assert_eq!(target.status(&id), source.status(&id));
            let step = || Request::ProvisioningSucceeded { id };
            assert_eq!(lc.apply(&mut target, step()).is_ok(), lc.apply(&mut copied, step()).is_ok());
            assert_eq!(target, copied);
        }
        assert!(target.operations().any(|(_, op)| op.status() == Status::Running));
    }
}
