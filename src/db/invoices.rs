//! Invoices, their lines and credit notes.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::{credit_note_lines, credit_notes, invoice_lines, invoices};
use super::{Conn, DbResult};
use crate::domain::Pence;
use crate::domain::invoice::InvoiceStatus;

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
