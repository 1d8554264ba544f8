//! Provider and broker organisations.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::{budget_holders, council_listings, councils, organisations, services, users as user_rows};
use super::users::{self, NewUser};
use super::{Conn, DbError, DbResult, now};
use crate::domain::listing::ListingStatus;
use crate::domain::organisation::ValidRegistration;
use crate::domain::oruk::ImportedOrganisation;
use crate::domain::{CouncilId, OrganisationId, OrganisationKind, OrganisationStatus, UserId};

/// Store an organisation (unverified) and its first user. A taken email is a unique violation for
/// the caller to name.
pub fn register(conn: &mut Conn, reg: &ValidRegistration, password_hash: &str) -> DbResult<(OrganisationId, UserId)> {
    let o = &reg.organisation;
    let id = diesel::insert_into(organisations::table)
        .values((
            organisations::name.eq(&o.name),
            organisations::kind.eq(o.kind.as_str()),
            organisations::charity_number.eq(&o.charity_number),
            organisations::company_number.eq(&o.company_number),
            organisations::website.eq(&o.website),
            organisations::phone.eq(&o.phone),
            organisations::email.eq(&o.email),
            organisations::description.eq(&o.description),
            organisations::status.eq(OrganisationStatus::Unverified.as_str()),
            organisations::created_at.eq(now()),
        ))
        .returning(organisations::id)
        .get_result::<i64>(conn)?;
    let user = users::insert(
        conn,
        NewUser {
            email: &reg.user.email,
            password_hash,
            role: reg.role(),
            organisation_id: Some(OrganisationId(id)),
            council_id: None,
        },
    )?;
    Ok((OrganisationId(id), user))
}

#[derive(Debug, Clone, Queryable)]
pub struct OrganisationSummary {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organisations)]
pub struct OrganisationView {
    pub id: i64,
    pub name: String,
    /// Not stated for organisations imported from another directory.
    pub kind: Option<String>,
    pub charity_number: Option<String>,
    pub company_number: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub description: String,
    pub status: String,
}

pub fn get(conn: &mut Conn, id: OrganisationId) -> DbResult<OrganisationView> {
    organisations::table
        .find(id.0)
        .select(OrganisationView::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(DbError::NotFound("organisation"))
}

pub fn kind(conn: &mut Conn, id: OrganisationId) -> DbResult<Option<OrganisationKind>> {
    let kind: Option<Option<String>> = organisations::table
        .find(id.0)
        .select(organisations::kind)
        .get_result(conn)
        .optional()?;
    Ok(kind.flatten().and_then(|k| k.parse().ok()))
}

/// Every organisation, for councils verifying providers (newest first).
pub fn list(conn: &mut Conn) -> DbResult<Vec<OrganisationView>> {
    Ok(organisations::table
        .order(organisations::id.desc())
        .limit(2000)
        .select(OrganisationView::as_select())
        .load(conn)?)
}

/// Organisations the public directory shows (not brokers, not suspended), oldest first, for the
/// Open Referral feed: one page and the count of all.
pub fn listed(conn: &mut Conn, offset: i64, limit: i64) -> DbResult<(Vec<OrganisationView>, i64)> {
    let shown = || {
        organisations::table
            .filter(organisations::status.ne(OrganisationStatus::Suspended.as_str()))
            .filter(
                organisations::kind
                    .ne(OrganisationKind::Broker.as_str())
                    .or(organisations::kind.is_null()),
            )
    };
    let total = shown().count().get_result(conn)?;
    let page = shown()
        .order(organisations::id)
        .offset(offset)
        .limit(limit)
        .select(OrganisationView::as_select())
        .load(conn)?;
    Ok((page, total))
}

/// Add an organisation from another directory, or bring the one imported before up to date.
/// Its status (verified or not) is the council's business and is left as it is.
pub fn upsert_from_feed(conn: &mut Conn, feed: &str, o: &ImportedOrganisation) -> DbResult<OrganisationId> {
    let existing: Option<i64> = organisations::table
        .filter(organisations::feed.eq(feed))
        .filter(organisations::feed_id.eq(&o.feed_id))
        .select(organisations::id)
        .get_result(conn)
        .optional()?;
    let values = (
        organisations::name.eq(&o.name),
        organisations::description.eq(&o.description),
        organisations::website.eq(&o.website),
        organisations::email.eq(&o.email),
    );
    let id = match existing {
        Some(id) => {
            diesel::update(organisations::table.find(id))
                .set(values)
                .execute(conn)?;
            id
        }
        None => diesel::insert_into(organisations::table)
            .values((
                values,
                organisations::status.eq(OrganisationStatus::Unverified.as_str()),
                organisations::created_at.eq(now()),
                organisations::feed.eq(feed),
                organisations::feed_id.eq(&o.feed_id),
            ))
            .returning(organisations::id)
            .get_result::<i64>(conn)?,
    };
    Ok(OrganisationId(id))
}

/// Store a provider's status in the directory as a whole, as its councils' listings make it
/// (`listing::directory_status`). Its services' index entries follow.
pub fn set_directory_status(conn: &mut Conn, id: OrganisationId, status: OrganisationStatus) -> DbResult<()> {
    let n = diesel::update(organisations::table.find(id.0))
        .set(organisations::status.eq(status.as_str()))
        .execute(conn)?;
    if n == 0 {
        return Err(DbError::NotFound("organisation"));
    }
    // Their services change with them (they leave or rejoin the directory, or a council's
    // searches): readers syncing by `modified_after` must see that.
    diesel::update(services::table.filter(services::organisation_id.eq(id.0)))
        .set(services::updated_at.eq(now()))
        .execute(conn)?;
    let ids: Vec<i64> = services::table
        .filter(services::organisation_id.eq(id.0))
        .select(services::id)
        .load(conn)?;
    for service in ids {
        super::changes::record(conn, crate::domain::ServiceId(service))?;
    }
    Ok(())
}

/// Record the council that set up a broker organisation (its officers choose from their own).
pub fn set_council(conn: &mut Conn, id: OrganisationId, council: CouncilId) -> DbResult<()> {
    diesel::update(organisations::table.find(id.0))
        .set(organisations::council_id.eq(council.0))
        .execute(conn)?;
    Ok(())
}

/// A broker organisation of a council, its logins and how many of the council's plans it manages.
#[derive(Debug, Clone)]
pub struct BrokerView {
    pub id: OrganisationId,
    pub name: String,
    pub logins: Vec<String>,
    pub families: i64,
}

/// The broker organisations a council set up, by name.
pub fn brokers_of(conn: &mut Conn, council: CouncilId) -> DbResult<Vec<BrokerView>> {
    let rows: Vec<(i64, String)> = organisations::table
        .filter(organisations::kind.eq(OrganisationKind::Broker.as_str()))
        .filter(organisations::council_id.eq(council.0))
        .order((organisations::name, organisations::id))
        .select((organisations::id, organisations::name))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let logins: Vec<(Option<i64>, String)> = user_rows::table
        .filter(user_rows::organisation_id.eq_any(&ids))
        .order(user_rows::id)
        .select((user_rows::organisation_id, user_rows::email))
        .load(conn)?;
    let managed: Vec<Option<i64>> = budget_holders::table
        .filter(budget_holders::council_id.eq(council.0))
        .filter(budget_holders::broker_organisation_id.eq_any(&ids))
        .select(budget_holders::broker_organisation_id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| BrokerView {
            id: OrganisationId(id),
            name,
            logins: logins
                .iter()
                .filter(|(o, _)| *o == Some(id))
                .map(|(_, e)| e.clone())
                .collect(),
            families: managed.iter().filter(|b| **b == Some(id)).count() as i64,
        })
        .collect())
}

