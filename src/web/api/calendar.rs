//! Calendar feeds: a secret address for the caller's sessions, made again or stopped.

use actix_web::{HttpRequest, HttpResponse, delete, post};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Auth;
use super::{Data, Reply, dto};
use crate::app::calendar;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(link).service(revoke);
}

/// A secret address of the caller's sessions as an iCalendar (RFC 5545) feed for a calendar app:
/// a family's or broker's booked places, or a provider's sessions with the places booked. Asking
/// again gives a new address and stops the old one. Councils have no calendar (403).
#[utoipa::path(tag = "calendar", security(("bearer" = [])), responses((status = 201, body = dto::CalendarLink)))]
#[post("/me/calendar")]
async fn link(app: Data, auth: Auth, req: HttpRequest) -> Reply {
    let token = calendar::link(&app, &auth.actor).await?;
    let url = crate::web::calendar::address(&req, &token);
    Ok(HttpResponse::Created().json(dto::CalendarLink { url }))
}

/// Stop the caller's calendar feed: its address answers 404 from now on.
#[utoipa::path(tag = "calendar", security(("bearer" = [])), responses((status = 204, description = "The feed is stopped")))]
#[delete("/me/calendar")]
async fn revoke(app: Data, auth: Auth) -> Reply {
    calendar::revoke(&app, &auth.actor).await?;
    Ok(HttpResponse::NoContent().finish())
}
