//! The Open Referral UK feed (HSDS 3.0, UK profile) under `/oruk/`: everything the Local Offer
//! publishes, in the standard Family Hubs, the NHS and neighbouring councils read. Anonymous,
//! read-only, open to pages on any origin. Empty optional fields are left out.

use actix_web::http::header;
use actix_web::{HttpResponse, middleware, web};
use chrono::NaiveDateTime;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::api::ApiError;
use crate::app::{App, feed};
use crate::db::organisations::OrganisationView;
use crate::db::services::ServiceView;
use crate::domain::oruk::{FeedQuery, Kind, PublicIds, ical_day, unit_words};
use crate::domain::sessions::Weekly;
use crate::domain::taxonomy::{Taxonomy, Term, Vocabulary};
use crate::domain::validate;
use crate::domain::{OrganisationId, SeriesId, ServiceId};

type Data = web::Data<App>;
type Reply = Result<HttpResponse, ApiError>;
type Pairs = web::Query<Vec<(String, String)>>;

pub const PROFILE: &str = "https://github.com/openreferral/uk-profile";
pub const OPENAPI: &str = "https://raw.githubusercontent.com/openreferral/uk-profile/main/openapi.json";

pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/oruk")
        .wrap(middleware::DefaultHeaders::new().add((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")))
        // Before every other route: a preflight for any path is answered here.
        .service(
            web::resource("/{tail:.*}")
                .guard(actix_web::guard::Options())
                .to(preflight),
        )
        .route("", web::get().to(about))
        .route("/", web::get().to(about))
        .route("/services", web::get().to(list_services))
        .route("/services/{id}", web::get().to(service))
        .route("/service_at_locations", web::get().to(list_service_at_locations))
        .route("/service_at_locations/{id}", web::get().to(service_at_location))
        .route("/organizations", web::get().to(list_organizations))
        .route("/organizations/{id}", web::get().to(organization))
        .route("/taxonomies", web::get().to(list_taxonomies))
        .route("/taxonomies/{id}", web::get().to(taxonomy))
        .route("/taxonomy_terms", web::get().to(list_taxonomy_terms))
        .route("/taxonomy_terms/{id}", web::get().to(taxonomy_term))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::not_found("no such Open Referral endpoint"))
        }))
}

/// Browsers ask before a cross-origin request with custom headers.
async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, OPTIONS"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "*"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish()
}

async fn about() -> HttpResponse {
    HttpResponse::Ok().json(json!({"version": "3.0", "profile": PROFILE, "openapi_url": OPENAPI}))
}

/// The 3.0 paging envelope around one page of `contents`.
fn page(q: &FeedQuery, total: usize, contents: Vec<Value>) -> HttpResponse {
    let total_pages = total.div_ceil(q.per_page);
    HttpResponse::Ok().json(json!({
        "total_items": total,
        "total_pages": total_pages,
        "page_number": q.page,
        "size": contents.len(),
        "first_page": q.page == 1,
        "last_page": q.page >= total_pages,
        "empty": contents.is_empty(),
        "contents": contents,
    }))
}

/// A JSON object that leaves out what is empty.
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Obj {
        Obj(Map::new())
    }

    fn set(mut self, key: &str, value: impl Into<Value>) -> Obj {
        self.0.insert(key.into(), value.into());
        self
    }

    fn opt(mut self, key: &str, value: Option<impl Into<Value>>) -> Obj {
        match value.map(Into::into) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::Array(a)) if a.is_empty() => {}
            Some(v) => {
                self.0.insert(key.into(), v);
            }
        }
        self
    }

    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

/// Stored before the checks were strict, a value readers would refuse is left out.
fn valid_uri(v: &str) -> Option<String> {
    validate::web_address("url", v).ok()
}

fn valid_email(v: &str) -> Option<String> {
    validate::email("email", v).ok()
}

