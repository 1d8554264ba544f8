//! A plan one council added for a family whose account another council made: it reaches the
//! family only when the family accepts it (until then the plan belongs to a stand-in login).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{budget_holders, councils, plan_links, sessions, users};
use super::{Conn, DbResult, now};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::{BudgetHolderId, UserId};

pub const PENDING: &str = "pending";
pub const ACCEPTED: &str = "accepted";
pub const DECLINED: &str = "declined";

/// A link as the family sees it: who added the plan and when, nothing of the plan itself.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct PendingLink {
    pub id: i64,
    pub council: String,
    pub created_at: NaiveDateTime,
}

pub fn create(conn: &mut Conn, holder: BudgetHolderId, family: UserId) -> DbResult<i64> {
    Ok(diesel::insert_into(plan_links::table)
        .values((
            plan_links::budget_holder_id.eq(holder.0),
            plan_links::family_user_id.eq(family.0),
            plan_links::status.eq(PENDING),
            plan_links::created_at.eq(now()),
        ))
        .returning(plan_links::id)
        .get_result(conn)?)
}

/// One page of the family's links still waiting for its answer, oldest first.
pub fn pending(conn: &mut Conn, family: UserId, page: PageRequest) -> DbResult<Page<PendingLink>> {
    let waiting = || {
        plan_links::table
            .filter(plan_links::family_user_id.eq(family.0))
            .filter(plan_links::status.eq(PENDING))
    };
    let total: i64 = waiting().count().get_result(conn)?;
    let rows = waiting()
        .inner_join(budget_holders::table.inner_join(councils::table.on(councils::id.eq(budget_holders::council_id))))
        .order(plan_links::id)
        .offset(page.offset())
        .limit(page.limit())
        .select((plan_links::id, councils::name, plan_links::created_at))
        .load(conn)?;
    Ok(Page::new(rows, u64::try_from(total).unwrap_or(0), page))
}

/// Record the family's answer to one of its pending links; the plan it links, or None when the
/// link is not the family's or was already answered.
pub fn decide(conn: &mut Conn, id: i64, family: UserId, accepted: bool) -> DbResult<Option<BudgetHolderId>> {
    let changed = diesel::update(
        plan_links::table
            .filter(plan_links::id.eq(id))
            .filter(plan_links::family_user_id.eq(family.0))
            .filter(plan_links::status.eq(PENDING)),
    )
    .set((
        plan_links::status.eq(if accepted { ACCEPTED } else { DECLINED }),
        plan_links::decided_at.eq(now()),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    let holder: i64 = plan_links::table
        .find(id)
        .select(plan_links::budget_holder_id)
        .get_result(conn)?;
    Ok(Some(BudgetHolderId(holder)))
}

/// Give an accepted plan to the family, and remove the stand-in login it belonged to until then
/// (it never had a session or a usable password).
pub fn hand_over(conn: &mut Conn, holder: BudgetHolderId, family: UserId) -> DbResult<()> {
    let stand_in: i64 = budget_holders::table
        .find(holder.0)
        .select(budget_holders::family_user_id)
        .get_result(conn)?;
    diesel::update(budget_holders::table.find(holder.0))
        .set(budget_holders::family_user_id.eq(family.0))
        .execute(conn)?;
    let still_used: i64 = budget_holders::table
        .filter(budget_holders::family_user_id.eq(stand_in))
        .count()
        .get_result(conn)?;
    let sessions: i64 = sessions::table
        .filter(sessions::user_id.eq(stand_in))
        .count()
        .get_result(conn)?;
    if still_used == 0 && sessions == 0 && stand_in != family.0 {
        diesel::delete(users::table.find(stand_in)).execute(conn)?;
    }
    Ok(())
}
