//! Bookings: stored with the price they were made at, found again by an idempotency key, moved
//! between states only from the state the caller saw.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    booking_sessions, bookings, budget_holders as holders, dated_sessions, price_options, services, users,
};
use super::sessions::Seat;
use super::{Conn, DbResult, now};
use crate::domain::access::{BookingScope, PlanScope};
use crate::domain::booking::{BookingStatus, Idempotency};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::{AllocationId, BookingId, BudgetHolderId, OrganisationId, Pence, PriceOptionId, ServiceId, UserId};

#[derive(Debug, Clone)]
pub struct BookingView {
    pub id: BookingId,
    pub status: BookingStatus,
    pub budget_holder_id: BudgetHolderId,
    pub allocation_id: AllocationId,
    pub service_id: ServiceId,
    pub organisation_id: OrganisationId,
    pub service_name: String,
    pub price_option_id: PriceOptionId,
    pub price_option_label: String,
    pub quantity: i64,
    pub unit_price: Pence,
    pub total: Pence,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Bought by quantity, or as dated sessions (then `seats` says which and how they stand).
    pub kind: BookingKind,
    pub reference: String,
    pub notes: String,
    pub contact: String,
    /// The child's first name (the family's and the provider's to see).
    pub first_name: String,
    /// The family's login, where the provider reaches it when the booking gives no contact.
    pub family_email: String,
    pub seats: Vec<Seat>,
}

impl BookingView {
    /// How the provider reaches the family about this booking.
    pub fn contact_or_email(&self) -> &str {
        if self.contact.trim().is_empty() {
            &self.family_email
        } else {
            &self.contact
        }
    }
}

crate::domain::text_enum!(
    BookingKind { Quantity = "quantity", Sessions = "sessions" }
);

/// A booking found by the idempotency key it was made under.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub booking: BookingId,
    /// What was left on the allocation straight after it was made.
    pub remaining_after: Pence,
    pub fingerprint: Option<String>,
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
    organisation_id: i64,
    kind: String,
    reference: Option<String>,
    notes: String,
    contact: String,
    #[diesel(select_expression = holders::first_name)]
    first_name: String,
    #[diesel(select_expression = users::email)]
    family_email: String,
}

impl BookingRow {
    fn view(&self) -> BookingView {
        BookingView {
            id: BookingId(self.id),
            // The CHECK constraint keeps statuses to the enum's words.
            status: self.status.parse().unwrap_or(BookingStatus::Requested),
            budget_holder_id: BudgetHolderId(self.budget_holder_id),
            allocation_id: AllocationId(self.allocation_id),
            service_id: ServiceId(self.service_id),
            organisation_id: OrganisationId(self.organisation_id),
            service_name: self.service_name.clone(),
            price_option_id: PriceOptionId(self.price_option_id),
            price_option_label: self.price_option_label.clone(),
            quantity: self.quantity,
            unit_price: Pence::from_stored(self.unit_price_pence),
            total: Pence::from_stored(self.total_pence),
            created_at: self.created_at,
            updated_at: self.updated_at,
            kind: self.kind.parse().unwrap_or(BookingKind::Quantity),
            reference: self.reference.clone().unwrap_or_else(|| format!("#{}", self.id)),
            notes: self.notes.clone(),
            contact: self.contact.clone(),
            first_name: self.first_name.clone(),
            family_email: self.family_email.clone(),
            seats: Vec::new(),
        }
    }
}

/// Bookings with their seats (for bookings of sessions), each booking's in date order.
fn with_seats(conn: &mut Conn, mut list: Vec<BookingView>) -> DbResult<Vec<BookingView>> {
    let ids: Vec<BookingId> = list
        .iter()
        .filter(|b| b.kind == BookingKind::Sessions)
        .map(|b| b.id)
        .collect();
    if ids.is_empty() {
        return Ok(list);
    }
    let mut seats = super::sessions::seats_of(conn, &ids)?;
    for b in &mut list {
        let (mine, rest): (Vec<Seat>, Vec<Seat>) = seats.into_iter().partition(|s| s.booking_id == b.id);
        b.seats = mine;
        seats = rest;
    }
    Ok(list)
}

/// Bookings with the names a person reads them by.
macro_rules! joined {
    () => {
        bookings::table
            .inner_join(services::table)
            .inner_join(price_options::table)
            .inner_join(holders::table.inner_join(users::table.on(users::id.eq(holders::family_user_id))))
    };
}

pub fn load(conn: &mut Conn, id: BookingId) -> DbResult<Option<BookingView>> {
    let row: Option<BookingRow> = joined!()
        .filter(bookings::id.eq(id.0))
        .select(BookingRow::as_select())
        .get_result(conn)
        .optional()?;
    Ok(with_seats(conn, row.iter().map(BookingRow::view).collect())?.pop())
}

/// The booking `user` made under `key`, if any.
pub fn by_key(conn: &mut Conn, user: UserId, key: &str) -> DbResult<Option<Keyed>> {
    let row: Option<(i64, i64, Option<String>)> = bookings::table
        .filter(bookings::created_by.eq(user.0))
        .filter(bookings::idempotency_key.eq(key))
        .select((
            bookings::id,
            bookings::remaining_after_pence,
            bookings::request_fingerprint,
        ))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(id, remaining_after, fingerprint)| Keyed {
        booking: BookingId(id),
        remaining_after: Pence::from_stored(remaining_after),
        fingerprint,
    }))
}

