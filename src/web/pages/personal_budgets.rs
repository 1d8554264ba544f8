//! The personal-budget pages: a family's requests, self-assessment, review, agreement and
//! decision letter; the council's requests with the assessment and decision forms, what is due,
//! the report, the RAS builder and the council's users.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, web};

use super::forms::{date, page_asked, pounds, problem, word_asked};
use super::{Data, Form, Page, PageError, Visitor, outcome, see_other};
use crate::app::AppError;
use crate::app::council_users::{self, CouncilUserChange, NewCouncilUser};
use crate::app::direct_payments::london_today;
use crate::app::personal_budgets::{self as pb, AssessmentInput, ReviewInput};
use crate::app::plans;
use crate::domain::paging::PageRequest;
use crate::domain::personal_budget::Outcome;
use crate::domain::personal_budget::{
    DUE_WITHIN_DAYS, DecisionInput, DecisionLineInput, Permission, RequestInput, ReviewKind,
};
use crate::domain::ras::{self, AllocationTableInput, RasInput};
use crate::domain::validate::Invalid;
use crate::domain::{BudgetHolderId, PbRequestId, RasId, Role, Stream, UserId};
use crate::templates::FormErrors;
use crate::templates::components::capitalise;
use crate::templates::personal_budgets::{self as pages, CouncilRequest};

const FAMILY: &[Role] = &[Role::Family];
const COUNCIL: &[Role] = &[Role::Council];
const MINE: &str = "/my-plan/requests";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(MINE, web::get().to(family_requests))
        .route(MINE, web::post().to(family_ask))
        .route("/my-plan/requests/{id}", web::get().to(family_request))
        .route("/my-plan/requests/{id}/assess", web::get().to(self_assessment))
        .route("/my-plan/requests/{id}/assess", web::post().to(self_assess))
        .route("/my-plan/requests/{id}/review", web::post().to(ask_review))
        .route("/my-plan/requests/{id}/agreement", web::post().to(accept_agreement))
        .route("/my-plan/requests/{id}/letter", web::get().to(letter))
        .route("/council/requests", web::get().to(council_requests))
        .route("/council/requests/{id}", web::get().to(council_request))
        .route("/council/requests/{id}/assess", web::post().to(council_assess))
        .route("/council/requests/{id}/decision", web::post().to(decide))
        .route("/council/requests/{id}/letter", web::get().to(letter))
        .route(
            "/council/budget-holders/{id}/requests/new",
            web::get().to(new_request_form),
        )
        .route(
            "/council/budget-holders/{id}/requests/new",
            web::post().to(record_request),
        )
        .route("/council/budget-holders/{id}/reviews", web::post().to(record_review))
        .route("/council/due", web::get().to(due))
        .route("/council/reports/personal-budgets", web::get().to(report))
        .route("/council/ras", web::get().to(ras_list))
        .route("/council/ras", web::post().to(add_ras))
        .route("/council/ras/{id}", web::get().to(ras_page))
        .route("/council/ras/{id}", web::post().to(correct_ras))
        .route("/council/users", web::get().to(users))
        .route("/council/users", web::post().to(add_user))
        .route("/council/users/{id}", web::post().to(change_user));
}

fn empty() -> Form {
    Form(Vec::new())
}

fn request_path(id: PbRequestId) -> String {
    format!("/my-plan/requests/{id}")
}

fn council_path(id: PbRequestId) -> String {
    format!("/council/requests/{id}")
}

/// The request form's answers, with what cannot be read in `errors`.
fn request_input(form: &Form, holder: BudgetHolderId, officer: bool, errors: &mut FormErrors) -> Option<RequestInput> {
    let kind = form
        .get("kind")
        .parse()
        .map_err(|_| problem(errors, "kind", "Choose when the personal budget is for"))
        .ok();
    let streams: Vec<_> = form.all("streams").iter().filter_map(|s| s.parse().ok()).collect();
    let management = form.get("preferred_management").parse().ok();
    let received_on = match (officer, form.get("received_on").trim()) {
        (true, text) if !text.is_empty() => Some(date(form, errors, "received_on")?),
        _ => None,
    };
    let notes = Some(form.get("notes").trim().to_string()).filter(|n| !n.is_empty());
    Some(RequestInput {
        budget_holder_id: holder,
        kind: kind?,
        streams,
        preferred_management: management,
        received_on,
        notes,
    })
}

