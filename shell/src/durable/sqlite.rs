//! [`SqliteStore`]: the journal and image in one SQLite file, through
//! `rusqlite` with SQLite bundled (nothing to install).
//!
//! The file is marked as ours (`application_id` and `user_version`), and
//! opening checks the mark, the schema and the file itself before anything
//! is written. Ownership lives in two places: the `owner` table records the
//! fencing epoch of the newest claim, and an exclusive lock on the file
//! `<store>-owner` beside it says that the owner is alive (the operating
//! system drops the lock when the process ends, however it ends).

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::durable::options::Claim;
use crate::durable::store::{JournalRecord, Store, Stored, StoredImage, Syncer};
use crate::error::{Owner, StoreError};

/// How long a write waits for a lock another connection holds before it
/// fails with [`StoreError::Busy`], unless set otherwise.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// The mark of an oplife store: SQLite's `application_id` ("oplf").
const APPLICATION_ID: i32 = 0x6F70_6C66;
/// The schema this build writes and reads (`user_version`).
const SCHEMA_VERSION: i32 = 1;

/// A column of a store's table: name, declared type, part of the primary
/// key.
type Column = (&'static str, &'static str, bool);
/// A table of a store, with its columns.
type TableShape = (&'static str, &'static [Column]);

/// The tables of a store.
const SCHEMA: [TableShape; 3] = [
    ("journal", &[("seq", "INTEGER", true), ("body", "BLOB", false)]),
    ("image", &[("id", "INTEGER", true), ("upto", "INTEGER", false), ("body", "BLOB", false)]),
    (
        "owner",
        &[
            ("id", "INTEGER", true),
            ("epoch", "INTEGER", false),
            ("pid", "INTEGER", false),
            ("host", "TEXT", false),
            ("since_ms", "INTEGER", false),
        ],
    ),
];

const CREATE: &str = "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, body BLOB NOT NULL);
     CREATE TABLE IF NOT EXISTS image (id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL, body BLOB NOT NULL);
     CREATE TABLE IF NOT EXISTS owner (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         epoch INTEGER NOT NULL,
         pid INTEGER,
         host TEXT,
         since_ms INTEGER
     );";

/// A SQLite file holding one registry's journal and compacted image.
///
/// The file is in WAL mode. A write returns once it is on disk (the WAL
/// file is synced after it commits), except [`Store::append_unsynced`],
/// which a `Sync` registry makes durable with [`Store::syncer`]: one sync
/// of the WAL file for every call written while the sync before ran. Clones share one connection and one claim, so an operator
/// can keep a handle to cap the file's size or freeze writes while a
/// registry runs on it (the claim lasts until every clone is dropped).
///
/// [`SqliteStore::open`] refuses, before writing anything, a file that is
/// not a store of this crate; [`Store::claim`] takes ownership (see
/// [`crate::RuntimeOpsLifecycleRegistry::open`] for the rule).
///
/// ```
/// use oplife_shell::{Claim, SqliteStore, Store, StoreError};
///
/// let dir = std::env::temp_dir().join(format!("oplife-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let mut store = SqliteStore::open(dir.join("ops.db"))?;
/// assert_eq!(store.claim(Claim::IfFree)?.epoch, 1);
/// // A second opener, in this process or another, is refused while we live.
/// let refused = SqliteStore::open(dir.join("ops.db"))?.claim(Claim::IfFree).unwrap_err();
/// assert!(matches!(refused, StoreError::Owned { .. }));
/// store.set_read_only()?; // writes now fail with StoreError::ReadOnly
/// # drop(store);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Mutex<Inner>>,
}

/// The connection and the claim the clones of a store share.
#[derive(Debug)]
struct Inner {
    connection: Connection,
    path: PathBuf,
    writable: bool,
    /// The epoch of this handle's claim (0: none).
    epoch: u64,
    /// The locked owner file, while the claim lasts.
    lock: Option<File>,
}

/// What [`inspect`] found at a path.
enum Found {
    /// Nothing, an empty file, or a SQLite database with no table.
    New,
    /// A store of this crate (or one written before stores were marked).
    Ours,
}

