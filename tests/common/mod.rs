//! Test harness: the real server on a free port, a fresh data directory, reqwest as the client.
#![allow(dead_code)]

pub mod browser;
pub mod mail;
pub mod smtp;

use std::process::Command;

use localoffer::{Application, Settings};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const PASSWORD: &str = "a long enough password";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    /// The backend the current test runs on (set by `both_backends!`).
    pub static BACKEND: Backend;
}

/// The PostgreSQL server the tests may use, from `LOCALOFFER_TEST_POSTGRES_URL`.
pub fn postgres_server() -> Option<String> {
    std::env::var("LOCALOFFER_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// Runs each test once on SQLite and once on PostgreSQL (in its own scratch database; skipped
/// with a message when no server is configured).
#[macro_export]
macro_rules! both_backends {
    ($($(#[$meta:meta])* async fn $name:ident() $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $( $(#[$meta])* async fn $name() {
                $crate::common::BACKEND.scope($crate::common::Backend::Sqlite, async move $body).await
            } )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $( $(#[$meta])* async fn $name() {
                if $crate::common::postgres_server().is_none() {
                    eprintln!("skipped on PostgreSQL: set LOCALOFFER_TEST_POSTGRES_URL to run it");
                    return;
                }
                $crate::common::BACKEND.scope($crate::common::Backend::Postgres, async move $body).await
            } )*
        }
    };
}

/// A scratch PostgreSQL database, dropped with the last app that used it.
pub struct Scratch {
    pub url: String,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(server) = postgres_server() {
            let _ = localoffer::db::drop_scratch_postgres(&server, &self.url);
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub dir: TempDir,
    pub scratch: Option<std::sync::Arc<Scratch>>,
    /// The second-factor secrets of the users the helpers enrolled, to compute their codes.
    pub authenticator: Authenticator,
    /// Where the servers under test leave mail when no SMTP server is set.
    pub outboxes: Vec<std::path::PathBuf>,
    handle: Option<actix_web::dev::ServerHandle>,
}

/// An authenticator app for the tests: each enrolled email's secret and the last step it gave a
/// code for (the server accepts a step once).
#[derive(Clone, Default)]
pub struct Authenticator(std::sync::Arc<std::sync::Mutex<Secrets>>);

/// Email -> (secret, last step a code was given for).
type Secrets = std::collections::HashMap<String, (Vec<u8>, u64)>;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

impl Authenticator {
    /// Remember a base32 secret for this email.
    pub fn add(&self, email: &str, secret: &str) {
        let bytes = localoffer::domain::totp::decode_secret(secret).expect("a base32 secret");
        self.0.lock().unwrap().insert(email.to_string(), (bytes, 0));
    }

    pub fn knows(&self, email: &str) -> bool {
        self.0.lock().unwrap().contains_key(email)
    }

    /// A code the server has not seen yet: this step's, else the next one's (accepted a step
    /// early), else wait for a new step.
    pub async fn code(&self, email: &str) -> Option<String> {
        loop {
            let wait = {
                let mut map = self.0.lock().unwrap();
                let (secret, last) = map.get_mut(email)?;
                let now = unix_now();
                let step = now / 30;
                match [step, step + 1].into_iter().find(|s| *s > *last) {
                    Some(s) => {
                        *last = s;
                        return localoffer::domain::totp::code_at(secret, s * 30);
                    }
                    None => (step + 1) * 30 - now,
                }
            };
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        }
    }
}

fn backend() -> Backend {
    BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite)
}

/// A fresh database for the current backend: `None` means the SQLite file in the data directory.
pub fn fresh_database() -> Option<std::sync::Arc<Scratch>> {
    match backend() {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let server = postgres_server().expect("LOCALOFFER_TEST_POSTGRES_URL");
            let url = localoffer::db::create_scratch_postgres(&server, "localoffer_test").expect("scratch database");
            Some(std::sync::Arc::new(Scratch { url }))
        }
    }
}

/// A fresh database on the given backend, whichever the test runs on.
pub fn fresh_database_on(on: Backend) -> Option<std::sync::Arc<Scratch>> {
    BACKEND.sync_scope(on, fresh_database)
}

pub async fn spawn() -> TestApp {
    spawn_with(tempfile::tempdir().expect("temp dir"), fresh_database(), |_| {}).await
}

/// Start the server with adjusted settings on a data directory and database.
pub async fn spawn_with(
    dir: TempDir,
    scratch: Option<std::sync::Arc<Scratch>>,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings::local(dir.path());
    settings.database_url = scratch.as_ref().map(|s| s.url.clone());
    adjust(&mut settings);
    let app = Application::build(&settings).expect("server starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: Client::new(),
        outboxes: vec![dir.path().join("outbox")],
        dir,
        scratch,
        authenticator: Authenticator::default(),
        handle: Some(handle),
    }
}

