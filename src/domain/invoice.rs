//! Invoices from delivered sessions: who pays, invoicing periods, VAT, numbering and credit notes.

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::money::Pence;
use super::{BookingId, Management, RuleError, SessionId, text_enum};

text_enum!(
    /// An invoice from drafting to its end. Only a draft may change; an issued invoice keeps
    /// its number and lines for ever (credit notes correct it).
    InvoiceStatus {
        Draft = "draft", Issued = "issued", Approved = "approved", Disputed = "disputed",
        Paid = "paid", Credited = "credited",
    }
);

text_enum!(
    /// Who pays an invoice, from how the allocation is held: the council for organised
    /// allocations, the broker for third-party ones, the family for direct payments.
    Payer { Council = "council", Broker = "broker", Family = "family" }
);

text_enum!(
    /// How a council groups delivered sessions into invoices.
    InvoicePeriod { FourWeekly = "four_weekly", CalendarMonth = "calendar_month" }
);

impl Payer {
    pub fn of(management: Management) -> Payer {
        match management {
            Management::Organised => Payer::Council,
            Management::ThirdParty => Payer::Broker,
            Management::DirectPayment => Payer::Family,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Payer::Council => "the council",
            Payer::Broker => "the broker",
            Payer::Family => "the family (direct payment)",
        }
    }
}

impl InvoiceStatus {
    /// The payer has accepted it: its money is spent.
    pub fn approved(self) -> bool {
        matches!(self, InvoiceStatus::Approved | InvoiceStatus::Paid)
    }

    /// Issued and not yet answered (or answered with a dispute): the payer may approve it.
    pub fn awaiting_payer(self) -> bool {
        matches!(self, InvoiceStatus::Issued | InvoiceStatus::Disputed)
    }

    /// A credit note may be raised against it.
    pub fn creditable(self) -> bool {
        matches!(
            self,
            InvoiceStatus::Issued | InvoiceStatus::Approved | InvoiceStatus::Disputed | InvoiceStatus::Paid
        )
    }
}

impl InvoicePeriod {
    /// The period holding `day`: a calendar month, or four weeks counted from `anchor` (either
    /// side of it).
    pub fn containing(self, day: NaiveDate, anchor: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            InvoicePeriod::CalendarMonth => {
                let start = day.with_day(1).unwrap_or(day);
                let next = if start.month() == 12 {
                    NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
                };
                (start, next.map_or(start, |n| n - Duration::days(1)))
            }
            InvoicePeriod::FourWeekly => {
                let offset = (day - anchor).num_days().div_euclid(28);
                let start = anchor + Duration::days(offset * 28);
                (start, start + Duration::days(27))
            }
        }
    }

    /// Every period that has ended by `today` and holds `from` or starts after it.
    pub fn ended_since(self, from: NaiveDate, today: NaiveDate, anchor: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
        let mut out = Vec::new();
        let mut period = self.containing(from, anchor);
        while period.1 < today {
            out.push(period);
            period = self.containing(period.1 + Duration::days(1), anchor);
        }
        out
    }
}

/// The VAT contained in a VAT-inclusive `total` at `rate_bp` basis points (2000 = 20%), to the
/// nearest penny (half away from zero), as HMRC allows for an invoice total.
pub fn vat_contained(total: Pence, rate_bp: i32) -> Pence {
    if rate_bp <= 0 {
        return Pence::ZERO;
    }
    let rate = Decimal::new(i64::from(rate_bp), 4);
    let gross = Decimal::from(total.pence());
    let vat = (gross * rate / (Decimal::ONE + rate))
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    Pence::from_stored(vat.to_i64().unwrap_or(0))
}

/// What makes a delivered item one thing to invoice: a booked session, or a booking bought by
/// quantity. Stored unique across every invoice line, so nothing is invoiced twice.
pub fn item_key(booking: BookingId, session: Option<SessionId>) -> String {
    match session {
        Some(session) => format!("b{booking}s{session}"),
        None => format!("b{booking}"),
    }
}

/// How an invoice number reads: the provider's sequence from 1, zero-padded.
pub fn invoice_number(n: i64) -> String {
    format!("INV-{n:06}")
}

pub fn credit_note_number(n: i64) -> String {
    format!("CN-{n:06}")
}

/// The due date from the issue date and the provider's payment terms.
pub fn due_on(issued_on: NaiveDate, terms_days: i32) -> NaiveDate {
    issued_on + Duration::days(i64::from(terms_days))
}

pub const MAX_PAYMENT_TERMS_DAYS: i32 = 120;
pub const MAX_REASON_CHARS: usize = 1000;

/// One line of a credit note as asked: how much of an invoice line to credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditAsk {
    pub line_amount: Pence,
    pub already_credited: Pence,
    pub amount: Pence,
}

