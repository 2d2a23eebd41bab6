//! The behaviour matrix: what the compiled machine *does* for every
//! per-operation input from every status, for each kind, and for every
//! registry input in each phase. It runs the machine (as s2n-quic's state
//! machine tests run every event on every state), so a reviewer of its
//! snapshot sees behaviour, and a machine that disagrees with its table
//! shows up in review.
//!
//! Each status is reached by the shortest sequence of calls on one
//! operation that the machine accepts, found by search, not written by hand.

use std::collections::VecDeque;
use std::fmt::Write as _;

use oplife_machine::{Lifecycle, LifecycleError, LostPolicy, Output, Request, State};
use oplife_spec::{Input, OperationKind, Phase, Scope, Status};

use crate::action::{Action, Cap};
use crate::domain::Tiny;

/// The operation every cell is about.
const ID: u8 = 1;

/// The shortest list of calls on operation [`ID`] of `kind` after which it
/// is in `status` (with the registry in `phase`), if any.
fn path_to(lc: &Lifecycle, kind: OperationKind, status: Status, phase: Phase) -> Option<State<Tiny>> {
    let mut queue = VecDeque::from([State::new()]);
    let mut seen = vec![State::new()];
    // Every status is a few calls away; the bound only stops a search under
    // a broken table that can never reach it.
    while let Some(state) = queue.pop_front().filter(|_| seen.len() < 4096) {
        if state.status(&ID) == status && state.phase() == phase {
            return Some(state);
        }
        let register =
            Action::Register { id: ID, kind, expects_peer: kind.expects_peer_channel(), cap: Cap::Free, source: None };
        let registry = [register, Action::TerminateOwner, Action::Takeover];
        let calls = Input::per_operation().map(|input| Action::Op(input, ID)).chain(registry);
        for action in calls {
            let mut next = state.clone();
            if lc.apply(&mut next, action.request(&state)).is_ok() && !seen.contains(&next) {
                seen.push(next.clone());
                queue.push_back(next);
            }
        }
    }
    None
}

/// The variant names of `outputs`, in order.
fn outputs(outputs: &[Output<Tiny>]) -> String {
    let names: Vec<String> = outputs
        .iter()
        .map(|output| {
            let debug = format!("{output:?}");
            debug.split([' ', '(', '{']).next().unwrap_or_default().to_owned()
        })
        .collect();
    if names.is_empty() { "nothing".to_owned() } else { names.join(", ") }
}

/// What applying `request` to `state` does: the status (or phase) it moves
/// to and the outputs, or the refusal.
fn cell(
    lc: &Lifecycle,
    mut state: State<Tiny>,
    request: Request<Tiny>,
    before: String,
    after: impl Fn(&State<Tiny>) -> String,
) -> String {
    match lc.apply(&mut state, request) {
        Ok(out) => {
            let now = after(&state);
            let moved = if now == before { "stays".to_owned() } else { format!("→ {now}") };
            format!("{moved}; {}", outputs(&out))
        }
        Err(error) => format!("error {}", refusal(&error)),
    }
}

/// The error kind, and what the refusal is as a retry unless invalid.
fn refusal(error: &LifecycleError<Tiny>) -> String {
    match error.retry() {
        oplife_spec::Retry::Invalid => error.kind().to_string(),
        retry => format!("{} ({retry})", error.kind()),
    }
}

/// The matrix under `lifecycle`, as Markdown.
pub fn render(lifecycle: &Lifecycle) -> String {
    let kinds: Vec<String> = OperationKind::ALL.iter().map(|kind| format!("{kind:?}")).collect();
    let rule = "---|".repeat(kinds.len());
    let mut out = format!("| status | input | {} |\n|---|---|{rule}\n", kinds.join(" | "));
    for status in Status::ALL {
        let phase = if status == Status::Terminated { Phase::OwnerTerminated } else { Phase::Open };
        let states = OperationKind::ALL.map(|kind| path_to(lifecycle, kind, status, phase));
        for input in Input::per_operation() {
            let mut row = format!("| {status} | {input} |");
            for (kind, state) in OperationKind::ALL.into_iter().zip(&states) {
                let text = match state {
                    None => "unreachable".to_owned(),
                    Some(state) => {
                        let action = match input {
                            Input::Register => Action::Register {
                                id: ID,
                                kind,
                                expects_peer: kind.expects_peer_channel(),
                                cap: Cap::Free,
                                source: None,
                            },
                            input => Action::Op(input, ID),
                        };
                        cell(lifecycle, state.clone(), action.request(state), status.to_string(), |s| {
                            s.status(&ID).to_string()
                        })
                    }
                };
                let _ = write!(row, " {text} |");
            }
            out.push_str(&row);
            out.push('\n');
        }
    }
    out.push_str("\nPer-operation inputs on a sealed registry (its store has a newer owner), operation 1 running:\n\n");
    out.push_str("| input | result |\n|---|---|\n");
    if let Some(state) = path_to(lifecycle, OperationKind::BackgroundToolOp, Status::Running, Phase::Sealed) {
        for input in Input::per_operation() {
            let action = match input {
                Input::Register => Action::Register {
                    id: 2,
                    kind: OperationKind::BackgroundToolOp,
                    expects_peer: false,
                    cap: Cap::Free,
                    source: None,
                },
                input => Action::Op(input, ID),
            };
            let text = cell(lifecycle, state.clone(), action.request(&state), "Running".to_owned(), |s| {
                s.status(&ID).to_string()
            });
            let _ = writeln!(out, "| {input} | {text} |");
        }
    }
    out.push_str(
        "\nRegistry inputs, with operation 1 running in an open or sealed registry, or ended by owner termination:\n\n",
    );
    out.push_str("| registry phase | input | result |\n|---|---|---|\n");
    for phase in Phase::ALL {
        let status = if phase == Phase::OwnerTerminated { Status::Terminated } else { Status::Running };
        let Some(state) = path_to(lifecycle, OperationKind::BackgroundToolOp, status, phase) else { continue };
        for input in Input::ALL.into_iter().filter(|i| i.scope() == Scope::Registry) {
            let request = match input {
                Input::TerminateOwner => Request::TerminateOwner { reason: () },
                Input::CollectCompleted => Request::CollectCompleted,
                Input::BeginWait => Request::BeginWait { wait: 0, ids: vec![ID], run: () },
                Input::CancelWait => Request::CancelWait { wait: 0 },
                Input::Resume => Request::Resume { image: Box::new(state.image()) },
                Input::Seal => Request::Seal,
                Input::AdvanceCursor => {
                    Request::AdvanceCursor { from: 0, to: state.feed().watermark(), durable: state.feed().watermark() }
                }
                _ => Request::Restore {
                    image: Box::new(state.image()),
                    policy: LostPolicy::Terminate { reason: () },
                    keep: Vec::new(),
                },
            };
            let text = cell(lifecycle, state.clone(), request, phase.to_string(), |s| s.phase().to_string());
            let _ = writeln!(out, "| {phase} | {input} | {text} |");
        }
    }
    out
}
