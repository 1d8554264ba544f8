//! The Open Referral UK feed: every endpoint's answers validate against the UK profile's own
//! schemata in `../shared/oruk/3.0/schemata/`, the filters do what the profile says, and what is
//! imported and published again keeps its names, descriptions, organisation, ages, places and costs.

#[macro_use]
mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn schemata() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/oruk/3.0/schemata");
    if dir.join("service.json").exists() {
        Some(dir.canonicalize().expect("schemata path"))
    } else {
        eprintln!(
            "skipping the schema checks: the Open Referral UK schemata are not at {}",
            dir.display()
        );
        None
    }
}

/// Check `value` against one of the profile's schemata (their relative `$ref`s are read from the
/// same folder), formats (uuid, uri, email, date-time) included.
fn assert_valid(dir: &std::path::Path, entity: &str, value: &Value) {
    let path = dir.join(format!("{entity}.json"));
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file")).expect("schema JSON");
    let validator = jsonschema::options()
        .with_base_uri(format!("file://{}", path.display()))
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema {entity} does not build: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{entity} invalid: {errors:#?}\n{value:#}");
}

/// The 3.0 paging envelope, checked field by field (the profile defines it in its OpenAPI).
fn assert_page(body: &Value, page: u64, per_page: u64) -> Vec<Value> {
    let total = body["total_items"].as_u64().expect("total_items");
    let contents = body["contents"].as_array().expect("contents").clone();
    assert_eq!(body["page_number"], page, "{body}");
    assert_eq!(body["total_pages"], total.div_ceil(per_page), "{body}");
    assert_eq!(body["size"], contents.len(), "{body}");
    assert_eq!(body["first_page"], page == 1);
    assert_eq!(body["last_page"], page >= total.div_ceil(per_page));
    assert_eq!(body["empty"], contents.is_empty());
    contents
}

async fn oruk(app: &TestApp, path: &str) -> reqwest::Response {
    let res = app
        .client
        .get(format!("{}/oruk{path}", app.base))
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        res.headers().get("access-control-allow-origin").map(|v| v.as_bytes()),
        Some(&b"*"[..]),
        "{path} must be open to every origin"
    );
    res
}

async fn oruk_ok(app: &TestApp, path: &str) -> Value {
    expect(oruk(app, path).await, StatusCode::OK).await
}

