//! The stateright model: the real machine, driven through every
//! interleaving of registry calls, with an environment that remembers what
//! it was told.

use std::sync::Arc;

use oplife_machine::{Image, Lifecycle, Output, Request, State};
use oplife_spec::{ErrorKind, Input, Retry, Status, Table, Target};

use crate::action::{Action, lost_policy};
use crate::config::ModelConfig;
use crate::coverage::Coverage;
use crate::domain::Tiny;
use crate::observe::{observe, observe_restart};
use crate::state::{ModelState, fault, witness};

/// The model of one table (the shipped one or a mutant) under one
/// configuration.
#[derive(Debug, Clone)]
pub struct LifecycleModel {
    /// What universe is explored.
    pub config: ModelConfig,
    /// The compiled table under check.
    pub lifecycle: Arc<Lifecycle>,
    /// Rows fired and errors produced so far.
    pub coverage: Arc<Coverage>,
    /// Whether states record what the step into them showed, for the
    /// `sometimes` properties. Off for the exhaustive run (witness bits would
    /// multiply its states), on for the example run.
    pub witnesses: bool,
    /// Whether the model offers every property, `always` and `sometimes`
    /// (for the Explorer; witnesses are then on).
    pub all_properties: bool,
    /// Whether every successor is replaced by its symmetry representative
    /// (reduction over operation ids that works with any search strategy).
    pub symmetric: bool,
}

impl LifecycleModel {
    /// The model of `table` (compiled without validation, so mutants run).
    pub fn new(table: Table, config: ModelConfig) -> Self {
        let rows = table.rows.len();
        LifecycleModel {
            config,
            lifecycle: Arc::new(Lifecycle::new_unchecked(table, config.limits())),
            coverage: Arc::new(Coverage::new(rows)),
            witnesses: false,
            all_properties: false,
            symmetric: false,
        }
    }

    /// The same model with witnesses on: it checks the `sometimes`
    /// properties instead of the `always` ones.
    #[must_use]
    pub fn with_witnesses(mut self) -> Self {
        self.witnesses = true;
        self
    }

    /// The same model with every property, `always` and `sometimes`, for
    /// stateright's Explorer.
    #[must_use]
    pub fn for_explorer(mut self) -> Self {
        self.witnesses = true;
        self.all_properties = true;
        self
    }

    /// The same model recording into `coverage` (shared across the
    /// configurations of a suite).
    #[must_use]
    pub fn with_coverage(mut self, coverage: Arc<Coverage>) -> Self {
        self.coverage = coverage;
        self
    }

    /// The same model with symmetry reduction over operation ids.
    #[must_use]
    pub fn with_symmetry(mut self, on: bool) -> Self {
        self.symmetric = on;
        self
    }

    /// The model of the shipped table.
    pub fn standard(config: ModelConfig) -> Self {
        Self::new(Table::standard(), config)
    }

    /// Applies `action` to `state` and returns the machine's outputs with
    /// the next state (or the refusal). Used by `next_state` and to explain
    /// counterexamples.
    pub fn step(
        &self,
        state: &ModelState,
        action: Action,
    ) -> (ModelState, Result<Vec<Output<Tiny>>, oplife_machine::LifecycleError<Tiny>>) {
        let mut next = state.clone();
        let mut out = Vec::new();
        let result = self.step_into(state, action, &mut next, &mut out);
        (next, result.map(|()| out))
    }

