//! Meerkat's registry interface as `meerkat-core` 0.9.8 declares it.
//!
//! Where the interface says more than 0.5's, the registry answers it:
//! owner admission from the registry's phase; the classification calls
//! from the table (terminality, public results, owner wakes, retry rows);
//! the three consumers' completion cursors as the registry's named cursors
//! (`agent_applied`, `runtime_observed`, `runtime_injected`), journaled and
//! never past the durable watermark; the wait token with its run; all four
//! kinds, each as the table's kinds rows say (a capacity slot's ending is
//! dropped, a running wait on a detached job survives a restart).

use std::future::Future;
use std::pin::Pin;

use meerkat_core_0_9 as mk;
use mk::comms::{PeerAddress, PeerId, PeerName, TrustedPeerDescriptor};
use mk::completion_feed::{CompletionBatch, CompletionFeed, CompletionSeq};
use mk::lifecycle::{RunId, WaitRequestId};
use mk::ops_lifecycle as ol;
use mk::runtime_epoch::EpochCursorState;
use mk::types::SessionId;

use super::common::translations;
use super::{MeerkatFeed, MeerkatRegistry};
use crate::api::OpsLifecycleRegistry as _;
use crate::error::{CursorRefusal, OpsLifecycleError};
use crate::lock::StateLock;
use crate::percent::Percent;
use crate::record::Seen;
use crate::registry::OwnerState;
use crate::source::OperationSource;
use crate::state::RegistryState;
use crate::types::{self as ours, OperationKind};
use oplife_spec::{Input, PublicResult};

type Refused = ol::OpsLifecycleError;

