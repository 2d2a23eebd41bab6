//! Running the checker and reporting what it found.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use std::sync::Arc;
use std::time::{Duration, Instant};

use oplife_spec::{Input, RowId, Table};
use stateright::{Expectation, Model};

use crate::config::ModelConfig;
use crate::coverage::Coverage;
use crate::engine::{
    Progress, collision_bound, explore, explore_depth_first, explore_for_examples, explore_until_violated,
    report_progress,
};
pub use crate::explain::{Step, explain, shortest_counterexample};
use crate::model::LifecycleModel;
use crate::mutants::Mutant;
use crate::properties::example_witnesses;
use crate::simulate;
use crate::state::witness;

/// The random walks that look for examples before the search does: a fixed
/// seed, so a check reports the same way every run.
const EXAMPLE_SEED: u64 = 0x6578_616d_706c_6573;
/// How long each of those walks is, at most.
const EXAMPLE_STEPS: usize = 200;

/// How to run one check.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// What universe to explore.
    pub config: ModelConfig,
    /// Checker threads.
    pub threads: usize,
    /// Whether to reduce by symmetry over operation ids.
    pub symmetry: bool,
    /// Whether to print progress (states, states per second, depth) to
    /// stderr every second.
    pub progress: bool,
    /// How many seeded random walks look for an example of each
    /// `sometimes` property before a breadth-first search looks for the
    /// rest (0: the search alone). Walks find them in milliseconds where the
    /// search, whose witness bits multiply the states, can outgrow memory.
    pub example_walks: u64,
    /// Whether the exhaustive search goes level by level instead of depth
    /// first. Both reach and check the same states. Depth first keeps only
    /// the states waiting along the paths its threads follow (in
    /// `--deep --waits 1`, a peak of 2.5 instead of 4.3 GiB); breadth first
    /// reports the depth of the farthest state.
    pub breadth_first: bool,
}

impl CheckOptions {
    /// Exhaustive and depth first, two threads, no symmetry, no progress
    /// output, 400 walks for examples.
    pub fn new(config: ModelConfig) -> Self {
        CheckOptions { config, threads: 2, symmetry: false, progress: false, example_walks: 400, breadth_first: false }
    }
}

/// What happened to one property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyResult {
    /// Its name.
    pub name: &'static str,
    /// `always` or `sometimes`.
    pub expectation: Expectation,
    /// For `always`: it held everywhere. For `sometimes`: an example was
    /// found.
    pub ok: bool,
}

