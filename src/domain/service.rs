//! A provider's service as submitted, and the checks that make it listable.

use serde::{Deserialize, Serialize};

use chrono::{NaiveDate, NaiveDateTime};

use super::fcr::{FcrBreakdown, FcrInput};
use super::geo::Coordinates;
use super::money::Pence;
use super::sessions::{Policy, SessionPolicy};
use super::taxonomy::{Taxonomy, TermId, Vocabulary};
use super::validate::{self, Checker, FieldError, Invalid};
use super::{PriceOptionId, ServiceId, ServiceStatus, Stream, Unit, text_enum};

text_enum!(
    Day {
        Monday = "monday", Tuesday = "tuesday", Wednesday = "wednesday", Thursday = "thursday",
        Friday = "friday", Saturday = "saturday", Sunday = "sunday",
    }
);

pub const MAX_SESSIONS: usize = 50;

/// One weekly session, e.g. Saturdays 10:00-15:00.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub day: Day,
    pub starts: String,
    pub ends: String,
}

/// Minutes after midnight of an "HH:MM" time.
fn minutes(field: &str, value: &str) -> Result<u32, FieldError> {
    let bad = || FieldError::new(field, "must be a 24-hour time such as 09:30");
    let (h, m) = value.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Session {
    fn validate(&self, field: &str) -> Result<Session, FieldError> {
        let starts = minutes(&format!("{field}.starts"), &self.starts)?;
        let ends = minutes(&format!("{field}.ends"), &self.ends)?;
        if ends <= starts {
            return Err(FieldError::new(format!("{field}.ends"), "must be after starts"));
        }
        Ok(self.clone())
    }
}

pub const MAX_TERMS: usize = 20;
pub const MAX_PRICE_OPTIONS: usize = 20;
pub const MAX_REACH_MILES: f64 = 100.0;
pub const MAX_CAPACITY: i32 = 10_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub outcomes: Vec<String>,
    #[serde(default)]
    pub service_types: Vec<String>,
    #[serde(default)]
    pub needs: Vec<String>,
    pub min_age: i32,
    pub max_age: i32,
    pub funding_streams: Vec<Stream>,
    pub location: LocationInput,
    #[serde(default)]
    pub reach_miles: Option<f64>,
    /// Places per session; none for a service without places (equipment, travel).
    #[serde(default)]
    pub capacity: Option<i32>,
    #[serde(default)]
    pub schedule: Vec<Session>,
    #[serde(default = "default_status")]
    pub status: ServiceStatus,
    pub price_options: Vec<PriceOptionInput>,
    #[serde(default)]
    pub cancellation_notice_hours: Option<i32>,
    #[serde(default)]
    pub offer_window_hours: Option<i32>,
    #[serde(default)]
    pub late_cancellation: Option<Policy>,
    #[serde(default)]
    pub absence: Option<Policy>,
}

