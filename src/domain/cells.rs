//! Grid cells that stand for places in the search index. A service is filed under the cell holding
//! it at every level (and, when it travels, under the cells covering its reach); a search looks up
//! the few cells covering its circle at the finest level that needs few of them. The cells only
//! narrow the candidates: the exact haversine test decides.
//!
//! Cells are equal steps of latitude and longitude, doubling in size from level to level. The
//! covering ranges are exact on the sphere (a circle's widest longitude is `asin(sin d / cos lat)`,
//! a circle holding a pole spans every longitude, a range crossing 180 degrees wraps), so no point
//! within the distance can lie in a cell that is not looked up.

use super::geo::Coordinates;

/// How many sizes of cell there are: 0.025 degrees (under 2 miles) to 3.2 degrees (about 220 miles).
pub const LEVELS: u32 = 8;
const FINEST_DEGREES: f64 = 0.025;
/// A search looks up at most this many cells; a service's reach is filed under at most this many.
pub const MAX_CELLS: usize = 24;
/// The mean Earth radius in miles, as [`Coordinates::miles_to`] measures.
const EARTH_RADIUS_MILES: f64 = 6_371_008.8 / super::geo::METRES_PER_MILE;

/// A cell at one level, as the index spells it: the level, row and column packed in a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell(pub u64);

/// The term every service whose reach no few cells can cover is filed under: every search looks it up.
pub const EVERYWHERE: Cell = Cell(u64::MAX);

fn degrees(level: u32) -> f64 {
    FINEST_DEGREES * f64::from(1u32 << level)
}

fn rows(level: u32) -> u64 {
    (180.0 / degrees(level)).ceil() as u64
}

fn cols(level: u32) -> u64 {
    (360.0 / degrees(level)).ceil() as u64
}

fn row_of(lat: f64, level: u32) -> u64 {
    (((lat + 90.0) / degrees(level)).floor().max(0.0) as u64).min(rows(level) - 1)
}

fn col_of(lon: f64, level: u32) -> u64 {
    (((lon + 180.0) / degrees(level)).floor().max(0.0) as u64).min(cols(level) - 1)
}

fn pack(level: u32, row: u64, col: u64) -> Cell {
    Cell((u64::from(level) << 56) | (row << 28) | col)
}

/// The cell holding `at` at `level`.
pub fn cell_of(at: Coordinates, level: u32) -> Cell {
    pack(level, row_of(at.lat, level), col_of(at.lon, level))
}

/// The cells holding `at`, one per level.
pub fn cells_of(at: Coordinates) -> impl Iterator<Item = Cell> {
    (0..LEVELS).map(move |level| cell_of(at, level))
}

/// Where a circle lies: its latitude range and one or two longitude ranges (two when it crosses
/// 180 degrees), in degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct Extent {
    pub lat: (f64, f64),
    pub lon: Vec<(f64, f64)>,
}

/// The latitude and longitude ranges holding every point within `miles` of `at`.
pub fn extent(at: Coordinates, miles: f64) -> Extent {
    // A hair wider than the circle, so rounding never puts a point just inside it out of range.
    let d = (miles.max(0.0) / EARTH_RADIUS_MILES) * (1.0 + 1e-6) + 1e-9;
    let lat = at.lat.to_radians();
    let (lo, hi) = (lat - d, lat + d);
    let whole = vec![(-180.0, 180.0)];
    if lo <= -std::f64::consts::FRAC_PI_2 || hi >= std::f64::consts::FRAC_PI_2 {
        // The circle holds a pole: every longitude.
        return Extent {
            lat: (lo.to_degrees().max(-90.0), hi.to_degrees().min(90.0)),
            lon: whole,
        };
    }
    let lat_range = (lo.to_degrees(), hi.to_degrees());
    let ratio = d.sin() / lat.cos();
    if ratio >= 1.0 {
        return Extent {
            lat: lat_range,
            lon: whole,
        };
    }
    let dlon = ratio.asin().to_degrees();
    let (west, east) = (at.lon - dlon, at.lon + dlon);
    let lon = if west < -180.0 {
        vec![(west + 360.0, 180.0), (-180.0, east)]
    } else if east > 180.0 {
        vec![(west, 180.0), (-180.0, east - 360.0)]
    } else {
        vec![(west, east)]
    };
    Extent { lat: lat_range, lon }
}

fn cells_at(extent: &Extent, level: u32) -> (u64, Vec<(u64, u64)>) {
    let rows = row_of(extent.lat.1, level) - row_of(extent.lat.0, level) + 1;
    let cols = extent
        .lon
        .iter()
        .map(|(w, e)| (col_of(*w, level), col_of(*e, level)))
        .collect();
    (rows, cols)
}

/// The cells covering every point within `miles` of `at`, at the finest level needing no more
/// than `max` of them; `None` when even the coarsest needs more (a search then tests every service).
pub fn cover(at: Coordinates, miles: f64, max: usize) -> Option<Vec<Cell>> {
    let extent = extent(at, miles);
    for level in 0..LEVELS {
        let (rows, cols) = cells_at(&extent, level);
        let count = rows * cols.iter().map(|(w, e)| e - w + 1).sum::<u64>();
        if count as usize <= max {
            let first_row = row_of(extent.lat.0, level);
            let mut out = Vec::with_capacity(count as usize);
            for row in first_row..first_row + rows {
                for (w, e) in &cols {
                    out.extend((*w..=*e).map(|col| pack(level, row, col)));
                }
            }
            return Some(out);
        }
    }
    None
}

