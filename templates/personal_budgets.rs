//! Personal-budget pages: a family's requests and its decision letter, the council's requests
//! with the assessment and decision forms, what is due, the report, the RAS builder and the
//! council's users.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::components::{
    self as c, Chrome, FormErrors, FormValues, checkboxes, csrf_field, input, money, radios, select, textarea,
};
use crate::app::personal_budgets::Letter;
use crate::db::budget_holders::BudgetHolderView;
use crate::db::pb_requests::{AssessmentView, DecisionView, RequestView};
use crate::db::ras::RasView;
use crate::db::users::CouncilUser;
use crate::domain::paging::Page;
use crate::domain::personal_budget::{
    self as pb, Count, DecisionStage, DueItem, Outcome, PbReport, Permission, RequestKind, RequestStatus,
};
use crate::domain::ras::{AllocationTable, RasDefinition};
use crate::domain::{Management, Stream};

fn options<T: Copy>(
    all: &[T],
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> String,
) -> Vec<(String, String)> {
    all.iter().map(|x| (value(*x).to_string(), label(*x))).collect()
}

/// Each question's section heading, where a new section starts.
fn section_starts(d: &RasDefinition) -> Vec<Option<&str>> {
    let mut previous: Option<&str> = None;
    d.questions
        .iter()
        .map(|q| {
            let s = q.section.as_deref();
            let start = (s != previous).then_some(s).flatten();
            previous = s;
            start
        })
        .collect()
}

fn status_choices() -> Vec<(String, String)> {
    let mut choices = vec![(String::new(), "Every status".to_string())];
    choices.extend(options(RequestStatus::ALL, RequestStatus::as_str, |s| {
        c::capitalise(s.label())
    }));
    choices
}

fn stream_options() -> Vec<(String, String)> {
    options(Stream::ALL, Stream::as_str, |s| s.label().to_string())
}

fn management_options() -> Vec<(String, String)> {
    options(Management::ALL, Management::as_str, c::management)
}

fn streams_text(streams: &[Stream]) -> String {
    streams.iter().map(|s| s.label()).collect::<Vec<_>>().join(", ")
}

fn status_tag(r: &RequestView, today: chrono::NaiveDate) -> Markup {
    html! {
        strong.tag { (c::capitalise(r.status.label())) }
        @if r.status.is_open() && r.decision_due < today { " " strong.tag.tag-warning { "Overdue" } }
    }
}

/// The questions a family or an officer fills in to ask for a personal budget.
fn request_fields(errors: &FormErrors, form: &dyn FormValues, officer: bool) -> Markup {
    let kinds = vec![
        (
            RequestKind::NewPlan.as_str().to_string(),
            "For a new EHC plan (answered within 20 weeks)".to_string(),
        ),
        (
            RequestKind::Review.as_str().to_string(),
            "At a review of the plan (answered within 14 weeks)".to_string(),
        ),
    ];
    let chosen = if form.get("kind").is_empty() {
        "new_plan"
    } else {
        form.get("kind")
    };
    let management = if form.get("preferred_management").is_empty() {
        "direct_payment"
    } else {
        form.get("preferred_management")
    };
    html! {
        (radios(errors, "kind", "When is the personal budget for?", &kinds, chosen))
        (checkboxes(errors, "streams", "Which parts of the plan should it pay for?", &stream_options(), &form.all("streams")))
        (radios(errors, "preferred_management", "How would you like it held?", &management_options(), management))
        @if officer {
            (input(errors, "received_on", "When the request reached the council", form.get("received_on"), "date", Some("For a request made by phone or letter; leave empty for today. The deadline runs from it")))
        }
        (textarea(errors, "notes", "Anything you would like the council to know (optional)", form.get("notes"), Some("At most 2000 characters")))
    }
}

