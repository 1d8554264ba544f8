//! localoffer: a SEND Local Offer directory and personal-budget marketplace.

pub mod bench;
pub mod db;
pub mod demo;
pub mod domain;
pub mod web;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web as aw};

use db::{Db, DbError};
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
    #[error("loading demo data failed: {0}")]
    Demo(String),
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

    pub fn open_db(&self) -> Result<Db, StartError> {
        Ok(Db::open_sqlite(&self.database())?)
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    pub data_dir: PathBuf,
    pub demo: bool,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
}

/// The running service: built once here, by `serve` and by the tests alike.
pub struct Application {
    port: u16,
    server: Server,
    pub demo_logins: Vec<demo::Login>,
}

impl Application {
    pub fn build(settings: &Settings) -> Result<Application, StartError> {
        let data = DataDir::prepare(&settings.data_dir)?;
        let db = data.open_db()?;
        let taxonomy = Arc::new(Taxonomy::builtin()?);
        tracing::info!(version = %taxonomy.version, terms = taxonomy.terms.len(), "taxonomy loaded");
        let demo_logins = if settings.demo {
            demo::load_if_empty(&db, &taxonomy).map_err(|e| StartError::Demo(e.to_string()))?
        } else {
            Vec::new()
        };
        let listener = TcpListener::bind(&settings.bind).map_err(|e| StartError::Bind(settings.bind.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartError::Bind(settings.bind.clone(), e))?
            .port();
        let state = aw::Data::new(web::AppState { db, taxonomy });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(web::security_headers())
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

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
