//! The validator: refuses a broken table with an error that names the row.

use thiserror::Error;

use crate::table::{Allowed, RowId, Table, Target};
use crate::vocab::{Effect, Guard, Input, OperationKind, Phase, Scope, Status, StatusSet};

/// Why a table was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TableError {
    /// Two rows can fire for the same input and status (or phase), and no
    /// pair of their guards excludes the other.
    #[error("{first} and {second} both answer {input} from {at}, and their guards do not exclude each other")]
    OverlappingRows {
        /// The earlier row.
        first: RowId,
        /// The later row.
        second: RowId,
        /// The input both answer.
        input: Input,
        /// A status or phase both are allowed from.
        at: String,
    },
    /// An input has no row at all.
    #[error("input {input} has no row")]
    InputWithoutRow {
        /// The input.
        input: Input,
    },
    /// A row moves an operation out of a terminal status to anything but
    /// `Absent` (forgetting the record).
    #[error("{row} leaves terminal status {status} for {target}")]
    LeavesTerminal {
        /// The row.
        row: RowId,
        /// The terminal status it is allowed from.
        status: Status,
        /// Where it goes.
        target: Status,
    },
    /// A known status cannot be reached from registration.
    #[error("status {status} is unreachable from registration")]
    UnreachableStatus {
        /// The status.
        status: Status,
    },
    /// A terminal status has no outcome variant.
    #[error("terminal status {status} has no outcome variant")]
    MissingOutcome {
        /// The status.
        status: Status,
    },
    /// A status is in no row of the public results, or in two.
    #[error("status {status} is in {rows} rows of the public results, not exactly one")]
    PublicResult {
        /// The status.
        status: Status,
        /// How many rows hold it.
        rows: usize,
    },
    /// A kind has no rule in the kinds table, or two.
    #[error("kind {kind:?} has {rules} rules in the kinds table, not exactly one")]
    KindRule {
        /// The kind.
        kind: OperationKind,
        /// How many rules it has.
        rules: usize,
    },
    /// A row reaches a terminal status without recording its outcome.
    #[error("{row} reaches terminal status {status} without the effect `record outcome`")]
    TerminalWithoutOutcome {
        /// The row.
        row: RowId,
        /// The terminal status.
        status: Status,
    },
    /// A row brings an operation from `Absent` to a known status without
    /// `create record` as its first effect.
    #[error("{row} registers an operation without `create record` as its first effect")]
    RecordNotCreated {
        /// The row.
        row: RowId,
    },
    /// A row forgets an operation (goes to `Absent`) without `forget record`
    /// as its last effect.
    #[error("{row} goes to Absent without `forget record` as its last effect")]
    RecordNotForgotten {
        /// The row.
        row: RowId,
    },
    /// `create record` or `forget record` on a row that does not create or
    /// forget the operation, or out of place on one that does.
    #[error("{row} runs `{effect}` where it does not create or forget the record")]
    MisplacedRecordEffect {
        /// The row.
        row: RowId,
        /// The misplaced effect.
        effect: Effect,
    },
    /// A row's "allowed from" or target does not fit the scope of its input.
    #[error("{row} does not fit the scope of {input}")]
    ScopeMismatch {
        /// The row.
        row: RowId,
        /// Its input.
        input: Input,
    },
    /// A cascade input is not allowed from every status its registry-level
    /// effect cascades over, unguarded or under every choice of a payload
    /// guard group ([`crate::Guard::CHOICES`]).
    #[error("cascade {input} has no unguarded row from {status}")]
    CascadeNotTotal {
        /// The cascade input.
        input: Input,
        /// The status left uncovered.
        status: Status,
    },
    /// A retry row classifies an input from a status some row allows it
    /// from: that call is never refused there.
    #[error("the retry row of {input} covers {status}, where a row allows it")]
    RetryWhereAllowed {
        /// The input.
        input: Input,
        /// The status a row allows it from.
        status: Status,
    },
    /// An input listed as process-local (not journaled) has a row that
    /// changes durable state: a durable registry would lose it in a crash.
    #[error("{row} changes durable state, but {input} is listed as process-local (not journaled)")]
    ProcessLocalChangesState {
        /// The row.
        row: RowId,
        /// The input listed as process-local.
        input: Input,
    },
    /// A gate admits a registry input that no row allows from its phase:
    /// the input would be admitted only to find no rule.
    #[error("the gate of {phase} admits {input}, but no row allows it from {phase}")]
    AdmittedWithoutRow {
        /// The gating phase.
        phase: Phase,
        /// The admitted input.
        input: Input,
    },
    /// A registry row is allowed from a phase whose gate refuses its input:
    /// the row can never fire there.
    #[error("{row} is allowed from {phase}, whose gate refuses {input}")]
    GatedRow {
        /// The row.
        row: RowId,
        /// The gating phase.
        phase: Phase,
        /// The row's input.
        input: Input,
    },
}

