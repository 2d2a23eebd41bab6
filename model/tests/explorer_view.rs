//! What stateright's Explorer shows: each step named as the registry call
//! it is, with what it did (accepted with the machine's outputs, or refused
//! with its error), and each state as a reader thinks of it (`{:#?}`: the
//! operations as a table, the retained records, the waits, the feed and the
//! cursor). Followed here along a path to an eviction, as the Explorer
//! would be clicked through.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_model::{Action, LifecycleModel, ModelConfig, ModelState};
use stateright::Model;

/// The action whose name starts with `call` from `state`.
fn named(model: &LifecycleModel, state: &ModelState, call: &str) -> Action {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    actions
        .into_iter()
        .find(|action| model.format_action(action).starts_with(call))
        .unwrap_or_else(|| panic!("no action {call} from {state:#?}"))
}

/// Takes `call` from `state`: its step's description and the next state
/// (none for a refused call: it changes nothing, and the Explorer shows
/// the step without a state).
fn take(model: &LifecycleModel, state: &ModelState, call: &str) -> (String, Option<ModelState>) {
    let action = named(model, state, call);
    let step = model.format_step(state, action).unwrap();
    (step, model.next_state(state, action))
}

#[test]
fn a_path_to_an_eviction_reads_as_the_calls_and_the_registry_it_leaves() {
    let model = LifecycleModel::standard(ModelConfig::DEFAULT).for_explorer();
    let mut state = model.init_states().remove(0);
    let start = format!("{state:#?}");
    assert!(start.contains("registry: Open") && start.contains("(no operation)"), "{start}");
    for (call, did) in [
        ("register_operation(op0, BackgroundToolOp", "accepted: Registered"),
        ("provisioning_succeeded(op0)", "accepted: Started"),
        ("complete_operation(op0)", "accepted: Ended"),
        ("register_operation(op1, BackgroundToolOp", "accepted: Registered"),
        ("provisioning_succeeded(op1)", "accepted: Started"),
    ] {
        let (step, next) = take(&model, &state, call);
        assert!(step.starts_with(did), "{call}: {step}");
        state = next.unwrap();
    }
    let before = format!("{state:#?}");
    assert!(before.contains("retained for collection, oldest first: op0"), "{before}");
    assert!(before.contains("completion feed (watermark 1): #1 op0 Completed"), "{before}");
    // A second completion retains op1: past max_completed = 1, op0 is evicted.
    let (step, evicted) = take(&model, &state, "complete_operation(op1)");
    let evicted = evicted.unwrap();
    assert!(step.contains("Evicted { id: 0 }"), "{step}");
    // The step shows the registry it leaves, its feed numbers as minted.
    assert!(step.contains("\nop1 ") && !step.contains("\nop0 "), "{step}");
    assert!(step.contains("completion feed (watermark 2): #2 op1 Completed"), "{step}");
    let after = format!("{evicted:#?}");
    let rows: Vec<&str> =
        after.lines().filter(|line| line.starts_with("op") && !line.starts_with("operation")).collect();
    assert_eq!(rows.len(), 1, "op0 is gone: {after}");
    assert!(rows[0].starts_with("op1") && rows[0].contains("Completed"), "{after}");
    assert!(after.contains("#1 op1 Completed"), "{after}");
    // A refused call says why, with its retry class.
    let (refused, none) = take(&model, &evicted, "provisioning_succeeded(op1)");
    assert!(refused.starts_with("refused: InvalidTransition (Invalid)"), "{refused}");
    assert!(none.is_none(), "a refusal changes nothing");
    // `{:?}` stays every field, for failure messages.
    assert!(format!("{evicted:?}").starts_with("ModelState { ops: "));
}
