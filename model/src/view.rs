//! A model state as a reader thinks of it: what stateright's Explorer shows
//! of a state (its `{:#?}`). The registry's phase; its operations as a
//! table (id, kind, status, pending watchers, pending waits on it,
//! outcome); the terminal records retained for collection; the pending
//! waits with what each has seen; the completion feed with its sequence
//! numbers; and the consumer's cursor.

use std::fmt;

use oplife_machine::Operation;

use crate::domain::Tiny;
use crate::state::ModelState;

impl std::fmt::Debug for ModelState {
    /// `{:?}`: every field. `{:#?}`, what stateright's Explorer shows of a
    /// state: the state as a reader thinks of it (operations as a table,
    /// the pending waits, the feed and the cursor).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if f.alternate() {
            return render(self, f);
        }
        let ModelState {
            ops,
            wait_slots,
            machine,
            kinds,
            completion,
            watchers,
            waits,
            fenced,
            cursor,
            faults,
            witnessed,
        } = self;
        f.debug_struct("ModelState")
            .field("ops", ops)
            .field("wait_slots", wait_slots)
            .field("machine", machine)
            .field("kinds", kinds)
            .field("completion", completion)
            .field("watchers", watchers)
            .field("waits", waits)
            .field("fenced", fenced)
            .field("cursor", cursor)
            .field("faults", faults)
            .field("witnessed", witnessed)
            .finish()
    }
}

/// Writes `state` as a reader thinks of it.
pub(crate) fn render(state: &ModelState, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let machine = &state.machine;
    write!(f, "registry: {:?}", machine.phase())?;
    if state.fenced {
        f.write_str(" (its store taken over: writes fenced)")?;
    }
    f.write_str("\n\n")?;
    writeln!(f, "{:<10}{:<28}{:<14}{:<10}{:<8}outcome", "operation", "kind", "status", "watchers", "waits")?;
    let mut any = false;
    for (id, op) in machine.operations() {
        any = true;
        writeln!(
            f,
            "{:<10}{:<28}{:<14}{:<10}{:<8}{}",
            format!("op{id}"),
            op.kind().name(),
            op.status().name(),
            op.watcher_count(),
            waits_on(state, *id),
            outcome(op)
        )?;
    }
    if !any {
        f.write_str("(no operation)\n")?;
    }
    let retained: Vec<String> = machine.retained().map(|id| format!("op{id}")).collect();
    if !retained.is_empty() {
        writeln!(f, "\nretained for collection, oldest first: {}", retained.join(", "))?;
    }
    let mut waits = machine.pending_waits().peekable();
    if waits.peek().is_some() {
        f.write_str("\npending waits\n")?;
        for (wait, pending) in waits {
            let entries: Vec<String> = pending
                .entries()
                .iter()
                .map(|(id, seen)| match seen {
                    Some(outcome) => format!("op{id} {}", outcome.kind().name()),
                    None => format!("op{id} waiting"),
                })
                .collect();
            writeln!(f, "  wait{wait}: {}", entries.join(", "))?;
        }
    }
    let feed = machine.feed();
    // The states the search keeps rebase sequence numbers (the watermark is
    // the number of entries retained) and blank entries no property reads
    // any more (`crate::forget`); a step's own view shows them as minted.
    write!(f, "\ncompletion feed (watermark {})", feed.watermark())?;
    let entries: Vec<String> = feed
        .entries()
        .map(|entry| match entry.id {
            crate::BLANK_ID => format!("#{} (forgotten)", entry.seq),
            id => format!("#{} op{id} {}", entry.seq, entry.outcome.kind().name()),
        })
        .collect();
    if entries.is_empty() {
        f.write_str(": empty\n")?;
    } else {
        writeln!(f, ": {}", entries.join(", "))?;
    }
    writeln!(f, "consumer's cursor: {}", state.cursor)
}

/// How many pending waits still wait for `id`.
fn waits_on(state: &ModelState, id: u8) -> usize {
    state
        .machine
        .pending_waits()
        .filter(|(_, wait)| wait.entries().iter().any(|(i, seen)| *i == id && seen.is_none()))
        .count()
}

fn outcome(op: &Operation<Tiny>) -> &'static str {
    op.outcome().map_or("—", |outcome| outcome.kind().name())
}
