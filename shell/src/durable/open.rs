//! Opening a durable registry: recovery through the machine. The last
//! image is resumed as it was, the journal after it replayed call by call,
//! and the result restored by the `restore` row, which ends the operations
//! the old process lost as the policy says. The recovered registry is then
//! written as the new image before it is handed out.

use std::path::Path;

use oplife_machine::Request;
use thiserror::Error;

use crate::call::{At, Call};
use crate::codec::{decode, encode};
use crate::config::ConfigError;
use crate::deliveries::Deliveries;
use crate::durable::journal::{Change, DurableImage, Entry};
use crate::durable::journaling::Journaling;
use crate::durable::options::DurableOptions;
use crate::durable::sqlite::SqliteStore;
use crate::durable::store::{Store, StoredImage};
use crate::durable::writer::Journal;
use crate::error::StoreError;
use crate::record::Record;
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::restore::kept;
use crate::snapshot::{RegistrySnapshot, SnapshotError};
use crate::source::Origin;
use crate::state::RegistryState;

/// What reopening a store found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecoveryReport {
    /// The journal position the stored image included (0: none stored).
    pub image_upto: u64,
    /// How many journal records were replayed after it.
    pub replayed: u64,
    /// The torn or corrupt last record that was cut off, if any.
    pub cut: Option<CutRecord>,
    /// How many operations had not ended and were ended by the policy.
    pub lost: usize,
}

/// A last journal record that could not be read, cut off at recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutRecord {
    /// Its journal position.
    pub seq: u64,
    /// Why it could not be read.
    pub reason: String,
}

/// Why a store could not be reopened. Nothing was changed in the store
/// beyond the claim (a new epoch recorded, which fences the previous owner
/// whether or not recovery then succeeds) and cutting a torn last record,
/// which is reported on success only. A store refused before its claim
/// (not ours, owned by a live owner, an invalid configuration) is left byte
/// for byte as it was.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecoveryError {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored image cannot be read.
    #[error("the stored image is corrupt: {0}")]
    CorruptImage(String),
    /// A journal record before the last cannot be read: records after it
    /// were acknowledged, so it cannot be cut off.
    #[error("journal record {seq} is corrupt: {reason}")]
    CorruptRecord {
        /// Its position.
        seq: u64,
        /// Why it cannot be read.
        reason: String,
    },
    /// The journal skips or repeats a position.
    #[error("the journal jumps from {expected} to {found}")]
    Gap {
        /// The position expected.
        expected: u64,
        /// The position found.
        found: u64,
    },
    /// A journal record is refused by the machine on replay.
    #[error("journal record {seq} does not replay: {reason}")]
    Diverged {
        /// Its position.
        seq: u64,
        /// The refusal.
        reason: String,
    },
    /// The stored image describes no registry.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The options' configuration is out of range.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl RuntimeOpsLifecycleRegistry {
    /// Opens the durable registry stored in the SQLite file at `path`
    /// (created if needed), recovering what it holds (see
    /// [`RuntimeOpsLifecycleRegistry::open_store`]).
    ///
    /// ```
    /// use oplife_shell::prelude::*;
    /// use oplife_shell::{DurableOptions, OperationStatus};
    ///
    /// let dir = std::env::temp_dir().join(format!("oplife-open-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("ops.db");
    /// let spec = OperationSpec::background_tool(SessionId::new(), "index");
    /// let id = spec.id;
    /// {
    ///     let (registry, _) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default())?;
    ///     registry.register_operation(spec)?; // committed before it returns
    ///     registry.provisioning_succeeded(&id)?;
    /// } // the process "stops" here, `index` still running
    /// let (registry, report) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default())?;
    /// assert_eq!((report.replayed, report.lost), (2, 1));
    /// assert_eq!(registry.snapshot(&id)?.map(|s| s.status), Some(OperationStatus::Terminated));
    /// # drop(registry);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`RuntimeOpsLifecycleRegistry::open_store`].
    #[cfg_attr(docsrs, doc(cfg(feature = "durable")))]
    pub fn open(path: impl AsRef<Path>, options: DurableOptions) -> Result<(Self, RecoveryReport), RecoveryError> {
        // Checked before any file is created.
        options.config.validate()?;
        Self::open_store(SqliteStore::open(path)?, options)
    }

    /// Opens the durable registry `store` holds, recovering it through the
    /// machine: the store claimed (see below), the stored image resumed as
    /// it was, the journal after it replayed call by call, the result
    /// restored with `options.policy` (operations that had not ended end
    /// now), and written back as the new image. A torn or corrupt **last**
    /// record is cut off and reported; any other damage is an error.
    ///
    /// **One owner per store.** Opening claims the store with a fencing
    /// epoch above every earlier one ([`Store::claim`]). While a live owner
    /// holds it (a registry open on it, in this process or another), opening
    /// is refused with [`StoreError::Owned`], which names that owner; an
    /// owner that crashed holds nothing, so the next open succeeds at once.
    /// [`crate::Claim::TakeOver`] (`options.claim`) takes the store even
    /// from a live owner: every write the old owner tries from then on is
    /// fenced, and its registry **seals**: each call that could change it
    /// returns [`crate::Refusal::Sealed`], reads keep working,
    /// and [`RuntimeOpsLifecycleRegistry::owner_state`] says
    /// [`crate::OwnerState::Sealed`]. Nothing it acknowledged before the
    /// takeover is lost (the new owner recovers it), nothing after is
    /// accepted.
    ///
    /// # Errors
    ///
    /// A [`RecoveryError`]: the configuration is out of range (checked
    /// first), the store is owned ([`StoreError::Owned`]), cannot be read or
    /// written, the image or a record before the last is corrupt, the
    /// journal skips a position, or a record does not replay. No registry is
    /// created then.
    #[cfg_attr(docsrs, doc(cfg(feature = "durable")))]
    pub fn open_store(mut store: impl Store, options: DurableOptions) -> Result<(Self, RecoveryReport), RecoveryError> {
        options.config.validate()?;
        // Claimed before it is read: whatever the previous owner commits
        // from now on is fenced, so the load below sees all it committed.
        store.claim(options.claim)?;
        let stored = store.load()?;
        let mut report = RecoveryReport::default();
        let (snapshot, cursors) = match &stored.image {
            Some(image) => {
                report.image_upto = image.upto;
                let durable: DurableImage =
                    decode(&image.bytes).map_err(|e| RecoveryError::CorruptImage(e.to_string()))?;
                (durable.snapshot, durable.cursors)
            }
            None => (empty_snapshot(&options)?, Default::default()),
        };
        let mut state = RegistryState::rebuild(snapshot, |image| Request::Resume { image })?;
        state.cursors = cursors;
        let mut last = report.image_upto;
        let count = stored.journal.len();
        for (at, record) in stored.journal.into_iter().enumerate() {
            if record.seq != last + 1 {
                return Err(RecoveryError::Gap { expected: last + 1, found: record.seq });
            }
            let entry: Entry = match decode(&record.bytes) {
                Ok(entry) => entry,
                Err(reason) if at + 1 == count => {
                    store.truncate_after(last)?;
                    report.cut = Some(CutRecord { seq: record.seq, reason: reason.to_string() });
                    break;
                }
                Err(reason) => {
                    return Err(RecoveryError::CorruptRecord { seq: record.seq, reason: reason.to_string() });
                }
            };
            state.replay(entry).map_err(|reason| RecoveryError::Diverged { seq: record.seq, reason })?;
            last = record.seq;
            report.replayed += 1;
        }
        let resumed = state.capture().map_err(|e| RecoveryError::Diverged { seq: last, reason: e.to_string() })?;
        let cursors = std::mem::take(&mut state.cursors);
        let policy = options.policy.clone().into();
        let keep = kept(&resumed, options.keep.clone());
        let unfinished = resumed.image.operations.iter().filter(|op| !op.status.is_terminal()).count();
        let mut state = RegistryState::rebuild(resumed, |image| Request::Restore { image, policy, keep })?;
        let still_unfinished = state.machine.state().operations().filter(|(_, op)| !op.status().is_terminal());
        report.lost = unfinished.saturating_sub(still_unfinished.count());
        state.cursors = cursors;
        // The recovered registry (lost operations ended) is the new image.
        let snapshot = state.capture().map_err(|e| RecoveryError::Diverged { seq: last, reason: e.to_string() })?;
        let image = DurableImage { snapshot, cursors: state.cursors.clone() };
        let bytes = encode(&image).map_err(|why| StoreError::Other(format!("cannot encode the image: {why}")))?;
        store.compact(&[], &StoredImage { upto: last, bytes })?;
        let watermark = state.machine.state().feed().watermark();
        state.journal = Journaling::to(Journal::start(Box::new(store), &options, last, watermark)?);
        crate::observe::recovered(&crate::observe::Recovery {
            image_upto: report.image_upto,
            replayed: report.replayed,
            cut: report.cut.as_ref().map(|cut| (cut.seq, cut.reason.as_str())),
            ended: report.lost,
        });
        Ok((Self::from_state(state), report))
    }
}

