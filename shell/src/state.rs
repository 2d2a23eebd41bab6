//! What the registry keeps behind its lock, and how it carries out the
//! effects the machine returns for one call.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use oplife_machine::{Image, Machine, Output, Request, WaitReport};
use tokio::sync::oneshot;

use crate::config::OpsLifecycleConfig;
use crate::error::OpsLifecycleError;
use crate::events::OperationEvent;
use crate::feed::FeedDetails;
use crate::record::{Clock, Record, WatcherSender, snapshot_of};
use crate::snapshot::{RegistrySnapshot, SNAPSHOT_VERSION, SnapshotError};
use crate::types::{
    OperationId, OperationLifecycleSnapshot, OperationPeerHandle, SharedTerminalOutcome, ShellDomain, WaitAllResult,
    WaitAllSatisfied, WaitRequestId,
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
    watchers: Vec<(Vec<WatcherSender>, SharedTerminalOutcome)>,
    waits: Vec<(oneshot::Sender<WaitAllResult>, WaitAllResult)>,
    /// Senders of cancelled waits, dropped unsent.
    cancelled: Vec<oneshot::Sender<WaitAllResult>>,
    /// Events of the transition, when anyone subscribes.
    pub(crate) events: Vec<OperationEvent>,
    /// The feed watermark, when the transition minted sequence numbers.
    pub(crate) watermark: Option<u64>,
}

