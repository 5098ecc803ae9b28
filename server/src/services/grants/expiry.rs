//! The expiry worker: ends grants whose time ran out, in batches.

use std::sync::Arc;

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

    /// Runs the expiry worker every `interval`, for as long as the server runs.
    pub fn spawn_expiry(
        self: &Arc<Self>,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match service.expire_due(Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(expired = n, "grants expired"),
                    Err(error) => tracing::error!(%error, "grant expiry failed"),
                }
            }
        })
    }
}
