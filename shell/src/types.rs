//! The registry's vocabulary: ids, specs, results, outcomes, snapshots.

use oplife_machine::{Domain, Outcome};

pub use crate::ids::{OperationId, RunId, SessionId, WaitRequestId};
use crate::percent::Percent;
use crate::source::OperationSource;

pub use oplife_spec::{OperationKind, Status as OperationStatus};

/// What the runtime declares when it registers an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSpec {
    /// The operation's id.
    pub id: OperationId,
    /// Its kind.
    pub kind: OperationKind,
    /// The session that owns it.
    pub owner_session_id: SessionId,
    /// A human-readable name; `list_operations` is ordered by it.
    pub display_name: String,
    /// Where it came from (a tool name, a mob role…).
    pub source_label: String,
    /// The child's own session, for child agents.
    pub child_session_id: Option<SessionId>,
    /// Whether it will expose a peer channel; must agree with `kind`
    /// (`true` exactly for [`OperationKind::MobMemberChild`]).
    pub expect_peer_channel: bool,
    /// What it stands for outside the registry, if declared.
    pub operation_source: Option<OperationSource>,
}

impl OperationSpec {
    /// A background tool job owned by `owner`, with a fresh id. Its source
    /// label is `"tool"`; change any field with struct update syntax.
    ///
    /// ```
    /// use oplife_shell::{OperationKind, OperationSpec, SessionId};
    ///
    /// let spec = OperationSpec::background_tool(SessionId::new(), "grep");
    /// assert_eq!((spec.kind, spec.expect_peer_channel), (OperationKind::BackgroundToolOp, false));
    /// ```
    pub fn background_tool(owner: SessionId, display_name: impl Into<String>) -> Self {
        OperationSpec {
            id: OperationId::new(),
            kind: OperationKind::BackgroundToolOp,
            owner_session_id: owner,
            display_name: display_name.into(),
            source_label: "tool".to_owned(),
            child_session_id: None,
            expect_peer_channel: false,
            operation_source: None,
        }
    }

    /// A capacity slot a background tool owned by `owner` holds while it is
    /// admitted, with a fresh id: its ending is dropped (no feed entry, no
    /// retained record) and it is never journaled. Its source label is
    /// `"tool"`.
    ///
    /// ```
    /// use oplife_shell::prelude::*;
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let slot = OperationSpec::capacity_slot(SessionId::new(), "grep slot");
    /// let id = slot.id;
    /// registry.register_operation(slot)?;
    /// registry.provisioning_succeeded(&id)?;
    /// registry.mark_retired(&id)?;
    /// assert!(registry.snapshot(&id)?.is_none());
    /// assert_eq!(registry.list_since(0)?.watermark, 0);
    /// # Ok::<(), OpsLifecycleError>(())
    /// ```
    pub fn capacity_slot(owner: SessionId, display_name: impl Into<String>) -> Self {
        OperationSpec { kind: OperationKind::BackgroundToolCapacitySlot, ..Self::background_tool(owner, display_name) }
    }

    /// The wait of `owner` on job `job_id` running detached in realm
    /// `realm_id`, with a fresh id and that job as its source: a running one
    /// survives a restart. Its source label is `"job"`.
    pub fn detached_job_wait(
        owner: SessionId,
        display_name: impl Into<String>,
        realm_id: impl Into<String>,
        job_id: impl Into<String>,
    ) -> Self {
        OperationSpec {
            kind: OperationKind::DetachedJobWait,
            source_label: "job".to_owned(),
            operation_source: Some(OperationSource::DetachedJob { realm_id: realm_id.into(), job_id: job_id.into() }),
            ..Self::background_tool(owner, display_name)
        }
    }

    /// A child agent owned by `owner`, running as session `child`, with a
    /// fresh id. It expects a peer channel, as its kind requires; its
    /// source label is `"agent"`.
    pub fn child_agent(owner: SessionId, display_name: impl Into<String>, child: SessionId) -> Self {
        OperationSpec {
            id: OperationId::new(),
            kind: OperationKind::MobMemberChild,
            owner_session_id: owner,
            display_name: display_name.into(),
            source_label: "agent".to_owned(),
            child_session_id: Some(child),
            expect_peer_channel: true,
            operation_source: Some(OperationSource::SessionChild { session_id: child }),
        }
    }
}

