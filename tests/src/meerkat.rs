//! The crash workload driven through Meerkat's registry interface
//! (meerkat-core 0.5), as a Meerkat runtime would drive the registry: each
//! step is the interface's method where it has one, and the registry's own
//! where it has none (collecting one record, rolling a registration back,
//! a per-kind limit, a named cursor).

use meerkat_core_0_5::comms::TrustedPeerSpec;
use meerkat_core_0_5::ops_lifecycle::{
    OperationId, OperationKind, OperationPeerHandle, OperationProgressUpdate, OperationResult, OperationSpec,
    OpsLifecycleError, OpsLifecycleRegistry as Meerkat,
};
use meerkat_core_0_5::types::SessionId;
use oplife_shell::uuid::Uuid;
use oplife_shell::{MeerkatRegistry, RegistryState, StateLock};

use crate::workload::{DurableView, Rng, Step, id, reopened_view};

/// Makes `step` of the workload of `seed` on `registry`. `Ok` whether it
/// was accepted or refused; `Err` for a failure that is no refusal (a store
/// that could not write, a sealed registry), which Meerkat's 0.5 interface
/// reports as `Internal`.
pub fn run<L: StateLock<RegistryState> + 'static>(
    step: &Step,
    seed: u64,
    registry: &MeerkatRegistry<L>,
) -> Result<bool, String> {
    let at = |slot: u64| OperationId(id(seed, slot).0);
    let ours = registry.registry();
    let result = match *step {
        Step::Register(slot, child) => registry.register_operation(spec(seed, slot, child)),
        Step::Start(slot) => registry.provisioning_succeeded(&at(slot)),
        Step::PeerReady(slot) => {
            let trusted =
                TrustedPeerSpec { name: format!("peer {slot}"), peer_id: slot.to_string(), address: "inproc".into() };
            registry
                .peer_ready(&at(slot), OperationPeerHandle { peer_name: format!("peer {slot}"), trusted_peer: trusted })
        }
        Step::Progress(slot) => registry.report_progress(
            &at(slot),
            OperationProgressUpdate { message: format!("step of {slot}"), percent: Some(50.0) },
        ),
        Step::Complete(slot) => registry.complete_operation(
            &at(slot),
            OperationResult { id: at(slot), content: "done".into(), is_error: false, duration_ms: 0, tokens_used: 0 },
        ),
        Step::Fail(slot) => registry.fail_operation(&at(slot), format!("failed {slot}")),
        Step::Cancel(slot) => registry.cancel_operation(&at(slot), Some("stop".into())),
        Step::Retire(slot) => registry.request_retire(&at(slot)),
        Step::Retired(slot) => registry.mark_retired(&at(slot)),
        Step::CollectAll => registry.collect_completed().map(drop),
        Step::Watch(slot) => registry.register_watcher(&at(slot)).map(drop),
        // No method of Meerkat's 0.5 interface: the registry's own.
        Step::CollectOne(_) | Step::Rollback(_) | Step::RegisterLimited(..) | Step::Cursor(..) => {
            return step.run(seed, ours).map_err(|error| error.to_string());
        }
    };
    match result {
        Ok(()) => Ok(true),
        Err(OpsLifecycleError::Internal(why)) => Err(why),
        Err(_) => Ok(false),
    }
}

fn spec(seed: u64, slot: u64, child: bool) -> OperationSpec {
    let owner = SessionId(Uuid::from_u128(u128::from(seed)));
    OperationSpec {
        id: OperationId(id(seed, slot).0),
        kind: if child { OperationKind::MobMemberChild } else { OperationKind::BackgroundToolOp },
        owner_session_id: owner,
        display_name: format!("{} {slot}", if child { "agent" } else { "tool" }),
        source_label: "crash".into(),
        child_session_id: child.then(|| SessionId(Uuid::from_u128(7))),
        expect_peer_channel: child,
    }
}

/// As [`crate::workload::matching_prefix`], with every call made through
/// Meerkat's interface by [`run`].
pub fn matching_prefix<L: StateLock<RegistryState> + 'static>(
    registry: &MeerkatRegistry<L>,
    seed: u64,
    (floor, ceiling): (u64, u64),
    recovered: &DurableView,
) -> Option<u64> {
    let mut rng = Rng::new(seed);
    for m in 0..=ceiling {
        if m > 0 {
            run(&Step::draw(&mut rng, true), seed, registry).ok()?;
        }
        if m >= floor && reopened_view(registry.registry()).ok()? == *recovered {
            return Some(m);
        }
    }
    None
}
