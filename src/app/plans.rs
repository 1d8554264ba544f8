//! Plans: a council records a child's plan, its outcomes and Section J allocations; the family,
//! its broker and its council read it, its statement and the services that match it.

use std::collections::HashMap;

use super::bookings::plan_for;
use super::search::{NextSession, next_sessions, verifiers};
use super::{App, AppError, AppResult, records};
use crate::db::budget_holders::{self, AllocationView, BudgetHolderView};
use crate::db::ledger::{self, StatementEntry};
use crate::db::reports::{self, QuarterlyReturn};
use crate::db::{organisations, plan_links, users};
use crate::domain::access::PlanScope;
use crate::domain::budget::{BudgetHolderInput, OutcomeStatus, age_on};
use crate::domain::geo::Postcode;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::reports::Quarter;
use crate::domain::taxonomy::TermId;
use crate::domain::validate::Invalid;
use crate::domain::{
    Actor, BudgetHolderId, OrganisationId, OrganisationKind, Pence, PlanOutcomeId, Role, ServiceId, UserId,
};
use crate::geocode::Located;
use crate::search::{Hit, SearchRequest};

/// A plan just recorded, and whether the family's login was made for it or already existed.
#[derive(Debug, Clone)]
pub struct CreatedPlan {
    pub plan: BudgetHolderView,
    pub family_user_id: UserId,
    /// False when the family already had an account this council made (a sibling's plan) and was
    /// linked to it; true for a new login, and for one another council made (see [`store`]).
    pub family_account_created: bool,
}

/// A council officer records a plan for a child of its area, and the family's login.
pub async fn create(app: &App, actor: &Actor, input: BudgetHolderInput) -> AppResult<CreatedPlan> {
    let council = actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    let holder = input.validate(&app.taxonomy, App::today())?;
    // On the bounded password pool like logins: an officer's burst of new plans waits its turn.
    let hash = match holder.family.password.clone() {
        Some(password) => app.passwords.hash(password).await?,
        None => users::NO_PASSWORD.to_string(),
    };
    app.blocking(move |app| {
        let (id, family_user_id, family_account_created) = app.db.write_as(move |conn| {
            let stored = store(conn, council, &holder, &hash)?;
            if holder.family.password.is_none() {
                invite_new_family(conn, stored.1)?;
            }
            // A direct payment's first instalment (and any already due) is paid in at once.
            super::direct_payments::pay_in_due(conn, super::direct_payments::london_today(), Some(stored.0))?;
            Ok::<_, AppError>(stored)
        })?;
        let plan = app.db.read_as(|conn| match budget_holders::load(conn, id)? {
            Some(row) => Ok::<_, AppError>(budget_holders::view(conn, row)?),
            None => Err(AppError::not_found("budget holder")),
        })?;
        Ok(CreatedPlan {
            plan,
            family_user_id,
            family_account_created,
        })
    })
    .await
}

/// Store a validated plan for the council: the family's login is the one its email already has
/// when the council made it (a sibling's plan), or a new one with `family_password_hash`. When
/// the email is a family's that another council made, nothing of the plan reaches that family
/// until it accepts: the plan belongs to a stand-in login and the family gets a pending link,
/// and the council is answered exactly as for a new login (so it learns nothing of the other
/// council, and its password is set on no one's account). Returns the plan, its login and
/// whether that login was made now (as far as the council can tell).
pub(crate) fn store(
    conn: &mut crate::db::Conn,
    council: crate::domain::CouncilId,
    holder: &crate::domain::budget::ValidBudgetHolder,
    family_password_hash: &str,
) -> AppResult<(BudgetHolderId, UserId, bool)> {
    if let Some(broker) = holder.broker_organisation_id
        && organisations::kind(conn, broker)? != Some(OrganisationKind::Broker)
    {
        return Err(Invalid::one("broker_organisation_id", "is not a registered broker organisation").into());
    }
    let new_login = |conn: &mut crate::db::Conn, email: &str, password_hash: &str| {
        let new = users::NewUser {
            email,
            password_hash,
            role: Role::Family,
            organisation_id: None,
            council_id: Some(council),
        };
        users::insert(conn, new)
    };
    let (family, created, elsewhere) = match users::find_by_email(conn, &holder.family.email)? {
        Some(user) if user.actor().role == Role::Family && user.council_id == Some(council.0) => {
            (UserId(user.id), false, None)
        }
        Some(user) if user.actor().role == Role::Family => {
            // An address that can receive no mail (RFC 2606) and a hash no password matches.
            let stand_in = format!(
                "pending-{}@plan-link.invalid",
                crate::domain::hex(&rand::random::<[u8; 16]>())
            );
            (new_login(conn, &stand_in, "!")?, true, Some(UserId(user.id)))
        }
        Some(_) => {
            return Err(AppError::conflict(
                "email_taken",
                "this email belongs to an account that is not a family's",
                Some("family.email"),
            ));
        }
        None => (new_login(conn, &holder.family.email, family_password_hash)?, true, None),
    };
    let id = budget_holders::create(conn, council, holder, family).map_err(|e| {
        if e.is_unique_violation() {
            AppError::conflict(
                "reference_taken",
                "this council already has a budget holder with this reference",
                Some("reference"),
            )
        } else {
            e.into()
        }
    })?;
    if let Some(other_family) = elsewhere {
        plan_links::create(conn, id, other_family)?;
    }
    Ok((id, family, created))
}

