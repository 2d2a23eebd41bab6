//! Fail closed: when a durable registry cannot write a transition, the call
//! returns a typed error and nothing changes: the state, the watchers, the
//! waits, the events and the feed are exactly as before the call. Injected
//! into the in-memory store for every kind of call, and into real SQLite
//! files: a full disk (a page limit), a database locked by another
//! connection, and a read-only database.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use oplife_shell::prelude::*;
use oplife_shell::{DurableOptions, MemoryStore, SqliteStore, Store, StoreError};
use oplife_tests::scratch::Scratch;

type Call = fn(&RuntimeOpsLifecycleRegistry, &[OperationId]) -> Result<(), OpsLifecycleError>;

/// Every journaled call, on a registry where it would be accepted.
const CALLS: [(&str, Call); 9] = [
    ("register_operation", |r, _| r.register_operation(OperationSpec::background_tool(SessionId::new(), "new"))),
    ("provisioning_succeeded", |r, ids| r.provisioning_succeeded(&ids[0])),
    ("abort_provisioning", |r, ids| r.abort_provisioning(&ids[0], None)),
    ("report_progress", |r, ids| r.report_progress(&ids[1], Default::default())),
    ("complete_operation", |r, ids| r.complete_operation(&ids[1], OperationResult::new(ids[1], "done"))),
    ("cancel_operation", |r, ids| r.cancel_operation(&ids[1], None)),
    ("request_retire", |r, ids| r.request_retire(&ids[1])),
    ("terminate_owner", |r, _| r.terminate_owner("gone".into())),
    ("advance_cursor", |r, _| r.advance_cursor("consumer", 1).map(drop)),
];

/// A durable registry with one provisioning op, one running op (watched,
/// waited for) and one ended op.
fn busy(store: impl Store) -> (RuntimeOpsLifecycleRegistry, Vec<OperationId>) {
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store, DurableOptions::default()).unwrap();
    let ids: Vec<OperationId> = (0..3)
        .map(|i| {
            let spec = OperationSpec::background_tool(SessionId::new(), format!("op {i}"));
            let id = spec.id;
            registry.register_operation(spec).unwrap();
            id
        })
        .collect();
    registry.provisioning_succeeded(&ids[1]).unwrap();
    registry.cancel_operation(&ids[2], None).unwrap();
    (registry, ids)
}

#[tokio::test]
async fn a_failed_write_changes_nothing_for_every_call() {
    for (name, call) in CALLS {
        let store = MemoryStore::new();
        let (registry, ids) = busy(store.clone());
        let mut watch = registry.register_watcher(&ids[1]).unwrap();
        let mut wait = Box::pin(registry.wait_all(&RunId::new(), &ids[1..2]));
        let mut events = registry.subscribe_events().unwrap();
        let before = (registry.capture().unwrap(), registry.held().unwrap(), registry.cursor("consumer").unwrap());
        let writes = store.writes();
        store.fail_writes(StoreError::Full);
        assert_eq!(call(&registry, &ids), Err(OpsLifecycleError::Store(StoreError::Full)), "{name}");
        let after = (registry.capture().unwrap(), registry.held().unwrap(), registry.cursor("consumer").unwrap());
        assert_eq!(after, before, "{name} changed the registry");
        assert_eq!(watch.try_outcome(), None, "{name} notified a watcher");
        assert!(futures_poll(&mut wait).is_none(), "{name} satisfied a wait");
        assert_eq!(events.try_recv(), None, "{name} published an event");
        assert_eq!(store.writes(), writes);
        // The same call succeeds once the store writes again.
        store.write_again();
        call(&registry, &ids).unwrap_or_else(|e| panic!("{name} after the store recovered: {e}"));
    }
}

/// Polls a future once.
fn futures_poll<F: std::future::Future + Unpin>(future: &mut F) -> Option<F::Output> {
    let waker = std::task::Waker::noop();
    match std::pin::Pin::new(future).poll(&mut std::task::Context::from_waker(waker)) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

/// A store file in a directory of its own, deleted when dropped.
fn scratch(name: &str) -> Scratch {
    Scratch::file(&format!("fail-{name}"), "ops.db").unwrap()
}

/// Registers ops until the store refuses one; returns the refusal, after
/// checking it changed nothing.
fn register_until_refused(registry: &RuntimeOpsLifecycleRegistry) -> OpsLifecycleError {
    for i in 0..100_000 {
        let before = registry.capture().unwrap();
        let spec = OperationSpec::background_tool(SessionId::new(), format!("{i:0>2000}"));
        if let Err(error) = registry.register_operation(spec) {
            assert_eq!(registry.capture().unwrap(), before, "a refused registration changed the registry");
            return error;
        }
    }
    panic!("the store never refused a write");
}

#[test]
fn a_full_disk_refuses_the_call_and_the_registry_goes_on_once_there_is_room() {
    let path = scratch("full");
    let store = SqliteStore::open(&path).unwrap();
    let options = DurableOptions { compact_after: 1 << 40, ..DurableOptions::default() };
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), options.clone()).unwrap();
    let pages = store.set_max_pages(1).unwrap(); // the cap cannot go below the file
    store.set_max_pages(pages + 8).unwrap();
    assert_eq!(register_until_refused(&registry), OpsLifecycleError::Store(StoreError::Full));
    let count = registry.capture().unwrap().records.len();
    store.set_max_pages(1 << 30).unwrap();
    registry.register_operation(OperationSpec::background_tool(SessionId::new(), "after")).unwrap();
    // The operator's handle shares the registry's claim: both go before the
    // store can be opened again.
    drop((registry, store));
    let (reopened, _) = RuntimeOpsLifecycleRegistry::open(&path, options).unwrap();
    assert_eq!(reopened.capture().unwrap().records.len(), count + 1, "every acknowledged call, and only those");
}

#[test]
fn a_database_locked_by_another_connection_refuses_the_call() {
    let path = scratch("locked");
    let store = SqliteStore::open(&path).unwrap();
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions::default()).unwrap();
    store.set_busy_timeout(Duration::from_millis(20)).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    assert_eq!(register_until_refused(&registry), OpsLifecycleError::Store(StoreError::Busy));
    other.execute_batch("COMMIT").unwrap();
    registry.register_operation(OperationSpec::background_tool(SessionId::new(), "after")).unwrap();
}

#[test]
fn a_read_only_database_refuses_the_call_and_a_read_only_file_cannot_be_opened() {
    let path = scratch("read-only");
    let store = SqliteStore::open(&path).unwrap();
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions::default()).unwrap();
    registry.register_operation(OperationSpec::background_tool(SessionId::new(), "before")).unwrap();
    store.set_read_only().unwrap();
    assert_eq!(register_until_refused(&registry), OpsLifecycleError::Store(StoreError::ReadOnly));
    store.set_writable().unwrap();
    drop((registry, store));
    // Opened read-only, the file can be read but recovery cannot write its
    // image: the open fails and the file is as it was.
    let before = SqliteStore::open(&path).unwrap().load().unwrap();
    let read_only = SqliteStore::open_read_only(&path).unwrap();
    let error = RuntimeOpsLifecycleRegistry::open_store(read_only, DurableOptions::default()).unwrap_err();
    assert_eq!(error, oplife_shell::RecoveryError::Store(StoreError::ReadOnly));
    assert_eq!(SqliteStore::open(&path).unwrap().load().unwrap(), before);
}
