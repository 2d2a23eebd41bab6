//! The stateright model: the real machine, driven through every
//! interleaving of registry calls, with an environment that remembers what
//! it was told.

use std::sync::Arc;

use oplife_machine::{Lifecycle, Output, State};
use oplife_spec::{ErrorKind, Input, OperationKind, Table};
use stateright::{Model, Property};

use crate::action::{Action, op_inputs};
use crate::config::ModelConfig;
use crate::coverage::Coverage;
use crate::domain::Tiny;
use crate::forget::{Forget, blank_checked_captures};
use crate::observe::{observe, observe_restart};
use crate::properties;
use crate::state::{ModelState, fault, witness};

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
