//! Booking states and what each move does to the money.

use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::budget::age_on;
use super::council::CouncilSettings;
use super::sessions::MAX_BOOKED_SESSIONS;
use super::validate::{self, Checker, Invalid};
use super::{
    AllocationId, BudgetHolderId, Pence, PriceOptionId, RuleError, SeriesId, SessionId, Stream, Unit, text_enum,
};

text_enum!(
    BookingStatus {
        Requested = "requested", Confirmed = "confirmed", Delivered = "delivered",
        Declined = "declined", Cancelled = "cancelled",
    }
);

text_enum!(
    BookingAction { Cancel = "cancel", Confirm = "confirm", Decline = "decline", Deliver = "deliver" }
);

text_enum!(
    /// The kinds of movement on an allocation. `amount` moves remaining; `spent_change` moves
    /// spent; committed is what is left of the allocation; `cash_change` is a direct payment's
    /// account.
    LedgerKind {
        Allocated = "allocated", AdminFee = "admin_fee", Booked = "booked", Released = "released",
        /// An invoice approved: its lines move from committed to spent.
        InvoiceApproved = "invoice_approved",
        /// A credit note: money back to remaining, from spent or (not yet approved) committed.
        Credited = "credited",
        /// A direct-payment instalment paid into the holder's account.
        PaidIn = "paid_in",
        /// Spending from a direct payment recorded (remaining to committed, or straight to spent).
        Spending = "spending",
        /// Recorded spending accepted by the council: committed to spent.
        SpendingAccepted = "spending_accepted",
        /// Money reclaimed from a direct-payment account: the allocation and the account shrink.
        Recovered = "recovered",
    }
);

pub const MAX_QUANTITY: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} booking cannot be {verb}")]
pub struct TransitionError {
    pub from: BookingStatus,
    pub verb: &'static str,
}

impl BookingAction {
    fn past_tense(self) -> &'static str {
        match self {
            BookingAction::Cancel => "cancelled",
            BookingAction::Confirm => "confirmed",
            BookingAction::Decline => "declined",
            BookingAction::Deliver => "marked delivered",
        }
    }

    /// Families cancel; providers answer.
    pub fn by_provider(self) -> bool {
        !matches!(self, BookingAction::Cancel)
    }
}

impl BookingStatus {
    /// Money stays committed while a booking is live (requested, confirmed) or spent (delivered).
    pub fn holds_money(self) -> bool {
        matches!(
            self,
            BookingStatus::Requested | BookingStatus::Confirmed | BookingStatus::Delivered
        )
    }

