//! The front half of a personal budget: a family's request, the panel's decision, a review of
//! that decision, the deadlines and the reviews a plan is owed, and the figures councils report.

use chrono::{Duration, Months, NaiveDate};
use serde::Deserialize;

use super::money::Pence;
use super::validate::{self, Checker, Invalid};
use super::{BudgetHolderId, Management, RuleError, Stream, UserId};

/// A new plan's personal budget is settled within the 20-week EHC assessment; one asked for at a
/// review within the 14-week review period (Merton).
pub const NEW_PLAN_WEEKS: i64 = 20;
pub const REVIEW_WEEKS: i64 = 14;
/// Every personal budget is reviewed six weeks after it is agreed (Merton).
pub const SIX_WEEK_REVIEW_DAYS: i64 = 42;
/// What the due list shows unless asked for another window.
pub const DUE_WITHIN_DAYS: i64 = 28;
pub const MAX_REASONS: usize = 4000;

super::text_enum!(
    /// Why a family asks: its plan is being made, or it is at a review of the plan.
    RequestKind { NewPlan = "new_plan", Review = "review" }
);

super::text_enum!(
    RequestStatus {
        Received = "received",
        /// Every stream asked for has an assessor's indicative budget.
        Assessed = "assessed",
        Agreed = "agreed",
        Varied = "varied",
        Refused = "refused",
        /// The family asked for the decision to be looked at again.
        UnderReview = "under_review",
    }
);

super::text_enum!(
    Outcome { Agreed = "agreed", Varied = "varied", Refused = "refused" }
);

super::text_enum!(
    /// A request's first decision, or the decision on its review.
    DecisionStage { First = "first", Review = "review" }
);

super::text_enum!(
    /// What a council user may do beyond reading its council's records.
    Permission { Assess = "assess", Decide = "decide", Admin = "admin" }
);

super::text_enum!(
    ReviewKind { SixWeek = "six_week", Annual = "annual", AdultScreening = "adult_screening" }
);

impl RequestKind {
    pub fn label(self) -> &'static str {
        match self {
            RequestKind::NewPlan => "new plan",
            RequestKind::Review => "review of the plan",
        }
    }

    /// The weeks within which it is answered.
    pub fn weeks(self) -> i64 {
        match self {
            RequestKind::NewPlan => NEW_PLAN_WEEKS,
            RequestKind::Review => REVIEW_WEEKS,
        }
    }

    pub fn decision_due(self, received_on: NaiveDate) -> NaiveDate {
        received_on + Duration::weeks(self.weeks())
    }
}

impl RequestStatus {
    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Received => "received",
            RequestStatus::Assessed => "assessed, waiting for the panel",
            RequestStatus::Agreed => "agreed",
            RequestStatus::Varied => "agreed with a different amount",
            RequestStatus::Refused => "refused",
            RequestStatus::UnderReview => "decision being reviewed",
        }
    }

    /// Waiting for a decision (first or on review).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RequestStatus::Received | RequestStatus::Assessed | RequestStatus::UnderReview
        )
    }

    pub fn decided(outcome: Outcome) -> RequestStatus {
        match outcome {
            Outcome::Agreed => RequestStatus::Agreed,
            Outcome::Varied => RequestStatus::Varied,
            Outcome::Refused => RequestStatus::Refused,
        }
    }
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Agreed => "agreed",
            Outcome::Varied => "agreed with a different amount",
            Outcome::Refused => "refused",
        }
    }
}

impl ReviewKind {
    pub fn label(self) -> &'static str {
        match self {
            ReviewKind::SixWeek => "six-week review of the personal budget",
            ReviewKind::Annual => "annual review of the plan",
            ReviewKind::AdultScreening => "screening for adult social care",
        }
    }
}

/// A council user's permissions, stored as `assess,decide`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions(Vec<Permission>);

impl Permissions {
    pub fn all() -> Permissions {
        Permissions(Permission::ALL.to_vec())
    }

    /// From their stored form; unknown words (none are written) are dropped.
    pub fn parse(stored: &str) -> Permissions {
        Permissions::from(
            stored
                .split(',')
                .filter_map(|p| p.trim().parse().ok())
                .collect::<Vec<_>>(),
        )
    }

    pub fn stored(&self) -> String {
        self.0.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
    }

