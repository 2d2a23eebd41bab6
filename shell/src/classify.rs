//! What the registry says of an operation without changing it, read from
//! the transition table: its status, what a caller is told of its result,
//! whether a refused call would repeat what already happened, and whether
//! its ending wakes the owner.

use oplife_spec::{Input, PublicResult, RetryRule};

use crate::error::OpsLifecycleError;
use crate::lock::StateLock;
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::state::RegistryState;
use crate::types::{OperationId, OperationKind, OperationStatus};

impl<L: StateLock<RegistryState>> RuntimeOpsLifecycleRegistry<L> {
    /// The operation's status: `Absent` when the registry does not know it
    /// (never registered, or forgotten).
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn status(&self, id: &OperationId) -> Result<OperationStatus, OpsLifecycleError> {
        Ok(self.read()?.machine.state().operation(id).map_or(OperationStatus::Absent, |op| op.status()))
    }

    /// What a caller is told of the operation's result: the table's public
    /// result of its status (a retiring operation still reports running).
    ///
    /// ```
    /// use oplife_shell::prelude::*;
    /// use oplife_shell::PublicResult;
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let spec = OperationSpec::background_tool(SessionId::new(), "grep");
    /// let id = spec.id;
    /// assert_eq!(registry.public_result(&id)?, PublicResult::Unknown);
    /// registry.register_operation(spec)?;
    /// registry.provisioning_succeeded(&id)?;
    /// registry.request_retire(&id)?;
    /// assert_eq!(registry.public_result(&id)?, PublicResult::Running);
    /// registry.mark_retired(&id)?;
    /// assert_eq!(registry.public_result(&id)?, PublicResult::Cancelled);
    /// # Ok::<(), OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn public_result(&self, id: &OperationId) -> Result<PublicResult, OpsLifecycleError> {
        let state = self.read()?;
        let status = state.machine.state().operation(id).map_or(OperationStatus::Absent, |op| op.status());
        Ok(state.machine.lifecycle().table().public_result(status))
    }

    /// Whether `input`, refused for the operation now, would repeat what
    /// already happened whatever its payload: the table's retry row for the
    /// input and the operation's status says *repeat* (a second cancel of a
    /// cancelled operation). A repeat that depends on the payload (the same
    /// result again) is not one here: only the refusal of the call itself
    /// can tell ([`OpsLifecycleError::retry`]).
    ///
    /// ```
    /// use oplife_shell::prelude::*;
    /// use oplife_shell::Input;
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let spec = OperationSpec::background_tool(SessionId::new(), "grep");
    /// let id = spec.id;
    /// registry.register_operation(spec)?;
    /// registry.cancel_operation(&id, None)?;
    /// assert!(registry.refusal_repeats(&id, Input::Cancel)?);
    /// assert!(!registry.refusal_repeats(&id, Input::Complete)?); // a conflict
    /// # Ok::<(), OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn refusal_repeats(&self, id: &OperationId, input: Input) -> Result<bool, OpsLifecycleError> {
        let state = self.read()?;
        let status = state.machine.state().operation(id).map_or(OperationStatus::Absent, |op| op.status());
        Ok(state.machine.lifecycle().table().retry_rule(input, status) == Some(RetryRule::Repeat))
    }

    /// Whether the completion-feed entry of an operation of `kind` wakes
    /// its owner (the table's owner wakes: a background job's does, a child
    /// agent's does not).
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    pub fn wakes_owner(&self, kind: OperationKind) -> Result<bool, OpsLifecycleError> {
        Ok(self.read()?.machine.lifecycle().table().wakes_owner(kind))
    }
}
