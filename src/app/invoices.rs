//! Invoices from delivered sessions: drafted by the provider (or by the daily job at a period's
//! end), issued with a gap-free number, approved or disputed by the payer, paid, and corrected
//! by credit notes. Every move of money is a ledger entry in the same transaction.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};

use super::reports::{Csv, spreadsheet_safe};
use super::{App, AppError, AppResult, records};
use crate::db::budget_holders::{self, HolderRow};
use crate::db::invoices::{self, InvoiceScope, InvoiceView, Issued, Item, NewDraft};
use crate::db::ledger::{self, Movement};
use crate::db::{Conn, councils, now};
use crate::domain::booking::LedgerKind;
use crate::domain::invoice::{CreditAsk, InvoiceStatus, MAX_REASON_CHARS, Payer, check_credit};
use crate::domain::notification::Event;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::validate::{FieldError, Invalid, text};
use crate::domain::{Actor, BudgetHolderId, InvoiceId, InvoiceLineId, OrganisationId, Pence, Role};

/// The daily job that drafts invoices for every period that has ended.
pub const DRAFT_INVOICES: &str = "draft_invoices";

pub const READ_INVOICE: &str = "read invoice";
pub const LISTED_INVOICES: &str = "listed invoices";
pub const DRAFTED_INVOICE: &str = "drafted invoice";
pub const CHANGED_INVOICE: &str = "changed invoice";

/// One line of a credit note as asked.
#[derive(Debug, Clone)]
pub struct CreditLineInput {
    pub line_id: i64,
    pub amount: Option<Pence>,
}

/// Who sees which invoices; None for a role that sees none.
fn scope(actor: &Actor) -> Option<InvoiceScope> {
    match actor.role {
        Role::Provider => actor.provider().map(InvoiceScope::Provider),
        Role::Council => actor.council().map(InvoiceScope::Council),
        Role::Family => Some(InvoiceScope::Family(actor.user_id)),
        Role::Broker => actor.organisation_id.map(InvoiceScope::Broker),
    }
}

fn visible(actor: &Actor, invoice: &InvoiceView) -> bool {
    let payer_side = invoice.status != InvoiceStatus::Draft;
    match scope(actor) {
        Some(InvoiceScope::Provider(o)) => invoice.provider == o,
        Some(InvoiceScope::Council(c)) => payer_side && invoice.council == c,
        Some(InvoiceScope::Family(u)) => payer_side && invoice.plan_owners.family == u,
        Some(InvoiceScope::Broker(o)) => payer_side && invoice.payer_organisation == Some(o),
        None => false,
    }
}

/// Whether the actor is this invoice's payer: the council for organised allocations, the broker
/// for third-party ones, the family for direct payments.
pub fn is_payer(actor: &Actor, invoice: &InvoiceView) -> bool {
    match invoice.payer {
        Payer::Council => actor.council() == Some(invoice.council),
        Payer::Broker => actor.role == Role::Broker && actor.organisation_id == invoice.payer_organisation,
        Payer::Family => actor.role == Role::Family && actor.user_id == invoice.plan_owners.family,
    }
}

fn load_visible(conn: &mut Conn, actor: &Actor, id: InvoiceId) -> AppResult<InvoiceView> {
    invoices::load(conn, id)?
        .filter(|i| visible(actor, i))
        .ok_or_else(|| AppError::not_found("invoice"))
}

fn provider_of(actor: &Actor) -> AppResult<OrganisationId> {
    actor
        .provider()
        .ok_or_else(|| AppError::forbidden("only the provider that delivered the sessions invoices them"))
}

fn wrong_status(invoice: &InvoiceView, verb: &str) -> AppError {
    AppError::conflict(
        "wrong_status",
        format!("an invoice that is {} cannot be {verb}", invoice.status.as_str()),
        None,
    )
}

/// The end of England's yesterday: what has been delivered by the time a day's job runs.
fn end_of(day: NaiveDate) -> NaiveDateTime {
    crate::domain::sessions::london_to_utc("until", day.and_hms_opt(23, 59, 59).unwrap_or_default())
        .unwrap_or_else(|_| day.and_hms_opt(23, 59, 59).unwrap_or_default())
}

