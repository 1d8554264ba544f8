//! Plans travel to PostgreSQL encrypted: the service runs over `sslmode=require` (and every one of
//! its connections is TLS, as the server itself reports) and over `verify-full` against the
//! server's certificate, and refuses a server its root certificate does not vouch for.
//!
//! Needs `LOCALOFFER_TEST_POSTGRES_URL` and a server with `ssl = on` for `localhost` (`.ci/run`
//! makes sure of both).

mod common;

use std::sync::Arc;

use common::*;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reqwest::StatusCode;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn with_params(url: &str, params: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}{params}")
}

/// Backends of `application` connected without and with TLS.
fn connections(server: &str, application: &str) -> (i64, i64) {
    let mut conn = diesel::PgConnection::establish(server).unwrap();
    let count = |conn: &mut diesel::PgConnection, ssl: bool| {
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid \
             WHERE a.application_name = $1 AND s.ssl = $2",
        )
        .bind::<Text, _>(application)
        .bind::<diesel::sql_types::Bool, _>(ssl)
        .get_result::<Count>(conn)
        .unwrap()
        .n
    };
    (count(&mut conn, false), count(&mut conn, true))
}

fn setting(server: &str, name: &str) -> String {
    let mut conn = diesel::PgConnection::establish(server).unwrap();
    diesel::sql_query(format!("SELECT current_setting('{name}') AS value"))
        .get_result::<Setting>(&mut conn)
        .unwrap()
        .value
}

#[tokio::test]
async fn the_service_talks_to_postgres_over_tls_and_checks_the_certificate() {
    let Some(server) = postgres_server() else {
        eprintln!("skipped: set LOCALOFFER_TEST_POSTGRES_URL to run it");
        return;
    };
    assert_eq!(
        setting(&server, "ssl"),
        "on",
        "the test server must have ssl = on (.ci/run sees to it)"
    );

    // sslmode=require: the whole service (bookings, the index follower, jobs) runs, and every
    // connection it holds is encrypted.
    let scratch = localoffer::db::create_scratch_postgres(&server, "localoffer_tls").unwrap();
    let url = with_params(&scratch, "sslmode=require&application_name=localoffer_tls_test");
    let app = spawn_with(tempfile::tempdir().unwrap(), Some(Arc::new(Scratch { url })), |_| {}).await;
    let w = world(&app, "100.00").await;
    expect(
        app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await,
        StatusCode::CREATED,
    )
    .await;
    let (plain, encrypted) = connections(&server, "localoffer_tls_test");
    assert_eq!(plain, 0, "no connection of the service is in clear text");
    assert!(encrypted >= 1, "the service's connections are TLS: {encrypted}");

    // verify-full: the server's own certificate (self-signed for localhost) as the root.
    let certificate = setting(&server, "ssl_cert_file");
    let local = scratch.replace("127.0.0.1", "localhost");
    let verified = with_params(&local, &format!("sslmode=verify-full&sslrootcert={certificate}"));
    let db = localoffer::DataDir(app.dir.path().to_path_buf()).open_db(Some(&verified));
    assert!(
        db.is_ok(),
        "verify-full against the server's certificate: {:?}",
        db.err()
    );

    // A root that does not vouch for the server: refused before a byte of data is sent.
    let stranger = tempfile::NamedTempFile::new().unwrap();
    std::fs::copy("/etc/ssl/certs/ca-certificates.crt", stranger.path()).unwrap();
    let wrong = with_params(
        &local,
        &format!("sslmode=verify-full&sslrootcert={}", stranger.path().display()),
    );
    let refused = localoffer::DataDir(app.dir.path().to_path_buf()).open_db(Some(&wrong));
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("certificate"),
        "a stranger's certificate is refused: {message}"
    );
}
