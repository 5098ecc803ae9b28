//! One identity in full: its list row with the attributes the list does not carry,
//! its credentials, entitlements and the delegation graph around it.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, QueryBuilder};
use steward_domain::delegation::{DelegationEdge, DelegationGraph, DelegationNode};
use steward_domain::identity::{CredentialInfo, Entitlement};
use steward_domain::inventory::{IdentitySummary, PersonRef};
use uuid::Uuid;

use super::{IdentityRow, OWNER_JOIN, SUMMARY_COLUMNS};
use crate::store::corrupt;
use crate::store::{db_run, Dialect, Store, StoreError};

/// How far up and down the delegation graph an identity page looks.
pub const DELEGATION_DEPTH: i64 = 5;
/// At most this many identities in one delegation diagram.
pub const DELEGATION_NODES: i64 = 60;

/// The attributes of an identity that its list row does not carry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdentityExtra {
    pub sponsor_id: Option<Uuid>,
    pub sponsor_name: Option<String>,
    pub sponsor_email: Option<String>,
    pub sponsor_active: Option<bool>,
    pub purpose: Option<String>,
    pub autonomy: Option<String>,
    pub sensitivity_ceiling: Option<String>,
    pub revocation_path: Option<String>,
    pub ownership_state: Option<String>,
    pub status_reason: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl IdentityExtra {
    pub fn sponsor(&self) -> Option<PersonRef> {
        match (&self.sponsor_id, &self.sponsor_name, &self.sponsor_email) {
            (Some(id), Some(name), Some(email)) => Some(PersonRef {
                id: *id,
                display_name: name.clone(),
                email: email.clone(),
            }),
            _ => None,
        }
    }
}

/// A credential as stored (the findings engine reads it with its identity's id).
#[derive(sqlx::FromRow)]
pub(crate) struct CredentialRow {
    id: Uuid,
    kind: String,
    key_id: String,
    created_at: DateTime<Utc>,
    last_rotated_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    rotation_days: Option<i64>,
    revoked_at: Option<DateTime<Utc>>,
}

/// An entitlement as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct EntitlementRow {
    id: Uuid,
    resource: String,
    action: String,
    privilege: String,
    grant_type: String,
    created_at: DateTime<Utc>,
    removed_at: Option<DateTime<Utc>>,
}

impl TryFrom<CredentialRow> for CredentialInfo {
    type Error = StoreError;

    fn try_from(r: CredentialRow) -> Result<Self, StoreError> {
        Ok(CredentialInfo {
            id: r.id,
            kind: r.kind.parse().map_err(corrupt("credential"))?,
            key_id: r.key_id,
            created_at: r.created_at,
            last_rotated_at: r.last_rotated_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            rotation_days: r.rotation_days.and_then(|d| u32::try_from(d).ok()),
            revoked_at: r.revoked_at,
        })
    }
}

impl TryFrom<EntitlementRow> for Entitlement {
    type Error = StoreError;

    fn try_from(r: EntitlementRow) -> Result<Self, StoreError> {
        let c = corrupt("entitlement");
        Ok(Entitlement {
            id: r.id,
            resource: r.resource,
            action: r.action,
            privilege: r.privilege.parse().map_err(&c)?,
            grant_type: r.grant_type.parse().map_err(&c)?,
            created_at: r.created_at,
            removed_at: r.removed_at,
        })
    }
}

impl Store {
    /// One identity's list row and the rest of its attributes.
    pub async fn find_identity(
        &self,
        id: Uuid,
    ) -> Result<Option<(IdentitySummary, IdentityExtra)>, StoreError> {
        // One query for both halves: the identity page and every grant request read this.
        let found: Option<(IdentityRow, IdentityExtra)> = db_run!(self, reader, |pool| {
            let row = sqlx::query(&format!(
                "{SUMMARY_COLUMNS}, i.sponsor_id, s.display_name AS sponsor_name, \
                 s.email AS sponsor_email, s.active AS sponsor_active, i.purpose, i.autonomy, \
                 i.sensitivity_ceiling, i.revocation_path, i.ownership_state, i.status_reason, \
                 i.updated_at FROM identities i{OWNER_JOIN} \
                 LEFT JOIN people s ON s.id = i.sponsor_id WHERE i.id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some((IdentityRow::from_row(&row)?, IdentityExtra::from_row(&row)?)),
            }
        });
        found
            .map(|(row, extra)| Ok((IdentitySummary::try_from(row)?, extra)))
            .transpose()
    }

    pub async fn credentials_of(
        &self,
        identity_id: Uuid,
    ) -> Result<Vec<CredentialInfo>, StoreError> {
        let rows: Vec<CredentialRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT id, kind, key_id, created_at, last_rotated_at, expires_at, last_used_at, \
                 rotation_days, revoked_at FROM credentials WHERE identity_id = $1 \
                 ORDER BY revoked_at IS NOT NULL, created_at DESC, id",
            )
            .bind(identity_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(CredentialInfo::try_from).collect()
    }

    pub async fn entitlements_of(&self, identity_id: Uuid) -> Result<Vec<Entitlement>, StoreError> {
        let rows: Vec<EntitlementRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT id, resource, action, privilege, grant_type, created_at, removed_at \
                 FROM entitlements WHERE identity_id = $1 \
                 ORDER BY removed_at IS NOT NULL, resource, action, id",
            )
            .bind(identity_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Entitlement::try_from).collect()
    }

