//! Council pages: the budget holders of the officer's own council, its providers, its reports.

use actix_web::{HttpRequest, web};

use super::council_forms::{self as f, adjustment, adjustment_fields, broker_field, new_allocation_field};
use super::forms::{holder_field, page_asked, page_asked_as};
use super::{Data, Form, Page, Visitor, download, outcome, see_other};
use crate::app::reports::{GapFilter, ReportPages};
use crate::app::{AppError, AppResult, councils, plan_changes, plans, providers, records, reports};
use crate::domain::budget::{AllocationInput, BudgetHolderInput};
use crate::domain::council::SettingsInput;
use crate::domain::listing::ListingAction;
use crate::domain::paging::PageRequest;
use crate::domain::plan_change::PlanDetailsInput;
use crate::domain::{AllocationId, BudgetHolderId, OrganisationId, PlanOutcomeId, Role};
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
    let action = match verb.as_str() {
        "verify" => ListingAction::Verify,
        "suspend" => ListingAction::Suspend,
        "reinstate" => ListingAction::Reinstate,
        _ => return Err(AppError::not_found("page").into()),
    };
    providers::act(&app, actor, OrganisationId(id), action).await?;
    Ok(see_other("/council/providers"))
}

pub async fn reports(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(COUNCIL, "/council/reports")?;
    let pages = ReportPages {
        gaps: page_asked_as(&req, "gaps_page")?,
        flagged: page_asked_as(&req, "flagged_page")?,
        at_risk: page_asked_as(&req, "at_risk_page")?,
        outcomes: page_asked_as(&req, "outcomes_page")?,
    };
    let all = reports::all(&app, actor, pages).await?;
    Ok(visitor.page("Reports", true, pages::reports(&app.taxonomy, &all)))
}

pub async fn gaps_csv(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/reports")?;
    Ok(download(reports::gaps_csv(&app, actor, &GapFilter::default()).await?))
}

pub async fn spending_csv(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/reports")?;
    Ok(download(reports::spending_csv(&app, actor).await?))
}

pub async fn providers_at_risk_csv(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/reports")?;
    Ok(download(reports::providers_at_risk_csv(&app, actor).await?))
}

pub async fn outcomes_csv(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/reports")?;
    Ok(download(reports::outcomes_csv(&app, actor).await?))
}

fn holder_path(id: BudgetHolderId) -> String {
    format!("/council/budget-holders/{id}")
}

pub async fn holder(app: Data, visitor: Visitor, id: web::Path<i64>, req: HttpRequest) -> Page {
    let id = BudgetHolderId(id.into_inner());
    let actor = visitor.require(COUNCIL, &holder_path(id))?;
    let record = plan_changes::record(&app, actor, id, page_asked(&req)?, page_asked_as(&req, "access_page")?).await?;
    let body = pages::holder(
        &visitor.chrome(),
        &app.taxonomy,
        &record,
        &FormErrors::default(),
        &Form(Vec::new()),
    );
    Ok(visitor.page(&format!("Budget holder {}", record.plan.reference), true, body))
}

/// After a change on the budget holder's page: back to it (at the section changed), or the page
/// again with the form's problems.
async fn holder_after<T>(
    app: &Data,
    visitor: &Visitor,
    id: BudgetHolderId,
    section: &str,
    result: Result<AppResult<T>, FormErrors>,
    field: impl Fn(&str) -> String,
    form: &Form,
) -> Page {
    let errors = match result {
        Ok(done) => match outcome(done, field)? {
            Ok(_) => return Ok(see_other(&format!("{}#{section}", holder_path(id)))),
            Err(errors) => errors,
        },
        Err(errors) => errors,
    };
    let actor = visitor.require(COUNCIL, &holder_path(id))?;
    let record = plan_changes::record(app, actor, id, PageRequest::default(), PageRequest::default()).await?;
    let body = pages::holder(&visitor.chrome(), &app.taxonomy, &record, &errors, form);
    Ok(visitor.form_again(&format!("Budget holder {}", record.plan.reference), true, body))
}

pub async fn change_plan(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = BudgetHolderId(id.into_inner());
    let actor = visitor.require(COUNCIL, &holder_path(id))?;
    let form = Form::read(&visitor, &body)?;
    let result = match PlanDetailsInput::try_from(&form) {
        Ok(input) => Ok(plan_changes::change_details(&app, actor, id, input).await),
        Err(errors) => Err(errors),
    };
    holder_after(&app, &visitor, id, "plan", result, str::to_string, &form).await
}