// ---- The family's pages -----------------------------------------------------------------------

async fn family_list(app: &Data, visitor: &Visitor, page: PageRequest, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(FAMILY, MINE)?;
    let plans = plans::all(app, actor).await?;
    let list = pb::list_requests(app, actor, None, page).await?;
    let body = pages::family_requests(&visitor.chrome(), &plans, &list, london_today(), &errors, form);
    Ok(visitor.form_or_page("Personal budget requests", errors.is_empty(), body))
}

pub async fn family_requests(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    family_list(&app, &visitor, page_asked(&req)?, FormErrors::default(), &empty()).await
}

pub async fn family_ask(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(FAMILY, MINE)?;
    let form = Form::read(&visitor, &body)?;
    let holder = form
        .get("budget_holder_id")
        .trim()
        .parse()
        .map_err(|_| PageError::BadForm)?;
    let mut errors = FormErrors::default();
    let Some(input) = request_input(&form, BudgetHolderId(holder), false, &mut errors) else {
        return family_list(&app, &visitor, PageRequest::default(), errors, &form).await;
    };
    match outcome(pb::request(&app, actor, input).await, str::to_string)? {
        Ok(r) => Ok(see_other(&request_path(r.id))),
        Err(errors) => family_list(&app, &visitor, PageRequest::default(), errors, &form).await,
    }
}

async fn family_page(app: &Data, visitor: &Visitor, id: PbRequestId, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(FAMILY, &request_path(id))?;
    let request = pb::get_request(app, actor, id).await?;
    let versions = pb::assessment_versions(app, &request).await?;
    let body = pages::family_request(&visitor.chrome(), &request, &versions, london_today(), &errors, form);
    Ok(visitor.form_or_page(&format!("Personal budget request {id}"), errors.is_empty(), body))
}

pub async fn family_request(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    family_page(
        &app,
        &visitor,
        PbRequestId(id.into_inner()),
        FormErrors::default(),
        &empty(),
    )
    .await
}

/// The answers of a questionnaire form: `ras_id` and `answers.<question id>` = index.
fn assessment_input(form: &Form) -> Result<AssessmentInput, PageError> {
    let ras_id = form.get("ras_id").trim().parse().map_err(|_| PageError::BadForm)?;
    let answers: BTreeMap<String, i64> = form
        .0
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("answers.")?.to_string(), v.trim().parse().ok()?)))
        .collect();
    Ok(AssessmentInput {
        ras_id: RasId(ras_id),
        answers,
    })
}

async fn self_assessment_page(app: &Data, visitor: &Visitor, id: PbRequestId, errors: FormErrors) -> Page {
    let actor = visitor.require(FAMILY, &request_path(id))?;
    let request = pb::get_request(app, actor, id).await?;
    let forms = pb::ras_for_request(app, actor, id).await?;
    let body = pages::self_assessment(&visitor.chrome(), &request, &forms, &errors);
    Ok(visitor.form_or_page("Self-assessment", errors.is_empty(), body))
}

pub async fn self_assessment(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    self_assessment_page(&app, &visitor, PbRequestId(id.into_inner()), FormErrors::default()).await
}

pub async fn self_assess(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = PbRequestId(id.into_inner());
    let actor = visitor.require(FAMILY, &request_path(id))?;
    let form = Form::read(&visitor, &body)?;
    match outcome(
        pb::assess(&app, actor, id, assessment_input(&form)?).await,
        str::to_string,
    )? {
        Ok(_) => Ok(see_other(&request_path(id))),
        Err(errors) => self_assessment_page(&app, &visitor, id, errors).await,
    }
}

