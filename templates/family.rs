//! Family (and broker) pages: my plan, booking, the statement, matches for the plan.

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, money, summary_list, tags};
use crate::app::bookings::{Booked, Cancelled};
use crate::app::plans::{DEFAULT_MATCH_RADIUS_MILES, Overview, PlanMatches, Statement, Waiting};
use crate::app::waitlist::JoinForm;
use crate::db::access_log::AccessEntry;
use crate::db::bookings::{BookingKind, BookingView};
use crate::db::budget_holders::BudgetHolderView;
use crate::db::sessions::Seat;
use crate::domain::SessionId;
use crate::domain::booking::BookingStatus;
use crate::domain::paging::Page;
use crate::domain::sessions::{SeatStatus, WaitStatus, in_london};
use crate::domain::taxonomy::Taxonomy;

fn plan(taxonomy: &Taxonomy, p: &BudgetHolderView) -> Markup {
    html! {
        h2 { (p.first_name) }
        p { "Plan " (p.reference) ", " (c::long_date(p.plan_start)) " to " (c::long_date(p.plan_end)) "." }
        h3 { "Outcomes" }
        ul { @for o in &p.outcomes { li { (o.text) " " (tags(taxonomy, &o.terms)) } } }
        @if !p.needs.is_empty() {
            h3 { "Needs" }
            p { (tags(taxonomy, &p.needs)) }
        }
        (c::table("Budget", &["Stream", "Held as", "Amount", "Committed", "Remaining", "Used"], None, html! {
            @for a in &p.allocations {
                tr {
                    th scope="row" { (c::stream(a.stream)) }
                    td { (super::spending::held_as(a)) }
                    td { (money(a.amount)) }
                    td { (money(a.committed)) }
                    td.remaining { (money(a.remaining)) }
                    td { meter min="0" max=(a.amount.pence().max(1)) value=(a.committed.pence()) aria-label={ (c::stream(a.stream)) " budget used" } { (money(a.committed)) " of " (money(a.amount)) } }
                }
            }
        }))
    }
}

/// What a booking buys, in a few words: "2 × Session" or "3 sessions, next Saturday 9 January".
fn what(b: &BookingView) -> String {
    if b.kind == BookingKind::Quantity {
        return format!("{} × {}", b.quantity, b.price_option_label);
    }
    let live = b.seats.iter().filter(|s| s.status == SeatStatus::Booked).count();
    let next = b
        .seats
        .iter()
        .filter(|s| s.status == SeatStatus::Booked && s.session.times.starts_at > crate::db::now())
        .map(|s| s.session.times.starts_at)
        .min();
    match next {
        Some(at) => format!(
            "{live} session{} booked; next {}",
            if live == 1 { "" } else { "s" },
            crate::domain::sessions::in_london(at).format("%A %-d %B, %H:%M")
        ),
        None => format!("{} session{}", b.seats.len(), if b.seats.len() == 1 { "" } else { "s" }),
    }
}

fn live(b: &BookingView) -> bool {
    matches!(b.status, BookingStatus::Requested | BookingStatus::Confirmed)
}

