//! Exact money. Stored and moved as integer pence; shown and parsed as decimal strings ("45.00").

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money in pence. Never negative when it comes from a user; ledger movements use
/// [`SignedPence`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pence(i64);

/// A signed movement of money, e.g. one ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SignedPence(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be an amount such as \"45.00\"")]
    Malformed,
    #[error("must not be negative")]
    Negative,
    #[error("must have at most two decimal places")]
    TooPrecise,
    #[error("must be at most 1000000000.00")]
    TooLarge,
}

impl Pence {
    pub const ZERO: Pence = Pence(0);
    /// £1bn: far above any plausible allocation or price; keeps every product and sum inside i64.
    pub const MAX: Pence = Pence(100_000_000_000);

    pub fn new(pence: i64) -> Option<Pence> {
        (0..=Self::MAX.0).contains(&pence).then_some(Pence(pence))
    }

    /// For values read back from our own database, where the CHECK constraints already hold.
    pub const fn from_stored(pence: i64) -> Pence {
        Pence(pence)
    }

    pub fn pence(self) -> i64 {
        self.0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Round a decimal amount of pounds up to the next whole penny (prices recover full cost).
    pub fn from_decimal_ceil(pounds: Decimal) -> Result<Pence, MoneyError> {
        if pounds.is_sign_negative() && !pounds.is_zero() {
            return Err(MoneyError::Negative);
        }
        let pence = (pounds * Decimal::ONE_HUNDRED).ceil();
        let pence = pence.to_i64().ok_or(MoneyError::TooLarge)?;
        Pence::new(pence).ok_or(MoneyError::TooLarge)
    }

    pub fn checked_add(self, other: Pence) -> Option<Pence> {
        self.0.checked_add(other.0).and_then(Pence::new)
    }

    pub fn checked_sub(self, other: Pence) -> Option<Pence> {
        self.0.checked_sub(other.0).and_then(Pence::new)
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Pence> {
        self.0.checked_mul(quantity).and_then(Pence::new)
    }

    pub fn saturating_sub(self, other: Pence) -> Pence {
        Pence((self.0 - other.0).max(0))
    }

    pub fn credit(self) -> SignedPence {
        SignedPence(self.0)
    }

    pub fn debit(self) -> SignedPence {
        SignedPence(-self.0)
    }
}

impl SignedPence {
    pub fn from_stored(pence: i64) -> SignedPence {
        SignedPence(pence)
    }

    pub fn pence(self) -> i64 {
        self.0
    }
}

impl FromStr for Pence {
    type Err = MoneyError;

    /// Accepts "45", "45.5" and "45.00"; refuses signs, exponents, separators and a third decimal.
    fn from_str(s: &str) -> Result<Pence, MoneyError> {
        if let Some(rest) = s.strip_prefix('-') {
            return match rest.parse::<Pence>() {
                Ok(p) if p == Pence::ZERO => Ok(Pence::ZERO),
                Ok(_) | Err(MoneyError::TooPrecise) | Err(MoneyError::TooLarge) => Err(MoneyError::Negative),
                Err(e) => Err(e),
            };
        }
        let (whole, fraction) = match s.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (s, None),
        };
        let digits_only = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !digits_only(whole) || fraction.is_some_and(|f| !digits_only(f)) {
            return Err(MoneyError::Malformed);
        }
        let fraction = fraction.unwrap_or("");
        if fraction.trim_end_matches('0').len() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > 10 {
            return Err(MoneyError::TooLarge);
        }
        let pounds: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| MoneyError::TooLarge)?
        };
        let mut cents = 0i64;
        for (i, b) in fraction.bytes().take(2).enumerate() {
            cents += i64::from(b - b'0') * if i == 0 { 10 } else { 1 };
        }
        pounds
            .checked_mul(100)
            .and_then(|p| p.checked_add(cents))
            .and_then(Pence::new)
            .ok_or(MoneyError::TooLarge)
    }
}

impl fmt::Display for Pence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl fmt::Display for SignedPence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Pence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for SignedPence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Pence {
    /// Money arrives as a string only: a JSON number would already have been through a float.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pence, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Pence;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a string such as \"45.00\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Pence, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Pence, MoneyError> {
        s.parse()
    }

    #[test]
    fn parses_exact_amounts() {
        assert_eq!(p("45.00").unwrap().pence(), 4500);
        assert_eq!(p("45").unwrap().pence(), 4500);
        assert_eq!(p("45.5").unwrap().pence(), 4550);
        assert_eq!(p("0.01").unwrap().pence(), 1);
        assert_eq!(p("007.10").unwrap().pence(), 710);
        assert_eq!(p("1.230").unwrap().pence(), 123, "trailing zeros are still exact");
        assert_eq!(p("1000000000.00").unwrap(), Pence::MAX);
    }

    #[test]
    fn refuses_inexact_or_odd_amounts() {
        assert_eq!(p("1.005"), Err(MoneyError::TooPrecise));
        assert_eq!(p("-1.00"), Err(MoneyError::Negative));
        assert_eq!(p("-0.001"), Err(MoneyError::Negative));
        assert_eq!(p("-0.00"), Ok(Pence::ZERO));
        for bad in [
            "", ".", "1.", ".5", "1e3", "1,000", " 1", "1_000", "£5", "NaN", "+1", "1.2.3",
        ] {
            assert_eq!(p(bad), Err(MoneyError::Malformed), "{bad:?}");
        }
        assert_eq!(p("1000000000.01"), Err(MoneyError::TooLarge));
        assert_eq!(p("99999999999999999999999"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn displays_two_places() {
        assert_eq!(Pence(4500).to_string(), "45.00");
        assert_eq!(Pence(7).to_string(), "0.07");
        assert_eq!(Pence(4500).debit().to_string(), "-45.00");
        assert_eq!(SignedPence(-5).to_string(), "-0.05");
        assert_eq!(serde_json::to_string(&Pence(123456)).unwrap(), "\"1234.56\"");
    }

    #[test]
    fn json_numbers_are_refused() {
        assert!(serde_json::from_str::<Pence>("45.0").is_err());
        assert!(serde_json::from_str::<Pence>("45").is_err());
        assert_eq!(serde_json::from_str::<Pence>("\"45.10\"").unwrap().pence(), 4510);
    }

    #[test]
    fn arithmetic_stays_in_bounds() {
        assert_eq!(Pence(100).checked_sub(Pence(101)), None);
        assert_eq!(Pence::MAX.checked_add(Pence(1)), None);
        assert_eq!(Pence(4500).checked_mul(6), Some(Pence(27000)));
        assert_eq!(Pence(4500).checked_mul(i64::MAX), None);
        assert_eq!(Pence::from_decimal_ceil(Decimal::new(191176, 4)).unwrap().pence(), 1912);
    }
}
