//! Provider pages: registering, listing and pricing services, answering bookings.

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, FormValues as Values, checkboxes, csrf_field, input, money};
use crate::app::sessions::{Register, Timetable};
use crate::db::bookings::{BookingKind, BookingView};
use crate::db::services::ServiceView;
use crate::domain::booking::BookingStatus;
use crate::domain::paging::Page;
use crate::domain::service::Day;
use crate::domain::sessions::{SeatStatus, SessionStatus};
use crate::domain::taxonomy::{Taxonomy, Vocabulary};
use crate::domain::{ServiceId, ServiceStatus, Stream, Unit};

/// After registering: the same words whether or not the email already had an account.
pub fn registration_received() -> Markup {
    html! {
        h1 { "Registration received" }
        p { (crate::app::accounts::REGISTRATION_RECEIVED) }
        p { a.button href="/login" { "Log in" } }
    }
}

pub fn register(chrome: &Chrome<'_>, errors: &FormErrors, form: &dyn Values) -> Markup {
    html! {
        h1 { "Register your organisation" }
        (errors.summary())
        form method="post" action="/provider/register" novalidate {
            (csrf_field(chrome))
            (input(errors, "organisation_name", "Organisation name", form.get("organisation_name"), "text", None))
            div.form-group.form-group-error[errors.get("kind").is_some()] id="kind" {
                fieldset.fieldset {
                    legend.legend { "What kind of organisation is it?" }
                    @if let Some(m) = errors.get("kind") { p.error-message { (m) } }
                    @for (value, label) in [("vcs", "Charity or voluntary group"), ("private", "Private company")] {
                        div.checkbox {
                            input id={ "kind-" (value) } type="radio" name="kind" value=(value) checked[form.get("kind") == value];
                            label for={ "kind-" (value) } { (label) }
                        }
                    }
                }
            }
            (input(errors, "charity_number", "Charity number (if you have one)", form.get("charity_number"), "text", None))
            (input(errors, "company_number", "Company number (if you have one)", form.get("company_number"), "text", Some("Eight characters, such as 01234567")))
            (c::textarea(errors, "description", "About your organisation (optional)", form.get("description"), Some("Who you are and what you do; families see this")))
            h2 { "How families reach you" }
            p { "Families see these on every service you list." }
            (input(errors, "phone", "Phone (optional)", form.get("phone"), "tel", None))
            (input(errors, "organisation_email", "Email for families (optional)", form.get("organisation_email"), "email", None))
            (input(errors, "website", "Website (optional)", form.get("website"), "url", Some("Starting https://")))
            h2 { "Your login" }
            (input(errors, "email", "Your email address", form.get("email"), "email", Some("You will log in with this")))
            (input(errors, "password", "Password", "", "password", Some("At least 10 characters")))
            button.button type="submit" { "Register" }
        }
    }
}

/// Where a provider's email confirmation stands, as its services page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Done,
    Waiting,
    Sent,
}

pub fn services(chrome: &Chrome<'_>, list: &[ServiceView], confirmation: Confirmation) -> Markup {
    html! {
        h1 { "Your services" }
        @if confirmation != Confirmation::Done {
            div.notice role="status" {
                h2.heading-s { "Confirm your email address" }
                @if confirmation == Confirmation::Sent {
                    p { "We have sent a new link to your email address." }
                }
                p { "We emailed you a link when you registered. Until you open it, you can keep drafts, and the services you publish wait as drafts: they go live when you confirm." }
                form method="post" action="/provider/confirm-email" {
                    (c::csrf_field(chrome))
                    button.button.button-secondary type="submit" { "Send me a new link" }
                }
            }
        }
        p { a.button href="/provider/services/new" { "Add a service" } }
        p { a href="/my-calendar" { "Your sessions in your calendar app" } }
        (c::table("Services", &["Service", "Prices", "Status", ""], list.is_empty().then_some("You have not listed a service yet."), html! {
            @for s in list {
                tr {
                    td {
                        a href={ "/services/" (s.id) } { (s.name) } br;
                        a href={ "/provider/services/" (s.id) "/edit" } aria-label={ "Edit " (s.name) } { "Edit" } " · "
                        a href={ "/provider/services/" (s.id) "/sessions" } aria-label={ "Sessions of " (s.name) } { "Sessions" }
                    }
                    td { @for o in &s.price_options { (o.label) ": " (money(o.price)) br; } }
                    td { (s.status.as_str()) }
                    td {
                        @let (verb, label) = if s.status == ServiceStatus::Published { ("unpublish", "Unpublish") } else { ("publish", "Publish") };
                        (c::action_button(chrome, &format!("/provider/services/{}/{verb}", s.id), label, &format!("{label} {}", s.name), false))
                    }
                }
            }
        }))
        p { a href="/provider/bookings" { "Bookings for your services" } }
    }
}

