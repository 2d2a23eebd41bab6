//! The behaviour matrix, produced by running the compiled machine on every
//! (status, input) cell, is reviewed as a snapshot; and every cell agrees
//! with what the table says of it.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_machine::{Lifecycle, Limits};
use oplife_model::matrix;
use oplife_spec::{Input, RetryRule, Status, Table, render};

#[test]
fn machine_matrix() {
    insta::assert_snapshot!(matrix::render(&Lifecycle::standard(Limits::default())));
}

/// The cells where what the machine did (in `text`) is not what `table`
/// says: the same error, or a row going to the same status. Also returns
/// how many cells were compared.
fn disagreements(table: &Table, text: &str) -> (Vec<String>, usize) {
    let (mut found, mut checked) = (Vec::new(), 0);
    for line in text.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let status = Status::ALL.into_iter().find(|s| s.name() == cells[1]).unwrap();
        let input = Input::ALL.into_iter().find(|i| i.name() == cells[2]).unwrap();
        let expected = render::cell(table, input, status);
        for did in &cells[3..5] {
            let agrees = match did.strip_prefix("error ") {
                Some(refused) => {
                    // "Kind (class)": the class is what the table's retry
                    // rows say (the matrix repeats the recorded payloads).
                    let (kind, class) = match refused.split_once(" (") {
                        Some((kind, class)) => (kind, class.trim_end_matches(')')),
                        None => (refused, "invalid"),
                    };
                    let says = match table.retry_rule(input, status) {
                        None => "invalid",
                        Some(RetryRule::Conflict) => "conflict",
                        Some(RetryRule::Repeat | RetryRule::RepeatIfSame) => "repeat",
                    };
                    class == says
                        && (expected == format!("error {kind}") || expected.contains(&format!("error {kind} if not")))
                }
                None if did.starts_with("stays") => expected.contains("→ unchanged"),
                None => did.split(';').next().is_some_and(|to| expected.contains(to.trim())),
            };
            if !agrees {
                found.push(format!("{status} × {input}: the machine did «{did}», the table says «{expected}»"));
            }
            checked += 1;
        }
    }
    (found, checked)
}

#[test]
fn every_cell_agrees_with_the_table() {
    let text = matrix::render(&Lifecycle::standard(Limits::default()));
    let (found, checked) = disagreements(&Table::standard(), &text);
    assert_eq!(found, Vec::<String>::new());
    assert_eq!(checked, Status::ALL.len() * Input::per_operation().count() * 2);
}

/// The agreement check has teeth: a machine compiled from a table whose
/// `complete_operation` goes to `Failed` disagrees with the shipped table.
#[test]
fn a_machine_that_disagrees_with_the_table_shows() {
    let mut broken = Table::standard();
    for row in broken.rows.iter_mut().filter(|r| r.input == Input::Complete) {
        row.target = oplife_spec::Target::Status(Status::Failed);
    }
    let text = matrix::render(&Lifecycle::new_unchecked(broken, Limits::default()));
    let (found, _) = disagreements(&Table::standard(), &text);
    assert!(found.iter().any(|f| f.starts_with("Running × complete_operation")), "{found:?}");
}

/// And for retries: a machine whose retry rows call a cancel of a
/// completed operation a repeat disagrees with the shipped table.
#[test]
fn a_machine_that_classifies_retries_otherwise_shows() {
    let mut broken = Table::standard();
    for retry in broken.retries.iter_mut().filter(|r| r.input == Input::Cancel) {
        retry.rule = RetryRule::Repeat;
    }
    let text = matrix::render(&Lifecycle::new_unchecked(broken, Limits::default()));
    let (found, _) = disagreements(&Table::standard(), &text);
    assert!(found.iter().any(|f| f.starts_with("Completed × cancel_operation")), "{found:?}");
}