/// Put items on drafts, one per plan, payer and period (the plan's council sets the period).
/// With `ended_before`, only periods that ended before that day. Returns the drafts touched.
fn draft_items(
    conn: &mut Conn,
    provider: OrganisationId,
    items: Vec<Item>,
    ended_before: Option<NaiveDate>,
) -> AppResult<Vec<InvoiceId>> {
    let mut groups: BTreeMap<(i64, &'static str, NaiveDate), (NewDraft, Vec<Item>)> = BTreeMap::new();
    let mut settings = std::collections::HashMap::new();
    for item in items {
        if let std::collections::hash_map::Entry::Vacant(e) = settings.entry(item.council) {
            e.insert(councils::settings(conn, item.council)?);
        }
        let s = &settings[&item.council];
        let period = s.invoice_period.containing(item.delivered_on, s.period_anchor);
        if ended_before.is_some_and(|day| period.1 >= day) {
            continue;
        }
        let payer = item.payer();
        let group = groups
            .entry((item.holder.0, payer.as_str(), period.0))
            .or_insert_with(|| {
                (
                    NewDraft {
                        provider,
                        holder: item.holder,
                        council: item.council,
                        payer,
                        payer_organisation: if payer == Payer::Broker { item.broker } else { None },
                        period,
                    },
                    Vec::new(),
                )
            });
        group.1.push(item);
    }
    let mut drafted = Vec::new();
    for (draft, items) in groups.into_values() {
        let id = invoices::draft_for(conn, &draft)?;
        invoices::add_lines(conn, id, &items).map_err(|e| {
            if e.is_unique_violation() {
                AppError::conflict(
                    "invoiced_meanwhile",
                    "some of these sessions were put on an invoice meanwhile; try again",
                    None,
                )
            } else {
                e.into()
            }
        })?;
        drafted.push(id);
    }
    Ok(drafted)
}

/// A provider drafts invoices for one plan from its delivered sessions not yet invoiced (up to
/// now), one per payer and period; an open draft for the same period takes the new lines.
/// Returns the latest draft and every draft touched.
pub async fn draft(
    app: &App,
    actor: &Actor,
    holder: BudgetHolderId,
    payer: Option<Payer>,
) -> AppResult<(InvoiceView, Vec<InvoiceId>)> {
    let provider = provider_of(actor)?;
    let actor = actor.clone();
    app.write(move |conn| {
        let row = provider_plan(conn, provider, holder)?;
        let mut items = invoices::delivered_items(conn, provider, Some(holder), now())?;
        if let Some(payer) = payer {
            items.retain(|i| i.payer() == payer);
        }
        if items.is_empty() {
            return Err(AppError::conflict(
                "nothing_to_invoice",
                "this plan has no delivered sessions that are not already on an invoice",
                Some("budget_holder_id"),
            ));
        }
        let drafted = draft_items(conn, provider, items, None)?;
        records::record_change(conn, &actor, &row, DRAFTED_INVOICE)?;
        let last = drafted.last().copied().ok_or_else(|| AppError::not_found("invoice"))?;
        let view = invoices::load(conn, last)?.ok_or_else(|| AppError::not_found("invoice"))?;
        Ok((view, drafted))
    })
    .await
}

/// The plan, for a provider that has booked it (404 otherwise, as for any plan it cannot see).
fn provider_plan(conn: &mut Conn, provider: OrganisationId, holder: BudgetHolderId) -> AppResult<HolderRow> {
    let row = budget_holders::load(conn, holder)?
        .filter(|r| r.erased_at.is_none())
        .ok_or_else(|| AppError::unknown("budget_holder_id", "no such budget holder has booked with you"))?;
    if !crate::db::bookings::provider_has_booked(conn, provider, holder)? {
        return Err(AppError::unknown(
            "budget_holder_id",
            "no such budget holder has booked with you",
        ));
    }
    Ok(row)
}

/// The daily job: drafts for every period that ended before `today`, for every provider.
/// Returns how many drafts it touched.
pub fn draft_due(conn: &mut Conn, today: NaiveDate) -> AppResult<usize> {
    let until = end_of(today.pred_opt().unwrap_or(today));
    let mut touched = 0;
    for provider in invoices::providers_with_items(conn)? {
        let items = invoices::delivered_items(conn, provider, None, until)?;
        if items.is_empty() {
            continue;
        }
        touched += draft_items(conn, provider, items, Some(today))?.len();
    }
    Ok(touched)
}

/// One page of the caller's invoices, newest first (a provider's drafts included).
pub async fn list(
    app: &App,
    actor: &Actor,
    status: Option<InvoiceStatus>,
    page: PageRequest,
) -> AppResult<Page<InvoiceView>> {
    let scope = scope(actor).ok_or_else(|| AppError::wrong_role(actor))?;
    let list = app
        .read(move |conn| Ok(invoices::list(conn, scope, status, page)?))
        .await?;
    records::record_reads(app, actor, list.items.iter().map(InvoiceView::owners), LISTED_INVOICES).await?;
    Ok(list)
}

/// One invoice with its lines and credit notes, for its provider and its payer's side.
pub async fn get(app: &App, actor: &Actor, id: InvoiceId) -> AppResult<InvoiceView> {
    let reader = actor.clone();
    let invoice = app.read(move |conn| load_visible(conn, &reader, id)).await?;
    records::record_reads(app, actor, [invoice.owners()], READ_INVOICE).await?;
    Ok(invoice)
}

/// Change a draft's notes (an order number, a note to the payer).
pub async fn set_notes(app: &App, actor: &Actor, id: InvoiceId, notes: String) -> AppResult<InvoiceView> {
    let provider = provider_of(actor)?;
    if notes.chars().count() > MAX_REASON_CHARS {
        return Err(FieldError::new("notes", format!("must be at most {MAX_REASON_CHARS} characters")).into());
    }
    let actor = actor.clone();
    app.write(move |conn| {
        let invoice = load_visible(conn, &actor, id)?;
        if invoice.provider != provider || !invoices::set_notes(conn, id, notes.trim())? {
            return Err(wrong_status(&invoice, "changed"));
        }
        invoices::load(conn, id)?.ok_or_else(|| AppError::not_found("invoice"))
    })
    .await
}

/// Throw a draft away: its sessions are to invoice again.
pub async fn delete_draft(app: &App, actor: &Actor, id: InvoiceId) -> AppResult<()> {
    provider_of(actor)?;
    let actor = actor.clone();
    app.write(move |conn| {
        let invoice = load_visible(conn, &actor, id)?;
        if !invoices::delete_draft(conn, id)? {
            return Err(wrong_status(&invoice, "deleted"));
        }
        Ok(())
    })
    .await
}

/// The provider issues a draft: it takes the next number and is the payer's to answer.
pub async fn issue(app: &App, actor: &Actor, id: InvoiceId) -> AppResult<InvoiceView> {
    let actor = actor.clone();
    app.write(move |conn| issue_in(conn, &actor, id, super::direct_payments::london_today()))
        .await
}

pub fn issue_in(conn: &mut Conn, actor: &Actor, id: InvoiceId, today: NaiveDate) -> AppResult<InvoiceView> {
    let provider = provider_of(actor)?;
    let invoice = load_visible(conn, actor, id)?;
    match invoices::issue(conn, id, provider, today)? {
        Issued::Issued => {}
        Issued::NotDraft => return Err(wrong_status(&invoice, "issued")),
        Issued::Empty => {
            return Err(AppError::conflict(
                "nothing_to_invoice",
                "nothing on this draft is still delivered: its sessions were cancelled or their marks corrected",
                None,
            ));
        }
    }
    told(conn, id, Event::InvoiceIssued)
}

/// The invoice as it now stands, its other party told of `event`.
fn told(conn: &mut Conn, id: InvoiceId, event: Event) -> AppResult<InvoiceView> {
    let invoice = invoices::load(conn, id)?.ok_or_else(|| AppError::not_found("invoice"))?;
    super::notices::invoice(conn, &invoice, event)?;
    Ok(invoice)
}

/// The payer's side of an invoice, for a change only the payer may make.
fn payers_invoice(conn: &mut Conn, actor: &Actor, id: InvoiceId) -> AppResult<InvoiceView> {
    let invoice = load_visible(conn, actor, id)?;
    if !is_payer(actor, &invoice) {
        return Err(AppError::forbidden(format!(
            "only its payer ({}) answers this invoice",
            invoice.payer.label()
        )));
    }
    Ok(invoice)
}

/// The payer approves: what each allocation holds on the invoice moves from committed to spent.
/// Two payers (or two servers) approving at once approve it once.
pub async fn approve(app: &App, actor: &Actor, id: InvoiceId) -> AppResult<InvoiceView> {
    let actor = actor.clone();
    app.write(move |conn| approve_in(conn, &actor, id)).await
}

pub fn approve_in(conn: &mut Conn, actor: &Actor, id: InvoiceId) -> AppResult<InvoiceView> {
    let invoice = payers_invoice(conn, actor, id)?;
    let from = [InvoiceStatus::Issued, InvoiceStatus::Disputed];
    if !invoices::decide(conn, id, &from, InvoiceStatus::Approved, actor.user_id, None)? {
        return Err(wrong_status(&invoice, "approved"));
    }
    let number = invoice.number_text().unwrap_or_default();
    for (allocation, amount) in invoices::owed_by_allocation(conn, id)? {
        if amount == Pence::ZERO {
            continue;
        }
        if !budget_holders::spend(conn, allocation, amount)? {
            return Err(AppError::Internal(format!(
                "allocation {allocation} does not hold {amount} for invoice {number}"
            )));
        }
        let balance_after = budget_holders::remaining(conn, allocation)?;
        ledger::append(
            conn,
            Movement {
                allocation,
                kind: LedgerKind::InvoiceApproved,
                balance_after,
                description: &format!("Invoice {number} from {} approved", invoice.provider_name),
                spent_change: amount.credit(),
                invoice: Some(id),
                ..Movement::default()
            },
        )?;
    }
    record_decision(conn, actor, &invoice)?;
    told(conn, id, Event::InvoiceApproved)
}

fn record_decision(conn: &mut Conn, actor: &Actor, invoice: &InvoiceView) -> AppResult<()> {
    if let Some(row) = budget_holders::load(conn, invoice.budget_holder_id)? {
        records::record_change(conn, actor, &row, CHANGED_INVOICE)?;
    }
    Ok(())
}

/// The payer disputes an issued invoice, with a reason: its money stays committed until the
/// provider credits it or the payer approves it after all.
pub async fn dispute(app: &App, actor: &Actor, id: InvoiceId, why: String) -> AppResult<InvoiceView> {
    let actor = actor.clone();
    app.write(move |conn| dispute_in(conn, &actor, id, &why)).await
}

pub fn dispute_in(conn: &mut Conn, actor: &Actor, id: InvoiceId, why: &str) -> AppResult<InvoiceView> {
    let why = text("reason", why, 1, MAX_REASON_CHARS)?;
    let invoice = payers_invoice(conn, actor, id)?;
    let from = [InvoiceStatus::Issued];
    if !invoices::decide(conn, id, &from, InvoiceStatus::Disputed, actor.user_id, Some(&why))? {
        return Err(wrong_status(&invoice, "disputed"));
    }
    record_decision(conn, actor, &invoice)?;
    told(conn, id, Event::InvoiceDisputed)
}

/// The payer records that it paid an approved invoice (a family from its direct-payment
/// account, a broker, or a council outside a payment run).
pub async fn paid(
    app: &App,
    actor: &Actor,
    id: InvoiceId,
    paid_on: NaiveDate,
    reference: String,
) -> AppResult<InvoiceView> {
    let reference = reference.trim().to_string();
    if reference.chars().count() > 100 {
        return Err(FieldError::new("reference", "must be at most 100 characters").into());
    }
    let today = super::direct_payments::london_today();
    if paid_on > today {
        return Err(FieldError::new("paid_on", "must not be in the future").into());
    }
    let actor = actor.clone();
    app.write(move |conn| {
        let invoice = payers_invoice(conn, &actor, id)?;
        if invoice.issued_on.is_some_and(|d| paid_on < d) {
            return Err(FieldError::new("paid_on", "must not be before the invoice was issued").into());
        }
        if !invoices::mark_paid(conn, id, paid_on, &reference)? {
            return Err(wrong_status(&invoice, "paid"));
        }
        record_decision(conn, &actor, &invoice)?;
        told(conn, id, Event::InvoicePaid)
    })
    .await
}

/// The provider credits lines of an issued invoice (a whole line when no amount is given). The
/// money goes back to each allocation's remaining: from spent when the invoice was approved,
/// from committed when it was not.
pub async fn credit(
    app: &App,
    actor: &Actor,
    id: InvoiceId,
    lines: Vec<CreditLineInput>,
    why: String,
) -> AppResult<InvoiceView> {
    let provider = provider_of(actor)?;
    let why = text("reason", &why, 1, MAX_REASON_CHARS)?;
    if lines.is_empty() {
        return Err(Invalid::one("lines", "must name at least one line").into());
    }
    let actor = actor.clone();
    app.write(move |conn| {
        let invoice = load_visible(conn, &actor, id)?;
        let status =
            invoices::claim_for_credit(conn, id, provider)?.ok_or_else(|| wrong_status(&invoice, "credited"))?;
        let mut taken = Vec::new();
        let mut by_allocation: BTreeMap<i64, Pence> = BTreeMap::new();
        for (i, ask) in lines.iter().enumerate() {
            let field = format!("lines[{i}]");
            let line = InvoiceLineId(ask.line_id);
            let (allocation, amount, credited) = invoices::line(conn, id, line)?
                .ok_or_else(|| AppError::unknown(&format!("{field}.line_id"), "is not a line of this invoice"))?;
            let want = ask.amount.unwrap_or_else(|| amount.saturating_sub(credited));
            check_credit(
                &format!("{field}.amount"),
                CreditAsk {
                    line_amount: amount,
                    already_credited: credited,
                    amount: want,
                },
            )?;
            if !invoices::credit_line(conn, id, line, want)? {
                return Err(AppError::conflict(
                    "credit_exceeds_line",
                    "that line has been credited meanwhile",
                    Some(&format!("{field}.amount")),
                ));
            }
            taken.push((line, want));
            let sum = by_allocation.entry(allocation.0).or_insert(Pence::ZERO);
            *sum = Pence::from_stored(sum.pence() + want.pence());
        }
        invoices::insert_credit_note(conn, id, provider, &why, &taken, actor.user_id)?;
        let from_spent = status.approved();
        let number = invoice.number_text().unwrap_or_default();
        for (allocation, amount) in by_allocation {
            let allocation = crate::domain::AllocationId(allocation);
            let back = if from_spent {
                budget_holders::unspend(conn, allocation, amount)?
            } else {
                budget_holders::release(conn, allocation, amount)?
            };
            let balance_after = back.ok_or_else(|| {
                AppError::Internal(format!(
                    "allocation {allocation} does not hold {amount} for invoice {number}"
                ))
            })?;
            ledger::append(
                conn,
                Movement {
                    allocation,
                    kind: LedgerKind::Credited,
                    amount: amount.credit(),
                    balance_after,
                    description: &format!("Credit note on invoice {number}: {why}"),
                    spent_change: if from_spent { amount.debit() } else { Default::default() },
                    invoice: Some(id),
                    ..Movement::default()
                },
            )?;
        }
        record_decision(conn, &actor, &invoice)?;
        told(conn, id, Event::InvoicePaid)
    })
    .await
}

/// Before a seat's or booking's delivery changes: refuse (409 `invoiced`) when it is on an
/// issued invoice, else take it off any draft. Called inside the transaction that changes it.
pub(crate) fn release_items(conn: &mut Conn, keys: &[String]) -> AppResult<()> {
    match invoices::release_items(conn, keys)? {
        None => Ok(()),
        Some(number) => Err(AppError::conflict(
            "invoiced",
            format!("this is on invoice {number}: raise a credit note against the invoice instead"),
            None,
        )),
    }
}

/// The download's file name: the invoice's number (a draft by its id).
pub fn filename(invoice: &InvoiceView, extension: &str) -> String {
    match invoice.number_text() {
        Some(n) => format!("{n}.{extension}"),
        None => format!("draft-invoice-{}.{extension}", invoice.id),
    }
}

#[derive(serde::Serialize)]
struct LineCsv<'a> {
    invoice_number: &'a str,
    invoice_status: &'a str,
    line_id: i64,
    delivered_on: NaiveDate,
    description: String,
    child_reference: String,
    booking_id: i64,
    session_id: Option<i64>,
    quantity: i64,
    unit_price: String,
    amount: String,
    credited: String,
}

