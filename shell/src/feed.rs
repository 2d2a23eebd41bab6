//! The completion feed as the registry exposes it: the machine's entries,
//! with the display name and completion time the shell keeps for them.

use std::collections::VecDeque;
use std::ops::RangeInclusive;

use oplife_machine::Feed;

use crate::types::{OperationId, OperationKind, SharedTerminalOutcome, ShellDomain};

/// One entry of the completion feed: one operation's terminal transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionFeedEntry {
    /// The sequence number the machine minted for it (strictly increasing,
    /// never reused).
    pub seq: u64,
    /// The operation that ended.
    pub id: OperationId,
    /// Its kind.
    pub kind: OperationKind,
    /// Its display name.
    pub display_name: String,
    /// Its outcome.
    pub outcome: SharedTerminalOutcome,
    /// Wall-clock time it ended, milliseconds since the Unix epoch.
    pub completed_at_ms: u64,
}

/// The answer to [`crate::RuntimeOpsLifecycleRegistry::list_since`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    /// Sequence numbers after the one asked for that retention dropped
    /// before they were read; `None` when nothing was missed.
    pub missed: Option<RangeInclusive<u64>>,
    /// The retained entries after the one asked for, oldest first.
    pub entries: Vec<CompletionFeedEntry>,
    /// The feed's watermark when the page was read: pass it to the next
    /// `list_since` (or `wait_for_watermark`) to continue.
    pub watermark: u64,
}

/// What the shell keeps for one feed entry besides the machine's record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FeedDetail {
    /// The entry's sequence number.
    pub seq: u64,
    /// The operation's display name.
    pub display_name: String,
    /// When it ended, milliseconds since the Unix epoch.
    pub completed_at_ms: u64,
}

/// The shell's details of the retained feed entries, in sequence order.
#[derive(Debug, Default)]
pub(crate) struct FeedDetails {
    details: VecDeque<FeedDetail>,
}

impl FeedDetails {
    pub(crate) fn from_details(details: Vec<FeedDetail>) -> Self {
        FeedDetails { details: details.into() }
    }

    pub(crate) fn push(&mut self, detail: FeedDetail) {
        self.details.push_back(detail);
    }

    /// Forgets the details of entries the machine no longer retains.
    pub(crate) fn trim(&mut self, feed: &Feed<ShellDomain>) {
        let first = feed.first_retained();
        while self.details.front().is_some_and(|d| d.seq < first) {
            self.details.pop_front();
        }
    }

    pub(crate) fn all(&self) -> Vec<FeedDetail> {
        self.details.iter().cloned().collect()
    }

    fn get(&self, seq: u64) -> Option<&FeedDetail> {
        let first = self.details.front()?.seq;
        let at = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.details.get(at).filter(|d| d.seq == seq)
    }

    /// The page after `seq`, joining the machine's entries with the details.
    pub(crate) fn page(&self, feed: &Feed<ShellDomain>, seq: u64) -> FeedPage {
        let since = feed.since(seq);
        let entries = since
            .entries
            .into_iter()
            .map(|entry| {
                let detail = self.get(entry.seq);
                CompletionFeedEntry {
                    seq: entry.seq,
                    id: entry.id,
                    kind: entry.kind,
                    display_name: detail.map(|d| d.display_name.clone()).unwrap_or_default(),
                    outcome: entry.outcome.clone(),
                    completed_at_ms: detail.map_or(0, |d| d.completed_at_ms),
                }
            })
            .collect();
        FeedPage { missed: since.missed, entries, watermark: feed.watermark() }
    }
}
