//! The PostgreSQL baseline of `localoffer bench search`, built as an experienced engineer would
//! build it on the same generated services, in a scratch database on the server given: one table
//! of services with a `box` for where each serves (its place, or its reach's box when it travels)
//! under a GiST index, and a `tsvector` of its words (name and taxonomy tags weighted A, term
//! words B, description C, organisation D; English stemming) under a GIN index, so that free text
//! near a place is a bitmap AND of the two indexes; the same table of which services meet each
//! outcome as the SQLite baseline, keyed both ways; statements prepared once and cached (diesel's
//! query builder); JIT off (compiling costs more than it saves on millisecond queries),
//! `random_page_cost` 1.1 (everything is in memory); indexes built after loading, then VACUUM
//! ANALYZE. The exact circle test is haversine in Rust on the rows PostgreSQL returns.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Double, Text};

use super::BenchError;
use super::baseline::{self, Answer, Baseline, Plan, TextQuery};
use super::search::GeneratedService as Service;
use crate::domain::geo::Coordinates;
use crate::domain::taxonomy::{Taxonomy, TermId};

#[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(name = "point"))]
pub struct PgPoint;

#[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(name = "box"))]
pub struct PgBox;

#[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(name = "tsvector"))]
pub struct TsVector;

#[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(name = "tsquery"))]
pub struct TsQuery;

mod tables {
    diesel::table! {
        use diesel::sql_types::*;
        use super::super::{PgBox, TsVector};

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
            area -> PgBox,
            doc -> TsVector,
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
        /// Plain columns as loaded, before PostgreSQL makes the box and the tsvector of each row.
        baseline_staging (id) {
            id -> BigInt,
            lat -> Double,
            lon -> Double,
            reach -> Double,
            min_age -> Integer,
            max_age -> Integer,
            price -> BigInt,
            pays_education -> Bool,
            min_lat -> Double,
            max_lat -> Double,
            min_lon -> Double,
            max_lon -> Double,
            name -> Text,
            description -> Text,
            terms -> Text,
            org -> Text,
            tags -> Text,
        }
    }
    diesel::allow_tables_to_appear_in_same_query!(baseline_service, baseline_meets);
}
use tables::*;

diesel::define_sql_function! { fn point(x: Double, y: Double) -> PgPoint; }
diesel::define_sql_function! {
    #[sql_name = "box"]
    fn corners(low: PgPoint, high: PgPoint) -> PgBox;
}
diesel::define_sql_function! { fn to_tsquery(query: Text) -> TsQuery; }
diesel::define_sql_function! { fn ts_rank(doc: TsVector, query: TsQuery) -> Float; }
diesel::infix_operator!(Overlaps, " && ", backend: diesel::pg::Pg);
diesel::infix_operator!(TsMatches, " @@ ", backend: diesel::pg::Pg);

