//! Page components (maud), shared by every page: the layout, error summary, form fields, money.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::domain::Pence;

/// Who the page is for: the logged-in role (if any) and the CSRF token every form carries.
pub struct Chrome<'a> {
    pub role: Option<&'a str>,
    pub csrf: &'a str,
    /// How many services the visitor has shortlisted.
    pub shortlisted: usize,
}

/// Pounds for people: "£1,200.00".
pub fn money(p: Pence) -> String {
    let s = p.to_string();
    let (whole, pence) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("£{grouped}.{pence}")
}

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
                                    Some("family") | Some("broker") => { li { a href="/my-plan" { "My plan" } } }
                                    Some("provider") => {
                                        li { a href="/provider/services" { "Your services" } }
                                        li { a href="/provider/bookings" { "Bookings" } }
                                    }
                                    Some("council") => {
                                        li { a href="/council/budget-holders" { "Budget holders" } }
                                        li { a href="/council/providers" { "Providers" } }
                                        li { a href="/council/reports" { "Reports" } }
                                    }
                                    _ => {}
                                }
                                @if chrome.role.is_some() {
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

/// A form's problems: the summary at the top links to each field.
#[derive(Debug, Default, Clone)]
pub struct FormErrors(pub Vec<(String, String)>);

impl FormErrors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn summary(&self) -> Markup {
        html! {
            @if !self.0.is_empty() {
                div.error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                    h2 #error-summary-title { "There is a problem" }
                    ul {
                        @for (field, message) in &self.0 {
                            li { a href={ "#" (field) } { (message) } }
                        }
                    }
                }
            }
        }
    }
}

/// A labelled text input that keeps what was typed and shows its error next to it.
pub fn input(errors: &FormErrors, name: &str, label: &str, value: &str, kind: &str, hint: Option<&str>) -> Markup {
    let error = errors.get(name);
    let describedby = match (hint.is_some(), error.is_some()) {
        (true, true) => format!("{name}-hint {name}-error"),
        (true, false) => format!("{name}-hint"),
        (false, true) => format!("{name}-error"),
        (false, false) => String::new(),
    };
    html! {
        div.form-group.form-group-error[error.is_some()] {
            label.label for=(name) { (label) }
            @if let Some(hint) = hint { div.hint id={ (name) "-hint" } { (hint) } }
            @if let Some(message) = error { p.error-message id={ (name) "-error" } { span.visually-hidden { "Error: " } (message) } }
            input.input.input-error[error.is_some()] id=(name) name=(name) type=(kind) value=(value)
                aria-describedby=[(!describedby.is_empty()).then_some(describedby.as_str())];
        }
    }
}

pub fn checkboxes(
    errors: &FormErrors,
    name: &str,
    legend: &str,
    options: &[(String, String)],
    checked: &[String],
) -> Markup {
    let error = errors.get(name);
    html! {
        div.form-group.form-group-error[error.is_some()] id=(name) {
            fieldset.fieldset {
                legend.legend { (legend) }
                @if let Some(message) = error { p.error-message { span.visually-hidden { "Error: " } (message) } }
                div.checkboxes {
                    @for (i, (value, label)) in options.iter().enumerate() {
                        @let id = format!("{name}-{i}");
                        div.checkbox {
                            input id=(id) type="checkbox" name=(name) value=(value) checked[checked.contains(value)];
                            label for=(id) { (label) }
                        }
                    }
                }
            }
        }
    }
}

pub fn csrf_field(chrome: &Chrome<'_>) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(chrome.csrf); }
}

pub fn summary_list(rows: &[(&str, Markup)]) -> Markup {
    html! {
        dl.summary-list {
            @for (key, value) in rows {
                div.summary-row { dt { (key) } dd { (value) } }
            }
        }
    }
}

pub const STYLESHEET: &str = include_str!("site.css");

/// Escape hatch for trusted, static markup.
pub fn raw(s: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(Pence::from_stored(120000)), "£1,200.00");
        assert_eq!(money(Pence::from_stored(5)), "£0.05");
        assert_eq!(money(Pence::from_stored(123456789)), "£1,234,567.89");
    }
}
