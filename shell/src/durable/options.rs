//! How a durable registry is opened: durability mode, compaction and the
//! restore policy for operations a crash cut short.

use std::time::Duration;

use crate::config::OpsLifecycleConfig;
use crate::types::{RestorePolicy, Retention};

/// When a call's transition is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A call returns only once its transition is committed to the store;
    /// watchers, waits, events and the feed see only committed transitions.
    /// A call returns once its transition is durable. Its record is
    /// written under the registry's lock, before the machine commits the
    /// call: a write the store refuses refuses the call, and nothing
    /// changed. The sync that makes it durable runs outside the lock, and
    /// covers every call written while the sync before it ran, so callers
    /// at once share syncs (on a multi-threaded tokio runtime the waiting
    /// task lets others run meanwhile). A failed sync fails the calls it
    /// was to cover, and every later write: whether their records survive
    /// a crash is unknown, so the registry takes no more until reopened,
    /// which recovers what the store holds. Meanwhile reads may show those
    /// calls' changes: written to the journal, not known durable.
    #[default]
    Sync,
    /// Group commit: a call returns once its transition is applied and
    /// queued; a background writer commits the queue every
    /// [`DurableOptions::flush_interval`], or as soon as
    /// [`DurableOptions::max_batch`] transitions wait. `flush().await`
    /// returns the durable watermark; nothing unflushed is reported durable.
    Batched,
}

/// How opening a durable registry claims its store (see [`crate::Store::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Claim {
    /// Take the store only if no live owner holds it; otherwise `open` is
    /// refused with [`crate::StoreError::Owned`]. An owner that crashed
    /// holds nothing: its store is free at once.
    #[default]
    IfFree,
    /// Take the store even from a live owner, which is fenced: its next
    /// write fails, and its registry is sealed. For an operator who knows
    /// the old owner is gone or stuck (a process stopped, a host cut off).
    TakeOver,
}

/// How [`crate::RuntimeOpsLifecycleRegistry::open`] opens a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurableOptions {
    /// When a transition is durable.
    pub durability: Durability,
    /// The configuration of a new store; a store that already holds a
    /// registry keeps the configuration it was created with.
    pub config: OpsLifecycleConfig,
    /// How operations that had not ended when the process stopped end on
    /// reopening.
    pub policy: RestorePolicy,
    /// Unfinished operations to keep as they are on reopening, instead of
    /// ending them as `policy` says: each must be in the store unfinished,
    /// of the kind and with the source named, or opening is refused
    /// ([`crate::SnapshotError::RetentionMismatch`]).
    pub keep: Vec<Retention>,
    /// After this many journal records the registry writes a new image and
    /// drops the journal before it (in one atomic write).
    pub compact_after: u64,
    /// `Batched`: how often the background writer commits.
    pub flush_interval: Duration,
    /// `Batched`: how many queued transitions wake the writer early.
    pub max_batch: usize,
    /// Whether opening may take the store from a live owner.
    pub claim: Claim,
}

impl Default for DurableOptions {
    fn default() -> Self {
        DurableOptions {
            durability: Durability::Sync,
            config: OpsLifecycleConfig::default(),
            policy: RestorePolicy::default(),
            keep: Vec::new(),
            compact_after: 10_000,
            flush_interval: Duration::from_millis(5),
            max_batch: 4096,
            claim: Claim::IfFree,
        }
    }
}

impl DurableOptions {
    /// The default options in `Batched` mode.
    pub fn batched() -> Self {
        DurableOptions { durability: Durability::Batched, ..Self::default() }
    }

    /// The same options, taking the store over from a live owner
    /// ([`Claim::TakeOver`]).
    #[must_use]
    pub fn taking_over(self) -> Self {
        DurableOptions { claim: Claim::TakeOver, ..self }
    }
}
