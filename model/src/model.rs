//! The stateright model: the real machine, driven through every
//! interleaving of registry calls, with an environment that remembers what
//! it was told.

use std::fmt;
use std::sync::Arc;

use oplife_machine::{FeedEntry, Lifecycle, LostPolicy, Outcome, Output, Payload, Remap, Request, State};
use oplife_spec::{Carries, ErrorKind, Input, OperationKind, OutcomeKind, Phase, Status, Table};
use stateright::{Model, Property};

use crate::config::{MAX_OPS, ModelConfig};
use crate::coverage::Coverage;
use crate::domain::Tiny;
use crate::properties;
use crate::state::{EnvWait, ModelState, fault, witness};

/// The payload the model sends with a per-operation input: payloads are
/// unit in the model's domain, so only their kind matters.
fn payload(carries: Carries) -> Option<Payload<Tiny>> {
    Some(match carries {
        Carries::Nothing => Payload::None,
        Carries::Result => Payload::Result(()),
        Carries::Error => Payload::Error(()),
        Carries::Reason => Payload::Reason(None),
        Carries::RequiredReason => Payload::RequiredReason(()),
        Carries::Progress => Payload::Progress(()),
        Carries::Spec | Carries::Wait | Carries::WaitId | Carries::Image | Carries::Policy => return None,
    })
}

/// The per-operation inputs the model calls besides registration, derived
/// from the table's vocabulary: every input a caller makes on one operation.
fn op_inputs() -> impl Iterator<Item = Input> {
    Input::per_operation().filter(|input| payload(input.carries()).is_some())
}

/// One step of the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `register_operation` of id `id` with this kind and
    /// `expect_peer_channel`.
    Register {
        /// The id.
        id: u8,
        /// The kind.
        kind: OperationKind,
        /// What the spec says about a peer channel.
        expects_peer: bool,
    },
    /// Any other per-operation call (of [`Input::per_operation`]) on id `.1`.
    Op(Input, u8),
    /// `terminate_owner`.
    TerminateOwner,
    /// `collect_completed`.
    CollectCompleted,
    /// `wait_all` over the ids of mask `ids`, as wait slot `slot`.
    BeginWait {
        /// The wait slot (wait request id).
        slot: u8,
        /// The ids, bit `i` for id `i`, asked in increasing order.
        ids: u8,
    },
    /// Dropping the pending `wait_all` future of slot `.0`.
    CancelWait(u8),
    /// The process restarts: the registry's image is captured and restored
    /// into a fresh registry; lost operations end `Cancelled` when `cancel`
    /// is set, `Terminated` otherwise. Pending watchers and waits die with
    /// the old process.
    Restart {
        /// The lost-operation policy: `Cancelled` instead of `Terminated`.
        cancel: bool,
    },
}

impl Action {
    /// The machine request this action makes in `state` (a restart restores
    /// the image of `state` into a fresh registry).
    pub fn request(&self, state: &State<Tiny>) -> Request<Tiny> {
        match *self {
            Action::Register { id, kind, expects_peer } => Request::Register { id, kind, expects_peer },
            Action::Op(input, id) => payload(input.carries())
                .and_then(|payload| Request::for_operation(input, id, payload))
                // Not an input the model offers: ask for something the
                // machine refuses, so the step is a refusal.
                .unwrap_or(Request::CancelWait { wait: u8::MAX }),
            Action::TerminateOwner => Request::TerminateOwner { reason: () },
            Action::CollectCompleted => Request::CollectCompleted,
            Action::BeginWait { slot, ids } => Request::BeginWait { wait: slot, ids: ids_of(ids).collect() },
            Action::CancelWait(slot) => Request::CancelWait { wait: slot },
            Action::Restart { cancel } => Request::Restore {
                image: Box::new(state.image()),
                policy: match cancel {
                    true => LostPolicy::Cancel { reason: None },
                    false => LostPolicy::Terminate { reason: () },
                },
            },
        }
    }
}

