//! Booking against a plan's allocation, and moving a booking on. A booking buys a quantity (an
//! item, a journey) or dated sessions; for sessions, money and places are taken together or not at
//! all. One rule for retried requests (an idempotency key, from the API's header or the booking
//! form's request id) and one retry for a race on that key, whichever front door it came through.

use chrono::NaiveDateTime;

use super::{App, AppError, AppResult, notices, records, waitlist};
use crate::db::bookings::{self, BookingKind, BookingView, NewBooking};
use crate::db::budget_holders::{self, AllocationView, HolderRow};
use crate::db::ledger::{self, Movement};
use crate::db::sessions::{self as session_db, Seat, SessionView};
use crate::db::{Conn, changes, councils, now, services};
use crate::domain::booking::{
    self as rules, BookingAction, BookingInput, BookingStatus, Buys, Idempotency, LedgerKind, Offer,
};
use crate::domain::invoice::item_key;
use crate::domain::notification::Event;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::sessions::{self, SeatStatus, SessionPolicy, SessionStatus};
use crate::domain::validate::{FieldError, Invalid};
use crate::domain::{
    Actor, AllocationId, BookingId, BudgetHolderId, CouncilId, OrganisationId, Pence, ServiceId, SessionId,
};

/// A booking as its creation returns it: with what is left on the allocation straight after.
#[derive(Debug, Clone)]
pub struct Booked {
    pub booking: BookingView,
    pub remaining: Pence,
    /// An earlier booking answered again for a retried request.
    pub replayed: bool,
}

/// A booking just made (or found again by its key), before it is read back for the caller:
/// the single SQLite writer only writes; the booking is read on a reader once committed.
struct Made {
    id: BookingId,
    remaining: Pence,
    replayed: bool,
}

/// The insert lost a race on a unique key (the idempotency key, or once in a trillion the
/// reference): the whole attempt rolled back, and is tried once more.
const KEY_RACE: &str = "idempotency_key_race";

/// A plan `actor` may see: 404 for an unknown one, 403 for someone else's. An erased record has
/// no family or broker any more: only its council finds it.
pub(crate) fn plan_for(conn: &mut Conn, actor: &Actor, id: BudgetHolderId) -> AppResult<HolderRow> {
    let holder = budget_holders::load(conn, id)?
        .filter(|h| h.erased_at.is_none() || actor.council().is_some())
        .ok_or_else(|| AppError::not_found("budget holder"))?;
    if actor.sees_plan(&holder.owners()) {
        Ok(holder)
    } else {
        Err(AppError::forbidden("this budget holder is not yours"))
    }
}

/// Book `input` for `actor`: the rules first, then the places and the guarded debit (rules 1 and
/// 2), the booking and its ledger entry (rule 3), all in one transaction. `key` makes a retried
/// request answer with the booking it made the first time (rule 5).
pub async fn book(app: &App, actor: &Actor, input: BookingInput, key: Option<String>) -> AppResult<Booked> {
    let buys = input.validate()?;
    let idempotency = key.map(|k| Idempotency::new(k, &input));
    let actor = actor.clone();
    let booked = app
        .blocking(move |app| {
            let attempt = || {
                let (actor, input, buys, idempotency) =
                    (actor.clone(), input.clone(), buys.clone(), idempotency.clone());
                app.db
                    .write_as(move |conn| book_in(conn, &actor, &input, &buys, idempotency.as_ref()))
            };
            let made = match attempt() {
                Err(AppError::Conflict { code: KEY_RACE, .. }) => attempt(),
                result => result,
            }?;
            app.db.read_as(|conn| made.read_back(conn))
        })
        .await?;
    if booked.booking.kind == BookingKind::Sessions && !booked.replayed {
        // Places changed: search's availability follows.
        app.services_changed();
    }
    Ok(booked)
}

/// Book as `actor` inside a transaction the caller holds (the demo loader).
pub(crate) fn book_within(conn: &mut Conn, actor: &Actor, input: &BookingInput) -> AppResult<Booked> {
    let buys = input.validate()?;
    book_in(conn, actor, input, &buys, None)?.read_back(conn)
}

impl Made {
    fn read_back(self, conn: &mut Conn) -> AppResult<Booked> {
        let booking = bookings::load(conn, self.id)?.ok_or_else(|| AppError::not_found("booking"))?;
        Ok(Booked {
            booking,
            remaining: self.remaining,
            replayed: self.replayed,
        })
    }
}