impl<L: StateLock<RegistryState> + 'static> ol::OpsLifecycleRegistry for MeerkatRegistry<L> {
    fn register_operation(&self, spec: ol::OperationSpec) -> Result<(), Refused> {
        self.registry.register_operation(spec_in(spec)?).map_err(error_out)
    }

    fn provisioning_succeeded(&self, id: &ol::OperationId) -> Result<(), Refused> {
        self.registry.provisioning_succeeded(&id_in(id)).map_err(error_out)
    }

    fn provisioning_failed(&self, id: &ol::OperationId, error: String) -> Result<(), Refused> {
        self.registry.provisioning_failed(&id_in(id), error).map_err(error_out)
    }

    fn peer_ready(&self, id: &ol::OperationId, peer: ol::OperationPeerHandle) -> Result<(), Refused> {
        self.registry.peer_ready(&id_in(id), peer_in(peer)).map_err(error_out)
    }

    fn register_watcher(&self, id: &ol::OperationId) -> Result<ol::OperationCompletionWatch, Refused> {
        // The registry's own watch: dropping Meerkat's future releases it.
        let watch = self.registry.register_watcher(&id_in(id)).map_err(error_out)?;
        Ok(Box::pin(async move {
            match watch.wait().await {
                Ok(outcome) => Ok(outcome_out(&outcome)),
                Err(_) => Err(ol::OperationCompletionWatchError::ChannelClosed),
            }
        }))
    }

    fn report_progress(&self, id: &ol::OperationId, update: ol::OperationProgressUpdate) -> Result<(), Refused> {
        let update =
            ours::OperationProgressUpdate { message: update.message, percent: update.percent.map(Percent::new) };
        self.registry.report_progress(&id_in(id), update).map_err(error_out)
    }

    fn complete_operation(&self, id: &ol::OperationId, result: ol::OperationResult) -> Result<(), Refused> {
        self.registry.complete_operation(&id_in(id), result_in(result)).map_err(error_out)
    }

    fn fail_operation(&self, id: &ol::OperationId, error: String) -> Result<(), Refused> {
        self.registry.fail_operation(&id_in(id), error).map_err(error_out)
    }

    fn abort_provisioning(&self, id: &ol::OperationId, reason: Option<String>) -> Result<(), Refused> {
        self.registry.abort_provisioning(&id_in(id), reason).map_err(error_out)
    }

    fn rollback_unreturned_operation(&self, id: &ol::OperationId) -> Result<(), Refused> {
        self.registry.rollback_registration(&id_in(id)).map_err(error_out)
    }

    fn cancel_operation(&self, id: &ol::OperationId, reason: Option<String>) -> Result<(), Refused> {
        self.registry.cancel_operation(&id_in(id), reason).map_err(error_out)
    }

    fn owner_admission(&self) -> Result<ol::OpsOwnerAdmission, Refused> {
        Ok(match self.registry.owner_state().map_err(error_out)? {
            OwnerState::Open => ol::OpsOwnerAdmission::Open,
            OwnerState::Sealed => ol::OpsOwnerAdmission::Sealed,
            OwnerState::Retired => ol::OpsOwnerAdmission::Retired,
        })
    }

    fn request_retire(&self, id: &ol::OperationId) -> Result<(), Refused> {
        self.registry.request_retire(&id_in(id)).map_err(error_out)
    }

    fn mark_retired(&self, id: &ol::OperationId) -> Result<(), Refused> {
        self.registry.mark_retired(&id_in(id)).map_err(error_out)
    }

    fn snapshot(&self, id: &ol::OperationId) -> Result<Option<ol::OperationLifecycleSnapshot>, Refused> {
        // Built where it is returned: each move through `Option` and
        // `Result` would copy it.
        let state = self.registry.read().map_err(error_out)?;
        match state.seen(&id_in(id)) {
            Some(seen) => snapshot_out(seen).map(Some),
            None => Ok(None),
        }
    }

    fn list_operations(&self) -> Result<Vec<ol::OperationLifecycleSnapshot>, Refused> {
        let all = self.registry.inspect_all(snapshot_out).map_err(error_out)?;
        // Collected into a list of the right size at once (collecting
        // `Result`s cannot know the size, and these snapshots are large).
        let mut out = Vec::with_capacity(all.len());
        for snapshot in all {
            out.push(snapshot?);
        }
        Ok(out)
    }

    fn terminate_owner(&self, reason: String) -> Result<(), Refused> {
        self.registry.terminate_owner(reason).map_err(error_out)
    }

    fn classify_operation_terminality(
        &self,
        _id: &ol::OperationId,
        status: ol::OperationStatus,
    ) -> Result<bool, Refused> {
        Ok(status_in(status).is_terminal())
    }

    fn classify_operation_public_result(
        &self,
        id: &ol::OperationId,
    ) -> Result<ol::OperationPublicResultClass, Refused> {
        self.registry.public_result(&id_in(id)).map(class_out).map_err(error_out)
    }

    fn classify_operation_completion_wake(
        &self,
        _id: &ol::OperationId,
        kind: ol::OperationKind,
    ) -> Result<ol::OperationCompletionWakeClass, Refused> {
        Ok(match self.registry.wakes_owner(kind_in(kind)).map_err(error_out)? {
            true => ol::OperationCompletionWakeClass::Wake,
            false => ol::OperationCompletionWakeClass::Ignore,
        })
    }

    fn classify_operation_transition_idempotence(
        &self,
        id: &ol::OperationId,
        action: ol::OperationLifecycleAction,
    ) -> Result<bool, Refused> {
        match input_of(action) {
            Some(input) => self.registry.refusal_repeats(&id_in(id), input).map_err(error_out),
            // Owner termination is no call on one operation: it has no
            // retry row, and is no repeat of anything.
            None => Ok(false),
        }
    }

    fn register_operation_with_admission_limit(
        &self,
        spec: ol::OperationSpec,
        max_concurrent: Option<usize>,
    ) -> Result<(), Refused> {
        let spec = spec_in(spec)?;
        match max_concurrent {
            None => self.registry.register_operation(spec),
            Some(limit) => self.registry.register_operation_within(spec, u32::try_from(limit).unwrap_or(u32::MAX)),
        }
        .map_err(error_out)
    }

    fn collect_completed(&self) -> Result<Vec<(ol::OperationId, ol::OperationTerminalOutcome)>, Refused> {
        let collected = self.registry.collect_completed().map_err(error_out)?;
        Ok(collected.into_iter().map(|(id, outcome)| (id_out(id), outcome_out(&outcome))).collect())
    }

    fn completion_feed(&self) -> Option<std::sync::Arc<dyn CompletionFeed>> {
        Some(self.feed.clone())
    }

    fn completion_cursor(&self, consumer: ol::CompletionCursorConsumer) -> Result<Option<CompletionSeq>, Refused> {
        self.registry.cursor(consumer_name(consumer)).map(Some).map_err(error_out)
    }

    fn advance_completion_cursor(
        &self,
        consumer: ol::CompletionCursorConsumer,
        cursor: CompletionSeq,
        projection: Option<&EpochCursorState>,
    ) -> Result<CompletionSeq, Refused> {
        // A cursor never goes back: asked to, it stays where it is, which
        // Meerkat's interface reports as where the advance left it.
        let advanced = match self.registry.advance_cursor(consumer_name(consumer), cursor) {
            Ok(advanced) => advanced,
            Err(OpsLifecycleError::Cursor { why: CursorRefusal::Backwards { current, .. }, .. }) => current,
            Err(other) => return Err(error_out(other)),
        };
        if let Some(projection) = projection {
            projection.project_authorized_completion_cursor(consumer, advanced);
        }
        Ok(advanced)
    }

    fn wait_all(
        &self,
        run_id: &RunId,
        ids: &[ol::OperationId],
    ) -> Pin<Box<dyn Future<Output = Result<ol::WaitAllResult, Refused>> + Send + '_>> {
        let ids: Vec<ours::OperationId> = ids.iter().map(id_in).collect();
        let waiting = self.registry.wait_all(&ours::RunId(run_id.0), &ids);
        Box::pin(async move {
            let done = waiting.await.map_err(error_out)?;
            Ok(ol::WaitAllResult {
                outcomes: done.outcomes.iter().map(|(id, outcome)| (id_out(*id), outcome_out(outcome))).collect(),
                satisfied: ol::WaitAllSatisfied {
                    wait_request_id: WaitRequestId(done.satisfied.wait_request_id.0),
                    run_id: RunId(done.satisfied.run_id.0),
                    operation_ids: done.satisfied.operation_ids.into_iter().map(id_out).collect(),
                },
            })
        })
    }
}

