//! The check's own searches, breadth first and depth first, visit exactly
//! the states stateright's does, and find the same violations.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;

use oplife_model::engine::{Progress, explore, explore_depth_first};
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
        assert!(!both(LifecycleModel::new(mutant.table(), config).with_symmetry(true)).is_empty(), "{name}");
    }
}
