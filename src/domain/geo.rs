//! Places: UK postcodes, postcode-district centroids shipped with the product, and exact distances.

use std::collections::HashMap;

use geo::{Destination, Distance, Haversine, Point};
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

    /// The point `miles` away on a great circle, `bearing` degrees clockwise from north.
    pub fn towards(self, bearing: f64, miles: f64) -> Coordinates {
        let p = Haversine.destination(Point::new(self.lon, self.lat), bearing, miles * METRES_PER_MILE);
        Coordinates { lat: p.y(), lon: p.x() }
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

/// Where the search page's map gets its tiles: a `{z}/{x}/{y}` URL template (`{s}` for a
/// subdomain) and the attribution its licence asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapTiles {
    pub url: String,
    pub attribution: String,
}

impl MapTiles {
    pub const OPENSTREETMAP: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
    pub const OPENSTREETMAP_ATTRIBUTION: &str = "© OpenStreetMap contributors";

    pub fn openstreetmap() -> MapTiles {
        MapTiles {
            url: Self::OPENSTREETMAP.into(),
            attribution: Self::OPENSTREETMAP_ATTRIBUTION.into(),
        }
    }

    /// A tile server as configured: an http(s) URL with `{z}`, `{x}` and `{y}`, and an attribution.
    pub fn new(url: &str, attribution: &str) -> Result<MapTiles, String> {
        let url = url.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or("the map tile URL must start with https:// (or http://)")?;
        if !["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p)) {
            return Err("the map tile URL must contain {z}, {x} and {y}".into());
        }
        if !url.chars().all(|c| c.is_ascii_graphic()) || url.contains(['\'', '"', ';', ',']) {
            return Err("the map tile URL must be a plain URL without spaces, quotes, commas or semicolons".into());
        }
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() || (host.contains(['{', '}']) && !host.starts_with("{s}.")) {
            return Err("the map tile URL's host may hold only {s}, as its first part".into());
        }
        let attribution = attribution.trim();
        if attribution.is_empty() {
            return Err("the map tiles need their attribution (the licence asks for it)".into());
        }
        Ok(MapTiles {
            url: url.to_string(),
            attribution: attribution.to_string(),
        })
    }

    /// The origin the tiles come from, as a Content-Security-Policy source: `{s}.` is any subdomain.
    pub fn origin(&self) -> String {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("https", &self.url));
        let host = rest.split('/').next().unwrap_or_default().replace("{s}", "*");
        format!("{scheme}://{host}")
    }
}

/// Miles east and north of `centre` (equirectangular: true enough across a county).
pub fn offset_miles(centre: Coordinates, at: Coordinates) -> (f64, f64) {
    let miles_per_degree = 6_371_008.8_f64.to_radians() / METRES_PER_MILE;
    let east = (at.lon - centre.lon) * centre.lat.to_radians().cos() * miles_per_degree;
    let north = (at.lat - centre.lat) * miles_per_degree;
    (east, north)
}

/// A part of the UK (or a Crown Dependency) with its own support for children with SEND, rather
/// than England's Local Offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nation {
    Scotland,
    Wales,
    NorthernIreland,
    IsleOfMan,
    Jersey,
    Guernsey,
}

impl Nation {
    pub fn name(self) -> &'static str {
        match self {
            Nation::Scotland => "Scotland",
            Nation::Wales => "Wales",
            Nation::NorthernIreland => "Northern Ireland",
            Nation::IsleOfMan => "the Isle of Man",
            Nation::Jersey => "Jersey",
            Nation::Guernsey => "Guernsey",
        }
    }

    /// Where a family there finds its support instead.
    pub fn where_to_go(self) -> &'static str {
        match self {
            Nation::Scotland => {
                "ask your local council about additional support for learning, or Enquire, Scotland's advice service (enquire.org.uk)"
            }
            Nation::Wales => "ask your local council in Wales about additional learning needs (ALN) support",
            Nation::NorthernIreland => {
                "ask the Education Authority about special educational needs support (eani.org.uk)"
            }
            Nation::IsleOfMan | Nation::Jersey | Nation::Guernsey => {
                "ask the island's government about support for children with SEND"
            }
        }
    }

    /// What a search centred there says: where the place is and what to do.
    pub fn message(self, place: &str) -> String {
        format!(
            "This service covers England's Local Offer; {place} is in {}. Search with a postcode in England, or {}.",
            self.name(),
            self.where_to_go()
        )
    }
}

/// Scottish postcode areas that lie wholly in Scotland (TD's Berwick districts are English).
const SCOTTISH_AREAS: &[&str] = &[
    "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "ZE",
];
/// Welsh postcode areas that lie wholly in Wales.
const WELSH_AREAS: &[&str] = &["CF", "LL", "SA"];

