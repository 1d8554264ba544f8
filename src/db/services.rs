//! Services, their taxonomy terms, funding streams and price options.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::organisations::OrganisationSummary;
use super::schema::{organisations, price_options, service_sessions, service_streams, service_terms, services};
use super::{Conn, DbResult, changes, now};
use crate::domain::booking::Offer;
use crate::domain::fcr::{FcrBreakdown, FcrInput, Occupancy};
use crate::domain::geo::Coordinates;
use crate::domain::listing::{self, ListingStatus};
use crate::domain::oruk::ImportedService;
use crate::domain::service::{Day, Listing, Location, Session, ValidPriceOption, ValidService};
use crate::domain::sessions::{Policy, SessionPolicy};
use crate::domain::taxonomy::{TermId, Vocabulary};
use crate::domain::{
    CouncilId, OrganisationId, OrganisationStatus, Pence, PriceOptionId, ServiceId, ServiceStatus, Stream, Unit,
};

#[derive(Debug, Clone)]
pub struct PriceOptionView {
    pub id: PriceOptionId,
    pub label: String,
    pub unit: Unit,
    pub price: Pence,
    pub fcr: Option<FcrBreakdown>,
}

#[derive(Debug, Clone)]
pub struct ServiceView {
    pub id: ServiceId,
    pub organisation: OrganisationSummary,
    pub name: String,
    pub description: String,
    pub outcomes: Vec<String>,
    pub service_types: Vec<String>,
    pub needs: Vec<String>,
    pub min_age: i32,
    pub max_age: i32,
    /// False for a service imported from a feed that gave no ages: then `min_age` to `max_age`
    /// is the whole Local Offer range, which the feed never claimed.
    pub ages_stated: bool,
    pub funding_streams: Vec<Stream>,
    /// None for a service imported from a directory that did not say where it happens.
    pub location: Option<Location>,
    pub reach_miles: Option<f64>,
    /// Not stated for imported services.
    pub capacity: Option<i32>,
    pub schedule: Vec<Session>,
    pub status: ServiceStatus,
    pub price_options: Vec<PriceOptionView>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub policy: SessionPolicy,
    /// The council that verified the provider, while it is verified.
    pub verified_by: Option<String>,
}

#[derive(Queryable)]
struct ServiceRow {
    id: i64,
    organisation_id: i64,
    organisation_name: String,
    name: String,
    description: String,
    min_age: i32,
    max_age: i32,
    ages_stated: bool,
    postcode: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    address: Option<String>,
    reach_miles: Option<f64>,
    capacity: Option<i32>,
    status: String,
    url: Option<String>,
    email: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    policy: PolicyRow,
}

#[derive(Queryable)]
struct PolicyRow {
    cancellation_notice_hours: i32,
    offer_window_hours: i32,
    late_cancellation: String,
    absence: String,
}

impl From<PolicyRow> for SessionPolicy {
    fn from(r: PolicyRow) -> SessionPolicy {
        // The CHECK constraints keep the words to the enum's.
        SessionPolicy {
            cancellation_notice_hours: r.cancellation_notice_hours,
            offer_window_hours: r.offer_window_hours,
            late_cancellation: r.late_cancellation.parse().unwrap_or(Policy::Charged),
            absence: r.absence.parse().unwrap_or(Policy::Charged),
        }
    }
}

macro_rules! policy_columns {
    () => {
        (
            services::cancellation_notice_hours,
            services::offer_window_hours,
            services::late_cancellation,
            services::absence,
        )
    };
}

/// How a service's sessions are run.
pub fn policy(conn: &mut Conn, id: ServiceId) -> DbResult<Option<SessionPolicy>> {
    Ok(services::table
        .find(id.0)
        .select(policy_columns!())
        .get_result::<PolicyRow>(conn)
        .optional()?
        .map(Into::into))
}

#[derive(Queryable)]
struct PriceOptionRow {
    id: i64,
    label: String,
    unit: String,
    price_pence: i64,
    fcr_annual_direct_pence: Option<i64>,
    fcr_annual_overheads_pence: Option<i64>,
    fcr_units_per_year: Option<i64>,
    fcr_occupancy_bp: Option<i32>,
}

