//! Direct-payment pages: payments in, spending, receipts, the audit queue and the surplus test.

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, FormValues, csrf_field, input, money};
use crate::app::direct_payments::{Account, PlanDirectPayment};
use crate::db::direct_payments::SpendingRow;
use crate::domain::paging::Page;
use crate::domain::spending::{PaymentSchedule, SpendingStatus};

/// How a direct payment is paid in, in words.
pub fn schedule(s: PaymentSchedule) -> &'static str {
    match s {
        PaymentSchedule::FourWeekly => "every four weeks, in advance",
        PaymentSchedule::Monthly => "monthly, in advance",
    }
}

/// The choices of the new-plan form's "How it is paid in" select.
pub fn schedule_choices() -> Vec<(String, String)> {
    vec![
        (
            PaymentSchedule::FourWeekly.as_str().to_string(),
            "Every four weeks, in advance".to_string(),
        ),
        (
            PaymentSchedule::Monthly.as_str().to_string(),
            "Monthly, in advance".to_string(),
        ),
    ]
}

/// How an allocation is held, with a direct payment's schedule.
pub fn held_as(a: &crate::db::budget_holders::AllocationView) -> String {
    match a.management {
        crate::domain::Management::DirectPayment => format!(
            "{}, paid in {}",
            c::management(a.management),
            schedule(a.payment_schedule)
        ),
        m => c::management(m),
    }
}

fn status(s: SpendingStatus) -> &'static str {
    match s {
        SpendingStatus::Accepted => "Accepted",
        SpendingStatus::InReview => "Waiting for the council's check",
        SpendingStatus::Queried => "The council asked a question",
    }
}

fn receipt_link(s: &SpendingRow) -> Markup {
    html! {
        @if s.receipt_hash.is_some() {
            a href={ "/direct-payment/receipts/" (s.id) } download { "Receipt" span.visually-hidden { " for " (s.payee) " on " (s.spent_on) } }
        } @else { "None" }
    }
}

/// Each account's payments in and its six-week surplus test.
fn accounts(accounts: &[Account]) -> Markup {
    html! {
        @for a in accounts {
            h3 { (c::stream(a.stream)) " direct payment" }
            p { "Paid in " (schedule(a.schedule)) ": " (a.paid_in.len()) " of " (a.instalments) " payments so far." }
            (c::table("Payments in", &["Payment", "Due", "Amount"], a.paid_in.is_empty().then_some("Nothing paid in yet."), html! {
                @for p in &a.paid_in {
                    tr { th scope="row" { (p.instalment + 1) " of " (a.instalments) } td { (p.due_on.format("%-d %B %Y")) } td { (money(p.amount)) } }
                }
            }))
            (c::summary_list(&[
                ("Paid in (less money reclaimed)", html! { (money(a.test.paid_in)) }),
                ("Spent", html! { (money(a.test.spent)) }),
                ("Left in the account", html! { (money(a.test.balance)) }),
                ("Six weeks' worth you may keep", html! { (money(a.test.allowed)) }),
                ("Surplus the council may reclaim", html! { (money(a.test.surplus)) }),
                ("Reclaimed so far", html! { (money(a.recovered)) }),
            ]))
        }
    }
}

/// The family's page: payments in, the surplus test, spending (with answers to the council's
/// questions) and the form to record spending with its receipt.
pub fn family(chrome: &Chrome<'_>, plans: &[PlanDirectPayment], errors: &FormErrors, form: &dyn FormValues) -> Markup {
    html! {
        h1 { "Direct payment" }
        (errors.summary())
        @if plans.is_empty() { p { "None of your plans has a direct payment." } }
        @for p in plans {
            h2 { (p.plan.first_name) "'s plan" }
            (accounts(&p.accounts))
            h3 { "Spending" }
            (c::pager(("item", "items"), &p.spending, |n| format!("/my-plan/direct-payment?page={n}")))
            (c::table("What you spent from the direct payment", &["Date", "Paid to", "What for", "Amount", "Status", "Receipt"], None, html! {
                @for s in &p.spending.items {
                    tr {
                        th scope="row" { (s.spent_on.format("%-d %B %Y")) } td { (s.payee) } td { (s.description) }
                        td { (money(s.amount())) } td { (status(s.status())) } td { (receipt_link(s)) }
                    }
                }
            }))
            @for s in p.spending.items.iter().filter(|s| s.status() == SpendingStatus::Queried) {
                @let field = format!("answer_{}", s.id);
                h4 { "The council asks about " (s.payee) " on " (s.spent_on.format("%-d %B %Y")) }
                p { (s.query.as_deref().unwrap_or_default()) }
                form method="post" action={ "/my-plan/direct-payment/spending/" (s.id) "/answer" } novalidate {
                    (csrf_field(chrome))
                    (c::textarea(errors, &field, "Your answer", form.get(&field), None))
                    button.button type="submit" { "Send the answer" }
                }
            }
            h3 { "Record spending" }
            form method="post" action={ "/my-plan/direct-payment/" (p.plan.id) "/spending" } enctype="multipart/form-data" novalidate {
                (csrf_field(chrome))
                @let direct: Vec<_> = p.plan.allocations.iter().filter(|a| a.management == crate::domain::Management::DirectPayment).collect();
                @if direct.len() > 1 {
                    @let choices: Vec<(String, String)> = direct.iter().map(|a| (a.id.0.to_string(), c::stream(a.stream))).collect();
                    (c::select(errors, "allocation_id", "Paid from", &choices, form.get("allocation_id")))
                }
                (input(errors, "payee", "Paid to", form.get("payee"), "text", None))
                (input(errors, "spent_on", "Date", form.get("spent_on"), "date", Some("For example: 2026-11-30")))
                (input(errors, "amount", "Amount in pounds", form.get("amount"), "text", None))
                (input(errors, "description", "What it was for", form.get("description"), "text", None))
                @let outcomes: Vec<(String, String)> = std::iter::once((String::new(), "None".to_string()))
                    .chain(p.plan.outcomes.iter().map(|o| (o.id.0.to_string(), o.text.clone()))).collect();
                (c::select(errors, "plan_outcome_id", "The plan outcome it helped with", &outcomes, form.get("plan_outcome_id")))
                @let error = errors.get("receipt");
                div.form-group.form-group-error[error.is_some()] {
                    label.label for="receipt" { "Receipt" }
                    div.hint id="receipt-hint" { "A PDF or a photo, at most 5 MB; needed for anything over £5.00" }
                    @if let Some(m) = error { p.error-message id="receipt-error" { span.visually-hidden { "Error: " } (m) } }
                    input #receipt type="file" name="receipt" accept="application/pdf,image/*" aria-describedby="receipt-hint";
                }
                button.button type="submit" { "Record spending" }
            }
        }
    }
}

