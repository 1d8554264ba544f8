//! Open Referral UK: reading another directory's records (ORUK 1.0 or 3.0) into ours, and the
//! UUIDs we publish ours under. Pure: fetching and storing happen elsewhere.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use chrono::{NaiveDate, NaiveDateTime};

use super::geo::{Coordinates, Postcode};
use super::search::{MAX_PAGE, MAX_RADIUS_MILES};
use super::service::{Day, MAX_PRICE_OPTIONS, ValidPriceOption};
use super::taxonomy::{Taxonomy, TermId, Vocabulary};
use super::validate::{self, FieldError, Invalid, MAX_AGE};
use super::{Pence, ServiceStatus, Unit};

/// One page of a feed, whichever envelope it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub records: Vec<Value>,
    pub total_pages: Option<u64>,
    /// The feed says so, or the page is empty.
    pub last: bool,
}

/// A page of services: a bare array (a file of `/services` content), the ORUK 1.0 envelope
/// (`content`, `totalPages`, `last`) or the 3.0 one (`contents`, `total_pages`, `last_page`).
pub fn read_page(body: &Value) -> Result<FeedPage, String> {
    if let Some(records) = body.as_array() {
        return Ok(FeedPage {
            records: records.clone(),
            total_pages: Some(1),
            last: true,
        });
    }
    let Some(object) = body.as_object() else {
        return Err("is neither a list of services nor a page of them".into());
    };
    let records = ["contents", "content"]
        .iter()
        .find_map(|k| object.get(*k).and_then(Value::as_array))
        .ok_or("has no `contents` (ORUK 3.0) or `content` (ORUK 1.0) list of services")?
        .clone();
    let total_pages = ["total_pages", "totalPages"]
        .iter()
        .find_map(|k| object.get(*k).and_then(Value::as_u64));
    let last = ["last_page", "last"]
        .iter()
        .find_map(|k| object.get(*k).and_then(Value::as_bool))
        .unwrap_or(false)
        || records.is_empty();
    Ok(FeedPage {
        records,
        total_pages,
        last,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportedOrganisation {
    pub feed_id: String,
    pub name: String,
    pub description: String,
    pub website: Option<String>,
    pub email: Option<String>,
}

/// Where an imported service happens, as far as the feed says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Place {
    pub at: Option<Coordinates>,
    pub postcode: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportedService {
    pub feed_id: String,
    pub organisation: ImportedOrganisation,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub status: ServiceStatus,
    pub min_age: i32,
    pub max_age: i32,
    /// False when the record gave no ages at all.
    pub ages_stated: bool,
    pub place: Option<Place>,
    pub price_options: Vec<ValidPriceOption>,
    pub outcomes: Vec<TermId>,
    pub service_types: Vec<TermId>,
    pub needs: Vec<TermId>,
}

/// A record read, with what had to be left out of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub service: ImportedService,
    pub warnings: Vec<String>,
}

/// Why a record could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Skip(pub String);

pub const MAX_DESCRIPTION: usize = 10_000;

/// HTML from a feed's description, as plain text: tags gone, entities decoded, paragraphs and
/// list items kept as lines.
pub fn html_to_text(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return tidy_lines(html);
    }
    let rendered = html2text::config::with_decorator(html2text::render::TrivialDecorator::new())
        .link_footnotes(false)
        .string_from_read(html.as_bytes(), 10_000)
        .unwrap_or_else(|_| html.to_string());
    tidy_lines(&rendered)
}

/// Trailing spaces gone, at most one blank line in a row, no blank lines at either end.
fn tidy_lines(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && out.last().is_none_or(|l: &String| l.is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out.join("\n")
}

/// Zero-width and other invisible characters that pasted text carries into feeds.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}')
}

fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.replace(invisible, "").trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A number, also when the feed sends it as text ("53.58").
fn number(v: &Value, key: &str) -> Option<f64> {
    match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

fn array<'a>(v: &'a Value, keys: &[&str]) -> &'a [Value] {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_array))
        .map_or(&[], Vec::as_slice)
}

/// An http(s) address, with the scheme added to the `www.example.org` that feeds often hold.
fn web_address(raw: Option<String>) -> Option<String> {
    let raw = raw?;
    let candidate = if raw.contains("://") {
        raw
    } else {
        format!("https://{raw}")
    };
    validate::web_address("url", &candidate).ok()
}

