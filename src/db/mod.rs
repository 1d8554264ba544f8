//! The database: the source of truth. One file per aggregate; this file owns connections,
//! transactions and the layer's error type.
//!
//! A lookup of one row by a unique key uses `get_result`, not `first`: `first` binds `LIMIT ?`,
//! and SQLite (3.47 on) plans with a bound LIMIT's value, so it recompiles the statement on every
//! execution, which cost the booking path most of its time.

pub mod access_log;
pub mod account_tokens;
pub mod bank_details;
pub mod bookings;
pub mod budget_holders;
pub mod calendar;
pub mod changes;
pub mod council_listings;
pub mod councils;
pub mod direct_payments;
pub mod invoices;
pub mod jobs;
pub mod ledger;
pub mod login_throttle;
pub mod notifications;
pub mod organisations;
pub mod payment_runs;
pub mod pb_requests;
pub mod plan_links;
pub mod plan_reviews;
pub mod ras;
pub mod reports;
pub mod schema;
pub mod search_log;
pub mod services;
pub mod sessions;
pub mod site;
pub mod threads;
pub mod totp;
pub mod users;
pub mod waitlist;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// One connection type over both backends: every query in `db/` is written once against it.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Conn = AnyConnection;
/// The backend boxed queries are built for: whichever the connection turns out to be.
pub type Backend = <AnyConnection as diesel::Connection>::Backend;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgresql");

/// Which database to use: a `postgres://` URL selects PostgreSQL; a path or `sqlite://` URL selects
/// SQLite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> DatabaseUrl {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseUrl::Postgres(url.to_string())
        } else {
            DatabaseUrl::Sqlite(PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)))
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DatabaseUrl::Postgres(_))
    }
}

/// What can go wrong storing and loading. Nothing here is a rule a user would recognise: the
/// use cases in `app/` decide what a missing row or a taken unique key means.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("cannot open the database: {0}")]
    Open(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    /// Something stored that no longer reads (it was written by this code, so never expected).
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
}

impl DbError {
    /// True when a UNIQUE constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// Settings every SQLite connection needs. WAL lets readers run beside the one writer;
/// synchronous=FULL makes each commit durable before we answer.
#[derive(Debug, Clone, Copy)]
struct ConnectionSettings;

/// The writer's: each write in a batch is a savepoint, whose undo journal SQLite keeps in a temp
/// file once past 64 KiB unless temp_store is MEMORY (a batch's undo pages are a few MB at most).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;";

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        match conn {
            AnyConnection::Sqlite(c) => c
                .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
                .map_err(diesel::r2d2::Error::QueryError),
            AnyConnection::Postgresql(_) => Ok(()),
        }
    }
}

/// A unit of write work queued for the SQLite writer thread. It runs inside a savepoint of the
/// batch's transaction and hands back what to do once the batch has committed (or failed to).
type Job = Box<dyn FnOnce(&mut AnyConnection) -> Completion + Send>;
type Completion = Box<dyn FnOnce(Option<&DbError>) + Send>;

/// Most jobs one commit (one fsync) covers.
const MAX_BATCH: usize = 128;

/// How writes reach the database.
#[derive(Clone)]
enum Writes {
    /// SQLite: one writer thread, one connection, `BEGIN IMMEDIATE`, group commit. Measured here,
    /// one writer beats a pool of writers on tail latency and never sees "database is locked";
    /// committing what has queued up together makes one fsync serve many requests, and nobody
    /// hears "done" before the commit that made it durable.
    Sqlite(std::sync::mpsc::Sender<Job>),
    /// PostgreSQL: pooled connections, one transaction per request; row locks make the guarded
    /// debit safe across connections and servers.
    Pooled,
}

#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<AnyConnection>>,
    writes: Writes,
    url: DatabaseUrl,
}

fn open_error(e: impl std::fmt::Display) -> DbError {
    DbError::Open(e.to_string())
}

impl Db {
    pub fn open(url: &DatabaseUrl) -> DbResult<Db> {
        match url {
            DatabaseUrl::Sqlite(path) => Db::open_sqlite(path),
            DatabaseUrl::Postgres(pg) => Db::open_postgres(pg),
        }
    }

