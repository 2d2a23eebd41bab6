//! The table compiled into a dispatch structure, and the entry points that
//! apply a request.
//!
//! Nothing here decides what is legal: [`Lifecycle::apply`] hands the
//! request to a [`Run`], which looks up the rows the table gives for the
//! input and the current status (or registry phase), checks their guards
//! and runs the effects they name.

use oplife_spec::{Allowed, ErrorKind, Input, OutcomeKind, Phase, RowId, Status, Table, TableError};

use crate::error::LifecycleError;
use crate::outcome::Domain;
use crate::output::Output;
use crate::request::Request;
use crate::run::Run;
use crate::state::State;

/// The default number of terminal records retained.
pub const DEFAULT_MAX_COMPLETED: usize = 256;

/// The default number of completion feed entries retained.
pub const DEFAULT_FEED_RETENTION: usize = 1024;

/// Registry limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// How many terminal records are retained before the oldest is evicted.
    pub max_completed: usize,
    /// How many operations may be non-terminal at once (`None`: no limit).
    pub max_concurrent: Option<usize>,
    /// How many completion feed entries are retained before the oldest is
    /// dropped.
    pub feed_retention: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_completed: DEFAULT_MAX_COMPLETED, max_concurrent: None, feed_retention: DEFAULT_FEED_RETENTION }
    }
}

const STATUSES: usize = Status::ALL.len();
const PHASES: usize = Phase::ALL.len();

/// A transition table compiled for execution, with the registry limits.
///
/// It is immutable and holds no operation state, so one `Lifecycle` can
/// drive any number of [`State`] values (the model checker shares one
/// across threads).
///
/// ```
/// use oplife_machine::{Domain, Lifecycle, Limits, Output, Request, State};
/// use oplife_spec::{OperationKind, Status};
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
/// struct Small;
/// impl Domain for Small {
///     type OpId = u8;
///     type WaitId = u8;
///     type Result = &'static str;
///     type Error = ();
///     type Reason = ();
///     type Progress = ();
/// }
///
/// let lifecycle = Lifecycle::standard(Limits::default());
/// let mut state = State::<Small>::new();
/// lifecycle.apply(&mut state, Request::Register { id: 1, kind: OperationKind::BackgroundToolOp, expects_peer: false })?;
/// lifecycle.apply(&mut state, Request::ProvisioningSucceeded { id: 1 })?;
/// let outputs = lifecycle.apply(&mut state, Request::Complete { id: 1, result: "done" })?;
/// assert!(matches!(outputs[0], Output::Ended { id: 1, .. }));
/// assert_eq!(state.status(&1), Status::Completed);
///
/// // A refused request changes nothing.
/// let before = state.clone();
/// assert!(lifecycle.apply(&mut state, Request::Fail { id: 1, error: () }).is_err());
/// assert_eq!(state, before);
/// # Ok::<(), oplife_machine::LifecycleError<Small>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Lifecycle {
    table: Table,
    op_rows: Vec<Vec<RowId>>,
    registry_rows: Vec<Vec<RowId>>,
    refusals: Vec<ErrorKind>,
    outcome_of: [Option<OutcomeKind>; STATUSES],
    limits: Limits,
}

impl Lifecycle {
    /// Validates `table` and compiles it.
    ///
    /// # Errors
    ///
    /// The validator's [`TableError`] when the table is broken.
    pub fn new(table: Table, limits: Limits) -> Result<Self, TableError> {
        table.validate()?;
        Ok(Self::new_unchecked(table, limits))
    }

    /// The shipped table ([`Table::standard`]), compiled. The test suite
    /// checks that it validates.
    pub fn standard(limits: Limits) -> Self {
        Self::new_unchecked(Table::standard(), limits)
    }

    /// Compiles `table` without validating it. This is for mutation testing:
    /// the model checker runs deliberately broken tables through the same
    /// code. The machine never panics on such a table; where it cannot
    /// execute a row it refuses with [`LifecycleError::Internal`].
    pub fn new_unchecked(table: Table, limits: Limits) -> Self {
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
        let mut outcome_of = [None; STATUSES];
        for status in Status::ALL {
            outcome_of[status.index()] = table.outcome_of(status);
        }
        Lifecycle { table, op_rows, registry_rows, refusals, outcome_of, limits }
    }

    /// The table this lifecycle was compiled from.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The registry limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Applies `request` to `state` and returns the effects to carry out, in
    /// order.
    ///
    /// # Errors
    ///
    /// A [`LifecycleError`] when the table refuses the request; `state` is
    /// then unchanged.
    pub fn apply<D: Domain>(
        &self,
        state: &mut State<D>,
        request: Request<D>,
    ) -> Result<Vec<Output<D>>, LifecycleError<D>> {
        let mut out = Vec::new();
        self.apply_into(state, request, &mut out)?;
        Ok(out)
    }

    /// Like [`Lifecycle::apply`], appending the effects to `out` (which is
    /// left as it was on error), so callers can reuse one buffer.
    ///
    /// # Errors
    ///
    /// As [`Lifecycle::apply`].
    pub fn apply_into<D: Domain>(
        &self,
        state: &mut State<D>,
        request: Request<D>,
        out: &mut Vec<Output<D>>,
    ) -> Result<(), LifecycleError<D>> {
        self.apply_traced(state, request, out, &mut |_| {})
    }

    /// Like [`Lifecycle::apply_into`], calling `fired` with every row that
    /// fires, cascaded rows included (used for row coverage).
    ///
    /// # Errors
    ///
    /// As [`Lifecycle::apply`].
    pub fn apply_traced<D: Domain>(
        &self,
        state: &mut State<D>,
        request: Request<D>,
        out: &mut Vec<Output<D>>,
        fired: &mut dyn FnMut(RowId),
    ) -> Result<(), LifecycleError<D>> {
        let mut run = Run { lifecycle: self, out, fired };
        match request.into_operation() {
            Ok((input, id, payload)) => run.operation(state, input, &id, payload),
            Err(registry) => run.registry(state, registry),
        }
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

    /// The outcome variant the table gives `status`.
    pub(crate) fn outcome_of(&self, status: Status) -> Option<OutcomeKind> {
        self.outcome_of.get(status.index()).copied().flatten()
    }
}
