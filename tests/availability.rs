//! Searching by free places on dated sessions, and each result's next session with a place left.

#[macro_use]
mod common;

use std::time::{Duration as Wait, Instant};

use chrono::{Duration, NaiveDate, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// England's date `days` from today.
fn day(days: i64) -> NaiveDate {
    (Utc::now() + Duration::days(days))
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
}

fn at(days: i64, time: &str) -> String {
    format!("{}T{time}:00", day(days))
}

async fn publish(app: &TestApp, provider: &str, service: &Value, starts: &str, ends: &str, places: i64) -> Value {
    let body = json!({"starts_at": starts, "ends_at": ends, "places": places});
    let res = app
        .post(&format!("/services/{}/sessions", service["id"]), Some(provider), &body)
        .await;
    expect(res, StatusCode::CREATED).await["sessions"][0].clone()
}

async fn book(app: &TestApp, w: &World, service: &Value, session: &Value) {
    book_for(app, &w.family, &w.holder, service, session).await;
}

async fn book_for(app: &TestApp, family: &str, holder: &Value, service: &Value, session: &Value) -> Value {
    let body = json!({
        "budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"],
        "price_option_id": option_id(service, 0), "session_ids": [session["id"]],
    });
    expect(app.post("/bookings", Some(family), &body).await, StatusCode::CREATED).await
}

fn backend_is_sqlite() -> bool {
    BACKEND.try_with(|b| *b == Backend::Sqlite).unwrap_or(true)
}

/// Move every open offer's deadline (and its job) a day into the past, as if the window passed.
fn backdate_offers(db: &localoffer::db::Db) {
    let sql = if backend_is_sqlite() {
        [
            "UPDATE waitlist_entries SET offer_expires_at = datetime(offer_expires_at, '-25 hours') WHERE status = 'offered'",
            "UPDATE jobs SET run_at = datetime(run_at, '-25 hours') WHERE done_at IS NULL",
        ]
    } else {
        [
            "UPDATE waitlist_entries SET offer_expires_at = offer_expires_at - INTERVAL '25 hours' WHERE status = 'offered'",
            "UPDATE jobs SET run_at = run_at - INTERVAL '25 hours' WHERE done_at IS NULL",
        ]
    };
    db.write(move |conn| {
        use diesel::RunQueryDsl;
        for q in sql {
            diesel::sql_query(q).execute(conn)?;
        }
        Ok(())
    })
    .unwrap();
}

async fn search(app: &TestApp, query: &str) -> Value {
    expect(app.get(&format!("/search?{query}"), None).await, StatusCode::OK).await
}

fn names(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn hit<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {v}"))
}

/// Poll a search until `check` holds: the index follows places within a few seconds at most.
async fn eventually(app: &TestApp, query: &str, check: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let v = search(app, query).await;
        if check(&v) {
            return v;
        }
        assert!(started.elapsed() < Wait::from_secs(5), "not fresh within 5 s: {v}");
        tokio::time::sleep(Wait::from_millis(50)).await;
    }
}

fn named(name: &str) -> Value {
    let mut s = saturday_club();
    s["name"] = json!(name);
    s
}