impl PriceOptionRow {
    fn view(self) -> PriceOptionView {
        let fcr = match (
            self.fcr_annual_direct_pence,
            self.fcr_annual_overheads_pence,
            self.fcr_units_per_year,
            self.fcr_occupancy_bp,
        ) {
            (Some(direct), Some(overheads), Some(units), Some(bp)) => {
                Occupancy::from_basis_points(bp).and_then(|occupancy| {
                    FcrInput {
                        annual_direct_costs: Pence::from_stored(direct),
                        annual_overheads: Pence::from_stored(overheads),
                        units_per_year: units,
                        occupancy,
                    }
                    .calculate()
                    .ok()
                })
            }
            _ => None,
        };
        PriceOptionView {
            id: PriceOptionId(self.id),
            label: self.label,
            unit: self.unit.parse().unwrap_or(Unit::Session),
            price: Pence::from_stored(self.price_pence),
            fcr,
        }
    }
}

/// What a service lists besides its own columns.
struct Children<'a> {
    outcomes: &'a [TermId],
    service_types: &'a [TermId],
    needs: &'a [TermId],
    funding_streams: &'a [Stream],
    schedule: &'a [Session],
}

impl<'a> From<&'a ValidService> for Children<'a> {
    fn from(s: &'a ValidService) -> Children<'a> {
        Children {
            outcomes: &s.outcomes,
            service_types: &s.service_types,
            needs: &s.needs,
            funding_streams: &s.funding_streams,
            schedule: &s.schedule,
        }
    }
}

fn insert_children(conn: &mut Conn, id: ServiceId, s: Children<'_>) -> DbResult<()> {
    diesel::delete(service_terms::table.filter(service_terms::service_id.eq(id.0))).execute(conn)?;
    diesel::delete(service_streams::table.filter(service_streams::service_id.eq(id.0))).execute(conn)?;
    let terms: Vec<_> = [
        (Vocabulary::Outcome, s.outcomes),
        (Vocabulary::ServiceType, s.service_types),
        (Vocabulary::Need, s.needs),
    ]
    .into_iter()
    .flat_map(|(vocabulary, ids)| {
        ids.iter().map(move |t| {
            (
                service_terms::service_id.eq(id.0),
                service_terms::term_id.eq(t.0.clone()),
                service_terms::vocabulary.eq(vocabulary.as_str()),
            )
        })
    })
    .collect();
    // One row at a time: multi-row VALUES is not available across backends.
    for row in terms {
        diesel::insert_into(service_terms::table).values(row).execute(conn)?;
    }
    let streams: Vec<_> = s
        .funding_streams
        .iter()
        .map(|st| {
            (
                service_streams::service_id.eq(id.0),
                service_streams::stream.eq(st.as_str()),
            )
        })
        .collect();
    // One row at a time: multi-row VALUES is not available across backends.
    for row in streams {
        diesel::insert_into(service_streams::table).values(row).execute(conn)?;
    }
    diesel::delete(service_sessions::table.filter(service_sessions::service_id.eq(id.0))).execute(conn)?;
    let sessions: Vec<_> = s
        .schedule
        .iter()
        .enumerate()
        .map(|(i, session)| {
            (
                service_sessions::service_id.eq(id.0),
                service_sessions::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
                service_sessions::day.eq(session.day.as_str()),
                service_sessions::starts.eq(session.starts.clone()),
                service_sessions::ends.eq(session.ends.clone()),
            )
        })
        .collect();
    // One row at a time: multi-row VALUES is not available across backends.
    for row in sessions {
        diesel::insert_into(service_sessions::table).values(row).execute(conn)?;
    }
    Ok(())
}

