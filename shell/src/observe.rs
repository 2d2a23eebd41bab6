//! What the registry tells observers: spans and events through `tracing`
//! (feature `tracing`) and counters, gauges and histograms through the
//! `metrics` facade (feature `metrics`). Without either feature every item
//! here is empty and every call a no-op.
//!
//! A subscriber and a recorder are the application's code, so none of it
//! runs while the registry's lock is held: a call's span is entered before
//! the lock is taken, what observers are told is noted under the lock
//! ([`Noted`], reading the state, emitting nothing), and emitted once the
//! lock is released. The journal's commits are reported by the thread that
//! made them, which holds no lock of the registry's.
//!
//! The names, fields and units are listed in `docs/OBSERVABILITY.md`.

use oplife_machine::Request;
use oplife_spec::{Input, Status};

use crate::error::{OpsLifecycleError, StoreError};
use crate::types::ShellDomain;

/// The machine's state, as observers read it.
type MachineState = oplife_machine::State<ShellDomain>;

/// How often the sampled gauges are refreshed at most, by the calls.
#[cfg(feature = "metrics")]
const GAUGES_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Describes every metric to the recorder (its unit and meaning), once per
/// process, when the first registry is made.
#[inline]
pub(crate) fn describe() {
    #[cfg(feature = "metrics")]
    {
        static DESCRIBED: std::sync::Once = std::sync::Once::new();
        DESCRIBED.call_once(|| {
            use metrics::Unit;
            metrics::describe_counter!(
                "oplife_transitions_total",
                Unit::Count,
                "Rows fired, by input (cascades included)."
            );
            metrics::describe_counter!("oplife_refusals_total", Unit::Count, "Calls refused, by error kind.");
            metrics::describe_counter!("oplife_store_failures_total", Unit::Count, "Calls the store failed.");
            metrics::describe_gauge!("oplife_operations", Unit::Count, "Operations held, by kind and status.");
            metrics::describe_gauge!("oplife_pending_watchers", Unit::Count, "Watchers waiting for an end.");
            metrics::describe_gauge!("oplife_pending_waits", Unit::Count, "wait_all requests pending.");
            metrics::describe_gauge!("oplife_feed_retained", Unit::Count, "Completion feed entries retained.");
            metrics::describe_histogram!(
                "oplife_journal_commit_seconds",
                Unit::Seconds,
                "Time of one journal commit (Batched) or group sync (Sync)."
            );
            metrics::describe_histogram!(
                "oplife_journal_group_size",
                Unit::Count,
                "Journal records one commit or group sync made durable."
            );
        });
    }
}

/// One call as observers see it: begun before the lock is taken (its span
/// entered), ended after the lock is released (its events emitted).
#[must_use]
pub(crate) struct CallSignals {
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    input: Input,
    #[cfg(feature = "tracing")]
    span: tracing::span::EnteredSpan,
}

impl CallSignals {
    /// Before the lock: enters the call's span (`oplife.call`, with its
    /// input and operation id).
    #[inline]
    pub(crate) fn begin(request: &Request<ShellDomain>) -> (CallSignals, Noted) {
        #[cfg(not(any(feature = "tracing", feature = "metrics")))]
        let _ = request;
        #[cfg(feature = "tracing")]
        let detail = tracing::enabled!(tracing::Level::DEBUG);
        let signals = CallSignals {
            #[cfg(any(feature = "tracing", feature = "metrics"))]
            input: request.input(),
            #[cfg(feature = "tracing")]
            span: match request.operation() {
                Some(id) => tracing::debug_span!(
                    "oplife.call",
                    oplife.input = request.input().name(),
                    oplife.operation.id = %id
                ),
                None => tracing::debug_span!("oplife.call", oplife.input = request.input().name()),
            }
            .entered(),
        };
        #[cfg_attr(not(feature = "tracing"), allow(unused_mut))]
        let mut noted = Noted::default();
        #[cfg(feature = "tracing")]
        if detail {
            noted.statuses = Some((None, None));
        }
        (signals, noted)
    }

