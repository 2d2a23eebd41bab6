//! Examples (`sometimes` properties) are looked for by random walks first
//! and then by the exhaustive search: one is reported missing only when no
//! reachable state shows it.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_model::ModelConfig;
use oplife_model::check::{CheckOptions, run};
use oplife_model::config::DEFAULT_SUITE;
use oplife_model::properties::SOMETIMES_ROLLBACK;
use oplife_spec::{Input, Table};

fn options() -> CheckOptions {
    // "two waits": every example but those needing crashes or a limit.
    CheckOptions { symmetry: true, ..CheckOptions::new(DEFAULT_SUITE[1].1) }
}

#[test]
fn every_example_the_configuration_can_reach_is_found() {
    // By the walks, and by the search alone.
    for example_walks in [400, 0] {
        let report = run(Table::standard(), CheckOptions { example_walks, ..options() });
        assert!(report.unreached().is_empty(), "{example_walks} walks: {}", report.render());
        assert!(report.properties.iter().any(|p| p.name == SOMETIMES_ROLLBACK && p.ok));
    }
}

#[test]
fn an_example_no_reachable_state_shows_is_reported_missing() {
    // Without its rows nothing can roll a registration back: the walks
    // cannot find it, and the search after them must not either.
    let mut table = Table::standard();
    table.rows.retain(|row| row.input != Input::RollbackRegistration);
    // A small configuration: the search after the walks is exhaustive here.
    let config = ModelConfig { waits: 1, watchers: 0, progress: 0, ..DEFAULT_SUITE[1].1 };
    let report = run(table, CheckOptions { config, ..options() });
    assert_eq!(report.unreached(), vec![SOMETIMES_ROLLBACK], "{}", report.render());
    assert!(!report.held());
}
