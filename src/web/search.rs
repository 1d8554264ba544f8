//! Search and plan matching handlers.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::Auth;
use super::{AppState, blocking};
use crate::db::budget_holders;
use crate::db::search_log::{self, LoggedSearch};
use crate::domain::budget::age_on;
use crate::domain::geo::{Coordinates, Postcode};
use crate::domain::search::{MAX_RADIUS_MILES, Origin, SearchParams};
use crate::domain::taxonomy::TermId;
use crate::domain::validate::{FieldError, Invalid};
use crate::domain::{BudgetHolderId, Pence};
use crate::search::{Hit, SearchRequest};

type Data = web::Data<AppState>;
type Reply = Result<HttpResponse, ApiError>;
type Pairs = web::Query<Vec<(String, String)>>;

/// Place a search origin; a postcode nobody can place is a 400 on `postcode`.
pub(crate) async fn locate(
    state: &AppState,
    origin: Option<&Origin>,
) -> Result<Option<(Coordinates, Option<String>)>, ApiError> {
    match origin {
        None => Ok(None),
        Some(Origin::At(at)) => Ok(Some((*at, state.geocoder.outcodes().nearest(*at).map(str::to_string)))),
        Some(Origin::Postcode(pc)) => match state.geocoder.locate(pc).await {
            Some(found) => Ok(Some((found.at, Some(pc.outcode.clone())))),
            None => Err(ApiError::bad_request(
                "invalid_parameter",
                "postcode: we cannot find where this postcode is",
                Some("postcode"),
            )),
        },
    }
}

pub async fn search(state: Data, query: Pairs) -> Reply {
    let params = SearchParams::parse(&query, &state.taxonomy).map_err(ApiError::bad_parameters)?;
    let located = locate(&state, params.origin.as_ref()).await?;
    let request = SearchRequest::from_params(&params, located.as_ref().map(|(at, _)| *at), params.radius_miles, true);
    let index = state.search.clone();
    let found = web::block(move || index.search(&request))
        .await
        .map_err(|_| ApiError::Busy)??;

    let ids = |terms: &[TermId]| terms.iter().map(|t| t.0.clone()).collect::<Vec<_>>();
    let logged = LoggedSearch {
        query_text: params.text.clone(),
        outcomes: ids(&params.outcomes),
        service_types: ids(&params.service_types),
        needs: ids(&params.needs),
        postcode_district: located.and_then(|(_, district)| district),
        radius_miles: params.radius_miles,
        age: params.age,
        result_count: found.total as i64,
    };
    // Logging must not slow the answer or fail the search.
    let db = state.db.clone();
    actix_web::rt::spawn(async move {
        let result = web::block(move || db.write(move |conn| search_log::insert(conn, &logged))).await;
        if let Ok(Err(e)) = result {
            tracing::warn!(error = %e, "search not logged");
        }
    });
    Ok(HttpResponse::Ok().json(json!({
        "total": found.total, "page": params.page, "per_page": params.per_page,
        "results": found.results, "facets": found.facets,
    })))
}

#[derive(Serialize)]
pub struct OutcomeMatches {
    pub outcome_id: i64,
    pub text: String,
    pub terms: Vec<String>,
    pub services: Vec<Hit>,
}

pub const DEFAULT_MATCH_RADIUS_MILES: f64 = 10.0;

fn match_params(pairs: &[(String, String)]) -> Result<(f64, usize), Invalid> {
    let (mut radius, mut limit) = (DEFAULT_MATCH_RADIUS_MILES, 5usize);
    for (key, value) in pairs {
        match key.as_str() {
            "radius_miles" => {
                radius = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|r: &f64| r.is_finite() && *r > 0.0 && *r <= MAX_RADIUS_MILES)
                    .ok_or_else(|| {
                        FieldError::new(
                            "radius_miles",
                            format!("must be more than 0 and at most {MAX_RADIUS_MILES}"),
                        )
                    })?
            }
            "limit" => {
                limit = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|l| (1..=20).contains(l))
                    .ok_or_else(|| FieldError::new("limit", "must be from 1 to 20"))?
            }
            other => return Err(FieldError::new(other, "is not a parameter of matches").into()),
        }
    }
    Ok((radius, limit))
}

pub async fn matches(state: Data, auth: Auth, path: web::Path<i64>, query: Pairs) -> Reply {
    let (radius, limit) = match_params(&query).map_err(ApiError::bad_parameters)?;
    let id = BudgetHolderId(path.into_inner());
    let plan = blocking(&state, move |db| {
        db.read(|conn| {
            let row = budget_holders::authorised(conn, &auth.actor, id)?;
            budget_holders::view(conn, row)
        })
    })
    .await?;
    let m = plan_matches(&state, &plan, radius, limit).await?;
    Ok(HttpResponse::Ok().json(json!({
        "budget_holder_id": plan.id,
        "radius_miles": radius,
        "age": m.age,
        "home": m.home.map(|h| json!({"postcode_district": m.district, "precision": h.precision})),
        "outcomes": m.outcomes,
    })))
}

pub struct PlanMatches {
    pub age: i32,
    pub home: Option<crate::geocode::Located>,
    pub district: String,
    pub outcomes: Vec<OutcomeMatches>,
}

/// For each of the plan's outcomes, the best services within reach of home, right for the child's
/// age and affordable from an allocation with money left; services meeting more of the plan's
/// outcomes rank first. Shared by the API and the "matches for my plan" page.
pub async fn plan_matches(
    state: &AppState,
    plan: &budget_holders::BudgetHolderView,
    radius: f64,
    limit: usize,
) -> Result<PlanMatches, ApiError> {
    let home_postcode = Postcode::parse("postcode", &plan.postcode).map_err(Invalid::from)?;
    let home = state.geocoder.locate(&home_postcode).await;
    let age = age_on(plan.date_of_birth, chrono::Utc::now().date_naive());
    let payable_from: Vec<_> = plan
        .allocations
        .iter()
        .filter(|a| a.remaining > Pence::ZERO)
        .map(|a| (a.stream, a.remaining))
        .collect();
    let plan_terms: Vec<Vec<TermId>> = plan
        .outcomes
        .iter()
        .map(|o| o.terms.iter().cloned().map(TermId).collect())
        .collect();
    // Nothing left to spend, or nowhere to measure from: no matches rather than wrong ones.
    let found = match &home {
        Some(home) if !payable_from.is_empty() => {
            let base = SearchRequest {
                origin: Some(home.at),
                radius_miles: Some(radius),
                age: Some(age),
                payable_from,
                ..SearchRequest::default()
            };
            let index = state.search.clone();
            web::block(move || index.plan_matches(&plan_terms, &base, limit))
                .await
                .map_err(|_| ApiError::Busy)??
        }
        _ => vec![Vec::new(); plan.outcomes.len()],
    };
    let outcomes = plan
        .outcomes
        .iter()
        .zip(found)
        .map(|(o, services)| OutcomeMatches {
            outcome_id: o.id.0,
            text: o.text.clone(),
            terms: o.terms.clone(),
            services,
        })
        .collect();
    Ok(PlanMatches {
        age,
        home,
        district: home_postcode.outcode,
        outcomes,
    })
}
