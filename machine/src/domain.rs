//! Payload types: what the machine is generic over, and the values that
//! carry payloads (requests, outcomes, outputs).

use std::fmt::Debug;
use std::hash::Hash;

use oplife_spec::{Input, OperationKind, OutcomeKind};

use crate::image::Image;

/// The payload types a machine runs with. The model uses tiny ids and unit
/// payloads; the runtime shell uses UUIDs and real results, on the same code.
///
/// Implement it on a zero-sized marker type:
///
/// ```
/// use oplife_machine::Domain;
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
/// struct Small;
/// impl Domain for Small {
///     type OpId = u8;
///     type WaitId = u8;
///     type Result = ();
///     type Error = ();
///     type Reason = ();
///     type Progress = ();
/// }
/// ```
pub trait Domain: Debug + Clone + Copy + Eq + Hash + Ord + Default + Send + Sync + 'static {
    /// Identifies an operation.
    type OpId: Clone + Eq + Ord + Hash + Debug + Send + Sync;
    /// Identifies a wait request.
    type WaitId: Clone + Eq + Ord + Hash + Debug + Send + Sync;
    /// The result of a completed operation.
    type Result: Clone + Eq + Hash + Debug + Send + Sync;
    /// The error of a failed operation.
    type Error: Clone + Eq + Hash + Debug + Send + Sync;
    /// A reason given for aborting, cancelling or terminating.
    type Reason: Clone + Eq + Hash + Debug + Send + Sync;
    /// A progress update.
    type Progress: Clone + Eq + Hash + Debug + Send + Sync;
}

/// The terminal outcome of an operation: one variant per terminal status.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "D::Result: serde::Serialize, D::Error: serde::Serialize, D::Reason: serde::Serialize",
        deserialize = "D::Result: serde::Deserialize<'de>, D::Error: serde::Deserialize<'de>, D::Reason: serde::Deserialize<'de>"
    ))
)]
pub enum Outcome<D: Domain> {
    /// Finished with a result.
    Completed(D::Result),
    /// Finished with an error.
    Failed {
        /// The error.
        error: D::Error,
    },
    /// Provisioning was abandoned.
    Aborted {
        /// Why, if said.
        reason: Option<D::Reason>,
    },
    /// Cancelled by its owner.
    Cancelled {
        /// Why, if said.
        reason: Option<D::Reason>,
    },
    /// Wound down after a retire request.
    Retired,
    /// Ended because the owner terminated.
    Terminated {
        /// Why.
        reason: D::Reason,
    },
}

impl<D: Domain> Outcome<D> {
    /// The variant of the outcome.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Completed(_) => OutcomeKind::Completed,
            Outcome::Failed { .. } => OutcomeKind::Failed,
            Outcome::Aborted { .. } => OutcomeKind::Aborted,
            Outcome::Cancelled { .. } => OutcomeKind::Cancelled,
            Outcome::Retired => OutcomeKind::Retired,
            Outcome::Terminated { .. } => OutcomeKind::Terminated,
        }
    }
}

/// A registry call, with its payload: the input of [`crate::Lifecycle::apply`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Request<D: Domain> {
    /// Register a new operation.
    Register {
        /// Its id.
        id: D::OpId,
        /// Its kind.
        kind: OperationKind,
        /// What the spec says about a peer channel; must agree with `kind`.
        expects_peer: bool,
    },
    /// Provisioning finished; the operation runs.
    ProvisioningSucceeded {
        /// The operation.
        id: D::OpId,
    },
    /// Provisioning failed.
    ProvisioningFailed {
        /// The operation.
        id: D::OpId,
        /// The error.
        error: D::Error,
    },
    /// Provisioning is abandoned.
    AbortProvisioning {
        /// The operation.
        id: D::OpId,
        /// Why, if said.
        reason: Option<D::Reason>,
    },
    /// The operation's peer channel is ready.
    PeerReady {
        /// The operation.
        id: D::OpId,
    },
    /// Register a watcher of the operation's terminal outcome.
    RegisterWatcher {
        /// The operation.
        id: D::OpId,
    },
    /// Report progress.
    ReportProgress {
        /// The operation.
        id: D::OpId,
        /// The update.
        update: D::Progress,
    },
    /// Complete with a result.
    Complete {
        /// The operation.
        id: D::OpId,
        /// The result.
        result: D::Result,
    },
    /// Fail with an error.
    Fail {
        /// The operation.
        id: D::OpId,
        /// The error.
        error: D::Error,
    },
    /// Cancel.
    Cancel {
        /// The operation.
        id: D::OpId,
        /// Why, if said.
        reason: Option<D::Reason>,
    },
    /// Ask the operation to wind down.
    RequestRetire {
        /// The operation.
        id: D::OpId,
    },
    /// The operation has wound down.
    MarkRetired {
        /// The operation.
        id: D::OpId,
    },
    /// Acknowledge one buffered terminal outcome.
    CollectTerminal {
        /// The operation.
        id: D::OpId,
    },
    /// The owner session terminates: every non-terminal operation ends.
    TerminateOwner {
        /// Why.
        reason: D::Reason,
    },
    /// Hand over every retained terminal record and forget them.
    CollectCompleted,
    /// Begin a wait request over `ids`.
    BeginWait {
        /// The wait request id.
        wait: D::WaitId,
        /// The operations waited for, in the order their outcomes are
        /// reported.
        ids: Vec<D::OpId>,
    },
    /// Cancel a pending wait request.
    CancelWait {
        /// The wait request id.
        wait: D::WaitId,
    },
    /// Rebuild a never-used registry from `image` (captured with
    /// [`crate::State::image`], usually by another process). Operations that
    /// were not terminal in the image end as `policy` says.
    Restore {
        /// The captured image.
        image: Box<Image<D>>,
        /// How operations lost with the old process end.
        policy: LostPolicy<D>,
    },
}

