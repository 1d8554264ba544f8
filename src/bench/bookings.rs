//! `localoffer bench bookings`: bookings per second and latency percentiles over real HTTP against
//! a fresh database: SQLite with durable (synchronous=FULL) commits, or a PostgreSQL scratch database.
//! By quantity (one service, money only) or, with `--sessions`, of dated sessions, where each
//! booking takes a place and the money together.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::{self, budget_holders, councils, organisations, services};
use crate::domain::budget::BudgetHolderInput;
use crate::domain::organisation::RegistrationInput;
use crate::domain::service::ServiceInput;
use crate::domain::taxonomy::Taxonomy;
use crate::{Application, DataDir, Settings};

use super::{BenchError, percentile_ms, setup_err};

/// What each booking request books.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A quantity of a price option: money only.
    Quantity,
    /// One dated session: a place and the money, the session's places contended.
    Sessions,
}

impl Mode {
    /// Quantity bookings contend on a few allocations; session bookings need one holder per
    /// place in a session (a child holds one place in a session), so there are as many as places.
    fn holders(self) -> usize {
        match self {
            Mode::Quantity => 8,
            Mode::Sessions => SESSION_PLACES,
        }
    }
}

const SESSION_PLACES: usize = 32;

/// `server`: a PostgreSQL server to run against (a scratch database is created and dropped);
/// without it, a fresh SQLite file.
pub fn bookings(requests: usize, concurrency: usize, mode: Mode, server: Option<&str>) -> Result<(), BenchError> {
    super::with_scratch_postgres(server, "localoffer_bench", |scratch| {
        run(requests, concurrency, mode, scratch.map(str::to_string))
    })
}

