//! Councils, their officers' accounts (bootstrapped from the command line) and their settings.

use diesel::prelude::*;

use super::schema::{council_settings, councils};
use super::users::{self, NewUser};
use super::{Conn, DbResult, now};
use crate::domain::council::CouncilSettings;
use crate::domain::{CouncilId, Role, UserId};

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
    let stored: Option<bool> = council_settings::table
        .find(id.0)
        .select(council_settings::unverified_bookable)
        .get_result(conn)
        .optional()?;
    Ok(
        stored.map_or_else(CouncilSettings::default, |unverified_bookable| CouncilSettings {
            unverified_bookable,
        }),
    )
}

pub fn set_settings(conn: &mut Conn, id: CouncilId, settings: CouncilSettings) -> DbResult<()> {
    let changed = diesel::update(council_settings::table.find(id.0))
        .set((
            council_settings::unverified_bookable.eq(settings.unverified_bookable),
            council_settings::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(council_settings::table)
            .values((
                council_settings::council_id.eq(id.0),
                council_settings::unverified_bookable.eq(settings.unverified_bookable),
                council_settings::updated_at.eq(now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}
