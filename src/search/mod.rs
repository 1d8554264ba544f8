//! Everything tantivy: the schema, keeping the index in step with the database (the source of
//! truth) through its change log, and outcome-driven, location-aware queries.

#[cfg(test)]
mod place_tests;
mod query;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};

pub use query::{Facets, Hit, OrganisationRef, SearchRequest, SearchResults};

use crate::domain::service::Listing;
use crate::domain::taxonomy::Taxonomy;
use crate::domain::{ServiceId, Stream, cells};

/// Bump when the schema or what is indexed changes: an index of another version is rebuilt.
const SCHEMA_VERSION: u32 = 8;
const CHUNK: i64 = 2000;
/// The tokenizer of every text field: English words, stemmed, without the taxonomy's stop words.
const WORDS: &str = "en_words";
/// Names keep every word: "We Are With You" is a charity, and its name is all stop words.
const NAME_WORDS: &str = "en_names";
/// Single edits need little: one indexing thread with tantivy's smallest arena (the arena is held
/// for the writer's life, so a large one would sit in every server's memory).
const EDIT_THREADS: usize = 1;
const EDIT_MEMORY: usize = 15_000_000;
/// A rebuild indexes every service at once, on two threads with room for many documents.
const REBUILD_THREADS: usize = 2;
const REBUILD_MEMORY: usize = 200_000_000;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Directory(String),
    #[error("reading what to index: {0}")]
    Source(String),
    #[error("the search index is in use by another localoffer process on this data directory")]
    InUse,
}

/// Where the index reads the truth from: the published services and the change log that says
/// which of them changed. The index is derived data; its caller wires the database in.
pub trait Source: Send + Sync {
    /// Log entries after `seq`, oldest first: (seq, service, when).
    fn changes_after(&self, seq: i64, limit: i64) -> Result<Vec<(i64, ServiceId, chrono::NaiveDateTime)>, SearchError>;
    /// The last log entry made before `at` (0 if none).
    fn last_change_before(&self, at: chrono::NaiveDateTime) -> Result<i64, SearchError>;
    fn count_published(&self) -> Result<i64, SearchError>;
    /// Published services after `after`, in id order, with where they are.
    fn published_places_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(ServiceId, Option<crate::domain::geo::Coordinates>)>, SearchError>;
    /// What to index for these services; ids missing or no longer listed are left out.
    fn listings(&self, ids: &[ServiceId]) -> Result<Vec<Listing>, SearchError>;
}

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// A day as the index holds it: days since 1 January 1970 (0 for any day before).
pub(crate) fn day_number(day: chrono::NaiveDate) -> u64 {
    (day - chrono::NaiveDate::default()).num_days().max(0) as u64
}

/// What the index's last commit records: which schema wrote it and the last change it holds.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    schema: u32,
    seq: i64,
}

#[derive(Clone, Copy)]
pub(crate) struct Fields {
    id: Field,
    organisation_id: Field,
    organisation_name: Field,
    name: Field,
    description: Field,
    taxonomy_text: Field,
    outcome: Field,
    own_outcome: Field,
    service_type: Field,
    own_service_type: Field,
    need: Field,
    own_need: Field,
    stream: Field,
    day: Field,
    lat: Field,
    lon: Field,
    reach_miles: Field,
    min_age: Field,
    max_age: Field,
    /// 1 when the ages were stated, 0 when the feed gave none.
    ages_stated: Field,
    price_from: Field,
    postcode: Field,
    modified: Field,
    open_day: Field,
    /// Ids of the councils that suspended the provider (one term each).
    suspended_by: Field,
    /// The cells holding the service, one per level ([`crate::domain::cells`]).
    cell: Field,
    /// The cells covering the service's reach, when it travels.
    reach_cell: Field,
    /// Every word of the service in one field, to tell a known word from a typo in one look-up
    /// and to match a typo once rather than in every field.
    all_text: Field,
    /// The funding streams it takes, one bit each (in [`crate::domain::Stream::ALL`] order).
    stream_mask: Field,
}