/// The plan, checked for the actor and the day; the allocation; the offer.
struct Basis {
    holder: HolderRow,
    allocation: AllocationView,
    service: ServiceId,
    organisation: OrganisationId,
    offer: Offer,
}

fn basis(conn: &mut Conn, actor: &Actor, input: &BookingInput, at: NaiveDateTime) -> AppResult<Basis> {
    let holder = budget_holders::load(conn, input.budget_holder_id)?
        .ok_or_else(|| AppError::unknown("budget_holder_id", "no such budget holder"))?;
    let owners = holder.owners();
    if !actor.sees_plan(&owners) {
        return Err(AppError::forbidden("this budget holder is not yours"));
    }
    if !actor.spends_from(&owners) {
        return Err(AppError::forbidden(
            "only the family or its broker can book against this plan",
        ));
    }
    let today = sessions::london_date(at);
    rules::check_plan_period(holder.plan_start, holder.plan_end, today)?;
    records::record_change(conn, actor, &holder, records::BOOKED)?;
    let allocation = budget_holders::allocation(conn, BudgetHolderId(holder.id), input.allocation_id)?
        .ok_or_else(|| Invalid::one("allocation_id", "is not one of this budget holder's allocations"))?;
    let (service, organisation, offer) = services::offer(conn, input.price_option_id, CouncilId(holder.council_id))?
        .ok_or_else(|| AppError::unknown("price_option_id", "no such price option"))?;
    offer.check(allocation.stream, holder.date_of_birth, today)?;
    let settings = councils::settings(conn, CouncilId(holder.council_id))?;
    rules::check_verified(settings, offer.provider_verified)?;
    Ok(Basis {
        holder,
        allocation,
        service,
        organisation,
        offer,
    })
}

fn book_in(
    conn: &mut Conn,
    actor: &Actor,
    input: &BookingInput,
    buys: &Buys,
    idempotency: Option<&Idempotency>,
) -> AppResult<Made> {
    if let Some(idem) = idempotency
        && let Some(earlier) = bookings::by_key(conn, actor.user_id, &idem.key)?
    {
        idem.replays(earlier.fingerprint.as_deref())?;
        return Ok(Made {
            id: earlier.booking,
            remaining: earlier.remaining_after,
            replayed: true,
        });
    }
    let at = now();
    let b = basis(conn, actor, input, at)?;
    let (kind, quantity, total, seats) = match buys {
        Buys::Quantity(q) => {
            if session_db::has_coming(conn, b.service, at)? {
                return Err(AppError::conflict(
                    "book_sessions",
                    "this service runs dated sessions: choose the sessions to book (session_ids or series_id)",
                    Some("quantity"),
                ));
            }
            let priced = b.offer.price_for(
                b.allocation.stream,
                b.holder.date_of_birth,
                sessions::london_date(at),
                *q,
            )?;
            (BookingKind::Quantity, *q, priced.total, Vec::new())
        }
        Buys::Sessions(ids) => {
            let chosen = session_db::several(conn, ids)?;
            let seats = take_seats(conn, &b, ids, chosen, at, false)?;
            let total = seats_total(&seats)?;
            (BookingKind::Sessions, seats.len() as i64, total, seats)
        }
        Buys::Series(series) => {
            let chosen: Vec<SessionView> = session_db::of_series(conn, *series, at)?
                .into_iter()
                .filter(|s| s.service_id == b.service && in_plan(&b.holder, s))
                .collect();
            if chosen.is_empty() {
                return Err(Invalid::one("series_id", "has no session to come within this plan").into());
            }
            let ids: Vec<SessionId> = chosen.iter().map(|s| s.id).collect();
            let seats = take_seats(conn, &b, &ids, chosen, at, false)?;
            let total = seats_total(&seats)?;
            (BookingKind::Sessions, seats.len() as i64, total, seats)
        }
    };
    // Rule 2: one guarded statement; the money is taken only if it is there.
    let (debited, remaining) = budget_holders::debit(conn, b.allocation.id, total)?;
    if !debited {
        return Err(rules::insufficient_funds(total, remaining, b.allocation.stream).into());
    }
    let booking = insert_booking(conn, actor, input, &b, kind, quantity, total, remaining, idempotency)?;
    for (session, price) in &seats {
        session_db::insert_seat(conn, booking, session.id, *price)?;
    }
    let what = match kind {
        BookingKind::Quantity => format!("{quantity} x {} ({})", b.offer.option_label, b.offer.service_name),
        BookingKind::Sessions => format!(
            "{quantity} session{} of {} ({})",
            if quantity == 1 { "" } else { "s" },
            b.offer.option_label,
            b.offer.service_name
        ),
    };
    ledger::append(
        conn,
        Movement {
            allocation: b.allocation.id,
            booking: Some(booking),
            kind: LedgerKind::Booked,
            amount: total.debit(),
            balance_after: remaining,
            description: &what,
            ..Movement::default()
        },
    )?;
    if kind == BookingKind::Sessions {
        changes::record(conn, b.service)?;
    }
    if let Some(made) = bookings::load(conn, booking)?
        && made.status == BookingStatus::Requested
    {
        notices::booking_requested(conn, &made)?;
    }
    Ok(Made {
        id: booking,
        remaining,
        replayed: false,
    })
}