impl TestApp {
    /// A server running elsewhere (another process), driven with the same helpers.
    pub fn remote(base: &str) -> TestApp {
        TestApp {
            base: base.to_string(),
            client: Client::new(),
            dir: tempfile::tempdir().expect("temp dir"),
            scratch: None,
            authenticator: Authenticator::default(),
            outboxes: Vec::new(),
            handle: None,
        }
    }

    /// Stop this server and start another on the same data directory and database.
    pub async fn restart(self) -> TestApp {
        self.restart_with(|| {}).await
    }

    /// Stop this server, do something to its data while nothing runs, start again.
    pub async fn restart_with(self, meanwhile: impl FnOnce()) -> TestApp {
        let TestApp {
            dir,
            handle,
            scratch,
            authenticator,
            ..
        } = self;
        if let Some(handle) = handle {
            handle.stop(true).await;
        }
        // The search follower lets go of the index once the server's state is dropped.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        meanwhile();
        TestApp {
            authenticator,
            ..spawn_with(dir, scratch, |_| {}).await
        }
    }

    pub fn database_url(&self) -> Option<String> {
        self.scratch.as_ref().map(|s| s.url.clone())
    }

    /// The app's database, opened directly (as an operator's tool would).
    pub fn db(&self) -> localoffer::db::Db {
        localoffer::DataDir(self.dir.path().to_path_buf())
            .open_db(self.database_url().as_deref())
            .expect("database opens")
    }

    /// The `localoffer` binary pointed at this app's data directory and database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_localoffer"));
        cmd.args(args).arg("--data-dir").arg(self.dir.path());
        if let Some(url) = self.database_url() {
            cmd.arg("--database-url").arg(url);
        }
        cmd.env_remove("DATABASE_URL").output().expect("localoffer binary runs")
    }

    pub fn council_create(&self, name: &str, email: &str, password: &str) -> std::process::Output {
        self.council_create_with(name, email, password, &[])
    }

    fn council_create_with(&self, name: &str, email: &str, password: &str, more: &[&str]) -> std::process::Output {
        let args = [
            "council",
            "create",
            "--name",
            name,
            "--email",
            email,
            "--password",
            password,
        ];
        self.cli(&[&args[..], more].concat())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.put(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    /// Log in over the API, with a fresh code when the helpers enrolled this user.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let mut body = json!({"email": email, "password": password});
        if let Some(code) = self.authenticator.code(email).await {
            body["totp"] = code.into();
        }
        let res = self.post("/auth/login", None, &body).await;
        let body = expect(res, StatusCode::OK).await;
        body["token"].as_str().expect("token").to_string()
    }

    /// A council through the real CLI, its officer enrolled at once (`--totp`); returns the
    /// officer's token.
    pub async fn council(&self, name: &str, email: &str) -> String {
        let out = self.council_create_with(name, email, PASSWORD, &["--totp"]);
        assert!(
            out.status.success(),
            "council create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: Value = serde_json::from_slice(&out.stdout).expect("council create prints JSON");
        self.authenticator
            .add(email, printed["totp_secret"].as_str().expect("a TOTP secret"));
        self.login(email, PASSWORD).await
    }

    /// Set up the second factor of the user holding `token` through the API (as a broker must
    /// before doing anything else); its later logins send codes.
    pub async fn enrol(&self, token: &str, email: &str) {
        let made = expect(self.post("/me/totp", Some(token), &json!({})).await, StatusCode::OK).await;
        self.authenticator.add(email, made["secret"].as_str().expect("secret"));
        let code = self.authenticator.code(email).await.expect("a code");
        let res = self.post("/me/totp/confirm", Some(token), &json!({"code": code})).await;
        expect(res, StatusCode::NO_CONTENT).await;
    }

    /// Log in as a broker's staff for the first time: the second factor is set up at once.
    pub async fn broker_login(&self, email: &str) -> String {
        let token = self.login(email, PASSWORD).await;
        self.enrol(&token, email).await;
        token
    }

    /// A provider organisation and its first user; returns (organisation id, token).
    pub async fn provider(&self, name: &str, email: &str) -> (i64, String) {
        let res = self
            .post(
                "/providers",
                None,
                &json!({"organisation": {"name": name, "kind": "vcs", "charity_number": "1123456"}, "user": {"email": email, "password": PASSWORD}}),
            )
            .await;
        let body = expect(res, StatusCode::ACCEPTED).await;
        assert_eq!(body["status"], "received", "{body}");
        self.confirm_email(email).await;
        // The answer never says what was created: the new user finds its organisation from /me.
        let token = self.login(email, PASSWORD).await;
        let me = expect(self.get("/me", Some(&token)).await, StatusCode::OK).await;
        (me["organisation_id"].as_i64().expect("organisation id"), token)
    }

    /// Wait for the mail to `to` that holds `containing`.
    pub async fn mail_to(&self, to: &str, containing: &str) -> mail::Mail {
        mail::wait_for(&self.outboxes, to, containing).await
    }

    /// Open the confirmation link mailed to a new provider (its services can then be published).
    pub async fn confirm_email(&self, email: &str) {
        let token = self.mail_to(email, "/confirm-email/").await.token("/confirm-email");
        let res = self.post("/auth/confirm-email", None, &json!({"token": token})).await;
        expect(res, StatusCode::NO_CONTENT).await;
    }

    pub async fn service(&self, token: &str, body: &Value) -> Value {
        expect(self.post("/services", Some(token), body).await, StatusCode::CREATED).await
    }

    pub async fn holder(&self, council_token: &str, body: &Value) -> Value {
        expect(
            self.post("/budget-holders", Some(council_token), body).await,
            StatusCode::CREATED,
        )
        .await
    }

    pub async fn book(&self, token: &str, holder: &Value, allocation: usize, option: i64, quantity: i64) -> Response {
        let body = json!({
            "budget_holder_id": holder["id"], "allocation_id": holder["allocations"][allocation]["id"],
            "price_option_id": option, "quantity": quantity
        });
        self.post("/bookings", Some(token), &body).await
    }
}

/// Assert the status (showing the body when it is wrong) and return the JSON body.
pub async fn expect(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }
}

