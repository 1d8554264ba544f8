//! Calendar feeds: a secret, revocable address per user (only the token's hash is kept).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    booking_sessions, bookings, budget_holders, calendar_feeds, dated_sessions, organisations, services,
};
use super::users::token_hash;
use super::{Conn, DbResult, now};
use crate::domain::access::PlanScope;
use crate::domain::sessions::{SeatStatus, SessionStatus};
use crate::domain::{BookingId, OrganisationId, SessionId, UserId};

/// The most events one feed holds.
const MAX_EVENTS: i64 = 5000;

/// A new feed for the user; the ones before it stop working.
pub fn replace(conn: &mut Conn, user: UserId, token: &str) -> DbResult<()> {
    diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::user_id.eq(user.0))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(Some(now())))
    .execute(conn)?;
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::user_id.eq(user.0),
            calendar_feeds::token_hash.eq(token_hash(token)),
            calendar_feeds::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// When the user's live feed was made, if there is one.
pub fn live_since(conn: &mut Conn, user: UserId) -> DbResult<Option<NaiveDateTime>> {
    Ok(calendar_feeds::table
        .filter(calendar_feeds::user_id.eq(user.0))
        .filter(calendar_feeds::revoked_at.is_null())
        .select(diesel::dsl::max(calendar_feeds::created_at))
        .get_result::<Option<NaiveDateTime>>(conn)?)
}

/// Stop every feed of the user.
pub fn revoke(conn: &mut Conn, user: UserId) -> DbResult<usize> {
    Ok(diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::user_id.eq(user.0))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(Some(now())))
    .execute(conn)?)
}

/// Whose feed this token opens, if it is still live.
pub fn owner(conn: &mut Conn, token: &str) -> DbResult<Option<UserId>> {
    Ok(calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash(token)))
        .filter(calendar_feeds::revoked_at.is_null())
        .select(calendar_feeds::user_id)
        .get_result::<i64>(conn)
        .optional()?
        .map(UserId))
}

/// Where a service happens, as its listing says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub service_name: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
}

/// One booked place on a session, with what a family's calendar shows of it.
#[derive(Debug, Clone)]
pub struct BookedSeat {
    pub booking_id: BookingId,
    pub reference: String,
    pub first_name: String,
    pub provider: String,
    pub place: Place,
    pub session_id: SessionId,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub session_status: SessionStatus,
    pub seat_status: SeatStatus,
}

type SeatRow = (
    i64,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    NaiveDateTime,
    NaiveDateTime,
    String,
    String,
);

/// The booked places on the plans in `scope` whose sessions start at or after `since`, earliest
/// first.
pub fn seats_for(conn: &mut Conn, scope: PlanScope, since: NaiveDateTime) -> DbResult<Vec<BookedSeat>> {
    let q = booking_sessions::table
        .inner_join(dated_sessions::table.inner_join(services::table.inner_join(organisations::table)))
        .inner_join(bookings::table.inner_join(budget_holders::table))
        .filter(dated_sessions::starts_at.ge(since))
        .order((dated_sessions::starts_at, booking_sessions::booking_id))
        .limit(MAX_EVENTS)
        .select((
            booking_sessions::booking_id,
            bookings::reference,
            budget_holders::first_name,
            organisations::name,
            services::name,
            services::address,
            services::postcode,
            dated_sessions::id,
            dated_sessions::starts_at,
            dated_sessions::ends_at,
            dated_sessions::status,
            booking_sessions::status,
        ))
        .into_boxed();
    let q = match scope {
        PlanScope::Family(user) => q.filter(budget_holders::family_user_id.eq(user.0)),
        PlanScope::Broker(organisation) => q.filter(budget_holders::broker_organisation_id.eq(organisation.0)),
        PlanScope::Council(council) => q.filter(budget_holders::council_id.eq(council.0)),
    };
    let rows: Vec<SeatRow> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(booking, reference, first_name, provider, name, address, postcode, session, starts, ends, ss, seat)| {
                BookedSeat {
                    booking_id: BookingId(booking),
                    reference: reference.unwrap_or_default(),
                    first_name,
                    provider,
                    place: Place {
                        service_name: name,
                        address,
                        postcode,
                    },
                    session_id: SessionId(session),
                    starts_at: starts,
                    ends_at: ends,
                    // The CHECK constraints keep statuses to the enums' words.
                    session_status: ss.parse().unwrap_or(SessionStatus::Scheduled),
                    seat_status: seat.parse().unwrap_or(SeatStatus::Booked),
                }
            },
        )
        .collect())
}

/// One session a provider runs, with its places: no one's booking is in it.
#[derive(Debug, Clone)]
pub struct RunSession {
    pub session_id: SessionId,
    pub place: Place,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub places: i32,
    pub places_taken: i32,
    pub status: SessionStatus,
}

/// The sessions of an organisation's services starting at or after `since`, earliest first.
pub fn sessions_for(conn: &mut Conn, organisation: OrganisationId, since: NaiveDateTime) -> DbResult<Vec<RunSession>> {
    type Row = (
        i64,
        String,
        Option<String>,
        Option<String>,
        NaiveDateTime,
        NaiveDateTime,
        i32,
        i32,
        String,
    );
    let rows: Vec<Row> = dated_sessions::table
        .inner_join(services::table)
        .filter(services::organisation_id.eq(organisation.0))
        .filter(dated_sessions::starts_at.ge(since))
        .order((dated_sessions::starts_at, dated_sessions::id))
        .limit(MAX_EVENTS)
        .select((
            dated_sessions::id,
            services::name,
            services::address,
            services::postcode,
            dated_sessions::starts_at,
            dated_sessions::ends_at,
            dated_sessions::places,
            dated_sessions::places_taken,
            dated_sessions::status,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, address, postcode, starts_at, ends_at, places, places_taken, status)| RunSession {
                session_id: SessionId(id),
                place: Place {
                    service_name: name,
                    address,
                    postcode,
                },
                starts_at,
                ends_at,
                places,
                places_taken,
                status: status.parse().unwrap_or(SessionStatus::Scheduled),
            },
        )
        .collect())
}
