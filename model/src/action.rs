//! The environment's steps: registry calls the model makes, derived from
//! the table's vocabulary, and the machine request each one is.

use std::fmt;

use oplife_machine::{Keep, LostPolicy, Payload, Request, State};
use oplife_spec::{Carries, Input, OperationKind, SourceClaim};

use crate::domain::Tiny;

/// The payload the model sends with a per-operation input: payloads are
/// unit in the model's domain, so only their kind matters.
fn payload(carries: Carries) -> Option<Payload<Tiny>> {
    Some(match carries {
        Carries::Nothing => Payload::None,
        Carries::Result => Payload::Result(()),
        Carries::Error => Payload::Error(()),
        Carries::Reason => Payload::Reason(None),
        Carries::RequiredReason => Payload::RequiredReason(()),
        Carries::Progress => Payload::Progress(()),
        Carries::Spec | Carries::Wait | Carries::WaitId | Carries::Image | Carries::Policy | Carries::Cursor => {
            return None;
        }
    })
}

/// The per-operation inputs the model calls besides registration, derived
/// from the table's vocabulary: every input a caller makes on one operation.
pub(crate) fn op_inputs() -> impl Iterator<Item = Input> {
    Input::per_operation().filter(|input| payload(input.carries()).is_some())
}

/// The limit a caller gives one registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cap {
    /// None: `register_operation`.
    Free,
    /// At most [`KIND_LIMIT`] active operations of its kind:
    /// `register_operation_limited`.
    Kind,
    /// At most [`TOTAL_LIMIT`] active operations of any kind:
    /// `register_operation_within`.
    Total,
}

/// An operation a restart is asked to keep, as the environment names it:
/// the id, the kind it expects, and whether the source it expects is the
/// one the operation was registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeepAsk {
    /// The id.
    pub id: u8,
    /// The kind expected.
    pub kind: OperationKind,
    /// Whether the source expected is the one registered.
    pub source_agrees: bool,
}

/// One step of the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `register_operation` of id `id` with this kind and
    /// `expect_peer_channel`, under the caller's limit `cap`.
    Register {
        /// The id.
        id: u8,
        /// The kind.
        kind: OperationKind,
        /// What the spec says about a peer channel.
        expects_peer: bool,
        /// The caller's limit for this registration.
        cap: Cap,
        /// What the spec says the operation stands for, if it says.
        source: Option<SourceClaim>,
    },
    /// Any other per-operation call (of [`Input::per_operation`]) on id `.1`.
    Op(Input, u8),
    /// `terminate_owner`.
    TerminateOwner,
    /// `collect_completed`.
    CollectCompleted,
    /// `wait_all` over the ids of mask `ids`, as wait slot `slot`.
    BeginWait {
        /// The wait slot (wait request id).
        slot: u8,
        /// The ids, bit `i` for id `i`, asked in increasing order.
        ids: u8,
    },
    /// Dropping the pending `wait_all` future of slot `.0`.
    CancelWait(u8),
    /// The process restarts: the registry's image is captured and restored
    /// into a fresh registry; lost operations end `Cancelled` when `cancel`
    /// is set, `Terminated` otherwise. Pending watchers and waits die with
    /// the old process.
    Restart {
        /// The lost-operation policy: `Cancelled` instead of `Terminated`.
        cancel: bool,
        /// An unfinished operation the restore is asked to keep.
        keep: Option<KeepAsk>,
    },
    /// The process crashes and a durable registry reopens from its store:
    /// it resumes its durable image (the journal replayed) and restores it
    /// into a fresh registry, lost operations ending as `cancel` says.
    Crash {
        /// The lost-operation policy: `Cancelled` instead of `Terminated`.
        cancel: bool,
    },
    /// `advance_cursor`: the consumer asks its cursor, at `from`, to go to
    /// `to`; every call is durable once applied, so the feed is durable up
    /// to its watermark.
    AdvanceCursor {
        /// Where the cursor is.
        from: u64,
        /// Where it is asked to go.
        to: u64,
    },
    /// A newer owner takes the durable store over: this registry's next
    /// write is fenced, and it is sealed. (What the newer owner recovers is
    /// what a crash here recovers: the store as this registry left it.)
    Takeover,
}

