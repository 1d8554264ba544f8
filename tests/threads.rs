//! Messages: who reads which thread (the family, its broker, the provider; nobody else; the
//! council once added), unread counts going up and down, the body's length and the hourly limit,
//! and a booking's thread kept with the booking.

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The world, with a broker for Sam's plan, and strangers: another provider, another family of
/// the same council, another broker, another council's officer.
struct Cast {
    w: World,
    broker: String,
    other_provider: String,
    other_family: String,
    other_holder: Value,
    other_broker: String,
    ealing: String,
}

async fn cast(app: &TestApp) -> Cast {
    let w = world(app, "1000.00").await;
    let id = w.holder["id"].as_i64().unwrap();
    let broker =
        json!({"name": "Wandle Brokerage", "user": {"email": "staff@brokerage.example", "password": PASSWORD}});
    let made = expect(
        app.post("/council/brokers", Some(&w.council), &broker).await,
        StatusCode::CREATED,
    )
    .await;
    let given = json!({"broker_organisation_id": made["organisation_id"]});
    expect(
        app.put(&format!("/budget-holders/{id}/broker"), Some(&w.council), &given)
            .await,
        StatusCode::OK,
    )
    .await;
    let broker = app.broker_login("staff@brokerage.example").await;
    let other =
        json!({"name": "Other Brokerage", "user": {"email": "staff@other-brokerage.example", "password": PASSWORD}});
    expect(
        app.post("/council/brokers", Some(&w.council), &other).await,
        StatusCode::CREATED,
    )
    .await;
    let other_broker = app.broker_login("staff@other-brokerage.example").await;
    let (_, other_provider) = app.provider("Other Club", "staff@other.example").await;
    let other_holder = app
        .holder(&w.council, &sam("EHC-0002", "other@family.example", "500.00"))
        .await;
    let other_family = app.login("other@family.example", PASSWORD).await;
    let ealing = app.council("Ealing", "officer@ealing.example").await;
    Cast {
        w,
        broker,
        other_provider,
        other_family,
        other_holder,
        other_broker,
        ealing,
    }
}

async fn start(app: &TestApp, token: &str, body: &Value) -> i64 {
    let made = expect(app.post("/threads", Some(token), body).await, StatusCode::CREATED).await;
    made["id"].as_i64().expect("a thread id")
}

async fn status_of(app: &TestApp, path: &str, token: &str) -> StatusCode {
    app.get(path, Some(token)).await.status()
}

