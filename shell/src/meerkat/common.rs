//! The translations both published lines of Meerkat's interface share:
//! ids, statuses, results, outcomes, feed entries and refusals have the
//! same shape in meerkat-core 0.5 and 0.9.8, so they are written once here
//! and instantiated in each line's module over that line's crate.
//!
//! Each module that invokes [`translations!`] defines `kind_out` (the kinds
//! differ between the lines) and `owner_terminated` (what a call refused
//! because the owner terminated is in that line's words).

/// Defines, over Meerkat's crate `$mk`: `id_in`, `id_out`, `status_out`,
/// `result_in`, `outcome_out`, `error_out`, and `entry_out` under `$feed`
/// (the cfg of that line's completion feed).
macro_rules! translations {
    ($mk:ident, #[$feed:meta]) => {
        fn id_in(id: &$mk::ops_lifecycle::OperationId) -> crate::types::OperationId {
            crate::types::OperationId(id.0)
        }

        fn id_out(id: crate::types::OperationId) -> $mk::ops_lifecycle::OperationId {
            $mk::ops_lifecycle::OperationId(id.0)
        }

        fn status_out(status: crate::types::OperationStatus) -> $mk::ops_lifecycle::OperationStatus {
            use crate::types::OperationStatus as Ours;
            use $mk::ops_lifecycle::OperationStatus as Theirs;
            match status {
                Ours::Absent => Theirs::Absent,
                Ours::Provisioning => Theirs::Provisioning,
                Ours::Running => Theirs::Running,
                Ours::Retiring => Theirs::Retiring,
                Ours::Completed => Theirs::Completed,
                Ours::Failed => Theirs::Failed,
                Ours::Aborted => Theirs::Aborted,
                Ours::Cancelled => Theirs::Cancelled,
                Ours::Retired => Theirs::Retired,
                Ours::Terminated => Theirs::Terminated,
            }
        }

        fn result_in(result: $mk::ops_lifecycle::OperationResult) -> crate::types::OperationResult {
            crate::types::OperationResult {
                id: crate::types::OperationId(result.id.0),
                content: result.content,
                is_error: result.is_error,
                duration_ms: result.duration_ms,
                tokens_used: result.tokens_used,
            }
        }

        fn outcome_out(
            outcome: &crate::types::OperationTerminalOutcome,
        ) -> $mk::ops_lifecycle::OperationTerminalOutcome {
            use crate::types::OperationTerminalOutcome as Ours;
            use $mk::ops_lifecycle::OperationTerminalOutcome as Theirs;
            match outcome {
                Ours::Completed(result) => Theirs::Completed($mk::ops_lifecycle::OperationResult {
                    id: id_out(result.id),
                    content: result.content.clone(),
                    is_error: result.is_error,
                    duration_ms: result.duration_ms,
                    tokens_used: result.tokens_used,
                }),
                Ours::Failed { error } => Theirs::Failed { error: error.clone() },
                Ours::Aborted { reason } => Theirs::Aborted { reason: reason.clone() },
                Ours::Cancelled { reason } => Theirs::Cancelled { reason: reason.clone() },
                Ours::Retired => Theirs::Retired,
                Ours::Terminated { reason } => Theirs::Terminated { reason: reason.clone() },
            }
        }

        #[$feed]
        fn entry_out(entry: &crate::feed::CompletionFeedEntry) -> $mk::completion_feed::CompletionEntry {
            $mk::completion_feed::CompletionEntry {
                seq: entry.seq,
                operation_id: id_out(entry.id),
                kind: kind_out(entry.kind),
                display_name: entry.display_name.clone(),
                terminal_outcome: outcome_out(&entry.outcome),
                completed_at_ms: Some(entry.completed_at_ms),
            }
        }

        /// The registry's error as Meerkat's: the same variant where Meerkat
        /// has one, `Internal` with the registry's message where it has none.
        fn error_out(error: crate::error::OpsLifecycleError) -> $mk::ops_lifecycle::OpsLifecycleError {
            use crate::error::Refusal;
            use $mk::ops_lifecycle::OpsLifecycleError as Theirs;
            let refusal = match error {
                crate::error::OpsLifecycleError::Refused(refusal) => refusal,
                other => return Theirs::Internal(other.to_string()),
            };
            match refusal {
                Refusal::NotFound(id) => Theirs::NotFound(id_out(id)),
                Refusal::AlreadyRegistered(id) => Theirs::AlreadyRegistered(id_out(id)),
                Refusal::InvalidTransition { id, status, action, .. } => {
                    Theirs::InvalidTransition { id: id_out(id), status: status_out(status), action: action.name() }
                }
                Refusal::PeerNotExpected(id) => Theirs::PeerNotExpected(id_out(id)),
                Refusal::AlreadyPeerReady(id) => Theirs::AlreadyPeerReady(id_out(id)),
                Refusal::MaxConcurrentExceeded { limit, active } => Theirs::MaxConcurrentExceeded { limit, active },
                Refusal::AdmissionLimitExceeded { limit, active, .. } => Theirs::MaxConcurrentExceeded {
                    limit: usize::try_from(limit).unwrap_or(usize::MAX),
                    active: usize::try_from(active).unwrap_or(usize::MAX),
                },
                Refusal::DuplicateWaitOperation(id) => Theirs::DuplicateWaitOperation(id_out(id)),
                Refusal::WaitNotActive(wait) => Theirs::WaitNotActive($mk::lifecycle::WaitRequestId(wait.0)),
                Refusal::OwnerTerminated => owner_terminated(),
                // A spec whose peer expectation disagrees with its kind: the
                // registration is not allowed from `Absent`.
                Refusal::PeerExpectationMismatch { id, .. } => Theirs::InvalidTransition {
                    id: id_out(id),
                    status: $mk::ops_lifecycle::OperationStatus::Absent,
                    action: oplife_spec::Input::Register.name(),
                },
                // A spec whose source disagrees with its kind or its child
                // session: the registration is not allowed from `Absent`.
                Refusal::SourceMismatch { id, .. } => Theirs::InvalidTransition {
                    id: id_out(id),
                    status: $mk::ops_lifecycle::OperationStatus::Absent,
                    action: oplife_spec::Input::Register.name(),
                },
                // A rollback of a registration someone observed: its row
                // (from `Provisioning`) does not allow it.
                Refusal::RegistrationObserved { id, .. } => Theirs::InvalidTransition {
                    id: id_out(id),
                    status: $mk::ops_lifecycle::OperationStatus::Provisioning,
                    action: oplife_spec::Input::RollbackRegistration.name(),
                },
                other => Theirs::Internal(other.to_string()),
            }
        }
    };
}

pub(super) use translations;
