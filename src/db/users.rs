//! Users, password hashes and server-side sessions (so a revoked token is dead at once, on every
//! server).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::{sessions, users};
use super::{Conn, DbError, DbResult, now};
use crate::domain::{CouncilId, OrganisationId, Role, UserId};

pub const SESSION_LIFETIME_HOURS: i64 = 12;

/// Who is asking: resolved from a session token on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub council_id: Option<CouncilId>,
}

pub fn hash_password(password: &str) -> DbResult<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| DbError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DbError::Hash(e.to_string()))
}

/// A hash of a password nobody has, checked when the email is unknown so that a wrong email and a
/// wrong password take the same time.
fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2XG+3sN8JQ3Jv3S3r0LrKXEPoG6Fs3q1bIH7oZ2D9Ho"
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub council_id: Option<CouncilId>,
}

pub fn insert(conn: &mut Conn, user: NewUser<'_>) -> DbResult<UserId> {
    let result = diesel::insert_into(users::table)
        .values((
            users::email.eq(user.email),
            users::password_hash.eq(user.password_hash),
            users::role.eq(user.role.as_str()),
            users::organisation_id.eq(user.organisation_id.map(|o| o.0)),
            users::council_id.eq(user.council_id.map(|c| c.0)),
            users::created_at.eq(now()),
        ))
        .returning(users::id)
        .get_result::<i64>(conn)
        .map_err(DbError::from);
    match result {
        Ok(id) => Ok(UserId(id)),
        Err(e) if super::is_unique_violation(&e) => Err(DbError::conflict(
            "email_taken",
            "an account with this email already exists",
            Some("email"),
        )),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub council_id: Option<i64>,
}

impl UserRow {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: UserId(self.id),
            // The CHECK constraint keeps roles to the enum's words.
            role: self.role.parse().unwrap_or(Role::Family),
            organisation_id: self.organisation_id.map(OrganisationId),
            council_id: self.council_id.map(CouncilId),
        }
    }
}

pub fn find_by_email(conn: &mut Conn, email: &str) -> DbResult<Option<UserRow>> {
    // No account has control characters in its email (and PostgreSQL text cannot hold NUL).
    if email.chars().any(char::is_control) {
        return Ok(None);
    }
    Ok(users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select((
            users::id,
            users::email,
            users::password_hash,
            users::role,
            users::organisation_id,
            users::council_id,
        ))
        .first::<UserRow>(conn)
        .optional()?)
}

/// Check credentials. Blocking and deliberately slow (argon2): run off the async threads.
pub fn authenticate(user: Option<&UserRow>, password: &str) -> Option<Actor> {
    match user {
        Some(u) if verify_password(password, &u.password_hash) => Some(u.actor()),
        Some(_) => None,
        None => {
            verify_password(password, decoy_hash());
            None
        }
    }
}

pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    crate::domain::hex(&digest)
}

/// Start a session; returns the bearer token (only its hash is stored).
pub fn create_session(conn: &mut Conn, user: UserId) -> DbResult<(String, NaiveDateTime)> {
    let bytes: [u8; 32] = rand::random();
    let token = crate::domain::hex(&bytes);
    let created = now();
    let expires = created + Duration::hours(SESSION_LIFETIME_HOURS);
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash(&token)),
            sessions::user_id.eq(user.0),
            sessions::created_at.eq(created),
            sessions::expires_at.eq(expires),
        ))
        .execute(conn)?;
    Ok((token, expires))
}

pub fn actor_for_token(conn: &mut Conn, token: &str) -> DbResult<Option<Actor>> {
    let row = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash(token)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now()))
        .select((
            users::id,
            users::email,
            users::password_hash,
            users::role,
            users::organisation_id,
            users::council_id,
        ))
        .first::<UserRow>(conn)
        .optional()?;
    Ok(row.map(|u| u.actor()))
}

pub fn revoke_session(conn: &mut Conn, token: &str) -> DbResult<bool> {
    let n = diesel::update(
        sessions::table
            .filter(sessions::token_hash.eq(token_hash(token)))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now())))
    .execute(conn)?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_the_decoy_never_matches() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("anything at all", decoy_hash()));
        assert!(
            PasswordHash::new(decoy_hash()).is_ok(),
            "the decoy must parse so it costs a real verification"
        );
    }
}
