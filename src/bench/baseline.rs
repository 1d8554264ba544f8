//! What the search benchmark's baselines share: the three questions each answers, how a generated
//! service is described to them (the outcomes it meets, its words, its taxonomy tags), and the exact
//! circle test and ranking done in Rust on the rows each database returns.

use std::collections::{BTreeMap, HashMap};

use super::BenchError;
use super::search::{GeneratedService as Service, Kind};
use crate::domain::geo::Coordinates;
use crate::domain::taxonomy::{Taxonomy, TermId, Vocabulary};

/// A search's total and the ids of its first 20 results.
pub(super) type Answer = (usize, Vec<i64>);

/// Free text as the baselines search it: its content words, and the tags of the terms it names
/// ("zl7" meets term 7 exactly, "zo7" claims a term that meets 7 less exactly).
pub(super) struct TextQuery {
    pub words: Vec<String>,
    pub tags: Vec<String>,
}

impl TextQuery {
    /// `named`: the terms the text names; `broader`: outcomes meeting a named one less exactly
    /// (both as the index works them out, so every system answers the same question).
    pub(super) fn new(text: &str, named: &[String], broader: &[String], taxonomy: &Taxonomy) -> TextQuery {
        let tags = named
            .iter()
            .map(|id| tag("l", taxonomy, id))
            .chain(broader.iter().map(|id| tag("o", taxonomy, id)))
            .collect();
        TextQuery {
            words: content_words(text, taxonomy),
            tags,
        }
    }
}

/// A system the index is compared with.
pub(super) trait Baseline {
    fn name(&self) -> &'static str;

    /// Services meeting `term` (exactly or through a broader claim) within `radius` of `origin`
    /// (or their own reach), right for `age`: the total and the nearest 20, exact matches first.
    fn outcome(&mut self, term: &TermId, origin: Coordinates, radius: f64, age: i32) -> Result<Answer, BenchError>;

    /// Free text near a place: services matching a word or a named term inside the circle; the
    /// total and the best 20.
    fn text(&mut self, text: &TextQuery, origin: Coordinates, radius: f64) -> Result<Answer, BenchError>;

    /// A three-outcome plan: services meeting any of them near the place, right for the age and
    /// payable from what is left (social care, education); ranked by outcomes met, then nearness.
    /// How many of up to `limit` each outcome gets.
    fn plan(&mut self, plan: &Plan, limit: usize) -> Result<Vec<usize>, BenchError>;
}

/// A plan query's terms and where, for whom and with how much left.
pub(super) struct Plan {
    pub terms: [TermId; 3],
    pub origin: Coordinates,
    pub radius: f64,
    pub age: i32,
    pub left: (i64, i64),
}

/// Tags as text tokens: "zl7" for a term in a service's lineage, "zo7" for one it claims itself.
pub(super) fn tag(prefix: &str, taxonomy: &Taxonomy, id: &str) -> String {
    let n = taxonomy
        .terms
        .iter()
        .position(|t| t.id.as_str() == id)
        .unwrap_or(usize::MAX);
    format!("z{prefix}{n}")
}

/// Which outcomes a service meets: each term in its outcomes' lineage exactly, and each narrower
/// term of an outcome it claims less exactly.
pub(super) fn meets<'a>(s: &Service, taxonomy: &'a Taxonomy) -> BTreeMap<&'a str, bool> {
    let mut meets = BTreeMap::new();
    for own in s
        .terms
        .iter()
        .filter(|(_, k)| *k == Kind::Outcome)
        .map(|(t, _)| t.as_str())
    {
        for term in taxonomy.lineage(own) {
            meets.insert(term.id.as_str(), true);
        }
        for narrower in taxonomy.terms.iter().filter(|t| t.vocabulary == Vocabulary::Outcome) {
            if taxonomy.broader(narrower.id.as_str()).any(|t| t.id.as_str() == own) {
                meets.entry(narrower.id.as_str()).or_insert(false);
            }
        }
    }
    meets
}

/// The words of a service's terms (labels and synonyms of each term's lineage) and its tags.
pub(super) fn term_words_and_tags(s: &Service, taxonomy: &Taxonomy) -> (String, String) {
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
    (words.join(" "), tags.join(" "))
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

/// Whether a service at `at` with `reach` serves `origin`: inside the circle or its own reach.
fn serves(origin: Coordinates, radius: f64, at: Coordinates, reach: f64) -> Option<f64> {
    let d = origin.miles_to(at);
    (d <= radius || d <= reach).then_some(d)
}

/// Outcome rows (id, lat, lon, reach, exact) to the answer: exact matches first, then nearest.
pub(super) fn nearest_first(rows: Vec<(i64, f64, f64, f64, bool)>, origin: Coordinates, radius: f64) -> Answer {
    let mut hits: Vec<(bool, f64, i64)> = rows
        .into_iter()
        .filter_map(|(id, lat, lon, reach, exact)| {
            serves(origin, radius, Coordinates { lat, lon }, reach).map(|d| (exact, d, id))
        })
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.total_cmp(&b.1)));
    (hits.len(), hits.into_iter().take(20).map(|h| h.2).collect())
}

/// Text rows (id, score, lat, lon, reach) to the answer, best first: `better` orders two scores.
pub(super) fn best_first(
    rows: Vec<(i64, f64, f64, f64, f64)>,
    origin: Coordinates,
    radius: f64,
    better: fn(f64, f64) -> std::cmp::Ordering,
) -> Answer {
    let mut hits: Vec<(f64, i64)> = rows
        .into_iter()
        .filter_map(|(id, score, lat, lon, reach)| {
            serves(origin, radius, Coordinates { lat, lon }, reach).map(|_| (score, id))
        })
        .collect();
    hits.sort_by(|a, b| better(a.0, b.0));
    (hits.len(), hits.into_iter().take(20).map(|h| h.1).collect())
}

/// Plan rows (id, lat, lon, reach, term met, exactly) to how many of up to `limit` each outcome
/// gets, services meeting more of the plan first.
pub(super) fn plan_counts(rows: Vec<(i64, f64, f64, f64, String, bool)>, plan: &Plan, limit: usize) -> Vec<usize> {
    let mut by_service: HashMap<i64, (f64, Vec<(String, bool)>)> = HashMap::new();
    for (id, lat, lon, reach, term, exact) in rows {
        if let Some(d) = serves(plan.origin, plan.radius, Coordinates { lat, lon }, reach) {
            by_service.entry(id).or_insert((d, Vec::new())).1.push((term, exact));
        }
    }
    let mut ranked: Vec<(f64, Vec<(String, bool)>)> = by_service
        .into_values()
        .map(|(d, met)| {
            let score: f64 = met.iter().map(|(_, exact)| if *exact { 2.0 } else { 0.25 }).sum();
            (score + 1.0 / (1.0 + d / 5.0), met)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    plan.terms
        .iter()
        .map(|term| {
            let meeting = |exactly: bool| {
                ranked
                    .iter()
                    .filter(|r| r.1.iter().any(|(t, e)| t == term.as_str() && *e == exactly))
                    .count()
            };
            (meeting(true) + meeting(false)).min(limit)
        })
        .collect()
}
