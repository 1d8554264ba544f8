//! Council reports: JSON, CSV, and the data behind the reports page.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ApiError;
use super::extract::{Auth, Json};
use super::{AppState, blocking};
use crate::db::{budget_holders, reports};
use crate::domain::reports::{self as rules, DEFAULT_MIN_HOLDERS, GapRow, Quarter, SpendingRow};
use crate::domain::validate::FieldError;
use crate::domain::{BudgetHolderId, CouncilId, Role};

type Data = web::Data<AppState>;
type Reply = Result<HttpResponse, ApiError>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports/gaps", web::get().to(gaps))
        .route("/reports/gaps.csv", web::get().to(gaps_csv))
        .route("/reports/spending", web::get().to(spending))
        .route("/reports/spending.csv", web::get().to(spending_csv))
        .route("/reports/providers-at-risk", web::get().to(providers_at_risk))
        .route("/reports/outcomes", web::get().to(outcomes))
        .route("/budget-holders/{id}/outcomes/{outcome_id}", web::put().to(set_outcome))
        .route("/budget-holders/{id}/quarterly-return", web::get().to(quarterly_return))
        .route(
            "/budget-holders/{id}/quarterly-return.csv",
            web::get().to(quarterly_return_csv),
        );
}

fn council_of(auth: &Auth) -> Result<CouncilId, ApiError> {
    auth.require(Role::Council)?
        .council_id
        .ok_or(ApiError::WrongRole("council user without a council"))
}

#[derive(Deserialize)]
pub struct GapQuery {
    pub area: Option<String>,
    pub outcome: Option<String>,
    pub min_holders: Option<usize>,
}

/// The gap report for a council, filtered; small areas suppressed.
pub async fn gap_rows(state: &Data, council: CouncilId, q: &GapQuery) -> Result<Vec<GapRow>, ApiError> {
    let min_holders = q.min_holders.unwrap_or(DEFAULT_MIN_HOLDERS);
    if min_holders < 2 {
        return Err(ApiError::bad_parameters(
            FieldError::new(
                "min_holders",
                "must be at least 2: smaller groups could identify a child",
            )
            .into(),
        ));
    }
    let taxonomy = state.taxonomy.clone();
    let places = Arc::clone(state.geocoder.outcodes());
    let (holders, services, unmet) = blocking(state, move |db| {
        db.read(|conn| {
            Ok((
                reports::holder_facts(conn, council, &taxonomy, &places)?,
                reports::service_facts(conn, &taxonomy)?,
                reports::unmet_searches(conn)?,
            ))
        })
    })
    .await?;
    let mut rows = web::block(move || rules::gaps(&holders, &services, &unmet, min_holders))
        .await
        .map_err(|_| ApiError::Busy)?;
    if let Some(area) = q.area.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        rows.retain(|r| r.area.eq_ignore_ascii_case(area));
    }
    if let Some(outcome) = q.outcome.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        if state.taxonomy.get(outcome).is_none() {
            return Err(ApiError::bad_parameters(
                FieldError::new("outcome", "is not a term in the taxonomy").into(),
            ));
        }
        rows.retain(|r| r.outcome == outcome);
    }
    Ok(rows)
}

async fn gaps(state: Data, auth: Auth, q: web::Query<GapQuery>) -> Reply {
    let council = council_of(&auth)?;
    let rows = gap_rows(&state, council, &q).await?;
    Ok(HttpResponse::Ok().json(json!({"min_holders": q.min_holders.unwrap_or(DEFAULT_MIN_HOLDERS), "rows": rows})))
}

fn csv_response<T: Serialize>(name: &str, rows: &[T]) -> Reply {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .map_err(|e| ApiError::bad_request("csv", e.to_string(), None))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::bad_request("csv", e.to_string(), None))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}

async fn gaps_csv(state: Data, auth: Auth, q: web::Query<GapQuery>) -> Reply {
    let council = council_of(&auth)?;
    csv_response("gaps.csv", &gap_rows(&state, council, &q).await?)
}

pub async fn spending_rows(state: &Data, council: CouncilId) -> Result<Vec<SpendingRow>, ApiError> {
    let facts = blocking(state, move |db| {
        db.read(|conn| reports::allocation_facts(conn, council))
    })
    .await?;
    let today = chrono::Utc::now().date_naive();
    Ok(facts.iter().map(|a| rules::spending(a, today)).collect())
}

async fn spending(state: Data, auth: Auth) -> Reply {
    let council = council_of(&auth)?;
    let rows = spending_rows(&state, council).await?;
    let sum = |f: fn(&SpendingRow) -> i64| crate::domain::Pence::from_stored(rows.iter().map(f).sum());
    let totals = json!({
        "allocated": sum(|r| r.allocated.pence()), "committed": sum(|r| r.committed.pence()),
        "delivered": sum(|r| r.delivered.pence()), "remaining": sum(|r| r.remaining.pence()),
    });
    Ok(HttpResponse::Ok().json(json!({"totals": totals, "allocations": rows})))
}

