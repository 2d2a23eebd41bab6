//! The stateright model: the real machine, driven through every
//! interleaving of registry calls, with an environment that remembers what
//! it was told.

use std::sync::Arc;

use oplife_machine::{Lifecycle, Output, State};
use oplife_spec::{ErrorKind, Table};

use crate::action::Action;
use crate::config::ModelConfig;
use crate::coverage::Coverage;
use crate::domain::Tiny;
use crate::observe::{observe, observe_restart};
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
    /// Whether the model offers every property, `always` and `sometimes`
    /// (for the Explorer; witnesses are then on).
    pub all_properties: bool,
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
            all_properties: false,
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

    /// The same model with every property, `always` and `sometimes`, for
    /// stateright's Explorer.
    #[must_use]
    pub fn for_explorer(mut self) -> Self {
        self.witnesses = true;
        self.all_properties = true;
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
    pub(crate) fn step_into(
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
                    observe_restart(&self.config, state, next, cancel);
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
