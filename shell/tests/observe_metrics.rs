//! Every metric `docs/OBSERVABILITY.md` lists is recorded, with its
//! labels, on the path that should record it, and none while the
//! registry's lock is held: the global recorder is the metrics project's
//! debugging recorder behind one that checks, per registration, whether
//! the thread holds the lock (the registry runs under a lock that flags it).
//!
//! One test: the recorder is global, and the counts are exact.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Flagged, HELD, background_spec, result};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use oplife_shell::{
    Durability, DurableOptions, MemoryStore, OpsLifecycleConfig, OpsLifecycleRegistry, RunId,
    RuntimeOpsLifecycleRegistry, StoreError,
};

/// Registrations made while the thread held the registry's lock.
static UNDER_LOCK: AtomicUsize = AtomicUsize::new(0);

/// The debugging recorder, counting registrations made under the lock.
struct Checked(DebuggingRecorder);

impl Checked {
    fn check(&self) {
        if HELD.with(std::cell::Cell::get) {
            UNDER_LOCK.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Recorder for Checked {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_counter(key, unit, description);
    }
    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_gauge(key, unit, description);
    }
    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_histogram(key, unit, description);
    }
    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.check();
        self.0.register_counter(key, metadata)
    }
    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.check();
        self.0.register_gauge(key, metadata)
    }
    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.check();
        self.0.register_histogram(key, metadata)
    }
}

/// Each metric by name and sorted labels.
type Values = HashMap<(String, Vec<(String, String)>), DebugValue>;

/// What was recorded since the last snapshot (counters and gauges are
/// reset by a snapshot: gauges here move by differences, so the sum of
/// their snapshots is their value).
fn recorded(snapshotter: &Snapshotter) -> Values {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let mut labels: Vec<(String, String)> =
                key.key().labels().map(|l| (l.key().to_owned(), l.value().to_owned())).collect();
            labels.sort();
            ((key.key().name().to_owned(), labels), value)
        })
        .collect()
}

