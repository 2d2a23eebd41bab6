//! Durable snapshots: everything a registry must not lose across a restart,
//! as one versioned value.
//!
//! A snapshot holds the machine's [`Image`] (operations, retained terminal
//! records, completion feed), the shell's records (display names, child
//! sessions, peer handles, timestamps), the feed entries' details and the
//! configuration. It does **not** hold pending watchers or `wait_all`
//! requests: those belong to the process that made them, and their futures
//! end with it. Operations that had not ended when the snapshot was
//! captured are ended by the [`crate::RestorePolicy`] given to `restore`.
//!
//! With the `serde` feature, snapshots are `Serialize + Deserialize`, and
//! [`RegistrySnapshot::to_bytes`] / [`RegistrySnapshot::from_bytes`] store
//! them as checksummed JSON.

use oplife_machine::Image;
use thiserror::Error;

use crate::config::{ConfigError, OpsLifecycleConfig};
use crate::source::OperationSource;
use crate::types::{OperationId, OperationKind, OperationPeerHandle, SessionId, ShellDomain};

#[cfg(feature = "serde")]
fn nil_session() -> SessionId {
    SessionId(uuid::Uuid::nil())
}

/// The snapshot format version this crate writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The shell's record of one operation, as captured.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RecordSnapshot {
    /// The operation.
    pub id: OperationId,
    /// Its kind.
    pub kind: OperationKind,
    /// Its display name.
    pub display_name: String,
    /// The child's own session, for child agents.
    pub child_session_id: Option<SessionId>,
    /// The session that owns it (nil in snapshots taken before it was
    /// kept).
    #[cfg_attr(feature = "serde", serde(default = "nil_session"))]
    pub owner_session_id: SessionId,
    /// Where it came from (a tool name, a mob role…).
    #[cfg_attr(feature = "serde", serde(default))]
    pub source_label: String,
    /// What it stands for outside the registry, if declared.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub operation_source: Option<OperationSource>,
    /// Its peer handle, once ready.
    pub peer_handle: Option<OperationPeerHandle>,
    /// Wall-clock registration time, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Wall-clock start time, once running.
    pub started_at_ms: Option<u64>,
    /// Wall-clock end time, once terminal.
    pub completed_at_ms: Option<u64>,
    /// Monotonic time from registration to the end, once terminal.
    pub elapsed_ms: Option<u64>,
}

/// A registry's durable state, from
/// [`crate::RuntimeOpsLifecycleRegistry::capture`].
///
/// It holds no pending watchers and no pending `wait_all` requests: they
/// belong to the process that made them and end with it. Operations that had
/// not ended are ended by the [`crate::RestorePolicy`] given to `restore`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RegistrySnapshot {
    /// The format version ([`SNAPSHOT_VERSION`] when captured by this
    /// crate).
    pub version: u32,
    /// The configuration the registry ran with; the restored one runs with
    /// it too.
    pub config: OpsLifecycleConfig,
    /// The machine's image.
    pub image: Image<ShellDomain>,
    /// The shell's record of every operation of the image, in the same order.
    pub records: Vec<RecordSnapshot>,
    /// The details of every retained feed entry, in sequence order.
    pub feed_details: Vec<FeedDetail>,
}

/// What the shell keeps for one feed entry besides the machine's record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FeedDetail {
    /// The entry's sequence number.
    pub seq: u64,
    /// The operation's display name.
    pub display_name: String,
    /// When it ended, milliseconds since the Unix epoch.
    pub completed_at_ms: u64,
}

/// Why a snapshot could not be read or restored. Nothing is created when
/// one is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SnapshotError {
    /// The bytes are not a snapshot (not the format, or cut short).
    #[error("not a registry snapshot: {0}")]
    Malformed(String),
    /// The snapshot was written by a newer format than this crate reads.
    #[error("snapshot format version {found} is not supported (this crate reads version {supported})")]
    UnsupportedVersion {
        /// The version found.
        found: u32,
        /// The version this crate reads.
        supported: u32,
    },
    /// The checksum does not match: the bytes were altered.
    #[error("snapshot checksum mismatch: the bytes were corrupted")]
    Corrupted,
    /// The snapshot parses but describes a state no registry can be in.
    #[error("inconsistent snapshot: {0}")]
    Inconsistent(String),
    /// A restore was asked to keep an operation the snapshot does not hold
    /// unfinished, of the kind and with the source asked.
    #[error("the snapshot holds no unfinished operation {id} of kind {kind:?} with the source asked")]
    RetentionMismatch {
        /// The operation asked for.
        id: OperationId,
        /// The kind asked for.
        kind: OperationKind,
    },
    /// The captured configuration has a value out of its range.
    #[error("invalid configuration in snapshot: {0}")]
    InvalidConfig(#[from] ConfigError),
}

