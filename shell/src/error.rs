//! The registry's typed errors.

use oplife_machine::LifecycleError;
use oplife_spec::{Guard, Input, OperationKind, Retry, Status};
use thiserror::Error;

use crate::types::{OperationId, ShellDomain, WaitRequestId};

/// Why a registry call was refused. A refused call changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpsLifecycleError {
    /// The operation is unknown (never registered, or forgotten).
    #[error("operation {0} not found")]
    NotFound(OperationId),
    /// The operation is already registered.
    #[error("operation {0} is already registered")]
    AlreadyRegistered(OperationId),
    /// The call is not allowed in the operation's status.
    #[error("{action} is not allowed for operation {id} in status {status}")]
    InvalidTransition {
        /// The operation.
        id: OperationId,
        /// Its status.
        status: Status,
        /// The refused call.
        action: Input,
        /// What the refusal is as a retry, from the table's retry rows:
        /// a repeat of what already happened (safe to treat as success), a
        /// conflict (the operation ended another way), or invalid.
        retry: Retry,
    },
    /// `peer_ready` for a kind without a peer channel.
    #[error("operation {0} does not expose a peer channel")]
    PeerNotExpected(OperationId),
    /// `peer_ready` a second time.
    #[error("operation {0} is already peer-ready")]
    AlreadyPeerReady(OperationId),
    /// Registration while `limit` operations are active.
    #[error("concurrency limit reached: {active} of {limit} operations active")]
    MaxConcurrentExceeded {
        /// The configured limit.
        limit: usize,
        /// The active count.
        active: usize,
    },
    /// Registration while the caller's limit of active operations of the
    /// same kind is reached ([`crate::OpsLifecycleRegistry::register_operation_limited`]).
    #[error("admission limit reached: {active} of {limit} {kind:?} operations active")]
    AdmissionLimitExceeded {
        /// The kind registered.
        kind: OperationKind,
        /// The caller's limit.
        limit: u32,
        /// The kind's active count.
        active: u32,
    },
    /// `wait_all` lists an operation twice.
    #[error("operation {0} is listed twice in one wait")]
    DuplicateWaitOperation(OperationId),
    /// The wait request is not pending.
    #[error("wait request {0} is not pending")]
    WaitNotActive(WaitRequestId),
    /// The wait request id is already pending.
    #[error("wait request {0} is already pending")]
    DuplicateWaitRequest(WaitRequestId),
    /// No watcher of the operation is pending.
    #[error("operation {0} has no pending watcher")]
    WatcherNotPending(OperationId),
    /// `rollback_registration` of an operation someone already observed:
    /// `guard` says how (a watcher, a wait, progress, a peer).
    #[error("the registration of {id} cannot be rolled back: {guard} does not hold")]
    RegistrationObserved {
        /// The operation.
        id: OperationId,
        /// The table's guard that does not hold.
        guard: Guard,
    },
    /// The owner terminated; the registry takes no new operations.
    #[error("the owner has terminated; no operation can be registered")]
    OwnerTerminated,
    /// The spec's `expect_peer_channel` disagrees with its kind.
    #[error("operation {id} of kind {kind:?} cannot have expect_peer_channel = {expect_peer_channel}")]
    PeerExpectationMismatch {
        /// The operation.
        id: OperationId,
        /// Its kind.
        kind: OperationKind,
        /// What the spec said.
        expect_peer_channel: bool,
    },
    /// `complete_operation` for one operation with the result of another.
    #[error("the result of operation {result} was given to complete operation {call}")]
    ResultIdMismatch {
        /// The operation the call names.
        call: OperationId,
        /// The operation the result belongs to.
        result: OperationId,
    },
    /// The registry's lock was poisoned by a panic in another thread.
    #[error("the registry lock is poisoned")]
    Poisoned,
    /// The registry was dropped before the watch or wait resolved.
    #[error("the registry was dropped before the outcome arrived")]
    Closed,
    /// A durable registry could not write the transition: the call was not
    /// made and nothing changed (in `Batched` mode, after a failed group
    /// commit, until a `flush` succeeds).
    #[error("the transition could not be made durable: {0}")]
    Store(#[from] StoreError),
    /// A consumer's cursor cannot move there.
    #[error("cursor of {consumer:?}: {why}")]
    Cursor {
        /// The consumer.
        consumer: String,
        /// Why the cursor cannot move.
        why: CursorRefusal,
    },
    /// The machine met a table it cannot execute (never with the shipped
    /// table).
    #[error("internal error: {0}")]
    Internal(String),
    /// The registry is sealed: a newer owner took its durable store over
    /// (a write of this registry was fenced). It refuses every call that
    /// could change it and stays readable; nothing it acknowledged before
    /// the takeover is lost, nothing after it is accepted.
    #[error("the registry is sealed: a newer owner took its store over")]
    Fenced,
}

