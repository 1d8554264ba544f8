//! Who is told of what, through the outbox: reminders before booked sessions (once each, and not
//! to a family that turned them off), a session moved, a waiting-list offer, a provider verified
//! and suspended.

#[macro_use]
mod common;

use chrono::{Duration, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn london_in(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours))
        .with_timezone(&chrono_tz::Europe::London)
        .format("%Y-%m-%dT%H:00:00")
        .to_string()
}

async fn session(app: &TestApp, w: &World, from_now_hours: i64, places: i64) -> Value {
    let body =
        json!({"starts_at": london_in(from_now_hours), "ends_at": london_in(from_now_hours + 3), "places": places});
    let made = app
        .post(
            &format!("/services/{}/sessions", w.service["id"]),
            Some(&w.provider),
            &body,
        )
        .await;
    expect(made, StatusCode::CREATED).await["sessions"][0].clone()
}

async fn book(app: &TestApp, token: &str, holder: &Value, option: i64, session: &Value) -> i64 {
    let body = json!({
        "budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"],
        "price_option_id": option, "session_ids": [session["id"]],
    });
    let made = expect(app.post("/bookings", Some(token), &body).await, StatusCode::CREATED).await;
    made["booking"]["id"]
        .as_i64()
        .or(made["id"].as_i64())
        .expect("booking id")
}

/// Make the recurring job of this kind due now (as if its 15 minutes had passed).
fn run_job_now(app: &TestApp, kind: &str) {
    use diesel::RunQueryDsl;
    let sql = format!("UPDATE jobs SET run_at = created_at WHERE kind = '{kind}' AND done_at IS NULL");
    app.db()
        .write(move |conn| {
            diesel::sql_query(sql).execute(conn)?;
            Ok(())
        })
        .expect("job made due");
}

