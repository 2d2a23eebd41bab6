//! No user code runs while the registry lock is held: every waker a call
//! wakes (a satisfied or cancelled wait, a notified watcher, a watch whose
//! release frees its sender) runs after the lock is released. The registry
//! runs here under a lock that flags when it is held, and every waker
//! records whether it ran under it.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use common::{Flagged, HELD, background_spec, result};
use oplife_shell::{OpsLifecycleConfig, OpsLifecycleRegistry, RunId, RuntimeOpsLifecycleRegistry};

/// Counts wakes, and wakes that ran under the registry lock.
#[derive(Default)]
struct Recorder {
    wakes: AtomicUsize,
    under_lock: AtomicUsize,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        if HELD.with(Cell::get) {
            self.under_lock.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn poll<F: Future + ?Sized>(future: std::pin::Pin<&mut F>, recorder: &Arc<Recorder>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(&Waker::from(Arc::clone(recorder))))
}

type Registry = RuntimeOpsLifecycleRegistry<Flagged>;

fn running(registry: &Registry) -> oplife_shell::OperationId {
    let spec = background_spec("op");
    let id = spec.id;
    registry.register_operation(spec).unwrap();
    registry.provisioning_succeeded(&id).unwrap();
    id
}

#[test]
fn a_cancelled_wait_wakes_its_task_after_the_lock() {
    let registry = Registry::with_lock(OpsLifecycleConfig::default());
    let id = running(&registry);
    let recorder = Arc::new(Recorder::default());
    let mut wait = registry.wait_all(&RunId::new(), &[id]);
    assert!(poll(wait.as_mut(), &recorder).is_pending());
    drop(wait); // cancels the wait: its sender is dropped
    assert_eq!(recorder.wakes.load(Ordering::SeqCst), 1, "the dropped sender wakes the task once");
    assert_eq!(recorder.under_lock.load(Ordering::SeqCst), 0);
}

#[test]
fn satisfied_waits_and_notified_watchers_wake_after_the_lock() {
    let registry = Registry::with_lock(OpsLifecycleConfig::default());
    let id = running(&registry);
    let recorder = Arc::new(Recorder::default());
    let mut wait = registry.wait_all(&RunId::new(), &[id]);
    let mut watch = pin!(registry.register_watcher(&id).unwrap().wait());
    assert!(poll(wait.as_mut(), &recorder).is_pending());
    assert!(poll(watch.as_mut(), &recorder).is_pending());
    registry.complete_operation(&id, result(id, "done")).unwrap();
    assert_eq!(recorder.wakes.load(Ordering::SeqCst), 2);
    assert_eq!(recorder.under_lock.load(Ordering::SeqCst), 0);
}

#[test]
fn a_dropped_watch_is_released_without_waking_anyone_under_the_lock() {
    let registry = Registry::with_lock(OpsLifecycleConfig::default());
    let id = running(&registry);
    let recorder = Arc::new(Recorder::default());
    {
        let mut watch = pin!(registry.register_watcher(&id).unwrap().wait());
        assert!(poll(watch.as_mut(), &recorder).is_pending());
    }
    // The next call frees the released sender.
    assert_eq!(registry.held().unwrap().watchers, 0);
    assert_eq!(recorder.under_lock.load(Ordering::SeqCst), 0);
}
