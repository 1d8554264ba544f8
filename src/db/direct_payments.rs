//! Direct-payment instalments, spending and recoveries.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    allocations, budget_holders, direct_payments, dp_recoveries, dp_spending, invoice_lines, invoices,
};
use super::{Conn, DbError, DbResult, now};
use crate::domain::invoice::{InvoiceStatus, Payer};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::spending::{Instalment, PaymentSchedule, SpendingStatus, SurplusTest};
use crate::domain::{AllocationId, BudgetHolderId, CouncilId, Management, Pence, PlanOutcomeId, SpendingId, UserId};

/// A direct-payment allocation with what its schedule needs.
#[derive(Debug, Clone)]
pub struct DirectPayment {
    pub allocation: AllocationId,
    pub budget_holder_id: BudgetHolderId,
    pub amount: Pence,
    pub schedule: PaymentSchedule,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
}

/// Every direct-payment allocation of plans not erased, or only those of `holder`; none whose
/// agreement the family has yet to accept.
pub fn allocations(conn: &mut Conn, holder: Option<BudgetHolderId>) -> DbResult<Vec<DirectPayment>> {
    let mut q = allocations::table
        .inner_join(budget_holders::table)
        .filter(allocations::management.eq(Management::DirectPayment.as_str()))
        .filter(allocations::awaiting_agreement.eq(false))
        .filter(budget_holders::erased_at.is_null())
        .into_boxed();
    if let Some(holder) = holder {
        q = q.filter(allocations::budget_holder_id.eq(holder.0));
    }
    let rows: Vec<(i64, i64, i64, String, NaiveDate, NaiveDate)> = q
        .order(allocations::id)
        .select((
            allocations::id,
            allocations::budget_holder_id,
            allocations::amount_pence,
            allocations::payment_schedule,
            budget_holders::plan_start,
            budget_holders::plan_end,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, holder, amount, schedule, plan_start, plan_end)| DirectPayment {
            allocation: AllocationId(id),
            budget_holder_id: BudgetHolderId(holder),
            amount: Pence::from_stored(amount),
            schedule: schedule.parse().unwrap_or_default(),
            plan_start,
            plan_end,
        })
        .collect())
}

/// One instalment paid in.
#[derive(Debug, Clone)]
pub struct PaidIn {
    pub instalment: i32,
    pub due_on: NaiveDate,
    pub amount: Pence,
    pub paid_at: NaiveDateTime,
}

/// The instalments paid into an allocation's account, in order.
pub fn paid_in(conn: &mut Conn, allocation: AllocationId) -> DbResult<Vec<PaidIn>> {
    let rows: Vec<(i32, NaiveDate, i64, NaiveDateTime)> = direct_payments::table
        .filter(direct_payments::allocation_id.eq(allocation.0))
        .order(direct_payments::instalment)
        .select((
            direct_payments::instalment,
            direct_payments::due_on,
            direct_payments::amount_pence,
            direct_payments::paid_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(instalment, due_on, amount, paid_at)| PaidIn {
            instalment,
            due_on,
            amount: Pence::from_stored(amount),
            paid_at,
        })
        .collect())
}

/// What was reclaimed from an allocation's account, in all.
pub fn recovered(conn: &mut Conn, allocation: AllocationId) -> DbResult<Pence> {
    let amounts: Vec<i64> = dp_recoveries::table
        .filter(dp_recoveries::allocation_id.eq(allocation.0))
        .select(dp_recoveries::amount_pence)
        .load(conn)?;
    Ok(Pence::from_stored(amounts.iter().sum()))
}

/// Record an instalment paid in; false when it already was (another server paid it). The insert
/// runs in a savepoint so that a duplicate leaves the caller's transaction usable on PostgreSQL.
pub fn record_paid_in(
    conn: &mut Conn,
    allocation: AllocationId,
    instalment: Instalment,
    amount: Pence,
) -> DbResult<bool> {
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(direct_payments::table)
            .values((
                direct_payments::allocation_id.eq(allocation.0),
                direct_payments::instalment.eq(instalment.index),
                direct_payments::due_on.eq(instalment.due_on),
                direct_payments::amount_pence.eq(amount.pence()),
                direct_payments::paid_at.eq(now()),
            ))
            .execute(conn)
    });
    match inserted.map_err(DbError::from) {
        Ok(_) => Ok(true),
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// A receipt as stored: its content hash, type and size.
#[derive(Debug, Clone)]
pub struct StoredReceipt {
    pub hash: String,
    pub content_type: String,
    pub bytes: i64,
}

pub struct NewSpending<'a> {
    pub budget_holder_id: BudgetHolderId,
    pub allocation: AllocationId,
    pub payee: &'a str,
    pub spent_on: NaiveDate,
    pub amount: Pence,
    pub description: &'a str,
    pub plan_outcome_id: Option<PlanOutcomeId>,
    pub receipt: Option<&'a StoredReceipt>,
    pub status: SpendingStatus,
    pub sampled: bool,
    pub recorded_by: UserId,
}

