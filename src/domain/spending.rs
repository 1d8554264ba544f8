//! Direct payments: the schedule that pays them in, spending recorded against them, the council's
//! audit sample and the six-week surplus test.

use chrono::{Datelike, Duration, NaiveDate};
use sha2::{Digest, Sha256};

use super::money::Pence;
use super::text_enum;
use super::validate::{Checker, FieldError, Invalid, text};

text_enum!(
    /// How a direct payment is paid into the holder's account, always in advance.
    PaymentSchedule { FourWeekly = "four_weekly", Monthly = "monthly" }
);

// text_enum! has no #[default] to derive with.
#[allow(clippy::derivable_impls)]
impl Default for PaymentSchedule {
    fn default() -> PaymentSchedule {
        PaymentSchedule::FourWeekly
    }
}

text_enum!(
    /// Spending from a direct payment: accepted (in the books as spent), waiting in the council's
    /// audit sample, or queried (the council asked a question; the money stays committed).
    SpendingStatus { Accepted = "accepted", InReview = "in_review", Queried = "queried" }
);

text_enum!(
    /// The receipt types we keep: PDF and the photo formats phones make.
    ReceiptType { Pdf = "application/pdf", Jpeg = "image/jpeg", Png = "image/png", Webp = "image/webp", Heic = "image/heic" }
);

/// Receipts are capped at 5 MB.
pub const MAX_RECEIPT_BYTES: usize = 5 * 1024 * 1024;
/// How many weeks' worth a holder may keep before the surplus is reclaimable (Birmingham: 6-7).
pub const SURPLUS_WEEKS: i64 = 6;

/// One instalment of a direct payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instalment {
    pub index: i32,
    pub due_on: NaiveDate,
}

impl PaymentSchedule {
    /// The days instalments fall due, from the plan's start until its end: every four weeks, or
    /// on the start's day of each month (the month's last day when it is shorter).
    pub fn instalments(self, plan_start: NaiveDate, plan_end: NaiveDate) -> Vec<Instalment> {
        let mut out = Vec::new();
        let mut index = 0;
        loop {
            let due_on = match self {
                PaymentSchedule::FourWeekly => Some(plan_start + Duration::days(28 * i64::from(index))),
                PaymentSchedule::Monthly => add_months(plan_start, index),
            };
            match due_on {
                Some(due_on) if due_on <= plan_end => out.push(Instalment { index, due_on }),
                _ => return out,
            }
            index += 1;
        }
    }
}

fn add_months(start: NaiveDate, months: i32) -> Option<NaiveDate> {
    let total = start.year() * 12 + start.month0() as i32 + months;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    (1..=start.day())
        .rev()
        .find_map(|day| NaiveDate::from_ymd_opt(year, month, day))
}

/// What the next instalment pays: what is left to pay in, shared over the instalments left
/// (this one included), in whole pence; the last takes the remainder. Because it works from
/// what is left, a recovery (which shrinks the allocation and the account alike) leaves later
/// instalments unchanged.
pub fn instalment_amount(amount: Pence, paid_in_net: Pence, instalments_left: usize) -> Pence {
    let left = amount.saturating_sub(paid_in_net);
    match i64::try_from(instalments_left) {
        Ok(n) if n > 1 => Pence::from_stored(left.pence() / n),
        _ => left,
    }
}

/// A council's audit sample: every item over `over`, and `percent` of the rest, chosen by a
/// hash of the item so the choice can be reproduced and cannot be guessed from the amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRule {
    pub over: Pence,
    pub percent: i32,
}

impl Default for AuditRule {
    fn default() -> AuditRule {
        AuditRule {
            over: Pence::from_stored(25_000),
            percent: 10,
        }
    }
}

impl AuditRule {
    pub fn sampled(self, amount: Pence, key: &str) -> bool {
        if amount > self.over {
            return true;
        }
        let digest = Sha256::digest(key.as_bytes());
        let bucket = u16::from_be_bytes([digest[0], digest[1]]) % 100;
        i32::from(bucket) < self.percent
    }
}

/// The six-week surplus test on a direct-payment account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SurplusTest {
    /// Paid in, less what was reclaimed.
    pub paid_in: Pence,
    /// Spending recorded (any status) and invoices the family paid.
    pub spent: Pence,
    /// What the account should hold.
    pub balance: Pence,
    /// Six weeks' worth of the allocation, pro rata over the plan.
    pub allowed: Pence,
    /// What may be reclaimed.
    pub surplus: Pence,
}

