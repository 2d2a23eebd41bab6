//! The completion feed: one entry per terminal transition, numbered by the
//! machine, with bounded retention.

use std::collections::VecDeque;
use std::ops::RangeInclusive;

use oplife_spec::OperationKind;

use crate::outcome::{Domain, SharedOutcome};

/// One terminal transition, as the feed records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "D::OpId: serde::Serialize, D::Progress: serde::Serialize, D::Shared: serde::Serialize",
        deserialize = "D::OpId: serde::Deserialize<'de>, D::Progress: serde::Deserialize<'de>, D::Shared: serde::Deserialize<'de>"
    ))
)]
pub struct FeedEntry<D: Domain> {
    /// The sequence number the machine minted for the transition: one per
    /// terminal transition, strictly increasing, never reused.
    pub seq: u64,
    /// The operation that ended.
    pub id: D::OpId,
    /// Its kind.
    pub kind: OperationKind,
    /// The outcome it ended with.
    pub outcome: SharedOutcome<D>,
}

/// The completion feed: the last minted sequence number (the watermark) and
/// the most recent entries, oldest first.
///
/// The retained entries are always the last ones minted, so their sequence
/// numbers are consecutive and the newest equals the watermark.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Feed<D: Domain> {
    pub(crate) watermark: u64,
    pub(crate) entries: VecDeque<FeedEntry<D>>,
}

clone_by_field!(Feed { watermark, entries });

impl<D: Domain> Default for Feed<D> {
    fn default() -> Self {
        Feed { watermark: 0, entries: VecDeque::new() }
    }
}

/// The answer to [`Feed::since`]: the entries after a sequence number that
/// are still retained, and the range that was dropped before the consumer
/// read it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSince<'a, D: Domain> {
    /// Sequence numbers after the one asked for that retention already
    /// dropped; `None` when nothing was missed.
    pub missed: Option<RangeInclusive<u64>>,
    /// The retained entries after the one asked for, oldest first.
    pub entries: Vec<&'a FeedEntry<D>>,
}

impl<D: Domain> Feed<D> {
    /// The last sequence number minted; 0 before the first terminal
    /// transition.
    pub fn watermark(&self) -> u64 {
        self.watermark
    }

    /// The retained entries, oldest first.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &FeedEntry<D>> {
        self.entries.iter()
    }

    /// The oldest sequence number still retained; `watermark + 1` when the
    /// feed retains nothing.
    pub fn first_retained(&self) -> u64 {
        self.entries.front().map_or(self.watermark.saturating_add(1), |e| e.seq)
    }

    /// The entries after `seq`, and the range after `seq` that retention
    /// already dropped (never skipped silently).
    ///
    /// ```
    /// use oplife_machine::{Domain, Lifecycle, Limits, Request, State};
    /// use oplife_spec::OperationKind;
    ///
    /// # #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    /// # struct Small;
    /// # impl Domain for Small {
    /// #     type OpId = u8; type WaitId = u8; type RunId = (); type Result = (); type Error = ();
    /// #     type Reason = (); type Progress = (); type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
    /// # }
    /// let lifecycle = Lifecycle::standard(Limits { feed_retention: 2, ..Limits::default() });
    /// let mut state = State::<Small>::new();
    /// for id in 1..=3 {
    ///     lifecycle.apply(&mut state, Request::Register { id, kind: OperationKind::BackgroundToolOp, expects_peer: false, kind_limit: None, limit: None, source: None })?;
    ///     lifecycle.apply(&mut state, Request::Cancel { id, reason: None })?;
    /// }
    /// assert_eq!(state.feed().watermark(), 3);
    /// let since = state.feed().since(0);
    /// assert_eq!(since.missed, Some(1..=1)); // entry 1 was dropped
    /// assert_eq!(since.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
    /// assert!(state.feed().since(3).entries.is_empty());
    /// # Ok::<(), oplife_machine::LifecycleError<Small>>(())
    /// ```
    pub fn since(&self, seq: u64) -> FeedSince<'_, D> {
        let first = self.first_retained();
        let missed = (seq.saturating_add(1) < first).then(|| seq.saturating_add(1)..=first.saturating_sub(1));
        let skip = usize::try_from(seq.saturating_add(1).saturating_sub(first)).unwrap_or(usize::MAX);
        FeedSince { missed, entries: self.entries.iter().skip(skip).collect() }
    }

    /// Mints the next sequence number for `id`'s terminal transition and
    /// drops the oldest entries beyond `retention`.
    pub(crate) fn append(
        &mut self,
        id: D::OpId,
        kind: OperationKind,
        outcome: SharedOutcome<D>,
        retention: usize,
    ) -> u64 {
        self.watermark = self.watermark.saturating_add(1);
        self.entries.push_back(FeedEntry { seq: self.watermark, id, kind, outcome });
        self.trim(retention);
        self.watermark
    }

    pub(crate) fn trim(&mut self, retention: usize) {
        while self.entries.len() > retention {
            self.entries.pop_front();
        }
    }
}