/// The statuses a cascade input is applied to by its registry-level effect.
pub fn cascade_domain(input: Input) -> StatusSet {
    match input {
        Input::Terminate | Input::ResolveLost => StatusSet::ACTIVE,
        Input::Evict | Input::Drain => StatusSet::TERMINAL,
        _ => StatusSet::EMPTY,
    }
}

impl Table {
    /// Checks the table; returns the first problem found.
    ///
    /// # Errors
    ///
    /// A [`TableError`] naming the offending row, input or status.
    pub fn validate(&self) -> Result<(), TableError> {
        self.check_scopes()?;
        self.check_every_input_has_a_row()?;
        self.check_overlaps()?;
        self.check_terminal_rows()?;
        self.check_record_effects()?;
        self.check_outcomes()?;
        self.check_public_results()?;
        self.check_kinds()?;
        self.check_cascades()?;
        self.check_process_local()?;
        self.check_retries()?;
        self.check_gates()?;
        self.check_reachability()
    }

    fn check_gates(&self) -> Result<(), TableError> {
        for (row, rule) in self.rows() {
            if let Allowed::Phases(phases) = &rule.from
                && let Some(phase) = phases.iter().find(|p| self.gate(rule.input, **p).is_some())
            {
                return Err(TableError::GatedRow { row, phase: *phase, input: rule.input });
            }
        }
        for gate in &self.gates {
            for input in gate.admits.iter().filter(|i| i.scope() == Scope::Registry) {
                if !self.rows.iter().any(|r| r.input == *input && r.allows_phase(gate.phase)) {
                    return Err(TableError::AdmittedWithoutRow { phase: gate.phase, input: *input });
                }
            }
        }
        Ok(())
    }

    fn check_scopes(&self) -> Result<(), TableError> {
        for (id, rule) in self.rows() {
            let fits = match (&rule.from, rule.input.scope()) {
                (Allowed::Statuses(_), Scope::Operation | Scope::Cascade) => !matches!(rule.target, Target::Phase(_)),
                (Allowed::Phases(_), Scope::Registry) => !matches!(rule.target, Target::Status(_)),
                _ => false,
            };
            if !fits {
                return Err(TableError::ScopeMismatch { row: id, input: rule.input });
            }
        }
        Ok(())
    }

    fn check_every_input_has_a_row(&self) -> Result<(), TableError> {
        for input in Input::ALL {
            if !self.rows.iter().any(|r| r.input == input) {
                return Err(TableError::InputWithoutRow { input });
            }
        }
        Ok(())
    }

    fn check_overlaps(&self) -> Result<(), TableError> {
        for (i, a) in self.rows() {
            for (j, b) in self.rows().skip(i.0 + 1) {
                if a.input != b.input || a.excludes(b) {
                    continue;
                }
                let shared = match (&a.from, &b.from) {
                    (Allowed::Statuses(x), Allowed::Statuses(y)) => {
                        x.intersection(*y).iter().next().map(|s| s.to_string())
                    }
                    (Allowed::Phases(x), Allowed::Phases(y)) => {
                        Phase::ALL.into_iter().find(|p| x.contains(p) && y.contains(p)).map(|p| p.to_string())
                    }
                    _ => None,
                };
                if let Some(at) = shared {
                    return Err(TableError::OverlappingRows { first: i, second: j, input: a.input, at });
                }
            }
        }
        Ok(())
    }

    fn check_terminal_rows(&self) -> Result<(), TableError> {
        for (id, rule) in self.rows() {
            let (Allowed::Statuses(from), Target::Status(target)) = (&rule.from, rule.target) else {
                continue;
            };
            if let Some(status) = from.intersection(StatusSet::TERMINAL).iter().find(|s| *s != target)
                && target != Status::Absent
            {
                return Err(TableError::LeavesTerminal { row: id, status, target });
            }
            if target.is_terminal() && !rule.effects.contains(&Effect::RecordOutcome) {
                return Err(TableError::TerminalWithoutOutcome { row: id, status: target });
            }
        }
        Ok(())
    }

