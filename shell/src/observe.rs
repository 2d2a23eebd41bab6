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
use crate::state::RegistryState;
use crate::types::ShellDomain;

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
    /// counters.
    #[inline]
    pub(crate) fn end(self, result: &Result<(), OpsLifecycleError>, noted: &Noted) {
        #[cfg(not(any(feature = "tracing", feature = "metrics")))]
        let _ = (result, noted);
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
            if let Some(StoreError::Fenced { epoch, current }) = &noted.fenced {
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
            for (input, count) in Input::ALL.iter().zip(noted.fired) {
                if count > 0 {
                    metrics::counter!("oplife_transitions_total", "input" => input.name()).increment(u64::from(count));
                }
            }
            match result {
                Ok(()) => {}
                Err(OpsLifecycleError::Refused(refusal)) => {
                    metrics::counter!("oplife_refusals_total", "error" => refusal.kind().name()).increment(1);
                }
                Err(_) => metrics::counter!("oplife_store_failures_total").increment(1),
            }
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
    /// The rows fired, by input (cascades included), when they are
    /// counted.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    fired: [u32; Input::ALL.len()],
    /// The store refused a write as fenced: the registry sealed.
    #[cfg(feature = "tracing")]
    fenced: Option<StoreError>,
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
    pub(crate) fn before(&mut self, state: &RegistryState, request: &Request<ShellDomain>) {
        #[cfg(feature = "tracing")]
        if let Some(statuses) = &mut self.statuses {
            statuses.0 = status_of(state, request);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (state, request);
    }

    /// Notes the operation's status after the call's transition.
    #[inline]
    pub(crate) fn after(&mut self, state: &RegistryState, id: Option<&crate::types::OperationId>) {
        #[cfg(feature = "tracing")]
        if let Some(statuses) = &mut self.statuses {
            statuses.1 = id.and_then(|id| state.machine.state().operation(id)).map(oplife_machine::Operation::status);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (state, id);
    }

    /// Notes a row of `input` fired.
    #[inline]
    pub(crate) fn fired(&mut self, input: Input) {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        if let Some(count) = self.fired.get_mut(input.index()) {
            *count = count.saturating_add(1);
        }
        #[cfg(not(any(feature = "tracing", feature = "metrics")))]
        let _ = input;
    }

    /// Notes the store refused the call's write.
    #[inline]
    pub(crate) fn store_failed(&mut self, error: &StoreError) {
        #[cfg(feature = "tracing")]
        if matches!(error, StoreError::Fenced { .. }) {
            self.fenced = Some(error.clone());
        }
        #[cfg(not(feature = "tracing"))]
        let _ = error;
    }

    #[cfg(feature = "tracing")]
    fn transitions(&self) -> u32 {
        self.fired.iter().sum()
    }
}

#[cfg(feature = "tracing")]
fn status_of(state: &RegistryState, request: &Request<ShellDomain>) -> Option<Status> {
    request.operation().and_then(|id| state.machine.state().operation(id)).map(oplife_machine::Operation::status)
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

/// A durable registry recovered: the image it resumed, the records
/// replayed, the torn tail cut and the operations the old process lost.
#[cfg(feature = "durable")]
#[inline]
pub(crate) fn recovered(report: &crate::durable::RecoveryReport) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        oplife.recovery.image_upto = report.image_upto,
        oplife.recovery.replayed = report.replayed,
        oplife.recovery.cut = report.cut.as_ref().map(|cut| cut.seq),
        oplife.recovery.cut_reason = report.cut.as_ref().map(|cut| cut.reason.as_str()),
        oplife.recovery.ended = report.lost,
        "recovered"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = report;
}

/// The sampled gauges of one registry: what it last published, so that a
/// refresh moves each gauge by the difference and the gauges of many
/// registries add up.
#[derive(Debug, Default)]
pub(crate) struct Gauges {
    #[cfg(feature = "metrics")]
    published: std::sync::Mutex<Published>,
}

#[cfg(feature = "metrics")]
#[derive(Debug, Default)]
struct Published {
    counts: Counts,
    at: Option<std::time::Instant>,
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
    /// Counts `state` (one pass over its operations).
    pub(crate) fn of(state: &RegistryState) -> Counts {
        use oplife_spec::OperationKind;
        let machine = state.machine.state();
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

impl Gauges {
    /// Whether the calls should refresh the gauges now (every
    /// [`GAUGES_EVERY`] at most); never without the `metrics` feature.
    #[inline]
    pub(crate) fn due(&self) -> bool {
        #[cfg(feature = "metrics")]
        return self
            .published
            .lock()
            .map(|published| published.at.is_none_or(|at| at.elapsed() >= GAUGES_EVERY))
            .unwrap_or(false);
        #[cfg(not(feature = "metrics"))]
        false
    }

    /// Moves every gauge to `counts` (called with no lock of the
    /// registry's held).
    pub(crate) fn publish(&self, counts: Counts) {
        #[cfg(feature = "metrics")]
        if let Ok(mut published) = self.published.lock() {
            let before = std::mem::replace(&mut published.counts, counts.clone());
            published.at = Some(std::time::Instant::now());
            drop(published);
            move_gauges(&before, &counts);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = counts;
    }
}

impl Drop for Gauges {
    /// A registry dropped takes its share out of the gauges.
    fn drop(&mut self) {
        #[cfg(feature = "metrics")]
        if let Ok(published) = self.published.get_mut() {
            move_gauges(&published.counts, &Counts::default());
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
