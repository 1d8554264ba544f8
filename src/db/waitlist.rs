//! Waiting lists: who joined which full session, in order, and the offers made to them.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{budget_holders, waitlist_entries};
use super::{Conn, DbResult, now};
use crate::domain::access::PlanScope;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::sessions::WaitStatus;
use crate::domain::{AllocationId, BookingId, BudgetHolderId, PriceOptionId, SessionId, UserId, WaitlistId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = waitlist_entries)]
struct EntryRow {
    id: i64,
    session_id: i64,
    budget_holder_id: i64,
    allocation_id: i64,
    price_option_id: i64,
    status: String,
    offer_expires_at: Option<NaiveDateTime>,
    booking_id: Option<i64>,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: WaitlistId,
    pub session_id: SessionId,
    pub budget_holder_id: BudgetHolderId,
    pub allocation_id: AllocationId,
    pub price_option_id: PriceOptionId,
    pub status: WaitStatus,
    pub offer_expires_at: Option<NaiveDateTime>,
    pub booking_id: Option<BookingId>,
    pub created_at: NaiveDateTime,
}

impl From<EntryRow> for Entry {
    fn from(r: EntryRow) -> Entry {
        Entry {
            id: WaitlistId(r.id),
            session_id: SessionId(r.session_id),
            budget_holder_id: BudgetHolderId(r.budget_holder_id),
            allocation_id: AllocationId(r.allocation_id),
            price_option_id: PriceOptionId(r.price_option_id),
            status: r.status.parse().unwrap_or(WaitStatus::Waiting),
            offer_expires_at: r.offer_expires_at,
            booking_id: r.booking_id.map(BookingId),
            created_at: r.created_at,
        }
    }
}

pub struct NewEntry {
    pub session: SessionId,
    pub holder: BudgetHolderId,
    pub allocation: AllocationId,
    pub price_option: PriceOptionId,
    pub created_by: UserId,
}

pub fn insert(conn: &mut Conn, e: NewEntry) -> DbResult<Entry> {
    let at = now();
    let id = diesel::insert_into(waitlist_entries::table)
        .values((
            waitlist_entries::session_id.eq(e.session.0),
            waitlist_entries::budget_holder_id.eq(e.holder.0),
            waitlist_entries::allocation_id.eq(e.allocation.0),
            waitlist_entries::price_option_id.eq(e.price_option.0),
            waitlist_entries::created_by.eq(e.created_by.0),
            waitlist_entries::status.eq(WaitStatus::Waiting.as_str()),
            waitlist_entries::created_at.eq(at),
            waitlist_entries::updated_at.eq(at),
        ))
        .returning(waitlist_entries::id)
        .get_result::<i64>(conn)?;
    load(conn, WaitlistId(id))?.ok_or(super::DbError::NotFound("waiting list place"))
}

pub fn load(conn: &mut Conn, id: WaitlistId) -> DbResult<Option<Entry>> {
    Ok(waitlist_entries::table
        .find(id.0)
        .select(EntryRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Into::into))
}

/// The first one still waiting for this session.
pub fn first_waiting(conn: &mut Conn, session: SessionId) -> DbResult<Option<Entry>> {
    Ok(waitlist_entries::table
        .filter(waitlist_entries::session_id.eq(session.0))
        .filter(waitlist_entries::status.eq(WaitStatus::Waiting.as_str()))
        .order(waitlist_entries::id)
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?
        .map(Into::into))
}

/// Whether this plan is already waiting for (or offered) the session.
pub fn holder_waiting(conn: &mut Conn, holder: BudgetHolderId, session: SessionId) -> DbResult<bool> {
    let n: i64 = waitlist_entries::table
        .filter(waitlist_entries::budget_holder_id.eq(holder.0))
        .filter(waitlist_entries::session_id.eq(session.0))
        .filter(waitlist_entries::status.eq_any([WaitStatus::Waiting.as_str(), WaitStatus::Offered.as_str()]))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Entries still open on a session (waiting or offered).
pub fn open_on(conn: &mut Conn, session: SessionId) -> DbResult<Vec<Entry>> {
    let rows: Vec<EntryRow> = waitlist_entries::table
        .filter(waitlist_entries::session_id.eq(session.0))
        .filter(waitlist_entries::status.eq_any([WaitStatus::Waiting.as_str(), WaitStatus::Offered.as_str()]))
        .order(waitlist_entries::id)
        .select(EntryRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Move an entry from `from` to `to` (with the offer's deadline or the booking it became); false
/// when it was no longer in `from`.
pub fn set_status(
    conn: &mut Conn,
    id: WaitlistId,
    from: WaitStatus,
    to: WaitStatus,
    offer_expires_at: Option<NaiveDateTime>,
    booking: Option<BookingId>,
) -> DbResult<bool> {
    let changed = diesel::update(
        waitlist_entries::table
            .filter(waitlist_entries::id.eq(id.0))
            .filter(waitlist_entries::status.eq(from.as_str())),
    )
    .set((
        waitlist_entries::status.eq(to.as_str()),
        waitlist_entries::offer_expires_at.eq(offer_expires_at),
        waitlist_entries::booking_id.eq(booking.map(|b| b.0)),
        waitlist_entries::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The entries of the plans in a scope, as a boxed query.
macro_rules! of_plans {
    ($scope:expr) => {{
        let q = waitlist_entries::table
            .inner_join(budget_holders::table.on(budget_holders::id.eq(waitlist_entries::budget_holder_id)))
            .into_boxed();
        match $scope {
            PlanScope::Family(user) => q.filter(budget_holders::family_user_id.eq(user.0)),
            PlanScope::Broker(org) => q.filter(budget_holders::broker_organisation_id.eq(org.0)),
            PlanScope::Council(council) => q.filter(budget_holders::council_id.eq(council.0)),
        }
    }};
}

/// One page of the entries of the plans in a scope, newest first, and how many there are in all.
pub fn of_scope(conn: &mut Conn, scope: PlanScope, page: PageRequest) -> DbResult<Page<Entry>> {
    let total: i64 = of_plans!(scope).count().get_result(conn)?;
    let rows: Vec<EntryRow> = of_plans!(scope)
        .order(waitlist_entries::id.desc())
        .offset(page.offset())
        .limit(page.limit())
        .select(EntryRow::as_select())
        .load(conn)?;
    let entries = rows.into_iter().map(Into::into).collect();
    Ok(Page::new(entries, u64::try_from(total).unwrap_or(0), page))
}

/// The entries still waiting or offered on the plans in a scope, newest first (at most one per
/// session and plan, so the list is as long as the sessions being waited for).
pub fn open_of_scope(conn: &mut Conn, scope: PlanScope) -> DbResult<Vec<Entry>> {
    let rows: Vec<EntryRow> = of_plans!(scope)
        .filter(waitlist_entries::status.eq_any([WaitStatus::Waiting.as_str(), WaitStatus::Offered.as_str()]))
        .order(waitlist_entries::id.desc())
        .select(EntryRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Open offers per session: each holds a place until it is accepted, declined or expires.
pub fn open_offers_per_session(conn: &mut Conn) -> DbResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = waitlist_entries::table
        .filter(waitlist_entries::status.eq(WaitStatus::Offered.as_str()))
        .group_by(waitlist_entries::session_id)
        .select((waitlist_entries::session_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
