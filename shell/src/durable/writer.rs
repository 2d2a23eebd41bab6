//! The write side of a durable registry: the journal position, the write
//! of each transition and the group sync that makes it durable (`Sync`) or
//! the queue a background writer commits (`Batched`), compaction, and the
//! durable watermark.
//!
//! `Sync` in two steps: under the registry's lock a call's record is
//! written (not yet synced: a write the store refuses refuses the call with
//! nothing changed), then, with the lock released, the caller waits for a
//! sync that covers it. The first caller to wait leads: it syncs every
//! record written so far; those who come while it syncs wait for it, and
//! the next of them leads the next sync. Before it syncs, a leader gathers
//! its group: it waits until as many callers wait as the sync before it
//! served or saw arrive, for at most as long as that sync took. Two callers
//! taking turns thus share every sync instead of each syncing the other's
//! leftovers; one caller alone never waits for anyone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::codec::encode;
use crate::durable::journal::DurableImage;
use crate::durable::options::{Durability, DurableOptions};
use crate::durable::store::{JournalRecord, Store, StoredImage, Syncer};
use crate::error::{OpsLifecycleError, Refusal, StoreError};

/// How far the store holds the registry's transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurableMark {
    /// The last journal record committed (journal positions count every
    /// acknowledged transition since the store was created).
    pub seq: u64,
    /// The completion feed's watermark as of that record: every entry up
    /// to it survives a crash.
    pub feed_watermark: u64,
}

/// What the background writer reports after each group commit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reported {
    pub(crate) mark: DurableMark,
    /// Failed group commits so far, and the last error.
    pub(crate) failures: u64,
    pub(crate) error: Option<StoreError>,
}

/// Transitions acknowledged but not yet committed (`Batched`).
#[derive(Default)]
struct Queue {
    records: Vec<JournalRecord>,
    /// The journal position and feed watermark once every queued record is
    /// applied.
    mark: DurableMark,
    /// A compaction to write with the records.
    image: Option<(u64, DurableImage)>,
    /// The last group commit failed: calls are refused until one succeeds.
    failed: Option<StoreError>,
    /// A flush was asked for.
    asked: bool,
}

/// What the registry and its background writer share.
pub(crate) struct Shared {
    store: Mutex<Box<dyn Store>>,
    queue: Mutex<Queue>,
    wake: Condvar,
    stop: AtomicBool,
    reported: watch::Sender<Reported>,
    /// `Sync` on a store whose writes a separate sync makes durable.
    group: Option<GroupSync>,
}

/// The group sync of `Sync` calls.
struct GroupSync {
    syncer: Box<dyn Syncer>,
    syncing: Mutex<Syncing>,
    /// Wakes the callers waiting for a sync when one ended.
    done: Condvar,
    /// Wakes a leader gathering its group when a caller comes to wait.
    arrived: Condvar,
}

/// How far the group sync is.
#[derive(Default)]
struct Syncing {
    /// The last record written and committed, with the feed watermark it
    /// left.
    written: DurableMark,
    /// The last record a sync covered.
    synced: u64,
    /// A caller is syncing.
    leading: bool,
    /// A sync failed: whether the records it was to cover survive a crash
    /// is unknown, so every later write is refused.
    failed: Option<StoreError>,
    /// Callers waiting for a sync, the leader included.
    waiting: usize,
    /// The callers the last sync served or saw arrive: how many the next
    /// leader gathers before it syncs.
    expected: usize,
    /// How long the last sync took: the longest a leader gathers.
    last_sync: Duration,
}

impl GroupSync {
    fn syncing(&self) -> MutexGuard<'_, Syncing> {
        // Each change under this lock is one assignment: a panic cannot
        // leave it half-changed.
        self.syncing.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A written record to wait for until a sync covers it.
pub(crate) struct Ticket {
    shared: Arc<Shared>,
    seq: u64,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket").field("seq", &self.seq).finish()
    }
}

