//! Payment runs: a council's approved invoices for organised allocations, gathered to be paid
//! together. Each invoice is claimed for a run by one guarded statement, so no invoice is ever
//! in two runs, whichever servers and officers race.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{bank_details, invoices, organisations, payment_runs};
use super::{Conn, DbResult, now};
use crate::domain::invoice::{InvoiceStatus, Payer};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::payment_run::PaymentRunStatus;
use crate::domain::{CouncilId, InvoiceId, OrganisationId, PaymentRunId, Pence, UserId};

/// An invoice as a payment run sees it.
#[derive(Debug, Clone)]
pub struct RunInvoice {
    pub invoice_id: InvoiceId,
    pub organisation_id: OrganisationId,
    pub provider: String,
    pub budget_holder_id: i64,
    pub number: Option<i64>,
    /// What is to pay: its total less credit notes.
    pub amount: Pence,
    pub due_on: Option<NaiveDate>,
    pub status: InvoiceStatus,
    /// Whether its provider has bank details (for invoices not yet in a run).
    pub has_bank_details: bool,
}

type InvoiceTuple = (
    i64,
    i64,
    String,
    i64,
    Option<i64>,
    i64,
    i64,
    Option<NaiveDate>,
    String,
    Option<i64>,
);

fn run_invoice(t: InvoiceTuple) -> RunInvoice {
    let (id, organisation, provider, holder, number, total, credited, due_on, status, bank) = t;
    RunInvoice {
        invoice_id: InvoiceId(id),
        organisation_id: OrganisationId(organisation),
        provider,
        budget_holder_id: holder,
        number,
        amount: Pence::from_stored(total.saturating_sub(credited).max(0)),
        due_on,
        status: status.parse().unwrap_or(InvoiceStatus::Approved),
        has_bank_details: bank.is_some(),
    }
}

macro_rules! invoice_columns {
    () => {
        (
            invoices::id,
            invoices::organisation_id,
            organisations::name,
            invoices::budget_holder_id,
            invoices::number,
            invoices::total_pence,
            invoices::credited_pence,
            invoices::due_on,
            invoices::status,
            bank_details::organisation_id.nullable(),
        )
    };
}

/// Invoices with their provider and its bank details, as a run lists them.
macro_rules! run_invoices {
    () => {
        invoices::table
            .inner_join(organisations::table.on(organisations::id.eq(invoices::organisation_id)))
            .left_join(bank_details::table.on(bank_details::organisation_id.eq(invoices::organisation_id)))
            .into_boxed()
    };
}

/// Load a [`run_invoices!`] query by provider and number.
macro_rules! by_provider_and_number {
    ($conn:expr, $q:expr) => {{
        let rows: Vec<InvoiceTuple> = $q
            .order((
                organisations::name,
                invoices::organisation_id,
                invoices::number,
                invoices::id,
            ))
            .select(invoice_columns!())
            .load($conn)?;
        Ok(rows.into_iter().map(run_invoice).collect())
    }};
}

/// A council's approved invoices for organised allocations not in any run (due by `due_by` when
/// given), by provider and number.
pub fn unpaid(conn: &mut Conn, council: CouncilId, due_by: Option<NaiveDate>) -> DbResult<Vec<RunInvoice>> {
    let mut q = run_invoices!()
        .filter(invoices::council_id.eq(council.0))
        .filter(invoices::payer.eq(Payer::Council.as_str()))
        .filter(invoices::status.eq(InvoiceStatus::Approved.as_str()))
        .filter(invoices::payment_run_id.is_null());
    if let Some(due_by) = due_by {
        q = q.filter(invoices::due_on.le(due_by));
    }
    by_provider_and_number!(conn, q)
}

/// The invoices of a run, by provider and number.
pub fn invoices_of(conn: &mut Conn, run: PaymentRunId) -> DbResult<Vec<RunInvoice>> {
    by_provider_and_number!(conn, run_invoices!().filter(invoices::payment_run_id.eq(run.0)))
}

pub fn insert(conn: &mut Conn, council: CouncilId, by: UserId) -> DbResult<PaymentRunId> {
    let id = diesel::insert_into(payment_runs::table)
        .values((
            payment_runs::council_id.eq(council.0),
            payment_runs::status.eq(PaymentRunStatus::Open.as_str()),
            payment_runs::invoice_count.eq(0),
            payment_runs::total_pence.eq(0),
            payment_runs::created_by.eq(by.0),
            payment_runs::created_at.eq(now()),
        ))
        .returning(payment_runs::id)
        .get_result::<i64>(conn)?;
    Ok(PaymentRunId(id))
}

