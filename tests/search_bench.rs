//! `localoffer bench search` compares like with like: on a small generated data set every baseline
//! (SQLite, and PostgreSQL when the tests have a server) returns the index's totals for every
//! query, and it measures edits.

use std::process::Command;

/// The "agreed/asked" fraction a line of the benchmark's table ends with.
fn fraction(line: &str) -> Option<(usize, usize)> {
    let (agreed, asked) = line.split_whitespace().last()?.split_once('/')?;
    Some((agreed.parse().ok()?, asked.parse().ok()?))
}

#[test]
fn every_baseline_returns_the_index_totals() {
    let postgres = std::env::var("LOCALOFFER_TEST_POSTGRES_URL").ok();
    let mut command = Command::new(env!("CARGO_BIN_EXE_localoffer"));
    command
        .args(["bench", "search", "--services", "3000", "--queries", "40"])
        .env_remove("DATABASE_URL");
    if let Some(url) = &postgres {
        command.args(["--database-url", url]);
    }
    let out = command.output().expect("localoffer runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let baseline_lines: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            (l.starts_with("SQLite ") || l.starts_with("PostgreSQL ")) && fraction(l).is_some()
        })
        .collect();
    let systems = if postgres.is_some() { 2 } else { 1 };
    assert_eq!(
        baseline_lines.len(),
        3 * systems,
        "three kinds of query per baseline:\n{stdout}"
    );
    for line in baseline_lines {
        let (agreed, asked) = fraction(line).unwrap_or_else(|| panic!("no totals in {line:?}:\n{stdout}"));
        assert_eq!((agreed, asked), (40, 40), "{line}\n{stdout}");
    }
    assert!(
        stdout.lines().any(|l| l.contains("edit -> searchable")),
        "no edit figures:\n{stdout}"
    );
}