impl SqliteStore {
    /// Opens the store at `path`, creating an empty file if there is none.
    /// Nothing is written: the schema and the mark are written by the
    /// first [`Store::claim`].
    ///
    /// # Errors
    ///
    /// [`StoreError::NotOurs`] when the path holds anything but a store of
    /// this crate (another application's database, a table of another
    /// shape, a file of another format, a truncated file, a directory),
    /// which is left byte for byte as it was; another [`StoreError`] when
    /// the file cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        inspect(path)?;
        let connection = Connection::open(path).map_err(store_error)?;
        Self::prepare(connection, path, true)
    }

    /// Opens the store at `path` read-only: it can be loaded, and every
    /// write (and a claim) fails with [`StoreError::ReadOnly`].
    ///
    /// # Errors
    ///
    /// As [`SqliteStore::open`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        inspect(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(store_error)?;
        Self::prepare(connection, path, false)
    }

    fn prepare(connection: Connection, path: &Path, writable: bool) -> Result<Self, StoreError> {
        connection.busy_timeout(DEFAULT_BUSY_TIMEOUT).map_err(store_error)?;
        // Commits do not sync: each write syncs the WAL file itself after
        // it commits, or leaves it to the syncer.
        connection.pragma_update(None, "synchronous", "NORMAL").map_err(store_error)?;
        let inner = Inner { connection, path: path.to_owned(), writable, epoch: 0, lock: None };
        Ok(SqliteStore { inner: Arc::new(Mutex::new(inner)) })
    }

    fn inner(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        self.inner.lock().map_err(|_| StoreError::Other("the connection lock is poisoned".into()))
    }

    /// Caps the file at `pages` database pages (`PRAGMA max_page_count`):
    /// a write that would grow it further fails with [`StoreError::Full`],
    /// as on a full disk. Returns the cap in force.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the pragma fails.
    pub fn set_max_pages(&self, pages: u64) -> Result<u64, StoreError> {
        let inner = self.inner()?;
        inner
            .connection
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |row| row.get(0))
            .map_err(store_error)
    }

    /// Freezes writes (`PRAGMA query_only`): until
    /// [`SqliteStore::set_writable`], every write fails with
    /// [`StoreError::ReadOnly`], for example while the file is copied.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the pragma fails.
    pub fn set_read_only(&self) -> Result<(), StoreError> {
        self.inner()?.connection.pragma_update(None, "query_only", true).map_err(store_error)
    }

    /// Lets writes through again after [`SqliteStore::set_read_only`].
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the pragma fails.
    pub fn set_writable(&self) -> Result<(), StoreError> {
        self.inner()?.connection.pragma_update(None, "query_only", false).map_err(store_error)
    }

    /// How long a write waits for another connection's lock before
    /// [`StoreError::Busy`] ([`DEFAULT_BUSY_TIMEOUT`] unless set).
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the setting fails.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        self.inner()?.connection.busy_timeout(timeout).map_err(store_error)
    }

    /// The owner the store records (epoch 0 when it was never claimed).
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the store cannot be read.
    pub fn owner(&self) -> Result<Owner, StoreError> {
        recorded_owner(&self.inner()?.connection)
    }
}

