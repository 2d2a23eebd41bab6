//! One application of a request, in two steps: accept it (select the row
//! the table gives and check its guards, reading the state through a shared
//! borrow, so a refusal changes nothing by construction), then commit it
//! (run the effects the row names, which cannot refuse). Each effect
//! handler is a shared mechanism (records, retention, eviction, wait
//! bookkeeping, counts) written once; nothing here decides what is legal.

use oplife_spec::{Effect, ErrorKind, Input, OperationKind, OutcomeKind, RowId, Status, Target};

use crate::compiled::Compiled;
use crate::error::LifecycleError;
use crate::guards::{Asked, Subject, operation_guard, refusal, retry_of};
use crate::operations::Operation;
use crate::outcome::{Domain, Outcome, SharedOutcome};
use crate::output::{Output, WaitReport};
use crate::request::{LostPolicy, Payload};
use crate::state::State;

/// One call of `apply`: where outputs go (each as it is made) and who
/// hears about fired rows.
pub(crate) struct Run<'a, D: Domain> {
    pub(crate) lifecycle: &'a Compiled,
    pub(crate) out: &'a mut dyn FnMut(Output<D>),
    pub(crate) fired: &'a mut dyn FnMut(RowId),
    /// An outcome already built in this call, which the rows of this input
    /// record instead of building their own (set by a cascade whose input
    /// has [`Compiled::one_outcome`]).
    pub(crate) reuse: Option<(Input, SharedOutcome<D>)>,
    /// The feed entry the transition in progress appended, for its `Ended`.
    pub(crate) appended: Option<u64>,
}

/// The operation a row's effects run on: its id, and its slot (none once
/// forgotten).
pub(crate) struct Place<'a, D: Domain> {
    id: &'a D::OpId,
    slot: Option<usize>,
}

/// A transition the table accepted for one operation, decided before the
/// first change: the row, the operation's slot, the kind and status of the
/// record it creates, and the outcome its effects install. (The record is
/// built when it is created: the decision stays a few words, moved from
/// accept to commit.)
pub(crate) struct Decided<D: Domain> {
    pub(crate) row: RowId,
    slot: Option<usize>,
    creates: Option<(OperationKind, Status)>,
    outcome: Option<SharedOutcome<D>>,
}

pub(crate) fn internal<D: Domain>(what: impl std::fmt::Display) -> LifecycleError<D> {
    LifecycleError::Internal(what.to_string())
}

