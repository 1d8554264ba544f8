//! The facts the council reports are computed from (see `domain::reports`), read in bulk.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{
    allocations, bookings, budget_holders, ledger_entries, organisations, plan_outcome_terms, plan_outcomes,
    price_options, search_log, service_terms, services,
};
use super::{Conn, DbError, DbResult};
use crate::domain::booking::{BookingStatus, LedgerKind};
use crate::domain::geo::{Coordinates, OutcodeTable};
use crate::domain::reports::{AllocationFacts, HolderFacts, Quarter, ServiceFacts, UnmetSearch};
use crate::domain::taxonomy::Taxonomy;
use crate::domain::{
    AllocationId, BudgetHolderId, CouncilId, Management, OrganisationStatus, Pence, ServiceStatus, SignedPence,
};

fn with_ancestors(taxonomy: &Taxonomy, terms: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in terms {
        let lineage: Vec<String> = taxonomy.lineage(&t).map(|x| x.id.0.clone()).collect();
        if lineage.is_empty() {
            out.insert(t);
        } else {
            out.extend(lineage);
        }
    }
    out
}

pub fn holder_facts(
    conn: &mut Conn,
    council: CouncilId,
    taxonomy: &Taxonomy,
    places: &OutcodeTable,
) -> DbResult<Vec<HolderFacts>> {
    let holders: Vec<(i64, String)> = budget_holders::table
        .filter(budget_holders::council_id.eq(council.0))
        // An erased record has no home or needs left to measure a gap from.
        .filter(budget_holders::erased_at.is_null())
        .select((budget_holders::id, budget_holders::postcode))
        .load(conn)?;
    let ids: Vec<i64> = holders.iter().map(|h| h.0).collect();
    let mut terms: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(5000) {
        for (holder, term) in plan_outcome_terms::table
            .inner_join(plan_outcomes::table.on(plan_outcomes::id.eq(plan_outcome_terms::plan_outcome_id)))
            .filter(plan_outcomes::budget_holder_id.eq_any(chunk))
            .select((plan_outcomes::budget_holder_id, plan_outcome_terms::term_id))
            .load::<(i64, String)>(conn)?
        {
            terms.entry(holder).or_default().push(term);
        }
    }
    let mut remaining: HashMap<i64, i64> = HashMap::new();
    for chunk in ids.chunks(5000) {
        for (holder, amount, committed, spent) in allocations::table
            .filter(allocations::budget_holder_id.eq_any(chunk))
            .select((
                allocations::budget_holder_id,
                allocations::amount_pence,
                allocations::committed_pence,
                allocations::spent_pence,
            ))
            .load::<(i64, i64, i64, i64)>(conn)?
        {
            *remaining.entry(holder).or_default() += amount - committed - spent;
        }
    }
    Ok(holders
        .into_iter()
        .map(|(id, postcode)| {
            let district = postcode.split(' ').next().unwrap_or_default().to_string();
            HolderFacts {
                at: places.centroid(&district),
                district,
                outcomes: with_ancestors(taxonomy, terms.remove(&id).unwrap_or_default()),
                remaining: Pence::from_stored(remaining.get(&id).copied().unwrap_or(0).max(0)),
            }
        })
        .collect())
}

/// id, lat, lon, reach in miles, capacity.
type FactsRow = (i64, Option<f64>, Option<f64>, Option<f64>, Option<i32>);