/// The nation a postcode district lies wholly in, when that is not England. A district that
/// straddles the border (SY10, CH4, NP16, TD12, HR3...) is searched as England's: some of it is.
pub fn nation_outside_england(outcode: &str) -> Option<Nation> {
    let outcode = outcode.trim().to_uppercase();
    let area: String = outcode.chars().take_while(char::is_ascii_alphabetic).collect();
    let district: u32 = outcode[area.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    let area = area.as_str();
    match area {
        "BT" => Some(Nation::NorthernIreland),
        "IM" => Some(Nation::IsleOfMan),
        "JE" => Some(Nation::Jersey),
        "GY" => Some(Nation::Guernsey),
        "TD" if !matches!(district, 12 | 15) => Some(Nation::Scotland),
        _ if SCOTTISH_AREAS.contains(&area) => Some(Nation::Scotland),
        _ if WELSH_AREAS.contains(&area) => Some(Nation::Wales),
        // Llandrindod Wells to Llanwrtyd; Knighton and Presteigne reach into England.
        "LD" if district <= 6 => Some(Nation::Wales),
        // Newport and the valleys; Chepstow's and Monmouth's districts reach into Gloucestershire.
        "NP" if !matches!(district, 16 | 25) => Some(Nation::Wales),
        // Mid Wales: Montgomery to Tregaron (SY1 to SY14 are Shropshire and the border).
        "SY" if (15..=25).contains(&district) => Some(Nation::Wales),
        // Flintshire: Deeside to Holywell.
        "CH" if (5..=8).contains(&district) => Some(Nation::Wales),
        _ => None,
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
    fn map_tiles_are_checked_and_give_their_origin() {
        let osm = MapTiles::openstreetmap();
        assert_eq!(osm.origin(), "https://tile.openstreetmap.org");
        let sub = MapTiles::new("https://{s}.tiles.example/{z}/{x}/{y}.png", "© Example").unwrap();
        assert_eq!(sub.origin(), "https://*.tiles.example");
        let local = MapTiles::new("http://127.0.0.1:9000/t/{z}/{x}/{y}.png", "Test tiles").unwrap();
        assert_eq!(local.origin(), "http://127.0.0.1:9000");
        for bad in [
            "ftp://tiles.example/{z}/{x}/{y}.png",
            "https://tiles.example/{z}/{x}.png",
            "https://tiles.example/{z}/{x}/{y}.png; script-src *",
            "https://{z}.example/{x}/{y}.png",
        ] {
            assert!(MapTiles::new(bad, "x").is_err(), "{bad}");
        }
        assert!(MapTiles::new(MapTiles::OPENSTREETMAP, " ").is_err());
    }

    #[test]
    fn offsets_point_the_true_way() {
        let wimbledon = Coordinates {
            lat: 51.4214,
            lon: -0.2064,
        };
        let morden = Coordinates {
            lat: 51.4015,
            lon: -0.1949,
        };
        let (east, north) = offset_miles(wimbledon, morden);
        assert!(
            east > 0.0 && north < 0.0,
            "Morden is south-east of Wimbledon: {east} {north}"
        );
        assert!(((east * east + north * north).sqrt() - wimbledon.miles_to(morden)).abs() < 0.01);
    }

    #[test]
    fn districts_outside_england_name_their_nation() {
        for (outcode, nation) in [
            ("EH1", Some(Nation::Scotland)),
            ("G2", Some(Nation::Scotland)),
            ("AB10", Some(Nation::Scotland)),
            ("DD1", Some(Nation::Scotland)),
            ("KY16", Some(Nation::Scotland)),
            ("IV2", Some(Nation::Scotland)),
            ("PH1", Some(Nation::Scotland)),
            ("TD9", Some(Nation::Scotland)),
            ("TD15", None),
            ("CF10", Some(Nation::Wales)),
            ("SA1", Some(Nation::Wales)),
            ("LL11", Some(Nation::Wales)),
            ("NP20", Some(Nation::Wales)),
            ("NP16", None),
            ("LD1", Some(Nation::Wales)),
            ("LD8", None),
            ("SY23", Some(Nation::Wales)),
            ("SY1", None),
            ("CH7", Some(Nation::Wales)),
            ("CH1", None),
            ("BT1", Some(Nation::NorthernIreland)),
            ("bt48", Some(Nation::NorthernIreland)),
            ("IM1", Some(Nation::IsleOfMan)),
            ("JE2", Some(Nation::Jersey)),
            ("GY1", Some(Nation::Guernsey)),
            ("SW19", None),
            ("GL1", None),
            ("GU1", None),
            ("EC1A", None),
            ("DH1", None),
            ("KT1", None),
            ("PE1", None),
        ] {
            assert_eq!(nation_outside_england(outcode), nation, "{outcode}");
        }
        let said = Nation::Scotland.message("EH1 1AA");
        assert!(
            said.starts_with("This service covers England's Local Offer; EH1 1AA is in Scotland."),
            "{said}"
        );
        assert!(
            Nation::NorthernIreland
                .message("BT1 1AA")
                .contains("Education Authority")
        );
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
