//! Searching the Local Offer: placing the origin, asking the index, logging the search without
//! personal data for the council's gap reports.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::{App, AppError, AppResult};
use crate::db::search_log::{self, LoggedSearch};
use crate::db::{Conn, now, organisations, sessions};
use crate::domain::geo::{Coordinates, nation_outside_england};
use crate::domain::search::{Origin, SearchParams};
use crate::domain::taxonomy::TermId;
use crate::domain::{Actor, CouncilId, OrganisationId, Role, ServiceId};
use crate::search::{Hit, SearchRequest, SearchResults};

/// Where a search was centred: its coordinates and postcode district.
#[derive(Debug, Clone)]
pub struct Place {
    pub at: Coordinates,
    pub district: Option<String>,
}

/// Place a search origin; a postcode nobody can place is a bad `postcode` parameter, and so is one
/// in another nation (Scotland, Wales, Northern Ireland...), saying where it is and what to do.
pub async fn locate(app: &App, origin: Option<&Origin>) -> AppResult<Option<Place>> {
    if let Some(Origin::Postcode(pc)) = origin
        && let Some(nation) = nation_outside_england(&pc.outcode)
    {
        return Err(AppError::BadParameter {
            field: "postcode".into(),
            message: nation.message(pc.full.as_deref().unwrap_or(&pc.outcode)),
        });
    }
    match origin {
        None => Ok(None),
        Some(Origin::At(at)) => Ok(Some(Place {
            at: *at,
            district: app.geocoder.outcodes().nearest(*at).map(str::to_string),
        })),
        Some(Origin::Postcode(pc)) => match app.geocoder.locate(pc).await {
            Some(found) => Ok(Some(Place {
                at: found.at,
                district: Some(pc.outcode.clone()),
            })),
            None => Err(AppError::BadParameter {
                field: "postcode".into(),
                message: "we cannot find where this postcode is".into(),
            }),
        },
    }
}

/// The council a searcher searches for: a council's officer or family its own, anyone else none
/// (the whole directory).
pub fn council_of(viewer: Option<&Actor>) -> Option<CouncilId> {
    viewer.and_then(|a| match a.role {
        Role::Council | Role::Family => a.council_id,
        Role::Broker | Role::Provider => None,
    })
}

/// How the front door wants its results.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Count results per outcome and service type (the search page's filters).
    pub facets: bool,
    /// The radius when a place is given without one.
    pub default_radius_miles: Option<f64>,
    /// The council whose families or officer search: its own listings decide what is left out
    /// and who is shown as verifying.
    pub council: Option<CouncilId>,
}

/// A service's next session with a place left, as the database has it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextSession {
    pub starts_at: NaiveDateTime,
    pub places_left: i32,
}

/// The next session with a place left of each of these hits' services (one query for them all).
pub(crate) fn next_sessions<'a>(
    conn: &mut Conn,
    hits: impl IntoIterator<Item = &'a Hit>,
) -> AppResult<HashMap<ServiceId, NextSession>> {
    let mut ids: Vec<ServiceId> = hits.into_iter().map(|h| ServiceId(h.service_id)).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    ids.sort();
    ids.dedup();
    Ok(sessions::next_open(conn, &ids, now())?
        .into_iter()
        .map(|(id, (starts_at, places_left))| (id, NextSession { starts_at, places_left }))
        .collect())
}

/// The councils that verified each of these hits' providers, for those verified (one query):
/// only `council`'s verification when searching for one council's families.
pub(crate) fn verifiers<'a>(
    conn: &mut Conn,
    hits: impl IntoIterator<Item = &'a Hit>,
    council: Option<CouncilId>,
) -> AppResult<HashMap<OrganisationId, String>> {
    let mut ids: Vec<OrganisationId> = hits.into_iter().map(|h| OrganisationId(h.organisation.id)).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    ids.sort();
    ids.dedup();
    Ok(organisations::verifiers(conn, &ids, council)?)
}

#[derive(Debug, Clone)]
pub struct Found {
    pub results: SearchResults,
    pub place: Option<Place>,
    pub radius_miles: Option<f64>,
    /// Each result's next session with a place left, read fresh rather than from the index.
    pub next_sessions: HashMap<ServiceId, NextSession>,
    /// Who verified each result's provider, read fresh: verifying changes no index entry.
    pub verified: HashMap<OrganisationId, String>,
}

impl Found {
    pub fn next_session(&self, hit: &Hit) -> Option<NextSession> {
        self.next_sessions.get(&ServiceId(hit.service_id)).copied()
    }

    pub fn verified_by(&self, hit: &Hit) -> Option<&str> {
        self.verified
            .get(&OrganisationId(hit.organisation.id))
            .map(String::as_str)
    }
}

/// A public search. Every one is logged (words, term ids, postcode district, result count; never
/// a full postcode) without slowing or failing the answer.
pub async fn search(app: &App, params: &SearchParams, options: Options) -> AppResult<Found> {
    let place = locate(app, params.origin.as_ref()).await?;
    let radius_miles = params.radius_miles.or(place.as_ref().and(options.default_radius_miles));
    let today = crate::domain::sessions::london_date(now());
    let available = params.available(today).map_err(|e| AppError::BadParameter {
        field: e.field,
        message: e.message,
    })?;
    let request = SearchRequest::from_params(
        params,
        place.as_ref().map(|p| p.at),
        radius_miles,
        available,
        options.facets,
        options.council,
    );
    let council = options.council;
    let (results, next_sessions, verified) = app
        .blocking(move |app| {
            let results = app.search.search(&request)?;
            let (next, verified) = app.db.read_as(|conn| {
                Ok::<_, AppError>((
                    next_sessions(conn, &results.results)?,
                    verifiers(conn, &results.results, council)?,
                ))
            })?;
            Ok((results, next, verified))
        })
        .await?;
    let ids = |terms: &[TermId]| terms.iter().map(|t| t.0.clone()).collect::<Vec<_>>();
    let logged = LoggedSearch {
        query_text: params.text.clone(),
        outcomes: ids(&params.outcomes),
        service_types: ids(&params.service_types),
        needs: ids(&params.needs),
        postcode_district: place.as_ref().and_then(|p| p.district.clone()),
        radius_miles,
        age: params.age,
        result_count: results.total as i64,
    };
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = db.write(move |conn| search_log::insert(conn, &logged)) {
            tracing::warn!(error = %e, "search not logged");
        }
    });
    Ok(Found {
        results,
        place,
        radius_miles,
        next_sessions,
        verified,
    })
}

/// A search of the index as built by the caller (the Open Referral feed's own filters).
pub async fn run(app: &App, request: SearchRequest) -> AppResult<SearchResults> {
    app.blocking(move |app| Ok(app.search.search(&request)?)).await
}
