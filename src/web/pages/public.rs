//! Pages anyone can see: home, search, a service, logging in and out.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use super::{Form, PageError, Visitor, read_form, safe_next, see_other};
use crate::db::{budget_holders, services, users};
use crate::domain::search::{Origin, SearchParams};
use crate::domain::taxonomy::{Taxonomy, Vocabulary};
use crate::domain::{Role, ServiceId};
use crate::search::{Hit, SearchRequest};
use crate::templates::{self, FormErrors, money};
use crate::web::{AppState, blocking};

type Data = web::Data<AppState>;

pub async fn home(visitor: Visitor) -> HttpResponse {
    visitor.page(
        "Services for children and young people with SEND",
        false,
        html! {
            h1 { "Services for children and young people with SEND" }
            p.lead { "The Local Offer lists the support, activities and short breaks for children and young people aged 0 to 25 with special educational needs and disabilities." }
            p { a.button href="/search" { "Search the Local Offer" } }
            h2 { "Personal budgets" }
            p { "If your child has an education, health and care (EHC) plan, you can ask for a personal budget: money to buy support that helps your child reach the outcomes in their plan." }
            p { "Section J of the plan says how much there is and how it is held: as a direct payment to you, kept by the council for you, or managed by an organisation you choose." }
            p { "Log in to see your plan, find services that meet its outcomes near you, and book them against what is left of your budget." }
            h2 { "For providers" }
            p { "Charities, community groups and companies can list their services here, say which outcomes they help with, and set prices that cover their full costs." }
            p { a href="/provider/register" { "Register your organisation" } }
        },
    )
}

/// Terms of one vocabulary at one depth (0 = the roots, 1 = their children), as form choices.
pub fn choices(taxonomy: &Taxonomy, vocabulary: Vocabulary, depth: usize) -> Vec<(String, String)> {
    taxonomy
        .terms
        .iter()
        .filter(|t| t.vocabulary == vocabulary && taxonomy.lineage(t.id.as_str()).count() == depth + 1)
        .map(|t| (t.id.0.clone(), t.label.clone()))
        .collect()
}

pub fn term_label(taxonomy: &Taxonomy, id: &str) -> String {
    taxonomy.get(id).map_or_else(|| id.to_string(), |t| t.label.clone())
}

fn result_item(taxonomy: &Taxonomy, hit: &Hit) -> Markup {
    html! {
        li {
            h3 { a href={ "/services/" (hit.service_id) } { (hit.name) } }
            p { (hit.organisation.name) }
            p {
                @if let Some(d) = hit.distance_miles { (format!("{d:.1}")) " miles away. " }
                @if let Some(p) = hit.price_from { "From " (money(p)) ". " }
                "Ages " (hit.min_age) " to " (hit.max_age) "."
            }
            @if !hit.outcomes_matched.is_empty() {
                p { "Meets: " @for o in &hit.outcomes_matched { span.tag { (term_label(taxonomy, o)) } } }
            }
        }
    }
}

/// A simple map: the search centre and each result, drawn to scale, with numbers matching the list.
fn map(hits: &[Hit], radius: f64) -> Markup {
    let scale = 140.0 / radius.max(0.5);
    html! {
        svg.map viewBox="0 0 320 320" role="img" aria-label={ "Map of the " (hits.len()) " results around your postcode; the list has the same results" } {
            circle cx="160" cy="160" r=(format!("{:.0}", (radius * scale).min(155.0))) fill="none" stroke="#505a5f" stroke-dasharray="4 4" {}
            circle cx="160" cy="160" r="6" fill="#0b0c0c" {}
            text x="170" y="156" font-size="12" { "You" }
            @for (i, hit) in hits.iter().enumerate() {
                @if let Some(d) = hit.distance_miles {
                    @let angle = (i as f64) * 2.399;
                    @let r = (d * scale).min(150.0);
                    @let (x, y) = (160.0 + r * angle.cos(), 160.0 + r * angle.sin());
                    circle cx=(format!("{x:.0}")) cy=(format!("{y:.0}")) r="9" fill="#1d70b8" {}
                    text x=(format!("{x:.0}")) y=(format!("{:.0}", y + 4.0)) font-size="11" fill="#fff" text-anchor="middle" { (i + 1) }
                }
            }
        }
    }
}

