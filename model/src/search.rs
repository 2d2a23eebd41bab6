//! What stateright explores: the model's initial state, the actions it
//! offers in each state, the successor each one makes, and the properties.

use oplife_machine::Output;
use oplife_spec::{Input, OperationKind};
use stateright::{Model, Property};

use crate::action::{Action, op_inputs};
use crate::domain::Tiny;
use crate::forget::{Forget, blank_checked_captures};
use crate::model::LifecycleModel;
use crate::properties;
use crate::state::ModelState;

/// The buffers `next_state` reuses from call to call.
struct Scratch {
    /// The successor.
    next: ModelState,
    /// The machine's outputs.
    out: Vec<Output<Tiny>>,
    /// A second candidate for the successor's representative.
    spare: ModelState,
    /// Counts the states this thread has been asked the actions of.
    expanding: u64,
    /// The state `next` holds, as the value `expanding` had when it was
    /// copied in, while nothing has changed it since.
    holds: Option<u64>,
}

thread_local! {
    /// The buffers of `next_state`.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        next: ModelState::initial(0, 0),
        out: Vec::new(),
        spare: ModelState::initial(0, 0),
        expanding: 0,
        holds: None,
    });
}

impl Model for LifecycleModel {
    type State = ModelState;
    type Action = Action;

    fn init_states(&self) -> Vec<ModelState> {
        vec![ModelState::initial(self.config.ops, self.config.waits)]
    }

    fn actions(&self, state: &ModelState, actions: &mut Vec<Action>) {
        // Every search of stateright (breadth- and depth-first, simulation,
        // path reconstruction, the Explorer) asks a state for its actions
        // before it asks for their successors: from here on, `next_state`
        // is about this state.
        SCRATCH.with(|scratch| scratch.borrow_mut().expanding += 1);
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
        // Most actions are refused: the successor is built in a buffer of
        // this thread, reused from call to call, so a refusal allocates
        // nothing.
        SCRATCH.with(|scratch| {
            let Scratch { ref mut next, ref mut out, ref mut spare, expanding, ref mut holds } = *scratch.borrow_mut();
            // After a refusal that changed nothing the buffer still holds the
            // state (property 10 checks that the machine changed nothing),
            // and the search asks for the next action of the same state: the
            // copy is skipped. The cheap comparison guards against a caller
            // that did not ask this state for its actions first.
            if *holds != Some(expanding) || !next.same_shape(state) {
                next.clone_from(state);
                *holds = Some(expanding);
            }
            debug_assert!(next.same_as(state), "the reused buffer does not hold the state");
            // A crash that reopens the state's own image restores what a
            // restart restores, and the restart is offered too: the crash
            // would only make the restart's successor again. (With witnesses
            // on, crash steps are kept for what they show.)
            if matches!(action, Action::Crash { .. })
                && self.config.restarts
                && !self.witnesses
                && self.crash_is_restart(&state.machine)
            {
                return None;
            }
            out.clear();
            let result = self.step_into(state, action, next, out);
            // A refusal that changed nothing is a self-loop: no new state.
            if result.is_err() && next.faults == state.faults && next.witnessed == 0 {
                return None;
            }
            *holds = None;
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
        match (self.all_properties, self.witnesses) {
            (true, _) => properties::invariants().into_iter().chain(properties::examples(self.config)).collect(),
            (false, true) => properties::examples(self.config),
            (false, false) => properties::invariants(),
        }
    }
}
