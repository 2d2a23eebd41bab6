//! The registry's lifecycle calls: each is one request to the machine, made
//! with the data that call brings (see [`crate::RegistryState`]).

use oplife_machine::Request;

use crate::api::{OpsLifecycleRegistry, WaitAllFuture};
use crate::call::{Call, WaitBegun};
use crate::error::OpsLifecycleError;
use crate::lock::StateLock;
use crate::record::Record;
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::source::Origin;
use crate::state::RegistryState;
use crate::types::{
    OperationId, OperationLifecycleSnapshot, OperationPeerHandle, OperationProgressUpdate, OperationResult,
    OperationSpec, RunId, SharedTerminalOutcome, WaitRequestId,
};
use crate::wait_all::{WaitAll, WaitState};
use crate::watch::OperationCompletionWatch;

/// The caller's limits on one registration, beside the registry's own.
#[derive(Default)]
struct Caps {
    /// At most this many active operations of the spec's kind.
    kind: Option<u32>,
    /// At most this many active operations of any kind.
    total: Option<u32>,
}

impl<L: StateLock<RegistryState>> RuntimeOpsLifecycleRegistry<L> {
    fn register(&self, spec: OperationSpec, caps: Caps) -> Result<(), OpsLifecycleError> {
        // The registration time is set under the lock, from the registry's
        // clock (see `RegistryState::apply`).
        let source = spec.operation_source.as_ref().map(|source| source.claim(spec.child_session_id));
        let origin = Origin {
            owner_session_id: spec.owner_session_id,
            source_label: spec.source_label,
            operation_source: spec.operation_source.map(Box::new),
        };
        let record = Record::new(spec.kind, spec.display_name, spec.child_session_id, origin);
        let request = Request::Register {
            id: spec.id,
            kind: spec.kind,
            expects_peer: spec.expect_peer_channel,
            kind_limit: caps.kind,
            limit: caps.total,
            source,
        };
        self.call(request, &mut Call::Register(Some(record)))
    }

    /// `register_watcher` for a caller that brings its own channel (an
    /// adapter to another registry interface, a runtime's own queue):
    /// `deliver` takes the operation's outcome when it ends, called once,
    /// after the registry's lock is released, on the thread of the call
    /// that ended it. If the operation has already ended, the outcome is
    /// returned at once and `deliver` is dropped uncalled.
    ///
    /// Unlike an [`OperationCompletionWatch`], the watcher counts
    /// (`watcher_count`) until the operation ends: nothing tells the
    /// registry that the caller lost interest.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use oplife_shell::prelude::*;
    ///
    /// let registry = RuntimeOpsLifecycleRegistry::new();
    /// let spec = OperationSpec::background_tool(SessionId::new(), "grep");
    /// let id = spec.id;
    /// registry.register_operation(spec)?;
    /// let (sender, receiver) = mpsc::channel();
    /// let sender = std::sync::Mutex::new(sender);
    /// let ended = registry.watch_with(&id, move |outcome| {
    ///     let _ = sender.lock().map(|s| s.send(outcome));
    /// })?;
    /// assert!(ended.is_none(), "not ended yet: delivered later");
    /// registry.cancel_operation(&id, None)?;
    /// assert_eq!(receiver.recv().map(|o| o.to_string()).ok(), Some("cancelled".to_string()));
    /// # Ok::<(), OpsLifecycleError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`OpsLifecycleRegistry::register_watcher`]: `NotFound` (also for
    /// a forgotten operation), `Poisoned`.
    pub fn watch_with(
        &self,
        id: &OperationId,
        deliver: impl FnOnce(SharedTerminalOutcome) + Send + Sync + 'static,
    ) -> Result<Option<SharedTerminalOutcome>, OpsLifecycleError> {
        let mut call = Call::Forward(Some(Box::new(deliver)), None);
        self.call(Request::RegisterWatcher { id: *id }, &mut call)?;
        match call {
            Call::Forward(_, resolved) => Ok(resolved),
            _ => Err(OpsLifecycleError::Internal("register_watcher lost its delivery".into())),
        }
    }
}

impl<L: StateLock<RegistryState>> OpsLifecycleRegistry for RuntimeOpsLifecycleRegistry<L> {
    fn register_operation(&self, spec: OperationSpec) -> Result<(), OpsLifecycleError> {
        self.register(spec, Caps::default())
    }

    fn register_operation_limited(&self, spec: OperationSpec, limit: u32) -> Result<(), OpsLifecycleError> {
        self.register(spec, Caps { kind: Some(limit), ..Caps::default() })
    }

    fn register_operation_within(&self, spec: OperationSpec, max_concurrent: u32) -> Result<(), OpsLifecycleError> {
        self.register(spec, Caps { total: Some(max_concurrent), ..Caps::default() })
    }

