//! The expiry worker: ends grants whose time ran out, in batches.

use chrono::{DateTime, Utc};
use steward_domain::DomainError;

use super::{GrantService, EXPIRY_BATCH};

impl GrantService {
    /// Expires every grant whose time ran out by `now`, in batches; returns how many.
    pub async fn expire_due(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        let mut expired = 0;
        loop {
            let batch = self.store.expire_grants(now, EXPIRY_BATCH).await?;
            expired += batch.len() as u64;
            if (batch.len() as i64) < EXPIRY_BATCH {
                break;
            }
        }
        Ok(expired)
    }
}
