//! Users' second factors: the secret (pending until confirmed), the last step a code was accepted
//! in, and the hashed recovery codes.

use diesel::prelude::*;

use super::schema::{totp_recovery_codes, user_totp};
use super::{Conn, DbResult, now};
use crate::domain::UserId;

/// A user's second factor as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_totp)]
pub struct TotpRow {
    pub secret: String,
    pub confirmed_at: Option<chrono::NaiveDateTime>,
    pub last_step: Option<i64>,
}

pub fn load(conn: &mut Conn, user: UserId) -> DbResult<Option<TotpRow>> {
    Ok(user_totp::table
        .find(user.0)
        .select(TotpRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Whether the user has a confirmed second factor.
pub fn enrolled(conn: &mut Conn, user: UserId) -> DbResult<bool> {
    Ok(load(conn, user)?.is_some_and(|t| t.confirmed_at.is_some()))
}

/// Start (or restart) a pending enrolment: the secret and recovery codes replace any pending ones.
/// Does nothing to a confirmed one (false then).
pub fn start(conn: &mut Conn, user: UserId, secret: &str, recovery_hashes: &[String]) -> DbResult<bool> {
    if load(conn, user)?.is_some_and(|t| t.confirmed_at.is_some()) {
        return Ok(false);
    }
    diesel::delete(user_totp::table.find(user.0)).execute(conn)?;
    diesel::insert_into(user_totp::table)
        .values((
            user_totp::user_id.eq(user.0),
            user_totp::secret.eq(secret),
            user_totp::created_at.eq(now()),
        ))
        .execute(conn)?;
    diesel::delete(totp_recovery_codes::table.filter(totp_recovery_codes::user_id.eq(user.0))).execute(conn)?;
    for hash in recovery_hashes {
        diesel::insert_into(totp_recovery_codes::table)
            .values((
                totp_recovery_codes::user_id.eq(user.0),
                totp_recovery_codes::code_hash.eq(hash),
            ))
            .execute(conn)?;
    }
    Ok(true)
}

/// Mark the pending factor confirmed, with the step its first code was in.
pub fn confirm(conn: &mut Conn, user: UserId, step: i64) -> DbResult<bool> {
    let n = diesel::update(user_totp::table.find(user.0).filter(user_totp::confirmed_at.is_null()))
        .set((
            user_totp::confirmed_at.eq(Some(now())),
            user_totp::last_step.eq(Some(step)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Record that a code of `step` was accepted, unless one of this step or later already was
/// (one guarded statement, so two concurrent logins cannot both use one code).
pub fn use_step(conn: &mut Conn, user: UserId, step: i64) -> DbResult<bool> {
    let n = diesel::update(
        user_totp::table
            .find(user.0)
            .filter(user_totp::last_step.is_null().or(user_totp::last_step.lt(step))),
    )
    .set(user_totp::last_step.eq(Some(step)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Spend a recovery code: true when it was the user's and unused.
pub fn use_recovery_code(conn: &mut Conn, user: UserId, hash: &str) -> DbResult<bool> {
    let n = diesel::update(
        totp_recovery_codes::table
            .filter(totp_recovery_codes::user_id.eq(user.0))
            .filter(totp_recovery_codes::code_hash.eq(hash))
            .filter(totp_recovery_codes::used_at.is_null()),
    )
    .set(totp_recovery_codes::used_at.eq(Some(now())))
    .execute(conn)?;
    Ok(n >= 1)
}

/// Turn the user's two-step login off: secret and recovery codes gone. Whether it had one.
pub fn forget(conn: &mut Conn, user: UserId) -> DbResult<bool> {
    diesel::delete(totp_recovery_codes::table.filter(totp_recovery_codes::user_id.eq(user.0))).execute(conn)?;
    Ok(diesel::delete(user_totp::table.find(user.0)).execute(conn)? > 0)
}
