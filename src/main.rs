use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use localoffer::{Application, DataDir, Settings, bench, db};

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
    },
    /// Rebuild the search index from the database.
    Reindex {
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
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
    },
    /// Measure performance and print the figures.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum CouncilCommand {
    /// Create a council and its first officer login; prints {"council_id", "user_id"}.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = ".", env = "LOCALOFFER_DATA_DIR")]
        data_dir: PathBuf,
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
    },
    /// Index build time and query latency on a generated England-wide data set, through the
    /// tantivy index and through a plain SQLite FTS5 + haversine baseline.
    Search {
        #[arg(long, default_value_t = 100_000)]
        services: usize,
        #[arg(long, default_value_t = 600)]
        queries: usize,
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
        } => {
            init_tracing("info");
            serve(Settings {
                bind,
                data_dir,
                demo,
                workers: 0,
                postcodes_url,
            })
        }
        Command::Reindex { data_dir } => {
            init_tracing("warn");
            reindex(&data_dir)
        }
        Command::Council {
            command:
                CouncilCommand::Create {
                    name,
                    email,
                    password,
                    data_dir,
                },
        } => {
            init_tracing("warn");
            create_council(&data_dir, &name, &email, &password)
        }
        Command::Verify { data_dir } => {
            init_tracing("warn");
            verify(&data_dir)
        }
        Command::Bench {
            command: BenchCommand::Bookings { requests, concurrency },
        } => {
            init_tracing("warn");
            bench::bookings(requests, concurrency).map_err(|e| e.to_string())
        }
        Command::Bench {
            command: BenchCommand::Search { services, queries },
        } => {
            init_tracing("warn");
            bench::search(services, queries).map_err(|e| e.to_string())
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
        if !app.demo_logins.is_empty() {
            println!("Demo logins (http://{}):", settings.bind);
            for l in &app.demo_logins {
                println!("  {:<8} {:<45} {} / {}", l.role, l.who, l.email, l.password);
            }
        }
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

fn create_council(data_dir: &std::path::Path, name: &str, email: &str, password: &str) -> Result<(), String> {
    use localoffer::domain::validate;
    let name = validate::text("name", name, 1, 200).map_err(|e| format!("--{} {}", e.field, e.message))?;
    let email = validate::email("email", email).map_err(|e| format!("--{} {}", e.field, e.message))?;
    let password = validate::password("password", password).map_err(|e| format!("--{} {}", e.field, e.message))?;
    let db = DataDir::prepare(data_dir)
        .and_then(|d| d.open_db())
        .map_err(|e| e.to_string())?;
    let hash = db::users::hash_password(&password).map_err(|e| e.to_string())?;
    let (council_id, user_id) = db
        .write(move |conn| db::councils::create(conn, &name, &email, &hash))
        .map_err(|e| e.to_string())?;
    println!("{}", serde_json::json!({"council_id": council_id, "user_id": user_id}));
    Ok(())
}

fn reindex(data_dir: &std::path::Path) -> Result<(), String> {
    let data = DataDir::prepare(data_dir).map_err(|e| e.to_string())?;
    let db = data.open_db().map_err(|e| e.to_string())?;
    let taxonomy = std::sync::Arc::new(localoffer::domain::taxonomy::Taxonomy::builtin().map_err(|e| e.to_string())?);
    let index = localoffer::search::SearchIndex::open(&data.index(), taxonomy).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let indexed = index.rebuild(&db, true).map_err(|e| e.to_string())?;
    println!(
        "indexed {indexed} published services in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn verify(data_dir: &std::path::Path) -> Result<(), String> {
    let db = DataDir::prepare(data_dir)
        .and_then(|d| d.open_db())
        .map_err(|e| e.to_string())?;
    let report = db.read(db::ledger::verify).map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string(&report).map_err(|e| e.to_string())?);
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{} problem(s) found", report.problems.len()))
    }
}
