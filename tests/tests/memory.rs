//! Memory under churn: a registry that registers, watches, drops the watch
//! and completes a million operations holds no more memory at the end than
//! after the first tenth (within 10 %), and so does one polled a million
//! times through watches dropped at once. Dropped watches are released at
//! the next call; retention bounds the terminal records and the feed. A
//! budget that does not depend on the clock, so it is asserted.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_shell::HeldHandles;
use oplife_shell::prelude::*;

const CYCLES: u64 = 1_000_000;

/// The resident set size in KiB, from `/proc/self/status` (Linux).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn spec(n: u64, name: String) -> OperationSpec {
    OperationSpec {
        id: OperationId(oplife_shell::uuid::Uuid::from_u64_pair(0x4000_0000_0000_0000, n)),
        ..OperationSpec::background_tool(SessionId::new(), name)
    }
}

/// Asserts the memory at the end is within 10 % of the memory at a tenth.
fn flat(phase: &str, at_tenth: u64, at_end: u64) {
    println!("{phase}: {at_tenth} KiB at 10 %, {at_end} KiB at 100 %");
    assert!(at_end * 10 <= at_tenth * 11, "{phase}: memory grew from {at_tenth} KiB at 10 % to {at_end} KiB at 100 %");
}

#[test]
fn memory_stays_flat_over_a_million_cycles() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let mut at_tenth = 0;
    for n in 1..=CYCLES {
        let spec = spec(n, format!("op-{n}"));
        let id = spec.id;
        registry.register_operation(spec).unwrap();
        registry.provisioning_succeeded(&id).unwrap();
        drop(registry.register_watcher(&id).unwrap());
        registry.complete_operation(&id, OperationResult::new(id, "ok")).unwrap();
        if n == CYCLES / 10 {
            at_tenth = rss_kib();
        }
    }
    flat("register → start → watch → drop → complete", at_tenth, rss_kib());
    assert_eq!(registry.held().unwrap(), HeldHandles::default());

    let polled = spec(0, "long-running".into());
    let id = polled.id;
    registry.register_operation(polled).unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    for n in 1..=CYCLES {
        drop(registry.register_watcher(&id).unwrap());
        if n == CYCLES / 10 {
            at_tenth = rss_kib();
        }
    }
    flat("watch → drop on one running operation", at_tenth, rss_kib());
    // The last dropped watch is released at the next call.
    assert_eq!(registry.held().unwrap().watchers, 0);
}
