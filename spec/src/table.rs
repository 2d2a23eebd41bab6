//! The transition table: the only place where lifecycle rules are written.
//!
//! [`Table::standard`] is the table the project ships. Reading it top to
//! bottom tells every rule: which input is allowed from which statuses (or
//! registry phases), under which guards, where it goes, and which effects run
//! in which order. Inputs that no row allows are refused with the error of
//! the first matching [`Refusal`], or `InvalidTransition` when none matches.

use std::fmt;

use crate::vocab::{
    Effect, Ending, ErrorKind, Guard, Input, OnRestore, OperationKind, OutcomeKind, Phase, PublicResult, RetryRule,
    Scope, Status, StatusSet,
};

/// What a row is allowed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Allowed {
    /// Per-operation rows: the statuses of the named operation.
    Statuses(StatusSet),
    /// Registry rows: the phases of the registry.
    Phases(Vec<Phase>),
}

/// Where a row goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The status (or phase) stays as it is.
    Unchanged,
    /// The operation moves to this status; `Absent` forgets the record.
    Status(Status),
    /// The registry moves to this phase.
    Phase(Phase),
}

/// One lifecycle rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// The input the rule answers.
    pub input: Input,
    /// The statuses or phases it is allowed from.
    pub from: Allowed,
    /// Conditions that must also hold, checked in order; the first that
    /// fails refuses the input with its error.
    pub guards: Vec<Guard>,
    /// Where the rule goes.
    pub target: Target,
    /// The effects, in the order they run.
    pub effects: Vec<Effect>,
}

/// The error an input gets from statuses no rule allows it from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Refusal {
    /// The inputs the refusal covers.
    pub inputs: Vec<Input>,
    /// The statuses it covers.
    pub from: StatusSet,
    /// The error returned.
    pub error: ErrorKind,
}

/// What a registry phase admits: in `phase`, every input not in `admits`
/// is refused with `error` before any row is looked at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gate {
    /// The phase that gates.
    pub phase: Phase,
    /// The inputs it still admits (to their rows, which decide as usual).
    pub admits: Vec<Input>,
    /// The error every other input gets.
    pub error: ErrorKind,
}

/// How refusals of some inputs from some statuses classify as retries
/// (every other refusal is [`crate::Retry::Invalid`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RetryRow {
    /// The input refused.
    pub input: Input,
    /// The statuses it is refused from.
    pub from: StatusSet,
    /// How the refusal classifies.
    pub rule: RetryRule,
}

/// What the table says of the operations of one kind, beyond the rows
/// every kind shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KindRule {
    /// The kind.
    pub kind: OperationKind,
    /// What its ending leaves: the record ([`TERMINAL_CHAIN`]) or nothing
    /// ([`DROPPED_CHAIN`] runs instead).
    pub ending: Ending,
    /// What a restore does with one that is running.
    pub on_restore: OnRestore,
    /// Whether its completion-feed entry wakes its owner (its agent turn
    /// ended while it worked).
    pub wakes_owner: bool,
}

/// The whole rule set: rows, refusals and the outcome variant of each
/// terminal status.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Table {
    /// The rules, in reading order. A row is named by its index.
    pub rows: Vec<Rule>,
    /// Errors for inputs from statuses no row allows; the first match wins.
    pub refusals: Vec<Refusal>,
    /// The outcome variant each terminal status carries.
    pub outcomes: Vec<(Status, OutcomeKind)>,
    /// The calls a durable registry does not journal: their rows touch only
    /// pending watchers and waits, which end with the process. Every other
    /// accepted call is journaled, so a crash loses none of them.
    pub process_local: Vec<Input>,
    /// How a refused call classifies as a retry: the first row for the
    /// input and the operation's status; [`crate::Retry::Invalid`] without one.
    pub retries: Vec<RetryRow>,
    /// The phases that refuse inputs whatever the operation's status.
    pub gates: Vec<Gate>,
    /// What a caller is told of an operation's result, by status: each
    /// status in exactly one row.
    pub public_results: Vec<(StatusSet, PublicResult)>,
    /// What each kind's operations leave when they end, what a restore
    /// does with them, and whether their endings wake the owner: one rule
    /// per kind.
    pub kinds: Vec<KindRule>,
}

