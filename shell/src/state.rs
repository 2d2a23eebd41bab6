//! What the registry keeps behind its lock, and how it carries out the
//! effects the machine returns for one call.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use oplife_machine::{Image, Machine, Request};
use tokio::sync::oneshot;

use crate::config::OpsLifecycleConfig;
use crate::error::OpsLifecycleError;
use crate::events::OperationEvent;
use crate::execute::{Executor, Transition, Unstamped};
use crate::feed::FeedDetails;
use crate::record::{Clock, Record, WatcherSender, snapshot_of};
use crate::snapshot::{RegistrySnapshot, SNAPSHOT_VERSION, SnapshotError};
use crate::types::{
    OperationId, OperationLifecycleSnapshot, OperationPeerHandle, SharedTerminalOutcome, ShellDomain, WaitAllResult,
    WaitRequestId,
};
use crate::watch::{DroppedWatchers, OperationCompletionWatch};

/// The shell's records, by operation id.
pub(crate) type Records = HashMap<OperationId, Record, foldhash::fast::RandomState>;

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
    /// The journal, when the registry is durable.
    #[cfg(feature = "durable")]
    pub(crate) journal: Option<crate::durable::writer::Journal>,
}

/// Sends to carry out, and senders to drop, once the lock is released: a
/// send or a dropped sender wakes the receiver's task, and no waker runs
/// while the lock is held.
#[derive(Default)]
pub(crate) struct Deliveries {
    /// The pending watchers of the first operation the transition ended,
    /// with its outcome (most transitions end one: no list is allocated).
    pub(crate) watchers: Option<(Vec<WatcherSender>, SharedTerminalOutcome)>,
    /// Those of the other operations it ended (owner termination).
    pub(crate) more_watchers: Vec<(Vec<WatcherSender>, SharedTerminalOutcome)>,
    pub(crate) waits: Vec<(oneshot::Sender<WaitAllResult>, WaitAllResult)>,
    /// Senders of cancelled waits, dropped unsent.
    pub(crate) cancelled: Vec<oneshot::Sender<WaitAllResult>>,
    /// Events of the transition, when anyone subscribes.
    pub(crate) events: Vec<OperationEvent>,
    /// The feed watermark, when the transition minted sequence numbers.
    pub(crate) watermark: Option<u64>,
}

impl Deliveries {
    /// Carries out the sends, leaving `self` empty (taken by reference: a
    /// struct this size would be copied on a move).
    pub(crate) fn send(&mut self) {
        let more = std::mem::take(&mut self.more_watchers);
        for (mut senders, outcome) in self.watchers.take().into_iter().chain(more) {
            if let Some((_, last)) = senders.pop() {
                for (_, sender) in senders {
                    let _ = sender.send(outcome.clone());
                }
                let _ = last.send(outcome);
            }
        }
        for (sender, result) in self.waits.drain(..) {
            let _ = sender.send(result);
        }
        self.cancelled.clear();
    }
}

/// What one call brings to the effects it causes, and takes back from them:
/// one variant per kind of call, so each carries only its own data.
pub(crate) enum Call {
    /// A call that brings and takes nothing.
    Plain,
    /// `register_operation`: the record to keep once the machine registers
    /// the operation.
    Register(Option<Record>),
    /// `peer_ready`: the handle to expose once the machine exposes the peer.
    PeerReady(Option<OperationPeerHandle>),
    /// `register_watcher`: the watch handed back.
    Watch(Option<OperationCompletionWatch>),
    /// `wait_all`: the wait request id, and how the wait began.
    BeginWait(WaitRequestId, Option<WaitBegun>),
    /// `collect_completed`: the records handed over.
    Collect(Vec<(OperationId, SharedTerminalOutcome)>),
}

/// How a wait began: satisfied at once, or pending on a channel.
pub(crate) enum WaitBegun {
    /// Every operation had already ended.
    Satisfied(WaitAllResult),
    /// The result arrives on this channel.
    Pending(oneshot::Receiver<WaitAllResult>),
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
            #[cfg(feature = "durable")]
            journal: None,
        }
    }

    /// Applies `request` and carries out the effects the machine returned,
    /// adding what is to be delivered once the lock is released to
    /// `deliveries` (the caller's, so that nothing that size is moved on the
    /// way); events are built only when `listening`.
    pub(crate) fn apply(
        &mut self,
        request: Request<ShellDomain>,
        call: &mut Call,
        listening: bool,
        now_ms: u64,
        deliveries: &mut Deliveries,
    ) -> Result<(), OpsLifecycleError> {
        #[cfg(feature = "durable")]
        let journaled = self.journal_before(&request, call, now_ms)?;
        let mut transition = Transition::new(listening);
        let mut executor = Executor {
            records: &mut self.records,
            waits: &mut self.waits,
            feed_details: &mut self.feed_details,
            unstamped: &mut self.unstamped,
            next_watch_key: &mut self.next_watch_key,
            dropped: &self.dropped,
        };
        let applied = self.machine.apply_with(request, &mut |output| {
            executor.execute(output, call, &mut transition, now_ms, deliveries);
        });
        executor.stamp(now_ms);
        if applied.is_ok() && deliveries.watermark.is_some() {
            self.feed_details.trim(self.machine.state().feed());
        }
        #[cfg(feature = "durable")]
        if applied.is_ok()
            && let Some(journaled) = journaled
        {
            self.journal_after(Some(journaled));
        }
        applied.map_err(OpsLifecycleError::from)
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
        let now_ms = self.clock.now_ms();
        for (id, key) in dropped {
            let Some(record) = self.records.get_mut(&id) else { continue };
            let Some(at) = record.watchers.iter().position(|(k, _)| *k == key) else { continue };
            // Its receiver is gone: dropping the sender wakes nobody.
            record.watchers.swap_remove(at);
            // The machine refuses only if nothing is pending, which the
            // sender just found here rules out.
            let _ =
                self.apply(Request::ReleaseWatcher { id }, &mut Call::Plain, false, now_ms, &mut Deliveries::default());
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
        let now = state.clock.now_ms();
        state.apply(load(Box::new(snapshot.image)), &mut Call::Plain, false, now, &mut Deliveries::default()).map_err(
            |error| match error {
                OpsLifecycleError::Internal(why) => SnapshotError::Inconsistent(why),
                other => SnapshotError::Inconsistent(other.to_string()),
            },
        )?;
        state.feed_details.trim(state.machine.state().feed());
        Ok(state)
    }

    pub(crate) fn snapshot(&self, id: &OperationId) -> Option<OperationLifecycleSnapshot> {
        let op = self.machine.state().operation(id)?;
        let record = self.records.get(id)?;
        Some(snapshot_of(*id, op, record))
    }
}