fn err(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

/// Rows loaded per INSERT: 17 parameters a row, under PostgreSQL's 65,535.
const BATCH: usize = 2000;

/// The box a search circle fits in, as PostgreSQL's `box` (x is longitude, y latitude).
macro_rules! around {
    ($origin:expr, $radius:expr) => {{
        let b = $origin.bounding_box($radius);
        corners(point(b.min_lon, b.min_lat), point(b.max_lon, b.max_lat))
    }};
}

/// Services serving somewhere in the box round `$origin` whose ages take in `$age`, joined with
/// the outcomes they meet: what the outcome and plan queries share.
macro_rules! near_and_meeting {
    ($origin:expr, $radius:expr, $age:expr) => {
        baseline_service::table
            .inner_join(baseline_meets::table.on(baseline_meets::service_id.eq(baseline_service::id)))
            .filter(Overlaps::new(baseline_service::area, around!($origin, $radius)))
            .filter(baseline_service::min_age.le($age))
            .filter(baseline_service::max_age.ge($age))
    };
}

pub(super) struct Postgres {
    conn: PgConnection,
}

impl Postgres {
    /// Loads the services into the (empty, scratch) database at `url`.
    pub(super) fn build(url: &str, services: &[Service], taxonomy: &Taxonomy) -> Result<Postgres, BenchError> {
        let mut conn = crate::db::pg_connect(url).map_err(err)?;
        conn.batch_execute(
            "SET jit = off; SET random_page_cost = 1.1; SET default_text_search_config = 'pg_catalog.english';
             SET maintenance_work_mem = '256MB'; SET synchronous_commit = off;
             CREATE TABLE baseline_staging (id BIGINT PRIMARY KEY, lat FLOAT8 NOT NULL, lon FLOAT8 NOT NULL,
                reach FLOAT8 NOT NULL, min_age INT NOT NULL, max_age INT NOT NULL, price BIGINT NOT NULL,
                pays_education BOOL NOT NULL, min_lat FLOAT8 NOT NULL, max_lat FLOAT8 NOT NULL,
                min_lon FLOAT8 NOT NULL, max_lon FLOAT8 NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL,
                terms TEXT NOT NULL, org TEXT NOT NULL, tags TEXT NOT NULL);
             CREATE TABLE baseline_meets (term TEXT NOT NULL, service_id BIGINT NOT NULL, exact BOOL NOT NULL,
                PRIMARY KEY (service_id, term));",
        )
        .map_err(err)?;
        for chunk in services.chunks(BATCH) {
            let mut rows = Vec::with_capacity(chunk.len());
            let mut meets = Vec::new();
            for s in chunk {
                let reach = s.reach.unwrap_or(0.0);
                let b = s.at.bounding_box(reach);
                let (terms, tags) = baseline::term_words_and_tags(s, taxonomy);
                rows.push((
                    (
                        baseline_staging::id.eq(s.id),
                        baseline_staging::lat.eq(s.at.lat),
                        baseline_staging::lon.eq(s.at.lon),
                        baseline_staging::reach.eq(reach),
                        baseline_staging::min_age.eq(s.min_age),
                        baseline_staging::max_age.eq(s.max_age),
                        baseline_staging::price.eq(s.price),
                        baseline_staging::pays_education.eq(s.education),
                    ),
                    (
                        baseline_staging::min_lat.eq(b.min_lat),
                        baseline_staging::max_lat.eq(b.max_lat),
                        baseline_staging::min_lon.eq(b.min_lon),
                        baseline_staging::max_lon.eq(b.max_lon),
                        baseline_staging::name.eq(&s.name),
                        baseline_staging::description.eq(&s.description),
                        baseline_staging::terms.eq(terms),
                        baseline_staging::org.eq(&s.organisation),
                        baseline_staging::tags.eq(tags),
                    ),
                ));
                for (term, exact) in baseline::meets(s, taxonomy) {
                    meets.push((
                        baseline_meets::term.eq(term),
                        baseline_meets::service_id.eq(s.id),
                        baseline_meets::exact.eq(exact),
                    ));
                }
            }
            diesel::insert_into(baseline_staging::table)
                .values(rows)
                .execute(&mut conn)
                .map_err(err)?;
            for part in meets.chunks(BATCH * 10) {
                diesel::insert_into(baseline_meets::table)
                    .values(part.to_vec())
                    .execute(&mut conn)
                    .map_err(err)?;
            }
        }
        conn.batch_execute(
            "CREATE TABLE baseline_service AS SELECT id, lat, lon, reach, min_age, max_age, price,
                true AS pays_social_care, pays_education,
                box(point(min_lon, min_lat), point(max_lon, max_lat)) AS area,
                setweight(to_tsvector(name), 'A') || setweight(to_tsvector(terms), 'B')
                    || setweight(to_tsvector(description), 'C') || setweight(to_tsvector(org), 'D')
                    || setweight(to_tsvector('simple', tags), 'A') AS doc
             FROM baseline_staging ORDER BY id;
             DROP TABLE baseline_staging;
             ALTER TABLE baseline_service ADD PRIMARY KEY (id);
             CREATE INDEX baseline_service_area ON baseline_service USING gist (area);
             CREATE INDEX baseline_service_doc ON baseline_service USING gin (doc);
             CREATE INDEX baseline_meets_term ON baseline_meets (term, service_id);",
        )
        .map_err(err)?;
        // One statement each: several in one batch run as one transaction, where VACUUM cannot.
        for table in ["baseline_service", "baseline_meets"] {
            conn.batch_execute(&format!("VACUUM ANALYZE {table}")).map_err(err)?;
        }
        Ok(Postgres { conn })
    }
}

impl Baseline for Postgres {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }

    fn outcome(&mut self, term: &TermId, origin: Coordinates, radius: f64, age: i32) -> Result<Answer, BenchError> {
        let rows = near_and_meeting!(origin, radius, age)
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

    /// The words or tags as one tsquery (any of them) against the GIN index, the box against the
    /// GiST one; best by ts_rank.
    fn text(&mut self, text: &TextQuery, origin: Coordinates, radius: f64) -> Result<Answer, BenchError> {
        let query = text
            .words
            .iter()
            .chain(text.tags.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join(" | ");
        let rows: Vec<(i64, f32, f64, f64, f64)> = baseline_service::table
            .filter(TsMatches::new(baseline_service::doc, to_tsquery(&query)))
            .filter(Overlaps::new(baseline_service::area, around!(origin, radius)))
            .select((
                baseline_service::id,
                ts_rank(baseline_service::doc, to_tsquery(&query)),
                baseline_service::lat,
                baseline_service::lon,
                baseline_service::reach,
            ))
            .load(&mut self.conn)
            .map_err(err)?;
        let rows = rows
            .into_iter()
            .map(|(id, rank, lat, lon, reach)| (id, f64::from(rank), lat, lon, reach))
            .collect();
        // ts_rank is higher for better matches.
        Ok(baseline::best_first(rows, origin, radius, |a, b| b.total_cmp(&a)))
    }

    fn plan(&mut self, plan: &Plan, limit: usize) -> Result<Vec<usize>, BenchError> {
        let terms: Vec<&str> = plan.terms.iter().map(TermId::as_str).collect();
        let left = plan.left;
        let rows = near_and_meeting!(plan.origin, plan.radius, plan.age)
            .filter(baseline_meets::term.eq_any(terms))
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
