//! [`SqliteStore`]: the journal and image in one SQLite file, through
//! `rusqlite` with SQLite bundled (nothing to install).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use crate::durable::store::{JournalRecord, Store, Stored, StoredImage};
use crate::error::StoreError;

/// How long a write waits for a lock another connection holds before it
/// fails with [`StoreError::Busy`], unless set otherwise.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// A SQLite file holding one registry's journal and compacted image.
///
/// The file is in WAL mode with `synchronous = FULL`: a write returns once
/// it is on disk. Clones share one connection, so an operator can keep a
/// handle to cap the file's size or freeze writes while a registry runs on
/// it.
///
/// ```
/// use oplife_shell::SqliteStore;
///
/// let dir = std::env::temp_dir().join(format!("oplife-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let store = SqliteStore::open(dir.join("ops.db"))?;
/// store.set_read_only(true)?; // writes now fail with StoreError::ReadOnly
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the file cannot be opened or is not a store.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(store_error)?;
        Self::prepare(connection, true)
    }

    /// Opens the store at `path` read-only: it can be loaded, and every
    /// write fails with [`StoreError::ReadOnly`].
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the file cannot be opened or is not a store.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(store_error)?;
        Self::prepare(connection, false)
    }

    fn prepare(connection: Connection, writable: bool) -> Result<Self, StoreError> {
        connection.busy_timeout(DEFAULT_BUSY_TIMEOUT).map_err(store_error)?;
        if writable {
            connection
                .execute_batch(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, body BLOB NOT NULL);
                     CREATE TABLE IF NOT EXISTS image (
                         id INTEGER PRIMARY KEY CHECK (id = 1),
                         upto INTEGER NOT NULL,
                         body BLOB NOT NULL
                     );",
                )
                .map_err(store_error)?;
        }
        Ok(SqliteStore { connection: Arc::new(Mutex::new(connection)) })
    }

    fn connection(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.connection.lock().map_err(|_| StoreError::Other("the connection lock is poisoned".into()))
    }

    /// Caps the file at `pages` database pages (`PRAGMA max_page_count`):
    /// a write that would grow it further fails with [`StoreError::Full`],
    /// as on a full disk. Returns the cap in force.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the pragma fails.
    pub fn set_max_pages(&self, pages: u64) -> Result<u64, StoreError> {
        let connection = self.connection()?;
        connection.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |row| row.get(0)).map_err(store_error)
    }

    /// Freezes writes (`PRAGMA query_only`): while set, every write fails
    /// with [`StoreError::ReadOnly`], for example while the file is copied.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the pragma fails.
    pub fn set_read_only(&self, read_only: bool) -> Result<(), StoreError> {
        let connection = self.connection()?;
        connection.pragma_update(None, "query_only", read_only).map_err(store_error)
    }

    /// How long a write waits for another connection's lock before
    /// [`StoreError::Busy`] ([`DEFAULT_BUSY_TIMEOUT`] unless set).
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the setting fails.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        self.connection()?.busy_timeout(timeout).map_err(store_error)
    }
}

fn insert(tx: &rusqlite::Transaction<'_>, records: &[JournalRecord]) -> Result<(), StoreError> {
    let mut statement = tx.prepare_cached("INSERT INTO journal (seq, body) VALUES (?1, ?2)").map_err(store_error)?;
    for record in records {
        let seq = i64::try_from(record.seq).map_err(|_| StoreError::Other("sequence number out of range".into()))?;
        statement.execute(params![seq, record.bytes]).map_err(store_error)?;
    }
    Ok(())
}

fn seq_of(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative sequence number {value}")))
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Stored, StoreError> {
        let connection = self.connection()?;
        let image = connection
            .query_row("SELECT upto, body FROM image WHERE id = 1", [], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .map_err(store_error)?;
        let image = match image {
            Some((upto, bytes)) => Some(StoredImage { upto: seq_of(upto)?, bytes }),
            None => None,
        };
        let mut statement = connection.prepare("SELECT seq, body FROM journal ORDER BY seq").map_err(store_error)?;
        let rows = statement
            .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)))
            .map_err(store_error)?;
        let mut journal = Vec::new();
        for row in rows {
            let (seq, bytes) = row.map_err(store_error)?;
            journal.push(JournalRecord { seq: seq_of(seq)?, bytes });
        }
        Ok(Stored { image, journal })
    }

    fn append(&mut self, records: &[JournalRecord]) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        let tx = connection.transaction().map_err(store_error)?;
        insert(&tx, records)?;
        tx.commit().map_err(store_error)
    }

    fn compact(&mut self, records: &[JournalRecord], image: &StoredImage) -> Result<(), StoreError> {
        let upto = i64::try_from(image.upto).map_err(|_| StoreError::Other("sequence number out of range".into()))?;
        let mut connection = self.connection()?;
        let tx = connection.transaction().map_err(store_error)?;
        insert(&tx, records)?;
        tx.execute("INSERT OR REPLACE INTO image (id, upto, body) VALUES (1, ?1, ?2)", params![upto, image.bytes])
            .map_err(store_error)?;
        tx.execute("DELETE FROM journal WHERE seq <= ?1", params![upto]).map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    fn truncate_after(&mut self, seq: u64) -> Result<(), StoreError> {
        let seq = i64::try_from(seq).map_err(|_| StoreError::Other("sequence number out of range".into()))?;
        let connection = self.connection()?;
        connection.execute("DELETE FROM journal WHERE seq > ?1", params![seq]).map(|_| ()).map_err(store_error)
    }
}

/// The typed error for a SQLite failure.
fn store_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly,
        Some(ErrorCode::DiskFull) => StoreError::Full,
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt(error.to_string()),
        _ => StoreError::Other(error.to_string()),
    }
}