impl Ticket {
    /// Returns once a sync covered the record, syncing itself if no caller
    /// is. On a multi-threaded tokio runtime the wait lets the runtime run
    /// other tasks on another thread meanwhile (`block_in_place`), so the
    /// calls of many tasks share one sync.
    ///
    /// # Errors
    ///
    /// The store's error when the sync failed.
    pub(crate) fn wait(self) -> Result<(), StoreError> {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.block())
            }
            _ => self.block(),
        }
    }

    fn block(&self) -> Result<(), StoreError> {
        let Some(group) = &self.shared.group else { return Ok(()) };
        let mut syncing = group.syncing();
        syncing.waiting += 1;
        group.arrived.notify_one();
        let outcome = loop {
            if let Some(error) = &syncing.failed {
                break Err(error.clone());
            }
            if syncing.synced >= self.seq {
                break Ok(());
            }
            if syncing.leading {
                syncing = group.done.wait(syncing).unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            syncing = self.lead(group, syncing);
        };
        syncing.waiting -= 1;
        outcome
    }

    /// Leads one sync: gathers the group the last sync had (for at most as
    /// long as it took), syncs every record written, records the outcome
    /// and wakes the waiting callers.
    fn lead<'a>(&self, group: &'a GroupSync, mut syncing: MutexGuard<'a, Syncing>) -> MutexGuard<'a, Syncing> {
        syncing.leading = true;
        let deadline = Instant::now() + syncing.last_sync;
        while syncing.waiting < syncing.expected {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            syncing = match group.arrived.wait_timeout(syncing, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        let target = syncing.written;
        let covered = target.seq.saturating_sub(syncing.synced);
        drop(syncing);
        let started = Instant::now();
        let synced = group.syncer.sync();
        let took = started.elapsed();
        crate::observe::journal_committed(covered, took, synced.as_ref().err());
        let mut syncing = group.syncing();
        syncing.leading = false;
        syncing.last_sync = took;
        // Those it served have not left yet: `waiting` counts them and
        // those that came while it ran.
        syncing.expected = syncing.waiting;
        match synced {
            Ok(()) => {
                syncing.synced = syncing.synced.max(target.seq);
                self.shared.reported.send_if_modified(|r| {
                    let moved = target.seq > r.mark.seq;
                    if moved {
                        r.mark = target;
                    }
                    moved
                });
            }
            Err(error) => {
                syncing.failed = Some(error.clone());
                self.shared.reported.send_modify(|r| {
                    r.failures += 1;
                    r.error = Some(error);
                });
            }
        }
        group.done.notify_all();
        syncing
    }
}

impl Shared {
    fn store(&self) -> Result<MutexGuard<'_, Box<dyn Store>>, StoreError> {
        self.store.lock().map_err(|_| StoreError::Other("the store lock is poisoned".into()))
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        // A panic while the queue is held cannot leave it half-changed: each
        // change is one assignment or push.
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One group commit of whatever is queued.
    fn commit_queued(&self) {
        let (records, image, mark) = {
            let mut queue = self.queue();
            queue.asked = false;
            (std::mem::take(&mut queue.records), queue.image.take(), queue.mark)
        };
        if records.is_empty() && image.is_none() {
            self.reported.send_if_modified(|r| {
                let moved = r.mark != mark;
                r.mark = mark;
                moved
            });
            return;
        }
        let started = Instant::now();
        let written = self.store().and_then(|mut store| match &image {
            Some((upto, durable)) => {
                let bytes = encode(durable).map_err(|e| StoreError::Other(e.to_string()))?;
                store.compact(&records, &StoredImage { upto: *upto, bytes })
            }
            None => store.append(&records),
        });
        crate::observe::journal_committed(records.len() as u64, started.elapsed(), written.as_ref().err());
        match written {
            Ok(()) => {
                self.queue().failed = None;
                self.reported.send_modify(|r| r.mark = mark);
            }
            Err(error) => {
                let mut queue = self.queue();
                if matches!(error, StoreError::Fenced { .. }) {
                    // A newer owner holds the store: nothing queued can
                    // ever be written (and none of it was reported durable).
                    queue.records.clear();
                    queue.image = None;
                } else {
                    let mut retry = records;
                    retry.append(&mut queue.records);
                    queue.records = retry;
                    if queue.image.is_none() {
                        queue.image = image;
                    }
                }
                queue.failed = Some(error.clone());
                drop(queue);
                self.reported.send_modify(|r| {
                    r.failures += 1;
                    r.error = Some(error);
                });
            }
        }
    }
}

/// The journal of one durable registry, kept behind the registry's lock.
pub(crate) struct Journal {
    durability: Durability,
    shared: Arc<Shared>,
    /// The position the next record gets.
    next_seq: u64,
    /// Records written since the last image.
    since_image: u64,
    compact_after: u64,
    max_batch: usize,
    writer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("durability", &self.durability).field("next_seq", &self.next_seq).finish()
    }
}

impl Journal {
    /// The journal of `store`, whose last record is `last_seq` and whose
    /// feed watermark is `feed_watermark`; `Batched` starts its writer.
    pub(crate) fn start(
        store: Box<dyn Store>,
        options: &DurableOptions,
        last_seq: u64,
        feed_watermark: u64,
    ) -> Result<Journal, StoreError> {
        let mark = DurableMark { seq: last_seq, feed_watermark };
        let (reported, _) = watch::channel(Reported { mark, ..Reported::default() });
        let group = match options.durability {
            Durability::Sync => store.syncer().map(|syncer| GroupSync {
                syncer,
                syncing: Mutex::new(Syncing { written: mark, synced: last_seq, ..Syncing::default() }),
                done: Condvar::new(),
                arrived: Condvar::new(),
            }),
            Durability::Batched => None,
        };
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            queue: Mutex::new(Queue { mark, ..Queue::default() }),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            reported,
            group,
        });
        let writer = match options.durability {
            Durability::Sync => None,
            Durability::Batched => {
                let shared = Arc::clone(&shared);
                let interval = options.flush_interval.max(Duration::from_micros(100));
                let max_batch = options.max_batch.max(1);
                let spawned = std::thread::Builder::new()
                    .name("oplife-journal".into())
                    .spawn(move || write_in_background(&shared, interval, max_batch))
                    .map_err(|e| StoreError::Other(format!("cannot start the journal writer: {e}")))?;
                Some(spawned)
            }
        };
        Ok(Journal {
            durability: options.durability,
            shared,
            next_seq: last_seq + 1,
            since_image: 0,
            compact_after: options.compact_after.max(1),
            max_batch: options.max_batch.max(1),
            writer,
        })
    }

    /// The error that keeps writes refused: `Batched`, of the failed group
    /// commit (until a flush succeeds); `Sync`, of the failed group sync.
    pub(crate) fn refusing(&self) -> Option<StoreError> {
        match (self.durability, &self.shared.group) {
            (Durability::Sync, None) => None,
            (Durability::Sync, Some(group)) => group.syncing().failed.clone(),
            (Durability::Batched, _) => self.shared.queue().failed.clone(),
        }
    }

    /// Writes `bytes` as the next record, of a call the machine accepted
    /// and will commit: `Sync` writes it now and returns the sync to wait
    /// for (none when the store's writes are durable as they return),
    /// `Batched` queues it.
    ///
    /// # Errors
    ///
    /// `Sync`: the store's error; nothing was written.
    pub(crate) fn write(&mut self, bytes: Vec<u8>) -> Result<Option<Ticket>, StoreError> {
        let record = JournalRecord { seq: self.next_seq, bytes };
        if self.durability == Durability::Batched {
            self.enqueue(record);
            return Ok(None);
        }
        self.shared.store()?.append_unsynced(std::slice::from_ref(&record))?;
        self.next_seq += 1;
        self.since_image += 1;
        Ok(self.shared.group.as_ref().map(|_| Ticket { shared: Arc::clone(&self.shared), seq: record.seq }))
    }

    /// `Batched`: queues `record` for the background writer.
    fn enqueue(&mut self, record: JournalRecord) {
        self.next_seq += 1;
        self.since_image += 1;
        let mut queue = self.shared.queue();
        queue.records.push(record);
        queue.mark.seq = self.next_seq - 1;
        if queue.records.len() >= self.max_batch {
            self.shared.wake.notify_one();
        }
    }

    /// Records the feed watermark after the record last written was
    /// committed; true when enough records were written since the last
    /// image to compact.
    pub(crate) fn applied(&mut self, feed_watermark: u64) -> bool {
        let mark = DurableMark { seq: self.next_seq - 1, feed_watermark };
        match (self.durability, &self.shared.group) {
            (Durability::Sync, Some(group)) => group.syncing().written = mark,
            (Durability::Sync, None) => {
                self.shared.reported.send_if_modified(|r| {
                    let moved = r.mark != mark;
                    r.mark = mark;
                    moved
                });
            }
            (Durability::Batched, _) => self.shared.queue().mark.feed_watermark = feed_watermark,
        }
        self.wants_image()
    }

    /// Whether enough records were written since the last image to
    /// compact.
    fn wants_image(&self) -> bool {
        self.since_image >= self.compact_after
    }

    /// Writes `image` as including every record written so far (`Sync`:
    /// now; `Batched`: with the next group commit). A failed compaction is
    /// retried after another `compact_after` records; the journal before
    /// it stays, so nothing is lost.
    pub(crate) fn compact(&mut self, image: DurableImage) {
        self.since_image = 0;
        let upto = self.next_seq - 1;
        match self.durability {
            Durability::Sync => {
                if let (Ok(bytes), Ok(mut store)) = (encode(&image), self.shared.store()) {
                    let _ = store.compact(&[], &StoredImage { upto, bytes });
                }
            }
            Durability::Batched => self.shared.queue().image = Some((upto, image)),
        }
    }

    /// The durable mark now.
    pub(crate) fn mark(&self) -> DurableMark {
        self.shared.reported.borrow().mark
    }

    /// Asks for everything acknowledged so far to be made durable (a group
    /// commit, `Batched`); returns what to wait for: the journal position
    /// to reach and the failure count to stay below.
    pub(crate) fn ask_flush(&self) -> (watch::Receiver<Reported>, u64, u64) {
        let receiver = self.shared.reported.subscribe();
        let failures = receiver.borrow().failures;
        let target = match (self.durability, &self.shared.group) {
            // Every call returned once synced; one still waiting for its
            // sync is covered by the sync it waits for.
            (Durability::Sync, Some(group)) => group.syncing().written.seq,
            (Durability::Sync, None) => self.next_seq - 1,
            (Durability::Batched, _) => {
                let mut queue = self.shared.queue();
                queue.asked = true;
                queue.mark.seq
            }
        };
        self.shared.wake.notify_one();
        (receiver, target, failures)
    }
}

