//! Pages anyone can see: home, search, a service, the shortlist, logging in.

use maud::{Markup, html};

use super::components::{
    self as c, Chrome, FormErrors, MapPoint, MapView, checkboxes, code_input, csrf_field, input, money, summary_list,
    tags,
};
use crate::app::search::{Found, NextSession};
use crate::app::services::PayFrom;
use crate::db::budget_holders::BudgetHolderView;
use crate::db::organisations::OrganisationView;
use crate::db::services::ServiceView;
use crate::db::sessions::SessionView;
use crate::domain::geo::MapTiles;
use crate::domain::search::MAX_PAGE;
use crate::domain::service::Day;
use crate::domain::sessions::{SessionStatus, Weekly};
use crate::domain::taxonomy::{Taxonomy, Vocabulary};
use crate::domain::{SeriesId, Stream};
use crate::search::Hit;

pub fn home() -> Markup {
    html! {
        h1 { "Services for children and young people with SEND" }
        p.lead { "The Local Offer lists the support, activities and short breaks for children and young people aged 0 to 25 with special educational needs and disabilities." }
        p { a.button href="/search" { "Search the Local Offer" } }
        h2 { "Personal budgets" }
        p { "If your child has an education, health and care (EHC) plan, you can ask for a personal budget: money to buy support that helps your child reach the outcomes in their plan." }
        p { "Section J of the plan says how much there is and how it is held: as a direct payment to you, kept by the council for you, or managed by an organisation you choose." }
        p { "Log in to see your plan, find services that meet its outcomes near you, and book them against what is left of your budget." }
        h2 { "For providers" }
        p { "Charities, community groups and companies can list their services here, say which outcomes they help with, and set prices that cover their full costs." }
        p { a href="/provider/register" { "Register your organisation" } }
    }
}

fn result_item(taxonomy: &Taxonomy, hit: &Hit, next: Option<NextSession>, verified_by: Option<&str>) -> Markup {
    html! {
        li {
            h3 { a href={ "/services/" (hit.service_id) } { (hit.name) } }
            p { (hit.organisation.name) " " (c::verified_badge(verified_by)) }
            p {
                @if let Some(d) = hit.distance_miles { (format!("{d:.1}")) " miles away. " }
                @if let Some(p) = hit.price_from { "From " (money(p)) ". " }
                (c::ages(hit.min_age, hit.max_age, hit.ages_stated)) "."
            }
            @if let Some(next) = next {
                p { "Next session: " (c::session_start(next.starts_at)) " – " (c::places_left(next.places_left)) }
            }
            @if !hit.outcomes_matched.is_empty() {
                p { "Meets: " (tags(taxonomy, &hit.outcomes_matched)) }
            }
        }
    }
}

/// What the search page shows: the form as sent, and the results once there are some.
pub struct SearchPage<'a> {
    pub errors: &'a FormErrors,
    pub query: &'a [(String, String)],
    pub found: Option<&'a Found>,
    /// Which page of results this is (from 1), and how many a page holds.
    pub page: usize,
    pub per_page: usize,
    pub tiles: &'a MapTiles,
}

