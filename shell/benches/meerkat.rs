//! What Meerkat's interface costs over the registry's own: every scenario
//! run through `dyn OpsLifecycleRegistry` of meerkat-core 0.5
//! (`MeerkatRegistry`) and through the registry's own interface, in one
//! process, rounds alternating which runs first; each figure is the median
//! of the rounds, and the ratio is Meerkat's ÷ ours in time per operation
//! (1.05 = the interface costs 5 %). The scenarios hand both the same
//! values: for Meerkat's interface they are moved into Meerkat's types
//! first, inside the measured time, so the figure is an upper bound. Run
//! with `cargo bench -p oplife-shell --features meerkat-0-5 --bench meerkat`;
//! it writes `docs/meerkat.md`. Add `-- S1` to run only S1 (nothing is
//! written then).

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)] // a benchmark: a failed unwrap is a broken run

#[path = "support/floor.rs"]
#[allow(dead_code)]
mod floor;
#[path = "support/report.rs"]
mod report;
#[path = "support/scenarios.rs"]
mod scenarios;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use meerkat_core_0_5::lifecycle::RunId;
use meerkat_core_0_5::ops_lifecycle as mk;
use mk::OpsLifecycleRegistry as _;
use oplife_shell::{
    MeerkatRegistry, OperationId, OperationKind, OperationResult, OperationSpec, OperationStatus, OpsLifecycleConfig,
    RuntimeOpsLifecycleRegistry,
};
use report::{load, median, publish};
use scenarios::{SCENARIOS, Subject, run};

/// The registry behind Meerkat's interface, as a scenario subject.
struct Meerkat(MeerkatRegistry);

fn id(id: &OperationId) -> mk::OperationId {
    mk::OperationId(id.0)
}

fn result(result: OperationResult) -> mk::OperationResult {
    mk::OperationResult {
        id: mk::OperationId(result.id.0),
        content: result.content,
        is_error: result.is_error,
        duration_ms: result.duration_ms,
        tokens_used: result.tokens_used,
    }
}

impl Subject for Meerkat {
    fn fresh(max_completed: usize) -> Self {
        let config = OpsLifecycleConfig { max_completed, max_concurrent: None, ..OpsLifecycleConfig::default() };
        Meerkat(MeerkatRegistry::new(Arc::new(RuntimeOpsLifecycleRegistry::with_config(config))))
    }
    fn register(&self, spec: OperationSpec) {
        let spec = mk::OperationSpec {
            id: mk::OperationId(spec.id.0),
            kind: match spec.kind {
                OperationKind::MobMemberChild => mk::OperationKind::MobMemberChild,
                OperationKind::BackgroundToolOp => mk::OperationKind::BackgroundToolOp,
            },
            owner_session_id: meerkat_core_0_5::types::SessionId(spec.owner_session_id.0),
            display_name: spec.display_name,
            source_label: spec.source_label,
            child_session_id: None,
            expect_peer_channel: spec.expect_peer_channel,
        };
        self.0.register_operation(spec).unwrap();
    }
    fn start(&self, op: &OperationId) {
        self.0.provisioning_succeeded(&id(op)).unwrap();
    }
    fn complete(&self, op: &OperationId, outcome: OperationResult) {
        self.0.complete_operation(&id(op), result(outcome)).unwrap();
    }
    fn watch_complete(&self, op: &OperationId, outcome: OperationResult, runtime: &tokio::runtime::Runtime) {
        let watch = self.0.register_watcher(&id(op)).unwrap();
        self.0.complete_operation(&id(op), result(outcome)).unwrap();
        runtime.block_on(watch.wait());
    }
    fn wait_complete_all(&self, ops: &[OperationId], runtime: &tokio::runtime::Runtime) {
        let ids: Vec<mk::OperationId> = ops.iter().map(id).collect();
        let wait = self.0.wait_all(&RunId(oplife_shell::uuid::Uuid::nil()), &ids);
        for op in ops {
            self.0.complete_operation(&id(op), result(scenarios::result(*op))).unwrap();
        }
        assert_eq!(runtime.block_on(wait).unwrap().outcomes.len(), ops.len());
    }
    fn terminate_owner(&self) {
        self.0.terminate_owner("bench".into()).unwrap();
    }
    fn list_len(&self) -> usize {
        self.0.list_operations().len()
    }
    fn status(&self, op: &OperationId) -> OperationStatus {
        match self.0.snapshot(&id(op)).unwrap().status {
            mk::OperationStatus::Running => OperationStatus::Running,
            mk::OperationStatus::Completed => OperationStatus::Completed,
            other => panic!("the scenarios read running or completed operations, not {other:?}"),
        }
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let (rounds, scale) = if quick { (1, 100) } else { (7, 1) };
    let only: Vec<String> = std::env::args().skip(1).filter(|a| a.starts_with('S')).collect();
    let load_before = load();
    let mut table = format!(
        "scenario | ours | through Meerkat's interface | Meerkat's ÷ ours (time) — median of {rounds} alternating rounds\n"
    );
    table.push_str("---|---|---|---\n");
    for (which, scenario) in SCENARIOS.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|o| scenario.name.starts_with(o.as_str())) {
            continue;
        }
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                ours.push(run::<RuntimeOpsLifecycleRegistry>(which, scale));
                theirs.push(run::<Meerkat>(which, scale));
            } else {
                theirs.push(run::<Meerkat>(which, scale));
                ours.push(run::<RuntimeOpsLifecycleRegistry>(which, scale));
            }
        }
        let (ours, theirs): (Duration, Duration) = (median(ours), median(theirs));
        let ops = (scenario.ops / scale) as f64;
        let show = |d: Duration| match which {
            2..=4 => format!("{:.2} ms", d.as_secs_f64() * 1e3),
            _ => format!("{:.2} M ops/s", ops / d.as_secs_f64() / 1e6),
        };
        let _ = writeln!(
            table,
            "{} | {} | {} | {:.3}",
            scenario.name,
            show(ours),
            show(theirs),
            theirs.as_secs_f64() / ours.as_secs_f64()
        );
    }
    publish("meerkat", "Meerkat's interface over the registry", &table, &load_before, quick || !only.is_empty());
}