impl Deliveries {
    pub(crate) fn send(self) {
        for (mut senders, outcome) in self.watchers {
            if let Some((_, last)) = senders.pop() {
                for (_, sender) in senders {
                    let _ = sender.send(outcome.clone());
                }
                let _ = last.send(outcome);
            }
        }
        for (sender, result) in self.waits {
            let _ = sender.send(result);
        }
        drop(self.cancelled);
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

/// What one transition's outputs hand to the outputs after them: the
/// machine emits an operation's `Ended` right before its `FeedAppended`
/// (the table's terminal chain), and the `Ended` event needs both.
#[derive(Default)]
struct Transition {
    /// Whether events are built (someone subscribes).
    listening: bool,
    /// The operation that just ended, with its outcome, until its feed entry.
    ended: Option<(OperationId, SharedTerminalOutcome)>,
}

fn wait_result(report: WaitReport<ShellDomain>) -> WaitAllResult {
    let operation_ids = report.outcomes.iter().map(|(id, _)| *id).collect();
    WaitAllResult {
        outcomes: report.outcomes,
        satisfied: WaitAllSatisfied { wait_request_id: report.wait, operation_ids },
    }
}

impl RegistryState {
    pub(crate) fn new(config: OpsLifecycleConfig) -> Self {
        RegistryState {
            config,
            machine: Machine::new(config.limits()),
            records: HashMap::default(),
            waits: HashMap::default(),
            feed_details: FeedDetails::default(),
            next_event: 0,
            next_watch_key: 0,
            dropped: Arc::default(),
            clock: Clock::starting_at_least(0),
            cursors: BTreeMap::new(),
            #[cfg(feature = "durable")]
            journal: None,
        }
    }

    /// Applies `request` and carries out the effects the machine returned;
    /// events are built only when `listening`.
    pub(crate) fn apply(
        &mut self,
        request: Request<ShellDomain>,
        call: &mut Call,
        listening: bool,
        now_ms: u64,
    ) -> Result<Deliveries, OpsLifecycleError> {
        #[cfg(feature = "durable")]
        let journaled = self.journal_before(&request, call, now_ms)?;
        let mut deliveries = Deliveries::default();
        let mut transition = Transition { listening, ended: None };
        let mut executor = Executor {
            records: &mut self.records,
            waits: &mut self.waits,
            feed_details: &mut self.feed_details,
            next_watch_key: &mut self.next_watch_key,
            dropped: &self.dropped,
        };
        let applied = self.machine.apply_with(request, &mut |output| {
            executor.execute(output, call, &mut transition, now_ms, &mut deliveries);
        });
        if applied.is_ok() && deliveries.watermark.is_some() {
            self.feed_details.trim(self.machine.state().feed());
        }
        #[cfg(feature = "durable")]
        if applied.is_ok()
            && let Some(journaled) = journaled
        {
            self.journal_after(Some(journaled));
        }
        applied.map(|()| deliveries).map_err(OpsLifecycleError::from)
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
            let _ = self.apply(Request::ReleaseWatcher { id }, &mut Call::Plain, false, now_ms);
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
        state.apply(load(Box::new(snapshot.image)), &mut Call::Plain, false, now).map_err(|error| match error {
            OpsLifecycleError::Internal(why) => SnapshotError::Inconsistent(why),
            other => SnapshotError::Inconsistent(other.to_string()),
        })?;
        state.feed_details.trim(state.machine.state().feed());
        Ok(state)
    }

    pub(crate) fn snapshot(&self, id: &OperationId) -> Option<OperationLifecycleSnapshot> {
        let op = self.machine.state().operation(id)?;
        let record = self.records.get(id)?;
        Some(snapshot_of(*id, op, record))
    }
}

/// The shell's side of the registry state, borrowed while the machine runs
/// a transition: each output is carried out as the machine makes it.
struct Executor<'a> {
    records: &'a mut Records,
    waits: &'a mut HashMap<WaitRequestId, oneshot::Sender<WaitAllResult>, foldhash::fast::RandomState>,
    feed_details: &'a mut FeedDetails,
    next_watch_key: &'a mut u64,
    dropped: &'a Arc<DroppedWatchers>,
}

impl Executor<'_> {
    /// Carries out one effect of the transition in progress.
    fn execute(
        &mut self,
        output: Output<ShellDomain>,
        call: &mut Call,
        transition: &mut Transition,
        now_ms: u64,
        deliveries: &mut Deliveries,
    ) {
        let listening = transition.listening;
        match output {
            Output::Registered { id, kind } => {
                if let Call::Register(registering) = call
                    && let Some(mut record) = registering.take()
                {
                    record.created_ms = now_ms;
                    if listening {
                        let display_name = record.display_name.clone();
                        deliveries.events.push(OperationEvent::Registered { id, kind, display_name });
                    }
                    self.records.insert(id, record);
                }
            }
            Output::Started { id } => {
                if let Some(record) = self.records.get_mut(&id) {
                    record.started_ms = Some(now_ms);
                }
                if listening {
                    deliveries.events.push(OperationEvent::Started { id });
                }
            }
            Output::Progress { id, update } => {
                if listening && let Some(update) = update {
                    deliveries.events.push(OperationEvent::Progress { id, update });
                }
            }
            Output::PeerExposed { id } => {
                if let Some(record) = self.records.get_mut(&id)
                    && let Call::PeerReady(peer) = call
                {
                    record.peer_handle = peer.take();
                    if listening && let Some(peer) = record.peer_handle.clone() {
                        deliveries.events.push(OperationEvent::PeerReady { id, peer });
                    }
                }
            }
            Output::Ended { id, outcome } => {
                if let Some(record) = self.records.get_mut(&id) {
                    record.completed_ms = Some(now_ms);
                }
                transition.ended = Some((id, outcome));
            }
            Output::FeedAppended { seq, id } => {
                let outcome = transition.ended.take().filter(|(ended, _)| *ended == id).map(|(_, outcome)| outcome);
                if let Some(record) = self.records.get_mut(&id) {
                    record.feed_seq = Some(seq);
                    self.feed_details.push(seq, id, record.completed_ms.unwrap_or(now_ms));
                }
                if listening && let Some(outcome) = outcome {
                    deliveries.events.push(OperationEvent::Ended { id, outcome, seq });
                }
                deliveries.watermark = Some(seq);
            }
            Output::WatchPending { id } => {
                if let Some(record) = self.records.get_mut(&id) {
                    let key = *self.next_watch_key;
                    *self.next_watch_key += 1;
                    let (sender, watch) = OperationCompletionWatch::pending(self.dropped, id, key);
                    record.watchers.push((key, sender));
                    if let Call::Watch(slot) = call {
                        *slot = Some(watch);
                    }
                }
            }
            Output::WatchResolved { outcome, .. } => {
                if let Call::Watch(slot) = call {
                    *slot = Some(OperationCompletionWatch::resolved(outcome));
                }
            }
            Output::WatchersNotified { id, outcome, .. } => {
                if let Some(record) = self.records.get_mut(&id) {
                    deliveries.watchers.push((std::mem::take(&mut record.watchers), outcome));
                }
            }
            Output::WaitPending { wait } => {
                let (sender, receiver) = oneshot::channel();
                self.waits.insert(wait, sender);
                if let Call::BeginWait(_, begun) = call {
                    *begun = Some(WaitBegun::Pending(receiver));
                }
            }
            Output::WaitSatisfied(report) => match call {
                Call::BeginWait(wait, begun) if *wait == report.wait => {
                    *begun = Some(WaitBegun::Satisfied(wait_result(report)));
                }
                _ => {
                    if let Some(sender) = self.waits.remove(&report.wait) {
                        deliveries.waits.push((sender, wait_result(report)));
                    }
                }
            },
            Output::WaitCancelled { wait } => {
                if let Some(sender) = self.waits.remove(&wait) {
                    deliveries.cancelled.push(sender);
                }
            }
            Output::Evicted { id } | Output::RolledBack { id } => self.forget(&id),
            Output::Collected { id, outcome } => {
                self.forget(&id);
                if let Call::Collect(collected) = call {
                    collected.push((id, outcome));
                }
            }
            Output::Acknowledged { .. } | Output::WatcherReleased { .. } => {}
        }
    }

    /// Forgets the record of `id`; its feed entry, if still retained, keeps
    /// its display name.
    fn forget(&mut self, id: &OperationId) {
        if let Some(record) = self.records.remove(id)
            && let Some(seq) = record.feed_seq
        {
            self.feed_details.adopt_name(seq, record.display_name);
        }
    }
}
