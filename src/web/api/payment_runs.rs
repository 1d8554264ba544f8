//! The API's payment runs routes (council), and the provider's invoicing settings and bank
//! details that a run pays into.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, OptionalJson, Query};
use super::plans::csv_response;
use super::{Data, Reply, dto};
use crate::app::finance::{self, Invoicing, MaskedBank};
use crate::app::payment_runs::{self as runs, LeftOut, RunView};
use crate::db::payment_runs::{RunInvoice, RunRow};
use crate::domain::invoice::InvoiceStatus;
use crate::domain::paging::Page;
use crate::domain::payment_run::{BankDetailsInput, InvoicingInput, PaymentRunStatus};
use crate::domain::{BudgetHolderId, InvoiceId, OrganisationId, PaymentRunId, Pence};

pub fn routes(cfg: &mut ServiceConfig) {
    // The CSV first: `/payment-runs/{id}` would otherwise take `3.csv` for an id.
    cfg.service(run_csv)
        .service(make)
        .service(list)
        .service(get_run)
        .service(paid)
        .service(invoicing)
        .service(change_invoicing)
        .service(bank_details)
        .service(set_bank_details);
}

/// Bank details as shown: masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct BankDetails {
    pub account_name: String,
    /// Masked: `**-**-56`.
    pub sort_code: String,
    /// Masked: `****1234`.
    pub account_number: String,
    pub payment_reference: String,
    pub updated_at: DateTime<Utc>,
}

