//! HTTP: routes, extractors, the error mapping. Handlers parse, authorise, call `db`, render.

pub mod api;
pub mod error;
pub mod extract;
pub mod oruk;
pub mod pages;
pub mod reports;
pub mod search;

use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::Service;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, middleware, web};

use crate::db::{Db, DbResult};
use crate::domain::oruk::PublicIds;
use crate::domain::taxonomy::Taxonomy;
use crate::geocode::Geocoder;
use crate::search::SearchIndex;
use error::ApiError;

pub struct AppState {
    pub db: Db,
    pub taxonomy: Arc<Taxonomy>,
    pub search: Arc<SearchIndex>,
    pub geocoder: Geocoder,
    /// The UUIDs our records are published under in the Open Referral feed.
    pub public_ids: PublicIds,
    /// Wakes the search follower after a write on this server, so the index is fresh at once.
    pub reindex: std::sync::mpsc::Sender<()>,
}

impl AppState {
    pub fn services_changed(&self) {
        // The follower also polls, so a lost nudge only delays freshness by one poll.
        let _ = self.reindex.send(());
    }
}

/// Run blocking database work on actix's blocking pool.
pub async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&Db) -> DbResult<T> + Send + 'static,
) -> Result<T, ApiError> {
    let db = state.db.clone();
    web::block(move || f(&db))
        .await
        .map_err(|_| ApiError::Busy)?
        .map_err(ApiError::from)
}

/// Everything the server answers, in one place (tests build the same app).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(extract::MAX_BODY_BYTES))
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::NotFound(format!("no such resource: {e}")).into()),
        )
        .app_data(
            web::QueryConfig::default()
                .error_handler(|e, _| ApiError::bad_request("invalid_query", e.to_string(), None).into()),
        )
        .route("/healthz", web::get().to(api::healthz))
        .configure(pages::routes)
        .service(web::scope("/api/v1").configure(api::routes))
        .service(oruk::scope())
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound("no such page or endpoint".into()))
        }));
}

/// Security headers every response carries.
pub fn security_headers() -> middleware::DefaultHeaders {
    middleware::DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .add((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .add((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .add((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
        ))
}

/// One tracing line per request: method, path, status and time taken.
pub fn log_requests<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<actix_web::dev::ServiceRequest, Response = actix_web::dev::ServiceResponse<B>, Error = actix_web::Error>,
{
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_string();
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        tracing::info!(%method, %path, status = res.status().as_u16(), ms = started.elapsed().as_secs_f64() * 1000.0, "request");
        Ok(res)
    }
}
