//! How long personal data is kept: the search log (for the council's sufficiency cycle) and a
//! budget holder's plan after it ends, and when a record may be erased.

use chrono::{Months, NaiveDate, NaiveDateTime};

use super::RuleError;

/// The periods a deployment keeps data for (`serve`, `purge` and `erase` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Search log rows older than this many years are folded into monthly counts.
    pub search_log_years: u32,
    /// A plan may be erased this many years after it ends.
    pub plan_years: u32,
}

impl Retention {
    /// Two years: the council's sufficiency cycle.
    pub const SEARCH_LOG_YEARS: u32 = 2;
    /// Six years after the plan ends: the usual retention for a child's case records once the plan
    /// has run its course.
    pub const PLAN_YEARS: u32 = 6;
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            search_log_years: Retention::SEARCH_LOG_YEARS,
            plan_years: Retention::PLAN_YEARS,
        }
    }
}

fn years_after(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_add_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MAX)
}

impl Retention {
    /// The first day a plan ending on `plan_end` may be erased.
    pub fn erasable_from(&self, plan_end: NaiveDate) -> NaiveDate {
        years_after(plan_end, self.plan_years)
    }

    /// Whether a budget holder may be erased today: once, and only after its retention period.
    pub fn check_erasable(&self, plan_end: NaiveDate, already_erased: bool, today: NaiveDate) -> Result<(), RuleError> {
        if already_erased {
            return Err(RuleError::conflict(
                "already_erased",
                "this budget holder's record has already been erased",
                None,
            ));
        }
        let from = self.erasable_from(plan_end);
        if today < from {
            return Err(RuleError::conflict(
                "retention_not_over",
                format!(
                    "the plan ended on {plan_end}; its record is kept for {} years and may be erased from {from}",
                    self.plan_years
                ),
                None,
            ));
        }
        Ok(())
    }

    /// Search log rows before this moment are past retention.
    pub fn search_log_cutoff(&self, now: NaiveDateTime) -> NaiveDateTime {
        now.checked_sub_months(Months::new(self.search_log_years.saturating_mul(12)))
            .unwrap_or(NaiveDateTime::MIN)
    }
}

/// The month a moment falls in, as the aggregate keeps it: `2024-03`.
pub fn month_of(at: NaiveDateTime) -> String {
    at.format("%Y-%m").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn code(r: Result<(), RuleError>) -> Option<&'static str> {
        match r {
            Err(RuleError::Conflict { code, .. }) => Some(code),
            _ => None,
        }
    }

    #[test]
    fn a_plan_may_be_erased_six_years_after_it_ends_and_not_a_day_before() {
        let r = Retention::default();
        assert_eq!(r.erasable_from(day("2020-03-31")), day("2026-03-31"));
        assert_eq!(
            code(r.check_erasable(day("2020-03-31"), false, day("2026-03-30"))),
            Some("retention_not_over")
        );
        assert!(r.check_erasable(day("2020-03-31"), false, day("2026-03-31")).is_ok());
    }

    #[test]
    fn an_erased_record_cannot_be_erased_again() {
        let r = Retention::default();
        assert_eq!(
            code(r.check_erasable(day("2000-01-01"), true, day("2026-01-01"))),
            Some("already_erased")
        );
    }

    #[test]
    fn a_leap_day_end_moves_to_the_end_of_february() {
        let r = Retention {
            plan_years: 1,
            ..Retention::default()
        };
        assert_eq!(r.erasable_from(day("2024-02-29")), day("2025-02-28"));
    }

    #[test]
    fn the_search_log_is_kept_two_years_by_default() {
        let now = day("2026-12-04").and_hms_opt(10, 0, 0).unwrap();
        assert_eq!(
            Retention::default().search_log_cutoff(now),
            day("2024-12-04").and_hms_opt(10, 0, 0).unwrap()
        );
        assert_eq!(month_of(now), "2026-12");
    }
}
