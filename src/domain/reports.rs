//! Council reports as pure functions over plain facts: market gaps per outcome and area, and how
//! budgets are being spent. No names ever enter these types, and small areas are suppressed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use super::geo::Coordinates;
use super::{Management, Pence};

/// Areas with fewer budget holders than this are merged or suppressed (configurable per call).
pub const DEFAULT_MIN_HOLDERS: usize = 5;
/// A sensible travel distance from a family's postcode district to a service.
pub const SUPPLY_MILES: f64 = 5.0;
pub const COUNCIL_WIDE: &str = "ALL";
pub const MERGED: &str = "OTHER";

pub struct HolderFacts {
    pub district: String,
    pub at: Option<Coordinates>,
    /// The plan's outcome terms with their ancestors.
    pub outcomes: BTreeSet<String>,
    pub remaining: Pence,
}

pub struct ServiceFacts {
    pub id: i64,
    pub at: Coordinates,
    pub reach_miles: f64,
    pub capacity: i64,
    pub price_from: Option<Pence>,
    /// Outcome terms with their ancestors.
    pub outcomes: BTreeSet<String>,
}

pub struct UnmetSearch {
    pub district: Option<String>,
    pub outcomes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GapRow {
    pub outcome: String,
    pub area: String,
    pub suppressed: bool,
    pub demand_holders: Option<u64>,
    pub demand_money: Option<Pence>,
    pub supply_services: u64,
    pub supply_places: i64,
    pub median_price: Option<Pence>,
    pub min_price: Option<Pence>,
    pub unmet_searches: u64,
    pub gap_score: f64,
    /// The cheapest nearby service costs more than the median remaining budget here.
    pub unaffordable: bool,
}

/// A spatial grid so each district only measures the services near it.
struct Grid<'a> {
    cells: HashMap<(i32, i32), Vec<&'a ServiceFacts>>,
}

const CELL_DEGREES: f64 = 0.1;

fn cell(at: Coordinates) -> (i32, i32) {
    (
        (at.lat / CELL_DEGREES).floor() as i32,
        (at.lon / CELL_DEGREES).floor() as i32,
    )
}

impl<'a> Grid<'a> {
    fn new(services: &'a [ServiceFacts]) -> Grid<'a> {
        let mut cells: HashMap<(i32, i32), Vec<&ServiceFacts>> = HashMap::new();
        for s in services {
            cells.entry(cell(s.at)).or_default().push(s);
        }
        Grid { cells }
    }

    /// Services within `miles` of `at`, or whose own reach covers `at`.
    fn near(&self, at: Coordinates, miles: f64, max_reach: f64) -> Vec<&'a ServiceFacts> {
        let reach = miles.max(max_reach);
        let bbox = at.bounding_box(reach);
        let (lo, hi) = (
            cell(Coordinates {
                lat: bbox.min_lat,
                lon: bbox.min_lon,
            }),
            cell(Coordinates {
                lat: bbox.max_lat,
                lon: bbox.max_lon,
            }),
        );
        let mut out = Vec::new();
        for la in lo.0..=hi.0 {
            for lo_ in lo.1..=hi.1 {
                for s in self.cells.get(&(la, lo_)).into_iter().flatten() {
                    let d = at.miles_to(s.at);
                    if d <= miles || d <= s.reach_miles {
                        out.push(*s);
                    }
                }
            }
        }
        out
    }
}

fn median(mut v: Vec<Pence>) -> Option<Pence> {
    if v.is_empty() {
        return None;
    }
    v.sort();
    Some(v[(v.len() - 1) / 2])
}

/// More demand and unmet searches against less supply rank higher; no demand and no unmet search
/// is no gap at all.
pub fn gap_score(demand_holders: u64, unmet_searches: u64, supply_services: u64, supply_places: i64) -> f64 {
    let need = demand_holders as f64 + 0.5 * unmet_searches as f64;
    let supply = supply_services as f64 + (supply_places.max(0) as f64) / 10.0;
    (need / (1.0 + supply) * 100.0).round() / 100.0
}

/// Demand and supply for one outcome in one area (or pooled across areas).
struct Cell {
    holders: u64,
    money: i64,
    remaining: Vec<Pence>,
    /// Indices into the services slice; deduplicated before use.
    services: Vec<u32>,
    unmet: u64,
}

impl Cell {
    fn new() -> Cell {
        Cell {
            holders: 0,
            money: 0,
            remaining: Vec::new(),
            services: Vec::new(),
            unmet: 0,
        }
    }

    fn absorb(&mut self, other: &Cell) {
        self.holders += other.holders;
        self.money += other.money;
        self.remaining.extend(other.remaining.iter().copied());
        self.unmet += other.unmet;
    }
}