fn count(app: &TestApp, to: &str, containing: &str) -> usize {
    mail::read(&app.outboxes)
        .into_iter()
        .filter(|m| m.to == [to] && m.text.contains(containing))
        .count()
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_booked_session_is_reminded_of_once_48_hours_ahead() {
        let app = spawn().await;
        let w = world(&app, "800.00").await;
        let soon = session(&app, &w, 30, 6).await;
        let later = session(&app, &w, 24 * 5, 6).await;
        let option = option_id(&w.service, 0);
        for s in [&soon, &later] {
            let id = book(&app, &w.family, &w.holder, option, s).await;
            expect(app.post(&format!("/bookings/{id}/confirm"), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        }
        run_job_now(&app, "reminders");
        let reminder = app.mail_to("parent@family.example", "If you cannot go").await;
        assert_eq!(reminder.subject, "A reminder of a session you booked");
        // Run again: each place is reminded of once; the session five days away not yet.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        run_job_now(&app, "reminders");
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(count(&app, "parent@family.example", "If you cannot go"), 1);

        // A second family that turned reminders off is listed but not emailed.
        let council = w.council.clone();
        let other = app.holder(&council, &sam("EHC-0002", "quiet@family.example", "500.00")).await;
        let quiet = app.login("quiet@family.example", PASSWORD).await;
        let res = app.put("/me/notification-preferences", Some(&quiet), &json!({"events": {"session_reminder": false}})).await;
        expect(res, StatusCode::OK).await;
        let id = book(&app, &quiet, &other, option, &soon).await;
        expect(app.post(&format!("/bookings/{id}/confirm"), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        run_job_now(&app, "reminders");
        let mut listed = Value::Null;
        for _ in 0..60 {
            listed = expect(app.get("/notifications", Some(&quiet)).await, StatusCode::OK).await;
            if listed["notifications"].as_array().is_some_and(|n| n.iter().any(|x| x["event"] == "session_reminder")) { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let reminder = listed["notifications"].as_array().unwrap().iter().find(|x| x["event"] == "session_reminder").cloned().expect("reminder listed");
        assert_eq!(reminder["mail"], "off");
        assert_eq!(count(&app, "quiet@family.example", "If you cannot go"), 0);
        // The confirmation, which cannot be turned off, was emailed.
        app.mail_to("quiet@family.example", "confirmed your booking").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn families_hear_of_a_moved_session_and_a_freed_place() {
        let app = spawn().await;
        let w = world(&app, "800.00").await;
        let full = session(&app, &w, 24 * 10, 1).await;
        let option = option_id(&w.service, 0);
        book(&app, &w.family, &w.holder, option, &full).await;
        // A second family waits for the one place.
        let other = app.holder(&w.council, &sam("EHC-0003", "waiting@family.example", "500.00")).await;
        let waiting = app.login("waiting@family.example", PASSWORD).await;
        let body = json!({"budget_holder_id": other["id"], "allocation_id": other["allocations"][0]["id"], "price_option_id": option});
        expect(app.post(&format!("/sessions/{}/waitlist", full["id"]), Some(&waiting), &body).await, StatusCode::CREATED).await;

        let moved = json!({"starts_at": london_in(24 * 11), "ends_at": london_in(24 * 11 + 3)});
        expect(app.put(&format!("/sessions/{}", full["id"]), Some(&w.provider), &moved).await, StatusCode::OK).await;
        let mail = app.mail_to("parent@family.example", "now starts on").await;
        assert_eq!(mail.subject, "A session you booked has moved");
        assert_eq!(count(&app, "waiting@family.example", "now starts on"), 0, "only families booked on it");

        // A second place: offered to the waiting family, with the time it is held until.
        expect(app.put(&format!("/sessions/{}", full["id"]), Some(&w.provider), &json!({"places": 2})).await, StatusCode::OK).await;
        let offer = app.mail_to("waiting@family.example", "is held for you until").await;
        assert_eq!(offer.subject, "A place is free for you");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_provider_hears_when_a_council_verifies_or_suspends_it() {
        let app = spawn().await;
        let w = world(&app, "300.00").await;
        let path = |what: &str| format!("/organisations/{}/{what}", w.organisation_id);
        expect(app.post(&path("verify"), Some(&w.council), &json!({})).await, StatusCode::OK).await;
        let verified = app.mail_to("staff@wandle.example", "Merton verified your organisation").await;
        assert_eq!(verified.subject, "Your organisation is verified");
        expect(app.post(&path("suspend"), Some(&w.council), &json!({})).await, StatusCode::OK).await;
        let suspended = app.mail_to("staff@wandle.example", "Merton suspended your organisation").await;
        assert_eq!(suspended.subject, "Your organisation is suspended");
        // The family and the council were told nothing of it.
        for token in [&w.family, &w.council] {
            let theirs = expect(app.get("/notifications", Some(token)).await, StatusCode::OK).await;
            assert_eq!(theirs["total"], 0, "{theirs}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_new_message_tells_the_other_side_without_carrying_its_words() {
        let app = spawn().await;
        let w = world(&app, "300.00").await;
        let body = json!({"service_id": w.service["id"], "body": "Is there step-free access to the hall?"});
        let made = expect(app.post("/threads", Some(&w.family), &body).await, StatusCode::CREATED).await;
        let id = made["id"].as_i64().expect("thread id");
        let mail = app.mail_to("staff@wandle.example", "You have a new message from the family").await;
        assert_eq!(mail.subject, "A new message for you");
        assert!(mail.text.contains(&format!("/messages/{id}")), "{}", mail.text);
        assert!(!mail.text.contains("step-free"), "the message is read on the site, not in the mail");
        // Reading the conversation reads its notice; the author is not told of its own message.
        let unread = expect(app.get("/notifications", Some(&w.provider)).await, StatusCode::OK).await["unread"].as_i64();
        assert_eq!(unread, Some(1));
        expect(app.get(&format!("/threads/{id}"), Some(&w.provider)).await, StatusCode::OK).await;
        let unread = expect(app.get("/notifications", Some(&w.provider)).await, StatusCode::OK).await["unread"].as_i64();
        assert_eq!(unread, Some(0));
        expect(app.post(&format!("/threads/{id}/messages"), Some(&w.provider), &json!({"body": "Yes, through the side door."})).await, StatusCode::CREATED).await;
        app.mail_to("parent@family.example", "You have a new message from the provider").await;
        let family = expect(app.get("/notifications", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(family["total"], 1, "{family}");
    }
}
