//! The registry's typed errors.

use oplife_machine::LifecycleError;
use oplife_spec::Retry;
use thiserror::Error;

use crate::types::{OperationId, ShellDomain};

/// Why a registry call was refused. A refused call changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpsLifecycleError {
    /// The machine refused the call: the transition table does not allow
    /// it (see [`Refusal`] for each reason, and [`Refusal::retry`] for what
    /// a refusal is as a retry).
    #[error(transparent)]
    Refused(#[from] Refusal),
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
    /// The registry's own bookkeeping disagrees with the machine (never
    /// expected: a bug of this crate).
    #[error("internal error: {0}")]
    Internal(String),
}

/// A refusal of the machine, with the registry's id types: the operation
/// is unknown, the table does not allow the call in its status, a limit is
/// reached, the registry is sealed (a newer owner took its durable store
/// over: every call that could change it is refused, reads keep working),
/// and so on. Each variant names what the table checked.
pub type Refusal = LifecycleError<ShellDomain>;

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
    /// Every error but a refused transition is [`Retry::Invalid`].
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
            OpsLifecycleError::Refused(refusal) => refusal.retry(),
            _ => Retry::Invalid,
        }
    }
}
