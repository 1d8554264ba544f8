//! Organisations, their services and the taxonomy they are described in.

use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, MaybeAuth, Query};
use super::{Data, Reply, dto};
use crate::app::{providers, services};
use crate::domain::listing::ListingAction;
use crate::domain::taxonomy::Vocabulary;
use crate::domain::{OrganisationId, ServiceId, ServiceStatus};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(organisation)
        .service(organisation_services)
        .service(verify)
        .service(suspend)
        .service(reinstate)
        .service(create_service)
        .service(service)
        .service(update_service)
        .service(publish)
        .service(unpublish)
        .service(taxonomy);
}

/// An organisation.
#[utoipa::path(tag = "services", params(("id" = i64, Path)), responses((status = 200, body = dto::Organisation)))]
#[get("/organisations/{id}")]
async fn organisation(app: Data, id: web::Path<i64>) -> Reply {
    let view = services::organisation(&app, OrganisationId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::Organisation::from(view)))
}

/// An organisation's published services, newest first; its own staff also see drafts.
#[utoipa::path(
    tag = "services",
    params(("id" = i64, Path), dto::Paging),
    security((), ("bearer" = [])),
    responses((status = 200, body = dto::ServiceList))
)]
#[get("/organisations/{id}/services")]
async fn organisation_services(app: Data, viewer: MaybeAuth, id: web::Path<i64>, paging: Query<dto::Paging>) -> Reply {
    let page = paging.request()?;
    let list = services::of_organisation(&app, viewer.0, OrganisationId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::ServiceList::from(&page.slice(list))))
}

async fn act_on_listing(app: Data, auth: Auth, id: i64, action: ListingAction) -> Reply {
    let view = providers::act(&app, &auth.actor, OrganisationId(id), action).await?;
    Ok(HttpResponse::Ok().json(dto::Organisation::from(view)))
}

/// A council verifies a provider it has checked, in its own Local Offer listing (listing it if it
/// had not); other councils' listings are untouched. The answer's `status` is the caller's listing.
#[utoipa::path(tag = "services", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::Organisation)))]
#[post("/organisations/{id}/verify")]
async fn verify(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    act_on_listing(app, auth, id.into_inner(), ListingAction::Verify).await
}

/// A council suspends a provider in its own listing: its services leave that council's families'
/// searches and cannot be booked from its plans; anonymous search drops them only once every
/// council listing the provider has suspended it.
#[utoipa::path(tag = "services", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::Organisation)))]
#[post("/organisations/{id}/suspend")]
async fn suspend(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    act_on_listing(app, auth, id.into_inner(), ListingAction::Suspend).await
}

/// A council lifts its own suspension of a provider (verified again if it had verified it); 409
/// `not_listed` when the council does not list the provider.
#[utoipa::path(
    tag = "services",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = dto::Organisation),
        (status = 409, body = dto::ErrorEnvelope, description = "`not_listed`: the council does not list this provider"),
    )
)]
#[post("/organisations/{id}/reinstate")]
async fn reinstate(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    act_on_listing(app, auth, id.into_inner(), ListingAction::Reinstate).await
}

/// A provider lists a service: outcomes, ages, where, prices (or the full-cost calculator's inputs).
#[utoipa::path(tag = "services", request_body = dto::NewService, security(("bearer" = [])), responses((status = 201, body = dto::Service)))]
#[post("/services")]
async fn create_service(app: Data, auth: Auth, Json(input): Json<dto::NewService>) -> Reply {
    let view = services::create(&app, &auth.actor, input.into()).await?;
    Ok(HttpResponse::Created().json(dto::Service::from(&view)))
}

/// A published service with its price options and their full-cost working.
#[utoipa::path(
    tag = "services",
    params(("id" = i64, Path)),
    security((), ("bearer" = [])),
    responses((status = 200, body = dto::Service))
)]
#[get("/services/{id}")]
async fn service(app: Data, viewer: MaybeAuth, id: web::Path<i64>) -> Reply {
    let view = services::get(&app, viewer.0, ServiceId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::Service::from(&view)))
}

/// Edit and re-price a service: options sent with their `id` keep it, omitted ones are retired.
#[utoipa::path(
    tag = "services",
    params(("id" = i64, Path)),
    request_body = dto::NewService,
    security(("bearer" = [])),
    responses((status = 200, body = dto::Service))
)]
#[put("/services/{id}")]
async fn update_service(app: Data, auth: Auth, id: web::Path<i64>, Json(input): Json<dto::NewService>) -> Reply {
    let view = services::update(&app, &auth.actor, ServiceId(id.into_inner()), input.into()).await?;
    Ok(HttpResponse::Ok().json(dto::Service::from(&view)))
}

async fn set_service_status(app: Data, auth: Auth, id: i64, status: ServiceStatus) -> Reply {
    let view = services::set_status(&app, &auth.actor, ServiceId(id), status).await?;
    Ok(HttpResponse::Ok().json(dto::Service::from(&view)))
}

/// Publish a service: it joins search at once.
#[utoipa::path(tag = "services", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::Service)))]
#[post("/services/{id}/publish")]
async fn publish(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    set_service_status(app, auth, id.into_inner(), ServiceStatus::Published).await
}

/// Unpublish a service: it leaves search; its bookings stand.
#[utoipa::path(tag = "services", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::Service)))]
#[post("/services/{id}/unpublish")]
async fn unpublish(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    set_service_status(app, auth, id.into_inner(), ServiceStatus::Unpublished).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TaxonomyQuery {
    /// Only the terms of this vocabulary.
    vocabulary: Option<Vocabulary>,
}

/// Every outcome, need and service-type term: id, vocabulary, label, parent, synonyms.
#[utoipa::path(tag = "services", params(TaxonomyQuery), responses((status = 200, body = dto::Taxonomy)))]
#[get("/taxonomy")]
async fn taxonomy(app: Data, query: Query<TaxonomyQuery>) -> Reply {
    let t = &app.taxonomy;
    Ok(HttpResponse::Ok().json(dto::Taxonomy {
        version: t.version.clone(),
        source: t.source.clone(),
        terms: t
            .terms
            .iter()
            .filter(|term| query.vocabulary.is_none_or(|v| term.vocabulary == v))
            .map(Into::into)
            .collect(),
    }))
}
