//! Bookings: the only way money leaves an allocation, and never more than is left.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::budget_holders::{self, HolderRow};
use super::ledger::{self, Movement};
use super::schema::{allocations, bookings, budget_holders as holders, price_options, services};
use super::services as service_db;
use super::users::Actor;
use super::{Conn, DbError, DbResult, now};
use crate::domain::booking::{BookingAction, BookingInput, BookingStatus, LedgerKind};
use crate::domain::budget::age_on;
use crate::domain::validate::Invalid;
use crate::domain::{
    AllocationId, BookingId, BudgetHolderId, Pence, PriceOptionId, Role, ServiceId, ServiceStatus, Stream,
};

#[derive(Debug, Clone, Serialize)]
pub struct BookingView {
    pub id: BookingId,
    pub status: BookingStatus,
    pub budget_holder_id: BudgetHolderId,
    pub allocation_id: AllocationId,
    pub service_id: ServiceId,
    pub service_name: String,
    pub price_option_id: PriceOptionId,
    pub price_option_label: String,
    pub quantity: i64,
    pub unit_price: Pence,
    pub total: Pence,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A booking as its creation returns it: with what is left on the allocation straight after.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedBooking {
    #[serde(flatten)]
    pub booking: BookingView,
    pub remaining: Pence,
}

/// Identifies a retried request: the caller's key and a fingerprint of what it asked for.
#[derive(Debug, Clone)]
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
        let digest = Sha256::digest(canonical.as_bytes());
        Idempotency {
            key,
            fingerprint: crate::domain::hex(&digest),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = bookings)]
struct BookingRow {
    id: i64,
    status: String,
    budget_holder_id: i64,
    allocation_id: i64,
    service_id: i64,
    #[diesel(select_expression = services::name)]
    service_name: String,
    price_option_id: i64,
    #[diesel(select_expression = price_options::label)]
    price_option_label: String,
    quantity: i64,
    unit_price_pence: i64,
    total_pence: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    remaining_after_pence: i64,
    organisation_id: i64,
    request_fingerprint: Option<String>,
}

impl BookingRow {
    fn status(&self) -> BookingStatus {
        self.status.parse().unwrap_or(BookingStatus::Requested)
    }