/// How [`Request::Restore`] ends the operations that were not terminal when
/// the image was captured: their work was lost with the old process.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LostPolicy<D: Domain> {
    /// They end `Terminated` with this reason.
    Terminate {
        /// Why (for example, "lost in a restart").
        reason: D::Reason,
    },
    /// They end `Cancelled` with this reason.
    Cancel {
        /// Why, if said.
        reason: Option<D::Reason>,
    },
}

impl<D: Domain> Request<D> {
    /// The table input this request is.
    pub fn input(&self) -> Input {
        match self {
            Request::Register { .. } => Input::Register,
            Request::ProvisioningSucceeded { .. } => Input::ProvisioningSucceeded,
            Request::ProvisioningFailed { .. } => Input::ProvisioningFailed,
            Request::AbortProvisioning { .. } => Input::AbortProvisioning,
            Request::PeerReady { .. } => Input::PeerReady,
            Request::RegisterWatcher { .. } => Input::RegisterWatcher,
            Request::ReportProgress { .. } => Input::ReportProgress,
            Request::Complete { .. } => Input::Complete,
            Request::Fail { .. } => Input::Fail,
            Request::Cancel { .. } => Input::Cancel,
            Request::RequestRetire { .. } => Input::RequestRetire,
            Request::MarkRetired { .. } => Input::MarkRetired,
            Request::CollectTerminal { .. } => Input::CollectTerminal,
            Request::TerminateOwner { .. } => Input::TerminateOwner,
            Request::CollectCompleted => Input::CollectCompleted,
            Request::BeginWait { .. } => Input::BeginWait,
            Request::CancelWait { .. } => Input::CancelWait,
            Request::Restore { .. } => Input::Restore,
        }
    }

    /// The operation the request names, if it names one.
    pub fn operation(&self) -> Option<&D::OpId> {
        match self {
            Request::Register { id, .. }
            | Request::ProvisioningSucceeded { id }
            | Request::ProvisioningFailed { id, .. }
            | Request::AbortProvisioning { id, .. }
            | Request::PeerReady { id }
            | Request::RegisterWatcher { id }
            | Request::ReportProgress { id, .. }
            | Request::Complete { id, .. }
            | Request::Fail { id, .. }
            | Request::Cancel { id, .. }
            | Request::RequestRetire { id }
            | Request::MarkRetired { id }
            | Request::CollectTerminal { id } => Some(id),
            Request::TerminateOwner { .. }
            | Request::CollectCompleted
            | Request::BeginWait { .. }
            | Request::CancelWait { .. }
            | Request::Restore { .. } => None,
        }
    }
}

/// The satisfaction token of a wait: minted by the machine in the transition
/// that satisfied it, with every operation's outcome captured when that
/// operation ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WaitReport<D: Domain> {
    /// The wait request id.
    pub wait: D::WaitId,
    /// Each operation waited for, in the order asked, with its outcome.
    pub outcomes: Vec<(D::OpId, Outcome<D>)>,
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
        outcome: Outcome<D>,
    },
    /// The terminal transition got completion feed entry `seq`.
    FeedAppended {
        /// The sequence number minted.
        seq: u64,
        /// The operation.
        id: D::OpId,
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
        outcome: Outcome<D>,
    },
    /// Every pending watcher of the operation receives the outcome.
    WatchersNotified {
        /// The operation.
        id: D::OpId,
        /// How many watchers were pending.
        count: u32,
        /// The outcome they receive.
        outcome: Outcome<D>,
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
    /// A retained record was handed over and forgotten.
    Collected {
        /// The operation.
        id: D::OpId,
        /// Its outcome.
        outcome: Outcome<D>,
    },
}
