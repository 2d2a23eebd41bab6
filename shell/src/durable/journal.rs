//! What a durable registry writes: one [`Entry`] per acknowledged
//! transition, and the compacted [`DurableImage`], each in the crate's one
//! byte format (`codec.rs`), so that a torn or altered record is
//! recognised.

use std::collections::BTreeMap;

use oplife_machine::Request;

use crate::snapshot::RegistrySnapshot;
use crate::source::Origin;
use crate::types::{OperationPeerHandle, SessionId, ShellDomain};

/// One acknowledged transition: the registry clock when it was made, and
/// what changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    /// The registry clock the call read (milliseconds since the Unix
    /// epoch): a replay sets the same times.
    pub(crate) at_ms: u64,
    /// What the call changed.
    pub(crate) change: Change,
}

/// What one acknowledged call changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Change {
    /// The machine accepted `request`; a registration brings the shell's
    /// names, `peer_ready` its handle.
    Call {
        /// The request, as the machine saw it.
        request: Request<ShellDomain>,
        /// A registration's display name and child session.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        registered: Option<(String, Option<SessionId>)>,
        /// `peer_ready`'s handle.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer: Option<Box<OperationPeerHandle>>,
        /// A registration's owner, label and source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<Box<Origin>>,
    },
    /// A consumer's cursor moved to `seq`.
    Cursor {
        /// The consumer.
        consumer: String,
        /// Its new position.
        seq: u64,
    },
}

/// An [`Entry`] to encode, borrowing what the call holds (it serializes
/// exactly as the `Entry` it decodes to).
#[derive(serde::Serialize)]
#[serde(rename = "Entry")]
pub(crate) struct EntryRef<'a> {
    pub(crate) at_ms: u64,
    pub(crate) change: ChangeRef<'a>,
}

/// A [`Change`] to encode, borrowed.
#[derive(serde::Serialize)]
#[serde(rename = "Change")]
pub(crate) enum ChangeRef<'a> {
    Call {
        request: &'a Request<ShellDomain>,
        #[serde(skip_serializing_if = "Option::is_none")]
        registered: Option<(&'a str, Option<SessionId>)>,
        #[serde(skip_serializing_if = "Option::is_none")]
        peer: Option<&'a OperationPeerHandle>,
        #[serde(skip_serializing_if = "Option::is_none")]
        origin: Option<&'a Origin>,
    },
    Cursor {
        consumer: &'a str,
        seq: u64,
    },
}

/// The compacted image: the registry's snapshot, the consumers' cursors and
/// the journal position it includes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct DurableImage {
    /// The registry's durable state (its lost operations not yet resolved).
    pub(crate) snapshot: RegistrySnapshot,
    /// Each consumer's cursor.
    pub(crate) cursors: BTreeMap<String, u64>,
}