/// A family login made without a password is emailed an invitation to choose one (a family
/// that already has a login, or a stand-in awaiting another council's family, is not).
fn invite_new_family(conn: &mut crate::db::Conn, family: UserId) -> AppResult<()> {
    match users::find_by_id(conn, family)? {
        Some(user) if user.password_hash == users::NO_PASSWORD => {
            super::account_links::send_link(conn, family, crate::domain::notification::TokenPurpose::Invitation)
        }
        _ => Ok(()),
    }
}

fn plan_scope(actor: &Actor) -> AppResult<PlanScope> {
    actor
        .plan_scope()
        .ok_or_else(|| AppError::forbidden("providers do not see budget holders"))
}

/// A page of the plans `actor` may see, by id.
pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<BudgetHolderView>> {
    let scope = plan_scope(actor)?;
    let plans = app
        .read(move |conn| Ok(budget_holders::list(conn, scope, page)?))
        .await?;
    records::record_listed(app, actor, plans.items.iter().map(|p| p.id), records::LISTED_PLANS).await?;
    Ok(plans)
}

/// Every plan `actor` may spend from or see: the choices a booking form offers.
pub async fn all(app: &App, actor: &Actor) -> AppResult<Vec<BudgetHolderView>> {
    let scope = plan_scope(actor)?;
    let plans = app.read(move |conn| Ok(budget_holders::all(conn, scope)?)).await?;
    records::record_listed(app, actor, plans.iter().map(|p| p.id), records::LISTED_PLANS).await?;
    Ok(plans)
}

pub async fn get(app: &App, actor: &Actor, id: BudgetHolderId) -> AppResult<BudgetHolderView> {
    records::read_plan(app, actor, id, records::READ_PLAN, |conn, row| {
        Ok(budget_holders::view(conn, row)?)
    })
    .await
}

/// A plan's allocations and one page of the movements on them, oldest first.
#[derive(Debug, Clone)]
pub struct Statement {
    pub budget_holder_id: BudgetHolderId,
    pub first_name: String,
    pub allocations: Vec<AllocationView>,
    pub entries: Page<StatementEntry>,
}

pub async fn statement(app: &App, actor: &Actor, id: BudgetHolderId, page: PageRequest) -> AppResult<Statement> {
    records::read_plan(app, actor, id, records::READ_STATEMENT, move |conn, row| {
        Ok(Statement {
            budget_holder_id: id,
            first_name: row.first_name,
            allocations: budget_holders::allocations_of(conn, id)?,
            entries: ledger::statement(conn, id, page)?,
        })
    })
    .await
}

/// The statements of every plan `actor` may see (a family's page shows all its children's), or
/// of the one plan asked for; each at `page`.
pub async fn statements(
    app: &App,
    actor: &Actor,
    only: Option<BudgetHolderId>,
    page: PageRequest,
) -> AppResult<Vec<Statement>> {
    let ids = match only {
        Some(id) => vec![id],
        None => all(app, actor).await?.into_iter().map(|plan| plan.id).collect(),
    };
    let mut out = Vec::new();
    for id in ids {
        out.push(statement(app, actor, id, page).await?);
    }
    Ok(out)
}

