//! The statements that queue, claim and settle webhook deliveries and that put
//! messages in people's in-app notifications.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::write::Statement;

/// Queues the delivery `id` of `body` (an `event`, in `format`) to `url`, due at once.
pub fn queue_delivery(
    id: Uuid,
    event: &str,
    url: &str,
    format: &str,
    body: String,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "INSERT INTO webhook_outbox (id, event, url, format, body, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(id)
    .bind(event)
    .bind(url)
    .bind(format)
    .bind(body)
    .bind(now)
}

/// Claims a delivery for one attempt (the attempt counted, the next one pushed back to
/// `next_attempt_at`), so another replica's sweep does not send it at the same time.
/// Fails when `attempts` is no longer the count (another sweep claimed it).
pub fn claim_delivery(id: Uuid, attempts: i64, next_attempt_at: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = $3 \
         WHERE id = $1 AND attempts = $2 AND delivered_at IS NULL",
    )
    .bind(id)
    .bind(attempts)
    .bind(next_attempt_at)
    .must_touch(1, "claimed by another sweep")
}

/// Records that a delivery arrived.
pub fn mark_delivered(id: Uuid, at: DateTime<Utc>) -> Statement {
    Statement::new("UPDATE webhook_outbox SET delivered_at = $2, last_error = NULL WHERE id = $1")
        .bind(id)
        .bind(at)
}

/// Records why a delivery attempt failed.
pub fn record_delivery_error(id: Uuid, error: &str) -> Statement {
    Statement::new("UPDATE webhook_outbox SET last_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
}

/// Puts a message in a person's in-app notifications.
pub fn notification(
    person_id: Uuid,
    identity_id: Option<Uuid>,
    message: &str,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "INSERT INTO notifications (id, person_id, identity_id, message, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(person_id)
    .bind(identity_id)
    .bind(message)
    .bind(now)
}