/// Put one invoice in a run, if it is still the council's, approved and in no run: one guarded
/// statement, so of two runs made at once only one gets it. False when another run (or a change
/// of status) came first.
pub fn claim(conn: &mut Conn, invoice: InvoiceId, run: PaymentRunId, council: CouncilId) -> DbResult<bool> {
    let claimed = diesel::update(
        invoices::table
            .filter(invoices::id.eq(invoice.0))
            .filter(invoices::council_id.eq(council.0))
            .filter(invoices::payer.eq(Payer::Council.as_str()))
            .filter(invoices::status.eq(InvoiceStatus::Approved.as_str()))
            .filter(invoices::payment_run_id.is_null()),
    )
    .set((invoices::payment_run_id.eq(run.0), invoices::updated_at.eq(now())))
    .execute(conn)?;
    Ok(claimed == 1)
}

pub fn set_totals(conn: &mut Conn, run: PaymentRunId, count: i64, total: Pence) -> DbResult<()> {
    diesel::update(payment_runs::table.find(run.0))
        .set((
            payment_runs::invoice_count.eq(count),
            payment_runs::total_pence.eq(total.pence()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payment_runs)]
pub struct RunRow {
    pub id: i64,
    pub council_id: i64,
    pub status: String,
    pub invoice_count: i64,
    pub total_pence: i64,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub paid_on: Option<NaiveDate>,
    pub paid_at: Option<NaiveDateTime>,
}

impl RunRow {
    pub fn id(&self) -> PaymentRunId {
        PaymentRunId(self.id)
    }

    pub fn status(&self) -> PaymentRunStatus {
        self.status.parse().unwrap_or(PaymentRunStatus::Open)
    }

    pub fn total(&self) -> Pence {
        Pence::from_stored(self.total_pence)
    }
}

/// A run of this council (none for another council's: it does not exist for them).
pub fn load(conn: &mut Conn, council: CouncilId, run: PaymentRunId) -> DbResult<Option<RunRow>> {
    Ok(payment_runs::table
        .filter(payment_runs::id.eq(run.0))
        .filter(payment_runs::council_id.eq(council.0))
        .select(RunRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// One page of a council's runs, newest first.
pub fn of_council(conn: &mut Conn, council: CouncilId, page: PageRequest) -> DbResult<Page<RunRow>> {
    let total: i64 = payment_runs::table
        .filter(payment_runs::council_id.eq(council.0))
        .count()
        .get_result(conn)?;
    let rows = payment_runs::table
        .filter(payment_runs::council_id.eq(council.0))
        .order(payment_runs::id.desc())
        .offset(page.offset())
        .limit(page.limit())
        .select(RunRow::as_select())
        .load(conn)?;
    Ok(Page::new(rows, u64::try_from(total).unwrap_or(0), page))
}

/// Mark an open run paid: one guarded statement, false when it was not open (already paid).
pub fn mark_paid(conn: &mut Conn, run: PaymentRunId, council: CouncilId, paid_on: NaiveDate) -> DbResult<bool> {
    let changed = diesel::update(
        payment_runs::table
            .filter(payment_runs::id.eq(run.0))
            .filter(payment_runs::council_id.eq(council.0))
            .filter(payment_runs::status.eq(PaymentRunStatus::Open.as_str())),
    )
    .set((
        payment_runs::status.eq(PaymentRunStatus::Paid.as_str()),
        payment_runs::paid_on.eq(paid_on),
        payment_runs::paid_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Every approved invoice of a run becomes paid, on `paid_on` with `reference`. How many did.
pub fn pay_invoices(conn: &mut Conn, run: PaymentRunId, paid_on: NaiveDate, reference: &str) -> DbResult<usize> {
    Ok(diesel::update(
        invoices::table
            .filter(invoices::payment_run_id.eq(run.0))
            .filter(invoices::status.eq(InvoiceStatus::Approved.as_str())),
    )
    .set((
        invoices::status.eq(InvoiceStatus::Paid.as_str()),
        invoices::paid_on.eq(paid_on),
        invoices::paid_reference.eq(reference),
        invoices::updated_at.eq(now()),
    ))
    .execute(conn)?)
}
