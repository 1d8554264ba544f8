//! Several `localoffer serve` processes on one PostgreSQL database, as a region would run them.

#[macro_use]
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::json;

/// A real server process; killed when dropped.
struct Server {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(database_url: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_localoffer"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("server process starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("server prints its address");
    let base = line
        .trim()
        .strip_prefix("localoffer listening on ")
        .expect("address line")
        .to_string();
    Server { child, base, dir }
}

/// Drive a server process with the same helpers as the in-process tests.
fn as_app(server: &Server) -> TestApp {
    TestApp::remote(&server.base)
}

/// As [`as_app`], reading mail from every server's outbox (whichever server's job runner claims
/// a mail job writes it).
fn as_app_among(server: &Server, all: &[&Server]) -> TestApp {
    let mut app = as_app(server);
    app.outboxes = all.iter().map(|s| s.dir.path().join("outbox")).collect();
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_share_one_postgresql_database() {
    let Some(server_url) = postgres_server() else {
        eprintln!("skipped: set LOCALOFFER_TEST_POSTGRES_URL to run the multi-server test");
        return;
    };
    let database = localoffer::db::create_scratch_postgres(&server_url, "localoffer_test").unwrap();
    let _cleanup = Scratch { url: database.clone() };
    let (a, b) = (start(&database), start(&database));
    let (app_a, app_b) = (as_app_among(&a, &[&a, &b]), as_app(&b));

    // Set-up through server A; a token issued by A works on B (sessions live in the database).
    let out = Command::new(env!("CARGO_BIN_EXE_localoffer"))
        .args([
            "council",
            "create",
            "--name",
            "Merton",
            "--email",
            "officer@merton.example",
            "--password",
            PASSWORD,
            "--totp",
        ])
        .args(["--database-url", &database])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = printed["totp_secret"].as_str().unwrap();
    app_a.authenticator.add("officer@merton.example", secret);
    let council = app_a.login("officer@merton.example", PASSWORD).await;
    let (_, provider) = app_a.provider("Wandle Club", "staff@wandle.example").await;
    let mut ten = saturday_club();
    ten["price_options"] = json!([{"label": "Ten pound session", "unit": "session", "price": "10.00"}]);
    let service = app_a.service(&provider, &ten).await;
    let holder = app_a
        .holder(&council, &sam("EHC-0001", "parent@family.example", "1000.00"))
        .await;
    let family = app_a.login("parent@family.example", PASSWORD).await;
    expect(
        app_b
            .get(&format!("/budget-holders/{}", holder["id"]), Some(&family))
            .await,
        StatusCode::OK,
    )
    .await;

    // 320 concurrent bookings of 10.00 split across both servers against one 1,000.00 allocation.
    let body = json!({"budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"],
                      "price_option_id": option_id(&service, 0), "quantity": 1});
    let mut tasks = Vec::new();
    for i in 0..320 {
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        let req = app
            .client
            .post(app.url("/bookings"))
            .bearer_auth(&family)
            .header("Idempotency-Key", format!("k-{i}"))
            .json(&body);
        tasks.push(tokio::spawn(async move { req.send().await.map(|r| r.status()) }));
    }
    let (mut created, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap().unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((created, refused), (100, 220));
    let plan = expect(
        app_b
            .get(&format!("/budget-holders/{}", holder["id"]), Some(&family))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(plan["allocations"][0]["remaining"], "0.00", "nothing overspent");
    let verify = Command::new(env!("CARGO_BIN_EXE_localoffer"))
        .args(["verify", "--database-url", &database])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));

    // A service created on A is found by search on B within two seconds.
    let mut new = saturday_club();
    new["name"] = json!("Riverside Kayaking");
    app_a.service(&provider, &new).await;
    let started = Instant::now();
    loop {
        let found = expect(app_b.get("/search?q=kayaking", None).await, StatusCode::OK).await;
        if found["total"] == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not on server B within 2 s: {found}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "service reached the other server's index in {} ms",
        started.elapsed().as_millis()
    );

    // A server that was down catches up when it starts.
    drop(b);
    let mut later = saturday_club();
    later["name"] = json!("Moonlight Orienteering");
    app_a.service(&provider, &later).await;
    let c = start(&database);
    let found = expect(as_app(&c).get("/search?q=orienteering", None).await, StatusCode::OK).await;
    assert_eq!(found["total"], 1, "{found}");
}

/// A waiting-list offer expires on time with three servers racing for its job: one of them runs
/// it, once, and the next family is offered the place once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_offer_expires_once_whichever_of_several_servers_runs_the_job() {
    let Some(server_url) = postgres_server() else {
        eprintln!("skipped: set LOCALOFFER_TEST_POSTGRES_URL to run the multi-server test");
        return;
    };
    let database = localoffer::db::create_scratch_postgres(&server_url, "localoffer_test").unwrap();
    let _cleanup = Scratch { url: database.clone() };
    let servers = [start(&database), start(&database), start(&database)];
    let app = as_app_among(&servers[0], &servers.iter().collect::<Vec<_>>());
    let out = Command::new(env!("CARGO_BIN_EXE_localoffer"))
        .args([
            "council",
            "create",
            "--name",
            "Merton",
            "--email",
            "officer@merton.example",
            "--password",
            PASSWORD,
            "--totp",
        ])
        .args(["--database-url", &database])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = printed["totp_secret"].as_str().unwrap();
    app.authenticator.add("officer@merton.example", secret);
    let council = app.login("officer@merton.example", PASSWORD).await;
    let (_, provider) = app.provider("Wandle Club", "staff@wandle.example").await;
    let service = app.service(&provider, &saturday_club()).await;
    let day = (chrono::Utc::now() + chrono::Duration::days(9)).date_naive();
    let session = expect(
        app.post(
            &format!("/services/{}/sessions", service["id"]),
            Some(&provider),
            &json!({"starts_at": format!("{day}T10:00:00"), "ends_at": format!("{day}T15:00:00"), "places": 1}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["sessions"][0]
        .clone();
    let mut families = Vec::new();
    for n in 0..3 {
        let email = format!("family{n}@families.example");
        let holder = app.holder(&council, &sam(&format!("EHC-{n}"), &email, "500.00")).await;
        families.push((app.login(&email, PASSWORD).await, holder));
    }
    let option = option_id(&service, 0);
    let (holder_token, first) = &families[0];
    let booked = expect(
        app.post(
            "/bookings",
            Some(holder_token),
            &json!({"budget_holder_id": first["id"], "allocation_id": first["allocations"][0]["id"], "price_option_id": option, "session_ids": [session["id"]]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    for (token, holder) in &families[1..] {
        let body = json!({"budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"], "price_option_id": option});
        expect(
            app.post(&format!("/sessions/{}/waitlist", session["id"]), Some(token), &body)
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    // The place frees on server 2: the first waiting is offered it.
    expect(
        as_app(&servers[1])
            .post(
                &format!("/bookings/{}/cancel", booked["id"]),
                Some(holder_token),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // A day passes: the offer's window and its job's time are moved into the past.
    let db = localoffer::db::Db::open(&localoffer::db::DatabaseUrl::parse(&database)).unwrap();
    db.write(|conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE waitlist_entries SET offer_expires_at = offer_expires_at - INTERVAL '25 hours' WHERE status = 'offered'").execute(conn)?;
        diesel::sql_query("UPDATE jobs SET run_at = run_at - INTERVAL '25 hours' WHERE done_at IS NULL").execute(conn)?;
        Ok(())
    })
    .unwrap();
    let (second_token, _) = &families[2];
    let started = Instant::now();
    loop {
        let theirs = expect(app.get("/waitlist", Some(second_token)).await, StatusCode::OK).await;
        if theirs["entries"][0]["status"] == "offered" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the next family was not offered the place: {theirs}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let every server have its turn at the job.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    #[derive(diesel::QueryableByName)]
    struct JobRow {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        subject_id: i64,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        done: bool,
    }
    let jobs: Vec<JobRow> = db
        .read(|conn| {
            use diesel::RunQueryDsl;
            Ok(diesel::sql_query(
                "SELECT subject_id, attempts, done_at IS NOT NULL AS done FROM jobs WHERE kind = 'waitlist_offer_expiry' ORDER BY id",
            )
            .load(conn)?)
        })
        .unwrap();
    assert_eq!(jobs.len(), 2, "one expiry job per offer made");
    assert!(
        jobs[0].done && jobs[0].attempts == 1,
        "the first offer's expiry ran once, on one server"
    );
    assert!(
        !jobs[1].done && jobs[1].attempts == 0,
        "the second offer's job waits for its own deadline"
    );
    assert_ne!(jobs[0].subject_id, jobs[1].subject_id);
    let mine = expect(app.get("/waitlist", Some(&families[1].0)).await, StatusCode::OK).await;
    assert_eq!(mine["entries"][0]["status"], "expired");
    let verify = Command::new(env!("CARGO_BIN_EXE_localoffer"))
        .args(["verify", "--database-url", &database])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{} {}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
