//! Pages anyone can see: home, search, a service, logging in and out.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{Data, Form, Page, Visitor, forms, outcome, random_hex, safe_next};
use crate::app::{accounts, search, services};
use crate::domain::budget::LoginInput;
use crate::domain::geo::MapTiles;
use crate::domain::search::SearchParams;
use crate::domain::{Role, ServiceId};
use crate::templates::FormErrors;
use crate::templates::public::{self as pages, SearchPage, ServicePage};

pub async fn home(visitor: Visitor) -> HttpResponse {
    visitor.page("Services for children and young people with SEND", false, pages::home())
}

/// The page's default distance when a postcode is given without one.
const PAGE_RADIUS_MILES: f64 = 5.0;

pub async fn search(app: Data, tiles: web::Data<MapTiles>, visitor: Visitor, req: HttpRequest) -> Page {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let query = forms::search_query(pairs);
    let options = search::Options {
        facets: false,
        default_radius_miles: Some(PAGE_RADIUS_MILES),
        council: search::council_of(visitor.actor.as_ref()),
    };
    let found = match SearchParams::parse(&query, &app.taxonomy) {
        _ if query.is_empty() => Ok(None),
        Err(invalid) => Err(crate::app::AppError::Invalid(invalid)),
        Ok(params) => search::search(&app, &params, options).await.map(|f| Some((f, params))),
    };
    let (found, errors) = match outcome(found, str::to_string)? {
        Ok(found) => (found, FormErrors::default()),
        Err(errors) => (None, forms::search_errors(errors)),
    };
    let page = SearchPage {
        errors: &errors,
        query: &query,
        found: found.as_ref().map(|(found, _)| found),
        page: found.as_ref().map_or(1, |(_, params)| params.page),
        per_page: found.as_ref().map_or(1, |(_, params)| params.per_page),
        tiles: &tiles,
    };
    let title = if errors.is_empty() {
        "Search the Local Offer"
    } else {
        "Error: Search the Local Offer"
    };
    Ok(visitor.page(title, false, pages::search(&app.taxonomy, &page)))
}

pub async fn service(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let d = services::details(&app, visitor.actor.clone(), ServiceId(id.into_inner())).await?;
    let page = ServicePage {
        service: &d.service,
        provider: &d.provider,
        plans: &d.plans,
        pay_from: &d.pay_from,
        refused_by: &d.refused_by,
        sessions: &d.sessions,
        series: &d.series,
        logged_in: visitor.actor.is_some(),
        can_ask: visitor
            .actor
            .as_ref()
            .is_some_and(|a| matches!(a.role, Role::Family | Role::Broker)),
        shortlisted: visitor.shortlist.contains(&d.service.id.0),
        request_id: &random_hex(),
    };
    let body = pages::service(&visitor.chrome(), &app.taxonomy, &page);
    Ok(visitor.page(&d.service.name, false, body))
}

pub async fn login_form(visitor: Visitor, req: HttpRequest) -> HttpResponse {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let next = pairs.iter().find(|(k, _)| k == "next").map_or("", |(_, v)| v.as_str());
    let body = pages::login(&visitor.chrome(), &FormErrors::default(), "", next);
    visitor.page("Log in", false, body)
}

pub async fn login(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let form = Form::read(&visitor, &body)?;
    let session = match LoginInput::try_from(&form) {
        Ok(input) => {
            let code = Some(form.get("totp").to_string()).filter(|c| !c.trim().is_empty());
            outcome(accounts::login(&app, input, code).await, str::to_string)?
        }
        Err(errors) => Err(errors),
    };
    match session {
        Ok(session) if session.must_enrol => visitor.logged_in(super::ENROLMENT_PAGE, session.token),
        Ok(session) => {
            let home = match session.actor.role {
                Role::Family | Role::Broker => "/my-plan",
                Role::Provider => "/provider/services",
                Role::Council => "/council/budget-holders",
            };
            visitor.logged_in(safe_next(form.get("next")).unwrap_or(home), session.token)
        }
        Err(errors) => {
            let body = pages::login(&visitor.chrome(), &errors, form.get("email").trim(), form.get("next"));
            Ok(visitor.form_again("Log in", false, body))
        }
    }
}

pub async fn logout(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    Form::read(&visitor, &body)?;
    if let Some(token) = visitor.session.clone() {
        accounts::logout(&app, token).await?;
    }
    visitor.logged_out()
}
