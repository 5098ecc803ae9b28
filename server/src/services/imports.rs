//! Imports: a file from a real system compared with the register and applied in one
//! transaction — created, updated, unchanged, not seen — or, in a dry run, only
//! reported. Matching is on (source, external id), so importing the same file twice
//! changes nothing the second time. Secrets in a file are never kept: parsers read only
//! metadata, and an uploaded key file is reported as a secret-leak signal.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use steward_domain::audit::{hex, AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::imports::{
    read_records, ImportAction, ImportChange, ImportError, ImportLimits, ImportReport,
    ImportRequest, ImportSignal, ImportedCredential, ImportedIdentity, Location, PREVIEW_CHANGES,
};
use steward_domain::inventory::{IdentityStatus, Source};
use steward_domain::ports::Imports;
use steward_domain::DomainError;
use uuid::Uuid;

use super::posture::PostureService;
use crate::services::write_error;
use crate::store::imports::writes::{
    insert_acts_as_delegation, insert_credentials, mark_identity_not_seen,
    update_imported_identity, upsert_credential, upsert_signals,
};
use crate::store::imports::{ImportCredential, ImportTarget};
use crate::store::inventory::{writes, NewIdentity};
use crate::store::write::{Statement, WriteError, WriteTx};
use crate::store::Store;

pub struct ImportService {
    store: Store,
    limits: ImportLimits,
    /// Re-evaluates findings after an applied import (the command line has none:
    /// the server evaluates when it starts and on its schedule).
    posture: Option<Arc<PostureService>>,
}

/// The audit action of an applied import.
pub const IMPORT_ACTION: AuditAction = AuditAction::ImportApply;

/// Records compared and written at a time. Memory holds one chunk being compared, one
/// being parsed and one waiting between them — not the whole file's records — plus a
/// key per record to find repeats and delegation ends.
const CHUNK: usize = 5000;

impl ImportService {
    pub fn new(store: Store, limits: ImportLimits, posture: Option<Arc<PostureService>>) -> Self {
        ImportService {
            store,
            limits,
            posture,
        }
    }

    /// Runs an import as `actor` (already authorized: the web and API callers through
    /// [`Imports::import`], the command line by having the database).
    pub async fn run_as(
        &self,
        actor: &str,
        request: &ImportRequest,
        file: Vec<u8>,
    ) -> Result<ImportReport, DomainError> {
        self.run_with_progress(actor, request, file, &|_| {}).await
    }

