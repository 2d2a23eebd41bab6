//! What a durable registry reopens after a crash: the image of the state
//! before resumed into a fresh registry, computed once per state expanded.

use oplife_machine::{Image, Request, State};
use oplife_spec::Input;

use super::LifecycleModel;
use crate::domain::Tiny;

impl LifecycleModel {
    /// What a durable registry reopens from after a crash in `state`: its
    /// image resumed into a fresh registry (`None` if the resume is
    /// refused). Every step before was checked to replay into it
    /// ([`LifecycleModel::journal_replays`]).
    pub(super) fn durable_image(&self, state: &State<Tiny>) -> Option<Image<Tiny>> {
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
    pub(super) fn journal_replays(&self, before: &State<Tiny>, request: Request<Tiny>, after: &State<Tiny>) -> bool {
        self.with_durable(before, |durable| {
            let Durable { resumed: Some(resumed), replayed, identical, .. } = durable else {
                return false;
            };
            if !self.lifecycle.journals(before, &request) {
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
        coverage.input_called(Input::Resume);
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