    /// The state after `action`, or why it is not allowed. A move out of a money-holding state into
    /// one that holds none releases the booking's total back to its allocation.
    pub fn apply(self, action: BookingAction) -> Result<BookingStatus, TransitionError> {
        use BookingAction as A;
        use BookingStatus as S;

        match (self, action) {
            (S::Requested, A::Confirm) => Ok(S::Confirmed),
            (S::Requested, A::Decline) => Ok(S::Declined),
            (S::Requested | S::Confirmed, A::Cancel) => Ok(S::Cancelled),
            (S::Confirmed, A::Deliver) => Ok(S::Delivered),
            (from, action) => Err(TransitionError {
                from,
                verb: action.past_tense(),
            }),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    pub budget_holder_id: BudgetHolderId,
    pub price_option_id: PriceOptionId,
    pub allocation_id: AllocationId,
    /// How many of the option, for a service without dated sessions.
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Or the dated sessions to book.
    #[serde(default)]
    pub session_ids: Vec<SessionId>,
    /// Or every session still to come of a weekly series, within the plan.
    #[serde(default)]
    pub series_id: Option<SeriesId>,
    /// What the family shares with the provider: needs, medication, contact on the day.
    #[serde(default)]
    pub notes: String,
    /// How the provider reaches the family about this booking; the family's email if empty.
    #[serde(default)]
    pub contact: String,
}

/// What a booking buys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Buys {
    Quantity(i64),
    Sessions(Vec<SessionId>),
    Series(SeriesId),
}

pub const MAX_NOTES_CHARS: usize = 2000;

impl BookingInput {
    /// A booking buys a quantity, chosen sessions or a series: exactly one of them.
    pub fn validate(&self) -> Result<Buys, Invalid> {
        let mut c = Checker::new();
        c.take(validate::text("notes", &self.notes, 0, MAX_NOTES_CHARS));
        c.take(validate::text("contact", &self.contact, 0, 200));
        let given = [
            self.quantity.is_some(),
            !self.session_ids.is_empty(),
            self.series_id.is_some(),
        ];
        let buys = match (self.quantity, self.session_ids.as_slice(), self.series_id) {
            _ if given.iter().filter(|g| **g).count() != 1 => {
                c.add("quantity", "give exactly one of quantity, session_ids or series_id");
                None
            }
            (Some(q), _, _) if !(1..=MAX_QUANTITY).contains(&q) => {
                c.add("quantity", format!("must be a whole number from 1 to {MAX_QUANTITY}"));
                None
            }
            (Some(q), _, _) => Some(Buys::Quantity(q)),
            (_, ids, _) if !ids.is_empty() => {
                if ids.len() > MAX_BOOKED_SESSIONS {
                    c.add(
                        "session_ids",
                        format!("must list at most {MAX_BOOKED_SESSIONS} sessions"),
                    );
                }
                for (i, id) in ids.iter().enumerate() {
                    if ids[..i].contains(id) {
                        c.add(format!("session_ids[{i}]"), "is listed twice");
                    }
                }
                Some(Buys::Sessions(ids.to_vec()))
            }
            (_, _, Some(series)) => Some(Buys::Series(series)),
            _ => None,
        };
        c.finish(|| ())?;
        buys.ok_or_else(|| Invalid::one("quantity", "give exactly one of quantity, session_ids or series_id"))
    }
}

/// Identifies a retried request: the caller's key and a fingerprint of what it asked for. The API
/// takes the key from `Idempotency-Key`, the booking form from its hidden request id; both follow
/// this one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

impl Idempotency {
    pub fn new(key: String, input: &BookingInput) -> Idempotency {
        let sessions: Vec<String> = input.session_ids.iter().map(|s| s.to_string()).collect();
        let canonical = format!(
            "{}|{}|{}|{:?}|{}|{:?}|{}|{}",
            input.budget_holder_id,
            input.allocation_id,
            input.price_option_id,
            input.quantity,
            sessions.join(","),
            input.series_id,
            input.notes,
            input.contact,
        );
        Idempotency {
            key,
            fingerprint: super::hex(&Sha256::digest(canonical.as_bytes())),
        }
    }

    /// An earlier booking made under the same key: the same request is answered with it again; a
    /// different request under a used key is refused.
    pub fn replays(&self, earlier_fingerprint: Option<&str>) -> Result<(), RuleError> {
        if earlier_fingerprint == Some(self.fingerprint.as_str()) {
            Ok(())
        } else {
            Err(RuleError::conflict(
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different booking request",
                Some("Idempotency-Key"),
            ))
        }
    }
}

/// Money can be committed only inside the plan period.
pub fn check_plan_period(plan_start: NaiveDate, plan_end: NaiveDate, today: NaiveDate) -> Result<(), RuleError> {
    if today < plan_start {
        return Err(RuleError::conflict(
            "plan_not_started",
            format!("the plan period starts on {plan_start}"),
            Some("budget_holder_id"),
        ));
    }
    if today > plan_end {
        return Err(RuleError::conflict(
            "plan_ended",
            format!("the plan period ended on {plan_end}"),
            Some("budget_holder_id"),
        ));
    }
    Ok(())
}

/// What a booking needs to know about the price option it buys.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub service_name: String,
    pub option_label: String,
    pub price: Pence,
    pub option_active: bool,
    pub service_published: bool,
    pub provider_suspended: bool,
    /// A council has checked the provider (see `check_verified`).
    pub provider_verified: bool,
    pub accepted_streams: Vec<Stream>,
    pub min_age: i32,
    pub max_age: i32,
    pub unit: Unit,
}

/// What a booking costs, checked against everything but the money left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priced {
    pub unit_price: Pence,
    pub total: Pence,
}

