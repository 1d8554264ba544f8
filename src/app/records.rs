//! The access record (who read or changed a budget holder's data, other than its family),
//! erasure after the plan's retention period, and the purge of what is kept no longer.

use chrono::NaiveDateTime;

use super::bookings::plan_for;
use super::{App, AppError, AppResult};
use crate::db::access_log::{self, AccessEntry, Who};
use crate::db::budget_holders::{self, BudgetHolderView, HolderRow};
use crate::db::{Conn, Db, calendar, now, search_log, users};
use crate::domain::access::PlanOwners;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::retention::Retention;
use crate::domain::{Actor, BudgetHolderId, Role};

pub const READ_PLAN: &str = "read plan";
pub const LISTED_PLANS: &str = "listed plans";
pub const READ_STATEMENT: &str = "read statement";
pub const READ_RETURN: &str = "read quarterly return";
pub const READ_BOOKING: &str = "read booking";
pub const READ_BOOKINGS: &str = "read bookings";
pub const READ_REGISTER: &str = "read session register";
pub const READ_ACCESS_RECORD: &str = "read access record";
pub const CHANGED_DETAILS: &str = "changed plan details";
pub const CHANGED_ALLOCATION: &str = "changed allocation";
pub const ADDED_ALLOCATION: &str = "added allocation";
pub const CHANGED_BROKER: &str = "changed broker";
pub const CHANGED_OUTCOME: &str = "changed outcome status";
pub const BOOKED: &str = "booked";
pub const CHANGED_BOOKING: &str = "changed booking";
pub const UNLOCKED_LOGIN: &str = "unlocked family login";
pub const INVITED: &str = "sent the family an invitation";
pub const ENDED_SESSIONS: &str = "ended family sessions";
pub const ERASED: &str = "erased";

/// The route an actor came through (set by each front door).
fn route(actor: &Actor) -> &str {
    actor.via.as_deref().unwrap_or("unknown route")
}

/// Record, inside the transaction that changes the plan, that `actor` changed it.
pub(crate) fn record_change(conn: &mut Conn, actor: &Actor, holder: &HolderRow, action: &str) -> AppResult<()> {
    if actor.is_recorded_on(&holder.owners()) {
        access_log::append(
            conn,
            Who::from(actor),
            &[BudgetHolderId(holder.id)],
            action,
            route(actor),
        )?;
    }
    Ok(())
}

/// Record, inside the transaction that changes them, that `actor` changed several plans' data
/// (a payment run's invoices). Every actor but a plan's own family is recorded.
pub(crate) fn record_changes(conn: &mut Conn, actor: &Actor, ids: &[BudgetHolderId], action: &str) -> AppResult<()> {
    let mut ids = ids.to_vec();
    ids.sort_by_key(|id| id.0);
    ids.dedup();
    if ids.is_empty() || actor.role == Role::Family {
        return Ok(());
    }
    access_log::append(conn, Who::from(actor), &ids, action, route(actor))?;
    Ok(())
}

/// Record reads once they are made: a read runs on a reader, the record is a write of its own.
/// Only plans the actor is recorded on go in (a family's own reads do not).
pub(crate) async fn record_reads(
    app: &App,
    actor: &Actor,
    read: impl IntoIterator<Item = (BudgetHolderId, PlanOwners)>,
    action: &'static str,
) -> AppResult<()> {
    let ids = read
        .into_iter()
        .filter(|(_, owners)| actor.is_recorded_on(owners))
        .map(|(id, _)| id)
        .collect();
    append_reads(app, actor, ids, action).await
}

/// Read one plan `actor` may see (404/403 as [`plan_for`]) with `read`, then record the reading as
/// `action`.
pub(crate) async fn read_plan<T: Send + 'static>(
    app: &App,
    actor: &Actor,
    id: BudgetHolderId,
    action: &'static str,
    read: impl FnOnce(&mut Conn, HolderRow) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let reader = actor.clone();
    let (owners, value) = app
        .read(move |conn| {
            let row = plan_for(conn, &reader, id)?;
            let owners = row.owners();
            Ok((owners, read(conn, row)?))
        })
        .await?;
    record_reads(app, actor, [(id, owners)], action).await?;
    Ok(value)
}

/// Record reads of a list scoped to what `actor` may see: a family's lists hold only its own
/// plans; everyone else's reads are recorded.
pub(crate) async fn record_listed(
    app: &App,
    actor: &Actor,
    ids: impl IntoIterator<Item = BudgetHolderId>,
    action: &'static str,
) -> AppResult<()> {
    if actor.role == Role::Family {
        return Ok(());
    }
    append_reads(app, actor, ids.into_iter().collect(), action).await
}

async fn append_reads(app: &App, actor: &Actor, mut ids: Vec<BudgetHolderId>, action: &'static str) -> AppResult<()> {
    ids.sort_by_key(|id| id.0);
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let actor = actor.clone();
    app.write(move |conn| {
        Ok(access_log::append(
            conn,
            Who::from(&actor),
            &ids,
            action,
            route(&actor),
        )?)
    })
    .await
}

