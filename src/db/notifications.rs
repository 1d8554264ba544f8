//! The outbox: each notice a person gets, and where its email stands. Rows are written in the
//! transaction of the change they tell of; the mail job (`jobs` kind `mail`) delivers them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{budget_holders, notifications, plan_links, users};
use super::{Conn, DbResult, now};
use crate::domain::notification::{Event, Letter, MailOff, MailStatus};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::personal_budget::{Permission, Permissions};
use crate::domain::{BudgetHolderId, CouncilId, OrganisationId, Role, UserId};

/// A person a notice may go to, with what decides whether it is mailed.
#[derive(Debug, Clone, Queryable)]
pub struct Recipient {
    pub id: i64,
    pub email: String,
    pub mail_off: String,
    pub disabled_at: Option<NaiveDateTime>,
}

impl Recipient {
    /// Whether this notice is emailed: not to a turned-off account, nor to an address that can
    /// receive nothing (a stand-in login, RFC 2606 `.invalid`), nor when turned off by choice.
    pub fn mail_for(&self, event: Event) -> MailStatus {
        let deliverable = self.disabled_at.is_none() && !self.email.ends_with(".invalid");
        if deliverable && MailOff::parse(&self.mail_off).wants(event) {
            MailStatus::Pending
        } else {
            MailStatus::Off
        }
    }
}

pub fn recipients(conn: &mut Conn, ids: &[UserId]) -> DbResult<Vec<Recipient>> {
    let ids: Vec<i64> = ids.iter().map(|u| u.0).collect();
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .order(users::id)
        .select((users::id, users::email, users::mail_off, users::disabled_at))
        .load(conn)?)
}

/// Write one notice for one person; `None` when `once_key` says it was already written.
pub fn insert(
    conn: &mut Conn,
    to: &Recipient,
    letter: &Letter,
    once_key: Option<&str>,
) -> DbResult<Option<(i64, MailStatus)>> {
    if let Some(key) = once_key {
        // One writer per key: the jobs that pass keys run on one server at a time.
        let seen: i64 = notifications::table
            .filter(notifications::once_key.eq(key))
            .count()
            .get_result(conn)?;
        if seen > 0 {
            return Ok(None);
        }
    }
    let mail = to.mail_for(letter.event);
    let paragraphs = serde_json::to_string(&letter.paragraphs).unwrap_or_else(|_| "[]".into());
    let id = diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(to.id),
            notifications::event.eq(letter.event.as_str()),
            notifications::title.eq(&letter.title),
            notifications::paragraphs.eq(paragraphs),
            notifications::link.eq(&letter.link),
            notifications::created_at.eq(now()),
            notifications::mail_status.eq(mail.as_str()),
            notifications::once_key.eq(once_key),
        ))
        .returning(notifications::id)
        .get_result::<i64>(conn)?;
    Ok(Some((id, mail)))
}

/// A notice as its reader sees it on the site.
#[derive(Debug, Clone, Queryable)]
pub struct NotificationRow {
    pub id: i64,
    pub event: String,
    pub title: String,
    pub paragraphs: String,
    pub link: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
    pub mail_status: String,
    pub mail_error: Option<String>,
}

impl NotificationRow {
    pub fn event(&self) -> Option<Event> {
        self.event.parse().ok()
    }

    pub fn paragraphs(&self) -> Vec<String> {
        serde_json::from_str(&self.paragraphs).unwrap_or_default()
    }

    pub fn mail_status(&self) -> MailStatus {
        self.mail_status.parse().unwrap_or(MailStatus::Off)
    }
}

type RowColumns = (
    notifications::id,
    notifications::event,
    notifications::title,
    notifications::paragraphs,
    notifications::link,
    notifications::created_at,
    notifications::read_at,
    notifications::mail_status,
    notifications::mail_error,
);
const ROW_COLUMNS: RowColumns = (
    notifications::id,
    notifications::event,
    notifications::title,
    notifications::paragraphs,
    notifications::link,
    notifications::created_at,
    notifications::read_at,
    notifications::mail_status,
    notifications::mail_error,
);

fn account_events() -> Vec<&'static str> {
    Event::ALL
        .iter()
        .filter(|e| e.is_account_mail())
        .map(|e| e.as_str())
        .collect()
}

/// A page of a person's notices, newest first (account mail is not a notice).
pub fn of_user(conn: &mut Conn, user: UserId, page: PageRequest) -> DbResult<Page<NotificationRow>> {
    let mine = || {
        notifications::table
            .filter(notifications::user_id.eq(user.0))
            .filter(notifications::event.ne_all(account_events()))
    };
    let total: i64 = mine().count().get_result(conn)?;
    let rows = mine()
        .order(notifications::id.desc())
        .offset(page.offset())
        .limit(page.limit())
        .select(ROW_COLUMNS)
        .load(conn)?;
    Ok(Page::new(rows, total as u64, page))
}

pub fn unread(conn: &mut Conn, user: UserId) -> DbResult<i64> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user.0))
        .filter(notifications::read_at.is_null())
        .filter(notifications::event.ne_all(account_events()))
        .count()
        .get_result(conn)?)
}

/// Mark a person's notices read, up to and including `up_to` (all of them when `None`).
pub fn mark_read(conn: &mut Conn, user: UserId, up_to: Option<i64>) -> DbResult<usize> {
    let q = notifications::table
        .filter(notifications::user_id.eq(user.0))
        .filter(notifications::read_at.is_null())
        .filter(notifications::event.ne_all(account_events()))
        .filter(notifications::id.le(up_to.unwrap_or(i64::MAX)));
    Ok(diesel::update(q)
        .set(notifications::read_at.eq(Some(now())))
        .execute(conn)?)
}