impl SearchPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn chosen(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The address of another page of these results: every filter kept, empty fields left out.
    fn page_href(&self, page: usize) -> String {
        let mut pairs: Vec<(&str, String)> = self
            .query
            .iter()
            .filter(|(k, v)| k != "page" && !v.trim().is_empty())
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        format!("/search?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
}

fn any_then(any: &str, choices: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    std::iter::once((String::new(), any.to_string()))
        .chain(choices)
        .collect()
}

fn search_form(taxonomy: &Taxonomy, page: &SearchPage<'_>) -> Markup {
    let errors = page.errors;
    let open = |names: &[&str]| {
        names
            .iter()
            .any(|n| !page.chosen(n).is_empty() || errors.get(n).is_some())
    };
    let streams = any_then(
        "Any",
        Stream::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), capitalised(&c::stream(*s)))),
    );
    let days = any_then(
        "Any day",
        Day::ALL
            .iter()
            .map(|d| (d.as_str().to_string(), capitalised(d.as_str()))),
    );
    let sorts = [
        ("relevance", "Best match first"),
        ("distance", "Nearest first (needs a postcode)"),
        ("price", "Cheapest first"),
    ]
    .map(|(v, l)| (v.to_string(), l.to_string()));
    html! {
        form.search-form method="get" action="/search" {
            (input(errors, "q", "What are you looking for?", page.value("q"), "text", Some("For example: short breaks, swimming, speech therapy")))
            div.filter-row {
                (input(errors, "postcode", "Postcode", page.value("postcode"), "text", Some("For example: SW19 2HR, or just SW19")))
                (input(errors, "radius_miles", "Distance in miles", page.value("radius_miles"), "text", Some("How far from the postcode; 5 if you leave it empty")))
                (input(errors, "age", "Child's age", page.value("age"), "text", Some("In years, 0 to 25")))
            }
            div.filter-row {
                (c::select(errors, "stream", "Paid from", &streams, page.value("stream")))
                (input(errors, "max_price", "Price up to (£)", page.value("max_price"), "text", Some("The cheapest option costs at most this, for example 50")))
                (c::select(errors, "day", "Day", &days, page.value("day")))
            }
            fieldset.fieldset aria-describedby="available-hint" {
                legend.legend { "Dates with a free place" }
                div.hint #available-hint { "Only services with a session that has a place left on one of these days. Leave both empty for any date." }
                div.filter-row {
                    (input(errors, "available_from", "From", page.value("available_from"), "date", Some("For example: 2027-01-09. Today if you leave it empty")))
                    (input(errors, "available_to", "To", page.value("available_to"), "date", Some("For example: 2027-01-31. Any later date if you leave it empty")))
                }
            }
            (checkboxes(errors, "outcome", "Outcomes", &c::choices(taxonomy, Vocabulary::Outcome, 1), &page.chosen("outcome")))
            details open[open(&["service_type"])] {
                summary { "Kinds of service" }
                (checkboxes(errors, "service_type", "Kinds of service", &c::choices(taxonomy, Vocabulary::ServiceType, 0), &page.chosen("service_type")))
            }
            details open[open(&["need"])] {
                summary { "Your child's needs" }
                (checkboxes(errors, "need", "Needs", &c::choices(taxonomy, Vocabulary::Need, 1), &page.chosen("need")))
            }
            (c::select(errors, "sort", "Order", &sorts, page.value("sort")))
            button.button type="submit" { "Search" }
        }
    }
}

/// The map of this page's results, when the search had a place and some results have one.
fn map_view<'a>(page: &'a SearchPage<'a>, found: &'a Found, first: usize) -> Option<MapView<'a>> {
    let (place, radius_miles) = (found.place.as_ref()?, found.radius_miles?);
    let points: Vec<MapPoint<'_>> = found
        .results
        .results
        .iter()
        .enumerate()
        .filter_map(|(i, hit)| {
            Some(MapPoint {
                number: first + i,
                name: &hit.name,
                href: format!("/services/{}", hit.service_id),
                at: hit.at?,
            })
        })
        .collect();
    (!points.is_empty()).then_some(MapView {
        centre: place.at,
        place: page.value("postcode").trim().to_uppercase(),
        radius_miles,
        points,
        tiles: page.tiles,
    })
}

/// "41 services found, showing 21–40", or why this page is empty.
fn count_heading(total: usize, page: usize, per_page: usize, shown: usize) -> String {
    let found = format!("{total} {} found", if total == 1 { "service" } else { "services" });
    let first = (page - 1) * per_page + 1;
    if shown == 0 || (total <= per_page && page == 1) {
        found
    } else {
        format!("{found}, showing {first}–{}", first + shown - 1)
    }
}

pub fn search(taxonomy: &Taxonomy, page: &SearchPage<'_>) -> Markup {
    html! {
        h1 { "Search the Local Offer" }
        (page.errors.summary())
        (search_form(taxonomy, page))
        @if let Some(found) = page.found {
            @let results = &found.results;
            @let pages = results.total.div_ceil(page.per_page).clamp(1, MAX_PAGE);
            @let first = (page.page - 1) * page.per_page + 1;
            h2 #results { (count_heading(results.total, page.page, page.per_page, results.results.len())) }
            @if results.results.is_empty() && page.page > 1 && results.total > 0 {
                p { "There is no page " (page.page) " of these results. " a href=(page.page_href(pages)) { "Go to the last page, page " (pages) } "." }
            }
            @if let Some(map) = map_view(page, found, first) {
                link rel="stylesheet" href=(c::LEAFLET_CSS);
                (c::map(&map))
                script src=(c::LEAFLET_JS) defer {}
                script src=(c::MAP_JS) defer {}
            }
            ol.results start=(first) { @for hit in &results.results { (result_item(taxonomy, hit, found.next_session(hit), found.verified_by(hit))) } }
            @if pages > 1 && page.page <= pages {
                (c::page_links("Pages of results", page.page as u32, pages as u32, |n| page.page_href(n as usize)))
            }
        }
    }
}

