//! `localoffer import oruk`: another directory's Open Referral UK services, from a file or a paged
//! feed over HTTP, into ours, and straight into search on the running server.

#[macro_use]
mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use common::*;
use diesel::prelude::*;
use localoffer::db::schema::{organisations, price_options, services};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The North Lincolnshire Family Information Service's ORUK 1.0 services, as published.
fn north_lincolnshire_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/oruk1-north-lincolnshire-services.json")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// Run the import and return its printed summary; it must succeed.
fn import(app: &TestApp, args: &[&str]) -> (Value, String) {
    let mut all = vec!["import", "oruk"];
    all.extend_from_slice(args);
    let out = app.cli(&all);
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "import failed: {stderr}\nstdout: {}",
        text(&out.stdout)
    );
    let summary = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("the summary is not JSON ({e}): {}", text(&out.stdout)));
    (summary, stderr)
}

/// Run an import that must fail; returns its stderr and the summary of what went in before it
/// stopped (printed only when reading had begun).
fn import_fails(app: &TestApp, args: &[&str]) -> (String, Option<Value>) {
    let mut all = vec!["import", "oruk"];
    all.extend_from_slice(args);
    let out = app.cli(&all);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "the import should have failed; stdout: {}",
        text(&out.stdout)
    );
    let summary = (!out.stdout.is_empty()).then(|| {
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap_or_else(|e| panic!("the summary is not JSON ({e}): {}", text(&out.stdout)))
    });
    if let Some(summary) = &summary {
        assert_eq!(summary["complete"], false, "{summary}");
    }
    (stderr, summary)
}

/// Services, their organisations and their live price options, as stored for one feed.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Stored {
    services: i64,
    organisations: i64,
    /// Services whose organisation is one of this feed's (an import never leaves a service
    /// pointing at another's or at nothing).
    services_with_their_organisation: i64,
    price_options: i64,
}

fn stored(app: &TestApp, feed: &str) -> Stored {
    let feed = feed.to_string();
    app.db()
        .read(move |conn| {
            Ok(Stored {
                services: services::table
                    .filter(services::feed.eq(&feed))
                    .count()
                    .get_result(conn)?,
                organisations: organisations::table
                    .filter(organisations::feed.eq(&feed))
                    .count()
                    .get_result(conn)?,
                services_with_their_organisation: services::table
                    .inner_join(organisations::table)
                    .filter(services::feed.eq(&feed))
                    .filter(organisations::feed.eq(&feed))
                    .count()
                    .get_result(conn)?,
                price_options: price_options::table
                    .inner_join(services::table)
                    .filter(services::feed.eq(&feed))
                    .filter(price_options::active.eq(true))
                    .count()
                    .get_result(conn)?,
            })
        })
        .expect("counts")
}

/// Every service in the database, from any feed or none.
fn all_services(app: &TestApp) -> i64 {
    app.db()
        .read(|conn| Ok(services::table.count().get_result(conn)?))
        .expect("count")
}

fn query(pairs: &[(&str, &str)]) -> String {
    let url = reqwest::Url::parse_with_params("http://x/search", pairs).expect("query");
    url.query().unwrap_or_default().to_string()
}

async fn search(app: &TestApp, pairs: &[(&str, &str)]) -> Value {
    expect(
        app.get(&format!("/search?{}", query(pairs)), None).await,
        StatusCode::OK,
    )
    .await
}