impl<D: Domain> Run<'_, D> {
    /// Fires the row answering `input` for operation `id`, or refuses (a
    /// cascade's step).
    pub(crate) fn operation(
        &mut self,
        st: &mut State<D>,
        input: Input,
        id: &D::OpId,
        payload: Payload<D>,
    ) -> Result<(), LifecycleError<D>> {
        self.operation_at(st, input, None, id, payload)
    }

    /// [`Run::operation`] for `id`, whose slot was `hint` when the caller
    /// last looked (a cascade over every operation looks each up once).
    pub(crate) fn operation_at(
        &mut self,
        st: &mut State<D>,
        input: Input,
        hint: Option<usize>,
        id: &D::OpId,
        mut payload: Payload<D>,
    ) -> Result<(), LifecycleError<D>> {
        let decided = self.accept(st, input, hint, id, &mut payload)?;
        self.commit(st, id, decided, payload);
        Ok(())
    }

    /// Decides whether the table accepts `input` for `id`, and builds what
    /// the row's effects need. It reads the state through a shared borrow:
    /// a refusal cannot have changed anything.
    #[inline]
    pub(crate) fn accept(
        &self,
        st: &State<D>,
        input: Input,
        hint: Option<usize>,
        id: &D::OpId,
        payload: &mut Payload<D>,
    ) -> Result<Decided<D>, LifecycleError<D>> {
        let lc = self.lifecycle;
        // The operation's slot is looked up once; only creating it and
        // eviction (which compacts the slots) move it.
        let slot = st.ops.position_from(hint, id);
        let op = slot.and_then(|pos| st.ops.at(pos));
        let asked = Asked { input, id, op, status: op.map_or(Status::Absent, |op| op.status) };
        let row = select_operation_row(lc, st, &asked, payload)?;
        let rule = &lc.table().rows[row.0];
        let runs = lc.runs(row);
        let creates = match runs.create_record {
            true => Some(new_record(row, rule.target, payload)?),
            false => None,
        };
        let outcome = match (runs.record_outcome, &self.reuse) {
            (true, Some((reused, shared))) if *reused == input => Some(shared.clone()),
            (true, _) => Some(SharedOutcome::<D>::from(build_outcome(lc, rule.target, payload)?)),
            (false, _) => None,
        };
        Ok(Decided { row, slot, creates, outcome })
    }

    /// Fires the row `accept` chose: sets the target status and runs the
    /// row's effects in order. Nothing here can refuse.
    #[inline]
    pub(crate) fn commit(&mut self, st: &mut State<D>, id: &D::OpId, decided: Decided<D>, mut payload: Payload<D>) {
        let Decided { row, mut slot, mut creates, mut outcome } = decided;
        let table = self.lifecycle.table();
        let rule = &table.rows[row.0];
        (self.fired)(row);
        // A kind whose ending the table drops runs its own chain.
        let effects = match kind_at(st, slot) {
            Some(kind) if self.lifecycle.drops_ending(kind) => table.effects_for(rule, kind),
            _ => &rule.effects,
        };
        if let Target::Status(target) = rule.target
            && target.is_known()
            && let Some(op) = op_at(st, slot)
        {
            op.status = target;
        }
        for effect in effects {
            match effect {
                Effect::CreateRecord => {
                    if let Some((kind, status)) = creates.take() {
                        let durable = self.lifecycle.table().durable(kind);
                        slot = Some(st.ops.insert(id.clone(), Operation::new(kind, durable, status)));
                    }
                }
                Effect::ForgetRecord => {
                    if let Some(pos) = slot.take() {
                        st.ops.remove_at(pos, id);
                    }
                }
                effect => self.operation_effect(st, *effect, Place { id, slot }, &mut outcome, &mut payload),
            }
            if *effect == Effect::EvictOverflow {
                // Eviction leaves the other slots where they are unless it
                // compacts them: `id` is looked up again only if its slot
                // no longer holds it.
                slot = st.ops.position_from(slot, id);
            }
        }
    }

    /// Runs one effect of a per-operation row on the operation at `place`.
    pub(crate) fn operation_effect(
        &mut self,
        st: &mut State<D>,
        effect: Effect,
        place: Place<'_, D>,
        outcome: &mut Option<SharedOutcome<D>>,
        payload: &mut Payload<D>,
    ) {
        let Place { id, slot } = place;
        match effect {
            Effect::ClaimSlot => st.claim_slot(kind_at(st, slot)),
            Effect::EmitRegistered => {
                if let Some(op) = slot.and_then(|pos| st.ops.at(pos)) {
                    (self.out)(Output::Registered { id: id.clone(), kind: op.kind });
                }
            }
            Effect::AppendFeed => {
                if let Some(op) = slot.and_then(|pos| st.ops.at(pos))
                    && let Some(outcome) = op.outcome.clone()
                {
                    let seq = st.feed.append(id.clone(), op.kind, outcome, self.lifecycle.limits().feed_retention);
                    self.appended = Some(seq);
                }
            }
            Effect::ReleaseSlot => st.release_slot(kind_at(st, slot)),
            Effect::RecordOutcome => {
                if let Some(op) = op_at(st, slot) {
                    op.outcome = outcome.take();
                }
            }
            Effect::EmitStarted => (self.out)(Output::Started { id: id.clone() }),
            Effect::RecordProgress => {
                if let Some(op) = op_at(st, slot) {
                    op.progress = op.progress.saturating_add(1);
                    let update = match std::mem::replace(payload, Payload::None) {
                        Payload::Progress(update) => Some(update),
                        _ => None,
                    };
                    op.last_progress.clone_from(&update);
                    (self.out)(Output::Progress { id: id.clone(), update });
                }
            }
            Effect::EmitEnded => {
                if let Some(outcome) = slot.and_then(|pos| st.ops.at(pos)).and_then(|op| op.outcome.clone()) {
                    (self.out)(Output::Ended { id: id.clone(), outcome, seq: self.appended.take() });
                }
            }
            Effect::ExposePeer => {
                if let Some(op) = op_at(st, slot) {
                    op.peer_ready = true;
                    (self.out)(Output::PeerExposed { id: id.clone() });
                }
            }
            Effect::AddWatcher => {
                if let Some(op) = op_at(st, slot) {
                    op.watchers = op.watchers.saturating_add(1);
                    (self.out)(Output::WatchPending { id: id.clone() });
                }
            }
            Effect::RemoveWatcher => {
                if let Some(op) = op_at(st, slot) {
                    op.watchers = op.watchers.saturating_sub(1);
                    (self.out)(Output::WatcherReleased { id: id.clone() });
                }
            }
            Effect::ResolveWatch => {
                if let Some(outcome) = slot.and_then(|pos| st.ops.at(pos)).and_then(|op| op.outcome.clone()) {
                    (self.out)(Output::WatchResolved { id: id.clone(), outcome });
                }
            }
            Effect::NotifyWatchers => {
                if let Some(op) = op_at(st, slot)
                    && op.watchers > 0
                    && let Some(outcome) = op.outcome.clone()
                {
                    let count = std::mem::take(&mut op.watchers);
                    (self.out)(Output::WatchersNotified { id: id.clone(), count, outcome });
                }
            }
            Effect::Retain => {
                if let Some(op) = op_at(st, slot) {
                    op.buffered = true;
                    st.retained.push_back(id.clone());
                }
            }
            Effect::SatisfyWaits => self.satisfy_waits(st, slot),
            Effect::EvictOverflow => self.evict_overflow(st),
            Effect::ClearBuffered => {
                if let Some(op) = op_at(st, slot) {
                    op.buffered = false;
                    (self.out)(Output::Acknowledged { id: id.clone() });
                }
            }
            Effect::Unretain => {
                if st.retained.front() == Some(id) {
                    st.retained.pop_front();
                } else if let Some(pos) = st.retained.iter().position(|r| r == id) {
                    st.retained.remove(pos);
                }
            }
            Effect::ReportEvicted => (self.out)(Output::Evicted { id: id.clone() }),
            Effect::ReportRolledBack => (self.out)(Output::RolledBack { id: id.clone() }),
            Effect::ReportDropped => (self.out)(Output::Dropped { id: id.clone() }),
            Effect::ReportCollected => {
                if let Some(outcome) = slot.and_then(|pos| st.ops.at(pos)).and_then(|op| op.outcome.clone()) {
                    (self.out)(Output::Collected { id: id.clone(), outcome });
                }
            }
            // Records are created and forgotten by `operation` itself, and
            // registry-level effects have no meaning for one operation.
            Effect::CreateRecord
            | Effect::ForgetRecord
            | Effect::TerminateEach
            | Effect::DrainRetained
            | Effect::OpenWait
            | Effect::CloseWait
            | Effect::LoadImage
            | Effect::ResolveEachLost
            | Effect::MoveCursor => {}
        }
    }

    /// Evicts the oldest retained records while more than `max_completed`
    /// are retained, through the table's `Evict` cascade.
    pub(crate) fn evict_overflow(&mut self, st: &mut State<D>) {
        let excess = st.retained.len().saturating_sub(self.lifecycle.limits().max_completed);
        for _ in 0..excess {
            let Some(oldest) = st.retained.front().cloned() else { break };
            if self.operation(st, Input::Evict, &oldest, Payload::None).is_err() {
                break;
            }
        }
    }

    /// Captures the outcome of the operation in `slot` in every wait
    /// tracking it: O(1) per tracking wait, no scan of other operations.
    fn satisfy_waits(&mut self, st: &mut State<D>, slot: Option<usize>) {
        let Some(op) = slot.and_then(|pos| st.ops.at_mut(pos)) else { return };
        let Some(outcome) = op.outcome.clone() else { return };
        for (wait_id, slot) in std::mem::take(&mut op.waiters) {
            let Some(wait) = st.waits.get_mut(&wait_id) else { continue };
            if let Some(entry) = wait.entries.get_mut(slot as usize)
                && entry.1.is_none()
            {
                entry.1 = Some(outcome.clone());
                wait.remaining = wait.remaining.saturating_sub(1);
            }
            if wait.remaining == 0
                && let Some(done) = st.waits.remove(&wait_id)
            {
                (self.out)(Output::WaitSatisfied(report(wait_id, done.entries, done.run)));
            }
        }
    }
}

