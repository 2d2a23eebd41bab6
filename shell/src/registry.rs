//! The runtime registry: a thin adapter that feeds the machine, carries out
//! the effects it returns, and owns only I/O concerns (watcher channels,
//! wait futures, timestamps, peer handles, snapshots). It decides nothing
//! about legality.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oplife_machine::{Machine, Operation, Output, Request, WaitReport};
use tokio::sync::oneshot;

use crate::error::OpsLifecycleError;
use crate::events::{OperationEvent, OperationEvents, Publisher};
use crate::feed::{FeedDetail, FeedDetails, FeedPage};
use crate::lock::StateLock;
use crate::snapshot::{RecordSnapshot, RegistrySnapshot, SNAPSHOT_VERSION, SnapshotError};
use crate::types::{
    OperationId, OperationKind, OperationLifecycleSnapshot, OperationPeerHandle, OperationProgressUpdate,
    OperationResult, OperationSpec, OperationTerminalOutcome, OpsLifecycleConfig, RestorePolicy, RunId, Runtime,
    SessionId, WaitAllResult, WaitAllSatisfied, WaitRequestId,
};
use crate::watch::OperationCompletionWatch;
use crate::watermark::Watermark;

/// The future `wait_all` returns.
pub type WaitAllFuture<'a> = Pin<Box<dyn Future<Output = Result<WaitAllResult, OpsLifecycleError>> + Send + 'a>>;

/// The lifecycle registry of one owner session's async operations.
///
/// Every method is a registry call of `spec/SPEC.md`; each either applies and
/// returns `Ok`, or is refused with a typed [`OpsLifecycleError`] and changes
/// nothing.
pub trait OpsLifecycleRegistry: Send + Sync {
    /// Registers a new operation (status `Provisioning`).
    ///
    /// # Errors
    ///
    /// `AlreadyRegistered`, `MaxConcurrentExceeded`, `OwnerTerminated`,
    /// `PeerExpectationMismatch`, `Poisoned`.
    fn register_operation(&self, spec: OperationSpec) -> Result<(), OpsLifecycleError>;
    /// Provisioning finished: the operation runs.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn provisioning_succeeded(&self, id: &OperationId) -> Result<(), OpsLifecycleError>;
    /// Provisioning failed: the operation ends `Failed`.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn provisioning_failed(&self, id: &OperationId, error: String) -> Result<(), OpsLifecycleError>;
    /// The child's peer channel is ready.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `PeerNotExpected`, `AlreadyPeerReady`,
    /// `Poisoned`.
    fn peer_ready(&self, id: &OperationId, peer: OperationPeerHandle) -> Result<(), OpsLifecycleError>;
    /// Watches the operation's terminal outcome.
    ///
    /// # Errors
    ///
    /// `NotFound` (also for a forgotten operation), `Poisoned`.
    fn register_watcher(&self, id: &OperationId) -> Result<OperationCompletionWatch, OpsLifecycleError>;
    /// Reports progress; the last update is kept in the snapshot.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn report_progress(&self, id: &OperationId, update: OperationProgressUpdate) -> Result<(), OpsLifecycleError>;
    /// Completes the operation with a result.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn complete_operation(&self, id: &OperationId, result: OperationResult) -> Result<(), OpsLifecycleError>;
    /// Fails the operation.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn fail_operation(&self, id: &OperationId, error: String) -> Result<(), OpsLifecycleError>;
    /// Abandons provisioning: the operation ends `Aborted`.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn abort_provisioning(&self, id: &OperationId, reason: Option<String>) -> Result<(), OpsLifecycleError>;
    /// Cancels the operation.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn cancel_operation(&self, id: &OperationId, reason: Option<String>) -> Result<(), OpsLifecycleError>;
    /// Asks a running operation to wind down (`Retiring`).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn request_retire(&self, id: &OperationId) -> Result<(), OpsLifecycleError>;
    /// The operation has wound down: it ends `Retired`.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn mark_retired(&self, id: &OperationId) -> Result<(), OpsLifecycleError>;
    /// The operation as the registry knows it; `None` if unknown or
    /// forgotten.
    ///
    /// # Errors
    ///
    /// `Poisoned` (never a silent `None`).
    fn snapshot(&self, id: &OperationId) -> Result<Option<OperationLifecycleSnapshot>, OpsLifecycleError>;
    /// Every known operation, ordered by display name.
    ///
    /// # Errors
    ///
    /// `Poisoned` (never a silent empty list).
    fn list_operations(&self) -> Result<Vec<OperationLifecycleSnapshot>, OpsLifecycleError>;
    /// The owner terminates: every non-terminal operation ends `Terminated`
    /// with `reason`, and the registry refuses new operations from then on.
    /// A second call changes nothing.
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    fn terminate_owner(&self, reason: String) -> Result<(), OpsLifecycleError>;
    /// Hands over every retained terminal record, in completion order, and
    /// forgets them.
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    fn collect_completed(&self) -> Result<Vec<(OperationId, OperationTerminalOutcome)>, OpsLifecycleError>;
    /// Resolves once every listed operation has ended, with their outcomes
    /// in the order asked. Already-ended operations count at once; an empty
    /// list resolves at once. Dropping the future before it resolves cancels
    /// its wait request and nothing else.
    ///
    /// The future resolves to `NotFound` for an unknown id,
    /// `DuplicateWaitOperation` for a repeated one, or `Poisoned`.
    fn wait_all(&self, run_id: &RunId, ids: &[OperationId]) -> WaitAllFuture<'_>;
}

