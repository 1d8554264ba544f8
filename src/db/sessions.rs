//! A service's dated sessions and their series, and the seats booked on them. Places are taken and
//! given back with one guarded statement each, so a session's places taken never exceed its places.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{booking_sessions, bookings, budget_holders, dated_sessions, session_series, users};
use super::{Conn, DbResult, now};
use crate::domain::service::Day;
use crate::domain::sessions::{SeatStatus, SessionStatus, Times, Weekly};
use crate::domain::{AllocationId, BookingId, BudgetHolderId, Pence, SeriesId, ServiceId, SessionId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dated_sessions)]
struct SessionRow {
    id: i64,
    service_id: i64,
    series_id: Option<i64>,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    places: i32,
    places_taken: i32,
    status: String,
    moved_from: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub id: SessionId,
    pub service_id: ServiceId,
    pub series_id: Option<SeriesId>,
    pub times: Times,
    pub places: i32,
    pub places_taken: i32,
    pub status: SessionStatus,
    /// Where it started before the provider moved it.
    pub moved_from: Option<NaiveDateTime>,
}

impl SessionView {
    pub fn places_left(&self) -> i32 {
        (self.places - self.places_taken).max(0)
    }
}

impl From<SessionRow> for SessionView {
    fn from(r: SessionRow) -> SessionView {
        SessionView {
            id: SessionId(r.id),
            service_id: ServiceId(r.service_id),
            series_id: r.series_id.map(SeriesId),
            times: Times {
                starts_at: r.starts_at,
                ends_at: r.ends_at,
            },
            places: r.places,
            places_taken: r.places_taken,
            // The CHECK constraint keeps statuses to the enum's words.
            status: r.status.parse().unwrap_or(SessionStatus::Scheduled),
            moved_from: r.moved_from,
        }
    }
}

fn list_of(days: &str) -> Vec<&str> {
    days.split(',').filter(|d| !d.is_empty()).collect()
}

pub fn insert_series(conn: &mut Conn, service: ServiceId, w: &Weekly) -> DbResult<SeriesId> {
    let join = |items: Vec<String>| items.join(",");
    let id = diesel::insert_into(session_series::table)
        .values((
            session_series::service_id.eq(service.0),
            session_series::days.eq(join(w.days.iter().map(|d| d.as_str().to_string()).collect())),
            session_series::first_day.eq(w.from),
            session_series::last_day.eq(w.until),
            session_series::starts.eq(&w.starts),
            session_series::ends.eq(&w.ends),
            session_series::except_days.eq(join(w.except.iter().map(|d| d.to_string()).collect())),
            session_series::created_at.eq(now()),
        ))
        .returning(session_series::id)
        .get_result::<i64>(conn)?;
    Ok(SeriesId(id))
}

/// A service's weekly series as set, oldest first.
pub fn series_of(conn: &mut Conn, service: ServiceId) -> DbResult<Vec<(SeriesId, Weekly)>> {
    type Row = (i64, String, NaiveDate, NaiveDate, String, String, String);
    let rows: Vec<Row> = session_series::table
        .filter(session_series::service_id.eq(service.0))
        .order(session_series::id)
        .select((
            session_series::id,
            session_series::days,
            session_series::first_day,
            session_series::last_day,
            session_series::starts,
            session_series::ends,
            session_series::except_days,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, days, from, until, starts, ends, except)| {
            (
                SeriesId(id),
                Weekly {
                    days: list_of(&days).iter().filter_map(|d| d.parse::<Day>().ok()).collect(),
                    from,
                    until,
                    starts,
                    ends,
                    except: list_of(&except).iter().filter_map(|d| d.parse().ok()).collect(),
                },
            )
        })
        .collect())
}

