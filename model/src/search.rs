//! What stateright explores: the model's initial state, the actions it
//! offers in each state, the successor each one makes, and the properties.

use oplife_machine::Output;
use oplife_spec::{Input, OperationKind};
use stateright::{Model, Property};

use crate::action::{Action, op_inputs};
use crate::domain::Tiny;
use crate::explore::Expand;
use crate::forget::{Forget, blank_checked_captures};
use crate::model::LifecycleModel;
use crate::properties;
use crate::state::ModelState;

/// The buffers a thread's steps reuse from call to call.
struct Scratch {
    /// The successors of the state expanded, each built in place from a
    /// copy of it; the buffers past those filled are spare.
    next: Vec<ModelState>,
    /// The machine's outputs.
    out: Vec<Output<Tiny>>,
    /// A second candidate for the successor's representative.
    spare: ModelState,
}

thread_local! {
    /// This thread's buffers.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        next: Vec::new(),
        out: Vec::new(),
        spare: ModelState::initial(0, 0),
    });
}

/// Runs `work` with this thread's buffers, or with new ones while they are
/// in use (a caller's `each` that steps the model again).
fn with_scratch<R>(work: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => work(&mut scratch),
        Err(_) => work(&mut Scratch { next: Vec::new(), out: Vec::new(), spare: ModelState::initial(0, 0) }),
    })
}

impl LifecycleModel {
    /// Takes `action` from `state` into `next`, which holds a copy of
    /// `state`: true when that makes a successor (then `next` holds it, as
    /// `next_state` returns it), false when it makes none (then `next`
    /// still holds the state, `witnessed` aside).
    fn successor_into(
        &self,
        state: &ModelState,
        action: Action,
        next: &mut ModelState,
        out: &mut Vec<Output<Tiny>>,
        spare: &mut ModelState,
    ) -> bool {
        // A crash that reopens the state's own image restores what a
        // restart restores, and the restart is offered too: the crash would
        // only make the restart's successor again. (With witnesses on, crash
        // steps are kept for what they show.)
        if matches!(action, Action::Crash { .. })
            && self.config.restarts
            && !self.witnesses
            && self.crash_is_restart(&state.machine)
        {
            return false;
        }
        out.clear();
        let result = self.step_into(state, action, next, out);
        // A refusal that changed nothing is a self-loop: no new state. (The
        // machine decides a refusal through a shared borrow of its state,
        // property 10; the environment only changes on an accepted call.)
        if result.is_err() && next.faults == state.faults && next.witnessed == 0 {
            return false;
        }
        // Only differences between feed sequence numbers matter, and
        // checked content is forgotten (the state space stays finite).
        let forget = Forget::of(&next.machine);
        next.machine.remap(&forget);
        blank_checked_captures(next);
        if self.symmetric {
            next.become_representative(spare);
        }
        true
    }
}