/// The result of a completed operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OperationResult {
    /// The operation it belongs to.
    pub id: OperationId,
    /// The content produced.
    pub content: String,
    /// Whether the content describes an error the operation reported.
    pub is_error: bool,
    /// How long the work took.
    pub duration_ms: u64,
    /// Tokens it used.
    pub tokens_used: u64,
}

impl OperationResult {
    /// The result of operation `id`: `content`, not an error, no duration
    /// or tokens recorded.
    ///
    /// ```
    /// use oplife_shell::{OperationId, OperationResult};
    ///
    /// let id = OperationId::new();
    /// assert_eq!(OperationResult::new(id, "3 matches").content, "3 matches");
    /// ```
    pub fn new(id: OperationId, content: impl Into<String>) -> Self {
        OperationResult { id, content: content.into(), is_error: false, duration_ms: 0, tokens_used: 0 }
    }

    /// The result of operation `id` whose content describes an error the
    /// operation reported (it still completed).
    pub fn error(id: OperationId, content: impl Into<String>) -> Self {
        OperationResult { is_error: true, ..OperationResult::new(id, content) }
    }
}

/// A progress report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OperationProgressUpdate {
    /// What is happening.
    pub message: String,
    /// How far along, usually 0 to 100, if known.
    pub percent: Option<Percent>,
}

/// How to reach a child agent's peer channel.
///
/// ```
/// use oplife_shell::OperationPeerHandle;
///
/// let peer = OperationPeerHandle::new("reviewer", "peer-7", "uds:///run/reviewer.sock");
/// assert_eq!(peer.trusted_name, None); // trusted as "reviewer"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OperationPeerHandle {
    /// The name the owner calls the peer by.
    pub peer_name: String,
    /// The peer's id.
    pub peer_id: String,
    /// Where to reach it.
    pub address: String,
    /// The name the trust store records for the peer, where it differs
    /// from `peer_name`.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub trusted_name: Option<String>,
    /// The key the peer signs with, where peers are authenticated by key.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub public_key: Option<[u8; 32]>,
}

impl OperationPeerHandle {
    /// The peer `peer_name` with id `peer_id` at `address`, trusted under
    /// its own name, with no key.
    pub fn new(peer_name: impl Into<String>, peer_id: impl Into<String>, address: impl Into<String>) -> Self {
        OperationPeerHandle {
            peer_name: peer_name.into(),
            peer_id: peer_id.into(),
            address: address.into(),
            trusted_name: None,
            public_key: None,
        }
    }
}

/// The payload types of the runtime registry: UUID ids and real results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ShellDomain;

impl Domain for ShellDomain {
    type OpId = OperationId;
    type WaitId = WaitRequestId;
    type RunId = RunId;
    type Result = OperationResult;
    type Error = String;
    type Reason = String;
    type Progress = OperationProgressUpdate;
    type Shared = SharedTerminalOutcome;
}

/// The terminal outcome of an operation: `Completed(result)`,
/// `Failed { error }`, `Aborted { reason }`, `Cancelled { reason }`,
/// `Retired` or `Terminated { reason }`.
pub type OperationTerminalOutcome = Outcome<ShellDomain>;

/// A terminal outcome as the registry hands it out: one allocation shared
/// by the record, the completion feed and every watch, wait, event and
/// snapshot that reports it, so handing it out copies a pointer, never the
/// result inside. Compare through it: `*shared == outcome`.
pub type SharedTerminalOutcome = std::sync::Arc<OperationTerminalOutcome>;

/// The satisfaction token of a `wait_all`, minted by the machine in the
/// transition that satisfied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitAllSatisfied {
    /// The wait request.
    pub wait_request_id: WaitRequestId,
    /// The run that waited (as `wait_all` was given it).
    pub run_id: RunId,
    /// The operations it waited for, in the order asked.
    pub operation_ids: Vec<OperationId>,
}

/// What `wait_all` resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitAllResult {
    /// Each operation asked for, in order, with the outcome it really ended
    /// with (captured when it ended, so eviction or collection cannot lose
    /// it).
    pub outcomes: Vec<(OperationId, SharedTerminalOutcome)>,
    /// The satisfaction token.
    pub satisfied: WaitAllSatisfied,
}

