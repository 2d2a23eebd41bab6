//! A registry behind one line of Meerkat's interface, as a scenario
//! subject: every call goes through `Arc<dyn OpsLifecycleRegistry>` of that
//! line, so Meerkat's registries and the adapter run the same code. The
//! scenarios hand every subject the same values; for Meerkat's interface
//! they are moved into Meerkat's types first, inside the measured time.
//!
//! `meerkat_subject!(line, [Name => make, ...], { extra spec fields },
//! |watch| wait, |found| snapshot, |all| list)` defines one subject per
//! name: `make(max_completed)` builds its registry, `extra` completes the
//! line's spec, and the three closures read the line's watch, snapshot and
//! list.

macro_rules! meerkat_subject {
    ($mk:ident, [$($name:ident => $make:expr),+ $(,)?], $extra:tt, |$watch:ident| $wait:expr, |$found:ident| $snapshot:expr, |$all:ident| $list:expr) => {
        $(
            meerkat_subject!(@one $mk, $name, $make, $extra, |$watch| $wait, |$found| $snapshot, |$all| $list);
        )+
    };
    (@one $mk:ident, $name:ident, $make:expr, { $($extra:tt)* }, |$watch:ident| $wait:expr, |$found:ident| $snapshot:expr, |$all:ident| $list:expr) => {
        struct $name(std::sync::Arc<dyn $mk::ops_lifecycle::OpsLifecycleRegistry>);

        impl Subject for $name {
            fn fresh(max_completed: usize) -> Self {
                let make: fn(usize) -> std::sync::Arc<dyn $mk::ops_lifecycle::OpsLifecycleRegistry> = $make;
                $name(make(max_completed))
            }
            fn register(&self, spec: oplife_shell::OperationSpec) {
                use $mk::ops_lifecycle as mk;
                let spec = mk::OperationSpec {
                    id: mk::OperationId(spec.id.0),
                    kind: match spec.kind {
                        oplife_shell::OperationKind::MobMemberChild => mk::OperationKind::MobMemberChild,
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
                self.0.register_operation(spec).unwrap();
            }
            fn start(&self, op: &oplife_shell::OperationId) {
                use $mk::ops_lifecycle as mk;
                self.0.provisioning_succeeded(&mk::OperationId(op.0)).unwrap();
            }
            fn complete(&self, op: &oplife_shell::OperationId, outcome: oplife_shell::OperationResult) {
                use $mk::ops_lifecycle as mk;
                let result = mk::OperationResult {
                    id: mk::OperationId(outcome.id.0),
                    content: outcome.content,
                    is_error: outcome.is_error,
                    duration_ms: outcome.duration_ms,
                    tokens_used: outcome.tokens_used,
                };
                self.0.complete_operation(&mk::OperationId(op.0), result).unwrap();
            }
            fn watch_complete(
                &self,
                op: &oplife_shell::OperationId,
                outcome: oplife_shell::OperationResult,
                runtime: &tokio::runtime::Runtime,
            ) {
                use $mk::ops_lifecycle as mk;
                let $watch = self.0.register_watcher(&mk::OperationId(op.0)).unwrap();
                self.complete(op, outcome);
                runtime.block_on($wait);
            }
            fn wait_complete_all(&self, ops: &[oplife_shell::OperationId], runtime: &tokio::runtime::Runtime) {
                use $mk::ops_lifecycle as mk;
                let ids: Vec<mk::OperationId> = ops.iter().map(|op| mk::OperationId(op.0)).collect();
                let run = $mk::lifecycle::RunId(oplife_shell::uuid::Uuid::nil());
                let wait = self.0.wait_all(&run, &ids);
                for op in ops {
                    self.complete(op, scenarios::result(*op));
                }
                assert_eq!(runtime.block_on(wait).unwrap().outcomes.len(), ops.len());
            }
            fn terminate_owner(&self) {
                self.0.terminate_owner("bench".into()).unwrap();
            }
            fn list_len(&self) -> usize {
                let $all = self.0.list_operations();
                $list
            }
            fn status(&self, op: &oplife_shell::OperationId) -> oplife_shell::OperationStatus {
                use $mk::ops_lifecycle as mk;
                let $found = self.0.snapshot(&mk::OperationId(op.0));
                match $snapshot.status {
                    mk::OperationStatus::Running => oplife_shell::OperationStatus::Running,
                    mk::OperationStatus::Completed => oplife_shell::OperationStatus::Completed,
                    other => panic!("the scenarios read running or completed operations, not {other:?}"),
                }
            }
        }
    };
}
