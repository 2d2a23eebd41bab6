//! The environment's bookkeeping of each successful step: it checks what
//! the machine tells it against what it saw, independently of the
//! machine's own records, and records faults (for the `always` properties)
//! and witnesses (for the `sometimes` ones).

use oplife_machine::{Outcome, Output, State, WaitReport};
use oplife_spec::{Ending, Input, OperationKind, OutcomeKind, Phase, Status};

use crate::action::{Action, Cap, KIND_LIMIT, KeepAsk, TOTAL_LIMIT, ids_of};
use crate::config::{MAX_OPS, ModelConfig};
use crate::domain::Tiny;
use crate::properties::SHIPPED;
use crate::state::{EnvWait, ModelState, fault, witness};

fn outcome_kind(outcome: &Outcome<Tiny>) -> OutcomeKind {
    outcome.kind()
}

fn current_outcome(machine: &State<Tiny>, id: u8) -> Option<OutcomeKind> {
    machine.operation(&id).and_then(|op| op.outcome()).map(outcome_kind)
}

/// The environment's bookkeeping of one successful step: it checks what it
/// is told against what it saw, independently of the machine's own records.
/// The environment's bookkeeping of one successful step: it checks what it
/// is told against what it saw, independently of the machine's own records.
pub(crate) fn observe(before: &ModelState, next: &mut ModelState, action: Action, out: &[Output<Tiny>]) {
    observe_call(before, next, action);
    let mut told = Told::new(before);
    for output in out {
        told.hear(before, next, action, output);
    }
    told.check(before, next, action);
}

/// What the call itself tells the environment, before any output.
fn observe_call(before: &ModelState, next: &mut ModelState, action: Action) {
    // The environment dropped one of the watches it held: from now on the
    // machine must neither count nor notify it (property 9).
    if let Action::Op(Input::ReleaseWatcher, id) = action {
        match next.watchers.get_mut(usize::from(id)) {
            Some(held) if *held > 0 => *held -= 1,
            _ => next.faults |= fault::WATCHER,
        }
    }
    // A terminal operation never changes again; it can only be forgotten.
    for (id, op) in before.machine.operations() {
        if op.status().is_terminal()
            && let Some(now) = next.machine.operation(id)
            && (now.status() != op.status() || now.outcome() != op.outcome())
        {
            next.faults |= fault::TERMINAL_CHANGED;
        }
    }
    if let Action::Register { id, kind, cap, source, .. } = action {
        if source.is_some_and(|claim| !claim.agrees_with(kind)) {
            next.faults |= fault::SOURCE;
        }
        let active: u32 = OperationKind::ALL.into_iter().map(|k| next.machine.active_count_of(k)).sum();
        let exceeded = match cap {
            Cap::Free => false,
            Cap::Kind => next.machine.active_count_of(kind) > KIND_LIMIT,
            Cap::Total => active > TOTAL_LIMIT,
        };
        if exceeded {
            next.faults |= fault::ADMISSION;
        }
        if before.machine.phase() == Phase::OwnerTerminated {
            next.faults |= fault::REGISTERED_AFTER_TERMINATION;
        }
        if let Some(slot) = next.kinds.get_mut(usize::from(id)) {
            *slot = Some(kind);
        }
    }
    if let Action::BeginWait { slot, ids } = action
        && let Some(w) = next.waits.get_mut(usize::from(slot))
    {
        if w.pending {
            next.faults |= fault::WAIT_REPORT;
        }
        let mut seen = [None; MAX_OPS];
        for id in ids_of(ids) {
            if before.machine.status(&id).is_terminal() {
                seen[usize::from(id)] = current_outcome(&before.machine, id);
            }
        }
        *w = EnvWait { pending: true, ids, seen, evicted: 0 };
    }

    if let Action::CancelWait(slot) = action
        && let Some(w) = next.waits.get_mut(usize::from(slot))
    {
        // The environment dropped its future: it waits no more, whatever
        // the machine does with the request.
        *w = EnvWait::default();
    }
    if action.replaces_process() {
        // Watchers and waits belonged to the old process: their channels
        // closed with it.
        next.watchers = [0; MAX_OPS];
        next.waits = Default::default();
    }
}