fn timestamp(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn vocabulary_name(v: Vocabulary) -> (&'static str, &'static str) {
    match v {
        Vocabulary::Outcome => (
            "localoffer outcomes",
            "Outcomes an EHC plan sets and a service helps achieve: Preparing for Adulthood, Every Child Matters and family outcomes.",
        ),
        Vocabulary::Need => (
            "localoffer areas of need",
            "The four broad areas of special educational need in the SEND Code of Practice, with narrower needs.",
        ),
        Vocabulary::ServiceType => (
            "localoffer service types",
            "Kinds of service a personal budget buys: short breaks, therapies, personal assistants, clubs, transport and more.",
        ),
    }
}

fn taxonomy_json(taxonomy: &Taxonomy, v: Vocabulary, with_terms: bool) -> Value {
    let (name, description) = vocabulary_name(v);
    let terms: Vec<Value> = if with_terms {
        taxonomy
            .terms
            .iter()
            .filter(|t| t.vocabulary == v)
            .map(|t| term_json(taxonomy, t))
            .collect()
    } else {
        Vec::new()
    };
    Obj::new()
        .set("id", PublicIds::taxonomy(v).to_string())
        .set("name", name)
        .set("description", description)
        .set("version", taxonomy.version.clone())
        .opt("taxonomy_terms", Some(terms))
        .done()
}

fn term_json(taxonomy: &Taxonomy, t: &Term) -> Value {
    let (vocabulary, _) = vocabulary_name(t.vocabulary);
    let parent = t.parent.as_ref().and_then(|p| taxonomy.get(p.as_str()));
    let description = match parent {
        Some(p) => format!("{}, within \"{}\" ({vocabulary})", t.label, p.label),
        None => format!("{} ({vocabulary})", t.label),
    };
    Obj::new()
        .set("id", PublicIds::term(t.id.as_str()).to_string())
        .set("name", t.label.clone())
        .set("description", description)
        .opt("parent_id", parent.map(|p| PublicIds::term(p.id.as_str()).to_string()))
        .set("taxonomy", vocabulary)
        .set("taxonomy_id", PublicIds::taxonomy(t.vocabulary).to_string())
        .set("term", t.id.as_str())
        .done()
}

fn organisation_json(ids: &PublicIds, o: &OrganisationView) -> Value {
    let org = ids.id(Kind::Organisation, o.id);
    let identifiers: Vec<Value> = [
        ("Charity Number", "GB-CHC", &o.charity_number),
        ("Company Number", "GB-COH", &o.company_number),
    ]
    .into_iter()
    .filter_map(|(kind, scheme, number)| {
        number.as_ref().map(|n| {
            json!({
                "id": Uuid::new_v5(&org, scheme.as_bytes()).to_string(),
                "organization_id": org.to_string(),
                "identifier_scheme": scheme,
                "identifier_type": kind,
                "identifier": n,
            })
        })
    })
    .collect();
    Obj::new()
        .set("id", org.to_string())
        .set("name", o.name.clone())
        .set("description", o.description.clone())
        .opt("email", o.email.as_deref().and_then(valid_email))
        .opt("website", o.website.as_deref().and_then(valid_uri))
        .opt("organization_identifiers", Some(identifiers))
        .done()
}

/// An address from our one line of text: its last comma-separated part is taken as the town.
fn address_json(ids: &PublicIds, service: i64, location: &crate::domain::service::Location) -> Option<Value> {
    let postcode = location.postcode.clone();
    let text = location.address.clone().unwrap_or_default();
    if text.is_empty() && postcode.is_none() {
        return None;
    }
    let (street, town) = match text.rsplit_once(',') {
        Some((street, town)) => (street.trim().to_string(), town.trim().to_string()),
        None => (text.trim().to_string(), String::new()),
    };
    Some(json!({
        "id": ids.id(Kind::Address, service).to_string(),
        "location_id": ids.id(Kind::Location, service).to_string(),
        "address_1": street,
        "city": town,
        "state_province": "",
        "postal_code": postcode.unwrap_or_default(),
        "country": "GB",
        "address_type": "physical",
    }))
}

fn location_json(ids: &PublicIds, view: &ServiceView) -> Option<Value> {
    let l = view.location.as_ref()?;
    let id = view.id.0;
    Some(
        Obj::new()
            .set("id", ids.id(Kind::Location, id).to_string())
            .set("location_type", "physical")
            .set("latitude", l.lat)
            .set("longitude", l.lon)
            .opt("addresses", address_json(ids, id, l).map(|a| vec![a]))
            .done(),
    )
}

fn service_at_location_json(ids: &PublicIds, view: &ServiceView) -> Option<Value> {
    let location = location_json(ids, view)?;
    Some(json!({
        "id": ids.id(Kind::ServiceAtLocation, view.id.0).to_string(),
        "service_id": ids.id(Kind::Service, view.id.0).to_string(),
        "location_id": ids.id(Kind::Location, view.id.0).to_string(),
        "location": location,
    }))
}

/// A price in pounds as a JSON number. Pence up to 2^53 print as their exact decimal (the
/// shortest text that reads back as the same double), so readers get what we store.
fn pounds(pence: crate::domain::Pence) -> Value {
    pence
        .to_decimal()
        .to_f64()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// A weekly series of dated sessions as a 3.0 schedule: an RFC 5545 rule (`freq`, `interval`,
/// `byday`, `dtstart`, `until`) with its times on England's clock, and the days it skips in words
/// (the profile has no field for them).
fn series_json(ids: &PublicIds, service: i64, series: SeriesId, w: &Weekly) -> Value {
    let byday: Vec<&str> = w.days_in_order().into_iter().map(ical_day).collect();
    let except: Vec<String> = w
        .exceptions_in_order()
        .iter()
        .map(|d| d.format("%-d %B %Y").to_string())
        .collect();
    Obj::new()
        .set("id", ids.part(service, &format!("series/{series}")).to_string())
        .set("service_id", ids.id(Kind::Service, service).to_string())
        .set("valid_from", w.from.to_string())
        .set("valid_to", w.until.to_string())
        .set("dtstart", w.from.to_string())
        .set("until", w.until.to_string())
        .set("freq", "WEEKLY")
        .set("interval", 1)
        .set("byday", byday.join(","))
        .set("opens_at", w.starts.trim())
        .set("closes_at", w.ends.trim())
        .set("description", w.describe())
        .opt(
            "notes",
            (!except.is_empty()).then(|| format!("No sessions on {}.", except.join(", "))),
        )
        .done()
}

fn service_json(ids: &PublicIds, taxonomy: &Taxonomy, published: &feed::Published, with_org: bool) -> Value {
    let (view, series) = (&published.service, &published.series);
    let org = with_org.then_some(&published.organisation);
    let id = view.id.0;
    let service = ids.id(Kind::Service, id).to_string();
    let attributes: Vec<Value> = view
        .outcomes
        .iter()
        .chain(&view.needs)
        .chain(&view.service_types)
        .filter_map(|t| taxonomy.get(t))
        .map(|t| {
            json!({
                "id": ids.part(id, &format!("attribute/{}", t.id.as_str())).to_string(),
                "link_id": service,
                "link_type": "service",
                "taxonomy_term_id": PublicIds::term(t.id.as_str()).to_string(),
                "taxonomy_term": term_json(taxonomy, t),
            })
        })
        .collect();
    let cost_options: Vec<Value> = view
        .price_options
        .iter()
        .map(|o| {
            json!({
                "id": ids.id(Kind::CostOption, o.id.0).to_string(),
                "service_id": service,
                "option": o.label,
                "amount": pounds(o.price),
                "currency": "GBP",
                "amount_description": unit_words(o.unit),
            })
        })
        .collect();
    let schedules: Vec<Value> = view
        .schedule
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "id": ids.part(id, &format!("schedule/{i}")).to_string(),
                "service_id": service,
                "freq": "WEEKLY",
                "interval": 1,
                "byday": ical_day(s.day),
                "opens_at": s.starts,
                "closes_at": s.ends,
                "description": format!("Every {} from {} to {}", s.day.as_str(), s.starts, s.ends),
            })
        })
        .chain(series.iter().map(|(sid, w)| series_json(ids, id, *sid, w)))
        .collect();
    let funding: Vec<Value> = view
        .funding_streams
        .iter()
        .map(|s| {
            json!({
                "id": ids.part(id, &format!("funding/{}", s.as_str())).to_string(),
                "service_id": service,
                "source": format!("Personal budget: {}", s.as_str().replace('_', " ")),
            })
        })
        .collect();
    let organisation_id = ids.id(Kind::Organisation, view.organisation.id).to_string();
    Obj::new()
        .set("id", service.clone())
        .set("organization_id", organisation_id)
        .set("name", view.name.clone())
        .opt("description", Some(view.description.clone()))
        .opt("url", view.url.as_deref().and_then(valid_uri))
        .opt("email", view.email.as_deref().and_then(valid_email))
        .set("status", "active")
        // A feed we imported without ages claimed none, and neither do we.
        .opt("minimum_age", view.ages_stated.then_some(view.min_age))
        .opt("maximum_age", view.ages_stated.then_some(view.max_age))
        .set("last_modified", timestamp(view.updated_at))
        .opt("organization", org.map(|o| organisation_json(ids, o)))
        .opt(
            "service_at_locations",
            service_at_location_json(ids, view).map(|s| vec![s]),
        )
        .opt("cost_options", Some(cost_options))
        .opt("schedules", Some(schedules))
        .opt("funding", Some(funding))
        .opt("attributes", Some(attributes))
        .done()
}