pub fn surplus_test(amount: Pence, plan_days: i64, paid_in: Pence, spent: Pence) -> SurplusTest {
    let balance = paid_in.saturating_sub(spent);
    let allowed = if plan_days <= 0 {
        amount
    } else {
        Pence::from_stored(
            i64::try_from(i128::from(amount.pence()) * i128::from(SURPLUS_WEEKS * 7) / i128::from(plan_days))
                .unwrap_or(i64::MAX),
        )
    };
    SurplusTest {
        paid_in,
        spent,
        balance,
        allowed,
        surplus: balance.saturating_sub(allowed),
    }
}

/// A receipt's type, read from its first bytes; None for anything else (a script named
/// receipt.pdf included).
pub fn receipt_type(bytes: &[u8]) -> Option<ReceiptType> {
    let kind = infer::get(bytes)?;
    kind.mime_type().parse().ok()
}

/// Spending over this needs a receipt (councils ask holders to keep receipts over 5.00).
pub const RECEIPT_REQUIRED_OVER: Pence = Pence::from_stored(500);

/// Spending a family records, as it came in (form fields are text; the receipt is its bytes).
#[derive(Debug, Clone, Default)]
pub struct SpendingInput {
    pub allocation_id: Option<String>,
    pub payee: String,
    pub spent_on: String,
    pub amount: String,
    pub description: String,
    pub plan_outcome_id: Option<String>,
    pub receipt: Option<Vec<u8>>,
}

impl SpendingInput {
    /// Take a text field of the record by its name; a name it does not have comes back.
    pub fn set(&mut self, name: String, value: String) -> Option<(String, String)> {
        match name.as_str() {
            "allocation_id" => self.allocation_id = Some(value),
            "payee" => self.payee = value,
            "spent_on" => self.spent_on = value,
            "amount" => self.amount = value,
            "description" => self.description = value,
            "plan_outcome_id" => self.plan_outcome_id = Some(value),
            _ => return Some((name, value)),
        }
        None
    }
}

/// Spending that can be recorded, before the plan's own checks (its allocations, dates, outcomes).
#[derive(Debug, Clone)]
pub struct ValidSpending {
    pub allocation_id: Option<i64>,
    pub payee: String,
    pub spent_on: NaiveDate,
    pub amount: Pence,
    pub description: String,
    pub plan_outcome_id: Option<i64>,
    pub receipt: Option<(ReceiptType, Vec<u8>)>,
}

fn optional_id(c: &mut Checker, field: &str, value: Option<&str>) -> Option<i64> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    match value.parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            c.add(field, "must be a whole number id");
            None
        }
    }
}

impl SpendingInput {
    /// Every field checked, each problem named; `today` is England's date.
    pub fn validate(&self, today: NaiveDate) -> Result<ValidSpending, Invalid> {
        let mut c = Checker::new();
        let allocation_id = optional_id(&mut c, "allocation_id", self.allocation_id.as_deref());
        let plan_outcome_id = optional_id(&mut c, "plan_outcome_id", self.plan_outcome_id.as_deref());
        let payee = c.take(text("payee", &self.payee, 1, 200));
        let description = c.take(text("description", &self.description, 1, 500));
        let spent_on = c.take(match self.spent_on.trim().parse::<NaiveDate>() {
            Ok(d) if d > today => Err(FieldError::new("spent_on", "must not be in the future")),
            Ok(d) => Ok(d),
            Err(_) => Err(FieldError::new("spent_on", "must be a date such as 2026-11-30")),
        });
        let amount = c.take(match self.amount.trim().parse::<Pence>() {
            Ok(a) if a > Pence::ZERO => Ok(a),
            Ok(_) => Err(FieldError::new("amount", "must be more than 0.00")),
            Err(e) => Err(FieldError::new("amount", e.to_string())),
        });
        let receipt = match self.receipt.as_deref().filter(|r| !r.is_empty()) {
            None => {
                if amount.is_some_and(|a| a > RECEIPT_REQUIRED_OVER) {
                    c.add(
                        "receipt",
                        format!("is needed for spending over {RECEIPT_REQUIRED_OVER}"),
                    );
                }
                None
            }
            Some(bytes) if bytes.len() > MAX_RECEIPT_BYTES => {
                c.add("receipt", "must be at most 5 MB");
                None
            }
            Some(bytes) => match receipt_type(bytes) {
                Some(kind) => Some((kind, bytes.to_vec())),
                None => {
                    c.add("receipt", "must be a PDF or a photo (JPEG, PNG, WebP or HEIC)");
                    None
                }
            },
        };
        c.finish(|| ())?;
        // Every field that failed added its error above, so all are here.
        let (Some(payee), Some(description), Some(spent_on), Some(amount)) = (payee, description, spent_on, amount)
        else {
            return Err(Invalid::one("amount", "is invalid"));
        };
        Ok(ValidSpending {
            allocation_id,
            payee,
            spent_on,
            amount,
            description,
            plan_outcome_id,
            receipt,
        })
    }
}

