//! Messages pages: the caller's conversations, one conversation (reply, add the council), a
//! question about a service, and writing about a booking.

use actix_web::{HttpRequest, web};

use super::forms::page_asked;
use super::{Data, Form, Page, PageError, Visitor, outcome, see_other};
use crate::app::threads;
use crate::domain::threads::{NewThreadInput, ThreadId};
use crate::domain::{BookingId, BudgetHolderId, Role, ServiceId};
use crate::templates::FormErrors;
use crate::templates::threads as pages;

const LIST: &str = "/messages";
const EVERYONE: &[Role] = &[Role::Family, Role::Broker, Role::Provider, Role::Council];
const ASKERS: &[Role] = &[Role::Family, Role::Broker];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(LIST, web::get().to(list))
        .route("/messages/{id}", web::get().to(one))
        .route("/messages/{id}", web::post().to(reply))
        .route("/messages/{id}/council", web::post().to(add_council))
        .route("/services/{id}/ask", web::get().to(ask_form))
        .route("/services/{id}/ask", web::post().to(ask))
        .route("/bookings/{id}/write", web::get().to(booking_form))
        .route("/bookings/{id}/write", web::post().to(write_about_booking));
}

pub async fn list(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(EVERYONE, LIST)?;
    let found = threads::list(&app, actor, page_asked(&req)?).await?;
    Ok(visitor.page("Messages", true, pages::list(&found)))
}

/// A conversation, or (with errors) its reply form again.
async fn show(app: &Data, mut visitor: Visitor, id: ThreadId, errors: FormErrors, reply: &str) -> Page {
    let actor = visitor.require(EVERYONE, &format!("/messages/{id}"))?;
    let thread = threads::get(app, actor, id).await?;
    // Read now: the menu counts what is still unread.
    visitor.unread_messages = visitor.unread_messages.saturating_sub(thread.unread_before);
    let body = pages::thread(&visitor.chrome(), &thread, &errors, reply);
    Ok(visitor.form_or_page(&thread.subject, errors.is_empty(), body))
}

pub async fn one(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    show(&app, visitor, ThreadId(id.into_inner()), FormErrors::default(), "").await
}

pub async fn reply(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = ThreadId(id.into_inner());
    let actor = visitor.require(EVERYONE, &format!("/messages/{id}"))?;
    let form = Form::read(&visitor, &body)?;
    match outcome(threads::post(&app, actor, id, form.get("body")).await, str::to_string)? {
        Ok(_) => Ok(see_other(&format!("/messages/{id}#latest"))),
        Err(errors) => {
            let typed = form.get("body").to_string();
            show(&app, visitor, id, errors, &typed).await
        }
    }
}

pub async fn add_council(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = ThreadId(id.into_inner());
    let actor = visitor.require(
        &[Role::Family, Role::Broker, Role::Provider],
        &format!("/messages/{id}"),
    )?;
    Form::read(&visitor, &body)?;
    threads::add_council(&app, actor, id).await?;
    Ok(see_other(&format!("/messages/{id}")))
}

/// The question form about a service, or (with errors) the form again with what was typed.
async fn show_ask(app: &Data, visitor: &Visitor, service: ServiceId, errors: FormErrors, form: Option<&Form>) -> Page {
    let actor = visitor.require(ASKERS, &format!("/services/{service}/ask"))?;
    let f = threads::ask_form(app, actor, service).await?;
    let (plan, text) = form.map_or(("", ""), |f| (f.get("budget_holder_id"), f.get("body")));
    let body = pages::ask(&visitor.chrome(), &f, &errors, plan, text);
    let title = format!("Ask {} a question", f.provider);
    Ok(visitor.form_or_page(&title, errors.is_empty(), body))
}

pub async fn ask_form(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    show_ask(&app, &visitor, ServiceId(id.into_inner()), FormErrors::default(), None).await
}

pub async fn ask(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let service = ServiceId(id.into_inner());
    let actor = visitor.require(ASKERS, &format!("/services/{service}/ask"))?;
    let form = Form::read(&visitor, &body)?;
    let plan = match form.get("budget_holder_id").trim() {
        "" => None,
        n => Some(BudgetHolderId(n.parse().map_err(|_| PageError::BadForm)?)),
    };
    let input = NewThreadInput {
        service_id: Some(service),
        budget_holder_id: plan,
        body: form.get("body").to_string(),
        ..NewThreadInput::default()
    };
    match outcome(threads::start(&app, actor, input).await, str::to_string)? {
        Ok(thread) => Ok(see_other(&format!("/messages/{thread}"))),
        Err(errors) => show_ask(&app, &visitor, service, errors, Some(&form)).await,
    }
}

/// The form to write about a booking; a booking that has its conversation goes straight to it.
async fn show_booking(app: &Data, visitor: &Visitor, booking: BookingId, errors: FormErrors, text: &str) -> Page {
    let actor = visitor.require(ASKERS, &format!("/bookings/{booking}/write"))?;
    let f = threads::booking_form(app, actor, booking).await?;
    if let (Some(thread), true) = (f.thread, errors.is_empty()) {
        return Ok(see_other(&format!("/messages/{thread}")));
    }
    let body = pages::about_booking(&visitor.chrome(), &f, &errors, text);
    Ok(visitor.form_or_page("Write to the provider about this booking", errors.is_empty(), body))
}

pub async fn booking_form(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    show_booking(&app, &visitor, BookingId(id.into_inner()), FormErrors::default(), "").await
}

pub async fn write_about_booking(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let booking = BookingId(id.into_inner());
    let actor = visitor.require(ASKERS, &format!("/bookings/{booking}/write"))?;
    let form = Form::read(&visitor, &body)?;
    let input = NewThreadInput {
        booking_id: Some(booking),
        body: form.get("body").to_string(),
        ..NewThreadInput::default()
    };
    match outcome(threads::start(&app, actor, input).await, str::to_string)? {
        Ok(thread) => Ok(see_other(&format!("/messages/{thread}#latest"))),
        Err(errors) => show_booking(&app, &visitor, booking, errors, form.get("body")).await,
    }
}
