//! The completion feed and restore, through the machine: sequence numbers,
//! retention, and restores that keep what was captured, end what was lost
//! and refuse every inconsistent image.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::{Bg, Child, Harness, T, done};
use oplife_machine::{Image, LifecycleError, Limits, LostPolicy, Outcome, Output, Request, SharedOutcome};
use oplife_spec::{Phase, Status};
#[test]
fn every_terminal_transition_mints_the_next_feed_sequence() {
    let mut h = Harness::with(Limits { feed_retention: 2, ..Limits::default() });
    assert_eq!(h.st.feed().watermark(), 0);
    h.running(1, Bg);
    h.running(2, Child);
    h.register(3, Bg);
    h.ok(done(1));
    // A refused request mints nothing.
    h.err(done(1));
    let out = h.ok(Request::TerminateOwner { reason: "r" });
    let minted: Vec<(u64, u32)> = out
        .iter()
        .filter_map(|o| if let Output::Ended { seq: Some(seq), id, .. } = o { Some((*seq, *id)) } else { None })
        .collect();
    assert_eq!(minted, vec![(2, 2), (3, 3)]);
    assert_eq!(h.st.feed().watermark(), 3);
    // Retention keeps the last two; the answer names the dropped range.
    let since = h.st.feed().since(0);
    assert_eq!(since.missed, Some(1..=1));
    assert_eq!(since.entries.iter().map(|e| (e.seq, e.id)).collect::<Vec<_>>(), vec![(2, 2), (3, 3)]);
    assert_eq!(*since.entries[0].outcome, Outcome::Terminated { reason: "r" });
    assert_eq!(since.entries[0].kind, Child);
    let since = h.st.feed().since(2);
    assert_eq!((since.missed, since.entries.len()), (None, 1));
    assert!(h.st.feed().since(3).entries.is_empty());
    assert!(h.st.feed().since(99).entries.is_empty());
    // Collection and eviction forget records, never feed entries.
    h.ok(Request::CollectCompleted);
    assert_eq!(h.st.feed().entries().len(), 2);
}

fn used_registry() -> Harness {
    let mut h = Harness::with(Limits { max_completed: 8, ..Limits::default() });
    h.running(1, Child);
    h.ok(Request::PeerReady { id: 1 });
    h.ok(Request::ReportProgress { id: 1, update: 40 });
    h.running(2, Bg);
    h.ok(done(2));
    h.register(3, Bg);
    h.ok(Request::Fail { id: 3, error: "e" });
    h.ok(Request::CollectTerminal { id: 3 });
    h.ok(Request::RegisterWatcher { id: 1 });
    h.ok(Request::BeginWait { wait: 1, ids: vec![1], run: () });
    h
}

#[test]
fn restore_keeps_terminal_records_and_the_feed_and_ends_lost_operations() {
    let old = used_registry();
    let image = old.st.image();
    let mut h = Harness::with(Limits { max_completed: 8, ..Limits::default() });
    let out = h.ok(Request::Restore {
        image: Box::new(image.clone()),
        policy: LostPolicy::Terminate { reason: "lost" },
        keep: Vec::new(),
    });
    let lost = SharedOutcome::<T>::from(Outcome::Terminated { reason: "lost" });
    assert_eq!(out, vec![Output::Ended { id: 1, outcome: lost.clone(), seq: Some(3) }]);
    // Terminal records survive exactly, in completion order, with flags.
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![2, 3, 1]);
    assert_eq!(h.st.operation(&2).unwrap().outcome(), Some(&Outcome::Completed("ok")));
    assert!(!h.st.operation(&3).unwrap().buffered());
    // The lost op keeps what it had, but not its watchers or waits.
    let one = h.st.operation(&1).unwrap();
    assert_eq!(
        (one.status(), one.peer_ready(), one.progress_count(), one.last_progress()),
        (Status::Terminated, true, 1, Some(&40))
    );
    assert_eq!((one.watcher_count(), one.tracking_waits()), (0, 0));
    assert_eq!(h.st.pending_waits().count(), 0);
    assert_eq!(h.st.active_count(), 0);
    // The feed continues after the old watermark.
    let feed: Vec<u64> = h.st.feed().entries().map(|e| e.seq).collect();
    assert_eq!(feed, vec![1, 2, 3]);
    assert_eq!(h.st.image().feed[..2], image.feed[..]);
    // The restored registry is open and used: a second restore is refused.
    h.register(4, Bg);
    assert_eq!(
        h.err(Request::Restore {
            image: Box::new(image),
            policy: LostPolicy::Cancel { reason: None },
            keep: Vec::new()
        }),
        LifecycleError::RegistryInUse
    );
}

