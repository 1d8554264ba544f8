//! Messages: a family (or its broker) asks a provider about a service or writes about a booking;
//! the provider answers; the council reads and writes only once one of them adds it. Each message
//! is posted in one transaction with the notices it gives everyone else in it, after the
//! author's rate limit is counted in the database, so it holds across servers.

use chrono::{Duration, NaiveDateTime};

use super::{App, AppError, AppResult, records};
use crate::db::access_log::{self, Who};
use crate::db::budget_holders::{self, HolderRow};
use crate::db::threads::{self as store, MessageView, NewThread, ThreadRow};
use crate::db::{Conn, bookings, now, services};
use crate::domain::access::PlanScope;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::threads::{self as rules, About, MessageId, NewThreadInput, ThreadId, ValidNewThread};
use crate::domain::{Actor, BudgetHolderId, OrganisationId, Role, ServiceId, ServiceStatus, UserId};

pub const READ_MESSAGES: &str = "read messages";
pub const LISTED_MESSAGES: &str = "listed messages";
pub const WROTE_MESSAGE: &str = "wrote a message";

/// A first row (a booking's thread, a user's read mark) made by another request meanwhile: the
/// attempt rolled back, and is tried once more.
const FIRST_ROW_RACE: &str = "first_row_race";

fn raced(e: crate::db::DbError) -> AppError {
    if e.is_unique_violation() {
        AppError::conflict(FIRST_ROW_RACE, "made meanwhile by another request", None)
    } else {
        e.into()
    }
}

/// A thread on a list: what it is about, who it is with, and what the caller has not read.
#[derive(Debug, Clone)]
pub struct ThreadSummary {
    pub id: ThreadId,
    pub about: About,
    pub subject: String,
    pub other_party: String,
    pub council_added: bool,
    pub last_message_at: NaiveDateTime,
    pub unread: u64,
}

/// A page of the caller's threads, and its unread messages in all of them.
#[derive(Debug, Clone)]
pub struct ThreadList {
    pub page: Page<ThreadSummary>,
    pub unread_total: u64,
}

/// A thread with its messages, as the caller reads it.
#[derive(Debug, Clone)]
pub struct ThreadView {
    pub id: ThreadId,
    pub about: About,
    pub subject: String,
    pub provider: String,
    pub started_by: String,
    pub other_party: String,
    pub budget_holder_id: BudgetHolderId,
    pub created_at: NaiveDateTime,
    pub last_message_at: NaiveDateTime,
    pub council_added_at: Option<NaiveDateTime>,
    /// Whether the caller may add the council (a party to it, and the council not yet added).
    pub can_add_council: bool,
    pub messages: Vec<MessageView>,
    /// How many of them the caller had not read before this reading (the menu's count falls by it).
    pub unread_before: u64,
}

/// What the question form about a service needs: the service and which plans may ask.
#[derive(Debug, Clone)]
pub struct AskForm {
    pub service_id: ServiceId,
    pub service_name: String,
    pub provider: String,
    /// The caller's plans (id, child's first name).
    pub plans: Vec<(BudgetHolderId, String)>,
}

/// A thread `actor` may read: 404 for one it may not (its existence is nobody else's business).
/// The threads of an erased record keep who wrote when, without their words, for the provider and
/// the council as its bookings are kept.
fn readable(conn: &mut Conn, actor: &Actor, id: ThreadId) -> AppResult<ThreadRow> {
    store::load(conn, id)?
        .filter(|t| !t.erased || matches!(actor.role, Role::Council | Role::Provider))
        .filter(|t| t.parties().may_read(actor))
        .ok_or_else(|| AppError::not_found("thread"))
}

/// The thread `actor` may write to, or why not.
fn writable(conn: &mut Conn, actor: &Actor, id: ThreadId) -> AppResult<ThreadRow> {
    let thread = readable(conn, actor, id)?;
    if thread.erased {
        Err(AppError::conflict(
            "already_erased",
            "this child's record was erased: nothing more can be written about it",
            None,
        ))
    } else if thread.parties().may_write(actor) {
        Ok(thread)
    } else {
        Err(AppError::not_found("thread"))
    }
}

/// Every user who may read the thread except its author: whom a new message is for.
pub(crate) fn recipients(conn: &mut Conn, thread_id: ThreadId, author: UserId) -> AppResult<Vec<UserId>> {
    let thread = store::load(conn, thread_id)?.ok_or_else(|| AppError::not_found("thread"))?;
    Ok(store::readers(conn, &thread)?
        .into_iter()
        .filter(|u| *u != author)
        .collect())
}