/// The supply a council's gap report counts: published, located services of providers the
/// council has not suspended (nor every council listing them).
pub fn service_facts(conn: &mut Conn, taxonomy: &Taxonomy, council: CouncilId) -> DbResult<Vec<ServiceFacts>> {
    let suspended: Vec<i64> = super::council_listings::suspended_by_council(conn, council)?;
    // A service that did not say where it is cannot fill a gap anywhere.
    let rows: Vec<FactsRow> = services::table
        .inner_join(organisations::table)
        .filter(services::organisation_id.ne_all(&suspended))
        .filter(services::status.eq(ServiceStatus::Published.as_str()))
        .filter(services::lat.is_not_null().and(services::lon.is_not_null()))
        .filter(organisations::status.ne(OrganisationStatus::Suspended.as_str()))
        .select((
            services::id,
            services::lat,
            services::lon,
            services::reach_miles,
            services::capacity,
        ))
        .load(conn)?;
    let mut outcomes: HashMap<i64, Vec<String>> = HashMap::new();
    for (sid, term) in service_terms::table
        .filter(service_terms::vocabulary.eq("outcome"))
        .select((service_terms::service_id, service_terms::term_id))
        .load::<(i64, String)>(conn)?
    {
        outcomes.entry(sid).or_default().push(term);
    }
    let mut price: HashMap<i64, i64> = HashMap::new();
    for (sid, p) in price_options::table
        .filter(price_options::active.eq(true))
        .select((price_options::service_id, price_options::price_pence))
        .load::<(i64, i64)>(conn)?
    {
        let lowest = price.entry(sid).or_insert(p);
        *lowest = (*lowest).min(p);
    }
    Ok(rows
        .into_iter()
        .filter_map(|(id, lat, lon, reach, capacity)| Some((id, Coordinates { lat: lat?, lon: lon? }, reach, capacity)))
        .map(|(id, at, reach, capacity)| ServiceFacts {
            id,
            at,
            reach_miles: reach.unwrap_or(0.0),
            // Places not stated (imported services) count as none.
            capacity: capacity.map_or(0, i64::from),
            price_from: price.get(&id).map(|p| Pence::from_stored(*p)),
            outcomes: with_ancestors(taxonomy, outcomes.remove(&id).unwrap_or_default()),
        })
        .collect())
}

/// Logged public searches that found nothing.
pub fn unmet_searches(conn: &mut Conn) -> DbResult<Vec<UnmetSearch>> {
    let rows: Vec<(String, Option<String>)> = search_log::table
        .filter(search_log::result_count.eq(0))
        .select((search_log::outcomes, search_log::postcode_district))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(outcomes, district)| UnmetSearch {
            district,
            outcomes: outcomes.split_whitespace().map(str::to_string).collect(),
        })
        .filter(|u| !u.outcomes.is_empty())
        .collect())
}

pub fn allocation_facts(conn: &mut Conn, council: CouncilId) -> DbResult<Vec<AllocationFacts>> {
    type Row = (i64, String, NaiveDate, NaiveDate, i64, String, String, i64, i64, i64);
    let rows: Vec<Row> = allocations::table
        .inner_join(budget_holders::table)
        .filter(budget_holders::council_id.eq(council.0))
        .order((budget_holders::id, allocations::id))
        .select((
            budget_holders::id,
            budget_holders::reference,
            budget_holders::plan_start,
            budget_holders::plan_end,
            allocations::id,
            allocations::stream,
            allocations::management,
            allocations::amount_pence,
            allocations::committed_pence,
            allocations::spent_pence,
        ))
        .load(conn)?;
    let mut delivered: HashMap<i64, i64> = HashMap::new();
    for (allocation, total) in bookings::table
        .inner_join(budget_holders::table.on(budget_holders::id.eq(bookings::budget_holder_id)))
        .filter(budget_holders::council_id.eq(council.0))
        .filter(bookings::status.eq(BookingStatus::Delivered.as_str()))
        .select((bookings::allocation_id, bookings::total_pence))
        .load::<(i64, i64)>(conn)?
    {
        *delivered.entry(allocation).or_default() += total;
    }
    Ok(rows
        .into_iter()
        .map(
            |(holder, reference, start, end, id, stream, management, amount, committed, spent)| AllocationFacts {
                budget_holder_id: holder,
                reference,
                allocation_id: id,
                stream,
                management: management.parse().unwrap_or(Management::Organised),
                plan_start: start,
                plan_end: end,
                amount: Pence::from_stored(amount),
                // Money in use, whether still committed or already spent on an approved invoice.
                committed: Pence::from_stored(committed + spent),
                delivered: Pence::from_stored(delivered.get(&id).copied().unwrap_or(0)),
            },
        )
        .collect())
}

#[derive(Debug, Clone)]
pub struct ReturnLine {
    pub at: chrono::NaiveDateTime,
    pub kind: LedgerKind,
    pub description: String,
    pub amount: SignedPence,
}

