//! Carrying out the machine's outputs, one at a time as it makes them: the
//! shell's records, watcher channels, wait channels, feed details and events.

use std::collections::HashMap;
use std::sync::Arc;

use oplife_machine::{Output, WaitReport};
use tokio::sync::oneshot;

use crate::call::{Call, Now, WaitBegun};
use crate::deliveries::Deliveries;
use crate::events::OperationEvent;
use crate::feed::FeedDetails;
use crate::record::{Notify, Record, Records};
use crate::types::{OperationId, ShellDomain, WaitAllResult, WaitAllSatisfied, WaitRequestId};
use crate::watch::{DroppedWatchers, OperationCompletionWatch};

/// The operations a transition ended whose records are not stamped yet (end
/// time, feed entry), with their feed entry's sequence number once it is
/// appended. Records are stamped once the machine is done, or before one is
/// forgotten: an owner termination ends many operations in registration
/// order, which is not the records' order in memory.
pub(crate) type Unstamped = Vec<(OperationId, Option<u64>)>;

/// From this many endings in one transition, and at least a quarter of all
/// records, the records are stamped in one pass over every record instead
/// of one lookup each (a record read in order costs a fraction of a lookup
/// that misses the cache; a few endings among many records are looked up).
const STAMP_IN_ONE_PASS_FROM: usize = 64;

fn wait_result(report: WaitReport<ShellDomain>) -> WaitAllResult {
    let operation_ids = report.outcomes.iter().map(|(id, _)| *id).collect();
    WaitAllResult {
        outcomes: report.outcomes,
        satisfied: WaitAllSatisfied { wait_request_id: report.wait, run_id: report.run, operation_ids },
    }
}

/// The shell's side of the registry state, borrowed while the machine runs
/// a transition: each output is carried out as the machine makes it.
pub(crate) struct Executor<'a> {
    pub(crate) records: &'a mut Records,
    pub(crate) waits: &'a mut HashMap<WaitRequestId, oneshot::Sender<WaitAllResult>, foldhash::fast::RandomState>,
    pub(crate) feed_details: &'a mut FeedDetails,
    /// The endings not stamped yet (a buffer the registry keeps).
    pub(crate) unstamped: &'a mut Unstamped,
    pub(crate) next_watch_key: &'a mut u64,
    pub(crate) dropped: &'a Arc<DroppedWatchers>,
}