#[allow(clippy::too_many_arguments)]
fn insert_booking(
    conn: &mut Conn,
    actor: &Actor,
    input: &BookingInput,
    b: &Basis,
    kind: BookingKind,
    quantity: i64,
    total: Pence,
    remaining: Pence,
    idempotency: Option<&Idempotency>,
) -> AppResult<BookingId> {
    bookings::insert(
        conn,
        NewBooking {
            budget_holder: BudgetHolderId(b.holder.id),
            allocation: b.allocation.id,
            service: b.service,
            organisation: b.organisation,
            price_option: input.price_option_id,
            quantity,
            unit_price: b.offer.price,
            total,
            created_by: actor.user_id,
            idempotency,
            remaining_after: remaining,
            kind,
            reference: sessions::reference(rand::random()),
            notes: input.notes.trim(),
            contact: input.contact.trim(),
        },
    )
    .map_err(|e| {
        if e.is_unique_violation() {
            AppError::conflict(KEY_RACE, "a request with this key is being booked; send it again", None)
        } else {
            e.into()
        }
    })
}

/// A session's day in England falls inside the plan period.
fn in_plan(holder: &HolderRow, session: &SessionView) -> bool {
    let day = sessions::london_date(session.times.starts_at);
    (holder.plan_start..=holder.plan_end).contains(&day)
}

/// Check each chosen session and take a place on each (rule 1), in id order so that two bookings
/// never wait on each other. Every session that cannot be booked is named, and nothing is taken.
/// `held` means the places are already held (an accepted waiting-list offer).
fn take_seats(
    conn: &mut Conn,
    b: &Basis,
    asked: &[SessionId],
    chosen: Vec<SessionView>,
    at: NaiveDateTime,
    held: bool,
) -> AppResult<Vec<(SessionView, Pence)>> {
    let field = |id: SessionId| {
        let i = asked.iter().position(|a| *a == id).unwrap_or(0);
        format!("session_ids[{i}]")
    };
    let mut invalid = Vec::new();
    for (i, id) in asked.iter().enumerate() {
        if !chosen.iter().any(|s| s.id == *id) {
            invalid.push(FieldError::new(format!("session_ids[{i}]"), "is not a session"));
        }
    }
    for s in &chosen {
        let name = sessions::describe(s.times.starts_at, s.times.ends_at);
        if s.service_id != b.service {
            invalid.push(FieldError::new(
                field(s.id),
                "is not a session of this price option's service",
            ));
        } else if s.status == SessionStatus::Cancelled {
            invalid.push(FieldError::new(field(s.id), format!("{name} is cancelled")));
        } else if s.times.starts_at <= at {
            invalid.push(FieldError::new(field(s.id), format!("{name} has started or is over")));
        } else if !in_plan(&b.holder, s) {
            invalid.push(FieldError::new(
                field(s.id),
                format!("{name} is outside the plan period"),
            ));
        } else if !held && session_db::holder_has_seat(conn, BudgetHolderId(b.holder.id), s.id)? {
            invalid.push(FieldError::new(
                field(s.id),
                format!("{name} is already booked for this child"),
            ));
        }
    }
    if !invalid.is_empty() {
        return Err(AppError::Invalid(Invalid(invalid)));
    }
    let mut full = Vec::new();
    let mut seats = Vec::with_capacity(chosen.len());
    for s in chosen {
        if !held && !session_db::take_place(conn, s.id, at)? {
            full.push(FieldError::new(
                field(s.id),
                format!("{} is full", sessions::describe(s.times.starts_at, s.times.ends_at)),
            ));
            continue;
        }
        let price = sessions::session_price(b.offer.unit, b.offer.price, s.times);
        seats.push((s, price));
    }
    if !full.is_empty() {
        let message = if full.len() == 1 {
            full[0].message.clone()
        } else {
            format!("{} of the sessions are full; nothing was booked", full.len())
        };
        return Err(AppError::Conflict {
            code: "session_full",
            message,
            field: full.first().map(|f| f.field.clone()),
            fields: full,
        });
    }
    Ok(seats)
}

