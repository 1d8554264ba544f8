//! Budget holders: a child's plan, its outcomes and its Section J allocations.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::ledger::{self, Movement};
use super::schema::{allocations, bookings, budget_holders, plan_needs, plan_outcome_terms, plan_outcomes};
use super::{Conn, DbResult, now};
use crate::domain::access::{PlanOwners, PlanScope};
use crate::domain::booking::LedgerKind;
use crate::domain::budget::{ValidAllocation, ValidBudgetHolder};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::plan_change::ValidPlanDetails;
use crate::domain::spending::PaymentSchedule;
use crate::domain::{
    AllocationId, BudgetHolderId, CouncilId, Management, OrganisationId, Pence, PlanOutcomeId, Stream, UserId,
};

/// Store a validated plan for `family_user` with its outcomes and allocations, each allocation
/// opened in the ledger (and its admin fee taken). A reference the council already used is a
/// unique violation for the caller to name.
pub fn create(
    conn: &mut Conn,
    council: CouncilId,
    h: &ValidBudgetHolder,
    family_user: UserId,
) -> DbResult<BudgetHolderId> {
    let id = diesel::insert_into(budget_holders::table)
        .values((
            budget_holders::council_id.eq(council.0),
            budget_holders::reference.eq(&h.reference),
            budget_holders::first_name.eq(&h.first_name),
            budget_holders::date_of_birth.eq(h.date_of_birth),
            budget_holders::postcode.eq(&h.postcode),
            budget_holders::plan_start.eq(h.plan_start),
            budget_holders::plan_end.eq(h.plan_end),
            budget_holders::family_user_id.eq(family_user.0),
            budget_holders::broker_organisation_id.eq(h.broker_organisation_id.map(|o| o.0)),
            budget_holders::created_at.eq(now()),
        ))
        .returning(budget_holders::id)
        .get_result::<i64>(conn)?;
    let id = BudgetHolderId(id);
    for (position, outcome) in h.outcomes.iter().enumerate() {
        let outcome_id = diesel::insert_into(plan_outcomes::table)
            .values((
                plan_outcomes::budget_holder_id.eq(id.0),
                plan_outcomes::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                plan_outcomes::text.eq(&outcome.text),
            ))
            .returning(plan_outcomes::id)
            .get_result::<i64>(conn)?;
        let terms: Vec<_> = outcome
            .terms
            .iter()
            .map(|t| {
                (
                    plan_outcome_terms::plan_outcome_id.eq(outcome_id),
                    plan_outcome_terms::term_id.eq(t.0.clone()),
                )
            })
            .collect();
        // One row at a time: multi-row VALUES is not available across backends.
        for row in terms {
            diesel::insert_into(plan_outcome_terms::table)
                .values(row)
                .execute(conn)?;
        }
    }
    for need in &h.needs {
        diesel::insert_into(plan_needs::table)
            .values((
                plan_needs::budget_holder_id.eq(id.0),
                plan_needs::term.eq(need.as_str()),
            ))
            .execute(conn)?;
    }
    for a in &h.allocations {
        add_allocation(conn, id, a)?;
    }
    Ok(id)
}

/// Open an allocation on a plan in the ledger, and take its admin fee.
pub fn add_allocation(conn: &mut Conn, holder: BudgetHolderId, a: &ValidAllocation) -> DbResult<AllocationId> {
    let allocation = diesel::insert_into(allocations::table)
        .values((
            allocations::budget_holder_id.eq(holder.0),
            allocations::stream.eq(a.stream.as_str()),
            allocations::management.eq(a.management.as_str()),
            allocations::amount_pence.eq(a.amount.pence()),
            allocations::committed_pence.eq(a.admin_fee.pence()),
            allocations::admin_fee_pence.eq(a.admin_fee.pence()),
            allocations::payment_schedule.eq(a.payment_schedule.as_str()),
        ))
        .returning(allocations::id)
        .get_result::<i64>(conn)?;
    let allocation = AllocationId(allocation);
    ledger::append(
        conn,
        Movement {
            allocation,
            booking: None,
            kind: LedgerKind::Allocated,
            amount: a.amount.credit(),
            balance_after: a.amount,
            description: &format!("{} allocated", crate::domain::allocation_name(a.stream, a.management)),
            ..Movement::default()
        },
    )?;
    if a.admin_fee > Pence::ZERO {
        ledger::append(
            conn,
            Movement {
                allocation,
                booking: None,
                kind: LedgerKind::AdminFee,
                amount: a.admin_fee.debit(),
                balance_after: a.amount.saturating_sub(a.admin_fee),
                description: "third-party arrangement admin fee",
                ..Movement::default()
            },
        )?;
    }
    Ok(allocation)
}

