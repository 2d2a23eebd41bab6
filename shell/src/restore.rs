//! Capturing a registry's durable state, and rebuilding a registry from a
//! snapshot through the machine's `restore` row.

use oplife_machine::Request;

use crate::error::OpsLifecycleError;
use crate::lock::StateLock;
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::snapshot::{RegistrySnapshot, SnapshotError};
use crate::state::RegistryState;
use crate::types::RestorePolicy;

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
        let policy = policy.into();
        let state = RegistryState::rebuild(snapshot, |image| Request::Restore { image, policy })?;
        Ok(Self::from_state(state))
    }
}
