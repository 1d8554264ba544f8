//! The SQLite baseline of `localoffer bench search`, built as an experienced engineer would build
//! it on the same generated services: an R*Tree of each service's place (its reach's box when it
//! travels), FTS5 (porter stemming) over its words, taxonomy tags and the geo-cells it serves, so
//! that MATCH intersects words with nearby cells, a table of which services meet each outcome
//! (exactly or through a broader claim) keyed by service and by term (the planner picks; the
//! R*Tree leads, each candidate costing one lookup in a covering index), statements prepared once
//! and cached (diesel's query builder), a 1 GB mmap and a 256 MB page cache, ANALYZE run and the
//! WAL checkpointed into the file after loading. The exact circle test is haversine in Rust on the
//! rows SQLite returns.

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
        baseline_place (id) {
            id -> BigInt,
            min_lat -> Double,
            max_lat -> Double,
            min_lon -> Double,
            max_lon -> Double,
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
    diesel::allow_tables_to_appear_in_same_query!(baseline_service, baseline_place, baseline_meets, baseline_fts);
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
}

fn err(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

/// Services whose place box overlaps `$b` and whose ages take in `$age`, joined with the outcomes
/// they meet: what the outcome and plan queries share (the R*Tree leads, the rest are lookups).
macro_rules! near_and_meeting {
    ($b:expr, $age:expr) => {
        baseline_place::table
            .inner_join(baseline_meets::table.on(baseline_meets::service_id.eq(baseline_place::id)))
            .inner_join(baseline_service::table.on(baseline_service::id.eq(baseline_place::id)))
            .filter(baseline_place::min_lat.le($b.max_lat))
            .filter(baseline_place::max_lat.ge($b.min_lat))
            .filter(baseline_place::min_lon.le($b.max_lon))
            .filter(baseline_place::max_lon.ge($b.min_lon))
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
             CREATE VIRTUAL TABLE baseline_place USING rtree(id, min_lat, max_lat, min_lon, max_lon);
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
                let b = if reach > 0.0 {
                    s.at.bounding_box(reach)
                } else {
                    s.at.bounding_box(0.0)
                };
                diesel::insert_into(baseline_place::table)
                    .values((
                        baseline_place::id.eq(s.id),
                        baseline_place::min_lat.eq(b.min_lat),
                        baseline_place::max_lat.eq(b.max_lat),
                        baseline_place::min_lon.eq(b.min_lon),
                        baseline_place::max_lon.eq(b.max_lon),
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
        Ok(Sqlite { conn })
    }
}

impl Baseline for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn outcome(&mut self, term: &TermId, origin: Coordinates, radius: f64, age: i32) -> Result<Answer, BenchError> {
        let b = origin.bounding_box(radius);
        let rows = near_and_meeting!(b, age)
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
        let b = plan.origin.bounding_box(plan.radius);
        let (terms, left) = (&plan.terms, plan.left);
        let rows = near_and_meeting!(b, plan.age)
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
