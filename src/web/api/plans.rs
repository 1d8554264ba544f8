//! Budget holders: the plan, its allocations, its statement, its quarterly return, its matches.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, Query};
use super::{ApiError, Data, Reply, dto};
use crate::app::plans::{self, DEFAULT_MATCH_LIMIT, DEFAULT_MATCH_RADIUS_MILES};
use crate::app::records;
use crate::app::reports::{self, Csv};
use crate::domain::budget::OutcomeStatus;
use crate::domain::reports::Quarter;
use crate::domain::search::MAX_RADIUS_MILES;
use crate::domain::validate::{FieldError, Invalid};
use crate::domain::{BudgetHolderId, PlanOutcomeId};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(statement)
        .service(matches)
        .service(set_outcome)
        .service(quarterly_return)
        .service(quarterly_return_csv)
        .service(access_log)
        .service(erase)
        .service(plan_links)
        .service(accept_plan_link)
        .service(decline_plan_link);
}

/// Who read or changed the plan, other than its family: for its council and its family, newest first.
#[utoipa::path(tag = "plans", params(("id" = i64, Path), dto::Paging), security(("bearer" = [])), responses((status = 200, body = dto::AccessLog)))]
#[get("/budget-holders/{id}/access-log")]
async fn access_log(app: Data, auth: Auth, id: web::Path<i64>, paging: Query<dto::Paging>) -> Reply {
    let id = BudgetHolderId(id.into_inner());
    let page = records::access_log(&app, &auth.actor, id, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(dto::AccessLog::from(&page)))
}

/// The council erases a budget holder once the plan's retention period is over: the personal
/// fields go, the allocations and ledger stay. 409 `retention_not_over` or `already_erased`.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::BudgetHolder)))]
#[post("/budget-holders/{id}/erase")]
async fn erase(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let plan = records::erase(&app, &auth.actor, BudgetHolderId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::BudgetHolder::from(&plan)))
}

/// A council records a plan: the child, the family's login, Section E outcomes, Section J allocations.
/// An email whose family account another council made is answered as a new login would be; that
/// family sees nothing of the plan until it accepts it (`/me/plan-links`), and the password given
/// is set on no existing account.
#[utoipa::path(tag = "plans", request_body = dto::NewBudgetHolder, security(("bearer" = [])), responses((status = 201, body = dto::CreatedBudgetHolder)))]
#[post("/budget-holders")]
async fn create(app: Data, auth: Auth, Json(input): Json<dto::NewBudgetHolder>) -> Reply {
    let created = plans::create(&app, &auth.actor, input.into()).await?;
    Ok(HttpResponse::Created().json(dto::CreatedBudgetHolder::from(&created)))
}

/// The plans the caller may see: a family's own, a broker's families', a council's area.
#[utoipa::path(tag = "plans", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = dto::BudgetHolderList)))]
#[get("/budget-holders")]
async fn list(app: Data, auth: Auth, paging: Query<dto::Paging>) -> Reply {
    let page = plans::list(&app, &auth.actor, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(dto::BudgetHolderList::from(&page)))
}

/// One plan: outcomes and allocations with what is committed and what remains.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = dto::BudgetHolder)))]
#[get("/budget-holders/{id}")]
async fn get_one(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let plan = plans::get(&app, &auth.actor, BudgetHolderId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(dto::BudgetHolder::from(&plan)))
}