/// The operation in `slot`, if any.
fn op_at<D: Domain>(st: &mut State<D>, slot: Option<usize>) -> Option<&mut Operation<D>> {
    slot.and_then(|pos| st.ops.at_mut(pos))
}

/// The report of a satisfied wait: its id, each outcome, and its run.
pub(crate) fn report<D: Domain>(
    wait: D::WaitId,
    entries: Vec<(D::OpId, Option<SharedOutcome<D>>)>,
    run: D::RunId,
) -> WaitReport<D> {
    WaitReport { wait, outcomes: entries.into_iter().filter_map(|(id, o)| o.map(|o| (id, o))).collect(), run }
}

fn build_outcome<D: Domain>(
    lc: &Compiled,
    target: Target,
    payload: &mut Payload<D>,
) -> Result<Outcome<D>, LifecycleError<D>> {
    let Target::Status(status) = target else {
        return Err(internal("`record outcome` on a row without a target status"));
    };
    let Some(kind) = lc.outcome_of(status) else {
        return Err(internal(format!("status {status} has no outcome variant")));
    };
    match (kind, std::mem::replace(payload, Payload::None)) {
        (OutcomeKind::Completed, Payload::Result(result)) => Ok(Outcome::Completed(result)),
        (OutcomeKind::Failed, Payload::Error(error)) => Ok(Outcome::Failed { error }),
        (OutcomeKind::Aborted, Payload::Reason(reason)) => Ok(Outcome::Aborted { reason }),
        (OutcomeKind::Aborted, Payload::RequiredReason(reason)) => Ok(Outcome::Aborted { reason: Some(reason) }),
        (OutcomeKind::Cancelled, Payload::Reason(reason)) => Ok(Outcome::Cancelled { reason }),
        (OutcomeKind::Cancelled, Payload::RequiredReason(reason)) => Ok(Outcome::Cancelled { reason: Some(reason) }),
        (OutcomeKind::Retired, _) => Ok(Outcome::Retired),
        (
            OutcomeKind::Terminated,
            Payload::Reason(Some(reason))
            | Payload::RequiredReason(reason)
            | Payload::Lost { policy: LostPolicy::Terminate { reason }, .. },
        ) => Ok(Outcome::Terminated { reason }),
        (OutcomeKind::Cancelled, Payload::Lost { policy: LostPolicy::Cancel { reason }, .. }) => {
            Ok(Outcome::Cancelled { reason })
        }
        (kind, other) => Err(internal(format!("outcome {kind:?} cannot be built from payload {other:?}"))),
    }
}

