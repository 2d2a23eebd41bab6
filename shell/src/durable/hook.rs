//! Where a durable registry's journal meets each call: before the machine
//! applies an accepted call (`Sync`: the call is checked, journaled and
//! committed first, so a failed write changes nothing), and after it
//! (`Batched`: the call is queued; compaction when due).

use oplife_machine::Request;
use oplife_spec::Phase;

use crate::durable::journal::{ChangeRef, DurableImage, Entry, EntryRef, encode};
use crate::durable::options::Durability;
use crate::error::{OpsLifecycleError, StoreError};
use crate::state::{Call, Deliveries, RegistryState};
use crate::types::ShellDomain;

/// What [`RegistryState::journal_before`] leaves for after the call.
pub(crate) enum Journaled {
    /// `Sync`: committed.
    Committed,
    /// `Batched`: to queue once applied.
    Queued(Vec<u8>),
}

fn encoded(entry: &EntryRef<'_>) -> Result<Vec<u8>, OpsLifecycleError> {
    encode(entry).map_err(|why| OpsLifecycleError::Internal(format!("cannot encode a journal entry: {why}")))
}

impl RegistryState {
    /// Journals `request` if the registry is durable and the table journals
    /// its input. `Sync`: the call is checked against the table and
    /// committed, so a refusal or a failed write returns here with nothing
    /// changed. `Batched`: refused while the last group commit failed.
    pub(crate) fn journal_before(
        &mut self,
        request: &Request<ShellDomain>,
        call: &Call,
        now_ms: u64,
    ) -> Result<Option<Journaled>, OpsLifecycleError> {
        let Some(journal) = &self.journal else { return Ok(None) };
        if !self.machine.lifecycle().table().journaled(request.input()) {
            return Ok(None);
        }
        let (registered, peer) = match call {
            Call::Register(Some(record)) => (Some((record.display_name.as_str(), record.child_session_id)), None),
            Call::PeerReady(peer) => (None, peer.as_ref()),
            _ => (None, None),
        };
        let entry = EntryRef { at_ms: now_ms, change: ChangeRef::Call { request, registered, peer } };
        match (journal.durability(), journal.refusing()) {
            (Durability::Batched, Some(error)) => Err(self.store_failed(error)),
            (Durability::Batched, None) => Ok(Some(Journaled::Queued(encoded(&entry)?))),
            (Durability::Sync, _) => {
                self.machine.lifecycle().check(self.machine.state(), request)?;
                let bytes = encoded(&entry)?;
                let committed = match &mut self.journal {
                    Some(journal) => journal.commit(bytes),
                    None => Ok(()),
                };
                committed.map_err(|error| self.store_failed(error))?;
                Ok(Some(Journaled::Committed))
            }
        }
    }

    /// The error for a write the store refused. A fenced write means a
    /// newer owner holds the store: the registry is sealed through the
    /// table's `seal` row, and every call that could change it is refused
    /// from now on.
    pub(crate) fn store_failed(&mut self, error: StoreError) -> OpsLifecycleError {
        if !matches!(error, StoreError::Fenced { .. }) {
            return OpsLifecycleError::Store(error);
        }
        self.seal();
        OpsLifecycleError::Fenced
    }

    /// Seals the registry through the table's `seal` row (accepted in every
    /// phase, journaled never): a newer owner holds its store.
    pub(crate) fn seal(&mut self) {
        let now_ms = self.clock.now_ms();
        let _ = self.apply(Request::Seal, &mut Call::Plain, false, now_ms, &mut Deliveries::default());
    }

    /// Moves a consumer's cursor, journaled as `journal_before` and
    /// `journal_after` journal a call: written (or queued) first, then
    /// moved, then compacted if due, so an image never misses the move.
    pub(crate) fn move_cursor(&mut self, consumer: &str, seq: u64, now_ms: u64) -> Result<(), OpsLifecycleError> {
        if self.machine.state().phase() == Phase::Sealed {
            return Err(OpsLifecycleError::Fenced);
        }
        let Some(journal) = &mut self.journal else {
            self.cursors.insert(consumer.to_owned(), seq);
            return Ok(());
        };
        let bytes = encoded(&EntryRef { at_ms: now_ms, change: ChangeRef::Cursor { consumer, seq } })?;
        let written = match (journal.durability(), journal.refusing()) {
            (Durability::Sync, _) => journal.commit(bytes),
            (Durability::Batched, Some(error)) => Err(error),
            (Durability::Batched, None) => {
                journal.enqueue(bytes);
                Ok(())
            }
        };
        written.map_err(|error| self.store_failed(error))?;
        self.cursors.insert(consumer.to_owned(), seq);
        self.journal_after(None);
        Ok(())
    }

    /// After an accepted journaled call: queue it (`Batched`), advance the
    /// durable mark, and compact when due.
    pub(crate) fn journal_after(&mut self, journaled: Option<Journaled>) {
        let watermark = self.machine.state().feed().watermark();
        let due = match &mut self.journal {
            None => return,
            Some(journal) => {
                if let Some(Journaled::Queued(bytes)) = journaled {
                    journal.enqueue(bytes);
                }
                journal.applied(watermark);
                journal.wants_image()
            }
        };
        if due && let Ok(snapshot) = self.capture() {
            let image = DurableImage { snapshot, cursors: self.cursors.clone() };
            if let Some(journal) = &mut self.journal {
                journal.compact(image);
            }
        }
    }

    /// Replays one journal entry (recovery: no watcher, wait or journal is
    /// attached yet).
    pub(crate) fn replay(&mut self, entry: Entry) -> Result<(), String> {
        use crate::durable::journal::Change;
        use crate::record::Record;
        match entry.change {
            Change::Call { request, registered, peer } => {
                let mut call = match (&request, registered) {
                    (Request::Register { kind, .. }, Some((name, child))) => {
                        Call::Register(Some(Record::new(*kind, name, child)))
                    }
                    (Request::PeerReady { .. }, _) => Call::PeerReady(peer),
                    _ => Call::Plain,
                };
                self.apply(request, &mut call, false, entry.at_ms, &mut Deliveries::default())
                    .map_err(|e| e.to_string())
            }
            Change::Cursor { consumer, seq } => {
                self.cursors.insert(consumer, seq);
                Ok(())
            }
        }
    }
}
