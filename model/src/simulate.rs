//! Seeded random walks over configurations the exhaustive search cannot
//! hold: every step checks every `always` property, a violation is shrunk
//! to a short call list, and a seed replays a run exactly.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use oplife_spec::{OperationKind, Table};
use stateright::{Expectation, Model};

use crate::action::Action;
use crate::config::ModelConfig;
use crate::explain::{Step, explain};
use crate::model::LifecycleModel;
use crate::state::ModelState;

/// The configuration random walks explore by default: six ids, three
/// pending waits, a watcher and a progress report per op, eviction, a
/// concurrency limit, restarts and crashes — beyond what an exhaustive
/// search holds.
pub const WIDE: ModelConfig = ModelConfig {
    ops: 6,
    max_completed: 2,
    max_concurrent: Some(4),
    waits: 3,
    watchers: 1,
    progress: 1,
    feed_retention: 2,
    restarts: true,
    crashes: true,
    kinds: &OperationKind::ALL,
    retention: true,
    cursors: true,
};

/// How long a simulation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// This many walks.
    Walks(u64),
    /// Walks until this much time has passed (or a violation).
    For(Duration),
}

/// What a simulation found.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The seed: the same seed, configuration and table replay the same walks.
    pub seed: u64,
    /// Walks made.
    pub walks: u64,
    /// Steps taken over all walks.
    pub steps: u64,
    /// Time taken.
    pub elapsed: Duration,
    /// The first property violated, the walk that violated it, and its
    /// call list shrunk.
    pub violation: Option<(&'static str, u64, Vec<Step>)>,
}

impl Simulation {
    /// Walks per second.
    pub fn walk_rate(&self) -> f64 {
        self.walks as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// SplitMix64: a small generator whose stream a seed fixes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The generator of walk number `walk` of a run from `seed`.
    fn for_walk(seed: u64, walk: u64) -> Self {
        Rng(seed ^ walk.wrapping_mul(0xa076_1d64_78bd_642f))
    }
}

/// What one random step of a walk did. It is returned and matched at once,
/// so the state is moved, never boxed.
#[allow(clippy::large_enum_variant)]
enum Tried {
    /// The state offers no action.
    Nothing,
    /// The call picked was refused without changing anything.
    Refused,
    /// The call picked was taken, making this state.
    Accepted(Action, ModelState),
}

/// Picks one of the actions `state` offers with `rng` and takes it
/// (`actions` is a buffer).
fn random_step(model: &LifecycleModel, state: &ModelState, rng: &mut Rng, actions: &mut Vec<Action>) -> Tried {
    actions.clear();
    model.actions(state, actions);
    let Some(&action) = actions.get((rng.next() % actions.len().max(1) as u64) as usize) else { return Tried::Nothing };
    match model.next_state(state, action) {
        Some(next) => Tried::Accepted(action, next),
        None => Tried::Refused,
    }
}

/// The first `always` property `state` violates.
fn violated(model: &LifecycleModel, state: &ModelState) -> Option<&'static str> {
    model
        .properties()
        .into_iter()
        .find(|p| p.expectation == Expectation::Always && !(p.condition)(model, state))
        .map(|p| p.name)
}

/// Replays `actions` from the initial state as a path: each state with the
/// action taken from it (refusals that change nothing are skipped, as the
/// search does), the last state with none.
fn replay(model: &LifecycleModel, actions: &[Action]) -> Vec<(ModelState, Option<Action>)> {
    let mut state = model.init_states().remove(0);
    let mut path = Vec::new();
    for action in actions {
        if let Some(next) = model.next_state(&state, *action) {
            path.push((state, Some(*action)));
            state = next;
        }
    }
    path.push((state, None));
    path
}

