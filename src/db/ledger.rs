//! The append-only ledger of money movements, statements, and the whole-database check.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::bookings::BookingKind;
use super::schema::{
    allocations, booking_sessions, bookings, direct_payments, dp_recoveries, dp_spending, ledger_entries,
};
use super::{Conn, DbResult, now};
use crate::domain::booking::{BookingStatus, LedgerKind};
use crate::domain::budget::{AllocationBooks, reconcile};
use crate::domain::invoice::{InvoiceStatus, item_key};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::sessions::SeatStatus;
use crate::domain::spending::SpendingStatus;
use crate::domain::{AllocationId, BookingId, BudgetHolderId, InvoiceId, Pence, SessionId, SignedPence, SpendingId};

pub struct Movement<'a> {
    pub allocation: AllocationId,
    pub booking: Option<BookingId>,
    pub kind: LedgerKind,
    /// The change to remaining.
    pub amount: SignedPence,
    pub balance_after: Pence,
    pub description: &'a str,
    /// The change to spent.
    pub spent_change: SignedPence,
    /// The change to a direct-payment account (paid in, reclaimed).
    pub cash_change: SignedPence,
    pub invoice: Option<InvoiceId>,
    pub spending: Option<SpendingId>,
}

impl Default for Movement<'_> {
    fn default() -> Self {
        Movement {
            allocation: AllocationId(0),
            booking: None,
            kind: LedgerKind::Allocated,
            amount: SignedPence::default(),
            balance_after: Pence::ZERO,
            description: "",
            spent_change: SignedPence::default(),
            cash_change: SignedPence::default(),
            invoice: None,
            spending: None,
        }
    }
}

