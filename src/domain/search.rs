//! What a search asks for, parsed from a query string with every bad parameter named.

use chrono::NaiveDate;

use super::geo::{Coordinates, Postcode};
use super::service::Day;
use super::taxonomy::{Taxonomy, TermId, Vocabulary};
use super::validate::{FieldError, Invalid};
use super::{Pence, Stream, text_enum};

text_enum!(
    Sort { Relevance = "relevance", Distance = "distance", Price = "price" }
);

pub const MAX_RADIUS_MILES: f64 = 200.0;
pub const MAX_PER_PAGE: usize = 100;
pub const MAX_PAGE: usize = 500;
pub const MAX_QUERY_CHARS: usize = 200;
/// The longest span of days an availability search may cover.
pub const MAX_AVAILABLE_DAYS: i64 = 366;

/// Where a search is centred: a postcode still to be located, or coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Postcode(Postcode),
    At(Coordinates),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub text: Option<String>,
    pub outcomes: Vec<TermId>,
    pub service_types: Vec<TermId>,
    pub needs: Vec<TermId>,
    pub origin: Option<Origin>,
    pub radius_miles: Option<f64>,
    pub age: Option<i32>,
    pub stream: Option<Stream>,
    pub max_price: Option<Pence>,
    pub day: Option<Day>,
    /// A free place on a session on one of these days in England (both included).
    pub available_from: Option<NaiveDate>,
    pub available_to: Option<NaiveDate>,
    pub sort: Sort,
    pub page: usize,
    pub per_page: usize,
}

/// The days a search wants a free place on: from the first (included) to the last (included,
/// or every day on when there is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Available {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

fn date(field: &str, value: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date such as 2027-01-09"))
}

fn number<T: std::str::FromStr>(field: &str, value: &str, what: &str) -> Result<T, FieldError> {
    value
        .trim()
        .parse()
        .map_err(|_| FieldError::new(field, format!("must be {what}")))
}