    /// [`run_as`](Self::run_as), telling `progress` how many records have been read
    /// (every chunk, and at the end).
    ///
    /// The file is parsed on a blocking thread and handed over in chunks of [`CHUNK`]
    /// records; each chunk is compared with the register and, unless this is a dry run,
    /// written at once inside one transaction that stays open until the end. A problem
    /// anywhere — in the file or in the database — drops the transaction: nothing is
    /// written.
    pub async fn run_with_progress(
        &self,
        actor: &str,
        request: &ImportRequest,
        file: Vec<u8>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportReport, DomainError> {
        let request = request.validated()?;
        let name = request.file_name.clone();
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
        let sha256 = hex(&Sha256::digest(&file));

        let (sender, mut chunks) = tokio::sync::mpsc::channel::<Vec<ImportedIdentity>>(1);
        let parser = tokio::task::spawn_blocking({
            let request = request.clone();
            let limits = self.limits;
            move || parse_in_chunks(&file, &request, limits, &sender)
        });

        let now = Utc::now();
        let mut plan = Plan::new(now);
        let mut write = match request.dry_run {
            true => None,
            false => Some(self.store.begin_write().await.map_err(import_write_error)?),
        };
        let compared: Result<(), DomainError> = async {
            // A chunk is compared while the one before it is written. The comparison
            // reads the committed register, which the open write transaction does not
            // change until the end, so the order of the two makes no difference, and
            // the database works on both at once.
            let mut previous: Vec<Statement> = Vec::new();
            while let Some(chunk) = chunks.recv().await {
                plan.records += chunk.len() as u64;
                progress(plan.records);
                let (statements, written) = tokio::join!(
                    plan.compare(&self.store, &chunk),
                    write_chunk(write.as_mut(), &previous)
                );
                written?;
                previous = statements?;
            }
            write_chunk(write.as_mut(), &previous).await
        }
        .await;
        // A failed comparison closes the channel, which stops the parser.
        drop(chunks);
        let parsed = parser.await.map_err(|e| {
            tracing::error!(error = %e, "the import parser stopped unexpectedly");
            DomainError::Internal
        })?;
        compared?;
        parsed.map_err(|e| DomainError::invalid("file", format!("{name}: {e}")))?;
        progress(plan.records);

        let statements = plan.finish(&self.store, &request).await?;
        let mut report = ImportReport {
            format: request.format,
            file_name: name.clone(),
            sha256,
            dry_run: request.dry_run,
            records: plan.records,
            created: plan.created,
            updated: plan.updated,
            unchanged: plan.unchanged,
            not_seen: plan.not_seen,
            skipped: plan.skipped,
            credentials: plan.credentials,
            delegations: plan.delegations,
            signals: plan.signals,
            changes: plan.preview,
        };
        let Some(mut write) = write else {
            return Ok(report);
        };
        write.run(&statements).await.map_err(import_write_error)?;
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
        write.commit(&[event]).await.map_err(import_write_error)?;
        // An import can touch every identity of a source: the whole register is
        // re-evaluated in the background rather than holding up the answer.
        if let Some(posture) = &self.posture {
            posture.evaluate_soon();
        }
        report.dry_run = false;
        Ok(report)
    }
}

fn import_write_error(error: WriteError) -> DomainError {
    write_error(
        error,
        "another change to the same identities happened meanwhile; nothing was imported — try again",
    )
}

/// Runs a chunk's statements in the import's transaction (none on a dry run).
async fn write_chunk(
    write: Option<&mut WriteTx>,
    statements: &[Statement],
) -> Result<(), DomainError> {
    match write {
        Some(write) if !statements.is_empty() => {
            write.run(statements).await.map_err(import_write_error)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Reads the file, rejecting a key seen before, and sends its records in chunks. Stops
/// when the receiver is gone (the comparison failed).
fn parse_in_chunks(
    file: &[u8],
    request: &ImportRequest,
    limits: ImportLimits,
    sender: &tokio::sync::mpsc::Sender<Vec<ImportedIdentity>>,
) -> Result<u64, ImportError> {
    let stopped = || ImportError::at(Location::File, None, "the import was stopped");
    let mut first_seen: HashMap<(Source, String), Location> = HashMap::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    let count = read_records(request.format, file, request, limits, |record| {
        match first_seen.entry((record.source, record.external_id.clone())) {
            Entry::Occupied(earlier) => {
                return Err(ImportError::at(
                    record.location,
                    None,
                    format!(
                        "repeats the key {} {} of {}; each identity may appear once",
                        record.source,
                        record.external_id,
                        earlier.get()
                    ),
                ));
            }
            Entry::Vacant(slot) => {
                slot.insert(record.location);
            }
        }
        chunk.push(record);
        if chunk.len() == CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
            sender.blocking_send(full).map_err(|_| stopped())?;
        }
        Ok(())
    })?;
    if !chunk.is_empty() {
        sender.blocking_send(chunk).map_err(|_| stopped())?;
    }
    Ok(count)
}

/// What an import does, built chunk by chunk: the counts and preview of the report, and
/// what must be known across chunks (identities by external id for delegation ends,
/// the identities seen, teams already written).
#[derive(Default)]
struct Plan {
    now: DateTime<Utc>,
    records: u64,
    created: u64,
    updated: u64,
    unchanged: u64,
    not_seen: u64,
    skipped: u64,
    credentials: u64,
    delegations: u64,
    signals: u64,
    /// The first changes other than "unchanged", in file order.
    preview: Vec<ImportChange>,
    /// Machine identities of this import by external id: the ends of delegation edges.
    ids_by_external: HashMap<String, Uuid>,
    /// Register identities the file lists (a full import marks the others not seen).
    seen: HashSet<Uuid>,
    sources: BTreeSet<Source>,
    teams: HashSet<String>,
    /// Delegation edges: from this identity to the identity with this external id.
    edges: Vec<(Uuid, String)>,
}

impl Plan {
    fn new(now: DateTime<Utc>) -> Self {
        Plan {
            now,
            ..Plan::default()
        }
    }

    fn change(&mut self, action: ImportAction, external_id: &str, name: &str, detail: String) {
        match action {
            ImportAction::Create => self.created += 1,
            ImportAction::Update => self.updated += 1,
            ImportAction::Unchanged => self.unchanged += 1,
            ImportAction::NotSeen => self.not_seen += 1,
            ImportAction::Skip => self.skipped += 1,
        }
        if action != ImportAction::Unchanged && self.preview.len() < PREVIEW_CHANGES {
            self.preview.push(ImportChange {
                action,
                external_id: external_id.to_owned(),
                name: name.to_owned(),
                detail,
            });
        }
    }

    /// Compares one chunk of records with the register: the statements that make the
    /// register match it (teams, then new identities and credentials, then the rest).
    async fn compare(
        &mut self,
        store: &Store,
        records: &[ImportedIdentity],
    ) -> Result<Vec<Statement>, DomainError> {
        let now = self.now;
        // The register's side of this chunk, per source.
        let mut by_source: BTreeMap<Source, Vec<String>> = BTreeMap::new();
        for record in records {
            by_source
                .entry(record.source)
                .or_default()
                .push(record.external_id.clone());
        }
        let mut targets: HashMap<(Source, String), ImportTarget> = HashMap::new();
        for (source, ids) in &by_source {
            self.sources.insert(*source);
            for target in store.import_targets(source.as_str(), ids).await? {
                targets.insert((*source, target.external_id.clone()), target);
            }
        }
        let matched: Vec<Uuid> = targets.values().map(|t| t.id).collect();
        let mut credentials: HashMap<(Uuid, String), ImportCredential> = HashMap::new();
        for credential in store.credentials_of_many(&matched).await? {
            credentials.insert(
                (credential.identity_id, credential.key_id.clone()),
                credential,
            );
        }
        let existing_signals: HashSet<(Uuid, String, String)> =
            store.signals_of_many(&matched).await?.into_iter().collect();

        let mut statements = Vec::new();
        let mut teams: BTreeSet<String> = BTreeSet::new();
        let mut new_identities: Vec<(Uuid, &ImportedIdentity)> = Vec::new();
        let mut new_credentials: Vec<(Uuid, &ImportedCredential)> = Vec::new();
        let mut new_signals: Vec<(Uuid, &'static str, String)> = Vec::new();
        for record in records {
            let target = targets.get(&(record.source, record.external_id.clone()));
            if let Some(target) = target {
                self.seen.insert(target.id);
            }
            if record.signals.contains(&ImportSignal::RootAccount) {
                self.change(
                    ImportAction::Skip,
                    &record.external_id,
                    &record.name,
                    "the account's root user is not a non-human identity".into(),
                );
                continue;
            }
            let id = match target {
                None => {
                    let id = Uuid::now_v7();
                    new_identities.push((id, record));
                    self.change(
                        ImportAction::Create,
                        &record.external_id,
                        &record.name,
                        String::new(),
                    );
                    if let Some(team) = &record.team {
                        teams.insert(team.clone());
                    }
                    for credential in &record.credentials {
                        new_credentials.push((id, credential));
                        self.credentials += 1;
                    }
                    id
                }
                Some(target) if target.status == "retired" => {
                    self.change(
                        ImportAction::Skip,
                        &record.external_id,
                        &record.name,
                        "retired identities are kept as they were".into(),
                    );
                    continue;
                }
                Some(target) => {
                    let changed = changed_fields(target, record);
                    let mut credential_changes = 0;
                    for credential in &record.credentials {
                        let stored = credentials.get(&(target.id, credential.key_id.clone()));
                        if credential_differs(stored, credential) {
                            statements.push(upsert_credential(target.id, credential, now));
                            credential_changes += 1;
                        }
                    }
                    self.credentials += credential_changes;
                    if changed.is_empty() && credential_changes == 0 {
                        self.change(
                            ImportAction::Unchanged,
                            &record.external_id,
                            &record.name,
                            String::new(),
                        );
                    } else {
                        if !changed.is_empty() {
                            statements.push(update_imported_identity(target, record, now));
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
                        self.change(
                            ImportAction::Update,
                            &record.external_id,
                            &record.name,
                            detail,
                        );
                    }
                    target.id
                }
            };
            // Only machine identities can be acted through.
            if record.kind.actor_class() == steward_domain::inventory::ActorClass::Machine {
                self.ids_by_external.insert(record.external_id.clone(), id);
            }
            for signal in &record.signals {
                if let Some((name, detail)) = signal_row(signal) {
                    if !existing_signals.contains(&(id, name.to_owned(), detail.clone())) {
                        new_signals.push((id, name, detail));
                        self.signals += 1;
                    }
                }
            }
            for target in &record.acts_as {
                self.edges.push((id, target.clone()));
            }
        }

        // Teams first (identities refer to them), then the new identities and their
        // credentials, many rows per statement (one round trip per batch, not per row),
        // before everything that refers to them.
        teams.retain(|team| !self.teams.contains(team));
        let mut first: Vec<Statement> = teams
            .iter()
            .map(|team| writes::register_team(team, now))
            .collect();
        self.teams.extend(teams);
        for batch in new_identities.chunks(IDENTITY_BATCH) {
            let rows: Vec<NewIdentity> = batch
                .iter()
                .map(|(id, record)| new_identity(*id, record, now))
                .collect();
            first.push(writes::insert_identities(&rows));
        }
        for batch in new_credentials.chunks(CREDENTIAL_BATCH) {
            first.push(insert_credentials(batch, now));
        }
        statements.splice(0..0, first);
        for batch in new_signals.chunks(SIGNAL_BATCH) {
            statements.push(upsert_signals(batch, now));
        }
        Ok(statements)
    }

    /// After the last chunk: the delegation edges (their ends may be anywhere in the
    /// file or already in the register) and, for a full import, what the register has
    /// for these sources and this environment that the file no longer lists.
    async fn finish(
        &mut self,
        store: &Store,
        request: &ImportRequest,
    ) -> Result<Vec<Statement>, DomainError> {
        let now = self.now;
        let mut statements = Vec::new();
        let unknown: Vec<String> = self
            .edges
            .iter()
            .map(|(_, target)| target)
            .filter(|target| !self.ids_by_external.contains_key(*target))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for (external_id, id) in store.machine_ids_by_external_id(&unknown).await? {
            self.ids_by_external.entry(external_id).or_insert(id);
        }
        let from_ids: Vec<Uuid> = self.edges.iter().map(|(from, _)| *from).collect();
        let existing_edges: HashSet<(Uuid, Uuid)> = store
            .delegations_from_many(&from_ids)
            .await?
            .into_iter()
            .collect();
        for (from, target) in std::mem::take(&mut self.edges) {
            if let Some(to) = self.ids_by_external.get(&target) {
                if from != *to && !existing_edges.contains(&(from, *to)) {
                    statements.push(insert_acts_as_delegation(from, *to, now));
                    self.delegations += 1;
                }
            }
        }

        if request.full {
            for source in std::mem::take(&mut self.sources) {
                for (id, external_id, name) in store
                    .import_scope(source.as_str(), &request.environment)
                    .await?
                {
                    if self.seen.contains(&id) {
                        continue;
                    }
                    statements.push(mark_identity_not_seen(id, now));
                    self.change(
                        ImportAction::NotSeen,
                        external_id.as_deref().unwrap_or_default(),
                        &name,
                        format!(
                            "not in this full import of {source} ({})",
                            request.environment
                        ),
                    );
                }
            }
        }
        Ok(statements)
    }
}

#[async_trait]
impl Imports for ImportService {
    async fn import(
        &self,
        principal: Option<&Principal>,
        request: &ImportRequest,
        file: Vec<u8>,
    ) -> Result<ImportReport, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        self.run_as(&principal.audit_actor(), request, file).await
    }
}

/// Rows per multi-row INSERT: inside both databases' bind limits (22, 9 and 5 binds a row).
const IDENTITY_BATCH: usize = 500;
const CREDENTIAL_BATCH: usize = 1000;
const SIGNAL_BATCH: usize = 1000;

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

fn credential_differs(stored: Option<&ImportCredential>, record: &ImportedCredential) -> bool {
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

/// The identity an import creates from a record.
fn new_identity(id: Uuid, record: &ImportedIdentity, now: DateTime<Utc>) -> NewIdentity {
    NewIdentity {
        id,
        source: record.source,
        external_id: Some(record.external_id.clone()),
        status: if record.enabled {
            IdentityStatus::Active
        } else {
            IdentityStatus::Suspended
        },
        status_reason: (!record.enabled).then(|| "disabled at the source".to_owned()),
        team: record.team.clone(),
        purpose: record.purpose.clone(),
        spiffe_id: record.spiffe_id.clone(),
        expires_at: record.expires_at,
        last_used_at: record.last_used_at,
        updated_at: Some(now),
        ..NewIdentity::new(
            &record.name,
            record.kind,
            &record.environment,
            record.created_at.unwrap_or(now),
        )
    }
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
