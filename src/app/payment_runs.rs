//! Council payment runs of approved invoices: made, exported for the finance system, paid.
//!
//! A run takes every approved invoice for the council's organised allocations that is in no run
//! yet, each claimed by one guarded statement, so two officers (or two servers) making runs at
//! once never put an invoice in both. Invoices whose provider has no bank details (or none that
//! open) cannot be paid: they are left out and listed.

use chrono::NaiveDate;

use super::finance::{log_unreadable, open, unreadable};
use super::reports::{Csv, spreadsheet_safe};
use super::sealing::DataKey;
use super::{App, AppError, AppResult, records};
use crate::db::payment_runs::{self as runs, RunInvoice, RunRow};
use crate::db::{Conn, bank_details};
use crate::domain::invoice::invoice_number;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::payment_run::{BankDetails, CSV_HEADER, Payment, PaymentRunStatus, check_paid};
use crate::domain::sessions::london_date;
use crate::domain::{Actor, BudgetHolderId, CouncilId, OrganisationId, PaymentRunId, Pence};

pub const PUT_IN_RUN: &str = "put invoice in payment run";
pub const READ_RUN: &str = "read payment run";
pub const EXPORTED_RUN: &str = "exported payment run";
pub const PAID_RUN: &str = "paid invoice in payment run";
pub const READ_UNPAID: &str = "read invoices to pay";

/// Why an approved invoice was left out of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOutReason {
    /// Its provider has given no bank details.
    NoBankDetails,
    /// Its provider's bank details do not open (see the server's log).
    BankDetailsUnreadable,
}

impl LeftOutReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LeftOutReason::NoBankDetails => "no_bank_details",
            LeftOutReason::BankDetailsUnreadable => "bank_details_unreadable",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LeftOut {
    pub invoice: RunInvoice,
    pub reason: LeftOutReason,
}

/// A run with its invoices; `left_out` only as it was made.
#[derive(Debug, Clone)]
pub struct RunView {
    pub run: RunRow,
    pub invoices: Vec<RunInvoice>,
    pub left_out: Option<Vec<LeftOut>>,
}

impl RunView {
    /// What the run pays: its invoices' totals less credit notes, as they stand.
    pub fn total(&self) -> Pence {
        Pence::from_stored(self.invoices.iter().map(|i| i.amount.pence()).sum())
    }
}

/// An invoice's number as people read it.
pub fn number(i: &RunInvoice) -> String {
    i.number.map(invoice_number).unwrap_or_default()
}

fn officer(actor: &Actor) -> AppResult<CouncilId> {
    actor.council().ok_or_else(|| AppError::wrong_role(actor))
}

fn holders(invoices: &[RunInvoice]) -> Vec<BudgetHolderId> {
    invoices.iter().map(|i| BudgetHolderId(i.budget_holder_id)).collect()
}

fn not_found() -> AppError {
    AppError::not_found("payment run")
}

/// Make a run of the council's approved invoices (due by `due_by` when given). 409
/// `nothing_to_pay` when no invoice can go in.
pub async fn make(app: &App, actor: &Actor, due_by: Option<NaiveDate>) -> AppResult<RunView> {
    let key = app.data_key()?;
    let actor = actor.clone();
    app.write(move |conn| make_in(conn, &key, &actor, due_by)).await
}

/// Make a payment run inside the caller's transaction (the demo loader's too).
pub(crate) fn make_in(conn: &mut Conn, key: &DataKey, actor: &Actor, due_by: Option<NaiveDate>) -> AppResult<RunView> {
    let council = officer(actor)?;
    let unpaid = runs::unpaid(conn, council, due_by)?;
    let organisations: Vec<i64> = unpaid.iter().map(|i| i.organisation_id.0).collect();
    let banks = bank_details::of_organisations(conn, &organisations)?;
    let mut payable = Vec::new();
    let mut left_out = Vec::new();
    for invoice in unpaid {
        let reason = match banks.iter().find(|b| b.organisation_id == invoice.organisation_id.0) {
            None => Some(LeftOutReason::NoBankDetails),
            Some(row) => open(key, row).err().map(|e| {
                log_unreadable(invoice.organisation_id, &e);
                LeftOutReason::BankDetailsUnreadable
            }),
        };
        match reason {
            Some(reason) => left_out.push(LeftOut { invoice, reason }),
            None => payable.push(invoice),
        }
    }
    let run = runs::insert(conn, council, actor.user_id)?;
    let mut claimed = Vec::new();
    for invoice in payable {
        if runs::claim(conn, invoice.invoice_id, run, council)? {
            claimed.push(invoice);
        }
    }
    if claimed.is_empty() {
        return Err(nothing_to_pay(due_by, left_out.len()));
    }
    let total = Pence::from_stored(claimed.iter().map(|i| i.amount.pence()).sum());
    runs::set_totals(conn, run, i64::try_from(claimed.len()).unwrap_or(i64::MAX), total)?;
    records::record_changes(conn, actor, &holders(&claimed), PUT_IN_RUN)?;
    let row = runs::load(conn, council, run)?.ok_or_else(not_found)?;
    tracing::info!(run = run.0, invoices = claimed.len(), total = %total, "payment run made");
    Ok(RunView {
        run: row,
        invoices: claimed,
        left_out: Some(left_out),
    })
}

fn nothing_to_pay(due_by: Option<NaiveDate>, left_out: usize) -> AppError {
    let due = due_by.map(|d| format!(" due by {d}")).unwrap_or_default();
    let waiting = match left_out {
        0 => String::new(),
        1 => "; 1 approved invoice waits for its provider's bank details".to_string(),
        n => format!("; {n} approved invoices wait for their providers' bank details"),
    };
    AppError::conflict(
        "nothing_to_pay",
        format!("no approved invoice{due} is waiting to be paid{waiting}"),
        Some("due_by"),
    )
}

