//! The table compiled into a dispatch structure, and the entry points that
//! apply a request.
//!
//! Nothing here decides what is legal: [`Lifecycle::accept`] looks up the
//! row the table gives for the input and the current status (or registry
//! phase) and checks its guards; [`Accepted::commit`] runs the effects it
//! names. [`Lifecycle::apply`] is both.

use oplife_spec::{RowId, Table, TableError};

use crate::accepted::Accepted;
use crate::compiled::Compiled;

use crate::error::LifecycleError;
use crate::limits::Limits;
use crate::outcome::Domain;
use crate::output::Output;
use crate::request::Request;
use crate::state::State;

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
///     type RunId = ();
///     type Result = &'static str;
///     type Error = ();
///     type Reason = ();
///     type Progress = ();
///     type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
/// }
///
/// let lifecycle = Lifecycle::standard(Limits::default());
/// let mut state = State::<Small>::new();
/// lifecycle.apply(&mut state, Request::Register { id: 1, kind: OperationKind::BackgroundToolOp, expects_peer: false, kind_limit: None, limit: None, source: None })?;
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
    compiled: Compiled,
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
        Lifecycle { compiled: Compiled::new(table, limits) }
    }

    /// The table this lifecycle was compiled from.
    pub fn table(&self) -> &Table {
        self.compiled.table()
    }

    /// The registry limits.
    pub fn limits(&self) -> Limits {
        self.compiled.limits()
    }

    /// Whether a durable registry journals `request` once it is accepted
    /// in `state` (the state before it): the table journals its input
    /// ([`Table::journaled`]) and the operation it registers or names is
    /// of a durable kind ([`Table::durable`]). A call on an operation whose
    /// kind is not durable changes nothing an image holds, so a journal
    /// never needs it.
    ///
    /// ```
    /// use oplife_machine::{Lifecycle, Limits, Request, State};
    /// use oplife_machine::spec::OperationKind;
    /// # #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    /// # struct Small;
    /// # impl oplife_machine::Domain for Small {
    /// #     type OpId = u8; type WaitId = u8; type RunId = (); type Result = (); type Error = ();
    /// #     type Reason = (); type Progress = (); type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
    /// # }
    /// let lifecycle = Lifecycle::standard(Limits::default());
    /// let state = State::<Small>::new();
    /// let register = |kind| Request::Register { id: 1, kind, expects_peer: false, kind_limit: None, limit: None, source: None };
    /// assert!(lifecycle.journals(&state, &register(OperationKind::BackgroundToolOp)));
    /// assert!(!lifecycle.journals(&state, &register(OperationKind::BackgroundToolCapacitySlot)));
    /// ```
    pub fn journals<D: Domain>(&self, state: &State<D>, request: &Request<D>) -> bool {
        let table = self.table();
        if !table.journaled(request.input()) {
            return false;
        }
        match request {
            Request::Register { kind, .. } => table.durable(*kind),
            _ => request.operation().and_then(|id| state.operation(id)).is_none_or(|op| op.durable()),
        }
    }

    /// Applies `request` to `state` and returns the effects to carry out, in
    /// order.
    ///
    /// # Errors
    ///
    /// A [`LifecycleError`] when the table refuses the request; `state` is
    /// then unchanged. The refusal is decided reading `state` through a
    /// shared borrow, before anything changes, and the effects that follow
    /// cannot refuse: the compiler holds this, not a convention.
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
        self.apply_with(state, request, &mut |output| out.push(output))
    }

    /// Like [`Lifecycle::apply`], handing each effect to `emit` as the
    /// table's effects make it, in order, with nothing buffered: a runtime
    /// carries the effects out while the machine runs (owner termination of
    /// thousands of operations builds no list of outputs). A refused request
    /// emits nothing: every refusal is decided before the first change.
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
    /// let mut registered = 0;
    /// let register = Request::Register { id: 1, kind: OperationKind::BackgroundToolOp, expects_peer: false, kind_limit: None, limit: None, source: None };
    /// lifecycle.apply_with(&mut state, register, &mut |output| {
    ///     if let Output::Registered { .. } = output {
    ///         registered += 1;
    ///     }
    /// })?;
    /// assert_eq!(registered, 1);
    /// # Ok::<(), oplife_machine::LifecycleError<Small>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Lifecycle::apply`]; `emit` was then not called.
    pub fn apply_with<D: Domain>(
        &self,
        state: &mut State<D>,
        request: Request<D>,
        emit: &mut dyn FnMut(Output<D>),
    ) -> Result<(), LifecycleError<D>> {
        self.apply_traced(state, request, emit, &mut |_| {})
    }

    /// Accepts `request` in `state` without changing anything: selects the
    /// row the table gives and checks its guards, once, reading the state
    /// through a shared borrow. [`Accepted::commit`] then runs the row's
    /// effects, which cannot refuse; dropping the [`Accepted`] leaves the
    /// state as it was. `apply` is the two phases in one call.
    ///
    /// A durable runtime journals an accepted request between the phases,
    /// so a failed write drops it with nothing changed.
    ///
    /// # Errors
    ///
    /// The [`LifecycleError`] `apply` would return.
    #[inline]
    pub fn accept<'s, D: Domain>(
        &'s self,
        state: &'s mut State<D>,
        request: Request<D>,
    ) -> Result<Accepted<'s, D>, LifecycleError<D>> {
        Accepted::of(&self.compiled, state, request)
    }

    /// Like [`Lifecycle::apply_with`], calling `fired` with every row that
    /// fires, cascaded rows included (used for row coverage).
    ///
    /// # Errors
    ///
    /// As [`Lifecycle::apply`].
    pub fn apply_traced<D: Domain>(
        &self,
        state: &mut State<D>,
        request: Request<D>,
        out: &mut dyn FnMut(Output<D>),
        fired: &mut dyn FnMut(RowId),
    ) -> Result<(), LifecycleError<D>> {
        self.accept(state, request)?.commit_traced(out, fired);
        Ok(())
    }
}
