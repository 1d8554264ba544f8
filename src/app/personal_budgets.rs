//! From a family's request to Section J: the council's resource allocation systems, requests,
//! assessments, the panel's decision (which makes the allocations in the same transaction), a
//! review of it by someone not involved before, the direct-payment agreement, the reviews a plan
//! is owed and the report.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::bookings::plan_for;
use super::direct_payments::{london_today, pay_in_due};
use super::plan_changes::{not_erased, plan_changed_by, set_allocation_amount};
use super::{App, AppError, AppResult, records};
use crate::db::budget_holders::{self, HolderRow};
use crate::db::pb_requests::{self, AssessmentView, NewAssessment, RequestView};
use crate::db::plan_reviews::{self, ReviewView};
use crate::db::ras::{self, RasView};
use crate::db::{Conn, councils};
use crate::domain::budget::ValidAllocation;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::personal_budget::{
    self as pb, DecisionFacts, DecisionInput, DecisionStage, DueItem, Outcome, Participants, PbReport, Permission,
    RequestInput, RequestReportFacts, RequestStatus, ReviewKind,
};
use crate::domain::ras::{Indicative, RasInput};
use crate::domain::validate::{self, Invalid};
use crate::domain::{Actor, AllocationId, BudgetHolderId, CouncilId, Management, PbRequestId, RasId, Role, Stream};

pub const RECORDED_REQUEST: &str = "recorded personal budget request";
pub const READ_REQUEST: &str = "read personal budget request";
pub const LISTED_REQUESTS: &str = "listed personal budget requests";
pub const ASSESSED: &str = "assessed personal budget request";
pub const DECIDED: &str = "decided personal budget request";
pub const ASKED_REVIEW: &str = "asked for a review of a personal budget decision";
pub const RECORDED_REVIEW: &str = "recorded a plan review";
pub const LISTED_DUE: &str = "listed what is due";

fn council_of(actor: &Actor) -> AppResult<CouncilId> {
    actor.council().ok_or_else(|| AppError::wrong_role(actor))
}

// ---- Resource allocation systems -------------------------------------------------------------

/// A council admin adds a RAS: version 1 of a new name and stream, or the next version of one.
pub async fn create_ras(app: &App, actor: &Actor, input: RasInput) -> AppResult<RasView> {
    let actor = actor.clone();
    app.write(move |conn| create_ras_in(conn, &actor, input)).await
}

/// [`create_ras`] inside a transaction the caller holds (the demo data set uses it too).
pub fn create_ras_in(conn: &mut Conn, actor: &Actor, input: RasInput) -> AppResult<RasView> {
    let council = actor.council_with(Permission::Admin)?;
    let valid = input.validate()?;
    let id = ras::create(conn, council, &valid, actor.user_id).map_err(|e| {
        if e.is_unique_violation() {
            AppError::conflict(
                "ras_version_taken",
                "another version of this RAS was added at the same moment: try again",
                Some("name"),
            )
        } else {
            e.into()
        }
    })?;
    ras::load(conn, council, id)?.ok_or_else(|| AppError::not_found("RAS"))
}

/// Change a version nobody has assessed with yet (its name and stream stay). 409 `ras_in_use`
/// once used: add a new version instead.
pub async fn update_ras(app: &App, actor: &Actor, id: RasId, input: RasInput) -> AppResult<RasView> {
    let council = actor.council_with(Permission::Admin)?;
    let valid = input.validate()?;
    app.write(move |conn| {
        let current = ras::load(conn, council, id)?.ok_or_else(|| AppError::not_found("RAS"))?;
        if current.name != valid.name || current.stream != valid.stream {
            return Err(Invalid::one("name", "a version keeps its name and stream: add a new RAS for another").into());
        }
        if !ras::update_unused(conn, id, &valid.definition)? {
            return Err(in_use());
        }
        ras::load(conn, council, id)?.ok_or_else(|| AppError::not_found("RAS"))
    })
    .await
}

fn in_use() -> AppError {
    AppError::conflict(
        "ras_in_use",
        "this version has been used for an assessment and can no longer change: add a new version",
        None,
    )
}

