//! Dated sessions with places: publishing, booking chosen sessions and series, places and money
//! taken together, cancellations at the notice boundary, waiting lists and their offers, registers.

#[macro_use]
mod common;

use chrono::{Duration, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// England's wall-clock time `minutes` from now, as the API takes it.
fn london_in(minutes: i64) -> String {
    let at = Utc::now() + Duration::minutes(minutes);
    at.with_timezone(&chrono_tz::Europe::London)
        .format("%Y-%m-%dT%H:%M:00")
        .to_string()
}

async fn publish(app: &TestApp, provider: &str, service: &Value, body: Value) -> Vec<Value> {
    let res = app
        .post(&format!("/services/{}/sessions", service["id"]), Some(provider), &body)
        .await;
    expect(res, StatusCode::CREATED).await["sessions"]
        .as_array()
        .expect("sessions")
        .clone()
}

async fn one(app: &TestApp, provider: &str, service: &Value, starts: String, ends: String, places: i64) -> Value {
    publish(
        app,
        provider,
        service,
        json!({"starts_at": starts, "ends_at": ends, "places": places}),
    )
    .await
    .remove(0)
}

fn booking(holder: &Value, option: i64, sessions: &[&Value]) -> Value {
    json!({
        "budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"],
        "price_option_id": option,
        "session_ids": sessions.iter().map(|s| s["id"].clone()).collect::<Vec<_>>(),
    })
}

async fn session(app: &TestApp, service: &Value, id: &Value) -> Value {
    let list = expect(
        app.get(&format!("/services/{}/sessions", service["id"]), None).await,
        StatusCode::OK,
    )
    .await;
    list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == *id)
        .cloned()
        .expect("the session is listed")
}

