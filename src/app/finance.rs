//! Providers' invoicing settings and bank details. Bank details are sealed with the data key
//! before they reach the database and are shown masked; only a payment run's CSV, for the
//! council's finance system, carries the numbers in full.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::sealing::{DataKey, SealError};
use super::{App, AppError, AppResult};
use crate::db::bank_details::{self, BankRow, NewBank};
use crate::db::organisations;
use crate::domain::payment_run::{
    BankDetails, BankDetailsInput, InvoicingInput, InvoicingSettings, last_digits, mask_account_number, mask_sort_code,
};
use crate::domain::{Actor, OrganisationId};

/// Bank details as anyone but the council's finance system sees them.
#[derive(Debug, Clone)]
pub struct MaskedBank {
    pub account_name: String,
    /// `**-**-56`.
    pub sort_code: String,
    /// `****1234`.
    pub account_number: String,
    pub payment_reference: String,
    pub updated_at: NaiveDateTime,
}

/// A provider's invoicing settings with its bank details, masked.
#[derive(Debug, Clone)]
pub struct Invoicing {
    pub organisation_id: OrganisationId,
    pub settings: InvoicingSettings,
    pub bank: Option<MaskedBank>,
}

/// What is sealed: the two numbers.
#[derive(Serialize, Deserialize)]
struct SealedNumbers {
    sort_code: String,
    account_number: String,
}

/// The associated data binding a sealed value to its row: moved to another organisation's row,
/// it does not open.
fn bank_aad(organisation: OrganisationId) -> Vec<u8> {
    format!("bank_details:organisation:{}", organisation.0).into_bytes()
}

/// Bank details that cannot be opened: said plainly (to the provider: enter them again; to the
/// operator, in the log: which key and why).
pub(crate) fn unreadable(organisation: OrganisationId, e: &SealError) -> AppError {
    log_unreadable(organisation, e);
    AppError::conflict(
        "bank_details_unreadable",
        format!(
            "the bank details of organisation {organisation} cannot be opened ({e}); the provider must enter them again"
        ),
        None,
    )
}

/// Say in the operator's log which bank details do not open, and why.
pub(crate) fn log_unreadable(organisation: OrganisationId, e: &SealError) {
    tracing::error!(organisation = organisation.0, error = %e, "bank details do not open");
}

/// Open a row's sealed numbers.
pub(crate) fn open(key: &DataKey, row: &BankRow) -> Result<BankDetails, SealError> {
    let organisation = OrganisationId(row.organisation_id);
    let plain = key.open(&bank_aad(organisation), &row.sealed)?;
    let numbers: SealedNumbers = serde_json::from_slice(&plain).map_err(|_| SealError::Malformed)?;
    Ok(BankDetails {
        account_name: row.account_name.clone(),
        sort_code: numbers.sort_code,
        account_number: numbers.account_number,
        payment_reference: row.payment_reference.clone(),
    })
}

fn masked(key: &DataKey, row: &BankRow) -> AppResult<MaskedBank> {
    let organisation = OrganisationId(row.organisation_id);
    let open = open(key, row).map_err(|e| unreadable(organisation, &e))?;
    Ok(MaskedBank {
        account_name: open.account_name,
        sort_code: mask_sort_code(&open.sort_code),
        account_number: mask_account_number(&open.account_number),
        payment_reference: open.payment_reference,
        updated_at: row.updated_at,
    })
}

fn provider(actor: &Actor) -> AppResult<OrganisationId> {
    actor.provider().ok_or_else(|| AppError::wrong_role(actor))
}

fn load(conn: &mut crate::db::Conn, key: &DataKey, organisation: OrganisationId) -> AppResult<Invoicing> {
    let settings = organisations::invoicing(conn, organisation)?;
    let bank = match bank_details::get(conn, organisation)? {
        Some(row) => Some(masked(key, &row)?),
        None => None,
    };
    Ok(Invoicing {
        organisation_id: organisation,
        settings,
        bank,
    })
}

