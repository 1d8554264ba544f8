//! Who is told what, for each event: the people each one concerns and the words of its notice.
//! Every function runs inside the transaction of the change it tells of. No notice names a
//! child: it names the service, the booking's or invoice's reference and the time, and links to
//! the page where the recipient sees the rest.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::AppResult;
use super::notifications::{tell, tell_once};
use crate::db::bookings::BookingView;
use crate::db::invoices::InvoiceView;
use crate::db::notifications::{council_officers, organisation_users, plan_people};
use crate::db::sessions::SessionView;
use crate::db::{Conn, sessions as session_db};
use crate::domain::invoice::Payer;
use crate::domain::notification::{Event, Letter};
use crate::domain::personal_budget::{DueKind, Permission};
use crate::domain::{BookingId, BudgetHolderId, CouncilId, OrganisationId, PbRequestId, ServiceId, SessionId, UserId};

/// A session's start on England's clock: "Saturday 9 January 2027 at 10:00".
fn when(at: NaiveDateTime) -> String {
    crate::domain::sessions::in_london(at)
        .format("%A %-d %B %Y at %H:%M")
        .to_string()
}

fn service_name(conn: &mut Conn, id: ServiceId) -> AppResult<String> {
    Ok(crate::db::services::name(conn, id)?.unwrap_or_else(|| "a service".into()))
}

fn except(mut people: Vec<UserId>, who: UserId) -> Vec<UserId> {
    people.retain(|p| *p != who);
    people
}

/// A family (or broker) asked to book: the provider's staff.
pub(crate) fn booking_requested(conn: &mut Conn, b: &BookingView) -> AppResult<()> {
    let letter = Letter::new(
        Event::BookingRequested,
        "A new booking request",
        vec![format!(
            "A family asked to book {} ({}), booking {}. Confirm or decline it on your bookings page.",
            b.service_name, b.price_option_label, b.reference
        )],
        "/provider/bookings".into(),
    );
    let to = organisation_users(conn, b.organisation_id)?;
    tell(conn, &to, &letter)
}

/// The provider confirmed or declined a booking: the plan's family and broker.
pub(crate) fn booking_answered(conn: &mut Conn, b: &BookingView, event: Event) -> AppResult<()> {
    let (title, said) = match event {
        Event::BookingConfirmed => ("Your booking is confirmed", "confirmed"),
        _ => ("Your booking was declined", "declined"),
    };
    let mut paragraphs = vec![format!(
        "{} {said} your booking {} ({}).",
        provider_name(conn, b.organisation_id)?,
        b.reference,
        b.service_name
    )];
    if event == Event::BookingDeclined {
        paragraphs.push(format!(
            "The {} it held is back in your budget.",
            crate::templates::components::money(b.total)
        ));
    }
    let letter = Letter::new(event, title, paragraphs, format!("/bookings/{}", b.id));
    let to = plan_people(conn, b.budget_holder_id)?;
    tell(conn, &to, &letter)
}

/// A booking (or some of its sessions) was cancelled by its family or broker: the provider, and
/// whoever of the plan's people did not do it.
pub(crate) fn booking_cancelled(conn: &mut Conn, b: &BookingView, by: UserId, sessions: usize) -> AppResult<()> {
    let what = match sessions {
        0 => "the booking".to_string(),
        1 => "one session of the booking".to_string(),
        n => format!("{n} sessions of the booking"),
    };
    let provider = Letter::new(
        Event::BookingCancelled,
        "A booking was cancelled",
        vec![format!(
            "The family cancelled {what} {} ({}).",
            b.reference, b.service_name
        )],
        "/provider/bookings".into(),
    );
    let to = organisation_users(conn, b.organisation_id)?;
    tell(conn, &to, &provider)?;
    let family = Letter::new(
        Event::BookingCancelled,
        "A booking was cancelled",
        vec![format!(
            "{} of {} ({}) was cancelled. The booking page shows what was refunded.",
            crate::templates::components::capitalise(&what),
            b.reference,
            b.service_name
        )],
        format!("/bookings/{}", b.id),
    );
    let to = except(plan_people(conn, b.budget_holder_id)?, by);
    tell(conn, &to, &family)
}

fn provider_name(conn: &mut Conn, id: OrganisationId) -> AppResult<String> {
    Ok(crate::db::organisations::name(conn, id)?.unwrap_or_else(|| "The provider".into()))
}

/// The provider cancelled a session: every family with a place on it (`plans`, collected before
/// the seats moved).
pub(crate) fn session_cancelled(
    conn: &mut Conn,
    s: &SessionView,
    plans: &[(BudgetHolderId, BookingId)],
) -> AppResult<()> {
    let name = service_name(conn, s.service_id)?;
    for (holder, booking) in plans {
        let letter = Letter::new(
            Event::SessionCancelled,
            "A session you booked is cancelled",
            vec![
                format!("{name} on {} is cancelled by its provider.", when(s.times.starts_at)),
                "Its cost is back in your budget.".into(),
            ],
            format!("/bookings/{booking}"),
        );
        let to = plan_people(conn, *holder)?;
        tell(conn, &to, &letter)?;
    }
    Ok(())
}

