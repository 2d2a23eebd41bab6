//! A store in a PostgreSQL database (feature `postgres`): many registries
//! share one database, each under the id its caller chooses (typically the
//! owning session's), with its own owner row, lease and fencing epoch.
//!
//! - **Ownership.** [`Store::claim`] takes the registry's owner row in one
//!   transaction: refused while another owner's lease runs (unless it is a
//!   takeover), else the epoch goes up by one and the lease starts. The
//!   owner renews its lease while it lives; one that stops renewing (a
//!   killed or stopped process, a host cut off) may be taken over once the
//!   lease has run out. Closing the store ends its lease at once.
//! - **Fencing.** Every write checks the writer's epoch in its own
//!   transaction, holding the owner row locked until it commits: a writer
//!   fenced by a newer claim changes nothing.
//! - **One round trip per append**: the epoch check, the lease renewal and
//!   the insert of every record are one statement. A `Batched` registry
//!   appends its whole batch at once.
//!
//! The client is the blocking one of rust-postgres, run on a thread of the
//! store's own, so a registry may be called from inside a tokio runtime.
//!
//! **A broken connection.** A write whose connection broke (the server
//! restarted, the network failed) may or may not have committed: the store
//! then refuses every later write, as the registry does after a failed
//! sync, so the call fails closed and nothing later builds on a record
//! whose fate is unknown. Reopening the registry on a new store recovers
//! what the database holds. Reads and lease renewals reconnect.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, NoTls, Statement};

use crate::durable::options::Claim;
use crate::durable::store::{JournalRecord, Store, Stored, StoredImage};
use crate::error::{Owner, StoreError};

/// The schema this crate writes; a database holding another is refused.
const SCHEMA_VERSION: i32 = 1;

/// The longest registry id (it is a key of every table).
pub const MAX_REGISTRY_ID: usize = 200;

/// The tables, created once per database (under an advisory lock, so two
/// processes creating them at once do not collide).
const CREATE: &str = "
    SELECT pg_advisory_xact_lock(7411160111);
    CREATE TABLE IF NOT EXISTS oplife_schema (version INT NOT NULL);
    INSERT INTO oplife_schema (version) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM oplife_schema);
    CREATE TABLE IF NOT EXISTS oplife_owner (
        registry TEXT PRIMARY KEY,
        epoch BIGINT NOT NULL,
        pid INT,
        host TEXT,
        since_ms BIGINT,
        lease_until TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE IF NOT EXISTS oplife_journal (
        registry TEXT NOT NULL,
        seq BIGINT NOT NULL,
        body BYTEA NOT NULL,
        PRIMARY KEY (registry, seq)
    );
    CREATE TABLE IF NOT EXISTS oplife_image (
        registry TEXT PRIMARY KEY,
        upto BIGINT NOT NULL,
        body BYTEA NOT NULL
    );
";

/// The epoch check and lease renewal of a write: one row if `$2` is still
/// the registry's epoch (the row stays locked until the write commits).
const HOLD: &str = "UPDATE oplife_owner SET lease_until = now() + make_interval(secs => $3)
    WHERE registry = $1 AND epoch = $2 RETURNING epoch";

/// An append in one statement: the owner row is checked and renewed, then
/// every record inserted, only if the check held.
const APPEND: &str = "WITH held AS (
        UPDATE oplife_owner SET lease_until = now() + make_interval(secs => $5)
        WHERE registry = $1 AND epoch = $2 RETURNING epoch
    )
    INSERT INTO oplife_journal (registry, seq, body)
    SELECT $1, seq, body FROM unnest($3::BIGINT[], $4::BYTEA[]) AS records(seq, body)
    WHERE EXISTS (SELECT 1 FROM held)";

/// How a [`PostgresStore`] holds its registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresOptions {
    /// How long a claim lasts without renewal: the owner renews it three
    /// times per lease while it lives, and another process may take the
    /// registry over once it has run out. Between 100 ms and one day.
    pub lease: Duration,
}

impl Default for PostgresOptions {
    /// A 10-second lease.
    fn default() -> Self {
        PostgresOptions { lease: Duration::from_secs(10) }
    }
}

/// One registry's journal and image in a PostgreSQL database (see the
/// module's documentation for ownership and fencing).
///
/// ```no_run
/// use oplife_shell::{DurableOptions, PostgresOptions, PostgresStore, RuntimeOpsLifecycleRegistry};
///
/// let store = PostgresStore::connect(
///     "host=/run/postgresql dbname=app user=app",
///     "session-7f3a",
///     PostgresOptions::default(),
/// )?;
/// let (registry, report) = RuntimeOpsLifecycleRegistry::open_store(store, DurableOptions::default())?;
/// println!("recovered {} records", report.replayed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PostgresStore {
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<JoinHandle<()>>,
    registry: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("registry", &self.registry).finish_non_exhaustive()
    }
}

