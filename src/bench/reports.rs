//! `localoffer bench reports`: how long the council's gap and spending reports take on a large
//! generated council (default 100,000 services and 50,000 budget holders).

use std::time::Instant;

use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::search::{generate, leaves};
use super::{BenchError, setup_err};
use crate::db::schema::{allocations, budget_holders, ledger_entries, plan_outcome_terms, plan_outcomes, search_log};
use crate::db::{councils, now, reports, sqlite};
use crate::domain::CouncilId;
use crate::domain::reports as rules;
use crate::domain::taxonomy::Vocabulary;

pub fn reports(services: usize, holders: usize) -> Result<(), BenchError> {
    let super::Generated {
        dir: _dir,
        data: _,
        db,
        taxonomy,
        table,
        places,
    } = super::Generated::fresh()?;
    println!(
        "reports benchmark: {services} services and {holders} budget holders over {} English districts",
        places.len()
    );
    let started = Instant::now();
    generate(&db, &taxonomy, &places, services)?;
    let hash = crate::app::accounts::hash_password("bench password").map_err(setup_err)?;
    let (council, officer) = db
        .write(move |c| councils::create(c, "Bench Council", "council@bench.example", &hash))
        .map_err(setup_err)?;
    let outcomes = leaves(&taxonomy, Vocabulary::Outcome);
    let mut rng = StdRng::seed_from_u64(11);
    let at = now();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default();
    let end = chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap_or_default();
    let family = officer.0; // bulk data: one login stands in for the families
    let mut next = 1i64;
    let mut allocation_id = 1i64;
    while (next as usize) <= holders {
        let n = 2000.min(holders + 1 - next as usize) as i64;
        let (mut hs, mut os, mut ts, mut als, mut ls) = (vec![], vec![], vec![], vec![], vec![]);
        for id in next..next + n {
            let (district, _) = &places[rng.random_range(0..places.len())];
            hs.push((
                budget_holders::id.eq(id),
                budget_holders::council_id.eq(council.0),
                budget_holders::reference.eq(format!("B-{id}")),
                budget_holders::first_name.eq("Child"),
                budget_holders::date_of_birth.eq(chrono::NaiveDate::from_ymd_opt(2014, 1, 1).unwrap_or_default()),
                budget_holders::postcode.eq(format!("{district} 1AA")),
                budget_holders::plan_start.eq(start),
                budget_holders::plan_end.eq(end),
                budget_holders::family_user_id.eq(family),
                budget_holders::created_at.eq(at),
            ));
            for k in 0..rng.random_range(1..4i64) {
                let oid = id * 4 + k;
                os.push((
                    plan_outcomes::id.eq(oid),
                    plan_outcomes::budget_holder_id.eq(id),
                    plan_outcomes::position.eq(k as i32),
                    plan_outcomes::text.eq("outcome"),
                ));
                ts.push((
                    plan_outcome_terms::plan_outcome_id.eq(oid),
                    plan_outcome_terms::term_id.eq(outcomes[rng.random_range(0..outcomes.len())].clone()),
                ));
            }
            let amount = rng.random_range(50_000..900_000i64);
            let committed = rng.random_range(0..amount);
            als.push((
                allocations::id.eq(allocation_id),
                allocations::budget_holder_id.eq(id),
                allocations::stream.eq("social_care"),
                allocations::management.eq(if id % 2 == 0 { "direct_payment" } else { "organised" }),
                allocations::amount_pence.eq(amount),
                allocations::committed_pence.eq(committed),
                allocations::admin_fee_pence.eq(0),
            ));
            ls.push((
                ledger_entries::allocation_id.eq(allocation_id),
                ledger_entries::kind.eq("allocated"),
                ledger_entries::amount_pence.eq(amount),
                ledger_entries::balance_after_pence.eq(amount),
                ledger_entries::description.eq("allocation"),
                ledger_entries::created_at.eq(at),
            ));
            allocation_id += 1;
        }
        db.write(move |conn| {
            let conn = sqlite(conn)?;
            diesel::insert_into(budget_holders::table).values(&hs).execute(conn)?;
            for chunk in os.chunks(5000) {
                diesel::insert_into(plan_outcomes::table).values(chunk).execute(conn)?;
            }
            for chunk in ts.chunks(5000) {
                diesel::insert_into(plan_outcome_terms::table)
                    .values(chunk)
                    .execute(conn)?;
            }
            diesel::insert_into(allocations::table).values(&als).execute(conn)?;
            diesel::insert_into(ledger_entries::table).values(&ls).execute(conn)?;
            Ok(())
        })
        .map_err(setup_err)?;
        next += n;
    }
    let searches: Vec<_> = (0..20_000)
        .map(|_| {
            (
                search_log::searched_at.eq(at),
                search_log::outcomes.eq(outcomes[rng.random_range(0..outcomes.len())].clone()),
                search_log::service_types.eq(""),
                search_log::needs.eq(""),
                search_log::postcode_district.eq(Some(places[rng.random_range(0..places.len())].0.clone())),
                search_log::result_count.eq(0i64),
            )
        })
        .collect();
    db.write(move |conn| {
        let conn = sqlite(conn)?;
        for chunk in searches.chunks(2000) {
            diesel::insert_into(search_log::table).values(chunk).execute(conn)?;
        }
        Ok(())
    })
    .map_err(setup_err)?;
    println!("  generated in {:.1} s", started.elapsed().as_secs_f64());

    for run in 1..=3 {
        let t = Instant::now();
        let (h, s, u) = db
            .read(|conn| {
                Ok((
                    reports::holder_facts(conn, CouncilId(council.0), &taxonomy, &table)?,
                    reports::service_facts(conn, &taxonomy, CouncilId(council.0))?,
                    reports::unmet_searches(conn)?,
                ))
            })
            .map_err(setup_err)?;
        let loaded = t.elapsed();
        let rows = rules::gaps(&h, &s, &u, rules::DEFAULT_MIN_HOLDERS);
        let total = t.elapsed();
        println!(
            "  gap report run {run}: {:.2} s ({:.2} s reading the database, {:.2} s computing; {} rows)",
            total.as_secs_f64(),
            loaded.as_secs_f64(),
            (total - loaded).as_secs_f64(),
            rows.len()
        );
    }
    let t = Instant::now();
    let today = chrono::Utc::now().date_naive();
    let facts = db
        .read(|conn| reports::allocation_facts(conn, CouncilId(council.0)))
        .map_err(setup_err)?;
    let flagged = facts
        .iter()
        .map(|a| rules::spending(a, today))
        .filter(|r| !r.flags.is_empty())
        .count();
    println!(
        "  spending report: {:.2} s ({} allocations, {flagged} flagged)",
        t.elapsed().as_secs_f64(),
        facts.len()
    );
    Ok(())
}
