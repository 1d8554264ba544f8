//! HTTP: the two front doors (the JSON API under `/api/v1` and the pages), the Open Referral
//! feed, and what every answer shares (security headers, request logging, not found).

pub mod api;
mod assets;
pub mod calendar;
pub mod multipart;
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

/// How visitors reach the service (`serve --public-url`). Behind an https address the cookies are
/// always `Secure` and take `__Host-` names (so no sibling subdomain or plain-HTTP page can set
/// them), and every answer carries HSTS. Without one, cookies keep their plain names and are
/// `Secure` only when the request came over https.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    pub https: bool,
}

impl Transport {
    /// The public address, if given: `https://HOST` or `http://HOST` (a path is allowed and ignored).
    pub fn from_public_url(url: Option<&str>) -> Result<Transport, String> {
        let Some(given) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Transport::default());
        };
        let parsed = url::Url::parse(given).map_err(|e| format!("--public-url {given:?} is not an address: {e}"))?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(format!("--public-url {given:?} has no host"));
        }
        match parsed.scheme() {
            "https" => Ok(Transport { https: true }),
            "http" => Ok(Transport { https: false }),
            other => Err(format!(
                "--public-url {given:?} must start with https:// or http://, not {other}://"
            )),
        }
    }

    /// A cookie's name: `__Host-` prefixed behind https.
    pub fn cookie_name(&self, base: &str) -> String {
        if self.https {
            format!("__Host-{base}")
        } else {
            base.to_string()
        }
    }
}

/// The answer to `Strict-Transport-Security` behind an https public address.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Browser features no page uses (the search page's map does not locate the visitor).
pub const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";

/// Security headers every response carries. Scripts and styles come only from our own assets;
/// images also from the map's tile server; forms post only to us; no `<base>` may move links.
pub fn security_headers(tiles: &MapTiles, transport: &Transport) -> middleware::DefaultHeaders {
    let policy = format!(
        "default-src 'self'; img-src 'self' {}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        tiles.origin()
    );
    // MapTiles admits only visible ASCII without quotes or semicolons, so this is a header value.
    let policy = HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ));
    let headers = middleware::DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .add((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .add((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .add((header::CONTENT_SECURITY_POLICY, policy))
        .add(("Permissions-Policy", HeaderValue::from_static(PERMISSIONS_POLICY)));
    if transport.https {
        headers.add((header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS)))
    } else {
        headers
    }
}

/// The route a request matched, as its template (`GET /api/v1/budget-holders/{id}`): what the
/// access record keeps, never the URL itself (no ids or query strings).
pub fn route_template(req: &actix_web::HttpRequest) -> String {
    let pattern = req.match_pattern().unwrap_or_else(|| "(no route)".to_string());
    format!("{} {pattern}", req.method())
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
    let path = calendar::loggable_path(req.path());
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        tracing::info!(%method, %path, status = res.status().as_u16(), ms = started.elapsed().as_secs_f64() * 1000.0, "request");
        Ok(res)
    }
}
