//! Every user action of the marketplace core, through the real server.

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

both_backends! {
    #[tokio::test]
    async fn health_and_public_taxonomy() {
        let app = spawn().await;
        let res = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");

        let taxonomy = expect(app.get("/taxonomy", None).await, StatusCode::OK).await;
        let terms = taxonomy["terms"].as_array().unwrap();
        assert!(terms.len() > 50);
        let salt = terms.iter().find(|t| t["id"] == "st-salt").unwrap();
        assert_eq!(salt["vocabulary"], "service_type");
        assert!(
            salt["synonyms"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "speech therapy")
        );
        let outcomes = expect(app.get("/taxonomy?vocabulary=outcome", None).await, StatusCode::OK).await;
        assert!(
            outcomes["terms"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["vocabulary"] == "outcome")
        );
        assert!(
            outcomes["terms"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["id"] == "pfa-employment")
        );
    }

    #[tokio::test]
    async fn a_provider_lists_prices_edits_and_unpublishes_its_service() {
        let app = spawn().await;
        let (org, token) = app.provider("Wandle Club", "staff@wandle.example").await;
        let created = app.service(&token, &saturday_club()).await;
        let id = created["id"].as_i64().unwrap();
        assert_eq!(created["organisation"]["id"], org);
        assert_eq!(created["price_options"][0]["price"], "45.00");
        // The calculator: 65,000 a year over 340 nights sold = 191.18 a night, breakdown kept.
        let overnight = &created["price_options"][1];
        assert_eq!(overnight["price"], "191.18");
        assert_eq!(overnight["fcr"]["annual_full_cost"], "65000.00");
        assert_eq!(overnight["fcr"]["units_sold"], "340");
        assert_eq!(overnight["fcr"]["occupancy"], "0.85");
        assert_eq!(created["location"]["postcode"], "SW19 2HR");

        // Anyone reads a published service without logging in.
        let public = expect(app.get(&format!("/services/{id}"), None).await, StatusCode::OK).await;
        assert_eq!(public["name"], "Saturday Club");
        assert_eq!(public["funding_streams"], json!(["social_care"]));

        // Re-price the session option in place, drop the overnight option, add a holiday day.
        let mut edit = saturday_club();
        edit["name"] = json!("Saturday Club (Wimbledon)");
        edit["price_options"] = json!([
            {"id": option_id(&created, 0), "label": "Saturday session", "unit": "session", "price": "48.50"},
            {"label": "Holiday day", "unit": "day", "price": "90.00"}
        ]);
        let edited = expect(
            app.put(&format!("/services/{id}"), Some(&token), &edit).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(edited["name"], "Saturday Club (Wimbledon)");
        assert_eq!(edited["price_options"].as_array().unwrap().len(), 2);
        assert_eq!(
            edited["price_options"][0]["id"], created["price_options"][0]["id"],
            "re-priced in place"
        );
        assert_eq!(edited["price_options"][0]["price"], "48.50");

        // Unpublished: gone for the public, still there for its owner.
        let res = app
            .post(&format!("/services/{id}/unpublish"), Some(&token), &json!({}))
            .await;
        assert_eq!(expect(res, StatusCode::OK).await["status"], "unpublished");
        expect_error(
            app.get(&format!("/services/{id}"), None).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;
        expect(app.get(&format!("/services/{id}"), Some(&token)).await, StatusCode::OK).await;
        let listed = expect(
            app.get(&format!("/organisations/{org}/services"), None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["services"].as_array().unwrap().len(), 0);
        let own = expect(
            app.get(&format!("/organisations/{org}/services"), Some(&token)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(own["services"].as_array().unwrap().len(), 1);
        app.post(&format!("/services/{id}/publish"), Some(&token), &json!({}))
            .await;
        expect(app.get(&format!("/services/{id}"), None).await, StatusCode::OK).await;
    }

    #[tokio::test]
    async fn providers_cannot_touch_each_others_services() {
        let app = spawn().await;
        let (_, mine) = app.provider("Wandle Club", "staff@wandle.example").await;
        let (_, theirs) = app.provider("Other Club", "staff@other.example").await;
        let service = app.service(&mine, &saturday_club()).await;
        let id = service["id"].as_i64().unwrap();
        let mut edit = saturday_club();
        edit["name"] = json!("Hijacked");
        expect_error(
            app.put(&format!("/services/{id}"), Some(&theirs), &edit).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        expect_error(
            app.post(&format!("/services/{id}/unpublish"), Some(&theirs), &json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        expect_error(
            app.put("/services/999999", Some(&mine), &edit).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;
        let after = expect(app.get(&format!("/services/{id}"), None).await, StatusCode::OK).await;
        assert_eq!(after["name"], "Saturday Club");
        // Price option ids of another service cannot be smuggled into mine.
        let other = app.service(&theirs, &saturday_club()).await;
        let mut smuggle = saturday_club();
        smuggle["price_options"][0]["id"] = other["price_options"][0]["id"].clone();
        expect_error(
            app.put(&format!("/services/{id}"), Some(&mine), &smuggle).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("price_options[0].id"),
        )
        .await;
        // Families, councils and the public cannot list services.
        let council = app.council("Merton", "officer@merton.example").await;
        expect_error(
            app.post("/services", Some(&council), &saturday_club()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        expect_error(
            app.post("/services", None, &saturday_club()).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        )
        .await;
    }

    #[tokio::test]
    async fn a_council_creates_a_plan_and_the_family_books_cancels_and_reads_its_statement() {
        let app = spawn().await;
        let w = world(&app, "1200.00").await;
        let holder_id = w.holder["id"].as_i64().unwrap();
        assert_eq!(w.holder["allocations"][0]["amount"], "1200.00");
        assert_eq!(w.holder["allocations"][0]["remaining"], "1200.00");

        // The family sees its plan.
        let plan = expect(
            app.get(&format!("/budget-holders/{holder_id}"), Some(&w.family)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(plan["outcomes"][0]["terms"], json!(["pfa-friends-community"]));
        let allocation = &plan["allocations"][0];
        assert_eq!(
            (allocation["stream"].as_str(), allocation["management"].as_str()),
            (Some("social_care"), Some("direct_payment"))
        );

        // Six Saturday sessions.
        let res = app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 6).await;
        let booking = expect(res, StatusCode::CREATED).await;
        assert_eq!(booking["status"], "requested");
        assert_eq!(booking["total"], "270.00");
        assert_eq!(booking["remaining"], "930.00");
        assert_eq!(booking["allocation_id"], w.holder["allocations"][0]["id"]);
        let plan = expect(
            app.get(&format!("/budget-holders/{holder_id}"), Some(&w.family)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(plan["allocations"][0]["committed"], "270.00");
        assert_eq!(plan["allocations"][0]["remaining"], "930.00");

        // Re-pricing the service changes no existing booking.
        let mut repriced = saturday_club();
        repriced["price_options"] =
            json!([{"id": option_id(&w.service, 0), "label": "Saturday session", "unit": "session", "price": "60.00"}]);
        expect(
            app.put(&format!("/services/{}", w.service["id"]), Some(&w.provider), &repriced)
                .await,
            StatusCode::OK,
        )
        .await;
        let id = booking["id"].as_i64().unwrap();
        let kept = expect(
            app.get(&format!("/bookings/{id}"), Some(&w.family)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (kept["unit_price"].as_str(), kept["total"].as_str()),
            (Some("45.00"), Some("270.00"))
        );

        // Cancel: the money comes back to the allocation.
        let cancelled = expect(
            app.post(&format!("/bookings/{id}/cancel"), Some(&w.family), &json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(cancelled["status"], "cancelled");
        let plan = expect(
            app.get(&format!("/budget-holders/{holder_id}"), Some(&w.family)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(plan["allocations"][0]["remaining"], "1200.00");
        expect_error(
            app.post(&format!("/bookings/{id}/cancel"), Some(&w.family), &json!({}))
                .await,
            StatusCode::CONFLICT,
            "invalid_transition",
            None,
        )
        .await;

        // The statement shows every movement with running balances.
        let st = expect(
            app.get(&format!("/budget-holders/{holder_id}/statement"), Some(&w.family))
                .await,
            StatusCode::OK,
        )
        .await;
        let entries = st["entries"].as_array().unwrap();
        // The direct payment's instalments paid in so far change its account, not the balance.
        let kinds: Vec<_> = entries
            .iter()
            .filter(|e| e["kind"] != "paid_in")
            .map(|e| {
                (
                    e["kind"].as_str().unwrap(),
                    e["amount"].as_str().unwrap(),
                    e["balance_after"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("allocated", "1200.00", "1200.00"),
                ("booked", "-270.00", "930.00"),
                ("released", "270.00", "1200.00")
            ]
        );
    }

    #[tokio::test]
    async fn the_provider_confirms_declines_and_delivers() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let option = option_id(&w.service, 0);
        let a = expect(app.book(&w.family, &w.holder, 0, option, 2).await, StatusCode::CREATED).await;
        let b = expect(app.book(&w.family, &w.holder, 0, option, 4).await, StatusCode::CREATED).await;
        assert_eq!(b["remaining"], "730.00");

        let incoming = expect(app.get("/bookings", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(incoming["bookings"].as_array().unwrap().len(), 2);

        let path = |id: &serde_json::Value, verb: &str| format!("/bookings/{id}/{verb}");
        // A family cannot confirm its own booking; a provider cannot cancel on the family's behalf.
        expect_error(
            app.post(&path(&a["id"], "confirm"), Some(&w.family), &json!({})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        expect_error(
            app.post(&path(&a["id"], "cancel"), Some(&w.provider), &json!({})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        // Delivery before confirmation is refused.
        expect_error(
            app.post(&path(&a["id"], "deliver"), Some(&w.provider), &json!({}))
                .await,
            StatusCode::CONFLICT,
            "invalid_transition",
            None,
        )
        .await;

        assert_eq!(
            expect(
                app.post(&path(&a["id"], "confirm"), Some(&w.provider), &json!({}))
                    .await,
                StatusCode::OK
            )
            .await["status"],
            "confirmed"
        );
        assert_eq!(
            expect(
                app.post(&path(&a["id"], "deliver"), Some(&w.provider), &json!({}))
                    .await,
                StatusCode::OK
            )
            .await["status"],
            "delivered"
        );
        assert_eq!(
            expect(
                app.post(&path(&b["id"], "decline"), Some(&w.provider), &json!({}))
                    .await,
                StatusCode::OK
            )
            .await["status"],
            "declined"
        );
        // Delivered money is spent; declined money is back.
        let plan = expect(
            app.get(&format!("/budget-holders/{}", w.holder["id"]), Some(&w.family))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(plan["allocations"][0]["remaining"], "910.00");
        expect_error(
            app.post(&path(&a["id"], "cancel"), Some(&w.family), &json!({})).await,
            StatusCode::CONFLICT,
            "invalid_transition",
            None,
        )
        .await;
        expect_error(
            app.post(&path(&a["id"], "refund"), Some(&w.family), &json!({})).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;
    }

    #[tokio::test]
    async fn nobody_sees_or_spends_what_is_not_theirs() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let holder_id = w.holder["id"].as_i64().unwrap();
        // A second family in the same council, and a second council.
        let other = app
            .holder(&w.council, &sam("EHC-0002", "other@family.example", "500.00"))
            .await;
        let other_family = app.login("other@family.example", PASSWORD).await;
        let other_council = app.council("Sutton", "officer@sutton.example").await;

        for token in [&other_family, &other_council, &w.provider] {
            expect_error(
                app.get(&format!("/budget-holders/{holder_id}"), Some(token)).await,
                StatusCode::FORBIDDEN,
                "forbidden",
                None,
            )
            .await;
            expect_error(
                app.get(&format!("/budget-holders/{holder_id}/statement"), Some(token))
                    .await,
                StatusCode::FORBIDDEN,
                "forbidden",
                None,
            )
            .await;
        }
        expect_error(
            app.get(&format!("/budget-holders/{holder_id}"), None).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        )
        .await;
        expect_error(
            app.get("/budget-holders/424242", Some(&w.family)).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;

        // Booking against someone else's plan, or with their allocation on mine, is refused.
        expect_error(
            app.book(&other_family, &w.holder, 0, option_id(&w.service, 0), 1).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        let cross = json!({"budget_holder_id": holder_id, "allocation_id": other["allocations"][0]["id"], "price_option_id": option_id(&w.service, 0), "quantity": 1});
        expect_error(
            app.post("/bookings", Some(&w.family), &cross).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("allocation_id"),
        )
        .await;
        // Councils create plans; they do not book from them.
        expect_error(
            app.book(&w.council, &w.holder, 0, option_id(&w.service, 0), 1).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        // Only councils create budget holders, and a family cannot create one.
        expect_error(
            app.post(
                "/budget-holders",
                Some(&w.family),
                &sam("X", "x@family.example", "1.00"),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;

        // Lists show only one's own.
        let mine = expect(app.get("/budget-holders", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(mine["budget_holders"].as_array().unwrap().len(), 1);
        let council_view = expect(app.get("/budget-holders", Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(council_view["budget_holders"].as_array().unwrap().len(), 2);
        let sutton = expect(app.get("/budget-holders", Some(&other_council)).await, StatusCode::OK).await;
        assert_eq!(sutton["budget_holders"].as_array().unwrap().len(), 0);

        let booking = expect(
            app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await,
            StatusCode::CREATED,
        )
        .await;
        let (_, stranger) = app.provider("Stranger Ltd", "staff@stranger.example").await;
        expect_error(
            app.get(&format!("/bookings/{}", booking["id"]), Some(&stranger)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        expect_error(
            app.post(
                &format!("/bookings/{}/confirm", booking["id"]),
                Some(&stranger),
                &json!({}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        expect_error(
            app.post(
                &format!("/bookings/{}/cancel", booking["id"]),
                Some(&other_family),
                &json!({}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        let theirs = expect(app.get("/bookings", Some(&other_family)).await, StatusCode::OK).await;
        assert_eq!(theirs["bookings"].as_array().unwrap().len(), 0);
        let strangers = expect(app.get("/bookings", Some(&stranger)).await, StatusCode::OK).await;
        assert_eq!(strangers["bookings"].as_array().unwrap().len(), 0);
    }

    #[tokio::test]
    async fn money_is_committed_only_inside_the_plan_period() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let today = chrono::Utc::now().date_naive();
        let day = |d: i64| (today + chrono::Duration::days(d)).to_string();
        for (reference, email, start, end, code) in [
            ("EHC-LATER", "later@family.example", day(30), day(395), "plan_not_started"),
            ("EHC-OVER", "over@family.example", day(-400), day(-35), "plan_ended"),
        ] {
            let mut plan = sam(reference, email, "500.00");
            plan["plan_start"] = json!(start);
            plan["plan_end"] = json!(end);
            let holder = app.holder(&w.council, &plan).await;
            let family = app.login(email, PASSWORD).await;
            expect_error(
                app.book(&family, &holder, 0, option_id(&w.service, 0), 1).await,
                StatusCode::CONFLICT,
                code,
                Some("budget_holder_id"),
            )
            .await;
            let after = expect(app.get(&format!("/budget-holders/{}", holder["id"]), Some(&family)).await, StatusCode::OK).await;
            assert_eq!(after["allocations"][0]["remaining"], "500.00", "{code}: nothing taken");
        }
    }

    #[tokio::test]
    async fn booking_rules_age_stream_funds_and_availability() {
        let app = spawn().await;
        let w = world(&app, "100.00").await;
        let option = option_id(&w.service, 0);
        // Not enough left: 409 insufficient_funds, and nothing changes.
        expect_error(
            app.book(&w.family, &w.holder, 0, option, 3).await,
            StatusCode::CONFLICT,
            "insufficient_funds",
            None,
        )
        .await;
        let plan = expect(
            app.get(&format!("/budget-holders/{}", w.holder["id"]), Some(&w.family))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(plan["allocations"][0]["remaining"], "100.00");

        // A service for 0-4 year olds refuses a 12 year old.
        let mut toddlers = saturday_club();
        toddlers["min_age"] = json!(0);
        toddlers["max_age"] = json!(4);
        let toddlers = app.service(&w.provider, &toddlers).await;
        expect_error(
            app.book(&w.family, &w.holder, 0, option_id(&toddlers, 0), 1).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("budget_holder_id"),
        )
        .await;

        // A health-only service cannot be paid from social care money.
        let mut therapy = saturday_club();
        therapy["funding_streams"] = json!(["health"]);
        let therapy = app.service(&w.provider, &therapy).await;
        expect_error(
            app.book(&w.family, &w.holder, 0, option_id(&therapy, 0), 1).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("allocation_id"),
        )
        .await;

        // Unpublished services and retired price options cannot be booked.
        app.post(
            &format!("/services/{}/unpublish", therapy["id"]),
            Some(&w.provider),
            &json!({}),
        )
        .await;
        let mut draft = saturday_club();
        draft["status"] = json!("draft");
        let draft = app.service(&w.provider, &draft).await;
        expect_error(
            app.book(&w.family, &w.holder, 0, option_id(&draft, 0), 1).await,
            StatusCode::CONFLICT,
            "not_bookable",
            Some("price_option_id"),
        )
        .await;
        let mut retire = saturday_club();
        retire["price_options"] = json!([{"label": "New price", "unit": "session", "price": "20.00"}]);
        expect(
            app.put(&format!("/services/{}", w.service["id"]), Some(&w.provider), &retire)
                .await,
            StatusCode::OK,
        )
        .await;
        expect_error(
            app.book(&w.family, &w.holder, 0, option, 1).await,
            StatusCode::CONFLICT,
            "not_bookable",
            Some("price_option_id"),
        )
        .await;
        expect_error(
            app.book(&w.family, &w.holder, 0, 987654, 1).await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("price_option_id"),
        )
        .await;

        // Exactly the remaining amount can be spent.
        let fresh = expect(
            app.get(&format!("/services/{}", w.service["id"]), None).await,
            StatusCode::OK,
        )
        .await;
        let booked = expect(
            app.book(&w.family, &w.holder, 0, option_id(&fresh, 0), 5).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(booked["remaining"], "0.00");
        expect_error(
            app.book(&w.family, &w.holder, 0, option_id(&fresh, 0), 1).await,
            StatusCode::CONFLICT,
            "insufficient_funds",
            None,
        )
        .await;
    }

    #[tokio::test]
    async fn third_party_admin_fees_and_brokers() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let (_, provider) = app.provider("Wandle Club", "staff@wandle.example").await;
        let service = app.service(&provider, &saturday_club()).await;
        expect(
            app.post("/providers", None, &json!({"organisation": {"name": "Budget Brokers CIC", "kind": "broker"}, "user": {"email": "staff@broker.example", "password": PASSWORD}})).await,
            StatusCode::ACCEPTED,
        )
        .await;
        let broker_token = app.broker_login("staff@broker.example").await;
        let broker = expect(app.get("/me", Some(&broker_token)).await, StatusCode::OK).await;
        let mut plan = sam("EHC-0009", "parent@family.example", "1000.00");
        plan["broker_organisation_id"] = broker["organisation_id"].clone();
        plan["allocations"] =
            json!([{"stream": "social_care", "management": "third_party", "amount": "1000.00", "admin_fee": "50.00"}]);
        let holder = app.holder(&council, &plan).await;
        assert_eq!(holder["allocations"][0]["committed"], "50.00");
        assert_eq!(holder["allocations"][0]["remaining"], "950.00");

        // The broker sees and books for its family.
        expect(
            app.get(&format!("/budget-holders/{}", holder["id"]), Some(&broker_token))
                .await,
            StatusCode::OK,
        )
        .await;
        let booking = expect(
            app.book(&broker_token, &holder, 0, option_id(&service, 0), 2).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(booking["remaining"], "860.00");
        let st = expect(
            app.get(
                &format!("/budget-holders/{}/statement", holder["id"]),
                Some(&broker_token),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let kinds: Vec<_> = st["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(kinds, ["allocated", "admin_fee", "booked"]);

        // A provider organisation is not a broker.
        let (provider_org, _) = app.provider("Not A Broker", "staff@notbroker.example").await;
        let mut bad = sam("EHC-0010", "p2@family.example", "10.00");
        bad["broker_organisation_id"] = json!(provider_org);
        expect_error(
            app.post("/budget-holders", Some(&council), &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("broker_organisation_id"),
        )
        .await;
    }

    #[tokio::test]
    async fn retried_bookings_do_not_double_book() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let body = json!({"budget_holder_id": w.holder["id"], "allocation_id": w.holder["allocations"][0]["id"], "price_option_id": option_id(&w.service, 0), "quantity": 2});
        let send = |key: &'static str, body: serde_json::Value| {
            let req = app
                .client
                .post(app.url("/bookings"))
                .bearer_auth(&w.family)
                .header("Idempotency-Key", key)
                .json(&body);
            async move { req.send().await.unwrap() }
        };
        let first = expect(send("retry-1", body.clone()).await, StatusCode::CREATED).await;
        let again = send("retry-1", body.clone()).await;
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again = expect(again, StatusCode::CREATED).await;
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["remaining"], "910.00");
        let plan = expect(
            app.get(&format!("/budget-holders/{}", w.holder["id"]), Some(&w.family))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(plan["allocations"][0]["remaining"], "910.00", "charged once");
        // The same key for a different request is a conflict, not a silent replay.
        let mut other = body.clone();
        other["quantity"] = json!(3);
        expect_error(
            send("retry-1", other).await,
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            Some("Idempotency-Key"),
        )
        .await;
        // A new key is a new booking.
        let second = expect(send("retry-2", body).await, StatusCode::CREATED).await;
        assert_ne!(second["id"], first["id"]);
    }

    #[tokio::test]
    async fn sessions_log_in_log_out_and_refuse_bad_tokens() {
        let app = spawn().await;
        let (_, token) = app.provider("Wandle Club", "staff@wandle.example").await;
        let me = expect(app.get("/me", Some(&token)).await, StatusCode::OK).await;
        assert_eq!(me["role"], "provider");
        expect_error(
            app.post(
                "/auth/login",
                None,
                &json!({"email": "staff@wandle.example", "password": "wrong password!"}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        )
        .await;
        expect_error(
            app.post(
                "/auth/login",
                None,
                &json!({"email": "nobody@wandle.example", "password": PASSWORD}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        )
        .await;
        // Odd bytes in an email are a wrong login, not a server error (PostgreSQL cannot store NUL).
        expect_error(app.post("/auth/login", None, &json!({"email": "staff\u{0}@wandle.example", "password": PASSWORD})).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
        // Emails are case-insensitive.
        app.login("STAFF@Wandle.example", PASSWORD).await;
        let res = app
            .client
            .post(app.url("/auth/logout"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        expect_error(
            app.get("/me", Some(&token)).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        )
        .await;
        expect_error(
            app.get("/me", Some("made-up")).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        )
        .await;
        let res = app
            .client
            .get(app.url("/me"))
            .header("Authorization", "Basic abc")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        // Registering a taken email answers as any registration does (see tests/abuse.rs).
        let dup = json!({"organisation": {"name": "Again", "kind": "private"}, "user": {"email": "staff@wandle.example", "password": PASSWORD}});
        let again = expect(app.post("/providers", None, &dup).await, StatusCode::ACCEPTED).await;
        assert_eq!(again["status"], "received");
    }

    #[tokio::test]
    async fn a_restart_keeps_everything() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let booking = expect(
            app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 3).await,
            StatusCode::CREATED,
        )
        .await;
        let app = app.restart().await;
        // Sessions live in the database, so tokens survive a restart.
        let plan = expect(
            app.get(&format!("/budget-holders/{}", w.holder["id"]), Some(&w.family))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(plan["allocations"][0]["remaining"], "865.00");
        let kept = expect(
            app.get(&format!("/bookings/{}", booking["id"]), Some(&w.provider))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(kept["total"], "135.00");
        let service = expect(
            app.get(&format!("/services/{}", w.service["id"]), None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(service["price_options"][1]["fcr"]["full_cost_per_unit"], "191.18");
        app.login("officer@merton.example", PASSWORD).await;
    }

    #[tokio::test]
    async fn a_sibling_plan_joins_the_existing_family_login() {
        let app = spawn().await;
        let w = world(&app, "100.00").await;
        let mut sibling = sam("EHC-0002", "parent@family.example", "200.00");
        sibling["first_name"] = json!("Alex");
        let created = app.holder(&w.council, &sibling).await;
        assert_eq!(created["family_account_created"], false);
        let mine = expect(app.get("/budget-holders", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(mine["budget_holders"].as_array().unwrap().len(), 2);
        // A reference is unique within a council.
        expect_error(
            app.post(
                "/budget-holders",
                Some(&w.council),
                &sam("EHC-0002", "new@family.example", "1.00"),
            )
            .await,
            StatusCode::CONFLICT,
            "reference_taken",
            Some("reference"),
        )
        .await;
        // A provider's email cannot become a family login.
        expect_error(
            app.post(
                "/budget-holders",
                Some(&w.council),
                &sam("EHC-0003", "staff@wandle.example", "1.00"),
            )
            .await,
            StatusCode::CONFLICT,
            "email_taken",
            Some("family.email"),
        )
        .await;
    }
}
