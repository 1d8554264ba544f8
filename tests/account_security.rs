//! Sessions defended (issue 15): CSRF bound to the session, cookies and headers with and without
//! an https public address, the idle timeout, log out everywhere, an officer ending a family's
//! sessions, and changing a password.

#[macro_use]
mod common;

use common::browser::Browser;
use common::*;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;

/// Every Set-Cookie line of a response, joined.
fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

async fn https_app() -> TestApp {
    spawn_with(tempfile::tempdir().unwrap(), fresh_database(), |s| {
        s.public_url = Some("https://localoffer.example".into());
    })
    .await
}

both_backends! {
    #[tokio::test]
    async fn headers_and_plain_cookies_without_a_public_url() {
        let app = spawn().await;
        world(&app, "100.00").await;
        for path in ["/", "/api/v1/openapi.json", "/login"] {
            let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
            let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
            assert!(csp.contains("form-action 'self'") && csp.contains("base-uri 'none'"), "{csp}");
            let permissions = res.headers()["permissions-policy"].to_str().unwrap();
            for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"] {
                assert!(permissions.contains(feature), "{permissions}");
            }
            assert!(res.headers().get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
        }
        let res = app.client.get(format!("{}/login", app.base)).send().await.unwrap();
        let set = set_cookies(&res).join("\n");
        assert!(set.contains("lo_csrf=") && !set.contains("__Host-") && !set.contains("Secure"), "{set}");
        let mut b = Browser::new(&app);
        let csrf = b.get("/login").await.csrf();
        let res = b.client.post(format!("{}/login", b.base)).header(COOKIE, b.cookie_header())
            .form(&[("csrf_token", csrf.as_str()), ("email", "parent@family.example"), ("password", PASSWORD)]).send().await.unwrap();
        let set = set_cookies(&res).join("\n");
        assert!(set.contains("lo_session=") && !set.contains("Secure"), "{set}");
        // A proxy saying the request came over https still makes the cookie Secure.
        let res = app.client.get(format!("{}/login", app.base)).header("X-Forwarded-Proto", "https").send().await.unwrap();
        assert!(set_cookies(&res).join("\n").contains("Secure"));
    }

    #[tokio::test]
    async fn an_https_public_url_gives_host_cookies_and_hsts() {
        let app = https_app().await;
        world(&app, "100.00").await;
        for path in ["/", "/api/v1/openapi.json", "/no-such-page"] {
            let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
            assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains", "{path}");
        }
        // Over plain HTTP from the proxy, whatever it sends: Secure, __Host- names, Path=/, no Domain.
        let res = app.client.get(format!("{}/login", app.base)).header("X-Forwarded-Proto", "http").send().await.unwrap();
        let set = set_cookies(&res);
        let csrf_cookie = set.iter().find(|c| c.starts_with("__Host-lo_csrf=")).expect("a __Host- CSRF cookie");
        assert!(csrf_cookie.contains("Secure") && csrf_cookie.contains("Path=/") && !csrf_cookie.contains("Domain"), "{csrf_cookie}");
        let mut b = Browser::new(&app);
        let login = b.log_in("parent@family.example", PASSWORD).await;
        assert_eq!(login.location.as_deref(), Some("/my-plan"));
        assert!(b.cookies.contains_key("__Host-lo_session") && !b.cookies.contains_key("lo_session"));
        let plan = b.get("/my-plan").await;
        assert!(plan.html.contains("<h2>Sam</h2>"), "{}", plan.html);
        // The plain name is not read: a cookie planted without the prefix logs nobody in.
        let token = b.cookies["__Host-lo_session"].clone();
        let planted = b.client.get(format!("{}/my-plan", app.base)).header(COOKIE, format!("lo_session={token}")).send().await.unwrap();
        assert_eq!(planted.status(), StatusCode::SEE_OTHER);
    }

    #[tokio::test]
    async fn a_forged_csrf_cookie_cannot_cancel_a_booking() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let booking = expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CREATED).await;
        let id = booking["id"].as_i64().unwrap();
        let mut victim = Browser::new(&app);
        victim.log_in("parent@family.example", PASSWORD).await;
        let session = victim.cookies["lo_session"].clone();
        // The attack from the issue: a planted lo_csrf cookie and the same value in the form.
        let forged = "ab".repeat(32);
        let res = app.client.post(format!("{}/bookings/{id}/cancel", app.base))
            .header(COOKIE, format!("lo_session={session}; lo_csrf={forged}"))
            .form(&[("csrf_token", forged.as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("This form has expired"));
        let still = expect(app.get(&format!("/bookings/{id}"), Some(&w.family)).await, StatusCode::OK).await;
        assert_ne!(still["status"], "cancelled", "{still}");
        // The pre-session token of the victim's own cookie is no good once logged in either.
        let own = victim.cookies["lo_csrf"].clone();
        let res = victim.post(&format!("/bookings/{id}/cancel"), &[("csrf_token", &own)]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        // The session's own token, read from the page, works.
        let confirm = victim.get(&format!("/bookings/{id}/cancel")).await;
        assert_ne!(confirm.csrf(), own);
        let done = victim.post(&format!("/bookings/{id}/cancel"), &[("csrf_token", &confirm.csrf())]).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.html);
        let cancelled = expect(app.get(&format!("/bookings/{id}"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(cancelled["status"], "cancelled");
    }

    #[tokio::test]
    async fn an_idle_session_ends_on_the_api_and_the_pages() {
        let app = spawn_with(tempfile::tempdir().unwrap(), fresh_database(), |s| {
            s.idle_timeout = std::time::Duration::from_secs(2);
        })
        .await;
        world(&app, "100.00").await;
        let token = app.login("parent@family.example", PASSWORD).await;
        let mut b = Browser::new(&app);
        b.log_in("parent@family.example", PASSWORD).await;
        // Used often enough, a session goes on past the idle timeout.
        for _ in 0..3 {
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
            expect(app.get("/me", Some(&token)).await, StatusCode::OK).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
        expect_error(app.get("/me", Some(&token)).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
        let plan = b.get("/my-plan").await;
        assert_eq!(plan.status, StatusCode::SEE_OTHER);
        assert!(plan.location.unwrap().starts_with("/login"));
    }

    #[tokio::test]
    async fn logging_out_everywhere_ends_every_session() {
        let app = spawn().await;
        world(&app, "100.00").await;
        let one = app.login("parent@family.example", PASSWORD).await;
        let two = app.login("parent@family.example", PASSWORD).await;
        let mut b = Browser::new(&app);
        b.log_in("parent@family.example", PASSWORD).await;
        let res = app.post("/auth/logout-everywhere", Some(&one), &json!({})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        for token in [&one, &two] {
            expect_error(app.get("/me", Some(token)).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
        }
        assert_eq!(b.get("/my-plan").await.status, StatusCode::SEE_OTHER);
        // From the account page: the button ends this browser's session and an API token.
        let three = app.login("parent@family.example", PASSWORD).await;
        b.log_in("parent@family.example", PASSWORD).await;
        let account = b.get("/account").await;
        assert!(account.html.contains("parent@family.example") && account.html.contains("Log out everywhere"), "{}", account.html);
        assert!(b.get("/my-plan").await.html.contains("href=\"/account\""));
        let out = b.post("/account/logout-everywhere", &[("csrf_token", &account.csrf())]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert!(!b.cookies.contains_key("lo_session"));
        expect_error(app.get("/me", Some(&three)).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    }

    #[tokio::test]
    async fn a_council_officer_ends_a_familys_sessions() {
        let app = spawn().await;
        let w = world(&app, "100.00").await;
        let holder = w.holder["id"].as_i64().unwrap();
        let path = format!("/budget-holders/{holder}/end-sessions");
        // Nobody but the family's council may.
        let other = app.council("Sutton", "officer@sutton.example").await;
        expect_error(app.post(&path, Some(&other), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        expect_error(app.post(&path, Some(&w.provider), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        expect_error(app.post(&path, Some(&w.family), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        expect(app.get("/me", Some(&w.family)).await, StatusCode::OK).await;
        let res = app.post(&path, Some(&w.council), &json!({})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        expect_error(app.get("/me", Some(&w.family)).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
        expect(app.get("/me", Some(&w.council)).await, StatusCode::OK).await;
        // The button on the council's budget holder page.
        let family = app.login("parent@family.example", PASSWORD).await;
        let mut officer = Browser::new(&app);
        officer.log_in("officer@merton.example", PASSWORD).await;
        let page = officer.get(&format!("/council/budget-holders/{holder}")).await;
        assert!(page.html.contains("End the family&#39;s sessions") || page.html.contains("End the family's sessions"), "{}", page.html);
        let done = officer.post(&format!("/council/budget-holders/{holder}/end-sessions"), &[("csrf_token", &page.csrf())]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        expect_error(app.get("/me", Some(&family)).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    }

    #[tokio::test]
    async fn changing_the_password_ends_other_sessions_and_the_old_password() {
        let app = spawn().await;
        world(&app, "100.00").await;
        let mine = app.login("parent@family.example", PASSWORD).await;
        let other = app.login("parent@family.example", PASSWORD).await;
        let wrong = app.post("/me/password", Some(&mine), &json!({"current_password": "not my password", "new_password": "a brand new password"})).await;
        expect_error(wrong, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("current_password")).await;
        let weak = app.post("/me/password", Some(&mine), &json!({"current_password": PASSWORD, "new_password": "short"})).await;
        expect_error(weak, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("new_password")).await;
        expect(app.get("/me", Some(&other)).await, StatusCode::OK).await;
        let res = app.post("/me/password", Some(&mine), &json!({"current_password": PASSWORD, "new_password": "a brand new password"})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        expect(app.get("/me", Some(&mine)).await, StatusCode::OK).await;
        expect_error(app.get("/me", Some(&other)).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
        let old = app.post("/auth/login", None, &json!({"email": "parent@family.example", "password": PASSWORD})).await;
        assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
        app.login("parent@family.example", "a brand new password").await;
        // The same form on the account page.
        let mut b = Browser::new(&app);
        b.log_in("parent@family.example", "a brand new password").await;
        let account = b.get("/account").await;
        let bad = b.post("/account/password", &[("csrf_token", &account.csrf()), ("current_password", "nope nope nope"), ("new_password", "the third password")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.html.contains("There is a problem") && bad.html.contains("not your current password"), "{}", bad.html);
        let ok = b.post("/account/password", &[("csrf_token", &account.csrf()), ("current_password", "a brand new password"), ("new_password", "the third password")]).await;
        assert_eq!(ok.location.as_deref(), Some("/account?changed=password"));
        assert!(b.get("/account?changed=password").await.html.contains("Your password has been changed"));
        expect_error(app.get("/me", Some(&mine)).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
        app.login("parent@family.example", "the third password").await;
    }
}
