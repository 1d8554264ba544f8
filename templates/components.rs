//! Components every page may use: form fields and the error summary, money, tags, tables,
//! charts and the map. Each is a function of the data it shows.

use maud::{Markup, PreEscaped, html};

use crate::domain::taxonomy::{Taxonomy, Vocabulary};
use crate::domain::{Management, Pence, Stream};

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

/// What a form was sent with (or starts with): its fields by name, repeated ones in order.
pub trait FormValues {
    fn get(&self, name: &str) -> &str;
    fn all(&self, name: &str) -> Vec<String>;
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

/// Escape hatch for trusted, static markup.
pub fn raw(s: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(s)
}

/// A term's label for people; its id when the taxonomy no longer has it.
pub fn term_label(taxonomy: &Taxonomy, id: &str) -> String {
    taxonomy.get(id).map_or_else(|| id.to_string(), |t| t.label.clone())
}

/// Terms as tags.
pub fn tags<'a>(taxonomy: &Taxonomy, ids: impl IntoIterator<Item = &'a String>) -> Markup {
    html! { @for id in ids { span.tag { (term_label(taxonomy, id)) } } }
}

/// Terms of one vocabulary at one depth (0 = the roots, 1 = their children), as form choices.
pub fn choices(taxonomy: &Taxonomy, vocabulary: Vocabulary, depth: usize) -> Vec<(String, String)> {
    taxonomy
        .terms
        .iter()
        .filter(|t| t.vocabulary == vocabulary && taxonomy.lineage(t.id.as_str()).count() == depth + 1)
        .map(|t| (t.id.0.clone(), t.label.clone()))
        .collect()
}

/// A funding stream in words.
pub fn stream(s: Stream) -> String {
    s.as_str().replace('_', " ")
}

/// How an allocation is held, in words.
pub fn management(m: Management) -> String {
    m.as_str().replace('_', " ")
}