fn counter(values: &Values, name: &str, labels: &[(&str, &str)]) -> u64 {
    let key = (name.to_owned(), labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
    match values.get(&key) {
        Some(DebugValue::Counter(n)) => *n,
        None => 0,
        Some(other) => panic!("{name} is not a counter: {other:?}"),
    }
}

fn gauge(values: &Values, name: &str, labels: &[(&str, &str)]) -> f64 {
    let key = (name.to_owned(), labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
    match values.get(&key) {
        Some(DebugValue::Gauge(value)) => value.into_inner(),
        None => 0.0,
        Some(other) => panic!("{name} is not a gauge: {other:?}"),
    }
}

fn samples(values: &Values, name: &str) -> usize {
    match values.get(&(name.to_owned(), Vec::new())) {
        Some(DebugValue::Histogram(samples)) => samples.len(),
        None => 0,
        Some(other) => panic!("{name} is not a histogram: {other:?}"),
    }
}

#[test]
fn transitions_refusals_gauges_and_journal_commits_are_recorded_after_the_lock() {
    let debugging = DebuggingRecorder::new();
    let snapshotter = debugging.snapshotter();
    metrics::set_global_recorder(Checked(debugging)).unwrap();

    // Transitions by input (cascades included) and refusals by kind.
    let config = OpsLifecycleConfig { max_completed: 2, ..OpsLifecycleConfig::default() };
    let registry = RuntimeOpsLifecycleRegistry::<Flagged>::with_lock(config);
    let mut ids = Vec::new();
    for n in 0..5 {
        let spec = background_spec(&format!("op {n}"));
        let id = spec.id;
        registry.register_operation(spec).unwrap();
        registry.provisioning_succeeded(&id).unwrap();
        registry.complete_operation(&id, result(id, "done")).unwrap();
        ids.push(id);
    }
    registry.provisioning_succeeded(&ids[4]).unwrap_err();
    registry.complete_operation(&ids[4], result(ids[4], "other")).unwrap_err();
    // Calls tally their counts and publish at most every 100 ms: the
    // first call published at once, the rest wait for the next.
    registry.publish_metrics().unwrap();
    let values = recorded(&snapshotter);
    assert_eq!(counter(&values, "oplife_transitions_total", &[("input", "register_operation")]), 5);
    assert_eq!(counter(&values, "oplife_transitions_total", &[("input", "provisioning_succeeded")]), 5);
    assert_eq!(counter(&values, "oplife_transitions_total", &[("input", "complete_operation")]), 5);
    let evicted = counter(&values, "oplife_transitions_total", &[("input", "evict (cascade)")]);
    assert_eq!(evicted, 3, "five completed, two retained: {values:#?}");
    assert_eq!(counter(&values, "oplife_refusals_total", &[("error", "InvalidTransition")]), 2);
    let mut gauges = values;

    // The sampled gauges: operations by kind and status, pending watchers
    // and waits, feed entries retained.
    let running = background_spec("running");
    let running_id = running.id;
    registry.register_operation(running).unwrap();
    registry.provisioning_succeeded(&running_id).unwrap();
    let _watch = registry.register_watcher(&running_id).unwrap();
    let _wait = registry.wait_all(&RunId::new(), &[running_id]);
    // Past 100 ms, a call publishes by itself.
    std::thread::sleep(Duration::from_millis(150));
    registry.register_operation(background_spec("provisioning")).unwrap();
    for (key, value) in recorded(&snapshotter) {
        if let (DebugValue::Gauge(add), Some(DebugValue::Gauge(sum))) = (&value, gauges.get_mut(&key)) {
            *sum = (sum.into_inner() + add.into_inner()).into();
        } else {
            gauges.insert(key, value);
        }
    }
    let of = |status: &str| gauge(&gauges, "oplife_operations", &[("kind", "BackgroundToolOp"), ("status", status)]);
    assert_eq!((of("Completed"), of("Running"), of("Provisioning")), (2.0, 1.0, 1.0), "{gauges:#?}");
    assert_eq!(gauge(&gauges, "oplife_pending_watchers", &[]), 1.0);
    assert_eq!(gauge(&gauges, "oplife_pending_waits", &[]), 1.0);
    let feed = registry.list_since(0).unwrap().entries.len() as f64;
    assert_eq!(gauge(&gauges, "oplife_feed_retained", &[]), feed);
    drop(_watch);
    drop(_wait);
    drop(registry);
    // A registry dropped takes its share out of the gauges.
    let after = recorded(&snapshotter);
    let left = gauge(&after, "oplife_operations", &[("kind", "BackgroundToolOp"), ("status", "Completed")]);
    assert_eq!(of("Completed") + left, 0.0, "{after:#?}");

    // Journal commits: their latency and group size, from a `Sync` group
    // sync and a `Batched` group commit; store failures.
    for durability in [Durability::Sync, Durability::Batched] {
        let store = MemoryStore::new();
        let options = DurableOptions { durability, ..DurableOptions::default() };
        let (durable, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), options).unwrap();
        durable.register_operation(background_spec("journaled")).unwrap();
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(durable.flush()).unwrap();
        let values = recorded(&snapshotter);
        assert!(samples(&values, "oplife_journal_commit_seconds") >= 1, "{durability:?}: {values:#?}");
        assert!(samples(&values, "oplife_journal_group_size") >= 1, "{durability:?}");
        if durability == Durability::Sync {
            store.fail_writes(StoreError::Full);
            durable.register_operation(background_spec("refused")).unwrap_err();
            durable.publish_metrics().unwrap();
            assert_eq!(counter(&recorded(&snapshotter), "oplife_store_failures_total", &[]), 1);
        }
    }
    assert_eq!(UNDER_LOCK.load(Ordering::SeqCst), 0, "metrics recorded under the registry's lock");
}
