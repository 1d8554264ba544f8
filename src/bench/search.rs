//! `localoffer bench search`: a generated England-wide data set, the index build time, and query
//! latency through the tantivy index against a plain SQLite FTS5 + bounding box + haversine
//! baseline on the same data.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Text};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{BenchError, percentile_ms, setup_err};
use crate::db::schema::{organisations, price_options, service_changes, service_streams, service_terms, services};
use crate::db::{AnyConnection, Db, DbResult, now, sqlite};
use crate::domain::geo::{Coordinates, OutcodeTable};
use crate::domain::search::Sort;
use crate::domain::taxonomy::{Taxonomy, TermId, Vocabulary};
use crate::domain::{Pence, Stream};
use crate::search::{SearchIndex, SearchRequest};

const SCOTLAND_AND_WALES: &[&str] = &[
    "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "ZE", "CF", "LD", "LL", "NP",
    "SA",
];
const WORDS: &[&str] = &[
    "club",
    "group",
    "sessions",
    "support",
    "activities",
    "trips",
    "games",
    "swimming",
    "music",
    "drama",
    "art",
    "cooking",
    "sensory",
    "calm",
    "outdoor",
    "football",
    "dance",
    "youth",
    "family",
    "respite",
    "overnight",
    "weekend",
    "holiday",
    "therapy",
    "speech",
    "language",
    "communication",
    "independence",
    "travel",
    "skills",
    "friendship",
    "confidence",
];
const TEXT_QUERIES: &[&str] = &[
    "respite",
    "speech therapy",
    "swimming club",
    "autism social group",
    "overnight short breaks",
    "travel training",
    "music sessions",
    "personal assistant",
    "holiday club",
    "sensory play",
];

