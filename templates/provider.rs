//! Provider pages: registering, listing and pricing services, answering bookings.

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, FormValues as Values, checkboxes, csrf_field, input, money};
use crate::db::bookings::BookingView;
use crate::db::services::ServiceView;
use crate::domain::booking::BookingStatus;
use crate::domain::taxonomy::{Taxonomy, Vocabulary};
use crate::domain::{ServiceId, ServiceStatus, Stream, Unit};

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
            (input(errors, "email", "Email address", form.get("email"), "email", Some("You will log in with this")))
            (input(errors, "password", "Password", "", "password", Some("At least 10 characters")))
            button.button type="submit" { "Register" }
        }
    }
}

pub fn services(chrome: &Chrome<'_>, list: &[ServiceView]) -> Markup {
    html! {
        h1 { "Your services" }
        p { a.button href="/provider/services/new" { "Add a service" } }
        (c::table("Services", &["Service", "Prices", "Status", ""], list.is_empty().then_some("You have not listed a service yet."), html! {
            @for s in list {
                tr {
                    td { a href={ "/services/" (s.id) } { (s.name) } br; a href={ "/provider/services/" (s.id) "/edit" } aria-label={ "Edit " (s.name) } { "Edit" } }
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

/// The form to add a service, or to edit `editing`.
pub fn service_form(
    chrome: &Chrome<'_>,
    taxonomy: &Taxonomy,
    errors: &FormErrors,
    form: &dyn Values,
    editing: Option<ServiceId>,
) -> Markup {
    let (title, action) = match editing {
        Some(id) => ("Edit a service".to_string(), format!("/provider/services/{id}/edit")),
        None => ("Add a service".to_string(), "/provider/services/new".to_string()),
    };
    let outcomes = c::choices(taxonomy, Vocabulary::Outcome, 1);
    let streams: Vec<(String, String)> = Stream::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), capitalised(&c::stream(*s))))
        .collect();
    let policies: Vec<(String, String)> = vec![
        ("charged".into(), "Charged: the money is yours".into()),
        ("refunded".into(), "Refunded to the family's budget".into()),
    ];
    let units: Vec<(String, String)> = Unit::ALL
        .iter()
        .map(|u| (u.as_str().to_string(), u.as_str().to_string()))
        .collect();
    html! {
        h1 { (title) }
        (errors.summary())
        form method="post" action=(action) novalidate {
            (csrf_field(chrome))
            (input(errors, "name", "Service name", form.get("name"), "text", None))
            (c::textarea(errors, "description", "Description", form.get("description"), Some("What happens, who runs it, what families need to know")))
            (checkboxes(errors, "outcome", "Outcomes", &outcomes, &form.all("outcome")))
            (input(errors, "min_age", "Youngest age", form.get("min_age"), "text", None))
            (input(errors, "max_age", "Oldest age", form.get("max_age"), "text", None))
            (checkboxes(errors, "funding_stream", "Who can pay", &streams, &form.all("funding_stream")))
            (input(errors, "postcode", "Postcode", form.get("postcode"), "text", Some("Where the service happens")))
            (input(errors, "reach_miles", "We travel to families up to (miles)", form.get("reach_miles"), "text", Some("Leave empty if families come to you")))
            (input(errors, "capacity", "Places per session", form.get("capacity"), "text", None))
            h2 { "Price" }
            (input(errors, "price_label", "Price option", form.get("price_label"), "text", Some("For example: Saturday session 10:00 to 15:00")))
            (c::select(errors, "price_unit", "Charged per", &units, form.get("price_unit")))
            (input(errors, "price", "Price in pounds", form.get("price"), "text", Some("Leave empty to use the full cost worked out below")))
            details {
                summary { "Work out the full cost" }
                p { "A price that recovers your full costs covers the direct costs of delivering the service and a fair share of overheads (management, premises, insurance, DBS checks, training), spread over the places you expect to sell, not the places you could offer." }
                (input(errors, "fcr_direct", "Direct costs a year, in pounds", form.get("fcr_direct"), "text", Some("Staff, activities, transport, food")))
                (input(errors, "fcr_overheads", "Share of overheads a year, in pounds", form.get("fcr_overheads"), "text", None))
                (input(errors, "fcr_units", "Units you can deliver a year", form.get("fcr_units"), "text", Some("For example: 48 Saturdays × 10 places = 480")))
                (input(errors, "fcr_occupancy", "Expected occupancy", form.get("fcr_occupancy"), "text", Some("The share of those you expect to fill, such as 0.85")))
            }
            h2 { "Dated sessions" }
            p { "When you publish dated sessions, families book the dates they want and each session's places are counted. These settings apply to all of them." }
            (input(errors, "cancellation_notice_hours", "Cancellation notice in hours", form.get("cancellation_notice_hours"), "text", Some("A family cancelling later than this before a session is charged as you choose below; 48 if you leave it empty")))
            (c::select(errors, "late_cancellation", "A cancellation after the notice is", &policies, form.get("late_cancellation")))
            (c::select(errors, "absence", "A child who does not come is", &policies, form.get("absence")))
            (input(errors, "offer_window_hours", "Waiting-list offers stay open for (hours)", form.get("offer_window_hours"), "text", Some("When a place frees, the first family waiting has this long to take it; 24 if you leave it empty")))
            (c::checkbox("publish", "yes", "Publish now", form.get("publish") == "yes"))
            button.button type="submit" { "Save service" }
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

pub fn bookings(chrome: &Chrome<'_>, list: &[BookingView]) -> Markup {
    html! {
        h1 { "Bookings" }
        (c::table("Bookings for your services", &["Service", "What", "Total", "Status", "Answer"], list.is_empty().then_some("No bookings yet."), html! {
            @for b in list {
                tr {
                    td { (b.service_name) }
                    td { (b.quantity) " × " (b.price_option_label) }
                    td { (money(b.total)) }
                    td { (b.status.as_str()) }
                    td {
                        @let actions: &[(&str, &str)] = match b.status {
                            BookingStatus::Requested => &[("confirm", "Confirm"), ("decline", "Decline")],
                            BookingStatus::Confirmed => &[("deliver", "Mark delivered")],
                            _ => &[],
                        };
                        @for (verb, label) in actions {
                            (c::action_button(chrome, &format!("/provider/bookings/{}/{verb}", b.id), label, &format!("{label} booking {}", b.id), false))
                            " "
                        }
                    }
                }
            }
        }))
    }
}
