//! Runtime authorization in the store: agent limits, admin Cedar policies, session
//! counters, the decision log, and the change feed that keeps every replica's decision
//! cache current (rows written by triggers, so no path that changes an identity, an
//! entitlement, a grant or a delegation can forget to tell it).

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use steward_domain::authz::{AgentLimits, AuthzPolicy, AuthzPolicyDraft, DecisionRecord, Drift};
use steward_domain::federation::EnforcementMode;
use steward_domain::inventory::IdentityKind;
use uuid::Uuid;

use super::{db_run, Store, StoreError};

pub mod sensitivity;
pub mod writes;

/// A list as the JSON text stored in a column.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// The limits columns of `agent_limits`.
#[derive(sqlx::FromRow)]
pub(super) struct LimitsRow {
    tools: String,
    environments: String,
    max_session_minutes: Option<i64>,
    max_calls: Option<i64>,
    max_delegation_depth: Option<i64>,
    /// The policy set's mode (monitor or enforce), kept beside the limits.
    mode: String,
}

/// The columns of [`LimitsRow`], for queries that select them.
pub(super) const LIMITS_COLUMNS: &str =
    "tools, environments, max_session_minutes, max_calls, max_delegation_depth, mode";

impl LimitsRow {
    fn mode(&self) -> Result<EnforcementMode, StoreError> {
        self.mode
            .parse()
            .map_err(|e| corrupt("agent policy mode", e))
    }
}

impl TryFrom<LimitsRow> for AgentLimits {
    type Error = StoreError;

    fn try_from(r: LimitsRow) -> Result<Self, StoreError> {
        let number = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        Ok(AgentLimits {
            tools: serde_json::from_str(&r.tools).map_err(|e| corrupt("agent tools", e))?,
            environments: serde_json::from_str(&r.environments)
                .map_err(|e| corrupt("agent environments", e))?,
            max_session_minutes: number(r.max_session_minutes),
            max_calls: number(r.max_calls),
            max_delegation_depth: number(r.max_delegation_depth),
        })
    }
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: Uuid,
    name: String,
    description: String,
    body: String,
    enabled: bool,
    principal_id: Option<Uuid>,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

impl From<PolicyRow> for AuthzPolicy {
    fn from(r: PolicyRow) -> Self {
        AuthzPolicy {
            id: r.id,
            draft: AuthzPolicyDraft {
                name: r.name,
                description: r.description,
                body: r.body,
                enabled: r.enabled,
            },
            principal_id: r.principal_id,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: Uuid,
    at: DateTime<Utc>,
    identity_id: Uuid,
    action: String,
    resource: String,
    decision: String,
    reasons: String,
    diagnostics: String,
    session_id: Option<String>,
    task: String,
    environment: String,
    delegation_chain: String,
    credential: String,
    drift: Option<String>,
    drift_identity: Option<Uuid>,
    would_deny: Option<String>,
}

impl TryFrom<DecisionRow> for DecisionRecord {
    type Error = StoreError;

    fn try_from(r: DecisionRow) -> Result<Self, StoreError> {
        Ok(DecisionRecord {
            id: r.id,
            at: r.at,
            identity_id: r.identity_id,
            action: r.action,
            resource: r.resource,
            decision: r.decision.parse().map_err(|e| corrupt("decision", e))?,
            reasons: serde_json::from_str(&r.reasons)
                .map_err(|e| corrupt("decision reasons", e))?,
            diagnostics: serde_json::from_str(&r.diagnostics)
                .map_err(|e| corrupt("decision diagnostics", e))?,
            session_id: r.session_id,
            task: r.task,
            environment: r.environment,
            delegation_chain: serde_json::from_str(&r.delegation_chain)
                .map_err(|e| corrupt("decision chain", e))?,
            credential: r.credential,
            drift: match (r.drift, r.drift_identity) {
                (Some(kind), Some(identity_id)) => Some(Drift {
                    kind: kind.parse().map_err(|e| corrupt("decision drift", e))?,
                    identity_id,
                }),
                _ => None,
            },
            would_deny: r.would_deny,
        })
    }
}

const POLICY_COLUMNS: &str = "SELECT id, name, description, body, enabled, principal_id, \
     updated_by, updated_at FROM authz_policies";

const DECISION_COLUMNS: &str = "SELECT id, at, identity_id, action, resource, decision, \
     reasons, diagnostics, session_id, task, environment, delegation_chain, credential, \
     drift, drift_identity, would_deny FROM authz_decisions";

impl Store {
    /// The stored limits row of an identity, if any.
    async fn limits_row(&self, identity_id: Uuid) -> Result<Option<LimitsRow>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "SELECT {LIMITS_COLUMNS} FROM agent_limits WHERE identity_id = $1"
            ))
            .bind(identity_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// The limits set on an identity, if any.
    pub async fn agent_limits(&self, identity_id: Uuid) -> Result<Option<AgentLimits>, StoreError> {
        self.limits_row(identity_id)
            .await?
            .map(AgentLimits::try_from)
            .transpose()
    }

    /// The limits set on an identity and its policy set's mode (none set: the
    /// defaults, enforced).
    pub async fn agent_limits_and_mode(
        &self,
        identity_id: Uuid,
    ) -> Result<(AgentLimits, EnforcementMode), StoreError> {
        match self.limits_row(identity_id).await? {
            None => Ok((AgentLimits::default(), EnforcementMode::Enforce)),
            Some(row) => {
                let mode = row.mode()?;
                Ok((AgentLimits::try_from(row)?, mode))
            }
        }
    }

    /// The trust configurations with a claim rule for `identity`, with their modes.
    pub async fn trust_coverage(
        &self,
        identity: Uuid,
    ) -> Result<Vec<(String, EnforcementMode)>, StoreError> {
        let rows: Vec<(String, String)> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT t.name, t.mode FROM trust_rule_identities r \
                 JOIN trust_configs t ON t.id = r.trust_config_id WHERE r.identity_id = $1 ORDER BY t.name",
            )
            .bind(identity)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(name, mode)| Ok((name, mode.parse().map_err(|e| corrupt("trust mode", e))?)))
            .collect()
    }