pub fn insert(
    conn: &mut Conn,
    service: ServiceId,
    series: Option<SeriesId>,
    times: Times,
    places: i32,
) -> DbResult<SessionId> {
    let at = now();
    let id = diesel::insert_into(dated_sessions::table)
        .values((
            dated_sessions::service_id.eq(service.0),
            dated_sessions::series_id.eq(series.map(|s| s.0)),
            dated_sessions::starts_at.eq(times.starts_at),
            dated_sessions::ends_at.eq(times.ends_at),
            dated_sessions::places.eq(places),
            dated_sessions::status.eq(SessionStatus::Scheduled.as_str()),
            dated_sessions::created_at.eq(at),
            dated_sessions::updated_at.eq(at),
        ))
        .returning(dated_sessions::id)
        .get_result::<i64>(conn)?;
    Ok(SessionId(id))
}

pub fn load(conn: &mut Conn, id: SessionId) -> DbResult<Option<SessionView>> {
    Ok(dated_sessions::table
        .find(id.0)
        .select(SessionRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Into::into))
}

/// Several sessions by id, in id order (the order places are locked in).
pub fn several(conn: &mut Conn, ids: &[SessionId]) -> DbResult<Vec<SessionView>> {
    let raw: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let rows: Vec<SessionRow> = dated_sessions::table
        .filter(dated_sessions::id.eq_any(&raw))
        .order(dated_sessions::id)
        .select(SessionRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A service's sessions starting in `[from, to)`, earliest first.
pub fn of_service(
    conn: &mut Conn,
    service: ServiceId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<SessionView>> {
    let rows: Vec<SessionRow> = dated_sessions::table
        .filter(dated_sessions::service_id.eq(service.0))
        .filter(dated_sessions::starts_at.ge(from))
        .filter(dated_sessions::starts_at.lt(to))
        .order((dated_sessions::starts_at, dated_sessions::id))
        .limit(2000)
        .select(SessionRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A series' sessions still to come and scheduled, in id order.
pub fn of_series(conn: &mut Conn, series: SeriesId, after: NaiveDateTime) -> DbResult<Vec<SessionView>> {
    let rows: Vec<SessionRow> = dated_sessions::table
        .filter(dated_sessions::series_id.eq(series.0))
        .filter(dated_sessions::starts_at.gt(after))
        .filter(dated_sessions::status.eq(SessionStatus::Scheduled.as_str()))
        .order(dated_sessions::id)
        .select(SessionRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Whether a service has sessions still to come (it is then booked by session, not by quantity).
pub fn has_coming(conn: &mut Conn, service: ServiceId, after: NaiveDateTime) -> DbResult<bool> {
    let n: i64 = dated_sessions::table
        .filter(dated_sessions::service_id.eq(service.0))
        .filter(dated_sessions::starts_at.gt(after))
        .filter(dated_sessions::status.eq(SessionStatus::Scheduled.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// For each service, its next session with a place left: (starts_at, places left).
pub fn next_open(
    conn: &mut Conn,
    services: &[ServiceId],
    after: NaiveDateTime,
) -> DbResult<HashMap<ServiceId, (NaiveDateTime, i32)>> {
    let raw: Vec<i64> = services.iter().map(|s| s.0).collect();
    let rows: Vec<(i64, NaiveDateTime, i32, i32)> = dated_sessions::table
        .filter(dated_sessions::service_id.eq_any(&raw))
        .filter(dated_sessions::starts_at.gt(after))
        .filter(dated_sessions::status.eq(SessionStatus::Scheduled.as_str()))
        .filter(dated_sessions::places_taken.lt(dated_sessions::places))
        .order((dated_sessions::service_id, dated_sessions::starts_at))
        .select((
            dated_sessions::service_id,
            dated_sessions::starts_at,
            dated_sessions::places,
            dated_sessions::places_taken,
        ))
        .load(conn)?;
    let mut out = HashMap::new();
    for (service, starts_at, places, taken) in rows {
        out.entry(ServiceId(service)).or_insert((starts_at, places - taken));
    }
    Ok(out)
}

/// The days (in England) on which each service has a session to come with a place left.
pub fn open_days(
    conn: &mut Conn,
    services: &[ServiceId],
    after: NaiveDateTime,
) -> DbResult<HashMap<ServiceId, Vec<NaiveDateTime>>> {
    let raw: Vec<i64> = services.iter().map(|s| s.0).collect();
    let rows: Vec<(i64, NaiveDateTime)> = dated_sessions::table
        .filter(dated_sessions::service_id.eq_any(&raw))
        .filter(dated_sessions::starts_at.gt(after))
        .filter(dated_sessions::status.eq(SessionStatus::Scheduled.as_str()))
        .filter(dated_sessions::places_taken.lt(dated_sessions::places))
        .select((dated_sessions::service_id, dated_sessions::starts_at))
        .load(conn)?;
    let mut out: HashMap<ServiceId, Vec<NaiveDateTime>> = HashMap::new();
    for (service, starts_at) in rows {
        out.entry(ServiceId(service)).or_default().push(starts_at);
    }
    Ok(out)
}

/// Rule 1: take one place only if one is left, the session is on and has not started.
pub fn take_place(conn: &mut Conn, id: SessionId, at: NaiveDateTime) -> DbResult<bool> {
    let taken = diesel::update(
        dated_sessions::table
            .filter(dated_sessions::id.eq(id.0))
            .filter(dated_sessions::status.eq(SessionStatus::Scheduled.as_str()))
            .filter(dated_sessions::starts_at.gt(at))
            .filter(dated_sessions::places_taken.lt(dated_sessions::places)),
    )
    .set((
        dated_sessions::places_taken.eq(dated_sessions::places_taken + 1),
        dated_sessions::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Give one place back; false when none was taken.
pub fn release_place(conn: &mut Conn, id: SessionId) -> DbResult<bool> {
    let released = diesel::update(
        dated_sessions::table
            .filter(dated_sessions::id.eq(id.0))
            .filter(dated_sessions::places_taken.gt(0)),
    )
    .set((
        dated_sessions::places_taken.eq(dated_sessions::places_taken - 1),
        dated_sessions::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(released == 1)
}

/// Change a session's places, only if no fewer than those taken.
pub fn set_places(conn: &mut Conn, id: SessionId, places: i32) -> DbResult<bool> {
    let changed = diesel::update(
        dated_sessions::table
            .filter(dated_sessions::id.eq(id.0))
            .filter(dated_sessions::places_taken.le(places)),
    )
    .set((dated_sessions::places.eq(places), dated_sessions::updated_at.eq(now())))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Move a session; it remembers where it first started.
pub fn move_to(conn: &mut Conn, session: &SessionView, times: Times) -> DbResult<()> {
    diesel::update(dated_sessions::table.find(session.id.0))
        .set((
            dated_sessions::starts_at.eq(times.starts_at),
            dated_sessions::ends_at.eq(times.ends_at),
            dated_sessions::moved_from.eq(session.moved_from.or(Some(session.times.starts_at))),
            dated_sessions::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Set when a session ran, as it was (the demo's history; not a move, so no `moved_from`).
pub fn backdate(conn: &mut Conn, id: SessionId, times: Times) -> DbResult<()> {
    diesel::update(dated_sessions::table.find(id.0))
        .set((
            dated_sessions::starts_at.eq(times.starts_at),
            dated_sessions::ends_at.eq(times.ends_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Cancel a session: it holds no places any more.
pub fn cancel(conn: &mut Conn, id: SessionId) -> DbResult<bool> {
    let changed = diesel::update(
        dated_sessions::table
            .filter(dated_sessions::id.eq(id.0))
            .filter(dated_sessions::status.eq(SessionStatus::Scheduled.as_str())),
    )
    .set((
        dated_sessions::status.eq(SessionStatus::Cancelled.as_str()),
        dated_sessions::places_taken.eq(0),
        dated_sessions::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// One booked session as its booking sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seat {
    pub booking_id: BookingId,
    pub session: SessionView,
    pub price: Pence,
    pub status: SeatStatus,
}

pub fn insert_seat(conn: &mut Conn, booking: BookingId, session: SessionId, price: Pence) -> DbResult<()> {
    diesel::insert_into(booking_sessions::table)
        .values((
            booking_sessions::booking_id.eq(booking.0),
            booking_sessions::session_id.eq(session.0),
            booking_sessions::price_pence.eq(price.pence()),
            booking_sessions::status.eq(SeatStatus::Booked.as_str()),
            booking_sessions::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Move a seat from `from` to `to`; false when it was no longer in `from`.
pub fn set_seat(
    conn: &mut Conn,
    booking: BookingId,
    session: SessionId,
    from: SeatStatus,
    to: SeatStatus,
) -> DbResult<bool> {
    let changed = diesel::update(
        booking_sessions::table
            .filter(booking_sessions::booking_id.eq(booking.0))
            .filter(booking_sessions::session_id.eq(session.0))
            .filter(booking_sessions::status.eq(from.as_str())),
    )
    .set((
        booking_sessions::status.eq(to.as_str()),
        booking_sessions::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

type SeatRow = (i64, i64, String, SessionRow);

fn seat((booking, price, status, session): SeatRow) -> Seat {
    Seat {
        booking_id: BookingId(booking),
        session: session.into(),
        price: Pence::from_stored(price),
        status: status.parse().unwrap_or(SeatStatus::Booked),
    }
}

/// The seats of these bookings, each booking's in the order its sessions start.
pub fn seats_of(conn: &mut Conn, bookings: &[BookingId]) -> DbResult<Vec<Seat>> {
    let raw: Vec<i64> = bookings.iter().map(|b| b.0).collect();
    let rows: Vec<SeatRow> = booking_sessions::table
        .inner_join(dated_sessions::table)
        .filter(booking_sessions::booking_id.eq_any(&raw))
        .order((booking_sessions::booking_id, dated_sessions::starts_at))
        .select((
            booking_sessions::booking_id,
            booking_sessions::price_pence,
            booking_sessions::status,
            SessionRow::as_select(),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(seat).collect())
}

/// Every seat on a session, with the allocation that pays for it.
pub fn seats_on(conn: &mut Conn, session: SessionId) -> DbResult<Vec<(Seat, AllocationId)>> {
    let rows: Vec<(i64, i64, String, SessionRow, i64)> = booking_sessions::table
        .inner_join(dated_sessions::table)
        .inner_join(bookings::table)
        .filter(booking_sessions::session_id.eq(session.0))
        .order(booking_sessions::booking_id)
        .select((
            booking_sessions::booking_id,
            booking_sessions::price_pence,
            booking_sessions::status,
            SessionRow::as_select(),
            bookings::allocation_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(b, p, s, row, allocation)| (seat((b, p, s, row)), AllocationId(allocation)))
        .collect())
}

/// Whether this plan already holds a live seat on the session.
pub fn holder_has_seat(conn: &mut Conn, holder: BudgetHolderId, session: SessionId) -> DbResult<bool> {
    let n: i64 = booking_sessions::table
        .inner_join(bookings::table)
        .filter(bookings::budget_holder_id.eq(holder.0))
        .filter(booking_sessions::session_id.eq(session.0))
        .filter(booking_sessions::status.eq(SeatStatus::Booked.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// One line of a session's register: who is coming, what the family shared, how to reach it.
#[derive(Debug, Clone)]
pub struct RegisterLine {
    pub booking_id: BookingId,
    /// Whose plan the child's booking is on (for the access record; not shown).
    pub budget_holder_id: BudgetHolderId,
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    pub notes: String,
    /// The contact the family gave for this booking; its login's email if it gave none.
    pub contact: String,
    pub status: SeatStatus,
}

pub fn register(conn: &mut Conn, session: SessionId) -> DbResult<Vec<RegisterLine>> {
    type Row = (
        i64,
        i64,
        Option<String>,
        String,
        NaiveDate,
        String,
        String,
        String,
        String,
    );
    let rows: Vec<Row> = booking_sessions::table
        .inner_join(bookings::table.inner_join(budget_holders::table))
        .inner_join(users::table.on(users::id.eq(budget_holders::family_user_id)))
        .filter(booking_sessions::session_id.eq(session.0))
        .order((budget_holders::first_name, booking_sessions::booking_id))
        .select((
            booking_sessions::booking_id,
            bookings::budget_holder_id,
            bookings::reference,
            budget_holders::first_name,
            budget_holders::date_of_birth,
            bookings::notes,
            bookings::contact,
            users::email,
            booking_sessions::status,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(booking, holder, reference, first_name, dob, notes, contact, email, status)| RegisterLine {
                booking_id: BookingId(booking),
                budget_holder_id: BudgetHolderId(holder),
                reference: reference.unwrap_or_default(),
                first_name,
                date_of_birth: dob,
                notes,
                contact: if contact.trim().is_empty() { email } else { contact },
                status: status.parse().unwrap_or(SeatStatus::Booked),
            },
        )
        .collect())
}

/// For the whole-database check: places taken per session, and the seats and open offers that
/// should account for them.
pub fn place_books(conn: &mut Conn) -> DbResult<Vec<(SessionId, i32, i64)>> {
    let sessions: Vec<(i64, i32)> = dated_sessions::table
        .select((dated_sessions::id, dated_sessions::places_taken))
        .load(conn)?;
    let holding: Vec<&str> = SeatStatus::ALL
        .iter()
        .filter(|s| s.holds_place())
        .map(|s| s.as_str())
        .collect();
    let seats: Vec<(i64, i64)> = booking_sessions::table
        .filter(booking_sessions::status.eq_any(&holding))
        .group_by(booking_sessions::session_id)
        .select((booking_sessions::session_id, diesel::dsl::count_star()))
        .load(conn)?;
    let offers = super::waitlist::open_offers_per_session(conn)?;
    let seats: HashMap<i64, i64> = seats.into_iter().collect();
    Ok(sessions
        .into_iter()
        .map(|(id, taken)| {
            let held = seats.get(&id).copied().unwrap_or(0) + offers.get(&id).copied().unwrap_or(0);
            (SessionId(id), taken, held)
        })
        .collect())
}

/// A confirmed booking's place on a session: booking, session, service, plan and start.
pub type BookedSeat = (BookingId, SessionId, ServiceId, BudgetHolderId, NaiveDateTime);

/// Places still booked on sessions starting in `[from, to)` of confirmed bookings (reminders).
pub fn booked_seats_starting(conn: &mut Conn, from: NaiveDateTime, to: NaiveDateTime) -> DbResult<Vec<BookedSeat>> {
    let rows: Vec<(i64, i64, i64, i64, NaiveDateTime)> = booking_sessions::table
        .inner_join(dated_sessions::table)
        .inner_join(bookings::table)
        .filter(booking_sessions::status.eq(SeatStatus::Booked.as_str()))
        .filter(dated_sessions::status.eq(SessionStatus::Scheduled.as_str()))
        .filter(dated_sessions::starts_at.ge(from))
        .filter(dated_sessions::starts_at.lt(to))
        .filter(bookings::status.eq(crate::domain::booking::BookingStatus::Confirmed.as_str()))
        .order((dated_sessions::starts_at, booking_sessions::booking_id))
        .select((
            booking_sessions::booking_id,
            booking_sessions::session_id,
            dated_sessions::service_id,
            bookings::budget_holder_id,
            dated_sessions::starts_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(b, s, svc, h, at)| (BookingId(b), SessionId(s), ServiceId(svc), BudgetHolderId(h), at))
        .collect())
}

/// The plans holding a place on a session (booked, or kept and charged), each once with the
/// first of its bookings there: whom a change to the session concerns.
pub fn plans_booked_on(conn: &mut Conn, session: SessionId) -> DbResult<Vec<(BudgetHolderId, BookingId)>> {
    let held = [SeatStatus::Booked.as_str(), SeatStatus::Charged.as_str()];
    let rows: Vec<(i64, i64)> = booking_sessions::table
        .inner_join(bookings::table)
        .filter(booking_sessions::session_id.eq(session.0))
        .filter(booking_sessions::status.eq_any(held))
        .order(booking_sessions::booking_id)
        .select((bookings::budget_holder_id, booking_sessions::booking_id))
        .load(conn)?;
    let mut plans: Vec<(BudgetHolderId, BookingId)> = Vec::new();
    for (holder, booking) in rows {
        if !plans.iter().any(|(h, _)| h.0 == holder) {
            plans.push((BudgetHolderId(holder), BookingId(booking)));
        }
    }
    Ok(plans)
}
