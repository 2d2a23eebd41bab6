//! The registry's interface: every lifecycle call a runtime makes.

use std::future::Future;
use std::pin::Pin;

use crate::error::OpsLifecycleError;
use crate::types::{
    OperationId, OperationLifecycleSnapshot, OperationPeerHandle, OperationProgressUpdate, OperationResult,
    OperationSpec, RunId, SharedTerminalOutcome, WaitAllResult,
};
use crate::watch::OperationCompletionWatch;

/// The future `wait_all` returns.
pub type WaitAllFuture<'a> = Pin<Box<dyn Future<Output = Result<WaitAllResult, OpsLifecycleError>> + Send + 'a>>;

/// The lifecycle registry of one owner session's async operations.
///
/// Every method is a registry call of `spec/SPEC.md`; each either applies and
/// returns `Ok`, or is refused with a typed [`OpsLifecycleError`] and changes
/// nothing.
pub trait OpsLifecycleRegistry: Send + Sync {
    /// Registers a new operation (status `Provisioning`).
    ///
    /// Allowed from: Absent; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `AlreadyRegistered`, `MaxConcurrentExceeded`, `OwnerTerminated`,
    /// `PeerExpectationMismatch`, `Store` (a durable registry could not
    /// write it), `Poisoned`.
    fn register_operation(&self, spec: OperationSpec) -> Result<(), OpsLifecycleError>;
    /// Registers a new operation under an admission limit the caller gives
    /// for this registration: it is refused while `limit` operations **of
    /// the spec's kind** are active (not terminal), beside the
    /// registry-wide `max_concurrent`. For example, at most 4 background
    /// jobs at once, whatever the child agents do.
    ///
    /// ```
    /// use oplife_shell::prelude::*;
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let owner = SessionId::new();
    /// registry.register_operation_limited(OperationSpec::background_tool(owner, "a"), 1)?;
    /// let refused = registry.register_operation_limited(OperationSpec::background_tool(owner, "b"), 1);
    /// assert!(matches!(refused, Err(OpsLifecycleError::Refused(Refusal::AdmissionLimitExceeded { limit: 1, active: 1, .. }))));
    /// // another kind is not counted
    /// let child = OperationSpec::child_agent(owner, "c", SessionId::new());
    /// registry.register_operation_limited(child, 1)?;
    /// # Ok::<(), OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`OpsLifecycleRegistry::register_operation`], and
    /// `AdmissionLimitExceeded` when the limit is reached.
    fn register_operation_limited(&self, spec: OperationSpec, limit: u32) -> Result<(), OpsLifecycleError>;
    /// Registers a new operation under a concurrency limit the caller gives
    /// for this registration: it is refused while `max_concurrent`
    /// operations **of any kind** are active. The limit can only tighten
    /// the registry's own `max_concurrent`, never lift it.
    ///
    /// ```
    /// use oplife_shell::prelude::*;
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let owner = SessionId::new();
    /// registry.register_operation(OperationSpec::child_agent(owner, "a", SessionId::new()))?;
    /// let refused = registry.register_operation_within(OperationSpec::background_tool(owner, "b"), 1);
    /// assert!(matches!(refused, Err(OpsLifecycleError::Refused(Refusal::MaxConcurrentExceeded { limit: 1, active: 1 }))));
    /// # Ok::<(), OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`OpsLifecycleRegistry::register_operation`]; `MaxConcurrentExceeded`
    /// with the lower of the two limits when it is reached.
    fn register_operation_within(&self, spec: OperationSpec, max_concurrent: u32) -> Result<(), OpsLifecycleError>;
    /// Provisioning finished: the operation runs.
    ///
    /// Allowed from: Provisioning; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn provisioning_succeeded(&self, id: &OperationId) -> Result<(), OpsLifecycleError>;
    /// Provisioning failed: the operation ends `Failed`.
    ///
    /// Allowed from: Provisioning; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn provisioning_failed(&self, id: &OperationId, error: String) -> Result<(), OpsLifecycleError>;
    /// The child's peer channel is ready.
    ///
    /// Allowed from: Running, Retiring; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `PeerNotExpected`, `AlreadyPeerReady`,
    /// `Poisoned`.
    fn peer_ready(&self, id: &OperationId, peer: OperationPeerHandle) -> Result<(), OpsLifecycleError>;
    /// Watches the operation's terminal outcome.
    ///
    /// Allowed from: any known; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound` (also for a forgotten operation), `Poisoned`.
    fn register_watcher(&self, id: &OperationId) -> Result<OperationCompletionWatch, OpsLifecycleError>;
    /// Reports progress; the last update is kept in the snapshot.
    ///
    /// Allowed from: Running, Retiring; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn report_progress(&self, id: &OperationId, update: OperationProgressUpdate) -> Result<(), OpsLifecycleError>;
    /// Completes the operation with a result.
    ///
    /// Allowed from: Running, Retiring; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `ResultIdMismatch` when `result.id` is not `id`; `NotFound`,
    /// `InvalidTransition`, `Poisoned`.
    fn complete_operation(&self, id: &OperationId, result: OperationResult) -> Result<(), OpsLifecycleError>;
    /// Fails the operation.
    ///
    /// Allowed from: any non-terminal; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn fail_operation(&self, id: &OperationId, error: String) -> Result<(), OpsLifecycleError>;
    /// Abandons provisioning: the operation ends `Aborted`.
    ///
    /// Allowed from: Provisioning; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn abort_provisioning(&self, id: &OperationId, reason: Option<String>) -> Result<(), OpsLifecycleError>;
    /// Cancels the operation.
    ///
    /// Allowed from: any non-terminal; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn cancel_operation(&self, id: &OperationId, reason: Option<String>) -> Result<(), OpsLifecycleError>;
    /// Asks a running operation to wind down (`Retiring`).
    ///
    /// Allowed from: Running; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn request_retire(&self, id: &OperationId) -> Result<(), OpsLifecycleError>;
    /// The operation has wound down: it ends `Retired`.
    ///
    /// Allowed from: Running, Retiring; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition`, `Poisoned`.
    fn mark_retired(&self, id: &OperationId) -> Result<(), OpsLifecycleError>;
    /// Acknowledges the operation's buffered terminal outcome (the snapshot's
    /// outcome stays; only the buffered flag clears).
    ///
    /// Allowed from: any terminal; see the [transition table](oplife_spec::transition_table).
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition` (not terminal, or already
    /// acknowledged), `Poisoned`.
    fn collect_terminal(&self, id: &OperationId) -> Result<(), OpsLifecycleError>;
    /// Undoes a registration whose handle never reached its caller (for
    /// example, spawning its task failed), as if it had never happened: no
    /// outcome, no feed entry, no watcher notified, no event, and its
    /// concurrency slot returned. Only while nobody can have observed the
    /// operation: no watcher, no wait over it, no progress, not running,
    /// not peer-ready.
    ///
    /// Allowed from: Provisioning; see the [transition table](oplife_spec::transition_table).
    ///
    /// ```
    /// use oplife_shell::prelude::*;
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let spec = OperationSpec::background_tool(SessionId::new(), "spawn me");
    /// let id = spec.id;
    /// registry.register_operation(spec)?;
    /// // spawning the task failed: the caller never got its handle
    /// registry.rollback_registration(&id)?;
    /// assert_eq!(registry.snapshot(&id)?, None);
    /// assert!(registry.list_since(0)?.entries.is_empty()); // no feed entry
    /// # Ok::<(), OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `NotFound`, `InvalidTransition` (no longer provisioning),
    /// `RegistrationObserved` (a watcher or a wait observes it), `Store`
    /// (a durable registry could not write it), `Poisoned`.
    fn rollback_registration(&self, id: &OperationId) -> Result<(), OpsLifecycleError>;
    /// The operation as the registry knows it; `None` if unknown or
    /// forgotten.
    ///
    /// # Errors
    ///
    /// `Poisoned` (never a silent `None`).
    fn snapshot(&self, id: &OperationId) -> Result<Option<OperationLifecycleSnapshot>, OpsLifecycleError>;
    /// Every known operation, ordered by display name.
    ///
    /// # Errors
    ///
    /// `Poisoned` (never a silent empty list).
    fn list_operations(&self) -> Result<Vec<OperationLifecycleSnapshot>, OpsLifecycleError>;
    /// The owner terminates: every non-terminal operation ends `Terminated`
    /// with `reason`, and the registry refuses new operations from then on.
    /// A second call changes nothing.
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    fn terminate_owner(&self, reason: String) -> Result<(), OpsLifecycleError>;
    /// Hands over every retained terminal record, in completion order, and
    /// forgets them.
    ///
    /// # Errors
    ///
    /// `Poisoned`.
    fn collect_completed(&self) -> Result<Vec<(OperationId, SharedTerminalOutcome)>, OpsLifecycleError>;
    /// Resolves once every listed operation has ended, with their outcomes
    /// in the order asked. Already-ended operations count at once; an empty
    /// list resolves at once. Dropping the future before it resolves cancels
    /// its wait request and nothing else.
    ///
    /// The future resolves to `NotFound` for an unknown id,
    /// `DuplicateWaitOperation` for a repeated one, or `Poisoned`.
    fn wait_all(&self, run_id: &RunId, ids: &[OperationId]) -> WaitAllFuture<'_>;
}
