//! Councils, their officers' accounts (bootstrapped from the command line) and their settings.

use diesel::prelude::*;

use super::schema::{council_settings, councils};
use super::users::{self, NewUser};
use super::{Conn, DbResult, now};
use crate::domain::council::CouncilSettings;
use crate::domain::personal_budget::Permissions;
use crate::domain::spending::AuditRule;
use crate::domain::{CouncilId, Pence, Role, UserId};

pub fn create(conn: &mut Conn, name: &str, email: &str, password_hash: &str) -> DbResult<(CouncilId, UserId)> {
    let council = diesel::insert_into(councils::table)
        .values((councils::name.eq(name), councils::created_at.eq(now())))
        .returning(councils::id)
        .get_result::<i64>(conn)?;
    let user = users::insert(
        conn,
        NewUser {
            email,
            password_hash,
            role: Role::Council,
            organisation_id: None,
            council_id: Some(CouncilId(council)),
        },
    )?;
    // A council's first officer can do everything, including giving others their permissions.
    users::set_permissions(conn, user, &Permissions::all())?;
    Ok((CouncilId(council), user))
}

pub fn name(conn: &mut Conn, id: CouncilId) -> DbResult<Option<String>> {
    Ok(councils::table
        .find(id.0)
        .select(councils::name)
        .get_result(conn)
        .optional()?)
}

/// A council's settings; the defaults when it never changed them.
pub fn settings(conn: &mut Conn, id: CouncilId) -> DbResult<CouncilSettings> {
    let stored: Option<(bool, String, chrono::NaiveDate, i64, i32)> = council_settings::table
        .find(id.0)
        .select((
            council_settings::unverified_bookable,
            council_settings::invoice_period,
            council_settings::period_anchor,
            council_settings::audit_over_pence,
            council_settings::audit_sample_percent,
        ))
        .get_result(conn)
        .optional()?;
    let defaults = CouncilSettings::default();
    Ok(stored.map_or(
        defaults,
        |(unverified_bookable, period, period_anchor, over, percent)| CouncilSettings {
            unverified_bookable,
            invoice_period: period.parse().unwrap_or(defaults.invoice_period),
            period_anchor,
            audit: AuditRule {
                over: Pence::from_stored(over),
                percent,
            },
        },
    ))
}

pub fn set_settings(conn: &mut Conn, id: CouncilId, settings: CouncilSettings) -> DbResult<()> {
    let changed = diesel::update(council_settings::table.find(id.0))
        .set((
            council_settings::unverified_bookable.eq(settings.unverified_bookable),
            council_settings::invoice_period.eq(settings.invoice_period.as_str()),
            council_settings::period_anchor.eq(settings.period_anchor),
            council_settings::audit_over_pence.eq(settings.audit.over.pence()),
            council_settings::audit_sample_percent.eq(settings.audit.percent),
            council_settings::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(council_settings::table)
            .values((
                council_settings::council_id.eq(id.0),
                council_settings::unverified_bookable.eq(settings.unverified_bookable),
                council_settings::invoice_period.eq(settings.invoice_period.as_str()),
                council_settings::period_anchor.eq(settings.period_anchor),
                council_settings::audit_over_pence.eq(settings.audit.over.pence()),
                council_settings::audit_sample_percent.eq(settings.audit.percent),
                council_settings::updated_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Every council, by id (the daily jobs go through them one by one).
pub fn ids(conn: &mut Conn) -> DbResult<Vec<CouncilId>> {
    use super::schema::councils;
    Ok(councils::table
        .order(councils::id)
        .select(councils::id)
        .load::<i64>(conn)?
        .into_iter()
        .map(CouncilId)
        .collect())
}
