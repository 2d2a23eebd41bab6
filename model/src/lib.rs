//! A stateright model of the oplife lifecycle machine.
//!
//! The model does not restate the lifecycle rules: it drives the real
//! machine ([`oplife_machine::Lifecycle`], compiled from a table) through
//! every interleaving of registry calls over a small universe of ids, while
//! an environment remembers what it was told (watchers pending, waits begun
//! and the outcomes it saw) and checks every answer against that memory.
//!
//! - [`LifecycleModel`] is the model; [`properties`] names what it checks.
//! - [`mutants`] is a catalogue of deliberately wrong tables; each must be
//!   caught.
//! - [`check`] runs the checker and builds the report the `check` command
//!   prints.

mod action;
pub mod check;
pub mod config;
pub mod coverage;
pub mod domain;
pub mod engine;
pub mod explain;
mod forget;
pub mod matrix;
pub mod model;
pub mod mutants;
mod observe;
pub mod properties;
pub mod simulate;
pub mod state;
pub mod verdict;
mod view;

pub use action::Action;
pub use config::ModelConfig;
pub use forget::BLANK_ID;
pub use model::LifecycleModel;
pub use state::ModelState;
