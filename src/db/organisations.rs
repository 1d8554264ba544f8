//! Provider and broker organisations.

use diesel::prelude::*;

use super::schema::{organisations, services};
use super::users::{self, NewUser};
use super::{Conn, DbError, DbResult, now};
use crate::domain::organisation::ValidRegistration;
use crate::domain::oruk::ImportedOrganisation;
use crate::domain::{OrganisationId, OrganisationKind, OrganisationStatus, UserId};

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

/// Set a provider's status (verified, suspended). Its services' index entries follow.
pub fn set_status(conn: &mut Conn, id: OrganisationId, status: OrganisationStatus) -> DbResult<()> {
    let n = diesel::update(organisations::table.find(id.0))
        .set(organisations::status.eq(status.as_str()))
        .execute(conn)?;
    if n == 0 {
        return Err(DbError::NotFound("organisation"));
    }
    // Their services change with them (they leave or rejoin the directory): readers syncing by
    // `modified_after` must see that.
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