/// Bytes of stored documents compressed together. Each hit decompresses its whole block: with
/// tantivy's 16 KB (about 80 of our documents) that was a tenth of an outcome query's time at
/// 100,000 services (0.33 ms at p50, 0.29 with 2 KB blocks of about 10). An index made with
/// other blocks is rebuilt on opening.
const DOCSTORE_BLOCK: usize = 2048;

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |stored: bool, tokenizer: &str| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored { options.set_stored() } else { options }
    };
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        organisation_id: b.add_u64_field("organisation_id", STORED),
        organisation_name: b.add_text_field("organisation_name", text(true, NAME_WORDS)),
        name: b.add_text_field("name", text(true, NAME_WORDS)),
        description: b.add_text_field("description", text(false, WORDS)),
        taxonomy_text: b.add_text_field("taxonomy_text", text(false, WORDS)),
        // With ancestors, so a search for a broad outcome finds services tagged with a narrower one.
        outcome: b.add_text_field("outcome", STRING | FAST),
        // Without ancestors, so a plan's narrow outcome can find services claiming a broader one.
        own_outcome: b.add_text_field("own_outcome", STRING | STORED),
        service_type: b.add_text_field("service_type", STRING | FAST),
        own_service_type: b.add_text_field("own_service_type", STORED),
        need: b.add_text_field("need", STRING),
        // The service's own need tags, without ancestors: which children it is for.
        own_need: b.add_text_field("own_need", STRING),
        stream: b.add_text_field("stream", STRING),
        day: b.add_text_field("day", STRING),
        lat: b.add_f64_field("lat", INDEXED | FAST | STORED),
        lon: b.add_f64_field("lon", INDEXED | FAST | STORED),
        reach_miles: b.add_f64_field("reach_miles", INDEXED | FAST | STORED),
        min_age: b.add_u64_field("min_age", INDEXED | FAST | STORED),
        max_age: b.add_u64_field("max_age", INDEXED | FAST | STORED),
        ages_stated: b.add_u64_field("ages_stated", STORED),
        price_from: b.add_u64_field("price_from", INDEXED | FAST | STORED),
        postcode: b.add_text_field("postcode", STORED),
        // Seconds since 1970 of the last change, for Open Referral's `modified_after`.
        modified: b.add_u64_field("modified", INDEXED | FAST),
        // Days since 1970 (in England) with a session to come that has a place left, one value each.
        open_day: b.add_u64_field("open_day", INDEXED),
        suspended_by: b.add_u64_field("suspended_by", INDEXED),
        cell: b.add_u64_field("cell", INDEXED),
        reach_cell: b.add_u64_field("reach_cell", INDEXED),
        all_text: b.add_text_field(
            "all_text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(NAME_WORDS)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
        stream_mask: b.add_u64_field("stream_mask", FAST),
    };
    (b.build(), fields)
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    /// `None` only for the moment a rebuild swaps the edit writer for a larger one.
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    taxonomy: Arc<Taxonomy>,
    /// The last change-log entry the searchable index reflects.
    applied: AtomicI64,
    dir: PathBuf,
    /// Every taxonomy label and synonym as stemmed words, with the field and term it stands for:
    /// free text naming an outcome ("make friends", "respite") scores services tagged with it.
    phrases: Vec<(Vec<String>, Field, String)>,
    /// How free text and the phrases above are read into words for naming terms.
    phrase_words: TextAnalyzer,
    /// The taxonomy's stop words as the index spells them (lower case, stemmed).
    stop_stems: std::collections::HashSet<String>,
}

/// Stemmed English words without `dropped` (lower-case words, before stemming).
/// Words as the index spells them.
fn stems(words: &[String]) -> std::collections::HashSet<String> {
    let mut analyzer = analyzer(&[]);
    let mut out = std::collections::HashSet::new();
    for word in words {
        analyzer.token_stream(word).process(&mut |t| {
            out.insert(t.text.clone());
        });
    }
    out
}

