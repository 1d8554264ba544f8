//! Personal-budget requests with their assessments and decisions. A request's status moves by
//! guarded statements, and each stage's decision is unique, so two deciders racing cannot both
//! decide (nor allocate twice).

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{budget_holders, pb_assessments, pb_decision_lines, pb_decisions, pb_requests, ras, users};
use super::{Conn, DbResult, now};
use crate::domain::access::PlanScope;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::personal_budget::{
    DecisionLine, DecisionStage, Outcome, RequestKind, RequestStatus, ValidDecision, ValidRequest, streams_parse,
    streams_stored,
};
use crate::domain::ras::Indicative;
use crate::domain::{
    AllocationId, AssessmentId, BudgetHolderId, CouncilId, Management, PbRequestId, Pence, RasId, Role, Stream, UserId,
};

#[derive(Debug, Clone)]
pub struct AssessmentView {
    pub id: AssessmentId,
    pub ras_id: RasId,
    pub ras_name: String,
    pub ras_version: i32,
    pub stream: Stream,
    pub answers: BTreeMap<String, i64>,
    pub raw_score: u32,
    pub band: Option<u32>,
    pub indicative: Pence,
    pub assessed_by: UserId,
    pub assessor_email: String,
    /// The family's own self-assessment (not counted until an assessor completes one).
    pub by_family: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct DecisionView {
    pub stage: DecisionStage,
    pub outcome: Outcome,
    pub reasons: String,
    pub decided_by: UserId,
    pub decider_email: String,
    pub decided_at: NaiveDateTime,
    pub lines: Vec<(DecisionLine, AllocationId)>,
}

#[derive(Debug, Clone)]
pub struct RequestView {
    pub id: PbRequestId,
    pub council_id: CouncilId,
    pub budget_holder_id: BudgetHolderId,
    pub child_reference: String,
    pub kind: RequestKind,
    pub streams: Vec<Stream>,
    pub preferred_management: Management,
    pub status: RequestStatus,
    pub received_on: NaiveDate,
    pub decision_due: NaiveDate,
    pub made_by_role: Role,
    pub notes: String,
    pub review_reason: Option<String>,
    pub review_requested_at: Option<NaiveDateTime>,
    pub agreement_required: bool,
    pub agreement_accepted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Newest first.
    pub assessments: Vec<AssessmentView>,
    /// The first decision, then the review's.
    pub decisions: Vec<DecisionView>,
}

impl RequestView {
    /// The assessor's latest indicative budget for each stream asked for.
    pub fn indicative(&self) -> Vec<(Stream, Pence)> {
        self.streams
            .iter()
            .filter_map(|s| {
                self.assessments
                    .iter()
                    .find(|a| a.stream == *s && !a.by_family)
                    .map(|a| (*s, a.indicative))
            })
            .collect()
    }

    /// The council users who assessed it.
    pub fn assessors(&self) -> Vec<UserId> {
        self.assessments
            .iter()
            .filter(|a| !a.by_family)
            .map(|a| a.assessed_by)
            .collect()
    }

    pub fn decision(&self, stage: DecisionStage) -> Option<&DecisionView> {
        self.decisions.iter().find(|d| d.stage == stage)
    }

