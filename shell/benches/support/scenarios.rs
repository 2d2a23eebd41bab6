//! Scenarios S1 to S6 over any [`Subject`]: the registry and the floor run
//! the same code, with the same ids and payloads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oplife_shell::{
    OperationId, OperationKind, OperationResult, OperationSpec, OperationStatus, OpsLifecycleConfig,
    OpsLifecycleRegistry, RunId, RuntimeOpsLifecycleRegistry, SessionId,
};

use crate::floor::Floor;

/// What a scenario needs of a registry.
pub trait Subject: Send + Sync + 'static {
    /// A fresh one retaining `max_completed` terminal records.
    fn fresh(max_completed: usize) -> Self;
    fn register(&self, spec: OperationSpec);
    fn start(&self, id: &OperationId);
    fn complete(&self, id: &OperationId, result: OperationResult);
    /// Registers a watcher, completes, and waits for the watcher.
    fn watch_complete(&self, id: &OperationId, result: OperationResult, runtime: &tokio::runtime::Runtime);
    /// Begins a wait over `ids`, completes each, and awaits the wait.
    fn wait_complete_all(&self, ids: &[OperationId], runtime: &tokio::runtime::Runtime);
    fn terminate_owner(&self);
    fn list_len(&self) -> usize;
    /// The status of `id`, read through a snapshot.
    fn status(&self, id: &OperationId) -> OperationStatus;
}

impl Subject for RuntimeOpsLifecycleRegistry {
    fn fresh(max_completed: usize) -> Self {
        RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
            max_completed,
            max_concurrent: None,
            ..OpsLifecycleConfig::default()
        })
    }
    fn register(&self, spec: OperationSpec) {
        self.register_operation(spec).unwrap();
    }
    fn start(&self, id: &OperationId) {
        self.provisioning_succeeded(id).unwrap();
    }
    fn complete(&self, id: &OperationId, result: OperationResult) {
        self.complete_operation(id, result).unwrap();
    }
    fn watch_complete(&self, id: &OperationId, result: OperationResult, runtime: &tokio::runtime::Runtime) {
        let watch = self.register_watcher(id).unwrap();
        self.complete_operation(id, result).unwrap();
        runtime.block_on(watch.wait()).unwrap();
    }
    fn wait_complete_all(&self, ids: &[OperationId], runtime: &tokio::runtime::Runtime) {
        let wait = self.wait_all(&RunId::new(), ids);
        for id in ids {
            self.complete_operation(id, result(*id)).unwrap();
        }
        assert_eq!(runtime.block_on(wait).unwrap().outcomes.len(), ids.len());
    }
    fn terminate_owner(&self) {
        OpsLifecycleRegistry::terminate_owner(self, "bench".into()).unwrap();
    }
    fn list_len(&self) -> usize {
        self.list_operations().unwrap().len()
    }
    fn status(&self, id: &OperationId) -> OperationStatus {
        self.snapshot(id).unwrap().unwrap().status
    }
}

impl Subject for Floor {
    fn fresh(max_completed: usize) -> Self {
        Floor::new(max_completed)
    }
    fn register(&self, spec: OperationSpec) {
        Floor::register(self, spec);
    }
    fn start(&self, id: &OperationId) {
        Floor::start(self, id);
    }
    fn complete(&self, id: &OperationId, result: OperationResult) {
        Floor::complete(self, id, result);
    }
    fn watch_complete(&self, id: &OperationId, result: OperationResult, runtime: &tokio::runtime::Runtime) {
        let watch = self.watch(id);
        Floor::complete(self, id, result);
        runtime.block_on(watch).unwrap();
    }
    fn wait_complete_all(&self, ids: &[OperationId], runtime: &tokio::runtime::Runtime) {
        let wait = self.wait_all(ids);
        for id in ids {
            Floor::complete(self, id, result(*id));
        }
        assert_eq!(runtime.block_on(wait).unwrap().len(), ids.len());
    }
    fn terminate_owner(&self) {
        Floor::terminate_owner(self, "bench");
    }
    fn list_len(&self) -> usize {
        self.list_operations().len()
    }
    fn status(&self, id: &OperationId) -> OperationStatus {
        self.snapshot(id).status
    }
}

/// Ids are minted from a counter: the benchmark measures the registry, not
/// the operating system's random number generator.
pub fn next_id() -> OperationId {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    OperationId(oplife_shell::uuid::Uuid::from_u64_pair(0x4000_0000_0000_0000 | n.rotate_left(17), n))
}

pub fn spec(i: usize) -> OperationSpec {
    OperationSpec {
        id: next_id(),
        kind: OperationKind::BackgroundToolOp,
        owner_session_id: SessionId(oplife_shell::uuid::Uuid::nil()),
        display_name: format!("op-{i:06}"),
        source_label: "bench".into(),
        child_session_id: None,
        expect_peer_channel: false,
        operation_source: None,
    }
}