fn query(pairs: &Pairs, app: &Data) -> Result<FeedQuery, ApiError> {
    FeedQuery::parse(pairs, &app.taxonomy).map_err(ApiError::bad_parameters)
}

async fn list_services(state: Data, pairs: Pairs) -> Reply {
    let q = query(&pairs, &state)?;
    let (total, loaded) = feed::find(&state, &q, false).await?;
    let contents = loaded
        .iter()
        .map(|p| service_json(&state.public_ids, &state.taxonomy, p, true))
        .collect();
    Ok(page(&q, total, contents))
}

async fn list_service_at_locations(state: Data, pairs: Pairs) -> Reply {
    let q = query(&pairs, &state)?;
    let (total, loaded) = feed::find(&state, &q, true).await?;
    let contents = loaded
        .iter()
        .filter_map(|p| service_at_location_json(&state.public_ids, &p.service))
        .collect();
    Ok(page(&q, total, contents))
}

fn not_found(what: &str) -> ApiError {
    ApiError::not_found(format!("no {what} with this id is published here"))
}

async fn one_service(state: &Data, kind: Kind, id: &str) -> Result<feed::Published, ApiError> {
    let service = state
        .public_ids
        .parse(kind, id)
        .map(ServiceId)
        .ok_or_else(|| not_found("record"))?;
    feed::service(state, service).await?.ok_or_else(|| not_found("service"))
}

