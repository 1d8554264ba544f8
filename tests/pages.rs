//! The website through the real server: rendering, forms, CSRF, cookies and every page's role check.

#[macro_use]
mod common;

use std::collections::HashMap;

use common::browser::Browser;
use common::*;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};

both_backends! {
    #[tokio::test]
    async fn public_pages_render_with_security_headers() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let mut b = Browser::new(&app);
        let home = b.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.html.contains("<html lang=\"en\">"));
        assert!(home.html.contains("Search the Local Offer"));
        for h in ["content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"] {
            assert!(home.headers.contains_key(h), "{h}");
        }
        assert!(home.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        let css = b.get("/assets/site.css").await;
        assert!(css.html.contains(".error-summary"));

        let id = w.service["id"].as_i64().unwrap();
        let mut found = String::new();
        for _ in 0..50 {
            let page = b.get("/search?q=&postcode=SW19&radius_miles=5&age=12&outcome=pfa-friends-community").await;
            found = page.html;
            if found.contains(&format!("/services/{id}\"")) { break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(found.contains("1 service found"), "{found}");
        assert!(found.contains("From £45.00"));
        assert!(found.contains("<svg"), "a map of the results");
        let bad = b.get("/search?postcode=NOPE").await;
        assert!(bad.html.contains("There is a problem") && bad.html.contains("href=\"#postcode\""), "{}", bad.html);

        let service = b.get(&format!("/services/{id}")).await;
        assert!(service.html.contains("<h1>Saturday Club</h1>"));
        assert!(service.html.contains("£191.18"), "the full-cost price and its breakdown");
        assert!(service.html.contains("Log in to book"));
        assert_eq!(b.get("/services/999999").await.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn every_private_page_checks_who_is_asking() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        drop(w);
        let pages = [
            "/my-plan", "/my-plan/statement", "/my-plan/matches", "/my-calendar", "/provider/services", "/provider/services/new",
            "/provider/bookings", "/council/budget-holders", "/council/budget-holders/new", "/council/providers", "/council/reports",
        ];
        let mut anonymous = Browser::new(&app);
        for path in pages {
            let page = anonymous.get(path).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(page.location.as_deref(), Some(format!("/login?next={path}").as_str()));
        }
        for (email, allowed) in [
            ("parent@family.example", &["/my-plan", "/my-plan/statement", "/my-plan/matches", "/my-calendar"][..]),
            ("staff@wandle.example", &["/provider/services", "/provider/services/new", "/provider/bookings", "/my-calendar"][..]),
            ("officer@merton.example", &["/council/budget-holders", "/council/budget-holders/new", "/council/providers", "/council/reports"][..]),
        ] {
            let mut b = Browser::new(&app);
            let login = b.log_in(email, PASSWORD).await;
            assert_eq!(login.status, StatusCode::SEE_OTHER);
            for path in pages {
                let page = b.get(path).await;
                let expected = if allowed.contains(&path) { StatusCode::OK } else { StatusCode::FORBIDDEN };
                assert_eq!(page.status, expected, "{email} {path}");
                if expected == StatusCode::OK {
                    assert_eq!(page.headers["cache-control"], "no-store", "{path}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_family_puts_its_booked_sessions_in_its_calendar_app_from_its_pages() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let day = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive();
        let body = serde_json::json!({"starts_at": format!("{day}T10:00:00"), "ends_at": format!("{day}T15:00:00")});
        let published = expect(app.post(&format!("/services/{}/sessions", w.service["id"]), Some(&w.provider), &body).await, StatusCode::CREATED).await;
        let booking = serde_json::json!({
            "budget_holder_id": w.holder["id"], "allocation_id": w.holder["allocations"][0]["id"],
            "price_option_id": option_id(&w.service, 0), "session_ids": [published["sessions"][0]["id"]],
        });
        let booked = expect(app.post("/bookings", Some(&w.family), &booking).await, StatusCode::CREATED).await;
        let reference = booked["reference"].as_str().unwrap().to_string();

        let mut b = Browser::new(&app);
        b.log_in("parent@family.example", PASSWORD).await;
        assert!(b.get("/my-plan").await.html.contains("href=\"/my-calendar\""));
        let page = b.get("/my-calendar").await;
        assert!(page.html.contains("Get a calendar address"), "{}", page.html);
        assert!(!page.html.contains("/calendar/"));
        let address_on = |html: &str| {
            let at = html.find("value=\"http").map(|i| i + 7).expect("the address shown");
            html[at..at + html[at..].find('"').unwrap()].to_string()
        };
        let made = b.post("/my-calendar", &[("csrf_token", &page.csrf())]).await;
        assert_eq!(made.status, StatusCode::OK);
        assert_eq!(made.headers["cache-control"], "no-store");
        let first = address_on(&made.html);
        assert!(first.starts_with(&format!("{}/calendar/", app.base)) && first.ends_with(".ics"), "{first}");
        let feed = app.client.get(&first).send().await.unwrap();
        assert_eq!(feed.status(), StatusCode::OK);
        let ics = feed.text().await.unwrap();
        assert!(ics.contains("SUMMARY:Saturday Club (Sam)"), "{ics}");
        assert!(ics.contains(&reference), "{ics}");

        // Shown once: the page says one is working but never shows it again.
        let again = b.get("/my-calendar").await;
        assert!(!again.html.contains(&first));
        assert!(again.html.contains("You have a calendar address, made on"));
        // A new one stops the old; stopping stops the new.
        let remade = b.post("/my-calendar", &[("csrf_token", &again.csrf())]).await;
        let second = address_on(&remade.html);
        assert_ne!(first, second);
        assert_eq!(app.client.get(&first).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(app.client.get(&second).send().await.unwrap().status(), StatusCode::OK);
        let forged = b.post("/my-calendar/stop", &[("csrf_token", "0".repeat(64).as_str())]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(app.client.get(&second).send().await.unwrap().status(), StatusCode::OK);
        let stopped = b.post("/my-calendar/stop", &[("csrf_token", &remade.csrf())]).await;
        assert_eq!((stopped.status, stopped.location.as_deref()), (StatusCode::SEE_OTHER, Some("/my-calendar")));
        assert_eq!(app.client.get(&second).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert!(b.get("/my-calendar").await.html.contains("Get a calendar address"));
    }

    #[tokio::test]
    async fn logging_in_and_out_with_cookies_and_csrf() {
        let app = spawn().await;
        world(&app, "1000.00").await;
        let mut b = Browser::new(&app);
        // Without the CSRF token, or with a wrong one, nothing happens.
        let form = b.get("/login").await;
        assert!(b.cookies.contains_key("lo_csrf"));
        let refused = b.post("/login", &[("email", "parent@family.example"), ("password", PASSWORD)]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let wrong = b.post("/login", &[("csrf_token", &"0".repeat(64)), ("email", "parent@family.example"), ("password", PASSWORD)]).await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        assert!(!b.cookies.contains_key("lo_session"));
        // A wrong password: the form again, with the error summary and the email kept.
        let bad = b.post("/login", &[("csrf_token", &form.csrf()), ("email", "parent@family.example"), ("password", "not the password")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.html.contains("There is a problem") && bad.html.contains("value=\"parent@family.example\""));
        // The right one: a session cookie, HttpOnly, and the family's home.
        let csrf = b.get("/login").await.csrf();
        let res = b.client.post(format!("{}/login", b.base)).header(COOKIE, b.cookie_header())
            .form(&[("csrf_token", csrf.as_str()), ("email", "parent@family.example"), ("password", PASSWORD)]).send().await.unwrap();
        let set = res.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>().join("\n");
        assert!(set.contains("lo_session=") && set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        let ok = b.finish(res).await;
        assert_eq!(ok.location.as_deref(), Some("/my-plan"));
        let plan = b.get("/my-plan").await;
        assert!(plan.html.contains("<h2>Sam</h2>"));
        // Logging out revokes the session at once, even for a copied cookie.
        let copied = b.cookies.clone();
        let out = b.post("/logout", &[("csrf_token", &plan.csrf())]).await;
        assert_eq!(out.location.as_deref(), Some("/"));
        let mut thief = Browser::new(&app);
        thief.cookies = copied;
        assert_eq!(thief.get("/my-plan").await.status, StatusCode::SEE_OTHER);
    }

    #[tokio::test]
    async fn an_imported_listing_says_what_it_does_not_know_and_cannot_be_booked() {
        let app = spawn().await;
        world(&app, "1000.00").await;
        let feed = app.dir.path().join("feed.json");
        std::fs::write(&feed, serde_json::json!([{
            "id": "nl-1", "name": "Riverside Stay and Play", "status": "active",
            "description": "<p>Drop-in play for families &amp; carers.</p>",
            "url": "https://riverside.example.org/play", "email": "play@riverside.example.org",
            "organization": {"id": "org-9", "name": "Riverside Family Hub", "description": ""}
        }]).to_string()).unwrap();
        let out = app.cli(&["import", "oruk", feed.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut b = Browser::new(&app);
        b.log_in("parent@family.example", PASSWORD).await;
        let mut found = None;
        for _ in 0..50 {
            let results = b.get("/search?q=riverside").await;
            if let Some(at) = results.html.find("href=\"/services/") {
                let rest = &results.html[at + 16..];
                found = Some(rest[..rest.find('"').unwrap()].to_string());
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let id = found.expect("the imported listing is found by search");
        let page = b.get(&format!("/services/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("Drop-in play for families &amp; carers."), "{}", page.html);
        assert!(page.html.contains("Not stated: ask the provider"), "no place and no budget stream given");
        assert!(page.html.contains("href=\"mailto:play@riverside.example.org\""));
        assert!(page.html.contains("No prices are listed"));
        assert!(page.html.contains("cannot be booked here yet") && !page.html.contains("Pay from"), "{}", page.html);
    }

    #[tokio::test]
    async fn a_family_books_sees_the_remaining_drop_and_cancels() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let mut b = Browser::new(&app);
        b.log_in("parent@family.example", PASSWORD).await;
        let id = w.service["id"].as_i64().unwrap();
        let service = b.get(&format!("/services/{id}")).await;
        assert!(service.html.contains("Pay from") && service.html.contains("(£1,000.00 left)"), "{}", service.html);
        let allocation = format!("{}:{}", w.holder["id"], w.holder["allocations"][0]["id"]);
        let option = option_id(&w.service, 0).to_string();
        let csrf = service.csrf();
        // Without the token: refused, and nothing is booked.
        let refused = b.post(&format!("/services/{id}/book"), &[("allocation", &allocation), ("price_option_id", &option), ("quantity", "2")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let form = [("csrf_token", csrf.as_str()), ("request_id", "r1"), ("allocation", &allocation), ("price_option_id", &option), ("quantity", "2")];
        let booked = b.post(&format!("/services/{id}/book"), &form).await;
        assert_eq!(booked.status, StatusCode::OK, "{}", booked.html);
        assert!(booked.html.contains("Booking requested") && booked.html.contains("£910.00"), "{}", booked.html);
        // A double-click sends the same request id: still one booking.
        b.post(&format!("/services/{id}/book"), &form).await;
        let plan = b.get("/my-plan").await;
        assert!(plan.html.contains("class=\"remaining\">£910.00"), "{}", plan.html);
        assert_eq!(plan.html.matches("Cancel booking for Saturday Club").count(), 1);
        // Too many: the form's error, nothing taken.
        let too_many = [("csrf_token", csrf.as_str()), ("request_id", "r2"), ("allocation", &allocation), ("price_option_id", &option), ("quantity", "100")];
        let refused = b.post(&format!("/services/{id}/book"), &too_many).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.html.contains("There is a problem"));
        // Cancel: the money comes back.
        let booking = expect(app.get("/bookings", Some(&w.family)).await, StatusCode::OK).await["bookings"][0]["id"].as_i64().unwrap();
        // It asks first, then says what happened.
        let confirm = b.get(&format!("/bookings/{booking}/cancel")).await;
        assert_eq!(confirm.status, StatusCode::OK);
        assert!(confirm.html.contains("Yes, cancel") && confirm.html.contains("£90.00"), "{}", confirm.html);
        assert!(confirm.html.contains("goes back to your budget (Social care (direct payment))"), "{}", confirm.html);
        let cancelled = b.post(&format!("/bookings/{booking}/cancel"), &[("csrf_token", &confirm.csrf())]).await;
        assert_eq!(cancelled.status, StatusCode::OK);
        assert!(cancelled.html.contains("£90.00 went back to your budget: Social care (direct payment)."), "{}", cancelled.html);
        let reference = expect(app.get("/bookings", Some(&w.family)).await, StatusCode::OK).await["bookings"][0]["reference"].as_str().unwrap().to_string();
        assert!(cancelled.html.contains(&format!("Booking {reference} cancelled")), "{}", cancelled.html);
        assert!(b.get("/my-plan").await.html.contains("class=\"remaining\">£1,000.00"));
        let statement = b.get("/my-plan/statement").await;
        assert!(statement.html.contains("-£90.00") && statement.html.contains("£90.00"), "{}", statement.html);
        assert!(statement.html.contains("Social care (direct payment) allocated"), "{}", statement.html);
        assert!(!statement.html.contains("social_care") && !statement.html.contains("direct_payment"), "{}", statement.html);
        let matches = b.get("/my-plan/matches").await;
        assert!(matches.html.contains("To make friends and join in activities outside school"));
    }

    #[tokio::test]
    async fn a_double_click_on_book_sent_twice_at_once_books_once_and_shows_no_error() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let mut b = Browser::new(&app);
        b.log_in("parent@family.example", PASSWORD).await;
        let id = w.service["id"].as_i64().unwrap();
        let service = b.get(&format!("/services/{id}")).await;
        let csrf = service.csrf();
        let at = service.html.find("name=\"request_id\" value=\"").expect("a request id") + 25;
        let request_id = service.html[at..at + 64].to_string();
        let allocation = format!("{}:{}", w.holder["id"], w.holder["allocations"][0]["id"]);
        let option = option_id(&w.service, 0).to_string();
        let form = [("csrf_token", csrf.as_str()), ("request_id", request_id.as_str()), ("allocation", &allocation), ("price_option_id", &option), ("quantity", "2")];
        let send = || {
            b.client
                .post(format!("{}/services/{id}/book", b.base))
                .header(COOKIE, b.cookie_header())
                .form(&form)
                .send()
        };
        // Both requests are in flight together, as a double click sends them.
        let (first, second) = tokio::join!(send(), send());
        for res in [first.unwrap(), second.unwrap()] {
            assert_eq!(res.status(), StatusCode::OK);
            let html = res.text().await.unwrap();
            assert!(html.contains("Booking requested") && html.contains("£910.00"), "{html}");
        }
        let bookings = expect(app.get("/bookings", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(bookings["bookings"].as_array().unwrap().len(), 1, "{bookings}");
        let plan = expect(app.get(&format!("/budget-holders/{}", w.holder["id"]), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(plan["allocations"][0]["remaining"], "910.00");
    }

    #[tokio::test]
    async fn the_council_downloads_its_reports_as_csv_from_its_pages() {
        let app = spawn().await;
        world(&app, "1000.00").await;
        let mut b = Browser::new(&app);
        // Logged out: sent to log in, no report.
        let out = b.get("/council/reports/gaps.csv").await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        b.log_in("officer@merton.example", PASSWORD).await;
        for (path, header) in [
            ("/council/reports/gaps.csv", "outcome,area,suppressed,demand_holders"),
            ("/council/reports/spending.csv", "budget_holder_id,reference,allocation_id"),
            ("/council/reports/providers-at-risk.csv", "service_id,service,organisation,price_option,price,full_cost"),
            ("/council/reports/outcomes.csv", "budget_holder_id,reference,outcome_id,terms,status,bookings,services"),
        ] {
            let csv = b.get(path).await;
            assert_eq!(csv.status, StatusCode::OK, "{path}");
            assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"), "{path}");
            assert!(csv.html.starts_with(header), "{path}: {}", csv.html);
        }
        let spending = b.get("/council/reports/spending.csv").await;
        assert!(spending.html.contains("EHC-0001"), "{}", spending.html);
        // A family's session is not a council's.
        let mut family = Browser::new(&app);
        family.log_in("parent@family.example", PASSWORD).await;
        assert_eq!(family.get("/council/reports/gaps.csv").await.status, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn the_council_reports_page_charts_real_districts_and_explains_every_report() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        // Five families in SW19, enough for the district to be shown on its own.
        for n in 2..=5 {
            app.holder(&w.council, &sam(&format!("EHC-000{n}"), &format!("parent{n}@family.example"), "800.00")).await;
        }
        let mut b = Browser::new(&app);
        b.log_in("officer@merton.example", PASSWORD).await;
        let page = b.get("/council/reports").await;
        assert_eq!(page.status, StatusCode::OK);
        for section in ["Where the market fails", "Spending by funding stream", "Budgets to look at", "Providers at risk", "Plan outcomes"] {
            assert!(page.html.contains(&format!("<h2>{section}</h2>")), "{section}: {}", page.html);
        }
        let charts: Vec<&str> = page.html.split("<svg").skip(1).map(|s| s.split("</svg>").next().unwrap_or_default()).collect();
        assert_eq!(charts.len(), 2, "{}", page.html);
        // One bar for the district, labelled in full; the pooled rows are not bars.
        assert!(charts[0].contains(" in SW19") && charts[0].contains("<rect"), "{}", charts[0]);
        assert!(!charts[0].contains("ALL") && !charts[0].contains("OTHER") && !charts[0].contains('…'), "{}", charts[0]);
        assert!(charts[1].contains("allocated") && charts[1].contains("remaining") && charts[1].contains("£4,200.00"), "{}", charts[1]);
        // The pooled rows are in the table, in words; each figure is explained.
        assert!(page.html.contains("<td>All areas</td>") && !page.html.contains("<td>ALL</td>"), "{}", page.html);
        for words in ["gap score", "need ÷ (1 + supply)", "unaffordable", "suppressed", "claw-back"] {
            assert!(page.html.contains(words), "{words}");
        }
        for link in ["gaps.csv", "spending.csv", "providers-at-risk.csv", "outcomes.csv"] {
            assert!(page.html.contains(&format!("href=\"/council/reports/{link}\"")), "{link}");
        }
        assert!(page.html.contains("EHC-0005") && !page.html.contains("To make friends and join in"), "{}", page.html);
    }

    #[tokio::test]
    async fn a_provider_registers_and_lists_a_priced_service() {
        let app = spawn().await;
        let mut b = Browser::new(&app);
        let csrf = b.get("/provider/register").await.csrf();
        // Mistakes come back with messages next to the fields and what was typed kept.
        let bad = b.post("/provider/register", &[("csrf_token", &csrf), ("organisation_name", "Kayak Club"), ("kind", "vcs"), ("email", "nope"), ("password", "short")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.html.contains("href=\"#email\"") && bad.html.contains("href=\"#password\"") && bad.html.contains("value=\"Kayak Club\""));
        let ok = b.post("/provider/register", &[("csrf_token", &csrf), ("organisation_name", "Kayak Club"), ("kind", "vcs"), ("email", "staff@kayak.example"), ("password", PASSWORD)]).await;
        // A neutral page, the same whether or not the email was taken, and no automatic login.
        assert_eq!(ok.status, StatusCode::OK);
        assert!(ok.html.contains("Registration received") && ok.html.contains("If this email is not already registered"), "{}", ok.html);
        // Its services are shown once the link mailed at registration is opened.
        app.confirm_email("staff@kayak.example").await;
        assert_eq!(b.log_in("staff@kayak.example", PASSWORD).await.location.as_deref(), Some("/provider/services"));
        let csrf = b.get("/provider/services/new").await.csrf();
        let mut form = vec![
            ("csrf_token", csrf.as_str()), ("name", "Kayak Club"), ("description", "Paddling on the lake."),
            ("outcome", "pfa-friends-community"), ("outcome", "ecm-be-healthy"), ("min_age", "8"), ("max_age", "18"),
            ("funding_stream", "social_care"), ("postcode", "SW19 2HR"), ("capacity", "10"), ("price_label_0", "Session"),
            ("price_unit_0", "session"), ("price_0", ""), ("fcr_direct_0", "9000"), ("fcr_overheads_0", "3000"), ("fcr_units_0", "400"),
            ("fcr_occupancy_0", "0.75"), ("publish", "yes"),
        ];
        let broken: Vec<_> = form.iter().map(|(k, v)| if *k == "max_age" { (*k, "99") } else { (*k, *v) }).collect();
        let refused = b.post("/provider/services/new", &broken).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.html.contains("href=\"#max_age\"") && refused.html.contains("value=\"Kayak Club\""), "{}", refused.html);
        form.retain(|(k, _)| *k != "csrf_token");
        form.push(("csrf_token", &csrf));
        let saved = b.post("/provider/services/new", &form).await;
        assert_eq!(saved.location.as_deref(), Some("/provider/services"), "{}", saved.html);
        let list = b.get("/provider/services").await;
        // 12,000 a year over 300 sessions sold: £40.00 a session.
        assert!(list.html.contains("Kayak Club") && list.html.contains("£40.00"), "{}", list.html);
        let mut found = false;
        for _ in 0..50 {
            let res = b.get("/search?q=kayak").await;
            if res.html.contains("1 service found") { found = true; break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(found, "the new service is searchable");
    }

    #[tokio::test]
    async fn a_council_adds_a_budget_holder_and_suspends_a_provider() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let mut b = Browser::new(&app);
        b.log_in("officer@merton.example", PASSWORD).await;
        let csrf = b.get("/council/budget-holders/new").await.csrf();
        let mut form = vec![
            ("csrf_token", csrf.as_str()), ("reference", "EHC-0042"), ("first_name", "Priya"), ("date_of_birth", "2012-03-04"),
            ("postcode", "CR4 3AA"), ("plan_start", "2026-09-01"), ("plan_end", "2027-08-31"),
            ("family_email", "priya@family.example"), ("family_password", PASSWORD),
            ("outcome_text_0", "To travel to college on her own"), ("outcome_term_0", "pfa-independent-living"),
            ("outcome_text_1", ""), ("outcome_term_1", ""),
            ("amount_social_care", "2,400.00"), ("management_social_care", "third_party"), ("admin_fee_social_care", "120.00"),
            ("amount_education", ""), ("management_education", "direct_payment"), ("admin_fee_education", ""),
        ];
        let mut broken = form.clone();
        broken.retain(|(k, _)| *k != "plan_end");
        broken.push(("plan_end", "2026-01-01"));
        let refused = b.post("/council/budget-holders/new", &broken).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.html.contains("href=\"#plan_end\"") && refused.html.contains("value=\"Priya\""), "{}", refused.html);
        let saved = b.post("/council/budget-holders/new", &form).await;
        assert_eq!(saved.location.as_deref(), Some("/council/budget-holders"), "{}", saved.html);
        let list = b.get("/council/budget-holders").await;
        assert!(list.html.contains("EHC-0042") && list.html.contains("£2,400.00") && list.html.contains("£2,280.00"), "{}", list.html);
        form.clear();
        // The reports page: a chart drawn on the server, the numbers in tables, CSV links.
        let reports = b.get("/council/reports").await;
        assert_eq!(reports.status, StatusCode::OK);
        assert!(reports.html.contains("<svg") && reports.html.contains("Gaps, worst first") && reports.html.contains("gaps.csv"), "{}", reports.html);

        // Suspending the provider takes its services out of search and stops bookings.
        let providers = b.get("/council/providers").await;
        assert!(providers.html.contains("Wandle Club"));
        let suspended = b.post(&format!("/council/providers/{}/suspend", w.organisation_id), &[("csrf_token", &providers.csrf())]).await;
        assert_eq!(suspended.location.as_deref(), Some("/council/providers"));
        let mut gone = false;
        for _ in 0..50 {
            if expect(app.get("/search?q=saturday", None).await, StatusCode::OK).await["total"] == 0 { gone = true; break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(gone, "a suspended provider's services leave search");
        expect_error(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CONFLICT, "not_bookable", Some("price_option_id")).await;
        // Only councils may do this, through the API too.
        expect_error(app.post(&format!("/organisations/{}/verify", w.organisation_id), Some(&w.provider), &serde_json::json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let verified = expect(app.post(&format!("/organisations/{}/verify", w.organisation_id), Some(&w.council), &serde_json::json!({})).await, StatusCode::OK).await;
        assert_eq!(verified["status"], "verified");
        expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CREATED).await;
    }

    #[tokio::test]
    async fn a_council_records_a_childs_needs_and_the_family_sees_them_on_its_plan() {
        let app = spawn().await;
        app.council("Merton", "officer@merton.example").await;
        let mut b = Browser::new(&app);
        b.log_in("officer@merton.example", PASSWORD).await;
        let empty = b.get("/council/budget-holders/new").await;
        // Needs are offered grouped under their areas of need, each area also as a whole.
        assert!(empty.html.contains("<legend>Sensory and/or physical needs</legend>"), "{}", empty.html);
        assert!(empty.html.contains("value=\"need-hearing-impairment\"") && empty.html.contains("Communication and interaction in general"));
        let csrf = empty.csrf();
        let mut form = vec![
            ("csrf_token", csrf.as_str()), ("reference", "EHC-0042"), ("first_name", "Priya"), ("date_of_birth", "2012-03-04"),
            ("postcode", "CR4 3AA"), ("plan_start", "2026-09-01"), ("plan_end", "2027-08-31"),
            ("family_email", "priya@family.example"), ("family_password", PASSWORD),
            ("outcome_text_0", "To travel to college on her own"), ("outcome_term_0", "pfa-independent-living"),
            ("amount_social_care", "2,400.00"), ("management_social_care", "direct_payment"),
            ("needs", "need-visual-impairment"), ("needs", "need-made-up"),
        ];
        // A need the vocabulary does not have is refused by the field, the ticked ones kept.
        let refused = b.post("/council/budget-holders/new", &form).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.html.contains("href=\"#needs\""), "{}", refused.html);
        assert!(refused.html.contains("value=\"need-visual-impairment\" checked"), "{}", refused.html);
        form.pop();
        let saved = b.post("/council/budget-holders/new", &form).await;
        assert_eq!(saved.location.as_deref(), Some("/council/budget-holders"), "{}", saved.html);
        let mut family = Browser::new(&app);
        family.log_in("priya@family.example", PASSWORD).await;
        let plan = family.get("/my-plan").await;
        assert!(plan.html.contains("Needs") && plan.html.contains("Visual impairment"), "{}", plan.html);
    }

    #[tokio::test]
    async fn a_shortlist_is_kept_while_browsing_without_logging_in() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let id = w.service["id"].as_i64().unwrap();
        let mut b = Browser::new(&app);
        let page = b.get(&format!("/services/{id}")).await;
        assert!(page.html.contains("Add to shortlist"));
        let refused = b.post(&format!("/shortlist/{id}/add"), &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let added = b.post(&format!("/shortlist/{id}/add"), &[("csrf_token", &page.csrf())]).await;
        assert_eq!(added.location.as_deref(), Some(format!("/services/{id}").as_str()));
        let list = b.get("/shortlist").await;
        assert!(list.html.contains("Saturday Club") && list.html.contains("Shortlist (1)"), "{}", list.html);
        assert!(b.get(&format!("/services/{id}")).await.html.contains("on your"));
        let removed = b.post(&format!("/shortlist/{id}/remove"), &[("csrf_token", &list.csrf())]).await;
        assert_eq!(removed.location.as_deref(), Some("/shortlist"));
        assert!(b.get("/shortlist").await.html.contains("Nothing on your shortlist"));
    }

    #[tokio::test]
    async fn a_provider_edits_and_reprices_its_own_service_only() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let id = w.service["id"].as_i64().unwrap();
        let mut b = Browser::new(&app);
        b.log_in("staff@wandle.example", PASSWORD).await;
        let form_page = b.get(&format!("/provider/services/{id}/edit")).await;
        assert_eq!(form_page.status, StatusCode::OK);
        assert!(form_page.html.contains("value=\"Saturday Club\"") && form_page.html.contains("value=\"45.00\""), "{}", form_page.html);
        // Every option in its own row, with the kinds, needs and address the API gave.
        assert!(form_page.html.contains("value=\"Overnight\"") && form_page.html.contains("value=\"1 High Street, Wimbledon\""), "{}", form_page.html);
        assert!(form_page.html.contains("value=\"st-short-break-day\" checked") && form_page.html.contains("value=\"need-autism\" checked"), "{}", form_page.html);
        let csrf = form_page.csrf();
        let (first, second) = (option_id(&w.service, 0).to_string(), option_id(&w.service, 1).to_string());
        let form = [
            ("csrf_token", csrf.as_str()), ("name", "Saturday Club (Wimbledon)"), ("description", "Games."),
            ("outcome", "pfa-friends-community"), ("min_age", "5"), ("max_age", "18"), ("funding_stream", "social_care"),
            ("postcode", "SW19 2HR"), ("capacity", "12"), ("price_id_0", &first), ("price_label_0", "Saturday session"), ("price_unit_0", "session"),
            ("price_0", "50.00"), ("price_id_1", &second), ("price_label_1", "Overnight"), ("price_unit_1", "night"), ("price_1", "191.18"),
            ("publish", "yes"),
        ];
        let saved = b.post(&format!("/provider/services/{id}/edit"), &form).await;
        assert_eq!(saved.location.as_deref(), Some("/provider/services"), "{}", saved.html);
        let view = expect(app.get(&format!("/services/{id}"), None).await, StatusCode::OK).await;
        assert_eq!(view["name"], "Saturday Club (Wimbledon)");
        assert_eq!(view["price_options"][0]["id"], w.service["price_options"][0]["id"], "re-priced in place");
        assert_eq!(view["price_options"][0]["price"], "50.00");
        assert_eq!(view["price_options"][1]["id"], w.service["price_options"][1]["id"]);
        assert_eq!(view["price_options"][1]["price"], "191.18");
        // Another provider can neither see the form nor post it.
        let mut other = Browser::new(&app);
        let csrf = other.get("/provider/register").await.csrf();
        other.post("/provider/register", &[("csrf_token", &csrf), ("organisation_name", "Other"), ("kind", "private"), ("email", "o@other.example"), ("password", PASSWORD)]).await;
        other.log_in("o@other.example", PASSWORD).await;
        assert_eq!(other.get(&format!("/provider/services/{id}/edit")).await.status, StatusCode::FORBIDDEN);
        let csrf = other.get("/provider/services").await.csrf();
        let mut hijack = form.to_vec();
        hijack[0] = ("csrf_token", csrf.as_str());
        hijack[1] = ("name", "Hijacked");
        assert_eq!(other.post(&format!("/provider/services/{id}/edit"), &hijack).await.status, StatusCode::FORBIDDEN);
        assert_eq!(expect(app.get(&format!("/services/{id}"), None).await, StatusCode::OK).await["name"], "Saturday Club (Wimbledon)");
        // The search page offers kinds of service as well as outcomes.
        let search = b.get("/search?service_type=st-short-break").await;
        assert!(search.html.contains("Kinds of service") && search.html.contains("value=\"st-short-break\" checked"), "{}", search.html);
    }

    #[tokio::test]
    async fn login_never_sends_people_to_another_site() {
        let app = spawn().await;
        world(&app, "1000.00").await;
        for next in ["/\t/evil.example", "//evil.example", "https://evil.example", "/x\r\nSet-Cookie: a=b"] {
            let mut b = Browser::new(&app);
            let csrf = b.get("/login").await.csrf();
            let page = b.post("/login", &[("csrf_token", &csrf), ("email", "parent@family.example"), ("password", PASSWORD), ("next", next)]).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{next:?}");
            assert_eq!(page.location.as_deref(), Some("/my-plan"), "{next:?}");
        }
        let mut b = Browser::new(&app);
        let csrf = b.get("/login").await.csrf();
        let page = b.post("/login", &[("csrf_token", &csrf), ("email", "parent@family.example"), ("password", PASSWORD), ("next", "/my-plan/statement")]).await;
        assert_eq!(page.location.as_deref(), Some("/my-plan/statement"));
    }
}

mod paging {
    use super::*;
    use serde_json::json;

    both_backends! {
        #[tokio::test]
        async fn long_lists_on_the_pages_go_on_to_the_next_page() {
            let app = spawn().await;
            let w = world(&app, "1000.00").await;
            let mut ten = saturday_club();
            ten["price_options"] = json!([{"label": "Ten pound session", "unit": "session", "price": "10.00"}]);
            let service = app.service(&w.provider, &ten).await;
            for _ in 0..52 {
                expect(app.book(&w.family, &w.holder, 0, option_id(&service, 0), 1).await, StatusCode::CREATED).await;
            }
            let mut family = Browser::new(&app);
            family.log_in("parent@family.example", PASSWORD).await;
            let first = family.get("/my-plan").await.html;
            assert!(first.contains("Showing 1 to 50 of 52 bookings"), "{first}");
            assert!(first.contains("href=\"/my-plan?page=2\" rel=\"next\""), "{first}");
            let second = family.get("/my-plan?page=2").await.html;
            assert!(second.contains("Showing 51 to 52 of 52 bookings"), "{second}");
            assert!(second.contains("aria-current=\"page\""));
            assert_eq!(second.matches("aria-label=\"Cancel booking for").count(), 2, "the two oldest bookings");
            assert_eq!(family.get("/my-plan?page=nine").await.status, StatusCode::BAD_REQUEST);

            let mut provider = Browser::new(&app);
            provider.log_in("staff@wandle.example", PASSWORD).await;
            let bookings = provider.get("/provider/bookings?page=2").await.html;
            assert!(bookings.contains("Showing 51 to 52 of 52 bookings"), "{bookings}");
            assert!(bookings.contains("href=\"/provider/bookings?page=1\" rel=\"prev\""));

            let mut council = Browser::new(&app);
            council.log_in("officer@merton.example", PASSWORD).await;
            let holders = council.get("/council/budget-holders").await.html;
            assert!(holders.contains("1 budget holder<") && holders.contains("EHC-0001"), "{holders}");
            assert!(!holders.contains("rel=\"next\""), "one page only");
        }
    }
}

/// The public search page: paging, filters, the map and places outside England.
mod search_page {
    use super::*;

    /// 25 clubs, each a little further north of the SW19 centroid than the last, cheapest first: every third health-funded, the odd ones
    /// on Tuesdays, the first five for ages 16 to 25, every fifth a swimming club.
    async fn twenty_five_clubs(app: &TestApp) -> Vec<i64> {
        let (_, provider) = app.provider("Many Clubs", "staff@many.example").await;
        let mut ids = Vec::new();
        for i in 0..25 {
            let mut body = saturday_club();
            body["name"] = format!("Club {i:02}").into();
            body["location"]["lat"] = (51.42417 + 0.002 * i as f64).into();
            body["reach_miles"] = serde_json::Value::Null;
            body["price_options"] =
                serde_json::json!([{"label": "A session", "unit": "session", "price": format!("{}.00", 10 + i)}]);
            body["funding_streams"] = serde_json::json!([if i % 3 == 0 { "health" } else { "social_care" }]);
            body["schedule"] = serde_json::json!([{"day": if i % 2 == 1 { "tuesday" } else { "saturday" }, "starts": "10:00", "ends": "12:00"}]);
            if i < 5 {
                body["min_age"] = 16.into();
                body["max_age"] = 25.into();
            }
            if i % 5 == 0 {
                body["service_types"] = serde_json::json!(["st-swimming"]);
            }
            ids.push(app.service(&provider, &body).await["id"].as_i64().unwrap());
        }
        ids
    }

    /// The search page's count heading ("25 services found, showing 1–20").
    fn count_heading(html: &str) -> String {
        let at = html
            .find("<h2 id=\"results\">")
            .map(|i| i + 17)
            .expect("a count heading");
        html[at..at + html[at..].find('<').unwrap()].to_string()
    }

    /// The result names on a search page, in order.
    fn result_names(html: &str) -> Vec<String> {
        html.split("<h3><a href=\"/services/")
            .skip(1)
            .map(|s| {
                let start = s.find('>').unwrap() + 1;
                s[start..start + s[start..].find('<').unwrap()].to_string()
            })
            .collect()
    }

    both_backends! {
        #[tokio::test]
        async fn the_search_page_pages_through_results_keeping_every_filter() {
            let app = spawn().await;
            twenty_five_clubs(&app).await;
            let mut b = Browser::new(&app);
            let mut first = String::new();
            for _ in 0..100 {
                first = b.get("/search?q=&postcode=SW19&radius_miles=10&sort=price").await.html;
                if first.contains("25 services found") { break; }
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            }
            assert_eq!(count_heading(&first), "25 services found, showing 1–20");
            assert!(first.contains("Page 1 of 2"), "{first}");
            assert_eq!(result_names(&first)[0], "Club 00");
            assert_eq!(result_names(&first).len(), 20);
            // The next page's link keeps the place, the distance and the order; empty fields are left out.
            let next = "/search?postcode=SW19&amp;radius_miles=10&amp;sort=price&amp;page=2";
            assert!(first.contains(&format!("href=\"{next}\" rel=\"next\"")), "{first}");
            let second = b.get(&next.replace("&amp;", "&")).await;
            assert_eq!(count_heading(&second.html), "25 services found, showing 21–25");
            assert!(second.html.contains("<ol class=\"results\" start=\"21\">"));
            assert_eq!(result_names(&second.html), ["Club 20", "Club 21", "Club 22", "Club 23", "Club 24"]);
            assert!(second.html.contains("Page 2 of 2"));
            assert!(second.html.contains("href=\"/search?postcode=SW19&amp;radius_miles=10&amp;sort=price\" rel=\"prev\""));
            assert!(!second.html.contains("rel=\"next\""));
            // The form shows what the search was made with.
            assert!(second.html.contains("<option value=\"price\" selected>Cheapest first</option>"), "{}", second.html);
            // Past the last page: said plainly, with a way back.
            let beyond = b.get("/search?postcode=SW19&radius_miles=10&page=9").await;
            assert!(beyond.html.contains("There is no page 9 of these results."), "{}", beyond.html);
        }

        #[tokio::test]
        async fn each_search_filter_on_the_page_changes_the_results() {
            let app = spawn().await;
            let ids = twenty_five_clubs(&app).await;
            let mut b = Browser::new(&app);
            let all = "/search?postcode=SW19&radius_miles=10&sort=price";
            for _ in 0..100 {
                if b.get(all).await.html.contains("25 services found") { break; }
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            }
            let day = (chrono::Utc::now() + chrono::Duration::days(12)).date_naive();
            let body = serde_json::json!({"starts_at": format!("{day}T10:00:00"), "ends_at": format!("{day}T12:00:00")});
            let token = app.login("staff@many.example", PASSWORD).await;
            expect(app.post(&format!("/services/{}/sessions", ids[7]), Some(&token), &body).await, StatusCode::CREATED).await;
            let form = b.get("/search").await.html;
            for label in ["Paid from", "Price up to (£)", "Day", "Order", "Your child's needs", ">Social care</option>", ">Saturday</option>", "Nearest first"] {
                assert!(form.contains(label), "the form offers {label}");
            }
            let cases: [(&str, &str, usize, &str); 7] = [
                ("stream", "health", 9, "Club 00"),
                ("max_price", "£15", 6, "Club 00"),
                ("day", "tuesday", 12, "Club 01"),
                ("age", "20", 5, "Club 00"),
                ("service_type", "st-swimming", 5, "Club 00"),
                ("available_from", &day.to_string(), 1, "Club 07"),
                ("sort", "distance", 25, "Club 00"),
            ];
            for (field, value, count, first) in cases {
                let mut page = String::new();
                for _ in 0..50 {
                    page = b.get(&format!("{all}&{field}={}", urlencode(value))).await.html;
                    if count_heading(&page).starts_with(&format!("{count} ")) { break; }
                    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                }
                assert!(count_heading(&page).starts_with(&format!("{count} service")), "{field}={value}: {}", count_heading(&page));
                assert_eq!(result_names(&page)[0], first, "{field}={value}");
            }
            let nearest = b.get(&format!("{all}&sort=distance&page=2")).await.html;
            assert_eq!(result_names(&nearest)[0], "Club 20", "nearest first, page 2");
        }

        #[tokio::test]
        async fn a_postcode_outside_england_says_which_nation_it_is_in_and_what_to_do() {
            let app = spawn().await;
            world(&app, "1000.00").await;
            let mut b = Browser::new(&app);
            for (postcode, said) in [
                ("EH1 1AA", "EH1 1AA is in Scotland."),
                ("CF10 1AA", "CF10 1AA is in Wales."),
                ("BT1 1AA", "BT1 1AA is in Northern Ireland."),
                ("G2", "G2 is in Scotland."),
            ] {
                let page = b.get(&format!("/search?postcode={}", urlencode(postcode))).await;
                assert!(page.html.contains("<a href=\"#postcode\">This service covers England&#39;s Local Offer;")
                    || page.html.contains("<a href=\"#postcode\">This service covers England's Local Offer;"), "{postcode}: {}", page.html);
                assert!(page.html.contains(said), "{postcode}");
                assert!(page.html.contains("Search with a postcode in England"), "{postcode}");
                assert!(!page.html.contains("cannot find where this postcode is"), "{postcode}");
                assert!(!page.html.contains("services found"), "{postcode}: no empty result list");
                let api = expect_error(app.get(&format!("/search?postcode={}", urlencode(postcode)), None).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("postcode")).await;
                assert!(api["error"]["message"].as_str().unwrap().contains(said), "{api}");
            }
            // A border district is searched: part of it is in England.
            let border = b.get("/search?postcode=SY10").await;
            assert!(border.html.contains("services found") || border.html.contains("service found"), "{}", border.html);
        }

        #[tokio::test]
        async fn the_map_draws_each_result_at_its_true_bearing_and_loads_leaflet_from_our_assets() {
            let tiles = localoffer::domain::geo::MapTiles::new("http://127.0.0.1:9/tiles/{z}/{x}/{y}.png", "Test tiles © Nobody").unwrap();
            let chosen = tiles.clone();
            let app = spawn_with(tempfile::tempdir().unwrap(), fresh_database(), move |s| s.map_tiles = chosen).await;
            let (_, provider) = app.provider("Compass Clubs", "staff@compass.example").await;
            // The SW19 centroid is 51.42417, -0.20289: one club 2 miles north, one 2 miles east.
            let mut ids = HashMap::new();
            for (name, lat, lon) in [("North Club", 51.4531, -0.20289), ("East Club", 51.42417, -0.1566), ("Here Club", 51.42417, -0.20289)] {
                let mut body = saturday_club();
                body["name"] = name.into();
                body["location"]["lat"] = lat.into();
                body["location"]["lon"] = lon.into();
                ids.insert(name, app.service(&provider, &body).await["id"].as_i64().unwrap());
            }
            let mut b = Browser::new(&app);
            let mut page = String::new();
            for _ in 0..100 {
                page = b.get("/search?postcode=SW19&radius_miles=5").await.html;
                if page.contains("3 services found") { break; }
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            }
            let drawn = |name: &str| -> (f64, f64) {
                let at = page.find(&format!("<a class=\"map-marker\" href=\"/services/{}\"", ids[name])).unwrap_or_else(|| panic!("{name} on the map: {page}"));
                let number = |key: &str| -> f64 {
                    let from = at + page[at..].find(&format!("{key}=\"")).unwrap() + key.len() + 2;
                    page[from..from + page[from..].find('"').unwrap()].parse().unwrap()
                };
                (number("cx"), number("cy"))
            };
            let (north_x, north_y) = drawn("North Club");
            assert!(north_y < 160.0 - 30.0 && (north_x - 160.0).abs() < 2.0, "north is drawn above You: {north_x},{north_y}");
            let (east_x, east_y) = drawn("East Club");
            assert!(east_x > 160.0 + 30.0 && (east_y - 160.0).abs() < 2.0, "east is drawn to the right: {east_x},{east_y}");
            // Two miles in a five-mile ring drawn 140 px across: both at the same true distance.
            assert!(((160.0 - north_y) - (east_x - 160.0)).abs() < 2.0);
            let (here_x, here_y) = drawn("Here Club");
            assert!((here_x - 160.0).hypot(here_y - 160.0) >= 25.0, "a result on the very spot does not cover You");
            assert!(page.contains(">You</text>") && page.contains("miles</text>"), "You and a scale bar in miles");
            assert!(page.contains("aria-hidden=\"true\"") && page.contains("tabindex=\"-1\""), "a visual aid, out of the tab order");
            assert!(page.contains("data-map-tiles=\"http://127.0.0.1:9/tiles/{z}/{x}/{y}.png\""));
            assert!(page.contains("data-map-attribution=\"Test tiles © Nobody\""));

            // The tiles' host may serve images; our scripts come from our own assets.
            let res = app.client.get(app.url("/search")).send().await.unwrap();
            let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
            assert!(csp.contains("img-src 'self' http://127.0.0.1:9;") && csp.contains("default-src 'self'"), "{csp}");
            for (path, kind, text) in [
                ("/assets/leaflet-1.9.4/leaflet.js", "text/javascript", "L.version"),
                ("/assets/leaflet-1.9.4/leaflet.css", "text/css", ".leaflet-container"),
                ("/assets/map.js", "text/javascript", "tileerror"),
            ] {
                assert!(page.contains(path), "the page loads {path}");
                let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::OK, "{path}");
                assert!(res.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
                let cache = res.headers()["cache-control"].to_str().unwrap().to_string();
                assert!(cache.contains("max-age"), "{path}: {cache}");
                let body = res.text().await.unwrap();
                assert!(body.contains(text.trim_start_matches("L.")), "{path}");
            }
            let icon = app.client.get(format!("{}/assets/leaflet-1.9.4/images/marker-icon.png", app.base)).send().await.unwrap();
            assert_eq!(icon.headers()["cache-control"], "public, max-age=31536000, immutable");
            assert_eq!(&icon.bytes().await.unwrap()[1..4], b"PNG");
        }

        #[tokio::test]
        async fn a_bad_search_filter_is_named_by_its_field_in_words() {
            let app = spawn().await;
            let mut b = Browser::new(&app);
            let page = b.get("/search?postcode=SW19&max_price=lots&day=funday&stream=vouchers&age=40&sort=distance&available_from=soon").await;
            assert_eq!(page.status, StatusCode::OK);
            for (field, message) in [
                ("max_price", "Price up to must be an amount such as"),
                ("day", "Day must be a day of the week"),
                ("stream", "Paid from must be education, health or social care"),
                ("age", "Child's age must be an age from 0 to 25"),
                ("available_from", "The first date must be a date such as 2027-01-09"),
            ] {
                assert!(page.html.contains(&format!("<a href=\"#{field}\">{message}")), "{field}: {}", page.html);
                assert!(page.html.contains(&format!("id=\"{field}-error\"")), "{field} shows its error by the field");
            }
            assert!(page.html.contains("<title>Error: Search the Local Offer"));
            let no_place = b.get("/search?sort=distance").await;
            assert!(no_place.html.contains("<a href=\"#sort\">Sorting by distance needs a postcode</a>"), "{}", no_place.html);
        }
    }

    fn urlencode(value: &str) -> String {
        serde_urlencoded::to_string([("v", value)]).unwrap()[2..].to_string()
    }
}

/// A provider enters everything the API takes; families see the provider's contact and words, not codes.
mod entering_everything {
    use super::*;

    both_backends! {
        #[tokio::test]
        async fn a_provider_enters_everything_and_families_see_it_with_the_contact() {
            let app = spawn().await;
            world(&app, "1000.00").await;
            let mut b = Browser::new(&app);
            let csrf = b.get("/provider/register").await.csrf();
            let registered = b.post("/provider/register", &[
                ("csrf_token", &csrf), ("organisation_name", "Mitcham Swim Club"), ("kind", "vcs"),
                ("description", "Swimming for disabled children since 1990."), ("phone", "020 8123 4567"),
                ("organisation_email", "Hello@MitchamSwim.example"), ("website", "https://mitchamswim.example/"),
                ("email", "staff@mitchamswim.example"), ("password", PASSWORD),
            ]).await;
            assert!(registered.html.contains("Registration received"), "{}", registered.html);
            app.confirm_email("staff@mitchamswim.example").await;
            b.log_in("staff@mitchamswim.example", PASSWORD).await;
            let page = b.get("/provider/services/new").await;
            assert!(page.html.contains("Making and keeping friends"), "specific outcomes grouped under broad ones");
            assert!(page.html.contains("value=\"pfa-friends-community-friendships\""), "{}", page.html);
            let csrf = page.csrf();
            let mut form = vec![
                ("csrf_token", csrf.as_str()), ("name", "Swim Sundays"), ("description", "Lessons in a warm pool."),
                ("service_type", "st-swimming"), ("outcome", "pfa-friends-community-friendships"), ("need", "need-hearing-impairment"),
                ("min_age", "6"), ("max_age", "16"), ("funding_stream", "social_care"), ("funding_stream", "health"),
                ("address", "Pool Lane Leisure Centre"), ("postcode", "CR4 3AA"), ("capacity", ""),
                ("schedule_sunday_starts", "09:00"), ("schedule_sunday_ends", "11:00"),
                ("price_label_0", "Lesson"), ("price_unit_0", "session"), ("price_0", "£18.50"),
                ("price_label_1", "Term of ten"), ("price_unit_1", "item"), ("price_1", "170"),
                ("publish", "yes"),
            ];
            // "Add another price option" shows one more row and keeps what was typed, saving nothing.
            let mut adding = form.clone();
            adding.push(("add_price_row", "yes"));
            let more = b.post("/provider/services/new", &adding).await;
            assert_eq!(more.status, StatusCode::OK);
            assert!(more.html.contains("id=\"price_label_2\"") && !more.html.contains("id=\"price_label_3\""), "{}", more.html);
            assert!(more.html.contains("value=\"Term of ten\"") && more.html.contains("value=\"09:00\""), "{}", more.html);
            form.push(("price_label_2", ""));
            let saved = b.post("/provider/services/new", &form).await;
            assert_eq!(saved.location.as_deref(), Some("/provider/services"), "{}", saved.html);

            let token = app.login("staff@mitchamswim.example", PASSWORD).await;
            let list = b.get("/provider/services").await;
            let id: i64 = list.html.match_indices("href=\"/provider/services/").find_map(|(i, m)| {
                let rest = &list.html[i + m.len()..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                rest[digits.len()..].starts_with("/edit").then(|| digits.parse().ok()).flatten()
            }).expect("an edit link");
            let view = expect(app.get(&format!("/services/{id}"), Some(&token)).await, StatusCode::OK).await;
            assert_eq!(view["service_types"], serde_json::json!(["st-swimming"]));
            assert_eq!(view["outcomes"], serde_json::json!(["pfa-friends-community-friendships"]));
            assert_eq!(view["needs"], serde_json::json!(["need-hearing-impairment"]));
            assert_eq!(view["schedule"], serde_json::json!([{"day": "sunday", "starts": "09:00", "ends": "11:00"}]));
            assert_eq!(view["location"]["address"], "Pool Lane Leisure Centre");
            assert!(view["capacity"].is_null(), "{view}");
            assert_eq!(view["price_options"].as_array().unwrap().len(), 2, "{view}");
            assert_eq!(view["price_options"][0]["price"], "18.50");
            assert_eq!(view["price_options"][1]["price"], "170.00");

            // The edit form shows it all again.
            let edit = b.get(&format!("/provider/services/{id}/edit")).await;
            assert!(edit.html.contains("value=\"pfa-friends-community-friendships\" checked") && edit.html.contains("value=\"Term of ten\"")
                && edit.html.contains("value=\"09:00\"") && edit.html.contains("value=\"Pool Lane Leisure Centre\""), "{}", edit.html);

            // The public page: the provider's contact as links, and words, not codes.
            let mut public = Browser::new(&app);
            let service = public.get(&format!("/services/{id}")).await;
            assert!(service.html.contains("Mitcham Swim Club"), "{}", service.html);
            assert!(service.html.contains("href=\"tel:02081234567\">020 8123 4567</a>"), "{}", service.html);
            assert!(service.html.contains("href=\"mailto:hello@mitchamswim.example\""), "{}", service.html);
            assert!(service.html.contains("href=\"https://mitchamswim.example/\""), "{}", service.html);
            assert!(!service.html.contains("Through this site"));
            assert!(service.html.contains("Sunday 09:00–11:00") && service.html.contains("Health, Social care"), "{}", service.html);
            assert!(!service.html.contains("social_care"), "{}", service.html);
        }

        #[tokio::test]
        async fn an_empty_service_form_or_registration_lists_every_problem_at_once() {
            let app = spawn().await;
            world(&app, "1000.00").await;
            let mut b = Browser::new(&app);
            let csrf = b.get("/provider/register").await.csrf();
            let empty = b.post("/provider/register", &[("csrf_token", &csrf)]).await;
            assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
            for field in ["organisation_name", "kind", "email", "password"] {
                assert!(empty.html.contains(&format!("href=\"#{field}\"")), "{field}: {}", empty.html);
            }
            assert!(empty.html.contains("Password: must be at least 10 characters"), "{}", empty.html);
            let bad_site = b.post("/provider/register", &[("csrf_token", &csrf), ("organisation_name", "X"), ("kind", "vcs"),
                ("website", "www.nope"), ("organisation_email", "nope"), ("email", "x@x.example"), ("password", PASSWORD)]).await;
            assert!(bad_site.html.contains("href=\"#website\"") && bad_site.html.contains("href=\"#organisation_email\""), "{}", bad_site.html);

            b.log_in("staff@wandle.example", PASSWORD).await;
            let csrf = b.get("/provider/services/new").await.csrf();
            let empty = b.post("/provider/services/new", &[("csrf_token", &csrf)]).await;
            assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
            for field in ["name", "min_age", "max_age", "funding_stream", "postcode", "price_label_0"] {
                assert!(empty.html.contains(&format!("href=\"#{field}\"")), "{field}: {}", empty.html);
            }
            assert!(!empty.html.contains("href=\"#capacity\""), "capacity may be left out");
            assert!(empty.html.contains("Service name: must not be empty"), "{}", empty.html);
            // Problems in the second price option name its row, from the form and from the rules.
            let base = [("csrf_token", csrf.as_str()), ("name", "Club"), ("min_age", "5"), ("max_age", "18"), ("funding_stream", "social_care"),
                ("postcode", "SW19 2HR"), ("price_label_0", "Session"), ("price_unit_0", "session"), ("price_0", "10")];
            let mut typo = base.to_vec();
            typo.extend([("price_label_1", "Day"), ("price_1", "ten pounds"), ("schedule_monday_starts", "9am")]);
            let refused = b.post("/provider/services/new", &typo).await;
            assert!(refused.html.contains("href=\"#price_1\"") && refused.html.contains("href=\"#schedule_monday_starts\""), "{}", refused.html);
            let mut unnamed = base.to_vec();
            unnamed.extend([("price_label_1", ""), ("price_1", "20"), ("schedule_sunday_starts", "11:00"), ("schedule_sunday_ends", "10:00")]);
            let refused = b.post("/provider/services/new", &unnamed).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.html.contains("href=\"#price_label_1\"") && refused.html.contains("href=\"#schedule_sunday_ends\""), "{}", refused.html);
            assert!(refused.html.contains("id=\"price_label_1-error\""), "the message by the field too");
        }

        #[tokio::test]
        async fn pay_from_offers_only_what_can_pay_and_says_why_when_nothing_can() {
            let app = spawn().await;
            let w = world(&app, "1000.00").await;
            let mut two = sam("EHC-0002", "two@family.example", "500.00");
            two["allocations"] = serde_json::json!([
                {"stream": "health", "management": "organised", "amount": "800.00"},
                {"stream": "social_care", "management": "direct_payment", "amount": "20.00"},
                {"stream": "education", "management": "third_party", "amount": "300.00"}
            ]);
            app.holder(&w.council, &two).await;
            let mut b = Browser::new(&app);
            b.log_in("two@family.example", PASSWORD).await;
            let id = w.service["id"].as_i64().unwrap();
            // Saturday Club is social care only and costs £45.00: £20.00 of social care cannot pay.
            let page = b.get(&format!("/services/{id}")).await;
            assert!(!page.html.contains("name=\"allocation\""), "{}", page.html);
            assert!(!page.html.contains(">Book<"), "{}", page.html);
            assert!(page.html.contains("None of your budget can pay for this service"), "{}", page.html);
            assert!(page.html.contains("Health (organised by the council): Saturday Club cannot be paid for from the health allocation"), "{}", page.html);
            assert!(page.html.contains("only £20.00 is left on the social care allocation"), "{}", page.html);
            assert!(!page.html.contains("direct_payment") && !page.html.contains("social_care"), "{}", page.html);
            // A service health pays for offers the health allocation only.
            let mut health = saturday_club();
            health["name"] = "Hydrotherapy".into();
            health["funding_streams"] = serde_json::json!(["health", "education"]);
            let made = app.service(&w.provider, &health).await;
            let page = b.get(&format!("/services/{}", made["id"])).await;
            assert!(page.html.contains("Sam – Health (organised by the council) (£800.00 left)"), "{}", page.html);
            assert!(page.html.contains("Sam – Education (third party) (£300.00 left)"), "{}", page.html);
            assert!(!page.html.contains("Social care (direct payment) (£20.00 left)"), "{}", page.html);
            assert!(page.html.contains(">Book<"));
        }

        #[tokio::test]
        async fn an_error_page_shows_the_header_of_whoever_is_logged_in() {
            let app = spawn().await;
            world(&app, "1000.00").await;
            let mut provider = Browser::new(&app);
            provider.log_in("staff@wandle.example", PASSWORD).await;
            let missing = provider.get("/services/999999").await;
            assert_eq!(missing.status, StatusCode::NOT_FOUND);
            assert!(missing.html.contains("Page not found") && missing.html.contains("href=\"/provider/services\"") && missing.html.contains("Log out"), "{}", missing.html);
            let forbidden = provider.get("/my-plan").await;
            assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
            assert!(forbidden.html.contains("Not available to you") && forbidden.html.contains("href=\"/provider/bookings\""), "{}", forbidden.html);
            // Logging out from the error page works: it carries the visitor's form token.
            let out = provider.post("/logout", &[("csrf_token", &forbidden.csrf())]).await;
            assert_eq!(out.location.as_deref(), Some("/"));
            let anonymous = Browser::new(&app).get("/services/999999").await;
            assert!(anonymous.html.contains("href=\"/login\"") && !anonymous.html.contains("Log out"));
        }
    }
}