/// The outcome of one check.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// States generated, duplicates included.
    pub total_states: usize,
    /// Unique states (equivalence classes with symmetry).
    pub unique_states: usize,
    /// Breadth first: the number of levels (the shortest path to the
    /// farthest state, plus one). Depth first: the longest path a thread
    /// followed, which says nothing of the shortest ones.
    pub max_depth: usize,
    /// Wall-clock time of the exploration.
    pub duration: Duration,
    /// The threads that explored.
    pub threads: usize,
    /// Whether the search went level by level (see
    /// [`CheckOptions::breadth_first`]).
    pub breadth_first: bool,
    /// Wall-clock time of the search for an example of each `sometimes`
    /// property.
    pub examples_duration: Duration,
    /// Every property with its result.
    pub properties: Vec<PropertyResult>,
    /// Table rows that never fired, with their rendering.
    pub rows_never_fired: Vec<(RowId, String)>,
    /// Inputs never called (cascades are never called: they fire from
    /// other rows).
    pub inputs_never_called: Vec<Input>,
    /// `sometimes` properties this configuration cannot reach, with why
    /// (see [`crate::verdict`]); they are not among `properties`.
    pub not_applicable: Vec<(&'static str, String)>,
    /// Rows this configuration cannot fire, with their rendering and why;
    /// they are not among `rows_never_fired`.
    pub rows_not_applicable: Vec<(RowId, String, String)>,
    /// The first violated `always` property and its shortest counterexample.
    pub counterexample: Option<(&'static str, Vec<Step>)>,
}

impl CheckReport {
    /// The `always` properties that were violated.
    pub fn violations(&self) -> Vec<&'static str> {
        self.properties.iter().filter(|p| p.expectation == Expectation::Always && !p.ok).map(|p| p.name).collect()
    }

    /// The `sometimes` properties never reached.
    pub fn unreached(&self) -> Vec<&'static str> {
        self.properties.iter().filter(|p| p.expectation == Expectation::Sometimes && !p.ok).map(|p| p.name).collect()
    }

    /// Unique states per second.
    pub fn states_per_second(&self) -> f64 {
        self.unique_states as f64 / self.duration.as_secs_f64().max(1e-9)
    }

    /// Unique states per second and per exploring thread.
    pub fn states_per_second_per_thread(&self) -> f64 {
        self.states_per_second() / self.threads.max(1) as f64
    }

    /// Whether everything held, every example was found and every row fired.
    pub fn passed(&self) -> bool {
        self.held() && self.rows_never_fired.is_empty()
    }

    /// Whether every invariant held and every example was found (row
    /// coverage aside).
    pub fn held(&self) -> bool {
        self.violations().is_empty() && self.unreached().is_empty()
    }

    /// The human-readable report: figures, properties, coverage and any
    /// counterexample.
    pub fn render(&self) -> String {
        format!("{}{}", self.render_properties(), self.render_coverage())
    }

    /// Figures, properties and any counterexample.
    pub fn render_properties(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "unique states: {}  (generated {})\n{}{}\ntime:          {:.2} s  ({:.0} unique states/s on {} thread{}, \
             {:.0} per thread), examples {:.2} s",
            self.unique_states,
            self.total_states,
            if self.breadth_first { "max depth:     " } else { "longest path:  " },
            self.max_depth,
            self.duration.as_secs_f64(),
            self.states_per_second(),
            self.threads.max(1),
            if self.threads > 1 { "s" } else { "" },
            self.states_per_second_per_thread(),
            self.examples_duration.as_secs_f64()
        );
        let _ = writeln!(
            s,
            "fingerprints:  a collision could hide a state with probability at most n²/2⁶⁵ = {:.1e}",
            collision_bound(self.unique_states)
        );
        s.push_str("properties:\n");
        for p in &self.properties {
            let verdict = match (&p.expectation, p.ok) {
                (&Expectation::Sometimes, true) => "reached",
                (&Expectation::Sometimes, false) => "NEVER REACHED",
                (_, true) => "held",
                (_, false) => "VIOLATED",
            };
            let _ = writeln!(s, "  {verdict:>13}  {}", p.name);
        }
        for (name, why) in &self.not_applicable {
            let _ = writeln!(s, "  not applicable here  {name} ({why})");
        }
        if let Some((property, steps)) = &self.counterexample {
            let _ = writeln!(s, "shortest counterexample to \"{property}\":");
            for (i, step) in steps.iter().enumerate() {
                let _ = writeln!(s, "  {}. {}\n       {}", i + 1, step.call, step.change);
            }
        }
        s
    }

    /// The row coverage.
    pub fn render_coverage(&self) -> String {
        let mut s = String::new();
        match (self.rows_never_fired.is_empty(), self.rows_not_applicable.is_empty()) {
            (true, true) => s.push_str("row coverage: every row fired\n"),
            (true, false) => s.push_str("row coverage: every row this configuration can fire fired\n"),
            (false, _) => {
                s.push_str("row coverage: rows never fired:\n");
                for (row, text) in &self.rows_never_fired {
                    let _ = writeln!(s, "  {row}: {text}");
                }
            }
        }
        for (row, text, why) in &self.rows_not_applicable {
            let _ = writeln!(s, "  not applicable here  {row}: {text} ({why})");
        }
        s
    }
}

/// Explores `table` under `options` exhaustively for the `always`
/// properties, then searches (breadth-first, stopping once all are found)
/// for an example of each `sometimes` property, and reports both.
pub fn run(table: Table, options: CheckOptions) -> CheckReport {
    let coverage = Arc::new(Coverage::new(table.rows.len()));
    run_with_coverage(table, options, coverage)
}

