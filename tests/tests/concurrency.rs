//! The registry's races, explored by shuttle under random and PCT schedules
//! (the registry runs behind shuttle's mutex through the `StateLock` seam),
//! and a multi-threaded stress test on real threads, bounded in count and
//! time. Each asserts that no watcher or wait is lost or resolved twice.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::ops::DerefMut;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oplife_shell::Refusal;
use oplife_shell::{
    OperationId, OperationKind, OperationResult, OperationSpec, OperationTerminalOutcome, OpsLifecycleConfig,
    OpsLifecycleError, OpsLifecycleRegistry, RegistryState, RunId, RuntimeOpsLifecycleRegistry, SessionId,
    SharedTerminalOutcome, StateLock,
};

/// shuttle's mutex: every acquisition is a scheduling point shuttle explores.
struct ShuttleLock(shuttle::sync::Mutex<RegistryState>);

impl StateLock<RegistryState> for ShuttleLock {
    fn new(value: RegistryState) -> Self {
        ShuttleLock(shuttle::sync::Mutex::new(value))
    }
    fn lock(&self) -> Result<impl DerefMut<Target = RegistryState> + '_, ()> {
        self.0.lock().map_err(|_| ())
    }
}

type Registry = RuntimeOpsLifecycleRegistry<ShuttleLock>;

fn registry(max_completed: usize) -> Arc<Registry> {
    Arc::new(Registry::with_lock(OpsLifecycleConfig {
        max_completed,
        max_concurrent: None,
        ..OpsLifecycleConfig::default()
    }))
}

fn start(registry: &impl OpsLifecycleRegistry, name: &str) -> OperationId {
    let id = OperationId::new();
    registry
        .register_operation(OperationSpec {
            id,
            kind: OperationKind::BackgroundToolOp,
            owner_session_id: SessionId::new(),
            display_name: name.into(),
            source_label: "race".into(),
            child_session_id: None,
            expect_peer_channel: false,
            operation_source: None,
        })
        .unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    id
}

fn done(id: OperationId) -> OperationResult {
    OperationResult { id, content: id.to_string(), ..Default::default() }
}

/// A wait is dropped while its last operation completes on another thread:
/// either it resolved (and its result is dropped) or it was cancelled;
/// nothing stays pending and nothing fails.
fn wait_dropped_while_its_last_op_completes() {
    let registry = registry(1);
    let a = start(&*registry, "a");
    let waiter = {
        let registry = registry.clone();
        shuttle::thread::spawn(move || {
            let wait = registry.wait_all(&RunId::new(), &[a]);
            shuttle::thread::yield_now();
            drop(wait);
        })
    };
    let completer = {
        let registry = registry.clone();
        shuttle::thread::spawn(move || registry.complete_operation(&a, done(a)).unwrap())
    };
    waiter.join().unwrap();
    completer.join().unwrap();
    assert_eq!(registry.pending_waits().unwrap(), 0);
    assert!(matches!(
        registry.snapshot(&a).unwrap().unwrap().terminal_outcome.as_deref(),
        Some(OperationTerminalOutcome::Completed(_))
    ));
}

/// A watcher is registered while the owner terminates: it gets exactly one
/// outcome, `Terminated`, whichever happens first.
fn watcher_registered_while_owner_terminates() {
    let registry = registry(4);
    let a = start(&*registry, "a");
    let watcher = {
        let registry = registry.clone();
        shuttle::thread::spawn(move || {
            let watch = registry.register_watcher(&a).unwrap();
            shuttle::future::block_on(watch.wait()).unwrap()
        })
    };
    let terminator = {
        let registry = registry.clone();
        shuttle::thread::spawn(move || registry.terminate_owner("shutdown".into()).unwrap())
    };
    terminator.join().unwrap();
    let outcome = watcher.join().unwrap();
    assert_eq!(*outcome, OperationTerminalOutcome::Terminated { reason: "shutdown".into() });
    assert_eq!(registry.snapshot(&a).unwrap().unwrap().watcher_count, 0);
}

