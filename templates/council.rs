//! Council pages: the budget holders of the officer's own council, its providers, its reports.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, FormValues, csrf_field, input, money};
use crate::app::plan_changes::HolderRecord;
use crate::app::reports::AllReports;
use crate::db::budget_holders::{AllocationView, BudgetHolderView};
use crate::db::organisations::{BrokerView, OrganisationView};
use crate::domain::budget::OutcomeStatus;
use crate::domain::council::CouncilSettings;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::reports::{COUNCIL_WIDE, DEFAULT_MIN_HOLDERS, MERGED, SUPPLY_MILES, SpendingRow};
use crate::domain::sessions::in_london;
use crate::domain::taxonomy::{Taxonomy, Vocabulary};
use crate::domain::{BudgetHolderId, Management, Pence, SignedPence, Stream};

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
                    td { a href={ "/council/budget-holders/" (h.id) } { (h.reference) } } td { (c::child_name(&h.first_name)) } td { (c::short_date(h.plan_end)) }
                    td { (sum(h, |a| a.amount)) } td { (sum(h, |a| a.committed)) } td { (sum(h, |a| a.remaining)) }
                }
            }
        }))
        p { a.button href="/council/budget-holders/new" { "Add a budget holder" } " " a href="/council/providers" { "Verify or suspend providers" } " " a href="/council/brokers" { "Brokers" } " " a href="/council/settings" { "Settings" } }
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
            (input(errors, "family_email", "Family email address", form.get("family_email"), "email", Some("If the family already has a login with your council (a brother or sister's plan), the plan is added to it")))
            (input(errors, "family_password", "Family password", "", "password", Some("At least 10 characters; give it to the family safely. Leave it empty to email the family an invitation to choose its own")))
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
                (c::select(errors, &format!("payment_schedule_{s}"), "How it is paid in", &super::spending::schedule_choices(), form.get(&format!("payment_schedule_{s}"))))
                (input(errors, &format!("admin_fee_{s}"), "Third-party admin fee in pounds", form.get(&format!("admin_fee_{s}")), "text", Some("Only for a third-party arrangement")))
            }
            button.button type="submit" { "Add budget holder" }
        }
    }
}

