//! Booking against an allocation, and moving bookings on.

use actix_web::http::header::HeaderValue;
use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, IdempotencyKey, Json, OptionalJson, Query};
use super::{Data, Reply, dto};
use crate::app::bookings;
use crate::domain::BookingId;
use crate::domain::booking::BookingAction;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(cancel)
        .service(confirm)
        .service(decline)
        .service(deliver);
}

/// Book against an allocation. The money is taken at once, never more than is left; the same
/// `Idempotency-Key` again answers with the same booking.
#[utoipa::path(
    tag = "bookings",
    request_body = dto::NewBooking,
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; a retried request with the same key books once")),
    security(("bearer" = [])),
    responses((status = 201, body = dto::CreatedBooking, headers(("Idempotent-Replayed" = String, description = "`true` when an earlier booking was answered again"))))
)]
#[post("/bookings")]
async fn create(app: Data, auth: Auth, key: IdempotencyKey, Json(input): Json<dto::NewBooking>) -> Reply {
    let booked = bookings::book(&app, &auth.actor, input.into(), key.0).await?;
    let mut response = HttpResponse::Created();
    if booked.replayed {
        response.insert_header(("Idempotent-Replayed", HeaderValue::from_static("true")));
    }
    Ok(response.json(dto::CreatedBooking::from(&booked)))
}

/// The caller's bookings, newest first: a family's, a broker's families', a provider's, a council's area.
#[utoipa::path(tag = "bookings", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = dto::BookingList)))]
#[get("/bookings")]
async fn list(app: Data, auth: Auth, paging: Query<dto::Paging>) -> Reply {
    let page = bookings::list(&app, &auth.actor, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(dto::BookingList::from(&page)))
}

#[utoipa::path(tag = "bookings", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::Booking)))]
#[get("/bookings/{id}")]
async fn get_one(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let booking = bookings::get(&app, &auth.actor, BookingId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::Booking::from(&booking)))
}

async fn act(app: Data, auth: Auth, id: i64, action: BookingAction) -> Reply {
    let booking = bookings::transition(&app, &auth.actor, BookingId(id), action).await?;
    Ok(HttpResponse::Ok().json(dto::Booking::from(&booking)))
}

/// The family or its broker cancels. A booking by quantity is cancelled whole and its money goes
/// back. For sessions, the ones named (every one still to come if the body is left out): each is
/// refunded up to the provider's notice, after it charged as the provider's policy says.
#[utoipa::path(
    tag = "bookings",
    params(("id" = i64, Path)),
    request_body(content = Option<dto::CancelSessions>, description = "Optional: which sessions"),
    security(("bearer" = [])),
    responses((status = 200, body = dto::CancelledBooking))
)]
#[post("/bookings/{id}/cancel")]
async fn cancel(app: Data, auth: Auth, id: web::Path<i64>, body: OptionalJson<dto::CancelSessions>) -> Reply {
    let chosen = body.0.unwrap_or_default().session_ids;
    let done = bookings::cancel(&app, &auth.actor, BookingId(id.into_inner()), chosen).await?;
    Ok(HttpResponse::Ok().json(dto::CancelledBooking::from(&done)))
}

/// The provider confirms a requested booking.
#[utoipa::path(tag = "bookings", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::Booking)))]
#[post("/bookings/{id}/confirm")]
async fn confirm(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    act(app, auth, id.into_inner(), BookingAction::Confirm).await
}

/// The provider declines a requested booking; the money goes back to the allocation.
#[utoipa::path(tag = "bookings", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::Booking)))]
#[post("/bookings/{id}/decline")]
async fn decline(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    act(app, auth, id.into_inner(), BookingAction::Decline).await
}

/// The provider marks a confirmed booking delivered: its money is spent.
#[utoipa::path(tag = "bookings", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::Booking)))]
#[post("/bookings/{id}/deliver")]
async fn deliver(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    act(app, auth, id.into_inner(), BookingAction::Deliver).await
}
