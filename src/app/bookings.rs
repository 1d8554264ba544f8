//! Booking against a plan's allocation, and moving a booking on. One rule for retried requests
//! (an idempotency key, from the API's header or the booking form's request id) and one retry
//! for a race on that key, whichever front door the booking came through.

use super::{App, AppError, AppResult};
use crate::db::bookings::{self, BookingView, NewBooking};
use crate::db::budget_holders::{self, HolderRow};
use crate::db::ledger::{self, Movement};
use crate::db::{Conn, services};
use crate::domain::booking::{self as rules, BookingAction, BookingInput, Idempotency, LedgerKind};
use crate::domain::{Actor, BookingId, BudgetHolderId};

/// The booking insert lost a race on its idempotency key: the winner's booking exists once the
/// winner commits, so the request is tried once more and replays it.
const KEY_RACE: &str = "idempotency_key_race";

/// A booking as its creation returns it: with what is left on the allocation straight after.
#[derive(Debug, Clone)]
pub struct Booked {
    pub booking: BookingView,
    pub remaining: crate::domain::Pence,
    /// An earlier booking answered again for a retried request.
    pub replayed: bool,
}

/// A plan `actor` may see: 404 for an unknown one, 403 for someone else's.
pub(crate) fn plan_for(conn: &mut Conn, actor: &Actor, id: BudgetHolderId) -> AppResult<HolderRow> {
    let holder = budget_holders::load(conn, id)?.ok_or_else(|| AppError::not_found("budget holder"))?;
    if actor.sees_plan(&holder.owners()) {
        Ok(holder)
    } else {
        Err(AppError::forbidden("this budget holder is not yours"))
    }
}

/// Book `input` for `actor`: the rules first, then the guarded debit (rule 2), the booking and its
/// ledger entry (rule 3) in one transaction. `key` makes a retried request answer with the booking
/// it made the first time (rule 5).
pub async fn book(app: &App, actor: &Actor, input: BookingInput, key: Option<String>) -> AppResult<Booked> {
    input.validate()?;
    let idempotency = key.map(|k| Idempotency::new(k, &input));
    let actor = actor.clone();
    app.blocking(move |app| {
        let attempt = || {
            let (actor, input, idempotency) = (actor.clone(), input.clone(), idempotency.clone());
            app.db
                .write_as(move |conn| book_in(conn, &actor, &input, idempotency.as_ref()))
        };
        match attempt() {
            // Two requests with one key raced past the lookup (PostgreSQL runs them side by side):
            // the loser's transaction rolled back; asking again replays the winner's booking.
            Err(AppError::Conflict { code: KEY_RACE, .. }) if idempotency.is_some() => attempt(),
            result => result,
        }
    })
    .await
}

fn book_in(
    conn: &mut Conn,
    actor: &Actor,
    input: &BookingInput,
    idempotency: Option<&Idempotency>,
) -> AppResult<Booked> {
    if let Some(idem) = idempotency
        && let Some(earlier) = bookings::by_key(conn, actor.user_id, &idem.key)?
    {
        idem.replays(earlier.fingerprint.as_deref())?;
        return Ok(Booked {
            booking: earlier.booking,
            remaining: earlier.remaining_after,
            replayed: true,
        });
    }
    let holder = match budget_holders::load(conn, input.budget_holder_id)? {
        None => return Err(AppError::unknown("budget_holder_id", "no such budget holder")),
        Some(h) => h,
    };
    let owners = holder.owners();
    if !actor.sees_plan(&owners) {
        return Err(AppError::forbidden("this budget holder is not yours"));
    }
    if !actor.spends_from(&owners) {
        return Err(AppError::forbidden(
            "only the family or its broker can book against this plan",
        ));
    }
    let today = App::today();
    rules::check_plan_period(holder.plan_start, holder.plan_end, today)?;
    let holder_id = BudgetHolderId(holder.id);
    let allocation = budget_holders::allocation(conn, holder_id, input.allocation_id)?.ok_or_else(|| {
        crate::domain::validate::Invalid::one("allocation_id", "is not one of this budget holder's allocations")
    })?;
    let (service, organisation, offer) = services::offer(conn, input.price_option_id)?
        .ok_or_else(|| AppError::unknown("price_option_id", "no such price option"))?;
    let priced = offer.price_for(allocation.stream, holder.date_of_birth, today, input.quantity)?;
    let (debited, remaining) = budget_holders::debit(conn, allocation.id, priced.total)?;
    if !debited {
        return Err(rules::insufficient_funds(priced.total, remaining, allocation.stream).into());
    }
    let booking = bookings::insert(
        conn,
        NewBooking {
            budget_holder: holder_id,
            allocation: allocation.id,
            service,
            organisation,
            price_option: input.price_option_id,
            quantity: input.quantity,
            unit_price: priced.unit_price,
            total: priced.total,
            created_by: actor.user_id,
            idempotency,
            remaining_after: remaining,
        },
    )
    .map_err(|e| {
        if e.is_unique_violation() {
            AppError::conflict(KEY_RACE, "a request with this key is being booked; send it again", None)
        } else {
            e.into()
        }
    })?;
    ledger::append(
        conn,
        Movement {
            allocation: allocation.id,
            booking: Some(booking.id),
            kind: LedgerKind::Booked,
            amount: priced.total.debit(),
            balance_after: remaining,
            description: &format!("{} x {} ({})", input.quantity, offer.option_label, offer.service_name),
        },
    )?;
    Ok(Booked {
        booking,
        remaining,
        replayed: false,
    })
}

