//! Every transition method of the registry trait says in its docs which
//! statuses allow it, and what it says is what the table says.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_spec::{Allowed, Input, StatusSet, Table};

/// The statuses the table allows `input` from.
fn allowed_from(table: &Table, input: Input) -> StatusSet {
    table.rows.iter().filter(|rule| rule.input == input).fold(StatusSet::EMPTY, |set, rule| match &rule.from {
        Allowed::Statuses(from) => from.iter().fold(set, StatusSet::with),
        Allowed::Phases(_) => set,
    })
}

/// The doc line a method of `input` must carry.
fn expected_line(table: &Table, input: Input) -> String {
    format!(
        "    /// Allowed from: {}; see the [transition table](oplife_spec::transition_table).",
        allowed_from(table, input)
    )
}

#[test]
fn each_transition_method_names_the_statuses_the_table_allows() {
    let table = Table::standard();
    let source = include_str!("../src/api.rs");
    let lines: Vec<&str> = source.lines().collect();
    let mut checked = 0;
    for input in Input::per_operation().filter(|input| *input != Input::ReleaseWatcher) {
        let signature = format!("    fn {}(", input.name());
        let at = lines.iter().position(|line| line.starts_with(&signature)).unwrap_or_else(|| {
            panic!("the registry trait has no method {}", input.name());
        });
        let docs: Vec<&str> =
            lines[..at].iter().rev().take_while(|line| line.trim_start().starts_with("///")).copied().collect();
        let expected = expected_line(&table, input);
        assert!(docs.contains(&expected.as_str()), "{} must say:\n{expected}", input.name());
        checked += 1;
    }
    assert_eq!(checked, Input::per_operation().count() - 1);
}