/// Shell-only data of one operation.
#[derive(Debug)]
struct Record {
    kind: OperationKind,
    display_name: String,
    child_session_id: Option<SessionId>,
    peer_handle: Option<OperationPeerHandle>,
    watchers: Vec<oneshot::Sender<OperationTerminalOutcome>>,
    /// The monotonic clock at registration (for a restored record: as far
    /// back as its wall-clock age says).
    created_at: Instant,
    created_wall_ms: u64,
    started_at: Option<Instant>,
    completed_at: Option<Instant>,
}

impl Record {
    /// Wall-clock milliseconds at `at`, measured on the monotonic clock from
    /// registration so that the times of one record never go backwards.
    fn wall_ms(&self, at: Instant) -> u64 {
        self.created_wall_ms.saturating_add(millis(self.created_at, at))
    }

    fn started_wall_ms(&self) -> Option<u64> {
        self.started_at.map(|at| self.wall_ms(at))
    }

    fn completed_wall_ms(&self) -> Option<u64> {
        self.completed_at.map(|at| self.wall_ms(at))
    }

    fn elapsed_ms(&self) -> Option<u64> {
        self.completed_at.map(|at| millis(self.created_at, at))
    }

    fn capture(&self, id: OperationId) -> RecordSnapshot {
        RecordSnapshot {
            id,
            kind: self.kind,
            display_name: self.display_name.clone(),
            child_session_id: self.child_session_id,
            peer_handle: self.peer_handle.clone(),
            created_at_ms: self.created_wall_ms,
            started_at_ms: self.started_wall_ms(),
            completed_at_ms: self.completed_wall_ms(),
            elapsed_ms: self.elapsed_ms(),
        }
    }

    /// The record of `snapshot`, with its times placed on this process's
    /// monotonic clock so that they read back exactly.
    fn restore(snapshot: RecordSnapshot, now: Instant, now_wall_ms: u64) -> Record {
        let age = Duration::from_millis(now_wall_ms.saturating_sub(snapshot.created_at_ms));
        let created_at = now.checked_sub(age).unwrap_or(now);
        let at = |wall_ms: Option<u64>| {
            wall_ms.map(|ms| {
                let since = Duration::from_millis(ms.saturating_sub(snapshot.created_at_ms));
                created_at.checked_add(since).unwrap_or(created_at)
            })
        };
        Record {
            kind: snapshot.kind,
            display_name: snapshot.display_name,
            child_session_id: snapshot.child_session_id,
            peer_handle: snapshot.peer_handle,
            watchers: Vec::new(),
            created_at,
            created_wall_ms: snapshot.created_at_ms,
            started_at: at(snapshot.started_at_ms),
            completed_at: at(snapshot.completed_at_ms),
        }
    }
}

/// The state the registry keeps behind its lock: the machine and the
/// shell's records and channels.
#[derive(Debug)]
pub struct RegistryState {
    config: OpsLifecycleConfig,
    machine: Machine<Runtime>,
    records: HashMap<OperationId, Record, foldhash::fast::RandomState>,
    waits: HashMap<WaitRequestId, oneshot::Sender<WaitAllResult>, foldhash::fast::RandomState>,
    feed_details: FeedDetails,
    /// The number the next operation event gets.
    next_event: u64,
    outputs: Vec<Output<Runtime>>,
}