/// The chain a terminal row runs instead of [`TERMINAL_CHAIN`] for an
/// operation whose kind drops its ending ([`Ending::Dropped`]): the
/// outcome is recorded and the slot released, the terminal event emitted
/// (with no feed sequence number), pending watchers and tracking waits
/// handed the outcome, and the record forgotten; nothing is fed, retained
/// or evicted.
pub const DROPPED_CHAIN: [Effect; 7] = [
    Effect::RecordOutcome,
    Effect::ReleaseSlot,
    Effect::EmitEnded,
    Effect::NotifyWatchers,
    Effect::SatisfyWaits,
    Effect::ReportDropped,
    Effect::ForgetRecord,
];

/// Identifies a row of a table by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowId(pub usize);

impl fmt::Display for RowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}", self.0 + 1)
    }
}

/// The terminal chain: the effects every terminal transition runs, in the
/// order `spec/SPEC.md` gives. The outcome is recorded and the slot
/// released, then the completion feed entry, the terminal event (which
/// carries the entry's sequence number), every pending watcher, retention
/// at the tail of the completion order, every wait tracking the op, and
/// eviction of the overflow. Every terminal row names this chain; the
/// renderers print it once, under this name.
pub const TERMINAL_CHAIN: [Effect; 8] = [
    Effect::RecordOutcome,
    Effect::ReleaseSlot,
    Effect::AppendFeed,
    Effect::EmitEnded,
    Effect::NotifyWatchers,
    Effect::Retain,
    Effect::SatisfyWaits,
    Effect::EvictOverflow,
];

impl Rule {
    /// A per-operation rule.
    pub fn op(input: Input, from: StatusSet, guards: &[Guard], target: Target, effects: &[Effect]) -> Rule {
        Rule { input, from: Allowed::Statuses(from), guards: guards.to_vec(), target, effects: effects.to_vec() }
    }

    /// A registry rule.
    pub fn registry(input: Input, from: &[Phase], guards: &[Guard], target: Target, effects: &[Effect]) -> Rule {
        Rule { input, from: Allowed::Phases(from.to_vec()), guards: guards.to_vec(), target, effects: effects.to_vec() }
    }

    /// Whether the rule may fire for an operation in `status`.
    pub fn allows_status(&self, status: Status) -> bool {
        matches!(&self.from, Allowed::Statuses(set) if set.contains(status))
    }

    /// Whether the rule may fire for the registry in `phase`.
    pub fn allows_phase(&self, phase: Phase) -> bool {
        matches!(&self.from, Allowed::Phases(phases) if phases.contains(&phase))
    }

    /// Whether some guard of `self` and some guard of `other` exclude each
    /// other, so the two rules never fire together.
    pub fn excludes(&self, other: &Rule) -> bool {
        self.guards.iter().any(|g| other.guards.iter().any(|h| g.excludes(*h)))
    }
}