/// Refuse an author who has posted [`rules::MAX_PER_HOUR`] messages in the last hour (429 with
/// the wait). The author's row is held first, so concurrent posts are counted in turn.
fn check_rate(conn: &mut Conn, author: UserId, at: NaiveDateTime) -> AppResult<()> {
    store::lock_author(conn, author)?;
    let recent = store::posted_since(conn, author, at - Duration::hours(1))?;
    rules::rate_limit(&recent, at).map_err(|retry_after_secs| AppError::TooManyAttempts { retry_after_secs })
}

/// Post `body` (already checked) to a thread the caller may write to, in the caller's
/// transaction: the rate limit, the message, the author's own read mark, and the access record
/// for an officer, and the notice to everyone else in the conversation.
fn post_in(conn: &mut Conn, actor: &Actor, thread: &ThreadRow, body: &str) -> AppResult<MessageId> {
    let at = now();
    check_rate(conn, actor.user_id, at)?;
    let message = store::add_message(conn, thread.id, actor.user_id, actor.role, body, at)?;
    let to = recipients(conn, thread.id, actor.user_id)?;
    super::notices::new_message(conn, &to, thread.id, actor.role)?;
    // One's own message is read.
    store::mark_read(conn, thread.id, actor.user_id, message, at).map_err(raced)?;
    if thread.parties().is_recorded(actor) {
        record(conn, actor, thread, WROTE_MESSAGE)?;
    }
    Ok(message)
}

fn record(conn: &mut Conn, actor: &Actor, thread: &ThreadRow, action: &str) -> AppResult<()> {
    let route = actor.via.as_deref().unwrap_or("unknown route");
    access_log::append(conn, Who::from(actor), &[thread.budget_holder_id], action, route)?;
    Ok(())
}

/// The plan and the provider a new thread is between, checked for the caller. Unknown or not the
/// caller's: 404 naming the field.
fn between(conn: &mut Conn, actor: &Actor, new: &ValidNewThread) -> AppResult<(HolderRow, OrganisationId)> {
    let spends = |holder: &HolderRow| holder.erased_at.is_none() && actor.spends_from(&holder.owners());
    match new.about {
        About::Booking(id) => {
            let booking =
                bookings::load(conn, id)?.ok_or_else(|| AppError::unknown("booking_id", "no such booking"))?;
            let holder = budget_holders::load(conn, booking.budget_holder_id)?
                .filter(spends)
                .ok_or_else(|| AppError::unknown("booking_id", "no such booking"))?;
            if new.budget_holder_id.is_some_and(|h| h != booking.budget_holder_id) {
                return Err(crate::domain::validate::Invalid::one(
                    "budget_holder_id",
                    "is not the booking's plan; leave it out when writing about a booking",
                )
                .into());
            }
            Ok((holder, booking.organisation_id))
        }
        About::Service(id) => {
            let service = services::get(conn, id)?
                .filter(|s| s.status == ServiceStatus::Published)
                .ok_or_else(|| AppError::unknown("service_id", "no such service"))?;
            let holder_id = match (new.budget_holder_id, actor.role) {
                (Some(h), _) => h,
                (None, Role::Family) => {
                    let plans = budget_holders::all(conn, PlanScope::Family(actor.user_id))?;
                    match plans.as_slice() {
                        [one] => one.id,
                        [] => return Err(invalid_plan("you have no plan to ask about")),
                        _ => return Err(invalid_plan("say which of your plans the question is for")),
                    }
                }
                (None, _) => return Err(invalid_plan("say which family's plan the question is for")),
            };
            let holder = budget_holders::load(conn, holder_id)?
                .filter(spends)
                .ok_or_else(|| AppError::unknown("budget_holder_id", "no such budget holder"))?;
            Ok((holder, OrganisationId(service.organisation.id)))
        }
    }
}

fn invalid_plan(message: &str) -> AppError {
    crate::domain::validate::Invalid::one("budget_holder_id", message).into()
}

/// What a new thread starts as; about a booking that already has its thread, the message goes
/// there (a booking keeps one conversation).
fn start_in(conn: &mut Conn, actor: &Actor, new: &ValidNewThread) -> AppResult<ThreadId> {
    let (holder, organisation) = between(conn, actor, new)?;
    let existing = match new.about {
        About::Booking(b) => store::of_booking(conn, b)?,
        About::Service(_) => None,
    };
    let id = match existing {
        Some(id) => id,
        None => store::insert(
            conn,
            &NewThread {
                holder: BudgetHolderId(holder.id),
                organisation,
                about: new.about,
                started_by: actor.user_id,
                role: actor.role,
                at: now(),
            },
        )
        .map_err(raced)?,
    };
    let thread = store::load(conn, id)?.ok_or_else(|| AppError::not_found("thread"))?;
    post_in(conn, actor, &thread, &new.body)?;
    Ok(id)
}

