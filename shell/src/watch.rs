//! Watching one operation's terminal outcome.

use tokio::sync::oneshot;

use crate::error::OpsLifecycleError;
use crate::types::OperationTerminalOutcome;

/// A watch on one operation's terminal outcome, from
/// [`crate::OpsLifecycleRegistry::register_watcher`]. It resolves exactly
/// once: at once if the operation had already ended, otherwise when it ends.
#[derive(Debug)]
pub struct OperationCompletionWatch {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Resolved(OperationTerminalOutcome),
    Pending(oneshot::Receiver<OperationTerminalOutcome>),
}

impl OperationCompletionWatch {
    pub(crate) fn resolved(outcome: OperationTerminalOutcome) -> Self {
        OperationCompletionWatch { inner: Inner::Resolved(outcome) }
    }

    pub(crate) fn pending() -> (oneshot::Sender<OperationTerminalOutcome>, Self) {
        let (tx, rx) = oneshot::channel();
        (tx, OperationCompletionWatch { inner: Inner::Pending(rx) })
    }

    /// Waits for the outcome.
    ///
    /// # Errors
    ///
    /// [`OpsLifecycleError::Closed`] if the registry was dropped before the
    /// operation ended.
    pub async fn wait(self) -> Result<OperationTerminalOutcome, OpsLifecycleError> {
        match self.inner {
            Inner::Resolved(outcome) => Ok(outcome),
            Inner::Pending(rx) => rx.await.map_err(|_| OpsLifecycleError::Closed),
        }
    }

    /// The outcome if it is already there, without waiting. Once it has
    /// arrived, every later call (and [`OperationCompletionWatch::wait`])
    /// returns it too.
    pub fn try_outcome(&mut self) -> Option<OperationTerminalOutcome> {
        if let Inner::Pending(rx) = &mut self.inner {
            let outcome = rx.try_recv().ok()?;
            self.inner = Inner::Resolved(outcome);
        }
        match &self.inner {
            Inner::Resolved(outcome) => Some(outcome.clone()),
            Inner::Pending(_) => None,
        }
    }
}