pub async fn search(state: Data, visitor: Visitor, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let value = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map_or("", |(_, v)| v.as_str())
            .to_string()
    };
    let chosen = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let searched = !pairs.is_empty();
    let mut errors = FormErrors::default();
    let mut results = None;
    if searched {
        match SearchParams::parse(&pairs, &state.taxonomy) {
            Err(invalid) => errors = super::form_errors(invalid, |f| f.to_string()),
            Ok(params) => {
                let origin = match &params.origin {
                    Some(Origin::Postcode(pc)) => match state.geocoder.locate(pc).await {
                        Some(found) => Some(found.at),
                        None => {
                            errors
                                .0
                                .push(("postcode".into(), "We cannot find where this postcode is".into()));
                            None
                        }
                    },
                    Some(Origin::At(at)) => Some(*at),
                    None => None,
                };
                if errors.is_empty() {
                    let radius = params.radius_miles.or(origin.map(|_| 5.0));
                    let request = SearchRequest::from_params(&params, origin, radius, false);
                    let index = state.search.clone();
                    let found = web::block(move || index.search(&request))
                        .await
                        .map_err(|_| PageError::Unavailable)?;
                    let found = found.map_err(|e| PageError::from(crate::web::error::ApiError::from(e)))?;
                    results = Some((found, origin, radius.unwrap_or(5.0)));
                }
            }
        }
    }
    let taxonomy = &state.taxonomy;
    let title = if errors.is_empty() {
        "Search the Local Offer"
    } else {
        "Error: Search the Local Offer"
    };
    Ok(visitor.page(
        title,
        false,
        html! {
            h1 { "Search the Local Offer" }
            (errors.summary())
            form method="get" action="/search" {
                (templates::input(&errors, "q", "What are you looking for?", &value("q"), "text", Some("For example: short breaks, swimming, speech therapy")))
                (templates::checkboxes(&errors, "outcome", "Outcomes", &choices(taxonomy, Vocabulary::Outcome, 1), &chosen("outcome")))
                details open[!chosen("service_type").is_empty()] {
                    summary { "Kinds of service" }
                    (templates::checkboxes(&errors, "service_type", "Kinds of service", &choices(taxonomy, Vocabulary::ServiceType, 0), &chosen("service_type")))
                }
                (templates::input(&errors, "postcode", "Postcode", &value("postcode"), "text", Some("For example: SW19 2HR, or just SW19")))
                (templates::input(&errors, "radius_miles", "Distance in miles", &value("radius_miles"), "text", Some("How far from the postcode; 5 if you leave it empty")))
                (templates::input(&errors, "age", "Child's age", &value("age"), "text", None))
                button.button type="submit" { "Search" }
            }
            @if let Some((found, origin, radius)) = &results {
                h2 { (found.total) " " (if found.total == 1 { "service" } else { "services" }) " found" }
                @if origin.is_some() && !found.results.is_empty() { (map(&found.results, *radius)) }
                ol.results { @for hit in &found.results { (result_item(taxonomy, hit)) } }
            }
        },
    ))
}