    /// The decision in force: the review's once made, else the first.
    pub fn latest_decision(&self) -> Option<&DecisionView> {
        self.decision(DecisionStage::Review)
            .or_else(|| self.decision(DecisionStage::First))
    }
}

#[derive(Queryable)]
struct Row {
    id: i64,
    council_id: i64,
    budget_holder_id: i64,
    reference: String,
    kind: String,
    streams: String,
    preferred_management: String,
    status: String,
    received_on: NaiveDate,
    decision_due: NaiveDate,
    made_by_role: String,
    notes: String,
    review_reason: Option<String>,
    review_requested_at: Option<NaiveDateTime>,
    agreement_required: bool,
    agreement_accepted_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

macro_rules! columns {
    () => {
        (
            pb_requests::id,
            pb_requests::council_id,
            pb_requests::budget_holder_id,
            budget_holders::reference,
            pb_requests::kind,
            pb_requests::streams,
            pb_requests::preferred_management,
            pb_requests::status,
            pb_requests::received_on,
            pb_requests::decision_due,
            pb_requests::made_by_role,
            pb_requests::notes,
            pb_requests::review_reason,
            pb_requests::review_requested_at,
            pb_requests::agreement_required,
            pb_requests::agreement_accepted_at,
            pb_requests::created_at,
            pb_requests::updated_at,
        )
    };
}

type DecisionRow = (i64, String, String, String, i64, String, NaiveDateTime);
type LineRow = (i64, String, String, i64, Option<i64>, i64);

type AssessmentRow = (
    i64,
    i64,
    String,
    i32,
    String,
    String,
    i32,
    Option<i32>,
    i64,
    i64,
    String,
    bool,
    NaiveDateTime,
);

/// Requests read a page (or a council) at a time: their assessments, decisions and lines come in
/// one query each per chunk of requests, never one per request.
fn views(conn: &mut Conn, rows: Vec<Row>) -> DbResult<Vec<RequestView>> {
    let mut assessments: HashMap<i64, Vec<AssessmentRow>> = HashMap::new();
    let mut decisions: HashMap<i64, Vec<DecisionRow>> = HashMap::new();
    let mut lines: HashMap<i64, Vec<LineRow>> = HashMap::new();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    // Within every backend's limit on bound parameters.
    for chunk in ids.chunks(1000) {
        let found: Vec<(i64, AssessmentRow)> = pb_assessments::table
            .inner_join(ras::table)
            .inner_join(users::table.on(users::id.eq(pb_assessments::assessed_by)))
            .filter(pb_assessments::pb_request_id.eq_any(chunk))
            .order(pb_assessments::id.desc())
            .select((
                pb_assessments::pb_request_id,
                (
                    pb_assessments::id,
                    pb_assessments::ras_id,
                    ras::name,
                    ras::version,
                    pb_assessments::stream,
                    pb_assessments::answers,
                    pb_assessments::raw_score,
                    pb_assessments::band,
                    pb_assessments::indicative_pence,
                    pb_assessments::assessed_by,
                    users::email,
                    pb_assessments::by_family,
                    pb_assessments::created_at,
                ),
            ))
            .load(conn)?;
        for (request, a) in found {
            assessments.entry(request).or_default().push(a);
        }
        let found: Vec<(i64, DecisionRow)> = pb_decisions::table
            .inner_join(users::table.on(users::id.eq(pb_decisions::decided_by)))
            .filter(pb_decisions::pb_request_id.eq_any(chunk))
            .order(pb_decisions::id)
            .select((
                pb_decisions::pb_request_id,
                (
                    pb_decisions::id,
                    pb_decisions::stage,
                    pb_decisions::outcome,
                    pb_decisions::reasons,
                    pb_decisions::decided_by,
                    users::email,
                    pb_decisions::decided_at,
                ),
            ))
            .load(conn)?;
        let decision_ids: Vec<i64> = found.iter().map(|(_, d)| d.0).collect();
        for (request, d) in found {
            decisions.entry(request).or_default().push(d);
        }
        let found: Vec<LineRow> = pb_decision_lines::table
            .filter(pb_decision_lines::decision_id.eq_any(&decision_ids))
            .order((pb_decision_lines::decision_id, pb_decision_lines::stream))
            .select((
                pb_decision_lines::decision_id,
                pb_decision_lines::stream,
                pb_decision_lines::management,
                pb_decision_lines::amount_pence,
                pb_decision_lines::indicative_pence,
                pb_decision_lines::allocation_id,
            ))
            .load(conn)?;
        for l in found {
            lines.entry(l.0).or_default().push(l);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let assessments = assessments.remove(&r.id).unwrap_or_default();
            let decisions = decisions.remove(&r.id).unwrap_or_default();
            view(r, assessments, decisions, &lines)
        })
        .collect())
}

fn view(
    r: Row,
    assessments: Vec<AssessmentRow>,
    decisions: Vec<DecisionRow>,
    lines: &HashMap<i64, Vec<LineRow>>,
) -> RequestView {
    RequestView {
        id: PbRequestId(r.id),
        council_id: CouncilId(r.council_id),
        budget_holder_id: BudgetHolderId(r.budget_holder_id),
        child_reference: r.reference,
        kind: r.kind.parse().unwrap_or(RequestKind::NewPlan),
        streams: streams_parse(&r.streams),
        preferred_management: r.preferred_management.parse().unwrap_or(Management::DirectPayment),
        status: r.status.parse().unwrap_or(RequestStatus::Received),
        received_on: r.received_on,
        decision_due: r.decision_due,
        made_by_role: r.made_by_role.parse().unwrap_or(Role::Council),
        notes: r.notes,
        review_reason: r.review_reason,
        review_requested_at: r.review_requested_at,
        agreement_required: r.agreement_required,
        agreement_accepted_at: r.agreement_accepted_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
        assessments: assessments
            .into_iter()
            .map(|a| AssessmentView {
                id: AssessmentId(a.0),
                ras_id: RasId(a.1),
                ras_name: a.2,
                ras_version: a.3,
                stream: a.4.parse().unwrap_or(Stream::SocialCare),
                answers: serde_json::from_str(&a.5).unwrap_or_default(),
                raw_score: u32::try_from(a.6).unwrap_or(0),
                band: a.7.and_then(|b| u32::try_from(b).ok()),
                indicative: Pence::from_stored(a.8),
                assessed_by: UserId(a.9),
                assessor_email: a.10,
                by_family: a.11,
                created_at: a.12,
            })
            .collect(),
        decisions: decisions
            .into_iter()
            .map(|(id, stage, outcome, reasons, by, email, at)| DecisionView {
                stage: stage.parse().unwrap_or(DecisionStage::First),
                outcome: outcome.parse().unwrap_or(Outcome::Refused),
                reasons,
                decided_by: UserId(by),
                decider_email: email,
                decided_at: at,
                lines: lines
                    .get(&id)
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        (
                            DecisionLine {
                                stream: l.1.parse().unwrap_or(Stream::SocialCare),
                                management: l.2.parse().unwrap_or(Management::Organised),
                                amount: Pence::from_stored(l.3),
                                indicative: l.4.map(Pence::from_stored),
                            },
                            AllocationId(l.5),
                        )
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn create(conn: &mut Conn, council: CouncilId, r: &ValidRequest, by: UserId, role: Role) -> DbResult<PbRequestId> {
    let at = now();
    let id = diesel::insert_into(pb_requests::table)
        .values((
            pb_requests::council_id.eq(council.0),
            pb_requests::budget_holder_id.eq(r.budget_holder_id.0),
            pb_requests::kind.eq(r.kind.as_str()),
            pb_requests::streams.eq(streams_stored(&r.streams)),
            pb_requests::preferred_management.eq(r.preferred_management.as_str()),
            pb_requests::status.eq(RequestStatus::Received.as_str()),
            pb_requests::received_on.eq(r.received_on),
            pb_requests::decision_due.eq(r.decision_due),
            pb_requests::made_by.eq(by.0),
            pb_requests::made_by_role.eq(role.as_str()),
            pb_requests::notes.eq(&r.notes),
            pb_requests::created_at.eq(at),
            pb_requests::updated_at.eq(at),
        ))
        .returning(pb_requests::id)
        .get_result::<i64>(conn)?;
    Ok(PbRequestId(id))
}

/// The plan's requests still waiting for a decision, as (id, streams).
pub fn open_of(conn: &mut Conn, holder: BudgetHolderId) -> DbResult<Vec<(PbRequestId, Vec<Stream>)>> {
    let open: Vec<&str> = RequestStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let rows: Vec<(i64, String)> = pb_requests::table
        .filter(pb_requests::budget_holder_id.eq(holder.0))
        .filter(pb_requests::status.eq_any(open))
        .select((pb_requests::id, pb_requests::streams))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, s)| (PbRequestId(id), streams_parse(&s)))
        .collect())
}

pub fn load(conn: &mut Conn, id: PbRequestId) -> DbResult<Option<RequestView>> {
    let row: Option<Row> = pb_requests::table
        .inner_join(budget_holders::table)
        .filter(pb_requests::id.eq(id.0))
        .select(columns!())
        .get_result(conn)
        .optional()?;
    Ok(views(conn, row.into_iter().collect())?.pop())
}

/// One page of the requests on the plans in `scope`, newest first.
pub fn list(
    conn: &mut Conn,
    scope: PlanScope,
    status: Option<RequestStatus>,
    page: PageRequest,
) -> DbResult<Page<RequestView>> {
    let filtered = || {
        let mut q = pb_requests::table.inner_join(budget_holders::table).into_boxed();
        q = match scope {
            PlanScope::Council(c) => q.filter(pb_requests::council_id.eq(c.0)),
            PlanScope::Family(u) => q
                .filter(budget_holders::family_user_id.eq(u.0))
                .filter(budget_holders::erased_at.is_null()),
            PlanScope::Broker(o) => q
                .filter(budget_holders::broker_organisation_id.eq(o.0))
                .filter(budget_holders::erased_at.is_null()),
        };
        if let Some(s) = status {
            q = q.filter(pb_requests::status.eq(s.as_str()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<Row> = filtered()
        .order(pb_requests::id.desc())
        .offset(page.offset())
        .limit(page.limit())
        .select(columns!())
        .load(conn)?;
    let items = views(conn, rows)?;
    Ok(Page::new(items, total as u64, page))
}

/// Move a request from one of `from` to `to`; false when it was in none of them (someone else
/// moved it first).
pub fn move_status(conn: &mut Conn, id: PbRequestId, from: &[RequestStatus], to: RequestStatus) -> DbResult<bool> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let n = diesel::update(
        pb_requests::table
            .filter(pb_requests::id.eq(id.0))
            .filter(pb_requests::status.eq_any(from)),
    )
    .set((pb_requests::status.eq(to.as_str()), pb_requests::updated_at.eq(now())))
    .execute(conn)?;
    Ok(n == 1)
}

pub struct NewAssessment<'a> {
    pub request: PbRequestId,
    pub ras: RasId,
    pub stream: Stream,
    pub answers: &'a BTreeMap<String, i64>,
    pub result: &'a Indicative,
    pub by: UserId,
    pub by_family: bool,
}

pub fn add_assessment(conn: &mut Conn, a: NewAssessment<'_>) -> DbResult<AssessmentId> {
    let answers = serde_json::to_string(a.answers).map_err(|e| super::DbError::Corrupt(e.to_string()))?;
    let id = diesel::insert_into(pb_assessments::table)
        .values((
            pb_assessments::pb_request_id.eq(a.request.0),
            pb_assessments::ras_id.eq(a.ras.0),
            pb_assessments::stream.eq(a.stream.as_str()),
            pb_assessments::answers.eq(answers),
            pb_assessments::raw_score.eq(i32::try_from(a.result.raw_score).unwrap_or(i32::MAX)),
            pb_assessments::band.eq(a.result.band.and_then(|b| i32::try_from(b).ok())),
            pb_assessments::indicative_pence.eq(a.result.amount.pence()),
            pb_assessments::assessed_by.eq(a.by.0),
            pb_assessments::by_family.eq(a.by_family),
            pb_assessments::created_at.eq(now()),
        ))
        .returning(pb_assessments::id)
        .get_result::<i64>(conn)?;
    Ok(AssessmentId(id))
}

/// Record a decision and its lines (each with the allocation it made or changed). A second
/// decision at the same stage is a unique violation.
pub fn add_decision(
    conn: &mut Conn,
    request: PbRequestId,
    stage: DecisionStage,
    d: &ValidDecision,
    allocations: &[AllocationId],
    by: UserId,
) -> DbResult<()> {
    let id = diesel::insert_into(pb_decisions::table)
        .values((
            pb_decisions::pb_request_id.eq(request.0),
            pb_decisions::stage.eq(stage.as_str()),
            pb_decisions::outcome.eq(d.outcome.as_str()),
            pb_decisions::reasons.eq(&d.reasons),
            pb_decisions::decided_by.eq(by.0),
            pb_decisions::decided_at.eq(now()),
        ))
        .returning(pb_decisions::id)
        .get_result::<i64>(conn)?;
    for (line, allocation) in d.lines.iter().zip(allocations) {
        diesel::insert_into(pb_decision_lines::table)
            .values((
                pb_decision_lines::decision_id.eq(id),
                pb_decision_lines::stream.eq(line.stream.as_str()),
                pb_decision_lines::management.eq(line.management.as_str()),
                pb_decision_lines::amount_pence.eq(line.amount.pence()),
                pb_decision_lines::indicative_pence.eq(line.indicative.map(|p| p.pence())),
                pb_decision_lines::allocation_id.eq(allocation.0),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn set_agreement_required(conn: &mut Conn, id: PbRequestId, required: bool) -> DbResult<()> {
    diesel::update(pb_requests::table.find(id.0))
        .set(pb_requests::agreement_required.eq(required))
        .execute(conn)?;
    Ok(())
}

/// Record the family's acceptance once; false when it was already accepted or not required.
pub fn accept_agreement(conn: &mut Conn, id: PbRequestId, by: UserId) -> DbResult<bool> {
    let n = diesel::update(
        pb_requests::table
            .filter(pb_requests::id.eq(id.0))
            .filter(pb_requests::agreement_required.eq(true))
            .filter(pb_requests::agreement_accepted_at.is_null()),
    )
    .set((
        pb_requests::agreement_accepted_at.eq(Some(now())),
        pb_requests::agreement_accepted_by.eq(Some(by.0)),
        pb_requests::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ask for a review of a decided request (once): false when it is not decided or was reviewed.
pub fn request_review(conn: &mut Conn, id: PbRequestId, reason: &str, by: UserId) -> DbResult<bool> {
    let decided = [RequestStatus::Agreed, RequestStatus::Varied, RequestStatus::Refused].map(|s| s.as_str());
    let n = diesel::update(
        pb_requests::table
            .filter(pb_requests::id.eq(id.0))
            .filter(pb_requests::status.eq_any(decided))
            .filter(pb_requests::review_requested_at.is_null()),
    )
    .set((
        pb_requests::status.eq(RequestStatus::UnderReview.as_str()),
        pb_requests::review_reason.eq(Some(reason)),
        pb_requests::review_requested_at.eq(Some(now())),
        pb_requests::review_requested_by.eq(Some(by.0)),
        pb_requests::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Every request of a council, whole (the report and the due list read them all).
pub fn all_of(conn: &mut Conn, council: CouncilId) -> DbResult<Vec<RequestView>> {
    let rows: Vec<Row> = pb_requests::table
        .inner_join(budget_holders::table)
        .filter(pb_requests::council_id.eq(council.0))
        .order(pb_requests::id)
        .select(columns!())
        .load(conn)?;
    views(conn, rows)
}

/// A plan's requests, newest first (its council's page lists them).
pub fn of_holder(conn: &mut Conn, holder: BudgetHolderId) -> DbResult<Vec<RequestView>> {
    let rows: Vec<Row> = pb_requests::table
        .inner_join(budget_holders::table)
        .filter(pb_requests::budget_holder_id.eq(holder.0))
        .order(pb_requests::id.desc())
        .select(columns!())
        .load(conn)?;
    views(conn, rows)
}
