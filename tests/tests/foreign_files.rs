//! Only our own files: a durable registry opened on anything but a store of
//! this crate is refused with a typed error, and the file is left byte for
//! byte as it was (its journal mode too); an invalid configuration is
//! refused before any file is created.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use oplife_shell::{
    DurableOptions, OperationSpec, OpsLifecycleConfig, OpsLifecycleRegistry, RecoveryError,
    RuntimeOpsLifecycleRegistry, SessionId, StoreError,
};
use oplife_tests::scratch::Scratch;

/// A directory of its own, deleted when dropped.
fn scratch(name: &str) -> Scratch {
    Scratch::dir(&format!("foreign-{name}")).unwrap()
}

/// Every file in `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    found.sort();
    found
}

fn journal_mode(path: &Path) -> String {
    let connection = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    connection.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap()
}

/// Opens a durable registry on `path`: it must be refused as not ours, and
/// nothing in the folder may change.
fn refused_unchanged(path: &Path) -> String {
    let dir = path.parent().unwrap();
    let before = files(dir);
    let error = RuntimeOpsLifecycleRegistry::open(path, DurableOptions::default()).map(drop).unwrap_err();
    let RecoveryError::Store(StoreError::NotOurs(why)) = &error else { panic!("not refused as foreign: {error}") };
    assert_eq!(files(dir), before, "the refused open changed a file ({why})");
    why.clone()
}

#[test]
fn another_applications_database_is_refused_and_left_as_it_was() {
    let dir = scratch("app");
    let path = dir.join("app.db");
    let app = rusqlite::Connection::open(&path).unwrap();
    app.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, user INTEGER, total REAL);
         INSERT INTO users VALUES (1, 'ada');",
    )
    .unwrap();
    drop(app);
    let why = refused_unchanged(&path);
    assert!(why.contains("users"), "{why}");
    assert_eq!(journal_mode(&path), "delete");
}

#[test]
fn a_journal_table_of_another_shape_is_refused_and_left_as_it_was() {
    let dir = scratch("shape");
    let path = dir.join("shape.db");
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("CREATE TABLE journal (line TEXT, at INTEGER);").unwrap();
    drop(other);
    refused_unchanged(&path);
    assert_eq!(journal_mode(&path), "delete");
}

#[test]
fn a_file_of_another_format_a_directory_and_truncated_stores_are_refused() {
    let dir = scratch("formats");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a database, but long enough to have a header's worth of bytes in it. ".repeat(4))
        .unwrap();
    assert!(refused_unchanged(&text).contains("not a SQLite database"));

    let short = dir.join("short.db");
    std::fs::write(&short, b"SQLite format 3\0").unwrap();
    assert!(refused_unchanged(&short).contains("truncated"));

    let folder = dir.join("folder.db");
    std::fs::create_dir(&folder).unwrap();
    let error = RuntimeOpsLifecycleRegistry::open(&folder, DurableOptions::default()).map(drop).unwrap_err();
    assert!(matches!(error, RecoveryError::Store(StoreError::NotOurs(_))), "{error}");

    // A real store, cut: mid-page, and short of the pages its header counts.
    let store = dir.join("store.db");
    {
        let (registry, _) = RuntimeOpsLifecycleRegistry::open(&store, DurableOptions::default()).unwrap();
        for i in 0..200 {
            let name = format!("operation {i} {}", "x".repeat(200));
            registry.register_operation(OperationSpec::background_tool(SessionId::new(), name)).unwrap();
        }
    }
    let whole = std::fs::read(&store).unwrap();
    assert!(whole.len() >= 4 * 4096, "the store is {} bytes", whole.len());
    for (name, len) in [("mid-page.db", whole.len() - 100), ("short-of-pages.db", 2 * 4096)] {
        let cut = dir.join(name);
        std::fs::write(&cut, &whole[..len]).unwrap();
        assert!(refused_unchanged(&cut).contains("truncated"), "{name}");
    }
    // The whole store still opens.
    RuntimeOpsLifecycleRegistry::open(&store, DurableOptions::default()).unwrap();
}

#[test]
fn an_invalid_configuration_creates_no_file() {
    let dir = scratch("config");
    let path = dir.join("never.db");
    let options = DurableOptions {
        config: OpsLifecycleConfig { event_capacity: 0, ..OpsLifecycleConfig::default() },
        ..DurableOptions::default()
    };
    let error = RuntimeOpsLifecycleRegistry::open(&path, options).map(drop).unwrap_err();
    assert!(matches!(error, RecoveryError::Config(_)), "{error}");
    assert!(files(&dir).is_empty(), "files were created: {:?}", files(&dir));
}

#[test]
fn a_store_is_marked_as_ours() {
    let dir = scratch("mark");
    let path = dir.join("ops.db");
    drop(RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default()).unwrap());
    let connection = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let (id, version): (i32, i32) = connection
        .query_row("SELECT * FROM pragma_application_id, pragma_user_version", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((id, version), (0x6F70_6C66, 1));
    assert_eq!(journal_mode(&path), "wal");
}