    /// After the lock is released: the transition or the refusal, and the
    /// counts `sampled` tallies for the next publication.
    #[inline]
    pub(crate) fn end(self, result: &Result<(), OpsLifecycleError>, noted: &Noted, sampled: &Sampled) {
        #[cfg(not(any(feature = "tracing", feature = "metrics")))]
        let _ = (result, noted);
        #[cfg(not(feature = "metrics"))]
        let _ = sampled;
        #[cfg(feature = "tracing")]
        {
            match result {
                Ok(()) => {
                    if let Some((from, to)) = noted.statuses {
                        tracing::debug!(
                            oplife.input = self.input.name(),
                            oplife.from = from.map(Status::name),
                            oplife.to = to.map(Status::name),
                            oplife.transitions = noted.transitions(),
                            "transition"
                        );
                    }
                }
                Err(OpsLifecycleError::Refused(refusal)) => tracing::debug!(
                    oplife.input = self.input.name(),
                    error.type = refusal.kind().name(),
                    oplife.retry = refusal.retry().name(),
                    "refused"
                ),
                Err(error) => {
                    tracing::error!(oplife.input = self.input.name(), error.type = "store", error.message = %error, "call failed");
                }
            }
            if let Some((epoch, current)) = noted.fenced {
                tracing::warn!(
                    oplife.epoch = epoch,
                    oplife.current_epoch = current,
                    "fenced: a newer owner holds the store, and the registry is sealed"
                );
            }
            drop(self.span);
        }
        #[cfg(feature = "metrics")]
        {
            sampled.tally(result, noted);
            let _ = self.input;
        }
    }
}

/// What a call noted under the lock for its observers, emitting nothing.
#[derive(Debug, Default)]
pub(crate) struct Noted {
    /// The operation's status before and after, when debug events are on.
    #[cfg(feature = "tracing")]
    statuses: Option<(Option<Status>, Option<Status>)>,
    /// The rows fired (cascades included), when they are counted.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    fired: Fired,
    /// The store refused a write as fenced (this owner's epoch, the
    /// store's): the registry sealed.
    #[cfg(feature = "tracing")]
    fenced: Option<(u64, u64)>,
}

/// The inputs of the rows one call fired: the first few inline, a list
/// only for a cascade over many operations.
#[derive(Debug, Default)]
pub(crate) struct Fired {
    first: [Option<Input>; 4],
    more: Vec<Input>,
}

impl Fired {
    /// Notes a row of `input`.
    #[inline]
    pub(crate) fn push(&mut self, input: Input) {
        match self.first.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(input),
            None => self.more.push(input),
        }
    }

    /// Each input fired, with how many rows of it fired in a row.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    fn runs(&self) -> impl Iterator<Item = (Input, u64)> + '_ {
        let mut all = self.first.iter().flatten().chain(&self.more).copied().peekable();
        std::iter::from_fn(move || {
            let input = all.next()?;
            let mut count = 1;
            while all.next_if_eq(&input).is_some() {
                count += 1;
            }
            Some((input, count))
        })
    }
}

impl Noted {
    /// Whether rows fired are counted (their inputs are looked up): for
    /// the metrics, and for a debug event.
    #[inline]
    pub(crate) fn counts_rows(&self) -> bool {
        #[cfg(feature = "tracing")]
        if self.statuses.is_some() {
            return true;
        }
        cfg!(feature = "metrics")
    }

