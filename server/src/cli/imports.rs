//! `steward import`: an inventory file read, compared and applied (or only checked)
//! with a progress line, and what it did printed for the terminal.

use std::process::ExitCode;

use steward_domain::imports::{ImportFormat, ImportReport, ImportRequest};

use super::{open, CLI_ACTOR};
use crate::config::{DatabaseConfig, ImportConfig};

/// What to import, as given on the command line.
pub(super) struct ImportArgs {
    pub format: ImportFormat,
    pub dry_run: bool,
    pub full: bool,
    pub environment: String,
    pub trust_domain: Option<String>,
    pub file: std::path::PathBuf,
}

/// `steward import`: exits 2 when the file is refused (nothing written).
pub(super) async fn run(
    database: &DatabaseConfig,
    limits: ImportConfig,
    args: ImportArgs,
) -> anyhow::Result<ExitCode> {
    let ImportArgs {
        format,
        dry_run,
        full,
        environment,
        trust_domain,
        file,
    } = args;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar.set_message(format!("reading {}", file.display()));
    let bytes =
        std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let store = open(database).await?;
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