impl SearchParams {
    /// Parse `key=value` pairs (repeatable keys: outcome, service_type, need). Empty values are
    /// ignored, as a plain HTML form sends them.
    pub fn parse(pairs: &[(String, String)], taxonomy: &Taxonomy) -> Result<SearchParams, Invalid> {
        let mut errors = Vec::new();
        let mut p = SearchParams {
            text: None,
            outcomes: Vec::new(),
            service_types: Vec::new(),
            needs: Vec::new(),
            origin: None,
            radius_miles: None,
            age: None,
            stream: None,
            max_price: None,
            day: None,
            available_from: None,
            available_to: None,
            sort: Sort::Relevance,
            page: 1,
            per_page: 20,
        };
        let (mut outcome_ids, mut type_ids, mut need_ids) = (Vec::new(), Vec::new(), Vec::new());
        let (mut lat, mut lon, mut postcode) = (None, None, None);
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let result: Result<(), FieldError> = (|| {
                match key.as_str() {
                    "q" => {
                        if value.chars().count() > MAX_QUERY_CHARS {
                            return Err(FieldError::new(
                                "q",
                                format!("must be at most {MAX_QUERY_CHARS} characters"),
                            ));
                        }
                        if value.chars().any(char::is_control) {
                            return Err(FieldError::new("q", "must not contain control characters"));
                        }
                        p.text = Some(value.to_string());
                    }
                    "outcome" => outcome_ids.push(value.to_string()),
                    "service_type" => type_ids.push(value.to_string()),
                    "need" => need_ids.push(value.to_string()),
                    "postcode" => postcode = Some(Postcode::parse("postcode", value)?),
                    "lat" => lat = Some(number::<f64>("lat", value, "a latitude such as 51.42")?),
                    "lon" => lon = Some(number::<f64>("lon", value, "a longitude such as -0.21")?),
                    "radius_miles" => {
                        let r: f64 = number("radius_miles", value, "a distance in miles such as 5")?;
                        if !(r.is_finite() && r > 0.0 && r <= MAX_RADIUS_MILES) {
                            return Err(FieldError::new(
                                "radius_miles",
                                format!("must be more than 0 and at most {MAX_RADIUS_MILES}"),
                            ));
                        }
                        p.radius_miles = Some(r);
                    }
                    "age" => {
                        p.age = Some(super::validate::age(
                            "age",
                            number("age", value, "an age from 0 to 25")?,
                        )?)
                    }
                    "stream" => p.stream = Some(value.parse().map_err(|m: String| FieldError::new("stream", m))?),
                    "max_price" => {
                        p.max_price = Some(
                            value
                                .parse()
                                .map_err(|e: super::money::MoneyError| FieldError::new("max_price", e.to_string()))?,
                        )
                    }
                    "day" => {
                        p.day = Some(
                            value
                                .to_lowercase()
                                .parse()
                                .map_err(|m: String| FieldError::new("day", m))?,
                        )
                    }
                    "available_from" => p.available_from = Some(date("available_from", value)?),
                    "available_to" => p.available_to = Some(date("available_to", value)?),
                    "sort" => p.sort = value.parse().map_err(|m: String| FieldError::new("sort", m))?,
                    "page" => {
                        p.page = number("page", value, "a page number from 1")?;
                        if !(1..=MAX_PAGE).contains(&p.page) {
                            return Err(FieldError::new("page", format!("must be from 1 to {MAX_PAGE}")));
                        }
                    }
                    "per_page" => {
                        p.per_page = number("per_page", value, "a number of results per page")?;
                        if !(1..=MAX_PER_PAGE).contains(&p.per_page) {
                            return Err(FieldError::new("per_page", format!("must be from 1 to {MAX_PER_PAGE}")));
                        }
                    }
                    other => return Err(FieldError::new(other, "is not a search parameter")),
                }
                Ok(())
            })();
            if let Err(e) = result {
                errors.push(e);
            }
        }
        for (field, ids, vocabulary, out) in [
            ("outcome", &outcome_ids, Vocabulary::Outcome, &mut p.outcomes),
            ("service_type", &type_ids, Vocabulary::ServiceType, &mut p.service_types),
            ("need", &need_ids, Vocabulary::Need, &mut p.needs),
        ] {
            match taxonomy.check(field, ids, vocabulary) {
                // A single parameter is named plainly; the index only matters when it repeats.
                Ok(terms) => *out = terms,
                Err(mut e) => {
                    e.field = field.to_string();
                    errors.push(e);
                }
            }
        }
        match (lat, lon, postcode) {
            (Some(lat), Some(lon), None) => match Coordinates::new("", lat, lon) {
                Ok(at) => p.origin = Some(Origin::At(at)),
                Err(e) => errors.push(e),
            },
            (None, None, Some(pc)) => p.origin = Some(Origin::Postcode(pc)),
            (None, None, None) => {}
            (_, _, Some(_)) => errors.push(FieldError::new("postcode", "give a postcode or lat and lon, not both")),
            (Some(_), None, None) => errors.push(FieldError::new("lon", "is needed with lat")),
            (None, Some(_), None) => errors.push(FieldError::new("lat", "is needed with lon")),
        }
        if let (Some(from), Some(to)) = (p.available_from, p.available_to)
            && errors.is_empty()
        {
            if to < from {
                errors.push(FieldError::new("available_to", "must not be before available_from"));
            } else if (to - from).num_days() >= MAX_AVAILABLE_DAYS {
                errors.push(FieldError::new(
                    "available_to",
                    format!("must make a range of at most {MAX_AVAILABLE_DAYS} days from available_from"),
                ));
            }
        }
        if p.origin.is_none() && errors.is_empty() {
            if p.radius_miles.is_some() {
                errors.push(FieldError::new(
                    "radius_miles",
                    "needs a postcode or lat and lon to measure from",
                ));
            }
            if p.sort == Sort::Distance {
                errors.push(FieldError::new(
                    "sort",
                    "sorting by distance needs a postcode or lat and lon",
                ));
            }
        }
        if errors.is_empty() { Ok(p) } else { Err(Invalid(errors)) }
    }

    /// The days to find a free place on, read against `today` in England: from a day alone means
    /// from that day on; to a day alone means from today to that day.
    pub fn available(&self, today: NaiveDate) -> Result<Option<Available>, FieldError> {
        match (self.available_from, self.available_to) {
            (None, None) => Ok(None),
            (Some(from), to) => Ok(Some(Available { from, to })),
            (None, Some(to)) => {
                if to < today {
                    return Err(FieldError::new("available_to", "must not be before today"));
                }
                if (to - today).num_days() >= MAX_AVAILABLE_DAYS {
                    return Err(FieldError::new(
                        "available_to",
                        format!("must make a range of at most {MAX_AVAILABLE_DAYS} days from today"),
                    ));
                }
                Ok(Some(Available {
                    from: today,
                    to: Some(to),
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<SearchParams, Invalid> {
        let pairs: Vec<(String, String)> = q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        SearchParams::parse(&pairs, &Taxonomy::builtin().unwrap())
    }

    fn field(q: &[(&str, &str)]) -> String {
        parse(q).unwrap_err().0[0].field.clone()
    }

    #[test]
    fn a_full_search_parses() {
        let p = parse(&[
            ("q", "respite"),
            ("outcome", "pfa-friends-community"),
            ("outcome", "ecm-be-healthy"),
            ("postcode", "sw19 2hr"),
            ("radius_miles", "5"),
            ("age", "12"),
            ("stream", "social_care"),
            ("max_price", "50.00"),
            ("day", "Saturday"),
            ("sort", "distance"),
            ("page", "2"),
            ("per_page", "10"),
            ("service_type", ""),
        ])
        .unwrap();
        assert_eq!(p.outcomes.len(), 2);
        assert_eq!(p.max_price.unwrap().to_string(), "50.00");
        assert_eq!(p.day, Some(Day::Saturday));
        assert!(matches!(p.origin, Some(Origin::Postcode(ref pc)) if pc.outcode == "SW19"));
    }

    #[test]
    fn every_bad_parameter_is_named() {
        assert_eq!(field(&[("outcome", "nope")]), "outcome");
        assert_eq!(field(&[("outcome", "st-salt")]), "outcome");
        assert_eq!(field(&[("postcode", "XX")]), "postcode");
        assert_eq!(field(&[("lat", "north")]), "lat");
        assert_eq!(field(&[("lat", "51.4")]), "lon");
        assert_eq!(field(&[("lat", "91"), ("lon", "0")]), "lat");
        assert_eq!(field(&[("postcode", "SW19"), ("radius_miles", "-1")]), "radius_miles");
        assert_eq!(field(&[("radius_miles", "5")]), "radius_miles");
        assert_eq!(field(&[("sort", "distance")]), "sort");
        assert_eq!(field(&[("sort", "cheapest")]), "sort");
        assert_eq!(field(&[("age", "30")]), "age");
        assert_eq!(field(&[("stream", "lottery")]), "stream");
        assert_eq!(field(&[("max_price", "1.005")]), "max_price");
        assert_eq!(field(&[("day", "someday")]), "day");
        assert_eq!(field(&[("per_page", "1000")]), "per_page");
        assert_eq!(field(&[("page", "0")]), "page");
        assert_eq!(field(&[("colour", "blue")]), "colour");
        assert_eq!(field(&[("q", &"x".repeat(300))]), "q");
        assert_eq!(field(&[("available_from", "next week")]), "available_from");
        assert_eq!(field(&[("available_from", "2027-02-30")]), "available_from");
        assert_eq!(field(&[("available_to", "09/01/2027")]), "available_to");
        assert_eq!(
            field(&[("available_from", "2027-02-01"), ("available_to", "2027-01-31")]),
            "available_to"
        );
        assert_eq!(
            field(&[("available_from", "2027-01-01"), ("available_to", "2028-01-02")]),
            "available_to"
        );
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn availability_is_a_range_of_days_either_end_optional() {
        let today = day(2026, 12, 2);
        let p = parse(&[("available_from", "2027-01-09"), ("available_to", "2027-01-09")]).unwrap();
        assert_eq!(
            p.available(today),
            Ok(Some(Available {
                from: day(2027, 1, 9),
                to: Some(day(2027, 1, 9))
            }))
        );
        // A whole year (366 days counted inclusively) is the most.
        assert!(parse(&[("available_from", "2027-01-01"), ("available_to", "2028-01-01")]).is_ok());
        let from = parse(&[("available_from", "2027-01-09")]).unwrap();
        assert_eq!(
            from.available(today),
            Ok(Some(Available {
                from: day(2027, 1, 9),
                to: None
            }))
        );
        let to = parse(&[("available_to", "2027-01-09")]).unwrap();
        assert_eq!(
            to.available(today),
            Ok(Some(Available {
                from: today,
                to: Some(day(2027, 1, 9))
            }))
        );
        let past = parse(&[("available_to", "2026-11-30")]).unwrap();
        assert_eq!(past.available(today).unwrap_err().field, "available_to");
        let far = parse(&[("available_to", "2028-06-01")]).unwrap();
        assert_eq!(far.available(today).unwrap_err().field, "available_to");
        assert_eq!(parse(&[]).unwrap().available(today), Ok(None));
    }
}
