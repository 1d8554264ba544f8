//! Places: UK postcodes, postcode-district centroids shipped with the product, and exact distances.

use std::collections::HashMap;

use geo::{Distance, Haversine, Point};
use serde::Serialize;

use super::validate::{self, FieldError};

pub const METRES_PER_MILE: f64 = 1609.344;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coordinates {
    pub lat: f64,
    pub lon: f64,
}

impl Coordinates {
    pub fn new(field_prefix: &str, lat: f64, lon: f64) -> Result<Coordinates, FieldError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(FieldError::new(
                format!("{field_prefix}lat"),
                "must be a latitude from -90 to 90",
            ));
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(FieldError::new(
                format!("{field_prefix}lon"),
                "must be a longitude from -180 to 180",
            ));
        }
        Ok(Coordinates { lat, lon })
    }

    /// Great-circle distance in miles (haversine on the mean Earth radius).
    pub fn miles_to(self, other: Coordinates) -> f64 {
        Haversine.distance(Point::new(self.lon, self.lat), Point::new(other.lon, other.lat)) / METRES_PER_MILE
    }

    /// A latitude/longitude box that contains every point within `miles` (a cheap pre-filter; the
    /// exact test is [`Coordinates::miles_to`]).
    pub fn bounding_box(self, miles: f64) -> BoundingBox {
        // One degree of latitude is at least 68.7 miles anywhere; pad by 1% for safety.
        let dlat = miles / 68.7 * 1.01;
        let cos = self.lat.to_radians().cos().max(0.01);
        let dlon = (miles / (69.172 * cos)) * 1.01;
        BoundingBox {
            min_lat: self.lat - dlat,
            max_lat: self.lat + dlat,
            min_lon: (self.lon - dlon).max(-180.0),
            max_lon: (self.lon + dlon).min(180.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

/// A UK postcode as a family or provider types it: a full postcode ("SW19 2HR") or just its
/// district ("SW19").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postcode {
    /// The normalised full postcode, when one was given.
    pub full: Option<String>,
    /// The outward code (postcode district), always present.
    pub outcode: String,
}

impl Postcode {
    pub fn parse(field: &str, value: &str) -> Result<Postcode, FieldError> {
        if let Ok(full) = validate::postcode(field, value) {
            let outcode = full.split(' ').next().unwrap_or_default().to_string();
            return Ok(Postcode {
                full: Some(full),
                outcode,
            });
        }
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        // An outward code alone: the full pattern with any valid inward code appended must match.
        if (2..=4).contains(&compact.len()) && validate::postcode(field, &format!("{compact}1AA")).is_ok() {
            return Ok(Postcode {
                full: None,
                outcode: compact,
            });
        }
        Err(FieldError::new(
            field,
            "must be a UK postcode such as SW19 2HR, or a postcode district such as SW19",
        ))
    }
}

/// Postcode-district centroids (Ordnance Survey Code-Point Open, OGL v3: see outcodes.LICENCE.txt),
/// built by scripts/build-outcodes.py.
#[derive(Debug, Clone)]
pub struct OutcodeTable {
    centroids: HashMap<String, Coordinates>,
}

const OUTCODES_CSV: &str = include_str!("outcodes.csv");

#[derive(Debug, thiserror::Error)]
#[error("outcode table line {line}: {problem}")]
pub struct OutcodeTableError {
    pub line: usize,
    pub problem: String,
}

impl OutcodeTable {
    pub fn builtin() -> Result<OutcodeTable, OutcodeTableError> {
        OutcodeTable::parse(OUTCODES_CSV)
    }

    pub fn parse(csv: &str) -> Result<OutcodeTable, OutcodeTableError> {
        let mut centroids = HashMap::new();
        for (i, line) in csv.lines().enumerate().skip(1) {
            let bad = |problem: &str| OutcodeTableError {
                line: i + 1,
                problem: problem.to_string(),
            };
            let mut cols = line.split(',');
            let (Some(outcode), Some(lat), Some(lon)) = (cols.next(), cols.next(), cols.next()) else {
                return Err(bad("expected outcode,lat,lon"));
            };
            let lat: f64 = lat.parse().map_err(|_| bad("latitude is not a number"))?;
            let lon: f64 = lon.parse().map_err(|_| bad("longitude is not a number"))?;
            let at = Coordinates::new("", lat, lon).map_err(|e| bad(&e.message))?;
            centroids.insert(outcode.to_string(), at);
        }
        Ok(OutcodeTable { centroids })
    }

    pub fn centroid(&self, outcode: &str) -> Option<Coordinates> {
        self.centroids.get(outcode).copied()
    }

    pub fn len(&self) -> usize {
        self.centroids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.centroids.is_empty()
    }

    /// The district whose centroid is nearest (to log a searched place without the exact point).
    pub fn nearest(&self, at: Coordinates) -> Option<&str> {
        self.centroids
            .iter()
            .map(|(k, c)| {
                (
                    k,
                    (c.lat - at.lat).powi(2) + ((c.lon - at.lon) * at.lat.to_radians().cos()).powi(2),
                )
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k.as_str())
    }

    /// Every district with its centroid (the benchmark spreads services over them).
    pub fn iter(&self) -> impl Iterator<Item = (&str, Coordinates)> {
        self.centroids.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_haversine_miles() {
        let wimbledon = Coordinates {
            lat: 51.4214,
            lon: -0.2064,
        };
        let mitcham = Coordinates {
            lat: 51.4030,
            lon: -0.1680,
        };
        let d = wimbledon.miles_to(mitcham);
        assert!((d - 2.06).abs() < 0.05, "{d}");
        assert_eq!(wimbledon.miles_to(wimbledon), 0.0);
        // London to Edinburgh is about 330 miles.
        let edinburgh = Coordinates {
            lat: 55.9533,
            lon: -3.1883,
        };
        let london = Coordinates {
            lat: 51.5074,
            lon: -0.1278,
        };
        assert!((london.miles_to(edinburgh) - 331.0).abs() < 3.0);
    }

    #[test]
    fn bounding_boxes_contain_the_circle() {
        let centre = Coordinates { lat: 54.0, lon: -2.0 };
        let bbox = centre.bounding_box(10.0);
        for bearing in 0..360 {
            let b = (bearing as f64).to_radians();
            // Walk out just under 10 miles in each direction and check the point is inside.
            let (mut lo, mut hi) = (0.0, 1.0);
            for _ in 0..50 {
                let mid = (lo + hi) / 2.0;
                let p = Coordinates {
                    lat: centre.lat + mid * b.cos(),
                    lon: centre.lon + mid * b.sin(),
                };
                if centre.miles_to(p) < 9.999 { lo = mid } else { hi = mid }
            }
            let p = Coordinates {
                lat: centre.lat + lo * b.cos(),
                lon: centre.lon + lo * b.sin(),
            };
            assert!(
                p.lat >= bbox.min_lat && p.lat <= bbox.max_lat && p.lon >= bbox.min_lon && p.lon <= bbox.max_lon,
                "{bearing}"
            );
        }
    }

    #[test]
    fn postcodes_and_districts_parse() {
        assert_eq!(
            Postcode::parse("p", "sw19 2hr").unwrap(),
            Postcode {
                full: Some("SW19 2HR".into()),
                outcode: "SW19".into()
            }
        );
        assert_eq!(
            Postcode::parse("p", "sw19").unwrap(),
            Postcode {
                full: None,
                outcode: "SW19".into()
            }
        );
        assert_eq!(Postcode::parse("p", "EC1A").unwrap().outcode, "EC1A");
        assert_eq!(Postcode::parse("p", "M1").unwrap().outcode, "M1");
        for bad in ["", "SW", "12", "ZZZZZ", "SW19 2", "hello"] {
            assert_eq!(Postcode::parse("postcode", bad).unwrap_err().field, "postcode", "{bad}");
        }
    }

    #[test]
    fn the_shipped_outcode_table_covers_great_britain() {
        let t = OutcodeTable::builtin().unwrap();
        assert!(t.len() > 2800);
        let sw19 = t.centroid("SW19").unwrap();
        assert!((sw19.lat - 51.42).abs() < 0.02 && (sw19.lon + 0.20).abs() < 0.02);
        let eh1 = t.centroid("EH1").unwrap();
        assert!((eh1.lat - 55.95).abs() < 0.02);
        assert!(t.centroid("BT1").is_none(), "Code-Point Open has no Northern Ireland");
    }
}
