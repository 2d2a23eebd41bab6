//! A request the table accepted, before its effects run: the first of the
//! two phases of [`crate::Lifecycle::apply`].

use oplife_spec::{Effect, Input, RowId};

use crate::compiled::Compiled;
use crate::error::LifecycleError;
use crate::outcome::Domain;
use crate::output::Output;
use crate::registry::select_registry_row;
use crate::request::{Payload, Request};
use crate::run::{Decided, Run};
use crate::state::State;

/// A request the table accepted, from [`crate::Lifecycle::accept`]: the row
/// that answers it is chosen and its guards held, reading the state
/// through a shared borrow, and everything its effects install is built.
/// Nothing has changed yet. [`Accepted::commit`] runs the effects, which
/// cannot refuse; dropping it instead leaves the state as it was.
///
/// It holds the state borrowed until then, so nothing can change it
/// between the two phases: a runtime writes its journal in between, and a
/// failed write drops the accepted request with nothing changed.
///
/// ```
/// use oplife_machine::{Lifecycle, Limits, Output, Request, State};
/// use oplife_machine::spec::OperationKind;
/// # #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
/// # struct Small;
/// # impl oplife_machine::Domain for Small {
/// #     type OpId = u8; type WaitId = u8; type RunId = (); type Result = (); type Error = ();
/// #     type Reason = (); type Progress = (); type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
/// # }
/// let lifecycle = Lifecycle::standard(Limits::default());
/// let mut state = State::<Small>::new();
/// let register = Request::Register { id: 1, kind: OperationKind::BackgroundToolOp, expects_peer: false, kind_limit: None, limit: None, source: None };
///
/// // Accepted, then dropped (a journal write failed, say): nothing changed.
/// let accepted = lifecycle.accept(&mut state, register.clone())?;
/// assert!(accepted.journaled());
/// drop(accepted);
/// assert_eq!(state, State::new());
///
/// // Accepted, then committed.
/// let mut outputs = Vec::new();
/// lifecycle.accept(&mut state, register)?.commit(&mut |output| outputs.push(output));
/// assert!(matches!(outputs[0], Output::Registered { id: 1, .. }));
/// # Ok::<(), oplife_machine::LifecycleError<Small>>(())
/// ```
pub struct Accepted<'s, D: Domain> {
    compiled: &'s Compiled,
    state: &'s mut State<D>,
    input: Input,
    decision: Decision<D>,
}

/// What the accepted request's row will do.
enum Decision<D: Domain> {
    /// A row of one operation, with what its effects install.
    Operation { id: D::OpId, decided: Decided<D>, payload: Payload<D> },
    /// A registry row, with the request its effects read.
    Registry { row: RowId, request: Request<D> },
}

impl<'s, D: Domain> Accepted<'s, D> {
    /// Selects the row answering `request` in `state` and checks its
    /// guards, once.
    #[inline]
    pub(crate) fn of(
        compiled: &'s Compiled,
        state: &'s mut State<D>,
        request: Request<D>,
    ) -> Result<Self, LifecycleError<D>> {
        let input = request.input();
        let decision = match request.into_operation() {
            Ok((input, id, mut payload)) => {
                let deciding =
                    Run { lifecycle: compiled, out: &mut |_| {}, fired: &mut |_| {}, reuse: None, appended: None };
                let decided = deciding.accept(state, input, None, &id, &mut payload)?;
                Decision::Operation { id, decided, payload }
            }
            Err(request) => Decision::Registry { row: select_registry_row(compiled, state, &request)?, request },
        };
        Ok(Accepted { compiled, state, input, decision })
    }

    /// The row that answers the request.
    pub fn row(&self) -> RowId {
        match &self.decision {
            Decision::Operation { decided, .. } => decided.row,
            Decision::Registry { row, .. } => *row,
        }
    }

    /// The effects of the row accepted, as the table lists them (a
    /// terminal row of a kind that drops its ending runs the dropped chain
    /// instead). A caller that keeps state of its own beside the machine
    /// reads here what the row will do before it commits.
    pub fn effects(&self) -> &[Effect] {
        self.compiled.table().row(self.row()).map_or(&[], |rule| rule.effects.as_slice())
    }

    /// The table the request's rows come from (for a caller that looks up
    /// the rows [`Accepted::commit_traced`] reports, while committing).
    pub fn table(&self) -> &'s oplife_spec::Table {
        self.compiled.table()
    }

    /// The input the request makes.
    pub fn input(&self) -> Input {
        self.input
    }

    /// Whether the table journals this input: a durable runtime writes the
    /// request to its journal before it commits.
    pub fn journaled(&self) -> bool {
        self.compiled.table().journaled(self.input())
    }

    /// Runs the row's effects, handing each output to `emit` as it is made,
    /// in order. Nothing here can refuse.
    #[inline]
    pub fn commit(self, emit: &mut dyn FnMut(Output<D>)) {
        self.commit_traced(emit, &mut |_| {});
    }

    /// Like [`Accepted::commit`], calling `fired` with every row that fires,
    /// cascaded rows included (used for row coverage).
    #[inline]
    pub fn commit_traced(self, emit: &mut dyn FnMut(Output<D>), fired: &mut dyn FnMut(RowId)) {
        let Accepted { compiled, state, decision, .. } = self;
        let mut run = Run { lifecycle: compiled, out: emit, fired, reuse: None, appended: None };
        match decision {
            Decision::Operation { id, decided, payload } => run.commit(state, &id, decided, payload),
            Decision::Registry { row, request } => run.commit_registry(state, row, request),
        }
    }
}

impl<D: Domain> std::fmt::Debug for Accepted<'_, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accepted").field("row", &self.row()).field("input", &self.input()).finish()
    }
}