/// The kind and status of the record a row creates: the spec's kind, in the
/// row's target status.
fn new_record<D: Domain>(
    row: RowId,
    target: Target,
    payload: &Payload<D>,
) -> Result<(OperationKind, Status), LifecycleError<D>> {
    match (target, payload) {
        (Target::Status(status), Payload::Spec { kind, .. }) if status.is_known() => Ok((*kind, status)),
        _ => Err(internal(format!("{row} creates a record without a spec or a known target"))),
    }
}

/// The row answering the call `asked` with `payload`, or the refusal.
#[inline]
pub(crate) fn select_operation_row<D: Domain>(
    lc: &Compiled,
    st: &State<D>,
    asked: &Asked<'_, D>,
    payload: &Payload<D>,
) -> Result<RowId, LifecycleError<D>> {
    let Asked { input, id, status, .. } = *asked;
    if let Some(kind) = lc.gate(input, st.phase) {
        return Err(refusal(kind, input, Subject::Operation(id.clone(), status)));
    }
    let mut first_refusal = None;
    for &row in lc.op_rows(input, status) {
        let failed = lc.table().rows[row.0]
            .guards
            .iter()
            .find_map(|g| operation_guard(lc, st, asked, *g, payload).err().map(|about| (*g, about)));
        match failed {
            None => return Ok(row),
            Some((guard, about)) => {
                first_refusal.get_or_insert((guard.error(), about));
            }
        }
    }
    let (kind, about) = first_refusal.unwrap_or_else(|| match lc.refusal(input, status) {
        // Only an invalid transition can be a retry of what happened.
        ErrorKind::InvalidTransition => {
            let retry = retry_of(lc, asked, payload);
            (ErrorKind::InvalidTransition, Subject::Retried(id.clone(), status, retry))
        }
        kind => (kind, Subject::Operation(id.clone(), status)),
    });
    Err(refusal(kind, input, about))
}

/// The kind of the operation at `slot`.
fn kind_at<D: Domain>(st: &State<D>, slot: Option<usize>) -> Option<oplife_spec::OperationKind> {
    slot.and_then(|pos| st.ops.at(pos)).map(|op| op.kind)
}
