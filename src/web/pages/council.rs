//! Council pages: the budget holders of the officer's own council and what they have spent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::{Form, PageError, Visitor, form_errors, read_form, see_other};
use crate::db::{budget_holders, organisations, users};
use crate::domain::budget::{AllocationInput, BudgetHolderInput, LoginInput, PlanOutcomeInput};
use crate::domain::taxonomy::Vocabulary;
use crate::domain::{Management, OrganisationId, OrganisationStatus, Pence, Role, Stream};
use crate::templates::{self, FormErrors, money};
use crate::web::{AppState, blocking};

type Data = web::Data<AppState>;

pub async fn budget_holders(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(&[Role::Council], "/council/budget-holders")?.clone();
    let holders = blocking(&state, move |db| db.read(|conn| budget_holders::list(conn, &actor))).await?;
    let sum = |f: fn(&budget_holders::AllocationView) -> Pence, h: &budget_holders::BudgetHolderView| {
        Pence::from_stored(h.allocations.iter().map(|a| f(a).pence()).sum())
    };
    Ok(visitor.page(
        "Budget holders",
        true,
        html! {
            h1 { "Budget holders" }
            p { "Children and young people with an EHC plan and a personal budget in your area, and how much of each budget is committed to bookings." }
            div.table-wrap {
                table {
                    caption { "Budget holders and spend so far" }
                    thead { tr {
                        th scope="col" { "Reference" } th scope="col" { "Name" } th scope="col" { "Plan ends" }
                        th scope="col" { "Allocated" } th scope="col" { "Committed" } th scope="col" { "Remaining" }
                    } }
                    tbody {
                        @if holders.is_empty() { tr { td colspan="6" { "No budget holders yet." } } }
                        @for h in &holders {
                            tr {
                                td { (h.reference) } td { (h.first_name) } td { (h.plan_end.format("%-d %b %Y").to_string()) }
                                td { (money(sum(|a| a.amount, h))) } td { (money(sum(|a| a.committed, h))) } td { (money(sum(|a| a.remaining, h))) }
                            }
                        }
                    }
                }
            }
            p { a.button href="/council/budget-holders/new" { "Add a budget holder" } " " a href="/council/providers" { "Verify or suspend providers" } }
        },
    ))
}

const OUTCOME_ROWS: usize = 3;

fn holder_page(state: &AppState, visitor: &Visitor, errors: &FormErrors, form: &Form) -> Markup {
    let taxonomy = &state.taxonomy;
    let outcomes: Vec<(&str, &str)> = taxonomy
        .terms
        .iter()
        .filter(|t| t.vocabulary == Vocabulary::Outcome)
        .map(|t| (t.id.as_str(), t.label.as_str()))
        .collect();
    html! {
        h1 { "Add a budget holder" }
        (errors.summary())
        form method="post" action="/council/budget-holders/new" novalidate {
            (templates::csrf_field(&visitor.chrome()))
            h2 { "The child or young person" }
            (templates::input(errors, "reference", "EHC plan reference", form.get("reference"), "text", None))
            (templates::input(errors, "first_name", "First name", form.get("first_name"), "text", None))
            (templates::input(errors, "date_of_birth", "Date of birth", form.get("date_of_birth"), "date", Some("For example: 2014-05-01")))
            (templates::input(errors, "postcode", "Home postcode", form.get("postcode"), "text", None))
            (templates::input(errors, "plan_start", "Plan starts", form.get("plan_start"), "date", None))
            (templates::input(errors, "plan_end", "Plan ends", form.get("plan_end"), "date", None))
            h2 { "Family login" }
            (templates::input(errors, "family_email", "Family email address", form.get("family_email"), "email", Some("If the family already has a login (a brother or sister's plan), the plan is added to it")))
            (templates::input(errors, "family_password", "Family password", "", "password", Some("At least 10 characters; give it to the family safely")))
            h2 { "Outcomes (Section E)" }
            @for i in 0..OUTCOME_ROWS {
                @let text = format!("outcome_text_{i}");
                @let term = format!("outcome_term_{i}");
                (templates::input(errors, &text, &format!("Outcome {}", i + 1), form.get(&text), "text", (i > 0).then_some("Optional")))
                div.form-group.form-group-error[errors.get(&term).is_some()] {
                    label.label for=(term) { "Outcome " (i + 1) " means" }
                    @if let Some(m) = errors.get(&term) { p.error-message { (m) } }
                    select id=(term) name=(term) {
                        option value="" { "Choose an outcome" }
                        @for (id, label) in &outcomes { option value=(id) selected[form.get(&term) == *id] { (label) } }
                    }
                }
            }
            h2 { "Section J allocations" }
            p.hint { "Leave the amount empty for a stream with no allocation." }
            @for stream in Stream::ALL {
                @let s = stream.as_str();
                h3 { (s.replace('_', " ")) }
                (templates::input(errors, &format!("amount_{s}"), "Amount in pounds", form.get(&format!("amount_{s}")), "text", None))
                div.form-group {
                    label.label for={ "management_" (s) } { "Held as" }
                    select id={ "management_" (s) } name={ "management_" (s) } {
                        @for m in Management::ALL { option value=(m.as_str()) selected[form.get(&format!("management_{s}")) == m.as_str()] { (m.as_str().replace('_', " ")) } }
                    }
                }
                (templates::input(errors, &format!("admin_fee_{s}"), "Third-party admin fee in pounds", form.get(&format!("admin_fee_{s}")), "text", Some("Only for a third-party arrangement")))
            }
            button.button type="submit" { "Add budget holder" }
        }
    }
}

