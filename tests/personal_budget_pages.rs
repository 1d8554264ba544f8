//! The personal-budget pages, driven through their forms as people use them: an admin builds a
//! RAS, a family asks, an assessor assesses, a decider decides, the family reads its letter,
//! accepts the agreement and asks for a review, someone else decides the review.

#[macro_use]
mod common;

use common::browser::Browser;
use common::*;
use reqwest::StatusCode;
use serde_json::json;

const QUESTIONS: &str = "## Being healthy\nhealthy: How much support does your child need with their health?\n- None = 0\n- Some = 5\n- A lot = 10\n## Family and carers\ncarers: How often do you need a break from caring?\n- Rarely = 0\n- Often = 4\n- All the time = 8\n";

fn id_after(location: &Option<String>, prefix: &str) -> String {
    location
        .as_deref()
        .and_then(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("a redirect to {prefix}…, got {location:?}"))
        .to_string()
}

both_backends! {
    #[tokio::test]
    async fn a_request_goes_from_the_family_to_a_decision_letter_and_a_review_on_the_pages() {
        let app = spawn().await;
        let admin = app.council("Merton", "officer@merton.example").await;
        for (email, permissions) in [("panel@merton.example", ["decide"]), ("review@merton.example", ["decide"])] {
            let body = json!({"email": email, "password": PASSWORD, "permissions": permissions});
            expect(app.post("/council/users", Some(&admin), &body).await, StatusCode::CREATED).await;
            let token = app.login(email, PASSWORD).await;
            app.enrol(&token, email).await;
        }
        let mut plan = sam("EHC-0200", "parent@family.example", "1.00");
        plan["allocations"] = json!([]);
        let holder = app.holder(&admin, &plan).await;

        // The admin builds the RAS on its page; a mistake is named on the form.
        let mut officer = Browser::new(&app);
        officer.log_in("officer@merton.example", PASSWORD).await;
        let csrf = officer.get("/council/ras").await.csrf();
        let bad = officer.post("/council/ras", &[("csrf_token", &csrf), ("name", "Short breaks RAS"), ("stream", "social_care"), ("questions", QUESTIONS), ("allocation_kind", "bands"), ("bands", "0-5 = 0.00\n7-18 = 1200.00")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.html);
        assert!(bad.html.contains("Must be 6: band 2 must start"), "{}", bad.html);
        let made = officer.post("/council/ras", &[("csrf_token", &csrf), ("name", "Short breaks RAS"), ("stream", "social_care"), ("questions", QUESTIONS), ("allocation_kind", "bands"), ("bands", "0-5 = 0.00\n6-12 = 1,200.00\n13-18 = 2400.50")]).await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
        let ras = officer.get(made.location.as_deref().unwrap()).await;
        assert!(ras.html.contains("Being healthy") && ras.html.contains("£2,400.50"), "{}", ras.html);

        // The family asks on its page.
        let mut family = Browser::new(&app);
        family.log_in("parent@family.example", PASSWORD).await;
        let page = family.get("/my-plan/requests").await;
        assert!(page.html.contains("Ask for a personal budget"), "{}", page.html);
        let csrf = page.csrf();
        let plan_id = holder["id"].to_string();
        let none = family.post("/my-plan/requests", &[("csrf_token", &csrf), ("budget_holder_id", &plan_id), ("kind", "new_plan"), ("preferred_management", "direct_payment")]).await;
        assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(none.html.contains("Must name at least one funding stream"), "{}", none.html);
        let asked = family.post("/my-plan/requests", &[("csrf_token", &csrf), ("budget_holder_id", &plan_id), ("kind", "new_plan"), ("streams", "social_care"), ("preferred_management", "direct_payment"), ("notes", "Saturday clubs would help")]).await;
        let request = id_after(&asked.location, "/my-plan/requests/");
        let mine = family.get(&format!("/my-plan/requests/{request}")).await;
        assert!(mine.html.contains("Received") && mine.html.contains("20 weeks"), "{}", mine.html);

        // The assessor assesses on the council's page: the working is shown.
        let page = officer.get(&format!("/council/requests/{request}")).await;
        assert!(page.html.contains("How much support does your child need"), "{}", page.html);
        let ras_id = id_after(&made.location, "/council/ras/");
        let csrf = page.csrf();
        let path = format!("/council/requests/{request}/assess");
        let missing = officer.post(&path, &[("csrf_token", &csrf), ("ras_id", &ras_id), ("answers.healthy", "2")]).await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(missing.html.contains("href=\"#answers.carers\""), "{}", missing.html);
        let done = officer.post(&path, &[("csrf_token", &csrf), ("ras_id", &ras_id), ("answers.healthy", "2"), ("answers.carers", "1")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        let page = officer.get(&format!("/council/requests/{request}")).await;
        assert!(page.html.contains("Raw score 14, band 3") && page.html.contains("£2,400.50"), "{}", page.html);
        // The assessor cannot decide what it assessed.
        let refused = officer.post(&format!("/council/requests/{request}/decision"), &[("csrf_token", &csrf), ("outcome", "agreed")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.html.contains("someone else must decide it"), "{}", refused.html);

        // The panel decides it, varied, on its page.
        let mut panel = Browser::new(&app);
        panel.log_in("panel@merton.example", PASSWORD).await;
        let page = panel.get(&format!("/council/requests/{request}")).await;
        assert!(page.html.contains("Record the panel's decision") && !page.html.contains("Save the social care assessment"), "{}", page.html);
        let csrf = page.csrf();
        let path = format!("/council/requests/{request}/decision");
        let no_reason = panel.post(&path, &[("csrf_token", &csrf), ("outcome", "varied"), ("amount.social_care", "2000.00")]).await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_reason.html.contains("href=\"#reasons\""), "{}", no_reason.html);
        let decided = panel.post(&path, &[("csrf_token", &csrf), ("outcome", "varied"), ("amount.social_care", "£2,000.00"), ("management.social_care", ""), ("reasons", "Two sessions a month meet the outcomes")]).await;
        assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.html);

        // The family reads its letter, accepts the agreement, and asks for a review.
        let letter = family.get(&format!("/my-plan/requests/{request}/letter")).await;
        assert_eq!(letter.status, StatusCode::OK);
        for words in ["Dear parent or carer of Sam", "agreed with a different amount", "£2,000.00", "raw score of 14", "Two sessions a month", "Ask for a review"] {
            assert!(letter.html.contains(words), "{words}: {}", letter.html);
        }
        let page = family.get(&format!("/my-plan/requests/{request}")).await;
        assert!(page.html.contains("I accept the agreement"), "{}", page.html);
        let csrf = page.csrf();
        let accepted = family.post(&format!("/my-plan/requests/{request}/agreement"), &[("csrf_token", &csrf)]).await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER);
        let asked = family.post(&format!("/my-plan/requests/{request}/review"), &[("csrf_token", &csrf), ("reason", "Caring is harder since the summer")]).await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER);
        let page = family.get(&format!("/my-plan/requests/{request}")).await;
        assert!(page.html.contains("You accepted the direct payment agreement") && page.html.contains("Decision being reviewed"), "{}", page.html);

        // The first decider may not decide the review; the reviewer does.
        let csrf = panel.get(&format!("/council/requests/{request}")).await.csrf();
        let own = panel.post(&path, &[("csrf_token", &csrf), ("outcome", "agreed")]).await;
        assert_eq!(own.status, StatusCode::FORBIDDEN);
        let mut reviewer = Browser::new(&app);
        reviewer.log_in("review@merton.example", PASSWORD).await;
        let page = reviewer.get(&format!("/council/requests/{request}")).await;
        assert!(page.html.contains("Decide the review"), "{}", page.html);
        let csrf = page.csrf();
        let reviewed = reviewer.post(&path, &[("csrf_token", &csrf), ("outcome", "varied"), ("amount.social_care", "2400.50"), ("reasons", "The assessed budget is needed")]).await;
        assert_eq!(reviewed.status, StatusCode::SEE_OTHER, "{}", reviewed.html);
        let letter = family.get(&format!("/my-plan/requests/{request}/letter")).await;
        assert!(letter.html.contains("reviewed by someone who took no part") && letter.html.contains("£2,400.50"), "{}", letter.html);
        let plan = expect(app.get(&format!("/budget-holders/{}", holder["id"]), Some(&admin)).await, StatusCode::OK).await;
        assert_eq!((plan["allocations"].as_array().map(Vec::len), plan["allocations"][0]["amount"].as_str()), (Some(1), Some("2400.50")));

        // Due: the six-week review, recorded as held from the list.
        let due = officer.get("/council/due?within_days=60").await;
        assert!(due.html.contains("Six-week review of a personal budget"), "{}", due.html);
        let csrf = due.csrf();
        let held = officer.post(&format!("/council/budget-holders/{}/reviews", holder["id"]), &[("csrf_token", &csrf), ("kind", "six_week")]).await;
        assert_eq!(held.status, StatusCode::SEE_OTHER);
        let due = officer.get("/council/due?within_days=60").await;
        assert!(!due.html.contains("Six-week review of a personal budget"), "{}", due.html);
        let page = officer.get(&format!("/council/budget-holders/{}", holder["id"])).await;
        assert!(page.html.contains(&format!("href=\"/council/requests/{request}\"")), "{}", page.html);
        assert!(page.html.contains("Six-week review of the personal budget"), "the review held is on the plan's page: {}", page.html);
        let report = officer.get("/council/reports/personal-budgets").await;
        assert!(report.html.contains("Withheld") && report.html.contains("140 days (20 weeks)"), "{}", report.html);
        // Another family sees none of it.
        app.holder(&admin, &sam("EHC-0201", "other@family.example", "10.00")).await;
        let mut other = Browser::new(&app);
        other.log_in("other@family.example", PASSWORD).await;
        assert_eq!(other.get(&format!("/my-plan/requests/{request}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(other.get(&format!("/my-plan/requests/{request}/letter")).await.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn an_admin_gives_an_officer_permissions_on_the_users_page() {
        let app = spawn().await;
        app.council("Merton", "officer@merton.example").await;
        let mut admin = Browser::new(&app);
        admin.log_in("officer@merton.example", PASSWORD).await;
        let page = admin.get("/council/users").await;
        let csrf = page.csrf();
        let bad = admin.post("/council/users", &[("csrf_token", &csrf), ("email", "nope"), ("password", "short")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.html.contains("href=\"#email\"") && bad.html.contains("href=\"#password\""), "{}", bad.html);
        let added = admin.post("/council/users", &[("csrf_token", &csrf), ("email", "assessor@merton.example"), ("password", PASSWORD), ("permissions", "assess")]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
        let page = admin.get("/council/users").await;
        assert!(page.html.contains("assessor@merton.example"), "{}", page.html);
        // Taking the only admin's own admin permission away is refused on the form.
        let me = expect(app.get("/council/users", Some(&app.login("officer@merton.example", PASSWORD).await)).await, StatusCode::OK).await;
        let id = me["users"][0]["id"].to_string();
        let last = admin.post(&format!("/council/users/{id}"), &[("csrf_token", &csrf), (&format!("permissions-{id}"), "assess"), (&format!("active-{id}"), "yes")]).await;
        assert_eq!(last.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", last.html);
        assert!(last.html.contains("at least one active admin"), "{}", last.html);
        // The assessor has no users page.
        let mut assessor = Browser::new(&app);
        assessor.log_in("assessor@merton.example", PASSWORD).await;
        assert_eq!(assessor.get("/council/users").await.status, StatusCode::SEE_OTHER, "must enrol first");
    }
}