pub fn append(conn: &mut Conn, m: Movement<'_>) -> DbResult<()> {
    diesel::insert_into(ledger_entries::table)
        .values((
            ledger_entries::allocation_id.eq(m.allocation.0),
            ledger_entries::booking_id.eq(m.booking.map(|b| b.0)),
            ledger_entries::kind.eq(m.kind.as_str()),
            ledger_entries::amount_pence.eq(m.amount.pence()),
            ledger_entries::balance_after_pence.eq(m.balance_after.pence()),
            ledger_entries::description.eq(m.description),
            ledger_entries::created_at.eq(now()),
            ledger_entries::spent_change_pence.eq(m.spent_change.pence()),
            ledger_entries::cash_change_pence.eq(m.cash_change.pence()),
            ledger_entries::invoice_id.eq(m.invoice.map(|i| i.0)),
            ledger_entries::spending_id.eq(m.spending.map(|i| i.0)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct StatementEntry {
    pub id: i64,
    pub allocation_id: AllocationId,
    pub stream: String,
    pub booking_id: Option<BookingId>,
    pub kind: LedgerKind,
    pub amount: SignedPence,
    pub balance_after: Pence,
    pub description: String,
    pub at: NaiveDateTime,
}

/// One page of the movements on a budget holder's allocations, oldest first. Authorise before
/// calling.
pub fn statement(conn: &mut Conn, holder: BudgetHolderId, request: PageRequest) -> DbResult<Page<StatementEntry>> {
    type Row = (i64, i64, String, Option<i64>, String, i64, i64, String, NaiveDateTime);
    let of_holder = || {
        ledger_entries::table
            .inner_join(allocations::table.on(allocations::id.eq(ledger_entries::allocation_id)))
            .filter(allocations::budget_holder_id.eq(holder.0))
    };
    let total: i64 = of_holder().count().get_result(conn)?;
    let rows: Vec<Row> = of_holder()
        .order(ledger_entries::id)
        .offset(request.offset())
        .limit(request.limit())
        .select((
            ledger_entries::id,
            ledger_entries::allocation_id,
            allocations::stream,
            ledger_entries::booking_id,
            ledger_entries::kind,
            ledger_entries::amount_pence,
            ledger_entries::balance_after_pence,
            ledger_entries::description,
            ledger_entries::created_at,
        ))
        .load(conn)?;
    let entries = rows
        .into_iter()
        .map(
            |(id, allocation, stream, booking, kind, amount, balance, description, at)| StatementEntry {
                id,
                allocation_id: AllocationId(allocation),
                stream,
                booking_id: booking.map(BookingId),
                kind: kind.parse().unwrap_or(LedgerKind::Booked),
                amount: SignedPence::from_stored(amount),
                balance_after: Pence::from_stored(balance),
                description,
                at,
            },
        )
        .collect();
    Ok(Page::new(entries, u64::try_from(total).unwrap_or(0), request))
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub allocations_checked: usize,
    pub sessions_checked: usize,
    pub invoice_lines_checked: usize,
    /// Each problem found, naming the allocation or session.
    pub problems: Vec<String>,
}

/// Rules 1, 2 and 3 for the whole database, in one consistent snapshot: every allocation's
/// balance against its ledger and the bookings holding its money, and every session's places
/// taken against the seats and offers holding them.
pub fn verify(conn: &mut Conn) -> DbResult<VerifyReport> {
    conn.transaction(|conn| {
        if let super::AnyConnection::Postgresql(_) = conn {
            // One snapshot for every read below, however busy the servers are.
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(conn)?;
        }
        let rows: Vec<(i64, i64, i64, i64, i64)> = allocations::table
            .select((
                allocations::id,
                allocations::amount_pence,
                allocations::committed_pence,
                allocations::admin_fee_pence,
                allocations::spent_pence,
            ))
            .order(allocations::id)
            .load(conn)?;
        // Summed here rather than in SQL: SUM(BIGINT) is NUMERIC on PostgreSQL, and exact i64 sums
        // are what we want on every backend.
        let mut ledger: HashMap<i64, (i64, i64, i64)> = HashMap::new();
        for (allocation, amount, spent, cash) in ledger_entries::table
            .select((
                ledger_entries::allocation_id,
                ledger_entries::amount_pence,
                ledger_entries::spent_change_pence,
                ledger_entries::cash_change_pence,
            ))
            .load::<(i64, i64, i64, i64)>(conn)?
        {
            let sums = ledger.entry(allocation).or_default();
            sums.0 += amount;
            sums.1 += spent;
            sums.2 += cash;
        }
        let mut problems = Vec::new();
        let lines = super::invoices::lines_for_verify(conn, &mut problems)?;
        let mut books: HashMap<i64, AllocationBooks> = HashMap::new();
        // What each delivered item holds: committed until its invoice is approved, spent after;
        // a credit note takes its amount out of whichever it was in.
        let mut hold = |allocation: i64, key: String, price: i64, problems: &mut Vec<String>| {
            let b = books.entry(allocation).or_default();
            match lines.get(&key) {
                None => b.held_by_bookings = add(b.held_by_bookings, price),
                Some(line) => {
                    if line.amount != price {
                        problems.push(format!(
                            "invoice line {}: charges {} for an item that costs {}",
                            line.id,
                            Pence::from_stored(line.amount),
                            Pence::from_stored(price)
                        ));
                    }
                    let left = line.amount - line.credited;
                    if line.status.approved() || line.status == InvoiceStatus::Credited {
                        b.spent_by_invoices = add(b.spent_by_invoices, left);
                    } else if line.status == InvoiceStatus::Draft {
                        b.held_by_bookings = add(b.held_by_bookings, price);
                    } else {
                        b.held_by_bookings = add(b.held_by_bookings, left);
                    }
                }
            }
        };
        for (booking, allocation, total) in bookings::table
            .filter(bookings::kind.eq(BookingKind::Quantity.as_str()))
            .filter(
                bookings::status.eq_any(
                    BookingStatus::ALL
                        .iter()
                        .filter(|s| s.holds_money())
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>(),
                ),
            )
            .select((bookings::id, bookings::allocation_id, bookings::total_pence))
            .load::<(i64, i64, i64)>(conn)?
        {
            hold(allocation, item_key(BookingId(booking), None), total, &mut problems);
        }
        // A booking of sessions holds the money of each seat that holds money.
        let holding: Vec<&str> = SeatStatus::ALL
            .iter()
            .filter(|s| s.holds_money())
            .map(|s| s.as_str())
            .collect();
        let mut holding_keys = std::collections::HashSet::new();
        for (booking, session, allocation, price) in booking_sessions::table
            .inner_join(bookings::table)
            .filter(booking_sessions::status.eq_any(&holding))
            .select((
                booking_sessions::booking_id,
                booking_sessions::session_id,
                bookings::allocation_id,
                booking_sessions::price_pence,
            ))
            .load::<(i64, i64, i64, i64)>(conn)?
        {
            let key = item_key(BookingId(booking), Some(SessionId(session)));
            holding_keys.insert(key.clone());
            hold(allocation, key, price, &mut problems);
        }
        for (key, line) in &lines {
            let quantity_booking = !key.contains('s');
            if !quantity_booking && !holding_keys.contains(key) && line.status != InvoiceStatus::Draft {
                problems.push(format!(
                    "invoice line {}: the session it charges for holds no money",
                    line.id
                ));
            }
        }
        for (allocation, status, amount) in dp_spending::table
            .select((
                dp_spending::allocation_id,
                dp_spending::status,
                dp_spending::amount_pence,
            ))
            .load::<(i64, String, i64)>(conn)?
        {
            let b = books.entry(allocation).or_default();
            if status == SpendingStatus::Accepted.as_str() {
                b.spent_by_spending = add(b.spent_by_spending, amount);
            } else {
                b.held_by_spending = add(b.held_by_spending, amount);
            }
        }
        let mut cash: HashMap<i64, i64> = HashMap::new();
        for (allocation, amount) in direct_payments::table
            .select((direct_payments::allocation_id, direct_payments::amount_pence))
            .load::<(i64, i64)>(conn)?
        {
            *cash.entry(allocation).or_default() += amount;
        }
        for (allocation, amount) in dp_recoveries::table
            .select((dp_recoveries::allocation_id, dp_recoveries::amount_pence))
            .load::<(i64, i64)>(conn)?
        {
            *cash.entry(allocation).or_default() -= amount;
        }
        for &(id, amount, committed, admin_fee, spent) in &rows {
            let (ledger_sum, ledger_spent, ledger_cash) = ledger.get(&id).copied().unwrap_or_default();
            let held = books.get(&id).copied().unwrap_or_default();
            let allocation_books = AllocationBooks {
                amount: Pence::from_stored(amount),
                committed: Pence::from_stored(committed),
                spent: Pence::from_stored(spent),
                admin_fee: Pence::from_stored(admin_fee),
                ledger_sum: SignedPence::from_stored(ledger_sum),
                ledger_spent_sum: SignedPence::from_stored(ledger_spent),
                ..held
            };
            problems.extend(
                reconcile(allocation_books)
                    .into_iter()
                    .map(|p| format!("allocation {id}: {p}")),
            );
            let paid_in = cash.get(&id).copied().unwrap_or(0);
            if ledger_cash != paid_in {
                problems.push(format!(
                    "allocation {id}: the ledger has {} paid in but the payments and recoveries add up to {}",
                    SignedPence::from_stored(ledger_cash),
                    SignedPence::from_stored(paid_in)
                ));
            }
        }
        let places = super::sessions::place_books(conn)?;
        for (session, taken, held) in &places {
            if i64::from(*taken) != *held {
                problems.push(format!(
                    "session {session}: {taken} places taken but {held} are held by bookings and offers"
                ));
            }
        }
        Ok(VerifyReport {
            allocations_checked: rows.len(),
            invoice_lines_checked: lines.len(),
            sessions_checked: places.len(),
            problems,
        })
    })
}

fn add(p: Pence, pence: i64) -> Pence {
    Pence::from_stored(p.pence() + pence)
}