impl From<&MaskedBank> for BankDetails {
    fn from(b: &MaskedBank) -> BankDetails {
        BankDetails {
            account_name: b.account_name.clone(),
            sort_code: b.sort_code.clone(),
            account_number: b.account_number.clone(),
            payment_reference: b.payment_reference.clone(),
            updated_at: b.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicingSettings {
    pub organisation_id: OrganisationId,
    pub vat_number: Option<String>,
    /// Basis points: 2000 is 20%.
    pub vat_rate_bp: i32,
    pub payment_terms_days: i32,
    pub bank_details: Option<BankDetails>,
}

impl From<&Invoicing> for InvoicingSettings {
    fn from(i: &Invoicing) -> InvoicingSettings {
        InvoicingSettings {
            organisation_id: i.organisation_id,
            vat_number: i.settings.vat_number.clone(),
            vat_rate_bp: i.settings.vat_rate_bp,
            payment_terms_days: i.settings.payment_terms_days,
            bank_details: i.bank.as_ref().map(Into::into),
        }
    }
}

/// Present (even as null) or left out: `Some(None)` is null.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A change of settings; a field left out keeps its value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicingChange {
    /// A UK VAT number (`GB123456789`); null for none (the rate then becomes 0).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, required = false)]
    pub vat_number: Option<Option<String>>,
    /// 0 to 2500 basis points (2000 is 20%, the VAT a price contains); 0 without a VAT number.
    #[serde(default)]
    #[schema(required = false)]
    pub vat_rate_bp: Option<i32>,
    /// 0 to 120 days from the issue date.
    #[serde(default)]
    #[schema(required = false)]
    pub payment_terms_days: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBankDetails {
    pub account_name: String,
    /// `12-34-56` or six digits.
    pub sort_code: String,
    /// Eight digits.
    pub account_number: String,
    /// At most 18 letters, digits, spaces and `. - / &` (a BACS reference).
    #[serde(default)]
    #[schema(required = false)]
    pub payment_reference: Option<String>,
}

/// The provider's invoicing settings and its bank details, masked.
#[utoipa::path(tag = "invoices", security(("bearer" = [])), responses((status = 200, body = InvoicingSettings)))]
#[get("/me/organisation/invoicing")]
async fn invoicing(app: Data, auth: Auth) -> Reply {
    let i = finance::invoicing(&app, &auth.actor).await?;
    Ok(HttpResponse::Ok().json(InvoicingSettings::from(&i)))
}

/// The provider changes its VAT number and rate and its payment terms.
#[utoipa::path(tag = "invoices", request_body = InvoicingChange, security(("bearer" = [])), responses((status = 200, body = InvoicingSettings)))]
#[put("/me/organisation/invoicing")]
async fn change_invoicing(app: Data, auth: Auth, Json(body): Json<InvoicingChange>) -> Reply {
    let input = InvoicingInput {
        vat_number: body.vat_number,
        vat_rate_bp: body.vat_rate_bp,
        payment_terms_days: body.payment_terms_days,
    };
    let i = finance::change_invoicing(&app, &auth.actor, input).await?;
    Ok(HttpResponse::Ok().json(InvoicingSettings::from(&i)))
}

/// The provider's bank details, masked; 404 when it has given none.
#[utoipa::path(tag = "invoices", security(("bearer" = [])), responses((status = 200, body = BankDetails)))]
#[get("/me/organisation/bank-details")]
async fn bank_details(app: Data, auth: Auth) -> Reply {
    let b = finance::bank(&app, &auth.actor).await?;
    Ok(HttpResponse::Ok().json(BankDetails::from(&b)))
}

/// The provider sets or replaces its bank details: sealed at rest, answered masked.
#[utoipa::path(tag = "invoices", request_body = NewBankDetails, security(("bearer" = [])), responses((status = 200, body = BankDetails)))]
#[put("/me/organisation/bank-details")]
async fn set_bank_details(app: Data, auth: Auth, Json(body): Json<NewBankDetails>) -> Reply {
    let input = BankDetailsInput {
        account_name: body.account_name,
        sort_code: body.sort_code,
        account_number: body.account_number,
        payment_reference: body.payment_reference,
    };
    let b = finance::set_bank(&app, &auth.actor, input).await?;
    Ok(HttpResponse::Ok().json(BankDetails::from(&b)))
}

/// One invoice of a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentRunInvoice {
    pub invoice_id: InvoiceId,
    /// `INV-000001`.
    pub number: String,
    pub organisation_id: OrganisationId,
    pub provider: String,
    pub budget_holder_id: BudgetHolderId,
    /// Its total less credit notes.
    pub amount: Pence,
    pub due_on: Option<NaiveDate>,
    pub status: InvoiceStatus,
}

impl From<&RunInvoice> for PaymentRunInvoice {
    fn from(i: &RunInvoice) -> PaymentRunInvoice {
        PaymentRunInvoice {
            invoice_id: i.invoice_id,
            number: runs::number(i),
            organisation_id: i.organisation_id,
            provider: i.provider.clone(),
            budget_holder_id: BudgetHolderId(i.budget_holder_id),
            amount: i.amount,
            due_on: i.due_on,
            status: i.status,
        }
    }
}

/// An approved invoice that could not go in the run.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeftOutInvoice {
    #[serde(flatten)]
    pub invoice: PaymentRunInvoice,
    /// `no_bank_details` or `bank_details_unreadable`.
    pub reason: String,
}

impl From<&LeftOut> for LeftOutInvoice {
    fn from(l: &LeftOut) -> LeftOutInvoice {
        LeftOutInvoice {
            invoice: (&l.invoice).into(),
            reason: l.reason.as_str().to_string(),
        }
    }
}

/// A run as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunSummary {
    pub id: PaymentRunId,
    pub status: PaymentRunStatus,
    pub invoice_count: i64,
    /// What it paid or pays, as made.
    pub total: Pence,
    pub created_at: DateTime<Utc>,
    pub created_by: i64,
    pub paid_on: Option<NaiveDate>,
    pub csv_url: String,
}

