//! What one call brings to the effects the machine returns for it, and
//! takes back from them.

use tokio::sync::oneshot;

use crate::record::{Forward, Record};
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

/// When a call is made, and whether anyone hears its events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    /// The registry clock the call read.
    pub(crate) now_ms: u64,
    /// Whether events are built (someone subscribes).
    pub(crate) listening: bool,
}

impl At {
    /// A call at `now_ms` whose events nobody hears.
    pub(crate) fn quietly(now_ms: u64) -> At {
        At { now_ms, listening: false }
    }

    /// A call at `now_ms` whose events subscribers hear.
    pub(crate) fn heard(now_ms: u64) -> At {
        At { now_ms, listening: true }
    }
}