/// A conversation as the demo loader has it, inside a transaction it holds: `actor` (a family)
/// starts it, then each `(author, body)` in turn replies.
pub(crate) fn converse_within(
    conn: &mut Conn,
    actor: &Actor,
    input: NewThreadInput,
    replies: &[(Actor, String)],
) -> AppResult<ThreadId> {
    let id = start_in(conn, actor, &input.validate()?)?;
    for (author, body) in replies {
        let body = rules::body("body", body)?;
        let thread = writable(conn, author, id)?;
        post_in(conn, author, &thread, &body)?;
    }
    Ok(id)
}

/// A family or its broker starts a thread with a provider (`POST /threads`).
pub async fn start(app: &App, actor: &Actor, input: NewThreadInput) -> AppResult<ThreadId> {
    if !matches!(actor.role, Role::Family | Role::Broker) {
        return Err(AppError::forbidden(
            "families and brokers start conversations; providers answer them",
        ));
    }
    let new = input.validate()?;
    let actor = actor.clone();
    let start = move |conn: &mut Conn| start_in(conn, &actor, &new);
    // Two first messages about one booking at once: the loser joins the winner's thread.
    once_more_on_race(app, start).await
}

/// Run `write`, and once more if it lost a race to make a first row.
async fn once_more_on_race<T: Send + 'static>(
    app: &App,
    write: impl FnOnce(&mut Conn) -> AppResult<T> + Clone + Send + 'static,
) -> AppResult<T> {
    match app.write(write.clone()).await {
        Err(AppError::Conflict {
            code: FIRST_ROW_RACE, ..
        }) => app.write(write).await,
        other => other,
    }
}

/// Post a message to a thread (`POST /threads/{id}/messages`).
pub async fn post(app: &App, actor: &Actor, id: ThreadId, body: &str) -> AppResult<MessageView> {
    let body = rules::body("body", body)?;
    let author = actor.clone();
    let post = move |conn: &mut Conn| {
        let thread = writable(conn, &author, id)?;
        post_in(conn, &author, &thread, &body)
    };
    let message = once_more_on_race(app, post).await?;
    app.read(move |conn| {
        store::messages(conn, id)?
            .into_iter()
            .find(|m| m.id == message)
            .ok_or_else(|| AppError::not_found("message"))
    })
    .await
}

fn view(conn: &mut Conn, actor: &Actor, thread: ThreadRow) -> AppResult<ThreadView> {
    let named = store::names(conn, std::slice::from_ref(&thread))?
        .remove(&thread.id)
        .ok_or_else(|| AppError::not_found("thread"))?;
    let messages = store::messages(conn, thread.id)?;
    Ok(ThreadView {
        id: thread.id,
        about: thread.about,
        other_party: rules::other_party(actor.role, &named.provider, &named.started_by),
        subject: named.subject,
        provider: named.provider,
        started_by: named.started_by,
        budget_holder_id: thread.budget_holder_id,
        created_at: thread.created_at,
        last_message_at: thread.last_message_at,
        council_added_at: thread.council_added_at,
        can_add_council: thread.council_added_at.is_none() && thread.parties().may_add_council(actor),
        messages,
        unread_before: 0,
    })
}

/// A thread and its messages (`GET /threads/{id}`): marks it read for the caller; an officer's
/// reading goes in the plan's access record.
pub async fn get(app: &App, actor: &Actor, id: ThreadId) -> AppResult<ThreadView> {
    let reader = actor.clone();
    let (thread, newest) = app
        .read(move |conn| {
            let thread = readable(conn, &reader, id)?;
            let newest = store::last_message(conn, id)?;
            let unread = store::unread_in(conn, reader.user_id, &[id])?;
            let mut view = view(conn, &reader, thread)?;
            view.unread_before = unread.get(&id).copied().unwrap_or(0);
            Ok((view, newest))
        })
        .await?;
    let reader = actor.clone();
    let mark = move |conn: &mut Conn| -> AppResult<()> {
        let row = readable(conn, &reader, id)?;
        if let Some(newest) = newest {
            store::mark_read(conn, id, reader.user_id, newest, now()).map_err(raced)?;
        }
        // Its "new message" notices are read with it.
        crate::db::notifications::mark_read_at(conn, reader.user_id, &format!("/messages/{id}"))?;
        if row.parties().is_recorded(&reader) {
            record(conn, &reader, &row, READ_MESSAGES)?;
        }
        Ok(())
    };
    // The first mark made by two requests at once: the second finds the first's and moves it.
    once_more_on_race(app, mark).await?;
    Ok(thread)
}