/// An invoice's lines for a spreadsheet or a finance system.
pub fn lines_csv(invoice: &InvoiceView) -> AppResult<Csv> {
    let number = invoice.number_text().unwrap_or_default();
    let rows: Vec<LineCsv> = invoice
        .lines
        .iter()
        .map(|l| LineCsv {
            invoice_number: &number,
            invoice_status: invoice.status.as_str(),
            line_id: l.id.0,
            delivered_on: l.delivered_on,
            description: spreadsheet_safe(&l.description),
            child_reference: spreadsheet_safe(&invoice.child_reference),
            booking_id: l.booking_id.0,
            session_id: l.session_id.map(|s| s.0),
            quantity: l.quantity,
            unit_price: l.unit_price.to_string(),
            amount: l.amount.to_string(),
            credited: l.credited.to_string(),
        })
        .collect();
    super::reports::csv_with_header("invoice-lines.csv", LINE_CSV_HEADER, &rows)
}

const LINE_CSV_HEADER: &[&str] = &[
    "invoice_number",
    "invoice_status",
    "line_id",
    "delivered_on",
    "description",
    "child_reference",
    "booking_id",
    "session_id",
    "quantity",
    "unit_price",
    "amount",
    "credited",
];

/// A plan with delivered sessions a provider has not yet invoiced.
#[derive(Debug, Clone)]
pub struct ToInvoice {
    pub budget_holder_id: BudgetHolderId,
    pub first_name: String,
    pub reference: String,
    pub payer: Payer,
    pub items: usize,
    pub amount: Pence,
    pub first_on: NaiveDate,
    pub last_on: NaiveDate,
}

