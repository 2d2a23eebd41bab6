//! Throughput and latency of the runtime registry, scenarios S1 to S6.
//! Each figure is the median of 5 runs. Run with
//! `cargo bench -p oplife-shell --bench registry`.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

use std::sync::Arc;
use std::time::{Duration, Instant};

use oplife_shell::{
    OperationId, OperationKind, OperationResult, OperationSpec, OpsLifecycleConfig, OpsLifecycleRegistry, RunId,
    RuntimeOpsLifecycleRegistry, SessionId,
};

const RUNS: usize = 5;

/// Ids are minted from a counter: the benchmark measures the registry, not
/// the operating system's random number generator.
fn next_id() -> OperationId {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    OperationId(uuid::Uuid::from_u64_pair(0x4000_0000_0000_0000 | n.rotate_left(17), n))
}

fn spec(i: usize) -> OperationSpec {
    OperationSpec {
        id: next_id(),
        kind: OperationKind::BackgroundToolOp,
        owner_session_id: SessionId(uuid_zero()),
        display_name: format!("op-{i:06}"),
        source_label: "bench".into(),
        child_session_id: None,
        expect_peer_channel: false,
    }
}

fn uuid_zero() -> uuid::Uuid {
    uuid::Uuid::nil()
}

fn result(id: OperationId) -> OperationResult {
    OperationResult { id, content: "ok".into(), is_error: false, duration_ms: 1, tokens_used: 1 }
}

fn start(registry: &RuntimeOpsLifecycleRegistry, i: usize) -> OperationId {
    let spec = spec(i);
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    id
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn timed(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

/// S1: one thread, register -> provisioning_succeeded -> complete.
fn s1(n: usize) -> f64 {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let elapsed = timed(|| {
        for i in 0..n {
            let id = start(&registry, i);
            registry.complete_operation(&id, result(id)).unwrap();
        }
    });
    n as f64 / elapsed.as_secs_f64()
}

/// S2: two threads each doing S1 on the same registry; combined rate.
fn s2(n: usize) -> f64 {
    let registry = Arc::new(RuntimeOpsLifecycleRegistry::new());
    let elapsed = timed(|| {
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let registry = registry.clone();
                std::thread::spawn(move || {
                    for i in 0..n {
                        let id = start(&registry, t * n + i);
                        registry.complete_operation(&id, result(id)).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    });
    (2 * n) as f64 / elapsed.as_secs_f64()
}

/// S3: N started, one wait_all over all N pending, completed one at a time.
fn s3(n: usize) -> Duration {
    let registry = RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_completed: n,
        max_concurrent: None,
        ..OpsLifecycleConfig::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    timed(|| {
        let ids: Vec<OperationId> = (0..n).map(|i| start(&registry, i)).collect();
        let wait = registry.wait_all(&RunId::new(), &ids);
        for id in &ids {
            registry.complete_operation(id, result(*id)).unwrap();
        }
        let done = runtime.block_on(wait).unwrap();
        assert_eq!(done.outcomes.len(), n);
    })
}

/// S4: terminate_owner with N running operations.
fn s4(n: usize) -> Duration {
    let registry = RuntimeOpsLifecycleRegistry::new();
    for i in 0..n {
        start(&registry, i);
    }
    timed(|| registry.terminate_owner("bench".into()).unwrap())
}

/// S5: list_operations with N retained operations; time per call.
fn s5(n: usize) -> Duration {
    let registry = RuntimeOpsLifecycleRegistry::with_config(OpsLifecycleConfig {
        max_completed: n,
        max_concurrent: None,
        ..OpsLifecycleConfig::default()
    });
    for i in 0..n {
        let id = start(&registry, i);
        registry.complete_operation(&id, result(id)).unwrap();
    }
    const CALLS: u32 = 20;
    timed(|| {
        for _ in 0..CALLS {
            assert_eq!(registry.list_operations().unwrap().len(), n);
        }
    }) / CALLS
}

/// S6: one watcher per operation, awaited.
fn s6(n: usize) -> f64 {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let elapsed = timed(|| {
        runtime.block_on(async {
            for i in 0..n {
                let id = start(&registry, i);
                let watch = registry.register_watcher(&id).unwrap();
                registry.complete_operation(&id, result(id)).unwrap();
                watch.wait().await.unwrap();
            }
        });
    });
    n as f64 / elapsed.as_secs_f64()
}

fn main() {
    // `cargo test --benches` runs bench targets with --test-threads style
    // arguments; a quick smoke run keeps that cheap.
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let scale = if quick { 100 } else { 1 };
    let runs = if quick { 1 } else { RUNS };
    let per = |f: &dyn Fn() -> f64| median((0..runs).map(|_| f()).collect());
    let ms = |d: Duration| d.as_secs_f64() * 1e3;

    println!("scenario | figure (median of {runs})");
    println!("---|---");
    let s1_rate = per(&|| s1(200_000 / scale));
    println!("S1 one thread, register→start→complete, 200k ops | {:.2} M ops/s", s1_rate / 1e6);
    let s2_rate = per(&|| s2(200_000 / scale));
    println!(
        "S2 two threads on one registry, 2×200k ops | {:.2} M ops/s combined ({:.2}x S1)",
        s2_rate / 1e6,
        s2_rate / s1_rate
    );
    let mut s3_times = Vec::new();
    for n in [1_000, 4_000, 16_000] {
        let t = per(&|| ms(s3(n / scale)));
        s3_times.push(t);
        println!("S3 wait_all over N pending, completed in order, N={n} | {t:.2} ms");
    }
    println!("S3 growth N=16000 vs N=1000 | {:.1}x for 16x the operations", s3_times[2] / s3_times[0]);
    println!("S4 terminate_owner, 16k running | {:.2} ms", per(&|| ms(s4(16_000 / scale))));
    println!("S5 list_operations, 10k retained | {:.2} ms per call", per(&|| ms(s5(10_000 / scale))));
    println!("S6 one awaited watcher per op, 100k ops | {:.2} M ops/s", per(&|| s6(100_000 / scale)) / 1e6);
}
