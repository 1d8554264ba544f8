//! Budget holders (a child or young person with an EHC plan), their plan outcomes and their
//! Section J allocations, and the ledger rule that ties money together.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::money::{Pence, SignedPence};
use super::spending::PaymentSchedule;
use super::taxonomy::{Taxonomy, TermId, Vocabulary};
use super::validate::{self, Checker, FieldError, Invalid};
use super::{Management, OrganisationId, Stream};

pub const MAX_OUTCOMES: usize = 30;
pub const MAX_NEEDS: usize = 30;

super::text_enum!(
    /// How far a plan outcome is met (Merton: outcomes are monitored as partly or fully met).
    OutcomeStatus { NotStarted = "not_started", PartlyMet = "partly_met", FullyMet = "fully_met" }
);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetHolderInput {
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    pub postcode: String,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
    pub family: FamilyInput,
    #[serde(default)]
    pub broker_organisation_id: Option<OrganisationId>,
    pub outcomes: Vec<PlanOutcomeInput>,
    pub allocations: Vec<AllocationInput>,
    /// The child's needs, as need terms; none recorded means matches assume nothing about them.
    #[serde(default)]
    pub needs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanOutcomeInput {
    pub text: String,
    pub terms: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationInput {
    pub stream: Stream,
    pub management: Management,
    pub amount: Pence,
    #[serde(default)]
    pub admin_fee: Option<Pence>,
    /// How a direct payment is paid in; four-weekly in advance unless said.
    #[serde(default)]
    pub payment_schedule: Option<PaymentSchedule>,
}

/// The family's login on a new plan: with a password the council hands over in person, or
/// without one, when the family is invited by email to choose its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyInput {
    pub email: String,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidFamily {
    pub email: String,
    /// `None`: the family is invited to set its own.
    pub password: Option<String>,
}

impl FamilyInput {
    pub fn validate(&self, prefix: &str) -> Result<ValidFamily, Invalid> {
        let mut c = Checker::new();
        let email = c.take(validate::email(&format!("{prefix}email"), &self.email));
        let password = match self.password.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => c.take(validate::password(&format!("{prefix}password"), p)).map(Some),
            None => Some(None),
        };
        c.finish(|| ())?;
        match (email, password) {
            (Some(email), Some(password)) => Ok(ValidFamily { email, password }),
            _ => Err(Invalid::one(format!("{prefix}email"), "is required")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidLogin {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPlanOutcome {
    pub text: String,
    pub terms: Vec<TermId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAllocation {
    pub stream: Stream,
    pub management: Management,
    pub amount: Pence,
    pub admin_fee: Pence,
    pub payment_schedule: PaymentSchedule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidBudgetHolder {
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    pub postcode: String,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
    pub family: ValidFamily,
    pub broker_organisation_id: Option<OrganisationId>,
    pub outcomes: Vec<ValidPlanOutcome>,
    pub allocations: Vec<ValidAllocation>,
    pub needs: Vec<TermId>,
}

impl LoginInput {
    pub fn validate(&self, prefix: &str) -> Result<ValidLogin, Invalid> {
        let mut c = Checker::new();
        let email = c.take(validate::email(&format!("{prefix}email"), &self.email));
        let password = c.take(validate::password(&format!("{prefix}password"), &self.password));
        c.finish(|| ())?;
        match (email, password) {
            (Some(email), Some(password)) => Ok(ValidLogin { email, password }),
            _ => Err(Invalid::one(format!("{prefix}email"), "is required")),
        }
    }
}

/// Whole years of age on `day`.
pub fn age_on(date_of_birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut years = day.year() - date_of_birth.year();
    if (day.month(), day.day()) < (date_of_birth.month(), date_of_birth.day()) {
        years -= 1;
    }
    years
}

impl BudgetHolderInput {
    pub fn validate(&self, taxonomy: &Taxonomy, today: NaiveDate) -> Result<ValidBudgetHolder, Invalid> {
        let mut c = Checker::new();
        let details = super::plan_change::PlanDetailsInput {
            reference: self.reference.clone(),
            first_name: self.first_name.clone(),
            date_of_birth: self.date_of_birth,
            postcode: self.postcode.clone(),
            plan_start: self.plan_start,
            plan_end: self.plan_end,
        }
        .check(&mut c, today);
        let family = match self.family.validate("family.") {
            Ok(f) => Some(f),
            Err(Invalid(errors)) => {
                errors.into_iter().for_each(|e| c.add(e.field, e.message));
                None
            }
        };
        if self.outcomes.is_empty() {
            c.add("outcomes", "must list at least one outcome from the plan");
        } else if self.outcomes.len() > MAX_OUTCOMES {
            c.add("outcomes", format!("must list at most {MAX_OUTCOMES} outcomes"));
        }
        let mut outcomes = Vec::new();
        for (i, o) in self.outcomes.iter().enumerate() {
            let text = c.take(validate::text(&format!("outcomes[{i}].text"), &o.text, 1, 1000));
            let field = format!("outcomes[{i}].terms");
            let terms = if o.terms.is_empty() {
                c.add(&field, "must map the outcome to at least one outcome term");
                None
            } else {
                c.take(taxonomy.check(&field, &o.terms, Vocabulary::Outcome))
            };
            if let (Some(text), Some(terms)) = (text, terms) {
                outcomes.push(ValidPlanOutcome { text, terms });
            }
        }
        let mut allocations: Vec<ValidAllocation> = Vec::new();
        for (i, a) in self.allocations.iter().enumerate() {
            if allocations.iter().any(|x| x.stream == a.stream)
                || self.allocations[..i].iter().any(|x| x.stream == a.stream)
            {
                c.add(
                    format!("allocations[{i}].stream"),
                    "a plan has one allocation per funding stream",
                );
                continue;
            }
            let admin_fee = a.admin_fee.unwrap_or(Pence::ZERO);
            if admin_fee > Pence::ZERO && a.management != Management::ThirdParty {
                c.add(
                    format!("allocations[{i}].admin_fee"),
                    "only a third-party arrangement carries an admin fee",
                );
                continue;
            }
            if admin_fee > a.amount {
                c.add(format!("allocations[{i}].admin_fee"), "must not exceed the amount");
                continue;
            }
            if a.payment_schedule.is_some() && a.management != Management::DirectPayment {
                c.add(
                    format!("allocations[{i}].payment_schedule"),
                    "only a direct payment is paid in on a schedule",
                );
                continue;
            }
            allocations.push(ValidAllocation {
                stream: a.stream,
                management: a.management,
                amount: a.amount,
                admin_fee,
                payment_schedule: a.payment_schedule.unwrap_or_default(),
            });
        }
        let needs = if self.needs.len() > MAX_NEEDS {
            c.add("needs", format!("must list at most {MAX_NEEDS} needs"));
            None
        } else {
            c.take(taxonomy.check("needs", &self.needs, Vocabulary::Need))
        };
        c.finish(|| ())?;
        match (details, family) {
            (Some(d), Some(family)) => Ok(ValidBudgetHolder {
                reference: d.reference,
                first_name: d.first_name,
                date_of_birth: d.date_of_birth,
                postcode: d.postcode,
                plan_start: d.plan_start,
                plan_end: d.plan_end,
                family,
                broker_organisation_id: self.broker_organisation_id,
                outcomes,
                allocations,
                needs: needs.unwrap_or_default(),
            }),
            _ => Err(FieldError::new("budget_holder", "is incomplete").into()),
        }
    }
}

/// One allocation's figures as the books hold them, and what the records beneath them add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AllocationBooks {
    pub amount: Pence,
    pub committed: Pence,
    pub spent: Pence,
    pub admin_fee: Pence,
    /// Sum of every ledger entry's change to remaining.
    pub ledger_sum: SignedPence,
    /// Sum of every ledger entry's change to spent.
    pub ledger_spent_sum: SignedPence,
    /// What bookings hold and no approved invoice has yet spent: live quantity bookings and seats
    /// that hold money, less anything credited on an unapproved invoice.
    pub held_by_bookings: Pence,
    /// Direct-payment spending waiting for the council (in review or queried).
    pub held_by_spending: Pence,
    /// Approved and paid invoice lines, less their credit notes.
    pub spent_by_invoices: Pence,
    /// Direct-payment spending accepted.
    pub spent_by_spending: Pence,
}

/// Rule 3: amount = remaining + committed + spent, with remaining the ledger's sum and spent
/// its spent column; committed = admin fee + what bookings and waiting spending hold; spent =
/// approved invoices less credit notes + accepted spending. Rule 2: nothing is overspent.
pub fn reconcile(books: AllocationBooks) -> Vec<String> {
    let mut problems = Vec::new();
    let remaining = books.amount.pence() - books.committed.pence() - books.spent.pence();
    if remaining < 0 {
        problems.push(format!(
            "overspent: committed {} and spent {} exceed amount {}",
            books.committed, books.spent, books.amount
        ));
    }
    if books.ledger_sum.pence() != remaining {
        problems.push(format!(
            "ledger sums to {} but remaining is {}",
            books.ledger_sum,
            SignedPence::from_stored(remaining)
        ));
    }
    if books.ledger_spent_sum.pence() != books.spent.pence() {
        problems.push(format!(
            "the ledger's spending sums to {} but spent is {}",
            books.ledger_spent_sum, books.spent
        ));
    }
    let expected = books.admin_fee.pence() + books.held_by_bookings.pence() + books.held_by_spending.pence();
    if books.committed.pence() != expected {
        problems.push(format!(
            "committed is {} but the admin fee, live bookings and waiting spending add up to {}",
            books.committed,
            SignedPence::from_stored(expected)
        ));
    }
    let spent = books.spent_by_invoices.pence() + books.spent_by_spending.pence();
    if books.spent.pence() != spent {
        problems.push(format!(
            "spent is {} but approved invoices less credit notes and accepted spending add up to {}",
            books.spent,
            SignedPence::from_stored(spent)
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn sam() -> serde_json::Value {
        serde_json::json!({
            "reference": "EHC-0001", "first_name": "Sam", "date_of_birth": "2014-05-01",
            "postcode": "SW19 2HR", "plan_start": "2026-09-01", "plan_end": "2027-08-31",
            "family": {"email": "parent@example.org", "password": "correct horse battery"},
            "outcomes": [{"text": "To make friends", "terms": ["pfa-friends-community"]}],
            "allocations": [
                {"stream": "social_care", "management": "direct_payment", "amount": "1200.00"},
                {"stream": "education", "management": "third_party", "amount": "800.00", "admin_fee": "40.00"}
            ]
        })
    }

    fn check(v: serde_json::Value) -> Result<ValidBudgetHolder, Invalid> {
        let input: BudgetHolderInput = serde_json::from_value(v).unwrap();
        input.validate(&Taxonomy::builtin().unwrap(), d("2026-11-23"))
    }

    #[test]
    fn a_plan_validates() {
        let h = check(sam()).unwrap();
        assert_eq!(h.allocations[1].admin_fee.to_string(), "40.00");
        assert_eq!(h.family.email, "parent@example.org");
    }

    #[test]
    fn needs_are_need_terms_and_optional() {
        assert!(check(sam()).unwrap().needs.is_empty());
        let mut v = sam();
        v["needs"] = serde_json::json!(["need-autism", "need-autism", "need-anxiety"]);
        let needs = check(v).unwrap().needs;
        assert_eq!(needs, [TermId("need-autism".into()), TermId("need-anxiety".into())]);
        let mut v = sam();
        v["needs"] = serde_json::json!(["need-autism", "pfa-employment"]);
        let e = check(v).unwrap_err();
        assert_eq!(e.0[0].field, "needs[1]");
        let mut v = sam();
        v["needs"] = serde_json::json!(["need-autism", "no-such-need"]);
        assert_eq!(check(v).unwrap_err().0[0].field, "needs[1]");
    }

    #[test]
    fn dates_must_make_sense() {
        let mut v = sam();
        v["plan_end"] = "2026-08-01".into();
        assert_eq!(check(v).unwrap_err().0[0].field, "plan_end");
        let mut v = sam();
        v["date_of_birth"] = "1990-01-01".into();
        assert_eq!(check(v).unwrap_err().0[0].field, "date_of_birth");
        let mut v = sam();
        v["date_of_birth"] = "2030-01-01".into();
        assert_eq!(check(v).unwrap_err().0[0].field, "date_of_birth");
    }

    #[test]
    fn a_plan_being_prepared_has_no_allocations_yet() {
        let mut v = sam();
        v["allocations"] = serde_json::json!([]);
        assert!(check(v).unwrap().allocations.is_empty());
    }

    #[test]
    fn allocations_follow_section_j_rules() {
        let mut v = sam();
        v["allocations"][1]["stream"] = "social_care".into();
        assert_eq!(check(v).unwrap_err().0[0].field, "allocations[1].stream");
        let mut v = sam();
        v["allocations"][0]["admin_fee"] = "1.00".into();
        assert_eq!(check(v).unwrap_err().0[0].field, "allocations[0].admin_fee");
        let mut v = sam();
        v["allocations"][1]["admin_fee"] = "900.00".into();
        assert_eq!(check(v).unwrap_err().0[0].field, "allocations[1].admin_fee");
    }

    #[test]
    fn outcomes_map_to_outcome_terms() {
        let mut v = sam();
        v["outcomes"][0]["terms"] = serde_json::json!(["need-semh"]);
        assert_eq!(check(v).unwrap_err().0[0].field, "outcomes[0].terms[0]");
        let mut v = sam();
        v["outcomes"][0]["terms"] = serde_json::json!([]);
        assert_eq!(check(v).unwrap_err().0[0].field, "outcomes[0].terms");
    }

    #[test]
    fn ages_count_birthdays() {
        assert_eq!(age_on(d("2014-05-01"), d("2026-04-30")), 11);
        assert_eq!(age_on(d("2014-05-01"), d("2026-05-01")), 12);
        assert_eq!(age_on(d("2012-02-29"), d("2026-02-28")), 13);
    }

    #[test]
    fn reconcile_finds_every_kind_of_drift() {
        let p = |s: &str| s.parse::<Pence>().unwrap();
        let good = AllocationBooks {
            amount: p("1000"),
            committed: p("140"),
            admin_fee: p("40"),
            ledger_sum: SignedPence::from_stored(86000),
            held_by_bookings: p("100"),
            ..AllocationBooks::default()
        };
        assert!(reconcile(good).is_empty());
        assert_eq!(
            reconcile(AllocationBooks {
                ledger_sum: SignedPence::from_stored(1),
                ..good
            })
            .len(),
            1
        );
        assert_eq!(
            reconcile(AllocationBooks {
                held_by_bookings: p("90"),
                ..good
            })
            .len(),
            1
        );
        let over = AllocationBooks {
            committed: p("1100"),
            ledger_sum: SignedPence::from_stored(-10000),
            held_by_bookings: p("1060"),
            ..good
        };
        assert_eq!(
            reconcile(over),
            vec!["overspent: committed 1100.00 and spent 0.00 exceed amount 1000.00".to_string()]
        );
    }

    #[test]
    fn spent_money_is_accounted_for_by_invoices_and_spending() {
        let p = |s: &str| s.parse::<Pence>().unwrap();
        let good = AllocationBooks {
            amount: p("1000"),
            committed: p("50"),
            spent: p("300"),
            ledger_sum: SignedPence::from_stored(65000),
            ledger_spent_sum: SignedPence::from_stored(30000),
            held_by_bookings: p("30"),
            held_by_spending: p("20"),
            spent_by_invoices: p("250"),
            spent_by_spending: p("50"),
            ..AllocationBooks::default()
        };
        assert!(reconcile(good).is_empty(), "{:?}", reconcile(good));
        let tampered = AllocationBooks {
            spent_by_invoices: p("260"),
            ..good
        };
        assert_eq!(reconcile(tampered).len(), 1);
        let unledgered = AllocationBooks {
            ledger_spent_sum: SignedPence::from_stored(0),
            ..good
        };
        assert_eq!(reconcile(unledgered).len(), 1);
        let waiting_lost = AllocationBooks {
            held_by_spending: p("0"),
            ..good
        };
        assert_eq!(reconcile(waiting_lost).len(), 1);
    }
}