    /// Creating and forgetting a record are named effects: the first effect
    /// of a row from `Absent` to a known status, and the last effect of a
    /// row to `Absent`, and nowhere else.
    fn check_record_effects(&self) -> Result<(), TableError> {
        for (id, rule) in self.rows() {
            let (creates, forgets) = match (&rule.from, rule.target) {
                (Allowed::Statuses(from), Target::Status(target)) => {
                    (from.contains(Status::Absent) && target.is_known(), target == Status::Absent)
                }
                _ => (false, false),
            };
            if creates && rule.effects.first() != Some(&Effect::CreateRecord) {
                return Err(TableError::RecordNotCreated { row: id });
            }
            if forgets && rule.effects.last() != Some(&Effect::ForgetRecord) {
                return Err(TableError::RecordNotForgotten { row: id });
            }
            for (at, effect) in rule.effects.iter().enumerate() {
                let in_place = match effect {
                    Effect::CreateRecord => creates && at == 0,
                    Effect::ForgetRecord => forgets && at + 1 == rule.effects.len(),
                    _ => true,
                };
                if !in_place {
                    return Err(TableError::MisplacedRecordEffect { row: id, effect: *effect });
                }
            }
        }
        Ok(())
    }

    fn check_outcomes(&self) -> Result<(), TableError> {
        for status in StatusSet::TERMINAL.iter() {
            if self.outcome_of(status).is_none() {
                return Err(TableError::MissingOutcome { status });
            }
        }
        Ok(())
    }

    fn check_public_results(&self) -> Result<(), TableError> {
        for status in Status::ALL {
            let rows = self.public_results.iter().filter(|(set, _)| set.contains(status)).count();
            if rows != 1 {
                return Err(TableError::PublicResult { status, rows });
            }
        }
        Ok(())
    }

    fn check_kinds(&self) -> Result<(), TableError> {
        for kind in OperationKind::ALL {
            let rules = self.kinds.iter().filter(|rule| rule.kind == kind).count();
            if rules != 1 {
                return Err(TableError::KindRule { kind, rules });
            }
        }
        Ok(())
    }

    fn check_retries(&self) -> Result<(), TableError> {
        for retry in &self.retries {
            for status in retry.from.iter() {
                if self.rows.iter().any(|r| r.input == retry.input && r.allows_status(status)) {
                    return Err(TableError::RetryWhereAllowed { input: retry.input, status });
                }
            }
        }
        Ok(())
    }

    fn check_process_local(&self) -> Result<(), TableError> {
        for (row, rule) in self.rows() {
            let durable = rule.target != Target::Unchanged || rule.effects.iter().any(|e| !e.is_process_local());
            if durable && self.process_local.contains(&rule.input) {
                return Err(TableError::ProcessLocalChangesState { row, input: rule.input });
            }
        }
        Ok(())
    }

    fn check_cascades(&self) -> Result<(), TableError> {
        for input in Input::ALL.into_iter().filter(|i| i.scope() == Scope::Cascade) {
            for status in cascade_domain(input).iter() {
                // Whatever each choice group picks, some row whose guards
                // are all picked answers.
                let answers = |picked: &[Guard]| {
                    self.rows.iter().any(|r| {
                        r.input == input && r.allows_status(status) && r.guards.iter().all(|g| picked.contains(g))
                    })
                };
                let covered = choice_combinations().iter().all(|picked| answers(picked));
                if !covered {
                    return Err(TableError::CascadeNotTotal { input, status });
                }
            }
        }
        Ok(())
    }

    fn check_reachability(&self) -> Result<(), TableError> {
        let mut reached = StatusSet::of(&[Status::Absent]);
        loop {
            let mut grown = reached;
            for rule in &self.rows {
                if let (Allowed::Statuses(from), Target::Status(target)) = (&rule.from, rule.target)
                    && !from.intersection(reached).is_empty()
                {
                    grown = grown.with(target);
                }
            }
            if grown == reached {
                break;
            }
            reached = grown;
        }
        match StatusSet::KNOWN.iter().find(|s| !reached.contains(*s)) {
            Some(status) => Err(TableError::UnreachableStatus { status }),
            None => Ok(()),
        }
    }
}

/// Every way of picking one guard of each group of [`Guard::CHOICES`].
fn choice_combinations() -> Vec<Vec<Guard>> {
    Guard::CHOICES.iter().fold(vec![Vec::new()], |combos, group| {
        combos
            .iter()
            .flat_map(|picked| {
                group.iter().map(move |choice| {
                    let mut next = picked.clone();
                    next.push(*choice);
                    next
                })
            })
            .collect()
    })
}
