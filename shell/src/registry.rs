//! The registry runtimes embed: a thin adapter that feeds the machine,
//! carries out the effects it returns (see [`crate::RegistryState`]), and
//! owns only I/O concerns (watcher channels, wait futures, timestamps, peer
//! handles, snapshots). It decides nothing about legality.

use std::sync::Arc;

use oplife_machine::Request;
use oplife_spec::Phase;

use crate::call::{At, Call};
use crate::config::{ConfigError, OpsLifecycleConfig};
use crate::deliveries::Deliveries;
use crate::error::OpsLifecycleError;
use crate::events::{OperationEvents, Publisher};
use crate::feed::FeedPage;
use crate::lock::{RegistryLock, StateLock};
use crate::observe::{CallSignals, Counts, Sampled};
use crate::record::Seen;
use crate::snapshot::{RegistrySnapshot, SnapshotError};
use crate::state::RegistryState;
use crate::types::{RestorePolicy, Retention, ShellDomain, WaitRequestId};
use crate::watch::DroppedWatchers;
use crate::watermark::Watermark;

/// What callers hold on a registry, from
/// [`RuntimeOpsLifecycleRegistry::held`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeldHandles {
    /// Pending watchers (watches not yet resolved).
    pub watchers: usize,
    /// Pending `wait_all` requests.
    pub waits: usize,
    /// Live event subscriptions.
    pub event_subscriptions: usize,
    /// Live `wait_for_watermark` futures.
    pub watermark_waits: usize,
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
///     operation_source: None,
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
pub struct RuntimeOpsLifecycleRegistry<L: StateLock<RegistryState> = RegistryLock<RegistryState>> {
    state: L,
    /// The state's queue of dropped watches, checked before a read.
    dropped: Arc<DroppedWatchers>,
    events: Publisher,
    watermark: Watermark,
    /// The metrics tallied and last published (nothing without `metrics`).
    sampled: Sampled,
}

/// Whether a registry's owner may still change it (see
/// [`RuntimeOpsLifecycleRegistry::owner_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OwnerState {
    /// The owner may register and drive operations.
    Open,
    /// A newer owner took the durable store over: every call that could
    /// change the registry is refused with [`Refusal::Sealed`](crate::Refusal::Sealed);
    /// reads keep working.
    Sealed,
    /// The owner terminated: no operation can be registered.
    Retired,
}

impl RuntimeOpsLifecycleRegistry {
    /// A registry with the default configuration.
    pub fn new() -> Self {
        Self::with_config(OpsLifecycleConfig::default())
    }

    /// A registry with `config`, each value clamped into its range
    /// ([`OpsLifecycleConfig::clamped`]); use
    /// [`RuntimeOpsLifecycleRegistry::try_with_config`] to refuse values out
    /// of range instead.
    pub fn with_config(config: OpsLifecycleConfig) -> Self {
        Self::with_lock(config)
    }

