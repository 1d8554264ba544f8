//! Links mailed to people about their own account: an invitation to set a first password, a
//! password reset, and a provider's email confirmation. Each link works once, for a while
//! (`TokenPurpose::lifetime`); asking for a reset never says whether an email has an account.

use chrono::Duration;

use super::notifications::tell;
use super::{App, AppError, AppResult};
use crate::db::{Conn, account_tokens, budget_holders, login_throttle, now, services, users};
use crate::domain::notification::{TokenFault, TokenPurpose};
use crate::domain::validate;
use crate::domain::{Actor, BudgetHolderId, OrganisationId, Role, UserId, throttle};

/// Reset mails one account may be sent in an hour; more asks are answered alike and send nothing.
const RESETS_PER_HOUR: i64 = 3;

/// Make a link for `user` (ending any earlier one of its kind) and queue its mail.
pub(crate) fn send_link(conn: &mut Conn, user: UserId, purpose: TokenPurpose) -> AppResult<()> {
    let token = account_tokens::issue(conn, user, purpose)?;
    tell(conn, &[user], &purpose.letter(&token))
}

fn fault(f: TokenFault, purpose: TokenPurpose) -> AppError {
    let again = match purpose {
        TokenPurpose::Invitation => "ask your council to send a new invitation",
        TokenPurpose::PasswordReset => "ask for a new password reset",
        TokenPurpose::ConfirmEmail => "log in and ask for a new confirmation email",
    };
    match f {
        TokenFault::Unknown => AppError::unknown("token", format!("this link is not one we sent: {again}")),
        TokenFault::Used => AppError::Gone {
            code: "token_used",
            message: format!("this link has already been used: {again}"),
        },
        TokenFault::Expired => AppError::Gone {
            code: "token_expired",
            message: format!("this link has run out: {again}"),
        },
    }
}

/// Whether a link would work (the page asking for a new password checks before it asks).
pub async fn check(app: &App, token: String, purpose: TokenPurpose) -> AppResult<()> {
    app.read(move |conn| match account_tokens::peek(conn, &token, purpose)? {
        Ok(_) => Ok(()),
        Err(f) => Err(fault(f, purpose)),
    })
    .await
}

/// Use a link that sets a password (an invitation or a reset): the password is the person's,
/// their address is confirmed (the link reached them), every other session ends and a lock-out
/// from failed logins is lifted.
async fn set_password(app: &App, token: String, password: String, purpose: TokenPurpose) -> AppResult<()> {
    let password = validate::password("password", &password)?;
    let hash = app.passwords.hash(password).await?;
    app.write(move |conn| {
        let user = account_tokens::redeem(conn, &token, purpose)?.map_err(|f| fault(f, purpose))?;
        let row = users::find_by_id(conn, user)?.ok_or_else(|| AppError::not_found("account"))?;
        if !row.can_log_in() {
            return Err(AppError::forbidden("this account is turned off: ask your council"));
        }
        users::set_password_hash(conn, user, &hash)?;
        users::set_email_confirmed(conn, user, true)?;
        users::revoke_sessions_of(conn, user, None)?;
        login_throttle::clear(conn, &throttle::email_key(&row.email))?;
        tracing::info!(user = user.0, purpose = %purpose, "password set from a mailed link");
        Ok(())
    })
    .await
}

pub async fn accept_invitation(app: &App, token: String, password: String) -> AppResult<()> {
    set_password(app, token, password, TokenPurpose::Invitation).await
}

pub async fn reset_password(app: &App, token: String, password: String) -> AppResult<()> {
    set_password(app, token, password, TokenPurpose::PasswordReset).await
}

/// Someone asks for a reset link for `email`. Answered the same whether or not it has an
/// account (only a malformed address is refused); a link goes only to a live account, at most
/// [`RESETS_PER_HOUR`] an hour.
pub async fn request_reset(app: &App, email: String) -> AppResult<()> {
    let email = validate::email("email", &email)?;
    app.write(move |conn| {
        let Some(user) = users::find_by_email(conn, &email)? else {
            return Ok(());
        };
        let id = UserId(user.id);
        let recent = account_tokens::issued_since(conn, id, TokenPurpose::PasswordReset, now() - Duration::hours(1))?;
        if user.can_log_in() && recent < RESETS_PER_HOUR {
            send_link(conn, id, TokenPurpose::PasswordReset)?;
        }
        Ok(())
    })
    .await
}

/// A provider opens its confirmation link: its address is confirmed and the services it asked
/// to publish meanwhile are published.
pub async fn confirm_email(app: &App, token: String) -> AppResult<()> {
    let published = app
        .write(move |conn| {
            let purpose = TokenPurpose::ConfirmEmail;
            let user = account_tokens::redeem(conn, &token, purpose)?.map_err(|f| fault(f, purpose))?;
            users::set_email_confirmed(conn, user, true)?;
            let organisation = users::find_by_id(conn, user)?.and_then(|u| u.organisation_id);
            let published = match organisation {
                Some(org) => services::publish_held(conn, OrganisationId(org))?.len(),
                None => 0,
            };
            tracing::info!(user = user.0, published, "email confirmed");
            Ok(published)
        })
        .await?;
    if published > 0 {
        app.services_changed();
    }
    Ok(())
}

/// Send the caller a new confirmation link (409 when its address is already confirmed).
pub async fn resend_confirmation(app: &App, actor: &Actor) -> AppResult<()> {
    let user = actor.user_id;
    app.write(move |conn| {
        if users::email_confirmed(conn, user)? {
            return Err(AppError::conflict(
                "already_confirmed",
                "your email address is already confirmed",
                None,
            ));
        }
        send_link(conn, user, TokenPurpose::ConfirmEmail)
    })
    .await
}

/// Whether the caller's address is confirmed (a provider's pages say what waits on it).
pub async fn email_confirmed(app: &App, actor: &Actor) -> AppResult<bool> {
    let user = actor.user_id;
    app.read(move |conn| Ok(users::email_confirmed(conn, user)?)).await
}

/// A council sends a family a new invitation (the old link stops working): only while the
/// family has not set a password.
pub async fn reinvite_family(app: &App, actor: &Actor, holder: BudgetHolderId) -> AppResult<()> {
    let council = actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    let actor = actor.clone();
    app.write(move |conn| {
        let row = budget_holders::load(conn, holder)?
            .filter(|h| h.council_id == council.0 && h.erased_at.is_none())
            .ok_or_else(|| AppError::not_found("budget holder"))?;
        super::records::record_change(conn, &actor, &row, super::records::INVITED)?;
        reinvite(conn, UserId(row.family_user_id))
    })
    .await
}

/// A council admin sends one of its officers a new invitation.
pub async fn reinvite_officer(app: &App, actor: &Actor, user: UserId) -> AppResult<()> {
    let council = actor.council_with(crate::domain::personal_budget::Permission::Admin)?;
    app.write(move |conn| {
        users::council_user_of(conn, council, user)?.ok_or_else(|| AppError::not_found("council user"))?;
        reinvite(conn, user)
    })
    .await
}

fn reinvite(conn: &mut Conn, user: UserId) -> AppResult<()> {
    let row = users::find_by_id(conn, user)?.ok_or_else(|| AppError::not_found("account"))?;
    if row.password_hash != users::NO_PASSWORD || row.role == Role::Provider.as_str() {
        return Err(AppError::conflict(
            "password_set",
            "this account already has a password: its owner can reset it from the login page",
            None,
        ));
    }
    send_link(conn, user, TokenPurpose::Invitation)
}