/// A direct-payment style quarterly return for one allocation, straight from the ledger.
#[derive(Debug, Clone)]
pub struct QuarterlyReturn {
    pub allocation_id: AllocationId,
    pub stream: String,
    pub management: String,
    pub quarter: String,
    pub opening_balance: SignedPence,
    pub money_in: SignedPence,
    pub spent: SignedPence,
    pub refunded: SignedPence,
    pub admin_fees: SignedPence,
    pub closing_balance: SignedPence,
    pub lines: Vec<ReturnLine>,
    /// A direct payment's payments in, spending and surplus test (filled by the use case).
    pub direct_payment: Option<super::direct_payments::DirectPaymentQuarter>,
}

pub fn quarterly_returns(conn: &mut Conn, holder: BudgetHolderId, quarter: Quarter) -> DbResult<Vec<QuarterlyReturn>> {
    let start = quarter
        .start()
        .and_hms_opt(0, 0, 0)
        .ok_or(DbError::NotFound("quarter"))?;
    let end = quarter.end().and_hms_opt(0, 0, 0).ok_or(DbError::NotFound("quarter"))?;
    let allocs: Vec<(i64, String, String)> = allocations::table
        .filter(allocations::budget_holder_id.eq(holder.0))
        .order(allocations::id)
        .select((allocations::id, allocations::stream, allocations::management))
        .load(conn)?;
    let mut out = Vec::new();
    for (id, stream, management) in allocs {
        let before: Vec<i64> = ledger_entries::table
            .filter(ledger_entries::allocation_id.eq(id))
            .filter(ledger_entries::created_at.lt(start))
            .select(ledger_entries::amount_pence)
            .load(conn)?;
        let entries: Vec<(chrono::NaiveDateTime, String, String, i64)> = ledger_entries::table
            .filter(ledger_entries::allocation_id.eq(id))
            .filter(ledger_entries::created_at.ge(start))
            .filter(ledger_entries::created_at.lt(end))
            .order(ledger_entries::id)
            .select((
                ledger_entries::created_at,
                ledger_entries::kind,
                ledger_entries::description,
                ledger_entries::amount_pence,
            ))
            .load(conn)?;
        let opening: i64 = before.iter().sum();
        let sum_of = |k: LedgerKind| entries.iter().filter(|e| e.1 == k.as_str()).map(|e| e.3).sum::<i64>();
        let total: i64 = entries.iter().map(|e| e.3).sum();
        out.push(QuarterlyReturn {
            allocation_id: AllocationId(id),
            stream,
            management,
            quarter: quarter.label(),
            opening_balance: SignedPence::from_stored(opening),
            money_in: SignedPence::from_stored(sum_of(LedgerKind::Allocated)),
            spent: SignedPence::from_stored(sum_of(LedgerKind::Booked)),
            refunded: SignedPence::from_stored(sum_of(LedgerKind::Released)),
            admin_fees: SignedPence::from_stored(sum_of(LedgerKind::AdminFee)),
            closing_balance: SignedPence::from_stored(opening + total),
            lines: entries
                .into_iter()
                .map(|(at, kind, description, amount)| ReturnLine {
                    at,
                    kind: kind.parse().unwrap_or(LedgerKind::Booked),
                    description,
                    amount: SignedPence::from_stored(amount),
                })
                .collect(),
            direct_payment: None,
        });
    }
    Ok(out)
}

/// Prices in pence as stored.
#[derive(Debug, Clone, Queryable)]
pub struct PricedBelowCost {
    pub service_id: i64,
    pub service: String,
    pub organisation: String,
    pub price_option: String,
    pub price: i64,
    pub full_cost: Option<i64>,
}

/// Providers at risk: published options priced below the provider's own stated full cost.
pub fn priced_below_cost(conn: &mut Conn) -> DbResult<Vec<PricedBelowCost>> {
    Ok(price_options::table
        .inner_join(services::table.inner_join(organisations::table))
        .filter(price_options::active.eq(true))
        .filter(services::status.eq(ServiceStatus::Published.as_str()))
        .filter(price_options::fcr_full_cost_pence.gt(price_options::price_pence.nullable()))
        .order(services::id)
        .select((
            services::id,
            services::name,
            organisations::name,
            price_options::label,
            price_options::price_pence,
            price_options::fcr_full_cost_pence,
        ))
        .load(conn)?)
}

