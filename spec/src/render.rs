//! Renderers for review: the rules as Markdown and a Mermaid state diagram.
//! The status × input matrix is rendered by running the compiled machine on
//! every cell (see `oplife-machine`'s matrix test), so it shows behaviour,
//! not a second rendering of these rules; [`cell`] says what the table
//! expects of one cell, for comparison.

use std::fmt::Write as _;

use crate::table::{Allowed, DROPPED_CHAIN, Rule, TERMINAL_CHAIN, Table, Target};
use crate::vocab::{Effect, Ending, Input, OnRestore, Status};

/// The name under which the renderers print [`TERMINAL_CHAIN`].
pub const TERMINAL_CHAIN_NAME: &str = "terminal chain";

fn from_cell(rule: &Rule) -> String {
    match &rule.from {
        Allowed::Statuses(set) => set.to_string(),
        Allowed::Phases(phases) => {
            let names: Vec<String> = phases.iter().map(|p| format!("registry {p}")).collect();
            names.join(", ")
        }
    }
}

fn target_cell(target: Target) -> String {
    match target {
        Target::Unchanged => "unchanged".to_owned(),
        Target::Status(Status::Absent) => "Absent (forgotten)".to_owned(),
        Target::Status(s) => s.to_string(),
        Target::Phase(p) => format!("registry {p}"),
    }
}

fn guards_cell(rule: &Rule) -> String {
    if rule.guards.is_empty() {
        return "—".to_owned();
    }
    let parts: Vec<String> = rule.guards.iter().map(|g| format!("{g} (else {})", g.error())).collect();
    parts.join("; ")
}

/// The effects of a row, in order, with the terminal chain printed by its
/// name wherever a row runs it exactly.
pub fn effects(list: &[Effect]) -> String {
    if list.is_empty() {
        return "—".to_owned();
    }
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = list;
    while let Some(first) = rest.first() {
        if rest.starts_with(&TERMINAL_CHAIN) {
            parts.push(TERMINAL_CHAIN_NAME);
            rest = &rest[TERMINAL_CHAIN.len()..];
        } else {
            parts.push(first.name());
            rest = &rest[1..];
        }
    }
    parts.join(" → ")
}