/// The movements of the plan's money, oldest first, with running balances; a page at a time.
#[utoipa::path(tag = "plans", params(("id" = i64, Path), dto::Paging), security(("bearer" = [])), responses((status = 200, body = dto::Statement)))]
#[get("/budget-holders/{id}/statement")]
async fn statement(app: Data, auth: Auth, id: web::Path<i64>, paging: Query<dto::Paging>) -> Reply {
    let s = plans::statement(&app, &auth.actor, BudgetHolderId(id.into_inner()), paging.request()?).await?;
    Ok(HttpResponse::Ok().json(dto::Statement::from(&s)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct MatchQuery {
    /// How far from home, more than 0 and at most 200; 10 if not given.
    radius_miles: Option<f64>,
    /// Services per outcome, 1 to 20; 5 if not given.
    limit: Option<usize>,
}

impl MatchQuery {
    fn checked(&self) -> Result<(f64, usize), Invalid> {
        let radius = self.radius_miles.unwrap_or(DEFAULT_MATCH_RADIUS_MILES);
        if !(radius.is_finite() && radius > 0.0 && radius <= MAX_RADIUS_MILES) {
            return Err(FieldError::new(
                "radius_miles",
                format!("must be more than 0 and at most {MAX_RADIUS_MILES}"),
            )
            .into());
        }
        let limit = self.limit.unwrap_or(DEFAULT_MATCH_LIMIT);
        if !(1..=20).contains(&limit) {
            return Err(FieldError::new("limit", "must be from 1 to 20").into());
        }
        Ok((radius, limit))
    }
}

/// Per plan outcome, the services near home, right for the child's age and affordable from an
/// allocation with money left; services meeting more of the plan's outcomes first.
#[utoipa::path(tag = "plans", params(("id" = i64, Path), MatchQuery), security(("bearer" = [])), responses((status = 200, body = dto::Matches)))]
#[get("/budget-holders/{id}/matches")]
async fn matches(app: Data, auth: Auth, id: web::Path<i64>, query: Query<MatchQuery>) -> Reply {
    let (radius, limit) = query.checked().map_err(ApiError::bad_parameters)?;
    let m = plans::matches(&app, &auth.actor, BudgetHolderId(id.into_inner()), radius, limit).await?;
    Ok(HttpResponse::Ok().json(dto::Matches::from(&m)))
}

/// A council records how far a plan outcome is met.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path), ("outcome_id" = i64, Path)),
    request_body = dto::OutcomeStatusChange,
    security(("bearer" = [])),
    responses((status = 204, description = "Recorded"))
)]
#[put("/budget-holders/{id}/outcomes/{outcome_id}")]
async fn set_outcome(
    app: Data,
    auth: Auth,
    path: web::Path<(i64, i64)>,
    Json(input): Json<dto::OutcomeStatusChange>,
) -> Reply {
    let (holder, outcome) = path.into_inner();
    let status: OutcomeStatus = input
        .status
        .trim()
        .parse()
        .map_err(|m: String| Invalid::one("status", m))?;
    plans::set_outcome_status(
        &app,
        &auth.actor,
        BudgetHolderId(holder),
        PlanOutcomeId(outcome),
        status,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct QuarterQuery {
    /// Such as `2026-Q4`; the current quarter if not given.
    quarter: Option<String>,
}

impl QuarterQuery {
    fn quarter(&self) -> Result<Quarter, ApiError> {
        match self.quarter.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Quarter::parse(s).ok_or_else(|| {
                ApiError::bad_parameters(FieldError::new("quarter", "must be a quarter such as 2026-Q4").into())
            }),
            None => Ok(Quarter::containing(crate::app::App::today())),
        }
    }
}

async fn quarterly(
    app: &Data,
    auth: &Auth,
    id: i64,
    q: &QuarterQuery,
) -> Result<Vec<crate::db::reports::QuarterlyReturn>, ApiError> {
    let quarter = q.quarter()?;
    Ok(plans::quarterly_returns(app, &auth.actor, BudgetHolderId(id), quarter).await?)
}

/// The quarterly return, straight from the ledger: opening balance, money in, spent, refunded,
/// admin fees, closing balance and every line.
#[utoipa::path(tag = "plans", params(("id" = i64, Path), QuarterQuery), security(("bearer" = [])), responses((status = 200, body = dto::QuarterlyReturnReport)))]
#[get("/budget-holders/{id}/quarterly-return")]
async fn quarterly_return(app: Data, auth: Auth, id: web::Path<i64>, q: Query<QuarterQuery>) -> Reply {
    let id = id.into_inner();
    let returns = quarterly(&app, &auth, id, &q).await?;
    Ok(HttpResponse::Ok().json(dto::QuarterlyReturnReport {
        budget_holder_id: BudgetHolderId(id),
        allocations: returns.iter().map(Into::into).collect(),
    }))
}

/// The quarterly return as CSV.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path), QuarterQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "One line per ledger entry", content_type = "text/csv"))
)]
#[get("/budget-holders/{id}/quarterly-return.csv")]
async fn quarterly_return_csv(app: Data, auth: Auth, id: web::Path<i64>, q: Query<QuarterQuery>) -> Reply {
    let returns = quarterly(&app, &auth, id.into_inner(), &q).await?;
    Ok(csv_response(reports::quarterly_csv(&returns)?))
}

/// A CSV download.
pub fn csv_response(csv: Csv) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", csv.filename),
        ))
        .body(csv.bytes)
}

/// The plans other councils added for the calling family, waiting for its answer, oldest first:
/// each council's name and when (nothing of the plan until it is accepted).
#[utoipa::path(tag = "plans", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = dto::PlanLinks)))]
#[get("/me/plan-links")]
async fn plan_links(app: Data, auth: Auth, paging: Query<dto::Paging>) -> Reply {
    let page = crate::app::plan_links::pending(&app, &auth.actor, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(dto::PlanLinks::from(&page)))
}

async fn decide(app: Data, auth: Auth, id: i64, accept: bool) -> Reply {
    let holder = crate::app::plan_links::decide(&app, &auth.actor, id, accept).await?;
    Ok(HttpResponse::Ok().json(dto::PlanLinkDecision {
        id,
        status: if accept { "accepted" } else { "declined" }.to_string(),
        budget_holder_id: holder,
    }))
}

/// The family accepts a plan another council added: it joins the family's plans like any other.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = dto::PlanLinkDecision),
        (status = 404, body = dto::ErrorEnvelope, description = "Not the family's link, or already answered"),
    )
)]
#[post("/me/plan-links/{id}/accept")]
async fn accept_plan_link(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    decide(app, auth, id.into_inner(), true).await
}

/// The family declines a plan another council added: it never sees it.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = dto::PlanLinkDecision),
        (status = 404, body = dto::ErrorEnvelope, description = "Not the family's link, or already answered"),
    )
)]
#[post("/me/plan-links/{id}/decline")]
async fn decline_plan_link(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    decide(app, auth, id.into_inner(), false).await
}