/// A record's own id, as text, whether the feed wrote it as a string or a number.
pub fn record_id(v: &Value) -> Option<String> {
    string(v, "id")
}

fn email(raw: Option<String>) -> Option<String> {
    validate::email("email", &raw?).ok()
}

fn organisation(v: &Value) -> Result<ImportedOrganisation, Skip> {
    let org = v
        .get("organization")
        .filter(|o| o.is_object())
        .ok_or_else(|| Skip("no organisation".into()))?;
    let name = string(org, "name")
        .map(|n| html_to_text(&n))
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Skip("organisation has no name".into()))?;
    let feed_id = string(org, "id")
        .or_else(|| string(v, "organization_id"))
        .ok_or_else(|| Skip("organisation has no id".into()))?;
    Ok(ImportedOrganisation {
        feed_id,
        name: clip(&name, 200),
        description: clip(
            &html_to_text(&string(org, "description").unwrap_or_default()),
            MAX_DESCRIPTION,
        ),
        website: web_address(string(org, "website").or_else(|| string(org, "url"))),
        email: email(string(org, "email")),
    })
}

fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => text[..i].trim_end().to_string(),
        None => text.to_string(),
    }
}

/// Ages from 3.0's own fields or 1.0's eligibility list, within the Local Offer's 0-25.
/// The ages a record is for, and whether it said any (else the whole 0 to 25, never claimed).
fn ages(v: &Value, warnings: &mut Vec<String>) -> Result<(i32, i32, bool), Skip> {
    let mut min = number(v, "minimum_age");
    let mut max = number(v, "maximum_age");
    for e in array(v, &["eligibilitys", "eligibilities"]) {
        if let Some(m) = number(e, "minimum_age") {
            min = Some(min.map_or(m, |x| x.min(m)));
        }
        if let Some(m) = number(e, "maximum_age") {
            max = Some(max.map_or(m, |x| x.max(m)));
        }
    }
    let stated = min.is_some() || max.is_some();
    let min = min.map_or(0, |m| m.floor().max(0.0) as i64);
    let max = max.map_or(i64::from(MAX_AGE), |m| m.floor() as i64);
    if min > i64::from(MAX_AGE) {
        return Err(Skip(format!(
            "for ages {min} and over, outside the Local Offer's 0 to {MAX_AGE}"
        )));
    }
    if max < min {
        return Err(Skip(format!("maximum age {max} is below minimum age {min}")));
    }
    if max > i64::from(MAX_AGE) {
        warnings.push(format!(
            "ages above {MAX_AGE} are outside the Local Offer and were left out"
        ));
    }
    Ok((min as i32, max.min(i64::from(MAX_AGE)) as i32, stated))
}