fn analyzer(dropped: &[String]) -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(dropped.iter().cloned()))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The index's one writer. Another process (or a server still shutting down) may hold it for a
/// moment, so wait a little before giving up with a clear message.
fn acquire_writer(index: &Index, tries: u32, threads: usize, memory: usize) -> Result<IndexWriter, SearchError> {
    for _ in 0..tries {
        match index.writer_with_num_threads(threads, memory) {
            Err(tantivy::TantivyError::LockFailure(..)) => std::thread::sleep(Duration::from_millis(50)),
            other => return Ok(other?),
        }
    }
    Err(SearchError::InUse)
}

fn words(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
    let mut analyzer = analyzer.clone();
    let mut out = Vec::new();
    analyzer.token_stream(text).process(&mut |t| out.push(t.text.clone()));
    out
}

fn taxonomy_phrases(f: &Fields, taxonomy: &Taxonomy, analyzer: &TextAnalyzer) -> Vec<(Vec<String>, Field, String)> {
    use crate::domain::taxonomy::Vocabulary;
    let mut phrases = Vec::new();
    for term in &taxonomy.terms {
        let field = match term.vocabulary {
            Vocabulary::Outcome => f.outcome,
            Vocabulary::ServiceType => f.service_type,
            Vocabulary::Need => f.need,
        };
        for text in std::iter::once(&term.label).chain(term.synonyms.iter()) {
            let words = words(analyzer, text);
            if !words.is_empty() {
                phrases.push((words, field, term.id.0.clone()));
            }
        }
    }
    phrases
}

fn read_payload(index: &Index) -> Option<Payload> {
    let metas = index.load_metas().ok()?;
    serde_json::from_str(metas.payload.as_deref()?).ok()
}

impl SearchIndex {
    /// Open the index in `dir`, or create it. An index from another schema version, or one that
    /// cannot be read, is wiped: it is derived data and [`SearchIndex::catch_up`] rebuilds it.
    pub fn open(dir: &Path, taxonomy: Arc<Taxonomy>) -> Result<SearchIndex, SearchError> {
        SearchIndex::open_trying(dir, taxonomy, 100)
    }

    /// Open the index only if no other process holds it ([`SearchError::InUse`] at once if one does).
    pub fn open_unless_busy(dir: &Path, taxonomy: Arc<Taxonomy>) -> Result<SearchIndex, SearchError> {
        SearchIndex::open_trying(dir, taxonomy, 1)
    }

