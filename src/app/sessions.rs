//! A provider's dated sessions: publishing one-off sessions and weekly series, cancelling, moving,
//! changing places; the register of who is coming and who came.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::bookings::move_seat;
use super::{App, AppError, AppResult, notices, records, waitlist};
use crate::db::sessions::{self as session_db, RegisterLine, SessionView};
use crate::db::{Conn, bookings, budget_holders, changes, now, services};
use crate::domain::sessions::{
    self, Attendance, SeatStatus, SessionPolicy, SessionStatus, Times, Weekly, check_places, places,
};
use crate::domain::validate::{FieldError, Invalid};
use crate::domain::{Actor, BookingId, OrganisationId, SeriesId, ServiceId, ServiceStatus, SessionId};

/// New sessions as a provider asks for them: one, or a weekly series.
#[derive(Debug, Clone)]
pub enum NewSessions {
    One { starts_at: String, ends_at: String },
    Weekly(Weekly),
}

fn owned_service(conn: &mut Conn, actor: &Actor, id: ServiceId) -> AppResult<()> {
    let owner = services::owner(conn, id)?.ok_or_else(|| AppError::not_found("service"))?;
    if actor.works_for(owner) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only the organisation that lists this service can change its sessions",
        ))
    }
}

/// Publish sessions for a service: places as given, or the service's capacity.
pub async fn publish(
    app: &App,
    actor: &Actor,
    service: ServiceId,
    new: NewSessions,
    places_given: Option<i32>,
) -> AppResult<Vec<SessionView>> {
    let actor = actor.clone();
    let created = app
        .write(move |conn| {
            owned_service(conn, &actor, service)?;
            let view = services::get(conn, service)?.ok_or_else(|| AppError::not_found("service"))?;
            let at = now();
            let places = places("places", places_given, view.capacity)?;
            let (times, series) = match &new {
                NewSessions::One { starts_at, ends_at } => {
                    let mut c = crate::domain::validate::Checker::new();
                    let s = c.take(sessions::parse_time("starts_at", starts_at));
                    let e = c.take(sessions::parse_time("ends_at", ends_at));
                    c.finish(|| ())?;
                    let (Some(starts_at), Some(ends_at)) = (s, e) else {
                        return Err(Invalid::one("starts_at", "is needed").into());
                    };
                    (vec![Times { starts_at, ends_at }.check("", at)?], None)
                }
                NewSessions::Weekly(w) => {
                    let times = w.expand(at)?;
                    (times, Some(session_db::insert_series(conn, service, w)?))
                }
            };
            let mut ids = Vec::with_capacity(times.len());
            for t in times {
                ids.push(session_db::insert(conn, service, series, t, places)?);
            }
            changes::record(conn, service)?;
            Ok(session_db::several(conn, &ids)?)
        })
        .await?;
    app.services_changed();
    tracing::info!(service_id = %service, sessions = created.len(), "sessions published");
    Ok(created)
}

