//! The searches on small graphs whose states and paths are known.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use stateright::{Model, Property};

use super::breadth_first::explore_breadth_first;
use super::seen::{Inserted, Seen};
use super::{
    Expand, Exploration, Found, Progress, Stop, depth_first, explore, explore_depth_first, explore_for_examples,
    explore_until_violated,
};
/// A grid of `SIDE` × `SIDE` points: from (x, y) a step goes right, up,
/// or back to the origin (so the graph has cycles).
struct Grid;

const SIDE: u8 = 200;

impl Expand for Grid {}

impl Model for Grid {
    type State = (u8, u8);
    type Action = u8;
    fn init_states(&self) -> Vec<(u8, u8)> {
        vec![(0, 0)]
    }
    fn actions(&self, _: &(u8, u8), actions: &mut Vec<u8>) {
        actions.extend([0, 1, 2]);
    }
    fn next_state(&self, &(x, y): &(u8, u8), action: u8) -> Option<(u8, u8)> {
        match action {
            0 => (x + 1 < SIDE).then_some((x + 1, y)),
            1 => (y + 1 < SIDE).then_some((x, y + 1)),
            _ => Some((0, 0)),
        }
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("inside", |_, &(x, y)| x < SIDE && y < SIDE),
            Property::always("not the far corner", |_, &(x, y)| (x, y) != (SIDE - 1, SIDE - 1)),
            Property::sometimes("ignored", |_, _| false),
        ]
    }
}

#[test]
fn every_point_is_seen_once_whatever_the_table_and_threads() {
    let side = usize::from(SIDE);
    let expected = Exploration {
        unique: side * side,
        // The origin, then from every point: back to the origin, and
        // right and up unless at the edge.
        generated: 1 + side * side + 2 * side * (side - 1),
        depth: 2 * side - 1,
        violated: BTreeSet::from(["not the far corner"]),
        reached: BTreeSet::new(),
    };
    // 16 places to start with: the table fills and grows many times
    // while threads insert, and successors that found it full are
    // taken in after it grew.
    for (threads, places) in [(1, 1 << 16), (2, 1 << 16), (1, 16), (2, 16), (3, 16)] {
        let progress = Progress::default();
        assert_eq!(
            explore_breadth_first(&Grid, threads, &progress, places, Found::of(&Grid, Stop::Never)),
            expected,
            "{threads} threads, {places} places"
        );
        assert!(progress.done.load(Ordering::Relaxed));
        assert_eq!(progress.unique.load(Ordering::Relaxed), side * side);
    }
}

#[test]
fn depth_first_sees_every_point_once_whatever_the_table_and_threads() {
    let side = usize::from(SIDE);
    for (threads, places) in [(1, 1 << 16), (2, 1 << 16), (1, 16), (2, 16), (3, 16)] {
        let progress = Progress::default();
        let found = depth_first::explore_depth_first(&Grid, threads, &progress, places);
        assert_eq!(found.unique, side * side, "{threads} threads, {places} places");
        assert_eq!(found.generated, 1 + side * side + 2 * side * (side - 1), "{threads} threads, {places} places");
        assert_eq!(found.violated, BTreeSet::from(["not the far corner"]));
        // A path along the edge and up reaches the far corner in as many
        // steps as breadth first; depth first goes no shorter.
        assert!(found.depth >= 2 * side - 1, "{} with {threads} threads", found.depth);
        assert_eq!(progress.unique.load(Ordering::Relaxed), side * side);
    }
    // One state whose thousand successors find a table of 16 places full.
    for threads in [1, 2] {
        let explored = depth_first::explore_depth_first(&Fan, threads, &Progress::default(), 16);
        assert_eq!((explored.unique, explored.generated, explored.depth), (1001, 1001, 2));
    }
    let progress = Progress::default();
    assert_eq!(explore_depth_first(&Line, 2, &progress).violated, BTreeSet::from(["below ten", "below five hundred"]));
    assert!(progress.done.load(Ordering::Relaxed));
}

/// A line of a thousand states, the eleventh of which breaks a rule; the
/// 501st is an example, and no state is the other.
struct Line;

impl Expand for Line {}

impl Model for Line {
    type State = u16;
    type Action = ();
    fn init_states(&self) -> Vec<u16> {
        vec![0]
    }
    fn actions(&self, _: &u16, actions: &mut Vec<()>) {
        actions.push(());
    }
    fn next_state(&self, state: &u16, (): ()) -> Option<u16> {
        (*state < 999).then_some(state + 1)
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("below ten", |_, state| *state < 10),
            Property::always("below five hundred", |_, state| *state < 500),
            Property::sometimes("five hundred", |_, state| *state == 500),
            Property::sometimes("two thousand", |_, state| *state == 2000),
        ]
    }
}

#[test]
fn the_search_for_a_violation_stops_at_the_first() {
    for threads in [1, 2] {
        let found = explore_until_violated(&Line, threads, &Progress::default());
        assert_eq!(found.violated, BTreeSet::from(["below ten"]));
        // Level 11 holds state 10: its properties are checked, and it
        // is not expanded.
        assert_eq!((found.unique, found.depth), (11, 11), "{threads} threads");
        let all = explore(&Line, threads, &Progress::default());
        assert_eq!(all.violated, BTreeSet::from(["below ten", "below five hundred"]));
        assert_eq!(all.unique, 1000);
    }
}

/// One state with a thousand successors, each with none.
struct Fan;

impl Expand for Fan {}

impl Model for Fan {
    type State = u16;
    type Action = u16;
    fn init_states(&self) -> Vec<u16> {
        vec![0]
    }
    fn actions(&self, state: &u16, actions: &mut Vec<u16>) {
        if *state == 0 {
            actions.extend(1..=1000);
        }
    }
    fn next_state(&self, _: &u16, action: u16) -> Option<u16> {
        Some(action)
    }
}

#[test]
fn successors_that_find_the_table_full_are_taken_in_after_it_grows() {
    // 16 places: the one state of the first level fills the table.
    for threads in [1, 2] {
        let explored = explore_breadth_first(&Fan, threads, &Progress::default(), 16, Found::of(&Fan, Stop::Never));
        assert_eq!((explored.unique, explored.generated, explored.depth), (1001, 1001, 2));
    }
}

#[test]
fn the_seen_table_reports_full_instead_of_looping() {
    let seen = Seen::with_capacity(4);
    let inserted: Vec<Inserted> = (1..=5).map(|print| seen.insert(print)).collect();
    assert_eq!(inserted, [Inserted::New, Inserted::New, Inserted::New, Inserted::New, Inserted::Full]);
    assert_eq!(seen.insert(3), Inserted::Seen);
    assert!(seen.crowded());
}

#[test]
fn the_search_for_examples_stops_once_each_wanted_one_is_found() {
    for threads in [1, 2] {
        let wanted = BTreeSet::from(["five hundred"]);
        let found = explore_for_examples(&Line, &wanted, threads, &Progress::default());
        assert_eq!(found.reached, wanted);
        assert!(found.violated.is_empty(), "only the wanted examples are checked, no invariant");
        assert_eq!(found.unique, 501, "{threads} threads: it stops at the state that shows it");
        let both = BTreeSet::from(["five hundred", "two thousand"]);
        let found = explore_for_examples(&Line, &both, threads, &Progress::default());
        assert_eq!(found.reached, wanted, "no state shows two thousand");
        assert_eq!(found.unique, 1000, "{threads} threads: a missing example is looked for everywhere");
    }
}
