//! Where a durable registry keeps its journal and its compacted image: the
//! [`Store`] trait, and [`MemoryStore`], the in-memory store the tests use.
//!
//! A store moves bytes. It never interprets them: the registry encodes and
//! checksums each record itself, and decides what to replay. So a store for
//! another database (one a fleet of runtimes shares, say) implements four
//! methods and touches neither the machine nor the registry.

use std::sync::{Arc, Mutex};

use crate::error::StoreError;

/// One journal record: an acknowledged transition, encoded by the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord {
    /// Its position in the journal: consecutive, starting after the image's.
    pub seq: u64,
    /// The encoded record (checksummed by the registry).
    pub bytes: Vec<u8>,
}

/// A compacted image: the registry's state after journal record `upto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// The last journal record the image includes (0 before any).
    pub upto: u64,
    /// The encoded image (checksummed by the registry).
    pub bytes: Vec<u8>,
}

/// Everything a store holds: the last image, and the journal after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// The last compacted image; `None` for a new store.
    pub image: Option<StoredImage>,
    /// The journal records after the image, in order.
    pub journal: Vec<JournalRecord>,
}

/// Durable storage for a registry's journal and image.
///
/// Each write is atomic: after a crash the store holds all of it or none of
/// it, and a method returns only once its write is as durable as the store
/// can make it. An `Err` means nothing of that write is stored.
pub trait Store: Send + 'static {
    /// Reads everything stored.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the store cannot be read.
    fn load(&mut self) -> Result<Stored, StoreError>;

    /// Appends `records` (consecutive, after every stored one) in one atomic
    /// write.
    ///
    /// # Errors
    ///
    /// A [`StoreError`]; nothing was appended.
    fn append(&mut self, records: &[JournalRecord]) -> Result<(), StoreError>;

    /// In one atomic write: appends `records`, replaces the image with
    /// `image`, and removes the journal records up to `image.upto`.
    ///
    /// # Errors
    ///
    /// A [`StoreError`]; the store is as it was.
    fn compact(&mut self, records: &[JournalRecord], image: &StoredImage) -> Result<(), StoreError>;

    /// Removes the journal records after `seq` (a torn tail cut at
    /// recovery).
    ///
    /// # Errors
    ///
    /// A [`StoreError`]; the store is as it was.
    fn truncate_after(&mut self, seq: u64) -> Result<(), StoreError>;
}

/// What a [`MemoryStore`] holds, shared by its clones.
#[derive(Debug, Default)]
struct Memory {
    stored: Stored,
    /// The error every write returns while set.
    failing: Option<StoreError>,
    writes: u64,
}

/// A store in memory: the registry's journal without a file, for tests and
/// for checking the registry against a store that cannot tear. Clones share
/// the same contents, so a test can keep one, hand another to a registry,
/// reopen from it after dropping the registry, and make writes fail.
///
/// ```
/// use oplife_shell::{MemoryStore, Store, StoreError};
///
/// let mut store = MemoryStore::new();
/// store.fail_writes(Some(StoreError::Full));
/// assert_eq!(store.append(&[]), Err(StoreError::Full));
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    memory: Arc<Mutex<Memory>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every write fail with `error` (or succeed again, with `None`).
    pub fn fail_writes(&self, error: Option<StoreError>) {
        if let Ok(mut memory) = self.memory.lock() {
            memory.failing = error;
        }
    }

    /// What the store holds now.
    pub fn contents(&self) -> Stored {
        self.memory.lock().map(|m| m.stored.clone()).unwrap_or_default()
    }

    /// How many writes succeeded.
    pub fn writes(&self) -> u64 {
        self.memory.lock().map(|m| m.writes).unwrap_or_default()
    }

    /// Replaces what the store holds (a test forging a corrupt store).
    pub fn set_contents(&self, stored: Stored) {
        if let Ok(mut memory) = self.memory.lock() {
            memory.stored = stored;
        }
    }

    fn write(&self, change: impl FnOnce(&mut Stored)) -> Result<(), StoreError> {
        let mut memory = self.memory.lock().map_err(|_| StoreError::Other("memory store poisoned".into()))?;
        if let Some(error) = &memory.failing {
            return Err(error.clone());
        }
        change(&mut memory.stored);
        memory.writes += 1;
        Ok(())
    }
}

impl Store for MemoryStore {
    fn load(&mut self) -> Result<Stored, StoreError> {
        let memory = self.memory.lock().map_err(|_| StoreError::Other("memory store poisoned".into()))?;
        Ok(memory.stored.clone())
    }

    fn append(&mut self, records: &[JournalRecord]) -> Result<(), StoreError> {
        self.write(|stored| stored.journal.extend_from_slice(records))
    }

    fn compact(&mut self, records: &[JournalRecord], image: &StoredImage) -> Result<(), StoreError> {
        self.write(|stored| {
            stored.journal.extend_from_slice(records);
            stored.journal.retain(|r| r.seq > image.upto);
            stored.image = Some(image.clone());
        })
    }

    fn truncate_after(&mut self, seq: u64) -> Result<(), StoreError> {
        self.write(|stored| stored.journal.retain(|r| r.seq <= seq))
    }
}
