//! A council officer changes a plan it holds: the child's details and plan dates, an allocation's
//! amount (a ledger entry with the reason, never below what is committed), a new allocation, how
//! far each outcome is met (in `plans`), and who brokers it.

use super::bookings::plan_for;
use super::{App, AppError, AppResult, records};
use crate::db::Conn;
use crate::db::access_log::{self, AccessEntry};
use crate::db::budget_holders::{self, AllocationView, BudgetHolderView, HolderRow};
use crate::db::ledger::{self, Movement, StatementEntry};
use crate::db::organisations::{self, BrokerView};
use crate::domain::booking::LedgerKind;
use crate::domain::budget::AllocationInput;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::plan_change::{self, AdjustmentInput, PlanDetailsInput};
use crate::domain::validate::Invalid;
use crate::domain::{Actor, AllocationId, BudgetHolderId, CouncilId, OrganisationId};

/// The plan, one of this officer's council's (a child's record is special-category data: nobody
/// else reaches these pages), about to be changed.
fn officers_change(conn: &mut Conn, actor: &Actor, id: BudgetHolderId, action: &str) -> AppResult<CouncilId> {
    let council = actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    plan_changed_by(conn, actor, id, action)?;
    Ok(council)
}

/// The plan `actor` may change (as [`plan_for`]), not once it is erased (that would put a person
/// back), with the change in its access record (a family's own changes are not recorded).
pub(crate) fn plan_changed_by(
    conn: &mut Conn,
    actor: &Actor,
    id: BudgetHolderId,
    action: &str,
) -> AppResult<HolderRow> {
    let row = plan_for(conn, actor, id)?;
    not_erased(&row)?;
    records::record_change(conn, actor, &row, action)?;
    Ok(row)
}

/// 409 `already_erased` for a record whose person has been erased.
pub(crate) fn not_erased(row: &HolderRow) -> AppResult<()> {
    if row.erased_at.is_some() {
        return Err(AppError::conflict(
            "already_erased",
            "this budget holder's record has been erased and cannot be changed",
            None,
        ));
    }
    Ok(())
}

fn reload(conn: &mut Conn, id: BudgetHolderId) -> AppResult<BudgetHolderView> {
    let row = budget_holders::load(conn, id)?.ok_or_else(|| AppError::not_found("budget holder"))?;
    Ok(budget_holders::view(conn, row)?)
}

/// Everything the officer's page for one budget holder shows.
#[derive(Debug, Clone)]
pub struct HolderRecord {
    pub plan: BudgetHolderView,
    /// One page of the plan's statement.
    pub entries: Page<StatementEntry>,
    /// The council's broker organisations, to choose from.
    pub brokers: Vec<BrokerView>,
    /// One page of who read or changed the plan (newest first).
    pub access: Page<AccessEntry>,
    /// Its personal-budget requests, newest first, and the reviews held of it.
    pub requests: Vec<crate::db::pb_requests::RequestView>,
    pub reviews: Vec<crate::db::plan_reviews::ReviewView>,
}

impl HolderRecord {
    pub fn broker_name(&self) -> Option<&str> {
        let id = self.plan.broker_organisation_id?;
        self.brokers.iter().find(|b| b.id == id).map(|b| b.name.as_str())
    }
}

/// The officer's page for one budget holder, at `page` of its statement and `access_page` of its
/// access record; the reading goes in the record (shown from the next reading on).
pub async fn record(
    app: &App,
    actor: &Actor,
    id: BudgetHolderId,
    page: PageRequest,
    access_page: PageRequest,
) -> AppResult<HolderRecord> {
    let council = actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    records::read_plan(app, actor, id, records::READ_PLAN, move |conn, row| {
        Ok(HolderRecord {
            plan: budget_holders::view(conn, row)?,
            entries: ledger::statement(conn, id, page)?,
            brokers: organisations::brokers_of(conn, council)?,
            access: access_log::list(conn, id, access_page)?,
            requests: crate::db::pb_requests::of_holder(conn, id)?,
            reviews: crate::db::plan_reviews::of(conn, id)?,
        })
    })
    .await
}

