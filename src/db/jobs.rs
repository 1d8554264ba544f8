//! The job runner's table: work that must happen later (an offer expiring), claimed by whichever
//! server gets there first. A claim is a lease: the job's next run moves forward, so a server
//! that dies mid-job leaves it to be claimed again. On PostgreSQL the claim skips rows another
//! server holds (`FOR UPDATE SKIP LOCKED`); on SQLite the one writer makes claims one at a time.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use super::schema::jobs;
use super::{AnyConnection, Conn, DbResult, now};
use crate::domain::JobId;

/// How long a claim holds a job before another server may take it.
pub const LEASE: Duration = Duration::minutes(2);

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Job {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub subject_id: i64,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

pub fn schedule(conn: &mut Conn, kind: &str, subject: i64, run_at: NaiveDateTime) -> DbResult<JobId> {
    let id = diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(kind),
            jobs::subject_id.eq(subject),
            jobs::run_at.eq(run_at),
            jobs::created_at.eq(now()),
        ))
        .returning(jobs::id)
        .get_result::<i64>(conn)?;
    Ok(JobId(id))
}

/// Claim the job most overdue at `at`, if any, leasing it for [`LEASE`].
pub fn claim(conn: &mut Conn, at: NaiveDateTime) -> DbResult<Option<Job>> {
    let sql = match conn {
        AnyConnection::Postgresql(_) => {
            "UPDATE jobs SET attempts = attempts + 1, run_at = $1 \
             WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $2 \
                         ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, kind, subject_id, attempts"
        }
        AnyConnection::Sqlite(_) => {
            "UPDATE jobs SET attempts = attempts + 1, run_at = ?1 \
             WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= ?2 \
                         ORDER BY run_at, id LIMIT 1) \
             RETURNING id, kind, subject_id, attempts"
        }
    };
    Ok(diesel::sql_query(sql)
        .bind::<Timestamp, _>(at + LEASE)
        .bind::<Timestamp, _>(at)
        .get_result::<Job>(conn)
        .optional()?)
}

pub fn done(conn: &mut Conn, id: i64) -> DbResult<()> {
    diesel::update(jobs::table.find(id))
        .set(jobs::done_at.eq(Some(now())))
        .execute(conn)?;
    Ok(())
}

/// A job that failed: why, and when to try again.
pub fn failed(conn: &mut Conn, id: i64, error: &str, retry_at: NaiveDateTime) -> DbResult<()> {
    diesel::update(jobs::table.find(id))
        .set((jobs::last_error.eq(Some(error)), jobs::run_at.eq(retry_at)))
        .execute(conn)?;
    Ok(())
}

/// A job of this kind and subject still to run: its id and when.
pub fn pending(conn: &mut Conn, kind: &str, subject: i64) -> DbResult<Vec<(JobId, NaiveDateTime)>> {
    Ok(jobs::table
        .filter(jobs::kind.eq(kind))
        .filter(jobs::subject_id.eq(subject))
        .filter(jobs::done_at.is_null())
        .select((jobs::id, jobs::run_at))
        .load::<(i64, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, at)| (JobId(id), at))
        .collect())
}
