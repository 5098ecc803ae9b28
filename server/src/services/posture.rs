//! The findings engine and the posture port. Checks run over the register in batches of
//! contiguous ids; each batch's findings are brought up to date in one transaction. A
//! full evaluation also tallies the dashboard's numbers and stores them as the day's
//! snapshot. A change to an identity re-evaluates it and its delegation neighbours at
//! once (their checks look at it), so its page and the inventory's finding filters are
//! current without waiting for the schedule.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::ports::Posture;
use steward_domain::posture::catalog::Catalog;
use steward_domain::posture::checks::{evaluate, CheckSettings};
use steward_domain::posture::dashboard::{
    control_statuses, snapshot_day, trend, Dashboard, PostureReport, Tally, TREND_DAYS,
};
use steward_domain::posture::findings::{
    reconcile, AcceptRiskRequest, EvaluationReport, Finding, FindingChange, FindingState,
    ReopenRequest, StoredFinding,
};
use steward_domain::DomainError;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::inventory::identity_target;
use crate::services::write_error;
use crate::store::posture::writes::{self, finding_statements, snapshot_statement};
use crate::store::posture::{Evaluated, Scope};
use crate::store::Store;

/// Identities per batch of a full evaluation.
pub const EVALUATION_BATCH: i64 = 2000;
/// Batches a full evaluation reads at the same time.
const PARALLEL_READS: usize = 2;
/// A batch as the reader hands it on: its id range, how many identities, what was read.
type Loaded = Result<(Uuid, Uuid, u64, Batch), DomainError>;
/// Who the engine's own changes are recorded as.
pub const POSTURE_ACTOR: &str = "system:posture";

#[derive(Clone)]
pub struct PostureService {
    store: Store,
    settings: CheckSettings,
    catalog: &'static Catalog,
    /// One evaluation step at a time in this process, so a full evaluation's batch
    /// and an identity's re-evaluation never write from stale reads over each other.
    running: Arc<Mutex<()>>,
    /// A background full evaluation is queued or running (later requests join it).
    queued: Arc<AtomicBool>,
    /// Bumped whenever an identity's findings are written outside a full evaluation.
    generation: Arc<AtomicU64>,
}

/// What the checks need of some identities, as read at one `generation`.
struct Batch {
    subjects: Vec<Evaluated>,
    stored: BTreeMap<Uuid, Vec<StoredFinding>>,
    generation: u64,
    read: Duration,
}

/// Counts of what an evaluation changed.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    opened: u64,
    resolved: u64,
    lapsed: u64,
    open: u64,
    accepted: u64,
}

