//! Ownership in the store: people, assignments of owners and sponsors, the inbox and
//! the orphan queue (reads here); the changes — assigning, the assignee's answer,
//! deactivating people who left — are named statements in [`writes`]. One identity in
//! full is read in [`inventory::detail`](crate::store::inventory::detail), bulk loads
//! are in [`inventory::bulk`](crate::store::inventory::bulk).

pub mod people;
pub mod writes;

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use steward_domain::inventory::PersonRef;
use steward_domain::ownership::{Assignment, IdentityRef, Notification, OrphanEntry, PersonInfo};
use uuid::Uuid;

use crate::store::{corrupt, db_run, Dialect, Store, StoreError};

pub use crate::store::inventory::bulk::{NewCredentialRow, NewEntitlementRow};
pub use crate::store::inventory::detail::{IdentityExtra, DELEGATION_DEPTH, DELEGATION_NODES};

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
            .bind(crate::store::inventory::like_pattern(search))
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
