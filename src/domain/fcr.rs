//! Full cost recovery: a unit price that covers direct costs and a fair share of overheads over the
//! units a provider actually expects to sell, not the units it could deliver.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::money::{MoneyError, Pence};

/// Expected occupancy as a fraction in (0, 1], held in basis points (0.85 = 8500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy(u16);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FcrError {
    #[error("must be a fraction greater than 0 and at most 1, as a string such as \"0.85\"")]
    Occupancy,
    #[error("must be a whole number from 1 to 1000000")]
    UnitsPerYear,
    #[error("costs must add up to more than zero")]
    NoCosts,
    #[error("the full cost per unit is too large: {0}")]
    TooLarge(MoneyError),
}

impl Occupancy {
    pub const FULL: Occupancy = Occupancy(10_000);

    pub fn from_basis_points(bp: i32) -> Option<Occupancy> {
        u16::try_from(bp)
            .ok()
            .filter(|bp| (1..=10_000).contains(bp))
            .map(Occupancy)
    }

    pub fn basis_points(self) -> i32 {
        i32::from(self.0)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(i64::from(self.0), 4)
    }
}

impl FromStr for Occupancy {
    type Err = FcrError;
    fn from_str(s: &str) -> Result<Occupancy, FcrError> {
        if !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(FcrError::Occupancy);
        }
        let d = Decimal::from_str(s).map_err(|_| FcrError::Occupancy)?.normalize();
        if d.scale() > 4 || d <= Decimal::ZERO || d > Decimal::ONE {
            return Err(FcrError::Occupancy);
        }
        let bp = (d * Decimal::new(10_000, 0)).trunc();
        bp.to_string()
            .parse::<i32>()
            .ok()
            .and_then(Occupancy::from_basis_points)
            .ok_or(FcrError::Occupancy)
    }
}

impl fmt::Display for Occupancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal().normalize())
    }
}

impl Serialize for Occupancy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Occupancy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Occupancy, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What a provider tells the calculator.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FcrInput {
    pub annual_direct_costs: Pence,
    pub annual_overheads: Pence,
    pub units_per_year: i64,
    pub occupancy: Occupancy,
}

/// The calculator's working, kept with the price so a family and a commissioner can see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FcrBreakdown {
    pub annual_direct_costs: Pence,
    pub annual_overheads: Pence,
    pub annual_full_cost: Pence,
    pub units_per_year: i64,
    pub occupancy: Occupancy,
    /// Units expected to be sold and paid for: units_per_year x occupancy.
    pub units_sold: Decimal,
    pub direct_cost_per_unit: Pence,
    pub overheads_per_unit: Pence,
    /// Rounded up to the penny so the price never falls short of the cost.
    pub full_cost_per_unit: Pence,
}

pub const MAX_UNITS_PER_YEAR: i64 = 1_000_000;

impl FcrInput {
    pub fn calculate(&self) -> Result<FcrBreakdown, FcrError> {
        if !(1..=MAX_UNITS_PER_YEAR).contains(&self.units_per_year) {
            return Err(FcrError::UnitsPerYear);
        }
        let annual_full_cost = self
            .annual_direct_costs
            .checked_add(self.annual_overheads)
            .ok_or(FcrError::TooLarge(MoneyError::TooLarge))?;
        if annual_full_cost == Pence::ZERO {
            return Err(FcrError::NoCosts);
        }
        let units_sold = Decimal::from(self.units_per_year) * self.occupancy.to_decimal();
        let per_unit = |cost: Pence| cost.to_decimal() / units_sold;
        let nearest_penny =
            |d: Decimal| Pence::from_decimal_ceil(d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero));
        Ok(FcrBreakdown {
            annual_direct_costs: self.annual_direct_costs,
            annual_overheads: self.annual_overheads,
            annual_full_cost,
            units_per_year: self.units_per_year,
            occupancy: self.occupancy,
            units_sold: units_sold.normalize(),
            direct_cost_per_unit: nearest_penny(per_unit(self.annual_direct_costs)).map_err(FcrError::TooLarge)?,
            overheads_per_unit: nearest_penny(per_unit(self.annual_overheads)).map_err(FcrError::TooLarge)?,
            full_cost_per_unit: Pence::from_decimal_ceil(per_unit(annual_full_cost)).map_err(FcrError::TooLarge)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(direct: &str, overheads: &str, units: i64, occupancy: &str) -> FcrInput {
        FcrInput {
            annual_direct_costs: direct.parse().unwrap(),
            annual_overheads: overheads.parse().unwrap(),
            units_per_year: units,
            occupancy: occupancy.parse().unwrap(),
        }
    }

    #[test]
    fn overnight_example_rounds_up_to_the_penny() {
        let b = input("52000.00", "13000.00", 400, "0.85").calculate().unwrap();
        assert_eq!(b.annual_full_cost.to_string(), "65000.00");
        assert_eq!(b.units_sold.to_string(), "340");
        // 65000 / 340 = 191.176...: rounded up, never down.
        assert_eq!(b.full_cost_per_unit.to_string(), "191.18");
        assert_eq!(b.direct_cost_per_unit.to_string(), "152.94");
        assert_eq!(b.overheads_per_unit.to_string(), "38.24");
    }

    #[test]
    fn exact_division_is_not_rounded() {
        let b = input("1000.00", "0", 100, "1").calculate().unwrap();
        assert_eq!(b.full_cost_per_unit.to_string(), "10.00");
        let b = input("0.01", "0", 3, "1").calculate().unwrap();
        assert_eq!(
            b.full_cost_per_unit.to_string(),
            "0.01",
            "a third of a penny still costs a penny"
        );
    }

    #[test]
    fn lower_occupancy_raises_the_price() {
        let full = input("30000", "10000", 1000, "1").calculate().unwrap();
        let half = input("30000", "10000", 1000, "0.5").calculate().unwrap();
        assert_eq!(full.full_cost_per_unit.to_string(), "40.00");
        assert_eq!(half.full_cost_per_unit.to_string(), "80.00");
    }

    #[test]
    fn refuses_impossible_inputs() {
        assert_eq!(input("1", "1", 0, "1").calculate(), Err(FcrError::UnitsPerYear));
        assert_eq!(input("1", "1", 1_000_001, "1").calculate(), Err(FcrError::UnitsPerYear));
        assert_eq!(input("0", "0", 10, "1").calculate(), Err(FcrError::NoCosts));
        for bad in ["0", "1.01", "-0.5", "abc", "0.00001", "", "1e-1"] {
            assert!(bad.parse::<Occupancy>().is_err(), "{bad}");
        }
        assert_eq!("0.85".parse::<Occupancy>().unwrap().basis_points(), 8500);
        assert_eq!("1".parse::<Occupancy>().unwrap(), Occupancy::FULL);
    }
}