/// Two waits over overlapping operations, completed from other threads:
/// each resolves once with every outcome, even though records are evicted
/// as they complete.
fn two_waits_over_overlapping_ops_completed_from_other_threads() {
    let registry = registry(1);
    let ids: Vec<OperationId> = ["a", "b", "c"].iter().map(|n| start(&*registry, n)).collect();
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let first = {
        let registry = registry.clone();
        shuttle::thread::spawn(move || shuttle::future::block_on(registry.wait_all(&RunId::new(), &[a, b])))
    };
    let second = {
        let registry = registry.clone();
        shuttle::thread::spawn(move || shuttle::future::block_on(registry.wait_all(&RunId::new(), &[b, c])))
    };
    let completers: Vec<_> = ids
        .iter()
        .map(|id| {
            let (registry, id) = (registry.clone(), *id);
            shuttle::thread::spawn(move || registry.complete_operation(&id, done(id)).unwrap())
        })
        .collect();
    for completer in completers {
        completer.join().unwrap();
    }
    let expect = |ids: &[OperationId]| -> Vec<(OperationId, SharedTerminalOutcome)> {
        ids.iter().map(|id| (*id, SharedTerminalOutcome::new(OperationTerminalOutcome::Completed(done(*id))))).collect()
    };
    // A wait that began after its ops were evicted is refused with NotFound;
    // one that began earlier must carry every real outcome.
    for (result, asked) in [(first.join().unwrap(), vec![a, b]), (second.join().unwrap(), vec![b, c])] {
        match result {
            Ok(result) => assert_eq!(result.outcomes, expect(&asked)),
            Err(OpsLifecycleError::Refused(Refusal::NotFound(id))) => assert!(asked.contains(&id)),
            Err(other) => panic!("wait failed: {other}"),
        }
    }
    assert_eq!(registry.pending_waits().unwrap(), 0);
}

const ITERATIONS: usize = 2_000;

#[test]
fn races_under_random_schedules() {
    shuttle::check_random(wait_dropped_while_its_last_op_completes, ITERATIONS);
    shuttle::check_random(watcher_registered_while_owner_terminates, ITERATIONS);
    shuttle::check_random(two_waits_over_overlapping_ops_completed_from_other_threads, ITERATIONS);
}

#[test]
fn races_under_pct_schedules() {
    shuttle::check_pct(wait_dropped_while_its_last_op_completes, ITERATIONS, 3);
    shuttle::check_pct(watcher_registered_while_owner_terminates, ITERATIONS, 3);
    shuttle::check_pct(two_waits_over_overlapping_ops_completed_from_other_threads, ITERATIONS, 3);
}

/// Real threads, bounded: 4 workers each run a fixed number of operations
/// with a watcher and a wait each, some cancelled, some dropped early, while
/// records are evicted; every watcher and every kept wait resolves exactly
/// once with its operation's outcome.
#[test]
fn stress_no_watcher_or_wait_is_lost_or_resolved_twice() {
    const WORKERS: usize = 4;
    const OPS_PER_WORKER: usize = 2_000;
    let deadline = Instant::now() + Duration::from_secs(60);
    let registry = Arc::new(RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_completed: 8,
        max_concurrent: None,
        ..OpsLifecycleConfig::default()
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let registry = registry.clone();
            runtime.spawn(async move {
                let mut resolved = 0usize;
                for i in 0..OPS_PER_WORKER {
                    if Instant::now() > deadline {
                        break;
                    }
                    let id = start(&*registry, &format!("w{w}-{i}"));
                    let watch = registry.register_watcher(&id).unwrap();
                    let wait = registry.wait_all(&RunId::new(), &[id]);
                    let dropped_early = registry.wait_all(&RunId::new(), &[id]);
                    drop(dropped_early);
                    let expected = if i % 3 == 0 {
                        registry.cancel_operation(&id, None).unwrap();
                        SharedTerminalOutcome::new(OperationTerminalOutcome::Cancelled { reason: None })
                    } else {
                        registry.complete_operation(&id, done(id)).unwrap();
                        SharedTerminalOutcome::new(OperationTerminalOutcome::Completed(done(id)))
                    };
                    tokio::task::yield_now().await;
                    assert_eq!(watch.wait().await.unwrap(), expected);
                    assert_eq!(wait.await.unwrap().outcomes, vec![(id, expected)]);
                    resolved += 1;
                }
                resolved
            })
        })
        .collect();
    let resolved: usize = runtime.block_on(async {
        let mut total = 0;
        for worker in workers {
            total += worker.await.unwrap();
        }
        total
    });
    assert!(resolved > 0);
    assert_eq!(registry.pending_waits().unwrap(), 0);
    assert!(registry.list_operations().unwrap().len() <= 8);
}