    /// [`LifecycleModel::step`] into `next`, which must equal `state`, with
    /// the outputs appended to `out` (both buffers are reused by the search).
    pub(crate) fn step_into(
        &self,
        state: &ModelState,
        action: Action,
        next: &mut ModelState,
        out: &mut Vec<Output<Tiny>>,
    ) -> Result<(), oplife_machine::LifecycleError<Tiny>> {
        next.witnessed = 0;
        let coverage = &self.coverage;
        let request = match action {
            // A crash reopens the journal: its image resumed, then restored.
            Action::Crash { cancel } => match self.durable_image(&state.machine) {
                Some(image) => Request::Restore { image: Box::new(image), policy: lost_policy(cancel) },
                None => {
                    next.faults |= fault::RESTORE;
                    return Ok(());
                }
            },
            _ => action.request(&state.machine),
        };
        if action.replaces_process() {
            next.machine = State::new();
        }
        let result = self
            .lifecycle
            .apply_traced(&mut next.machine, request, &mut |o| out.push(o), &mut |row| coverage.row_fired(row));
        // A refusal is read where the machine wrote it, not moved out
        // first: most calls the search makes are refused.
        match &result {
            Err(error) => {
                coverage.error_produced(error.kind());
                if action.replaces_process() {
                    // A fresh registry must accept the image of any state.
                    next.machine = state.machine.clone();
                    next.faults |= fault::RESTORE;
                } else if cfg!(debug_assertions) && next.machine != state.machine {
                    // The machine decides a refusal reading the state through
                    // a shared borrow, before its first change, so a refusal
                    // cannot have changed it: the compiler holds property 10
                    // in every state, reachable or not. Debug builds compare
                    // anyway (this comparison was a tenth of the search).
                    next.faults |= fault::REJECTION_CHANGED_STATE;
                }
                if self.witnesses && error.kind() == ErrorKind::MaxConcurrentExceeded {
                    next.witnessed |= witness::LIMIT_REFUSED;
                }
                if self.witnesses && error.kind() == ErrorKind::AdmissionLimitExceeded {
                    next.witnessed |= witness::ADMISSION_REFUSED;
                }
                if self.witnesses && state.fenced && error.kind() == ErrorKind::Sealed {
                    next.witnessed |= witness::FENCED_REFUSED;
                }
                if let Action::Op(input, id) = action {
                    // A sealed registry's refusal says nothing of what
                    // happened: the newer owner's store holds that.
                    let expected = match state.fenced {
                        true => Retry::Invalid,
                        false => what_happened(input, state.machine.status(&id)),
                    };
                    if error.retry() != expected {
                        next.faults |= fault::RETRY;
                    }
                    if self.witnesses && error.retry() == Retry::Repeat {
                        next.witnessed |= witness::RETRY_REPEAT;
                    }
                }
                result
            }
            Ok(()) => {
                observe(state, next, action, out);
                // Past a takeover the store belongs to the newer owner, and
                // holds what it held at the takeover: this registry must
                // not change what it would have written there.
                if state.fenced && !next.machine.same_image(&state.machine) {
                    next.faults |= fault::FENCED_WROTE;
                }
                if action == Action::Takeover {
                    next.fenced = true;
                }
                if let Action::Restart { cancel } | Action::Crash { cancel } = action {
                    observe_restart(&self.config, state, next, cancel, matches!(action, Action::Crash { .. }));
                }
                // The request is made again from the action (a copy made
                // before the step was wasted on every refusal).
                // (A takeover writes nothing, and nothing after it can be
                // written: the property above checks those steps.)
                if self.config.crashes
                    && !action.replaces_process()
                    && !state.fenced
                    && action != Action::Takeover
                    && !self.journal_replays(&state.machine, action.request(&state.machine), &next.machine)
                {
                    next.faults |= fault::LOST_IN_CRASH;
                }
                if !self.witnesses {
                    next.witnessed = 0;
                    for w in &mut next.waits {
                        w.evicted = 0;
                    }
                }
                Ok(())
            }
        }
    }

    /// What a durable registry reopens from after a crash in `state`: its
    /// image resumed into a fresh registry (`None` if the resume is
    /// refused). Every step before was checked to replay into it
    /// ([`LifecycleModel::journal_replays`]).
    fn durable_image(&self, state: &State<Tiny>) -> Option<Image<Tiny>> {
        self.with_durable(state, |durable| durable.resumed.as_ref().map(State::image))
    }

    /// Whether a crash in `state` reopens exactly the image a restart
    /// restores, so that the crash makes the successor the restart makes:
    /// the durable image resumed is the state's own image. While the
    /// journal is faithful, that is every state.
    pub(crate) fn crash_is_restart(&self, state: &State<Tiny>) -> bool {
        self.with_durable(state, |durable| durable.faithful)
    }

    /// Whether a durable registry that had journaled everything up to
    /// `before` recovers `after` once `request` was accepted: the image of
    /// `before` resumed, `request` replayed if the table journals it, and
    /// the result has the durable state of `after`. A call the table does
    /// not journal must leave the durable state as it was.
    fn journal_replays(&self, before: &State<Tiny>, request: Request<Tiny>, after: &State<Tiny>) -> bool {
        self.with_durable(before, |durable| {
            let Durable { resumed: Some(resumed), replayed, identical, .. } = durable else {
                return false;
            };
            if !self.lifecycle.table().journaled(request.input()) {
                return after.same_image(before);
            }
            // The machine is a function of its state and the request: when
            // the journal resumed `before` itself, replaying the request
            // makes `after` again, and there is nothing to compare.
            if *identical {
                return true;
            }
            replayed.clone_from(resumed);
            if self.lifecycle.apply_with(replayed, request, &mut |_| {}).is_err() {
                return false;
            }
            after.same_image(replayed)
        })
    }

