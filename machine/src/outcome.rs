//! What the machine is generic over ([`Domain`]), and the terminal outcome
//! of an operation.

use std::fmt::{self, Debug, Display};
use std::hash::Hash;
use std::ops::Deref;

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
///     type RunId = ();
///     type Result = ();
///     type Error = ();
///     type Reason = ();
///     type Progress = ();
///     // Unit payloads: an outcome is a few bytes, so copy it.
///     type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
/// }
/// ```
pub trait Domain: Debug + Clone + Copy + Eq + Hash + Ord + Default + Send + Sync + 'static {
    /// Identifies an operation.
    type OpId: Clone + Eq + Ord + Hash + Debug + Send + Sync;
    /// Identifies a wait request.
    type WaitId: Clone + Eq + Ord + Hash + Debug + Send + Sync;
    /// Identifies the run (turn) a wait belongs to; a satisfied wait
    /// reports it back. `()` where runs are not told apart.
    type RunId: Clone + Eq + Ord + Hash + Debug + Send + Sync;
    /// The result of a completed operation.
    type Result: Clone + Eq + Hash + Debug + Send + Sync;
    /// The error of a failed operation.
    type Error: Clone + Eq + Hash + Debug + Send + Sync;
    /// A reason given for aborting, cancelling or terminating.
    type Reason: Clone + Eq + Hash + Debug + Send + Sync;
    /// A progress update.
    type Progress: Clone + Eq + Hash + Debug + Send + Sync;
    /// How a terminal outcome is held where it is kept and reported (see
    /// [`SharedOutcome`]): `std::sync::Arc<Outcome<Self>>` to share it, or
    /// [`Inline<Outcome<Self>>`] to copy it.
    type Shared: Clone + Eq + Hash + Debug + Send + Sync + Deref<Target = Outcome<Self>> + From<Outcome<Self>>;
}

/// A terminal outcome as the machine holds it: one value in the record,
/// the completion feed, the waits that captured it and the outputs that
/// report it, each a clone. The domain picks the holder
/// ([`Domain::Shared`]): `Arc<Outcome<D>>` so that a clone copies a pointer,
/// never the result inside, or [`Inline`] for outcomes that are cheaper to
/// copy than to count.
pub type SharedOutcome<D> = <D as Domain>::Shared;

/// An outcome held by value: for domains whose outcomes are a few bytes
/// (the model's), where a shared pointer would cost more than the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(transparent))]
pub struct Inline<T>(pub T);

impl<T> Deref for Inline<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Inline<T> {
    fn from(value: T) -> Self {
        Inline(value)
    }
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
