//! `localoffer import oruk`: bring another directory's Open Referral UK feed (1.0 or 3.0, from a
//! file or over HTTP) into our database. Records are upserted by the feed's own ids; a record that
//! cannot be used is skipped with its reason; the rest always go in.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::Connection;
use serde::Serialize;
use serde_json::Value;

use crate::db::services::Upserted;
use crate::db::{Db, DbError, organisations, services};
use crate::domain::OrganisationId;
use crate::domain::geo::Postcode;
use crate::domain::oruk::{self, ImportedService, Place, Skip};
use crate::domain::service::Location;
use crate::domain::taxonomy::Taxonomy;
use crate::geocode::Geocoder;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("{0} is not JSON: {1}")]
    NotJson(String, serde_json::Error),
    #[error("{0} {1}")]
    Feed(String, String),
    #[error("fetching {0} failed after {1} attempts: {2}")]
    Fetch(String, u32, String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Where the feed comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    /// The `/services` address of a feed.
    Http(String),
}

impl Source {
    /// A path, or an http(s) base address of a feed (with or without `/services`).
    pub fn parse(text: &str) -> Source {
        if text.starts_with("http://") || text.starts_with("https://") {
            let base = text.trim_end_matches('/');
            let services = if base.ends_with("/services") {
                base.to_string()
            } else {
                format!("{base}/services")
            };
            Source::Http(services)
        } else {
            Source::File(PathBuf::from(text))
        }
    }

    /// The name records from this source are kept under, so that feeds cannot overwrite each other.
    pub fn default_feed_name(&self) -> String {
        match self {
            Source::Http(url) => url
                .split_once("://")
                .map_or(url.as_str(), |(_, rest)| rest)
                .trim_end_matches("/services")
                .to_string(),
            // The whole path: two councils' `services.json` must not overwrite each other.
            Source::File(path) => std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub source: Source,
    pub feed: String,
    pub per_page: u32,
    /// Least time between two requests to the feed.
    pub delay: Duration,
    /// Attempts per page before giving up.
    pub attempts: u32,
    pub progress: bool,
}

/// What an import did, printed as JSON at the end.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub feed: String,
    pub pages: u32,
    pub records: usize,
    pub created: usize,
    pub updated: usize,
    /// Listed again exactly as before: nothing rewritten.
    pub unchanged: usize,
    /// Imported before but no longer in the feed: unpublished (only after a complete read).
    pub withdrawn: usize,
    pub skipped: usize,
    /// Why records were skipped, with how many for each reason.
    pub skipped_because: BTreeMap<String, usize>,
    /// The first skipped records' ids (or positions) and reasons.
    pub skipped_examples: Vec<(String, String)>,
    /// What had to be left out of records that did go in, with counts.
    pub left_out: BTreeMap<String, usize>,
    pub organisations: usize,
    /// Services with no place we could put on a map.
    pub without_location: usize,
    /// Records whose id an earlier record of this feed already had.
    pub repeated: usize,
    /// The first repeated ids and what was done: read once when the same, kept apart when not.
    pub repeated_examples: Vec<(String, String)>,
    /// Services a list page gave without their organisation, fetched one by one.
    pub fetched_details: usize,
    pub retried_requests: u32,
    pub seconds: f64,
    /// False when the feed failed part-way: what is counted here went in, the rest did not.
    pub complete: bool,
}

/// Why an import stopped, with what it had done by then (none when it stopped before reading).
#[derive(Debug)]
pub struct Stopped {
    pub error: ImportError,
    pub summary: Option<Summary>,
}

const MAX_EXAMPLES: usize = 20;
/// Records written in one transaction.
const BATCH: usize = 100;
/// A feed that never says it has ended stops here.
const MAX_PAGES: u32 = 10_000;
/// The longest pause between two attempts, whatever the feed asks.
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// The largest answer read from a feed.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Detail requests failing in a row before the rest of the feed is read without them.
const MAX_DETAIL_FAILURES: u32 = 5;

impl Summary {
    fn skip(&mut self, record: String, reason: String) {
        self.skipped += 1;
        *self.skipped_because.entry(reason.clone()).or_default() += 1;
        if self.skipped_examples.len() < MAX_EXAMPLES {
            self.skipped_examples.push((record, reason));
        }
    }
}

/// A record ready to store: what it says, and where it is once placed.
struct Ready {
    service: ImportedService,
    location: Option<Location>,
    /// Stands for everything above: the same record read again gives the same fingerprint.
    fingerprint: String,
}

fn fingerprint(service: &ImportedService, location: Option<&Location>) -> String {
    use sha2::{Digest, Sha256};
    crate::domain::hex(&Sha256::digest(format!("{service:?}{location:?}").as_bytes()))
}

fn read_file(path: &std::path::Path) -> Result<oruk::FeedPage, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::File(path.to_path_buf(), e))?;
    let body: Value = serde_json::from_str(&text).map_err(|e| ImportError::NotJson(path.display().to_string(), e))?;
    oruk::read_page(&body).map_err(|e| ImportError::Feed(path.display().to_string(), e))
}

