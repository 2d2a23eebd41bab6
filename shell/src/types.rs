//! The registry's vocabulary: ids, specs, results, outcomes, snapshots.

use std::fmt;

use oplife_machine::{Domain, Outcome};
use uuid::Uuid;

pub use oplife_spec::{OperationKind, Status as OperationStatus};

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random (v4) id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

uuid_id!(
    /// Identifies an operation.
    OperationId
);
uuid_id!(
    /// Identifies one `wait_all` request.
    WaitRequestId
);
uuid_id!(
    /// Identifies the turn that waits.
    RunId
);
uuid_id!(
    /// Identifies a session (the owner, or a child's own session).
    SessionId
);

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

/// A progress report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OperationProgressUpdate {
    /// What is happening.
    pub message: String,
    /// How far along, 0 to 100, if known.
    pub percent: Option<u8>,
}

/// How to reach a child agent's peer channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OperationPeerHandle {
    /// The peer's name.
    pub peer_name: String,
    /// The peer's id.
    pub peer_id: String,
    /// Where to reach it.
    pub address: String,
}

/// The payload types of the runtime registry: UUID ids and real results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Runtime;

impl Domain for Runtime {
    type OpId = OperationId;
    type WaitId = WaitRequestId;
    type Result = OperationResult;
    type Error = String;
    type Reason = String;
    type Progress = OperationProgressUpdate;
}

/// The terminal outcome of an operation: `Completed(result)`,
/// `Failed { error }`, `Aborted { reason }`, `Cancelled { reason }`,
/// `Retired` or `Terminated { reason }`.
pub type OperationTerminalOutcome = Outcome<Runtime>;

/// The satisfaction token of a `wait_all`, minted by the machine in the
/// transition that satisfied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitAllSatisfied {
    /// The wait request.
    pub wait_request_id: WaitRequestId,
    /// The operations it waited for, in the order asked.
    pub operation_ids: Vec<OperationId>,
}

/// What `wait_all` resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitAllResult {
    /// Each operation asked for, in order, with the outcome it really ended
    /// with (captured when it ended, so eviction or collection cannot lose
    /// it).
    pub outcomes: Vec<(OperationId, OperationTerminalOutcome)>,
    /// The satisfaction token.
    pub satisfied: WaitAllSatisfied,
}

/// Registry limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OpsLifecycleConfig {
    /// How many terminal records are retained (default 256); the oldest
    /// beyond it are forgotten.
    pub max_completed: usize,
    /// How many operations may be non-terminal at once (`None`: no limit).
    pub max_concurrent: Option<usize>,
    /// How many completion feed entries are retained (default 1024); a
    /// consumer asking for older ones is told which range is gone.
    pub feed_retention: usize,
    /// How many events a subscriber may fall behind before it gets a gap
    /// (default 1024).
    pub event_capacity: usize,
}

/// The default number of events a subscriber may fall behind.
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

impl Default for OpsLifecycleConfig {
    fn default() -> Self {
        OpsLifecycleConfig {
            max_completed: oplife_machine::DEFAULT_MAX_COMPLETED,
            max_concurrent: None,
            feed_retention: oplife_machine::DEFAULT_FEED_RETENTION,
            event_capacity: DEFAULT_EVENT_CAPACITY,
        }
    }
}

impl OpsLifecycleConfig {
    /// The machine limits of this configuration.
    pub fn limits(&self) -> oplife_machine::Limits {
        oplife_machine::Limits {
            max_completed: self.max_completed,
            max_concurrent: self.max_concurrent,
            feed_retention: self.feed_retention,
        }
    }
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

impl Default for RestorePolicy {
    fn default() -> Self {
        RestorePolicy::Terminate { reason: "lost in a restart".to_owned() }
    }
}

impl From<RestorePolicy> for oplife_machine::LostPolicy<Runtime> {
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
    pub terminal_outcome: Option<OperationTerminalOutcome>,
    /// The child's own session, for child agents.
    pub child_session_id: Option<SessionId>,
    /// Wall-clock registration time, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Wall-clock start time, once running.
    pub started_at_ms: Option<u64>,
    /// Wall-clock end time, once terminal.
    pub completed_at_ms: Option<u64>,
    /// Monotonic time from registration to the end, once terminal.
    pub elapsed_ms: Option<u64>,
}