/// What the outputs of one step told the environment so far.
struct Told {
    /// The sequence number the next feed entry must get.
    next_seq: u64,
    /// An ending (id, outcome) whose feed entry has not come yet.
    unfed: Option<(u8, OutcomeKind)>,
    /// An ending the shipped table drops, whose report has not come yet.
    undropped: Option<u8>,
    /// How many feed entries were appended.
    appended: usize,
    /// The outcome each id ended with in this step.
    ended: [Option<OutcomeKind>; MAX_OPS],
    /// How many answers a new watcher got.
    watch_answers: u32,
    /// Whether pending watchers were notified.
    watchers_notified: bool,
    /// Whether a wait that was pending before the step was satisfied.
    pending_waits_satisfied: bool,
    /// The records handed over, in order.
    collected: Vec<(u8, OutcomeKind)>,
}

impl Told {
    fn new(before: &ModelState) -> Self {
        Told {
            next_seq: before.machine.feed().watermark().saturating_add(1),
            unfed: None,
            undropped: None,
            appended: 0,
            ended: [None; MAX_OPS],
            watch_answers: 0,
            watchers_notified: false,
            pending_waits_satisfied: false,
            collected: Vec::new(),
        }
    }

    fn hear(&mut self, before: &ModelState, next: &mut ModelState, action: Action, output: &Output<Tiny>) {
        match output {
            Output::Ended { id, outcome, seq } => {
                // What the ending leaves is the shipped table's to say, by
                // the kind the environment registered.
                let kind = next.kinds.get(usize::from(*id)).copied().flatten();
                if kind.is_some_and(|kind| SHIPPED.ending(kind) == Ending::Dropped) {
                    self.ended_dropped(before, next, *id, outcome.kind());
                    if seq.is_some() {
                        next.faults |= fault::DROPPED;
                    }
                    return;
                }
                self.ended(before, next, *id, outcome.kind());
                // An ending without its feed entry stays unfed: a fault.
                if let Some(seq) = seq {
                    self.fed(next, *seq, *id);
                }
            }
            Output::CursorMoved { to } => {
                // Only asked, only ahead, never past the durable feed (the
                // watermark: every call is durable once applied).
                let asked = matches!(action, Action::AdvanceCursor { from, to: asked }
                    if asked == *to && *to > from && *to <= before.machine.feed().watermark());
                if !asked {
                    next.faults |= fault::CURSOR;
                }
                next.cursor = *to;
                next.witnessed |= witness::CURSOR_MOVED;
            }
            Output::Dropped { id } => {
                next.witnessed |= witness::DROPPED_ENDING;
                if self.undropped.take() != Some(*id) || next.machine.operation(id).is_some() {
                    next.faults |= fault::DROPPED;
                }
                forget(next, *id);
            }
            Output::WatchPending { id } => {
                self.watch_answers += 1;
                if let Some(count) = next.watchers.get_mut(usize::from(*id)) {
                    *count += 1;
                }
            }
            Output::WatchResolved { id, outcome } => {
                self.watch_answers += 1;
                if current_outcome(&next.machine, *id) != Some(outcome.kind()) {
                    next.faults |= fault::WATCHER;
                }
            }
            Output::WatcherReleased { id } => {
                next.witnessed |= witness::WATCHER_RELEASED;
                if !matches!(action, Action::Op(Input::ReleaseWatcher, released) if released == *id) {
                    next.faults |= fault::WATCHER;
                }
            }
            Output::WatchersNotified { id, count, outcome } => {
                self.watchers_notified = true;
                let held = next.watchers.get(usize::from(*id)).copied().unwrap_or(0);
                let ended_with = self.ended.get(usize::from(*id)).copied().flatten();
                if u32::from(held) != *count || ended_with != Some(outcome.kind()) {
                    next.faults |= fault::WATCHER;
                }
                if let Some(count) = next.watchers.get_mut(usize::from(*id)) {
                    *count = 0;
                }
            }
            Output::WaitSatisfied(report) => self.satisfied(next, action, report),
            Output::WaitCancelled { wait } => {
                if action != Action::CancelWait(*wait) {
                    next.faults |= fault::WAIT_REPORT;
                }
                next.witnessed |= witness::WAIT_CANCELLED;
            }
            Output::Evicted { id } => {
                next.witnessed |= witness::EVICTED;
                forget(next, *id);
                for w in next.waits.iter_mut().filter(|w| w.pending && w.ids & (1 << id) != 0) {
                    w.evicted |= 1 << id;
                    next.witnessed |= witness::EVICTED_WHILE_AWAITED;
                }
            }
            Output::Collected { id, outcome } => {
                self.collected.push((*id, outcome.kind()));
                forget(next, *id);
            }
            Output::RolledBack { id } => {
                next.witnessed |= witness::ROLLED_BACK;
                if !leaves_no_trace(before, next, action, *id) {
                    next.faults |= fault::ROLLBACK_TRACE;
                }
                forget(next, *id);
            }
            Output::Registered { .. }
            | Output::Started { .. }
            | Output::Progress { .. }
            | Output::PeerExposed { .. }
            | Output::WaitPending { .. }
            | Output::Acknowledged { .. } => {}
        }
    }