/// Wait until the feed lists `n` services (the index follows the database within a second).
async fn feed_has(app: &TestApp, n: u64) {
    let started = Instant::now();
    loop {
        let body = oruk_ok(app, "/services?per_page=1").await;
        if body["total_items"] == n {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "feed never reached {n}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A second service: evenings, for teenagers, with a weekly schedule and a different place.
fn evening_club() -> Value {
    json!({
        "name": "Thursday Youth Club", "description": "Music, games and friends for teenagers.\n\nEvery Thursday.",
        "outcomes": ["pfa-friends-community"], "service_types": ["st-youth-club"], "needs": [],
        "min_age": 13, "max_age": 19, "funding_streams": ["social_care", "education"],
        "location": {"postcode": "CR4 3AA", "lat": 51.4021, "lon": -0.1660, "address": "Youth Centre, London Road, Mitcham"},
        "capacity": 20, "status": "published",
        "schedule": [{"day": "thursday", "starts": "18:00", "ends": "20:30"}],
        "price_options": [{"label": "Evening session", "unit": "session", "price": "12.50"}]
    })
}

both_backends! {
    #[tokio::test]
    async fn every_endpoint_validates_against_the_uk_profile() {
        let Some(dir) = schemata() else { return };
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        app.service(&w.provider, &evening_club()).await;
        let mut draft = saturday_club();
        draft["name"] = "Unfinished draft".into();
        draft["status"] = "draft".into();
        app.service(&w.provider, &draft).await;
        feed_has(&app, 2).await;

        let about = oruk_ok(&app, "/").await;
        assert_eq!(about["version"], "3.0");
        assert!(about["profile"].as_str().unwrap().starts_with("https://"));

        let list = oruk_ok(&app, "/services").await;
        let services = assert_page(&list, 1, 50);
        assert_eq!(services.len(), 2, "drafts are not published");
        for s in &services {
            assert_valid(&dir, "service", s);
        }
        // The Saturday Club as the provider listed it.
        let club = services.iter().find(|s| s["name"] == "Saturday Club").expect("Saturday Club");
        assert_eq!(club["description"], "Games, cooking and trips for disabled children.");
        assert_eq!((club["minimum_age"].as_u64(), club["maximum_age"].as_u64()), (Some(5), Some(18)));
        assert_eq!(club["status"], "active");
        assert_eq!(club["organization"]["name"], "Wandle Club");
        assert_eq!(club["organization"]["organization_identifiers"][0]["identifier"], "1123456");
        let location = &club["service_at_locations"][0]["location"];
        assert_eq!(location["latitude"], 51.4214);
        assert_eq!(location["addresses"][0]["postal_code"], "SW19 2HR");
        assert_eq!(location["addresses"][0]["city"], "Wimbledon");
        let costs = club["cost_options"].as_array().unwrap();
        assert_eq!(costs.len(), 2);
        assert_eq!(costs[0]["amount"], json!(45.0));
        assert_eq!(costs[0]["amount_description"], "per session");
        assert_eq!(costs[1]["amount"].to_string(), "191.18", "the full-cost price, exact");
        let terms: Vec<&str> = club["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["taxonomy_term"]["term"].as_str().unwrap())
            .collect();
        assert_eq!(terms, ["pfa-friends-community", "need-autism", "st-short-break-day"]);
        assert!(club.get("schedules").is_none(), "empty optional fields are left out");

        let youth = services.iter().find(|s| s["name"] == "Thursday Youth Club").unwrap();
        assert_eq!(youth["schedules"][0]["byday"], "TH");
        assert_eq!(youth["cost_options"][0]["amount"], json!(12.5));

        let one = oruk_ok(&app, &format!("/services/{}", club["id"].as_str().unwrap())).await;
        assert_valid(&dir, "service", &one);
        assert_eq!(&one, club);

        let sals = oruk_ok(&app, "/service_at_locations").await;
        let sals = assert_page(&sals, 1, 50);
        assert_eq!(sals.len(), 2);
        for sal in &sals {
            assert_valid(&dir, "service_at_location", sal);
        }
        let sal = oruk_ok(&app, &format!("/service_at_locations/{}", sals[0]["id"].as_str().unwrap())).await;
        assert_valid(&dir, "service_at_location", &sal);
        assert_valid(&dir, "service", &sal["service"]);

        let orgs = oruk_ok(&app, "/organizations").await;
        let orgs = assert_page(&orgs, 1, 50);
        assert_eq!(orgs.len(), 1);
        assert_valid(&dir, "organization", &orgs[0]);
        let org = oruk_ok(&app, &format!("/organizations/{}", orgs[0]["id"].as_str().unwrap())).await;
        assert_valid(&dir, "organization", &org);
        assert_eq!(org["services"].as_array().unwrap().len(), 2);

        let taxonomies = oruk_ok(&app, "/taxonomies").await;
        let taxonomies = assert_page(&taxonomies, 1, 50);
        assert_eq!(taxonomies.len(), 3);
        for t in &taxonomies {
            assert_valid(&dir, "taxonomy", t);
            let full = oruk_ok(&app, &format!("/taxonomies/{}", t["id"].as_str().unwrap())).await;
            assert_valid(&dir, "taxonomy", &full);
            assert!(!full["taxonomy_terms"].as_array().unwrap().is_empty());
        }
        let terms = oruk_ok(&app, "/taxonomy_terms?per_page=100").await;
        let first = assert_page(&terms, 1, 100);
        assert!(terms["total_items"].as_u64().unwrap() >= 100);
        for t in &first {
            assert_valid(&dir, "taxonomy_term", t);
        }
        let salt = first.iter().find(|t| t["term"] == "st-salt").expect("speech and language therapy");
        let one = oruk_ok(&app, &format!("/taxonomy_terms/{}", salt["id"].as_str().unwrap())).await;
        assert_eq!(&one, salt);
        assert_valid(&dir, "taxonomy_term", &one);

        // A browser's preflight for any endpoint is answered.
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}/oruk/services", app.base))
            .header("Origin", "https://familyhub.example")
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
        assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
        assert!(preflight.headers()["access-control-allow-methods"].to_str().unwrap().contains("GET"));

        // Unknown ids are 404s, still open to every origin.
        for path in [
            "/services/00000000-0000-0000-0000-000000000000",
            "/services/not-a-uuid",
            "/organizations/00000000-0000-0000-0000-000000000000",
            "/taxonomies/00000000-0000-0000-0000-000000000000",
            "/taxonomy_terms/00000000-0000-0000-0000-000000000000",
            "/service_at_locations/00000000-0000-0000-0000-000000000000",
            "/nothing-here",
        ] {
            expect(oruk(&app, path).await, StatusCode::NOT_FOUND).await;
        }
        // A service id is not an organization id.
        expect(oruk(&app, &format!("/organizations/{}", club["id"].as_str().unwrap())).await, StatusCode::NOT_FOUND).await;
    }

    #[tokio::test]
    async fn the_profiles_filters_and_paging_work() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        app.service(&w.provider, &evening_club()).await;
        feed_has(&app, 2).await;
        let names = |body: &Value| -> Vec<String> {
            body["contents"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
        };
        let taxonomy = oruk_ok(&app, "/taxonomy_terms?per_page=100").await;
        let term_id = |term: &str| -> String {
            taxonomy["contents"].as_array().unwrap().iter()
                .find(|t| t["term"] == term).map(|t| t["id"].as_str().unwrap().to_string())
                .unwrap_or_else(|| panic!("{term} published"))
        };

        assert_eq!(names(&oruk_ok(&app, "/services?search=music").await), ["Thursday Youth Club"]);
        assert_eq!(names(&oruk_ok(&app, &format!("/services?taxonomy_term_id={}", term_id("need-autism"))).await), ["Saturday Club"]);
        // A broad term finds services tagged with a narrower one.
        assert_eq!(oruk_ok(&app, &format!("/services?taxonomy_term_id={}", term_id("st-short-break"))).await["total_items"], 1);
        assert_eq!(oruk_ok(&app, "/services?taxonomy_term_id=00000000-0000-0000-0000-000000000000").await["total_items"], 0);
        let needs = oruk_ok(&app, "/taxonomies").await["contents"].as_array().unwrap().iter()
            .find(|t| t["name"] == "localoffer areas of need").unwrap()["id"].as_str().unwrap().to_string();
        assert_eq!(names(&oruk_ok(&app, &format!("/services?taxonomy_id={needs}")).await), ["Saturday Club"]);
        assert_eq!(oruk_ok(&app, &format!("/taxonomy_terms?taxonomy_id={needs}")).await["contents"][0]["taxonomy"], "localoffer areas of need");
        // Ages as the profile defines them: the service's own minimum at least, maximum at most.
        assert_eq!(names(&oruk_ok(&app, "/services?minimum_age=10").await), ["Thursday Youth Club"]);
        assert_eq!(names(&oruk_ok(&app, "/services?maximum_age=18").await), ["Saturday Club"]);
        assert_eq!(names(&oruk_ok(&app, "/services?day=thursday").await), ["Thursday Youth Club"]);
        assert_eq!(names(&oruk_ok(&app, "/services?day=TH").await), ["Thursday Youth Club"]);
        // Proximity in metres from the postcode's centre. The youth club in Mitcham is about 1.5
        // miles from Wimbledon and does not travel; the Saturday Club travels up to 10 miles.
        let near = oruk_ok(&app, "/services?postcode=SW19%202HR&proximity=1000").await;
        assert_eq!(names(&near), ["Saturday Club"]);
        let wider = oruk_ok(&app, "/services?postcode=CR4%203AA&proximity=1000").await;
        assert_eq!(names(&wider), ["Thursday Youth Club", "Saturday Club"], "nearest first");
        assert_eq!(oruk_ok(&app, "/services?postcode=DN15%206AA&proximity=5000").await["total_items"], 0);
        assert_eq!(oruk_ok(&app, "/service_at_locations?postcode=SW19%202HR&proximity=1000").await["total_items"], 1);
        // modified_after: everything was changed today; nothing after tomorrow.
        assert_eq!(oruk_ok(&app, "/services?modified_after=2020-01-01T00:00:00Z").await["total_items"], 2);
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
        assert_eq!(oruk_ok(&app, &format!("/services?modified_after={tomorrow}")).await["total_items"], 0);
        // Paging through the whole feed, oldest first, sees every service once.
        let first = oruk_ok(&app, "/services?per_page=1&page=1").await;
        let second = oruk_ok(&app, "/services?per_page=1&page=2").await;
        assert_eq!(assert_page(&first, 1, 1).len(), 1);
        assert_eq!(assert_page(&second, 2, 1).len(), 1);
        assert_eq!(names(&first), ["Saturday Club"]);
        assert_eq!(names(&second), ["Thursday Youth Club"]);
        assert_eq!(second["last_page"], true);
        assert!(assert_page(&oruk_ok(&app, "/services?per_page=1&page=3").await, 3, 1).is_empty());

        // Bad values are 400s naming the parameter; parameters we do not know are ignored.
        for (query, field) in [
            ("page=0", "page"),
            ("per_page=101", "per_page"),
            ("per_page=ten", "per_page"),
            ("minimum_age=-3", "minimum_age"),
            ("maximum_age=old", "maximum_age"),
            ("day=funday", "day"),
            ("postcode=nowhere", "postcode"),
            ("postcode=SW19%202HR&proximity=-1", "proximity"),
            ("proximity=500", "proximity"),
            ("modified_after=last%20week", "modified_after"),
        ] {
            let res = oruk(&app, &format!("/services?{query}")).await;
            expect_error(res, StatusCode::BAD_REQUEST, "invalid_parameter", Some(field)).await;
        }
        assert_eq!(oruk_ok(&app, "/services?full=true&format=json").await["total_items"], 2);

        // A suspended provider's services leave the feed; so does an unpublished one.
        let council = &w.council;
        expect(app.post(&format!("/organisations/{}/suspend", w.organisation_id), Some(council), &json!({})).await, StatusCode::OK).await;
        feed_has(&app, 0).await;
        assert_eq!(oruk_ok(&app, "/organizations").await["total_items"], 0);
        let id = oruk_ok(&app, "/taxonomies").await; // still answers
        assert_eq!(id["total_items"], 3);
    }

    #[tokio::test]
    async fn imported_services_publish_again_with_what_they_came_with() {
        // Server A lists two services; server B imports A's feed over HTTP, and publishes it again.
        let a = spawn().await;
        let w = world(&a, "500.00").await;
        a.service(&w.provider, &evening_club()).await;
        feed_has(&a, 2).await;
        let b = spawn().await;
        let out = b.cli(&["import", "oruk", &format!("{}/oruk", a.base), "--delay-ms", "0"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let summary: Value = serde_json::from_slice(&out.stdout).expect("summary JSON");
        assert_eq!((summary["created"].as_u64(), summary["skipped"].as_u64()), (Some(2), Some(0)), "{summary}");
        feed_has(&b, 2).await;

        let feed = |body: Value| body["contents"].as_array().unwrap().clone();
        let before = feed(oruk_ok(&a, "/services").await);
        let after = feed(oruk_ok(&b, "/services").await);
        for original in &before {
            let again = after.iter().find(|s| s["name"] == original["name"]).expect("same name");
            for key in ["description", "minimum_age", "maximum_age", "status", "url", "email"] {
                assert_eq!(again.get(key), original.get(key), "{key}");
            }
            assert_eq!(again["organization"]["name"], original["organization"]["name"]);
            assert_eq!(again["organization"]["description"], original["organization"]["description"]);
            let place = |s: &Value| {
                let l = &s["service_at_locations"][0]["location"];
                (l["latitude"].clone(), l["longitude"].clone(), l["addresses"][0]["postal_code"].clone(), l["addresses"][0]["address_1"].clone(), l["addresses"][0]["city"].clone())
            };
            assert_eq!(place(again), place(original));
            let costs = |s: &Value| -> Vec<(Value, Value, Value)> {
                s["cost_options"].as_array().unwrap().iter()
                    .map(|c| (c["option"].clone(), c["amount"].clone(), c["amount_description"].clone())).collect()
            };
            assert_eq!(costs(again), costs(original));
            let terms = |s: &Value| -> Vec<Value> {
                s["attributes"].as_array().map(|a| a.iter().map(|t| t["taxonomy_term"]["term"].clone()).collect()).unwrap_or_default()
            };
            assert_eq!(terms(again), terms(original), "our own terms come back by their ids");
            // B publishes under its own ids, never A's.
            assert_ne!(again["id"], original["id"]);
        }
        // Running the import again updates the same records.
        let out = b.cli(&["import", "oruk", &format!("{}/oruk", a.base), "--delay-ms", "0"]);
        let summary: Value = serde_json::from_slice(&out.stdout).expect("summary JSON");
        assert_eq!((summary["created"].as_u64(), summary["unchanged"].as_u64()), (Some(0), Some(2)), "{summary}");
        assert_eq!(oruk_ok(&b, "/services").await["total_items"], 2);
    }

    #[tokio::test]
    async fn a_whole_imported_council_directory_validates() {
        let Some(dir) = schemata() else { return };
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/oruk1-north-lincolnshire-services.json");
        if !file.exists() {
            eprintln!("skipping: {} not found", file.display());
            return;
        }
        let app = spawn().await;
        let out = app.cli(&["import", "oruk", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        feed_has(&app, 738).await;
        let mut seen = 0;
        for page in 1..=8 {
            let body = oruk_ok(&app, &format!("/services?per_page=100&page={page}")).await;
            for s in assert_page(&body, page, 100) {
                assert_valid(&dir, "service", &s);
                assert!(s.get("service_at_locations").is_none(), "the feed gave no places");
                seen += 1;
            }
        }
        assert_eq!(seen, 738);
        let orgs = oruk_ok(&app, "/organizations?per_page=100").await;
        assert_eq!(orgs["total_items"], 239);
        for o in assert_page(&orgs, 1, 100) {
            assert_valid(&dir, "organization", &o);
        }
    }

    #[tokio::test]
    async fn weekly_series_of_dated_sessions_are_published_as_schedules() {
        let Some(dir) = schemata() else { return };
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let mut club = saturday_club();
        club["name"] = "Holiday Club".into();
        club["schedule"] = json!([{"day": "saturday", "starts": "10:00", "ends": "15:00"}]);
        let club = app.service(&w.provider, &club).await;
        let series = json!({
            "weekly": {"days": ["saturday", "wednesday"], "from": "2027-01-09", "until": "2027-07-17",
                       "starts": "10:00", "ends": "15:00", "except": ["2027-02-20", "2027-02-13"]},
            "places": 8
        });
        let path = format!("/services/{}/sessions", club["id"]);
        expect(app.post(&path, Some(&w.provider), &series).await, StatusCode::CREATED).await;
        let evenings = json!({"weekly": {"days": ["monday"], "from": "2027-03-01", "until": "2027-03-29", "starts": "17:30", "ends": "19:00"}});
        expect(app.post(&path, Some(&w.provider), &evenings).await, StatusCode::CREATED).await;
        feed_has(&app, 2).await;

        let list = oruk_ok(&app, "/services").await;
        let listed = assert_page(&list, 1, 50);
        let uuid = listed.iter().find(|s| s["name"] == "Holiday Club").expect("listed")["id"].as_str().unwrap().to_string();
        let one = oruk_ok(&app, &format!("/services/{uuid}")).await;
        assert_valid(&dir, "service", &one);
        let schedules = one["schedules"].as_array().expect("schedules");
        assert_eq!(schedules.len(), 3, "the weekly times and one schedule per series: {one:#}");
        for s in schedules {
            assert_valid(&dir, "schedule", s);
            assert_eq!(s["service_id"], uuid.as_str());
        }
        let ids: std::collections::BTreeSet<&str> = schedules.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 3, "each schedule has its own id");
        let weekly = schedules.iter().find(|s| s["byday"] == "WE,SA").expect("the series as a schedule");
        assert_eq!(weekly["freq"], "WEEKLY");
        assert_eq!(weekly["interval"], 1);
        assert_eq!(weekly["dtstart"], "2027-01-09");
        assert_eq!(weekly["until"], "2027-07-17");
        assert_eq!(weekly["valid_from"], "2027-01-09");
        assert_eq!(weekly["valid_to"], "2027-07-17");
        assert_eq!(weekly["opens_at"], "10:00");
        assert_eq!(weekly["closes_at"], "15:00");
        assert_eq!(
            weekly["description"],
            "Every Wednesday and Saturday, 10:00 to 15:00 (UK time), from 9 January 2027 to 17 July 2027, except 13 February 2027 and 20 February 2027"
        );
        assert_eq!(weekly["notes"], "No sessions on 13 February 2027, 20 February 2027.");
        let monday = schedules.iter().find(|s| s["byday"] == "MO").expect("the second series");
        assert_eq!((monday["opens_at"].as_str(), monday["closes_at"].as_str()), (Some("17:30"), Some("19:00")));
        assert_eq!(monday["until"], "2027-03-29");
        assert!(monday.get("notes").is_none(), "no exceptions, no notes: {monday}");

        // Ids are stable: the same on the next read, and after a restart.
        let again = oruk_ok(&app, &format!("/services/{uuid}")).await;
        assert_eq!(again["schedules"], one["schedules"]);
        let app = app.restart().await;
        let after = oruk_ok(&app, &format!("/services/{uuid}")).await;
        assert_eq!(after["schedules"], one["schedules"]);
        // The same record inside a service at a location and an organisation still validates.
        let sal = after["service_at_locations"][0]["id"].as_str().unwrap().to_string();
        let at = oruk_ok(&app, &format!("/service_at_locations/{sal}")).await;
        assert_valid(&dir, "service_at_location", &at);
        assert_eq!(at["service"]["schedules"], one["schedules"]);
        let org = oruk_ok(&app, &format!("/organizations/{}", one["organization_id"].as_str().unwrap())).await;
        assert_valid(&dir, "organization", &org);
        let in_org = org["services"].as_array().unwrap().iter().find(|s| s["id"] == uuid.as_str()).expect("in its organisation");
        assert_eq!(in_org["schedules"], one["schedules"]);
    }
}
