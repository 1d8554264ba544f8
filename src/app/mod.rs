//! The use cases: each thing a user can do, written once and called by both front doors (the JSON
//! API in `web/api/` and the pages in `web/pages/`). A use case checks its input and its rules with
//! `domain/`, runs one transaction through `db/`, and nudges the search index after the commit.
//! Blocking work (the database, password hashing, the index), transactions and retries happen
//! here and nowhere else.

pub mod account_links;
pub mod accounts;
pub mod bookings;
pub mod calendar;
pub mod council_users;
pub mod councils;
pub mod direct_payments;
pub mod feed;
pub mod finance;
pub mod invoices;
pub mod jobs;
pub mod listings;
pub mod notices;
pub mod notifications;
pub mod outbox;
pub mod passwords;
pub mod payment_runs;
pub mod personal_budgets;
pub mod plan_changes;
pub mod plan_links;
pub mod plans;
pub mod providers;
pub mod records;
pub mod reports;
pub mod sealing;
pub mod search;
pub mod services;
pub mod sessions;
pub mod threads;
pub mod totp;
pub mod waitlist;

use std::sync::Arc;
use std::sync::mpsc::Sender;

use chrono::NaiveDate;

use crate::db::{Conn, Db, DbError};
use crate::domain::RuleError;
use crate::domain::oruk::PublicIds;
use crate::domain::taxonomy::Taxonomy;
use crate::domain::validate::Invalid;
use crate::geocode::Geocoder;
use crate::search::{SearchError, SearchIndex};

/// Everything a use case may reach: built once at start-up and shared by every request.
#[derive(Clone)]
pub struct App {
    db: Db,
    pub taxonomy: Arc<Taxonomy>,
    search: Arc<SearchIndex>,
    pub geocoder: Geocoder,
    /// The UUIDs our records are published under in the Open Referral feed.
    pub public_ids: PublicIds,
    /// Wakes the search follower after a write on this server, so the index is fresh at once.
    reindex: Sender<()>,
    /// Keeps this server's job runner going (it stops when the last clone goes), and wakes it
    /// when a write queued mail.
    jobs: Arc<Sender<()>>,
    /// The one bounded pool every password hash and check runs on.
    pub passwords: passwords::PasswordPool,
    /// When an account's failed logins delay or lock further attempts.
    pub throttle: crate::domain::throttle::Policy,
    /// A session unused for longer is dead (beside its absolute 12 hours).
    idle_timeout: chrono::Duration,
    /// How long the search log and ended plans are kept.
    pub retention: crate::domain::retention::Retention,
    /// Where direct-payment receipts are kept.
    receipts: direct_payments::ReceiptStore,
    /// Seals providers' bank details at rest (`serve --data-key-file`); none, nothing is sealed.
    data_key: Option<sealing::DataKey>,
}

/// The limits a server applies: its password checks pool, its per-account login policy, and how
/// long it keeps data (the daily purge job follows it).
pub struct Limits {
    pub passwords: passwords::PasswordPool,
    pub throttle: crate::domain::throttle::Policy,
    pub retention: crate::domain::retention::Retention,
    /// Where this server's mail goes.
    pub outbox: Arc<outbox::Outbox>,
}

