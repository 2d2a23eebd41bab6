//! Per-consumer completion cursors: each consumer, named by the caller,
//! keeps its own position in the completion feed. In a durable registry
//! the positions are journaled like any transition, so each consumer
//! resumes from its own cursor after a restart.

use crate::error::{CursorRefusal, OpsLifecycleError};
use crate::feed::FeedPage;
use crate::lock::StateLock;
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::state::RegistryState;

/// The longest consumer name, in bytes.
pub const MAX_CONSUMER_NAME: usize = 256;

impl<L: StateLock<RegistryState>> RuntimeOpsLifecycleRegistry<L> {
    /// The feed position `consumer` acknowledged last (0 for a consumer
    /// never seen).
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn cursor(&self, consumer: &str) -> Result<u64, OpsLifecycleError> {
        Ok(self.read()?.cursors.get(consumer).copied().unwrap_or(0))
    }

    /// Moves `consumer`'s cursor to `seq`: the consumer has handled every
    /// feed entry up to it. Moving to where it is changes nothing.
    ///
    /// ```
    /// use oplife_shell::prelude::*;
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let spec = OperationSpec::background_tool(SessionId::new(), "fetch");
    /// let id = spec.id;
    /// registry.register_operation(spec)?;
    /// registry.cancel_operation(&id, None)?;
    /// let page = registry.list_for("indexer")?; // from its cursor, 0
    /// registry.advance_cursor("indexer", page.watermark)?;
    /// assert_eq!(registry.cursor("indexer")?, 1);
    /// assert!(registry.advance_cursor("indexer", 0).is_err()); // never back
    /// assert!(registry.advance_cursor("indexer", 2).is_err()); // never past the watermark
    /// # Ok::<(), OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`OpsLifecycleError::Cursor`] when `seq` is behind the cursor, past
    /// the durable feed watermark (the live one for a registry that is not
    /// durable, or in `Sync` mode), or the name is empty or longer than
    /// [`MAX_CONSUMER_NAME`] bytes; [`OpsLifecycleError::Store`] when the
    /// move cannot be journaled; `Poisoned`. The cursor is unchanged then.
    pub fn advance_cursor(&self, consumer: &str, seq: u64) -> Result<u64, OpsLifecycleError> {
        let refuse = |why| OpsLifecycleError::Cursor { consumer: consumer.to_owned(), why };
        if consumer.is_empty() || consumer.len() > MAX_CONSUMER_NAME {
            return Err(refuse(CursorRefusal::BadName));
        }
        let mut state = self.lock()?;
        let now_ms = state.clock.now_ms();
        let synced = state.move_cursor(consumer, seq, now_ms)?;
        drop(state);
        if let Some(synced) = synced {
            synced.wait().map_err(OpsLifecycleError::Store)?;
        }
        Ok(seq)
    }

    /// The completion feed after `consumer`'s cursor: the page
    /// [`RuntimeOpsLifecycleRegistry::list_since`] gives for it, with the
    /// explicit range retention dropped past the cursor, if any.
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn list_for(&self, consumer: &str) -> Result<FeedPage, OpsLifecycleError> {
        let state = self.read()?;
        let cursor = state.cursors.get(consumer).copied().unwrap_or(0);
        Ok(state.feed_details.page(state.machine.state().feed(), &state.records, cursor))
    }
}