    /// Operation `id` ended with `outcome`, and is fed and retained.
    fn ended(&mut self, before: &ModelState, next: &mut ModelState, id: u8, outcome: OutcomeKind) {
        if self.unfed.replace((id, outcome)).is_some() {
            next.faults |= fault::FEED_ENTRY;
        }
        if !next.completion.push(id) {
            next.faults |= fault::RETAINED_OVERFLOW;
        }
        self.ended_any(before, next, id, outcome);
    }

    /// Operation `id`, whose kind drops its ending, ended with `outcome`:
    /// its watchers and waits hear of it, and it must be reported dropped.
    fn ended_dropped(&mut self, before: &ModelState, next: &mut ModelState, id: u8, outcome: OutcomeKind) {
        if self.undropped.replace(id).is_some() {
            next.faults |= fault::DROPPED;
        }
        self.ended_any(before, next, id, outcome);
    }

    /// What every ending of `id` with `outcome` tells.
    fn ended_any(&mut self, before: &ModelState, next: &mut ModelState, id: u8, outcome: OutcomeKind) {
        if before.machine.status(&id).is_terminal() {
            // It had ended already: ending again is a change.
            next.faults |= fault::TERMINAL_CHANGED;
        }
        if let Some(slot) = self.ended.get_mut(usize::from(id)) {
            *slot = Some(outcome);
        }
        for w in next.waits.iter_mut().filter(|w| w.pending && w.ids & (1 << id) != 0) {
            if let Some(seen) = w.seen.get_mut(usize::from(id))
                && seen.is_none()
            {
                *seen = Some(outcome);
            }
        }
    }

    /// Operation `id`'s ending got feed entry `seq`.
    fn fed(&mut self, next: &mut ModelState, seq: u64, id: u8) {
        self.appended += 1;
        if next.kinds.get(usize::from(id)).copied().flatten().is_some_and(|kind| SHIPPED.wakes_owner(kind)) {
            next.witnessed |= witness::ENDING_WAKES;
        }
        match self.unfed.take() {
            Some((ended, _)) if ended != id => next.faults |= fault::FEED_ENTRY,
            None => next.faults |= fault::FEED_ENTRY,
            Some((_, outcome)) => {
                let entry = next.machine.feed().entries().find(|e| e.seq == seq);
                let kind = next.kinds.get(usize::from(id)).copied().flatten();
                if entry.is_some_and(|e| e.id != id || e.outcome.kind() != outcome || Some(e.kind) != kind) {
                    next.faults |= fault::FEED_OUTCOME;
                }
            }
        }
        if seq != self.next_seq {
            next.faults |= fault::FEED_SEQUENCE;
        }
        self.next_seq = seq.saturating_add(1);
    }

    /// A wait was satisfied: it must have been pending, and report exactly
    /// the outcomes the environment saw its ops end with.
    fn satisfied(&mut self, next: &mut ModelState, action: Action, report: &WaitReport<Tiny>) {
        let Some(w) = next.waits.get_mut(usize::from(report.wait)).filter(|w| w.pending) else {
            next.faults |= fault::WAIT_REPORT;
            return;
        };
        let asked: Vec<u8> = ids_of(w.ids).collect();
        let mut reported: Vec<u8> = report.outcomes.iter().map(|(id, _)| *id).collect();
        reported.sort_unstable();
        let real = report.outcomes.iter().all(|(id, o)| w.seen.get(usize::from(*id)) == Some(&Some(o.kind())));
        if reported != asked || !real {
            next.faults |= fault::WAIT_REPORT;
        }
        if w.evicted != 0 {
            next.witnessed |= witness::SATISFIED_AFTER_EVICTION;
        }
        if !matches!(action, Action::BeginWait { .. }) {
            self.pending_waits_satisfied = true;
        }
        *w = EnvWait::default();
    }

