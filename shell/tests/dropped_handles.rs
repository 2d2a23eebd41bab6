//! Every handle a caller can drop is released: watches (and their `wait`
//! futures), `wait_all` futures, event subscriptions and watermark waits.
//! Nothing a caller drops stays counted, notified or held.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use common::{result, running};
use oplife_shell::{HeldHandles, OpsLifecycleRegistry, RunId, RuntimeOpsLifecycleRegistry};

fn poll_once<F: Future + ?Sized>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn dropped_watches_are_released_counted_out_and_not_notified() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "polled");
    let mut kept = registry.register_watcher(&id).unwrap();
    for _ in 0..1000 {
        drop(registry.register_watcher(&id).unwrap());
    }
    assert_eq!(registry.snapshot(&id).unwrap().unwrap().watcher_count, 1);
    assert_eq!(registry.held().unwrap(), HeldHandles { watchers: 1, ..HeldHandles::default() });
    registry.complete_operation(&id, result(id, "done")).unwrap();
    assert!(kept.try_outcome().is_some());
    assert_eq!(registry.held().unwrap().watchers, 0);
}

#[test]
fn a_dropped_wait_future_of_a_watch_releases_it_too() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "awaited");
    {
        let mut wait = pin!(registry.register_watcher(&id).unwrap().wait());
        assert!(poll_once(wait.as_mut()).is_pending());
        assert_eq!(registry.held().unwrap().watchers, 1);
    }
    assert_eq!(registry.held().unwrap().watchers, 0);
    // A watch dropped after its outcome arrived has nothing to release.
    let mut late = registry.register_watcher(&id).unwrap();
    registry.cancel_operation(&id, None).unwrap();
    assert!(late.try_outcome().is_some());
    drop(late);
    assert_eq!(registry.held().unwrap(), HeldHandles::default());
}

#[test]
fn dropped_wait_all_futures_subscriptions_and_watermark_waits_are_released() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = running(&registry, "waited");
    let subscription = registry.subscribe_events().unwrap();
    {
        let mut wait = registry.wait_all(&RunId::new(), &[id]);
        assert!(poll_once(wait.as_mut()).is_pending());
        let mut watermark = pin!(registry.wait_for_watermark(0));
        assert!(poll_once(watermark.as_mut()).is_pending());
        assert_eq!(
            registry.held().unwrap(),
            HeldHandles { watchers: 0, waits: 1, event_subscriptions: 1, watermark_waits: 1 }
        );
    }
    drop(subscription);
    assert_eq!(registry.held().unwrap(), HeldHandles::default());
}