type PriceOptionValues = (
    diesel::dsl::Eq<price_options::position, i32>,
    diesel::dsl::Eq<price_options::label, String>,
    diesel::dsl::Eq<price_options::unit, &'static str>,
    diesel::dsl::Eq<price_options::price_pence, i64>,
    diesel::dsl::Eq<price_options::fcr_annual_direct_pence, Option<i64>>,
    diesel::dsl::Eq<price_options::fcr_annual_overheads_pence, Option<i64>>,
    diesel::dsl::Eq<price_options::fcr_units_per_year, Option<i64>>,
    diesel::dsl::Eq<price_options::fcr_occupancy_bp, Option<i32>>,
    diesel::dsl::Eq<price_options::fcr_full_cost_pence, Option<i64>>,
    diesel::dsl::Eq<price_options::active, bool>,
);

fn price_option_values(position: usize, o: &ValidPriceOption) -> PriceOptionValues {
    let fcr = o.fcr.as_ref();
    (
        price_options::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
        price_options::label.eq(o.label.clone()),
        price_options::unit.eq(o.unit.as_str()),
        price_options::price_pence.eq(o.price.pence()),
        price_options::fcr_annual_direct_pence.eq(fcr.map(|f| f.annual_direct_costs.pence())),
        price_options::fcr_annual_overheads_pence.eq(fcr.map(|f| f.annual_overheads.pence())),
        price_options::fcr_units_per_year.eq(fcr.map(|f| f.units_per_year)),
        price_options::fcr_occupancy_bp.eq(fcr.map(|f| f.occupancy.basis_points())),
        price_options::fcr_full_cost_pence.eq(fcr.map(|f| f.full_cost_per_unit.pence())),
        price_options::active.eq(true),
    )
}

type ServiceValues<'a> = (
    (
        diesel::dsl::Eq<services::cancellation_notice_hours, i32>,
        diesel::dsl::Eq<services::offer_window_hours, i32>,
        diesel::dsl::Eq<services::late_cancellation, &'static str>,
        diesel::dsl::Eq<services::absence, &'static str>,
    ),
    diesel::dsl::Eq<services::name, &'a String>,
    diesel::dsl::Eq<services::description, &'a String>,
    diesel::dsl::Eq<services::min_age, i32>,
    diesel::dsl::Eq<services::max_age, i32>,
    diesel::dsl::Eq<services::ages_stated, bool>,
    diesel::dsl::Eq<services::postcode, &'a Option<String>>,
    diesel::dsl::Eq<services::lat, Option<f64>>,
    diesel::dsl::Eq<services::lon, Option<f64>>,
    diesel::dsl::Eq<services::address, &'a Option<String>>,
    diesel::dsl::Eq<services::reach_miles, Option<f64>>,
    diesel::dsl::Eq<services::capacity, Option<i32>>,
    diesel::dsl::Eq<services::status, &'static str>,
);

/// A service's own columns, written the same way on create and on update.
fn service_values(s: &ValidService) -> ServiceValues<'_> {
    (
        (
            services::cancellation_notice_hours.eq(s.policy.cancellation_notice_hours),
            services::offer_window_hours.eq(s.policy.offer_window_hours),
            services::late_cancellation.eq(s.policy.late_cancellation.as_str()),
            services::absence.eq(s.policy.absence.as_str()),
        ),
        services::name.eq(&s.name),
        services::description.eq(&s.description),
        services::min_age.eq(s.min_age),
        services::max_age.eq(s.max_age),
        services::ages_stated.eq(true),
        services::postcode.eq(&s.location.postcode),
        services::lat.eq(Some(s.location.lat)),
        services::lon.eq(Some(s.location.lon)),
        services::address.eq(&s.location.address),
        services::reach_miles.eq(s.reach_miles),
        services::capacity.eq(s.capacity),
        services::status.eq(s.status.as_str()),
    )
}

pub fn create(conn: &mut Conn, organisation: OrganisationId, s: &ValidService) -> DbResult<ServiceId> {
    let at = now();
    let id = diesel::insert_into(services::table)
        .values((
            services::organisation_id.eq(organisation.0),
            service_values(s),
            services::created_at.eq(at),
            services::updated_at.eq(at),
        ))
        .returning(services::id)
        .get_result::<i64>(conn)?;
    let id = ServiceId(id);
    insert_children(conn, id, s.into())?;
    changes::record(conn, id)?;
    for (position, option) in s.price_options.iter().enumerate() {
        diesel::insert_into(price_options::table)
            .values((
                price_options::service_id.eq(id.0),
                price_option_values(position, option),
            ))
            .execute(conn)?;
    }
    Ok(id)
}

