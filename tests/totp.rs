//! Two-step login (TOTP, RFC 6238): enrolling and confirming, codes and recovery codes at login,
//! replayed codes refused, council officers and brokers kept to enrolling until they have, the
//! CLI's `council create --totp`, and the login and account pages.

#[macro_use]
mod common;

use common::browser::Browser;
use common::*;
use localoffer::domain::throttle::Policy;
use reqwest::StatusCode;
use serde_json::{Value, json};

const OFFICER: &str = "officer@merton.example";

/// An officer created without `--totp`: logged in, but not enrolled yet.
async fn unenrolled_officer(app: &TestApp) -> String {
    let out = app.council_create("Merton", OFFICER, PASSWORD);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.login(OFFICER, PASSWORD).await
}

async fn login_with(app: &TestApp, email: &str, totp: Option<&str>) -> reqwest::Response {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(code) = totp {
        body["totp"] = code.into();
    }
    app.post("/auth/login", None, &body).await
}

/// The code of the step after the one the authenticator last gave (or this step's).
fn wrong_code(right: &str) -> String {
    let n: u32 = right.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

both_backends! {
    #[tokio::test]
    async fn an_officer_enrols_confirms_and_then_logs_in_only_with_a_fresh_code() {
        let app = spawn().await;
        let token = unenrolled_officer(&app).await;
        let made = expect(app.post("/me/totp", Some(&token), &json!({})).await, StatusCode::OK).await;
        let secret = made["secret"].as_str().unwrap();
        assert!(made["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/localoffer:"), "{made}");
        assert!(made["otpauth_uri"].as_str().unwrap().contains(&format!("secret={secret}")), "{made}");
        let recovery: Vec<String> = made["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        assert_eq!(recovery.len(), 10);
        // Asking again before confirming replaces the pending secret.
        let again = expect(app.post("/me/totp", Some(&token), &json!({})).await, StatusCode::OK).await;
        assert_ne!(again["secret"], made["secret"]);
        let secret = again["secret"].as_str().unwrap();
        let recovery: Vec<String> = again["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        app.authenticator.add(OFFICER, secret);

        // Until confirmed, a login needs no code.
        expect(login_with(&app, OFFICER, None).await, StatusCode::OK).await;
        let code = app.authenticator.code(OFFICER).await.unwrap();
        expect_error(app.post("/me/totp/confirm", Some(&token), &json!({"code": wrong_code(&code)})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("code")).await;
        expect_error(app.post("/me/totp/confirm", Some(&token), &json!({"code": "12"})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("code")).await;
        expect(app.post("/me/totp/confirm", Some(&token), &json!({"code": code})).await, StatusCode::NO_CONTENT).await;
        expect_error(app.post("/me/totp", Some(&token), &json!({})).await, StatusCode::CONFLICT, "totp_already_enrolled", None).await;

        // Now the password alone is not enough, and a wrong password stays the neutral answer.
        expect_error(login_with(&app, OFFICER, None).await, StatusCode::UNAUTHORIZED, "totp_required", Some("totp")).await;
        let code = app.authenticator.code(OFFICER).await.unwrap();
        expect_error(login_with(&app, OFFICER, Some(&wrong_code(&code))).await, StatusCode::UNAUTHORIZED, "totp_invalid", Some("totp")).await;
        let wrong_password = app.post("/auth/login", None, &json!({"email": OFFICER, "password": "not the password at all", "totp": code})).await;
        expect_error(wrong_password, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
        let logged = expect(login_with(&app, OFFICER, Some(&code)).await, StatusCode::OK).await;
        let fresh = logged["token"].as_str().unwrap();
        expect(app.get("/budget-holders", Some(fresh)).await, StatusCode::OK).await;
        // The same code a second time (someone who saw it) is refused.
        expect_error(login_with(&app, OFFICER, Some(&code)).await, StatusCode::UNAUTHORIZED, "totp_invalid", None).await;

        // A recovery code works once, typed in any case.
        expect(login_with(&app, OFFICER, Some(&recovery[3].to_uppercase())).await, StatusCode::OK).await;
        expect_error(login_with(&app, OFFICER, Some(&recovery[3])).await, StatusCode::UNAUTHORIZED, "totp_invalid", None).await;
        // The first enrolment's codes were replaced.
        let first: &str = made["recovery_codes"][0].as_str().unwrap();
        expect_error(login_with(&app, OFFICER, Some(first)).await, StatusCode::UNAUTHORIZED, "totp_invalid", None).await;
        expect(login_with(&app, OFFICER, Some(&recovery[4])).await, StatusCode::OK).await;
    }

    #[tokio::test]
    async fn unenrolled_officers_and_brokers_can_only_enrol_see_themselves_and_log_out() {
        let app = spawn().await;
        let officer = unenrolled_officer(&app).await;
        expect(
            app.post("/providers", None, &json!({"organisation": {"name": "Budget Brokers CIC", "kind": "broker"}, "user": {"email": "staff@broker.example", "password": PASSWORD}})).await,
            StatusCode::ACCEPTED,
        )
        .await;
        let broker = app.login("staff@broker.example", PASSWORD).await;
        for (token, role) in [(&officer, "council"), (&broker, "broker")] {
            let me = expect(app.get("/me", Some(token)).await, StatusCode::OK).await;
            assert_eq!(me["role"], role);
            assert_eq!(me["totp_enrolment_required"], true, "{me}");
            expect_error(app.get("/budget-holders", Some(token)).await, StatusCode::FORBIDDEN, "totp_enrolment_required", None).await;
            expect_error(app.get("/waitlist", Some(token)).await, StatusCode::FORBIDDEN, "totp_enrolment_required", None).await;
            expect(app.post("/me/totp", Some(token), &json!({})).await, StatusCode::OK).await;
        }
        expect(app.post("/auth/logout", Some(&officer), &json!({})).await, StatusCode::NO_CONTENT).await;
        expect_error(app.get("/me", Some(&officer)).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
        // Once enrolled, the broker gets on with its work; families and providers never need a code.
        app.enrol(&broker, "staff@broker.example").await;
        expect(app.get("/budget-holders", Some(&broker)).await, StatusCode::OK).await;
        assert_eq!(expect(app.get("/me", Some(&broker)).await, StatusCode::OK).await["totp_enrolment_required"], false);
        let (_, provider) = app.provider("Wandle Club", "staff@wandle.example").await;
        assert_eq!(expect(app.get("/me", Some(&provider)).await, StatusCode::OK).await["totp_enrolment_required"], false);
        app.service(&provider, &saturday_club()).await;
    }

    #[tokio::test]
    async fn council_create_with_totp_prints_a_secret_that_logs_in() {
        let app = spawn().await;
        let out = app.cli(&["council", "create", "--name", "Merton", "--email", OFFICER, "--password", PASSWORD, "--totp"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let secret = printed["totp_secret"].as_str().expect("the secret is printed");
        expect_error(login_with(&app, OFFICER, None).await, StatusCode::UNAUTHORIZED, "totp_required", None).await;
        app.authenticator.add(OFFICER, secret);
        let token = app.login(OFFICER, PASSWORD).await;
        expect(app.get("/budget-holders", Some(&token)).await, StatusCode::OK).await;
    }

    #[tokio::test]
    async fn the_operator_resets_a_lost_authenticator_and_the_officer_must_set_it_up_again() {
        let app = spawn().await;
        let out = app.cli(&["council", "create", "--name", "Merton", "--email", OFFICER, "--password", PASSWORD, "--totp"]);
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        app.authenticator.add(OFFICER, printed["totp_secret"].as_str().unwrap());
        let before = app.login(OFFICER, PASSWORD).await;

        let out = app.cli(&["unlock", "--email", OFFICER, "--reset-two-step"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["two_step_reset"], true, "{answer}");
        // The old session is over; the password alone now logs in, but only to set up again.
        expect(app.get("/me", Some(&before)).await, StatusCode::UNAUTHORIZED).await;
        let token = expect(login_with(&app, OFFICER, None).await, StatusCode::OK).await["token"].as_str().unwrap().to_string();
        expect_error(app.get("/budget-holders", Some(&token)).await, StatusCode::FORBIDDEN, "totp_enrolment_required", None).await;
        expect(app.post("/me/totp", Some(&token), &json!({})).await, StatusCode::OK).await;
        // An email with nothing to reset says so, and says nothing else.
        let out = app.cli(&["unlock", "--email", "nobody@nowhere.example", "--reset-two-step"]);
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer, json!({"unlocked": false, "two_step_reset": false}));
    }

    #[tokio::test]
    async fn wrong_codes_count_towards_the_login_lock_out() {
        let app = spawn_with(tempfile::tempdir().unwrap(), fresh_database(), |s| {
            s.login_throttle = Policy { delay_after: 100, lock_after: 4, ..Policy::default() };
        })
        .await;
        app.council("Merton", OFFICER).await;
        for _ in 0..4 {
            expect_error(login_with(&app, OFFICER, Some("000000")).await, StatusCode::UNAUTHORIZED, "totp_invalid", None).await;
        }
        let code = app.authenticator.code(OFFICER).await.unwrap();
        expect_error(login_with(&app, OFFICER, Some(&code)).await, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", None).await;
    }

    #[tokio::test]
    async fn on_the_pages_an_unenrolled_officer_is_sent_to_set_up_and_then_logs_in_with_a_code() {
        let app = spawn().await;
        let out = app.council_create("Merton", OFFICER, PASSWORD);
        assert!(out.status.success());
        let mut b = Browser::new(&app);
        let login = b.log_in(OFFICER, PASSWORD).await;
        assert_eq!(login.location.as_deref(), Some("/account#two-factor"), "{}", login.html);
        let elsewhere = b.get("/council/budget-holders").await;
        assert_eq!((elsewhere.status, elsewhere.location.as_deref()), (StatusCode::SEE_OTHER, Some("/account#two-factor")));
        let account = b.get("/account").await;
        assert!(account.html.contains("needs two-step login"), "{}", account.html);
        let started = b.post("/account/totp", &[("csrf_token", &account.csrf())]).await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.html);
        let at = started.html.find("id=\"totp-secret\">").unwrap() + 17;
        let secret = &started.html[at..at + started.html[at..].find('<').unwrap()];
        assert!(started.html.contains("id=\"recovery-codes\"") && started.html.contains("otpauth://totp/"), "{}", started.html);
        assert!(started.html.contains("role=\"img\" aria-label=\"QR code") && started.html.contains("<svg"), "a QR code to scan");
        app.authenticator.add(OFFICER, secret);

        let bad = b.post("/account/totp/confirm", &[("csrf_token", &started.csrf()), ("code", "12")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.html.contains("href=\"#code\"") && bad.html.contains(secret), "{}", bad.html);
        assert!(!bad.html.contains("id=\"recovery-codes\""), "recovery codes are shown once");
        let code = app.authenticator.code(OFFICER).await.unwrap();
        let on = b.post("/account/totp/confirm", &[("csrf_token", &bad.csrf()), ("code", &code)]).await;
        assert_eq!(on.location.as_deref(), Some("/account?changed=totp"), "{}", on.html);
        assert!(b.get("/account?changed=totp").await.html.contains("Two-step login is on"));
        assert_eq!(b.get("/council/budget-holders").await.status, StatusCode::OK);

        // Another device: the login form has the code field, and without a code says so.
        let mut other = Browser::new(&app);
        let form = other.get("/login").await;
        assert!(form.html.contains("autocomplete=\"one-time-code\"") && form.html.contains("inputmode=\"numeric\""), "{}", form.html);
        let csrf = form.csrf();
        let refused = other.post("/login", &[("csrf_token", &csrf), ("email", OFFICER), ("password", PASSWORD), ("totp", "")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.html.contains("href=\"#totp\""), "{}", refused.html);
        let login = other.log_in(OFFICER, PASSWORD).await;
        assert_eq!(login.location.as_deref(), Some("/council/budget-holders"), "{}", login.html);
    }
}
