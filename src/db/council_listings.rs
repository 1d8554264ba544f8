//! Each council's Local Offer listing of a provider: listed, verified or suspended by that council.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::council_listings;
use super::{Conn, DbResult, now};
use crate::domain::listing::ListingStatus;
use crate::domain::{CouncilId, OrganisationId};

/// A council's listing: where the provider stands and whether this council ever verified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing {
    pub status: ListingStatus,
    pub verified: bool,
}

fn parse(status: &str) -> ListingStatus {
    // The CHECK constraint keeps statuses to the enum's words.
    status.parse().unwrap_or(ListingStatus::Listed)
}

/// The council's own listing of the provider, if it lists it.
pub fn of(conn: &mut Conn, council: CouncilId, organisation: OrganisationId) -> DbResult<Option<Listing>> {
    let row: Option<(String, Option<NaiveDateTime>)> = council_listings::table
        .filter(council_listings::council_id.eq(council.0))
        .filter(council_listings::organisation_id.eq(organisation.0))
        .select((council_listings::status, council_listings::verified_at))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(status, verified_at)| Listing {
        status: parse(&status),
        verified: verified_at.is_some(),
    }))
}

/// Store the council's listing as `status`, listing the provider if the council had not; the
/// moments it was verified and suspended are kept.
pub fn put(conn: &mut Conn, council: CouncilId, organisation: OrganisationId, status: ListingStatus) -> DbResult<()> {
    let at = now();
    let verified_at = (status == ListingStatus::Verified).then_some(at);
    let suspended_at = (status == ListingStatus::Suspended).then_some(at);
    let mine = || {
        council_listings::table
            .filter(council_listings::council_id.eq(council.0))
            .filter(council_listings::organisation_id.eq(organisation.0))
    };
    let changed = diesel::update(mine())
        .set((
            council_listings::status.eq(status.as_str()),
            council_listings::updated_at.eq(at),
        ))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(council_listings::table)
            .values((
                council_listings::council_id.eq(council.0),
                council_listings::organisation_id.eq(organisation.0),
                council_listings::status.eq(status.as_str()),
                council_listings::verified_at.eq(verified_at),
                council_listings::suspended_at.eq(suspended_at),
                council_listings::updated_at.eq(at),
            ))
            .execute(conn)?;
        return Ok(());
    }
    if let Some(at) = verified_at {
        diesel::update(mine())
            .set(council_listings::verified_at.eq(at))
            .execute(conn)?;
    }
    if let Some(at) = suspended_at {
        diesel::update(mine())
            .set(council_listings::suspended_at.eq(at))
            .execute(conn)?;
    }
    Ok(())
}

/// Every council's listing status of the provider.
pub fn statuses(conn: &mut Conn, organisation: OrganisationId) -> DbResult<Vec<ListingStatus>> {
    let rows: Vec<String> = council_listings::table
        .filter(council_listings::organisation_id.eq(organisation.0))
        .select(council_listings::status)
        .load(conn)?;
    Ok(rows.iter().map(|s| parse(s)).collect())
}

/// The council's listing status of each provider it lists.
pub fn of_council(conn: &mut Conn, council: CouncilId) -> DbResult<HashMap<OrganisationId, ListingStatus>> {
    let rows: Vec<(i64, String)> = council_listings::table
        .filter(council_listings::council_id.eq(council.0))
        .select((council_listings::organisation_id, council_listings::status))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(organisation, status)| (OrganisationId(organisation), parse(&status)))
        .collect())
}

/// The councils that suspended each of these providers (for the search index).
pub fn suspended_by(conn: &mut Conn, organisations: &[i64]) -> DbResult<HashMap<i64, Vec<i64>>> {
    let rows: Vec<(i64, i64)> = council_listings::table
        .filter(council_listings::organisation_id.eq_any(organisations))
        .filter(council_listings::status.eq(ListingStatus::Suspended.as_str()))
        .order(council_listings::council_id)
        .select((council_listings::organisation_id, council_listings::council_id))
        .load(conn)?;
    let mut by: HashMap<i64, Vec<i64>> = HashMap::new();
    for (organisation, council) in rows {
        by.entry(organisation).or_default().push(council);
    }
    Ok(by)
}

/// The providers a council suspended in its own Local Offer.
pub fn suspended_by_council(conn: &mut Conn, council: CouncilId) -> DbResult<Vec<i64>> {
    Ok(council_listings::table
        .filter(council_listings::council_id.eq(council.0))
        .filter(council_listings::status.eq(ListingStatus::Suspended.as_str()))
        .select(council_listings::organisation_id)
        .load(conn)?)
}