    fn open_sqlite(path: &Path) -> DbResult<Db> {
        let url = path.to_string_lossy().to_string();
        let mut writer =
            SqliteConnection::establish(&url).map_err(|e| DbError::Open(format!("{}: {e}", path.display())))?;
        writer.batch_execute(SQLITE_PRAGMAS).map_err(open_error)?;
        log_migrations(
            writer
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| DbError::Migration(e.to_string()))?,
        );
        let pool = Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(ConnectionSettings))
            .build(ConnectionManager::<AnyConnection>::new(url))?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(AnyConnection::Sqlite(writer), queue))
            .map_err(|e| DbError::Open(format!("cannot start the writer thread: {e}")))?;
        Ok(Db {
            pool,
            writes: Writes::Sqlite(jobs),
            url: DatabaseUrl::Sqlite(path.to_path_buf()),
        })
    }

    fn open_postgres(url: &str) -> DbResult<Db> {
        let mut conn = pg_connect(url)?;
        // Several servers may start at once: one migrates, the others wait for it.
        diesel::sql_query("SELECT pg_advisory_lock(7061626)").execute(&mut conn)?;
        let migrated = conn.run_pending_migrations(POSTGRES_MIGRATIONS).map(log_migrations);
        diesel::sql_query("SELECT pg_advisory_unlock(7061626)").execute(&mut conn)?;
        migrated.map_err(|e| DbError::Migration(e.to_string()))?;
        // Connections open as they are needed: several servers (and the operator's commands)
        // share one PostgreSQL server's connection limit.
        let pool = Pool::builder()
            .max_size(16)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(ConnectionSettings))
            .build(ConnectionManager::<AnyConnection>::new(url))?;
        Ok(Db {
            pool,
            writes: Writes::Pooled,
            url: DatabaseUrl::Postgres(url.to_string()),
        })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A cheap query proving the database answers (health checks).
    pub fn ping(&self) -> DbResult<()> {
        self.read(|conn| Ok(diesel::sql_query("SELECT 1").execute(conn).map(|_| ())?))
    }

    /// Run `f` on a pooled connection. Blocking: call from a blocking thread.
    pub fn read<T>(&self, f: impl FnOnce(&mut Conn) -> DbResult<T>) -> DbResult<T> {
        self.read_as(f)
    }

    /// Run `f` as one all-or-nothing write and wait until it is durably committed. Blocking.
    pub fn write<T: Send + 'static>(&self, f: impl FnOnce(&mut Conn) -> DbResult<T> + Send + 'static) -> DbResult<T> {
        self.write_as(f)
    }

    /// [`Db::read`] with the caller's error type, so a use case can refuse with its own errors.
    pub fn read_as<T, E: From<DbError>>(&self, f: impl FnOnce(&mut Conn) -> Result<T, E>) -> Result<T, E> {
        let mut conn = self.pool.get().map_err(DbError::from)?;
        f(&mut conn)
    }

    /// [`Db::write`] with the caller's error type: an `Err` from `f` rolls back everything it wrote.
    pub fn write_as<T, E>(&self, f: impl FnOnce(&mut Conn) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        let jobs = match &self.writes {
            Writes::Pooled => {
                let mut conn = self.pool.get().map_err(DbError::from)?;
                let conn: &mut AnyConnection = &mut conn;
                return conn.transaction(f);
            }
            Writes::Sqlite(jobs) => jobs,
        };
        let (done, outcome) = std::sync::mpsc::sync_channel::<Result<T, E>>(1);
        let job: Job = Box::new(move |conn| {
            // Nested inside the batch's transaction, diesel makes this a savepoint.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| conn.transaction(f)))
                .unwrap_or_else(|_| Err(DbError::Open("a write panicked; its batch is rolled back".into()).into()));
            Box::new(move |commit_error: Option<&DbError>| {
                let result = match commit_error {
                    None => result,
                    Some(e) => Err(DbError::Open(format!("commit failed: {e}")).into()),
                };
                let _ = done.send(result);
            })
        });
        let stopped = || DbError::Open("the database writer has stopped".into());
        jobs.send(job).map_err(|_| stopped())?;
        outcome.recv().map_err(|_| stopped())?
    }
}