fn seats_total(seats: &[(SessionView, Pence)]) -> AppResult<Pence> {
    seats
        .iter()
        .try_fold(Pence::ZERO, |sum, (_, p)| sum.checked_add(*p))
        .ok_or_else(|| Invalid::one("session_ids", "the total is larger than any allocation").into())
}

/// Give money back to an allocation, with its ledger entry.
pub(crate) fn refund(
    conn: &mut Conn,
    allocation: AllocationId,
    booking: BookingId,
    amount: Pence,
    description: &str,
) -> AppResult<()> {
    if amount == Pence::ZERO {
        return Ok(());
    }
    let remaining = budget_holders::release(conn, allocation, amount)?.ok_or_else(|| {
        AppError::Internal(format!(
            "allocation {allocation} does not hold booking {booking}'s money"
        ))
    })?;
    ledger::append(
        conn,
        Movement {
            allocation,
            booking: Some(booking),
            kind: LedgerKind::Released,
            amount: amount.credit(),
            balance_after: remaining,
            description,
            ..Movement::default()
        },
    )?;
    Ok(())
}

/// Take money again for a seat whose refund is undone (an absence corrected to attended).
pub(crate) fn recharge(
    conn: &mut Conn,
    allocation: &AllocationView,
    booking: BookingId,
    amount: Pence,
    description: &str,
) -> AppResult<()> {
    if amount == Pence::ZERO {
        return Ok(());
    }
    let (debited, remaining) = budget_holders::debit(conn, allocation.id, amount)?;
    if !debited {
        return Err(rules::insufficient_funds(amount, remaining, allocation.stream).into());
    }
    ledger::append(
        conn,
        Movement {
            allocation: allocation.id,
            booking: Some(booking),
            kind: LedgerKind::Booked,
            amount: amount.debit(),
            balance_after: remaining,
            description,
            ..Movement::default()
        },
    )?;
    Ok(())
}

/// Move one seat on: its place given back when it stops holding one (and offered to whoever
/// waits), its money given back when it stops holding money.
pub(crate) fn move_seat(
    conn: &mut Conn,
    booking: &BookingView,
    seat: &Seat,
    to: SeatStatus,
    at: NaiveDateTime,
) -> AppResult<()> {
    if seat.status.delivered() {
        super::invoices::release_items(conn, &[item_key(booking.id, Some(seat.session.id))])?;
    }
    if !session_db::set_seat(conn, booking.id, seat.session.id, seat.status, to)? {
        return Err(AppError::conflict(
            "invalid_transition",
            "the booking changed meanwhile; reload it",
            Some("status"),
        ));
    }
    let when = sessions::describe(seat.session.times.starts_at, seat.session.times.ends_at);
    if seat.status.holds_money() && !to.holds_money() {
        let what = format!(
            "booking {} {when}: {}",
            booking.reference,
            to.as_str().replace('_', " ")
        );
        refund(conn, booking.allocation_id, booking.id, seat.price, &what)?;
    }
    if seat.status.holds_place() && !to.holds_place() && seat.session.status == SessionStatus::Scheduled {
        session_db::release_place(conn, seat.session.id)?;
        waitlist::offer_freed(conn, seat.session.id, at)?;
    }
    Ok(())
}