/// The family's requests and the form to make one.
pub fn family_requests(
    chrome: &Chrome<'_>,
    plans: &[BudgetHolderView],
    list: &Page<RequestView>,
    today: chrono::NaiveDate,
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    html! {
        h1 { "Personal budget requests" }
        (errors.summary())
        p { "You can ask for a personal budget when the council has agreed to make an EHC plan, or at a review of the plan. Every request is recorded and answered in writing." }
        (requests_table(list, today, "/my-plan/requests"))
        (c::pager(("request", "requests"), list, |n| format!("/my-plan/requests?page={n}")))
        h2 { "Ask for a personal budget" }
        @if plans.is_empty() {
            p { "You have no plan to ask for." }
        } @else {
            form method="post" action="/my-plan/requests" novalidate {
                (csrf_field(chrome))
                @let choices: Vec<(String, String)> = plans.iter().map(|p| (p.id.to_string(), format!("{} ({})", c::child_name(&p.first_name), p.reference))).collect();
                @let chosen = if form.get("budget_holder_id").is_empty() { choices[0].0.clone() } else { form.get("budget_holder_id").to_string() };
                (select(errors, "budget_holder_id", "Whose plan is it for?", &choices, &chosen))
                (request_fields(errors, form, false))
                button.button type="submit" { "Send the request" }
            }
        }
    }
}

fn requests_table(list: &Page<RequestView>, today: chrono::NaiveDate, base: &str) -> Markup {
    c::table(
        "Requests",
        &["Request", "Plan", "For", "Status", "Decision due"],
        list.items.is_empty().then_some("No requests yet."),
        html! {
            @for r in &list.items {
                tr {
                    td { a href={ (base) "/" (r.id) } { "Request " (r.id) } }
                    td { (r.child_reference) }
                    td { (streams_text(&r.streams)) " (" (r.kind.label()) ")" }
                    td { (status_tag(r, today)) }
                    td { (c::long_date(r.decision_due)) }
                }
            }
        },
    )
}

fn summary(r: &RequestView, today: chrono::NaiveDate) -> Markup {
    c::summary_list(&[
        ("Plan", html! { (r.child_reference) }),
        ("For", html! { (c::capitalise(r.kind.label())) }),
        ("Funding streams", html! { (streams_text(&r.streams)) }),
        (
            "How the family would like it held",
            html! { (c::capitalise(&c::management(r.preferred_management))) },
        ),
        ("Received", html! { (c::long_date(r.received_on)) }),
        (
            "Decision due by",
            html! { (c::long_date(r.decision_due)) " (" (r.kind.weeks()) " weeks)" },
        ),
        ("Status", status_tag(r, today)),
        (
            "What the family said",
            html! { @if r.notes.is_empty() { "Nothing" } @else { (r.notes) } },
        ),
    ])
}

/// Each assessment with its working, reproduced from the RAS version it used.
fn assessments(r: &RequestView, versions: &[RasView]) -> Markup {
    html! {
        h2 { "Assessments" }
        @if r.assessments.is_empty() { p { "Not assessed yet." } }
        @for a in &r.assessments {
            @let version = versions.iter().find(|v| v.id == a.ras_id);
            (assessment(a, version))
        }
    }
}

fn assessment(a: &AssessmentView, version: Option<&RasView>) -> Markup {
    let working = version.and_then(|v| v.definition.score(&a.answers).ok());
    html! {
        section.card {
            h3 {
                (a.stream.label()) ": " (money(a.indicative))
                @if a.by_family { " (the family's own self-assessment)" }
            }
            p {
                (a.ras_name) ", version " (a.ras_version) ". Raw score " (a.raw_score)
                @if let Some(b) = a.band { ", band " (b) }
                @if let Some(w) = &working { @if w.capped { ", held to the cap" } }
                ". " @if !a.by_family { "Assessed by " (a.assessor_email) } " on " (c::long_date(a.created_at.date())) "."
            }
            @if let Some(w) = working {
                (c::table("How the score was reached", &["Question", "Answer", "Points"], None, html! {
                    @for line in &w.working {
                        tr { td { @if let Some(s) = &line.section { (s) ": " } (line.question) } td { (line.answer) } td { (line.points) } }
                    }
                    tr { th scope="row" colspan="2" { "Raw score" } td { (w.raw_score) } }
                }))
            }
        }
    }
}

fn decision(d: &DecisionView) -> Markup {
    html! {
        section.card {
            h3 {
                @if d.stage == DecisionStage::Review { "Decision on the review: " } @else { "Decision: " }
                (d.outcome.label())
            }
            p { "Decided on " (c::long_date(d.decided_at.date())) "." }
            @if !d.lines.is_empty() {
                (c::table("What was agreed", &["Funding stream", "Held as", "Indicative budget", "Agreed amount"], None, html! {
                    @for (l, _) in &d.lines {
                        tr {
                            td { (l.stream.label()) }
                            td { (c::capitalise(&c::management(l.management))) }
                            td { @if let Some(i) = l.indicative { (money(i)) } @else { "None" } }
                            td { (money(l.amount)) }
                        }
                    }
                }))
            }
            @if !d.reasons.is_empty() { p { strong { "Reasons: " } (d.reasons) } }
        }
    }
}

