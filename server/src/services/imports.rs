//! Imports: a file from a real system compared with the register and applied in one
//! transaction — created, updated, unchanged, not seen — or, in a dry run, only
//! reported. Matching is on (source, external id), so importing the same file twice
//! changes nothing the second time. Secrets in a file are never kept: parsers read only
//! metadata, and an uploaded key file is reported as a secret-leak signal.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use steward_domain::audit::NewAuditEvent;
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::import::{
    read_records, ImportAction, ImportChange, ImportLimits, ImportReport, ImportRequest,
    ImportSignal, ImportedIdentity, PREVIEW_CHANGES,
};
use steward_domain::ports::Imports;
use steward_domain::DomainError;
use uuid::Uuid;

use super::inventory::write_error;
use crate::store::imports::{ImportCredential, ImportTarget};
use crate::store::write::Statement;
use crate::store::Store;

pub struct ImportService {
    store: Store,
    limits: ImportLimits,
}

/// The audit action of an applied import.
pub const IMPORT_ACTION: &str = "import.apply";

impl ImportService {
    pub fn new(store: Store, limits: ImportLimits) -> Self {
        ImportService { store, limits }
    }

    /// Runs an import as `actor` (already authorized: the web and API callers through
    /// [`Imports::import`], the command line by having the database).
    pub async fn run_as(
        &self,
        actor: &str,
        request: &ImportRequest,
        file: &[u8],
    ) -> Result<ImportReport, DomainError> {
        self.run_with_progress(actor, request, file, &|_| {}).await
    }

