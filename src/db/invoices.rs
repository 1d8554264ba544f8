//! Invoices, their lines and credit notes.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::bookings::BookingKind;
use super::schema::{
    allocations, booking_sessions, bookings, budget_holders, councils, credit_note_lines, credit_notes, dated_sessions,
    invoice_lines, invoices, organisations, price_options, services,
};
use super::{Conn, DbResult, now};
use crate::domain::access::PlanOwners;
use crate::domain::booking::BookingStatus;
use crate::domain::invoice::{InvoiceStatus, Payer, credit_note_number, invoice_number, item_key, vat_contained};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::sessions::{SeatStatus, london_date};
use crate::domain::{
    AllocationId, BookingId, BudgetHolderId, CouncilId, CreditNoteId, InvoiceId, InvoiceLineId, Management,
    OrganisationId, PaymentRunId, Pence, SessionId, UserId,
};

/// One invoice line as `verify` sees it.
#[derive(Debug, Clone, Copy)]
pub struct LineFacts {
    pub id: i64,
    pub status: InvoiceStatus,
    pub amount: i64,
    pub credited: i64,
}

/// Every invoice line by the item it charges for, checking on the way that each issued
/// invoice's totals are the sum of its lines and each line's credit the sum of its credit notes.
pub fn lines_for_verify(conn: &mut Conn, problems: &mut Vec<String>) -> DbResult<HashMap<String, LineFacts>> {
    let invoice_rows: Vec<(i64, String, i64, i64, i64, i64)> = invoices::table
        .select((
            invoices::id,
            invoices::status,
            invoices::net_pence,
            invoices::vat_pence,
            invoices::total_pence,
            invoices::credited_pence,
        ))
        .load(conn)?;
    let mut status = HashMap::new();
    for (id, s, ..) in &invoice_rows {
        status.insert(*id, s.parse().unwrap_or(InvoiceStatus::Issued));
    }
    let line_rows: Vec<(i64, i64, String, i64, i64)> = invoice_lines::table
        .select((
            invoice_lines::id,
            invoice_lines::invoice_id,
            invoice_lines::item_key,
            invoice_lines::amount_pence,
            invoice_lines::credited_pence,
        ))
        .load(conn)?;
    let mut notes: HashMap<i64, i64> = HashMap::new();
    for (line, amount) in credit_note_lines::table
        .select((credit_note_lines::invoice_line_id, credit_note_lines::amount_pence))
        .load::<(i64, i64)>(conn)?
    {
        *notes.entry(line).or_default() += amount;
    }
    let mut note_totals: HashMap<i64, i64> = HashMap::new();
    for (invoice, total) in credit_notes::table
        .select((credit_notes::invoice_id, credit_notes::total_pence))
        .load::<(i64, i64)>(conn)?
    {
        *note_totals.entry(invoice).or_default() += total;
    }
    let mut sums: HashMap<i64, (i64, i64)> = HashMap::new();
    let mut out = HashMap::new();
    for (id, invoice, key, amount, credited) in line_rows {
        let noted = notes.get(&id).copied().unwrap_or(0);
        if noted != credited || credited > amount || credited < 0 {
            problems.push(format!(
                "invoice line {id}: credited {} but its credit notes add up to {}",
                Pence::from_stored(credited),
                Pence::from_stored(noted)
            ));
        }
        let sum = sums.entry(invoice).or_default();
        sum.0 += amount;
        sum.1 += credited;
        let status = status.get(&invoice).copied().unwrap_or(InvoiceStatus::Issued);
        out.insert(
            key,
            LineFacts {
                id,
                status,
                amount,
                credited,
            },
        );
    }
    for (id, s, net, vat, total, credited) in invoice_rows {
        if s == InvoiceStatus::Draft.as_str() {
            continue;
        }
        let (lines_total, lines_credited) = sums.get(&id).copied().unwrap_or_default();
        if total != lines_total || net + vat != total {
            problems.push(format!(
                "invoice {id}: its total is {} but its lines add up to {}",
                Pence::from_stored(total),
                Pence::from_stored(lines_total)
            ));
        }
        let noted = note_totals.get(&id).copied().unwrap_or(0);
        if credited != lines_credited || credited != noted {
            problems.push(format!(
                "invoice {id}: credited {} but its lines and credit notes say {} and {}",
                Pence::from_stored(credited),
                Pence::from_stored(lines_credited),
                Pence::from_stored(noted)
            ));
        }
    }
    Ok(out)
}

/// A delivered item not yet on any invoice: a booked session attended or charged, or a booking
/// bought by quantity and delivered.
#[derive(Debug, Clone)]
pub struct Item {
    pub booking: BookingId,
    pub session: Option<SessionId>,
    pub allocation: AllocationId,
    pub holder: BudgetHolderId,
    pub council: CouncilId,
    pub broker: Option<OrganisationId>,
    pub management: Management,
    pub delivered_on: NaiveDate,
    pub description: String,
    pub quantity: i64,
    pub unit_price: Pence,
    pub amount: Pence,
}

impl Item {
    pub fn key(&self) -> String {
        item_key(self.booking, self.session)
    }

    pub fn payer(&self) -> Payer {
        Payer::of(self.management)
    }
}

/// The seat statuses that count as delivered, as stored.
fn delivered_statuses() -> Vec<&'static str> {
    SeatStatus::ALL
        .iter()
        .filter(|s| s.delivered())
        .map(|s| s.as_str())
        .collect()
}

/// Who sees which invoices: the provider that issues them, the council of the plan, the family
/// whose plan it is, and the broker that pays third-party ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceScope {
    Provider(OrganisationId),
    Council(CouncilId),
    Family(UserId),
    Broker(OrganisationId),
}