fn decisions(r: &RequestView) -> Markup {
    html! {
        @if !r.decisions.is_empty() {
            h2 { "Decisions" }
            @for d in &r.decisions { (decision(d)) }
            @if let Some(reason) = &r.review_reason { p { strong { "The family asked for a review: " } (reason) } }
        }
    }
}

/// The family's view of one request: where it is, the letter, a review, the agreement.
pub fn family_request(
    chrome: &Chrome<'_>,
    r: &RequestView,
    versions: &[RasView],
    today: chrono::NaiveDate,
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    let base = format!("/my-plan/requests/{}", r.id);
    html! {
        p { a href="/my-plan/requests" { "Back to your requests" } }
        h1 { "Personal budget request " (r.id) }
        (errors.summary())
        (summary(r, today))
        @if r.status.is_open() {
            p { "The council will write to you with its decision by " (c::long_date(r.decision_due)) "." }
            p { a.button.button-secondary href={ (base) "/assess" } { "Fill in the self-assessment" } }
        }
        @if !r.decisions.is_empty() {
            p { a href={ (base) "/letter" } { "Read the decision letter" } }
        }
        @if r.agreement_required && r.agreement_accepted_at.is_none() {
            section.card {
                h2 { "Your direct payment agreement" }
                (agreement_terms())
                form method="post" action={ (base) "/agreement" } {
                    (csrf_field(chrome))
                    button.button type="submit" { "I accept the agreement" }
                }
            }
        }
        @if let Some(at) = r.agreement_accepted_at { p { "You accepted the direct payment agreement on " (c::long_date(at.date())) "." } }
        (decisions(r))
        @if !r.decisions.is_empty() && r.review_requested_at.is_none() {
            h2 { "Ask for a review" }
            p { "If you disagree with the decision you can ask for it to be looked at again, once, by someone who took no part in it." }
            form method="post" action={ (base) "/review" } novalidate {
                (csrf_field(chrome))
                (textarea(errors, "reason", "Why should the decision be looked at again?", form.get("reason"), None))
                button.button type="submit" { "Ask for a review" }
            }
        }
        (assessments(r, versions))
    }
}

fn agreement_terms() -> Markup {
    html! {
        p { "A direct payment is paid to you to arrange support yourself. By accepting, you agree to:" }
        ul {
            li { "spend it only on the support in the plan, and keep receipts;" }
            li { "send a return every quarter showing what it was spent on;" }
            li { "a review six weeks after it starts, to check it is going well;" }
            li { "pay back money left unused (more than six to seven weeks' worth) when asked." }
        }
        p { "Nothing is paid in until you accept." }
    }
}

/// The questionnaire of one RAS as radio buttons, with `chosen` answers ticked.
pub fn questionnaire(
    chrome: &Chrome<'_>,
    action: &str,
    ras: &RasView,
    chosen: &BTreeMap<String, i64>,
    errors: &FormErrors,
    button: &str,
) -> Markup {
    let starts = section_starts(&ras.definition);
    html! {
        form method="post" action=(action) novalidate {
            (csrf_field(chrome))
            input type="hidden" name="ras_id" value=(ras.id);
            h3 { (ras.name) " (" (ras.stream.label()) ", version " (ras.version) ")" }
            @for (q, start) in ras.definition.questions.iter().zip(&starts) {
                @if let Some(s) = start { h4 { (s) } }
                @let field = format!("answers.{}", q.id);
                @let options: Vec<(String, String)> = q.answers.iter().enumerate().map(|(i, a)| (i.to_string(), format!("{} ({} points)", a.label, a.points))).collect();
                @let picked = chosen.get(&q.id).map(|i| i.to_string()).unwrap_or_default();
                (radios(errors, &field, &q.text, &options, &picked))
            }
            button.button type="submit" { (button) }
        }
    }
}

