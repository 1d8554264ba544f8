//! The second factor: enrolling an authenticator app, confirming it with a first code, checking a
//! code (or a recovery code) at login.

use super::{App, AppError, AppResult};
use crate::db::{Conn, Db, totp as totp_db, users};
use crate::domain::totp::{self, Answer};
use crate::domain::validate::FieldError;
use crate::domain::{Actor, UserId};

/// A new, pending second factor: shown once, not active until a code confirms it.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32, for typing into an app.
    pub secret: String,
    pub otpauth_uri: String,
    pub recovery_codes: Vec<String>,
}

/// Where a user's second factor stands (the account page shows it).
#[derive(Debug, Clone)]
pub enum Status {
    None,
    Pending { secret: String, otpauth_uri: String },
    Enrolled,
}

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

fn uri(secret: &[u8], email: &str) -> AppResult<String> {
    totp::otpauth_uri(secret, email).ok_or_else(|| AppError::Internal("the otpauth address could not be made".into()))
}

fn stored_secret(text: &str) -> AppResult<Vec<u8>> {
    totp::decode_secret(text).ok_or_else(|| AppError::Internal("a stored second-factor secret is not base32".into()))
}

/// Make a pending enrolment in the transaction: a new secret and recovery codes, replacing any
/// pending ones. Refused when one is already confirmed (turning it off is not offered).
fn start_in(conn: &mut Conn, user: UserId, secret: &[u8]) -> AppResult<Enrolment> {
    let row =
        users::find_by_id(conn, user)?.ok_or(AppError::Unauthorized("the account no longer exists; log in again"))?;
    let recovery_codes: Vec<String> = (0..totp::RECOVERY_CODES)
        .map(|_| totp::recovery_code(rand::random()))
        .collect();
    let hashes: Vec<String> = recovery_codes
        .iter()
        .map(|c| match totp::read_answer(c) {
            Answer::Recovery(normalised) => Ok(totp::recovery_hash(&normalised)),
            _ => Err(AppError::Internal("a recovery code was made unreadable".into())),
        })
        .collect::<AppResult<_>>()?;
    let encoded = totp::encode_secret(secret);
    if !totp_db::start(conn, user, &encoded, &hashes)? {
        return Err(AppError::conflict(
            "totp_already_enrolled",
            "a second factor is already set up for this account",
            None,
        ));
    }
    Ok(Enrolment {
        otpauth_uri: uri(secret, &row.email)?,
        secret: encoded,
        recovery_codes,
    })
}

/// Start enrolling (or start again before confirming).
pub async fn start(app: &App, actor: &Actor) -> AppResult<Enrolment> {
    let user = actor.user_id;
    let secret: [u8; totp::SECRET_BYTES] = rand::random();
    let made = app.write(move |conn| start_in(conn, user, &secret)).await?;
    tracing::info!(user_id = %user, "second factor enrolment started");
    Ok(made)
}

/// Confirm the pending enrolment with a code from the app; from then on logins need a code.
pub async fn confirm(app: &App, actor: &Actor, code: String) -> AppResult<()> {
    let user = actor.user_id;
    app.write(move |conn| {
        let row = totp_db::load(conn, user)?;
        let Some(row) = row.filter(|r| r.confirmed_at.is_none()) else {
            return Err(AppError::conflict(
                "totp_not_pending",
                "there is no second factor waiting to be confirmed: start with POST /api/v1/me/totp",
                Some("code"),
            ));
        };
        let secret = stored_secret(&row.secret)?;
        let step = totp::matching_step(&secret, &code, unix_now())
            .ok_or_else(|| FieldError::new("code", "is not the code your app shows now"))?;
        totp_db::confirm(conn, user, i64::try_from(step).unwrap_or(i64::MAX))?;
        Ok(())
    })
    .await?;
    tracing::info!(user_id = %user, "second factor confirmed");
    Ok(())
}

/// Where the caller's second factor stands.
pub async fn status(app: &App, actor: &Actor) -> AppResult<Status> {
    let user = actor.user_id;
    app.read(move |conn| {
        let Some(row) = totp_db::load(conn, user)? else {
            return Ok(Status::None);
        };
        if row.confirmed_at.is_some() {
            return Ok(Status::Enrolled);
        }
        let email = users::find_by_id(conn, user)?.map(|u| u.email).unwrap_or_default();
        let secret = stored_secret(&row.secret)?;
        Ok(Status::Pending {
            otpauth_uri: uri(&secret, &email)?,
            secret: row.secret,
        })
    })
    .await
}

/// Whether this actor must enrol before doing anything else.
pub fn must_enrol(conn: &mut Conn, actor: &Actor) -> AppResult<bool> {
    Ok(totp::required_for(actor.role) && !totp_db::enrolled(conn, actor.user_id)?)
}

const TOTP_REQUIRED: AppError = AppError::SecondFactor {
    code: "totp_required",
    message: "this account has a second factor: send the code from your authenticator app in totp",
};
const TOTP_INVALID: AppError = AppError::SecondFactor {
    code: "totp_invalid",
    message: "the code is wrong, expired or already used",
};

/// At login, after the right password: nothing to check without a confirmed second factor;
/// otherwise a fresh code or an unused recovery code (spent here) lets the user in.
pub fn check_at_login(conn: &mut Conn, user: UserId, typed: Option<&str>) -> AppResult<()> {
    let Some(row) = totp_db::load(conn, user)?.filter(|r| r.confirmed_at.is_some()) else {
        return Ok(());
    };
    let typed = typed.map(str::trim).filter(|t| !t.is_empty()).ok_or(TOTP_REQUIRED)?;
    let accepted = match totp::read_answer(typed) {
        Answer::Code(code) => {
            let secret = stored_secret(&row.secret)?;
            let last = row.last_step.and_then(|s| u64::try_from(s).ok());
            match totp::matching_step(&secret, &code, unix_now()) {
                Some(step) if totp::fresh(step, last) => {
                    totp_db::use_step(conn, user, i64::try_from(step).unwrap_or(i64::MAX))?
                }
                _ => false,
            }
        }
        Answer::Recovery(normalised) => {
            let used = totp_db::use_recovery_code(conn, user, &totp::recovery_hash(&normalised))?;
            if used {
                tracing::info!(user_id = %user, "a recovery code was used to log in");
            }
            used
        }
        Answer::Malformed => false,
    };
    if accepted { Ok(()) } else { Err(TOTP_INVALID) }
}

/// Enrol a user at once, confirmed (the operator's `council create --totp`); returns the
/// base32 secret so that a script can compute codes. Blocking, like the command.
pub fn enrol_confirmed(db: &Db, user: UserId) -> AppResult<String> {
    let secret: [u8; totp::SECRET_BYTES] = rand::random();
    db.write_as(move |conn| {
        let made = start_in(conn, user, &secret)?;
        totp_db::confirm(conn, user, 0)?;
        Ok(made.secret)
    })
}

/// Enrol a user with a given base32 secret, confirmed (demo data with published secrets).
pub fn enrol_with_secret(conn: &mut Conn, user: UserId, secret: &str) -> AppResult<()> {
    let bytes = totp::decode_secret(secret)
        .ok_or_else(|| FieldError::new("totp_secret", "is not a base32 secret of 16 bytes or more"))?;
    start_in(conn, user, &bytes)?;
    totp_db::confirm(conn, user, 0)?;
    Ok(())
}