pub async fn new_holder_form(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    visitor.require(&[Role::Council], "/council/budget-holders/new")?;
    let page = holder_page(&state, &visitor, &FormErrors::default(), &Form(Vec::new()));
    Ok(visitor.page("Add a budget holder", true, page))
}

fn holder_input(form: &Form) -> Result<BudgetHolderInput, FormErrors> {
    let mut errors = FormErrors::default();
    let mut date = |name: &str| {
        form.get(name)
            .trim()
            .parse::<chrono::NaiveDate>()
            .map_err(|_| errors.0.push((name.into(), "Enter a date such as 2014-05-01".into())))
            .ok()
    };
    let (dob, start, end) = (date("date_of_birth"), date("plan_start"), date("plan_end"));
    let mut outcomes = Vec::new();
    for i in 0..OUTCOME_ROWS {
        let (text, term) = (
            form.get(&format!("outcome_text_{i}")).trim(),
            form.get(&format!("outcome_term_{i}")),
        );
        if text.is_empty() && term.is_empty() && i > 0 {
            continue;
        }
        outcomes.push(PlanOutcomeInput {
            text: text.to_string(),
            terms: if term.is_empty() {
                vec![]
            } else {
                vec![term.to_string()]
            },
        });
    }
    let mut allocations = Vec::new();
    for stream in Stream::ALL {
        let s = stream.as_str();
        let amount = form
            .get(&format!("amount_{s}"))
            .trim()
            .trim_start_matches('£')
            .replace(',', "");
        if amount.is_empty() {
            continue;
        }
        let fee = form
            .get(&format!("admin_fee_{s}"))
            .trim()
            .trim_start_matches('£')
            .replace(',', "");
        let amount = amount
            .parse::<Pence>()
            .map_err(|e| errors.0.push((format!("amount_{s}"), format!("Amount {e}"))))
            .ok();
        let fee = if fee.is_empty() {
            Some(None)
        } else {
            fee.parse::<Pence>()
                .map(Some)
                .map_err(|e| errors.0.push((format!("admin_fee_{s}"), format!("Admin fee {e}"))))
                .ok()
        };
        let management = form
            .get(&format!("management_{s}"))
            .parse::<Management>()
            .unwrap_or(Management::DirectPayment);
        if let (Some(amount), Some(admin_fee)) = (amount, fee) {
            allocations.push(AllocationInput {
                stream: *stream,
                management,
                amount,
                admin_fee,
            });
        }
    }
    match (dob, start, end) {
        (Some(date_of_birth), Some(plan_start), Some(plan_end)) if errors.is_empty() => Ok(BudgetHolderInput {
            reference: form.get("reference").to_string(),
            first_name: form.get("first_name").to_string(),
            date_of_birth,
            postcode: form.get("postcode").to_string(),
            plan_start,
            plan_end,
            family: LoginInput {
                email: form.get("family_email").to_string(),
                password: form.get("family_password").to_string(),
            },
            broker_organisation_id: None,
            outcomes,
            allocations,
        }),
        _ => Err(errors),
    }
}