/// The family's self-assessment: the council's questionnaire for each stream asked for.
pub fn self_assessment(chrome: &Chrome<'_>, r: &RequestView, forms: &[RasView], errors: &FormErrors) -> Markup {
    let action = format!("/my-plan/requests/{}/assess", r.id);
    html! {
        p { a href={ "/my-plan/requests/" (r.id) } { "Back to the request" } }
        h1 { "Self-assessment for request " (r.id) }
        (errors.summary())
        p { "Answer each question about your child and family. The council's assessor goes through your answers with you; the indicative budget it gives is discussed at the planning meeting and may go up or down." }
        @if forms.is_empty() { p { "The council has no questionnaire for these funding streams yet." } }
        @for ras in forms {
            @let chosen = r.assessments.iter().find(|a| a.by_family && a.ras_id == ras.id).map(|a| a.answers.clone()).unwrap_or_default();
            (questionnaire(chrome, &action, ras, &chosen, errors, "Save my answers"))
        }
    }
}

/// The printable decision letter.
pub fn letter(l: &Letter) -> Markup {
    let r = &l.request;
    let Some(d) = r.latest_decision() else { return html! {} };
    html! {
        article.letter {
            p { (l.council) }
            p { "Personal budget request " (r.id) ", plan " (r.child_reference) }
            p { "Dear parent or carer of " (c::child_name(&l.first_name)) "," }
            h1 { "Your personal budget: " (d.outcome.label()) }
            p {
                "You asked for a personal budget on " (c::long_date(r.received_on)) " for " (streams_text(&r.streams).to_lowercase()) ". "
                @if d.stage == DecisionStage::Review { "At your request the decision was reviewed by someone who took no part in it. " }
                "On " (c::long_date(d.decided_at.date())) " the council's panel decided: " (d.outcome.label()) "."
            }
            @if !d.lines.is_empty() {
                (c::table("Your personal budget", &["Funding stream", "How it is held", "Amount"], None, html! {
                    @for (line, _) in &d.lines {
                        tr { td { (line.stream.label()) } td { (c::capitalise(&c::management(line.management))) } td { (money(line.amount)) } }
                    }
                }))
            }
            h2 { "How the amount was reached" }
            @for a in r.assessments.iter().filter(|a| !a.by_family) {
                p {
                    (a.stream.label()) ": the " (a.ras_name) " (version " (a.ras_version) ") gave a raw score of " (a.raw_score)
                    @if let Some(b) = a.band { " (band " (b) ")" }
                    " and an indicative budget of " (money(a.indicative)) "."
                }
            }
            @if d.outcome == Outcome::Varied || d.outcome == Outcome::Refused {
                p { strong { "Why: " } (d.reasons) }
            }
            @if d.lines.iter().any(|(l, _)| l.management == Management::DirectPayment) {
                h2 { "Your direct payment agreement" }
                (agreement_terms())
            }
            h2 { "If you disagree" }
            @if r.review_requested_at.is_none() {
                p { "You can ask for this decision to be reviewed by someone who took no part in it: use “Ask for a review” on the request's page, or write to the council. You can also ask for mediation, or appeal to the SEND Tribunal about the plan." }
            } @else {
                p { "This decision has been reviewed once. You can ask for mediation, or appeal to the SEND Tribunal about the plan." }
            }
            p { "Yours faithfully," br; (l.council) }
        }
    }
}

/// The budget holder page's part: the plan's requests and the reviews held of it.
pub fn holder_section(
    id: crate::domain::BudgetHolderId,
    requests: &[RequestView],
    reviews: &[crate::db::plan_reviews::ReviewView],
) -> Markup {
    html! {
        h2 #requests { "Personal budget requests" }
        p { a href={ "/council/budget-holders/" (id) "/requests/new" } { "Record a personal budget request" } " made by phone or letter." }
        (c::table("This plan's requests", &["Request", "For", "Status", "Decision due"], requests.is_empty().then_some("No requests yet."), html! {
            @for r in requests {
                tr {
                    td { a href={ "/council/requests/" (r.id) } { "Request " (r.id) } }
                    td { (streams_text(&r.streams)) " (" (r.kind.label()) ")" }
                    td { (c::capitalise(r.status.label())) }
                    td { (c::long_date(r.decision_due)) }
                }
            }
        }))
        (c::table("Reviews held", &["Review", "Held on", "Notes", "Recorded by"], reviews.is_empty().then_some("No reviews recorded yet."), html! {
            @for r in reviews {
                tr { td { (c::capitalise(r.kind.label())) } td { (c::long_date(r.held_on)) } td { (r.notes) } td { (r.recorded_by) } }
            }
        }))
    }
}