/// Record how far a plan outcome has been met (council).
pub fn set_outcome_status(conn: &mut Conn, holder: BudgetHolderId, outcome: i64, status: &str) -> DbResult<()> {
    let n = diesel::update(
        plan_outcomes::table
            .filter(plan_outcomes::id.eq(outcome))
            .filter(plan_outcomes::budget_holder_id.eq(holder.0)),
    )
    .set(plan_outcomes::status.eq(status))
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(DbError::NotFound("plan outcome"))
    }
}

#[derive(Debug, Clone)]
pub struct ServedBy {
    pub booking_id: i64,
    pub service_id: i64,
    pub service: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct OutcomeProgress {
    pub budget_holder_id: i64,
    pub reference: String,
    pub outcome_id: i64,
    pub text: String,
    pub terms: Vec<String>,
    pub status: String,
    pub served_by: Vec<ServedBy>,
}

/// Each plan outcome of the council's families, how far it is met, and the bookings (of services
/// claiming that outcome) that served it.
pub fn outcome_progress(conn: &mut Conn, council: CouncilId, taxonomy: &Taxonomy) -> DbResult<Vec<OutcomeProgress>> {
    type Row = (i64, String, i64, String, String);
    let outcomes: Vec<Row> = plan_outcomes::table
        .inner_join(budget_holders::table.on(budget_holders::id.eq(plan_outcomes::budget_holder_id)))
        .filter(budget_holders::council_id.eq(council.0))
        .order((budget_holders::id, plan_outcomes::position))
        .select((
            budget_holders::id,
            budget_holders::reference,
            plan_outcomes::id,
            plan_outcomes::text,
            plan_outcomes::status,
        ))
        .load(conn)?;
    let ids: Vec<i64> = outcomes.iter().map(|o| o.2).collect();
    let mut terms: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(5000) {
        for (o, t) in plan_outcome_terms::table
            .filter(plan_outcome_terms::plan_outcome_id.eq_any(chunk))
            .select((plan_outcome_terms::plan_outcome_id, plan_outcome_terms::term_id))
            .load::<(i64, String)>(conn)?
        {
            terms.entry(o).or_default().push(t);
        }
    }
    let booked: Vec<(i64, i64, i64, String, String)> = bookings::table
        .inner_join(services::table.on(services::id.eq(bookings::service_id)))
        .inner_join(budget_holders::table.on(budget_holders::id.eq(bookings::budget_holder_id)))
        .filter(budget_holders::council_id.eq(council.0))
        .filter(bookings::status.eq_any([
            BookingStatus::Requested.as_str(),
            BookingStatus::Confirmed.as_str(),
            BookingStatus::Delivered.as_str(),
        ]))
        .select((
            bookings::budget_holder_id,
            bookings::id,
            services::id,
            services::name,
            bookings::status,
        ))
        .load(conn)?;
    let service_ids: Vec<i64> = booked.iter().map(|b| b.2).collect();
    let mut service_outcomes: HashMap<i64, BTreeSet<String>> = HashMap::new();
    for chunk in service_ids.chunks(5000) {
        for (sid, t) in service_terms::table
            .filter(service_terms::service_id.eq_any(chunk))
            .filter(service_terms::vocabulary.eq("outcome"))
            .select((service_terms::service_id, service_terms::term_id))
            .load::<(i64, String)>(conn)?
        {
            service_outcomes
                .entry(sid)
                .or_default()
                .extend(with_ancestors(taxonomy, [t]));
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|(holder, reference, id, text, status)| {
            let own = terms.remove(&id).unwrap_or_default();
            let served_by = booked
                .iter()
                .filter(|b| {
                    b.0 == holder
                        && service_outcomes
                            .get(&b.2)
                            .is_some_and(|so| own.iter().any(|t| so.contains(t)))
                })
                .map(|b| ServedBy {
                    booking_id: b.1,
                    service_id: b.2,
                    service: b.3.clone(),
                    status: b.4.clone(),
                })
                .collect();
            OutcomeProgress {
                budget_holder_id: holder,
                reference,
                outcome_id: id,
                text,
                terms: own,
                status,
                served_by,
            }
        })
        .collect())
}