    fn view(&self) -> BookingView {
        BookingView {
            id: BookingId(self.id),
            status: self.status(),
            budget_holder_id: BudgetHolderId(self.budget_holder_id),
            allocation_id: AllocationId(self.allocation_id),
            service_id: ServiceId(self.service_id),
            service_name: self.service_name.clone(),
            price_option_id: PriceOptionId(self.price_option_id),
            price_option_label: self.price_option_label.clone(),
            quantity: self.quantity,
            unit_price: Pence::from_stored(self.unit_price_pence),
            total: Pence::from_stored(self.total_pence),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Bookings with the names a person reads them by.
macro_rules! joined {
    () => {
        bookings::table
            .inner_join(services::table)
            .inner_join(price_options::table)
    };
}

fn load(conn: &mut Conn, id: BookingId) -> DbResult<BookingRow> {
    joined!()
        .filter(bookings::id.eq(id.0))
        .select(BookingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(DbError::NotFound("booking"))
}

/// Book `input` for `actor`, debiting the allocation with one guarded statement (rule 2), writing
/// the ledger (rule 3) and honouring an idempotency key (rule 5). Returns the booking and whether
/// it was an earlier booking replayed for a retried request.
pub fn create(
    conn: &mut Conn,
    actor: &Actor,
    input: &BookingInput,
    idempotency: Option<&Idempotency>,
    today: NaiveDate,
) -> DbResult<(CreatedBooking, bool)> {
    input.validate()?;
    if let Some(idem) = idempotency {
        let earlier = joined!()
            .filter(bookings::created_by.eq(actor.user_id.0))
            .filter(bookings::idempotency_key.eq(&idem.key))
            .select(BookingRow::as_select())
            .first::<BookingRow>(conn)
            .optional()?;
        if let Some(row) = earlier {
            if row.request_fingerprint.as_deref() != Some(idem.fingerprint.as_str()) {
                return Err(DbError::conflict(
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used for a different booking request",
                    Some("Idempotency-Key"),
                ));
            }
            let remaining = Pence::from_stored(row.remaining_after_pence);
            return Ok((
                CreatedBooking {
                    booking: row.view(),
                    remaining,
                },
                true,
            ));
        }
    }

    let holder: HolderRow = match budget_holders::authorised(conn, actor, input.budget_holder_id) {
        Err(DbError::NotFound(_)) => {
            return Err(DbError::conflict_not_found("budget_holder_id", "no such budget holder"));
        }
        other => other?,
    };
    if !holder.can_book(actor) {
        return Err(DbError::forbidden(
            "only the family or its broker can book against this plan",
        ));
    }
    if today > holder.plan_end {
        return Err(DbError::conflict(
            "plan_ended",
            format!("the plan period ended on {}", holder.plan_end),
            Some("budget_holder_id"),
        ));
    }
    let allocation: Option<(String, i64)> = allocations::table
        .filter(allocations::id.eq(input.allocation_id.0))
        .filter(allocations::budget_holder_id.eq(holder.id))
        .select((allocations::stream, allocations::amount_pence))
        .first(conn)
        .optional()?;
    let Some((stream, _)) = allocation else {
        return Err(Invalid::one("allocation_id", "is not one of this budget holder's allocations").into());
    };
    let stream: Stream = stream.parse().unwrap_or(Stream::SocialCare);

    let option = match service_db::bookable(conn, input.price_option_id) {
        Err(DbError::NotFound(_)) => {
            return Err(DbError::conflict_not_found("price_option_id", "no such price option"));
        }
        other => other?,
    };
    if option.organisation_status == crate::domain::OrganisationStatus::Suspended.as_str() {
        return Err(DbError::conflict(
            "not_bookable",
            "this provider is suspended by the council",
            Some("price_option_id"),
        ));
    }
    if option.status != ServiceStatus::Published.as_str() || !option.active {
        return Err(DbError::conflict(
            "not_bookable",
            "this price option is no longer offered",
            Some("price_option_id"),
        ));
    }
    if !service_db::accepts_stream(conn, ServiceId(option.service_id), stream)? {
        return Err(Invalid::one(
            "allocation_id",
            format!(
                "{} cannot be paid for from the {stream} allocation",
                option.service_name
            ),
        )
        .into());
    }
    let age = age_on(holder.date_of_birth, today);
    if !(option.min_age..=option.max_age).contains(&age) {
        return Err(Invalid::one(
            "budget_holder_id",
            format!(
                "{} is for ages {} to {}; this child is {age}",
                option.service_name, option.min_age, option.max_age
            ),
        )
        .into());
    }
    let unit_price = Pence::from_stored(option.price_pence);
    let total = unit_price
        .checked_mul(input.quantity)
        .ok_or_else(|| Invalid::one("quantity", "the total is larger than any allocation"))?;

    // Rule 2: one guarded statement; the row is changed only if the money is there.
    let debited = diesel::update(
        allocations::table
            .filter(allocations::id.eq(input.allocation_id.0))
            .filter((allocations::amount_pence - allocations::committed_pence).ge(total.pence())),
    )
    .set(allocations::committed_pence.eq(allocations::committed_pence + total.pence()))
    .execute(conn)?;
    let (amount, committed): (i64, i64) = allocations::table
        .find(input.allocation_id.0)
        .select((allocations::amount_pence, allocations::committed_pence))
        .first(conn)?;
    let remaining = Pence::from_stored(amount - committed);
    if debited != 1 {
        return Err(DbError::conflict(
            "insufficient_funds",
            format!("this booking costs {total} but only {remaining} is left on the {stream} allocation"),
            Some("quantity"),
        ));
    }

    let at = now();
    let id = diesel::insert_into(bookings::table)
        .values((
            bookings::budget_holder_id.eq(holder.id),
            bookings::allocation_id.eq(input.allocation_id.0),
            bookings::service_id.eq(option.service_id),
            bookings::organisation_id.eq(option.organisation_id),
            bookings::price_option_id.eq(input.price_option_id.0),
            bookings::quantity.eq(input.quantity),
            bookings::unit_price_pence.eq(unit_price.pence()),
            bookings::total_pence.eq(total.pence()),
            bookings::status.eq(BookingStatus::Requested.as_str()),
            bookings::created_by.eq(actor.user_id.0),
            bookings::idempotency_key.eq(idempotency.map(|i| i.key.as_str())),
            bookings::request_fingerprint.eq(idempotency.map(|i| i.fingerprint.as_str())),
            bookings::remaining_after_pence.eq(remaining.pence()),
            bookings::created_at.eq(at),
            bookings::updated_at.eq(at),
        ))
        .returning(bookings::id)
        .get_result::<i64>(conn)?;
    let id = BookingId(id);
    ledger::append(
        conn,
        Movement {
            allocation: input.allocation_id,
            booking: Some(id),
            kind: LedgerKind::Booked,
            amount: total.debit(),
            balance_after: remaining,
            description: &format!("{} x {} ({})", input.quantity, option.label, option.service_name),
        },
    )?;
    let booking = BookingView {
        id,
        status: BookingStatus::Requested,
        budget_holder_id: BudgetHolderId(holder.id),
        allocation_id: input.allocation_id,
        service_id: ServiceId(option.service_id),
        service_name: option.service_name,
        price_option_id: input.price_option_id,
        price_option_label: option.label,
        quantity: input.quantity,
        unit_price,
        total,
        created_at: at,
        updated_at: at,
    };
    Ok((CreatedBooking { booking, remaining }, false))
}

/// Move a booking on (cancel by its family or broker; confirm, decline, deliver by its provider),
/// releasing its money when it stops being held.
pub fn transition(conn: &mut Conn, actor: &Actor, id: BookingId, action: BookingAction) -> DbResult<BookingView> {
    let row = load(conn, id)?;
    if action.by_provider() {
        if !(actor.role == Role::Provider && actor.organisation_id.map(|o| o.0) == Some(row.organisation_id)) {
            return Err(DbError::forbidden(
                "only the provider of this service can answer this booking",
            ));
        }
    } else {
        let holder = budget_holders::authorised(conn, actor, BudgetHolderId(row.budget_holder_id))?;
        if !holder.can_book(actor) {
            return Err(DbError::forbidden(
                "only the family or its broker can cancel this booking",
            ));
        }
    }
    let from = row.status();
    let to = from
        .apply(action)
        .map_err(|e| DbError::conflict("invalid_transition", e.to_string(), Some("status")))?;
    let at = now();
    let changed = diesel::update(
        bookings::table
            .filter(bookings::id.eq(id.0))
            .filter(bookings::status.eq(from.as_str())),
    )
    .set((bookings::status.eq(to.as_str()), bookings::updated_at.eq(at)))
    .execute(conn)?;
    if changed != 1 {
        return Err(DbError::conflict(
            "invalid_transition",
            "the booking changed meanwhile; reload it",
            Some("status"),
        ));
    }
    if from.holds_money() && !to.holds_money() {
        let total = row.total_pence;
        let released = diesel::update(
            allocations::table
                .filter(allocations::id.eq(row.allocation_id))
                .filter(allocations::committed_pence.ge(total)),
        )
        .set(allocations::committed_pence.eq(allocations::committed_pence - total))
        .execute(conn)?;
        if released != 1 {
            return Err(DbError::conflict(
                "ledger_mismatch",
                "the allocation does not hold this booking's money",
                None,
            ));
        }
        let (amount, committed): (i64, i64) = allocations::table
            .find(row.allocation_id)
            .select((allocations::amount_pence, allocations::committed_pence))
            .first(conn)?;
        ledger::append(
            conn,
            Movement {
                allocation: AllocationId(row.allocation_id),
                booking: Some(id),
                kind: LedgerKind::Released,
                amount: Pence::from_stored(total).credit(),
                balance_after: Pence::from_stored(amount - committed),
                description: &format!("booking {} {}", id, to),
            },
        )?;
    }
    let mut view = row.view();
    view.status = to;
    view.updated_at = at;
    Ok(view)
}

/// The bookings `actor` may see, newest first.
pub fn list(conn: &mut Conn, actor: &Actor) -> DbResult<Vec<BookingView>> {
    let q = joined!()
        .select(BookingRow::as_select())
        .order(bookings::id.desc())
        .into_boxed();
    let q = match actor.role {
        Role::Provider => q.filter(bookings::organisation_id.eq(actor.organisation_id.map(|o| o.0).unwrap_or(-1))),
        Role::Family => q.filter(
            bookings::budget_holder_id.eq_any(
                holders::table
                    .filter(holders::family_user_id.eq(actor.user_id.0))
                    .select(holders::id),
            ),
        ),
        Role::Broker => q.filter(
            bookings::budget_holder_id.eq_any(
                holders::table
                    .filter(holders::broker_organisation_id.eq(actor.organisation_id.map(|o| o.0).unwrap_or(-1)))
                    .select(holders::id),
            ),
        ),
        Role::Council => q.filter(
            bookings::budget_holder_id.eq_any(
                holders::table
                    .filter(holders::council_id.eq(actor.council_id.map(|c| c.0).unwrap_or(-1)))
                    .select(holders::id),
            ),
        ),
    };
    let rows: Vec<BookingRow> = q.limit(1000).load(conn)?;
    Ok(rows.iter().map(BookingRow::view).collect())
}

pub fn get(conn: &mut Conn, actor: &Actor, id: BookingId) -> DbResult<BookingView> {
    let row = load(conn, id)?;
    let allowed = match actor.role {
        Role::Provider => actor.organisation_id.map(|o| o.0) == Some(row.organisation_id),
        _ => budget_holders::authorised(conn, actor, BudgetHolderId(row.budget_holder_id)).is_ok(),
    };
    if allowed {
        Ok(row.view())
    } else {
        Err(DbError::forbidden("this booking is not yours"))
    }
}