/// A union of service indices across areas, cheap however many areas share a service.
struct Union {
    seen: Vec<bool>,
    members: Vec<u32>,
}

impl Union {
    fn new(size: usize) -> Union {
        Union {
            seen: vec![false; size],
            members: Vec::new(),
        }
    }

    fn add(&mut self, items: &[u32]) {
        for &i in items {
            if let Some(seen) = self.seen.get_mut(i as usize)
                && !*seen
            {
                *seen = true;
                self.members.push(i);
            }
        }
    }
}

/// The gap report. `min_holders` suppresses small areas: their figures are withheld and pooled
/// into an "OTHER" area per outcome (itself withheld if still small).
pub fn gaps(
    holders: &[HolderFacts],
    services: &[ServiceFacts],
    unmet: &[UnmetSearch],
    min_holders: usize,
) -> Vec<GapRow> {
    let grid = Grid::new(services);
    let index: HashMap<i64, u32> = services.iter().enumerate().map(|(i, s)| (s.id, i as u32)).collect();
    let max_reach = services.iter().map(|s| s.reach_miles).fold(0.0, f64::max);
    // Supply is measured from each district where families live (its centre, when families are
    // placed from the district table).
    let mut district_at: BTreeMap<&str, Coordinates> = BTreeMap::new();
    for h in holders {
        if let Some(at) = h.at {
            district_at.entry(h.district.as_str()).or_insert(at);
        }
    }
    // For each district, the nearby services per outcome they meet: built once, looked up per cell.
    let near: HashMap<&str, HashMap<&str, Vec<u32>>> = district_at
        .iter()
        .map(|(d, at)| {
            let mut by_outcome: HashMap<&str, Vec<u32>> = HashMap::new();
            for s in grid.near(*at, SUPPLY_MILES, max_reach) {
                let i = index.get(&s.id).copied().unwrap_or(0);
                for o in &s.outcomes {
                    by_outcome.entry(o.as_str()).or_default().push(i);
                }
            }
            (*d, by_outcome)
        })
        .collect();
    let supply = |district: &str, outcome: &str| -> Vec<u32> {
        near.get(district)
            .and_then(|m| m.get(outcome))
            .cloned()
            .unwrap_or_default()
    };
    let mut cells: BTreeMap<(&str, &str), Cell> = BTreeMap::new();
    for h in holders {
        for outcome in &h.outcomes {
            let c = cells
                .entry((outcome.as_str(), h.district.as_str()))
                .or_insert_with(Cell::new);
            c.holders += 1;
            c.money += h.remaining.pence();
            c.remaining.push(h.remaining);
        }
    }
    for u in unmet {
        let Some(district) = &u.district else { continue };
        if !district_at.contains_key(district.as_str()) {
            continue; // a search from outside this council's area
        }
        for outcome in &u.outcomes {
            cells
                .entry((outcome.as_str(), district.as_str()))
                .or_insert_with(Cell::new)
                .unmet += 1;
        }
    }
    for ((outcome, district), c) in cells.iter_mut() {
        c.services = supply(district, outcome);
    }
    let row = |outcome: &str, area: &str, c: &Cell, ids: &[u32], suppressed: bool| {
        let picked: Vec<&ServiceFacts> = ids.iter().filter_map(|&i| services.get(i as usize)).collect();
        let prices: Vec<Pence> = picked.iter().filter_map(|s| s.price_from).collect();
        let places: i64 = picked.iter().map(|s| s.capacity).sum();
        let min_price = prices.iter().min().copied();
        let median_remaining = median(c.remaining.clone());
        let count = picked.len() as u64;
        GapRow {
            outcome: outcome.to_string(),
            area: area.to_string(),
            suppressed,
            demand_holders: (!suppressed).then_some(c.holders),
            demand_money: (!suppressed).then_some(Pence::from_stored(c.money)),
            supply_services: count,
            supply_places: places,
            median_price: median(prices),
            min_price,
            unmet_searches: c.unmet,
            gap_score: if suppressed {
                0.0
            } else {
                gap_score(c.holders, c.unmet, count, places)
            },
            unaffordable: !suppressed && matches!((min_price, median_remaining), (Some(p), Some(m)) if p > m),
        }
    };
    let mut rows = Vec::new();
    let mut pooled: BTreeMap<&str, (Cell, Union)> = BTreeMap::new();
    let mut council: BTreeMap<&str, (Cell, Union)> = BTreeMap::new();
    for ((outcome, district), c) in &cells {
        let (total, union) = council
            .entry(outcome)
            .or_insert_with(|| (Cell::new(), Union::new(services.len())));
        total.absorb(c);
        union.add(&c.services);
        if (c.holders as usize) < min_holders && c.holders > 0 {
            let (p, union) = pooled
                .entry(outcome)
                .or_insert_with(|| (Cell::new(), Union::new(services.len())));
            p.absorb(c);
            union.add(&c.services);
        } else {
            rows.push(row(outcome, district, c, &c.services, false));
        }
    }
    for (outcome, (p, union)) in &pooled {
        rows.push(row(
            outcome,
            MERGED,
            p,
            &union.members,
            (p.holders as usize) < min_holders,
        ));
    }
    for (outcome, (t, union)) in &council {
        rows.push(row(
            outcome,
            COUNCIL_WIDE,
            t,
            &union.members,
            (t.holders as usize) < min_holders && t.holders > 0,
        ));
    }
    rows.retain(|r| r.suppressed || r.demand_holders.unwrap_or(0) > 0 || r.unmet_searches > 0);
    rows.sort_by(|a, b| {
        b.gap_score
            .total_cmp(&a.gap_score)
            .then_with(|| a.outcome.cmp(&b.outcome))
            .then_with(|| a.area.cmp(&b.area))
    });
    rows
}