    fn provisioning_succeeded(&self, id: &OperationId) -> Result<(), OpsLifecycleError> {
        self.simple(Request::ProvisioningSucceeded { id: *id })
    }

    fn provisioning_failed(&self, id: &OperationId, error: String) -> Result<(), OpsLifecycleError> {
        self.simple(Request::ProvisioningFailed { id: *id, error })
    }

    fn peer_ready(&self, id: &OperationId, peer: OperationPeerHandle) -> Result<(), OpsLifecycleError> {
        self.call(Request::PeerReady { id: *id }, &mut Call::PeerReady(Some(peer)))
    }

    fn register_watcher(&self, id: &OperationId) -> Result<OperationCompletionWatch, OpsLifecycleError> {
        let mut call = Call::Watch(None);
        self.call(Request::RegisterWatcher { id: *id }, &mut call)?;
        match call {
            Call::Watch(Some(watch)) => Ok(watch),
            _ => Err(OpsLifecycleError::Internal("register_watcher produced no watch".into())),
        }
    }

    fn report_progress(&self, id: &OperationId, update: OperationProgressUpdate) -> Result<(), OpsLifecycleError> {
        self.simple(Request::ReportProgress { id: *id, update })
    }

    fn complete_operation(&self, id: &OperationId, result: OperationResult) -> Result<(), OpsLifecycleError> {
        if result.id != *id {
            return Err(OpsLifecycleError::ResultIdMismatch { call: *id, result: result.id });
        }
        self.simple(Request::Complete { id: *id, result })
    }

    fn fail_operation(&self, id: &OperationId, error: String) -> Result<(), OpsLifecycleError> {
        self.simple(Request::Fail { id: *id, error })
    }

    fn abort_provisioning(&self, id: &OperationId, reason: Option<String>) -> Result<(), OpsLifecycleError> {
        self.simple(Request::AbortProvisioning { id: *id, reason })
    }

    fn cancel_operation(&self, id: &OperationId, reason: Option<String>) -> Result<(), OpsLifecycleError> {
        self.simple(Request::Cancel { id: *id, reason })
    }

    fn request_retire(&self, id: &OperationId) -> Result<(), OpsLifecycleError> {
        self.simple(Request::RequestRetire { id: *id })
    }

    fn mark_retired(&self, id: &OperationId) -> Result<(), OpsLifecycleError> {
        self.simple(Request::MarkRetired { id: *id })
    }

    fn collect_terminal(&self, id: &OperationId) -> Result<(), OpsLifecycleError> {
        self.simple(Request::CollectTerminal { id: *id })
    }

    fn rollback_registration(&self, id: &OperationId) -> Result<(), OpsLifecycleError> {
        self.simple(Request::RollbackRegistration { id: *id })
    }

    fn snapshot(&self, id: &OperationId) -> Result<Option<OperationLifecycleSnapshot>, OpsLifecycleError> {
        // Built where it is returned: a snapshot is large, and each move
        // through `Option` and `Result` would copy it.
        let state = self.read()?;
        Ok(state.seen(id).map(|seen| seen.snapshot()))
    }

    fn list_operations(&self) -> Result<Vec<OperationLifecycleSnapshot>, OpsLifecycleError> {
        self.inspect_all(|seen| seen.snapshot())
    }

    fn terminate_owner(&self, reason: String) -> Result<(), OpsLifecycleError> {
        self.simple(Request::TerminateOwner { reason })
    }

    fn collect_completed(&self) -> Result<Vec<(OperationId, SharedTerminalOutcome)>, OpsLifecycleError> {
        let mut call = Call::Collect(Vec::new());
        self.call(Request::CollectCompleted, &mut call)?;
        match call {
            Call::Collect(collected) => Ok(collected),
            _ => Err(OpsLifecycleError::Internal("collect_completed lost its records".into())),
        }
    }

    fn wait_all(&self, run_id: &RunId, ids: &[OperationId]) -> WaitAllFuture<'_> {
        let wait = WaitRequestId::new();
        let mut call = Call::BeginWait(wait, None);
        let state = match self.call(Request::BeginWait { wait, ids: ids.to_vec(), run: *run_id }, &mut call) {
            Err(error) => WaitState::Ready(Some(Err(error))),
            Ok(()) => match call {
                Call::BeginWait(_, Some(WaitBegun::Satisfied(result))) => WaitState::Ready(Some(Ok(result))),
                Call::BeginWait(_, Some(WaitBegun::Pending(rx))) => WaitState::Pending { wait, rx },
                _ => WaitState::Ready(Some(Err(OpsLifecycleError::Internal(
                    "begin_wait was neither satisfied nor pending".into(),
                )))),
            },
        };
        Box::pin(WaitAll::new(self, state))
    }
}
