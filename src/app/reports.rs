//! The council's reports: where the market fails, how budgets are spent, which providers price
//! below their own full cost, how plan outcomes are met; each also as CSV for a spreadsheet.

use std::sync::Arc;

use serde::Serialize;

use super::{App, AppError, AppResult};
use crate::db::reports::{self, OutcomeProgress, PricedBelowCost, QuarterlyReturn};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::reports::{self as rules, DEFAULT_MIN_HOLDERS, GapRow, SpendingRow};
use crate::domain::validate::FieldError;
use crate::domain::{Actor, CouncilId, Pence};

fn council_of(actor: &Actor) -> AppResult<CouncilId> {
    actor.council().ok_or_else(|| AppError::wrong_role(actor))
}

/// Which gaps to show.
#[derive(Debug, Clone, Default)]
pub struct GapFilter {
    pub area: Option<String>,
    pub outcome: Option<String>,
    pub min_holders: Option<usize>,
}

impl GapFilter {
    pub fn min_holders(&self) -> usize {
        self.min_holders.unwrap_or(DEFAULT_MIN_HOLDERS)
    }
}

/// A page of the gap report for the officer's council, worst first.
pub async fn gaps(app: &App, actor: &Actor, filter: &GapFilter, page: PageRequest) -> AppResult<Page<GapRow>> {
    Ok(page.slice(gap_rows(app, actor, filter).await?))
}

/// The whole gap report for the officer's council, worst first; small areas pooled and withheld.
async fn gap_rows(app: &App, actor: &Actor, filter: &GapFilter) -> AppResult<Vec<GapRow>> {
    let council = council_of(actor)?;
    let min_holders = filter.min_holders();
    if min_holders < 2 {
        return Err(AppError::bad_parameters(
            FieldError::new(
                "min_holders",
                "must be at least 2: smaller groups could identify a child",
            )
            .into(),
        ));
    }
    let outcome = filter.outcome.as_deref().map(str::trim).filter(|o| !o.is_empty());
    if outcome.is_some_and(|o| app.taxonomy.get(o).is_none()) {
        return Err(AppError::bad_parameters(
            FieldError::new("outcome", "is not a term in the taxonomy").into(),
        ));
    }
    let places = Arc::clone(app.geocoder.outcodes());
    let mut rows = app
        .blocking(move |app| {
            let (holders, services, unmet) = app.db.read_as(|conn| {
                Ok::<_, AppError>((
                    reports::holder_facts(conn, council, &app.taxonomy, &places)?,
                    reports::service_facts(conn, &app.taxonomy, council)?,
                    reports::unmet_searches(conn)?,
                ))
            })?;
            Ok(rules::gaps(&holders, &services, &unmet, min_holders))
        })
        .await?;
    if let Some(area) = filter.area.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        rows.retain(|r| r.area.eq_ignore_ascii_case(area));
    }
    if let Some(outcome) = outcome {
        rows.retain(|r| r.outcome == outcome);
    }
    Ok(rows)
}

/// A page of the council's allocations, with the sums over all of them.
#[derive(Debug, Clone)]
pub struct Spending {
    pub totals: SpendingTotals,
    pub allocations: Page<SpendingRow>,
}

