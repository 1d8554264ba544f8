//! Calendar feeds: a secret, revocable address per user (only the token's hash is kept).

use diesel::prelude::*;

use super::schema::calendar_feeds;
use super::users::token_hash;
use super::{Conn, DbResult, now};
use crate::domain::UserId;

/// A new feed for the user; the ones before it stop working.
pub fn replace(conn: &mut Conn, user: UserId, token: &str) -> DbResult<()> {
    diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::user_id.eq(user.0))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(Some(now())))
    .execute(conn)?;
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::user_id.eq(user.0),
            calendar_feeds::token_hash.eq(token_hash(token)),
            calendar_feeds::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stop every feed of the user.
pub fn revoke(conn: &mut Conn, user: UserId) -> DbResult<usize> {
    Ok(diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::user_id.eq(user.0))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(Some(now())))
    .execute(conn)?)
}

/// Whose feed this token opens, if it is still live.
pub fn owner(conn: &mut Conn, token: &str) -> DbResult<Option<UserId>> {
    Ok(calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash(token)))
        .filter(calendar_feeds::revoked_at.is_null())
        .select(calendar_feeds::user_id)
        .first::<i64>(conn)
        .optional()?
        .map(UserId))
}
