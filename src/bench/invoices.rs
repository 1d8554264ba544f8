//! `localoffer bench invoices`: drafting a month's invoices at its end, as the daily job does, for
//! a council with many budget holders and delivered sessions (default 20,000 and 400,000).

use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDate};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::search::generate;
use super::{BenchError, setup_err};
use crate::db::schema::{
    allocations, booking_sessions, bookings, budget_holders, dated_sessions, invoice_lines, invoices, price_options,
    services,
};
use crate::db::{councils, now, sqlite};

/// Delivered sessions per service in the month, and so per booking.
const SESSIONS_PER_SERVICE: i64 = 20;

pub fn invoices(holders: usize, sessions: usize) -> Result<(), BenchError> {
    let super::Generated {
        dir: _dir,
        db,
        taxonomy,
        places,
        ..
    } = super::Generated::fresh()?;
    let per_holder = (sessions / holders.max(1)).max(1) as i64;
    let services_count = (holders / 5).max(1);
    println!(
        "invoices benchmark: {holders} budget holders, {per_holder} delivered sessions each ({} in all), {services_count} services",
        holders as i64 * per_holder
    );
    let started = Instant::now();
    generate(&db, &taxonomy, &places, services_count)?;
    let hash = crate::app::accounts::hash_password("bench password").map_err(setup_err)?;
    let (council, officer) = db
        .write(move |c| councils::create(c, "Bench Council", "council@bench.example", &hash))
        .map_err(setup_err)?;
    let offered: Vec<(i64, i64, i64, i64)> = db
        .read(|conn| {
            Ok(services::table
                .inner_join(price_options::table)
                .select((
                    services::id,
                    services::organisation_id,
                    price_options::id,
                    price_options::price_pence,
                ))
                .order(services::id)
                .load(conn)?)
        })
        .map_err(setup_err)?;
    let mut by_service: Vec<(i64, i64, i64, i64)> = Vec::new();
    for (service, org, option, price) in offered {
        if by_service.last().is_none_or(|s| s.0 != service) {
            by_service.push((service, org, option, price));
        }
    }
    // Last month's sessions, one a day from the 1st, for every service.
    let today = crate::app::direct_payments::london_today();
    let this_month = today.with_day(1).unwrap_or(today);
    let last_month = (this_month - Duration::days(1)).with_day(1).unwrap_or(this_month);
    let at = now();
    let day = |k: i64| -> NaiveDate { last_month + Duration::days(k % 28) };
    let mut session_rows = Vec::new();
    for (n, (service, ..)) in by_service.iter().enumerate() {
        for k in 0..SESSIONS_PER_SERVICE.max(per_holder) {
            let starts = day(k).and_hms_opt(10, 0, 0).unwrap_or_default();
            session_rows.push((
                dated_sessions::id.eq(1 + n as i64 * SESSIONS_PER_SERVICE.max(per_holder) + k),
                dated_sessions::service_id.eq(*service),
                dated_sessions::starts_at.eq(starts),
                dated_sessions::ends_at.eq(starts + Duration::hours(5)),
                dated_sessions::places.eq(1000),
                dated_sessions::created_at.eq(at),
                dated_sessions::updated_at.eq(at),
            ));
        }
    }
    db.write(move |conn| {
        let conn = sqlite(conn)?;
        for chunk in session_rows.chunks(2000) {
            diesel::insert_into(dated_sessions::table).values(chunk).execute(conn)?;
        }
        Ok(())
    })
    .map_err(setup_err)?;
    let mut rng = StdRng::seed_from_u64(16);
    let mut next = 1i64;
    while (next as usize) <= holders {
        let n = 1000.min(holders + 1 - next as usize) as i64;
        let (mut hs, mut als, mut bs, mut seats) = (vec![], vec![], vec![], vec![]);
        for id in next..next + n {
            let pick = rng.random_range(0..by_service.len());
            let (service, org, option, price) = by_service[pick];
            hs.push((
                budget_holders::id.eq(id),
                budget_holders::council_id.eq(council.0),
                budget_holders::reference.eq(format!("B-{id}")),
                budget_holders::first_name.eq("Child"),
                budget_holders::date_of_birth.eq(NaiveDate::from_ymd_opt(2014, 1, 1).unwrap_or_default()),
                budget_holders::postcode.eq("SW19 1AA"),
                budget_holders::plan_start.eq(last_month - Duration::days(60)),
                budget_holders::plan_end.eq(last_month + Duration::days(300)),
                budget_holders::family_user_id.eq(officer.0),
                budget_holders::created_at.eq(at),
            ));
            let total = price * per_holder;
            als.push((
                allocations::id.eq(id),
                allocations::budget_holder_id.eq(id),
                allocations::stream.eq("social_care"),
                allocations::management.eq(if id % 3 == 0 { "direct_payment" } else { "organised" }),
                allocations::amount_pence.eq(total * 2),
                allocations::committed_pence.eq(total),
                allocations::admin_fee_pence.eq(0),
            ));
            bs.push((
                bookings::id.eq(id),
                bookings::budget_holder_id.eq(id),
                bookings::allocation_id.eq(id),
                bookings::service_id.eq(service),
                bookings::organisation_id.eq(org),
                bookings::price_option_id.eq(option),
                bookings::quantity.eq(per_holder),
                bookings::unit_price_pence.eq(price),
                bookings::total_pence.eq(total),
                bookings::status.eq("confirmed"),
                bookings::created_by.eq(officer.0),
                bookings::remaining_after_pence.eq(total),
                bookings::created_at.eq(at),
                bookings::updated_at.eq(at),
                bookings::kind.eq("sessions"),
                bookings::reference.eq(format!("S-{id}")),
            ));
            let first = 1 + pick as i64 * SESSIONS_PER_SERVICE.max(per_holder);
            for k in 0..per_holder {
                seats.push((
                    booking_sessions::booking_id.eq(id),
                    booking_sessions::session_id.eq(first + k),
                    booking_sessions::price_pence.eq(price),
                    booking_sessions::status.eq(if k % 10 == 9 { "absent_charged" } else { "attended" }),
                    booking_sessions::updated_at.eq(at),
                ));
            }
        }
        db.write(move |conn| {
            let conn = sqlite(conn)?;
            diesel::insert_into(budget_holders::table).values(&hs).execute(conn)?;
            diesel::insert_into(allocations::table).values(&als).execute(conn)?;
            diesel::insert_into(bookings::table).values(&bs).execute(conn)?;
            for chunk in seats.chunks(5000) {
                diesel::insert_into(booking_sessions::table)
                    .values(chunk)
                    .execute(conn)?;
            }
            Ok(())
        })
        .map_err(setup_err)?;
        next += n;
    }
    println!("  generated in {:.1} s", started.elapsed().as_secs_f64());

    let t = Instant::now();
    let drafted = db
        .write_as(move |conn| crate::app::invoices::draft_due(conn, today))
        .map_err(setup_err)?;
    let took = t.elapsed();
    let (count, lines, total): (i64, i64, i64) = db
        .read(|conn| {
            Ok((
                invoices::table.count().get_result(conn)?,
                invoice_lines::table.count().get_result(conn)?,
                invoices::table
                    .select(invoices::total_pence)
                    .load::<i64>(conn)?
                    .into_iter()
                    .sum(),
            ))
        })
        .map_err(setup_err)?;
    println!(
        "  drafted {drafted} invoices ({count} stored) with {lines} lines, {} in all, in {:.2} s ({:.0} lines/s)",
        crate::domain::Pence::from_stored(total),
        took.as_secs_f64(),
        lines as f64 / took.as_secs_f64().max(1e-9)
    );
    let t = Instant::now();
    let again = db
        .write_as(move |conn| crate::app::invoices::draft_due(conn, today))
        .map_err(setup_err)?;
    println!(
        "  the next day's run finds {again} to draft in {:.2} s (nothing is drafted twice)",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