fn ids_of(mask: u8) -> impl Iterator<Item = u8> {
    (0..8u8).filter(move |i| mask & (1 << i) != 0)
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Register { id, kind, expects_peer } => {
                write!(f, "register_operation(op{id}, {kind:?}, expect_peer_channel={expects_peer})")
            }
            Action::Op(input, id) => write!(f, "{input}(op{id})"),
            Action::TerminateOwner => f.write_str("terminate_owner()"),
            Action::CollectCompleted => f.write_str("collect_completed()"),
            Action::BeginWait { slot, ids } => {
                let ids: Vec<String> = ids_of(*ids).map(|i| format!("op{i}")).collect();
                write!(f, "wait_all([{}]) as wait{slot}", ids.join(", "))
            }
            Action::CancelWait(slot) => write!(f, "drop wait{slot}"),
            Action::Restart { cancel: false } => f.write_str("restart (capture, restore: lost ops Terminated)"),
            Action::Restart { cancel: true } => f.write_str("restart (capture, restore: lost ops Cancelled)"),
        }
    }
}

/// The model of one table (the shipped one or a mutant) under one
/// configuration.
#[derive(Debug, Clone)]
pub struct LifecycleModel {
    /// What universe is explored.
    pub config: ModelConfig,
    /// The compiled table under check.
    pub lifecycle: Arc<Lifecycle>,
    /// Rows fired and errors produced so far.
    pub coverage: Arc<Coverage>,
    /// Whether states record what the step into them showed, for the
    /// `sometimes` properties. Off for the exhaustive run (witness bits would
    /// multiply its states), on for the example run.
    pub witnesses: bool,
    /// Whether every successor is replaced by its symmetry representative
    /// (reduction over operation ids that works with any search strategy).
    pub symmetric: bool,
}

impl LifecycleModel {
    /// The model of `table` (compiled without validation, so mutants run).
    pub fn new(table: Table, config: ModelConfig) -> Self {
        let rows = table.rows.len();
        LifecycleModel {
            config,
            lifecycle: Arc::new(Lifecycle::new_unchecked(table, config.limits())),
            coverage: Arc::new(Coverage::new(rows)),
            witnesses: false,
            symmetric: false,
        }
    }

    /// The same model with witnesses on: it checks the `sometimes`
    /// properties instead of the `always` ones.
    #[must_use]
    pub fn with_witnesses(mut self) -> Self {
        self.witnesses = true;
        self
    }

    /// The same model recording into `coverage` (shared across the
    /// configurations of a suite).
    #[must_use]
    pub fn with_coverage(mut self, coverage: Arc<Coverage>) -> Self {
        self.coverage = coverage;
        self
    }

    /// The same model with symmetry reduction over operation ids.
    #[must_use]
    pub fn with_symmetry(mut self, on: bool) -> Self {
        self.symmetric = on;
        self
    }

    /// The model of the shipped table.
    pub fn standard(config: ModelConfig) -> Self {
        Self::new(Table::standard(), config)
    }

    /// Applies `action` to `state` and returns the machine's outputs with
    /// the next state (or the refusal). Used by `next_state` and to explain
    /// counterexamples.
    pub fn step(
        &self,
        state: &ModelState,
        action: Action,
    ) -> (ModelState, Result<Vec<Output<Tiny>>, oplife_machine::LifecycleError<Tiny>>) {
        let mut next = state.clone();
        let mut out = Vec::new();
        let result = self.step_into(state, action, &mut next, &mut out);
        (next, result.map(|()| out))
    }

