//! Mail through a real SMTP server (aiosmtpd): who gets which message, what its subject may say,
//! retries when the server refuses, a crash between the commit and the send, and two servers on
//! one PostgreSQL sending each message exactly once.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use common::smtp::SmtpServer;
use common::*;
use reqwest::StatusCode;
use serde_json::json;

async fn spawn_mailing(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    let mut app = spawn_with(tempfile::tempdir().expect("temp dir"), fresh_database(), |s| {
        s.smtp_url = Some(url);
        s.mail_from = Some("Merton Local Offer <offer@merton.example>".into());
        s.mail_retry = Duration::from_secs(1);
    })
    .await;
    // Providers' confirmation links come through the SMTP server, not the outbox folder.
    app.outboxes = vec![smtp.dir.path().to_path_buf()];
    app
}

/// England's wall-clock time `hours` from now, as the API takes it.
fn london_in(hours: i64) -> String {
    (Utc::now() + chrono::Duration::hours(hours))
        .with_timezone(&chrono_tz::Europe::London)
        .format("%Y-%m-%dT%H:00:00")
        .to_string()
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_bookings_mail_reaches_the_right_people_with_nothing_personal_in_subjects() {
        let smtp = SmtpServer::start();
        let app = spawn_mailing(&smtp).await;
        let w = world(&app, "500.00").await;
        let starts = london_in(24 * 9);
        let ends = london_in(24 * 9 + 3);
        let made = expect(
            app.post(&format!("/services/{}/sessions", w.service["id"]), Some(&w.provider),
                &json!({"starts_at": starts, "ends_at": ends, "places": 6})).await,
            StatusCode::CREATED,
        ).await;
        let session = made["sessions"][0].clone();
        let body = json!({
            "budget_holder_id": w.holder["id"], "allocation_id": w.holder["allocations"][0]["id"],
            "price_option_id": option_id(&w.service, 0), "session_ids": [session["id"]],
        });
        let booking = expect(app.post("/bookings", Some(&w.family), &body).await, StatusCode::CREATED).await;

        let asked = smtp.wait_for("staff@wandle.example", "asked to book Saturday Club").await;
        assert_eq!(asked.subject, "A new booking request");
        assert_eq!(asked.from, "offer@merton.example");
        assert_eq!(smtp.envelope_to(&asked), ["staff@wandle.example"]);
        assert!(asked.html.contains("Saturday Club"), "{}", asked.html);

        let id = booking["booking"]["id"].as_i64().or(booking["id"].as_i64()).expect("booking id");
        expect(app.post(&format!("/bookings/{id}/confirm"), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        let confirmed = smtp.wait_for("parent@family.example", "confirmed your booking").await;
        assert_eq!(confirmed.subject, "Your booking is confirmed");
        assert!(confirmed.text.contains(&format!("/bookings/{id}")), "{}", confirmed.text);

        expect(app.post(&format!("/sessions/{}/cancel", session["id"]), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        let cancelled = smtp.wait_for("parent@family.example", "is cancelled by its provider").await;
        assert_eq!(cancelled.subject, "A session you booked is cancelled");

        // No subject carries the child's name, the plan's reference or anyone's address; the
        // provider's mail never names the child either.
        for m in smtp.received() {
            for personal in ["Sam", "EHC-0001", "@", "parent"] {
                assert!(!m.subject.contains(personal), "{personal:?} in subject {:?}", m.subject);
            }
            if m.to == ["staff@wandle.example"] {
                assert!(!m.text.contains("Sam") && !m.text.contains("EHC-0001"), "{}", m.text);
            }
            assert!(m.message_id.starts_with("notice-"), "{}", m.message_id);
        }
        // Each person was told once of each thing, and the family sees it on the site too.
        let to_family: Vec<String> = smtp.received().into_iter().filter(|m| m.to == ["parent@family.example"]).map(|m| m.subject).collect();
        assert_eq!(to_family, ["Your booking is confirmed", "A session you booked is cancelled"]);
        // Marked sent once the server has said it took it (just after it arrives).
        let mut listed = serde_json::Value::Null;
        for _ in 0..100 {
            listed = expect(app.get("/notifications", Some(&w.family)).await, StatusCode::OK).await;
            if listed["notifications"][0]["mail"] == "sent" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(listed["total"], 2, "{listed}");
        assert_eq!(listed["unread"], 2);
        assert_eq!(listed["notifications"][0]["title"], "A session you booked is cancelled");
        assert_eq!(listed["notifications"][0]["mail"], "sent");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_server_that_refuses_then_accepts_gets_the_message_after_a_retry() {
        let smtp = SmtpServer::refusing_first(2);
        let app = spawn_mailing(&smtp).await;
        app.council("Merton", "officer@merton.example").await;
        let res = app.post("/auth/password-reset", None, &json!({"email": "officer@merton.example"})).await;
        expect(res, StatusCode::ACCEPTED).await;
        // Refused twice (451), then accepted: one message, after the 1 s and 2 s backoffs.
        let started = std::time::Instant::now();
        let reset = smtp.wait_for("officer@merton.example", "/password-reset/").await;
        assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(reset.subject, "Reset your Local Offer password");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(smtp.received().len(), 1, "sent once, not once per attempt");
        // The link in it works.
        let token = reset.token("/password-reset");
        let res = app.post("/auth/password-reset/confirm", None, &json!({"token": token, "password": "a brand new password"})).await;
        expect(res, StatusCode::NO_CONTENT).await;
        app.login("officer@merton.example", "a brand new password").await;
    }
}

/// A `localoffer serve` process on a data directory; killed (as a crash) when dropped.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &std::path::Path, smtp_url: &str) -> (Process, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_localoffer"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--smtp-url",
            smtp_url,
            "--mail-retry-seconds",
            "1",
        ])
        .arg("--data-dir")
        .arg(dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("server process starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("server prints its address");
    let base = line
        .trim()
        .strip_prefix("localoffer listening on ")
        .expect("address line")
        .to_string();
    (Process(child), base.trim_end_matches("/api/v1").to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_commit_and_the_send_still_sends_once() {
    let dir = tempfile::tempdir().expect("temp dir");
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
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .expect("cli runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A mail server nobody answers on: the reset is committed, every send fails.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let dead_url = format!("smtp://127.0.0.1:{}?tls=none", dead.local_addr().expect("addr").port());
    drop(dead);
    let (first, base) = serve(dir.path(), &dead_url);
    let api = TestApp::remote(&base);
    expect(
        api.post(
            "/auth/password-reset",
            None,
            &json!({"email": "officer@merton.example"}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(first); // SIGKILL: no goodbye, nothing flushed.

    let smtp = SmtpServer::start();
    let (_second, _) = serve(dir.path(), &smtp.url());
    let mail = smtp.wait_for("officer@merton.example", "/password-reset/").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        smtp.received().len(),
        1,
        "the committed mail is sent once: {:?}",
        smtp.received()
    );
    assert_eq!(mail.subject, "Reset your Local Offer password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgresql_send_each_message_exactly_once() {
    let Some(_) = postgres_server() else {
        eprintln!("skipped: set LOCALOFFER_TEST_POSTGRES_URL to run the two-server mail test");
        return;
    };
    let smtp = SmtpServer::start();
    let scratch = fresh_database_on(Backend::Postgres);
    let a = spawn_with(tempfile::tempdir().expect("dir"), scratch.clone(), |s| {
        s.smtp_url = Some(smtp.url())
    })
    .await;
    let b = spawn_with(tempfile::tempdir().expect("dir"), scratch.clone(), |s| {
        s.smtp_url = Some(smtp.url())
    })
    .await;
    let officer = a.council("Merton", "officer@merton.example").await;
    // Officers added without a password are each sent an invitation: 24 mails, written through
    // both servers, claimed by whichever job runner gets there first.
    let mut wanted = HashSet::new();
    for i in 0..24 {
        let (app, email) = (if i % 2 == 0 { &a } else { &b }, format!("officer{i}@merton.example"));
        let res = app
            .post(
                "/council/users",
                Some(&officer),
                &json!({"email": email, "permissions": ["assess"]}),
            )
            .await;
        expect(res, StatusCode::CREATED).await;
        wanted.insert(email);
    }
    for _ in 0..200 {
        if smtp.received().len() >= wanted.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = smtp.received();
    let to: Vec<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(to.len(), wanted.len(), "each invitation sent exactly once: {to:?}");
    assert_eq!(to.iter().cloned().collect::<HashSet<_>>(), wanted);
    let ids: HashSet<&str> = got.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), got.len());
}