#[derive(Serialize)]
struct SpendingCsv<'a> {
    budget_holder_id: i64,
    reference: &'a str,
    allocation_id: i64,
    stream: &'a str,
    management: &'a str,
    allocated: String,
    committed: String,
    delivered: String,
    remaining: String,
    elapsed: f64,
    flags: String,
}

async fn spending_csv(state: Data, auth: Auth) -> Reply {
    let council = council_of(&auth)?;
    let rows = spending_rows(&state, council).await?;
    let flat: Vec<SpendingCsv> = rows
        .iter()
        .map(|r| SpendingCsv {
            budget_holder_id: r.budget_holder_id,
            reference: &r.reference,
            allocation_id: r.allocation_id,
            stream: &r.stream,
            management: r.management.as_str(),
            allocated: r.allocated.to_string(),
            committed: r.committed.to_string(),
            delivered: r.delivered.to_string(),
            remaining: r.remaining.to_string(),
            elapsed: r.elapsed,
            flags: r.flags.join(";"),
        })
        .collect();
    csv_response("spending.csv", &flat)
}

async fn providers_at_risk(state: Data, auth: Auth) -> Reply {
    council_of(&auth)?;
    let rows = blocking(&state, |db| db.read(reports::priced_below_cost)).await?;
    Ok(HttpResponse::Ok().json(json!({"priced_below_full_cost": rows})))
}

async fn outcomes(state: Data, auth: Auth) -> Reply {
    let council = council_of(&auth)?;
    let taxonomy = state.taxonomy.clone();
    let rows = blocking(&state, move |db| {
        db.read(|conn| reports::outcome_progress(conn, council, &taxonomy))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"outcomes": rows})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeStatusInput {
    status: String,
}

async fn set_outcome(
    state: Data,
    auth: Auth,
    path: web::Path<(i64, i64)>,
    Json(input): Json<OutcomeStatusInput>,
) -> Reply {
    council_of(&auth)?;
    let (holder, outcome) = path.into_inner();
    let status = input.status.trim().to_string();
    if !["not_started", "partly_met", "fully_met"].contains(&status.as_str()) {
        return Err(
            FieldError::new("status", "must be one of: not_started, partly_met, fully_met")
                .into_invalid()
                .into(),
        );
    }
    let actor = auth.actor;
    let holder = BudgetHolderId(holder);
    blocking(&state, move |db| {
        db.read(|conn| budget_holders::authorised(conn, &actor, holder))?;
        db.write(move |conn| reports::set_outcome_status(conn, holder, outcome, &status))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct QuarterQuery {
    quarter: Option<String>,
}

async fn quarterly(
    state: &Data,
    auth: Auth,
    id: i64,
    q: &QuarterQuery,
) -> Result<Vec<reports::QuarterlyReturn>, ApiError> {
    let quarter = match q.quarter.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Quarter::parse(s).ok_or_else(|| {
            ApiError::bad_parameters(FieldError::new("quarter", "must be a quarter such as 2026-Q4").into())
        })?,
        None => Quarter::containing(chrono::Utc::now().date_naive()),
    };
    let id = BudgetHolderId(id);
    let actor = auth.actor;
    blocking(state, move |db| {
        db.read(|conn| {
            budget_holders::authorised(conn, &actor, id)?;
            reports::quarterly_returns(conn, id, quarter)
        })
    })
    .await
}

async fn quarterly_return(state: Data, auth: Auth, path: web::Path<i64>, q: web::Query<QuarterQuery>) -> Reply {
    let id = path.into_inner();
    let returns = quarterly(&state, auth, id, &q).await?;
    Ok(HttpResponse::Ok().json(json!({"budget_holder_id": id, "allocations": returns})))
}

#[derive(Serialize)]
struct ReturnCsv {
    allocation_id: i64,
    stream: String,
    quarter: String,
    date: String,
    kind: String,
    description: String,
    amount: String,
}

async fn quarterly_return_csv(state: Data, auth: Auth, path: web::Path<i64>, q: web::Query<QuarterQuery>) -> Reply {
    let returns = quarterly(&state, auth, path.into_inner(), &q).await?;
    let mut flat = Vec::new();
    for r in &returns {
        let line = |date: String, kind: &str, description: &str, amount: String| ReturnCsv {
            allocation_id: r.allocation_id.0,
            stream: r.stream.clone(),
            quarter: r.quarter.clone(),
            date,
            kind: kind.to_string(),
            description: description.to_string(),
            amount,
        };
        flat.push(line(
            String::new(),
            "opening_balance",
            "Balance at the start of the quarter",
            r.opening_balance.to_string(),
        ));
        for l in &r.lines {
            flat.push(line(
                l.at.date().to_string(),
                l.kind.as_str(),
                &l.description,
                l.amount.to_string(),
            ));
        }
        flat.push(line(
            String::new(),
            "closing_balance",
            "Balance at the end of the quarter",
            r.closing_balance.to_string(),
        ));
    }
    csv_response("quarterly-return.csv", &flat)
}