pub fn my_plan(chrome: &Chrome<'_>, taxonomy: &Taxonomy, overview: &Overview) -> Markup {
    let (plans, bookings) = (&overview.plans, &overview.bookings.items);
    let now = crate::db::now();
    let seats = || overview.coming.iter().flat_map(|b| b.seats.iter().map(move |s| (b, s)));
    let coming: Vec<(&BookingView, &Seat)> = {
        let mut c: Vec<_> = seats()
            .filter(|(_, s)| s.status == SeatStatus::Booked && s.session.times.ends_at > now)
            .collect();
        c.sort_by_key(|(_, s)| s.session.times.starts_at);
        c
    };
    let changed: Vec<(&BookingView, &Seat)> = seats()
        .filter(|(_, s)| s.session.times.starts_at > now)
        .filter(|(_, s)| {
            s.status == SeatStatus::SessionCancelled
                || (s.status == SeatStatus::Booked && s.session.moved_from.is_some())
        })
        .collect();
    html! {
        h1 { "My plan" }
        @for link in &overview.links {
            div.notice role="status" {
                h2 { (link.council) " has added a plan for your family" }
                p { "On " (c::long_date(crate::domain::sessions::london_date(link.created_at))) ". It is kept apart from your plans until you accept it. If you do not know why this council has a plan for your family, decline it and tell your own council." }
                (c::action_button(chrome, &format!("/my-plan/links/{}/accept", link.id), "Accept", &format!("Accept the plan {} added", link.council), false))
                " "
                (c::action_button(chrome, &format!("/my-plan/links/{}/decline", link.id), "Decline", &format!("Decline the plan {} added", link.council), true))
            }
        }
        @if plans.is_empty() { p { "There is no plan on your account yet. Your council adds it once the EHC plan is final." } }
        @if !changed.is_empty() {
            div.notice role="status" {
                h2 { "Changes to your sessions" }
                ul { @for (b, s) in &changed {
                    li {
                        @if s.status == SeatStatus::SessionCancelled {
                            (b.service_name) " on " (c::when(&s.session)) " was cancelled by the provider. " (money(s.price)) " went back to your budget."
                        } @else if let Some(from) = s.session.moved_from {
                            (b.service_name) " has moved from " (crate::domain::sessions::describe(from, from)) " to " (c::when(&s.session)) "."
                        }
                    }
                } }
            }
        }
        @for p in plans { (plan(taxonomy, p)) }
        @if !plans.is_empty() {
            p {
                a href="/my-plan/matches" { "Matches for my plan" } " · " a href="/my-plan/statement" { "Statement" } " · " a href="/my-calendar" { "Sessions in your calendar app" }
                @if chrome.role == Some("family") { " · " a href="/my-plan/access" { "Who has looked at your plan" } }
            }
            @if !coming.is_empty() {
                (c::table(&format!("Coming sessions (the next {} weeks)", crate::app::plans::COMING_DAYS / 7), &["When", "Service", "Child", "Booking"], None, html! {
                    @for (b, s) in &coming {
                        tr { td { (c::when(&s.session)) } td { (b.service_name) } td { (b.first_name) } td { a href={ "/bookings/" (b.id) } aria-label={ "Booking " (b.reference) } { (b.reference) } } }
                    }
                }))
            }
            (waiting(chrome, &overview.waiting))
            (c::pager(("booking", "bookings"), &overview.bookings, |n| format!("/my-plan?page={n}")))
            (c::table("Bookings", &["Service", "What", "Total", "Status", ""], bookings.is_empty().then_some("No bookings on this page."), html! {
                @for b in bookings {
                    tr {
                        td { a href={ "/services/" (b.service_id) } { (b.service_name) } br; span.hint { "Reference " (b.reference) } }
                        td { (what(b)) }
                        td { (money(b.total)) }
                        td { (b.status.as_str()) }
                        td {
                            @if live(b) {
                                form.inline-form method="get" action={ "/bookings/" (b.id) "/cancel" } {
                                    button.button.button-warning type="submit" aria-label={ "Cancel booking for " (b.service_name) } { "Cancel booking" }
                                }
                            }
                            @if b.kind == BookingKind::Sessions { " " a href={ "/bookings/" (b.id) } aria-label={ "Sessions of booking " (b.reference) } { "Sessions" } }
                        }
                    }
                }
            }))
        }
    }
}