/// A council's RAS versions (any officer), by name and stream, newest version first.
pub async fn list_ras(app: &App, actor: &Actor, stream: Option<Stream>, page: PageRequest) -> AppResult<Page<RasView>> {
    let council = council_of(actor)?;
    app.read(move |conn| Ok(ras::list(conn, council, stream, page)?)).await
}

pub async fn get_ras(app: &App, actor: &Actor, id: RasId) -> AppResult<RasView> {
    // A family sees the questionnaires of its own request only, through `ras_for_request`.
    let council = council_of(actor)?;
    app.read(move |conn| ras::load(conn, council, id)?.ok_or_else(|| AppError::not_found("RAS")))
        .await
}

/// The RAS versions a family may self-assess with for its request: the council's current ones
/// for the streams asked for.
pub async fn ras_for_request(app: &App, actor: &Actor, id: PbRequestId) -> AppResult<Vec<RasView>> {
    let request = get_request(app, actor, id).await?;
    let council = request.council_id;
    app.read(move |conn| {
        Ok(ras::current(conn, council)?
            .into_iter()
            .filter(|r| request.streams.contains(&r.stream))
            .collect())
    })
    .await
}

// ---- Requests -------------------------------------------------------------------------------

/// A family requests a personal budget for its plan, or an officer records one made by phone or
/// letter. 409 `request_open` while another request for one of the streams waits for a decision.
pub async fn request(app: &App, actor: &Actor, input: RequestInput) -> AppResult<RequestView> {
    let actor = actor.clone();
    app.write(move |conn| request_in(conn, &actor, input)).await
}

/// [`request`] inside a transaction the caller holds (the demo data set uses it too).
pub fn request_in(conn: &mut Conn, actor: &Actor, input: RequestInput) -> AppResult<RequestView> {
    if !matches!(actor.role, Role::Family | Role::Council) {
        return Err(AppError::wrong_role(actor));
    }
    let valid = input.validate(london_today(), actor.role == Role::Council)?;
    let plan = plan_changed_by(conn, actor, valid.budget_holder_id, RECORDED_REQUEST)
        .map_err(|e| unknown_plan(e, "budget_holder_id"))?;
    budget_holders::lock(conn, valid.budget_holder_id)?;
    if let Some((open, _)) = pb_requests::open_of(conn, valid.budget_holder_id)?
        .into_iter()
        .find(|(_, s)| s.iter().any(|s| valid.streams.contains(s)))
    {
        return Err(AppError::conflict(
            "request_open",
            format!("request {open} for this plan is still waiting for a decision"),
            Some("streams"),
        ));
    }
    let council = CouncilId(plan.council_id);
    let id = pb_requests::create(conn, council, &valid, actor.user_id, actor.role)?;
    super::notices::request_received(conn, council, id, actor.user_id)?;
    load(conn, id)
}

/// A budget holder named in a body that is not there is a reference at fault, not a missing page.
fn unknown_plan(e: AppError, field: &str) -> AppError {
    match e {
        AppError::NotFound(m) => AppError::unknown(field, m),
        other => other,
    }
}

fn load(conn: &mut Conn, id: PbRequestId) -> AppResult<RequestView> {
    pb_requests::load(conn, id)?.ok_or_else(|| AppError::not_found("personal budget request"))
}

/// The request, if `actor` may see its plan (the family, its broker, its council).
fn visible(conn: &mut Conn, actor: &Actor, id: PbRequestId) -> AppResult<(RequestView, HolderRow)> {
    let request = load(conn, id)?;
    let plan = plan_for(conn, actor, request.budget_holder_id).map_err(|e| match e {
        AppError::Forbidden(_) => AppError::not_found("personal budget request"),
        other => other,
    })?;
    Ok((request, plan))
}

/// One request with its assessments and decisions; an officer's reading is recorded.
pub async fn get_request(app: &App, actor: &Actor, id: PbRequestId) -> AppResult<RequestView> {
    if actor.role == Role::Provider {
        return Err(AppError::wrong_role(actor));
    }
    let reader = actor.clone();
    let (request, owners) = app
        .read(move |conn| {
            let (request, plan) = visible(conn, &reader, id)?;
            Ok((request, plan.owners()))
        })
        .await?;
    records::record_reads(app, actor, [(request.budget_holder_id, owners)], READ_REQUEST).await?;
    Ok(request)
}

