//! Threads of messages between a plan's family (or broker) and a provider, their messages, and how
//! far each user has read each one.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{bookings, budget_holders, organisations, services, thread_messages, thread_reads, threads, users};
use super::{Conn, DbResult};
use crate::domain::access::PlanOwners;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::threads::{About, MessageId, Parties, ThreadId, ThreadScope, author_name};
use crate::domain::{BookingId, BudgetHolderId, CouncilId, OrganisationId, Role, ServiceId, UserId};

/// A thread as stored, with whose plan it is on.
#[derive(Debug, Clone)]
pub struct ThreadRow {
    pub id: ThreadId,
    pub budget_holder_id: BudgetHolderId,
    pub organisation_id: OrganisationId,
    pub about: About,
    pub started_by: UserId,
    pub started_by_role: Role,
    pub council_added_at: Option<NaiveDateTime>,
    pub council_added_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub last_message_at: NaiveDateTime,
    pub plan: PlanOwners,
    /// The plan's record was erased: its family and broker no longer see it.
    pub erased: bool,
}

impl ThreadRow {
    pub fn parties(&self) -> Parties {
        Parties {
            plan: self.plan,
            provider: self.organisation_id,
            council_added: self.council_added_at.is_some(),
        }
    }
}

type Stored = (
    (
        i64,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        i64,
        String,
        Option<NaiveDateTime>,
        Option<i64>,
        NaiveDateTime,
        NaiveDateTime,
    ),
    (i64, i64, Option<i64>, Option<NaiveDateTime>),
);

macro_rules! columns {
    () => {
        (
            (
                threads::id,
                threads::budget_holder_id,
                threads::organisation_id,
                threads::service_id,
                threads::booking_id,
                threads::started_by,
                threads::started_by_role,
                threads::council_added_at,
                threads::council_added_by,
                threads::created_at,
                threads::last_message_at,
            ),
            (
                budget_holders::council_id,
                budget_holders::family_user_id,
                budget_holders::broker_organisation_id,
                budget_holders::erased_at,
            ),
        )
    };
}

fn row(stored: Stored) -> ThreadRow {
    let ((id, holder, organisation, service, booking, by, role, added_at, added_by, created, last), plan) = stored;
    let (council, family, broker, erased_at) = plan;
    ThreadRow {
        id: ThreadId(id),
        budget_holder_id: BudgetHolderId(holder),
        organisation_id: OrganisationId(organisation),
        // The CHECK constraint keeps exactly one of the two.
        about: match (booking, service) {
            (Some(b), _) => About::Booking(BookingId(b)),
            (None, s) => About::Service(ServiceId(s.unwrap_or_default())),
        },
        started_by: UserId(by),
        started_by_role: role.parse().unwrap_or(Role::Family),
        council_added_at: added_at,
        council_added_by: added_by.map(UserId),
        created_at: created,
        last_message_at: last,
        plan: PlanOwners {
            council: CouncilId(council),
            family: UserId(family),
            broker: broker.map(OrganisationId),
        },
        erased: erased_at.is_some(),
    }
}

/// The threads in a scope, on a boxed query that joins `threads` and `budget_holders`. A family
/// or broker no longer sees the threads of an erased record.
macro_rules! in_scope {
    ($q:expr, $scope:expr) => {{
        let q = $q;
        match $scope {
            ThreadScope::Family(user) => q
                .filter(budget_holders::family_user_id.eq(user.0))
                .filter(budget_holders::erased_at.is_null()),
            ThreadScope::Broker(organisation) => q
                .filter(budget_holders::broker_organisation_id.eq(organisation.0))
                .filter(budget_holders::erased_at.is_null()),
            ThreadScope::Provider(organisation) => q.filter(threads::organisation_id.eq(organisation.0)),
            ThreadScope::Council(council) => q
                .filter(budget_holders::council_id.eq(council.0))
                .filter(threads::council_added_at.is_not_null()),
        }
    }};
}