/// Poll a search until `check` holds: the running server picks imported services up from the
/// database's change log by itself.
async fn eventually(app: &TestApp, pairs: &[(&str, &str)], within: Duration, check: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let v = search(app, pairs).await;
        if check(&v) {
            return v;
        }
        assert!(
            started.elapsed() < within,
            "search {pairs:?} not as expected within {within:?}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn hit<'a>(results: &'a Value, name: &str) -> Option<&'a Value> {
    results["results"].as_array()?.iter().find(|r| r["name"] == name)
}

/// Search by words until the service of this name is among the results; returns its hit.
async fn find(app: &TestApp, words: &str, name: &str) -> Value {
    let found = eventually(app, &[("q", words), ("per_page", "100")], Duration::from_secs(5), |v| {
        hit(v, name).is_some()
    })
    .await;
    hit(&found, name).cloned().expect("hit")
}

async fn service(app: &TestApp, hit: &Value) -> Value {
    let id = hit["service_id"].as_i64().expect("service id");
    expect(app.get(&format!("/services/{id}"), None).await, StatusCode::OK).await
}

/// What an officer would call HTML left in a description.
fn assert_plain_text(what: &str, description: &str) {
    for markup in [
        "<p", "</", "<br", "<li", "<a ", "<b>", "&amp;", "&nbsp;", "&quot;", "&lt;", "&gt;", "&#",
    ] {
        assert!(
            !description.contains(markup),
            "{what}: `{markup}` left in the description: {description}"
        );
    }
    assert!(
        !description.contains('\u{a0}'),
        "{what}: a non-breaking space left in: {description:?}"
    );
}

// --- A feed served over HTTP by the test ------------------------------------------------------

/// An ORUK 3.0 feed of `records`, paged as asked, whose failures the test sets.
struct Feed {
    records: Mutex<Vec<Value>>,
    /// Pages that answer 503 the first time they are asked for, and are fine after.
    fail_once: Vec<u32>,
    /// While `broken` holds, this page and every later one answer 500.
    broken_from: u32,
    broken: AtomicBool,
    /// Requests per page number.
    requests: Mutex<BTreeMap<u32, usize>>,
    /// The `per_page` of every request.
    per_page_asked: Mutex<Vec<u32>>,
    /// List pages hold only each service's own fields, as 3.0 lists may: the rest is at `services/{id}`.
    brief: bool,
    /// Requests for one service's details.
    detail_requests: Mutex<Vec<String>>,
}

impl Feed {
    fn new(records: Vec<Value>) -> Feed {
        Feed {
            records: Mutex::new(records),
            fail_once: Vec::new(),
            broken_from: 1,
            broken: AtomicBool::new(false),
            requests: Mutex::new(BTreeMap::new()),
            per_page_asked: Mutex::new(Vec::new()),
            brief: false,
            detail_requests: Mutex::new(Vec::new()),
        }
    }

    fn detail(&self, id: &str) -> HttpResponse {
        self.detail_requests.lock().unwrap().push(id.to_string());
        match self.records.lock().unwrap().iter().find(|r| r["id"] == id) {
            Some(record) => HttpResponse::Ok().json(record),
            None => HttpResponse::NotFound().finish(),
        }
    }

    fn requests(&self) -> BTreeMap<u32, usize> {
        self.requests.lock().unwrap().clone()
    }

    fn answer(&self, page: u32, per_page: u32) -> HttpResponse {
        let seen = {
            let mut requests = self.requests.lock().unwrap();
            let n = requests.entry(page).or_default();
            *n += 1;
            *n
        };
        self.per_page_asked.lock().unwrap().push(per_page);
        if self.broken.load(Ordering::SeqCst) && page >= self.broken_from {
            return HttpResponse::InternalServerError().body("database unavailable");
        }
        if self.fail_once.contains(&page) && seen == 1 {
            return HttpResponse::ServiceUnavailable().body("try again shortly");
        }
        let records = self.records.lock().unwrap();
        let size = per_page.max(1) as usize;
        let total_pages = records.len().div_ceil(size);
        let start = (page.max(1) as usize - 1) * size;
        let contents: Vec<Value> = records
            .iter()
            .skip(start)
            .take(size)
            .map(|r| {
                let mut r = r.clone();
                if self.brief
                    && let Some(fields) = r.as_object_mut()
                {
                    fields.retain(|k, v| !v.is_object() && !v.is_array() || k == "id");
                }
                r
            })
            .collect();
        HttpResponse::Ok().json(json!({
            "total_items": records.len(), "total_pages": total_pages, "page_number": page,
            "size": size, "first_page": page == 1, "last_page": page as usize >= total_pages,
            "empty": contents.is_empty(), "contents": contents
        }))
    }
}

/// Serve each feed at `/{name}/services?page=N&per_page=M` on a free port; returns the base URL.
/// The server runs on a thread of its own: the test's thread blocks while the import runs.
fn serve(feeds: Vec<(&str, Arc<Feed>)>) -> String {
    let feeds: Arc<HashMap<String, Arc<Feed>>> =
        Arc::new(feeds.into_iter().map(|(name, feed)| (name.to_string(), feed)).collect());
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::from(feeds.clone()))
                    .route(
                        "/{feed}/services/{id}",
                        web::get().to(|path: web::Path<(String, String)>, feeds: web::Data<HashMap<String, Arc<Feed>>>| async move {
                            match feeds.get(path.0.as_str()) {
                                Some(feed) => feed.detail(&path.1),
                                None => HttpResponse::NotFound().finish(),
                            }
                        }),
                    )
                    .route(
                    "/{feed}/services",
                    web::get().to(
                        |path: web::Path<String>,
                         query: web::Query<HashMap<String, String>>,
                         feeds: web::Data<HashMap<String, Arc<Feed>>>| async move {
                            let number =
                                |k: &str, default: u32| query.get(k).and_then(|v| v.parse().ok()).unwrap_or(default);
                            match feeds.get(path.as_str()) {
                                Some(feed) => feed.answer(number("page", 1), number("per_page", 10)),
                                None => HttpResponse::NotFound().finish(),
                            }
                        },
                    ),
                )
            })
            .workers(1)
            .disable_signals()
            .bind("127.0.0.1:0")
            .expect("feed server binds");
            port_tx.send(server.addrs()[0].port()).expect("port sent");
            let _ = server.run().await;
        });
    });
    let port = port_rx.recv().expect("the feed server started");
    format!("http://127.0.0.1:{port}")
}