impl Executor<'_> {
    /// Carries out one effect of the transition in progress, made `at`
    /// (its clock reading; events built only when someone listens).
    pub(crate) fn execute(
        &mut self,
        output: Output<ShellDomain>,
        call: &mut Call,
        now: &Now<'_>,
        deliveries: &mut Deliveries,
    ) {
        let listening = now.listening;
        match output {
            Output::Registered { id, kind } => {
                if let Call::Register(registering) = call
                    && let Some(mut record) = registering.take()
                {
                    record.created_ms = now.ms();
                    if listening {
                        let display_name = record.display_name.clone();
                        deliveries.more().events.push(OperationEvent::Registered { id, kind, display_name });
                    }
                    self.records.insert(id, record);
                }
            }
            Output::Started { id } => {
                if let Some(record) = self.records.get_mut(&id) {
                    record.started_ms = Some(now.ms());
                }
                if listening {
                    deliveries.more().events.push(OperationEvent::Started { id });
                }
            }
            Output::Progress { id, update } => {
                if listening && let Some(update) = update {
                    deliveries.more().events.push(OperationEvent::Progress { id, update });
                }
            }
            Output::PeerExposed { id } => {
                if let Some(record) = self.records.get_mut(&id)
                    && let Call::PeerReady(peer) = call
                {
                    record.peer_handle = peer.take().map(Box::new);
                    if listening && let Some(peer) = record.peer_handle.as_deref().cloned() {
                        deliveries.more().events.push(OperationEvent::PeerReady { id, peer });
                    }
                }
            }
            Output::Ended { id, outcome, seq } => {
                // Stamped later, at the time it ended (this call's).
                self.unstamped.push((id, seq));
                if let Some(seq) = seq {
                    self.feed_details.push(seq, id, now.ms());
                    if listening {
                        deliveries.more().events.push(OperationEvent::Ended { id, outcome, seq });
                    }
                    deliveries.watermark = Some(seq);
                }
            }
            Output::WatchPending { id } => {
                if let Some(record) = self.records.get_mut(&id) {
                    let key = *self.next_watch_key;
                    *self.next_watch_key += 1;
                    match call {
                        Call::Forward(forward, _) => {
                            if let Some(forward) = forward.take() {
                                record.watchers.push((key, Notify::Forward(forward)));
                            }
                        }
                        _ => {
                            let (sender, watch) = OperationCompletionWatch::pending(self.dropped, id, key);
                            record.watchers.push((key, Notify::Channel(sender)));
                            if let Call::Watch(slot) = call {
                                *slot = Some(watch);
                            }
                        }
                    }
                }
            }
            Output::WatchResolved { outcome, .. } => match call {
                Call::Watch(slot) => *slot = Some(OperationCompletionWatch::resolved(outcome)),
                Call::Forward(_, resolved) => *resolved = Some(outcome),
                _ => {}
            },
            Output::WatchersNotified { id, outcome, .. } => {
                if let Some(record) = self.records.get_mut(&id) {
                    let notified = (std::mem::take(&mut record.watchers), outcome);
                    match deliveries.watchers {
                        None => deliveries.watchers = Some(notified),
                        Some(_) => deliveries.more().watchers.push(notified),
                    }
                }
            }
            Output::WaitPending { wait } => {
                let (sender, receiver) = oneshot::channel();
                self.waits.insert(wait, sender);
                if let Call::BeginWait(_, begun) = call {
                    *begun = Some(WaitBegun::Pending(receiver));
                }
            }
            Output::WaitSatisfied(report) => match call {
                Call::BeginWait(wait, begun) if *wait == report.wait => {
                    *begun = Some(WaitBegun::Satisfied(wait_result(report)));
                }
                _ => {
                    if let Some(sender) = self.waits.remove(&report.wait) {
                        deliveries.more().waits.push((sender, wait_result(report)));
                    }
                }
            },
            Output::WaitCancelled { wait } => {
                if let Some(sender) = self.waits.remove(&wait) {
                    deliveries.more().cancelled.push(sender);
                }
            }
            Output::Evicted { id } | Output::RolledBack { id } | Output::Dropped { id } => {
                // A record is stamped before it is forgotten: its feed entry
                // keeps its name through it.
                self.stamp(now);
                self.forget(&id);
            }
            Output::Collected { id, outcome } => {
                self.stamp(now);
                self.forget(&id);
                if let Call::Collect(collected) = call {
                    collected.push((id, outcome));
                }
            }
            // A cursor is moved by `RegistryState::move_cursor`, which
            // commits its row itself.
            Output::Acknowledged { .. } | Output::WatcherReleased { .. } | Output::CursorMoved { .. } => {}
        }
    }

    /// Stamps the records of the operations ended and not stamped yet: the
    /// end time (the call's) and their feed entry. Many at once are stamped in
    /// one pass over the records, which reads them in memory order (one
    /// lookup each would miss the cache once per record of a large
    /// registry). Call it once the machine is done, too.
    pub(crate) fn stamp(&mut self, now: &Now<'_>) {
        if self.unstamped.is_empty() {
            return;
        }
        let now_ms = now.ms();
        let stamp = |record: &mut Record, seq: Option<u64>| {
            record.completed_ms = Some(now_ms);
            if seq.is_some() {
                record.feed_seq = seq;
            }
        };
        let ended = self.unstamped.len();
        if ended < STAMP_IN_ONE_PASS_FROM || ended.saturating_mul(4) < self.records.len() {
            for (id, seq) in self.unstamped.drain(..) {
                if let Some(record) = self.records.get_mut(&id) {
                    stamp(record, seq);
                }
            }
            return;
        }
        let unstamped: HashMap<OperationId, Option<u64>, foldhash::fast::RandomState> =
            self.unstamped.drain(..).collect();
        for (id, record) in self.records.iter_mut() {
            if let Some(seq) = unstamped.get(id) {
                stamp(record, *seq);
            }
        }
    }

    /// Forgets the record of `id`; its feed entry, if still retained, keeps
    /// its display name.
    fn forget(&mut self, id: &OperationId) {
        if let Some(record) = self.records.remove(id)
            && let Some(seq) = record.feed_seq
        {
            self.feed_details.adopt_name(seq, record.display_name);
        }
    }
}