/// Checks `table` under every configuration of `suite` in turn, with row
/// coverage accumulated across them: the last report's
/// `rows_never_fired` is what no configuration fired.
pub fn run_suite(
    table: &Table,
    suite: &[(&'static str, ModelConfig)],
    base: CheckOptions,
) -> Vec<(&'static str, CheckReport)> {
    let coverage = Arc::new(Coverage::new(table.rows.len()));
    suite
        .iter()
        .map(|(name, config)| {
            if base.progress {
                eprintln!("[{name}] {config}");
            }
            (*name, run_with_coverage(table.clone(), CheckOptions { config: *config, ..base }, coverage.clone()))
        })
        .collect()
}

/// As [`run`], recording row coverage into `coverage`.
pub fn run_with_coverage(table: Table, options: CheckOptions, coverage: Arc<Coverage>) -> CheckReport {
    let model = LifecycleModel::new(table.clone(), options.config)
        .with_symmetry(options.symmetry)
        .with_coverage(coverage.clone());
    let invariants = model.properties();
    let started = Instant::now();
    let progress = Progress::default();
    let (explored, duration) = std::thread::scope(|scope| {
        let reporter = options.progress.then(|| scope.spawn(|| report_progress(&progress)));
        let explored = match options.breadth_first {
            true => explore(&model, options.threads.max(1), &progress),
            false => explore_depth_first(&model, options.threads.max(1), &progress),
        };
        let duration = started.elapsed();
        // `done` is set: the reporter stops now, not at its next tick (it
        // used to add up to 100 ms to every configuration).
        if let Some(reporter) = &reporter {
            reporter.thread().unpark();
        }
        (explored, duration)
    });
    let mut results: Vec<PropertyResult> = invariants
        .iter()
        .map(|p| PropertyResult {
            name: p.name,
            expectation: p.expectation.clone(),
            ok: !explored.violated.contains(p.name),
        })
        .collect();

    let examples_started = Instant::now();
    // The exploration took every step of every reachable state (but those
    // it skipped, whose witnesses it knows) and recorded what each showed:
    // an example a step shows is found there, or shown by no step of this
    // configuration, unless a skipped step may have shown it.
    let shown = model.shown.bits();
    let mut found: BTreeSet<&'static str> =
        example_witnesses().filter(|(_, bit)| shown & bit != 0).map(|(name, _)| name).collect();
    let decided_by_steps = |bit: u32| match witness::REMEMBERED.iter().find(|(remembered, _)| *remembered == bit) {
        Some((_, left_by)) => shown & left_by == 0,
        None => true,
    };
    let undecided: BTreeSet<&'static str> = example_witnesses()
        .filter(|(name, bit)| !(found.contains(name) || !model.shown.may_hide(*bit) && decided_by_steps(*bit)))
        .map(|(name, _)| name)
        .collect();
    let examples_model = model.with_witnesses();
    let examples = examples_model.properties();
    // Random walks find most of the others at once; a breadth-first search
    // with witnesses (whose bits multiply the states) looks for the rest, so
    // that an example is only reported missing when no reachable state
    // shows it.
    found.extend(simulate::find_examples(
        &examples_model,
        &undecided,
        EXAMPLE_SEED,
        options.example_walks,
        EXAMPLE_STEPS,
    ));
    let rest: BTreeSet<&'static str> = undecided.difference(&found).copied().collect();
    if !rest.is_empty() {
        let searched = explore_for_examples(&examples_model, &rest, options.threads.max(1), &Progress::default());
        found.extend(rest.into_iter().filter(|name| searched.reached.contains(name)));
    }
    let examples_duration = examples_started.elapsed();
    results.extend(examples.iter().map(|p| PropertyResult {
        name: p.name,
        expectation: p.expectation.clone(),
        ok: found.contains(p.name),
    }));

    let rows_never_fired = coverage
        .rows_never_fired()
        .into_iter()
        .map(|row| (row, table.row(row).map(ToString::to_string).unwrap_or_default()))
        .collect();
    let inputs_never_called = Input::ALL.into_iter().filter(|input| !coverage.called(*input)).collect();
    let first_violation = results.iter().find(|p| p.expectation == Expectation::Always && !p.ok).map(|p| p.name);
    let counterexample = first_violation.map(|name| (name, shortest_counterexample(&table, options.config, name)));
    CheckReport {
        total_states: explored.generated,
        unique_states: explored.unique,
        max_depth: explored.depth,
        duration,
        threads: options.threads.max(1),
        breadth_first: options.breadth_first,
        examples_duration,
        properties: results,
        rows_never_fired,
        inputs_never_called,
        not_applicable: Vec::new(),
        rows_not_applicable: Vec::new(),
        counterexample,
    }
}

/// What checking one mutant found.
#[derive(Debug, Clone)]
pub struct MutantVerdict {
    /// The mutant.
    pub mutant: Mutant,
    /// The `always` properties found violated (empty: the mutant survived).
    pub caught_by: Vec<&'static str>,
    /// Unique states explored until it was caught.
    pub unique_states: usize,
}

/// Checks one mutant breadth-first, stopping at the first state that
/// violates a property: the verdict names every property that state
/// violates.
pub fn check_mutant(mutant: &Mutant, config: ModelConfig, threads: usize, symmetry: bool) -> MutantVerdict {
    let model = LifecycleModel::new(mutant.table(), config).with_symmetry(symmetry);
    let explored = explore_until_violated(&model, threads, &Progress::default());
    let caught_by = model
        .properties()
        .iter()
        .filter(|p| p.expectation == Expectation::Always && explored.violated.contains(p.name))
        .map(|p| p.name)
        .collect();
    MutantVerdict { mutant: *mutant, caught_by, unique_states: explored.unique }
}

/// Checks every mutant of `catalogue` under each configuration in turn
/// until one catches it, printing one line each to `log` in catalogue
/// order. Mutants are checked `threads` at a time, each by a one-thread
/// search: a mutant is caught within a few thousand states, where a second
/// thread per search gains little.
pub fn check_mutants(
    catalogue: &[Mutant],
    configs: &[ModelConfig],
    threads: usize,
    symmetry: bool,
    log: &mut dyn std::io::Write,
) -> Vec<MutantVerdict> {
    let check = |m: &Mutant| {
        let mut verdict = MutantVerdict { mutant: *m, caught_by: Vec::new(), unique_states: 0 };
        for config in configs {
            verdict = check_mutant(m, *config, 1, symmetry);
            if !verdict.caught_by.is_empty() {
                break;
            }
        }
        verdict
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: std::sync::Mutex<Vec<Option<MutantVerdict>>> = std::sync::Mutex::new(vec![None; catalogue.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(mutant) = catalogue.get(i) else { break };
                    let verdict = check(mutant);
                    if let Ok(mut done) = done.lock()
                        && let Some(slot) = done.get_mut(i)
                    {
                        *slot = Some(verdict);
                    }
                }
            });
        }
    });
    let done = done.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    catalogue
        .iter()
        .zip(done)
        .map(|(m, verdict)| {
            // A worker that failed to record its verdict leaves the mutant
            // uncaught: it is checked again here rather than passed.
            let verdict = verdict.unwrap_or_else(|| check(m));
            let status =
                if verdict.caught_by.is_empty() { "SURVIVED".to_owned() } else { verdict.caught_by.join(", ") };
            let _ = writeln!(log, "  {:<34} {status}", m.name);
            let _ = log.flush();
            verdict
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(unique_states: usize, seconds: u64, threads: usize) -> CheckReport {
        CheckReport {
            total_states: unique_states * 3,
            unique_states,
            max_depth: 7,
            duration: Duration::from_secs(seconds),
            threads,
            breadth_first: false,
            examples_duration: Duration::ZERO,
            properties: Vec::new(),
            rows_never_fired: Vec::new(),
            inputs_never_called: Vec::new(),
            not_applicable: Vec::new(),
            rows_not_applicable: Vec::new(),
            counterexample: None,
        }
    }

    #[test]
    fn the_report_gives_the_rate_per_thread_the_goal_is_stated_in() {
        let two = report(300_000, 2, 2);
        assert_eq!(two.states_per_second(), 150_000.0);
        assert_eq!(two.states_per_second_per_thread(), 75_000.0);
        assert!(two.render().contains("(150000 unique states/s on 2 threads, 75000 per thread)"), "{}", two.render());
        let one = report(300_000, 2, 1);
        assert_eq!(one.states_per_second_per_thread(), 150_000.0);
        assert!(one.render().contains("(150000 unique states/s on 1 thread, 150000 per thread)"), "{}", one.render());
    }
}
