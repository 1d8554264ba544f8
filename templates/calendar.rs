//! The calendar link page, for families, brokers and providers alike.

use maud::{Markup, html};

use super::components::{self as c, Chrome};

/// `since`: when the working address was made; `shown`: a new address, shown only now.
pub fn calendar(chrome: &Chrome<'_>, since: Option<chrono::NaiveDateTime>, shown: Option<&str>) -> Markup {
    let provider = chrome.role == Some("provider");
    html! {
        h1 { "Your calendar" }
        @if provider {
            p { "Your sessions can appear in your calendar app (Outlook, Google Calendar, Apple Calendar), each with how many places are booked. It has nobody's name or details: the register has those." }
        } @else {
            p { "Your booked sessions can appear in your calendar app (Outlook, Google Calendar, Apple Calendar), each with the provider, the place and the booking reference. A session that is moved or cancelled changes there too." }
        }
        @if let Some(address) = shown {
            div.notice role="status" {
                h2 { "Your calendar address" }
                p { "In your calendar app, add a calendar from an address (it may say “subscribe” or “from URL”) and paste this in. It is shown only now. Keep it private: anyone with it can see these sessions." }
                label.label for="calendar-address" { "Calendar address" }
                input #calendar-address.input.input-wide type="text" readonly value=(address) autocomplete="off" spellcheck="false";
            }
        } @else if let Some(at) = since {
            p { "You have a calendar address, made on " (c::long_date(crate::domain::sessions::in_london(at).date_naive())) ". It is not shown again. If you have lost it, or someone else may have it, make a new one: the old one stops working." }
        }
        div.button-group {
            form method="post" action="/my-calendar" {
                input type="hidden" name="csrf_token" value=(chrome.csrf);
                button.button type="submit" { @if since.is_some() { "Make a new calendar address" } @else { "Get a calendar address" } }
            }
            @if since.is_some() {
                form method="post" action="/my-calendar/stop" {
                    input type="hidden" name="csrf_token" value=(chrome.csrf);
                    button.button.button-warning type="submit" { "Stop my calendar address" }
                }
            }
        }
    }
}