impl Offer {
    /// Whether this child can have `quantity` of this offer paid from an allocation of `stream`,
    /// and at what price (rule 4: the price now is the price kept).
    pub fn price_for(
        &self,
        stream: Stream,
        date_of_birth: NaiveDate,
        today: NaiveDate,
        quantity: i64,
    ) -> Result<Priced, RuleError> {
        self.check(stream, date_of_birth, today)?;
        let total = self
            .price
            .checked_mul(quantity)
            .ok_or_else(|| Invalid::one("quantity", "the total is larger than any allocation"))?;
        Ok(Priced {
            unit_price: self.price,
            total,
        })
    }

    /// Whether this child can have this offer paid from an allocation of `stream` today.
    pub fn check(&self, stream: Stream, date_of_birth: NaiveDate, today: NaiveDate) -> Result<(), RuleError> {
        if self.provider_suspended {
            return Err(RuleError::conflict(
                "not_bookable",
                "this provider is suspended by the council",
                Some("price_option_id"),
            ));
        }
        if !self.service_published || !self.option_active {
            return Err(RuleError::conflict(
                "not_bookable",
                "this price option is no longer offered",
                Some("price_option_id"),
            ));
        }
        if !self.accepted_streams.contains(&stream) {
            return Err(Invalid::one(
                "allocation_id",
                format!(
                    "{} cannot be paid for from the {} allocation",
                    self.service_name,
                    stream.label().to_lowercase()
                ),
            )
            .into());
        }
        let age = age_on(date_of_birth, today);
        if !(self.min_age..=self.max_age).contains(&age) {
            return Err(Invalid::one(
                "budget_holder_id",
                format!(
                    "{} is for ages {} to {}; this child is {age}",
                    self.service_name, self.min_age, self.max_age
                ),
            )
            .into());
        }
        Ok(())
    }
}

/// Whether an allocation of `stream` with `remaining` left can pay for one of this offer today:
/// the plan period, the offer's own rules, and enough money for one. The booking form offers
/// only the allocations this accepts; booking itself checks the same rules again.
pub fn can_pay(
    offer: &Offer,
    plan: (NaiveDate, NaiveDate),
    date_of_birth: NaiveDate,
    stream: Stream,
    remaining: Pence,
    today: NaiveDate,
) -> Result<(), RuleError> {
    check_plan_period(plan.0, plan.1, today)?;
    let priced = offer.price_for(stream, date_of_birth, today, 1)?;
    if priced.total > remaining {
        return Err(insufficient_funds(priced.total, remaining, stream));
    }
    Ok(())
}

/// A council that books only verified providers refuses the others for its plans.
pub fn check_verified(settings: CouncilSettings, provider_verified: bool) -> Result<(), RuleError> {
    if provider_verified || settings.unverified_bookable {
        Ok(())
    } else {
        Err(RuleError::conflict(
            "provider_not_verified",
            "the council books only providers it has verified, and has not verified this one yet",
            Some("price_option_id"),
        ))
    }
}

