//! Invoices from delivered sessions: drafted, issued with gap-free numbers, approved, disputed,
//! paid and credited by the right people, never twice for one session, with `verify` clean.

#[macro_use]
mod common;

use chrono::Duration;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn today() -> String {
    localoffer::app::direct_payments::london_today().to_string()
}

fn backend_is_sqlite() -> bool {
    BACKEND.try_with(|b| *b == Backend::Sqlite).unwrap_or(true)
}

fn sql(app: &TestApp, statement: String) {
    app.db()
        .write(move |conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(statement).execute(conn)?;
            Ok(())
        })
        .unwrap();
}

/// Move a session into the past (it started `hours_ago` hours ago), as time would.
fn run_session(app: &TestApp, id: &Value, hours_ago: i64) {
    let id = id.as_i64().unwrap();
    let statement = if backend_is_sqlite() {
        format!(
            "UPDATE dated_sessions SET starts_at = datetime('now', '-{hours_ago} hours'), ends_at = datetime('now', '-{} hours') WHERE id = {id}",
            hours_ago - 1
        )
    } else {
        format!(
            "UPDATE dated_sessions SET starts_at = (now() at time zone 'utc') - INTERVAL '{hours_ago} hours', ends_at = (now() at time zone 'utc') - INTERVAL '{} hours' WHERE id = {id}",
            hours_ago - 1
        )
    };
    sql(app, statement);
}