pub async fn service(state: Data, visitor: Visitor, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = ServiceId(path.into_inner());
    let viewer = visitor.actor.clone();
    let (view, plans) = blocking(&state, move |db| {
        db.read(|conn| {
            let view = services::get(conn, viewer.as_ref(), id)?;
            let plans = match &viewer {
                Some(a) if matches!(a.role, Role::Family | Role::Broker) => budget_holders::list(conn, a)?,
                _ => Vec::new(),
            };
            Ok((view, plans))
        })
    })
    .await?;
    let taxonomy = &state.taxonomy;
    let bookable = !view.price_options.is_empty() && !view.funding_streams.is_empty();
    let page = html! {
        h1 { (view.name) }
        p.lead { (view.organisation.name) }
        @for para in view.description.split("\n\n") { p { (para) } }
        (templates::summary_list(&[
            ("Helps with", html! { @for o in &view.outcomes { span.tag { (term_label(taxonomy, o)) } } }),
            ("Type of service", html! { @for t in &view.service_types { span.tag { (term_label(taxonomy, t)) } } }),
            ("Who it is for", html! { "Ages " (view.min_age) " to " (view.max_age) @if !view.needs.is_empty() { ". Suits: " @for (i, n) in view.needs.iter().enumerate() { @if i > 0 { ", " } (term_label(taxonomy, n)) } } }),
            ("Where", html! {
                @if let Some(l) = &view.location { (l.address.clone().unwrap_or_default()) " " (l.postcode.clone().unwrap_or_default()) } @else { "Not stated: ask the provider" }
                @if let Some(r) = view.reach_miles { ". We travel up to " (r) " miles." }
            }),
            ("When", html! { @if view.schedule.is_empty() { "Ask the provider" } @for s in &view.schedule { (s.day.as_str()) " " (s.starts) "–" (s.ends) br; } }),
            ("Places per session", html! { @if let Some(c) = view.capacity { (c) } @else { "Not stated" } }),
            ("Can be paid from", html! {
                @if view.funding_streams.is_empty() { "Not stated: ask the provider" }
                @for (i, s) in view.funding_streams.iter().enumerate() { @if i > 0 { ", " } (s.as_str().replace('_', " ")) }
            }),
            ("Contact", html! {
                @if let Some(url) = &view.url { a href=(url) { (url) } br; }
                @if let Some(email) = &view.email { a href={ "mailto:" (email) } { (email) } }
                @if view.url.is_none() && view.email.is_none() { "Through this site" }
            }),
        ]))
        @if view.price_options.is_empty() {
            p { "No prices are listed for this service. Ask the provider what it costs." }
        } @else {
        div.table-wrap {
            table {
                caption { "Prices" }
                thead { tr { th scope="col" { "Option" } th scope="col" { "Charged per" } th scope="col" { "Price" } th scope="col" { "How the price is worked out" } } }
                tbody {
                    @for o in &view.price_options {
                        tr {
                            td { (o.label) } td { (o.unit.as_str()) } td { (money(o.price)) }
                            td {
                                @if let Some(f) = &o.fcr {
                                    details {
                                        summary { "Full cost breakdown" }
                                        p { "Direct costs " (money(f.annual_direct_costs)) " a year, plus overheads " (money(f.annual_overheads)) " (management, premises, insurance, checks, training): " (money(f.annual_full_cost)) "." }
                                        p { (f.units_per_year) " a year available, " (f.occupancy.to_string()) " expected to be filled: " (f.units_sold.to_string()) " paid for." }
                                        p { "Full cost per " (o.unit.as_str()) ": " (money(f.full_cost_per_unit)) " (" (money(f.direct_cost_per_unit)) " direct, " (money(f.overheads_per_unit)) " overheads)." }
                                    }
                                } @else { "Set by the provider" }
                            }
                        }
                    }
                }
            }
        }
        }
        @if visitor.shortlist.contains(&view.id.0) {
            p { "This service is on your " a href="/shortlist" { "shortlist" } "." }
        } @else {
            form method="post" action={ "/shortlist/" (view.id) "/add" } {
                (templates::csrf_field(&visitor.chrome()))
                button.button.button-secondary type="submit" { "Add to shortlist" }
            }
        }
        @if !bookable {
            @if !plans.is_empty() { p { "This service cannot be booked here yet: it lists no price or no budget it can be paid from. Contact the provider." } }
        } @else if plans.iter().any(|p| !p.allocations.is_empty()) {
            h2 { "Book with your personal budget" }
            form method="post" action={ "/services/" (view.id) "/book" } {
                (templates::csrf_field(&visitor.chrome()))
                input type="hidden" name="request_id" value=(super::random_hex());
                div.form-group {
                    label.label for="allocation" { "Pay from" }
                    select #allocation name="allocation" {
                        @for p in &plans { @for a in &p.allocations {
                            option value={ (p.id) ":" (a.id) } { (p.first_name) " – " (a.stream.as_str().replace('_', " ")) " (" (money(a.remaining)) " left)" }
                        } }
                    }
                }
                div.form-group {
                    label.label for="price_option_id" { "Price option" }
                    select #price_option_id name="price_option_id" {
                        @for o in &view.price_options { option value=(o.id.0) { (o.label) " – " (money(o.price)) " per " (o.unit.as_str()) } }
                    }
                }
                div.form-group {
                    label.label for="quantity" { "How many" }
                    input.input.input-narrow #quantity name="quantity" type="number" min="1" max="1000" value="1" inputmode="numeric";
                }
                button.button type="submit" { "Book" }
            }
        } @else if visitor.actor.is_none() {
            p { a href={ "/login?next=/services/" (view.id) } { "Log in to book with your personal budget" } }
        }
    };
    Ok(visitor.page(&view.name, false, page))
}