async fn unread(app: &TestApp, token: &str) -> (u64, Vec<u64>) {
    let list = expect(app.get("/threads", Some(token)).await, StatusCode::OK).await;
    let each = list["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["unread"].as_u64().unwrap())
        .collect();
    (list["unread_total"].as_u64().unwrap(), each)
}

both_backends! {
    #[tokio::test]
    async fn only_the_family_its_broker_and_the_provider_read_a_thread_until_the_council_is_added() {
        let app = spawn().await;
        let c = cast(&app).await;
        let w = &c.w;
        let id = start(&app, &w.family, &json!({"service_id": w.service["id"], "body": "Is there parking near the hall?"})).await;
        let path = format!("/threads/{id}");
        for (who, token) in [("family", &w.family), ("broker", &c.broker), ("provider", &w.provider)] {
            assert_eq!(status_of(&app, &path, token).await, StatusCode::OK, "{who}");
        }
        for (who, token) in [
            ("another provider", &c.other_provider), ("another family", &c.other_family), ("another broker", &c.other_broker),
            ("the council, not added", &w.council), ("another council", &c.ealing),
        ] {
            expect_error(app.get(&path, Some(token)).await, StatusCode::NOT_FOUND, "not_found", None).await;
            let write = app.post(&format!("{path}/messages"), Some(token), &json!({"body": "Hello"})).await;
            assert_eq!(write.status(), StatusCode::NOT_FOUND, "{who} writes");
            let add = app.post(&format!("{path}/council"), Some(token), &json!({})).await;
            assert_eq!(add.status(), StatusCode::NOT_FOUND, "{who} adds the council");
            let list = expect(app.get("/threads", Some(token)).await, StatusCode::OK).await;
            assert_eq!(list["total"], 0, "{who}: {list}");
        }
        // The provider answers; the broker writes too. Each is named by its organisation.
        expect(app.post(&format!("{path}/messages"), Some(&w.provider), &json!({"body": "Yes, behind the hall."})).await, StatusCode::CREATED).await;
        let broker_said = expect(app.post(&format!("{path}/messages"), Some(&c.broker), &json!({"body": "Thank you."})).await, StatusCode::CREATED).await;
        assert_eq!((broker_said["author_role"].as_str(), broker_said["author_name"].as_str(), broker_said["mine"].as_bool()), (Some("broker"), Some("Wandle Brokerage"), Some(true)));
        let thread = expect(app.get(&path, Some(&w.family)).await, StatusCode::OK).await;
        let names: Vec<&str> = thread["messages"].as_array().unwrap().iter().map(|m| m["author_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Family", "Wandle Club", "Wandle Brokerage"], "{thread}");
        assert!(!thread.to_string().contains('@'), "no email address in a thread: {thread}");
        assert_eq!((thread["subject"].as_str(), thread["other_party"].as_str(), thread["can_add_council"].as_bool()), (Some("Saturday Club"), Some("Wandle Club"), Some(true)));
        assert_eq!(thread["council_added_at"], Value::Null);
        // Providers answer; they do not start conversations. Officers cannot add themselves.
        expect_error(app.post("/threads", Some(&w.provider), &json!({"service_id": w.service["id"], "body": "Hi"})).await, StatusCode::FORBIDDEN, "forbidden", None).await;

        // The provider adds the council: its officers read and write; another council still does not.
        let added = expect(app.post(&format!("{path}/council"), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        assert!(added["council_added_at"].is_string() && added["can_add_council"] == false, "{added}");
        let seen = expect(app.get(&path, Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(seen["messages"].as_array().unwrap().len(), 3);
        let said = expect(app.post(&format!("{path}/messages"), Some(&w.council), &json!({"body": "We can help with transport."})).await, StatusCode::CREATED).await;
        assert_eq!((said["author_role"].as_str(), said["author_name"].as_str()), (Some("council"), Some("Council")));
        expect_error(app.post(&format!("{path}/council"), Some(&w.council), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let listed = expect(app.get("/threads", Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!((listed["total"].as_u64(), listed["threads"][0]["other_party"].as_str()), (Some(1), Some("Family and Wandle Club")), "{listed}");
        assert_eq!(status_of(&app, &path, &c.ealing).await, StatusCode::NOT_FOUND);
        assert_eq!(status_of(&app, &path, &c.other_provider).await, StatusCode::NOT_FOUND);
        // Adding it again changes nothing.
        let again = expect(app.post(&format!("{path}/council"), Some(&w.family), &json!({})).await, StatusCode::OK).await;
        assert_eq!(again["council_added_at"], added["council_added_at"]);
        // The officer's reading and writing are in the plan's access record; the provider's are not.
        let log = expect(app.get(&format!("/budget-holders/{}/access-log?per_page=200", w.holder["id"]), Some(&w.family)).await, StatusCode::OK).await;
        let actions: Vec<(&str, &str)> = log["entries"].as_array().unwrap().iter().map(|e| (e["role"].as_str().unwrap(), e["action"].as_str().unwrap())).collect();
        for expected in [("council", "read messages"), ("council", "wrote a message"), ("council", "listed messages")] {
            assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
        }
        assert!(!actions.iter().any(|(role, action)| *role == "provider" && action.contains("message")), "{actions:?}");
    }

    #[tokio::test]
    async fn unread_counts_go_up_with_each_message_and_down_when_read() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        assert_eq!(unread(&app, &w.provider).await, (0, vec![]));
        let id = start(&app, &w.family, &json!({"service_id": w.service["id"], "body": "Do you take children who use a wheelchair?"})).await;
        assert_eq!(unread(&app, &w.provider).await, (1, vec![1]));
        assert_eq!(unread(&app, &w.family).await, (0, vec![0]), "one's own message is read");
        expect(app.get(&format!("/threads/{id}"), Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(unread(&app, &w.provider).await, (0, vec![0]));
        for body in ["Yes: the hall has ramps.", "And an accessible toilet."] {
            expect(app.post(&format!("/threads/{id}/messages"), Some(&w.provider), &json!({"body": body})).await, StatusCode::CREATED).await;
        }
        assert_eq!(unread(&app, &w.family).await, (2, vec![2]));
        // A second question: the newest activity is listed first.
        let second = start(&app, &w.family, &json!({"service_id": w.service["id"], "body": "What should Sam bring?"})).await;
        let list = expect(app.get("/threads", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!((list["threads"][0]["id"].as_i64(), list["threads"][1]["id"].as_i64()), (Some(second), Some(id)));
        assert_eq!((list["unread_total"].as_u64(), list["threads"][0]["unread"].as_u64()), (Some(1), Some(1)));
        let paged = expect(app.get("/threads?per_page=1&page=2", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!((paged["total"].as_u64(), paged["threads"][0]["id"].as_i64(), paged["unread_total"].as_u64()), (Some(2), Some(id), Some(1)));
        expect(app.get(&format!("/threads/{id}"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(unread(&app, &w.family).await, (0, vec![0, 0]));
        expect_error(app.get("/threads?per_page=0", Some(&w.provider)).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("per_page")).await;
    }

    #[tokio::test]
    async fn a_message_is_plain_text_of_1_to_2000_characters_and_20_an_hour() {
        let app = spawn().await;
        let c = cast(&app).await;
        let w = &c.w;
        let about = |body: &str| json!({"service_id": w.service["id"], "body": body});
        for body in ["", "   \n  ", &"a".repeat(2001)] {
            expect_error(app.post("/threads", Some(&w.family), &about(body)).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("body")).await;
        }
        expect_error(app.post("/threads", Some(&w.family), &json!({"service_id": w.service["id"]})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("body")).await;
        expect_error(app.post("/threads", Some(&w.family), &json!({"body": "Hi"})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("service_id")).await;
        expect_error(app.post("/threads", Some(&w.family), &json!({"service_id": w.service["id"], "booking_id": 1, "body": "Hi"})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("booking_id")).await;
        expect_error(app.post("/threads", Some(&w.family), &json!({"service_id": 999999, "body": "Hi"})).await, StatusCode::NOT_FOUND, "not_found", Some("service_id")).await;
        expect_error(app.post("/threads", Some(&w.family), &json!({"booking_id": 999999, "body": "Hi"})).await, StatusCode::NOT_FOUND, "not_found", Some("booking_id")).await;
        // Someone else's plan is as unknown as a plan that does not exist.
        let theirs = json!({"service_id": w.service["id"], "budget_holder_id": c.other_holder["id"], "body": "Hi"});
        expect_error(app.post("/threads", Some(&w.family), &theirs).await, StatusCode::NOT_FOUND, "not_found", Some("budget_holder_id")).await;
        expect_error(app.post("/threads", Some(&c.other_broker), &theirs).await, StatusCode::NOT_FOUND, "not_found", Some("budget_holder_id")).await;
        // A broker says which family's plan.
        expect_error(app.post("/threads", Some(&c.broker), &about("Hi")).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("budget_holder_id")).await;
        let for_sam = json!({"service_id": w.service["id"], "budget_holder_id": w.holder["id"], "body": "Hi from the broker"});
        start(&app, &c.broker, &for_sam).await;
        // A draft is nobody's to ask about but its provider's.
        let mut draft = saturday_club();
        draft["status"] = "draft".into();
        let draft = app.service(&w.provider, &draft).await;
        expect_error(app.post("/threads", Some(&w.family), &json!({"service_id": draft["id"], "body": "Hi"})).await, StatusCode::NOT_FOUND, "not_found", Some("service_id")).await;

        // 2000 characters (counted as characters, not bytes) is the most.
        let id = start(&app, &w.family, &about(&format!("  {}  ", "é".repeat(2000)))).await;
        let thread = expect(app.get(&format!("/threads/{id}"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(thread["messages"][0]["body"].as_str().unwrap().chars().count(), 2000);
        // Markup is kept as text.
        let said = expect(app.post(&format!("/threads/{id}/messages"), Some(&w.family), &json!({"body": "<b>bold</b>\r\nnext line"})).await, StatusCode::CREATED).await;
        assert_eq!(said["body"], "<b>bold</b>\nnext line");
        expect_error(app.post(&format!("/threads/{id}/messages"), Some(&w.family), &json!({"body": " "})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("body")).await;

        // 2 posted so far this hour by the family; 18 more are allowed, the 21st is refused.
        for n in 3..=20 {
            expect(app.post(&format!("/threads/{id}/messages"), Some(&w.family), &json!({"body": format!("Message {n}")})).await, StatusCode::CREATED).await;
        }
        let refused = app.post(&format!("/threads/{id}/messages"), Some(&w.family), &json!({"body": "One too many"})).await;
        let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&wait), "{wait}");
        expect_error(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", None).await;
        // Starting a new thread counts too; nothing was stored by the refusals.
        expect_error(app.post("/threads", Some(&w.family), &about("Another question")).await, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", None).await;
        let thread = expect(app.get(&format!("/threads/{id}"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(thread["messages"].as_array().unwrap().len(), 20);
        // The limit is the author's: the provider still answers.
        expect(app.post(&format!("/threads/{id}/messages"), Some(&w.provider), &json!({"body": "Got them all"})).await, StatusCode::CREATED).await;
    }

    #[tokio::test]
    async fn a_booking_keeps_one_thread_with_its_plan_and_provider() {
        let app = spawn().await;
        let c = cast(&app).await;
        let w = &c.w;
        let booked = expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 2).await, StatusCode::CREATED).await;
        let booking = booked["id"].clone();
        let reference = booked["reference"].as_str().unwrap().to_string();
        let id = start(&app, &w.family, &json!({"booking_id": booking, "body": "Sam will be late on the first Saturday."})).await;
        // Writing about it again (the broker, here) adds to the same thread.
        let again = start(&app, &c.broker, &json!({"booking_id": booking, "body": "Noted by the broker."})).await;
        assert_eq!(again, id);
        let thread = expect(app.get(&format!("/threads/{id}"), Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!((thread["about"]["kind"].as_str(), thread["about"]["booking_id"].clone()), (Some("booking"), booking.clone()));
        assert_eq!(thread["budget_holder_id"], w.holder["id"]);
        assert!(thread["subject"].as_str().unwrap().contains(&reference), "{thread}");
        assert_eq!((thread["other_party"].as_str(), thread["messages"].as_array().unwrap().len()), (Some("Family"), 2));
        // Someone else's booking is not found; the booking's own plan may be named, another may not.
        expect_error(app.post("/threads", Some(&c.other_family), &json!({"booking_id": booking, "body": "Hi"})).await, StatusCode::NOT_FOUND, "not_found", Some("booking_id")).await;
        expect_error(app.post("/threads", Some(&c.other_broker), &json!({"booking_id": booking, "body": "Hi"})).await, StatusCode::NOT_FOUND, "not_found", Some("booking_id")).await;
        let wrong = json!({"booking_id": booking, "budget_holder_id": c.other_holder["id"], "body": "Hi"});
        expect_error(app.post("/threads", Some(&w.family), &wrong).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("budget_holder_id")).await;
        let right = json!({"booking_id": booking, "budget_holder_id": w.holder["id"], "body": "Thank you"});
        assert_eq!(start(&app, &w.family, &right).await, id);
        assert_eq!(status_of(&app, &format!("/threads/{id}"), &c.other_provider).await, StatusCode::NOT_FOUND);

        // Cancelled, the booking keeps its conversation, and it goes on.
        expect(app.post(&format!("/bookings/{booking}/cancel"), Some(&w.family), &json!({})).await, StatusCode::OK).await;
        expect(app.post(&format!("/threads/{id}/messages"), Some(&w.provider), &json!({"body": "Sorry you cannot come."})).await, StatusCode::CREATED).await;
        let kept = expect(app.get(&format!("/threads/{id}"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(kept["messages"].as_array().unwrap().len(), 4);
        let list = expect(app.get("/threads", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!((list["total"].as_u64(), list["threads"][0]["about"]["booking_id"].clone()), (Some(1), booking));

        // Two first messages about another booking at once: one thread, both messages in it.
        let second = expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CREATED).await;
        let (a, b) = (json!({"booking_id": second["id"], "body": "From the family"}), json!({"booking_id": second["id"], "body": "From the broker"}));
        let (one, two) = tokio::join!(start(&app, &w.family, &a), start(&app, &c.broker, &b));
        assert_eq!(one, two);
        let both = expect(app.get(&format!("/threads/{one}"), Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(both["messages"].as_array().unwrap().len(), 2, "{both}");
    }
}
