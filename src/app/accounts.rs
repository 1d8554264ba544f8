//! Accounts: logging in and out, resolving a session to its actor, providers registering.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::NaiveDateTime;

use super::{App, AppError, AppResult};
use crate::db::{Db, budget_holders, councils, login_throttle, organisations, users};
use crate::domain::budget::LoginInput;
use crate::domain::organisation::RegistrationInput;
use crate::domain::validate::{self, Checker, FieldError};
use crate::domain::{Actor, BudgetHolderId, CouncilId, Role, UserId, throttle};

/// A session just started: the bearer token (the cookie's value on the pages) and its expiry.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub actor: Actor,
    /// A council officer or broker without a second factor yet: it may only set one up.
    pub must_enrol: bool,
}

/// Who holds a live session token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    /// See [`Session::must_enrol`].
    pub must_enrol: bool,
}

/// Hash a password for storing. Deliberately slow (argon2): on a server only through
/// [`super::passwords::PasswordPool`].
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

/// Check credentials (and the second factor, when the user has one: `totp` is its code or a
/// recovery code) and start a session. Refused with "too many attempts" while the email's
/// failures delay or lock it (whether or not an account has it), or when the password checks
/// queue is full. Unknown emails cost the same check as known ones (a decoy hash). A missing or
/// wrong code stays counted as a failure, like a wrong password.
pub async fn login(app: &App, input: LoginInput, totp: Option<String>) -> AppResult<Session> {
    // A place for the check first: a refusal here costs nothing and counts nothing.
    let admitted = app.passwords.admit()?;
    let key = throttle::email_key(&input.email);
    let policy = app.throttle;
    // The attempt counts as a failure until it is shown right, so that concurrent guesses at
    // one account are all counted (on every server) before any is checked.
    let user = app
        .write({
            let key = key.clone();
            let email = input.email.clone();
            move |conn| {
                let now = crate::db::now();
                let failures = login_throttle::lock(conn, &key)?;
                if let Some(retry_after_secs) = failures.refusal(now) {
                    return Err(AppError::TooManyAttempts { retry_after_secs });
                }
                login_throttle::save(conn, &key, &failures.after_failure(now, &policy))?;
                Ok(users::find_by_email(conn, &email)?)
            }
        })
        .await?;
    let hash = user
        .as_ref()
        .map_or(DECOY_HASH.to_string(), |u| u.password_hash.clone());
    let password = input.password;
    let matched = admitted.run(move || verify_password(&password, &hash)).await?;
    let actor = match user {
        Some(u) if matched && u.can_log_in() => u.actor(),
        _ => return Err(AppError::Unauthorized(WRONG_LOGIN)),
    };
    let user_id = actor.user_id;
    let checked = actor.clone();
    let (token, expires_at, must_enrol) = app
        .write(move |conn| {
            super::totp::check_at_login(conn, user_id, totp.as_deref())?;
            login_throttle::clear(conn, &key)?;
            let must_enrol = super::totp::must_enrol(conn, &checked)?;
            let (token, expires_at) = users::create_session(conn, user_id)?;
            Ok((token, expires_at, must_enrol))
        })
        .await?;
    Ok(Session {
        token,
        expires_at,
        actor,
        must_enrol,
    })
}

/// Lift a lock-out (and forget the failures) on this email. Whether there was anything to lift.
pub fn unlock_email(db: &Db, email: &str) -> AppResult<bool> {
    let key = throttle::email_key(email);
    db.write_as(move |conn| Ok(login_throttle::clear(conn, &key)?))
}

/// The operator turns off the two-step login of the account with this email (a lost phone with
/// its recovery codes), ending its sessions: an officer or broker must then enrol again before
/// anything else. Whether there was one to turn off.
pub fn reset_two_step(db: &Db, email: &str) -> AppResult<bool> {
    let email = email.to_string();
    db.write_as(move |conn| {
        let Some(user) = users::find_by_email(conn, &email)? else {
            return Ok(false);
        };
        let id = UserId(user.id);
        let had = crate::db::totp::forget(conn, id)?;
        users::revoke_sessions_of(conn, id, None)?;
        tracing::info!(user = user.id, had, "two-step login reset by the operator");
        Ok(had)
    })
}

