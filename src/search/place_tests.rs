//! The place clause against brute force, on a real index: the cell terms only narrow the
//! candidates, so a search must find exactly the services a haversine test over all of them finds.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::{SearchError, SearchIndex, SearchRequest, Source};
use crate::domain::ServiceId;
use crate::domain::cells;
use crate::domain::geo::Coordinates;
use crate::domain::service::Listing;
use crate::domain::taxonomy::Taxonomy;

/// Services held in memory, as the database would give them to a rebuild.
struct InMemory(HashMap<ServiceId, Listing>);

impl Source for InMemory {
    fn changes_after(&self, _: i64, _: i64) -> Result<Vec<(i64, ServiceId, chrono::NaiveDateTime)>, SearchError> {
        Ok(Vec::new())
    }
    fn last_change_before(&self, _: chrono::NaiveDateTime) -> Result<i64, SearchError> {
        Ok(0)
    }
    fn count_published(&self) -> Result<i64, SearchError> {
        Ok(self.0.len() as i64)
    }
    fn published_places_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(ServiceId, Option<Coordinates>)>, SearchError> {
        let mut out: Vec<_> = self
            .0
            .values()
            .filter(|s| s.id.0 > after)
            .map(|s| (s.id, s.at))
            .collect();
        out.sort_by_key(|(id, _)| *id);
        out.truncate(limit as usize);
        Ok(out)
    }
    fn listings(&self, ids: &[ServiceId]) -> Result<Vec<Listing>, SearchError> {
        Ok(ids.iter().filter_map(|id| self.0.get(id).cloned()).collect())
    }
}

fn listing(id: i64, at: Coordinates, reach_miles: Option<f64>) -> Listing {
    Listing {
        id: ServiceId(id),
        organisation_id: 1,
        suspended_by: Vec::new(),
        organisation_name: "Test".into(),
        name: format!("Service {id}"),
        description: "A short break.".into(),
        outcomes: Vec::new(),
        service_types: Vec::new(),
        needs: Vec::new(),
        streams: Vec::new(),
        days: Vec::new(),
        at: Some(at),
        postcode: None,
        reach_miles,
        min_age: 0,
        max_age: 25,
        ages_stated: true,
        price_from: None,
        updated_at: chrono::NaiveDateTime::default(),
        open_days: Vec::new(),
    }
}

const RADII: [f64; 6] = [0.4, 1.0, 3.0, 10.0, 25.0, 60.0];

/// Around every awkward place: services just inside and just outside each radius on many
/// bearings, on the cell edges at every level, and services further off whose reach brings them in.
fn services() -> Vec<Listing> {
    let mut out = Vec::new();
    let mut add = |at: Coordinates, reach: Option<f64>| {
        let id = out.len() as i64 + 1;
        out.push(listing(id, at, reach));
    };
    for origin in cells::awkward_places() {
        for miles in RADII {
            for step in 0..24 {
                let bearing = f64::from(step) * 15.0 + 7.5;
                for fraction in [0.999, 1.001] {
                    add(origin.towards(bearing, miles * fraction), None);
                }
            }
            // A service 1.5 times the radius off that travels just far enough, and one not quite.
            add(origin.towards(40.0, miles * 1.5), Some(miles * 1.5 * 1.001));
            add(origin.towards(220.0, miles * 1.5), Some(miles * 1.5 * 0.999));
        }
        // On the edges of the cells round the origin, at every level.
        for level in 0..cells::LEVELS {
            let step = 0.025 * f64::from(1u32 << level);
            let lat = ((origin.lat + 90.0) / step).round() * step - 90.0;
            let lon = ((origin.lon + 180.0) / step).round() * step - 180.0;
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) {
                add(Coordinates { lat, lon }, None);
            }
        }
        // Far away, travelling across half the country.
        add(origin.towards(300.0, 180.0), Some(200.0));
    }
    out
}

#[test]
fn a_place_search_finds_exactly_the_services_a_haversine_test_over_all_of_them_finds() {
    let dir = tempfile::tempdir().unwrap();
    let taxonomy = Arc::new(Taxonomy::builtin().unwrap());
    let index = SearchIndex::open(dir.path(), taxonomy).unwrap();
    let all = services();
    let source = InMemory(all.iter().map(|s| (s.id, s.clone())).collect());
    assert_eq!(index.rebuild(&source, false).unwrap(), all.len());

    let mut checked = 0;
    for origin in cells::awkward_places() {
        for radius in RADII {
            let expected: BTreeSet<i64> = all
                .iter()
                .filter(|s| {
                    let miles = s.at.map_or(f64::INFINITY, |at| origin.miles_to(at));
                    miles <= radius || s.reach_miles.is_some_and(|reach| miles <= reach)
                })
                .map(|s| s.id.0)
                .collect();
            let found = index
                .search(&SearchRequest {
                    origin: Some(origin),
                    radius_miles: Some(radius),
                    limit: all.len(),
                    ..SearchRequest::default()
                })
                .unwrap();
            let got: BTreeSet<i64> = found.results.iter().map(|h| h.service_id).collect();
            assert_eq!(found.total, got.len(), "every hit is on the one page");
            let missed: Vec<_> = expected.difference(&got).collect();
            let extra: Vec<_> = got.difference(&expected).collect();
            assert!(
                missed.is_empty() && extra.is_empty(),
                "{radius} miles of {origin:?}: missed {missed:?}, wrongly found {extra:?}"
            );
            // Just inside on 24 bearings, and the reaching service: never nothing.
            assert!(expected.len() >= 25, "{radius} miles of {origin:?}");
            checked += expected.len();
        }
    }
    assert!(checked > 10_000, "{checked}");
}