/// A service page, with the booking form for a family that can pay for it.
pub struct ServicePage<'a> {
    pub service: &'a ServiceView,
    pub provider: &'a OrganisationView,
    pub plans: &'a [BudgetHolderView],
    /// The viewer's allocations, each with whether it can pay for this service.
    pub pay_from: &'a [PayFrom],
    /// Councils of the viewer's plans that book only verified providers, which this is not.
    pub refused_by: &'a [String],
    /// Coming dated sessions; none for a service booked by quantity.
    pub sessions: &'a [SessionView],
    pub series: &'a [(SeriesId, Weekly)],
    pub logged_in: bool,
    /// A family or broker may ask the provider a question through the site.
    pub can_ask: bool,
    pub shortlisted: bool,
    /// A fresh request id for the booking form: a double-clicked Book books once.
    pub request_id: &'a str,
}

fn series_words(w: &Weekly) -> String {
    let days: Vec<String> = w.days.iter().map(|d| capitalised(d.as_str())).collect();
    format!("Every {} {} to {}", days.join(" and "), w.starts, w.ends)
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn sessions_table(page: &ServicePage<'_>) -> Markup {
    html! {
        (c::table("Coming sessions", &["When", "Places", ""], page.sessions.is_empty().then_some("No sessions are planned yet."), html! {
            @for s in page.sessions {
                tr {
                    td {
                        (c::when(s))
                        @if let Some(from) = s.moved_from { br; span.tag { "Moved from " (crate::domain::sessions::describe(from, from)) } }
                    }
                    td { (c::session_places(s)) }
                    td {
                        @if s.places_left() == 0 && s.status == SessionStatus::Scheduled && !page.plans.is_empty() {
                            a href={ "/sessions/" (s.id) "/waitlist" } aria-label={ "Join the waiting list for " (c::when(s)) } { "Join the waiting list" }
                        }
                    }
                }
            }
        }))
    }
}

fn sessions_form(chrome: &Chrome<'_>, page: &ServicePage<'_>) -> Markup {
    let view = page.service;
    let open: Vec<&SessionView> = page
        .sessions
        .iter()
        .filter(|s| s.places_left() > 0 && s.status == SessionStatus::Scheduled)
        .collect();
    html! {
        h2 { "Book with your personal budget" }
        p { (c::cancellation_terms(&view.policy)) }
        form method="post" action={ "/services/" (view.id) "/book" } {
            (csrf_field(chrome))
            input type="hidden" name="request_id" value=(page.request_id);
            div.form-group id="session_id" {
                fieldset.fieldset {
                    legend.legend { "Which sessions?" }
                    div.checkboxes {
                        div.checkbox {
                            input id="which-dates" type="radio" name="which" value="dates" checked;
                            label for="which-dates" { "The dates I choose below" }
                        }
                        @for (id, w) in page.series {
                            div.checkbox {
                                input id={ "which-series-" (id) } type="radio" name="which" value={ "series:" (id) };
                                label for={ "which-series-" (id) } { (series_words(w)) ", every one still to come in the plan" }
                            }
                        }
                    }
                }
            }
            div.form-group {
                fieldset.fieldset {
                    legend.legend { "Dates with places left" }
                    @if open.is_empty() { p { "Every coming session is full. Join a waiting list above." } }
                    div.checkboxes {
                        @for s in &open {
                            div.checkbox {
                                input id={ "session-" (s.id) } type="checkbox" name="session_id" value=(s.id);
                                label for={ "session-" (s.id) } { (c::when(s)) " (" (c::session_places(s)) ")" }
                            }
                        }
                    }
                }
            }
            (pay_from(page))
            (price_option(view))
            (c::textarea(&FormErrors::default(), "notes", "What the provider should know (optional)", "", Some("Needs, medication, who collects your child. The provider sees this on the session's register.")))
            (input(&FormErrors::default(), "contact", "How the provider can reach you about this booking (optional)", "", "text", Some("A phone number or email; your login email if you leave it empty")))
            button.button type="submit" { "Book" }
        }
    }
}

/// The allocations that can pay for this service, and only those.
fn pay_from(page: &ServicePage<'_>) -> Markup {
    html! {
        div.form-group {
            label.label for="allocation" { "Pay from" }
            select #allocation name="allocation" {
                @for p in page.pay_from.iter().filter(|p| p.can_pay()) {
                    @let a = &p.allocation;
                    option value={ (p.budget_holder_id) ":" (a.id) } { (p.first_name) " – " (c::allocation(a.stream, a.management)) " (" (money(a.remaining)) " left)" }
                }
            }
        }
    }
}