/// Looks at `path` without writing anything, and refuses what is not a
/// store of this crate.
fn inspect(path: &Path) -> Result<Found, StoreError> {
    let not_ours = |why: String| StoreError::NotOurs(format!("{}: {why}", path.display()));
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Found::New),
        Err(error) => return Err(StoreError::Other(format!("cannot read {}: {error}", path.display()))),
    };
    if meta.is_dir() {
        return Err(not_ours("a directory".into()));
    }
    if !meta.is_file() {
        return Err(not_ours("not a regular file".into()));
    }
    if meta.len() == 0 {
        return Ok(Found::New);
    }
    let mut header = Vec::with_capacity(100);
    File::open(path)
        .and_then(|file| file.take(100).read_to_end(&mut header))
        .map_err(|e| StoreError::Other(format!("cannot read {}: {e}", path.display())))?;
    if !header.starts_with(b"SQLite format 3\0") {
        return Err(not_ours("not a SQLite database".into()));
    }
    let field = |at: usize| header.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
    let (Some(size_field), Some(pages), Some(counter), Some(valid_for)) = (field(16), field(28), field(24), field(92))
    else {
        return Err(not_ours(format!("truncated: {} bytes, shorter than a SQLite header", meta.len())));
    };
    let page_size = match size_field >> 16 {
        1 => 65_536,
        size => u64::from(size),
    };
    if !page_size.is_power_of_two() || page_size < 512 {
        return Err(not_ours(format!("damaged SQLite header (page size {page_size})")));
    }
    // The header's page count is to be trusted when its change counter
    // says so; the file is never shorter than it, nor a part page longer.
    let stated = if counter == valid_for { u64::from(pages) * page_size } else { 0 };
    if meta.len() < stated || meta.len() % page_size != 0 {
        return Err(not_ours(format!("truncated: {} bytes, the header says {pages} pages of {page_size}", meta.len())));
    }
    let connection = reader(path).map_err(store_error)?;
    let mark: (i32, i32) = connection
        .query_row("SELECT * FROM pragma_application_id, pragma_user_version", [], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(|e| not_ours(format!("unreadable as SQLite: {e}")))?;
    let mut tables: Vec<String> = Vec::new();
    let mut statement = connection
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .map_err(|e| not_ours(format!("unreadable as SQLite: {e}")))?;
    let names = statement.query_map([], |row| row.get(0)).map_err(store_error)?;
    for name in names {
        tables.push(name.map_err(store_error)?);
    }
    match mark {
        (APPLICATION_ID, SCHEMA_VERSION) => check_schema(&connection, &tables, &SCHEMA).map_err(not_ours)?,
        (0, 0) if tables.is_empty() => return Ok(Found::New),
        // Written before stores were marked: the journal and image tables
        // alone, of our shape. The first claim marks it.
        (0, 0) => check_schema(&connection, &tables, &SCHEMA[..2]).map_err(not_ours)?,
        (APPLICATION_ID, version) => {
            return Err(not_ours(format!("a store of schema {version}; this build reads schema {SCHEMA_VERSION}")));
        }
        (id, _) => return Err(not_ours(format!("application id {id:#x} (tables: {})", tables.join(", ")))),
    }
    Ok(Found::Ours)
}

/// Whether the database has exactly the tables of `schema`, each with
/// exactly its columns.
fn check_schema(connection: &Connection, tables: &[String], schema: &[TableShape]) -> Result<(), String> {
    let mut expected: Vec<&str> = schema.iter().map(|(name, _)| *name).collect();
    expected.sort_unstable();
    if tables != expected.as_slice() {
        return Err(format!("tables {} instead of {}", tables.join(", "), expected.join(", ")));
    }
    for (table, columns) in schema {
        let mut statement = connection
            .prepare("SELECT name, type, pk > 0 FROM pragma_table_info(?1) ORDER BY cid")
            .map_err(|e| e.to_string())?;
        let found = statement
            .query_map([table], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, bool>(2)?)))
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| e.to_string())?;
        let same = found.len() == columns.len()
            && found.iter().zip(columns.iter()).all(|((n, t, k), (en, et, ek))| n == en && t == et && k == ek);
        if !same {
            return Err(format!("table {table} is not of a store's shape"));
        }
    }
    Ok(())
}

/// The owner row, or the never-claimed owner when there is none.
fn recorded_owner(connection: &Connection) -> Result<Owner, StoreError> {
    let has_table = connection
        .query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'owner'", [], |row| {
            row.get::<_, i64>(0)
        })
        .map_err(store_error)?;
    if has_table == 0 {
        return Ok(Owner::default());
    }
    let row = connection
        .query_row("SELECT epoch, pid, host, since_ms FROM owner WHERE id = 1", [], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?, row.get(2)?, row.get::<_, Option<i64>>(3)?))
        })
        .optional()
        .map_err(store_error)?;
    Ok(match row {
        None => Owner::default(),
        Some((epoch, pid, host, since_ms)) => Owner {
            epoch: seq_of(epoch)?,
            pid: pid.and_then(|p| u32::try_from(p).ok()),
            host,
            since_ms: since_ms.and_then(|s| u64::try_from(s).ok()),
        },
    })
}

/// The lock file of the store at `path`.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-owner");
    PathBuf::from(name)
}