pub fn insert_spending(conn: &mut Conn, s: &NewSpending<'_>) -> DbResult<SpendingId> {
    let at = now();
    let id = diesel::insert_into(dp_spending::table)
        .values((
            dp_spending::budget_holder_id.eq(s.budget_holder_id.0),
            dp_spending::allocation_id.eq(s.allocation.0),
            dp_spending::payee.eq(s.payee),
            dp_spending::spent_on.eq(s.spent_on),
            dp_spending::amount_pence.eq(s.amount.pence()),
            dp_spending::description.eq(s.description),
            dp_spending::plan_outcome_id.eq(s.plan_outcome_id.map(|o| o.0)),
            dp_spending::receipt_hash.eq(s.receipt.map(|r| r.hash.clone())),
            dp_spending::receipt_type.eq(s.receipt.map(|r| r.content_type.clone())),
            dp_spending::receipt_bytes.eq(s.receipt.map(|r| r.bytes)),
            dp_spending::status.eq(s.status.as_str()),
            dp_spending::sampled.eq(s.sampled),
            dp_spending::recorded_by.eq(s.recorded_by.0),
            dp_spending::created_at.eq(at),
            dp_spending::updated_at.eq(at),
        ))
        .returning(dp_spending::id)
        .get_result::<i64>(conn)?;
    Ok(SpendingId(id))
}

