//! Counterexamples: the shortest path to a violation, as numbered registry
//! calls with the state change each one made.

use std::collections::BTreeSet;

use oplife_machine::Output;
use oplife_spec::Table;
use stateright::{Checker, HasDiscoveries, Model};

use crate::action::Action;
use crate::config::ModelConfig;
use crate::domain::Tiny;
use crate::model::LifecycleModel;
use crate::state::{ModelState, fault};

/// One step of a counterexample: the registry call and what it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The call.
    pub call: String,
    /// The state change it made and the effects it returned.
    pub change: String,
}

/// The shortest path violating `property`, found by a single-threaded
/// breadth-first search without symmetry (so ids keep their names from step
/// to step), explained step by step. Empty if none is found.
pub fn shortest_counterexample(table: &Table, config: ModelConfig, property: &'static str) -> Vec<Step> {
    let model = LifecycleModel::new(table.clone(), config);
    let checker = model
        .clone()
        .checker()
        .threads(1)
        .finish_when(HasDiscoveries::AnyOf(BTreeSet::from([property])))
        .spawn_bfs()
        .join();
    match checker.discovery(property) {
        Some(path) => explain(&model, path.into_vec()),
        None => Vec::new(),
    }
}

/// Explains a path as numbered registry calls with their state changes.
pub fn explain(model: &LifecycleModel, path: Vec<(ModelState, Option<Action>)>) -> Vec<Step> {
    path.into_iter()
        .filter_map(|(state, action)| {
            let action = action?;
            let (next, result) = model.step(&state, action);
            let change = match result {
                Err(error) => format!("refused: {error}{}", describe_faults(next.faults & !state.faults)),
                Ok(outputs) => describe_change(&state, &next, &outputs),
            };
            Some(Step { call: action.to_string(), change })
        })
        .collect()
}

fn describe_faults(faults: u32) -> String {
    let names = [
        (fault::REJECTION_CHANGED_STATE, "the refusal changed the state"),
        (fault::TERMINAL_CHANGED, "a terminal op changed"),
        (fault::REGISTERED_AFTER_TERMINATION, "registered after owner termination"),
        (fault::WAIT_REPORT, "a wait report disagrees with what was seen"),
        (fault::WATCHER, "a watcher was resolved wrongly"),
        (fault::COLLECT, "collect did not hand over the retained records"),
        (fault::RETAINED_OVERFLOW, "more records retained than ops"),
        (fault::FEED_SEQUENCE, "a feed entry skipped or reused a sequence number"),
        (fault::FEED_ENTRY, "a terminal transition did not get exactly one feed entry"),
        (fault::FEED_OUTCOME, "a feed entry disagrees with the op's outcome"),
        (fault::RESTORE, "the restart lost or altered a record, or left a lost op unended"),
        (fault::ROLLBACK_TRACE, "the rollback left a trace: the registry is not as if the op was never registered"),
        (fault::ADMISSION, "the registration exceeded its caller's admission limit"),
        (fault::SOURCE, "the registration's source disagrees with its kind"),
        (fault::LOST_IN_CRASH, "a crash would lose this call: the journal does not replay it"),
        (fault::DROPPED, "an ending the table drops left a trace, or was not reported dropped"),
        (fault::KEPT, "the restart did not keep exactly what it must, or answered a request to keep wrongly"),
        (fault::CURSOR, "the cursor went back, passed the durable feed, or did not move as asked"),
    ];
    let hits: Vec<&str> = names.iter().filter(|(bit, _)| faults & bit != 0).map(|(_, n)| *n).collect();
    if hits.is_empty() { String::new() } else { format!("  !! {}", hits.join("; ")) }
}

fn describe_change(before: &ModelState, after: &ModelState, outputs: &[Output<Tiny>]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for id in 0..crate::config::MAX_OPS as u8 {
        let (a, b) = (before.machine.status(&id), after.machine.status(&id));
        if a != b {
            parts.push(format!("op{id}: {a} -> {b}"));
        }
    }
    if before.machine.phase() != after.machine.phase() {
        parts.push(format!("registry: {} -> {}", before.machine.phase(), after.machine.phase()));
    }
    if before.machine.active_count() != after.machine.active_count() {
        parts.push(format!("active {} -> {}", before.machine.active_count(), after.machine.active_count()));
    }
    let retained = |s: &ModelState| s.machine.retained().map(|i| format!("op{i}")).collect::<Vec<_>>().join(",");
    if retained(before) != retained(after) {
        parts.push(format!("retained [{}] -> [{}]", retained(before), retained(after)));
    }
    let feed = |s: &ModelState| {
        let entries: Vec<String> = s.machine.feed().entries().map(|e| format!("#{} op{}", e.seq, e.id)).collect();
        format!("[{}] up to #{}", entries.join(", "), s.machine.feed().watermark())
    };
    if feed(before) != feed(after) {
        parts.push(format!("feed {} -> {}", feed(before), feed(after)));
    }
    let effects: Vec<String> = outputs.iter().map(describe_output).collect();
    if !effects.is_empty() {
        parts.push(format!("effects: {}", effects.join(", ")));
    }
    if parts.is_empty() {
        parts.push("no change".to_owned());
    }
    format!("{}{}", parts.join("; "), describe_faults(after.faults & !before.faults))
}

fn describe_output(output: &Output<Tiny>) -> String {
    match output {
        Output::Registered { id, .. } => format!("Registered(op{id})"),
        Output::Started { id } => format!("Started(op{id})"),
        Output::Progress { id, .. } => format!("Progress(op{id})"),
        Output::PeerExposed { id } => format!("PeerExposed(op{id})"),
        Output::Ended { id, outcome, seq } => match seq {
            Some(seq) => format!("Ended(op{id}, {:?}, feed #{seq})", outcome.kind()),
            None => format!("Ended(op{id}, {:?}, no feed entry)", outcome.kind()),
        },
        Output::WatchPending { id } => format!("WatchPending(op{id})"),
        Output::WatcherReleased { id } => format!("WatcherReleased(op{id})"),
        Output::WatchResolved { id, outcome } => format!("WatchResolved(op{id}, {:?})", outcome.kind()),
        Output::WatchersNotified { id, count, outcome } => {
            format!("WatchersNotified(op{id} x{count}, {:?})", outcome.kind())
        }
        Output::WaitPending { wait } => format!("WaitPending(wait{wait})"),
        Output::WaitSatisfied(report) => {
            let outcomes: Vec<String> =
                report.outcomes.iter().map(|(id, o)| format!("op{id}={:?}", o.kind())).collect();
            format!("WaitSatisfied(wait{}: {})", report.wait, outcomes.join(" "))
        }
        Output::WaitCancelled { wait } => format!("WaitCancelled(wait{wait})"),
        Output::Acknowledged { id } => format!("Acknowledged(op{id})"),
        Output::Evicted { id } => format!("Evicted(op{id})"),
        Output::RolledBack { id } => format!("RolledBack(op{id})"),
        Output::Dropped { id } => format!("Dropped(op{id})"),
        Output::CursorMoved { to } => format!("CursorMoved({to})"),
        Output::Collected { id, outcome } => format!("Collected(op{id}, {:?})", outcome.kind()),
    }
}