/// The requests on the plans the caller sees, newest first.
pub async fn list_requests(
    app: &App,
    actor: &Actor,
    status: Option<RequestStatus>,
    page: PageRequest,
) -> AppResult<Page<RequestView>> {
    let scope = actor.plan_scope().ok_or_else(|| AppError::wrong_role(actor))?;
    let list = app
        .read(move |conn| Ok(pb_requests::list(conn, scope, status, page)?))
        .await?;
    records::record_listed(
        app,
        actor,
        list.items.iter().map(|r| r.budget_holder_id),
        LISTED_REQUESTS,
    )
    .await?;
    Ok(list)
}

// ---- Assessments ------------------------------------------------------------------------------

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    pub ras_id: RasId,
    /// Question id -> the index (from 0) of the answer chosen.
    pub answers: BTreeMap<String, i64>,
}

/// An assessment and what it gave.
#[derive(Debug, Clone)]
pub struct Assessed {
    pub request: RequestView,
    pub assessment: AssessmentView,
    pub result: Indicative,
    pub ras: RasView,
}

/// An assessor completes the RAS for one stream of a request (or a family self-assesses, which
/// an assessor then reviews: only an assessor's counts). The version used is frozen from now on.
pub async fn assess(app: &App, actor: &Actor, id: PbRequestId, input: AssessmentInput) -> AppResult<Assessed> {
    let actor = actor.clone();
    app.write(move |conn| assess_in(conn, &actor, id, input)).await
}

/// [`assess`] inside a transaction the caller holds (the demo data set uses it too).
pub fn assess_in(conn: &mut Conn, actor: &Actor, id: PbRequestId, input: AssessmentInput) -> AppResult<Assessed> {
    let by_family = match actor.role {
        Role::Family => true,
        Role::Council => {
            actor.council_with(Permission::Assess)?;
            false
        }
        _ => return Err(AppError::wrong_role(actor)),
    };
    let (request, plan) = visible(conn, actor, id)?;
    if !request.status.is_open() {
        return Err(AppError::conflict(
            "already_decided",
            "this request has been decided: ask for a review to have it looked at again",
            None,
        ));
    }
    if !by_family {
        let first = request.decision(DecisionStage::First).map(|d| d.decided_by);
        pb::check_assessor(actor.user_id, first)?;
    }
    records::record_change(conn, actor, &plan, ASSESSED)?;
    let council = CouncilId(plan.council_id);
    let ras = ras::load(conn, council, input.ras_id)?.ok_or_else(|| AppError::unknown("ras_id", "RAS not found"))?;
    if ras.superseded {
        return Err(AppError::conflict(
            "ras_superseded",
            format!(
                "version {} has been replaced: assess with the newest version",
                ras.version
            ),
            Some("ras_id"),
        ));
    }
    if !request.streams.contains(&ras.stream) {
        return Err(Invalid::one(
            "ras_id",
            format!("is for {}, which this request did not ask for", ras.stream.label()),
        )
        .into());
    }
    // Frozen first, then read again: a correction made meanwhile has landed or is now refused,
    // and the answers are scored with the version that is kept.
    ras::mark_used(conn, ras.id)?;
    let ras = ras::load(conn, council, ras.id)?.ok_or_else(|| AppError::not_found("RAS"))?;
    let result = ras.definition.score(&input.answers)?;
    let assessment = pb_requests::add_assessment(
        conn,
        NewAssessment {
            request: id,
            ras: ras.id,
            stream: ras.stream,
            answers: &input.answers,
            result: &result,
            by: actor.user_id,
            by_family,
        },
    )?;
    let request = load(conn, id)?;
    let all_assessed = request.indicative().len() == request.streams.len();
    let request =
        if all_assessed && pb_requests::move_status(conn, id, &[RequestStatus::Received], RequestStatus::Assessed)? {
            load(conn, id)?
        } else {
            request
        };
    let assessment = request
        .assessments
        .iter()
        .find(|a| a.id == assessment)
        .cloned()
        .ok_or_else(|| AppError::not_found("assessment"))?;
    Ok(Assessed {
        request,
        assessment,
        result,
        ras,
    })
}