/// The sample's key is the spending's id; a placeholder status is set before it is known.
pub fn set_status(conn: &mut Conn, id: SpendingId, status: SpendingStatus, sampled: bool) -> DbResult<()> {
    diesel::update(dp_spending::table.find(id.0))
        .set((
            dp_spending::status.eq(status.as_str()),
            dp_spending::sampled.eq(sampled),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dp_spending)]
pub struct SpendingRow {
    pub id: i64,
    pub budget_holder_id: i64,
    pub allocation_id: i64,
    pub payee: String,
    pub spent_on: NaiveDate,
    pub amount_pence: i64,
    pub description: String,
    pub plan_outcome_id: Option<i64>,
    pub receipt_hash: Option<String>,
    pub receipt_type: Option<String>,
    pub status: String,
    pub sampled: bool,
    pub query: Option<String>,
    pub answer: Option<String>,
    pub created_at: NaiveDateTime,
}

impl SpendingRow {
    pub fn id(&self) -> SpendingId {
        SpendingId(self.id)
    }

    pub fn amount(&self) -> Pence {
        Pence::from_stored(self.amount_pence)
    }

    pub fn status(&self) -> SpendingStatus {
        self.status.parse().unwrap_or(SpendingStatus::InReview)
    }
}

pub fn load(conn: &mut Conn, id: SpendingId) -> DbResult<Option<SpendingRow>> {
    Ok(dp_spending::table
        .find(id.0)
        .select(SpendingRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// One page of a plan's spending, newest first.
pub fn of_holder(conn: &mut Conn, holder: BudgetHolderId, page: PageRequest) -> DbResult<Page<SpendingRow>> {
    let total: i64 = dp_spending::table
        .filter(dp_spending::budget_holder_id.eq(holder.0))
        .count()
        .get_result(conn)?;
    let rows = dp_spending::table
        .filter(dp_spending::budget_holder_id.eq(holder.0))
        .order(dp_spending::id.desc())
        .offset(page.offset())
        .limit(page.limit())
        .select(SpendingRow::as_select())
        .load(conn)?;
    Ok(Page::new(rows, u64::try_from(total).unwrap_or(0), page))
}

/// All spending against an allocation (the surplus test and the quarterly return read it).
pub fn of_allocation(conn: &mut Conn, allocation: AllocationId) -> DbResult<Vec<SpendingRow>> {
    Ok(dp_spending::table
        .filter(dp_spending::allocation_id.eq(allocation.0))
        .order(dp_spending::id)
        .select(SpendingRow::as_select())
        .load(conn)?)
}

/// One page of a council's spending in a status, oldest first (the audit queue).
pub fn of_council(
    conn: &mut Conn,
    council: CouncilId,
    status: SpendingStatus,
    page: PageRequest,
) -> DbResult<Page<SpendingRow>> {
    let base = || {
        dp_spending::table
            .inner_join(budget_holders::table.on(budget_holders::id.eq(dp_spending::budget_holder_id)))
            .filter(budget_holders::council_id.eq(council.0))
            .filter(dp_spending::status.eq(status.as_str()))
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows = base()
        .order(dp_spending::id)
        .offset(page.offset())
        .limit(page.limit())
        .select(SpendingRow::as_select())
        .load(conn)?;
    Ok(Page::new(rows, u64::try_from(total).unwrap_or(0), page))
}

/// Move spending from one status to another, setting its question or answer, in one guarded
/// statement: false when it was no longer in `from` (someone else decided first).
pub fn transition(
    conn: &mut Conn,
    id: SpendingId,
    from: &[SpendingStatus],
    to: SpendingStatus,
    by: UserId,
    text: Option<(&str, bool)>,
) -> DbResult<bool> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let target = dp_spending::table
        .filter(dp_spending::id.eq(id.0))
        .filter(dp_spending::status.eq_any(from));
    let at = now();
    let changed = match text {
        Some((question, true)) => diesel::update(target)
            .set((
                dp_spending::status.eq(to.as_str()),
                dp_spending::query.eq(question),
                dp_spending::decided_by.eq(by.0),
                dp_spending::decided_at.eq(at),
                dp_spending::updated_at.eq(at),
            ))
            .execute(conn)?,
        Some((answer, false)) => diesel::update(target)
            .set((
                dp_spending::status.eq(to.as_str()),
                dp_spending::answer.eq(answer),
                dp_spending::updated_at.eq(at),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                dp_spending::status.eq(to.as_str()),
                dp_spending::decided_by.eq(by.0),
                dp_spending::decided_at.eq(at),
                dp_spending::updated_at.eq(at),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

pub fn insert_recovery(
    conn: &mut Conn,
    allocation: AllocationId,
    amount: Pence,
    reason: &str,
    by: UserId,
) -> DbResult<()> {
    diesel::insert_into(dp_recoveries::table)
        .values((
            dp_recoveries::allocation_id.eq(allocation.0),
            dp_recoveries::amount_pence.eq(amount.pence()),
            dp_recoveries::reason.eq(reason),
            dp_recoveries::recorded_by.eq(by.0),
            dp_recoveries::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// An invoice the family paid from its direct payment, as far as one allocation goes.
#[derive(Debug, Clone)]
pub struct FamilyPaid {
    pub invoice_id: i64,
    pub paid_on: Option<NaiveDate>,
    /// Its lines for the allocation, less credits.
    pub amount: Pence,
}

/// Invoices with the family as payer and status paid, per invoice: their lines for this
/// allocation less what credit notes took off them.
pub fn family_paid_invoices(conn: &mut Conn, allocation: AllocationId) -> DbResult<Vec<FamilyPaid>> {
    let lines: Vec<(i64, i64, i64, Option<NaiveDate>)> = invoice_lines::table
        .inner_join(invoices::table)
        .filter(invoice_lines::allocation_id.eq(allocation.0))
        .filter(invoices::payer.eq(Payer::Family.as_str()))
        .filter(invoices::status.eq(InvoiceStatus::Paid.as_str()))
        .order((invoices::id, invoice_lines::id))
        .select((
            invoices::id,
            invoice_lines::amount_pence,
            invoice_lines::credited_pence,
            invoices::paid_on,
        ))
        .load(conn)?;
    let mut out: Vec<FamilyPaid> = Vec::new();
    for (invoice, amount, credited, paid_on) in lines {
        let net = amount - credited;
        match out.last_mut() {
            Some(last) if last.invoice_id == invoice => last.amount = Pence::from_stored(last.amount.pence() + net),
            _ => out.push(FamilyPaid {
                invoice_id: invoice,
                paid_on,
                amount: Pence::from_stored(net),
            }),
        }
    }
    Ok(out)
}

/// What a quarterly return adds for a direct payment: the quarter's payments in, the invoices the
/// family paid, its spending (with the outcome each served), and the surplus test at its end.
#[derive(Debug, Clone)]
pub struct DirectPaymentQuarter {
    pub payments_in: Vec<PaidIn>,
    pub invoices_paid: Vec<FamilyPaid>,
    /// Each item with the text of the plan outcome it served.
    pub spending: Vec<(SpendingRow, Option<String>)>,
    pub surplus_test: SurplusTest,
}
