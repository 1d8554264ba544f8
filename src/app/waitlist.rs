//! Waiting lists: a family joins a full session; when a place frees, the first waiting gets an
//! offer that holds the place for the provider's offer window, and the job runner lets it expire
//! on time (on whichever server) so the next family gets its chance.

use chrono::{Duration, NaiveDateTime};

use super::bookings::{self, plan_for};
use super::{App, AppError, AppResult, notices};
use crate::db::bookings::BookingView;
use crate::db::sessions::{self as session_db, SessionView};
use crate::db::waitlist::{self, Entry, NewEntry};
use crate::db::{Conn, budget_holders, changes, jobs, now, services};
use crate::domain::booking::BookingInput;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::sessions::{SessionStatus, WaitStatus};
use crate::domain::validate::Invalid;
use crate::domain::{Actor, AllocationId, BudgetHolderId, CouncilId, PriceOptionId, SessionId, WaitlistId};

/// The job that lets an offer lapse when its window closes.
pub const OFFER_EXPIRY: &str = "waitlist_offer_expiry";

/// Asking to wait for a place on a full session.
#[derive(Debug, Clone)]
pub struct JoinInput {
    pub budget_holder_id: BudgetHolderId,
    pub allocation_id: AllocationId,
    pub price_option_id: PriceOptionId,
}

fn session(conn: &mut Conn, id: SessionId) -> AppResult<SessionView> {
    session_db::load(conn, id)?.ok_or_else(|| AppError::not_found("session"))
}

/// The family (or its broker) joins the waiting list of a full session.
pub async fn join(app: &App, actor: &Actor, session_id: SessionId, input: JoinInput) -> AppResult<Entry> {
    let actor = actor.clone();
    app.write(move |conn| {
        let s = session(conn, session_id)?;
        let holder = budget_holders::load(conn, input.budget_holder_id)?
            .ok_or_else(|| AppError::unknown("budget_holder_id", "no such budget holder"))?;
        if !actor.spends_from(&holder.owners()) {
            return Err(AppError::forbidden(
                "only the family or its broker can join a waiting list for this plan",
            ));
        }
        let at = now();
        if s.status == SessionStatus::Cancelled || s.times.starts_at <= at {
            return Err(AppError::conflict(
                "not_bookable",
                "this session is cancelled or has started",
                None,
            ));
        }
        if s.places_left() > 0 {
            return Err(AppError::conflict(
                "places_left",
                "this session has places left: book it instead",
                None,
            ));
        }
        let (service, _, offer) = services::offer(conn, input.price_option_id, CouncilId(holder.council_id))?
            .ok_or_else(|| AppError::unknown("price_option_id", "no such price option"))?;
        if service != s.service_id {
            return Err(Invalid::one("price_option_id", "is not a price option of this session's service").into());
        }
        let allocation = budget_holders::allocation(conn, input.budget_holder_id, input.allocation_id)?
            .ok_or_else(|| Invalid::one("allocation_id", "is not one of this budget holder's allocations"))?;
        offer.check(
            allocation.stream,
            holder.date_of_birth,
            crate::domain::sessions::london_date(at),
        )?;
        if waitlist::holder_waiting(conn, input.budget_holder_id, session_id)?
            || session_db::holder_has_seat(conn, input.budget_holder_id, session_id)?
        {
            return Err(AppError::conflict(
                "already_waiting",
                "this child is already booked on this session or waiting for it",
                None,
            ));
        }
        Ok(waitlist::insert(
            conn,
            NewEntry {
                session: session_id,
                holder: input.budget_holder_id,
                allocation: input.allocation_id,
                price_option: input.price_option_id,
                created_by: actor.user_id,
            },
        )?)
    })
    .await
}

/// A page of the caller's waiting-list places, newest first.
pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<Entry>> {
    let scope = actor
        .plan_scope()
        .ok_or_else(|| AppError::forbidden("providers do not wait for places"))?;
    app.read(move |conn| Ok(waitlist::of_scope(conn, scope, page)?)).await
}

fn own_entry(conn: &mut Conn, actor: &Actor, id: WaitlistId) -> AppResult<Entry> {
    let entry = waitlist::load(conn, id)?.ok_or_else(|| AppError::not_found("waiting list place"))?;
    if !actor.spends_from(&plan_for(conn, actor, entry.budget_holder_id)?.owners()) {
        return Err(AppError::forbidden("this waiting list place is not yours"));
    }
    Ok(entry)
}

/// Accept an offer while it is open: the place it held becomes a booking, if the money is there.
pub async fn accept(app: &App, actor: &Actor, id: WaitlistId) -> AppResult<(Entry, BookingView)> {
    let actor = actor.clone();
    let done = app
        .write(move |conn| {
            let entry = own_entry(conn, &actor, id)?;
            let at = now();
            let open = entry.status == WaitStatus::Offered && entry.offer_expires_at.is_some_and(|e| e > at);
            if !open {
                return Err(AppError::conflict(
                    "no_open_offer",
                    format!(
                        "this waiting list place is {}: there is no open offer to accept",
                        entry.status
                    ),
                    None,
                ));
            }
            let s = session(conn, entry.session_id)?;
            let input = BookingInput {
                budget_holder_id: entry.budget_holder_id,
                price_option_id: entry.price_option_id,
                allocation_id: entry.allocation_id,
                quantity: None,
                session_ids: vec![s.id],
                series_id: None,
                notes: String::new(),
                contact: String::new(),
            };
            let booking = bookings::book_offered(conn, &actor, &input, s)?;
            waitlist::set_status(
                conn,
                id,
                WaitStatus::Offered,
                WaitStatus::Accepted,
                None,
                Some(booking.id),
            )?;
            let entry = waitlist::load(conn, id)?.unwrap_or(entry);
            Ok((entry, booking))
        })
        .await?;
    app.services_changed();
    Ok(done)
}