/// Sends to carry out once the lock is released, so that no user code (a
/// waker) runs while it is held.
#[derive(Default)]
struct Deliveries {
    watchers: Vec<(Vec<oneshot::Sender<OperationTerminalOutcome>>, OperationTerminalOutcome)>,
    waits: Vec<(oneshot::Sender<WaitAllResult>, WaitAllResult)>,
    /// Events of the transition, when anyone subscribes.
    events: Vec<OperationEvent>,
    /// The feed watermark, when the transition minted sequence numbers.
    watermark: Option<u64>,
}

impl Deliveries {
    fn send(self) {
        for (mut senders, outcome) in self.watchers {
            if let Some(last) = senders.pop() {
                for sender in senders {
                    let _ = sender.send(outcome.clone());
                }
                let _ = last.send(outcome);
            }
        }
        for (sender, result) in self.waits {
            let _ = sender.send(result);
        }
    }
}

/// What one call needs back from the effects it caused.
#[derive(Default)]
struct Call {
    /// Whether events are built (someone subscribes).
    listening: bool,
    /// The record of the operation being registered.
    registering: Option<Record>,
    /// The outcome of the operation that just ended, until its feed entry.
    ended: Option<OperationTerminalOutcome>,
    peer: Option<OperationPeerHandle>,
    beginning_wait: Option<WaitRequestId>,
    watch: Option<OperationCompletionWatch>,
    wait_rx: Option<oneshot::Receiver<WaitAllResult>>,
    satisfied_now: Option<WaitAllResult>,
    collected: Vec<(OperationId, OperationTerminalOutcome)>,
}

fn wait_result(report: WaitReport<Runtime>) -> WaitAllResult {
    let operation_ids = report.outcomes.iter().map(|(id, _)| *id).collect();
    WaitAllResult {
        outcomes: report.outcomes,
        satisfied: WaitAllSatisfied { wait_request_id: report.wait, operation_ids },
    }
}

fn epoch_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn millis(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_millis()).unwrap_or(u64::MAX)
}

impl RegistryState {
    fn new(config: OpsLifecycleConfig) -> Self {
        RegistryState {
            config,
            machine: Machine::new(config.limits()),
            records: HashMap::default(),
            waits: HashMap::default(),
            feed_details: FeedDetails::default(),
            next_event: 0,
            outputs: Vec::new(),
        }
    }

    /// Applies `request` and carries out the effects the machine returned.
    fn apply(
        &mut self,
        request: Request<Runtime>,
        call: &mut Call,
        now: Instant,
    ) -> Result<Deliveries, OpsLifecycleError> {
        let mut outputs = std::mem::take(&mut self.outputs);
        outputs.clear();
        let applied = self.machine.apply_into(request, &mut outputs);
        let mut deliveries = Deliveries::default();
        if applied.is_ok() {
            for output in outputs.drain(..) {
                self.execute(output, call, now, &mut deliveries);
            }
            if deliveries.watermark.is_some() {
                self.feed_details.trim(self.machine.state().feed());
            }
        }
        self.outputs = outputs;
        applied.map(|()| deliveries).map_err(OpsLifecycleError::from)
    }

