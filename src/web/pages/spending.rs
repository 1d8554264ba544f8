//! The spending pages: the family's direct payment, the council's audit queue and a plan's
//! surplus test with its recovery form, and receipts for both.

use actix_web::{HttpRequest, web};

use super::forms::page_asked;
use super::{Data, Form, Page, PageError, Visitor, outcome, see_other};
use crate::app::direct_payments as dp;
use crate::domain::paging::PageRequest;
use crate::domain::spending::SpendingStatus;
use crate::domain::{AllocationId, BudgetHolderId, Pence, Role, SpendingId};
use crate::templates::components::FormErrors;
use crate::templates::spending as pages;
use crate::web::api::spending::receipt_response;
use crate::web::multipart::{Unreadable, read_spending};

const PAGE: &str = "/my-plan/direct-payment";
const AUDIT: &str = "/council/audit";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(PAGE, web::get().to(family))
        .route("/my-plan/direct-payment/{holder}/spending", web::post().to(record))
        .route("/my-plan/direct-payment/spending/{id}/answer", web::post().to(answer))
        .route("/direct-payment/receipts/{id}", web::get().to(receipt))
        .route(AUDIT, web::get().to(audit))
        .route("/council/audit/{id}/{verb}", web::post().to(decide))
        .route(
            "/council/budget-holders/{id}/direct-payment",
            web::get().to(council_plan),
        )
        .route("/council/budget-holders/{id}/recoveries", web::post().to(recover));
}

async fn family_again(app: &Data, visitor: &Visitor, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(&[Role::Family], PAGE)?;
    let plans = dp::family_page(app, actor, PageRequest::default()).await?;
    let body = pages::family(&visitor.chrome(), &plans, &errors, form);
    Ok(visitor.form_again("Direct payment", true, body))
}

pub async fn family(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(&[Role::Family], PAGE)?;
    let plans = dp::family_page(&app, actor, page_asked(&req)?).await?;
    let body = pages::family(&visitor.chrome(), &plans, &FormErrors::default(), &Form(Vec::new()));
    Ok(visitor.page("Direct payment", true, body))
}