/// The council's audit queue: spending to accept or query, with each receipt.
pub fn audit(
    chrome: &Chrome<'_>,
    queue: &Page<SpendingRow>,
    showing: SpendingStatus,
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    let other = if showing == SpendingStatus::Queried {
        SpendingStatus::InReview
    } else {
        SpendingStatus::Queried
    };
    html! {
        h1 { "Audit" }
        (errors.summary())
        p { "Direct-payment spending your audit rule picked for a check. Accept it, or ask the family a question." }
        p { a href={ "/council/audit?status=" (other.as_str()) } { "Show spending that is " (status(other).to_lowercase()) } }
        h2 { (status(showing)) }
        (c::pager(("item", "items"), queue, |n| format!("/council/audit?status={}&page={n}", showing.as_str())))
        (c::table("Spending to check", &["Date", "Paid to", "What for", "Amount", "Receipt", "Plan"], None, html! {
            @for s in &queue.items {
                tr {
                    th scope="row" { (s.spent_on.format("%-d %B %Y")) } td { (s.payee) } td { (s.description) }
                    td { (money(s.amount())) } td { (receipt_link(s)) }
                    td { a href={ "/council/budget-holders/" (s.budget_holder_id) "/direct-payment" } { "Budget holder " (s.budget_holder_id) } }
                }
            }
        }))
        @for s in &queue.items {
            @let field = format!("question_{}", s.id);
            h3 { (s.payee) ", " (money(s.amount())) " on " (s.spent_on.format("%-d %B %Y")) }
            @if let Some(q) = &s.query { p { "You asked: " (q) } }
            @if let Some(a) = &s.answer { p { "The family answered: " (a) } }
            form method="post" action={ "/council/audit/" (s.id) "/accept" } {
                (csrf_field(chrome))
                button.button type="submit" { "Accept" span.visually-hidden { " " (s.payee) " on " (s.spent_on) } }
            }
            @if s.status() == SpendingStatus::InReview {
                form method="post" action={ "/council/audit/" (s.id) "/query" } novalidate {
                    (csrf_field(chrome))
                    (c::textarea(errors, &field, "Ask the family", form.get(&field), None))
                    button.button type="submit" { "Send the question" }
                }
            }
        }
    }
}

/// The council's page for one plan's direct payments: the surplus test and a recovery.
pub fn council_plan(chrome: &Chrome<'_>, p: &PlanDirectPayment, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let id = p.plan.id;
    html! {
        h1 { "Direct payment of budget holder " (p.plan.reference) }
        (errors.summary())
        p { a href={ "/council/budget-holders/" (id) } { "Back to the budget holder" } }
        (accounts(&p.accounts))
        h2 { "Spending" }
        (c::pager(("item", "items"), &p.spending, |n| format!("/council/budget-holders/{id}/direct-payment?page={n}")))
        (c::table("Spending from the direct payment", &["Date", "Paid to", "What for", "Amount", "Status", "Receipt"], None, html! {
            @for s in &p.spending.items {
                tr {
                    th scope="row" { (s.spent_on.format("%-d %B %Y")) } td { (s.payee) } td { (s.description) }
                    td { (money(s.amount())) } td { (status(s.status())) } td { (receipt_link(s)) }
                }
            }
        }))
        @if !p.accounts.is_empty() {
            h2 { "Reclaim a surplus" }
            form method="post" action={ "/council/budget-holders/" (id) "/recoveries" } novalidate {
                (csrf_field(chrome))
                @let choices: Vec<(String, String)> = p.accounts.iter().map(|a| (a.allocation_id.0.to_string(), format!("{} (surplus {})", c::stream(a.stream), money(a.test.surplus)))).collect();
                (c::select(errors, "allocation_id", "From", &choices, form.get("allocation_id")))
                (input(errors, "amount", "Amount in pounds", form.get("amount"), "text", Some("At most the surplus")))
                (input(errors, "reason", "Reason", form.get("reason"), "text", None))
                button.button type="submit" { "Record the recovery" }
            }
        }
    }
}