/// Waits until the journal reaches `target`, or a group commit fails.
pub(crate) async fn wait_durable(
    mut receiver: watch::Receiver<Reported>,
    target: u64,
    failures: u64,
) -> Result<DurableMark, OpsLifecycleError> {
    loop {
        {
            let reported = receiver.borrow_and_update();
            if reported.mark.seq >= target {
                return Ok(reported.mark);
            }
            if reported.failures > failures {
                return Err(match reported.error.clone() {
                    Some(StoreError::Fenced { .. }) => OpsLifecycleError::Refused(Refusal::Sealed),
                    Some(error) => OpsLifecycleError::Store(error),
                    None => OpsLifecycleError::Store(StoreError::Other("group commit failed".into())),
                });
            }
        }
        if receiver.changed().await.is_err() {
            return Err(OpsLifecycleError::Closed);
        }
    }
}

fn write_in_background(shared: &Shared, interval: Duration, max_batch: usize) {
    loop {
        {
            let queue = shared.queue();
            let waiting =
                |q: &mut Queue| !q.asked && q.records.len() < max_batch && !shared.stop.load(Ordering::Acquire);
            let _ = shared.wake.wait_timeout_while(queue, interval, waiting);
        }
        shared.commit_queued();
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
    }
}

impl Drop for Journal {
    /// `Batched`: commits what is queued, then stops the writer.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}
