//! One lifecycle and one state, bundled for embedders.

use crate::accepted::Accepted;
use crate::error::LifecycleError;
use crate::lifecycle::Lifecycle;
use crate::limits::Limits;
use crate::outcome::Domain;
use crate::output::Output;
use crate::request::Request;
use crate::state::State;

/// A [`Lifecycle`] with the [`State`] it drives.
#[derive(Debug, Clone)]
pub struct Machine<D: Domain> {
    lifecycle: Lifecycle,
    state: State<D>,
}

impl<D: Domain> Machine<D> {
    /// An empty registry running the shipped table with `limits`.
    pub fn new(limits: Limits) -> Self {
        Self::with_lifecycle(Lifecycle::standard(limits))
    }

    /// An empty registry running `lifecycle`.
    pub fn with_lifecycle(lifecycle: Lifecycle) -> Self {
        Machine { lifecycle, state: State::new() }
    }

    /// Applies `request`; see [`Lifecycle::apply`].
    ///
    /// # Errors
    ///
    /// A [`LifecycleError`] when the table refuses the request; the state is
    /// then unchanged.
    pub fn apply(&mut self, request: Request<D>) -> Result<Vec<Output<D>>, LifecycleError<D>> {
        self.lifecycle.apply(&mut self.state, request)
    }

    /// Applies `request`, appending the outputs to `out`; see
    /// [`Lifecycle::apply_into`].
    ///
    /// # Errors
    ///
    /// As [`Machine::apply`].
    pub fn apply_into(&mut self, request: Request<D>, out: &mut Vec<Output<D>>) -> Result<(), LifecycleError<D>> {
        self.lifecycle.apply_into(&mut self.state, request, out)
    }

    /// Applies `request`, handing each output to `emit` as it is made; see
    /// [`Lifecycle::apply_with`].
    ///
    /// # Errors
    ///
    /// As [`Machine::apply`]; `emit` was then not called.
    pub fn apply_with(
        &mut self,
        request: Request<D>,
        emit: &mut dyn FnMut(Output<D>),
    ) -> Result<(), LifecycleError<D>> {
        self.lifecycle.apply_with(&mut self.state, request, emit)
    }

    /// Accepts `request` without changing anything; see
    /// [`Lifecycle::accept`].
    ///
    /// # Errors
    ///
    /// As [`Machine::apply`].
    #[inline]
    pub fn accept(&mut self, request: Request<D>) -> Result<Accepted<'_, D>, LifecycleError<D>> {
        let Machine { lifecycle, state } = self;
        lifecycle.accept(state, request)
    }

    /// The state.
    pub fn state(&self) -> &State<D> {
        &self.state
    }

    /// The compiled lifecycle.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }
}