/// The council's list of requests.
pub fn council_requests(list: &Page<RequestView>, status: Option<RequestStatus>, today: chrono::NaiveDate) -> Markup {
    let href = |n: u32| match status {
        Some(s) => format!("/council/requests?status={s}&page={n}"),
        None => format!("/council/requests?page={n}"),
    };
    html! {
        h1 { "Personal budget requests" }
        p { "A family asks on its own page; record a request made by phone or letter from the budget holder's page." }
        form method="get" action="/council/requests" {
            @let choices = status_choices();
            (select(&FormErrors::default(), "status", "Show", &choices, status.map(|s| s.as_str()).unwrap_or("")))
            button.button.button-secondary type="submit" { "Show requests" }
        }
        (requests_table(list, today, "/council/requests"))
        (c::pager(("request", "requests"), list, href))
    }
}

/// An officer records a request for one plan.
pub fn council_new_request(
    chrome: &Chrome<'_>,
    plan: &BudgetHolderView,
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    html! {
        p { a href={ "/council/budget-holders/" (plan.id) } { "Back to " (plan.reference) } }
        h1 { "Record a personal budget request for " (plan.reference) }
        (errors.summary())
        form method="post" action={ "/council/budget-holders/" (plan.id) "/requests/new" } novalidate {
            (csrf_field(chrome))
            (request_fields(errors, form, true))
            button.button type="submit" { "Record the request" }
        }
    }
}

/// What the council's request page shows besides the request.
pub struct CouncilRequest<'a> {
    pub request: &'a RequestView,
    pub versions: &'a [RasView],
    /// The RAS versions to assess with (the newest for each stream asked for).
    pub current: &'a [RasView],
    pub may_assess: bool,
    pub may_decide: bool,
    pub today: chrono::NaiveDate,
}

/// The officer's page for one request: the assessment forms, the decision form, the record.
pub fn council_request(
    chrome: &Chrome<'_>,
    v: &CouncilRequest<'_>,
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    let r = v.request;
    let base = format!("/council/requests/{}", r.id);
    html! {
        p { a href="/council/requests" { "Back to requests" } " · " a href={ "/council/budget-holders/" (r.budget_holder_id) } { "The budget holder" } }
        h1 { "Personal budget request " (r.id) }
        (errors.summary())
        (summary(r, v.today))
        @if !r.decisions.is_empty() { p { a href={ (base) "/letter" } { "The decision letter" } } }
        @if r.agreement_required {
            p { @match r.agreement_accepted_at {
                Some(at) => { "The family accepted the direct payment agreement on " (c::long_date(at.date())) "." }
                None => { "The direct payment waits for the family to accept its agreement." }
            } }
        }
        (decisions(r))
        @if r.status.is_open() && v.may_decide {
            (decision_form(chrome, &base, r, errors, form))
        }
        @if r.status.is_open() && v.may_assess {
            h2 { "Assess" }
            @if v.current.is_empty() { p { "There is no RAS for these streams yet: " a href="/council/ras" { "add one" } "." } }
            @for ras in v.current {
                @let chosen = r.assessments.iter().find(|a| a.stream == ras.stream).map(|a| a.answers.clone()).unwrap_or_default();
                (questionnaire(chrome, &format!("{base}/assess"), ras, &chosen, errors, &format!("Save the {} assessment", ras.stream.label().to_lowercase())))
            }
        }
        (assessments(r, v.versions))
    }
}

