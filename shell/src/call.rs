//! What one call brings to the effects the machine returns for it, and
//! takes back from them.

use std::cell::Cell;

use tokio::sync::oneshot;

use crate::record::{Clock, Forward, Record};
use crate::types::{OperationId, OperationPeerHandle, SharedTerminalOutcome, WaitAllResult, WaitRequestId};
use crate::watch::OperationCompletionWatch;

/// What one call brings to the effects it causes, and takes back from them:
/// one variant per kind of call, so each carries only its own data.
pub(crate) enum Call {
    /// A call that brings and takes nothing.
    Plain,
    /// `register_operation`: the record to keep once the machine registers
    /// the operation.
    Register(Option<Record>),
    /// `peer_ready`: the handle to expose once the machine exposes the peer.
    PeerReady(Option<OperationPeerHandle>),
    /// `register_watcher`: the watch handed back.
    Watch(Option<OperationCompletionWatch>),
    /// `register_watcher` for a caller with its own channel: the function
    /// to keep for a pending watcher, and the outcome handed back instead
    /// when the operation had already ended.
    Forward(Option<Forward>, Option<SharedTerminalOutcome>),
    /// `wait_all`: the wait request id, and how the wait began.
    BeginWait(WaitRequestId, Option<WaitBegun>),
    /// `collect_completed`: the records handed over.
    Collect(Vec<(OperationId, SharedTerminalOutcome)>),
}

/// How a wait began: satisfied at once, or pending on a channel.
pub(crate) enum WaitBegun {
    /// Every operation had already ended.
    Satisfied(WaitAllResult),
    /// The result arrives on this channel.
    Pending(oneshot::Receiver<WaitAllResult>),
}

/// When a call is made, and whether anyone hears its events. A call made
/// now reads the registry clock the first time it needs the time (see
/// [`Now`]); a replayed call carries the time its journal entry recorded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    /// The time, when it is not read from the clock.
    fixed_ms: Option<u64>,
    /// Whether events are built (someone subscribes).
    listening: bool,
}

impl At {
    /// A call made now whose events nobody hears.
    pub(crate) fn quietly() -> At {
        At { fixed_ms: None, listening: false }
    }

    /// A call made now whose events subscribers hear.
    pub(crate) fn heard() -> At {
        At { fixed_ms: None, listening: true }
    }

    /// A call replayed from a journal entry recorded at `at_ms`.
    #[cfg(feature = "durable")]
    pub(crate) fn replayed(at_ms: u64) -> At {
        At { fixed_ms: Some(at_ms), listening: false }
    }

    /// The time of the call in progress, read from `clock` when needed.
    pub(crate) fn on(self, clock: &Clock) -> Now<'_> {
        Now { clock, read: Cell::new(self.fixed_ms), listening: self.listening }
    }
}

/// The time of a call in progress: the registry clock is read the first
/// time an effect records a time (a registration, a start, an end) or a
/// journal entry is written, and that one reading serves the whole call. A
/// call that records no time (a watcher, a wait) never reads the clock.
#[derive(Debug)]
pub(crate) struct Now<'c> {
    clock: &'c Clock,
    read: Cell<Option<u64>>,
    /// Whether events are built (someone subscribes).
    pub(crate) listening: bool,
}

impl Now<'_> {
    /// The call's time in milliseconds since the Unix epoch.
    pub(crate) fn ms(&self) -> u64 {
        match self.read.get() {
            Some(ms) => ms,
            None => {
                let ms = self.clock.now_ms();
                self.read.set(Some(ms));
                ms
            }
        }
    }
}