/// Work for the store's thread.
type Job = Box<dyn FnOnce(&mut Session) + Send>;

impl PostgresStore {
    /// Connects to the database that `params` names (a libpq connection
    /// string, `host=/run/postgresql dbname=app`, or a `postgresql://` URL),
    /// creates this crate's tables there if they are missing, and returns
    /// the store of registry `registry` in it. Nothing is claimed yet:
    /// opening a registry on it claims it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Other`] for a malformed `params`, an empty or over-long
    /// `registry` (more than [`MAX_REGISTRY_ID`] bytes), a lease out of
    /// range, or a database that cannot be reached; [`StoreError::NotOurs`]
    /// for a database whose `oplife_` tables another schema version wrote.
    pub fn connect(params: &str, registry: &str, options: PostgresOptions) -> Result<Self, StoreError> {
        let config: postgres::Config =
            params.parse().map_err(|e| StoreError::Other(format!("bad connection parameters: {e}")))?;
        if registry.is_empty() || registry.len() > MAX_REGISTRY_ID {
            return Err(StoreError::Other(format!(
                "a registry id is 1 to {MAX_REGISTRY_ID} bytes, not {}",
                registry.len()
            )));
        }
        if !(Duration::from_millis(100)..=Duration::from_secs(86_400)).contains(&options.lease) {
            return Err(StoreError::Other(format!("a lease lasts 100 ms to one day, not {:?}", options.lease)));
        }
        let mut session = Session {
            config,
            client: None,
            registry: registry.to_owned(),
            lease: options.lease,
            epoch: 0,
            renewed: Instant::now(),
            broken: None,
        };
        session.connected()?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let worker = thread::Builder::new()
            .name(format!("oplife-postgres-{registry}"))
            .spawn(move || serve(session, &queue))
            .map_err(|e| StoreError::Other(format!("cannot start the store's thread: {e}")))?;
        Ok(PostgresStore { jobs: Some(jobs), worker: Some(worker), registry: registry.to_owned() })
    }

    /// The registry id this store holds.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Who holds the registry now, as the database records it (epoch 0:
    /// never claimed).
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the database cannot be read.
    pub fn owner(&self) -> Result<Owner, StoreError> {
        self.run(|session| session.owner())
    }

    /// Runs `job` on the store's thread and waits for its answer.
    fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Session) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let gone = || StoreError::Other("the store's thread has stopped".into());
        let (answer, answered) = mpsc::sync_channel(1);
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        jobs.send(Box::new(move |session: &mut Session| {
            let _ = answer.send(job(session));
        }))
        .map_err(|_| gone())?;
        answered.recv().map_err(|_| gone())?
    }
}

impl Drop for PostgresStore {
    /// Ends the store's lease (another process may claim the registry at
    /// once) and stops its thread.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Store for PostgresStore {
    fn claim(&mut self, claim: Claim) -> Result<Owner, StoreError> {
        self.run(move |session| session.claim(claim))
    }

    fn load(&mut self) -> Result<Stored, StoreError> {
        self.run(|session| session.load())
    }

    fn append(&mut self, records: &[JournalRecord]) -> Result<(), StoreError> {
        let (seqs, bodies) = columns(records)?;
        self.run(move |session| session.append(&seqs, &bodies))
    }

    fn compact(&mut self, records: &[JournalRecord], image: &StoredImage) -> Result<(), StoreError> {
        let (seqs, bodies) = columns(records)?;
        let upto = as_sql(image.upto)?;
        let body = image.bytes.clone();
        self.run(move |session| session.compact(&seqs, &bodies, upto, &body))
    }

    fn truncate_after(&mut self, seq: u64) -> Result<(), StoreError> {
        let seq = as_sql(seq)?;
        self.run(move |session| session.truncate_after(seq))
    }
}

/// The store's thread: runs each job in turn, and renews the lease when a
/// third of it has passed since the last renewal. It ends the lease when
/// the store is dropped.
fn serve(mut session: Session, queue: &mpsc::Receiver<Job>) {
    loop {
        let renew_in = (session.lease / 3).saturating_sub(session.renewed.elapsed());
        match queue.recv_timeout(renew_in) {
            Ok(job) => job(&mut session),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                session.release();
                return;
            }
        }
        if session.epoch > 0 && session.renewed.elapsed() >= session.lease / 3 {
            // A failed renewal is retried at the next turn; a fenced one
            // leaves the epoch for the next write to report.
            let _ = session.renew();
        }
    }
}