/// Correct or renew the plan's details (the child's first name, reference, date of birth,
/// postcode and plan dates).
pub async fn change_details(
    app: &App,
    actor: &Actor,
    id: BudgetHolderId,
    input: PlanDetailsInput,
) -> AppResult<BudgetHolderView> {
    let details = input.validate(App::today())?;
    let actor = actor.clone();
    app.write(move |conn| {
        officers_change(conn, &actor, id, records::CHANGED_DETAILS)?;
        budget_holders::update_details(conn, id, &details).map_err(|e| {
            if e.is_unique_violation() {
                AppError::conflict(
                    "reference_taken",
                    "this council already has a budget holder with this reference",
                    Some("reference"),
                )
            } else {
                e.into()
            }
        })?;
        reload(conn, id)
    })
    .await
}

/// Change an allocation's amount: one ledger entry with the officer's reason, refused below what
/// bookings already hold.
pub async fn adjust(
    app: &App,
    actor: &Actor,
    id: BudgetHolderId,
    allocation: AllocationId,
    input: AdjustmentInput,
) -> AppResult<AllocationView> {
    let change = input.validate()?;
    let actor = actor.clone();
    app.write(move |conn| {
        officers_change(conn, &actor, id, records::CHANGED_ALLOCATION)?;
        set_allocation_amount(conn, id, allocation, change.amount, &change.reason)
    })
    .await
}

/// Set an allocation to `amount` with a ledger entry giving `reason`: refused below what bookings
/// and spending already hold, and guarded against a booking made meanwhile.
pub(crate) fn set_allocation_amount(
    conn: &mut Conn,
    id: BudgetHolderId,
    allocation: AllocationId,
    amount: crate::domain::Pence,
    reason: &str,
) -> AppResult<AllocationView> {
    let current = budget_holders::allocation(conn, id, allocation)?.ok_or_else(|| AppError::not_found("allocation"))?;
    let used = current.committed.checked_add(current.spent).unwrap_or(current.amount);
    let (movement, balance_after) = plan_change::adjust(current.amount, used, amount)?;
    // Guarded on the amount and committed read above: a booking made meanwhile is not undercut.
    if !budget_holders::set_amount(conn, allocation, current.amount, amount)? {
        return Err(AppError::conflict(
            "below_committed",
            "a booking was made meanwhile: reload the page and try again",
            Some("amount"),
        ));
    }
    ledger::append(
        conn,
        Movement {
            allocation,
            booking: None,
            kind: LedgerKind::Allocated,
            amount: movement,
            balance_after,
            description: &plan_change::adjustment_description(current.amount, amount, reason),
            ..Movement::default()
        },
    )?;
    budget_holders::allocation(conn, id, allocation)?.ok_or_else(|| AppError::not_found("allocation"))
}

/// Add an allocation for a funding stream the plan has none for.
pub async fn add_allocation(
    app: &App,
    actor: &Actor,
    id: BudgetHolderId,
    input: AllocationInput,
) -> AppResult<AllocationView> {
    let actor = actor.clone();
    app.write(move |conn| {
        officers_change(conn, &actor, id, records::ADDED_ALLOCATION)?;
        let streams: Vec<_> = budget_holders::allocations_of(conn, id)?
            .iter()
            .map(|a| a.stream)
            .collect();
        let valid = input.validate_new(&streams)?;
        let allocation = budget_holders::add_allocation(conn, id, &valid)?;
        budget_holders::allocation(conn, id, allocation)?.ok_or_else(|| AppError::not_found("allocation"))
    })
    .await
}

/// Give the plan to one of the council's broker organisations, or to none.
pub async fn set_broker(
    app: &App,
    actor: &Actor,
    id: BudgetHolderId,
    broker: Option<OrganisationId>,
) -> AppResult<BudgetHolderView> {
    let actor = actor.clone();
    app.write(move |conn| {
        let council = officers_change(conn, &actor, id, records::CHANGED_BROKER)?;
        if let Some(broker) = broker
            && !organisations::brokers_of(conn, council)?.iter().any(|b| b.id == broker)
        {
            return Err(Invalid::one(
                "broker_organisation_id",
                "is not one of your council's broker organisations",
            )
            .into());
        }
        budget_holders::set_broker(conn, id, broker)?;
        reload(conn, id)
    })
    .await
}