/// A service's sessions between two days in England (both included), earliest first. Anyone may
/// see a published service's; a draft's only its provider.
pub async fn of_service(
    app: &App,
    viewer: Option<Actor>,
    service: ServiceId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<Vec<SessionView>> {
    app.read(move |conn| {
        let view = services::get(conn, service)?.ok_or_else(|| AppError::not_found("service"))?;
        let owner = OrganisationId(view.organisation.id);
        if !Actor::sees_service(viewer.as_ref(), owner, view.status == ServiceStatus::Published) {
            return Err(AppError::not_found("service"));
        }
        let start_of = |d: NaiveDate| sessions::london_to_utc("from", d.and_time(chrono::NaiveTime::MIN));
        let from_at = match from {
            Some(d) => start_of(d)?,
            // Coming sessions only, unless the caller asks for earlier ones.
            None => now(),
        };
        let to_at = match to {
            Some(d) => start_of(d + Duration::days(1)).map_err(|e| FieldError::new("to", e.message))?,
            // SQLite compares instants as text: a far date, not chrono's MAX (which prints "+262142").
            None => NaiveDate::from_ymd_opt(9999, 12, 31)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or(NaiveDateTime::MAX),
        };
        if to_at <= from_at {
            return Err(Invalid::one("to", "must not be before from").into());
        }
        Ok(session_db::of_service(conn, service, from_at, to_at)?)
    })
    .await
}

/// A session its provider owns, loaded in the transaction.
fn own_session(conn: &mut Conn, actor: &Actor, id: SessionId) -> AppResult<SessionView> {
    let s = session_db::load(conn, id)?.ok_or_else(|| AppError::not_found("session"))?;
    owned_service(conn, actor, s.service_id)?;
    Ok(s)
}

/// The provider cancels a session: every booking on it is refunded, its waiting list closed.
pub async fn cancel(app: &App, actor: &Actor, id: SessionId) -> AppResult<SessionView> {
    let actor = actor.clone();
    let done = app
        .write(move |conn| {
            let s = own_session(conn, &actor, id)?;
            if s.status == SessionStatus::Cancelled {
                return Err(AppError::conflict(
                    "invalid_transition",
                    "this session is already cancelled",
                    Some("status"),
                ));
            }
            let at = now();
            if s.times.starts_at <= at {
                return Err(AppError::conflict(
                    "session_started",
                    "a session that has started cannot be cancelled",
                    None,
                ));
            }
            waitlist::close(conn, id)?;
            let told = notices::plans_on(conn, id)?;
            // Places first (the session is off), then each seat's money back.
            session_db::cancel(conn, id)?;
            let cancelled = SessionView {
                status: SessionStatus::Cancelled,
                ..s.clone()
            };
            for (seat, _) in session_db::seats_on(conn, id)? {
                if matches!(seat.status, SeatStatus::Booked | SeatStatus::Charged) {
                    let booking =
                        bookings::load(conn, seat.booking_id)?.ok_or_else(|| AppError::not_found("booking"))?;
                    let seat = crate::db::sessions::Seat {
                        session: cancelled.clone(),
                        ..seat
                    };
                    move_seat(conn, &booking, &seat, SeatStatus::SessionCancelled, at)?;
                }
            }
            changes::record(conn, s.service_id)?;
            notices::session_cancelled(conn, &s, &told)?;
            Ok(session_db::load(conn, id)?.unwrap_or(cancelled))
        })
        .await?;
    app.services_changed();
    Ok(done)
}

/// What a provider may change on a session: its places, its times.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub places: Option<i32>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
}

/// Change a session's places (never below those taken; more places go to those waiting first)
/// or move it (families see the new time and where it was).
pub async fn change(app: &App, actor: &Actor, id: SessionId, change: Change) -> AppResult<SessionView> {
    let actor = actor.clone();
    let done = app
        .write(move |conn| {
            let s = own_session(conn, &actor, id)?;
            if s.status == SessionStatus::Cancelled {
                return Err(AppError::conflict(
                    "invalid_transition",
                    "this session is cancelled",
                    Some("status"),
                ));
            }
            let at = now();
            if change.starts_at.is_some() || change.ends_at.is_some() {
                if s.times.starts_at <= at {
                    return Err(AppError::conflict(
                        "session_started",
                        "a session that has started cannot be moved",
                        Some("starts_at"),
                    ));
                }
                let mut c = crate::domain::validate::Checker::new();
                let starts_at = match &change.starts_at {
                    Some(t) => c.take(sessions::parse_time("starts_at", t)),
                    None => Some(s.times.starts_at),
                };
                let ends_at = match &change.ends_at {
                    Some(t) => c.take(sessions::parse_time("ends_at", t)),
                    None => Some(s.times.ends_at),
                };
                c.finish(|| ())?;
                if let (Some(starts_at), Some(ends_at)) = (starts_at, ends_at) {
                    let times = Times { starts_at, ends_at }.check("", at)?;
                    session_db::move_to(conn, &s, times)?;
                    if let Some(moved) = session_db::load(conn, id)?
                        && moved.times.starts_at != s.times.starts_at
                    {
                        notices::session_moved(conn, &s, &moved)?;
                    }
                }
            }
            if let Some(places) = change.places {
                let places = check_places(places, s.places_taken)?;
                if !session_db::set_places(conn, id, places)? {
                    return Err(AppError::conflict(
                        "places_taken",
                        "more places were taken meanwhile; reload the session",
                        Some("places"),
                    ));
                }
                waitlist::offer_freed(conn, id, at)?;
            }
            changes::record(conn, s.service_id)?;
            Ok(session_db::load(conn, id)?.unwrap_or(s))
        })
        .await?;
    app.services_changed();
    Ok(done)
}

/// A session's register, for its provider only.
#[derive(Debug, Clone)]
pub struct Register {
    pub session: SessionView,
    pub service_name: String,
    pub policy: SessionPolicy,
    pub lines: Vec<RegisterLine>,
}