fn organisation(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "description": "<p>A local charity</p>", "website": "https://example.org.uk"})
}

/// Seven ORUK 3.0 services, one of them unusable.
fn north_lincolnshire_v3() -> Vec<Value> {
    let scunthorpe_play = organisation("org-play", "Scunthorpe Play Association");
    let ashby = organisation("org-ashby", "Ashby Arts Trust");
    let parents = organisation("org-parents", "North Lincolnshire Parent Carer Forum");
    vec![
        json!({
            "id": "svc-1", "name": "Saturday Play Scheme", "description": "Play for disabled children at the Baths Hall.",
            "status": "active", "organization": scunthorpe_play,
            "service_at_locations": [{"id": "sal-1", "location": {
                "id": "loc-1", "name": "Baths Hall", "latitude": 53.6100, "longitude": -0.6500,
                "addresses": [{"id": "addr-1", "address_1": "Doncaster Road", "city": "Scunthorpe",
                               "postal_code": "DN15 6AA", "address_type": "physical"}]}}]
        }),
        json!({
            "id": "svc-2", "name": "", "description": "A record someone saved before naming it.",
            "status": "active", "organization": scunthorpe_play
        }),
        json!({
            "id": "svc-3", "name": "Wimbledon Swim Squad", "description": "Quiet lane swimming for autistic teenagers.",
            "status": "active", "organization": scunthorpe_play,
            "service_at_locations": [{"id": "sal-3", "location": {
                "id": "loc-3", "addresses": [{"id": "addr-3", "postal_code": "sw19 2hr"}]}}]
        }),
        json!({
            "id": "svc-4", "name": "Ashby Art Sessions", "description": "Painting and clay for young people.",
            "status": "active", "organization": ashby, "minimum_age": 5, "maximum_age": 18,
            "cost_options": [{"id": "cost-4", "option": "Term-time session", "amount": 12.5,
                              "amount_description": "per session", "currency": "GBP"}]
        }),
        json!({
            "id": "svc-5", "name": "Brumby Youth Drop-in",
            "description": "<p>Games &amp; snacks&nbsp;for <b>teenagers</b>.</p><ul><li>Free</li><li>Confidential</li></ul>",
            "status": "active", "organization": ashby
        }),
        json!({
            "id": "svc-6", "name": "Parent Carer Coffee Mornings", "description": "Meet other parents of disabled children.",
            "status": "active", "organization": parents,
            "attributes": [{"id": "attr-1", "taxonomy_term": {"id": "t-1", "term": "pfa-friends-community"}},
                           {"id": "attr-2", "taxonomy_term": {"id": "t-2", "name": "Respite"}}]
        }),
        json!({
            "id": "svc-7", "name": "Kirton Lindsey Walking Group", "description": "Gentle walks on Sunday mornings.",
            "status": "active", "organization": scunthorpe_play
        }),
    ]
}

