//! A table compiled for execution: per (input, status) and per (input,
//! phase) the rows that may answer, the refusal of every cell, and the
//! outcome variant of every status, with the registry limits.

use oplife_spec::{Allowed, Effect, Ending, ErrorKind, Input, OperationKind, OutcomeKind, Phase, RowId, Status, Table};

use crate::limits::Limits;

const STATUSES: usize = Status::ALL.len();
const PHASES: usize = Phase::ALL.len();

/// What a row's effects need decided before the first change, found once
/// per row when the table is compiled.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Runs {
    /// The row runs `create record`.
    pub(crate) create_record: bool,
    /// The row runs `record outcome`.
    pub(crate) record_outcome: bool,
}

/// The dispatch structure of one table.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    table: Table,
    op_rows: Vec<Vec<RowId>>,
    registry_rows: Vec<Vec<RowId>>,
    refusals: Vec<ErrorKind>,
    /// Per (input, phase): the error a gate of the phase refuses it with.
    gates: Vec<Option<ErrorKind>>,
    outcome_of: [Option<OutcomeKind>; STATUSES],
    runs: Vec<Runs>,
    /// Per input: whether every transition it makes builds the same outcome
    /// from the same payload (see [`Compiled::one_outcome`]).
    one_outcome: Vec<bool>,
    /// Per kind: whether the table drops its ending.
    drops_ending: [bool; OperationKind::ALL.len()],
    limits: Limits,
}

impl Compiled {
    /// Compiles `table` as it is, valid or not.
    pub(crate) fn new(table: Table, limits: Limits) -> Self {
        let mut op_rows = vec![Vec::new(); Input::ALL.len() * STATUSES];
        let mut registry_rows = vec![Vec::new(); Input::ALL.len() * PHASES];
        for (id, rule) in table.rows() {
            match &rule.from {
                Allowed::Statuses(set) => {
                    for status in set.iter() {
                        op_rows[rule.input.index() * STATUSES + status.index()].push(id);
                    }
                }
                Allowed::Phases(phases) => {
                    for phase in phases {
                        registry_rows[rule.input.index() * PHASES + *phase as usize].push(id);
                    }
                }
            }
        }
        let mut refusals = Vec::with_capacity(Input::ALL.len() * STATUSES);
        for input in Input::ALL {
            for status in Status::ALL {
                refusals.push(table.refusal(input, status));
            }
        }
        let gates = Input::ALL
            .into_iter()
            .flat_map(|input| Phase::ALL.into_iter().map(move |phase| (input, phase)))
            .map(|(input, phase)| table.gate(input, phase))
            .collect();
        let mut outcome_of = [None; STATUSES];
        for status in Status::ALL {
            outcome_of[status.index()] = table.outcome_of(status);
        }
        let runs = table
            .rows
            .iter()
            .map(|rule| Runs {
                create_record: rule.effects.contains(&Effect::CreateRecord),
                record_outcome: rule.effects.contains(&Effect::RecordOutcome),
            })
            .collect();
        let one_outcome = Input::ALL
            .iter()
            .map(|input| {
                let mut rows = table.rows.iter().filter(|rule| rule.input == *input);
                rows.next().is_some_and(|first| {
                    std::iter::once(first).chain(rows).all(|rule| {
                        rule.guards.is_empty()
                            && rule.effects.contains(&Effect::RecordOutcome)
                            && rule.target == first.target
                    })
                })
            })
            .collect();
        let drops_ending = OperationKind::ALL.map(|kind| table.ending(kind) == Ending::Dropped);
        Compiled { table, op_rows, registry_rows, refusals, gates, outcome_of, runs, one_outcome, drops_ending, limits }
    }

    /// What `row`'s effects need decided before the first change.
    pub(crate) fn runs(&self, row: RowId) -> Runs {
        self.runs.get(row.0).copied().unwrap_or_default()
    }

    /// Whether every row answering `input` records an outcome, has no guard
    /// and has the same target: then every transition of one call on it
    /// (owner termination's cascade) builds the same outcome from the same
    /// payload, and one outcome can be shared by all of them.
    pub(crate) fn one_outcome(&self, input: Input) -> bool {
        self.one_outcome.get(input.index()).copied().unwrap_or(false)
    }

    /// Whether the table drops the ending of operations of `kind`
    /// ([`oplife_spec::Ending::Dropped`]).
    #[inline]
    pub(crate) fn drops_ending(&self, kind: OperationKind) -> bool {
        self.drops_ending.get(kind.index()).copied().unwrap_or(false)
    }

    /// The table compiled.
    pub(crate) fn table(&self) -> &Table {
        &self.table
    }

    /// The registry limits.
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// The rows that may answer `input` for an operation in `status`, in
    /// table order.
    pub(crate) fn op_rows(&self, input: Input, status: Status) -> &[RowId] {
        self.op_rows.get(input.index() * STATUSES + status.index()).map_or(&[], Vec::as_slice)
    }

    /// The rows that may answer `input` in registry `phase`, in table order.
    pub(crate) fn registry_rows(&self, input: Input, phase: Phase) -> &[RowId] {
        self.registry_rows.get(input.index() * PHASES + phase as usize).map_or(&[], Vec::as_slice)
    }

    /// The error `input` gets from `status` when no row allows it.
    pub(crate) fn refusal(&self, input: Input, status: Status) -> ErrorKind {
        self.refusals.get(input.index() * STATUSES + status.index()).copied().unwrap_or(ErrorKind::Internal)
    }

    /// The error the gate of `phase` refuses `input` with, if it does.
    pub(crate) fn gate(&self, input: Input, phase: Phase) -> Option<ErrorKind> {
        self.gates.get(input.index() * PHASES + phase as usize).copied().flatten()
    }

    /// The outcome variant the table gives `status`.
    pub(crate) fn outcome_of(&self, status: Status) -> Option<OutcomeKind> {
        self.outcome_of.get(status.index()).copied().flatten()
    }
}
