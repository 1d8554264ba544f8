//! `localoffer bench search`: a generated England-wide data set (services described in 30 to 60
//! words from sentence templates), the index build time, and query latency through the tantivy
//! index against tuned baselines on the same data ([`super::search_sqlite`], and
//! [`super::search_postgres`] when a server is given), run interleaved, with a check that every
//! system returns the same totals.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::baseline::{Baseline, Plan, TextQuery};
use super::search_postgres::Postgres;
use super::search_sqlite::Sqlite;
use super::{BenchError, percentile_ms, setup_err};
use crate::db::schema::{organisations, price_options, service_changes, service_streams, service_terms, services};
use crate::db::{Db, now, sqlite};
use crate::domain::geo::{Coordinates, OutcodeTable};
use crate::domain::search::Sort;
use crate::domain::taxonomy::{Taxonomy, TermId, Vocabulary};
use crate::domain::{Pence, Stream};
use crate::search::{SearchIndex, SearchRequest};

const SCOTLAND_AND_WALES: &[&str] = &[
    "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "ZE", "CF", "LD", "LL", "NP",
    "SA",
];
/// What generated services are written from: how a provider describes a service, in sentences.
const PLACES: &[&str] = &[
    "Wandle",
    "Riverside",
    "Oakfield",
    "Meadow",
    "Hillside",
    "Brookside",
    "Castle",
    "Parkway",
    "Willow",
    "Harbour",
    "Millbrook",
    "Greenway",
    "Ashdown",
    "Kingsway",
    "Fernhill",
    "Beacon",
    "Elmstead",
    "Northgate",
    "Southfields",
    "Westbury",
];
const ACTIVITIES: &[&str] = &[
    "swimming",
    "football",
    "drama",
    "art",
    "music",
    "cooking",
    "climbing",
    "dance",
    "gardening",
    "cycling",
    "trampolining",
    "yoga",
    "gaming",
    "baking",
    "crafts",
    "singing",
    "karate",
    "riding",
    "bowling",
    "boccia",
    "photography",
    "film",
    "coding",
    "lego",
    "camping",
    "fishing",
    "tennis",
    "basketball",
    "gymnastics",
    "archery",
];
const KINDS: &[&str] = &[
    "club",
    "group",
    "scheme",
    "sessions",
    "service",
    "project",
    "programme",
    "workshop",
    "camp",
    "academy",
];
const DAYS: &[&str] = &[
    "saturday",
    "sunday",
    "weekday",
    "friday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "holiday",
];
const NEED_WORDS: &[&str] = &[
    "autism",
    "adhd",
    "anxiety",
    "learning disabilities",
    "physical disabilities",
    "sensory needs",
    "complex health needs",
    "down syndrome",
    "hearing impairment",
    "visual impairment",
];
const GOALS: &[&str] = &[
    "make friends",
    "build confidence",
    "learn new skills",
    "try new activities",
    "travel independently",
    "stay active",
    "enjoy time with others",
    "gain independence",
];
const VENUES: &[&str] = &[
    "community centre",
    "leisure centre",
    "youth centre",
    "school hall",
    "sports hall",
    "farm",
    "studio",
    "church hall",
    "park",
    "library",
];
const ADJECTIVES: &[&str] = &[
    "friendly",
    "inclusive",
    "calm",
    "lively",
    "welcoming",
    "small",
    "supportive",
    "accessible",
    "safe",
    "fun",
];
const TEMPLATES: &[&str] = &[
    "A {adj} {activity} {kind} for young people aged {min} to {max}.",
    "Sessions run every {day} at our {venue} with {adj} staff.",
    "Our team is trained to support children and young people with {need} and {need}.",
    "We offer {activity}, {activity} and {activity} in a {adj} setting.",
    "Young people can {goal} and {goal} at their own pace.",
    "Parents and carers get a break while their child enjoys {activity}.",
    "Places can be paid for from a personal budget or privately.",
    "Every session has a quiet room and a {adj} space for sensory breaks.",
    "Staff ratios are one to three, or one to one where a child needs it.",
    "We have run {activity} in {place} for over ten years.",
    "Transport can be arranged from home or school on {day} afternoons.",
    "Families say their children {goal} and look forward to every visit.",
];
/// Free text asked near a place (words both stemmers read alike; none are typos, so neither system
/// needs fuzzy matching and the totals can be compared).
const TEXT_QUERIES: &[&str] = &[
    "saturday club autism",
    "swimming",
    "drama group",
    "climbing",
    "music sessions",
    "cooking workshop",
    "football club",
    "sensory breaks",
    "holiday scheme",
    "archery",
];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