    fn execute(&mut self, output: Output<Runtime>, call: &mut Call, now: Instant, deliveries: &mut Deliveries) {
        match output {
            Output::Registered { id, kind } => {
                if let Some(record) = call.registering.take() {
                    if call.listening {
                        let display_name = record.display_name.clone();
                        deliveries.events.push(OperationEvent::Registered { id, kind, display_name });
                    }
                    self.records.insert(id, record);
                }
            }
            Output::Started { id } => {
                if let Some(record) = self.records.get_mut(&id) {
                    record.started_at = Some(now);
                }
                if call.listening {
                    deliveries.events.push(OperationEvent::Started { id });
                }
            }
            Output::Progress { id, update } => {
                if call.listening
                    && let Some(update) = update
                {
                    deliveries.events.push(OperationEvent::Progress { id, update });
                }
            }
            Output::PeerExposed { id } => {
                if let Some(record) = self.records.get_mut(&id) {
                    record.peer_handle = call.peer.take();
                    if call.listening
                        && let Some(peer) = record.peer_handle.clone()
                    {
                        deliveries.events.push(OperationEvent::PeerReady { id, peer });
                    }
                }
            }
            Output::Ended { id, outcome } => {
                if let Some(record) = self.records.get_mut(&id) {
                    record.completed_at = Some(now);
                }
                call.ended = Some(outcome);
            }
            Output::FeedAppended { seq, id } => {
                let outcome = call.ended.take();
                if let Some(record) = self.records.get(&id) {
                    let completed_at_ms = record.wall_ms(record.completed_at.unwrap_or(now));
                    let display_name = record.display_name.clone();
                    self.feed_details.push(FeedDetail { seq, display_name, completed_at_ms });
                }
                if call.listening
                    && let Some(outcome) = outcome
                {
                    deliveries.events.push(OperationEvent::Ended { id, outcome, seq });
                }
                deliveries.watermark = Some(seq);
            }
            Output::WatchPending { id } => {
                if let Some(record) = self.records.get_mut(&id) {
                    let (sender, watch) = OperationCompletionWatch::pending();
                    record.watchers.push(sender);
                    call.watch = Some(watch);
                }
            }
            Output::WatchResolved { outcome, .. } => call.watch = Some(OperationCompletionWatch::resolved(outcome)),
            Output::WatchersNotified { id, outcome, .. } => {
                if let Some(record) = self.records.get_mut(&id) {
                    deliveries.watchers.push((std::mem::take(&mut record.watchers), outcome));
                }
            }
            Output::WaitPending { wait } => {
                let (sender, receiver) = oneshot::channel();
                self.waits.insert(wait, sender);
                call.wait_rx = Some(receiver);
            }
            Output::WaitSatisfied(report) => {
                if call.beginning_wait == Some(report.wait) {
                    call.satisfied_now = Some(wait_result(report));
                } else if let Some(sender) = self.waits.remove(&report.wait) {
                    deliveries.waits.push((sender, wait_result(report)));
                }
            }
            Output::WaitCancelled { wait } => {
                self.waits.remove(&wait);
            }
            Output::Evicted { id } => {
                self.records.remove(&id);
            }
            Output::Collected { id, outcome } => {
                self.records.remove(&id);
                call.collected.push((id, outcome));
            }
            Output::Acknowledged { .. } => {}
        }
    }

    fn snapshot(&self, id: &OperationId) -> Option<OperationLifecycleSnapshot> {
        let op = self.machine.state().operation(id)?;
        let record = self.records.get(id)?;
        Some(snapshot_of(*id, op, record))
    }
}

fn snapshot_of(id: OperationId, op: &Operation<Runtime>, record: &Record) -> OperationLifecycleSnapshot {
    OperationLifecycleSnapshot {
        id,
        kind: record.kind,
        display_name: record.display_name.clone(),
        status: op.status(),
        peer_ready: op.peer_ready(),
        peer_handle: record.peer_handle.clone(),
        progress_count: op.progress_count(),
        last_progress: op.last_progress().cloned(),
        watcher_count: op.watcher_count(),
        terminal_outcome: op.outcome().cloned(),
        child_session_id: record.child_session_id,
        created_at_ms: record.created_wall_ms,
        started_at_ms: record.started_wall_ms(),
        completed_at_ms: record.completed_wall_ms(),
        elapsed_ms: record.elapsed_ms(),
    }
}

/// The registry runtimes embed: `Send + Sync`, usable behind `Arc` from
/// many tasks and threads.
///
/// ```
/// use oplife_shell::{OperationKind, OperationResult, OperationSpec, OpsLifecycleRegistry, RunId, RuntimeOpsLifecycleRegistry, SessionId, OperationId};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let registry = RuntimeOpsLifecycleRegistry::new();
/// let id = OperationId::new();
/// registry.register_operation(OperationSpec {
///     id,
///     kind: OperationKind::BackgroundToolOp,
///     owner_session_id: SessionId::new(),
///     display_name: "grep".into(),
///     source_label: "tool".into(),
///     child_session_id: None,
///     expect_peer_channel: false,
/// })?;
/// registry.provisioning_succeeded(&id)?;
/// let wait = registry.wait_all(&RunId::new(), &[id]);
/// registry.complete_operation(&id, OperationResult { id, content: "3 matches".into(), ..Default::default() })?;
/// let done = wait.await?;
/// assert_eq!(done.satisfied.operation_ids, vec![id]);
/// # Ok::<(), oplife_shell::OpsLifecycleError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct RuntimeOpsLifecycleRegistry<L: StateLock<RegistryState> = Mutex<RegistryState>> {
    state: L,
    events: Publisher,
    watermark: Watermark,
}

