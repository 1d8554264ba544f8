//! The calendar link page: families, brokers and providers get, replace or stop the secret
//! address their calendar app follows.

use actix_web::{HttpRequest, web};

use super::{Data, Form, Page, Visitor, see_other};
use crate::app::calendar;
use crate::domain::Role;
use crate::templates::calendar as pages;

const WITH_CALENDARS: &[Role] = &[Role::Family, Role::Broker, Role::Provider];

pub async fn page(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(WITH_CALENDARS, "/my-calendar")?;
    let since = calendar::live_since(&app, actor).await?;
    Ok(visitor.page("Your calendar", true, pages::calendar(&visitor.chrome(), since, None)))
}

/// A new address, shown this once (only its hash is kept); the one before stops working.
pub async fn link(app: Data, visitor: Visitor, body: web::Bytes, req: HttpRequest) -> Page {
    let actor = visitor.require(WITH_CALENDARS, "/my-calendar")?;
    Form::read(&visitor, &body)?;
    let token = calendar::link(&app, actor).await?;
    let address = crate::web::calendar::address(&req, &token);
    let since = calendar::live_since(&app, actor).await?;
    Ok(visitor.page(
        "Your calendar",
        true,
        pages::calendar(&visitor.chrome(), since, Some(&address)),
    ))
}

pub async fn stop(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(WITH_CALENDARS, "/my-calendar")?;
    Form::read(&visitor, &body)?;
    calendar::revoke(&app, actor).await?;
    Ok(see_other("/my-calendar"))
}