fn login_page(visitor: &Visitor, errors: &FormErrors, email: &str, next: &str) -> Markup {
    html! {
        h1 { "Log in" }
        (errors.summary())
        form method="post" action="/login" novalidate {
            (templates::csrf_field(&visitor.chrome()))
            input type="hidden" name="next" value=(next);
            (templates::input(errors, "email", "Email address", email, "email", None))
            (templates::input(errors, "password", "Password", "", "password", None))
            button.button type="submit" { "Log in" }
        }
        p { "Providers: " a href="/provider/register" { "register your organisation" } "." }
    }
}

pub async fn login_form(visitor: Visitor, req: HttpRequest) -> HttpResponse {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let next = pairs.iter().find(|(k, _)| k == "next").map_or("", |(_, v)| v.as_str());
    visitor.page("Log in", false, login_page(&visitor, &FormErrors::default(), "", next))
}

pub async fn login(state: Data, visitor: Visitor, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let form: Form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let (email, password, next) = (
        form.get("email").trim().to_string(),
        form.get("password").to_string(),
        form.get("next").to_string(),
    );
    let mut errors = FormErrors::default();
    if email.is_empty() {
        errors.0.push(("email".into(), "Enter your email address".into()));
    }
    if password.is_empty() {
        errors.0.push(("password".into(), "Enter your password".into()));
    }
    let actor = if errors.is_empty() {
        let lookup = email.clone();
        let user = blocking(&state, move |db| db.read(|conn| users::find_by_email(conn, &lookup))).await?;
        web::block(move || users::authenticate(user.as_ref(), &password))
            .await
            .map_err(|_| PageError::Unavailable)?
    } else {
        None
    };
    let Some(actor) = actor else {
        if errors.is_empty() {
            errors
                .0
                .push(("email".into(), "The email address or password is wrong".into()));
        }
        let page = login_page(&visitor, &errors, &email, &next);
        return Ok(visitor.page_with_status(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "Error: Log in",
            false,
            page,
        ));
    };
    let user = actor.user_id;
    let (token, _) = blocking(&state, move |db| {
        db.write(move |conn| users::create_session(conn, user))
    })
    .await?;
    let home = match actor.role {
        Role::Family | Role::Broker => "/my-plan",
        Role::Provider => "/provider/services",
        Role::Council => "/council/budget-holders",
    };
    let mut response = see_other(safe_next(&next).unwrap_or(home));
    response
        .add_cookie(&visitor.session_cookie(token))
        .map_err(|_| PageError::Unavailable)?;
    Ok(response)
}

pub async fn logout(state: Data, visitor: Visitor, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    if let Some(token) = visitor.session.clone() {
        blocking(&state, move |db| {
            db.write(move |conn| users::revoke_session(conn, &token))
        })
        .await?;
    }
    let mut response = see_other("/");
    let mut gone = visitor.session_cookie(String::new());
    gone.make_removal();
    response.add_cookie(&gone).map_err(|_| PageError::Unavailable)?;
    Ok(response)
}