    /// Notes the operation's status before the call's transition.
    #[inline]
    pub(crate) fn before(&mut self, state: &MachineState, request: &Request<ShellDomain>) {
        #[cfg(feature = "tracing")]
        if let Some(statuses) = &mut self.statuses {
            statuses.0 = status_of(state, request);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (state, request);
    }

    /// Notes the operation's status after the call's transition.
    #[inline]
    pub(crate) fn after(&mut self, state: &MachineState, id: Option<&crate::types::OperationId>) {
        #[cfg(feature = "tracing")]
        if let Some(statuses) = &mut self.statuses {
            statuses.1 = id.and_then(|id| state.operation(id)).map(oplife_machine::Operation::status);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (state, id);
    }

    /// Notes the rows the call fired.
    #[inline]
    pub(crate) fn fired(&mut self, fired: Fired) {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        {
            self.fired = fired;
        }
        #[cfg(not(any(feature = "tracing", feature = "metrics")))]
        let _ = fired;
    }

    /// Notes the store refused the call's write.
    #[inline]
    pub(crate) fn store_failed(&mut self, error: &StoreError) {
        #[cfg(feature = "tracing")]
        if let StoreError::Fenced { epoch, current } = error {
            self.fenced = Some((*epoch, *current));
        }
        #[cfg(not(feature = "tracing"))]
        let _ = error;
    }

    #[cfg(feature = "tracing")]
    fn transitions(&self) -> u64 {
        self.fired.runs().map(|(_, count)| count).sum()
    }
}

#[cfg(feature = "tracing")]
fn status_of(state: &MachineState, request: &Request<ShellDomain>) -> Option<Status> {
    request.operation().and_then(|id| state.operation(id)).map(oplife_machine::Operation::status)
}

/// A group of journal records made durable (or not) by one commit or
/// sync, reported by the thread that made it.
#[cfg(feature = "durable")]
#[inline]
pub(crate) fn journal_committed(records: u64, took: std::time::Duration, failed: Option<&StoreError>) {
    #[cfg(not(any(feature = "tracing", feature = "metrics")))]
    let _ = (records, took, failed);
    #[cfg(feature = "tracing")]
    match failed {
        None => tracing::trace!(
            oplife.journal.records = records,
            oplife.journal.seconds = took.as_secs_f64(),
            "journal committed"
        ),
        Some(error) => tracing::error!(
            oplife.journal.records = records,
            error.type = "store",
            error.message = %error,
            "journal commit failed"
        ),
    }
    #[cfg(feature = "metrics")]
    {
        metrics::histogram!("oplife_journal_commit_seconds").record(took.as_secs_f64());
        #[allow(clippy::cast_precision_loss)] // a group is far below 2^52 records
        metrics::histogram!("oplife_journal_group_size").record(records as f64);
    }
}

/// What a durable registry's recovery did.
#[cfg(feature = "durable")]
#[cfg_attr(not(feature = "tracing"), allow(dead_code))] // read by the event only
pub(crate) struct Recovery<'a> {
    /// The last journal record the image it resumed includes.
    pub(crate) image_upto: u64,
    /// Journal records replayed after it.
    pub(crate) replayed: u64,
    /// The torn tail cut, if any: its position and why.
    pub(crate) cut: Option<(u64, &'a str)>,
    /// Operations the old process lost, ended on reopening.
    pub(crate) ended: usize,
}

/// A durable registry recovered.
#[cfg(feature = "durable")]
#[inline]
pub(crate) fn recovered(recovery: &Recovery<'_>) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        oplife.recovery.image_upto = recovery.image_upto,
        oplife.recovery.replayed = recovery.replayed,
        oplife.recovery.cut = recovery.cut.map(|(seq, _)| seq),
        oplife.recovery.cut_reason = recovery.cut.map(|(_, reason)| reason),
        oplife.recovery.ended = recovery.ended,
        "recovered"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = recovery;
}

/// One registry's metrics between publications: the counters it tallied
/// since the last (atomics, so a call records without a lock or the
/// recorder), and the gauges it last showed, so that a publication moves
/// each gauge by the difference and the gauges of many registries add up.
/// Calls publish at most every [`GAUGES_EVERY`], checked against the CPU's
/// counter; [`crate::RuntimeOpsLifecycleRegistry::publish_metrics`] at once.
#[derive(Debug)]
pub(crate) struct Sampled {
    #[cfg(feature = "metrics")]
    published: std::sync::Mutex<Counts>,
    /// The raw counter reading of the last publication (0: none yet).
    #[cfg(feature = "metrics")]
    refreshed: std::sync::atomic::AtomicU64,
    #[cfg(feature = "metrics")]
    clock: quanta::Clock,
    /// Rows fired by input since the last publication.
    #[cfg(feature = "metrics")]
    transitions: Vec<std::sync::atomic::AtomicU64>,
    /// Refusals by error kind since the last publication.
    #[cfg(feature = "metrics")]
    refusals: Vec<std::sync::atomic::AtomicU64>,
    #[cfg(feature = "metrics")]
    store_failures: std::sync::atomic::AtomicU64,
}

/// What the gauges count, read under the registry's shared lock.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Counts {
    /// Operations by kind and status.
    operations: Vec<u64>,
    watchers: u64,
    waits: u64,
    feed: u64,
}

impl Counts {
    /// Counts `machine` (one pass over its operations).
    pub(crate) fn of(machine: &MachineState) -> Counts {
        use oplife_spec::OperationKind;
        let mut operations = vec![0; OperationKind::ALL.len() * Status::ALL.len()];
        let mut watchers = 0;
        for (_, op) in machine.operations() {
            if let Some(count) = operations.get_mut(op.kind().index() * Status::ALL.len() + op.status().index()) {
                *count += 1;
            }
            watchers += u64::from(op.watcher_count());
        }
        Counts {
            operations,
            watchers,
            waits: machine.pending_waits().count() as u64,
            feed: machine.feed().entries().len() as u64,
        }
    }
}

impl Sampled {
    /// A registry's metrics, nothing tallied or published yet.
    pub(crate) fn new() -> Sampled {
        #[cfg(feature = "metrics")]
        {
            let zeros = |n: usize| (0..n).map(|_| std::sync::atomic::AtomicU64::new(0)).collect();
            Sampled {
                published: std::sync::Mutex::default(),
                refreshed: std::sync::atomic::AtomicU64::new(0),
                clock: crate::record::calibrated(),
                transitions: zeros(Input::ALL.len()),
                refusals: zeros(oplife_spec::ErrorKind::ALL.len()),
                store_failures: std::sync::atomic::AtomicU64::new(0),
            }
        }
        #[cfg(not(feature = "metrics"))]
        Sampled {}
    }