/// One page of the council's runs, newest first.
pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<RunRow>> {
    let council = officer(actor)?;
    app.read(move |conn| Ok(runs::of_council(conn, council, page)?)).await
}

/// A run of the council's with its invoices (404 for another council's).
pub async fn get(app: &App, actor: &Actor, id: PaymentRunId) -> AppResult<RunView> {
    let council = officer(actor)?;
    let view = app
        .read(move |conn| {
            let run = runs::load(conn, council, id)?.ok_or_else(not_found)?;
            Ok(RunView {
                invoices: runs::invoices_of(conn, id)?,
                run,
                left_out: None,
            })
        })
        .await?;
    records::record_listed(app, actor, holders(&view.invoices), READ_RUN).await?;
    Ok(view)
}

/// The council's runs page: a page of runs, and the approved invoices in no run yet (those
/// without bank details among them).
pub async fn overview(app: &App, actor: &Actor, page: PageRequest) -> AppResult<(Page<RunRow>, Vec<RunInvoice>)> {
    let council = officer(actor)?;
    let (list, unpaid) = app
        .read(move |conn| {
            Ok((
                runs::of_council(conn, council, page)?,
                runs::unpaid(conn, council, None)?,
            ))
        })
        .await?;
    records::record_listed(app, actor, holders(&unpaid), READ_UNPAID).await?;
    Ok((list, unpaid))
}

/// The run as a CSV for the finance system: one row per invoice with the payee's bank details
/// in full (the only place they are shown).
pub async fn csv(app: &App, actor: &Actor, id: PaymentRunId) -> AppResult<Csv> {
    let council = officer(actor)?;
    let key = app.data_key()?;
    let (invoices, banks) = app
        .read(move |conn| {
            runs::load(conn, council, id)?.ok_or_else(not_found)?;
            let invoices = runs::invoices_of(conn, id)?;
            let organisations: Vec<i64> = invoices.iter().map(|i| i.organisation_id.0).collect();
            Ok((invoices, bank_details::of_organisations(conn, &organisations)?))
        })
        .await?;
    let mut opened: Vec<(OrganisationId, BankDetails)> = Vec::new();
    for row in &banks {
        let organisation = OrganisationId(row.organisation_id);
        opened.push((organisation, open(&key, row).map_err(|e| unreadable(organisation, &e))?));
    }
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let failed = |e: csv::Error| AppError::Internal(format!("CSV: {e}"));
    writer.write_record(CSV_HEADER).map_err(failed)?;
    // What is still to pay (or was paid): not an invoice credited in full since the run was made.
    let payable = invoices
        .iter()
        .filter(|i| i.status.approved() && i.amount > Pence::ZERO);
    for invoice in payable {
        let bank = opened
            .iter()
            .find(|(o, _)| *o == invoice.organisation_id)
            .map(|(_, b)| b)
            .ok_or_else(|| {
                AppError::conflict(
                    "bank_details_unreadable",
                    format!("{} has no bank details any more", invoice.provider),
                    None,
                )
            })?;
        let number = number(invoice);
        let payment = Payment {
            payee: &invoice.provider,
            bank,
            invoice_number: &number,
            amount: invoice.amount,
            due_on: invoice.due_on,
        };
        let row = payment.csv_row().map(|cell| spreadsheet_safe(&cell));
        writer.write_record(row).map_err(failed)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::Internal(format!("CSV: {e}")))?;
    records::record_listed(app, actor, holders(&invoices), EXPORTED_RUN).await?;
    Ok(Csv {
        filename: "payment-run.csv",
        bytes,
    })
}

/// The finance system paid the run: the run and each of its invoices are paid, in one
/// transaction. 409 `already_paid` the second time.
pub async fn mark_paid(
    app: &App,
    actor: &Actor,
    id: PaymentRunId,
    paid_on: NaiveDate,
    reference: Option<String>,
) -> AppResult<RunView> {
    let council = officer(actor)?;
    let actor = actor.clone();
    app.write(move |conn| {
        let run = runs::load(conn, council, id)?.ok_or_else(not_found)?;
        let already = || {
            AppError::conflict(
                "already_paid",
                format!("payment run {id} was already marked paid"),
                None,
            )
        };
        if run.status() == PaymentRunStatus::Paid {
            return Err(already());
        }
        let today = super::direct_payments::london_today();
        let reference = check_paid(paid_on, reference.as_deref(), london_date(run.created_at), today)?
            .unwrap_or_else(|| format!("Payment run {id}"));
        if !runs::mark_paid(conn, id, council, paid_on)? {
            return Err(already());
        }
        let paid = runs::pay_invoices(conn, id, paid_on, &reference)?;
        let invoices = runs::invoices_of(conn, id)?;
        records::record_changes(conn, &actor, &holders(&invoices), PAID_RUN)?;
        for item in &invoices {
            if let Some(invoice) = crate::db::invoices::load(conn, item.invoice_id)?
                && invoice.status == crate::domain::invoice::InvoiceStatus::Paid
            {
                super::notices::invoice(conn, &invoice, crate::domain::notification::Event::InvoicePaid)?;
            }
        }
        tracing::info!(run = id.0, invoices = paid, "payment run paid");
        Ok(RunView {
            run: runs::load(conn, council, id)?.ok_or_else(not_found)?,
            invoices,
            left_out: None,
        })
    })
    .await
}
