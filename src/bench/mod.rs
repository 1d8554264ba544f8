//! Benchmarks that print figures: `localoffer bench bookings`, `bench search`, `bench reports`,
//! `bench invoices` and `bench login-flood`.

mod baseline;
mod bookings;
mod invoices;
mod login_flood;
mod reports;
mod search;
mod search_postgres;
mod search_sqlite;

pub use bookings::{Mode, bookings};
pub use invoices::invoices;
pub use login_flood::login_flood;
pub use reports::reports;
pub use search::search;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("setup failed: {0}")]
    Setup(String),
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
}

fn setup_err(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

/// Runs `run` with the address of a scratch database on the PostgreSQL `server` (when it is one),
/// dropped afterwards whatever `run` returned; with no PostgreSQL server, with `None`.
fn with_scratch_postgres<T>(
    server: Option<&str>,
    prefix: &str,
    run: impl FnOnce(Option<&str>) -> Result<T, BenchError>,
) -> Result<T, BenchError> {
    let server = server.filter(|u| crate::db::DatabaseUrl::parse(u).is_postgres());
    let scratch = server
        .map(|s| crate::db::create_scratch_postgres(s, prefix))
        .transpose()
        .map_err(setup_err)?;
    let result = run(scratch.as_deref());
    if let (Some(server), Some(scratch)) = (server, scratch) {
        crate::db::drop_scratch_postgres(server, &scratch).map_err(setup_err)?;
    }
    result
}

/// The p-th percentile (0..=1) of sorted durations, in milliseconds.
fn percentile_ms(sorted: &[std::time::Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// A fresh SQLite data directory with the shipped taxonomy and England's postcode districts,
/// for the benchmarks that generate their own data.
struct Generated {
    dir: tempfile::TempDir,
    data: crate::DataDir,
    db: crate::db::Db,
    taxonomy: std::sync::Arc<crate::domain::taxonomy::Taxonomy>,
    table: crate::domain::geo::OutcodeTable,
    places: Vec<(String, crate::domain::geo::Coordinates)>,
}

impl Generated {
    fn fresh() -> Result<Generated, BenchError> {
        let dir = tempfile::tempdir().map_err(setup_err)?;
        Generated::in_dir(dir, None)
    }

    /// In `path`, which must not exist yet (or be empty), and is left in place afterwards.
    fn at(path: &std::path::Path) -> Result<Generated, BenchError> {
        if std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(BenchError::Setup(format!("{} is not empty", path.display())));
        }
        std::fs::create_dir_all(path).map_err(setup_err)?;
        let dir = tempfile::tempdir().map_err(setup_err)?;
        Generated::in_dir(dir, Some(path))
    }

    fn in_dir(dir: tempfile::TempDir, keep: Option<&std::path::Path>) -> Result<Generated, BenchError> {
        let data = crate::DataDir::prepare(keep.unwrap_or(dir.path())).map_err(setup_err)?;
        let db = data.open_db(None).map_err(setup_err)?;
        let taxonomy = std::sync::Arc::new(crate::domain::taxonomy::Taxonomy::builtin().map_err(setup_err)?);
        let table = crate::domain::geo::OutcodeTable::builtin().map_err(setup_err)?;
        let places = search::england_outcodes(&table);
        Ok(Generated {
            dir,
            data,
            db,
            taxonomy,
            table,
            places,
        })
    }
}