pub async fn ask_review(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = PbRequestId(id.into_inner());
    let actor = visitor.require(FAMILY, &request_path(id))?;
    let form = Form::read(&visitor, &body)?;
    let asked = pb::ask_review(&app, actor, id, form.get("reason").to_string()).await;
    match outcome(asked, str::to_string)? {
        Ok(_) => Ok(see_other(&request_path(id))),
        Err(errors) => family_page(&app, &visitor, id, errors, &form).await,
    }
}

pub async fn accept_agreement(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = PbRequestId(id.into_inner());
    let actor = visitor.require(FAMILY, &request_path(id))?;
    Form::read(&visitor, &body)?;
    pb::accept_agreement(&app, actor, id).await?;
    Ok(see_other(&request_path(id)))
}

/// The printable decision letter, for the family and for its council.
pub async fn letter(app: Data, visitor: Visitor, id: web::Path<i64>, req: HttpRequest) -> Page {
    let actor = visitor.require(&[Role::Family, Role::Council], req.path())?;
    let letter = pb::letter(&app, actor, PbRequestId(id.into_inner())).await?;
    Ok(visitor.page("Decision letter", true, pages::letter(&letter)))
}

// ---- The council's pages ----------------------------------------------------------------------

pub async fn council_requests(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(COUNCIL, "/council/requests")?;
    let status = word_asked(&req, "status", "is not a request status")?;
    let list = pb::list_requests(&app, actor, status, page_asked(&req)?).await?;
    let body = pages::council_requests(&list, status, london_today());
    Ok(visitor.page("Personal budget requests", true, body))
}

async fn council_page(app: &Data, visitor: &Visitor, id: PbRequestId, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(COUNCIL, &council_path(id))?;
    let request = pb::get_request(app, actor, id).await?;
    let versions = pb::assessment_versions(app, &request).await?;
    let current = pb::ras_for_request(app, actor, id).await?;
    let view = CouncilRequest {
        request: &request,
        versions: &versions,
        current: &current,
        may_assess: actor.permissions.has(Permission::Assess),
        may_decide: actor.permissions.has(Permission::Decide),
        today: london_today(),
    };
    let body = pages::council_request(&visitor.chrome(), &view, &errors, form);
    Ok(visitor.form_or_page(&format!("Personal budget request {id}"), errors.is_empty(), body))
}

pub async fn council_request(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    council_page(
        &app,
        &visitor,
        PbRequestId(id.into_inner()),
        FormErrors::default(),
        &empty(),
    )
    .await
}

pub async fn council_assess(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = PbRequestId(id.into_inner());
    let actor = visitor.require(COUNCIL, &council_path(id))?;
    let form = Form::read(&visitor, &body)?;
    match outcome(
        pb::assess(&app, actor, id, assessment_input(&form)?).await,
        str::to_string,
    )? {
        Ok(_) => Ok(see_other(&council_path(id))),
        Err(errors) => council_page(&app, &visitor, id, errors, &form).await,
    }
}

/// The decision form: an outcome, an amount and a way of holding it per stream, the reasons.
/// Returns the input and which stream each of its lines is, to name their fields.
fn decision_input(form: &Form, streams: &[Stream]) -> (DecisionInput, Vec<String>, FormErrors) {
    let mut errors = FormErrors::default();
    let outcome = form
        .get("outcome")
        .parse()
        .map_err(|_| problem(&mut errors, "outcome", "Choose the decision"))
        .ok();
    let mut lines = Vec::new();
    let mut names = Vec::new();
    for s in streams {
        let amount_text = pounds(form.get(&format!("amount.{s}")));
        let amount = match amount_text.as_str() {
            "" => None,
            text => match text.parse() {
                Ok(a) => Some(a),
                Err(_) => {
                    problem(
                        &mut errors,
                        &format!("amount.{s}"),
                        "Enter an amount in pounds, such as 1200.00",
                    );
                    None
                }
            },
        };
        let management = form.get(&format!("management.{s}")).parse().ok();
        let named = amount.is_some() || management.is_some() || outcome == Some(Outcome::Agreed);
        if named && outcome != Some(Outcome::Refused) {
            lines.push(DecisionLineInput {
                stream: *s,
                management,
                amount,
            });
            names.push(s.to_string());
        }
    }
    let reasons = Some(form.get("reasons").trim().to_string()).filter(|r| !r.is_empty());
    let input = DecisionInput {
        outcome: outcome.unwrap_or(Outcome::Refused),
        allocations: lines,
        reasons,
    };
    (input, names, errors)
}

