//! The completion feed's watermark as the shell publishes it: a value that
//! only moves forward, and a wait for it to pass a sequence number that
//! cannot miss an advance.

use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// The published watermark. It may lag the machine's by the time between a
/// call releasing the registry lock and publishing, never lead it.
#[derive(Debug, Default)]
pub(crate) struct Watermark {
    value: AtomicU64,
    waiting: AtomicUsize,
    advanced: Notify,
}

impl Watermark {
    pub(crate) fn new(value: u64) -> Self {
        Watermark { value: AtomicU64::new(value), ..Watermark::default() }
    }

    /// Moves the watermark to `seq` if that is forward (calls release the
    /// registry lock in any order), waking every waiter.
    pub(crate) fn advance(&self, seq: u64) {
        // Sequentially consistent with `wait_past`: either the waiter sees
        // the new value, or this sees the waiter and wakes it.
        if self.value.fetch_max(seq, Ordering::SeqCst) < seq && self.waiting.load(Ordering::SeqCst) > 0 {
            self.advanced.notify_waiters();
        }
    }

    /// The published watermark.
    pub(crate) fn get(&self) -> u64 {
        self.value.load(Ordering::SeqCst)
    }

    /// How many `wait_past` futures are alive.
    pub(crate) fn waiters(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Resolves with the watermark once it is past `seq`.
    pub(crate) async fn wait_past(&self, seq: u64) -> u64 {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _leave = Leave(&self.waiting);
        loop {
            let mut advanced = pin!(self.advanced.notified());
            // Registered before the check, so an advance after it wakes us.
            advanced.as_mut().enable();
            let now = self.value.load(Ordering::SeqCst);
            if now > seq {
                return now;
            }
            advanced.await;
        }
    }
}

/// Stops counting a waiter when its future completes or is dropped.
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