/// Why none of the viewer's allocations can pay for this service.
fn cannot_pay(page: &ServicePage<'_>) -> Markup {
    html! {
        h2 { "Book with your personal budget" }
        (c::cannot_pay(page.pay_from))
        p { "Contact the provider, or ask whoever manages the plan, if you think this is wrong." }
    }
}

/// How to reach the provider: the service's own web page and email if it has them, then the
/// organisation's phone, email and website.
fn contact(page: &ServicePage<'_>) -> Markup {
    let (view, org) = (page.service, page.provider);
    let email = view.email.as_ref().or(org.email.as_ref());
    let website = view.url.as_ref().or(org.website.as_ref());
    html! {
        (org.name) br;
        @if let Some(phone) = &org.phone {
            "Phone: " a href={ "tel:" (phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect::<String>()) } { (phone) } br;
        }
        @if let Some(email) = email { "Email: " a href={ "mailto:" (email) } { (email) } br; }
        @if let Some(url) = website { "Website: " a href=(url) { (url) } }
        @if org.phone.is_none() && email.is_none() && website.is_none() { "The provider has not given a phone, email or website." }
    }
}

fn price_option(view: &ServiceView) -> Markup {
    html! {
        div.form-group {
            label.label for="price_option_id" { "Price option" }
            select #price_option_id name="price_option_id" {
                @for o in &view.price_options { option value=(o.id.0) { (o.label) " – " (money(o.price)) " per " (o.unit.as_str()) } }
            }
        }
    }
}

fn price_table(view: &ServiceView) -> Markup {
    html! {
        @if view.price_options.is_empty() {
            p { "No prices are listed for this service. Ask the provider what it costs." }
        } @else {
            (c::table("Prices", &["Option", "Charged per", "Price", "How the price is worked out"], None, html! {
                @for o in &view.price_options {
                    tr {
                        td { (o.label) } td { (o.unit.as_str()) } td { (money(o.price)) }
                        td {
                            @if let Some(f) = &o.fcr {
                                details {
                                    summary { "Full cost breakdown" }
                                    p { "Direct costs " (money(f.annual_direct_costs)) " a year, plus overheads " (money(f.annual_overheads)) " (management, premises, insurance, checks, training): " (money(f.annual_full_cost)) "." }
                                    p { (f.units_per_year) " a year available, " (f.occupancy.to_string()) " expected to be filled: " (f.units_sold.to_string()) " paid for." }
                                    p { "Full cost per " (o.unit.as_str()) ": " (money(f.full_cost_per_unit)) " (" (money(f.direct_cost_per_unit)) " direct, " (money(f.overheads_per_unit)) " overheads)." }
                                }
                            } @else { "Set by the provider" }
                        }
                    }
                }
            }))
        }
    }
}

fn booking_form(chrome: &Chrome<'_>, page: &ServicePage<'_>) -> Markup {
    let view = page.service;
    html! {
        h2 { "Book with your personal budget" }
        form method="post" action={ "/services/" (view.id) "/book" } {
            (csrf_field(chrome))
            input type="hidden" name="request_id" value=(page.request_id);
            (pay_from(page))
            (price_option(view))
            div.form-group {
                label.label for="quantity" { "How many" }
                input.input.input-narrow #quantity name="quantity" type="number" min="1" max="1000" value="1" inputmode="numeric";
            }
            button.button type="submit" { "Book" }
        }
    }
}

