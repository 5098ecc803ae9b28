//! The `steward` command line: `serve` (the default), `migrate`, `demo`.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{DatabaseConfig, ServeConfig};
use crate::store::Store;
use crate::{demo, services, telemetry, web};

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
    /// Fill an empty database with realistic demo identities.
    Demo {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        demo: DemoArgs,
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
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(database: &DatabaseConfig) -> anyhow::Result<Store> {
    Ok(Store::open(&database.database_url, database.db_max_connections).await?)
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { database, serve } => run_serve(database, serve).await,
        Command::Migrate { database } => {
            let store = open(&database).await?;
            store.close().await;
            println!("The database schema is up to date.");
            Ok(())
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
            store.close().await;
            result?;
            println!(
                "Added {} demo identities and {} people.",
                demo.identities,
                demo::people_for(demo.identities)
            );
            Ok(())
        }
    }
}

async fn run_serve(database: DatabaseConfig, serve: ServeConfig) -> anyhow::Result<()> {
    let store = open(&database).await?;
    if serve.demo_if_empty > 0 && store.count_identities().await? == 0 {
        tracing::info!(
            identities = serve.demo_if_empty,
            "empty register: adding demo data"
        );
        demo::seed(
            &store,
            serve.demo_if_empty,
            2026,
            chrono::Utc::now(),
            |_| {},
        )
        .await?;
    }
    let bundle = serve.site_root.join("pkg").join("steward.wasm");
    if !bundle.exists() {
        tracing::warn!(
            "no browser bundle at {}: pages render but stay static; build it with `make build`",
            bundle.display()
        );
    }
    let options = web::leptos_options(serve.addr, &serve.site_root);
    let app = web::router(store.clone(), services::ports(store.clone()), options);
    let listener = tokio::net::TcpListener::bind(serve.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", serve.addr))?;
    let addr = listener.local_addr()?;
    println!("Steward is running at http://{addr}  (Ctrl-C to stop)");
    web::serve(listener, app).await?;
    store.close().await;
    Ok(())
}
