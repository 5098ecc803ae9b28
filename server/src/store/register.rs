//! Reads of the register beyond the listing: one identity with its credentials,
//! entitlements and delegation graph; assignments, the orphan queue, people and the
//! inbox. Changes go through [`Store::write`](super::write).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, QueryBuilder};
use steward_domain::delegation::{DelegationEdge, DelegationGraph, DelegationNode};
use steward_domain::identity::{CredentialInfo, Entitlement};
use steward_domain::inventory::{IdentitySummary, PersonRef};
use steward_domain::ownership::{Assignment, IdentityRef, Notification, OrphanEntry, PersonInfo};
use uuid::Uuid;

use super::inventory::{IdentityRow, OWNER_JOIN, SUMMARY_COLUMNS};
use super::{db_run, Dialect, Store, StoreError};

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

/// Turns a stored value the domain refuses into a store error naming `what`.
pub(crate) fn corrupt(what: &str) -> impl Fn(steward_domain::DomainError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

/// A person as the store keeps them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonRow {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
    pub team: Option<String>,
    pub active: bool,
}

impl PersonRow {
    pub fn as_ref(&self) -> PersonRef {
        PersonRef {
            id: self.id,
            display_name: self.display_name.clone(),
            email: self.email.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: Uuid,
    identity_id: Uuid,
    identity_name: String,
    identity_kind: String,
    identity_environment: String,
    identity_status: String,
    role: String,
    person_id: Uuid,
    person_name: String,
    person_email: String,
    previous_id: Option<Uuid>,
    previous_name: Option<String>,
    previous_email: Option<String>,
    reason: String,
    assigned_by: String,
    assigned_at: DateTime<Utc>,
    state: String,
    answered_at: Option<DateTime<Utc>>,
    answer_note: Option<String>,
}

const SELECT_ASSIGNMENT: &str = "SELECT a.id, a.identity_id, i.name AS identity_name, \
     i.kind AS identity_kind, i.environment AS identity_environment, i.status AS identity_status, \
     a.role, a.person_id, p.display_name AS person_name, p.email AS person_email, \
     a.previous_id, q.display_name AS previous_name, q.email AS previous_email, \
     a.reason, a.assigned_by, a.assigned_at, a.state, a.answered_at, a.answer_note \
     FROM ownership_assignments a JOIN identities i ON i.id = a.identity_id \
     JOIN people p ON p.id = a.person_id LEFT JOIN people q ON q.id = a.previous_id";

impl TryFrom<AssignmentRow> for Assignment {
    type Error = StoreError;

    fn try_from(r: AssignmentRow) -> Result<Self, StoreError> {
        let c = corrupt("assignment");
        Ok(Assignment {
            id: r.id,
            identity: IdentityRef {
                id: r.identity_id,
                name: r.identity_name,
                kind: r.identity_kind.parse().map_err(&c)?,
                environment: r.identity_environment,
                status: r.identity_status.parse().map_err(&c)?,
            },
            role: r.role.parse().map_err(&c)?,
            person: PersonRef {
                id: r.person_id,
                display_name: r.person_name,
                email: r.person_email,
            },
            previous: match (r.previous_id, r.previous_name, r.previous_email) {
                (Some(id), Some(display_name), Some(email)) => Some(PersonRef {
                    id,
                    display_name,
                    email,
                }),
                _ => None,
            },
            reason: r.reason,
            assigned_by: r.assigned_by,
            assigned_at: r.assigned_at,
            state: r.state.parse().map_err(&c)?,
            answered_at: r.answered_at,
            answer_note: r.answer_note,
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

    pub async fn find_person_by_email(&self, email: &str) -> Result<Option<PersonRow>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT id, display_name, email, team, active FROM people WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(pool)
            .await?
        }))
    }

    pub async fn find_person(&self, id: Uuid) -> Result<Option<PersonRow>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as("SELECT id, display_name, email, team, active FROM people WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Someone still here in `team`, other than `except`: the first by name.
    pub async fn active_team_member(
        &self,
        team: &str,
        except: Uuid,
    ) -> Result<Option<PersonRow>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT id, display_name, email, team, active FROM people \
                 WHERE team = $1 AND active = TRUE AND id <> $2 ORDER BY display_name, id LIMIT 1",
            )
            .bind(team)
            .bind(except)
            .fetch_optional(pool)
            .await?
        }))
    }

    pub async fn team_exists(&self, team: &str) -> Result<bool, StoreError> {
        let n: i64 = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE name = $1")
                .bind(team)
                .fetch_one(pool)
                .await?
        });
        Ok(n > 0)
    }

    /// People whose name or email contains `search`, by name, with what they own.
    pub async fn list_people(
        &self,
        search: &str,
        limit: i64,
    ) -> Result<Vec<PersonInfo>, StoreError> {
        type Row = (Uuid, String, String, Option<String>, bool, i64);
        let rows: Vec<Row> = db_run!(self, reader, |pool| {
            let like = match DIALECT {
                Dialect::Sqlite => "LIKE",
                Dialect::Postgres => "ILIKE",
            };
            sqlx::query_as(&format!(
                "SELECT p.id, p.display_name, p.email, p.team, p.active, \
                 (SELECT COUNT(*) FROM identities i WHERE i.owner_id = p.id AND i.status <> 'retired') \
                 FROM people p WHERE p.display_name {like} $1 ESCAPE '\\' OR p.email {like} $1 ESCAPE '\\' \
                 ORDER BY p.display_name, p.id LIMIT $2"
            ))
            .bind(super::inventory::like_pattern(search))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, display_name, email, team, active, owned)| PersonInfo {
                    id,
                    display_name,
                    email,
                    team,
                    active,
                    owned: owned.max(0) as u64,
                },
            )
            .collect())
    }

    /// Identities `person` owns (`owner = true`) or sponsors, not retired, with their
    /// team and the other role's holder.
    pub async fn identities_held_by(&self, person: Uuid) -> Result<Vec<HeldIdentity>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT i.id, i.name, i.team, i.owner_id, i.sponsor_id, i.kind, i.status FROM identities i \
                 WHERE (i.owner_id = $1 OR i.sponsor_id = $1) AND i.status <> 'retired' ORDER BY i.name, i.id",
            )
            .bind(person)
            .fetch_all(pool)
            .await?
        }))
    }

    pub async fn find_assignment(&self, id: Uuid) -> Result<Option<Assignment>, StoreError> {
        let row: Option<AssignmentRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{SELECT_ASSIGNMENT} WHERE a.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Assignment::try_from).transpose()
    }

    /// Assignments, newest first; optionally only one person's and one state.
    pub async fn list_assignments(
        &self,
        person: Option<Uuid>,
        state: Option<&str>,
        identity: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Assignment>, StoreError> {
        let rows: Vec<AssignmentRow> = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(SELECT_ASSIGNMENT);
            sql.push(" WHERE 1 = 1");
            if let Some(person) = person {
                sql.push(" AND a.person_id = ").push_bind(person);
            }
            if let Some(state) = state {
                sql.push(" AND a.state = ").push_bind(state.to_owned());
            }
            if let Some(identity) = identity {
                sql.push(" AND a.identity_id = ").push_bind(identity);
            }
            sql.push(" ORDER BY a.assigned_at DESC, a.id LIMIT ")
                .push_bind(limit);
            sql.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter().map(Assignment::try_from).collect()
    }

    pub async fn notifications_for(
        &self,
        person: Uuid,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows: Vec<(Uuid, Option<Uuid>, String, DateTime<Utc>)> =
            db_run!(self, reader, |pool| {
                sqlx::query_as(
                    "SELECT id, identity_id, message, created_at FROM notifications \
                 WHERE person_id = $1 AND read_at IS NULL ORDER BY created_at DESC, id LIMIT $2",
                )
                .bind(person)
                .bind(limit)
                .fetch_all(pool)
                .await?
            });
        Ok(rows
            .into_iter()
            .map(|(id, identity_id, message, created_at)| Notification {
                id,
                identity_id,
                message,
                created_at,
            })
            .collect())
    }

    /// The orphan queue, oldest first.
    pub async fn orphan_queue(&self, limit: i64) -> Result<Vec<OrphanEntry>, StoreError> {
        type Row = (
            Uuid,
            String,
            String,
            String,
            String,
            Uuid,
            String,
            String,
            Option<Uuid>,
            Option<String>,
            Option<String>,
            String,
            DateTime<Utc>,
        );
        let rows: Vec<Row> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT i.id, i.name, i.kind, i.environment, i.status, \
                 f.id, f.display_name, f.email, s.id, s.display_name, s.email, \
                 o.suggested_reason, o.queued_at \
                 FROM orphan_queue o JOIN identities i ON i.id = o.identity_id \
                 JOIN people f ON f.id = o.former_owner_id LEFT JOIN people s ON s.id = o.suggested_id \
                 ORDER BY o.queued_at, i.name, i.id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let c = corrupt("orphan queue");
        rows.into_iter()
            .map(|r| {
                Ok(OrphanEntry {
                    identity: IdentityRef {
                        id: r.0,
                        name: r.1,
                        kind: r.2.parse().map_err(&c)?,
                        environment: r.3,
                        status: r.4.parse().map_err(&c)?,
                    },
                    former_owner: PersonRef {
                        id: r.5,
                        display_name: r.6,
                        email: r.7,
                    },
                    suggested: match (r.8, r.9, r.10) {
                        (Some(id), Some(display_name), Some(email)) => Some(PersonRef {
                            id,
                            display_name,
                            email,
                        }),
                        _ => None,
                    },
                    suggested_reason: r.11,
                    queued_at: r.12,
                })
            })
            .collect()
    }
}

