//! Booking states and what each move does to the money.

use serde::Deserialize;

use super::validate::{FieldError, Invalid};
use super::{AllocationId, BudgetHolderId, PriceOptionId, text_enum};

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
}
