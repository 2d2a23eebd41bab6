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
//!
//! Observable with the `tracing` and `metrics` features: a span per call,
//! events for transitions, refusals, journal commits, recovery, store
//! failures and fencing, counters, sampled gauges and commit histograms,
//! none emitted while the registry's lock is held. The repository's
//! `docs/OBSERVABILITY.md` lists every name, field and unit.
//!
//! ```
//! use oplife_shell::prelude::*;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let registry = RuntimeOpsLifecycleRegistry::new();
//! let owner = SessionId::new();
//! let crawl = OperationSpec::background_tool(owner, "crawl");
//! let id = crawl.id;
//! registry.register_operation(crawl)?;
//! registry.provisioning_succeeded(&id)?;
//!
//! let watch = registry.register_watcher(&id)?;
//! let all = registry.wait_all(&RunId::new(), &[id]);
//! registry.complete_operation(&id, OperationResult::new(id, "120 pages"))?;
//!
//! assert_eq!(watch.wait().await?.to_string(), "completed");
//! assert_eq!(all.await?.outcomes.len(), 1);
//! # Ok::<(), OpsLifecycleError>(())
//! # }).unwrap();
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod call;
mod calls;
mod classify;
#[cfg(feature = "serde")]
mod codec;
mod config;
mod cursors;
mod deliveries;
#[cfg(feature = "durable")]
mod durable;
mod error;
mod events;
mod execute;
mod feed;
mod ids;
mod journaling;
mod lock;
#[cfg(any(feature = "meerkat-0-5", feature = "meerkat-0-9"))]
mod meerkat;
mod observe;
mod percent;
mod record;
mod registry;
mod restore;
mod snapshot;
mod source;
mod state;
mod types;
mod wait_all;
mod watch;
mod watermark;

pub use api::{OpsLifecycleRegistry, WaitAllFuture};
pub use config::{ConfigError, DEFAULT_EVENT_CAPACITY, MAX_EVENT_CAPACITY, MAX_RETENTION, OpsLifecycleConfig};
pub use cursors::MAX_CONSUMER_NAME;
#[cfg(feature = "durable")]
pub use durable::{
    Claim, CutRecord, DEFAULT_BUSY_TIMEOUT, Durability, DurableMark, DurableOptions, JournalRecord, MemoryStore,
    RecoveryError, RecoveryReport, SqliteStore, Store, Stored, StoredImage, Syncer,
};
#[cfg(feature = "postgres")]
pub use durable::{MAX_REGISTRY_ID, PostgresOptions, PostgresStore};
pub use error::{CursorRefusal, OpsLifecycleError, Owner, Refusal, StoreError};
pub use events::{ObservedEvent, OperationEvent, OperationEvents};
pub use feed::{CompletionFeedEntry, FeedPage};
pub use lock::{RegistryLock, StateLock};
#[cfg(any(feature = "meerkat-0-5", feature = "meerkat-0-9"))]
pub use meerkat::{MeerkatFeed, MeerkatRegistry};
pub use oplife_machine::Outcome;
pub use oplife_spec::{Input, PublicResult, Retry};
pub use percent::Percent;
pub use registry::{HeldHandles, OwnerState, RuntimeOpsLifecycleRegistry};
pub use snapshot::{FeedDetail, RecordSnapshot, RegistrySnapshot, SNAPSHOT_VERSION, SnapshotError};
pub use source::OperationSource;
pub use state::RegistryState;
pub use types::{
    OperationId, OperationKind, OperationLifecycleSnapshot, OperationPeerHandle, OperationProgressUpdate,
    OperationResult, OperationSpec, OperationStatus, OperationTerminalOutcome, RestorePolicy, Retention, RunId,
    SessionId, SharedTerminalOutcome, ShellDomain, WaitAllResult, WaitAllSatisfied, WaitRequestId,
};
/// The `uuid` crate the ids wrap, for building ids from existing UUIDs.
pub use uuid;
pub use watch::OperationCompletionWatch;

/// What most users need in one import: the registry and its trait, the
/// specs, results and ids, the statuses and outcomes, the configuration and
/// the error.
///
/// ```
/// use oplife_shell::prelude::*;
///
/// let registry = RuntimeOpsLifecycleRegistry::new();
/// let spec = OperationSpec::background_tool(SessionId::new(), "grep");
/// let id = spec.id;
/// registry.register_operation(spec)?;
/// registry.provisioning_succeeded(&id)?;
/// registry.complete_operation(&id, OperationResult::new(id, "3 matches"))?;
/// assert_eq!(registry.snapshot(&id)?.map(|s| s.status), Some(OperationStatus::Completed));
/// # Ok::<(), OpsLifecycleError>(())
/// ```
pub mod prelude {
    pub use crate::{
        OperationCompletionWatch, OperationId, OperationKind, OperationResult, OperationSpec, OperationStatus,
        OperationTerminalOutcome, OpsLifecycleConfig, OpsLifecycleError, OpsLifecycleRegistry, Refusal, RunId,
        RuntimeOpsLifecycleRegistry, SessionId, SharedTerminalOutcome,
    };
}
