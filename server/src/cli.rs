//! The `steward` command line: `serve` (the default), `migrate`, `demo`, `user`, `audit`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use steward_domain::auth::Role;
use steward_domain::import::{ImportFormat, ImportReport, ImportRequest};

use crate::config::{public_origin, DatabaseConfig, ImportConfig, ServeConfig};
use crate::services::Services;
use crate::store::Store;
use crate::web::auth::WebSecurity;
use crate::{demo, telemetry, web};

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

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user who signs in with a password, read from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// admin, owner, viewer or auditor.
        #[arg(long)]
        role: Role,
        /// Display name (default: the part of the email before the @).
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a user's password (read from standard input); also lifts a sign-in lockout.
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Change a user's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: Role,
    },
    /// Link a user to a single sign-on account (its subject at the configured issuer).
    /// Steward never links an account with a local password, or one already bound to
    /// another subject, by email on its own: an operator does it here, audited.
    LinkSso {
        #[arg(long)]
        email: String,
        /// The account's `sub` at the provider (Microsoft Entra ID: `TENANT/OID`).
        #[arg(long)]
        subject: String,
        /// The provider's issuer URL (default: STEWARD_OIDC_ISSUER).
        #[arg(long, env = "STEWARD_OIDC_ISSUER", hide_env_values = true)]
        issuer: String,
    },
    /// Let a user bound to single sign-on also sign in with a local password (an
    /// emergency account while the provider is down), or take that away (`--off`).
    BreakGlass {
        #[arg(long)]
        email: String,
        #[arg(long)]
        off: bool,
    },
    /// Remove a user's authenticator and recovery codes (a lost phone): they set up a
    /// new one at their next sign-in. Audited.
    ResetSecondFactor {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; prints the secret once.
    Create {
        /// The user the token acts as (an admin or owner).
        #[arg(long)]
        email: String,
        /// What the token is for, e.g. ci-inventory-sync.
        #[arg(long)]
        name: String,
        /// Comma-separated: inventory:read, audit:read, tokens:write.
        #[arg(long)]
        scopes: String,
        /// Lifetime in days (1-365).
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Re-check the hash chain; exits with 1 and names the first broken event if any.
    Verify {
        /// Also check the trail against a checkpoint file (`steward audit checkpoint`):
        /// shows the newest events cut off, which the chain alone cannot.
        #[arg(long)]
        checkpoint: Option<std::path::PathBuf>,
        /// Where the signing keys are (their public halves verify the checkpoint).
        #[arg(long, env = "STEWARD_SIGNING_KEY_DIR", default_value = "data/keys")]
        signing_key_dir: std::path::PathBuf,
    },
    /// Sign the chain head (sequence number and hash) with Steward's signing key and
    /// write it somewhere the database's administrators cannot rewrite: a file and/or a
    /// webhook (POSTed as JSON). Run it on a schedule (cron).
    Checkpoint {
        /// Write the checkpoint to this file (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// POST the checkpoint to this URL.
        #[arg(long, env = "STEWARD_AUDIT_CHECKPOINT_URL")]
        webhook: Option<String>,
        #[arg(long, env = "STEWARD_SIGNING_KEY_DIR", default_value = "data/keys")]
        signing_key_dir: std::path::PathBuf,
    },
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

/// Reads a password: hidden at a terminal, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password (at least 12 characters): ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    Ok(password)
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { database, serve } => {
            run_serve(database, serve).await.map(|()| ExitCode::SUCCESS)
        }
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
                crate::services::keys::SigningKeys::load(&dir, chrono::Duration::hours(24))?;
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
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar.set_message(format!("reading {}", file.display()));
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let store = open(&database).await?;
            let request = ImportRequest {
                format,
                file_name: file.file_name().map_or_else(
                    || file.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                environment,
                trust_domain,
                full,
                dry_run,
            };
            bar.set_message(format!(
                "{} {} ({} bytes)",
                if dry_run { "checking" } else { "importing" },
                request.file_name,
                bytes.len()
            ));
            let imports =
                crate::services::imports::ImportService::new(store.clone(), limits.limits(), None);
            let verb = if dry_run { "checked" } else { "read" };
            let result = imports
                .run_with_progress(CLI_ACTOR, &request, bytes, &|records| {
                    bar.set_message(format!(
                        "{} {records} records of {}…",
                        verb, request.file_name
                    ))
                })
                .await;
            bar.finish_and_clear();
            store.close().await;
            match result {
                Ok(report) => {
                    print!("{}", import_summary(&report));
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("steward import: {error}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::User { database, command } => {
            let store = open(&database).await?;
            let services = Services::new(store.clone());
            let result = match command {
                UserCommand::Add { email, role, name } => {
                    let password = read_password()?;
                    services
                        .auth
                        .add_user(CLI_ACTOR, &email, name.as_deref(), role, &password)
                        .await
                        .map(|_| println!("Added {} as {role}.", email.trim().to_lowercase()))
                }
                UserCommand::SetRole { email, role } => services
                    .auth
                    .set_role(CLI_ACTOR, &email, role)
                    .await
                    .map(|before| {
                        println!(
                            "{} was {before}, is now {role}.",
                            email.trim().to_lowercase()
                        )
                    }),
                UserCommand::LinkSso {
                    email,
                    subject,
                    issuer,
                } => services
                    .auth
                    .link_sso(CLI_ACTOR, &email, &issuer, &subject)
                    .await
                    .map(|()| {
                        println!(
                            "{} is linked to {subject} at {issuer}.",
                            email.trim().to_lowercase()
                        )
                    }),
                UserCommand::BreakGlass { email, off } => services
                    .auth
                    .set_break_glass(CLI_ACTOR, &email, !off)
                    .await
                    .map(|()| {
                        println!(
                            "{} {} sign in with a local password while bound to single sign-on.",
                            email.trim().to_lowercase(),
                            if off { "may no longer" } else { "may" }
                        )
                    }),
                UserCommand::ResetSecondFactor { email } => {
                    match services.auth.principal_by_email(&email).await {
                        Ok(user) => services
                            .second_factor
                            .reset(CLI_ACTOR, user.user_id, &user.email)
                            .await
                            .map(|()| {
                                println!(
                                    "{} sets up a new authenticator at their next sign-in.",
                                    user.email
                                )
                            }),
                        Err(error) => Err(error),
                    }
                }
                UserCommand::SetPassword { email } => {
                    let password = read_password()?;
                    services
                        .auth
                        .set_password(CLI_ACTOR, &email, &password)
                        .await
                        .map(|()| println!("Password of {} changed.", email.trim().to_lowercase()))
                }
            };
            store.close().await;
            result?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            database,
            command:
                TokenCommand::Create {
                    email,
                    name,
                    scopes,
                    days,
                },
        } => {
            let store = open(&database).await?;
            let services = Services::new(store.clone());
            let result = async {
                let principal = services.auth.principal_by_email(&email).await?;
                let request = steward_domain::tokens::NewTokenRequest {
                    name,
                    scopes: steward_domain::tokens::parse_scopes(&scopes)?,
                    expires_in_days: days,
                    agent_id: None,
                    environment: None,
                };
                services.tokens.create(Some(&principal), &request).await
            }
            .await;
            store.close().await;
            let created = result?;
            println!("{}", created.token);
            eprintln!(
                "Token '{}' ({}) for {} expires {}. This is the only time it is shown.",
                created.info.name,
                created
                    .info
                    .scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                created.info.owner_email,
                created.info.expires_at.format("%Y-%m-%d")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { database, command } => audit_command(&database, command).await,
    }
}

/// `steward audit verify|checkpoint`.
async fn audit_command(
    database: &DatabaseConfig,
    command: AuditCommand,
) -> anyhow::Result<ExitCode> {
    let keys = |dir: &std::path::Path| {
        crate::services::keys::SigningKeys::load(dir, chrono::Duration::hours(24))
    };
    let store = open(database).await?;
    let outcome = match command {
        AuditCommand::Verify {
            checkpoint,
            signing_key_dir,
        } => {
            let report = store.verify_audit().await?;
            match report.first_broken {
                Some(broken) => {
                    println!(
                        "The audit trail is BROKEN at event {}: {} ({} events before it are intact).",
                        broken.seq, broken.reason, report.checked
                    );
                    ExitCode::FAILURE
                }
                None => match checkpoint {
                    None => {
                        println!(
                            "The audit trail is intact: {} events checked.",
                            report.checked
                        );
                        ExitCode::SUCCESS
                    }
                    Some(path) => {
                        let text = std::fs::read_to_string(&path).map_err(|e| {
                            anyhow::anyhow!("cannot read the checkpoint {}: {e}", path.display())
                        })?;
                        let checkpoint = serde_json::from_str(&text).map_err(|e| {
                            anyhow::anyhow!("{} is not a checkpoint: {e}", path.display())
                        })?;
                        match crate::services::audit::verify_checkpoint(
                            &store,
                            &keys(&signing_key_dir)?,
                            &checkpoint,
                        )
                        .await
                        {
                            Ok(()) => {
                                println!(
                                    "The audit trail is intact: {} events checked, and it still holds checkpoint event {}.",
                                    report.checked, checkpoint.seq
                                );
                                ExitCode::SUCCESS
                            }
                            Err(problem) => {
                                println!(
                                    "The audit trail does NOT match the checkpoint: {problem}."
                                );
                                ExitCode::FAILURE
                            }
                        }
                    }
                },
            }
        }
        AuditCommand::Checkpoint {
            out,
            webhook,
            signing_key_dir,
        } => {
            let checkpoint =
                crate::services::audit::checkpoint(&store, &keys(&signing_key_dir)?, CLI_ACTOR)
                    .await?;
            let text = serde_json::to_string_pretty(&checkpoint)?;
            match &out {
                Some(path) => std::fs::write(path, format!("{text}\n")).map_err(|e| {
                    anyhow::anyhow!("cannot write the checkpoint to {}: {e}", path.display())
                })?,
                None => println!("{text}"),
            }
            if let Some(url) = webhook {
                let reply = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(text)
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot send the checkpoint to {url}: {e}"))?;
                if !reply.status().is_success() {
                    anyhow::bail!("the checkpoint webhook {url} answered {}", reply.status());
                }
            }
            eprintln!(
                "Checkpoint of event {} taken{}.",
                checkpoint.seq,
                out.map(|p| format!(" and written to {}", p.display()))
                    .unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(outcome)
}

/// The SSO service when `STEWARD_OIDC_ISSUER` is set; a half-configured SSO stops
/// Steward at start with a message naming what is missing.
fn oidc_service(
    args: &crate::config::OidcArgs,
    public_origin: &str,
    store: &Store,
) -> anyhow::Result<Option<crate::services::oidc::OidcService>> {
    use crate::services::oidc::{parse_role_map, OidcConfig, OidcService};
    let Some(issuer) = args.issuer.clone().filter(|i| !i.trim().is_empty()) else {
        return Ok(None);
    };
    let missing = |name: &str| anyhow::anyhow!("STEWARD_OIDC_ISSUER is set but {name} is not");
    let config = OidcConfig {
        issuer,
        client_id: args
            .client_id
            .clone()
            .ok_or_else(|| missing("STEWARD_OIDC_CLIENT_ID"))?,
        client_secret: args
            .client_secret
            .clone()
            .ok_or_else(|| missing("STEWARD_OIDC_CLIENT_SECRET"))?,
        redirect_url: args
            .redirect_url
            .clone()
            .unwrap_or_else(|| format!("{public_origin}/auth/oidc/callback")),
        role_claim: args.role_claim.clone(),
        role_map: parse_role_map(&args.role_map).map_err(anyhow::Error::msg)?,
    };
    tracing::info!(issuer = %config.issuer, redirect = %config.redirect_url, "single sign-on enabled");
    Ok(Some(
        OidcService::new(config, store.clone()).map_err(anyhow::Error::msg)?,
    ))
}

/// What an import did, for the terminal.
fn import_summary(report: &ImportReport) -> String {
    let mut out = format!(
        "{} {} ({}, sha256 {}): {} records — {} created, {} updated, {} unchanged, {} not seen, {} skipped; {} credentials, {} delegations, {} signals.\n",
        if report.dry_run { "Dry run of" } else { "Imported" },
        report.file_name,
        report.format,
        report.sha256,
        report.records,
        report.created,
        report.updated,
        report.unchanged,
        report.not_seen,
        report.skipped,
        report.credentials,
        report.delegations,
        report.signals,
    );
    for change in &report.changes {
        let action = change.action.label();
        out.push_str(&format!(
            "  {action:<8} {} ({})",
            change.name, change.external_id
        ));
        if !change.detail.is_empty() {
            out.push_str(&format!(": {}", change.detail));
        }
        out.push('\n');
    }
    if report.dry_run {
        out.push_str("Nothing was written. Run again without --dry-run to apply.\n");
    }
    out
}

async fn run_serve(database: DatabaseConfig, serve: ServeConfig) -> anyhow::Result<()> {
    let public_url = serve
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", serve.addr));
    let (origin, secure_cookies) = public_origin(&public_url).map_err(anyhow::Error::msg)?;
    if secure_cookies && origin.starts_with("http://") {
        tracing::warn!(
            "STEWARD_PUBLIC_URL is plain http on a non-loopback host: session cookies are Secure, so browsers will not sign in until Steward is served over https"
        );
    }
    let store = open(&database).await?;
    // Advisory only: a server that cannot be asked (permissions) still serves.
    if let Ok(Some(advice)) = store.cache_advice().await {
        tracing::warn!("{advice}");
    }
    let mut services = Services::with_policy(store.clone(), serve.lifecycle_policy())
        .with_import_limits(serve.imports.limits())
        .with_webhooks(
            serve
                .webhooks
                .config(Some(public_url.clone()))
                .map_err(anyhow::Error::msg)?,
        )
        .with_credentials(
            std::sync::Arc::new(crate::services::keys::SigningKeys::load(
                &serve.signing_key_dir,
                chrono::Duration::hours(i64::from(serve.signing_key_overlap_hours)),
            )?),
            public_url.trim_end_matches('/').to_owned(),
        );
    services = services
        .allowing_loopback_jwks(serve.limits.jwks_allow_loopback_http)
        .with_second_factor(
            crate::services::second_factor::Sealer::new(&crate::services::keys::load_sealing_key(
                &serve.signing_key_dir,
            )?)?,
            serve.second_factor_roles.0.clone(),
        );
    if let Some(oidc) = oidc_service(&serve.oidc, &origin, &store)? {
        services = services.with_oidc(oidc);
    }
    let mut banner = None;
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
        let password = demo::demo_password(std::env::var("STEWARD_DEMO_PASSWORD").ok())?;
        let created = demo::seed_users(&services.auth, &password).await?;
        demo::seed_tour(&services, &password).await?;
        banner = Some(demo::credentials_banner(&created, &password));
    }
    let bundle = serve.site_root.join("pkg").join("steward.wasm");
    if !bundle.exists() {
        tracing::warn!(
            "no browser bundle at {}: pages render but stay static; build it with `make build`",
            bundle.display()
        );
    }
    let security = WebSecurity {
        public_origin: origin,
        secure_cookies,
        session_idle: chrono::Duration::minutes(i64::from(serve.session_idle_minutes)),
        session_max_age: chrono::Duration::hours(i64::from(serve.session_max_hours)),
        limits: serve.limits.limits(),
    };
    let options = web::leptos_options(serve.addr, &serve.site_root);
    let posture = services.posture.clone();
    let campaigns = services.campaigns.clone();
    let grants = services.grants.clone();
    let authz = services.authz.clone();
    let auth = services.auth.clone();
    let app = web::router(services, security, options);
    let listener = tokio::net::TcpListener::bind(serve.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", serve.addr))?;
    let addr = listener.local_addr()?;
    let cleanup = web::spawn_session_cleanup(&store);
    let throttle_purge = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            ticks.tick().await;
            match auth.purge_login_throttle().await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "old sign-in failures forgotten"),
                Err(error) => tracing::error!(%error, "purging sign-in failures failed"),
            }
        }
    });
    let schedule = (serve.posture_interval_minutes > 0).then(|| {
        posture.spawn_schedule(std::time::Duration::from_secs(
            u64::from(serve.posture_interval_minutes) * 60,
        ))
    });
    let campaign_schedule = (serve.campaign_interval_minutes > 0).then(|| {
        campaigns.spawn_schedule(std::time::Duration::from_secs(
            u64::from(serve.campaign_interval_minutes) * 60,
        ))
    });
    let expiry = (serve.grant_expiry_seconds > 0).then(|| {
        grants.spawn_expiry(std::time::Duration::from_secs(u64::from(
            serve.grant_expiry_seconds,
        )))
    });
    let serving = web::serve(listener, app);
    println!("Steward is running at http://{addr}  (Ctrl-C to stop)");
    match banner {
        Some(banner) => print!("{banner}"),
        None => println!(
            "Sign in with an account made by `steward demo` or `steward user add --email … --role admin`."
        ),
    }
    let authz_maintenance = authz.spawn_maintenance(std::time::Duration::from_secs(600));
    serving.await?;
    authz_maintenance.abort();
    cleanup.abort();
    throttle_purge.abort();
    for schedule in schedule.into_iter().chain(campaign_schedule).chain(expiry) {
        schedule.abort();
    }
    // Every decision answered is in the log before the database closes.
    authz.flush().await;
    store.close().await;
    Ok(())
}
