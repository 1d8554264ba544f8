//! Family (and broker) pages: my plan, booking, the statement, matches for the plan.

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, money, summary_list, tags};
use crate::app::bookings::Booked;
use crate::app::plans::{DEFAULT_MATCH_RADIUS_MILES, PlanMatches, Statement};
use crate::db::bookings::BookingView;
use crate::db::budget_holders::BudgetHolderView;
use crate::domain::booking::BookingStatus;
use crate::domain::taxonomy::Taxonomy;

fn plan(taxonomy: &Taxonomy, p: &BudgetHolderView) -> Markup {
    html! {
        h2 { (p.first_name) }
        p { "Plan " (p.reference) ", " (c::long_date(p.plan_start)) " to " (c::long_date(p.plan_end)) "." }
        h3 { "Outcomes" }
        ul { @for o in &p.outcomes { li { (o.text) " " (tags(taxonomy, &o.terms)) } } }
        (c::table("Budget", &["Stream", "Held as", "Amount", "Committed", "Remaining", "Used"], None, html! {
            @for a in &p.allocations {
                tr {
                    th scope="row" { (c::stream(a.stream)) }
                    td { (c::management(a.management)) }
                    td { (money(a.amount)) }
                    td { (money(a.committed)) }
                    td.remaining { (money(a.remaining)) }
                    td { meter min="0" max=(a.amount.pence().max(1)) value=(a.committed.pence()) aria-label={ (c::stream(a.stream)) " budget used" } { (money(a.committed)) " of " (money(a.amount)) } }
                }
            }
        }))
    }
}

pub fn my_plan(
    chrome: &Chrome<'_>,
    taxonomy: &Taxonomy,
    plans: &[BudgetHolderView],
    bookings: &[BookingView],
) -> Markup {
    html! {
        h1 { "My plan" }
        @if plans.is_empty() { p { "There is no plan on your account yet. Your council adds it once the EHC plan is final." } }
        @for p in plans { (plan(taxonomy, p)) }
        @if !plans.is_empty() {
            p { a href="/my-plan/matches" { "Matches for my plan" } " · " a href="/my-plan/statement" { "Statement" } }
            (c::table("Bookings", &["Service", "What", "Total", "Status", ""], bookings.is_empty().then_some("No bookings yet."), html! {
                @for b in bookings {
                    tr {
                        td { a href={ "/services/" (b.service_id) } { (b.service_name) } }
                        td { (b.quantity) " × " (b.price_option_label) }
                        td { (money(b.total)) }
                        td { (b.status.as_str()) }
                        td {
                            @if matches!(b.status, BookingStatus::Requested | BookingStatus::Confirmed) {
                                (c::action_button(chrome, &format!("/bookings/{}/cancel", b.id), "Cancel booking", &format!("Cancel booking for {}", b.service_name), true))
                            }
                        }
                    }
                }
            }))
        }
    }
}

pub fn booked(booked: &Booked) -> Markup {
    let b = &booked.booking;
    html! {
        div.panel {
            h1 { "Booking requested" }
            p { (b.quantity) " × " (b.price_option_label) " at " (b.service_name) }
        }
        (summary_list(&[
            ("Total", html! { (money(b.total)) }),
            ("Remaining on this allocation", html! { (money(booked.remaining)) }),
            ("What happens next", html! { "The provider will confirm the booking. You can cancel it from your plan until it is delivered, and the money goes back to your budget." }),
        ]))
        p { a href="/my-plan" { "Go to my plan" } }
    }
}

pub fn booking_failed(errors: &FormErrors, service_id: i64) -> Markup {
    html! {
        h1 { "The booking was not made" }
        (errors.summary())
        p id="quantity" { "Nothing was taken from your budget." }
        p { a href={ "/services/" (service_id) } { "Back to the service" } }
    }
}

pub fn statement(statements: &[Statement]) -> Markup {
    html! {
        h1 { "Statement" }
        @for s in statements {
            (c::table(&s.first_name, &["Date", "Stream", "What", "Amount", "Left after"], None, html! {
                @for e in &s.entries {
                    tr { td { (c::short_date(e.at.date())) } td { (e.stream.replace('_', " ")) } td { (e.description) } td { (e.amount.to_string()) } td { (money(e.balance_after)) } }
                }
            }))
        }
        p { a href="/my-plan" { "Back to my plan" } }
    }
}

pub fn matches(taxonomy: &Taxonomy, sections: &[PlanMatches]) -> Markup {
    html! {
        h1 { "Matches for my plan" }
        p { "Services within " (DEFAULT_MATCH_RADIUS_MILES) " miles of home, right for your child's age, that your budget can still pay for. Services that meet more of the plan's outcomes come first." }
        @for m in sections {
            h2 { (m.plan.first_name) }
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
                            @if let Some(next) = m.next_session(hit) {
                                br;
                                "Next session: " (c::session_start(next.starts_at)) " – " (c::places_left(next.places_left))
                            }
                            br;
                            (tags(taxonomy, &hit.outcomes_matched))
                        }
                    }
                }
            }
        }
        p { a href="/my-plan" { "Back to my plan" } }
    }
}
