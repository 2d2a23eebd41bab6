//! How much of the check a partial-order reduction could save, at best.
//!
//! Two depth-first searches of one configuration, without symmetry, each
//! keeping every state it reaches:
//! - plain: every action offered in every state is tried;
//! - with sleep sets and state caching (Godefroid): an action already
//!   explored from a state's parent, and independent of the action that led
//!   to the state, is not tried again. Two actions count as independent in
//!   a state when both are accepted and both orders reach the same state: a
//!   perfect oracle, which the model could not have cheaply, and whose own
//!   steps are not counted. A static oracle (from the table's effects) can
//!   only find fewer.
//!
//! Both reach the same states; the ratio of the successors each computed
//! bounds what the reduction could save, since successors are where the
//! check spends its time. Run with
//! `cargo run --release -p oplife-model --example sleep_sets -- two-waits`
//! (or `three-ops`, `three-ops-two-waits`; `--ops N` changes the ids).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use oplife_model::{Action, LifecycleModel, ModelConfig, ModelState};
use stateright::Model;

/// What one search did.
#[derive(Debug, Default)]
struct Counts {
    /// States reached.
    states: usize,
    /// Actions tried (refused ones included).
    tried: u64,
    /// Successors computed (accepted actions).
    successors: u64,
}

/// Tries every action offered in every state.
fn plain(model: &LifecycleModel) -> Counts {
    let mut counts = Counts::default();
    let mut seen = std::collections::HashSet::new();
    let mut stack = model.init_states();
    seen.extend(stack.iter().cloned());
    let mut actions = Vec::new();
    while let Some(state) = stack.pop() {
        actions.clear();
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            counts.tried += 1;
            if let Some(next) = model.next_state(&state, action) {
                counts.successors += 1;
                if seen.insert(next.clone()) {
                    stack.push(next);
                }
            }
        }
    }
    counts.states = seen.len();
    counts
}

/// The successor `action` makes in `state`, if `state` offers it and it is
/// accepted.
fn step(model: &LifecycleModel, state: &ModelState, action: Action) -> Option<ModelState> {
    let mut offered = Vec::new();
    model.actions(state, &mut offered);
    offered.contains(&action).then(|| model.next_state(state, action)).flatten()
}

/// Whether `t` and `u`, both accepted in a state (making `after_t` and
/// `after_u`), are each offered and accepted after the other, and reach
/// the same state in either order.
fn independent(model: &LifecycleModel, t: Action, after_t: &ModelState, u: Action, after_u: &ModelState) -> bool {
    match (step(model, after_t, u), step(model, after_u, t)) {
        (Some(tu), Some(ut)) => tu == ut,
        _ => false,
    }
}

/// Sleep sets with state caching: each state keeps the actions asleep when
/// it was last reached; reached again with fewer asleep, it tries those
/// that woke up.
fn with_sleep_sets(model: &LifecycleModel) -> Counts {
    let mut counts = Counts::default();
    let mut asleep_at: HashMap<ModelState, Vec<Action>> = HashMap::new();
    let mut stack: Vec<(ModelState, Vec<Action>)> = model.init_states().into_iter().map(|s| (s, Vec::new())).collect();
    while let Some((state, asleep)) = stack.pop() {
        // Reached again, a state tries the actions that were asleep then and
        // are awake now, and only those asleep both times stay asleep.
        let (to_try, asleep): (Vec<Action>, Vec<Action>) = match asleep_at.entry(state.clone()) {
            Entry::Occupied(mut kept) => {
                let woken: Vec<Action> = kept.get().iter().copied().filter(|a| !asleep.contains(a)).collect();
                kept.get_mut().retain(|a| asleep.contains(a));
                (woken, kept.get().clone())
            }
            Entry::Vacant(place) => {
                place.insert(asleep.clone());
                let mut offered = Vec::new();
                model.actions(&state, &mut offered);
                offered.retain(|a| !asleep.contains(a));
                (offered, asleep)
            }
        };
        // The successors of the actions asleep here (the oracle's, not counted).
        let sleeping: Vec<(Action, ModelState)> =
            asleep.iter().filter_map(|a| step(model, &state, *a).map(|next| (*a, next))).collect();
        let mut done: Vec<(Action, ModelState)> = Vec::new();
        let mut children = Vec::new();
        for t in to_try {
            counts.tried += 1;
            let Some(after_t) = model.next_state(&state, t) else { continue };
            counts.successors += 1;
            let child_asleep: Vec<Action> = sleeping
                .iter()
                .chain(&done)
                .filter(|(u, after_u)| independent(model, t, &after_t, *u, after_u))
                .map(|(u, _)| *u)
                .collect();
            children.push((after_t.clone(), child_asleep));
            done.push((t, after_t));
        }
        // The first action's successor is expanded first.
        stack.extend(children.into_iter().rev());
    }
    counts.states = asleep_at.len();
    counts
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config = match args.first().map(String::as_str) {
        Some("three-ops") => ModelConfig::THREE_OPS,
        Some("three-ops-two-waits") => ModelConfig::THREE_OPS_TWO_WAITS,
        _ => ModelConfig::TWO_WAITS,
    };
    if let Some(ops) = args.iter().position(|a| a == "--ops").and_then(|i| args.get(i + 1)?.parse().ok()) {
        config.ops = ops;
    }
    let model = LifecycleModel::standard(config);
    let (all, reduced) = (plain(&model), with_sleep_sets(&model));
    println!("plain:      {} states, {} actions tried, {} successors", all.states, all.tried, all.successors);
    println!(
        "sleep sets: {} states, {} actions tried, {} successors",
        reduced.states, reduced.tried, reduced.successors
    );
    println!(
        "sleep sets ÷ plain: actions tried {:.3}, successors {:.3}",
        reduced.tried as f64 / all.tried as f64,
        reduced.successors as f64 / all.successors as f64
    );
    if reduced.states != all.states {
        eprintln!("the searches reached different states");
        std::process::exit(1);
    }
}