    /// [`LifecycleModel::step`] into `next`, which must equal `state`, with
    /// the outputs appended to `out` (both buffers are reused by the search).
    fn step_into(
        &self,
        state: &ModelState,
        action: Action,
        next: &mut ModelState,
        out: &mut Vec<Output<Tiny>>,
    ) -> Result<(), oplife_machine::LifecycleError<Tiny>> {
        next.witnessed = 0;
        let coverage = &self.coverage;
        let request = action.request(&state.machine);
        if let Action::Restart { .. } = action {
            next.machine = State::new();
        }
        let result = self.lifecycle.apply_traced(&mut next.machine, request, out, &mut |row| coverage.row_fired(row));
        match result {
            Err(error) => {
                coverage.error_produced(error.kind());
                if let Action::Restart { .. } = action {
                    // A fresh registry must accept the image of any state.
                    next.machine = state.machine.clone();
                    next.faults |= fault::RESTORE;
                } else if next.machine != state.machine {
                    next.faults |= fault::REJECTION_CHANGED_STATE;
                }
                if self.witnesses && error.kind() == ErrorKind::MaxConcurrentExceeded {
                    next.witnessed |= witness::LIMIT_REFUSED;
                }
                Err(error)
            }
            Ok(()) => {
                observe(state, next, action, out);
                if let Action::Restart { cancel } = action {
                    observe_restart(self, state, next, cancel);
                }
                if !self.witnesses {
                    next.witnessed = 0;
                    for w in &mut next.waits {
                        w.evicted = 0;
                    }
                }
                Ok(())
            }
        }
    }
}

fn outcome_kind(outcome: &Outcome<Tiny>) -> oplife_spec::OutcomeKind {
    outcome.kind()
}

fn current_outcome(machine: &State<Tiny>, id: u8) -> Option<oplife_spec::OutcomeKind> {
    machine.operation(&id).and_then(|op| op.outcome()).map(outcome_kind)
}

