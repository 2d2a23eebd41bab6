//! What the machine tells the outside world to carry out.

use oplife_spec::OperationKind;

use crate::outcome::{Domain, SharedOutcome};

/// The satisfaction token of a wait: minted by the machine in the transition
/// that satisfied it, with every operation's outcome captured when that
/// operation ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WaitReport<D: Domain> {
    /// The wait request id.
    pub wait: D::WaitId,
    /// Each operation waited for, in the order asked, with its outcome.
    pub outcomes: Vec<(D::OpId, SharedOutcome<D>)>,
    /// The run the wait belongs to (as the request to begin it said).
    pub run: D::RunId,
}

/// One effect the outside world must carry out, returned by
/// [`crate::Lifecycle::apply`] in the order the table's effects ran.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Output<D: Domain> {
    /// Event: the operation was registered.
    Registered {
        /// The operation.
        id: D::OpId,
        /// Its kind.
        kind: OperationKind,
    },
    /// Event: the operation started running.
    Started {
        /// The operation.
        id: D::OpId,
    },
    /// Event: the operation reported progress.
    Progress {
        /// The operation.
        id: D::OpId,
        /// The update.
        update: Option<D::Progress>,
    },
    /// The operation's peer is exposed.
    PeerExposed {
        /// The operation.
        id: D::OpId,
    },
    /// Event: the operation ended with this outcome.
    Ended {
        /// The operation.
        id: D::OpId,
        /// Its outcome.
        outcome: SharedOutcome<D>,
        /// The completion feed entry the ending got (the table's terminal
        /// chain appends it just before): its sequence number, minted by
        /// the machine.
        seq: Option<u64>,
    },
    /// A new watcher is pending.
    WatchPending {
        /// The operation watched.
        id: D::OpId,
    },
    /// A new watcher is resolved at once with the outcome.
    WatchResolved {
        /// The operation watched.
        id: D::OpId,
        /// Its outcome.
        outcome: SharedOutcome<D>,
    },
    /// One pending watcher of the operation was released: it is no longer
    /// counted and will not be notified.
    WatcherReleased {
        /// The operation watched.
        id: D::OpId,
    },
    /// Every pending watcher of the operation receives the outcome.
    WatchersNotified {
        /// The operation.
        id: D::OpId,
        /// How many watchers were pending.
        count: u32,
        /// The outcome they receive.
        outcome: SharedOutcome<D>,
    },
    /// A wait request is pending.
    WaitPending {
        /// The wait request id.
        wait: D::WaitId,
    },
    /// A wait request is satisfied.
    WaitSatisfied(WaitReport<D>),
    /// A wait request was cancelled.
    WaitCancelled {
        /// The wait request id.
        wait: D::WaitId,
    },
    /// A buffered outcome was acknowledged.
    Acknowledged {
        /// The operation.
        id: D::OpId,
    },
    /// The oldest retained record was forgotten.
    Evicted {
        /// The operation.
        id: D::OpId,
    },
    /// A registration was rolled back: the operation is forgotten as if it
    /// had never been registered.
    RolledBack {
        /// The operation.
        id: D::OpId,
    },
    /// A consumer's cursor moved to `to`.
    CursorMoved {
        /// Where it is now.
        to: u64,
    },
    /// An operation whose kind drops its ending ended and was forgotten
    /// at once: no feed entry, no retained record.
    Dropped {
        /// The operation.
        id: D::OpId,
    },
    /// A retained record was handed over and forgotten.
    Collected {
        /// The operation.
        id: D::OpId,
        /// Its outcome.
        outcome: SharedOutcome<D>,
    },
}
