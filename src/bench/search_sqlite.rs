//! The SQLite baseline of `localoffer bench search`, built as an experienced engineer would build
//! it on the same generated services: FTS5 (porter stemming) over each service's words, taxonomy
//! tags and the geo-cells it serves (its reach's too when it travels), so that one MATCH intersects
//! words or outcome tags with the cells round a place; a table of which services meet each outcome
//! (exactly or through a broader claim) keyed by service and by term, for whether a candidate meets
//! it exactly; statements prepared once and cached (diesel's query builder), a 1 GB mmap and a
//! 256 MB page cache, ANALYZE run and the WAL checkpointed into the file after loading. The exact
//! circle test is haversine in Rust on the rows SQLite returns.
//!
//! An R*Tree of places (reach boxes for travelling services) leading a join to the outcome table
//! was measured first and dropped: at 100,000 services its outcome query took 7.7 ms at p50 and
//! its plan query 22.7 ms, against 1.1 and 2.8 ms with the outcome tags and cells in FTS5.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};

use super::BenchError;
use super::baseline::{self, Answer, Baseline, Plan, TextQuery};
use super::search::GeneratedService as Service;
use crate::domain::geo::Coordinates;
use crate::domain::taxonomy::{Taxonomy, TermId};

mod tables {
    diesel::table! {
        baseline_service (id) {
            id -> BigInt,
            lat -> Double,
            lon -> Double,
            reach -> Double,
            min_age -> Integer,
            max_age -> Integer,
            price -> BigInt,
            pays_social_care -> Bool,
            pays_education -> Bool,
        }
    }
    diesel::table! {
        baseline_meets (service_id, term) {
            term -> Text,
            service_id -> BigInt,
            exact -> Bool,
        }
    }
    diesel::table! {
        baseline_fts (rowid) {
            rowid -> BigInt,
            #[sql_name = "baseline_fts"]
            whole -> Text,
        }
    }
    diesel::allow_tables_to_appear_in_same_query!(baseline_service, baseline_meets, baseline_fts);
}
use tables::*;

diesel::infix_operator!(Matches, " MATCH ", backend: diesel::sqlite::Sqlite);
diesel::define_sql_function! {
    /// FTS5's BM25 with a weight per column (name, description, terms, organisation, tags, cells).
    fn bm25(table: Text, name: Double, description: Double, terms: Double, org: Double, tags: Double, cells: Double) -> Double;
}

/// The FTS cells: 0.2 degrees of latitude by 0.3 of longitude (about 14 by 13 miles in England).
const CELL_LAT: f64 = 0.2;
const CELL_LON: f64 = 0.3;

fn cell_token(row: i64, col: i64) -> String {
    format!("zg{row}c{col}")
}

fn cells_over(at: Coordinates, miles: f64) -> Vec<String> {
    let b = at.bounding_box(miles);
    let row = |lat: f64| ((lat + 90.0) / CELL_LAT).floor() as i64;
    let col = |lon: f64| ((lon + 180.0) / CELL_LON).floor() as i64;
    let mut out = Vec::new();
    for r in row(b.min_lat)..=row(b.max_lat) {
        for c in col(b.min_lon)..=col(b.max_lon) {
            out.push(cell_token(r, c));
        }
    }
    out
}

pub(super) struct Sqlite {
    conn: SqliteConnection,
    /// For each outcome, the tags of services meeting it: exactly, or claiming a broader one.
    meeting: std::collections::HashMap<String, Vec<String>>,
}

