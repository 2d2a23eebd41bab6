//! The checker hook (`remap` feature): renaming ids keeps every order the
//! machine keeps, a renamed state behaves like the original, and rebasing
//! the feed keeps only the differences of sequence numbers.

#![cfg(feature = "remap")]
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::T;
use oplife_machine::{Lifecycle, Limits, Outcome, Output, Remap, Request, State};
use oplife_spec::{OperationKind, Status};

/// Ids `i -> 3 - i`, waits `w -> 12 - w`.
struct Mirror;
impl Remap<T> for Mirror {
    fn op(&self, id: &u32) -> u32 {
        3 - id
    }
    fn wait(&self, id: &u32) -> u32 {
        12 - id
    }
}

/// Sequence numbers shifted down by `.0`.
struct Rebase(u64);
impl Remap<T> for Rebase {
    fn renames(&self) -> bool {
        false
    }
    fn seq(&self, seq: u64) -> u64 {
        seq - self.0
    }
}

fn running(lc: &Lifecycle, st: &mut State<T>, id: u32) {
    lc.apply(
        st,
        Request::Register {
            id,
            kind: OperationKind::BackgroundToolOp,
            expects_peer: false,
            kind_limit: None,
            limit: None,
            source: None,
        },
    )
    .unwrap();
    lc.apply(st, Request::ProvisioningSucceeded { id }).unwrap();
}

#[test]
fn renaming_keeps_every_order_and_the_renamed_state_behaves_the_same() {
    let lc = Lifecycle::standard(Limits::default());
    let mut st = State::<T>::new();
    running(&lc, &mut st, 1);
    running(&lc, &mut st, 2);
    lc.apply(&mut st, Request::BeginWait { wait: 5, ids: vec![2, 1], run: () }).unwrap();
    lc.apply(&mut st, Request::BeginWait { wait: 7, ids: vec![1], run: () }).unwrap();
    lc.apply(&mut st, Request::Complete { id: 2, result: "ok" }).unwrap();

    let mut renamed = st.clone();
    renamed.remap(&Mirror);
    assert_eq!(renamed.status(&1), Status::Completed);
    assert_eq!(renamed.status(&2), Status::Running);
    assert_eq!(renamed.operations().map(|(id, _)| *id).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(renamed.retained().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(renamed.pending_waits().map(|(w, _)| *w).collect::<Vec<_>>(), vec![5, 7]);
    assert_eq!(renamed.pending_wait(&7).unwrap().entries()[0].0, 1);
    assert_eq!(renamed.pending_wait(&5).unwrap().entries()[0].0, 2);
    assert_eq!(renamed.feed().entries().next().unwrap().id, 1);
    let mut back = renamed.clone();
    back.remap(&Mirror);
    assert_eq!(back, st);

    // Ending op 2 (old op 1) satisfies both waits, in wait-id order.
    let out = lc.apply(&mut renamed, Request::Complete { id: 2, result: "ok" }).unwrap();
    let satisfied: Vec<u32> = out
        .iter()
        .filter_map(|o| match o {
            Output::WaitSatisfied(report) => Some(report.wait),
            _ => None,
        })
        .collect();
    assert_eq!(satisfied, vec![5, 7]);
}

#[test]
fn rebasing_the_feed_keeps_differences_only_and_rewrites_content() {
    let lc = Lifecycle::standard(Limits { feed_retention: 1, ..Limits::default() });
    let mut st = State::<T>::new();
    for id in 0..3 {
        lc.apply(
            &mut st,
            Request::Register {
                id,
                kind: OperationKind::BackgroundToolOp,
                expects_peer: false,
                kind_limit: None,
                limit: None,
                source: None,
            },
        )
        .unwrap();
        lc.apply(&mut st, Request::Cancel { id, reason: None }).unwrap();
    }
    st.remap(&Rebase(2));
    assert_eq!(st.feed().watermark(), 1);
    assert_eq!(st.feed().entries().map(|e| (e.seq, e.id)).collect::<Vec<_>>(), vec![(1, 2)]);
    // The machine goes on minting from the rebased watermark.
    running(&lc, &mut st, 9);
    lc.apply(&mut st, Request::Fail { id: 9, error: "e" }).unwrap();
    assert_eq!(st.feed().entries().map(|e| (e.seq, e.id)).collect::<Vec<_>>(), vec![(2, 9)]);

    struct Blank;
    impl Remap<T> for Blank {
        fn renames(&self) -> bool {
            false
        }
        fn feed_entry(&self, entry: &mut oplife_machine::FeedEntry<T>) {
            entry.outcome = Outcome::Retired.into();
            entry.seq = 0; // ignored: the sequence number is kept
        }
    }
    st.remap(&Blank);
    assert_eq!(
        st.feed().entries().map(|e| (e.seq, (*e.outcome).clone())).collect::<Vec<_>>(),
        vec![(2, Outcome::Retired)]
    );
}

#[test]
fn a_remapped_state_with_forgotten_places_finds_every_operation_and_behaves_the_same() {
    // `remap` drops the places forgotten operations left among the slots;
    // that is representation only and not visible here. What is: every
    // operation is still found by its id (through the rebuilt index), and
    // the state behaves as the original.
    /// Renames nothing, but takes the renaming pass.
    struct Same;
    impl Remap<T> for Same {}

    // Forty operations, every third ended and collected: fourteen
    // forgotten places among the slots, too few for the machine to compact,
    // and more than enough live ones for its index.
    let lc = Lifecycle::standard(Limits::default());
    let mut st = State::<T>::new();
    for id in 0..40 {
        running(&lc, &mut st, id);
    }
    for id in (0..40).step_by(3) {
        lc.apply(&mut st, Request::Complete { id, result: "ok" }).unwrap();
    }
    lc.apply(&mut st, Request::CollectCompleted).unwrap();
    assert_eq!(st.operation_count(), 26);

    let mut renamed = st.clone();
    renamed.remap(&Same);
    let mut rebased = st.clone();
    rebased.remap(&Rebase(0));
    for remapped in [&mut renamed, &mut rebased] {
        assert_eq!(*remapped, st);
        // Every remaining operation is found by its id and ends as in the
        // original, and a new one is registered after them.
        let mut original = st.clone();
        for id in (0..40).filter(|id| id % 3 != 0) {
            assert_eq!(remapped.status(&id), Status::Running);
            let request = || Request::Fail { id, error: "e" };
            assert_eq!(lc.apply(remapped, request()).unwrap(), lc.apply(&mut original, request()).unwrap());
        }
        running(&lc, remapped, 50);
        running(&lc, &mut original, 50);
        assert_eq!(*remapped, original);
        assert_eq!(remapped.operations().last().map(|(id, _)| *id), Some(50));
    }
}