/// The plans with a place on a session (each once, with its booking), for
/// [`session_cancelled`]: read before the seats move.
pub(crate) fn plans_on(conn: &mut Conn, session: SessionId) -> AppResult<Vec<(BudgetHolderId, BookingId)>> {
    Ok(session_db::plans_booked_on(conn, session)?)
}

/// The provider moved a session: every family with a place on it.
pub(crate) fn session_moved(conn: &mut Conn, before: &SessionView, after: &SessionView) -> AppResult<()> {
    let name = service_name(conn, after.service_id)?;
    for (holder, booking) in plans_on(conn, after.id)? {
        let letter = Letter::new(
            Event::SessionMoved,
            "A session you booked has moved",
            vec![format!(
                "{name} on {} now starts on {}. If the new time does not suit you, you can cancel it on the booking page.",
                when(before.times.starts_at),
                when(after.times.starts_at)
            )],
            format!("/bookings/{booking}"),
        );
        let to = plan_people(conn, holder)?;
        tell(conn, &to, &letter)?;
    }
    Ok(())
}

/// A place from a waiting list is held for a plan until `expires`.
pub(crate) fn waitlist_offer(
    conn: &mut Conn,
    holder: BudgetHolderId,
    session: &SessionView,
    expires: NaiveDateTime,
) -> AppResult<()> {
    let name = service_name(conn, session.service_id)?;
    let letter = Letter::new(
        Event::WaitlistOffer,
        "A place is free for you",
        vec![
            format!("A place on {name} on {} is free.", when(session.times.starts_at)),
            format!(
                "It is held for you until {}. Accept it to book it with your budget, or decline it so it goes to the next family.",
                when(expires)
            ),
        ],
        "/my-plan#waiting-lists".into(),
    );
    let to = plan_people(conn, holder)?;
    tell(conn, &to, &letter)
}

/// A waiting-list offer ran out before it was answered.
pub(crate) fn waitlist_expired(conn: &mut Conn, holder: BudgetHolderId, session: SessionId) -> AppResult<()> {
    let Some(s) = session_db::load(conn, session)? else {
        return Ok(());
    };
    let name = service_name(conn, s.service_id)?;
    let letter = Letter::new(
        Event::WaitlistOfferExpired,
        "A waiting-list offer has run out",
        vec![format!(
            "The place offered to you on {name} on {} was not taken in time and has gone to the next family.",
            when(s.times.starts_at)
        )],
        "/my-plan#waiting-lists".into(),
    );
    let to = plan_people(conn, holder)?;
    tell(conn, &to, &letter)
}

/// Who answers an invoice: its payer's people.
fn payers(conn: &mut Conn, inv: &InvoiceView) -> AppResult<Vec<UserId>> {
    match (inv.payer, inv.payer_organisation) {
        (Payer::Council, _) => Ok(council_officers(conn, inv.council, None)?),
        (Payer::Broker, Some(org)) => Ok(organisation_users(conn, org)?),
        _ => Ok(plan_people(conn, inv.budget_holder_id)?),
    }
}

/// An invoice was issued: its payer. Approved, disputed or paid: its provider.
pub(crate) fn invoice(conn: &mut Conn, inv: &InvoiceView, event: Event) -> AppResult<()> {
    let number = inv.number_text().unwrap_or_default();
    let total = crate::templates::components::money(inv.total);
    let link = format!("/invoices/{}", inv.id);
    let (title, paragraph, to) = match event {
        Event::InvoiceIssued => (
            "An invoice to approve",
            format!(
                "{} sent invoice {number} for {total}. Approve it, or dispute it with a reason.",
                inv.provider_name
            ),
            payers(conn, inv)?,
        ),
        Event::InvoiceApproved => (
            "An invoice was approved",
            format!("Invoice {number} for {total} was approved by {}.", inv.payer_name),
            organisation_users(conn, inv.provider)?,
        ),
        Event::InvoiceDisputed => (
            "An invoice was disputed",
            format!(
                "Invoice {number} for {total} was disputed by {}. The invoice page gives the reason.",
                inv.payer_name
            ),
            organisation_users(conn, inv.provider)?,
        ),
        _ => (
            "An invoice was paid",
            format!(
                "Invoice {number} for {total} was recorded as paid by {}.",
                inv.payer_name
            ),
            organisation_users(conn, inv.provider)?,
        ),
    };
    tell(conn, &to, &Letter::new(event, title, vec![paragraph], link))
}

