//! What the model forgets after each step, so that the state space stays
//! finite and states that differ only in content already checked merge.

use oplife_machine::{FeedEntry, Outcome, Remap, SharedOutcome, State};
use oplife_spec::{OperationKind, OutcomeKind};

use crate::config::MAX_OPS;
use crate::domain::Tiny;
use crate::state::ModelState;

/// Blanks the outcomes pending waits captured in the environment's memory;
/// [`Forget`] does the same in the machine. Each was checked against the
/// outcome the environment saw when it was captured (`observe`); the machine
/// never changes a captured outcome, and a capture and the satisfaction it
/// completes happen in one step, before any blanking.
pub(crate) fn blank_checked_captures(next: &mut ModelState) {
    for w in &mut next.waits {
        for seen in w.seen.iter_mut().filter(|s| s.is_some()) {
            *seen = Some(OutcomeKind::Retired);
        }
    }
}

/// The id a blanked feed entry carries.
pub const BLANK_ID: u8 = u8::MAX;

/// What the model forgets of the machine's state after each step, through
/// the machine's one checker hook ([`State::remap`]), so that the state space
/// stays finite and states that differ only there merge:
/// - feed sequence numbers are rebased so that the watermark equals the
///   number of retained entries (the machine only compares them);
/// - feed entries no property reads any more are blanked: those of
///   operations that are forgotten, no longer terminal (the id was reused),
///   or that ended again since. Each entry's content was checked when it was
///   appended, the machine never reads it back, and restores copy entries as
///   they are;
/// - captured outcomes of pending waits are blanked (see
///   [`blank_checked_captures`]).
pub(crate) struct Forget {
    /// How far sequence numbers move down.
    shift: u64,
    /// The sequence number of each terminal op's newest entry.
    live: [Option<u64>; MAX_OPS],
}

impl Forget {
    pub(crate) fn of(machine: &State<Tiny>) -> Self {
        let feed = machine.feed();
        let shift = feed.watermark().saturating_sub(u64::try_from(feed.entries().len()).unwrap_or(u64::MAX));
        let mut live = [None::<u64>; MAX_OPS];
        for entry in feed.entries() {
            if machine.status(&entry.id).is_terminal()
                && let Some(newest) = live.get_mut(usize::from(entry.id))
            {
                *newest = Some(entry.seq);
            }
        }
        Forget { shift, live }
    }
}

impl Remap<Tiny> for Forget {
    fn renames(&self) -> bool {
        false
    }
    fn seq(&self, seq: u64) -> u64 {
        seq.saturating_sub(self.shift)
    }
    fn feed_entry(&self, entry: &mut FeedEntry<Tiny>) {
        if self.live.get(usize::from(entry.id)).copied().flatten() != Some(entry.seq) {
            entry.id = BLANK_ID;
            entry.kind = OperationKind::BackgroundToolOp;
            blank(&mut entry.outcome);
        }
    }
    fn captured(&self, outcome: &mut SharedOutcome<Tiny>) {
        blank(outcome);
    }
}

/// Replaces `outcome` by `Retired`, allocating only when it is not already.
fn blank(outcome: &mut SharedOutcome<Tiny>) {
    if **outcome != Outcome::Retired {
        *outcome = Outcome::Retired.into();
    }
}
