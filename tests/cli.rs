//! The command line: council bootstrap, the ledger check, the demo data set.

#[macro_use]
mod common;

use common::*;
use diesel::RunQueryDsl;
use reqwest::StatusCode;

both_backends! {
    #[tokio::test]
    async fn council_create_prints_ids_and_the_officer_can_log_in() {
        let app = spawn().await;
        let out = app.council_create("London Borough of Merton", "officer@merton.example", PASSWORD);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(printed["council_id"].as_i64().unwrap() > 0);
        assert!(printed["user_id"].as_i64().unwrap() > 0);
        let token = app.login("officer@merton.example", PASSWORD).await;
        let me = expect(app.get("/me", Some(&token)).await, StatusCode::OK).await;
        assert_eq!(me["role"], "council");
        assert_eq!(me["council_id"], printed["council_id"]);

        let again = app.council_create("Merton again", "officer@merton.example", PASSWORD);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
        let bad = app.council_create("Sutton", "not-an-email", PASSWORD);
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("--email"));
    }

    #[tokio::test]
    async fn verify_passes_on_honest_books_and_catches_tampering() {
        let app = spawn().await;
        let w = world(&app, "300.00").await;
        expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 2).await, StatusCode::CREATED).await;
        let ok = app.cli(&["verify"]);
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
        let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
        assert_eq!(report["allocations_checked"], 1);

        // Someone edits the balance behind the ledger's back.
        let db = app.db();
        db.write(|conn| Ok(diesel::sql_query("UPDATE allocations SET committed_pence = committed_pence - 100").execute(conn)?))
            .unwrap();
        let bad = app.cli(&["verify"]);
        assert!(!bad.status.success());
        let report: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
        assert!(!report["problems"].as_array().unwrap().is_empty());
        // And the ledger itself cannot be rewritten.
        let refused = db.write(|conn| Ok(diesel::sql_query("DELETE FROM ledger_entries").execute(conn)?));
        assert!(refused.is_err());
    }

    #[tokio::test]
    async fn the_demo_data_set_loads_with_working_logins() {
        let dir = tempfile::tempdir().unwrap();
        let scratch = fresh_database();
        let settings = localoffer::Settings {
            demo: true,
            database_url: scratch.as_ref().map(|s| s.url.clone()),
            ..localoffer::Settings::local(dir.path())
        };
        let app = localoffer::Application::build(&settings).unwrap();
        let logins = app.demo_logins.clone();
        let base = format!("http://127.0.0.1:{}/api/v1", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let family = logins.iter().find(|l| l.role == "family").unwrap();
        let login: serde_json::Value = client
            .post(format!("{base}/auth/login"))
            .json(&serde_json::json!({"email": family.email, "password": family.password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap();
        let holders: serde_json::Value =
            client.get(format!("{base}/budget-holders")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        assert!(!holders["budget_holders"][0]["allocations"].as_array().unwrap().is_empty());
        let service: serde_json::Value = client.get(format!("{base}/services/1")).send().await.unwrap().json().await.unwrap();
        assert!(service["price_options"][0]["price"].as_str().is_some());
        let found: serde_json::Value =
            client.get(format!("{base}/search?q=respite&postcode=SW19")).send().await.unwrap().json().await.unwrap();
        assert!(found["total"].as_u64().unwrap() > 0, "{found}");

        // The personal-budget process: three officers log in with their published secrets.
        let api = TestApp::remote(base.trim_end_matches("/api/v1"));
        for l in logins.iter().filter(|l| l.role == "council") {
            api.authenticator.add(&l.email, l.totp_secret.as_deref().unwrap());
        }
        let emails: Vec<_> = logins.iter().filter(|l| l.role == "council").map(|l| l.email.as_str()).collect();
        assert_eq!(emails, ["officer@merton.example", "panel@merton.example", "review@merton.example"]);
        let officer = api.login("officer@merton.example", "demo-council-pass").await;
        let panel = api.login("panel@merton.example", "demo-council-pass").await;
        let reviewer = api.login("review@merton.example", "demo-council-pass").await;
        let staff = expect(api.get("/council/users", Some(&officer)).await, StatusCode::OK).await;
        let permissions = |email: &str| {
            staff["users"].as_array().unwrap().iter().find(|u| u["email"] == email).map(|u| u["permissions"].clone())
        };
        assert_eq!(permissions("panel@merton.example"), Some(serde_json::json!(["decide"])), "{staff}");
        assert_eq!(permissions("review@merton.example"), Some(serde_json::json!(["decide"])), "{staff}");

        // Two versions of the ECM questionnaire, the first frozen by the assessment that used it.
        let ras = expect(api.get("/ras", Some(&panel)).await, StatusCode::OK).await;
        let versions: Vec<_> = ras["ras"].as_array().unwrap().iter().map(|r| (r["version"].as_i64(), r["superseded"].as_bool(), r["in_use"].as_bool())).collect();
        assert_eq!(versions, [(Some(2), Some(false), Some(true)), (Some(1), Some(true), Some(true))], "{ras}");
        assert_eq!(ras["ras"][0]["name"], ras["ras"][1]["name"]);
        let sections: std::collections::BTreeSet<_> = ras["ras"][0]["questions"].as_array().unwrap().iter().filter_map(|q| q["section"].as_str()).collect();
        for s in ["Being healthy", "Staying safe", "Enjoying and achieving", "Making a positive contribution", "Achieving economic well-being", "Family and carers"] {
            assert!(sections.contains(s), "{s}: {sections:?}");
        }
        assert_ne!(ras["ras"][0]["allocation"]["bands"], ras["ras"][1]["allocation"]["bands"]);

        // Requests at each stage, as the council lists them.
        let list = expect(api.get("/pb-requests?per_page=100", Some(&reviewer)).await, StatusCode::OK).await;
        let requests = list["requests"].as_array().unwrap();
        for status in ["received", "assessed", "agreed", "varied", "refused", "under_review"] {
            assert!(requests.iter().any(|r| r["status"] == status), "{status}: {list}");
        }
        let stages = |r: &serde_json::Value| -> Vec<String> {
            r["decisions"].as_array().unwrap().iter().map(|d| format!("{} {}", d["stage"].as_str().unwrap(), d["outcome"].as_str().unwrap())).collect()
        };
        assert!(requests.iter().any(|r| stages(r) == ["first refused", "review varied"]), "{list}");
        let old = requests.iter().find(|r| r["assessments"][0]["ras_version"] == 1 && r["status"] == "agreed").unwrap();
        assert_eq!(old["assessments"][0]["indicative_amount"], old["decisions"][0]["allocations"][0]["amount"]);
        let accepted = requests.iter().find(|r| r["status"] == "varied" && r["decisions"].as_array().unwrap().len() == 1).unwrap();
        assert!(accepted["agreement_required"].as_bool().unwrap() && accepted["agreement_accepted_at"].is_string(), "{accepted}");
        // One recorded by phone weeks ago is due soon on the officers' list.
        let assessed = requests.iter().find(|r| r["status"] == "assessed").unwrap();
        let due = expect(api.get("/council/due?per_page=100", Some(&officer)).await, StatusCode::OK).await;
        let items = due["items"].as_array().unwrap();
        assert!(items.iter().any(|i| i["kind"] == "decision" && i["request_id"] == assessed["id"]), "{due}");
        assert!(items.iter().any(|i| i["kind"] == "review"), "{due}");
        handle.stop(true).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // A second start on the same data does not load it twice.
        let app = localoffer::Application::build(&settings).unwrap();
        assert_eq!(app.demo_logins.len(), logins.len());
    }
}
