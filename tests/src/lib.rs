//! Cross-crate tests of oplife live in `tests/`. This library only runs the
//! README's examples as doc tests, so the README cannot drift from the code.

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeExamples;
