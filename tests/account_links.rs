//! Links mailed about accounts, end to end through the outbox's `.eml` files: invitations,
//! password resets, providers confirming their email; and people's notices and email choices.

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

/// Push a token's expiry into the past, as if its time had run out.
fn expire_tokens(app: &TestApp) {
    use diesel::RunQueryDsl;
    app.db()
        .write(|conn| {
            diesel::sql_query("UPDATE account_tokens SET expires_at = created_at WHERE used_at IS NULL")
                .execute(conn)?;
            Ok(())
        })
        .expect("tokens expired");
}

fn invited_family(email: &str) -> serde_json::Value {
    let mut plan = sam("EHC-0100", email, "800.00");
    plan["family"] = json!({"email": email});
    plan
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_family_invited_by_email_sets_its_own_password_once() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let plan = app.holder(&council, &invited_family("new.parent@family.example")).await;
        let mail = app.mail_to("new.parent@family.example", "/invitations/").await;
        assert_eq!(mail.subject, "You are invited to the Local Offer");
        assert!(!mail.subject.contains("Sam") && !mail.text.contains("Sam"), "{}", mail.text);
        let token = mail.token("/invitations");
        // No password yet: nothing logs in.
        let res = app.post("/auth/login", None, &json!({"email": "new.parent@family.example", "password": PASSWORD})).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // The link's page asks for a password.
        let page = app.client.get(format!("{}/invitations/{token}", app.base)).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.expect("html").contains("Set your password"));

        let short = app.post(&format!("/invitations/{token}/accept"), None, &json!({"password": "short"})).await;
        expect_error(short, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("password")).await;
        let res = app.post(&format!("/invitations/{token}/accept"), None, &json!({"password": PASSWORD})).await;
        expect(res, StatusCode::NO_CONTENT).await;
        let family = app.login("new.parent@family.example", PASSWORD).await;
        let mine = expect(app.get(&format!("/budget-holders/{}", plan["id"]), Some(&family)).await, StatusCode::OK).await;
        assert_eq!(mine["reference"], "EHC-0100");

        let again = app.post(&format!("/invitations/{token}/accept"), None, &json!({"password": "another long password"})).await;
        expect_error(again, StatusCode::GONE, "token_used", Some("token")).await;
        let unknown = app.post(&format!("/invitations/{}/accept", "0".repeat(64)), None, &json!({"password": PASSWORD})).await;
        expect_error(unknown, StatusCode::NOT_FOUND, "not_found", Some("token")).await;
        // Once the family has a password, the council cannot re-invite it.
        let res = app.post(&format!("/budget-holders/{}/invitation", plan["id"]), Some(&council), &json!({})).await;
        expect_error(res, StatusCode::CONFLICT, "password_set", None).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_resent_invitation_ends_the_first_and_an_expired_one_says_so() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let plan = app.holder(&council, &invited_family("late.parent@family.example")).await;
        let first = app.mail_to("late.parent@family.example", "/invitations/").await.token("/invitations");
        let res = app.post(&format!("/budget-holders/{}/invitation", plan["id"]), Some(&council), &json!({})).await;
        expect(res, StatusCode::ACCEPTED).await;
        let second = loop {
            let t = app.mail_to("late.parent@family.example", "/invitations/").await.token("/invitations");
            if t != first { break t; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let res = app.post(&format!("/invitations/{first}/accept"), None, &json!({"password": PASSWORD})).await;
        expect_error(res, StatusCode::GONE, "token_expired", Some("token")).await;
        expire_tokens(&app);
        let res = app.post(&format!("/invitations/{second}/accept"), None, &json!({"password": PASSWORD})).await;
        expect_error(res, StatusCode::GONE, "token_expired", Some("token")).await;
        // The page says so in words, and nothing was set.
        let page = app.client.get(format!("{}/invitations/{second}", app.base)).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::GONE);
        assert!(page.text().await.expect("html").contains("This link no longer works"));
        // Another council officer cannot re-send for a plan that is not its council's.
        let other = app.council("Sutton", "officer@sutton.example").await;
        let res = app.post(&format!("/budget-holders/{}/invitation", plan["id"]), Some(&other), &json!({})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_forgotten_password_is_reset_once_and_unknown_emails_learn_nothing() {
        let app = spawn().await;
        let w = world(&app, "300.00").await;
        let known = expect(app.post("/auth/password-reset", None, &json!({"email": "parent@family.example"})).await, StatusCode::ACCEPTED).await;
        let unknown = expect(app.post("/auth/password-reset", None, &json!({"email": "nobody@family.example"})).await, StatusCode::ACCEPTED).await;
        assert_eq!(known, unknown, "the answer never says whether an account exists");
        let bad = app.post("/auth/password-reset", None, &json!({"email": "not an email"})).await;
        expect_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("email")).await;

        let mail = app.mail_to("parent@family.example", "/password-reset/").await;
        assert_eq!(mail.subject, "Reset your Local Offer password");
        let token = mail.token("/password-reset");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(mail::read(&app.outboxes).iter().all(|m| m.to != ["nobody@family.example"]));

        let res = app.post("/auth/password-reset/confirm", None, &json!({"token": token, "password": "my new long password"})).await;
        expect(res, StatusCode::NO_CONTENT).await;
        // Every session ended; the old password no longer works, the new one does.
        assert_eq!(app.get("/me", Some(&w.family)).await.status(), StatusCode::UNAUTHORIZED);
        let old = app.post("/auth/login", None, &json!({"email": "parent@family.example", "password": PASSWORD})).await;
        assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
        app.login("parent@family.example", "my new long password").await;
        let reused = app.post("/auth/password-reset/confirm", None, &json!({"token": token, "password": "yet another password"})).await;
        expect_error(reused, StatusCode::GONE, "token_used", Some("token")).await;

        // Three links an hour at most: more asks are answered alike and send nothing.
        for _ in 0..4 {
            expect(app.post("/auth/password-reset", None, &json!({"email": "staff@wandle.example"})).await, StatusCode::ACCEPTED).await;
        }
        app.mail_to("staff@wandle.example", "/password-reset/").await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let resets = mail::read(&app.outboxes).into_iter().filter(|m| m.to == ["staff@wandle.example"] && m.text.contains("/password-reset/")).count();
        assert_eq!(resets, 3);
        // A link out of time says so.
        expire_tokens(&app);
        let last = app.mail_to("staff@wandle.example", "/password-reset/").await.token("/password-reset");
        let res = app.post("/auth/password-reset/confirm", None, &json!({"token": last, "password": "my new long password"})).await;
        expect_error(res, StatusCode::GONE, "token_expired", Some("token")).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_new_providers_services_wait_for_its_confirmed_email() {
        let app = spawn().await;
        let res = app.post("/providers", None, &json!({"organisation": {"name": "Mitcham Movers", "kind": "vcs", "charity_number": "1123457"}, "user": {"email": "hello@mitcham.example", "password": PASSWORD}})).await;
        expect(res, StatusCode::ACCEPTED).await;
        // It can log in and keep drafts before confirming; asking to publish keeps a draft.
        let provider = app.login("hello@mitcham.example", PASSWORD).await;
        let mut club = saturday_club();
        club["name"] = json!("Mitcham Movers Club");
        let service = app.service(&provider, &club).await;
        assert_eq!(service["status"], "draft", "{service}");
        let found = expect(app.get("/search?q=Mitcham", None).await, StatusCode::OK).await;
        assert_eq!(found["total"], 0, "{found}");

        let mail = app.mail_to("hello@mitcham.example", "/confirm-email/").await;
        assert_eq!(mail.subject, "Confirm your email address");
        let token = mail.token("/confirm-email");
        let wrong = app.post("/auth/confirm-email", None, &json!({"token": "f".repeat(64)})).await;
        expect_error(wrong, StatusCode::NOT_FOUND, "not_found", Some("token")).await;
        expect(app.post("/auth/confirm-email", None, &json!({"token": token})).await, StatusCode::NO_CONTENT).await;
        let published = expect(app.get(&format!("/services/{}", service["id"]), None).await, StatusCode::OK).await;
        assert_eq!(published["status"], "published");
        let mut total = 0;
        for _ in 0..40 {
            total = expect(app.get("/search?q=Mitcham", None).await, StatusCode::OK).await["total"].as_i64().unwrap_or(0);
            if total == 1 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(total, 1);
        let again = app.post("/auth/confirm-email", None, &json!({"token": token})).await;
        expect_error(again, StatusCode::GONE, "token_used", Some("token")).await;
        let res = app.post("/me/confirm-email", Some(&provider), &json!({})).await;
        expect_error(res, StatusCode::CONFLICT, "already_confirmed", None).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn people_read_their_notices_and_choose_their_emails() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let booked = app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 2).await;
        let booking = expect(booked, StatusCode::CREATED).await;
        let id = booking["booking"]["id"].as_i64().or(booking["id"].as_i64()).expect("id");
        let notices = expect(app.get("/notifications", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(notices["total"], 1, "{notices:#}");
        assert_eq!(notices["unread"], 1);
        assert_eq!(notices["notifications"][0]["event"], "booking_requested");
        assert_eq!(notices["notifications"][0]["link"], "/provider/bookings");
        // Another provider, the family and the council see none of the provider's notices.
        for token in [&w.family, &w.council] {
            let theirs = expect(app.get("/notifications", Some(token)).await, StatusCode::OK).await;
            assert_eq!(theirs["total"], 0, "{theirs}");
        }
        let marked = expect(app.post("/notifications/read", Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        assert_eq!(marked["marked"], 1);
        let notices = expect(app.get("/notifications?per_page=1&page=1", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!((notices["unread"].as_i64(), notices["per_page"].as_i64()), (Some(0), Some(1)));
        let bad = app.get("/notifications?per_page=0", Some(&w.provider)).await;
        expect_error(bad, StatusCode::BAD_REQUEST, "invalid_parameter", Some("per_page")).await;

        // The family turns reminders and new-message mail off; required mail cannot be.
        let prefs = expect(app.get("/me/notification-preferences", Some(&w.family)).await, StatusCode::OK).await;
        let events: Vec<&str> = prefs["events"].as_array().unwrap().iter().filter_map(|e| e["event"].as_str()).collect();
        assert!(events.contains(&"session_reminder") && !events.contains(&"booking_requested"), "{prefs}");
        let res = app.put("/me/notification-preferences", Some(&w.family), &json!({"events": {"session_reminder": false, "new_message": false}})).await;
        let prefs = expect(res, StatusCode::OK).await;
        let off: Vec<&str> = prefs["events"].as_array().unwrap().iter().filter(|e| e["email"] == false).filter_map(|e| e["event"].as_str()).collect();
        assert_eq!(off, ["session_reminder", "new_message"]);
        let res = app.put("/me/notification-preferences", Some(&w.family), &json!({"events": {"booking_confirmed": false}})).await;
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("events.booking_confirmed")).await;
        let res = app.put("/me/notification-preferences", Some(&w.family), &json!({"events": {"booking_requested": false}})).await;
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("events.booking_requested")).await;
        let res = app.put("/me/notification-preferences", Some(&w.family), &json!({"events": {"session_reminder": "no"}})).await;
        expect_error(res, StatusCode::BAD_REQUEST, "invalid_field", Some("events.session_reminder")).await;
        // The refused changes lost nothing already chosen.
        let prefs = expect(app.get("/me/notification-preferences", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(prefs["events"].as_array().unwrap().iter().filter(|e| e["email"] == false).count(), 2);

        // The provider declines: the family is told, and emailed (required mail ignores choices).
        expect(app.post(&format!("/bookings/{id}/decline"), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        let mail = app.mail_to("parent@family.example", "declined your booking").await;
        assert_eq!(mail.subject, "Your booking was declined");
        assert!(mail.text.contains("is back in your budget"), "{}", mail.text);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_council_re_sends_an_invitation_from_the_plans_page() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let plan = app.holder(&council, &invited_family("paper.parent@family.example")).await;
        let first = app.mail_to("paper.parent@family.example", "/invitations/").await.token("/invitations");
        let mut officer = common::browser::Browser::new(&app);
        officer.log_in("officer@merton.example", PASSWORD).await;
        let page = officer.get(&format!("/council/budget-holders/{}", plan["id"])).await;
        assert!(page.html.contains("Send a new invitation"), "{}", page.html);
        let csrf = page.csrf();
        let sent = officer.post(&format!("/council/budget-holders/{}/invitation", plan["id"]), &[("csrf_token", &csrf)]).await;
        assert!(sent.html.contains("Invitation sent"), "{}", sent.html);
        let res = app.post(&format!("/invitations/{first}/accept"), None, &json!({"password": PASSWORD})).await;
        expect_error(res, StatusCode::GONE, "token_expired", Some("token")).await;
        let second = loop {
            let t = app.mail_to("paper.parent@family.example", "/invitations/").await.token("/invitations");
            if t != first { break t; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        // The family chooses its password on the link's page.
        let mut family = common::browser::Browser::new(&app);
        let form = family.get(&format!("/invitations/{second}")).await;
        let csrf = form.csrf();
        let done = family.post(&format!("/invitations/{second}"), &[("csrf_token", &csrf), ("password", PASSWORD)]).await;
        assert!(done.html.contains("Your password is set"), "{}", done.html);
        app.login("paper.parent@family.example", PASSWORD).await;
        let csrf = csrf_of(&mut officer, &plan).await;
        let again = officer
            .post(&format!("/council/budget-holders/{}/invitation", plan["id"]), &[("csrf_token", &csrf)])
            .await;
        assert!(again.html.contains("The family has already chosen a password"), "{}", again.html);
    }
}

async fn csrf_of(b: &mut common::browser::Browser, plan: &serde_json::Value) -> String {
    b.get(&format!("/council/budget-holders/{}", plan["id"])).await.csrf()
}
