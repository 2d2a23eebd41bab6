//! The rendered table, diagram and matrix are reviewed as snapshots; the
//! Markdown is also committed as `spec/TABLE.md`.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_spec::{Input, Status, Table, render};

#[test]
fn markdown_table() {
    insta::assert_snapshot!(render::markdown(&Table::standard()));
}

#[test]
fn mermaid_diagram() {
    insta::assert_snapshot!(render::mermaid(&Table::standard()));
}

#[test]
fn status_input_matrix() {
    insta::assert_snapshot!(render::matrix(&Table::standard()));
}

#[test]
fn matrix_names_the_exact_error() {
    let table = Table::standard();
    assert_eq!(render::cell(&table, Input::Complete, Status::Absent), "error NotFound");
    assert_eq!(render::cell(&table, Input::Register, Status::Failed), "error AlreadyRegistered");
    assert_eq!(render::cell(&table, Input::RequestRetire, Status::Retiring), "error InvalidTransition");
}

/// Like rust-analyzer's generated sources: the committed file must equal the
/// rendering. When it does not, the file is rewritten and the test fails, so
/// the change shows up as a diff to review and commit.
#[test]
fn table_md_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("TABLE.md");
    let rendered = render::markdown(&Table::standard());
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != rendered {
        std::fs::write(&path, &rendered).unwrap();
        panic!("spec/TABLE.md was stale and has been regenerated; review and commit it");
    }
}
