//! Council pages: the budget holders of the officer's own council, its providers, its reports.

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, FormValues, csrf_field, input, money};
use crate::db::budget_holders::{AllocationView, BudgetHolderView};
use crate::db::organisations::OrganisationView;
use crate::domain::paging::Page;
use crate::domain::reports::{DEFAULT_MIN_HOLDERS, GapRow, SpendingRow};
use crate::domain::taxonomy::{Taxonomy, Vocabulary};
use crate::domain::{Management, Pence, Stream};

fn sum(h: &BudgetHolderView, f: fn(&AllocationView) -> Pence) -> String {
    money(Pence::from_stored(h.allocations.iter().map(|a| f(a).pence()).sum()))
}

pub fn budget_holders(page: &Page<BudgetHolderView>) -> Markup {
    let holders = &page.items;
    html! {
        h1 { "Budget holders" }
        p { "Children and young people with an EHC plan and a personal budget in your area, and how much of each budget is committed to bookings." }
        (c::pager(("budget holder", "budget holders"), page, |n| format!("/council/budget-holders?page={n}")))
        (c::table("Budget holders and spend so far", &["Reference", "Name", "Plan ends", "Allocated", "Committed", "Remaining"], holders.is_empty().then_some("No budget holders on this page."), html! {
            @for h in holders {
                tr {
                    td { (h.reference) } td { (h.first_name) } td { (c::short_date(h.plan_end)) }
                    td { (sum(h, |a| a.amount)) } td { (sum(h, |a| a.committed)) } td { (sum(h, |a| a.remaining)) }
                }
            }
        }))
        p { a.button href="/council/budget-holders/new" { "Add a budget holder" } " " a href="/council/providers" { "Verify or suspend providers" } }
    }
}

/// How many outcome rows the form offers.
pub const OUTCOME_ROWS: usize = 3;

pub fn holder_form(chrome: &Chrome<'_>, taxonomy: &Taxonomy, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let mut outcomes: Vec<(String, String)> = vec![(String::new(), "Choose an outcome".into())];
    outcomes.extend(
        taxonomy
            .terms
            .iter()
            .filter(|t| t.vocabulary == Vocabulary::Outcome)
            .map(|t| (t.id.0.clone(), t.label.clone())),
    );
    let held_as: Vec<(String, String)> = Management::ALL
        .iter()
        .map(|m| (m.as_str().to_string(), c::management(*m)))
        .collect();
    html! {
        h1 { "Add a budget holder" }
        (errors.summary())
        form method="post" action="/council/budget-holders/new" novalidate {
            (csrf_field(chrome))
            h2 { "The child or young person" }
            (input(errors, "reference", "EHC plan reference", form.get("reference"), "text", None))
            (input(errors, "first_name", "First name", form.get("first_name"), "text", None))
            (input(errors, "date_of_birth", "Date of birth", form.get("date_of_birth"), "date", Some("For example: 2014-05-01")))
            (input(errors, "postcode", "Home postcode", form.get("postcode"), "text", None))
            (input(errors, "plan_start", "Plan starts", form.get("plan_start"), "date", None))
            (input(errors, "plan_end", "Plan ends", form.get("plan_end"), "date", None))
            h2 { "Family login" }
            (input(errors, "family_email", "Family email address", form.get("family_email"), "email", Some("If the family already has a login (a brother or sister's plan), the plan is added to it")))
            (input(errors, "family_password", "Family password", "", "password", Some("At least 10 characters; give it to the family safely")))
            h2 { "Outcomes (Section E)" }
            @for i in 0..OUTCOME_ROWS {
                @let text = format!("outcome_text_{i}");
                @let term = format!("outcome_term_{i}");
                (input(errors, &text, &format!("Outcome {}", i + 1), form.get(&text), "text", (i > 0).then_some("Optional")))
                (c::select(errors, &term, &format!("Outcome {} means", i + 1), &outcomes, form.get(&term)))
            }
            h2 { "Needs" }
            p.hint { "The child's areas of need. Matches prefer services for these needs and leave out services only for other needs." }
            (c::grouped_checkboxes(errors, "needs", "The child's needs", &c::term_groups(taxonomy, Vocabulary::Need, 0), &form.all("needs")))
            h2 { "Section J allocations" }
            p.hint { "Leave the amount empty for a stream with no allocation." }
            @for stream in Stream::ALL {
                @let s = stream.as_str();
                h3 { (c::stream(*stream)) }
                (input(errors, &format!("amount_{s}"), "Amount in pounds", form.get(&format!("amount_{s}")), "text", None))
                (c::select(errors, &format!("management_{s}"), "Held as", &held_as, form.get(&format!("management_{s}"))))
                (input(errors, &format!("admin_fee_{s}"), "Third-party admin fee in pounds", form.get(&format!("admin_fee_{s}")), "text", Some("Only for a third-party arrangement")))
            }
            button.button type="submit" { "Add budget holder" }
        }
    }
}

