//! `check` over a grid of small configurations: every flag at its smallest
//! and its largest value, alone and in pairs. Each must end `RESULT: ok`:
//! whatever a configuration cannot reach is derived as not applicable, so a
//! newcomer's first flag never meets a false alarm.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_model::ModelConfig;
use oplife_model::check::CheckOptions;
use oplife_model::config::CORE_KINDS;
use oplife_model::verdict::{Demand, check_suite};
use oplife_spec::{OperationKind, Table};

/// Every flag at its smallest value.
const SMALLEST: ModelConfig = ModelConfig {
    ops: 1,
    max_completed: 0,
    max_concurrent: Some(1),
    waits: 0,
    watchers: 0,
    progress: 0,
    feed_retention: 0,
    restarts: false,
    crashes: false,
    kinds: &CORE_KINDS,
    retention: false,
    cursors: false,
};

/// One flag of the grid set to its largest value.
type Raise = fn(&mut ModelConfig);

/// Each flag at its largest value in the grid: the command line's largest,
/// but 4 ids instead of 6 and 3 retained records instead of 8. With every
/// other flag at its smallest, 6 ids and 8 retained records (every order
/// of completion retained) had not finished after 15 minutes and 4 GiB;
/// 4 ids and 4 records make 1.6 M classes in 11 s, the rest of the grid
/// together a few seconds.
const LARGEST: [(&str, Raise); 12] = [
    ("ops 4", |c| c.ops = 4),
    ("max-completed 3", |c| c.max_completed = 3),
    ("max-concurrent none", |c| c.max_concurrent = None),
    ("waits 3", |c| c.waits = 3),
    ("watchers 3", |c| c.watchers = 3),
    ("progress 3", |c| c.progress = 3),
    ("feed 3", |c| c.feed_retention = 3),
    ("restarts", |c| c.restarts = true),
    ("crashes", |c| c.crashes = true),
    ("all kinds", |c| c.kinds = &OperationKind::ALL),
    ("retention", |c| c.retention = true),
    ("cursors", |c| c.cursors = true),
];

/// The smallest configuration, and it with each flag raised to its
/// largest, alone and in pairs.
fn grid() -> Vec<(String, ModelConfig)> {
    let mut grid = vec![("smallest".to_owned(), SMALLEST)];
    for (i, (name, raise)) in LARGEST.iter().enumerate() {
        let mut alone = SMALLEST;
        raise(&mut alone);
        grid.push(((*name).to_owned(), alone));
        for (other, raise_other) in &LARGEST[i + 1..] {
            let mut pair = alone;
            raise_other(&mut pair);
            grid.push((format!("{name}, {other}"), pair));
        }
    }
    grid
}

/// The base of the command line's flags with each flag lowered to its
/// smallest alone: where a newcomer's first flag lands.
fn lowered() -> Vec<(String, ModelConfig)> {
    let lower: [(&str, Raise); 9] = [
        ("--ops 1", |c| c.ops = 1),
        ("--max-completed 0", |c| c.max_completed = 0),
        ("--max-concurrent 1", |c| c.max_concurrent = Some(1)),
        ("--waits 0", |c| c.waits = 0),
        ("--watchers 0", |c| c.watchers = 0),
        ("--progress 0", |c| c.progress = 0),
        ("--feed 0", |c| c.feed_retention = 0),
        ("--no-restarts", |c| c.restarts = false),
        ("--no-crashes", |c| c.crashes = false),
    ];
    let mut lowered: Vec<(String, ModelConfig)> = Vec::new();
    for (name, lower) in lower {
        let mut config = ModelConfig::DEFAULT;
        lower(&mut config);
        // A flag already at its smallest in the base changes nothing.
        if config != ModelConfig::DEFAULT {
            lowered.push((name.to_owned(), config));
        }
    }
    lowered
}

/// Checks each configuration as `check` does with a flag given, and
/// returns the report of each that does not end ok.
fn failures(configs: &[(String, ModelConfig)]) -> Vec<String> {
    let mut failed = Vec::new();
    for (name, config) in configs {
        let options = CheckOptions { symmetry: true, ..CheckOptions::new(*config) };
        let verdict =
            check_suite(&Table::standard(), &[("custom", *config)], options, Demand::WhatTheShippedTableReaches);
        if !verdict.ok() {
            failed.push(format!("{name} ({config}):\n{}", verdict.render()));
        }
    }
    failed
}

#[test]
fn every_flag_at_its_extremes_alone_and_in_pairs_ends_ok() {
    let grid = grid();
    assert_eq!(grid.len(), 1 + 12 + 66);
    let failed = failures(&grid);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn every_flag_lowered_from_the_base_ends_ok() {
    let lowered = lowered();
    assert_eq!(lowered.len(), 6, "{:?}", lowered.iter().map(|(name, _)| name).collect::<Vec<_>>());
    let failed = failures(&lowered);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
