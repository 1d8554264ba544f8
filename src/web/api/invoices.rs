//! The API's invoices routes: drafting from delivered sessions, issuing, the payer's answer,
//! payment, credit notes, and the PDF and CSV downloads.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, Query};
use super::plans::csv_response;
use super::{Data, Reply, dto};
use crate::app::invoices::{self, CreditLineInput};
use crate::db::invoices::{CreditNoteView, InvoiceView, LineView};
use crate::domain::invoice::{InvoiceStatus, Payer};
use crate::domain::paging::Page;
use crate::domain::{
    AllocationId, BookingId, BudgetHolderId, CreditNoteId, InvoiceId, InvoiceLineId, OrganisationId, PaymentRunId,
    Pence, SessionId,
};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(pdf)
        .service(lines_csv)
        .service(one)
        .service(draft)
        .service(notes)
        .service(remove)
        .service(issue)
        .service(approve)
        .service(dispute)
        .service(paid)
        .service(credit);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLine {
    pub id: InvoiceLineId,
    pub booking_id: BookingId,
    /// The session delivered; none for a booking bought by quantity.
    pub session_id: Option<SessionId>,
    pub allocation_id: AllocationId,
    pub delivered_on: NaiveDate,
    pub description: String,
    pub quantity: i64,
    pub unit_price: Pence,
    pub amount: Pence,
    /// How much of it credit notes have taken off.
    pub credited: Pence,
}

