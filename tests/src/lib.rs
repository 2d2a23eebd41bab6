//! Cross-crate tests of oplife live in `tests/`; this library is empty.
