//! The API's personal-budget routes: resource allocation systems, requests, assessments,
//! decisions and reviews, the direct-payment agreement, what is due, reviews held of a plan,
//! the report, and a council's users with their permissions.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, Query};
use super::{Data, Reply, dto};
use crate::app::council_users::{self, CouncilUserChange, NewCouncilUser};
use crate::app::personal_budgets::{self as pb, Assessed, AssessmentInput, ReviewInput};
use crate::db::pb_requests::{AssessmentView, DecisionView, RequestView};
use crate::db::plan_reviews::ReviewView;
use crate::db::ras::RasView;
use crate::db::users::CouncilUser as CouncilUserView;
use crate::domain::paging::Page;
use crate::domain::personal_budget::{
    Count, DUE_WITHIN_DAYS, DecisionInput, DecisionLineInput, DecisionStage, DueItem, DueKind, Outcome, PbReport,
    Permission, RequestInput, RequestKind, RequestStatus, ReviewKind,
};
use crate::domain::ras::{
    AllocationTable, AllocationTableInput, AnswerInput, BandInput, Indicative, QuestionInput, RasInput, Scored,
};
use crate::domain::reports::DEFAULT_MIN_HOLDERS;
use crate::domain::{
    AllocationId, AssessmentId, BudgetHolderId, Management, PbRequestId, Pence, PlanReviewId, RasId, Role, Stream,
    UserId,
};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_ras)
        .service(list_ras)
        .service(one_ras)
        .service(update_ras)
        .service(create_request)
        .service(list_requests)
        .service(one_request)
        .service(assess)
        .service(decide)
        .service(review)
        .service(agreement)
        .service(due)
        .service(record_review)
        .service(reviews)
        .service(report)
        .service(create_user)
        .service(list_users)
        .service(change_user);
}

fn paging(page: Option<u32>, per_page: Option<u32>) -> dto::Paging {
    dto::Paging { page, per_page }
}

