//! What the findings engine reads and writes: identities gathered as check subjects
//! (a contiguous range of ids at a time, so every related table is read by one range
//! of its index), stored findings, and the daily posture snapshots.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use steward_domain::authz::DriftKind;
use steward_domain::delegation::DelegationKind;
use steward_domain::federation::TrustKind;
use steward_domain::identity::{CredentialInfo, Entitlement};
use steward_domain::inventory::IdentityStatus;
use steward_domain::posture::catalog::Catalog;
use steward_domain::posture::checks::{
    AgentLimits, Peer, RuntimeDrift, Subject, DRIFT_WINDOW_DAYS,
};
use steward_domain::posture::dashboard::Snapshot;
use steward_domain::posture::findings::{Finding, FindingState, RiskAcceptance, StoredFinding};
use uuid::Uuid;

use super::corrupt;
use super::inventory::detail::{CredentialRow, EntitlementRow};
use super::{db_run, Store, StoreError};

pub mod writes;

pub use writes::{finding_statements, snapshot_statement};

/// A check subject with what the dashboard groups it by.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub subject: Subject,
    pub team: Option<String>,
    pub owner_email: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SubjectRow {
    id: Uuid,
    kind: String,
    environment: String,
    status: String,
    owner_id: Option<Uuid>,
    owner_active: Option<bool>,
    owner_email: Option<String>,
    sponsor_active: Option<bool>,
    purpose: Option<String>,
    spiffe_id: Option<String>,
    revocation_path: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    team: Option<String>,
    source: String,
}

/// A stored row with the id of the identity it belongs to.
#[derive(sqlx::FromRow)]
struct Owned<Stored> {
    identity_id: Uuid,
    #[sqlx(flatten)]
    row: Stored,
}

#[derive(sqlx::FromRow)]
struct PeerRow {
    /// The identity of the batch the edge belongs to.
    subject_id: Uuid,
    peer_id: Uuid,
    delegation: String,
    kind: String,
    environment: String,
    status: String,
    owned: bool,
}

#[derive(sqlx::FromRow)]
struct FindingRow {
    identity_id: Uuid,
    check_id: String,
    severity: String,
    state: String,
    detail: String,
    opened_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    accepted_reason: Option<String>,
    accepted_by: Option<String>,
    accepted_at: Option<DateTime<Utc>>,
    accepted_until: Option<DateTime<Utc>>,
}

const FINDING_COLUMNS: &str = "identity_id, check_id, severity, state, detail, opened_at, \
     resolved_at, accepted_reason, accepted_by, accepted_at, accepted_until";

/// Which identities a read covers: an id range (a batch of the full evaluation) or a
/// list of ids (the identities a change touched).
#[derive(Debug, Clone)]
pub enum Scope<'a> {
    Range(Uuid, Uuid),
    Ids(&'a [Uuid]),
}

/// ` AND <column> BETWEEN … AND …` or ` AND <column> IN (…)`.
pub(crate) fn push_scope<'args, DB>(
    sql: &mut QueryBuilder<'args, DB>,
    column: &str,
    scope: &Scope<'_>,
) where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
{
    match scope {
        Scope::Range(first, last) => {
            sql.push(format_args!(" AND {column} BETWEEN "))
                .push_bind(*first)
                .push(" AND ")
                .push_bind(*last);
        }
        Scope::Ids(ids) => {
            sql.push(format_args!(" AND {column} IN ("));
            let mut list = sql.separated(", ");
            for id in ids.iter() {
                list.push_bind(*id);
            }
            sql.push(")");
        }
    }
}