/// The person opened the page a notice links to: that notice is read.
pub fn mark_read_at(conn: &mut Conn, user: UserId, link: &str) -> DbResult<usize> {
    let q = notifications::table
        .filter(notifications::user_id.eq(user.0))
        .filter(notifications::read_at.is_null())
        .filter(notifications::link.eq(link));
    Ok(diesel::update(q)
        .set(notifications::read_at.eq(Some(now())))
        .execute(conn)?)
}

/// What the mail job needs to send one notice.
#[derive(Debug, Clone, Queryable)]
pub struct Outgoing {
    pub id: i64,
    pub email: String,
    pub event: String,
    pub title: String,
    pub paragraphs: String,
    pub link: String,
    pub created_at: NaiveDateTime,
    pub mail_status: String,
}

impl Outgoing {
    pub fn letter(&self) -> Option<Letter> {
        Some(Letter {
            event: self.event.parse().ok()?,
            title: self.title.clone(),
            paragraphs: serde_json::from_str(&self.paragraphs).ok()?,
            link: self.link.clone(),
        })
    }
}

pub fn outgoing(conn: &mut Conn, id: i64) -> DbResult<Option<Outgoing>> {
    Ok(notifications::table
        .inner_join(users::table)
        .filter(notifications::id.eq(id))
        .select((
            notifications::id,
            users::email,
            notifications::event,
            notifications::title,
            notifications::paragraphs,
            notifications::link,
            notifications::created_at,
            notifications::mail_status,
        ))
        .get_result(conn)
        .optional()?)
}

/// Delivered. An account mail's link is forgotten: only the person's mailbox holds it now.
pub fn mark_sent(conn: &mut Conn, id: i64, attempts: i32, forget_link: bool) -> DbResult<()> {
    let sent = notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::mail_status.eq(MailStatus::Pending.as_str()));
    diesel::update(sent)
        .set((
            notifications::mail_status.eq(MailStatus::Sent.as_str()),
            notifications::mail_attempts.eq(attempts),
            notifications::mail_sent_at.eq(Some(now())),
            notifications::mail_error.eq(None::<String>),
        ))
        .execute(conn)?;
    if forget_link {
        diesel::update(notifications::table.find(id))
            .set(notifications::link.eq(""))
            .execute(conn)?;
    }
    Ok(())
}

/// An attempt that failed: why; `give_up` when it will not be tried again.
pub fn mark_attempt_failed(conn: &mut Conn, id: i64, attempts: i32, error: &str, give_up: bool) -> DbResult<()> {
    let status = if give_up {
        MailStatus::Failed
    } else {
        MailStatus::Pending
    };
    diesel::update(notifications::table.find(id))
        .set((
            notifications::mail_status.eq(status.as_str()),
            notifications::mail_attempts.eq(attempts),
            notifications::mail_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Everyone who works for an organisation and can log in.
pub fn organisation_users(conn: &mut Conn, organisation: OrganisationId) -> DbResult<Vec<UserId>> {
    Ok(users::table
        .filter(users::organisation_id.eq(organisation.0))
        .filter(users::disabled_at.is_null())
        .select(users::id)
        .load::<i64>(conn)?
        .into_iter()
        .map(UserId)
        .collect())
}

/// Who hears about a plan: its family, a family another council's plan was linked to once it
/// accepted, and the staff of its broker.
pub fn plan_people(conn: &mut Conn, holder: BudgetHolderId) -> DbResult<Vec<UserId>> {
    let plan: Option<(i64, Option<i64>)> = budget_holders::table
        .find(holder.0)
        .filter(budget_holders::erased_at.is_null())
        .select((budget_holders::family_user_id, budget_holders::broker_organisation_id))
        .get_result(conn)
        .optional()?;
    let Some((family, broker)) = plan else {
        return Ok(Vec::new());
    };
    let mut people = vec![UserId(family)];
    let linked: Vec<i64> = plan_links::table
        .filter(plan_links::budget_holder_id.eq(holder.0))
        .filter(plan_links::status.eq(super::plan_links::ACCEPTED))
        .select(plan_links::family_user_id)
        .load(conn)?;
    people.extend(linked.into_iter().map(UserId));
    if let Some(broker) = broker {
        people.extend(organisation_users(conn, OrganisationId(broker))?);
    }
    people.sort();
    people.dedup();
    Ok(people)
}

/// A council's active officers, or those holding `permission`.
pub fn council_officers(conn: &mut Conn, council: CouncilId, permission: Option<Permission>) -> DbResult<Vec<UserId>> {
    let rows: Vec<(i64, String)> = users::table
        .filter(users::council_id.eq(council.0))
        .filter(users::role.eq(Role::Council.as_str()))
        .filter(users::disabled_at.is_null())
        .select((users::id, users::permissions))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, p)| permission.is_none_or(|want| Permissions::parse(p).has(want)))
        .map(|(id, _)| UserId(id))
        .collect())
}

pub fn mail_off(conn: &mut Conn, user: UserId) -> DbResult<MailOff> {
    let text: String = users::table.find(user.0).select(users::mail_off).get_result(conn)?;
    Ok(MailOff::parse(&text))
}

pub fn set_mail_off(conn: &mut Conn, user: UserId, off: &MailOff) -> DbResult<()> {
    diesel::update(users::table.find(user.0))
        .set(users::mail_off.eq(off.to_text()))
        .execute(conn)?;
    Ok(())
}