fn log_migrations(applied: Vec<diesel::migration::MigrationVersion<'_>>) {
    for m in applied {
        tracing::info!(migration = %m, "applied migration");
    }
}

/// The inner SQLite connection (for the few things only SQLite has).
pub fn sqlite(conn: &mut AnyConnection) -> DbResult<&mut SqliteConnection> {
    match conn {
        AnyConnection::Sqlite(c) => Ok(c),
        AnyConnection::Postgresql(_) => Err(DbError::Open("this needs the SQLite backend".into())),
    }
}

/// How many transactions (the batch's and savepoints) are open on the writer connection.
fn depth(conn: &mut AnyConnection) -> Option<u32> {
    let c = sqlite(conn).ok()?;
    AnsiTransactionManager::transaction_manager_status_mut(c)
        .transaction_depth()
        .ok()
        .flatten()
        .map(|d| d.get())
}

fn run_writer(mut conn: AnyConnection, queue: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let begun =
            sqlite(&mut conn).and_then(|c| Ok(AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?));
        let mut completions = Vec::with_capacity(batch.len());
        let committed = match begun {
            Ok(()) => {
                let mut intact = true;
                for job in batch {
                    completions.push(job(&mut conn));
                    // Each job must leave only the batch's own transaction open. One that did not
                    // (a panic mid-write leaves its savepoint behind) spoils the whole batch.
                    intact &= depth(&mut conn) == Some(1);
                }
                let commit = if intact {
                    sqlite(&mut conn).and_then(|c| Ok(AnsiTransactionManager::commit_transaction(c)?))
                } else {
                    Err(DbError::Open(
                        "a write failed part-way; the whole batch was rolled back".into(),
                    ))
                };
                if commit.is_err() {
                    // Roll back every level still open, so the next batch starts clean.
                    while depth(&mut conn).is_some() {
                        let rolled =
                            sqlite(&mut conn).and_then(|c| Ok(AnsiTransactionManager::rollback_transaction(c)?));
                        if rolled.is_err() {
                            break;
                        }
                    }
                }
                commit
            }
            Err(e) => Err(e),
        };
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

/// Create an empty database on the PostgreSQL server of `server_url` and return its URL (tests
/// and benchmarks each get their own).
pub fn create_scratch_postgres(server_url: &str, prefix: &str) -> DbResult<String> {
    let mut conn = pg_connect(server_url)?;
    let name = format!("{prefix}_{}_{:08x}", std::process::id(), rand::random::<u32>());
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn)?;
    let (base, query) = server_url
        .split_once('?')
        .map_or((server_url, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    Ok(match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    })
}

/// One connection to PostgreSQL. OpenSSL is initialised first without its exit handler: that
/// handler frees OpenSSL's state while the pool's threads may still use it, which crashed about
/// one command in four as it exited.
pub fn pg_connect(url: &str) -> DbResult<PgConnection> {
    openssl_sys::init();
    PgConnection::establish(url).map_err(|e| DbError::Open(format!("PostgreSQL: {e}")))
}

/// Drop a database made by [`create_scratch_postgres`], closing any connections still open on it.
pub fn drop_scratch_postgres(server_url: &str, scratch_url: &str) -> DbResult<()> {
    let name = scratch_url
        .split('?')
        .next()
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or_default();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(DbError::Open(format!("not a scratch database: {name}")));
    }
    let mut conn = pg_connect(server_url)?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_backend() {
        assert!(DatabaseUrl::parse("postgres://u@h/db").is_postgres());
        assert!(DatabaseUrl::parse("postgresql://u@h/db").is_postgres());
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/lo.db"),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/lo.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("data/lo.db"),
            DatabaseUrl::Sqlite(PathBuf::from("data/lo.db"))
        );
    }
}