/// The form to add a service, or to edit `editing`: everything the API takes, price options in
/// `rows` rows (one more with "Add another price option", no script needed).
pub fn service_form(
    chrome: &Chrome<'_>,
    taxonomy: &Taxonomy,
    errors: &FormErrors,
    form: &dyn Values,
    editing: Option<ServiceId>,
    rows: usize,
) -> Markup {
    let (title, action) = match editing {
        Some(id) => ("Edit a service".to_string(), format!("/provider/services/{id}/edit")),
        None => ("Add a service".to_string(), "/provider/services/new".to_string()),
    };
    let streams: Vec<(String, String)> = Stream::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), c::stream(*s)))
        .collect();
    let policies: Vec<(String, String)> = vec![
        ("charged".into(), "Charged: the money is yours".into()),
        ("refunded".into(), "Refunded to the family's budget".into()),
    ];
    html! {
        h1 { (title) }
        (errors.summary())
        form method="post" action=(action) novalidate {
            (csrf_field(chrome))
            input type="hidden" name="price_rows" value=(rows);
            (input(errors, "name", "Service name", form.get("name"), "text", None))
            (c::textarea(errors, "description", "Description", form.get("description"), Some("What happens, who runs it, what families need to know")))
            h2 { "What it is and who it is for" }
            (c::term_checkboxes(errors, "service_type", "Kinds of service", taxonomy, Vocabulary::ServiceType, 0, &form.all("service_type")))
            (c::term_checkboxes(errors, "outcome", "Outcomes it helps with", taxonomy, Vocabulary::Outcome, 1, &form.all("outcome")))
            (c::term_checkboxes(errors, "need", "Needs it suits", taxonomy, Vocabulary::Need, 0, &form.all("need")))
            (input(errors, "min_age", "Youngest age", form.get("min_age"), "text", None))
            (input(errors, "max_age", "Oldest age", form.get("max_age"), "text", None))
            (checkboxes(errors, "funding_stream", "Who can pay", &streams, &form.all("funding_stream")))
            h2 { "Where and when" }
            (input(errors, "address", "Address (optional)", form.get("address"), "text", Some("The building and street, such as Wandle Hall, 12 Mill Road")))
            (input(errors, "postcode", "Postcode", form.get("postcode"), "text", Some("Where the service happens")))
            (input(errors, "reach_miles", "We travel to families up to (miles)", form.get("reach_miles"), "text", Some("Leave empty if families come to you")))
            (input(errors, "capacity", "Places per session (optional)", form.get("capacity"), "text", Some("Leave empty if you do not want to say; dated sessions then need their own places")))
            (weekly_times(errors, form))
            h2 { "Prices" }
            p { "Give each way of buying the service its own option, such as a Saturday session and an overnight stay. Leave a row empty to skip it." }
            @for i in 0..rows { (price_row(errors, form, i)) }
            h2 { "Dated sessions" }
            p { "When you publish dated sessions, families book the dates they want and each session's places are counted. These settings apply to all of them." }
            (input(errors, "cancellation_notice_hours", "Cancellation notice in hours", form.get("cancellation_notice_hours"), "text", Some("A family cancelling later than this before a session is charged as you choose below; 48 if you leave it empty")))
            (c::select(errors, "late_cancellation", "A cancellation after the notice is", &policies, form.get("late_cancellation")))
            (c::select(errors, "absence", "A child who does not come is", &policies, form.get("absence")))
            (input(errors, "offer_window_hours", "Waiting-list offers stay open for (hours)", form.get("offer_window_hours"), "text", Some("When a place frees, the first family waiting has this long to take it; 24 if you leave it empty")))
            (c::checkbox("publish", "yes", "Publish now", form.get("publish") == "yes"))
            p { "Families see your organisation's phone, email and website on the service's page." }
            // Save comes first, so pressing Enter in a field saves rather than adds a row.
            div.button-group {
                button.button type="submit" { "Save service" }
                " "
                button.button.button-secondary type="submit" name="add_price_row" value="yes" { "Add another price option" }
            }
        }
    }
}

