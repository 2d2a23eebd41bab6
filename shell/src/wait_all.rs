//! The future `wait_all` returns: ready at once, or pending on the channel
//! the registry fills; dropping it while pending cancels its wait request in
//! the machine.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::error::OpsLifecycleError;
use crate::lock::StateLock;
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::state::RegistryState;
use crate::types::{WaitAllResult, WaitRequestId};

pub(crate) enum WaitState {
    Ready(Option<Result<WaitAllResult, OpsLifecycleError>>),
    Pending { wait: WaitRequestId, rx: oneshot::Receiver<WaitAllResult> },
    Done,
}

/// A `wait_all` in flight; dropping it while pending cancels its wait
/// request inside the machine.
pub(crate) struct WaitAll<'a, L: StateLock<RegistryState>> {
    registry: &'a RuntimeOpsLifecycleRegistry<L>,
    state: WaitState,
}

impl<'a, L: StateLock<RegistryState>> WaitAll<'a, L> {
    /// The future of a wait that began as `state`.
    pub(crate) fn new(registry: &'a RuntimeOpsLifecycleRegistry<L>, state: WaitState) -> Self {
        WaitAll { registry, state }
    }
}

impl<L: StateLock<RegistryState>> Future for WaitAll<'_, L> {
    type Output = Result<WaitAllResult, OpsLifecycleError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match &mut this.state {
            WaitState::Ready(result) => {
                let result = result.take().unwrap_or(Err(OpsLifecycleError::Closed));
                this.state = WaitState::Done;
                Poll::Ready(result)
            }
            WaitState::Pending { rx, .. } => match Pin::new(rx).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(received) => {
                    this.state = WaitState::Done;
                    Poll::Ready(received.map_err(|_| OpsLifecycleError::Closed))
                }
            },
            WaitState::Done => Poll::Ready(Err(OpsLifecycleError::Closed)),
        }
    }
}

impl<L: StateLock<RegistryState>> Drop for WaitAll<'_, L> {
    fn drop(&mut self) {
        if let WaitState::Pending { wait, .. } = self.state {
            self.registry.cancel_wait(wait);
        }
    }
}