/// Meerkat's snapshot of one of the registry's.
/// Meerkat's snapshot of the operation `seen`, built from the registry's
/// state under its lock (nothing Meerkat's type does not hold is copied).
fn snapshot_out(seen: Seen<'_>) -> Result<ol::OperationLifecycleSnapshot, Refused> {
    let Seen { id, op, record, table } = seen;
    let status = op.status();
    Ok(ol::OperationLifecycleSnapshot {
        id: id_out(id),
        kind: kind_out(record.kind),
        owner_session_id: SessionId(record.origin.owner_session_id.0),
        display_name: record.display_name.clone(),
        source_label: record.origin.source_label.clone(),
        operation_source: record.origin.operation_source.as_deref().cloned().map(source_out).transpose()?,
        status: status_out(status),
        terminal: status.is_terminal(),
        public_result_class: class_out(table.public_result(status)),
        peer_ready: op.peer_ready(),
        progress_count: op.progress_count(),
        watcher_count: op.watcher_count(),
        terminal_outcome: op.outcome().map(outcome_out),
        child_session_id: record.child_session_id.map(|child| SessionId(child.0)),
        expect_peer_channel: record.kind.expects_peer_channel(),
        peer_handle: record.peer_handle.as_deref().cloned().map(peer_out).transpose()?,
        created_at_ms: record.created_ms,
        started_at_ms: record.started_ms,
        completed_at_ms: record.completed_ms,
        elapsed_ms: record.elapsed_ms(),
    })
}

impl<L: StateLock<RegistryState>> CompletionFeed for MeerkatFeed<L> {
    fn watermark(&self) -> CompletionSeq {
        // Never fails today (read without the lock); 0 is "nothing yet".
        self.registry.feed_watermark().unwrap_or_default()
    }

