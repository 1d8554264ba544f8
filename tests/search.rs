//! Outcome-driven, location-aware search and plan matching, through the real server and index.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::*;
use localoffer::domain::geo::Coordinates;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ORIGIN: Coordinates = Coordinates { lat: 51.5, lon: -0.1 };

/// A point `miles` due north of the origin (exact, by bisection on the haversine distance).
fn north(miles: f64) -> Coordinates {
    let (mut lo, mut hi) = (0.0, 5.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if ORIGIN.miles_to(Coordinates {
            lat: ORIGIN.lat + mid,
            lon: ORIGIN.lon,
        }) < miles
        {
            lo = mid
        } else {
            hi = mid
        }
    }
    Coordinates {
        lat: ORIGIN.lat + lo,
        lon: ORIGIN.lon,
    }
}

fn service(name: &str, description: &str, outcomes: &[&str], types: &[&str], at: Coordinates) -> Value {
    let mut s = saturday_club();
    s["name"] = json!(name);
    s["description"] = json!(description);
    s["outcomes"] = json!(outcomes);
    s["service_types"] = json!(types);
    s["needs"] = json!([]);
    s["location"] = json!({"lat": at.lat, "lon": at.lon});
    s["reach_miles"] = Value::Null;
    s
}

async fn search(app: &TestApp, query: &str) -> Value {
    expect(app.get(&format!("/search?{query}"), None).await, StatusCode::OK).await
}

