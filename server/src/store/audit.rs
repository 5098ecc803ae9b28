//! The audit trail in the store: appended inside the transaction of the change it
//! records (so a change without its audit event, or the reverse, cannot exist), read
//! with filters, and re-verified in order.

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::QueryBuilder;
use steward_domain::audit::{
    event_hash, AuditEvent, ChainReport, ChainVerifier, NewAuditEvent, GENESIS_HASH,
};

use super::{db_run, Dialect, Store, StoreError};

/// The audit events one request appended: the browser's toast after a change links to
/// them. A request served inside [`receipt::collect`] notes the first and last event
/// number it appended; anything else (background jobs, the CLI) notes nothing.
pub mod receipt {
    use std::cell::Cell;

    tokio::task_local! {
        static APPENDED: Cell<Option<(i64, i64)>>;
    }

    /// Runs `work`, returning its output and the range of event numbers it appended.
    pub async fn collect<F: std::future::Future>(work: F) -> (F::Output, Option<(i64, i64)>) {
        APPENDED
            .scope(Cell::new(None), async move {
                let output = work.await;
                (output, APPENDED.with(Cell::get))
            })
            .await
    }

    pub(super) fn note(first: i64, last: i64) {
        let _ = APPENDED.try_with(|range| {
            range.set(Some(match range.get() {
                Some((earlier, _)) => (earlier.min(first), last),
                None => (first, last),
            }))
        });
    }
}

/// Appending to the audit trail from inside a transaction of either database.
pub trait AuditTx {
    fn append_audit(
        &mut self,
        event: &NewAuditEvent,
    ) -> impl std::future::Future<Output = Result<AuditEvent, StoreError>> + Send;