impl RuntimeOpsLifecycleRegistry {
    /// A registry with the default configuration.
    pub fn new() -> Self {
        Self::with_config(OpsLifecycleConfig::default())
    }

    /// A registry with `config`.
    pub fn with_config(config: OpsLifecycleConfig) -> Self {
        Self::with_lock(config)
    }

    /// Rebuilds a registry from `snapshot` (usually captured by another
    /// process), with the snapshot's configuration. Terminal records and
    /// feed entries come back exactly; operations that had not ended end now
    /// as `policy` says (by default `Terminated` with the reason "lost in a
    /// restart"), each with a feed entry after the captured ones. Pending
    /// watchers and waits are not restored: they belonged to the old process.
    ///
    /// ```
    /// use oplife_shell::{OperationId, OperationKind, OperationSpec, OperationStatus, OpsLifecycleRegistry, RestorePolicy, RuntimeOpsLifecycleRegistry, SessionId};
    ///
    /// let old = RuntimeOpsLifecycleRegistry::new();
    /// let id = OperationId::new();
    /// old.register_operation(OperationSpec {
    ///     id,
    ///     kind: OperationKind::BackgroundToolOp,
    ///     owner_session_id: SessionId::new(),
    ///     display_name: "crawl".into(),
    ///     source_label: "tool".into(),
    ///     child_session_id: None,
    ///     expect_peer_channel: false,
    /// })?;
    /// let snapshot = old.capture()?; // `crawl` is still provisioning
    /// let restored = RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::default()).unwrap();
    /// assert_eq!(restored.snapshot(&id)?.unwrap().status, OperationStatus::Terminated);
    /// assert_eq!(restored.list_since(0)?.entries[0].id, id);
    /// # Ok::<(), oplife_shell::OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SnapshotError::UnsupportedVersion`] for another format version;
    /// [`SnapshotError::Inconsistent`] when the snapshot describes a state
    /// no registry can be in. Nothing is created then.
    pub fn restore(snapshot: RegistrySnapshot, policy: RestorePolicy) -> Result<Self, SnapshotError> {
        Self::restore_with_lock(snapshot, policy)
    }
}

impl Default for RuntimeOpsLifecycleRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl<L: StateLock<RegistryState>> RuntimeOpsLifecycleRegistry<L> {
    /// A registry with `config` behind a lock of type `L` (concurrency tests
    /// use a schedule-exploring lock).
    pub fn with_lock(config: OpsLifecycleConfig) -> Self {
        Self::from_state(RegistryState::new(config))
    }

    fn from_state(state: RegistryState) -> Self {
        let watermark = Watermark::new(state.machine.state().feed().watermark());
        let events = Publisher::new(state.config.event_capacity);
        RuntimeOpsLifecycleRegistry { state: L::new(state), events, watermark }
    }