both_backends! {
    #[tokio::test]
    async fn the_north_lincolnshire_directory_imports_is_searchable_and_imports_again_without_duplicates() {
        let file = north_lincolnshire_file();
        if !file.exists() {
            eprintln!("skipping: {} not found", file.display());
            return;
        }
        // A file's records are kept under its whole path: another council's file of the same
        // name cannot overwrite them.
        let feed_name = file.canonicalize().expect("path").display().to_string();
        let file = file.to_str().expect("a UTF-8 path").to_string();
        let app = spawn().await;

        let (summary, stderr) = import(&app, &[&file]);
        assert_eq!(summary["feed"], feed_name.as_str(), "{summary}");
        assert_eq!(summary["pages"], 1, "{summary}");
        assert_eq!(summary["records"], 738, "{summary}");
        assert_eq!(summary["created"], 738, "{summary}");
        assert_eq!(summary["updated"], 0, "{summary}");
        assert_eq!(summary["skipped"], 0, "{summary}");
        assert_eq!(summary["skipped_because"], json!({}), "{summary}");
        assert_eq!(summary["skipped_examples"], json!([]), "{summary}");
        assert_eq!(summary["organisations"], 239, "{summary}");
        // The file gives no places at all: every service is kept, without a location.
        assert_eq!(summary["without_location"], 738, "{summary}");
        assert_eq!(summary["retried_requests"], 0, "{summary}");
        assert!(summary["seconds"].as_f64().is_some(), "{summary}");
        assert!(stderr.contains("running localoffer server"), "{stderr}");
        let first = stored(&app, &feed_name);
        assert_eq!(
            first,
            Stored { services: 738, organisations: 239, services_with_their_organisation: 738, price_options: 0 }
        );

        // The running server shows them all, found by the words a family would type.
        eventually(&app, &[("per_page", "1")], Duration::from_secs(10), |v| v["total"] == 738).await;
        let wawy = find(&app, "We Are With You", "\"We are with You\" WAWY").await;
        find(&app, "We Are With You", "We Are With You").await;
        let age_uk = find(&app, "Age UK Lindsey", "Age UK Lindsey - Information and Advice").await;
        assert_eq!(age_uk["organisation"]["name"], "Age UK Lindsey", "{age_uk}");
        find(&app, "drug alcohol support", "We Are With You").await;

        let shown = service(&app, &wawy).await;
        assert_eq!(shown["name"], "\"We are with You\" WAWY");
        assert_eq!(shown["organisation"]["name"], "Victor House", "{shown}");
        assert_eq!(shown["location"], Value::Null, "{shown}");
        assert_eq!(shown["url"], "https://www.northlincs.gov.uk/", "{shown}");
        assert_eq!(shown["email"], "victorhouse@northlincs.gov.uk", "{shown}");
        assert_eq!((shown["min_age"].as_i64(), shown["max_age"].as_i64()), (Some(0), Some(25)), "{shown}");
        assert_eq!(shown["price_options"], json!([]), "{shown}");
        let description = shown["description"].as_str().expect("description");
        assert_plain_text("WAWY", description);
        assert!(
            description.starts_with("Struggling with Drug & Alcohol Addiction? We Are With You provide free"),
            "{description}"
        );
        assert!(description.contains("\n\nWe Are With You are now offering a drop in session"), "{description:?}");

        let shown = service(&app, &age_uk).await;
        let description = shown["description"].as_str().expect("description");
        assert_plain_text("Age UK Lindsey", description);
        assert!(description.contains("How do I access the service?"), "{description}");
        assert!(description.contains("our I&A Service is by calling 01507 524242"), "{description}");
        assert!(description.contains("\nSocial care - such as finding and funding care"), "{description:?}");

        // No description anywhere kept its markup.
        let descriptions: Vec<String> = app
            .db()
            .read(|conn| Ok(services::table.select(services::description).load(conn)?))
            .unwrap();
        assert_eq!(descriptions.len(), 738);
        for d in &descriptions {
            assert_plain_text("a North Lincolnshire service", d);
        }

        // The directory publishes again next month: importing the same file updates, never duplicates.
        // This time no server runs, so the import brings the search index up to date itself.
        let dir = app.dir.path().to_path_buf();
        let db_url = app.database_url();
        let app = app
            .restart_with(move || {
                let mut again = std::process::Command::new(env!("CARGO_BIN_EXE_localoffer"));
                again.args(["import", "oruk", &file, "--data-dir"]).arg(&dir);
                if let Some(url) = &db_url {
                    again.arg("--database-url").arg(url);
                }
                let out = again.env_remove("DATABASE_URL").output().unwrap();
                let stderr = text(&out.stderr);
                assert!(out.status.success(), "{stderr}");
                let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(summary["records"], 738, "{summary}");
                assert_eq!(summary["created"], 0, "{summary}");
                // Nothing changed in the file: nothing is rewritten, so `last_modified` stays true.
                assert_eq!(summary["updated"], 0, "{summary}");
                assert_eq!(summary["unchanged"], 738, "{summary}");
                assert_eq!(summary["withdrawn"], 0, "{summary}");
                assert_eq!(summary["skipped"], 0, "{summary}");
                assert_eq!(summary["organisations"], 239, "{summary}");
                assert!(stderr.contains("search index up to date: 738 services"), "{stderr}");
            })
            .await;
        assert_eq!(stored(&app, &feed_name), first);
        assert_eq!(all_services(&app), 738);
        assert_eq!(search(&app, &[("per_page", "1")]).await["total"], 738);
        let again = find(&app, "Age UK Lindsey", "Age UK Lindsey - Information and Advice").await;
        assert_eq!(again["service_id"], age_uk["service_id"], "the same record keeps its id");
    }

    #[tokio::test]
    async fn a_paged_feed_over_http_is_imported_through_a_failing_page_and_shows_in_search() {
        let feed = Arc::new(Feed { fail_once: vec![2], ..Feed::new(north_lincolnshire_v3()) });
        let base = serve(vec![("feed", feed.clone())]);
        let app = spawn().await;
        let source = format!("{base}/feed");
        let feed_name = source.trim_start_matches("http://").to_string();

        let (summary, _) = import(&app, &[&source, "--per-page", "3", "--delay-ms", "10"]);
        assert_eq!(summary["feed"], feed_name.as_str(), "{summary}");
        assert_eq!(summary["pages"], 3, "{summary}");
        assert_eq!(summary["records"], 7, "{summary}");
        assert_eq!(summary["created"], 6, "{summary}");
        assert_eq!(summary["updated"], 0, "{summary}");
        assert_eq!(summary["skipped"], 1, "{summary}");
        assert_eq!(summary["skipped_because"], json!({"no name": 1}), "{summary}");
        assert_eq!(summary["skipped_examples"], json!([["svc-2", "no name"]]), "{summary}");
        assert_eq!(summary["organisations"], 3, "{summary}");
        // Placed: the one with coordinates and the one with only a postcode.
        assert_eq!(summary["without_location"], 4, "{summary}");
        assert!(summary["retried_requests"].as_u64() >= Some(1), "{summary}");
        // Page 2 failed once and was asked again; nothing was asked after the last page.
        assert_eq!(feed.requests(), BTreeMap::from([(1, 1), (2, 2), (3, 1)]));
        assert!(feed.per_page_asked.lock().unwrap().iter().all(|n| *n == 3));
        let first = stored(&app, &feed_name);
        assert_eq!(
            first,
            Stored { services: 6, organisations: 3, services_with_their_organisation: 6, price_options: 1 }
        );

        // Found by words, including words that were inside the HTML.
        let play = find(&app, "play scheme", "Saturday Play Scheme").await;
        let walk = find(&app, "walking", "Kirton Lindsey Walking Group").await;
        let youth = find(&app, "teenagers snacks", "Brumby Youth Drop-in").await;
        let art = find(&app, "art", "Ashby Art Sessions").await;
        let swim = find(&app, "swim", "Wimbledon Swim Squad").await;
        let coffee = find(&app, "coffee", "Parent Carer Coffee Mornings").await;
        let everything = search(&app, &[("per_page", "100")]).await;
        assert_eq!(everything["total"], 6, "the nameless record is not there: {everything}");

        // Near Scunthorpe: the located service, with its distance; nothing from Wimbledon.
        let near = search(&app, &[("postcode", "DN15 6AA"), ("radius_miles", "2")]).await;
        assert_eq!(near["total"], 1, "{near}");
        let there = hit(&near, "Saturday Play Scheme").expect("the play scheme is near DN15 6AA");
        let miles = there["distance_miles"].as_f64().expect("a distance");
        assert!(miles < 2.0, "{there}");
        let shown = service(&app, &play).await;
        assert_eq!(shown["location"]["postcode"], "DN15 6AA", "{shown}");
        assert_eq!(shown["location"]["lat"].as_f64(), Some(53.61), "{shown}");
        assert_eq!(shown["location"]["lon"].as_f64(), Some(-0.65), "{shown}");
        assert_eq!(shown["location"]["address"], "Baths Hall, Doncaster Road, Scunthorpe", "{shown}");
        assert_eq!(shown["organisation"]["name"], "Scunthorpe Play Association", "{shown}");

        // Only a postcode: placed by its district, and found from there.
        let sw19 = search(&app, &[("postcode", "SW19 2HR"), ("radius_miles", "3")]).await;
        assert_eq!(sw19["total"], 1, "{sw19}");
        assert!(hit(&sw19, "Wimbledon Swim Squad").is_some(), "{sw19}");
        let shown = service(&app, &swim).await;
        assert_eq!(shown["location"]["postcode"], "SW19 2HR", "{shown}");
        let centre = localoffer::domain::geo::OutcodeTable::builtin().unwrap().centroid("SW19").unwrap();
        let placed = localoffer::domain::geo::Coordinates {
            lat: shown["location"]["lat"].as_f64().expect("lat"),
            lon: shown["location"]["lon"].as_f64().expect("lon"),
        };
        assert!(placed.miles_to(centre) < 3.0, "{shown}");

        // The cost and the ages, as the feed gave them.
        let shown = service(&app, &art).await;
        assert_eq!(
            shown["price_options"].as_array().expect("price options").len(),
            1,
            "{shown}"
        );
        assert_eq!(shown["price_options"][0]["label"], "Term-time session", "{shown}");
        assert_eq!(shown["price_options"][0]["unit"], "session", "{shown}");
        assert_eq!(shown["price_options"][0]["price"], "12.50", "{shown}");
        assert_eq!((shown["min_age"].as_i64(), shown["max_age"].as_i64()), (Some(5), Some(18)), "{shown}");
        assert_eq!(shown["location"], Value::Null, "{shown}");
        let for_four = search(&app, &[("q", "art"), ("age", "4")]).await;
        assert!(hit(&for_four, "Ashby Art Sessions").is_none(), "{for_four}");

        // HTML became text.
        let shown = service(&app, &youth).await;
        let description = shown["description"].as_str().expect("description");
        assert_plain_text("Brumby Youth Drop-in", description);
        assert!(description.starts_with("Games & snacks for teenagers."), "{description:?}");
        assert!(description.contains("\nFree\nConfidential"), "{description:?}");

        // Terms matched to ours: by our id, and by a label or synonym ("Respite").
        let shown = service(&app, &coffee).await;
        assert_eq!(shown["outcomes"], json!(["family-carer-break", "pfa-friends-community"]), "{shown}");
        assert_eq!(shown["service_types"], json!(["st-short-break"]), "{shown}");
        let by_outcome = search(&app, &[("outcome", "pfa-friends-community")]).await;
        assert_eq!(by_outcome["total"], 1, "{by_outcome}");
        assert!(hit(&by_outcome, "Parent Carer Coffee Mornings").is_some(), "{by_outcome}");

        // The directory corrects two records and publishes again: every record is updated in place,
        // nothing is new, no price is doubled, and search shows the corrections.
        {
            let mut records = feed.records.lock().unwrap();
            records[3]["cost_options"][0]["amount"] = json!("14.00");
            records[6]["name"] = json!("Kirton Lindsey Rambling Group");
        }
        let (summary, _) = import(&app, &[&source, "--per-page", "3", "--delay-ms", "10"]);
        assert_eq!(summary["created"], 0, "{summary}");
        assert_eq!(summary["updated"], 2, "only the two corrected records are rewritten: {summary}");
        assert_eq!(summary["unchanged"], 4, "{summary}");
        assert_eq!(summary["skipped"], 1, "{summary}");
        assert_eq!(summary["retried_requests"], 0, "{summary}");
        assert_eq!(feed.requests(), BTreeMap::from([(1, 2), (2, 3), (3, 2)]));
        assert_eq!(stored(&app, &feed_name), first);
        let shown = service(&app, &art).await;
        assert_eq!(shown["price_options"].as_array().map(Vec::len), Some(1), "{shown}");
        assert_eq!(shown["price_options"][0]["price"], "14.00", "{shown}");
        let renamed = find(&app, "rambling", "Kirton Lindsey Rambling Group").await;
        assert_eq!(renamed["service_id"], walk["service_id"], "renamed in place");
        let walking = search(&app, &[("q", "walking")]).await;
        assert!(hit(&walking, "Kirton Lindsey Walking Group").is_none(), "{walking}");
        assert_eq!(
            service(&app, &renamed).await["organisation"]["name"],
            "Scunthorpe Play Association"
        );
        assert_eq!(search(&app, &[("per_page", "100")]).await["total"], 6);
    }

    #[tokio::test]
    async fn a_feed_that_keeps_failing_stops_with_the_reason_and_leaves_what_went_in_whole() {
        let down = Arc::new(Feed::new(north_lincolnshire_v3()));
        down.broken.store(true, Ordering::SeqCst);
        // Page 1 answers; from page 2 on, the feed's server is down until the test mends it.
        let flaky = Arc::new(Feed { broken_from: 2, ..Feed::new(north_lincolnshire_v3()) });
        flaky.broken.store(true, Ordering::SeqCst);
        let base = serve(vec![("down", down.clone()), ("flaky", flaky.clone())]);
        let app = spawn().await;

        let source = format!("{base}/down");
        let started = Instant::now();
        let (stderr, summary) = import_fails(&app, &[&source, "--attempts", "2", "--delay-ms", "10"]);
        let summary = summary.expect("a summary of what went in: nothing");
        assert_eq!((summary["records"].as_u64(), summary["created"].as_u64()), (Some(0), Some(0)), "{summary}");
        assert!(stderr.contains("after 2 attempts"), "{stderr}");
        assert!(stderr.contains("page 1 answered 500"), "{stderr}");
        assert!(stderr.contains(&format!("{source}/services")), "{stderr}");
        assert_eq!(down.requests(), BTreeMap::from([(1, 2)]), "two attempts, then it gave up");
        assert!(started.elapsed() < Duration::from_secs(20));
        assert_eq!(all_services(&app), 0);
        assert_eq!(
            stored(&app, source.trim_start_matches("http://")),
            Stored { services: 0, organisations: 0, services_with_their_organisation: 0, price_options: 0 }
        );

        // Fails part-way: the first page's services are in, each one whole.
        let source = format!("{base}/flaky");
        let feed_name = source.trim_start_matches("http://").to_string();
        let (stderr, summary) = import_fails(&app, &[&source, "--per-page", "3", "--attempts", "2", "--delay-ms", "10"]);
        let summary = summary.expect("a summary of the first page");
        assert_eq!((summary["pages"].as_u64(), summary["created"].as_u64()), (Some(1), Some(2)), "{summary}");
        assert!(stderr.contains("stopped part-way"), "{stderr}");
        assert!(stderr.contains("after 2 attempts"), "{stderr}");
        assert!(stderr.contains("page 2 answered 500"), "{stderr}");
        assert_eq!(flaky.requests(), BTreeMap::from([(1, 1), (2, 2)]));
        assert_eq!(
            stored(&app, &feed_name),
            Stored { services: 2, organisations: 1, services_with_their_organisation: 2, price_options: 0 }
        );
        let play = find(&app, "play scheme", "Saturday Play Scheme").await;
        let shown = service(&app, &play).await;
        assert_eq!(shown["location"]["postcode"], "DN15 6AA", "{shown}");
        let swim = find(&app, "swim", "Wimbledon Swim Squad").await;
        assert_eq!(service(&app, &swim).await["location"]["postcode"], "SW19 2HR");
        eventually(&app, &[("per_page", "100")], Duration::from_secs(5), |v| v["total"] == 2).await;

        // The feed is mended: the next run brings the rest in without doubling the first page.
        flaky.broken.store(false, Ordering::SeqCst);
        let (summary, _) = import(&app, &[&source, "--per-page", "3", "--attempts", "2", "--delay-ms", "10"]);
        assert_eq!(summary["created"], 4, "{summary}");
        assert_eq!(summary["updated"], 0, "{summary}");
        assert_eq!(summary["unchanged"], 2, "the first page's services, as they were: {summary}");
        assert_eq!(summary["skipped_because"], json!({"no name": 1}), "{summary}");
        assert_eq!(
            stored(&app, &feed_name),
            Stored { services: 6, organisations: 3, services_with_their_organisation: 6, price_options: 1 }
        );
        let again = find(&app, "play scheme", "Saturday Play Scheme").await;
        assert_eq!(again["service_id"], play["service_id"]);
        eventually(&app, &[("per_page", "100")], Duration::from_secs(5), |v| v["total"] == 6).await;
    }

    #[tokio::test]
    async fn a_feed_listing_only_services_own_fields_is_completed_from_each_services_details() {
        let brief = Arc::new(Feed { brief: true, ..Feed::new(north_lincolnshire_v3()) });
        let base = serve(vec![("brief", brief.clone())]);
        let app = spawn().await;
        let (summary, _) = import(&app, &[&format!("{base}/brief"), "--per-page", "3", "--delay-ms", "0"]);
        assert_eq!(summary["created"], 6, "{summary}");
        assert_eq!(summary["fetched_details"], 7, "{summary}");
        assert_eq!(summary["skipped_because"], json!({"no name": 1}), "{summary}");
        assert_eq!(brief.detail_requests.lock().unwrap().len(), 7);
        let feed_name = format!("{base}/brief").trim_start_matches("http://").to_string();
        assert_eq!(
            stored(&app, &feed_name),
            Stored { services: 6, organisations: 3, services_with_their_organisation: 6, price_options: 1 }
        );
        let play = find(&app, "play scheme", "Saturday Play Scheme").await;
        assert_eq!(service(&app, &play).await["location"]["postcode"], "DN15 6AA");
    }

    #[tokio::test]
    async fn services_a_feed_no_longer_lists_leave_the_directory() {
        let app = spawn().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("services.json");
        let club = |id: &str, name: &str| json!({"id": id, "name": name, "status": "active",
            "description": "Weekly club", "organization": organisation("org-1", "Ashby Arts Trust")});
        std::fs::write(&file, json!([club("a", "Ashby Drama Club"), club("b", "Ashby Film Club")]).to_string()).unwrap();
        let path = file.to_str().unwrap();
        let (summary, _) = import(&app, &[path]);
        assert_eq!((summary["created"].as_u64(), summary["withdrawn"].as_u64()), (Some(2), Some(0)), "{summary}");
        find(&app, "film", "Ashby Film Club").await;

        // Next month the film club has closed: the feed no longer lists it.
        std::fs::write(&file, json!([club("a", "Ashby Drama Club")]).to_string()).unwrap();
        let (summary, _) = import(&app, &[path]);
        assert_eq!(summary["unchanged"], 1, "{summary}");
        assert_eq!(summary["withdrawn"], 1, "{summary}");
        eventually(&app, &[("q", "ashby")], Duration::from_secs(5), |v| {
            v["total"] == 1 && hit(v, "Ashby Drama Club").is_some()
        })
        .await;
        // It comes back if the feed lists it again.
        std::fs::write(&file, json!([club("a", "Ashby Drama Club"), club("b", "Ashby Film Club")]).to_string()).unwrap();
        let (summary, _) = import(&app, &[path]);
        assert_eq!((summary["updated"].as_u64(), summary["withdrawn"].as_u64()), (Some(1), Some(0)), "{summary}");
        find(&app, "film", "Ashby Film Club").await;
        // An empty feed is a fault upstream, not every club closing at once.
        std::fs::write(&file, "[]").unwrap();
        let (summary, _) = import(&app, &[path]);
        assert_eq!(summary["withdrawn"], 0, "{summary}");
        assert_eq!(search(&app, &[("q", "ashby")]).await["total"], 2);
    }

    #[tokio::test]
    async fn a_missing_file_a_file_that_is_not_json_and_json_without_services_are_refused() {
        let app = spawn().await;
        let dir = tempfile::tempdir().unwrap();

        let missing = dir.path().join("no-such-feed.json");
        let (stderr, summary) = import_fails(&app, &[missing.to_str().unwrap()]);
        assert!(summary.is_none(), "nothing was read, so nothing to sum up");
        assert!(stderr.contains("cannot read"), "{stderr}");
        assert!(stderr.contains("no-such-feed.json"), "{stderr}");

        let html = dir.path().join("services.json");
        std::fs::write(&html, "<!DOCTYPE html><html><body>Service temporarily unavailable</body></html>").unwrap();
        let (stderr, summary) = import_fails(&app, &[html.to_str().unwrap()]);
        assert!(summary.is_none());
        assert!(stderr.contains("services.json is not JSON"), "{stderr}");

        let object = dir.path().join("organisations.json");
        std::fs::write(&object, r#"{"organizations": [{"id": "org-1", "name": "Play Trust"}], "total_pages": 1}"#).unwrap();
        let (stderr, summary) = import_fails(&app, &[object.to_str().unwrap()]);
        assert!(summary.is_none());
        assert!(stderr.contains("organisations.json"), "{stderr}");
        assert!(stderr.contains("has no `contents` (ORUK 3.0) or `content` (ORUK 1.0) list of services"), "{stderr}");

        let neither = dir.path().join("number.json");
        std::fs::write(&neither, "42").unwrap();
        let (stderr, summary) = import_fails(&app, &[neither.to_str().unwrap()]);
        assert!(summary.is_none());
        assert!(stderr.contains("number.json is neither a list of services nor a page of them"), "{stderr}");

        assert_eq!(all_services(&app), 0);
        let orgs: i64 = app.db().read(|conn| Ok(organisations::table.count().get_result(conn)?)).unwrap();
        assert_eq!(orgs, 0);
        assert_eq!(search(&app, &[]).await["total"], 0);
    }
}

mod repeats_and_ages {
    use super::*;

    both_backends! {
        #[tokio::test]
        async fn a_repeated_id_loses_nothing_and_ages_a_feed_never_gave_are_not_stated() {
            let app = spawn().await;
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("services.json");
            let club = |id: &str, name: &str| json!({"id": id, "name": name, "status": "active",
                "description": "Weekly club", "organization": organisation("org-1", "Ashby Arts Trust")});
            let mut aged = club("c", "Ashby Youth Theatre");
            aged["eligibilitys"] = json!([{"id": "e1", "minimum_age": 11, "maximum_age": 18}]);
            let records = json!([club("a", "Ashby Drama Club"), club("a", "Ashby Drama Club"), club("a", "Ashby Film Club"), aged]);
            std::fs::write(&file, records.to_string()).unwrap();
            let path = file.to_str().unwrap();
            let (summary, _) = import(&app, &[path]);
            assert_eq!((summary["created"].as_u64(), summary["repeated"].as_u64()), (Some(3), Some(2)), "{summary}");
            let said: Vec<String> = summary["repeated_examples"].as_array().unwrap().iter().map(|e| e[1].as_str().unwrap().to_string()).collect();
            assert_eq!(said, ["the same record again: read once", "a different record: kept apart as a#2"], "{summary}");
            let drama = find(&app, "drama", "Ashby Drama Club").await;
            find(&app, "film", "Ashby Film Club").await;
            // A second run finds each where it was: nothing overwritten, nothing withdrawn.
            let (again, _) = import(&app, &[path]);
            assert_eq!((again["unchanged"].as_u64(), again["withdrawn"].as_u64(), again["created"].as_u64()), (Some(3), Some(0), Some(0)), "{again}");

            // No ages in the feed: "not stated", in the API, on the page and in the published feed.
            assert_eq!(drama["ages_stated"], false, "{drama}");
            let shown = service(&app, &drama).await;
            assert_eq!(shown["ages_stated"], false, "{shown}");
            let page = app.client.get(format!("{}/services/{}", app.base, drama["service_id"])).send().await.unwrap().text().await.unwrap();
            assert!(page.contains("Ages not stated") && !page.contains("Ages 0 to 25"), "{page}");
            let theatre = find(&app, "theatre", "Ashby Youth Theatre").await;
            assert_eq!((theatre["ages_stated"].as_bool(), theatre["min_age"].as_i64()), (Some(true), Some(11)), "{theatre}");
            let feed: Value = app.client.get(format!("{}/oruk/services?per_page=50", app.base)).send().await.unwrap().json().await.unwrap();
            let published = feed["contents"].as_array().unwrap().iter().find(|s| s["name"] == "Ashby Drama Club").cloned().expect("published");
            assert!(published.get("minimum_age").is_none() && published.get("maximum_age").is_none(), "{published}");
        }
    }
}