impl Table {
    /// The lifecycle rules this project ships, as `spec/SPEC.md` explains
    /// them (see [`crate::behaviour`]).
    pub fn standard() -> Table {
        use Effect as E;
        use Guard as G;
        use Input as I;
        use Status as S;
        use Target as T;

        let terminal = &TERMINAL_CHAIN;
        let live = StatusSet::of(&[S::Running, S::Retiring]);
        let any = &[Phase::Open, Phase::OwnerTerminated];
        let unsealed = &[Phase::Open, Phase::OwnerTerminated];

        let rows = vec![
            Rule::op(
                I::Register,
                StatusSet::of(&[S::Absent]),
                &[
                    G::OwnerActive,
                    G::SpecMatchesKind,
                    G::SourceAgrees,
                    G::BelowConcurrencyLimit,
                    G::BelowCallerLimit,
                    G::BelowKindLimit,
                ],
                T::Status(S::Provisioning),
                &[E::CreateRecord, E::ClaimSlot, E::EmitRegistered],
            ),
            Rule::op(
                I::ProvisioningSucceeded,
                StatusSet::of(&[S::Provisioning]),
                &[],
                T::Status(S::Running),
                &[E::EmitStarted],
            ),
            Rule::op(I::ProvisioningFailed, StatusSet::of(&[S::Provisioning]), &[], T::Status(S::Failed), terminal),
            Rule::op(I::AbortProvisioning, StatusSet::of(&[S::Provisioning]), &[], T::Status(S::Aborted), terminal),
            Rule::op(I::PeerReady, live, &[G::KindExpectsPeer, G::NotYetPeerReady], T::Unchanged, &[E::ExposePeer]),
            Rule::op(I::RegisterWatcher, StatusSet::ACTIVE, &[], T::Unchanged, &[E::AddWatcher]),
            Rule::op(I::RegisterWatcher, StatusSet::TERMINAL, &[], T::Unchanged, &[E::ResolveWatch]),
            Rule::op(I::ReleaseWatcher, StatusSet::ACTIVE, &[G::WatcherPending], T::Unchanged, &[E::RemoveWatcher]),
            Rule::op(I::ReportProgress, live, &[], T::Unchanged, &[E::RecordProgress]),
            Rule::op(I::Complete, live, &[], T::Status(S::Completed), terminal),
            Rule::op(I::Fail, StatusSet::ACTIVE, &[], T::Status(S::Failed), terminal),
            Rule::op(I::Cancel, StatusSet::ACTIVE, &[], T::Status(S::Cancelled), terminal),
            Rule::op(I::RequestRetire, StatusSet::of(&[S::Running]), &[], T::Status(S::Retiring), &[]),
            Rule::op(I::MarkRetired, live, &[], T::Status(S::Retired), terminal),
            Rule::op(I::CollectTerminal, StatusSet::TERMINAL, &[G::Buffered], T::Unchanged, &[E::ClearBuffered]),
            Rule::op(
                I::RollbackRegistration,
                StatusSet::of(&[S::Provisioning]),
                &[G::NoWatcher, G::NotWaitedOn, G::NoProgress, G::NotYetPeerReady],
                T::Status(S::Absent),
                &[E::ReleaseSlot, E::ReportRolledBack, E::ForgetRecord],
            ),
            Rule::registry(
                I::TerminateOwner,
                &[Phase::Open],
                &[],
                T::Phase(Phase::OwnerTerminated),
                &[E::TerminateEach],
            ),
            Rule::registry(I::TerminateOwner, &[Phase::OwnerTerminated], &[], T::Unchanged, &[]),
            Rule::op(I::Terminate, StatusSet::ACTIVE, &[], T::Status(S::Terminated), terminal),
            Rule::registry(I::CollectCompleted, any, &[], T::Unchanged, &[E::DrainRetained]),
            Rule::op(
                I::Drain,
                StatusSet::TERMINAL,
                &[],
                T::Status(S::Absent),
                &[E::Unretain, E::ReportCollected, E::ForgetRecord],
            ),
            Rule::op(
                I::Evict,
                StatusSet::TERMINAL,
                &[],
                T::Status(S::Absent),
                &[E::Unretain, E::ReportEvicted, E::ForgetRecord],
            ),
            Rule::registry(
                I::BeginWait,
                any,
                &[G::WaitOpsKnown, G::WaitOpsDistinct, G::WaitIdFresh],
                T::Unchanged,
                &[E::OpenWait],
            ),
            Rule::registry(I::CancelWait, &Phase::ALL, &[G::WaitPending], T::Unchanged, &[E::CloseWait]),
            Rule::registry(
                I::Restore,
                any,
                &[G::RegistryPristine, G::ImageConsistent, G::RetentionExact, G::ImageOpen],
                T::Unchanged,
                &[E::LoadImage, E::ResolveEachLost],
            ),
            Rule::registry(
                I::Restore,
                any,
                &[G::RegistryPristine, G::ImageConsistent, G::RetentionExact, G::ImageOwnerTerminated],
                T::Phase(Phase::OwnerTerminated),
                &[E::LoadImage, E::ResolveEachLost],
            ),
            Rule::registry(
                I::Resume,
                any,
                &[G::RegistryPristine, G::ImageConsistent, G::ImageOpen],
                T::Unchanged,
                &[E::LoadImage],
            ),
            Rule::registry(
                I::Resume,
                any,
                &[G::RegistryPristine, G::ImageConsistent, G::ImageOwnerTerminated],
                T::Phase(Phase::OwnerTerminated),
                &[E::LoadImage],
            ),
            Rule::op(I::ResolveLost, StatusSet::ACTIVE, &[G::Kept], T::Unchanged, &[]),
            Rule::op(
                I::ResolveLost,
                StatusSet::ACTIVE,
                &[G::NotKept, G::LostAsTerminated],
                T::Status(S::Terminated),
                terminal,
            ),
            Rule::op(
                I::ResolveLost,
                StatusSet::ACTIVE,
                &[G::NotKept, G::LostAsCancelled],
                T::Status(S::Cancelled),
                terminal,
            ),
            Rule::registry(
                I::AdvanceCursor,
                any,
                &[G::CursorAhead, G::CursorWithinDurable],
                T::Unchanged,
                &[E::MoveCursor],
            ),
            Rule::registry(I::AdvanceCursor, any, &[G::CursorStays], T::Unchanged, &[]),
            Rule::registry(I::Seal, unsealed, &[], T::Phase(Phase::Sealed), &[]),
            Rule::registry(I::Seal, &[Phase::Sealed], &[], T::Unchanged, &[]),
        ];

        let per_op_inputs: Vec<Input> =
            Input::ALL.into_iter().filter(|i| i.scope() != Scope::Registry && *i != I::Register).collect();
        let refusals = vec![
            Refusal { inputs: vec![I::Register], from: StatusSet::KNOWN, error: ErrorKind::AlreadyRegistered },
            Refusal { inputs: per_op_inputs, from: StatusSet::of(&[S::Absent]), error: ErrorKind::NotFound },
        ];

        let outcomes = vec![
            (S::Completed, OutcomeKind::Completed),
            (S::Failed, OutcomeKind::Failed),
            (S::Aborted, OutcomeKind::Aborted),
            (S::Cancelled, OutcomeKind::Cancelled),
            (S::Retired, OutcomeKind::Retired),
            (S::Terminated, OutcomeKind::Terminated),
        ];

        let process_local = vec![I::RegisterWatcher, I::ReleaseWatcher, I::BeginWait, I::CancelWait];

        // A call that ends an operation, refused because the operation had
        // already ended: a repeat if it ended this way, a conflict if it
        // ended another way.
        let retry = |input, status, rule: RetryRule| {
            let others = StatusSet::TERMINAL.without(status);
            [
                RetryRow { input, from: StatusSet::of(&[status]), rule },
                RetryRow { input, from: others, rule: RetryRule::Conflict },
            ]
        };
        let retries = [
            retry(I::Complete, S::Completed, RetryRule::RepeatIfSame),
            retry(I::Fail, S::Failed, RetryRule::RepeatIfSame),
            retry(I::ProvisioningFailed, S::Failed, RetryRule::RepeatIfSame),
            retry(I::Cancel, S::Cancelled, RetryRule::Repeat),
            retry(I::AbortProvisioning, S::Aborted, RetryRule::Repeat),
            retry(I::MarkRetired, S::Retired, RetryRule::Repeat),
        ]
        .into_iter()
        .flatten()
        .collect();

        // A sealed registry lets go of watches and waits, and nothing else:
        // its store has a newer owner, so nothing it did now would last.
        let gates = vec![Gate {
            phase: Phase::Sealed,
            admits: vec![I::Seal, I::ReleaseWatcher, I::CancelWait],
            error: ErrorKind::Sealed,
        }];

        // A retiring operation is still working: it reports running.
        let public_results = vec![
            (StatusSet::of(&[S::Absent]), PublicResult::Unknown),
            (StatusSet::of(&[S::Provisioning, S::Running, S::Retiring]), PublicResult::Running),
            (StatusSet::of(&[S::Completed]), PublicResult::Completed),
            (StatusSet::of(&[S::Failed, S::Terminated]), PublicResult::Failed),
            (StatusSet::of(&[S::Aborted, S::Cancelled, S::Retired]), PublicResult::Cancelled),
        ];

        // A background job and a detached job end after the turn that
        // started them: their endings wake the owner. A child agent reports
        // to its peers instead; a capacity slot is a reservation of this
        // process, which no one else needs to hear of or recover; a wait on
        // a detached job goes on while the job does, whoever restarts.
        let kind = |kind, ending, on_restore, wakes_owner| KindRule { kind, ending, on_restore, wakes_owner };
        let kinds = vec![
            kind(OperationKind::MobMemberChild, Ending::Kept, OnRestore::EndsLost, false),
            kind(OperationKind::BackgroundToolOp, Ending::Kept, OnRestore::EndsLost, true),
            kind(OperationKind::BackgroundToolCapacitySlot, Ending::Dropped, OnRestore::EndsLost, false),
            kind(OperationKind::DetachedJobWait, Ending::Kept, OnRestore::KeepsRunning, true),
        ];

        Table { rows, refusals, outcomes, process_local, retries, gates, public_results, kinds }
    }

