//! Direct payments: instalments paid in once, spending recorded with receipts and sampled by the
//! council's audit rule, the audit queue, the surplus test and recoveries, with `verify` clean
//! after every step.

#[macro_use]
mod common;

use common::browser::Browser;
use common::*;
use localoffer::app::AppError;
use localoffer::app::direct_payments::pay_in_due;
use localoffer::domain::spending::AuditRule;
use localoffer::domain::{CouncilId, Pence};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// A multipart body by hand: text fields, then the receipt (when given) under `filename`.
fn multipart(fields: &[(&str, &str)], receipt: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----localoffer-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    if let Some((filename, content_type, bytes)) = receipt {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"receipt\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn spend(
    app: &TestApp,
    token: &str,
    holder: i64,
    amount: &str,
    receipt: Option<(&str, &str, &[u8])>,
) -> reqwest::Response {
    let fields = [
        ("payee", "Wimbledon Swim Club"),
        ("spent_on", "2026-11-30"),
        ("amount", amount),
        ("description", "Swimming lessons"),
    ];
    let (content_type, body) = multipart(&fields, receipt);
    app.client
        .post(app.url(&format!("/budget-holders/{holder}/spending")))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("request sent")
}

fn set_audit(app: &TestApp, council: i64, over: &str, percent: i32) {
    let over: Pence = over.parse().unwrap();
    app.db()
        .write(move |conn| {
            let id = CouncilId(council);
            let mut settings = localoffer::db::councils::settings(conn, id)?;
            settings.audit = AuditRule { over, percent };
            localoffer::db::councils::set_settings(conn, id, settings)
        })
        .expect("audit rule set");
}

fn pay_in(app: &TestApp, today: &str) {
    let today: chrono::NaiveDate = today.parse().unwrap();
    app.db()
        .write_as(move |conn| pay_in_due(conn, today, None).map_err(|e: AppError| e))
        .expect("paid in");
}

fn verify_clean(app: &TestApp) {
    let out = app.cli(&["verify"]);
    assert!(
        out.status.success(),
        "verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn surplus(app: &TestApp, token: &str, holder: i64) -> Value {
    let body = expect(
        app.get(&format!("/budget-holders/{holder}/surplus-test"), Some(token))
            .await,
        StatusCode::OK,
    )
    .await;
    body["accounts"][0].clone()
}

/// How many four-weekly instalments from 1 September 2026 are due by England's date today.
fn due_so_far() -> usize {
    let start: chrono::NaiveDate = "2026-09-01".parse().unwrap();
    let today = localoffer::app::direct_payments::london_today();
    (0..14)
        .filter(|k| start + chrono::Duration::days(28 * k) <= today)
        .count()
}

fn ids(w: &World) -> (i64, i64, i64) {
    (
        w.holder["id"].as_i64().unwrap(),
        w.holder["council_id"].as_i64().unwrap(),
        w.holder["allocations"][0]["id"].as_i64().unwrap(),
    )
}

both_backends! {
    #[tokio::test]
    async fn instalments_are_paid_in_once_and_add_up_to_the_allocation() {
        let app = spawn().await;
        // 1,400.00 over 14 four-weekly instalments from 1 September: four are due by December.
        let w = world(&app, "1400.00").await;
        let (holder, _, _) = ids(&w);
        let account = surplus(&app, &w.family, holder).await;
        assert_eq!(account["instalments"], 14, "{account}");
        assert_eq!(account["payment_schedule"], "four_weekly");
        let paid = account["payments_in"].as_array().unwrap();
        assert_eq!(paid.len(), due_so_far(), "{account}");
        assert_eq!(paid[0]["due_on"], "2026-09-01");
        assert!(paid.iter().all(|p| p["amount"] == "100.00"), "{account}");
        verify_clean(&app);

        // The daily job run again, twice (as two servers would): nothing is paid twice.
        pay_in(&app, "2026-12-02");
        pay_in(&app, "2026-12-02");
        assert_eq!(surplus(&app, &w.family, holder).await["payments_in"].as_array().unwrap().len(), due_so_far());

        // At the plan's end every instalment is in, adding up to the allocation exactly.
        pay_in(&app, "2027-08-31");
        pay_in(&app, "2027-08-31");
        let account = surplus(&app, &w.family, holder).await;
        let paid = account["payments_in"].as_array().unwrap();
        assert_eq!(paid.len(), 14);
        let total: i64 = paid.iter().map(|p| p["amount"].as_str().unwrap().parse::<Pence>().unwrap().pence()).sum();
        assert_eq!(total, 140_000);
        let statement = expect(app.get(&format!("/budget-holders/{holder}/statement?per_page=200"), Some(&w.family)).await, StatusCode::OK).await;
        assert!(statement.to_string().contains("Direct payment 14 of 14 paid in"), "{statement}");
        verify_clean(&app);
    }

    #[tokio::test]
    async fn a_monthly_schedule_is_chosen_at_creation() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let mut plan = sam("EHC-0002", "parent2@family.example", "1200.00");
        plan["allocations"][0]["payment_schedule"] = json!("monthly");
        let holder = app.holder(&council, &plan).await;
        assert_eq!(holder["allocations"][0]["payment_schedule"], "monthly");
        let account = surplus(&app, &council, holder["id"].as_i64().unwrap()).await;
        assert_eq!(account["instalments"], 12);
        // Monthly instalments of 100.00 from 1 September: at least four by December.
        let n = account["payments_in"].as_array().unwrap().len();
        assert!(n >= 4, "{account}");
        assert_eq!(account["paid_in"], format!("{n}00.00"));
    }

    #[tokio::test]
    async fn spending_is_accepted_or_sampled_by_the_councils_rule() {
        let app = spawn().await;
        let w = world(&app, "1400.00").await;
        let (holder, council, _) = ids(&w);
        set_audit(&app, council, "50.00", 0);

        // Under the threshold and outside the share: spent at once.
        let small = expect(spend(&app, &w.family, holder, "20.00", Some(("r.pdf", "application/pdf", PDF))).await, StatusCode::CREATED).await;
        assert_eq!(small["status"], "accepted", "{small}");
        // Over the threshold: held for the council's review.
        let large = expect(spend(&app, &w.family, holder, "60.00", Some(("r.pdf", "application/pdf", PDF))).await, StatusCode::CREATED).await;
        assert_eq!(large["status"], "in_review", "{large}");
        // Five pounds or less needs no receipt.
        let tiny = expect(spend(&app, &w.family, holder, "4.50", None).await, StatusCode::CREATED).await;
        assert!(tiny["receipt_url"].is_null());
        let plan = expect(app.get(&format!("/budget-holders/{holder}"), Some(&w.family)).await, StatusCode::OK).await;
        let a = &plan["allocations"][0];
        assert_eq!(a["spent"], "24.50", "{a}");
        assert_eq!(a["committed"], "60.00", "{a}");
        assert_eq!(a["remaining"], "1315.50", "{a}");
        verify_clean(&app);

        // Over what is left: 409 naming the amount, nothing stored.
        expect_error(spend(&app, &w.family, holder, "1400.00", Some(("r.pdf", "application/pdf", PDF))).await, StatusCode::CONFLICT, "insufficient_funds", Some("amount")).await;
        // Over 5.00 without a receipt.
        expect_error(spend(&app, &w.family, holder, "5.01", None).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("receipt")).await;
        let list = expect(app.get(&format!("/budget-holders/{holder}/spending"), Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(list["total"], 3, "{list}");
        assert_eq!(list["spending"][0]["amount"], "4.50");
        // Only the family records spending.
        expect(spend(&app, &w.council, holder, "4.00", None).await, StatusCode::FORBIDDEN).await;
        expect(spend(&app, &w.provider, holder, "4.00", None).await, StatusCode::FORBIDDEN).await;
        verify_clean(&app);
    }

    #[tokio::test]
    async fn receipts_are_typed_by_content_capped_and_served_only_to_family_and_council() {
        let app = spawn().await;
        let w = world(&app, "1400.00").await;
        let (holder, council, _) = ids(&w);
        set_audit(&app, council, "1000.00", 0);

        // An HTML page named receipt.pdf and declared as a PDF is refused by its content.
        let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
        expect_error(spend(&app, &w.family, holder, "12.00", Some(("receipt.pdf", "application/pdf", html))).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("receipt")).await;
        // Over 5 MB is refused.
        let mut big = PDF.to_vec();
        big.resize(5 * 1024 * 1024 + 10, b' ');
        expect_error(spend(&app, &w.family, holder, "12.00", Some(("big.pdf", "application/pdf", &big))).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("receipt")).await;
        let list = expect(app.get(&format!("/budget-holders/{holder}/spending"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(list["total"], 0);

        let one = expect(spend(&app, &w.family, holder, "12.00", Some(("r.pdf", "text/plain", PDF))).await, StatusCode::CREATED).await;
        let two = expect(spend(&app, &w.family, holder, "13.00", Some(("again.pdf", "application/pdf", PDF))).await, StatusCode::CREATED).await;
        let url = one["receipt_url"].as_str().unwrap().trim_start_matches("/api/v1").to_string();
        // The same receipt twice is stored once, by its hash, under the data directory.
        let stored: Vec<_> = walk(&app.dir.path().join("receipts"));
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert_ne!(one["id"], two["id"]);

        let res = app.get(&url, Some(&w.family)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "application/pdf");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(h["content-security-policy"], "sandbox");
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

        // The council reads it, and the reading goes in the access record.
        assert_eq!(app.get(&url, Some(&w.council)).await.status(), StatusCode::OK);
        let log = expect(app.get(&format!("/budget-holders/{holder}/access-log"), Some(&w.council)).await, StatusCode::OK).await;
        assert!(log.to_string().contains("read receipt"), "{log}");
        // Nobody else.
        assert_eq!(app.get(&url, Some(&w.provider)).await.status(), StatusCode::FORBIDDEN);
        app.holder(&w.council, &sam("EHC-0009", "other@family.example", "100.00")).await;
        let other = app.login("other@family.example", PASSWORD).await;
        assert_eq!(app.get(&url, Some(&other)).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.get(&format!("/budget-holders/{holder}/spending"), Some(&other)).await.status(), StatusCode::FORBIDDEN);
        verify_clean(&app);
    }

    #[tokio::test]
    async fn the_council_accepts_or_queries_and_the_family_answers() {
        let app = spawn().await;
        let w = world(&app, "1400.00").await;
        let (holder, council, _) = ids(&w);
        set_audit(&app, council, "0.00", 100);
        let item = expect(spend(&app, &w.family, holder, "30.00", Some(("r.pdf", "application/pdf", PDF))).await, StatusCode::CREATED).await;
        assert_eq!(item["status"], "in_review");
        let id = item["id"].as_i64().unwrap();

        let queue = expect(app.get("/spending?status=in_review", Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(queue["total"], 1, "{queue}");
        expect(app.get("/spending", Some(&w.family)).await, StatusCode::FORBIDDEN).await;
        expect_error(app.post(&format!("/spending/{id}/query"), Some(&w.council), &json!({"question": " "})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("question")).await;
        let queried = expect(app.post(&format!("/spending/{id}/query"), Some(&w.council), &json!({"question": "Which weeks were the lessons?"})).await, StatusCode::OK).await;
        assert_eq!(queried["status"], "queried");
        assert_eq!(queried["query"], "Which weeks were the lessons?");
        let queue = expect(app.get("/spending?status=queried", Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(queue["total"], 1);
        // Only the family answers.
        expect(app.post(&format!("/spending/{id}/answer"), Some(&w.council), &json!({"answer": "x"})).await, StatusCode::FORBIDDEN).await;
        let answered = expect(app.post(&format!("/spending/{id}/answer"), Some(&w.family), &json!({"answer": "The four weeks of November"})).await, StatusCode::OK).await;
        assert_eq!(answered["status"], "in_review");
        verify_clean(&app);
        // The family cannot accept its own spending.
        expect(app.post(&format!("/spending/{id}/accept"), Some(&w.family), &json!({})).await, StatusCode::FORBIDDEN).await;
        let accepted = expect(app.post(&format!("/spending/{id}/accept"), Some(&w.council), &json!({})).await, StatusCode::OK).await;
        assert_eq!(accepted["status"], "accepted");
        expect_error(app.post(&format!("/spending/{id}/accept"), Some(&w.council), &json!({})).await, StatusCode::CONFLICT, "wrong_status", None).await;
        let plan = expect(app.get(&format!("/budget-holders/{holder}"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(plan["allocations"][0]["spent"], "30.00");
        assert_eq!(plan["allocations"][0]["committed"], "0.00");
        // Another council's officer does not reach it.
        let other = app.council("Sutton", "officer@sutton.example").await;
        assert!(app.post(&format!("/spending/{id}/accept"), Some(&other), &json!({})).await.status().is_client_error());
        verify_clean(&app);
    }

    #[tokio::test]
    async fn the_surplus_test_and_a_recovery_within_it() {
        let app = spawn().await;
        let w = world(&app, "1400.00").await;
        let (holder, council, allocation) = ids(&w);
        set_audit(&app, council, "1000.00", 0);
        expect(spend(&app, &w.family, holder, "50.00", Some(("r.pdf", "application/pdf", PDF))).await, StatusCode::CREATED).await;
        // 100.00 an instalment paid in, 50.00 spent. Six weeks of 1,400.00 over 365 days is 161.09.
        let paid = due_so_far() as i64 * 10_000;
        let pounds = |p: i64| Pence::from_stored(p).to_string();
        let account = surplus(&app, &w.council, holder).await;
        assert_eq!(account["paid_in"], pounds(paid), "{account}");
        assert_eq!(account["spent"], "50.00");
        assert_eq!(account["balance"], pounds(paid - 5_000));
        assert_eq!(account["allowed"], "161.09");
        let surplus_now = paid - 5_000 - 16_109;
        assert_eq!(account["surplus"], pounds(surplus_now));

        let recover = |amount: &str| json!({"allocation_id": allocation, "amount": amount, "reason": "Surplus over six weeks at the December review"});
        expect_error(app.post(&format!("/budget-holders/{holder}/recoveries"), Some(&w.council), &recover(&pounds(surplus_now + 1))).await, StatusCode::CONFLICT, "above_surplus", Some("amount")).await;
        expect(app.post(&format!("/budget-holders/{holder}/recoveries"), Some(&w.family), &recover("10.00")).await, StatusCode::FORBIDDEN).await;
        let after = expect(app.post(&format!("/budget-holders/{holder}/recoveries"), Some(&w.council), &recover("100.00")).await, StatusCode::CREATED).await;
        assert_eq!(after["recovered"], "100.00", "{after}");
        assert_eq!(after["paid_in"], pounds(paid - 10_000));
        let plan = expect(app.get(&format!("/budget-holders/{holder}"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(plan["allocations"][0]["amount"], "1300.00");
        verify_clean(&app);
        // Later instalments are as they would have been: the rest still adds up.
        pay_in(&app, "2027-08-31");
        let account = surplus(&app, &w.family, holder).await;
        assert_eq!(account["paid_in"], "1300.00", "{account}");
        verify_clean(&app);
    }

    #[tokio::test]
    async fn the_quarterly_return_shows_payments_in_spending_and_the_surplus_test() {
        let app = spawn().await;
        let w = world(&app, "1400.00").await;
        let (holder, council, _) = ids(&w);
        set_audit(&app, council, "1000.00", 0);
        expect(spend(&app, &w.family, holder, "50.00", Some(("r.pdf", "application/pdf", PDF))).await, StatusCode::CREATED).await;
        expect(spend(&app, &w.family, holder, "3.00", None).await, StatusCode::CREATED).await;
        let today = localoffer::app::direct_payments::london_today();
        let quarter = &format!("{}-Q{}", chrono::Datelike::year(&today), (chrono::Datelike::month(&today) - 1) / 3 + 1);
        let report = expect(app.get(&format!("/budget-holders/{holder}/quarterly-return?quarter={quarter}"), Some(&w.family)).await, StatusCode::OK).await;
        let dp = &report["allocations"][0]["direct_payment"];
        // The instalments due so far were paid in when the plan was made, this quarter.
        assert_eq!(dp["payments_in"].as_array().unwrap().len(), due_so_far(), "{report}");
        let spending = dp["spending"].as_array().unwrap();
        assert_eq!(spending.len(), 2);
        assert!(spending.iter().any(|s| s["amount"] == "50.00" && s["has_receipt"] == true && s["status"] == "accepted"), "{dp}");
        assert!(spending.iter().any(|s| s["amount"] == "3.00" && s["has_receipt"] == false));
        assert_eq!(dp["surplus_test"]["spent"], "53.00");
        assert_eq!(dp["surplus_test"]["paid_in"], format!("{}00.00", due_so_far()));
        // The existing fields are as they were.
        assert_eq!(report["allocations"][0]["quarter"], quarter.as_str());
        let csv = app.get(&format!("/budget-holders/{holder}/quarterly-return.csv?quarter={quarter}"), Some(&w.council)).await;
        assert_eq!(csv.status(), StatusCode::OK);
        let csv = csv.text().await.unwrap();
        assert!(csv.contains("payment_in") && csv.contains("dp_spending") && csv.contains("Wimbledon Swim Club"), "{csv}");
        verify_clean(&app);
    }

    #[tokio::test]
    async fn the_family_records_spending_on_its_page_and_the_council_audits_on_its_own() {
        let app = spawn().await;
        let w = world(&app, "1400.00").await;
        let (holder, council, _) = ids(&w);
        set_audit(&app, council, "0.00", 100);
        let mut family = Browser::new(&app);
        family.log_in("parent@family.example", PASSWORD).await;
        let page = family.get("/my-plan/direct-payment").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("Direct payment") && page.html.contains("Six weeks"), "{}", page.html);
        assert!(page.html.contains("enctype=\"multipart/form-data\""));
        let csrf = page.csrf();
        let post = |fields: Vec<(&'static str, String)>, receipt: Option<(&'static str, &'static str, Vec<u8>)>| {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>().into_iter().collect();
            let (ct, body) = multipart(&fields, receipt.as_ref().map(|(n, t, b)| (*n, *t, b.as_slice())));
            family
                .client
                .post(format!("{}/my-plan/direct-payment/{holder}/spending", family.base))
                .header("Cookie", family.cookie_header())
                .header("Content-Type", ct)
                .body(body)
        };
        let fields = |token: &str, amount: &str| vec![
            ("csrf_token", token.to_string()), ("payee", "Wimbledon Swim Club".to_string()),
            ("spent_on", "2026-11-30".to_string()), ("amount", amount.to_string()), ("description", "Swimming lessons".to_string()),
        ];
        // Without the form's token: refused, nothing stored.
        let res = post(fields("0".repeat(64).as_str(), "3.00"), None).send().await.unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
        // A receipt that is a web page: the form again naming the receipt.
        let res = post(fields(&csrf, "12.00"), Some(("receipt.pdf", "application/pdf", b"<html><script>1</script></html>".to_vec()))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("receipt-error") && html.contains("Wimbledon Swim Club"), "{html}");
        let res = post(fields(&csrf, "12.00"), Some(("r.pdf", "application/pdf", PDF.to_vec()))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = family.get("/my-plan/direct-payment").await;
        assert!(page.html.contains("Waiting for the council"), "{}", page.html);
        let list = expect(app.get(&format!("/budget-holders/{holder}/spending"), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(list["total"], 1);
        let id = list["spending"][0]["id"].as_i64().unwrap();
        let receipt = family.get(&format!("/direct-payment/receipts/{id}")).await;
        assert_eq!(receipt.headers["x-content-type-options"], "nosniff");

        let mut officer = Browser::new(&app);
        officer.log_in("officer@merton.example", PASSWORD).await;
        let audit = officer.get("/council/audit").await;
        assert!(audit.html.contains("Wimbledon Swim Club") && audit.html.contains("href=\"/council/audit\""), "{}", audit.html);
        let csrf = audit.csrf();
        let empty = officer.post(&format!("/council/audit/{id}/query"), &[("csrf_token", &csrf), (&format!("question_{id}"), "")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        let asked = officer.post(&format!("/council/audit/{id}/query"), &[("csrf_token", &csrf), (&format!("question_{id}"), "Which weeks?")]).await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER);
        let page = family.get("/my-plan/direct-payment").await;
        assert!(page.html.contains("Which weeks?"), "{}", page.html);
        let answered = family.post(&format!("/my-plan/direct-payment/spending/{id}/answer"), &[("csrf_token", &page.csrf()), (&format!("answer_{id}"), "November")]).await;
        assert_eq!(answered.status, StatusCode::SEE_OTHER);
        let accepted = officer.post(&format!("/council/audit/{id}/accept"), &[("csrf_token", &csrf)]).await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER);
        let plan_page = officer.get(&format!("/council/budget-holders/{holder}/direct-payment")).await;
        assert!(plan_page.html.contains("Reclaim a surplus") && plan_page.html.contains("Accepted"), "{}", plan_page.html);
        let holder_page = officer.get(&format!("/council/budget-holders/{holder}")).await;
        assert!(holder_page.html.contains("paid in every four weeks"), "{}", holder_page.html);
        verify_clean(&app);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn several_servers_paying_in_at_once_pay_each_instalment_once() {
        let app = spawn().await;
        let w = world(&app, "1400.00").await;
        let (holder, _, _) = ids(&w);
        // Each thread opens the database apart, as another server would, and all pay in at once.
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let db = app.db();
                std::thread::spawn(move || {
                    let today: chrono::NaiveDate = "2027-08-31".parse().unwrap();
                    db.write_as(move |conn| pay_in_due(conn, today, None).map_err(|e: AppError| e))
                })
            })
            .collect();
        for run in runs {
            run.join().unwrap().expect("paid in");
        }
        let account = surplus(&app, &w.family, holder).await;
        let paid = account["payments_in"].as_array().unwrap();
        assert_eq!(paid.len(), 14, "{account}");
        assert_eq!(account["paid_in"], "1400.00");
        verify_clean(&app);
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