    /// Decisions of `identity` since `since`: how many, how many enforcing would have
    /// denied, and the most recent of those.
    pub async fn monitored_decisions(
        &self,
        identity: Uuid,
        since: DateTime<Utc>,
    ) -> Result<(i64, i64, Vec<DecisionRecord>), StoreError> {
        let (total, would, rows): (i64, i64, Vec<DecisionRow>) = db_run!(self, reader, |pool| {
            let total: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM authz_decisions WHERE identity_id = $1 AND at >= $2",
            )
            .bind(identity)
            .bind(since)
            .fetch_one(pool)
            .await?;
            let would: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM authz_decisions WHERE identity_id = $1 AND at >= $2 \
                 AND would_deny IS NOT NULL",
            )
            .bind(identity)
            .bind(since)
            .fetch_one(pool)
            .await?;
            let rows = sqlx::query_as(&format!(
                "{DECISION_COLUMNS} WHERE identity_id = $1 AND at >= $2 AND would_deny IS NOT NULL \
                 ORDER BY at DESC, id DESC LIMIT 20"
            ))
            .bind(identity)
            .bind(since)
            .fetch_all(pool)
            .await?;
            (total, would, rows)
        });
        let recent = rows
            .into_iter()
            .map(DecisionRecord::try_from)
            .collect::<Result<_, _>>()?;
        Ok((total, would, recent))
    }

    /// Every admin policy, by name.
    pub async fn list_authz_policies(&self) -> Result<Vec<AuthzPolicy>, StoreError> {
        let rows: Vec<PolicyRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{POLICY_COLUMNS} ORDER BY name"))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(AuthzPolicy::from).collect())
    }

    pub async fn find_authz_policy(&self, id: Uuid) -> Result<Option<AuthzPolicy>, StoreError> {
        let row: Option<PolicyRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{POLICY_COLUMNS} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(AuthzPolicy::from))
    }

    /// The enabled admin policies that apply to `identity_id`: those naming it and
    /// those naming no one.
    pub async fn authz_policies_for(
        &self,
        identity_id: Uuid,
    ) -> Result<Vec<AuthzPolicy>, StoreError> {
        let rows: Vec<PolicyRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "{POLICY_COLUMNS} WHERE enabled AND (principal_id IS NULL OR principal_id = $1) ORDER BY name"
            ))
            .bind(identity_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(AuthzPolicy::from).collect())
    }

    /// The registered delegations from `identity_id`: (to, its kind, sub-agent?).
    pub async fn delegations_from(
        &self,
        identity_id: Uuid,
    ) -> Result<Vec<(Uuid, IdentityKind, bool)>, StoreError> {
        let rows: Vec<(Uuid, String, String)> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT d.to_id, i.kind, d.kind FROM delegations d \
                 JOIN identities i ON i.id = d.to_id WHERE d.from_id = $1",
            )
            .bind(identity_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(to, kind, edge)| {
                Ok((
                    to,
                    kind.parse().map_err(|e| corrupt("identity kind", e))?,
                    edge == "sub_agent",
                ))
            })
            .collect()
    }

    /// Active grants of an identity: (resource, action, expires at).
    pub async fn active_grants_of(
        &self,
        identity_id: Uuid,
    ) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT resource, action, expires_at FROM grants \
                 WHERE identity_id = $1 AND state = 'active' AND expires_at IS NOT NULL",
            )
            .bind(identity_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Takes the next `count` call numbers of a session (starting it on its first
    /// call), atomically; returns when the session started and the last number taken.
    pub async fn lease_session_calls(
        &self,
        identity_id: Uuid,
        session_id: &str,
        now: DateTime<Utc>,
        count: i64,
    ) -> Result<(DateTime<Utc>, i64), StoreError> {
        Ok(db_run!(self, writer_outside_feed, |pool| {
            sqlx::query_as(
                "INSERT INTO authz_sessions (identity_id, session_id, started_at, last_call_at, calls) \
                 VALUES ($1, $2, $3, $3, $4) \
                 ON CONFLICT (identity_id, session_id) DO UPDATE \
                 SET calls = authz_sessions.calls + excluded.calls, last_call_at = excluded.last_call_at \
                 RETURNING started_at, calls",
            )
            .bind(identity_id)
            .bind(session_id)
            .bind(now)
            .bind(count)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Appends decisions to the log (one multi-row insert per 500).
    pub async fn insert_decisions(&self, decisions: &[DecisionRecord]) -> Result<(), StoreError> {
        db_run!(self, writer_outside_feed, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in decisions.chunks(500) {
                let mut sql = QueryBuilder::<Db>::new(
                    "INSERT INTO authz_decisions (id, at, identity_id, action, resource, decision, \
                     reasons, diagnostics, session_id, task, environment, delegation_chain, credential, \
                     drift, drift_identity, would_deny) ",
                );
                sql.push_values(chunk, |mut row, d| {
                    row.push_bind(d.id)
                        .push_bind(d.at)
                        .push_bind(d.identity_id)
                        .push_bind(d.action.clone())
                        .push_bind(d.resource.clone())
                        .push_bind(d.decision.as_str())
                        .push_bind(json(&d.reasons))
                        .push_bind(json(&d.diagnostics))
                        .push_bind(d.session_id.clone())
                        .push_bind(d.task.clone())
                        .push_bind(d.environment.clone())
                        .push_bind(json(&d.delegation_chain))
                        .push_bind(d.credential.clone())
                        .push_bind(d.drift.as_ref().map(|drift| drift.kind.as_str()))
                        .push_bind(d.drift.as_ref().map(|drift| drift.identity_id))
                        .push_bind(d.would_deny.clone());
                });
                sql.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Notes when identities last acted (each at its time, never moving it back).
    pub async fn touch_identities(&self, used: &[(Uuid, DateTime<Utc>)]) -> Result<(), StoreError> {
        db_run!(self, writer_outside_feed, |pool| {
            let mut tx = pool.begin().await?;
            for (id, at) in used {
                sqlx::query(
                    "UPDATE identities SET last_used_at = $2 \
                     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
                )
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// An identity's decisions, newest first, before `before` when given.
    pub async fn decisions_of(
        &self,
        identity_id: Uuid,
        before: Option<DateTime<Utc>>,
        limit: i64,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        let rows: Vec<DecisionRow> = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(DECISION_COLUMNS);
            sql.push(" WHERE identity_id = ").push_bind(identity_id);
            if let Some(before) = before {
                sql.push(" AND at < ").push_bind(before);
            }
            sql.push(" ORDER BY at DESC LIMIT ").push_bind(limit);
            sql.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter().map(DecisionRecord::try_from).collect()
    }

    /// Up to `limit` active agents with their environments, by id (benchmarks).
    pub async fn bench_agents(&self, limit: i64) -> Result<Vec<(Uuid, String)>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT id, environment FROM identities WHERE kind = 'agent' AND status = 'active' \
                 ORDER BY id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// How many decisions the log holds.
    pub async fn count_decisions(&self) -> Result<i64, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM authz_decisions")
                .fetch_one(pool)
                .await?
        }))
    }

    /// The tail of the change feed: the rows after `low`, the newest position minus
    /// `window` (or 0), oldest first.
    pub async fn authz_changes_tail(
        &self,
        window: i64,
    ) -> Result<(i64, Vec<(i64, Option<Uuid>)>), StoreError> {
        let newest: Option<i64> = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT MAX(seq) FROM authz_changes")
                .fetch_one(pool)
                .await?
        });
        let low = newest.map_or(0, |n| (n - window).max(0));
        Ok((low, self.authz_changes_since(low, window + 1).await?))
    }

    /// The rows among `seqs` that exist (rows missing from an earlier read that have
    /// committed since).
    pub async fn authz_changes_among(
        &self,
        seqs: &[i64],
    ) -> Result<Vec<(i64, Option<Uuid>)>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT seq, identity_id FROM authz_changes WHERE seq IN (",
            );
            let mut list = sql.separated(", ");
            for seq in seqs {
                list.push_bind(*seq);
            }
            sql.push(") ORDER BY seq");
            sql.build_query_as().fetch_all(pool).await?
        }))
    }

    /// Deletes change feed rows written before `before`; returns how many. (Caches idle
    /// longer than the feed is kept start over instead of reading it.)
    pub async fn prune_authz_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(db_run!(self, writer_outside_feed, |pool| {
            let query = sqlx::query("DELETE FROM authz_changes WHERE at < $1");
            // SQLite stores the trigger's own time text (`…T…Z`), compared as text.
            let query = match DIALECT {
                super::Dialect::Sqlite => {
                    query.bind(before.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                }
                super::Dialect::Postgres => query.bind(before),
            };
            query.execute(pool).await?.rows_affected()
        }))
    }

    /// Changes after `seq`, oldest first, at most `limit`: (seq, identity or everyone).
    pub async fn authz_changes_since(
        &self,
        seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Option<Uuid>)>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT seq, identity_id FROM authz_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(seq)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }
}