fn default_status() -> ServiceStatus {
    ServiceStatus::Draft
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    #[serde(default)]
    pub postcode: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceOptionInput {
    /// Present when re-pricing an existing option through `PUT`, so bookings keep pointing at it.
    #[serde(default)]
    pub id: Option<PriceOptionId>,
    pub label: String,
    pub unit: Unit,
    #[serde(default)]
    pub price: Option<Pence>,
    #[serde(default)]
    pub fcr: Option<FcrInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    pub postcode: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidPriceOption {
    pub id: Option<PriceOptionId>,
    pub label: String,
    pub unit: Unit,
    pub price: Pence,
    pub fcr: Option<FcrBreakdown>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidService {
    pub name: String,
    pub description: String,
    pub outcomes: Vec<TermId>,
    pub service_types: Vec<TermId>,
    pub needs: Vec<TermId>,
    pub min_age: i32,
    pub max_age: i32,
    pub funding_streams: Vec<Stream>,
    pub location: Location,
    pub reach_miles: Option<f64>,
    pub capacity: Option<i32>,
    pub schedule: Vec<Session>,
    pub status: ServiceStatus,
    pub price_options: Vec<ValidPriceOption>,
    pub policy: SessionPolicy,
}

impl ServiceInput {
    pub fn validate(&self, taxonomy: &Taxonomy) -> Result<ValidService, Invalid> {
        let mut c = Checker::new();
        let name = c.take(validate::text("name", &self.name, 1, 200));
        let description = c.take(validate::text("description", &self.description, 0, 10_000));
        let terms = |field: &str, ids: &[String], vocabulary| {
            if ids.len() > MAX_TERMS {
                return Err(FieldError::new(field, format!("must list at most {MAX_TERMS} terms")));
            }
            taxonomy.check(field, ids, vocabulary)
        };
        let outcomes = c.take(terms("outcomes", &self.outcomes, Vocabulary::Outcome));
        let service_types = c.take(terms("service_types", &self.service_types, Vocabulary::ServiceType));
        let needs = c.take(terms("needs", &self.needs, Vocabulary::Need));
        if self.status == ServiceStatus::Published && outcomes.as_ref().is_some_and(Vec::is_empty) {
            c.add(
                "outcomes",
                "a published service must name at least one outcome it helps achieve",
            );
        }
        let min_age = c.take(validate::age("min_age", self.min_age));
        let max_age = c.take(validate::age("max_age", self.max_age));
        if let (Some(min), Some(max)) = (min_age, max_age)
            && min > max
        {
            c.add("max_age", "must not be below min_age");
        }
        let mut funding_streams = self.funding_streams.clone();
        funding_streams.sort();
        funding_streams.dedup();
        if funding_streams.is_empty() {
            c.add(
                "funding_streams",
                "must name at least one: education, health or social care",
            );
        }
        let location = c.take(self.location.validate());
        let reach_miles = match self.reach_miles {
            Some(r) if !(r.is_finite() && r > 0.0 && r <= MAX_REACH_MILES) => {
                c.add(
                    "reach_miles",
                    format!("must be more than 0 and at most {MAX_REACH_MILES} miles"),
                );
                None
            }
            r => r,
        };
        if self.capacity.is_some_and(|c| !(1..=MAX_CAPACITY).contains(&c)) {
            c.add("capacity", format!("must be from 1 to {MAX_CAPACITY} places"));
        }
        if self.schedule.len() > MAX_SESSIONS {
            c.add("schedule", format!("must list at most {MAX_SESSIONS} sessions"));
        }
        let schedule: Vec<Session> = self
            .schedule
            .iter()
            .enumerate()
            .filter_map(|(i, s)| c.take(s.validate(&format!("schedule[{i}]"))))
            .collect();
        if self.price_options.is_empty() {
            c.add("price_options", "must list at least one price option");
        } else if self.price_options.len() > MAX_PRICE_OPTIONS {
            c.add(
                "price_options",
                format!("must list at most {MAX_PRICE_OPTIONS} price options"),
            );
        }
        let mut price_options = Vec::with_capacity(self.price_options.len());
        for (i, option) in self.price_options.iter().enumerate() {
            if let Some(o) = c.take(option.validate(&format!("price_options[{i}]"))) {
                if o.id.is_some() && price_options.iter().any(|p: &ValidPriceOption| p.id == o.id) {
                    c.add(format!("price_options[{i}].id"), "is listed twice");
                }
                price_options.push(o);
            }
        }
        let policy = match SessionPolicy::checked(
            self.cancellation_notice_hours,
            self.offer_window_hours,
            self.late_cancellation,
            self.absence,
        ) {
            Ok(p) => Some(p),
            Err(Invalid(errors)) => {
                errors.into_iter().for_each(|e| c.add(e.field, e.message));
                None
            }
        };
        if !c.is_ok() {
            return Err(c.finish(|| ()).unwrap_err());
        }
        match (
            name,
            description,
            outcomes,
            service_types,
            needs,
            min_age,
            max_age,
            location,
        ) {
            (
                Some(name),
                Some(description),
                Some(outcomes),
                Some(service_types),
                Some(needs),
                Some(min_age),
                Some(max_age),
                Some(location),
            ) => Ok(ValidService {
                name,
                description,
                outcomes,
                service_types,
                needs,
                min_age,
                max_age,
                funding_streams,
                location,
                reach_miles,
                capacity: self.capacity,
                schedule,
                status: self.status,
                price_options,
                policy: policy.unwrap_or_default(),
            }),
            _ => Err(Invalid::one("service", "is incomplete")),
        }
    }
}

impl LocationInput {
    fn validate(&self) -> Result<Location, FieldError> {
        let postcode = match self.postcode.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(validate::postcode("location.postcode", p)?),
            None => None,
        };
        let address = validate::optional_text("location.address", self.address.as_deref(), 300)?;
        let lat = self.lat.ok_or_else(|| {
            FieldError::new(
                "location.lat",
                "is required: give the latitude and longitude of where the service happens",
            )
        })?;
        let lon = self.lon.ok_or_else(|| {
            FieldError::new(
                "location.lon",
                "is required: give the latitude and longitude of where the service happens",
            )
        })?;
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(FieldError::new("location.lat", "must be a latitude from -90 to 90"));
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(FieldError::new("location.lon", "must be a longitude from -180 to 180"));
        }
        Ok(Location {
            postcode,
            lat,
            lon,
            address,
        })
    }
}

impl PriceOptionInput {
    fn validate(&self, field: &str) -> Result<ValidPriceOption, FieldError> {
        let label = validate::text(&format!("{field}.label"), &self.label, 1, 200)?;
        let fcr = match &self.fcr {
            Some(input) => Some(input.calculate().map_err(|e| {
                let sub = match e {
                    super::fcr::FcrError::UnitsPerYear => "units_per_year",
                    super::fcr::FcrError::Occupancy => "occupancy",
                    _ => "annual_direct_costs",
                };
                FieldError::new(format!("{field}.fcr.{sub}"), e.to_string())
            })?),
            None => None,
        };
        // A price given alongside the calculator is the provider's choice (it may sit below full
        // cost; the council's reports flag that). Without one, the full cost is the price.
        let price = match (self.price, &fcr) {
            (Some(p), _) => p,
            (None, Some(b)) => b.full_cost_per_unit,
            (None, None) => {
                return Err(FieldError::new(
                    format!("{field}.price"),
                    "is required unless the full-cost-recovery calculator (fcr) is used",
                ));
            }
        };
        Ok(ValidPriceOption {
            id: self.id,
            label,
            unit: self.unit,
            price,
            fcr,
        })
    }
}

/// What the search index holds about one published service: the database's truth, shaped for
/// finding it.
#[derive(Debug, Clone)]
pub struct Listing {
    pub id: ServiceId,
    pub organisation_id: i64,
    /// The councils that suspended the provider in their own Local Offer: their families' and
    /// officers' searches leave it out.
    pub suspended_by: Vec<i64>,
    pub organisation_name: String,
    pub name: String,
    pub description: String,
    pub outcomes: Vec<String>,
    pub service_types: Vec<String>,
    pub needs: Vec<String>,
    pub streams: Vec<String>,
    pub days: Vec<String>,
    pub at: Option<Coordinates>,
    pub postcode: Option<String>,
    pub reach_miles: Option<f64>,
    pub min_age: i32,
    pub max_age: i32,
    /// False when the feed it came from gave no ages.
    pub ages_stated: bool,
    pub price_from: Option<Pence>,
    pub updated_at: NaiveDateTime,
    /// The days in England on which a scheduled session still to come has a place left, in order.
    pub open_days: Vec<NaiveDate>,
}

impl ValidService {
    /// A new service has no price options yet to re-price.
    pub fn check_new(&self) -> Result<(), Invalid> {
        match self.price_options.iter().position(|o| o.id.is_some()) {
            Some(i) => Err(Invalid::one(
                format!("price_options[{i}].id"),
                "a new service's price options cannot carry ids",
            )),
            None => Ok(()),
        }
    }

    /// Options re-priced by id must be this service's own.
    pub fn check_options_of(&self, existing: &[PriceOptionId]) -> Result<(), Invalid> {
        match self
            .price_options
            .iter()
            .position(|o| o.id.is_some_and(|id| !existing.contains(&id)))
        {
            Some(i) => Err(Invalid::one(
                format!("price_options[{i}].id"),
                "is not a price option of this service",
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> ServiceInput {
        serde_json::from_value(json).unwrap()
    }

    fn saturday_club() -> serde_json::Value {
        serde_json::json!({
            "name": "Saturday Club", "description": "Games and trips", "outcomes": ["pfa-friends-community"],
            "service_types": ["st-short-break-day"], "needs": [], "min_age": 5, "max_age": 18,
            "funding_streams": ["social_care", "social_care"],
            "location": {"postcode": "sw19 2hr", "lat": 51.4214, "lon": -0.2064},
            "reach_miles": 10, "capacity": 12, "status": "published",
            "price_options": [
                {"label": "Saturday session", "unit": "session", "price": "45.00"},
                {"label": "Overnight", "unit": "night", "fcr": {"annual_direct_costs": "52000.00",
                 "annual_overheads": "13000.00", "units_per_year": 400, "occupancy": "0.85"}}
            ]
        })
    }

    #[test]
    fn a_complete_service_validates_and_prices_from_the_calculator() {
        let t = Taxonomy::builtin().unwrap();
        let s = input(saturday_club()).validate(&t).unwrap();
        assert_eq!(s.location.postcode.as_deref(), Some("SW19 2HR"));
        assert_eq!(s.funding_streams, vec![Stream::SocialCare]);
        assert_eq!(s.price_options[0].price.to_string(), "45.00");
        assert_eq!(s.price_options[1].price.to_string(), "191.18");
        assert!(s.price_options[1].fcr.is_some());
    }

    #[test]
    fn every_problem_is_named() {
        let t = Taxonomy::builtin().unwrap();
        let mut v = saturday_club();
        v["name"] = "".into();
        v["min_age"] = 30.into();
        v["outcomes"] = serde_json::json!(["st-salt"]);
        v["location"]["lat"] = serde_json::Value::Null;
        v["capacity"] = 0.into();
        v["price_options"][0]["price"] = serde_json::Value::Null;
        v["price_options"][1]["fcr"]["units_per_year"] = 0.into();
        let err = input(v).validate(&t).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "outcomes[0]",
                "min_age",
                "location.lat",
                "capacity",
                "price_options[0].price",
                "price_options[1].fcr.units_per_year"
            ]
        );
    }

    #[test]
    fn ages_must_be_in_order_and_published_services_need_an_outcome() {
        let t = Taxonomy::builtin().unwrap();
        let mut v = saturday_club();
        v["min_age"] = 12.into();
        v["max_age"] = 8.into();
        v["outcomes"] = serde_json::json!([]);
        let err = input(v).validate(&t).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["outcomes", "max_age"]);
    }

    #[test]
    fn schedules_need_real_times_in_order() {
        let t = Taxonomy::builtin().unwrap();
        let mut v = saturday_club();
        v["schedule"] = serde_json::json!([{"day": "saturday", "starts": "10:00", "ends": "15:00"}]);
        assert_eq!(input(v.clone()).validate(&t).unwrap().schedule[0].day, Day::Saturday);
        v["schedule"] = serde_json::json!([{"day": "saturday", "starts": "10:00", "ends": "09:00"}, {"day": "sunday", "starts": "25:00", "ends": "26:00"}]);
        let err = input(v).validate(&t).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["schedule[0].ends", "schedule[1].starts"]);
    }

    #[test]
    fn reach_must_be_sensible() {
        let t = Taxonomy::builtin().unwrap();
        let mut v = saturday_club();
        v["reach_miles"] = 500.into();
        assert_eq!(input(v).validate(&t).unwrap_err().0[0].field, "reach_miles");
    }
}