    pub fn has(&self, p: Permission) -> bool {
        self.0.contains(&p)
    }

    pub fn list(&self) -> &[Permission] {
        &self.0
    }
}

impl From<Vec<Permission>> for Permissions {
    /// In a fixed order, each once.
    fn from(mut v: Vec<Permission>) -> Permissions {
        v.sort();
        v.dedup();
        Permissions(v)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    pub budget_holder_id: BudgetHolderId,
    pub kind: RequestKind,
    pub streams: Vec<Stream>,
    /// How the family would like the budget held; a direct payment unless said.
    #[serde(default)]
    pub preferred_management: Option<Management>,
    /// When a request made by phone or letter reached the council (officers only); today if not
    /// given. The deadline runs from it.
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    /// What the family said, in its words.
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest {
    pub budget_holder_id: BudgetHolderId,
    pub kind: RequestKind,
    pub streams: Vec<Stream>,
    pub preferred_management: Management,
    pub received_on: NaiveDate,
    pub decision_due: NaiveDate,
    pub notes: String,
}

impl RequestInput {
    /// `officer` says whether the caller may date the request (a family's is dated today).
    pub fn validate(&self, today: NaiveDate, officer: bool) -> Result<ValidRequest, Invalid> {
        let mut c = Checker::new();
        let streams = check_streams(&mut c, "streams", &self.streams);
        let received_on = match self.received_on {
            None => today,
            Some(_) if !officer => {
                c.add(
                    "received_on",
                    "only a council officer records when a request was received",
                );
                today
            }
            Some(d) if d > today => {
                c.add("received_on", "must not be in the future");
                today
            }
            Some(d) if d < today - Duration::days(366) => {
                c.add("received_on", "must be within the last year");
                today
            }
            Some(d) => d,
        };
        let notes = c.take(validate::optional_text("notes", self.notes.as_deref(), 2000));
        c.finish(|| ValidRequest {
            budget_holder_id: self.budget_holder_id,
            kind: self.kind,
            streams,
            preferred_management: self.preferred_management.unwrap_or(Management::DirectPayment),
            received_on,
            decision_due: self.kind.decision_due(received_on),
            notes: notes.flatten().unwrap_or_default(),
        })
    }
}

fn check_streams(c: &mut Checker, field: &str, streams: &[Stream]) -> Vec<Stream> {
    if streams.is_empty() {
        c.add(field, "must name at least one funding stream");
    }
    let mut out: Vec<Stream> = Vec::new();
    for (i, s) in streams.iter().enumerate() {
        if out.contains(s) {
            c.add(format!("{field}[{i}]"), "is named twice");
        } else {
            out.push(*s);
        }
    }
    out.sort();
    out
}

/// Streams as stored: `education,social_care`.
pub fn streams_stored(streams: &[Stream]) -> String {
    streams.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

pub fn streams_parse(stored: &str) -> Vec<Stream> {
    stored.split(',').filter_map(|s| s.parse().ok()).collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub outcome: Outcome,
    /// The amount per stream. Agreed: each stream at its indicative budget unless listed (and a
    /// listed amount must be the indicative one). Varied: the streams allocated, each with its
    /// amount; a stream left out is not allocated. Refused: none.
    #[serde(default)]
    pub allocations: Vec<DecisionLineInput>,
    /// Required when varied or refused: they go in the decision letter.
    #[serde(default)]
    pub reasons: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionLineInput {
    pub stream: Stream,
    /// How it is held; the family's preference if not given.
    #[serde(default)]
    pub management: Option<Management>,
    #[serde(default)]
    pub amount: Option<Pence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionLine {
    pub stream: Stream,
    pub management: Management,
    pub amount: Pence,
    pub indicative: Option<Pence>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDecision {
    pub outcome: Outcome,
    pub lines: Vec<DecisionLine>,
    pub reasons: String,
}

/// What a decision is checked against: the streams asked for, the family's preference and the
/// indicative budget per stream.
pub struct DecisionFacts<'a> {
    pub streams: &'a [Stream],
    pub preferred: Management,
    pub indicative: &'a [(Stream, Pence)],
}

impl DecisionInput {
    pub fn validate(&self, facts: &DecisionFacts<'_>) -> Result<ValidDecision, Invalid> {
        let mut c = Checker::new();
        let reasons = match validate::optional_text("reasons", self.reasons.as_deref(), MAX_REASONS) {
            Ok(r) => r,
            Err(e) => {
                c.add(e.field, e.message);
                None
            }
        };
        if self.outcome != Outcome::Agreed && reasons.is_none() {
            c.add(
                "reasons",
                format!("must say why the request was {}", self.outcome.label()),
            );
        }
        let indicative = |s: Stream| facts.indicative.iter().find(|(x, _)| *x == s).map(|(_, a)| *a);
        let mut lines: Vec<DecisionLine> = Vec::new();
        for (i, l) in self.allocations.iter().enumerate() {
            let at = |f: &str| format!("allocations[{i}].{f}");
            if !facts.streams.contains(&l.stream) {
                c.add(at("stream"), "was not asked for in this request");
                continue;
            }
            if lines.iter().any(|x| x.stream == l.stream) {
                c.add(at("stream"), "is named twice");
                continue;
            }
            let amount = match (self.outcome, l.amount, indicative(l.stream)) {
                (Outcome::Refused, _, _) => {
                    c.add("allocations", "a refusal allocates nothing");
                    break;
                }
                (Outcome::Agreed, Some(a), Some(ind)) if a != ind => {
                    c.add(
                        at("amount"),
                        format!("differs from the indicative budget of {ind}: record the decision as varied"),
                    );
                    continue;
                }
                (Outcome::Varied, None, _) => {
                    c.add(at("amount"), "is required when the decision is varied");
                    continue;
                }
                (_, Some(a), _) => a,
                (_, None, Some(ind)) => ind,
                (_, None, None) => {
                    c.add(at("amount"), "is required: this stream has no indicative budget");
                    continue;
                }
            };
            lines.push(DecisionLine {
                stream: l.stream,
                management: l.management.unwrap_or(facts.preferred),
                amount,
                indicative: indicative(l.stream),
            });
        }
        if self.outcome == Outcome::Agreed {
            for s in facts.streams {
                if !lines.iter().any(|l| l.stream == *s) {
                    match indicative(*s) {
                        Some(amount) => lines.push(DecisionLine {
                            stream: *s,
                            management: facts.preferred,
                            amount,
                            indicative: Some(amount),
                        }),
                        None => c.add("allocations", format!("{} has no indicative budget yet", s.label())),
                    }
                }
            }
        }
        if self.outcome == Outcome::Varied && self.allocations.is_empty() {
            c.add("allocations", "must list the amount of each stream agreed");
        }
        lines.sort_by_key(|l| l.stream);
        let reasons = reasons.unwrap_or_default();
        c.finish(|| ValidDecision {
            outcome: self.outcome,
            lines,
            reasons,
        })
    }
}

/// Who took part in a request: its assessors and its first decider.
pub struct Participants<'a> {
    pub assessors: &'a [UserId],
    pub first_decider: Option<UserId>,
}

/// The same person does not assess and decide one request, nor decide a review of their own
/// decision (or of one they assessed): the review is by someone not involved before.
pub fn check_separation(decider: UserId, stage: DecisionStage, p: &Participants<'_>) -> Result<(), RuleError> {
    if p.assessors.contains(&decider) {
        return Err(RuleError::denied(
            "separation_of_duties",
            "you assessed this request, so someone else must decide it",
        ));
    }
    if stage == DecisionStage::Review && p.first_decider == Some(decider) {
        return Err(RuleError::denied(
            "separation_of_duties",
            "you made the decision under review, so someone not involved before must review it",
        ));
    }
    Ok(())
}

/// An assessor may not assess a request they decided (on its review, say).
pub fn check_assessor(assessor: UserId, first_decider: Option<UserId>) -> Result<(), RuleError> {
    if first_decider == Some(assessor) {
        return Err(RuleError::denied(
            "separation_of_duties",
            "you decided this request, so someone else must assess it",
        ));
    }
    Ok(())
}

super::text_enum!(
    DueKind {
        Decision = "decision",
        Review = "review",
        SixWeekReview = "six_week_review",
        AnnualReview = "annual_review",
        AdultScreening = "adult_screening",
    }
);

impl DueKind {
    pub fn label(self) -> &'static str {
        match self {
            DueKind::Decision => "Decision on a personal budget request",
            DueKind::Review => "Review of a decision, asked for by the family (due from the day asked)",
            DueKind::SixWeekReview => "Six-week review of a personal budget",
            DueKind::AnnualReview => "Annual review of the plan",
            DueKind::AdultScreening => "Adult social care screening (decision by 17½)",
        }
    }
}

/// A plan's facts the due list is worked out from.
#[derive(Debug, Clone)]
pub struct PlanDueFacts {
    pub budget_holder_id: BudgetHolderId,
    pub reference: String,
    pub date_of_birth: NaiveDate,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
    /// When its latest personal budget was agreed or varied.
    pub budget_agreed_on: Option<NaiveDate>,
    pub last_six_week: Option<NaiveDate>,
    pub last_annual: Option<NaiveDate>,
    pub screened: bool,
}

/// An open request's facts.
#[derive(Debug, Clone)]
pub struct RequestDueFacts {
    pub request_id: i64,
    pub budget_holder_id: BudgetHolderId,
    pub reference: String,
    pub status: RequestStatus,
    pub decision_due: NaiveDate,
    pub review_requested_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueItem {
    pub kind: DueKind,
    pub budget_holder_id: BudgetHolderId,
    pub reference: String,
    pub request_id: Option<i64>,
    pub due_on: NaiveDate,
    pub overdue: bool,
}

/// The 17th birthday; screening for adult care decides by 17½.
pub fn adult_screening_due(date_of_birth: NaiveDate) -> NaiveDate {
    date_of_birth
        .checked_add_months(Months::new(17 * 12))
        .unwrap_or(date_of_birth)
}

pub fn adult_decision_by(date_of_birth: NaiveDate) -> NaiveDate {
    date_of_birth
        .checked_add_months(Months::new(17 * 12 + 6))
        .unwrap_or(date_of_birth)
}

/// What falls due by `today + within` or is overdue, soonest first (overdue at the top).
pub fn due(plans: &[PlanDueFacts], requests: &[RequestDueFacts], today: NaiveDate, within: i64) -> Vec<DueItem> {
    let horizon = today + Duration::days(within);
    let mut items = Vec::new();
    let mut push = |kind, id: BudgetHolderId, reference: &str, request_id, due_on: NaiveDate| {
        if due_on <= horizon {
            items.push(DueItem {
                kind,
                budget_holder_id: id,
                reference: reference.to_string(),
                request_id,
                due_on,
                // A review has no deadline of its own: it is due from the day it is asked for.
                overdue: due_on < today && kind != DueKind::Review,
            });
        }
    };
    for r in requests {
        match (r.status, r.review_requested_on) {
            (RequestStatus::UnderReview, Some(asked)) => push(
                DueKind::Review,
                r.budget_holder_id,
                &r.reference,
                Some(r.request_id),
                asked,
            ),
            (s, _) if s.is_open() => push(
                DueKind::Decision,
                r.budget_holder_id,
                &r.reference,
                Some(r.request_id),
                r.decision_due,
            ),
            _ => {}
        }
    }
    for p in plans.iter().filter(|p| p.plan_end >= today) {
        if let Some(agreed) = p.budget_agreed_on
            && p.last_six_week.is_none_or(|held| held < agreed)
        {
            let due_on = agreed + Duration::days(SIX_WEEK_REVIEW_DAYS);
            push(DueKind::SixWeekReview, p.budget_holder_id, &p.reference, None, due_on);
        }
        let since = p.last_annual.unwrap_or(p.plan_start);
        let annual = since.checked_add_months(Months::new(12)).unwrap_or(since);
        push(DueKind::AnnualReview, p.budget_holder_id, &p.reference, None, annual);
        let seventeen = adult_screening_due(p.date_of_birth);
        let from = seventeen.checked_sub_months(Months::new(6)).unwrap_or(seventeen);
        if !p.screened && today >= from && today < adult_decision_by(p.date_of_birth) + Duration::days(183) {
            push(
                DueKind::AdultScreening,
                p.budget_holder_id,
                &p.reference,
                None,
                seventeen,
            );
        }
    }
    items.sort_by(|a, b| {
        a.due_on
            .cmp(&b.due_on)
            .then(a.budget_holder_id.cmp(&b.budget_holder_id))
    });
    items
}

/// One request, as the report counts it (no names, no references).
#[derive(Debug, Clone)]
pub struct RequestReportFacts {
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub streams: Vec<Stream>,
    pub received_on: NaiveDate,
    pub first_decided_on: Option<NaiveDate>,
    pub first_outcome: Option<Outcome>,
    /// Indicative and final amounts per stream of the latest decision (none when refused).
    pub amounts: Vec<(Stream, Option<Pence>, Pence)>,
}

/// How a plan's personal budget is held, as the DfE counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arrangement {
    DirectPayment,
    Organised,
    ThirdParty,
    Combination,
}

impl Arrangement {
    pub const ALL: [Arrangement; 4] = [
        Arrangement::DirectPayment,
        Arrangement::Organised,
        Arrangement::ThirdParty,
        Arrangement::Combination,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Arrangement::DirectPayment => "direct_payment",
            Arrangement::Organised => "organised",
            Arrangement::ThirdParty => "third_party",
            Arrangement::Combination => "combination",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Arrangement::DirectPayment => "Direct payment",
            Arrangement::Organised => "Organised by the council",
            Arrangement::ThirdParty => "Third party",
            Arrangement::Combination => "A combination",
        }
    }

    /// One plan's arrangement from how its allocations are held; none without an allocation.
    pub fn of(managements: &[Management]) -> Option<Arrangement> {
        let first = *managements.first()?;
        if managements.iter().any(|m| *m != first) {
            return Some(Arrangement::Combination);
        }
        Some(match first {
            Management::DirectPayment => Arrangement::DirectPayment,
            Management::Organised => Arrangement::Organised,
            Management::ThirdParty => Arrangement::ThirdParty,
        })
    }
}

/// A count shown only when it is 0 or at least the threshold: small numbers could identify a
/// child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub Option<u64>);

impl Count {
    pub fn of(n: u64, min: usize) -> Count {
        Count((n == 0 || n >= min as u64).then_some(n))
    }

    pub fn suppressed(self) -> bool {
        self.0.is_none()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimeToDecision {
    pub kind: RequestKind,
    pub decided: Count,
    /// Median days from receipt to the first decision; none when suppressed or none decided.
    pub median_days: Option<f64>,
    pub target_days: i64,
    pub within_target: Count,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PbReport {
    pub min_count: usize,
    pub by_status: Vec<(RequestStatus, Count)>,
    pub by_stream: Vec<(Stream, RequestStatus, Count)>,
    pub outcomes: Vec<(Outcome, Count)>,
    pub time_to_decision: Vec<TimeToDecision>,
    /// Per stream: decisions counted, the indicative and final totals (withheld when few).
    pub amounts: Vec<(Stream, Count, Option<Pence>, Option<Pence>)>,
    /// Plans with a personal budget, by arrangement, and by stream.
    pub plans_by_arrangement: Vec<(Arrangement, Count)>,
    pub plans_by_stream: Vec<(Stream, Count)>,
}

fn median(mut v: Vec<i64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) as f64 / 2.0
    } else {
        v[mid] as f64
    })
}

/// The personal-budget report over a council's requests and the managements of each plan's
/// allocations. Counts under `min_count` (but above 0) are withheld, and so are medians and
/// totals over fewer decisions.
pub fn report(requests: &[RequestReportFacts], plans: &[Vec<(Stream, Management)>], min_count: usize) -> PbReport {
    let count = |n: usize| Count::of(n as u64, min_count);
    let by_status = RequestStatus::ALL
        .iter()
        .map(|s| (*s, count(requests.iter().filter(|r| r.status == *s).count())))
        .collect();
    let mut by_stream = Vec::new();
    for stream in Stream::ALL {
        for s in RequestStatus::ALL {
            let n = requests
                .iter()
                .filter(|r| r.status == *s && r.streams.contains(stream))
                .count();
            by_stream.push((*stream, *s, count(n)));
        }
    }
    let outcomes = Outcome::ALL
        .iter()
        .map(|o| {
            (
                *o,
                count(requests.iter().filter(|r| r.first_outcome == Some(*o)).count()),
            )
        })
        .collect();
    let time_to_decision = RequestKind::ALL
        .iter()
        .map(|kind| {
            let days: Vec<i64> = requests
                .iter()
                .filter(|r| r.kind == *kind)
                .filter_map(|r| r.first_decided_on.map(|d| (d - r.received_on).num_days()))
                .collect();
            let target_days = kind.weeks() * 7;
            let decided = count(days.len());
            TimeToDecision {
                kind: *kind,
                decided,
                median_days: if decided.suppressed() {
                    None
                } else {
                    median(days.clone())
                },
                target_days,
                within_target: count(days.iter().filter(|d| **d <= target_days).count()),
            }
        })
        .collect();
    let amounts = Stream::ALL
        .iter()
        .map(|stream| {
            let lines: Vec<(Option<Pence>, Pence)> = requests
                .iter()
                .flat_map(|r| r.amounts.iter())
                .filter(|(s, _, _)| s == stream)
                .map(|(_, i, f)| (*i, *f))
                .collect();
            let n = count(lines.len());
            let sum = |it: &mut dyn Iterator<Item = Pence>| Pence::from_stored(it.map(|p| p.pence()).sum::<i64>());
            let shown = !n.suppressed() && !lines.is_empty();
            let indicative = shown.then(|| sum(&mut lines.iter().filter_map(|(i, _)| *i)));
            let final_total = shown.then(|| sum(&mut lines.iter().map(|(_, f)| *f)));
            (*stream, n, indicative, final_total)
        })
        .collect();
    let arrangements: Vec<Arrangement> = plans
        .iter()
        .filter_map(|p| Arrangement::of(&p.iter().map(|(_, m)| *m).collect::<Vec<_>>()))
        .collect();
    let plans_by_arrangement = Arrangement::ALL
        .iter()
        .map(|a| (*a, count(arrangements.iter().filter(|x| *x == a).count())))
        .collect();
    let plans_by_stream = Stream::ALL
        .iter()
        .map(|s| {
            (
                *s,
                count(plans.iter().filter(|p| p.iter().any(|(x, _)| x == s)).count()),
            )
        })
        .collect();
    PbReport {
        min_count,
        by_status,
        by_stream,
        outcomes,
        time_to_decision,
        amounts,
        plans_by_arrangement,
        plans_by_stream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Pence {
        s.parse().unwrap()
    }

    fn fields(e: Invalid) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    fn request(kind: RequestKind, received_on: Option<&str>) -> RequestInput {
        RequestInput {
            budget_holder_id: BudgetHolderId(1),
            kind,
            streams: vec![Stream::SocialCare, Stream::Education],
            preferred_management: None,
            received_on: received_on.map(day),
            notes: None,
        }
    }

    #[test]
    fn deadlines_are_twenty_weeks_for_a_new_plan_and_fourteen_at_a_review() {
        let today = day("2026-12-01");
        let new = request(RequestKind::NewPlan, None).validate(today, false).unwrap();
        assert_eq!(new.decision_due, day("2027-04-20"));
        assert_eq!(new.streams, [Stream::Education, Stream::SocialCare]);
        assert_eq!(new.preferred_management, Management::DirectPayment);
        let review = request(RequestKind::Review, Some("2026-11-03"))
            .validate(today, true)
            .unwrap();
        assert_eq!(
            (review.received_on, review.decision_due),
            (day("2026-11-03"), day("2027-02-09"))
        );
    }

    #[test]
    fn only_an_officer_dates_a_request_and_never_in_the_future() {
        let today = day("2026-12-01");
        let family = request(RequestKind::NewPlan, Some("2026-11-30")).validate(today, false);
        assert_eq!(fields(family.unwrap_err()), ["received_on"]);
        let future = request(RequestKind::NewPlan, Some("2026-12-02")).validate(today, true);
        assert_eq!(fields(future.unwrap_err()), ["received_on"]);
        let mut twice = request(RequestKind::NewPlan, None);
        twice.streams = vec![Stream::Health, Stream::Health];
        assert_eq!(fields(twice.validate(today, true).unwrap_err()), ["streams[1]"]);
        twice.streams = vec![];
        assert_eq!(fields(twice.validate(today, true).unwrap_err()), ["streams"]);
    }

    fn facts<'a>(indicative: &'a [(Stream, Pence)]) -> DecisionFacts<'a> {
        DecisionFacts {
            streams: &[Stream::Education, Stream::SocialCare],
            preferred: Management::DirectPayment,
            indicative,
        }
    }

    fn line(stream: Stream, amount: Option<&str>) -> DecisionLineInput {
        DecisionLineInput {
            stream,
            management: None,
            amount: amount.map(p),
        }
    }

    #[test]
    fn agreed_takes_the_indicative_budgets_exactly() {
        let ind = [(Stream::Education, p("1200.00")), (Stream::SocialCare, p("2400.01"))];
        let d = DecisionInput {
            outcome: Outcome::Agreed,
            allocations: vec![],
            reasons: None,
        }
        .validate(&facts(&ind))
        .unwrap();
        assert_eq!(d.lines.len(), 2);
        assert_eq!(d.lines[1].amount, p("2400.01"));
        assert_eq!(d.lines[1].management, Management::DirectPayment);
        let other = DecisionInput {
            outcome: Outcome::Agreed,
            allocations: vec![line(Stream::SocialCare, Some("2400.00"))],
            reasons: None,
        }
        .validate(&facts(&ind));
        assert_eq!(fields(other.unwrap_err()), ["allocations[0].amount"]);
    }

    #[test]
    fn varied_and_refused_need_reasons_and_varied_needs_amounts() {
        let ind = [(Stream::Education, p("1200.00")), (Stream::SocialCare, p("2400.00"))];
        let varied = DecisionInput {
            outcome: Outcome::Varied,
            allocations: vec![line(Stream::SocialCare, Some("1800.00")), line(Stream::Education, None)],
            reasons: None,
        }
        .validate(&facts(&ind));
        assert_eq!(fields(varied.unwrap_err()), ["reasons", "allocations[1].amount"]);
        let ok = DecisionInput {
            outcome: Outcome::Varied,
            allocations: vec![line(Stream::SocialCare, Some("1800.00"))],
            reasons: Some("Two sessions a month meet the outcomes".into()),
        }
        .validate(&facts(&ind))
        .unwrap();
        assert_eq!(ok.lines.len(), 1, "a stream left out is not allocated");
        assert_eq!(ok.lines[0].indicative, Some(p("2400.00")));
        let refused = DecisionInput {
            outcome: Outcome::Refused,
            allocations: vec![line(Stream::Health, Some("1.00"))],
            reasons: Some("x".into()),
        }
        .validate(&facts(&ind));
        assert_eq!(fields(refused.unwrap_err()), ["allocations[0].stream"]);
        let refused = DecisionInput {
            outcome: Outcome::Refused,
            allocations: vec![],
            reasons: None,
        }
        .validate(&facts(&ind));
        assert_eq!(fields(refused.unwrap_err()), ["reasons"]);
    }

    #[test]
    fn nobody_decides_what_they_assessed_or_reviews_their_own_decision() {
        let (a, b, c) = (UserId(1), UserId(2), UserId(3));
        let first = Participants {
            assessors: &[a],
            first_decider: None,
        };
        assert!(check_separation(a, DecisionStage::First, &first).is_err());
        assert!(check_separation(b, DecisionStage::First, &first).is_ok());
        let review = Participants {
            assessors: &[a],
            first_decider: Some(b),
        };
        assert!(check_separation(b, DecisionStage::Review, &review).is_err());
        assert!(check_separation(a, DecisionStage::Review, &review).is_err());
        assert!(check_separation(c, DecisionStage::Review, &review).is_ok());
        assert!(check_assessor(b, Some(b)).is_err());
    }

    fn plan(dob: &str, start: &str, agreed: Option<&str>) -> PlanDueFacts {
        PlanDueFacts {
            budget_holder_id: BudgetHolderId(7),
            reference: "EHC-7".into(),
            date_of_birth: day(dob),
            plan_start: day(start),
            plan_end: day("2027-12-31"),
            budget_agreed_on: agreed.map(day),
            last_six_week: None,
            last_annual: None,
            screened: false,
        }
    }

    #[test]
    fn the_due_list_shows_overdue_first_and_stops_once_done() {
        let today = day("2026-12-01");
        let mut p = plan("2010-01-01", "2025-12-25", Some("2026-10-01"));
        let requests = [RequestDueFacts {
            request_id: 3,
            budget_holder_id: BudgetHolderId(7),
            reference: "EHC-7".into(),
            status: RequestStatus::Assessed,
            decision_due: day("2026-12-20"),
            review_requested_on: None,
        }];
        let items = due(std::slice::from_ref(&p), &requests, today, DUE_WITHIN_DAYS);
        let kinds: Vec<_> = items.iter().map(|i| (i.kind, i.due_on, i.overdue)).collect();
        assert_eq!(
            kinds,
            [
                (DueKind::SixWeekReview, day("2026-11-12"), true),
                (DueKind::Decision, day("2026-12-20"), false),
                (DueKind::AnnualReview, day("2026-12-25"), false),
            ]
        );
        p.last_six_week = Some(day("2026-11-12"));
        p.last_annual = Some(day("2026-12-01"));
        assert_eq!(due(std::slice::from_ref(&p), &[], today, DUE_WITHIN_DAYS), []);
        // A review asked for last week is due, not overdue: it has no deadline of its own.
        let review = RequestDueFacts {
            status: RequestStatus::UnderReview,
            review_requested_on: Some(day("2026-11-24")),
            ..requests[0].clone()
        };
        let items = due(&[p], &[review], today, DUE_WITHIN_DAYS);
        assert_eq!((items[0].kind, items[0].overdue), (DueKind::Review, false));
    }

    #[test]
    fn young_people_are_screened_from_sixteen_and_a_half() {
        let today = day("2026-12-01");
        let young = plan("2010-07-01", "2026-06-01", None);
        assert_eq!(due(std::slice::from_ref(&young), &[], today, 28), []);
        let older = plan("2010-05-31", "2026-06-01", None); // 16½ yesterday
        let items = due(std::slice::from_ref(&older), &[], today, 28);
        assert_eq!(items.len(), 0, "due at 17, outside the window");
        let items = due(std::slice::from_ref(&older), &[], today, 200);
        assert_eq!(items[0].kind, DueKind::AdultScreening);
        assert_eq!(items[0].due_on, day("2027-05-31"));
        let overdue = plan("2009-10-01", "2026-06-01", None);
        let items = due(&[overdue], &[], today, 28);
        assert!(items.iter().any(|i| i.kind == DueKind::AdultScreening && i.overdue));
        assert_eq!(adult_decision_by(day("2009-10-01")), day("2027-04-01"));
    }

    #[test]
    fn arrangements_count_a_mix_as_a_combination() {
        use Management::*;
        assert_eq!(
            Arrangement::of(&[DirectPayment, DirectPayment]),
            Some(Arrangement::DirectPayment)
        );
        assert_eq!(
            Arrangement::of(&[DirectPayment, Organised]),
            Some(Arrangement::Combination)
        );
        assert_eq!(Arrangement::of(&[]), None);
    }

    #[test]
    fn the_report_withholds_small_numbers_and_medians_over_few() {
        let decided = |received: &str, decided: &str, outcome| RequestReportFacts {
            kind: RequestKind::NewPlan,
            status: RequestStatus::decided(outcome),
            streams: vec![Stream::SocialCare],
            received_on: day(received),
            first_decided_on: Some(day(decided)),
            first_outcome: Some(outcome),
            amounts: vec![(Stream::SocialCare, Some(p("100.00")), p("120.50"))],
        };
        let mut requests: Vec<_> = (0..5)
            .map(|i| decided("2026-01-01", &format!("2026-02-0{}", i + 1), Outcome::Agreed))
            .collect();
        requests.push(decided("2026-01-01", "2026-07-01", Outcome::Refused));
        let r = report(&requests, &[vec![(Stream::SocialCare, Management::DirectPayment)]], 5);
        let agreed = r.outcomes.iter().find(|(o, _)| *o == Outcome::Agreed).unwrap().1;
        let refused = r.outcomes.iter().find(|(o, _)| *o == Outcome::Refused).unwrap().1;
        let varied = r.outcomes.iter().find(|(o, _)| *o == Outcome::Varied).unwrap().1;
        assert_eq!((agreed, refused, varied), (Count(Some(5)), Count(None), Count(Some(0))));
        let t = &r.time_to_decision[0];
        // 31..35 days and 181: six decided, median of the middle two
        assert_eq!(
            (t.decided, t.median_days, t.within_target),
            (Count(Some(6)), Some(33.5), Count(Some(5)))
        );
        let social = r.amounts.iter().find(|(s, ..)| *s == Stream::SocialCare).unwrap();
        assert_eq!((social.2, social.3), (Some(p("600.00")), Some(p("723.00"))));
        assert_eq!(r.plans_by_arrangement[0].1, Count(None), "one plan is withheld");
        let r = report(&requests[..4], &[], 5);
        assert_eq!(r.time_to_decision[0].median_days, None);
    }
}
