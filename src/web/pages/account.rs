//! A logged-in user's account page (password change, log out everywhere), and a council officer
//! ending a family's sessions.

use actix_web::{HttpRequest, web};

use super::{Data, Form, Page, Visitor, outcome, see_other};
use crate::app::accounts;
use crate::domain::{BudgetHolderId, Role};
use crate::templates::FormErrors;
use crate::templates::account::{self as pages, Done};

const ANYONE: &[Role] = &[Role::Family, Role::Broker, Role::Provider, Role::Council];

pub async fn page(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(ANYONE, "/account")?;
    let email = accounts::own_email(&app, actor).await?;
    let done = if req.query_string() == "changed=password" {
        Done::PasswordChanged
    } else {
        Done::Nothing
    };
    let body = pages::account(&visitor.chrome(), &email, &FormErrors::default(), done);
    Ok(visitor.page("Your account", true, body))
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
            let email = accounts::own_email(&app, actor).await?;
            let body = pages::account(&visitor.chrome(), &email, &errors, Done::Nothing);
            Ok(visitor.form_again("Your account", true, body))
        }
    }
}

/// Every session of the account ends, this one included.
pub async fn logout_everywhere(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(ANYONE, "/account")?;
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
