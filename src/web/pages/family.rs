//! Family (and broker) pages: my plan, booking, cancelling, the statement.

use actix_web::{HttpResponse, web};
use maud::html;

use super::{PageError, Visitor, read_form, see_other};
use crate::db::bookings::{self, Idempotency};
use crate::db::{budget_holders, ledger};
use crate::domain::booking::{BookingAction, BookingInput, BookingStatus};
use crate::domain::{AllocationId, BookingId, BudgetHolderId, PriceOptionId, Role};
use crate::templates::{FormErrors, money};
use crate::web::{AppState, blocking};

type Data = web::Data<AppState>;
const SPENDERS: &[Role] = &[Role::Family, Role::Broker];

pub async fn my_plan(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(SPENDERS, "/my-plan")?.clone();
    let (plans, booked) = blocking(&state, move |db| {
        db.read(|conn| Ok((budget_holders::list(conn, &actor)?, bookings::list(conn, &actor)?)))
    })
    .await?;
    let taxonomy = &state.taxonomy;
    let body = html! {
        h1 { "My plan" }
        @if plans.is_empty() { p { "There is no plan on your account yet. Your council adds it once the EHC plan is final." } }
        @for p in &plans {
            h2 { (p.first_name) }
            p { "Plan " (p.reference) ", " (p.plan_start.format("%-d %B %Y").to_string()) " to " (p.plan_end.format("%-d %B %Y").to_string()) "." }
            h3 { "Outcomes" }
            ul { @for o in &p.outcomes { li { (o.text) " " @for t in &o.terms { span.tag { (super::public::term_label(taxonomy, t)) } } } } }
            div.table-wrap {
                table {
                    caption { "Budget" }
                    thead { tr { th scope="col" { "Stream" } th scope="col" { "Held as" } th scope="col" { "Amount" } th scope="col" { "Committed" } th scope="col" { "Remaining" } th scope="col" { "Used" } } }
                    tbody {
                        @for a in &p.allocations {
                            tr {
                                th scope="row" { (a.stream.as_str().replace('_', " ")) }
                                td { (a.management.as_str().replace('_', " ")) }
                                td { (money(a.amount)) }
                                td { (money(a.committed)) }
                                td.remaining { (money(a.remaining)) }
                                td { meter min="0" max=(a.amount.pence().max(1)) value=(a.committed.pence()) aria-label={ (a.stream.as_str().replace('_', " ")) " budget used" } { (money(a.committed)) " of " (money(a.amount)) } }
                            }
                        }
                    }
                }
            }
        }
        @if !plans.is_empty() {
            p { a href="/my-plan/matches" { "Matches for my plan" } " · " a href="/my-plan/statement" { "Statement" } }
            div.table-wrap {
                table {
                    caption { "Bookings" }
                    thead { tr { th scope="col" { "Service" } th scope="col" { "What" } th scope="col" { "Total" } th scope="col" { "Status" } th scope="col" { span.visually-hidden { "Action" } } } }
                    tbody {
                        @if booked.is_empty() { tr { td colspan="5" { "No bookings yet." } } }
                        @for b in &booked {
                            tr {
                                td { a href={ "/services/" (b.service_id) } { (b.service_name) } }
                                td { (b.quantity) " × " (b.price_option_label) }
                                td { (money(b.total)) }
                                td { (b.status.as_str()) }
                                td {
                                    @if matches!(b.status, BookingStatus::Requested | BookingStatus::Confirmed) {
                                        form.inline-form method="post" action={ "/bookings/" (b.id) "/cancel" } {
                                            (crate::templates::csrf_field(&visitor.chrome()))
                                            button.button.button-warning type="submit" aria-label={ "Cancel booking for " (b.service_name) } { "Cancel booking" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(visitor.page("My plan", true, body))
}

pub async fn book(
    state: Data,
    visitor: Visitor,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let service_id = path.into_inner();
    let actor = visitor.require(SPENDERS, &format!("/services/{service_id}"))?.clone();
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let (holder, allocation) = form.get("allocation").split_once(':').unwrap_or(("", ""));
    let mut errors = FormErrors::default();
    let parse = |v: &str| v.trim().parse::<i64>().ok();
    let quantity = parse(form.get("quantity"));
    if quantity.is_none() {
        errors
            .0
            .push(("quantity".into(), "Enter how many, as a whole number".into()));
    }
    let (Some(holder), Some(allocation), Some(option)) =
        (parse(holder), parse(allocation), parse(form.get("price_option_id")))
    else {
        return Err(PageError::BadForm);
    };
    let input = BookingInput {
        budget_holder_id: BudgetHolderId(holder),
        allocation_id: AllocationId(allocation),
        price_option_id: PriceOptionId(option),
        quantity: quantity.unwrap_or(0),
    };
    if let Err(invalid) = input.validate() {
        errors = super::form_errors(invalid, |f| f.to_string());
    }
    let result = if errors.is_empty() {
        // The form's request id makes a double-clicked Book button book once.
        let idempotency = Some(form.get("request_id").to_string())
            .filter(|k| !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(|k| Idempotency::new(format!("page-{k}"), &input));
        let today = chrono::Utc::now().date_naive();
        blocking(&state, move |db| {
            db.write(move |conn| bookings::create(conn, &actor, &input, idempotency.as_ref(), today))
        })
        .await
    } else {
        Err(crate::web::error::ApiError::Db(crate::db::DbError::Invalid(
            crate::domain::validate::Invalid(vec![]),
        )))
    };
    match result {
        Ok((created, _)) => Ok(visitor.page(
            "Booking requested",
            true,
            html! {
                div.panel {
                    h1 { "Booking requested" }
                    p { (created.booking.quantity) " × " (created.booking.price_option_label) " at " (created.booking.service_name) }
                }
                (crate::templates::summary_list(&[
                    ("Total", html! { (money(created.booking.total)) }),
                    ("Remaining on this allocation", html! { (money(created.remaining)) }),
                    ("What happens next", html! { "The provider will confirm the booking. You can cancel it from your plan until it is delivered, and the money goes back to your budget." }),
                ]))
                p { a href="/my-plan" { "Go to my plan" } }
            },
        )),
        Err(e) => {
            let message = match &e {
                crate::web::error::ApiError::Db(crate::db::DbError::Conflict { message, .. })
                | crate::web::error::ApiError::Db(crate::db::DbError::UnknownReference { message, .. }) => message.clone(),
                crate::web::error::ApiError::Db(crate::db::DbError::Invalid(invalid)) if !invalid.0.is_empty() => {
                    invalid.0.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join("; ")
                }
                crate::web::error::ApiError::Db(crate::db::DbError::Forbidden(_)) => return Err(PageError::Forbidden),
                _ if !errors.is_empty() => errors.0.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>().join("; "),
                _ => return Err(e.into()),
            };
            let errors = FormErrors(vec![("quantity".into(), super::capitalise(&message))]);
            Ok(visitor.page_with_status(
                actix_web::http::StatusCode::CONFLICT,
                "Error: Booking not made",
                true,
                html! {
                    h1 { "The booking was not made" }
                    (errors.summary())
                    p id="quantity" { "Nothing was taken from your budget." }
                    p { a href={ "/services/" (service_id) } { "Back to the service" } }
                },
            ))
        }
    }
}

pub async fn cancel(
    state: Data,
    visitor: Visitor,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(SPENDERS, "/my-plan")?.clone();
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let id = BookingId(path.into_inner());
    let result = blocking(&state, move |db| {
        db.write(move |conn| bookings::transition(conn, &actor, id, BookingAction::Cancel))
    })
    .await;
    match result {
        Ok(_) => Ok(see_other("/my-plan")),
        Err(crate::web::error::ApiError::Db(crate::db::DbError::Conflict { .. })) => Ok(see_other("/my-plan")),
        Err(e) => Err(e.into()),
    }
}

pub async fn statement(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(SPENDERS, "/my-plan/statement")?.clone();
    let statements = blocking(&state, move |db| {
        db.read(|conn| {
            budget_holders::list(conn, &actor)?
                .into_iter()
                .map(|p| Ok((p.first_name.clone(), ledger::statement(conn, p.id)?)))
                .collect::<Result<Vec<_>, crate::db::DbError>>()
        })
    })
    .await?;
    Ok(visitor.page(
        "Statement",
        true,
        html! {
            h1 { "Statement" }
            @for (name, entries) in &statements {
                div.table-wrap {
                    table {
                        caption { (name) }
                        thead { tr { th scope="col" { "Date" } th scope="col" { "Stream" } th scope="col" { "What" } th scope="col" { "Amount" } th scope="col" { "Left after" } } }
                        tbody {
                            @for e in entries {
                                tr { td { (e.at.format("%-d %b %Y").to_string()) } td { (e.stream.replace('_', " ")) } td { (e.description) } td { (e.amount.to_string()) } td { (money(e.balance_after)) } }
                            }
                        }
                    }
                }
            }
            p { a href="/my-plan" { "Back to my plan" } }
        },
    ))
}

pub async fn matches(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(SPENDERS, "/my-plan/matches")?.clone();
    let plans = blocking(&state, move |db| db.read(|conn| budget_holders::list(conn, &actor))).await?;
    let mut sections = Vec::new();
    for plan in &plans {
        let m =
            crate::web::search::plan_matches(&state, plan, crate::web::search::DEFAULT_MATCH_RADIUS_MILES, 5).await?;
        sections.push((plan.first_name.clone(), m));
    }
    let taxonomy = &state.taxonomy;
    Ok(visitor.page(
        "Matches for my plan",
        true,
        html! {
            h1 { "Matches for my plan" }
            p { "Services within " (crate::web::search::DEFAULT_MATCH_RADIUS_MILES) " miles of home, right for your child's age, that your budget can still pay for. Services that meet more of the plan's outcomes come first." }
            @for (name, m) in &sections {
                h2 { (name) }
                @for o in &m.outcomes {
                    h3 { (o.text) }
                    @if o.services.is_empty() { p { "Nothing nearby matches this outcome yet." } }
                    ul.results {
                        @for hit in &o.services {
                            li {
                                a href={ "/services/" (hit.service_id) } { (hit.name) }
                                " – " (hit.organisation.name)
                                @if let Some(d) = hit.distance_miles { ", " (format!("{d:.1}")) " miles" }
                                @if let Some(p) = hit.price_from { ", from " (money(p)) }
                                br;
                                @for t in &hit.outcomes_matched { span.tag { (super::public::term_label(taxonomy, t)) } }
                            }
                        }
                    }
                }
            }
            p { a href="/my-plan" { "Back to my plan" } }
        },
    ))
}
