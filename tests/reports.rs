//! Council reports on constructed data where the right answer is known.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn plan(reference: &str, email: &str, postcode: &str, terms: &[&str]) -> Value {
    let mut p = sam(reference, email, "1000.00");
    p["postcode"] = json!(postcode);
    p["outcomes"] = json!([{"text": "An outcome from the plan", "terms": terms}]);
    p
}

async fn healthy_services(app: &TestApp, token: &str) {
    let sw19 = localoffer::domain::geo::OutcodeTable::builtin()
        .unwrap()
        .centroid("SW19")
        .unwrap();
    for i in 0..3 {
        let mut s = saturday_club();
        s["name"] = json!(format!("Swim {i}"));
        s["outcomes"] = json!(["ecm-be-healthy"]);
        s["location"] = json!({"lat": sw19.lat + 0.01 * f64::from(i), "lon": sw19.lon});
        s["reach_miles"] = Value::Null;
        app.service(token, &s).await;
    }
}

both_backends! {
    #[tokio::test]
    async fn a_planted_gap_tops_the_report_and_small_areas_are_withheld() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let (_, provider) = app.provider("Pool Trust", "staff@pool.example").await;
        healthy_services(&app, &provider).await;
        for i in 0..6 {
            app.holder(&council, &plan(&format!("SW-{i}"), &format!("sw{i}@family.example"), "SW19 2HR", &["pfa-friends-community", "ecm-be-healthy"])).await;
        }
        for i in 0..2 {
            app.holder(&council, &plan(&format!("CR-{i}"), &format!("cr{i}@family.example"), "CR4 3AA", &["pfa-friends-community"])).await;
        }
        // A family searched for what nobody offers.
        expect(app.get("/search?outcome=pfa-friends-community&postcode=SW19%202HR&radius_miles=3", None).await, StatusCode::OK).await;

        let started = Instant::now();
        let report = loop {
            let r = expect(app.get("/reports/gaps", Some(&council)).await, StatusCode::OK).await;
            let logged = r["rows"].as_array().unwrap().iter().any(|row| row["area"] == "SW19" && row["unmet_searches"] == 1);
            if logged || started.elapsed() > Duration::from_secs(2) { break r; }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let rows = report["rows"].as_array().unwrap();
        assert_eq!((rows[0]["outcome"].as_str(), rows[0]["area"].as_str()), (Some("pfa-friends-community"), Some("ALL")), "{report}");
        let top = rows.iter().find(|r| r["area"] != "ALL" && r["area"] != "OTHER").unwrap();
        assert_eq!((top["outcome"].as_str(), top["area"].as_str()), (Some("pfa-friends-community"), Some("SW19")), "{report}");
        assert_eq!(top["demand_holders"], 6);
        assert_eq!(top["demand_money"], "6000.00");
        assert_eq!(top["supply_services"], 0);
        assert_eq!(top["unmet_searches"], 1);
        let healthy = rows.iter().find(|r| r["outcome"] == "ecm-be-healthy" && r["area"] == "SW19").unwrap();
        assert_eq!(healthy["supply_services"], 3);
        assert_eq!(healthy["supply_places"], 36);
        assert_eq!(healthy["median_price"], "45.00");
        assert!(healthy["gap_score"].as_f64() < top["gap_score"].as_f64(), "a well-served outcome is not the gap");
        // The two CR4 families never appear as a count of their own.
        assert!(rows.iter().all(|r| r["area"] != "CR4"), "{report}");
        let other = rows.iter().find(|r| r["area"] == "OTHER" && r["outcome"] == "pfa-friends-community").unwrap();
        assert_eq!((other["suppressed"].as_bool(), other["demand_holders"].is_null()), (Some(true), true));
        let all = rows.iter().find(|r| r["area"] == "ALL" && r["outcome"] == "pfa-friends-community").unwrap();
        assert_eq!(all["demand_holders"], 8);
        // Filters, CSV, the page, and who may see it.
        let filtered = expect(app.get("/reports/gaps?area=SW19&outcome=ecm-be-healthy", Some(&council)).await, StatusCode::OK).await;
        assert_eq!(filtered["rows"].as_array().unwrap().len(), 1);
        expect_error(app.get("/reports/gaps?outcome=nope", Some(&council)).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("outcome")).await;
        expect_error(app.get("/reports/gaps?min_holders=1", Some(&council)).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("min_holders")).await;
        let csv = app.client.get(app.url("/reports/gaps.csv")).bearer_auth(&council).send().await.unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        assert!(text.starts_with("outcome,area,suppressed,demand_holders,demand_money,supply_services"), "{text}");
        assert!(!text.contains("Sam"), "no names");
        let family = app.login("sw0@family.example", PASSWORD).await;
        expect_error(app.get("/reports/gaps", Some(&family)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        expect_error(app.get("/reports/gaps", Some(&provider)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let other_council = app.council("Sutton", "officer@sutton.example").await;
        let theirs = expect(app.get("/reports/gaps", Some(&other_council)).await, StatusCode::OK).await;
        assert!(theirs["rows"].as_array().unwrap().iter().all(|r| r["demand_holders"].as_u64().unwrap_or(0) == 0), "{theirs}");
    }

    #[tokio::test]
    async fn spending_flags_underused_budgets_and_returns_sum_to_the_ledger() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let mut old = plan("OLD-1", "old@family.example", "SW19 2HR", &["pfa-friends-community"]);
        old["plan_start"] = json!("2026-01-01");
        old["plan_end"] = json!("2026-12-31");
        let old = app.holder(&w.council, &old).await;
        let b = expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 4).await, StatusCode::CREATED).await;
        let c = expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 2).await, StatusCode::CREATED).await;
        app.post(&format!("/bookings/{}/cancel", c["id"]), Some(&w.family), &json!({})).await;
        app.post(&format!("/bookings/{}/confirm", b["id"]), Some(&w.provider), &json!({})).await;
        app.post(&format!("/bookings/{}/deliver", b["id"]), Some(&w.provider), &json!({})).await;

        let report = expect(app.get("/reports/spending", Some(&w.council)).await, StatusCode::OK).await;
        let rows = report["allocations"].as_array().unwrap();
        let mine = rows.iter().find(|r| r["budget_holder_id"] == w.holder["id"]).unwrap();
        assert_eq!((mine["committed"].as_str(), mine["delivered"].as_str(), mine["remaining"].as_str()), (Some("180.00"), Some("180.00"), Some("820.00")));
        let stale = rows.iter().find(|r| r["budget_holder_id"] == old["id"]).unwrap();
        assert!(stale["flags"].as_array().unwrap().iter().any(|f| f == "underused"), "{stale}");
        assert!(stale["elapsed"].as_f64().unwrap() > 0.5);
        assert_eq!(report["totals"]["allocated"], "2000.00");
        let csv = app.client.get(app.url("/reports/spending.csv")).bearer_auth(&w.council).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains("underused"));
        // The outcomes CSV counts the booking that served the plan outcome, without the outcome's wording.
        let outcomes = app.client.get(app.url("/reports/outcomes.csv")).bearer_auth(&w.council).send().await.unwrap();
        assert!(outcomes.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let outcomes = outcomes.text().await.unwrap();
        assert!(outcomes.starts_with("budget_holder_id,reference,outcome_id,terms,status,bookings,services\n"), "{outcomes}");
        assert!(outcomes.contains("EHC-0001") && outcomes.contains("Saturday Club") && !outcomes.contains("To make friends"), "{outcomes}");
        let at_risk = app.client.get(app.url("/reports/providers-at-risk.csv")).bearer_auth(&w.council).send().await.unwrap().text().await.unwrap();
        assert!(at_risk.starts_with("service_id,service,organisation,price_option,price,full_cost\n"), "{at_risk}");

        // The quarterly return is the ledger, summed exactly.
        let quarter = localoffer::domain::reports::Quarter::containing(chrono::Utc::now().date_naive()).label();
        let ret = expect(app.get(&format!("/budget-holders/{}/quarterly-return?quarter={quarter}", w.holder["id"]), Some(&w.family)).await, StatusCode::OK).await;
        let a = &ret["allocations"][0];
        let pence = |v: &Value| v.as_str().unwrap().replace('.', "").parse::<i64>().unwrap();
        let lines: i64 = a["lines"].as_array().unwrap().iter().map(|l| pence(&l["amount"])).sum();
        assert_eq!(pence(&a["opening_balance"]) + lines, pence(&a["closing_balance"]));
        assert_eq!(a["closing_balance"], "820.00", "the allocation's remaining");
        assert_eq!((a["money_in"].as_str(), a["spent"].as_str(), a["refunded"].as_str()), (Some("1000.00"), Some("-270.00"), Some("90.00")));
        let earlier = expect(app.get(&format!("/budget-holders/{}/quarterly-return?quarter=2025-Q1", w.holder["id"]), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(earlier["allocations"][0]["closing_balance"], "0.00");
        expect_error(app.get(&format!("/budget-holders/{}/quarterly-return?quarter=Q9", w.holder["id"]), Some(&w.family)).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("quarter")).await;
        expect_error(app.get(&format!("/budget-holders/{}/quarterly-return", w.holder["id"]), Some(&w.provider)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let csv = app.client.get(app.url(&format!("/budget-holders/{}/quarterly-return.csv?quarter={quarter}", w.holder["id"]))).bearer_auth(&w.council).send().await.unwrap().text().await.unwrap();
        assert!(csv.contains("opening_balance") && csv.contains("closing_balance") && csv.contains("820.00"), "{csv}");
    }

    #[tokio::test]
    async fn outcomes_are_tracked_with_the_bookings_that_served_them() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let booking = expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CREATED).await;
        let outcome = w.holder["outcomes"][0]["id"].as_i64().unwrap();
        let path = format!("/budget-holders/{}/outcomes/{outcome}", w.holder["id"]);
        expect_error(app.put(&path, Some(&w.council), &json!({"status": "done"})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("status")).await;
        expect_error(app.put(&path, Some(&w.family), &json!({"status": "partly_met"})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let res = app.put(&path, Some(&w.council), &json!({"status": "partly_met"})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let report = expect(app.get("/reports/outcomes", Some(&w.council)).await, StatusCode::OK).await;
        let row = &report["outcomes"][0];
        assert_eq!(row["status"], "partly_met");
        assert_eq!(row["served_by"][0]["booking_id"], booking["id"]);
        assert!(row.get("first_name").is_none(), "no names");
    }
}
