//! A council changing the plans it holds, setting up its brokers and choosing its settings.

use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, Query};
use super::{ApiError, Data, Reply, dto};
use crate::app::{councils, plan_changes};
use crate::domain::validate::{FieldError, Invalid};
use crate::domain::{AllocationId, BudgetHolderId};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(change_plan)
        .service(add_allocation)
        .service(adjust_allocation)
        .service(set_broker)
        .service(brokers)
        .service(create_broker)
        .service(settings)
        .service(change_settings);
}

/// A council corrects or renews a plan's details: the child's first name, reference, date of
/// birth, home postcode and plan dates.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), request_body = dto::PlanDetails, security(("bearer" = [])), responses((status = 200, body = dto::BudgetHolder)))]
#[put("/budget-holders/{id}")]
async fn change_plan(app: Data, auth: Auth, id: web::Path<i64>, Json(input): Json<dto::PlanDetails>) -> Reply {
    let plan = plan_changes::change_details(&app, &auth.actor, BudgetHolderId(id.into_inner()), input.into()).await?;
    Ok(HttpResponse::Ok().json(dto::BudgetHolder::from(&plan)))
}

/// A council adds an allocation for a funding stream the plan has none for (opened in the ledger).
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), request_body = dto::NewAllocation, security(("bearer" = [])), responses((status = 201, body = dto::Allocation)))]
#[post("/budget-holders/{id}/allocations")]
async fn add_allocation(app: Data, auth: Auth, id: web::Path<i64>, Json(input): Json<dto::NewAllocation>) -> Reply {
    let a = plan_changes::add_allocation(&app, &auth.actor, BudgetHolderId(id.into_inner()), input.into()).await?;
    Ok(HttpResponse::Created().json(dto::Allocation::from(&a)))
}

/// A council changes an allocation's amount: one ledger entry with the reason. Below what is
/// committed is refused with 409 `below_committed` naming `amount`.
#[utoipa::path(
    tag = "plans",
    params(("id" = i64, Path), ("allocation_id" = i64, Path)),
    request_body = dto::Adjustment,
    security(("bearer" = [])),
    responses((status = 201, body = dto::Allocation))
)]
#[post("/budget-holders/{id}/allocations/{allocation_id}/adjustments")]
async fn adjust_allocation(
    app: Data,
    auth: Auth,
    path: web::Path<(i64, i64)>,
    Json(input): Json<dto::Adjustment>,
) -> Reply {
    let (id, allocation) = path.into_inner();
    let a = plan_changes::adjust(
        &app,
        &auth.actor,
        BudgetHolderId(id),
        AllocationId(allocation),
        input.into(),
    )
    .await?;
    Ok(HttpResponse::Created().json(dto::Allocation::from(&a)))
}

/// A council gives a plan to one of its broker organisations, or to none.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), request_body = dto::BrokerChange, security(("bearer" = [])), responses((status = 200, body = dto::BudgetHolder)))]
#[put("/budget-holders/{id}/broker")]
async fn set_broker(app: Data, auth: Auth, id: web::Path<i64>, Json(input): Json<dto::BrokerChange>) -> Reply {
    let id = BudgetHolderId(id.into_inner());
    let plan = plan_changes::set_broker(&app, &auth.actor, id, input.broker_organisation_id).await?;
    Ok(HttpResponse::Ok().json(dto::BudgetHolder::from(&plan)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Paging {
    /// From 1; 1 if not given.
    page: Option<u32>,
    /// From 1 to 100; 20 if not given.
    per_page: Option<u32>,
}

impl Paging {
    fn checked(&self) -> Result<(u32, u32), ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        let mut problems = Vec::new();
        if page == 0 {
            problems.push(FieldError::new("page", "must be 1 or more"));
        }
        if !(1..=100).contains(&per_page) {
            problems.push(FieldError::new("per_page", "must be from 1 to 100"));
        }
        if problems.is_empty() {
            Ok((page, per_page))
        } else {
            Err(ApiError::bad_parameters(Invalid(problems)))
        }
    }
}

/// The broker organisations the council set up, by name.
#[utoipa::path(tag = "council", params(Paging), security(("bearer" = [])), responses((status = 200, body = dto::BrokerList)))]
#[get("/council/brokers")]
async fn brokers(app: Data, auth: Auth, paging: Query<Paging>) -> Reply {
    let (page, per_page) = paging.checked()?;
    let all = councils::brokers(&app, &auth.actor).await?;
    let skip = (page as usize - 1) * per_page as usize;
    Ok(HttpResponse::Ok().json(dto::BrokerList {
        brokers: all.iter().skip(skip).take(per_page as usize).map(Into::into).collect(),
        page,
        per_page,
        total: all.len() as u64,
    }))
}

/// A council sets up a broker organisation and its first login.
#[utoipa::path(tag = "council", request_body = dto::NewBroker, security(("bearer" = [])), responses((status = 201, body = dto::Registered)))]
#[post("/council/brokers")]
async fn create_broker(app: Data, auth: Auth, Json(input): Json<dto::NewBroker>) -> Reply {
    let (organisation_id, user_id) = councils::create_broker(&app, &auth.actor, input.into()).await?;
    Ok(HttpResponse::Created().json(dto::Registered {
        organisation_id,
        user_id,
    }))
}

/// The council's settings.
#[utoipa::path(tag = "council", security(("bearer" = [])), responses((status = 200, body = dto::CouncilSettings)))]
#[get("/council/settings")]
async fn settings(app: Data, auth: Auth) -> Reply {
    let s = councils::settings(&app, &auth.actor).await?;
    Ok(HttpResponse::Ok().json(dto::CouncilSettings::from(s)))
}

/// A council changes its settings; a setting left out keeps its value.
#[utoipa::path(tag = "council", request_body = dto::CouncilSettings, security(("bearer" = [])), responses((status = 200, body = dto::CouncilSettings)))]
#[put("/council/settings")]
async fn change_settings(app: Data, auth: Auth, Json(input): Json<dto::CouncilSettings>) -> Reply {
    let s = councils::change_settings(&app, &auth.actor, input.into()).await?;
    Ok(HttpResponse::Ok().json(dto::CouncilSettings::from(s)))
}
