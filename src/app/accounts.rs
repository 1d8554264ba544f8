//! Accounts: logging in and out, resolving a session to its actor, providers registering.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::NaiveDateTime;

use super::{App, AppError, AppResult};
use crate::db::{Db, budget_holders, councils, organisations, users};
use crate::domain::budget::LoginInput;
use crate::domain::organisation::RegistrationInput;
use crate::domain::validate::{self, Checker, FieldError};
use crate::domain::{Actor, BudgetHolderId, CouncilId, OrganisationId, Role, UserId};

/// A session just started: the bearer token (the cookie's value on the pages) and its expiry.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub actor: Actor,
}

/// Hash a password for storing. Deliberately slow (argon2): only ever on the blocking pool.
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| AppError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a password nobody has, checked when the email is unknown so that a wrong email and a
/// wrong password take the same time.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2XG+3sN8JQ3Jv3S3r0LrKXEPoG6Fs3q1bIH7oZ2D9Ho";

pub const WRONG_LOGIN: &str = "the email or password is wrong";

/// Check credentials and start a session.
pub async fn login(app: &App, input: LoginInput) -> AppResult<Session> {
    app.blocking(move |app| {
        let user = app.db.read_as(|conn| users::find_by_email(conn, &input.email))?;
        let hash = user.as_ref().map_or(DECOY_HASH, |u| u.password_hash.as_str());
        let matched = verify_password(&input.password, hash);
        let actor = match user {
            Some(u) if matched => u.actor(),
            _ => return Err(AppError::Unauthorized(WRONG_LOGIN)),
        };
        let user_id = actor.user_id;
        let (token, expires_at) = app.db.write_as(move |conn| users::create_session(conn, user_id))?;
        Ok(Session {
            token,
            expires_at,
            actor,
        })
    })
    .await
}

/// End the session this token belongs to.
pub async fn logout(app: &App, token: String) -> AppResult<()> {
    app.write(move |conn| Ok(users::revoke_session(conn, &token).map(|_| ())?))
        .await
}

/// Who holds this token: None when it is unknown, revoked, expired or idle too long. Using it
/// counts as activity (written at most about once a minute).
pub async fn actor_for_token(app: &App, token: String) -> AppResult<Option<Actor>> {
    let idle = app.idle_timeout;
    app.blocking(move |app| {
        let Some(live) = app.db.read_as(|conn| users::live_session(conn, &token, idle))? else {
            return Ok(None);
        };
        if users::needs_touch(live.last_seen_at, idle) {
            app.db.write_as(move |conn| users::touch_session(conn, &token))?;
        }
        Ok(Some(live.actor))
    })
    .await
}

/// The caller's own email address (the account page shows it).
pub async fn own_email(app: &App, actor: &Actor) -> AppResult<String> {
    let user = actor.user_id;
    app.read(move |conn| {
        users::find_by_id(conn, user)?
            .map(|u| u.email)
            .ok_or(AppError::Unauthorized("the account no longer exists; log in again"))
    })
    .await
}

/// End every session of the caller, on every server at once (this one included).
pub async fn logout_everywhere(app: &App, actor: &Actor) -> AppResult<()> {
    let user = actor.user_id;
    let ended = app
        .write(move |conn| Ok(users::revoke_sessions_of(conn, user, None)?))
        .await?;
    tracing::info!(user_id = %user, ended, "logged out everywhere");
    Ok(())
}

/// A council officer ends every session of the family of one of the council's budget holders
/// (a lost phone, a shared computer).
pub async fn end_family_sessions(app: &App, actor: &Actor, holder: BudgetHolderId) -> AppResult<()> {
    if actor.role != Role::Council {
        return Err(AppError::wrong_role(actor));
    }
    let actor = actor.clone();
    app.write(move |conn| {
        let row = budget_holders::load(conn, holder)?.ok_or_else(|| AppError::not_found("budget holder"))?;
        if !actor.sees_plan(&row.owners()) {
            return Err(AppError::forbidden("this budget holder is not your council's"));
        }
        let ended = users::revoke_sessions_of(conn, UserId(row.family_user_id), None)?;
        tracing::info!(officer = %actor.user_id, budget_holder = %holder, ended, "family's sessions ended");
        Ok(())
    })
    .await
}

/// Change the caller's password: the current one must be right and the new one acceptable. Every
/// other session of the user ends; the one in `keep` (the caller's own) goes on.
pub async fn change_password(app: &App, actor: &Actor, current: String, new: String, keep: String) -> AppResult<()> {
    let new = validate::password("new_password", &new)?;
    let user = actor.user_id;
    app.blocking(move |app| {
        let row = app
            .db
            .read_as(|conn| users::find_by_id(conn, user))?
            .ok_or(AppError::Unauthorized("the account no longer exists; log in again"))?;
        if !verify_password(&current, &row.password_hash) {
            return Err(FieldError::new("current_password", "is not your current password").into());
        }
        let hash = hash_password(&new)?;
        let ended = app.db.write_as(move |conn| {
            users::set_password_hash(conn, user, &hash)?;
            Ok::<_, AppError>(users::revoke_sessions_of(conn, user, Some(&keep))?)
        })?;
        tracing::info!(user_id = %user, ended, "password changed");
        Ok(())
    })
    .await
}

/// A provider (or broker) organisation registered with its first user.
#[derive(Debug, Clone)]
pub struct Registered {
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    /// When asked to log the new user in (the registration page does).
    pub session: Option<Session>,
}

pub async fn register_provider(app: &App, input: RegistrationInput, log_in: bool) -> AppResult<Registered> {
    let reg = input.validate()?;
    app.blocking(move |app| {
        let hash = hash_password(&reg.user.password)?;
        app.db.write_as(move |conn| {
            let (organisation_id, user_id) =
                organisations::register(conn, &reg, &hash).map_err(email_taken("user.email"))?;
            let session = if log_in {
                let (token, expires_at) = users::create_session(conn, user_id)?;
                let actor = Actor {
                    user_id,
                    role: reg.role(),
                    organisation_id: Some(organisation_id),
                    council_id: None,
                };
                Some(Session {
                    token,
                    expires_at,
                    actor,
                })
            } else {
                None
            };
            tracing::info!(%organisation_id, "provider registered");
            Ok(Registered {
                organisation_id,
                user_id,
                session,
            })
        })
    })
    .await
}

fn email_taken(field: &str) -> impl Fn(crate::db::DbError) -> AppError + '_ {
    move |e| {
        if e.is_unique_violation() {
            AppError::conflict("email_taken", "an account with this email already exists", Some(field))
        } else {
            e.into()
        }
    }
}

/// A new council and its first officer (the operator's command, before anyone can log in).
/// Blocking: the command line has no async runtime to share.
pub fn create_council(db: &Db, name: &str, email: &str, password: &str) -> AppResult<(CouncilId, UserId)> {
    let mut c = Checker::new();
    let name = c.take(validate::text("name", name, 1, 200));
    let email = c.take(validate::email("email", email));
    let password = c.take(validate::password("password", password));
    c.finish(|| ())?;
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return Err(AppError::Internal("validation passed without values".into()));
    };
    let hash = hash_password(&password)?;
    db.write_as(move |conn| councils::create(conn, &name, &email, &hash).map_err(email_taken("email")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_the_decoy_never_matches() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("anything at all", DECOY_HASH));
        assert!(
            PasswordHash::new(DECOY_HASH).is_ok(),
            "the decoy must parse so it costs a real verification"
        );
    }
}
