//! Capturing a registry's durable state, and rebuilding a registry from a
//! snapshot through the machine's `restore` row.

use oplife_machine::{Keep, Request};

use crate::error::OpsLifecycleError;
use crate::lock::StateLock;
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::snapshot::{RegistrySnapshot, SnapshotError};
use crate::state::RegistryState;
use crate::types::{RestorePolicy, Retention, ShellDomain};

impl<L: StateLock<RegistryState>> RuntimeOpsLifecycleRegistry<L> {
    /// Captures the registry's durable state: every operation, the retained
    /// terminal records, the completion feed and the configuration. Pending
    /// watchers and waits are not captured (see [`RegistrySnapshot`]).
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn capture(&self) -> Result<RegistrySnapshot, OpsLifecycleError> {
        self.read()?.capture()
    }

    /// [`RuntimeOpsLifecycleRegistry::restore`] behind a lock of type `L`.
    ///
    /// Rebuilds a registry from `snapshot` (usually captured by another
    /// process). Terminal records and feed entries come back exactly;
    /// operations that had not ended end now as `policy` says, each with a
    /// feed entry of its own after the captured ones (if that overflows the
    /// configured retention, the oldest records and entries go, as on any
    /// ending). Watchers and waits are not restored.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::UnsupportedVersion`] for another format version;
    /// [`SnapshotError::Inconsistent`] when the snapshot describes a state
    /// no registry can be in. Nothing is created then.
    pub fn restore_with_lock(snapshot: RegistrySnapshot, policy: RestorePolicy) -> Result<Self, SnapshotError> {
        Self::restore_keeping_with_lock(snapshot, policy, Vec::new())
    }

    /// [`RuntimeOpsLifecycleRegistry::restore_keeping`] behind a lock of
    /// type `L`.
    ///
    /// # Errors
    ///
    /// As [`RuntimeOpsLifecycleRegistry::restore_keeping`].
    pub fn restore_keeping_with_lock(
        snapshot: RegistrySnapshot,
        policy: RestorePolicy,
        keep: Vec<Retention>,
    ) -> Result<Self, SnapshotError> {
        let policy = policy.into();
        let keep = kept(&snapshot, keep);
        let state = RegistryState::rebuild(snapshot, |image| Request::Restore { image, policy, keep })?;
        Ok(Self::from_state(state))
    }
}

/// What the machine is asked to keep: each retention's id and kind, and
/// whether its source is the one `snapshot` recorded for that operation
/// (the machine keeps no sources; the shell's records do).
pub(crate) fn kept(snapshot: &RegistrySnapshot, keep: Vec<Retention>) -> Vec<Keep<ShellDomain>> {
    keep.into_iter()
        .map(|Retention { id, kind, source }| {
            let recorded = snapshot.records.iter().find(|record| record.id == id);
            let source_agrees = recorded.is_some_and(|record| record.operation_source == source);
            Keep { id, kind, source_agrees }
        })
        .collect()
}
