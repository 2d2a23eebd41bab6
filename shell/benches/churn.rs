//! Memory under churn, printing the process's resident memory at 10 % and
//! at 100 % of each phase:
//! 1. 1,000,000 cycles of register → start → watch → drop the watch →
//!    complete on one registry;
//! 2. 1,000,000 status polls (watch → drop the watch) of one operation that
//!    keeps running, the pattern that grew without bound before dropped
//!    watches were released.
//!
//! A dropped watch is released at the registry's next call, so growth must
//! be flat in both. Run with `cargo bench -p oplife-shell --bench churn`.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

use oplife_shell::{
    HeldHandles, OperationId, OperationKind, OperationResult, OperationSpec, OpsLifecycleRegistry,
    RuntimeOpsLifecycleRegistry, SessionId,
};

const CYCLES: u64 = 1_000_000;

/// The resident set size in KiB, from `/proc/self/status` (Linux).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let cycles = if quick { CYCLES / 100 } else { CYCLES };
    let registry = RuntimeOpsLifecycleRegistry::new();
    let mut at_tenth = None;
    let started = std::time::Instant::now();
    for n in 1..=cycles {
        let id = OperationId(uuid::Uuid::from_u64_pair(0x4000_0000_0000_0000, n));
        registry
            .register_operation(OperationSpec {
                id,
                kind: OperationKind::BackgroundToolOp,
                owner_session_id: SessionId(uuid::Uuid::nil()),
                display_name: format!("op-{n}"),
                source_label: "churn".into(),
                child_session_id: None,
                expect_peer_channel: false,
            })
            .unwrap();
        registry.provisioning_succeeded(&id).unwrap();
        drop(registry.register_watcher(&id).unwrap());
        registry.complete_operation(&id, OperationResult { id, content: "ok".into(), ..Default::default() }).unwrap();
        if n == cycles / 10 {
            at_tenth = rss_kib();
        }
    }
    report("register → start → watch → drop watch → complete", cycles, at_tenth, rss_kib(), started);
    assert_eq!(registry.held().unwrap(), HeldHandles::default());

    let polled = OperationId(uuid::Uuid::from_u64_pair(0x5000_0000_0000_0000, 0));
    registry
        .register_operation(OperationSpec {
            id: polled,
            kind: OperationKind::BackgroundToolOp,
            owner_session_id: SessionId(uuid::Uuid::nil()),
            display_name: "long-running".into(),
            source_label: "churn".into(),
            child_session_id: None,
            expect_peer_channel: false,
        })
        .unwrap();
    registry.provisioning_succeeded(&polled).unwrap();
    let started = std::time::Instant::now();
    let mut at_tenth = None;
    for n in 1..=cycles {
        drop(registry.register_watcher(&polled).unwrap());
        if n == cycles / 10 {
            at_tenth = rss_kib();
        }
    }
    report("watch → drop watch on one running operation", cycles, at_tenth, rss_kib(), started);
    println!("watchers still counted: {}", registry.snapshot(&polled).unwrap().map_or(0, |s| s.watcher_count));
}

fn report(phase: &str, cycles: u64, at_tenth: Option<u64>, at_end: Option<u64>, started: std::time::Instant) {
    let mib = |kib: Option<u64>| kib.map_or("unknown".to_owned(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0));
    println!("{phase}: {cycles} cycles in {:.2} s", started.elapsed().as_secs_f64());
    println!("  resident memory at 10 %: {}, at 100 %: {}", mib(at_tenth), mib(at_end));
    if let (Some(tenth), Some(end)) = (at_tenth, at_end) {
        println!("  growth from 10 % to 100 %: {:+.1} MiB", (end as f64 - tenth as f64) / 1024.0);
    }
}
