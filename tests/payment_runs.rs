//! Paying providers: their invoicing settings, bank details sealed at rest and shown masked, and
//! the council's payment runs of approved invoices (made once per invoice under any race,
//! exported as CSV for finance, marked paid).

#[macro_use]
mod common;

use chrono::{Duration, NaiveDate, Utc};
use common::*;
use diesel::prelude::*;
use localoffer::db::schema::{bank_details, invoices, payment_runs};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// England's date today, `days` on.
fn london_day(days: i64) -> NaiveDate {
    (Utc::now() + Duration::days(days))
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
}

async fn me(app: &TestApp, token: &str) -> Value {
    expect(app.get("/me", Some(token)).await, StatusCode::OK).await
}

fn bank(name: &str, account: &str) -> Value {
    json!({"account_name": name, "sort_code": "12-34-56", "account_number": account})
}

/// An invoice as the invoice use cases leave it, written straight to the database: issued with
/// its number and due date, then in `status` (`approved` to be paid by a run).
struct Invoice {
    organisation: i64,
    holder: i64,
    council: i64,
    payer: &'static str,
    status: &'static str,
    number: i64,
    total: i64,
    credited: i64,
    due_on: NaiveDate,
}

fn insert_invoice(app: &TestApp, i: Invoice) -> i64 {
    app.db()
        .write(move |conn| {
            let at = Utc::now().naive_utc();
            let start = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
            Ok(diesel::insert_into(invoices::table)
                .values((
                    invoices::organisation_id.eq(i.organisation),
                    invoices::budget_holder_id.eq(i.holder),
                    invoices::council_id.eq(i.council),
                    invoices::payer.eq(i.payer),
                    invoices::period_start.eq(start),
                    invoices::period_end.eq(start + Duration::days(29)),
                    invoices::status.eq(i.status),
                    invoices::number.eq(i.number),
                    invoices::issued_on.eq(i.due_on - Duration::days(30)),
                    invoices::due_on.eq(i.due_on),
                    invoices::net_pence.eq(i.total),
                    invoices::total_pence.eq(i.total),
                    invoices::credited_pence.eq(i.credited),
                    invoices::created_at.eq(at),
                    invoices::updated_at.eq(at),
                ))
                .returning(invoices::id)
                .get_result::<i64>(conn)?)
        })
        .unwrap()
}

fn approved(organisation: i64, holder: i64, council: i64, number: i64, total: i64) -> Invoice {
    Invoice {
        organisation,
        holder,
        council,
        payer: "council",
        status: "approved",
        number,
        total,
        credited: 0,
        due_on: london_day(10),
    }
}

fn sealed_of(app: &TestApp, organisation: i64) -> (String, String) {
    app.db()
        .read(move |conn| {
            Ok(bank_details::table
                .find(organisation)
                .select((bank_details::sealed, bank_details::account_last_digits))
                .get_result::<(String, String)>(conn)?)
        })
        .unwrap()
}

fn set_sealed(app: &TestApp, organisation: i64, sealed: String) {
    app.db()
        .write(move |conn| {
            diesel::update(bank_details::table.find(organisation))
                .set(bank_details::sealed.eq(sealed))
                .execute(conn)?;
            Ok(())
        })
        .unwrap();
}

fn invoice_state(app: &TestApp, id: i64) -> (String, Option<NaiveDate>, Option<String>, Option<i64>) {
    app.db()
        .read(move |conn| {
            Ok(invoices::table
                .find(id)
                .select((
                    invoices::status,
                    invoices::paid_on,
                    invoices::paid_reference,
                    invoices::payment_run_id,
                ))
                .get_result(conn)?)
        })
        .unwrap()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["invoice_id"].as_i64().unwrap())
        .collect()
}

fn backend_is_sqlite() -> bool {
    BACKEND.try_with(|b| *b == Backend::Sqlite).unwrap_or(true)
}

