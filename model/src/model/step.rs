//! One step of the model: the machine applies the action's request, and
//! the environment checks the answer against what it was told before.

use oplife_machine::{LifecycleError, Output, Request, State};
use oplife_spec::{ErrorKind, Input, PublicResult, Retry, Status, Target};

use super::LifecycleModel;
use crate::action::{Action, Cap, lost_policy};
use crate::domain::Tiny;
use crate::observe::{Restart, keep_holds, observe, observe_restart};
use crate::properties::SHIPPED;
use crate::state::{ModelState, fault, witness};

impl LifecycleModel {
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
    pub(crate) fn step_into(
        &self,
        state: &ModelState,
        action: Action,
        next: &mut ModelState,
        out: &mut Vec<Output<Tiny>>,
    ) -> Result<(), oplife_machine::LifecycleError<Tiny>> {
        let result = self.observed_step(state, action, next, out);
        if !self.witnesses {
            // What the step showed is recorded, not kept: witness bits in
            // the states would multiply them.
            self.shown.record(next.witnessed);
            next.witnessed = 0;
            for w in &mut next.waits {
                w.evicted = 0;
            }
        }
        result
    }

    /// [`LifecycleModel::step_into`], with what the step showed left in
    /// `next.witnessed`.
    fn observed_step(
        &self,
        state: &ModelState,
        action: Action,
        next: &mut ModelState,
        out: &mut Vec<Output<Tiny>>,
    ) -> Result<(), oplife_machine::LifecycleError<Tiny>> {
        next.witnessed = 0;
        let coverage = &self.coverage;
        let request = match action {
            // A crash reopens the journal: its image resumed, then restored.
            Action::Crash { cancel } => match self.durable_image(&state.machine) {
                Some(image) => {
                    Request::Restore { image: Box::new(image), policy: lost_policy(cancel), keep: Vec::new() }
                }
                None => {
                    next.faults |= fault::RESTORE;
                    return Ok(());
                }
            },
            _ => action.request(&state.machine),
        };
        if action.replaces_process() {
            next.machine = State::new();
        }
        coverage.input_called(request.input());
        let result = self
            .lifecycle
            .apply_traced(&mut next.machine, request, &mut |o| out.push(o), &mut |row| coverage.row_fired(row));
        // A refusal is read where the machine wrote it, not moved out
        // first: most calls the search makes are refused.
        match &result {
            Err(error) => {
                coverage.error_produced(error.kind());
                if action.replaces_process() {
                    // A fresh registry must accept the image of any state,
                    // unless it is asked to keep what the image does not
                    // hold so: then the restart does not happen.
                    next.machine = state.machine.clone();
                    match action {
                        Action::Restart { keep: Some(ask), .. }
                            if error.kind() == ErrorKind::RetentionMismatch && !keep_holds(state, ask) =>
                        {
                            next.witnessed |= witness::RETENTION_REFUSED;
                        }
                        Action::Restart { keep: Some(ask), .. } if keep_holds(state, ask) => {
                            next.faults |= fault::KEPT;
                        }
                        _ => next.faults |= fault::RESTORE,
                    }
                } else if cfg!(debug_assertions) && next.machine != state.machine {
                    // The machine decides a refusal reading the state through
                    // a shared borrow, before its first change, so a refusal
                    // cannot have changed it: the compiler holds property 10
                    // in every state, reachable or not. Debug builds compare
                    // anyway (this comparison was a tenth of the search).
                    next.faults |= fault::REJECTION_CHANGED_STATE;
                }
                if error.kind() == ErrorKind::MaxConcurrentExceeded {
                    next.witnessed |= witness::LIMIT_REFUSED;
                }
                if error.kind() == ErrorKind::AdmissionLimitExceeded {
                    next.witnessed |= witness::ADMISSION_REFUSED;
                }
                if error.kind() == ErrorKind::SourceMismatch {
                    next.witnessed |= witness::SOURCE_REFUSED;
                }
                if let (Action::Register { cap: Cap::Total, .. }, LifecycleError::MaxConcurrentExceeded { limit, .. }) =
                    (action, error)
                    && self.lifecycle.limits().max_concurrent.is_none_or(|registry| *limit < registry)
                {
                    next.witnessed |= witness::CALLER_LIMIT_REFUSED;
                }
                if let Action::AdvanceCursor { from, to } = action {
                    let watermark = state.machine.feed().watermark();
                    let legal = to == from || to > from && to <= watermark;
                    if legal && !state.fenced {
                        next.faults |= fault::CURSOR;
                    }
                    if error.kind() == ErrorKind::CursorPastWatermark && to > watermark {
                        next.witnessed |= witness::CURSOR_REFUSED;
                    }
                }
                if state.fenced && error.kind() == ErrorKind::Sealed {
                    next.witnessed |= witness::FENCED_REFUSED;
                }
                if let Action::Op(input, id) = action {
                    // A sealed registry's refusal says nothing of what
                    // happened: the newer owner's store holds that.
                    let expected = match state.fenced {
                        true => Retry::Invalid,
                        false => what_happened(input, state.machine.status(&id)),
                    };
                    if error.retry() != expected {
                        next.faults |= fault::RETRY;
                    }
                    if error.retry() == Retry::Repeat {
                        next.witnessed |= witness::RETRY_REPEAT;
                    }
                }
                result
            }
            Ok(()) => {
                observe(state, next, action, out);
                if matches!(action, Action::Op(Input::RequestRetire, _))
                    && self.lifecycle.table().public_result(Status::Retiring) == PublicResult::Running
                {
                    next.witnessed |= witness::RETIRING_RUNNING;
                }
                // Past a takeover the store belongs to the newer owner, and
                // holds what it held at the takeover: this registry must
                // not change what it would have written there.
                if state.fenced && !next.machine.same_image(&state.machine) {
                    next.faults |= fault::FENCED_WROTE;
                }
                if action == Action::Takeover {
                    next.fenced = true;
                }
                match action {
                    Action::Restart { cancel, keep } => {
                        if keep.is_some_and(|ask| !keep_holds(state, ask)) {
                            // Asked to keep what the image does not hold so.
                            next.faults |= fault::KEPT;
                        }
                        observe_restart(&self.config, state, next, Restart { cancel, crash: false, keep });
                    }
                    Action::Crash { cancel } => {
                        observe_restart(&self.config, state, next, Restart { cancel, crash: true, keep: None });
                    }
                    _ => {}
                }
                // The request is made again from the action (a copy made
                // before the step was wasted on every refusal).
                // (A takeover writes nothing, and nothing after it can be
                // written: the property above checks those steps.)
                if self.config.crashes
                    && !action.replaces_process()
                    && !state.fenced
                    && action != Action::Takeover
                    && !self.journal_replays(&state.machine, action.request(&state.machine), &next.machine)
                {
                    next.faults |= fault::LOST_IN_CRASH;
                }
                Ok(())
            }
        }
    }
}

/// The terminal status each input ends an operation with in the shipped
/// table (`None`: its rows end none), by [`Input::index`]: read once, not
/// for every refusal.
static ENDS_AS: std::sync::LazyLock<[Option<Status>; Input::ALL.len()]> = std::sync::LazyLock::new(|| {
    Input::ALL.map(|input| {
        SHIPPED.rows.iter().find_map(|row| match row.target {
            Target::Status(target) if row.input == input && target.is_terminal() => Some(target),
            _ => None,
        })
    })
});

/// What a refusal of `input` for an operation in `status` is as a retry, by
/// what happened (read from the shipped table's rows, not its retry rows): a
/// call that ends an operation, refused because it already ended, is a
/// repeat if it ended the way the call would end it (the model's payloads
/// are always the same) and a conflict if it ended another way.
fn what_happened(input: Input, status: Status) -> Retry {
    match ENDS_AS.get(input.index()).copied().flatten() {
        Some(target) if status == target => Retry::Repeat,
        Some(_) if status.is_terminal() => Retry::Conflict,
        _ => Retry::Invalid,
    }
}
