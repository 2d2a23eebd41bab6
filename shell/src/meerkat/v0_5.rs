//! Meerkat's registry interface as `meerkat-core` 0.5 declares it.
//!
//! Where the interface cannot say what this registry says:
//! - `snapshot` and `list_operations` return no `Result`, so a poisoned
//!   lock reads as no operation (the registry's own interface reports it);
//! - errors without a Meerkat variant (a sealed registry, a store that
//!   could not write, a result given to another operation's completion, a
//!   poisoned lock) are `Internal` with the registry's message;
//! - a registration refused because the owner terminated is an
//!   `InvalidTransition` of `register_operation` from `Absent`.

use std::future::Future;
use std::pin::Pin;

use meerkat_core_0_5 as mk;
use mk::comms::TrustedPeerSpec;
#[cfg(feature = "meerkat-0-5-feed")]
use mk::completion_feed::{CompletionBatch, CompletionFeed, CompletionSeq};
use mk::lifecycle::{RunId, WaitRequestId};
use mk::ops_lifecycle as ol;
use mk::types::SessionId;

#[cfg(feature = "meerkat-0-5-feed")]
use super::MeerkatFeed;
use super::MeerkatRegistry;
use super::common::translations;
use crate::api::OpsLifecycleRegistry as _;
use crate::error::{OpsLifecycleError, Refusal};
use crate::lock::StateLock;
use crate::percent::Percent;
use crate::record::Seen;
use crate::state::RegistryState;
use crate::types::{self as ours, OperationKind};