/// `allocations[1].amount` on the form is `amount.<that line's stream>`.
fn decision_field(names: &[String]) -> impl Fn(&str) -> String + '_ {
    move |f: &str| {
        let line = f.strip_prefix("allocations[").and_then(|rest| rest.split_once("]."));
        match line.and_then(|(i, field)| Some((names.get(i.parse::<usize>().ok()?)?, field))) {
            Some((stream, "management")) => format!("management.{stream}"),
            Some((stream, _)) => format!("amount.{stream}"),
            None if f == "allocations" => "outcome".into(),
            None => f.to_string(),
        }
    }
}

pub async fn decide(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = PbRequestId(id.into_inner());
    let actor = visitor.require(COUNCIL, &council_path(id))?;
    let form = Form::read(&visitor, &body)?;
    let request = pb::get_request(&app, actor, id).await?;
    let (input, names, errors) = decision_input(&form, &request.streams);
    if !errors.is_empty() {
        return council_page(&app, &visitor, id, errors, &form).await;
    }
    match outcome(pb::decide(&app, actor, id, input).await, decision_field(&names))? {
        Ok(_) => Ok(see_other(&council_path(id))),
        Err(errors) => council_page(&app, &visitor, id, errors, &form).await,
    }
}

async fn new_request_page(app: &Data, visitor: &Visitor, id: BudgetHolderId, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(COUNCIL, &format!("/council/budget-holders/{id}/requests/new"))?;
    let plan = plans::get(app, actor, id).await?;
    let body = pages::council_new_request(&visitor.chrome(), &plan, &errors, form);
    Ok(visitor.form_or_page("Record a personal budget request", errors.is_empty(), body))
}

pub async fn new_request_form(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    new_request_page(
        &app,
        &visitor,
        BudgetHolderId(id.into_inner()),
        FormErrors::default(),
        &empty(),
    )
    .await
}

pub async fn record_request(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = BudgetHolderId(id.into_inner());
    let actor = visitor.require(COUNCIL, &format!("/council/budget-holders/{id}/requests/new"))?;
    let form = Form::read(&visitor, &body)?;
    let mut errors = FormErrors::default();
    let Some(input) = request_input(&form, id, true, &mut errors) else {
        return new_request_page(&app, &visitor, id, errors, &form).await;
    };
    match outcome(pb::request(&app, actor, input).await, str::to_string)? {
        Ok(r) => Ok(see_other(&council_path(r.id))),
        Err(errors) => new_request_page(&app, &visitor, id, errors, &form).await,
    }
}

pub async fn record_review(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let actor = visitor.require(COUNCIL, "/council/due")?;
    let form = Form::read(&visitor, &body)?;
    let kind: ReviewKind = form.get("kind").parse().map_err(|_| PageError::BadForm)?;
    let input = ReviewInput {
        kind,
        held_on: None,
        notes: Some(form.get("notes").to_string()).filter(|n| !n.trim().is_empty()),
    };
    pb::record_review(&app, actor, BudgetHolderId(id.into_inner()), input).await?;
    Ok(see_other("/council/due"))
}

