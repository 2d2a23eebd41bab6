//! What Meerkat's interface costs over the registry's own: every scenario
//! run through `dyn OpsLifecycleRegistry` of meerkat-core 0.5 and of 0.9.8
//! (`MeerkatRegistry`) and through the registry's own interface, in one
//! process, rounds rotating which runs first; each figure is the median of
//! the rounds, and each ratio is Meerkat's ÷ ours in time per operation
//! (1.05 = the interface costs 5 %). The scenarios hand both the same
//! values: for Meerkat's interface they are moved into Meerkat's types
//! first, inside the measured time, so the figure is an upper bound. Run
//! with `cargo bench -p oplife-shell --features meerkat-0-5,meerkat-0-9 --bench meerkat`;
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

use oplife_shell::{
    MeerkatRegistry, OperationId, OperationKind, OperationResult, OperationSpec, OperationStatus, OpsLifecycleConfig,
    RuntimeOpsLifecycleRegistry,
};
use report::{load, median, publish};
use scenarios::{SCENARIOS, Subject, figure, run};

/// The registry behind one line of Meerkat's interface, as a scenario
/// subject: `$extra` completes that line's spec, `$wait`, `$snapshot` and
/// `$list` read its watch, snapshot and list.
macro_rules! subject {
    ($name:ident, $mk:ident, { $($extra:tt)* }, |$watch:ident| $wait:expr, |$found:ident| $snapshot:expr, |$all:ident| $list:expr) => {
        struct $name(MeerkatRegistry);

        impl Subject for $name {
            fn fresh(max_completed: usize) -> Self {
                let config = OpsLifecycleConfig { max_completed, max_concurrent: None, ..OpsLifecycleConfig::default() };
                $name(MeerkatRegistry::new(Arc::new(RuntimeOpsLifecycleRegistry::with_config(config))))
            }
            fn register(&self, spec: OperationSpec) {
                use $mk::ops_lifecycle as mk;
                let spec = mk::OperationSpec {
                    id: mk::OperationId(spec.id.0),
                    kind: match spec.kind {
                        OperationKind::MobMemberChild => mk::OperationKind::MobMemberChild,
                        // The scenarios register only these two kinds.
                        _ => mk::OperationKind::BackgroundToolOp,
                    },
                    owner_session_id: $mk::types::SessionId(spec.owner_session_id.0),
                    display_name: spec.display_name,
                    source_label: spec.source_label,
                    child_session_id: None,
                    expect_peer_channel: spec.expect_peer_channel,
                    $($extra)*
                };
                mk::OpsLifecycleRegistry::register_operation(&self.0, spec).unwrap();
            }
            fn start(&self, op: &OperationId) {
                use $mk::ops_lifecycle as mk;
                mk::OpsLifecycleRegistry::provisioning_succeeded(&self.0, &mk::OperationId(op.0)).unwrap();
            }
            fn complete(&self, op: &OperationId, outcome: OperationResult) {
                use $mk::ops_lifecycle as mk;
                let result = mk::OperationResult {
                    id: mk::OperationId(outcome.id.0),
                    content: outcome.content,
                    is_error: outcome.is_error,
                    duration_ms: outcome.duration_ms,
                    tokens_used: outcome.tokens_used,
                };
                mk::OpsLifecycleRegistry::complete_operation(&self.0, &mk::OperationId(op.0), result).unwrap();
            }
            fn watch_complete(&self, op: &OperationId, outcome: OperationResult, runtime: &tokio::runtime::Runtime) {
                use $mk::ops_lifecycle as mk;
                let $watch = mk::OpsLifecycleRegistry::register_watcher(&self.0, &mk::OperationId(op.0)).unwrap();
                self.complete(op, outcome);
                runtime.block_on($wait);
            }
            fn wait_complete_all(&self, ops: &[OperationId], runtime: &tokio::runtime::Runtime) {
                use $mk::ops_lifecycle as mk;
                let ids: Vec<mk::OperationId> = ops.iter().map(|op| mk::OperationId(op.0)).collect();
                let run = $mk::lifecycle::RunId(oplife_shell::uuid::Uuid::nil());
                let wait = mk::OpsLifecycleRegistry::wait_all(&self.0, &run, &ids);
                for op in ops {
                    self.complete(op, scenarios::result(*op));
                }
                assert_eq!(runtime.block_on(wait).unwrap().outcomes.len(), ops.len());
            }
            fn terminate_owner(&self) {
                use $mk::ops_lifecycle as mk;
                mk::OpsLifecycleRegistry::terminate_owner(&self.0, "bench".into()).unwrap();
            }
            fn list_len(&self) -> usize {
                use $mk::ops_lifecycle as mk;
                let $all = mk::OpsLifecycleRegistry::list_operations(&self.0);
                $list
            }
            fn status(&self, op: &OperationId) -> OperationStatus {
                use $mk::ops_lifecycle as mk;
                let $found = mk::OpsLifecycleRegistry::snapshot(&self.0, &mk::OperationId(op.0));
                match $snapshot.status {
                    mk::OperationStatus::Running => OperationStatus::Running,
                    mk::OperationStatus::Completed => OperationStatus::Completed,
                    other => panic!("the scenarios read running or completed operations, not {other:?}"),
                }
            }
        }
    };
}

subject!(Meerkat05, meerkat_core_0_5, {}, |watch| watch.wait(), |found| found.unwrap(), |all| all.len());
subject!(
    Meerkat09,
    meerkat_core_0_9,
    { operation_source: None, },
    |watch| async { watch.await.unwrap() },
    |found| found.unwrap().unwrap(),
    |all| all.unwrap().len()
);

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a.starts_with("--test"));
    let (rounds, scale) = if quick { (1, 100) } else { (7, 1) };
    let only: Vec<String> = std::env::args().skip(1).filter(|a| a.starts_with('S')).collect();
    let load_before = load();
    let mut table = format!(
        "scenario | ours | through 0.5's interface | through 0.9.8's | 0.5's ÷ ours | 0.9.8's ÷ ours (time) — median of {rounds} rounds, order rotating\n"
    );
    table.push_str("---|---|---|---|---|---\n");
    for (which, scenario) in SCENARIOS.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|o| scenario.name.starts_with(o.as_str())) {
            continue;
        }
        let mut times: [Vec<Duration>; 3] = Default::default();
        for round in 0..rounds {
            // Each subject runs first, second and third in turn.
            for k in 0..3 {
                match (round + k) % 3 {
                    0 => times[0].push(run::<RuntimeOpsLifecycleRegistry>(which, scale)),
                    1 => times[1].push(run::<Meerkat05>(which, scale)),
                    _ => times[2].push(run::<Meerkat09>(which, scale)),
                }
            }
        }
        let [ours, old, new] = times.map(median);
        let show = |took: Duration| figure(which, scale, took);
        let _ = writeln!(
            table,
            "{} | {} | {} | {} | {:.3} | {:.3}",
            scenario.name,
            show(ours),
            show(old),
            show(new),
            old.as_secs_f64() / ours.as_secs_f64(),
            new.as_secs_f64() / ours.as_secs_f64()
        );
    }
    publish("meerkat", "Meerkat's interface over the registry", &table, &load_before, quick || !only.is_empty());
}
