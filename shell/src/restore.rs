//! Capturing a registry's durable state, and rebuilding a registry from a
//! snapshot through the machine's `restore` row.

use oplife_machine::Request;

use crate::error::OpsLifecycleError;
use crate::feed::FeedDetails;
use crate::lock::StateLock;
use crate::record::Record;
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::snapshot::{RegistrySnapshot, SNAPSHOT_VERSION, SnapshotError};
use crate::state::{Call, RegistryState};
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
        let state = self.lock()?;
        let image = state.machine.state().image();
        let mut records = Vec::with_capacity(image.operations.len());
        for op in &image.operations {
            let record = state
                .records
                .get(&op.id)
                .ok_or_else(|| OpsLifecycleError::Internal(format!("operation {} has no record", op.id)))?;
            records.push(record.capture(op.id));
        }
        Ok(RegistrySnapshot {
            version: SNAPSHOT_VERSION,
            config: state.config,
            image,
            records,
            feed_details: state.feed_details.all(),
        })
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
        snapshot.check_shell_parts()?;
        let mut state = RegistryState::new(snapshot.config);
        for record in snapshot.records {
            let id = record.id;
            state.records.insert(id, Record::restore(record));
        }
        let now = state.clock.now_ms();
        state.feed_details = FeedDetails::from_details(snapshot.feed_details);
        let request = Request::Restore { image: Box::new(snapshot.image), policy: policy.into() };
        state.apply(request, &mut Call::Plain, false, now).map_err(|error| match error {
            OpsLifecycleError::Internal(why) => SnapshotError::Inconsistent(why),
            other => SnapshotError::Inconsistent(other.to_string()),
        })?;
        state.feed_details.trim(state.machine.state().feed());
        Ok(Self::from_state(state))
    }
}
