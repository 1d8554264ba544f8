//! Building and running a search: filters are exact (the radius test is haversine on every
//! candidate), scoring blends BM25 text relevance, outcome matches and distance.

use std::collections::HashMap;
use std::ops::Bound;

use chrono::NaiveDateTime;
use serde::Serialize;
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::doc_predicate_query::{DocPredicateQuery, FunctionPredicate};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, Score, SegmentReader, TantivyDocument, Term};

use super::{Fields, SearchError, SearchIndex};
use crate::domain::cells;
use crate::domain::geo::Coordinates;
use crate::domain::search::{Available, SearchParams, Sort};
use crate::domain::service::Day;
use crate::domain::taxonomy::{TermId, Vocabulary};
use crate::domain::{CouncilId, Pence, Stream};

/// A search ready to run: the origin is already located.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub text: Option<String>,
    /// The service must meet at least one of these.
    pub outcomes: Vec<TermId>,
    /// Scored, not required: services meeting more of these rank higher (a plan's other outcomes).
    pub prefer_outcomes: Vec<TermId>,
    pub service_types: Vec<TermId>,
    pub needs: Vec<TermId>,
    /// A child's needs (a plan's): services for them rank up, services tagged only with other
    /// needs are left out ([`crate::domain::taxonomy::Taxonomy::needs_served`]). Empty: no effect.
    pub child_needs: Vec<TermId>,
    pub origin: Option<Coordinates>,
    pub radius_miles: Option<f64>,
    pub age: Option<i32>,
    pub stream: Option<Stream>,
    pub max_price: Option<Pence>,
    /// The service must be payable from one of these: an allocation's stream and what it has left.
    pub payable_from: Vec<(Stream, Pence)>,
    pub day: Option<Day>,
    /// A session with a place left on one of these days.
    pub available: Option<Available>,
    pub sort: Option<Sort>,
    pub offset: usize,
    pub limit: usize,
    pub facets: bool,
    /// Open Referral's age filters: the service's own minimum at least this, maximum at most this.
    pub minimum_age_from: Option<u64>,
    pub maximum_age_to: Option<u64>,
    /// The service names some term of this vocabulary.
    pub vocabulary: Option<Vocabulary>,
    /// Changed at or after this moment.
    pub modified_since: Option<NaiveDateTime>,
    /// Oldest listing first, whatever the score: a stable order for paging through a whole feed.
    pub in_id_order: bool,
    /// Only services that say where they are.
    pub located_only: bool,
    /// Searching for this council's families or officers: providers it suspended in its own
    /// Local Offer are left out (those suspended by every council listing them are not indexed).
    pub council: Option<CouncilId>,
}

impl SearchRequest {
    /// A public search as its parameters ask, centred on `origin` once it has been located, for
    /// the days `available` resolves its availability range to.
    pub fn from_params(
        params: &SearchParams,
        origin: Option<Coordinates>,
        radius_miles: Option<f64>,
        available: Option<Available>,
        facets: bool,
        council: Option<CouncilId>,
    ) -> SearchRequest {
        SearchRequest {
            text: params.text.clone(),
            outcomes: params.outcomes.clone(),
            service_types: params.service_types.clone(),
            needs: params.needs.clone(),
            origin,
            radius_miles,
            age: params.age,
            stream: params.stream,
            max_price: params.max_price,
            day: params.day,
            available,
            sort: Some(params.sort),
            offset: (params.page - 1) * params.per_page,
            limit: params.per_page,
            facets,
            council,
            ..SearchRequest::default()
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OrganisationRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub service_id: i64,
    pub name: String,
    pub organisation: OrganisationRef,
    pub distance_miles: Option<f64>,
    pub price_from: Option<Pence>,
    /// Which of the requested outcomes (or the plan's outcomes) the service meets.
    pub outcomes_matched: Vec<String>,
    /// Requested outcomes the service meets only less exactly, through a broader term it claims.
    pub outcomes_matched_broadly: Vec<String>,
    pub score: f64,
    pub outcomes: Vec<String>,
    pub service_types: Vec<String>,
    pub min_age: u64,
    pub max_age: u64,
    /// False when the feed the service came from gave no ages.
    pub ages_stated: bool,
    pub postcode: Option<String>,
    pub reach_miles: Option<f64>,
    /// Where the service is, for a map of the results.
    pub at: Option<Coordinates>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Facets {
    pub outcomes: HashMap<String, u64>,
    pub service_types: HashMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub total: usize,
    pub results: Vec<Hit>,
    pub facets: Facets,
}

const MAX_TOKENS: usize = 12;

/// What a typo's one-edit neighbour scores: about what the word itself would in a name.
const TYPO_WEIGHT: Score = 8.0;

/// What a term the free text names adds for a service tagged with it: more than the words
/// alone usually score, so a service that is what the question names ("a carer" names personal
/// assistants) outranks one that only shares a word with it ("Young carers breaks").
const NAMED_WEIGHT: Score = 20.0;

/// What meeting one asked-for outcome adds to a service's score.
const OUTCOME_WEIGHT: Score = 2.0;
/// What claiming an outcome broader than one asked for adds: less than meeting it.
const BROADER_WEIGHT: Score = 0.25;

/// What being for the child's needs adds to a match's score: half of one outcome met, so
/// meeting more of the plan's outcomes still comes first.
const NEEDS_WEIGHT: Score = 1.0;

type Clause = (Occur, Box<dyn Query>);

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

/// Matches any of the terms; scores `weight` for each one matched, so the score counts outcomes met.
fn any_of(field: Field, ids: &[TermId], weight: Score) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        ids.iter()
            .map(|id| {
                (
                    Occur::Should,
                    Box::new(ConstScoreQuery::new(term_query(field, id.as_str()), weight)) as Box<dyn Query>,
                )
            })
            .collect(),
    ))
}
fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

