//! The invoice pages: a provider's delivered sessions to invoice and its invoices, a payer's
//! invoices to answer, one invoice with its actions, and its PDF and CSV.

use actix_web::{HttpRequest, web};

use super::forms::{page_asked, word_asked};
use super::{Data, Form, Page, PageError, Visitor, download, outcome, see_other};
use crate::app::AppError;
use crate::app::invoices::{self, CreditLineInput};
use crate::domain::invoice::Payer;
use crate::domain::{BudgetHolderId, InvoiceId, Pence, Role};
use crate::templates::components::FormErrors;
use crate::templates::invoices::{self as pages, Allowed};
use crate::web::api::invoices::pdf_response;

const LIST: &str = "/invoices";
const WHO: &[Role] = &[Role::Provider, Role::Council, Role::Family, Role::Broker];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(LIST, web::get().to(list))
        .route("/invoices/draft", web::post().to(draft))
        .route("/invoices/{id}", web::get().to(one))
        .route("/invoices/{id}/invoice.pdf", web::get().to(pdf))
        .route("/invoices/{id}/lines.csv", web::get().to(lines_csv))
        .route("/invoices/{id}/{verb}", web::post().to(act));
}

pub async fn list(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(WHO, LIST)?;
    let (status, page) = (
        word_asked(&req, "status", "is not an invoice status")?,
        page_asked(&req)?,
    );
    let invoices = invoices::list(&app, actor, status, page).await?;
    let to_invoice = match actor.role {
        Role::Provider => Some(invoices::to_invoice(&app, actor).await?),
        _ => None,
    };
    let body = pages::list(&visitor.chrome(), &invoices, status, to_invoice.as_deref());
    Ok(visitor.page("Invoices", true, body))
}

pub async fn draft(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(&[Role::Provider], LIST)?;
    let form = Form::read(&visitor, &body)?;
    let holder = form
        .get("budget_holder_id")
        .trim()
        .parse()
        .map_err(|_| PageError::BadForm)?;
    let payer = match form.get("payer") {
        "" => None,
        word => Some(word.parse::<Payer>().map_err(|_| PageError::BadForm)?),
    };
    let (invoice, _) = invoices::draft(&app, actor, BudgetHolderId(holder), payer).await?;
    Ok(see_other(&format!("/invoices/{}", invoice.id)))
}

async fn show(app: &Data, visitor: &Visitor, id: InvoiceId, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(WHO, &format!("/invoices/{id}"))?;
    let invoice = invoices::get(app, actor, id).await?;
    let allowed = Allowed {
        provider: actor.provider() == Some(invoice.provider),
        payer: invoices::is_payer(actor, &invoice),
    };
    let body = pages::one(&visitor.chrome(), &invoice, allowed, &errors, form);
    let title = invoice.number_text().unwrap_or_else(|| "Draft invoice".into());
    Ok(match errors.0.is_empty() {
        true => visitor.page(&title, true, body),
        false => visitor.form_again(&title, true, body),
    })
}

pub async fn one(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    show(
        &app,
        &visitor,
        InvoiceId(id.into_inner()),
        FormErrors::default(),
        &Form(Vec::new()),
    )
    .await
}

pub async fn pdf(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let id = InvoiceId(id.into_inner());
    let actor = visitor.require(WHO, &format!("/invoices/{id}"))?;
    let invoice = invoices::get(&app, actor, id).await?;
    Ok(pdf_response(&invoice))
}

pub async fn lines_csv(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let id = InvoiceId(id.into_inner());
    let actor = visitor.require(WHO, &format!("/invoices/{id}"))?;
    let invoice = invoices::get(&app, actor, id).await?;
    Ok(download(invoices::lines_csv(&invoice)?))
}

/// A credit note for one line, as the page's form asks for it.
fn credit_line(form: &Form) -> Result<Vec<CreditLineInput>, FormErrors> {
    let line_id = form.get("line_id").trim().parse().unwrap_or(0);
    let amount = match form.get("amount").trim() {
        "" => None,
        text => Some(
            text.parse::<Pence>()
                .map_err(|e| FormErrors(vec![("amount".into(), format!("Amount {e}"))]))?,
        ),
    };
    Ok(vec![CreditLineInput { line_id, amount }])
}

/// Every button and form on an invoice's page.
pub async fn act(app: Data, visitor: Visitor, path: web::Path<(i64, String)>, body: web::Bytes) -> Page {
    let (id, verb) = path.into_inner();
    let id = InvoiceId(id);
    let actor = visitor.require(WHO, &format!("/invoices/{id}"))?;
    let form = Form::read(&visitor, &body)?;
    let done = match verb.as_str() {
        "issue" => invoices::issue(&app, actor, id).await.map(|_| ()),
        "notes" => invoices::set_notes(&app, actor, id, form.get("notes").to_string())
            .await
            .map(|_| ()),
        "delete" => {
            invoices::delete_draft(&app, actor, id).await?;
            return Ok(see_other(LIST));
        }
        "approve" => invoices::approve(&app, actor, id).await.map(|_| ()),
        "dispute" => invoices::dispute(&app, actor, id, form.get("reason").to_string())
            .await
            .map(|_| ()),
        "paid" => match form.get("paid_on").trim().parse() {
            Ok(on) => invoices::paid(&app, actor, id, on, form.get("reference").to_string())
                .await
                .map(|_| ()),
            Err(_) => Err(crate::domain::validate::FieldError::new("paid_on", "must be a date").into()),
        },
        "credit" => match credit_line(&form) {
            Ok(lines) => invoices::credit(&app, actor, id, lines, form.get("reason").to_string())
                .await
                .map(|_| ()),
            Err(errors) => return show(&app, &visitor, id, errors, &form).await,
        },
        _ => return Err(AppError::not_found("page").into()),
    };
    // The credit form names its line once: errors about lines[0] belong to its fields.
    let field = |name: &str| name.trim_start_matches("lines[0].").to_string();
    match outcome(done, field)? {
        Ok(()) => Ok(see_other(&format!("/invoices/{id}"))),
        Err(errors) => show(&app, &visitor, id, errors, &form).await,
    }
}