pub async fn adjust_allocation(app: Data, visitor: Visitor, path: web::Path<(i64, i64)>, body: web::Bytes) -> Page {
    let (id, allocation) = path.into_inner();
    let (id, allocation) = (BudgetHolderId(id), AllocationId(allocation));
    let actor = visitor.require(COUNCIL, &holder_path(id))?;
    let form = Form::read(&visitor, &body)?;
    let result = match adjustment(&form, allocation) {
        Ok(input) => Ok(plan_changes::adjust(&app, actor, id, allocation, input).await),
        Err(errors) => Err(errors),
    };
    let (amount, reason) = adjustment_fields(allocation);
    let field = |name: &str| {
        if name == "reason" {
            reason.clone()
        } else {
            amount.clone()
        }
    };
    holder_after(&app, &visitor, id, "allocations", result, field, &form).await
}

pub async fn add_allocation(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = BudgetHolderId(id.into_inner());
    let actor = visitor.require(COUNCIL, &holder_path(id))?;
    let form = Form::read(&visitor, &body)?;
    let result = match AllocationInput::try_from(&form) {
        Ok(input) => Ok(plan_changes::add_allocation(&app, actor, id, input).await),
        Err(errors) => Err(errors),
    };
    holder_after(&app, &visitor, id, "allocations", result, new_allocation_field, &form).await
}

pub async fn set_outcome(app: Data, visitor: Visitor, path: web::Path<(i64, i64)>, body: web::Bytes) -> Page {
    let (id, outcome_id) = path.into_inner();
    let (id, outcome_id) = (BudgetHolderId(id), PlanOutcomeId(outcome_id));
    let actor = visitor.require(COUNCIL, &holder_path(id))?;
    let form = Form::read(&visitor, &body)?;
    let result = match f::outcome_status(&form, outcome_id) {
        Ok(status) => Ok(plans::set_outcome_status(&app, actor, id, outcome_id, status).await),
        Err(errors) => Err(errors),
    };
    let field = |_: &str| format!("status_{}", outcome_id.0);
    holder_after(&app, &visitor, id, "outcomes", result, field, &form).await
}

pub async fn set_broker(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = BudgetHolderId(id.into_inner());
    let actor = visitor.require(COUNCIL, &holder_path(id))?;
    let form = Form::read(&visitor, &body)?;
    let result = match f::broker(&form) {
        Ok(broker) => Ok(plan_changes::set_broker(&app, actor, id, broker).await),
        Err(errors) => Err(errors),
    };
    holder_after(&app, &visitor, id, "broker", result, |_| "broker".to_string(), &form).await
}

/// The officer erases the record once the plan's retention period is over.
pub async fn erase(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = BudgetHolderId(id.into_inner());
    let actor = visitor.require(COUNCIL, &holder_path(id))?;
    let form = Form::read(&visitor, &body)?;
    // The refusal (retention not over, already erased) is shown beside the button.
    let erased = records::erase(&app, actor, id).await.map_err(|mut e| {
        if let AppError::Conflict { field, .. } = &mut e {
            field.get_or_insert_with(|| "erase".into());
        }
        e
    });
    holder_after(&app, &visitor, id, "access", Ok(erased), |_| "erase".to_string(), &form).await
}

/// The officer lifts the lock-out on the family's login.
pub async fn unlock_login(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = BudgetHolderId(id.into_inner());
    let actor = visitor.require(COUNCIL, &holder_path(id))?;
    Form::read(&visitor, &body)?;
    crate::app::accounts::unlock_family_login(&app, actor, id).await?;
    Ok(see_other(&format!("{}#family-login", holder_path(id))))
}

pub async fn brokers(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/brokers")?;
    let list = councils::brokers(&app, actor).await?;
    let body = pages::brokers(&visitor.chrome(), &list, &FormErrors::default(), &Form(Vec::new()));
    Ok(visitor.page("Brokers", true, body))
}

pub async fn create_broker(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(COUNCIL, "/council/brokers")?;
    let form = Form::read(&visitor, &body)?;
    let input = f::broker_registration(&form);
    match outcome(councils::create_broker(&app, actor, input).await, broker_field)? {
        Ok(_) => Ok(see_other("/council/brokers")),
        Err(errors) => {
            let list = councils::brokers(&app, actor).await?;
            let body = pages::brokers(&visitor.chrome(), &list, &errors, &form);
            Ok(visitor.form_again("Brokers", true, body))
        }
    }
}

pub async fn settings(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/settings")?;
    let settings = councils::settings(&app, actor).await?;
    let body = pages::settings(&visitor.chrome(), settings, &FormErrors::default());
    Ok(visitor.page("Settings", true, body))
}

pub async fn change_settings(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(COUNCIL, "/council/settings")?;
    let form = Form::read(&visitor, &body)?;
    let changed = match SettingsInput::try_from(&form) {
        Ok(input) => outcome(councils::change_settings(&app, actor, input).await, str::to_string)?,
        Err(errors) => Err(errors),
    };
    match changed {
        Ok(_) => Ok(see_other("/council/settings")),
        Err(errors) => {
            let settings = councils::settings(&app, actor).await?;
            let body = pages::settings(&visitor.chrome(), settings, &errors);
            Ok(visitor.form_again("Settings", true, body))
        }
    }
}
