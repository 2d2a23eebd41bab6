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
use crate::types::{OperationId, OperationKind, OperationPeerHandle, SessionId, ShellDomain};

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

    const FORMAT: &str = "oplife-registry-snapshot";

    /// The stored form: the snapshot as a JSON string, with its format,
    /// version and checksum outside it, so each can be checked before the
    /// body is trusted.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Envelope {
        format: String,
        version: u32,
        checksum: String,
        body: String,
    }

    /// FNV-1a, 64 bits: detects accidental corruption (not tampering).
    fn checksum(bytes: &[u8]) -> String {
        let hash =
            bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
        format!("{hash:016x}")
    }

    impl RegistrySnapshot {
        /// The snapshot as checksummed JSON bytes (with the `serde`
        /// feature).
        ///
        /// # Errors
        ///
        /// [`SnapshotError::Malformed`] if a value cannot be written as JSON
        /// (not expected for snapshots this crate captures).
        #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
        pub fn to_bytes(&self) -> Result<Vec<u8>, SnapshotError> {
            let body = serde_json::to_string(self).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
            let envelope = Envelope {
                format: FORMAT.to_owned(),
                version: self.version,
                checksum: checksum(body.as_bytes()),
                body,
            };
            serde_json::to_vec(&envelope).map_err(|e| SnapshotError::Malformed(e.to_string()))
        }

        /// Reads a snapshot written by [`RegistrySnapshot::to_bytes`].
        ///
        /// # Errors
        ///
        /// [`SnapshotError::Malformed`] for bytes that are not a snapshot
        /// (truncated ones included), [`SnapshotError::UnsupportedVersion`]
        /// for a newer format, [`SnapshotError::Corrupted`] when the checksum
        /// does not match, [`SnapshotError::Inconsistent`] when the version
        /// inside disagrees with the one outside.
        #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
        pub fn from_bytes(bytes: &[u8]) -> Result<RegistrySnapshot, SnapshotError> {
            let envelope: Envelope =
                serde_json::from_slice(bytes).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
            if envelope.format != FORMAT {
                return Err(SnapshotError::Malformed(format!("format {:?} is not {FORMAT:?}", envelope.format)));
            }
            if envelope.version != SNAPSHOT_VERSION {
                return Err(match envelope.version {
                    0 => SnapshotError::Malformed("format version 0".into()),
                    found => SnapshotError::UnsupportedVersion { found, supported: SNAPSHOT_VERSION },
                });
            }
            if checksum(envelope.body.as_bytes()) != envelope.checksum {
                return Err(SnapshotError::Corrupted);
            }
            let snapshot: RegistrySnapshot =
                serde_json::from_str(&envelope.body).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
            if snapshot.version != envelope.version {
                return Err(SnapshotError::Inconsistent(format!(
                    "version {} inside, {} outside",
                    snapshot.version, envelope.version
                )));
            }
            Ok(snapshot)
        }
    }
}
