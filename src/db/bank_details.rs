//! Providers' bank details, sealed at rest: the account name, the provider's payment reference
//! and the account number's last four digits are plain; the sort code and account number are in
//! `sealed` (see `app::sealing`). This file stores and loads; it never sees the key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::bank_details;
use super::{Conn, DbError, DbResult, now};
use crate::domain::OrganisationId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bank_details)]
pub struct BankRow {
    pub organisation_id: i64,
    pub account_name: String,
    pub sealed: String,
    pub account_last_digits: String,
    pub payment_reference: String,
    pub updated_at: NaiveDateTime,
}

/// What is stored for one organisation.
pub struct NewBank<'a> {
    pub account_name: &'a str,
    pub sealed: &'a str,
    pub account_last_digits: &'a str,
    pub payment_reference: &'a str,
}

pub fn get(conn: &mut Conn, organisation: OrganisationId) -> DbResult<Option<BankRow>> {
    Ok(bank_details::table
        .find(organisation.0)
        .select(BankRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The bank details of several organisations.
pub fn of_organisations(conn: &mut Conn, organisations: &[i64]) -> DbResult<Vec<BankRow>> {
    Ok(bank_details::table
        .filter(bank_details::organisation_id.eq_any(organisations))
        .select(BankRow::as_select())
        .load(conn)?)
}

fn update(conn: &mut Conn, organisation: OrganisationId, b: &NewBank<'_>, at: NaiveDateTime) -> DbResult<bool> {
    let changed = diesel::update(bank_details::table.find(organisation.0))
        .set((
            bank_details::account_name.eq(b.account_name),
            bank_details::sealed.eq(b.sealed),
            bank_details::account_last_digits.eq(b.account_last_digits),
            bank_details::payment_reference.eq(b.payment_reference),
            bank_details::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Replace an organisation's bank details (or set them the first time). Two first times at once
/// meet on the primary key: the loser's insert runs in a savepoint and becomes an update.
pub fn put(conn: &mut Conn, organisation: OrganisationId, b: &NewBank<'_>) -> DbResult<()> {
    let at = now();
    if update(conn, organisation, b, at)? {
        return Ok(());
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(bank_details::table)
            .values((
                bank_details::organisation_id.eq(organisation.0),
                bank_details::account_name.eq(b.account_name),
                bank_details::sealed.eq(b.sealed),
                bank_details::account_last_digits.eq(b.account_last_digits),
                bank_details::payment_reference.eq(b.payment_reference),
                bank_details::updated_at.eq(at),
            ))
            .execute(conn)
    });
    match inserted.map_err(DbError::from) {
        Ok(_) => Ok(()),
        Err(e) if e.is_unique_violation() => update(conn, organisation, b, at).map(|_| ()),
        Err(e) => Err(e),
    }
}

/// Every sealed value (a few per provider at most): start-up checks the key they were sealed with.
pub fn all_sealed(conn: &mut Conn) -> DbResult<Vec<String>> {
    Ok(bank_details::table.select(bank_details::sealed).load(conn)?)
}