/// Why a durable store could not read or write. A failed write stored
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The store (its file, or the connection) is read-only.
    #[error("the store is read-only")]
    ReadOnly,
    /// The store is full (the disk, or a size limit).
    #[error("the store is full")]
    Full,
    /// Another connection holds the store locked.
    #[error("the store is locked by another connection")]
    Busy,
    /// The store's own structures are damaged (not a record the registry
    /// wrote: recovery reports those as a `RecoveryError`).
    #[error("the store is corrupt: {0}")]
    Corrupt(String),
    /// Any other failure, with the store's message.
    #[error("the store failed: {0}")]
    Other(String),
    /// A live owner holds the store: it cannot be claimed without a
    /// takeover ([`crate::Claim::TakeOver`]).
    #[error("the store is owned by {owner}")]
    Owned {
        /// Who holds it, as far as the store knows.
        owner: Owner,
    },
    /// A newer owner took the store over: a write of an older epoch is
    /// refused, and nothing of it is stored.
    #[error("write fenced: this writer holds epoch {epoch}, the store is at epoch {current}")]
    Fenced {
        /// The epoch of the writer.
        epoch: u64,
        /// The store's epoch now.
        current: u64,
    },
    /// The file or database is not a store of this crate (another
    /// application's database, a file of another format, a directory, a
    /// truncated file): it was left as it was.
    #[error("not an oplife store: {0}")]
    NotOurs(String),
}

/// The owner a store records: the epoch it claimed, and who it was.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Owner {
    /// The fencing epoch: every claim takes one above every earlier one.
    pub epoch: u64,
    /// The owning process id, where the store knows it.
    pub pid: Option<u32>,
    /// The owning host, where the store knows it.
    pub host: Option<String>,
    /// When the owner claimed the store, in milliseconds since the Unix
    /// epoch, where the store knows it.
    pub since_ms: Option<u64>,
}

#[cfg(feature = "durable")]
impl Owner {
    /// An owner at `epoch`: this process, on this host, from now.
    pub(crate) fn of_this_process(epoch: u64) -> Owner {
        let since_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| u64::try_from(d.as_millis()).ok());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .filter(|h| !h.is_empty());
        Owner { epoch, pid: Some(std::process::id()), host, since_ms }
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "epoch {}", self.epoch)?;
        if let Some(pid) = self.pid {
            write!(f, ", process {pid}")?;
        }
        if let Some(host) = &self.host {
            write!(f, " on {host}")?;
        }
        if let Some(since) = self.since_ms {
            write!(f, ", since {since} ms after the Unix epoch")?;
        }
        Ok(())
    }
}

/// Why [`crate::RuntimeOpsLifecycleRegistry::advance_cursor`] refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CursorRefusal {
    /// Cursors never go back.
    #[error("cannot go back from {current} to {asked}")]
    Backwards {
        /// Where the cursor is.
        current: u64,
        /// Where it was asked to go.
        asked: u64,
    },
    /// A cursor never passes the durable watermark: an entry a crash can
    /// still lose cannot be acknowledged.
    #[error("{asked} is past the durable watermark {durable}")]
    PastWatermark {
        /// Where it was asked to go.
        asked: u64,
        /// The durable watermark.
        durable: u64,
    },
    /// Consumer names are 1 to 256 bytes.
    #[error("a consumer name must be 1 to 256 bytes")]
    BadName,
}

