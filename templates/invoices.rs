//! Invoice pages and the invoice PDF.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::db::invoices::InvoiceView;
use crate::domain::Pence;
use crate::domain::invoice::InvoiceStatus;

/// An amount as an invoice prints it: £1,234.56.
pub fn pounds(p: Pence) -> String {
    let s = p.to_string();
    let (whole, pence) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("£{grouped}.{pence}")
}

/// What an invoice's status means to the person reading it.
pub fn status_label(s: InvoiceStatus) -> &'static str {
    match s {
        InvoiceStatus::Draft => "Draft (not issued)",
        InvoiceStatus::Issued => "Issued, awaiting the payer",
        InvoiceStatus::Approved => "Approved, to be paid",
        InvoiceStatus::Disputed => "Disputed by the payer",
        InvoiceStatus::Paid => "Paid",
        InvoiceStatus::Credited => "Credited in full",
    }
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = PAGE_W - 50.0;
const LINES_PER_PAGE: usize = 30;

/// Text in the PDF's WinAnsi encoding (what Helvetica carries without an embedded font); a
/// character it lacks prints as '?'.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Helvetica's advance widths (per 1000) for what amounts are made of; others at an average.
fn width(text: &str, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| match c {
            '0'..='9' | '£' => 556,
            '.' | ',' | ' ' => 278,
            '-' => 333,
            _ => 600,
        })
        .sum();
    units as f32 * size / 1000.0
}

struct Writer {
    content: Content,
}

impl Writer {
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        self.content.begin_text();
        self.content.set_font(Name(if bold { b"F2" } else { b"F1" }), size);
        self.content.next_line(x, y);
        self.content.show(Str(&win_ansi(text)));
        self.content.end_text();
    }

    fn right(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        self.text(x - width(text, size), y, size, bold, text);
    }

    fn rule(&mut self, y: f32) {
        self.content.move_to(LEFT, y);
        self.content.line_to(RIGHT, y);
        self.content.stroke();
    }
}