impl PostureService {
    pub fn new(store: Store, settings: CheckSettings) -> Self {
        PostureService {
            store,
            settings,
            catalog: Catalog::shipped(),
            running: Arc::new(Mutex::new(())),
            queued: Arc::new(AtomicBool::new(false)),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Runs the checks over `subjects` and says what to change, counting as it goes;
    /// `tally` (full evaluations) also sums up the dashboard's numbers.
    fn plan(
        &self,
        batch: Batch,
        now: DateTime<Utc>,
        mut tally: Option<&mut Tally>,
        counts: &mut Counts,
    ) -> Vec<(Uuid, FindingChange)> {
        let Batch {
            subjects,
            mut stored,
            ..
        } = batch;
        let mut changes = Vec::new();
        for evaluated in &subjects {
            let subject = &evaluated.subject;
            let detections = evaluate(subject, &self.settings, now);
            let existing = stored.remove(&subject.id).unwrap_or_default();
            let reconciled = reconcile(&existing, &detections, self.catalog, now);
            counts.open += reconciled.open.len() as u64;
            counts.accepted += reconciled.accepted.len() as u64;
            for change in &reconciled.changes {
                match change {
                    FindingChange::Open { .. } => counts.opened += 1,
                    FindingChange::Resolve { .. } => counts.resolved += 1,
                    FindingChange::AcceptanceLapsed { .. } => counts.lapsed += 1,
                    FindingChange::Detail { .. } => {}
                }
            }
            if let Some(tally) = tally.as_deref_mut() {
                tally.add(
                    subject,
                    evaluated.team.as_deref(),
                    evaluated.owner_email.as_deref(),
                    &reconciled,
                    now,
                );
            }
            changes.extend(reconciled.changes.into_iter().map(|c| (subject.id, c)));
        }
        changes
    }

    /// Reads what the checks need of `scope` and its stored findings.
    async fn load(&self, scope: &Scope<'_>) -> Result<Batch, DomainError> {
        let generation = self.generation.load(Ordering::SeqCst);
        let started = Instant::now();
        Ok(Batch {
            subjects: self.store.check_subjects(scope).await?,
            stored: self.store.stored_findings(scope).await?,
            generation,
            read: started.elapsed(),
        })
    }

    /// Re-evaluates `ids` and the identities delegating to or from them, now. Errors
    /// are logged, not returned: the change that asked for this has already been made,
    /// and the next scheduled evaluation catches up.
    pub async fn after_change(&self, ids: &[Uuid]) {
        if let Err(error) = self.evaluate_identities(ids).await {
            tracing::error!(%error, "re-evaluating findings after a change failed");
        }
    }

    /// Starts a full evaluation in the background, unless one is already waiting to
    /// start (changes made before it starts are included in it).
    pub fn evaluate_soon(&self) {
        if self.queued.swap(true, Ordering::SeqCst) {
            return;
        }
        let engine = self.clone();
        tokio::spawn(async move {
            // Cleared first: a change committed while this runs asks for another run.
            engine.queued.store(false, Ordering::SeqCst);
            if let Err(error) = engine.evaluate_all(POSTURE_ACTOR).await {
                tracing::error!(%error, "background posture evaluation failed");
            }
        });
    }

    /// Re-evaluates `ids` and their delegation neighbours; one audit event per
    /// identity whose findings changed.
    pub async fn evaluate_identities(&self, ids: &[Uuid]) -> Result<(), DomainError> {
        if ids.is_empty() {
            return Ok(());
        }
        let _running = self.running.lock().await;
        let mut all: Vec<Uuid> = ids.to_vec();
        all.extend(self.store.delegation_neighbours(ids).await?);
        all.sort();
        all.dedup();
        let now = Utc::now();
        for chunk in all.chunks(500) {
            let batch = self.load(&Scope::Ids(chunk)).await?;
            let mut counts = Counts::default();
            let changes = self.plan(batch, now, None, &mut counts);
            if changes.is_empty() {
                continue;
            }
            let mut by_identity: BTreeMap<Uuid, Vec<&FindingChange>> = BTreeMap::new();
            for (id, change) in &changes {
                by_identity.entry(*id).or_default().push(change);
            }
            let events: Vec<NewAuditEvent> = by_identity
                .into_iter()
                .map(|(id, mine)| {
                    let pick = |f: fn(&FindingChange) -> Option<&String>| -> Vec<&String> {
                        mine.iter().filter_map(|c| f(c)).collect()
                    };
                    NewAuditEvent::new(
                        POSTURE_ACTOR,
                        AuditAction::FindingsUpdate,
                        identity_target(id),
                        json!({
                            "opened": pick(|c| match c { FindingChange::Open { check, .. } => Some(check), _ => None }),
                            "resolved": pick(|c| match c { FindingChange::Resolve { check } => Some(check), _ => None }),
                            "acceptance_lapsed": pick(|c| match c { FindingChange::AcceptanceLapsed { check, .. } => Some(check), _ => None }),
                        }),
                    )
                })
                .collect();
            let statements = finding_statements(self.store.dialect(), &changes, now);
            self.store
                .write(&statements, |_| events)
                .await
                .map_err(|e| write_error(e, ""))?;
            // A full evaluation's batch read before this must be read again.
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Evaluates every identity, stores the day's snapshot and records one audit event
    /// (as `actor`). Each batch is its own transaction: an evaluation stopped half-way
    /// leaves every finding it touched consistent, and the next one continues.
    pub async fn evaluate_all(&self, actor: &str) -> Result<EvaluationReport, DomainError> {
        let started_at = Utc::now();
        let mut tally = Tally::default();
        let mut counts = Counts::default();
        let mut identities = 0u64;
        let (mut read, mut check, mut write) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        // The next batch is read while this one is checked and written (the two cores
        // each do one); a batch is read again if an identity changed in between.
        let (batches, mut incoming) = tokio::sync::mpsc::channel::<Loaded>(1);
        let loader = {
            let engine = self.clone();
            tokio::spawn(async move {
                // Two batches are read at once (on two reader connections), and handed
                // on in order.
                let mut reading: VecDeque<tokio::task::JoinHandle<Loaded>> = VecDeque::new();
                let mut after = None;
                let mut exhausted = false;
                loop {
                    while !exhausted && reading.len() < PARALLEL_READS {
                        let ids = match engine
                            .store
                            .identity_ids_after(after, EVALUATION_BATCH)
                            .await
                        {
                            Ok(ids) => ids,
                            Err(e) => {
                                let _ = batches.send(Err(DomainError::from(e))).await;
                                return;
                            }
                        };
                        let (Some(first), Some(last)) = (ids.first().copied(), ids.last().copied())
                        else {
                            exhausted = true;
                            break;
                        };
                        after = Some(last);
                        let count = ids.len() as u64;
                        let reader = engine.clone();
                        reading.push_back(tokio::spawn(async move {
                            reader
                                .load(&Scope::Range(first, last))
                                .await
                                .map(|b| (first, last, count, b))
                        }));
                    }
                    let Some(next) = reading.pop_front() else {
                        return;
                    };
                    let loaded = next.await.unwrap_or(Err(DomainError::Internal));
                    if batches.send(loaded).await.is_err() {
                        return;
                    }
                }
            })
        };
        while let Some(loaded) = incoming.recv().await {
            let (first, last, count, mut batch) = loaded?;
            identities += count;
            let _running = self.running.lock().await;
            if batch.generation != self.generation.load(Ordering::SeqCst) {
                batch = self.load(&Scope::Range(first, last)).await?;
            }
            read += batch.read;
            let started = Instant::now();
            let changes = self.plan(batch, started_at, Some(&mut tally), &mut counts);
            check += started.elapsed();
            if !changes.is_empty() {
                let started = Instant::now();
                let statements = finding_statements(self.store.dialect(), &changes, started_at);
                self.store
                    .write(&statements, |_| Vec::new())
                    .await
                    .map_err(|e| write_error(e, ""))?;
                write += started.elapsed();
            }
        }
        loader.await.map_err(|_| DomainError::Internal)?;
        tracing::info!(
            read_s = read.as_secs_f64(),
            check_s = check.as_secs_f64(),
            write_s = write.as_secs_f64(),
            "posture evaluation phases (reading overlaps checking and writing)"
        );
        let finished_at = Utc::now();
        let snapshot = tally.finish(self.catalog, started_at);
        let report = EvaluationReport {
            identities,
            opened: counts.opened,
            resolved: counts.resolved,
            lapsed: counts.lapsed,
            open: counts.open,
            accepted: counts.accepted,
            started_at,
            finished_at,
        };
        let event = NewAuditEvent::new(
            actor,
            AuditAction::PostureEvaluate,
            "posture",
            json!({
                "identities": report.identities, "opened": report.opened,
                "resolved": report.resolved, "acceptance_lapsed": report.lapsed,
                "open": report.open, "accepted": report.accepted,
                "seconds": (finished_at - started_at).num_milliseconds() as f64 / 1000.0,
            }),
        );
        self.store
            .write(&[snapshot_statement(&snapshot)?], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        tracing::info!(
            identities = report.identities,
            open = report.open,
            opened = report.opened,
            resolved = report.resolved,
            "posture evaluated"
        );
        Ok(report)
    }

    async fn finding(&self, identity_id: Uuid, check: &str) -> Result<Finding, DomainError> {
        if self.catalog.check(check).is_none() {
            return Err(DomainError::not_found(format!("check {check}")));
        }
        self.store
            .find_finding(identity_id, check, self.catalog)
            .await?
            .ok_or_else(|| {
                DomainError::not_found(format!("finding {check} of identity {identity_id}"))
            })
    }
}

#[async_trait]
impl Posture for PostureService {
    async fn findings_of(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<Vec<Finding>, DomainError> {
        authorize(principal, Action::ReadPosture)?;
        if self.store.find_identity(identity_id).await?.is_none() {
            return Err(DomainError::not_found(format!("identity {identity_id}")));
        }
        Ok(self.store.findings_of(identity_id, self.catalog).await?)
    }

    async fn accept_risk(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        check: &str,
        request: &AcceptRiskRequest,
    ) -> Result<Finding, DomainError> {
        authorize(principal, Action::ManagePosture)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let now = Utc::now();
        let justification = request.validated(now)?;
        let finding = self.finding(identity_id, check).await?;
        if finding.state != FindingState::Open {
            return Err(DomainError::Conflict {
                message: format!(
                    "only an open finding can be accepted; this one is {}",
                    finding.state
                ),
            });
        }
        let approver = principal.audit_actor();
        let statement = writes::accept_finding_risk(
            identity_id,
            check,
            &justification,
            &approver,
            now,
            request.expires_at,
        );
        let event = NewAuditEvent::new(
            approver,
            AuditAction::FindingAcceptRisk,
            identity_target(identity_id),
            json!({ "check": check, "justification": justification,
                    "expires_at": request.expires_at, "detail": finding.detail }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.finding(identity_id, check).await
    }

    async fn reopen(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        check: &str,
        request: &ReopenRequest,
    ) -> Result<Finding, DomainError> {
        authorize(principal, Action::ManagePosture)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = request.validated()?;
        let finding = self.finding(identity_id, check).await?;
        if finding.state != FindingState::Accepted {
            return Err(DomainError::Conflict {
                message: format!(
                    "only an accepted finding can be reopened; this one is {}",
                    finding.state
                ),
            });
        }
        let now = Utc::now();
        let statement = writes::reopen_finding(identity_id, check, now);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::FindingReopen,
            identity_target(identity_id),
            json!({ "check": check, "reason": reason }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.finding(identity_id, check).await
    }

    async fn evaluate(
        &self,
        principal: Option<&Principal>,
    ) -> Result<EvaluationReport, DomainError> {
        authorize(principal, Action::ManagePosture)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        self.evaluate_all(&principal.audit_actor()).await
    }

    async fn dashboard(&self, principal: Option<&Principal>) -> Result<Dashboard, DomainError> {
        authorize(principal, Action::ReadPosture)?;
        let now = Utc::now();
        let since = snapshot_day(now) - chrono::Duration::days(i64::from(TREND_DAYS) - 1);
        let snapshots = self.store.snapshots_since(since).await?;
        let latest = snapshots.last().cloned();
        let snapshot = match latest {
            Some(s) => Some(s),
            None => self.store.latest_snapshot().await?,
        };
        Ok(Dashboard {
            controls: control_statuses(self.catalog, snapshot.as_ref()),
            trend: trend(&snapshots, now, TREND_DAYS),
            snapshot,
        })
    }

    async fn report(
        &self,
        principal: Option<&Principal>,
        day: NaiveDate,
    ) -> Result<PostureReport, DomainError> {
        authorize(principal, Action::ReadPosture)?;
        let snapshot = self.store.snapshot_of(day).await?.ok_or_else(|| {
            DomainError::not_found(format!(
                "posture snapshot of {day} (no evaluation ran that day)"
            ))
        })?;
        Ok(PostureReport {
            day,
            controls: control_statuses(self.catalog, Some(&snapshot)),
            snapshot,
        })
    }
}