/// Hold a direct payment back until the family accepts its agreement (or let it be paid in).
pub fn set_awaiting_agreement(conn: &mut Conn, allocations: &[AllocationId], awaiting: bool) -> DbResult<()> {
    let ids: Vec<i64> = allocations.iter().map(|a| a.0).collect();
    diesel::update(allocations::table.filter(allocations::id.eq_any(ids)))
        .set(allocations::awaiting_agreement.eq(awaiting))
        .execute(conn)?;
    Ok(())
}

/// Correct or renew a plan's details. A reference the council already used is a unique
/// violation for the caller to name.
pub fn update_details(conn: &mut Conn, holder: BudgetHolderId, d: &ValidPlanDetails) -> DbResult<()> {
    diesel::update(budget_holders::table.find(holder.0))
        .set((
            budget_holders::reference.eq(&d.reference),
            budget_holders::first_name.eq(&d.first_name),
            budget_holders::date_of_birth.eq(d.date_of_birth),
            budget_holders::postcode.eq(&d.postcode),
            budget_holders::plan_start.eq(d.plan_start),
            budget_holders::plan_end.eq(d.plan_end),
        ))
        .execute(conn)?;
    Ok(())
}

/// Set an allocation's amount only if it still covers what is committed and spent, in one
/// guarded statement (a booking made meanwhile wins). Returns whether it was set.
pub fn set_amount(conn: &mut Conn, allocation: AllocationId, from: Pence, to: Pence) -> DbResult<bool> {
    let changed = diesel::update(
        allocations::table
            .filter(allocations::id.eq(allocation.0))
            .filter(allocations::amount_pence.eq(from.pence()))
            .filter((allocations::committed_pence + allocations::spent_pence).le(to.pence())),
    )
    .set(allocations::amount_pence.eq(to.pence()))
    .execute(conn)?;
    Ok(changed == 1)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = budget_holders)]
pub struct HolderRow {
    pub id: i64,
    pub council_id: i64,
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    pub postcode: String,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
    pub family_user_id: i64,
    pub broker_organisation_id: Option<i64>,
    pub erased_at: Option<chrono::NaiveDateTime>,
}

impl HolderRow {
    pub fn owners(&self) -> PlanOwners {
        PlanOwners {
            council: CouncilId(self.council_id),
            family: UserId(self.family_user_id),
            broker: self.broker_organisation_id.map(OrganisationId),
        }
    }
}

pub fn load(conn: &mut Conn, id: BudgetHolderId) -> DbResult<Option<HolderRow>> {
    Ok(budget_holders::table
        .select(HolderRow::as_select())
        .filter(budget_holders::id.eq(id.0))
        .get_result(conn)
        .optional()?)
}

/// One of the holder's allocations, or None.
pub fn allocation(conn: &mut Conn, holder: BudgetHolderId, id: AllocationId) -> DbResult<Option<AllocationView>> {
    Ok(allocations_of(conn, holder)?.into_iter().find(|a| a.id == id))
}

#[derive(Debug, Clone)]
pub struct AllocationView {
    pub id: AllocationId,
    pub stream: Stream,
    pub management: Management,
    pub amount: Pence,
    pub committed: Pence,
    /// Approved invoices (less credit notes) and accepted direct-payment spending.
    pub spent: Pence,
    pub remaining: Pence,
    pub admin_fee: Pence,
    /// How a direct payment is paid in (meaningless for other allocations).
    pub payment_schedule: PaymentSchedule,
}

type AllocationRow = (i64, String, String, i64, i64, i64, i64, String);

pub fn allocations_of(conn: &mut Conn, holder: BudgetHolderId) -> DbResult<Vec<AllocationView>> {
    let rows: Vec<AllocationRow> = allocations::table
        .filter(allocations::budget_holder_id.eq(holder.0))
        .order(allocations::id)
        .select((
            allocations::id,
            allocations::stream,
            allocations::management,
            allocations::amount_pence,
            allocations::committed_pence,
            allocations::admin_fee_pence,
            allocations::spent_pence,
            allocations::payment_schedule,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, stream, management, amount, committed, admin_fee, spent, schedule)| AllocationView {
                id: AllocationId(id),
                stream: stream.parse().unwrap_or(Stream::SocialCare),
                management: management.parse().unwrap_or(Management::Organised),
                amount: Pence::from_stored(amount),
                committed: Pence::from_stored(committed),
                spent: Pence::from_stored(spent),
                remaining: Pence::from_stored(amount - committed - spent),
                admin_fee: Pence::from_stored(admin_fee),
                payment_schedule: schedule.parse().unwrap_or(PaymentSchedule::FourWeekly),
            },
        )
        .collect())
}

