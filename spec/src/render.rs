//! Renderers for review: the rules as Markdown, a Mermaid state diagram, and
//! the full status x input matrix.

use std::fmt::Write as _;

use crate::table::{From, Rule, Table, Target};
use crate::vocab::{Input, Phase, Scope, Status};

fn from_cell(rule: &Rule) -> String {
    match &rule.from {
        From::Statuses(set) => set.to_string(),
        From::Phases(phases) => {
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

fn effects_cell(rule: &Rule) -> String {
    if rule.effects.is_empty() {
        return "—".to_owned();
    }
    let parts: Vec<&str> = rule.effects.iter().map(|e| e.name()).collect();
    parts.join(" → ")
}

/// The rules as a Markdown document: one table row per rule, then the
/// refusals and the outcome variant of each terminal status.
pub fn markdown(table: &Table) -> String {
    let mut out = String::new();
    out.push_str("# Operation lifecycle: transition table\n\n");
    out.push_str("Generated from `Table::standard()` by `oplife_spec::render::markdown`; do not edit.\n\n");
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
            effects_cell(rule)
        );
    }
    out.push_str("\n## Refusals\n\nAn input from a status that no row allows gets the first matching error below, otherwise `InvalidTransition`.\n\n");
    out.push_str("| inputs | from | error |\n|---|---|---|\n");
    for refusal in &table.refusals {
        let inputs: Vec<&str> = refusal.inputs.iter().map(|i| i.name()).collect();
        let _ = writeln!(out, "| {} | {} | {} |", inputs.join(", "), refusal.from, refusal.error);
    }
    out.push_str("\n## Terminal outcomes\n\n| status | outcome variant |\n|---|---|\n");
    for (status, kind) in &table.outcomes {
        let _ = writeln!(out, "| {status} | {kind:?} |");
    }
    out
}

/// A Mermaid state diagram of every status-changing rule. `[*]` stands for
/// `Absent`: registration leaves it, eviction and collection return to it.
pub fn mermaid(table: &Table) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    let node = |s: Status| if s == Status::Absent { "[*]".to_owned() } else { s.to_string() };
    for rule in &table.rows {
        let (From::Statuses(from), Target::Status(target)) = (&rule.from, rule.target) else {
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

/// What `input` does from `status` under `table`: the target and effects of
/// the row that answers it (with the errors of its guards), or the exact
/// error it is refused with.
pub fn cell(table: &Table, input: Input, status: Status) -> String {
    let rows: Vec<&Rule> = table.rows.iter().filter(|r| r.input == input && r.allows_status(status)).collect();
    describe(rows, || table.refusal(input, status).to_string())
}

fn phase_cell(table: &Table, input: Input, phase: Phase) -> String {
    let rows: Vec<&Rule> = table.rows.iter().filter(|r| r.input == input && r.allows_phase(phase)).collect();
    describe(rows, || "InvalidTransition".to_owned())
}

fn describe(rows: Vec<&Rule>, refusal: impl FnOnce() -> String) -> String {
    if rows.is_empty() {
        return format!("error {}", refusal());
    }
    let parts: Vec<String> = rows
        .iter()
        .map(|rule| {
            let mut text = format!("→ {}; {}", target_cell(rule.target), effects_cell(rule));
            for guard in &rule.guards {
                let _ = write!(text, "; error {} if not «{guard}»", guard.error());
            }
            text
        })
        .collect();
    parts.join(" / ")
}

/// The full matrix: for every status and every per-operation input, and for
/// every registry phase and every registry input, what happens.
pub fn matrix(table: &Table) -> String {
    let mut out = String::from("| status | input | result |\n|---|---|---|\n");
    for status in Status::ALL {
        for input in Input::ALL.into_iter().filter(|i| i.scope() != Scope::Registry) {
            let _ = writeln!(out, "| {status} | {input} | {} |", cell(table, input, status));
        }
    }
    out.push_str("\n| registry phase | input | result |\n|---|---|---|\n");
    for phase in Phase::ALL {
        for input in Input::ALL.into_iter().filter(|i| i.scope() == Scope::Registry) {
            let _ = writeln!(out, "| {phase} | {input} | {} |", phase_cell(table, input, phase));
        }
    }
    out
}
