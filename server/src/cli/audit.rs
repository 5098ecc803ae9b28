//! `steward audit verify|checkpoint`: checking the audit trail's hash chain, and
//! signing its head somewhere the database's administrators cannot rewrite.

use std::process::ExitCode;

use clap::Subcommand;

use super::{open, CLI_ACTOR};
use crate::config::DatabaseConfig;

#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
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

/// `steward audit verify|checkpoint`.
pub(super) async fn command(
    database: &DatabaseConfig,
    command: AuditCommand,
) -> anyhow::Result<ExitCode> {
    let keys = |dir: &std::path::Path| {
        crate::adapters::keys::SigningKeys::load(dir, chrono::Duration::hours(24))
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
