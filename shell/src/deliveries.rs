//! What a call delivers once the registry's lock is released: watcher and
//! wait results, events, and the feed watermark.

use tokio::sync::oneshot;

use crate::events::OperationEvent;
use crate::journaling::Ticket;
use crate::record::WatcherSender;
use crate::types::{SharedTerminalOutcome, WaitAllResult};

/// Sends to carry out, and senders to drop, once the lock is released: a
/// send or a dropped sender wakes the receiver's task, and no waker runs
/// while the lock is held.
#[derive(Default)]
pub(crate) struct Deliveries {
    /// The pending watchers of the first operation the transition ended,
    /// with its outcome (most transitions end one: no list is allocated).
    pub(crate) watchers: Option<(Vec<WatcherSender>, SharedTerminalOutcome)>,
    /// Those of the other operations it ended (owner termination).
    pub(crate) more_watchers: Vec<(Vec<WatcherSender>, SharedTerminalOutcome)>,
    pub(crate) waits: Vec<(oneshot::Sender<WaitAllResult>, WaitAllResult)>,
    /// Senders of cancelled waits, dropped unsent.
    pub(crate) cancelled: Vec<oneshot::Sender<WaitAllResult>>,
    /// Events of the transition, when anyone subscribes.
    pub(crate) events: Vec<OperationEvent>,
    /// The feed watermark, when the transition minted sequence numbers.
    pub(crate) watermark: Option<u64>,
    /// The group sync that makes the call durable (`Sync`): waited for
    /// before anything else is delivered.
    pub(crate) synced: Option<Ticket>,
}

impl Deliveries {
    /// Carries out the sends, leaving `self` empty (taken by reference: a
    /// struct this size would be copied on a move).
    pub(crate) fn send(&mut self) {
        let more = std::mem::take(&mut self.more_watchers);
        for (mut senders, outcome) in self.watchers.take().into_iter().chain(more) {
            if let Some((_, last)) = senders.pop() {
                for (_, sender) in senders {
                    sender.send(outcome.clone());
                }
                last.send(outcome);
            }
        }
        for (sender, result) in self.waits.drain(..) {
            let _ = sender.send(result);
        }
        self.cancelled.clear();
    }
}
