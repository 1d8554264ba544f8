//! The bound: through a flood of 1,000 wrong logins at 64 at once from many client
//! addresses, the server (its own process, so its memory can be read) stays under 300 MB RSS and
//! a right login from another address gets in.

use std::process::Command;

use serde_json::Value;

#[test]
fn a_login_flood_stays_under_300_mb_and_a_right_login_gets_in() {
    let out = Command::new(env!("CARGO_BIN_EXE_localoffer"))
        .args([
            "bench",
            "login-flood",
            "--requests",
            "1000",
            "--concurrency",
            "64",
            "--addresses",
            "100",
        ])
        .env_remove("DATABASE_URL")
        .output()
        .expect("localoffer runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let figures: Value = serde_json::from_slice(&out.stdout).expect("figures as JSON");
    eprintln!("{figures}\n{stderr}");
    let peak = figures["rss_mb"]["peak"].as_f64().unwrap();
    assert!(peak > 0.0 && peak < 300.0, "peak RSS {peak} MB: {figures}");
    assert_eq!(figures["right_login"]["status"], 200, "{figures}");
    assert_eq!(
        figures["wrong_logins"]["other"], 0,
        "every wrong login is refused with 401 or 429: {figures}"
    );
}