/// Move a booking on: its family or broker cancels; its provider confirms, declines or marks it
/// delivered. Leaving a state that holds money gives the money back to the allocation.
pub async fn transition(app: &App, actor: &Actor, id: BookingId, action: BookingAction) -> AppResult<BookingView> {
    let actor = actor.clone();
    app.write(move |conn| {
        let booking = bookings::load(conn, id)?.ok_or_else(|| AppError::not_found("booking"))?;
        if action.by_provider() {
            if !actor.works_for(booking.organisation_id) {
                return Err(AppError::forbidden(
                    "only the provider of this service can answer this booking",
                ));
            }
        } else if !actor.spends_from(&plan_for(conn, &actor, booking.budget_holder_id)?.owners()) {
            return Err(AppError::forbidden(
                "only the family or its broker can cancel this booking",
            ));
        }
        let from = booking.status;
        let to = from
            .apply(action)
            .map_err(|e| AppError::conflict("invalid_transition", e.to_string(), Some("status")))?;
        if !bookings::set_status(conn, id, from, to)? {
            return Err(AppError::conflict(
                "invalid_transition",
                "the booking changed meanwhile; reload it",
                Some("status"),
            ));
        }
        if from.holds_money() && !to.holds_money() {
            let remaining = budget_holders::release(conn, booking.allocation_id, booking.total)?.ok_or_else(|| {
                AppError::Internal(format!(
                    "allocation {} does not hold booking {id}'s money",
                    booking.allocation_id
                ))
            })?;
            ledger::append(
                conn,
                Movement {
                    allocation: booking.allocation_id,
                    booking: Some(id),
                    kind: LedgerKind::Released,
                    amount: booking.total.credit(),
                    balance_after: remaining,
                    description: &format!("booking {id} {to}"),
                },
            )?;
        }
        Ok(bookings::load(conn, id)?.unwrap_or(booking))
    })
    .await
}

/// The bookings `actor` may see, newest first.
pub async fn list(app: &App, actor: &Actor) -> AppResult<Vec<BookingView>> {
    let scope = actor.booking_scope().ok_or_else(|| AppError::wrong_role(actor))?;
    app.read(move |conn| Ok(bookings::list(conn, scope)?)).await
}

/// One booking: its provider, and whoever may see its plan.
pub async fn get(app: &App, actor: &Actor, id: BookingId) -> AppResult<BookingView> {
    let actor = actor.clone();
    app.read(move |conn| {
        let booking = bookings::load(conn, id)?.ok_or_else(|| AppError::not_found("booking"))?;
        let allowed = actor.works_for(booking.organisation_id)
            || budget_holders::load(conn, booking.budget_holder_id)?.is_some_and(|h| actor.sees_plan(&h.owners()));
        if allowed {
            Ok(booking)
        } else {
            Err(AppError::forbidden("this booking is not yours"))
        }
    })
    .await
}