/// Where a service is filed for the searches its reach brings it into: the cells covering its reach.
pub fn reach_cells(at: Coordinates, reach_miles: f64) -> Vec<Cell> {
    cover(at, reach_miles, MAX_CELLS).unwrap_or_else(|| vec![EVERYWHERE])
}

/// A sort key that keeps near places near each other (Morton order of the finest cells): services
/// indexed in this order sit together, so a search reads a few runs of the index, not all of it.
pub fn order_key(at: Option<Coordinates>) -> u64 {
    let Some(at) = at else { return u64::MAX };
    let spread = |mut v: u64| {
        // Interleave the low 32 bits with zeros.
        v &= 0xffff_ffff;
        v = (v | (v << 16)) & 0x0000_ffff_0000_ffff;
        v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    };
    (spread(row_of(at.lat, 0)) << 1) | spread(col_of(at.lon, 0))
}

/// Places a cell cover is easily wrong about (cell edges at every level, the poles, 180 degrees)
/// and some random ones, for tests here and of the index.
#[cfg(test)]
pub(crate) fn awkward_places() -> Vec<Coordinates> {
    let mut out = vec![
        Coordinates { lat: 51.42, lon: -0.21 },
        // On cell edges at every level (multiples of 3.2 degrees from -90 and -180).
        Coordinates {
            lat: -90.0 + 3.2 * 44.0,
            lon: -180.0 + 3.2 * 56.0,
        },
        Coordinates { lat: 51.4, lon: 0.0 },
        Coordinates { lat: 89.99, lon: 10.0 },
        Coordinates { lat: 89.7, lon: -120.0 },
        Coordinates {
            lat: -89.95,
            lon: 179.9,
        },
        Coordinates { lat: 0.0, lon: 179.999 },
        Coordinates { lat: 10.0, lon: -180.0 },
        Coordinates { lat: 90.0, lon: 0.0 },
    ];
    let mut seed = 7u64;
    for _ in 0..40 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let lat = ((seed >> 11) as f64 / (1u64 << 53) as f64) * 180.0 - 90.0;
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let lon = ((seed >> 11) as f64 / (1u64 << 53) as f64) * 360.0 - 180.0;
        out.push(Coordinates { lat, lon });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cover_holds_every_point_inside_the_circle() {
        for origin in awkward_places() {
            for miles in [0.3, 1.0, 5.0, 10.0, 14.0, 37.0, 100.0] {
                let Some(cover) = cover(origin, miles, MAX_CELLS) else {
                    continue;
                };
                assert!(cover.len() <= MAX_CELLS);
                for step in 0..720 {
                    let bearing = f64::from(step) / 2.0;
                    for fraction in [1.0, 0.999_999, 0.75, 0.5, 0.1, 0.0] {
                        let p = origin.towards(bearing, miles * fraction);
                        if origin.miles_to(p) > miles {
                            continue;
                        }
                        let level = (cover[0].0 >> 56) as u32;
                        assert!(
                            cover.contains(&cell_of(p, level)),
                            "{p:?} is {} miles from {origin:?} (radius {miles}) but outside the cover",
                            origin.miles_to(p)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_reach_is_found_from_every_point_it_reaches() {
        for service in awkward_places() {
            for reach in [2.0, 14.0, 100.0] {
                let filed = reach_cells(service, reach);
                for step in 0..360 {
                    for fraction in [1.0, 0.5, 0.0] {
                        let family = service.towards(f64::from(step), reach * fraction);
                        if service.miles_to(family) > reach {
                            continue;
                        }
                        let found = filed.contains(&EVERYWHERE) || cells_of(family).any(|c| filed.contains(&c));
                        assert!(found, "{family:?} is within {reach} miles of {service:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_circle_round_a_pole_spans_every_longitude_and_one_over_180_degrees_wraps() {
        let near_pole = extent(Coordinates { lat: 89.99, lon: 10.0 }, 5.0);
        assert_eq!(near_pole.lon, vec![(-180.0, 180.0)]);
        assert_eq!(near_pole.lat.1, 90.0);
        let dateline = extent(Coordinates { lat: 0.0, lon: 179.99 }, 10.0);
        assert_eq!(dateline.lon.len(), 2);
        assert!(dateline.lon[1].0 == -180.0 && dateline.lon[1].1 > -180.0);
    }

    #[test]
    fn small_circles_take_few_fine_cells() {
        let wimbledon = Coordinates { lat: 51.42, lon: -0.21 };
        let five = cover(wimbledon, 5.0, MAX_CELLS).unwrap_or_default();
        assert!(!five.is_empty() && five.len() <= MAX_CELLS);
        assert!((five[0].0 >> 56) <= 2, "5 miles uses cells of 0.1 degrees or finer");
        assert!(cover(Coordinates { lat: 89.99, lon: 0.0 }, 100.0, MAX_CELLS).is_none());
    }

    #[test]
    fn near_places_sort_near() {
        let a = order_key(Some(Coordinates { lat: 51.42, lon: -0.21 }));
        let b = order_key(Some(Coordinates {
            lat: 51.421,
            lon: -0.211,
        }));
        let far = order_key(Some(Coordinates { lat: 54.9, lon: -1.6 }));
        assert!(a.abs_diff(b) < a.abs_diff(far));
        assert_eq!(order_key(None), u64::MAX);
    }
}
