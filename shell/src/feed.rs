//! The completion feed as the registry exposes it: the machine's entries,
//! with the display name and completion time the shell keeps for them.

use std::collections::VecDeque;
use std::ops::RangeInclusive;

use oplife_machine::Feed;

use crate::record::Records;
use crate::snapshot::FeedDetail;
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
    /// The highest sequence number retention had dropped when the page was
    /// read (0 when none had been): a consumer whose cursor is below it
    /// missed entries.
    pub dropped_through: u64,
}

/// What the shell keeps of one retained feed entry. The display name stays
/// in the operation's record while the record is kept and moves here when
/// the record is forgotten, so no entry copies a name.
#[derive(Debug)]
struct Detail {
    seq: u64,
    id: OperationId,
    /// `None` while the record holds the name.
    display_name: Option<String>,
    completed_at_ms: u64,
}

/// The shell's details of the retained feed entries, in sequence order.
#[derive(Debug, Default)]
pub(crate) struct FeedDetails {
    details: VecDeque<Detail>,
}

impl FeedDetails {
    /// Details captured in a snapshot, each keeping its name; `minted`
    /// gives the operation of each captured entry, by sequence number.
    pub(crate) fn from_details(details: Vec<FeedDetail>, minted: impl Iterator<Item = (u64, OperationId)>) -> Self {
        let ids: std::collections::HashMap<u64, OperationId> = minted.collect();
        let details = details
            .into_iter()
            .filter_map(|d| {
                let id = *ids.get(&d.seq)?;
                Some(Detail { seq: d.seq, id, display_name: Some(d.display_name), completed_at_ms: d.completed_at_ms })
            })
            .collect();
        FeedDetails { details }
    }

    /// The entry `seq` minted for `id`, whose record holds its name.
    pub(crate) fn push(&mut self, seq: u64, id: OperationId, completed_at_ms: u64) {
        self.details.push_back(Detail { seq, id, display_name: None, completed_at_ms });
    }

    /// The record of the operation whose entry is `seq` is being forgotten:
    /// the entry keeps its name, if the entry is still retained.
    pub(crate) fn adopt_name(&mut self, seq: u64, display_name: String) {
        if let Some(detail) = self.get_mut(seq) {
            detail.display_name = Some(display_name);
        }
    }

    /// Forgets the details of entries the machine no longer retains.
    pub(crate) fn trim(&mut self, feed: &Feed<ShellDomain>) {
        let first = feed.first_retained();
        while self.details.front().is_some_and(|d| d.seq < first) {
            self.details.pop_front();
        }
    }

    /// Every retained detail, names filled in from `records`.
    pub(crate) fn all(&self, records: &Records) -> Vec<FeedDetail> {
        self.details
            .iter()
            .map(|d| FeedDetail {
                seq: d.seq,
                display_name: name(d, records).to_owned(),
                completed_at_ms: d.completed_at_ms,
            })
            .collect()
    }

    fn get(&self, seq: u64) -> Option<&Detail> {
        let first = self.details.front()?.seq;
        let at = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.details.get(at).filter(|d| d.seq == seq)
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut Detail> {
        let first = self.details.front()?.seq;
        let at = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.details.get_mut(at).filter(|d| d.seq == seq)
    }

    /// The page after `seq`, joining the machine's entries with the details
    /// (and the names the records hold).
    pub(crate) fn page(&self, feed: &Feed<ShellDomain>, records: &Records, seq: u64) -> FeedPage {
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
                    display_name: detail.map(|d| name(d, records).to_owned()).unwrap_or_default(),
                    outcome: entry.outcome.clone(),
                    completed_at_ms: detail.map_or(0, |d| d.completed_at_ms),
                }
            })
            .collect();
        let dropped_through = feed.entries().next().map_or(feed.watermark(), |first| first.seq.saturating_sub(1));
        FeedPage { missed: since.missed, entries, watermark: feed.watermark(), dropped_through }
    }
}

/// The display name of `detail`'s operation: its own once the record is
/// forgotten, else the record's.
fn name<'a>(detail: &'a Detail, records: &'a Records) -> &'a str {
    match &detail.display_name {
        Some(name) => name,
        None => records.get(&detail.id).map_or("", |r| r.display_name.as_str()),
    }
}