/// Whether `actions` replayed violates `property` at some point.
fn still_violates(model: &LifecycleModel, actions: &[Action], property: &'static str) -> bool {
    let mut state = model.init_states().remove(0);
    let condition = model.properties().into_iter().find(|p| p.name == property).map(|p| p.condition);
    let Some(condition) = condition else { return false };
    for action in actions {
        if let Some(next) = model.next_state(&state, *action) {
            state = next;
            if !condition(model, &state) {
                return true;
            }
        }
    }
    false
}

/// `actions` with every call removed that the violation does not need
/// (greedy, last to first, then again until nothing more goes).
fn shrink(model: &LifecycleModel, mut actions: Vec<Action>, property: &'static str) -> Vec<Action> {
    loop {
        let before = actions.len();
        let mut at = actions.len();
        while at > 0 {
            at -= 1;
            let mut fewer = actions.clone();
            fewer.remove(at);
            if still_violates(model, &fewer, property) {
                actions = fewer;
            }
        }
        if actions.len() == before {
            return actions;
        }
    }
}

/// Random walks of `table` under `config` from `seed`, each at most
/// `max_steps` long, within `budget`. Symmetry is off, so ids keep their
/// names and a violation's call list reads as it ran.
pub fn simulate(table: Table, config: ModelConfig, seed: u64, budget: Budget, max_steps: usize) -> Simulation {
    let model = LifecycleModel::new(table, config);
    let started = Instant::now();
    let (mut walks, mut steps) = (0u64, 0u64);
    let mut actions = Vec::new();
    loop {
        let done = match budget {
            Budget::Walks(n) => walks >= n,
            Budget::For(limit) => started.elapsed() >= limit,
        };
        if done {
            break;
        }
        let mut rng = Rng::for_walk(seed, walks);
        let mut state = model.init_states().remove(0);
        let mut taken = Vec::new();
        for _ in 0..max_steps {
            let (action, next) = match random_step(&model, &state, &mut rng, &mut actions) {
                Tried::Nothing => break,
                Tried::Refused => {
                    steps += 1;
                    continue;
                }
                Tried::Accepted(action, next) => (action, next),
            };
            steps += 1;
            taken.push(action);
            state = next;
            if let Some(property) = violated(&model, &state) {
                let shrunk = shrink(&model, taken, property);
                let explained = explain(&model, replay(&model, &shrunk));
                return Simulation {
                    seed,
                    walks: walks + 1,
                    steps,
                    elapsed: started.elapsed(),
                    violation: Some((property, walks, explained)),
                };
            }
        }
        walks += 1;
    }
    Simulation { seed, walks, steps, elapsed: started.elapsed(), violation: None }
}

/// Looks for an example of each `sometimes` property of `model` (witnesses
/// on) named in `wanted` by seeded random walks: `walks` walks of at most
/// `max_steps` calls from `seed`, stopping once every one is found. Returns
/// the names found. A walk only visits reachable states, so what it finds
/// is an example; what it misses may still exist (the exhaustive search
/// decides that).
pub fn find_examples(
    model: &LifecycleModel,
    wanted: &BTreeSet<&'static str>,
    seed: u64,
    walks: u64,
    max_steps: usize,
) -> BTreeSet<&'static str> {
    let properties: Vec<_> = model
        .properties()
        .into_iter()
        .filter(|p| p.expectation == Expectation::Sometimes && wanted.contains(p.name))
        .collect();
    let mut found = BTreeSet::new();
    let mut actions = Vec::new();
    for walk in 0..walks {
        if found.len() == properties.len() {
            break;
        }
        let mut rng = Rng::for_walk(seed, walk);
        let mut state = model.init_states().remove(0);
        for _ in 0..max_steps {
            match random_step(model, &state, &mut rng, &mut actions) {
                Tried::Nothing => break,
                Tried::Refused => continue,
                Tried::Accepted(_, next) => state = next,
            }
            for property in &properties {
                if !found.contains(property.name) && (property.condition)(model, &state) {
                    found.insert(property.name);
                }
            }
        }
    }
    found
}
