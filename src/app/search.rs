//! Searching the Local Offer: placing the origin, asking the index, logging the search without
//! personal data for the council's gap reports.

use super::{App, AppError, AppResult};
use crate::db::search_log::{self, LoggedSearch};
use crate::domain::geo::Coordinates;
use crate::domain::search::{Origin, SearchParams};
use crate::domain::taxonomy::TermId;
use crate::search::{SearchRequest, SearchResults};

/// Where a search was centred: its coordinates and postcode district.
#[derive(Debug, Clone)]
pub struct Place {
    pub at: Coordinates,
    pub district: Option<String>,
}

/// Place a search origin; a postcode nobody can place is a bad `postcode` parameter.
pub async fn locate(app: &App, origin: Option<&Origin>) -> AppResult<Option<Place>> {
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

/// How the front door wants its results.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Count results per outcome and service type (the search page's filters).
    pub facets: bool,
    /// The radius when a place is given without one.
    pub default_radius_miles: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Found {
    pub results: SearchResults,
    pub place: Option<Place>,
    pub radius_miles: Option<f64>,
}

/// A public search. Every one is logged (words, term ids, postcode district, result count; never
/// a full postcode) without slowing or failing the answer.
pub async fn search(app: &App, params: &SearchParams, options: Options) -> AppResult<Found> {
    let place = locate(app, params.origin.as_ref()).await?;
    let radius_miles = params.radius_miles.or(place.as_ref().and(options.default_radius_miles));
    let request = SearchRequest::from_params(params, place.as_ref().map(|p| p.at), radius_miles, options.facets);
    let results = app.blocking(move |app| Ok(app.search.search(&request)?)).await?;
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
    })
}

/// A search of the index as built by the caller (the Open Referral feed's own filters).
pub async fn run(app: &App, request: SearchRequest) -> AppResult<SearchResults> {
    app.blocking(move |app| Ok(app.search.search(&request)?)).await
}
