//! Where an operation comes from: the source a runtime declares when it
//! registers one, kept with its record.

use oplife_spec::SourceClaim;

use crate::ids::SessionId;

/// What an operation stands for outside the registry: a child session, a
/// peer behind a backend, or a detached job. A runtime declares it at
/// registration ([`crate::OperationSpec::operation_source`]); the registry
/// keeps it with the record, journals it, and reports it in snapshots.
///
/// ```
/// use oplife_shell::{OperationSource, OperationSpec, SessionId};
///
/// let child = SessionId::new();
/// let spec = OperationSpec::child_agent(SessionId::new(), "reviewer", child);
/// assert_eq!(spec.operation_source, Some(OperationSource::SessionChild { session_id: child }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
pub enum OperationSource {
    /// A child agent running as its own session.
    SessionChild {
        /// The child's session.
        session_id: SessionId,
    },
    /// A peer reached through a backend.
    BackendPeer {
        /// The peer's id.
        peer_id: String,
        /// Where the peer is reached.
        address: String,
    },
    /// A job that runs detached from the owner's turn.
    DetachedJob {
        /// The realm the job runs in.
        realm_id: String,
        /// The job's id in that realm.
        job_id: String,
    },
}

impl OperationSource {
    /// What the source says, as the transition table checks it: its kind,
    /// and for a child session whether it is the spec's `child`.
    pub(crate) fn claim(&self, child: Option<SessionId>) -> SourceClaim {
        match self {
            OperationSource::SessionChild { session_id } => {
                SourceClaim::SessionChild { of_child: child == Some(*session_id) }
            }
            OperationSource::BackendPeer { .. } => SourceClaim::BackendPeer,
            OperationSource::DetachedJob { .. } => SourceClaim::DetachedJob,
        }
    }
}

/// Who registered an operation and from where: the part of its spec the
/// registry only keeps and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Origin {
    /// The owner session (nil in records written before it was kept).
    pub(crate) owner_session_id: SessionId,
    /// Where it came from (a tool name, a mob role…).
    pub(crate) source_label: String,
    /// What it stands for outside the registry.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub(crate) operation_source: Option<Box<OperationSource>>,
}
