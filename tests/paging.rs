//! Every list is read a page at a time and says how many there are: nothing is cut off unseen.

#[macro_use]
mod common;

use common::browser::Browser;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A family with `n` one-session bookings of a ten-pound option.
async fn booked(app: &TestApp, n: usize) -> (World, Value) {
    let w = world(app, "1000.00").await;
    let mut ten = saturday_club();
    ten["price_options"] = json!([{"label": "Ten pound session", "unit": "session", "price": "10.00"}]);
    let service = app.service(&w.provider, &ten).await;
    for _ in 0..n {
        expect(
            app.book(&w.family, &w.holder, 0, option_id(&service, 0), 1).await,
            StatusCode::CREATED,
        )
        .await;
    }
    (w, service)
}

fn ids(list: &Value, key: &str) -> Vec<i64> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect()
}

both_backends! {
    #[tokio::test]
    async fn bookings_come_a_page_at_a_time_with_the_total() {
        let app = spawn().await;
        let (w, _) = booked(&app, 5).await;
        let first = expect(app.get("/bookings?per_page=2", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!((first["total"].as_i64(), first["page"].as_i64(), first["per_page"].as_i64()), (Some(5), Some(1), Some(2)));
        let second = expect(app.get("/bookings?per_page=2&page=2", Some(&w.family)).await, StatusCode::OK).await;
        let third = expect(app.get("/bookings?per_page=2&page=3", Some(&w.family)).await, StatusCode::OK).await;
        let beyond = expect(app.get("/bookings?per_page=2&page=4", Some(&w.family)).await, StatusCode::OK).await;
        let mut all = [ids(&first, "bookings"), ids(&second, "bookings"), ids(&third, "bookings")].concat();
        assert_eq!(all.len(), 5, "every booking on exactly one page");
        assert!(all.windows(2).all(|p| p[0] > p[1]), "newest first across pages: {all:?}");
        all.dedup();
        assert_eq!(all.len(), 5);
        assert!(ids(&beyond, "bookings").is_empty());
        assert_eq!(beyond["total"], 5);
        // The provider's list of the same bookings pages the same way; the default page holds 50.
        let provider = expect(app.get("/bookings", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!((provider["total"].as_i64(), provider["per_page"].as_i64()), (Some(5), Some(50)));
    }

    #[tokio::test]
    async fn more_than_a_page_of_plans_is_all_there() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        for i in 0..3 {
            app.holder(&council, &sam(&format!("EHC-{i:04}"), &format!("parent{i}@family.example"), "100.00")).await;
        }
        let page = expect(app.get("/budget-holders?per_page=2&page=2", Some(&council)).await, StatusCode::OK).await;
        assert_eq!(page["total"], 3);
        assert_eq!(page["budget_holders"].as_array().unwrap().len(), 1);
        assert_eq!(page["budget_holders"][0]["reference"], "EHC-0002");
        let waiting = expect(app.get("/waitlist?per_page=1", Some(&app.login("parent0@family.example", PASSWORD).await)).await, StatusCode::OK).await;
        assert_eq!((waiting["total"].as_i64(), waiting["per_page"].as_i64()), (Some(0), Some(1)));
    }

    #[tokio::test]
    async fn a_bad_page_is_named_and_changes_nothing() {
        let app = spawn().await;
        let (w, _) = booked(&app, 1).await;
        for (query, field) in [("page=0", "page"), ("page=two", "page"), ("per_page=0", "per_page"), ("per_page=201", "per_page"), ("per_page=-1", "per_page"), ("size=10", "size")] {
            for list in ["/bookings", "/budget-holders", "/waitlist"] {
                let res = app.get(&format!("{list}?{query}"), Some(&w.family)).await;
                expect_error(res, StatusCode::BAD_REQUEST, "invalid_parameter", Some(field)).await;
            }
        }
        let organisation = format!("/organisations/{}/services?per_page=500", w.organisation_id);
        expect_error(app.get(&organisation, None).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("per_page")).await;
        let listed = expect(app.get("/bookings", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(listed["total"], 1);
    }

    #[tokio::test]
    async fn sessions_and_an_organisations_services_page_too() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let from = (chrono::Utc::now().date_naive() + chrono::Duration::days(7)).to_string();
        let until = (chrono::Utc::now().date_naive() + chrono::Duration::days(7 * 12)).to_string();
        let sessions = format!("/services/{}/sessions", w.service["id"]);
        let body = json!({"weekly": {"days": ["saturday"], "from": from, "until": until, "starts": "10:00", "ends": "12:00"}, "places": 4});
        let made = expect(app.post(&sessions, Some(&w.provider), &body).await, StatusCode::CREATED).await;
        let made = made["total"].as_i64().unwrap();
        assert!(made >= 11, "{made}");
        let page = expect(app.get(&format!("{sessions}?per_page=5&page=2"), None).await, StatusCode::OK).await;
        assert_eq!(page["total"].as_i64(), Some(made));
        assert_eq!(page["sessions"].as_array().unwrap().len(), 5);
        let services = format!("/organisations/{}/services?per_page=1", w.organisation_id);
        let listed = expect(app.get(&services, None).await, StatusCode::OK).await;
        assert_eq!((listed["total"].as_i64(), listed["services"].as_array().map(Vec::len)), (Some(1), Some(1)));
    }

    #[tokio::test]
    async fn a_service_without_places_leaves_capacity_out() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let mut equipment = saturday_club();
        equipment["name"] = json!("Sensory equipment loan");
        equipment.as_object_mut().unwrap().remove("capacity");
        let made = app.service(&w.provider, &equipment).await;
        assert_eq!(made["capacity"], Value::Null);
        // Sessions of it then need their places said.
        let starts = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%dT10:00:00").to_string();
        let ends = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%dT11:00:00").to_string();
        let sessions = format!("/services/{}/sessions", made["id"]);
        let res = app.post(&sessions, Some(&w.provider), &json!({"starts_at": starts, "ends_at": ends})).await;
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("places")).await;
        let mut nulled = saturday_club();
        nulled["capacity"] = Value::Null;
        assert_eq!(app.service(&w.provider, &nulled).await["capacity"], Value::Null);
    }

    #[tokio::test]
    async fn a_statement_comes_a_page_at_a_time_oldest_first() {
        let app = spawn().await;
        let (w, _) = booked(&app, 5).await;
        let path = format!("/budget-holders/{}/statement", w.holder["id"]);
        let whole = expect(app.get(&path, Some(&w.family)).await, StatusCode::OK).await;
        let total = whole["total"].as_i64().unwrap();
        // The allocation, five bookings and the direct payment's instalments paid in so far.
        let paid_in = whole["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "paid_in").count() as i64;
        assert_eq!(total - paid_in, 6, "the allocation and five bookings: {whole}");
        let mut seen = Vec::new();
        for page in 1..=(total + 1) / 2 {
            let part = expect(app.get(&format!("{path}?per_page=2&page={page}"), Some(&w.family)).await, StatusCode::OK).await;
            assert_eq!((part["total"].as_i64(), part["per_page"].as_i64()), (Some(total), Some(2)));
            assert_eq!(part["allocations"].as_array().map(Vec::len), Some(1), "every page keeps the allocations");
            seen.extend(ids(&part, "entries"));
        }
        assert_eq!(seen, ids(&whole, "entries"), "the pages together are the whole statement, oldest first");
        assert!(seen.windows(2).all(|p| p[0] < p[1]), "{seen:?}");
        expect_error(app.get(&format!("{path}?per_page=0"), Some(&w.family)).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("per_page")).await;

        // The family's page says how many movements there are and pages them per plan.
        let mut b = Browser::new(&app);
        b.log_in("parent@family.example", PASSWORD).await;
        let page = b.get("/my-plan/statement").await;
        assert!(page.html.contains(&format!("{total} movements")), "{}", page.html);
        let beyond = b.get(&format!("/my-plan/statement?plan={}&page=2", w.holder["id"])).await;
        assert_eq!(beyond.status, StatusCode::OK);
        assert!(beyond.html.contains("There is no page 2; the list has 1 page."), "{}", beyond.html);
        assert!(beyond.html.contains("href=\"/my-plan/statement\""), "a way back to every statement");
        assert_eq!(b.get("/my-plan/statement?page=none").await.status, StatusCode::BAD_REQUEST);
        // Another family's plan is not there to page through.
        app.holder(&w.council, &sam("EHC-0002", "other@family.example", "10.00")).await;
        let mut other = Browser::new(&app);
        other.log_in("other@family.example", PASSWORD).await;
        let theirs = other.get(&format!("/my-plan/statement?plan={}", w.holder["id"])).await;
        assert!(!theirs.html.contains("Saturday Club"), "{}", theirs.html);
        assert!(theirs.status.is_client_error(), "{}", theirs.status);
    }

    #[tokio::test]
    async fn report_rows_come_a_page_at_a_time_and_totals_cover_them_all() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        for i in 0..3 {
            app.holder(&council, &sam(&format!("EHC-{i:04}"), &format!("parent{i}@family.example"), "100.00")).await;
        }
        let spending = expect(app.get("/reports/spending?per_page=1&page=2", Some(&council)).await, StatusCode::OK).await;
        assert_eq!((spending["total"].as_i64(), spending["page"].as_i64()), (Some(3), Some(2)));
        assert_eq!(spending["allocations"].as_array().map(Vec::len), Some(1));
        assert_eq!(spending["totals"]["allocated"], "300.00", "totals are over every allocation: {spending}");
        let outcomes = expect(app.get("/reports/outcomes?per_page=2", Some(&council)).await, StatusCode::OK).await;
        assert_eq!((outcomes["total"].as_i64(), outcomes["outcomes"].as_array().map(Vec::len)), (Some(3), Some(2)));
        let gaps = expect(app.get("/reports/gaps", Some(&council)).await, StatusCode::OK).await;
        let rows = gaps["total"].as_i64().unwrap();
        assert!(rows >= 1, "{gaps}");
        let last = expect(app.get(&format!("/reports/gaps?per_page=1&page={rows}"), Some(&council)).await, StatusCode::OK).await;
        assert_eq!(last["rows"].as_array().map(Vec::len), Some(1));
        assert_eq!(last["rows"][0], gaps["rows"][rows as usize - 1]);
        let at_risk = expect(app.get("/reports/providers-at-risk?per_page=5", Some(&council)).await, StatusCode::OK).await;
        assert_eq!((at_risk["total"].as_i64(), at_risk["per_page"].as_i64()), (Some(0), Some(5)));
        for (report, query, field) in [("gaps", "per_page=500", "per_page"), ("spending", "page=0", "page"), ("outcomes", "page=x", "page"), ("providers-at-risk", "per_page=0", "per_page")] {
            let res = app.get(&format!("/reports/{report}?{query}"), Some(&council)).await;
            expect_error(res, StatusCode::BAD_REQUEST, "invalid_parameter", Some(field)).await;
        }

        // The reports page pages each table on its own and names a bad page by its table.
        let mut b = Browser::new(&app);
        b.log_in("officer@merton.example", PASSWORD).await;
        let page = b.get("/council/reports?outcomes_page=1").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("3 plan outcomes"), "{}", page.html);
        let beyond = b.get("/council/reports?outcomes_page=2&gaps_page=1").await;
        assert!(beyond.html.contains("There is no page 2; the list has 1 page."), "{}", beyond.html);
        let bad = b.get("/council/reports?flagged_page=0").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.html.contains("flagged_page"), "{}", bad.html);
    }
}
