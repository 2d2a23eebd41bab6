//! Watching one operation's terminal outcome, and releasing the watcher
//! when its watch is dropped before the outcome arrives.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use crate::error::OpsLifecycleError;
use crate::types::{OperationId, SharedTerminalOutcome};

/// A watch on one operation's terminal outcome, from
/// [`crate::OpsLifecycleRegistry::register_watcher`]. It resolves exactly
/// once: at once if the operation had already ended, otherwise when it ends.
///
/// Dropping a watch (or the future of [`OperationCompletionWatch::wait`])
/// before its outcome arrives releases its watcher: the registry stops
/// counting it (`watcher_count`), will not notify it, and frees its channel
/// at its next call.
#[derive(Debug)]
pub struct OperationCompletionWatch {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Resolved(SharedTerminalOutcome),
    Pending(Pending),
    /// `wait` took the channel.
    Taken,
}

/// A pending watch's channel and its release.
#[derive(Debug)]
struct Pending {
    rx: Option<oneshot::Receiver<SharedTerminalOutcome>>,
    release: Release,
}

impl Drop for Pending {
    fn drop(&mut self) {
        // The receiver goes first: once the release is queued, any registry
        // call may free the sender, and a sender freed while its receiver
        // (and its task's waker) still exists would wake that task under the
        // registry lock.
        drop(self.rx.take());
    }
}

/// The watchers released by dropped watches, waiting for the registry's
/// next call to tell the machine. Shared by a registry and its watches.
#[derive(Debug, Default)]
pub(crate) struct DroppedWatchers {
    /// How many entries `queue` holds (read without locking it).
    count: AtomicUsize,
    queue: Mutex<Vec<(OperationId, u64)>>,
}

impl DroppedWatchers {
    /// The watchers released since the last call, oldest first.
    pub(crate) fn take(&self) -> Vec<(OperationId, u64)> {
        if self.count.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        self.count.store(0, Ordering::Release);
        std::mem::take(&mut *queue)
    }

    /// Whether no dropped watch waits to be released (read without locking).
    pub(crate) fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    fn push(&self, id: OperationId, key: u64) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.push((id, key));
        self.count.store(queue.len(), Ordering::Release);
    }
}

/// Releases watcher `key` of operation `id` when dropped while armed.
#[derive(Debug)]
struct Release {
    dropped: Arc<DroppedWatchers>,
    id: OperationId,
    key: u64,
    armed: bool,
}

impl Drop for Release {
    fn drop(&mut self) {
        if self.armed {
            self.dropped.push(self.id, self.key);
        }
    }
}

impl OperationCompletionWatch {
    pub(crate) fn resolved(outcome: SharedTerminalOutcome) -> Self {
        OperationCompletionWatch { inner: Inner::Resolved(outcome) }
    }

    /// A pending watch: the sender to notify, and the watch, which releases
    /// watcher `key` of `id` into `dropped` if it is dropped first.
    pub(crate) fn pending(
        dropped: &Arc<DroppedWatchers>,
        id: OperationId,
        key: u64,
    ) -> (oneshot::Sender<SharedTerminalOutcome>, Self) {
        let (tx, rx) = oneshot::channel();
        let release = Release { dropped: Arc::clone(dropped), id, key, armed: true };
        (tx, OperationCompletionWatch { inner: Inner::Pending(Pending { rx: Some(rx), release }) })
    }

    /// Waits for the outcome. Dropping the future before it resolves
    /// releases the watcher, as dropping the watch does.
    ///
    /// # Errors
    ///
    /// [`OpsLifecycleError::Closed`] if the registry was dropped before the
    /// operation ended.
    pub async fn wait(mut self) -> Result<SharedTerminalOutcome, OpsLifecycleError> {
        match std::mem::replace(&mut self.inner, Inner::Taken) {
            Inner::Resolved(outcome) => Ok(outcome),
            Inner::Pending(mut pending) => {
                let Some(rx) = pending.rx.as_mut() else { return Err(OpsLifecycleError::Closed) };
                let received = rx.await;
                // Notified (or the registry is gone): nothing to release.
                pending.release.armed = false;
                received.map_err(|_| OpsLifecycleError::Closed)
            }
            Inner::Taken => Err(OpsLifecycleError::Closed),
        }
    }

    /// The outcome if it is already there, without waiting. Once it has
    /// arrived, every later call (and [`OperationCompletionWatch::wait`])
    /// returns it too.
    pub fn try_outcome(&mut self) -> Option<SharedTerminalOutcome> {
        if let Inner::Pending(pending) = &mut self.inner {
            let outcome = pending.rx.as_mut()?.try_recv().ok()?;
            pending.release.armed = false;
            self.inner = Inner::Resolved(outcome);
        }
        match &self.inner {
            Inner::Resolved(outcome) => Some(outcome.clone()),
            Inner::Pending(_) | Inner::Taken => None,
        }
    }
}
