//! The declarative transition table of the async-operation lifecycle.
//!
//! This crate is the single place where lifecycle rules are written. It
//! holds the vocabulary ([`Status`], [`Input`], [`Guard`], [`Effect`], …),
//! the table itself ([`Table::standard`]), a validator
//! ([`Table::validate`]) and renderers for review ([`render`]).
//!
//! The behaviour these rules implement, the invariants the model checks and
//! where the project goes beyond its reference design are explained in
//! [`behaviour`] (the repository's `spec/SPEC.md`).
//!
//! ```
//! use oplife_spec::{Input, Status, Table, render};
//!
//! let table = Table::standard();
//! table.validate().expect("the shipped table is valid");
//! assert_eq!(render::cell(&table, Input::Complete, Status::Provisioning), "error InvalidTransition");
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod render;
mod table;
mod validate;
mod vocab;

#[doc = include_str!("../SPEC.md")]
pub mod behaviour {}

#[doc = include_str!("../TABLE.md")]
pub mod transition_table {}

pub use table::{
    Allowed, DROPPED_CHAIN, Gate, KindRule, Refusal, RetryRow, RowId, Rule, TERMINAL_CHAIN, Table, Target,
};
pub use validate::{TableError, cascade_domain};
pub use vocab::{
    Carries, Effect, Ending, ErrorKind, Guard, Input, OnRestore, OperationKind, OutcomeKind, Phase, PublicResult,
    Retry, RetryRule, Scope, SourceClaim, Status, StatusSet,
};
