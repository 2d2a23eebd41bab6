//! What one call brings to the effects the machine returns for it, and
//! takes back from them.

use tokio::sync::oneshot;

use crate::record::Record;
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