/// How a restore ends the operations that had not ended when the snapshot
/// was captured: their work was lost with the old process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestorePolicy {
    /// They end `Terminated` with this reason (the default: "lost in a
    /// restart").
    Terminate {
        /// Why.
        reason: String,
    },
    /// They end `Cancelled` with this reason.
    Cancel {
        /// Why, if said.
        reason: Option<String>,
    },
}

/// An unfinished operation a restore keeps as it is, instead of ending it
/// as lost, named exactly: the restore is refused
/// ([`crate::SnapshotError::RetentionMismatch`]) unless the snapshot holds
/// it unfinished, of this kind, registered with this source. A caller that
/// owns work it can pick up again after a reload asks for it this way.
///
/// ```
/// use oplife_shell::prelude::*;
/// use oplife_shell::{RestorePolicy, Retention, SnapshotError};
///
/// let registry = RuntimeOpsLifecycleRegistry::new();
/// let spec = OperationSpec::background_tool(SessionId::new(), "index");
/// let id = spec.id;
/// registry.register_operation(spec)?;
/// registry.provisioning_succeeded(&id)?;
/// let snapshot = registry.capture()?;
///
/// let keep = |kind| vec![Retention { id, kind, source: None }];
/// let restored = RuntimeOpsLifecycleRegistry::restore_keeping(
///     snapshot.clone(),
///     RestorePolicy::default(),
///     keep(OperationKind::BackgroundToolOp),
/// )?;
/// assert_eq!(restored.snapshot(&id)?.unwrap().status, OperationStatus::Running);
///
/// let refused = RuntimeOpsLifecycleRegistry::restore_keeping(
///     snapshot,
///     RestorePolicy::default(),
///     keep(OperationKind::MobMemberChild),
/// );
/// assert!(matches!(refused, Err(SnapshotError::RetentionMismatch { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// The operation.
    pub id: OperationId,
    /// The kind it must have.
    pub kind: OperationKind,
    /// The source it must have been registered with (`None`: none).
    pub source: Option<OperationSource>,
}

impl Default for RestorePolicy {
    fn default() -> Self {
        RestorePolicy::Terminate { reason: "lost in a restart".to_owned() }
    }
}

impl From<RestorePolicy> for oplife_machine::LostPolicy<ShellDomain> {
    fn from(policy: RestorePolicy) -> Self {
        match policy {
            RestorePolicy::Terminate { reason } => oplife_machine::LostPolicy::Terminate { reason },
            RestorePolicy::Cancel { reason } => oplife_machine::LostPolicy::Cancel { reason },
        }
    }
}

/// Everything the registry can tell about one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationLifecycleSnapshot {
    /// Its id.
    pub id: OperationId,
    /// Its kind.
    pub kind: OperationKind,
    /// Its display name.
    pub display_name: String,
    /// Its status.
    pub status: OperationStatus,
    /// What a caller is told of its result, by the table's public results
    /// (a retiring operation still reports running).
    pub public_result: oplife_spec::PublicResult,
    /// Whether it reported its peer ready.
    pub peer_ready: bool,
    /// Its peer handle, once ready.
    pub peer_handle: Option<OperationPeerHandle>,
    /// How many progress reports it made.
    pub progress_count: u32,
    /// The last progress report.
    pub last_progress: Option<OperationProgressUpdate>,
    /// How many watchers are pending on it.
    pub watcher_count: u32,
    /// Its terminal outcome, once terminal.
    pub terminal_outcome: Option<SharedTerminalOutcome>,
    /// The child's own session, for child agents.
    pub child_session_id: Option<SessionId>,
    /// The session that owns it.
    pub owner_session_id: SessionId,
    /// Where it came from (a tool name, a mob role…).
    pub source_label: String,
    /// What it stands for outside the registry, if declared.
    pub operation_source: Option<OperationSource>,
    /// Wall-clock registration time, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Wall-clock start time, once running.
    pub started_at_ms: Option<u64>,
    /// Wall-clock end time, once terminal.
    pub completed_at_ms: Option<u64>,
    /// Monotonic time from registration to the end, once terminal.
    pub elapsed_ms: Option<u64>,
}
