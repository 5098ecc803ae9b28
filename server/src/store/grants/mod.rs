//! Just-in-time grants in the store: eligibility policies, grants with their history,
//! the approvers' queue, and the expiry worker's batches (on PostgreSQL claimed with
//! `FOR UPDATE SKIP LOCKED`, so replicas never expire the same grant twice).

pub mod writes;

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::grants::{Approval, Grant, GrantState, Policy};
use uuid::Uuid;

use super::audit::AuditTx;
use super::corrupt;
use super::{db_run, Store, StoreError};

/// Who the expiry worker's changes are recorded as.
pub const GRANTS_ACTOR: &str = "system:grants";

#[derive(sqlx::FromRow)]
struct PolicyRow {
    id: Uuid,
    draft: String,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<PolicyRow> for Policy {
    type Error = StoreError;

    fn try_from(r: PolicyRow) -> Result<Self, StoreError> {
        Ok(Policy {
            id: r.id,
            draft: serde_json::from_str(&r.draft)
                .map_err(|e| StoreError::Corrupt(format!("grant policy: {e}")))?,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            shadowed_by: None,
        })
    }
}

const GRANT_COLUMNS: &str = "SELECT g.id, g.identity_id, i.name AS identity_name, \
     g.entitlement_id, g.resource, g.action, g.privilege, g.policy_id, g.approval_mode, \
     g.minutes, g.reason, g.requested_by, g.requester_person_id, g.requested_at, g.state, \
     g.approvals, g.ended_by, g.end_reason, g.starts_at, g.expires_at, g.ended_at \
     FROM grants g JOIN identities i ON i.id = g.identity_id";

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: Uuid,
    identity_id: Uuid,
    identity_name: String,
    entitlement_id: Uuid,
    resource: String,
    action: String,
    privilege: String,
    policy_id: Uuid,
    approval_mode: String,
    minutes: i64,
    reason: Option<String>,
    requested_by: String,
    requester_person_id: Option<Uuid>,
    requested_at: DateTime<Utc>,
    state: String,
    approvals: String,
    ended_by: Option<String>,
    end_reason: Option<String>,
    starts_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
}

impl TryFrom<GrantRow> for Grant {
    type Error = StoreError;

    fn try_from(r: GrantRow) -> Result<Self, StoreError> {
        let approvals: Vec<Approval> = serde_json::from_str(&r.approvals)
            .map_err(|e| StoreError::Corrupt(format!("grant approvals: {e}")))?;
        Ok(Grant {
            id: r.id,
            identity_id: r.identity_id,
            identity_name: r.identity_name,
            entitlement_id: r.entitlement_id,
            resource: r.resource,
            action: r.action,
            privilege: r.privilege.parse().map_err(corrupt("grant privilege"))?,
            policy_id: r.policy_id,
            approval_mode: r.approval_mode.parse().map_err(corrupt("approval mode"))?,
            minutes: u32::try_from(r.minutes)
                .map_err(|_| StoreError::Corrupt("grant minutes".into()))?,
            reason: r.reason,
            requested_by: r.requested_by,
            requester_person_id: r.requester_person_id,
            requested_at: r.requested_at,
            state: r.state.parse().map_err(corrupt("grant state"))?,
            approvals,
            ended_by: r.ended_by,
            end_reason: r.end_reason,
            starts_at: r.starts_at,
            expires_at: r.expires_at,
            ended_at: r.ended_at,
        })
    }
}

/// Which grants to list.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    pub identity: Option<Uuid>,
    pub state: Option<GrantState>,
    pub requester: Option<Uuid>,
    /// Grants of identities this person owns.
    pub owner: Option<Uuid>,
    /// Active grants expiring before this time.
    pub expiring_before: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// The approvals as stored.
pub fn approvals_json(approvals: &[Approval]) -> Result<String, StoreError> {
    serde_json::to_string(approvals)
        .map_err(|e| StoreError::Corrupt(format!("grant approvals: {e}")))
}

impl Store {
    /// Active policies, by name.
    pub async fn list_policies(&self) -> Result<Vec<Policy>, StoreError> {
        let rows: Vec<PolicyRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT id, draft, created_by, created_at, updated_at FROM grant_policies \
                 WHERE active = TRUE ORDER BY name, id",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Policy::try_from).collect()
    }