/// A page of a budget holder's access record, newest first: for its council and its family.
/// A council's reading it is itself recorded.
pub async fn access_log(
    app: &App,
    actor: &Actor,
    id: BudgetHolderId,
    page: PageRequest,
) -> AppResult<Page<AccessEntry>> {
    if !matches!(actor.role, Role::Council | Role::Family) {
        return Err(AppError::forbidden(
            "only the council and the family see the access record",
        ));
    }
    read_plan(app, actor, id, READ_ACCESS_RECORD, move |conn, _| {
        Ok(access_log::list(conn, id, page)?)
    })
    .await
}

/// The access record of each plan a family has, at `page`: its page "Who has looked at your plan".
pub async fn family_access(
    app: &App,
    actor: &Actor,
    page: PageRequest,
) -> AppResult<Vec<(BudgetHolderView, Page<AccessEntry>)>> {
    if actor.role != Role::Family {
        return Err(AppError::wrong_role(actor));
    }
    let mut out = Vec::new();
    for plan in super::plans::all(app, actor).await? {
        let log = access_log(app, actor, plan.id, page).await?;
        out.push((plan, log));
    }
    Ok(out)
}

/// A council officer erases one of its budget holders once the plan's retention period is over.
pub async fn erase(app: &App, actor: &Actor, id: BudgetHolderId) -> AppResult<BudgetHolderView> {
    actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    let (actor, retention) = (actor.clone(), app.retention);
    app.write(move |conn| {
        let row = plan_for(conn, &actor, id)?;
        erase_in(conn, row, retention, Who::from(&actor), route(&actor))?;
        reload(conn, id)
    })
    .await
}

/// The operator erases a budget holder (`localoffer erase --budget-holder ID`), by the same rule.
pub fn erase_by_operator(db: &Db, id: BudgetHolderId, retention: Retention) -> AppResult<BudgetHolderView> {
    db.write_as(move |conn| {
        let row = budget_holders::load(conn, id)?.ok_or_else(|| AppError::not_found("budget holder"))?;
        let who = Who {
            user: None,
            role: "operator",
        };
        erase_in(conn, row, retention, who, "localoffer erase")?;
        reload(conn, id)
    })
}

fn reload(conn: &mut Conn, id: BudgetHolderId) -> AppResult<BudgetHolderView> {
    let row = budget_holders::load(conn, id)?.ok_or_else(|| AppError::not_found("budget holder"))?;
    Ok(budget_holders::view(conn, row)?)
}

/// Remove the person from a budget holder, keep its money; a family left with no other plan
/// loses its login too. In the caller's transaction, with its access record entry.
fn erase_in(conn: &mut Conn, row: HolderRow, retention: Retention, who: Who<'_>, route: &str) -> AppResult<()> {
    retention.check_erasable(row.plan_end, row.erased_at.is_some(), App::today())?;
    let id = BudgetHolderId(row.id);
    budget_holders::erase(conn, id)?;
    crate::db::threads::erase_of(conn, id)?;
    let family = row.owners().family;
    if budget_holders::live_of_family(conn, family)? == 0 {
        users::disable(conn, family)?;
        calendar::revoke(conn, family)?;
        crate::db::totp::forget(conn, family)?;
    }
    access_log::append(conn, who, &[id], ERASED, route)?;
    tracing::info!(budget_holder = id.0, "budget holder erased");
    Ok(())
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Purged {
    /// Expired and revoked sessions deleted.
    pub sessions: usize,
    /// Search log rows past retention folded into the monthly counts and deleted.
    pub searches_aggregated: usize,
}

/// Search log rows folded per transaction, so a long purge never holds the writer for long.
const PURGE_BATCH: i64 = 1000;

/// Purge what is kept no longer, a batch per transaction; `progress` hears how many search log
/// rows there are to fold (once) and then each batch folded.
pub fn purge(db: &Db, retention: Retention, mut progress: impl FnMut(Progress)) -> AppResult<Purged> {
    let at = now();
    let sessions = db.write(move |conn| users::purge_sessions(conn, at))?;
    let cutoff = retention.search_log_cutoff(at);
    progress(Progress::Total(db.read(|conn| search_log::count_before(conn, cutoff))?));
    let searches_aggregated = fold_batches(
        || Ok(db.write(move |conn| search_log::aggregate_before(conn, cutoff, PURGE_BATCH))?),
        |folded| progress(Progress::Done(folded)),
    )?;
    Ok(Purged {
        sessions,
        searches_aggregated,
    })
}

/// Run `batch` until it folds nothing more; `each` hears every batch's count. The total folded.
fn fold_batches(mut batch: impl FnMut() -> AppResult<usize>, mut each: impl FnMut(usize)) -> AppResult<usize> {
    let mut total = 0;
    loop {
        let folded = batch()?;
        if folded == 0 {
            return Ok(total);
        }
        total += folded;
        each(folded);
    }
}

/// How far a purge has got.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    Total(i64),
    Done(usize),
}

/// The daily purge job's work, in the job's transaction.
pub(crate) fn purge_in(conn: &mut Conn, retention: Retention, at: NaiveDateTime) -> AppResult<bool> {
    let sessions = users::purge_sessions(conn, at)?;
    let cutoff = retention.search_log_cutoff(at);
    let searches = fold_batches(|| Ok(search_log::aggregate_before(conn, cutoff, PURGE_BATCH)?), |_| ())?;
    tracing::info!(sessions, searches_aggregated = searches, "purged");
    Ok(sessions + searches > 0)
}
