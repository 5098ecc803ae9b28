//! The `steward` command line: `serve` (the default), `migrate`, `demo`, `evaluate`,
//! `import`, `user`, `token`, `audit`, `rotate-signing-key`. This file parses and
//! dispatches; each larger command has its own file.

mod accounts;
mod audit;
mod imports;
mod serve;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use steward_domain::imports::ImportFormat;

use accounts::{TokenCommand, UserCommand};
use audit::AuditCommand;

use crate::config::{DatabaseConfig, ImportConfig, ServeConfig};
use crate::services::Services;
use crate::store::Store;
use crate::{demo, telemetry};

/// How the command line appears in the audit trail.
const CLI_ACTOR: &str = "system:cli";

#[derive(Debug, Parser)]
#[command(
    name = "steward",
    version,
    about = "Steward: governance of machine and AI identities",
    long_about = "Steward: governance of machine and AI identities.\n\nWithout a command, `steward` runs `steward serve`. Every option can also be set by the environment variable shown in its help."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
// Parsed once at start-up: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Run the web app and the REST API (migrates the database first).
    Serve {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        serve: ServeConfig,
    },
    /// Bring the database schema up to date, then exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Fill an empty database with realistic demo identities and one account per role.
    Demo {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        demo: DemoArgs,
    },
    /// Add a new key for signing grant credentials (the newest signs; the others keep
    /// verifying for the overlap window). Restart the servers to use it.
    RotateSigningKey {
        /// The key directory (`STEWARD_SIGNING_KEY_DIR`).
        #[arg(long, env = "STEWARD_SIGNING_KEY_DIR", default_value = "data/keys")]
        dir: std::path::PathBuf,
    },
    /// Evaluate every identity against the posture checks now and take the day's
    /// snapshot (the server also does this on its schedule).
    Evaluate {
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Import an inventory file exported by AWS, Kubernetes, GitHub, Google Cloud,
    /// Entra ID or Steward (matched on source and external id; applied in one
    /// transaction; audited as one event with the file's SHA-256).
    Import {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        limits: ImportConfig,
        /// aws-credential-report, k8s-serviceaccounts, github-pats, github-installations,
        /// gcp-service-accounts, gcp-keys, entra-service-principals, steward-csv or steward-json.
        #[arg(long)]
        format: ImportFormat,
        /// Report what would change without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// The file is a full export of its source: identities of the same source and
        /// environment that it no longer lists are marked not seen (never deleted).
        #[arg(long)]
        full: bool,
        /// Environment of identities whose format does not name one.
        #[arg(long, default_value = "prod")]
        environment: String,
        /// SPIFFE trust domain of the cluster (k8s-serviceaccounts).
        #[arg(long)]
        trust_domain: Option<String>,
        /// The file to import.
        file: std::path::PathBuf,
    },
    /// Manage the people who sign in to Steward.
    User {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create an API token for a user (acting as that user, within the token's scopes).
    Token {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Check the audit trail.
    Audit {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Clone, Args)]
struct DemoArgs {
    /// How many identities to generate (owners are added in proportion).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    identities: u64,
    /// Seed of the generator: the same seed gives the same data.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Password of the demo accounts (default: a random one, printed once).
    #[arg(long, env = "STEWARD_DEMO_PASSWORD", hide_env_values = true)]
    password: Option<String>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Some(command) => command,
        // `steward` alone serves, with settings from the environment.
        None => match Cli::parse_from(["steward", "serve"]).command {
            Some(command) => command,
            None => return ExitCode::FAILURE,
        },
    };
    telemetry::init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(database: &DatabaseConfig) -> anyhow::Result<Store> {
    Ok(Store::open(&database.database_url, database.db_max_connections).await?)
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { database, serve } => serve::run(database, serve)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Migrate { database } => {
            let store = open(&database).await?;
            store.close().await;
            println!("The database schema is up to date.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { database, demo } => {
            let store = open(&database).await?;
            let bar = indicatif::ProgressBar::new(demo.identities);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} demo identities {bar:40} {pos}/{len} ({per_sec}, {eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let result = demo::seed(
                &store,
                demo.identities,
                demo.seed,
                chrono::Utc::now(),
                |n| bar.set_position(n),
            )
            .await;
            bar.finish_and_clear();
            result?;
            let password = demo::demo_password(demo.password)?;
            let services = Services::new(store.clone());
            let created = demo::seed_users(&services.auth, &password).await?;
            demo::seed_tour(&services, &password).await?;
            store.close().await;
            println!(
                "Added {} demo identities and {} people.",
                demo.identities,
                demo::people_for(demo.identities)
            );
            if !created.is_empty() {
                print!("{}", demo::credentials_banner(&created, &password));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::RotateSigningKey { dir } => {
            let mut keys =
                crate::adapters::keys::SigningKeys::load(&dir, chrono::Duration::hours(24))?;
            let key = keys.rotate(chrono::Utc::now())?;
            println!(
                "New signing key {} in {}; restart the servers to sign with it (earlier keys keep verifying for STEWARD_SIGNING_KEY_OVERLAP_HOURS).",
                key.kid,
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Evaluate { database } => {
            let store = open(&database).await?;
            let services = Services::new(store.clone());
            let report = services.posture.evaluate_all(CLI_ACTOR).await?;
            println!(
                "Evaluated {} identities in {:.1} s: {} findings open ({} opened, {} resolved, {} acceptances lapsed), {} risk-accepted.",
                report.identities,
                (report.finished_at - report.started_at).num_milliseconds() as f64 / 1000.0,
                report.open,
                report.opened,
                report.resolved,
                report.lapsed,
                report.accepted
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            database,
            limits,
            format,
            dry_run,
            full,
            environment,
            trust_domain,
            file,
        } => {
            imports::run(
                &database,
                limits,
                imports::ImportArgs {
                    format,
                    dry_run,
                    full,
                    environment,
                    trust_domain,
                    file,
                },
            )
            .await
        }
        Command::User { database, command } => accounts::user(&database, command).await,
        Command::Token { database, command } => accounts::token(&database, command).await,
        Command::Audit { database, command } => audit::command(&database, command).await,
    }
}