/// Leave the waiting list, or turn an offer down: its place goes to the next one waiting.
pub async fn decline(app: &App, actor: &Actor, id: WaitlistId) -> AppResult<Entry> {
    let actor = actor.clone();
    let done = app
        .write(move |conn| {
            let entry = own_entry(conn, &actor, id)?;
            end(conn, &entry, WaitStatus::Declined, now())?;
            Ok(waitlist::load(conn, id)?.unwrap_or(entry))
        })
        .await?;
    app.services_changed();
    Ok(done)
}

/// End an entry (declined, expired); an offer's held place is given back and offered on.
fn end(conn: &mut Conn, entry: &Entry, to: WaitStatus, at: NaiveDateTime) -> AppResult<()> {
    if !matches!(entry.status, WaitStatus::Waiting | WaitStatus::Offered) {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("this waiting list place is already {}", entry.status),
            Some("status"),
        ));
    }
    if !waitlist::set_status(conn, entry.id, entry.status, to, entry.offer_expires_at, None)? {
        return Err(AppError::conflict(
            "invalid_transition",
            "the waiting list place changed meanwhile; reload it",
            Some("status"),
        ));
    }
    if entry.status == WaitStatus::Offered {
        session_db::release_place(conn, entry.session_id)?;
        offer_freed(conn, entry.session_id, at)?;
        // The held place may be free again: search's availability follows.
        if let Some(s) = session_db::load(conn, entry.session_id)? {
            changes::record(conn, s.service_id)?;
        }
    }
    Ok(())
}

/// Places free on a session go to those waiting, first come first served: each offer holds its
/// place and expires after the provider's window. Called in the transaction that freed them.
pub(crate) fn offer_freed(conn: &mut Conn, session_id: SessionId, at: NaiveDateTime) -> AppResult<()> {
    let Some(s) = session_db::load(conn, session_id)? else {
        return Ok(());
    };
    if s.status != SessionStatus::Scheduled || s.times.starts_at <= at {
        return Ok(());
    }
    let window = services::policy(conn, s.service_id)?
        .unwrap_or_default()
        .offer_window_hours;
    // An offer never outlives the session's start.
    let expires = (at + Duration::hours(i64::from(window))).min(s.times.starts_at);
    while let Some(next) = waitlist::first_waiting(conn, session_id)? {
        if !session_db::take_place(conn, session_id, at)? {
            break;
        }
        waitlist::set_status(
            conn,
            next.id,
            WaitStatus::Waiting,
            WaitStatus::Offered,
            Some(expires),
            None,
        )?;
        jobs::schedule(conn, OFFER_EXPIRY, next.id.0, expires)?;
        notices::waitlist_offer(conn, next.budget_holder_id, &s, expires)?;
    }
    Ok(())
}

/// The job: an offer whose window has closed lapses, and its place is offered on. Run again (a
/// server died mid-job), it finds nothing left to do.
pub(crate) fn expire(conn: &mut Conn, id: WaitlistId, at: NaiveDateTime) -> AppResult<bool> {
    let Some(entry) = waitlist::load(conn, id)? else {
        return Ok(false);
    };
    let due = entry.status == WaitStatus::Offered && entry.offer_expires_at.is_some_and(|e| e <= at);
    if !due {
        return Ok(false);
    }
    end(conn, &entry, WaitStatus::Expired, at)?;
    notices::waitlist_expired(conn, entry.budget_holder_id, entry.session_id)?;
    Ok(true)
}

/// A session the provider cancels closes its waiting list: offers lapse with it.
pub(crate) fn close(conn: &mut Conn, session_id: SessionId) -> AppResult<()> {
    for entry in waitlist::open_on(conn, session_id)? {
        waitlist::set_status(
            conn,
            entry.id,
            entry.status,
            WaitStatus::Expired,
            entry.offer_expires_at,
            None,
        )?;
    }
    Ok(())
}

/// What the page asking to join a waiting list shows: the session, its service, the plans.
#[derive(Debug, Clone)]
pub struct JoinForm {
    pub session: SessionView,
    pub service: crate::db::services::ServiceView,
    pub plans: Vec<crate::db::budget_holders::BudgetHolderView>,
    /// The allocations that could pay when a place is offered, and why the others cannot.
    pub pay_from: Vec<super::services::PayFrom>,
}

pub async fn join_form(app: &App, actor: &Actor, session_id: SessionId) -> AppResult<JoinForm> {
    let plans = super::plans::all(app, actor).await?;
    app.read(move |conn| {
        let s = session(conn, session_id)?;
        let service = services::get(conn, s.service_id)?.ok_or_else(|| AppError::not_found("service"))?;
        let pay_from = super::services::pay_from(&service, &plans);
        Ok(JoinForm {
            session: s,
            service,
            plans,
            pay_from,
        })
    })
    .await
}
