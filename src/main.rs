use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use localoffer::domain::retention::Retention;
use localoffer::{Application, DataDir, Settings, bench, db, import};

#[derive(Parser)]
#[command(
    name = "localoffer",
    version,
    about = "SEND Local Offer directory and personal-budget marketplace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web service.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080", env = "LOCALOFFER_BIND")]
        bind: String,
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
        /// Load the demo data set (Merton providers, services and budget holders) into an empty database.
        #[arg(long)]
        demo: bool,
        /// Base URL of a postcodes.io-compatible service for full postcodes (e.g. https://api.postcodes.io);
        /// without it, postcodes are placed at their district's centre from the shipped table.
        #[arg(long, env = "LOCALOFFER_POSTCODES_URL")]
        postcodes_url: Option<String>,
        /// postgres://... for PostgreSQL; a path or sqlite://path for SQLite (default: DIR/localoffer.db).
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
        /// The search page's map tiles: a URL template with {z}, {x} and {y} ({s} for a subdomain).
        #[arg(long, env = "LOCALOFFER_MAP_TILES", default_value = localoffer::domain::geo::MapTiles::OPENSTREETMAP)]
        map_tiles: String,
        /// The attribution the map tiles' licence asks for, shown on the map.
        #[arg(long, env = "LOCALOFFER_MAP_ATTRIBUTION", default_value = localoffer::domain::geo::MapTiles::OPENSTREETMAP_ATTRIBUTION)]
        map_attribution: String,
        /// Password hashes checked at once (each takes about 19 MiB); 0: one per core.
        #[arg(long, default_value_t = 0, env = "LOCALOFFER_PASSWORD_WORKERS")]
        password_workers: usize,
        /// Password checks allowed to wait for a worker; beyond them, 429 at once. 0: four per worker.
        #[arg(long, default_value_t = 0, env = "LOCALOFFER_PASSWORD_QUEUE")]
        password_queue: usize,
        /// Logins and registrations per client address per minute (0: no limit, e.g. behind a
        /// proxy that limits them itself).
        #[arg(long, default_value_t = localoffer::CLIENT_ATTEMPTS_PER_MINUTE, env = "LOCALOFFER_CLIENT_ATTEMPTS_PER_MINUTE")]
        client_attempts_per_minute: u32,
        /// Reverse proxies (comma-separated addresses) whose X-Forwarded-For names the client for
        /// that limit; from anyone else the header is ignored.
        #[arg(long, env = "LOCALOFFER_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// The address visitors use, e.g. https://localoffer.example.gov.uk: with https, cookies are
        /// Secure with __Host- names whatever the proxy sends, and every answer carries HSTS.
        #[arg(long, env = "LOCALOFFER_PUBLIC_URL")]
        public_url: Option<String>,
        /// Minutes a session may go unused before it ends (beside its absolute 12 hours).
        #[arg(long, env = "LOCALOFFER_IDLE_TIMEOUT_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=720))]
        idle_timeout_minutes: u64,
        /// Years the search log is kept before the daily purge folds it into monthly counts.
        #[arg(long, env = "LOCALOFFER_SEARCH_LOG_RETENTION_YEARS", default_value_t = Retention::SEARCH_LOG_YEARS, value_parser = clap::value_parser!(u32).range(1..=100))]
        search_log_retention_years: u32,
        /// Years after a plan ends before its council may erase the budget holder.
        #[arg(long, env = "LOCALOFFER_PLAN_RETENTION_YEARS", default_value_t = Retention::PLAN_YEARS, value_parser = clap::value_parser!(u32).range(0..=100))]
        plan_retention_years: u32,
        /// The file holding the 32-byte key that seals providers' bank details (default:
        /// DIR/data.key, made when missing). Every server on one database must use the same one.
        #[arg(long, env = "LOCALOFFER_DATA_KEY_FILE")]
        data_key_file: Option<PathBuf>,
        /// Send mail through this SMTP server: smtp://user:pass@host:port (STARTTLS), smtps://...
        /// (TLS from the start), or smtp://host:port?tls=none for a relay on this machine. Without
        /// it, mail is written as .eml files under DIR/outbox/.
        #[arg(long, env = "LOCALOFFER_SMTP_URL")]
        smtp_url: Option<String>,
        /// The From address of mail (default: Local Offer <no-reply@ the public address's host>).
        #[arg(long, env = "LOCALOFFER_MAIL_FROM")]
        mail_from: Option<String>,
        /// Seconds before a mail that could not be delivered is tried again (then twice as long each
        /// time, at most an hour apart; given up after 8 attempts).
        #[arg(long, env = "LOCALOFFER_MAIL_RETRY_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
        mail_retry_seconds: u64,
    },
    /// Erase a budget holder after its plan's retention period: the personal fields go, the
    /// ledger and bookings stay with their amounts. Prints the erased record's id.
    Erase {
        #[arg(long)]
        budget_holder: i64,
        /// Years after a plan ends before it may be erased.
        #[arg(long, env = "LOCALOFFER_PLAN_RETENTION_YEARS", default_value_t = Retention::PLAN_YEARS, value_parser = clap::value_parser!(u32).range(0..=100))]
        plan_retention_years: u32,
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Delete expired and revoked sessions and fold the search log past its retention into
    /// monthly counts; prints what it removed. (Each server also runs this daily.)
    Purge {
        /// Years the search log is kept.
        #[arg(long, env = "LOCALOFFER_SEARCH_LOG_RETENTION_YEARS", default_value_t = Retention::SEARCH_LOG_YEARS, value_parser = clap::value_parser!(u32).range(1..=100))]
        search_log_retention_years: u32,
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Lift the lock-out on a login after too many wrong passwords (and forget its failures).
    Unlock {
        #[arg(long)]
        email: String,
        /// Also turn off its two-step login (a lost phone and recovery codes) and end its
        /// sessions; an officer or broker then sets two-step login up again at its next login.
        #[arg(long)]
        reset_two_step: bool,
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Rebuild the search index from the database.
    Reindex {
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Manage councils.
    Council {
        #[command(subcommand)]
        command: CouncilCommand,
    },
    /// Check every allocation's balance against its ledger and its bookings.
    Verify {
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Import another directory's services.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Measure performance and print the figures.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum CouncilCommand {
    /// Create a council and its first officer login; prints {"council_id", "user_id"} (and
    /// "totp_secret" with --totp).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// Set up the officer's two-step login now and print its secret (base32, RFC 6238) so that
        /// scripts can compute codes; without it the officer sets it up at first login.
        #[arg(long)]
        totp: bool,
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// An Open Referral UK feed (ORUK 1.0 or 3.0): a JSON file of services, or the http(s)
    /// address of a feed, read page by page. Prints a JSON summary of what went in and what was
    /// skipped, and why. Running it again updates the same records.
    Oruk {
        /// A file path, or a feed's base address such as https://example.org/api (its /services is read).
        source: String,
        /// The name the records are kept under (default: the feed's host and path, or the file's
        /// name). Records are matched by this name and the feed's own ids on the next import.
        #[arg(long)]
        feed: Option<String>,
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        per_page: u32,
        /// Least time between two requests to the feed, in milliseconds.
        #[arg(long, default_value_t = 250)]
        delay_ms: u64,
        /// Attempts per page before giving up (no answer, 429 or 5xx are retried).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
        attempts: u32,
        /// A postcodes.io-compatible service to place full postcodes (default: district centres).
        #[arg(long, env = "LOCALOFFER_POSTCODES_URL")]
        postcodes_url: Option<String>,
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Bookings per second and latency over HTTP against a fresh SQLite database with durable commits.
    Bookings {
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Book one dated session each (a place and the money) rather than a quantity.
        #[arg(long)]
        sessions: bool,
        /// A PostgreSQL server (postgres://...) to run against: the benchmark creates and drops
        /// its own database there. Without it, a fresh SQLite file.
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Index build time, query latency and edit -> searchable time on a generated England-wide
    /// data set, through the tantivy index and tuned baselines: SQLite (FTS5 with outcome tags
    /// and geo-cell tokens) and, given a server, PostgreSQL (tsvector + GIN, box + GiST).
    Search {
        /// How many services to generate; several sizes, comma-separated, run one after another.
        #[arg(long, value_delimiter = ',', default_value = "100000")]
        services: Vec<usize>,
        #[arg(long, default_value_t = 600)]
        queries: usize,
        /// Keep the generated data (database and index) in this new directory, to serve it.
        #[arg(long)]
        keep: Option<PathBuf>,
        /// A PostgreSQL server (postgres://...) for a second baseline (tsvector + GIN, box +
        /// GiST): the benchmark creates and drops its own database there.
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
    /// How long the council's gap and spending reports take on a large generated council.
    Reports {
        #[arg(long, default_value_t = 100_000)]
        services: usize,
        #[arg(long, default_value_t = 50_000)]
        holders: usize,
    },
    /// Drafting a month's invoices at its end (the daily job) for a large generated council.
    Invoices {
        #[arg(long, default_value_t = 20_000)]
        holders: usize,
        /// Delivered sessions in all, spread evenly over the budget holders.
        #[arg(long, default_value_t = 400_000)]
        sessions: usize,
    },
    /// A flood of wrong logins against the real server: its memory (RSS before, peak, after),
    /// `/healthz` latency meanwhile, and whether a right login from another client gets in.
    LoginFlood {
        #[arg(long, default_value_t = 1_000)]
        requests: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Client addresses to send from (127.0.0.2 upwards; 1 sends from one address only).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(1..=250))]
        addresses: u16,
    },
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            bind,
            data_dir,
            demo,
            postcodes_url,
            database_url,
            map_tiles,
            map_attribution,
            password_workers,
            password_queue,
            client_attempts_per_minute,
            trusted_proxies,
            public_url,
            idle_timeout_minutes,
            search_log_retention_years,
            plan_retention_years,
            data_key_file,
            smtp_url,
            mail_from,
            mail_retry_seconds,
        } => {
            init_tracing("info");
            localoffer::domain::geo::MapTiles::new(&map_tiles, &map_attribution).and_then(|map_tiles| {
                serve(Settings {
                    bind,
                    data_dir,
                    demo,
                    workers: 0,
                    postcodes_url,
                    database_url,
                    map_tiles,
                    password_workers,
                    password_queue,
                    client_attempts_per_minute,
                    trusted_proxies,
                    login_throttle: Default::default(),
                    public_url,
                    idle_timeout: std::time::Duration::from_secs(idle_timeout_minutes * 60),
                    retention: Retention {
                        search_log_years: search_log_retention_years,
                        plan_years: plan_retention_years,
                    },
                    data_key_file,
                    smtp_url,
                    mail_from,
                    mail_retry: std::time::Duration::from_secs(mail_retry_seconds),
                })
            })
        }
        Command::Unlock {
            email,
            reset_two_step,
            data_dir,
            database_url,
        } => {
            init_tracing("warn");
            unlock(&data_dir, database_url.as_deref(), &email, reset_two_step)
        }
        Command::Erase {
            budget_holder,
            plan_retention_years,
            data_dir,
            database_url,
        } => {
            init_tracing("warn");
            let retention = Retention {
                plan_years: plan_retention_years,
                ..Retention::default()
            };
            erase(&data_dir, database_url.as_deref(), budget_holder, retention)
        }
        Command::Purge {
            search_log_retention_years,
            data_dir,
            database_url,
        } => {
            init_tracing("warn");
            let retention = Retention {
                search_log_years: search_log_retention_years,
                ..Retention::default()
            };
            purge(&data_dir, database_url.as_deref(), retention)
        }
        Command::Reindex { data_dir, database_url } => {
            init_tracing("warn");
            reindex(&data_dir, database_url.as_deref())
        }
        Command::Council {
            command:
                CouncilCommand::Create {
                    name,
                    email,
                    password,
                    totp,
                    data_dir,
                    database_url,
                },
        } => {
            init_tracing("warn");
            create_council(&data_dir, database_url.as_deref(), &name, &email, &password, totp)
        }
        Command::Verify { data_dir, database_url } => {
            init_tracing("warn");
            verify(&data_dir, database_url.as_deref())
        }
        Command::Import {
            command:
                ImportCommand::Oruk {
                    source,
                    feed,
                    per_page,
                    delay_ms,
                    attempts,
                    postcodes_url,
                    data_dir,
                    database_url,
                },
        } => {
            init_tracing("warn");
            let source = import::Source::parse(&source);
            let options = import::Options {
                feed: feed.unwrap_or_else(|| source.default_feed_name()),
                source,
                per_page,
                delay: std::time::Duration::from_millis(delay_ms),
                attempts,
                progress: true,
            };
            import_oruk(&data_dir, database_url.as_deref(), postcodes_url, options)
        }
        Command::Bench {
            command:
                BenchCommand::Bookings {
                    requests,
                    concurrency,
                    sessions,
                    database_url,
                },
        } => {
            init_tracing("warn");
            let mode = if sessions {
                bench::Mode::Sessions
            } else {
                bench::Mode::Quantity
            };
            bench::bookings(requests, concurrency, mode, database_url.as_deref()).map_err(|e| e.to_string())
        }
        Command::Bench {
            command: BenchCommand::Reports { services, holders },
        } => {
            init_tracing("warn");
            bench::reports(services, holders).map_err(|e| e.to_string())
        }
        Command::Bench {
            command:
                BenchCommand::LoginFlood {
                    requests,
                    concurrency,
                    addresses,
                },
        } => {
            init_tracing("warn");
            bench::login_flood(requests, concurrency, addresses).map_err(|e| e.to_string())
        }
        Command::Bench {
            command: BenchCommand::Invoices { holders, sessions },
        } => {
            init_tracing("warn");
            bench::invoices(holders, sessions).map_err(|e| e.to_string())
        }
        Command::Bench {
            command:
                BenchCommand::Search {
                    services,
                    queries,
                    keep,
                    database_url,
                },
        } => {
            init_tracing("warn");
            bench::search(&services, queries, keep.as_deref(), database_url.as_deref()).map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("localoffer: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> Result<(), String> {
    let runtime = actix_web::rt::System::new();
    runtime.block_on(async {
        let app = Application::build(&settings).map_err(|e| e.to_string())?;
        // Scripts (and the multi-server test) read the address from this line.
        let host = settings
            .bind
            .rsplit_once(':')
            .map_or(settings.bind.as_str(), |(h, _)| h);
        println!("localoffer listening on http://{host}:{}", app.port());
        if !app.demo_logins.is_empty() {
            println!("Demo logins:");
            for l in &app.demo_logins {
                match &l.totp_secret {
                    Some(secret) => println!(
                        "  {:<8} {:<45} {} / {} + code: oathtool --totp -b {secret}",
                        l.role, l.who, l.email, l.password
                    ),
                    None => println!("  {:<8} {:<45} {} / {}", l.role, l.who, l.email, l.password),
                }
            }
        }
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

fn open(data_dir: &Path, database_url: Option<&str>) -> Result<(DataDir, db::Db), String> {
    let data = DataDir::prepare(data_dir).map_err(|e| e.to_string())?;
    let db = data.open_db(database_url).map_err(|e| e.to_string())?;
    Ok((data, db))
}

fn create_council(
    data_dir: &Path,
    database_url: Option<&str>,
    name: &str,
    email: &str,
    password: &str,
    totp: bool,
) -> Result<(), String> {
    use localoffer::app::AppError;
    let (_, db) = open(data_dir, database_url)?;
    let (council_id, user_id) =
        localoffer::app::accounts::create_council(&db, name, email, password).map_err(|e| match e {
            // Say which flag was wrong, in the words the flag has.
            AppError::Invalid(invalid) => invalid
                .0
                .iter()
                .map(|f| format!("--{} {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })?;
    let mut made = serde_json::json!({"council_id": council_id, "user_id": user_id});
    if totp {
        let secret = localoffer::app::totp::enrol_confirmed(&db, user_id).map_err(|e| e.to_string())?;
        made["totp_secret"] = secret.into();
    }
    println!("{made}");
    Ok(())
}

fn unlock(data_dir: &Path, database_url: Option<&str>, email: &str, reset_two_step: bool) -> Result<(), String> {
    use localoffer::app::accounts;
    let (_, db) = open(data_dir, database_url)?;
    let lifted = accounts::unlock_email(&db, email).map_err(|e| e.to_string())?;
    // The email is not printed back: it may be a person's.
    let mut answer = serde_json::json!({"unlocked": lifted});
    if reset_two_step {
        answer["two_step_reset"] = accounts::reset_two_step(&db, email).map_err(|e| e.to_string())?.into();
    }
    println!("{answer}");
    Ok(())
}

fn erase(data_dir: &Path, database_url: Option<&str>, id: i64, retention: Retention) -> Result<(), String> {
    use localoffer::app::AppError;
    let (_, db) = open(data_dir, database_url)?;
    let id = localoffer::domain::BudgetHolderId(id);
    let erased = localoffer::app::records::erase_by_operator(&db, id, retention).map_err(|e| match e {
        AppError::Conflict { code, message, .. } => format!("{code}: {message}"),
        other => other.to_string(),
    })?;
    println!("{}", serde_json::json!({"erased": erased.id}));
    Ok(())
}

fn purge(data_dir: &Path, database_url: Option<&str>, retention: Retention) -> Result<(), String> {
    let (_, db) = open(data_dir, database_url)?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} search log rows ({eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("aggregating");
    let purged = localoffer::app::records::purge(&db, retention, |p| match p {
        localoffer::app::records::Progress::Total(n) => bar.set_length(u64::try_from(n).unwrap_or(0)),
        localoffer::app::records::Progress::Done(n) => bar.inc(n as u64),
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    println!("{}", serde_json::to_string(&purged).map_err(|e| e.to_string())?);
    Ok(())
}

fn reindex(data_dir: &Path, database_url: Option<&str>) -> Result<(), String> {
    let (data, db) = open(data_dir, database_url)?;
    let taxonomy = std::sync::Arc::new(localoffer::domain::taxonomy::Taxonomy::builtin().map_err(|e| e.to_string())?);
    let index = localoffer::search::SearchIndex::open(&data.index(), taxonomy).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let indexed = index
        .rebuild(&localoffer::app::listings::Listings(db), true)
        .map_err(|e| e.to_string())?;
    println!(
        "indexed {indexed} published services in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn import_oruk(
    data_dir: &Path,
    database_url: Option<&str>,
    postcodes_url: Option<String>,
    options: import::Options,
) -> Result<(), String> {
    use localoffer::domain::{geo::OutcodeTable, taxonomy::Taxonomy};
    let (data, db) = open(data_dir, database_url)?;
    let taxonomy = std::sync::Arc::new(Taxonomy::builtin().map_err(|e| e.to_string())?);
    let geocoder = localoffer::geocode::Geocoder::new(
        std::sync::Arc::new(OutcodeTable::builtin().map_err(|e| e.to_string())?),
        postcodes_url,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let importer = import::Importer::new(db.clone(), taxonomy.clone(), geocoder, options).map_err(|e| e.to_string())?;
    let (summary, failure) = match runtime.block_on(importer.run()) {
        Ok(summary) => (summary, None),
        Err(import::Stopped { error, summary: None }) => return Err(error.to_string()),
        Err(import::Stopped {
            error,
            summary: Some(summary),
        }) => (summary, Some(error)),
    };
    // Printed even when the feed failed part-way: what it counts went in.
    println!("{}", serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?);
    // Make the services searchable now. A server running on this data directory holds the index
    // and follows the database's change log, so it shows them within a second by itself.
    use localoffer::search::{SearchError, SearchIndex};
    match SearchIndex::open_unless_busy(&data.index(), taxonomy).and_then(|index| {
        index.catch_up(&localoffer::app::listings::Listings(db.clone()))?;
        Ok(index.num_docs())
    }) {
        Ok(documents) => eprintln!("search index up to date: {documents} services"),
        Err(SearchError::InUse) => {
            eprintln!("a running localoffer server holds the search index; it picks the imported services up itself")
        }
        Err(e) => return Err(format!("imported, but updating the search index failed: {e}")),
    }
    match failure {
        None => Ok(()),
        Some(e) => Err(format!("the import stopped part-way: {e}")),
    }
}

fn verify(data_dir: &Path, database_url: Option<&str>) -> Result<(), String> {
    let (_, db) = open(data_dir, database_url)?;
    let report = db.read(db::ledger::verify).map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string(&report).map_err(|e| e.to_string())?);
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{} problem(s) found", report.problems.len()))
    }
}