async fn service(state: Data, path: web::Path<String>) -> Reply {
    let published = one_service(&state, Kind::Service, &path).await?;
    Ok(HttpResponse::Ok().json(service_json(&state.public_ids, &state.taxonomy, &published, true)))
}

async fn service_at_location(state: Data, path: web::Path<String>) -> Reply {
    let published = one_service(&state, Kind::ServiceAtLocation, &path).await?;
    let mut sal =
        service_at_location_json(&state.public_ids, &published.service).ok_or_else(|| not_found("location"))?;
    sal["service"] = service_json(&state.public_ids, &state.taxonomy, &published, true);
    Ok(HttpResponse::Ok().json(sal))
}

async fn list_organizations(state: Data, pairs: Pairs) -> Reply {
    let q = query(&pairs, &state)?;
    let (orgs, total) = feed::organisations(&state, q.offset() as i64, q.per_page as i64).await?;
    let contents = orgs.iter().map(|o| organisation_json(&state.public_ids, o)).collect();
    Ok(page(&q, usize::try_from(total).unwrap_or(0), contents))
}

async fn organization(state: Data, path: web::Path<String>) -> Reply {
    let id = state
        .public_ids
        .parse(Kind::Organisation, &path)
        .ok_or_else(|| not_found("organization"))?;
    let (org, services) = feed::organisation(&state, OrganisationId(id))
        .await?
        .ok_or_else(|| not_found("organization"))?;
    let mut body = organisation_json(&state.public_ids, &org);
    body["services"] = services
        .iter()
        .map(|p| service_json(&state.public_ids, &state.taxonomy, p, false))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

async fn list_taxonomies(state: Data, pairs: Pairs) -> Reply {
    let q = query(&pairs, &state)?;
    let all: Vec<Value> = Vocabulary::ALL
        .iter()
        .map(|v| taxonomy_json(&state.taxonomy, *v, false))
        .collect();
    let total = all.len();
    let contents = all.into_iter().skip(q.offset()).take(q.per_page).collect();
    Ok(page(&q, total, contents))
}

async fn taxonomy(state: Data, path: web::Path<String>) -> Reply {
    let v = Vocabulary::ALL
        .iter()
        .find(|v| PublicIds::taxonomy(**v).to_string() == path.as_str())
        .ok_or_else(|| not_found("taxonomy"))?;
    Ok(HttpResponse::Ok().json(taxonomy_json(&state.taxonomy, *v, true)))
}

async fn list_taxonomy_terms(state: Data, pairs: Pairs) -> Reply {
    let q = query(&pairs, &state)?;
    let terms: Vec<&Term> = state
        .taxonomy
        .terms
        .iter()
        .filter(|t| q.vocabulary.is_none_or(|v| t.vocabulary == v) && !q.unknown_filter)
        .collect();
    let total = terms.len();
    let contents = terms
        .into_iter()
        .skip(q.offset())
        .take(q.per_page)
        .map(|t| term_json(&state.taxonomy, t))
        .collect();
    Ok(page(&q, total, contents))
}

async fn taxonomy_term(state: Data, path: web::Path<String>) -> Reply {
    let term = state
        .taxonomy
        .terms
        .iter()
        .find(|t| PublicIds::term(t.id.as_str()).to_string() == path.as_str())
        .ok_or_else(|| not_found("taxonomy term"))?;
    Ok(HttpResponse::Ok().json(term_json(&state.taxonomy, term)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_published_as_the_exact_pounds() {
        use crate::domain::Pence;
        for (pence, text) in [
            (1250, "12.5"),
            (4500, "45.0"),
            (19118, "191.18"),
            (1, "0.01"),
            (99_999_999, "999999.99"),
        ] {
            assert_eq!(pounds(Pence::new(pence).unwrap()).to_string(), text);
        }
    }
}