/// A family asked for a personal budget: the council's assessors.
pub(crate) fn request_received(conn: &mut Conn, council: CouncilId, request: PbRequestId, by: UserId) -> AppResult<()> {
    let letter = Letter::new(
        Event::RequestReceived,
        "A new personal-budget request",
        vec![
            "A family asked for a personal budget. The request page says what was asked and when a decision is due."
                .into(),
        ],
        format!("/council/requests/{request}"),
    );
    let to = except(council_officers(conn, council, Some(Permission::Assess))?, by);
    tell(conn, &to, &letter)
}

/// A personal-budget request (or its review) was decided: the plan's family and broker.
pub(crate) fn request_decided(conn: &mut Conn, holder: BudgetHolderId, request: PbRequestId) -> AppResult<()> {
    let letter = Letter::new(
        Event::RequestDecided,
        "A decision on your personal budget",
        vec![
            "Your council has decided your request for a personal budget.".into(),
            "The decision letter says what was decided and why, and how to ask for a review if you disagree.".into(),
        ],
        format!("/my-plan/requests/{request}/letter"),
    );
    let to = plan_people(conn, holder)?;
    tell(conn, &to, &letter)
}

/// A council verified or suspended a provider: its staff.
pub(crate) fn listing(conn: &mut Conn, org: OrganisationId, council_name: &str, event: Event) -> AppResult<()> {
    let (title, paragraph) = match event {
        Event::ProviderVerified => (
            "Your organisation is verified",
            format!(
                "{council_name} verified your organisation: families with its personal budgets can now book your services."
            ),
        ),
        _ => (
            "Your organisation is suspended",
            format!(
                "{council_name} suspended your organisation: its families cannot book your services until it lifts the suspension. Contact the council to find out why."
            ),
        ),
    };
    let letter = Letter::new(event, title, vec![paragraph], "/provider/services".into());
    let to = organisation_users(conn, org)?;
    tell(conn, &to, &letter)
}

/// How far ahead of a booked session its reminder goes.
pub const REMINDER_AHEAD: Duration = Duration::hours(48);

/// The reminder job: each place booked on a session starting within 48 hours is reminded of
/// once (the notice's key is the seat). Returns how many seats were reminded of.
pub(crate) fn send_reminders(conn: &mut Conn, at: NaiveDateTime) -> AppResult<usize> {
    let due = session_db::booked_seats_starting(conn, at, at + REMINDER_AHEAD)?;
    for (booking, session, service, holder, starts_at) in &due {
        let name = service_name(conn, *service)?;
        let letter = Letter::new(
            Event::SessionReminder,
            "A reminder of a session you booked",
            vec![format!(
                "{name} is on {}. If you cannot go, cancel on the booking page as soon as you can, so the place can go to another child.",
                when(*starts_at)
            )],
            format!("/bookings/{booking}"),
        );
        let key = format!("reminder:{booking}:{session}");
        let to = plan_people(conn, *holder)?;
        tell_once(conn, &to, &letter, Some(&key))?;
    }
    Ok(due.len())
}

/// The review job: each plan whose six-week review falls due within a week is told to the
/// council's deciders once per due date.
pub(crate) fn send_reviews_due(conn: &mut Conn, today: NaiveDate) -> AppResult<usize> {
    let mut due = Vec::new();
    for council in crate::db::councils::ids(conn)? {
        let plans = crate::db::plan_reviews::due_facts(conn, council)?;
        due.extend(
            crate::domain::personal_budget::due(&plans, &[], today, 7)
                .into_iter()
                .filter(|item| item.kind == DueKind::SixWeekReview)
                .map(|item| (council, item.budget_holder_id, item.due_on)),
        );
    }
    for (council, holder, due_on) in &due {
        let letter = Letter::new(
            Event::ReviewDue,
            "A six-week review is due",
            vec![format!(
                "A personal budget agreed six weeks ago is due its first review by {}.",
                due_on.format("%-d %B %Y")
            )],
            "/council/due".into(),
        );
        let key = format!("review:{holder}:{due_on}");
        let to = council_officers(conn, *council, Some(Permission::Decide))?;
        tell_once(conn, &to, &letter, Some(&key))?;
    }
    Ok(due.len())
}

/// A message was posted in a conversation: everyone else in it. The mail does not carry the
/// message: it is read on the site, behind the reader's login.
pub(crate) fn new_message(
    conn: &mut Conn,
    to: &[UserId],
    thread: crate::domain::threads::ThreadId,
    by: crate::domain::Role,
) -> AppResult<()> {
    let who = match by {
        crate::domain::Role::Family => "the family",
        crate::domain::Role::Broker => "the family's broker",
        crate::domain::Role::Provider => "the provider",
        crate::domain::Role::Council => "the council",
    };
    let letter = Letter::new(
        Event::NewMessage,
        "A new message for you",
        vec![format!(
            "You have a new message from {who} in a conversation on the Local Offer."
        )],
        format!("/messages/{thread}"),
    );
    tell(conn, to, &letter)
}
