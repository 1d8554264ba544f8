//! Changing a plan after it is recorded: its details, an allocation's amount (always a ledger
//! entry with a reason, never below what bookings already hold), a new allocation, its broker.

use chrono::NaiveDate;
use serde::Deserialize;

use super::budget::{AllocationInput, ValidAllocation, age_on};
use super::validate::{self, Checker, FieldError, Invalid};
use super::{Management, Pence, RuleError, SignedPence, Stream};

/// The plan's own details, as a council officer corrects or renews them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanDetailsInput {
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    pub postcode: String,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPlanDetails {
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    pub postcode: String,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
}

impl PlanDetailsInput {
    pub fn validate(&self, today: NaiveDate) -> Result<ValidPlanDetails, Invalid> {
        let mut c = Checker::new();
        let details = self.check(&mut c, today);
        c.finish(|| ())?;
        details.ok_or_else(|| FieldError::new("budget_holder", "is incomplete").into())
    }

    /// The checks a plan's details pass, whether the plan is new or changed; problems go to `c`.
    pub fn check(&self, c: &mut Checker, today: NaiveDate) -> Option<ValidPlanDetails> {
        let reference = c.take(validate::text("reference", &self.reference, 1, 50));
        let first_name = c.take(validate::text("first_name", &self.first_name, 1, 100));
        if self.date_of_birth > today {
            c.add("date_of_birth", "must not be in the future");
        } else if age_on(self.date_of_birth, self.plan_start.max(today)) > validate::MAX_AGE {
            c.add("date_of_birth", "an EHC plan covers ages 0 to 25");
        }
        let postcode = c.take(validate::postcode("postcode", &self.postcode));
        if self.plan_end <= self.plan_start {
            c.add("plan_end", "must be after plan_start");
        } else if (self.plan_end - self.plan_start).num_days() > 3 * 366 {
            c.add("plan_end", "a plan period must be at most three years");
        }
        if self.plan_start < self.date_of_birth {
            c.add("plan_start", "must not be before date_of_birth");
        }
        Some(ValidPlanDetails {
            reference: reference?,
            first_name: first_name?,
            date_of_birth: self.date_of_birth,
            postcode: postcode?,
            plan_start: self.plan_start,
            plan_end: self.plan_end,
        })
    }
}

/// A new amount for an allocation, and why.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    pub amount: Pence,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAdjustment {
    pub amount: Pence,
    pub reason: String,
}

impl AdjustmentInput {
    pub fn validate(&self) -> Result<ValidAdjustment, Invalid> {
        let reason = validate::text("reason", &self.reason, 1, 500).map_err(Invalid::from)?;
        Ok(ValidAdjustment {
            amount: self.amount,
            reason,
        })
    }
}

/// What an allocation's change does to its books: the signed ledger movement and the balance
/// after it. Refused when the new amount is below what bookings and the admin fee already hold.
pub fn adjust(current: Pence, committed: Pence, new_amount: Pence) -> Result<(SignedPence, Pence), RuleError> {
    if new_amount < committed {
        return Err(RuleError::conflict(
            "below_committed",
            format!("must be at least £{committed}, the amount already committed to bookings or spent"),
            Some("amount"),
        ));
    }
    if new_amount == current {
        return Err(Invalid::one("amount", format!("is already £{current}: enter the new amount")).into());
    }
    let movement = SignedPence::from_stored(new_amount.pence() - current.pence());
    Ok((movement, new_amount.saturating_sub(committed)))
}

/// The ledger's words for a change: old and new amounts and the officer's reason.
pub fn adjustment_description(current: Pence, new_amount: Pence, reason: &str) -> String {
    let verb = if new_amount > current { "increased" } else { "reduced" };
    format!("Allocation {verb} from £{current} to £{new_amount}: {reason}")
}

impl AllocationInput {
    /// A further allocation for a plan that already has `existing` streams.
    pub fn validate_new(&self, existing: &[Stream]) -> Result<ValidAllocation, Invalid> {
        let mut c = Checker::new();
        if existing.contains(&self.stream) {
            c.add("stream", "this plan already has an allocation for this funding stream");
        }
        let admin_fee = self.admin_fee.unwrap_or(Pence::ZERO);
        if admin_fee > Pence::ZERO && self.management != Management::ThirdParty {
            c.add("admin_fee", "only a third-party arrangement carries an admin fee");
        } else if admin_fee > self.amount {
            c.add("admin_fee", "must not exceed the amount");
        }
        if self.payment_schedule.is_some() && self.management != Management::DirectPayment {
            c.add("payment_schedule", "only a direct payment is paid in on a schedule");
        }
        c.finish(|| ValidAllocation {
            stream: self.stream,
            management: self.management,
            amount: self.amount,
            admin_fee,
            payment_schedule: self.payment_schedule.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pence {
        s.parse().unwrap()
    }

    #[test]
    fn an_allocation_never_drops_below_what_is_committed() {
        let refused = adjust(p("1000"), p("400"), p("399.99")).unwrap_err();
        assert!(
            matches!(refused, RuleError::Conflict { code: "below_committed", field: Some(ref f), .. } if f == "amount")
        );
        assert_eq!(
            adjust(p("1000"), p("400"), p("400")).unwrap(),
            (SignedPence::from_stored(-60000), Pence::ZERO)
        );
        assert_eq!(
            adjust(p("1000"), p("400"), p("1500")).unwrap(),
            (SignedPence::from_stored(50000), p("1100"))
        );
        assert!(matches!(
            adjust(p("1000"), p("0"), p("1000")),
            Err(RuleError::Invalid(_))
        ));
        assert_eq!(
            adjustment_description(p("1000"), p("1500"), "annual review"),
            "Allocation increased from £1000.00 to £1500.00: annual review"
        );
    }

    #[test]
    fn a_change_needs_a_reason_and_a_new_stream() {
        let no_reason = AdjustmentInput {
            amount: p("10"),
            reason: "  ".into(),
        };
        assert_eq!(no_reason.validate().unwrap_err().0[0].field, "reason");
        let input = AllocationInput {
            stream: Stream::Health,
            management: Management::Organised,
            amount: p("500"),
            admin_fee: Some(p("10")),
            payment_schedule: None,
        };
        let problems = input.validate_new(&[Stream::Health]).unwrap_err().0;
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["stream", "admin_fee"]);
        let fine = AllocationInput {
            admin_fee: None,
            ..input
        };
        assert_eq!(fine.validate_new(&[Stream::Education]).unwrap().admin_fee, Pence::ZERO);
    }

    #[test]
    fn plan_details_report_every_problem() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let input = PlanDetailsInput {
            reference: String::new(),
            first_name: "Sam".into(),
            date_of_birth: d("2014-05-01"),
            postcode: "nowhere".into(),
            plan_start: d("2026-09-01"),
            plan_end: d("2026-01-01"),
        };
        let problems = input.validate(d("2026-12-01")).unwrap_err().0;
        let fields: Vec<_> = problems.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["reference", "postcode", "plan_end"]);
    }
}