/// What cancelling these seats would do now: each refunded or charged, as the provider's notice
/// and policy say. None given means every seat still to come.
pub fn cancellation_plan(
    booking: &BookingView,
    chosen: Option<&[SessionId]>,
    policy: SessionPolicy,
    at: NaiveDateTime,
) -> AppResult<Vec<(Seat, SeatStatus)>> {
    let mut plan = Vec::new();
    if let Some(ids) = chosen {
        for (i, id) in ids.iter().enumerate() {
            if !booking
                .seats
                .iter()
                .any(|s| s.session.id == *id && s.status == SeatStatus::Booked)
            {
                return Err(
                    Invalid::one(format!("session_ids[{i}]"), "is not a session booked on this booking").into(),
                );
            }
        }
    }
    for seat in &booking.seats {
        let wanted = chosen.is_none_or(|ids| ids.contains(&seat.session.id));
        if !wanted || seat.status != SeatStatus::Booked {
            continue;
        }
        if chosen.is_none() && seat.session.times.starts_at <= at {
            continue;
        }
        let to = sessions::cancellation(
            at,
            seat.session.times.starts_at,
            policy.cancellation_notice_hours,
            policy.late_cancellation,
        )?;
        plan.push((seat.clone(), to));
    }
    if plan.is_empty() {
        return Err(AppError::conflict(
            "invalid_transition",
            "there is no session still to come on this booking to cancel",
            Some("session_ids"),
        ));
    }
    Ok(plan)
}

/// What a cancellation did (or, previewed, would do).
#[derive(Debug, Clone)]
pub struct Cancelled {
    pub booking: BookingView,
    /// The allocation the money goes back to.
    pub allocation: Option<AllocationView>,
    pub refunded: Vec<Seat>,
    pub charged: Vec<Seat>,
}

fn load_for_spender(conn: &mut Conn, actor: &Actor, id: BookingId) -> AppResult<BookingView> {
    let booking = bookings::load(conn, id)?.ok_or_else(|| AppError::not_found("booking"))?;
    if !actor.spends_from(&plan_for(conn, actor, booking.budget_holder_id)?.owners()) {
        return Err(AppError::forbidden(
            "only the family or its broker can cancel this booking",
        ));
    }
    Ok(booking)
}

fn cancel_in(
    conn: &mut Conn,
    actor: &Actor,
    id: BookingId,
    chosen: Option<&[SessionId]>,
    commit: bool,
) -> AppResult<Cancelled> {
    let booking = load_for_spender(conn, actor, id)?;
    if commit {
        record_booking_change(conn, actor, booking.budget_holder_id)?;
    }
    let allocation = budget_holders::allocation(conn, booking.budget_holder_id, booking.allocation_id)?;
    if booking.kind == BookingKind::Quantity {
        if chosen.is_some_and(|c| !c.is_empty()) {
            return Err(Invalid::one("session_ids", "this booking is not of dated sessions").into());
        }
        let booking = if commit {
            transition_in(conn, actor, id, BookingAction::Cancel)?
        } else {
            booking
        };
        return Ok(Cancelled {
            booking,
            allocation,
            refunded: Vec::new(),
            charged: Vec::new(),
        });
    }
    if !matches!(booking.status, BookingStatus::Requested | BookingStatus::Confirmed) {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("a {} booking cannot be cancelled", booking.status),
            Some("status"),
        ));
    }
    let at = now();
    let policy = services::policy(conn, booking.service_id)?.unwrap_or_default();
    let plan = cancellation_plan(&booking, chosen, policy, at)?;
    let (mut refunded, mut charged) = (Vec::new(), Vec::new());
    for (seat, to) in plan {
        if commit {
            move_seat(conn, &booking, &seat, to, at)?;
        }
        let seat = Seat { status: to, ..seat };
        match to {
            SeatStatus::Charged => charged.push(seat),
            _ => refunded.push(seat),
        }
    }
    if !commit {
        return Ok(Cancelled {
            booking,
            allocation,
            refunded,
            charged,
        });
    }
    let booking = bookings::load(conn, id)?.ok_or_else(|| AppError::not_found("booking"))?;
    // Nothing left to come and nothing run: the booking as a whole is cancelled.
    if booking.seats.iter().all(|s| {
        matches!(
            s.status,
            SeatStatus::Refunded | SeatStatus::Charged | SeatStatus::SessionCancelled
        )
    }) {
        bookings::set_status(conn, id, booking.status, BookingStatus::Cancelled)?;
    }
    changes::record(conn, booking.service_id)?;
    notices::booking_cancelled(conn, &booking, actor.user_id, refunded.len() + charged.len())?;
    Ok(Cancelled {
        booking: bookings::load(conn, id)?.unwrap_or(booking),
        allocation,
        refunded,
        charged,
    })
}