pub async fn due(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(COUNCIL, "/council/due")?;
    let within =
        super::forms::number_asked(&req, "within_days", "must be a number of days")?.unwrap_or(DUE_WITHIN_DAYS);
    if !(0..=366).contains(&within) {
        return Err(AppError::bad_parameters(Invalid::one("within_days", "must be from 0 to 366")).into());
    }
    let list = pb::due(&app, actor, within, page_asked(&req)?).await?;
    Ok(visitor.page("What is due", true, pages::due(&visitor.chrome(), &list, within)))
}

pub async fn report(app: Data, visitor: Visitor) -> Page {
    let actor = visitor.require(COUNCIL, "/council/reports/personal-budgets")?;
    let report = pb::report(&app, actor, crate::domain::reports::DEFAULT_MIN_HOLDERS).await?;
    Ok(visitor.page("Personal budgets report", true, pages::report(&report)))
}

// ---- RAS --------------------------------------------------------------------------------------

/// The RAS form: the typed questionnaire, and bands or an amount per point with a cap.
fn ras_input(form: &Form) -> Result<RasInput, FormErrors> {
    let mut errors = FormErrors::default();
    let stream = form
        .get("stream")
        .parse()
        .map_err(|_| problem(&mut errors, "stream", "Choose the funding stream"))
        .ok();
    let questions = ras::questions_from_text(form.get("questions")).unwrap_or_else(|e| {
        e.0.into_iter()
            .for_each(|f| problem(&mut errors, "questions", &capitalise(&f.message)));
        Vec::new()
    });
    let mut allocation = AllocationTableInput::default();
    if form.get("allocation_kind") == "per_point" {
        allocation.per_point = parse_pounds(form, &mut errors, "per_point");
        allocation.cap = parse_pounds(form, &mut errors, "cap");
    } else {
        allocation.bands = Some(ras::bands_from_text(form.get("bands")).unwrap_or_else(|e| {
            e.0.into_iter()
                .for_each(|f| problem(&mut errors, "bands", &capitalise(&f.message)));
            Vec::new()
        }));
    }
    match (stream, errors.is_empty()) {
        (Some(stream), true) => Ok(RasInput {
            name: form.get("name").to_string(),
            stream,
            questions,
            allocation,
        }),
        _ => Err(errors),
    }
}

fn parse_pounds(form: &Form, errors: &mut FormErrors, name: &str) -> Option<crate::domain::Pence> {
    let parsed = pounds(form.get(name)).parse().ok();
    if parsed.is_none() {
        problem(errors, name, "Enter an amount in pounds, such as 25.00");
    }
    parsed
}

/// The use case's field names on the RAS form.
fn ras_field(f: &str) -> String {
    match f.split(['.', '[']).next().unwrap_or(f) {
        "allocation" if f.contains("per_point") => "per_point".into(),
        "allocation" if f.contains(".cap") => "cap".into(),
        "allocation" => "bands".into(),
        "questions" => "questions".into(),
        other => other.to_string(),
    }
}

async fn ras_list_page(app: &Data, visitor: &Visitor, page: PageRequest, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(COUNCIL, "/council/ras")?;
    let list = pb::list_ras(app, actor, None, page).await?;
    let admin = actor.permissions.has(Permission::Admin);
    let body = pages::ras_list(&visitor.chrome(), &list, admin, &errors, form);
    Ok(visitor.form_or_page("Resource allocation systems", errors.is_empty(), body))
}

pub async fn ras_list(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    ras_list_page(&app, &visitor, page_asked(&req)?, FormErrors::default(), &empty()).await
}

pub async fn add_ras(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(COUNCIL, "/council/ras")?;
    let form = Form::read(&visitor, &body)?;
    let result = match ras_input(&form) {
        Ok(input) => outcome(pb::create_ras(&app, actor, input).await, ras_field)?,
        Err(errors) => Err(errors),
    };
    match result {
        Ok(r) => Ok(see_other(&format!("/council/ras/{}", r.id))),
        Err(errors) => ras_list_page(&app, &visitor, PageRequest::default(), errors, &form).await,
    }
}