/// API field names to this form's.
fn holder_field(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("outcomes[") {
        let i = rest.split(']').next().unwrap_or("0");
        return if rest.contains("terms") {
            format!("outcome_term_{i}")
        } else {
            format!("outcome_text_{i}")
        };
    }
    match field {
        "family.email" => "family_email".into(),
        "family.password" => "family_password".into(),
        "outcomes" => "outcome_text_0".into(),
        "allocations" => "amount_social_care".into(),
        f if f.starts_with("allocations[") => "amount_social_care".into(),
        other => other.into(),
    }
}

pub async fn create_holder(state: Data, visitor: Visitor, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let actor = visitor
        .require(&[Role::Council], "/council/budget-holders/new")?
        .clone();
    let council = actor.council_id.ok_or(PageError::Forbidden)?;
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let fail = |errors: FormErrors| {
        let page = holder_page(&state, &visitor, &errors, &form);
        Ok(visitor.page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Error: Add a budget holder",
            true,
            page,
        ))
    };
    let input = match holder_input(&form) {
        Ok(input) => input,
        Err(errors) => return fail(errors),
    };
    let holder = match input.validate(&state.taxonomy, chrono::Utc::now().date_naive()) {
        Ok(h) => h,
        Err(invalid) => return fail(form_errors(invalid, holder_field)),
    };
    let password = holder.family.password.clone();
    let hash = web::block(move || users::hash_password(&password))
        .await
        .map_err(|_| PageError::Unavailable)??;
    let created = blocking(&state, move |db| {
        db.write(move |conn| budget_holders::create(conn, council, &holder, &hash))
    })
    .await;
    match created {
        Ok(_) => Ok(see_other("/council/budget-holders")),
        Err(crate::web::error::ApiError::Db(crate::db::DbError::Conflict { message, field, .. })) => {
            fail(FormErrors(vec![(
                holder_field(field.as_deref().unwrap_or("reference")),
                super::capitalise(&message),
            )]))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn providers(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    visitor.require(&[Role::Council], "/council/providers")?;
    let list = blocking(&state, move |db| db.read(organisations::list)).await?;
    Ok(visitor.page(
        "Providers",
        true,
        html! {
            h1 { "Providers" }
            p { "Verify a provider once you have checked its registration, safeguarding and insurance. A suspended provider's services leave search and cannot be booked until you reinstate it." }
            div.table-wrap {
                table {
                    caption { "Registered organisations" }
                    thead { tr { th scope="col" { "Organisation" } th scope="col" { "Kind" } th scope="col" { "Charity or company number" } th scope="col" { "Status" } th scope="col" { "Action" } } }
                    tbody {
                        @for o in &list {
                            tr {
                                td { (o.name) } td { (o.kind.as_deref().unwrap_or("Not stated (imported)")) }
                                td { (o.charity_number.clone().or(o.company_number.clone()).unwrap_or_default()) }
                                td { (o.status) }
                                td {
                                    @for (verb, label) in [("verify", "Verify"), ("suspend", "Suspend")] {
                                        @if (verb == "verify") != (o.status == "verified") {
                                            form.inline-form method="post" action={ "/council/providers/" (o.id) "/" (verb) } {
                                                (templates::csrf_field(&visitor.chrome()))
                                                button.button.button-secondary type="submit" aria-label={ (label) " " (o.name) } { (label) }
                                            }
                                            " "
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn set_provider_status(
    state: Data,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(&[Role::Council], "/council/providers")?.clone();
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let (id, verb) = path.into_inner();
    let status = match verb.as_str() {
        "verify" => OrganisationStatus::Verified,
        "suspend" => OrganisationStatus::Suspended,
        _ => return Err(PageError::NotFound),
    };
    blocking(&state, move |db| {
        db.write(move |conn| organisations::set_status(conn, &actor, OrganisationId(id), status))
    })
    .await?;
    state.services_changed();
    Ok(see_other("/council/providers"))
}

/// A horizontal bar chart drawn on the server: each bar labelled with its value, so it reads
/// without colour; the same numbers are in the table below it.
fn bar_chart(title: &str, bars: &[(String, f64, String)]) -> Markup {
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let height = 30 * bars.len().max(1) + 10;
    html! {
        figure {
            svg.chart viewBox={ "0 0 480 " (height) } role="img" aria-label=(title) {
                @for (i, (label, value, shown)) in bars.iter().enumerate() {
                    @let y = 10 + i * 30;
                    @let width = (value / max * 130.0).max(1.0);
                    @let short = if label.chars().count() > 44 { format!("{}…", label.chars().take(43).collect::<String>()) } else { label.clone() };
                    text x="0" y=(y + 14) font-size="11" { (short) }
                    rect x="290" y=(y) width=(format!("{width:.0}")) height="18" fill="#1d70b8" {}
                    text x=(format!("{:.0}", 295.0 + width)) y=(y + 14) font-size="11" { (shown) }
                }
            }
            figcaption { (title) }
        }
    }
}

pub async fn reports(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(&[Role::Council], "/council/reports")?.clone();
    let council = actor.council_id.ok_or(PageError::Forbidden)?;
    let query = crate::web::reports::GapQuery {
        area: None,
        outcome: None,
        min_holders: None,
    };
    let gaps = crate::web::reports::gap_rows(&state, council, &query).await?;
    let spending = crate::web::reports::spending_rows(&state, council).await?;
    let taxonomy = &state.taxonomy;
    let label = |id: &str| super::public::term_label(taxonomy, id);
    let top: Vec<_> = gaps.iter().filter(|g| !g.suppressed).take(10).collect();
    let chart: Vec<(String, f64, String)> = top
        .iter()
        .map(|g| {
            (
                format!("{} ({})", label(&g.outcome), g.area),
                g.gap_score,
                format!("{:.2}", g.gap_score),
            )
        })
        .collect();
    let flagged: Vec<_> = spending.iter().filter(|s| !s.flags.is_empty()).collect();
    Ok(visitor.page(
        "Reports",
        true,
        html! {
            h1 { "Market gaps and spending" }
            p { "Areas with fewer than " (crate::domain::reports::DEFAULT_MIN_HOLDERS) " budget holders are pooled into “OTHER” and their figures withheld. No report shows a name." }
            h2 { "Where the market fails" }
            (bar_chart("Gap score by outcome and postcode district (higher means more need, less supply)", &chart))
            p { a href="/api/v1/reports/gaps.csv" { "Download the gap report (CSV)" } }
            div.table-wrap {
                table {
                    caption { "Gaps, worst first" }
                    thead { tr {
                        th scope="col" { "Outcome" } th scope="col" { "Area" } th scope="col" { "Families" } th scope="col" { "Their budgets" }
                        th scope="col" { "Services nearby" } th scope="col" { "Places" } th scope="col" { "Median price" } th scope="col" { "Searches that found nothing" } th scope="col" { "Gap score" }
                    } }
                    tbody {
                        @for g in gaps.iter().take(50) {
                            tr {
                                td { (label(&g.outcome)) @if g.unaffordable { br; span.tag { "Cheapest costs more than the median budget left" } } }
                                td { (g.area) }
                                td { @if let Some(n) = g.demand_holders { (n) } @else { "withheld" } }
                                td { @if let Some(m) = g.demand_money { (money(m)) } @else { "withheld" } }
                                td { (g.supply_services) } td { (g.supply_places) }
                                td { (g.median_price.map(money).unwrap_or_else(|| "–".into())) }
                                td { (g.unmet_searches) } td { (format!("{:.2}", g.gap_score)) }
                            }
                        }
                    }
                }
            }
            h2 { "Budgets to look at" }
            p { a href="/api/v1/reports/spending.csv" { "Download spending for every allocation (CSV)" } }
            div.table-wrap {
                table {
                    caption { "Allocations with a flag" }
                    thead { tr {
                        th scope="col" { "Plan" } th scope="col" { "Stream" } th scope="col" { "Allocated" } th scope="col" { "Committed" }
                        th scope="col" { "Delivered" } th scope="col" { "Remaining" } th scope="col" { "Plan elapsed" } th scope="col" { "Flags" }
                    } }
                    tbody {
                        @if flagged.is_empty() { tr { td colspan="8" { "No allocation is flagged." } } }
                        @for s in &flagged {
                            tr {
                                td { (s.reference) } td { (s.stream.replace('_', " ")) } td { (money(s.allocated)) } td { (money(s.committed)) }
                                td { (money(s.delivered)) } td { (money(s.remaining)) } td { (format!("{:.0}%", s.elapsed * 100.0)) }
                                td { @for f in &s.flags { span.tag { (f.replace('_', " ")) } } }
                            }
                        }
                    }
                }
            }
        },
    ))
}
