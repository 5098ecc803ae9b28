//! `steward-bench`: the load generators behind `make bench-*` and `make soak`. They
//! live outside the `steward` binary so that the product ships no benchmark code; they
//! drive the server's own store, services and router in process, as a deployment runs
//! them.

mod authz;
mod grants;
mod http;
mod inventory;
mod soak;

use std::process::ExitCode;

use clap::Parser;
use steward_server::config::DatabaseConfig;
use steward_server::services::Services;
use steward_server::store::Store;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Measure Steward on a large demo register (seeded when the database is empty);
/// prints a Markdown report for BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(name = "steward-bench", version)]
struct Bench {
    #[command(flatten)]
    database: DatabaseConfig,
    /// Identities to seed into an empty database.
    #[arg(long, default_value_t = 1_000_000)]
    identities: u64,
    /// Timed runs per scenario (after one warm-up run); default 20. For `authz`:
    /// rounds of its decision timings and of its HTTP runs, default 3.
    #[arg(long)]
    runs: Option<usize>,
    /// The database's name in the report.
    #[arg(long, default_value = "database")]
    label: String,
    /// What to measure: `inventory` (listing, search, facets, identity pages),
    /// `posture` (full findings evaluation and the dashboard), `grants` (an expiry
    /// burst of one grant per identity, and grant requests through the API) or
    /// `authz` (decisions with 10,000 agents loaded, in process and through
    /// `POST /api/v1/authorize` under `wrk`) or `soak` (mixed pages, REST and
    /// decisions under `wrk` for `STEWARD_SOAK_SECONDS`; exits 1 when it fails).
    #[arg(long, default_value = "inventory", value_parser = ["inventory", "posture", "grants", "authz", "soak"])]
    scenarios: String,
}

fn main() -> ExitCode {
    let bench = Bench::parse();
    steward_server::telemetry::init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(bench)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(bench: Bench) -> anyhow::Result<ExitCode> {
    let Bench {
        database,
        identities,
        runs,
        label,
        scenarios,
    } = bench;
    let rounds = runs.unwrap_or(3).max(1);
    let runs = runs.unwrap_or(20).max(1);
    let store = Store::open(&database.database_url, database.db_max_connections).await?;
    if store.count_identities().await? == 0 {
        let bar = indicatif::ProgressBar::new(identities);
        let started = std::time::Instant::now();
        steward_server::demo::seed(&store, identities, 42, chrono::Utc::now(), |n| {
            bar.set_position(n)
        })
        .await?;
        bar.finish_and_clear();
        eprintln!(
            "seeded {identities} identities in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    // Measure with fresh planner statistics, as a maintained database has them.
    store.analyze().await?;
    let label = format!("{label} ({})", store.describe_server().await?);
    // Said below each report, so that a number measured on an undersized server is not
    // read as the product's.
    let cache_advice = store.cache_advice().await?;
    if let Some(advice) = &cache_advice {
        eprintln!("bench: warning: {advice}");
    }
    let count = store.count_identities().await?;
    let services = Services::new(store.clone());
    let mut code = ExitCode::SUCCESS;
    match scenarios.as_str() {
        "grants" => {
            let burst = u64::try_from(count)
                .unwrap_or(0)
                .min(identities)
                .min(grants::BURST);
            let timings =
                grants::measure_grants(&store, &services, burst, burst.min(20_000)).await?;
            print!("{}", grants::grants_markdown(&label, count, &timings));
        }
        "authz" => {
            let timings =
                authz::measure_authz(&store, &services, 10_000, 100_000, 10, rounds).await?;
            print!("{}", authz::authz_markdown(&label, count, &timings));
        }
        "soak" => {
            let config = soak::SoakConfig::from_env()?;
            let report = soak::measure_soak(&store, &services, config).await?;
            print!("{}", soak::soak_markdown(&label, count, &report));
            if !report.passed() {
                code = ExitCode::FAILURE;
            }
        }
        "posture" => {
            let timings = inventory::measure_posture(&store, &services, runs).await?;
            print!(
                "{}",
                inventory::posture_markdown(&label, count, runs, &timings)
            );
        }
        _ => {
            let timings = inventory::measure_inventory(&store, &services.ports(), runs).await?;
            print!("{}", inventory::markdown(&label, count, runs, &timings));
            let http = http::measure_http(&store, &services).await?;
            print!("{}", http::http_markdown(&http));
        }
    }
    if let Some(advice) = &cache_advice {
        println!("\n> ⚠ {advice}.\n");
    }
    store.close().await;
    Ok(code)
}