fn f64_range(field: Field, lo: f64, hi: f64) -> Box<dyn Query> {
    Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_f64(field, lo)),
        Bound::Included(Term::from_field_f64(field, hi)),
    ))
}

fn u64_range(field: Field, lo: Bound<u64>, hi: Bound<u64>) -> Box<dyn Query> {
    let t = |b: Bound<u64>| match b {
        Bound::Included(v) => Bound::Included(Term::from_field_u64(field, v)),
        Bound::Excluded(v) => Bound::Excluded(Term::from_field_u64(field, v)),
        Bound::Unbounded => Bound::Unbounded,
    };
    Box::new(RangeQuery::new(t(lo), t(hi)))
}

/// Decay that keeps relevance first but lets nearer services win ties: 1 at the door, 0.5 at 5 miles.
fn nearness(miles: f64) -> f64 {
    1.0 / (1.0 + miles / 5.0)
}

/// The tests read from each candidate's columns, in one pass: the exact distance (within the
/// radius, or within the service's own reach), the age, the price and what it can be paid from.
/// Only candidates reach it: it never leads a search through the whole index when another clause
/// (the place's cells, an outcome, a word) narrows it first.
#[derive(Debug, Clone)]
struct Exact {
    place: Option<(Coordinates, f64)>,
    age: Option<u64>,
    max_price: Option<u64>,
    /// (stream bit, pence left): payable from one of these (none of them: nothing is payable).
    payable_from: Option<Vec<(u64, u64)>>,
}

impl Exact {
    /// `None` when there is nothing to test.
    fn query(self) -> Option<Box<dyn Query>> {
        if self.place.is_none() && self.age.is_none() && self.max_price.is_none() && self.payable_from.is_none() {
            return None;
        }
        let exact = FunctionPredicate::from(move |segment: &SegmentReader| {
            let ff = segment.fast_fields();
            let lat = ff.f64("lat")?;
            let lon = ff.f64("lon")?;
            let reach = ff.f64("reach_miles")?.first_or_default_col(0.0);
            let min_age = ff.u64("min_age")?.first_or_default_col(0);
            let max_age = ff.u64("max_age")?.first_or_default_col(0);
            let price = ff.u64("price_from")?.first_or_default_col(u64::MAX);
            let streams = ff.u64("stream_mask")?.first_or_default_col(0);
            let this = self.clone();
            Ok(move |doc: DocId| {
                if let Some(age) = this.age
                    && !(min_age.get_val(doc) <= age && age <= max_age.get_val(doc))
                {
                    return false;
                }
                if this.max_price.is_some() || this.payable_from.is_some() {
                    let price = price.get_val(doc);
                    if this.max_price.is_some_and(|max| price > max) {
                        return false;
                    }
                    if let Some(payable) = &this.payable_from {
                        let mask = streams.get_val(doc);
                        if !payable.iter().any(|(bit, left)| mask & bit != 0 && price <= *left) {
                            return false;
                        }
                    }
                }
                match this.place {
                    None => true,
                    // Services that did not say where they are are never within a radius.
                    Some((origin, radius)) => match lat.first(doc).zip(lon.first(doc)) {
                        None => false,
                        Some((lat, lon)) => {
                            let miles = origin.miles_to(Coordinates { lat, lon });
                            miles <= radius || miles <= reach.get_val(doc)
                        }
                    },
                }
            })
        });
        let exact: DocPredicateQuery = exact.into();
        Some(Box::new(exact))
    }
}