fn err(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

/// Services whose FTS row matches `$expression` (tags of the terms sought, and the cells round
/// the place) and whose ages take in `$age`, joined with the outcomes they meet: what the outcome
/// and plan queries share (FTS5 intersects the posting lists, the rest are lookups).
macro_rules! near_and_meeting {
    ($expression:expr, $age:expr) => {
        baseline_fts::table
            .inner_join(baseline_service::table.on(baseline_service::id.eq(baseline_fts::rowid)))
            .inner_join(baseline_meets::table.on(baseline_meets::service_id.eq(baseline_fts::rowid)))
            .filter(Matches::new(baseline_fts::whole, $expression.into_sql::<Text>()))
            .filter(baseline_service::min_age.le($age))
            .filter(baseline_service::max_age.ge($age))
    };
}

impl Sqlite {
    pub(super) fn build(
        path: &std::path::Path,
        services: &[Service],
        taxonomy: &Taxonomy,
    ) -> Result<Sqlite, BenchError> {
        let mut conn = SqliteConnection::establish(&path.to_string_lossy()).map_err(err)?;
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA mmap_size = 1073741824;
             PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;
             CREATE TABLE baseline_service (id INTEGER PRIMARY KEY, lat REAL NOT NULL, lon REAL NOT NULL,
                reach REAL NOT NULL, min_age INTEGER NOT NULL, max_age INTEGER NOT NULL, price INTEGER NOT NULL,
                pays_social_care INTEGER NOT NULL, pays_education INTEGER NOT NULL);
             CREATE TABLE baseline_meets (term TEXT NOT NULL, service_id INTEGER NOT NULL, exact INTEGER NOT NULL,
                PRIMARY KEY (service_id, term)) WITHOUT ROWID;
             CREATE VIRTUAL TABLE baseline_fts USING fts5(name, description, terms, org, tags, cells,
                tokenize = 'porter unicode61');",
        )
        .map_err(err)?;
        conn.transaction(|conn| {
            for s in services {
                let reach = s.reach.unwrap_or(0.0);
                diesel::insert_into(baseline_service::table)
                    .values((
                        baseline_service::id.eq(s.id),
                        baseline_service::lat.eq(s.at.lat),
                        baseline_service::lon.eq(s.at.lon),
                        baseline_service::reach.eq(reach),
                        baseline_service::min_age.eq(s.min_age),
                        baseline_service::max_age.eq(s.max_age),
                        baseline_service::price.eq(s.price),
                        baseline_service::pays_social_care.eq(true),
                        baseline_service::pays_education.eq(s.education),
                    ))
                    .execute(conn)?;
                for (term, exact) in baseline::meets(s, taxonomy) {
                    diesel::insert_into(baseline_meets::table)
                        .values((
                            baseline_meets::term.eq(term),
                            baseline_meets::service_id.eq(s.id),
                            baseline_meets::exact.eq(exact),
                        ))
                        .execute(conn)?;
                }
                let (words, tags) = baseline::term_words_and_tags(s, taxonomy);
                let mut cells = cells_over(s.at, 0.0);
                if reach > 0.0 {
                    cells.extend(cells_over(s.at, reach));
                }
                cells.sort();
                cells.dedup();
                diesel::sql_query(
                    "INSERT INTO baseline_fts (rowid, name, description, terms, org, tags, cells)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind::<BigInt, _>(s.id)
                .bind::<Text, _>(&s.name)
                .bind::<Text, _>(&s.description)
                .bind::<Text, _>(words)
                .bind::<Text, _>(&s.organisation)
                .bind::<Text, _>(tags)
                .bind::<Text, _>(cells.join(" "))
                .execute(conn)?;
            }
            diesel::QueryResult::Ok(())
        })
        .map_err(err)?;
        // The index by term after loading; then every page moved from the WAL into the database file
        // (pages read from the WAL are copied, not mapped).
        conn.batch_execute(
            "CREATE INDEX baseline_meets_term ON baseline_meets (term, service_id, exact);
             INSERT INTO baseline_fts (baseline_fts) VALUES ('optimize'); ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .map_err(err)?;
        let meeting = taxonomy
            .terms
            .iter()
            .filter(|t| t.vocabulary == crate::domain::taxonomy::Vocabulary::Outcome)
            .map(|t| {
                let id = t.id.as_str();
                let tags = std::iter::once(baseline::tag("l", taxonomy, id))
                    .chain(
                        taxonomy
                            .broader(id)
                            .map(|b| baseline::tag("o", taxonomy, b.id.as_str())),
                    )
                    .collect();
                (id.to_string(), tags)
            })
            .collect();
        Ok(Sqlite { conn, meeting })
    }

    /// The FTS expression for services meeting any of `terms` in the cells round a place.
    fn meeting_near(&self, terms: &[&TermId], origin: Coordinates, radius: f64) -> String {
        let tags: Vec<&str> = terms
            .iter()
            .flat_map(|t| self.meeting.get(t.as_str()).into_iter().flatten())
            .map(String::as_str)
            .collect();
        format!(
            "tags : ({}) AND cells : ({})",
            tags.join(" OR "),
            cells_over(origin, radius).join(" OR ")
        )
    }
}

impl Baseline for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn outcome(&mut self, term: &TermId, origin: Coordinates, radius: f64, age: i32) -> Result<Answer, BenchError> {
        let expression = self.meeting_near(&[term], origin, radius);
        let rows = near_and_meeting!(expression, age)
            .filter(baseline_meets::term.eq(term.as_str()))
            .select((
                baseline_service::id,
                baseline_service::lat,
                baseline_service::lon,
                baseline_service::reach,
                baseline_meets::exact,
            ))
            .load(&mut self.conn)
            .map_err(err)?;
        Ok(baseline::nearest_first(rows, origin, radius))
    }

    /// FTS5 intersects the words (or the tags of the terms they name) with the cells round the
    /// place; haversine keeps the circle; best by BM25.
    fn text(&mut self, text: &TextQuery, origin: Coordinates, radius: f64) -> Result<Answer, BenchError> {
        let quoted: Vec<String> = text.words.iter().map(|w| format!("\"{w}\"")).collect();
        let mut any = vec![format!("{{name description terms org}} : ({})", quoted.join(" OR "))];
        if !text.tags.is_empty() {
            any.push(format!("tags : ({})", text.tags.join(" OR ")));
        }
        let expression = format!(
            "({}) AND cells : ({})",
            any.join(" OR "),
            cells_over(origin, radius).join(" OR ")
        );
        let rows = baseline_fts::table
            .inner_join(baseline_service::table.on(baseline_service::id.eq(baseline_fts::rowid)))
            .filter(Matches::new(baseline_fts::whole, expression.into_sql::<Text>()))
            .select((
                baseline_fts::rowid,
                bm25(
                    baseline_fts::whole,
                    3.0.into_sql::<Double>(),
                    1.0.into_sql::<Double>(),
                    2.5.into_sql::<Double>(),
                    0.5.into_sql::<Double>(),
                    20.0.into_sql::<Double>(),
                    0.0.into_sql::<Double>(),
                ),
                baseline_service::lat,
                baseline_service::lon,
                baseline_service::reach,
            ))
            .load(&mut self.conn)
            .map_err(err)?;
        // bm25() is lower for better matches.
        Ok(baseline::best_first(rows, origin, radius, |a, b| a.total_cmp(&b)))
    }

    fn plan(&mut self, plan: &Plan, limit: usize) -> Result<Vec<usize>, BenchError> {
        let (terms, left) = (&plan.terms, plan.left);
        let expression = self.meeting_near(&terms.iter().collect::<Vec<_>>(), plan.origin, plan.radius);
        let rows = near_and_meeting!(expression, plan.age)
            .filter(
                baseline_meets::term
                    .eq(terms[0].as_str())
                    .or(baseline_meets::term.eq(terms[1].as_str()))
                    .or(baseline_meets::term.eq(terms[2].as_str())),
            )
            .filter(
                baseline_service::pays_social_care
                    .and(baseline_service::price.le(left.0))
                    .or(baseline_service::pays_education.and(baseline_service::price.le(left.1))),
            )
            .select((
                baseline_service::id,
                baseline_service::lat,
                baseline_service::lon,
                baseline_service::reach,
                baseline_meets::term,
                baseline_meets::exact,
            ))
            .load(&mut self.conn)
            .map_err(err)?;
        Ok(baseline::plan_counts(rows, plan, limit))
    }
}
