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
//!
//! No clocks, no I/O, no async: the shell adds those.

mod domain;
mod error;
mod feed;
mod image;
mod lifecycle;
mod machine;
mod state;

pub use domain::{Domain, LostPolicy, Outcome, Output, Request, WaitReport};
pub use error::LifecycleError;
pub use feed::{Feed, FeedEntry, FeedSince};
pub use image::{Image, MAX_WATERMARK, OperationImage};
pub use lifecycle::{DEFAULT_FEED_RETENTION, DEFAULT_MAX_COMPLETED, Lifecycle, Limits};
pub use machine::Machine;
pub use oplife_spec as spec;
pub use state::{Operation, State, Wait};