both_backends! {
    #[tokio::test]
    async fn search_finds_services_with_a_free_place_in_the_range_and_follows_bookings() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let club = &w.service;
        let full = app.service(&w.provider, &named("Full Club")).await;
        app.service(&w.provider, &named("Drop-in Club")).await;
        // The Full Club's only session in the range is booked full; the Drop-in Club has no sessions.
        let only = publish(&app, &w.provider, &full, &at(12, "10:00"), &at(12, "15:00"), 1).await;
        book(&app, &w, &full, &only).await;
        // The Saturday Club: one place on day 10, five on day 17 (and one later, outside the range).
        // Published last, so once search shows them it has followed every change before.
        let first = publish(&app, &w.provider, club, &at(10, "10:00"), &at(10, "15:00"), 1).await;
        let second = publish(&app, &w.provider, club, &at(17, "10:00"), &at(17, "15:00"), 5).await;
        publish(&app, &w.provider, club, &at(40, "10:00"), &at(40, "15:00"), 5).await;

        let range = format!("available_from={}&available_to={}", day(5), day(20));
        let found = eventually(&app, &range, |v| names(v) == ["Saturday Club"]).await;
        assert_eq!(found["total"], 1);
        // Either end alone: from a day on, or from today to a day.
        let later = eventually(&app, &format!("available_from={}", day(30)), |v| v["total"] == 1).await;
        assert_eq!(names(&later), ["Saturday Club"]);
        assert_eq!(search(&app, &format!("available_to={}", day(9))).await["total"], 0);
        assert_eq!(search(&app, &format!("available_to={}", day(11))).await["total"], 1);

        // Without the filter every service is found; next_session is always there, null when none.
        let all = search(&app, "").await;
        assert_eq!(names(&all), ["Drop-in Club", "Full Club", "Saturday Club"]);
        assert!(all["results"].as_array().unwrap().iter().all(|r| r.as_object().unwrap().contains_key("next_session")));
        assert_eq!(hit(&all, "Drop-in Club")["next_session"], Value::Null);
        assert_eq!(hit(&all, "Full Club")["next_session"], Value::Null);
        let next = &hit(&all, "Saturday Club")["next_session"];
        assert_eq!(next["starts_at"], first["starts_at"], "{next}");
        assert_eq!(next["places_left"], 1);
        assert!(next["starts_at"].as_str().unwrap().contains("T10:00:00"), "{next}");

        // Its first session fills up: the next session moves on at once, and the day's filter follows.
        let that_day = format!("available_from={}&available_to={}", day(10), day(10));
        eventually(&app, &that_day, |v| v["total"] == 1).await;
        book(&app, &w, club, &first).await;
        let moved = search(&app, "").await;
        let next = &hit(&moved, "Saturday Club")["next_session"];
        assert_eq!(next["starts_at"], second["starts_at"], "{next}");
        assert_eq!(next["places_left"], 5);
        eventually(&app, &that_day, |v| v["total"] == 0).await;
        assert_eq!(search(&app, &range).await["total"], 1);

        // The family cancels: the place is free again and search finds the day once more.
        let bookings = expect(app.get("/bookings", Some(&w.family)).await, StatusCode::OK).await;
        let on_first = bookings["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["sessions"][0]["session_id"] == first["id"])
            .cloned()
            .unwrap();
        let res = app.post(&format!("/bookings/{}/cancel", on_first["id"]), Some(&w.family), &json!({})).await;
        expect(res, StatusCode::OK).await;
        eventually(&app, &that_day, |v| v["total"] == 1).await;

        // The provider cancels its session: gone from the day, and from next_session.
        let res = app.post(&format!("/sessions/{}/cancel", first["id"]), Some(&w.provider), &json!({})).await;
        expect(res, StatusCode::OK).await;
        eventually(&app, &that_day, |v| v["total"] == 0).await;
        assert_eq!(hit(&search(&app, "").await, "Saturday Club")["next_session"]["starts_at"], second["starts_at"]);
    }

    #[tokio::test]
    async fn a_session_counts_on_its_day_in_england_across_the_clock_change() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        // 00:30 in England on 10 April 2027 (summer time) is 23:30 UTC on the 9th.
        let s = publish(&app, &w.provider, &w.service, "2027-04-10T00:30:00", "2027-04-10T02:00:00", 3).await;
        assert_eq!(s["starts_at"], "2027-04-10T00:30:00+01:00");
        let tenth = "available_from=2027-04-10&available_to=2027-04-10";
        eventually(&app, tenth, |v| v["total"] == 1).await;
        assert_eq!(search(&app, "available_from=2027-04-09&available_to=2027-04-09").await["total"], 0);
        let found = search(&app, tenth).await;
        assert_eq!(found["results"][0]["next_session"]["starts_at"], "2027-04-10T00:30:00+01:00");
        assert_eq!(found["results"][0]["next_session"]["places_left"], 3);
    }

    #[tokio::test]
    async fn the_search_page_takes_dates_and_shows_each_results_next_session() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        publish(&app, &w.provider, &w.service, "2027-01-09T10:00:00", "2027-01-09T15:00:00", 3).await;
        let query = "available_from=2027-01-09&available_to=2027-01-10";
        eventually(&app, query, |v| v["total"] == 1).await;
        let res = app.client.get(format!("{}/search?{query}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("Next session: Saturday 9 January, 10:00 – 3 places left"), "{html}");
        assert!(html.contains(r#"id="available_from" name="available_from" type="date" value="2027-01-09""#), "{html}");
        assert!(html.contains(r#"value="2027-01-10""#), "{html}");
        assert!(html.contains(r#"<label class="label" for="available_to">"#), "{html}");
        // A bad date is the form again with the problem named, linked from the summary.
        let res = app.client.get(format!("{}/search?available_from=9th", app.base)).send().await.unwrap();
        let html = res.text().await.unwrap();
        assert!(html.contains("There is a problem") && html.contains(r##"href="#available_from""##), "{html}");
        assert!(html.contains("The first date must be a date such as 2027-01-09"), "{html}");
    }

    #[tokio::test]
    async fn a_place_a_waiting_list_offer_gives_back_is_found_again() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let holder = app.holder(&w.council, &sam("EHC-0002", "second@family.example", "1000.00")).await;
        let second = app.login("second@family.example", PASSWORD).await;
        let s = publish(&app, &w.provider, &w.service, &at(9, "10:00"), &at(9, "15:00"), 1).await;
        let that_day = format!("available_from={}&available_to={}", day(9), day(9));
        let join = json!({
            "budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"],
            "price_option_id": option_id(&w.service, 0),
        });
        let cancel = |booking: Value| {
            let (app, family) = (&app, &w.family);
            async move {
                let res = app.post(&format!("/bookings/{}/cancel", booking["id"]), Some(family), &json!({})).await;
                expect(res, StatusCode::OK).await;
            }
        };
        for how in ["expires", "declined"] {
            // The first family takes the only place; the second waits; the first cancels, and the
            // place is held for the second family's offer.
            eventually(&app, &that_day, |v| v["total"] == 1).await;
            let booked = book_for(&app, &w.family, &w.holder, &w.service, &s).await;
            eventually(&app, &that_day, |v| v["total"] == 0).await;
            let res = app.post(&format!("/sessions/{}/waitlist", s["id"]), Some(&second), &join).await;
            let entry = expect(res, StatusCode::CREATED).await;
            cancel(booked).await;
            let offered = expect(app.get("/waitlist", Some(&second)).await, StatusCode::OK).await;
            let offered = offered["entries"].as_array().unwrap().iter().find(|e| e["id"] == entry["id"]).cloned().unwrap();
            assert_eq!(offered["status"], "offered", "{offered}");
            assert_eq!(search(&app, &that_day).await["total"], 0, "the offer holds the place");
            // The offer ends ({how}) with nobody else waiting: the place is free, and search finds it.
            if how == "expires" {
                backdate_offers(&app.db());
            } else {
                let res = app.post(&format!("/waitlist/{}/decline", entry["id"]), Some(&second), &json!({})).await;
                expect(res, StatusCode::OK).await;
            }
            let found = eventually(&app, &that_day, |v| v["total"] == 1).await;
            assert_eq!(found["results"][0]["next_session"]["places_left"], 1, "{how}");
        }
    }
}