/// A new thread's facts.
pub struct NewThread {
    pub holder: BudgetHolderId,
    pub organisation: OrganisationId,
    pub about: About,
    pub started_by: UserId,
    pub role: Role,
    pub at: NaiveDateTime,
}

pub fn insert(conn: &mut Conn, t: &NewThread) -> DbResult<ThreadId> {
    let (service, booking) = match t.about {
        About::Service(s) => (Some(s.0), None),
        About::Booking(b) => (None, Some(b.0)),
    };
    let id = diesel::insert_into(threads::table)
        .values((
            threads::budget_holder_id.eq(t.holder.0),
            threads::organisation_id.eq(t.organisation.0),
            threads::service_id.eq(service),
            threads::booking_id.eq(booking),
            threads::started_by.eq(t.started_by.0),
            threads::started_by_role.eq(t.role.as_str()),
            threads::created_at.eq(t.at),
            threads::last_message_at.eq(t.at),
        ))
        .returning(threads::id)
        .get_result::<i64>(conn)?;
    Ok(ThreadId(id))
}

/// Add a message and move the thread's last activity on.
pub fn add_message(
    conn: &mut Conn,
    thread: ThreadId,
    author: UserId,
    role: Role,
    body: &str,
    at: NaiveDateTime,
) -> DbResult<MessageId> {
    let id = diesel::insert_into(thread_messages::table)
        .values((
            thread_messages::thread_id.eq(thread.0),
            thread_messages::author_id.eq(author.0),
            thread_messages::author_role.eq(role.as_str()),
            thread_messages::body.eq(body),
            thread_messages::created_at.eq(at),
        ))
        .returning(thread_messages::id)
        .get_result::<i64>(conn)?;
    diesel::update(threads::table.find(thread.0))
        .set(threads::last_message_at.eq(at))
        .execute(conn)?;
    Ok(MessageId(id))
}

pub fn load(conn: &mut Conn, id: ThreadId) -> DbResult<Option<ThreadRow>> {
    let stored: Option<Stored> = threads::table
        .inner_join(budget_holders::table)
        .filter(threads::id.eq(id.0))
        .select(columns!())
        .get_result(conn)
        .optional()?;
    Ok(stored.map(row))
}

/// The thread kept with a booking, if it has one.
pub fn of_booking(conn: &mut Conn, booking: BookingId) -> DbResult<Option<ThreadId>> {
    Ok(threads::table
        .filter(threads::booking_id.eq(booking.0))
        .select(threads::id)
        .get_result::<i64>(conn)
        .optional()?
        .map(ThreadId))
}

/// Hold the author's user row until the transaction ends (PostgreSQL; SQLite's one writer already
/// serialises), so that two messages posted at once are counted one after the other.
pub fn lock_author(conn: &mut Conn, author: UserId) -> DbResult<()> {
    diesel::update(users::table.find(author.0))
        .set(users::id.eq(users::id))
        .execute(conn)?;
    Ok(())
}

/// When the author posted each of its messages after `since`, on any thread.
pub fn posted_since(conn: &mut Conn, author: UserId, since: NaiveDateTime) -> DbResult<Vec<NaiveDateTime>> {
    Ok(thread_messages::table
        .filter(thread_messages::author_id.eq(author.0))
        .filter(thread_messages::created_at.gt(since))
        .select(thread_messages::created_at)
        .load(conn)?)
}