    fn lock(&self) -> Result<impl std::ops::DerefMut<Target = RegistryState> + '_, OpsLifecycleError> {
        self.state.lock().map_err(|()| OpsLifecycleError::Poisoned)
    }

    /// Applies one request, then delivers to watchers and waits with the
    /// lock released.
    fn call(&self, request: Request<Runtime>, call: &mut Call) -> Result<(), OpsLifecycleError> {
        let now = Instant::now();
        let mut state = self.lock()?;
        call.listening = self.events.listening();
        let mut deliveries = state.apply(request, call, now)?;
        let events = std::mem::take(&mut deliveries.events);
        let publish = !events.is_empty();
        if publish {
            let state = &mut *state;
            self.events.enqueue(&mut state.next_event, events);
        }
        drop(state);
        let watermark = deliveries.watermark;
        deliveries.send();
        if publish {
            self.events.publish();
        }
        if let Some(seq) = watermark {
            self.watermark.advance(seq);
        }
        Ok(())
    }

    fn simple(&self, request: Request<Runtime>) -> Result<(), OpsLifecycleError> {
        self.call(request, &mut Call::default())
    }

    /// How many `wait_all` requests are pending.
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn pending_waits(&self) -> Result<usize, OpsLifecycleError> {
        Ok(self.lock()?.machine.state().pending_waits().count())
    }

    /// Subscribes to every operation event of the transitions made from now
    /// on, in order.
    ///
    /// A subscriber that falls more than the configured `event_capacity`
    /// events behind receives an [`crate::ObservedEvent::Gap`] with the
    /// number it missed; publishing never waits for a subscriber.
    ///
    /// ```
    /// use oplife_shell::{ObservedEvent, OperationEvent, OperationId, OperationKind, OperationSpec, OpsLifecycleRegistry, RuntimeOpsLifecycleRegistry, SessionId};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let mut events = registry.subscribe_events()?;
    /// let id = OperationId::new();
    /// registry.register_operation(OperationSpec {
    ///     id,
    ///     kind: OperationKind::BackgroundToolOp,
    ///     owner_session_id: SessionId::new(),
    ///     display_name: "index".into(),
    ///     source_label: "tool".into(),
    ///     child_session_id: None,
    ///     expect_peer_channel: false,
    /// })?;
    /// registry.provisioning_succeeded(&id)?;
    /// assert!(matches!(events.recv().await, Some(ObservedEvent::Event(OperationEvent::Registered { .. }))));
    /// assert_eq!(events.recv().await, Some(ObservedEvent::Event(OperationEvent::Started { id })));
    /// # Ok::<(), oplife_shell::OpsLifecycleError>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn subscribe_events(&self) -> Result<OperationEvents, OpsLifecycleError> {
        let state = self.lock()?;
        Ok(self.events.subscribe(state.next_event))
    }

    /// The completion feed's watermark: the last sequence number minted (0
    /// before the first operation ends).
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn feed_watermark(&self) -> Result<u64, OpsLifecycleError> {
        Ok(self.lock()?.machine.state().feed().watermark())
    }

    /// The completion feed entries after `seq`, oldest first, and the range
    /// after `seq` that retention dropped before it was read (never skipped
    /// silently). Start with `list_since(0)`, then pass the page's
    /// watermark.
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn list_since(&self, seq: u64) -> Result<FeedPage, OpsLifecycleError> {
        let state = self.lock()?;
        Ok(state.feed_details.page(state.machine.state().feed(), seq))
    }

    /// Resolves with the watermark once it is past `seq`: at once if it
    /// already is. No wake-up is lost: an operation that ends between
    /// reading the watermark and calling this still resolves it.
    ///
    /// ```
    /// use oplife_shell::{OperationId, OperationKind, OperationSpec, OpsLifecycleRegistry, RuntimeOpsLifecycleRegistry, SessionId};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let seen = registry.feed_watermark()?;
    /// let id = OperationId::new();
    /// registry.register_operation(OperationSpec {
    ///     id,
    ///     kind: OperationKind::BackgroundToolOp,
    ///     owner_session_id: SessionId::new(),
    ///     display_name: "fetch".into(),
    ///     source_label: "tool".into(),
    ///     child_session_id: None,
    ///     expect_peer_channel: false,
    /// })?;
    /// registry.cancel_operation(&id, None)?; // ends before anyone waits
    /// let watermark = registry.wait_for_watermark(seen).await;
    /// let page = registry.list_since(seen)?;
    /// assert_eq!((watermark, page.entries[0].id, page.missed), (1, id, None));
    /// # Ok::<(), oplife_shell::OpsLifecycleError>(())
    /// # }).unwrap();
    /// ```
    ///
    /// It cannot fail: the registry outlives the future, which borrows it.
    pub async fn wait_for_watermark(&self, seq: u64) -> u64 {
        self.watermark.wait_past(seq).await
    }

    /// Captures the registry's durable state: every operation, the retained
    /// terminal records, the completion feed and the configuration. Pending
    /// watchers and waits are not captured (see [`RegistrySnapshot`]).
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn capture(&self) -> Result<RegistrySnapshot, OpsLifecycleError> {
        let state = self.lock()?;
        let image = state.machine.state().image();
        let mut records = Vec::with_capacity(image.operations.len());
        for op in &image.operations {
            let record = state
                .records
                .get(&op.id)
                .ok_or_else(|| OpsLifecycleError::Internal(format!("operation {} has no record", op.id)))?;
            records.push(record.capture(op.id));
        }
        Ok(RegistrySnapshot {
            version: SNAPSHOT_VERSION,
            config: state.config,
            image,
            records,
            feed_details: state.feed_details.all(),
        })
    }

    /// [`RuntimeOpsLifecycleRegistry::restore`] behind a lock of type `L`.
    ///
    /// Rebuilds a registry from `snapshot` (usually captured by another
    /// process). Terminal records and feed entries come back exactly;
    /// operations that had not ended end now as `policy` says, each with a
    /// feed entry of its own after the captured ones (if that overflows the
    /// configured retention, the oldest records and entries go, as on any
    /// ending). Watchers and waits are not restored.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::UnsupportedVersion`] for another format version;
    /// [`SnapshotError::Inconsistent`] when the snapshot describes a state
    /// no registry can be in. Nothing is created then.
    pub fn restore_with_lock(snapshot: RegistrySnapshot, policy: RestorePolicy) -> Result<Self, SnapshotError> {
        snapshot.check_shell_parts()?;
        let now = Instant::now();
        let now_wall_ms = epoch_ms(SystemTime::now());
        let mut state = RegistryState::new(snapshot.config);
        for record in snapshot.records {
            let id = record.id;
            state.records.insert(id, Record::restore(record, now, now_wall_ms));
        }
        state.feed_details = FeedDetails::from_details(snapshot.feed_details);
        let request = Request::Restore { image: Box::new(snapshot.image), policy: policy.into() };
        state.apply(request, &mut Call::default(), now).map_err(|error| match error {
            OpsLifecycleError::Internal(why) => SnapshotError::Inconsistent(why),
            other => SnapshotError::Inconsistent(other.to_string()),
        })?;
        state.feed_details.trim(state.machine.state().feed());
        Ok(Self::from_state(state))
    }

    fn cancel_wait(&self, wait: WaitRequestId) {
        // An error means the wait was already satisfied (its result is in
        // the dropped channel) or the lock is poisoned: either way there is
        // nothing left to cancel, and a drop cannot report anything.
        let _ = self.call(Request::CancelWait { wait }, &mut Call::default());
    }
}