impl<L: StateLock<RegistryState> + 'static> ol::OpsLifecycleRegistry for MeerkatRegistry<L> {
    fn register_operation(&self, spec: ol::OperationSpec) -> Result<(), ol::OpsLifecycleError> {
        let id = ol::OperationId(spec.id.0);
        self.registry.register_operation(spec_in(spec)).map_err(|error| match error {
            OpsLifecycleError::Refused(Refusal::OwnerTerminated) => ol::OpsLifecycleError::InvalidTransition {
                id,
                status: ol::OperationStatus::Absent,
                action: oplife_spec::Input::Register.name(),
            },
            other => error_out(other),
        })
    }

    fn provisioning_succeeded(&self, id: &ol::OperationId) -> Result<(), ol::OpsLifecycleError> {
        self.registry.provisioning_succeeded(&id_in(id)).map_err(error_out)
    }

    fn provisioning_failed(&self, id: &ol::OperationId, error: String) -> Result<(), ol::OpsLifecycleError> {
        self.registry.provisioning_failed(&id_in(id), error).map_err(error_out)
    }

    fn peer_ready(&self, id: &ol::OperationId, peer: ol::OperationPeerHandle) -> Result<(), ol::OpsLifecycleError> {
        self.registry.peer_ready(&id_in(id), peer_in(peer)).map_err(error_out)
    }

    fn register_watcher(&self, id: &ol::OperationId) -> Result<ol::OperationCompletionWatch, ol::OpsLifecycleError> {
        let (sender, watch) = ol::OperationCompletionWatch::channel();
        let deliver = move |outcome: ours::SharedTerminalOutcome| {
            // A watch dropped before the end is not told (nothing to do).
            let _ = sender.send(outcome_out(&outcome));
        };
        match self.registry.watch_with(&id_in(id), deliver).map_err(error_out)? {
            Some(ended) => Ok(ol::OperationCompletionWatch::already_resolved(outcome_out(&ended))),
            None => Ok(watch),
        }
    }

    fn report_progress(
        &self,
        id: &ol::OperationId,
        update: ol::OperationProgressUpdate,
    ) -> Result<(), ol::OpsLifecycleError> {
        let update =
            ours::OperationProgressUpdate { message: update.message, percent: update.percent.map(Percent::new) };
        self.registry.report_progress(&id_in(id), update).map_err(error_out)
    }

    fn complete_operation(
        &self,
        id: &ol::OperationId,
        result: ol::OperationResult,
    ) -> Result<(), ol::OpsLifecycleError> {
        self.registry.complete_operation(&id_in(id), result_in(result)).map_err(error_out)
    }

    fn fail_operation(&self, id: &ol::OperationId, error: String) -> Result<(), ol::OpsLifecycleError> {
        self.registry.fail_operation(&id_in(id), error).map_err(error_out)
    }

    fn abort_provisioning(&self, id: &ol::OperationId, reason: Option<String>) -> Result<(), ol::OpsLifecycleError> {
        self.registry.abort_provisioning(&id_in(id), reason).map_err(error_out)
    }

    fn cancel_operation(&self, id: &ol::OperationId, reason: Option<String>) -> Result<(), ol::OpsLifecycleError> {
        self.registry.cancel_operation(&id_in(id), reason).map_err(error_out)
    }

    fn request_retire(&self, id: &ol::OperationId) -> Result<(), ol::OpsLifecycleError> {
        self.registry.request_retire(&id_in(id)).map_err(error_out)
    }

    fn mark_retired(&self, id: &ol::OperationId) -> Result<(), ol::OpsLifecycleError> {
        self.registry.mark_retired(&id_in(id)).map_err(error_out)
    }

    fn snapshot(&self, id: &ol::OperationId) -> Option<ol::OperationLifecycleSnapshot> {
        // Built where it is returned: each move through `Option` and
        // `Result` would copy it.
        let state = self.registry.read().ok()?;
        let seen = state.seen(&id_in(id))?;
        Some(snapshot_out(seen))
    }

    fn list_operations(&self) -> Vec<ol::OperationLifecycleSnapshot> {
        self.registry.inspect_all(snapshot_out).unwrap_or_default()
    }

    fn terminate_owner(&self, reason: String) -> Result<(), ol::OpsLifecycleError> {
        self.registry.terminate_owner(reason).map_err(error_out)
    }

    fn collect_completed(&self) -> Result<Vec<(ol::OperationId, ol::OperationTerminalOutcome)>, ol::OpsLifecycleError> {
        let collected = self.registry.collect_completed().map_err(error_out)?;
        Ok(collected.into_iter().map(|(id, outcome)| (id_out(id), outcome_out(&outcome))).collect())
    }

    /// meerkat-core 0.5.2 added the feed to the interface.
    #[cfg(feature = "meerkat-0-5-feed")]
    fn completion_feed(&self) -> Option<std::sync::Arc<dyn CompletionFeed>> {
        Some(self.feed.clone())
    }

    fn wait_all(
        &self,
        run_id: &RunId,
        ids: &[ol::OperationId],
    ) -> Pin<Box<dyn Future<Output = Result<ol::WaitAllResult, ol::OpsLifecycleError>> + Send + '_>> {
        let ids: Vec<ours::OperationId> = ids.iter().map(id_in).collect();
        let waiting = self.registry.wait_all(&ours::RunId(run_id.0), &ids);
        Box::pin(async move {
            let done = waiting.await.map_err(error_out)?;
            Ok(ol::WaitAllResult {
                outcomes: done.outcomes.iter().map(|(id, outcome)| (id_out(*id), outcome_out(outcome))).collect(),
                satisfied: ol::WaitAllSatisfied {
                    wait_request_id: WaitRequestId(done.satisfied.wait_request_id.0),
                    operation_ids: done.satisfied.operation_ids.into_iter().map(id_out).collect(),
                },
            })
        })
    }
}

#[cfg(feature = "meerkat-0-5-feed")]
impl<L: StateLock<RegistryState>> CompletionFeed for MeerkatFeed<L> {
    fn watermark(&self) -> CompletionSeq {
        // Never fails today (read without the lock); 0 is "nothing yet".
        self.registry.feed_watermark().unwrap_or_default()
    }

    fn list_since(&self, after_seq: CompletionSeq) -> CompletionBatch {
        // Entries that retention dropped are skipped, as Meerkat's own feed
        // skips them; the registry's `list_since` reports the range.
        match self.registry.list_since(after_seq) {
            Ok(page) => {
                CompletionBatch { entries: page.entries.iter().map(entry_out).collect(), watermark: page.watermark }
            }
            Err(_) => CompletionBatch { entries: Vec::new(), watermark: after_seq },
        }
    }

