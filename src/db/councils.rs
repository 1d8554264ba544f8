//! Councils and their officers' accounts (bootstrapped from the command line).

use diesel::prelude::*;

use super::schema::councils;
use super::users::{self, NewUser};
use super::{Conn, DbResult, now};
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