pub fn result(id: OperationId) -> OperationResult {
    OperationResult { id, content: "ok".into(), is_error: false, duration_ms: 1, tokens_used: 1 }
}

fn started<S: Subject>(subject: &S, i: usize) -> OperationId {
    let spec = spec(i);
    let id = spec.id;
    subject.register(spec);
    subject.start(&id);
    id
}

fn timed(f: impl FnOnce()) -> Duration {
    let at = Instant::now();
    f();
    at.elapsed()
}

/// One scenario: its name, how many operations one run makes, and the run
/// (returning the time it took).
pub struct Scenario {
    pub name: &'static str,
    pub ops: usize,
}

pub const SCENARIOS: [Scenario; 8] = [
    Scenario { name: "S1 register → start → complete, 1 thread", ops: 200_000 },
    Scenario { name: "S2 the same on 2 threads", ops: 400_000 },
    Scenario { name: "S3 wait_all over N = 16000, completed in order", ops: 16_000 },
    Scenario { name: "S4 terminate_owner, 16k running", ops: 16_000 },
    Scenario { name: "S5 list_operations, 10k retained (20 calls)", ops: 10_000 },
    Scenario { name: "S6 register + watcher + complete", ops: 100_000 },
    Scenario { name: "S7 snapshot reads, 1 thread, 1k running", ops: 400_000 },
    Scenario { name: "S8 the same reads on 2 threads", ops: 400_000 },
];

/// The figure of one run of scenario `which` at `1/scale` of its size that
/// took `took`: the time of a single call (S3 to S5), otherwise operations
/// per second.
pub fn figure(which: usize, scale: usize, took: Duration) -> String {
    match which {
        2..=4 => format!("{:.2} ms", took.as_secs_f64() * 1e3),
        _ => {
            let per_second = (SCENARIOS[which].ops / scale) as f64 / took.as_secs_f64();
            // A registry far slower than ours would read 0.00 M.
            if per_second < 1e5 {
                format!("{:.2} k ops/s", per_second / 1e3)
            } else {
                format!("{:.2} M ops/s", per_second / 1e6)
            }
        }
    }
}

/// Runs scenario `which` (0 to 7) on a fresh `S` at `1/scale` of its size;
/// returns the time of the measured part.
pub fn run<S: Subject>(which: usize, scale: usize) -> Duration {
    let n = SCENARIOS[which].ops / scale;
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    match which {
        0 => {
            let subject = S::fresh(256);
            timed(|| {
                for i in 0..n {
                    let id = started(&subject, i);
                    subject.complete(&id, result(id));
                }
            })
        }
        1 => {
            let subject = Arc::new(S::fresh(256));
            timed(|| {
                let threads: Vec<_> = (0..2)
                    .map(|t| {
                        let subject = Arc::clone(&subject);
                        std::thread::spawn(move || {
                            for i in 0..n / 2 {
                                let id = started(&*subject, t * n + i);
                                subject.complete(&id, result(id));
                            }
                        })
                    })
                    .collect();
                for thread in threads {
                    thread.join().unwrap();
                }
            })
        }
        2 => {
            let subject = S::fresh(n);
            timed(|| {
                let ids: Vec<OperationId> = (0..n).map(|i| started(&subject, i)).collect();
                subject.wait_complete_all(&ids, &runtime);
            })
        }
        3 => {
            let subject = S::fresh(n);
            for i in 0..n {
                started(&subject, i);
            }
            timed(|| subject.terminate_owner())
        }
        4 => {
            let subject = S::fresh(n);
            for i in 0..n {
                let id = started(&subject, i);
                subject.complete(&id, result(id));
            }
            timed(|| {
                for _ in 0..20 {
                    assert_eq!(subject.list_len(), n);
                }
            })
        }
        5 => {
            let subject = S::fresh(256);
            timed(|| {
                for i in 0..n {
                    let id = started(&subject, i);
                    subject.watch_complete(&id, result(id), &runtime);
                }
            })
        }
        _ => {
            let readers = if which == 6 { 1 } else { 2 };
            let subject = Arc::new(S::fresh(256));
            let ids: Arc<Vec<OperationId>> = Arc::new((0..1000).map(|i| started(&*subject, i)).collect());
            timed(|| {
                let threads: Vec<_> = (0..readers)
                    .map(|t| {
                        let (subject, ids) = (Arc::clone(&subject), Arc::clone(&ids));
                        std::thread::spawn(move || {
                            for i in 0..n / readers {
                                let id = ids[(i * 7 + t * 13) % ids.len()];
                                assert_eq!(subject.status(&id), OperationStatus::Running);
                            }
                        })
                    })
                    .collect();
                for thread in threads {
                    thread.join().unwrap();
                }
            })
        }
    }
}
