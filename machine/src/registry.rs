//! Registry-level rows: owner termination, collection, waits and restore.
//! A registry row's effects cascade per-operation inputs (terminate, drain,
//! resolve lost) through the table, or open and close wait requests.

use oplife_spec::{Effect, Input, RowId, Target};

use crate::compiled::Compiled;

use crate::error::LifecycleError;
use crate::feed::Feed;
use crate::guards::{Subject, refusal, registry_guard};
use crate::image::Image;
use crate::operations::Operation;
use crate::outcome::Domain;
use crate::output::Output;
use crate::request::{Payload, Request};
use crate::run::{Run, internal, report};
use crate::state::State;
use crate::waits::Wait;

/// The slot hint of a cascaded id whose slot is not known: no slot has it,
/// so the id is looked up. (A plain number, not an `Option`: the hints of
/// an owner termination over 16k operations are 8 bytes smaller each, and
/// S4 measured about 5 % faster this way.)
const NO_SLOT: usize = usize::MAX;

impl<D: Domain> Run<'_, D> {
    /// Fires `row`, which [`select_registry_row`] chose for `request`: sets
    /// the phase and runs the row's effects in order. Nothing here can
    /// refuse.
    pub(crate) fn commit_registry(&mut self, st: &mut State<D>, row: RowId, request: Request<D>) {
        let rule = &self.lifecycle.table().rows[row.0];
        (self.fired)(row);
        if let Target::Phase(phase) = rule.target {
            st.phase = phase;
        }
        let mut request = Some(request);
        let mut lost = None;
        let mut kept = Vec::new();
        for effect in &rule.effects {
            match (effect, &request) {
                (Effect::TerminateEach, Some(Request::TerminateOwner { reason })) => {
                    let ids = st.ops.slotted();
                    self.cascade(st, Input::Terminate, ids, |_| Payload::RequiredReason(reason.clone()));
                }
                (Effect::DrainRetained, _) => {
                    let ids = st.retained.iter().map(|id| (NO_SLOT, id.clone())).collect();
                    self.cascade(st, Input::Drain, ids, |_| Payload::None);
                }
                (Effect::OpenWait, Some(Request::BeginWait { .. })) => {
                    if let Some(Request::BeginWait { wait, ids, run }) = request.take() {
                        self.open_wait(st, wait, ids, run);
                    }
                }
                (Effect::CloseWait, Some(Request::CancelWait { wait })) => {
                    let wait = wait.clone();
                    self.close_wait(st, wait);
                }
                (Effect::LoadImage, Some(Request::Restore { .. } | Request::Resume { .. })) => match request.take() {
                    Some(Request::Restore { image, policy, keep }) => {
                        self.load_image(st, *image);
                        lost = Some(policy);
                        kept = keep.into_iter().map(|keep| keep.id).collect();
                    }
                    Some(Request::Resume { image }) => self.load_image(st, *image),
                    _ => {}
                },
                (Effect::MoveCursor, Some(Request::AdvanceCursor { to, .. })) => {
                    (self.out)(Output::CursorMoved { to: *to });
                }
                (Effect::ResolveEachLost, _) => {
                    let policy = match (&lost, &request) {
                        (Some(policy), _) | (None, Some(Request::Restore { policy, .. })) => policy.clone(),
                        _ => continue,
                    };
                    let ids = st.ops.slotted();
                    let keep = &kept;
                    self.cascade(st, Input::ResolveLost, ids, |id| Payload::Lost {
                        policy: policy.clone(),
                        asked_to_keep: keep.contains(id),
                    });
                }
                _ => {}
            }
        }
    }

    /// Offers `input` to each of `ids` through the table, which decides
    /// which of them it changes; the others are left as they are. Where the
    /// table builds one outcome for every transition of the input
    /// ([`Compiled::one_outcome`]), the first one built is shared by the
    /// rest, and `payload` is made only until then. Each id comes with the
    /// slot it had when the cascade began, tried before a lookup, or
    /// [`NO_SLOT`].
    fn cascade(
        &mut self,
        st: &mut State<D>,
        input: Input,
        ids: Vec<(usize, D::OpId)>,
        payload: impl Fn(&D::OpId) -> Payload<D>,
    ) {
        let share = self.lifecycle.one_outcome(input);
        for (hint, id) in ids {
            let given = match self.reuse {
                Some(_) => Payload::None,
                None => payload(&id),
            };
            let changed = self.operation_at(st, input, Some(hint), &id, given).is_ok();
            if share && changed && self.reuse.is_none() {
                self.reuse = st.ops.get(&id).and_then(|op| op.outcome.clone()).map(|o| (input, o));
            }
        }
        self.reuse = None;
    }

    fn open_wait(&mut self, st: &mut State<D>, wait: D::WaitId, ids: Vec<D::OpId>, run: D::RunId) {
        let mut entries = Vec::with_capacity(ids.len());
        let mut remaining = 0u32;
        for (slot, id) in ids.into_iter().enumerate() {
            let captured = match st.ops.get_mut(&id) {
                Some(op) if op.status.is_terminal() && op.outcome.is_some() => op.outcome.clone(),
                Some(op) => {
                    // Kept in wait-id order, so the waits an ending satisfies
                    // are reported in that order, whatever order they began in.
                    let at = op.waiters.partition_point(|(w, _)| *w < wait);
                    op.waiters.insert(at, (wait.clone(), u32::try_from(slot).unwrap_or(u32::MAX)));
                    remaining += 1;
                    None
                }
                None => {
                    remaining += 1;
                    None
                }
            };
            entries.push((id, captured));
        }
        if remaining == 0 {
            (self.out)(Output::WaitSatisfied(report(wait, entries, run)));
        } else {
            st.waits.insert(wait.clone(), Wait { entries, remaining, run });
            (self.out)(Output::WaitPending { wait });
        }
    }

    /// Installs an image's operations, retained records and feed, then
    /// applies this lifecycle's limits to them.
    fn load_image(&mut self, st: &mut State<D>, image: Image<D>) {
        for op in image.operations {
            if !op.status.is_terminal() {
                st.claim_slot(Some(op.kind));
            }
            let durable = self.lifecycle.table().durable(op.kind);
            let mut record = Operation::new(op.kind, durable, op.status);
            record.peer_ready = op.peer_ready;
            record.buffered = op.buffered;
            record.progress = op.progress_count;
            record.last_progress = op.last_progress;
            record.outcome = op.outcome;
            st.ops.insert(op.id, record);
        }
        st.retained = image.retained.into();
        st.feed = Feed { watermark: image.feed_watermark, entries: image.feed.into() };
        st.feed.trim(self.lifecycle.limits().feed_retention);
        self.evict_overflow(st);
    }

    fn close_wait(&mut self, st: &mut State<D>, wait: D::WaitId) {
        let Some(closed) = st.waits.remove(&wait) else { return };
        for (id, captured) in &closed.entries {
            if captured.is_none()
                && let Some(op) = st.ops.get_mut(id)
            {
                op.waiters.retain(|(w, _)| *w != wait);
            }
        }
        (self.out)(Output::WaitCancelled { wait });
    }
}

/// The registry row answering `request`, or the refusal.
pub(crate) fn select_registry_row<D: Domain>(
    lc: &Compiled,
    st: &State<D>,
    request: &Request<D>,
) -> Result<RowId, LifecycleError<D>> {
    let input = request.input();
    if let Some(kind) = lc.gate(input, st.phase) {
        return Err(refusal(kind, input, Subject::Registry));
    }
    let mut first_refusal = None;
    for &row in lc.registry_rows(input, st.phase) {
        let failed = lc.table().rows[row.0]
            .guards
            .iter()
            .find_map(|g| registry_guard(lc, st, *g, request).err().map(|about| (*g, about)));
        match failed {
            None => return Ok(row),
            Some((guard, about)) => {
                first_refusal.get_or_insert((guard.error(), about));
            }
        }
    }
    Err(match first_refusal {
        Some((kind, about)) => refusal(kind, input, about),
        None => internal(format!("no row answers {input} in registry phase {}", st.phase)),
    })
}
