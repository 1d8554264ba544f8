//! What the Open Referral UK feed publishes: the public directory, found through the index and
//! loaded from the database, which has the last word on what is listed.

use std::collections::HashMap;

use super::{App, AppResult};
use crate::db::organisations::{self, OrganisationView};
use crate::db::services::{self, ServiceView};
use crate::db::{Conn, DbError, sessions};
use crate::domain::organisation::shown_in_directory;
use crate::domain::oruk::FeedQuery;
use crate::domain::search::{Origin, Sort};
use crate::domain::sessions::Weekly;
use crate::domain::taxonomy::Vocabulary;
use crate::domain::{OrganisationId, SeriesId, ServiceId, ServiceStatus};
use crate::search::SearchRequest;

/// A published service as the feed shows it: with its organisation and the weekly series its
/// dated sessions were published in (oldest first).
#[derive(Debug, Clone)]
pub struct Published {
    pub service: ServiceView,
    pub organisation: OrganisationView,
    pub series: Vec<(SeriesId, Weekly)>,
}

fn listed(o: &OrganisationView) -> bool {
    shown_in_directory(&o.status, o.kind.as_deref())
}

/// Published services of listed organisations, in the order asked, with their organisations. One
/// that left the directory since the index was read is left out.
fn load(conn: &mut Conn, ids: &[ServiceId]) -> Result<Vec<Published>, DbError> {
    let mut orgs: HashMap<i64, OrganisationView> = HashMap::new();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(view) = services::get(conn, *id)? else {
            continue;
        };
        let org_id = view.organisation.id;
        if let std::collections::hash_map::Entry::Vacant(slot) = orgs.entry(org_id) {
            slot.insert(organisations::get(conn, OrganisationId(org_id))?);
        }
        if let Some(org) = orgs.get(&org_id).filter(|o| listed(o))
            && view.status == ServiceStatus::Published
        {
            out.push(Published {
                series: sessions::series_of(conn, *id)?,
                organisation: org.clone(),
                service: view,
            });
        }
    }
    Ok(out)
}

/// One page of a listing, as the feed's filters ask, and how many there are in all.
pub async fn find(app: &App, q: &FeedQuery, located_only: bool) -> AppResult<(usize, Vec<Published>)> {
    if q.unknown_filter {
        return Ok((0, Vec::new()));
    }
    let origin = super::search::locate(app, q.postcode.clone().map(Origin::Postcode).as_ref())
        .await?
        .map(|p| p.at);
    let (mut outcomes, mut service_types, mut needs) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(term) = q.term.as_ref().and_then(|t| app.taxonomy.get(t.as_str())) {
        match term.vocabulary {
            Vocabulary::Outcome => outcomes.push(term.id.clone()),
            Vocabulary::ServiceType => service_types.push(term.id.clone()),
            Vocabulary::Need => needs.push(term.id.clone()),
        }
    }
    let request = SearchRequest {
        text: q.search.clone(),
        outcomes,
        service_types,
        needs,
        origin,
        radius_miles: q.proximity_miles,
        day: q.day,
        sort: Some(if origin.is_some() && q.search.is_none() {
            Sort::Distance
        } else {
            Sort::Relevance
        }),
        offset: q.offset(),
        limit: q.per_page,
        minimum_age_from: q.minimum_age,
        maximum_age_to: q.maximum_age,
        vocabulary: q.vocabulary,
        modified_since: q.modified_after,
        in_id_order: q.search.is_none() && origin.is_none(),
        located_only,
        ..SearchRequest::default()
    };
    let found = super::search::run(app, request).await?;
    let ids: Vec<ServiceId> = found.results.iter().map(|h| ServiceId(h.service_id)).collect();
    let loaded = app.read(move |conn| Ok(load(conn, &ids)?)).await?;
    Ok((found.total, loaded))
}

/// One published service of a listed organisation.
pub async fn service(app: &App, id: ServiceId) -> AppResult<Option<Published>> {
    app.read(move |conn| Ok(load(conn, &[id])?.pop())).await
}

/// One page of the listed organisations, oldest first, and how many there are.
pub async fn organisations(app: &App, offset: i64, limit: i64) -> AppResult<(Vec<OrganisationView>, i64)> {
    app.read(move |conn| Ok(organisations::listed(conn, offset, limit)?))
        .await
}

/// A listed organisation with its published services; None for one the directory does not show.
pub async fn organisation(app: &App, id: OrganisationId) -> AppResult<Option<(OrganisationView, Vec<Published>)>> {
    app.read(move |conn| {
        let org = organisations::get(conn, id)?;
        if !listed(&org) {
            return Ok(None);
        }
        let ids = services::ids_for_organisation(conn, id, false)?;
        Ok(Some((org, load(conn, &ids)?)))
    })
    .await
}
