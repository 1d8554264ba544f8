//! Calendar feeds (RFC 5545) at a secret, revocable address: a family's or a broker's booked
//! places, or a provider's sessions with how many places are booked (and nobody's name). Only the
//! token's hash is stored; a new link stops the old one working.

use chrono::{Duration, NaiveDateTime};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};

use super::{App, AppError, AppResult};
use crate::db::calendar::{self as store, BookedSeat, Place, RunSession};
use crate::db::{now, users};
use crate::domain::Actor;
use crate::domain::access::BookingScope;
use crate::domain::calendar::{
    EventState, is_token, places_booked, seat_state, seat_uid, session_state, session_uid, window_start,
};
use crate::domain::sessions::{SeatStatus, SessionStatus};

/// How often calendar apps are asked to fetch the feed again.
const REFRESH_HOURS: i64 = 1;

/// A new secret token for the actor's calendar feed; the one before stops working.
pub async fn link(app: &App, actor: &Actor) -> AppResult<String> {
    actor.calendar_scope().ok_or_else(|| AppError::wrong_role(actor))?;
    let token = crate::domain::hex(&rand::random::<[u8; 32]>());
    let (user, stored) = (actor.user_id, token.clone());
    app.write(move |conn| Ok(store::replace(conn, user, &stored)?)).await?;
    Ok(token)
}

/// When the actor's calendar link was made, if one works now (the address itself is never kept).
pub async fn live_since(app: &App, actor: &Actor) -> AppResult<Option<NaiveDateTime>> {
    actor.calendar_scope().ok_or_else(|| AppError::wrong_role(actor))?;
    let user = actor.user_id;
    app.read(move |conn| Ok(store::live_since(conn, user)?)).await
}

/// Stop the actor's calendar feed: its address answers 404 from now on.
pub async fn revoke(app: &App, actor: &Actor) -> AppResult<()> {
    actor.calendar_scope().ok_or_else(|| AppError::wrong_role(actor))?;
    let user = actor.user_id;
    app.write(move |conn| Ok(store::revoke(conn, user).map(|_| ())?)).await
}

/// What one feed shows.
enum Events {
    Seats(Vec<BookedSeat>),
    Sessions(Vec<RunSession>),
}

/// The feed a token opens, as an iCalendar document; None for a token that is unknown or revoked.
pub async fn feed(app: &App, token: String) -> AppResult<Option<String>> {
    if !is_token(&token) {
        return Ok(None);
    }
    let at = now();
    let events = app
        .read(move |conn| {
            let Some(user) = store::owner(conn, &token)? else {
                return Ok(None);
            };
            let Some(scope) = users::actor(conn, user)?.and_then(|a| a.calendar_scope()) else {
                return Ok(None);
            };
            let since = window_start(at);
            Ok(Some(match scope {
                BookingScope::Plans(plans) => Events::Seats(store::seats_for(conn, plans, since)?),
                BookingScope::Provider(organisation) => {
                    Events::Sessions(store::sessions_for(conn, organisation, since)?)
                }
            }))
        })
        .await?;
    events.map(|e| render(&e, at)).transpose()
}

fn location(place: &Place) -> String {
    [place.address.as_deref(), place.postcode.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn event(uid: &str, starts_at: NaiveDateTime, ends_at: NaiveDateTime, place: &Place, state: EventState) -> Event {
    let mut e = Event::new();
    e.uid(uid)
        .starts(starts_at.and_utc())
        .ends(ends_at.and_utc())
        .status(match state {
            EventState::Confirmed => EventStatus::Confirmed,
            EventState::Cancelled => EventStatus::Cancelled,
        });
    let where_ = location(place);
    if !where_.is_empty() {
        e.location(&where_);
    }
    e
}

fn seat_event(s: &BookedSeat, stamp: chrono::DateTime<chrono::Utc>) -> Event {
    let state = seat_state(s.seat_status, s.session_status);
    let mut lines = vec![
        format!("Provider: {}", s.provider),
        format!("Booking reference: {}", s.reference),
    ];
    if s.session_status == SessionStatus::Cancelled || s.seat_status == SeatStatus::SessionCancelled {
        lines.push("The provider cancelled this session; its money went back to the budget.".into());
    } else if s.seat_status == SeatStatus::Refunded {
        lines.push("This place was cancelled and refunded.".into());
    } else if s.seat_status == SeatStatus::Charged {
        lines.push("This place was cancelled after the provider's notice and charged.".into());
    }
    let mut e = event(
        &seat_uid(s.booking_id, s.session_id),
        s.starts_at,
        s.ends_at,
        &s.place,
        state,
    );
    e.summary(&format!("{} ({})", s.place.service_name, s.first_name))
        .description(&lines.join("\n"))
        .timestamp(stamp);
    e.done()
}

fn session_event(s: &RunSession, stamp: chrono::DateTime<chrono::Utc>) -> Event {
    let booked = places_booked(s.places_taken, s.places);
    let (summary, description) = match s.status {
        SessionStatus::Scheduled => (format!("{}: {booked}", s.place.service_name), booked),
        SessionStatus::Cancelled => (
            format!("{}: cancelled", s.place.service_name),
            "This session is cancelled; everyone booked on it was refunded.".to_string(),
        ),
    };
    let mut e = event(
        &session_uid(s.session_id),
        s.starts_at,
        s.ends_at,
        &s.place,
        session_state(s.status),
    );
    e.summary(&summary).description(&description).timestamp(stamp);
    e.done()
}

fn render(events: &Events, at: NaiveDateTime) -> AppResult<String> {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//localoffer//Local Offer sessions//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"))
        .ttl(&Duration::hours(REFRESH_HOURS));
    let stamp = at.and_utc();
    match events {
        Events::Seats(seats) => {
            calendar.name("Booked sessions");
            for s in seats {
                calendar.push(seat_event(s, stamp));
            }
        }
        Events::Sessions(sessions) => {
            calendar.name("Our sessions");
            for s in sessions {
                calendar.push(session_event(s, stamp));
            }
        }
    }
    let text: Result<String, _> = (&calendar.done()).try_into();
    text.map_err(|e| AppError::Internal(format!("calendar feed: {e}")))
}