/// One allocation's spending, for monitoring.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpendingRow {
    pub budget_holder_id: i64,
    pub reference: String,
    pub allocation_id: i64,
    pub stream: String,
    pub management: Management,
    pub allocated: Pence,
    pub committed: Pence,
    pub delivered: Pence,
    pub remaining: Pence,
    /// Share of the plan period elapsed, 0 to 1 (two decimal places).
    pub elapsed: f64,
    pub flags: Vec<&'static str>,
}

pub struct AllocationFacts {
    pub budget_holder_id: i64,
    pub reference: String,
    pub allocation_id: i64,
    pub stream: String,
    pub management: Management,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
    pub amount: Pence,
    pub committed: Pence,
    pub delivered: Pence,
}

/// Flags councils act on: a budget that looks unused (under a quarter committed at least halfway
/// through), one due its six-week review, and a direct payment holding more than six weeks' worth
/// of money beyond what the rest of the plan needs (the claw-back test).
pub fn spending(a: &AllocationFacts, today: NaiveDate) -> SpendingRow {
    // Whole days and whole pence only: money never goes through a float (rule 1).
    let total_days = i128::from((a.plan_end - a.plan_start).num_days().max(1));
    let done_days = i128::from((today - a.plan_start).num_days()).clamp(0, total_days);
    let (amount, committed) = (i128::from(a.amount.pence()), i128::from(a.committed.pence()));
    let remaining = a.amount.saturating_sub(a.committed);
    let mut flags = Vec::new();
    if 2 * done_days >= total_days && 4 * committed < amount {
        flags.push("underused");
    }
    let since_start = (today - a.plan_start).num_days();
    if (35..=49).contains(&since_start) {
        flags.push("six_week_review_due");
    }
    // Surplus = remaining - amount x (days left / total days); six weeks' worth = amount x 42 / total days.
    if a.management == Management::DirectPayment
        && i128::from(remaining.pence()) * total_days - amount * (total_days - done_days) > 42 * amount
    {
        flags.push("direct_payment_surplus");
    }
    let elapsed = done_days as f64 / total_days as f64;
    SpendingRow {
        budget_holder_id: a.budget_holder_id,
        reference: a.reference.clone(),
        allocation_id: a.allocation_id,
        stream: a.stream.clone(),
        management: a.management,
        allocated: a.amount,
        committed: a.committed,
        delivered: a.delivered,
        remaining,
        elapsed: (elapsed * 100.0).round() / 100.0,
        flags,
    }
}

/// A calendar quarter such as "2026-Q4".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quarter {
    pub year: i32,
    pub q: u32,
}

impl Quarter {
    pub fn parse(s: &str) -> Option<Quarter> {
        let (year, q) = s.trim().split_once("-Q")?;
        let (year, q): (i32, u32) = (year.parse().ok()?, q.parse().ok()?);
        ((2000..=2100).contains(&year) && (1..=4).contains(&q)).then_some(Quarter { year, q })
    }