/// A council officer records how far a plan outcome is met.
pub async fn set_outcome_status(
    app: &App,
    actor: &Actor,
    holder: BudgetHolderId,
    outcome: PlanOutcomeId,
    status: OutcomeStatus,
) -> AppResult<()> {
    actor.council().ok_or_else(|| AppError::wrong_role(actor))?;
    let actor = actor.clone();
    app.write(move |conn| {
        let row = plan_for(conn, &actor, holder)?;
        records::record_change(conn, &actor, &row, records::CHANGED_OUTCOME)?;
        Ok(reports::set_outcome_status(conn, holder, outcome.0, status.as_str())?)
    })
    .await
}

/// A plan's quarterly return per allocation, straight from the ledger.
pub async fn quarterly_returns(
    app: &App,
    actor: &Actor,
    holder: BudgetHolderId,
    quarter: Quarter,
) -> AppResult<Vec<QuarterlyReturn>> {
    records::read_plan(app, actor, holder, records::READ_RETURN, move |conn, row| {
        let mut returns = reports::quarterly_returns(conn, holder, quarter)?;
        super::direct_payments::add_to_returns(conn, &row, quarter, &mut returns)?;
        Ok(returns)
    })
    .await
}

pub const DEFAULT_MATCH_RADIUS_MILES: f64 = 10.0;
pub const DEFAULT_MATCH_LIMIT: usize = 5;

/// The services that meet one of a plan's outcomes.
#[derive(Debug, Clone)]
pub struct OutcomeMatches {
    pub outcome_id: PlanOutcomeId,
    pub text: String,
    pub terms: Vec<String>,
    pub services: Vec<Hit>,
}

#[derive(Debug, Clone)]
pub struct PlanMatches {
    pub plan: BudgetHolderView,
    pub radius_miles: f64,
    pub age: i32,
    pub home: Option<Located>,
    pub district: String,
    pub outcomes: Vec<OutcomeMatches>,
    /// The next session with a place left of each service matched.
    pub next_sessions: HashMap<ServiceId, NextSession>,
    /// Who verified each matched service's provider.
    pub verified: HashMap<OrganisationId, String>,
}

impl PlanMatches {
    pub fn next_session(&self, hit: &Hit) -> Option<NextSession> {
        self.next_sessions.get(&ServiceId(hit.service_id)).copied()
    }

    pub fn verified_by(&self, hit: &Hit) -> Option<&str> {
        self.verified
            .get(&OrganisationId(hit.organisation.id))
            .map(String::as_str)
    }
}

/// For each of the plan's outcomes, the best services within reach of home, right for the
/// child's age and needs and affordable from an allocation with money left; services meeting
/// more of the plan's outcomes rank first, then those for the child's needs.
pub async fn matches(
    app: &App,
    actor: &Actor,
    id: BudgetHolderId,
    radius_miles: f64,
    limit: usize,
) -> AppResult<PlanMatches> {
    let plan = get(app, actor, id).await?;
    matches_for(app, plan, radius_miles, limit).await
}

/// Matches for every plan `actor` may see.
pub async fn all_matches(app: &App, actor: &Actor) -> AppResult<Vec<PlanMatches>> {
    let mut out = Vec::new();
    for plan in all(app, actor).await? {
        out.push(matches_for(app, plan, DEFAULT_MATCH_RADIUS_MILES, DEFAULT_MATCH_LIMIT).await?);
    }
    Ok(out)
}

