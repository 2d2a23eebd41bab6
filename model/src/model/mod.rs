//! The stateright model: the real machine, driven through every
//! interleaving of registry calls, with an environment that remembers what
//! it was told.
//!
//! - `step.rs`: one step, and what the environment checks of it;
//! - `durable.rs`: what a durable registry reopens after a crash;
//! - `expand.rs`: the successors of a state, built in reused buffers;
//! - `explored.rs`: what stateright explores (`impl Model`).

use std::sync::Arc;

use oplife_machine::Lifecycle;
use oplife_spec::Table;

use crate::config::ModelConfig;
use crate::coverage::{Coverage, Shown};

mod durable;
mod expand;
mod explored;
mod step;

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
    /// What the steps of this model showed while witnesses were off.
    pub shown: Arc<Shown>,
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
            shown: Arc::default(),
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
    pub fn symmetric(self) -> Self {
        self.with_symmetry(true)
    }

    /// The same model with symmetry reduction over operation ids when `on`
    /// (as a check's options say).
    #[must_use]
    pub fn with_symmetry(mut self, on: bool) -> Self {
        self.symmetric = on;
        self
    }

    /// The model of the shipped table.
    pub fn standard(config: ModelConfig) -> Self {
        Self::new(Table::standard(), config)
    }
}
