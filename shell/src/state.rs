//! What the registry keeps behind its lock, and the pipeline one call
//! goes through: journal entry, accept, journal write, commit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use oplife_machine::{Image, Machine, Request};
use oplife_spec::Effect;
use tokio::sync::oneshot;

use crate::call::{At, Call};
use crate::config::OpsLifecycleConfig;
use crate::deliveries::Deliveries;
use crate::error::{CursorRefusal, OpsLifecycleError, Refusal, StoreError};
use crate::execute::{Executor, Unstamped};
use crate::feed::FeedDetails;
use crate::journaling::{Journaling, Ticket};
use crate::observe::Fired;
use crate::record::{Clock, Record, Records, Seen};
use crate::snapshot::{RegistrySnapshot, SNAPSHOT_VERSION, SnapshotError};
use crate::types::{OperationId, ShellDomain, WaitAllResult, WaitRequestId};
use crate::watch::DroppedWatchers;

/// The state the registry keeps behind its lock: the machine and the
/// shell's records and channels.
#[derive(Debug)]
pub struct RegistryState {
    pub(crate) config: OpsLifecycleConfig,
    pub(crate) machine: Machine<ShellDomain>,
    pub(crate) records: Records,
    waits: HashMap<WaitRequestId, oneshot::Sender<WaitAllResult>, foldhash::fast::RandomState>,
    pub(crate) feed_details: FeedDetails,
    /// The endings of the transition in progress not stamped yet on their
    /// records (empty between calls; kept to reuse its buffer).
    unstamped: Unstamped,
    /// The number the next operation event gets.
    pub(crate) next_event: u64,
    /// The key the next pending watcher gets.
    next_watch_key: u64,
    /// Watchers whose watch was dropped, to release at the next call.
    dropped: Arc<DroppedWatchers>,
    /// The clock every call reads once.
    pub(crate) clock: Clock,
    /// Each consumer's position in the completion feed.
    pub(crate) cursors: BTreeMap<String, u64>,
    /// The journal (none for a registry that is not durable).
    pub(crate) journal: Journaling,
}

impl RegistryState {
    pub(crate) fn new(config: OpsLifecycleConfig) -> Self {
        RegistryState {
            config,
            machine: Machine::new(config.limits()),
            records: HashMap::default(),
            waits: HashMap::default(),
            feed_details: FeedDetails::default(),
            unstamped: Vec::new(),
            next_event: 0,
            next_watch_key: 0,
            dropped: Arc::default(),
            clock: Clock::starting_at_least(0),
            cursors: BTreeMap::new(),
            journal: Journaling::none(),
        }
    }

    /// One call: the journal entry is made, the machine accepts the
    /// request (its row chosen, its guards checked, once), the entry is
    /// written, and the accepted request is committed, each effect carried
    /// out as the machine makes it. What is delivered once the lock is
    /// released goes to `deliveries` (the caller's, so that nothing that
    /// size is moved on the way), with the sync to wait for first.
    ///
    /// A refusal, or a write the store refuses, returns before the commit:
    /// nothing changed.
    pub(crate) fn apply(
        &mut self,
        request: Request<ShellDomain>,
        call: &mut Call,
        at: At,
        deliveries: &mut Deliveries,
    ) -> Result<(), OpsLifecycleError> {
        let now = at.on(&self.clock);
        let prepared = match self.journal.prepare(&self.machine, &request, call, &now) {
            Ok(prepared) => prepared,
            Err(error) => {
                deliveries.noted.store_failed(&error);
                return Err(self.store_failed(error));
            }
        };
        deliveries.noted.before(self.machine.state(), &request);
        let id = request.operation().copied();
        let accepted = self.machine.accept(request)?;
        match self.journal.write(prepared) {
            Ok(synced) => deliveries.synced = synced,
            Err(error) => {
                drop(accepted);
                deliveries.noted.store_failed(&error);
                return Err(self.store_failed(error));
            }
        }
        let mut executor = Executor {
            records: &mut self.records,
            waits: &mut self.waits,
            feed_details: &mut self.feed_details,
            unstamped: &mut self.unstamped,
            next_watch_key: &mut self.next_watch_key,
            dropped: &self.dropped,
        };
        if deliveries.noted.counts_rows() {
            let (table, mut fired) = (accepted.table(), Fired::default());
            accepted.commit_traced(&mut |output| executor.execute(output, call, &now, deliveries), &mut |row| {
                if let Some(rule) = table.row(row) {
                    fired.push(rule.input);
                }
            });
            deliveries.noted.fired(fired);
        } else {
            accepted.commit(&mut |output| executor.execute(output, call, &now, deliveries));
        }
        executor.stamp(&now);
        deliveries.noted.after(self.machine.state(), id.as_ref());
        let feed = self.machine.state().feed();
        if deliveries.watermark.is_some() {
            self.feed_details.trim(feed);
        }
        if self.journal.applied(feed.watermark()) {
            self.compact_journal();
        }
        Ok(())
    }