fn decision_form(
    chrome: &Chrome<'_>,
    base: &str,
    r: &RequestView,
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    let outcomes = options(Outcome::ALL, Outcome::as_str, |o| c::capitalise(o.label()));
    let indicative = r.indicative();
    let mut managements = vec![(
        String::new(),
        format!("As the family would like ({})", c::management(r.preferred_management)),
    )];
    managements.extend(management_options());
    html! {
        h2 {
            @if r.status == RequestStatus::UnderReview { "Decide the review" } @else { "Record the panel's decision" }
        }
        p { "Someone who assessed this request cannot decide it, and a review is decided by someone who took no part in the first decision." }
        form method="post" action={ (base) "/decision" } novalidate {
            (csrf_field(chrome))
            (radios(errors, "outcome", "The decision", &outcomes, form.get("outcome")))
            @for s in &r.streams {
                @let ind = indicative.iter().find(|(x, _)| x == s).map(|(_, a)| *a);
                fieldset.fieldset {
                    legend.legend { (s.label()) @if let Some(i) = ind { " (indicative budget " (money(i)) ")" } }
                    (input(errors, &format!("amount.{s}"), &format!("Amount for {}", s.label().to_lowercase()), form.get(&format!("amount.{s}")), "text", Some("Only when varied: the amount agreed. Leave empty to agree the indicative budget, or to allocate nothing for this stream when varied")))
                    (select(errors, &format!("management.{s}"), &format!("How {} is held", s.label().to_lowercase()), &managements, form.get(&format!("management.{s}"))))
                }
            }
            (textarea(errors, "reasons", "Reasons", form.get("reasons"), Some("Required when varied or refused: they go in the decision letter")))
            button.button type="submit" { "Record the decision" }
        }
    }
}

fn due_form(chrome: &Chrome<'_>, item: &DueItem) -> Markup {
    let kind = match item.kind {
        pb::DueKind::SixWeekReview => pb::ReviewKind::SixWeek,
        pb::DueKind::AnnualReview => pb::ReviewKind::Annual,
        pb::DueKind::AdultScreening => pb::ReviewKind::AdultScreening,
        pb::DueKind::Decision | pb::DueKind::Review => {
            return html! { a href={ "/council/requests/" (item.request_id.unwrap_or_default()) } { "Open request " (item.request_id.unwrap_or_default()) } };
        }
    };
    html! {
        form.inline-form method="post" action={ "/council/budget-holders/" (item.budget_holder_id) "/reviews" } {
            (csrf_field(chrome))
            input type="hidden" name="kind" value=(kind.as_str());
            button.button.button-secondary type="submit" aria-label={ "Record the " (kind.label()) " of " (item.reference) " as held today" } { "Held today" }
        }
    }
}

/// What the council's officers have due.
pub fn due(chrome: &Chrome<'_>, list: &Page<DueItem>, within_days: i64) -> Markup {
    html! {
        h1 { "What is due" }
        p { "Decisions near their deadline, reviews asked for, six-week and annual reviews, and young people to screen for adult social care. Overdue items come first." }
        form method="get" action="/council/due" {
            @let windows: Vec<(String, String)> = [14, 28, 60, 90, 183].iter().map(|d| (d.to_string(), format!("Due within {d} days"))).collect();
            (select(&FormErrors::default(), "within_days", "Show", &windows, &within_days.to_string()))
            button.button.button-secondary type="submit" { "Show" }
        }
        (c::table("Due", &["What", "Plan", "Due", ""], list.items.is_empty().then_some("Nothing is due."), html! {
            @for item in &list.items {
                tr {
                    td { (item.kind.label()) }
                    td { a href={ "/council/budget-holders/" (item.budget_holder_id) } { (item.reference) } }
                    td { (c::long_date(item.due_on)) @if item.overdue { " " strong.tag.tag-warning { "Overdue" } } }
                    td { (due_form(chrome, item)) }
                }
            }
        }))
        (c::pager(("item", "items"), list, |n| format!("/council/due?within_days={within_days}&page={n}")))
    }
}

fn count(c: Count) -> Markup {
    html! { @match c.0 { Some(n) => { (n) } None => { abbr title="Fewer than the threshold: withheld so no child can be identified" { "Withheld" } } } }
}

