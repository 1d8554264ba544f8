//! Single-use links mailed to people (invitations, password resets, email confirmations): only
//! a hash of each token is kept, and using one is a guarded update, so it works once even when
//! two servers are asked at the same moment.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::account_tokens;
use super::users::token_hash;
use super::{Conn, DbResult, now};
use crate::domain::notification::{TokenFault, TokenPurpose, check_token};
use crate::domain::{UserId, hex};

/// A new token for `user`, ending any earlier one of the same purpose (a re-sent invitation
/// makes the first link dead). Returns the token itself, to be mailed and never stored.
pub fn issue(conn: &mut Conn, user: UserId, purpose: TokenPurpose) -> DbResult<String> {
    let at = now();
    diesel::update(
        account_tokens::table
            .filter(account_tokens::user_id.eq(user.0))
            .filter(account_tokens::purpose.eq(purpose.as_str()))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::expires_at.eq(at))
    .execute(conn)?;
    let token = hex(&rand::random::<[u8; 32]>());
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::user_id.eq(user.0),
            account_tokens::purpose.eq(purpose.as_str()),
            account_tokens::token_hash.eq(token_hash(&token)),
            account_tokens::created_at.eq(at),
            account_tokens::expires_at.eq(at + purpose.lifetime()),
        ))
        .execute(conn)?;
    Ok(token)
}

/// How many tokens of this purpose were made for `user` since `since` (to limit reset mail).
pub fn issued_since(conn: &mut Conn, user: UserId, purpose: TokenPurpose, since: NaiveDateTime) -> DbResult<i64> {
    Ok(account_tokens::table
        .filter(account_tokens::user_id.eq(user.0))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .filter(account_tokens::created_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Use a token: the user it was for, or why it cannot be used. The update is guarded by
/// `used_at IS NULL`, so of two uses at once one wins.
pub fn redeem(conn: &mut Conn, token: &str, purpose: TokenPurpose) -> DbResult<Result<UserId, TokenFault>> {
    let row: Option<(i64, i64, NaiveDateTime, Option<NaiveDateTime>)> = account_tokens::table
        .filter(account_tokens::token_hash.eq(token_hash(token.trim())))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .select((
            account_tokens::id,
            account_tokens::user_id,
            account_tokens::expires_at,
            account_tokens::used_at,
        ))
        .get_result(conn)
        .optional()?;
    let Some((id, user, expires_at, used_at)) = row else {
        return Ok(Err(TokenFault::Unknown));
    };
    let at = now();
    if let Err(fault) = check_token(used_at.is_some(), expires_at, at) {
        return Ok(Err(fault));
    }
    let taken = diesel::update(
        account_tokens::table
            .filter(account_tokens::id.eq(id))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(Some(at)))
    .execute(conn)?;
    Ok(if taken == 1 {
        Ok(UserId(user))
    } else {
        Err(TokenFault::Used)
    })
}

/// Whether a token would work now, without using it (the page that asks for a new password).
pub fn peek(conn: &mut Conn, token: &str, purpose: TokenPurpose) -> DbResult<Result<UserId, TokenFault>> {
    let row: Option<(i64, NaiveDateTime, Option<NaiveDateTime>)> = account_tokens::table
        .filter(account_tokens::token_hash.eq(token_hash(token.trim())))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .select((
            account_tokens::user_id,
            account_tokens::expires_at,
            account_tokens::used_at,
        ))
        .get_result(conn)
        .optional()?;
    Ok(match row {
        None => Err(TokenFault::Unknown),
        Some((user, expires_at, used_at)) => check_token(used_at.is_some(), expires_at, now()).map(|()| UserId(user)),
    })
}