/// The RAS versions a request's assessments used, to show their working.
pub async fn assessment_versions(app: &App, request: &RequestView) -> AppResult<Vec<RasView>> {
    let council = request.council_id;
    let mut ids: Vec<RasId> = request.assessments.iter().map(|a| a.ras_id).collect();
    ids.sort();
    ids.dedup();
    app.read(move |conn| {
        ids.into_iter()
            .filter_map(|id| ras::load(conn, council, id).transpose())
            .collect::<Result<Vec<_>, _>>()
            .map_err(Into::into)
    })
    .await
}

// ---- Decisions --------------------------------------------------------------------------------

/// A decider records the panel's decision: agreed, varied or refused. Agreed and varied make the
/// plan's allocations in the same transaction (a stream the plan already holds has its amount
/// changed, with a ledger entry giving the reasons). The first decision or a review's; 403
/// `separation_of_duties` for whoever assessed it or made the decision under review.
pub async fn decide(app: &App, actor: &Actor, id: PbRequestId, input: DecisionInput) -> AppResult<RequestView> {
    let actor = actor.clone();
    app.write(move |conn| decide_in(conn, &actor, id, input)).await
}

/// [`decide`] inside a transaction the caller holds (the demo data set uses it too).
pub fn decide_in(conn: &mut Conn, actor: &Actor, id: PbRequestId, input: DecisionInput) -> AppResult<RequestView> {
    actor.council_with(Permission::Decide)?;
    let (request, plan) = visible(conn, actor, id)?;
    let stage = match request.status {
        RequestStatus::Received | RequestStatus::Assessed => DecisionStage::First,
        RequestStatus::UnderReview => DecisionStage::Review,
        _ => {
            return Err(AppError::conflict(
                "already_decided",
                "this request has been decided; a review is asked for first",
                None,
            ));
        }
    };
    let assessors = request.assessors();
    pb::check_separation(
        actor.user_id,
        stage,
        &Participants {
            assessors: &assessors,
            first_decider: request.decision(DecisionStage::First).map(|d| d.decided_by),
        },
    )?;
    let indicative = request.indicative();
    let decision = input.validate(&DecisionFacts {
        streams: &request.streams,
        preferred: request.preferred_management,
        indicative: &indicative,
    })?;
    not_erased(&plan)?;
    records::record_change(conn, actor, &plan, DECIDED)?;
    // The request moves first, guarded on the status read: a decider racing this one waits on the
    // row and then finds it decided, before either touches the allocations.
    let from = [request.status];
    if !pb_requests::move_status(conn, id, &from, RequestStatus::decided(decision.outcome))? {
        return Err(AppError::conflict(
            "already_decided",
            "someone else decided this request meanwhile",
            None,
        ));
    }
    let holder = request.budget_holder_id;
    let existing = budget_holders::allocations_of(conn, holder)?;
    let mut made = Vec::new();
    let mut new_direct = Vec::new();
    for (i, line) in decision.lines.iter().enumerate() {
        let allocation = match existing.iter().find(|a| a.stream == line.stream) {
            Some(a) if a.management != line.management => {
                return Err(AppError::conflict(
                    "management_differs",
                    format!(
                        "the plan already holds {} as {}: decide it as {} too",
                        line.stream.label(),
                        a.management.label(),
                        a.management.label()
                    ),
                    Some(&format!("allocations[{i}].management")),
                ));
            }
            Some(a) if a.amount == line.amount => a.id,
            Some(a) => {
                let reason = format!("decision on personal budget request {id}: {}", reason_words(&decision));
                set_allocation_amount(conn, holder, a.id, line.amount, &reason)?.id
            }
            None => {
                let a = budget_holders::add_allocation(
                    conn,
                    holder,
                    &ValidAllocation {
                        stream: line.stream,
                        management: line.management,
                        amount: line.amount,
                        admin_fee: crate::domain::Pence::ZERO,
                        payment_schedule: Default::default(),
                    },
                )?;
                if line.management == Management::DirectPayment {
                    new_direct.push(a);
                }
                a
            }
        };
        made.push(allocation);
    }
    pb_requests::add_decision(conn, id, stage, &decision, &made, actor.user_id).map_err(|e| {
        if e.is_unique_violation() {
            AppError::conflict("already_decided", "someone else decided this request meanwhile", None)
        } else {
            e.into()
        }
    })?;
    hold_for_agreement(conn, id, &new_direct)?;
    tracing::info!(request = %id, outcome = %decision.outcome, stage = %stage, "personal budget decided");
    let decided = load(conn, id)?;
    super::notices::request_decided(conn, decided.budget_holder_id, id)?;
    Ok(decided)
}