impl SearchIndex {
    fn text_query(&self, text: &str) -> Result<Option<Box<dyn Query>>, SearchError> {
        let f = &self.fields;
        let mut analyzer = self.index.tokenizer_for_field(f.name)?;
        let mut tokens: Vec<String> = Vec::new();
        let mut stream = analyzer.token_stream(text);
        stream.process(&mut |t| {
            if tokens.len() < MAX_TOKENS && !tokens.contains(&t.text) {
                tokens.push(t.text.clone());
            }
        });
        // Words such as "someone", "my", "so" say nothing about a service, unless they are all
        // there is: then they are a name ("We Are With You").
        let content: Vec<String> = tokens
            .iter()
            .filter(|t| !self.stop_stems.contains(*t))
            .cloned()
            .collect();
        let tokens = if content.is_empty() { tokens } else { content };
        if tokens.is_empty() {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let text_fields = [
            (f.name, 3.0),
            (f.taxonomy_text, 2.5),
            (f.description, 1.0),
            (f.organisation_name, 0.5),
        ];
        let mut per_token: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(tokens.len());
        for token in &tokens {
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = text_fields
                .iter()
                .map(|(field, boost)| {
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(term_query(*field, token), *boost)) as Box<dyn Query>,
                    )
                })
                .collect();
            // A word no service uses is most likely a typo: its one-edit neighbours score like a
            // real match. Words the index knows are taken as written (a fuzzy look-up walks the
            // whole dictionary and every service it finds, wherever it is).
            let known = searcher.doc_freq(&Term::from_field_text(f.all_text, token))? > 0;
            if !known && token.chars().count() >= 4 {
                let fuzzy = FuzzyTermQuery::new(Term::from_field_text(f.all_text, token), 1, true);
                alternatives.push((Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), TYPO_WEIGHT))));
            }
            per_token.push((Occur::Should, Box::new(BooleanQuery::new(alternatives))));
        }
        Ok(Some(Box::new(BooleanQuery::new(per_token))))
    }

    /// Taxonomy terms the text names outright ("make friends" names the friendships outcome),
    /// with the field of each. A phrase inside a longer one named is not counted: "so I can go to
    /// work" is about a break for the parent, not the child's employment.
    fn named(&self, text: &str) -> Vec<(Field, &str)> {
        let words = super::words(&self.phrase_words, text);
        let mut found: Vec<(usize, usize, Field, &str)> = Vec::new();
        for (phrase, field, id) in &self.phrases {
            for (start, window) in words.windows(phrase.len()).enumerate() {
                if window == phrase.as_slice() {
                    found.push((start, start + phrase.len(), *field, id.as_str()));
                }
            }
        }
        let inside_longer = |(start, end, ..): &(usize, usize, Field, &str)| {
            found
                .iter()
                .any(|(s, e, ..)| s <= start && end <= e && e - s > end - start)
        };
        let mut named: Vec<(Field, &str)> = Vec::new();
        for m in &found {
            if !inside_longer(m) && !named.contains(&(m.2, m.3)) {
                named.push((m.2, m.3));
            }
        }
        named
    }

    /// The terms free text names, and the broader outcomes that meet a named outcome less
    /// exactly: what a search for `text` matches besides its words (for the benchmark's baselines).
    pub fn named_term_ids(&self, text: &str) -> (Vec<String>, Vec<String>) {
        let named = self.named(text);
        let broader = named
            .iter()
            .filter(|(field, _)| *field == self.fields.outcome)
            .flat_map(|(_, id)| self.taxonomy.broader(id).map(|t| t.id.0.clone()))
            .collect();
        (named.into_iter().map(|(_, id)| id.to_string()).collect(), broader)
    }

    /// The terms the text names as scoring clauses on the term fields: meeting an outcome beats
    /// mentioning a word.
    fn named_terms(&self, text: &str) -> Vec<Clause> {
        let named = self.named(text);
        let mut clauses: Vec<Clause> = Vec::new();
        for (field, id) in named {
            clauses.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(term_query(field, id), NAMED_WEIGHT)),
            ));
            // A named outcome is met less exactly by services claiming a broader one.
            if field == self.fields.outcome {
                let mut weight = NAMED_WEIGHT;
                for broader in self.taxonomy.broader(id) {
                    weight /= 2.0;
                    clauses.push((
                        Occur::Should,
                        Box::new(ConstScoreQuery::new(
                            term_query(self.fields.own_outcome, broader.id.as_str()),
                            weight,
                        )),
                    ));
                }
            }
        }
        clauses
    }

    /// Services meeting one of `outcomes`: exactly or through a narrower term (scoring
    /// [`OUTCOME_WEIGHT`] each), or less exactly through a broader term they claim (scoring
    /// [`BROADER_WEIGHT`] each), so that a broad claim never outranks an exact one.
    fn outcomes_met(&self, outcomes: &[TermId]) -> Box<dyn Query> {
        let f = self.fields;
        let mut broader: Vec<TermId> = Vec::new();
        for id in outcomes {
            for term in self.taxonomy.broader(id.as_str()) {
                if !outcomes.contains(&term.id) && !broader.contains(&term.id) {
                    broader.push(term.id.clone());
                }
            }
        }
        Box::new(BooleanQuery::new(vec![
            (Occur::Should, any_of(f.outcome, outcomes, OUTCOME_WEIGHT)),
            (Occur::Should, any_of(f.own_outcome, &broader, BROADER_WEIGHT)),
        ]))
    }

    /// Keep services for the child (tagged with a need it is served by, or with no need at all)
    /// and score those for its needs above those for everyone.
    fn child_needs_clauses(&self, needs: &[TermId]) -> Vec<Clause> {
        let f = self.fields;
        let served = self.taxonomy.needs_served(needs);
        // Every known need tag puts its area of need (a root) in the lineage field.
        let areas: Vec<TermId> = self
            .taxonomy
            .terms
            .iter()
            .filter(|t| t.vocabulary == Vocabulary::Need && t.parent.is_none())
            .map(|t| t.id.clone())
            .collect();
        let untagged = BooleanQuery::new(vec![
            (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
            (Occur::MustNot, any_of(f.need, &areas, 1.0)),
        ]);
        let for_child = BooleanQuery::new(vec![
            (Occur::Should, any_of(f.own_need, &served, 1.0)),
            (Occur::Should, Box::new(untagged)),
        ]);
        vec![
            filter(Box::new(for_child)),
            (
                Occur::Should,
                Box::new(ConstScoreQuery::new(any_of(f.own_need, &served, 1.0), NEEDS_WEIGHT)),
            ),
        ]
    }

    /// Candidates for a place from the index's cells: services in the cells covering the circle,
    /// and travelling services filed under a cell holding the origin. `None` when the circle is
    /// too large for few cells: then the exact test looks at every service.
    fn place_candidates(&self, origin: Coordinates, radius: f64) -> Option<Box<dyn Query>> {
        let f = self.fields;
        let cover = cells::cover(origin, radius, cells::MAX_CELLS)?;
        let near = cover.into_iter().map(|cell| (f.cell, cell));
        let reaching = cells::cells_of(origin)
            .chain([cells::EVERYWHERE])
            .map(|cell| (f.reach_cell, cell));
        let clauses: Vec<Clause> = near
            .chain(reaching)
            .map(|(field, cell)| {
                let term = Term::from_field_u64(field, cell.0);
                (
                    Occur::Should,
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>,
                )
            })
            .collect();
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    fn build(&self, r: &SearchRequest) -> Result<Box<dyn Query>, SearchError> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(text) = r.text.as_deref() {
            // Either a word of the text or a term it names: OR, ranked by BM25 and the terms.
            let mut either = self.named_terms(text);
            if let Some(q) = self.text_query(text)? {
                either.push((Occur::Should, q));
            }
            if !either.is_empty() {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(either))));
            }
        }
        if !r.outcomes.is_empty() {
            clauses.push((Occur::Must, self.outcomes_met(&r.outcomes)));
        }
        if !r.prefer_outcomes.is_empty() {
            clauses.push((Occur::Should, any_of(f.outcome, &r.prefer_outcomes, 1.0)));
        }
        if !r.service_types.is_empty() {
            clauses.push(filter(any_of(f.service_type, &r.service_types, 1.0)));
        }
        if !r.needs.is_empty() {
            clauses.push(filter(any_of(f.need, &r.needs, 1.0)));
        }
        if !r.child_needs.is_empty() {
            clauses.extend(self.child_needs_clauses(&r.child_needs));
        }
        let place = r.origin.zip(r.radius_miles);
        if let Some(candidates) = place.and_then(|(origin, radius)| self.place_candidates(origin, radius)) {
            clauses.push(filter(candidates));
        }
        let exact = Exact {
            place,
            age: r.age.map(|a| a.max(0) as u64),
            max_price: r.max_price.map(|p| p.pence().max(0) as u64),
            payable_from: (!r.payable_from.is_empty()).then(|| {
                r.payable_from
                    .iter()
                    .filter_map(|(stream, left)| Some((super::stream_bit(*stream)?, left.pence().max(0) as u64)))
                    .collect()
            }),
        };
        if let Some(exact) = exact.query() {
            clauses.push(filter(exact));
        }
        if let Some(stream) = r.stream {
            clauses.push(filter(term_query(f.stream, stream.as_str())));
        }
        if let Some(day) = r.day {
            clauses.push(filter(term_query(f.day, day.as_str())));
        }
        if let Some(available) = r.available {
            let to = available
                .to
                .map_or(Bound::Unbounded, |to| Bound::Included(super::day_number(to)));
            clauses.push(filter(u64_range(
                f.open_day,
                Bound::Included(super::day_number(available.from)),
                to,
            )));
        }
        if let Some(min) = r.minimum_age_from {
            clauses.push(filter(u64_range(f.min_age, Bound::Included(min), Bound::Unbounded)));
        }
        if let Some(max) = r.maximum_age_to {
            clauses.push(filter(u64_range(f.max_age, Bound::Unbounded, Bound::Included(max))));
        }
        if let Some(vocabulary) = r.vocabulary {
            let field = match vocabulary {
                Vocabulary::Outcome => f.outcome,
                Vocabulary::ServiceType => f.service_type,
                Vocabulary::Need => f.need,
            };
            let ids: Vec<TermId> = self
                .taxonomy
                .terms
                .iter()
                .filter(|t| t.vocabulary == vocabulary)
                .map(|t| t.id.clone())
                .collect();
            clauses.push(filter(any_of(field, &ids, 1.0)));
        }
        if r.located_only {
            clauses.push(filter(f64_range(f.lat, -90.0, 90.0)));
        }
        if let Some(since) = r.modified_since {
            clauses.push(filter(u64_range(
                f.modified,
                Bound::Included(since.and_utc().timestamp().max(0) as u64),
                Bound::Unbounded,
            )));
        }
        if clauses.iter().all(|(occur, _)| *occur == Occur::Should) {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0))));
        }
        // After the match-everything clause: leaving out only adds no way to match.
        if let Some(council) = r.council {
            let suspended = Term::from_field_u64(f.suspended_by, council.0.max(0) as u64);
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(suspended, IndexRecordOption::Basic)),
            ));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    pub fn search(&self, r: &SearchRequest) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        let query = self.build(r)?;
        let origin = r.origin;
        let sort = r.sort.unwrap_or(Sort::Relevance);
        // With words, BM25 leads and nearness scales it. Without, the score counts outcomes met
        // (whole numbers) and nearness (under 1) only breaks ties: more outcomes always come first.
        let text_led = r.text.as_deref().is_some_and(|t| !t.trim().is_empty());
        let in_id_order = r.in_id_order;
        let top =
            TopDocs::with_limit(r.limit.max(1))
                .and_offset(r.offset)
                .tweak_score(move |segment: &SegmentReader| {
                    let ff = segment.fast_fields();
                    let (lat, lon) = (ff.f64("lat").ok(), ff.f64("lon").ok());
                    let price = ff.u64("price_from").ok().map(|c| c.first_or_default_col(u64::MAX));
                    let id = ff.u64("id").ok().map(|c| c.first_or_default_col(0));
                    move |doc: DocId, score: Score| {
                        // Services that did not say where they are have no distance.
                        let miles = match (origin, &lat, &lon) {
                            (Some(o), Some(lat), Some(lon)) => lat
                                .first(doc)
                                .zip(lon.first(doc))
                                .map(|(lat, lon)| o.miles_to(Coordinates { lat, lon })),
                            _ => None,
                        };
                        if in_id_order {
                            return -(id.as_ref().map_or(0, |c| c.get_val(doc)) as f64);
                        }
                        match sort {
                            Sort::Relevance if text_led => {
                                f64::from(score) * miles.map_or(1.0, |m| 0.5 + 0.5 * nearness(m))
                            }
                            Sort::Relevance => f64::from(score) + miles.map_or(0.0, nearness),
                            Sort::Distance => -miles.unwrap_or(f64::MAX),
                            Sort::Price => {
                                let p = price.as_ref().map_or(u64::MAX, |c| c.get_val(doc)) as f64;
                                -p - miles.unwrap_or(0.0) * 1e-6
                            }
                        }
                    }
                });
        // One pass: the page, the total and (when asked) the facet counts from one collection.
        let facet_counts = r.facets.then_some(FacetCounts);
        let (total, top, facets) = searcher.search(&query, &(Count, top, facet_counts))?;
        let facets = facets.unwrap_or_default();
        let wanted: Vec<&TermId> = r.outcomes.iter().chain(r.prefer_outcomes.iter()).collect();
        let mut results = Vec::with_capacity(top.len());
        for (score, address) in top {
            results.push(self.hit(&searcher, address, score, origin, &wanted, sort)?);
        }
        Ok(SearchResults { total, results, facets })
    }

    fn hit(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        score: f64,
        origin: Option<Coordinates>,
        wanted: &[&TermId],
        sort: Sort,
    ) -> Result<Hit, SearchError> {
        let f: &Fields = &self.fields;
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string);
        let texts = |field: Field| {
            doc.get_all(field)
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        };
        let u64_of = |field: Field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
        let f64_of = |field: Field| doc.get_first(field).and_then(|v| v.as_f64()).unwrap_or(0.0);
        let at = doc
            .get_first(f.lat)
            .and_then(|v| v.as_f64())
            .zip(doc.get_first(f.lon).and_then(|v| v.as_f64()))
            .map(|(lat, lon)| Coordinates { lat, lon });
        let outcomes = texts(f.own_outcome);
        let mut outcomes_matched = Vec::new();
        let mut outcomes_matched_broadly = Vec::new();
        for w in wanted {
            if outcomes
                .iter()
                .any(|own| self.taxonomy.lineage(own).any(|t| t.id == **w))
            {
                outcomes_matched.push(w.0.clone());
            } else if self.taxonomy.broader(w.as_str()).any(|t| outcomes.contains(&t.id.0)) {
                outcomes_matched_broadly.push(w.0.clone());
            }
        }
        for list in [&mut outcomes_matched, &mut outcomes_matched_broadly] {
            list.sort();
            list.dedup();
        }
        let price = u64_of(f.price_from);
        let reach = f64_of(f.reach_miles);
        Ok(Hit {
            service_id: u64_of(f.id) as i64,
            name: text(f.name).unwrap_or_default(),
            organisation: OrganisationRef {
                id: u64_of(f.organisation_id) as i64,
                name: text(f.organisation_name).unwrap_or_default(),
            },
            distance_miles: origin.zip(at).map(|(o, at)| (o.miles_to(at) * 100.0).round() / 100.0),
            price_from: (price != u64::MAX).then(|| Pence::from_stored(price as i64)),
            outcomes_matched,
            outcomes_matched_broadly,
            score: if sort == Sort::Relevance {
                (score * 1000.0).round() / 1000.0
            } else {
                0.0
            },
            outcomes,
            service_types: texts(f.own_service_type),
            min_age: u64_of(f.min_age),
            max_age: u64_of(f.max_age),
            ages_stated: u64_of(f.ages_stated) == 1,
            postcode: text(f.postcode),
            reach_miles: (reach > 0.0).then_some(reach),
            at,
        })
    }

    /// Matches for a plan: for each outcome (a list of terms), up to `limit` services meeting it,
    /// services meeting more of the plan's outcomes first, and those meeting it only through a
    /// broader term after every service meeting it exactly. One pass over the index serves every
    /// outcome; an outcome crowded out of that pass gets a query of its own.
    pub fn plan_matches(
        &self,
        outcomes: &[Vec<TermId>],
        base: &SearchRequest,
        limit: usize,
    ) -> Result<Vec<Vec<Hit>>, SearchError> {
        let mut all: Vec<TermId> = outcomes.iter().flatten().cloned().collect();
        all.sort();
        all.dedup();
        let pool = (limit * outcomes.len() * 3).max(20);
        let combined = self.search(&SearchRequest {
            outcomes: all.clone(),
            prefer_outcomes: Vec::new(),
            sort: Some(Sort::Relevance),
            offset: 0,
            limit: pool,
            facets: false,
            ..base.clone()
        })?;
        let mut per_outcome = Vec::with_capacity(outcomes.len());
        for terms in outcomes {
            let mut hits = best_for(&combined.results, terms, limit);
            if hits.len() < limit && combined.total > combined.results.len() {
                let own = self.search(&SearchRequest {
                    outcomes: terms.clone(),
                    prefer_outcomes: all.clone(),
                    sort: Some(Sort::Relevance),
                    offset: 0,
                    limit: pool,
                    facets: false,
                    ..base.clone()
                })?;
                hits = best_for(&own.results, terms, limit);
            }
            per_outcome.push(hits);
        }
        Ok(per_outcome)
    }
}

