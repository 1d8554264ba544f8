//! What identifies this deployment to other systems.

use diesel::prelude::*;

use super::schema::site_identity;
use super::{Conn, DbError, DbResult};
use crate::domain::oruk::PublicIds;

/// The prefix of the UUIDs this deployment publishes (drawn at random by the migration).
pub fn public_ids(conn: &mut Conn) -> DbResult<PublicIds> {
    let prefix: String = site_identity::table
        .find(1)
        .select(site_identity::uuid_prefix)
        .get_result(conn)?;
    PublicIds::from_hex(&prefix)
        .ok_or_else(|| DbError::Open(format!("site_identity.uuid_prefix {prefix:?} is not twelve hex digits")))
}