/// The first location that says where it is: coordinates, or a postcode to place it by.
fn place(v: &Value, warnings: &mut Vec<String>) -> Option<Place> {
    let mut places = array(v, &["service_at_locations"])
        .iter()
        .filter_map(|sal| sal.get("location"))
        .chain(array(v, &["locations"]))
        .filter(|l| l.get("location_type").and_then(Value::as_str) != Some("virtual"))
        .map(|location| {
            let addresses = array(location, &["addresses", "physical_addresses"]);
            let address = addresses
                .iter()
                .find(|a| a.get("address_type").and_then(Value::as_str) != Some("postal"))
                .or(addresses.first());
            let postcode = address
                .and_then(|a| string(a, "postal_code"))
                .and_then(|p| validate::postcode("postal_code", &p).ok());
            let address_text = address.map(|a| {
                ["address_1", "address_2", "city"]
                    .iter()
                    .filter_map(|k| string(a, k))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let name = string(location, "name");
            let address = match (name, address_text.filter(|a| !a.is_empty())) {
                (Some(n), Some(a)) if !a.starts_with(&n) => Some(format!("{n}, {a}")),
                (n, a) => a.or(n),
            }
            .map(|a| clip(&a, 300));
            let at = match (number(location, "latitude"), number(location, "longitude")) {
                (Some(lat), Some(lon)) if !(lat == 0.0 && lon == 0.0) => Coordinates::new("location", lat, lon).ok(),
                _ => None,
            };
            Place { at, postcode, address }
        })
        .filter(|p| p.at.is_some() || p.postcode.is_some() || p.address.is_some())
        .collect::<Vec<_>>();
    if places.len() > 1 {
        warnings.push("several locations given; the first with coordinates (or else a postcode) is kept".into());
    }
    places.sort_by_key(|p| (p.at.is_none(), p.postcode.is_none()));
    places.into_iter().next()
}

/// The unit a cost is quoted per, from words such as "per hour" or "a night".
pub fn unit_from_words(words: &str) -> Unit {
    let words = words.to_lowercase();
    [
        ("hour", Unit::Hour),
        ("night", Unit::Night),
        ("week", Unit::Week),
        ("journey", Unit::Journey),
        ("trip", Unit::Journey),
        ("session", Unit::Session),
        ("day", Unit::Day),
        ("class", Unit::Session),
        ("visit", Unit::Session),
    ]
    .into_iter()
    .find(|(word, _)| words.contains(word))
    .map_or(Unit::Item, |(_, unit)| unit)
}

/// What each unit is published as in a cost option's `amount_description`.
pub fn unit_words(unit: Unit) -> &'static str {
    match unit {
        Unit::Session => "per session",
        Unit::Hour => "per hour",
        Unit::Day => "per day",
        Unit::Night => "per night",
        Unit::Week => "per week",
        Unit::Journey => "per journey",
        Unit::Item => "each",
    }
}

/// An amount in pounds, exactly as the feed wrote it (a JSON number or a string), to the penny.
fn amount(v: &Value) -> Option<Pence> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().trim_start_matches('£').replace(',', ""),
        _ => return None,
    };
    let pounds = Decimal::from_str(&text).ok()?;
    if pounds.is_sign_negative() || pounds.scale() > 2 && pounds != pounds.round_dp(2) {
        return None;
    }
    let pence = pounds.checked_mul(Decimal::ONE_HUNDRED)?.trunc();
    Pence::new(i64::try_from(pence.mantissa() / 10_i128.pow(pence.scale())).ok()?)
}

fn cost_options(v: &Value, warnings: &mut Vec<String>) -> Vec<ValidPriceOption> {
    let mut options = Vec::new();
    for (i, c) in array(v, &["cost_options"]).iter().enumerate() {
        if let Some(currency) = string(c, "currency").filter(|c| !c.eq_ignore_ascii_case("GBP")) {
            warnings.push(format!("cost_options[{i}] is in {currency}, not pounds; left out"));
            continue;
        }
        let Some(price) = c.get("amount").and_then(amount) else {
            warnings.push(format!("cost_options[{i}] has no amount in pounds and pence; left out"));
            continue;
        };
        let option = string(c, "option");
        let description = string(c, "amount_description");
        let unit = unit_from_words(&format!(
            "{} {}",
            description.as_deref().unwrap_or_default(),
            option.as_deref().unwrap_or_default()
        ));
        let label = clip(&option.or(description).unwrap_or_else(|| "Cost".to_string()), 200);
        if options.len() == MAX_PRICE_OPTIONS {
            warnings.push(format!(
                "more than {MAX_PRICE_OPTIONS} cost options; the rest were left out"
            ));
            break;
        }
        options.push(ValidPriceOption {
            id: None,
            label,
            unit,
            price,
            fcr: None,
        });
    }
    options
}

/// Read one service record of an ORUK 1.0 or 3.0 feed.
pub fn read_service(v: &Value, taxonomy: &Taxonomy) -> Result<Read, Skip> {
    if !v.is_object() {
        return Err(Skip("is not a service record".into()));
    }
    let feed_id = record_id(v).ok_or_else(|| Skip("no id".into()))?;
    let name = string(v, "name")
        .map(|n| html_to_text(&n))
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Skip("no name".into()))?;
    if name.chars().count() > 200 {
        return Err(Skip("name longer than 200 characters".into()));
    }
    let organisation = organisation(v)?;
    let mut warnings = Vec::new();
    let description = html_to_text(&string(v, "description").unwrap_or_default());
    if description.chars().count() > MAX_DESCRIPTION {
        warnings.push(format!("description cut to {MAX_DESCRIPTION} characters"));
    }
    let status = match string(v, "status").as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("active") => ServiceStatus::Published,
        Some(_) => ServiceStatus::Unpublished,
    };
    let (min_age, max_age, ages_stated) = ages(v, &mut warnings)?;
    let place = place(v, &mut warnings);
    let price_options = cost_options(v, &mut warnings);
    let (outcomes, service_types, needs) = matched_terms(v, taxonomy);
    Ok(Read {
        service: ImportedService {
            feed_id,
            organisation,
            name,
            description: clip(&description, MAX_DESCRIPTION),
            url: web_address(string(v, "url")),
            email: email(string(v, "email")),
            status,
            min_age,
            max_age,
            ages_stated,
            place,
            price_options,
            outcomes,
            service_types,
            needs,
        },
        warnings,
    })
}