/// The organisation that lists a service; None for an unknown service.
pub fn owner(conn: &mut Conn, id: ServiceId) -> DbResult<Option<OrganisationId>> {
    Ok(services::table
        .find(id.0)
        .select(services::organisation_id)
        .get_result::<i64>(conn)
        .optional()?
        .map(OrganisationId))
}

/// The ids of a service's price options still on offer.
pub fn option_ids(conn: &mut Conn, id: ServiceId) -> DbResult<Vec<PriceOptionId>> {
    Ok(price_options::table
        .filter(price_options::service_id.eq(id.0))
        .select(price_options::id)
        .load::<i64>(conn)?
        .into_iter()
        .map(PriceOptionId)
        .collect())
}

/// Replace a service's details and re-price it. The caller has checked that every option id sent
/// is one of this service's.
pub fn update(conn: &mut Conn, id: ServiceId, s: &ValidService) -> DbResult<()> {
    diesel::update(services::table.find(id.0))
        .set((service_values(s), services::updated_at.eq(now())))
        .execute(conn)?;
    insert_children(conn, id, s.into())?;
    changes::record(conn, id)?;
    replace_price_options(conn, id, &s.price_options)
}

/// Options with an `id` are re-priced in place; new ones are added; existing ones left out are
/// retired (kept for the bookings that point at them).
fn replace_price_options(conn: &mut Conn, id: ServiceId, options: &[ValidPriceOption]) -> DbResult<()> {
    diesel::update(price_options::table.filter(price_options::service_id.eq(id.0)))
        .set(price_options::active.eq(false))
        .execute(conn)?;
    for (position, option) in options.iter().enumerate() {
        match option.id {
            Some(option_id) => {
                diesel::update(price_options::table.find(option_id.0))
                    .set(price_option_values(position, option))
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(price_options::table)
                    .values((
                        price_options::service_id.eq(id.0),
                        price_option_values(position, option),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// What an import did to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created(ServiceId),
    Updated(ServiceId),
    /// The feed says what it said last time: nothing written, so `last_modified` stays true.
    Unchanged(ServiceId),
}

/// Add a service from another directory, or bring the one imported before (same feed and id)
/// up to date. Its cost options keep their ids by position, so a re-import does not churn them.
/// `fingerprint` stands for everything the record says; when it is what was stored last time,
/// nothing is written.
pub fn upsert_from_feed(
    conn: &mut Conn,
    feed: &str,
    organisation: OrganisationId,
    s: &ImportedService,
    location: Option<&Location>,
    fingerprint: &str,
) -> DbResult<Upserted> {
    let stored: Option<(i64, i64, Option<String>)> = services::table
        .filter(services::feed.eq(feed))
        .filter(services::feed_id.eq(&s.feed_id))
        .select((services::id, services::organisation_id, services::feed_hash))
        .get_result(conn)
        .optional()?;
    if let Some((id, _, _)) = stored
        .as_ref()
        .filter(|(_, org, hash)| *org == organisation.0 && hash.as_deref() == Some(fingerprint))
    {
        return Ok(Upserted::Unchanged(ServiceId(*id)));
    }
    let existing = stored.map(|(id, _, _)| id);
    let at = now();
    let values = (
        services::organisation_id.eq(organisation.0),
        services::name.eq(&s.name),
        services::description.eq(&s.description),
        services::min_age.eq(s.min_age),
        services::max_age.eq(s.max_age),
        services::ages_stated.eq(s.ages_stated),
        services::postcode.eq(location.and_then(|l| l.postcode.clone())),
        services::lat.eq(location.map(|l| l.lat)),
        services::lon.eq(location.map(|l| l.lon)),
        services::address.eq(location.and_then(|l| l.address.clone())),
        services::url.eq(&s.url),
        services::email.eq(&s.email),
        services::status.eq(s.status.as_str()),
        services::updated_at.eq(at),
        services::feed_hash.eq(fingerprint),
    );
    let upserted = match existing {
        Some(id) => {
            diesel::update(services::table.find(id)).set(values).execute(conn)?;
            Upserted::Updated(ServiceId(id))
        }
        None => Upserted::Created(ServiceId(
            diesel::insert_into(services::table)
                .values((
                    values,
                    services::created_at.eq(at),
                    services::feed.eq(feed),
                    services::feed_id.eq(&s.feed_id),
                ))
                .returning(services::id)
                .get_result::<i64>(conn)?,
        )),
    };
    let (Upserted::Created(id) | Upserted::Updated(id) | Upserted::Unchanged(id)) = upserted;
    insert_children(
        conn,
        id,
        Children {
            outcomes: &s.outcomes,
            service_types: &s.service_types,
            needs: &s.needs,
            funding_streams: &[],
            schedule: &[],
        },
    )?;
    let current: Vec<i64> = price_options::table
        .filter(price_options::service_id.eq(id.0))
        .filter(price_options::active.eq(true))
        .order(price_options::position)
        .select(price_options::id)
        .load(conn)?;
    let options: Vec<ValidPriceOption> = s
        .price_options
        .iter()
        .enumerate()
        .map(|(i, o)| ValidPriceOption {
            id: current.get(i).copied().map(PriceOptionId),
            ..o.clone()
        })
        .collect();
    replace_price_options(conn, id, &options)?;
    changes::record(conn, id)?;
    Ok(upserted)
}

/// After a whole feed has been read: its services that it no longer lists leave the directory
/// (unpublished, kept for the record). Returns how many.
pub fn withdraw_missing_from_feed(conn: &mut Conn, feed: &str, listed: &HashSet<String>) -> DbResult<usize> {
    let published: Vec<(i64, Option<String>)> = services::table
        .filter(services::feed.eq(feed))
        .filter(services::status.eq(ServiceStatus::Published.as_str()))
        .select((services::id, services::feed_id))
        .load(conn)?;
    let mut withdrawn = 0;
    for (id, feed_id) in published {
        if feed_id.is_some_and(|f| listed.contains(&f)) {
            continue;
        }
        diesel::update(services::table.find(id))
            .set((
                services::status.eq(ServiceStatus::Unpublished.as_str()),
                services::updated_at.eq(now()),
                services::feed_hash.eq(None::<String>),
            ))
            .execute(conn)?;
        changes::record(conn, ServiceId(id))?;
        withdrawn += 1;
    }
    Ok(withdrawn)
}

pub fn set_status(conn: &mut Conn, id: ServiceId, status: ServiceStatus) -> DbResult<()> {
    diesel::update(services::table.find(id.0))
        .set((services::status.eq(status.as_str()), services::updated_at.eq(now())))
        .execute(conn)?;
    changes::record(conn, id)?;
    Ok(())
}

/// A service's name, whatever its status.
pub fn name(conn: &mut Conn, id: ServiceId) -> DbResult<Option<String>> {
    Ok(services::table
        .find(id.0)
        .select(services::name)
        .get_result(conn)
        .optional()?)
}

/// Whether anyone at an organisation has confirmed their email (its services may be published).
pub fn organisation_confirmed(conn: &mut Conn, organisation: OrganisationId) -> DbResult<bool> {
    use super::schema::users;
    let confirmed: i64 = users::table
        .filter(users::organisation_id.eq(organisation.0))
        .filter(users::email_confirmed_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(confirmed > 0)
}

/// After a provider saved a service: a service published by an organisation that has not
/// confirmed its email is held as a draft, to be published on confirmation; any other save
/// clears the hold. True when it was held.
pub fn settle_publication(conn: &mut Conn, id: ServiceId, organisation: OrganisationId) -> DbResult<bool> {
    let status: String = services::table.find(id.0).select(services::status).get_result(conn)?;
    let hold = status == ServiceStatus::Published.as_str() && !organisation_confirmed(conn, organisation)?;
    if hold {
        diesel::update(services::table.find(id.0))
            .set((
                services::status.eq(ServiceStatus::Draft.as_str()),
                services::publish_on_confirm.eq(true),
            ))
            .execute(conn)?;
        changes::record(conn, id)?;
    } else {
        diesel::update(services::table.find(id.0))
            .set(services::publish_on_confirm.eq(false))
            .execute(conn)?;
    }
    Ok(hold)
}

/// The organisation confirmed its email: the services it asked to publish are published.
pub fn publish_held(conn: &mut Conn, organisation: OrganisationId) -> DbResult<Vec<ServiceId>> {
    let held: Vec<i64> = services::table
        .filter(services::organisation_id.eq(organisation.0))
        .filter(services::publish_on_confirm.eq(true))
        .select(services::id)
        .load(conn)?;
    for id in &held {
        diesel::update(services::table.find(id))
            .set((
                services::status.eq(ServiceStatus::Published.as_str()),
                services::publish_on_confirm.eq(false),
                services::updated_at.eq(now()),
            ))
            .execute(conn)?;
        changes::record(conn, ServiceId(*id))?;
    }
    Ok(held.into_iter().map(ServiceId).collect())
}

/// Load a service, whatever its status: who may see it is the caller's question.
pub fn get(conn: &mut Conn, id: ServiceId) -> DbResult<Option<ServiceView>> {
    let row: Option<ServiceRow> = services::table
        .inner_join(organisations::table)
        .filter(services::id.eq(id.0))
        .select((
            services::id,
            services::organisation_id,
            organisations::name,
            services::name,
            services::description,
            services::min_age,
            services::max_age,
            services::ages_stated,
            services::postcode,
            services::lat,
            services::lon,
            services::address,
            services::reach_miles,
            services::capacity,
            services::status,
            services::url,
            services::email,
            services::created_at,
            services::updated_at,
            policy_columns!(),
        ))
        .get_result(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let status: ServiceStatus = row.status.parse().unwrap_or(ServiceStatus::Draft);
    let terms: Vec<(String, String)> = service_terms::table
        .filter(service_terms::service_id.eq(id.0))
        .select((service_terms::term_id, service_terms::vocabulary))
        .order(service_terms::term_id)
        .load(conn)?;
    let of = |v: Vocabulary| {
        terms
            .iter()
            .filter(|(_, voc)| voc == v.as_str())
            .map(|(t, _)| t.clone())
            .collect::<Vec<_>>()
    };
    let streams: Vec<String> = service_streams::table
        .filter(service_streams::service_id.eq(id.0))
        .select(service_streams::stream)
        .load(conn)?;
    let options: Vec<PriceOptionRow> = price_options::table
        .filter(price_options::service_id.eq(id.0))
        .filter(price_options::active.eq(true))
        .order(price_options::position)
        .select((
            price_options::id,
            price_options::label,
            price_options::unit,
            price_options::price_pence,
            price_options::fcr_annual_direct_pence,
            price_options::fcr_annual_overheads_pence,
            price_options::fcr_units_per_year,
            price_options::fcr_occupancy_bp,
        ))
        .load(conn)?;
    let schedule: Vec<(String, String, String)> = service_sessions::table
        .filter(service_sessions::service_id.eq(id.0))
        .order(service_sessions::position)
        .select((service_sessions::day, service_sessions::starts, service_sessions::ends))
        .load(conn)?;
    let schedule: Vec<Session> = schedule
        .into_iter()
        .map(|(day, starts, ends)| Session {
            day: day.parse().unwrap_or(Day::Monday),
            starts,
            ends,
        })
        .collect();
    let mut funding_streams: Vec<Stream> = streams.iter().filter_map(|s| s.parse().ok()).collect();
    funding_streams.sort();
    let organisation = OrganisationId(row.organisation_id);
    let verified_by = super::organisations::verifiers(conn, &[organisation], None)?.remove(&organisation);
    Ok(Some(ServiceView {
        id: ServiceId(row.id),
        organisation: OrganisationSummary {
            id: row.organisation_id,
            name: row.organisation_name,
        },
        name: row.name,
        description: row.description,
        outcomes: of(Vocabulary::Outcome),
        service_types: of(Vocabulary::ServiceType),
        needs: of(Vocabulary::Need),
        min_age: row.min_age,
        max_age: row.max_age,
        ages_stated: row.ages_stated,
        funding_streams,
        location: match (row.lat, row.lon) {
            (Some(lat), Some(lon)) => Some(Location {
                postcode: row.postcode,
                lat,
                lon,
                address: row.address,
            }),
            _ => None,
        },
        reach_miles: row.reach_miles,
        capacity: row.capacity,
        schedule,
        status,
        price_options: options.into_iter().map(PriceOptionRow::view).collect(),
        url: row.url,
        email: row.email,
        created_at: row.created_at,
        updated_at: row.updated_at,
        policy: row.policy.into(),
        verified_by,
    }))
}

/// Ids of an organisation's services, newest first: only the published ones unless `drafts`.
pub fn ids_for_organisation(conn: &mut Conn, organisation: OrganisationId, drafts: bool) -> DbResult<Vec<ServiceId>> {
    let mut q = services::table
        .filter(services::organisation_id.eq(organisation.0))
        .into_boxed();
    if !drafts {
        q = q.filter(services::status.eq(ServiceStatus::Published.as_str()));
    }
    Ok(q.order(services::id.desc())
        .select(services::id)
        .load::<i64>(conn)?
        .into_iter()
        .map(ServiceId)
        .collect())
}

/// A price option as a booking sees it: which service and provider it belongs to, and the facts
/// the booking rules need, the provider's standing taken from `council`'s listing (the plan's).
pub fn offer(
    conn: &mut Conn,
    option: PriceOptionId,
    council: CouncilId,
) -> DbResult<Option<(ServiceId, OrganisationId, Offer)>> {
    type Row = (i64, i64, String, String, i32, i32, i64, bool, String, String, String);
    let row: Option<Row> = price_options::table
        .inner_join(services::table.inner_join(organisations::table))
        .filter(price_options::id.eq(option.0))
        .select((
            services::id,
            services::organisation_id,
            services::name,
            services::status,
            services::min_age,
            services::max_age,
            price_options::price_pence,
            price_options::active,
            price_options::label,
            organisations::status,
            price_options::unit,
        ))
        .get_result(conn)
        .optional()?;
    let Some((service, organisation, name, status, min_age, max_age, price, active, label, org_status, unit)) = row
    else {
        return Ok(None);
    };
    let own = super::council_listings::of(conn, council, OrganisationId(organisation))?.map(|l| l.status);
    let directory = org_status.parse().unwrap_or(OrganisationStatus::Unverified);
    let accepted_streams = service_streams::table
        .filter(service_streams::service_id.eq(service))
        .select(service_streams::stream)
        .load::<String>(conn)?
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    Ok(Some((
        ServiceId(service),
        OrganisationId(organisation),
        Offer {
            service_name: name,
            option_label: label,
            price: Pence::from_stored(price),
            option_active: active,
            service_published: status == ServiceStatus::Published.as_str(),
            provider_suspended: listing::suspended_for(own, directory),
            provider_verified: own == Some(ListingStatus::Verified),
            accepted_streams,
            min_age,
            max_age,
            unit: unit.parse().unwrap_or(Unit::Session),
        },
    )))
}

/// Published services after `after`, in id order, with where they are (for rebuilding the index
/// in chunks, in an order that keeps near places together).
pub fn published_places_after(
    conn: &mut Conn,
    after: i64,
    limit: i64,
) -> DbResult<Vec<(ServiceId, Option<Coordinates>)>> {
    let rows: Vec<(i64, Option<f64>, Option<f64>)> = services::table
        .filter(services::id.gt(after))
        .filter(services::status.eq(ServiceStatus::Published.as_str()))
        .order(services::id)
        .limit(limit)
        .select((services::id, services::lat, services::lon))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, lat, lon)| (ServiceId(id), lat.zip(lon).map(|(lat, lon)| Coordinates { lat, lon })))
        .collect())
}

pub fn count_published(conn: &mut Conn) -> DbResult<i64> {
    Ok(services::table
        .filter(services::status.eq(ServiceStatus::Published.as_str()))
        .count()
        .get_result(conn)?)
}

type IndexRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<f64>,
    i32,
    i32,
    bool,
    NaiveDateTime,
);

/// Load the index view of these services; ids that are missing or not published are left out
/// (the caller removes them from the index).
pub fn for_index(conn: &mut Conn, ids: &[ServiceId]) -> DbResult<Vec<Listing>> {
    let raw: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let rows: Vec<IndexRow> = services::table
        .inner_join(organisations::table)
        .filter(services::id.eq_any(&raw))
        .filter(services::status.eq(ServiceStatus::Published.as_str()))
        // Suspended by every council that lists it: out of every search until one reinstates it.
        .filter(organisations::status.ne(OrganisationStatus::Suspended.as_str()))
        .select((
            services::id,
            services::organisation_id,
            organisations::name,
            services::name,
            services::description,
            services::lat,
            services::lon,
            services::postcode,
            services::reach_miles,
            services::min_age,
            services::max_age,
            services::ages_stated,
            services::updated_at,
        ))
        .load(conn)?;
    let organisations: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let suspended_by = super::council_listings::suspended_by(conn, &organisations)?;
    let mut terms: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for (sid, term, vocabulary) in service_terms::table
        .filter(service_terms::service_id.eq_any(&raw))
        .select((
            service_terms::service_id,
            service_terms::term_id,
            service_terms::vocabulary,
        ))
        .load::<(i64, String, String)>(conn)?
    {
        terms.entry(sid).or_default().push((term, vocabulary));
    }
    let mut streams: HashMap<i64, Vec<String>> = HashMap::new();
    for (sid, stream) in service_streams::table
        .filter(service_streams::service_id.eq_any(&raw))
        .select((service_streams::service_id, service_streams::stream))
        .load::<(i64, String)>(conn)?
    {
        streams.entry(sid).or_default().push(stream);
    }
    let mut days: HashMap<i64, Vec<String>> = HashMap::new();
    for (sid, day) in service_sessions::table
        .filter(service_sessions::service_id.eq_any(&raw))
        .select((service_sessions::service_id, service_sessions::day))
        .load::<(i64, String)>(conn)?
    {
        days.entry(sid).or_default().push(day);
    }
    let mut price_from: HashMap<i64, i64> = HashMap::new();
    for (sid, price) in price_options::table
        .filter(price_options::service_id.eq_any(&raw))
        .filter(price_options::active.eq(true))
        .select((price_options::service_id, price_options::price_pence))
        .load::<(i64, i64)>(conn)?
    {
        let lowest = price_from.entry(sid).or_insert(price);
        *lowest = (*lowest).min(price);
    }
    let mut open_days = super::sessions::open_days(conn, ids, now())?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                organisation_id,
                organisation_name,
                name,
                description,
                lat,
                lon,
                postcode,
                reach_miles,
                min_age,
                max_age,
                ages_stated,
                updated_at,
            )| {
                let own = terms.remove(&id).unwrap_or_default();
                let of = |v: Vocabulary| {
                    own.iter()
                        .filter(|(_, voc)| voc == v.as_str())
                        .map(|(t, _)| t.clone())
                        .collect()
                };
                Listing {
                    id: ServiceId(id),
                    suspended_by: suspended_by.get(&organisation_id).cloned().unwrap_or_default(),
                    organisation_id,
                    organisation_name,
                    name,
                    description,
                    outcomes: of(Vocabulary::Outcome),
                    service_types: of(Vocabulary::ServiceType),
                    needs: of(Vocabulary::Need),
                    streams: streams.remove(&id).unwrap_or_default(),
                    days: days.remove(&id).unwrap_or_default(),
                    at: lat.zip(lon).map(|(lat, lon)| Coordinates { lat, lon }),
                    postcode,
                    reach_miles,
                    min_age,
                    max_age,
                    ages_stated,
                    price_from: price_from.get(&id).map(|p| Pence::from_stored(*p)),
                    updated_at,
                    open_days: {
                        let mut days: Vec<_> = open_days
                            .remove(&ServiceId(id))
                            .unwrap_or_default()
                            .into_iter()
                            .map(crate::domain::sessions::london_date)
                            .collect();
                        days.sort();
                        days.dedup();
                        days
                    },
                }
            },
        )
        .collect())
}
