//! An existing database moves to dated sessions: its bookings, money and ledger come through, and
//! the migration goes back and forward again without losing a booking made by quantity.

#[macro_use]
mod common;

use std::path::Path;

use common::*;
use diesel::Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use reqwest::StatusCode;
use serde_json::json;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgresql");

/// Take the migrations back out down to and including sessions', as the version of the service
/// before sessions left the database.
fn revert_newest(url: Option<String>, dir: &Path) {
    let mut reverted = Vec::new();
    while !reverted.last().is_some_and(|v: &String| v.contains("20261201000004")) {
        assert!(reverted.len() < 40, "reverted {reverted:?} without reaching sessions");
        let version = match &url {
            Some(url) => {
                let mut conn = diesel::PgConnection::establish(url).expect("PostgreSQL");
                conn.revert_last_migration(POSTGRES).expect("revert").to_string()
            }
            None => {
                let path = dir.join("localoffer.db");
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("SQLite");
                conn.revert_last_migration(SQLITE).expect("revert").to_string()
            }
        };
        reverted.push(version);
    }
}

both_backends! {
    #[tokio::test]
    async fn bookings_made_before_sessions_survive_the_migration() {
        let app = spawn().await;
        let w = world(&app, "500.00").await;
        let booked = expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 3).await, StatusCode::CREATED).await;
        expect(app.post(&format!("/bookings/{}/confirm", booked["id"]), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        // The schema before sessions, with the booking in it (the server stopped); the server
        // starts again and migrates.
        let (url, dir) = (app.database_url(), app.dir.path().to_path_buf());
        let app = app.restart_with(move || revert_newest(url, &dir)).await;
        // The booking is there, with a reference made for it, its price and status kept.
        let seen = expect(app.get(&format!("/bookings/{}", booked["id"]), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(seen["reference"], format!("Q000-{:04}", booked["id"].as_i64().unwrap()));
        assert_eq!(seen["status"], "confirmed");
        assert_eq!(seen["total"], booked["total"]);
        assert_eq!(seen["quantity"], 3);
        assert!(seen["sessions"].as_array().unwrap().is_empty());
        let out = app.cli(&["verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        // It can still be cancelled, the money coming back; and the service now runs sessions too.
        expect(app.post(&format!("/bookings/{}/cancel", booked["id"]), Some(&w.family), &json!({})).await, StatusCode::OK).await;
        let plan = expect(app.get(&format!("/budget-holders/{}", w.holder["id"]), Some(&w.family)).await, StatusCode::OK).await;
        assert_eq!(plan["allocations"][0]["remaining"], "500.00");
        let day = (chrono::Utc::now() + chrono::Duration::days(9)).date_naive();
        let body = json!({"starts_at": format!("{day}T10:00:00"), "ends_at": format!("{day}T15:00:00")});
        expect(app.post(&format!("/services/{}/sessions", w.service["id"]), Some(&w.provider), &body).await, StatusCode::CREATED).await;
        let out = app.cli(&["verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
}