/// The environment's bookkeeping of one successful step: it checks what it
/// is told against what it saw, independently of the machine's own records.
fn observe(before: &ModelState, next: &mut ModelState, action: Action, out: &[Output<Tiny>]) {
    // A terminal operation never changes again; it can only be forgotten.
    for (id, op) in before.machine.operations() {
        if op.status().is_terminal()
            && let Some(now) = next.machine.operation(id)
            && (now.status() != op.status() || now.outcome() != op.outcome())
        {
            next.faults |= fault::TERMINAL_CHANGED;
        }
    }
    if let Action::Register { id, kind, .. } = action {
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
    if let Action::Restart { .. } = action {
        // Watchers and waits belonged to the old process: their channels
        // closed with it.
        next.watchers = [0; MAX_OPS];
        next.waits = Default::default();
    }

    let feed_before = before.machine.feed();
    let mut next_seq = feed_before.watermark().saturating_add(1);
    let mut unfed: Option<(u8, OutcomeKind)> = None;
    let mut appended = 0usize;

    let mut ended = [None; MAX_OPS];
    let mut watch_answers = 0u32;
    let mut watchers_notified = false;
    let mut pending_waits_satisfied = false;
    let mut collected: Vec<(u8, oplife_spec::OutcomeKind)> = Vec::new();
    for output in out {
        match output {
            Output::Ended { id, outcome } => {
                if unfed.replace((*id, outcome.kind())).is_some() {
                    next.faults |= fault::FEED_ENTRY;
                }
                if before.machine.status(id).is_terminal() {
                    // It had ended already: ending again is a change.
                    next.faults |= fault::TERMINAL_CHANGED;
                }
                if let Some(slot) = ended.get_mut(usize::from(*id)) {
                    *slot = Some(outcome.kind());
                }
                if !next.completion.push(*id) {
                    next.faults |= fault::RETAINED_OVERFLOW;
                }
                for w in next.waits.iter_mut().filter(|w| w.pending && w.ids & (1 << id) != 0) {
                    if let Some(seen) = w.seen.get_mut(usize::from(*id))
                        && seen.is_none()
                    {
                        *seen = Some(outcome.kind());
                    }
                }
            }
            Output::FeedAppended { seq, id } => {
                appended += 1;
                match unfed.take() {
                    Some((ended, _)) if ended != *id => next.faults |= fault::FEED_ENTRY,
                    None => next.faults |= fault::FEED_ENTRY,
                    Some((_, outcome)) => {
                        let entry = next.machine.feed().entries().find(|e| e.seq == *seq);
                        let kind = next.kinds.get(usize::from(*id)).copied().flatten();
                        if entry.is_some_and(|e| e.id != *id || e.outcome.kind() != outcome || Some(e.kind) != kind) {
                            next.faults |= fault::FEED_OUTCOME;
                        }
                    }
                }
                if *seq != next_seq {
                    next.faults |= fault::FEED_SEQUENCE;
                }
                next_seq = seq.saturating_add(1);
            }
            Output::WatchPending { id } => {
                watch_answers += 1;
                if let Some(count) = next.watchers.get_mut(usize::from(*id)) {
                    *count += 1;
                }
            }
            Output::WatchResolved { id, outcome } => {
                watch_answers += 1;
                if current_outcome(&next.machine, *id) != Some(outcome.kind()) {
                    next.faults |= fault::WATCHER;
                }
            }
            Output::WatchersNotified { id, count, outcome } => {
                watchers_notified = true;
                let held = next.watchers.get(usize::from(*id)).copied().unwrap_or(0);
                let ended_with = ended.get(usize::from(*id)).copied().flatten();
                if u32::from(held) != *count || ended_with != Some(outcome.kind()) {
                    next.faults |= fault::WATCHER;
                }
                if let Some(count) = next.watchers.get_mut(usize::from(*id)) {
                    *count = 0;
                }
            }
            Output::WaitSatisfied(report) => {
                let Some(w) = next.waits.get_mut(usize::from(report.wait)).filter(|w| w.pending) else {
                    next.faults |= fault::WAIT_REPORT;
                    continue;
                };
                let asked: Vec<u8> = ids_of(w.ids).collect();
                let reported: Vec<u8> = report.outcomes.iter().map(|(id, _)| *id).collect();
                let mut sorted = reported.clone();
                sorted.sort_unstable();
                let real = report.outcomes.iter().all(|(id, o)| w.seen.get(usize::from(*id)) == Some(&Some(o.kind())));
                if sorted != asked || !real {
                    next.faults |= fault::WAIT_REPORT;
                }
                if w.evicted != 0 {
                    next.witnessed |= witness::SATISFIED_AFTER_EVICTION;
                }
                if !matches!(action, Action::BeginWait { .. }) {
                    pending_waits_satisfied = true;
                }
                *w = EnvWait::default();
            }
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
                }
            }
            Output::Collected { id, outcome } => {
                collected.push((*id, outcome.kind()));
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
    if unfed.is_some() {
        next.faults |= fault::FEED_ENTRY;
    }
    // Every pending wait holds exactly the outcomes the environment saw its
    // ops end with, captured the moment they ended.
    for (slot, w) in next.waits.iter().enumerate() {
        let Some(pending) = u8::try_from(slot).ok().and_then(|slot| next.machine.pending_wait(&slot)) else { continue };
        let agrees = pending.entries().iter().all(|(id, captured)| {
            w.seen.get(usize::from(*id)).copied().flatten() == captured.as_ref().map(Outcome::kind)
        });
        if w.pending && !agrees {
            next.faults |= fault::WAIT_REPORT;
        }
    }
    if feed_before.entries().len() + appended > next.machine.feed().entries().len() {
        next.witnessed |= witness::FEED_DROPPED;
    }
    if matches!(action, Action::Op(Input::RegisterWatcher, _)) && watch_answers != 1 {
        next.faults |= fault::WATCHER;
    }
    if action == Action::CollectCompleted {
        let expected: Vec<(u8, oplife_spec::OutcomeKind)> = before
            .machine
            .retained()
            .map(|id| (*id, current_outcome(&before.machine, *id).unwrap_or(oplife_spec::OutcomeKind::Retired)))
            .collect();
        let expected_ids: Vec<u8> = before.completion.as_slice().to_vec();
        let got_ids: Vec<u8> = collected.iter().map(|(id, _)| *id).collect();
        if collected != expected || got_ids != expected_ids {
            next.faults |= fault::COLLECT;
        }
    }
    if action == Action::TerminateOwner && watchers_notified && pending_waits_satisfied {
        next.witnessed |= witness::TERMINATION_RESOLVED_PENDING;
    }
}

/// What a restart must keep: every terminal record and feed entry of the
/// old registry (only retention may drop the oldest, to make room for the
/// lost operations' endings), every operation's details, and the phase; and
/// every lost operation ends as the policy says.
fn observe_restart(model: &LifecycleModel, before: &ModelState, next: &mut ModelState, cancel: bool) {
    let (old, new) = (&before.machine, &next.machine);
    let lost: Vec<u8> = old.operations().filter(|(_, op)| !op.status().is_terminal()).map(|(id, _)| *id).collect();
    let mut expected: Vec<u8> = old.retained().copied().chain(lost.iter().copied()).collect();
    expected.drain(..expected.len().saturating_sub(model.config.max_completed));
    let retained: Vec<u8> = new.retained().copied().collect();
    let policy = if cancel { Status::Cancelled } else { Status::Terminated };
    let details_kept = old.operations().all(|(id, op)| match new.operation(id) {
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
        && new_feed.entries().len() == (old_feed.entries().len() + lost.len()).min(model.config.feed_retention)
        && new_feed.entries().filter(|e| e.seq <= old_feed.watermark()).all(|e| old_feed.entries().any(|o| o == e));
    let kept = retained == expected && new.operation_count() == expected.len() && new.phase() == old.phase();
    if !kept || !details_kept || !feed_kept {
        next.faults |= fault::RESTORE;
    }
    if !lost.is_empty() {
        next.witnessed |= witness::RESTART_RESOLVED_LOST;
    }
    if old.retained().any(|id| retained.contains(id)) {
        next.witnessed |= witness::RESTART_KEPT_RECORD;
    }
}

/// Blanks the outcomes pending waits captured in the environment's memory;
/// [`Forget`] does the same in the machine. Each was checked against the
/// outcome the environment saw when it was captured (`observe`); the machine
/// never changes a captured outcome, and a capture and the satisfaction it
/// completes happen in one step, before any blanking.
fn blank_checked_captures(next: &mut ModelState) {
    for w in &mut next.waits {
        for seen in w.seen.iter_mut().filter(|s| s.is_some()) {
            *seen = Some(OutcomeKind::Retired);
        }
    }
}

/// The buffers `next_state` reuses from call to call.
struct Scratch {
    /// The successor.
    next: ModelState,
    /// The machine's outputs.
    out: Vec<Output<Tiny>>,
    /// A second candidate for the successor's representative.
    spare: ModelState,
}

thread_local! {
    /// The buffers of `next_state`.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        next: ModelState::initial(0, 0),
        out: Vec::new(),
        spare: ModelState::initial(0, 0),
    });
}

/// The id a blanked feed entry carries.
pub const BLANK_ID: u8 = u8::MAX;

/// What the model forgets of the machine's state after each step, through
/// the machine's one checker hook ([`State::remap`]), so that the state space
/// stays finite and states that differ only there merge:
/// - feed sequence numbers are rebased so that the watermark equals the
///   number of retained entries (the machine only compares them);
/// - feed entries no property reads any more are blanked: those of
///   operations that are forgotten, no longer terminal (the id was reused),
///   or that ended again since. Each entry's content was checked when it was
///   appended, the machine never reads it back, and restores copy entries as
///   they are;
/// - captured outcomes of pending waits are blanked (see
///   [`blank_checked_captures`]).
struct Forget {
    /// How far sequence numbers move down.
    shift: u64,
    /// The sequence number of each terminal op's newest entry.
    live: [Option<u64>; MAX_OPS],
}

impl Forget {
    fn of(machine: &State<Tiny>) -> Self {
        let feed = machine.feed();
        let shift = feed.watermark().saturating_sub(u64::try_from(feed.entries().len()).unwrap_or(u64::MAX));
        let mut live = [None::<u64>; MAX_OPS];
        for entry in feed.entries() {
            if machine.status(&entry.id).is_terminal()
                && let Some(newest) = live.get_mut(usize::from(entry.id))
            {
                *newest = Some(entry.seq);
            }
        }
        Forget { shift, live }
    }
}

impl Remap<Tiny> for Forget {
    fn renames(&self) -> bool {
        false
    }
    fn seq(&self, seq: u64) -> u64 {
        seq.saturating_sub(self.shift)
    }
    fn feed_entry(&self, entry: &mut FeedEntry<Tiny>) {
        if self.live.get(usize::from(entry.id)).copied().flatten() != Some(entry.seq) {
            entry.id = BLANK_ID;
            entry.kind = OperationKind::BackgroundToolOp;
            entry.outcome = Outcome::Retired;
        }
    }
    fn captured(&self, outcome: &mut Outcome<Tiny>) {
        *outcome = Outcome::Retired;
    }
}

fn forget(next: &mut ModelState, id: u8) {
    next.completion.remove(id);
    if let Some(kind) = next.kinds.get_mut(usize::from(id)) {
        *kind = None;
    }
}

impl Model for LifecycleModel {
    type State = ModelState;
    type Action = Action;

    fn init_states(&self) -> Vec<ModelState> {
        vec![ModelState::initial(self.config.ops, self.config.waits)]
    }

    fn actions(&self, state: &ModelState, actions: &mut Vec<Action>) {
        for id in 0..self.config.ops {
            let op = state.machine.operation(&id);
            for kind in OperationKind::ALL {
                for expects_peer in [kind.expects_peer_channel(), !kind.expects_peer_channel()] {
                    actions.push(Action::Register { id, kind, expects_peer });
                }
            }
            for input in op_inputs() {
                let bounded = match input {
                    Input::RegisterWatcher => state.watchers[usize::from(id)] < self.config.watchers,
                    Input::ReportProgress => op.is_none_or(|op| op.progress_count() < self.config.progress),
                    _ => true,
                };
                if bounded {
                    actions.push(Action::Op(input, id));
                }
            }
        }
        actions.push(Action::TerminateOwner);
        actions.push(Action::CollectCompleted);
        let free = state.waits.iter().take(usize::from(self.config.waits)).position(|w| !w.pending);
        if let Some(slot) = free {
            let slot = u8::try_from(slot).unwrap_or(0);
            for ids in 0..(1u8 << self.config.ops) {
                actions.push(Action::BeginWait { slot, ids });
            }
        }
        for (slot, w) in state.waits.iter().enumerate() {
            if w.pending {
                actions.push(Action::CancelWait(u8::try_from(slot).unwrap_or(0)));
            }
        }
        if self.config.restarts {
            actions.push(Action::Restart { cancel: false });
            actions.push(Action::Restart { cancel: true });
        }
    }

    fn next_state(&self, state: &ModelState, action: Action) -> Option<ModelState> {
        // Most actions are refused: the successor is built in a buffer of
        // this thread, reused from call to call, so a refusal allocates
        // nothing.
        SCRATCH.with(|scratch| {
            let Scratch { ref mut next, ref mut out, ref mut spare } = *scratch.borrow_mut();
            // After a refusal the buffer still equals the state (property 10
            // checks that), and the search asks for the next action of the
            // same state: comparing is cheaper than copying.
            if *next != *state {
                next.clone_from(state);
            }
            out.clear();
            let result = self.step_into(state, action, next, out);
            // A refusal that changed nothing is a self-loop: no new state.
            if result.is_err() && next.faults == state.faults && next.witnessed == 0 {
                return None;
            }
            // Only differences between feed sequence numbers matter, and
            // checked content is forgotten (the state space stays finite).
            let forget = Forget::of(&next.machine);
            next.machine.remap(&forget);
            blank_checked_captures(next);
            if self.symmetric {
                next.become_representative(spare);
            }
            // The successor is handed over as it is; the next call copies
            // the state into an empty buffer, which costs what a clone here
            // would, without a second copy.
            Some(std::mem::replace(next, ModelState::initial(state.ops, state.wait_slots)))
        })
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    fn properties(&self) -> Vec<Property<Self>> {
        match self.witnesses {
            true => properties::examples(self.config),
            false => properties::invariants(),
        }
    }
}
