//! The successors of a state, built in buffers each thread reuses.

use oplife_machine::{Output, Remap};
use stateright::Model;

use super::LifecycleModel;
use crate::action::Action;
use crate::domain::Tiny;
use crate::engine::Expand;
use crate::forget::{Forget, blank_checked_captures};
use crate::state::{ModelState, witness};

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
    /// The successor `action` makes from `state`, if any (`next_state`).
    pub(super) fn successor(&self, state: &ModelState, action: Action) -> Option<ModelState> {
        let mut next = state.clone();
        with_scratch(|Scratch { out, spare, .. }| self.successor_into(state, action, &mut next, out, spare))
            .then_some(next)
    }

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
        // only make the restart's successor again, and show what it shows,
        // besides that a terminal record survived a crash. (With witnesses
        // on, crash steps are kept for what they show.)
        if matches!(action, Action::Crash { .. })
            && self.config.restarts
            && !self.witnesses
            && self.crash_is_restart(&state.machine)
        {
            self.shown.skipped(witness::CRASH_KEPT_RECORD);
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
        next.cursor = forget.seq(next.cursor);
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
        let model = LifecycleModel::standard(ModelConfig::THREE_OPS).symmetric();
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