/// Record that the council was added; false when it already had been (the first addition stands).
pub fn add_council(conn: &mut Conn, id: ThreadId, by: UserId, at: NaiveDateTime) -> DbResult<bool> {
    let changed = diesel::update(
        threads::table
            .filter(threads::id.eq(id.0))
            .filter(threads::council_added_at.is_null()),
    )
    .set((threads::council_added_at.eq(at), threads::council_added_by.eq(by.0)))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The newest message of a thread, if any.
pub fn last_message(conn: &mut Conn, id: ThreadId) -> DbResult<Option<MessageId>> {
    let newest: Option<i64> = thread_messages::table
        .filter(thread_messages::thread_id.eq(id.0))
        .select(diesel::dsl::max(thread_messages::id))
        .get_result(conn)?;
    Ok(newest.map(MessageId))
}

/// `user` has read the thread up to `message`: a mark only ever moves forward. Fails with a unique
/// violation when another request made the first mark meanwhile (the caller tries again).
pub fn mark_read(conn: &mut Conn, id: ThreadId, user: UserId, message: MessageId, at: NaiveDateTime) -> DbResult<()> {
    let mine = || {
        thread_reads::table
            .filter(thread_reads::thread_id.eq(id.0))
            .filter(thread_reads::user_id.eq(user.0))
    };
    let marked: Option<i64> = mine()
        .select(thread_reads::last_read_message_id)
        .get_result(conn)
        .optional()?;
    match marked {
        Some(last) if last >= message.0 => {}
        Some(_) => {
            diesel::update(mine().filter(thread_reads::last_read_message_id.lt(message.0)))
                .set((
                    thread_reads::last_read_message_id.eq(message.0),
                    thread_reads::read_at.eq(at),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(thread_reads::table)
                .values((
                    thread_reads::thread_id.eq(id.0),
                    thread_reads::user_id.eq(user.0),
                    thread_reads::last_read_message_id.eq(message.0),
                    thread_reads::read_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// One message, with its author named as the thread shows it.
#[derive(Debug, Clone)]
pub struct MessageView {
    pub id: MessageId,
    pub author_id: UserId,
    pub author_role: Role,
    pub author_name: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// The names of organisations, by id.
fn organisation_names(conn: &mut Conn, mut ids: Vec<i64>) -> DbResult<HashMap<i64, String>> {
    ids.sort_unstable();
    ids.dedup();
    Ok(organisations::table
        .filter(organisations::id.eq_any(&ids))
        .select((organisations::id, organisations::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// The organisation each user acts for, by user id.
fn organisations_of(conn: &mut Conn, mut ids: Vec<i64>) -> DbResult<HashMap<i64, i64>> {
    ids.sort_unstable();
    ids.dedup();
    Ok(users::table
        .filter(users::id.eq_any(&ids))
        .select((users::id, users::organisation_id))
        .load::<(i64, Option<i64>)>(conn)?
        .into_iter()
        .filter_map(|(user, organisation)| organisation.map(|o| (user, o)))
        .collect())
}

/// How users are named on a thread (by their role and organisation; never by email).
fn names_of(conn: &mut Conn, people: &[(i64, Role)]) -> DbResult<HashMap<i64, String>> {
    let acting_for = organisations_of(conn, people.iter().map(|p| p.0).collect())?;
    let names = organisation_names(conn, acting_for.values().copied().collect())?;
    Ok(people
        .iter()
        .map(|(user, role)| {
            let organisation = acting_for.get(user).and_then(|o| names.get(o)).map(String::as_str);
            (*user, author_name(*role, organisation))
        })
        .collect())
}

/// A thread's messages, oldest first.
pub fn messages(conn: &mut Conn, id: ThreadId) -> DbResult<Vec<MessageView>> {
    let rows: Vec<(i64, i64, String, String, NaiveDateTime)> = thread_messages::table
        .filter(thread_messages::thread_id.eq(id.0))
        .order(thread_messages::id)
        .select((
            thread_messages::id,
            thread_messages::author_id,
            thread_messages::author_role,
            thread_messages::body,
            thread_messages::created_at,
        ))
        .load(conn)?;
    let roles: Vec<(i64, Role)> = rows
        .iter()
        .map(|r| (r.1, r.2.parse().unwrap_or(Role::Family)))
        .collect();
    let names = names_of(conn, &roles)?;
    Ok(rows
        .into_iter()
        .zip(roles)
        .map(|((id, author, _, body, created_at), (_, role))| MessageView {
            id: MessageId(id),
            author_id: UserId(author),
            author_role: role,
            author_name: names.get(&author).cloned().unwrap_or_else(|| author_name(role, None)),
            body,
            created_at,
        })
        .collect())
}

/// What a thread is called and who is on it, in words.
#[derive(Debug, Clone)]
pub struct Named {
    /// The service's name, or the booking's reference with its service's name.
    pub subject: String,
    pub provider: String,
    /// "Family", or the broker's organisation that started it.
    pub started_by: String,
}

/// Names for several threads at once (a page of a list), by thread id.
pub fn names(conn: &mut Conn, rows: &[ThreadRow]) -> DbResult<HashMap<ThreadId, Named>> {
    let service_ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| match r.about {
            About::Service(s) => Some(s.0),
            About::Booking(_) => None,
        })
        .collect();
    let booking_ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| match r.about {
            About::Booking(b) => Some(b.0),
            About::Service(_) => None,
        })
        .collect();
    let service_names: HashMap<i64, String> = services::table
        .filter(services::id.eq_any(&service_ids))
        .select((services::id, services::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let booking_names: HashMap<i64, (Option<String>, String)> = bookings::table
        .inner_join(services::table)
        .filter(bookings::id.eq_any(&booking_ids))
        .select((bookings::id, bookings::reference, services::name))
        .load::<(i64, Option<String>, String)>(conn)?
        .into_iter()
        .map(|(id, reference, service)| (id, (reference, service)))
        .collect();
    let providers = organisation_names(conn, rows.iter().map(|r| r.organisation_id.0).collect())?;
    let starters: Vec<(i64, Role)> = rows.iter().map(|r| (r.started_by.0, r.started_by_role)).collect();
    let starter_names = names_of(conn, &starters)?;
    Ok(rows
        .iter()
        .map(|r| {
            let subject = match r.about {
                About::Service(s) => service_names.get(&s.0).cloned().unwrap_or_default(),
                About::Booking(b) => match booking_names.get(&b.0) {
                    Some((reference, service)) => {
                        let reference = reference.clone().unwrap_or_else(|| format!("#{}", b.0));
                        format!("Booking {reference}: {service}")
                    }
                    None => format!("Booking #{}", b.0),
                },
            };
            let named = Named {
                subject,
                provider: providers.get(&r.organisation_id.0).cloned().unwrap_or_default(),
                started_by: starter_names
                    .get(&r.started_by.0)
                    .cloned()
                    .unwrap_or_else(|| author_name(r.started_by_role, None)),
            };
            (r.id, named)
        })
        .collect())
}

/// How many messages by others `user` has not read, in each of `ids`.
pub fn unread_in(conn: &mut Conn, user: UserId, ids: &[ThreadId]) -> DbResult<HashMap<ThreadId, u64>> {
    let ids: Vec<i64> = ids.iter().map(|t| t.0).collect();
    let by_others: Vec<(i64, i64)> = thread_messages::table
        .filter(thread_messages::thread_id.eq_any(&ids))
        .filter(thread_messages::author_id.ne(user.0))
        .group_by(thread_messages::thread_id)
        .select((thread_messages::thread_id, diesel::dsl::count_star()))
        .load(conn)?;
    let read: HashMap<i64, i64> = thread_messages::table
        .inner_join(
            thread_reads::table.on(thread_reads::thread_id
                .eq(thread_messages::thread_id)
                .and(thread_reads::user_id.eq(user.0))),
        )
        .filter(thread_messages::thread_id.eq_any(&ids))
        .filter(thread_messages::author_id.ne(user.0))
        .filter(thread_messages::id.le(thread_reads::last_read_message_id))
        .group_by(thread_messages::thread_id)
        .select((thread_messages::thread_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(by_others
        .into_iter()
        .map(|(thread, n)| {
            let unread = n - read.get(&thread).copied().unwrap_or(0);
            (ThreadId(thread), u64::try_from(unread).unwrap_or(0))
        })
        .collect())
}

/// How many messages by others `user` has not read in all the threads of `scope`.
pub fn unread_total(conn: &mut Conn, scope: ThreadScope, user: UserId) -> DbResult<u64> {
    let all = thread_messages::table
        .inner_join(threads::table.inner_join(budget_holders::table))
        .filter(thread_messages::author_id.ne(user.0))
        .into_boxed();
    let by_others: i64 = in_scope!(all, scope).count().get_result(conn)?;
    if by_others == 0 {
        return Ok(0);
    }
    let seen = thread_messages::table
        .inner_join(threads::table.inner_join(budget_holders::table))
        .inner_join(
            thread_reads::table.on(thread_reads::thread_id
                .eq(thread_messages::thread_id)
                .and(thread_reads::user_id.eq(user.0))),
        )
        .filter(thread_messages::author_id.ne(user.0))
        .filter(thread_messages::id.le(thread_reads::last_read_message_id))
        .into_boxed();
    let read: i64 = in_scope!(seen, scope).count().get_result(conn)?;
    Ok(u64::try_from(by_others - read).unwrap_or(0))
}

/// A page of the threads in a scope, the latest activity first.
pub fn list(conn: &mut Conn, scope: ThreadScope, page: PageRequest) -> DbResult<Page<ThreadRow>> {
    let counted = threads::table.inner_join(budget_holders::table).into_boxed();
    let total: i64 = in_scope!(counted, scope).count().get_result(conn)?;
    let q = threads::table
        .inner_join(budget_holders::table)
        .select(columns!())
        .order((threads::last_message_at.desc(), threads::id.desc()))
        .into_boxed();
    let rows: Vec<Stored> = in_scope!(q, scope)
        .offset(page.offset())
        .limit(page.limit())
        .load(conn)?;
    Ok(Page::new(
        rows.into_iter().map(row).collect(),
        u64::try_from(total).unwrap_or(0),
        page,
    ))
}

/// Every live user who may read the thread: the family, the broker's and the provider's staff,
/// and the council's officers once it has been added.
pub fn readers(conn: &mut Conn, thread: &ThreadRow) -> DbResult<Vec<UserId>> {
    let family = users::table
        .filter(users::id.eq(thread.plan.family.0))
        .filter(users::role.eq(Role::Family.as_str()))
        .filter(users::disabled_at.is_null())
        .select(users::id)
        .load::<i64>(conn)?;
    let provider = users::table
        .filter(users::organisation_id.eq(thread.organisation_id.0))
        .filter(users::role.eq(Role::Provider.as_str()))
        .filter(users::disabled_at.is_null())
        .select(users::id)
        .load::<i64>(conn)?;
    let broker = match thread.plan.broker {
        Some(broker) => users::table
            .filter(users::organisation_id.eq(broker.0))
            .filter(users::role.eq(Role::Broker.as_str()))
            .filter(users::disabled_at.is_null())
            .select(users::id)
            .load::<i64>(conn)?,
        None => Vec::new(),
    };
    let council = if thread.council_added_at.is_some() {
        users::table
            .filter(users::council_id.eq(thread.plan.council.0))
            .filter(users::role.eq(Role::Council.as_str()))
            .filter(users::disabled_at.is_null())
            .select(users::id)
            .load::<i64>(conn)?
    } else {
        Vec::new()
    };
    let mut all: Vec<UserId> = [family, broker, provider, council]
        .into_iter()
        .flatten()
        .map(UserId)
        .collect();
    all.sort_unstable();
    all.dedup();
    Ok(all)
}

/// Erase the words of every message on a plan whose record is erased: the threads stay (who wrote
/// to whom, and when), their text does not.
pub fn erase_of(conn: &mut Conn, holder: BudgetHolderId) -> DbResult<()> {
    let on_plan = threads::table
        .filter(threads::budget_holder_id.eq(holder.0))
        .select(threads::id);
    diesel::update(thread_messages::table.filter(thread_messages::thread_id.eq_any(on_plan)))
        .set(thread_messages::body.eq(""))
        .execute(conn)?;
    Ok(())
}