impl OpsLifecycleError {
    /// What the refusal is as a retry: after a timeout or a restart a
    /// caller may send a call again, and a [`Retry::Repeat`] means what it
    /// asks for already happened with the same payload (safe to treat as
    /// success); [`Retry::Conflict`] means the operation ended another way.
    /// Every error but `InvalidTransition` is [`Retry::Invalid`].
    ///
    /// ```
    /// use oplife_shell::prelude::*;
    /// use oplife_shell::Retry;
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let spec = OperationSpec::background_tool(SessionId::new(), "grep");
    /// let id = spec.id;
    /// registry.register_operation(spec)?;
    /// registry.provisioning_succeeded(&id)?;
    /// registry.complete_operation(&id, OperationResult::new(id, "3 matches"))?;
    /// // the caller timed out and sends the same completion again
    /// let again = registry.complete_operation(&id, OperationResult::new(id, "3 matches")).unwrap_err();
    /// assert_eq!(again.retry(), Retry::Repeat);
    /// let other = registry.complete_operation(&id, OperationResult::new(id, "4 matches")).unwrap_err();
    /// assert_eq!(other.retry(), Retry::Conflict);
    /// assert_eq!(registry.cancel_operation(&id, None).unwrap_err().retry(), Retry::Conflict);
    /// # Ok::<(), OpsLifecycleError>(())
    /// ```
    pub fn retry(&self) -> Retry {
        match self {
            OpsLifecycleError::InvalidTransition { retry, .. } => *retry,
            _ => Retry::Invalid,
        }
    }
}

impl From<LifecycleError<ShellDomain>> for OpsLifecycleError {
    fn from(error: LifecycleError<ShellDomain>) -> Self {
        match error {
            LifecycleError::NotFound(id) => Self::NotFound(id),
            LifecycleError::AlreadyRegistered(id) => Self::AlreadyRegistered(id),
            LifecycleError::InvalidTransition { id, status, action, retry } => {
                Self::InvalidTransition { id, status, action, retry }
            }
            LifecycleError::PeerNotExpected(id) => Self::PeerNotExpected(id),
            LifecycleError::AlreadyPeerReady(id) => Self::AlreadyPeerReady(id),
            LifecycleError::MaxConcurrentExceeded { limit, active } => Self::MaxConcurrentExceeded { limit, active },
            LifecycleError::AdmissionLimitExceeded { kind, limit, active } => {
                Self::AdmissionLimitExceeded { kind, limit, active }
            }
            LifecycleError::DuplicateWaitOperation(id) => Self::DuplicateWaitOperation(id),
            LifecycleError::WaitNotActive(wait) => Self::WaitNotActive(wait),
            LifecycleError::DuplicateWaitRequest(wait) => Self::DuplicateWaitRequest(wait),
            LifecycleError::WatcherNotPending(id) => Self::WatcherNotPending(id),
            LifecycleError::RegistrationObserved { id, guard } => Self::RegistrationObserved { id, guard },
            LifecycleError::OwnerTerminated => Self::OwnerTerminated,
            LifecycleError::PeerExpectationMismatch { id, kind, expects_peer } => {
                Self::PeerExpectationMismatch { id, kind, expect_peer_channel: expects_peer }
            }
            // Only `restore` produces these, and it reports them as a
            // snapshot error; a registry call never does.
            LifecycleError::RegistryInUse | LifecycleError::InvalidImage(_) => Self::Internal(error.to_string()),
            LifecycleError::Internal(message) => Self::Internal(message),
            LifecycleError::Sealed => Self::Fenced,
        }
    }
}