type SeatItemRow = (i64, i64, i64, String, String, NaiveDateTime, i64, i64, Option<i64>, i64);

/// The provider's delivered items that are on no invoice, delivered by `until`, of one plan or
/// of all. Charged late cancellations count once their session's time has come.
pub fn delivered_items(
    conn: &mut Conn,
    provider: OrganisationId,
    holder: Option<BudgetHolderId>,
    until: NaiveDateTime,
) -> DbResult<Vec<Item>> {
    let delivered = delivered_statuses();
    let mut seats = booking_sessions::table
        .inner_join(dated_sessions::table)
        .inner_join(
            bookings::table
                .inner_join(services::table)
                .inner_join(budget_holders::table),
        )
        .filter(bookings::organisation_id.eq(provider.0))
        .filter(booking_sessions::status.eq_any(&delivered))
        .filter(dated_sessions::starts_at.le(until))
        .filter(budget_holders::erased_at.is_null())
        .into_boxed();
    if let Some(h) = holder {
        seats = seats.filter(bookings::budget_holder_id.eq(h.0));
    }
    let seat_rows: Vec<SeatItemRow> = seats
        .select((
            booking_sessions::booking_id,
            booking_sessions::session_id,
            bookings::allocation_id,
            services::name,
            booking_sessions::status,
            dated_sessions::starts_at,
            booking_sessions::price_pence,
            budget_holders::council_id,
            budget_holders::broker_organisation_id,
            budget_holders::id,
        ))
        .order((dated_sessions::starts_at, booking_sessions::booking_id))
        .load(conn)?;
    let mut quantity = bookings::table
        .inner_join(services::table)
        .inner_join(price_options::table)
        .inner_join(budget_holders::table)
        .filter(bookings::organisation_id.eq(provider.0))
        .filter(bookings::kind.eq(BookingKind::Quantity.as_str()))
        .filter(bookings::status.eq(BookingStatus::Delivered.as_str()))
        .filter(bookings::updated_at.le(until))
        .filter(budget_holders::erased_at.is_null())
        .into_boxed();
    if let Some(h) = holder {
        quantity = quantity.filter(bookings::budget_holder_id.eq(h.0));
    }
    type QuantityRow = (
        i64,
        i64,
        String,
        String,
        NaiveDateTime,
        i64,
        i64,
        i64,
        i64,
        Option<i64>,
        i64,
    );
    let quantity_rows: Vec<QuantityRow> = quantity
        .select((
            bookings::id,
            bookings::allocation_id,
            services::name,
            price_options::label,
            bookings::updated_at,
            bookings::quantity,
            bookings::unit_price_pence,
            bookings::total_pence,
            budget_holders::council_id,
            budget_holders::broker_organisation_id,
            budget_holders::id,
        ))
        .order(bookings::id)
        .load(conn)?;
    let mut booking_ids: Vec<i64> = seat_rows.iter().map(|r| r.0).collect();
    booking_ids.extend(quantity_rows.iter().map(|r| r.0));
    booking_ids.sort_unstable();
    booking_ids.dedup();
    // In chunks: a large provider has more bookings than SQLite takes bound values at once.
    let mut invoiced: HashSet<String> = HashSet::new();
    for chunk in booking_ids.chunks(10_000) {
        invoiced.extend(
            invoice_lines::table
                .filter(invoice_lines::booking_id.eq_any(chunk))
                .select(invoice_lines::item_key)
                .load::<String>(conn)?,
        );
    }
    let mut allocation_ids: Vec<i64> = seat_rows.iter().map(|r| r.2).collect();
    allocation_ids.extend(quantity_rows.iter().map(|r| r.1));
    allocation_ids.sort_unstable();
    allocation_ids.dedup();
    let mut management: HashMap<i64, Management> = HashMap::new();
    for chunk in allocation_ids.chunks(10_000) {
        for (id, m) in allocations::table
            .filter(allocations::id.eq_any(chunk))
            .select((allocations::id, allocations::management))
            .load::<(i64, String)>(conn)?
        {
            management.insert(id, m.parse().unwrap_or(Management::Organised));
        }
    }
    let mut items = Vec::new();
    for (booking, session, allocation, service, status, starts_at, price, council, broker, holder) in seat_rows {
        let on = london_date(starts_at);
        let how = match status.parse().unwrap_or(SeatStatus::Attended) {
            SeatStatus::Charged => " (late cancellation, charged)",
            SeatStatus::AbsentCharged => " (absent, charged)",
            _ => "",
        };
        items.push(Item {
            booking: BookingId(booking),
            session: Some(SessionId(session)),
            allocation: AllocationId(allocation),
            holder: BudgetHolderId(holder),
            council: CouncilId(council),
            broker: broker.map(OrganisationId),
            management: management.get(&allocation).copied().unwrap_or(Management::Organised),
            delivered_on: on,
            description: format!("{service}, {}{how}", on.format("%-d %B %Y")),
            quantity: 1,
            unit_price: Pence::from_stored(price),
            amount: Pence::from_stored(price),
        });
    }
    for (booking, allocation, service, label, at, quantity, unit, total, council, broker, holder) in quantity_rows {
        items.push(Item {
            booking: BookingId(booking),
            session: None,
            allocation: AllocationId(allocation),
            holder: BudgetHolderId(holder),
            council: CouncilId(council),
            broker: broker.map(OrganisationId),
            management: management.get(&allocation).copied().unwrap_or(Management::Organised),
            delivered_on: london_date(at),
            description: format!("{service}: {label}"),
            quantity,
            unit_price: Pence::from_stored(unit),
            amount: Pence::from_stored(total),
        });
    }
    items.retain(|i| !invoiced.contains(&i.key()));
    Ok(items)
}