#[test]
fn restore_under_the_cancel_policy_and_after_owner_termination() {
    let old = used_registry();
    let mut h = Harness::new();
    h.ok(Request::Restore {
        image: Box::new(old.st.image()),
        policy: LostPolicy::Cancel { reason: Some("restart") },
        keep: Vec::new(),
    });
    assert_eq!(h.st.operation(&1).unwrap().outcome(), Some(&Outcome::Cancelled { reason: Some("restart") }));
    assert_eq!(h.st.phase(), Phase::Open);

    let mut old = used_registry();
    old.ok(Request::TerminateOwner { reason: "bye" });
    let mut h = Harness::new();
    let out = h.ok(Request::Restore {
        image: Box::new(old.st.image()),
        policy: LostPolicy::Cancel { reason: None },
        keep: Vec::new(),
    });
    assert_eq!(out, vec![]);
    assert_eq!(h.st.phase(), Phase::OwnerTerminated);
    assert_eq!(
        h.err(Request::Register { id: 9, kind: Bg, expects_peer: false, kind_limit: None, limit: None, source: None }),
        LifecycleError::OwnerTerminated
    );
    assert_eq!(h.st.image(), old.st.image());
}

#[test]
fn restore_applies_the_new_limits() {
    let old = used_registry();
    let mut h = Harness::with(Limits { max_completed: 1, feed_retention: 1, ..Limits::default() });
    let out = h.ok(Request::Restore {
        image: Box::new(old.st.image()),
        policy: LostPolicy::Terminate { reason: "x" },
        keep: Vec::new(),
    });
    assert!(out.contains(&Output::Evicted { id: 2 }));
    assert_eq!(h.st.retained().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(h.st.feed().entries().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn restore_refuses_inconsistent_images_and_changes_nothing() {
    let image = used_registry().st.image();
    type Corruption = Box<dyn Fn(&mut Image<T>)>;
    let broken: Vec<(&str, Corruption)> = vec![
        ("twice", Box::new(|i: &mut Image<T>| i.operations.push(i.operations[0].clone()))),
        ("Completed with outcome None", Box::new(|i: &mut Image<T>| i.operations[1].outcome = None)),
        (
            "Completed with outcome Some(Failed)",
            Box::new(|i: &mut Image<T>| i.operations[1].outcome = Some(Outcome::Failed { error: "e" }.into())),
        ),
        (
            "Running with outcome Some(Retired)",
            Box::new(|i: &mut Image<T>| i.operations[0].outcome = Some(Outcome::Retired.into())),
        ),
        ("Absent", Box::new(|i: &mut Image<T>| i.operations[0].status = Status::Absent)),
        ("buffered but", Box::new(|i: &mut Image<T>| i.operations[0].buffered = true)),
        ("peer-ready", Box::new(|i: &mut Image<T>| i.operations[1].peer_ready = true)),
        ("7 is Absent", Box::new(|i: &mut Image<T>| i.retained.push(7))),
        ("appears twice", Box::new(|i: &mut Image<T>| i.retained.push(2))),
        ("1 is Running", Box::new(|i: &mut Image<T>| i.retained[0] = 1)),
        (
            "retained records",
            Box::new(|i: &mut Image<T>| {
                i.retained.pop();
            }),
        ),
        ("after owner termination", Box::new(|i: &mut Image<T>| i.phase = Phase::OwnerTerminated)),
        ("watermark", Box::new(|i: &mut Image<T>| i.feed_watermark = 1)),
        ("out of range", Box::new(|i: &mut Image<T>| i.feed_watermark = u64::MAX)),
        ("where 1 was expected", Box::new(|i: &mut Image<T>| i.feed[0].seq = 0)),
    ];
    for (expected, corrupt) in broken {
        let mut image = image.clone();
        corrupt(&mut image);
        let mut h = Harness::new();
        let err = h.err(Request::Restore {
            image: Box::new(image),
            policy: LostPolicy::Terminate { reason: "x" },
            keep: Vec::new(),
        });
        match err {
            LifecycleError::InvalidImage(why) => assert!(why.contains(expected), "{expected:?} not in {why:?}"),
            other => panic!("{expected}: {other:?}"),
        }
        assert!(h.st.is_pristine());
    }
}

#[test]
fn restore_refuses_retained_records_out_of_feed_order() {
    let mut h = Harness::new();
    h.running(1, Bg);
    h.running(2, Bg);
    h.ok(done(1));
    h.ok(done(2));
    let mut image = h.st.image();
    assert_eq!(image.retained, vec![1, 2]);
    image.retained.swap(0, 1);
    let mut fresh = Harness::new();
    let err = fresh.err(Request::Restore {
        image: Box::new(image),
        policy: LostPolicy::Terminate { reason: "x" },
        keep: Vec::new(),
    });
    match err {
        LifecycleError::InvalidImage(why) => assert!(why.contains("retained record 1 ended"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(fresh.st.is_pristine());
}