    /// Appends several events in order (one chain read, multi-row inserts).
    fn append_audit_many(
        &mut self,
        events: &[NewAuditEvent],
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

macro_rules! impl_audit_tx {
    ($db:ty, $dialect:expr) => {
        impl AuditTx for sqlx::Transaction<'_, $db> {
            async fn append_audit(&mut self, event: &NewAuditEvent) -> Result<AuditEvent, StoreError> {
                if $dialect == Dialect::Postgres {
                    // Serialises appends across replicas until this transaction ends.
                    sqlx::query("SELECT pg_advisory_xact_lock(7405)")
                        .execute(&mut **self)
                        .await?;
                }
                let last: Option<(i64, String)> =
                    sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                        .fetch_optional(&mut **self)
                        .await?;
                let (seq, prev_hash) = match last {
                    Some((seq, hash)) => (seq + 1, hash),
                    None => (1, GENESIS_HASH.to_owned()),
                };
                // Microseconds: what both databases store exactly, so the hash re-computes.
                let at = Utc::now().trunc_subsecs(6);
                let hash = event_hash(
                    seq,
                    at,
                    &event.actor,
                    &event.action,
                    &event.target,
                    &event.details,
                    &prev_hash,
                );
                sqlx::query(
                    "INSERT INTO audit_events (seq, at, actor, action, target, details, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(seq)
                .bind(at)
                .bind(&event.actor)
                .bind(&event.action)
                .bind(&event.target)
                .bind(event.details.to_string())
                .bind(&prev_hash)
                .bind(&hash)
                .execute(&mut **self)
                .await?;
                receipt::note(seq, seq);
                Ok(AuditEvent {
                    seq,
                    at,
                    actor: event.actor.clone(),
                    action: event.action.clone(),
                    target: event.target.clone(),
                    details: event.details.clone(),
                    prev_hash,
                    hash,
                })
            }

            async fn append_audit_many(&mut self, events: &[NewAuditEvent]) -> Result<(), StoreError> {
                let Some((first, rest)) = events.split_first() else {
                    return Ok(());
                };
                let head = self.append_audit(first).await?;
                let (mut seq, mut prev_hash, at) = (head.seq, head.hash, head.at);
                for chunk in rest.chunks(500) {
                    let mut rows = Vec::with_capacity(chunk.len());
                    for event in chunk {
                        seq += 1;
                        let hash = event_hash(
                            seq,
                            at,
                            &event.actor,
                            &event.action,
                            &event.target,
                            &event.details,
                            &prev_hash,
                        );
                        rows.push((seq, event, std::mem::replace(&mut prev_hash, hash.clone()), hash));
                    }
                    let mut sql = QueryBuilder::<$db>::new(
                        "INSERT INTO audit_events (seq, at, actor, action, target, details, prev_hash, hash) ",
                    );
                    sql.push_values(rows, |mut row, (seq, event, prev, hash)| {
                        row.push_bind(seq)
                            .push_bind(at)
                            .push_bind(event.actor.clone())
                            .push_bind(event.action.clone())
                            .push_bind(event.target.clone())
                            .push_bind(event.details.to_string())
                            .push_bind(prev)
                            .push_bind(hash);
                    });
                    sql.build().execute(&mut **self).await?;
                }
                receipt::note(head.seq, seq);
                Ok(())
            }
        }
    };
}
impl_audit_tx!(sqlx::Sqlite, Dialect::Sqlite);
impl_audit_tx!(sqlx::Postgres, Dialect::Postgres);

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    target: String,
    details: String,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    fn into_event(self) -> AuditEvent {
        // A details column that is not JSON is kept as a string, so the hash check
        // reports the event as altered instead of the read failing.
        let details =
            serde_json::from_str(&self.details).unwrap_or(serde_json::Value::String(self.details));
        AuditEvent {
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            target: self.target,
            details,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

/// Filters of the audit listing; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only events with a lower sequence number (keyset pagination, newest first).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

const SELECT_AUDIT: &str =
    "SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_events";

impl Store {
    /// Appends one event in its own transaction (for facts that change nothing else,
    /// such as a failed sign-in).
    pub async fn append_audit(&self, event: &NewAuditEvent) -> Result<AuditEvent, StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            let stored = tx.append_audit(event).await?;
            tx.commit().await?;
            Ok(stored)
        })
    }

    /// Events matching `filter`, newest first.
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let rows: Vec<AuditRow> = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(SELECT_AUDIT);
            sql.push(" WHERE 1 = 1");
            if let Some(actor) = &filter.actor {
                sql.push(" AND actor = ").push_bind(actor.clone());
            }
            if let Some(action) = &filter.action {
                sql.push(" AND action = ").push_bind(action.clone());
            }
            if let Some(target) = &filter.target {
                sql.push(" AND target = ").push_bind(target.clone());
            }
            if let Some(since) = filter.since {
                sql.push(" AND at >= ").push_bind(since);
            }
            if let Some(until) = filter.until {
                sql.push(" AND at < ").push_bind(until);
            }
            if let Some(before) = filter.before_seq {
                sql.push(" AND seq < ").push_bind(before);
            }
            sql.push(" ORDER BY seq DESC LIMIT ")
                .push_bind(i64::from(filter.limit.max(1)));
            sql.build_query_as().fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(AuditRow::into_event).collect())
    }

    /// The event with sequence number `seq`, if the trail has it.
    pub async fn audit_event(&self, seq: i64) -> Result<Option<AuditEvent>, StoreError> {
        let row: Option<AuditRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{SELECT_AUDIT} WHERE seq = $1"))
                .bind(seq)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(AuditRow::into_event))
    }

    /// The newest event, if any.
    pub async fn audit_head(&self) -> Result<Option<AuditEvent>, StoreError> {
        let row: Option<AuditRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{SELECT_AUDIT} ORDER BY seq DESC LIMIT 1"))
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(AuditRow::into_event))
    }

    /// Re-checks the whole chain in order, in batches, naming the first broken event.
    pub async fn verify_audit(&self) -> Result<ChainReport, StoreError> {
        const BATCH: i64 = 5000;
        let mut verifier = ChainVerifier::default();
        let mut after = 0i64;
        loop {
            let rows: Vec<AuditRow> = db_run!(self, reader, |pool| {
                sqlx::query_as(&format!(
                    "{SELECT_AUDIT} WHERE seq > $1 ORDER BY seq LIMIT $2"
                ))
                .bind(after)
                .bind(BATCH)
                .fetch_all(pool)
                .await?
            });
            let done = (rows.len() as i64) < BATCH;
            for row in rows {
                after = row.seq;
                if !verifier.check(&row.into_event()) {
                    return Ok(verifier.finish());
                }
            }
            if done {
                return Ok(verifier.finish());
            }
        }
    }
}
