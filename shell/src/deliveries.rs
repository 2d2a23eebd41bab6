//! What a call delivers once the registry's lock is released: watcher and
//! wait results, events, and the feed watermark.

use tokio::sync::oneshot;

use crate::events::OperationEvent;
use crate::journaling::Ticket;
use crate::observe::Noted;
use crate::record::Watchers;
use crate::types::{SharedTerminalOutcome, WaitAllResult};

/// Sends to carry out, and senders to drop, once the lock is released: a
/// send or a dropped sender wakes the receiver's task, and no waker runs
/// while the lock is held.
///
/// What most calls deliver (nothing, the watchers of the one operation
/// they ended, the watermark) is held inline; the rest, which few calls
/// have, is made on first use, so a call that has none of it neither
/// builds nor drops its lists.
#[derive(Default)]
pub(crate) struct Deliveries {
    /// The pending watchers of the first operation the transition ended,
    /// with its outcome (most transitions end one: no list is allocated).
    pub(crate) watchers: Option<(Watchers, SharedTerminalOutcome)>,
    /// The feed watermark, when the transition minted sequence numbers.
    pub(crate) watermark: Option<u64>,
    /// The group sync that makes the call durable (`Sync`): waited for
    /// before anything else is delivered.
    pub(crate) synced: Option<Ticket>,
    /// Everything else, once there is any.
    more: Option<Box<More>>,
    /// What observers are told of the call, noted under the lock (nothing
    /// without the `tracing` and `metrics` features).
    pub(crate) noted: Noted,
}

/// What few calls deliver.
#[derive(Default)]
pub(crate) struct More {
    /// The watchers of the other operations the transition ended (owner
    /// termination).
    pub(crate) watchers: Vec<(Watchers, SharedTerminalOutcome)>,
    /// Satisfied waits and their results.
    pub(crate) waits: Vec<(oneshot::Sender<WaitAllResult>, WaitAllResult)>,
    /// Senders of cancelled waits, dropped unsent.
    pub(crate) cancelled: Vec<oneshot::Sender<WaitAllResult>>,
    /// Events of the transition, when anyone subscribes.
    pub(crate) events: Vec<OperationEvent>,
}

impl Deliveries {
    /// Nothing to deliver yet, for a call whose observers noted `noted`.
    pub(crate) fn noting(noted: Noted) -> Deliveries {
        Deliveries { noted, ..Deliveries::default() }
    }

    /// The rarer deliveries, made on first use.
    pub(crate) fn more(&mut self) -> &mut More {
        self.more.get_or_insert_with(Box::default)
    }

    /// Takes the transition's events (none if nobody listens).
    pub(crate) fn take_events(&mut self) -> Vec<OperationEvent> {
        self.more.as_mut().map(|more| std::mem::take(&mut more.events)).unwrap_or_default()
    }

    /// Carries out the sends, leaving `self` empty (taken by reference: a
    /// struct this size would be copied on a move).
    pub(crate) fn send(&mut self) {
        if let Some((watchers, outcome)) = self.watchers.take() {
            watchers.notify(outcome);
        }
        if let Some(more) = self.more.take() {
            let More { watchers, waits, cancelled, .. } = *more;
            for (watchers, outcome) in watchers {
                watchers.notify(outcome);
            }
            for (sender, result) in waits {
                let _ = sender.send(result);
            }
            drop(cancelled);
        }
    }
}
