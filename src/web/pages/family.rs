//! Family (and broker) pages: my plan, booking, cancelling, the statement, matches.

use actix_web::http::StatusCode;
use actix_web::web;

use super::forms::{BookForm, Unreadable};
use super::{Data, Form, Page, PageError, Visitor, outcome, see_other};
use crate::app::{AppError, bookings, plans};
use crate::domain::booking::BookingAction;
use crate::domain::{BookingId, Role};
use crate::templates::family as pages;

const SPENDERS: &[Role] = &[Role::Family, Role::Broker];

pub async fn my_plan(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan")?;
    let (plans, booked) = (plans::list(&app, actor).await?, bookings::list(&app, actor).await?);
    let body = pages::my_plan(&visitor.chrome(), &app.taxonomy, &plans, &booked);
    Ok(visitor.page("My plan", true, body))
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
    Form::read(&visitor, &body)?;
    match bookings::transition(&app, actor, BookingId(id.into_inner()), BookingAction::Cancel).await {
        // Already cancelled or delivered meanwhile: the plan page shows how it stands.
        Ok(_) | Err(AppError::Conflict { .. }) => Ok(see_other("/my-plan")),
        Err(e) => Err(e.into()),
    }
}

pub async fn statement(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan/statement")?;
    let statements = plans::statements(&app, actor).await?;
    Ok(visitor.page("Statement", true, pages::statement(&statements)))
}

pub async fn matches(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(SPENDERS, "/my-plan/matches")?;
    let sections = plans::all_matches(&app, actor).await?;
    Ok(visitor.page("Matches for my plan", true, pages::matches(&app.taxonomy, &sections)))
}