impl Expand for LifecycleModel {
    /// Builds the successors in buffers of this thread, each in the next
    /// from a copy of the state: a refused call, most of them, copies
    /// nothing and leaves its buffer for the next action; the buffers keep
    /// their capacity from state to state. They are handed over together,
    /// and the search copies out only those it has not seen.
    fn successors(&self, state: &ModelState, actions: &mut Vec<Action>, each: &mut dyn FnMut(&[ModelState])) {
        self.expanding(&state.machine, || {
            with_scratch(|scratch| {
                let Scratch { next, out, spare } = scratch;
                actions.clear();
                self.actions(state, actions);
                let mut filled = 0;
                let mut fresh = true;
                for action in actions.drain(..) {
                    if filled == next.len() {
                        next.push(state.clone());
                    } else if fresh && let Some(buffer) = next.get_mut(filled) {
                        buffer.clone_from(state);
                    }
                    let Some(buffer) = next.get_mut(filled) else { continue };
                    fresh = false;
                    // A refusal leaves the buffer holding the state: the machine
                    // cannot change on one, nor the environment.
                    if self.successor_into(state, action, buffer, out, spare) {
                        filled += 1;
                        fresh = true;
                    } else {
                        debug_assert!(buffer.same_as(state), "the buffer does not hold the state after {action}");
                    }
                }
                each(next.get(..filled).unwrap_or_default());
            })
        });
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
                    actions.push(Action::Register { id, kind, expects_peer, limited: false });
                }
                actions.push(Action::Register { id, kind, expects_peer: kind.expects_peer_channel(), limited: true });
            }
            for input in op_inputs() {
                let bounded = match input {
                    Input::RegisterWatcher => state.watchers[usize::from(id)] < self.config.watchers,
                    // A caller can only drop a watch it holds.
                    Input::ReleaseWatcher => state.watchers[usize::from(id)] > 0,
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
        // A takeover again fences a registry already sealed: it stays so.
        if self.config.crashes {
            actions.push(Action::Takeover);
        }
        // A registry whose store was taken over is a stale process: what
        // restarts is the newer owner, whose registry is the one a crash
        // before the takeover recovers (the store as it was then).
        if state.fenced {
            return;
        }
        if self.config.restarts {
            actions.push(Action::Restart { cancel: false });
            actions.push(Action::Restart { cancel: true });
        }
        if self.config.crashes {
            actions.push(Action::Crash { cancel: false });
            actions.push(Action::Crash { cancel: true });
        }
    }

    fn next_state(&self, state: &ModelState, action: Action) -> Option<ModelState> {
        let mut next = state.clone();
        with_scratch(|Scratch { out, spare, .. }| self.successor_into(state, action, &mut next, out, spare))
            .then_some(next)
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    fn properties(&self) -> Vec<Property<Self>> {
        match (self.all_properties, self.witnesses) {
            (true, _) => properties::invariants().into_iter().chain(properties::examples(self.config)).collect(),
            (false, true) => properties::examples(self.config),
            (false, false) => properties::invariants(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;

    #[test]
    fn every_refusal_near_the_start_leaves_the_machine_as_it_was() {
        // Property 10 is held by the machine's types (a refusal is decided
        // through a shared borrow); the search compares only in debug
        // builds. This compares in every build, over the first levels of
        // the crash configuration and the two-wait one.
        for config in [ModelConfig::THREE_OPS, ModelConfig::TWO_WAITS] {
            let model = LifecycleModel::standard(config);
            let (mut level, mut refusals) = (model.init_states(), 0);
            for _ in 0..4 {
                let mut next_level = Vec::new();
                for state in &level {
                    let mut offered = Vec::new();
                    model.actions(state, &mut offered);
                    for action in offered {
                        let (next, result) = model.step(state, action);
                        match result {
                            Err(error) if !action.replaces_process() => {
                                assert_eq!(next.machine, state.machine, "{action} refused with {error}");
                                refusals += 1;
                            }
                            _ => next_level.push(next),
                        }
                    }
                }
                next_level.dedup();
                level = next_level;
            }
            assert!(refusals > 10_000, "{refusals} refusals");
        }
    }

    /// The successor of every action offered in `state` (`None` where it
    /// makes none).
    fn every_next_state(model: &LifecycleModel, state: &ModelState) -> Vec<Option<ModelState>> {
        let mut offered = Vec::new();
        model.actions(state, &mut offered);
        offered.into_iter().map(|action| model.next_state(state, action)).collect()
    }

    #[test]
    fn the_hook_hands_over_what_next_state_makes_even_when_called_inside_itself() {
        // The crash configuration, symmetric: every kind of action, and
        // the representative's second candidate.
        let model = LifecycleModel::standard(ModelConfig::THREE_OPS).with_symmetry(true);
        let mut level = model.init_states();
        let (mut actions, mut inner) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            let mut next_level = Vec::new();
            for state in &level {
                let mut offered = Vec::new();
                model.actions(state, &mut offered);
                let expected: Vec<ModelState> = offered.iter().filter_map(|a| model.next_state(state, *a)).collect();
                let (mut handed, mut stepped_inside) = (Vec::new(), Vec::new());
                model.successors(state, &mut actions, &mut |successors| {
                    for successor in successors {
                        // A caller that steps the model from inside gets its
                        // own buffers, and the hook's are left alone; a step
                        // from a state other than the one expanded reads its
                        // own durable state, not the one pinned for the
                        // expansion.
                        stepped_inside.push(every_next_state(&model, successor));
                        model.successors(successor, &mut inner, &mut |_| {});
                        handed.push(successor.clone());
                    }
                });
                assert!(!handed.is_empty());
                assert_eq!(handed, expected);
                let stepped_outside: Vec<_> =
                    handed.iter().map(|successor| every_next_state(&model, successor)).collect();
                assert_eq!(stepped_inside, stepped_outside);
                next_level.extend(handed);
            }
            level = next_level;
        }
        assert!(level.len() > 1000, "{} states at depth 3", level.len());
    }
}