/// A multipart form: the CSRF token is one of its fields, checked as any form's.
pub async fn record(
    app: Data,
    visitor: Visitor,
    holder: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> Page {
    let actor = visitor.require(&[Role::Family], PAGE)?;
    let (input, extra) = match read_spending(&req, payload).await {
        Ok(read) => read,
        Err(Unreadable::Body(_)) => return Err(PageError::BadForm),
        Err(Unreadable::Invalid(invalid)) => {
            let errors = outcome::<()>(Err(invalid.into()), str::to_string)?
                .err()
                .unwrap_or_default();
            return family_again(&app, &visitor, errors, &Form(Vec::new())).await;
        }
    };
    let mut form = Form::checked(&visitor, extra)?;
    let typed = [
        ("payee", &input.payee),
        ("spent_on", &input.spent_on),
        ("amount", &input.amount),
        ("description", &input.description),
    ];
    form.0.extend(typed.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let recorded = dp::record_spending(&app, actor, BudgetHolderId(holder.into_inner()), input).await;
    match outcome(recorded, str::to_string)? {
        Ok(_) => Ok(see_other(PAGE)),
        Err(errors) => family_again(&app, &visitor, errors, &form).await,
    }
}

pub async fn answer(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let actor = visitor.require(&[Role::Family], PAGE)?;
    let form = Form::read(&visitor, &body)?;
    let id = SpendingId(id.into_inner());
    let field = format!("answer_{}", id.0);
    let answered = dp::answer(&app, actor, id, form.get(&field)).await;
    match outcome(answered, |_| field.clone())? {
        Ok(_) => Ok(see_other(PAGE)),
        Err(errors) => family_again(&app, &visitor, errors, &form).await,
    }
}

pub async fn receipt(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let actor = visitor.require(&[Role::Family, Role::Council], PAGE)?;
    let (kind, bytes) = dp::receipt(&app, actor, SpendingId(id.into_inner())).await?;
    Ok(receipt_response(&kind, bytes))
}

fn status_asked(req: &HttpRequest) -> SpendingStatus {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    match pairs.iter().find(|(k, _)| k == "status").map(|(_, v)| v.as_str()) {
        Some("queried") => SpendingStatus::Queried,
        _ => SpendingStatus::InReview,
    }
}

async fn audit_page(
    app: &Data,
    visitor: &Visitor,
    status: SpendingStatus,
    page: PageRequest,
    errors: FormErrors,
    form: &Form,
) -> Page {
    let actor = visitor.require(&[Role::Council], AUDIT)?;
    let queue = dp::audit_queue(app, actor, status, page).await?;
    let body = pages::audit(&visitor.chrome(), &queue, status, &errors, form);
    Ok(match errors.0.is_empty() {
        true => visitor.page("Audit", true, body),
        false => visitor.form_again("Audit", true, body),
    })
}

pub async fn audit(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let page = page_asked(&req)?;
    audit_page(
        &app,
        &visitor,
        status_asked(&req),
        page,
        FormErrors::default(),
        &Form(Vec::new()),
    )
    .await
}

/// Accept spending, or query it with the officer's question.
pub async fn decide(app: Data, visitor: Visitor, path: web::Path<(i64, String)>, body: web::Bytes) -> Page {
    let actor = visitor.require(&[Role::Council], AUDIT)?;
    let form = Form::read(&visitor, &body)?;
    let (id, verb) = path.into_inner();
    let field = format!("question_{id}");
    let done = match verb.as_str() {
        "accept" => dp::accept(&app, actor, SpendingId(id)).await,
        "query" => dp::query(&app, actor, SpendingId(id), form.get(&field)).await,
        _ => return Err(crate::app::AppError::not_found("page").into()),
    };
    match outcome(done, |_| field.clone())? {
        Ok(_) => Ok(see_other(AUDIT)),
        Err(errors) => {
            audit_page(
                &app,
                &visitor,
                SpendingStatus::InReview,
                PageRequest::default(),
                errors,
                &form,
            )
            .await
        }
    }
}

async fn council_plan_page(
    app: &Data,
    visitor: &Visitor,
    id: BudgetHolderId,
    page: PageRequest,
    errors: FormErrors,
    form: &Form,
) -> Page {
    let actor = visitor.require(
        &[Role::Council],
        &format!("/council/budget-holders/{id}/direct-payment"),
    )?;
    let plan = dp::council_page(app, actor, id, page).await?;
    let body = pages::council_plan(&visitor.chrome(), &plan, &errors, form);
    Ok(match errors.0.is_empty() {
        true => visitor.page("Direct payment", true, body),
        false => visitor.form_again("Direct payment", true, body),
    })
}

pub async fn council_plan(app: Data, visitor: Visitor, id: web::Path<i64>, req: HttpRequest) -> Page {
    let page = page_asked(&req)?;
    council_plan_page(
        &app,
        &visitor,
        BudgetHolderId(id.into_inner()),
        page,
        FormErrors::default(),
        &Form(Vec::new()),
    )
    .await
}

pub async fn recover(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = BudgetHolderId(id.into_inner());
    let actor = visitor.require(
        &[Role::Council],
        &format!("/council/budget-holders/{id}/direct-payment"),
    )?;
    let form = Form::read(&visitor, &body)?;
    let allocation = form
        .get("allocation_id")
        .trim()
        .parse()
        .map(AllocationId)
        .map_err(|_| PageError::BadForm)?;
    let done = match form.get("amount").trim().parse::<Pence>() {
        Ok(amount) => outcome(
            dp::recover(&app, actor, id, allocation, amount, form.get("reason")).await,
            str::to_string,
        )?,
        Err(e) => Err(FormErrors(vec![("amount".into(), format!("Amount {e}"))])),
    };
    match done {
        Ok(_) => Ok(see_other(&format!("/council/budget-holders/{id}/direct-payment"))),
        Err(errors) => council_plan_page(&app, &visitor, id, PageRequest::default(), errors, &form).await,
    }
}
