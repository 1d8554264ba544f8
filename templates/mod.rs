//! All page markup (maud): the layout, the components every page shares, and one module per
//! audience with one function per page. Each takes the view data it shows and nothing else.

pub mod account;
pub mod calendar;
pub mod components;
pub mod council;
pub mod family;
pub mod invoices;
pub mod mail;
pub mod notifications;
pub mod payment_runs;
pub mod personal_budgets;
pub mod provider;
pub mod public;
pub mod spending;
pub mod threads;

use maud::{DOCTYPE, Markup, html};

pub use components::{Chrome, FormErrors};

pub const STYLESHEET: &str = include_str!("site.css");

pub fn layout(title: &str, chrome: &Chrome<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – localoffer" }
                link rel="stylesheet" href="/assets/site.css";
            }
            body {
                a.skip-link href="#main-content" { "Skip to main content" }
                header.site-header {
                    div.width-container.header-row {
                        a.brand href="/" { "localoffer" }
                        nav aria-label="Main" {
                            ul.nav {
                                li { a href="/search" { "Search" } }
                                li { a href="/shortlist" { "Shortlist" @if chrome.shortlisted > 0 { " (" (chrome.shortlisted) ")" } } }
                                @match chrome.role {
                                    Some("family") => {
                                        li { a href="/my-plan" { "My plan" } }
                                        li { a href="/my-plan/direct-payment" { "Direct payment" } }
                                        li { a href="/my-plan/requests" { "Requests" } }
                                        li { a href="/invoices" { "Invoices" } }
                                    }
                                    Some("broker") => {
                                        li { a href="/my-plan" { "My plan" } }
                                        li { a href="/invoices" { "Invoices" } }
                                    }
                                    Some("provider") => {
                                        li { a href="/provider/services" { "Your services" } }
                                        li { a href="/provider/bookings" { "Bookings" } }
                                        li { a href="/invoices" { "Invoices" } }
                                        li { a href="/provider/invoicing" { "Invoicing" } }
                                    }
                                    Some("council") => {
                                        li { a href="/council/budget-holders" { "Budget holders" } }
                                        li { a href="/council/requests" { "Requests" } }
                                        li { a href="/council/due" { "Due" } }
                                        li { a href="/council/providers" { "Providers" } }
                                        li { a href="/council/reports" { "Reports" } }
                                        li { a href="/council/audit" { "Audit" } }
                                        li { a href="/invoices" { "Invoices" } }
                                        li { a href="/council/payment-runs" { "Payment runs" } }
                                    }
                                    _ => {}
                                }
                                @if chrome.role.is_some() {
                                    li { a href="/notifications" { "Notifications" @if chrome.unread > 0 { span.nav-count { (chrome.unread) span.visually-hidden { " new" } } } } }
                                    li { a href="/messages" { "Messages" @if chrome.unread_messages > 0 { span.nav-count { (chrome.unread_messages) span.visually-hidden { " unread" } } } } }
                                    li { a href="/account" { "Account" } }
                                    li {
                                        form method="post" action="/logout" {
                                            input type="hidden" name="csrf_token" value=(chrome.csrf);
                                            button.link-button type="submit" { "Log out" }
                                        }
                                    }
                                } @else {
                                    li { a href="/login" { "Log in" } }
                                }
                            }
                        }
                    }
                }
                div.width-container {
                    main #main-content tabindex="-1" { (body) }
                }
                footer.site-footer {
                    div.width-container {
                        p { "The Local Offer lists services for children and young people with special educational needs and disabilities (SEND), aged 0 to 25." }
                        p { "Postcode data: Contains OS data © Crown copyright and database right 2026; Contains Royal Mail data © Royal Mail copyright and database right 2026; Contains National Statistics data © Crown copyright and database right 2026." }
                    }
                }
            }
        }
    }
}

/// An error page: what happened and what to do.
pub fn error_page(title: &str, text: &str) -> Markup {
    html! { h1 { (title) } p { (text) } p { a href="/" { "Go to the home page" } } }
}