pub(super) fn england_outcodes(table: &OutcodeTable) -> Vec<(String, Coordinates)> {
    let mut out: Vec<(String, Coordinates)> = table
        .iter()
        .filter(|(code, _)| {
            let area: String = code.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
            !SCOTLAND_AND_WALES.contains(&area.as_str())
        })
        .map(|(c, at)| (c.to_string(), at))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub(super) fn leaves(taxonomy: &Taxonomy, vocabulary: Vocabulary) -> Vec<String> {
    taxonomy
        .terms
        .iter()
        .filter(|t| t.vocabulary == vocabulary)
        .map(|t| t.id.0.clone())
        .collect()
}

/// Insert `count` generated services, spread over England's postcode districts.
pub(super) fn generate(
    db: &Db,
    taxonomy: &Taxonomy,
    places: &[(String, Coordinates)],
    count: usize,
) -> Result<(), BenchError> {
    let outcomes = leaves(taxonomy, Vocabulary::Outcome);
    let types = leaves(taxonomy, Vocabulary::ServiceType);
    let needs = leaves(taxonomy, Vocabulary::Need);
    let mut rng = StdRng::seed_from_u64(2026);
    let organisations_count = (count / 20).max(1);
    let at = now();
    let org_rows: Vec<_> = (0..organisations_count)
        .map(|i| {
            (
                organisations::name.eq(format!("Provider {i}")),
                organisations::kind.eq(if i % 3 == 0 { "private" } else { "vcs" }),
                organisations::description.eq(""),
                organisations::status.eq("verified"),
                organisations::created_at.eq(at),
            )
        })
        .collect();
    db.write(move |conn| {
        let conn = sqlite(conn)?;
        for chunk in org_rows.chunks(1000) {
            diesel::insert_into(organisations::table).values(chunk).execute(conn)?;
        }
        Ok(())
    })
    .map_err(setup_err)?;
    let bar = indicatif::ProgressBar::new(count as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("generating {bar:40} {pos}/{len} services")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let batch = 1000;
    let mut next_id = 1i64;
    while (next_id as usize) <= count {
        let n = batch.min(count + 1 - next_id as usize);
        let (mut rows, mut terms, mut streams, mut options, mut changes) = (vec![], vec![], vec![], vec![], vec![]);
        for id in next_id..next_id + n as i64 {
            let (district, centre) = &places[rng.random_range(0..places.len())];
            let lat = centre.lat + rng.random_range(-0.02..0.02);
            let lon = centre.lon + rng.random_range(-0.03..0.03);
            let min_age = rng.random_range(0..18);
            let max_age = rng.random_range(min_age..26);
            let name = format!(
                "{} {} {}",
                WORDS[rng.random_range(0..WORDS.len())],
                WORDS[rng.random_range(0..WORDS.len())],
                id
            );
            let description = (0..12)
                .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                .collect::<Vec<_>>()
                .join(" ");
            let reach = (rng.random_range(0..5) == 0).then(|| f64::from(rng.random_range(3..15)));
            rows.push((
                services::id.eq(id),
                services::organisation_id.eq(1 + (id % organisations_count as i64)),
                services::name.eq(name),
                services::description.eq(description),
                services::min_age.eq(min_age),
                services::max_age.eq(max_age),
                services::postcode.eq(Some(format!("{district} 1AA"))),
                services::lat.eq(lat),
                services::lon.eq(lon),
                services::reach_miles.eq(reach),
                services::capacity.eq(10),
                services::status.eq("published"),
                services::created_at.eq(at),
                services::updated_at.eq(at),
            ));
            let mut own: Vec<(String, &str)> = Vec::new();
            for _ in 0..rng.random_range(1..4) {
                own.push((outcomes[rng.random_range(0..outcomes.len())].clone(), "outcome"));
            }
            own.push((types[rng.random_range(0..types.len())].clone(), "service_type"));
            for _ in 0..rng.random_range(0..3) {
                own.push((needs[rng.random_range(0..needs.len())].clone(), "need"));
            }
            own.sort();
            own.dedup_by(|a, b| a.0 == b.0);
            for (term, vocabulary) in own {
                terms.push((
                    service_terms::service_id.eq(id),
                    service_terms::term_id.eq(term),
                    service_terms::vocabulary.eq(vocabulary),
                ));
            }
            // Every service takes social care money; some also education or health.
            for stream in Stream::ALL
                .iter()
                .filter(|s| **s == Stream::SocialCare || rng.random_range(0..2) == 0)
            {
                streams.push((
                    service_streams::service_id.eq(id),
                    service_streams::stream.eq(stream.as_str()),
                ));
            }
            options.push((
                price_options::service_id.eq(id),
                price_options::position.eq(0),
                price_options::label.eq("Session"),
                price_options::unit.eq("session"),
                price_options::price_pence.eq(rng.random_range(800..30_000i64)),
                price_options::active.eq(true),
            ));
            changes.push((service_changes::service_id.eq(id), service_changes::changed_at.eq(at)));
        }
        db.write(move |conn| {
            let conn = sqlite(conn)?;
            diesel::insert_into(services::table).values(&rows).execute(conn)?;
            for chunk in terms.chunks(5000) {
                diesel::insert_into(service_terms::table).values(chunk).execute(conn)?;
            }
            for chunk in streams.chunks(5000) {
                diesel::insert_into(service_streams::table)
                    .values(chunk)
                    .execute(conn)?;
            }
            diesel::insert_into(price_options::table)
                .values(&options)
                .execute(conn)?;
            diesel::insert_into(service_changes::table)
                .values(&changes)
                .execute(conn)?;
            Ok(())
        })
        .map_err(setup_err)?;
        next_id += n as i64;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// The baseline a council IT team would write: FTS5 for words, a lat/lon index for the box,
/// haversine in code for the circle.
fn build_baseline(db: &Db, taxonomy: &Taxonomy) -> Result<Duration, BenchError> {
    let started = Instant::now();
    let lineage: Vec<(String, String)> = taxonomy
        .terms
        .iter()
        .flat_map(|t| {
            taxonomy
                .lineage(t.id.as_str())
                .map(|a| (t.id.0.clone(), a.id.0.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let labels: Vec<(String, String)> = taxonomy
        .terms
        .iter()
        .map(|t| (t.id.0.clone(), format!("{} {}", t.label, t.synonyms.join(" "))))
        .collect();
    db.write(move |conn| {
        let conn = sqlite(conn)?;
        conn.batch_execute(
            "CREATE TABLE baseline_lineage (term_id TEXT NOT NULL, ancestor TEXT NOT NULL);
             CREATE TABLE baseline_labels (term_id TEXT PRIMARY KEY, words TEXT NOT NULL);",
        )?;
        for (term, ancestor) in &lineage {
            diesel::sql_query("INSERT INTO baseline_lineage VALUES (?, ?)").bind::<Text, _>(term).bind::<Text, _>(ancestor).execute(conn)?;
        }
        for (term, words) in &labels {
            diesel::sql_query("INSERT INTO baseline_labels VALUES (?, ?)").bind::<Text, _>(term).bind::<Text, _>(words).execute(conn)?;
        }
        conn.batch_execute(
            "CREATE TABLE baseline_terms AS SELECT DISTINCT st.service_id, l.ancestor AS term_id
                FROM service_terms st JOIN baseline_lineage l ON l.term_id = st.term_id;
             CREATE INDEX baseline_terms_term ON baseline_terms (term_id, service_id);
             CREATE INDEX baseline_services_lat ON services (lat, lon);
             CREATE INDEX baseline_streams ON service_streams (stream, service_id);
             CREATE VIRTUAL TABLE baseline_fts USING fts5(name, description, terms, tokenize = 'porter');
             INSERT INTO baseline_fts (rowid, name, description, terms)
                SELECT s.id, s.name, s.description,
                       (SELECT group_concat(bl.words, ' ') FROM service_terms st JOIN baseline_labels bl ON bl.term_id = st.term_id
                        WHERE st.service_id = s.id)
                FROM services s WHERE s.status = 'published';",
        )?;
        Ok(())
    })
    .map_err(setup_err)?;
    Ok(started.elapsed())
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Double)]
    lat: f64,
    #[diesel(sql_type = Double)]
    lon: f64,
    #[diesel(sql_type = Double)]
    reach: f64,
}

/// Baseline: services meeting any of `terms`, inside the radius (or their reach), right for the
/// age; nearest 20 and the total.
fn baseline_outcome(
    conn: &mut AnyConnection,
    terms: &[TermId],
    origin: Coordinates,
    radius: f64,
    age: i32,
) -> DbResult<(usize, Vec<i64>)> {
    let conn = sqlite(conn)?;
    let near = origin.bounding_box(radius);
    let wide = origin.bounding_box(crate::domain::service::MAX_REACH_MILES);
    let placeholders = vec!["?"; terms.len()].join(",");
    let sql = format!(
        "SELECT DISTINCT s.id, s.lat, s.lon, COALESCE(s.reach_miles, 0) AS reach FROM services s
           JOIN baseline_terms t ON t.service_id = s.id AND t.term_id IN ({placeholders})
          WHERE s.status = 'published' AND s.min_age <= ? AND s.max_age >= ?
            AND ((s.lat BETWEEN ? AND ? AND s.lon BETWEEN ? AND ?)
              OR (s.reach_miles > 0 AND s.lat BETWEEN ? AND ? AND s.lon BETWEEN ? AND ?))"
    );
    let mut q = diesel::sql_query(sql).into_boxed();
    for t in terms {
        q = q.bind::<Text, _>(t.0.clone());
    }
    let rows: Vec<Candidate> = q
        .bind::<Integer, _>(age)
        .bind::<Integer, _>(age)
        .bind::<Double, _>(near.min_lat)
        .bind::<Double, _>(near.max_lat)
        .bind::<Double, _>(near.min_lon)
        .bind::<Double, _>(near.max_lon)
        .bind::<Double, _>(wide.min_lat)
        .bind::<Double, _>(wide.max_lat)
        .bind::<Double, _>(wide.min_lon)
        .bind::<Double, _>(wide.max_lon)
        .load(conn)?;
    let mut hits: Vec<(f64, i64)> = rows
        .into_iter()
        .filter_map(|c| {
            let d = origin.miles_to(Coordinates { lat: c.lat, lon: c.lon });
            (d <= radius || d <= c.reach).then_some((d, c.id))
        })
        .collect();
    let total = hits.len();
    hits.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok((total, hits.into_iter().take(20).map(|(_, id)| id).collect()))
}

#[derive(QueryableByName)]
struct TextHit {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Baseline: FTS5 with BM25, top 20 and the total.
fn baseline_text(conn: &mut AnyConnection, text: &str) -> DbResult<(usize, Vec<i64>)> {
    let conn = sqlite(conn)?;
    let query = text
        .split_whitespace()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" OR ");
    let top: Vec<TextHit> =
        diesel::sql_query("SELECT rowid AS id FROM baseline_fts WHERE baseline_fts MATCH ? ORDER BY bm25(baseline_fts, 3.0, 1.0, 2.5) LIMIT 20")
            .bind::<Text, _>(&query)
            .load(conn)?;
    let total: Total = diesel::sql_query("SELECT count(*) AS n FROM baseline_fts WHERE baseline_fts MATCH ?")
        .bind::<Text, _>(&query)
        .get_result(conn)?;
    Ok((total.n as usize, top.into_iter().map(|t| t.id).collect()))
}

struct Timings(Vec<Duration>);

impl Timings {
    fn line(mut self, label: &str) -> (f64, f64) {
        self.0.sort();
        let (p50, p99) = (percentile_ms(&self.0, 0.5), percentile_ms(&self.0, 0.99));
        println!(
            "  {label:<46} p50 {p50:>8.3} ms   p99 {p99:>8.3} ms   ({} queries)",
            self.0.len()
        );
        (p50, p99)
    }
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let out = f();
    (started.elapsed(), out)
}

pub fn search(count: usize, queries: usize) -> Result<(), BenchError> {
    let super::Generated {
        dir: _dir,
        data,
        db,
        taxonomy,
        table: _,
        places,
    } = super::Generated::fresh()?;
    println!(
        "search benchmark: {count} services over {} English postcode districts",
        places.len()
    );
    let (took, generated) = time(|| generate(&db, &taxonomy, &places, count));
    generated?;
    println!(
        "  generated and stored in SQLite                 {:>8.2} s",
        took.as_secs_f64()
    );

    let index = SearchIndex::open(&data.index(), taxonomy.clone()).map_err(setup_err)?;
    let (took, built) = time(|| index.rebuild(&crate::app::listings::Listings(db.clone()), true));
    let built = built.map_err(setup_err)?;
    println!(
        "  tantivy full rebuild from the database         {:>8.2} s ({built} documents)",
        took.as_secs_f64()
    );
    let took = build_baseline(&db, &taxonomy)?;
    println!(
        "  baseline FTS5 + indexes built                  {:>8.2} s",
        took.as_secs_f64()
    );

    let outcomes = leaves(&taxonomy, Vocabulary::Outcome);
    let mut rng = StdRng::seed_from_u64(7);
    let cases: Vec<(TermId, Coordinates, i32)> = (0..queries)
        .map(|_| {
            (
                TermId(outcomes[rng.random_range(0..outcomes.len())].clone()),
                places[rng.random_range(0..places.len())].1,
                rng.random_range(0..26),
            )
        })
        .collect();
    let plans: Vec<(Vec<TermId>, Coordinates, i32)> = (0..queries / 3)
        .map(|_| {
            let terms = (0..3)
                .map(|_| TermId(outcomes[rng.random_range(0..outcomes.len())].clone()))
                .collect();
            (
                terms,
                places[rng.random_range(0..places.len())].1,
                rng.random_range(0..26),
            )
        })
        .collect();
    let radius = 5.0;
    let outcome_request = |(term, at, age): &(TermId, Coordinates, i32), facets: bool| SearchRequest {
        outcomes: vec![term.clone()],
        origin: Some(*at),
        radius_miles: Some(radius),
        age: Some(*age),
        sort: Some(Sort::Relevance),
        limit: 20,
        facets,
        ..SearchRequest::default()
    };
    // Warm both up so neither pays for cold caches.
    for case in cases.iter().take(20) {
        index.search(&outcome_request(case, true)).map_err(setup_err)?;
        db.read(|conn| baseline_outcome(conn, std::slice::from_ref(&case.0), case.1, radius, case.2))
            .map_err(setup_err)?;
    }

    println!("query latency (release build, one thread, {queries} queries each, radius {radius} miles):");
    let mut index_times = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut baseline_times = (Vec::new(), Vec::new(), Vec::new());
    let mut agree = 0;
    for case in &cases {
        let (t, found) = time(|| index.search(&outcome_request(case, false)));
        let found = found.map_err(setup_err)?;
        index_times.0.push(t);
        let (t, _) = time(|| index.search(&outcome_request(case, true)));
        index_times.1.push(t);
        let (t, base) =
            time(|| db.read(|conn| baseline_outcome(conn, std::slice::from_ref(&case.0), case.1, radius, case.2)));
        let (base_total, _) = base.map_err(setup_err)?;
        baseline_times.0.push(t);
        agree += usize::from(base_total == found.total);
    }
    for i in 0..queries {
        let text = TEXT_QUERIES[i % TEXT_QUERIES.len()];
        let request = SearchRequest {
            text: Some(text.into()),
            sort: Some(Sort::Relevance),
            limit: 20,
            ..SearchRequest::default()
        };
        let (t, found) = time(|| index.search(&request));
        found.map_err(setup_err)?;
        index_times.2.push(t);
        let (t, base) = time(|| db.read(|conn| baseline_text(conn, text)));
        base.map_err(setup_err)?;
        baseline_times.1.push(t);
    }
    for (terms, at, age) in &plans {
        let payable_from = vec![
            (Stream::SocialCare, Pence::from_stored(50_000)),
            (Stream::Education, Pence::from_stored(20_000)),
        ];
        let base = SearchRequest {
            origin: Some(*at),
            radius_miles: Some(10.0),
            age: Some(*age),
            payable_from: payable_from.clone(),
            ..SearchRequest::default()
        };
        let outcomes: Vec<Vec<TermId>> = terms.iter().map(|t| vec![t.clone()]).collect();
        let (t, found) = time(|| index.plan_matches(&outcomes, &base, 5));
        found.map_err(setup_err)?;
        index_times.3.push(t);
        let (t, base) = time(|| {
            db.read(|conn| {
                for term in terms {
                    baseline_outcome(conn, std::slice::from_ref(term), *at, 10.0, *age)?;
                }
                Ok(())
            })
        });
        base.map_err(setup_err)?;
        baseline_times.2.push(t);
    }
    let (_, i_outcome) = Timings(index_times.0).line("index: outcome + place + radius + age");
    Timings(index_times.1).line("index: same, with facet counts");
    let (_, i_text) = Timings(index_times.2).line("index: free text (typo-tolerant, synonyms)");
    let (_, i_plan) = Timings(index_times.3).line("index: matches for a 3-outcome plan");
    let (_, b_outcome) = Timings(baseline_times.0).line("baseline: outcome + place + radius + age");
    let (_, b_text) = Timings(baseline_times.1).line("baseline: free text (FTS5 bm25)");
    let (_, b_plan) = Timings(baseline_times.2).line("baseline: matches for a 3-outcome plan");
    println!(
        "speed-up at p99: outcome+radius {:.1}x, text {:.1}x, plan {:.1}x",
        b_outcome / i_outcome.max(1e-9),
        b_text / i_text.max(1e-9),
        b_plan / i_plan.max(1e-9)
    );
    println!(
        "index and baseline agree on the result count for {agree} of {} outcome+radius queries",
        cases.len()
    );
    Ok(())
}