/// Who a new draft is addressed to and what it covers.
pub struct NewDraft {
    pub provider: OrganisationId,
    pub holder: BudgetHolderId,
    pub council: CouncilId,
    pub payer: Payer,
    pub payer_organisation: Option<OrganisationId>,
    pub period: (NaiveDate, NaiveDate),
}

/// The open draft for this provider, plan, payer and period, made if there is none.
pub fn draft_for(conn: &mut Conn, d: &NewDraft) -> DbResult<InvoiceId> {
    let existing: Option<i64> = invoices::table
        .filter(invoices::organisation_id.eq(d.provider.0))
        .filter(invoices::budget_holder_id.eq(d.holder.0))
        .filter(invoices::payer.eq(d.payer.as_str()))
        .filter(invoices::period_start.eq(d.period.0))
        .filter(invoices::status.eq(InvoiceStatus::Draft.as_str()))
        .select(invoices::id)
        .get_result(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok(InvoiceId(id));
    }
    let at = now();
    let id = diesel::insert_into(invoices::table)
        .values((
            invoices::organisation_id.eq(d.provider.0),
            invoices::budget_holder_id.eq(d.holder.0),
            invoices::council_id.eq(d.council.0),
            invoices::payer.eq(d.payer.as_str()),
            invoices::payer_organisation_id.eq(d.payer_organisation.map(|o| o.0)),
            invoices::period_start.eq(d.period.0),
            invoices::period_end.eq(d.period.1),
            invoices::status.eq(InvoiceStatus::Draft.as_str()),
            invoices::created_at.eq(at),
            invoices::updated_at.eq(at),
        ))
        .returning(invoices::id)
        .get_result(conn)?;
    Ok(InvoiceId(id))
}

/// Put items on a draft, in one statement per few hundred lines. An item another server put
/// on an invoice meanwhile fails the UNIQUE item key, and the caller's transaction with it.
pub fn add_lines(conn: &mut Conn, invoice: InvoiceId, items: &[Item]) -> DbResult<()> {
    for chunk in items.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|i| {
                (
                    invoice_lines::invoice_id.eq(invoice.0),
                    invoice_lines::booking_id.eq(i.booking.0),
                    invoice_lines::session_id.eq(i.session.map(|s| s.0)),
                    invoice_lines::item_key.eq(i.key()),
                    invoice_lines::allocation_id.eq(i.allocation.0),
                    invoice_lines::delivered_on.eq(i.delivered_on),
                    invoice_lines::description.eq(i.description.clone()),
                    invoice_lines::quantity.eq(i.quantity),
                    invoice_lines::unit_price_pence.eq(i.unit_price.pence()),
                    invoice_lines::amount_pence.eq(i.amount.pence()),
                )
            })
            .collect();
        let insert = diesel::insert_into(invoice_lines::table).values(rows);
        // Many rows in one statement, which diesel offers per backend only.
        match conn {
            super::AnyConnection::Sqlite(c) => insert.execute(c)?,
            super::AnyConnection::Postgresql(c) => insert.execute(c)?,
        };
    }
    retotal(conn, invoice)
}

