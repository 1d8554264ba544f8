//! HTTP: the two front doors (the JSON API under `/api/v1` and the pages), the Open Referral
//! feed, and what every answer shares (security headers, request logging, not found).

pub mod api;
mod assets;
pub mod calendar;
pub mod oruk;
pub mod pages;
pub mod throttle;

use std::time::Instant;

use actix_web::dev::Service;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, middleware, web};

use api::ApiError;

use crate::domain::geo::MapTiles;

/// Everything the server answers besides the API (which `lib.rs` mounts with its document).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(api::MAX_BODY_BYTES))
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::not_found(format!("no such resource: {e}")).into()),
        )
        .app_data(
            web::QueryConfig::default()
                .error_handler(|e, _| ApiError::bad_request("invalid_query", e.to_string(), None).into()),
        )
        .route("/healthz", web::get().to(api::healthz))
        .route("/calendar/{token}.ics", web::get().to(calendar::feed))
        .configure(assets::routes)
        .configure(pages::routes)
        .service(oruk::scope())
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::not_found("no such page or endpoint"))
        }));
}

/// Security headers every response carries. Scripts and styles come only from our own assets;
/// images also from the map's tile server.
pub fn security_headers(tiles: &MapTiles) -> middleware::DefaultHeaders {
    let policy = format!(
        "default-src 'self'; img-src 'self' {}; frame-ancestors 'none'",
        tiles.origin()
    );
    // MapTiles admits only visible ASCII without quotes or semicolons, so this is a header value.
    let policy = HeaderValue::from_str(&policy)
        .unwrap_or(HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
    middleware::DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .add((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .add((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .add((header::CONTENT_SECURITY_POLICY, policy))
}

/// One tracing line per request: method, path (a calendar feed's secret token left out), status
/// and time taken.
pub fn log_requests<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<actix_web::dev::ServiceRequest, Response = actix_web::dev::ServiceResponse<B>, Error = actix_web::Error>,
{
    let started = Instant::now();
    let method = req.method().clone();
    let path = calendar::loggable_path(req.path()).to_string();
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        tracing::info!(%method, %path, status = res.status().as_u16(), ms = started.elapsed().as_secs_f64() * 1000.0, "request");
        Ok(res)
    }
}
