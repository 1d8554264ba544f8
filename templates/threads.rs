//! Messages pages: the caller's conversations, one conversation with its reply form and the
//! button that adds the council, the question form about a service and the form about a booking.

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, csrf_field, radios, summary_list, textarea};
use crate::app::threads::{AskForm, BookingForm, ThreadList, ThreadView};
use crate::domain::threads::{About, MAX_BODY};

/// A moment on England's wall clock: "7 December 2026, 14:05".
fn at(t: chrono::NaiveDateTime) -> String {
    crate::domain::sessions::in_london(t)
        .format("%-d %B %Y, %H:%M")
        .to_string()
}

/// The hint every message box shows.
fn body_hint() -> String {
    format!("Plain text, up to {MAX_BODY} characters. Only the people in this conversation can read it.")
}

/// A message's text as written: its paragraphs, and its line breaks within them.
fn paragraphs(body: &str) -> Markup {
    html! {
        @for para in body.split("\n\n").filter(|p| !p.trim().is_empty()) {
            p {
                @for (i, line) in para.lines().enumerate() {
                    @if i > 0 { br; }
                    (line)
                }
            }
        }
    }
}

/// "3 unread" or "None", in words.
fn unread(n: u64) -> String {
    match n {
        0 => "None".into(),
        n => format!("{n} unread"),
    }
}

/// The caller's conversations, latest first.
pub fn list(list: &ThreadList) -> Markup {
    let page = &list.page;
    html! {
        h1 { "Messages" }
        p { @match list.unread_total {
            0 => { "You have no unread messages." }
            1 => { "You have 1 unread message." }
            n => { "You have " (n) " unread messages." }
        } }
        (c::table("Your conversations", &["About", "With", "Last message", "Unread"], page.items.is_empty().then_some("No conversations on this page."), html! {
            @for t in &page.items {
                tr {
                    td { a href={ "/messages/" (t.id) } { (t.subject) } }
                    td { (t.other_party) @if t.council_added { " (the council is added)" } }
                    td { (at(t.last_message_at)) }
                    td { @if t.unread > 0 { strong { (unread(t.unread)) } } @else { (unread(0)) } }
                }
            }
        }))
        (c::pager(("conversation", "conversations"), page, |n| format!("/messages?page={n}")))
    }
}

/// One conversation: its messages, the reply form, and adding the council.
pub fn thread(chrome: &Chrome<'_>, t: &ThreadView, errors: &FormErrors, reply: &str) -> Markup {
    let about = match t.about {
        About::Service(s) => html! { a href={ "/services/" (s) } { (t.subject) } },
        About::Booking(_) if chrome.role == Some("provider") => {
            html! { (t.subject) " (see " a href="/provider/bookings" { "Bookings" } ")" }
        }
        About::Booking(b) => html! { a href={ "/bookings/" (b) } { (t.subject) } },
    };
    let hint = body_hint();
    html! {
        (errors.summary())
        h1 { (t.subject) }
        (summary_list(&[
            ("With", html! { (t.other_party) }),
            ("About", about),
            ("Started", html! { (at(t.created_at)) " by " (t.started_by) }),
            ("The council", html! { @match t.council_added_at {
                Some(added) => { "Added on " (at(added)) ": its officers can read and write here." }
                None => { "Not added: the council cannot see this conversation." }
            } }),
        ]))
        h2 { "Messages" }
        ol.messages {
            @for (i, m) in t.messages.iter().enumerate() {
                li.message id=[(i + 1 == t.messages.len()).then_some("latest")] {
                    p.message-meta { strong { (m.author_name) } " wrote on " (at(m.created_at)) ":" }
                    @if m.body.is_empty() {
                        p.hint { "Erased with the child's record." }
                    } @else {
                        div.message-body { (paragraphs(&m.body)) }
                    }
                }
            }
        }
        h2 { "Reply" }
        form method="post" action={ "/messages/" (t.id) } novalidate {
            (csrf_field(chrome))
            (textarea(errors, "body", "Your message", reply, Some(hint.as_str())))
            button.button type="submit" { "Send message" }
        }
        @if t.can_add_council {
            div.notice {
                h2 { "Add the council to this conversation" }
                p { "If you would like the council's help, add it: the council's officers will then be able to read every message in this conversation, earlier ones too, and write in it. This cannot be undone." }
                (c::action_button(chrome, &format!("/messages/{}/council", t.id), "Add the council to this conversation", "Add the council to this conversation", false))
            }
        }
        p { a href="/messages" { "Back to your messages" } }
    }
}

/// The question form about a service (a family, or a broker for one of its families).
pub fn ask(chrome: &Chrome<'_>, f: &AskForm, errors: &FormErrors, plan: &str, body: &str) -> Markup {
    let plans: Vec<(String, String)> = f
        .plans
        .iter()
        .map(|(id, name)| (id.0.to_string(), format!("{} (plan {})", c::child_name(name), id)))
        .collect();
    let hint = body_hint();
    html! {
        (errors.summary())
        h1 { "Ask " (f.provider) " a question" }
        p { "About " a href={ "/services/" (f.service_id) } { (f.service_name) } ". The provider answers here, and you will see the answer under " a href="/messages" { "Messages" } "." }
        @if plans.is_empty() {
            p { "You need a plan with a personal budget to ask a provider through this site. You can still use the contact details on the service's page." }
        } @else {
            form method="post" action={ "/services/" (f.service_id) "/ask" } novalidate {
                (csrf_field(chrome))
                @if let [(id, _)] = plans.as_slice() {
                    input type="hidden" name="budget_holder_id" value=(id);
                } @else {
                    (radios(errors, "budget_holder_id", "Which plan is the question about?", &plans, plan))
                }
                (textarea(errors, "body", "Your question", body, Some(hint.as_str())))
                button.button type="submit" { "Send question" }
            }
        }
        p { a href={ "/services/" (f.service_id) } { "Back to the service" } }
    }
}

/// The form to write to the provider about a booking.
pub fn about_booking(chrome: &Chrome<'_>, f: &BookingForm, errors: &FormErrors, body: &str) -> Markup {
    let hint = body_hint();
    html! {
        (errors.summary())
        h1 { "Write to the provider about this booking" }
        p { "Booking " (f.reference) ": " (f.service_name) ". The conversation is kept with the booking; the provider answers here, and you will see the answer under " a href="/messages" { "Messages" } "." }
        form method="post" action={ "/bookings/" (f.booking_id) "/write" } novalidate {
            (csrf_field(chrome))
            (textarea(errors, "body", "Your message", body, Some(hint.as_str())))
            button.button type="submit" { "Send message" }
        }
        p { a href={ "/bookings/" (f.booking_id) } { "Back to the booking" } }
    }
}
