//! The search index's view of the database: published services and the change log that says
//! which of them changed. The index is derived; this is where it reads the truth.

use crate::db::{Db, DbError, changes, services};
use crate::domain::ServiceId;
use crate::domain::geo::Coordinates;
use crate::domain::service::Listing;
use crate::search::{SearchError, Source};

pub struct Listings(pub Db);

fn source(e: DbError) -> SearchError {
    SearchError::Source(e.to_string())
}

impl Source for Listings {
    fn changes_after(&self, seq: i64, limit: i64) -> Result<Vec<(i64, ServiceId, chrono::NaiveDateTime)>, SearchError> {
        self.0.read(|conn| changes::after(conn, seq, limit)).map_err(source)
    }

    fn last_change_before(&self, at: chrono::NaiveDateTime) -> Result<i64, SearchError> {
        self.0.read(|conn| changes::last_before(conn, at)).map_err(source)
    }

    fn count_published(&self) -> Result<i64, SearchError> {
        self.0.read(services::count_published).map_err(source)
    }

    fn published_places_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(ServiceId, Option<Coordinates>)>, SearchError> {
        self.0
            .read(|conn| services::published_places_after(conn, after, limit))
            .map_err(source)
    }

    fn listings(&self, ids: &[ServiceId]) -> Result<Vec<Listing>, SearchError> {
        self.0.read(|conn| services::for_index(conn, ids)).map_err(source)
    }
}