pub async fn spending(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Spending> {
    let rows = spending_rows(app, actor).await?;
    Ok(Spending {
        totals: spending_totals(&rows),
        allocations: page.slice(rows),
    })
}

/// Every allocation of the council's plans: allocated, committed, delivered, remaining, flags.
async fn spending_rows(app: &App, actor: &Actor) -> AppResult<Vec<SpendingRow>> {
    let council = council_of(actor)?;
    let facts = app
        .read(move |conn| Ok(reports::allocation_facts(conn, council)?))
        .await?;
    let today = App::today();
    Ok(facts.iter().map(|a| rules::spending(a, today)).collect())
}

/// Sums of a spending report.
#[derive(Debug, Clone, Copy)]
pub struct SpendingTotals {
    pub allocated: Pence,
    pub committed: Pence,
    pub delivered: Pence,
    pub remaining: Pence,
}

pub fn spending_totals(rows: &[SpendingRow]) -> SpendingTotals {
    let sum = |f: fn(&SpendingRow) -> Pence| Pence::from_stored(rows.iter().map(|r| f(r).pence()).sum());
    SpendingTotals {
        allocated: sum(|r| r.allocated),
        committed: sum(|r| r.committed),
        delivered: sum(|r| r.delivered),
        remaining: sum(|r| r.remaining),
    }
}

/// A page of the published price options below the provider's own stated full cost.
pub async fn providers_at_risk(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<PricedBelowCost>> {
    Ok(page.slice(at_risk_rows(app, actor).await?))
}

async fn at_risk_rows(app: &App, actor: &Actor) -> AppResult<Vec<PricedBelowCost>> {
    council_of(actor)?;
    app.read(|conn| Ok(reports::priced_below_cost(conn)?)).await
}

/// A page of the council's plan outcomes.
pub async fn outcomes(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<OutcomeProgress>> {
    Ok(page.slice(outcome_rows(app, actor).await?))
}

/// The council's plan outcomes, how far each is met and the bookings that served it.
async fn outcome_rows(app: &App, actor: &Actor) -> AppResult<Vec<OutcomeProgress>> {
    let council = council_of(actor)?;
    app.blocking(move |app| {
        app.db
            .read_as(|conn| Ok(reports::outcome_progress(conn, council, &app.taxonomy)?))
    })
    .await
}

/// Which page of each of the reports page's tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportPages {
    pub gaps: PageRequest,
    pub flagged: PageRequest,
    pub at_risk: PageRequest,
    pub outcomes: PageRequest,
}

/// Every report the council's reports page shows: whole lists where it charts or sums them, a
/// page of each table.
pub struct AllReports {
    pub gaps: Vec<GapRow>,
    pub gap_rows: Page<GapRow>,
    pub spending: Vec<SpendingRow>,
    /// Allocations with at least one flag.
    pub flagged: Page<SpendingRow>,
    pub at_risk: Page<PricedBelowCost>,
    pub outcomes: Page<OutcomeProgress>,
    pub pages: ReportPages,
}

pub async fn all(app: &App, actor: &Actor, pages: ReportPages) -> AppResult<AllReports> {
    let gaps = gap_rows(app, actor, &GapFilter::default()).await?;
    let spending = spending_rows(app, actor).await?;
    let flagged = spending.iter().filter(|s| !s.flags.is_empty()).cloned().collect();
    Ok(AllReports {
        gap_rows: pages.gaps.slice(gaps.clone()),
        gaps,
        flagged: pages.flagged.slice(flagged),
        spending,
        at_risk: providers_at_risk(app, actor, pages.at_risk).await?,
        outcomes: outcomes(app, actor, pages.outcomes).await?,
        pages,
    })
}

/// A report as a CSV file for a spreadsheet.
#[derive(Debug, Clone)]
pub struct Csv {
    pub filename: &'static str,
    pub bytes: Vec<u8>,
}

fn csv<T: Serialize>(filename: &'static str, rows: &[T]) -> AppResult<Csv> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .map_err(|e| AppError::Internal(format!("CSV: {e}")))?;
    }
    finish(filename, writer)
}

/// A CSV whose header row is written even when there are no rows, so an empty report still says
/// what its columns are.
pub(crate) fn csv_with_header<T: Serialize>(filename: &'static str, header: &[&str], rows: &[T]) -> AppResult<Csv> {
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    let failed = |e: csv::Error| AppError::Internal(format!("CSV: {e}"));
    writer.write_record(header).map_err(failed)?;
    for row in rows {
        writer.serialize(row).map_err(failed)?;
    }
    finish(filename, writer)
}

/// Text a spreadsheet will not run as a formula: a cell starting with = + - @ or a control
/// character gets a leading apostrophe (OWASP's advice for CSV injection).
pub(crate) fn spreadsheet_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

fn finish(filename: &'static str, writer: csv::Writer<Vec<u8>>) -> AppResult<Csv> {
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::Internal(format!("CSV: {e}")))?;
    Ok(Csv { filename, bytes })
}

pub async fn gaps_csv(app: &App, actor: &Actor, filter: &GapFilter) -> AppResult<Csv> {
    csv("gaps.csv", &gap_rows(app, actor, filter).await?)
}

#[derive(Serialize)]
struct SpendingCsv<'a> {
    budget_holder_id: i64,
    reference: &'a str,
    allocation_id: i64,
    stream: &'a str,
    management: &'a str,
    allocated: String,
    committed: String,
    delivered: String,
    remaining: String,
    elapsed: f64,
    flags: String,
}

pub async fn spending_csv(app: &App, actor: &Actor) -> AppResult<Csv> {
    let rows = spending_rows(app, actor).await?;
    let flat: Vec<SpendingCsv> = rows
        .iter()
        .map(|r| SpendingCsv {
            budget_holder_id: r.budget_holder_id,
            reference: &r.reference,
            allocation_id: r.allocation_id,
            stream: &r.stream,
            management: r.management.as_str(),
            allocated: r.allocated.to_string(),
            committed: r.committed.to_string(),
            delivered: r.delivered.to_string(),
            remaining: r.remaining.to_string(),
            elapsed: r.elapsed,
            flags: r.flags.join(";"),
        })
        .collect();
    csv("spending.csv", &flat)
}