#[derive(Debug, Clone)]
pub struct PlanOutcomeView {
    pub id: PlanOutcomeId,
    pub text: String,
    pub terms: Vec<String>,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct BudgetHolderView {
    pub id: BudgetHolderId,
    pub council_id: CouncilId,
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    pub postcode: String,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
    pub broker_organisation_id: Option<OrganisationId>,
    pub family_user_id: UserId,
    /// An erased record keeps its money and bookings but no person: shown as "Erased record".
    pub erased: bool,
    pub outcomes: Vec<PlanOutcomeView>,
    pub allocations: Vec<AllocationView>,
    /// The child's need terms, in id order.
    pub needs: Vec<String>,
}

impl BudgetHolderView {
    pub fn owners(&self) -> PlanOwners {
        PlanOwners {
            council: self.council_id,
            family: self.family_user_id,
            broker: self.broker_organisation_id,
        }
    }
}

pub fn view(conn: &mut Conn, row: HolderRow) -> DbResult<BudgetHolderView> {
    let id = BudgetHolderId(row.id);
    let outcomes: Vec<(i64, String, String)> = plan_outcomes::table
        .filter(plan_outcomes::budget_holder_id.eq(row.id))
        .order(plan_outcomes::position)
        .select((plan_outcomes::id, plan_outcomes::text, plan_outcomes::status))
        .load(conn)?;
    let outcome_ids: Vec<i64> = outcomes.iter().map(|o| o.0).collect();
    let terms: Vec<(i64, String)> = plan_outcome_terms::table
        .filter(plan_outcome_terms::plan_outcome_id.eq_any(&outcome_ids))
        .select((plan_outcome_terms::plan_outcome_id, plan_outcome_terms::term_id))
        .order((plan_outcome_terms::plan_outcome_id, plan_outcome_terms::term_id))
        .load(conn)?;
    Ok(BudgetHolderView {
        id,
        council_id: CouncilId(row.council_id),
        reference: row.reference,
        first_name: row.first_name,
        date_of_birth: row.date_of_birth,
        postcode: row.postcode,
        plan_start: row.plan_start,
        plan_end: row.plan_end,
        broker_organisation_id: row.broker_organisation_id.map(OrganisationId),
        family_user_id: UserId(row.family_user_id),
        erased: row.erased_at.is_some(),
        outcomes: outcomes
            .into_iter()
            .map(|(oid, text, status)| PlanOutcomeView {
                id: PlanOutcomeId(oid),
                text,
                terms: terms
                    .iter()
                    .filter(|(o, _)| *o == oid)
                    .map(|(_, t)| t.clone())
                    .collect(),
                status,
            })
            .collect(),
        allocations: allocations_of(conn, id)?,
        needs: plan_needs::table
            .filter(plan_needs::budget_holder_id.eq(row.id))
            .select(plan_needs::term)
            .order(plan_needs::term)
            .load(conn)?,
    })
}

/// The budget holders in a scope, as a boxed query. A family or broker no longer sees a record
/// once it is erased; its council still does, as "Erased record".
fn scoped(scope: PlanScope) -> budget_holders::BoxedQuery<'static, super::Backend> {
    let q = budget_holders::table.into_boxed();
    match scope {
        PlanScope::Family(user) => q
            .filter(budget_holders::family_user_id.eq(user.0))
            .filter(budget_holders::erased_at.is_null()),
        PlanScope::Broker(organisation) => q
            .filter(budget_holders::broker_organisation_id.eq(organisation.0))
            .filter(budget_holders::erased_at.is_null()),
        PlanScope::Council(council) => q.filter(budget_holders::council_id.eq(council.0)),
    }
}

