//! Cross-crate tests of oplife live in `tests/`. This library holds the
//! deterministic workload the crash tests share with their worker binary
//! (through the registry's interface, and through Meerkat's),
//! and runs the examples of the README and of `docs/GUIDE.md` as doc tests,
//! so neither can drift from the code.

pub mod meerkat;
/// The throwaway PostgreSQL server the tests and the durable bench start
/// (kept with the bench, which is published with the shell).
#[path = "../../shell/benches/support/postgres.rs"]
pub mod postgres;
pub mod scratch;
pub mod worker;
pub mod workload;

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeExamples;

#[doc = include_str!("../../docs/GUIDE.md")]
#[cfg(doctest)]
pub struct GuideExamples;
