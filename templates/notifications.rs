//! Notices, the choice of emails, and the pages mailed links open: an invitation, a password
//! reset, an email confirmation.

use maud::{Markup, html};

use super::components::{Chrome, FormErrors, csrf_field, input, pager, session_start};
use crate::app::notifications::{Notices, Preference};
use crate::domain::notification::MailStatus;

fn mail_words(status: MailStatus) -> &'static str {
    match status {
        MailStatus::Pending => "Email on its way",
        MailStatus::Sent => "Emailed",
        MailStatus::Failed => "Email could not be delivered",
        MailStatus::Off => "Not emailed",
    }
}

/// The caller's notices, newest first; unread ones marked.
pub fn notifications(chrome: &Chrome<'_>, notices: &Notices) -> Markup {
    let page = &notices.page;
    html! {
        h1 { "Notifications" }
        p { a href="/account/notifications" { "Choose which notifications are emailed to you" } }
        @if page.items.is_empty() {
            p { "Nothing yet. When something happens that concerns you, it is listed here, and emailed to you if you chose that." }
        } @else {
            @if notices.unread > 0 {
                form method="post" action="/notifications/read" {
                    (csrf_field(chrome))
                    button.button.button-secondary type="submit" { "Mark all as read" }
                }
            }
            ol.notices {
                @for n in &page.items {
                    li.notice-item.unread[!n.read] {
                        h2.heading-s {
                            @if !n.read { strong.tag { "New" } " " }
                            (n.title)
                        }
                        @for p in &n.paragraphs { p { (p) } }
                        p.hint {
                            (session_start(n.created_at)) " · " (mail_words(n.mail))
                        }
                        @if !n.link.is_empty() {
                            p { a href=(n.link) { (n.event.action()) } }
                        }
                    }
                }
            }
            (pager(("notification", "notifications"), page, |p| format!("/notifications?page={p}")))
        }
    }
}

/// Which emails the caller gets: one checkbox each; the required ones checked and fixed.
pub fn preferences(chrome: &Chrome<'_>, errors: &FormErrors, all: &[Preference], saved: bool) -> Markup {
    html! {
        h1 { "Emails you get" }
        @if saved { p.notice role="status" { "Your choices are saved." } }
        (errors.summary())
        p { "Everything is listed under " a href="/notifications" { "Notifications" } " whatever you choose here." }
        form method="post" action="/account/notifications" novalidate {
            (csrf_field(chrome))
            div.form-group.form-group-error[errors.get("events").is_some()] id="events" {
                fieldset.fieldset {
                    legend.legend { "Email me when" }
                    @if let Some(message) = errors.get("events") {
                        p.error-message { span.visually-hidden { "Error: " } (message) }
                    }
                    div.checkboxes {
                        @for (i, p) in all.iter().enumerate() {
                            @let id = format!("events-{i}");
                            div.checkbox {
                                @if p.required {
                                    input id=(id) type="checkbox" name="email" value=(p.event.as_str()) checked disabled aria-describedby={ (id) "-hint" };
                                    label for=(id) { (p.event.label()) }
                                    p.hint id={ (id) "-hint" } { "Always emailed: it is about money or a decision you have a right to hear of." }
                                } @else {
                                    input id=(id) type="checkbox" name="email" value=(p.event.as_str()) checked[p.email];
                                    label for=(id) { (p.event.label()) }
                                }
                            }
                        }
                    }
                }
            }
            button.button type="submit" { "Save my choices" }
        }
    }
}

/// Ask for a password reset link.
pub fn reset_request(chrome: &Chrome<'_>, errors: &FormErrors, email: &str, sent: bool) -> Markup {
    html! {
        h1 { "Reset your password" }
        @if sent {
            p.notice role="status" {
                "If " strong { (email) } " has an account, we have emailed it a link to choose a new password. The link works once, for 1 hour."
            }
            p { "No email? Check your spam folder, or ask again in a few minutes." }
        } @else {
            (errors.summary())
            p { "Tell us the email address you log in with. We will email it a link to choose a new password." }
            form method="post" action="/password-reset" novalidate {
                (csrf_field(chrome))
                (input(errors, "email", "Email address", email, "email", None))
                button.button type="submit" { "Send me a link" }
            }
        }
    }
}

/// Choose a password from a mailed link (`action` is the form's own address).
pub fn choose_password(chrome: &Chrome<'_>, errors: &FormErrors, heading: &str, intro: &str, action: &str) -> Markup {
    html! {
        h1 { (heading) }
        (errors.summary())
        p { (intro) }
        form method="post" action=(action) novalidate {
            (csrf_field(chrome))
            (input(errors, "password", "New password", "", "password", Some("At least 10 characters. A few words you will remember work well.")))
            button.button type="submit" { "Set my password" }
        }
    }
}

/// A password just set from a link.
pub fn password_set() -> Markup {
    html! {
        h1 { "Your password is set" }
        p { "You can now log in with your email address and your new password." }
        p { a.button href="/login" { "Log in" } }
    }
}

/// The confirmation link's page: a button, so that a mail scanner opening the link confirms
/// nothing.
pub fn confirm_email(chrome: &Chrome<'_>, action: &str) -> Markup {
    html! {
        h1 { "Confirm your email address" }
        p { "Confirm that this is your organisation's email address. Services you asked to publish are then shown to families." }
        form method="post" action=(action) {
            (csrf_field(chrome))
            button.button type="submit" { "Confirm my email address" }
        }
    }
}

pub fn email_confirmed() -> Markup {
    html! {
        h1 { "Your email address is confirmed" }
        p { "Thank you. Services you asked to publish are now shown to families." }
        p { a.button href="/provider/services" { "Go to your services" } }
    }
}

/// What re-sending a family's invitation did.
pub fn invitation_sent(sent: bool, back: &str) -> Markup {
    html! {
        @if sent {
            h1 { "Invitation sent" }
            p { "We have emailed the family a new link to choose its password. It works once, for 7 days; the earlier link no longer works." }
        } @else {
            h1 { "The family has already chosen a password" }
            p { "No invitation was sent. If the family has forgotten its password, it can reset it from the login page: \"Forgotten your password?\"." }
        }
        p { a href=(back) { "Back to the plan" } }
    }
}
