//! The exhaustive check `cargo test` runs: the default suite, not sampled
//! and not depth-bounded, with its unique state counts pinned so that any
//! semantic change of the table or the machine shows up in review.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_model::check::CheckOptions;
use oplife_model::config::DEFAULT_SUITE;
use oplife_model::verdict::{Demand, check_suite};
use oplife_spec::Table;

/// Unique states (symmetry classes) of each configuration of the default
/// suite. A change here means the reachable behaviour changed: say why in
/// the commit.
const PINNED: [(&str, usize); 4] = [
    ("four kinds", PINNED_FOUR_KINDS),
    ("three ops", PINNED_THREE_OPS),
    ("two waits", PINNED_TWO_WAITS),
    ("three ops, two waits", PINNED_THREE_OPS_TWO_WAITS),
];
const PINNED_FOUR_KINDS: usize = 64_412;
const PINNED_TWO_WAITS: usize = 85_662;
const PINNED_THREE_OPS: usize = 422_188;
const PINNED_THREE_OPS_TWO_WAITS: usize = 379_840;

#[test]
fn the_default_suite_holds_exhaustively_with_pinned_state_counts() {
    let options = CheckOptions { symmetry: true, ..CheckOptions::new(DEFAULT_SUITE[0].1) };
    let verdict = check_suite(&Table::standard(), &DEFAULT_SUITE, options, Demand::Everything);
    // Every invariant held, every example was reached in some configuration
    // and every row fired in some configuration.
    assert!(verdict.ok(), "{}", verdict.render());
    for ((name, _, report), (pinned_name, pinned)) in verdict.reports.iter().zip(PINNED) {
        assert_eq!(*name, pinned_name);
        assert_eq!(report.unique_states, pinned, "{name}: unique state count changed");
    }
    let (_, _, last) = verdict.reports.last().unwrap();
    assert!(last.rows_never_fired.is_empty() && last.rows_not_applicable.is_empty(), "{}", last.render_coverage());
}