/// The refusal when the guarded debit finds too little left.
pub fn insufficient_funds(total: Pence, remaining: Pence, stream: Stream) -> RuleError {
    RuleError::conflict(
        "insufficient_funds",
        format!(
            "this booking costs £{total} but only £{remaining} is left on the {} allocation",
            stream.label().to_lowercase()
        ),
        Some("quantity"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingAction as A;
    use BookingStatus as S;

    #[test]
    fn only_a_council_that_asks_for_verification_refuses_unverified_providers() {
        let strict = CouncilSettings {
            unverified_bookable: false,
            ..CouncilSettings::default()
        };
        assert!(check_verified(CouncilSettings::default(), false).is_ok());
        assert!(check_verified(strict, true).is_ok());
        assert!(matches!(
            check_verified(strict, false),
            Err(RuleError::Conflict {
                code: "provider_not_verified",
                ..
            })
        ));
    }

    #[test]
    fn the_happy_path() {
        assert_eq!(S::Requested.apply(A::Confirm), Ok(S::Confirmed));
        assert_eq!(S::Confirmed.apply(A::Deliver), Ok(S::Delivered));
    }

    #[test]
    fn releases_happen_only_when_money_stops_being_held() {
        for (from, action) in [
            (S::Requested, A::Cancel),
            (S::Confirmed, A::Cancel),
            (S::Requested, A::Decline),
        ] {
            let to = from.apply(action).unwrap();
            assert!(from.holds_money() && !to.holds_money(), "{from} -> {to}");
        }
        assert!(S::Delivered.holds_money(), "delivered money is spent, not returned");
    }

    #[test]
    fn every_other_move_is_refused() {
        for &from in S::ALL {
            for &action in A::ALL {
                let allowed = matches!(
                    (from, action),
                    (S::Requested, A::Confirm | A::Decline | A::Cancel) | (S::Confirmed, A::Cancel | A::Deliver)
                );
                assert_eq!(from.apply(action).is_ok(), allowed, "{from} {action}");
            }
        }
        assert_eq!(
            S::Delivered.apply(A::Cancel).unwrap_err().to_string(),
            "a delivered booking cannot be cancelled"
        );
    }

    fn blank() -> BookingInput {
        BookingInput {
            budget_holder_id: BudgetHolderId(1),
            price_option_id: PriceOptionId(1),
            allocation_id: AllocationId(1),
            quantity: None,
            session_ids: vec![],
            series_id: None,
            notes: String::new(),
            contact: String::new(),
        }
    }

    #[test]
    fn a_booking_buys_a_quantity_or_sessions_or_a_series() {
        let sessions = BookingInput {
            session_ids: vec![SessionId(3), SessionId(5)],
            ..blank()
        };
        assert_eq!(
            sessions.validate().unwrap(),
            Buys::Sessions(vec![SessionId(3), SessionId(5)])
        );
        let series = BookingInput {
            series_id: Some(SeriesId(2)),
            ..blank()
        };
        assert_eq!(series.validate().unwrap(), Buys::Series(SeriesId(2)));
        assert_eq!(blank().validate().unwrap_err().0[0].field, "quantity");
        let both = BookingInput {
            quantity: Some(1),
            session_ids: vec![SessionId(3)],
            ..blank()
        };
        assert!(both.validate().is_err());
        let twice = BookingInput {
            session_ids: vec![SessionId(3), SessionId(4), SessionId(3)],
            ..blank()
        };
        assert_eq!(twice.validate().unwrap_err().0[0].field, "session_ids[2]");
        let chatty = BookingInput {
            notes: "x".repeat(MAX_NOTES_CHARS + 1),
            ..sessions
        };
        assert_eq!(chatty.validate().unwrap_err().0[0].field, "notes");
    }

    #[test]
    fn quantity_is_bounded() {
        let input = |quantity| BookingInput {
            quantity: Some(quantity),
            ..blank()
        };
        assert_eq!(input(1).validate().unwrap(), Buys::Quantity(1));
        assert!(input(1000).validate().is_ok());
        assert_eq!(input(0).validate().unwrap_err().0[0].field, "quantity");
        assert!(input(-3).validate().is_err());
        assert!(input(1001).validate().is_err());
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn offer() -> Offer {
        Offer {
            service_name: "Saturday Club".into(),
            option_label: "Session".into(),
            price: Pence::new(4500).unwrap(),
            option_active: true,
            service_published: true,
            provider_suspended: false,
            provider_verified: false,
            accepted_streams: vec![Stream::SocialCare],
            min_age: 5,
            max_age: 18,
            unit: Unit::Session,
        }
    }

    fn field(e: RuleError) -> String {
        match e {
            RuleError::Invalid(Invalid(errors)) => errors[0].field.clone(),
            RuleError::Conflict { field, .. } => field.unwrap_or_default(),
            RuleError::Forbidden(_) | RuleError::Denied { .. } => "forbidden".into(),
        }
    }

    fn code(e: &RuleError) -> &'static str {
        match e {
            RuleError::Conflict { code, .. } => code,
            RuleError::Invalid(_) => "invalid",
            RuleError::Forbidden(_) => "forbidden",
            RuleError::Denied { code, .. } => code,
        }
    }

    #[test]
    fn the_plan_period_bounds_bookings_on_both_sides() {
        let (start, end) = (d("2026-09-01"), d("2027-08-31"));
        assert!(check_plan_period(start, end, start).is_ok());
        assert!(check_plan_period(start, end, end).is_ok());
        assert_eq!(
            code(&check_plan_period(start, end, d("2026-08-31")).unwrap_err()),
            "plan_not_started"
        );
        assert_eq!(
            code(&check_plan_period(start, end, d("2027-09-01")).unwrap_err()),
            "plan_ended"
        );
    }

    #[test]
    fn an_offer_prices_a_booking_exactly() {
        let priced = offer()
            .price_for(Stream::SocialCare, d("2014-05-01"), d("2026-12-01"), 6)
            .unwrap();
        assert_eq!(priced.unit_price.pence(), 4500);
        assert_eq!(priced.total.pence(), 27000);
    }

    #[test]
    fn an_offer_refuses_what_its_rules_forbid() {
        let today = d("2026-12-01");
        let sam = d("2014-05-01");
        let suspended = Offer {
            provider_suspended: true,
            ..offer()
        };
        assert_eq!(
            code(&suspended.price_for(Stream::SocialCare, sam, today, 1).unwrap_err()),
            "not_bookable"
        );
        let withdrawn = Offer {
            option_active: false,
            ..offer()
        };
        assert_eq!(
            code(&withdrawn.price_for(Stream::SocialCare, sam, today, 1).unwrap_err()),
            "not_bookable"
        );
        assert_eq!(
            field(offer().price_for(Stream::Health, sam, today, 1).unwrap_err()),
            "allocation_id"
        );
        assert_eq!(
            field(
                offer()
                    .price_for(Stream::SocialCare, d("2024-01-01"), today, 1)
                    .unwrap_err()
            ),
            "budget_holder_id"
        );
        let dear = Offer {
            price: Pence::MAX,
            ..offer()
        };
        assert_eq!(
            field(dear.price_for(Stream::SocialCare, sam, today, 2).unwrap_err()),
            "quantity"
        );
    }

    #[test]
    fn only_allocations_that_can_pay_for_one_are_offered() {
        let (today, sam, plan) = (d("2026-12-01"), d("2014-05-01"), (d("2026-09-01"), d("2027-08-31")));
        let enough = Pence::from_stored(4500);
        assert!(can_pay(&offer(), plan, sam, Stream::SocialCare, enough, today).is_ok());
        let wrong_stream = can_pay(&offer(), plan, sam, Stream::Health, enough, today).unwrap_err();
        assert!(
            wrong_stream.reason().contains("health allocation"),
            "{}",
            wrong_stream.reason()
        );
        let short = can_pay(&offer(), plan, sam, Stream::SocialCare, Pence::from_stored(4499), today).unwrap_err();
        assert_eq!(code(&short), "insufficient_funds");
        let ended = can_pay(
            &offer(),
            (d("2025-09-01"), d("2026-08-31")),
            sam,
            Stream::SocialCare,
            enough,
            today,
        );
        assert_eq!(code(&ended.unwrap_err()), "plan_ended");
    }

    #[test]
    fn ages_are_checked_on_the_day_of_booking() {
        // Five on 1 May 2019's birthday: not yet five the day before.
        let child = d("2014-05-01");
        assert!(
            offer()
                .price_for(Stream::SocialCare, child, d("2019-04-30"), 1)
                .is_err()
        );
        assert!(offer().price_for(Stream::SocialCare, child, d("2019-05-01"), 1).is_ok());
    }

    #[test]
    fn a_key_replays_only_the_same_request() {
        let input = BookingInput {
            quantity: Some(3),
            ..blank()
        };
        let idem = Idempotency::new("k".into(), &input);
        assert!(idem.replays(Some(&idem.fingerprint)).is_ok());
        let other = Idempotency::new(
            "k".into(),
            &BookingInput {
                quantity: Some(4),
                ..input.clone()
            },
        );
        let sessions = Idempotency::new(
            "k".into(),
            &BookingInput {
                quantity: None,
                session_ids: vec![SessionId(1)],
                ..input
            },
        );
        assert_ne!(other.fingerprint, sessions.fingerprint);
        assert_ne!(idem.fingerprint, other.fingerprint);
        assert_eq!(
            code(&idem.replays(Some(&other.fingerprint)).unwrap_err()),
            "idempotency_key_reused"
        );
        assert!(idem.replays(None).is_err());
    }
}
