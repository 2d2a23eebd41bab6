//! The tokio runtime registry of async-operation lifecycles.
//!
//! [`RuntimeOpsLifecycleRegistry`] implements [`OpsLifecycleRegistry`] over
//! the verified machine of [`oplife_machine`]: every call is a request to the
//! machine, and the registry only carries out the effects the machine
//! returns — watcher channels, the [`OpsLifecycleRegistry::wait_all`]
//! future, timestamps, peer handles and snapshots. It decides nothing about
//! legality.
//!
//! Beyond the reference design: many `wait_all` calls may be pending at
//! once; a wait is never stranded and reports each operation's real outcome
//! even when its record was evicted or collected before the future was
//! polled; dropping a wait future cancels exactly its own wait; the last
//! progress update is kept; owner termination is final; a poisoned lock is a
//! typed error, never a silent `None`.

mod error;
mod lock;
mod registry;
mod types;
mod watch;

pub use error::OpsLifecycleError;
pub use lock::StateLock;
pub use oplife_machine::Outcome;
pub use registry::{OpsLifecycleRegistry, RegistryState, RuntimeOpsLifecycleRegistry, WaitAllFuture};
pub use types::{
    OperationId, OperationKind, OperationLifecycleSnapshot, OperationPeerHandle, OperationProgressUpdate,
    OperationResult, OperationSpec, OperationStatus, OperationTerminalOutcome, OpsLifecycleConfig, RunId, Runtime,
    SessionId, WaitAllResult, WaitAllSatisfied, WaitRequestId,
};
pub use watch::OperationCompletionWatch;