/// A date as people write it: "1 September 2026".
pub fn long_date(d: chrono::NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// When a session starts, on England's clock: "Saturday 9 January, 10:00".
pub fn session_start(at: chrono::NaiveDateTime) -> String {
    crate::domain::sessions::in_london(at)
        .format("%A %-d %B, %H:%M")
        .to_string()
}

/// Places left in words: "Full", "1 place left", "3 places left".
pub fn places_left(n: i32) -> String {
    match n {
        ..=0 => "Full".into(),
        1 => "1 place left".into(),
        n => format!("{n} places left"),
    }
}

/// A date in a table: "1 Sep 2026".
pub fn short_date(d: chrono::NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// A session's date and times as a family reads them: "Saturday 9 January 2027, 10:00 to 15:00".
pub fn when(s: &crate::db::sessions::SessionView) -> String {
    crate::domain::sessions::describe(s.times.starts_at, s.times.ends_at)
}

/// A session's places in words, or that it is cancelled.
pub fn session_places(s: &crate::db::sessions::SessionView) -> String {
    if s.status == crate::domain::sessions::SessionStatus::Cancelled {
        "Cancelled".into()
    } else {
        places_left(s.places_left())
    }
}

/// A booked session's state in words.
pub fn seat_status(s: crate::domain::sessions::SeatStatus) -> &'static str {
    use crate::domain::sessions::SeatStatus as S;
    match s {
        S::Booked => "Booked",
        S::Refunded => "Cancelled, refunded",
        S::Charged => "Cancelled late, charged",
        S::Attended => "Attended",
        S::AbsentCharged => "Absent, charged",
        S::AbsentRefunded => "Absent, refunded",
        S::SessionCancelled => "Cancelled by the provider, refunded",
    }
}

/// What a provider's cancellation policy means for a family, in a sentence.
pub fn cancellation_terms(p: &crate::domain::sessions::SessionPolicy) -> String {
    use crate::domain::sessions::Policy;
    let hours = p.cancellation_notice_hours;
    match p.late_cancellation {
        Policy::Refunded => {
            "You can cancel any session before it starts and the money goes back to your budget.".into()
        }
        Policy::Charged if hours == 0 => {
            "You can cancel any session before it starts and the money goes back to your budget.".into()
        }
        Policy::Charged => format!(
            "Cancel up to {hours} hours before a session and the money goes back to your budget. If you cancel later, the session is charged."
        ),
    }
}

/// "Verified by <council>" for a provider a council has checked, in words (not colour alone);
/// nothing for one that is not verified.
pub fn verified_badge(verified_by: Option<&str>) -> Markup {
    html! {
        @if let Some(council) = verified_by {
            strong.tag.tag-verified { "✓ Verified by " (council) }
        }
    }
}

/// A small form that posts one action (cancel, publish, verify...).
pub fn action_button(chrome: &Chrome<'_>, action: &str, label: &str, aria_label: &str, warning: bool) -> Markup {
    html! {
        form.inline-form method="post" action=(action) {
            (csrf_field(chrome))
            @if warning {
                button.button.button-warning type="submit" aria-label=(aria_label) { (label) }
            } @else {
                button.button.button-secondary type="submit" aria-label=(aria_label) { (label) }
            }
        }
    }
}

/// A table with a caption and column headings; the rows are the caller's.
pub fn table(caption: &str, headings: &[&str], empty: Option<&str>, rows: Markup) -> Markup {
    html! {
        div.table-wrap {
            table {
                caption { (caption) }
                thead { tr { @for h in headings {
                    @if h.is_empty() { th scope="col" { span.visually-hidden { "Action" } } } @else { th scope="col" { (h) } }
                } } }
                tbody {
                    @if let Some(text) = empty { tr { td colspan=(headings.len()) { (text) } } }
                    (rows)
                }
            }
        }
    }
}

/// A horizontal bar chart drawn on the server: each bar labelled with its value, so it reads
/// without colour; the same numbers are in a table beside it.
pub fn bar_chart(title: &str, bars: &[(String, f64, String)]) -> Markup {
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let height = 30 * bars.len().max(1) + 10;
    html! {
        figure {
            svg.chart viewBox={ "0 0 480 " (height) } role="img" aria-label=(title) {
                @for (i, (label, value, shown)) in bars.iter().enumerate() {
                    @let y = 10 + i * 30;
                    @let width = (value / max * 130.0).max(1.0);
                    @let short = if label.chars().count() > 44 { format!("{}…", label.chars().take(43).collect::<String>()) } else { label.clone() };
                    text x="0" y=(y + 14) font-size="11" { (short) }
                    rect x="290" y=(y) width=(format!("{width:.0}")) height="18" fill="#1d70b8" {}
                    text x=(format!("{:.0}", 295.0 + width)) y=(y + 14) font-size="11" { (shown) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// One point on a map, numbered as in the list beside it.
pub struct MapPoint {
    pub distance_miles: Option<f64>,
}

/// A simple map: the search centre and each result, drawn to scale, with numbers matching the list.
pub fn map(points: &[MapPoint], radius: f64) -> Markup {
    let scale = 140.0 / radius.max(0.5);
    html! {
        svg.map viewBox="0 0 320 320" role="img" aria-label={ "Map of the " (points.len()) " results around your postcode; the list has the same results" } {
            circle cx="160" cy="160" r=(format!("{:.0}", (radius * scale).min(155.0))) fill="none" stroke="#505a5f" stroke-dasharray="4 4" {}
            circle cx="160" cy="160" r="6" fill="#0b0c0c" {}
            text x="170" y="156" font-size="12" { "You" }
            @for (i, point) in points.iter().enumerate() {
                @if let Some(d) = point.distance_miles {
                    @let angle = (i as f64) * 2.399;
                    @let r = (d * scale).min(150.0);
                    @let (x, y) = (160.0 + r * angle.cos(), 160.0 + r * angle.sin());
                    circle cx=(format!("{x:.0}")) cy=(format!("{y:.0}")) r="9" fill="#1d70b8" {}
                    text x=(format!("{x:.0}")) y=(format!("{:.0}", y + 4.0)) font-size="11" fill="#fff" text-anchor="middle" { (i + 1) }
                }
            }
        }
    }
}

/// A yes/no checkbox.
pub fn checkbox(name: &str, value: &str, label: &str, checked: bool) -> Markup {
    html! {
        div.form-group {
            div.checkbox {
                input id=(name) type="checkbox" name=(name) value=(value) checked[checked];
                label for=(name) { (label) }
            }
        }
    }
}

/// A labelled select with its error; `options` are (value, label).
pub fn select(errors: &FormErrors, name: &str, label: &str, options: &[(String, String)], chosen: &str) -> Markup {
    let error = errors.get(name);
    html! {
        div.form-group.form-group-error[error.is_some()] {
            label.label for=(name) { (label) }
            @if let Some(m) = error { p.error-message id={ (name) "-error" } { span.visually-hidden { "Error: " } (m) } }
            select id=(name) name=(name) {
                @for (value, text) in options { option value=(value) selected[chosen == value] { (text) } }
            }
        }
    }
}

/// A labelled textarea with a hint and its error.
pub fn textarea(errors: &FormErrors, name: &str, label: &str, value: &str, hint: Option<&str>) -> Markup {
    let error = errors.get(name);
    html! {
        div.form-group.form-group-error[error.is_some()] {
            label.label for=(name) { (label) }
            @if let Some(hint) = hint { div.hint id={ (name) "-hint" } { (hint) } }
            @if let Some(m) = error { p.error-message id={ (name) "-error" } { span.visually-hidden { "Error: " } (m) } }
            textarea id=(name) name=(name) aria-describedby=[hint.map(|_| format!("{name}-hint"))] { (value) }
        }
    }
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
