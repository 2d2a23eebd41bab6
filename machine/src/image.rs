//! Images: the durable part of a machine state, as plain data, and the
//! checks an image must pass before [`crate::Request::Restore`] loads it.

use oplife_spec::{OperationKind, Phase, Status};

use crate::feed::FeedEntry;
use crate::outcome::{Domain, SharedOutcome};

/// Feed watermarks from this value on are refused, so that minting can
/// never run out of sequence numbers.
pub const MAX_WATERMARK: u64 = 1 << 62;

/// One operation of an [`Image`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "D::OpId: serde::Serialize, D::Progress: serde::Serialize, D::Shared: serde::Serialize",
        deserialize = "D::OpId: serde::Deserialize<'de>, D::Progress: serde::Deserialize<'de>, D::Shared: serde::Deserialize<'de>"
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
    pub outcome: Option<SharedOutcome<D>>,
}

/// The durable part of a machine state: the registry phase, the operations
/// in registration order, the retained terminal records in completion order,
/// and the completion feed.
///
/// Pending watchers and waits are not part of an image: they belong to the
/// process that registered them, which a restore replaces. The restore row
/// refuses an image that breaks an invariant
/// ([`crate::invariants::check_image`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "D::OpId: serde::Serialize, D::Progress: serde::Serialize, D::Shared: serde::Serialize",
        deserialize = "D::OpId: serde::Deserialize<'de>, D::Progress: serde::Deserialize<'de>, D::Shared: serde::Deserialize<'de>"
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