/// A council officer lifts the lock-out on the family account of one of its own budget holders.
pub async fn unlock_family_login(app: &App, actor: &Actor, holder: BudgetHolderId) -> AppResult<()> {
    let council = actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    let (officer, actor) = (actor.user_id, actor.clone());
    app.write(move |conn| {
        let row = budget_holders::load(conn, holder)?
            .filter(|h| h.council_id == council.0)
            .ok_or_else(|| AppError::not_found("budget holder"))?;
        super::records::record_change(conn, &actor, &row, super::records::UNLOCKED_LOGIN)?;
        let family = users::find_by_id(conn, UserId(row.family_user_id))?
            .ok_or_else(|| AppError::not_found("family account"))?;
        let lifted = login_throttle::clear(conn, &throttle::email_key(&family.email))?;
        tracing::info!(%officer, budget_holder = holder.0, lifted, "login lock-out lifted by an officer");
        Ok(())
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
pub async fn actor_for_token(app: &App, token: String) -> AppResult<Option<Caller>> {
    let idle = app.idle_timeout;
    app.blocking(move |app| {
        let found = app.db.read_as(|conn| -> AppResult<_> {
            let Some(live) = users::live_session(conn, &token, idle)? else {
                return Ok(None);
            };
            let must_enrol = super::totp::must_enrol(conn, &live.actor)?;
            Ok(Some((live, must_enrol)))
        })?;
        let Some((live, must_enrol)) = found else {
            return Ok(None);
        };
        if users::needs_touch(live.last_seen_at, idle) {
            app.db.write_as(move |conn| users::touch_session(conn, &token))?;
        }
        Ok(Some(Caller {
            actor: live.actor,
            must_enrol,
        }))
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
        super::records::record_change(conn, &actor, &row, super::records::ENDED_SESSIONS)?;
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
    let row = app
        .read(move |conn| Ok(users::find_by_id(conn, user)?))
        .await?
        .ok_or(AppError::Unauthorized("the account no longer exists; log in again"))?;
    // Both checks run on the bounded password pool, like a login.
    let stored = row.password_hash;
    let matched = app
        .passwords
        .admit()?
        .run(move || verify_password(&current, &stored))
        .await?;
    if !matched {
        return Err(FieldError::new("current_password", "is not your current password").into());
    }
    let hash = app.passwords.hash(new).await?;
    let ended = app
        .write(move |conn| {
            users::set_password_hash(conn, user, &hash)?;
            Ok(users::revoke_sessions_of(conn, user, Some(&keep))?)
        })
        .await?;
    tracing::info!(user_id = %user, ended, "password changed");
    Ok(())
}

/// The neutral answer to a registration: the same whether or not the email already had an
/// account (nothing is created then), so that registering never tells who has an account.
pub const REGISTRATION_RECEIVED: &str = "If this email is not already registered, the organisation is set up: \
     log in with the email and password you chose.";

/// A provider (or broker) organisation and its first user, unless the email is taken: either
/// way the answer is the same (`Ok`), only the log says which.
pub async fn register_provider(app: &App, input: RegistrationInput) -> AppResult<()> {
    let reg = input.validate()?;
    // Hashed whether or not the email is taken, so both take the same time.
    let hash = app.passwords.hash(reg.user.password.clone()).await?;
    let done = app
        .write(move |conn| {
            let (organisation_id, user) =
                organisations::register(conn, &reg, &hash).map_err(email_taken("user.email"))?;
            // The address is the registrant's word until the link we mail it is opened.
            users::set_email_confirmed(conn, user, false)?;
            super::account_links::send_link(conn, user, crate::domain::notification::TokenPurpose::ConfirmEmail)?;
            Ok(organisation_id)
        })
        .await;
    match done {
        Ok(organisation_id) => {
            tracing::info!(%organisation_id, "provider registered");
            Ok(())
        }
        Err(AppError::Conflict {
            code: "email_taken", ..
        }) => {
            tracing::info!("registration with an email already registered: nothing created");
            Ok(())
        }
        Err(e) => Err(e),
    }
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
