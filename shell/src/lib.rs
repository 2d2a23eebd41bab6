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
//!
//! Beyond the reference's interface: a completion feed
//! ([`RuntimeOpsLifecycleRegistry::list_since`],
//! [`RuntimeOpsLifecycleRegistry::wait_for_watermark`]) whose sequence
//! numbers the machine mints; a typed stream of operation events with
//! explicit gaps ([`RuntimeOpsLifecycleRegistry::subscribe_events`]); and
//! durable snapshots ([`RuntimeOpsLifecycleRegistry::capture`],
//! [`RuntimeOpsLifecycleRegistry::restore`]), serialisable with the `serde`
//! feature (off by default).

mod api;
mod calls;
mod error;
mod events;
mod feed;
mod lock;
mod record;
mod registry;
mod snapshot;
mod state;
mod types;
mod wait_all;
mod watch;
mod watermark;

pub use api::{OpsLifecycleRegistry, WaitAllFuture};
pub use error::OpsLifecycleError;
pub use events::{ObservedEvent, OperationEvent, OperationEvents};
pub use feed::{CompletionFeedEntry, FeedDetail, FeedPage};
pub use lock::StateLock;
pub use oplife_machine::Outcome;
pub use registry::{HeldHandles, RuntimeOpsLifecycleRegistry};
pub use snapshot::{RecordSnapshot, RegistrySnapshot, SNAPSHOT_VERSION, SnapshotError};
pub use state::RegistryState;
pub use types::{
    ConfigError, DEFAULT_EVENT_CAPACITY, MAX_EVENT_CAPACITY, MAX_RETENTION, OperationId, OperationKind,
    OperationLifecycleSnapshot, OperationPeerHandle, OperationProgressUpdate, OperationResult, OperationSpec,
    OperationStatus, OperationTerminalOutcome, OpsLifecycleConfig, RestorePolicy, RunId, Runtime, SessionId,
    WaitAllResult, WaitAllSatisfied, WaitRequestId,
};
pub use watch::OperationCompletionWatch;