/// Our terms the record names: 3.0 attributes' taxonomy terms, 1.0 service taxonomies, 1.0
/// target audiences. A term matches by our id (what we publish as `term`) or by label or synonym.
fn matched_terms(v: &Value, taxonomy: &Taxonomy) -> (Vec<TermId>, Vec<TermId>, Vec<TermId>) {
    let mut names: Vec<String> = Vec::new();
    for a in array(v, &["attributes"]) {
        if let Some(t) = a.get("taxonomy_term") {
            names.extend(["term", "code", "name"].iter().filter_map(|k| string(t, k)));
        }
    }
    for st in array(v, &["service_taxonomys", "service_taxonomies"]) {
        if let Some(t) = st.get("taxonomy") {
            names.extend(["id", "name"].iter().filter_map(|k| string(t, k)));
        }
    }
    for a in array(v, &["pc_targetAudience"]) {
        names.extend(string(a, "audienceType").iter().flat_map(|t| audience_names(t)));
    }
    let mut found: [Vec<TermId>; 3] = Default::default();
    for name in names {
        for term in taxonomy.get(&name).into_iter().chain(taxonomy.named(&name)) {
            let slot = match term.vocabulary {
                Vocabulary::Outcome => 0,
                Vocabulary::ServiceType => 1,
                Vocabulary::Need => 2,
            };
            if !found[slot].contains(&term.id) {
                found[slot].push(term.id.clone());
            }
        }
    }
    // A word naming a term and its narrower ones ("respite") stands for the broadest of them.
    for terms in &mut found {
        let all = terms.clone();
        terms.retain(|t| !taxonomy.lineage(t.as_str()).skip(1).any(|a| all.contains(&a.id)));
    }
    let [outcomes, service_types, needs] = found;
    (outcomes, service_types, needs)
}

/// The names a target audience may be known by: as written, the last part of a path
/// ("Sensory Impaired>Visually Impaired"), and each in the singular ("Learning Disabilities",
/// "Wheelchair Users", "Carers"), since our terms are named in the singular.
fn audience_names(audience: &str) -> Vec<String> {
    let last = audience
        .rsplit(['>', '/', '|'])
        .next()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != audience.trim());
    let mut names: Vec<String> = Vec::new();
    for name in std::iter::once(audience.trim()).chain(last) {
        names.push(name.to_string());
        let lower = name.to_lowercase();
        let singular = if let Some(stem) = lower.strip_suffix("ies") {
            Some(format!("{stem}y"))
        } else if lower.ends_with("ss") {
            None
        } else {
            lower.strip_suffix('s').map(str::to_string)
        };
        names.extend(singular.filter(|s| s.len() > 1));
    }
    names
}

/// What kind of record a published UUID stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Service = 1,
    Organisation = 2,
    Location = 3,
    ServiceAtLocation = 4,
    CostOption = 5,
    Address = 6,
    Identifier = 7,
}

/// The UUIDs this deployment publishes. Ours are version 8 (RFC 9562 custom) UUIDs: six bytes
/// drawn at random when the database was made, the kind of record and its id, so they are unique
/// across councils and read back without a lookup. Taxonomy UUIDs are version 5 names in a
/// namespace of our own, so every deployment gives the same term the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicIds {
    prefix: [u8; 6],
}

/// Namespace of the version 5 taxonomy UUIDs (itself the v5 name of our product in the URL namespace).
fn taxonomy_namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://localoffer.org.uk/taxonomy")
}