    /// Tallies one call: the rows it fired, its refusal or store failure.
    #[cfg(feature = "metrics")]
    fn tally(&self, result: &Result<(), OpsLifecycleError>, noted: &Noted) {
        use std::sync::atomic::Ordering::Relaxed;
        for (input, count) in noted.fired.runs() {
            if let Some(tally) = self.transitions.get(input.index()) {
                tally.fetch_add(count, Relaxed);
            }
        }
        match result {
            Ok(()) => {}
            Err(OpsLifecycleError::Refused(refusal)) => {
                let at = oplife_spec::ErrorKind::ALL.iter().position(|kind| *kind == refusal.kind());
                if let Some(tally) = at.and_then(|at| self.refusals.get(at)) {
                    tally.fetch_add(1, Relaxed);
                }
            }
            Err(_) => {
                self.store_failures.fetch_add(1, Relaxed);
            }
        }
    }

    /// Whether the calls should publish now (every [`GAUGES_EVERY`] at
    /// most); never without the `metrics` feature.
    #[inline]
    pub(crate) fn due(&self) -> bool {
        #[cfg(feature = "metrics")]
        {
            let last = self.refreshed.load(std::sync::atomic::Ordering::Relaxed);
            last == 0 || self.clock.delta_as_nanos(last, self.clock.raw()) >= GAUGES_EVERY.as_nanos() as u64
        }
        #[cfg(not(feature = "metrics"))]
        false
    }

    /// Publishes: the counters tallied since the last publication, and
    /// every gauge moved to `counts` (called with no lock of the registry's
    /// held).
    pub(crate) fn publish(&self, counts: Counts) {
        #[cfg(feature = "metrics")]
        if let Ok(mut published) = self.published.lock() {
            self.refreshed.store(self.clock.raw().max(1), std::sync::atomic::Ordering::Relaxed);
            let before = std::mem::replace(&mut *published, counts.clone());
            drop(published);
            self.flush_counters();
            move_gauges(&before, &counts);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = counts;
    }

    /// Adds the tallies to the counters, and zeroes them.
    #[cfg(feature = "metrics")]
    fn flush_counters(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        for (input, tally) in Input::ALL.iter().zip(&self.transitions) {
            let count = tally.swap(0, Relaxed);
            if count > 0 {
                metrics::counter!("oplife_transitions_total", "input" => input.name()).increment(count);
            }
        }
        for (kind, tally) in oplife_spec::ErrorKind::ALL.iter().zip(&self.refusals) {
            let count = tally.swap(0, Relaxed);
            if count > 0 {
                metrics::counter!("oplife_refusals_total", "error" => kind.name()).increment(count);
            }
        }
        let failures = self.store_failures.swap(0, Relaxed);
        if failures > 0 {
            metrics::counter!("oplife_store_failures_total").increment(failures);
        }
    }
}

impl Drop for Sampled {
    /// A registry dropped publishes what it tallied and takes its share
    /// out of the gauges.
    fn drop(&mut self) {
        #[cfg(feature = "metrics")]
        {
            self.flush_counters();
            if let Ok(published) = self.published.get_mut() {
                move_gauges(published, &Counts::default());
            }
        }
    }
}

/// Moves each gauge by `to - from`.
#[cfg(feature = "metrics")]
#[allow(clippy::cast_precision_loss)] // counts are far below 2^52
fn move_gauges(from: &Counts, to: &Counts) {
    use oplife_spec::OperationKind;
    let delta = |from: u64, to: u64| to as f64 - from as f64;
    for (k, kind) in OperationKind::ALL.iter().enumerate() {
        for (s, status) in Status::ALL.iter().enumerate() {
            let at = k * Status::ALL.len() + s;
            let (before, after) =
                (from.operations.get(at).copied().unwrap_or(0), to.operations.get(at).copied().unwrap_or(0));
            if before != after {
                metrics::gauge!("oplife_operations", "kind" => kind.name(), "status" => status.name())
                    .increment(delta(before, after));
            }
        }
    }
    if from.watchers != to.watchers {
        metrics::gauge!("oplife_pending_watchers").increment(delta(from.watchers, to.watchers));
    }
    if from.waits != to.waits {
        metrics::gauge!("oplife_pending_waits").increment(delta(from.waits, to.waits));
    }
    if from.feed != to.feed {
        metrics::gauge!("oplife_feed_retained").increment(delta(from.feed, to.feed));
    }
}