    /// One policy (deleted ones too: grants keep pointing at them).
    pub async fn find_policy(&self, id: Uuid) -> Result<Option<(Policy, bool)>, StoreError> {
        /// draft, created by, created at, updated at, active
        type Row = (String, String, DateTime<Utc>, DateTime<Utc>, bool);
        let row: Option<Row> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT draft, created_by, created_at, updated_at, active FROM grant_policies WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(draft, created_by, created_at, updated_at, active)| {
            Ok((
                Policy::try_from(PolicyRow {
                    id,
                    draft,
                    created_by,
                    created_at,
                    updated_at,
                })?,
                active,
            ))
        })
        .transpose()
    }

    pub async fn find_grant(&self, id: Uuid) -> Result<Option<Grant>, StoreError> {
        let row: Option<GrantRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{GRANT_COLUMNS} WHERE g.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Grant::try_from).transpose()
    }

    /// Grants matching `filter`, newest request first.
    pub async fn list_grants(&self, filter: &GrantFilter) -> Result<Vec<Grant>, StoreError> {
        let rows: Vec<GrantRow> = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(format!("{GRANT_COLUMNS} WHERE 1 = 1"));
            if let Some(identity) = filter.identity {
                sql.push(" AND g.identity_id = ").push_bind(identity);
            }
            if let Some(state) = filter.state {
                sql.push(" AND g.state = ").push_bind(state.as_str());
            }
            if let Some(requester) = filter.requester {
                sql.push(" AND g.requester_person_id = ")
                    .push_bind(requester);
            }
            if let Some(owner) = filter.owner {
                sql.push(" AND (i.owner_id = ")
                    .push_bind(owner)
                    .push(" OR i.sponsor_id = ")
                    .push_bind(owner)
                    .push(")");
            }
            if let Some(before) = filter.expiring_before {
                sql.push(" AND g.state = 'active' AND g.expires_at <= ")
                    .push_bind(before);
            }
            sql.push(" ORDER BY g.requested_at DESC, g.id DESC LIMIT ")
                .push_bind(filter.limit.clamp(1, 1000));
            sql.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter().map(Grant::try_from).collect()
    }

    /// Pending grants `person` could approve: as owner or sponsor of the identity, or
    /// (`security`) as the security team where the mode asks for it. Oldest first.
    pub async fn grants_to_approve(
        &self,
        person: Uuid,
        security: bool,
    ) -> Result<Vec<Grant>, StoreError> {
        let team = if security {
            " OR g.approval_mode IN ('security_team', 'two_approvers')"
        } else {
            ""
        };
        let rows: Vec<GrantRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "{GRANT_COLUMNS} WHERE g.state = 'pending' AND (g.requester_person_id IS NULL \
                 OR g.requester_person_id <> $1) AND (((i.owner_id = $1 OR i.sponsor_id = $1) \
                 AND g.approval_mode IN ('owner', 'two_approvers')){team}) \
                 ORDER BY g.requested_at, g.id LIMIT 500"
            ))
            .bind(person)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Grant::try_from).collect()
    }

    /// Every pending and active grant of `identity` (id and state), however many: the
    /// kill switch audits each one it revokes.
    pub async fn open_grants_of(
        &self,
        identity: Uuid,
    ) -> Result<Vec<(Uuid, GrantState)>, StoreError> {
        let rows: Vec<(Uuid, String)> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT id, state FROM grants WHERE identity_id = $1 \
                 AND state IN ('active', 'pending') ORDER BY requested_at, id",
            )
            .bind(identity)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, state)| Ok((id, state.parse().map_err(corrupt("grant state"))?)))
            .collect()
    }

    /// Whether a credential was revoked (`None`: Steward never issued it).
    pub async fn credential_revoked(&self, jti: Uuid) -> Result<Option<bool>, StoreError> {
        let row: Option<Option<DateTime<Utc>>> = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT revoked_at FROM grant_credentials WHERE jti = $1")
                .bind(jti)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|revoked| revoked.is_some()))
    }

    /// Expires up to `batch` active grants whose time ran out by `now`, each exactly
    /// once, with one audit event per grant in the same transaction. Returns them.
    /// On PostgreSQL the batch is claimed with `FOR UPDATE SKIP LOCKED`: replicas
    /// sweeping at the same moment take disjoint batches.
    pub async fn expire_grants(
        &self,
        now: DateTime<Utc>,
        batch: i64,
    ) -> Result<Vec<(Uuid, Uuid, String)>, StoreError> {
        /// grant, identity, `resource:action`
        type Row = (Uuid, Uuid, String, String);
        macro_rules! sweep {
            ($pool:expr, $lock:expr) => {{
                let mut tx = $pool.begin().await?;
                let rows: Vec<Row> = sqlx::query_as(&format!(
                    "UPDATE grants SET state = 'expired', ended_at = $1, ended_by = '{GRANTS_ACTOR}' \
                     WHERE state = 'active' AND id IN (SELECT id FROM grants WHERE state = 'active' \
                     AND expires_at <= $1 ORDER BY expires_at LIMIT $2{}) \
                     RETURNING id, identity_id, resource, action",
                    $lock
                ))
                .bind(now)
                .bind(batch)
                .fetch_all(&mut *tx)
                .await?;
                let events: Vec<NewAuditEvent> = rows
                    .iter()
                    .map(|(id, identity, resource, action)| {
                        NewAuditEvent::new(
                            GRANTS_ACTOR,
                            AuditAction::GrantExpire,
                            format!("grant:{id}"),
                            serde_json::json!({ "identity_id": identity,
                                                "scope": format!("{resource}:{action}") }),
                        )
                    })
                    .collect();
                tx.append_audit_many(&events).await?;
                tx.commit().await?;
                super::note_commit();
                rows
            }};
        }
        let rows = match self {
            Store::Sqlite(s) => sweep!(s.writer, ""),
            Store::Postgres(s) => sweep!(s.writer, " FOR UPDATE SKIP LOCKED"),
        };
        Ok(rows
            .into_iter()
            .map(|(id, identity, resource, action)| (id, identity, format!("{resource}:{action}")))
            .collect())
    }
}
