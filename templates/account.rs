//! A logged-in user's own account: changing the password, logging out everywhere.

use maud::{Markup, html};

use super::components::{Chrome, FormErrors, csrf_field, input};

/// What was just done on the account page, shown above its forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Nothing,
    PasswordChanged,
}

pub fn account(chrome: &Chrome<'_>, email: &str, errors: &FormErrors, done: Done) -> Markup {
    html! {
        h1 { "Your account" }
        @if done == Done::PasswordChanged {
            div.notice role="status" {
                p { "Your password has been changed. Every other device logged in to your account has been logged out." }
            }
        }
        (errors.summary())
        p { "You are logged in as " strong { (email) } "." }
        h2 #password { "Change your password" }
        form method="post" action="/account/password" novalidate {
            (csrf_field(chrome))
            (input(errors, "current_password", "Current password", "", "password", None))
            (input(errors, "new_password", "New password", "", "password", Some("At least 10 characters.")))
            button.button type="submit" { "Change the password" }
        }
        h2 #everywhere { "Log out everywhere" }
        p { "End every session of your account: on this device and on any other phone or computer you have logged in on." }
        form method="post" action="/account/logout-everywhere" {
            (csrf_field(chrome))
            button.button.button-warning type="submit" { "Log out everywhere" }
        }
    }
}