/// The trust configurations under which an identity could prove itself with a
/// federated token: those with a rule for it, and those for its platform.
fn federated_by(
    mut names: Vec<String>,
    kinds: &[(String, TrustKind)],
    source: &str,
    has_spiffe_id: bool,
) -> Vec<String> {
    for (name, kind) in kinds {
        if kind.serves(source, has_spiffe_id) && !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

impl Store {
    /// The ids of up to `limit` identities after `after`, in id order: the batches of a
    /// full evaluation.
    pub async fn identity_ids_after(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Uuid>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new("SELECT id FROM identities WHERE 1 = 1");
            if let Some(after) = after {
                sql.push(" AND id > ").push_bind(after);
            }
            sql.push(" ORDER BY id LIMIT ").push_bind(limit);
            sql.build_query_scalar().fetch_all(pool).await?
        }))
    }

    /// The identities of `scope` as check subjects, in id order.
    pub async fn check_subjects(&self, scope: &Scope<'_>) -> Result<Vec<Evaluated>, StoreError> {
        let drift_since = Utc::now() - chrono::Duration::days(DRIFT_WINDOW_DAYS);
        let now = Utc::now();
        let (
            rows,
            credentials,
            entitlements,
            signals,
            peers,
            peer_permissions,
            limits,
            drift,
            federation,
        ) = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT i.id, i.kind, i.environment, i.status, i.owner_id, \
                     o.active AS owner_active, o.email AS owner_email, s.active AS sponsor_active, \
                     i.purpose, i.spiffe_id, i.revocation_path, i.created_at, i.expires_at, \
                     i.last_used_at, i.team, i.source \
                     FROM identities i LEFT JOIN people o ON o.id = i.owner_id \
                     LEFT JOIN people s ON s.id = i.sponsor_id WHERE 1 = 1",
            );
            push_scope(&mut sql, "i.id", scope);
            sql.push(" ORDER BY i.id");
            let rows: Vec<SubjectRow> = sql.build_query_as().fetch_all(pool).await?;

            let mut sql = QueryBuilder::<Db>::new(
                "SELECT identity_id, id, kind, key_id, created_at, last_rotated_at, expires_at, \
                     last_used_at, rotation_days, revoked_at FROM credentials WHERE 1 = 1",
            );
            push_scope(&mut sql, "identity_id", scope);
            let credentials: Vec<Owned<CredentialRow>> =
                sql.build_query_as().fetch_all(pool).await?;

            let mut sql = QueryBuilder::<Db>::new(
                "SELECT identity_id, id, resource, action, privilege, grant_type, created_at, \
                     removed_at FROM entitlements WHERE removed_at IS NULL",
            );
            push_scope(&mut sql, "identity_id", scope);
            let entitlements: Vec<Owned<EntitlementRow>> =
                sql.build_query_as().fetch_all(pool).await?;

            let mut sql = QueryBuilder::<Db>::new(
                "SELECT identity_id, signal, detail FROM identity_signals WHERE 1 = 1",
            );
            push_scope(&mut sql, "identity_id", scope);
            let signals: Vec<(Uuid, String, String)> = sql.build_query_as().fetch_all(pool).await?;

            // Both directions of every edge touching the scope, with the far end.
            let peer_columns = "t.kind, t.environment, t.status, \
                     (t.owner_id IS NOT NULL AND COALESCE(o.active, FALSE)) AS owned";
            let mut sql = QueryBuilder::<Db>::new(format!(
                    "SELECT d.from_id AS subject_id, d.to_id AS peer_id, 'to:' || d.kind AS delegation, \
                     {peer_columns} FROM delegations d JOIN identities t ON t.id = d.to_id \
                     LEFT JOIN people o ON o.id = t.owner_id WHERE 1 = 1"
                ));
            push_scope(&mut sql, "d.from_id", scope);
            sql.push(format_args!(
                " UNION ALL SELECT d.to_id AS subject_id, d.from_id AS peer_id, \
                     'from:' || d.kind AS delegation, {peer_columns} FROM delegations d \
                     JOIN identities t ON t.id = d.from_id LEFT JOIN people o ON o.id = t.owner_id \
                     WHERE 1 = 1"
            ));
            push_scope(&mut sql, "d.to_id", scope);
            let peers: Vec<PeerRow> = sql.build_query_as().fetch_all(pool).await?;

            // What the identities the scope delegates to may do.
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT e.identity_id, e.resource, e.action FROM entitlements e \
                     WHERE e.removed_at IS NULL AND e.identity_id IN \
                     (SELECT d.to_id FROM delegations d WHERE 1 = 1",
            );
            push_scope(&mut sql, "d.from_id", scope);
            sql.push(")");
            let peer_permissions: Vec<(Uuid, String, String)> =
                sql.build_query_as().fetch_all(pool).await?;

            let mut sql = QueryBuilder::<Db>::new(format!(
                "SELECT identity_id, {} FROM agent_limits WHERE 1 = 1",
                super::authz::LIMITS_COLUMNS
            ));
            push_scope(&mut sql, "identity_id", scope);
            let limits: Vec<Owned<super::authz::LimitsRow>> =
                sql.build_query_as().fetch_all(pool).await?;

            // Drift the runtime decisions showed (a partial index covers this).
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT drift_identity, drift, resource, COUNT(*) FROM authz_decisions \
                     WHERE drift IS NOT NULL AND at >= ",
            );
            sql.push_bind(drift_since);
            push_scope(&mut sql, "drift_identity", scope);
            sql.push(" GROUP BY drift_identity, drift, resource");
            let drift: Vec<(Uuid, String, String, i64)> =
                sql.build_query_as().fetch_all(pool).await?;

            // Trust configurations covering the scope, and live API tokens made to
            // act for it (static secrets where federation is possible).
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT r.identity_id, t.name FROM trust_rule_identities r \
                     JOIN trust_configs t ON t.id = r.trust_config_id WHERE 1 = 1",
            );
            push_scope(&mut sql, "r.identity_id", scope);
            let trust: Vec<(Uuid, String)> = sql.build_query_as().fetch_all(pool).await?;
            // Every configuration: one may exist for an identity's platform.
            let kinds: Vec<(String, String)> =
                sqlx::query_as("SELECT name, kind FROM trust_configs ORDER BY name")
                    .fetch_all(pool)
                    .await?;
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT agent_id, COUNT(*) FROM api_tokens WHERE agent_id IS NOT NULL \
                     AND revoked_at IS NULL AND expires_at > ",
            );
            sql.push_bind(now);
            push_scope(&mut sql, "agent_id", scope);
            sql.push(" GROUP BY agent_id");
            let tokens: Vec<(Uuid, i64)> = sql.build_query_as().fetch_all(pool).await?;
            (
                rows,
                credentials,
                entitlements,
                signals,
                peers,
                peer_permissions,
                limits,
                drift,
                (trust, kinds, tokens),
            )
        });
        let (trust, kinds, tokens) = federation;
        let kinds: Vec<(String, TrustKind)> = kinds
            .into_iter()
            .map(|(name, kind)| Ok((name, kind.parse().map_err(corrupt("trust kind"))?)))
            .collect::<Result<_, StoreError>>()?;
        let mut federated_of: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
        for (id, name) in trust {
            federated_of.entry(id).or_default().push(name);
        }
        let mut tokens_of: BTreeMap<Uuid, u32> = tokens
            .into_iter()
            .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect();
        let mut limits_of: BTreeMap<Uuid, AgentLimits> = BTreeMap::new();
        for owned in limits {
            let limits = steward_domain::authz::AgentLimits::try_from(owned.row)?;
            limits_of.insert(owned.identity_id, AgentLimits::from(&limits));
        }
        let mut drift_of: BTreeMap<Uuid, Vec<RuntimeDrift>> = BTreeMap::new();
        for (id, kind, resource, count) in drift {
            let kind: DriftKind = kind.parse().map_err(corrupt("decision drift"))?;
            let all = drift_of.entry(id).or_default();
            let entry = match all.iter_mut().find(|d| d.kind == kind) {
                Some(entry) => entry,
                None => {
                    all.push(RuntimeDrift {
                        kind,
                        count: 0,
                        resources: Vec::new(),
                    });
                    all.last_mut().ok_or(StoreError::Corrupt("drift".into()))?
                }
            };
            entry.count += u64::try_from(count).unwrap_or(0);
            if entry.resources.len() < 3 {
                entry.resources.push(resource);
            }
        }

        let mut credentials_of: BTreeMap<Uuid, Vec<CredentialInfo>> = BTreeMap::new();
        for owned in credentials {
            credentials_of
                .entry(owned.identity_id)
                .or_default()
                .push(CredentialInfo::try_from(owned.row)?);
        }
        let mut entitlements_of: BTreeMap<Uuid, Vec<Entitlement>> = BTreeMap::new();
        for owned in entitlements {
            entitlements_of
                .entry(owned.identity_id)
                .or_default()
                .push(Entitlement::try_from(owned.row)?);
        }
        let mut signals_of: BTreeMap<Uuid, Vec<(String, String)>> = BTreeMap::new();
        for (id, signal, detail) in signals {
            signals_of.entry(id).or_default().push((signal, detail));
        }
        let mut permissions_of: BTreeMap<Uuid, BTreeSet<String>> = BTreeMap::new();
        for (id, resource, action) in peer_permissions {
            permissions_of
                .entry(id)
                .or_default()
                .insert(format!("{resource}:{action}"));
        }
        let mut to_of: BTreeMap<Uuid, Vec<Peer>> = BTreeMap::new();
        let mut from_of: BTreeMap<Uuid, Vec<Peer>> = BTreeMap::new();
        for r in peers {
            let c = corrupt("delegation");
            let (direction, kind) = r
                .delegation
                .split_once(':')
                .ok_or_else(|| StoreError::Corrupt("delegation direction".into()))?;
            let delegation: DelegationKind = kind.parse().map_err(&c)?;
            let peer = Peer {
                id: r.peer_id,
                kind: r.kind.parse().map_err(&c)?,
                environment: r.environment,
                status: r.status.parse().map_err(&c)?,
                owned: r.owned,
                delegation,
                permissions: if direction == "to" {
                    permissions_of.get(&r.peer_id).cloned().unwrap_or_default()
                } else {
                    BTreeSet::new()
                },
            };
            if direction == "to" {
                to_of.entry(r.subject_id).or_default().push(peer);
            } else {
                from_of.entry(r.subject_id).or_default().push(peer);
            }
        }
        rows.into_iter()
            .map(|r| {
                let c = corrupt("identity");
                let status: IdentityStatus = r.status.parse().map_err(&c)?;
                let has_spiffe_id = r.spiffe_id.is_some();
                Ok(Evaluated {
                    subject: Subject {
                        id: r.id,
                        kind: r.kind.parse().map_err(&c)?,
                        environment: r.environment,
                        status,
                        owner_active: r.owner_id.map(|_| r.owner_active.unwrap_or(false)),
                        has_sponsor: r.sponsor_active.unwrap_or(false),
                        purpose: r.purpose,
                        spiffe_id: r.spiffe_id,
                        revocation_path: r.revocation_path,
                        created_at: r.created_at,
                        expires_at: r.expires_at,
                        last_used_at: r.last_used_at,
                        credentials: credentials_of.remove(&r.id).unwrap_or_default(),
                        entitlements: entitlements_of.remove(&r.id).unwrap_or_default(),
                        signals: signals_of.remove(&r.id).unwrap_or_default(),
                        delegates_to: to_of.remove(&r.id).unwrap_or_default(),
                        delegated_from: from_of.remove(&r.id).unwrap_or_default(),
                        agent_limits: limits_of.remove(&r.id).unwrap_or_default(),
                        runtime_drift: drift_of.remove(&r.id).unwrap_or_default(),
                        federated_by: federated_by(
                            federated_of.remove(&r.id).unwrap_or_default(),
                            &kinds,
                            &r.source,
                            has_spiffe_id,
                        ),
                        agent_tokens: tokens_of.remove(&r.id).unwrap_or_default(),
                    },
                    team: r.team,
                    owner_email: r.owner_email,
                })
            })
            .collect()
    }

    /// The identities on the other end of delegation edges of `ids`.
    pub async fn delegation_neighbours(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, StoreError> {
        let mut found = Vec::new();
        // Bounded lists: a bulk change can touch ten thousand identities.
        for chunk in ids.chunks(1000) {
            let part: Vec<Uuid> = db_run!(self, reader, |pool| {
                let mut sql =
                    QueryBuilder::<Db>::new("SELECT d.to_id FROM delegations d WHERE 1 = 1");
                push_scope(&mut sql, "d.from_id", &Scope::Ids(chunk));
                sql.push(" UNION SELECT d.from_id FROM delegations d WHERE 1 = 1");
                push_scope(&mut sql, "d.to_id", &Scope::Ids(chunk));
                sql.build_query_scalar().fetch_all(pool).await?
            });
            found.extend(part);
        }
        Ok(found)
    }

    /// The stored findings of `scope`, by identity.
    pub async fn stored_findings(
        &self,
        scope: &Scope<'_>,
    ) -> Result<BTreeMap<Uuid, Vec<StoredFinding>>, StoreError> {
        /// identity, check, state, detail, accepted until
        type Row = (Uuid, String, String, String, Option<DateTime<Utc>>);
        let rows: Vec<Row> = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT identity_id, check_id, state, detail, accepted_until FROM findings \
                     WHERE 1 = 1",
            );
            push_scope(&mut sql, "identity_id", scope);
            sql.build_query_as().fetch_all(pool).await?
        });
        let mut out: BTreeMap<Uuid, Vec<StoredFinding>> = BTreeMap::new();
        for (id, check, state, detail, accepted_until) in rows {
            out.entry(id).or_default().push(StoredFinding {
                check,
                state: state.parse().map_err(corrupt("finding"))?,
                detail,
                accepted_until,
            });
        }
        Ok(out)
    }

    /// Every finding of one identity (resolved ones too), open first, then by severity.
    pub async fn findings_of(
        &self,
        identity_id: Uuid,
        catalog: &Catalog,
    ) -> Result<Vec<Finding>, StoreError> {
        let rows: Vec<FindingRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "SELECT {FINDING_COLUMNS} FROM findings WHERE identity_id = $1"
            ))
            .bind(identity_id)
            .fetch_all(pool)
            .await?
        });
        let mut findings = rows
            .into_iter()
            .map(|r| finding_from_row(r, catalog))
            .collect::<Result<Vec<_>, _>>()?;
        findings.sort_by(|a, b| {
            let rank = |s: FindingState| match s {
                FindingState::Open => 0,
                FindingState::Accepted => 1,
                FindingState::Resolved => 2,
            };
            rank(a.state)
                .cmp(&rank(b.state))
                .then(b.severity.cmp(&a.severity))
                .then(a.check.cmp(&b.check))
        });
        Ok(findings)
    }

    /// One finding of one identity.
    pub async fn find_finding(
        &self,
        identity_id: Uuid,
        check: &str,
        catalog: &Catalog,
    ) -> Result<Option<Finding>, StoreError> {
        let row: Option<FindingRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "SELECT {FINDING_COLUMNS} FROM findings WHERE identity_id = $1 AND check_id = $2"
            ))
            .bind(identity_id)
            .bind(check)
            .fetch_optional(pool)
            .await?
        });
        row.map(|r| finding_from_row(r, catalog)).transpose()
    }

    /// The day's snapshots from `since` on, oldest first.
    pub async fn snapshots_since(&self, since: NaiveDate) -> Result<Vec<Snapshot>, StoreError> {
        let rows: Vec<String> = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT data FROM posture_snapshots WHERE day >= $1 ORDER BY day")
                .bind(since)
                .fetch_all(pool)
                .await?
        });
        rows.iter().map(|data| parse_snapshot(data)).collect()
    }

    /// The snapshot of one day, if an evaluation ran that day.
    pub async fn snapshot_of(&self, day: NaiveDate) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<String> = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT data FROM posture_snapshots WHERE day = $1")
                .bind(day)
                .fetch_optional(pool)
                .await?
        });
        row.as_deref().map(parse_snapshot).transpose()
    }

    /// Deletes every finding and snapshot — for the benchmark's evaluation from
    /// scratch only (findings are otherwise never deleted; they are resolved).
    pub async fn forget_findings(&self) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            sqlx::query("DELETE FROM findings").execute(pool).await?;
            sqlx::query("DELETE FROM posture_snapshots")
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The latest snapshot.
    pub async fn latest_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<String> = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT data FROM posture_snapshots ORDER BY day DESC LIMIT 1")
                .fetch_optional(pool)
                .await?
        });
        row.as_deref().map(parse_snapshot).transpose()
    }
}

fn parse_snapshot(data: &str) -> Result<Snapshot, StoreError> {
    serde_json::from_str(data).map_err(|e| StoreError::Corrupt(format!("posture snapshot: {e}")))
}

fn finding_from_row(r: FindingRow, catalog: &Catalog) -> Result<Finding, StoreError> {
    let c = corrupt("finding");
    let check = catalog.check(&r.check_id);
    let acceptance = match (
        r.accepted_reason,
        r.accepted_by,
        r.accepted_at,
        r.accepted_until,
    ) {
        (Some(justification), Some(approver), Some(accepted_at), Some(expires_at)) => {
            Some(RiskAcceptance {
                justification,
                approver,
                accepted_at,
                expires_at,
            })
        }
        _ => None,
    };
    Ok(Finding {
        identity_id: r.identity_id,
        title: check.map_or_else(|| r.check_id.clone(), |c| c.title.clone()),
        controls: check.map(|c| c.controls.clone()).unwrap_or_default(),
        check: r.check_id,
        severity: r.severity.parse().map_err(&c)?,
        detail: r.detail,
        state: r.state.parse().map_err(&c)?,
        opened_at: r.opened_at,
        resolved_at: r.resolved_at,
        acceptance,
    })
}