/// A credit never exceeds what is left of its line, and is more than nothing.
pub fn check_credit(field: &str, ask: CreditAsk) -> Result<(), RuleError> {
    let left = ask.line_amount.saturating_sub(ask.already_credited);
    if ask.amount == Pence::ZERO {
        return Err(RuleError::Invalid(
            super::validate::FieldError::new(field, "must be more than 0.00").into(),
        ));
    }
    if ask.amount > left {
        return Err(RuleError::conflict(
            "credit_exceeds_line",
            format!("only {left} of this line is left to credit"),
            Some(field),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn payers_follow_how_money_is_held() {
        assert_eq!(Payer::of(Management::Organised), Payer::Council);
        assert_eq!(Payer::of(Management::ThirdParty), Payer::Broker);
        assert_eq!(Payer::of(Management::DirectPayment), Payer::Family);
    }

    #[test]
    fn calendar_months_end_on_their_last_day() {
        let anchor = d("2026-04-06");
        let m = InvoicePeriod::CalendarMonth;
        assert_eq!(
            m.containing(d("2026-02-14"), anchor),
            (d("2026-02-01"), d("2026-02-28"))
        );
        assert_eq!(
            m.containing(d("2028-02-29"), anchor),
            (d("2028-02-01"), d("2028-02-29"))
        );
        assert_eq!(
            m.containing(d("2026-12-31"), anchor),
            (d("2026-12-01"), d("2026-12-31"))
        );
    }

    #[test]
    fn four_weekly_periods_count_from_the_anchor_both_ways() {
        let anchor = d("2026-04-06");
        let w = InvoicePeriod::FourWeekly;
        assert_eq!(w.containing(anchor, anchor), (anchor, d("2026-05-03")));
        assert_eq!(w.containing(d("2026-05-03"), anchor), (anchor, d("2026-05-03")));
        assert_eq!(
            w.containing(d("2026-05-04"), anchor),
            (d("2026-05-04"), d("2026-05-31"))
        );
        assert_eq!(
            w.containing(d("2026-04-05"), anchor),
            (d("2026-03-09"), d("2026-04-05"))
        );
    }

    #[test]
    fn ended_periods_stop_before_today() {
        let anchor = d("2026-04-06");
        let ended = InvoicePeriod::CalendarMonth.ended_since(d("2026-09-15"), d("2026-12-01"), anchor);
        assert_eq!(
            ended,
            vec![
                (d("2026-09-01"), d("2026-09-30")),
                (d("2026-10-01"), d("2026-10-31")),
                (d("2026-11-01"), d("2026-11-30")),
            ]
        );
        assert!(
            InvoicePeriod::CalendarMonth
                .ended_since(d("2026-12-01"), d("2026-12-31"), anchor)
                .is_empty()
        );
    }

    #[test]
    fn vat_is_contained_in_the_price() {
        let p = |s: &str| s.parse::<Pence>().unwrap();
        assert_eq!(vat_contained(p("120.00"), 2000), p("20.00"));
        assert_eq!(vat_contained(p("100.00"), 2000), p("16.67"));
        assert_eq!(vat_contained(p("0.03"), 2000), p("0.01"));
        assert_eq!(vat_contained(p("100.00"), 0), Pence::ZERO);
        assert_eq!(vat_contained(p("105.00"), 500), p("5.00"));
    }

    #[test]
    fn items_are_keyed_by_booking_and_session() {
        assert_eq!(item_key(BookingId(4), Some(SessionId(9))), "b4s9");
        assert_eq!(item_key(BookingId(4), None), "b4");
    }

    #[test]
    fn numbers_read_as_a_sequence() {
        assert_eq!(invoice_number(7), "INV-000007");
        assert_eq!(credit_note_number(12), "CN-000012");
        assert_eq!(due_on(d("2026-11-30"), 30), d("2026-12-30"));
    }

    #[test]
    fn a_credit_never_exceeds_its_line() {
        let p = |s: &str| s.parse::<Pence>().unwrap();
        let ask = |amount| CreditAsk {
            line_amount: p("40.00"),
            already_credited: p("15.00"),
            amount,
        };
        assert!(check_credit("lines[0].amount", ask(p("25.00"))).is_ok());
        assert!(check_credit("lines[0].amount", ask(p("25.01"))).is_err());
        assert!(check_credit("lines[0].amount", ask(Pence::ZERO)).is_err());
    }

    #[test]
    fn only_issued_invoices_wait_for_their_payer() {
        assert!(InvoiceStatus::Issued.awaiting_payer());
        assert!(InvoiceStatus::Disputed.awaiting_payer());
        assert!(!InvoiceStatus::Draft.awaiting_payer());
        assert!(InvoiceStatus::Paid.approved());
        assert!(!InvoiceStatus::Draft.creditable());
    }
}