/// A draft's totals from its lines (VAT is worked out at issue, with the provider's rate then).
fn retotal(conn: &mut Conn, invoice: InvoiceId) -> DbResult<()> {
    let total: i64 = invoice_lines::table
        .filter(invoice_lines::invoice_id.eq(invoice.0))
        .select(invoice_lines::amount_pence)
        .load::<i64>(conn)?
        .into_iter()
        .sum();
    diesel::update(invoices::table.find(invoice.0))
        .set((
            invoices::net_pence.eq(total),
            invoices::vat_pence.eq(0),
            invoices::total_pence.eq(total),
            invoices::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct LineView {
    pub id: InvoiceLineId,
    pub booking_id: BookingId,
    pub session_id: Option<SessionId>,
    pub allocation_id: AllocationId,
    pub delivered_on: NaiveDate,
    pub description: String,
    pub quantity: i64,
    pub unit_price: Pence,
    pub amount: Pence,
    pub credited: Pence,
}

#[derive(Debug, Clone)]
pub struct CreditNoteView {
    pub id: CreditNoteId,
    pub number: String,
    pub reason: String,
    pub total: Pence,
    pub vat: Pence,
    pub created_at: NaiveDateTime,
    pub lines: Vec<(InvoiceLineId, Pence)>,
}

/// An invoice as its provider and its payer see it.
#[derive(Debug, Clone)]
pub struct InvoiceView {
    pub id: InvoiceId,
    pub provider: OrganisationId,
    pub provider_name: String,
    pub provider_email: Option<String>,
    pub charity_number: Option<String>,
    pub budget_holder_id: BudgetHolderId,
    /// The plan's reference (the payer knows the child by it) and the child's first name.
    pub child_reference: String,
    pub first_name: String,
    pub plan_owners: PlanOwners,
    pub council: CouncilId,
    pub council_name: String,
    pub payer: Payer,
    pub payer_organisation: Option<OrganisationId>,
    pub payer_name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: InvoiceStatus,
    pub number: Option<i64>,
    pub issued_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub net: Pence,
    pub vat: Pence,
    pub total: Pence,
    pub credited: Pence,
    pub vat_number: Option<String>,
    pub vat_rate_bp: i32,
    pub notes: String,
    pub dispute_reason: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub paid_on: Option<NaiveDate>,
    pub paid_reference: Option<String>,
    pub payment_run_id: Option<PaymentRunId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub lines: Vec<LineView>,
    pub credit_notes: Vec<CreditNoteView>,
}

impl InvoiceView {
    /// What the payer owes: the total less credit notes.
    pub fn owed(&self) -> Pence {
        self.total.saturating_sub(self.credited)
    }

    pub fn number_text(&self) -> Option<String> {
        self.number.map(invoice_number)
    }

    pub fn owners(&self) -> (BudgetHolderId, PlanOwners) {
        (self.budget_holder_id, self.plan_owners)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = invoices)]
struct InvoiceRow {
    id: i64,
    organisation_id: i64,
    budget_holder_id: i64,
    council_id: i64,
    payer: String,
    payer_organisation_id: Option<i64>,
    period_start: NaiveDate,
    period_end: NaiveDate,
    status: String,
    number: Option<i64>,
    issued_on: Option<NaiveDate>,
    due_on: Option<NaiveDate>,
    net_pence: i64,
    vat_pence: i64,
    total_pence: i64,
    credited_pence: i64,
    vat_number: Option<String>,
    vat_rate_bp: i32,
    notes: String,
    dispute_reason: Option<String>,
    decided_at: Option<NaiveDateTime>,
    paid_on: Option<NaiveDate>,
    paid_reference: Option<String>,
    payment_run_id: Option<i64>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Names for a batch of invoices: providers, councils, brokers and plans.
fn views(conn: &mut Conn, rows: Vec<InvoiceRow>, with_lines: bool) -> DbResult<Vec<InvoiceView>> {
    let mut org_ids: Vec<i64> = rows.iter().map(|r| r.organisation_id).collect();
    org_ids.extend(rows.iter().filter_map(|r| r.payer_organisation_id));
    let orgs: HashMap<i64, (String, Option<String>, Option<String>)> = organisations::table
        .filter(organisations::id.eq_any(&org_ids))
        .select((
            organisations::id,
            organisations::name,
            organisations::email,
            organisations::charity_number,
        ))
        .load::<(i64, String, Option<String>, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, n, e, c)| (id, (n, e, c)))
        .collect();
    let council_names: HashMap<i64, String> = councils::table
        .filter(councils::id.eq_any(rows.iter().map(|r| r.council_id).collect::<Vec<_>>()))
        .select((councils::id, councils::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    type HolderBits = (i64, String, String, i64, Option<i64>);
    let holders: HashMap<i64, HolderBits> = budget_holders::table
        .filter(budget_holders::id.eq_any(rows.iter().map(|r| r.budget_holder_id).collect::<Vec<_>>()))
        .select((
            budget_holders::id,
            budget_holders::reference,
            budget_holders::first_name,
            budget_holders::family_user_id,
            budget_holders::broker_organisation_id,
        ))
        .load::<HolderBits>(conn)?
        .into_iter()
        .map(|h| (h.0, h))
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut lines: HashMap<i64, Vec<LineView>> = HashMap::new();
    let mut notes: HashMap<i64, Vec<CreditNoteView>> = HashMap::new();
    if with_lines {
        for l in load_lines(conn, &ids)? {
            lines.entry(l.0).or_default().push(l.1);
        }
        for n in load_credit_notes(conn, &ids)? {
            notes.entry(n.0).or_default().push(n.1);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (provider_name, provider_email, charity_number) =
                orgs.get(&r.organisation_id).cloned().unwrap_or_default();
            let council_name = council_names.get(&r.council_id).cloned().unwrap_or_default();
            let (_, child_reference, first_name, family, broker) = holders
                .get(&r.budget_holder_id)
                .cloned()
                .unwrap_or((0, String::new(), String::new(), 0, None));
            let payer: Payer = r.payer.parse().unwrap_or(Payer::Council);
            let payer_name = match payer {
                Payer::Council => council_name.clone(),
                Payer::Broker => r
                    .payer_organisation_id
                    .and_then(|o| orgs.get(&o))
                    .map(|o| o.0.clone())
                    .unwrap_or_else(|| "the broker".into()),
                Payer::Family => format!("The family of {first_name} (direct payment)"),
            };
            InvoiceView {
                id: InvoiceId(r.id),
                provider: OrganisationId(r.organisation_id),
                provider_name,
                provider_email,
                charity_number,
                budget_holder_id: BudgetHolderId(r.budget_holder_id),
                child_reference,
                first_name,
                plan_owners: PlanOwners {
                    council: CouncilId(r.council_id),
                    family: UserId(family),
                    broker: broker.map(OrganisationId),
                },
                council: CouncilId(r.council_id),
                council_name,
                payer,
                payer_organisation: r.payer_organisation_id.map(OrganisationId),
                payer_name,
                period_start: r.period_start,
                period_end: r.period_end,
                status: r.status.parse().unwrap_or(InvoiceStatus::Draft),
                number: r.number,
                issued_on: r.issued_on,
                due_on: r.due_on,
                net: Pence::from_stored(r.net_pence),
                vat: Pence::from_stored(r.vat_pence),
                total: Pence::from_stored(r.total_pence),
                credited: Pence::from_stored(r.credited_pence),
                vat_number: r.vat_number,
                vat_rate_bp: r.vat_rate_bp,
                notes: r.notes,
                dispute_reason: r.dispute_reason,
                decided_at: r.decided_at,
                paid_on: r.paid_on,
                paid_reference: r.paid_reference,
                payment_run_id: r.payment_run_id.map(PaymentRunId),
                created_at: r.created_at,
                updated_at: r.updated_at,
                lines: lines.remove(&r.id).unwrap_or_default(),
                credit_notes: notes.remove(&r.id).unwrap_or_default(),
            }
        })
        .collect())
}

fn load_lines(conn: &mut Conn, invoices: &[i64]) -> DbResult<Vec<(i64, LineView)>> {
    type Row = (i64, i64, i64, Option<i64>, i64, NaiveDate, String, i64, i64, i64, i64);
    let rows: Vec<Row> = invoice_lines::table
        .filter(invoice_lines::invoice_id.eq_any(invoices))
        .order((invoice_lines::delivered_on, invoice_lines::id))
        .select((
            invoice_lines::invoice_id,
            invoice_lines::id,
            invoice_lines::booking_id,
            invoice_lines::session_id,
            invoice_lines::allocation_id,
            invoice_lines::delivered_on,
            invoice_lines::description,
            invoice_lines::quantity,
            invoice_lines::unit_price_pence,
            invoice_lines::amount_pence,
            invoice_lines::credited_pence,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(invoice, id, booking, session, allocation, on, description, quantity, unit, amount, credited)| {
                (
                    invoice,
                    LineView {
                        id: InvoiceLineId(id),
                        booking_id: BookingId(booking),
                        session_id: session.map(SessionId),
                        allocation_id: AllocationId(allocation),
                        delivered_on: on,
                        description,
                        quantity,
                        unit_price: Pence::from_stored(unit),
                        amount: Pence::from_stored(amount),
                        credited: Pence::from_stored(credited),
                    },
                )
            },
        )
        .collect())
}

fn load_credit_notes(conn: &mut Conn, invoices: &[i64]) -> DbResult<Vec<(i64, CreditNoteView)>> {
    let notes: Vec<(i64, i64, i64, String, i64, i64, NaiveDateTime)> = credit_notes::table
        .filter(credit_notes::invoice_id.eq_any(invoices))
        .order(credit_notes::id)
        .select((
            credit_notes::invoice_id,
            credit_notes::id,
            credit_notes::number,
            credit_notes::reason,
            credit_notes::total_pence,
            credit_notes::vat_pence,
            credit_notes::created_at,
        ))
        .load(conn)?;
    let mut lines: HashMap<i64, Vec<(InvoiceLineId, Pence)>> = HashMap::new();
    for (note, line, amount) in credit_note_lines::table
        .filter(credit_note_lines::credit_note_id.eq_any(notes.iter().map(|n| n.1).collect::<Vec<_>>()))
        .order(credit_note_lines::id)
        .select((
            credit_note_lines::credit_note_id,
            credit_note_lines::invoice_line_id,
            credit_note_lines::amount_pence,
        ))
        .load::<(i64, i64, i64)>(conn)?
    {
        lines
            .entry(note)
            .or_default()
            .push((InvoiceLineId(line), Pence::from_stored(amount)));
    }
    Ok(notes
        .into_iter()
        .map(|(invoice, id, number, reason, total, vat, at)| {
            (
                invoice,
                CreditNoteView {
                    id: CreditNoteId(id),
                    number: credit_note_number(number),
                    reason,
                    total: Pence::from_stored(total),
                    vat: Pence::from_stored(vat),
                    created_at: at,
                    lines: lines.remove(&id).unwrap_or_default(),
                },
            )
        })
        .collect())
}

pub fn load(conn: &mut Conn, id: InvoiceId) -> DbResult<Option<InvoiceView>> {
    let row: Option<InvoiceRow> = invoices::table
        .find(id.0)
        .select(InvoiceRow::as_select())
        .get_result(conn)
        .optional()?;
    Ok(match row {
        Some(r) => views(conn, vec![r], true)?.pop(),
        None => None,
    })
}

macro_rules! scoped {
    ($q:expr, $scope:expr) => {
        match $scope {
            InvoiceScope::Provider(o) => $q.filter(invoices::organisation_id.eq(o.0)),
            InvoiceScope::Council(c) => $q.filter(invoices::council_id.eq(c.0)),
            InvoiceScope::Broker(o) => $q.filter(invoices::payer_organisation_id.eq(o.0)),
            InvoiceScope::Family(u) => $q.filter(
                invoices::budget_holder_id.eq_any(
                    budget_holders::table
                        .filter(budget_holders::family_user_id.eq(u.0))
                        .select(budget_holders::id),
                ),
            ),
        }
    };
}

/// One page of the invoices in a scope, newest first. Only a provider sees its drafts.
pub fn list(
    conn: &mut Conn,
    scope: InvoiceScope,
    status: Option<InvoiceStatus>,
    page: PageRequest,
) -> DbResult<Page<InvoiceView>> {
    let filtered = |q: invoices::BoxedQuery<'static, super::Backend>| {
        let q = match status {
            Some(s) => q.filter(invoices::status.eq(s.as_str())),
            None => q,
        };
        match scope {
            InvoiceScope::Provider(_) => q,
            _ => q.filter(invoices::status.ne(InvoiceStatus::Draft.as_str())),
        }
    };
    let counted = filtered(scoped!(invoices::table.into_boxed(), scope));
    let total: i64 = counted.count().get_result(conn)?;
    let rows: Vec<InvoiceRow> = filtered(scoped!(invoices::table.into_boxed(), scope))
        .order(invoices::id.desc())
        .offset(page.offset())
        .limit(page.limit())
        .select(InvoiceRow::as_select())
        .load(conn)?;
    let views = views(conn, rows, false)?;
    Ok(Page::new(views, u64::try_from(total).unwrap_or(0), page))
}

/// The drafts of a provider ready to issue (for the pages' "to invoice" list), and the open
/// draft ids of a plan.
pub fn drafts_of(conn: &mut Conn, provider: OrganisationId, holder: BudgetHolderId) -> DbResult<Vec<InvoiceId>> {
    Ok(invoices::table
        .filter(invoices::organisation_id.eq(provider.0))
        .filter(invoices::budget_holder_id.eq(holder.0))
        .filter(invoices::status.eq(InvoiceStatus::Draft.as_str()))
        .order(invoices::id)
        .select(invoices::id)
        .load::<i64>(conn)?
        .into_iter()
        .map(InvoiceId)
        .collect())
}

pub fn set_notes(conn: &mut Conn, id: InvoiceId, notes: &str) -> DbResult<bool> {
    let n = diesel::update(
        invoices::table
            .filter(invoices::id.eq(id.0))
            .filter(invoices::status.eq(InvoiceStatus::Draft.as_str())),
    )
    .set((invoices::notes.eq(notes), invoices::updated_at.eq(now())))
    .execute(conn)?;
    Ok(n == 1)
}

/// Delete a draft and its lines: its items are to invoice again.
pub fn delete_draft(conn: &mut Conn, id: InvoiceId) -> DbResult<bool> {
    // Claimed first, so an issue racing this delete finds nothing to issue.
    let claimed = diesel::update(
        invoices::table
            .filter(invoices::id.eq(id.0))
            .filter(invoices::status.eq(InvoiceStatus::Draft.as_str())),
    )
    .set(invoices::updated_at.eq(now()))
    .execute(conn)?;
    if claimed != 1 {
        return Ok(false);
    }
    diesel::delete(invoice_lines::table.filter(invoice_lines::invoice_id.eq(id.0))).execute(conn)?;
    diesel::delete(invoices::table.find(id.0)).execute(conn)?;
    Ok(true)
}

/// Drop draft lines whose item no longer stands as delivered at its price (a mark corrected, a
/// session cancelled), then total what is left. Returns how many lines went.
pub fn prune_draft(conn: &mut Conn, id: InvoiceId, provider: OrganisationId) -> DbResult<usize> {
    let lines: Vec<(i64, String, i64)> = invoice_lines::table
        .filter(invoice_lines::invoice_id.eq(id.0))
        .select((invoice_lines::id, invoice_lines::item_key, invoice_lines::amount_pence))
        .load(conn)?;
    let holder: i64 = invoices::table
        .find(id.0)
        .select(invoices::budget_holder_id)
        .get_result(conn)?;
    // Still delivered: the item is among the deliverable ones once this draft's claim is set aside.
    let mine: HashSet<String> = lines.iter().map(|l| l.1.clone()).collect();
    let standing: HashMap<String, i64> = delivered_or_mine(conn, provider, BudgetHolderId(holder), &mine)?;
    let gone: Vec<i64> = lines
        .iter()
        .filter(|(_, key, amount)| standing.get(key) != Some(amount))
        .map(|l| l.0)
        .collect();
    if !gone.is_empty() {
        diesel::delete(invoice_lines::table.filter(invoice_lines::id.eq_any(&gone))).execute(conn)?;
        retotal(conn, id)?;
    }
    Ok(gone.len())
}

/// Prices of the items in `keys` that are still delivered (whether or not on an invoice).
fn delivered_or_mine(
    conn: &mut Conn,
    provider: OrganisationId,
    holder: BudgetHolderId,
    keys: &HashSet<String>,
) -> DbResult<HashMap<String, i64>> {
    let delivered = delivered_statuses();
    let mut out = HashMap::new();
    for (booking, session, price) in booking_sessions::table
        .inner_join(bookings::table)
        .filter(bookings::organisation_id.eq(provider.0))
        .filter(bookings::budget_holder_id.eq(holder.0))
        .filter(booking_sessions::status.eq_any(&delivered))
        .select((
            booking_sessions::booking_id,
            booking_sessions::session_id,
            booking_sessions::price_pence,
        ))
        .load::<(i64, i64, i64)>(conn)?
    {
        let key = item_key(BookingId(booking), Some(SessionId(session)));
        if keys.contains(&key) {
            out.insert(key, price);
        }
    }
    for (booking, total) in bookings::table
        .filter(bookings::organisation_id.eq(provider.0))
        .filter(bookings::budget_holder_id.eq(holder.0))
        .filter(bookings::kind.eq(BookingKind::Quantity.as_str()))
        .filter(bookings::status.eq(BookingStatus::Delivered.as_str()))
        .select((bookings::id, bookings::total_pence))
        .load::<(i64, i64)>(conn)?
    {
        let key = item_key(BookingId(booking), None);
        if keys.contains(&key) {
            out.insert(key, total);
        }
    }
    Ok(out)
}

/// What became of an attempt to issue a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    Issued,
    /// It was not (or no longer) a draft of this provider.
    NotDraft,
    /// Nothing on it is still delivered.
    Empty,
}

/// Issue a draft: claim it, drop lines no longer delivered, take the provider's next number in
/// this transaction (so numbers have no gaps however many servers issue at once), and fix its
/// VAT, issue date and due date.
pub fn issue(conn: &mut Conn, id: InvoiceId, provider: OrganisationId, today: NaiveDate) -> DbResult<Issued> {
    let claimed = diesel::update(
        invoices::table
            .filter(invoices::id.eq(id.0))
            .filter(invoices::organisation_id.eq(provider.0))
            .filter(invoices::status.eq(InvoiceStatus::Draft.as_str())),
    )
    .set(invoices::updated_at.eq(now()))
    .execute(conn)?;
    if claimed != 1 {
        return Ok(Issued::NotDraft);
    }
    prune_draft(conn, id, provider)?;
    let total: i64 = invoices::table
        .find(id.0)
        .select(invoices::total_pence)
        .get_result(conn)?;
    let lines: i64 = invoice_lines::table
        .filter(invoice_lines::invoice_id.eq(id.0))
        .count()
        .get_result(conn)?;
    if lines == 0 {
        return Ok(Issued::Empty);
    }
    // The row lock this takes orders concurrent issuers: each reads the number after the last.
    diesel::update(organisations::table.find(provider.0))
        .set(organisations::next_invoice_number.eq(organisations::next_invoice_number + 1))
        .execute(conn)?;
    let (next, vat_number, rate, terms): (i64, Option<String>, i32, i32) = organisations::table
        .find(provider.0)
        .select((
            organisations::next_invoice_number,
            organisations::vat_number,
            organisations::vat_rate_bp,
            organisations::payment_terms_days,
        ))
        .get_result(conn)?;
    let rate = if vat_number.is_some() { rate } else { 0 };
    let vat = vat_contained(Pence::from_stored(total), rate).pence();
    diesel::update(invoices::table.find(id.0))
        .set((
            invoices::status.eq(InvoiceStatus::Issued.as_str()),
            invoices::number.eq(next - 1),
            invoices::issued_on.eq(today),
            invoices::due_on.eq(crate::domain::invoice::due_on(today, terms)),
            invoices::vat_number.eq(vat_number),
            invoices::vat_rate_bp.eq(rate),
            invoices::vat_pence.eq(vat),
            invoices::net_pence.eq(total - vat),
            invoices::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(Issued::Issued)
}

/// Move an invoice from one of `from` to `to`, in one guarded statement: false when it was in
/// none of them (another payer or server got there first).
pub fn decide(
    conn: &mut Conn,
    id: InvoiceId,
    from: &[InvoiceStatus],
    to: InvoiceStatus,
    by: UserId,
    reason: Option<&str>,
) -> DbResult<bool> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let at = now();
    let n = diesel::update(
        invoices::table
            .filter(invoices::id.eq(id.0))
            .filter(invoices::status.eq_any(&from)),
    )
    .set((
        invoices::status.eq(to.as_str()),
        invoices::dispute_reason.eq(reason),
        invoices::decided_by.eq(by.0),
        invoices::decided_at.eq(at),
        invoices::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Record that an approved invoice was paid; false when it is not approved (or already paid).
pub fn mark_paid(conn: &mut Conn, id: InvoiceId, on: NaiveDate, reference: &str) -> DbResult<bool> {
    let n = diesel::update(
        invoices::table
            .filter(invoices::id.eq(id.0))
            .filter(invoices::status.eq(InvoiceStatus::Approved.as_str())),
    )
    .set((
        invoices::status.eq(InvoiceStatus::Paid.as_str()),
        invoices::paid_on.eq(on),
        invoices::paid_reference.eq(reference),
        invoices::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// What each allocation an invoice charges holds on it: line amounts less credits.
pub fn owed_by_allocation(conn: &mut Conn, id: InvoiceId) -> DbResult<Vec<(AllocationId, Pence)>> {
    let mut owed: Vec<(AllocationId, Pence)> = Vec::new();
    for (allocation, amount, credited) in invoice_lines::table
        .filter(invoice_lines::invoice_id.eq(id.0))
        .order(invoice_lines::allocation_id)
        .select((
            invoice_lines::allocation_id,
            invoice_lines::amount_pence,
            invoice_lines::credited_pence,
        ))
        .load::<(i64, i64, i64)>(conn)?
    {
        let left = amount - credited;
        match owed.last_mut() {
            Some((a, p)) if a.0 == allocation => *p = Pence::from_stored(p.pence() + left),
            _ => owed.push((AllocationId(allocation), Pence::from_stored(left))),
        }
    }
    Ok(owed)
}

/// Claim an invoice for a credit note: lock its row and say what state it is in, or None when
/// it is not this provider's or cannot take a credit note.
pub fn claim_for_credit(conn: &mut Conn, id: InvoiceId, provider: OrganisationId) -> DbResult<Option<InvoiceStatus>> {
    let creditable: Vec<&str> = InvoiceStatus::ALL
        .iter()
        .filter(|s| s.creditable())
        .map(|s| s.as_str())
        .collect();
    let n = diesel::update(
        invoices::table
            .filter(invoices::id.eq(id.0))
            .filter(invoices::organisation_id.eq(provider.0))
            .filter(invoices::status.eq_any(&creditable)),
    )
    .set(invoices::updated_at.eq(now()))
    .execute(conn)?;
    if n != 1 {
        return Ok(None);
    }
    let status: String = invoices::table.find(id.0).select(invoices::status).get_result(conn)?;
    Ok(status.parse().ok())
}

/// Take `amount` more credit on a line of `invoice`, in one guarded statement: false when that
/// much is not left on it.
pub fn credit_line(conn: &mut Conn, invoice: InvoiceId, line: InvoiceLineId, amount: Pence) -> DbResult<bool> {
    let n = diesel::update(
        invoice_lines::table
            .filter(invoice_lines::id.eq(line.0))
            .filter(invoice_lines::invoice_id.eq(invoice.0))
            .filter((invoice_lines::amount_pence - invoice_lines::credited_pence).ge(amount.pence())),
    )
    .set(invoice_lines::credited_pence.eq(invoice_lines::credited_pence + amount.pence()))
    .execute(conn)?;
    Ok(n == 1)
}

/// A line as a credit note needs it: its allocation, amount and credit so far.
pub fn line(
    conn: &mut Conn,
    invoice: InvoiceId,
    line: InvoiceLineId,
) -> DbResult<Option<(AllocationId, Pence, Pence)>> {
    let row: Option<(i64, i64, i64)> = invoice_lines::table
        .filter(invoice_lines::id.eq(line.0))
        .filter(invoice_lines::invoice_id.eq(invoice.0))
        .select((
            invoice_lines::allocation_id,
            invoice_lines::amount_pence,
            invoice_lines::credited_pence,
        ))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(a, amount, credited)| {
        (
            AllocationId(a),
            Pence::from_stored(amount),
            Pence::from_stored(credited),
        )
    }))
}

/// Store a credit note with its provider's next number, and add it to the invoice's credit
/// (fully credited invoices become `credited`).
pub fn insert_credit_note(
    conn: &mut Conn,
    invoice: InvoiceId,
    provider: OrganisationId,
    reason: &str,
    lines: &[(InvoiceLineId, Pence)],
    by: UserId,
) -> DbResult<CreditNoteId> {
    diesel::update(organisations::table.find(provider.0))
        .set(organisations::next_credit_note_number.eq(organisations::next_credit_note_number + 1))
        .execute(conn)?;
    let next: i64 = organisations::table
        .find(provider.0)
        .select(organisations::next_credit_note_number)
        .get_result(conn)?;
    let (rate, vat_number): (i32, Option<String>) = invoices::table
        .find(invoice.0)
        .select((invoices::vat_rate_bp, invoices::vat_number))
        .get_result(conn)?;
    let total: i64 = lines.iter().map(|l| l.1.pence()).sum();
    let vat = if vat_number.is_some() {
        vat_contained(Pence::from_stored(total), rate).pence()
    } else {
        0
    };
    let id: i64 = diesel::insert_into(credit_notes::table)
        .values((
            credit_notes::invoice_id.eq(invoice.0),
            credit_notes::organisation_id.eq(provider.0),
            credit_notes::number.eq(next - 1),
            credit_notes::reason.eq(reason),
            credit_notes::total_pence.eq(total),
            credit_notes::vat_pence.eq(vat),
            credit_notes::created_by.eq(by.0),
            credit_notes::created_at.eq(now()),
        ))
        .returning(credit_notes::id)
        .get_result(conn)?;
    let rows: Vec<_> = lines
        .iter()
        .map(|(line, amount)| {
            (
                credit_note_lines::credit_note_id.eq(id),
                credit_note_lines::invoice_line_id.eq(line.0),
                credit_note_lines::amount_pence.eq(amount.pence()),
            )
        })
        .collect();
    let insert = diesel::insert_into(credit_note_lines::table).values(rows);
    match conn {
        super::AnyConnection::Sqlite(c) => insert.execute(c)?,
        super::AnyConnection::Postgresql(c) => insert.execute(c)?,
    };
    diesel::update(invoices::table.find(invoice.0))
        .set((
            invoices::credited_pence.eq(invoices::credited_pence + total),
            invoices::updated_at.eq(now()),
        ))
        .execute(conn)?;
    diesel::update(
        invoices::table
            .filter(invoices::id.eq(invoice.0))
            .filter(invoices::credited_pence.ge(invoices::total_pence)),
    )
    .set(invoices::status.eq(InvoiceStatus::Credited.as_str()))
    .execute(conn)?;
    Ok(CreditNoteId(id))
}

/// Before a delivered item changes (a seat cancelled or its mark corrected): refuse when it is on
/// an issued invoice (returning that invoice's number: a credit note corrects it), and otherwise
/// take it off any draft, so the draft never charges for what was not delivered. Drafts are
/// locked first, so a provider issuing one at the same moment either goes first (and this
/// refuses) or finds the line gone.
pub fn release_items(conn: &mut Conn, keys: &[String]) -> DbResult<Option<String>> {
    if keys.is_empty() {
        return Ok(None);
    }
    let mut on: Vec<i64> = invoice_lines::table
        .filter(invoice_lines::item_key.eq_any(keys))
        .select(invoice_lines::invoice_id)
        .load(conn)?;
    on.sort_unstable();
    on.dedup();
    if on.is_empty() {
        return Ok(None);
    }
    diesel::update(
        invoices::table
            .filter(invoices::id.eq_any(&on))
            .filter(invoices::status.eq(InvoiceStatus::Draft.as_str())),
    )
    .set(invoices::updated_at.eq(now()))
    .execute(conn)?;
    let live: Option<Option<i64>> = invoice_lines::table
        .inner_join(invoices::table)
        .filter(invoice_lines::item_key.eq_any(keys))
        .filter(invoices::status.ne(InvoiceStatus::Draft.as_str()))
        .select(invoices::number)
        .get_result(conn)
        .optional()?;
    if let Some(number) = live {
        return Ok(Some(number.map(invoice_number).unwrap_or_default()));
    }
    diesel::delete(invoice_lines::table.filter(invoice_lines::item_key.eq_any(keys))).execute(conn)?;
    for draft in on {
        retotal(conn, InvoiceId(draft))?;
    }
    Ok(None)
}

/// Every provider with delivered items on no invoice (for the drafting job).
pub fn providers_with_items(conn: &mut Conn) -> DbResult<Vec<OrganisationId>> {
    let ids: Vec<i64> = bookings::table
        .filter(bookings::status.ne(BookingStatus::Declined.as_str()))
        .select(bookings::organisation_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().map(OrganisationId).collect())
}