/// The provider's invoicing settings and masked bank details.
pub async fn invoicing(app: &App, actor: &Actor) -> AppResult<Invoicing> {
    let organisation = provider(actor)?;
    let key = app.data_key()?;
    app.read(move |conn| load(conn, &key, organisation)).await
}

/// Change the settings the input names; the rest keep their values.
pub async fn change_invoicing(app: &App, actor: &Actor, input: InvoicingInput) -> AppResult<Invoicing> {
    let organisation = provider(actor)?;
    let key = app.data_key()?;
    app.write(move |conn| {
        let settings = input.apply(&organisations::invoicing(conn, organisation)?)?;
        organisations::set_invoicing(conn, organisation, &settings)?;
        load(conn, &key, organisation)
    })
    .await
}

/// The provider's bank details, masked; 404 when it has given none.
pub async fn bank(app: &App, actor: &Actor) -> AppResult<MaskedBank> {
    let organisation = provider(actor)?;
    let key = app.data_key()?;
    app.read(move |conn| {
        let row = bank_details::get(conn, organisation)?.ok_or_else(|| AppError::not_found("bank details"))?;
        masked(&key, &row)
    })
    .await
}

/// Set (or replace) the provider's bank details: the numbers sealed, the answer masked.
pub async fn set_bank(app: &App, actor: &Actor, input: BankDetailsInput) -> AppResult<MaskedBank> {
    let key = app.data_key()?;
    let actor = actor.clone();
    app.write(move |conn| set_bank_in(conn, &key, &actor, &input)).await
}

/// Seal and store a provider's bank details inside the caller's transaction (the demo loader's
/// too), answering them masked.
pub(crate) fn set_bank_in(
    conn: &mut crate::db::Conn,
    key: &DataKey,
    actor: &Actor,
    input: &BankDetailsInput,
) -> AppResult<MaskedBank> {
    let organisation = provider(actor)?;
    let valid = input.validate()?;
    let numbers = serde_json::to_vec(&SealedNumbers {
        sort_code: valid.sort_code.clone(),
        account_number: valid.account_number.clone(),
    })
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let sealed = key.seal(&bank_aad(organisation), &numbers);
    bank_details::put(
        conn,
        organisation,
        &NewBank {
            account_name: &valid.account_name,
            sealed: &sealed,
            account_last_digits: &last_digits(&valid.account_number),
            payment_reference: &valid.payment_reference,
        },
    )?;
    // Changed bank details are how invoice fraud starts: who and when, never the numbers.
    tracing::info!(
        organisation = organisation.0,
        user = actor.user_id.0,
        "bank details changed"
    );
    let row = bank_details::get(conn, organisation)?.ok_or_else(|| AppError::not_found("bank details"))?;
    masked(key, &row)
}

/// Start-up: bank details sealed with another key mean this server was given the wrong data key
/// file. None of them ours: refuse to start (it could open nothing and would seal new details
/// no other server can open). Some: say so loudly.
pub fn check_key(db: &crate::db::Db, key: &DataKey) -> Result<(), String> {
    let sealed = db.read(bank_details::all_sealed).map_err(|e| e.to_string())?;
    let ours = sealed
        .iter()
        .filter(|s| super::sealing::sealed_key_id(s) == Some(key.id()))
        .count();
    let others = sealed.len() - ours;
    match (ours, others) {
        (_, 0) => Ok(()),
        (0, n) => Err(format!(
            "the {n} bank details in this database were sealed with another data key than this server's ({}): \
             start every server with the same --data-key-file",
            key.id()
        )),
        (_, n) => {
            tracing::error!(
                others = n,
                key_id = key.id(),
                "some bank details were sealed with another data key: a server ran with the wrong --data-key-file; those providers must enter them again"
            );
            Ok(())
        }
    }
}