/// A receipt's name in the store: the SHA-256 of its content, in hex.
pub fn receipt_hash(bytes: &[u8]) -> String {
    super::hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Pence {
        s.parse().unwrap()
    }

    #[test]
    fn four_weekly_instalments_cover_the_plan() {
        let all = PaymentSchedule::FourWeekly.instalments(d("2026-09-01"), d("2027-08-31"));
        assert_eq!(all.len(), 14);
        assert_eq!(all[1].due_on, d("2026-09-29"));
        assert!(all.last().unwrap().due_on <= d("2027-08-31"));
    }

    #[test]
    fn monthly_instalments_keep_the_day_or_the_month_end() {
        let all = PaymentSchedule::Monthly.instalments(d("2026-01-31"), d("2026-12-31"));
        assert_eq!(all.len(), 12);
        assert_eq!(all[1].due_on, d("2026-02-28"));
        assert_eq!(all[2].due_on, d("2026-03-31"));
    }

    #[test]
    fn instalments_share_what_is_left() {
        assert_eq!(instalment_amount(p("1000.00"), Pence::ZERO, 3), p("333.33"));
        assert_eq!(instalment_amount(p("1000.00"), p("666.66"), 1), p("333.34"));
        // A recovery of 100.00 shrinks the amount and the net paid in alike.
        assert_eq!(
            instalment_amount(p("900.00"), p("233.33"), 2),
            instalment_amount(p("1000.00"), p("333.33"), 2)
        );
        assert_eq!(instalment_amount(p("10.00"), p("20.00"), 2), Pence::ZERO);
    }

    #[test]
    fn the_sample_takes_every_large_item_and_a_share_of_the_rest() {
        let rule = AuditRule::default();
        assert!(rule.sampled(p("250.01"), "1"));
        let taken = (0..10_000).filter(|i| rule.sampled(p("20.00"), &i.to_string())).count();
        assert!((800..1200).contains(&taken), "{taken}");
        let none = AuditRule { percent: 0, ..rule };
        assert!(!none.sampled(p("20.00"), "7"));
        let all = AuditRule { percent: 100, ..rule };
        assert!(all.sampled(p("20.00"), "7"));
    }

    #[test]
    fn the_surplus_is_what_exceeds_six_weeks() {
        // 5,200.00 a year is 100.00 a week: six weeks is 600.00.
        let t = surplus_test(p("5200.00"), 364, p("2000.00"), p("900.00"));
        assert_eq!(t.balance, p("1100.00"));
        assert_eq!(t.allowed, p("600.00"));
        assert_eq!(t.surplus, p("500.00"));
        assert_eq!(
            surplus_test(p("5200.00"), 364, p("400.00"), p("0.00")).surplus,
            Pence::ZERO
        );
    }

    #[test]
    fn receipts_are_typed_by_content() {
        assert_eq!(receipt_type(b"%PDF-1.7\n..."), Some(ReceiptType::Pdf));
        assert_eq!(
            receipt_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(ReceiptType::Jpeg)
        );
        assert_eq!(receipt_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(ReceiptType::Png));
        assert_eq!(receipt_type(b"<script>alert(1)</script>"), None);
        assert_eq!(receipt_type(b"MZ\x90\0"), None);
    }
    #[test]
    fn spending_needs_a_receipt_over_five_pounds_of_a_kept_type() {
        let today = d("2026-12-02");
        let base = SpendingInput {
            payee: "Swim club".into(),
            spent_on: "2026-11-30".into(),
            amount: "5.00".into(),
            description: "Lessons".into(),
            ..SpendingInput::default()
        };
        assert!(base.validate(today).is_ok());
        let over = SpendingInput {
            amount: "5.01".into(),
            ..base.clone()
        };
        assert_eq!(over.validate(today).unwrap_err().0[0].field, "receipt");
        let html = SpendingInput {
            receipt: Some(b"<html><script>x</script>".to_vec()),
            ..over.clone()
        };
        assert_eq!(html.validate(today).unwrap_err().0[0].field, "receipt");
        let pdf = SpendingInput {
            receipt: Some(b"%PDF-1.7\n".to_vec()),
            ..over
        };
        assert_eq!(pdf.validate(today).unwrap().receipt.unwrap().0, ReceiptType::Pdf);
        let future = SpendingInput {
            spent_on: "2026-12-03".into(),
            ..base
        };
        assert_eq!(future.validate(today).unwrap_err().0[0].field, "spent_on");
    }
}