pub fn providers(chrome: &Chrome<'_>, list: &[OrganisationView]) -> Markup {
    html! {
        h1 { "Providers" }
        p { "Verify a provider once you have checked its registration, safeguarding and insurance. A provider you suspend leaves your families' searches and cannot be booked from your plans until you reinstate it." }
        p { "Each status is your council's own Local Offer listing: other councils that list a provider verify and suspend it for themselves, and the public directory drops it only when every council listing it has suspended it." }
        (c::table("Registered organisations", &["Organisation", "Kind", "Charity or company number", "Status in your Local Offer", "Action"], None, html! {
            @for o in list {
                tr {
                    td { (o.name) } td { (o.kind.as_deref().unwrap_or("Not stated (imported)")) }
                    td { (o.charity_number.clone().or(o.company_number.clone()).unwrap_or_default()) }
                    td { (o.status) }
                    td {
                        @for (verb, label, shown) in [("verify", "Verify", o.status == "unverified"), ("suspend", "Suspend", o.status != "suspended"), ("reinstate", "Reinstate", o.status == "suspended")] {
                            @if shown {
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

/// An area of a gap report in words: a postcode district, or one of the two pooled rows.
fn area_words(area: &str) -> String {
    match area {
        COUNCIL_WIDE => "All areas".to_string(),
        MERGED => "Other areas (small numbers pooled)".to_string(),
        district => district.to_string(),
    }
}

/// Allocated, committed and remaining money of one funding stream, summed over its allocations.
struct StreamSpending {
    stream: String,
    allocated: i64,
    committed: i64,
    remaining: i64,
}

fn by_stream(spending: &[SpendingRow]) -> Vec<StreamSpending> {
    let mut streams: BTreeMap<&str, StreamSpending> = BTreeMap::new();
    for s in spending {
        let row = streams.entry(&s.stream).or_insert_with(|| StreamSpending {
            stream: c::stream_text(&s.stream),
            allocated: 0,
            committed: 0,
            remaining: 0,
        });
        row.allocated += s.allocated.pence();
        row.committed += s.committed.pence();
        row.remaining += s.remaining.pence();
    }
    streams.into_values().collect()
}

/// The four council reports on one page, each a chart or table with what its figures mean and
/// its CSV, so a commissioner can lift any of them into a sufficiency report.
pub fn reports(taxonomy: &Taxonomy, all: &AllReports) -> Markup {
    let AllReports {
        gaps,
        gap_rows,
        spending,
        flagged,
        at_risk,
        outcomes,
        pages,
    } = all;
    // Each table keeps its own page; moving through one leaves the others where they were.
    let href = |table: &str, n: u32| {
        let page_of = |name: &str, current: PageRequest| if name == table { n } else { current.page };
        format!(
            "/council/reports?gaps_page={}&flagged_page={}&at_risk_page={}&outcomes_page={}#{table}",
            page_of("gaps", pages.gaps),
            page_of("flagged", pages.flagged),
            page_of("at_risk", pages.at_risk),
            page_of("outcomes", pages.outcomes),
        )
    };
    let label = |id: &str| c::term_label(taxonomy, id);
    // Pooled rows repeat the districts' figures, so only real districts are charted.
    let chart: Vec<(String, f64, String)> = gaps
        .iter()
        .filter(|g| !g.suppressed && g.area != COUNCIL_WIDE && g.area != MERGED)
        .take(10)
        .map(|g| {
            (
                format!("{} in {}", label(&g.outcome), g.area),
                g.gap_score,
                format!("{:.2}", g.gap_score),
            )
        })
        .collect();
    let streams = by_stream(spending);
    let spending_chart: Vec<(String, f64, String)> = streams
        .iter()
        .flat_map(|s| {
            [
                ("allocated", s.allocated),
                ("committed", s.committed),
                ("remaining", s.remaining),
            ]
            .map(|(what, pence)| {
                let amount = Pence::from_stored(pence);
                (format!("{}: {what}", s.stream), pence as f64, money(amount))
            })
        })
        .collect();
    html! {
        h1 { "Market gaps and spending" }
        p { "Areas with fewer than " (DEFAULT_MIN_HOLDERS) " budget holders are pooled into “Other areas (small numbers pooled)”; where even the pool is smaller than that, its figures are suppressed (shown as “withheld”) so no child can be picked out. No report shows a name." }
        h2 { "Where the market fails" }
        @if chart.is_empty() {
            p { "No postcode district has enough budget holders to be shown on its own yet, so there is no chart; the table's “All areas” rows give the council-wide figures." }
        } @else {
            (c::bar_chart("The ten worst gap scores by outcome and postcode district (higher means more need, less supply)", &chart))
        }
        div.explanation {
            p { "The " strong { "gap score" } " compares need with supply for one outcome in one postcode district. Need is the number of budget holders there whose plan names the outcome, plus half the number of searches for it that found nothing. Supply is the number of published services claiming the outcome within " (SUPPLY_MILES) " miles (or whose own travel reaches the district), plus a tenth of their places. The score is need ÷ (1 + supply), to two decimal places: 0 means no unmet need; 3 means three times as much need as one service's worth of supply." }
            p { "An outcome is marked " strong { "unaffordable" } " where the cheapest service nearby costs more than the median budget the families there have left." }
            p { "“All areas” is the whole council; “Other areas (small numbers pooled)” adds up districts too small to show on their own. Neither is charted, because each repeats families already counted in a district." }
        }
        p { a href="/council/reports/gaps.csv" { "Download the gap report (CSV)" } }
        h3 #gaps { "Gaps, worst first" }
        (c::pager(("row", "rows"), gap_rows, |n| href("gaps", n)))
        (c::table("Gaps, worst first", &["Outcome", "Area", "Families", "Their budgets", "Services nearby", "Places", "Median price", "Searches that found nothing", "Gap score"], gap_rows.items.is_empty().then_some("No outcome has any need or supply on this page."), html! {
            @for g in &gap_rows.items {
                tr {
                    td { (label(&g.outcome)) @if g.unaffordable { br; span.tag { "Unaffordable: cheapest costs more than the median budget left" } } }
                    td { (area_words(&g.area)) }
                    td { @if let Some(n) = g.demand_holders { (n) } @else { "withheld" } }
                    td { @if let Some(m) = g.demand_money { (money(m)) } @else { "withheld" } }
                    td { (g.supply_services) } td { (g.supply_places) }
                    td { (g.median_price.map(money).unwrap_or_else(|| "–".into())) }
                    td { (g.unmet_searches) } td { (format!("{:.2}", g.gap_score)) }
                }
            }
        }))
        h2 { "Spending by funding stream" }
        (c::bar_chart("Allocated, committed and remaining money per funding stream", &spending_chart))
        div.explanation {
            p { strong { "Allocated" } " is what the council has put into plans from the stream; " strong { "committed" } " is what bookings have taken from it; " strong { "remaining" } " is allocated less committed, the money families can still spend." }
        }
        (c::table("Spending per funding stream", &["Funding stream", "Allocated", "Committed", "Remaining"], streams.is_empty().then_some("No plan has an allocation yet."), html! {
            @for s in &streams {
                tr {
                    td { (s.stream) } td { (money(Pence::from_stored(s.allocated))) }
                    td { (money(Pence::from_stored(s.committed))) } td { (money(Pence::from_stored(s.remaining))) }
                }
            }
        }))
        h2 { "Budgets to look at" }
        div.explanation {
            p { "An allocation is flagged " strong { "underused" } " when at least half the plan's time has passed and under a quarter of the allocation is committed, " strong { "six week review due" } " when the plan started five to seven weeks ago, and " strong { "direct payment surplus" } " when a direct payment holds more than six weeks' worth of money beyond what the rest of the plan needs (the claw-back test)." }
        }
        p { a href="/council/reports/spending.csv" { "Download spending for every allocation (CSV)" } }
        h3 #flagged { "Allocations with a flag" }
        (c::pager(("flagged allocation", "flagged allocations"), flagged, |n| href("flagged", n)))
        (c::table("Allocations with a flag", &["Plan", "Stream", "Allocated", "Committed", "Delivered", "Remaining", "Plan elapsed", "Flags"], flagged.items.is_empty().then_some("No flagged allocation on this page."), html! {
            @for s in &flagged.items {
                tr {
                    td { (s.reference) } td { (c::stream_text(&s.stream)) } td { (money(s.allocated)) } td { (money(s.committed)) }
                    td { (money(s.delivered)) } td { (money(s.remaining)) } td { (format!("{:.0}%", s.elapsed * 100.0)) }
                    td { @for f in &s.flags { span.tag { (f.replace('_', " ")) } } }
                }
            }
        }))
        h2 { "Providers at risk" }
        div.explanation {
            p { "Each row is a published price that is lower than the provider's own stated full cost of delivering it. A provider selling below cost may not be able to keep the service going, so the market may lose it." }
        }
        p { a href="/council/reports/providers-at-risk.csv" { "Download providers at risk (CSV)" } }
        h3 #at_risk { "Prices below the provider's full cost" }
        (c::pager(("price below full cost", "prices below full cost"), at_risk, |n| href("at_risk", n)))
        (c::table("Prices below the provider's full cost", &["Provider", "Service", "Price option", "Price", "Full cost"], at_risk.items.is_empty().then_some("No price below full cost on this page."), html! {
            @for p in &at_risk.items {
                tr {
                    td { (p.organisation) } td { (p.service) } td { (p.price_option) }
                    td { (money(Pence::from_stored(p.price))) }
                    td { (p.full_cost.map(|f| money(Pence::from_stored(f))).unwrap_or_else(|| "–".into())) }
                }
            }
        }))
        h2 { "Plan outcomes" }
        div.explanation {
            p { "Each row is one outcome in a family's plan, by plan reference only: how far the council has recorded it as met, and how many bookings of services claiming that outcome served it. The outcome's own wording stays in the plan." }
        }
        p { a href="/council/reports/outcomes.csv" { "Download plan outcomes (CSV)" } }
        h3 #outcomes { "Plan outcomes and the bookings that served them" }
        (c::pager(("plan outcome", "plan outcomes"), outcomes, |n| href("outcomes", n)))
        (c::table("Plan outcomes and the bookings that served them", &["Plan", "Outcome", "Status", "Bookings that served it"], outcomes.items.is_empty().then_some("No plan outcome on this page."), html! {
            @for o in &outcomes.items {
                tr {
                    td { (o.reference) }
                    td { @for t in &o.terms { span.tag { (label(t)) } } }
                    td { (outcome_status(&o.status)) }
                    td { (o.served_by.len()) }
                }
            }
        }))
    }
}

/// How far a plan outcome is met, in words.
pub fn outcome_status(status: &str) -> &'static str {
    match status {
        "partly_met" => "Partly met",
        "fully_met" => "Fully met",
        _ => "Not started",
    }
}

/// A form's value when it was sent back, else what is stored.
fn sent_or(form: &dyn FormValues, name: &str, stored: String) -> String {
    form.all(name).into_iter().next().unwrap_or(stored)
}

fn holder_details(chrome: &Chrome<'_>, p: &BudgetHolderView, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let field = |name: &str, label: &str, stored: String, kind: &str| {
        input(errors, name, label, &sent_or(form, name, stored), kind, None)
    };
    html! {
        h2 #plan { "The plan" }
        (c::summary_list(&[
            ("First name", html! { (p.first_name) }),
            ("EHC plan reference", html! { (p.reference) }),
            ("Date of birth", html! { (c::long_date(p.date_of_birth)) }),
            ("Home postcode", html! { (p.postcode) }),
            ("Plan period", html! { (c::long_date(p.plan_start)) " to " (c::long_date(p.plan_end)) }),
        ]))
        details open[errors.0.iter().any(|(f, _)| PLAN_FIELDS.contains(&f.as_str()))] {
            summary { "Change the plan" }
            form method="post" action={ "/council/budget-holders/" (p.id) "/plan" } novalidate {
                (csrf_field(chrome))
                (field("first_name", "First name", p.first_name.clone(), "text"))
                (field("reference", "EHC plan reference", p.reference.clone(), "text"))
                (field("date_of_birth", "Date of birth", p.date_of_birth.to_string(), "date"))
                (field("postcode", "Home postcode", p.postcode.clone(), "text"))
                (field("plan_start", "Plan starts", p.plan_start.to_string(), "date"))
                (field("plan_end", "Plan ends", p.plan_end.to_string(), "date"))
                button.button type="submit" { "Save the plan" }
            }
        }
    }
}

/// The plan form's fields (its section opens when one has a problem).
pub const PLAN_FIELDS: &[&str] = &[
    "first_name",
    "reference",
    "date_of_birth",
    "postcode",
    "plan_start",
    "plan_end",
];

fn holder_allocations(chrome: &Chrome<'_>, p: &BudgetHolderView, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let held_as: Vec<(String, String)> = Management::ALL
        .iter()
        .map(|m| (m.as_str().to_string(), c::management(*m)))
        .collect();
    let free: Vec<(String, String)> = Stream::ALL
        .iter()
        .filter(|s| !p.allocations.iter().any(|a| a.stream == **s))
        .map(|s| (s.as_str().to_string(), c::stream(*s)))
        .collect();
    html! {
        h2 #allocations { "Allocations" }
        (c::table("Section J allocations", &["Stream", "Held as", "Amount", "Committed", "Remaining"], p.allocations.is_empty().then_some("No allocations yet."), html! {
            @for a in &p.allocations {
                tr {
                    th scope="row" { (c::stream(a.stream)) } td { (super::spending::held_as(a)) }
                    td { (money(a.amount)) } td { (money(a.committed)) } td { (money(a.remaining)) }
                }
            }
        }))
        @if p.allocations.iter().any(|a| a.management == Management::DirectPayment) {
            p { a href={ "/council/budget-holders/" (p.id) "/direct-payment" } { "Direct payment: payments in, spending, surplus test and recovery" } }
        }
        @for a in &p.allocations {
            @let amount = format!("amount_{}", a.id.0);
            @let reason = format!("reason_{}", a.id.0);
            h3 { "Change the " (c::stream(a.stream)) " allocation" }
            form method="post" action={ "/council/budget-holders/" (p.id) "/allocations/" (a.id.0) } novalidate {
                (csrf_field(chrome))
                (input(errors, &amount, "New amount in pounds", form.get(&amount), "text", Some(&format!("Now {}; at least {} is committed to bookings", money(a.amount), money(a.committed)))))
                (input(errors, &reason, "Reason for the change", form.get(&reason), "text", Some("Shown in the plan's statement, for example: annual review")))
                button.button type="submit" { "Change the allocation" }
            }
        }
        @if !free.is_empty() {
            h3 { "Add an allocation" }
            form method="post" action={ "/council/budget-holders/" (p.id) "/allocations" } novalidate {
                (csrf_field(chrome))
                (c::select(errors, "new_stream", "Funding stream", &free, form.get("new_stream")))
                (c::select(errors, "new_management", "Held as", &held_as, form.get("new_management")))
                (input(errors, "new_amount", "Amount in pounds", form.get("new_amount"), "text", None))
                (input(errors, "new_admin_fee", "Third-party admin fee in pounds", form.get("new_admin_fee"), "text", Some("Only for a third-party arrangement")))
                button.button type="submit" { "Add the allocation" }
            }
        }
    }
}

fn holder_outcomes(chrome: &Chrome<'_>, taxonomy: &Taxonomy, p: &BudgetHolderView, errors: &FormErrors) -> Markup {
    let statuses: Vec<(String, String)> = OutcomeStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), outcome_status(s.as_str()).to_string()))
        .collect();
    html! {
        h2 #outcomes { "Outcomes" }
        (c::table("Section E outcomes and how far each is met", &["Outcome", "Means", "Status"], p.outcomes.is_empty().then_some("No outcomes recorded."), html! {
            @for o in &p.outcomes {
                tr { td { (o.text) } td { (c::tags(taxonomy, &o.terms)) } td { (outcome_status(&o.status)) } }
            }
        }))
        @for (i, o) in p.outcomes.iter().enumerate() {
            @let name = format!("status_{}", o.id.0);
            form method="post" action={ "/council/budget-holders/" (p.id) "/outcomes/" (o.id.0) } novalidate {
                (csrf_field(chrome))
                (c::select(errors, &name, &format!("Outcome {}: {}", i + 1, o.text), &statuses, &o.status))
                button.button.button-secondary type="submit" { "Save outcome " (i + 1) }
            }
        }
    }
}

fn holder_broker(chrome: &Chrome<'_>, record: &HolderRecord, errors: &FormErrors) -> Markup {
    let p = &record.plan;
    let mut choices: Vec<(String, String)> = vec![(String::new(), "No broker: the family manages the budget".into())];
    choices.extend(record.brokers.iter().map(|b| (b.id.0.to_string(), b.name.clone())));
    let current = p.broker_organisation_id.map(|b| b.0.to_string()).unwrap_or_default();
    html! {
        h2 #broker { "Broker" }
        p {
            @if let Some(name) = record.broker_name() { (name) " manages this budget with the family." }
            @else { "No broker: the family manages this budget." }
        }
        form method="post" action={ "/council/budget-holders/" (p.id) "/broker" } novalidate {
            (csrf_field(chrome))
            (c::select(errors, "broker", "Broker organisation", &choices, &current))
            button.button.button-secondary type="submit" { "Save the broker" }
        }
        p { a href="/council/brokers" { "Set up a broker organisation" } }
    }
}

/// Lifting the lock-out on the family's login after too many wrong passwords.
fn holder_login(chrome: &Chrome<'_>, id: BudgetHolderId) -> Markup {
    html! {
        h2 #family-login { "Family login" }
        p { "After too many wrong passwords the family's login is locked. If the family asks, check it is them, then lift the lock so they can log in again." }
        form method="post" action={ "/council/budget-holders/" (id) "/unlock-login" } novalidate {
            (csrf_field(chrome))
            button.button.button-secondary type="submit" { "Let the family log in again" }
        }
    }
}

/// One budget holder as its council's officer sees it: the plan, allocations, outcomes, broker
/// and every movement of its money, each with a form to change it.
pub fn holder(
    chrome: &Chrome<'_>,
    taxonomy: &Taxonomy,
    record: &HolderRecord,
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    let p = &record.plan;
    html! {
        p { a href="/council/budget-holders" { "All budget holders" } }
        @if p.erased {
            h1 { "Erased record (" (p.reference) ")" }
            (errors.summary())
            p { "This budget holder's personal details were erased after the plan's retention period. Its allocations and statement are kept, without the person." }
        } @else {
            h1 { (p.first_name) " (" (p.reference) ")" }
            (errors.summary())
            (holder_details(chrome, p, errors, form))
            (holder_allocations(chrome, p, errors, form))
            (crate::templates::personal_budgets::holder_section(p.id, &record.requests, &record.reviews))
            (holder_outcomes(chrome, taxonomy, p, errors))
            (holder_broker(chrome, record, errors))
            (holder_login(chrome, p.id))
            (holder_sessions(chrome, p.id))
            (holder_erase(chrome, p, errors))
        }
        (holder_access(record))
        h2 #statement { "Statement" }
        (c::pager(("movement", "movements"), &record.entries, |n| format!("/council/budget-holders/{}?page={n}#statement", p.id)))
        (c::table("Every movement of this plan's money, oldest first", &["When", "Stream", "What", "Amount", "Left after"], record.entries.items.is_empty().then_some("No movements on this page."), html! {
            @for e in &record.entries.items {
                tr {
                    td { (in_london(e.at).format("%-d %b %Y %H:%M")) } td { (e.stream.replace('_', " ")) }
                    td { (e.description) } td { (signed_money(e.amount)) } td { (money(e.balance_after)) }
                }
            }
        }))
    }
}

/// Who read or changed the plan, newest first, a page at a time.
fn holder_access(record: &HolderRecord) -> Markup {
    let id = record.plan.id;
    html! {
        h2 #access { "Access record" }
        p { "Every reading or change of this plan by anyone other than the family: officers, brokers and providers." }
        (c::pager(("entry", "entries"), &record.access, |n| format!("/council/budget-holders/{id}?access_page={n}#access")))
        (c::table("Who read or changed this plan, newest first", &["When", "Who", "User", "What", "Route"], record.access.items.is_empty().then_some("Nobody else has read this plan yet."), html! {
            @for e in &record.access.items {
                tr {
                    td { (in_london(e.at).format("%-d %b %Y %H:%M")) } td { (c::accessed_by(e)) }
                    td { @if let Some(u) = e.user_id { (e.email) " (user " (u) ")" } @else { "command line" } }
                    td { (e.action) } td { code { (e.route) } }
                }
            }
        }))
    }
}

/// Erasing the record once the plan's retention period is over.
fn holder_erase(chrome: &Chrome<'_>, p: &BudgetHolderView, errors: &FormErrors) -> Markup {
    html! {
        h2 #erase { "Erase this record" }
        p { "Once the plan's retention period is over, erase the child's personal details: name, reference, date of birth, postcode, needs, the outcomes' wording and booking notes. The money and its statement stay, without the person. The family's login closes if it has no other plan." }
        @if let Some(m) = errors.get("erase") { p.error-message id="erase-error" { span.visually-hidden { "Error: " } (m) } }
        (c::action_button(chrome, &format!("/council/budget-holders/{}/erase", p.id), "Erase this record", "Erase this record: remove the child's personal details", true))
    }
}

/// Ending the family's sessions: every device it is logged in on must log in again.
fn holder_sessions(chrome: &Chrome<'_>, id: impl std::fmt::Display) -> Markup {
    html! {
        h2 #sessions { "Family login sessions" }
        p { "If the family has lost a phone or used a shared computer, end every session of its login: it must log in again everywhere." }
        (c::action_button(chrome, &format!("/council/budget-holders/{id}/end-sessions"), "End the family's sessions", "End the family's sessions: every login session of this family", true))
        h2 #invitation { "Invitation" }
        p { "A family whose plan was made without a password is emailed a link to choose one. If it has lost the email or the link has run out, send a new one: the earlier link stops working." }
        (c::action_button(chrome, &format!("/council/budget-holders/{id}/invitation"), "Send a new invitation", "Send a new invitation to the family", false))
    }
}

/// A movement with its sign: "+£500.00", "−£45.00".
fn signed_money(amount: SignedPence) -> String {
    let pence = amount.pence();
    let sign = if pence < 0 { "−" } else { "+" };
    format!("{sign}{}", money(Pence::from_stored(pence.abs())))
}

/// The council's broker organisations and the form to set up another with its first login.
pub fn brokers(chrome: &Chrome<'_>, list: &[BrokerView], errors: &FormErrors, form: &dyn FormValues) -> Markup {
    html! {
        h1 { "Brokers" }
        p { "A broker organisation manages personal budgets for the families you give it. Its staff log in and see only those families' plans, and book for them." }
        (c::table("Your council's broker organisations", &["Organisation", "Logins", "Families"], list.is_empty().then_some("No broker organisations yet."), html! {
            @for b in list {
                tr { td { (b.name) } td { (b.logins.join(", ")) } td { (b.families) } }
            }
        }))
        h2 { "Set up a broker organisation" }
        (errors.summary())
        form method="post" action="/council/brokers" novalidate {
            (csrf_field(chrome))
            (input(errors, "name", "Organisation name", form.get("name"), "text", None))
            (input(errors, "phone", "Phone number", form.get("phone"), "tel", Some("Optional")))
            (input(errors, "email", "Email address of its first login", form.get("email"), "email", None))
            (input(errors, "password", "Password for that login", "", "password", Some("At least 10 characters; give it to the broker safely")))
            button.button type="submit" { "Set up the broker" }
        }
        p { "To give a family to a broker, open the budget holder from " a href="/council/budget-holders" { "the list" } "." }
    }
}

/// The council's settings.
pub fn settings(chrome: &Chrome<'_>, settings: CouncilSettings, errors: &FormErrors) -> Markup {
    let error = errors.get("unverified_bookable");
    html! {
        h1 { "Settings" }
        (errors.summary())
        form method="post" action="/council/settings" novalidate {
            (csrf_field(chrome))
            div.form-group.form-group-error[error.is_some()] {
                fieldset.fieldset aria-describedby="unverified_bookable-hint" {
                    legend.legend { "Can families book providers you have not verified?" }
                    div.hint id="unverified_bookable-hint" { "Your families' plans only. Verified providers show “Verified by” your council on their services and in search." }
                    @if let Some(m) = error { p.error-message id="unverified_bookable-error" { span.visually-hidden { "Error: " } (m) } }
                    div.checkbox {
                        input type="radio" id="unverified_bookable" name="unverified_bookable" value="yes" checked[settings.unverified_bookable];
                        label for="unverified_bookable" { "Yes, families may book any provider that is not suspended" }
                    }
                    div.checkbox {
                        input type="radio" id="unverified_bookable-no" name="unverified_bookable" value="no" checked[!settings.unverified_bookable];
                        label for="unverified_bookable-no" { "No, only providers you have verified" }
                    }
                }
            }
            h2 { "Invoices" }
            @let periods = vec![
                ("calendar_month".to_string(), "Calendar months".to_string()),
                ("four_weekly".to_string(), "Four-weekly periods".to_string()),
            ];
            (c::select(errors, "invoice_period", "How providers' invoices are grouped", &periods, settings.invoice_period.as_str()))
            (input(errors, "period_anchor", "Four-weekly periods start from", &settings.period_anchor.to_string(), "date", Some("Any first day of a period; used only for four-weekly periods")))
            h2 { "Audit of direct-payment spending" }
            (input(errors, "audit_over", "Always check spending over, in pounds", &settings.audit.over.to_string(), "text", None))
            (input(errors, "audit_sample_percent", "Check this share of the rest, in per cent", &settings.audit.percent.to_string(), "text", Some("A whole number from 0 to 100")))
            button.button type="submit" { "Save settings" }
        }
    }
}