async fn matches_for(app: &App, plan: BudgetHolderView, radius_miles: f64, limit: usize) -> AppResult<PlanMatches> {
    // An erased record has no home left to search from.
    if plan.erased {
        return Ok(PlanMatches {
            radius_miles,
            age: 0,
            home: None,
            district: String::new(),
            outcomes: Vec::new(),
            plan,
            next_sessions: HashMap::new(),
            verified: HashMap::new(),
        });
    }
    let home_postcode = Postcode::parse("postcode", &plan.postcode)?;
    let home = app.geocoder.locate(&home_postcode).await;
    let age = age_on(plan.date_of_birth, App::today());
    let payable_from: Vec<_> = plan
        .allocations
        .iter()
        .filter(|a| a.remaining > Pence::ZERO)
        .map(|a| (a.stream, a.remaining))
        .collect();
    let plan_terms: Vec<Vec<TermId>> = plan
        .outcomes
        .iter()
        .map(|o| o.terms.iter().cloned().map(TermId).collect())
        .collect();
    // Nothing left to spend, or nowhere to measure from: no matches rather than wrong ones.
    let found = match &home {
        Some(home) if !payable_from.is_empty() => {
            let base = SearchRequest {
                origin: Some(home.at),
                radius_miles: Some(radius_miles),
                age: Some(age),
                payable_from,
                child_needs: plan.needs.iter().cloned().map(TermId).collect(),
                council: Some(plan.council_id),
                ..SearchRequest::default()
            };
            app.blocking(move |app| Ok(app.search.plan_matches(&plan_terms, &base, limit)?))
                .await?
        }
        _ => vec![Vec::new(); plan.outcomes.len()],
    };
    let hits: Vec<Hit> = found.iter().flatten().cloned().collect();
    let council = plan.council_id;
    let (next_sessions, verified) = app
        .read(move |conn| Ok((next_sessions(conn, &hits)?, verifiers(conn, &hits, Some(council))?)))
        .await?;
    let outcomes = plan
        .outcomes
        .iter()
        .zip(found)
        .map(|(o, services)| OutcomeMatches {
            outcome_id: o.id,
            text: o.text.clone(),
            terms: o.terms.clone(),
            services,
        })
        .collect();
    Ok(PlanMatches {
        radius_miles,
        age,
        home,
        district: home_postcode.outcode,
        outcomes,
        plan,
        next_sessions,
        verified,
    })
}

/// A place on a waiting list, with the session and service it is for.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub entry: crate::db::waitlist::Entry,
    pub session: crate::db::sessions::SessionView,
    pub service_name: String,
}

/// How far ahead a family's page lists its coming sessions.
pub const COMING_DAYS: i64 = 56;

/// Everything a family's page shows: its plans, a page of its bookings, the bookings with a
/// session in the coming weeks, its open waiting-list places.
#[derive(Debug, Clone)]
pub struct Overview {
    pub plans: Vec<BudgetHolderView>,
    pub bookings: Page<crate::db::bookings::BookingView>,
    pub coming: Vec<crate::db::bookings::BookingView>,
    pub waiting: Vec<Waiting>,
    /// Plans other councils added for the family, waiting for its answer (a broker has none).
    pub links: Vec<crate::db::plan_links::PendingLink>,
}

pub async fn overview(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Overview> {
    let plans = all(app, actor).await?;
    let bookings = super::bookings::list(app, actor, page).await?;
    let (plan_scope, booking_scope) = (
        plan_scope(actor)?,
        actor.booking_scope().ok_or_else(|| AppError::wrong_role(actor))?,
    );
    let (coming, entries) = app
        .read(move |conn| {
            let now = crate::db::now();
            let coming = crate::db::bookings::with_sessions_between(
                conn,
                booking_scope,
                now - chrono::Duration::days(1),
                now + chrono::Duration::days(COMING_DAYS),
            )?;
            Ok((coming, crate::db::waitlist::open_of_scope(conn, plan_scope)?))
        })
        .await?;
    let waiting = app
        .read(move |conn| {
            let mut out = Vec::new();
            for entry in entries {
                let Some(session) = crate::db::sessions::load(conn, entry.session_id)? else {
                    continue;
                };
                let service_name = crate::db::services::get(conn, session.service_id)?
                    .map(|s| s.name)
                    .unwrap_or_default();
                out.push(Waiting {
                    entry,
                    session,
                    service_name,
                });
            }
            Ok(out)
        })
        .await?;
    let links = match actor.role {
        Role::Family => {
            super::plan_links::pending(app, actor, PageRequest::default())
                .await?
                .items
        }
        _ => Vec::new(),
    };
    Ok(Overview {
        plans,
        bookings,
        coming,
        waiting,
        links,
    })
}
