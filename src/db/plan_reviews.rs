//! Reviews held of a plan (six-week, annual, adult-care screening), and the facts the due list
//! is worked out from.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{budget_holders, pb_decisions, pb_requests, plan_reviews, users};
use super::{Conn, DbResult, now};
use crate::domain::personal_budget::{Outcome, PlanDueFacts, ReviewKind};
use crate::domain::{BudgetHolderId, CouncilId, PlanReviewId, UserId};

#[derive(Debug, Clone)]
pub struct ReviewView {
    pub id: PlanReviewId,
    pub kind: ReviewKind,
    pub held_on: NaiveDate,
    pub notes: String,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

pub fn add(
    conn: &mut Conn,
    holder: BudgetHolderId,
    kind: ReviewKind,
    held_on: NaiveDate,
    notes: &str,
    by: UserId,
) -> DbResult<PlanReviewId> {
    let id = diesel::insert_into(plan_reviews::table)
        .values((
            plan_reviews::budget_holder_id.eq(holder.0),
            plan_reviews::kind.eq(kind.as_str()),
            plan_reviews::held_on.eq(held_on),
            plan_reviews::notes.eq(notes),
            plan_reviews::recorded_by.eq(by.0),
            plan_reviews::created_at.eq(now()),
        ))
        .returning(plan_reviews::id)
        .get_result::<i64>(conn)?;
    Ok(PlanReviewId(id))
}

/// A plan's reviews, latest held first.
pub fn of(conn: &mut Conn, holder: BudgetHolderId) -> DbResult<Vec<ReviewView>> {
    let rows: Vec<(i64, String, NaiveDate, String, String, NaiveDateTime)> = plan_reviews::table
        .inner_join(users::table.on(users::id.eq(plan_reviews::recorded_by)))
        .filter(plan_reviews::budget_holder_id.eq(holder.0))
        .order((plan_reviews::held_on.desc(), plan_reviews::id.desc()))
        .select((
            plan_reviews::id,
            plan_reviews::kind,
            plan_reviews::held_on,
            plan_reviews::notes,
            users::email,
            plan_reviews::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, held_on, notes, recorded_by, created_at)| ReviewView {
            id: PlanReviewId(id),
            kind: kind.parse().unwrap_or(ReviewKind::Annual),
            held_on,
            notes,
            recorded_by,
            created_at,
        })
        .collect())
}

/// The facts of each of a council's live plans the due list needs.
pub fn due_facts(conn: &mut Conn, council: CouncilId) -> DbResult<Vec<PlanDueFacts>> {
    let plans: Vec<(i64, String, NaiveDate, NaiveDate, NaiveDate)> = budget_holders::table
        .filter(budget_holders::council_id.eq(council.0))
        .filter(budget_holders::erased_at.is_null())
        .order(budget_holders::id)
        .select((
            budget_holders::id,
            budget_holders::reference,
            budget_holders::date_of_birth,
            budget_holders::plan_start,
            budget_holders::plan_end,
        ))
        .load(conn)?;
    let reviews: Vec<(i64, String, NaiveDate)> = plan_reviews::table
        .inner_join(budget_holders::table)
        .filter(budget_holders::council_id.eq(council.0))
        .select((
            plan_reviews::budget_holder_id,
            plan_reviews::kind,
            plan_reviews::held_on,
        ))
        .load(conn)?;
    let mut last: HashMap<(i64, ReviewKind), NaiveDate> = HashMap::new();
    for (holder, kind, held_on) in reviews {
        let Ok(kind) = kind.parse::<ReviewKind>() else { continue };
        let e = last.entry((holder, kind)).or_insert(held_on);
        *e = (*e).max(held_on);
    }
    let positive = [Outcome::Agreed.as_str(), Outcome::Varied.as_str()];
    let agreed: Vec<(i64, NaiveDateTime)> = pb_decisions::table
        .inner_join(pb_requests::table)
        .filter(pb_requests::council_id.eq(council.0))
        .filter(pb_decisions::outcome.eq_any(positive))
        .select((pb_requests::budget_holder_id, pb_decisions::decided_at))
        .load(conn)?;
    let mut agreed_on: HashMap<i64, NaiveDate> = HashMap::new();
    for (holder, at) in agreed {
        let e = agreed_on.entry(holder).or_insert(at.date());
        *e = (*e).max(at.date());
    }
    Ok(plans
        .into_iter()
        .map(|(id, reference, dob, start, end)| PlanDueFacts {
            budget_holder_id: BudgetHolderId(id),
            reference,
            date_of_birth: dob,
            plan_start: start,
            plan_end: end,
            budget_agreed_on: agreed_on.get(&id).copied(),
            last_six_week: last.get(&(id, ReviewKind::SixWeek)).copied(),
            last_annual: last.get(&(id, ReviewKind::Annual)).copied(),
            screened: last.contains_key(&(id, ReviewKind::AdultScreening)),
        })
        .collect())
}