/// The connection and the claim, owned by the store's thread.
struct Session {
    config: postgres::Config,
    client: Option<(Client, Statements)>,
    registry: String,
    lease: Duration,
    /// The epoch this store claimed (0: none).
    epoch: u64,
    /// When the lease was last renewed (or claimed).
    renewed: Instant,
    /// Why writes are refused: a write's connection broke, and whether it
    /// committed is unknown.
    broken: Option<String>,
}

/// The statements every write uses, prepared once per connection.
struct Statements {
    hold: Statement,
    append: Statement,
}

impl Session {
    /// The connection, made again if the server dropped it.
    fn connected(&mut self) -> Result<&mut (Client, Statements), StoreError> {
        if self.client.as_ref().is_some_and(|(client, _)| client.is_closed()) {
            self.client = None;
        }
        if self.client.is_none() {
            let mut client = self.config.connect(NoTls).map_err(|e| failed("cannot reach the database", &e))?;
            client.batch_execute(CREATE).map_err(|e| failed("cannot create the store's tables", &e))?;
            let version: i32 = client
                .query_one("SELECT version FROM oplife_schema", &[])
                .and_then(|row| row.try_get(0))
                .map_err(|e| failed("cannot read the store's schema", &e))?;
            if version != SCHEMA_VERSION {
                return Err(StoreError::NotOurs(format!(
                    "its oplife_ tables are of schema {version}; this build writes {SCHEMA_VERSION}"
                )));
            }
            let hold = client.prepare(HOLD).map_err(|e| failed("cannot prepare", &e))?;
            let append = client.prepare(APPEND).map_err(|e| failed("cannot prepare", &e))?;
            self.client = Some((client, Statements { hold, append }));
        }
        self.client.as_mut().ok_or_else(|| StoreError::Other("no connection".into()))
    }

    fn lease_secs(&self) -> f64 {
        self.lease.as_secs_f64()
    }

    fn claim(&mut self, claim: Claim) -> Result<Owner, StoreError> {
        let (registry, lease) = (self.registry.clone(), self.lease_secs());
        let held = self.epoch;
        let (client, _) = self.connected()?;
        let mut tx = client.transaction().map_err(|e| failed("cannot begin", &e))?;
        // An owner stopped in the middle of a write holds its row: the
        // claim gives up after a lease's time (`Busy`), changing nothing.
        tx.batch_execute(&format!("SET LOCAL lock_timeout = {}", lease_ms(lease)))
            .map_err(|e| failed("cannot claim", &e))?;
        tx.execute(
            "INSERT INTO oplife_owner (registry, epoch, lease_until) VALUES ($1, 0, now()) ON CONFLICT DO NOTHING",
            &[&registry],
        )
        .map_err(|e| failed("cannot claim", &e))?;
        let row = tx
            .query_one(
                "SELECT epoch, pid, host, since_ms, lease_until > now() FROM oplife_owner WHERE registry = $1 FOR UPDATE",
                &[&registry],
            )
            .map_err(|e| failed("cannot claim", &e))?;
        let current = owner_of(&row)?;
        let live: bool = row.try_get(4).map_err(|e| failed("cannot claim", &e))?;
        if claim == Claim::IfFree && current.epoch > 0 && current.epoch != held && live {
            return Err(StoreError::Owned { owner: current });
        }
        let owner = Owner::of_this_process(current.epoch + 1);
        tx.execute(
            "UPDATE oplife_owner SET epoch = $2, pid = $3, host = $4, since_ms = $5,
                lease_until = now() + make_interval(secs => $6) WHERE registry = $1",
            &[
                &registry,
                &as_sql(owner.epoch)?,
                &owner.pid.and_then(|pid| i32::try_from(pid).ok()),
                &owner.host,
                &owner.since_ms.map(as_sql).transpose()?,
                &lease,
            ],
        )
        .map_err(|e| failed("cannot claim", &e))?;
        tx.commit().map_err(|e| failed("cannot claim", &e))?;
        self.epoch = owner.epoch;
        self.renewed = Instant::now();
        Ok(owner)
    }

    fn owner(&mut self) -> Result<Owner, StoreError> {
        let registry = self.registry.clone();
        let (client, _) = self.connected()?;
        let row = client
            .query_opt("SELECT epoch, pid, host, since_ms FROM oplife_owner WHERE registry = $1", &[&registry])
            .map_err(|e| failed("cannot read the owner", &e))?;
        row.map_or_else(|| Ok(Owner::default()), |row| owner_of(&row))
    }

