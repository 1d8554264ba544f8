//! A logged-in user's account page (two-step login, password change, log out everywhere), and a
//! council officer ending a family's sessions.

use actix_web::{HttpRequest, web};

use super::{Data, Form, Page, Visitor, outcome, see_other};
use crate::app::{accounts, totp};
use crate::domain::{Actor, BudgetHolderId, Role};
use crate::templates::FormErrors;
use crate::templates::account::{self as pages, Done, TwoFactor};

const ANYONE: &[Role] = &[Role::Family, Role::Broker, Role::Provider, Role::Council];

/// The page's view of the caller's second factor.
async fn two_factor(app: &Data, actor: &Actor) -> Result<TwoFactor, super::PageError> {
    Ok(match totp::status(app, actor).await? {
        totp::Status::None => TwoFactor::Off {
            required: crate::domain::totp::required_for(actor.role),
        },
        totp::Status::Pending { secret, otpauth_uri } => TwoFactor::Pending {
            secret,
            otpauth_uri,
            recovery_codes: None,
        },
        totp::Status::Enrolled => TwoFactor::On,
    })
}

/// The account page, with `errors` on its forms and `state` as its second factor.
async fn show(app: &Data, visitor: &Visitor, actor: &Actor, errors: &FormErrors, done: Done, state: TwoFactor) -> Page {
    let email = accounts::own_email(app, actor).await?;
    let body = pages::account(&visitor.chrome(), &email, errors, done, &state);
    Ok(if errors.0.is_empty() {
        visitor.page("Your account", true, body)
    } else {
        visitor.form_again("Your account", true, body)
    })
}

pub async fn page(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require_even_unenrolled(ANYONE, "/account")?;
    let done = match req.query_string() {
        "changed=password" => Done::PasswordChanged,
        "changed=totp" => Done::TotpConfirmed,
        _ => Done::Nothing,
    };
    let state = two_factor(&app, actor).await?;
    show(&app, &visitor, actor, &FormErrors::default(), done, state).await
}

/// Start setting up an authenticator app: the key and the recovery codes, shown this once.
pub async fn start_totp(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require_even_unenrolled(ANYONE, "/account")?;
    Form::read(&visitor, &body)?;
    let made = totp::start(&app, actor).await?;
    let state = TwoFactor::Pending {
        secret: made.secret,
        otpauth_uri: made.otpauth_uri,
        recovery_codes: Some(made.recovery_codes),
    };
    show(&app, &visitor, actor, &FormErrors::default(), Done::Nothing, state).await
}

/// Turn two-step login on with the first code from the app.
pub async fn confirm_totp(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require_even_unenrolled(ANYONE, "/account")?;
    let form = Form::read(&visitor, &body)?;
    match outcome(
        totp::confirm(&app, actor, form.get("code").to_string()).await,
        str::to_string,
    )? {
        Ok(()) => Ok(see_other("/account?changed=totp")),
        Err(errors) => {
            let state = two_factor(&app, actor).await?;
            show(&app, &visitor, actor, &errors, Done::Nothing, state).await
        }
    }
}

/// A new password; every other session ends, this one goes on.
pub async fn change_password(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(ANYONE, "/account")?;
    let form = Form::read(&visitor, &body)?;
    let keep = visitor.session.clone().unwrap_or_default();
    let changed = accounts::change_password(
        &app,
        actor,
        form.get("current_password").to_string(),
        form.get("new_password").to_string(),
        keep,
    )
    .await;
    match outcome(changed, str::to_string)? {
        Ok(()) => Ok(see_other("/account?changed=password")),
        Err(errors) => {
            let state = two_factor(&app, actor).await?;
            show(&app, &visitor, actor, &errors, Done::Nothing, state).await
        }
    }
}

/// Every session of the account ends, this one included.
pub async fn logout_everywhere(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require_even_unenrolled(ANYONE, "/account")?;
    Form::read(&visitor, &body)?;
    accounts::logout_everywhere(&app, actor).await?;
    visitor.logged_out()
}

/// A council officer ends every session of one of its budget holders' family login.
pub async fn end_family_sessions(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = BudgetHolderId(id.into_inner());
    let to = format!("/council/budget-holders/{id}");
    let actor = visitor.require(&[Role::Council], &to)?;
    Form::read(&visitor, &body)?;
    accounts::end_family_sessions(&app, actor, id).await?;
    Ok(see_other(&format!("{to}#sessions")))
}