/// An identity a person holds, as deactivation needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldIdentity {
    pub id: Uuid,
    pub name: String,
    pub team: Option<String>,
    pub owner_id: Option<Uuid>,
    pub sponsor_id: Option<Uuid>,
    pub kind: String,
    pub status: String,
}

/// A credential row for bulk loading (demo data, imports).
#[derive(Debug, Clone)]
pub struct NewCredentialRow {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub kind: steward_domain::identity::CredentialKind,
    pub key_id: String,
    pub created_at: DateTime<Utc>,
    pub last_rotated_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub rotation_days: Option<u32>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An entitlement row for bulk loading.
#[derive(Debug, Clone)]
pub struct NewEntitlementRow {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub resource: String,
    pub action: String,
    pub privilege: steward_domain::identity::Privilege,
    pub grant_type: steward_domain::identity::GrantType,
    pub created_at: DateTime<Utc>,
}

/// Rows per multi-row INSERT in bulk loads.
const BULK_ROWS: usize = 1000;

impl Store {
    /// Bulk-loads credentials, entitlements and delegation edges in one transaction
    /// (no audit: for demo data and imports that audit the import as a whole).
    pub async fn insert_access(
        &self,
        credentials: &[NewCredentialRow],
        entitlements: &[NewEntitlementRow],
        delegations: &[(
            Uuid,
            Uuid,
            steward_domain::delegation::DelegationKind,
            DateTime<Utc>,
        )],
    ) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in credentials.chunks(BULK_ROWS) {
                let mut sql = QueryBuilder::<Db>::new(
                    "INSERT INTO credentials (id, identity_id, kind, key_id, created_at, last_rotated_at, \
                     expires_at, last_used_at, rotation_days, revoked_at) ",
                );
                sql.push_values(chunk, |mut row, c| {
                    row.push_bind(c.id)
                        .push_bind(c.identity_id)
                        .push_bind(c.kind.as_str())
                        .push_bind(c.key_id.clone())
                        .push_bind(c.created_at)
                        .push_bind(c.last_rotated_at)
                        .push_bind(c.expires_at)
                        .push_bind(c.last_used_at)
                        .push_bind(c.rotation_days.map(i64::from))
                        .push_bind(c.revoked_at);
                });
                sql.build().execute(&mut *tx).await?;
            }
            for chunk in entitlements.chunks(BULK_ROWS) {
                let mut sql = QueryBuilder::<Db>::new(
                    "INSERT INTO entitlements (id, identity_id, resource, action, privilege, grant_type, created_at) ",
                );
                sql.push_values(chunk, |mut row, e| {
                    row.push_bind(e.id)
                        .push_bind(e.identity_id)
                        .push_bind(e.resource.clone())
                        .push_bind(e.action.clone())
                        .push_bind(e.privilege.as_str())
                        .push_bind(e.grant_type.as_str())
                        .push_bind(e.created_at);
                });
                sql.build().execute(&mut *tx).await?;
            }
            for chunk in delegations.chunks(BULK_ROWS) {
                let mut sql = QueryBuilder::<Db>::new(
                    "INSERT INTO delegations (from_id, to_id, kind, created_at) ",
                );
                sql.push_values(chunk, |mut row, (from, to, kind, at)| {
                    row.push_bind(*from)
                        .push_bind(*to)
                        .push_bind(kind.as_str())
                        .push_bind(*at);
                });
                sql.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}

impl Store {
    /// Records teams that are not known yet.
    pub async fn ensure_teams(&self, teams: &[&str], now: DateTime<Utc>) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            for team in teams {
                sqlx::query("INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(*team)
                    .bind(now)
                    .execute(pool)
                    .await?;
            }
        });
        Ok(())
    }
}
