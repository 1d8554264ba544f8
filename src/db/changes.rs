//! The change log the search index follows: one entry per change to a service, written in the
//! same transaction as the change.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::service_changes;
use super::{Conn, DbResult, now};
use crate::domain::ServiceId;

/// Append to the change log the search index follows (same transaction as the change).
pub fn record(conn: &mut Conn, id: ServiceId) -> DbResult<()> {
    diesel::insert_into(service_changes::table)
        .values((
            service_changes::service_id.eq(id.0),
            service_changes::changed_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Changes after `seq`, oldest first: (seq, service id).
pub fn after(conn: &mut Conn, seq: i64, limit: i64) -> DbResult<Vec<(i64, ServiceId, NaiveDateTime)>> {
    let rows: Vec<(i64, i64, NaiveDateTime)> = service_changes::table
        .filter(service_changes::seq.gt(seq))
        .order(service_changes::seq)
        .limit(limit)
        .select((
            service_changes::seq,
            service_changes::service_id,
            service_changes::changed_at,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(seq, id, at)| (seq, ServiceId(id), at)).collect())
}

/// The last change logged before `at` (0 if none).
pub fn last_before(conn: &mut Conn, at: NaiveDateTime) -> DbResult<i64> {
    let seq: Option<i64> = service_changes::table
        .filter(service_changes::changed_at.lt(at))
        .select(diesel::dsl::max(service_changes::seq))
        .get_result(conn)?;
    Ok(seq.unwrap_or(0))
}