async fn ras_view(app: &Data, visitor: &Visitor, id: RasId, errors: FormErrors, form: Option<&Form>) -> Page {
    let actor = visitor.require(COUNCIL, &format!("/council/ras/{id}"))?;
    let ras = pb::get_ras(app, actor, id).await?;
    let kind = match ras.definition.allocation {
        ras::AllocationTable::Bands { .. } => "bands",
        ras::AllocationTable::PerPoint { .. } => "per_point",
    };
    let prefilled = Form(vec![
        ("name".into(), ras.name.clone()),
        ("stream".into(), ras.stream.to_string()),
        ("questions".into(), ras.definition.questions_text()),
        ("bands".into(), ras.definition.bands_text()),
        ("allocation_kind".into(), kind.into()),
    ]);
    let admin = actor.permissions.has(Permission::Admin);
    let body = pages::ras_page(&visitor.chrome(), &ras, admin, &errors, form.unwrap_or(&prefilled));
    Ok(visitor.form_or_page(
        &format!("{}, version {}", ras.name, ras.version),
        errors.is_empty(),
        body,
    ))
}

pub async fn ras_page(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    ras_view(&app, &visitor, RasId(id.into_inner()), FormErrors::default(), None).await
}

pub async fn correct_ras(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = RasId(id.into_inner());
    let actor = visitor.require(COUNCIL, &format!("/council/ras/{id}"))?;
    let form = Form::read(&visitor, &body)?;
    let result = match ras_input(&form) {
        Ok(input) => outcome(pb::update_ras(&app, actor, id, input).await, ras_field)?,
        Err(errors) => Err(errors),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/council/ras/{id}"))),
        Err(errors) => ras_view(&app, &visitor, id, errors, Some(&form)).await,
    }
}

// ---- Council users ----------------------------------------------------------------------------

async fn users_page(app: &Data, visitor: &Visitor, page: PageRequest, errors: FormErrors, form: &Form) -> Page {
    let actor = visitor.require(COUNCIL, "/council/users")?;
    let list = council_users::list(app, actor, page).await?;
    let body = pages::users(&visitor.chrome(), &list, &errors, form);
    Ok(visitor.form_or_page("Council users", errors.is_empty(), body))
}

pub async fn users(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    users_page(&app, &visitor, page_asked(&req)?, FormErrors::default(), &empty()).await
}

fn permissions(form: &Form, name: &str) -> Vec<Permission> {
    form.all(name).iter().filter_map(|p| p.parse().ok()).collect()
}

pub async fn add_user(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(COUNCIL, "/council/users")?;
    let form = Form::read(&visitor, &body)?;
    let password = Some(form.get("password").to_string()).filter(|p| !p.is_empty());
    let input = NewCouncilUser {
        email: form.get("email").to_string(),
        password,
        permissions: permissions(&form, "permissions"),
    };
    match outcome(council_users::create(&app, actor, input).await, str::to_string)? {
        Ok(_) => Ok(see_other("/council/users")),
        Err(errors) => users_page(&app, &visitor, PageRequest::default(), errors, &form).await,
    }
}

pub async fn change_user(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = UserId(id.into_inner());
    let actor = visitor.require(COUNCIL, "/council/users")?;
    let form = Form::read(&visitor, &body)?;
    let change = CouncilUserChange {
        permissions: Some(permissions(&form, &format!("permissions-{id}"))),
        active: Some(form.get(&format!("active-{id}")) == "yes"),
    };
    let field = move |f: &str| {
        if f == "permissions" {
            format!("permissions-{id}")
        } else {
            f.to_string()
        }
    };
    match outcome(council_users::change(&app, actor, id, change).await, field)? {
        Ok(_) => Ok(see_other("/council/users")),
        Err(errors) => users_page(&app, &visitor, PageRequest::default(), errors, &form).await,
    }
}