impl PublicIds {
    /// From the twelve hex digits the database keeps.
    pub fn from_hex(hex: &str) -> Option<PublicIds> {
        if hex.len() != 12 || !hex.is_ascii() {
            return None;
        }
        let mut prefix = [0u8; 6];
        for (i, byte) in prefix.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).ok()?;
        }
        Some(PublicIds { prefix })
    }

    pub fn id(&self, kind: Kind, id: i64) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&self.prefix);
        bytes[6] = kind as u8;
        bytes[8..].copy_from_slice(&id.to_be_bytes());
        Uuid::new_v8(bytes)
    }

    /// The id of a record of `kind`, if `text` is one of our UUIDs for such a record.
    pub fn parse(&self, kind: Kind, text: &str) -> Option<i64> {
        let uuid = Uuid::parse_str(text).ok()?;
        let bytes = uuid.as_bytes();
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[8..]);
        // The variant bits overwrite the top of the id; our ids never reach them.
        id[0] &= 0x3f;
        let id = i64::from_be_bytes(id);
        (id > 0 && self.id(kind, id) == uuid).then_some(id)
    }

    pub fn taxonomy(vocabulary: Vocabulary) -> Uuid {
        Uuid::new_v5(
            &taxonomy_namespace(),
            format!("vocabulary/{}", vocabulary.as_str()).as_bytes(),
        )
    }

    pub fn term(term: &str) -> Uuid {
        Uuid::new_v5(&taxonomy_namespace(), format!("term/{term}").as_bytes())
    }

    /// A part of a service with no id of its own (a term link, a funding source), by its name.
    pub fn part(&self, service: i64, name: &str) -> Uuid {
        Uuid::new_v5(&self.id(Kind::Service, service), name.as_bytes())
    }
}

/// Open Referral listings: 50 a page unless asked, at most 100.
pub const DEFAULT_PER_PAGE: usize = 50;
pub const MAX_PER_PAGE: usize = 100;
const METRES_PER_MILE: f64 = 1609.344;

/// What a listing asks for, checked: each bad value is a 400 naming its parameter. Parameters
/// this feed does not know are ignored, as other readers' extras should not break them.
#[derive(Debug, Default)]
pub struct FeedQuery {
    pub page: usize,
    pub per_page: usize,
    pub search: Option<String>,
    pub term: Option<TermId>,
    pub vocabulary: Option<Vocabulary>,
    /// A term or taxonomy this directory does not use: nothing can match.
    pub unknown_filter: bool,
    pub minimum_age: Option<u64>,
    pub maximum_age: Option<u64>,
    pub day: Option<Day>,
    pub postcode: Option<Postcode>,
    pub proximity_miles: Option<f64>,
    pub modified_after: Option<NaiveDateTime>,
}

fn day(value: &str) -> Option<Day> {
    let v = value.trim().to_lowercase();
    Day::ALL
        .iter()
        .copied()
        .find(|d| d.as_str() == v || d.as_str()[..2] == v || ical_day(*d).eq_ignore_ascii_case(&v))
}

pub fn ical_day(d: Day) -> &'static str {
    match d {
        Day::Monday => "MO",
        Day::Tuesday => "TU",
        Day::Wednesday => "WE",
        Day::Thursday => "TH",
        Day::Friday => "FR",
        Day::Saturday => "SA",
        Day::Sunday => "SU",
    }
}