    fn list_since(&self, after_seq: CompletionSeq) -> CompletionBatch {
        // The page and what retention dropped are read together.
        match self.registry.list_since(after_seq) {
            Ok(page) => CompletionBatch {
                entries: page.entries.iter().map(entry_out).collect(),
                watermark: page.watermark,
                dropped_through: page.dropped_through,
            },
            Err(_) => CompletionBatch { entries: Vec::new(), watermark: after_seq, dropped_through: 0 },
        }
    }

    fn wait_for_advance(&self, after_seq: CompletionSeq) -> Pin<Box<dyn Future<Output = CompletionSeq> + Send + '_>> {
        Box::pin(self.registry.wait_for_watermark(after_seq))
    }
}

translations!(meerkat_core_0_9, #[cfg(all())]);

/// A call refused because the owner terminated: Meerkat's `OwnerRetired`.
fn owner_terminated() -> Refused {
    ol::OpsLifecycleError::OwnerRetired
}

fn class_out(result: PublicResult) -> ol::OperationPublicResultClass {
    match result {
        PublicResult::Unknown => ol::OperationPublicResultClass::MissingAuthority,
        PublicResult::Running => ol::OperationPublicResultClass::Running,
        PublicResult::Completed => ol::OperationPublicResultClass::Completed,
        PublicResult::Failed => ol::OperationPublicResultClass::Failed,
        PublicResult::Cancelled => ol::OperationPublicResultClass::Cancelled,
    }
}

/// The name under which the registry keeps `consumer`'s cursor.
fn consumer_name(consumer: ol::CompletionCursorConsumer) -> &'static str {
    match consumer {
        ol::CompletionCursorConsumer::AgentApplied => "agent_applied",
        ol::CompletionCursorConsumer::RuntimeObserved => "runtime_observed",
        ol::CompletionCursorConsumer::RuntimeInjected => "runtime_injected",
    }
}

/// The table's input for a lifecycle action on one operation.
fn input_of(action: ol::OperationLifecycleAction) -> Option<Input> {
    use ol::OperationLifecycleAction as A;
    Some(match action {
        A::Start => Input::ProvisioningSucceeded,
        A::Fail => Input::Fail,
        A::PeerReady => Input::PeerReady,
        A::ProgressReported => Input::ReportProgress,
        A::Complete => Input::Complete,
        A::Abort => Input::AbortProvisioning,
        A::Cancel => Input::Cancel,
        A::RetireRequested => Input::RequestRetire,
        A::RetireCompleted => Input::MarkRetired,
        A::Terminate => return None,
    })
}

fn status_in(status: ol::OperationStatus) -> ours::OperationStatus {
    use ol::OperationStatus as Theirs;
    use ours::OperationStatus as Ours;
    match status {
        Theirs::Absent => Ours::Absent,
        Theirs::Provisioning => Ours::Provisioning,
        Theirs::Running => Ours::Running,
        Theirs::Retiring => Ours::Retiring,
        Theirs::Completed => Ours::Completed,
        Theirs::Failed => Ours::Failed,
        Theirs::Aborted => Ours::Aborted,
        Theirs::Cancelled => Ours::Cancelled,
        Theirs::Retired => Ours::Retired,
        Theirs::Terminated => Ours::Terminated,
    }
}

/// The table's kind: the same four.
fn kind_in(kind: ol::OperationKind) -> OperationKind {
    match kind {
        ol::OperationKind::MobMemberChild => OperationKind::MobMemberChild,
        ol::OperationKind::BackgroundToolOp => OperationKind::BackgroundToolOp,
        ol::OperationKind::BackgroundToolCapacitySlot => OperationKind::BackgroundToolCapacitySlot,
        ol::OperationKind::DetachedJobWait => OperationKind::DetachedJobWait,
    }
}

fn kind_out(kind: OperationKind) -> ol::OperationKind {
    match kind {
        OperationKind::MobMemberChild => ol::OperationKind::MobMemberChild,
        OperationKind::BackgroundToolOp => ol::OperationKind::BackgroundToolOp,
        OperationKind::BackgroundToolCapacitySlot => ol::OperationKind::BackgroundToolCapacitySlot,
        OperationKind::DetachedJobWait => ol::OperationKind::DetachedJobWait,
    }
}