/// The family or its broker cancels sessions of a booking (every one still to come if none are
/// named): refunded before the provider's notice, after it as the provider's policy says. A
/// booking by quantity is cancelled whole.
pub async fn cancel(
    app: &App,
    actor: &Actor,
    id: BookingId,
    session_ids: Option<Vec<SessionId>>,
) -> AppResult<Cancelled> {
    let actor = actor.clone();
    let done = app
        .write(move |conn| cancel_in(conn, &actor, id, session_ids.as_deref(), true))
        .await?;
    app.services_changed();
    Ok(done)
}

/// What cancelling would do now, without doing it: the page shows it before the family confirms.
pub async fn cancel_preview(
    app: &App,
    actor: &Actor,
    id: BookingId,
    session_ids: Option<Vec<SessionId>>,
) -> AppResult<Cancelled> {
    let actor = actor.clone();
    app.read(move |conn| cancel_in(conn, &actor, id, session_ids.as_deref(), false))
        .await
}

/// A booking's change goes in its plan's access record (unless the plan's own family made it).
fn record_booking_change(conn: &mut Conn, actor: &Actor, holder: BudgetHolderId) -> AppResult<()> {
    match budget_holders::load(conn, holder)? {
        Some(row) => records::record_change(conn, actor, &row, records::CHANGED_BOOKING),
        None => Ok(()),
    }
}

/// Move a booking on and tell the other side.
fn transition_in(conn: &mut Conn, actor: &Actor, id: BookingId, action: BookingAction) -> AppResult<BookingView> {
    let done = move_booking(conn, actor, id, action)?;
    match action {
        BookingAction::Confirm => notices::booking_answered(conn, &done, Event::BookingConfirmed)?,
        BookingAction::Decline => notices::booking_answered(conn, &done, Event::BookingDeclined)?,
        BookingAction::Cancel => notices::booking_cancelled(conn, &done, actor.user_id, 0)?,
        BookingAction::Deliver => {}
    }
    Ok(done)
}

fn move_booking(conn: &mut Conn, actor: &Actor, id: BookingId, action: BookingAction) -> AppResult<BookingView> {
    let booking = bookings::load(conn, id)?.ok_or_else(|| AppError::not_found("booking"))?;
    if action.by_provider() {
        if !actor.works_for(booking.organisation_id) {
            return Err(AppError::forbidden(
                "only the provider of this service can answer this booking",
            ));
        }
    } else if !actor.spends_from(&plan_for(conn, actor, booking.budget_holder_id)?.owners()) {
        return Err(AppError::forbidden(
            "only the family or its broker can cancel this booking",
        ));
    }
    record_booking_change(conn, actor, booking.budget_holder_id)?;
    if booking.kind == BookingKind::Sessions {
        return transition_sessions(conn, booking, action);
    }
    let from = booking.status;
    let to = from
        .apply(action)
        .map_err(|e| AppError::conflict("invalid_transition", e.to_string(), Some("status")))?;
    if from == BookingStatus::Delivered {
        super::invoices::release_items(conn, &[item_key(id, None)])?;
    }
    if !bookings::set_status(conn, id, from, to)? {
        return Err(AppError::conflict(
            "invalid_transition",
            "the booking changed meanwhile; reload it",
            Some("status"),
        ));
    }
    if from.holds_money() && !to.holds_money() {
        refund(
            conn,
            booking.allocation_id,
            id,
            booking.total,
            &format!("booking {id} {to}"),
        )?;
    }
    Ok(bookings::load(conn, id)?.unwrap_or(booking))
}

/// A booking of sessions: the provider confirms or declines it whole (declining gives back every
/// place and penny); attendance, not "delivered", says what was delivered.
fn transition_sessions(conn: &mut Conn, booking: BookingView, action: BookingAction) -> AppResult<BookingView> {
    let id = booking.id;
    match action {
        BookingAction::Deliver => Err(AppError::conflict(
            "mark_attendance",
            "a booking of sessions is delivered session by session: mark each on its register",
            Some("status"),
        )),
        BookingAction::Cancel => Ok(cancel_in_all(conn, booking)?),
        BookingAction::Confirm | BookingAction::Decline => {
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
            if to == BookingStatus::Declined {
                let at = now();
                for seat in booking.seats.iter().filter(|s| s.status == SeatStatus::Booked) {
                    move_seat(conn, &booking, seat, SeatStatus::Refunded, at)?;
                }
                changes::record(conn, booking.service_id)?;
            }
            Ok(bookings::load(conn, id)?.unwrap_or(booking))
        }
    }
}

