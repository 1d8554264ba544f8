//! Components every page may use: form fields and the error summary, money, tags, tables,
//! charts and the map. Each is a function of the data it shows.

use maud::{Markup, PreEscaped, html};

use crate::domain::geo::{Coordinates, MapTiles, offset_miles};
use crate::domain::paging::Page;
use crate::domain::taxonomy::{Taxonomy, Vocabulary};
use crate::domain::{Management, Pence, SignedPence, Stream};

/// Who the page is for: the logged-in role (if any) and the CSRF token every form carries.
pub struct Chrome<'a> {
    pub role: Option<&'a str>,
    pub csrf: &'a str,
    /// How many services the visitor has shortlisted.
    pub shortlisted: usize,
    /// The logged-in visitor's unread notices.
    pub unread: i64,
    /// Messages the logged-in visitor has not read, in all its conversations.
    pub unread_messages: u64,
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

/// A movement of money for people: "-£90.00" taken, "£1,000.00" put in.
pub fn signed_money(p: SignedPence) -> String {
    let sign = if p.pence() < 0 { "-" } else { "" };
    format!("{sign}{}", money(Pence::from_stored(p.pence().abs())))
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

/// A one-time code box: digits on phones, filled from the authenticator by browsers that can.
pub fn code_input(errors: &FormErrors, name: &str, label: &str, hint: &str) -> Markup {
    let error = errors.get(name);
    let describedby = if error.is_some() {
        format!("{name}-hint {name}-error")
    } else {
        format!("{name}-hint")
    };
    html! {
        div.form-group.form-group-error[error.is_some()] {
            label.label for=(name) { (label) }
            div.hint id={ (name) "-hint" } { (hint) }
            @if let Some(message) = error { p.error-message id={ (name) "-error" } { span.visually-hidden { "Error: " } (message) } }
            input.input.input-error[error.is_some()] id=(name) name=(name) type="text"
                autocomplete="one-time-code" inputmode="numeric" spellcheck="false" aria-describedby=(describedby);
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

/// Checkboxes in groups, each its own fieldset inside one labelled fieldset (a broad term and the
/// narrower ones under it); `groups` are (legend, options as (value, label)).
pub fn grouped_checkboxes(
    errors: &FormErrors,
    name: &str,
    legend: &str,
    groups: &[(String, Vec<(String, String)>)],
    checked: &[String],
) -> Markup {
    let error = errors.get(name);
    html! {
        div.form-group.form-group-error[error.is_some()] id=(name) {
            fieldset.fieldset {
                legend.legend { (legend) }
                @if let Some(message) = error { p.error-message { span.visually-hidden { "Error: " } (message) } }
                @for (g, (group, options)) in groups.iter().enumerate() {
                    fieldset.fieldset {
                        legend { (group) }
                        div.checkboxes {
                            @for (i, (value, label)) in options.iter().enumerate() {
                                @let id = format!("{name}-{g}-{i}");
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
    }
}

/// A vocabulary's terms grouped under those at `depth` (0 = the roots): each group is the broad
/// term ("... in general") and every term below it.
pub fn term_groups(taxonomy: &Taxonomy, vocabulary: Vocabulary, depth: usize) -> Vec<(String, Vec<(String, String)>)> {
    choices(taxonomy, vocabulary, depth)
        .into_iter()
        .map(|(head, label)| {
            let mut options = vec![(head.clone(), format!("{label} in general"))];
            options.extend(
                taxonomy
                    .terms
                    .iter()
                    .filter(|t| t.id.as_str() != head && taxonomy.lineage(t.id.as_str()).any(|a| a.id.as_str() == head))
                    .map(|t| (t.id.0.clone(), t.label.clone())),
            );
            (label, options)
        })
        .collect()
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

/// Terms of one vocabulary for a form: a fieldset for each broad term at `depth` (its label the
/// legend) with a checkbox for it and one for each narrower term under it, so a provider can
/// claim the specific term ("making and keeping friends") or the broad one.
pub fn term_checkboxes(
    errors: &FormErrors,
    name: &str,
    legend: &str,
    taxonomy: &Taxonomy,
    vocabulary: Vocabulary,
    depth: usize,
    checked: &[String],
) -> Markup {
    let error = errors.get(name);
    let depth_of = |id: &str| taxonomy.lineage(id).count().saturating_sub(1);
    let broad = taxonomy
        .terms
        .iter()
        .filter(|t| t.vocabulary == vocabulary && depth_of(t.id.as_str()) == depth);
    html! {
        div.form-group.form-group-error[error.is_some()] id=(name) {
            fieldset.fieldset {
                legend.legend { (legend) }
                @if let Some(message) = error { p.error-message { span.visually-hidden { "Error: " } (message) } }
                @for group in broad {
                    @let narrower: Vec<_> = taxonomy.terms.iter().filter(|t| t.id != group.id && taxonomy.lineage(t.id.as_str()).any(|a| a.id == group.id)).collect();
                    fieldset.fieldset.term-group {
                        legend.legend { (group.label) }
                        div.checkboxes {
                            @for t in std::iter::once(group).chain(narrower) {
                                @let id = format!("{name}-{}", t.id.as_str());
                                div.checkbox {
                                    input id=(id) type="checkbox" name=(name) value=(t.id.as_str()) checked[checked.iter().any(|c| c == t.id.as_str())];
                                    label for=(id) { (t.label) @if t.id == group.id { " (in general)" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Why each allocation cannot pay for a service.
pub fn cannot_pay(pay_from: &[crate::app::services::PayFrom]) -> Markup {
    html! {
        p { "None of your budget can pay for this service:" }
        ul {
            @for p in pay_from {
                li { (p.first_name) " – " (allocation(p.allocation.stream, p.allocation.management)) ": " (p.refused.as_deref().unwrap_or_default()) "." }
            }
        }
    }
}

/// A funding stream in words: "Social care".
pub fn stream(s: Stream) -> String {
    s.label().to_string()
}

/// A funding stream stored as text, in words; the text itself if it is not one.
pub fn stream_text(s: &str) -> String {
    s.parse::<Stream>().map_or_else(|_| s.to_string(), stream)
}

/// How an allocation is held, in words: "direct payment".
pub fn management(m: Management) -> String {
    m.label().to_string()
}

/// An allocation in words: "Social care (direct payment)".
pub fn allocation(s: Stream, m: Management) -> String {
    crate::domain::allocation_name(s, m)
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

/// A child's first name, or "Erased record" once the council erased it.
pub fn child_name(first_name: &str) -> &str {
    if first_name.is_empty() {
        "Erased record"
    } else {
        first_name
    }
}

/// Who did something in an access record, in words: the role and whom the user acts for.
pub fn accessed_by(e: &crate::db::access_log::AccessEntry) -> String {
    let role = match e.role.as_str() {
        "council" => "Council officer",
        "broker" => "Broker",
        "provider" => "Provider",
        "operator" => "Service operator",
        "family" => "Another family's login",
        other => other,
    };
    match &e.acting_for {
        Some(name) => format!("{role}, {name}"),
        None => role.to_string(),
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

/// Who a service is for by age, or that its directory never said.
pub fn ages(min: impl std::fmt::Display, max: impl std::fmt::Display, stated: bool) -> Markup {
    html! { @if stated { "Ages " (min) " to " (max) } @else { "Ages not stated" } }
}

/// "Showing 51 to 100 of 230 bookings" and links to the other pages of a list. `nouns` is what
/// one and several rows are called; `href(n)` is page n's address, keeping whatever else the
/// list was asked for.
pub fn pager<T>(nouns: (&str, &str), page: &Page<T>, href: impl Fn(u32) -> String) -> Markup {
    let last = page.pages();
    let noun = if page.total == 1 { nouns.0 } else { nouns.1 };
    html! {
        p.hint role="status" {
            @match page.shown() {
                Some((first, to)) if page.total > u64::from(page.per_page) => {
                    "Showing " (first) " to " (to) " of " (page.total) " " (noun)
                }
                Some(_) => { (page.total) " " (noun) }
                None if page.total == 0 => { "No " (nouns.1) " yet." }
                None => { "There is no page " (page.page) "; the list has " (last) (if last == 1 { " page." } else { " pages." }) }
            }
        }
        @if last > 1 { (page_links(&format!("Pages of {}", nouns.1), page.page, last, href)) }
    }
}

/// "Page 2 of 7" and links to the previous, next and nearby pages (the first, the last and two
/// either side of this one; gaps shown as an ellipsis). `href(n)` is page n's address.
pub fn page_links(label: &str, current: u32, last: u32, href: impl Fn(u32) -> String) -> Markup {
    let shown: Vec<u32> = (1..=last)
        .filter(|n| *n == 1 || *n == last || n.abs_diff(current) <= 2)
        .collect();
    html! {
        nav.pager aria-label=(label) {
            p { "Page " (current) " of " (last) }
            ul {
                @if current > 1 {
                    li { a href=(href((current - 1).min(last))) rel="prev" { "Previous" span.visually-hidden { " page" } } }
                }
                @for (i, n) in shown.iter().enumerate() {
                    @if i > 0 && shown[i - 1] + 1 < *n { li.pager-gap { "…" } }
                    li {
                        @if *n == current {
                            span aria-current="page" { span.visually-hidden { "Page " } (n) }
                        } @else {
                            a href=(href(*n)) { span.visually-hidden { "Page " } (n) }
                        }
                    }
                }
                @if current < last {
                    li { a href=(href(current + 1)) rel="next" { "Next" span.visually-hidden { " page" } } }
                }
            }
        }
    }
}

/// A horizontal bar chart drawn on the server: each bar labelled in full (wrapped onto as many
/// lines as it needs) and with its value, so it reads without colour; the same numbers are in a
/// table beside it.
pub fn bar_chart(title: &str, bars: &[(String, f64, String)]) -> Markup {
    const LINE: usize = 14;
    const LABEL_CHARS: usize = 42;
    const BAR_X: f64 = 300.0;
    const BAR_MAX: f64 = 200.0;
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let rows: Vec<(Vec<String>, usize)> = {
        let mut y = 10;
        bars.iter()
            .map(|(label, ..)| {
                let lines = wrap(label, LABEL_CHARS);
                let top = y;
                y += (lines.len() * LINE).max(18) + 12;
                (lines, top)
            })
            .collect()
    };
    let height = rows
        .last()
        .map_or(20, |(lines, top)| top + (lines.len() * LINE).max(18) + 10);
    html! {
        figure {
            svg.chart viewBox={ "0 0 600 " (height) } role="img" aria-label=(title) {
                @for ((_, value, shown), (lines, top)) in bars.iter().zip(&rows) {
                    @let width = (value / max * BAR_MAX).max(1.0);
                    text x="0" y=(top + 12) font-size="12" {
                        @for (i, line) in lines.iter().enumerate() {
                            tspan x="0" dy=(if i == 0 { 0 } else { LINE }) { (line) }
                        }
                    }
                    rect x=(BAR_X) y=(top) width=(format!("{width:.0}")) height="18" fill="#1d70b8" {}
                    text x=(format!("{:.0}", BAR_X + 5.0 + width)) y=(top + 14) font-size="12" { (shown) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// Words onto lines of at most `width` characters (a longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// Where the pages load the map script and the vendored Leaflet from (served by web/assets.rs;
/// Leaflet's version is in its addresses, which are cached for a year).
pub const MAP_JS: &str = "/assets/map.js";
pub const LEAFLET_JS: &str = "/assets/leaflet-1.9.4/leaflet.js";
pub const LEAFLET_CSS: &str = "/assets/leaflet-1.9.4/leaflet.css";
pub const LEAFLET_IMAGES: &str = "/assets/leaflet-1.9.4/images";

/// One result on a map, numbered as in the list beside it.
pub struct MapPoint<'a> {
    pub number: usize,
    pub name: &'a str,
    pub href: String,
    pub at: Coordinates,
}

/// A map of results around the searched place.
pub struct MapView<'a> {
    pub centre: Coordinates,
    /// The searched place as the visitor gave it ("SW19").
    pub place: String,
    pub radius_miles: f64,
    pub points: Vec<MapPoint<'a>>,
    pub tiles: &'a MapTiles,
}

const MAP_CENTRE: f64 = 160.0;
/// The drawn reach of the farthest thing shown (the radius, or a service beyond it that travels).
const MAP_REACH_PX: f64 = 140.0;
const YOU_RADIUS_PX: f64 = 15.0;
const MARKER_RADIUS_PX: f64 = 10.0;

/// Where a result is drawn: its true bearing and distance from the centre (north up), scaled; one
/// that would touch "You" is moved out along its bearing (straight up when on the very spot).
pub fn map_position(centre: Coordinates, at: Coordinates, px_per_mile: f64) -> (f64, f64) {
    let (east, north) = offset_miles(centre, at);
    let (dx, dy) = (east * px_per_mile, -north * px_per_mile);
    let length = dx.hypot(dy);
    let nearest = YOU_RADIUS_PX + MARKER_RADIUS_PX + 2.0;
    let (dx, dy) = if length < 0.5 {
        (0.0, -nearest)
    } else if length < nearest {
        (dx / length * nearest, dy / length * nearest)
    } else {
        (dx, dy)
    };
    (MAP_CENTRE + dx, MAP_CENTRE + dy)
}

/// The longest round distance in miles whose bar fits in `max_px`.
fn scale_bar(px_per_mile: f64, max_px: f64) -> (f64, String) {
    let miles = [100.0, 50.0, 20.0, 10.0, 5.0, 2.0, 1.0, 0.5, 0.25, 0.1]
        .into_iter()
        .find(|m| m * px_per_mile <= max_px)
        .unwrap_or(0.1);
    let words = if miles == 1.0 {
        "1 mile".to_string()
    } else {
        format!("{miles} miles")
    };
    (miles * px_per_mile, words)
}

/// The results around the searched place, drawn on the server: true bearings and distances, a
/// scale bar, north up. With JavaScript, map.js puts the same markers on Leaflet's tiles instead.
/// A visual aid: the numbered list beside it is the accessible equivalent, so the drawing is
/// hidden from assistive technology and its links are out of the tab order.
pub fn map(view: &MapView<'_>) -> Markup {
    let farthest = view
        .points
        .iter()
        .map(|p| view.centre.miles_to(p.at))
        .fold(view.radius_miles, f64::max)
        .max(0.1);
    let px_per_mile = MAP_REACH_PX / farthest;
    let ring = view.radius_miles * px_per_mile;
    let (bar_px, bar_words) = scale_bar(px_per_mile, 110.0);
    let f = |v: f64| format!("{v:.1}");
    html! {
        figure.map-figure {
            div.map-box data-map-tiles=(view.tiles.url) data-map-attribution=(view.tiles.attribution)
                data-lat=(view.centre.lat) data-lon=(view.centre.lon) data-radius-miles=(view.radius_miles) {
                svg.map viewBox="0 0 320 320" aria-hidden="true" focusable="false" {
                    circle cx="160" cy="160" r=(f(ring)) fill="none" stroke="#505a5f" stroke-dasharray="4 4" {}
                    path d="M300 34 L306 14 L312 34 Z" fill="#0b0c0c" {}
                    text x="306" y="48" font-size="12" text-anchor="middle" { "N" }
                    @for p in &view.points {
                        @let (x, y) = map_position(view.centre, p.at, px_per_mile);
                        a.map-marker href=(p.href) tabindex="-1" data-lat=(p.at.lat) data-lon=(p.at.lon) data-n=(p.number) data-name=(p.name) {
                            title { (p.number) ". " (p.name) }
                            circle cx=(f(x)) cy=(f(y)) r=(MARKER_RADIUS_PX) fill="#1d70b8" stroke="#fff" stroke-width="1.5" {}
                            text x=(f(x)) y=(f(y + 4.0)) font-size="11" fill="#fff" text-anchor="middle" { (p.number) }
                        }
                    }
                    circle cx="160" cy="160" r=(YOU_RADIUS_PX) fill="#0b0c0c" {}
                    text x="160" y="164" font-size="11" fill="#fff" text-anchor="middle" { "You" }
                    line x1="12" y1="302" x2=(f(12.0 + bar_px)) y2="302" stroke="#0b0c0c" stroke-width="3" {}
                    line x1="12" y1="296" x2="12" y2="308" stroke="#0b0c0c" stroke-width="2" {}
                    line x1=(f(12.0 + bar_px)) y1="296" x2=(f(12.0 + bar_px)) y2="308" stroke="#0b0c0c" stroke-width="2" {}
                    text.map-scale x="12" y="290" font-size="12" { (bar_words) }
                }
            }
            figcaption {
                "Map of the numbered results around " (view.place) " (You); the dashed ring is "
                (format!("{}", view.radius_miles)) " miles. A visual aid: the list below has the same services."
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

/// One choice of several as radio buttons in a labelled fieldset; `options` are (value, label).
pub fn radios(errors: &FormErrors, name: &str, legend: &str, options: &[(String, String)], chosen: &str) -> Markup {
    let error = errors.get(name);
    html! {
        div.form-group.form-group-error[error.is_some()] id=(name) {
            fieldset.fieldset {
                legend.legend { (legend) }
                @if let Some(m) = error { p.error-message { span.visually-hidden { "Error: " } (m) } }
                @for (i, (value, label)) in options.iter().enumerate() {
                    @let id = format!("{name}-{i}");
                    div.checkbox {
                        input id=(id) type="radio" name=(name) value=(value) checked[chosen == value];
                        label for=(id) { (label) }
                    }
                }
            }
        }
    }
}

/// The first letter in capitals: "agreed" is "Agreed".
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
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