    /// [`run_as`](Self::run_as), telling `progress` how many records have been read
    /// (every thousand, and at the end).
    pub async fn run_with_progress(
        &self,
        actor: &str,
        request: &ImportRequest,
        file: &[u8],
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportReport, DomainError> {
        let request = request.validated()?;
        let name = &request.file_name;
        if file.len() as u64 > self.limits.max_bytes {
            return Err(DomainError::invalid(
                "file",
                format!(
                    "{name} is {} bytes; the limit is {} bytes (STEWARD_IMPORT_MAX_BYTES)",
                    file.len(),
                    self.limits.max_bytes
                ),
            ));
        }
        let sha256 = hex(&Sha256::digest(file));

        // Read every record; the first problem stops the import before anything is written.
        let mut records: Vec<ImportedIdentity> = Vec::new();
        let mut first_seen: HashMap<(String, String), String> = HashMap::new();
        read_records(request.format, file, &request, self.limits, |record| {
            let key = (
                record.source.as_str().to_owned(),
                record.external_id.clone(),
            );
            if let Some(earlier) = first_seen.get(&key) {
                return Err(steward_domain::import::ImportError::at(
                    record.location,
                    None,
                    format!(
                        "repeats the key {} {} of {earlier}; each identity may appear once",
                        record.source, record.external_id
                    ),
                ));
            }
            first_seen.insert(key, record.location.to_string());
            records.push(record);
            if records.len().is_multiple_of(1000) {
                progress(records.len() as u64);
            }
            Ok(())
        })
        .map_err(|e| DomainError::invalid("file", format!("{name}: {e}")))?;
        drop(first_seen);
        progress(records.len() as u64);

        let now = Utc::now();
        let plan = self.plan(&request, &records, now).await?;
        let mut report = ImportReport {
            format: request.format,
            file_name: name.clone(),
            sha256,
            dry_run: request.dry_run,
            records: records.len() as u64,
            created: plan.count(ImportAction::Create),
            updated: plan.count(ImportAction::Update),
            unchanged: plan.count(ImportAction::Unchanged),
            not_seen: plan.count(ImportAction::NotSeen),
            skipped: plan.count(ImportAction::Skip),
            credentials: plan.credentials,
            delegations: plan.delegations,
            signals: plan.signals,
            changes: plan
                .changes
                .iter()
                .filter(|c| c.action != ImportAction::Unchanged)
                .take(PREVIEW_CHANGES)
                .cloned()
                .collect(),
        };
        if request.dry_run {
            return Ok(report);
        }
        // Applied: one audit event, even when nothing changed (it records that the file
        // was checked against the register).
        let event = NewAuditEvent::new(
            actor.to_owned(),
            IMPORT_ACTION,
            format!("import:{}", request.format),
            json!({
                "format": request.format, "file_name": name, "sha256": report.sha256,
                "environment": request.environment, "full": request.full,
                "records": report.records, "created": report.created, "updated": report.updated,
                "unchanged": report.unchanged, "not_seen": report.not_seen,
                "skipped": report.skipped, "credentials": report.credentials,
                "delegations": report.delegations, "signals": report.signals,
            }),
        );
        self.store
            .write(&plan.statements, |_| vec![event])
            .await
            .map_err(|e| {
                write_error(
                    e,
                    "another change to the same identities happened meanwhile; nothing was imported — try again",
                )
            })?;
        report.dry_run = false;
        Ok(report)
    }

    /// Compares the records with the register: what to write, and what it means.
    async fn plan(
        &self,
        request: &ImportRequest,
        records: &[ImportedIdentity],
        now: DateTime<Utc>,
    ) -> Result<Plan, DomainError> {
        let mut plan = Plan::default();
        // The register's side, fetched in chunks per source.
        let mut by_source: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for record in records {
            by_source
                .entry(record.source.as_str())
                .or_default()
                .push(record.external_id.clone());
        }
        let mut targets: HashMap<(String, String), ImportTarget> = HashMap::new();
        for (source, ids) in &by_source {
            for target in self.store.import_targets(source, ids).await? {
                targets.insert(((*source).to_owned(), target.external_id.clone()), target);
            }
        }
        let matched: Vec<Uuid> = targets.values().map(|t| t.id).collect();
        let mut credentials: HashMap<(Uuid, String), ImportCredential> = HashMap::new();
        for credential in self.store.credentials_of_many(&matched).await? {
            credentials.insert(
                (credential.identity_id, credential.key_id.clone()),
                credential,
            );
        }
        let existing_signals: BTreeSet<(Uuid, String, String)> = self
            .store
            .signals_of_many(&matched)
            .await?
            .into_iter()
            .collect();
        let existing_edges: BTreeSet<(Uuid, Uuid)> = self
            .store
            .delegations_from_many(&matched)
            .await?
            .into_iter()
            .collect();

        // Every identity this import ends up with, by external id (for delegation ends).
        let mut ids_by_external: HashMap<String, Uuid> = HashMap::new();
        let mut teams: BTreeSet<String> = BTreeSet::new();
        let mut seen: BTreeSet<Uuid> = BTreeSet::new();
        let mut edges: Vec<(Uuid, String, usize)> = Vec::new();

        for (index, record) in records.iter().enumerate() {
            let key = (
                record.source.as_str().to_owned(),
                record.external_id.clone(),
            );
            if record.signals.contains(&ImportSignal::RootAccount) {
                plan.change(
                    ImportAction::Skip,
                    record,
                    "the account's root user is not a non-human identity",
                );
                continue;
            }
            let id = match targets.get(&key) {
                None => {
                    let id = Uuid::new_v4();
                    plan.new_identities.push((id, index));
                    plan.change(ImportAction::Create, record, "");
                    if let Some(team) = &record.team {
                        teams.insert(team.clone());
                    }
                    for credential in &record.credentials {
                        plan.new_credentials.push((id, credential.clone()));
                        plan.credentials += 1;
                    }
                    id
                }
                Some(target) if target.status == "retired" => {
                    plan.change(
                        ImportAction::Skip,
                        record,
                        "retired identities are kept as they were",
                    );
                    continue;
                }
                Some(target) => {
                    seen.insert(target.id);
                    let changed = changed_fields(target, record);
                    let mut credential_changes = 0;
                    for credential in &record.credentials {
                        let stored = credentials.get(&(target.id, credential.key_id.clone()));
                        if credential_differs(stored, credential) {
                            plan.statements
                                .push(upsert_credential(target.id, credential, now));
                            credential_changes += 1;
                        }
                    }
                    plan.credentials += credential_changes;
                    if changed.is_empty() && credential_changes == 0 {
                        plan.change(ImportAction::Unchanged, record, "");
                    } else {
                        if !changed.is_empty() {
                            plan.statements.push(update_identity(target, record, now));
                            if let Some(team) = &record.team {
                                teams.insert(team.clone());
                            }
                        }
                        let mut detail = changed.join(", ");
                        if credential_changes > 0 {
                            if !detail.is_empty() {
                                detail.push_str(", ");
                            }
                            detail.push_str(&format!("{credential_changes} credential(s)"));
                        }
                        plan.change(ImportAction::Update, record, &detail);
                    }
                    target.id
                }
            };
            // Only machine identities can be acted through.
            if record.kind.actor_class() == steward_domain::inventory::ActorClass::Machine {
                ids_by_external.insert(record.external_id.clone(), id);
            }
            for signal in &record.signals {
                if let Some((name, detail)) = signal_row(signal) {
                    if !existing_signals.contains(&(id, name.to_owned(), detail.clone())) {
                        plan.statements.push(upsert_signal(id, name, &detail, now));
                        plan.signals += 1;
                    }
                }
            }
            for target in &record.acts_as {
                edges.push((id, target.clone(), index));
            }
        }

        // Delegation ends outside this file are looked up in the register.
        let unknown: Vec<String> = edges
            .iter()
            .map(|(_, target, _)| target.clone())
            .filter(|target| !ids_by_external.contains_key(target))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for (external_id, id) in self.store.machine_ids_by_external_id(&unknown).await? {
            ids_by_external.entry(external_id).or_insert(id);
        }
        for (from, target, _) in &edges {
            if let Some(to) = ids_by_external.get(target) {
                if from != to && !existing_edges.contains(&(*from, *to)) {
                    plan.statements.push(
                        Statement::new(
                            "INSERT INTO delegations (from_id, to_id, kind, created_at) \
                             VALUES ($1, $2, 'acts_as', $3) ON CONFLICT (from_id, to_id) DO NOTHING",
                        )
                        .bind(*from)
                        .bind(*to)
                        .bind(now),
                    );
                    plan.delegations += 1;
                }
            }
        }

        // A full import: what the register has for these sources and this environment
        // and the file no longer lists is marked not seen.
        if request.full {
            let in_file: BTreeSet<(String, String)> = records
                .iter()
                .map(|r| (r.source.as_str().to_owned(), r.external_id.clone()))
                .collect();
            for source in by_source.keys() {
                for (id, external_id, name) in self
                    .store
                    .import_scope(source, &request.environment)
                    .await?
                {
                    let listed = external_id
                        .as_ref()
                        .is_some_and(|e| in_file.contains(&((*source).to_owned(), e.clone())));
                    if !listed && !seen.contains(&id) {
                        plan.statements.push(
                            Statement::new(
                                "UPDATE identities SET not_seen_since = $1, updated_at = $1 \
                                 WHERE id = $2 AND not_seen_since IS NULL",
                            )
                            .bind(now)
                            .bind(id),
                        );
                        plan.changes.push(ImportChange {
                            action: ImportAction::NotSeen,
                            external_id: external_id.unwrap_or_default(),
                            name,
                            detail: format!(
                                "not in this full import of {source} ({})",
                                request.environment
                            ),
                        });
                    }
                }
            }
        }
        // Teams first: identities refer to them.
        let team_statements: Vec<Statement> = teams
            .into_iter()
            .map(|team| {
                Statement::new(
                    "INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                )
                .bind(team)
                .bind(now)
            })
            .collect();
        // Then the new identities and their credentials, many rows per statement (one
        // round trip per batch, not per row), before everything that refers to them.
        let mut first = team_statements;
        for batch in plan.new_identities.chunks(IDENTITY_BATCH) {
            first.push(insert_identities(
                batch.iter().map(|(id, index)| (*id, &records[*index])),
                now,
            ));
        }
        for batch in plan.new_credentials.chunks(CREDENTIAL_BATCH) {
            first.push(insert_credentials(batch, now));
        }
        plan.statements.splice(0..0, first);
        Ok(plan)
    }
}

#[async_trait]
impl Imports for ImportService {
    async fn import(
        &self,
        principal: Option<&Principal>,
        request: &ImportRequest,
        file: &[u8],
    ) -> Result<ImportReport, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        self.run_as(&principal.audit_actor(), request, file).await
    }
}

/// Rows per multi-row INSERT: inside both databases' bind limits (16 and 9 binds a row).
const IDENTITY_BATCH: usize = 500;
const CREDENTIAL_BATCH: usize = 1000;

#[derive(Default)]
struct Plan {
    statements: Vec<Statement>,
    /// Identities to create: their new id and the index of their record.
    new_identities: Vec<(Uuid, usize)>,
    new_credentials: Vec<(Uuid, steward_domain::import::ImportedCredential)>,
    changes: Vec<ImportChange>,
    credentials: u64,
    delegations: u64,
    signals: u64,
}

impl Plan {
    fn change(&mut self, action: ImportAction, record: &ImportedIdentity, detail: &str) {
        self.changes.push(ImportChange {
            action,
            external_id: record.external_id.clone(),
            name: record.name.clone(),
            detail: detail.to_owned(),
        });
    }

