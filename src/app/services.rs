//! Services: what providers list and price, and who may see them.

use super::{App, AppError, AppResult};
use crate::db::council_listings;
use crate::db::organisations::{self, OrganisationView};
use crate::db::services::{self, ServiceView};
use crate::domain::booking::{Offer, can_pay};
use crate::domain::listing::{self, ListingStatus};
use crate::domain::service::{ServiceInput, ValidService};
use crate::domain::{Actor, OrganisationId, ServiceId, ServiceStatus};

fn visible(viewer: Option<&Actor>, view: ServiceView) -> AppResult<ServiceView> {
    let owner = OrganisationId(view.organisation.id);
    if Actor::sees_service(viewer, owner, view.status == ServiceStatus::Published) {
        Ok(view)
    } else {
        // As if it did not exist: a draft's existence is its provider's business.
        Err(AppError::not_found("service"))
    }
}

/// A service as `viewer` may see it: published ones are public, others only to their provider.
pub async fn get(app: &App, viewer: Option<Actor>, id: ServiceId) -> AppResult<ServiceView> {
    app.read(move |conn| {
        let view = services::get(conn, id)?.ok_or_else(|| AppError::not_found("service"))?;
        visible(viewer.as_ref(), view)
    })
    .await
}

/// Several services, as `viewer` may see them, in the order asked; the ones they may not see (or
/// that no longer exist) are left out.
pub async fn several(app: &App, viewer: Option<Actor>, ids: Vec<ServiceId>) -> AppResult<Vec<ServiceView>> {
    app.read(move |conn| {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(view) = services::get(conn, id)?
                && let Ok(view) = visible(viewer.as_ref(), view)
            {
                out.push(view);
            }
        }
        Ok(out)
    })
    .await
}

pub async fn organisation(app: &App, id: OrganisationId) -> AppResult<OrganisationView> {
    app.read(move |conn| Ok(organisations::get(conn, id)?)).await
}

/// An organisation's services, newest first: its own staff also see drafts.
pub async fn of_organisation(app: &App, viewer: Option<Actor>, id: OrganisationId) -> AppResult<Vec<ServiceView>> {
    app.read(move |conn| {
        organisations::get(conn, id)?;
        let own = viewer.as_ref().is_some_and(|a| a.works_for(id));
        let mut out = Vec::new();
        for service in services::ids_for_organisation(conn, id, own)? {
            out.extend(services::get(conn, service)?);
        }
        Ok(out)
    })
    .await
}

/// A location given only as a postcode is placed at the postcode (or its district's centre).
async fn locate(app: &App, input: &mut ServiceInput) -> AppResult<()> {
    let location = &mut input.location;
    if location.lat.is_some() || location.lon.is_some() {
        return Ok(());
    }
    let Some(postcode) = location.postcode.as_deref().filter(|p| !p.trim().is_empty()) else {
        return Ok(());
    };
    let found = app.geocoder.place("location.postcode", postcode).await?;
    location.lat = Some(found.at.lat);
    location.lon = Some(found.at.lon);
    Ok(())
}

async fn checked(app: &App, mut input: ServiceInput) -> AppResult<ValidService> {
    locate(app, &mut input).await?;
    Ok(input.validate(&app.taxonomy)?)
}

/// A provider lists a new service; it is searchable at once if published.
pub async fn create(app: &App, actor: &Actor, input: ServiceInput) -> AppResult<ServiceView> {
    let organisation = actor.provider().ok_or_else(|| AppError::wrong_role(actor))?;
    let service = checked(app, input).await?;
    service.check_new()?;
    let viewer = actor.clone();
    let view = app
        .blocking(move |app| {
            let id = app.db.write_as(move |conn| {
                let id = services::create(conn, organisation, &service)?;
                services::settle_publication(conn, id, organisation)?;
                Ok::<_, AppError>(id)
            })?;
            app.db.read_as(|conn| {
                let view = services::get(conn, id)?.ok_or_else(|| AppError::not_found("service"))?;
                visible(Some(&viewer), view)
            })
        })
        .await?;
    app.services_changed();
    tracing::info!(service_id = %view.id, "service created");
    Ok(view)
}