impl From<&LineView> for InvoiceLine {
    fn from(l: &LineView) -> InvoiceLine {
        InvoiceLine {
            id: l.id,
            booking_id: l.booking_id,
            session_id: l.session_id,
            allocation_id: l.allocation_id,
            delivered_on: l.delivered_on,
            description: l.description.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            amount: l.amount,
            credited: l.credited,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNoteLine {
    pub line_id: InvoiceLineId,
    pub amount: Pence,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNote {
    pub id: CreditNoteId,
    /// CN-000001: gap-free per provider.
    pub number: String,
    pub reason: String,
    pub total: Pence,
    /// The VAT the credit contains, at the invoice's rate.
    pub vat: Pence,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<CreditNoteLine>,
}

impl From<&CreditNoteView> for CreditNote {
    fn from(n: &CreditNoteView) -> CreditNote {
        CreditNote {
            id: n.id,
            number: n.number.clone(),
            reason: n.reason.clone(),
            total: n.total,
            vat: n.vat,
            created_at: n.created_at.and_utc(),
            lines: n
                .lines
                .iter()
                .map(|(line_id, amount)| CreditNoteLine {
                    line_id: *line_id,
                    amount: *amount,
                })
                .collect(),
        }
    }
}

/// An invoice. Lines and credit notes are given on one invoice, not in lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invoice {
    pub id: InvoiceId,
    /// INV-000001, gap-free per provider; none while a draft.
    pub number: Option<String>,
    pub status: InvoiceStatus,
    pub provider_id: OrganisationId,
    pub provider_name: String,
    pub budget_holder_id: BudgetHolderId,
    /// The plan's reference, by which the payer knows the child.
    pub child_reference: String,
    pub payer: Payer,
    pub payer_name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub issued_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    /// Total less the VAT it contains.
    pub net: Pence,
    pub vat: Pence,
    /// What the lines add up to (prices include any VAT).
    pub total: Pence,
    pub credited: Pence,
    /// Total less credit notes: what the payer owes.
    pub owed: Pence,
    pub vat_number: Option<String>,
    /// The VAT rate in basis points (2000 = 20%); 0 when not registered.
    pub vat_rate_bp: i32,
    pub notes: String,
    pub dispute_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub paid_on: Option<NaiveDate>,
    pub paid_reference: Option<String>,
    pub payment_run_id: Option<PaymentRunId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub lines: Vec<InvoiceLine>,
    pub credit_notes: Vec<CreditNote>,
}

impl From<&InvoiceView> for Invoice {
    fn from(i: &InvoiceView) -> Invoice {
        Invoice {
            id: i.id,
            number: i.number_text(),
            status: i.status,
            provider_id: i.provider,
            provider_name: i.provider_name.clone(),
            budget_holder_id: i.budget_holder_id,
            child_reference: i.child_reference.clone(),
            payer: i.payer,
            payer_name: i.payer_name.clone(),
            period_start: i.period_start,
            period_end: i.period_end,
            issued_on: i.issued_on,
            due_on: i.due_on,
            net: i.net,
            vat: i.vat,
            total: i.total,
            credited: i.credited,
            owed: i.owed(),
            vat_number: i.vat_number.clone(),
            vat_rate_bp: i.vat_rate_bp,
            notes: i.notes.clone(),
            dispute_reason: i.dispute_reason.clone(),
            decided_at: i.decided_at.map(|d| d.and_utc()),
            paid_on: i.paid_on,
            paid_reference: i.paid_reference.clone(),
            payment_run_id: i.payment_run_id,
            created_at: i.created_at.and_utc(),
            updated_at: i.updated_at.and_utc(),
            lines: i.lines.iter().map(Into::into).collect(),
            credit_notes: i.credit_notes.iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceList {
    pub invoices: Vec<Invoice>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl From<&Page<InvoiceView>> for InvoiceList {
    fn from(p: &Page<InvoiceView>) -> InvoiceList {
        InvoiceList {
            invoices: p.items.iter().map(Into::into).collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// Only invoices in this status.
    status: Option<InvoiceStatus>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The caller's invoices, newest first: a provider's own (its drafts too), a council's area's,
/// a broker's to pay, a family's plans'. Lines are on each invoice's own page.
#[utoipa::path(tag = "invoices", params(InvoiceQuery), security(("bearer" = [])), responses((status = 200, body = InvoiceList)))]
#[get("/invoices")]
async fn list(app: Data, auth: Auth, q: Query<InvoiceQuery>) -> Reply {
    let paging = dto::Paging {
        page: q.page,
        per_page: q.per_page,
    };
    let page = invoices::list(&app, &auth.actor, q.status, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(InvoiceList::from(&page)))
}

/// One invoice with its lines and credit notes.
#[utoipa::path(tag = "invoices", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = Invoice)))]
#[get("/invoices/{id}")]
async fn one(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let invoice = invoices::get(&app, &auth.actor, InvoiceId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(Invoice::from(&invoice)))
}

/// The invoice as a PDF (A4).
#[utoipa::path(
    tag = "invoices",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The invoice", content_type = "application/pdf"))
)]
#[get("/invoices/{id}.pdf")]
async fn pdf(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let invoice = invoices::get(&app, &auth.actor, InvoiceId(id.into_inner())).await?;
    Ok(pdf_response(&invoice))
}

/// An invoice as a PDF download (shared with the pages).
pub(crate) fn pdf_response(invoice: &InvoiceView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/pdf"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", invoices::filename(invoice, "pdf")),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(crate::templates::invoices::pdf(invoice))
}

/// The invoice's lines as CSV, one row per line.
#[utoipa::path(
    tag = "invoices",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "One row per line", content_type = "text/csv"))
)]
#[get("/invoices/{id}.csv")]
async fn lines_csv(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let invoice = invoices::get(&app, &auth.actor, InvoiceId(id.into_inner())).await?;
    Ok(csv_response(invoices::lines_csv(&invoice)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvoice {
    pub budget_holder_id: i64,
    /// Only the sessions this payer pays for; every payer's (one draft each) if not given.
    #[serde(default)]
    pub payer: Option<Payer>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DraftedInvoice {
    #[serde(flatten)]
    pub invoice: Invoice,
    /// Every draft this request added lines to (one per payer and period), this one last.
    pub drafted: Vec<InvoiceId>,
}

/// The provider drafts invoices for a plan from its delivered sessions not yet invoiced (attended,
/// or charged as late-cancelled or absent): one draft per payer and period. 409
/// `nothing_to_invoice` when there are none.
#[utoipa::path(tag = "invoices", request_body = NewInvoice, security(("bearer" = [])), responses((status = 201, body = DraftedInvoice)))]
#[post("/invoices")]
async fn draft(app: Data, auth: Auth, Json(body): Json<NewInvoice>) -> Reply {
    let (invoice, drafted) =
        invoices::draft(&app, &auth.actor, BudgetHolderId(body.budget_holder_id), body.payer).await?;
    Ok(HttpResponse::Created().json(DraftedInvoice {
        invoice: Invoice::from(&invoice),
        drafted,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceNotes {
    /// A note printed on the invoice (an order number, say); at most 1000 characters.
    pub notes: String,
}

/// The provider changes a draft's note. 409 `wrong_status` once issued.
#[utoipa::path(tag = "invoices", params(("id" = i64, Path)), request_body = InvoiceNotes, security(("bearer" = [])), responses((status = 200, body = Invoice)))]
#[put("/invoices/{id}")]
async fn notes(app: Data, auth: Auth, id: web::Path<i64>, Json(body): Json<InvoiceNotes>) -> Reply {
    let invoice = invoices::set_notes(&app, &auth.actor, InvoiceId(id.into_inner()), body.notes).await?;
    Ok(HttpResponse::Ok().json(Invoice::from(&invoice)))
}

/// The provider throws a draft away (its sessions can be drafted again). 409 `wrong_status` once
/// issued: a credit note corrects an issued invoice.
#[utoipa::path(tag = "invoices", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 204)))]
#[delete("/invoices/{id}")]
async fn remove(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    invoices::delete_draft(&app, &auth.actor, InvoiceId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The provider issues a draft: it takes the provider's next number, its VAT and its due date.
/// Lines no longer delivered are dropped first. 409 `wrong_status` when not a draft.
#[utoipa::path(tag = "invoices", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = Invoice)))]
#[post("/invoices/{id}/issue")]
async fn issue(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let invoice = invoices::issue(&app, &auth.actor, InvoiceId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(Invoice::from(&invoice)))
}

/// The payer approves an issued (or disputed) invoice: its money moves from committed to spent.
/// 409 `wrong_status` otherwise; 403 for anyone but the payer.
#[utoipa::path(tag = "invoices", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = Invoice)))]
#[post("/invoices/{id}/approve")]
async fn approve(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let invoice = invoices::approve(&app, &auth.actor, InvoiceId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(Invoice::from(&invoice)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceDispute {
    /// Why, for the provider; at most 1000 characters.
    pub reason: String,
}

/// The payer disputes an issued invoice with a reason; its money stays held.
#[utoipa::path(tag = "invoices", params(("id" = i64, Path)), request_body = InvoiceDispute, security(("bearer" = [])), responses((status = 200, body = Invoice)))]
#[post("/invoices/{id}/dispute")]
async fn dispute(app: Data, auth: Auth, id: web::Path<i64>, Json(body): Json<InvoiceDispute>) -> Reply {
    let invoice = invoices::dispute(&app, &auth.actor, InvoiceId(id.into_inner()), body.reason).await?;
    Ok(HttpResponse::Ok().json(Invoice::from(&invoice)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicePaid {
    /// Not in the future, not before the invoice was issued.
    pub paid_on: NaiveDate,
    /// The payment's reference; at most 100 characters.
    #[serde(default)]
    pub reference: Option<String>,
}

/// The payer records that it paid an approved invoice. 409 `wrong_status` otherwise.
#[utoipa::path(tag = "invoices", params(("id" = i64, Path)), request_body = InvoicePaid, security(("bearer" = [])), responses((status = 200, body = Invoice)))]
#[post("/invoices/{id}/paid")]
async fn paid(app: Data, auth: Auth, id: web::Path<i64>, Json(body): Json<InvoicePaid>) -> Reply {
    let reference = body.reference.unwrap_or_default();
    let invoice = invoices::paid(&app, &auth.actor, InvoiceId(id.into_inner()), body.paid_on, reference).await?;
    Ok(HttpResponse::Ok().json(Invoice::from(&invoice)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCreditLine {
    pub line_id: i64,
    /// How much of the line to credit; what is left of it if not given.
    #[serde(default)]
    pub amount: Option<Pence>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCreditNote {
    pub lines: Vec<NewCreditLine>,
    pub reason: String,
}

/// The provider raises a credit note against an issued invoice: the money goes back to the plan.
/// 409 `credit_exceeds_line` naming the line's amount when more is asked than is left.
#[utoipa::path(tag = "invoices", params(("id" = i64, Path)), request_body = NewCreditNote, security(("bearer" = [])), responses((status = 201, body = Invoice)))]
#[post("/invoices/{id}/credit-notes")]
async fn credit(app: Data, auth: Auth, id: web::Path<i64>, Json(body): Json<NewCreditNote>) -> Reply {
    let lines = body
        .lines
        .iter()
        .map(|l| CreditLineInput {
            line_id: l.line_id,
            amount: l.amount,
        })
        .collect();
    let invoice = invoices::credit(&app, &auth.actor, InvoiceId(id.into_inner()), lines, body.reason).await?;
    Ok(HttpResponse::Created().json(Invoice::from(&invoice)))
}
