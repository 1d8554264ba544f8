//! A plan records the child's needs; its matches prefer services for them and leave out services
//! only for needs the child does not have. Through the real server, index and demo data.

#[macro_use]
mod common;

use common::*;
use localoffer::domain::geo::Coordinates;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A service `north_miles` north of the SW19 district centre (where the test family lives).
fn club(name: &str, needs: &[&str], north_miles: f64) -> Value {
    let home = localoffer::domain::geo::OutcodeTable::builtin()
        .unwrap()
        .centroid("SW19")
        .unwrap();
    let at = Coordinates {
        lat: home.lat + north_miles / 69.0,
        lon: home.lon,
    };
    let mut s = saturday_club();
    s["name"] = json!(name);
    s["needs"] = json!(needs);
    s["location"] = json!({"lat": at.lat, "lon": at.lon});
    s["reach_miles"] = Value::Null;
    s
}

fn names(services: &Value) -> Vec<String> {
    services
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

async fn matches(app: &TestApp, token: &str, holder: &Value) -> Value {
    let path = format!("/budget-holders/{}/matches", holder["id"]);
    expect(app.get(&path, Some(token)).await, StatusCode::OK).await
}

both_backends! {
    #[tokio::test]
    async fn a_plan_stores_and_returns_the_childs_needs_and_refuses_unknown_ones() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        // Needs are optional: a plan without them has none.
        let plain = app.holder(&council, &sam("EHC-0001", "one@family.example", "500.00")).await;
        assert_eq!(plain["needs"], json!([]));
        let mut plan = sam("EHC-0002", "two@family.example", "500.00");
        plan["needs"] = json!(["need-autism", "need-anxiety", "need-autism"]);
        let created = app.holder(&council, &plan).await;
        assert_eq!(created["needs"], json!(["need-anxiety", "need-autism"]));
        let family = app.login("two@family.example", PASSWORD).await;
        let seen = expect(app.get(&format!("/budget-holders/{}", created["id"]), Some(&family)).await, StatusCode::OK).await;
        assert_eq!(seen["needs"], json!(["need-anxiety", "need-autism"]));
        // An unknown term, or a term of another vocabulary, is named by its place in the list.
        for (needs, field) in [
            (json!(["need-autism", "need-made-up"]), "needs[1]"),
            (json!(["pfa-employment"]), "needs[0]"),
        ] {
            let mut bad = sam("EHC-0003", "three@family.example", "500.00");
            bad["needs"] = needs;
            expect_error(app.post("/budget-holders", Some(&council), &bad).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(field)).await;
        }
        let list = expect(app.get("/budget-holders", Some(&council)).await, StatusCode::OK).await;
        assert_eq!(list["budget_holders"].as_array().unwrap().len(), 2, "nothing stored by a refused plan");
    }

    #[tokio::test]
    async fn matches_prefer_services_for_the_childs_needs_and_leave_out_those_for_other_needs() {
        let app = spawn().await;
        let council = app.council("Merton", "officer@merton.example").await;
        let (_, provider) = app.provider("Wandle Club", "staff@wandle.example").await;
        for s in [
            club("Deaf youth club", &["need-hearing-impairment"], 0.5),
            club("Open club", &[], 0.5),
            club("Autism social club", &["need-autism"], 2.0),
            club("Communication club", &["need-communication-interaction"], 3.0),
            club("Sensory and physical club", &["need-sensory-physical"], 0.5),
        ] {
            app.service(&provider, &s).await;
        }
        let mut autistic = sam("EHC-0001", "one@family.example", "500.00");
        autistic["needs"] = json!(["need-autism"]);
        let autistic = app.holder(&council, &autistic).await;
        let unrecorded = app.holder(&council, &sam("EHC-0002", "two@family.example", "500.00")).await;
        let one = app.login("one@family.example", PASSWORD).await;
        let two = app.login("two@family.example", PASSWORD).await;
        // The index follows the new services within a moment.
        let mut everything = Vec::new();
        for _ in 0..100 {
            everything = names(&matches(&app, &two, &unrecorded).await["outcomes"][0]["services"]);
            if everything.len() == 5 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // With no needs recorded, nothing is left out.
        everything.sort();
        assert_eq!(everything, ["Autism social club", "Communication club", "Deaf youth club", "Open club", "Sensory and physical club"]);
        // For a child with autism: services for autism (or its broad area) first though further
        // away, then the service for everyone; services only for other needs are left out.
        let m = matches(&app, &one, &autistic).await;
        assert_eq!(names(&m["outcomes"][0]["services"]), ["Autism social club", "Communication club", "Open club"]);
    }

    #[tokio::test]
    async fn demo_children_are_not_offered_services_only_for_needs_they_do_not_have() {
        let app = spawn_with(tempfile::tempdir().unwrap(), fresh_database(), |s| s.demo = true).await;
        let family = app.login("family4@demo.example", "demo-family-pass").await;
        let list = expect(app.get("/budget-holders", Some(&family)).await, StatusCode::OK).await;
        let jayden = &list["budget_holders"][0];
        assert_eq!(jayden["first_name"], "Jayden");
        assert_eq!(jayden["needs"], json!(["need-anxiety", "need-autism"]));
        let m = matches(&app, &family, jayden).await;
        let offered: Vec<String> = m["outcomes"].as_array().unwrap().iter().flat_map(|o| names(&o["services"])).collect();
        assert!(!offered.is_empty(), "{m}");
        for other_needs in ["Deaf youth club", "Braille and assistive technology tuition", "Teacher of the deaf tuition", "VI activity Saturdays"] {
            assert!(!offered.iter().any(|n| n == other_needs), "{other_needs} offered to Jayden: {offered:?}");
        }
        // His friendships outcome still finds clubs, those for autism among them.
        let friends = m["outcomes"].as_array().unwrap().iter().find(|o| o["terms"] == json!(["pfa-friends-community-friendships"])).unwrap();
        assert!(names(&friends["services"]).iter().any(|n| n == "Teen Social Club"), "{friends}");
    }
}
