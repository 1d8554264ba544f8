//! Family (and broker) pages: my plan, booking, cancelling, the statement, matches.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};

use super::forms::{BookForm, JoinForm, Unreadable, number_asked, page_asked};
use super::{Data, Form, Page, PageError, Visitor, outcome, see_other};
use crate::app::{AppError, bookings, plan_links, plans, records, waitlist};
use crate::domain::{BookingId, BudgetHolderId, Role, SessionId, WaitlistId};
use crate::templates::family as pages;

const SPENDERS: &[Role] = &[Role::Family, Role::Broker];

pub async fn my_plan(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan")?;
    let overview = plans::overview(&app, actor, page_asked(&req)?).await?;
    Ok(visitor.page(
        "My plan",
        true,
        pages::my_plan(&visitor.chrome(), &app.taxonomy, &overview),
    ))
}

/// "Who has looked at your plan": the family's own view of its plans' access record.
pub async fn access(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(&[Role::Family], "/my-plan/access")?;
    let logs = records::family_access(&app, actor, page_asked(&req)?).await?;
    Ok(visitor.page("Who has looked at your plan", true, pages::access(&logs)))
}

pub async fn booking(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan")?;
    let b = bookings::get(&app, actor, BookingId(id.into_inner())).await?;
    Ok(visitor.page(&format!("Booking {}", b.reference), true, pages::booking(&b)))
}

/// The sessions a cancel form names; none means every one still to come.
fn chosen(query: &[(String, String)]) -> Result<Vec<SessionId>, PageError> {
    query
        .iter()
        .filter(|(k, _)| k == "session_id")
        .map(|(_, v)| v.trim().parse().map(SessionId).map_err(|_| PageError::BadForm))
        .collect()
}

pub async fn cancel_confirm(app: Data, visitor: Visitor, id: web::Path<i64>, req: HttpRequest) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan")?;
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).map_err(|_| PageError::BadForm)?;
    let ids = chosen(&query)?;
    let preview = bookings::cancel_preview(
        &app,
        actor,
        BookingId(id.into_inner()),
        Some(ids.clone()).filter(|i| !i.is_empty()),
    )
    .await?;
    let body = pages::cancel_confirm(&visitor.chrome(), &preview, &ids);
    Ok(visitor.page("Cancel a booking", true, body))
}

pub async fn book(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let service_id = id.into_inner();
    let actor = visitor.require(SPENDERS, &format!("/services/{service_id}"))?;
    let form = Form::read(&visitor, &body)?;
    let booked = match BookForm::read(&form).map_err(|Unreadable| PageError::BadForm)? {
        Ok(f) => outcome(bookings::book(&app, actor, f.input, f.request_id).await, |_| {
            "quantity".into()
        })?,
        Err(errors) => Err(errors),
    };
    match booked {
        Ok(booked) => Ok(visitor.page("Booking requested", true, pages::booked(&booked))),
        Err(errors) => {
            let body = pages::booking_failed(&errors, service_id);
            Ok(visitor.page_with_status(StatusCode::CONFLICT, "Error: Booking not made", true, body))
        }
    }
}

pub async fn cancel(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan")?;
    let form = Form::read(&visitor, &body)?;
    let ids = Some(chosen(&form.0)?).filter(|i| !i.is_empty());
    let done = bookings::cancel(&app, actor, BookingId(id.into_inner()), ids).await?;
    Ok(visitor.page("Cancelled", true, pages::cancelled(&done)))
}

pub async fn waitlist_form(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let id = SessionId(id.into_inner());
    let actor = visitor.require(SPENDERS, &format!("/sessions/{id}/waitlist"))?;
    let form = waitlist::join_form(&app, actor, id).await?;
    Ok(visitor.page(
        "Join the waiting list",
        true,
        pages::waitlist_form(&visitor.chrome(), &form),
    ))
}

pub async fn join_waitlist(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = SessionId(id.into_inner());
    let actor = visitor.require(SPENDERS, &format!("/sessions/{id}/waitlist"))?;
    let form = Form::read(&visitor, &body)?;
    let join = JoinForm::read(&form).ok_or(PageError::BadForm)?;
    waitlist::join(&app, actor, id, join).await?;
    Ok(see_other("/my-plan"))
}

pub async fn answer_offer(app: Data, visitor: Visitor, path: web::Path<(i64, String)>, body: web::Bytes) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan")?;
    Form::read(&visitor, &body)?;
    let (id, verb) = path.into_inner();
    match verb.as_str() {
        "accept" => waitlist::accept(&app, actor, WaitlistId(id)).await.map(|_| ())?,
        "decline" => waitlist::decline(&app, actor, WaitlistId(id)).await.map(|_| ())?,
        _ => return Err(AppError::not_found("page").into()),
    }
    Ok(see_other("/my-plan"))
}

/// The family accepts or declines a plan another council added (the notice on my plan).
pub async fn answer_link(app: Data, visitor: Visitor, path: web::Path<(i64, String)>, body: web::Bytes) -> Page {
    let actor = visitor.require(&[Role::Family], "/my-plan")?;
    Form::read(&visitor, &body)?;
    let (id, verb) = path.into_inner();
    let accept = match verb.as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Err(AppError::not_found("page").into()),
    };
    plan_links::decide(&app, actor, id, accept).await?;
    Ok(see_other("/my-plan"))
}

pub async fn statement(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan/statement")?;
    let only = number_asked(&req, "plan", "must be one of your plans")?.map(BudgetHolderId);
    let statements = plans::statements(&app, actor, only, page_asked(&req)?).await?;
    Ok(visitor.page("Statement", true, pages::statement(&statements, only.is_some())))
}

pub async fn matches(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan/matches")?;
    let sections = plans::all_matches(&app, actor).await?;
    Ok(visitor.page("Matches for my plan", true, pages::matches(&app.taxonomy, &sections)))
}
