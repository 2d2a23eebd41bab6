//! Meerkat's registry interface over this registry: [`MeerkatRegistry`].
//!
//! Meerkat publishes the interface its runtime drives
//! (`meerkat_core::ops_lifecycle::OpsLifecycleRegistry`) on crates.io. A
//! runtime that holds an `Arc<dyn OpsLifecycleRegistry>` of Meerkat's can
//! be handed a [`MeerkatRegistry`] instead of Meerkat's own registry: every
//! call becomes one call of this registry, so the transition table decides
//! it, and the answer is translated into Meerkat's types. Nothing is
//! decided here.
//!
//! One feature per published line of the interface:
//!
//! | feature | interface |
//! |---|---|
//! | `meerkat-0-5` | `meerkat-core` 0.5 from 0.5.0, the line of `meerkat-runtime` 0.5.0 |
//! | `meerkat-0-5-feed` | and `completion_feed()`, which `meerkat-core` 0.5.2 added to that line |
//! | `meerkat-0-9` | `meerkat-core` 0.9.8, the current release |
//!
//! `meerkat-runtime` 0.5.0 builds only against `meerkat-core` 0.5.0, which
//! has no completion feed: a build that holds both (the comparison bench)
//! turns on `meerkat-0-5` alone.
//!
//! Both need Rust 1.94, Meerkat's own minimum.

use std::fmt;
use std::sync::Arc;

use crate::lock::{RegistryLock, StateLock};
use crate::registry::RuntimeOpsLifecycleRegistry;
use crate::state::RegistryState;

mod common;
#[cfg(feature = "meerkat-0-5")]
mod v0_5;
#[cfg(feature = "meerkat-0-9")]
mod v0_9;

/// This registry behind Meerkat's registry interface.
///
/// Build the registry as usual (in memory, or durable with `open`), share
/// it in an `Arc`, and wrap it; the registry stays usable through its own
/// interface beside Meerkat's (its feed cursors, events, snapshots).
///
/// ```
/// # #[cfg(feature = "meerkat-0-5-feed")] {
/// use std::sync::Arc;
/// use meerkat_core_0_5::ops_lifecycle::OpsLifecycleRegistry;
/// use oplife_shell::{MeerkatRegistry, RuntimeOpsLifecycleRegistry};
///
/// let ours = Arc::new(RuntimeOpsLifecycleRegistry::new());
/// let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::clone(&ours)));
/// assert!(registry.list_operations().is_empty());
/// assert!(registry.completion_feed().is_some());
/// # }
/// ```
pub struct MeerkatRegistry<L: StateLock<RegistryState> = RegistryLock<RegistryState>> {
    registry: Arc<RuntimeOpsLifecycleRegistry<L>>,
    feed: Arc<MeerkatFeed<L>>,
}

impl<L: StateLock<RegistryState>> MeerkatRegistry<L> {
    /// Meerkat's interface over `registry`.
    pub fn new(registry: Arc<RuntimeOpsLifecycleRegistry<L>>) -> Self {
        let feed = Arc::new(MeerkatFeed { registry: Arc::clone(&registry) });
        MeerkatRegistry { registry, feed }
    }

    /// The registry behind the interface, for what only its own interface
    /// offers (named feed cursors, events, snapshots, flushes).
    pub fn registry(&self) -> &Arc<RuntimeOpsLifecycleRegistry<L>> {
        &self.registry
    }
}

impl<L: StateLock<RegistryState>> fmt::Debug for MeerkatRegistry<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeerkatRegistry").field("feed", &self.feed).finish_non_exhaustive()
    }
}

/// The registry's completion feed behind Meerkat's feed interface
/// (`CompletionFeed`), from `completion_feed()`: the same entries, with the
/// sequence numbers the machine minted.
pub struct MeerkatFeed<L: StateLock<RegistryState> = RegistryLock<RegistryState>> {
    registry: Arc<RuntimeOpsLifecycleRegistry<L>>,
}

impl<L: StateLock<RegistryState>> fmt::Debug for MeerkatFeed<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let watermark = self.registry.feed_watermark().unwrap_or_default();
        f.debug_struct("MeerkatFeed").field("watermark", &watermark).finish()
    }
}
