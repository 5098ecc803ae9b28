//! Bulk loads without audit, for demo and test data: identities, their credentials,
//! entitlements and delegation edges, and teams.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{writes, NewIdentity};
use crate::store::write::WriteError;
use crate::store::{db_run, Store, StoreError};

/// Rows per multi-row INSERT: well inside SQLite's and PostgreSQL's bind limits.
const INSERT_BATCH: usize = 1000;

impl Store {
    /// Inserts identities in multi-row statements inside one transaction: all of them
    /// or none (no audit: for bulk loads of demo and test data).
    pub async fn insert_identities(&self, identities: &[NewIdentity]) -> Result<(), StoreError> {
        let loaded: Result<(), WriteError> = async {
            let mut tx = self.begin_write().await?;
            for chunk in identities.chunks(INSERT_BATCH) {
                tx.run(&[writes::insert_identities(chunk)]).await?;
            }
            tx.commit(&[]).await
        }
        .await;
        loaded.map_err(WriteError::into_store_error)
    }
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
        let statements: Vec<_> = teams
            .iter()
            .map(|team| writes::register_team(team, now))
            .collect();
        self.write(&statements, |_| Vec::new())
            .await
            .map(|_| ())
            .map_err(WriteError::into_store_error)
    }
}