/// What the provider has delivered and not yet invoiced, by plan and payer.
pub async fn to_invoice(app: &App, actor: &Actor) -> AppResult<Vec<ToInvoice>> {
    let provider = provider_of(actor)?;
    let (rows, owners) = app
        .read(move |conn| {
            let items = invoices::delivered_items(conn, provider, None, now())?;
            let mut groups: BTreeMap<(i64, &'static str), ToInvoice> = BTreeMap::new();
            let mut owners = Vec::new();
            for item in items {
                let key = (item.holder.0, item.payer().as_str());
                if let std::collections::btree_map::Entry::Vacant(e) = groups.entry(key) {
                    let Some(row) = budget_holders::load(conn, item.holder)? else {
                        continue;
                    };
                    owners.push((item.holder, row.owners()));
                    e.insert(ToInvoice {
                        budget_holder_id: item.holder,
                        first_name: row.first_name.clone(),
                        reference: row.reference.clone(),
                        payer: item.payer(),
                        items: 0,
                        amount: Pence::ZERO,
                        first_on: item.delivered_on,
                        last_on: item.delivered_on,
                    });
                }
                if let Some(g) = groups.get_mut(&key) {
                    g.items += 1;
                    g.amount = Pence::from_stored(g.amount.pence() + item.amount.pence());
                    g.first_on = g.first_on.min(item.delivered_on);
                    g.last_on = g.last_on.max(item.delivered_on);
                }
            }
            Ok((groups.into_values().collect::<Vec<_>>(), owners))
        })
        .await?;
    records::record_reads(app, actor, owners, LISTED_INVOICES).await?;
    Ok(rows)
}