impl<L: StateLock<RegistryState>> OpsLifecycleRegistry for RuntimeOpsLifecycleRegistry<L> {
    fn register_operation(&self, spec: OperationSpec) -> Result<(), OpsLifecycleError> {
        let record = Record {
            kind: spec.kind,
            display_name: spec.display_name,
            child_session_id: spec.child_session_id,
            peer_handle: None,
            watchers: Vec::new(),
            created_at: Instant::now(),
            created_wall_ms: epoch_ms(SystemTime::now()),
            started_at: None,
            completed_at: None,
        };
        let request = Request::Register { id: spec.id, kind: spec.kind, expects_peer: spec.expect_peer_channel };
        self.call(request, &mut Call { registering: Some(record), ..Call::default() })
    }

    fn provisioning_succeeded(&self, id: &OperationId) -> Result<(), OpsLifecycleError> {
        self.simple(Request::ProvisioningSucceeded { id: *id })
    }

    fn provisioning_failed(&self, id: &OperationId, error: String) -> Result<(), OpsLifecycleError> {
        self.simple(Request::ProvisioningFailed { id: *id, error })
    }

    fn peer_ready(&self, id: &OperationId, peer: OperationPeerHandle) -> Result<(), OpsLifecycleError> {
        self.call(Request::PeerReady { id: *id }, &mut Call { peer: Some(peer), ..Call::default() })
    }

    fn register_watcher(&self, id: &OperationId) -> Result<OperationCompletionWatch, OpsLifecycleError> {
        let mut call = Call::default();
        self.call(Request::RegisterWatcher { id: *id }, &mut call)?;
        call.watch.ok_or_else(|| OpsLifecycleError::Internal("register_watcher produced no watch".into()))
    }

    fn report_progress(&self, id: &OperationId, update: OperationProgressUpdate) -> Result<(), OpsLifecycleError> {
        self.simple(Request::ReportProgress { id: *id, update })
    }