    /// What the whole step must have done.
    fn check(&self, before: &ModelState, next: &mut ModelState, action: Action) {
        let feed_before = before.machine.feed();
        // Each ending reports its one feed entry: the watermark moved by
        // exactly as many entries as the endings reported.
        let minted = next.machine.feed().watermark().saturating_sub(feed_before.watermark());
        if self.unfed.is_some() || minted != self.appended as u64 {
            next.faults |= fault::FEED_ENTRY;
        }
        if self.undropped.is_some() {
            next.faults |= fault::DROPPED;
        }
        // Accepted without a move: the cursor was asked where it is.
        if let Action::AdvanceCursor { from, to } = action
            && next.cursor == before.cursor
            && to != from
        {
            next.faults |= fault::CURSOR;
        }
        // Every pending wait holds exactly the outcomes the environment saw its
        // ops end with, captured the moment they ended.
        for (slot, w) in next.waits.iter().enumerate() {
            let Some(pending) = u8::try_from(slot).ok().and_then(|slot| next.machine.pending_wait(&slot)) else {
                continue;
            };
            let agrees = pending.entries().iter().all(|(id, captured)| {
                w.seen.get(usize::from(*id)).copied().flatten() == captured.as_deref().map(Outcome::kind)
            });
            if w.pending && !agrees {
                next.faults |= fault::WAIT_REPORT;
            }
        }
        if feed_before.entries().len() + self.appended > next.machine.feed().entries().len() {
            next.witnessed |= witness::FEED_DROPPED;
        }
        if matches!(action, Action::Op(Input::RegisterWatcher, _)) && self.watch_answers != 1 {
            next.faults |= fault::WATCHER;
        }
        if action == Action::CollectCompleted {
            let expected: Vec<(u8, OutcomeKind)> = before
                .machine
                .retained()
                .map(|id| (*id, current_outcome(&before.machine, *id).unwrap_or(OutcomeKind::Retired)))
                .collect();
            let expected_ids: Vec<u8> = before.completion.as_slice().to_vec();
            let got_ids: Vec<u8> = self.collected.iter().map(|(id, _)| *id).collect();
            if self.collected != expected || got_ids != expected_ids {
                next.faults |= fault::COLLECT;
            }
        }
        if action == Action::TerminateOwner && self.watchers_notified && self.pending_waits_satisfied {
            next.witnessed |= witness::TERMINATION_RESOLVED_PENDING;
        }
    }
}

/// What a restart or crash is: its lost-operation policy, whether it is a
/// crash, and what it was asked to keep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Restart {
    pub(crate) cancel: bool,
    pub(crate) crash: bool,
    pub(crate) keep: Option<KeepAsk>,
}

/// Whether the environment expects a restore asked to keep `ask` to keep
/// it: the operation is unfinished, of a kind the shipped table makes
/// durable, registered with the kind asked, and the source asked agrees.
pub(crate) fn keep_holds(before: &ModelState, ask: KeepAsk) -> bool {
    let registered = before.kinds.get(usize::from(ask.id)).copied().flatten();
    let status = before.machine.status(&ask.id);
    ask.source_agrees
        && registered == Some(ask.kind)
        && SHIPPED.durable(ask.kind)
        && status.is_known()
        && !status.is_terminal()
}