    /// Moves a consumer's cursor to `seq` as the table's cursor rows say:
    /// a move is journaled first (as a call is), then made; asked where it
    /// is, the cursor stays and nothing is written. The sync to wait for,
    /// if any, is returned.
    pub(crate) fn move_cursor(
        &mut self,
        consumer: &str,
        seq: u64,
        now_ms: u64,
    ) -> Result<Option<Ticket>, OpsLifecycleError> {
        let from = self.cursors.get(consumer).copied().unwrap_or(0);
        let durable = self.journal.durable_feed_watermark().unwrap_or_else(|| self.machine.state().feed().watermark());
        let refuse = |why| OpsLifecycleError::Cursor { consumer: consumer.to_owned(), why };
        let accepted =
            self.machine.accept(Request::AdvanceCursor { from, to: seq, durable }).map_err(
                |refusal| match refusal {
                    Refusal::CursorBehind { current, asked } => refuse(CursorRefusal::Backwards { current, asked }),
                    Refusal::CursorPastWatermark { asked, durable } => {
                        refuse(CursorRefusal::PastWatermark { asked, durable })
                    }
                    other => OpsLifecycleError::Refused(other),
                },
            )?;
        if !accepted.effects().contains(&Effect::MoveCursor) {
            accepted.commit(&mut |_| {});
            return Ok(None);
        }
        let ticket = match self.journal.write_cursor(consumer, seq, now_ms) {
            Ok(ticket) => ticket,
            Err(error) => {
                drop(accepted);
                return Err(self.store_failed(error));
            }
        };
        accepted.commit(&mut |_| {});
        self.cursors.insert(consumer.to_owned(), seq);
        if self.journal.applied(self.machine.state().feed().watermark()) {
            self.compact_journal();
        }
        Ok(ticket)
    }

    /// Compacts the journal into an image of the registry now.
    fn compact_journal(&mut self) {
        if let Ok(snapshot) = self.capture() {
            self.journal.compact(snapshot, &self.cursors);
        }
    }

    /// The error for a write the store refused. A fenced write means a
    /// newer owner holds the store: the registry is sealed through the
    /// table's `seal` row, and every call that could change it is refused
    /// from now on.
    pub(crate) fn store_failed(&mut self, error: StoreError) -> OpsLifecycleError {
        if !matches!(error, StoreError::Fenced { .. }) {
            return OpsLifecycleError::Store(error);
        }
        self.seal();
        OpsLifecycleError::Refused(Refusal::Sealed)
    }

    /// Seals the registry through the table's `seal` row (accepted in every
    /// phase, journaled never): a newer owner holds its store.
    pub(crate) fn seal(&mut self) {
        let _ = self.apply(Request::Seal, &mut Call::Plain, At::quietly(), &mut Deliveries::default());
    }

    /// The queue of watches dropped since the last call.
    pub(crate) fn dropped_watchers(&self) -> Arc<DroppedWatchers> {
        Arc::clone(&self.dropped)
    }

    /// Releases the watchers whose watch was dropped since the last call:
    /// each sender still held is freed and its watcher released in the
    /// machine (a watcher already notified, or of an operation already
    /// forgotten, has nothing left to release).
    pub(crate) fn release_dropped_watchers(&mut self) {
        let dropped = self.dropped.take();
        if dropped.is_empty() {
            return;
        }
        for (id, key) in dropped {
            let Some(record) = self.records.get_mut(&id) else { continue };
            // Its receiver is gone: dropping the sender wakes nobody.
            if record.watchers.remove(key).is_none() {
                continue;
            }
            // The machine refuses only if nothing is pending, which the
            // sender just found here rules out.
            let _ =
                self.apply(Request::ReleaseWatcher { id }, &mut Call::Plain, At::quietly(), &mut Deliveries::default());
        }
    }

    /// The registry's durable state: every operation, the retained
    /// terminal records, the completion feed and the configuration.
    pub(crate) fn capture(&self) -> Result<RegistrySnapshot, OpsLifecycleError> {
        let image = self.machine.state().image();
        let mut records = Vec::with_capacity(image.operations.len());
        for op in &image.operations {
            let record = self
                .records
                .get(&op.id)
                .ok_or_else(|| OpsLifecycleError::Internal(format!("operation {} has no record", op.id)))?;
            records.push(record.capture(op.id));
        }
        Ok(RegistrySnapshot {
            version: SNAPSHOT_VERSION,
            config: self.config,
            image,
            records,
            feed_details: self.feed_details.all(&self.records),
        })
    }

    /// A registry rebuilt from `snapshot` by the machine's `restore` or
    /// `resume` row (`load` makes the request from the image).
    pub(crate) fn rebuild(
        snapshot: RegistrySnapshot,
        load: impl FnOnce(Box<Image<ShellDomain>>) -> Request<ShellDomain>,
    ) -> Result<RegistryState, SnapshotError> {
        snapshot.check_shell_parts()?;
        let mut state = RegistryState::new(snapshot.config);
        let mut latest = 0;
        for record in snapshot.records {
            let id = record.id;
            latest = latest.max(record.created_at_ms).max(record.completed_at_ms.unwrap_or(0));
            state.records.insert(id, Record::restore(record));
        }
        state.clock = Clock::starting_at_least(latest);
        let minted = snapshot.image.feed.iter().map(|entry| (entry.seq, entry.id));
        state.feed_details = FeedDetails::from_details(snapshot.feed_details, minted);
        state
            .apply(load(Box::new(snapshot.image)), &mut Call::Plain, At::quietly(), &mut Deliveries::default())
            .map_err(|error| match error {
                OpsLifecycleError::Refused(Refusal::RetentionMismatch { id, kind }) => {
                    SnapshotError::RetentionMismatch { id, kind }
                }
                OpsLifecycleError::Internal(why) => SnapshotError::Inconsistent(why),
                other => SnapshotError::Inconsistent(other.to_string()),
            })?;
        state.feed_details.trim(state.machine.state().feed());
        Ok(state)
    }

    /// Operation `id` as a read sees it, if the registry holds it.
    pub(crate) fn seen(&self, id: &OperationId) -> Option<Seen<'_>> {
        let op = self.machine.state().operation(id)?;
        let record = self.records.get(id)?;
        Some(Seen { id: *id, op, record, table: self.machine.lifecycle().table() })
    }
}
