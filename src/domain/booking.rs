//! Booking states and what each move does to the money.

use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::budget::age_on;
use super::validate::{FieldError, Invalid};
use super::{AllocationId, BudgetHolderId, Pence, PriceOptionId, RuleError, Stream, text_enum};

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
    /// The kinds of movement on an allocation's remaining balance.
    LedgerKind { Allocated = "allocated", AdminFee = "admin_fee", Booked = "booked", Released = "released" }
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
    pub quantity: i64,
    pub allocation_id: AllocationId,
}

impl BookingInput {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(1..=MAX_QUANTITY).contains(&self.quantity) {
            return Err(FieldError::new("quantity", format!("must be a whole number from 1 to {MAX_QUANTITY}")).into());
        }
        Ok(())
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
        let canonical = format!(
            "{}|{}|{}|{}",
            input.budget_holder_id, input.allocation_id, input.price_option_id, input.quantity
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
    pub accepted_streams: Vec<Stream>,
    pub min_age: i32,
    pub max_age: i32,
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
                format!("{} cannot be paid for from the {stream} allocation", self.service_name),
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
        let total = self
            .price
            .checked_mul(quantity)
            .ok_or_else(|| Invalid::one("quantity", "the total is larger than any allocation"))?;
        Ok(Priced {
            unit_price: self.price,
            total,
        })
    }
}

/// The refusal when the guarded debit finds too little left.
pub fn insufficient_funds(total: Pence, remaining: Pence, stream: Stream) -> RuleError {
    RuleError::conflict(
        "insufficient_funds",
        format!("this booking costs {total} but only {remaining} is left on the {stream} allocation"),
        Some("quantity"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingAction as A;
    use BookingStatus as S;

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

    #[test]
    fn quantity_is_bounded() {
        let input = |quantity| BookingInput {
            budget_holder_id: BudgetHolderId(1),
            price_option_id: PriceOptionId(1),
            quantity,
            allocation_id: AllocationId(1),
        };
        assert!(input(1).validate().is_ok());
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
            accepted_streams: vec![Stream::SocialCare],
            min_age: 5,
            max_age: 18,
        }
    }

    fn field(e: RuleError) -> String {
        match e {
            RuleError::Invalid(Invalid(errors)) => errors[0].field.clone(),
            RuleError::Conflict { field, .. } => field.unwrap_or_default(),
            RuleError::Forbidden(_) => "forbidden".into(),
        }
    }

    fn code(e: &RuleError) -> &'static str {
        match e {
            RuleError::Conflict { code, .. } => code,
            RuleError::Invalid(_) => "invalid",
            RuleError::Forbidden(_) => "forbidden",
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
            budget_holder_id: BudgetHolderId(1),
            price_option_id: PriceOptionId(2),
            quantity: 3,
            allocation_id: AllocationId(4),
        };
        let idem = Idempotency::new("k".into(), &input);
        assert!(idem.replays(Some(&idem.fingerprint)).is_ok());
        let other = Idempotency::new("k".into(), &BookingInput { quantity: 4, ..input });
        assert_ne!(idem.fingerprint, other.fingerprint);
        assert_eq!(
            code(&idem.replays(Some(&other.fingerprint)).unwrap_err()),
            "idempotency_key_reused"
        );
        assert!(idem.replays(None).is_err());
    }
}
