//! The council officer's pages through the real server: a budget holder's page (the plan, its
//! allocations and their ledger, outcomes, broker), brokers set up on the pages, the settings and
//! the verified badge, the reports page.

#[macro_use]
mod common;

use common::browser::Browser;
use common::*;
use reqwest::StatusCode;

/// Wait for the index to catch up with a change (it follows the change log).
async fn search_until(app: &TestApp, path: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..100 {
        last = expect(app.get(path, None).await, StatusCode::OK).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("search never showed the change: {last}");
}

both_backends! {
    #[tokio::test]
    async fn an_officer_changes_an_allocation_with_a_reason_and_never_below_what_is_committed() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        // £90 committed to a booking.
        expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 2).await, StatusCode::CREATED).await;
        let id = w.holder["id"].as_i64().unwrap();
        let aid = w.holder["allocations"][0]["id"].as_i64().unwrap();
        let mut b = Browser::new(&app);
        b.log_in("officer@merton.example", PASSWORD).await;
        let list = b.get("/council/budget-holders").await;
        assert!(list.html.contains(&format!("href=\"/council/budget-holders/{id}\"")), "{}", list.html);
        let page = b.get(&format!("/council/budget-holders/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("Sam (EHC-0001)") && page.html.contains("1 May 2014") && page.html.contains("SW19 2HR"), "{}", page.html);
        assert!(page.html.contains("£910.00") && page.html.contains("£90.00"), "{}", page.html);
        let csrf = page.csrf();
        let path = format!("/council/budget-holders/{id}/allocations/{aid}");
        let (amount, reason) = (format!("amount_{aid}"), format!("reason_{aid}"));
        // No reason and no amount: both problems at once, by their fields.
        let empty = b.post(&path, &[("csrf_token", &csrf), (&amount, ""), (&reason, "")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.html.contains(&format!("href=\"#{amount}\"")) && empty.html.contains(&format!("href=\"#{reason}\"")), "{}", empty.html);
        // Below what is committed: refused, naming the amount.
        let below = b.post(&path, &[("csrf_token", &csrf), (&amount, "80.00"), (&reason, "Review")]).await;
        assert_eq!(below.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(below.html.contains(&format!("href=\"#{amount}\"")) && below.html.contains("already committed"), "{}", below.html);
        assert!(below.html.contains("value=\"Review\""), "what was typed is kept");
        // A real change: the ledger says how much, and why.
        let done = b.post(&path, &[("csrf_token", &csrf), (&amount, "1,500.00"), (&reason, "Annual review: more short breaks")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        let page = b.get(&format!("/council/budget-holders/{id}")).await;
        assert!(page.html.contains("Allocation increased from £1000.00 to £1500.00: Annual review: more short breaks"), "{}", page.html);
        assert!(page.html.contains("+£500.00") && page.html.contains("£1,410.00"), "{}", page.html);
        // The family's statement shows it too, and the books still balance.
        let statement = expect(app.get(&format!("/budget-holders/{id}/statement"), Some(&w.family)).await, StatusCode::OK).await;
        assert!(statement.to_string().contains("Annual review: more short breaks"), "{statement}");
        let verify = app.cli(&["verify"]);
        assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
        // Nobody but this council's officers opens the page.
        let mut family = Browser::new(&app);
        family.log_in("parent@family.example", PASSWORD).await;
        assert_eq!(family.get(&format!("/council/budget-holders/{id}")).await.status, StatusCode::FORBIDDEN);
        app.council("Sutton", "officer@sutton.example").await;
        let mut other = Browser::new(&app);
        other.log_in("officer@sutton.example", PASSWORD).await;
        assert_eq!(other.get(&format!("/council/budget-holders/{id}")).await.status, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn an_officer_changes_the_plan_adds_an_allocation_and_sets_an_outcome() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let id = w.holder["id"].as_i64().unwrap();
        let outcome = w.holder["outcomes"][0]["id"].as_i64().unwrap();
        let mut b = Browser::new(&app);
        b.log_in("officer@merton.example", PASSWORD).await;
        let page = b.get(&format!("/council/budget-holders/{id}")).await;
        assert!(page.html.contains("Not started"), "{}", page.html);
        let csrf = page.csrf();
        let plan = [("csrf_token", csrf.as_str()), ("first_name", "Samuel"), ("reference", "EHC-0001"), ("date_of_birth", "2014-05-01"),
            ("postcode", "SW19 1AA"), ("plan_start", "2026-09-01"), ("plan_end", "2026-08-01")];
        let refused = b.post(&format!("/council/budget-holders/{id}/plan"), &plan).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.html.contains("href=\"#plan_end\"") && refused.html.contains("value=\"Samuel\""), "{}", refused.html);
        let mut fixed = plan.to_vec();
        fixed.retain(|(k, _)| *k != "plan_end");
        fixed.push(("plan_end", "2027-08-31"));
        assert_eq!(b.post(&format!("/council/budget-holders/{id}/plan"), &fixed).await.status, StatusCode::SEE_OTHER);
        let new = [("csrf_token", csrf.as_str()), ("new_stream", "health"), ("new_management", "organised"), ("new_amount", "600.00"), ("new_admin_fee", "")];
        assert_eq!(b.post(&format!("/council/budget-holders/{id}/allocations"), &new).await.status, StatusCode::SEE_OTHER);
        let status = format!("status_{outcome}");
        let set = b.post(&format!("/council/budget-holders/{id}/outcomes/{outcome}"), &[("csrf_token", &csrf), (&status, "partly_met")]).await;
        assert_eq!(set.status, StatusCode::SEE_OTHER);
        let page = b.get(&format!("/council/budget-holders/{id}")).await;
        assert!(page.html.contains("Samuel (EHC-0001)") && page.html.contains("SW19 1AA"), "{}", page.html);
        assert!(page.html.contains("<th scope=\"row\">Health</th>") && page.html.contains("£600.00"), "{}", page.html);
        assert!(page.html.contains("<td>Partly met</td>"), "{}", page.html);
        let api = expect(app.get(&format!("/budget-holders/{id}"), Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(api["outcomes"][0]["status"], "partly_met");
        assert_eq!(api["allocations"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_broker_set_up_on_the_pages_logs_in_and_sees_the_family_it_is_given() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let id = w.holder["id"].as_i64().unwrap();
        let mut b = Browser::new(&app);
        b.log_in("officer@merton.example", PASSWORD).await;
        let page = b.get("/council/brokers").await;
        assert!(page.html.contains("No broker organisations yet."));
        let csrf = page.csrf();
        let bad = b.post("/council/brokers", &[("csrf_token", &csrf), ("name", ""), ("phone", ""), ("email", "nope"), ("password", "short")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        for field in ["name", "email", "password"] {
            assert!(bad.html.contains(&format!("href=\"#{field}\"")), "{field}: {}", bad.html);
        }
        let made = b.post("/council/brokers", &[("csrf_token", &csrf), ("name", "Wandle Brokerage"), ("phone", "020 8000 0000"), ("email", "staff@brokerage.example"), ("password", PASSWORD)]).await;
        assert_eq!(made.location.as_deref(), Some("/council/brokers"), "{}", made.html);
        let list = b.get("/council/brokers").await;
        assert!(list.html.contains("Wandle Brokerage") && list.html.contains("staff@brokerage.example"), "{}", list.html);
        let broker_id = expect(app.get("/council/brokers", Some(&w.council)).await, StatusCode::OK).await["brokers"][0]["id"].as_i64().unwrap();
        let set = b.post(&format!("/council/budget-holders/{id}/broker"), &[("csrf_token", &csrf), ("broker", &broker_id.to_string())]).await;
        assert_eq!(set.status, StatusCode::SEE_OTHER);
        let page = b.get(&format!("/council/budget-holders/{id}")).await;
        assert!(page.html.contains("Wandle Brokerage manages this budget with the family."), "{}", page.html);
        // The broker's staff log in and see the family's plan.
        // (Its second factor set up first, as brokers must.)
        app.broker_login("staff@brokerage.example").await;
        let mut broker = Browser::new(&app);
        assert_eq!(broker.log_in("staff@brokerage.example", PASSWORD).await.status, StatusCode::SEE_OTHER);
        let plan = broker.get("/my-plan").await;
        assert_eq!(plan.status, StatusCode::OK);
        assert!(plan.html.contains("Sam") && plan.html.contains("EHC-0001"), "{}", plan.html);
        // Only the council's own brokers can be chosen: a provider is not one.
        let wrong = b.post(&format!("/council/budget-holders/{id}/broker"), &[("csrf_token", &csrf), ("broker", &w.organisation_id.to_string())]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.html.contains("href=\"#broker\""), "{}", wrong.html);
    }

    #[tokio::test]
    async fn a_verified_provider_shows_its_badge_and_a_strict_council_refuses_the_unverified() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let id = w.service["id"].as_i64().unwrap();
        let mut b = Browser::new(&app);
        let before = b.get(&format!("/services/{id}")).await;
        assert!(!before.html.contains("Verified by"), "{}", before.html);
        b.log_in("officer@merton.example", PASSWORD).await;
        let providers = b.get("/council/providers").await;
        let verified = b.post(&format!("/council/providers/{}/verify", w.organisation_id), &[("csrf_token", &providers.csrf())]).await;
        assert_eq!(verified.status, StatusCode::SEE_OTHER);
        let mut public = Browser::new(&app);
        let after = public.get(&format!("/services/{id}")).await;
        assert!(after.html.contains("Verified by Merton"), "{}", after.html);
        let api = expect(app.get(&format!("/services/{id}"), None).await, StatusCode::OK).await;
        assert_eq!((api["verified"].as_bool(), api["verified_by"].as_str()), (Some(true), Some("Merton")));
        // The index follows the database a moment later: wait for it, then the page shows it too.
        let found = search_until(&app, "/search?q=saturday", |r| r["results"][0]["verified"] == true).await;
        assert_eq!(found["total"], 1, "{found}");
        let search = public.get("/search?q=saturday").await;
        assert!(search.html.contains("Verified by Merton"), "{}", search.html);

        // Merton now books only verified providers: a new, unverified one is refused.
        let settings = b.get("/council/settings").await;
        let saved = b.post("/council/settings", &[("csrf_token", &settings.csrf()), ("unverified_bookable", "no")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert!(b.get("/council/settings").await.html.contains("value=\"no\" checked"));
        let (_, other) = app.provider("New Club", "staff@newclub.example").await;
        let mut club = saturday_club();
        club["name"] = "Sunday Club".into();
        let sunday = app.service(&other, &club).await;
        let refused = app.book(&w.family, &w.holder, 0, option_id(&sunday, 0), 1).await;
        expect_error(refused, StatusCode::CONFLICT, "provider_not_verified", Some("price_option_id")).await;
        expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CREATED).await;
        let mut family = Browser::new(&app);
        family.log_in("parent@family.example", PASSWORD).await;
        let page = family.get(&format!("/services/{}", sunday["id"])).await;
        assert!(page.html.contains("Merton books only providers it has verified"), "{}", page.html);
        assert!(!page.html.contains(">Book</button>"), "{}", page.html);
        let fine = family.get(&format!("/services/{id}")).await;
        assert!(fine.html.contains(">Book</button>"), "{}", fine.html);
    }
}
