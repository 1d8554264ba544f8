//! The append-only ledger of money movements, statements, and the whole-database check.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::bookings::BookingKind;
use super::schema::{allocations, booking_sessions, bookings, ledger_entries};
use super::{Conn, DbResult, now};
use crate::domain::booking::{BookingStatus, LedgerKind};
use crate::domain::budget::{AllocationBooks, reconcile};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::sessions::SeatStatus;
use crate::domain::{AllocationId, BookingId, BudgetHolderId, Pence, SignedPence};

pub struct Movement<'a> {
    pub allocation: AllocationId,
    pub booking: Option<BookingId>,
    pub kind: LedgerKind,
    pub amount: SignedPence,
    pub balance_after: Pence,
    pub description: &'a str,
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
        let rows: Vec<(i64, i64, i64, i64)> = allocations::table
            .select((
                allocations::id,
                allocations::amount_pence,
                allocations::committed_pence,
                allocations::admin_fee_pence,
            ))
            .order(allocations::id)
            .load(conn)?;
        // Summed here rather than in SQL: SUM(BIGINT) is NUMERIC on PostgreSQL, and exact i64 sums
        // are what we want on every backend.
        let mut ledger: HashMap<i64, i64> = HashMap::new();
        for (allocation, amount) in ledger_entries::table
            .select((ledger_entries::allocation_id, ledger_entries::amount_pence))
            .load::<(i64, i64)>(conn)?
        {
            *ledger.entry(allocation).or_default() += amount;
        }
        let mut held: HashMap<i64, i64> = HashMap::new();
        for (allocation, total) in bookings::table
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
            .select((bookings::allocation_id, bookings::total_pence))
            .load::<(i64, i64)>(conn)?
        {
            *held.entry(allocation).or_default() += total;
        }
        // A booking of sessions holds the money of each seat that holds money.
        let holding: Vec<&str> = SeatStatus::ALL
            .iter()
            .filter(|s| s.holds_money())
            .map(|s| s.as_str())
            .collect();
        for (allocation, price) in booking_sessions::table
            .inner_join(bookings::table)
            .filter(booking_sessions::status.eq_any(&holding))
            .select((bookings::allocation_id, booking_sessions::price_pence))
            .load::<(i64, i64)>(conn)?
        {
            *held.entry(allocation).or_default() += price;
        }
        let lookup = |v: &HashMap<i64, i64>, id: i64| v.get(&id).copied().unwrap_or(0);
        let mut problems = Vec::new();
        for &(id, amount, committed, admin_fee) in &rows {
            let books = AllocationBooks {
                amount: Pence::from_stored(amount),
                committed: Pence::from_stored(committed),
                admin_fee: Pence::from_stored(admin_fee),
                ledger_sum: SignedPence::from_stored(lookup(&ledger, id)),
                held_by_bookings: Pence::from_stored(lookup(&held, id)),
            };
            problems.extend(reconcile(books).into_iter().map(|p| format!("allocation {id}: {p}")));
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
            sessions_checked: places.len(),
            problems,
        })
    })
}
