//! Heap allocations per operation, scenario by scenario, for the registry
//! and its floor, counted by dhat (the standard heap profiler; its
//! allocator is the global one here, so this bench measures counts, not
//! time). Run with `cargo bench -p oplife-shell --bench allocs`.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

#[path = "support/floor.rs"]
mod floor;
#[path = "support/scenarios.rs"]
mod scenarios;

use floor::Floor;
use oplife_shell::RuntimeOpsLifecycleRegistry;
use scenarios::{SCENARIOS, Subject, run};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Allocations per operation of scenario `which` on `S`, at `1/scale` of
/// its size (setup included: registering is part of every scenario).
fn per_op<S: Subject>(which: usize, scale: usize) -> f64 {
    let before = dhat::HeapStats::get().total_blocks;
    run::<S>(which, scale);
    let after = dhat::HeapStats::get().total_blocks;
    (after - before) as f64 / (SCENARIOS[which].ops / scale) as f64
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let scale = if quick { 100 } else { 10 };
    println!("scenario | ours: allocations per op | floor | ours − floor");
    println!("---|---|---|---");
    for (which, scenario) in SCENARIOS.iter().enumerate() {
        let ours = per_op::<RuntimeOpsLifecycleRegistry>(which, scale);
        let bare = per_op::<Floor>(which, scale);
        println!("{} | {ours:.1} | {bare:.1} | {:.1}", scenario.name, ours - bare);
    }
}