/// A session's register: the children booked on it, which goes in each one's access record.
pub async fn register(app: &App, actor: &Actor, id: SessionId) -> AppResult<Register> {
    let reader = actor.clone();
    let register = app.read(move |conn| register_in(conn, &reader, id)).await?;
    let holders = register.lines.iter().map(|l| l.budget_holder_id);
    records::record_listed(app, actor, holders, records::READ_REGISTER).await?;
    Ok(register)
}

fn register_in(conn: &mut Conn, actor: &Actor, id: SessionId) -> AppResult<Register> {
    let session = own_session(conn, actor, id)?;
    let service = services::get(conn, session.service_id)?.ok_or_else(|| AppError::not_found("service"))?;
    Ok(Register {
        lines: session_db::register(conn, id)?,
        service_name: service.name,
        policy: service.policy,
        session,
    })
}

/// One child's attendance as the provider marks it.
#[derive(Debug, Clone)]
pub struct Mark {
    pub booking_id: BookingId,
    pub status: Attendance,
}

/// Mark who came. Attended sessions are delivered; an absence follows the provider's policy
/// (charged, or refunded to the budget). A mark can be corrected, the money following it.
pub async fn mark(app: &App, actor: &Actor, id: SessionId, marks: Vec<Mark>) -> AppResult<Register> {
    let actor = actor.clone();
    app.write(move |conn| {
        let session = own_session(conn, &actor, id)?;
        if session.status == SessionStatus::Cancelled {
            return Err(AppError::conflict(
                "session_cancelled",
                "a cancelled session has no attendance to mark",
                Some("attendance"),
            ));
        }
        let policy = services::policy(conn, session.service_id)?.unwrap_or_default();
        let seats = session_db::seats_on(conn, id)?;
        let at = now();
        for (i, m) in marks.iter().enumerate() {
            let Some((seat, _)) = seats.iter().find(|(s, _)| s.booking_id == m.booking_id) else {
                return Err(
                    Invalid::one(format!("attendance[{i}].booking_id"), "is not booked on this session").into(),
                );
            };
            let to = sessions::attendance(at, session.times.starts_at, seat.status, m.status, policy.absence)?;
            if to == seat.status {
                continue;
            }
            let booking = bookings::load(conn, seat.booking_id)?.ok_or_else(|| AppError::not_found("booking"))?;
            if !seat.status.holds_money() && to.holds_money() {
                // An absence refunded, then corrected to attended: the money is taken again.
                let allocation = budget_holders::allocation(conn, booking.budget_holder_id, booking.allocation_id)?
                    .ok_or_else(|| AppError::not_found("allocation"))?;
                super::bookings::recharge(
                    conn,
                    &allocation,
                    booking.id,
                    seat.price,
                    &format!(
                        "booking {} {}: attended after all",
                        booking.reference,
                        sessions::describe(session.times.starts_at, session.times.ends_at)
                    ),
                )?;
                if !crate::db::sessions::set_seat(conn, booking.id, id, seat.status, to)? {
                    return Err(AppError::conflict(
                        "invalid_transition",
                        "the register changed meanwhile; reload it",
                        None,
                    ));
                }
            } else {
                move_seat(conn, &booking, seat, to, at)?;
            }
        }
        register_in(conn, &actor, id)
    })
    .await
}

/// The series a service's sessions were published in (for the Open Referral feed's schedules).
pub async fn series_of(app: &App, service: ServiceId) -> AppResult<Vec<(SeriesId, Weekly)>> {
    app.read(move |conn| Ok(session_db::series_of(conn, service)?)).await
}

/// A provider's timetable for one of its services: its sessions (the last month's and every one
/// to come) and the series they were published in.
#[derive(Debug, Clone)]
pub struct Timetable {
    pub service: crate::db::services::ServiceView,
    pub sessions: Vec<SessionView>,
    pub series: Vec<(SeriesId, Weekly)>,
}

pub async fn timetable(app: &App, actor: &Actor, service: ServiceId) -> AppResult<Timetable> {
    let actor = actor.clone();
    app.read(move |conn| {
        owned_service(conn, &actor, service)?;
        let view = services::get(conn, service)?.ok_or_else(|| AppError::not_found("service"))?;
        let from = now() - Duration::days(31);
        let far = NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or(NaiveDateTime::MAX);
        Ok(Timetable {
            service: view,
            sessions: session_db::of_service(conn, service, from, far)?,
            series: session_db::series_of(conn, service)?,
        })
    })
    .await
}