fn reason_words(d: &pb::ValidDecision) -> String {
    if d.reasons.is_empty() {
        d.outcome.label().to_string()
    } else {
        d.reasons.clone()
    }
}

/// New direct payments wait for the family to accept the agreement's terms.
fn hold_for_agreement(conn: &mut Conn, id: PbRequestId, direct: &[AllocationId]) -> AppResult<()> {
    if direct.is_empty() {
        return Ok(());
    }
    budget_holders::set_awaiting_agreement(conn, direct, true)?;
    pb_requests::set_agreement_required(conn, id, true)?;
    Ok(())
}

/// The family (or its council on its behalf) asks for a decision to be reviewed, once, with its
/// reason.
pub async fn ask_review(app: &App, actor: &Actor, id: PbRequestId, reason: String) -> AppResult<RequestView> {
    let actor = actor.clone();
    app.write(move |conn| ask_review_in(conn, &actor, id, reason)).await
}

/// [`ask_review`] inside a transaction the caller holds (the demo data set uses it too).
pub fn ask_review_in(conn: &mut Conn, actor: &Actor, id: PbRequestId, reason: String) -> AppResult<RequestView> {
    if !matches!(actor.role, Role::Family | Role::Council) {
        return Err(AppError::wrong_role(actor));
    }
    let reason = validate::text("reason", &reason, 1, pb::MAX_REASONS)?;
    let (request, plan) = visible(conn, actor, id)?;
    not_erased(&plan)?;
    records::record_change(conn, actor, &plan, ASKED_REVIEW)?;
    if !pb_requests::request_review(conn, id, &reason, actor.user_id)? {
        let (code, message) = if request.review_requested_at.is_some() {
            ("already_reviewed", "this decision has already been reviewed once")
        } else {
            ("not_decided", "a review can be asked for once the request is decided")
        };
        return Err(AppError::conflict(code, message, None));
    }
    load(conn, id)
}

/// The family accepts the direct-payment agreement (quarterly return, six-week review, surplus
/// repaid): the payment is then paid in, the first instalment at once if it is due.
pub async fn accept_agreement(app: &App, actor: &Actor, id: PbRequestId) -> AppResult<RequestView> {
    let actor = actor.clone();
    app.write(move |conn| accept_agreement_in(conn, &actor, id)).await
}

/// [`accept_agreement`] inside a transaction the caller holds (the demo data set uses it too).
pub fn accept_agreement_in(conn: &mut Conn, actor: &Actor, id: PbRequestId) -> AppResult<RequestView> {
    if actor.role != Role::Family {
        return Err(AppError::forbidden(
            "only the family accepts a direct-payment agreement",
        ));
    }
    let (request, _) = visible(conn, actor, id)?;
    if !pb_requests::accept_agreement(conn, id, actor.user_id)? {
        let message = if request.agreement_accepted_at.is_some() {
            "the agreement has already been accepted"
        } else {
            "this decision has no direct payment, so there is no agreement to accept"
        };
        return Err(AppError::conflict("no_agreement_to_accept", message, None));
    }
    let direct: Vec<AllocationId> = request
        .decisions
        .iter()
        .flat_map(|d| d.lines.iter())
        .filter(|(l, _)| l.management == Management::DirectPayment)
        .map(|(_, a)| *a)
        .collect();
    budget_holders::set_awaiting_agreement(conn, &direct, false)?;
    pay_in_due(conn, london_today(), Some(request.budget_holder_id))?;
    load(conn, id)
}

/// What the decision letter shows: the request, the child's first name and the council's name.
#[derive(Debug, Clone)]
pub struct Letter {
    pub request: RequestView,
    pub first_name: String,
    pub council: String,
    pub versions: Vec<RasView>,
}