/// Assert a JSON error with this status, code and (when given) field.
pub async fn expect_error(res: Response, status: StatusCode, code: &str, field: Option<&str>) -> Value {
    let body = expect(res, status).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    if let Some(field) = field {
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

pub fn saturday_club() -> Value {
    json!({
        "name": "Saturday Club", "description": "Games, cooking and trips for disabled children.",
        "outcomes": ["pfa-friends-community"], "service_types": ["st-short-break-day"],
        "needs": ["need-autism"], "min_age": 5, "max_age": 18, "funding_streams": ["social_care"],
        "location": {"postcode": "SW19 2HR", "lat": 51.4214, "lon": -0.2064, "address": "1 High Street, Wimbledon"},
        "reach_miles": 10, "capacity": 12, "status": "published",
        "price_options": [
            {"label": "Saturday session 10:00-15:00", "unit": "session", "price": "45.00"},
            {"label": "Overnight", "unit": "night",
             "fcr": {"annual_direct_costs": "52000.00", "annual_overheads": "13000.00", "units_per_year": 400, "occupancy": "0.85"}}
        ]
    })
}

pub fn sam(reference: &str, email: &str, amount: &str) -> Value {
    json!({
        "reference": reference, "first_name": "Sam", "date_of_birth": "2014-05-01",
        "postcode": "SW19 2HR", "plan_start": "2026-09-01", "plan_end": "2027-08-31",
        "family": {"email": email, "password": PASSWORD},
        "outcomes": [{"text": "To make friends and join in activities outside school", "terms": ["pfa-friends-community"]}],
        "allocations": [{"stream": "social_care", "management": "direct_payment", "amount": amount}]
    })
}

/// A council, a provider with a published Saturday Club, and a family with `amount` of social care
/// budget: the cast most tests need.
pub struct World {
    pub council: String,
    pub provider: String,
    pub organisation_id: i64,
    pub service: Value,
    pub family: String,
    pub holder: Value,
}

pub async fn world(app: &TestApp, amount: &str) -> World {
    let council = app.council("Merton", "officer@merton.example").await;
    let (organisation_id, provider) = app.provider("Wandle Club", "staff@wandle.example").await;
    let service = app.service(&provider, &saturday_club()).await;
    let holder = app
        .holder(&council, &sam("EHC-0001", "parent@family.example", amount))
        .await;
    let family = app.login("parent@family.example", PASSWORD).await;
    World {
        council,
        provider,
        organisation_id,
        service,
        family,
        holder,
    }
}

pub fn option_id(service: &Value, index: usize) -> i64 {
    service["price_options"][index]["id"].as_i64().expect("price option id")
}

/// A date `days` from today at `hh:mm` on England's wall clock, as the API takes it.
pub fn day_at(days: i64, time: &str) -> String {
    let day = (chrono::Utc::now() + chrono::Duration::days(days))
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive();
    format!("{day}T{time}:00")
}

/// What is left on a plan's first allocation, as its page says.
pub async fn remaining(app: &TestApp, token: &str, holder: &Value) -> String {
    let plan = expect(
        app.get(&format!("/budget-holders/{}", holder["id"]), Some(token)).await,
        StatusCode::OK,
    )
    .await;
    plan["allocations"][0]["remaining"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
