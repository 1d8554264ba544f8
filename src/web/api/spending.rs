//! The API's spending routes: direct-payment spending and receipts, the council's audit, the
//! surplus test and recoveries.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, Query};
use super::{ApiError, Data, Reply, dto};
use crate::app::direct_payments::{self as dp, Account};
use crate::db::direct_payments::{DirectPaymentQuarter, PaidIn, SpendingRow};
use crate::domain::paging::Page;
use crate::domain::spending::{PaymentSchedule, SpendingStatus};
use crate::domain::validate::Invalid;
use crate::domain::{AllocationId, BudgetHolderId, Pence, SpendingId, Stream};
use crate::web::multipart::{Unreadable, read_spending};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(record)
        .service(list)
        .service(receipt)
        .service(queue)
        .service(accept)
        .service(query)
        .service(answer)
        .service(surplus_test)
        .service(recover);
}

/// Direct-payment spending as the family and its council see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Spending {
    pub id: SpendingId,
    pub budget_holder_id: BudgetHolderId,
    pub allocation_id: AllocationId,
    pub payee: String,
    pub spent_on: NaiveDate,
    pub amount: Pence,
    /// What it was for.
    pub description: String,
    pub plan_outcome_id: Option<i64>,
    pub status: SpendingStatus,
    /// The council's question, when it queried the spending.
    pub query: Option<String>,
    /// The family's answer.
    pub answer: Option<String>,
    /// Where the receipt is served, when there is one.
    pub receipt_url: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl From<&SpendingRow> for Spending {
    fn from(s: &SpendingRow) -> Spending {
        Spending {
            id: s.id(),
            budget_holder_id: BudgetHolderId(s.budget_holder_id),
            allocation_id: AllocationId(s.allocation_id),
            payee: s.payee.clone(),
            spent_on: s.spent_on,
            amount: s.amount(),
            description: s.description.clone(),
            plan_outcome_id: s.plan_outcome_id,
            status: s.status(),
            query: s.query.clone(),
            answer: s.answer.clone(),
            receipt_url: s
                .receipt_hash
                .as_ref()
                .map(|_| format!("/api/v1/spending/{}/receipt", s.id)),
            recorded_at: s.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpendingList {
    pub spending: Vec<Spending>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl From<&Page<SpendingRow>> for SpendingList {
    fn from(p: &Page<SpendingRow>) -> SpendingList {
        SpendingList {
            spending: p.items.iter().map(Into::into).collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

/// The multipart fields of a spending record (the API documents it; the body is multipart).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct NewSpending {
    /// Needed only when the plan has several direct payments.
    #[schema(required = false)]
    allocation_id: Option<i64>,
    payee: String,
    /// Not in the future, within the plan.
    spent_on: NaiveDate,
    /// Such as "12.50".
    amount: String,
    /// What it was for.
    description: String,
    /// The plan outcome it served.
    #[schema(required = false)]
    plan_outcome_id: Option<i64>,
    /// A PDF or photo, at most 5 MB; needed over 5.00.
    #[schema(value_type = Option<String>, format = Binary, required = false)]
    receipt: Option<Vec<u8>>,
}

/// The family records spending from its direct payment (multipart/form-data). The council's
/// audit rule decides whether it is accepted at once or waits in its review queue. 409
/// `insufficient_funds` naming `amount` when not that much is left; a receipt that is not a PDF or
/// photo by its content, or over 5 MB, is 422 naming `receipt`.
#[utoipa::path(
    tag = "direct payments",
    params(("id" = i64, Path)),
    request_body(content = NewSpending, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses((status = 201, body = Spending))
)]
#[post("/budget-holders/{id}/spending")]
async fn record(app: Data, auth: Auth, id: web::Path<i64>, req: HttpRequest, payload: web::Payload) -> Reply {
    let (input, extra) = read_spending(&req, payload).await.map_err(|e| match e {
        Unreadable::Invalid(invalid) => ApiError::from(invalid),
        Unreadable::Body(message) => ApiError::bad_request("unreadable_body", message, None),
    })?;
    if let Some((name, _)) = extra.first() {
        return Err(Invalid::one(name.clone(), "is not a field of a spending record").into());
    }
    let spending = dp::record_spending(&app, &auth.actor, BudgetHolderId(id.into_inner()), input).await?;
    Ok(HttpResponse::Created().json(Spending::from(&spending)))
}

/// The plan's direct-payment spending, newest first: for the family and its council.
#[utoipa::path(tag = "direct payments", params(("id" = i64, Path), dto::Paging), security(("bearer" = [])), responses((status = 200, body = SpendingList)))]
#[get("/budget-holders/{id}/spending")]
async fn list(app: Data, auth: Auth, id: web::Path<i64>, paging: Query<dto::Paging>) -> Reply {
    let page = dp::spending_of(&app, &auth.actor, BudgetHolderId(id.into_inner()), paging.request()?).await?;
    Ok(HttpResponse::Ok().json(SpendingList::from(&page)))
}

/// A spending's receipt, as a download of its stored type (PDF or image), never shown in the page.
#[utoipa::path(
    tag = "direct payments",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The receipt", content_type = "application/octet-stream"))
)]
#[get("/spending/{id}/receipt")]
async fn receipt(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let (kind, bytes) = dp::receipt(&app, &auth.actor, SpendingId(id.into_inner())).await?;
    Ok(receipt_response(&kind, bytes))
}

/// A stored receipt as a download the browser will not run (shared with the pages).
pub(crate) fn receipt_response(kind: &str, bytes: Vec<u8>) -> HttpResponse {
    let extension = if kind == "application/pdf" {
        "pdf"
    } else {
        kind.trim_start_matches("image/")
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, kind.to_string()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"receipt.{extension}\""),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct QueueQuery {
    /// `in_review` (the default) or `queried`.
    status: Option<SpendingStatus>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The council's audit queue: its area's spending in review (or queried), oldest first.
#[utoipa::path(tag = "direct payments", params(QueueQuery), security(("bearer" = [])), responses((status = 200, body = SpendingList)))]
#[get("/spending")]
async fn queue(app: Data, auth: Auth, q: Query<QueueQuery>) -> Reply {
    let paging = dto::Paging {
        page: q.page,
        per_page: q.per_page,
    };
    let status = q.status.unwrap_or(SpendingStatus::InReview);
    let page = dp::audit_queue(&app, &auth.actor, status, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(SpendingList::from(&page)))
}

/// The council accepts spending in review or queried: it is spent. 409 `wrong_status` otherwise.
#[utoipa::path(tag = "direct payments", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = Spending)))]
#[post("/spending/{id}/accept")]
async fn accept(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let spending = dp::accept(&app, &auth.actor, SpendingId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(Spending::from(&spending)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendingQuestion {
    pub question: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendingAnswer {
    pub answer: String,
}

/// The council asks the family about spending in review. 409 `wrong_status` otherwise.
#[utoipa::path(tag = "direct payments", params(("id" = i64, Path)), request_body = SpendingQuestion, security(("bearer" = [])), responses((status = 200, body = Spending)))]
#[post("/spending/{id}/query")]
async fn query(app: Data, auth: Auth, id: web::Path<i64>, Json(body): Json<SpendingQuestion>) -> Reply {
    let spending = dp::query(&app, &auth.actor, SpendingId(id.into_inner()), &body.question).await?;
    Ok(HttpResponse::Ok().json(Spending::from(&spending)))
}

/// The family answers the council's question: the spending goes back to review.
#[utoipa::path(tag = "direct payments", params(("id" = i64, Path)), request_body = SpendingAnswer, security(("bearer" = [])), responses((status = 200, body = Spending)))]
#[post("/spending/{id}/answer")]
async fn answer(app: Data, auth: Auth, id: web::Path<i64>, Json(body): Json<SpendingAnswer>) -> Reply {
    let spending = dp::answer(&app, &auth.actor, SpendingId(id.into_inner()), &body.answer).await?;
    Ok(HttpResponse::Ok().json(Spending::from(&spending)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentIn {
    /// From 1.
    pub instalment: i32,
    pub due_on: NaiveDate,
    pub amount: Pence,
}

impl From<&PaidIn> for PaymentIn {
    fn from(p: &PaidIn) -> PaymentIn {
        PaymentIn {
            instalment: p.instalment + 1,
            due_on: p.due_on,
            amount: p.amount,
        }
    }
}

/// One direct payment's account and its six-week surplus test.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectPaymentAccount {
    pub allocation_id: AllocationId,
    pub stream: Stream,
    pub payment_schedule: PaymentSchedule,
    /// Instalments over the whole plan.
    pub instalments: usize,
    pub payments_in: Vec<PaymentIn>,
    pub recovered: Pence,
    /// Paid in, less what was reclaimed.
    pub paid_in: Pence,
    /// Spending recorded (any status) and invoices the family paid.
    pub spent: Pence,
    pub balance: Pence,
    /// Six weeks' worth of the allocation.
    pub allowed: Pence,
    /// What may be reclaimed.
    pub surplus: Pence,
}

impl From<&Account> for DirectPaymentAccount {
    fn from(a: &Account) -> DirectPaymentAccount {
        DirectPaymentAccount {
            allocation_id: a.allocation_id,
            stream: a.stream,
            payment_schedule: a.schedule,
            instalments: a.instalments,
            payments_in: a.paid_in.iter().map(PaymentIn::from).collect(),
            recovered: a.recovered,
            paid_in: a.test.paid_in,
            spent: a.test.spent,
            balance: a.test.balance,
            allowed: a.test.allowed,
            surplus: a.test.surplus,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurplusReport {
    pub budget_holder_id: BudgetHolderId,
    pub accounts: Vec<DirectPaymentAccount>,
}

/// Each direct payment's account today and the six-week surplus test: for the council and family.
#[utoipa::path(tag = "direct payments", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = SurplusReport)))]
#[get("/budget-holders/{id}/surplus-test")]
async fn surplus_test(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let id = BudgetHolderId(id.into_inner());
    let accounts = dp::surplus(&app, &auth.actor, id).await?;
    Ok(HttpResponse::Ok().json(SurplusReport {
        budget_holder_id: id,
        accounts: accounts.iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecovery {
    pub allocation_id: AllocationId,
    pub amount: Pence,
    pub reason: String,
}

/// The council reclaims money from a direct-payment account, at most the surplus (409
/// `above_surplus` naming `amount`): the allocation and the account shrink alike.
#[utoipa::path(tag = "direct payments", params(("id" = i64, Path)), request_body = NewRecovery, security(("bearer" = [])), responses((status = 201, body = DirectPaymentAccount)))]
#[post("/budget-holders/{id}/recoveries")]
async fn recover(app: Data, auth: Auth, id: web::Path<i64>, Json(body): Json<NewRecovery>) -> Reply {
    let holder = BudgetHolderId(id.into_inner());
    let account = dp::recover(&app, &auth.actor, holder, body.allocation_id, body.amount, &body.reason).await?;
    Ok(HttpResponse::Created().json(DirectPaymentAccount::from(&account)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePaid {
    pub invoice_id: i64,
    pub paid_on: Option<NaiveDate>,
    /// Its lines for this allocation, less credit notes.
    pub amount: Pence,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarterSpending {
    pub id: SpendingId,
    pub payee: String,
    pub spent_on: NaiveDate,
    pub amount: Pence,
    /// What it was for.
    pub description: String,
    /// The plan outcome it served, in the plan's words.
    pub outcome: Option<String>,
    pub status: SpendingStatus,
    pub has_receipt: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarterSurplus {
    pub paid_in: Pence,
    pub spent: Pence,
    pub balance: Pence,
    pub allowed: Pence,
    pub surplus: Pence,
}

/// A direct payment's part of the quarterly return.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectPaymentReturn {
    pub payments_in: Vec<PaymentIn>,
    pub invoices_paid: Vec<InvoicePaid>,
    pub spending: Vec<QuarterSpending>,
    /// At the quarter's end.
    pub surplus_test: QuarterSurplus,
}

impl From<&DirectPaymentQuarter> for DirectPaymentReturn {
    fn from(q: &DirectPaymentQuarter) -> DirectPaymentReturn {
        let t = &q.surplus_test;
        DirectPaymentReturn {
            payments_in: q.payments_in.iter().map(PaymentIn::from).collect(),
            invoices_paid: q
                .invoices_paid
                .iter()
                .map(|i| InvoicePaid {
                    invoice_id: i.invoice_id,
                    paid_on: i.paid_on,
                    amount: i.amount,
                })
                .collect(),
            spending: q
                .spending
                .iter()
                .map(|(s, outcome)| QuarterSpending {
                    id: s.id(),
                    payee: s.payee.clone(),
                    spent_on: s.spent_on,
                    amount: s.amount(),
                    description: s.description.clone(),
                    outcome: outcome.clone(),
                    status: s.status(),
                    has_receipt: s.receipt_hash.is_some(),
                })
                .collect(),
            surplus_test: QuarterSurplus {
                paid_in: t.paid_in,
                spent: t.spent,
                balance: t.balance,
                allowed: t.allowed,
                surplus: t.surplus,
            },
        }
    }
}
