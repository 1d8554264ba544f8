//! Budget holders: a child's plan, its outcomes and its Section J allocations.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::ledger::{self, Movement};
use super::schema::{allocations, budget_holders, plan_outcome_terms, plan_outcomes, users};
use super::users::{Actor, NewUser};
use super::{Conn, DbError, DbResult, now};
use crate::domain::booking::LedgerKind;
use crate::domain::budget::ValidBudgetHolder;
use crate::domain::validate::Invalid;
use crate::domain::{
    AllocationId, BudgetHolderId, CouncilId, Management, OrganisationId, OrganisationKind, Pence, PlanOutcomeId, Role,
    Stream, UserId,
};

#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub id: BudgetHolderId,
    pub family_user_id: UserId,
    /// False when the family already had an account (a sibling's plan) and was linked to it.
    pub family_account_created: bool,
    pub allocations: Vec<AllocationView>,
}

/// `family_password_hash` is computed before the write transaction (argon2 is slow).
pub fn create(
    conn: &mut Conn,
    council: CouncilId,
    h: &ValidBudgetHolder,
    family_password_hash: &str,
) -> DbResult<Created> {
    if let Some(broker) = h.broker_organisation_id
        && super::organisations::kind(conn, broker)? != Some(OrganisationKind::Broker)
    {
        return Err(Invalid::one("broker_organisation_id", "is not a registered broker organisation").into());
    }
    let existing: Option<(i64, String)> = users::table
        .filter(users::email.eq(&h.family.email))
        .select((users::id, users::role))
        .first(conn)
        .optional()?;
    let (family_user, family_account_created) = match existing {
        Some((id, role)) if role == Role::Family.as_str() => (UserId(id), false),
        Some(_) => {
            return Err(DbError::conflict(
                "email_taken",
                "this email belongs to an account that is not a family's",
                Some("family.email"),
            ));
        }
        None => {
            let id = super::users::insert(
                conn,
                NewUser {
                    email: &h.family.email,
                    password_hash: family_password_hash,
                    role: Role::Family,
                    organisation_id: None,
                    council_id: None,
                },
            )?;
            (id, true)
        }
    };
    let inserted = diesel::insert_into(budget_holders::table)
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
        .get_result::<i64>(conn)
        .map_err(DbError::from);
    let id = match inserted {
        Ok(id) => BudgetHolderId(id),
        Err(e) if super::is_unique_violation(&e) => {
            return Err(DbError::conflict(
                "reference_taken",
                "this council already has a budget holder with this reference",
                Some("reference"),
            ));
        }
        Err(e) => return Err(e),
    };
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
    for a in &h.allocations {
        let allocation = diesel::insert_into(allocations::table)
            .values((
                allocations::budget_holder_id.eq(id.0),
                allocations::stream.eq(a.stream.as_str()),
                allocations::management.eq(a.management.as_str()),
                allocations::amount_pence.eq(a.amount.pence()),
                allocations::committed_pence.eq(a.admin_fee.pence()),
                allocations::admin_fee_pence.eq(a.admin_fee.pence()),
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
                description: &format!("{} allocation ({})", a.stream, a.management),
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
                },
            )?;
        }
    }
    let allocations = allocations_of(conn, id)?;
    Ok(Created {
        id,
        family_user_id: family_user,
        family_account_created,
        allocations,
    })
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
}

impl HolderRow {
    /// Rule 7: the family, its broker and its council; nobody else.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        match actor.role {
            Role::Family => self.family_user_id == actor.user_id.0,
            Role::Broker => {
                self.broker_organisation_id.is_some()
                    && self.broker_organisation_id.map(OrganisationId) == actor.organisation_id
            }
            Role::Council => actor.council_id == Some(CouncilId(self.council_id)),
            Role::Provider => false,
        }
    }

    /// Who may spend from the plan: the family and its broker (councils create plans, not bookings).
    pub fn can_book(&self, actor: &Actor) -> bool {
        matches!(actor.role, Role::Family | Role::Broker) && self.visible_to(actor)
    }
}

/// Load a holder and check the actor may see it: NotFound for an unknown id, Forbidden for
/// someone else's.
pub fn authorised(conn: &mut Conn, actor: &Actor, id: BudgetHolderId) -> DbResult<HolderRow> {
    let row: HolderRow = budget_holders::table
        .select(HolderRow::as_select())
        .filter(budget_holders::id.eq(id.0))
        .first(conn)
        .optional()?
        .ok_or(DbError::NotFound("budget holder"))?;
    if row.visible_to(actor) {
        Ok(row)
    } else {
        Err(DbError::forbidden("this budget holder is not yours"))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AllocationView {
    pub id: AllocationId,
    pub stream: Stream,
    pub management: Management,
    pub amount: Pence,
    pub committed: Pence,
    pub remaining: Pence,
    pub admin_fee: Pence,
}

pub fn allocations_of(conn: &mut Conn, holder: BudgetHolderId) -> DbResult<Vec<AllocationView>> {
    let rows: Vec<(i64, String, String, i64, i64, i64)> = allocations::table
        .filter(allocations::budget_holder_id.eq(holder.0))
        .order(allocations::id)
        .select((
            allocations::id,
            allocations::stream,
            allocations::management,
            allocations::amount_pence,
            allocations::committed_pence,
            allocations::admin_fee_pence,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, stream, management, amount, committed, admin_fee)| AllocationView {
                id: AllocationId(id),
                stream: stream.parse().unwrap_or(Stream::SocialCare),
                management: management.parse().unwrap_or(Management::Organised),
                amount: Pence::from_stored(amount),
                committed: Pence::from_stored(committed),
                remaining: Pence::from_stored(amount - committed),
                admin_fee: Pence::from_stored(admin_fee),
            },
        )
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanOutcomeView {
    pub id: PlanOutcomeId,
    pub text: String,
    pub terms: Vec<String>,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
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
    pub outcomes: Vec<PlanOutcomeView>,
    pub allocations: Vec<AllocationView>,
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
    })
}

/// The budget holders the actor may see, by id.
pub fn list(conn: &mut Conn, actor: &Actor) -> DbResult<Vec<BudgetHolderView>> {
    let q = budget_holders::table
        .select(HolderRow::as_select())
        .order(budget_holders::id)
        .into_boxed();
    let q = match actor.role {
        Role::Family => q.filter(budget_holders::family_user_id.eq(actor.user_id.0)),
        Role::Broker => {
            q.filter(budget_holders::broker_organisation_id.eq(actor.organisation_id.map(|o| o.0).unwrap_or(-1)))
        }
        Role::Council => q.filter(budget_holders::council_id.eq(actor.council_id.map(|c| c.0).unwrap_or(-1))),
        Role::Provider => return Err(DbError::forbidden("providers do not see budget holders")),
    };
    let rows: Vec<HolderRow> = q.limit(1000).load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}
