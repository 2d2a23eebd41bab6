//! Images: the durable part of a machine state, as plain data, and the
//! checks an image must pass before [`crate::Request::Restore`] loads it.

use oplife_spec::{OperationKind, Phase, Status};

use crate::domain::{Domain, Outcome};
use crate::feed::FeedEntry;

/// Feed watermarks from this value on are refused, so that minting can
/// never run out of sequence numbers.
pub const MAX_WATERMARK: u64 = 1 << 62;

/// One operation of an [`Image`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "D::OpId: serde::Serialize, D::Progress: serde::Serialize, Outcome<D>: serde::Serialize",
        deserialize = "D::OpId: serde::Deserialize<'de>, D::Progress: serde::Deserialize<'de>, Outcome<D>: serde::Deserialize<'de>"
    ))
)]
pub struct OperationImage<D: Domain> {
    /// Its id.
    pub id: D::OpId,
    /// The kind it was registered with.
    pub kind: OperationKind,
    /// Its status (never `Absent`).
    pub status: Status,
    /// Whether it reported its peer ready.
    pub peer_ready: bool,
    /// Whether its terminal outcome is still buffered for collection.
    pub buffered: bool,
    /// How many progress reports it made.
    pub progress_count: u32,
    /// The last progress update.
    pub last_progress: Option<D::Progress>,
    /// Its terminal outcome, when terminal.
    pub outcome: Option<Outcome<D>>,
}

/// The durable part of a machine state: the registry phase, the operations
/// in registration order, the retained terminal records in completion order,
/// and the completion feed.
///
/// Pending watchers and waits are not part of an image: they belong to the
/// process that registered them, which a restore replaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "D::OpId: serde::Serialize, D::Progress: serde::Serialize, Outcome<D>: serde::Serialize",
        deserialize = "D::OpId: serde::Deserialize<'de>, D::Progress: serde::Deserialize<'de>, Outcome<D>: serde::Deserialize<'de>"
    ))
)]
pub struct Image<D: Domain> {
    /// The registry phase.
    pub phase: Phase,
    /// The operations, in registration order.
    pub operations: Vec<OperationImage<D>>,
    /// The retained terminal records, oldest first.
    pub retained: Vec<D::OpId>,
    /// The last feed sequence number minted.
    pub feed_watermark: u64,
    /// The retained feed entries, oldest first.
    pub feed: Vec<FeedEntry<D>>,
}

impl<D: Domain> Image<D> {
    /// Checks that the image is one a correct machine could have been in:
    /// distinct ids, outcomes matching terminal statuses, flags only where
    /// they may be set, retained records exactly the terminal operations,
    /// and feed entries consecutive up to the watermark.
    ///
    /// # Errors
    ///
    /// A sentence naming the first inconsistency.
    pub fn check(&self) -> Result<(), String> {
        for (i, op) in self.operations.iter().enumerate() {
            if self.operations[..i].iter().any(|other| other.id == op.id) {
                return Err(format!("operation {:?} appears twice", op.id));
            }
            check_operation(op)?;
            if self.phase == Phase::OwnerTerminated && !op.status.is_terminal() {
                return Err(format!("operation {:?} is {} after owner termination", op.id, op.status));
            }
        }
        for (i, id) in self.retained.iter().enumerate() {
            if self.retained[..i].contains(id) {
                return Err(format!("retained record {id:?} appears twice"));
            }
            match self.operations.iter().find(|op| op.id == *id) {
                Some(op) if op.status.is_terminal() => {}
                Some(op) => return Err(format!("retained record {id:?} is {}, not terminal", op.status)),
                None => return Err(format!("retained record {id:?} is not an operation of the image")),
            }
        }
        let terminal = self.operations.iter().filter(|op| op.status.is_terminal()).count();
        if terminal != self.retained.len() {
            return Err(format!("{terminal} terminal operations but {} retained records", self.retained.len()));
        }
        if self.feed_watermark >= MAX_WATERMARK {
            return Err(format!("feed watermark {} is out of range", self.feed_watermark));
        }
        let len = u64::try_from(self.feed.len()).unwrap_or(u64::MAX);
        if len > self.feed_watermark {
            return Err(format!("{len} feed entries but watermark {}", self.feed_watermark));
        }
        let first = self.feed_watermark - len + 1;
        for (expected, entry) in (first..).zip(&self.feed) {
            if entry.seq != expected {
                return Err(format!("feed entry {} where {expected} was expected", entry.seq));
            }
        }
        Ok(())
    }
}

fn check_operation<D: Domain>(op: &OperationImage<D>) -> Result<(), String> {
    let id = &op.id;
    match (&op.outcome, op.status) {
        (_, Status::Absent) => return Err(format!("operation {id:?} is Absent")),
        // Every outcome belongs to a terminal status, so this also refuses an
        // outcome on an operation that has not ended.
        (Some(outcome), status) if outcome.kind().status() != status => {
            return Err(format!("operation {id:?} is {status} with a {:?} outcome", outcome.kind()));
        }
        (None, status) if status.is_terminal() => return Err(format!("operation {id:?} is {status} without outcome")),
        _ => {}
    }
    if op.buffered && !op.status.is_terminal() {
        return Err(format!("operation {id:?} is buffered but {}", op.status));
    }
    if op.peer_ready && !op.kind.expects_peer_channel() {
        return Err(format!("operation {id:?} is peer-ready but its kind has no peer"));
    }
    Ok(())
}
