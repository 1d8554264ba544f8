//! The council's API for changing a plan, setting up brokers and its settings.

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

both_backends! {
    #[tokio::test]
    async fn a_council_changes_a_plan_its_allocations_broker_and_settings_through_the_api() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let id = w.holder["id"].as_i64().unwrap();
        let aid = w.holder["allocations"][0]["id"].as_i64().unwrap();
        expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 2).await, StatusCode::CREATED).await;
        let adjust = format!("/budget-holders/{id}/allocations/{aid}/adjustments");
        expect_error(app.post(&adjust, Some(&w.council), &json!({"amount": "50.00", "reason": "Review"})).await, StatusCode::CONFLICT, "below_committed", Some("amount")).await;
        expect_error(app.post(&adjust, Some(&w.council), &json!({"amount": "900.00", "reason": ""})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("reason")).await;
        expect_error(app.post(&adjust, Some(&w.family), &json!({"amount": "900.00", "reason": "Mine"})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let changed = expect(app.post(&adjust, Some(&w.council), &json!({"amount": "900.00", "reason": "Fewer sessions needed"})).await, StatusCode::CREATED).await;
        assert_eq!((changed["amount"].as_str(), changed["remaining"].as_str()), (Some("900.00"), Some("810.00")), "{changed}");
        let statement = expect(app.get(&format!("/budget-holders/{id}/statement"), Some(&w.family)).await, StatusCode::OK).await;
        assert!(statement.to_string().contains("Allocation reduced from £1000.00 to £900.00: Fewer sessions needed"), "{statement}");

        let plan = json!({"reference": "EHC-0001", "first_name": "Samuel", "date_of_birth": "2014-05-01", "postcode": "SW19 1AA", "plan_start": "2026-09-01", "plan_end": "2027-08-31"});
        let renamed = expect(app.put(&format!("/budget-holders/{id}"), Some(&w.council), &plan).await, StatusCode::OK).await;
        assert_eq!((renamed["first_name"].as_str(), renamed["postcode"].as_str()), (Some("Samuel"), Some("SW19 1AA")));
        let added = expect(app.post(&format!("/budget-holders/{id}/allocations"), Some(&w.council), &json!({"stream": "health", "management": "organised", "amount": "300.00"})).await, StatusCode::CREATED).await;
        assert_eq!(added["remaining"], "300.00");
        expect_error(app.post(&format!("/budget-holders/{id}/allocations"), Some(&w.council), &json!({"stream": "health", "management": "organised", "amount": "1.00"})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("stream")).await;

        let broker = json!({"name": "Wandle Brokerage", "user": {"email": "staff@brokerage.example", "password": PASSWORD}});
        let made = expect(app.post("/council/brokers", Some(&w.council), &broker).await, StatusCode::CREATED).await;
        let list = expect(app.get("/council/brokers?per_page=1", Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!((list["total"].as_u64(), list["brokers"][0]["name"].as_str()), (Some(1), Some("Wandle Brokerage")), "{list}");
        let given = expect(app.put(&format!("/budget-holders/{id}/broker"), Some(&w.council), &json!({"broker_organisation_id": made["organisation_id"]})).await, StatusCode::OK).await;
        assert_eq!(given["broker_organisation_id"], made["organisation_id"]);
        let staff = app.broker_login("staff@brokerage.example").await;
        let seen = expect(app.get("/budget-holders", Some(&staff)).await, StatusCode::OK).await;
        assert_eq!(seen["budget_holders"][0]["id"], id);

        let settings = expect(app.get("/council/settings", Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(settings["unverified_bookable"], true);
        let strict = expect(app.put("/council/settings", Some(&w.council), &json!({"unverified_bookable": false})).await, StatusCode::OK).await;
        assert_eq!(strict["unverified_bookable"], false);
        expect_error(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CONFLICT, "provider_not_verified", Some("price_option_id")).await;
        expect_error(app.get("/council/settings", Some(&w.family)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    }

    #[tokio::test]
    async fn a_plan_being_prepared_exists_before_its_allocations() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let mut body = sam("EHC-0100", "early@family.example", "1.00");
        body["allocations"] = json!([]);
        let holder = app.holder(&council, &body).await;
        assert_eq!(holder["allocations"], json!([]));
        let id = holder["id"].as_i64().unwrap();
        let family = app.login("early@family.example", PASSWORD).await;
        let plan = expect(app.get(&format!("/budget-holders/{id}"), Some(&family)).await, StatusCode::OK).await;
        assert_eq!(plan["allocations"], json!([]));
        expect(app.get(&format!("/budget-holders/{id}/statement"), Some(&family)).await, StatusCode::OK).await;
        expect(app.get(&format!("/budget-holders/{id}/matches"), Some(&family)).await, StatusCode::OK).await;
        for path in ["quarterly-return", "quarterly-return.csv", "surplus-test", "spending"] {
            let res = app.get(&format!("/budget-holders/{id}/{path}"), Some(&council)).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
        }
        // The allocation comes once the plan is agreed.
        let added = app.post(&format!("/budget-holders/{id}/allocations"), Some(&council), &json!({"stream": "social_care", "management": "organised", "amount": "800.00"})).await;
        expect(added, StatusCode::CREATED).await;
        let out = app.cli(&["verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
}
