//! `Sync` durability in two steps: a call's record is written under the
//! registry's lock and synced outside it, one sync for every call written
//! while the sync before ran, and for those its leader gathered. Calls made
//! at once share syncs, two callers taking turns too; a failed sync fails
//! the calls it was to cover, and every later write, closed.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use oplife_shell::prelude::*;
use oplife_shell::{
    Claim, DurableOptions, JournalRecord, MemoryStore, Owner, Store, StoreError, Stored, StoredImage, Syncer,
};

/// A memory store whose syncs take a while and are counted, and whose
/// writes take `write_pause`.
struct SlowSyncs {
    store: MemoryStore,
    syncs: Arc<AtomicU64>,
    write_pause: Duration,
}

struct CountedSync {
    inner: Box<dyn Syncer>,
    syncs: Arc<AtomicU64>,
}

impl Syncer for CountedSync {
    fn sync(&self) -> Result<(), StoreError> {
        std::thread::sleep(Duration::from_millis(5));
        self.syncs.fetch_add(1, Ordering::SeqCst);
        self.inner.sync()
    }
}

impl Store for SlowSyncs {
    fn claim(&mut self, claim: Claim) -> Result<Owner, StoreError> {
        self.store.claim(claim)
    }
    fn load(&mut self) -> Result<Stored, StoreError> {
        self.store.load()
    }
    fn append(&mut self, records: &[JournalRecord]) -> Result<(), StoreError> {
        self.store.append(records)
    }
    fn append_unsynced(&mut self, records: &[JournalRecord]) -> Result<(), StoreError> {
        std::thread::sleep(self.write_pause);
        self.store.append_unsynced(records)
    }
    fn compact(&mut self, records: &[JournalRecord], image: &StoredImage) -> Result<(), StoreError> {
        self.store.compact(records, image)
    }
    fn truncate_after(&mut self, seq: u64) -> Result<(), StoreError> {
        self.store.truncate_after(seq)
    }
    fn syncer(&self) -> Option<Box<dyn Syncer>> {
        Some(Box::new(CountedSync { inner: self.store.syncer()?, syncs: Arc::clone(&self.syncs) }))
    }
}

#[test]
fn calls_made_at_once_share_syncs_and_each_returns_synced() {
    let syncs = Arc::new(AtomicU64::new(0));
    let store = MemoryStore::new();
    let slow = SlowSyncs { store: store.clone(), syncs: Arc::clone(&syncs), write_pause: Duration::ZERO };
    let options = DurableOptions { compact_after: 1 << 40, ..DurableOptions::default() };
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(slow, options).unwrap();
    let registry = Arc::new(registry);
    let (threads, each) = (8, 10);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let registry = Arc::clone(&registry);
            std::thread::spawn(move || {
                for _ in 0..each {
                    registry.register_operation(OperationSpec::background_tool(SessionId::new(), "op")).unwrap();
                    // Returned: the record is written and a sync covered it.
                    let mark = registry.durable_mark().unwrap();
                    assert!(mark.seq >= 1);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let calls = threads * each;
    assert_eq!(store.contents().journal.len() as u64, calls, "every call written once");
    assert_eq!(registry.durable_mark().unwrap().seq, calls, "every call synced");
    let syncs = syncs.load(Ordering::SeqCst);
    // While one sync runs (5 ms), the other threads write: it takes far
    // fewer syncs than calls.
    assert!(syncs < calls / 2, "{syncs} syncs for {calls} calls");
}

#[test]
fn two_callers_taking_turns_share_their_syncs() {
    // Writes take 2 ms, syncs 5 ms. When a sync ends, the caller it served
    // is writing its next call while the other starts the next sync: synced
    // at once, each sync would cover one call. The leader gathers the two
    // callers the sync before it saw instead.
    let syncs = Arc::new(AtomicU64::new(0));
    let store = MemoryStore::new();
    let slow = SlowSyncs { store: store.clone(), syncs: Arc::clone(&syncs), write_pause: Duration::from_millis(2) };
    let options = DurableOptions { compact_after: 1 << 40, ..DurableOptions::default() };
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(slow, options).unwrap();
    let registry = Arc::new(registry);
    let each = 20;
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let registry = Arc::clone(&registry);
            std::thread::spawn(move || {
                for _ in 0..each {
                    registry.register_operation(OperationSpec::background_tool(SessionId::new(), "op")).unwrap();
                }
            })
        })
        .collect();
    for caller in callers {
        caller.join().unwrap();
    }
    let calls = 2 * each;
    assert_eq!(registry.durable_mark().unwrap().seq, calls, "every call synced");
    let syncs = syncs.load(Ordering::SeqCst);
    // About one sync for two calls; one each would be 40.
    assert!(syncs * 4 <= calls * 3, "{syncs} syncs for {calls} calls");
}

#[test]
fn one_caller_alone_syncs_each_call_at_once() {
    let syncs = Arc::new(AtomicU64::new(0));
    let store = MemoryStore::new();
    let slow = SlowSyncs { store: store.clone(), syncs: Arc::clone(&syncs), write_pause: Duration::ZERO };
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(slow, DurableOptions::default()).unwrap();
    for n in 1..=10 {
        registry.register_operation(OperationSpec::background_tool(SessionId::new(), "op")).unwrap();
        assert_eq!(registry.durable_mark().unwrap().seq, n);
        assert_eq!(syncs.load(Ordering::SeqCst), n, "a sync of its own for every call");
    }
}

#[test]
fn a_failed_sync_fails_its_calls_and_refuses_every_later_write() {
    let store = MemoryStore::new();
    let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), DurableOptions::default()).unwrap();
    let spec = OperationSpec::background_tool(SessionId::new(), "before");
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    let mut watch = registry.register_watcher(&id).unwrap();
    store.fail_syncs(StoreError::Other("EIO".into()));
    let failed = registry.provisioning_succeeded(&id);
    assert_eq!(failed, Err(OpsLifecycleError::Store(StoreError::Other("EIO".into()))));
    // Whether the record survives a crash is unknown: nothing is written
    // after it, even once syncs work again, until the registry is reopened.
    store.sync_again();
    let later = registry.register_operation(OperationSpec::background_tool(SessionId::new(), "after"));
    assert_eq!(later, Err(OpsLifecycleError::Store(StoreError::Other("EIO".into()))));
    assert_eq!(store.contents().journal.len(), 2, "the later call wrote nothing");
    assert_eq!(watch.try_outcome(), None);
    // The durable mark stays where the last sync left it.
    assert_eq!(registry.durable_mark().unwrap().seq, 1);
    drop(registry);
    let (reopened, report) = RuntimeOpsLifecycleRegistry::open_store(store, DurableOptions::default()).unwrap();
    assert_eq!(report.replayed, 2, "what the store holds is what reopening recovers");
    assert_eq!(reopened.snapshot(&id).unwrap().map(|s| s.status), Some(OperationStatus::Terminated));
}
