//! Reads an import needs to compare a file with the register: the identities it names
//! (by source and external id), their credentials and delegations, and the identities
//! of a source and environment that a full import may no longer list.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{db_run, Store, StoreError};

pub mod writes;

/// Keys per `IN (…)` list: well inside both databases' bind limits.
pub const LOOKUP_CHUNK: usize = 500;

/// What an import compares of an identity it finds in the register.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportTarget {
    pub id: Uuid,
    pub external_id: String,
    pub name: String,
    pub kind: String,
    pub environment: String,
    pub status: String,
    pub team: Option<String>,
    pub purpose: Option<String>,
    pub spiffe_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub not_seen_since: Option<DateTime<Utc>>,
}

/// A credential as an import compares it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportCredential {
    pub identity_id: Uuid,
    pub key_id: String,
    pub kind: String,
    pub last_rotated_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The rows of a query ending in `… IN (` for every key in `keys`, asked in chunks of
/// [`LOOKUP_CHUNK`] keys, as `$row`s. `$head` writes the query up to the list into `$sql`.
macro_rules! select_in_chunks {
    ($store:expr, $keys:expr, $row:ty, |$sql:ident| $head:expr) => {{
        let mut found = Vec::new();
        for chunk in $keys.chunks(LOOKUP_CHUNK) {
            let rows: Vec<$row> = db_run!($store, reader, |pool| {
                let mut $sql = QueryBuilder::<Db>::new("");
                $head;
                let mut list = $sql.separated(", ");
                for key in chunk {
                    list.push_bind(key.clone());
                }
                $sql.push(")");
                $sql.build_query_as().fetch_all(pool).await?
            });
            found.extend(rows);
        }
        found
    }};
}

impl Store {
    /// The identities of `source` with these external ids.
    pub async fn import_targets(
        &self,
        source: &str,
        external_ids: &[String],
    ) -> Result<Vec<ImportTarget>, StoreError> {
        Ok(select_in_chunks!(self, external_ids, ImportTarget, |sql| {
            sql.push(
                "SELECT id, external_id, name, kind, environment, status, team, purpose, \
                 spiffe_id, expires_at, last_used_at, not_seen_since \
                 FROM identities WHERE source = ",
            )
            .push_bind(source)
            .push(" AND external_id IN (")
        }))
    }

    /// Machine identities (of any source) with one of these external ids: the targets
    /// of the *acts as* edges an import names.
    pub async fn machine_ids_by_external_id(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<(String, Uuid)>, StoreError> {
        Ok(select_in_chunks!(
            self,
            external_ids,
            (String, Uuid),
            |sql| sql.push(
                "SELECT external_id, id FROM identities \
             WHERE actor_class = 'machine' AND external_id IN ("
            )
        ))
    }

    /// The credentials of these identities.
    pub async fn credentials_of_many(
        &self,
        identity_ids: &[Uuid],
    ) -> Result<Vec<ImportCredential>, StoreError> {
        Ok(select_in_chunks!(
            self,
            identity_ids,
            ImportCredential,
            |sql| sql.push(
                "SELECT identity_id, key_id, kind, last_rotated_at, expires_at, last_used_at, \
             revoked_at FROM credentials WHERE identity_id IN ("
            )
        ))
    }

    /// The signals recorded on these identities: (identity, signal, detail).
    pub async fn signals_of_many(
        &self,
        identity_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, String, String)>, StoreError> {
        Ok(select_in_chunks!(
            self,
            identity_ids,
            (Uuid, String, String),
            |sql| sql.push(
                "SELECT identity_id, signal, detail FROM identity_signals WHERE identity_id IN ("
            )
        ))
    }

    /// The delegation edges starting at these identities.
    pub async fn delegations_from_many(
        &self,
        identity_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        Ok(select_in_chunks!(self, identity_ids, (Uuid, Uuid), |sql| {
            sql.push("SELECT from_id, to_id FROM delegations WHERE from_id IN (")
        }))
    }

    /// The identities of a source and environment that are still taken as present (not
    /// marked not seen, not retired): what a full import compares its file with.
    pub async fn import_scope(
        &self,
        source: &str,
        environment: &str,
    ) -> Result<Vec<(Uuid, Option<String>, String)>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT id, external_id, name FROM identities \
                 WHERE source = $1 AND environment = $2 AND not_seen_since IS NULL \
                 AND status <> 'retired'",
            )
            .bind(source)
            .bind(environment)
            .fetch_all(pool)
            .await?
        }))
    }
}