/// The family, its broker or the provider adds the council to a thread
/// (`POST /threads/{id}/council`): from now on the council's officers read and write it.
pub async fn add_council(app: &App, actor: &Actor, id: ThreadId) -> AppResult<ThreadView> {
    let adder = actor.clone();
    app.write(move |conn| {
        let thread = writable(conn, &adder, id)?;
        if !thread.parties().may_add_council(&adder) {
            return Err(AppError::forbidden("the council cannot add itself to a conversation"));
        }
        store::add_council(conn, id, adder.user_id, now())?;
        Ok(())
    })
    .await?;
    let reader = actor.clone();
    app.read(move |conn| {
        let thread = readable(conn, &reader, id)?;
        view(conn, &reader, thread)
    })
    .await
}

/// A page of the caller's threads, the latest activity first, with unread counts
/// (`GET /threads`). An officer's list goes in the access record of each plan on it.
pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<ThreadList> {
    let scope = rules::scope(actor).ok_or_else(|| AppError::wrong_role(actor))?;
    let (user, role) = (actor.user_id, actor.role);
    let (list, holders) = app
        .read(move |conn| {
            let found = store::list(conn, scope, page)?;
            let names = store::names(conn, &found.items)?;
            let ids: Vec<ThreadId> = found.items.iter().map(|t| t.id).collect();
            let unread = store::unread_in(conn, user, &ids)?;
            let holders: Vec<BudgetHolderId> = found.items.iter().map(|t| t.budget_holder_id).collect();
            let unread_total = store::unread_total(conn, scope, user)?;
            let page = found.map(|t| {
                let named = names.get(&t.id);
                let (subject, provider, started_by) = named
                    .map(|n| (n.subject.clone(), n.provider.as_str(), n.started_by.as_str()))
                    .unwrap_or_default();
                ThreadSummary {
                    id: t.id,
                    about: t.about,
                    subject,
                    other_party: rules::other_party(role, provider, started_by),
                    council_added: t.council_added_at.is_some(),
                    last_message_at: t.last_message_at,
                    unread: unread.get(&t.id).copied().unwrap_or(0),
                }
            });
            Ok((ThreadList { page, unread_total }, holders))
        })
        .await?;
    if actor.role == Role::Council {
        records::record_listed(app, actor, holders, LISTED_MESSAGES).await?;
    }
    Ok(list)
}

/// The question form about a service: for a family or broker with a plan to ask for.
pub async fn ask_form(app: &App, actor: &Actor, service: ServiceId) -> AppResult<AskForm> {
    let scope = match actor.role {
        Role::Family | Role::Broker => actor.plan_scope(),
        _ => None,
    }
    .ok_or_else(|| AppError::forbidden("families and brokers ask providers questions"))?;
    app.read(move |conn| {
        let view = services::get(conn, service)?
            .filter(|s| s.status == ServiceStatus::Published)
            .ok_or_else(|| AppError::not_found("service"))?;
        let plans = budget_holders::all(conn, scope)?
            .into_iter()
            .map(|p| (p.id, p.first_name))
            .collect();
        Ok(AskForm {
            service_id: service,
            service_name: view.name,
            provider: view.organisation.name,
            plans,
        })
    })
    .await
}

/// What the form to write about a booking needs, and the booking's thread if it has one already.
#[derive(Debug, Clone)]
pub struct BookingForm {
    pub booking_id: crate::domain::BookingId,
    pub reference: String,
    pub service_name: String,
    pub thread: Option<ThreadId>,
}

/// The form to write to the provider about one of the caller's bookings.
pub async fn booking_form(app: &App, actor: &Actor, booking: crate::domain::BookingId) -> AppResult<BookingForm> {
    let reader = actor.clone();
    app.read(move |conn| {
        let b = bookings::load(conn, booking)?.ok_or_else(|| AppError::not_found("booking"))?;
        budget_holders::load(conn, b.budget_holder_id)?
            .filter(|h| h.erased_at.is_none() && reader.spends_from(&h.owners()))
            .ok_or_else(|| AppError::not_found("booking"))?;
        let thread = match store::of_booking(conn, booking)? {
            Some(id) => readable(conn, &reader, id).ok().map(|t| t.id),
            None => None,
        };
        Ok(BookingForm {
            booking_id: b.id,
            reference: b.reference,
            service_name: b.service_name,
            thread,
        })
    })
    .await
}
