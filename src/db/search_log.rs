//! The log of public searches (no personal data) that the council's gap reports read.

use diesel::prelude::*;

use super::schema::search_log;
use super::{Conn, DbResult, now};

#[derive(Debug, Clone, Default)]
pub struct LoggedSearch {
    pub query_text: Option<String>,
    pub outcomes: Vec<String>,
    pub service_types: Vec<String>,
    pub needs: Vec<String>,
    /// The postcode district only, never a full postcode.
    pub postcode_district: Option<String>,
    pub radius_miles: Option<f64>,
    pub age: Option<i32>,
    pub result_count: i64,
}

pub fn insert(conn: &mut Conn, s: &LoggedSearch) -> DbResult<()> {
    diesel::insert_into(search_log::table)
        .values((
            search_log::searched_at.eq(now()),
            search_log::query_text.eq(&s.query_text),
            search_log::outcomes.eq(s.outcomes.join(" ")),
            search_log::service_types.eq(s.service_types.join(" ")),
            search_log::needs.eq(s.needs.join(" ")),
            search_log::postcode_district.eq(&s.postcode_district),
            search_log::radius_miles.eq(s.radius_miles),
            search_log::age.eq(s.age),
            search_log::result_count.eq(s.result_count),
        ))
        .execute(conn)?;
    Ok(())
}

/// Rows as stored, newest first (tests and reports).
/// (query text, outcome ids, postcode district, result count)
pub type LogRow = (Option<String>, String, Option<String>, i64);

pub fn recent(conn: &mut Conn, limit: i64) -> DbResult<Vec<LogRow>> {
    Ok(search_log::table
        .order(search_log::id.desc())
        .limit(limit)
        .select((
            search_log::query_text,
            search_log::outcomes,
            search_log::postcode_district,
            search_log::result_count,
        ))
        .load(conn)?)
}