    fn wait_for_advance(&self, after_seq: CompletionSeq) -> Pin<Box<dyn Future<Output = CompletionSeq> + Send + '_>> {
        Box::pin(self.registry.wait_for_watermark(after_seq))
    }
}

fn kind_in(kind: ol::OperationKind) -> OperationKind {
    match kind {
        ol::OperationKind::MobMemberChild => OperationKind::MobMemberChild,
        ol::OperationKind::BackgroundToolOp => OperationKind::BackgroundToolOp,
    }
}

/// Meerkat 0.5 knows two kinds: an operation of a kind it does not know
/// (registered through another interface of the same registry) works
/// detached from its owner's turn, as a background job does, and shows as
/// one.
fn kind_out(kind: OperationKind) -> ol::OperationKind {
    match kind {
        OperationKind::MobMemberChild => ol::OperationKind::MobMemberChild,
        OperationKind::BackgroundToolOp
        | OperationKind::BackgroundToolCapacitySlot
        | OperationKind::DetachedJobWait => ol::OperationKind::BackgroundToolOp,
    }
}

fn spec_in(spec: ol::OperationSpec) -> ours::OperationSpec {
    ours::OperationSpec {
        id: ours::OperationId(spec.id.0),
        kind: kind_in(spec.kind),
        owner_session_id: ours::SessionId(spec.owner_session_id.0),
        display_name: spec.display_name,
        source_label: spec.source_label,
        child_session_id: spec.child_session_id.map(|child| ours::SessionId(child.0)),
        expect_peer_channel: spec.expect_peer_channel,
        operation_source: None,
    }
}

/// Meerkat's handle names the peer twice (the owner's name for it and the
/// trust store's); the registry keeps the second only where it differs.
fn peer_in(peer: ol::OperationPeerHandle) -> ours::OperationPeerHandle {
    let trusted = peer.trusted_peer;
    let trusted_name = (trusted.name != peer.peer_name).then_some(trusted.name);
    ours::OperationPeerHandle {
        peer_name: peer.peer_name,
        peer_id: trusted.peer_id,
        address: trusted.address,
        trusted_name,
        public_key: None,
    }
}

fn peer_out(peer: ours::OperationPeerHandle) -> ol::OperationPeerHandle {
    let name = peer.trusted_name.unwrap_or_else(|| peer.peer_name.clone());
    ol::OperationPeerHandle {
        peer_name: peer.peer_name,
        trusted_peer: TrustedPeerSpec { name, peer_id: peer.peer_id, address: peer.address },
    }
}

/// Meerkat's snapshot of the operation `seen`, built from the registry's
/// state under its lock (nothing Meerkat's type does not hold is copied).
#[inline]
fn snapshot_out(seen: Seen<'_>) -> ol::OperationLifecycleSnapshot {
    let Seen { id, op, record, .. } = seen;
    ol::OperationLifecycleSnapshot {
        id: id_out(id),
        kind: kind_out(record.kind),
        display_name: record.display_name.clone(),
        status: status_out(op.status()),
        peer_ready: op.peer_ready(),
        progress_count: op.progress_count(),
        watcher_count: op.watcher_count(),
        terminal_outcome: op.outcome().map(outcome_out),
        child_session_id: record.child_session_id.map(|child| SessionId(child.0)),
        peer_handle: record.peer_handle.as_deref().cloned().map(peer_out),
        created_at_ms: record.created_ms,
        started_at_ms: record.started_ms,
        completed_at_ms: record.completed_ms,
        elapsed_ms: record.elapsed_ms(),
    }
}

translations!(meerkat_core_0_5, #[cfg(feature = "meerkat-0-5-feed")]);

/// A call refused because the owner terminated. Only a registration can be
/// (its own translation names it); any other is the registry's fault.
fn owner_terminated() -> ol::OpsLifecycleError {
    ol::OpsLifecycleError::Internal("the owner has terminated".into())
}
