//! Where a durable registry keeps its journal and its compacted image: the
//! [`Store`] trait, and [`MemoryStore`], the in-memory store the tests use.
//!
//! A store moves bytes. It never interprets them: the registry encodes and
//! checksums each record itself, and decides what to replay. So a store for
//! another database (one a fleet of runtimes shares, say) implements five
//! methods and touches neither the machine nor the registry.
//!
//! A store has one owner at a time. [`Store::claim`] takes ownership with a
//! fencing epoch above every earlier one; every write carries the epoch of
//! its writer and is refused with [`StoreError::Fenced`] once a newer owner
//! has claimed the store, in the same atomic step as the write.

use std::sync::{Arc, Mutex, Weak};

use crate::durable::options::Claim;
use crate::error::{Owner, StoreError};

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
///
/// Ownership: a store that was never claimed takes writes from anyone; once
/// claimed, only from the handle that holds the newest claim. A write from
/// any other fails with [`StoreError::Fenced`], checked in the same atomic
/// step as the write.
pub trait Store: Send + 'static {
    /// Takes ownership of the store for this handle, with an epoch above
    /// every earlier claim, and returns the owner recorded. With
    /// [`Claim::IfFree`] it is refused while a live owner holds the store;
    /// with [`Claim::TakeOver`] that owner is fenced: its next write fails.
    ///
    /// # Errors
    ///
    /// [`StoreError::Owned`] while a live owner holds the store (and the
    /// claim is `IfFree`); any other [`StoreError`] when the store cannot be
    /// written. Nothing changed then.
    fn claim(&mut self, claim: Claim) -> Result<Owner, StoreError>;

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

    /// Appends `records` as [`Store::append`] does, but durable only once
    /// the store's [`Store::syncer`] syncs (a crash before may lose them,
    /// never tear them). A `Sync` registry writes each call this way under
    /// its lock and syncs groups of calls outside it. By default, the
    /// durable [`Store::append`].
    ///
    /// # Errors
    ///
    /// A [`StoreError`]; nothing was appended.
    fn append_unsynced(&mut self, records: &[JournalRecord]) -> Result<(), StoreError> {
        self.append(records)
    }

    /// A handle that makes every write made so far durable, usable while
    /// the store goes on writing (it is called with no lock of the
    /// registry's held). `None` (the default): every write is durable when
    /// it returns, and there is nothing to sync.
    fn syncer(&self) -> Option<Box<dyn Syncer>> {
        None
    }
}

/// Makes a [`Store`]'s writes so far durable (see [`Store::syncer`]).
pub trait Syncer: Send + Sync + 'static {
    /// Returns once every write the store made before the call is durable.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when that cannot be made sure of: the writes it was
    /// to cover may or may not survive a crash.
    fn sync(&self) -> Result<(), StoreError>;
}

/// What a [`MemoryStore`] holds, shared by its clones.
#[derive(Debug, Default)]
struct Memory {
    stored: Stored,
    /// The error every write returns while set.
    failing: Option<StoreError>,
    /// The error every sync returns while set.
    failing_syncs: Option<StoreError>,
    writes: u64,
    /// The newest claim (epoch 0: never claimed).
    owner: Owner,
    /// Alive while the handle that made the newest claim is.
    holder: Weak<()>,
}

/// What one [`MemoryStore`] handle claimed: its epoch, and the token whose
/// life is the claim's liveness.
#[derive(Debug, Default)]
struct Held {
    epoch: u64,
    /// Kept, never read: the store's weak reference to it dies with it.
    _token: Option<Arc<()>>,
}

/// A store in memory: the registry's journal without a file, for tests and
/// for checking the registry against a store that cannot tear. Clones share
/// the same contents, so a test can keep one, hand another to a registry,
/// reopen from it after dropping the registry, and make writes fail. A
/// claim is held by the handle that made it (not by its clones, which
/// write as the store's previous owner) until that handle is dropped.
///
/// ```
/// use oplife_shell::{MemoryStore, Store, StoreError};
///
/// let mut store = MemoryStore::new();
/// store.fail_writes(StoreError::Full);
/// assert_eq!(store.append(&[]), Err(StoreError::Full));
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    memory: Arc<Mutex<Memory>>,
    held: Held,
}

impl Clone for MemoryStore {
    /// Another handle on the same contents, holding no claim.
    fn clone(&self) -> Self {
        MemoryStore { memory: Arc::clone(&self.memory), held: Held::default() }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every write fail with `error`, until
    /// [`MemoryStore::write_again`].
    pub fn fail_writes(&self, error: StoreError) {
        if let Ok(mut memory) = self.memory.lock() {
            memory.failing = Some(error);
        }
    }

    /// Lets writes succeed again after [`MemoryStore::fail_writes`].
    pub fn write_again(&self) {
        if let Ok(mut memory) = self.memory.lock() {
            memory.failing = None;
        }
    }

    /// Makes every sync of its [`Store::syncer`] fail with `error`, until
    /// [`MemoryStore::sync_again`]. Its writes are in memory: a sync has
    /// nothing to do but fail when told to.
    pub fn fail_syncs(&self, error: StoreError) {
        if let Ok(mut memory) = self.memory.lock() {
            memory.failing_syncs = Some(error);
        }
    }

    /// Lets syncs succeed again after [`MemoryStore::fail_syncs`].
    pub fn sync_again(&self) {
        if let Ok(mut memory) = self.memory.lock() {
            memory.failing_syncs = None;
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

    /// Who holds the store now (epoch 0: never claimed).
    pub fn owner(&self) -> Owner {
        self.memory.lock().map(|m| m.owner.clone()).unwrap_or_default()
    }

    fn write(&self, change: impl FnOnce(&mut Stored)) -> Result<(), StoreError> {
        let mut memory = self.memory.lock().map_err(|_| StoreError::Other("memory store poisoned".into()))?;
        if let Some(error) = &memory.failing {
            return Err(error.clone());
        }
        if memory.owner.epoch != self.held.epoch {
            return Err(StoreError::Fenced { epoch: self.held.epoch, current: memory.owner.epoch });
        }
        change(&mut memory.stored);
        memory.writes += 1;
        Ok(())
    }
}

impl Store for MemoryStore {
    fn claim(&mut self, claim: Claim) -> Result<Owner, StoreError> {
        let mut memory = self.memory.lock().map_err(|_| StoreError::Other("memory store poisoned".into()))?;
        if claim == Claim::IfFree && memory.holder.upgrade().is_some() {
            return Err(StoreError::Owned { owner: memory.owner.clone() });
        }
        if let Some(error) = &memory.failing {
            return Err(error.clone());
        }
        let token = Arc::new(());
        memory.owner = Owner::of_this_process(memory.owner.epoch + 1);
        memory.holder = Arc::downgrade(&token);
        self.held = Held { epoch: memory.owner.epoch, _token: Some(token) };
        Ok(memory.owner.clone())
    }

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

    fn syncer(&self) -> Option<Box<dyn Syncer>> {
        Some(Box::new(MemorySync(Arc::clone(&self.memory))))
    }
}

/// The syncer of a [`MemoryStore`]: fails while told to.
struct MemorySync(Arc<Mutex<Memory>>);

impl Syncer for MemorySync {
    fn sync(&self) -> Result<(), StoreError> {
        let memory = self.0.lock().map_err(|_| StoreError::Other("memory store poisoned".into()))?;
        memory.failing_syncs.clone().map_or(Ok(()), Err)
    }
}
