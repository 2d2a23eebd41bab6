//! The lifecycle authority: a pure state machine compiled from the
//! transition table of [`oplife_spec`].
//!
//! - [`Lifecycle`] is a table compiled into a dispatch structure, with the
//!   registry [`Limits`]. It holds no operation state.
//! - [`State`] is everything the machine knows, generic over a [`Domain`]
//!   (the payload types), so the model checker can run it with tiny ids and
//!   the runtime shell with UUIDs and real results.
//! - [`Lifecycle::apply`] takes a [`Request`] and returns the [`Output`]s to
//!   carry out, in order, or a [`LifecycleError`]; a refused request changes
//!   nothing.
//! - [`Machine`] bundles one `Lifecycle` with one `State` for embedders.
//! - Every terminal transition mints the next sequence number of the
//!   completion [`Feed`]; [`State::image`] captures the durable part of a
//!   state and [`Request::Restore`] rebuilds a registry from it.
//! - [`invariants`] states each invariant of `spec/SPEC.md` once.
//!
//! No clocks, no I/O, no async: the shell adds those.
//!
//! ```
//! use oplife_machine::{Domain, Limits, Machine, Outcome, Output, Request};
//! use oplife_machine::spec::{OperationKind, Status};
//!
//! // The payload types: tiny ids, a text result.
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
//! struct Jobs;
//! impl Domain for Jobs {
//!     type OpId = u32;
//!     type WaitId = u32;
//!     type RunId = ();
//!     type Result = String;
//!     type Error = String;
//!     type Reason = String;
//!     type Progress = u8;
//!     // Results are text: share them rather than copy them.
//!     type Shared = std::sync::Arc<Outcome<Self>>;
//! }
//!
//! let mut machine = Machine::<Jobs>::new(Limits::default());
//! machine.apply(Request::Register { id: 1, kind: OperationKind::BackgroundToolOp, expects_peer: false, kind_limit: None, limit: None, source: None })?;
//! machine.apply(Request::ProvisioningSucceeded { id: 1 })?;
//! let outputs = machine.apply(Request::Complete { id: 1, result: "42 files".into() })?;
//! let ended = Output::Ended { id: 1, outcome: Outcome::Completed("42 files".into()).into(), seq: Some(1) };
//! assert!(outputs.contains(&ended));
//! assert_eq!(machine.state().status(&1), Status::Completed);
//!
//! // The table refuses what it does not allow, and nothing changes.
//! assert!(machine.apply(Request::Cancel { id: 1, reason: None }).is_err());
//! assert_eq!(machine.state().status(&1), Status::Completed);
//! # Ok::<(), oplife_machine::LifecycleError<Jobs>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

/// Implements `Clone` for a struct generic over a [`Domain`] field by field,
/// with a `clone_from` that clones each field into the one it replaces, so
/// vectors and queues keep their buffers (a checker copies states into one
/// buffer over and over). Both destructure the struct whole: a field added
/// and not listed fails to compile.
macro_rules! clone_by_field {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl<D: crate::outcome::Domain> Clone for $ty<D> {
            fn clone(&self) -> Self {
                let $ty { $($field),* } = self;
                $ty { $($field: $field.clone()),* }
            }

            fn clone_from(&mut self, source: &Self) {
                let $ty { $($field),* } = self;
                $($field.clone_from(&source.$field);)*
            }
        }
    };
}

mod accepted;
mod compiled;
mod error;
mod feed;
mod guards;
mod image;
pub mod invariants;
mod lifecycle;
mod limits;
mod machine;
mod operations;
mod outcome;
mod output;
mod registry;
#[cfg(feature = "remap")]
mod remap;
mod request;
mod run;
mod state;
mod waits;

pub use accepted::Accepted;
pub use error::LifecycleError;
pub use feed::{Feed, FeedEntry, FeedSince};
pub use image::{Image, MAX_WATERMARK, OperationImage};
pub use lifecycle::Lifecycle;
pub use limits::{DEFAULT_FEED_RETENTION, DEFAULT_MAX_COMPLETED, Limits};
pub use machine::Machine;
pub use operations::Operation;
pub use oplife_spec as spec;
pub use outcome::{Domain, Inline, Outcome, SharedOutcome};
pub use output::{Output, WaitReport};
#[cfg(feature = "remap")]
#[cfg_attr(docsrs, doc(cfg(feature = "remap")))]
pub use remap::Remap;
pub use request::{Keep, LostPolicy, Payload, Request};
pub use state::State;
pub use waits::Wait;