fn waiting(chrome: &Chrome<'_>, entries: &[Waiting]) -> Markup {
    let open: Vec<&Waiting> = entries
        .iter()
        .filter(|w| matches!(w.entry.status, WaitStatus::Waiting | WaitStatus::Offered))
        .collect();
    html! {
        @if !open.is_empty() {
            (c::table("Waiting lists", &["Session", "Where you stand", ""], None, html! {
                @for w in &open {
                    tr {
                        td { (w.service_name) br; (c::when(&w.session)) }
                        td {
                            @if w.entry.status == WaitStatus::Offered {
                                strong { "A place is yours if you accept" }
                                @if let Some(until) = w.entry.offer_expires_at { " by " (crate::domain::sessions::in_london(until).format("%A %-d %B, %H:%M")) }
                            } @else { "Waiting for a place" }
                        }
                        td {
                            @if w.entry.status == WaitStatus::Offered {
                                form.inline-form method="post" action={ "/waitlist/" (w.entry.id) "/accept" } {
                                    (c::csrf_field(chrome))
                                    button.button type="submit" aria-label={ "Accept: " (w.service_name) } { "Accept" }
                                }
                                " "
                            }
                            @let label = if w.entry.status == WaitStatus::Offered { "Decline" } else { "Leave the list" };
                            (c::action_button(chrome, &format!("/waitlist/{}/decline", w.entry.id), label, &format!("{label}: {}", w.service_name), false))
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
            @if b.kind == BookingKind::Quantity {
                p { (b.quantity) " × " (b.price_option_label) " at " (b.service_name) }
            } @else {
                p { (b.seats.len()) " session" @if b.seats.len() != 1 { "s" } " of " (b.service_name) }
            }
        }
        (summary_list(&[
            ("Reference", html! { (b.reference) }),
            ("Total", html! { (money(b.total)) }),
            ("Remaining on this allocation", html! { (money(booked.remaining)) }),
            ("What happens next", html! { "The provider will confirm the booking. You can cancel it from your plan, and the money goes back to your budget as the provider's cancellation terms say." }),
        ]))
        @if !b.seats.is_empty() {
            (c::table("Sessions booked", &["When", "Price"], None, html! {
                @for s in &b.seats { tr { td { (c::when(&s.session)) } td { (money(s.price)) } } }
            }))
        }
        p { a href="/my-plan" { "Go to my plan" } }
    }
}

/// One booking and its sessions, with the dates still to come to choose for cancelling.
pub fn booking(b: &BookingView) -> Markup {
    let cancellable: Vec<&Seat> = b
        .seats
        .iter()
        .filter(|s| s.status == SeatStatus::Booked && s.session.times.starts_at > crate::db::now())
        .collect();
    html! {
        h1 { (b.service_name) }
        (summary_list(&[
            ("Reference", html! { (b.reference) }),
            ("For", html! { (b.first_name) }),
            ("Status", html! { (b.status.as_str()) }),
            ("Total", html! { (money(b.total)) }),
            ("What you told the provider", html! { @if b.notes.is_empty() { "Nothing" } @else { (b.notes) } }),
            ("How the provider reaches you", html! { (b.contact_or_email()) }),
        ]))
        (c::table("Sessions", &["When", "Price", "Status"], b.seats.is_empty().then_some("This booking is not of dated sessions."), html! {
            @for s in &b.seats { tr { td { (c::when(&s.session)) } td { (money(s.price)) } td { (c::seat_status(s.status)) } } }
        }))
        @if live(b) && !cancellable.is_empty() {
            h2 { "Cancel sessions" }
            form method="get" action={ "/bookings/" (b.id) "/cancel" } {
                div.form-group {
                    fieldset.fieldset {
                        legend.legend { "Which sessions do you want to cancel?" }
                        div.checkboxes {
                            @for s in &cancellable {
                                div.checkbox {
                                    input id={ "cancel-" (s.session.id) } type="checkbox" name="session_id" value=(s.session.id);
                                    label for={ "cancel-" (s.session.id) } { (c::when(&s.session)) }
                                }
                            }
                        }
                    }
                }
                button.button.button-secondary type="submit" { "See what cancelling costs" }
            }
        }
        h2 { "Messages" }
        p { a href={ "/bookings/" (b.id) "/write" } { "Write to the provider about this booking" } }
        p { a href="/my-plan" { "Back to my plan" } }
    }
}

/// Before cancelling: what would be refunded and what charged, and the button that does it.
pub fn cancel_confirm(chrome: &Chrome<'_>, c_: &Cancelled, chosen: &[SessionId]) -> Markup {
    let b = &c_.booking;
    html! {
        h1 { "Cancel " (b.service_name) "?" }
        p { "Booking " (b.reference) " for " (b.first_name) ", paid from " (paid_from(c_)) "." }
        @if b.kind == BookingKind::Quantity {
            p { (b.quantity) " × " (b.price_option_label) ". " (money(b.total)) " goes back to your budget (" (paid_from(c_)) ")." }
        }
        @if !c_.refunded.is_empty() {
            (c::table("Refunded to your budget", &["When", "Amount"], None, html! {
                @for s in &c_.refunded { tr { td { (c::when(&s.session)) } td { (money(s.price)) } } }
            }))
        }
        @if !c_.charged.is_empty() {
            div.notice {
                h2 { "These are charged" }
                p { "They are inside the provider's cancellation notice, so the provider keeps the money. The place is offered to someone else." }
                ul { @for s in &c_.charged { li { (c::when(&s.session)) ": " (money(s.price)) } } }
            }
        }
        form method="post" action={ "/bookings/" (b.id) "/cancel" } {
            (c::csrf_field(chrome))
            @for id in chosen { input type="hidden" name="session_id" value=(id); }
            button.button.button-warning type="submit" { "Yes, cancel" }
        }
        p { a href="/my-plan" { "No, keep the booking" } }
    }
}

/// The allocation a booking was paid from, in words.
fn paid_from(c_: &Cancelled) -> String {
    c_.allocation
        .as_ref()
        .map_or_else(|| "your budget".to_string(), |a| c::allocation(a.stream, a.management))
}

/// After cancelling: what happened.
pub fn cancelled(c_: &Cancelled) -> Markup {
    let b = &c_.booking;
    let back = if b.kind == BookingKind::Quantity {
        b.total
    } else {
        crate::domain::Pence::from_stored(c_.refunded.iter().map(|s| s.price.pence()).sum())
    };
    html! {
        div.panel role="status" {
            h1 { "Booking " (b.reference) " cancelled" }
            p { (money(back)) " went back to your budget: " (paid_from(c_)) "." }
            @if !c_.charged.is_empty() {
                p { (c_.charged.len()) " session" @if c_.charged.len() != 1 { "s" } " inside the provider's notice " @if c_.charged.len() == 1 { "is" } @else { "are" } " charged." }
            }
        }
        @if !c_.refunded.is_empty() {
            (c::table("Refunded", &["When", "Amount"], None, html! {
                @for s in &c_.refunded { tr { td { (c::when(&s.session)) } td { (money(s.price)) } } }
            }))
        }
        @if !c_.charged.is_empty() {
            (c::table("Charged (cancelled inside the notice)", &["When", "Amount"], None, html! {
                @for s in &c_.charged { tr { td { (c::when(&s.session)) } td { (money(s.price)) } } }
            }))
        }
        p { a href="/my-plan" { "Go to my plan" } }
    }
}

/// Asking for a place on a full session.
pub fn waitlist_form(chrome: &Chrome<'_>, form: &JoinForm) -> Markup {
    html! {
        h1 { "Join the waiting list" }
        p { (form.service.name) ", " (c::when(&form.session)) " is full." }
        p { "If a place frees, the first family on the list is offered it and has " (form.service.policy.offer_window_hours) " hours to accept. The money is taken only when you accept." }
        @if !form.pay_from.iter().any(|p| p.can_pay()) {
            (c::cannot_pay(&form.pay_from))
        } @else {
        form method="post" action={ "/sessions/" (form.session.id) "/waitlist" } {
            (c::csrf_field(chrome))
            div.form-group {
                label.label for="allocation" { "Pay from" }
                select #allocation name="allocation" {
                    @for p in form.pay_from.iter().filter(|p| p.can_pay()) {
                        @let a = &p.allocation;
                        option value={ (p.budget_holder_id) ":" (a.id) } { (p.first_name) " – " (c::allocation(a.stream, a.management)) " (" (money(a.remaining)) " left)" }
                    }
                }
            }
            div.form-group {
                label.label for="price_option_id" { "Price option" }
                select #price_option_id name="price_option_id" {
                    @for o in &form.service.price_options { option value=(o.id.0) { (o.label) " – " (money(o.price)) " per " (o.unit.as_str()) } }
                }
            }
            button.button type="submit" { "Join the waiting list" }
        }
        }
        p { a href={ "/services/" (form.service.id) } { "Back to the service" } }
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

/// Who has looked at each of the family's plans: the role and the council or organisation, in
/// England's time, and what they did (not their email: the council keeps that).
pub fn access(logs: &[(BudgetHolderView, Page<AccessEntry>)]) -> Markup {
    html! {
        h1 { "Who has looked at your plan" }
        p { "Everyone other than you who read or changed your child's plan, budget or bookings: council officers, your broker and the providers you booked. Newest first." }
        @for (p, log) in logs {
            h2 { (p.first_name) }
            (c::pager(("entry", "entries"), log, |n| format!("/my-plan/access?page={n}")))
            (c::table(&format!("Who has looked at {}'s plan", p.first_name), &["When", "Who", "What they did"], log.items.is_empty().then_some("Nobody else has looked at this plan."), html! {
                @for e in &log.items {
                    tr { td { (in_london(e.at).format("%-d %b %Y %H:%M")) } td { (c::accessed_by(e)) } td { (e.action) } }
                }
            }))
        }
        p { a href="/my-plan" { "Back to my plan" } }
    }
}

/// Each plan's statement a page at a time; `one` when the address asked for a single plan.
pub fn statement(statements: &[Statement], one: bool) -> Markup {
    html! {
        h1 { "Statement" }
        @for s in statements {
            h2 { (s.first_name) }
            (c::pager(("movement", "movements"), &s.entries, |n| format!("/my-plan/statement?plan={}&page={n}", s.budget_holder_id)))
            (c::table(&format!("{}'s budget, oldest first", s.first_name), &["Date", "Stream", "What", "Amount", "Left after"], s.entries.items.is_empty().then_some("No movements on this page."), html! {
                @for e in &s.entries.items {
                    tr { td { (c::short_date(e.at.date())) } td { (c::stream_text(&e.stream)) } td { (e.description) } td { (c::signed_money(e.amount)) } td { (money(e.balance_after)) } }
                }
            }))
        }
        @if one { p { a href="/my-plan/statement" { "Every statement" } } }
        p { a href="/my-plan" { "Back to my plan" } }
    }
}

pub fn matches(taxonomy: &Taxonomy, sections: &[PlanMatches]) -> Markup {
    html! {
        h1 { "Matches for my plan" }
        p { "Services within " (DEFAULT_MATCH_RADIUS_MILES) " miles of home, right for your child's age and needs, that your budget can still pay for. Services that meet more of the plan's outcomes come first, then services for your child's needs; services only for needs your child does not have are left out." }
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
                            @if !hit.outcomes_matched_broadly.is_empty() {
                                " Through a broader aim: " (tags(taxonomy, &hit.outcomes_matched_broadly))
                            }
                        }
                    }
                }
            }
        }
        p { a href="/my-plan" { "Back to my plan" } }
    }
}