fn verify_clean(app: &TestApp) -> Value {
    let out = app.cli(&["verify"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(
        out.status.success(),
        "verify: {report} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

/// A family with its own plan of `amount` on the council's books.
async fn family(app: &TestApp, council: &str, n: usize, amount: &str) -> (String, Value) {
    let email = format!("family{n}@families.example");
    let holder = app.holder(council, &sam(&format!("EHC-F{n:03}"), &email, amount)).await;
    (app.login(&email, PASSWORD).await, holder)
}

both_backends! {
    #[tokio::test]
    async fn a_provider_publishes_one_off_sessions_and_weekly_series_on_englands_clock() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        // One session; places default to the service's capacity (12).
        let s = publish(&app, &w.provider, &w.service, json!({"starts_at": day_at(10, "10:00"), "ends_at": day_at(10, "15:00")})).await;
        assert_eq!(s.len(), 1);
        assert_eq!(s[0]["places"], 12);
        assert_eq!(s[0]["places_left"], 12);
        assert_eq!(s[0]["status"], "scheduled");
        assert!(s[0]["starts_at"].as_str().unwrap().contains("T10:00:00"), "{}", s[0]);
        // A weekly series across the clock change keeps 10:00 on England's clock.
        let series = publish(&app, &w.provider, &w.service, json!({
            "weekly": {"days": ["saturday"], "from": "2027-03-13", "until": "2027-04-10", "starts": "10:00", "ends": "15:00", "except": ["2027-03-20"]},
            "places": 8
        })).await;
        let starts: Vec<&str> = series.iter().map(|s| s["starts_at"].as_str().unwrap()).collect();
        assert_eq!(starts, [
            "2027-03-13T10:00:00+00:00", "2027-03-27T10:00:00+00:00",
            "2027-04-03T10:00:00+01:00", "2027-04-10T10:00:00+01:00",
        ]);
        assert!(series.iter().all(|s| s["places"] == 8 && s["series_id"] == series[0]["series_id"]));
        // Listing by dates (England's days, both included).
        let march = expect(app.get(&format!("/services/{}/sessions?from=2027-03-01&to=2027-03-31", w.service["id"]), None).await, StatusCode::OK).await;
        assert_eq!(march["sessions"].as_array().unwrap().len(), 2);
        // Another provider may not add sessions to this service; a family may not either.
        let (_, other) = app.provider("Other Club", "staff@other.example").await;
        let body = json!({"starts_at": day_at(11, "10:00"), "ends_at": day_at(11, "12:00")});
        expect_error(app.post(&format!("/services/{}/sessions", w.service["id"]), Some(&other), &body).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        expect_error(app.post(&format!("/services/{}/sessions", w.service["id"]), Some(&w.family), &body).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        // Bad times are named: the past, backwards, a time the clocks skip, neither kind given.
        for (body, field) in [
            (json!({"starts_at": "2020-01-01T10:00:00", "ends_at": "2020-01-01T11:00:00"}), "starts_at"),
            (json!({"starts_at": day_at(5, "12:00"), "ends_at": day_at(5, "11:00")}), "ends_at"),
            (json!({"starts_at": "2027-03-28T01:30:00", "ends_at": "2027-03-28T03:00:00"}), "starts_at"),
            (json!({"places": 3}), "weekly"),
            (json!({"starts_at": day_at(5, "10:00"), "ends_at": day_at(5, "11:00"), "places": 0}), "places"),
            (json!({"weekly": {"days": [], "from": "2027-01-01", "until": "2027-02-01", "starts": "10:00", "ends": "11:00"}}), "weekly.days"),
        ] {
            expect_error(app.post(&format!("/services/{}/sessions", w.service["id"]), Some(&w.provider), &body).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(field)).await;
        }
        // Nothing was half-written.
        let all = expect(app.get(&format!("/services/{}/sessions", w.service["id"]), None).await, StatusCode::OK).await;
        assert_eq!(all["sessions"].as_array().unwrap().len(), 5);
    }

    #[tokio::test]
    async fn a_family_books_chosen_sessions_and_money_and_places_move_together() {
        let app = spawn().await;
        let w = world(&app, "200.00").await;
        let a = one(&app, &w.provider, &w.service, day_at(7, "10:00"), day_at(7, "15:00"), 3).await;
        let b = one(&app, &w.provider, &w.service, day_at(14, "10:00"), day_at(14, "15:00"), 3).await;
        let option = option_id(&w.service, 0);
        let res = app.post("/bookings", Some(&w.family), &booking(&w.holder, option, &[&a, &b])).await;
        let booked = expect(res, StatusCode::CREATED).await;
        assert_eq!(booked["total"], "90.00");
        assert_eq!(booked["remaining"], "110.00");
        assert_eq!(booked["quantity"], 2);
        let reference = booked["reference"].as_str().unwrap();
        assert!(reference.len() == 9 && reference.as_bytes()[4] == b'-', "{reference}");
        assert_eq!(booked["sessions"].as_array().unwrap().len(), 2);
        assert!(booked["sessions"].as_array().unwrap().iter().all(|s| s["status"] == "booked" && s["price"] == "45.00"));
        assert_eq!(session(&app, &w.service, &a["id"]).await["places_left"], 2);
        // The same session again for the same child is refused, naming it.
        let again = app.post("/bookings", Some(&w.family), &booking(&w.holder, option, &[&b])).await;
        expect_error(again, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("session_ids[0]")).await;
        // A service with dated sessions is not booked by quantity.
        expect_error(app.book(&w.family, &w.holder, 0, option, 1).await, StatusCode::CONFLICT, "book_sessions", Some("quantity")).await;
        // Too little money: no places are taken either.
        let c = one(&app, &w.provider, &w.service, day_at(21, "10:00"), day_at(21, "15:00"), 3).await;
        let d = one(&app, &w.provider, &w.service, day_at(28, "10:00"), day_at(28, "15:00"), 3).await;
        let e = one(&app, &w.provider, &w.service, day_at(35, "10:00"), day_at(35, "15:00"), 3).await;
        expect_error(app.post("/bookings", Some(&w.family), &booking(&w.holder, option, &[&c, &d, &e])).await, StatusCode::CONFLICT, "insufficient_funds", None).await;
        for s in [&c, &d, &e] {
            assert_eq!(session(&app, &w.service, &s["id"]).await["places_left"], 3);
        }
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "110.00");
        let report = verify_clean(&app);
        assert_eq!(report["sessions_checked"], 5);
        // The booking lists its sessions for the family and the provider.
        let seen = expect(app.get(&format!("/bookings/{}", booked["id"]), Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(seen["sessions"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn an_hourly_option_costs_each_session_by_its_length() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let mut pa = saturday_club();
        pa["name"] = json!("Personal assistant");
        pa["price_options"] = json!([{"label": "Per hour", "unit": "hour", "price": "18.00"}]);
        let pa = app.service(&w.provider, &pa).await;
        // 2h50 rounds to 2h45; 1h40 rounds to 1h45.
        let long = one(&app, &w.provider, &pa, day_at(9, "10:00"), day_at(9, "12:50"), 1).await;
        let short = one(&app, &w.provider, &pa, day_at(10, "10:00"), day_at(10, "11:40"), 1).await;
        let booked = expect(app.post("/bookings", Some(&w.family), &booking(&w.holder, option_id(&pa, 0), &[&long, &short])).await, StatusCode::CREATED).await;
        let prices: Vec<&str> = booked["sessions"].as_array().unwrap().iter().map(|s| s["price"].as_str().unwrap()).collect();
        assert_eq!(prices, ["49.50", "31.50"]);
        assert_eq!(booked["total"], "81.00");
        verify_clean(&app);
    }

    #[tokio::test]
    async fn a_series_is_booked_whole_or_not_at_all_and_names_each_full_session() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let series = publish(&app, &w.provider, &w.service, json!({
            "weekly": {"days": ["saturday"], "from": &day_at(1, "10:00")[..10], "until": &day_at(50, "10:00")[..10], "starts": "10:00", "ends": "15:00"},
            "places": 2
        })).await;
        assert!(series.len() >= 6, "{series:?}");
        let option = option_id(&w.service, 0);
        // Another family takes both places on two of the Saturdays.
        let (other, other_holder) = family(&app, &w.council, 1, "1000.00").await;
        let (third, third_holder) = family(&app, &w.council, 2, "1000.00").await;
        for (token, holder) in [(&other, &other_holder), (&third, &third_holder)] {
            expect(app.post("/bookings", Some(token), &booking(holder, option, &[&series[1], &series[3]])).await, StatusCode::CREATED).await;
        }
        let whole = json!({"budget_holder_id": w.holder["id"], "allocation_id": w.holder["allocations"][0]["id"], "price_option_id": option, "series_id": series[0]["series_id"]});
        let refused = expect_error(app.post("/bookings", Some(&w.family), &whole).await, StatusCode::CONFLICT, "session_full", Some("session_ids[1]")).await;
        let named: Vec<&str> = refused["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(named, ["session_ids[1]", "session_ids[3]"]);
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "1000.00");
        assert_eq!(session(&app, &w.service, &series[0]["id"]).await["places_left"], 2, "nothing taken");
        // One of them frees its places: the series books, with a retried request answered once.
        let theirs = expect(app.get("/bookings", Some(&other)).await, StatusCode::OK).await["bookings"][0]["id"].clone();
        expect(app.post(&format!("/bookings/{theirs}/cancel"), Some(&other), &json!({})).await, StatusCode::OK).await;
        let send = || app.client.post(app.url("/bookings")).bearer_auth(&w.family).header("Idempotency-Key", "series-1").json(&whole).send();
        let first = expect(send().await.unwrap(), StatusCode::CREATED).await;
        let second = expect(send().await.unwrap(), StatusCode::CREATED).await;
        assert_eq!(first["id"], second["id"]);
        assert_eq!(first["sessions"].as_array().unwrap().len(), series.len());
        let total = 45 * series.len() as i64;
        assert_eq!(first["total"], format!("{total}.00"));
        assert_eq!(expect(app.get("/bookings", Some(&w.family)).await, StatusCode::OK).await["bookings"].as_array().unwrap().len(), 1);
        verify_clean(&app);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn fifty_families_racing_for_the_last_five_places_get_exactly_five() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let s = one(&app, &w.provider, &w.service, day_at(8, "10:00"), day_at(8, "15:00"), 12).await;
        let option = option_id(&w.service, 0);
        // Seven of the twelve places go first.
        for n in 0..7 {
            let (token, holder) = family(&app, &w.council, 100 + n, "100.00").await;
            expect(app.post("/bookings", Some(&token), &booking(&holder, option, &[&s])).await, StatusCode::CREATED).await;
        }
        let mut racers = Vec::new();
        for n in 0..50 {
            racers.push(family(&app, &w.council, n, "100.00").await);
        }
        let mut tasks = Vec::new();
        for (token, holder) in &racers {
            let req = app.client.post(app.url("/bookings")).bearer_auth(token).json(&booking(holder, option, &[&s]));
            tasks.push(tokio::spawn(async move {
                let res = req.send().await.unwrap();
                let status = res.status();
                (status, res.json::<Value>().await.unwrap())
            }));
        }
        let (mut booked, mut full) = (0, 0);
        for t in tasks {
            let (status, body) = t.await.unwrap();
            match status {
                StatusCode::CREATED => booked += 1,
                StatusCode::CONFLICT => {
                    assert_eq!(body["error"]["code"], "session_full", "{body}");
                    full += 1;
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!((booked, full), (5, 45));
        assert_eq!(session(&app, &w.service, &s["id"]).await["places_left"], 0);
        // The 45 who missed out have every penny.
        let mut untouched = 0;
        for (token, holder) in &racers {
            match remaining(&app, token, holder).await.as_str() {
                "100.00" => untouched += 1,
                "55.00" => {}
                other => panic!("a racer has {other} left"),
            }
        }
        assert_eq!(untouched, 45);
        verify_clean(&app);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn racing_series_bookings_never_split_a_series() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let series = publish(&app, &w.provider, &w.service, json!({
            "weekly": {"days": ["wednesday"], "from": &day_at(1, "10:00")[..10], "until": &day_at(36, "10:00")[..10], "starts": "16:00", "ends": "18:00"},
            "places": 1
        })).await;
        let option = option_id(&w.service, 0);
        let mut racers = Vec::new();
        for n in 0..8 {
            racers.push(family(&app, &w.council, n, "1000.00").await);
        }
        let mut tasks = Vec::new();
        for (token, holder) in &racers {
            let body = json!({"budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"], "price_option_id": option, "series_id": series[0]["series_id"]});
            let req = app.client.post(app.url("/bookings")).bearer_auth(token).json(&body);
            tasks.push(tokio::spawn(async move { req.send().await.unwrap().status() }));
        }
        let mut created = 0;
        for t in tasks {
            match t.await.unwrap() {
                StatusCode::CREATED => created += 1,
                StatusCode::CONFLICT => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(created, 1, "one family gets the whole series, nobody a part of it");
        for s in &series {
            assert_eq!(session(&app, &w.service, &s["id"]).await["places_left"], 0);
        }
        verify_clean(&app);
    }

    #[tokio::test]
    async fn cancelling_is_refunded_before_the_notice_and_charged_after_it() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        // The provider's notice is 48 hours (the default) and late cancellations are charged.
        let early = one(&app, &w.provider, &w.service, london_in(48 * 60 + 2), london_in(48 * 60 + 120), 5).await;
        let late = one(&app, &w.provider, &w.service, london_in(48 * 60 - 2), london_in(48 * 60 + 120), 5).await;
        let later = one(&app, &w.provider, &w.service, day_at(20, "10:00"), day_at(20, "15:00"), 5).await;
        let option = option_id(&w.service, 0);
        let booked = expect(app.post("/bookings", Some(&w.family), &booking(&w.holder, option, &[&early, &late, &later])).await, StatusCode::CREATED).await;
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "365.00");
        let path = format!("/bookings/{}/cancel", booked["id"]);
        // One minute inside the notice: refunded.
        let done = expect(app.post(&path, Some(&w.family), &json!({"session_ids": [early["id"]]})).await, StatusCode::OK).await;
        assert_eq!(done["refunded"].as_array().unwrap().len(), 1);
        assert!(done["charged"].as_array().unwrap().is_empty());
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "410.00");
        // One minute past it: charged, the money stays with the provider, the place is freed.
        let done = expect(app.post(&path, Some(&w.family), &json!({"session_ids": [late["id"]]})).await, StatusCode::OK).await;
        assert_eq!(done["charged"][0]["session_id"], late["id"]);
        assert_eq!(done["charged"][0]["status"], "charged");
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "410.00");
        assert_eq!(session(&app, &w.service, &late["id"]).await["places_left"], 5);
        // A provider whose policy refunds late cancellations refunds them.
        let mut kind = saturday_club();
        kind["name"] = json!("Kind Club");
        kind["late_cancellation"] = json!("refunded");
        let kind = app.service(&w.provider, &kind).await;
        assert_eq!(kind["late_cancellation"], "refunded");
        let soon = one(&app, &w.provider, &kind, london_in(60), london_in(120), 5).await;
        let b2 = expect(app.post("/bookings", Some(&w.family), &booking(&w.holder, option_id(&kind, 0), &[&soon])).await, StatusCode::CREATED).await;
        let done = expect(app.post(&format!("/bookings/{}/cancel", b2["id"]), Some(&w.family), &json!({})).await, StatusCode::OK).await;
        assert_eq!(done["refunded"].as_array().unwrap().len(), 1);
        assert_eq!(done["status"], "cancelled");
        // Cancelling the rest (no body): the last session, refunded; the booking is cancelled.
        let done = expect(app.client.post(app.url(&path)).bearer_auth(&w.family).send().await.unwrap(), StatusCode::OK).await;
        assert_eq!(done["refunded"][0]["session_id"], later["id"]);
        assert_eq!(done["status"], "cancelled");
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "455.00", "only the late one is charged");
        // Nothing is left to cancel; the provider cannot cancel for the family.
        expect_error(app.post(&path, Some(&w.family), &json!({})).await, StatusCode::CONFLICT, "invalid_transition", None).await;
        expect_error(app.post(&path, Some(&w.provider), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        verify_clean(&app);
    }

    #[tokio::test]
    async fn a_freed_place_is_offered_to_the_first_waiting_who_accepts_or_passes_it_on() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let s = one(&app, &w.provider, &w.service, day_at(12, "10:00"), day_at(12, "15:00"), 1).await;
        let option = option_id(&w.service, 0);
        let taken = expect(app.post("/bookings", Some(&w.family), &booking(&w.holder, option, &[&s])).await, StatusCode::CREATED).await;
        let (first, first_holder) = family(&app, &w.council, 1, "500.00").await;
        let (second, second_holder) = family(&app, &w.council, 2, "500.00").await;
        let join = |h: &Value| json!({"budget_holder_id": h["id"], "allocation_id": h["allocations"][0]["id"], "price_option_id": option});
        let path = format!("/sessions/{}/waitlist", s["id"]);
        let e1 = expect(app.post(&path, Some(&first), &join(&first_holder)).await, StatusCode::CREATED).await;
        let e2 = expect(app.post(&path, Some(&second), &join(&second_holder)).await, StatusCode::CREATED).await;
        assert_eq!(e1["status"], "waiting");
        expect_error(app.post(&path, Some(&first), &join(&first_holder)).await, StatusCode::CONFLICT, "already_waiting", None).await;
        // A session with places left is booked, not waited for.
        let open = one(&app, &w.provider, &w.service, day_at(13, "10:00"), day_at(13, "15:00"), 4).await;
        expect_error(app.post(&format!("/sessions/{}/waitlist", open["id"]), Some(&first), &join(&first_holder)).await, StatusCode::CONFLICT, "places_left", None).await;
        // The place frees: the first waiting gets an offer holding it; nobody else can book it.
        expect(app.post(&format!("/bookings/{}/cancel", taken["id"]), Some(&w.family), &json!({})).await, StatusCode::OK).await;
        let mine = expect(app.get("/waitlist", Some(&first)).await, StatusCode::OK).await;
        assert_eq!(mine["entries"][0]["status"], "offered");
        assert!(mine["entries"][0]["offer_expires_at"].as_str().is_some());
        assert_eq!(session(&app, &w.service, &s["id"]).await["places_left"], 0);
        let (third, third_holder) = family(&app, &w.council, 3, "500.00").await;
        expect_error(app.post("/bookings", Some(&third), &booking(&third_holder, option, &[&s])).await, StatusCode::CONFLICT, "session_full", None).await;
        // Others cannot answer it; the second one is still waiting.
        expect_error(app.post(&format!("/waitlist/{}/accept", e1["id"]), Some(&second), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        expect_error(app.post(&format!("/waitlist/{}/accept", e2["id"]), Some(&second), &json!({})).await, StatusCode::CONFLICT, "no_open_offer", None).await;
        // Turned down: it passes to the next; accepted: it is booked, the money taken then.
        expect(app.post(&format!("/waitlist/{}/decline", e1["id"]), Some(&first), &json!({})).await, StatusCode::OK).await;
        let theirs = expect(app.get("/waitlist", Some(&second)).await, StatusCode::OK).await;
        assert_eq!(theirs["entries"][0]["status"], "offered");
        let accepted = expect(app.post(&format!("/waitlist/{}/accept", e2["id"]), Some(&second), &json!({})).await, StatusCode::OK).await;
        assert_eq!(accepted["status"], "accepted");
        assert_eq!(accepted["booking"]["sessions"][0]["session_id"], s["id"]);
        assert_eq!(remaining(&app, &second, &second_holder).await, "455.00");
        assert_eq!(session(&app, &w.service, &s["id"]).await["places_left"], 0);
        verify_clean(&app);
    }

    #[tokio::test]
    async fn an_offer_expires_on_time_through_the_job_runner() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let s = one(&app, &w.provider, &w.service, day_at(12, "10:00"), day_at(12, "15:00"), 1).await;
        let option = option_id(&w.service, 0);
        let taken = expect(app.post("/bookings", Some(&w.family), &booking(&w.holder, option, &[&s])).await, StatusCode::CREATED).await;
        let (first, first_holder) = family(&app, &w.council, 1, "500.00").await;
        let (second, second_holder) = family(&app, &w.council, 2, "500.00").await;
        for (token, holder) in [(&first, &first_holder), (&second, &second_holder)] {
            let body = json!({"budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"], "price_option_id": option});
            expect(app.post(&format!("/sessions/{}/waitlist", s["id"]), Some(token), &body).await, StatusCode::CREATED).await;
        }
        expect(app.post(&format!("/bookings/{}/cancel", taken["id"]), Some(&w.family), &json!({})).await, StatusCode::OK).await;
        // Its 24 hours pass: the offer's deadline (and its job) are moved back, as time would.
        let db = app.db();
        backdate_offers(&db);
        let mut passed = false;
        for _ in 0..60 {
            let theirs = expect(app.get("/waitlist", Some(&second)).await, StatusCode::OK).await;
            if theirs["entries"][0]["status"] == "offered" {
                passed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(passed, "the next family was offered the place");
        let mine = expect(app.get("/waitlist", Some(&first)).await, StatusCode::OK).await;
        assert_eq!(mine["entries"][0]["status"], "expired");
        expect_error(app.post(&format!("/waitlist/{}/accept", mine["entries"][0]["id"]), Some(&first), &json!({})).await, StatusCode::CONFLICT, "no_open_offer", None).await;
        verify_clean(&app);
    }

    #[tokio::test]
    async fn the_provider_keeps_a_register_and_marks_who_came() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let s = one(&app, &w.provider, &w.service, day_at(3, "10:00"), day_at(3, "15:00"), 6).await;
        let option = option_id(&w.service, 0);
        let mut body = booking(&w.holder, option, &[&s]);
        body["notes"] = json!("Sam has an epipen; he finds loud rooms hard.");
        body["contact"] = json!("Mum on 07700 900123");
        let b1 = expect(app.post("/bookings", Some(&w.family), &body).await, StatusCode::CREATED).await;
        let (other, other_holder) = family(&app, &w.council, 1, "500.00").await;
        let b2 = expect(app.post("/bookings", Some(&other), &booking(&other_holder, option, &[&s])).await, StatusCode::CREATED).await;
        let path = format!("/sessions/{}/register", s["id"]);
        let register = expect(app.get(&path, Some(&w.provider)).await, StatusCode::OK).await;
        let lines = register["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 2);
        let sam = lines.iter().find(|l| l["booking_id"] == b1["id"]).unwrap();
        assert_eq!(sam["first_name"], "Sam");
        assert!(sam["age"].as_i64().unwrap() >= 12);
        assert_eq!(sam["notes"], "Sam has an epipen; he finds loud rooms hard.");
        assert_eq!(sam["contact"], "Mum on 07700 900123");
        let theirs = lines.iter().find(|l| l["booking_id"] == b2["id"]).unwrap();
        assert_eq!(theirs["contact"], "family1@families.example", "no contact given: the family's email");
        // Nobody else sees it.
        let (_, stranger) = app.provider("Other Club", "staff@other.example").await;
        expect_error(app.get(&path, Some(&stranger)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        expect_error(app.get(&path, Some(&w.family)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        // Before it starts, nobody can be marked.
        let marks = json!({"attendance": [{"booking_id": b1["id"], "status": "attended"}, {"booking_id": b2["id"], "status": "absent"}]});
        expect_error(app.post(&path, Some(&w.provider), &marks).await, StatusCode::CONFLICT, "session_not_started", Some("attendance")).await;
        // The session happens (moved into the past, as time would).
        run_session(&app.db(), s["id"].as_i64().unwrap());
        let marked = expect(app.post(&path, Some(&w.provider), &marks).await, StatusCode::OK).await;
        let status = |b: &Value| marked["lines"].as_array().unwrap().iter().find(|l| l["booking_id"] == b["id"]).unwrap()["status"].clone();
        assert_eq!(status(&b1), "attended");
        assert_eq!(status(&b2), "absent_charged", "the default policy charges absences");
        assert_eq!(remaining(&app, &other, &other_holder).await, "455.00");
        // A past session cannot be booked.
        let (late, late_holder) = family(&app, &w.council, 2, "500.00").await;
        expect_error(app.post("/bookings", Some(&late), &booking(&late_holder, option, &[&s])).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("session_ids[0]")).await;
        verify_clean(&app);
    }

    #[tokio::test]
    async fn absences_follow_a_refunding_policy_and_a_mark_can_be_corrected() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let mut club = saturday_club();
        club["absence"] = json!("refunded");
        let club = app.service(&w.provider, &club).await;
        let s = one(&app, &w.provider, &club, day_at(3, "10:00"), day_at(3, "15:00"), 6).await;
        let b = expect(app.post("/bookings", Some(&w.family), &booking(&w.holder, option_id(&club, 0), &[&s])).await, StatusCode::CREATED).await;
        run_session(&app.db(), s["id"].as_i64().unwrap());
        let path = format!("/sessions/{}/register", s["id"]);
        let mark = |status: &str| json!({"attendance": [{"booking_id": b["id"], "status": status}]});
        expect(app.post(&path, Some(&w.provider), &mark("absent")).await, StatusCode::OK).await;
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "500.00");
        // The child came after all: the money is taken again.
        expect(app.post(&path, Some(&w.provider), &mark("attended")).await, StatusCode::OK).await;
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "455.00");
        let bad = json!({"attendance": [{"booking_id": 999999, "status": "attended"}]});
        expect_error(app.post(&path, Some(&w.provider), &bad).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("attendance[0].booking_id")).await;
        verify_clean(&app);
    }

    #[tokio::test]
    async fn a_provider_cancels_moves_and_resizes_sessions() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let s = one(&app, &w.provider, &w.service, day_at(9, "10:00"), day_at(9, "15:00"), 4).await;
        let option = option_id(&w.service, 0);
        let b = expect(app.post("/bookings", Some(&w.family), &booking(&w.holder, option, &[&s])).await, StatusCode::CREATED).await;
        let (other, other_holder) = family(&app, &w.council, 1, "500.00").await;
        expect(app.post("/bookings", Some(&other), &booking(&other_holder, option, &[&s])).await, StatusCode::CREATED).await;
        let path = format!("/sessions/{}", s["id"]);
        // Never fewer places than those taken; more is fine.
        expect_error(app.put(&path, Some(&w.provider), &json!({"places": 1})).await, StatusCode::CONFLICT, "places_taken", Some("places")).await;
        let resized = expect(app.put(&path, Some(&w.provider), &json!({"places": 2})).await, StatusCode::OK).await;
        assert_eq!(resized["places_left"], 0);
        // Moved: families see the new time and where it was.
        let moved = expect(app.put(&path, Some(&w.provider), &json!({"starts_at": day_at(10, "11:00"), "ends_at": day_at(10, "16:00")})).await, StatusCode::OK).await;
        assert!(moved["starts_at"].as_str().unwrap().contains("T11:00:00"));
        assert!(moved["moved_from"].as_str().unwrap().contains("T10:00:00"));
        let seen = expect(app.get(&format!("/bookings/{}", b["id"]), Some(&w.family)).await, StatusCode::OK).await;
        assert!(seen["sessions"][0]["starts_at"].as_str().unwrap().contains("T11:00:00"));
        // Only its provider changes it.
        expect_error(app.put(&path, Some(&w.family), &json!({"places": 9})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        // Cancelled: every booking on it refunded, and it cannot be booked or marked.
        let cancelled = expect(app.post(&format!("{path}/cancel"), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "500.00");
        assert_eq!(remaining(&app, &other, &other_holder).await, "500.00");
        let seen = expect(app.get(&format!("/bookings/{}", b["id"]), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(seen["sessions"][0]["status"], "session_cancelled");
        assert_eq!(seen["sessions"][0]["session_status"], "cancelled");
        let (third, third_holder) = family(&app, &w.council, 2, "500.00").await;
        expect_error(app.post("/bookings", Some(&third), &booking(&third_holder, option, &[&s])).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("session_ids[0]")).await;
        run_session(&app.db(), s["id"].as_i64().unwrap());
        let marks = json!({"attendance": [{"booking_id": b["id"], "status": "attended"}]});
        expect_error(app.post(&format!("{path}/register"), Some(&w.provider), &marks).await, StatusCode::CONFLICT, "session_cancelled", None).await;
        verify_clean(&app);
    }

    #[tokio::test]
    async fn a_declined_booking_gives_back_every_place_and_penny() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let a = one(&app, &w.provider, &w.service, day_at(9, "10:00"), day_at(9, "15:00"), 1).await;
        let b = one(&app, &w.provider, &w.service, day_at(16, "10:00"), day_at(16, "15:00"), 1).await;
        let booked = expect(app.post("/bookings", Some(&w.family), &booking(&w.holder, option_id(&w.service, 0), &[&a, &b])).await, StatusCode::CREATED).await;
        expect_error(app.post(&format!("/bookings/{}/deliver", booked["id"]), Some(&w.provider), &json!({})).await, StatusCode::CONFLICT, "mark_attendance", None).await;
        let declined = expect(app.post(&format!("/bookings/{}/decline", booked["id"]), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        assert_eq!(declined["status"], "declined");
        assert!(declined["sessions"].as_array().unwrap().iter().all(|s| s["status"] == "refunded"));
        assert_eq!(remaining(&app, &w.family, &w.holder).await, "500.00");
        assert_eq!(session(&app, &w.service, &a["id"]).await["places_left"], 1);
        verify_clean(&app);
    }

    #[tokio::test]
    async fn verify_catches_places_that_do_not_add_up() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let s = one(&app, &w.provider, &w.service, day_at(9, "10:00"), day_at(9, "15:00"), 4).await;
        expect(app.post("/bookings", Some(&w.family), &booking(&w.holder, option_id(&w.service, 0), &[&s])).await, StatusCode::CREATED).await;
        verify_clean(&app);
        app.db().write(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("UPDATE dated_sessions SET places_taken = places_taken + 1").execute(conn)?;
            Ok(())
        }).unwrap();
        let out = app.cli(&["verify"]);
        assert!(!out.status.success());
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(report["problems"][0].as_str().unwrap().starts_with(&format!("session {}", s["id"])), "{report}");
    }
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

/// Move a session into the past (it started two hours ago), as time would.
fn run_session(db: &localoffer::db::Db, id: i64) {
    let sql = if backend_is_sqlite() {
        format!(
            "UPDATE dated_sessions SET starts_at = datetime('now', '-2 hours'), ends_at = datetime('now', '-1 hours') WHERE id = {id}"
        )
    } else {
        format!(
            "UPDATE dated_sessions SET starts_at = (now() at time zone 'utc') - INTERVAL '2 hours', ends_at = (now() at time zone 'utc') - INTERVAL '1 hour' WHERE id = {id}"
        )
    };
    db.write(move |conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query(sql).execute(conn)?;
        Ok(())
    })
    .unwrap();
}