/// One all-or-nothing database write, off the async thread.
async fn write<T: Send + 'static>(
    db: Db,
    f: impl FnOnce(&mut crate::db::Conn) -> Result<T, DbError> + Send + 'static,
) -> Result<T, ImportError> {
    tokio::task::spawn_blocking(move || db.write(f))
        .await
        .map_err(|e| ImportError::Db(DbError::Open(format!("the import's database task failed: {e}"))))?
        .map_err(ImportError::Db)
}

enum Unreadable {
    TooLarge,
    Failed(String),
}

/// A response's JSON body, read no further than [`MAX_BODY_BYTES`].
async fn read_json(mut response: reqwest::Response) -> Result<Value, Unreadable> {
    if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(Unreadable::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| Unreadable::Failed(e.to_string()))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(Unreadable::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| Unreadable::Failed(e.to_string()))
}

/// `url/{id}`, the id encoded as one path segment.
fn detail_url(url: &str, id: &str) -> Option<String> {
    let mut detail = reqwest::Url::parse(url).ok()?;
    detail.path_segments_mut().ok()?.push(id);
    Some(detail.to_string())
}

pub struct Importer {
    db: Db,
    taxonomy: Arc<Taxonomy>,
    geocoder: Geocoder,
    options: Options,
    client: reqwest::Client,
    organisations: HashMap<String, OrganisationId>,
    summary: Summary,
    last_request: Option<Instant>,
    bar: indicatif::ProgressBar,
    /// Every record id the feed listed this run, usable or not.
    listed: HashSet<String>,
    /// The contents read so far under each record id: a feed may give one id to several records.
    copies: HashMap<String, Vec<String>>,
    detail_failures: u32,
}

