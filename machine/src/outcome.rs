//! What the machine is generic over ([`Domain`]), and the terminal outcome
//! of an operation.

use std::fmt::{self, Debug, Display};
use std::hash::Hash;
use std::sync::Arc;

use oplife_spec::OutcomeKind;

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

/// A terminal outcome shared by everything that holds it: the record, the
/// completion feed, the waits that captured it and the outputs that report
/// it. Cloning one copies a pointer, never the result or reason inside.
pub type SharedOutcome<D> = Arc<Outcome<D>>;

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

/// The outcome in words: `completed`, `failed: <error>`, `aborted`,
/// `cancelled: <reason>`, `retired`, `terminated: <reason>`.
impl<D: Domain> Display for Outcome<D>
where
    D::Error: Display,
    D::Reason: Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Completed(_) => f.write_str("completed"),
            Outcome::Failed { error } => write!(f, "failed: {error}"),
            Outcome::Aborted { reason: None } => f.write_str("aborted"),
            Outcome::Aborted { reason: Some(reason) } => write!(f, "aborted: {reason}"),
            Outcome::Cancelled { reason: None } => f.write_str("cancelled"),
            Outcome::Cancelled { reason: Some(reason) } => write!(f, "cancelled: {reason}"),
            Outcome::Retired => f.write_str("retired"),
            Outcome::Terminated { reason } => write!(f, "terminated: {reason}"),
        }
    }
}
