//! A logged-in user's own account: its second factor, changing the password, logging out everywhere.

use maud::{Markup, PreEscaped, html};

use super::components::{Chrome, FormErrors, code_input, csrf_field, input};

/// What was just done on the account page, shown above its forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Nothing,
    PasswordChanged,
    TotpConfirmed,
}

/// The account's second factor, as the page shows it.
#[derive(Debug, Clone)]
pub enum TwoFactor {
    /// Not set up; `required` for council officers and brokers (who can do nothing else until then).
    Off {
        required: bool,
    },
    /// Set up but not confirmed. The recovery codes are there only in the answer that made them.
    Pending {
        secret: String,
        otpauth_uri: String,
        recovery_codes: Option<Vec<String>>,
    },
    On,
}

/// The otpauth address as a QR code for an authenticator app's camera. An address too long to
/// encode shows none: the key and the link above it still work.
fn qr_code(uri: &str) -> Markup {
    let Ok(code) = qrcode::QrCode::new(uri.as_bytes()) else {
        return html! {};
    };
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    // Inline in HTML, the XML declaration before <svg> has no place.
    let svg = svg.find("<svg").map_or("", |at| &svg[at..]);
    html! {
        div.qr-code role="img" aria-label="QR code of the key, to scan with your authenticator app" {
            (PreEscaped(svg))
        }
    }
}

fn two_factor(chrome: &Chrome<'_>, errors: &FormErrors, state: &TwoFactor) -> Markup {
    html! {
        h2 #two-factor { "Two-step login" }
        @match state {
            TwoFactor::On => p { "Two-step login is on: you log in with your password and a code from your authenticator app." },
            TwoFactor::Off { required } => {
                @if *required {
                    p.notice role="status" { "Your account can see children's plans, so it needs two-step login. Set it up before you go on." }
                } @else {
                    p { "Add a second step to your login: a code from an authenticator app on your phone." }
                }
                form method="post" action="/account/totp" {
                    (csrf_field(chrome))
                    button.button type="submit" { "Set up an authenticator app" }
                }
            }
            TwoFactor::Pending { secret, otpauth_uri, recovery_codes } => {
                ol {
                    li {
                        "In your authenticator app, add an account with this key: "
                        code #totp-secret { (secret) }
                        " (time-based). On a phone you can also "
                        a href=(otpauth_uri) { "open it in your authenticator app" } ", or scan this code:"
                        (qr_code(otpauth_uri))
                    }
                    @if let Some(codes) = recovery_codes {
                        li {
                            "Keep these recovery codes somewhere safe. Each lets you log in once without your phone. They are shown only now."
                            ul #recovery-codes { @for code in codes { li { code { (code) } } } }
                        }
                    }
                    li { "Type the code your app shows to turn two-step login on." }
                }
                form method="post" action="/account/totp/confirm" novalidate {
                    (csrf_field(chrome))
                    (code_input(errors, "code", "Code from your authenticator app", "6 digits, for example 123456."))
                    button.button type="submit" { "Turn on two-step login" }
                }
            }
        }
    }
}

pub fn account(chrome: &Chrome<'_>, email: &str, errors: &FormErrors, done: Done, state: &TwoFactor) -> Markup {
    html! {
        h1 { "Your account" }
        @if done == Done::PasswordChanged {
            div.notice role="status" {
                p { "Your password has been changed. Every other device logged in to your account has been logged out." }
            }
        }
        @if done == Done::TotpConfirmed {
            div.notice role="status" {
                p { "Two-step login is on. Next time you log in, type the code from your authenticator app too." }
            }
        }
        (errors.summary())
        p { "You are logged in as " strong { (email) } "." }
        (two_factor(chrome, errors, state))
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
