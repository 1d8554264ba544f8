//! Abuse limits: wrong logins are delayed then locked per account (the same for emails nobody
//! has), an officer or the CLI lifts a lock-out, each client address is limited, the password
//! checks queue refuses at once when full, and registering never tells whether an email is taken.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::browser::Browser;
use common::*;
use localoffer::Settings;
use localoffer::domain::throttle::Policy;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn spawn_tuned(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_with(tempfile::tempdir().expect("temp dir"), fresh_database(), adjust).await
}

/// No delays; the fourth failure locks.
fn locks_after_four(s: &mut Settings) {
    s.login_throttle = Policy {
        delay_after: 100,
        lock_after: 4,
        ..Policy::default()
    };
}

/// Status, body and the set of header names (with Retry-After's value) of a login attempt.
async fn attempt(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value, BTreeSet<String>, Option<u64>) {
    let res = app
        .post("/auth/login", None, &json!({"email": email, "password": password}))
        .await;
    let status = res.status();
    let names = res
        .headers()
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k != "date")
        .collect();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body, names, retry)
}

async fn lock(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        let (status, ..) = attempt(app, email, "not the password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

fn organisations(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use localoffer::db::schema::organisations;
    app.db()
        .read(|conn| Ok(organisations::table.count().get_result::<i64>(conn)?))
        .unwrap()
}

both_backends! {
    #[tokio::test]
    async fn wrong_logins_lock_known_and_unknown_emails_alike_and_the_right_password_is_refused() {
        let app = spawn_tuned(locks_after_four).await;
        app.provider("Wandle Club", "staff@wandle.example").await;
        let known = "staff@wandle.example";
        let unknown = "nobody@nowhere.example";
        for _ in 0..4 {
            let a = attempt(&app, known, "not the password").await;
            let b = attempt(&app, unknown, "not the password").await;
            assert_eq!(a.0, StatusCode::UNAUTHORIZED);
            assert_eq!((a.0, &a.1, &a.2), (b.0, &b.1, &b.2), "a wrong password and an unknown email answer alike");
        }
        // Locked: the right password does not get in, and an unknown email looks just the same.
        let a = attempt(&app, known, PASSWORD).await;
        let b = attempt(&app, unknown, PASSWORD).await;
        assert_eq!(a.0, StatusCode::TOO_MANY_REQUESTS, "{}", a.1);
        assert_eq!(a.1["error"]["code"], "too_many_attempts", "{}", a.1);
        assert!(a.2.contains("retry-after"), "{:?}", a.2);
        assert_eq!((a.0, &a.2), (b.0, &b.2));
        assert_eq!(a.1["error"]["code"], b.1["error"]["code"]);
        let (ra, rb) = (a.3.unwrap(), b.3.unwrap());
        assert!(ra > 86_400 && ra.abs_diff(rb) <= 1, "locked for days: {ra} and {rb}");
        // Letters in another case are the same account.
        assert_eq!(attempt(&app, "Staff@Wandle.example", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);

        // The operator lifts it from the command line; the right password gets in again.
        let out = app.cli(&["unlock", "--email", known]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["unlocked"], true);
        app.login(known, PASSWORD).await;
        assert_eq!(attempt(&app, unknown, PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS, "only that email was lifted");
    }

    #[tokio::test]
    async fn after_five_failures_each_attempt_waits_longer_and_a_right_login_resets() {
        let app = spawn().await;
        app.provider("Wandle Club", "staff@wandle.example").await;
        let email = "staff@wandle.example";
        lock(&app, email, 5).await;
        let (status, body, _, retry) = attempt(&app, email, PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(retry, Some(2), "the fifth failure makes the next attempt wait 2 seconds");
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        app.login(email, PASSWORD).await;
        // The right login forgot the failures: four more are allowed at once.
        lock(&app, email, 4).await;
        app.login(email, PASSWORD).await;
    }

    #[tokio::test]
    async fn a_council_officer_lifts_the_lock_on_its_own_family_only() {
        let app = spawn_tuned(locks_after_four).await;
        let w = world(&app, "100.00").await;
        let family = "parent@family.example";
        lock(&app, family, 4).await;
        assert_eq!(attempt(&app, family, PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
        let path = format!("/budget-holders/{}/unlock-login", w.holder["id"]);
        // Another council, a provider and the family itself cannot lift it.
        let other = app.council("Sutton", "officer@sutton.example").await;
        expect_error(app.post(&path, Some(&other), &json!({})).await, StatusCode::NOT_FOUND, "not_found", None).await;
        expect_error(app.post(&path, Some(&w.provider), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        assert_eq!(attempt(&app, family, PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
        let res = app.post(&path, Some(&w.council), &json!({})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        app.login(family, PASSWORD).await;
    }

    #[tokio::test]
    async fn the_pages_answer_429_with_a_wait_and_the_officer_lifts_the_lock_with_a_button() {
        let app = spawn_tuned(locks_after_four).await;
        let w = world(&app, "100.00").await;
        let family = "parent@family.example";
        let mut b = Browser::new(&app);
        for _ in 0..4 {
            assert_eq!(b.log_in(family, "not the password").await.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let refused = b.log_in(family, PASSWORD).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.headers.contains_key("retry-after"));
        assert!(refused.html.contains("Too many attempts") && refused.html.contains("try again"), "{}", refused.html);
        assert!(!b.cookies.contains_key("lo_session"), "no session while locked");

        let mut officer = Browser::new(&app);
        officer.log_in("officer@merton.example", PASSWORD).await;
        let holder = format!("/council/budget-holders/{}", w.holder["id"]);
        let page = officer.get(&holder).await;
        assert!(page.html.contains("Let the family log in again"), "{}", page.html);
        let lifted = officer.post(&format!("{holder}/unlock-login"), &[("csrf_token", &page.csrf())]).await;
        assert_eq!(lifted.status, StatusCode::SEE_OTHER);
        assert_eq!(b.log_in(family, PASSWORD).await.location.as_deref(), Some("/my-plan"));
    }

    #[tokio::test]
    async fn registering_a_taken_email_answers_the_same_and_creates_nothing() {
        let app = spawn().await;
        let new = json!({"organisation": {"name": "Kayak Club", "kind": "vcs"}, "user": {"email": "staff@kayak.example", "password": PASSWORD}});
        let first = app.post("/providers", None, &new).await;
        let (status, headers) = (first.status(), first.headers().keys().filter(|k| *k != "date").map(|k| k.to_string()).collect::<BTreeSet<_>>());
        let first: Value = first.json().await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{first}");
        assert_eq!(first["status"], "received");
        let before = organisations(&app);
        let taken = json!({"organisation": {"name": "Impostors Ltd", "kind": "private"}, "user": {"email": "Staff@Kayak.example", "password": "another password 99"}});
        let again = app.post("/providers", None, &taken).await;
        let again_headers = again.headers().keys().filter(|k| *k != "date").map(|k| k.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(again.status(), status);
        assert_eq!(again_headers, headers);
        assert_eq!(again.json::<Value>().await.unwrap(), first, "the same words whether or not the email was taken");
        assert_eq!(organisations(&app), before, "nothing created for a taken email");
        // The first registration stands; the second password opens nothing.
        assert_eq!(attempt(&app, "staff@kayak.example", "another password 99").await.0, StatusCode::UNAUTHORIZED);
        app.login("staff@kayak.example", PASSWORD).await;

        // The page shows the same neutral page for both, and logs nobody in.
        let mut b = Browser::new(&app);
        let csrf = b.get("/provider/register").await.csrf();
        let fresh = b.post("/provider/register", &[("csrf_token", &csrf), ("organisation_name", "Swim"), ("kind", "vcs"), ("email", "staff@swim.example"), ("password", PASSWORD)]).await;
        let dup = b.post("/provider/register", &[("csrf_token", &csrf), ("organisation_name", "Swim"), ("kind", "vcs"), ("email", "staff@kayak.example"), ("password", PASSWORD)]).await;
        assert_eq!((fresh.status, dup.status), (StatusCode::OK, StatusCode::OK));
        assert_eq!(fresh.html, dup.html);
        assert!(!b.cookies.contains_key("lo_session"));
    }

    #[tokio::test]
    async fn each_client_address_is_limited_on_logins_and_registrations() {
        let app = spawn_tuned(|s| s.client_attempts_per_minute = 3).await;
        for _ in 0..3 {
            assert_eq!(attempt(&app, "a@nowhere.example", "not the password").await.0, StatusCode::UNAUTHORIZED);
        }
        let (status, body, _, retry) = attempt(&app, "b@nowhere.example", "not the password").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"]["code"], "too_many_attempts");
        assert!(retry.is_some_and(|r| (1..=20).contains(&r)), "{retry:?}");
        let reg = json!({"organisation": {"name": "Kayak Club", "kind": "vcs"}, "user": {"email": "staff@kayak.example", "password": PASSWORD}});
        expect_error(app.post("/providers", None, &reg).await, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", None).await;
        // The page's login counts against the same address; reading is not limited.
        let mut b = Browser::new(&app);
        let page = b.log_in("a@nowhere.example", "not the password").await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(page.html.contains("Too many attempts"));
        expect(app.get("/services/1", None).await, StatusCode::NOT_FOUND).await;
    }

    #[tokio::test]
    async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
        let forwarded = |app: &TestApp, client: &'static str| {
            app.client
                .post(app.url("/auth/login"))
                .header("x-forwarded-for", client)
                .json(&json!({"email": "a@nowhere.example", "password": "not the password"}))
                .send()
        };
        // Without --trusted-proxies a client cannot escape its limit by naming another address.
        let direct = spawn_tuned(|s| s.client_attempts_per_minute = 2).await;
        for client in ["198.51.100.1", "198.51.100.2"] {
            assert_eq!(forwarded(&direct, client).await.unwrap().status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(forwarded(&direct, "198.51.100.3").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);

        // The test talks from 127.0.0.1: as a trusted proxy, the address it forwards is the client.
        let proxied = spawn_tuned(|s| {
            s.client_attempts_per_minute = 2;
            s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .await;
        for _ in 0..2 {
            assert_eq!(forwarded(&proxied, "198.51.100.1").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        }
        let over = forwarded(&proxied, "198.51.100.1").await.unwrap();
        assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
        // Another visitor behind the same proxy still gets in; a spoofed left-hand entry does not help.
        assert_eq!(forwarded(&proxied, "198.51.100.2").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            forwarded(&proxied, "203.0.113.9, 198.51.100.1").await.unwrap().status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    #[tokio::test]
    async fn a_full_password_queue_refuses_at_once_with_retry_after() {
        let app = spawn_tuned(|s| {
            s.password_workers = 1;
            s.password_queue = 1;
        })
        .await;
        let attempts = (0..24).map(|i| {
            let app = &app;
            async move { attempt(app, &format!("n{i}@nowhere.example"), "not the password").await }
        });
        let answers = futures_join(attempts).await;
        let refused: Vec<_> = answers.iter().filter(|a| a.0 == StatusCode::TOO_MANY_REQUESTS).collect();
        assert!(!refused.is_empty(), "24 checks at once on 1 worker and 1 waiting place: some refused");
        assert!(answers.iter().all(|a| a.0 == StatusCode::UNAUTHORIZED || a.0 == StatusCode::TOO_MANY_REQUESTS));
        for r in refused {
            assert_eq!(r.1["error"]["code"], "too_many_attempts");
            assert_eq!(r.3, Some(1));
        }
        // Refused by the queue, not counted against the account: the email is not delayed.
        assert_eq!(attempt(&app, "n0@nowhere.example", "not the password").await.0, StatusCode::UNAUTHORIZED);
    }
}

/// Run futures concurrently on this task and collect their outputs in order.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
