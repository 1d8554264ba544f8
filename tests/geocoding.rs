//! Postcodes: an online postcodes.io-compatible service when configured, the shipped district
//! table when it is not, or when it fails.

#[macro_use]
mod common;

use actix_web::{App, HttpResponse, HttpServer, web};
use common::*;
use reqwest::StatusCode;
use serde_json::json;

/// A postcodes.io-shaped service on a free port: knows SW19 2HR, fails for CR4 3AA, 404 otherwise.
async fn postcode_service() -> String {
    let server = HttpServer::new(|| {
        App::new().route(
            "/postcodes/{postcode}",
            web::get().to(|path: web::Path<String>| async move {
                match path.as_str() {
                    "SW19 2HR" => HttpResponse::Ok().json(json!({"status": 200, "result": {"postcode": "SW19 2HR", "latitude": 51.41, "longitude": -0.19}})),
                    "CR4 3AA" => HttpResponse::InternalServerError().finish(),
                    _ => HttpResponse::NotFound().json(json!({"status": 404, "error": "Postcode not found"})),
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    format!("http://127.0.0.1:{port}")
}

both_backends! {
    #[tokio::test]
    async fn full_postcodes_use_the_online_service_and_fall_back_to_districts() {
        let url = postcode_service().await;
        let app = spawn_with(tempfile::tempdir().unwrap(), fresh_database(), |s| s.postcodes_url = Some(url)).await;
        let (_, token) = app.provider("Wandle Club", "staff@wandle.example").await;
        let mut club = saturday_club();
        club["location"] = json!({"postcode": "sw19 2hr"});
        club["reach_miles"] = serde_json::Value::Null;
        let exact = app.service(&token, &club).await;
        assert_eq!(
            (exact["location"]["lat"].as_f64(), exact["location"]["lon"].as_f64()),
            (Some(51.41), Some(-0.19))
        );
        // The service fails: the district's centre is used instead, and nothing breaks.
        club["location"] = json!({"postcode": "CR4 3AA"});
        let fallback = app.service(&token, &club).await;
        let cr4 = localoffer::domain::geo::OutcodeTable::builtin()
            .unwrap()
            .centroid("CR4")
            .unwrap();
        assert_eq!(fallback["location"]["lat"].as_f64(), Some(cr4.lat));
        // Unknown to the service: the district table again.
        club["location"] = json!({"postcode": "SM4 5DX"});
        let sm4 = app.service(&token, &club).await;
        assert!(sm4["location"]["lat"].as_f64().unwrap() > 51.3);
        // A search from the exact postcode measures from the exact point.
        let started = std::time::Instant::now();
        loop {
            let found = expect(
                app.get("/search?postcode=SW19%202HR&radius_miles=0.1", None).await,
                StatusCode::OK,
            )
            .await;
            if found["total"] == 1 {
                assert_eq!(found["results"][0]["distance_miles"], 0.0);
                break;
            }
            assert!(started.elapsed().as_secs() < 2, "{found}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