/// Cut a description to what fits its column.
fn clip(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let cut: String = text.chars().take(chars.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn header(w: &mut Writer, inv: &InvoiceView, page: usize, pages: usize) -> f32 {
    let title = match inv.number_text() {
        Some(n) => format!("Invoice {n}"),
        None => "Draft invoice".to_string(),
    };
    w.text(LEFT, PAGE_H - 60.0, 20.0, true, &title);
    w.right(RIGHT, PAGE_H - 60.0, 9.0, false, &format!("Page {page} of {pages}"));
    let mut y = PAGE_H - 90.0;
    w.text(LEFT, y, 10.0, true, "From");
    w.text(300.0, y, 10.0, true, "To");
    y -= 14.0;
    w.text(LEFT, y, 10.0, false, &inv.provider_name);
    w.text(300.0, y, 10.0, false, &inv.payer_name);
    y -= 14.0;
    if let Some(n) = &inv.charity_number {
        w.text(LEFT, y, 9.0, false, &format!("Registered charity {n}"));
    }
    w.text(300.0, y, 9.0, false, &format!("For the plan of {}", inv.first_name));
    y -= 12.0;
    if let Some(email) = &inv.provider_email {
        w.text(LEFT, y, 9.0, false, email);
    }
    w.text(300.0, y, 9.0, false, &format!("Plan reference {}", inv.child_reference));
    y -= 12.0;
    if let Some(vat) = &inv.vat_number {
        w.text(LEFT, y, 9.0, false, &format!("VAT registration {vat}"));
    }
    y -= 20.0;
    let dates = [
        ("Issued", inv.issued_on.map(|d| d.format("%-d %B %Y").to_string())),
        ("Payment due", inv.due_on.map(|d| d.format("%-d %B %Y").to_string())),
        (
            "Period",
            Some(format!(
                "{} to {}",
                inv.period_start.format("%-d %b %Y"),
                inv.period_end.format("%-d %b %Y")
            )),
        ),
        ("Status", Some(status_label(inv.status).to_string())),
    ];
    for (label, value) in dates {
        if let Some(value) = value {
            w.text(LEFT, y, 9.0, true, label);
            w.text(LEFT + 80.0, y, 9.0, false, &value);
            y -= 12.0;
        }
    }
    y -= 12.0;
    w.text(LEFT, y, 9.0, true, "Date");
    w.text(LEFT + 70.0, y, 9.0, true, "Description");
    w.right(RIGHT - 150.0, y, 9.0, true, "Qty");
    w.right(RIGHT - 75.0, y, 9.0, true, "Unit price");
    w.right(RIGHT, y, 9.0, true, "Amount");
    y -= 5.0;
    w.rule(y);
    y - 13.0
}

fn totals(w: &mut Writer, inv: &InvoiceView, mut y: f32) {
    y -= 4.0;
    w.rule(y);
    y -= 14.0;
    let mut rows = vec![("Total (VAT included where charged)", pounds(inv.total))];
    if inv.vat_number.is_some() {
        rows.insert(0, ("Net", pounds(inv.net)));
        rows.insert(
            1,
            (
                "VAT",
                format!(
                    "{} at {}%",
                    pounds(inv.vat),
                    Pence::from_stored(i64::from(inv.vat_rate_bp))
                ),
            ),
        );
    } else {
        rows.push(("VAT", "not charged".to_string()));
    }
    if inv.credited > Pence::ZERO {
        rows.push(("Credited", format!("-{}", pounds(inv.credited))));
        rows.push(("To pay", pounds(inv.owed())));
    }
    for (label, value) in rows {
        w.right(RIGHT - 110.0, y, 10.0, true, label);
        w.right(RIGHT, y, 10.0, false, &value);
        y -= 14.0;
    }
    y -= 10.0;
    for note in &inv.credit_notes {
        w.text(
            LEFT,
            y,
            9.0,
            false,
            &clip(
                &format!("Credit note {}: {} ({})", note.number, pounds(note.total), note.reason),
                95,
            ),
        );
        y -= 12.0;
    }
    if !inv.notes.is_empty() {
        w.text(LEFT, y, 9.0, false, &clip(&format!("Note: {}", inv.notes), 95));
        y -= 12.0;
    }
    if let Some(reason) = &inv.dispute_reason {
        w.text(LEFT, y, 9.0, false, &clip(&format!("Disputed: {reason}"), 95));
    }
    w.text(
        LEFT,
        40.0,
        8.0,
        false,
        "Made by localoffer from the sessions recorded as delivered. Each session is invoiced once.",
    );
}

/// The invoice as a PDF (A4, Helvetica, no embedded fonts), paged every thirty lines.
pub fn pdf(inv: &InvoiceView) -> Vec<u8> {
    let chunks: Vec<_> = if inv.lines.is_empty() {
        vec![&inv.lines[..]]
    } else {
        inv.lines.chunks(LINES_PER_PAGE).collect()
    };
    let pages = chunks.len();
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let page_ids: Vec<Ref> = (0..pages).map(|i| Ref::new(10 + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(pages as i32);
    let title = inv.number_text().unwrap_or_else(|| "Draft invoice".into());
    pdf.document_info(info)
        .title(TextStr(&title))
        .author(TextStr(&inv.provider_name));
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    for (i, lines) in chunks.iter().enumerate() {
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(b"F1"), regular);
        fonts.pair(Name(b"F2"), bold);
        fonts.finish();
        resources.finish();
        page.finish();
        let mut w = Writer {
            content: Content::new(),
        };
        let mut y = header(&mut w, inv, i + 1, pages);
        for line in lines.iter() {
            w.text(LEFT, y, 9.0, false, &line.delivered_on.format("%d/%m/%Y").to_string());
            w.text(LEFT + 70.0, y, 9.0, false, &clip(&line.description, 52));
            w.right(RIGHT - 150.0, y, 9.0, false, &line.quantity.to_string());
            w.right(RIGHT - 75.0, y, 9.0, false, &pounds(line.unit_price));
            w.right(RIGHT, y, 9.0, false, &pounds(line.amount));
            y -= 13.0;
        }
        if i + 1 == pages {
            totals(&mut w, inv, y);
        }
        pdf.stream(content_id, &w.content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_are_grouped_in_thousands() {
        let p = |s: &str| s.parse::<Pence>().unwrap();
        assert_eq!(pounds(p("0.05")), "£0.05");
        assert_eq!(pounds(p("999.00")), "£999.00");
        assert_eq!(pounds(p("1234.50")), "£1,234.50");
        assert_eq!(pounds(p("1234567.00")), "£1,234,567.00");
    }

    #[test]
    fn text_is_win_ansi() {
        assert_eq!(win_ansi("£5 – é"), vec![0xA3, b'5', b' ', 0x96, b' ', 0xE9]);
        assert_eq!(win_ansi("日"), b"?");
    }
}

// ---- Pages -----------------------------------------------------------------------------------

use maud::{Markup, html};

use super::components::{self as c, Chrome, FormErrors, FormValues, csrf_field, input, money};
use crate::app::invoices::ToInvoice;
use crate::domain::paging::Page;

/// What the visitor may do with the invoice on its page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowed {
    pub provider: bool,
    pub payer: bool,
}

fn status_filter(showing: Option<InvoiceStatus>) -> Markup {
    html! {
        form.filter method="get" action="/invoices" {
            div.form-group {
                label for="status" { "Show" }
                select #status name="status" {
                    option value="" selected[showing.is_none()] { "Every invoice" }
                    @for s in InvoiceStatus::ALL {
                        option value=(s.as_str()) selected[showing == Some(*s)] { (status_label(*s)) }
                    }
                }
            }
            button.button.button-secondary type="submit" { "Show these" }
        }
    }
}

fn number(i: &InvoiceView) -> String {
    i.number_text().unwrap_or_else(|| format!("Draft {}", i.id))
}

/// The invoices list: a provider's own with what is still to invoice, or a payer's.
pub fn list(
    chrome: &Chrome<'_>,
    page: &Page<InvoiceView>,
    showing: Option<InvoiceStatus>,
    to_invoice: Option<&[ToInvoice]>,
) -> Markup {
    let query = showing.map(|s| format!("status={}&", s.as_str())).unwrap_or_default();
    html! {
        h1 { "Invoices" }
        @if let Some(rows) = to_invoice {
            h2 { "Delivered, not yet invoiced" }
            p { "Sessions attended, or charged as late cancellations or absences, that are on no invoice. Invoices are also drafted for you when each period ends." }
            (c::table("Delivered sessions to invoice", &["Child", "Paid by", "Sessions", "Dates", "Amount", ""], rows.is_empty().then_some("Everything delivered is on an invoice."), html! {
                @for r in rows {
                    tr {
                        th scope="row" { (r.first_name) " (" (r.reference) ")" }
                        td { (r.payer.label()) } td { (r.items) }
                        td { (r.first_on.format("%-d %b %Y")) " to " (r.last_on.format("%-d %b %Y")) }
                        td { (money(r.amount)) }
                        td {
                            form method="post" action="/invoices/draft" {
                                (csrf_field(chrome))
                                input type="hidden" name="budget_holder_id" value=(r.budget_holder_id);
                                input type="hidden" name="payer" value=(r.payer.as_str());
                                button.button type="submit" { "Draft invoice" span.visually-hidden { " for " (r.first_name) } }
                            }
                        }
                    }
                }
            }))
        }
        h2 { "Invoices" }
        (status_filter(showing))
        (c::pager(("invoice", "invoices"), page, |n| format!("/invoices?{query}page={n}")))
        (c::table("Invoices", &["Invoice", "From", "To", "Child", "Period", "Total", "Status"], None, html! {
            @for i in &page.items {
                tr {
                    th scope="row" { a href={ "/invoices/" (i.id) } { (number(i)) } }
                    td { (i.provider_name) } td { (i.payer_name) }
                    td { (i.first_name) " (" (i.child_reference) ")" }
                    td { (i.period_start.format("%-d %b")) " to " (i.period_end.format("%-d %b %Y")) }
                    td { (money(i.total)) } td { (status_label(i.status)) }
                }
            }
        }))
    }
}

fn summary(i: &InvoiceView) -> Markup {
    let mut rows = vec![
        ("Status", html! { (status_label(i.status)) }),
        ("From", html! { (i.provider_name) }),
        ("To", html! { (i.payer_name) }),
        ("Child", html! { (i.first_name) " (plan " (i.child_reference) ")" }),
        (
            "Period",
            html! { (i.period_start.format("%-d %B %Y")) " to " (i.period_end.format("%-d %B %Y")) },
        ),
    ];
    if let Some(d) = i.issued_on {
        rows.push(("Issued", html! { (d.format("%-d %B %Y")) }));
    }
    if let Some(d) = i.due_on {
        rows.push(("Payment due", html! { (d.format("%-d %B %Y")) }));
    }
    rows.push(("Total", html! { (money(i.total)) }));
    if i.vat_number.is_some() {
        rows.push((
            "VAT included",
            html! { (money(i.vat)) " (VAT number " (i.vat_number.clone().unwrap_or_default()) ")" },
        ));
    }
    if i.credited > Pence::ZERO {
        rows.push(("Credited", html! { (money(i.credited)) }));
        rows.push(("To pay", html! { (money(i.owed())) }));
    }
    if let Some(r) = &i.dispute_reason {
        rows.push(("Why it was disputed", html! { (r) }));
    }
    if let Some(d) = i.paid_on {
        rows.push((
            "Paid",
            html! { (d.format("%-d %B %Y")) " " (i.paid_reference.clone().unwrap_or_default()) },
        ));
    }
    if !i.notes.is_empty() {
        rows.push(("Note", html! { (i.notes) }));
    }
    c::summary_list(&rows)
}

fn provider_actions(chrome: &Chrome<'_>, i: &InvoiceView, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let base = format!("/invoices/{}", i.id);
    html! {
        @if i.status == InvoiceStatus::Draft {
            h2 { "Issue this invoice" }
            p { "Issuing gives it the next invoice number and sends it to " (i.payer_name) ". It cannot change afterwards; a credit note corrects it." }
            form method="post" action={ (base) "/issue" } { (csrf_field(chrome)) button.button type="submit" { "Issue invoice" } }
            form method="post" action={ (base) "/notes" } novalidate {
                (csrf_field(chrome))
                (c::textarea(errors, "notes", "Note on the invoice", if form.get("notes").is_empty() { &i.notes } else { form.get("notes") }, Some("An order number or a note to the payer")))
                button.button.button-secondary type="submit" { "Save the note" }
            }
            form method="post" action={ (base) "/delete" } { (csrf_field(chrome)) button.button.button-secondary type="submit" { "Delete this draft" } }
        }
        @if i.status.creditable() {
            h2 { "Raise a credit note" }
            form method="post" action={ (base) "/credit" } novalidate {
                (csrf_field(chrome))
                @let choices: Vec<(String, String)> = i.lines.iter().filter(|l| l.credited < l.amount).map(|l| (l.id.0.to_string(), format!("{} ({} left)", l.description, money(l.amount.saturating_sub(l.credited))))).collect();
                (c::select(errors, "line_id", "Line", &choices, form.get("line_id")))
                (input(errors, "amount", "Amount in pounds", form.get("amount"), "text", Some("Leave empty to credit the whole line")))
                (input(errors, "reason", "Reason", form.get("reason"), "text", None))
                button.button type="submit" { "Raise the credit note" }
            }
        }
    }
}

fn payer_actions(chrome: &Chrome<'_>, i: &InvoiceView, errors: &FormErrors, form: &dyn FormValues) -> Markup {
    let base = format!("/invoices/{}", i.id);
    html! {
        @if i.status.awaiting_payer() {
            h2 { "Your answer" }
            form method="post" action={ (base) "/approve" } { (csrf_field(chrome)) button.button type="submit" { "Approve invoice" } }
            @if i.status == InvoiceStatus::Issued {
                form method="post" action={ (base) "/dispute" } novalidate {
                    (csrf_field(chrome))
                    (c::textarea(errors, "reason", "Or dispute it: why", form.get("reason"), Some("The provider sees this")))
                    button.button.button-secondary type="submit" { "Dispute invoice" }
                }
            }
        }
        @if i.status == InvoiceStatus::Approved {
            h2 { "Record the payment" }
            form method="post" action={ (base) "/paid" } novalidate {
                (csrf_field(chrome))
                (input(errors, "paid_on", "Paid on", form.get("paid_on"), "date", None))
                (input(errors, "reference", "Payment reference", form.get("reference"), "text", Some("Optional")))
                button.button type="submit" { "Record payment" }
            }
        }
    }
}

/// One invoice: its summary, lines, credit notes, downloads and what the visitor may do.
pub fn one(
    chrome: &Chrome<'_>,
    i: &InvoiceView,
    allowed: Allowed,
    errors: &FormErrors,
    form: &dyn FormValues,
) -> Markup {
    html! {
        h1 { @if i.number.is_some() { "Invoice " (number(i)) } @else { "Draft invoice" } }
        (errors.summary())
        p { a href="/invoices" { "Back to invoices" } }
        (summary(i))
        p {
            a href={ "/invoices/" (i.id) "/invoice.pdf" } { "Download as PDF" } " · "
            a href={ "/invoices/" (i.id) "/lines.csv" } { "Download the lines as CSV" }
        }
        (c::table("Lines", &["Date", "Description", "Quantity", "Unit price", "Amount", "Credited"], i.lines.is_empty().then_some("No lines."), html! {
            @for l in &i.lines {
                tr {
                    th scope="row" { (l.delivered_on.format("%-d %b %Y")) } td { (l.description) } td { (l.quantity) }
                    td { (money(l.unit_price)) } td { (money(l.amount)) } td { (money(l.credited)) }
                }
            }
        }))
        @if !i.credit_notes.is_empty() {
            (c::table("Credit notes", &["Number", "Reason", "Amount"], None, html! {
                @for n in &i.credit_notes { tr { th scope="row" { (n.number) } td { (n.reason) } td { (money(n.total)) } } }
            }))
        }
        @if allowed.provider { (provider_actions(chrome, i, errors, form)) }
        @if allowed.payer { (payer_actions(chrome, i, errors, form)) }
    }
}
