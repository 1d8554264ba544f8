//! Rule 2 under load: many clients at once never overspend an allocation.

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

async fn hammer(keys: impl Fn(usize) -> Option<String>) -> (usize, usize, serde_json::Value, TestApp) {
    let app = spawn().await;
    let w = world(&app, "1000.00").await;
    let mut ten = saturday_club();
    ten["price_options"] = json!([{"label": "Ten pound session", "unit": "session", "price": "10.00"}]);
    let service = app.service(&w.provider, &ten).await;
    let body = json!({"budget_holder_id": w.holder["id"], "allocation_id": w.holder["allocations"][0]["id"], "price_option_id": option_id(&service, 0), "quantity": 1});
    let mut tasks = Vec::new();
    for i in 0..320 {
        let mut req = app.client.post(app.url("/bookings")).bearer_auth(&w.family).json(&body);
        if let Some(key) = keys(i) {
            req = req.header("Idempotency-Key", key);
        }
        tasks.push(tokio::spawn(async move { req.send().await.map(|r| r.status()) }));
    }
    let (mut created, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap().unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    let plan = expect(
        app.get(&format!("/budget-holders/{}", w.holder["id"]), Some(&w.family))
            .await,
        StatusCode::OK,
    )
    .await;
    (created, refused, plan, app)
}

both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn exactly_the_affordable_bookings_succeed() {
        let (created, refused, plan, app) = hammer(|i| Some(format!("key-{i}"))).await;
        assert_eq!((created, refused), (100, 220));
        assert_eq!(plan["allocations"][0]["committed"], "1000.00");
        assert_eq!(plan["allocations"][0]["remaining"], "0.00");
        let family = app.login("parent@family.example", PASSWORD).await;
        let st = expect(
            app.get(&format!("/budget-holders/{}/statement?per_page=200", plan["id"]), Some(&family))
                .await,
            StatusCode::OK,
        )
        .await;
        let sum: i64 = st["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let s = e["amount"].as_str().unwrap().replace('.', "");
                s.parse::<i64>().unwrap()
            })
            .sum();
        assert_eq!(sum, 0, "the ledger sums to the remaining balance");
        // The allocation opened, 100 bookings, and the direct payment's instalments paid in so far
        // (which change the family's account, not what is left to spend).
        let entries = st["entries"].as_array().unwrap();
        let paid_in = entries.iter().filter(|e| e["kind"] == "paid_in").count();
        assert_eq!((entries.len() - paid_in, st["total"].as_u64()), (101, Some(entries.len() as u64)));
        let out = app.cli(&["verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn duplicated_idempotency_keys_book_once_per_key() {
        // 320 requests carrying 160 distinct keys, each sent twice at once: the 160 distinct bookings
        // compete for 100 places' worth of money.
        let (created, refused, plan, app) = hammer(|i| Some(format!("dup-{}", i / 2))).await;
        assert_eq!(plan["allocations"][0]["remaining"], "0.00");
        let family = app.login("parent@family.example", PASSWORD).await;
        let bookings = expect(app.get("/bookings?per_page=200", Some(&family)).await, StatusCode::OK).await;
        assert_eq!(bookings["total"], 100, "one booking per affordable key");
        assert_eq!(bookings["bookings"].as_array().unwrap().len(), 100);
        // Each replay of a successful key answered 201 with the same booking; refusals were 409.
        assert_eq!(created + refused, 320);
        assert!((100..=200).contains(&created), "{created}");
        let out = app.cli(&["verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
}