    pub fn containing(day: NaiveDate) -> Quarter {
        use chrono::Datelike;
        Quarter {
            year: day.year(),
            q: (day.month() - 1) / 3 + 1,
        }
    }

    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.q - 1) * 3 + 1, 1).unwrap_or_default()
    }

    /// The first day after the quarter.
    pub fn end(self) -> NaiveDate {
        if self.q == 4 {
            Quarter {
                year: self.year + 1,
                q: 1,
            }
            .start()
        } else {
            Quarter {
                year: self.year,
                q: self.q + 1,
            }
            .start()
        }
    }

    pub fn label(self) -> String {
        format!("{}-Q{}", self.year, self.q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> Option<Coordinates> {
        Some(Coordinates { lat, lon })
    }

    fn holder(district: &str, lat: f64, outcomes: &[&str], remaining: i64) -> HolderFacts {
        HolderFacts {
            district: district.into(),
            at: at(lat, -0.2),
            outcomes: outcomes.iter().map(|s| s.to_string()).collect(),
            remaining: Pence::from_stored(remaining),
        }
    }

    fn service(id: i64, lat: f64, outcomes: &[&str], price: i64) -> ServiceFacts {
        ServiceFacts {
            id,
            at: Coordinates { lat, lon: -0.2 },
            reach_miles: 0.0,
            capacity: 10,
            price_from: Some(Pence::from_stored(price)),
            outcomes: outcomes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_planted_gap_tops_the_list_and_a_served_outcome_is_not_a_gap() {
        let mut holders = Vec::new();
        for _ in 0..6 {
            holders.push(holder("SW19", 51.42, &["friends", "health"], 100_000));
        }
        let services = vec![
            service(1, 51.43, &["health"], 2000),
            service(2, 51.43, &["health"], 3000),
            service(3, 51.43, &["health"], 4000),
        ];
        let rows = gaps(&holders, &services, &[], 5);
        let top = &rows[0];
        assert_eq!((top.outcome.as_str(), top.supply_services), ("friends", 0));
        assert_eq!(top.demand_holders, Some(6));
        assert_eq!(top.demand_money, Some(Pence::from_stored(600_000)));
        let health = rows.iter().find(|r| r.outcome == "health" && r.area == "SW19").unwrap();
        assert_eq!(health.supply_services, 3);
        assert_eq!(health.median_price, Some(Pence::from_stored(3000)));
        assert!(health.gap_score < top.gap_score);
    }

    #[test]
    fn small_areas_are_pooled_and_withheld() {
        let mut holders = vec![
            holder("CR4", 51.40, &["friends"], 100),
            holder("CR4", 51.40, &["friends"], 100),
        ];
        for _ in 0..5 {
            holders.push(holder("SW19", 51.42, &["friends"], 100));
        }
        let rows = gaps(&holders, &[], &[], 5);
        assert!(
            rows.iter().all(|r| r.area != "CR4"),
            "a two-family district never appears"
        );
        let other = rows.iter().find(|r| r.area == MERGED).unwrap();
        assert!(other.suppressed && other.demand_holders.is_none() && other.demand_money.is_none());
        let all = rows.iter().find(|r| r.area == COUNCIL_WIDE).unwrap();
        assert_eq!(all.demand_holders, Some(7));
    }

    #[test]
    fn unmet_searches_and_unaffordable_outcomes_count() {
        let holders: Vec<_> = (0..5).map(|_| holder("SW19", 51.42, &["travel"], 1000)).collect();
        let services = vec![service(1, 51.42, &["travel"], 5000)];
        let unmet = vec![UnmetSearch {
            district: Some("SW19".into()),
            outcomes: vec!["travel".into()],
        }];
        let rows = gaps(&holders, &services, &unmet, 5);
        let r = rows.iter().find(|r| r.area == "SW19").unwrap();
        assert_eq!(r.unmet_searches, 1);
        assert!(r.unaffordable, "50.00 is more than the 10.00 families have left");
    }

    #[test]
    fn spending_flags() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let a = AllocationFacts {
            budget_holder_id: 1,
            reference: "R".into(),
            allocation_id: 1,
            stream: "social_care".into(),
            management: Management::DirectPayment,
            plan_start: d("2026-01-01"),
            plan_end: d("2026-12-31"),
            amount: Pence::from_stored(520_000),
            committed: Pence::from_stored(10_000),
            delivered: Pence::ZERO,
        };
        let mid = spending(&a, d("2026-07-15"));
        assert!(
            mid.flags.contains(&"underused") && mid.flags.contains(&"direct_payment_surplus"),
            "{:?}",
            mid.flags
        );
        let early = spending(&a, d("2026-02-12"));
        assert!(early.flags.contains(&"six_week_review_due"));
        assert!(!early.flags.contains(&"underused"));
        let busy = spending(
            &AllocationFacts {
                committed: Pence::from_stored(400_000),
                ..a
            },
            d("2026-07-15"),
        );
        assert!(busy.flags.is_empty(), "{:?}", busy.flags);
    }

    #[test]
    fn quarters() {
        let q = Quarter::parse("2026-Q4").unwrap();
        assert_eq!(
            (q.start().to_string(), q.end().to_string()),
            ("2026-10-01".into(), "2027-01-01".into())
        );
        assert_eq!(Quarter::containing("2026-05-09".parse().unwrap()).label(), "2026-Q2");
        assert!(Quarter::parse("2026-Q5").is_none() && Quarter::parse("nonsense").is_none());
    }
}