impl From<&RunRow> for RunSummary {
    fn from(r: &RunRow) -> RunSummary {
        RunSummary {
            id: r.id(),
            status: r.status(),
            invoice_count: r.invoice_count,
            total: r.total(),
            created_at: r.created_at.and_utc(),
            created_by: r.created_by,
            paid_on: r.paid_on,
            csv_url: format!("/api/v1/payment-runs/{}.csv", r.id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentRun {
    #[serde(flatten)]
    pub run: RunSummary,
    pub invoices: Vec<PaymentRunInvoice>,
    /// Only as the run is made: approved invoices that could not go in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<Vec<LeftOutInvoice>>,
}

impl From<&RunView> for PaymentRun {
    fn from(v: &RunView) -> PaymentRun {
        PaymentRun {
            run: RunSummary {
                total: v.total(),
                ..RunSummary::from(&v.run)
            },
            invoices: v.invoices.iter().map(Into::into).collect(),
            left_out: v.left_out.as_ref().map(|l| l.iter().map(Into::into).collect()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentRunList {
    pub payment_runs: Vec<RunSummary>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl From<&Page<RunRow>> for PaymentRunList {
    fn from(p: &Page<RunRow>) -> PaymentRunList {
        PaymentRunList {
            payment_runs: p.items.iter().map(Into::into).collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPaymentRun {
    /// Only invoices due on or before this date; every approved one when left out.
    #[serde(default)]
    #[schema(required = false)]
    pub due_by: Option<NaiveDate>,
}

/// The council makes a payment run of its approved invoices for organised allocations that are
/// in no run yet (due by `due_by` when given). Invoices of providers without bank details are
/// left out and listed in `left_out`. 409 `nothing_to_pay` when none can go in.
#[utoipa::path(tag = "payment runs", request_body(content = NewPaymentRun, description = "May be left out: every approved invoice"), security(("bearer" = [])), responses((status = 201, body = PaymentRun)))]
#[post("/payment-runs")]
async fn make(app: Data, auth: Auth, body: OptionalJson<NewPaymentRun>) -> Reply {
    let due_by = body.0.unwrap_or_default().due_by;
    let run = runs::make(&app, &auth.actor, due_by).await?;
    Ok(HttpResponse::Created().json(PaymentRun::from(&run)))
}

/// The council's payment runs, newest first.
#[utoipa::path(tag = "payment runs", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = PaymentRunList)))]
#[get("/payment-runs")]
async fn list(app: Data, auth: Auth, paging: Query<dto::Paging>) -> Reply {
    let page = runs::list(&app, &auth.actor, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(PaymentRunList::from(&page)))
}

/// One of the council's payment runs with its invoices (another council's is 404).
#[utoipa::path(tag = "payment runs", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = PaymentRun)))]
#[get("/payment-runs/{id}")]
async fn get_run(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let run = runs::get(&app, &auth.actor, PaymentRunId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(PaymentRun::from(&run)))
}

/// The run for the council's finance system: a header row, then per invoice `payee,
/// account_name, sort_code, account_number, payment_reference, invoice_number, amount, due_on`
/// with the bank details in full.
#[utoipa::path(
    tag = "payment runs",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "One line per invoice", content_type = "text/csv"))
)]
#[get("/payment-runs/{id}.csv")]
async fn run_csv(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let csv = runs::csv(&app, &auth.actor, PaymentRunId(id.into_inner())).await?;
    let mut response = csv_response(csv);
    // It carries bank details in full: never kept by a cache.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPaid {
    /// When finance paid it: not before the run was made, not in the future.
    pub paid_on: NaiveDate,
    /// Finance's reference for the payment (`Payment run N` when left out).
    #[serde(default)]
    #[schema(required = false)]
    pub reference: Option<String>,
}

/// Finance paid the run: the run and every invoice in it are paid, in one transaction. 409
/// `already_paid` the second time.
#[utoipa::path(tag = "payment runs", params(("id" = i64, Path)), request_body = RunPaid, security(("bearer" = [])), responses((status = 200, body = PaymentRun)))]
#[post("/payment-runs/{id}/paid")]
async fn paid(app: Data, auth: Auth, id: web::Path<i64>, Json(body): Json<RunPaid>) -> Reply {
    let id = PaymentRunId(id.into_inner());
    let run = runs::mark_paid(&app, &auth.actor, id, body.paid_on, body.reference).await?;
    Ok(HttpResponse::Ok().json(PaymentRun::from(&run)))
}