/// Locks the owner file of the store at `path`: `None` when a live owner
/// holds it and `claim` does not take over. A takeover replaces the file
/// (the old owner keeps its lock on a file no opener finds any more).
fn lock_owner(path: &Path, claim: Claim) -> Result<Option<File>, StoreError> {
    let lock = lock_path(path);
    let io = |e: std::io::Error| StoreError::Other(format!("cannot lock {}: {e}", lock.display()));
    // A few rounds: an opener that takes over between our open and our
    // lock leaves us a file no longer at the path.
    for _ in 0..16 {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock).map_err(io)?;
        match file.try_lock() {
            Ok(()) if still_at(&file, &lock) => return Ok(Some(file)),
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) if claim == Claim::IfFree => return Ok(None),
            Err(std::fs::TryLockError::WouldBlock) => match std::fs::remove_file(&lock) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                _ => {}
            },
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    Err(StoreError::Busy)
}

/// Whether `file` is still the file at `path`.
#[cfg(unix)]
fn still_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(named)) => (held.dev(), held.ino()) == (named.dev(), named.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at(_: &File, path: &Path) -> bool {
    path.exists()
}

impl Inner {
    /// A write transaction in which the store's epoch is this handle's:
    /// the epoch is read after the write lock is taken, so no claim can
    /// come between the check and the commit.
    fn fenced(&mut self) -> Result<Transaction<'_>, StoreError> {
        let epoch = self.epoch;
        let tx = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(store_error)?;
        let current = current_epoch(&tx)?;
        if current != epoch {
            return Err(StoreError::Fenced { epoch, current });
        }
        Ok(tx)
    }
}

/// The epoch of the newest claim (0: never claimed), read with one cached
/// statement: every write reads it.
fn current_epoch(tx: &Transaction<'_>) -> Result<u64, StoreError> {
    let mut statement = match tx.prepare_cached("SELECT epoch FROM owner WHERE id = 1") {
        Ok(statement) => statement,
        // A store written before stores had owners, never claimed since.
        Err(error) if error.to_string().contains("no such table") => return Ok(0),
        Err(error) => return Err(store_error(error)),
    };
    let epoch = statement.query_row([], |row| row.get::<_, i64>(0)).optional().map_err(store_error)?;
    epoch.map_or(Ok(0), seq_of)
}

