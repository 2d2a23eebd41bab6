//! The cursor rows: a consumer's cursor moves ahead within the durable
//! feed, stays when asked where it is, and is refused going back or past
//! what is durable, changing nothing.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::{Bg, Harness, done};
use oplife_machine::{LifecycleError, Output, Request};

fn advance(from: u64, to: u64, durable: u64) -> Request<common::T> {
    Request::AdvanceCursor { from, to, durable }
}

/// A registry whose feed has two entries.
fn fed_twice() -> Harness {
    let mut h = Harness::new();
    for id in [1, 2] {
        h.running(id, Bg);
        h.ok(done(id));
    }
    h
}

#[test]
fn a_cursor_moves_ahead_within_the_durable_feed() {
    let mut h = fed_twice();
    assert_eq!(h.ok(advance(0, 2, 2)), vec![Output::CursorMoved { to: 2 }]);
    assert_eq!(h.ok(advance(2, 2, 2)), vec![], "asked where it is, it stays");
}

#[test]
fn a_cursor_never_goes_back_nor_passes_the_durable_feed() {
    let mut h = fed_twice();
    assert_eq!(h.err(advance(2, 1, 2)), LifecycleError::CursorBehind { current: 2, asked: 1 });
    // Durable up to 1 only: 2 is applied but a crash could take it back.
    assert_eq!(h.err(advance(0, 2, 1)), LifecycleError::CursorPastWatermark { asked: 2, durable: 1 });
    // Never past the feed itself, whatever the caller says is durable.
    assert_eq!(h.err(advance(0, 3, 9)), LifecycleError::CursorPastWatermark { asked: 3, durable: 2 });
}

#[test]
fn a_sealed_registry_moves_no_cursor() {
    let mut h = fed_twice();
    h.ok(Request::Seal);
    assert_eq!(h.err(advance(0, 1, 2)), LifecycleError::Sealed);
}
