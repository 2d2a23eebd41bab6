//! The durable registry (feature `durable`): every acknowledged transition
//! is journaled in a [`Store`] (SQLite by default), compacted into images
//! by size, and recovered through the machine when the store is reopened.
//!
//! - [`RuntimeOpsLifecycleRegistry::open`] opens a SQLite file;
//!   [`RuntimeOpsLifecycleRegistry::open_store`] any [`Store`].
//! - [`Durability::Sync`]: a call returns once its transition is durable;
//!   a failed write returns [`crate::OpsLifecycleError::Store`] and changes
//!   nothing (the record is written before the call is committed, and
//!   synced after, outside the lock, one sync for many calls).
//!   [`Durability::Batched`]: group commit;
//!   [`RuntimeOpsLifecycleRegistry::flush`] returns the durable watermark.
//! - What is journaled is the table's to say: every accepted call except
//!   the process-local ones (watchers and waits, which end with the
//!   process) and those on operations of a kind that is not durable (a
//!   capacity slot, which no image holds), as the request the machine saw plus the clock reading and
//!   the shell's names, so a replay is exact.
//!
//! [`RuntimeOpsLifecycleRegistry::open`]: crate::RuntimeOpsLifecycleRegistry::open
//! [`RuntimeOpsLifecycleRegistry::open_store`]: crate::RuntimeOpsLifecycleRegistry::open_store
//! [`RuntimeOpsLifecycleRegistry::flush`]: crate::RuntimeOpsLifecycleRegistry::flush

pub(crate) mod journal;
pub(crate) mod journaling;
pub(crate) mod open;
pub(crate) mod options;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
pub(crate) mod sqlite;
pub(crate) mod store;
pub(crate) mod writer;

use crate::error::{OpsLifecycleError, Refusal};
use crate::lock::StateLock;
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::state::RegistryState;

pub use open::{CutRecord, RecoveryError, RecoveryReport};
pub use options::{Claim, Durability, DurableOptions};
#[cfg(feature = "postgres")]
pub use postgres::{MAX_REGISTRY_ID, PostgresOptions, PostgresStore};
pub use sqlite::{DEFAULT_BUSY_TIMEOUT, SqliteStore};
pub use store::{JournalRecord, MemoryStore, Store, Stored, StoredImage, Syncer};
pub use writer::DurableMark;

impl<L: StateLock<RegistryState>> RuntimeOpsLifecycleRegistry<L> {
    /// Commits every transition acknowledged so far and returns the durable
    /// watermark: everything up to it survives a crash. In `Sync` mode
    /// everything acknowledged already is, and this returns at once; a
    /// registry that is not durable reports its live position.
    ///
    /// # Errors
    ///
    /// [`OpsLifecycleError::Store`] when the group commit fails (the
    /// transitions stay queued, calls are refused until a flush succeeds);
    /// `Poisoned`; `Closed` if the writer stopped.
    #[cfg_attr(docsrs, doc(cfg(feature = "durable")))]
    pub async fn flush(&self) -> Result<DurableMark, OpsLifecycleError> {
        let waiting = {
            let state = self.lock()?;
            match state.journal.journal() {
                None => {
                    let feed_watermark = state.machine.state().feed().watermark();
                    return Ok(DurableMark { seq: 0, feed_watermark });
                }
                Some(journal) => journal.ask_flush(),
            }
        };
        let (receiver, target, failures) = waiting;
        let flushed = writer::wait_durable(receiver, target, failures).await;
        if let Err(OpsLifecycleError::Refused(Refusal::Sealed)) = &flushed {
            // The background writer was fenced: seal now, not at the next
            // call, so `owner_state` says so at once.
            self.lock()?.seal();
        }
        flushed
    }

    /// The durable watermark now, without waiting (see
    /// [`RuntimeOpsLifecycleRegistry::flush`]).
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    #[cfg_attr(docsrs, doc(cfg(feature = "durable")))]
    pub fn durable_mark(&self) -> Result<DurableMark, OpsLifecycleError> {
        let state = self.read()?;
        Ok(match state.journal.journal() {
            Some(journal) => journal.mark(),
            None => DurableMark { seq: 0, feed_watermark: state.machine.state().feed().watermark() },
        })
    }
}