fn insert(tx: &Transaction<'_>, records: &[JournalRecord]) -> Result<(), StoreError> {
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
    fn claim(&mut self, claim: Claim) -> Result<Owner, StoreError> {
        let mut inner = self.inner()?;
        if !inner.writable {
            return Err(StoreError::ReadOnly);
        }
        // The path is looked at again: the file may have changed hands
        // since `open`, and nothing is written to one that is not ours.
        let found = inspect(&inner.path)?;
        // Without a takeover, a live owner's lock refuses the claim before
        // anything is written.
        let free = match claim {
            Claim::IfFree => match lock_owner(&inner.path, Claim::IfFree)? {
                Some(lock) => Some(lock),
                None => return Err(StoreError::Owned { owner: recorded_owner(&inner.connection)? }),
            },
            Claim::TakeOver => None,
        };
        let marked = matches!(found, Found::Ours) && recorded_owner(&inner.connection)?.epoch > 0;
        let path = inner.path.clone();
        let connection = &mut inner.connection;
        if !marked {
            // The mark and the tables go in first, in the file itself
            // (before WAL mode), so the file's own header says it is ours.
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(store_error)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(store_error)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(store_error)?;
            tx.execute_batch(CREATE).map_err(store_error)?;
            tx.commit().map_err(store_error)?;
            let mode: String =
                connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(store_error)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Other(format!("the store cannot use WAL mode (it is in {mode} mode)")));
            }
        }
        // The write lock first: a takeover replaces the owner's lock file
        // only once no commit of the old owner is under way (one stopped in
        // the middle of a commit holds SQLite's lock: the takeover then
        // fails with `Busy` and changes nothing).
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(store_error)?;
        let lock = match free {
            Some(lock) => lock,
            None => lock_owner(&path, Claim::TakeOver)?.ok_or(StoreError::Busy)?,
        };
        let owner = Owner::of_this_process(recorded_owner(&tx)?.epoch + 1);
        let as_sql = |value: u64| i64::try_from(value).map_err(|_| StoreError::Other("epoch out of range".into()));
        tx.execute(
            "INSERT OR REPLACE INTO owner (id, epoch, pid, host, since_ms) VALUES (1, ?1, ?2, ?3, ?4)",
            params![as_sql(owner.epoch)?, owner.pid, owner.host, owner.since_ms.map(as_sql).transpose()?],
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)?;
        sync_wal(&wal_of(&path))?;
        inner.epoch = owner.epoch;
        inner.lock = Some(lock);
        Ok(owner)
    }

    fn load(&mut self) -> Result<Stored, StoreError> {
        let inner = self.inner()?;
        let connection = &inner.connection;
        let image = connection
            .query_row("SELECT upto, body FROM image WHERE id = 1", [], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .optional()
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
        self.append_unsynced(records)?;
        sync_wal(&wal_of(&self.inner()?.path))
    }

    fn append_unsynced(&mut self, records: &[JournalRecord]) -> Result<(), StoreError> {
        let mut inner = self.inner()?;
        let tx = inner.fenced()?;
        insert(&tx, records)?;
        tx.commit().map_err(store_error)
    }

    fn syncer(&self) -> Option<Box<dyn Syncer>> {
        let path = self.inner().ok()?.path.clone();
        Some(Box::new(WalSync(wal_of(&path))))
    }

    fn compact(&mut self, records: &[JournalRecord], image: &StoredImage) -> Result<(), StoreError> {
        let upto = i64::try_from(image.upto).map_err(|_| StoreError::Other("sequence number out of range".into()))?;
        let mut inner = self.inner()?;
        let tx = inner.fenced()?;
        insert(&tx, records)?;
        tx.execute("INSERT OR REPLACE INTO image (id, upto, body) VALUES (1, ?1, ?2)", params![upto, image.bytes])
            .map_err(store_error)?;
        tx.execute("DELETE FROM journal WHERE seq <= ?1", params![upto]).map_err(store_error)?;
        tx.commit().map_err(store_error)?;
        sync_wal(&wal_of(&inner.path))
    }

    fn truncate_after(&mut self, seq: u64) -> Result<(), StoreError> {
        let seq = i64::try_from(seq).map_err(|_| StoreError::Other("sequence number out of range".into()))?;
        let mut inner = self.inner()?;
        let tx = inner.fenced()?;
        tx.execute("DELETE FROM journal WHERE seq > ?1", params![seq]).map_err(store_error)?;
        tx.commit().map_err(store_error)?;
        sync_wal(&wal_of(&inner.path))
    }
}

/// A connection that reads the database at `path` and writes nothing of
/// its own. Read-only, unless a SQLite writer died in the middle of a
/// write: a WAL index to rebuild (the `-shm` file) or a hot rollback
/// journal to roll back (what any SQLite connection does first, putting the
/// file back as it was before that write) needs write access. Then
/// read-write, with no query allowed to write and no checkpoint into the
/// database file when it closes.
fn reader(path: &Path) -> Result<Connection, rusqlite::Error> {
    let connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    match connection.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())) {
        Err(rusqlite::Error::SqliteFailure(error, _))
            if matches!(
                error.extended_code,
                rusqlite::ffi::SQLITE_READONLY_RECOVERY | rusqlite::ffi::SQLITE_READONLY_ROLLBACK
            ) =>
        {
            drop(connection);
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let connection = Connection::open_with_flags(path, flags)?;
            connection.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
            connection.pragma_update(None, "query_only", true)?;
            Ok(connection)
        }
        _ => Ok(connection),
    }
}

/// The WAL file of the store at `path`.
fn wal_of(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Syncs the WAL file at `wal`: every transaction committed into it is then
/// durable (SQLite's `synchronous = FULL` does the same at each commit). No
/// WAL file means everything is in the database file, which a checkpoint
/// synced.
fn sync_wal(wal: &Path) -> Result<(), StoreError> {
    match File::open(wal) {
        Ok(file) => file.sync_data().map_err(|e| StoreError::Other(format!("cannot sync {}: {e}", wal.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Other(format!("cannot open {} to sync it: {e}", wal.display()))),
    }
}

/// The syncer of a [`SqliteStore`]: syncs its WAL file, with no lock of the
/// store's held, so calls go on writing meanwhile.
struct WalSync(PathBuf);

impl Syncer for WalSync {
    fn sync(&self) -> Result<(), StoreError> {
        sync_wal(&self.0)
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
