//! Direct payments: the schedule that pays them in, spending recorded against them, the council's
//! audit sample and the six-week surplus test.

use chrono::{Datelike, Duration, NaiveDate};
use sha2::{Digest, Sha256};

use super::money::Pence;
use super::text_enum;

text_enum!(
    /// How a direct payment is paid into the holder's account, always in advance.
    PaymentSchedule { FourWeekly = "four_weekly", Monthly = "monthly" }
);

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
}