/// Apply a change to a service its provider owns, then answer with the service as it now is.
async fn change(
    app: &App,
    actor: &Actor,
    id: ServiceId,
    apply: impl FnOnce(&mut crate::db::Conn) -> AppResult<()> + Send + 'static,
) -> AppResult<ServiceView> {
    let writer = actor.clone();
    let viewer = actor.clone();
    let view = app
        .blocking(move |app| {
            app.db.write_as(move |conn| {
                let owner = services::owner(conn, id)?.ok_or_else(|| AppError::not_found("service"))?;
                if !writer.works_for(owner) {
                    return Err(AppError::forbidden(
                        "only the organisation that lists this service can change it",
                    ));
                }
                apply(conn)?;
                services::settle_publication(conn, id, owner)?;
                Ok(())
            })?;
            app.db.read_as(|conn| {
                let view = services::get(conn, id)?.ok_or_else(|| AppError::not_found("service"))?;
                visible(Some(&viewer), view)
            })
        })
        .await?;
    app.services_changed();
    Ok(view)
}

/// Replace a service's details; price options sent with their id keep it (bookings point at them),
/// new ones are added, the ones left out are retired.
pub async fn update(app: &App, actor: &Actor, id: ServiceId, input: ServiceInput) -> AppResult<ServiceView> {
    let service = checked(app, input).await?;
    change(app, actor, id, move |conn| {
        service.check_options_of(&services::option_ids(conn, id)?)?;
        Ok(services::update(conn, id, &service)?)
    })
    .await
}

pub async fn set_status(app: &App, actor: &Actor, id: ServiceId, status: ServiceStatus) -> AppResult<ServiceView> {
    change(app, actor, id, move |conn| Ok(services::set_status(conn, id, status)?)).await
}

/// A service for its own provider to edit; 403 for anyone else.
pub async fn own(app: &App, actor: &Actor, id: ServiceId) -> AppResult<ServiceView> {
    let view = get(app, Some(actor.clone()), id).await?;
    if actor.works_for(OrganisationId(view.organisation.id)) {
        Ok(view)
    } else {
        Err(AppError::forbidden(
            "only the organisation that lists this service can change it",
        ))
    }
}

/// Update a service from what it is now: `revise` turns the current service into the new input
/// (a form that shows only part of a service keeps the rest).
pub async fn revise(
    app: &App,
    actor: &Actor,
    id: ServiceId,
    revise: impl FnOnce(&ServiceView) -> ServiceInput,
) -> AppResult<ServiceView> {
    let current = own(app, actor, id).await?;
    update(app, actor, id, revise(&current)).await
}

/// A service as a family sees it before booking: its coming sessions and series, and the plans
/// (for a family or broker) that could pay for it.
#[derive(Debug, Clone)]
pub struct Details {
    pub service: ServiceView,
    /// Who runs it, with the contact details families reach it by.
    pub provider: OrganisationView,
    pub sessions: Vec<crate::db::sessions::SessionView>,
    pub series: Vec<(crate::domain::SeriesId, crate::domain::sessions::Weekly)>,
    pub plans: Vec<crate::db::budget_holders::BudgetHolderView>,
    /// The councils of the viewer's plans that book only verified providers, when this provider
    /// is not verified (those plans are left out of `plans`).
    pub refused_by: Vec<String>,
    /// Each of the viewer's allocations, and why it cannot pay for this service if it cannot.
    pub pay_from: Vec<PayFrom>,
}

/// One allocation a family or broker might pay from.
#[derive(Debug, Clone)]
pub struct PayFrom {
    pub budget_holder_id: crate::domain::BudgetHolderId,
    pub first_name: String,
    pub allocation: crate::db::budget_holders::AllocationView,
    /// None when it can pay; otherwise why not, in words.
    pub refused: Option<String>,
}

impl PayFrom {
    pub fn can_pay(&self) -> bool {
        self.refused.is_none()
    }
}