    /// A registry with `config`, refused if a value is out of its range.
    ///
    /// ```
    /// use oplife_shell::{ConfigError, OpsLifecycleConfig, RuntimeOpsLifecycleRegistry};
    ///
    /// let config = OpsLifecycleConfig { max_concurrent: Some(0), ..Default::default() };
    /// assert_eq!(RuntimeOpsLifecycleRegistry::try_with_config(config).err(), Some(ConfigError::MaxConcurrent));
    /// ```
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`OpsLifecycleConfig::validate`].
    pub fn try_with_config(config: OpsLifecycleConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self::with_lock(config))
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
    ///     operation_source: None,
    /// })?;
    /// let snapshot = old.capture()?; // `crawl` is still provisioning
    /// let restored = RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::default()).unwrap();
    /// assert_eq!(restored.snapshot(&id)?.unwrap().status, OperationStatus::Terminated);
    /// assert_eq!(restored.list_since(0)?.entries[0].id, id);
    /// # Ok::<(), oplife_shell::OpsLifecycleError>(())
    /// ```
    ///
    /// A snapshot is refused unless its parts agree (each rule has a test
    /// that forges a violation of it, `shell/tests/restore_refusals.rs`):
    /// - the format version is [`crate::SNAPSHOT_VERSION`];
    /// - the configuration is in range ([`OpsLifecycleConfig::validate`]);
    /// - one record per operation, in the same order, with the same id and
    ///   kind; one feed detail per feed entry, with the same sequence number;
    /// - operation ids are distinct and none is recorded `Absent`;
    /// - each terminal status has an outcome of its own variant, and no
    ///   other status has one;
    /// - only terminal operations are buffered; only kinds with a peer
    ///   channel are peer-ready;
    /// - the retained records are exactly the terminal operations, each
    ///   once, in the order their feed sequence numbers say they ended;
    /// - after owner termination no operation is live;
    /// - feed entries are consecutive up to the watermark, which is below
    ///   [`oplife_machine::MAX_WATERMARK`].
    ///
    /// # Errors
    ///
    /// [`SnapshotError::UnsupportedVersion`] for another format version;
    /// [`SnapshotError::InvalidConfig`] for a configuration out of range;
    /// [`SnapshotError::Inconsistent`] when the snapshot describes a state
    /// no registry can be in. Nothing is created then.
    pub fn restore(snapshot: RegistrySnapshot, policy: RestorePolicy) -> Result<Self, SnapshotError> {
        Self::restore_with_lock(snapshot, policy)
    }

    /// [`RuntimeOpsLifecycleRegistry::restore`], keeping the unfinished
    /// operations `keep` names as they are instead of ending them (see
    /// [`Retention`] for an example). A running wait on a detached job is
    /// kept without asking.
    ///
    /// # Errors
    ///
    /// As [`RuntimeOpsLifecycleRegistry::restore`], and
    /// [`SnapshotError::RetentionMismatch`] when the snapshot does not hold
    /// an operation `keep` names unfinished, of the kind and with the source
    /// it names. Nothing is created then.
    pub fn restore_keeping(
        snapshot: RegistrySnapshot,
        policy: RestorePolicy,
        keep: Vec<Retention>,
    ) -> Result<Self, SnapshotError> {
        Self::restore_keeping_with_lock(snapshot, policy, keep)
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
    /// Values out of range are clamped, as by
    /// [`RuntimeOpsLifecycleRegistry::with_config`].
    pub fn with_lock(config: OpsLifecycleConfig) -> Self {
        Self::from_state(RegistryState::new(config.clamped()))
    }

    pub(crate) fn from_state(state: RegistryState) -> Self {
        let watermark = Watermark::new(state.machine.state().feed().watermark());
        let events = Publisher::new(state.config.event_window());
        let dropped = state.dropped_watchers();
        crate::observe::describe();
        RuntimeOpsLifecycleRegistry { state: L::new(state), dropped, events, watermark, sampled: Sampled::new() }
    }

    /// The state behind the lock, after releasing the watchers whose watch
    /// was dropped since the last call (so every call, reads included, sees
    /// them released).
    pub(crate) fn lock(&self) -> Result<impl std::ops::DerefMut<Target = RegistryState> + '_, OpsLifecycleError> {
        let mut state = self.state.lock().map_err(|()| OpsLifecycleError::Poisoned)?;
        state.release_dropped_watchers();
        Ok(state)
    }

    /// The state behind the lock, shared with other readers. Watches
    /// dropped since the last call are released first, under the exclusive
    /// lock, as [`Self::lock`] does; reads then see them released.
    pub(crate) fn read(&self) -> Result<impl std::ops::Deref<Target = RegistryState> + '_, OpsLifecycleError> {
        if !self.dropped.is_empty() {
            drop(self.lock()?);
        }
        self.state.read().map_err(|()| OpsLifecycleError::Poisoned)
    }

    /// Reads every operation under the shared lock, in display-name order
    /// (registration order among equal names): `read` builds each answer
    /// from the operation as it is. Sorted as references, so each answer is
    /// built once, in place, and never moved by the sort.
    pub(crate) fn inspect_all<T>(&self, mut read: impl FnMut(Seen<'_>) -> T) -> Result<Vec<T>, OpsLifecycleError> {
        let state = self.read()?;
        let table = state.machine.lifecycle().table();
        let mut found: Vec<Seen<'_>> = state
            .machine
            .state()
            .operations()
            .filter_map(|(id, op)| state.records.get(id).map(|record| Seen { id: *id, op, record, table }))
            .collect();
        found.sort_by(|a, b| a.record.display_name.cmp(&b.record.display_name));
        Ok(found.into_iter().map(&mut read).collect())
    }

    /// Applies one request, then, with the lock released, waits for the
    /// sync that makes it durable (`Sync`) and delivers to watchers and
    /// waits.
    pub(crate) fn call(&self, request: Request<ShellDomain>, call: &mut Call) -> Result<(), OpsLifecycleError> {
        // Observers hear of the call outside the lock: its span is entered
        // before, its events emitted after (nothing without the features).
        let (signals, noted) = CallSignals::begin(&request);
        let mut deliveries = Deliveries::noting(noted);
        let result = self.call_locked(request, call, &mut deliveries);
        signals.end(&result, &deliveries.noted, &self.sampled);
        if self.sampled.due() {
            let _ = self.publish_sampled();
        }
        result
    }

    /// [`Self::call`] under the lock, then what it delivers once the lock
    /// is released.
    fn call_locked(
        &self,
        request: Request<ShellDomain>,
        call: &mut Call,
        deliveries: &mut Deliveries,
    ) -> Result<(), OpsLifecycleError> {
        let mut state = self.lock()?;
        let at = if self.events.listening() { At::heard() } else { At::quietly() };
        state.apply(request, call, at, deliveries)?;
        let events = deliveries.take_events();
        let publish = !events.is_empty();
        if publish {
            let state = &mut *state;
            self.events.enqueue(&mut state.next_event, events);
        }
        drop(state);
        if let Some(synced) = deliveries.synced.take() {
            synced.wait().map_err(OpsLifecycleError::Store)?;
        }
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

    /// Counts the registry under the shared lock, then publishes its
    /// metrics with no lock held.
    fn publish_sampled(&self) -> Result<(), OpsLifecycleError> {
        let counts = Counts::of(self.read()?.machine.state());
        self.sampled.publish(counts);
        Ok(())
    }

    /// Publishes the registry's metrics now (feature `metrics`): the
    /// counters it tallied since the last publication, and its gauges
    /// sampled from its state. Calls publish at most every 100 ms by
    /// themselves; this is for a scrape that must see the latest, or a
    /// registry that sits idle. `docs/OBSERVABILITY.md` lists the metrics.
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn publish_metrics(&self) -> Result<(), OpsLifecycleError> {
        self.publish_sampled()
    }

    pub(crate) fn simple(&self, request: Request<ShellDomain>) -> Result<(), OpsLifecycleError> {
        self.call(request, &mut Call::Plain)
    }

    /// What callers hold on this registry: pending watchers, pending
    /// `wait_all` requests, event subscriptions and watermark waits. Each
    /// is released when its handle (the watch or its `wait` future, the
    /// `wait_all` future, the subscription, the `wait_for_watermark`
    /// future) is dropped; a dropped watch is released at the registry's
    /// next call, this one included.
    ///
    /// ```
    /// use oplife_shell::{OperationId, OperationKind, OperationSpec, OpsLifecycleRegistry, RuntimeOpsLifecycleRegistry, SessionId};
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let id = OperationId::new();
    /// registry.register_operation(OperationSpec {
    ///     id,
    ///     kind: OperationKind::BackgroundToolOp,
    ///     owner_session_id: SessionId::new(),
    ///     display_name: "poll".into(),
    ///     source_label: "tool".into(),
    ///     child_session_id: None,
    ///     expect_peer_channel: false,
    ///     operation_source: None,
    /// })?;
    /// for _ in 0..1000 {
    ///     drop(registry.register_watcher(&id)?); // a status poll
    /// }
    /// assert_eq!(registry.held()?.watchers, 0);
    /// assert_eq!(registry.snapshot(&id)?.unwrap().watcher_count, 0);
    /// # Ok::<(), oplife_shell::OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn held(&self) -> Result<HeldHandles, OpsLifecycleError> {
        let state = self.read()?;
        let machine = state.machine.state();
        Ok(HeldHandles {
            watchers: machine.operations().map(|(_, op)| op.watcher_count() as usize).sum(),
            waits: machine.pending_waits().count(),
            event_subscriptions: self.events.subscribers(),
            watermark_waits: self.watermark.waiters(),
        })
    }

    /// Whether the registry's owner may still change it: open, sealed (a
    /// newer owner took its durable store over; only reads and dropping
    /// watches and waits are admitted), or retired (the owner terminated;
    /// no operation can be registered). Read from the registry phase the
    /// table moves.
    ///
    /// ```
    /// use oplife_shell::{OpsLifecycleRegistry, OwnerState, RuntimeOpsLifecycleRegistry};
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// assert_eq!(registry.owner_state()?, OwnerState::Open);
    /// registry.terminate_owner("session closed".into())?;
    /// assert_eq!(registry.owner_state()?, OwnerState::Retired);
    /// # Ok::<(), oplife_shell::OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn owner_state(&self) -> Result<OwnerState, OpsLifecycleError> {
        Ok(match self.read()?.machine.state().phase() {
            Phase::Open => OwnerState::Open,
            Phase::OwnerTerminated => OwnerState::Retired,
            Phase::Sealed => OwnerState::Sealed,
        })
    }

    /// How many `wait_all` requests are pending.
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn pending_waits(&self) -> Result<usize, OpsLifecycleError> {
        Ok(self.read()?.machine.state().pending_waits().count())
    }

    /// Subscribes to every operation event of the transitions made from now
    /// on, in order.
    ///
    /// A subscriber that falls more than
    /// [`OpsLifecycleConfig::event_window`] events behind (`event_capacity`
    /// rounded up to a power of two) receives an
    /// [`crate::ObservedEvent::Gap`] with the exact number it missed;
    /// publishing never waits for a subscriber.
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
    ///     operation_source: None,
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
    /// before the first operation ends). It is read without the lock: every
    /// call that returned has published its entries, and a call still
    /// returning may not have yet.
    ///
    /// # Errors
    ///
    /// None today; the `Result` keeps the signature of the other reads.
    pub fn feed_watermark(&self) -> Result<u64, OpsLifecycleError> {
        Ok(self.watermark.get())
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
        let state = self.read()?;
        Ok(state.feed_details.page(state.machine.state().feed(), &state.records, seq))
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
    ///     operation_source: None,
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

    pub(crate) fn cancel_wait(&self, wait: WaitRequestId) {
        // An error means the wait was already satisfied (its result is in
        // the dropped channel) or the lock is poisoned: either way there is
        // nothing left to cancel, and a drop cannot report anything.
        let _ = self.call(Request::CancelWait { wait }, &mut Call::Plain);
    }
}