pub fn service(chrome: &Chrome<'_>, taxonomy: &Taxonomy, page: &ServicePage<'_>) -> Markup {
    let view = page.service;
    let bookable = !view.price_options.is_empty() && !view.funding_streams.is_empty();
    html! {
        h1 { (view.name) }
        p.lead { (view.organisation.name) " " (c::verified_badge(view.verified_by.as_deref())) }
        @for para in view.description.split("\n\n") { p { (para) } }
        (summary_list(&[
            ("Helps with", tags(taxonomy, &view.outcomes)),
            ("Type of service", tags(taxonomy, &view.service_types)),
            ("Who it is for", html! { (c::ages(view.min_age, view.max_age, view.ages_stated)) @if !view.needs.is_empty() { ". Suits: " @for (i, n) in view.needs.iter().enumerate() { @if i > 0 { ", " } (c::term_label(taxonomy, n)) } } }),
            ("Where", html! {
                @if let Some(l) = &view.location { (l.address.clone().unwrap_or_default()) " " (l.postcode.clone().unwrap_or_default()) } @else { "Not stated: ask the provider" }
                @if let Some(r) = view.reach_miles { ". We travel up to " (r) " miles." }
            }),
            ("When", html! {
                @if view.schedule.is_empty() && page.sessions.is_empty() { "Ask the provider" }
                @if view.schedule.is_empty() && !page.sessions.is_empty() { "On the dates below" }
                @for s in &view.schedule { (capitalised(s.day.as_str())) " " (s.starts) "–" (s.ends) br; }
            }),
            ("Places per session", html! { @if let Some(c) = view.capacity { (c) } @else { "Not stated" } }),
            ("Can be paid from", html! {
                @if view.funding_streams.is_empty() { "Not stated: ask the provider" }
                @for (i, s) in view.funding_streams.iter().enumerate() { @if i > 0 { ", " } (c::stream(*s)) }
            }),
            ("Contact", contact(page)),
        ]))
        @if page.can_ask {
            p { a href={ "/services/" (view.id) "/ask" } { "Ask the provider a question" } }
        }
        (price_table(view))
        @if !page.sessions.is_empty() {
            h2 { "Dates and places" }
            (sessions_table(page))
        }
        @if page.shortlisted {
            p { "This service is on your " a href="/shortlist" { "shortlist" } "." }
        } @else {
            form method="post" action={ "/shortlist/" (view.id) "/add" } {
                (csrf_field(chrome))
                button.button.button-secondary type="submit" { "Add to shortlist" }
            }
        }
        @for council in page.refused_by {
            p { (council) " books only providers it has verified, and has not verified " (view.organisation.name) " yet, so this service cannot be booked with your budget. Ask the council or choose a verified provider." }
        }
        @if !bookable {
            @if !page.plans.is_empty() { p { "This service cannot be booked here yet: it lists no price or no budget it can be paid from. Contact the provider." } }
        } @else if page.pay_from.iter().any(PayFrom::can_pay) {
            @if page.sessions.is_empty() { (booking_form(chrome, page)) } @else { (sessions_form(chrome, page)) }
        } @else if !page.pay_from.is_empty() {
            (cannot_pay(page))
        } @else if !page.logged_in {
            p { a href={ "/login?next=/services/" (view.id) } { "Log in to book with your personal budget" } }
        }
    }
}

pub fn shortlist(chrome: &Chrome<'_>, kept: &[ServiceView]) -> Markup {
    html! {
        h1 { "Your shortlist" }
        @if kept.is_empty() { p { "Nothing on your shortlist yet. Use “Add to shortlist” on a service to keep it here while you look around." } }
        ul.results {
            @for s in kept {
                li {
                    h2 { a href={ "/services/" (s.id) } { (s.name) } }
                    p { (s.organisation.name) ". " (c::ages(s.min_age, s.max_age, s.ages_stated)) "."
                        @if let Some(p) = s.price_options.iter().map(|o| o.price).min() { " From " (money(p)) "." } }
                    form method="post" action={ "/shortlist/" (s.id) "/remove" } {
                        (csrf_field(chrome))
                        button.button.button-secondary type="submit" aria-label={ "Remove " (s.name) " from your shortlist" } { "Remove" }
                    }
                }
            }
        }
    }
}

pub fn login(chrome: &Chrome<'_>, errors: &FormErrors, email: &str, next: &str) -> Markup {
    html! {
        h1 { "Log in" }
        (errors.summary())
        form method="post" action="/login" novalidate {
            (csrf_field(chrome))
            input type="hidden" name="next" value=(next);
            (input(errors, "email", "Email address", email, "email", None))
            (input(errors, "password", "Password", "", "password", None))
            (code_input(errors, "totp", "Code from your authenticator app",
                "Council officers and brokers (and anyone who set one up): the 6-digit code, or one of your recovery codes. Leave it empty otherwise."))
            button.button type="submit" { "Log in" }
        }
        p { a href="/password-reset" { "Forgotten your password?" } }
        p { "Providers: " a href="/provider/register" { "register your organisation" } "." }
    }
}