pub fn providers(chrome: &Chrome<'_>, list: &[OrganisationView]) -> Markup {
    html! {
        h1 { "Providers" }
        p { "Verify a provider once you have checked its registration, safeguarding and insurance. A suspended provider's services leave search and cannot be booked until you reinstate it." }
        (c::table("Registered organisations", &["Organisation", "Kind", "Charity or company number", "Status", "Action"], None, html! {
            @for o in list {
                tr {
                    td { (o.name) } td { (o.kind.as_deref().unwrap_or("Not stated (imported)")) }
                    td { (o.charity_number.clone().or(o.company_number.clone()).unwrap_or_default()) }
                    td { (o.status) }
                    td {
                        @for (verb, label) in [("verify", "Verify"), ("suspend", "Suspend")] {
                            @if (verb == "verify") != (o.status == "verified") {
                                (c::action_button(chrome, &format!("/council/providers/{}/{verb}", o.id), label, &format!("{label} {}", o.name), false))
                                " "
                            }
                        }
                    }
                }
            }
        }))
    }
}

pub fn reports(taxonomy: &Taxonomy, gaps: &[GapRow], spending: &[SpendingRow]) -> Markup {
    let label = |id: &str| c::term_label(taxonomy, id);
    let chart: Vec<(String, f64, String)> = gaps
        .iter()
        .filter(|g| !g.suppressed)
        .take(10)
        .map(|g| {
            (
                format!("{} ({})", label(&g.outcome), g.area),
                g.gap_score,
                format!("{:.2}", g.gap_score),
            )
        })
        .collect();
    let flagged: Vec<_> = spending.iter().filter(|s| !s.flags.is_empty()).collect();
    html! {
        h1 { "Market gaps and spending" }
        p { "Areas with fewer than " (DEFAULT_MIN_HOLDERS) " budget holders are pooled into “OTHER” and their figures withheld. No report shows a name." }
        h2 { "Where the market fails" }
        (c::bar_chart("Gap score by outcome and postcode district (higher means more need, less supply)", &chart))
        p { a href="/council/reports/gaps.csv" { "Download the gap report (CSV)" } }
        (c::table("Gaps, worst first", &["Outcome", "Area", "Families", "Their budgets", "Services nearby", "Places", "Median price", "Searches that found nothing", "Gap score"], None, html! {
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
        }))
        h2 { "Budgets to look at" }
        p { a href="/council/reports/spending.csv" { "Download spending for every allocation (CSV)" } }
        (c::table("Allocations with a flag", &["Plan", "Stream", "Allocated", "Committed", "Delivered", "Remaining", "Plan elapsed", "Flags"], flagged.is_empty().then_some("No allocation is flagged."), html! {
            @for s in &flagged {
                tr {
                    td { (s.reference) } td { (s.stream.replace('_', " ")) } td { (money(s.allocated)) } td { (money(s.committed)) }
                    td { (money(s.delivered)) } td { (money(s.remaining)) } td { (format!("{:.0}%", s.elapsed * 100.0)) }
                    td { @for f in &s.flags { span.tag { (f.replace('_', " ")) } } }
                }
            }
        }))
    }
}