/// Who verified each of these organisations, for those verified: the name of every council whose
/// listing has it verified (", " between them), or only `council`'s when searching for one
/// council's families.
pub fn verifiers(
    conn: &mut Conn,
    ids: &[OrganisationId],
    council: Option<CouncilId>,
) -> DbResult<HashMap<OrganisationId, String>> {
    let ids: Vec<i64> = ids.iter().map(|o| o.0).collect();
    let mut q = council_listings::table
        .inner_join(councils::table)
        .filter(council_listings::organisation_id.eq_any(&ids))
        .filter(council_listings::status.eq(ListingStatus::Verified.as_str()))
        .into_boxed();
    if let Some(council) = council {
        q = q.filter(council_listings::council_id.eq(council.0));
    }
    let rows: Vec<(i64, String)> = q
        .order((councils::name, councils::id))
        .select((council_listings::organisation_id, councils::name))
        .load(conn)?;
    let mut names: HashMap<OrganisationId, String> = HashMap::new();
    for (id, name) in rows {
        names
            .entry(OrganisationId(id))
            .and_modify(|n| {
                n.push_str(", ");
                n.push_str(&name);
            })
            .or_insert(name);
    }
    Ok(names)
}

/// A provider's invoicing settings.
pub fn invoicing(conn: &mut Conn, id: OrganisationId) -> DbResult<crate::domain::payment_run::InvoicingSettings> {
    let (vat_number, vat_rate_bp, payment_terms_days) = organisations::table
        .find(id.0)
        .select((
            organisations::vat_number,
            organisations::vat_rate_bp,
            organisations::payment_terms_days,
        ))
        .get_result::<(Option<String>, i32, i32)>(conn)
        .optional()?
        .ok_or(DbError::NotFound("organisation"))?;
    Ok(crate::domain::payment_run::InvoicingSettings {
        vat_number,
        vat_rate_bp,
        payment_terms_days,
    })
}

pub fn set_invoicing(
    conn: &mut Conn,
    id: OrganisationId,
    s: &crate::domain::payment_run::InvoicingSettings,
) -> DbResult<()> {
    diesel::update(organisations::table.find(id.0))
        .set((
            organisations::vat_number.eq(&s.vat_number),
            organisations::vat_rate_bp.eq(s.vat_rate_bp),
            organisations::payment_terms_days.eq(s.payment_terms_days),
        ))
        .execute(conn)?;
    Ok(())
}

/// An organisation's name.
pub fn name(conn: &mut Conn, id: OrganisationId) -> DbResult<Option<String>> {
    Ok(organisations::table
        .find(id.0)
        .select(organisations::name)
        .get_result(conn)
        .optional()?)
}