fn verify(app: &TestApp) -> (bool, String) {
    let out = app.cli(&["verify"]);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn verify_clean(app: &TestApp) {
    let (ok, report) = verify(app);
    assert!(ok, "verify: {report}");
}

/// A plan whose social care the council pays providers for (organised), or held as `management`.
fn plan(reference: &str, email: &str, management: &str) -> Value {
    let mut body = sam(reference, email, "500.00");
    body["allocations"][0]["management"] = json!(management);
    body
}

struct Delivered {
    booking: Value,
    sessions: Vec<Value>,
}

/// Book `n` sessions of the service for the plan, run them, and mark each with `marks[i]`.
async fn deliver(app: &TestApp, w: &World, token: &str, holder: &Value, service: &Value, marks: &[&str]) -> Delivered {
    let mut sessions = Vec::new();
    for i in 0..marks.len() {
        let body =
            json!({"starts_at": day_at(3 + i as i64, "10:00"), "ends_at": day_at(3 + i as i64, "15:00"), "places": 6});
        let made = expect(
            app.post(
                &format!("/services/{}/sessions", service["id"]),
                Some(&w.provider),
                &body,
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        sessions.push(made["sessions"][0].clone());
    }
    let body = json!({
        "budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"],
        "price_option_id": option_id(service, 0),
        "session_ids": sessions.iter().map(|s| s["id"].clone()).collect::<Vec<_>>(),
    });
    let booking = expect(app.post("/bookings", Some(token), &body).await, StatusCode::CREATED).await;
    for (i, (s, mark)) in sessions.iter().zip(marks).enumerate() {
        // Within the last day: on England's calendar today or yesterday, this period or the last.
        run_session(app, &s["id"], 2 + i as i64);
        let marks = json!({"attendance": [{"booking_id": booking["id"], "status": mark}]});
        expect(
            app.post(&format!("/sessions/{}/register", s["id"]), Some(&w.provider), &marks)
                .await,
            StatusCode::OK,
        )
        .await;
    }
    Delivered { booking, sessions }
}

async fn draft(app: &TestApp, w: &World, holder: &Value) -> Value {
    expect(
        app.post(
            "/invoices",
            Some(&w.provider),
            &json!({"budget_holder_id": holder["id"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn act(app: &TestApp, token: &str, invoice: &Value, verb: &str, body: &Value) -> reqwest::Response {
    app.post(&format!("/invoices/{}/{verb}", invoice["id"]), Some(token), body)
        .await
}

/// A world whose family's plan is organised: the council pays the provider's invoices.
async fn organised(app: &TestApp) -> (World, Value) {
    let w = world(app, "500.00").await;
    let holder = app
        .holder(&w.council, &plan("EHC-ORG1", "org@family.example", "organised"))
        .await;
    (w, holder)
}

both_backends! {
    #[tokio::test]
    async fn a_provider_invoices_delivered_sessions_and_the_council_approves_and_pays() {
        let app = spawn().await;
        let (w, holder) = organised(&app).await;
        let family = app.login("org@family.example", PASSWORD).await;
        deliver(&app, &w, &family, &holder, &w.service, &["attended", "attended", "absent"]).await;
        assert_eq!(remaining(&app, &family, &holder).await, "365.00");
        let drafted = draft(&app, &w, &holder).await;
        assert_eq!(drafted["status"], "draft");
        assert_eq!(drafted["number"], Value::Null);
        assert_eq!(drafted["payer"], "council");
        assert_eq!(drafted["total"], "135.00");
        assert_eq!(drafted["lines"].as_array().unwrap().len(), 3);
        assert_eq!(drafted["child_reference"], "EHC-ORG1");
        let absent = drafted["lines"].as_array().unwrap().iter().filter(|l| l["description"].as_str().unwrap().contains("(absent, charged)")).count();
        assert_eq!(absent, 1, "{drafted}");
        // Nothing is drafted twice, and the payer does not see a draft.
        expect_error(app.post("/invoices", Some(&w.provider), &json!({"budget_holder_id": holder["id"]})).await, StatusCode::CONFLICT, "nothing_to_invoice", Some("budget_holder_id")).await;
        let path = format!("/invoices/{}", drafted["id"]);
        expect_error(app.get(&path, Some(&w.council)).await, StatusCode::NOT_FOUND, "not_found", None).await;
        // Another provider cannot invoice this plan or see the draft.
        let (_, stranger) = app.provider("Other Club", "staff@other.example").await;
        expect_error(app.post("/invoices", Some(&stranger), &json!({"budget_holder_id": holder["id"]})).await, StatusCode::NOT_FOUND, "not_found", Some("budget_holder_id")).await;
        expect_error(app.get(&path, Some(&stranger)).await, StatusCode::NOT_FOUND, "not_found", None).await;
        let issued = expect(act(&app, &w.provider, &drafted, "issue", &json!({})).await, StatusCode::OK).await;
        assert_eq!(issued["number"], "INV-000001");
        assert_eq!(issued["issued_on"], today());
        let due = (localoffer::app::direct_payments::london_today() + Duration::days(30)).to_string();
        assert_eq!(issued["due_on"], due);
        assert_eq!(issued["vat"], "0.00");
        expect_error(act(&app, &w.provider, &drafted, "issue", &json!({})).await, StatusCode::CONFLICT, "wrong_status", None).await;
        // The council sees it in its list; the family sees it on its plan; only the council answers.
        let list = expect(app.get("/invoices?status=issued", Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["invoices"][0]["number"], "INV-000001");
        expect(app.get(&path, Some(&family)).await, StatusCode::OK).await;
        expect_error(act(&app, &family, &drafted, "approve", &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        expect_error(act(&app, &w.provider, &drafted, "approve", &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        let approved = expect(act(&app, &w.council, &drafted, "approve", &json!({})).await, StatusCode::OK).await;
        assert_eq!(approved["status"], "approved");
        assert_eq!(remaining(&app, &family, &holder).await, "365.00", "approval spends what was committed");
        expect_error(act(&app, &w.council, &drafted, "approve", &json!({})).await, StatusCode::CONFLICT, "wrong_status", None).await;
        verify_clean(&app);
        // The PDF and the CSV.
        let pdf = app.client.get(app.url(&format!("{path}.pdf"))).bearer_auth(&w.council).send().await.unwrap();
        assert_eq!(pdf.status(), StatusCode::OK);
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        let bytes = pdf.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "a PDF");
        assert!(bytes.windows(10).any(|w| w == b"INV-000001"), "the number is printed");
        let csv = app.client.get(app.url(&format!("{path}.csv"))).bearer_auth(&w.provider).send().await.unwrap();
        assert_eq!(csv.status(), StatusCode::OK);
        let text = csv.text().await.unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 4, "{text}");
        assert!(rows[0].starts_with("invoice_number,invoice_status,line_id,delivered_on"));
        assert!(rows[1].contains("INV-000001") && rows[1].contains("EHC-ORG1") && rows[1].contains("45.00"), "{text}");
        // Paid, once, on a date that has come.
        let tomorrow = (localoffer::app::direct_payments::london_today() + Duration::days(1)).to_string();
        expect_error(act(&app, &w.council, &drafted, "paid", &json!({"paid_on": tomorrow})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("paid_on")).await;
        let paid = expect(act(&app, &w.council, &drafted, "paid", &json!({"paid_on": today(), "reference": "BACS 4471"})).await, StatusCode::OK).await;
        assert_eq!(paid["status"], "paid");
        assert_eq!(paid["paid_reference"], "BACS 4471");
        expect_error(act(&app, &w.council, &drafted, "paid", &json!({"paid_on": today()})).await, StatusCode::CONFLICT, "wrong_status", None).await;
        verify_clean(&app);
    }

    #[tokio::test]
    async fn a_corrected_mark_leaves_a_draft_and_an_invoiced_session_is_locked() {
        let app = spawn().await;
        let (w, holder) = organised(&app).await;
        let family = app.login("org@family.example", PASSWORD).await;
        let mut club = saturday_club();
        club["absence"] = json!("refunded");
        let club = app.service(&w.provider, &club).await;
        let d = deliver(&app, &w, &family, &holder, &club, &["attended"]).await;
        let drafted = draft(&app, &w, &holder).await;
        assert_eq!(drafted["total"], "45.00");
        let register = format!("/sessions/{}/register", d.sessions[0]["id"]);
        let mark = |status: &str| json!({"attendance": [{"booking_id": d.booking["id"], "status": status}]});
        // The child did not come after all: refunded, and off the draft.
        expect(app.post(&register, Some(&w.provider), &mark("absent")).await, StatusCode::OK).await;
        let path = format!("/invoices/{}", drafted["id"]);
        let now = expect(app.get(&path, Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(now["lines"].as_array().unwrap().len(), 0);
        assert_eq!(now["total"], "0.00");
        expect_error(act(&app, &w.provider, &drafted, "issue", &json!({})).await, StatusCode::CONFLICT, "nothing_to_invoice", None).await;
        verify_clean(&app);
        // Attended after all: on the same period's draft again, issued, then locked.
        expect(app.post(&register, Some(&w.provider), &mark("attended")).await, StatusCode::OK).await;
        let again = draft(&app, &w, &holder).await;
        assert_eq!(again["id"], drafted["id"], "the open draft for the period takes it");
        expect(act(&app, &w.provider, &again, "issue", &json!({})).await, StatusCode::OK).await;
        expect_error(app.post(&register, Some(&w.provider), &mark("absent")).await, StatusCode::CONFLICT, "invoiced", None).await;
        assert_eq!(remaining(&app, &family, &holder).await, "455.00");
        verify_clean(&app);
    }

    #[tokio::test]
    async fn credit_notes_give_money_back_from_committed_or_spent() {
        let app = spawn().await;
        let (w, holder) = organised(&app).await;
        let family = app.login("org@family.example", PASSWORD).await;
        deliver(&app, &w, &family, &holder, &w.service, &["attended", "attended"]).await;
        let invoice = draft(&app, &w, &holder).await;
        expect(act(&app, &w.provider, &invoice, "issue", &json!({})).await, StatusCode::OK).await;
        let line = |i: usize| invoice["lines"][i]["id"].clone();
        // Before approval the money comes back from committed.
        let body = json!({"lines": [{"line_id": line(0), "amount": "20.00"}], "reason": "Session ended an hour early"});
        let credited = expect(act(&app, &w.provider, &invoice, "credit-notes", &body).await, StatusCode::CREATED).await;
        assert_eq!(credited["credited"], "20.00");
        assert_eq!(credited["owed"], "70.00");
        assert_eq!(credited["credit_notes"][0]["number"], "CN-000001");
        assert_eq!(remaining(&app, &family, &holder).await, "430.00");
        let too_much = json!({"lines": [{"line_id": line(0), "amount": "25.01"}], "reason": "again"});
        expect_error(act(&app, &w.provider, &invoice, "credit-notes", &too_much).await, StatusCode::CONFLICT, "credit_exceeds_line", Some("lines[0].amount")).await;
        let stranger = json!({"lines": [{"line_id": 999999}], "reason": "no"});
        expect_error(act(&app, &w.provider, &invoice, "credit-notes", &stranger).await, StatusCode::NOT_FOUND, "not_found", Some("lines[0].line_id")).await;
        let no_reason = json!({"lines": [{"line_id": line(1)}], "reason": " "});
        expect_error(act(&app, &w.provider, &invoice, "credit-notes", &no_reason).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("reason")).await;
        expect_error(act(&app, &w.council, &invoice, "credit-notes", &body).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        verify_clean(&app);
        // After approval it comes back from spent; the rest of the first line, then the second whole.
        expect(act(&app, &w.council, &invoice, "approve", &json!({})).await, StatusCode::OK).await;
        let rest = json!({"lines": [{"line_id": line(1)}, {"line_id": line(0)}], "reason": "Cancelled by us"});
        let after = expect(act(&app, &w.provider, &invoice, "credit-notes", &rest).await, StatusCode::CREATED).await;
        assert_eq!(after["credit_notes"][1]["number"], "CN-000002");
        assert_eq!(after["credited"], "90.00");
        assert_eq!(after["status"], "credited", "credited in full");
        assert_eq!(remaining(&app, &family, &holder).await, "500.00");
        verify_clean(&app);
    }

    #[tokio::test]
    async fn a_family_with_a_direct_payment_answers_and_pays_its_invoices() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        deliver(&app, &w, &w.family, &w.holder, &w.service, &["attended"]).await;
        let invoice = draft(&app, &w, &w.holder).await;
        assert_eq!(invoice["payer"], "family");
        expect(act(&app, &w.provider, &invoice, "issue", &json!({})).await, StatusCode::OK).await;
        expect_error(act(&app, &w.council, &invoice, "approve", &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        expect_error(act(&app, &w.family, &invoice, "dispute", &json!({"reason": ""})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("reason")).await;
        let disputed = expect(act(&app, &w.family, &invoice, "dispute", &json!({"reason": "Sam was ill that day"})).await, StatusCode::OK).await;
        assert_eq!(disputed["status"], "disputed");
        assert_eq!(disputed["dispute_reason"], "Sam was ill that day");
        let seen = expect(app.get(&format!("/invoices/{}", invoice["id"]), Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(seen["dispute_reason"], "Sam was ill that day");
        expect(act(&app, &w.family, &invoice, "approve", &json!({})).await, StatusCode::OK).await;
        let paid = expect(act(&app, &w.family, &invoice, "paid", &json!({"paid_on": today()})).await, StatusCode::OK).await;
        assert_eq!(paid["status"], "paid");
        let mine = expect(app.get("/invoices", Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(mine["total"], 1);
        assert_eq!(mine["page"], 1);
        verify_clean(&app);
    }

    #[tokio::test]
    async fn concurrent_issuing_numbers_without_gaps_and_racing_approvals_count_once() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let mut drafts = Vec::new();
        for n in 0..6 {
            let email = format!("race{n}@family.example");
            let holder = app.holder(&w.council, &plan(&format!("EHC-R{n}"), &email, "organised")).await;
            let token = app.login(&email, PASSWORD).await;
            deliver(&app, &w, &token, &holder, &w.service, &["attended"]).await;
            drafts.push(draft(&app, &w, &holder).await);
        }
        let send = |token: &str, invoice: &Value, verb: &str| {
            let req = app.client.post(app.url(&format!("/invoices/{}/{verb}", invoice["id"]))).bearer_auth(token).json(&json!({}));
            tokio::spawn(async move { req.send().await.expect("sent") })
        };
        let issuing: Vec<_> = drafts.iter().map(|d| send(&w.provider, d, "issue")).collect();
        let mut numbers = Vec::new();
        for task in issuing {
            numbers.push(expect(task.await.unwrap(), StatusCode::OK).await["number"].as_str().unwrap().to_string());
        }
        numbers.sort();
        let wanted: Vec<String> = (1..=6).map(|n| format!("INV-{n:06}")).collect();
        assert_eq!(numbers, wanted, "unique and gap-free");
        let approving: Vec<_> = (0..8).map(|_| send(&w.council, &drafts[0], "approve")).collect();
        let mut statuses = Vec::new();
        for task in approving {
            statuses.push(task.await.unwrap().status());
        }
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{statuses:?}");
        verify_clean(&app);
    }

    #[tokio::test]
    async fn the_daily_job_drafts_each_ended_period_and_verify_catches_tampering() {
        let app = spawn().await;
        let (w, holder) = organised(&app).await;
        let family = app.login("org@family.example", PASSWORD).await;
        deliver(&app, &w, &family, &holder, &w.service, &["attended"]).await;
        let run = |day: chrono::NaiveDate| {
            app.db()
                .write_as(move |conn| localoffer::app::invoices::draft_due(conn, day))
                .unwrap()
        };
        let today = localoffer::app::direct_payments::london_today();
        // The calendar month it was delivered in has not ended: nothing yet. Forty days on, it has.
        assert_eq!(run(today - Duration::days(1)), 0);
        assert_eq!(run(today + Duration::days(40)), 1);
        let drafts = expect(app.get("/invoices?status=draft", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(drafts["total"], 1);
        let invoice = &drafts["invoices"][0];
        assert!(invoice["period_start"].as_str().unwrap().ends_with("-01"), "{invoice}");
        assert_eq!(run(today + Duration::days(41)), 0, "nothing is drafted twice");
        expect(act(&app, &w.provider, invoice, "issue", &json!({})).await, StatusCode::OK).await;
        verify_clean(&app);
        sql(&app, "UPDATE invoice_lines SET amount_pence = amount_pence + 100".into());
        let (ok, report) = verify(&app);
        assert!(!ok, "verify must fail: {report}");
        assert!(report.contains("invoice line"), "{report}");
    }

    #[tokio::test]
    async fn a_council_sets_four_weekly_invoice_periods_and_its_audit_rule() {
        let app = spawn().await;
        let (w, holder) = organised(&app).await;
        let bad = json!({"audit_sample_percent": 101});
        expect_error(app.put("/council/settings", Some(&w.council), &bad).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("audit_sample_percent")).await;
        let unknown = app.put("/council/settings", Some(&w.council), &json!({"invoice_period": "weekly"})).await;
        assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
        let set = json!({"invoice_period": "four_weekly", "period_anchor": "2026-04-06", "audit_over": "100.00", "audit_sample_percent": 25});
        let s = expect(app.put("/council/settings", Some(&w.council), &set).await, StatusCode::OK).await;
        assert_eq!((s["invoice_period"].as_str(), s["audit_over"].as_str(), s["audit_sample_percent"].as_i64()), (Some("four_weekly"), Some("100.00"), Some(25)));
        assert_eq!(s["unverified_bookable"], true, "a setting left out keeps its value");
        let family = app.login("org@family.example", PASSWORD).await;
        deliver(&app, &w, &family, &holder, &w.service, &["attended"]).await;
        let today = localoffer::app::direct_payments::london_today();
        let drafted = app
            .db()
            .write_as(move |conn| localoffer::app::invoices::draft_due(conn, today + Duration::days(30)))
            .unwrap();
        assert_eq!(drafted, 1);
        let drafts = expect(app.get("/invoices?status=draft", Some(&w.provider)).await, StatusCode::OK).await;
        let start: chrono::NaiveDate = drafts["invoices"][0]["period_start"].as_str().unwrap().parse().unwrap();
        let end: chrono::NaiveDate = drafts["invoices"][0]["period_end"].as_str().unwrap().parse().unwrap();
        assert_eq!((end - start).num_days(), 27, "four weeks");
        let anchor: chrono::NaiveDate = "2026-04-06".parse().unwrap();
        assert_eq!((start - anchor).num_days() % 28, 0, "counted from the anchor");
    }
    #[tokio::test]
    async fn issuing_while_a_mark_is_corrected_never_charges_for_what_was_not_delivered() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let mut club = saturday_club();
        club["absence"] = json!("refunded");
        let club = app.service(&w.provider, &club).await;
        for round in 0..4 {
            let email = format!("race{round}@family.example");
            let holder = app.holder(&w.council, &plan(&format!("EHC-RACE{round}"), &email, "organised")).await;
            let family = app.login(&email, PASSWORD).await;
            let d = deliver(&app, &w, &family, &holder, &club, &["attended"]).await;
            let invoice = draft(&app, &w, &holder).await;
            let register = app.url(&format!("/sessions/{}/register", d.sessions[0]["id"]));
            let absent = json!({"attendance": [{"booking_id": d.booking["id"], "status": "absent"}]});
            let correct = app.client.post(register).bearer_auth(&w.provider).json(&absent);
            let issue = app.client.post(app.url(&format!("/invoices/{}/issue", invoice["id"]))).bearer_auth(&w.provider).json(&json!({}));
            let (corrected, issued) = tokio::join!(
                tokio::spawn(async move { correct.send().await.expect("sent").status() }),
                tokio::spawn(async move { issue.send().await.expect("sent").status() }),
            );
            let (corrected, issued) = (corrected.unwrap(), issued.unwrap());
            // One of them goes first: the invoice is issued and the mark refused, or the mark
            // is corrected and the draft has nothing left to issue.
            assert!(
                (issued == StatusCode::OK && corrected == StatusCode::CONFLICT)
                    || (corrected == StatusCode::OK && issued == StatusCode::CONFLICT),
                "round {round}: issue {issued}, correction {corrected}"
            );
            verify_clean(&app);
        }
    }
}