/// A description of 30 to 60 words, from the sentence templates.
fn describe(rng: &mut StdRng, min_age: i32, max_age: i32) -> String {
    let mut sentences: Vec<String> = Vec::new();
    let mut words = 0;
    let mut order: Vec<usize> = (0..TEMPLATES.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    for i in order {
        if words >= 30 {
            break;
        }
        let mut sentence = TEMPLATES[i].to_string();
        for (slot, from) in [
            ("{adj}", ADJECTIVES),
            ("{activity}", ACTIVITIES),
            ("{kind}", KINDS),
            ("{day}", DAYS),
            ("{venue}", VENUES),
            ("{need}", NEED_WORDS),
            ("{goal}", GOALS),
            ("{place}", PLACES),
        ] {
            while let Some(at) = sentence.find(slot) {
                sentence.replace_range(at..at + slot.len(), pick(rng, from));
            }
        }
        sentence = sentence
            .replace("{min}", &min_age.to_string())
            .replace("{max}", &max_age.to_string());
        let n = sentence.split_whitespace().count();
        if words + n > 60 {
            continue;
        }
        words += n;
        sentences.push(sentence);
    }
    sentences.join(" ")
}

/// Which vocabulary a generated service's term is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Outcome,
    ServiceType,
    Need,
}

/// A generated service as the baselines load it.
pub(super) struct GeneratedService {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub organisation: String,
    pub at: Coordinates,
    pub reach: Option<f64>,
    pub min_age: i32,
    pub max_age: i32,
    pub price: i64,
    pub education: bool,
    pub terms: Vec<(String, Kind)>,
}

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
) -> Result<Vec<GeneratedService>, BenchError> {
    let outcomes = leaves(taxonomy, Vocabulary::Outcome);
    let types = leaves(taxonomy, Vocabulary::ServiceType);
    let needs = leaves(taxonomy, Vocabulary::Need);
    let mut rng = StdRng::seed_from_u64(2026);
    let organisations_count = (count / 20).max(1);
    let at = now();
    let org_rows: Vec<_> = (0..organisations_count)
        .map(|i| {
            (
                organisations::name.eq(organisation_name(i)),
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
    let mut generated = Vec::with_capacity(count);
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
                pick(&mut rng, PLACES),
                pick(&mut rng, ACTIVITIES),
                pick(&mut rng, KINDS)
            );
            let description = describe(&mut rng, min_age, max_age);
            let reach = (rng.random_range(0..5) == 0).then(|| f64::from(rng.random_range(3..15)));
            let organisation = 1 + (id % organisations_count as i64);
            let mut record = GeneratedService {
                id,
                name: name.clone(),
                description: description.clone(),
                organisation: organisation_name((organisation - 1) as usize),
                at: Coordinates { lat, lon },
                reach,
                min_age,
                max_age,
                price: 0,
                education: false,
                terms: Vec::new(),
            };
            rows.push((
                services::id.eq(id),
                services::organisation_id.eq(organisation),
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
                let kind = match vocabulary {
                    "outcome" => Kind::Outcome,
                    "service_type" => Kind::ServiceType,
                    _ => Kind::Need,
                };
                record.terms.push((term.clone(), kind));
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
                record.education |= *stream == Stream::Education;
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
                price_options::price_pence.eq({
                    record.price = rng.random_range(800..30_000i64);
                    record.price
                }),
                price_options::active.eq(true),
            ));
            changes.push((service_changes::service_id.eq(id), service_changes::changed_at.eq(at)));
            generated.push(record);
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
    Ok(generated)
}

fn organisation_name(i: usize) -> String {
    format!("{} Community Trust {i}", PLACES[i % PLACES.len()])
}

/// Durations of one kind of query on one system.
#[derive(Default)]
struct Timings(Vec<Duration>);

impl Timings {
    fn p(&self, q: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort();
        percentile_ms(&sorted, q)
    }
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let out = f();
    (started.elapsed(), out)
}

/// One kind of query: each system's times (the index first, then each baseline), and how often
/// each baseline's answer was the index's.
struct QueryKind {
    label: &'static str,
    times: Vec<Timings>,
    agreed: Vec<usize>,
    asked: usize,
}

impl QueryKind {
    fn new(label: &'static str, systems: usize) -> QueryKind {
        QueryKind {
            label,
            times: (0..systems).map(|_| Timings::default()).collect(),
            agreed: vec![0; systems],
            asked: 0,
        }
    }

    /// One query's run on every system: its time and its answer (totals, or counts per outcome).
    fn record(&mut self, timed: bool, runs: Vec<(Duration, Vec<usize>)>) {
        if !timed {
            return;
        }
        self.asked += 1;
        for (system, (took, answer)) in runs.iter().enumerate() {
            self.times[system].0.push(*took);
            self.agreed[system] += usize::from(*answer == runs[0].1);
        }
    }

    fn print(&self, names: &[&str]) {
        println!("  {}", self.label);
        let (i50, i99) = (self.times[0].p(0.5), self.times[0].p(0.99));
        for (system, name) in names.iter().enumerate() {
            let (p50, p99) = (self.times[system].p(0.5), self.times[system].p(0.99));
            if system == 0 {
                println!("    {name:<22} {p50:>8.3} {p99:>8.3}");
            } else {
                println!(
                    "    {name:<22} {p50:>8.3} {p99:>8.3}   {:>6.1}x {:>6.1}x   {}/{}",
                    p50 / i50.max(1e-9),
                    p99 / i99.max(1e-9),
                    self.agreed[system],
                    self.asked
                );
            }
        }
    }
}

/// Runs one query on every system back to back, each timed, the first to run turning with `i`
/// so that a busy moment of the machine falls on each alike; the runs in system order.
fn interleaved(
    i: usize,
    systems: usize,
    mut run: impl FnMut(usize) -> Result<Vec<usize>, BenchError>,
) -> Result<Vec<(Duration, Vec<usize>)>, BenchError> {
    let mut runs = vec![(Duration::ZERO, Vec::new()); systems];
    for turn in 0..systems {
        let system = (i + turn) % systems;
        let (took, answer) = time(|| run(system));
        runs[system] = (took, answer?);
    }
    Ok(runs)
}

/// The same queries as API addresses, one per line, for a load generator against `serve` on the
/// kept data (`scripts/wrk-paths.lua` reads them): `http-outcome.txt` and `http-text.txt`.
fn write_http_queries(
    dir: &std::path::Path,
    cases: &[(TermId, Coordinates, i32)],
    texts: &[(&str, Coordinates)],
    radius: f64,
) -> Result<(), BenchError> {
    let place = |at: &Coordinates| format!("lat={:.5}&lon={:.5}&radius_miles={radius}", at.lat, at.lon);
    let outcome: Vec<String> = cases
        .iter()
        .map(|(term, at, age)| format!("/api/v1/search?outcome={}&{}&age={age}", term.0, place(at)))
        .collect();
    let text: Vec<String> = texts
        .iter()
        .map(|(q, at)| format!("/api/v1/search?q={}&{}", q.replace(' ', "+"), place(at)))
        .collect();
    for (name, lines) in [("http-outcome.txt", outcome), ("http-text.txt", text)] {
        std::fs::write(dir.join(name), lines.join("\n") + "\n").map_err(setup_err)?;
    }
    Ok(())
}

/// Where the benchmark keeps its data: a fresh temporary directory, or `keep` (left in place, to
/// serve the same services over HTTP afterwards).
fn data_dir(keep: Option<&std::path::Path>) -> Result<super::Generated, BenchError> {
    match keep {
        None => super::Generated::fresh(),
        Some(dir) => super::Generated::at(dir),
    }
}

/// `postgres`: a PostgreSQL server to build the PostgreSQL baseline on (a scratch database is
/// created and dropped for each size); without it, SQLite is the only baseline.
pub fn search(
    sizes: &[usize],
    queries: usize,
    keep: Option<&std::path::Path>,
    postgres: Option<&str>,
) -> Result<(), BenchError> {
    for &count in sizes {
        super::with_scratch_postgres(postgres, "localoffer_bench_search", |scratch| {
            search_at(count, queries, keep, scratch)
        })?;
    }
    Ok(())
}

fn search_at(
    count: usize,
    queries: usize,
    keep: Option<&std::path::Path>,
    postgres: Option<&str>,
) -> Result<(), BenchError> {
    let super::Generated {
        dir: _dir,
        data,
        db,
        taxonomy,
        table: _,
        places,
    } = data_dir(keep)?;
    println!(
        "search benchmark: {count} services over {} English postcode districts",
        places.len()
    );
    let (took, generated) = time(|| generate(&db, &taxonomy, &places, count));
    let generated = generated?;
    println!(
        "  generated and stored in SQLite              {:>8.2} s",
        took.as_secs_f64()
    );

    let index = SearchIndex::open(&data.index(), taxonomy.clone()).map_err(setup_err)?;
    let (took, built) = time(|| index.rebuild(&crate::app::listings::Listings(db.clone()), true));
    let built = built.map_err(setup_err)?;
    println!(
        "  localoffer index rebuilt from the database  {:>8.2} s ({built} services, {} segment(s))",
        took.as_secs_f64(),
        index.segments()
    );
    let baseline_file = data.0.join("baseline.sqlite3");
    let (took, sqlite) = time(|| Sqlite::build(&baseline_file, &generated, &taxonomy));
    let mut baselines: Vec<Box<dyn Baseline>> = vec![Box::new(sqlite?)];
    println!(
        "  SQLite baseline built                       {:>8.2} s",
        took.as_secs_f64()
    );
    if let Some(url) = postgres {
        let (took, pg) = time(|| Postgres::build(url, &generated, &taxonomy));
        baselines.push(Box::new(pg?));
        println!(
            "  PostgreSQL baseline built                   {:>8.2} s",
            took.as_secs_f64()
        );
    }
    drop(generated);

    let outcomes = leaves(&taxonomy, Vocabulary::Outcome);
    let mut rng = StdRng::seed_from_u64(7);
    let place = |rng: &mut StdRng| places[rng.random_range(0..places.len())].1;
    let radius = 10.0;
    let cases: Vec<(TermId, Coordinates, i32)> = (0..queries)
        .map(|_| {
            (
                TermId(outcomes[rng.random_range(0..outcomes.len())].clone()),
                place(&mut rng),
                rng.random_range(0..26),
            )
        })
        .collect();
    let texts: Vec<(&str, Coordinates)> = (0..queries)
        .map(|i| (TEXT_QUERIES[i % TEXT_QUERIES.len()], place(&mut rng)))
        .collect();
    let plans: Vec<([TermId; 3], Coordinates, i32)> = (0..queries)
        .map(|_| {
            let mut term = || TermId(outcomes[rng.random_range(0..outcomes.len())].clone());
            let terms = [term(), term(), term()];
            (terms, place(&mut rng), rng.random_range(0..26))
        })
        .collect();
    if keep.is_some() {
        write_http_queries(&data.0, &cases, &texts, radius)?;
    }
    let outcome_request = |(term, at, age): &(TermId, Coordinates, i32)| SearchRequest {
        outcomes: vec![term.clone()],
        origin: Some(*at),
        radius_miles: Some(radius),
        age: Some(*age),
        sort: Some(Sort::Relevance),
        limit: 20,
        ..SearchRequest::default()
    };
    let text_request = |(text, at): &(&str, Coordinates)| SearchRequest {
        text: Some(text.to_string()),
        origin: Some(*at),
        radius_miles: Some(radius),
        sort: Some(Sort::Relevance),
        limit: 20,
        ..SearchRequest::default()
    };
    let left = (50_000i64, 20_000i64);
    let plan_request = |at: Coordinates, age: i32| SearchRequest {
        origin: Some(at),
        radius_miles: Some(radius),
        age: Some(age),
        payable_from: vec![
            (Stream::SocialCare, Pence::from_stored(left.0)),
            (Stream::Education, Pence::from_stored(left.1)),
        ],
        ..SearchRequest::default()
    };
    let systems = 1 + baselines.len();
    let mut kinds = [
        QueryKind::new("outcome + 10 miles + age", systems),
        QueryKind::new("free text + 10 miles", systems),
        QueryKind::new("3-outcome plan + 10 miles", systems),
    ];
    let text_queries: Vec<TextQuery> = texts
        .iter()
        .map(|(text, _)| {
            let (named, broader) = index.named_term_ids(text);
            TextQuery::new(text, &named, &broader, &taxonomy)
        })
        .collect();
    // Warm every system up so none pays for cold caches, then interleave: each query runs on all
    // of them back to back, the order turning.
    let rounds = 2;
    for round in 0..rounds {
        let timed = round == rounds - 1;
        for (i, case) in cases.iter().enumerate() {
            let runs = interleaved(i, systems, |system| match system {
                0 => Ok(vec![index.search(&outcome_request(case)).map_err(setup_err)?.total]),
                b => Ok(vec![baselines[b - 1].outcome(&case.0, case.1, radius, case.2)?.0]),
            })?;
            kinds[0].record(timed, runs);
        }
        for (i, (case, query)) in texts.iter().zip(&text_queries).enumerate() {
            let runs = interleaved(i, systems, |system| match system {
                0 => Ok(vec![index.search(&text_request(case)).map_err(setup_err)?.total]),
                b => Ok(vec![baselines[b - 1].text(query, case.1, radius)?.0]),
            })?;
            kinds[1].record(timed, runs);
        }
        for (i, (terms, at, age)) in plans.iter().enumerate() {
            let per_outcome: Vec<Vec<TermId>> = terms.iter().map(|t| vec![t.clone()]).collect();
            let base_request = plan_request(*at, *age);
            let plan = Plan {
                terms: terms.clone(),
                origin: *at,
                radius,
                age: *age,
                left,
            };
            let runs = interleaved(i, systems, |system| match system {
                0 => Ok(index
                    .plan_matches(&per_outcome, &base_request, 5)
                    .map_err(setup_err)?
                    .iter()
                    .map(Vec::len)
                    .collect()),
                b => baselines[b - 1].plan(&plan, 5),
            })?;
            kinds[2].record(timed, runs);
        }
    }
    println!("query latency at {count} services (ms, release build, one thread, {queries} of each, interleaved):");
    let mut names = vec!["localoffer index"];
    names.extend(baselines.iter().map(|b| b.name()));
    println!(
        "    {:<22} {:>8} {:>8}   {:>7} {:>7}   same totals",
        "", "p50", "p99", "p50", "p99"
    );
    for k in &kinds {
        k.print(&names);
    }
    println!("  (ratio = baseline / localoffer; above 1 means localoffer is faster)");
    let (edits, found) = edits_until_searchable(&db, &index, count, 100)?;
    println!(
        "  edit -> searchable, {} renames one at a time (write, then the catch-up a nudge starts): p50 {:.1} ms, p99 {:.1} ms; found by the new name {found}/{}",
        edits.0.len(),
        edits.p(0.5),
        edits.p(0.99),
        edits.0.len()
    );
    Ok(())
}

/// Renames services one at a time as a provider's edit does (the row and a change-log entry in
/// one transaction), each followed by the catch-up the same server's follower runs when nudged;
/// times each until that catch-up has committed, and counts those a search then finds by name.
fn edits_until_searchable(
    db: &Db,
    index: &SearchIndex,
    count: usize,
    edits: usize,
) -> Result<(Timings, usize), BenchError> {
    let listings = crate::app::listings::Listings(db.clone());
    let mut timings = Timings::default();
    let mut found = 0;
    for i in 0..edits {
        let id = (i * 7919 % count) as i64 + 1;
        // A word no other service has, so the service is the best match for its new name.
        let name = format!("Renamed quokka{i} club");
        let started = Instant::now();
        let written = name.clone();
        db.write(move |conn| {
            diesel::update(services::table.find(id))
                .set(services::name.eq(written))
                .execute(conn)?;
            diesel::insert_into(service_changes::table)
                .values((
                    service_changes::service_id.eq(id),
                    service_changes::changed_at.eq(now()),
                ))
                .execute(conn)?;
            Ok(())
        })
        .map_err(setup_err)?;
        index.catch_up(&listings).map_err(setup_err)?;
        timings.0.push(started.elapsed());
        let hits = index
            .search(&SearchRequest {
                text: Some(name),
                limit: 3,
                ..SearchRequest::default()
            })
            .map_err(setup_err)?;
        found += usize::from(hits.results.iter().any(|h| h.service_id == id));
    }
    Ok((timings, found))
}
