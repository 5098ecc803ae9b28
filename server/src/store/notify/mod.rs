//! Telling people, in the store: the webhook outbox (deliveries written in the
//! transaction of what they report, then claimed and sent by the delivery sweep) and
//! in-app notifications.

pub mod writes;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{db_run, Store, StoreError};

/// A queued webhook delivery.
#[derive(sqlx::FromRow)]
pub struct Delivery {
    pub id: Uuid,
    pub event: String,
    pub url: String,
    pub body: String,
    pub attempts: i64,
}

impl Store {
    /// Up to `limit` undelivered deliveries, oldest first, with fewer than
    /// `max_attempts` attempts and due by `now`.
    pub async fn due_deliveries(
        &self,
        max_attempts: i64,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT id, event, url, body, attempts FROM webhook_outbox \
                 WHERE delivered_at IS NULL AND attempts < $1 AND next_attempt_at <= $2 \
                 ORDER BY created_at LIMIT $3",
            )
            .bind(max_attempts)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }
}