/// The decision letter (the family's, its broker's and its council's to read).
pub async fn letter(app: &App, actor: &Actor, id: PbRequestId) -> AppResult<Letter> {
    let request = get_request(app, actor, id).await?;
    if request.decisions.is_empty() {
        return Err(AppError::not_found("decision letter"));
    }
    let versions = assessment_versions(app, &request).await?;
    let (holder, council) = (request.budget_holder_id, request.council_id);
    let (first_name, council) = app
        .read(move |conn| {
            let plan = budget_holders::load(conn, holder)?.ok_or_else(|| AppError::not_found("budget holder"))?;
            Ok((plan.first_name, councils::name(conn, council)?.unwrap_or_default()))
        })
        .await?;
    Ok(Letter {
        request,
        first_name,
        council,
        versions,
    })
}

// ---- What is due, reviews held, the report ----------------------------------------------------

/// What falls due within `within_days` (or is overdue), for the officer's council.
pub async fn due(app: &App, actor: &Actor, within_days: i64, page: PageRequest) -> AppResult<Page<DueItem>> {
    let council = council_of(actor)?;
    let today = london_today();
    let items = app
        .read(move |conn| {
            let plans = plan_reviews::due_facts(conn, council)?;
            let requests: Vec<pb::RequestDueFacts> = pb_requests::all_of(conn, council)?
                .into_iter()
                .filter(|r| r.status.is_open())
                .map(|r| pb::RequestDueFacts {
                    request_id: r.id.0,
                    budget_holder_id: r.budget_holder_id,
                    reference: r.child_reference,
                    status: r.status,
                    decision_due: r.decision_due,
                    review_requested_on: r.review_requested_at.map(|t| t.date()),
                })
                .collect();
            Ok(pb::due(&plans, &requests, today, within_days))
        })
        .await?;
    let page = page.slice(items);
    records::record_listed(app, actor, page.items.iter().map(|i| i.budget_holder_id), LISTED_DUE).await?;
    Ok(page)
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub kind: ReviewKind,
    /// When it was held; today if not given.
    #[serde(default)]
    pub held_on: Option<NaiveDate>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// An officer records a review held of a plan: it leaves the due list.
pub async fn record_review(
    app: &App,
    actor: &Actor,
    id: BudgetHolderId,
    input: ReviewInput,
) -> AppResult<Vec<ReviewView>> {
    council_of(actor)?;
    let today = london_today();
    let held_on = input.held_on.unwrap_or(today);
    if held_on > today {
        return Err(Invalid::one("held_on", "must not be in the future").into());
    }
    let notes = validate::optional_text("notes", input.notes.as_deref(), 4000)?.unwrap_or_default();
    let actor = actor.clone();
    app.write(move |conn| {
        plan_changed_by(conn, &actor, id, RECORDED_REVIEW)?;
        plan_reviews::add(conn, id, input.kind, held_on, &notes, actor.user_id)?;
        Ok(plan_reviews::of(conn, id)?)
    })
    .await
}

/// The reviews held of a plan (its council's to read).
pub async fn reviews(app: &App, actor: &Actor, id: BudgetHolderId) -> AppResult<Vec<ReviewView>> {
    council_of(actor)?;
    records::read_plan(app, actor, id, records::READ_PLAN, move |conn, _| {
        Ok(plan_reviews::of(conn, id)?)
    })
    .await
}

/// The council's personal-budget report, small numbers withheld below `min_count`.
pub async fn report(app: &App, actor: &Actor, min_count: usize) -> AppResult<PbReport> {
    let council = council_of(actor)?;
    app.read(move |conn| {
        let facts: Vec<RequestReportFacts> = pb_requests::all_of(conn, council)?
            .iter()
            .map(|r| RequestReportFacts {
                kind: r.kind,
                status: r.status,
                streams: r.streams.clone(),
                received_on: r.received_on,
                first_decided_on: r.decision(DecisionStage::First).map(|d| d.decided_at.date()),
                first_outcome: r.decision(DecisionStage::First).map(|d| d.outcome),
                amounts: r
                    .latest_decision()
                    .filter(|d| d.outcome != Outcome::Refused)
                    .map(|d| {
                        d.lines
                            .iter()
                            .map(|(l, _)| (l.stream, l.indicative, l.amount))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let plans = budget_holders::managements_of(conn, council)?;
        Ok(pb::report(&facts, &plans, min_count))
    })
    .await
}