fn names(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// Poll a search until `check` holds (the index must follow within a second).
async fn eventually(app: &TestApp, query: &str, check: impl Fn(&Value) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let v = search(app, query).await;
        if check(&v) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "not fresh within a second: {v}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn provider_with(app: &TestApp, services: &[Value]) -> (String, Vec<Value>) {
    let (_, token) = app.provider("Wandle Club", "staff@wandle.example").await;
    let mut created = Vec::new();
    for s in services {
        created.push(app.service(&token, s).await);
    }
    (token, created)
}

async fn settle(app: &TestApp, expected_total: u64) {
    eventually(app, "per_page=1", |v| v["total"] == expected_total).await;
}

both_backends! {
    #[tokio::test]
    async fn outcome_queries_rank_services_that_meet_the_outcome_above_those_that_mention_a_word() {
        let app = spawn().await;
        let here = north(1.0);
        provider_with(
            &app,
            &[
                service(
                    "Saturday Club",
                    "Games, cooking and trips.",
                    &["pfa-friends-community"],
                    &["st-short-break-day"],
                    here,
                ),
                service(
                    "Homework help",
                    "Tuition after school; pupils often come with friends.",
                    &["ecm-enjoy-achieve-learning"],
                    &["st-tuition"],
                    here,
                ),
                service(
                    "Swimming",
                    "Lessons in a quiet pool.",
                    &["ecm-be-healthy-physical-activity"],
                    &["st-sport"],
                    here,
                ),
            ],
        )
        .await;
        settle(&app, 3).await;
        // By outcome: only the service that meets it, and it says so.
        let by_outcome = search(&app, "outcome=pfa-friends-community").await;
        assert_eq!(names(&by_outcome), ["Saturday Club"]);
        assert_eq!(
            by_outcome["results"][0]["outcomes_matched"],
            json!(["pfa-friends-community"])
        );
        // A broader outcome finds services tagged with a narrower one.
        let broad = search(&app, "outcome=ecm-be-healthy").await;
        assert_eq!(names(&broad), ["Swimming"]);
        assert_eq!(broad["results"][0]["outcomes_matched"], json!(["ecm-be-healthy"]));
        // By words: the service whose outcome is about friends outranks one that only mentions them.
        let by_words = search(&app, "q=make%20friends").await;
        assert_eq!(names(&by_words)[..2], ["Saturday Club", "Homework help"]);
        assert!(by_words["results"][0]["score"].as_f64() > by_words["results"][1]["score"].as_f64());
        // Facets count every matching service per outcome (with ancestors) and service type.
        let all = search(&app, "").await;
        assert_eq!(all["total"], 3);
        assert_eq!(all["facets"]["outcomes"]["pfa-friends-community"], 1);
        assert_eq!(all["facets"]["outcomes"]["ecm"], 2);
        assert_eq!(all["facets"]["service_types"]["st-tuition"], 1);
    }

    #[tokio::test]
    async fn synonyms_and_typos_find_what_families_mean() {
        let app = spawn().await;
        let here = north(1.0);
        provider_with(
            &app,
            &[
                service(
                    "Haydons House",
                    "Stays at our house with trained staff.",
                    &["family-carer-break"],
                    &["st-short-break-overnight"],
                    here,
                ),
                service(
                    "Talking Together",
                    "A small group at the clinic.",
                    &["ecm-enjoy-achieve-communication"],
                    &["st-salt"],
                    here,
                ),
                service(
                    "Football",
                    "Kick about on Saturdays.",
                    &["ecm-be-healthy"],
                    &["st-sport"],
                    here,
                ),
            ],
        )
        .await;
        settle(&app, 3).await;
        assert_eq!(names(&search(&app, "q=respite").await), ["Haydons House"]);
        assert_eq!(names(&search(&app, "q=speech%20therapy").await)[0], "Talking Together");
        assert_eq!(names(&search(&app, "q=SALT").await), ["Talking Together"]);
        assert_eq!(
            names(&search(&app, "q=sppech").await),
            ["Talking Together"],
            "one typo is forgiven"
        );
        assert_eq!(names(&search(&app, "q=footbal").await), ["Football"]);
        assert_eq!(search(&app, "q=zzqxj").await["total"], 0);
    }

    #[tokio::test]
    async fn the_radius_is_exact_and_distance_ordering_is_right() {
        let app = spawn().await;
        let miles = [0.5, 1.9, 1.99, 2.01, 3.0, 10.0];
        let services: Vec<Value> = miles
            .iter()
            .map(|m| {
                service(
                    &format!("At {m} miles"),
                    "A club.",
                    &["pfa-friends-community"],
                    &[],
                    north(*m),
                )
            })
            .collect();
        provider_with(&app, &services).await;
        settle(&app, miles.len() as u64).await;
        let near = search(
            &app,
            &format!("lat={}&lon={}&radius_miles=2&sort=distance", ORIGIN.lat, ORIGIN.lon),
        )
        .await;
        assert_eq!(names(&near), ["At 0.5 miles", "At 1.9 miles", "At 1.99 miles"]);
        assert_eq!(near["results"][2]["distance_miles"], 1.99);
        assert_eq!(near["total"], 3);
        // A bigger radius takes in the rest, nearest first.
        let wide = search(
            &app,
            &format!("lat={}&lon={}&radius_miles=20&sort=distance", ORIGIN.lat, ORIGIN.lon),
        )
        .await;
        assert_eq!(wide["total"], 6);
        let d: Vec<f64> = wide["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["distance_miles"].as_f64().unwrap())
            .collect();
        assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
        assert_eq!(d, miles);
        // A postcode works as the origin too, and the result says how far away each service is.
        let by_postcode = search(&app, "postcode=EC1A%201BB&radius_miles=200").await;
        assert!(by_postcode["results"][0]["distance_miles"].as_f64().unwrap() > 0.0);
    }

    #[tokio::test]
    async fn a_service_that_travels_is_found_by_families_within_its_reach() {
        let app = spawn().await;
        let mut travelling = service(
            "Home PA",
            "We come to you.",
            &["pfa-independent-living"],
            &["st-personal-assistant"],
            north(8.0),
        );
        travelling["reach_miles"] = json!(10);
        let mut short_reach = service(
            "Local PA",
            "We come to you nearby.",
            &["pfa-independent-living"],
            &["st-personal-assistant"],
            north(8.0),
        );
        short_reach["reach_miles"] = json!(5);
        let fixed = service(
            "Day centre",
            "Come to us.",
            &["pfa-independent-living"],
            &[],
            north(8.0),
        );
        provider_with(&app, &[travelling, short_reach, fixed]).await;
        settle(&app, 3).await;
        let found = search(&app, &format!("lat={}&lon={}&radius_miles=2", ORIGIN.lat, ORIGIN.lon)).await;
        assert_eq!(names(&found), ["Home PA"]);
        assert_eq!(found["results"][0]["distance_miles"], 8.0);
        assert_eq!(found["results"][0]["reach_miles"], 10.0);
    }

    #[tokio::test]
    async fn filters_age_stream_price_day_type_and_need() {
        let app = spawn().await;
        let here = north(0.5);
        let mut teens = service(
            "Teen club",
            "Evenings.",
            &["pfa-friends-community"],
            &["st-youth-club"],
            here,
        );
        teens["min_age"] = json!(13);
        teens["max_age"] = json!(19);
        teens["schedule"] = json!([{"day": "friday", "starts": "18:00", "ends": "21:00"}]);
        teens["price_options"] = json!([{"label": "Evening", "unit": "session", "price": "12.00"}]);
        teens["needs"] = json!(["need-autism"]);
        let mut therapy = service("Physio", "Clinic sessions.", &["pfa-good-health"], &["st-physio"], here);
        therapy["funding_streams"] = json!(["health"]);
        therapy["price_options"] = json!([{"label": "Hour", "unit": "hour", "price": "80.00"}, {"label": "Half hour", "unit": "session", "price": "45.00"}]);
        provider_with(&app, &[teens, therapy]).await;
        settle(&app, 2).await;
        assert_eq!(names(&search(&app, "age=8").await), ["Physio"]);
        assert_eq!(names(&search(&app, "age=15&stream=social_care").await), ["Teen club"]);
        assert_eq!(names(&search(&app, "stream=health").await), ["Physio"]);
        assert_eq!(names(&search(&app, "max_price=20.00").await), ["Teen club"]);
        assert_eq!(
            names(&search(&app, "max_price=45.00&sort=price").await),
            ["Teen club", "Physio"]
        );
        assert_eq!(search(&app, "stream=health").await["results"][0]["price_from"], "45.00");
        assert_eq!(names(&search(&app, "day=friday").await), ["Teen club"]);
        assert_eq!(search(&app, "day=monday").await["total"], 0);
        assert_eq!(
            names(&search(&app, "service_type=st-therapy").await),
            ["Physio"],
            "a parent type finds its children"
        );
        assert_eq!(
            names(&search(&app, "need=need-communication-interaction").await),
            ["Teen club"]
        );
        let paged = search(&app, "per_page=1&page=2&sort=price").await;
        assert_eq!(
            (paged["total"].as_u64(), paged["page"].as_u64(), names(&paged)),
            (Some(2), Some(2), vec!["Physio".to_string()])
        );
    }

    #[tokio::test]
    async fn edits_reach_search_within_a_second() {
        let app = spawn().await;
        let (token, created) = provider_with(
            &app,
            &[service(
                "Saturday Club",
                "Games.",
                &["pfa-friends-community"],
                &[],
                north(1.0),
            )],
        )
        .await;
        let id = created[0]["id"].as_i64().unwrap();
        let waited = eventually(&app, "q=saturday", |v| v["total"] == 1).await;
        assert!(waited < Duration::from_secs(1));
        // Re-priced and renamed.
        let mut edit = service("Sunday Club", "Games.", &["pfa-friends-community"], &[], north(1.0));
        edit["price_options"] =
            json!([{"id": created[0]["price_options"][0]["id"], "label": "Session", "unit": "session", "price": "30.00"}]);
        expect(
            app.put(&format!("/services/{id}"), Some(&token), &edit).await,
            StatusCode::OK,
        )
        .await;
        eventually(&app, "q=sunday", |v| {
            v["total"] == 1 && v["results"][0]["price_from"] == "30.00"
        })
        .await;
        assert_eq!(search(&app, "q=saturday").await["total"], 0);
        // Unpublished: gone; published again: back.
        app.post(&format!("/services/{id}/unpublish"), Some(&token), &json!({}))
            .await;
        eventually(&app, "q=sunday", |v| v["total"] == 0).await;
        app.post(&format!("/services/{id}/publish"), Some(&token), &json!({}))
            .await;
        eventually(&app, "q=sunday", |v| v["total"] == 1).await;
        // A draft is never searchable.
        let mut draft = service("Draft Club", "Not yet.", &["pfa-friends-community"], &[], north(1.0));
        draft["status"] = json!("draft");
        app.service(&token, &draft).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(search(&app, "q=draft").await["total"], 0);
    }

    #[tokio::test]
    async fn the_index_is_rebuilt_when_deleted_and_repaired_after_a_crash() {
        let app = spawn().await;
        let (token, _) = provider_with(
            &app,
            &[
                service("Saturday Club", "Games.", &["pfa-friends-community"], &[], north(1.0)),
                service("Swimming", "Pool.", &["ecm-be-healthy"], &[], north(2.0)),
            ],
        )
        .await;
        settle(&app, 2).await;
        let before = search(&app, "q=club").await;
        let dir = app.dir.path().to_path_buf();
        // Stop, delete the whole index, start again: rebuilt from the database.
        let app = app
            .restart_with(|| std::fs::remove_dir_all(dir.join("index")).unwrap())
            .await;
        assert_eq!(search(&app, "q=club").await["results"], before["results"]);
        assert_eq!(search(&app, "").await["total"], 2);

        // A crash between the database commit and the index commit: simulate it by changing the
        // database while no server runs. The next start applies the change log.
        let dir = app.dir.path().to_path_buf();
        let db_url = app.database_url();
        let app = app
            .restart_with(|| {
                let db = localoffer::DataDir(dir.clone()).open_db(db_url.as_deref()).unwrap();
                db.write(|conn| {
                    use diesel::RunQueryDsl;
                    diesel::sql_query("UPDATE services SET name = 'Renamed Club' WHERE name = 'Saturday Club'").execute(conn)?;
                    diesel::sql_query("INSERT INTO service_changes (service_id, changed_at) SELECT id, CURRENT_TIMESTAMP FROM services WHERE name = 'Renamed Club'").execute(conn)?;
                    Ok(())
                })
                .unwrap();
            })
            .await;
        assert_eq!(names(&search(&app, "q=renamed").await), ["Renamed Club"]);
        // A corrupt index is thrown away and rebuilt too.
        let dir = app.dir.path().to_path_buf();
        let app = app
            .restart_with(|| std::fs::write(dir.join("index/meta.json"), "not json").unwrap())
            .await;
        assert_eq!(search(&app, "").await["total"], 2);
        drop(token);
    }

    #[tokio::test]
    async fn bad_search_parameters_are_400s_naming_the_field() {
        let app = spawn().await;
        for (query, field) in [
            ("outcome=not-a-term", "outcome"),
            ("outcome=st-salt", "outcome"),
            ("service_type=pfa", "service_type"),
            ("postcode=NOT%20A%20POSTCODE", "postcode"),
            ("postcode=ZZ9", "postcode"),
            ("lat=abc&lon=1", "lat"),
            ("lat=51.5", "lon"),
            ("lat=51.5&lon=200", "lon"),
            ("postcode=SW19&lat=51&lon=0", "postcode"),
            ("radius_miles=5", "radius_miles"),
            ("postcode=SW19&radius_miles=0", "radius_miles"),
            ("postcode=SW19&radius_miles=lots", "radius_miles"),
            ("age=26", "age"),
            ("age=-1", "age"),
            ("stream=lottery", "stream"),
            ("max_price=-5.00", "max_price"),
            ("max_price=5.001", "max_price"),
            ("day=funday", "day"),
            ("sort=cheapest", "sort"),
            ("sort=distance", "sort"),
            ("page=0", "page"),
            ("per_page=1000", "per_page"),
            ("colour=blue", "colour"),
            ("available_from=2027-13-01", "available_from"),
            ("available_from=soon", "available_from"),
            ("available_from=2027-02-01&available_to=2027-01-31", "available_to"),
            ("available_from=2027-01-01&available_to=2028-06-01", "available_to"),
            ("available_to=2020-01-01", "available_to"),
        ] {
            let res = app.get(&format!("/search?{query}"), None).await;
            expect_error(res, StatusCode::BAD_REQUEST, "invalid_parameter", Some(field)).await;
        }
    }

    #[tokio::test]
    async fn searches_are_logged_without_personal_data() {
        let app = spawn().await;
        provider_with(
            &app,
            &[service(
                "Saturday Club",
                "Games.",
                &["pfa-friends-community"],
                &[],
                north(1.0),
            )],
        )
        .await;
        settle(&app, 1).await;
        search(&app, "outcome=pfa-employment&postcode=SW19%202HR&radius_miles=3").await;
        let db = app.db();
        let started = Instant::now();
        let rows = loop {
            let rows = db.read(|conn| localoffer::db::search_log::recent(conn, 10)).unwrap();
            if rows.iter().any(|r| r.1 == "pfa-employment") || started.elapsed() > Duration::from_secs(2) {
                break rows;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let row = rows.iter().find(|r| r.1 == "pfa-employment").expect("logged");
        assert_eq!(row.2.as_deref(), Some("SW19"), "the district, never the full postcode");
        assert_eq!(row.3, 0, "an unmet search is recorded as finding nothing");
    }

    #[tokio::test]
    async fn plan_matches_rank_services_meeting_more_outcomes_first() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        // The family lives in SW19 2HR; services are placed relative to the SW19 district centre.
        let home = localoffer::domain::geo::OutcodeTable::builtin()
            .unwrap()
            .centroid("SW19")
            .unwrap();
        let at = |north_miles: f64| Coordinates {
            lat: home.lat + north_miles / 69.0,
            lon: home.lon,
        };
        let both = service(
            "Friends and fitness club",
            "Sport and friendship.",
            &["pfa-friends-community", "ecm-be-healthy"],
            &[],
            at(1.0),
        );
        let friends = service(
            "Friendship group",
            "Meet people.",
            &["pfa-friends-community"],
            &[],
            at(0.5),
        );
        let far = service("Far away club", "Too far.", &["pfa-friends-community"], &[], at(30.0));
        let mut pricey = service(
            "Expensive club",
            "Costs too much.",
            &["pfa-friends-community"],
            &[],
            at(0.5),
        );
        pricey["price_options"] = json!([{"label": "Session", "unit": "session", "price": "900.00"}]);
        let mut toddlers = service("Toddler club", "Under fives.", &["pfa-friends-community"], &[], at(0.5));
        toddlers["min_age"] = json!(0);
        toddlers["max_age"] = json!(4);
        let mut health_only = service(
            "Health funded club",
            "NHS only.",
            &["pfa-friends-community"],
            &[],
            at(0.5),
        );
        health_only["funding_streams"] = json!(["health"]);
        let swim = service("Swimming", "Pool.", &["ecm-be-healthy"], &[], at(2.0));
        provider_with(&app, &[both, friends, far, pricey, toddlers, health_only, swim]).await;
        settle(&app, 7).await;
        let mut plan = sam("EHC-0001", "parent@family.example", "500.00");
        plan["outcomes"] = json!([
            {"text": "To make friends outside school", "terms": ["pfa-friends-community"]},
            {"text": "To be more active", "terms": ["ecm-be-healthy"]}
        ]);
        let holder = app.holder(&council, &plan).await;
        let family = app.login("parent@family.example", PASSWORD).await;
        let m = expect(
            app.get(&format!("/budget-holders/{}/matches", holder["id"]), Some(&family))
                .await,
            StatusCode::OK,
        )
        .await;
        let outcomes = m["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len(), 2);
        assert_eq!(outcomes[0]["text"], "To make friends outside school");
        // Meeting both of the plan's outcomes beats being nearer; too far, too dear, wrong age and
        // the wrong funding stream are left out.
        assert_eq!(
            names(&json!({"results": outcomes[0]["services"]})),
            ["Friends and fitness club", "Friendship group"]
        );
        assert_eq!(
            outcomes[0]["services"][0]["outcomes_matched"],
            json!(["ecm-be-healthy", "pfa-friends-community"])
        );
        assert_eq!(
            names(&json!({"results": outcomes[1]["services"]})),
            ["Friends and fitness club", "Swimming"]
        );
        // Only the plan's family (or broker, or council) may ask.
        let (_, other) = app.provider("Other", "staff@other.example").await;
        expect_error(
            app.get(&format!("/budget-holders/{}/matches", holder["id"]), Some(&other))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        )
        .await;
        expect_error(
            app.get(
                &format!("/budget-holders/{}/matches?radius_miles=-1", holder["id"]),
                Some(&family),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            Some("radius_miles"),
        )
        .await;
        // Once the allocation cannot afford a single session, nothing matches.
        let option = outcomes[0]["services"][0]["service_id"].as_i64().unwrap();
        let svc = expect(app.get(&format!("/services/{option}"), None).await, StatusCode::OK).await;
        expect(
            app.book(&family, &holder, 0, option_id(&svc, 0), 11).await,
            StatusCode::CREATED,
        )
        .await;
        let m = expect(
            app.get(&format!("/budget-holders/{}/matches", holder["id"]), Some(&family))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            m["outcomes"][0]["services"].as_array().unwrap().len(),
            0,
            "5.00 left buys nothing at 45.00"
        );
    }

    #[tokio::test]
    async fn a_specific_outcome_finds_services_claiming_its_broader_parent_ranked_below_exact_ones() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let home = localoffer::domain::geo::OutcodeTable::builtin().unwrap().centroid("SW19").unwrap();
        let at = |north_miles: f64| Coordinates { lat: home.lat + north_miles / 69.0, lon: home.lon };
        provider_with(
            &app,
            &[
                service("Community club", "Out and about locally.", &["pfa-friends-community"], &[], at(0.5)),
                service("Friendship group", "Meet people your age.", &["pfa-friends-community-friendships"], &[], at(3.0)),
                service("Chess club", "Chess.", &["ecm-enjoy-achieve-learning"], &[], at(0.5)),
            ],
        )
        .await;
        settle(&app, 3).await;
        // Searching for the specific outcome: the exact service first though further away.
        let found = search(&app, "outcome=pfa-friends-community-friendships").await;
        assert_eq!(names(&found), ["Friendship group", "Community club"]);
        assert_eq!(found["results"][0]["outcomes_matched"], json!(["pfa-friends-community-friendships"]));
        assert_eq!(found["results"][1]["outcomes_matched"], json!([]));
        assert_eq!(found["results"][1]["outcomes_matched_broadly"], json!(["pfa-friends-community-friendships"]));
        // A plan's matches for it: the same, and the page says which is the broader match.
        let mut plan = sam("EHC-0001", "parent@family.example", "500.00");
        plan["outcomes"] = json!([{"text": "To make and keep a friend", "terms": ["pfa-friends-community-friendships"]}]);
        let holder = app.holder(&council, &plan).await;
        let family = app.login("parent@family.example", PASSWORD).await;
        let m = expect(app.get(&format!("/budget-holders/{}/matches", holder["id"]), Some(&family)).await, StatusCode::OK).await;
        assert_eq!(names(&json!({"results": m["outcomes"][0]["services"]})), ["Friendship group", "Community club"]);
    }

    #[tokio::test]
    async fn long_natural_questions_find_the_demo_services_they_are_about() {
        let app = spawn_with(tempfile::tempdir().unwrap(), fresh_database(), |s| s.demo = true).await;
        let top = |v: &Value, n: usize| names(v).into_iter().take(n).collect::<Vec<_>>();
        // Someone to look after the child while the parent works: a personal assistant or a sitter,
        // not the child's own job coaching.
        let v = search(&app, "q=someone%20to%20look%20after%20my%20son%20so%20I%20can%20go%20to%20work").await;
        let first = top(&v, 3);
        assert!(first.contains(&"Personal assistant in the community".to_string()), "{first:?}");
        assert!(first.contains(&"Sitting service".to_string()), "{first:?}");
        assert!(!top(&v, 10).iter().any(|n| n == "Job coaching"), "{:?}", top(&v, 10));
        // A carer to take a child out: personal assistants first.
        let v = search(&app, "q=carer%20to%20take%20my%20daughter%20out").await;
        assert!(top(&v, 1)[0].starts_with("Personal assistant"), "{:?}", top(&v, 5));
        assert_eq!(top(&v, 3).iter().filter(|n| n.starts_with("Personal assistant")).count(), 2, "{:?}", top(&v, 5));
        // One word: services about work.
        let v = search(&app, "q=job").await;
        let mut first = top(&v, 3);
        first.sort();
        assert_eq!(first, ["Job coaching", "Supported internship", "Work experience and volunteering"], "{:?}", names(&v));
        // Words that are all stop words can only be a name, and are looked for in names only:
        // not every service, as an empty question would give.
        let all = search(&app, "").await;
        let few = search(&app, "q=what%20can%20I%20do").await;
        assert!(few["total"].as_i64() < all["total"].as_i64(), "{few}");
    }

    #[tokio::test]
    async fn respite_finds_a_service_whose_text_says_respite_though_it_names_no_term() {
        let app = spawn().await;
        let here = north(1.0);
        provider_with(
            &app,
            &[
                service("Lindsey Lodge", "A nurse-led respite bed for a night or a weekend.", &["ecm-be-healthy-sleep"], &[], here),
                service("Chess club", "Chess for beginners.", &["ecm-enjoy-achieve-learning"], &[], here),
            ],
        )
        .await;
        settle(&app, 2).await;
        assert_eq!(names(&search(&app, "q=respite").await), ["Lindsey Lodge"]);
        assert_eq!(names(&search(&app, "q=I%20need%20some%20respite%20for%20my%20son").await), ["Lindsey Lodge"]);
    }

    #[tokio::test]
    async fn services_can_be_placed_by_postcode_alone() {
        let app = spawn().await;
        let mut s = service("Postcode club", "Games.", &["pfa-friends-community"], &[], north(1.0));
        s["location"] = json!({"postcode": "CR4 3AA"});
        let (token, created) = provider_with(&app, &[s]).await;
        let cr4 = localoffer::domain::geo::OutcodeTable::builtin()
            .unwrap()
            .centroid("CR4")
            .unwrap();
        assert!((created[0]["location"]["lat"].as_f64().unwrap() - cr4.lat).abs() < 1e-9);
        let mut nowhere = service("Nowhere", "x", &["pfa-friends-community"], &[], north(1.0));
        nowhere["location"] = json!({"postcode": "not one"});
        expect_error(
            app.post("/services", Some(&token), &nowhere).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("location.postcode"),
        )
        .await;
        nowhere["location"] = json!({});
        expect_error(
            app.post("/services", Some(&token), &nowhere).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("location.lat"),
        )
        .await;
    }

    #[tokio::test]
    async fn reindex_rebuilds_from_the_database() {
        let app = spawn().await;
        provider_with(
            &app,
            &[service(
                "Saturday Club",
                "Games.",
                &["pfa-friends-community"],
                &[],
                north(1.0),
            )],
        )
        .await;
        settle(&app, 1).await;
        let dir = app.dir.path().to_path_buf();
        let db_url = app.database_url();
        let app = app
            .restart_with(|| {
                std::fs::remove_dir_all(dir.join("index")).unwrap();
                let mut reindex = std::process::Command::new(env!("CARGO_BIN_EXE_localoffer"));
                reindex.args(["reindex", "--data-dir"]).arg(&dir);
                if let Some(url) = &db_url {
                    reindex.arg("--database-url").arg(url);
                }
                let out = reindex.output().unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                assert!(String::from_utf8_lossy(&out.stdout).contains("indexed 1 published services"));
            })
            .await;
        assert_eq!(names(&search(&app, "q=saturday").await), ["Saturday Club"]);
    }
}