impl Importer {
    pub fn new(db: Db, taxonomy: Arc<Taxonomy>, geocoder: Geocoder, options: Options) -> Result<Importer, ImportError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "localoffer/",
                env!("CARGO_PKG_VERSION"),
                " (Open Referral UK import)"
            ))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ImportError::Feed("HTTP client".into(), e.to_string()))?;
        let bar = if options.progress {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} services ({eta} left)")
                    .map_err(|e| ImportError::Feed("progress bar".into(), e.to_string()))?
                    .progress_chars("=> "),
            );
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let summary = Summary {
            feed: options.feed.clone(),
            ..Summary::default()
        };
        Ok(Importer {
            db,
            taxonomy,
            geocoder,
            options,
            client,
            organisations: HashMap::new(),
            summary,
            last_request: None,
            bar,
            listed: HashSet::new(),
            copies: HashMap::new(),
            detail_failures: 0,
        })
    }

    pub async fn run(mut self) -> Result<Summary, Stopped> {
        let started = Instant::now();
        let outcome = match self.options.source.clone() {
            Source::File(path) => {
                let page = read_file(&path).map_err(|error| Stopped { error, summary: None })?;
                self.summary.pages = 1;
                self.bar.set_length(page.records.len() as u64);
                self.bar.set_message("reading");
                self.take(page.records, 0, None).await
            }
            Source::Http(url) => self.fetch_all(&url).await,
        };
        self.bar.finish_and_clear();
        self.summary.organisations = self.organisations.len();
        self.summary.seconds = (started.elapsed().as_secs_f64() * 100.0).round() / 100.0;
        let outcome = match outcome {
            Ok(()) => self.withdraw_missing().await,
            Err(e) => Err(e),
        };
        self.summary.complete = outcome.is_ok();
        match outcome {
            Ok(()) => Ok(self.summary),
            Err(error) => Err(Stopped {
                error,
                summary: Some(self.summary),
            }),
        }
    }

    /// Services the feed no longer lists leave the directory. Only after a complete read: a
    /// feed that failed part-way says nothing about what it did not send.
    async fn withdraw_missing(&mut self) -> Result<(), ImportError> {
        if self.listed.is_empty() {
            // An empty feed is more likely a fault upstream than a council closing everything.
            tracing::warn!("the feed listed no services; nothing is withdrawn");
            return Ok(());
        }
        let db = self.db.clone();
        let feed = self.options.feed.clone();
        let listed = std::mem::take(&mut self.listed);
        self.summary.withdrawn = write(db, move |conn| {
            services::withdraw_missing_from_feed(conn, &feed, &listed)
        })
        .await?;
        Ok(())
    }

    async fn fetch_all(&mut self, url: &str) -> Result<(), ImportError> {
        for number in 1..=MAX_PAGES {
            self.bar.set_message(format!("page {number}"));
            let query = [("page", number), ("per_page", self.options.per_page)];
            let body = self.fetch(url, &query, &format!("page {number}")).await?;
            let page = oruk::read_page(&body).map_err(|e| ImportError::Feed(format!("{url} page {number}"), e))?;
            // A feed that ignores `page`, or repeats its last page, would be read for ever.
            let ids: Vec<String> = page.records.iter().filter_map(oruk::record_id).collect();
            if number > 1 && !ids.is_empty() && ids.iter().all(|id| self.listed.contains(id)) {
                tracing::warn!(page = number, "the page repeats services already read; stopping");
                break;
            }
            self.summary.pages = number;
            let per_page = u64::from(self.options.per_page);
            match page.total_pages {
                Some(total) => self.bar.set_length(total * per_page),
                None => self.bar.inc_length(page.records.len() as u64),
            }
            let offset = (number as usize - 1) * self.options.per_page as usize;
            let last = page.last || page.total_pages.is_some_and(|t| u64::from(number) >= t);
            self.take(page.records, offset, Some(url)).await?;
            if last {
                break;
            }
        }
        self.bar.set_length(self.bar.position());
        Ok(())
    }

    /// One request, politely: waits out the delay since the last one, and retries a failed
    /// request (no answer, 429, 5xx) with a growing pause. `what` names it in messages.
    async fn fetch(&mut self, url: &str, query: &[(&str, u32)], what: &str) -> Result<Value, ImportError> {
        let mut pause = Duration::from_millis(500);
        let mut last_error = String::new();
        for attempt in 1..=self.options.attempts {
            if let Some(last) = self.last_request {
                let since = last.elapsed();
                if since < self.options.delay {
                    tokio::time::sleep(self.options.delay - since).await;
                }
            }
            self.last_request = Some(Instant::now());
            if attempt > 1 {
                self.summary.retried_requests += 1;
            }
            let outcome = self.client.get(url).query(query).send().await;
            let retry_after = match outcome {
                Ok(response) if response.status().is_success() => match read_json(response).await {
                    Ok(body) => return Ok(body),
                    Err(Unreadable::TooLarge) => {
                        return Err(ImportError::Feed(
                            url.to_string(),
                            format!("{what} is larger than {} MB", MAX_BODY_BYTES / 1024 / 1024),
                        ));
                    }
                    Err(Unreadable::Failed(e)) => {
                        last_error = format!("{what} is not JSON: {e}");
                        None
                    }
                },
                Ok(response) => {
                    let status = response.status();
                    last_error = format!("{what} answered {status}");
                    if !(status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS) {
                        return Err(ImportError::Fetch(url.to_string(), attempt, last_error));
                    }
                    response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(60)))
                }
                Err(e) => {
                    last_error = format!("{what}: {e}");
                    None
                }
            };
            if attempt < self.options.attempts {
                let wait = retry_after.unwrap_or(pause).min(MAX_PAUSE);
                tracing::warn!(request = what, attempt, error = %last_error, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
        Err(ImportError::Fetch(url.to_string(), self.options.attempts, last_error))
    }

    /// Read, place and store one page's records. A feed's list may give services without their
    /// organisation (3.0 lists hold only a service's own fields): those are fetched from `url/{id}`.
    async fn take(&mut self, records: Vec<Value>, offset: usize, url: Option<&str>) -> Result<(), ImportError> {
        let mut ready = Vec::with_capacity(records.len());
        for (i, mut record) in records.into_iter().enumerate() {
            let id = oruk::record_id(&record);
            if let Some(id) = &id {
                self.listed.insert(id.clone());
            }
            let brief = !record.get("organization").is_some_and(Value::is_object);
            if let Some((id, detail)) = url
                .zip(id.as_ref())
                .filter(|_| brief && self.detail_failures < MAX_DETAIL_FAILURES)
                .and_then(|(url, id)| Some((id.clone(), detail_url(url, id)?)))
            {
                match self.fetch(&detail, &[], &format!("service {id}")).await {
                    Ok(full) if full.is_object() => {
                        self.summary.fetched_details += 1;
                        self.detail_failures = 0;
                        record = full;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.detail_failures += 1;
                        tracing::warn!(service = %id, error = %e, "details not fetched");
                        if self.detail_failures == MAX_DETAIL_FAILURES {
                            tracing::warn!("details keep failing; reading the rest of the feed without them");
                        }
                    }
                }
            }
            let record = &record;
            self.summary.records += 1;
            let label = id.unwrap_or_else(|| format!("record {}", offset + i + 1));
            match oruk::read_service(record, &self.taxonomy) {
                Err(Skip(reason)) => {
                    self.summary.skip(label, reason);
                    self.bar.inc(1);
                }
                Ok(mut read) => {
                    if !self.keep_apart(&mut read.service) {
                        self.bar.inc(1);
                        continue;
                    }
                    for warning in read.warnings {
                        *self.summary.left_out.entry(warning).or_default() += 1;
                    }
                    let location = self.locate(read.service.place.as_ref()).await;
                    if location.is_none() {
                        self.summary.without_location += 1;
                    }
                    ready.push(Ready {
                        fingerprint: fingerprint(&read.service, location.as_ref()),
                        service: read.service,
                        location,
                    });
                }
            }
        }
        while !ready.is_empty() {
            let rest = ready.split_off(ready.len().min(BATCH));
            let batch = std::mem::replace(&mut ready, rest);
            self.store(batch).await?;
        }
        Ok(())
    }

    /// A record whose id came before: the same record again is read once (false: leave it);
    /// a different one is kept apart under `id#2`, `id#3`, in the order the feed gives them, so
    /// neither overwrites the other and a second run finds each where it was.
    fn keep_apart(&mut self, service: &mut ImportedService) -> bool {
        let content = fingerprint(service, None);
        let id = service.feed_id.clone();
        let copies = self.copies.entry(id.clone()).or_default();
        if copies.is_empty() {
            copies.push(content);
            return true;
        }
        self.summary.repeated += 1;
        let same = copies.contains(&content);
        let outcome = if same {
            "the same record again: read once".to_string()
        } else {
            copies.push(content);
            let apart = format!("{id}#{}", copies.len());
            self.listed.insert(apart.clone());
            let outcome = format!("a different record: kept apart as {apart}");
            service.feed_id = apart;
            outcome
        };
        if self.summary.repeated_examples.len() < MAX_EXAMPLES {
            self.summary.repeated_examples.push((id, outcome));
        }
        !same
    }

    /// Coordinates from the feed, or the postcode's; an address we cannot place is kept only
    /// when it can be placed.
    async fn locate(&mut self, place: Option<&Place>) -> Option<Location> {
        let place = place?;
        let at = match (place.at, &place.postcode) {
            (Some(at), _) => Some(at),
            (None, Some(pc)) => match Postcode::parse("postcode", pc) {
                Ok(parsed) => self.geocoder.locate(&parsed).await.map(|l| l.at),
                Err(_) => None,
            },
            (None, None) => None,
        };
        let Some(at) = at else {
            *self
                .summary
                .left_out
                .entry("an address we could not place on a map".into())
                .or_default() += 1;
            return None;
        };
        Some(Location {
            postcode: place.postcode.clone(),
            lat: at.lat,
            lon: at.lon,
            address: place.address.clone(),
        })
    }

    /// One transaction per batch, one savepoint per record: a record the database refuses is
    /// skipped with the reason, and the others still go in.
    async fn store(&mut self, batch: Vec<Ready>) -> Result<(), ImportError> {
        let db = self.db.clone();
        let feed = self.options.feed.clone();
        let mut known = self.organisations.clone();
        let count = batch.len() as u64;
        let stored = write(db, move |conn| {
            let mut outcomes = Vec::with_capacity(batch.len());
            for Ready {
                service,
                location,
                fingerprint,
            } in &batch
            {
                let result = conn.transaction(|conn| {
                    let organisation = match known.get(&service.organisation.feed_id) {
                        Some(id) => *id,
                        None => organisations::upsert_from_feed(conn, &feed, &service.organisation)?,
                    };
                    let upserted =
                        services::upsert_from_feed(conn, &feed, organisation, service, location.as_ref(), fingerprint)?;
                    Ok::<_, DbError>((organisation, upserted))
                });
                if let Ok((organisation, _)) = &result {
                    known.insert(service.organisation.feed_id.clone(), *organisation);
                }
                outcomes.push((service.feed_id.clone(), result.map_err(|e| e.to_string())));
            }
            Ok((outcomes, known))
        })
        .await?;
        let (outcomes, known) = stored;
        self.organisations = known;
        for (feed_id, outcome) in outcomes {
            match outcome {
                Ok((_, Upserted::Created(_))) => self.summary.created += 1,
                Ok((_, Upserted::Updated(_))) => self.summary.updated += 1,
                Ok((_, Upserted::Unchanged(_))) => self.summary.unchanged += 1,
                Err(reason) => self.summary.skip(feed_id, format!("refused by the database: {reason}")),
            }
        }
        self.bar.inc(count);
        Ok(())
    }
}
