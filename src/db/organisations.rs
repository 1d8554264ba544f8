//! Provider and broker organisations.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::{organisations, services};
use super::users::Actor;
use super::users::{self, NewUser};
use super::{Conn, DbError, DbResult, now};
use crate::domain::organisation::ValidRegistration;
use crate::domain::{OrganisationId, OrganisationKind, OrganisationStatus, Role, UserId};

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
    let role = if o.kind == OrganisationKind::Broker {
        Role::Broker
    } else {
        Role::Provider
    };
    let user = users::insert(
        conn,
        NewUser {
            email: &reg.user.email,
            password_hash,
            role,
            organisation_id: Some(OrganisationId(id)),
            council_id: None,
        },
    )
    .map_err(|e| match e {
        DbError::Conflict { code, message, .. } => DbError::Conflict {
            code,
            message,
            field: Some("user.email".into()),
        },
        e => e,
    })?;
    Ok((OrganisationId(id), user))
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct OrganisationSummary {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct OrganisationView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charity_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub description: String,
    pub status: String,
}

pub fn get(conn: &mut Conn, id: OrganisationId) -> DbResult<OrganisationView> {
    organisations::table
        .find(id.0)
        .select((
            organisations::id,
            organisations::name,
            organisations::kind,
            organisations::charity_number,
            organisations::company_number,
            organisations::website,
            organisations::phone,
            organisations::email,
            organisations::description,
            organisations::status,
        ))
        .first(conn)
        .optional()?
        .ok_or(DbError::NotFound("organisation"))
}

pub fn kind(conn: &mut Conn, id: OrganisationId) -> DbResult<Option<OrganisationKind>> {
    let kind: Option<String> = organisations::table
        .find(id.0)
        .select(organisations::kind)
        .first(conn)
        .optional()?;
    Ok(kind.and_then(|k| k.parse().ok()))
}

/// Every organisation, for councils verifying providers (newest first).
pub fn list(conn: &mut Conn) -> DbResult<Vec<OrganisationView>> {
    Ok(organisations::table
        .order(organisations::id.desc())
        .limit(2000)
        .select((
            organisations::id,
            organisations::name,
            organisations::kind,
            organisations::charity_number,
            organisations::company_number,
            organisations::website,
            organisations::phone,
            organisations::email,
            organisations::description,
            organisations::status,
        ))
        .load(conn)?)
}

/// A council verifies, suspends or reinstates a provider. Its services' index entries follow.
pub fn set_status(conn: &mut Conn, actor: &Actor, id: OrganisationId, status: OrganisationStatus) -> DbResult<()> {
    if actor.role != Role::Council {
        return Err(DbError::forbidden("only a council can verify or suspend providers"));
    }
    let n = diesel::update(organisations::table.find(id.0))
        .set(organisations::status.eq(status.as_str()))
        .execute(conn)?;
    if n == 0 {
        return Err(DbError::NotFound("organisation"));
    }
    let ids: Vec<i64> = services::table
        .filter(services::organisation_id.eq(id.0))
        .select(services::id)
        .load(conn)?;
    for service in ids {
        super::services::record_change(conn, crate::domain::ServiceId(service))?;
    }
    Ok(())
}