/// The personal-budget report.
pub fn report(r: &PbReport) -> Markup {
    html! {
        h1 { "Personal budgets report" }
        p { "Counts between 1 and " (r.min_count - 1) " are withheld so that no child can be identified, as are medians and totals over so few." }
        (c::table("Requests by status", &["Status", "Requests"], None, html! {
            @for (s, n) in &r.by_status { tr { td { (c::capitalise(s.label())) } td { (count(*n)) } } }
        }))
        (c::table("Decisions", &["Decision", "Requests"], None, html! {
            @for (o, n) in &r.outcomes { tr { td { (c::capitalise(o.label())) } td { (count(*n)) } } }
        }))
        (c::table("Days from request to decision", &["Request for", "Decided", "Median days", "Target", "Within target"], None, html! {
            @for t in &r.time_to_decision {
                tr {
                    td { (c::capitalise(t.kind.label())) }
                    td { (count(t.decided)) }
                    td { @match t.median_days { Some(m) => { (format!("{m:.1}")) } None => { "None" } } }
                    td { (t.target_days) " days (" (t.target_days / 7) " weeks)" }
                    td { (count(t.within_target)) }
                }
            }
        }))
        (c::table("Indicative and final amounts", &["Funding stream", "Decisions", "Indicative total", "Final total"], None, html! {
            @for (s, n, ind, fin) in &r.amounts {
                tr { td { (s.label()) } td { (count(*n)) } td { @match ind { Some(p) => { (money(*p)) } None => { "None" } } } td { @match fin { Some(p) => { (money(*p)) } None => { "None" } } } }
            }
        }))
        (c::table("Plans with a personal budget, by how it is held", &["Arrangement", "Plans"], None, html! {
            @for (a, n) in &r.plans_by_arrangement { tr { td { (a.label()) } td { (count(*n)) } } }
        }))
        (c::table("Plans with a personal budget, by funding stream", &["Funding stream", "Plans"], None, html! {
            @for (s, n) in &r.plans_by_stream { tr { td { (s.label()) } td { (count(*n)) } } }
        }))
        (c::table("Requests by funding stream and status", &["Funding stream", "Status", "Requests"], None, html! {
            @for (s, st, n) in r.by_stream.iter().filter(|(_, _, n)| n.0 != Some(0)) { tr { td { (s.label()) } td { (c::capitalise(st.label())) } td { (count(*n)) } } }
        }))
    }
}

fn ras_fields(errors: &FormErrors, form: &dyn FormValues, fixed_name: bool) -> Markup {
    let kinds = vec![
        ("bands".to_string(), "Bands of points, each with an amount".to_string()),
        ("per_point".to_string(), "An amount per point, up to a cap".to_string()),
    ];
    let kind = if form.get("allocation_kind").is_empty() {
        "bands"
    } else {
        form.get("allocation_kind")
    };
    html! {
        @if fixed_name {
            input type="hidden" name="name" value=(form.get("name"));
            input type="hidden" name="stream" value=(form.get("stream"));
        } @else {
            (input(errors, "name", "Name", form.get("name"), "text", Some("For example: Short breaks RAS. Adding a RAS with a name and stream already used makes its next version")))
            (select(errors, "stream", "Funding stream", &stream_options(), form.get("stream")))
        }
        (textarea(errors, "questions", "Questions", form.get("questions"), Some("One line each: “## Section”, then “id: Question text”, then its answers as “- Label = points”. Points are whole numbers from 0 to 1000")))
        (radios(errors, "allocation_kind", "How the score becomes an indicative budget", &kinds, kind))
        (textarea(errors, "bands", "Bands", form.get("bands"), Some("For bands: one per line, “from-to = amount”, starting at 0 with no gaps, for example “6-12 = 1200.00”")))
        (input(errors, "per_point", "Amount per point", form.get("per_point"), "text", Some("For an amount per point, in pounds")))
        (input(errors, "cap", "Cap", form.get("cap"), "text", Some("For an amount per point: the most it can give, in pounds")))
    }
}

/// The council's RAS versions and the form to add one.
pub fn ras_list(
    chrome: &Chrome<'_>,
    list: &Page<RasView>,
    admin: bool,
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    html! {
        h1 { "Resource allocation systems" }
        (errors.summary())
        p { "A RAS turns an assessment's answers into an indicative budget for one funding stream. Once a version is used it never changes; a new version applies to new assessments only." }
        (c::table("Versions", &["Name", "Funding stream", "Version", "Highest score", "State"], list.items.is_empty().then_some("No RAS yet."), html! {
            @for r in &list.items {
                tr {
                    td { a href={ "/council/ras/" (r.id) } { (r.name) } }
                    td { (r.stream.label()) }
                    td { (r.version) }
                    td { (r.definition.max_score()) }
                    td { (ras_state(r)) }
                }
            }
        }))
        (c::pager(("version", "versions"), list, |n| format!("/council/ras?page={n}")))
        @if admin {
            h2 { "Add a RAS" }
            form method="post" action="/council/ras" novalidate {
                (csrf_field(chrome))
                (ras_fields(errors, form, false))
                button.button type="submit" { "Add the RAS" }
            }
        }
    }
}

fn ras_state(r: &RasView) -> &'static str {
    match (r.superseded, r.first_used_at.is_some()) {
        (true, _) => "Replaced by a newer version",
        (false, true) => "In use",
        (false, false) => "Not used yet: can be corrected",
    }
}

