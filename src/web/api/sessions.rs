//! Dated sessions: publishing, listing, cancelling and changing them, registers, waiting lists.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, MaybeAuth, Query};
use super::{Data, Reply, dto};
use crate::app::sessions::{self, Change, Mark};
use crate::app::waitlist::{self, JoinInput};
use crate::domain::paging::Page;
use crate::domain::{ServiceId, SessionId, WaitlistId};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(publish)
        .service(list)
        .service(cancel)
        .service(change)
        .service(register)
        .service(mark)
        .service(join)
        .service(entries)
        .service(accept)
        .service(decline);
}

/// A provider publishes one dated session, or a weekly series, for a service. Times are England's
/// wall-clock times; places default to the service's capacity.
#[utoipa::path(
    tag = "sessions",
    params(("id" = i64, Path)),
    request_body = dto::NewSessions,
    security(("bearer" = [])),
    responses((status = 201, body = dto::SessionList))
)]
#[post("/services/{id}/sessions")]
async fn publish(app: Data, auth: Auth, id: web::Path<i64>, Json(input): Json<dto::NewSessions>) -> Reply {
    let places = input.places;
    let request = input.into_request()?;
    let created = sessions::publish(&app, &auth.actor, ServiceId(id.into_inner()), request, places).await?;
    Ok(HttpResponse::Created().json(dto::SessionList::from(&Page::whole(created))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Range {
    /// The first day (England), today if left out.
    from: Option<NaiveDate>,
    /// The last day (England), included.
    to: Option<NaiveDate>,
    /// The page, from 1; 1 if not given.
    page: Option<u32>,
    /// Sessions per page, 1 to 200; 50 if not given.
    per_page: Option<u32>,
}

/// A service's sessions with the places left on each, earliest first.
#[utoipa::path(
    tag = "sessions",
    params(("id" = i64, Path), Range),
    security((), ("bearer" = [])),
    responses((status = 200, body = dto::SessionList))
)]
#[get("/services/{id}/sessions")]
async fn list(app: Data, viewer: MaybeAuth, id: web::Path<i64>, range: Query<Range>) -> Reply {
    let paging = dto::Paging {
        page: range.page,
        per_page: range.per_page,
    };
    let found = sessions::of_service(&app, viewer.0, ServiceId(id.into_inner()), range.from, range.to).await?;
    Ok(HttpResponse::Ok().json(dto::SessionList::from(&paging.request()?.slice(found))))
}

/// The provider cancels a session: every booking on it is refunded, its waiting list closed.
#[utoipa::path(tag = "sessions", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::DatedSession)))]
#[post("/sessions/{id}/cancel")]
async fn cancel(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let s = sessions::cancel(&app, &auth.actor, SessionId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::DatedSession::from(&s)))
}

/// The provider changes a session's places (never below those taken) or moves it.
#[utoipa::path(
    tag = "sessions",
    params(("id" = i64, Path)),
    request_body = dto::SessionChange,
    security(("bearer" = [])),
    responses((status = 200, body = dto::DatedSession))
)]
#[put("/sessions/{id}")]
async fn change(app: Data, auth: Auth, id: web::Path<i64>, Json(input): Json<dto::SessionChange>) -> Reply {
    let c = Change {
        places: input.places,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
    };
    let s = sessions::change(&app, &auth.actor, SessionId(id.into_inner()), c).await?;
    Ok(HttpResponse::Ok().json(dto::DatedSession::from(&s)))
}

/// The session's register: each booked child's first name, age, the family's notes and contact.
#[utoipa::path(tag = "sessions", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::Register)))]
#[get("/sessions/{id}/register")]
async fn register(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let r = sessions::register(&app, &auth.actor, SessionId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::Register::from(&r)))
}

/// Mark each child attended or absent once the session has started; absences follow the
/// provider's policy (charged, or refunded to the budget).
#[utoipa::path(
    tag = "sessions",
    params(("id" = i64, Path)),
    request_body = dto::Attendance,
    security(("bearer" = [])),
    responses((status = 200, body = dto::Register))
)]
#[post("/sessions/{id}/register")]
async fn mark(app: Data, auth: Auth, id: web::Path<i64>, Json(input): Json<dto::Attendance>) -> Reply {
    let marks = input
        .attendance
        .into_iter()
        .map(|m| Mark {
            booking_id: m.booking_id,
            status: m.status,
        })
        .collect();
    let r = sessions::mark(&app, &auth.actor, SessionId(id.into_inner()), marks).await?;
    Ok(HttpResponse::Ok().json(dto::Register::from(&r)))
}

/// Join a full session's waiting list. When a place frees, the first waiting gets an offer that
/// holds the place for the provider's offer window.
#[utoipa::path(
    tag = "sessions",
    params(("id" = i64, Path)),
    request_body = dto::JoinWaitlist,
    security(("bearer" = [])),
    responses((status = 201, body = dto::WaitlistEntry))
)]
#[post("/sessions/{id}/waitlist")]
async fn join(app: Data, auth: Auth, id: web::Path<i64>, Json(input): Json<dto::JoinWaitlist>) -> Reply {
    let join = JoinInput {
        budget_holder_id: input.budget_holder_id,
        allocation_id: input.allocation_id,
        price_option_id: input.price_option_id,
    };
    let entry = waitlist::join(&app, &auth.actor, SessionId(id.into_inner()), join).await?;
    Ok(HttpResponse::Created().json(dto::WaitlistEntry::from(&entry)))
}

/// The caller's waiting-list places and offers, newest first.
#[utoipa::path(tag = "sessions", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = dto::WaitlistEntries)))]
#[get("/waitlist")]
async fn entries(app: Data, auth: Auth, paging: Query<dto::Paging>) -> Reply {
    let page = waitlist::list(&app, &auth.actor, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(dto::WaitlistEntries::from(&page)))
}

/// Accept an open offer: the held place is booked, if the allocation can pay for it.
#[utoipa::path(tag = "sessions", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::WaitlistAccepted)))]
#[post("/waitlist/{id}/accept")]
async fn accept(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let (entry, booking) = waitlist::accept(&app, &auth.actor, WaitlistId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::WaitlistAccepted {
        entry: (&entry).into(),
        booking: (&booking).into(),
    }))
}

/// Leave the waiting list, or turn an offer down (its place goes to the next one waiting).
#[utoipa::path(tag = "sessions", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::WaitlistEntry)))]
#[post("/waitlist/{id}/decline")]
async fn decline(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let entry = waitlist::decline(&app, &auth.actor, WaitlistId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::WaitlistEntry::from(&entry)))
}