/// The image of a store that holds nothing yet: a new registry.
fn empty_snapshot(options: &DurableOptions) -> Result<RegistrySnapshot, RecoveryError> {
    let fresh = RegistryState::new(options.config);
    Ok(fresh.capture().map_err(|e| StoreError::Other(e.to_string()))?)
}

impl RegistryState {
    /// Replays one journal entry (recovery: no watcher, wait or journal is
    /// attached yet).
    pub(crate) fn replay(&mut self, entry: Entry) -> Result<(), String> {
        match entry.change {
            Change::Call { request, registered, peer, origin } => {
                let mut call = match (&request, registered) {
                    (Request::Register { kind, .. }, Some((name, child))) => {
                        let origin = origin.map_or_else(unknown_origin, |origin| *origin);
                        Call::Register(Some(Record::new(*kind, name, child, origin)))
                    }
                    (Request::PeerReady { .. }, _) => Call::PeerReady(peer.map(|peer| *peer)),
                    _ => Call::Plain,
                };
                self.apply(request, &mut call, At::replayed(entry.at_ms), &mut Deliveries::default())
                    .map_err(|e| e.to_string())
            }
            Change::Cursor { consumer, seq } => {
                self.cursors.insert(consumer, seq);
                Ok(())
            }
        }
    }
}

/// The origin of a record journaled before origins were kept: the nil
/// owner, no label, no source.
fn unknown_origin() -> Origin {
    Origin {
        owner_session_id: crate::types::SessionId(uuid::Uuid::nil()),
        source_label: String::new(),
        operation_source: None,
    }
}
