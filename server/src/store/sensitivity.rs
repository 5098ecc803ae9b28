//! Registered data sensitivities of datasets, tools and environments: the one writer of
//! `resource_sensitivities`, each change with its audit event in one transaction.

use chrono::{DateTime, Utc};
use steward_domain::audit::NewAuditEvent;
use steward_domain::sensitivity::{RegisteredSensitivity, SensitivityDraft};

use super::audit::AuditTx;
use super::{db_run, Store, StoreError};

#[derive(sqlx::FromRow)]
struct Row {
    scope: String,
    id: String,
    sensitivity: String,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for RegisteredSensitivity {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<Self, StoreError> {
        let corrupt = |e: steward_domain::DomainError| {
            StoreError::Corrupt(format!("sensitivity {}: {e}", row.id))
        };
        Ok(RegisteredSensitivity {
            scope: row.scope.parse().map_err(corrupt)?,
            sensitivity: row.sensitivity.parse().map_err(corrupt)?,
            id: row.id,
            updated_by: row.updated_by,
            updated_at: Some(row.updated_at),
        })
    }
}

impl Store {
    /// Every registered sensitivity, by scope and id.
    pub async fn list_sensitivities(&self) -> Result<Vec<RegisteredSensitivity>, StoreError> {
        let rows: Vec<Row> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT scope, id, sensitivity, updated_by, updated_at FROM resource_sensitivities \
                 ORDER BY scope, id",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(RegisteredSensitivity::try_from)
            .collect()
    }

    /// Registers (or changes) a sensitivity, with its audit event.
    pub async fn set_sensitivity(
        &self,
        draft: &SensitivityDraft,
        actor: &str,
        now: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        self.import_sensitivities(std::slice::from_ref(draft), actor, now, audit)
            .await
    }

    /// Registers (or changes) every entry of an imported file, with one audit event, in
    /// one transaction: all or nothing.
    pub async fn import_sensitivities(
        &self,
        drafts: &[SensitivityDraft],
        actor: &str,
        now: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            for draft in drafts {
                sqlx::query(
                    "INSERT INTO resource_sensitivities (scope, id, sensitivity, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, id) DO UPDATE SET \
                     sensitivity = excluded.sensitivity, updated_by = excluded.updated_by, \
                     updated_at = excluded.updated_at",
                )
                    .bind(draft.scope.as_str())
                    .bind(&draft.id)
                    .bind(draft.sensitivity.as_str())
                    .bind(actor)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.append_audit(audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Removes a registered sensitivity, with its audit event; false if there was none.
    pub async fn delete_sensitivity(
        &self,
        scope: &str,
        id: &str,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            let gone =
                sqlx::query("DELETE FROM resource_sensitivities WHERE scope = $1 AND id = $2")
                    .bind(scope)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if gone == 0 {
                return Ok(false);
            }
            tx.append_audit(audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
