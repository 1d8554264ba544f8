//! From a family's request to Section J: the council's RAS (versioned, frozen once used), the
//! request and its deadline, the assessment's indicative budget, the panel's decision making the
//! allocations in one transaction, the separation of duties, a review, the direct-payment
//! agreement, what is due, and the report with small numbers withheld.

#[macro_use]
mod common;

use chrono::{Duration, NaiveDate, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn london_day(days: i64) -> NaiveDate {
    (Utc::now() + Duration::days(days))
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
}

/// Two questions (0/5/10 and 0/4/8 points), three bands up to 18 points.
fn short_breaks_ras() -> Value {
    json!({
        "name": "Short breaks RAS", "stream": "social_care",
        "questions": [
            {"id": "healthy", "section": "Being healthy", "text": "How much support does your child need with their health?",
             "answers": [{"label": "None", "points": 0}, {"label": "Some", "points": 5}, {"label": "A lot", "points": 10}]},
            {"id": "carers", "section": "Family and carers", "text": "How much do you need a break from caring?",
             "answers": [{"label": "Rarely", "points": 0}, {"label": "Often", "points": 4}, {"label": "All the time", "points": 8}]}
        ],
        "allocation": {"bands": [
            {"min_points": 0, "max_points": 5, "amount": "0.00"},
            {"min_points": 6, "max_points": 12, "amount": "1200.00"},
            {"min_points": 13, "max_points": 18, "amount": "2400.50"}
        ]}
    })
}

/// A plan being prepared: no allocation yet.
fn new_plan(reference: &str, email: &str) -> Value {
    let mut plan = sam(reference, email, "1.00");
    plan["allocations"] = json!([]);
    plan
}

/// A council (its first officer assesses), a second officer who decides, a third for reviews, and
/// a family whose plan has no allocation yet.
struct Panel {
    assessor: String,
    decider: String,
    reviewer: String,
    family: String,
    holder: Value,
}

async fn officer(app: &TestApp, admin: &str, email: &str, permissions: &[&str]) -> String {
    let body = json!({"email": email, "password": PASSWORD, "permissions": permissions});
    let made = expect(
        app.post("/council/users", Some(admin), &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["permissions"], json!(permissions), "{made}");
    let token = app.login(email, PASSWORD).await;
    app.enrol(&token, email).await;
    token
}

async fn panel(app: &TestApp) -> Panel {
    let assessor = app.council("Merton", "officer@merton.example").await;
    let decider = officer(app, &assessor, "decider@merton.example", &["decide"]).await;
    let reviewer = officer(app, &assessor, "reviewer@merton.example", &["decide"]).await;
    let holder = app
        .holder(&assessor, &new_plan("EHC-0100", "parent@family.example"))
        .await;
    assert_eq!(holder["allocations"], json!([]), "{holder}");
    let family = app.login("parent@family.example", PASSWORD).await;
    Panel {
        assessor,
        decider,
        reviewer,
        family,
        holder,
    }
}

async fn ras(app: &TestApp, token: &str, body: &Value) -> Value {
    expect(app.post("/ras", Some(token), body).await, StatusCode::CREATED).await
}

async fn request(app: &TestApp, token: &str, holder: &Value, streams: &[&str]) -> Value {
    let body = json!({"budget_holder_id": holder["id"], "kind": "new_plan", "streams": streams});
    expect(app.post("/pb-requests", Some(token), &body).await, StatusCode::CREATED).await
}

async fn assess(app: &TestApp, token: &str, request: &Value, ras: &Value, answers: Value) -> Value {
    let body = json!({"ras_id": ras["id"], "answers": answers});
    let path = format!("/pb-requests/{}/assessments", request["id"]);
    expect(app.post(&path, Some(token), &body).await, StatusCode::CREATED).await
}

async fn decide(app: &TestApp, token: &str, request: &Value, body: Value) -> reqwest::Response {
    app.post(&format!("/pb-requests/{}/decision", request["id"]), Some(token), &body)
        .await
}

async fn plan(app: &TestApp, token: &str, holder: &Value) -> Value {
    expect(
        app.get(&format!("/budget-holders/{}", holder["id"]), Some(token)).await,
        StatusCode::OK,
    )
    .await
}

async fn statement(app: &TestApp, token: &str, holder: &Value) -> Vec<Value> {
    let s = expect(
        app.get(
            &format!("/budget-holders/{}/statement?per_page=200", holder["id"]),
            Some(token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    s["entries"].as_array().cloned().unwrap_or_default()
}

both_backends! {
    #[tokio::test]
    async fn a_ras_version_is_frozen_once_used_and_its_assessments_reproduce_after_a_new_version() {
        let app = spawn().await;
        let p = panel(&app).await;
        let v1 = ras(&app, &p.assessor, &short_breaks_ras()).await;
        assert_eq!((v1["version"].as_i64(), v1["max_score"].as_i64()), (Some(1), Some(18)), "{v1}");
        // Unused, a version can still be corrected.
        let mut corrected = short_breaks_ras();
        corrected["allocation"]["bands"][1]["amount"] = json!("1250.00");
        let path = format!("/ras/{}", v1["id"]);
        let v1 = expect(app.put(&path, Some(&p.assessor), &corrected).await, StatusCode::OK).await;
        assert_eq!(v1["allocation"]["bands"][1]["amount"], "1250.00");

        let r = request(&app, &p.family, &p.holder, &["social_care"]).await;
        assert_eq!(r["status"], "received");
        let done = assess(&app, &p.assessor, &r, &v1, json!({"healthy": 1, "carers": 1})).await;
        assert_eq!((done["raw_score"].as_i64(), done["band"].as_i64()), (Some(9), Some(2)), "{done}");
        assert_eq!(done["indicative_amount"], "1250.00");
        assert_eq!(done["band_points"], json!([6, 12]));
        assert_eq!(done["working"][1]["answer"], "Often");
        assert_eq!(done["request"]["status"], "assessed");

        // In use: frozen.
        expect_error(app.put(&path, Some(&p.assessor), &short_breaks_ras()).await, StatusCode::CONFLICT, "ras_in_use", None).await;
        let mut v2 = short_breaks_ras();
        v2["allocation"]["bands"][1]["amount"] = json!("1500.00");
        let v2 = ras(&app, &p.assessor, &v2).await;
        assert_eq!(v2["version"], 2);
        // New assessments take the new version; the old one is refused for them.
        let body = json!({"ras_id": v1["id"], "answers": {"healthy": 1, "carers": 1}});
        let res = app.post(&format!("/pb-requests/{}/assessments", r["id"]), Some(&p.assessor), &body).await;
        expect_error(res, StatusCode::CONFLICT, "ras_superseded", Some("ras_id")).await;
        // The old assessment still says what it said, from the version it used.
        let again = expect(app.get(&format!("/pb-requests/{}", r["id"]), Some(&p.family)).await, StatusCode::OK).await;
        let a = &again["assessments"][0];
        assert_eq!((a["ras_version"].as_i64(), a["indicative_amount"].as_str()), (Some(1), Some("1250.00")), "{again}");
        let old = expect(app.get(&path, Some(&p.assessor)).await, StatusCode::OK).await;
        assert_eq!((old["in_use"].as_bool(), old["superseded"].as_bool()), (Some(true), Some(true)));
        assert_eq!(old["allocation"]["bands"][1]["amount"], "1250.00");
        let list = expect(app.get("/ras?stream=social_care", Some(&p.decider)).await, StatusCode::OK).await;
        assert_eq!((list["total"].as_u64(), list["ras"][0]["version"].as_i64()), (Some(2), Some(2)), "{list}");
        // Only an admin builds a RAS.
        expect_error(app.post("/ras", Some(&p.decider), &short_breaks_ras()).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    }

    #[tokio::test]
    async fn bands_and_an_amount_per_point_with_a_cap_give_exact_money_at_their_edges() {
        let app = spawn().await;
        let p = panel(&app).await;
        let mut per_point = short_breaks_ras();
        per_point["name"] = json!("Per point");
        per_point["allocation"] = json!({"per_point": "33.33", "cap": "500.00"});
        let per_point = ras(&app, &p.assessor, &per_point).await;
        let banded = ras(&app, &p.assessor, &short_breaks_ras()).await;
        let r = request(&app, &p.family, &p.holder, &["social_care"]).await;
        let cases = [
            (&per_point, json!({"healthy": 1, "carers": 1}), 9, "299.97", false),
            (&per_point, json!({"healthy": 2, "carers": 1}), 14, "466.62", false),
            (&per_point, json!({"healthy": 2, "carers": 2}), 18, "500.00", true),
            (&banded, json!({"healthy": 1, "carers": 0}), 5, "0.00", false),
            (&banded, json!({"healthy": 0, "carers": 2}), 8, "1200.00", false),
            (&banded, json!({"healthy": 2, "carers": 1}), 14, "2400.50", false),
        ];
        for (ras, answers, score, amount, capped) in cases {
            let done = assess(&app, &p.assessor, &r, ras, answers.clone()).await;
            assert_eq!(done["raw_score"].as_i64(), Some(score), "{answers}: {done}");
            assert_eq!(done["indicative_amount"], amount, "{answers}: {done}");
            assert_eq!(done["capped"], capped, "{answers}");
        }
        // Every question answered, with a real answer.
        let body = json!({"ras_id": banded["id"], "answers": {"healthy": 2}});
        let res = app.post(&format!("/pb-requests/{}/assessments", r["id"]), Some(&p.assessor), &body).await;
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("answers.carers")).await;
        // A table with a gap is refused, naming the band.
        let mut gap = short_breaks_ras();
        gap["name"] = json!("Gap");
        gap["allocation"]["bands"][1]["min_points"] = json!(7);
        expect_error(app.post("/ras", Some(&p.assessor), &gap).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("allocation.bands[1].min_points")).await;
    }

    #[tokio::test]
    async fn nobody_decides_what_they_assessed_and_a_decision_makes_the_allocations() {
        let app = spawn().await;
        let p = panel(&app).await;
        let v1 = ras(&app, &p.assessor, &short_breaks_ras()).await;
        let r = request(&app, &p.family, &p.holder, &["social_care"]).await;
        // Deciding needs the permission; the family cannot; assessing needs its own.
        expect_error(decide(&app, &p.family, &r, json!({"outcome": "agreed"})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let body = json!({"ras_id": v1["id"], "answers": {"healthy": 2, "carers": 2}});
        let res = app.post(&format!("/pb-requests/{}/assessments", r["id"]), Some(&p.decider), &body).await;
        expect_error(res, StatusCode::FORBIDDEN, "forbidden", None).await;
        assess(&app, &p.assessor, &r, &v1, json!({"healthy": 2, "carers": 2})).await;
        // The assessor holds every permission but did the assessing.
        expect_error(decide(&app, &p.assessor, &r, json!({"outcome": "agreed"})).await, StatusCode::FORBIDDEN, "separation_of_duties", None).await;
        assert_eq!(plan(&app, &p.family, &p.holder).await["allocations"], json!([]));

        let agreed = expect(decide(&app, &p.decider, &r, json!({"outcome": "agreed", "allocations": [{"stream": "social_care", "management": "organised"}]})).await, StatusCode::OK).await;
        assert_eq!(agreed["status"], "agreed", "{agreed}");
        let line = &agreed["decisions"][0]["allocations"][0];
        assert_eq!((line["amount"].as_str(), line["indicative_amount"].as_str()), (Some("2400.50"), Some("2400.50")));
        let held = plan(&app, &p.family, &p.holder).await;
        let a = &held["allocations"][0];
        assert_eq!((a["stream"].as_str(), a["management"].as_str(), a["amount"].as_str()), (Some("social_care"), Some("organised"), Some("2400.50")), "{held}");
        assert_eq!(a["id"], line["allocation_id"]);
        let entries = statement(&app, &p.family, &p.holder).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["amount"], "2400.50");
        // A second decision is refused.
        expect_error(decide(&app, &p.reviewer, &r, json!({"outcome": "refused", "reasons": "x"})).await, StatusCode::CONFLICT, "already_decided", None).await;

        // The family asks for a review; the first decider may not decide it, nor the assessor.
        let path = format!("/pb-requests/{}/review", r["id"]);
        let asked = expect(app.post(&path, Some(&p.family), &json!({"reason": "Caring is harder since the summer"})).await, StatusCode::OK).await;
        assert_eq!(asked["status"], "under_review");
        let varied = json!({"outcome": "varied", "allocations": [{"stream": "social_care", "amount": "3000.00"}], "reasons": "Overnight breaks are needed as well"});
        expect_error(decide(&app, &p.decider, &r, varied.clone()).await, StatusCode::FORBIDDEN, "separation_of_duties", None).await;
        expect_error(decide(&app, &p.assessor, &r, varied.clone()).await, StatusCode::FORBIDDEN, "separation_of_duties", None).await;
        let reviewed = expect(decide(&app, &p.reviewer, &r, json!({"outcome": "varied", "allocations": [{"stream": "social_care", "management": "organised", "amount": "3000.00"}], "reasons": "Overnight breaks are needed as well"})).await, StatusCode::OK).await;
        assert_eq!(reviewed["status"], "varied");
        let stages: Vec<_> = reviewed["decisions"].as_array().unwrap().iter().map(|d| (d["stage"].clone(), d["outcome"].clone())).collect();
        assert_eq!(stages, [(json!("first"), json!("agreed")), (json!("review"), json!("varied"))]);
        // The review changed the allocation it named: no second one, a ledger entry with the reason.
        let held = plan(&app, &p.family, &p.holder).await;
        assert_eq!(held["allocations"].as_array().unwrap().len(), 1, "{held}");
        assert_eq!(held["allocations"][0]["amount"], "3000.00");
        let entries = statement(&app, &p.family, &p.holder).await;
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert!(entries.iter().any(|e| e["amount"] == "599.50" && e["description"].as_str().unwrap().contains("Overnight breaks")), "{entries:?}");
        // Reviewed once.
        expect_error(app.post(&path, Some(&p.family), &json!({"reason": "again"})).await, StatusCode::CONFLICT, "already_reviewed", None).await;
    }

    #[tokio::test]
    async fn a_refused_decision_changes_nothing_and_a_failing_one_leaves_no_trace() {
        let app = spawn().await;
        let p = panel(&app).await;
        let v1 = ras(&app, &p.assessor, &short_breaks_ras()).await;
        // The plan already holds social care as a direct payment.
        let add = json!({"stream": "social_care", "management": "direct_payment", "amount": "100.00"});
        expect(app.post(&format!("/budget-holders/{}/allocations", p.holder["id"]), Some(&p.assessor), &add).await, StatusCode::CREATED).await;
        let body = json!({"budget_holder_id": p.holder["id"], "kind": "review", "streams": ["social_care", "education"], "preferred_management": "organised"});
        let r = expect(app.post("/pb-requests", Some(&p.family), &body).await, StatusCode::CREATED).await;
        // Another request for the same stream waits until this one is decided.
        expect_error(app.post("/pb-requests", Some(&p.family), &body).await, StatusCode::CONFLICT, "request_open", Some("streams")).await;
        assess(&app, &p.assessor, &r, &v1, json!({"healthy": 1, "carers": 1})).await;
        let still = expect(app.get(&format!("/pb-requests/{}", r["id"]), Some(&p.family)).await, StatusCode::OK).await;
        assert_eq!(still["status"], "received", "education is not assessed yet");
        // Education is new (made first), social care clashes with how the plan holds it: all or nothing.
        let res = decide(&app, &p.decider, &r, json!({"outcome": "varied", "allocations": [{"stream": "education", "amount": "800.00"}, {"stream": "social_care", "amount": "900.00"}], "reasons": "Panel"})).await;
        expect_error(res, StatusCode::CONFLICT, "management_differs", Some("allocations[1].management")).await;
        let held = plan(&app, &p.family, &p.holder).await;
        assert_eq!(held["allocations"].as_array().unwrap().len(), 1, "nothing of the failed decision is kept: {held}");
        let after = expect(app.get(&format!("/pb-requests/{}", r["id"]), Some(&p.family)).await, StatusCode::OK).await;
        assert_eq!((after["status"].as_str(), after["decisions"].as_array().map(Vec::len)), (Some("received"), Some(0)));
        // Refused, with reasons: the plan is as it was.
        expect_error(decide(&app, &p.decider, &r, json!({"outcome": "refused"})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("reasons")).await;
        let refused = expect(decide(&app, &p.decider, &r, json!({"outcome": "refused", "reasons": "The needs are met by the current plan"})).await, StatusCode::OK).await;
        assert_eq!(refused["status"], "refused");
        assert_eq!(plan(&app, &p.family, &p.holder).await["allocations"][0]["amount"], "100.00");
    }

    #[tokio::test]
    async fn two_deciders_at_once_make_one_decision_and_one_allocation() {
        let app = spawn().await;
        let p = panel(&app).await;
        let v1 = ras(&app, &p.assessor, &short_breaks_ras()).await;
        let r = request(&app, &p.family, &p.holder, &["social_care"]).await;
        assess(&app, &p.assessor, &r, &v1, json!({"healthy": 2, "carers": 0})).await;
        let body = json!({"outcome": "agreed"});
        let (a, b) = tokio::join!(decide(&app, &p.decider, &r, body.clone()), decide(&app, &p.reviewer, &r, body.clone()));
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
        let held = plan(&app, &p.family, &p.holder).await;
        assert_eq!(held["allocations"].as_array().unwrap().len(), 1, "{held}");
        assert_eq!(statement(&app, &p.family, &p.holder).await.len(), 1);
        // Two requests for the same stream at once: one is open, the other refused.
        let body = json!({"budget_holder_id": p.holder["id"], "kind": "review", "streams": ["health"]});
        let (a, b) = tokio::join!(app.post("/pb-requests", Some(&p.family), &body), app.post("/pb-requests", Some(&p.assessor), &body));
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    }

    #[tokio::test]
    async fn deadlines_run_from_receipt_and_the_due_list_shows_what_is_overdue() {
        let app = spawn().await;
        let p = panel(&app).await;
        let other = app.holder(&p.assessor, &new_plan("EHC-0101", "second@family.example")).await;
        let mine = request(&app, &p.family, &p.holder, &["social_care"]).await;
        assert_eq!(mine["decision_due"], (london_day(0) + Duration::weeks(20)).to_string());
        // A family cannot backdate; an officer records a letter received 21 weeks ago.
        let letter = json!({"budget_holder_id": other["id"], "kind": "review", "streams": ["health"], "received_on": london_day(-100).to_string()});
        let second = app.login("second@family.example", PASSWORD).await;
        expect_error(app.post("/pb-requests", Some(&second), &letter).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("received_on")).await;
        let late = expect(app.post("/pb-requests", Some(&p.assessor), &letter).await, StatusCode::CREATED).await;
        assert_eq!(late["decision_due"], (london_day(-100) + Duration::weeks(14)).to_string());
        assert_eq!((late["overdue"].as_bool(), late["made_by"].as_str()), (Some(true), Some("council")));
        let due = expect(app.get("/council/due", Some(&p.decider)).await, StatusCode::OK).await;
        let items = due["items"].as_array().unwrap();
        assert_eq!(items[0]["kind"], "decision", "{due}");
        assert_eq!((items[0]["overdue"].as_bool(), items[0]["request_id"].as_i64()), (Some(true), late["id"].as_i64()));
        assert!(!items.iter().any(|i| i["request_id"] == mine["id"]), "due in 20 weeks is not shown within 28 days: {due}");
        let wide = expect(app.get("/council/due?within_days=366", Some(&p.decider)).await, StatusCode::OK).await;
        assert!(wide["items"].as_array().unwrap().iter().any(|i| i["request_id"] == mine["id"]), "{wide}");
        expect_error(app.get("/council/due?within_days=999", Some(&p.decider)).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("within_days")).await;
        expect_error(app.get("/council/due", Some(&p.family)).await, StatusCode::FORBIDDEN, "forbidden", None).await;

        // Decided today: a six-week review falls due in 42 days and leaves the list once held.
        let v1 = ras(&app, &p.assessor, &short_breaks_ras()).await;
        assess(&app, &p.assessor, &mine, &v1, json!({"healthy": 2, "carers": 2})).await;
        expect(decide(&app, &p.decider, &mine, json!({"outcome": "agreed", "allocations": [{"stream": "social_care", "management": "organised"}]})).await, StatusCode::OK).await;
        let six = |v: &Value| v["items"].as_array().unwrap().iter().any(|i| i["kind"] == "six_week_review" && i["budget_holder_id"] == p.holder["id"]);
        let due = expect(app.get("/council/due?within_days=60", Some(&p.decider)).await, StatusCode::OK).await;
        assert!(six(&due), "{due}");
        let held = json!({"kind": "six_week", "notes": "Going well"});
        let reviews = expect(app.post(&format!("/budget-holders/{}/reviews", p.holder["id"]), Some(&p.decider), &held).await, StatusCode::CREATED).await;
        assert_eq!(reviews["reviews"][0]["kind"], "six_week");
        let due = expect(app.get("/council/due?within_days=60", Some(&p.decider)).await, StatusCode::OK).await;
        assert!(!six(&due), "{due}");
        let future = json!({"kind": "annual", "held_on": london_day(3).to_string()});
        expect_error(app.post(&format!("/budget-holders/{}/reviews", p.holder["id"]), Some(&p.decider), &future).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("held_on")).await;
    }

    #[tokio::test]
    async fn a_direct_payment_is_paid_in_only_once_the_family_accepts_the_agreement() {
        let app = spawn().await;
        let p = panel(&app).await;
        let v1 = ras(&app, &p.assessor, &short_breaks_ras()).await;
        let r = request(&app, &p.family, &p.holder, &["social_care"]).await;
        assert_eq!(r["preferred_management"], "direct_payment");
        assess(&app, &p.assessor, &r, &v1, json!({"healthy": 1, "carers": 1})).await;
        let decided = expect(decide(&app, &p.decider, &r, json!({"outcome": "agreed"})).await, StatusCode::OK).await;
        assert_eq!((decided["agreement_required"].as_bool(), decided["agreement_accepted_at"].is_null()), (Some(true), true));
        let paid_in = |entries: &[Value]| entries.iter().filter(|e| e["kind"] == "paid_in").count();
        // The plan started months ago, so instalments are due, but none is paid in yet.
        assert_eq!(paid_in(&statement(&app, &p.family, &p.holder).await), 0);
        let path = format!("/pb-requests/{}/agreement", r["id"]);
        expect_error(app.post(&path, Some(&p.decider), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let accepted = expect(app.post(&path, Some(&p.family), &json!({})).await, StatusCode::OK).await;
        assert!(accepted["agreement_accepted_at"].is_string(), "{accepted}");
        assert!(paid_in(&statement(&app, &p.family, &p.holder).await) >= 1);
        expect_error(app.post(&path, Some(&p.family), &json!({})).await, StatusCode::CONFLICT, "no_agreement_to_accept", None).await;
    }

    #[tokio::test]
    async fn requests_are_seen_only_by_their_family_and_council() {
        let app = spawn().await;
        let p = panel(&app).await;
        let r = request(&app, &p.family, &p.holder, &["social_care"]).await;
        app.holder(&p.assessor, &new_plan("EHC-0102", "other@family.example")).await;
        let other = app.login("other@family.example", PASSWORD).await;
        expect_error(app.get(&format!("/pb-requests/{}", r["id"]), Some(&other)).await, StatusCode::NOT_FOUND, "not_found", None).await;
        let theirs = expect(app.get("/pb-requests", Some(&other)).await, StatusCode::OK).await;
        assert_eq!(theirs["total"], 0);
        let (_, provider) = app.provider("Wandle Club", "staff@wandle.example").await;
        expect_error(app.get("/pb-requests", Some(&provider)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let body = json!({"budget_holder_id": p.holder["id"], "kind": "new_plan", "streams": ["health"]});
        expect_error(app.post("/pb-requests", Some(&other), &body).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let ghost = json!({"budget_holder_id": 999999, "kind": "new_plan", "streams": ["health"]});
        expect_error(app.post("/pb-requests", Some(&p.assessor), &ghost).await, StatusCode::NOT_FOUND, "not_found", Some("budget_holder_id")).await;
        // Another council's officer sees none of it.
        let ealing = app.council("Ealing", "officer@ealing.example").await;
        expect_error(app.get(&format!("/pb-requests/{}", r["id"]), Some(&ealing)).await, StatusCode::NOT_FOUND, "not_found", None).await;
        let council = expect(app.get("/pb-requests?status=received", Some(&p.decider)).await, StatusCode::OK).await;
        assert_eq!((council["total"].as_u64(), council["requests"][0]["id"].as_i64()), (Some(1), r["id"].as_i64()));
        // The council's reading is in the family's access record.
        let log = expect(app.get(&format!("/budget-holders/{}/access-log", p.holder["id"]), Some(&p.family)).await, StatusCode::OK).await;
        assert!(log["entries"].as_array().unwrap().iter().any(|e| e["action"] == "listed personal budget requests"), "{log}");
    }

    #[tokio::test]
    async fn the_report_counts_requests_and_withholds_small_numbers() {
        let app = spawn().await;
        let p = panel(&app).await;
        let v1 = ras(&app, &p.assessor, &short_breaks_ras()).await;
        let r = request(&app, &p.family, &p.holder, &["social_care"]).await;
        assess(&app, &p.assessor, &r, &v1, json!({"healthy": 1, "carers": 1})).await;
        expect(decide(&app, &p.decider, &r, json!({"outcome": "varied", "allocations": [{"stream": "social_care", "management": "organised", "amount": "1100.00"}], "reasons": "Fewer sessions meet the outcomes"})).await, StatusCode::OK).await;
        let report = expect(app.get("/reports/personal-budgets", Some(&p.decider)).await, StatusCode::OK).await;
        let varied = report["outcomes"].as_array().unwrap().iter().find(|o| o["outcome"] == "varied").cloned().unwrap();
        assert_eq!((varied["count"].clone(), varied["suppressed"].clone()), (Value::Null, json!(true)), "{report}");
        let agreed = report["outcomes"].as_array().unwrap().iter().find(|o| o["outcome"] == "agreed").cloned().unwrap();
        assert_eq!(agreed["count"], 0, "nought is not withheld");
        let amounts = report["amounts"].as_array().unwrap().iter().find(|a| a["stream"] == "social_care").cloned().unwrap();
        assert!(amounts["final_total"].is_null(), "{report}");
        let open = expect(app.get("/reports/personal-budgets?min_count=1", Some(&p.decider)).await, StatusCode::OK).await;
        let amounts = open["amounts"].as_array().unwrap().iter().find(|a| a["stream"] == "social_care").cloned().unwrap();
        assert_eq!((amounts["indicative_total"].as_str(), amounts["final_total"].as_str()), (Some("1200.00"), Some("1100.00")), "{open}");
        let times = &open["time_to_decision"][0];
        assert_eq!((times["kind"].as_str(), times["median_days"].as_f64(), times["target_days"].as_i64()), (Some("new_plan"), Some(0.0), Some(140)));
        let organised = open["plans_by_arrangement"].as_array().unwrap().iter().find(|a| a["arrangement"] == "organised").cloned().unwrap();
        assert_eq!(organised["count"], 1, "{open}");
        expect_error(app.get("/reports/personal-budgets?min_count=0", Some(&p.decider)).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("min_count")).await;
        expect_error(app.get("/reports/personal-budgets", Some(&p.family)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    }

    #[tokio::test]
    async fn a_council_admin_gives_permissions_and_keeps_an_admin() {
        let app = spawn().await;
        let admin = app.council("Merton", "officer@merton.example").await;
        let assessor = officer(&app, &admin, "assessor@merton.example", &["assess"]).await;
        let users = expect(app.get("/council/users", Some(&admin)).await, StatusCode::OK).await;
        assert_eq!(users["total"], 2, "{users}");
        assert_eq!(users["users"][0]["permissions"], json!(["assess", "decide", "admin"]));
        expect_error(app.get("/council/users", Some(&assessor)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let me = users["users"][0]["id"].clone();
        let res = app.put(&format!("/council/users/{me}"), Some(&admin), &json!({"permissions": ["assess"]})).await;
        expect_error(res, StatusCode::CONFLICT, "last_admin", Some("permissions")).await;
        let again = json!({"email": "assessor@merton.example", "password": PASSWORD});
        expect_error(app.post("/council/users", Some(&admin), &again).await, StatusCode::CONFLICT, "email_taken", Some("email")).await;
        let bad = json!({"email": "new@merton.example", "permissions": ["approve"]});
        expect_error(app.post("/council/users", Some(&admin), &bad).await, StatusCode::BAD_REQUEST, "invalid_field", Some("permissions[0]")).await;
        // Without a password the account exists but cannot log in.
        let pending = expect(app.post("/council/users", Some(&admin), &json!({"email": "new@merton.example"})).await, StatusCode::CREATED).await;
        assert_eq!((pending["password_set"].as_bool(), pending["permissions"].clone()), (Some(false), json!([])));
        // Turned off: the session ends and logging in fails.
        let id = users["users"][1]["id"].clone();
        let off = expect(app.put(&format!("/council/users/{id}"), Some(&admin), &json!({"active": false})).await, StatusCode::OK).await;
        assert_eq!(off["active"], false);
        assert_eq!(app.get("/ras", Some(&assessor)).await.status(), StatusCode::UNAUTHORIZED);
        let mut body = json!({"email": "assessor@merton.example", "password": PASSWORD});
        if let Some(code) = app.authenticator.code("assessor@merton.example").await {
            body["totp"] = code.into();
        }
        expect_error(app.post("/auth/login", None, &body).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    }
}