/// One page of the budget holders in a scope, by id, and how many there are in all.
pub fn list(conn: &mut Conn, scope: PlanScope, page: PageRequest) -> DbResult<Page<BudgetHolderView>> {
    let total: i64 = scoped(scope).count().get_result(conn)?;
    let rows: Vec<HolderRow> = scoped(scope)
        .select(HolderRow::as_select())
        .order(budget_holders::id)
        .offset(page.offset())
        .limit(page.limit())
        .load(conn)?;
    let views = rows.into_iter().map(|r| view(conn, r)).collect::<DbResult<_>>()?;
    Ok(Page::new(views, u64::try_from(total).unwrap_or(0), page))
}

/// Every budget holder in a scope, by id: the plans a booking form offers to pay from.
pub fn all(conn: &mut Conn, scope: PlanScope) -> DbResult<Vec<BudgetHolderView>> {
    let rows: Vec<HolderRow> = scoped(scope)
        .select(HolderRow::as_select())
        .order(budget_holders::id)
        .load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}

/// Hold the plan's row until the transaction ends (PostgreSQL; SQLite's one writer already
/// serialises): a check-then-insert on the plan, such as one open request per stream, cannot race.
pub fn lock(conn: &mut Conn, holder: BudgetHolderId) -> DbResult<()> {
    diesel::update(budget_holders::table.find(holder.0))
        .set(budget_holders::id.eq(budget_holders::id))
        .execute(conn)?;
    Ok(())
}

/// How each of a council's live plans holds its allocations (stream, management), by plan: the
/// personal-budget report counts arrangements from them.
pub fn managements_of(conn: &mut Conn, council: CouncilId) -> DbResult<Vec<Vec<(Stream, Management)>>> {
    let rows: Vec<(i64, String, String)> = allocations::table
        .inner_join(budget_holders::table)
        .filter(budget_holders::council_id.eq(council.0))
        .filter(budget_holders::erased_at.is_null())
        .order((allocations::budget_holder_id, allocations::id))
        .select((
            allocations::budget_holder_id,
            allocations::stream,
            allocations::management,
        ))
        .load(conn)?;
    let mut plans: Vec<Vec<(Stream, Management)>> = Vec::new();
    let mut last = None;
    for (holder, stream, management) in rows {
        let (Ok(stream), Ok(management)) = (stream.parse(), management.parse()) else {
            continue;
        };
        if last != Some(holder) {
            plans.push(Vec::new());
            last = Some(holder);
        }
        if let Some(plan) = plans.last_mut() {
            plan.push((stream, management));
        }
    }
    Ok(plans)
}

/// Remove a budget holder's personal fields: the reference, name, date of birth (set to the
/// plan's start), postcode, broker, the child's needs, the outcomes' free text, and the notes and
/// contact on its bookings. The allocations, ledger and bookings keep their amounts.
pub fn erase(conn: &mut Conn, holder: BudgetHolderId) -> DbResult<()> {
    diesel::update(budget_holders::table.find(holder.0))
        .set((
            budget_holders::reference.eq(format!("erased-{}", holder.0)),
            budget_holders::first_name.eq(""),
            budget_holders::date_of_birth.eq(budget_holders::plan_start),
            budget_holders::postcode.eq(""),
            budget_holders::broker_organisation_id.eq(None::<i64>),
            budget_holders::erased_at.eq(Some(now())),
        ))
        .execute(conn)?;
    diesel::update(plan_outcomes::table.filter(plan_outcomes::budget_holder_id.eq(holder.0)))
        .set(plan_outcomes::text.eq(""))
        .execute(conn)?;
    diesel::delete(plan_needs::table.filter(plan_needs::budget_holder_id.eq(holder.0))).execute(conn)?;
    diesel::update(bookings::table.filter(bookings::budget_holder_id.eq(holder.0)))
        .set((bookings::notes.eq(""), bookings::contact.eq("")))
        .execute(conn)?;
    Ok(())
}

/// How many of a family's budget holders are not erased.
pub fn live_of_family(conn: &mut Conn, family: UserId) -> DbResult<i64> {
    Ok(scoped(PlanScope::Family(family)).count().get_result(conn)?)
}

/// Who manages a plan's budget for the family (a third-party arrangement), or nobody.
pub fn set_broker(conn: &mut Conn, holder: BudgetHolderId, broker: Option<OrganisationId>) -> DbResult<()> {
    diesel::update(budget_holders::table.find(holder.0))
        .set(budget_holders::broker_organisation_id.eq(broker.map(|o| o.0)))
        .execute(conn)?;
    Ok(())
}

