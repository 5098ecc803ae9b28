//! Registered data sensitivities of datasets, tools and environments, read; the
//! statements that change them are in [`authz::writes`](crate::store::authz::writes).

use chrono::{DateTime, Utc};
use steward_domain::audit::NewAuditEvent;
use steward_domain::sensitivity::{RegisteredSensitivity, SensitivityDraft};

use crate::store::authz::writes::upsert_sensitivities;
use crate::store::write::WriteError;
use crate::store::{db_run, Store, StoreError};

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

    /// Registers (or changes) a sensitivity, with its audit event (benchmark set-up;
    /// the service writes through [`Store::write`] itself).
    pub async fn set_sensitivity(
        &self,
        draft: &SensitivityDraft,
        actor: &str,
        now: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        let statements = upsert_sensitivities(std::slice::from_ref(draft), actor, now);
        // An upsert demands no row count and meets no duplicate.
        self.write(&statements, |_| vec![audit.clone()])
            .await
            .map(|_| ())
            .map_err(WriteError::into_store_error)
    }
}