/// The weekly times: a start and an end for each day it runs.
fn weekly_times(errors: &FormErrors, form: &dyn Values) -> Markup {
    html! {
        div.form-group {
            fieldset.fieldset {
                legend.legend { "When it runs each week (optional)" }
                div.hint { "A start and end time, such as 10:00 and 15:00, for each day it runs. Leave the other days empty." }
                @for d in Day::ALL {
                    @let (starts, ends) = (format!("schedule_{d}_starts"), format!("schedule_{d}_ends"));
                    fieldset.fieldset.term-group {
                        legend.legend { (capitalised(d.as_str())) }
                        div.time-pair {
                            (input(errors, &starts, "Starts", form.get(&starts), "time", None))
                            (input(errors, &ends, "Ends", form.get(&ends), "time", None))
                        }
                    }
                }
            }
        }
    }
}

/// One price option's row, with its full-cost calculator.
fn price_row(errors: &FormErrors, form: &dyn Values, i: usize) -> Markup {
    let name = |f: &str| format!("{f}_{i}");
    let units: Vec<(String, String)> = Unit::ALL
        .iter()
        .map(|u| (u.as_str().to_string(), capitalised(u.as_str())))
        .collect();
    let unit = match form.get(&name("price_unit")) {
        "" => "session",
        u => u,
    };
    html! {
        div.form-group.price-option {
            fieldset.fieldset {
                legend.legend { "Price option " (i + 1) }
                @if !form.get(&name("price_id")).is_empty() {
                    input type="hidden" name=(name("price_id")) value=(form.get(&name("price_id")));
                }
                (input(errors, &name("price_label"), "What it is called", form.get(&name("price_label")), "text", Some("For example: Saturday session 10:00 to 15:00")))
                (c::select(errors, &name("price_unit"), "Charged per", &units, unit))
                (input(errors, &name("price"), "Price in pounds", form.get(&name("price")), "text", Some("Leave empty to use the full cost worked out below")))
                @let costed = ["fcr_direct", "fcr_overheads", "fcr_units", "fcr_occupancy"].iter().any(|f| !form.get(&name(f)).is_empty() || errors.get(&name(f)).is_some());
                details open[costed] {
                    summary { "Work out the full cost" }
                    p { "A price that recovers your full costs covers the direct costs of delivering the service and a fair share of overheads (management, premises, insurance, DBS checks, training), spread over the places you expect to sell, not the places you could offer." }
                    (input(errors, &name("fcr_direct"), "Direct costs a year, in pounds", form.get(&name("fcr_direct")), "text", Some("Staff, activities, transport, food")))
                    (input(errors, &name("fcr_overheads"), "Share of overheads a year, in pounds", form.get(&name("fcr_overheads")), "text", None))
                    (input(errors, &name("fcr_units"), "Units you can deliver a year", form.get(&name("fcr_units")), "text", Some("For example: 48 Saturdays × 10 places = 480")))
                    (input(errors, &name("fcr_occupancy"), "Expected occupancy", form.get(&name("fcr_occupancy")), "text", Some("The share of those you expect to fill, such as 0.85")))
                }
                @if i > 0 || !form.get(&name("price_id")).is_empty() {
                    (c::checkbox(&name("price_remove"), "yes", &format!("Remove price option {} when saving", i + 1), form.get(&name("price_remove")) == "yes"))
                }
            }
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|f| f.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// What a booking buys, for the provider: "2 × Session" or "3 sessions, next Sat 9 Jan 10:00".
fn what(b: &BookingView) -> String {
    if b.kind == BookingKind::Quantity {
        return format!("{} × {}", b.quantity, b.price_option_label);
    }
    let next = b
        .seats
        .iter()
        .filter(|s| s.status == SeatStatus::Booked)
        .map(|s| s.session.times.starts_at)
        .min();
    let n = b.seats.len();
    match next {
        Some(at) => format!(
            "{n} session{}, next {}",
            if n == 1 { "" } else { "s" },
            crate::domain::sessions::in_london(at).format("%a %-d %b %H:%M")
        ),
        None => format!("{n} session{}", if n == 1 { "" } else { "s" }),
    }
}

pub fn bookings(chrome: &Chrome<'_>, page: &Page<BookingView>) -> Markup {
    let list = &page.items;
    html! {
        h1 { "Bookings" }
        (c::pager(("booking", "bookings"), page, |n| format!("/provider/bookings?page={n}")))
        (c::table("Bookings for your services", &["Reference", "Service", "Child", "What", "Total", "Contact", "Status", "Answer"], list.is_empty().then_some("No bookings on this page."), html! {
            @for b in list {
                tr {
                    td { (b.reference) }
                    td { (b.service_name) }
                    td { (c::child_name(&b.first_name)) }
                    td { (what(b)) }
                    td { (money(b.total)) }
                    td { (b.contact_or_email()) }
                    td { (b.status.as_str()) }
                    td {
                        @let actions: &[(&str, &str)] = match (b.status, b.kind) {
                            (BookingStatus::Requested, _) => &[("confirm", "Confirm"), ("decline", "Decline")],
                            (BookingStatus::Confirmed, BookingKind::Quantity) => &[("deliver", "Mark delivered")],
                            _ => &[],
                        };
                        @for (verb, label) in actions {
                            (c::action_button(chrome, &format!("/provider/bookings/{}/{verb}", b.id), label, &format!("{label} booking {}", b.reference), false))
                            " "
                        }
                    }
                }
            }
        }))
    }
}

/// A service's sessions for its provider: occupancy, and the forms to add more.
pub fn timetable(chrome: &Chrome<'_>, t: &Timetable, errors: &FormErrors, form: &dyn Values) -> Markup {
    let s = &t.service;
    let days: Vec<(String, String)> = Day::ALL
        .iter()
        .map(|d| (d.as_str().to_string(), capitalised(d.as_str())))
        .collect();
    html! {
        h1 { "Sessions: " (s.name) }
        p { (c::cancellation_terms(&s.policy)) " Waiting-list offers stay open " (s.policy.offer_window_hours) " hours. "
            a href={ "/provider/services/" (s.id) "/edit" } { "Change these in the service's settings" } "." }
        (errors.summary())
        (c::table("Sessions", &["When", "Booked", "Status", ""], t.sessions.is_empty().then_some("No sessions yet: add them below."), html! {
            @for x in &t.sessions {
                tr {
                    td { (c::when(x)) @if x.moved_from.is_some() { br; span.tag { "Moved" } } }
                    td { (x.places_taken) " of " (x.places) }
                    td { (x.status.as_str()) }
                    td { a href={ "/provider/sessions/" (x.id) } aria-label={ "Register for " (c::when(x)) } { "Register" } }
                }
            }
        }))
        h2 { "Add one session" }
        form method="post" action={ "/provider/services/" (s.id) "/sessions" } novalidate {
            (csrf_field(chrome))
            input type="hidden" name="kind" value="one";
            (input(errors, "date", "Date", form.get("date"), "date", Some("For example: 2027-01-09")))
            (input(errors, "starts", "Starts", form.get("starts"), "time", Some("24-hour time, such as 10:00")))
            (input(errors, "ends", "Ends", form.get("ends"), "time", None))
            (input(errors, "places", "Places", form.get("places"), "text", Some("Leave empty for the service's places per session")))
            button.button type="submit" { "Add the session" }
        }
        h2 { "Add a weekly series" }
        form method="post" action={ "/provider/services/" (s.id) "/sessions" } novalidate {
            (csrf_field(chrome))
            input type="hidden" name="kind" value="weekly";
            (checkboxes(errors, "weekly_days", "Every", &days, &form.all("weekly_days")))
            (input(errors, "weekly_from", "From", form.get("weekly_from"), "date", None))
            (input(errors, "weekly_until", "Until", form.get("weekly_until"), "date", None))
            (input(errors, "weekly_starts", "Starts", form.get("weekly_starts"), "time", None))
            (input(errors, "weekly_ends", "Ends", form.get("weekly_ends"), "time", None))
            (input(errors, "weekly_except", "Except on", form.get("weekly_except"), "text", Some("Dates with no session, such as 2027-02-13 2027-02-20")))
            (input(errors, "weekly_places", "Places", form.get("weekly_places"), "text", Some("Leave empty for the service's places per session")))
            button.button type="submit" { "Add the series" }
        }
        p { a href="/provider/services" { "Back to your services" } }
    }
}

/// One session for its provider: the register (printable), attendance, changes.
pub fn session(chrome: &Chrome<'_>, r: &Register, errors: &FormErrors, started: bool) -> Markup {
    let x = &r.session;
    let day = crate::domain::sessions::london_date(x.times.starts_at);
    let scheduled = x.status == SessionStatus::Scheduled;
    html! {
        h1 { (r.service_name) ": " (c::when(x)) }
        (errors.summary())
        (c::summary_list(&[
            ("Booked", html! { (x.places_taken) " of " (x.places) " places" }),
            ("Status", html! { (x.status.as_str()) @if let Some(from) = x.moved_from { " (moved from " (crate::domain::sessions::describe(from, from)) ")" } }),
        ]))
        p.no-print { "To print the register, use your browser's Print: the page prints without its menus and buttons." }
        (c::table("Register", &["Child", "Age", "Reference", "What the family told you", "Contact", "Status"], r.lines.is_empty().then_some("Nobody is booked yet."), html! {
            @for l in &r.lines {
                tr {
                    td { (c::child_name(&l.first_name)) } td { (crate::domain::budget::age_on(l.date_of_birth, day)) } td { (l.reference) }
                    td { @if l.notes.is_empty() { "–" } @else { (l.notes) } }
                    td { (l.contact) } td { (c::seat_status(l.status)) }
                }
            }
        }))
        @let markable: Vec<_> = r.lines.iter().filter(|l| matches!(l.status, SeatStatus::Booked | SeatStatus::Attended | SeatStatus::AbsentCharged | SeatStatus::AbsentRefunded)).collect();
        @if started && scheduled && !markable.is_empty() {
            h2 { "Mark attendance" }
            form method="post" action={ "/provider/sessions/" (x.id) "/register" } {
                (csrf_field(chrome))
                @for l in &markable {
                    div.form-group {
                        fieldset.fieldset {
                            legend.legend { (c::child_name(&l.first_name)) " (" (l.reference) ")" }
                            div.checkboxes {
                                @for (value, label) in [("attended", "Came"), ("absent", "Did not come")] {
                                    @let id = format!("mark-{}-{value}", l.booking_id);
                                    @let on = (value == "attended" && l.status == SeatStatus::Attended) || (value == "absent" && matches!(l.status, SeatStatus::AbsentCharged | SeatStatus::AbsentRefunded));
                                    div.checkbox {
                                        input id=(id) type="radio" name={ "attendance_" (l.booking_id) } value=(value) checked[on];
                                        label for=(id) { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
                p { "An absence is " (r.policy.absence.as_str()) ", as your service's settings say." }
                button.button type="submit" { "Save attendance" }
            }
        }
        @if scheduled && !started {
            h2 { "Change this session" }
            form method="post" action={ "/provider/sessions/" (x.id) "/change" } novalidate {
                (csrf_field(chrome))
                (input(errors, "places", "Places", &x.places.to_string(), "text", Some("Never fewer than those already booked")))
                (input(errors, "date", "Date", &day.to_string(), "date", None))
                (input(errors, "starts", "Starts", &crate::domain::sessions::in_london(x.times.starts_at).format("%H:%M").to_string(), "time", None))
                (input(errors, "ends", "Ends", &crate::domain::sessions::in_london(x.times.ends_at).format("%H:%M").to_string(), "time", None))
                button.button.button-secondary type="submit" { "Save changes" }
            }
            h2 { "Cancel this session" }
            p { "Every family booked on it gets its money back and sees the session cancelled on its plan." }
            form method="post" action={ "/provider/sessions/" (x.id) "/cancel" } {
                (csrf_field(chrome))
                (c::checkbox("confirm", "yes", "Yes, cancel this session and refund every booking", false))
                button.button.button-warning type="submit" { "Cancel the session" }
            }
        }
        p { a href={ "/provider/services/" (x.service_id) "/sessions" } { "Back to the sessions" } }
    }
}
