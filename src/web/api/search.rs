//! Searching the Local Offer.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::MaybeAuth;
use super::{ApiError, Data, Reply, dto};
use crate::app::search::{self as find, Options};
use crate::domain::search::SearchParams;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(search);
}

/// Search by words, outcomes, kinds of service, needs, place, age, funding stream, price, day and
/// free places on dated sessions. Each result carries its next session with a place left.
/// `outcome`, `service_type` and `need` repeat. Radius searches are exact (haversine), and a
/// service that travels is found within its reach. With a family's or council officer's token, the
/// providers that council suspended in its own Local Offer are left out, and `verified_by` names
/// only that council.
#[utoipa::path(
    tag = "search",
    params(
        ("q" = Option<String>, Query, description = "Words, at most 200 characters: stemmed, typo-tolerant, knowing the taxonomy's labels and synonyms"),
        ("outcome" = Option<Vec<String>>, Query, description = "Outcome term ids; a service must meet one, and meeting more ranks higher", explode = true),
        ("service_type" = Option<Vec<String>>, Query, description = "Service type term ids", explode = true),
        ("need" = Option<Vec<String>>, Query, description = "Need term ids", explode = true),
        ("postcode" = Option<String>, Query, description = "A full UK postcode or a district such as SW19, in England: one wholly in Scotland, Wales, Northern Ireland or a Crown Dependency is a 400 `invalid_parameter` on `postcode` whose message names the nation and where to go instead"),
        ("lat" = Option<f64>, Query, description = "Latitude, with lon, instead of a postcode"),
        ("lon" = Option<f64>, Query, description = "Longitude, with lat"),
        ("radius_miles" = Option<f64>, Query, description = "More than 0 and at most 200; needs a place"),
        ("age" = Option<i32>, Query, description = "The child's age, 0 to 25"),
        ("stream" = Option<crate::domain::Stream>, Query, description = "A funding stream the service accepts"),
        ("max_price" = Option<String>, Query, description = "The cheapest option costs at most this, such as 50.00"),
        ("day" = Option<crate::domain::service::Day>, Query, description = "A day the service runs"),
        ("available_from" = Option<chrono::NaiveDate>, Query, description = "A session with a free place on this day (England) or after; with available_to, a range of at most 366 days"),
        ("available_to" = Option<chrono::NaiveDate>, Query, description = "A session with a free place on this day (England) or before, from available_from (or today)"),
        ("sort" = Option<String>, Query, description = "`relevance` (default), `distance` (needs a place) or `price`"),
        ("page" = Option<usize>, Query, description = "From 1 to 500"),
        ("per_page" = Option<usize>, Query, description = "From 1 to 100; 20 if not given"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = dto::SearchResults),
        (status = 400, body = dto::ErrorEnvelope, description = "A parameter that cannot be used, named in `field`: a malformed value, a postcode nobody can place, or one outside England (the message says which nation and what to do)"),
    )
)]
#[get("/search")]
async fn search(app: Data, viewer: MaybeAuth, query: web::Query<Vec<(String, String)>>) -> Reply {
    let params = SearchParams::parse(&query, &app.taxonomy).map_err(ApiError::bad_parameters)?;
    let options = Options {
        facets: true,
        default_radius_miles: None,
        council: find::council_of(viewer.0.as_ref()),
    };
    let found = find::search(&app, &params, options).await?;
    let r = &found.results;
    Ok(HttpResponse::Ok().json(dto::SearchResults {
        total: r.total,
        page: params.page,
        per_page: params.per_page,
        results: r
            .results
            .iter()
            .map(|h| dto::SearchHit::new(h, found.next_session(h), found.verified_by(h)))
            .collect(),
        facets: dto::Facets {
            outcomes: r.facets.outcomes.clone(),
            service_types: r.facets.service_types.clone(),
        },
    }))
}
