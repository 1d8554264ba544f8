//! Notices and the choice of emails; the pages mailed links open (invitations, password resets,
//! email confirmation) and asking for a reset.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, web};

use super::forms::page_asked;
use super::{Data, Form, Page, Visitor, outcome, see_other};
use crate::app::{account_links, notifications};
use crate::domain::Role;
use crate::domain::notification::TokenPurpose;
use crate::templates::FormErrors;
use crate::templates::notifications as pages;

const ANYONE: &[Role] = &[Role::Family, Role::Broker, Role::Provider, Role::Council];

pub async fn list(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(ANYONE, "/notifications")?;
    let notices = notifications::list(&app, actor, page_asked(&req)?).await?;
    Ok(visitor.page("Notifications", true, pages::notifications(&visitor.chrome(), &notices)))
}

pub async fn mark_read(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(ANYONE, "/notifications")?;
    Form::read(&visitor, &body)?;
    notifications::mark_read(&app, actor, None).await?;
    Ok(see_other("/notifications"))
}

pub async fn preferences(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(ANYONE, "/account/notifications")?;
    let all = notifications::preferences(&app, actor).await?;
    let saved = req.query_string() == "saved=1";
    let body = pages::preferences(&visitor.chrome(), &FormErrors::default(), &all, saved);
    Ok(visitor.page("Emails you get", true, body))
}

/// Every choosable event is on the form: checked ones are emailed, the rest are not.
pub async fn set_preferences(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(ANYONE, "/account/notifications")?;
    let form = Form::read(&visitor, &body)?;
    let on = form.all("email");
    let choices: BTreeMap<String, bool> = notifications::preferences(&app, actor)
        .await?
        .into_iter()
        .filter(|p| !p.required)
        .map(|p| (p.event.as_str().to_string(), on.iter().any(|e| e == p.event.as_str())))
        .collect();
    match outcome(notifications::set_preferences(&app, actor, choices).await, |_| {
        "events".into()
    })? {
        Ok(_) => Ok(see_other("/account/notifications?saved=1")),
        Err(errors) => {
            let all = notifications::preferences(&app, actor).await?;
            let body = pages::preferences(&visitor.chrome(), &errors, &all, false);
            Ok(visitor.form_again("Emails you get", true, body))
        }
    }
}

pub async fn reset_form(visitor: Visitor) -> Page {
    let body = pages::reset_request(&visitor.chrome(), &FormErrors::default(), "", false);
    Ok(visitor.page("Reset your password", false, body))
}

pub async fn request_reset(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let form = Form::read(&visitor, &body)?;
    let email = form.get("email").to_string();
    let sent = outcome(account_links::request_reset(&app, email.clone()).await, str::to_string)?;
    let (errors, sent) = match sent {
        Ok(()) => (FormErrors::default(), true),
        Err(errors) => (errors, false),
    };
    let body = pages::reset_request(&visitor.chrome(), &errors, &email, sent);
    Ok(visitor.form_or_page("Reset your password", sent, body))
}

/// What each password link's page says.
fn wording(purpose: TokenPurpose) -> (&'static str, &'static str) {
    match purpose {
        TokenPurpose::Invitation => (
            "Set your password",
            "Your council made you an account on the Local Offer. Choose the password you will log in with.",
        ),
        _ => ("Choose a new password", "Choose the new password for your account."),
    }
}

async fn password_form(app: Data, visitor: Visitor, token: String, purpose: TokenPurpose) -> Page {
    account_links::check(&app, token.clone(), purpose).await?;
    let (heading, intro) = wording(purpose);
    let action = format!("{}/{token}", purpose.path());
    let body = pages::choose_password(&visitor.chrome(), &FormErrors::default(), heading, intro, &action);
    Ok(visitor.page(heading, true, body))
}

async fn set_password(app: Data, visitor: Visitor, token: String, body: web::Bytes, purpose: TokenPurpose) -> Page {
    let form = Form::read(&visitor, &body)?;
    // A dead link is the page's error, not the form's.
    account_links::check(&app, token.clone(), purpose).await?;
    let password = form.get("password").to_string();
    let done = match purpose {
        TokenPurpose::Invitation => account_links::accept_invitation(&app, token.clone(), password).await,
        _ => account_links::reset_password(&app, token.clone(), password).await,
    };
    let (heading, intro) = wording(purpose);
    match outcome(done, str::to_string)? {
        Ok(()) => Ok(visitor.page("Your password is set", false, pages::password_set())),
        Err(errors) => {
            let action = format!("{}/{token}", purpose.path());
            let body = pages::choose_password(&visitor.chrome(), &errors, heading, intro, &action);
            Ok(visitor.form_again(heading, true, body))
        }
    }
}

pub async fn invitation(app: Data, visitor: Visitor, token: web::Path<String>) -> Page {
    password_form(app, visitor, token.into_inner(), TokenPurpose::Invitation).await
}

pub async fn accept_invitation(app: Data, visitor: Visitor, token: web::Path<String>, body: web::Bytes) -> Page {
    set_password(app, visitor, token.into_inner(), body, TokenPurpose::Invitation).await
}

pub async fn reset(app: Data, visitor: Visitor, token: web::Path<String>) -> Page {
    password_form(app, visitor, token.into_inner(), TokenPurpose::PasswordReset).await
}

pub async fn confirm_reset(app: Data, visitor: Visitor, token: web::Path<String>, body: web::Bytes) -> Page {
    set_password(app, visitor, token.into_inner(), body, TokenPurpose::PasswordReset).await
}

pub async fn confirm_email_form(app: Data, visitor: Visitor, token: web::Path<String>) -> Page {
    let token = token.into_inner();
    account_links::check(&app, token.clone(), TokenPurpose::ConfirmEmail).await?;
    let action = format!("{}/{token}", TokenPurpose::ConfirmEmail.path());
    Ok(visitor.page(
        "Confirm your email address",
        true,
        pages::confirm_email(&visitor.chrome(), &action),
    ))
}

pub async fn confirm_email(app: Data, visitor: Visitor, token: web::Path<String>, body: web::Bytes) -> Page {
    Form::read(&visitor, &body)?;
    account_links::confirm_email(&app, token.into_inner()).await?;
    Ok(visitor.page("Your email address is confirmed", false, pages::email_confirmed()))
}

/// A provider asks for a new confirmation link from its services page.
pub async fn resend_confirmation(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(&[Role::Provider, Role::Broker], "/provider/services")?;
    Form::read(&visitor, &body)?;
    account_links::resend_confirmation(&app, actor).await?;
    Ok(see_other("/provider/services?confirmation=sent"))
}

/// A council officer re-sends a family's invitation from the plan's page.
pub async fn reinvite_family(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = crate::domain::BudgetHolderId(id.into_inner());
    let back = format!("/council/budget-holders/{id}");
    let actor = visitor.require(&[Role::Council], &back)?;
    Form::read(&visitor, &body)?;
    let sent = match account_links::reinvite_family(&app, actor, id).await {
        Ok(()) => true,
        Err(crate::app::AppError::Conflict {
            code: "password_set", ..
        }) => false,
        Err(e) => return Err(e.into()),
    };
    let title = if sent {
        "Invitation sent"
    } else {
        "The family has already chosen a password"
    };
    Ok(visitor.page(title, true, pages::invitation_sent(sent, &back)))
}