    fn open_trying(dir: &Path, taxonomy: Arc<Taxonomy>, tries: u32) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::Directory(format!("{}: {e}", dir.display())))?;
        let (schema, fields) = schema();
        let existing = if dir.join("meta.json").exists() {
            match Index::open_in_dir(dir) {
                Ok(index)
                    if read_payload(&index).is_some_and(|p| p.schema == SCHEMA_VERSION)
                        && index.schema() == schema
                        && index.settings().docstore_blocksize == DOCSTORE_BLOCK =>
                {
                    Some(index)
                }
                Ok(_) => {
                    tracing::warn!(dir = %dir.display(), "search index is from another version; rebuilding");
                    None
                }
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "search index is unreadable; rebuilding");
                    None
                }
            }
        } else {
            None
        };
        let (index, applied) = match existing {
            Some(index) => {
                let seq = read_payload(&index).map_or(0, |p| p.seq);
                (index, seq)
            }
            None => {
                for entry in std::fs::read_dir(dir)
                    .map_err(|e| SearchError::Directory(e.to_string()))?
                    .flatten()
                {
                    let path = entry.path();
                    let removed = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                    removed.map_err(|e| SearchError::Directory(format!("{}: {e}", path.display())))?;
                }
                let settings = tantivy::IndexSettings {
                    docstore_blocksize: DOCSTORE_BLOCK,
                    ..Default::default()
                };
                (
                    Index::builder().schema(schema).settings(settings).create_in_dir(dir)?,
                    -1,
                )
            }
        };
        // Questions drop their stop words unless nothing else is left; then they can only be a
        // name, which keeps every word.
        index.tokenizers().register(WORDS, analyzer(&taxonomy.stop_words));
        index.tokenizers().register(NAME_WORDS, analyzer(&[]));
        let stop_stems = stems(&taxonomy.stop_words);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = acquire_writer(&index, tries, EDIT_THREADS, EDIT_MEMORY)?;
        let phrase_words = analyzer(&taxonomy.filler_words);
        let phrases = taxonomy_phrases(&fields, &taxonomy, &phrase_words);
        Ok(SearchIndex {
            phrases,
            phrase_words,
            stop_stems,
            index,
            reader,
            writer: Mutex::new(Some(writer)),
            fields,
            taxonomy,
            applied: AtomicI64::new(applied),
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn applied_seq(&self) -> i64 {
        self.applied.load(Ordering::SeqCst)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn document(&self, s: &Listing) -> TantivyDocument {
        let f = &self.fields;
        let mut d = doc!(
            f.id => s.id.0 as u64,
            f.organisation_id => s.organisation_id as u64,
            f.organisation_name => s.organisation_name.as_str(),
            f.name => s.name.as_str(),
            f.description => s.description.as_str(),
            f.reach_miles => s.reach_miles.unwrap_or(0.0),
            f.min_age => s.min_age.max(0) as u64,
            f.max_age => s.max_age.max(0) as u64,
            f.ages_stated => u64::from(s.ages_stated),
            // A service with no price on offer never passes a price filter.
            f.price_from => s.price_from.map_or(u64::MAX, |p| p.pence().max(0) as u64),
            f.modified => s.updated_at.and_utc().timestamp().max(0) as u64,
        );
        // A service that did not say where it is has no coordinates and no cells: radius searches
        // pass it by.
        if let Some(at) = s.at {
            d.add_f64(f.lat, at.lat);
            d.add_f64(f.lon, at.lon);
            for cell in cells::cells_of(at) {
                d.add_u64(f.cell, cell.0);
            }
            if let Some(reach) = s.reach_miles.filter(|r| *r > 0.0) {
                for cell in cells::reach_cells(at, reach) {
                    d.add_u64(f.reach_cell, cell.0);
                }
            }
        }
        let mask = s
            .streams
            .iter()
            .filter_map(|name| name.parse::<Stream>().ok().and_then(stream_bit))
            .fold(0u64, |mask, bit| mask | bit);
        d.add_u64(f.stream_mask, mask);
        if let Some(pc) = &s.postcode {
            d.add_text(f.postcode, pc);
        }
        let mut words = Vec::new();
        for (own, lineage_field, own_field) in [
            (&s.outcomes, f.outcome, Some(f.own_outcome)),
            (&s.service_types, f.service_type, Some(f.own_service_type)),
            (&s.needs, f.need, Some(f.own_need)),
        ] {
            let mut seen = HashSet::new();
            for id in own {
                if let Some(own_field) = own_field {
                    d.add_text(own_field, id);
                }
                for term in self.taxonomy.lineage(id) {
                    if seen.insert(term.id.as_str()) {
                        d.add_text(lineage_field, term.id.as_str());
                        words.push(term.label.as_str());
                        words.extend(term.synonyms.iter().map(String::as_str));
                    }
                }
            }
        }
        let taxonomy_text = words.join(" \n ");
        d.add_text(
            f.all_text,
            [s.name.as_str(), &s.organisation_name, &s.description, &taxonomy_text].join(" \n "),
        );
        d.add_text(f.taxonomy_text, taxonomy_text);
        for stream in &s.streams {
            d.add_text(f.stream, stream);
        }
        for day in &s.days {
            d.add_text(f.day, day);
        }
        for day in &s.open_days {
            d.add_u64(f.open_day, day_number(*day));
        }
        for council in &s.suspended_by {
            d.add_u64(f.suspended_by, (*council).max(0) as u64);
        }
        d
    }

    fn commit(&self, writer: &mut IndexWriter, seq: i64) -> Result<(), SearchError> {
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload(seq));
        prepared.commit()?;
        self.reader.reload()?;
        self.applied.store(seq, Ordering::SeqCst);
        Ok(())
    }

    fn edit_writer<'a>(
        guard: &'a mut std::sync::MutexGuard<'_, Option<IndexWriter>>,
    ) -> Result<&'a mut IndexWriter, SearchError> {
        guard
            .as_mut()
            .ok_or_else(|| SearchError::Directory("the index writer could not be reopened after a rebuild".into()))
    }

    /// The last change the database holds for certain: entries younger than [`SETTLE`] count only
    /// while the log has no gap, so a rebuild does not replay what it has already read.
    fn settled_now(source: &dyn Source) -> Result<i64, SearchError> {
        let mut seq = source.last_change_before(now() - SETTLE)?;
        loop {
            let changes = source.changes_after(seq, CHUNK)?;
            let Some((last, _, _)) = changes.last() else {
                return Ok(seq);
            };
            let settled = settled_through(seq, &changes, now());
            if settled < *last {
                return Ok(settled);
            }
            seq = settled;
        }
    }

    /// Rebuild from the database, with a progress bar when `progress` is set. Services are indexed
    /// in an order that keeps near places together, and the index is merged into one segment.
    pub fn rebuild(&self, source: &dyn Source, progress: bool) -> Result<usize, SearchError> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        // What changed after this point (while the rebuild reads) is applied by the next catch-up;
        // indexing is idempotent.
        let seq = Self::settled_now(source)?;
        let total = source.count_published()?;
        let bar = if progress {
            let bar = indicatif::ProgressBar::new(total.max(0) as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "indexing {bar:40} {pos}/{len} services ({per_sec}, {eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let mut places = Vec::with_capacity(total.max(0) as usize);
        let mut after = 0;
        loop {
            let chunk = source.published_places_after(after, CHUNK * 10)?;
            let Some((last, _)) = chunk.last() else { break };
            after = last.0;
            places.extend(chunk);
        }
        places.sort_by_key(|(id, at)| (cells::order_key(*at), *id));
        // The edit writer's small arena would cut a rebuild into many segments: swap in a larger
        // writer for it (there is only ever one writer), then put the small one back.
        drop(guard.take());
        let rebuilt = (|| -> Result<usize, SearchError> {
            let mut writer = acquire_writer(&self.index, 100, REBUILD_THREADS, REBUILD_MEMORY)?;
            writer.delete_all_documents()?;
            let mut indexed = 0;
            for chunk in places.chunks(CHUNK as usize) {
                let ids: Vec<ServiceId> = chunk.iter().map(|(id, _)| *id).collect();
                let mut listings: std::collections::HashMap<ServiceId, Listing> =
                    source.listings(&ids)?.into_iter().map(|s| (s.id, s)).collect();
                for id in &ids {
                    if let Some(s) = listings.remove(id) {
                        writer.add_document(self.document(&s))?;
                        indexed += 1;
                    }
                }
                bar.set_position(indexed as u64);
            }
            self.commit(&mut writer, seq)?;
            let segments = self.index.searchable_segment_ids()?;
            if segments.len() > 1 {
                bar.set_message("merging");
                writer.merge(&segments).wait()?;
            }
            writer.wait_merging_threads()?;
            self.reader.reload()?;
            Ok(indexed)
        })();
        *guard = Some(acquire_writer(&self.index, 100, EDIT_THREADS, EDIT_MEMORY)?);
        let indexed = rebuilt?;
        bar.finish_and_clear();
        tracing::info!(services = indexed, seq, "search index rebuilt");
        Ok(indexed)
    }

    /// How many segments the index is in (a rebuild leaves one).
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Apply every change logged since the index's last commit. A fresh (or wiped) index is rebuilt.
    pub fn catch_up(&self, source: &dyn Source) -> Result<usize, SearchError> {
        if self.applied_seq() < 0 {
            return self.rebuild(source, false);
        }
        let mut applied = 0;
        loop {
            let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let writer = Self::edit_writer(&mut guard)?;
            let from = self.applied_seq();
            let changes = source.changes_after(from, CHUNK)?;
            if changes.is_empty() {
                return Ok(applied);
            }
            let settled = settled_through(from, &changes, now());
            let mut ids: Vec<ServiceId> = changes.iter().map(|(_, id, _)| *id).collect();
            ids.sort();
            ids.dedup();
            for id in &ids {
                writer.delete_term(Term::from_field_u64(self.fields.id, id.0 as u64));
            }
            for s in source.listings(&ids)? {
                writer.add_document(self.document(&s))?;
            }
            self.commit(writer, settled)?;
            applied += ids.len();
            if changes.last().is_some_and(|(seq, _, _)| *seq > settled) {
                // A gap: wait for the missing entry (or for it to be old enough to be a rollback).
                return Ok(applied);
            }
        }
    }
}