/// The service's cheapest option as an offer, so the booking rules can say what could pay for it.
fn cheapest_offer(view: &ServiceView) -> Option<Offer> {
    let cheapest = view.price_options.iter().min_by_key(|o| o.price)?;
    Some(Offer {
        service_name: view.name.clone(),
        option_label: cheapest.label.clone(),
        price: cheapest.price,
        option_active: true,
        service_published: view.status == ServiceStatus::Published,
        // A suspended provider's services are not shown at all, and plans whose council refuses
        // an unverified provider are left out before this is asked.
        provider_suspended: false,
        provider_verified: true,
        accepted_streams: view.funding_streams.clone(),
        min_age: view.min_age,
        max_age: view.max_age,
        unit: cheapest.unit,
    })
}

/// Each of `plans`' allocations, with why it cannot pay for `view` if it cannot.
pub fn pay_from(view: &ServiceView, plans: &[crate::db::budget_holders::BudgetHolderView]) -> Vec<PayFrom> {
    let offer = cheapest_offer(view);
    let today = crate::domain::sessions::london_date(crate::db::now());
    plans
        .iter()
        .flat_map(|p| p.allocations.iter().map(move |a| (p, a)))
        .map(|(p, a)| PayFrom {
            budget_holder_id: p.id,
            first_name: p.first_name.clone(),
            allocation: a.clone(),
            refused: match &offer {
                None => Some("this service lists no price".to_string()),
                Some(offer) => can_pay(
                    offer,
                    (p.plan_start, p.plan_end),
                    p.date_of_birth,
                    a.stream,
                    a.remaining,
                    today,
                )
                .err()
                .map(|e| e.reason()),
            },
        })
        .collect()
}

/// How far ahead a service page lists sessions.
pub const SESSIONS_SHOWN_DAYS: i64 = 92;

pub async fn details(app: &App, viewer: Option<Actor>, id: ServiceId) -> AppResult<Details> {
    // Families and brokers see what could pay for it; nobody else books.
    let plans = match &viewer {
        Some(a) if matches!(a.role, crate::domain::Role::Family | crate::domain::Role::Broker) => {
            super::plans::all(app, a).await?
        }
        _ => Vec::new(),
    };
    app.read(move |conn| {
        let view = services::get(conn, id)?.ok_or_else(|| AppError::not_found("service"))?;
        let service = visible(viewer.as_ref(), view)?;
        let provider = organisations::get(conn, OrganisationId(service.organisation.id))?;
        let now = crate::db::now();
        let sessions =
            crate::db::sessions::of_service(conn, id, now, now + chrono::Duration::days(SESSIONS_SHOWN_DAYS))?;
        let series = crate::db::sessions::series_of(conn, id)?
            .into_iter()
            .filter(|(sid, _)| sessions.iter().any(|s| s.series_id == Some(*sid)))
            .collect();
        let (plans, refused_by) = bookable_plans(conn, &provider, plans)?;
        let pay_from = pay_from(&service, &plans);
        Ok(Details {
            service,
            provider,
            sessions,
            series,
            plans,
            refused_by,
            pay_from,
        })
    })
    .await
}

/// The plans that may book this service, and the names of the councils that refuse it for the
/// rest: each plan's own council's listing decides (a plan whose council suspended the provider is
/// left out; an unverified provider is refused where the council books only verified ones:
/// `booking::check_verified`).
fn bookable_plans(
    conn: &mut crate::db::Conn,
    provider: &OrganisationView,
    plans: Vec<crate::db::budget_holders::BudgetHolderView>,
) -> AppResult<(Vec<crate::db::budget_holders::BudgetHolderView>, Vec<String>)> {
    let mut kept = Vec::new();
    let mut refused_by: Vec<String> = Vec::new();
    let directory = provider
        .status
        .parse()
        .unwrap_or(crate::domain::OrganisationStatus::Unverified);
    for plan in plans {
        let settings = crate::db::councils::settings(conn, plan.council_id)?;
        let own = council_listings::of(conn, plan.council_id, OrganisationId(provider.id))?.map(|l| l.status);
        if listing::suspended_for(own, directory) {
            // The council took the provider out of its Local Offer: nothing to offer, nor explain.
            continue;
        }
        if crate::domain::booking::check_verified(settings, own == Some(ListingStatus::Verified)).is_ok() {
            kept.push(plan);
        } else {
            let name = crate::db::councils::name(conn, plan.council_id)?.unwrap_or_default();
            if !refused_by.contains(&name) {
                refused_by.push(name);
            }
        }
    }
    Ok((kept, refused_by))
}