fn run(requests: usize, concurrency: usize, mode: Mode, database_url: Option<String>) -> Result<(), BenchError> {
    let dir = tempfile::tempdir().map_err(setup_err)?;
    let taxonomy = Taxonomy::builtin().map_err(setup_err)?;
    let db = DataDir::prepare(dir.path())
        .and_then(|d| d.open_db(database_url.as_deref()))
        .map_err(setup_err)?;
    let backend = if database_url.is_some() {
        "PostgreSQL, one transaction per booking"
    } else {
        "SQLite, WAL, synchronous=FULL, group commit"
    };
    let hash = crate::app::accounts::hash_password("bench password").map_err(setup_err)?;
    let (council, _) = {
        let hash = hash.clone();
        db.write(move |c| councils::create(c, "Bench Council", "council@bench.example", &hash))
    }
    .map_err(setup_err)?;
    let reg: RegistrationInput = serde_json::from_value(serde_json::json!({
        "organisation": {"name": "Bench Club", "kind": "vcs"},
        "user": {"email": "provider@bench.example", "password": "bench password"}
    }))
    .map_err(setup_err)?;
    let reg = reg.validate().map_err(setup_err)?;
    let (org, _) = {
        let hash = hash.clone();
        db.write(move |c| organisations::register(c, &reg, &hash))
    }
    .map_err(setup_err)?;
    let service: ServiceInput = serde_json::from_value(serde_json::json!({
        "name": "Saturday Club", "outcomes": ["pfa-friends-community"], "min_age": 0, "max_age": 25,
        "funding_streams": ["social_care"], "location": {"lat": 51.42, "lon": -0.2}, "capacity": 20,
        "status": "published", "price_options": [{"label": "Session", "unit": "session", "price": "1.00"}]
    }))
    .map_err(setup_err)?;
    let service = service.validate(&taxonomy).map_err(setup_err)?;
    let service_id = db
        .write(move |c| services::create(c, org, &service))
        .map_err(setup_err)?;
    let option = db
        .read(|c| services::get(c, service_id))
        .map_err(setup_err)?
        .and_then(|s| s.price_options.first().map(|o| o.id))
        .ok_or_else(|| setup_err("the bench service has no price option"))?;
    let today = chrono::Utc::now().date_naive();
    let sessions = match mode {
        Mode::Quantity => Vec::new(),
        Mode::Sessions => {
            let wanted = requests.div_ceil(SESSION_PLACES).max(1);
            db.write(move |c| coming_sessions(c, service_id, wanted))
                .map_err(setup_err)?
        }
    };
    let holder_count = mode.holders();
    let mut holders = Vec::new();
    for i in 0..holder_count {
        let input: BudgetHolderInput = serde_json::from_value(serde_json::json!({
            "reference": format!("B-{i}"), "first_name": "Sam", "date_of_birth": "2014-01-01", "postcode": "SW19 2HR",
            "plan_start": today.to_string(), "plan_end": (today + chrono::Duration::days(365)).to_string(),
            "family": {"email": format!("family{i}@bench.example"), "password": "bench password"},
            "outcomes": [{"text": "Friends", "terms": ["pfa-friends-community"]}],
            "allocations": [{"stream": "social_care", "management": "direct_payment", "amount": "10000000.00"}]
        }))
        .map_err(setup_err)?;
        let valid = input.validate(&taxonomy, today).map_err(setup_err)?;
        let (created, _, _) = {
            let hash = hash.clone();
            db.write_as(move |c| crate::app::plans::store(c, council, &valid, &hash))
        }
        .map_err(setup_err)?;
        let allocation = db
            .read(|c| budget_holders::allocations_of(c, created))
            .map_err(setup_err)?
            .first()
            .map(|a| a.id)
            .ok_or_else(|| setup_err("the bench plan has no allocation"))?;
        holders.push((created, allocation, format!("family{i}@bench.example")));
    }
    drop(db);

    let runtime = actix_web::rt::System::new();
    runtime.block_on(async move {
        let settings = Settings { database_url: database_url.clone(), ..Settings::local(dir.path()) };
        let app = Application::build(&settings)
            .map_err(setup_err)?;
        let base = format!("http://127.0.0.1:{}/api/v1", app.port());
        let server = app.handle();
        let serving = actix_web::rt::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
        let mut tokens = Vec::new();
        for (_, _, email) in &holders {
            let login: serde_json::Value = client
                .post(format!("{base}/auth/login"))
                .json(&serde_json::json!({"email": email, "password": "bench password"}))
                .send()
                .await?
                .json()
                .await?;
            tokens.push(login["token"].as_str().unwrap_or_default().to_string());
        }
        let work = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, base, work, tokens, holders, sessions) =
                (client.clone(), base.clone(), work.clone(), tokens.clone(), holders.clone(), sessions.clone());
            tasks.push(actix_web::rt::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                loop {
                    let n = work.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= requests {
                        break;
                    }
                    let h = n % holder_count;
                    let (holder, allocation, _) = &holders[h];
                    let mut body = serde_json::json!({"budget_holder_id": holder, "allocation_id": allocation, "price_option_id": option});
                    if sessions.is_empty() {
                        body["quantity"] = 1.into();
                    } else {
                        // Each holder books each session once; requests in flight together
                        // spread over neighbouring sessions, several families on each.
                        body["session_ids"] = serde_json::json!([sessions[(n / holder_count + h) % sessions.len()]]);
                    }
                    let t = Instant::now();
                    let res = client
                        .post(format!("{base}/bookings"))
                        .bearer_auth(&tokens[h])
                        .header("Idempotency-Key", format!("bench-{n}"))
                        .json(&body)
                        .send()
                        .await;
                    // The answer is read to its end, as a client would, so the connection is
                    // kept for the next request rather than dropped.
                    let created = match res {
                        Ok(r) => r.status().as_u16() == 201 && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    latencies.push(t.elapsed());
                    if !created {
                        failures += 1;
                    }
                }
                (latencies, failures)
            }));
        }
        let mut latencies: Vec<Duration> = Vec::with_capacity(requests);
        let mut failures = 0;
        for task in tasks {
            let (l, f) = task.await.map_err(setup_err)?;
            latencies.extend(l);
            failures += f;
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let pct = |p: f64| percentile_ms(&latencies, p);
        let what = match mode {
            Mode::Quantity => "by quantity".to_string(),
            Mode::Sessions => format!("one dated session each, {} sessions of {SESSION_PLACES} places", sessions.len()),
        };
        println!("bookings benchmark ({backend}; {what}; over HTTP on 127.0.0.1)");
        println!("  requests     {requests} ({failures} failed), concurrency {concurrency}");
        println!("  throughput   {:.0} bookings/s", requests as f64 / elapsed.as_secs_f64());
        println!("  latency ms   p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}", pct(0.50), pct(0.95), pct(0.99), pct(1.0));
        // The server stops (and lets go of the index) before its directory is removed.
        server.stop(true).await;
        let _ = serving.await;
        let db = DataDir(dir.path().to_path_buf()).open_db(database_url.as_deref()).map_err(setup_err)?;
        let report = db.read(db::ledger::verify).map_err(setup_err)?;
        println!(
            "  ledger check {} allocations, {} sessions, {} problems",
            report.allocations_checked,
            report.sessions_checked,
            report.problems.len()
        );
        Ok(())
    })
}

/// `wanted` coming sessions of the bench service: eight an hour apart each day from tomorrow,
/// inside the bench plans' year.
fn coming_sessions(conn: &mut db::Conn, service: crate::domain::ServiceId, wanted: usize) -> db::DbResult<Vec<i64>> {
    let first = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    let mut ids = Vec::with_capacity(wanted);
    for i in 0..wanted {
        let day = first + chrono::Duration::days((i / 8) as i64);
        let Some(starts_at) = day.and_hms_opt(9 + (i % 8) as u32, 0, 0) else {
            continue;
        };
        let times = crate::domain::sessions::Times {
            starts_at,
            ends_at: starts_at + chrono::Duration::minutes(50),
        };
        ids.push(db::sessions::insert(conn, service, None, times, SESSION_PLACES as i32)?.0);
    }
    Ok(ids)
}