/// Book sessions of the Saturday Club for the plan, run them (as time would) and mark them
/// attended on the register: delivered, ready to invoice.
async fn deliver(app: &TestApp, w: &World, family: &str, holder: &Value, sessions: i64) {
    let mut made = Vec::new();
    for i in 0..sessions {
        let day = london_day(3 + i);
        let body = json!({"starts_at": format!("{day}T10:00:00"), "ends_at": format!("{day}T15:00:00"), "places": 6});
        let res = app
            .post(
                &format!("/services/{}/sessions", w.service["id"]),
                Some(&w.provider),
                &body,
            )
            .await;
        made.push(expect(res, StatusCode::CREATED).await["sessions"][0].clone());
    }
    let body = json!({
        "budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"],
        "price_option_id": option_id(&w.service, 0),
        "session_ids": made.iter().map(|s| s["id"].clone()).collect::<Vec<_>>(),
    });
    let booking = expect(app.post("/bookings", Some(family), &body).await, StatusCode::CREATED).await;
    for (i, s) in made.iter().enumerate() {
        let (id, ago) = (s["id"].as_i64().unwrap(), 2 + i);
        let statement = if backend_is_sqlite() {
            format!(
                "UPDATE dated_sessions SET starts_at = datetime('now', '-{ago} hours'), ends_at = datetime('now', '-{} hours') WHERE id = {id}",
                ago - 1
            )
        } else {
            format!(
                "UPDATE dated_sessions SET starts_at = (now() at time zone 'utc') - INTERVAL '{ago} hours', ends_at = (now() at time zone 'utc') - INTERVAL '{} hours' WHERE id = {id}",
                ago - 1
            )
        };
        app.db()
            .write(move |conn| {
                diesel::sql_query(statement).execute(conn)?;
                Ok(())
            })
            .unwrap();
        let marks = json!({"attendance": [{"booking_id": booking["id"], "status": "attended"}]});
        expect(
            app.post(&format!("/sessions/{id}/register"), Some(&w.provider), &marks)
                .await,
            StatusCode::OK,
        )
        .await;
    }
}

