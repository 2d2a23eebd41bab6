//! Operation events: the machine's event effects as a typed stream.
//!
//! Events are numbered and queued while the registry lock is held (so their
//! order is the order of the transitions), and published after it is
//! released by whichever caller gets the publishing turn, so no subscriber
//! wake-up runs under the registry lock and publishing never blocks a
//! lifecycle call.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

use crate::types::{OperationId, OperationKind, OperationPeerHandle, OperationProgressUpdate, SharedTerminalOutcome};

/// One lifecycle event of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationEvent {
    /// The operation was registered.
    Registered {
        /// The operation.
        id: OperationId,
        /// Its kind.
        kind: OperationKind,
        /// Its display name.
        display_name: String,
    },
    /// Provisioning succeeded: the operation runs.
    Started {
        /// The operation.
        id: OperationId,
    },
    /// The operation reported progress.
    Progress {
        /// The operation.
        id: OperationId,
        /// The update.
        update: OperationProgressUpdate,
    },
    /// The operation's peer channel is ready.
    PeerReady {
        /// The operation.
        id: OperationId,
        /// How to reach the peer.
        peer: OperationPeerHandle,
    },
    /// The operation ended.
    Ended {
        /// The operation.
        id: OperationId,
        /// Its outcome.
        outcome: SharedTerminalOutcome,
        /// The completion feed sequence number its ending got.
        seq: u64,
    },
}

impl OperationEvent {
    /// The operation the event is about.
    pub fn id(&self) -> OperationId {
        match self {
            OperationEvent::Registered { id, .. }
            | OperationEvent::Started { id }
            | OperationEvent::Progress { id, .. }
            | OperationEvent::PeerReady { id, .. }
            | OperationEvent::Ended { id, .. } => *id,
        }
    }
}

/// What a subscriber receives: an event, or an explicit gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservedEvent {
    /// The next event, in transition order.
    Event(OperationEvent),
    /// The subscriber fell behind by more than the registry's event
    /// capacity: this many events were dropped for it (never silently).
    Gap {
        /// How many events it missed.
        missed: u64,
    },
}

/// A subscription to a registry's operation events, from
/// [`crate::RuntimeOpsLifecycleRegistry::subscribe_events`]. It receives
/// every event of every transition made after it subscribed, in order.
#[derive(Debug)]
pub struct OperationEvents {
    receiver: broadcast::Receiver<(u64, OperationEvent)>,
    /// The number of the first event made after subscribing.
    from: u64,
    /// The registry's count of subscribers, decremented on drop.
    subscribers: Arc<AtomicUsize>,
}

impl Drop for OperationEvents {
    fn drop(&mut self) {
        self.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl OperationEvents {
    /// Waits for the next event or gap; `None` once the registry is dropped
    /// and every event was received.
    pub async fn recv(&mut self) -> Option<ObservedEvent> {
        loop {
            match self.receiver.recv().await {
                Ok((number, _)) if number < self.from => continue,
                Ok((_, event)) => return Some(ObservedEvent::Event(event)),
                Err(broadcast::error::RecvError::Lagged(missed)) => return Some(ObservedEvent::Gap { missed }),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event or gap if one is ready, without waiting.
    pub fn try_recv(&mut self) -> Option<ObservedEvent> {
        loop {
            match self.receiver.try_recv() {
                Ok((number, _)) if number < self.from => continue,
                Ok((_, event)) => return Some(ObservedEvent::Event(event)),
                Err(broadcast::error::TryRecvError::Lagged(missed)) => return Some(ObservedEvent::Gap { missed }),
                Err(_) => return None,
            }
        }
    }
}

/// The registry's side of the event stream.
#[derive(Debug)]
pub(crate) struct Publisher {
    sender: broadcast::Sender<(u64, OperationEvent)>,
    outbox: Mutex<VecDeque<(u64, OperationEvent)>>,
    turn: Mutex<()>,
    /// Subscribers alive (the broadcast channel's own count takes a lock).
    subscribers: Arc<AtomicUsize>,
}

impl Publisher {
    pub(crate) fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Publisher {
            sender,
            outbox: Mutex::new(VecDeque::new()),
            turn: Mutex::new(()),
            subscribers: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Whether anyone subscribes (otherwise no event is built).
    pub(crate) fn listening(&self) -> bool {
        // Subscribing happens under the registry lock, as does this read, so
        // the count seen here is exact for the call being made.
        self.subscribers.load(Ordering::Relaxed) > 0
    }

    /// How many subscriptions are alive.
    pub(crate) fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::Relaxed)
    }

    /// A subscription whose first event will be number `from`. Call it with
    /// the registry lock held, so no transition is numbered concurrently.
    pub(crate) fn subscribe(&self, from: u64) -> OperationEvents {
        self.subscribers.fetch_add(1, Ordering::Relaxed);
        OperationEvents { receiver: self.sender.subscribe(), from, subscribers: Arc::clone(&self.subscribers) }
    }

    /// Queues `events`, numbering them from `*next`. Call it with the
    /// registry lock held, so that queue order is transition order.
    pub(crate) fn enqueue(&self, next: &mut u64, events: Vec<OperationEvent>) {
        let mut outbox = self.outbox.lock().unwrap_or_else(PoisonError::into_inner);
        for event in events {
            outbox.push_back((*next, event));
            *next += 1;
        }
    }

    /// Sends every queued event, unless another caller is already sending
    /// (it will send ours too). Never waits for another caller.
    pub(crate) fn publish(&self) {
        loop {
            let Ok(turn) = self.turn.try_lock() else { return };
            loop {
                let batch = std::mem::take(&mut *self.outbox.lock().unwrap_or_else(PoisonError::into_inner));
                if batch.is_empty() {
                    break;
                }
                for item in batch {
                    // No receiver left is not an error: nobody listens.
                    let _ = self.sender.send(item);
                }
            }
            drop(turn);
            // An event queued after our last look but before we gave up the
            // turn would wait for the next call; look once more.
            if self.outbox.lock().unwrap_or_else(PoisonError::into_inner).is_empty() {
                return;
            }
        }
    }
}