// ---- RAS --------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnswer {
    pub label: String,
    /// A whole number from 0 to 1000.
    pub points: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuestion {
    /// The question's key in an assessment's `answers`: 1 to 40 letters, digits, `_` or `-`.
    pub id: String,
    /// The part of the questionnaire it belongs to ("Being healthy").
    #[serde(default)]
    pub section: Option<String>,
    pub text: String,
    pub answers: Vec<NewAnswer>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBand {
    pub min_points: i64,
    pub max_points: i64,
    pub amount: Pence,
}

/// Either `bands` (from 0 points, following on without gaps, up to the highest score the
/// questions allow) or `per_point` with `cap`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAllocationTable {
    #[serde(default)]
    pub bands: Option<Vec<NewBand>>,
    #[serde(default)]
    pub per_point: Option<Pence>,
    #[serde(default)]
    pub cap: Option<Pence>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRas {
    pub name: String,
    pub stream: Stream,
    pub questions: Vec<NewQuestion>,
    pub allocation: NewAllocationTable,
}

impl From<NewRas> for RasInput {
    fn from(r: NewRas) -> RasInput {
        RasInput {
            name: r.name,
            stream: r.stream,
            questions: r
                .questions
                .into_iter()
                .map(|q| QuestionInput {
                    id: q.id,
                    section: q.section,
                    text: q.text,
                    answers: q
                        .answers
                        .into_iter()
                        .map(|a| AnswerInput {
                            label: a.label,
                            points: a.points,
                        })
                        .collect(),
                })
                .collect(),
            allocation: AllocationTableInput {
                bands: r.allocation.bands.map(|b| {
                    b.into_iter()
                        .map(|b| BandInput {
                            min_points: b.min_points,
                            max_points: b.max_points,
                            amount: b.amount,
                        })
                        .collect()
                }),
                per_point: r.allocation.per_point,
                cap: r.allocation.cap,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Answer {
    pub label: String,
    pub points: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Question {
    pub id: String,
    pub section: Option<String>,
    pub text: String,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Band {
    /// From 1.
    pub band: u32,
    pub min_points: u32,
    pub max_points: u32,
    pub amount: Pence,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationTableView {
    /// `bands` or `per_point`.
    pub kind: String,
    pub bands: Vec<Band>,
    pub per_point: Option<Pence>,
    pub cap: Option<Pence>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ras {
    pub id: RasId,
    pub name: String,
    pub stream: Stream,
    pub version: i32,
    pub questions: Vec<Question>,
    pub allocation: AllocationTableView,
    /// The highest score the questions allow.
    pub max_score: u32,
    /// Once used by an assessment a version never changes.
    pub in_use: bool,
    /// A newer version of the same name and stream exists: new assessments use that one.
    pub superseded: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&RasView> for Ras {
    fn from(r: &RasView) -> Ras {
        let allocation = match &r.definition.allocation {
            AllocationTable::Bands { bands } => AllocationTableView {
                kind: "bands".into(),
                bands: bands
                    .iter()
                    .enumerate()
                    .map(|(i, b)| Band {
                        band: i as u32 + 1,
                        min_points: b.min_points,
                        max_points: b.max_points,
                        amount: b.amount,
                    })
                    .collect(),
                per_point: None,
                cap: None,
            },
            AllocationTable::PerPoint { per_point, cap } => AllocationTableView {
                kind: "per_point".into(),
                bands: Vec::new(),
                per_point: Some(*per_point),
                cap: Some(*cap),
            },
        };
        Ras {
            id: r.id,
            name: r.name.clone(),
            stream: r.stream,
            version: r.version,
            questions: r
                .definition
                .questions
                .iter()
                .map(|q| Question {
                    id: q.id.clone(),
                    section: q.section.clone(),
                    text: q.text.clone(),
                    answers: q
                        .answers
                        .iter()
                        .map(|a| Answer {
                            label: a.label.clone(),
                            points: a.points,
                        })
                        .collect(),
                })
                .collect(),
            allocation,
            max_score: r.definition.max_score(),
            in_use: r.first_used_at.is_some(),
            superseded: r.superseded,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RasList {
    pub ras: Vec<Ras>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// A council admin adds a RAS for one funding stream: version 1 of a new name, or the next
/// version of an existing name and stream (new assessments use the newest; old ones keep theirs).
#[utoipa::path(tag = "personal budgets", request_body = NewRas, security(("bearer" = [])), responses((status = 201, body = Ras)))]
#[post("/ras")]
async fn create_ras(app: Data, auth: Auth, Json(body): Json<NewRas>) -> Reply {
    let ras = pb::create_ras(&app, &auth.actor, body.into()).await?;
    Ok(HttpResponse::Created().json(Ras::from(&ras)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RasQuery {
    /// Only this stream's.
    stream: Option<Stream>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The council's RAS versions, by name and stream, newest version first.
#[utoipa::path(tag = "personal budgets", params(RasQuery), security(("bearer" = [])), responses((status = 200, body = RasList)))]
#[get("/ras")]
async fn list_ras(app: Data, auth: Auth, q: Query<RasQuery>) -> Reply {
    let page = pb::list_ras(&app, &auth.actor, q.stream, paging(q.page, q.per_page).request()?).await?;
    Ok(HttpResponse::Ok().json(RasList {
        ras: page.items.iter().map(Into::into).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// One RAS version.
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = Ras)))]
#[get("/ras/{id}")]
async fn one_ras(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let ras = pb::get_ras(&app, &auth.actor, RasId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(Ras::from(&ras)))
}

/// A council admin corrects a version nobody has assessed with yet (same name and stream).
/// 409 `ras_in_use` once used: add a new version instead.
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path)), request_body = NewRas, security(("bearer" = [])), responses((status = 200, body = Ras)))]
#[put("/ras/{id}")]
async fn update_ras(app: Data, auth: Auth, id: web::Path<i64>, Json(body): Json<NewRas>) -> Reply {
    let ras = pb::update_ras(&app, &auth.actor, RasId(id.into_inner()), body.into()).await?;
    Ok(HttpResponse::Ok().json(Ras::from(&ras)))
}

// ---- Requests ---------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub budget_holder_id: BudgetHolderId,
    pub kind: RequestKind,
    pub streams: Vec<Stream>,
    /// How the family would like it held; `direct_payment` if not given.
    #[serde(default)]
    pub preferred_management: Option<Management>,
    /// Officers only: when a request made by phone or letter reached the council (not in the
    /// future, within the last year); today if not given. The deadline runs from it.
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    /// What the family said; at most 2000 characters.
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkingLine {
    pub question_id: String,
    pub section: Option<String>,
    pub question: String,
    pub answer: String,
    pub points: u32,
}

impl From<&Scored> for WorkingLine {
    fn from(s: &Scored) -> WorkingLine {
        WorkingLine {
            question_id: s.question_id.clone(),
            section: s.section.clone(),
            question: s.question.clone(),
            answer: s.answer.clone(),
            points: s.points,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Assessment {
    pub id: AssessmentId,
    pub ras_id: RasId,
    pub ras_name: String,
    pub ras_version: i32,
    pub stream: Stream,
    pub answers: BTreeMap<String, i64>,
    pub raw_score: u32,
    /// From 1, for a banded RAS.
    pub band: Option<u32>,
    pub indicative_amount: Pence,
    /// A family's self-assessment: an assessor's own is what counts.
    pub by_family: bool,
    pub assessed_by: UserId,
    pub created_at: DateTime<Utc>,
}

impl From<&AssessmentView> for Assessment {
    fn from(a: &AssessmentView) -> Assessment {
        Assessment {
            id: a.id,
            ras_id: a.ras_id,
            ras_name: a.ras_name.clone(),
            ras_version: a.ras_version,
            stream: a.stream,
            answers: a.answers.clone(),
            raw_score: a.raw_score,
            band: a.band,
            indicative_amount: a.indicative,
            by_family: a.by_family,
            assessed_by: a.assessed_by,
            created_at: a.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionLine {
    pub stream: Stream,
    pub management: Management,
    pub amount: Pence,
    /// The assessor's indicative budget for the stream, when there was one.
    pub indicative_amount: Option<Pence>,
    /// The allocation it made or changed.
    pub allocation_id: AllocationId,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Decision {
    /// `first`, or `review` for the decision on a review.
    pub stage: DecisionStage,
    pub outcome: Outcome,
    pub reasons: String,
    pub decided_by: UserId,
    pub decided_at: DateTime<Utc>,
    pub allocations: Vec<DecisionLine>,
}

impl From<&DecisionView> for Decision {
    fn from(d: &DecisionView) -> Decision {
        Decision {
            stage: d.stage,
            outcome: d.outcome,
            reasons: d.reasons.clone(),
            decided_by: d.decided_by,
            decided_at: d.decided_at.and_utc(),
            allocations: d
                .lines
                .iter()
                .map(|(l, a)| DecisionLine {
                    stream: l.stream,
                    management: l.management,
                    amount: l.amount,
                    indicative_amount: l.indicative,
                    allocation_id: *a,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PbRequest {
    pub id: PbRequestId,
    pub budget_holder_id: BudgetHolderId,
    pub child_reference: String,
    pub kind: RequestKind,
    pub streams: Vec<Stream>,
    pub preferred_management: Management,
    pub status: RequestStatus,
    pub received_on: NaiveDate,
    /// 20 weeks from receipt for a new plan, 14 at a review of the plan.
    pub decision_due: NaiveDate,
    /// Waiting for a decision past its due date.
    pub overdue: bool,
    /// Who recorded it: `family` or `council`.
    pub made_by: Role,
    pub notes: String,
    pub review_reason: Option<String>,
    pub review_requested_at: Option<DateTime<Utc>>,
    /// A direct payment was decided: the family accepts its agreement before it is paid in.
    pub agreement_required: bool,
    pub agreement_accepted_at: Option<DateTime<Utc>>,
    /// Newest first; the family's self-assessments are marked `by_family`.
    pub assessments: Vec<Assessment>,
    /// The first decision, then the review's.
    pub decisions: Vec<Decision>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&RequestView> for PbRequest {
    fn from(r: &RequestView) -> PbRequest {
        PbRequest {
            id: r.id,
            budget_holder_id: r.budget_holder_id,
            child_reference: r.child_reference.clone(),
            kind: r.kind,
            streams: r.streams.clone(),
            preferred_management: r.preferred_management,
            status: r.status,
            received_on: r.received_on,
            decision_due: r.decision_due,
            overdue: r.status.is_open() && r.decision_due < crate::app::direct_payments::london_today(),
            made_by: r.made_by_role,
            notes: r.notes.clone(),
            review_reason: r.review_reason.clone(),
            review_requested_at: r.review_requested_at.map(|t| t.and_utc()),
            agreement_required: r.agreement_required,
            agreement_accepted_at: r.agreement_accepted_at.map(|t| t.and_utc()),
            assessments: r.assessments.iter().map(Into::into).collect(),
            decisions: r.decisions.iter().map(Into::into).collect(),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PbRequestList {
    pub requests: Vec<PbRequest>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl From<&Page<RequestView>> for PbRequestList {
    fn from(p: &Page<RequestView>) -> PbRequestList {
        PbRequestList {
            requests: p.items.iter().map(Into::into).collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

/// A family requests a personal budget for its plan (a new plan or at a review), or an officer
/// records a request made by phone or letter. 409 `request_open` while another request for one of
/// the streams waits for a decision.
#[utoipa::path(tag = "personal budgets", request_body = NewRequest, security(("bearer" = [])), responses((status = 201, body = PbRequest)))]
#[post("/pb-requests")]
async fn create_request(app: Data, auth: Auth, Json(b): Json<NewRequest>) -> Reply {
    let input = RequestInput {
        budget_holder_id: b.budget_holder_id,
        kind: b.kind,
        streams: b.streams,
        preferred_management: b.preferred_management,
        received_on: b.received_on,
        notes: b.notes,
    };
    let request = pb::request(&app, &auth.actor, input).await?;
    Ok(HttpResponse::Created().json(PbRequest::from(&request)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    /// Only requests in this status.
    status: Option<RequestStatus>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The requests on the plans the caller sees (a council's, a family's own), newest first.
#[utoipa::path(tag = "personal budgets", params(RequestQuery), security(("bearer" = [])), responses((status = 200, body = PbRequestList)))]
#[get("/pb-requests")]
async fn list_requests(app: Data, auth: Auth, q: Query<RequestQuery>) -> Reply {
    let page = pb::list_requests(&app, &auth.actor, q.status, paging(q.page, q.per_page).request()?).await?;
    Ok(HttpResponse::Ok().json(PbRequestList::from(&page)))
}

/// One request with its assessments and decisions.
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = PbRequest)))]
#[get("/pb-requests/{id}")]
async fn one_request(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let request = pb::get_request(&app, &auth.actor, PbRequestId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(PbRequest::from(&request)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    /// The newest version of a RAS for one of the streams asked for.
    pub ras_id: RasId,
    /// Every question's id with the index (from 0) of the answer chosen.
    pub answers: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentResult {
    pub raw_score: u32,
    /// From 1, for a banded RAS; none for an amount per point.
    pub band: Option<u32>,
    /// The band's points, from and to.
    pub band_points: Option<[u32; 2]>,
    pub indicative_amount: Pence,
    /// Whether an amount per point was held to the cap.
    pub capped: bool,
    /// Each question's answer and points.
    pub working: Vec<WorkingLine>,
    pub ras_id: RasId,
    pub ras_version: i32,
    pub stream: Stream,
    pub assessment: Assessment,
    pub request: PbRequest,
}

impl AssessmentResult {
    fn new(a: &Assessed) -> AssessmentResult {
        let r: &Indicative = &a.result;
        AssessmentResult {
            raw_score: r.raw_score,
            band: r.band,
            band_points: r.band_points.map(|(from, to)| [from, to]),
            indicative_amount: r.amount,
            capped: r.capped,
            working: r.working.iter().map(Into::into).collect(),
            ras_id: a.ras.id,
            ras_version: a.ras.version,
            stream: a.ras.stream,
            assessment: (&a.assessment).into(),
            request: (&a.request).into(),
        }
    }
}

/// An assessor (the `assess` permission) completes a RAS for one stream of the request, or the
/// family self-assesses (counted once an assessor has completed one). The version is frozen from
/// then on. 409 `ras_superseded` for an old version; 403 `separation_of_duties` for whoever
/// decided the request.
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path)), request_body = NewAssessment, security(("bearer" = [])), responses((status = 201, body = AssessmentResult)))]
#[post("/pb-requests/{id}/assessments")]
async fn assess(app: Data, auth: Auth, id: web::Path<i64>, Json(b): Json<NewAssessment>) -> Reply {
    let input = AssessmentInput {
        ras_id: b.ras_id,
        answers: b.answers,
    };
    let assessed = pb::assess(&app, &auth.actor, PbRequestId(id.into_inner()), input).await?;
    Ok(HttpResponse::Created().json(AssessmentResult::new(&assessed)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDecisionLine {
    pub stream: Stream,
    /// The family's preference if not given.
    #[serde(default)]
    pub management: Option<Management>,
    /// Required when varied; when agreed, the indicative budget (and only it).
    #[serde(default)]
    pub amount: Option<Pence>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDecision {
    pub outcome: Outcome,
    /// Agreed: every stream at its indicative budget unless listed. Varied: each stream allocated
    /// with its amount (one left out is not allocated). Refused: none.
    #[serde(default)]
    pub allocations: Vec<NewDecisionLine>,
    /// Required when varied or refused; they go in the decision letter.
    #[serde(default)]
    pub reasons: Option<String>,
}

/// A decider (the `decide` permission, not an assessor of this request) records the panel's
/// decision, or the decision on a review (by someone not involved before). Agreed and varied
/// make the plan's allocations in the same transaction; on a review they change the amounts of
/// the streams named. 403 `separation_of_duties`; 409 `already_decided`.
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path)), request_body = NewDecision, security(("bearer" = [])), responses((status = 200, body = PbRequest)))]
#[post("/pb-requests/{id}/decision")]
async fn decide(app: Data, auth: Auth, id: web::Path<i64>, Json(b): Json<NewDecision>) -> Reply {
    let input = DecisionInput {
        outcome: b.outcome,
        allocations: b
            .allocations
            .into_iter()
            .map(|l| DecisionLineInput {
                stream: l.stream,
                management: l.management,
                amount: l.amount,
            })
            .collect(),
        reasons: b.reasons,
    };
    let request = pb::decide(&app, &auth.actor, PbRequestId(id.into_inner()), input).await?;
    Ok(HttpResponse::Ok().json(PbRequest::from(&request)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    /// Why the family asks; at most 4000 characters.
    pub reason: String,
}

/// The family (or its council on its behalf) asks for a decision to be reviewed, once. 409
/// `not_decided` or `already_reviewed`.
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path)), request_body = NewReview, security(("bearer" = [])), responses((status = 200, body = PbRequest)))]
#[post("/pb-requests/{id}/review")]
async fn review(app: Data, auth: Auth, id: web::Path<i64>, Json(b): Json<NewReview>) -> Reply {
    let request = pb::ask_review(&app, &auth.actor, PbRequestId(id.into_inner()), b.reason).await?;
    Ok(HttpResponse::Ok().json(PbRequest::from(&request)))
}

/// The family accepts the direct-payment agreement (a quarterly return, a review after six
/// weeks, surplus repaid); the payment is paid in from then on. 409 `no_agreement_to_accept`.
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = PbRequest)))]
#[post("/pb-requests/{id}/agreement")]
async fn agreement(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let request = pb::accept_agreement(&app, &auth.actor, PbRequestId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(PbRequest::from(&request)))
}

// ---- Due, reviews held, report ----------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct Due {
    pub kind: DueKind,
    /// What it is, in words.
    pub label: String,
    pub budget_holder_id: BudgetHolderId,
    pub child_reference: String,
    pub request_id: Option<i64>,
    pub due_on: NaiveDate,
    pub overdue: bool,
}

impl From<&DueItem> for Due {
    fn from(d: &DueItem) -> Due {
        Due {
            kind: d.kind,
            label: d.kind.label().to_string(),
            budget_holder_id: d.budget_holder_id,
            child_reference: d.reference.clone(),
            request_id: d.request_id,
            due_on: d.due_on,
            overdue: d.overdue,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DueList {
    pub within_days: i64,
    pub items: Vec<Due>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DueQuery {
    /// Show what falls due within this many days (0 to 366); 28 if not given. Overdue items are
    /// always shown.
    within_days: Option<i64>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// What the council's officers have due: decisions near their deadline, reviews asked for,
/// six-week and annual reviews, young people turning 17 to screen for adult care. Overdue first.
#[utoipa::path(tag = "personal budgets", params(DueQuery), security(("bearer" = [])), responses((status = 200, body = DueList)))]
#[get("/council/due")]
async fn due(app: Data, auth: Auth, q: Query<DueQuery>) -> Reply {
    let within_days = q.within_days.unwrap_or(DUE_WITHIN_DAYS);
    if !(0..=366).contains(&within_days) {
        return Err(crate::app::AppError::BadParameter {
            field: "within_days".into(),
            message: "must be from 0 to 366".into(),
        }
        .into());
    }
    let page = pb::due(&app, &auth.actor, within_days, paging(q.page, q.per_page).request()?).await?;
    Ok(HttpResponse::Ok().json(DueList {
        within_days,
        items: page.items.iter().map(Into::into).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlanReview {
    pub kind: ReviewKind,
    /// Not in the future; today if not given.
    #[serde(default)]
    pub held_on: Option<NaiveDate>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanReview {
    pub id: PlanReviewId,
    pub kind: ReviewKind,
    pub held_on: NaiveDate,
    pub notes: String,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<&ReviewView> for PlanReview {
    fn from(r: &ReviewView) -> PlanReview {
        PlanReview {
            id: r.id,
            kind: r.kind,
            held_on: r.held_on,
            notes: r.notes.clone(),
            recorded_by: r.recorded_by.clone(),
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanReviewList {
    pub reviews: Vec<PlanReview>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

fn review_list(all: Vec<ReviewView>, page: crate::domain::paging::PageRequest) -> PlanReviewList {
    let page = page.slice(all);
    PlanReviewList {
        reviews: page.items.iter().map(Into::into).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }
}

/// An officer records a review held of a plan (six-week, annual, adult-care screening); it
/// leaves the due list. Answers with the plan's reviews, latest first.
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path)), request_body = NewPlanReview, security(("bearer" = [])), responses((status = 201, body = PlanReviewList)))]
#[post("/budget-holders/{id}/reviews")]
async fn record_review(app: Data, auth: Auth, id: web::Path<i64>, Json(b): Json<NewPlanReview>) -> Reply {
    let input = ReviewInput {
        kind: b.kind,
        held_on: b.held_on,
        notes: b.notes,
    };
    let all = pb::record_review(&app, &auth.actor, BudgetHolderId(id.into_inner()), input).await?;
    Ok(HttpResponse::Created().json(review_list(all, Default::default())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReviewsQuery {
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The reviews held of a plan, latest first (its council's).
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path), ReviewsQuery), security(("bearer" = [])), responses((status = 200, body = PlanReviewList)))]
#[get("/budget-holders/{id}/reviews")]
async fn reviews(app: Data, auth: Auth, id: web::Path<i64>, q: Query<ReviewsQuery>) -> Reply {
    let page = paging(q.page, q.per_page).request()?;
    let all = pb::reviews(&app, &auth.actor, BudgetHolderId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(review_list(all, page)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Counted {
    /// Withheld (null) when above 0 and below `min_count`.
    pub count: Option<u64>,
    pub suppressed: bool,
}

impl From<Count> for Counted {
    fn from(c: Count) -> Counted {
        Counted {
            count: c.0,
            suppressed: c.suppressed(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    pub status: RequestStatus,
    #[serde(flatten)]
    pub count: Counted,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StreamStatusCount {
    pub stream: Stream,
    pub status: RequestStatus,
    #[serde(flatten)]
    pub count: Counted,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeCount {
    pub outcome: Outcome,
    #[serde(flatten)]
    pub count: Counted,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionTimes {
    pub kind: RequestKind,
    pub decided: Counted,
    /// Median days from receipt to the first decision; null when withheld or none decided.
    pub median_days: Option<f64>,
    /// 140 (20 weeks) for a new plan, 98 (14 weeks) at a review.
    pub target_days: i64,
    pub within_target: Counted,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StreamAmounts {
    pub stream: Stream,
    pub decisions: Counted,
    /// Totals over the decisions in force; null when withheld.
    pub indicative_total: Option<Pence>,
    pub final_total: Option<Pence>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArrangementCount {
    /// `direct_payment`, `organised`, `third_party` or `combination`.
    pub arrangement: String,
    #[serde(flatten)]
    pub count: Counted,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StreamCount {
    pub stream: Stream,
    #[serde(flatten)]
    pub count: Counted,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalBudgetReport {
    pub min_count: usize,
    pub by_status: Vec<StatusCount>,
    pub by_stream: Vec<StreamStatusCount>,
    pub outcomes: Vec<OutcomeCount>,
    pub time_to_decision: Vec<DecisionTimes>,
    pub amounts: Vec<StreamAmounts>,
    /// Plans with a personal budget, by how it is held (the DfE's count).
    pub plans_by_arrangement: Vec<ArrangementCount>,
    pub plans_by_stream: Vec<StreamCount>,
}

impl From<&PbReport> for PersonalBudgetReport {
    fn from(r: &PbReport) -> PersonalBudgetReport {
        PersonalBudgetReport {
            min_count: r.min_count,
            by_status: r
                .by_status
                .iter()
                .map(|(s, c)| StatusCount {
                    status: *s,
                    count: (*c).into(),
                })
                .collect(),
            by_stream: r
                .by_stream
                .iter()
                .map(|(stream, status, c)| StreamStatusCount {
                    stream: *stream,
                    status: *status,
                    count: (*c).into(),
                })
                .collect(),
            outcomes: r
                .outcomes
                .iter()
                .map(|(o, c)| OutcomeCount {
                    outcome: *o,
                    count: (*c).into(),
                })
                .collect(),
            time_to_decision: r
                .time_to_decision
                .iter()
                .map(|t| DecisionTimes {
                    kind: t.kind,
                    decided: t.decided.into(),
                    median_days: t.median_days,
                    target_days: t.target_days,
                    within_target: t.within_target.into(),
                })
                .collect(),
            amounts: r
                .amounts
                .iter()
                .map(|(stream, n, indicative, final_total)| StreamAmounts {
                    stream: *stream,
                    decisions: (*n).into(),
                    indicative_total: *indicative,
                    final_total: *final_total,
                })
                .collect(),
            plans_by_arrangement: r
                .plans_by_arrangement
                .iter()
                .map(|(a, c)| ArrangementCount {
                    arrangement: a.as_str().into(),
                    count: (*c).into(),
                })
                .collect(),
            plans_by_stream: r
                .plans_by_stream
                .iter()
                .map(|(s, c)| StreamCount {
                    stream: *s,
                    count: (*c).into(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Counts above 0 and below this are withheld (1 to 100); 5 if not given.
    min_count: Option<usize>,
}

/// The council's personal-budget report: requests by status and stream, outcomes, days to
/// decision against 20 and 14 weeks, indicative against final amounts, and plans with a personal
/// budget by arrangement and stream. Small numbers are withheld.
#[utoipa::path(tag = "personal budgets", params(ReportQuery), security(("bearer" = [])), responses((status = 200, body = PersonalBudgetReport)))]
#[get("/reports/personal-budgets")]
async fn report(app: Data, auth: Auth, q: Query<ReportQuery>) -> Reply {
    let min_count = q.min_count.unwrap_or(DEFAULT_MIN_HOLDERS);
    if !(1..=100).contains(&min_count) {
        return Err(crate::app::AppError::BadParameter {
            field: "min_count".into(),
            message: "must be from 1 to 100".into(),
        }
        .into());
    }
    let report = pb::report(&app, &auth.actor, min_count).await?;
    Ok(HttpResponse::Ok().json(PersonalBudgetReport::from(&report)))
}

// ---- Council users ----------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCouncilUserBody {
    pub email: String,
    /// At least 12 characters. Without one the account cannot log in until a password is set.
    #[serde(default)]
    pub password: Option<String>,
    /// Any of `assess`, `decide`, `admin`; none if not given.
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouncilUserChangeBody {
    /// Replaces the permissions when given.
    #[serde(default)]
    pub permissions: Option<Vec<Permission>>,
    /// False turns the account off (its sessions end at once); true turns it back on.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouncilUser {
    pub id: UserId,
    pub email: String,
    pub permissions: Vec<Permission>,
    pub active: bool,
    pub password_set: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&CouncilUserView> for CouncilUser {
    fn from(u: &CouncilUserView) -> CouncilUser {
        CouncilUser {
            id: u.id,
            email: u.email.clone(),
            permissions: u.permissions.list().to_vec(),
            active: u.active,
            password_set: u.password_set,
            created_at: u.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouncilUserList {
    pub users: Vec<CouncilUser>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// A council admin adds an officer with permissions (`assess`, `decide`, `admin`). The officer
/// sets up a second factor at first login, as every officer does. 409 `email_taken`.
#[utoipa::path(tag = "council", request_body = NewCouncilUserBody, security(("bearer" = [])), responses((status = 201, body = CouncilUser)))]
#[post("/council/users")]
async fn create_user(app: Data, auth: Auth, Json(b): Json<NewCouncilUserBody>) -> Reply {
    let input = NewCouncilUser {
        email: b.email,
        password: b.password,
        permissions: b.permissions,
    };
    let user = council_users::create(&app, &auth.actor, input).await?;
    Ok(HttpResponse::Created().json(CouncilUser::from(&user)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsersQuery {
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The council's users and their permissions, oldest first (admins only).
#[utoipa::path(tag = "council", params(UsersQuery), security(("bearer" = [])), responses((status = 200, body = CouncilUserList)))]
#[get("/council/users")]
async fn list_users(app: Data, auth: Auth, q: Query<UsersQuery>) -> Reply {
    let page = council_users::list(&app, &auth.actor, paging(q.page, q.per_page).request()?).await?;
    Ok(HttpResponse::Ok().json(CouncilUserList {
        users: page.items.iter().map(Into::into).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// A council admin changes a user's permissions, or turns the account off or on. 409
/// `last_admin` when no active admin would be left.
#[utoipa::path(tag = "council", params(("id" = i64, Path)), request_body = CouncilUserChangeBody, security(("bearer" = [])), responses((status = 200, body = CouncilUser)))]
#[put("/council/users/{id}")]
async fn change_user(app: Data, auth: Auth, id: web::Path<i64>, Json(b): Json<CouncilUserChangeBody>) -> Reply {
    let change = CouncilUserChange {
        permissions: b.permissions,
        active: b.active,
    };
    let user = council_users::change(&app, &auth.actor, UserId(id.into_inner()), change).await?;
    Ok(HttpResponse::Ok().json(CouncilUser::from(&user)))
}
