//! The check's own searches, breadth first and depth first, visit the
//! states stateright's does, and find the same violations: on small
//! configurations, on one past the seen table's first growth, and for every
//! mutant, where the search stops at the first violation.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;

use oplife_model::engine::{Progress, explore, explore_depth_first, explore_until_violated};
use oplife_model::mutants::CATALOGUE;
use oplife_model::{LifecycleModel, ModelConfig};
use stateright::{Checker, Expectation, Model};

/// Explores `model` with both searches, checks they agree, and returns the
/// properties violated.
fn both(model: LifecycleModel) -> BTreeSet<&'static str> {
    let ours = explore(&model, 2, &Progress::default());
    let theirs = model.clone().checker().threads(2).spawn_bfs().join();
    assert_eq!(ours.unique, theirs.unique_state_count(), "unique states");
    assert_eq!(ours.generated, theirs.state_count(), "generated states");
    let depth_first = explore_depth_first(&model, 2, &Progress::default());
    assert_eq!(
        (depth_first.unique, depth_first.generated, &depth_first.violated),
        (ours.unique, ours.generated, &ours.violated),
        "depth first"
    );
    let discovered: BTreeSet<&'static str> = model
        .properties()
        .iter()
        .filter(|p| p.expectation == Expectation::Always && theirs.discovery(p.name).is_some())
        .map(|p| p.name)
        .collect();
    assert_eq!(ours.violated, discovered, "violated properties");
    ours.violated
}

fn small() -> ModelConfig {
    ModelConfig { ops: 2, waits: 1, watchers: 1, ..ModelConfig::DEEP }
}

#[test]
fn the_shipped_table_with_and_without_symmetry() {
    for symmetric in [true, false] {
        assert!(both(LifecycleModel::standard(small()).with_symmetry(symmetric)).is_empty());
    }
}

#[test]
fn mutants_violate_the_same_properties() {
    // Mutants whose state space stays finite (a mutant may break what
    // keeps it finite; the mutant phase stops at the first violation).
    for name in ["complete-forgets-active-count", "cancel-not-journaled"] {
        let mutant = CATALOGUE.iter().find(|m| m.name == name).unwrap();
        let config = ModelConfig { ops: 2, waits: 0, crashes: true, ..ModelConfig::DEFAULT };
        // Agreeing on nothing found would prove little: each is caught.
        assert!(!both(LifecycleModel::new(mutant.table(), config).symmetric()).is_empty(), "{name}");
    }
}

#[test]
fn past_the_seen_table_s_first_growth() {
    // "two waits": 85,662 classes, where the seen table starts with 65,536
    // places and grows once it is half full.
    let model = LifecycleModel::standard(ModelConfig::TWO_WAITS).symmetric();
    let unique = explore(&model, 2, &Progress::default()).unique;
    assert!(unique > 1 << 15, "{unique} states do not make the table grow");
    assert!(both(model).is_empty());
}

#[test]
fn the_search_that_stops_at_the_first_violation_agrees_for_every_mutant() {
    for mutant in CATALOGUE {
        // The first configuration of the two the catalogue is caught in
        // that catches this mutant.
        let (model, ours) = [ModelConfig::FOUR_KINDS, ModelConfig::THREE_OPS]
            .into_iter()
            .map(|config| {
                let model = LifecycleModel::new(mutant.table(), config).symmetric();
                let ours = explore_until_violated(&model, 1, &Progress::default());
                (model, ours)
            })
            .find(|(_, ours)| !ours.violated.is_empty())
            .unwrap_or_else(|| panic!("{}: nothing violated", mutant.name));
        // The first violating state is on the shallowest level any
        // violation is (`depth` counts the states of its path): stateright's
        // breadth-first search finds nothing violated above that level, and
        // on it finds every property this search found violated.
        let down_to =
            |levels: usize| model.clone().checker().threads(1).target_max_depth(levels + 1).spawn_bfs().join();
        let shallower = down_to(ours.depth - 1);
        let on_the_level = down_to(ours.depth);
        for property in &ours.violated {
            let path =
                on_the_level.discovery(property).unwrap_or_else(|| panic!("{}: {property} not found", mutant.name));
            assert_eq!(path.into_states().len(), ours.depth, "{}: {property}", mutant.name);
        }
        let early: Vec<&str> = model
            .properties()
            .iter()
            .filter(|p| p.expectation == Expectation::Always && shallower.discovery(p.name).is_some())
            .map(|p| p.name)
            .collect();
        assert!(early.is_empty(), "{}: {early:?} violated before level {}", mutant.name, ours.depth);
    }
}
