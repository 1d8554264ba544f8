//! The SQLite baseline of `localoffer bench search`, built as an experienced engineer would build
//! it on the same generated services: an R*Tree of each service's place (its reach's box when it
//! travels), FTS5 (porter stemming) over its words, taxonomy tags and the geo-cells it serves, so
//! that MATCH intersects words with nearby cells, a table of which services meet each outcome
//! (exactly or through a broader claim) keyed by service, so that the R*Tree leads and each
//! candidate costs one lookup, statements prepared once and cached (diesel's query
//! builder), a 1 GB mmap and a 256 MB page cache, ANALYZE run after loading. The exact circle test
//! is haversine in Rust on the rows SQLite returns.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};

use super::search::{GeneratedService as Service, Kind};
use crate::domain::geo::Coordinates;
use crate::domain::taxonomy::{Taxonomy, TermId, Vocabulary};

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

/// Tags as FTS tokens: "zl7" for a term in a service's lineage, "zo7" for one it claims itself.
fn tag(prefix: &str, taxonomy: &Taxonomy, id: &str) -> String {
    let n = taxonomy
        .terms
        .iter()
        .position(|t| t.id.as_str() == id)
        .unwrap_or(usize::MAX);
    format!("z{prefix}{n}")
}

pub(super) struct Sqlite {
    conn: SqliteConnection,
}

