//! Telling people: [`tell`] writes notices (and queues their mail) inside the transaction of the
//! change they are about, so a rolled-back change tells no one and a committed one is never
//! forgotten. People read their notices and choose which emails they get.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{App, AppResult};
use crate::db::{Conn, jobs, notifications, now};
use crate::domain::notification::{Event, Letter, MailOff, MailStatus};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::{Actor, UserId};

/// The job kind that delivers one notice's email (its subject is the notice).
pub const MAIL: &str = "mail";

/// Set when a write queued mail, so the server wakes its job runner after the commit instead of
/// waiting for the next poll.
static QUEUED: AtomicBool = AtomicBool::new(false);

/// Whether mail was queued since the last call (the caller nudges the job runner).
pub(crate) fn take_queued() -> bool {
    QUEUED.swap(false, Ordering::Relaxed)
}

/// Write `letter` for each of `to` (each person once) and queue the mail of those who get it.
pub(crate) fn tell(conn: &mut Conn, to: &[UserId], letter: &Letter) -> AppResult<()> {
    tell_once(conn, to, letter, None)
}

/// As [`tell`], but at most once per person for `once_key` (a reminder per booked seat).
pub(crate) fn tell_once(conn: &mut Conn, to: &[UserId], letter: &Letter, once_key: Option<&str>) -> AppResult<()> {
    for person in notifications::recipients(conn, to)? {
        let key = once_key.map(|k| format!("{k}:{}", person.id));
        if let Some((id, MailStatus::Pending)) = notifications::insert(conn, &person, letter, key.as_deref())? {
            jobs::schedule(conn, MAIL, id, now())?;
            QUEUED.store(true, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// One notice as its reader sees it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: i64,
    pub event: Event,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link: String,
    pub created_at: chrono::NaiveDateTime,
    pub read: bool,
    pub mail: MailStatus,
    pub mail_error: Option<String>,
}

/// A page of the caller's notices, and how many are unread.
pub struct Notices {
    pub page: Page<Notice>,
    pub unread: i64,
}

pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Notices> {
    let user = actor.user_id;
    app.read(move |conn| {
        let rows = notifications::of_user(conn, user, page)?;
        let unread = notifications::unread(conn, user)?;
        let page = rows.map(|row| Notice {
            id: row.id,
            event: row.event().unwrap_or(Event::NewMessage),
            paragraphs: row.paragraphs(),
            mail: row.mail_status(),
            read: row.read_at.is_some(),
            title: row.title,
            link: row.link,
            created_at: row.created_at,
            mail_error: row.mail_error,
        });
        Ok(Notices { page, unread })
    })
    .await
}

/// What the menu counts for a logged-in person: unread notices and unread messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct MenuCounts {
    pub notices: i64,
    pub messages: u64,
}

/// Both of the menu's counts in one read (every page asks for them).
pub async fn menu_counts(app: &App, actor: &Actor) -> AppResult<MenuCounts> {
    let (user, scope) = (actor.user_id, crate::domain::threads::scope(actor));
    app.read(move |conn| {
        Ok(MenuCounts {
            notices: notifications::unread(conn, user)?,
            messages: match scope {
                Some(scope) => crate::db::threads::unread_total(conn, scope, user)?,
                None => 0,
            },
        })
    })
    .await
}

/// Mark the caller's notices read, up to `up_to` (all when absent); how many were marked.
pub async fn mark_read(app: &App, actor: &Actor, up_to: Option<i64>) -> AppResult<usize> {
    let user = actor.user_id;
    app.write(move |conn| Ok(notifications::mark_read(conn, user, up_to)?))
        .await
}

/// Each event the caller can hear of: whether it is emailed, and whether that can be changed.
#[derive(Debug, Clone)]
pub struct Preference {
    pub event: Event,
    pub email: bool,
    pub required: bool,
}

fn preferences_of(actor: &Actor, off: &MailOff) -> Vec<Preference> {
    off.choices(actor.role)
        .into_iter()
        .map(|(event, email)| Preference {
            event,
            email,
            required: event.is_required(),
        })
        .collect()
}

pub async fn preferences(app: &App, actor: &Actor) -> AppResult<Vec<Preference>> {
    let who = actor.clone();
    app.read(move |conn| Ok(preferences_of(&who, &notifications::mail_off(conn, who.user_id)?)))
        .await
}

/// Turn emails on or off (`event -> on?`; events not named keep their choice).
pub async fn set_preferences(app: &App, actor: &Actor, choices: BTreeMap<String, bool>) -> AppResult<Vec<Preference>> {
    let who = actor.clone();
    app.write(move |conn| {
        let off = notifications::mail_off(conn, who.user_id)?.with_choices(who.role, &choices)?;
        notifications::set_mail_off(conn, who.user_id, &off)?;
        Ok(preferences_of(&who, &off))
    })
    .await
}
