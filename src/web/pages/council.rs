//! Council pages: the budget holders of the officer's own council, its providers, its reports.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::forms::{holder_field, page_asked};
use super::{Data, Form, Page, Visitor, outcome, see_other};
use crate::app::reports::{Csv, GapFilter};
use crate::app::{AppError, plans, providers, reports};
use crate::domain::budget::BudgetHolderInput;
use crate::domain::{OrganisationId, OrganisationStatus, Role};
use crate::templates::FormErrors;
use crate::templates::council as pages;

const COUNCIL: &[Role] = &[Role::Council];

pub async fn budget_holders(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(COUNCIL, "/council/budget-holders")?;
    let holders = plans::list(&app, actor, page_asked(&req)?).await?;
    Ok(visitor.page("Budget holders", true, pages::budget_holders(&holders)))
}

pub async fn new_holder_form(app: Data, visitor: Visitor) -> Page {
    visitor.require(COUNCIL, "/council/budget-holders/new")?;
    let body = pages::holder_form(
        &visitor.chrome(),
        &app.taxonomy,
        &FormErrors::default(),
        &Form(Vec::new()),
    );
    Ok(visitor.page("Add a budget holder", true, body))
}

pub async fn create_holder(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(COUNCIL, "/council/budget-holders/new")?;
    let form = Form::read(&visitor, &body)?;
    let created = match BudgetHolderInput::try_from(&form) {
        Ok(input) => outcome(plans::create(&app, actor, input).await, holder_field)?,
        Err(errors) => Err(errors),
    };
    match created {
        Ok(_) => Ok(see_other("/council/budget-holders")),
        Err(errors) => {
            let body = pages::holder_form(&visitor.chrome(), &app.taxonomy, &errors, &form);
            Ok(visitor.form_again("Add a budget holder", true, body))
        }
    }
}

pub async fn providers(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/providers")?;
    let list = providers::list(&app, actor).await?;
    Ok(visitor.page("Providers", true, pages::providers(&visitor.chrome(), &list)))
}

pub async fn set_provider_status(
    app: Data,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
) -> Page {
    let actor = visitor.require(COUNCIL, "/council/providers")?;
    Form::read(&visitor, &body)?;
    let (id, verb) = path.into_inner();
    let status = match verb.as_str() {
        "verify" => OrganisationStatus::Verified,
        "suspend" => OrganisationStatus::Suspended,
        _ => return Err(AppError::not_found("page").into()),
    };
    providers::set_status(&app, actor, OrganisationId(id), status).await?;
    Ok(see_other("/council/providers"))
}

pub async fn reports(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/reports")?;
    let gaps = reports::gaps(&app, actor, &GapFilter::default()).await?;
    let spending = reports::spending(&app, actor).await?;
    Ok(visitor.page("Reports", true, pages::reports(&app.taxonomy, &gaps, &spending)))
}

fn download(csv: Csv) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", csv.filename),
        ))
        .body(csv.bytes)
}

pub async fn gaps_csv(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/reports")?;
    Ok(download(reports::gaps_csv(&app, actor, &GapFilter::default()).await?))
}

pub async fn spending_csv(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/reports")?;
    Ok(download(reports::spending_csv(&app, actor).await?))
}