fn moment(value: &str) -> Option<NaiveDateTime> {
    let v = value.trim();
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|d| d.naive_utc())
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f").ok())
        .or_else(|| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

impl FeedQuery {
    pub fn parse(pairs: &[(String, String)], taxonomy: &Taxonomy) -> Result<FeedQuery, Invalid> {
        let mut q = FeedQuery {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            ..FeedQuery::default()
        };
        let mut errors = Vec::new();
        let whole = |field: &str, value: &str, min: usize, max: usize| {
            value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| FieldError::new(field, format!("must be a whole number from {min} to {max}")))
        };
        for (key, value) in pairs {
            if value.trim().is_empty() {
                continue;
            }
            let checked: Result<(), FieldError> = match key.as_str() {
                "page" => whole("page", value, 1, MAX_PAGE).map(|n| q.page = n),
                "per_page" => whole("per_page", value, 1, MAX_PER_PAGE).map(|n| q.per_page = n),
                "search" => validate::text("search", value, 1, 200).map(|t| q.search = Some(t)),
                "taxonomy_term_id" => {
                    match taxonomy.terms.iter().find(|t| {
                        t.id.as_str() == value.trim() || PublicIds::term(t.id.as_str()).to_string() == value.trim()
                    }) {
                        Some(t) => q.term = Some(t.id.clone()),
                        None => q.unknown_filter = true,
                    }
                    Ok(())
                }
                "taxonomy_id" => {
                    match Vocabulary::ALL
                        .iter()
                        .find(|v| v.as_str() == value.trim() || PublicIds::taxonomy(**v).to_string() == value.trim())
                    {
                        Some(v) => q.vocabulary = Some(*v),
                        None => q.unknown_filter = true,
                    }
                    Ok(())
                }
                "minimum_age" => whole("minimum_age", value, 0, 200).map(|n| q.minimum_age = Some(n as u64)),
                "maximum_age" => whole("maximum_age", value, 0, 200).map(|n| q.maximum_age = Some(n as u64)),
                "day" => day(value)
                    .map(|d| q.day = Some(d))
                    .ok_or_else(|| FieldError::new("day", "must be a day of the week such as Monday or MO")),
                "postcode" => Postcode::parse("postcode", value).map(|p| q.postcode = Some(p)),
                "proximity" => value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|m| m.is_finite() && *m > 0.0 && *m <= MAX_RADIUS_MILES * METRES_PER_MILE)
                    .map(|m| q.proximity_miles = Some(m / METRES_PER_MILE))
                    .ok_or_else(|| {
                        FieldError::new(
                            "proximity",
                            format!(
                                "must be a distance in metres, more than 0 and at most {}",
                                (MAX_RADIUS_MILES * METRES_PER_MILE) as u64
                            ),
                        )
                    }),
                "modified_after" => moment(value).map(|m| q.modified_after = Some(m)).ok_or_else(|| {
                    FieldError::new("modified_after", "must be a date-time such as 2026-11-01T09:00:00Z")
                }),
                _ => Ok(()),
            };
            if let Err(e) = checked {
                errors.push(e);
            }
        }
        if q.proximity_miles.is_some() && q.postcode.is_none() {
            errors.push(FieldError::new("proximity", "needs a postcode to measure from"));
        }
        if errors.is_empty() { Ok(q) } else { Err(Invalid(errors)) }
    }

    pub fn offset(&self) -> usize {
        (self.page - 1) * self.per_page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let t = Taxonomy::builtin().unwrap();
        let q = FeedQuery::parse(
            &pairs(&[
                ("page", "2"),
                ("per_page", "10"),
                ("day", "SA"),
                ("postcode", "sw19 2hr"),
                ("proximity", "1609.344"),
                ("modified_after", "2026-11-01"),
                ("taxonomy_term_id", &PublicIds::term("st-salt").to_string()),
                ("full", "true"),
            ]),
            &t,
        )
        .unwrap();
        assert_eq!((q.page, q.per_page, q.offset()), (2, 10, 10));
        assert_eq!(q.day, Some(Day::Saturday));
        assert!((q.proximity_miles.unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(q.term, Some(TermId("st-salt".into())));
        assert_eq!(q.modified_after.unwrap().to_string(), "2026-11-01 00:00:00");
        for (key, value) in [
            ("page", "0"),
            ("per_page", "1000"),
            ("minimum_age", "-1"),
            ("day", "someday"),
            ("postcode", "nowhere"),
            ("proximity", "-5"),
            ("modified_after", "yesterday"),
        ] {
            let err = FeedQuery::parse(&pairs(&[(key, value)]), &t).unwrap_err();
            assert_eq!(err.0[0].field, key, "{key}={value}");
        }
        let err = FeedQuery::parse(&pairs(&[("proximity", "500")]), &t).unwrap_err();
        assert_eq!(err.0[0].field, "proximity");
        assert!(
            FeedQuery::parse(&pairs(&[("taxonomy_id", "not-ours")]), &t)
                .unwrap()
                .unknown_filter
        );
    }

    fn taxonomy() -> Taxonomy {
        Taxonomy::builtin().unwrap()
    }

    #[test]
    fn html_becomes_plain_text() {
        let text = html_to_text(
            "<p>Struggling with Drug &amp; Alcohol?</p><p>Drop in&nbsp;on <b>Thursdays</b>.</p><ul><li>Free</li><li>Confidential</li></ul>",
        );
        assert_eq!(
            text,
            "Struggling with Drug & Alcohol?\n\nDrop in on Thursdays.\nFree\nConfidential"
        );
        assert_eq!(html_to_text("  plain\n\n\n\ntext  "), "plain\n\ntext");
        assert_eq!(html_to_text("<a href=\"https://x.org\">our site</a>"), "our site");
        assert_eq!(
            html_to_text("<h2>How to join</h2><p>Call us</p>"),
            "How to join\n\nCall us"
        );
    }

    #[test]
    fn every_envelope_is_read() {
        let bare = read_page(&json!([{"id": "1"}])).unwrap();
        assert!(bare.last);
        assert_eq!(bare.records.len(), 1);
        let v1 = read_page(&json!({"content": [{"id": "1"}], "totalPages": 3, "number": 1, "last": false})).unwrap();
        assert_eq!((v1.total_pages, v1.last), (Some(3), false));
        let v3 = read_page(&json!({"contents": [], "total_pages": 3, "page_number": 4, "last_page": false})).unwrap();
        assert!(v3.last, "an empty page ends the feed");
        assert!(read_page(&json!({"items": []})).is_err());
        assert!(read_page(&json!("hello")).is_err());
    }

    fn v1_record() -> Value {
        json!({
            "id": "738f94e0", "name": "Saturday &amp; Sunday Club", "description": "<p>Games</p>",
            "url": "www.example.org/club", "email": "\u{200b}Club@Example.org", "status": "active",
            "organization": {"id": "org-1", "name": "Play Trust", "description": "<p>A charity</p>", "url": "https://play.example.org"},
            "eligibilitys": [{"minimum_age": "5", "maximum_age": 18}],
            "service_at_locations": [{"location": {"name": "Hall", "latitude": "53.58", "longitude": -0.65,
                "physical_addresses": [{"address_1": "1 High St", "city": "Scunthorpe", "postal_code": "dn15 6aa"}]}}],
            "cost_options": [{"option": "Saturday session", "amount": 12.5, "amount_description": "per session"},
                             {"amount": "£3.333"}],
            "service_taxonomys": [{"taxonomy": {"id": "x", "name": "Respite"}}],
            "pc_targetAudience": [{"id": "1", "audienceType": "Nobody we know"}]
        })
    }

    #[test]
    fn a_full_record_maps_onto_ours() {
        let read = read_service(&v1_record(), &taxonomy()).unwrap();
        let s = read.service;
        assert_eq!(s.name, "Saturday & Sunday Club");
        assert_eq!(s.description, "Games");
        assert_eq!(s.url.as_deref(), Some("https://www.example.org/club"));
        assert_eq!(
            s.email.as_deref(),
            Some("club@example.org"),
            "invisible characters are dropped"
        );
        assert_eq!((s.min_age, s.max_age), (5, 18));
        assert_eq!(s.organisation.name, "Play Trust");
        assert_eq!(s.organisation.description, "A charity");
        let place = s.place.unwrap();
        assert_eq!(place.postcode.as_deref(), Some("DN15 6AA"));
        assert_eq!(place.address.as_deref(), Some("Hall, 1 High St, Scunthorpe"));
        assert!(place.at.is_some());
        assert_eq!(s.price_options.len(), 1);
        assert_eq!(s.price_options[0].price.to_string(), "12.50");
        assert_eq!(s.price_options[0].unit, Unit::Session);
        // "Respite" names both a kind of service and the outcome of a break for the family.
        assert_eq!(s.service_types, vec![TermId("st-short-break".into())]);
        assert_eq!(s.outcomes, vec![TermId("family-carer-break".into())]);
        assert_eq!(
            read.warnings,
            vec!["cost_options[1] has no amount in pounds and pence; left out"]
        );
    }

    #[test]
    fn unusable_records_are_skipped_with_a_reason() {
        let t = taxonomy();
        let mut v = v1_record();
        v["name"] = json!("  ");
        assert_eq!(read_service(&v, &t).unwrap_err(), Skip("no name".into()));
        let mut v = v1_record();
        v.as_object_mut().unwrap().remove("id");
        assert_eq!(read_service(&v, &t).unwrap_err(), Skip("no id".into()));
        let mut v = v1_record();
        v["organization"]["name"] = json!("<p></p>");
        assert_eq!(
            read_service(&v, &t).unwrap_err(),
            Skip("organisation has no name".into())
        );
        let mut v = v1_record();
        v["organization"] = json!(null);
        assert_eq!(read_service(&v, &t).unwrap_err(), Skip("no organisation".into()));
        let mut v = v1_record();
        v["eligibilitys"] = json!([{"minimum_age": 65}]);
        assert!(read_service(&v, &t).unwrap_err().0.contains("outside the Local Offer"));
        assert!(read_service(&json!([1]), &t).is_err());
    }

    #[test]
    fn amounts_are_exact_pence() {
        assert_eq!(amount(&json!(12.5)), Pence::new(1250));
        assert_eq!(amount(&json!(0)), Pence::new(0));
        assert_eq!(amount(&json!("1,200.00")), Pence::new(120_000));
        assert_eq!(amount(&json!(0.1)), Pence::new(10));
        assert_eq!(amount(&json!(-1)), None);
        assert_eq!(amount(&json!(1.005)), None);
        assert_eq!(amount(&json!("free")), None);
        assert_eq!(
            amount(&json!("79228162514264337593543950335")),
            None,
            "too large, not a panic"
        );
    }

    #[test]
    fn public_ids_read_back_and_differ_by_deployment_and_kind() {
        let ours = PublicIds::from_hex("0123456789ab").unwrap();
        let theirs = PublicIds::from_hex("ba9876543210").unwrap();
        let id = ours.id(Kind::Service, 42);
        assert_eq!(id.get_version_num(), 8);
        assert_eq!(ours.parse(Kind::Service, &id.to_string()), Some(42));
        assert_eq!(ours.parse(Kind::Organisation, &id.to_string()), None);
        assert_eq!(theirs.parse(Kind::Service, &id.to_string()), None);
        assert_ne!(id, theirs.id(Kind::Service, 42));
        assert_eq!(ours.parse(Kind::Service, "not-a-uuid"), None);
        assert_eq!(
            PublicIds::term("pfa-friends-community"),
            PublicIds::term("pfa-friends-community")
        );
        assert!(PublicIds::from_hex("xyz").is_none());
    }

    #[test]
    fn audiences_are_known_in_the_singular_and_by_the_last_part_of_a_path() {
        assert_eq!(
            audience_names("Learning Disabilities"),
            ["Learning Disabilities", "learning disability"]
        );
        assert_eq!(
            audience_names("Wheelchair Users"),
            ["Wheelchair Users", "wheelchair user"]
        );
        assert_eq!(
            audience_names("Sensory Impaired>Visually Impaired"),
            ["Sensory Impaired>Visually Impaired", "Visually Impaired"]
        );
        assert_eq!(audience_names("Carers"), ["Carers", "carer"]);
        assert_eq!(audience_names("Autism"), ["Autism"]);
        assert_eq!(audience_names("Dyslexia"), ["Dyslexia"]);
    }

    #[test]
    fn real_audiences_map_to_our_need_terms() {
        let taxonomy = Taxonomy::builtin().unwrap();
        let needs = |audience: &str| {
            let record = json!({"id": "1", "name": "Club", "organization": {"id": "o", "name": "Org"},
                "pc_targetAudience": [{"id": "1", "audienceType": audience}]});
            matched_terms(&record, &taxonomy)
                .2
                .into_iter()
                .map(|t| t.0)
                .collect::<Vec<_>>()
        };
        assert_eq!(needs("Learning Disabilities"), ["need-cognition-learning"]);
        assert_eq!(needs("Wheelchair Users"), ["need-physical-disability"]);
        assert_eq!(needs("Sensory Impaired>Visually Impaired"), ["need-visual-impairment"]);
        assert_eq!(needs("Hearing Impaired"), ["need-hearing-impairment"]);
        assert_eq!(needs("Physically Disabled"), ["need-physical-disability"]);
    }
}
