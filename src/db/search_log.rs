//! The log of public searches (no personal data) that the council's gap reports read.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::schema::{search_log, search_log_monthly};
use super::{Conn, DbResult, now};
use crate::domain::retention::month_of;

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

/// Rows logged before `cutoff`: what a purge will fold into the monthly counts.
pub fn count_before(conn: &mut Conn, cutoff: chrono::NaiveDateTime) -> DbResult<i64> {
    Ok(search_log::table
        .filter(search_log::searched_at.lt(cutoff))
        .count()
        .get_result(conn)?)
}

/// Fold up to `limit` of the oldest rows logged before `cutoff` into the counts per month,
/// postcode district and outcome term, and delete them; returns how many rows went.
pub fn aggregate_before(conn: &mut Conn, cutoff: chrono::NaiveDateTime, limit: i64) -> DbResult<usize> {
    let rows: Vec<(i64, chrono::NaiveDateTime, String, Option<String>, i64)> = search_log::table
        .filter(search_log::searched_at.lt(cutoff))
        .order(search_log::id)
        .limit(limit)
        .select((
            search_log::id,
            search_log::searched_at,
            search_log::outcomes,
            search_log::postcode_district,
            search_log::result_count,
        ))
        .load(conn)?;
    let mut counts: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
    for (_, at, outcomes, district, results) in &rows {
        let mut terms: Vec<&str> = outcomes.split_whitespace().collect();
        // A search without outcome terms still counts, under no term.
        if terms.is_empty() {
            terms.push("");
        }
        for term in terms {
            let key = (month_of(*at), district.clone().unwrap_or_default(), term.to_string());
            let count = counts.entry(key).or_default();
            count.0 += 1;
            count.1 += i64::from(*results == 0);
        }
    }
    for ((month, district, outcome), (searches, without_results)) in counts {
        let key = search_log_monthly::table
            .filter(search_log_monthly::month.eq(&month))
            .filter(search_log_monthly::postcode_district.eq(&district))
            .filter(search_log_monthly::outcome.eq(&outcome));
        let added = diesel::update(key)
            .set((
                search_log_monthly::searches.eq(search_log_monthly::searches + searches),
                search_log_monthly::without_results.eq(search_log_monthly::without_results + without_results),
            ))
            .execute(conn)?;
        if added == 0 {
            diesel::insert_into(search_log_monthly::table)
                .values((
                    search_log_monthly::month.eq(&month),
                    search_log_monthly::postcode_district.eq(&district),
                    search_log_monthly::outcome.eq(&outcome),
                    search_log_monthly::searches.eq(searches),
                    search_log_monthly::without_results.eq(without_results),
                ))
                .execute(conn)?;
        }
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    diesel::delete(search_log::table.filter(search_log::id.eq_any(&ids))).execute(conn)?;
    Ok(rows.len())
}

/// The searches of one month, district and outcome term, kept after their rows went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyCount {
    pub month: String,
    pub postcode_district: String,
    pub outcome: String,
    pub searches: i64,
    pub without_results: i64,
}

/// Every monthly count, oldest month first.
pub fn monthly(conn: &mut Conn) -> DbResult<Vec<MonthlyCount>> {
    let rows: Vec<(String, String, String, i64, i64)> = search_log_monthly::table
        .order((
            search_log_monthly::month,
            search_log_monthly::postcode_district,
            search_log_monthly::outcome,
        ))
        .select((
            search_log_monthly::month,
            search_log_monthly::postcode_district,
            search_log_monthly::outcome,
            search_log_monthly::searches,
            search_log_monthly::without_results,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(month, postcode_district, outcome, searches, without_results)| MonthlyCount {
                month,
                postcode_district,
                outcome,
                searches,
                without_results,
            },
        )
        .collect())
}
