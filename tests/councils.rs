//! Councils kept apart on a shared database: a family account belongs to the council that made
//! it, and a provider's verification and suspension belong to each council's own Local Offer.

#[macro_use]
mod common;

use common::browser::Browser;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What a second council, Sutton, brings: its officer and a family of its own with a plan.
struct Sutton {
    council: String,
    family: String,
    holder: Value,
}

async fn sutton(app: &TestApp) -> Sutton {
    let council = app.council("Sutton", "officer@sutton.example").await;
    let holder = app
        .holder(&council, &sam("SUT-0001", "own@sutton-family.example", "500.00"))
        .await;
    let family = app.login("own@sutton-family.example", PASSWORD).await;
    Sutton {
        council,
        family,
        holder,
    }
}

/// Ask until the search index has caught up with the answer wanted (`want` results).
async fn search_total(app: &TestApp, path: &str, token: Option<&str>, want: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = expect(app.get(path, token).await, StatusCode::OK).await;
        if last["total"] == want {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{path} never found {want}: {last}");
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

async fn holder_ids(app: &TestApp, token: &str) -> Vec<i64> {
    let mine = expect(app.get("/budget-holders", Some(token)).await, StatusCode::OK).await;
    mine["budget_holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect()
}

both_backends! {
    #[tokio::test]
    async fn another_councils_family_email_is_answered_as_a_new_one_and_linked_only_when_accepted() {
        let app = spawn().await;
        let w = world(&app, "100.00").await;
        let s = sutton(&app).await;
        // Sutton adds a plan with a brand-new email, then with Merton's family's email: the same
        // answer both times, a new login each time as far as Sutton can tell.
        let fresh = app.post("/budget-holders", Some(&s.council), &sam("SUT-0002", "new@family.example", "50.00")).await;
        assert_eq!(fresh.status(), StatusCode::CREATED);
        let fresh = expect(fresh, StatusCode::CREATED).await;
        let mut theirs = sam("SUT-0003", "parent@family.example", "80.00");
        theirs["family"]["password"] = json!("sutton typed this password");
        let known = app.post("/budget-holders", Some(&s.council), &theirs).await;
        assert_eq!(known.status(), StatusCode::CREATED);
        let known = expect(known, StatusCode::CREATED).await;
        assert_eq!(keys(&known), keys(&fresh));
        assert_eq!(known["family_account_created"], true, "{known}");
        assert_eq!(fresh["family_account_created"], true);
        assert!(
            known["family_user_id"].as_i64().unwrap() > fresh["family_user_id"].as_i64().unwrap(),
            "a login id no older than a fresh one: {known}"
        );
        // Sutton's password is set on nobody's account: Merton's family keeps its own.
        app.login("parent@family.example", PASSWORD).await;
        expect_error(
            app.post("/auth/login", None, &json!({"email": "parent@family.example", "password": "sutton typed this password"})).await,
            StatusCode::UNAUTHORIZED, "unauthorized", None,
        ).await;

        // Merton's family sees nothing of Sutton's plan but a link naming Sutton.
        let merton_plan = w.holder["id"].as_i64().unwrap();
        let sutton_plan = known["id"].as_i64().unwrap();
        assert_eq!(holder_ids(&app, &w.family).await, vec![merton_plan]);
        let hidden = app.get(&format!("/budget-holders/{sutton_plan}"), Some(&w.family)).await;
        assert_eq!(hidden.status(), StatusCode::FORBIDDEN);
        let links = expect(app.get("/me/plan-links", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!((links["total"].as_u64(), links["page"].as_u64(), links["per_page"].as_u64()), (Some(1), Some(1), Some(50)), "{links}");
        let link = &links["links"][0];
        assert_eq!(link["council"], "Sutton");
        assert_eq!(keys(link), ["council", "created_at", "id"], "only who and when: {link}");
        // Nobody else answers for the family.
        let id = link["id"].as_i64().unwrap();
        expect_error(app.post(&format!("/me/plan-links/{id}/accept"), Some(&s.family), &json!({})).await, StatusCode::NOT_FOUND, "not_found", None).await;
        expect_error(app.post(&format!("/me/plan-links/{id}/accept"), Some(&s.council), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;

        // Accepted, the plan is the family's like its own council's.
        let accepted = expect(app.post(&format!("/me/plan-links/{id}/accept"), Some(&w.family), &json!({})).await, StatusCode::OK).await;
        assert_eq!(accepted["status"], "accepted");
        assert_eq!(accepted["budget_holder_id"], sutton_plan);
        assert_eq!(holder_ids(&app, &w.family).await, vec![merton_plan, sutton_plan]);
        let seen = expect(app.get(&format!("/budget-holders/{sutton_plan}"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(seen["reference"], "SUT-0003");
        assert_eq!(expect(app.get("/me/plan-links", Some(&w.family)).await, StatusCode::OK).await["total"], 0);
        expect_error(app.post(&format!("/me/plan-links/{id}/accept"), Some(&w.family), &json!({})).await, StatusCode::NOT_FOUND, "not_found", None).await;
        // Merton still sees only its own plans; Sutton its own.
        let merton = expect(app.get("/budget-holders", Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(merton["total"], 1);
        assert_eq!(expect(app.get("/budget-holders", Some(&s.council)).await, StatusCode::OK).await["total"], 3);
        drop(s.holder);
    }

    #[tokio::test]
    async fn a_declined_plan_never_reaches_the_family() {
        let app = spawn().await;
        let w = world(&app, "100.00").await;
        let s = sutton(&app).await;
        let known = app.holder(&s.council, &sam("SUT-0009", "parent@family.example", "80.00")).await;
        let links = expect(app.get("/me/plan-links", Some(&w.family)).await, StatusCode::OK).await;
        let id = links["links"][0]["id"].as_i64().unwrap();
        let declined = expect(app.post(&format!("/me/plan-links/{id}/decline"), Some(&w.family), &json!({})).await, StatusCode::OK).await;
        assert_eq!(declined["status"], "declined");
        assert_eq!(declined["budget_holder_id"], Value::Null);
        assert_eq!(holder_ids(&app, &w.family).await, vec![w.holder["id"].as_i64().unwrap()]);
        let hidden = app.get(&format!("/budget-holders/{}", known["id"]), Some(&w.family)).await;
        assert_eq!(hidden.status(), StatusCode::FORBIDDEN);
        assert_eq!(expect(app.get("/me/plan-links", Some(&w.family)).await, StatusCode::OK).await["total"], 0);
        // Nor can the family book against it.
        let body = json!({"budget_holder_id": known["id"], "allocation_id": known["allocations"][0]["id"], "price_option_id": option_id(&w.service, 0), "quantity": 1});
        assert_eq!(app.post("/bookings", Some(&w.family), &body).await.status(), StatusCode::FORBIDDEN);
        // Sutton's own plan is still Sutton's.
        let seen = expect(app.get(&format!("/budget-holders/{}", known["id"]), Some(&s.council)).await, StatusCode::OK).await;
        assert_eq!(seen["reference"], "SUT-0009");
    }

    #[tokio::test]
    async fn a_suspension_binds_only_the_council_that_made_it() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let s = sutton(&app).await;
        let org = w.organisation_id;
        search_total(&app, "/search?q=saturday", None, 1).await;
        expect(app.post(&format!("/organisations/{org}/verify"), Some(&w.council), &json!({})).await, StatusCode::OK).await;
        let suspended = expect(app.post(&format!("/organisations/{org}/suspend"), Some(&s.council), &json!({})).await, StatusCode::OK).await;
        assert_eq!(suspended["status"], "suspended", "Sutton's own listing");
        // Sutton's families no longer find it; Merton's families and the public still do.
        search_total(&app, "/search?q=saturday", Some(&s.family), 0).await;
        let merton = search_total(&app, "/search?q=saturday", Some(&w.family), 1).await;
        assert_eq!(merton["results"][0]["verified_by"], "Merton");
        search_total(&app, "/search?q=saturday", None, 1).await;
        let public = expect(app.get(&format!("/organisations/{org}"), None).await, StatusCode::OK).await;
        assert_eq!(public["status"], "verified");
        // Booking follows the plan's own council.
        expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CREATED).await;
        expect_error(app.book(&s.family, &s.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CONFLICT, "not_bookable", Some("price_option_id")).await;
        // Each council's provider page shows its own listing.
        let mut merton_officer = Browser::new(&app);
        merton_officer.log_in("officer@merton.example", PASSWORD).await;
        let page = merton_officer.get("/council/providers").await;
        assert!(page.html.contains("<td>verified</td>"), "{}", page.html);
        let mut sutton_officer = Browser::new(&app);
        sutton_officer.log_in("officer@sutton.example", PASSWORD).await;
        let page = sutton_officer.get("/council/providers").await;
        assert!(page.html.contains("<td>suspended</td>") && page.html.contains("Reinstate"), "{}", page.html);
        // Once every council listing it has suspended it, it leaves the public directory.
        expect(app.post(&format!("/organisations/{org}/suspend"), Some(&w.council), &json!({})).await, StatusCode::OK).await;
        search_total(&app, "/search?q=saturday", None, 0).await;
        search_total(&app, "/search?q=saturday", Some(&w.family), 0).await;
        // Merton lifts its own suspension: back for Merton and the public, still not for Sutton.
        let back = expect(app.post(&format!("/organisations/{org}/reinstate"), Some(&w.council), &json!({})).await, StatusCode::OK).await;
        assert_eq!(back["status"], "verified");
        search_total(&app, "/search?q=saturday", Some(&w.family), 1).await;
        search_total(&app, "/search?q=saturday", None, 1).await;
        search_total(&app, "/search?q=saturday", Some(&s.family), 0).await;
    }

    #[tokio::test]
    async fn a_verification_counts_only_for_the_council_that_made_it() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let s = sutton(&app).await;
        let org = w.organisation_id;
        expect(app.put("/council/settings", Some(&w.council), &json!({"unverified_bookable": false})).await, StatusCode::OK).await;
        let verified = expect(app.post(&format!("/organisations/{org}/verify"), Some(&s.council), &json!({})).await, StatusCode::OK).await;
        assert_eq!(verified["status"], "verified");
        // Sutton's verification does not make it verified for Merton, which books only its own.
        expect_error(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CONFLICT, "provider_not_verified", Some("price_option_id")).await;
        let merton = search_total(&app, "/search?q=saturday", Some(&w.family), 1).await;
        assert_eq!(merton["results"][0]["verified_by"], Value::Null, "{merton}");
        let public = search_total(&app, "/search?q=saturday", None, 1).await;
        assert_eq!(public["results"][0]["verified_by"], "Sutton");
        let mut officer = Browser::new(&app);
        officer.log_in("officer@merton.example", PASSWORD).await;
        assert!(officer.get("/council/providers").await.html.contains("<td>unverified</td>"));
        // A council reinstates only a suspension of its own.
        expect_error(app.post(&format!("/organisations/{org}/reinstate"), Some(&w.council), &json!({})).await, StatusCode::CONFLICT, "not_listed", None).await;
        // Merton verifies it for itself: now its families may book.
        expect(app.post(&format!("/organisations/{org}/verify"), Some(&w.council), &json!({})).await, StatusCode::OK).await;
        expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CREATED).await;
        let both = search_total(&app, "/search?q=saturday", None, 1).await;
        assert_eq!(both["results"][0]["verified_by"], "Merton, Sutton");
        drop(s.holder);
    }

    #[tokio::test]
    async fn the_family_accepts_another_councils_plan_on_its_plan_page() {
        let app = spawn().await;
        let w = world(&app, "100.00").await;
        let s = sutton(&app).await;
        let mut alex = sam("SUT-0005", "parent@family.example", "80.00");
        alex["first_name"] = json!("Alex");
        app.holder(&s.council, &alex).await;
        let mut b = Browser::new(&app);
        b.log_in("parent@family.example", PASSWORD).await;
        let page = b.get("/my-plan").await;
        assert!(page.html.contains("Sutton has added a plan for your family"), "{}", page.html);
        assert!(!page.html.contains("Alex"), "nothing of the plan before it is accepted");
        let link = expect(app.get("/me/plan-links", Some(&w.family)).await, StatusCode::OK).await["links"][0]["id"].as_i64().unwrap();
        // The form needs its CSRF token.
        let forged = b.post(&format!("/my-plan/links/{link}/accept"), &[("csrf_token", "forged")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let accepted = b.post(&format!("/my-plan/links/{link}/accept"), &[("csrf_token", &page.csrf())]).await;
        assert_eq!(accepted.location.as_deref(), Some("/my-plan"), "{}", accepted.html);
        let page = b.get("/my-plan").await;
        assert!(page.html.contains("Alex") && !page.html.contains("has added a plan"), "{}", page.html);
        drop(s.holder);
    }
}