fn allocation_table(d: &RasDefinition) -> Markup {
    match &d.allocation {
        AllocationTable::Bands { bands } => c::table(
            "Bands",
            &["Band", "Points", "Indicative budget"],
            None,
            html! {
                @for (i, b) in bands.iter().enumerate() {
                    tr { td { (i + 1) } td { (b.min_points) " to " (b.max_points) } td { (money(b.amount)) } }
                }
            },
        ),
        AllocationTable::PerPoint { per_point, cap } => html! {
            p { (money(*per_point)) " per point, up to " (money(*cap)) "." }
        },
    }
}

/// One RAS version, and the form to correct it (unused) or to start its next version.
pub fn ras_page(chrome: &Chrome<'_>, r: &RasView, admin: bool, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let starts = section_starts(&r.definition);
    html! {
        p { a href="/council/ras" { "Back to every RAS" } }
        h1 { (r.name) ", version " (r.version) }
        (errors.summary())
        (c::summary_list(&[
            ("Funding stream", html! { (r.stream.label()) }),
            ("State", html! { (ras_state(r)) }),
            ("Highest score", html! { (r.definition.max_score()) }),
        ]))
        h2 { "Questions" }
        @for (q, start) in r.definition.questions.iter().zip(&starts) {
            @if let Some(s) = start { h3 { (s) } }
            p { strong { (q.text) } " (" code { (q.id) } ")" }
            ul { @for a in &q.answers { li { (a.label) ": " (a.points) " points" } } }
        }
        h2 { "Allocation" }
        (allocation_table(&r.definition))
        @if admin && !r.superseded {
            @if r.first_used_at.is_none() {
                h2 { "Correct this version" }
                form method="post" action={ "/council/ras/" (r.id) } novalidate {
                    (csrf_field(chrome))
                    (ras_fields(errors, form, true))
                    button.button type="submit" { "Save the correction" }
                }
            } @else {
                h2 { "Start version " (r.version + 1) }
                p { "This version is in use, so it cannot change. A new version applies to new assessments; earlier ones keep this one." }
                form method="post" action="/council/ras" novalidate {
                    (csrf_field(chrome))
                    (ras_fields(errors, form, true))
                    button.button type="submit" { "Add version " (r.version + 1) }
                }
            }
        }
    }
}

fn permission_label(p: Permission) -> &'static str {
    match p {
        Permission::Assess => "Assess requests",
        Permission::Decide => "Decide requests (the panel)",
        Permission::Admin => "Manage users, settings and the RAS",
    }
}

/// The council's users and their permissions.
pub fn users(chrome: &Chrome<'_>, list: &Page<CouncilUser>, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let permissions = options(Permission::ALL, Permission::as_str, |p| permission_label(p).to_string());
    html! {
        h1 { "Council users" }
        (errors.summary())
        p { "Each officer sets up two-step login at first login. Someone who assesses a request cannot decide it." }
        @for u in &list.items {
            section.card {
                h2 { (u.email) @if !u.active { " " strong.tag.tag-warning { "Turned off" } } }
                @if !u.password_set { p { "No password set yet: this account cannot log in." } }
                form method="post" action={ "/council/users/" (u.id) } novalidate {
                    (csrf_field(chrome))
                    @let checked: Vec<String> = u.permissions.list().iter().map(|p| p.as_str().to_string()).collect();
                    @let name = format!("permissions-{}", u.id);
                    (checkboxes(errors, &name, &format!("What {} may do", u.email), &permissions, &checked))
                    (c::checkbox(&format!("active-{}", u.id), "yes", "This account can log in", u.active))
                    button.button.button-secondary type="submit" { "Save " (u.email) }
                }
            }
        }
        (c::pager(("user", "users"), list, |n| format!("/council/users?page={n}")))
        h2 { "Add a user" }
        form method="post" action="/council/users" novalidate {
            (csrf_field(chrome))
            (input(errors, "email", "Email", form.get("email"), "email", None))
            (input(errors, "password", "Password", "", "password", Some("At least 10 characters. Give it to them in person; they change it after logging in")))
            (checkboxes(errors, "permissions", "What they may do", &permissions, &form.all("permissions")))
            button.button type="submit" { "Add the user" }
        }
    }
}
