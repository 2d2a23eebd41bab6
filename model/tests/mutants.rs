//! Teeth: every deliberately wrong table in the catalogue is caught, by the
//! property the catalogue names, with and without symmetry reduction.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;

use oplife_model::check::{self, check_mutant};
use oplife_model::mutants::CATALOGUE;
use oplife_model::{LifecycleModel, ModelConfig};
use stateright::{Checker, HasDiscoveries, Model};

/// The "three ops" configuration of the default suite: eviction, a wait, a
/// watcher, the concurrency limit. Every mutant of the two kinds it
/// registers has a short counterexample there, and a breadth-first search
/// stops at it.
const TEETH: ModelConfig = ModelConfig::THREE_OPS;

/// The "four kinds" configuration: every kind, and restarts asked to keep.
/// The mutants of the kinds rows and of retention are caught there.
const KIND_TEETH: ModelConfig = ModelConfig::FOUR_KINDS;

/// The configurations a mutant is caught in, tried in turn (the small one
/// first: a mutant it does not catch costs little there).
const ALL_TEETH: [ModelConfig; 2] = [KIND_TEETH, TEETH];

#[test]
fn the_catalogue_has_at_least_ten_distinct_mutants() {
    let names: BTreeSet<&str> = CATALOGUE.iter().map(|m| m.name).collect();
    assert!(CATALOGUE.len() >= 10);
    assert_eq!(names.len(), CATALOGUE.len());
    for mutant in CATALOGUE {
        assert_ne!(mutant.table(), oplife_spec::Table::standard(), "{} alters nothing", mutant.name);
    }
}

#[test]
fn every_mutant_is_caught_by_its_property() {
    for mutant in CATALOGUE {
        let caught = ALL_TEETH.iter().any(|config| {
            let checker = LifecycleModel::new(mutant.table(), *config)
                .symmetric()
                .checker()
                .threads(2)
                .finish_when(HasDiscoveries::AnyOf(BTreeSet::from([mutant.caught_by])))
                .spawn_bfs()
                .join();
            checker.discovery(mutant.caught_by).is_some()
        });
        assert!(caught, "mutant {} ({}) was not caught by \"{}\"", mutant.name, mutant.description, mutant.caught_by);
    }
}

#[test]
fn every_mutant_is_caught_without_symmetry_too() {
    let survivors: Vec<&str> = CATALOGUE
        .iter()
        .filter(|m| ALL_TEETH.iter().all(|config| check_mutant(m, *config, 2, false).caught_by.is_empty()))
        .map(|m| m.name)
        .collect();
    assert!(survivors.is_empty(), "mutants survived: {survivors:?}");
}

#[test]
fn a_mutant_gets_a_short_numbered_counterexample() {
    let mutant = CATALOGUE.iter().find(|m| m.name == "fail-from-terminal").unwrap();
    let steps = check::shortest_counterexample(&mutant.table(), TEETH, mutant.caught_by);
    // register, start, complete, fail: the shortest way to change a
    // terminal op.
    assert_eq!(steps.len(), 4, "{steps:#?}");
    assert!(steps[0].call.starts_with("register_operation(op"));
    assert!(steps[3].call.starts_with("fail_operation(op"));
    // With one retained record the re-ended op is evicted in the same step.
    assert!(steps[3].change.contains("Completed -> Absent"), "{}", steps[3].change);
    assert!(steps[3].change.contains(", Failed, feed #"), "{}", steps[3].change);
    assert!(steps[3].change.contains("a terminal op changed"), "{}", steps[3].change);
}

#[test]
fn the_shipped_table_has_no_counterexample() {
    let steps = check::shortest_counterexample(
        &oplife_spec::Table::standard(),
        ModelConfig { ops: 2, waits: 1, ..TEETH },
        oplife_model::properties::TERMINAL_IS_FINAL,
    );
    assert!(steps.is_empty());
}