both_backends! {
    #[tokio::test]
    async fn a_provider_sets_its_vat_and_payment_terms_with_each_problem_named() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let path = "/me/organisation/invoicing";
        let now = expect(app.get(path, Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(now["organisation_id"], w.organisation_id);
        assert_eq!(now["vat_number"], Value::Null);
        assert_eq!(now["vat_rate_bp"], 0);
        assert_eq!(now["payment_terms_days"], 30);
        assert_eq!(now["bank_details"], Value::Null);
        // A rate needs a VAT number; limits and types are checked, each by its field.
        for (body, status, code, field) in [
            (json!({"vat_rate_bp": 2000}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "vat_rate_bp"),
            (json!({"vat_number": "GB123456789", "vat_rate_bp": 2501}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "vat_rate_bp"),
            (json!({"payment_terms_days": 121}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "payment_terms_days"),
            (json!({"payment_terms_days": -1}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "payment_terms_days"),
            (json!({"vat_number": "FR123"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "vat_number"),
            (json!({"vat_rate_bp": "20"}), StatusCode::BAD_REQUEST, "invalid_field", "vat_rate_bp"),
            (json!({"payment_terms": 10}), StatusCode::BAD_REQUEST, "invalid_field", "payment_terms"),
        ] {
            expect_error(app.put(path, Some(&w.provider), &body).await, status, code, Some(field)).await;
        }
        let set = json!({"vat_number": "gb 123 4567 89", "vat_rate_bp": 2000, "payment_terms_days": 14});
        let changed = expect(app.put(path, Some(&w.provider), &set).await, StatusCode::OK).await;
        assert_eq!((changed["vat_number"].as_str(), changed["vat_rate_bp"].as_i64(), changed["payment_terms_days"].as_i64()), (Some("GB123456789"), Some(2000), Some(14)));
        // A field left out keeps its value; clearing the VAT number clears the rate.
        let terms = expect(app.put(path, Some(&w.provider), &json!({"payment_terms_days": 0})).await, StatusCode::OK).await;
        assert_eq!((terms["vat_rate_bp"].as_i64(), terms["payment_terms_days"].as_i64()), (Some(2000), Some(0)));
        let cleared = expect(app.put(path, Some(&w.provider), &json!({"vat_number": null})).await, StatusCode::OK).await;
        assert_eq!((cleared["vat_number"].clone(), cleared["vat_rate_bp"].as_i64()), (Value::Null, Some(0)));
        // Providers only.
        for token in [&w.council, &w.family] {
            expect_error(app.get(path, Some(token)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
            expect_error(app.put(path, Some(token), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        }
        expect_error(app.get(path, None).await, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    }

    #[tokio::test]
    async fn bank_details_are_sealed_at_rest_shown_masked_and_refuse_to_open_on_another_row() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let path = "/me/organisation/bank-details";
        expect_error(app.get(path, Some(&w.provider)).await, StatusCode::NOT_FOUND, "not_found", None).await;
        for (body, field) in [
            (json!({"account_name": "Wandle Club", "sort_code": "12-34-5", "account_number": "12345678"}), "sort_code"),
            (json!({"account_name": "Wandle Club", "sort_code": "123456", "account_number": "1234567"}), "account_number"),
            (json!({"account_name": "", "sort_code": "123456", "account_number": "12345678"}), "account_name"),
            (json!({"account_name": "Wandle Club", "sort_code": "123456", "account_number": "12345678", "payment_reference": "=1+2"}), "payment_reference"),
        ] {
            expect_error(app.put(path, Some(&w.provider), &body).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(field)).await;
        }
        expect_error(app.put(path, Some(&w.provider), &json!({"account_name": "x", "sort_code": 123456, "account_number": "12345678"})).await, StatusCode::BAD_REQUEST, "invalid_field", Some("sort_code")).await;
        let mut body = bank("Wandle Club", "12345678");
        body["payment_reference"] = json!("WANDLE CLUB");
        let shown = expect(app.put(path, Some(&w.provider), &body).await, StatusCode::OK).await;
        assert_eq!(shown["sort_code"], "**-**-56");
        assert_eq!(shown["account_number"], "****5678");
        assert_eq!(shown["account_name"], "Wandle Club");
        assert_eq!(shown["payment_reference"], "WANDLE CLUB");
        let again = expect(app.get(path, Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!((again["sort_code"].clone(), again["account_number"].clone()), (json!("**-**-56"), json!("****5678")));
        assert!(!again.to_string().contains("12345678") && !again.to_string().contains("123456\""), "{again}");
        let settings = expect(app.get("/me/organisation/invoicing", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!(settings["bank_details"]["account_number"], "****5678");
        // Councils and families never see them.
        expect_error(app.get(path, Some(&w.council)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        // At rest: sealed, only the last four digits plain.
        let (sealed, last) = sealed_of(&app, w.organisation_id);
        assert_eq!(last, "5678");
        assert!(sealed.starts_with("v1."), "{sealed}");
        assert!(!sealed.contains("12345678") && !sealed.contains("123456"), "{sealed}");
        if app.scratch.is_none() {
            // Nor anywhere in SQLite's files.
            for file in ["localoffer.db", "localoffer.db-wal"] {
                let bytes = std::fs::read(app.dir.path().join(file)).unwrap_or_default();
                assert!(!bytes.windows(8).any(|w| w == b"12345678"), "the account number is in {file}");
            }
        }
        // The data key: 32 bytes, for its owner only.
        let key = app.dir.path().join("data.key");
        assert_eq!(std::fs::read(&key).unwrap().len(), 32);
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // Replacing them seals afresh (a new nonce), and the same data opens.
        expect(app.put(path, Some(&w.provider), &body).await, StatusCode::OK).await;
        assert_ne!(sealed_of(&app, w.organisation_id).0, sealed);
        // Swapped between two organisations' rows, neither opens: the organisation is bound in.
        let (other_id, other) = app.provider("Mitcham Music", "staff@mitcham.example").await;
        expect(app.put(path, Some(&other), &bank("Mitcham Music", "87654321")).await, StatusCode::OK).await;
        let (mine, theirs) = (sealed_of(&app, w.organisation_id).0, sealed_of(&app, other_id).0);
        set_sealed(&app, w.organisation_id, theirs);
        set_sealed(&app, other_id, mine);
        for token in [&w.provider, &other] {
            let err = expect_error(app.get(path, Some(token)).await, StatusCode::CONFLICT, "bank_details_unreadable", None).await;
            assert!(err["error"]["message"].as_str().unwrap().contains("cannot be opened"), "{err}");
        }
        // A run leaves such a provider's invoices out, saying why.
        let council_id = me(&app, &w.council).await["council_id"].as_i64().unwrap();
        let holder = w.holder["id"].as_i64().unwrap();
        insert_invoice(&app, approved(w.organisation_id, holder, council_id, 1, 4500));
        let err = expect_error(app.post("/payment-runs", Some(&w.council), &json!({})).await, StatusCode::CONFLICT, "nothing_to_pay", Some("due_by")).await;
        assert!(err["error"]["message"].as_str().unwrap().contains("bank details"), "{err}");
        // Entered again, they open.
        expect(app.put(path, Some(&w.provider), &bank("Wandle Club", "12345678")).await, StatusCode::OK).await;
        let run = expect(app.post("/payment-runs", Some(&w.council), &json!({})).await, StatusCode::CREATED).await;
        assert_eq!(run["invoice_count"], 1);
    }

    #[tokio::test]
    async fn a_payment_run_takes_the_councils_approved_invoices_once_and_pays_them() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let council_id = me(&app, &w.council).await["council_id"].as_i64().unwrap();
        let holder = w.holder["id"].as_i64().unwrap();
        let mut details = bank("=HYPERLINK(\"http://evil.example\")", "00012345");
        details["payment_reference"] = json!("WANDLE 7");
        expect(app.put("/me/organisation/bank-details", Some(&w.provider), &details).await, StatusCode::OK).await;
        let (unbanked_id, unbanked) = app.provider("Mitcham Music", "staff@mitcham.example").await;
        let sutton = app.council("Sutton", "officer@sutton.example").await;
        let sutton_id = me(&app, &sutton).await["council_id"].as_i64().unwrap();
        let sutton_holder = app.holder(&sutton, &sam("EHC-S001", "parent@sutton.example", "500.00")).await["id"].as_i64().unwrap();
        // Two approved invoices to pay (one part-credited), one of a provider without bank
        // details, and others no run takes: issued only, the family's to pay, another council's.
        let first = insert_invoice(&app, approved(w.organisation_id, holder, council_id, 1, 10_000));
        let second = insert_invoice(&app, Invoice { credited: 1_000, due_on: london_day(40), ..approved(w.organisation_id, holder, council_id, 2, 5_000) });
        let left = insert_invoice(&app, approved(unbanked_id, holder, council_id, 1, 2_500));
        let issued = insert_invoice(&app, Invoice { status: "issued", ..approved(w.organisation_id, holder, council_id, 3, 700) });
        let family = insert_invoice(&app, Invoice { payer: "family", ..approved(w.organisation_id, holder, council_id, 4, 800) });
        let elsewhere = insert_invoice(&app, approved(w.organisation_id, sutton_holder, sutton_id, 5, 900));
        // Due by a day before any: nothing.
        let err = expect_error(app.post("/payment-runs", Some(&w.council), &json!({"due_by": london_day(1)})).await, StatusCode::CONFLICT, "nothing_to_pay", Some("due_by")).await;
        assert!(err["error"]["message"].as_str().unwrap().contains("due by"), "{err}");
        // Due by day 20: the first only.
        let early = expect(app.post("/payment-runs", Some(&w.council), &json!({"due_by": london_day(20)})).await, StatusCode::CREATED).await;
        assert_eq!(ids(&early["invoices"]), [first]);
        assert_eq!(early["status"], "open");
        assert_eq!(early["total"], "100.00");
        assert_eq!(early["invoices"][0]["number"], "INV-000001");
        assert_eq!(early["invoices"][0]["provider"], "Wandle Club");
        assert_eq!(early["invoices"][0]["amount"], "100.00");
        assert_eq!(ids(&early["left_out"]), [left]);
        assert_eq!(early["left_out"][0]["reason"], "no_bank_details");
        assert_eq!(early["left_out"][0]["provider"], "Mitcham Music");
        // No body at all: everything else approved.
        let res = app.client.post(app.url("/payment-runs")).bearer_auth(&w.council).send().await.unwrap();
        let run = expect(res, StatusCode::CREATED).await;
        assert_eq!(ids(&run["invoices"]), [second]);
        assert_eq!(run["invoices"][0]["amount"], "40.00", "the total less what credit notes took off");
        assert_eq!(run["invoices"][0]["due_on"], london_day(40).to_string());
        assert_eq!(run["invoice_count"], 1);
        let id = run["id"].as_i64().unwrap();
        // Nothing is left but the invoice that cannot be paid.
        let err = expect_error(app.post("/payment-runs", Some(&w.council), &json!({})).await, StatusCode::CONFLICT, "nothing_to_pay", None).await;
        assert!(err["error"]["message"].as_str().unwrap().contains("1 approved invoice waits for its provider's bank details"), "{err}");
        for other in [issued, family, elsewhere] {
            assert_eq!(invoice_state(&app, other).3, None, "invoice {other} is in no run");
        }
        // Listed, paged, newest first.
        let list = expect(app.get("/payment-runs?per_page=1", Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!((list["total"].as_u64(), list["page"].as_u64(), list["per_page"].as_u64()), (Some(2), Some(1), Some(1)));
        assert_eq!(list["payment_runs"][0]["id"], id);
        expect_error(app.get("/payment-runs?per_page=0", Some(&w.council)).await, StatusCode::BAD_REQUEST, "invalid_parameter", Some("per_page")).await;
        let got = expect(app.get(&format!("/payment-runs/{id}"), Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!(ids(&got["invoices"]), [second]);
        assert!(got.get("left_out").is_none(), "{got}");
        // The CSV has the numbers in full, formulas defused.
        let res = app.get(&format!("/payment-runs/{}.csv", early["id"]), Some(&w.council)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert_eq!(res.headers()["cache-control"], "no-store");
        let csv = res.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "payee,account_name,sort_code,account_number,payment_reference,invoice_number,amount,due_on");
        assert_eq!(lines.len(), 2, "{csv}");
        assert_eq!(lines[1], format!("Wandle Club,\"'=HYPERLINK(\"\"http://evil.example\"\")\",12-34-56,00012345,WANDLE 7,INV-000001,100.00,{}", london_day(10)));
        // Another council's officer finds nothing; providers and families cannot ask.
        for path in [format!("/payment-runs/{id}"), format!("/payment-runs/{id}.csv")] {
            expect_error(app.get(&path, Some(&sutton)).await, StatusCode::NOT_FOUND, "not_found", None).await;
        }
        expect_error(app.post(&format!("/payment-runs/{id}/paid"), Some(&sutton), &json!({"paid_on": london_day(0)})).await, StatusCode::NOT_FOUND, "not_found", None).await;
        assert_eq!(expect(app.get("/payment-runs", Some(&sutton)).await, StatusCode::OK).await["total"], 0);
        for token in [&w.provider, &w.family] {
            expect_error(app.get("/payment-runs", Some(token)).await, StatusCode::FORBIDDEN, "forbidden", None).await;
            expect_error(app.post("/payment-runs", Some(token), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        }
        // Paid: the run and its invoices, on the day given, with finance's reference.
        let paid_path = format!("/payment-runs/{id}/paid");
        expect_error(app.post(&paid_path, Some(&w.council), &json!({"paid_on": london_day(1)})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("paid_on")).await;
        expect_error(app.post(&paid_path, Some(&w.council), &json!({"paid_on": "soon"})).await, StatusCode::BAD_REQUEST, "invalid_field", Some("paid_on")).await;
        let paid = expect(app.post(&paid_path, Some(&w.council), &json!({"paid_on": london_day(0), "reference": "BACS 2291"})).await, StatusCode::OK).await;
        assert_eq!(paid["status"], "paid");
        assert_eq!(paid["paid_on"], london_day(0).to_string());
        assert_eq!(paid["invoices"][0]["status"], "paid");
        assert_eq!(invoice_state(&app, second), ("paid".to_string(), Some(london_day(0)), Some("BACS 2291".to_string()), Some(id)));
        assert_eq!(invoice_state(&app, first).0, "approved", "the other run is not paid yet");
        expect_error(app.post(&paid_path, Some(&w.council), &json!({"paid_on": london_day(0)})).await, StatusCode::CONFLICT, "already_paid", None).await;
        let early_paid = expect(app.post(&format!("/payment-runs/{}/paid", early["id"]), Some(&w.council), &json!({"paid_on": london_day(0)})).await, StatusCode::OK).await;
        assert_eq!(early_paid["status"], "paid");
        assert_eq!(invoice_state(&app, first).2.as_deref(), Some(format!("Payment run {}", early["id"]).as_str()));
        // Once the provider gives its bank details, its invoice goes in the next run.
        expect(app.put("/me/organisation/bank-details", Some(&unbanked), &bank("Mitcham Music", "87654321")).await, StatusCode::OK).await;
        let later = expect(app.post("/payment-runs", Some(&w.council), &json!({})).await, StatusCode::CREATED).await;
        assert_eq!(ids(&later["invoices"]), [left]);
        assert_eq!(later["left_out"], json!([]));
        // Each step is in the budget holder's access record.
        let log = expect(app.get(&format!("/budget-holders/{holder}/access-log?per_page=200"), Some(&w.council)).await, StatusCode::OK).await;
        let actions: Vec<&str> = log["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        for action in ["put invoice in payment run", "read payment run", "exported payment run", "paid invoice in payment run"] {
            assert!(actions.contains(&action), "{action} missing from {actions:?}");
        }
        let runs: i64 = app.db().read(|conn| Ok(payment_runs::table.count().get_result(conn)?)).unwrap();
        assert_eq!(runs, 3, "refused runs leave no row behind");
    }

    #[tokio::test]
    async fn runs_made_at_once_on_several_servers_never_share_an_invoice() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let council_id = me(&app, &w.council).await["council_id"].as_i64().unwrap();
        let holder = w.holder["id"].as_i64().unwrap();
        expect(app.put("/me/organisation/bank-details", Some(&w.provider), &bank("Wandle Club", "12345678")).await, StatusCode::OK).await;
        let made: Vec<i64> = (1..=30).map(|n| insert_invoice(&app, approved(w.organisation_id, holder, council_id, n, 1_000 + n))).collect();
        // On PostgreSQL a second server on the same database, with the same data key file.
        let second = match app.scratch.clone() {
            Some(scratch) => {
                let key = app.dir.path().join("data.key");
                Some(spawn_with(tempfile::tempdir().unwrap(), Some(scratch), |s| s.data_key_file = Some(key)).await)
            }
            None => None,
        };
        let servers: Vec<&TestApp> = std::iter::once(&app).chain(second.as_ref()).collect();
        let mut tasks = Vec::new();
        for n in 0..8 {
            let server = servers[n % servers.len()];
            let (client, url, token) = (server.client.clone(), server.url("/payment-runs"), w.council.clone());
            tasks.push(tokio::spawn(async move {
                client.post(url).bearer_auth(token).json(&json!({})).send().await.unwrap()
            }));
        }
        let mut claimed = Vec::new();
        let mut runs = 0;
        for t in tasks {
            let res = t.await.unwrap();
            match res.status() {
                StatusCode::CREATED => {
                    let run = res.json::<Value>().await.unwrap();
                    let listed = ids(&run["invoices"]);
                    assert_eq!(run["invoice_count"].as_u64(), Some(listed.len() as u64));
                    claimed.extend(listed);
                    runs += 1;
                }
                StatusCode::CONFLICT => {
                    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "nothing_to_pay");
                }
                other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
            }
        }
        claimed.sort();
        let mut expected = made.clone();
        expected.sort();
        assert_eq!(claimed, expected, "every invoice in exactly one run");
        let in_db: i64 = app.db().read(|conn| Ok(payment_runs::table.count().get_result(conn)?)).unwrap();
        assert_eq!(in_db, runs, "a run that got nothing was rolled back");
        for id in &made {
            assert!(invoice_state(&app, *id).3.is_some());
        }
    }

    #[tokio::test]
    async fn a_server_with_another_data_key_refuses_to_start() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        expect(app.put("/me/organisation/bank-details", Some(&w.provider), &bank("Wandle Club", "12345678")).await, StatusCode::OK).await;
        // Another data directory (its own new key) on the same database.
        let dir = tempfile::tempdir().unwrap();
        let mut settings = localoffer::Settings::local(dir.path());
        settings.database_url = Some(match app.database_url() {
            Some(url) => url,
            None => app.dir.path().join("localoffer.db").display().to_string(),
        });
        let refused = localoffer::Application::build(&settings).err().expect("refused to start");
        let message = refused.to_string();
        assert!(message.contains("another data key") && message.contains("--data-key-file"), "{message}");
        // A key file that is not a key is refused too.
        let bad = dir.path().join("bad.key");
        std::fs::write(&bad, b"not a key").unwrap();
        settings.data_key_file = Some(bad);
        let refused = localoffer::Application::build(&settings).err().expect("refused to start");
        assert!(refused.to_string().contains("32 bytes"), "{refused}");
    }

    #[tokio::test]
    async fn the_pages_set_bank_details_masked_and_make_and_pay_a_run() {
        use common::browser::Browser;
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let council_id = me(&app, &w.council).await["council_id"].as_i64().unwrap();
        let holder = w.holder["id"].as_i64().unwrap();
        let mut p = Browser::new(&app);
        p.log_in("staff@wandle.example", PASSWORD).await;
        let page = p.get("/provider/invoicing").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("href=\"/provider/invoicing\""), "the menu links the page");
        assert!(page.html.contains("<label class=\"label\" for=\"sort_code\">"), "{}", page.html);
        let csrf = page.csrf();
        let bad = p.post("/provider/invoicing/bank-details", &[("csrf_token", &csrf), ("account_name", "Wandle Club"), ("sort_code", "12"), ("account_number", "31926819")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.html.contains("href=\"#sort_code\"") && !bad.html.contains("31926819"), "{}", bad.html);
        let saved = p.post("/provider/invoicing/bank-details", &[("csrf_token", &csrf), ("account_name", "Wandle Club"), ("sort_code", "12-34-56"), ("account_number", "31926819")]).await;
        assert_eq!(saved.location.as_deref(), Some("/provider/invoicing"));
        let shown = p.get("/provider/invoicing").await;
        assert!(shown.html.contains("****6819") && shown.html.contains("**-**-56") && !shown.html.contains("31926819"), "{}", shown.html);
        let vat = p.post("/provider/invoicing", &[("csrf_token", &csrf), ("vat_number", ""), ("vat_rate", "20"), ("payment_terms_days", "14")]).await;
        assert_eq!(vat.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(vat.html.contains("href=\"#vat_rate\""), "{}", vat.html);
        let vat = p.post("/provider/invoicing", &[("csrf_token", &csrf), ("vat_number", "GB123456789"), ("vat_rate", "17.5"), ("payment_terms_days", "14")]).await;
        assert_eq!(vat.location.as_deref(), Some("/provider/invoicing"));
        let settings = expect(app.get("/me/organisation/invoicing", Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!((settings["vat_rate_bp"].as_i64(), settings["payment_terms_days"].as_i64()), (Some(1750), Some(14)));
        let forged = p.post("/provider/invoicing", &[("csrf_token", "0"), ("vat_number", ""), ("vat_rate", "0"), ("payment_terms_days", "1")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);

        let invoice = insert_invoice(&app, approved(w.organisation_id, holder, council_id, 1, 4_500));
        let mut c = Browser::new(&app);
        c.log_in("officer@merton.example", PASSWORD).await;
        let list = c.get("/council/payment-runs").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.html.contains("1 approved invoice is ready to pay, £45.00"), "{}", list.html);
        assert!(list.html.contains("href=\"/council/payment-runs\""), "the menu links the page");
        let csrf = list.csrf();
        let bad = c.post("/council/payment-runs", &[("csrf_token", &csrf), ("due_by", "soon")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let made = c.post("/council/payment-runs", &[("csrf_token", &csrf), ("due_by", "")]).await;
        let at = made.location.clone().expect("to the run's page");
        let run = c.get(&at).await;
        assert!(run.html.contains("INV-000001") && run.html.contains("£45.00") && run.html.contains(&format!("href=\"{at}.csv\"")), "{}", run.html);
        let csv = c.get(&format!("{at}.csv")).await;
        assert!(csv.html.contains("31926819"), "{}", csv.html);
        let nothing = c.post("/council/payment-runs", &[("csrf_token", &csrf), ("due_by", "")]).await;
        assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(nothing.html.contains("href=\"#due_by\""), "{}", nothing.html);
        let paid = c.post(&format!("{at}/paid"), &[("csrf_token", &csrf), ("paid_on", &london_day(0).to_string()), ("reference", "")]).await;
        assert_eq!(paid.location.as_deref(), Some(at.as_str()));
        assert_eq!(invoice_state(&app, invoice).0, "paid");
        let run = c.get(&at).await;
        assert!(run.html.contains("Paid") && !run.html.contains("Mark paid"), "{}", run.html);
    }

    #[tokio::test]
    async fn invoices_issued_and_approved_through_the_invoice_api_are_paid_by_a_run() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        // The provider's terms and bank details come first: the due date follows the terms.
        expect(app.put("/me/organisation/invoicing", Some(&w.provider), &json!({"payment_terms_days": 14})).await, StatusCode::OK).await;
        expect(app.put("/me/organisation/bank-details", Some(&w.provider), &bank("Wandle Club", "12345678")).await, StatusCode::OK).await;
        let mut plan = sam("EHC-ORG1", "org@family.example", "500.00");
        plan["allocations"][0]["management"] = json!("organised");
        let holder = app.holder(&w.council, &plan).await;
        let family = app.login("org@family.example", PASSWORD).await;
        deliver(&app, &w, &family, &holder, 2).await;
        let drafted = expect(app.post("/invoices", Some(&w.provider), &json!({"budget_holder_id": holder["id"]})).await, StatusCode::CREATED).await;
        assert_eq!((drafted["status"].as_str(), drafted["total"].as_str()), (Some("draft"), Some("90.00")), "{drafted}");
        let path = format!("/invoices/{}", drafted["id"]);
        let issued = expect(app.post(&format!("{path}/issue"), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        assert_eq!(issued["number"], "INV-000001");
        let due = london_day(14).to_string();
        assert_eq!(issued["due_on"], due);
        // Issued is not yet payable.
        expect_error(app.post("/payment-runs", Some(&w.council), &json!({})).await, StatusCode::CONFLICT, "nothing_to_pay", None).await;
        let approved = expect(app.post(&format!("{path}/approve"), Some(&w.council), &json!({})).await, StatusCode::OK).await;
        assert_eq!(approved["status"], "approved");
        let run = expect(app.post("/payment-runs", Some(&w.council), &json!({"due_by": due})).await, StatusCode::CREATED).await;
        assert_eq!(ids(&run["invoices"]), [drafted["id"].as_i64().unwrap()]);
        assert_eq!((run["invoices"][0]["number"].as_str(), run["invoices"][0]["amount"].as_str()), (Some("INV-000001"), Some("90.00")));
        assert_eq!(run["total"], "90.00");
        let id = run["id"].as_i64().unwrap();
        let seen = expect(app.get(&path, Some(&w.council)).await, StatusCode::OK).await;
        assert_eq!((seen["status"].as_str(), seen["payment_run_id"].as_i64()), (Some("approved"), Some(id)));
        let csv = app.get(&format!("/payment-runs/{id}.csv"), Some(&w.council)).await.text().await.unwrap();
        assert_eq!(csv.lines().nth(1), Some(format!("Wandle Club,Wandle Club,12-34-56,12345678,INV-000001,INV-000001,90.00,{due}").as_str()), "{csv}");
        let today = london_day(0).to_string();
        expect(app.post(&format!("/payment-runs/{id}/paid"), Some(&w.council), &json!({"paid_on": today, "reference": "BACS 77"})).await, StatusCode::OK).await;
        let paid = expect(app.get(&path, Some(&w.provider)).await, StatusCode::OK).await;
        assert_eq!((paid["status"].as_str(), paid["paid_on"].as_str(), paid["paid_reference"].as_str()), (Some("paid"), Some(today.as_str()), Some("BACS 77")));
        expect_error(app.post(&format!("/payment-runs/{id}/paid"), Some(&w.council), &json!({"paid_on": today})).await, StatusCode::CONFLICT, "already_paid", None).await;
        expect_error(app.post("/payment-runs", Some(&w.council), &json!({})).await, StatusCode::CONFLICT, "nothing_to_pay", None).await;
        let out = app.cli(&["verify"]);
        assert!(out.status.success(), "verify: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
}