    /// What a caller is told of the result of an operation in `status`
    /// (the first row of [`Table::public_results`] holding it;
    /// `PublicResult::Unknown` for a table without one, which the
    /// validator refuses).
    pub fn public_result(&self, status: Status) -> PublicResult {
        self.public_results.iter().find(|(set, _)| set.contains(status)).map_or(PublicResult::Unknown, |(_, r)| *r)
    }

    /// The rule of `kind` ([`Table::kinds`]); `None` for a table without
    /// one, which the validator refuses.
    pub fn kind_rule(&self, kind: OperationKind) -> Option<&KindRule> {
        self.kinds.iter().find(|rule| rule.kind == kind)
    }

    /// Whether the completion-feed entry of an operation of `kind` wakes
    /// its owner.
    pub fn wakes_owner(&self, kind: OperationKind) -> bool {
        self.kind_rule(kind).is_some_and(|rule| rule.wakes_owner)
    }

    /// What the ending of an operation of `kind` leaves ([`Ending::Kept`]
    /// without a rule).
    pub fn ending(&self, kind: OperationKind) -> Ending {
        self.kind_rule(kind).map_or(Ending::Kept, |rule| rule.ending)
    }

    /// Whether operations of `kind` are durable: journaled, imaged and
    /// restored. Those whose ending is dropped are not.
    pub fn durable(&self, kind: OperationKind) -> bool {
        self.ending(kind) == Ending::Kept
    }

