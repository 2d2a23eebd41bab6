//! The Mermaid diagram is reviewed as a snapshot; the Markdown table is
//! committed as `spec/TABLE.md` and kept fresh the rust-analyzer way.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_spec::{Input, Status, TERMINAL_CHAIN, Table, render};

#[test]
fn mermaid_diagram() {
    insta::assert_snapshot!(render::mermaid(&Table::standard()));
}

#[test]
fn cells_name_the_exact_error() {
    let table = Table::standard();
    assert_eq!(render::cell(&table, Input::Complete, Status::Absent), "error NotFound");
    assert_eq!(render::cell(&table, Input::Register, Status::Failed), "error AlreadyRegistered");
    assert_eq!(render::cell(&table, Input::RequestRetire, Status::Retiring), "error InvalidTransition");
}

#[test]
fn the_terminal_chain_is_printed_by_name_and_listed_once() {
    let table = Table::standard();
    assert_eq!(render::cell(&table, Input::Complete, Status::Running), "→ Completed; terminal chain");
    let markdown = render::markdown(&table);
    for effect in TERMINAL_CHAIN {
        assert_eq!(markdown.matches(&format!("- {effect}\n")).count(), 1, "{effect} is listed once");
    }
    // A row that alters the chain shows every effect instead of the name.
    let mut altered = TERMINAL_CHAIN.to_vec();
    altered.swap(0, 1);
    assert!(!render::effects(&altered).contains(render::TERMINAL_CHAIN_NAME));
}

/// Like rust-analyzer's `ensure_file_contents`: the committed file must equal
/// the rendering (line endings normalised). Locally a stale file is
/// rewritten and the test fails, so the change shows up as a diff to review
/// and commit; under `CI=true` nothing is written.
#[test]
fn table_md_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("TABLE.md");
    let rendered = render::markdown(&Table::standard());
    let committed = std::fs::read_to_string(&path).unwrap_or_default().replace("\r\n", "\n");
    if committed == rendered {
        return;
    }
    if std::env::var("CI").is_ok_and(|ci| ci == "true" || ci == "1") {
        panic!("spec/TABLE.md is stale: run `cargo test -p oplife-spec` locally and commit the result");
    }
    std::fs::write(&path, &rendered).unwrap();
    panic!("spec/TABLE.md was stale and has been regenerated; review and commit it");
}