/// What is left on an allocation: amount less committed and spent.
pub fn remaining(conn: &mut Conn, allocation: AllocationId) -> DbResult<Pence> {
    let (amount, committed, spent): (i64, i64, i64) = allocations::table
        .find(allocation.0)
        .select((
            allocations::amount_pence,
            allocations::committed_pence,
            allocations::spent_pence,
        ))
        .get_result(conn)?;
    Ok(Pence::from_stored(amount - committed - spent))
}

/// Rule 2: commit `amount` against the allocation only if that much is left, in one guarded
/// statement. Returns whether it was taken and what is left afterwards.
pub fn debit(conn: &mut Conn, allocation: AllocationId, amount: Pence) -> DbResult<(bool, Pence)> {
    let debited = diesel::update(allocations::table.filter(allocations::id.eq(allocation.0)).filter(
        (allocations::amount_pence - allocations::committed_pence - allocations::spent_pence).ge(amount.pence()),
    ))
    .set(allocations::committed_pence.eq(allocations::committed_pence + amount.pence()))
    .execute(conn)?;
    Ok((debited == 1, remaining(conn, allocation)?))
}

/// Move committed money to spent (an invoice approved, spending accepted), in one guarded
/// statement: false when the allocation does not hold that much committed.
pub fn spend(conn: &mut Conn, allocation: AllocationId, amount: Pence) -> DbResult<bool> {
    let moved = diesel::update(
        allocations::table
            .filter(allocations::id.eq(allocation.0))
            .filter(allocations::committed_pence.ge(amount.pence())),
    )
    .set((
        allocations::committed_pence.eq(allocations::committed_pence - amount.pence()),
        allocations::spent_pence.eq(allocations::spent_pence + amount.pence()),
    ))
    .execute(conn)?;
    Ok(moved == 1)
}

/// Spend straight from remaining (spending outside the sample, accepted as it is recorded), in
/// one guarded statement: false when not that much is left. Returns what is left afterwards.
pub fn spend_remaining(conn: &mut Conn, allocation: AllocationId, amount: Pence) -> DbResult<(bool, Pence)> {
    let moved = diesel::update(allocations::table.filter(allocations::id.eq(allocation.0)).filter(
        (allocations::amount_pence - allocations::committed_pence - allocations::spent_pence).ge(amount.pence()),
    ))
    .set(allocations::spent_pence.eq(allocations::spent_pence + amount.pence()))
    .execute(conn)?;
    Ok((moved == 1, remaining(conn, allocation)?))
}

/// Give spent money back to remaining (a credit note on an approved invoice); None when the
/// allocation has not spent that much. Returns what is left afterwards.
pub fn unspend(conn: &mut Conn, allocation: AllocationId, amount: Pence) -> DbResult<Option<Pence>> {
    let moved = diesel::update(
        allocations::table
            .filter(allocations::id.eq(allocation.0))
            .filter(allocations::spent_pence.ge(amount.pence())),
    )
    .set(allocations::spent_pence.eq(allocations::spent_pence - amount.pence()))
    .execute(conn)?;
    if moved == 1 {
        Ok(Some(remaining(conn, allocation)?))
    } else {
        Ok(None)
    }
}

/// Shrink an allocation by money reclaimed from a direct-payment account, in one guarded
/// statement: false when that much is not left. Returns what is left afterwards.
pub fn reduce(conn: &mut Conn, allocation: AllocationId, amount: Pence) -> DbResult<(bool, Pence)> {
    let moved = diesel::update(allocations::table.filter(allocations::id.eq(allocation.0)).filter(
        (allocations::amount_pence - allocations::committed_pence - allocations::spent_pence).ge(amount.pence()),
    ))
    .set(allocations::amount_pence.eq(allocations::amount_pence - amount.pence()))
    .execute(conn)?;
    Ok((moved == 1, remaining(conn, allocation)?))
}

/// Give committed money back to the allocation; None when it does not hold that much committed.
pub fn release(conn: &mut Conn, allocation: AllocationId, amount: Pence) -> DbResult<Option<Pence>> {
    let released = diesel::update(
        allocations::table
            .filter(allocations::id.eq(allocation.0))
            .filter(allocations::committed_pence.ge(amount.pence())),
    )
    .set(allocations::committed_pence.eq(allocations::committed_pence - amount.pence()))
    .execute(conn)?;
    if released == 1 {
        Ok(Some(remaining(conn, allocation)?))
    } else {
        Ok(None)
    }
}