impl Action {
    /// The machine request this action makes in `state` (a restart restores
    /// the image of `state` into a fresh registry).
    pub fn request(&self, state: &State<Tiny>) -> Request<Tiny> {
        match *self {
            Action::Register { id, kind, expects_peer, cap, source } => Request::Register {
                id,
                kind,
                expects_peer,
                kind_limit: (cap == Cap::Kind).then_some(KIND_LIMIT),
                limit: (cap == Cap::Total).then_some(TOTAL_LIMIT),
                source,
            },
            Action::Op(input, id) => payload(input.carries())
                .and_then(|payload| Request::for_operation(input, id, payload))
                // Not an input the model offers: ask for something the
                // machine refuses, so the step is a refusal.
                .unwrap_or(Request::CancelWait { wait: u8::MAX }),
            Action::TerminateOwner => Request::TerminateOwner { reason: () },
            Action::CollectCompleted => Request::CollectCompleted,
            Action::BeginWait { slot, ids } => Request::BeginWait { wait: slot, ids: ids_of(ids).collect(), run: () },
            Action::CancelWait(slot) => Request::CancelWait { wait: slot },
            Action::Takeover => Request::Seal,
            Action::AdvanceCursor { from, to } => {
                Request::AdvanceCursor { from, to, durable: state.feed().watermark() }
            }
            Action::Restart { cancel, keep } => Request::Restore {
                image: Box::new(state.image()),
                policy: lost_policy(cancel),
                keep: keep
                    .map(|ask| Keep { id: ask.id, kind: ask.kind, source_agrees: ask.source_agrees })
                    .into_iter()
                    .collect(),
            },
            Action::Crash { cancel } => {
                Request::Restore { image: Box::new(state.image()), policy: lost_policy(cancel), keep: Vec::new() }
            }
        }
    }
}

impl Action {
    /// Whether the action replaces the process (a restart or a crash):
    /// watchers and waits end with the old one.
    pub fn replaces_process(&self) -> bool {
        matches!(self, Action::Restart { .. } | Action::Crash { .. })
    }
}

/// The lost-operation policy of a restart or crash.
pub(crate) fn lost_policy(cancel: bool) -> LostPolicy<Tiny> {
    match cancel {
        true => LostPolicy::Cancel { reason: None },
        false => LostPolicy::Terminate { reason: () },
    }
}

/// The limit a limited registration gives: one active operation of its kind.
pub const KIND_LIMIT: u32 = 1;

/// The limit a registration within a total gives: one active operation.
pub const TOTAL_LIMIT: u32 = 1;

pub(crate) fn ids_of(mask: u8) -> impl Iterator<Item = u8> {
    (0..8u8).filter(move |i| mask & (1 << i) != 0)
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Register { id, kind, expects_peer, cap, source } => {
                let call = match cap {
                    Cap::Free => "register_operation",
                    Cap::Kind => "register_operation_limited",
                    Cap::Total => "register_operation_within",
                };
                write!(f, "{call}(op{id}, {kind:?}, expect_peer_channel={expects_peer}")?;
                match cap {
                    Cap::Free => {}
                    Cap::Kind => write!(f, ", limit {KIND_LIMIT}")?,
                    Cap::Total => write!(f, ", max {TOTAL_LIMIT}")?,
                }
                if let Some(source) = source {
                    write!(f, ", standing for {source}")?;
                }
                f.write_str(")")
            }
            Action::Op(input, id) => write!(f, "{input}(op{id})"),
            Action::TerminateOwner => f.write_str("terminate_owner()"),
            Action::CollectCompleted => f.write_str("collect_completed()"),
            Action::BeginWait { slot, ids } => {
                let ids: Vec<String> = ids_of(*ids).map(|i| format!("op{i}")).collect();
                write!(f, "wait_all([{}]) as wait{slot}", ids.join(", "))
            }
            Action::CancelWait(slot) => write!(f, "drop wait{slot}"),
            Action::Takeover => f.write_str("takeover (a newer owner fences the store: seal)"),
            Action::AdvanceCursor { from, to } => write!(f, "advance_cursor(from {from} to {to})"),
            Action::Restart { cancel, keep } => {
                let lost = if *cancel { "Cancelled" } else { "Terminated" };
                write!(f, "restart (capture, restore: lost ops {lost}")?;
                if let Some(ask) = keep {
                    let source = if ask.source_agrees { "its source" } else { "another source" };
                    write!(f, "; keep op{} as {:?} with {source}", ask.id, ask.kind)?;
                }
                f.write_str(")")
            }
            Action::Crash { cancel: false } => f.write_str("crash (reopen the journal, restore: lost ops Terminated)"),
            Action::Crash { cancel: true } => f.write_str("crash (reopen the journal, restore: lost ops Cancelled)"),
        }
    }
}