/// The rules as a Markdown document: one table row per rule, the terminal
/// chain once, then the refusals and the outcome variant of each terminal
/// status.
pub fn markdown(table: &Table) -> String {
    let mut out = String::new();
    out.push_str("# Operation lifecycle: transition table\n\n");
    out.push_str("Generated from `Table::standard()` by `oplife_spec::render::markdown`; do not edit.\n");
    out.push_str("`SPEC.md` explains the rules; the machine's behaviour on every status and input is\n");
    out.push_str("the snapshot `model/tests/snapshots/matrix__machine_matrix.snap`.\n\n");
    out.push_str("| # | input | allowed from | guards (error when false) | goes to | effects, in order |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for (id, rule) in table.rows() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            id.0 + 1,
            rule.input,
            from_cell(rule),
            guards_cell(rule),
            target_cell(rule.target),
            effects(&rule.effects)
        );
    }
    let _ = write!(
        out,
        "\n## The {TERMINAL_CHAIN_NAME}\n\nEvery row that says «{TERMINAL_CHAIN_NAME}» runs these effects, in this order:\n\n"
    );
    for effect in TERMINAL_CHAIN {
        let _ = writeln!(out, "- {effect}");
    }
    out.push_str("\n## Refusals\n\nAn input from a status that no row allows gets the first matching error below, otherwise `InvalidTransition`.\n\n");
    out.push_str("| inputs | from | error |\n|---|---|---|\n");
    for refusal in &table.refusals {
        let inputs: Vec<&str> = refusal.inputs.iter().map(|i| i.name()).collect();
        let _ = writeln!(out, "| {} | {} | {} |", inputs.join(", "), refusal.from, refusal.error);
    }
    out.push_str("\n## Process-local calls\n\nA durable registry journals every accepted call except these, whose rows touch only pending\nwatchers and waits (they end with the process); `restore` and `resume` rebuild a registry when\na store is opened, and `seal` answers a store that has a newer owner.\n\n");
    for input in &table.process_local {
        let _ = writeln!(out, "- {}", input.name());
    }
    out.push_str("\n## Gates\n\nIn these phases every input but those admitted is refused with the error given, whatever the\noperation's status, before any row is looked at.\n\n| phase | admits | error |\n|---|---|---|\n");
    for gate in &table.gates {
        let admits: Vec<&str> = gate.admits.iter().map(|i| i.name()).collect();
        let _ = writeln!(out, "| {} | {} | {} |", gate.phase, admits.join(", "), gate.error);
    }
    out.push_str("\n## Retries\n\nA refused call classifies as a retry by the first row below for its input and the operation's status:\na *repeat* (what it asks for already happened: safe to treat as success), a *conflict* (the operation\nended another way); any other refusal is *invalid*.\n\n| input | from | classified as |\n|---|---|---|\n");
    for retry in &table.retries {
        let _ = writeln!(out, "| {} | {} | {} |", retry.input.name(), retry.from, retry.rule);
    }
    out.push_str("\n## Terminal outcomes\n\n| status | outcome variant |\n|---|---|\n");
    for (status, kind) in &table.outcomes {
        let _ = writeln!(out, "| {status} | {kind:?} |");
    }
    out.push_str("\n## Public results\n\nWhat a caller is told of an operation's result, by its status.\n\n| statuses | public result |\n|---|---|\n");
    for (statuses, result) in &table.public_results {
        let _ = writeln!(out, "| {statuses} | {result} |");
    }
    out.push_str(
        "\n## Kinds\n\nWhat each kind's ending leaves (a kind that drops it runs the dropped chain instead of the terminal chain, and is never journaled or imaged), what a restore does with a running one, and whether its completion-feed entry wakes its owner.\n\n| kind | ending | running on restore | wakes owner |\n|---|---|---|---|\n",
    );
    for rule in &table.kinds {
        let ending = match rule.ending {
            Ending::Kept => "kept",
            Ending::Dropped => "dropped",
        };
        let restore = match rule.on_restore {
            OnRestore::EndsLost => "ends lost",
            OnRestore::KeepsRunning => "keeps running",
        };
        let wakes = if rule.wakes_owner { "yes" } else { "no" };
        let _ = writeln!(out, "| `{:?}` | {ending} | {restore} | {wakes} |", rule.kind);
    }
    let dropped: Vec<&str> = DROPPED_CHAIN.iter().map(|e| e.name()).collect();
    let _ = writeln!(out, "\nThe dropped chain: {}.", dropped.join(", "));
    out
}

/// A Mermaid state diagram of every status-changing rule. `[*]` stands for
/// `Absent`: registration leaves it, eviction and collection return to it.
pub fn mermaid(table: &Table) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    let node = |s: Status| if s == Status::Absent { "[*]".to_owned() } else { s.to_string() };
    for rule in &table.rows {
        let (Allowed::Statuses(from), Target::Status(target)) = (&rule.from, rule.target) else {
            continue;
        };
        for status in from.iter() {
            if status == target {
                continue;
            }
            let _ = writeln!(out, "    {} --> {} : {}", node(status), node(target), rule.input.name());
        }
    }
    out
}

/// What the table says `input` does from `status`: the target and effects
/// of each row that may answer it (with the errors of its guards), or the
/// exact error it is refused with.
pub fn cell(table: &Table, input: Input, status: Status) -> String {
    let rows: Vec<&Rule> = table.rows.iter().filter(|r| r.input == input && r.allows_status(status)).collect();
    if rows.is_empty() {
        return format!("error {}", table.refusal(input, status));
    }
    let parts: Vec<String> = rows
        .iter()
        .map(|rule| {
            let mut text = format!("→ {}; {}", target_cell(rule.target), effects(&rule.effects));
            for guard in &rule.guards {
                let _ = write!(text, "; error {} if not «{guard}»", guard.error());
            }
            text
        })
        .collect();
    parts.join(" / ")
}