    fn load(&mut self) -> Result<Stored, StoreError> {
        let registry = self.registry.clone();
        let (client, _) = self.connected()?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| failed("cannot begin", &e))?;
        let image = tx
            .query_opt("SELECT upto, body FROM oplife_image WHERE registry = $1", &[&registry])
            .map_err(|e| failed("cannot read the image", &e))?
            .map(|row| -> Result<StoredImage, StoreError> {
                let upto: i64 = row.try_get(0).map_err(|e| failed("cannot read the image", &e))?;
                let bytes: Vec<u8> = row.try_get(1).map_err(|e| failed("cannot read the image", &e))?;
                Ok(StoredImage { upto: from_sql(upto)?, bytes })
            })
            .transpose()?;
        let after = image.as_ref().map_or(Ok(0), |image| as_sql(image.upto))?;
        let journal = tx
            .query(
                "SELECT seq, body FROM oplife_journal WHERE registry = $1 AND seq > $2 ORDER BY seq",
                &[&registry, &after],
            )
            .map_err(|e| failed("cannot read the journal", &e))?
            .into_iter()
            .map(|row| {
                let seq: i64 = row.try_get(0).map_err(|e| failed("cannot read the journal", &e))?;
                let bytes: Vec<u8> = row.try_get(1).map_err(|e| failed("cannot read the journal", &e))?;
                Ok(JournalRecord { seq: from_sql(seq)?, bytes })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        tx.commit().map_err(|e| failed("cannot read", &e))?;
        Ok(Stored { image, journal })
    }

    /// Refuses a write while an earlier write's outcome is unknown.
    fn writable(&self) -> Result<(), StoreError> {
        match &self.broken {
            Some(why) => Err(StoreError::Other(why.clone())),
            None => Ok(()),
        }
    }

    /// The error of a write that failed with `error`: if its connection
    /// broke, whether it committed is unknown, and later writes are refused.
    fn write_failed(&mut self, what: &str, error: &postgres::Error) -> StoreError {
        if error.code().is_none() {
            let why = format!(
                "{what}: the connection to the database broke ({error}), and whether that write committed is \
                 unknown: no more writes until the registry is reopened, which recovers what the database holds"
            );
            self.broken = Some(why.clone());
            self.client = None;
            return StoreError::Other(why);
        }
        failed(what, error)
    }

    fn append(&mut self, seqs: &[i64], bodies: &[Vec<u8>]) -> Result<(), StoreError> {
        self.writable()?;
        let (registry, lease, epoch) = (self.registry.clone(), self.lease_secs(), as_sql(self.epoch)?);
        let (client, statements) = self.connected()?;
        let held = match seqs.is_empty() {
            true => client.query(&statements.hold, &[&registry, &epoch, &lease]).map(|rows| rows.len() as u64),
            false => client.execute(&statements.append, &[&registry, &epoch, &seqs, &bodies, &lease]),
        };
        let held = held.map_err(|e| self.write_failed("cannot append", &e))?;
        if held == 0 {
            return Err(self.fenced());
        }
        self.renewed = Instant::now();
        Ok(())
    }

    fn compact(&mut self, seqs: &[i64], bodies: &[Vec<u8>], upto: i64, body: &[u8]) -> Result<(), StoreError> {
        self.held_write("cannot compact", |tx, registry| {
            tx.execute(
                "INSERT INTO oplife_journal (registry, seq, body)
                    SELECT $1, seq, body FROM unnest($2::BIGINT[], $3::BYTEA[]) AS records(seq, body)",
                &[&registry, &seqs, &bodies],
            )?;
            tx.execute(
                "INSERT INTO oplife_image (registry, upto, body) VALUES ($1, $2, $3)
                    ON CONFLICT (registry) DO UPDATE SET upto = excluded.upto, body = excluded.body",
                &[&registry, &upto, &body],
            )?;
            tx.execute("DELETE FROM oplife_journal WHERE registry = $1 AND seq <= $2", &[&registry, &upto])?;
            Ok(())
        })
    }

    fn truncate_after(&mut self, seq: i64) -> Result<(), StoreError> {
        self.held_write("cannot cut", |tx, registry| {
            tx.execute("DELETE FROM oplife_journal WHERE registry = $1 AND seq > $2", &[&registry, &seq])?;
            Ok(())
        })
    }

    /// Runs `write` in one transaction that first checks (and renews) this
    /// store's hold on the registry: fenced, it writes nothing.
    fn held_write(
        &mut self,
        what: &str,
        write: impl FnOnce(&mut postgres::Transaction<'_>, &str) -> Result<(), postgres::Error>,
    ) -> Result<(), StoreError> {
        self.writable()?;
        let (registry, lease, epoch) = (self.registry.clone(), self.lease_secs(), as_sql(self.epoch)?);
        let (client, statements) = self.connected()?;
        let written = (|| -> Result<bool, postgres::Error> {
            let mut tx = client.transaction()?;
            if tx.query(&statements.hold, &[&registry, &epoch, &lease])?.is_empty() {
                return Ok(false);
            }
            write(&mut tx, &registry)?;
            tx.commit()?;
            Ok(true)
        })();
        match written.map_err(|e| self.write_failed(what, &e))? {
            true => {
                self.renewed = Instant::now();
                Ok(())
            }
            false => Err(self.fenced()),
        }
    }

    /// Renews the lease, if this store still holds the registry.
    fn renew(&mut self) -> Result<(), StoreError> {
        let (registry, lease, epoch) = (self.registry.clone(), self.lease_secs(), as_sql(self.epoch)?);
        let (client, statements) = self.connected()?;
        let held =
            client.query(&statements.hold, &[&registry, &epoch, &lease]).map_err(|e| failed("cannot renew", &e))?;
        self.renewed = Instant::now();
        if held.is_empty() { Err(self.fenced()) } else { Ok(()) }
    }

    /// Ends the lease now, if this store still holds the registry.
    fn release(&mut self) {
        if self.epoch == 0 {
            return;
        }
        let (registry, epoch) = (self.registry.clone(), self.epoch);
        if let (Ok(epoch), Ok((client, _))) = (as_sql(epoch), self.connected()) {
            let _ = client.execute(
                "UPDATE oplife_owner SET lease_until = now() WHERE registry = $1 AND epoch = $2",
                &[&registry, &epoch],
            );
        }
    }

    /// The error of a write this store's epoch no longer allows.
    fn fenced(&mut self) -> StoreError {
        let current = self.owner().map_or(0, |owner| owner.epoch);
        StoreError::Fenced { epoch: self.epoch, current }
    }
}

/// The owner of a row of `oplife_owner` (its first four columns).
fn owner_of(row: &postgres::Row) -> Result<Owner, StoreError> {
    let epoch: i64 = row.try_get(0).map_err(|e| failed("cannot read the owner", &e))?;
    let pid: Option<i32> = row.try_get(1).map_err(|e| failed("cannot read the owner", &e))?;
    let host: Option<String> = row.try_get(2).map_err(|e| failed("cannot read the owner", &e))?;
    let since_ms: Option<i64> = row.try_get(3).map_err(|e| failed("cannot read the owner", &e))?;
    Ok(Owner {
        epoch: from_sql(epoch)?,
        pid: pid.and_then(|pid| u32::try_from(pid).ok()),
        host,
        since_ms: since_ms.and_then(|ms| u64::try_from(ms).ok()),
    })
}

/// The records as two columns, for one `unnest`.
fn columns(records: &[JournalRecord]) -> Result<(Vec<i64>, Vec<Vec<u8>>), StoreError> {
    let seqs = records.iter().map(|record| as_sql(record.seq)).collect::<Result<Vec<_>, _>>()?;
    let bodies = records.iter().map(|record| record.bytes.clone()).collect();
    Ok((seqs, bodies))
}

/// A lease of `secs` seconds in whole milliseconds (at least one).
fn lease_ms(secs: f64) -> u64 {
    ((secs * 1000.0) as u64).max(1)
}

fn as_sql(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Other(format!("{value} is out of PostgreSQL's BIGINT range")))
}

fn from_sql(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("a negative sequence number or epoch: {value}")))
}

/// The store error of a failed database call.
fn failed(what: &str, error: &postgres::Error) -> StoreError {
    match error.code() {
        Some(code) if *code == SqlState::READ_ONLY_SQL_TRANSACTION => StoreError::ReadOnly,
        Some(code) if *code == SqlState::DISK_FULL || *code == SqlState::PROGRAM_LIMIT_EXCEEDED => StoreError::Full,
        Some(code) if *code == SqlState::LOCK_NOT_AVAILABLE || *code == SqlState::T_R_SERIALIZATION_FAILURE => {
            StoreError::Busy
        }
        _ => StoreError::Other(format!("{what}: {error}")),
    }
}
