//! Failed logins per account (by a hash of the normalised email), shared by every server.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::schema::login_throttle;
use super::{AnyConnection, Conn, DbResult, now};
use crate::domain::throttle::Failures;

#[derive(Queryable, Selectable)]
#[diesel(table_name = login_throttle)]
struct Row {
    failures: i32,
    window_started_at: NaiveDateTime,
    next_attempt_at: Option<NaiveDateTime>,
    locked_until: Option<NaiveDateTime>,
}

/// The key's run of failures, locked for the rest of the transaction so that concurrent attempts
/// at one account are counted one after another (SQLite has one writer; PostgreSQL locks the row).
pub fn lock(conn: &mut Conn, key: &str) -> DbResult<Failures> {
    let at = now();
    let insert = match conn {
        AnyConnection::Postgresql(_) => {
            "INSERT INTO login_throttle (email_hash, failures, window_started_at, updated_at) \
             VALUES ($1, 0, $2, $2) ON CONFLICT (email_hash) DO NOTHING"
        }
        AnyConnection::Sqlite(_) => {
            "INSERT INTO login_throttle (email_hash, failures, window_started_at, updated_at) \
             VALUES (?1, 0, ?2, ?2) ON CONFLICT (email_hash) DO NOTHING"
        }
    };
    diesel::sql_query(insert)
        .bind::<Text, _>(key)
        .bind::<Timestamp, _>(at)
        .execute(conn)?;
    // Taking the row lock first: an UPDATE locks on PostgreSQL, and is harmless on SQLite.
    diesel::update(login_throttle::table.find(key))
        .set(login_throttle::updated_at.eq(at))
        .execute(conn)?;
    let row = login_throttle::table
        .find(key)
        .select(Row::as_select())
        .get_result::<Row>(conn)
        .optional()?;
    Ok(row.map_or(Failures::none(at), |r| Failures {
        count: u32::try_from(r.failures).unwrap_or(0),
        window_started_at: r.window_started_at,
        next_attempt_at: r.next_attempt_at,
        locked_until: r.locked_until,
    }))
}

pub fn save(conn: &mut Conn, key: &str, f: &Failures) -> DbResult<()> {
    diesel::update(login_throttle::table.find(key))
        .set((
            login_throttle::failures.eq(i32::try_from(f.count).unwrap_or(i32::MAX)),
            login_throttle::window_started_at.eq(f.window_started_at),
            login_throttle::next_attempt_at.eq(f.next_attempt_at),
            login_throttle::locked_until.eq(f.locked_until),
            login_throttle::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forget the key's failures (a right login, or an officer lifting a lock-out). Whether there were any.
pub fn clear(conn: &mut Conn, key: &str) -> DbResult<bool> {
    Ok(diesel::delete(login_throttle::table.find(key)).execute(conn)? > 0)
}
