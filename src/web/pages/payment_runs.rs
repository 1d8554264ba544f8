//! The payment runs pages: the council's runs (make one, download its CSV, mark it paid) and the
//! provider's invoicing settings and bank details.

use actix_web::{HttpRequest, web};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::forms::{date, page_asked, problem};
use super::{Data, Form, Page, Visitor, download, outcome, see_other};
use crate::app::finance;
use crate::app::payment_runs as runs;
use crate::domain::paging::PageRequest;
use crate::domain::payment_run::{BankDetailsInput, InvoicingInput};
use crate::domain::{PaymentRunId, Role};
use crate::templates::FormErrors;
use crate::templates::payment_runs as pages;

const INVOICING: &str = "/provider/invoicing";
const RUNS: &str = "/council/payment-runs";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(INVOICING, web::get().to(invoicing))
        .route(INVOICING, web::post().to(change_invoicing))
        .route("/provider/invoicing/bank-details", web::post().to(set_bank))
        .route(RUNS, web::get().to(council_runs))
        .route(RUNS, web::post().to(make_run))
        // The CSV before the run's page, whose `{id}` would take `3.csv`.
        .route("/council/payment-runs/{id}.csv", web::get().to(run_csv))
        .route("/council/payment-runs/{id}", web::get().to(council_run))
        .route("/council/payment-runs/{id}/paid", web::post().to(mark_paid));
}

async fn invoicing_page(app: &Data, visitor: &Visitor, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(&[Role::Provider], INVOICING)?;
    let i = finance::invoicing(app, actor).await?;
    let body = pages::provider_invoicing(&visitor.chrome(), &i, &errors, form);
    Ok(match errors.is_empty() {
        true => visitor.page("Invoicing", true, body),
        false => visitor.form_again("Invoicing", true, body),
    })
}

pub async fn invoicing(app: Data, visitor: Visitor) -> Page {
    invoicing_page(&app, &visitor, FormErrors::default(), &Form(Vec::new())).await
}

/// "20" or "17.5" per cent as basis points.
fn rate_bp(form: &Form, errors: &mut FormErrors) -> Option<i32> {
    let text = form.get("vat_rate").trim().trim_end_matches('%').trim();
    if text.is_empty() {
        return Some(0);
    }
    let bp = text
        .parse::<Decimal>()
        .ok()
        .map(|d| d * Decimal::ONE_HUNDRED)
        .filter(|d| d.fract().is_zero())
        .and_then(|d| d.to_i32());
    if bp.is_none() {
        problem(errors, "vat_rate", "Enter the VAT rate as a number such as 20");
    }
    bp
}

pub async fn change_invoicing(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(&[Role::Provider], INVOICING)?;
    let form = Form::read(&visitor, &body)?;
    let mut errors = FormErrors::default();
    let rate = rate_bp(&form, &mut errors);
    let terms = form.get("payment_terms_days").trim().parse::<i32>().ok();
    if terms.is_none() {
        problem(
            &mut errors,
            "payment_terms_days",
            "Enter the payment terms as a number of days",
        );
    }
    if !errors.is_empty() {
        return invoicing_page(&app, &visitor, errors, &form).await;
    }
    let vat = Some(form.get("vat_number").trim().to_string()).filter(|v| !v.is_empty());
    let input = InvoicingInput {
        vat_number: Some(vat),
        vat_rate_bp: rate,
        payment_terms_days: terms,
    };
    let changed = finance::change_invoicing(&app, actor, input).await;
    let field = |f: &str| {
        if f == "vat_rate_bp" {
            "vat_rate".into()
        } else {
            f.to_string()
        }
    };
    match outcome(changed, field)? {
        Ok(_) => Ok(see_other(INVOICING)),
        Err(errors) => invoicing_page(&app, &visitor, errors, &form).await,
    }
}

pub async fn set_bank(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(&[Role::Provider], INVOICING)?;
    let form = Form::read(&visitor, &body)?;
    let reference = Some(form.get("payment_reference").to_string()).filter(|r| !r.trim().is_empty());
    let input = BankDetailsInput {
        account_name: form.get("account_name").to_string(),
        sort_code: form.get("sort_code").to_string(),
        account_number: form.get("account_number").to_string(),
        payment_reference: reference,
    };
    match outcome(finance::set_bank(&app, actor, input).await, str::to_string)? {
        Ok(_) => Ok(see_other(INVOICING)),
        Err(errors) => invoicing_page(&app, &visitor, errors, &form).await,
    }
}

async fn runs_page(app: &Data, visitor: &Visitor, page: PageRequest, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(&[Role::Council], RUNS)?;
    let (list, unpaid) = runs::overview(app, actor, page).await?;
    let body = pages::council_runs(&visitor.chrome(), &list, &unpaid, &errors, form);
    Ok(match errors.is_empty() {
        true => visitor.page("Payment runs", true, body),
        false => visitor.form_again("Payment runs", true, body),
    })
}

pub async fn council_runs(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let page = page_asked(&req)?;
    runs_page(&app, &visitor, page, FormErrors::default(), &Form(Vec::new())).await
}

pub async fn make_run(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(&[Role::Council], RUNS)?;
    let form = Form::read(&visitor, &body)?;
    let mut errors = FormErrors::default();
    let due_by = match form.get("due_by").trim() {
        "" => None,
        _ => date(&form, &mut errors, "due_by"),
    };
    if !errors.is_empty() {
        return runs_page(&app, &visitor, PageRequest::default(), errors, &form).await;
    }
    match outcome(runs::make(&app, actor, due_by).await, str::to_string)? {
        Ok(run) => Ok(see_other(&format!("{RUNS}/{}", run.run.id))),
        Err(errors) => runs_page(&app, &visitor, PageRequest::default(), errors, &form).await,
    }
}

async fn run_page(app: &Data, visitor: &Visitor, id: PaymentRunId, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(&[Role::Council], &format!("{RUNS}/{id}"))?;
    let run = runs::get(app, actor, id).await?;
    let body = pages::council_run(&visitor.chrome(), &run, &errors, form);
    let title = format!("Payment run {id}");
    Ok(match errors.is_empty() {
        true => visitor.page(&title, true, body),
        false => visitor.form_again(&title, true, body),
    })
}

pub async fn council_run(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let id = PaymentRunId(id.into_inner());
    run_page(&app, &visitor, id, FormErrors::default(), &Form(Vec::new())).await
}

pub async fn run_csv(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let id = PaymentRunId(id.into_inner());
    let actor = visitor.require(&[Role::Council], &format!("{RUNS}/{id}"))?;
    Ok(download(runs::csv(&app, actor, id).await?))
}

pub async fn mark_paid(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = PaymentRunId(id.into_inner());
    let actor = visitor.require(&[Role::Council], &format!("{RUNS}/{id}"))?;
    let form = Form::read(&visitor, &body)?;
    let mut errors = FormErrors::default();
    let Some(paid_on) = date(&form, &mut errors, "paid_on") else {
        return run_page(&app, &visitor, id, errors, &form).await;
    };
    let reference = Some(form.get("reference").to_string()).filter(|r| !r.trim().is_empty());
    match outcome(
        runs::mark_paid(&app, actor, id, paid_on, reference).await,
        str::to_string,
    )? {
        Ok(_) => Ok(see_other(&format!("{RUNS}/{id}"))),
        Err(errors) => run_page(&app, &visitor, id, errors, &form).await,
    }
}
