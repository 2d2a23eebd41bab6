//! The journal as the call pipeline sees it (durable registries): an entry
//! made before the machine accepts a call, written between accept and
//! commit (so a failed write changes nothing), and compaction when due.

use std::collections::BTreeMap;

use oplife_machine::{Machine, Request};

use crate::call::{Call, Now};
use crate::codec::encode;
use crate::durable::journal::{ChangeRef, DurableImage, EntryRef};
use crate::durable::writer::{Journal, Ticket};
use crate::error::StoreError;
use crate::snapshot::RegistrySnapshot;
use crate::types::ShellDomain;

/// The journal of a registry: none for one that is not durable.
#[derive(Debug)]
pub(crate) struct Journaling {
    journal: Option<Journal>,
}

/// A call encoded for the journal, before the machine saw it; `None` when
/// the registry or the table journals nothing of it.
pub(crate) struct Prepared(Option<Vec<u8>>);

fn encoded(entry: &EntryRef<'_>) -> Result<Vec<u8>, StoreError> {
    encode(entry).map_err(|why| StoreError::Other(format!("cannot encode a journal entry: {why}")))
}

impl Journaling {
    /// No journal: a registry that is not durable (yet).
    pub(crate) fn none() -> Self {
        Journaling { journal: None }
    }

    /// The journaling of a registry written to `journal`.
    pub(crate) fn to(journal: Journal) -> Self {
        Journaling { journal: Some(journal) }
    }

    /// The journal, when the registry is durable.
    pub(crate) fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// `request` encoded with what `call` brings, if the registry is
    /// durable and `table` journals its input.
    ///
    /// # Errors
    ///
    /// The store's error while writes are refused (a `Batched` group
    /// commit or a `Sync` group sync failed).
    pub(crate) fn prepare(
        &self,
        machine: &Machine<ShellDomain>,
        request: &Request<ShellDomain>,
        call: &Call,
        now: &Now<'_>,
    ) -> Result<Prepared, StoreError> {
        let Some(journal) = &self.journal else { return Ok(Prepared(None)) };
        if !machine.lifecycle().journals(machine.state(), request) {
            return Ok(Prepared(None));
        }
        if let Some(error) = journal.refusing() {
            return Err(error);
        }
        let (registered, peer, origin) = match call {
            Call::Register(Some(record)) => {
                (Some((record.display_name.as_str(), record.child_session_id)), None, Some(&record.origin))
            }
            Call::PeerReady(peer) => (None, peer.as_ref(), None),
            _ => (None, None, None),
        };
        let change = ChangeRef::Call { request, registered, peer, origin };
        Ok(Prepared(Some(encoded(&EntryRef { at_ms: now.ms(), change })?)))
    }

    /// Writes a call the machine accepted: `Sync` writes it now and
    /// returns the sync to wait for once the lock is released, `Batched`
    /// queues it.
    ///
    /// # Errors
    ///
    /// The store's error; nothing was written, and the call must be
    /// dropped uncommitted.
    pub(crate) fn write(&mut self, prepared: Prepared) -> Result<Option<Ticket>, StoreError> {
        let (Some(journal), Prepared(Some(bytes))) = (&mut self.journal, prepared) else { return Ok(None) };
        journal.write(bytes)
    }

    /// Writes a consumer's cursor move, as [`Journaling::write`] writes a
    /// call; `Ok(None)` when the registry is not durable.
    ///
    /// # Errors
    ///
    /// As [`Journaling::write`]: the cursor must not move.
    pub(crate) fn write_cursor(&mut self, consumer: &str, seq: u64, now_ms: u64) -> Result<Option<Ticket>, StoreError> {
        let Some(journal) = &mut self.journal else { return Ok(None) };
        if let Some(error) = journal.refusing() {
            return Err(error);
        }
        journal.write(encoded(&EntryRef { at_ms: now_ms, change: ChangeRef::Cursor { consumer, seq } })?)
    }

    /// After a written call or cursor was committed: the feed watermark it
    /// left; true when the journal is due for an image.
    pub(crate) fn applied(&mut self, feed_watermark: u64) -> bool {
        self.journal.as_mut().is_some_and(|journal| journal.applied(feed_watermark))
    }

    /// Writes the registry's `snapshot` and `cursors` as the image
    /// including every record written so far.
    pub(crate) fn compact(&mut self, snapshot: RegistrySnapshot, cursors: &BTreeMap<String, u64>) {
        if let Some(journal) = &mut self.journal {
            journal.compact(DurableImage { snapshot, cursors: cursors.clone() });
        }
    }

    /// The feed watermark a crash cannot take back, when durable.
    pub(crate) fn durable_feed_watermark(&self) -> Option<u64> {
        self.journal.as_ref().map(|journal| journal.mark().feed_watermark)
    }
}