    fn complete_operation(&self, id: &OperationId, result: OperationResult) -> Result<(), OpsLifecycleError> {
        self.simple(Request::Complete { id: *id, result })
    }

    fn fail_operation(&self, id: &OperationId, error: String) -> Result<(), OpsLifecycleError> {
        self.simple(Request::Fail { id: *id, error })
    }

    fn abort_provisioning(&self, id: &OperationId, reason: Option<String>) -> Result<(), OpsLifecycleError> {
        self.simple(Request::AbortProvisioning { id: *id, reason })
    }

    fn cancel_operation(&self, id: &OperationId, reason: Option<String>) -> Result<(), OpsLifecycleError> {
        self.simple(Request::Cancel { id: *id, reason })
    }

    fn request_retire(&self, id: &OperationId) -> Result<(), OpsLifecycleError> {
        self.simple(Request::RequestRetire { id: *id })
    }

    fn mark_retired(&self, id: &OperationId) -> Result<(), OpsLifecycleError> {
        self.simple(Request::MarkRetired { id: *id })
    }

    fn snapshot(&self, id: &OperationId) -> Result<Option<OperationLifecycleSnapshot>, OpsLifecycleError> {
        Ok(self.lock()?.snapshot(id))
    }

    fn list_operations(&self) -> Result<Vec<OperationLifecycleSnapshot>, OpsLifecycleError> {
        let mut list: Vec<OperationLifecycleSnapshot> = {
            let state = self.lock()?;
            state
                .machine
                .state()
                .operations()
                .filter_map(|(id, op)| state.records.get(id).map(|record| snapshot_of(*id, op, record)))
                .collect()
        };
        list.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(list)
    }

    fn terminate_owner(&self, reason: String) -> Result<(), OpsLifecycleError> {
        self.simple(Request::TerminateOwner { reason })
    }

    fn collect_completed(&self) -> Result<Vec<(OperationId, OperationTerminalOutcome)>, OpsLifecycleError> {
        let mut call = Call::default();
        self.call(Request::CollectCompleted, &mut call)?;
        Ok(call.collected)
    }

    fn wait_all(&self, _run_id: &RunId, ids: &[OperationId]) -> WaitAllFuture<'_> {
        let wait = WaitRequestId::new();
        let mut call = Call { beginning_wait: Some(wait), ..Call::default() };
        let state = match self.call(Request::BeginWait { wait, ids: ids.to_vec() }, &mut call) {
            Err(error) => WaitState::Ready(Some(Err(error))),
            Ok(()) => match (call.satisfied_now, call.wait_rx) {
                (Some(result), _) => WaitState::Ready(Some(Ok(result))),
                (None, Some(rx)) => WaitState::Pending { wait, rx },
                (None, None) => WaitState::Ready(Some(Err(OpsLifecycleError::Internal(
                    "begin_wait was neither satisfied nor pending".into(),
                )))),
            },
        };
        Box::pin(WaitAll { registry: self, state })
    }
}

enum WaitState {
    Ready(Option<Result<WaitAllResult, OpsLifecycleError>>),
    Pending { wait: WaitRequestId, rx: oneshot::Receiver<WaitAllResult> },
    Done,
}

/// A `wait_all` in flight; dropping it while pending cancels its wait
/// request inside the machine.
struct WaitAll<'a, L: StateLock<RegistryState>> {
    registry: &'a RuntimeOpsLifecycleRegistry<L>,
    state: WaitState,
}

impl<L: StateLock<RegistryState>> Future for WaitAll<'_, L> {
    type Output = Result<WaitAllResult, OpsLifecycleError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match &mut this.state {
            WaitState::Ready(result) => {
                let result = result.take().unwrap_or(Err(OpsLifecycleError::Closed));
                this.state = WaitState::Done;
                Poll::Ready(result)
            }
            WaitState::Pending { rx, .. } => match Pin::new(rx).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(received) => {
                    this.state = WaitState::Done;
                    Poll::Ready(received.map_err(|_| OpsLifecycleError::Closed))
                }
            },
            WaitState::Done => Poll::Ready(Err(OpsLifecycleError::Closed)),
        }
    }
}

impl<L: StateLock<RegistryState>> Drop for WaitAll<'_, L> {
    fn drop(&mut self) {
        if let WaitState::Pending { wait, .. } = self.state {
            self.registry.cancel_wait(wait);
        }
    }
}