/// The API's plain `cancel` on a booking of sessions: every session still to come, by the rules.
fn cancel_in_all(conn: &mut Conn, booking: BookingView) -> AppResult<BookingView> {
    let at = now();
    let policy = services::policy(conn, booking.service_id)?.unwrap_or_default();
    for (seat, to) in cancellation_plan(&booking, None, policy, at)? {
        move_seat(conn, &booking, &seat, to, at)?;
    }
    let reloaded = bookings::load(conn, booking.id)?.unwrap_or(booking);
    if reloaded.seats.iter().all(|s| {
        matches!(
            s.status,
            SeatStatus::Refunded | SeatStatus::Charged | SeatStatus::SessionCancelled
        )
    }) {
        bookings::set_status(conn, reloaded.id, reloaded.status, BookingStatus::Cancelled)?;
    }
    changes::record(conn, reloaded.service_id)?;
    Ok(bookings::load(conn, reloaded.id)?.unwrap_or(reloaded))
}

/// Move a booking on: its family or broker cancels; its provider confirms, declines or marks it
/// delivered. Leaving a state that holds money gives the money back to the allocation.
pub async fn transition(app: &App, actor: &Actor, id: BookingId, action: BookingAction) -> AppResult<BookingView> {
    let actor = actor.clone();
    let done = app.write(move |conn| transition_in(conn, &actor, id, action)).await?;
    if done.kind == BookingKind::Sessions {
        app.services_changed();
    }
    Ok(done)
}

/// A page of the bookings `actor` may see, newest first.
pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<BookingView>> {
    let scope = actor.booking_scope().ok_or_else(|| AppError::wrong_role(actor))?;
    let found = app.read(move |conn| Ok(bookings::list(conn, scope, page)?)).await?;
    records::record_listed(
        app,
        actor,
        found.items.iter().map(|b| b.budget_holder_id),
        records::READ_BOOKINGS,
    )
    .await?;
    Ok(found)
}

/// One booking: its provider, and whoever may see its plan.
pub async fn get(app: &App, actor: &Actor, id: BookingId) -> AppResult<BookingView> {
    let reader = actor.clone();
    let (booking, owners) = app
        .read(move |conn| {
            let booking = bookings::load(conn, id)?.ok_or_else(|| AppError::not_found("booking"))?;
            let owners = budget_holders::load(conn, booking.budget_holder_id)?.map(|h| h.owners());
            let allowed = reader.works_for(booking.organisation_id) || owners.is_some_and(|o| reader.sees_plan(&o));
            match owners {
                Some(owners) if allowed => Ok((booking, owners)),
                _ => Err(AppError::forbidden("this booking is not yours")),
            }
        })
        .await?;
    records::record_reads(app, actor, [(booking.budget_holder_id, owners)], records::READ_BOOKING).await?;
    Ok(booking)
}

/// An accepted waiting-list offer becomes a booking of its one session, on the place the offer
/// held; the money is checked now.
pub(crate) fn book_offered(
    conn: &mut Conn,
    actor: &Actor,
    input: &BookingInput,
    session: SessionView,
) -> AppResult<BookingView> {
    let at = now();
    let b = basis(conn, actor, input, at)?;
    let ids = [session.id];
    let seats = take_seats(conn, &b, &ids, vec![session], at, true)?;
    let total = seats_total(&seats)?;
    let (debited, remaining) = budget_holders::debit(conn, b.allocation.id, total)?;
    if !debited {
        return Err(rules::insufficient_funds(total, remaining, b.allocation.stream).into());
    }
    let booking = insert_booking(conn, actor, input, &b, BookingKind::Sessions, 1, total, remaining, None)?;
    for (session, price) in &seats {
        session_db::insert_seat(conn, booking, session.id, *price)?;
    }
    ledger::append(
        conn,
        Movement {
            allocation: b.allocation.id,
            booking: Some(booking),
            kind: LedgerKind::Booked,
            amount: total.debit(),
            balance_after: remaining,
            description: &format!(
                "1 session of {} ({}), from the waiting list",
                b.offer.option_label, b.offer.service_name
            ),
            ..Movement::default()
        },
    )?;
    changes::record(conn, b.service)?;
    bookings::load(conn, booking)?.ok_or_else(|| AppError::not_found("booking"))
}