    /// The delegation graph around `focus`: everyone within [`DELEGATION_DEPTH`]
    /// upstream and downstream, with their active permissions.
    pub async fn delegation_graph(&self, focus: Uuid) -> Result<DelegationGraph, StoreError> {
        type NodeRow = (Uuid, String, String, String);
        type EdgeRow = (Uuid, Uuid, String);
        type PermissionRow = (Uuid, String, String);
        type Rows = (Vec<EdgeRow>, Vec<NodeRow>, Vec<PermissionRow>);
        let (edges, nodes, perms): Rows = db_run!(self, reader, |pool| {
            let seed = match DIALECT {
                Dialect::Sqlite => "$1",
                Dialect::Postgres => "CAST($1 AS UUID)",
            };
            let ids: Vec<Uuid> = sqlx::query_scalar(&format!(
                    "WITH RECURSIVE up(id, depth) AS ( \
                       SELECT {seed}, 0 \
                       UNION SELECT d.from_id, up.depth + 1 FROM delegations d JOIN up ON d.to_id = up.id \
                       WHERE up.depth < $2), \
                     down(id, depth) AS ( \
                       SELECT {seed}, 0 \
                       UNION SELECT d.to_id, down.depth + 1 FROM delegations d JOIN down ON d.from_id = down.id \
                       WHERE down.depth < $2) \
                     SELECT id FROM up UNION SELECT id FROM down LIMIT $3"
                ))
                .bind(focus)
                .bind(DELEGATION_DEPTH)
                .bind(DELEGATION_NODES)
                .fetch_all(pool)
                .await?;
            let in_list = |sql: &mut QueryBuilder<Db>, ids: &[Uuid]| {
                sql.push(" (");
                let mut list = sql.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                sql.push(")");
            };
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT from_id, to_id, kind FROM delegations WHERE from_id IN",
            );
            in_list(&mut sql, &ids);
            sql.push(" AND to_id IN");
            in_list(&mut sql, &ids);
            sql.push(" ORDER BY from_id, to_id");
            let edges = sql.build_query_as().fetch_all(pool).await?;
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT id, name, kind, status FROM identities WHERE id IN",
            );
            in_list(&mut sql, &ids);
            sql.push(" ORDER BY name, id");
            let nodes = sql.build_query_as().fetch_all(pool).await?;
            let mut sql = QueryBuilder::<Db>::new(
                    "SELECT identity_id, resource, action FROM entitlements WHERE removed_at IS NULL AND identity_id IN",
                );
            in_list(&mut sql, &ids);
            sql.push(" ORDER BY resource, action");
            let perms = sql.build_query_as().fetch_all(pool).await?;
            (edges, nodes, perms)
        });
        let c = corrupt("delegation");
        let nodes = nodes
            .into_iter()
            .map(|(id, name, kind, status)| {
                let mut permissions: Vec<String> = perms
                    .iter()
                    .filter(|(owner, _, _)| *owner == id)
                    .map(|(_, resource, action)| format!("{resource}:{action}"))
                    .collect();
                permissions.dedup();
                Ok(DelegationNode {
                    id,
                    name,
                    kind: kind.parse().map_err(&c)?,
                    status: status.parse().map_err(&c)?,
                    permissions,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let edges = edges
            .into_iter()
            .map(|(from, to, kind)| {
                Ok(DelegationEdge {
                    from,
                    to,
                    kind: kind.parse().map_err(&c)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(DelegationGraph {
            focus,
            nodes,
            edges,
        })
    }
}