fn spec_in(spec: ol::OperationSpec) -> Result<ours::OperationSpec, Refused> {
    Ok(ours::OperationSpec {
        id: ours::OperationId(spec.id.0),
        kind: kind_in(spec.kind),
        owner_session_id: ours::SessionId(spec.owner_session_id.0),
        display_name: spec.display_name,
        source_label: spec.source_label,
        child_session_id: spec.child_session_id.map(|child| ours::SessionId(child.0)),
        expect_peer_channel: spec.expect_peer_channel,
        operation_source: spec.operation_source.map(source_in),
    })
}

fn source_in(source: ol::OperationSource) -> OperationSource {
    match source {
        ol::OperationSource::SessionChild { session_id } => {
            OperationSource::SessionChild { session_id: ours::SessionId(session_id.0) }
        }
        ol::OperationSource::BackendPeer { peer_id, address } => {
            OperationSource::BackendPeer { peer_id: peer_id.to_string(), address: address.to_string() }
        }
        ol::OperationSource::DetachedJob { realm_id, job_id } => OperationSource::DetachedJob { realm_id, job_id },
    }
}

/// Meerkat's source of one the registry keeps; only a source that came
/// through Meerkat's interface (or was written as Meerkat writes it)
/// translates back.
fn source_out(source: OperationSource) -> Result<ol::OperationSource, Refused> {
    Ok(match source {
        OperationSource::SessionChild { session_id } => {
            ol::OperationSource::SessionChild { session_id: SessionId(session_id.0) }
        }
        OperationSource::BackendPeer { peer_id, address } => ol::OperationSource::BackendPeer {
            peer_id: PeerId::parse(&peer_id).map_err(|e| untranslatable("peer id", &peer_id, e))?,
            address: PeerAddress::parse(&address).map_err(|e| untranslatable("peer address", &address, e))?,
        },
        OperationSource::DetachedJob { realm_id, job_id } => ol::OperationSource::DetachedJob { realm_id, job_id },
    })
}

/// Meerkat's handle names the peer twice (the owner's name for it and the
/// trust store's); the registry keeps the second only where it differs.
fn peer_in(peer: ol::OperationPeerHandle) -> ours::OperationPeerHandle {
    let trusted = peer.trusted_peer;
    let peer_name = peer.peer_name.as_string();
    let trusted_name = (trusted.name != peer.peer_name).then(|| trusted.name.as_string());
    ours::OperationPeerHandle {
        peer_name,
        peer_id: trusted.peer_id.to_string(),
        address: trusted.address.to_string(),
        trusted_name,
        public_key: Some(trusted.pubkey),
    }
}

fn peer_out(peer: ours::OperationPeerHandle) -> Result<ol::OperationPeerHandle, Refused> {
    let trusted_name = peer.trusted_name.as_deref().unwrap_or(&peer.peer_name);
    Ok(ol::OperationPeerHandle {
        peer_name: PeerName::new(peer.peer_name.clone())
            .map_err(|e| untranslatable("peer name", &peer.peer_name, e))?,
        trusted_peer: TrustedPeerDescriptor {
            peer_id: PeerId::parse(&peer.peer_id).map_err(|e| untranslatable("peer id", &peer.peer_id, e))?,
            name: PeerName::new(trusted_name).map_err(|e| untranslatable("peer name", trusted_name, e))?,
            address: PeerAddress::parse(&peer.address).map_err(|e| untranslatable("peer address", &peer.address, e))?,
            pubkey: peer.public_key.unwrap_or_default(),
        },
    })
}

/// A value the registry keeps that Meerkat's types cannot hold (it came
/// through the registry's own interface, not Meerkat's).
fn untranslatable(what: &str, value: &str, why: impl std::fmt::Display) -> Refused {
    ol::OpsLifecycleError::Internal(format!("{what} {value:?} has no form in Meerkat's types: {why}"))
}
