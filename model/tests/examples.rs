//! Examples (`sometimes` properties) are found from what the exhaustive
//! exploration's steps showed, by random walks, and by a search with
//! witnesses: one is reported missing only when no reachable state shows
//! it, and excused as not applicable only when the shipped table reaches
//! no such state either.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;

use oplife_model::check::{CheckOptions, run};
use oplife_model::properties::SOMETIMES_ROLLBACK;
use oplife_model::verdict::{Demand, check_suite};
use oplife_model::{LifecycleModel, ModelConfig};
use oplife_spec::{Input, Table};
use stateright::{Checker, Expectation, HasDiscoveries, Model};

fn options() -> CheckOptions {
    // "two waits": examples it reaches and examples it cannot.
    CheckOptions { symmetry: true, ..CheckOptions::new(ModelConfig::TWO_WAITS) }
}

#[test]
fn the_examples_found_are_those_stateright_s_own_search_discovers() {
    let config = options().config;
    // stateright's breadth-first search over the model with witnesses, to
    // the end: an independent answer to which examples some state shows.
    let model = LifecycleModel::standard(config).with_witnesses();
    let all: BTreeSet<&'static str> = model.properties().iter().map(|p| p.name).collect();
    let discovered: BTreeSet<&'static str> = model
        .checker()
        .threads(2)
        .finish_when(HasDiscoveries::AllOf(all.clone()))
        .spawn_bfs()
        .join()
        .discoveries()
        .into_keys()
        .collect();
    assert!(!discovered.is_empty() && discovered != all, "the configuration reaches some examples, not all");
    // By the walks and by the search alone, the same answer.
    for example_walks in [400, 0] {
        let report = run(Table::standard(), CheckOptions { example_walks, ..options() });
        let reached: BTreeSet<&'static str> = report
            .properties
            .iter()
            .filter(|p| p.expectation == Expectation::Sometimes && p.ok)
            .map(|p| p.name)
            .collect();
        assert_eq!(reached, discovered, "{example_walks} walks");
    }
}

#[test]
fn an_example_no_reachable_state_shows_is_reported_missing() {
    // Without its rows nothing can roll a registration back: the walks
    // cannot find it, and the search after them must not either; the
    // shipped table reaches it here, so it is not excused.
    let mut table = Table::standard();
    table.rows.retain(|row| row.input != Input::RollbackRegistration);
    let config = ModelConfig { waits: 1, watchers: 0, progress: 0, ..ModelConfig::TWO_WAITS };
    let verdict = check_suite(
        &table,
        &[("custom", config)],
        CheckOptions { config, ..options() },
        Demand::WhatTheShippedTableReaches,
    );
    let (_, _, report) = &verdict.reports[0];
    assert_eq!(report.unreached(), vec![SOMETIMES_ROLLBACK], "{}", verdict.render());
    assert!(!report.not_applicable.is_empty(), "what the shipped table cannot reach here is excused");
    assert!(!verdict.ok());
}