/// Counts of services per outcome and per service type among everything a search matches, read
/// from the term fields' columns as the matches are collected.
struct FacetCounts;

struct SegmentFacets {
    columns: [Option<tantivy::columnar::StrColumn>; 2],
    counts: [Vec<u64>; 2],
}

const FACET_FIELDS: [&str; 2] = ["outcome", "service_type"];

impl Collector for FacetCounts {
    type Fruit = Facets;
    type Child = SegmentFacets;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<SegmentFacets> {
        let ff = segment.fast_fields();
        let columns = [ff.str(FACET_FIELDS[0])?, ff.str(FACET_FIELDS[1])?];
        let counts = [0, 1].map(|i| vec![0; columns[i].as_ref().map_or(0, |c| c.num_terms())]);
        Ok(SegmentFacets { columns, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Facets>) -> tantivy::Result<Facets> {
        let mut all = Facets::default();
        for segment in segments {
            for (name, n) in segment.outcomes {
                *all.outcomes.entry(name).or_default() += n;
            }
            for (name, n) in segment.service_types {
                *all.service_types.entry(name).or_default() += n;
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = Facets;

    fn collect(&mut self, doc: DocId, _: Score) {
        for (column, counts) in self.columns.iter().zip(self.counts.iter_mut()) {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    if let Some(n) = counts.get_mut(ord as usize) {
                        *n += 1;
                    }
                }
            }
        }
    }

    fn harvest(self) -> Facets {
        let mut named: [HashMap<String, u64>; 2] = Default::default();
        for ((column, counts), out) in self.columns.iter().zip(&self.counts).zip(named.iter_mut()) {
            let Some(column) = column else { continue };
            for (ord, n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                let mut name = String::new();
                if column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
                    out.insert(name, *n);
                }
            }
        }
        let [outcomes, service_types] = named;
        Facets {
            outcomes,
            service_types,
        }
    }
}

/// Up to `limit` of `hits` (best first) meeting one of `terms`: those meeting one exactly (or
/// through a narrower term) first, then those meeting one only through a broader term.
fn best_for(hits: &[Hit], terms: &[TermId], limit: usize) -> Vec<Hit> {
    let meets = |list: &[String]| terms.iter().any(|t| list.contains(&t.0));
    let exact = hits.iter().filter(|h| meets(&h.outcomes_matched));
    let broadly = hits
        .iter()
        .filter(|h| !meets(&h.outcomes_matched) && meets(&h.outcomes_matched_broadly));
    exact.chain(broadly).take(limit).cloned().collect()
}
