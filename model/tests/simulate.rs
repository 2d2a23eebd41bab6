//! Seeded simulation beyond exhaustive reach: six ids, three waits,
//! watchers, progress, restarts and crashes. The shipped table holds on
//! every step of a bounded run, every mutant of the catalogue is found
//! within the same budget, a seed replays exactly, and a violation comes
//! back shrunk.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_model::mutants::CATALOGUE;
use oplife_model::simulate::{Budget, WIDE, simulate};
use oplife_spec::Table;

const SEED: u64 = 20_261_128;
const WALKS: u64 = 300;
const STEPS: usize = 400;

#[test]
fn the_shipped_table_holds_on_every_step_of_the_walks() {
    let run = simulate(Table::standard(), WIDE, SEED, Budget::Walks(WALKS), STEPS);
    assert!(run.violation.is_none(), "{:?}", run.violation);
    assert_eq!(run.walks, WALKS);
    assert!(run.steps >= WALKS * STEPS as u64 / 2, "walks ended early: {} calls", run.steps);
    eprintln!("{} walks, {} calls, {:.0} walks/s", run.walks, run.steps, run.walk_rate());
}

#[test]
fn every_mutant_is_found_within_the_budget() {
    let mut report = Vec::new();
    for mutant in CATALOGUE {
        let run = simulate(mutant.table(), WIDE, SEED, Budget::Walks(WALKS), STEPS);
        let Some((property, walk, calls)) = run.violation else {
            panic!("mutant {} was not found in {WALKS} walks", mutant.name);
        };
        assert!(!calls.is_empty());
        report.push(format!("{}: walk {walk}, {property}, {} calls", mutant.name, calls.len()));
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn a_seed_replays_exactly_and_a_violation_comes_back_shrunk() {
    let mutant = CATALOGUE.iter().find(|m| m.name == "peer-ready-for-background").unwrap();
    let first = simulate(mutant.table(), WIDE, SEED, Budget::Walks(WALKS), STEPS);
    let again = simulate(mutant.table(), WIDE, SEED, Budget::Walks(WALKS), STEPS);
    assert_eq!((first.walks, first.steps), (again.walks, again.steps));
    assert_eq!(first.violation.as_ref().map(|v| &v.2), again.violation.as_ref().map(|v| &v.2));
    let (_, _, calls) = first.violation.unwrap();
    // Register, start, peer_ready: nothing else is needed, and the shrinker
    // removed everything else the walk did.
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert!(calls[2].call.starts_with("peer_ready"));
}
