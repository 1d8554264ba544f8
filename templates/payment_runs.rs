//! Payment run pages: the council's runs and one run with its invoices, and the provider's
//! invoicing settings and bank details that a run pays into.

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, FormValues, csrf_field, input, money};
use crate::app::finance::Invoicing;
use crate::app::payment_runs::{RunView, number};
use crate::db::payment_runs::{RunInvoice, RunRow};
use crate::domain::Pence;
use crate::domain::paging::Page;
use crate::domain::payment_run::PaymentRunStatus;

fn status(s: PaymentRunStatus) -> &'static str {
    match s {
        PaymentRunStatus::Open => "Open: waiting for finance to pay it",
        PaymentRunStatus::Paid => "Paid",
    }
}

fn due(d: Option<chrono::NaiveDate>) -> String {
    d.map(c::long_date).unwrap_or_else(|| "Not stated".into())
}

/// The VAT rate in basis points as a percentage for people: 2000 is "20", 1750 is "17.5".
pub fn percent(bp: i32) -> String {
    let whole = bp / 100;
    match bp % 100 {
        0 => whole.to_string(),
        part if part % 10 == 0 => format!("{whole}.{}", part / 10),
        part => format!("{whole}.{part:02}"),
    }
}

/// The provider's invoicing page: VAT and payment terms, and the bank details a council pays
/// into (shown masked; the form takes them whole again to change them).
pub fn provider_invoicing(chrome: &Chrome<'_>, i: &Invoicing, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let settings_sent = !errors.is_empty() && !form.get("payment_terms_days").is_empty();
    let value = |name: &str, current: String| {
        if settings_sent {
            form.get(name).to_string()
        } else {
            current
        }
    };
    html! {
        h1 { "Invoicing" }
        (errors.summary())
        h2 { "VAT and payment terms" }
        p { "Most charities are exempt from VAT: leave the VAT number empty and the rate at 0. Prices include VAT; a registered provider's invoices show the VAT they contain." }
        form method="post" action="/provider/invoicing" novalidate {
            (csrf_field(chrome))
            (input(errors, "vat_number", "VAT registration number", &value("vat_number", i.settings.vat_number.clone().unwrap_or_default()), "text", Some("For example: GB123456789. Leave empty if you are not registered for VAT")))
            (input(errors, "vat_rate", "VAT rate in per cent", &value("vat_rate", percent(i.settings.vat_rate_bp)), "text", Some("For example: 20. It must be 0 without a VAT number")))
            (input(errors, "payment_terms_days", "Payment terms in days", &value("payment_terms_days", i.settings.payment_terms_days.to_string()), "text", Some("Days from an invoice's issue to its due date, 0 to 120")))
            button.button type="submit" { "Save VAT and payment terms" }
        }
        h2 { "Bank details" }
        @match &i.bank {
            Some(b) => {
                p { "Councils pay your invoices into this account. Only the last digits are shown." }
                (c::summary_list(&[
                    ("Account name", html! { (b.account_name) }),
                    ("Sort code", html! { span aria-hidden="true" { (b.sort_code) } span.visually-hidden { "ending " (b.sort_code.trim_start_matches("**-**-")) } }),
                    ("Account number", html! { span aria-hidden="true" { (b.account_number) } span.visually-hidden { "ending " (b.account_number.trim_start_matches('*')) } }),
                    ("Payment reference", html! { @if b.payment_reference.is_empty() { "None: the invoice number is used" } @else { (b.payment_reference) } }),
                    ("Last changed", html! { (c::long_date(b.updated_at.date())) }),
                ]))
                h3 { "Change the bank details" }
            }
            None => {
                p { "You have not given bank details yet: councils cannot pay your invoices until you do." }
            }
        }
        p { "The numbers are kept encrypted and shown to nobody but the finance team of the council that pays you." }
        form method="post" action="/provider/invoicing/bank-details" autocomplete="off" novalidate {
            (csrf_field(chrome))
            (input(errors, "account_name", "Name on the account", form.get("account_name"), "text", None))
            (input(errors, "sort_code", "Sort code", "", "text", Some("Six digits, for example: 12-34-56")))
            (input(errors, "account_number", "Account number", "", "text", Some("Eight digits")))
            (input(errors, "payment_reference", "Payment reference (optional)", form.get("payment_reference"), "text", Some("What your bank statement should show, at most 18 characters; the invoice number if you leave it empty")))
            button.button type="submit" { "Save bank details" }
        }
    }
}

