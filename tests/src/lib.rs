//! Cross-crate tests of oplife live in `tests/`. This library holds the
//! deterministic workload the crash tests share with their worker binary,
//! and runs the README's examples as doc tests, so the README cannot drift
//! from the code.

pub mod workload;

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeExamples;