    /// Reads the durable state of `before` (see [`Durable`]). Every action
    /// of one state replays onto the same durable state: it is resumed once
    /// per state this thread expands, not once per action.
    fn with_durable<R>(&self, before: &State<Tiny>, read: impl FnOnce(&mut Durable) -> R) -> R {
        DURABLE.with(|cache| {
            let mut cache = cache.borrow_mut();
            // The cached state is read in place: moving it out and back
            // copied three machine states on every call.
            let current = match cache.as_ref() {
                Some(durable) if durable.pinned && EXPANDING.get() == address(before) => {
                    debug_assert!(durable.before == *before, "the pinned durable state is of another state");
                    true
                }
                Some(durable) => durable.before == *before,
                None => false,
            };
            if !current {
                let replayed = cache.take().map_or_else(State::new, |durable| durable.replayed);
                *cache = Some(self.resume(before, replayed));
            }
            read(cache.get_or_insert_with(|| self.resume(before, State::new())))
        })
    }

    /// Runs `expand`, the expansion of `state`, with the durable state of
    /// `state` pinned for this thread: while `state` is borrowed it cannot
    /// change, so a durable state made for it during the call is found by
    /// its address instead of compared whole on every accepted call.
    pub(crate) fn expanding<R>(&self, state: &State<Tiny>, expand: impl FnOnce() -> R) -> R {
        if !self.config.crashes {
            return expand();
        }
        /// Unpins on the way out, unwinding included.
        struct Unpin(usize);
        impl Drop for Unpin {
            fn drop(&mut self) {
                EXPANDING.set(self.0);
                let _ = DURABLE.try_with(|cache| {
                    if let Ok(mut cache) = cache.try_borrow_mut()
                        && let Some(durable) = cache.as_mut()
                    {
                        durable.pinned = false;
                    }
                });
            }
        }
        self.with_durable(state, |durable| durable.pinned = true);
        let _unpin = Unpin(EXPANDING.replace(address(state)));
        expand()
    }

    /// The image of `before` resumed into a fresh registry, the rows it
    /// fires and the refusal it meets recorded as covered (`replayed`: the
    /// replay buffer of the state expanded before).
    fn resume(&self, before: &State<Tiny>, replayed: State<Tiny>) -> Durable {
        let mut resumed = State::new();
        let request = Request::Resume { image: Box::new(before.image()) };
        let coverage = &self.coverage;
        let resumed =
            match self.lifecycle.apply_traced(&mut resumed, request, &mut |_| {}, &mut |row| coverage.row_fired(row)) {
                Ok(()) => Some(resumed),
                Err(error) => {
                    coverage.error_produced(error.kind());
                    None
                }
            };
        let faithful = resumed.as_ref().is_some_and(|resumed| resumed.same_image(before));
        let identical = resumed.as_ref() == Some(before);
        Durable { before: before.clone(), resumed, faithful, identical, replayed, pinned: false }
    }
}

/// The durable state a crash in `before` reopens: its image resumed (`None`
/// if the resume was refused), cached per thread for the state being
/// expanded.
struct Durable {
    before: State<Tiny>,
    resumed: Option<State<Tiny>>,
    /// Whether the resumed image is the image of `before`.
    faithful: bool,
    /// Whether the resumed state is `before` itself (nothing pending that
    /// only the process held).
    identical: bool,
    /// A buffer a call is replayed in.
    replayed: State<Tiny>,
    /// Whether it is the durable state of the state being expanded
    /// ([`LifecycleModel::expanding`]).
    pinned: bool,
}

thread_local! {
    static DURABLE: std::cell::RefCell<Option<Durable>> = const { std::cell::RefCell::new(None) };
    /// The address of the machine state this thread expands (0: none).
    static EXPANDING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Where `state` is: the identity of a borrowed state.
fn address(state: &State<Tiny>) -> usize {
    std::ptr::from_ref(state) as usize
}

/// The terminal status each input ends an operation with in the shipped
/// table (`None`: its rows end none), by [`Input::index`]: read once, not
/// for every refusal.
static ENDS_AS: std::sync::LazyLock<[Option<Status>; Input::ALL.len()]> = std::sync::LazyLock::new(|| {
    Input::ALL.map(|input| {
        crate::properties::SHIPPED.rows.iter().find_map(|row| match row.target {
            Target::Status(target) if row.input == input && target.is_terminal() => Some(target),
            _ => None,
        })
    })
});

/// What a refusal of `input` for an operation in `status` is as a retry, by
/// what happened (read from the shipped table's rows, not its retry rows): a
/// call that ends an operation, refused because it already ended, is a
/// repeat if it ended the way the call would end it (the model's payloads
/// are always the same) and a conflict if it ended another way.
fn what_happened(input: Input, status: Status) -> Retry {
    match ENDS_AS.get(input.index()).copied().flatten() {
        Some(target) if status == target => Retry::Repeat,
        Some(_) if status.is_terminal() => Retry::Conflict,
        _ => Retry::Invalid,
    }
}
