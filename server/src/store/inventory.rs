//! Identities in the store: keyset-paginated listing and batched inserts.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use steward_domain::inventory::{
    page_from_overfetch, IdentityKind, IdentityQuery, IdentityStatus, IdentitySummary, Page,
    PersonRef, Source,
};
use uuid::Uuid;

use super::{db_run, Dialect, Store, StoreError};

/// A new identity as written to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIdentity {
    pub id: Uuid,
    pub name: String,
    pub kind: IdentityKind,
    pub source: Source,
    pub external_id: Option<String>,
    pub environment: String,
    pub status: IdentityStatus,
    pub owner_id: Option<Uuid>,
    pub team: Option<String>,
    pub purpose: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct IdentityRow {
    id: Uuid,
    name: String,
    actor_class: String,
    kind: String,
    source: String,
    external_id: Option<String>,
    environment: String,
    status: String,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    owner_id: Option<Uuid>,
    owner_name: Option<String>,
    owner_email: Option<String>,
}

impl TryFrom<IdentityRow> for IdentitySummary {
    type Error = StoreError;

    fn try_from(row: IdentityRow) -> Result<Self, StoreError> {
        let corrupt = |e: steward_domain::DomainError| {
            StoreError::Corrupt(format!("identity {}: {e}", row.id))
        };
        let owner = match (row.owner_id, row.owner_name, row.owner_email) {
            (Some(id), Some(display_name), Some(email)) => Some(PersonRef {
                id,
                display_name,
                email,
            }),
            _ => None,
        };
        Ok(IdentitySummary {
            id: row.id,
            actor_class: row.actor_class.parse().map_err(corrupt)?,
            kind: row.kind.parse().map_err(corrupt)?,
            source: row.source.parse().map_err(corrupt)?,
            status: row.status.parse().map_err(corrupt)?,
            name: row.name,
            external_id: row.external_id,
            environment: row.environment,
            owner,
            expires_at: row.expires_at,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        })
    }
}

const SELECT_SUMMARY: &str =
    "SELECT i.id, i.name, i.actor_class, i.kind, i.source, i.external_id, \
     i.environment, i.status, i.expires_at, i.created_at, i.last_used_at, \
     p.id AS owner_id, p.display_name AS owner_name, p.email AS owner_email \
     FROM identities i LEFT JOIN people p ON p.id = i.owner_id WHERE 1 = 1";

/// Escapes `%`, `_` and `\` so user text matches literally inside a LIKE pattern.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Rows per multi-row INSERT: well inside SQLite's and PostgreSQL's bind limits.
const INSERT_BATCH: usize = 1000;

impl Store {
    pub async fn list_identities(
        &self,
        query: &IdentityQuery,
    ) -> Result<Page<IdentitySummary>, StoreError> {
        self.list_identities_at(query, Utc::now()).await
    }

    /// Lists identities, judging expiry and staleness against `now`.
    pub async fn list_identities_at(
        &self,
        query: &IdentityQuery,
        now: DateTime<Utc>,
    ) -> Result<Page<IdentitySummary>, StoreError> {
        let rows: Vec<IdentityRow> = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(SELECT_SUMMARY);
            if let Some(class) = query.actor_class {
                sql.push(" AND i.actor_class = ").push_bind(class.as_str());
            }
            if let Some(kind) = query.kind {
                sql.push(" AND i.kind = ").push_bind(kind.as_str());
            }
            if let Some(source) = query.source {
                sql.push(" AND i.source = ").push_bind(source.as_str());
            }
            if let Some(environment) = &query.environment {
                sql.push(" AND i.environment = ")
                    .push_bind(environment.clone());
            }
            if let Some(status) = query.status {
                sql.push(" AND i.status = ").push_bind(status.as_str());
            }
            if let Some(owner) = &query.owner {
                sql.push(" AND p.email = ").push_bind(owner.clone());
            }
            if query.orphaned {
                // Nobody answers for it: no owner, or an owner who has left.
                sql.push(" AND (i.owner_id IS NULL OR p.active = FALSE)");
            }
            if query.expired {
                sql.push(" AND i.expires_at <= ").push_bind(now);
            }
            if let Some(days) = query.expiring_days {
                sql.push(" AND i.expires_at > ")
                    .push_bind(now)
                    .push(" AND i.expires_at <= ")
                    .push_bind(now + chrono::Duration::days(i64::from(days)));
            }
            if let Some(days) = query.stale_days {
                sql.push(" AND (i.last_used_at IS NULL OR i.last_used_at < ")
                    .push_bind(now - chrono::Duration::days(i64::from(days)))
                    .push(")");
            }
            if let Some(search) = &query.search {
                // SQLite's LIKE ignores ASCII case; PostgreSQL needs ILIKE.
                let like = match DIALECT {
                    Dialect::Sqlite => " LIKE ",
                    Dialect::Postgres => " ILIKE ",
                };
                let pattern = like_pattern(search);
                sql.push(" AND (i.name")
                    .push(like)
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' OR i.external_id")
                    .push(like)
                    .push_bind(pattern)
                    .push(" ESCAPE '\\')");
            }
            if let Some(cursor) = &query.cursor {
                sql.push(" AND (i.name, i.id) > (")
                    .push_bind(cursor.after_name.clone())
                    .push(", ")
                    .push_bind(cursor.after_id)
                    .push(")");
            }
            sql.push(" ORDER BY i.name, i.id LIMIT ")
                .push_bind(i64::from(query.limit) + 1);
            sql.build_query_as().fetch_all(pool).await?
        });
        let items = rows
            .into_iter()
            .map(IdentitySummary::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_from_overfetch(items, query.limit))
    }

    pub async fn count_identities(&self) -> Result<i64, StoreError> {
        let count: i64 = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM identities")
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }

    /// Inserts identities in multi-row statements inside one transaction: all of them
    /// or none.
    pub async fn insert_identities(&self, identities: &[NewIdentity]) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in identities.chunks(INSERT_BATCH) {
                let mut sql = QueryBuilder::<Db>::new(
                    "INSERT INTO identities (id, name, actor_class, kind, source, external_id, \
                     environment, status, owner_id, team, purpose, expires_at, created_at, last_used_at) ",
                );
                sql.push_values(chunk, |mut row, identity| {
                    row.push_bind(identity.id)
                        .push_bind(identity.name.clone())
                        .push_bind(identity.kind.actor_class().as_str())
                        .push_bind(identity.kind.as_str())
                        .push_bind(identity.source.as_str())
                        .push_bind(identity.external_id.clone())
                        .push_bind(identity.environment.clone())
                        .push_bind(identity.status.as_str())
                        .push_bind(identity.owner_id)
                        .push_bind(identity.team.clone())
                        .push_bind(identity.purpose.clone())
                        .push_bind(identity.expires_at)
                        .push_bind(identity.created_at)
                        .push_bind(identity.last_used_at);
                });
                sql.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_match_text_literally() {
        assert_eq!(like_pattern("ci"), "%ci%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