    fn count(&self, action: ImportAction) -> u64 {
        self.changes.iter().filter(|c| c.action == action).count() as u64
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fields an import sets that differ from the register (absent values in the file
/// leave the register's as they are; last use only moves forward).
fn changed_fields(target: &ImportTarget, record: &ImportedIdentity) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if target.name != record.name {
        changed.push("name");
    }
    if target.kind != record.kind.as_str() {
        changed.push("kind");
    }
    if target.environment != record.environment {
        changed.push("environment");
    }
    if record.team.is_some() && target.team != record.team {
        changed.push("team");
    }
    if record.purpose.is_some() && target.purpose != record.purpose {
        changed.push("purpose");
    }
    if record.spiffe_id.is_some() && target.spiffe_id != record.spiffe_id {
        changed.push("spiffe_id");
    }
    if record.expires_at.is_some() && target.expires_at != record.expires_at {
        changed.push("expires_at");
    }
    if record.last_used_at > target.last_used_at {
        changed.push("last_used_at");
    }
    if target.not_seen_since.is_some() {
        changed.push("seen again");
    }
    changed
}

fn credential_differs(
    stored: Option<&ImportCredential>,
    record: &steward_domain::import::ImportedCredential,
) -> bool {
    match stored {
        None => true,
        Some(stored) => {
            stored.kind != record.kind.as_str()
                || (record.last_rotated_at.is_some()
                    && stored.last_rotated_at != record.last_rotated_at)
                || (record.expires_at.is_some() && stored.expires_at != record.expires_at)
                || record.last_used_at > stored.last_used_at
        }
    }
}

/// `(?, …, ?), (?, …)` for `rows` rows of `columns` placeholders.
fn values(rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

fn insert_identities<'a>(
    rows: impl ExactSizeIterator<Item = (Uuid, &'a ImportedIdentity)>,
    now: DateTime<Utc>,
) -> Statement {
    let mut statement = Statement::positional(format!(
        "INSERT INTO identities (id, name, actor_class, kind, source, external_id, environment, \
         status, status_reason, team, purpose, spiffe_id, expires_at, created_at, last_used_at, updated_at) \
         VALUES {}",
        values(rows.len(), 16)
    ));
    for (id, record) in rows {
        statement = statement
            .bind(id)
            .bind(record.name.clone())
            .bind(record.kind.actor_class().as_str())
            .bind(record.kind.as_str())
            .bind(record.source.as_str())
            .bind(record.external_id.clone())
            .bind(record.environment.clone())
            .bind(if record.enabled {
                "active"
            } else {
                "suspended"
            })
            .bind((!record.enabled).then_some("disabled at the source"))
            .bind(record.team.clone())
            .bind(record.purpose.clone())
            .bind(record.spiffe_id.clone())
            .bind(record.expires_at)
            .bind(record.created_at.unwrap_or(now))
            .bind(record.last_used_at)
            .bind(now);
    }
    statement
}

fn update_identity(
    target: &ImportTarget,
    record: &ImportedIdentity,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "UPDATE identities SET name = $1, actor_class = $2, kind = $3, environment = $4, \
         team = COALESCE($5, team), purpose = COALESCE($6, purpose), \
         spiffe_id = COALESCE($7, spiffe_id), expires_at = COALESCE($8, expires_at), \
         last_used_at = $9, not_seen_since = NULL, updated_at = $10 WHERE id = $11",
    )
    .bind(record.name.clone())
    .bind(record.kind.actor_class().as_str())
    .bind(record.kind.as_str())
    .bind(record.environment.clone())
    .bind(record.team.clone())
    .bind(record.purpose.clone())
    .bind(record.spiffe_id.clone())
    .bind(record.expires_at)
    .bind(record.last_used_at.max(target.last_used_at))
    .bind(now)
    .bind(target.id)
    .expect(
        1,
        "an identity of this import changed meanwhile; nothing was imported — try again",
    )
}

/// The start of an insert of credentials; `VALUES` lists follow.
const CREDENTIAL_INSERT: &str =
    "INSERT INTO credentials (id, identity_id, kind, key_id, created_at, last_rotated_at, \
     expires_at, last_used_at, revoked_at) VALUES ";

/// Binds one credential's nine values, in [`CREDENTIAL_INSERT`]'s order.
fn bind_credential(
    statement: Statement,
    identity: Uuid,
    credential: &steward_domain::import::ImportedCredential,
    now: DateTime<Utc>,
) -> Statement {
    statement
        .bind(Uuid::new_v4())
        .bind(identity)
        .bind(credential.kind.as_str())
        .bind(credential.key_id.clone())
        .bind(credential.created_at.unwrap_or(now))
        .bind(credential.last_rotated_at)
        .bind(credential.expires_at)
        .bind(credential.last_used_at)
        .bind((!credential.active).then_some(now))
}

fn insert_credentials(
    rows: &[(Uuid, steward_domain::import::ImportedCredential)],
    now: DateTime<Utc>,
) -> Statement {
    let statement = Statement::positional(format!("{CREDENTIAL_INSERT}{}", values(rows.len(), 9)));
    rows.iter()
        .fold(statement, |statement, (identity, credential)| {
            bind_credential(statement, *identity, credential, now)
        })
}

fn upsert_credential(
    identity: Uuid,
    credential: &steward_domain::import::ImportedCredential,
    now: DateTime<Utc>,
) -> Statement {
    let statement = Statement::positional(format!(
        "{CREDENTIAL_INSERT}{} \
         ON CONFLICT (identity_id, key_id) DO UPDATE SET kind = excluded.kind, \
         last_rotated_at = COALESCE(excluded.last_rotated_at, credentials.last_rotated_at), \
         expires_at = COALESCE(excluded.expires_at, credentials.expires_at), \
         last_used_at = COALESCE(excluded.last_used_at, credentials.last_used_at)",
        values(1, 9)
    ));
    bind_credential(statement, identity, credential, now)
}

/// The stored name and detail of a signal (the root account is not stored: it is skipped).
fn signal_row(signal: &ImportSignal) -> Option<(&'static str, String)> {
    match signal {
        ImportSignal::PossibleHumanUse { detail } => Some(("possible_human_use", detail.clone())),
        ImportSignal::ThirdPartyIntegration { detail } => {
            Some(("third_party_integration", detail.clone()))
        }
        ImportSignal::SecretUploaded { detail } => Some(("secret_uploaded", detail.clone())),
        ImportSignal::RootAccount => None,
    }
}

fn upsert_signal(identity: Uuid, signal: &str, detail: &str, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "INSERT INTO identity_signals (identity_id, signal, detail, first_seen_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (identity_id, signal) \
         DO UPDATE SET detail = excluded.detail, last_seen_at = excluded.last_seen_at",
    )
    .bind(identity)
    .bind(signal.to_owned())
    .bind(detail.to_owned())
    .bind(now)
}