#[derive(Serialize)]
struct AtRiskCsv<'a> {
    service_id: i64,
    service: &'a str,
    organisation: &'a str,
    price_option: &'a str,
    price: String,
    full_cost: String,
}

pub async fn providers_at_risk_csv(app: &App, actor: &Actor) -> AppResult<Csv> {
    let rows = at_risk_rows(app, actor).await?;
    let flat: Vec<AtRiskCsv> = rows
        .iter()
        .map(|r| AtRiskCsv {
            service_id: r.service_id,
            service: &r.service,
            organisation: &r.organisation,
            price_option: &r.price_option,
            price: Pence::from_stored(r.price).to_string(),
            full_cost: r
                .full_cost
                .map(|f| Pence::from_stored(f).to_string())
                .unwrap_or_default(),
        })
        .collect();
    let header = [
        "service_id",
        "service",
        "organisation",
        "price_option",
        "price",
        "full_cost",
    ];
    csv_with_header("providers-at-risk.csv", &header, &flat)
}

/// One plan outcome by plan reference; its free-text wording is left out, as it could name a child.
#[derive(Serialize)]
struct OutcomeCsv<'a> {
    budget_holder_id: i64,
    reference: &'a str,
    outcome_id: i64,
    terms: String,
    status: &'a str,
    bookings: usize,
    services: String,
}

pub async fn outcomes_csv(app: &App, actor: &Actor) -> AppResult<Csv> {
    let rows = outcome_rows(app, actor).await?;
    let flat: Vec<OutcomeCsv> = rows
        .iter()
        .map(|r| OutcomeCsv {
            budget_holder_id: r.budget_holder_id,
            reference: &r.reference,
            outcome_id: r.outcome_id,
            terms: r.terms.join(";"),
            status: &r.status,
            bookings: r.served_by.len(),
            services: r
                .served_by
                .iter()
                .map(|s| s.service.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        })
        .collect();
    let header = [
        "budget_holder_id",
        "reference",
        "outcome_id",
        "terms",
        "status",
        "bookings",
        "services",
    ];
    csv_with_header("outcomes.csv", &header, &flat)
}

#[derive(Serialize)]
struct ReturnCsv {
    allocation_id: i64,
    stream: String,
    quarter: String,
    date: String,
    kind: String,
    description: String,
    amount: String,
}

/// A quarterly return as CSV: opening balance, every ledger line of the quarter, closing balance.
pub fn quarterly_csv(returns: &[QuarterlyReturn]) -> AppResult<Csv> {
    let mut flat = Vec::new();
    for r in returns {
        let line = |date: String, kind: &str, description: &str, amount: String| ReturnCsv {
            allocation_id: r.allocation_id.0,
            stream: r.stream.clone(),
            quarter: r.quarter.clone(),
            date,
            kind: kind.to_string(),
            description: description.to_string(),
            amount,
        };
        flat.push(line(
            String::new(),
            "opening_balance",
            "Balance at the start of the quarter",
            r.opening_balance.to_string(),
        ));
        for l in &r.lines {
            flat.push(line(
                l.at.date().to_string(),
                l.kind.as_str(),
                &l.description,
                l.amount.to_string(),
            ));
        }
        if let Some(dp) = &r.direct_payment {
            for p in &dp.payments_in {
                let what = format!("Direct payment instalment {} (due {})", p.instalment + 1, p.due_on);
                flat.push(line(
                    p.paid_at.date().to_string(),
                    "payment_in",
                    &what,
                    p.amount.to_string(),
                ));
            }
            for i in &dp.invoices_paid {
                let paid_on = i.paid_on.map(|d| d.to_string()).unwrap_or_default();
                let what = format!("Invoice {} paid by the family", i.invoice_id);
                flat.push(line(paid_on, "invoice_paid", &what, i.amount.to_string()));
            }
            for (s, outcome) in &dp.spending {
                let receipt = if s.receipt_hash.is_some() {
                    "receipt kept"
                } else {
                    "no receipt"
                };
                let what = format!(
                    "{}: {} ({}; {}; {receipt})",
                    s.payee,
                    s.description,
                    outcome.as_deref().unwrap_or("no outcome named"),
                    s.status.replace('_', " ")
                );
                flat.push(line(
                    s.spent_on.to_string(),
                    "dp_spending",
                    &what,
                    s.amount().to_string(),
                ));
            }
            flat.push(line(
                String::new(),
                "surplus",
                "Surplus over six weeks' worth at the end of the quarter",
                dp.surplus_test.surplus.to_string(),
            ));
        }
        flat.push(line(
            String::new(),
            "closing_balance",
            "Balance at the end of the quarter",
            r.closing_balance.to_string(),
        ));
    }
    csv("quarterly-return.csv", &flat)
}