/// Why a use case did not do what it was asked. Each front door maps it once: the API to its JSON
/// envelope, the pages to a form with its errors or an error page.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Values that can never be accepted, every one named by its field.
    #[error(transparent)]
    Invalid(Invalid),
    /// A query-string parameter that cannot be used.
    #[error("{field}: {message}")]
    BadParameter { field: String, message: String },
    /// A reference in the request to something that does not exist.
    #[error("{message}")]
    UnknownReference { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// Allowed such things, but not this one: `code` says why (`separation_of_duties`).
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The password was right but the second factor is missing (`totp_required`) or wrong
    /// (`totp_invalid`).
    #[error("{message}")]
    SecondFactor { code: &'static str, message: &'static str },
    /// A council officer or broker who has not set up a second factor yet may only do that.
    #[error("set up a second factor first: POST /api/v1/me/totp, then /api/v1/me/totp/confirm")]
    EnrolmentRequired,
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
        /// Every part of the request at fault, when there are several.
        fields: Vec<crate::domain::validate::FieldError>,
    },
    /// A mailed link that worked once and no longer does: used (`token_used`) or out of date
    /// (`token_expired`).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    #[error("the server is too busy to answer; try again")]
    Busy,
    /// Too many attempts (from this address, at this account, or waiting for a password check):
    /// try again after this many seconds.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn conflict(code: &'static str, message: impl Into<String>, field: Option<&str>) -> AppError {
        AppError::Conflict {
            code,
            message: message.into(),
            field: field.map(str::to_string),
            fields: Vec::new(),
        }
    }

    pub fn unknown(field: &str, message: impl Into<String>) -> AppError {
        AppError::UnknownReference {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> AppError {
        AppError::NotFound(format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::Forbidden(message.into())
    }

    /// The refusal for a role that cannot do this at all.
    pub fn wrong_role(actor: &crate::domain::Actor) -> AppError {
        AppError::Forbidden(format!("you cannot do this as a {}", actor.role))
    }

    /// Query-string problems name the first parameter at fault.
    pub fn bad_parameters(invalid: Invalid) -> AppError {
        match invalid.0.into_iter().next() {
            Some(e) => AppError::BadParameter {
                field: e.field,
                message: e.message,
            },
            None => AppError::BadParameter {
                field: String::new(),
                message: "invalid parameters".into(),
            },
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> AppError {
        match e {
            DbError::NotFound(what) => AppError::not_found(what),
            DbError::Pool(_) => AppError::Busy,
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        DbError::from(e).into()
    }
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> AppError {
        AppError::Invalid(e)
    }
}

impl From<crate::domain::validate::FieldError> for AppError {
    fn from(e: crate::domain::validate::FieldError) -> AppError {
        AppError::Invalid(e.into())
    }
}

impl From<RuleError> for AppError {
    fn from(e: RuleError) -> AppError {
        match e {
            RuleError::Invalid(invalid) => AppError::Invalid(invalid),
            RuleError::Conflict {
                code,
                message,
                field,
                fields,
            } => AppError::Conflict {
                code,
                message,
                field,
                fields,
            },
            RuleError::Forbidden(message) => AppError::Forbidden(message),
            RuleError::Denied { code, message } => AppError::Denied { code, message },
        }
    }
}

impl From<SearchError> for AppError {
    fn from(e: SearchError) -> AppError {
        AppError::Internal(e.to_string())
    }
}

fn default_idle_timeout() -> chrono::Duration {
    chrono::Duration::seconds(crate::db::users::DEFAULT_IDLE_TIMEOUT.as_secs() as i64)
}

impl App {
    pub fn new(
        db: Db,
        taxonomy: Arc<Taxonomy>,
        search: Arc<SearchIndex>,
        geocoder: Geocoder,
        public_ids: PublicIds,
        reindex: Sender<()>,
        limits: Limits,
    ) -> App {
        let jobs = Arc::new(jobs::spawn(db.clone(), jobs::POLL, limits.retention, limits.outbox));
        App {
            db,
            taxonomy,
            search,
            geocoder,
            public_ids,
            reindex,
            jobs,
            passwords: limits.passwords,
            throttle: limits.throttle,
            idle_timeout: default_idle_timeout(),
            retention: limits.retention,
            receipts: direct_payments::ReceiptStore("receipts".into()),
            data_key: None,
        }
    }

    /// Seal and open bank details with `key` (the data directory's `data.key` by default).
    pub fn with_data_key(mut self, key: sealing::DataKey) -> App {
        self.data_key = Some(key);
        self
    }

    /// The data key; a server built without one cannot seal or open bank details.
    fn data_key(&self) -> AppResult<sealing::DataKey> {
        self.data_key
            .clone()
            .ok_or_else(|| AppError::Internal("this server has no data key to seal bank details with".into()))
    }

    /// Keep receipts in `dir` (the data directory's `receipts/`).
    pub fn with_receipts(mut self, dir: std::path::PathBuf) -> App {
        self.receipts = direct_payments::ReceiptStore(dir);
        self
    }

    /// Sessions unused for longer than `idle` are dead (`serve --idle-timeout-minutes`); at least
    /// one second.
    pub fn with_idle_timeout(mut self, idle: std::time::Duration) -> App {
        self.idle_timeout = chrono::Duration::from_std(idle.max(std::time::Duration::from_secs(1)))
            .unwrap_or_else(|_| default_idle_timeout());
        self
    }

    /// Today's date, against which plan periods and ages are checked.
    pub fn today() -> NaiveDate {
        chrono::Utc::now().date_naive()
    }

    /// Run blocking work on the blocking pool, off the threads that answer requests.
    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&App) -> AppResult<T> + Send + 'static) -> AppResult<T> {
        let app = self.clone();
        let done = tokio::task::spawn_blocking(move || f(&app))
            .await
            .map_err(|_| AppError::Busy)?;
        if notifications::take_queued() {
            // The runner also polls, so a lost nudge only delays mail by one poll.
            let _ = self.jobs.send(());
        }
        done
    }

    /// Read on a pooled connection.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        self.blocking(move |app| app.db.read_as(f)).await
    }

    /// One all-or-nothing write, answered once it is durably committed.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        self.blocking(move |app| app.db.write_as(f)).await
    }

    /// After a write that changed what search shows: the follower applies the change log now.
    fn services_changed(&self) {
        // The follower also polls, so a lost nudge only delays freshness by one poll.
        let _ = self.reindex.send(());
    }

    /// The database answers (health checks).
    pub async fn health(&self) -> AppResult<()> {
        self.blocking(|app| Ok(app.db.ping()?)).await
    }
}