pub struct NewBooking<'a> {
    pub budget_holder: BudgetHolderId,
    pub allocation: AllocationId,
    pub service: ServiceId,
    pub organisation: OrganisationId,
    pub price_option: PriceOptionId,
    pub quantity: i64,
    pub unit_price: Pence,
    pub total: Pence,
    pub created_by: UserId,
    pub idempotency: Option<&'a Idempotency>,
    pub remaining_after: Pence,
    pub kind: BookingKind,
    pub reference: String,
    pub notes: &'a str,
    pub contact: &'a str,
}

/// Store a booking (requested). Its key is unique per user: a second request racing with the same
/// key is a unique violation, which the caller answers by replaying the first.
pub fn insert(conn: &mut Conn, b: NewBooking<'_>) -> DbResult<BookingId> {
    let at = now();
    let id = diesel::insert_into(bookings::table)
        .values((
            bookings::budget_holder_id.eq(b.budget_holder.0),
            bookings::allocation_id.eq(b.allocation.0),
            bookings::service_id.eq(b.service.0),
            bookings::organisation_id.eq(b.organisation.0),
            bookings::price_option_id.eq(b.price_option.0),
            bookings::quantity.eq(b.quantity),
            bookings::unit_price_pence.eq(b.unit_price.pence()),
            bookings::total_pence.eq(b.total.pence()),
            bookings::status.eq(BookingStatus::Requested.as_str()),
            bookings::created_by.eq(b.created_by.0),
            bookings::idempotency_key.eq(b.idempotency.map(|i| i.key.as_str())),
            bookings::request_fingerprint.eq(b.idempotency.map(|i| i.fingerprint.as_str())),
            bookings::remaining_after_pence.eq(b.remaining_after.pence()),
            bookings::created_at.eq(at),
            bookings::updated_at.eq(at),
            (
                bookings::kind.eq(b.kind.as_str()),
                bookings::reference.eq(Some(&b.reference)),
                bookings::notes.eq(b.notes),
                bookings::contact.eq(b.contact),
            ),
        ))
        .returning(bookings::id)
        .get_result::<i64>(conn)?;
    Ok(BookingId(id))
}

/// Move a booking from `from` to `to`; false when it was no longer in `from` (changed meanwhile).
pub fn set_status(conn: &mut Conn, id: BookingId, from: BookingStatus, to: BookingStatus) -> DbResult<bool> {
    let changed = diesel::update(
        bookings::table
            .filter(bookings::id.eq(id.0))
            .filter(bookings::status.eq(from.as_str())),
    )
    .set((bookings::status.eq(to.as_str()), bookings::updated_at.eq(now())))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Narrows a boxed query over `bookings` joined to `holders` to what a scope may see.
macro_rules! in_scope {
    ($q:expr, $scope:expr) => {
        match $scope {
            BookingScope::Provider(organisation) => $q.filter(bookings::organisation_id.eq(organisation.0)),
            BookingScope::Plans(PlanScope::Family(user)) => $q.filter(holders::family_user_id.eq(user.0)),
            BookingScope::Plans(PlanScope::Broker(organisation)) => {
                $q.filter(holders::broker_organisation_id.eq(organisation.0))
            }
            BookingScope::Plans(PlanScope::Council(council)) => $q.filter(holders::council_id.eq(council.0)),
        }
    };
}

/// The bookings in a scope holding a place on a session that starts between `from` and `to`,
/// newest first: the coming sessions a family's page lists.
pub fn with_sessions_between(
    conn: &mut Conn,
    scope: BookingScope,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<BookingView>> {
    let booked = booking_sessions::table
        .inner_join(dated_sessions::table)
        .filter(dated_sessions::starts_at.between(from, to))
        .select(booking_sessions::booking_id);
    let q = joined!()
        .filter(bookings::id.eq_any(booked))
        .select(BookingRow::as_select())
        .order(bookings::id.desc())
        .into_boxed();
    let rows: Vec<BookingRow> = in_scope!(q, scope).load(conn)?;
    with_seats(conn, rows.iter().map(BookingRow::view).collect())
}

/// One page of the bookings in a scope, newest first, and how many there are in all.
pub fn list(conn: &mut Conn, scope: BookingScope, page: PageRequest) -> DbResult<Page<BookingView>> {
    let counted = bookings::table.inner_join(holders::table).into_boxed();
    let total: i64 = in_scope!(counted, scope).count().get_result(conn)?;
    let q = joined!()
        .select(BookingRow::as_select())
        .order(bookings::id.desc())
        .into_boxed();
    let rows: Vec<BookingRow> = in_scope!(q, scope)
        .offset(page.offset())
        .limit(page.limit())
        .load(conn)?;
    let views = with_seats(conn, rows.iter().map(BookingRow::view).collect())?;
    Ok(Page::new(views, u64::try_from(total).unwrap_or(0), page))
}

/// Whether a provider has ever had a booking on this plan (so it may invoice it).
pub fn provider_has_booked(conn: &mut Conn, provider: OrganisationId, holder: BudgetHolderId) -> DbResult<bool> {
    let n: i64 = bookings::table
        .filter(bookings::organisation_id.eq(provider.0))
        .filter(bookings::budget_holder_id.eq(holder.0))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