fn err(e: impl std::fmt::Display) -> super::BenchError {
    super::BenchError::Setup(e.to_string())
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

/// The plan outcomes a service meets, each exactly or not.
type Met = Vec<(String, bool)>;

/// Rows of the outcome and plan queries: a service, where it is, and the term it meets.
type MeetRow = (i64, f64, f64, f64, String, bool);

impl Sqlite {
    pub(super) fn build(
        path: &std::path::Path,
        services: &[Service],
        taxonomy: &Taxonomy,
    ) -> Result<Sqlite, super::BenchError> {
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
        let outcomes: Vec<&str> = taxonomy
            .terms
            .iter()
            .filter(|t| t.vocabulary == Vocabulary::Outcome)
            .map(|t| t.id.as_str())
            .collect();
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
                // Which outcomes the service meets: each term in its outcomes' lineage exactly,
                // and each narrower term of an outcome it claims less exactly.
                let mut meets: std::collections::BTreeMap<&str, bool> = std::collections::BTreeMap::new();
                for own in s
                    .terms
                    .iter()
                    .filter(|(_, k)| *k == Kind::Outcome)
                    .map(|(t, _)| t.as_str())
                {
                    for term in taxonomy.lineage(own) {
                        meets.insert(term.id.as_str(), true);
                    }
                    for narrower in &outcomes {
                        if taxonomy.broader(narrower).any(|t| t.id.as_str() == own) {
                            meets.entry(narrower).or_insert(false);
                        }
                    }
                }
                for (term, exact) in meets {
                    diesel::insert_into(baseline_meets::table)
                        .values((
                            baseline_meets::term.eq(term),
                            baseline_meets::service_id.eq(s.id),
                            baseline_meets::exact.eq(exact),
                        ))
                        .execute(conn)?;
                }
                let mut words: Vec<&str> = Vec::new();
                let mut tags: Vec<String> = Vec::new();
                for (own, _) in &s.terms {
                    tags.push(tag("o", taxonomy, own));
                    for term in taxonomy.lineage(own) {
                        words.push(&term.label);
                        words.extend(term.synonyms.iter().map(String::as_str));
                        tags.push(tag("l", taxonomy, term.id.as_str()));
                    }
                }
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
                .bind::<Text, _>(words.join(" "))
                .bind::<Text, _>(&s.organisation)
                .bind::<Text, _>(tags.join(" "))
                .bind::<Text, _>(cells.join(" "))
                .execute(conn)?;
            }
            diesel::QueryResult::Ok(())
        })
        .map_err(err)?;
        conn.batch_execute("INSERT INTO baseline_fts (baseline_fts) VALUES ('optimize'); ANALYZE;")
            .map_err(err)?;
        Ok(Sqlite { conn })
    }

    /// Services meeting `term` (exactly or through a broader claim) within `radius` of `origin`
    /// (or their own reach), right for `age`: the total and the nearest 20, exact matches first.
    pub(super) fn outcome(
        &mut self,
        term: &TermId,
        origin: Coordinates,
        radius: f64,
        age: i32,
    ) -> QueryResult<(usize, Vec<i64>)> {
        let b = origin.bounding_box(radius);
        let rows: Vec<(i64, f64, f64, f64, bool)> = near_and_meeting!(b, age)
            .filter(baseline_meets::term.eq(term.as_str()))
            .select((
                baseline_service::id,
                baseline_service::lat,
                baseline_service::lon,
                baseline_service::reach,
                baseline_meets::exact,
            ))
            .load(&mut self.conn)?;
        let mut hits: Vec<(bool, f64, i64)> = rows
            .into_iter()
            .filter_map(|(id, lat, lon, reach, exact)| {
                let d = origin.miles_to(Coordinates { lat, lon });
                (d <= radius || d <= reach).then_some((exact, d, id))
            })
            .collect();
        let total = hits.len();
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.total_cmp(&b.1)));
        Ok((total, hits.into_iter().take(20).map(|h| h.2).collect()))
    }

    /// Free text near a place: FTS5 intersects the words (or the terms they name) with the cells
    /// round the place, haversine keeps the circle; the total and the best 20 by BM25.
    pub(super) fn text(
        &mut self,
        words: &[String],
        named: &[String],
        broader: &[String],
        taxonomy: &Taxonomy,
        origin: Coordinates,
        radius: f64,
    ) -> QueryResult<(usize, Vec<i64>)> {
        let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
        let mut any = vec![format!("{{name description terms org}} : ({})", quoted.join(" OR "))];
        let tags: Vec<String> = named
            .iter()
            .map(|id| tag("l", taxonomy, id))
            .chain(broader.iter().map(|id| tag("o", taxonomy, id)))
            .collect();
        if !tags.is_empty() {
            any.push(format!("tags : ({})", tags.join(" OR ")));
        }
        let expression = format!(
            "({}) AND cells : ({})",
            any.join(" OR "),
            cells_over(origin, radius).join(" OR ")
        );
        let rows: Vec<(i64, f64, f64, f64, f64)> = baseline_fts::table
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
            .load(&mut self.conn)?;
        let mut hits: Vec<(f64, i64)> = rows
            .into_iter()
            .filter_map(|(id, score, lat, lon, reach)| {
                let d = origin.miles_to(Coordinates { lat, lon });
                (d <= radius || d <= reach).then_some((score, id))
            })
            .collect();
        let total = hits.len();
        // bm25() is lower for better matches.
        hits.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok((total, hits.into_iter().take(20).map(|h| h.1).collect()))
    }

    /// A three-outcome plan: services meeting any of them near the place, right for the age and
    /// payable from what is left; ranked by outcomes met, then nearness; up to `limit` for each
    /// outcome (exact matches before broad ones). Returns how many each outcome got.
    pub(super) fn plan(
        &mut self,
        terms: &[TermId; 3],
        origin: Coordinates,
        radius: f64,
        age: i32,
        left: (i64, i64),
        limit: usize,
    ) -> QueryResult<Vec<usize>> {
        let b = origin.bounding_box(radius);
        let rows: Vec<MeetRow> = near_and_meeting!(b, age)
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
            .load(&mut self.conn)?;
        let mut by_service: std::collections::HashMap<i64, (f64, Vec<(String, bool)>)> =
            std::collections::HashMap::new();
        for (id, lat, lon, reach, term, exact) in rows {
            let d = origin.miles_to(Coordinates { lat, lon });
            if d <= radius || d <= reach {
                by_service.entry(id).or_insert((d, Vec::new())).1.push((term, exact));
            }
        }
        let mut ranked: Vec<(f64, i64, Met)> = by_service
            .into_iter()
            .map(|(id, (d, met))| {
                let score: f64 = met.iter().map(|(_, exact)| if *exact { 2.0 } else { 0.25 }).sum();
                (score + 1.0 / (1.0 + d / 5.0), id, met)
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(terms
            .iter()
            .map(|term| {
                let exact = ranked
                    .iter()
                    .filter(|r| r.2.iter().any(|(t, e)| t == term.as_str() && *e))
                    .count();
                let broadly = ranked
                    .iter()
                    .filter(|r| r.2.iter().any(|(t, e)| t == term.as_str() && !*e))
                    .count();
                (exact + broadly).min(limit)
            })
            .collect())
    }
}

/// The words of free text a baseline searches for: lower case, without the taxonomy's stop words.
pub(super) fn content_words(text: &str, taxonomy: &Taxonomy) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let content: Vec<String> = words
        .iter()
        .filter(|w| !taxonomy.stop_words.contains(w))
        .cloned()
        .collect();
    if content.is_empty() { words } else { content }
}
