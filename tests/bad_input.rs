//! Bad input of every shape gets a clear 4xx naming the field, and nothing stored is lost.

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn service_error(app: &TestApp, token: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut body = saturday_club();
    edit(&mut body);
    let res = app.post("/services", Some(token), &body).await;
    let status = res.status();
    let body = expect(res, status).await;
    assert!(status.is_client_error(), "{status} {body}");
    body
}

/// A change that spoils a valid request body.
type Edit = Box<dyn FnOnce(&mut Value)>;

fn field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

both_backends! {
    #[tokio::test]
    async fn services_refuse_every_kind_of_bad_field() {
        let app = spawn().await;
        let (org, token) = app.provider("Wandle Club", "staff@wandle.example").await;
        let cases: Vec<(&str, Edit)> = vec![
            ("name", Box::new(|b| b["name"] = json!("   "))),
            ("name", Box::new(|b| b["name"] = json!("x".repeat(5000)))),
            (
                "description",
                Box::new(|b| b["description"] = json!("x".repeat(20_000))),
            ),
            ("name", Box::new(|b| b["name"] = json!(42))),
            (
                "outcomes[1]",
                Box::new(|b| b["outcomes"] = json!(["pfa-employment", "not-a-term"])),
            ),
            (
                "service_types[0]",
                Box::new(|b| b["service_types"] = json!(["pfa-employment"])),
            ),
            ("min_age", Box::new(|b| b["min_age"] = json!(-1))),
            ("max_age", Box::new(|b| b["max_age"] = json!(26))),
            (
                "max_age",
                Box::new(|b| {
                    b["min_age"] = json!(12);
                    b["max_age"] = json!(6);
                }),
            ),
            ("min_age", Box::new(|b| b["min_age"] = json!("five"))),
            (
                "funding_streams[0]",
                Box::new(|b| b["funding_streams"] = json!(["lottery"])),
            ),
            ("funding_streams", Box::new(|b| b["funding_streams"] = json!([]))),
            (
                "location.postcode",
                Box::new(|b| b["location"]["postcode"] = json!("NOT A POSTCODE")),
            ),
            ("location.lat", Box::new(|b| b["location"]["lat"] = json!(123.0))),
            ("location.lon", Box::new(|b| b["location"]["lon"] = Value::Null)),
            ("reach_miles", Box::new(|b| b["reach_miles"] = json!(-5))),
            ("capacity", Box::new(|b| b["capacity"] = json!(0))),
            ("status", Box::new(|b| b["status"] = json!("live"))),
            ("price_options", Box::new(|b| b["price_options"] = json!([]))),
            (
                "price_options[0].price",
                Box::new(|b| b["price_options"][0]["price"] = json!("-45.00")),
            ),
            (
                "price_options[0].price",
                Box::new(|b| b["price_options"][0]["price"] = json!("45.001")),
            ),
            (
                "price_options[0].price",
                Box::new(|b| b["price_options"][0]["price"] = json!(45.0)),
            ),
            (
                "price_options[0].price",
                Box::new(|b| b["price_options"][0]["price"] = json!("forty five")),
            ),
            (
                "price_options[0].price",
                Box::new(|b| b["price_options"][0]["price"] = json!("99999999999.00")),
            ),
            (
                "price_options[0].price",
                Box::new(|b| b["price_options"][0]["price"] = Value::Null),
            ),
            (
                "price_options[0].unit",
                Box::new(|b| b["price_options"][0]["unit"] = json!("fortnight")),
            ),
            (
                "price_options[0].label",
                Box::new(|b| b["price_options"][0]["label"] = json!("")),
            ),
            (
                "price_options[1].fcr.occupancy",
                Box::new(|b| b["price_options"][1]["fcr"]["occupancy"] = json!("1.5")),
            ),
            (
                "price_options[1].fcr.occupancy",
                Box::new(|b| b["price_options"][1]["fcr"]["occupancy"] = json!("0")),
            ),
            (
                "price_options[1].fcr.units_per_year",
                Box::new(|b| b["price_options"][1]["fcr"]["units_per_year"] = json!(0)),
            ),
            (
                "price_options[1].fcr.annual_overheads",
                Box::new(|b| b["price_options"][1]["fcr"]["annual_overheads"] = json!("-1.00")),
            ),
            ("colour", Box::new(|b| b["colour"] = json!("blue"))),
            (
                "price_options[0].id",
                Box::new(|b| b["price_options"][0]["id"] = json!(1)),
            ),
        ];
        for (expected, edit) in cases {
            let body = service_error(&app, &token, edit).await;
            let got = field(&body);
            // Unknown fields are reported by serde at the object they appear in.
            if expected == "colour" {
                assert!(body["error"]["message"].as_str().unwrap().contains("colour"), "{body}");
            } else {
                assert_eq!(got, expected, "{body}");
            }
        }
        // None of those created anything.
        let listed = expect(
            app.get(&format!("/organisations/{org}/services"), Some(&token)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["services"].as_array().unwrap().len(), 0);
    }

    #[tokio::test]
    async fn several_problems_are_all_reported() {
        let app = spawn().await;
        let (_, token) = app.provider("Wandle Club", "staff@wandle.example").await;
        let body = service_error(&app, &token, |b| {
            b["name"] = json!("");
            b["capacity"] = json!(0);
            b["price_options"][0]["label"] = json!("");
        })
        .await;
        assert_eq!(body["error"]["code"], "invalid");
        let fields: Vec<_> = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(fields, ["name", "capacity", "price_options[0].label"]);
    }

    #[tokio::test]
    async fn malformed_bodies_and_headers() {
        let app = spawn().await;
        let (_, token) = app.provider("Wandle Club", "staff@wandle.example").await;
        let raw = |body: &'static str, content_type: &'static str| {
            app.client
                .post(app.url("/services"))
                .bearer_auth(&token)
                .header("Content-Type", content_type)
                .body(body)
                .send()
        };
        expect_error(
            raw("{\"name\": ", "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        )
        .await;
        expect_error(
            raw("", "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        )
        .await;
        expect_error(
            raw("[1,2,3]", "application/json").await.unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            None,
        )
        .await;
        expect_error(
            raw("name=x", "application/x-www-form-urlencoded").await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        )
        .await;
        let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
        let res = app
            .client
            .post(app.url("/services"))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "too_large", None).await;
        // Paths that are not numbers are unknown resources, not server errors.
        expect_error(
            app.get("/services/abc", None).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;
        expect_error(
            app.get("/nowhere", None).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;
        expect_error(
            app.get("/taxonomy?vocabulary=colours", None).await,
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            Some("vocabulary"),
        )
        .await;
    }

    #[tokio::test]
    async fn budget_holders_refuse_bad_plans() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let cases: Vec<(&str, Edit)> = vec![
            ("plan_end", Box::new(|b| b["plan_end"] = json!("2026-01-01"))),
            ("plan_start", Box::new(|b| b["plan_start"] = json!("2026-02-30"))),
            ("date_of_birth", Box::new(|b| b["date_of_birth"] = json!("1990-01-01"))),
            ("date_of_birth", Box::new(|b| b["date_of_birth"] = json!("2099-01-01"))),
            ("postcode", Box::new(|b| b["postcode"] = json!("12345"))),
            ("reference", Box::new(|b| b["reference"] = json!(""))),
            ("first_name", Box::new(|b| b["first_name"] = json!("x".repeat(1000)))),
            (
                "family.email",
                Box::new(|b| b["family"]["email"] = json!("not-an-email")),
            ),
            (
                "family.password",
                Box::new(|b| b["family"]["password"] = json!("short")),
            ),
            ("outcomes", Box::new(|b| b["outcomes"] = json!([]))),
            (
                "outcomes[0].terms[0]",
                Box::new(|b| b["outcomes"][0]["terms"] = json!(["need-autism"])),
            ),
            ("outcomes[0].terms", Box::new(|b| b["outcomes"][0]["terms"] = json!([]))),
            (
                "allocations[0].amount",
                Box::new(|b| b["allocations"][0]["amount"] = json!("-10.00")),
            ),
            (
                "allocations[0].amount",
                Box::new(|b| b["allocations"][0]["amount"] = json!("10.555")),
            ),
            (
                "allocations[0].amount",
                Box::new(|b| b["allocations"][0]["amount"] = json!(10)),
            ),
            (
                "allocations[0].stream",
                Box::new(|b| b["allocations"][0]["stream"] = json!("transport")),
            ),
            (
                "allocations[0].management",
                Box::new(|b| b["allocations"][0]["management"] = json!("cash")),
            ),
            (
                "allocations[0].admin_fee",
                Box::new(|b| b["allocations"][0]["admin_fee"] = json!("5.00")),
            ),
            (
                "allocations[1].stream",
                Box::new(|b| {
                    b["allocations"] = json!([
                {"stream": "health", "management": "organised", "amount": "1.00"},
                {"stream": "health", "management": "organised", "amount": "2.00"}])
                }),
            ),
        ];
        for (expected, edit) in cases {
            let mut body = sam("EHC-0001", "parent@family.example", "1200.00");
            edit(&mut body);
            let res = app.post("/budget-holders", Some(&council), &body).await;
            let status = res.status();
            let body = expect(res, status).await;
            assert!(status.is_client_error(), "{status} {body}");
            assert_eq!(field(&body), expected, "{body}");
        }
        let listed = expect(app.get("/budget-holders", Some(&council)).await, StatusCode::OK).await;
        assert_eq!(
            listed["budget_holders"].as_array().unwrap().len(),
            0,
            "nothing half-written"
        );
        // The family login of a refused plan was not created either.
        expect_error(
            app.post(
                "/auth/login",
                None,
                &json!({"email": "parent@family.example", "password": PASSWORD}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        )
        .await;
    }

    #[tokio::test]
    async fn bookings_refuse_bad_requests_and_leave_the_money_alone() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let good = json!({"budget_holder_id": w.holder["id"], "allocation_id": w.holder["allocations"][0]["id"], "price_option_id": option_id(&w.service, 0), "quantity": 1});
        for (expected, status, edit) in [
            ("quantity", StatusCode::UNPROCESSABLE_ENTITY, json!({"quantity": 0})),
            ("quantity", StatusCode::UNPROCESSABLE_ENTITY, json!({"quantity": 1001})),
            ("quantity", StatusCode::BAD_REQUEST, json!({"quantity": 1.5})),
            ("quantity", StatusCode::BAD_REQUEST, json!({"quantity": "2"})),
            ("allocation_id", StatusCode::BAD_REQUEST, json!({"allocation_id": null})),
            (
                "budget_holder_id",
                StatusCode::NOT_FOUND,
                json!({"budget_holder_id": 999999}),
            ),
        ] {
            let mut body = good.clone();
            for (k, v) in edit.as_object().unwrap() {
                body[k] = v.clone();
            }
            let res = app.post("/bookings", Some(&w.family), &body).await;
            let body = expect(res, status).await;
            assert_eq!(field(&body), expected, "{body}");
        }
        for key in ["", "has space", &"k".repeat(300)] {
            let res = app
                .client
                .post(app.url("/bookings"))
                .bearer_auth(&w.family)
                .header("Idempotency-Key", key)
                .json(&good)
                .send()
                .await
                .unwrap();
            expect_error(res, StatusCode::BAD_REQUEST, "invalid_header", Some("Idempotency-Key")).await;
        }
        let plan = expect(
            app.get(&format!("/budget-holders/{}", w.holder["id"]), Some(&w.family))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(plan["allocations"][0]["remaining"], "500.00");
        let bookings = expect(app.get("/bookings", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(bookings["bookings"].as_array().unwrap().len(), 0);
    }

    #[tokio::test]
    async fn provider_registration_checks_its_fields() {
        let app = spawn().await;
        for (expected, org, user) in [
            (
                "organisation.name",
                json!({"name": "", "kind": "vcs"}),
                json!({"email": "a@b.example", "password": PASSWORD}),
            ),
            (
                "organisation.kind",
                json!({"name": "X", "kind": "charity"}),
                json!({"email": "a@b.example", "password": PASSWORD}),
            ),
            (
                "organisation.charity_number",
                json!({"name": "X", "kind": "vcs", "charity_number": "abc"}),
                json!({"email": "a@b.example", "password": PASSWORD}),
            ),
            (
                "organisation.company_number",
                json!({"name": "X", "kind": "private", "company_number": "123"}),
                json!({"email": "a@b.example", "password": PASSWORD}),
            ),
            (
                "organisation.website",
                json!({"name": "X", "kind": "vcs", "website": "javascript:alert(1)"}),
                json!({"email": "a@b.example", "password": PASSWORD}),
            ),
            (
                "user.email",
                json!({"name": "X", "kind": "vcs"}),
                json!({"email": "nope", "password": PASSWORD}),
            ),
            (
                "user.password",
                json!({"name": "X", "kind": "vcs"}),
                json!({"email": "a@b.example", "password": "123"}),
            ),
            ("user", json!({"name": "X", "kind": "vcs"}), Value::Null),
        ] {
            let res = app
                .post("/providers", None, &json!({"organisation": org, "user": user}))
                .await;
            let status = res.status();
            let body = expect(res, status).await;
            assert!(status.is_client_error(), "{body}");
            assert_eq!(field(&body), expected, "{body}");
        }
    }

    #[tokio::test]
    async fn mailed_links_and_email_choices_refuse_bad_fields_and_keep_what_is_stored() {
        let app = spawn().await;
        let family = {
            let council = app.council("Merton", "officer@merton.example").await;
            app.holder(&council, &sam("EHC-0001", "parent@family.example", "100.00")).await;
            app.login("parent@family.example", PASSWORD).await
        };
        let token = "a".repeat(64);
        for (path, body, status, expected) in [
            ("/auth/password-reset", json!({}), 400, "email"),
            ("/auth/password-reset", json!({"email": 7}), 400, "email"),
            ("/auth/password-reset", json!({"email": "nope"}), 422, "email"),
            ("/auth/password-reset", json!({"email": "a@b.example", "extra": 1}), 400, "extra"),
            ("/auth/password-reset/confirm", json!({"token": token}), 400, "password"),
            ("/auth/password-reset/confirm", json!({"token": token, "password": "short"}), 422, "password"),
            ("/auth/password-reset/confirm", json!({"token": token, "password": PASSWORD}), 404, "token"),
            ("/auth/confirm-email", json!({"token": ["x"]}), 400, "token"),
            ("/auth/confirm-email", json!({"token": token}), 404, "token"),
        ] {
            let res = app.post(path, None, &body).await;
            assert_eq!(res.status().as_u16(), status, "{path} {body}");
            let answer = expect(res, reqwest::StatusCode::from_u16(status).unwrap()).await;
            assert_eq!(field(&answer), expected, "{path} {body}: {answer}");
        }
        let res = app.post(&format!("/invitations/{token}/accept"), None, &json!({"password": 12})).await;
        assert_eq!(field(&expect(res, StatusCode::BAD_REQUEST).await), "password");
        let before = expect(app.get("/me/notification-preferences", Some(&family)).await, StatusCode::OK).await;
        for (body, status, expected) in [
            (json!({}), 400, "events"),
            (json!({"events": []}), 400, "events"),
            (json!({"events": {"session_reminder": 1}}), 400, "events.session_reminder"),
            (json!({"events": {"no_such_event": false}}), 422, "events.no_such_event"),
            (json!({"events": {"session_reminder": false, "invoice_paid": false}}), 422, "events.invoice_paid"),
        ] {
            let res = app.put("/me/notification-preferences", Some(&family), &body).await;
            assert_eq!(res.status().as_u16(), status, "{body}");
            let answer = expect(res, reqwest::StatusCode::from_u16(status).unwrap()).await;
            assert_eq!(field(&answer), expected, "{body}: {answer}");
        }
        let after = expect(app.get("/me/notification-preferences", Some(&family)).await, StatusCode::OK).await;
        assert_eq!(before, after, "a refused change keeps every choice");
        let res = app.post("/notifications/read", Some(&family), &json!({"up_to": "all"})).await;
        assert_eq!(field(&expect(res, StatusCode::BAD_REQUEST).await), "up_to");
    }

    #[tokio::test]
    async fn a_ras_and_a_request_refuse_every_kind_of_bad_field_and_keep_what_is_stored() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let ras = || json!({
            "name": "Short breaks RAS", "stream": "social_care",
            "questions": [{"id": "healthy", "text": "Health?", "answers": [{"label": "None", "points": 0}, {"label": "A lot", "points": 10}]}],
            "allocation": {"bands": [{"min_points": 0, "max_points": 10, "amount": "500.00"}]}
        });
        let stored = expect(app.post("/ras", Some(&council), &ras()).await, StatusCode::CREATED).await;
        let cases: Vec<(&str, Edit)> = vec![
            ("name", Box::new(|b| b["name"] = json!(""))),
            ("stream", Box::new(|b| b["stream"] = json!("lottery"))),
            ("questions", Box::new(|b| b["questions"] = json!([]))),
            ("questions[0].id", Box::new(|b| b["questions"][0]["id"] = json!("has space"))),
            ("questions[0].answers[1].points", Box::new(|b| b["questions"][0]["answers"][1]["points"] = json!(-3))),
            ("questions[0].answers[1].points", Box::new(|b| b["questions"][0]["answers"][1]["points"] = json!(2.5))),
            ("allocation.bands", Box::new(|b| b["allocation"]["bands"][0]["max_points"] = json!(9))),
            ("allocation.bands[0].amount", Box::new(|b| b["allocation"]["bands"][0]["amount"] = json!(500))),
            ("allocation", Box::new(|b| b["allocation"] = json!({"bands": [], "per_point": "1.00", "cap": "2.00"}))),
            ("allocation.cap", Box::new(|b| b["allocation"] = json!({"per_point": "1.00"}))),
        ];
        for (expected, edit) in cases {
            let mut body = ras();
            edit(&mut body);
            let res = app.post("/ras", Some(&council), &body).await;
            let status = res.status();
            let answer = expect(res, status).await;
            assert!(status.is_client_error(), "{status} {answer}");
            assert_eq!(field(&answer), expected, "{answer}");
        }
        let list = expect(app.get("/ras", Some(&council)).await, StatusCode::OK).await;
        assert_eq!(list["total"], 1, "nothing else was stored: {list}");
        let mut holder = sam("EHC-0300", "parent@family.example", "1.00");
        holder["allocations"] = json!([]);
        let holder = app.holder(&council, &holder).await;
        let request = || json!({"budget_holder_id": holder["id"], "kind": "new_plan", "streams": ["social_care"]});
        let cases: Vec<(&str, Edit)> = vec![
            ("kind", Box::new(|b| b["kind"] = json!("whenever"))),
            ("streams", Box::new(|b| b["streams"] = json!([]))),
            ("streams[1]", Box::new(|b| b["streams"] = json!(["health", "health"]))),
            ("preferred_management", Box::new(|b| b["preferred_management"] = json!("cash"))),
            ("received_on", Box::new(|b| b["received_on"] = json!("2020-01-01"))),
            ("notes", Box::new(|b| b["notes"] = json!("x".repeat(3000)))),
            ("budget_holder_id", Box::new(|b| b["budget_holder_id"] = json!("seven"))),
        ];
        for (expected, edit) in cases {
            let mut body = request();
            edit(&mut body);
            let res = app.post("/pb-requests", Some(&council), &body).await;
            let status = res.status();
            let answer = expect(res, status).await;
            assert!(status.is_client_error(), "{status} {answer}");
            assert_eq!(field(&answer), expected, "{answer}");
        }
        let made = expect(app.post("/pb-requests", Some(&council), &request()).await, StatusCode::CREATED).await;
        let path = format!("/pb-requests/{}/assessments", made["id"]);
        let answers: Vec<(&str, Value)> = vec![
            ("answers.healthy", json!({"healthy": 2})),
            ("answers.healthy", json!({})),
            ("answers.other", json!({"healthy": 0, "other": 1})),
        ];
        for (expected, answers) in answers {
            let res = app.post(&path, Some(&council), &json!({"ras_id": stored["id"], "answers": answers})).await;
            let answer = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid", None).await;
            let named: Vec<_> = answer["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap_or("").to_string()).collect();
            assert!(named.iter().any(|f| f == expected), "{expected}: {answer}");
        }
        let unknown = app.post(&path, Some(&council), &json!({"ras_id": 999999, "answers": {}})).await;
        expect_error(unknown, StatusCode::NOT_FOUND, "not_found", Some("ras_id")).await;
        let still = expect(app.get(&format!("/pb-requests/{}", made["id"]), Some(&council)).await, StatusCode::OK).await;
        assert_eq!((still["status"].as_str(), still["assessments"].as_array().map(Vec::len)), (Some("received"), Some(0)));
        let ras_after = expect(app.get(&format!("/ras/{}", stored["id"]), Some(&council)).await, StatusCode::OK).await;
        assert_eq!(ras_after["in_use"], false, "a refused assessment does not freeze the RAS");
    }

    #[tokio::test]
    async fn threads_and_messages_name_each_bad_field_and_store_nothing() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let good = json!({"service_id": w.service["id"], "body": "Is there parking?"});
        for (expected, status, edit) in [
            ("body", StatusCode::UNPROCESSABLE_ENTITY, json!({"body": ""})),
            ("body", StatusCode::UNPROCESSABLE_ENTITY, json!({"body": "x".repeat(2001)})),
            ("body", StatusCode::UNPROCESSABLE_ENTITY, json!({"body": "bell\u{7}"})),
            ("body", StatusCode::BAD_REQUEST, json!({"body": 42})),
            ("body", StatusCode::BAD_REQUEST, json!({"body": null})),
            ("service_id", StatusCode::BAD_REQUEST, json!({"service_id": "one"})),
            ("service_id", StatusCode::BAD_REQUEST, json!({"service_id": 1.5})),
            ("service_id", StatusCode::NOT_FOUND, json!({"service_id": 999999})),
            ("booking_id", StatusCode::BAD_REQUEST, json!({"booking_id": []})),
            ("booking_id", StatusCode::UNPROCESSABLE_ENTITY, json!({"booking_id": 1})),
            ("budget_holder_id", StatusCode::BAD_REQUEST, json!({"budget_holder_id": "x"})),
            ("budget_holder_id", StatusCode::NOT_FOUND, json!({"budget_holder_id": 999999})),
            ("subject", StatusCode::BAD_REQUEST, json!({"subject": "Parking"})),
        ] {
            let mut body = good.clone();
            for (k, v) in edit.as_object().unwrap() {
                body[k] = v.clone();
            }
            let res = app.post("/threads", Some(&w.family), &body).await;
            let body = expect(res, status).await;
            assert_eq!(field(&body), expected, "{body}");
        }
        expect_error(app.post("/threads", Some(&w.family), &json!("Is there parking?")).await, StatusCode::BAD_REQUEST, "invalid_field", None).await;
        let made = expect(app.post("/threads", Some(&w.family), &good).await, StatusCode::CREATED).await;
        let path = format!("/threads/{}/messages", made["id"]);
        for (expected, status, body) in [
            ("body", StatusCode::UNPROCESSABLE_ENTITY, json!({})),
            ("body", StatusCode::UNPROCESSABLE_ENTITY, json!({"body": "  "})),
            ("body", StatusCode::BAD_REQUEST, json!({"body": ["a"]})),
            ("text", StatusCode::BAD_REQUEST, json!({"body": "Hi", "text": "Hi"})),
        ] {
            let res = app.post(&path, Some(&w.family), &body).await;
            let body = expect(res, status).await;
            assert_eq!(field(&body), expected, "{body}");
        }
        let res = app.client.post(app.url(&path)).bearer_auth(&w.family).header("Content-Type", "text/plain").body("Hi").send().await.unwrap();
        expect_error(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", None).await;
        expect_error(app.get("/threads/abc", Some(&w.family)).await, StatusCode::NOT_FOUND, "not_found", None).await;
        let list = expect(app.get("/threads", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(list["total"], 1);
        let thread = expect(app.get(&format!("/threads/{}", made["id"]), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(thread["messages"].as_array().unwrap().len(), 1, "{thread}");
    }
}