fn run_rows(runs: &Page<RunRow>) -> Markup {
    html! {
        @for r in &runs.items {
            tr {
                th scope="row" { a href={ "/council/payment-runs/" (r.id) } { "Payment run " (r.id) } }
                td { (c::long_date(r.created_at.date())) }
                td { (r.invoice_count) }
                td { (money(r.total())) }
                td { (status(r.status())) }
                td { (r.paid_on.map(c::long_date).unwrap_or_default()) }
            }
        }
    }
}

fn invoice_rows(invoices: &[&RunInvoice]) -> Markup {
    html! {
        @for i in invoices {
            tr {
                th scope="row" { (number(i)) }
                td { (i.provider) }
                td { (due(i.due_on)) }
                td { (money(i.amount)) }
            }
        }
    }
}

/// The council's payment runs: what is ready to pay, a form to make a run, and the runs made.
pub fn council_runs(
    chrome: &Chrome<'_>,
    runs: &Page<RunRow>,
    unpaid: &[RunInvoice],
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    let (ready, waiting): (Vec<&RunInvoice>, Vec<&RunInvoice>) = unpaid.iter().partition(|i| i.has_bank_details);
    let ready_total = Pence::from_stored(ready.iter().map(|i| i.amount.pence()).sum());
    html! {
        h1 { "Payment runs" }
        (errors.summary())
        p { "A payment run gathers the approved invoices for allocations the council organises, for your finance system to pay. Its CSV carries each provider's bank details in full." }
        h2 { "Make a payment run" }
        p {
            @match ready.len() {
                0 => { "No approved invoice is ready to pay." }
                1 => { "1 approved invoice is ready to pay, " (money(ready_total)) "." }
                n => { (n) " approved invoices are ready to pay, " (money(ready_total)) " in all." }
            }
        }
        form method="post" action="/council/payment-runs" novalidate {
            (csrf_field(chrome))
            (input(errors, "due_by", "Only invoices due by (optional)", form.get("due_by"), "date", Some("For example: 2027-01-31. Leave empty for every approved invoice")))
            button.button type="submit" { "Make a payment run" }
        }
        @if !waiting.is_empty() {
            h2 { "Waiting for bank details" }
            p { "These approved invoices cannot be paid until their providers give their bank details." }
            (c::table("Approved invoices without bank details", &["Invoice", "Provider", "Due", "Amount"], None, invoice_rows(&waiting)))
        }
        h2 { "Runs made" }
        (c::pager(("payment run", "payment runs"), runs, |n| format!("/council/payment-runs?page={n}")))
        (c::table("Payment runs", &["Run", "Made", "Invoices", "Total", "Status", "Paid on"], None, run_rows(runs)))
    }
}

/// One payment run: its invoices, the CSV for finance and the form to mark it paid.
pub fn council_run(chrome: &Chrome<'_>, v: &RunView, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let id = v.run.id;
    let invoices: Vec<&RunInvoice> = v.invoices.iter().collect();
    html! {
        h1 { "Payment run " (id) }
        (errors.summary())
        p { a href="/council/payment-runs" { "Back to the payment runs" } }
        (c::summary_list(&[
            ("Status", html! { (status(v.run.status())) }),
            ("Made", html! { (c::long_date(v.run.created_at.date())) }),
            ("Invoices", html! { (v.invoices.len()) }),
            ("Total", html! { (money(v.total())) }),
            ("Paid on", html! { (v.run.paid_on.map(c::long_date).unwrap_or_else(|| "Not yet".into())) }),
        ]))
        p { a href={ "/council/payment-runs/" (id) ".csv" } download { "Download the CSV for your finance system" } }
        (c::table("Invoices in this run", &["Invoice", "Provider", "Due", "Amount"], v.invoices.is_empty().then_some("No invoices."), invoice_rows(&invoices)))
        @if v.run.status() == PaymentRunStatus::Open {
            h2 { "Mark the run paid" }
            p { "Once finance has paid it: every invoice in the run is then paid." }
            form method="post" action={ "/council/payment-runs/" (id) "/paid" } novalidate {
                (csrf_field(chrome))
                (input(errors, "paid_on", "Date paid", form.get("paid_on"), "date", Some("For example: 2027-01-31")))
                (input(errors, "reference", "Finance's reference (optional)", form.get("reference"), "text", None))
                button.button type="submit" { "Mark paid" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(percent(2000), "20");
        assert_eq!(percent(1750), "17.5");
        assert_eq!(percent(0), "0");
        assert_eq!(percent(505), "5.05");
    }
}