    /// Whether a running operation of `kind` stays running across a
    /// restore.
    pub fn keeps_running(&self, kind: OperationKind) -> bool {
        self.kind_rule(kind).is_some_and(|rule| rule.on_restore == OnRestore::KeepsRunning)
    }

    /// The effects `rule` runs for an operation of `kind`: its own, or
    /// [`DROPPED_CHAIN`] when it runs the terminal chain and `kind` drops
    /// its ending.
    pub fn effects_for<'a>(&self, rule: &'a Rule, kind: OperationKind) -> &'a [Effect] {
        match self.ending(kind) {
            Ending::Dropped if rule.effects == TERMINAL_CHAIN => &DROPPED_CHAIN,
            _ => &rule.effects,
        }
    }

    /// Whether a durable registry journals `input` when it is accepted: every
    /// call except the process-local ones ([`Table::process_local`]), the
    /// two that rebuild a registry (`restore`, `resume`), which run when a
    /// store is opened, and `seal`, which answers a store that refuses every
    /// write. Cascades are part of the call that caused them.
    pub fn journaled(&self, input: Input) -> bool {
        input.scope() != Scope::Cascade
            && !matches!(input, Input::Restore | Input::Resume | Input::Seal)
            && !self.process_local.contains(&input)
    }

    /// The error `phase` refuses `input` with before any row is looked at,
    /// if a gate of the table refuses it.
    pub fn gate(&self, input: Input, phase: Phase) -> Option<ErrorKind> {
        self.gates.iter().find(|g| g.phase == phase && !g.admits.contains(&input)).map(|g| g.error)
    }

    /// How the table classifies a refusal of `input` from `status`, before
    /// payloads are compared: `None` for [`crate::Retry::Invalid`].
    pub fn retry_rule(&self, input: Input, status: Status) -> Option<RetryRule> {
        self.retries.iter().find(|r| r.input == input && r.from.contains(status)).map(|r| r.rule)
    }

    /// The row with this id, if the table has it.
    pub fn row(&self, id: RowId) -> Option<&Rule> {
        self.rows.get(id.0)
    }

    /// The rows with their ids.
    pub fn rows(&self) -> impl Iterator<Item = (RowId, &Rule)> {
        self.rows.iter().enumerate().map(|(i, r)| (RowId(i), r))
    }

    /// The outcome variant the table gives a terminal status.
    pub fn outcome_of(&self, status: Status) -> Option<OutcomeKind> {
        self.outcomes.iter().find(|(s, _)| *s == status).map(|(_, k)| *k)
    }

    /// The error for `input` from `status` when no row allows it: the first
    /// matching refusal, otherwise `InvalidTransition`.
    pub fn refusal(&self, input: Input, status: Status) -> ErrorKind {
        self.refusals
            .iter()
            .find(|r| r.from.contains(status) && r.inputs.contains(&input))
            .map_or(ErrorKind::InvalidTransition, |r| r.error)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from ", self.input)?;
        match &self.from {
            Allowed::Statuses(set) => write!(f, "{set}")?,
            Allowed::Phases(phases) => {
                let names: Vec<&str> = phases.iter().map(|p| p.name()).collect();
                write!(f, "{}", names.join(", "))?;
            }
        }
        match self.target {
            Target::Unchanged => write!(f, " -> unchanged"),
            Target::Status(s) => write!(f, " -> {s}"),
            Target::Phase(p) => write!(f, " -> {p}"),
        }
    }
}
