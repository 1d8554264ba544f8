//! The council's reports, as JSON and CSV.

use actix_web::{HttpResponse, get};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Query};
use super::plans::csv_response;
use super::{Data, Reply, dto};
use crate::app::AppError;
use crate::app::reports::{self, GapFilter};
use crate::domain::paging::PageRequest;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(gaps)
        .service(gaps_csv)
        .service(spending)
        .service(spending_csv)
        .service(providers_at_risk)
        .service(providers_at_risk_csv)
        .service(outcomes)
        .service(outcomes_csv);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapQuery {
    /// A postcode district such as SW19, `OTHER` or `ALL`.
    area: Option<String>,
    /// An outcome term id.
    outcome: Option<String>,
    /// Areas with fewer budget holders are pooled into `OTHER` and withheld; at least 2, 5 if not given.
    min_holders: Option<usize>,
    /// The page, from 1; 1 if not given (the CSV holds every row).
    page: Option<u32>,
    /// Rows per page, 1 to 200; 50 if not given.
    per_page: Option<u32>,
}

impl From<&GapQuery> for GapFilter {
    fn from(q: &GapQuery) -> GapFilter {
        GapFilter {
            area: q.area.clone(),
            outcome: q.outcome.clone(),
            min_holders: q.min_holders,
        }
    }
}

/// Where the market fails: per outcome and postcode district, demand (families and their
/// budgets, searches that found nothing) against supply (services, places, prices), worst first.
#[utoipa::path(tag = "reports", params(GapQuery), security(("bearer" = [])), responses((status = 200, body = dto::GapReport)))]
#[get("/reports/gaps")]
async fn gaps(app: Data, auth: Auth, q: Query<GapQuery>) -> Reply {
    let filter = GapFilter::from(&*q);
    let page = PageRequest::new(q.page, q.per_page).map_err(AppError::bad_parameters)?;
    let rows = reports::gaps(&app, &auth.actor, &filter, page).await?;
    Ok(HttpResponse::Ok().json(dto::GapReport::new(filter.min_holders(), &rows)))
}

/// The gap report as CSV.
#[utoipa::path(tag = "reports", params(GapQuery), security(("bearer" = [])), responses((status = 200, description = "One line per outcome and area", content_type = "text/csv")))]
#[get("/reports/gaps.csv")]
async fn gaps_csv(app: Data, auth: Auth, q: Query<GapQuery>) -> Reply {
    Ok(csv_response(
        reports::gaps_csv(&app, &auth.actor, &GapFilter::from(&*q)).await?,
    ))
}

/// Every allocation: allocated, committed, delivered, remaining, plan elapsed, and flags
/// (`underused`, `six_week_review_due`, `direct_payment_surplus`); a page at a time, with totals
/// over them all.
#[utoipa::path(tag = "reports", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = dto::SpendingReport)))]
#[get("/reports/spending")]
async fn spending(app: Data, auth: Auth, paging: Query<dto::Paging>) -> Reply {
    let report = reports::spending(&app, &auth.actor, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(dto::SpendingReport::from(&report)))
}

/// The spending report as CSV.
#[utoipa::path(tag = "reports", security(("bearer" = [])), responses((status = 200, description = "One line per allocation", content_type = "text/csv")))]
#[get("/reports/spending.csv")]
async fn spending_csv(app: Data, auth: Auth) -> Reply {
    Ok(csv_response(reports::spending_csv(&app, &auth.actor).await?))
}

/// Published price options below the provider's own stated full cost.
#[utoipa::path(tag = "reports", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = dto::ProvidersAtRisk)))]
#[get("/reports/providers-at-risk")]
async fn providers_at_risk(app: Data, auth: Auth, paging: Query<dto::Paging>) -> Reply {
    let page = reports::providers_at_risk(&app, &auth.actor, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(dto::ProvidersAtRisk::from(&page)))
}

/// Plan outcomes with their status and the bookings that served them.
#[utoipa::path(tag = "reports", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = dto::OutcomeReport)))]
#[get("/reports/outcomes")]
async fn outcomes(app: Data, auth: Auth, paging: Query<dto::Paging>) -> Reply {
    let page = reports::outcomes(&app, &auth.actor, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(dto::OutcomeReport::from(&page)))
}

/// Providers at risk as CSV (a header row even when none is at risk).
#[utoipa::path(tag = "reports", security(("bearer" = [])), responses((status = 200, description = "One line per price option below its provider's full cost", content_type = "text/csv")))]
#[get("/reports/providers-at-risk.csv")]
async fn providers_at_risk_csv(app: Data, auth: Auth) -> Reply {
    Ok(csv_response(reports::providers_at_risk_csv(&app, &auth.actor).await?))
}

/// Plan outcomes as CSV, by plan reference and without the outcome's own wording.
#[utoipa::path(tag = "reports", security(("bearer" = [])), responses((status = 200, description = "One line per plan outcome", content_type = "text/csv")))]
#[get("/reports/outcomes.csv")]
async fn outcomes_csv(app: Data, auth: Auth) -> Reply {
    Ok(csv_response(reports::outcomes_csv(&app, &auth.actor).await?))
}