/// A funding stream's bit in the index's `stream_mask`.
fn stream_bit(stream: Stream) -> Option<u64> {
    Stream::ALL.iter().position(|s| *s == stream).map(|i| 1u64 << i)
}

fn payload(seq: i64) -> String {
    serde_json::json!(Payload {
        schema: SCHEMA_VERSION,
        seq
    })
    .to_string()
}

/// How long a gap in the change log may be an uncommitted transaction rather than a rollback.
const SETTLE: chrono::Duration = chrono::Duration::seconds(10);

/// The last sequence number up to which the log is known complete. On PostgreSQL, sequence values
/// are taken at insert but become visible at commit, so entry 11 can be seen before entry 10: never
/// record progress past a gap younger than [`SETTLE`].
fn settled_through(from: i64, changes: &[(i64, ServiceId, chrono::NaiveDateTime)], now: chrono::NaiveDateTime) -> i64 {
    let mut settled = from;
    for (seq, _, at) in changes {
        if *seq != settled + 1 && now - *at < SETTLE {
            break;
        }
        settled = *seq;
    }
    settled
}

/// The least time between two catch-ups of the follower: search is at most this much behind a write.
const MIN_COMMIT_GAP: Duration = Duration::from_millis(100);

/// Follow the database's change log: apply changes when nudged (a write on this server) and on
/// every `poll` (writes by other servers, or a nudge that was missed).
pub fn spawn_follower(index: Arc<SearchIndex>, source: Arc<dyn Source>, poll: Duration) -> std::sync::mpsc::Sender<()> {
    let (nudge, nudges) = std::sync::mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("search-follower".into())
        .spawn(move || {
            let mut last_commit = std::time::Instant::now() - MIN_COMMIT_GAP;
            while !matches!(
                nudges.recv_timeout(poll),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
            ) {
                // Under a stream of writes (bookings taking places), changes are gathered for a
                // moment rather than committed to the index one by one.
                std::thread::sleep(MIN_COMMIT_GAP.saturating_sub(last_commit.elapsed()));
                while nudges.try_recv().is_ok() {}
                if let Err(e) = index.catch_up(source.as_ref()) {
                    tracing::error!(error = %e, "search index could not catch up; will retry");
                }
                last_commit = std::time::Instant::now();
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the search follower; the index will not follow changes");
    }
    nudge
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_stops_at_a_young_gap_and_passes_an_old_one() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap();
        let at = |secs_ago: i64| now - chrono::Duration::seconds(secs_ago);
        let c = |seq: i64, secs_ago: i64| (seq, ServiceId(seq), at(secs_ago));
        assert_eq!(settled_through(3, &[c(4, 0), c(5, 0)], now), 5);
        assert_eq!(
            settled_through(3, &[c(4, 0), c(6, 0), c(7, 0)], now),
            4,
            "5 may still commit"
        );
        assert_eq!(
            settled_through(3, &[c(4, 30), c(6, 30), c(7, 0)], now),
            7,
            "5 was rolled back long ago"
        );
        assert_eq!(settled_through(0, &[c(2, 1)], now), 0);
    }
}
