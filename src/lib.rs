//! localoffer: a SEND Local Offer directory and personal-budget marketplace.

pub mod app;
pub mod bench;
pub mod db;
pub mod demo;
pub mod domain;
pub mod geocode;
pub mod import;
pub mod search;
#[path = "../templates/mod.rs"]
pub mod templates;
pub mod web;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{HttpServer, web as aw};
use utoipa_actix_web::AppExt;

use db::{DatabaseUrl, Db, DbError};
use domain::taxonomy::{Taxonomy, TaxonomyError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Taxonomy(#[from] TaxonomyError),
    #[error("cannot use data directory {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("mail settings: {0}")]
    Mail(String),
    #[error("loading demo data failed: {0}")]
    Demo(String),
    #[error(transparent)]
    Search(#[from] search::SearchError),
    #[error(transparent)]
    Outcodes(#[from] domain::geo::OutcodeTableError),
    #[error("{0}")]
    PublicUrl(String),
    #[error("data key: {0}")]
    DataKey(String),
}

/// Where the service keeps its state.
#[derive(Debug, Clone)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn prepare(path: &Path) -> Result<DataDir, StartError> {
        std::fs::create_dir_all(path.join("index")).map_err(|e| StartError::DataDir(path.to_path_buf(), e))?;
        Ok(DataDir(path.to_path_buf()))
    }

    pub fn database(&self) -> PathBuf {
        self.0.join("localoffer.db")
    }

    pub fn index(&self) -> PathBuf {
        self.0.join("index")
    }

    /// Mail written as files when no SMTP server is set.
    pub fn outbox(&self) -> PathBuf {
        self.0.join("outbox")
    }

    /// Direct-payment receipts, by content hash: outside any web root.
    pub fn receipts(&self) -> PathBuf {
        self.0.join("receipts")
    }

    /// The data key that seals providers' bank details, unless `--data-key-file` names another.
    pub fn data_key(&self) -> PathBuf {
        self.0.join("data.key")
    }

    /// The database to use: the URL given (`--database-url` / `DATABASE_URL`), or the SQLite
    /// file in this directory.
    pub fn database_url(&self, given: Option<&str>) -> DatabaseUrl {
        given
            .filter(|u| !u.trim().is_empty())
            .map_or_else(|| DatabaseUrl::Sqlite(self.database()), DatabaseUrl::parse)
    }

    pub fn open_db(&self, given: Option<&str>) -> Result<Db, StartError> {
        Ok(Db::open(&self.database_url(given))?)
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    pub data_dir: PathBuf,
    pub demo: bool,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// A postcodes.io-compatible service for full postcodes; the shipped district table otherwise.
    pub postcodes_url: Option<String>,
    /// PostgreSQL or SQLite URL; the SQLite file in the data directory when absent.
    pub database_url: Option<String>,
    /// The search page's map tiles and their attribution (OpenStreetMap's by default).
    pub map_tiles: domain::geo::MapTiles,
    /// Password hashes run at once (0: one per core) and waiting (0: four per worker).
    pub password_workers: usize,
    pub password_queue: usize,
    /// Logins, registrations and other writes without a login allowed per client address per
    /// minute (bursts up to the same number); 0 turns the limit off.
    pub client_attempts_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client for that limit.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// When failed logins at one account delay or lock it.
    pub login_throttle: domain::throttle::Policy,
    /// The address visitors use (`--public-url`): an https one makes cookies `Secure` with
    /// `__Host-` names and adds HSTS to every answer.
    pub public_url: Option<String>,
    /// A session unused for longer is dead (30 minutes by default).
    pub idle_timeout: std::time::Duration,
    /// How long the search log and ended plans are kept (2 and 6 years by default).
    pub retention: domain::retention::Retention,
    /// The file holding the key that seals bank details (`--data-key-file`); `DATA_DIR/data.key`
    /// when absent, made when missing. Every server on one database must use the same key.
    pub data_key_file: Option<PathBuf>,
    /// The SMTP server mail goes through (`--smtp-url`); `.eml` files in `DATA_DIR/outbox/`
    /// when absent.
    pub smtp_url: Option<String>,
    /// The From address (`--mail-from`).
    pub mail_from: Option<String>,
    /// The wait before the first retry of a mail that could not be delivered.
    pub mail_retry: std::time::Duration,
}

/// The per-address limit `serve` applies unless told otherwise.
pub const CLIENT_ATTEMPTS_PER_MINUTE: u32 = 30;

impl Settings {
    /// Local defaults for a data directory: an ephemeral port, two workers, no online services.
    pub fn local(data_dir: &Path) -> Settings {
        Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: data_dir.to_path_buf(),
            demo: false,
            workers: 2,
            postcodes_url: None,
            database_url: None,
            map_tiles: domain::geo::MapTiles::openstreetmap(),
            password_workers: 0,
            password_queue: 0,
            // Tests drive one server from one address; they set a tighter limit to test it.
            client_attempts_per_minute: 0,
            trusted_proxies: Vec::new(),
            login_throttle: domain::throttle::Policy::default(),
            public_url: None,
            idle_timeout: db::users::DEFAULT_IDLE_TIMEOUT,
            retention: domain::retention::Retention::default(),
            data_key_file: None,
            smtp_url: None,
            mail_from: None,
            mail_retry: std::time::Duration::from_secs(60),
        }
    }
}

/// How often each server re-reads the change log for writes made by other servers.
pub const INDEX_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// Open the search index of a data directory and bring it up to date with the database.
pub fn open_search(data: &DataDir, db: &Db, taxonomy: Arc<Taxonomy>) -> Result<Arc<search::SearchIndex>, StartError> {
    let index = search::SearchIndex::open(&data.index(), taxonomy)?;
    let started = std::time::Instant::now();
    let applied = index.catch_up(&app::listings::Listings(db.clone()))?;
    tracing::info!(
        documents = index.num_docs(),
        changes_applied = applied,
        ms = started.elapsed().as_millis() as u64,
        "search index ready"
    );
    Ok(Arc::new(index))
}

/// The running service: built once here, by `serve` and by the tests alike.
pub struct Application {
    port: u16,
    server: Server,
    pub demo_logins: Vec<demo::Login>,
}

impl Application {
    pub fn build(settings: &Settings) -> Result<Application, StartError> {
        let transport =
            web::Transport::from_public_url(settings.public_url.as_deref()).map_err(StartError::PublicUrl)?;
        let data = DataDir::prepare(&settings.data_dir)?;
        let db = data.open_db(settings.database_url.as_deref())?;
        let taxonomy = Arc::new(Taxonomy::builtin()?);
        tracing::info!(version = %taxonomy.version, terms = taxonomy.terms.len(), "taxonomy loaded");
        let key_file = settings.data_key_file.clone().unwrap_or_else(|| data.data_key());
        let data_key =
            app::sealing::DataKey::load_or_create(&key_file).map_err(|e| StartError::DataKey(e.to_string()))?;
        app::finance::check_key(&db, &data_key).map_err(StartError::DataKey)?;
        tracing::info!(key_id = data_key.id(), path = %key_file.display(), "data key ready");
        let demo_logins = if settings.demo {
            let receipts = app::direct_payments::ReceiptStore(data.receipts());
            demo::load_if_empty(&db, &taxonomy, &receipts, &data_key).map_err(|e| StartError::Demo(e.to_string()))?
        } else {
            Vec::new()
        };
        let search = open_search(&data, &db, taxonomy.clone())?;
        let reindex = search::spawn_follower(
            search.clone(),
            Arc::new(app::listings::Listings(db.clone())),
            INDEX_POLL,
        );
        let geocoder = geocode::Geocoder::new(
            Arc::new(domain::geo::OutcodeTable::builtin()?),
            settings.postcodes_url.clone(),
        );
        let public_ids = db.read(db::site::public_ids)?;
        let listener = TcpListener::bind(&settings.bind).map_err(|e| StartError::Bind(settings.bind.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartError::Bind(settings.bind.clone(), e))?
            .port();
        let mail = app::outbox::MailSettings {
            smtp_url: settings.smtp_url.clone().filter(|u| !u.trim().is_empty()),
            from: settings.mail_from.clone().filter(|f| !f.trim().is_empty()),
            public_url: settings
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://localhost:{port}")),
            retry_base: settings.mail_retry,
        };
        let outbox = app::outbox::Outbox::new(&mail, data.outbox()).map_err(StartError::Mail)?;
        tracing::info!(carrier = outbox.describe(), "mail ready");
        let passwords = app::passwords::PasswordPool::new(settings.password_workers, settings.password_queue);
        tracing::info!(workers = passwords.workers(), "password checks pool ready");
        let state = aw::Data::new(
            app::App::new(
                db,
                taxonomy,
                search,
                geocoder,
                public_ids,
                reindex,
                app::Limits {
                    passwords,
                    throttle: settings.login_throttle,
                    retention: settings.retention,
                    outbox: Arc::new(outbox),
                },
            )
            .with_idle_timeout(settings.idle_timeout)
            .with_receipts(data.receipts())
            .with_data_key(data_key),
        );
        let map_tiles = aw::Data::new(settings.map_tiles.clone());
        let clients = web::throttle::Clients::new(settings.client_attempts_per_minute, &settings.trusted_proxies);
        let transport = aw::Data::new(transport);
        let mut server = HttpServer::new(move || {
            let clients = clients.clone();
            // Registering an API route documents it: the OpenAPI document comes from the same calls.
            let (served, api) = actix_web::App::new()
                .into_utoipa_app()
                .app_data(state.clone())
                .app_data(map_tiles.clone())
                .app_data(transport.clone())
                .service(utoipa_actix_web::scope("/api/v1").configure(web::api::routes))
                .split_for_parts();
            served
                .app_data(aw::Data::new(web::api::Document::new(api)))
                .wrap_fn(move |req, srv| clients.check(req, srv))
                .wrap(web::security_headers(&map_tiles, &transport))
                .wrap_fn(web::pages::error_pages_know_the_visitor)
                .wrap_fn(web::log_requests)
                .configure(web::configure)
        });
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server
            .listen(listener)
            .map_err(|e| StartError::Bind(settings.bind.clone(), e))?
            .run();
        tracing::info!(port, data_dir = %settings.data_dir.display(), "localoffer listening");
        Ok(Application {
            port,
            server,
            demo_logins,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server: `handle().stop(true).await` finishes in-flight requests, then releases
    /// the database and the search index.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
