//! The database: the source of truth. One file per aggregate; this file owns connections,
//! transactions and the layer's error type.

pub mod bookings;
pub mod budget_holders;
pub mod councils;
pub mod ledger;
pub mod organisations;
pub mod schema;
pub mod search_log;
pub mod services;
pub mod users;

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::domain::validate::Invalid;

/// The connection every query in `db/` is written against.
pub type Conn = SqliteConnection;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A reference in a request body to something that does not exist.
    #[error("{message}")]
    UnknownReference { field: String, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("cannot open the database: {0}")]
    Open(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl DbError {
    pub fn conflict(code: &'static str, message: impl Into<String>, field: Option<&str>) -> DbError {
        DbError::Conflict {
            code,
            message: message.into(),
            field: field.map(str::to_string),
        }
    }

    pub fn conflict_not_found(field: &str, message: impl Into<String>) -> DbError {
        DbError::UnknownReference {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> DbError {
        DbError::Forbidden(message.into())
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// Settings every SQLite connection needs. WAL lets readers run beside the one writer;
/// synchronous=FULL makes each commit durable before we answer.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A unit of write work queued for the writer thread. It runs inside a savepoint of the batch's
/// transaction and hands back what to do once the batch has committed (or failed to).
type Job = Box<dyn FnOnce(&mut SqliteConnection) -> Completion + Send>;
type Completion = Box<dyn FnOnce(Option<&DbError>) + Send>;

/// Most jobs one commit (one fsync) covers.
const MAX_BATCH: usize = 128;

/// Pooled readers and one writer thread. All SQLite writes go through the writer's one connection
/// with `BEGIN IMMEDIATE` (measured here: one writer beats a pool of writers on tail latency and
/// never sees "database is locked"). The writer commits whatever work has queued up together
/// (group commit): each request still gets all-or-nothing through its own savepoint, and nobody
/// hears "done" before the commit that made it durable.
#[derive(Clone)]
pub struct Db {
    readers: Pool<ConnectionManager<SqliteConnection>>,
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Db {
    pub fn open_sqlite(path: &Path) -> DbResult<Db> {
        let url = path.to_string_lossy().to_string();
        let mut writer =
            SqliteConnection::establish(&url).map_err(|e| DbError::Open(format!("{}: {e}", path.display())))?;
        writer
            .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| DbError::Open(e.to_string()))?;
        let applied = writer
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?;
        for m in applied {
            tracing::info!(migration = %m, "applied migration");
        }
        let readers = Pool::builder()
            .max_size(8)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(ConnectionManager::<SqliteConnection>::new(url))?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(writer, queue))
            .map_err(|e| DbError::Open(format!("cannot start the writer thread: {e}")))?;
        Ok(Db { readers, jobs })
    }

    /// A cheap query proving the database answers (health checks).
    pub fn ping(&self) -> DbResult<()> {
        self.read(|conn| Ok(diesel::sql_query("SELECT 1").execute(conn).map(|_| ())?))
    }

    /// Run `f` on a pooled connection. Blocking: call from a blocking thread.
    pub fn read<T>(&self, f: impl FnOnce(&mut Conn) -> DbResult<T>) -> DbResult<T> {
        let mut conn = self.readers.get()?;
        f(&mut conn)
    }

    /// Run `f` as one all-or-nothing write and wait until it is durably committed. Blocking.
    pub fn write<T: Send + 'static>(&self, f: impl FnOnce(&mut Conn) -> DbResult<T> + Send + 'static) -> DbResult<T> {
        let (done, outcome) = std::sync::mpsc::sync_channel::<DbResult<T>>(1);
        let job: Job = Box::new(move |conn| {
            // Nested inside the batch's transaction, diesel makes this a savepoint.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| conn.transaction(f)))
                .unwrap_or_else(|_| Err(DbError::Open("a write panicked and was rolled back".into())));
            Box::new(move |commit_error: Option<&DbError>| {
                let result = match commit_error {
                    None => result,
                    Some(e) => Err(DbError::Open(format!("commit failed: {e}"))),
                };
                let _ = done.send(result);
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| DbError::Open("the database writer has stopped".into()))?;
        outcome
            .recv()
            .map_err(|_| DbError::Open("the database writer has stopped".into()))?
    }
}

fn run_writer(mut conn: SqliteConnection, queue: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut completions = Vec::with_capacity(batch.len());
        let committed = conn.immediate_transaction(|c| {
            completions.extend(batch.into_iter().map(|job| job(c)));
            Ok::<_, DbError>(())
        });
        if let Err(e) = &committed {
            tracing::error!(error = %e, jobs = completions.len(), "write batch failed to commit");
        }
        for complete in completions {
            complete(committed.as_ref().err());
        }
    }
}

pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// True when `e` is a UNIQUE constraint refusal.
pub fn is_unique_violation(e: &DbError) -> bool {
    matches!(
        e,
        DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}