/// What a restart must keep: every terminal record and feed entry of the
/// old registry (only retention may drop the oldest, to make room for the
/// lost operations' endings), every operation's details, and the phase;
/// every lost operation ends as the policy says. What it keeps unfinished
/// is exactly what the shipped table and the request say: a running
/// operation of a kind that keeps running, and the operation it was asked
/// to keep; an operation of a kind that is not durable it does not know.
pub(crate) fn observe_restart(config: &ModelConfig, before: &ModelState, next: &mut ModelState, restart: Restart) {
    let Restart { cancel, crash, keep } = restart;
    let (old, new) = (&before.machine, &next.machine);
    let kind_of = |id: &u8| before.kinds.get(usize::from(*id)).copied().flatten();
    let durable = |id: &u8| kind_of(id).is_some_and(|kind| SHIPPED.durable(kind));
    let asked = |id: &u8| keep.is_some_and(|ask| ask.id == *id);
    let keeps_running = |id: &u8, status: Status| {
        status == Status::Running && kind_of(id).is_some_and(|kind| SHIPPED.keeps_running(kind))
    };
    let unfinished = || old.operations().filter(|(id, op)| !op.status().is_terminal() && durable(id));
    let kept: Vec<u8> =
        unfinished().filter(|(id, op)| asked(id) || keeps_running(id, op.status())).map(|(id, _)| *id).collect();
    let lost: Vec<u8> = unfinished().map(|(id, _)| *id).filter(|id| !kept.contains(id)).collect();
    let kept_as_they_were = kept.iter().all(|id| match (old.operation(id), new.operation(id)) {
        (Some(op), Some(now)) => {
            (now.kind(), now.status(), now.peer_ready(), now.progress_count())
                == (op.kind(), op.status(), op.peer_ready(), op.progress_count())
                && now.outcome().is_none()
        }
        _ => false,
    });
    let forgotten = old.operations().filter(|(id, _)| !durable(id)).all(|(id, _)| new.operation(id).is_none());
    if !kept_as_they_were || !forgotten {
        next.faults |= fault::KEPT;
    }
    if kept.iter().any(|id| !asked(id)) {
        next.witnessed |= witness::DETACHED_SURVIVED;
    }
    if kept.iter().any(asked) {
        next.witnessed |= witness::KEPT_AS_ASKED;
    }
    let mut expected: Vec<u8> = old.retained().copied().chain(lost.iter().copied()).collect();
    expected.drain(..expected.len().saturating_sub(config.max_completed));
    let retained: Vec<u8> = new.retained().copied().collect();
    let policy = if cancel { Status::Cancelled } else { Status::Terminated };
    let details_kept =
        old.operations().filter(|(id, _)| durable(id) && !kept.contains(id)).all(|(id, op)| match new.operation(id) {
            None => !expected.contains(id),
            Some(now) => {
                let status_ok = match op.status().is_terminal() {
                    true => now.status() == op.status() && now.outcome() == op.outcome(),
                    false => now.status() == policy,
                };
                status_ok
                    && now.kind() == op.kind()
                    && now.peer_ready() == op.peer_ready()
                    && now.progress_count() == op.progress_count()
                    && (now.buffered() == op.buffered() || !op.status().is_terminal())
            }
        });
    let (old_feed, new_feed) = (old.feed(), new.feed());
    let lost_count = u64::try_from(lost.len()).unwrap_or(u64::MAX);
    let feed_kept = new_feed.watermark() == old_feed.watermark().saturating_add(lost_count)
        && new_feed.entries().len() == (old_feed.entries().len() + lost.len()).min(config.feed_retention)
        && new_feed.entries().filter(|e| e.seq <= old_feed.watermark()).all(|e| old_feed.entries().any(|o| o == e));
    let records_kept =
        retained == expected && new.operation_count() == expected.len() + kept.len() && new.phase() == old.phase();
    if !records_kept || !details_kept || !feed_kept {
        next.faults |= fault::RESTORE;
    }
    if !lost.is_empty() {
        next.witnessed |= witness::RESTART_RESOLVED_LOST;
    }
    if old.retained().any(|id| retained.contains(id)) {
        next.witnessed |= witness::RESTART_KEPT_RECORD;
    }
    if crash && old.operations().any(|(id, op)| op.status().is_terminal() && new.operation(id).is_some()) {
        next.witnessed |= witness::CRASH_KEPT_RECORD;
    }
}

/// Whether rolling back `id` left the registry as if `id` had never been
/// registered: the same image without it (the same operations in the same
/// order, retained records, feed and phase), no watcher of it, no wait that
/// waits for it (a wait can only begin over a registered operation; one
/// that captured the outcome of an earlier operation with the same id is no
/// trace of this one), and the rollback asked for.
fn leaves_no_trace(before: &ModelState, next: &ModelState, action: Action, id: u8) -> bool {
    let mut expected = before.machine.image();
    expected.operations.retain(|op| op.id != id);
    let untouched_waits = before.waits == next.waits
        && next
            .machine
            .pending_waits()
            .all(|(_, wait)| wait.entries().iter().all(|(listed, captured)| *listed != id || captured.is_some()));
    action == Action::Op(Input::RollbackRegistration, id)
        && next.machine.image() == expected
        && next.watchers.get(usize::from(id)).is_none_or(|w| *w == 0)
        && untouched_waits
}

fn forget(next: &mut ModelState, id: u8) {
    next.completion.remove(id);
    if let Some(kind) = next.kinds.get_mut(usize::from(id)) {
        *kind = None;
    }
}