impl RegistrySnapshot {
    /// Checks what the machine cannot: the version, the configuration, and
    /// that the records and feed details match the image one for one.
    pub(crate) fn check_shell_parts(&self) -> Result<(), SnapshotError> {
        if self.version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion { found: self.version, supported: SNAPSHOT_VERSION });
        }
        self.config.validate()?;
        if self.records.len() != self.image.operations.len() {
            return Err(SnapshotError::Inconsistent(format!(
                "{} records for {} operations",
                self.records.len(),
                self.image.operations.len()
            )));
        }
        for (record, op) in self.records.iter().zip(&self.image.operations) {
            if record.id != op.id || record.kind != op.kind {
                return Err(SnapshotError::Inconsistent(format!(
                    "record {} ({:?}) does not match operation {} ({:?})",
                    record.id, record.kind, op.id, op.kind
                )));
            }
        }
        let seqs = self.feed_details.iter().map(|d| d.seq);
        if !seqs.eq(self.image.feed.iter().map(|e| e.seq)) {
            return Err(SnapshotError::Inconsistent("feed details do not match the feed entries".into()));
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
mod bytes {
    use super::{RegistrySnapshot, SNAPSHOT_VERSION, SnapshotError};
    use crate::codec::{CodecError, decode, encode};

    const FORMAT: &str = "oplife-registry-snapshot";

    /// What is stored: the format and version beside the snapshot, so that
    /// each is checked before the snapshot is read.
    #[derive(serde::Serialize)]
    struct Envelope<'a> {
        format: &'a str,
        version: u32,
        snapshot: &'a RegistrySnapshot,
    }

    /// The format and version of stored bytes, read first.
    #[derive(serde::Deserialize)]
    struct Header {
        format: String,
        version: u32,
    }

    /// The snapshot of stored bytes, read once the header is checked.
    #[derive(serde::Deserialize)]
    struct Body {
        snapshot: RegistrySnapshot,
    }

    fn read_error(error: CodecError) -> SnapshotError {
        match error {
            CodecError::Altered => SnapshotError::Corrupted,
            other => SnapshotError::Malformed(other.to_string()),
        }
    }

    impl RegistrySnapshot {
        /// The snapshot in the crate's byte format (with the `serde`
        /// feature): JSON with its format and version, behind a length and
        /// a checksum.
        ///
        /// # Errors
        ///
        /// [`SnapshotError::Malformed`] if a value cannot be written as JSON
        /// (not expected for snapshots this crate captures).
        #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
        pub fn to_bytes(&self) -> Result<Vec<u8>, SnapshotError> {
            encode(&Envelope { format: FORMAT, version: self.version, snapshot: self })
                .map_err(|e| SnapshotError::Malformed(e.to_string()))
        }

        /// Reads a snapshot written by [`RegistrySnapshot::to_bytes`].
        ///
        /// # Errors
        ///
        /// [`SnapshotError::Malformed`] for bytes that are not a snapshot
        /// (cut short ones included), [`SnapshotError::Corrupted`] when the
        /// checksum does not match, [`SnapshotError::UnsupportedVersion`]
        /// for another format version, [`SnapshotError::Inconsistent`] when
        /// the version inside disagrees with the one outside.
        #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
        pub fn from_bytes(bytes: &[u8]) -> Result<RegistrySnapshot, SnapshotError> {
            let header: Header = decode(bytes).map_err(read_error)?;
            if header.format != FORMAT {
                return Err(SnapshotError::Malformed(format!("format {:?} is not {FORMAT:?}", header.format)));
            }
            if header.version != SNAPSHOT_VERSION {
                return Err(match header.version {
                    0 => SnapshotError::Malformed("format version 0".into()),
                    found => SnapshotError::UnsupportedVersion { found, supported: SNAPSHOT_VERSION },
                });
            }
            let Body { snapshot } = decode(bytes).map_err(read_error)?;
            if snapshot.version != header.version {
                return Err(SnapshotError::Inconsistent(format!(
                    "version {} inside, {} outside",
                    snapshot.version, header.version
                )));
            }
            Ok(snapshot)
        }
    }
}
