//! The decision log: decisions queued as they are answered and written in batches by
//! a background task, which also notes when identities were last used.

use std::sync::Mutex;

use chrono::Utc;
use steward_domain::authz::DecisionRecord;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::AuthzService;
use crate::services::lock;
use crate::store::Store;

/// How long the decision log writer waits for more decisions before writing, and the
/// most it writes in one transaction.
const LOG_LINGER: std::time::Duration = std::time::Duration::from_millis(20);
const LOG_BATCH: usize = 5000;

/// Decisions waiting to be written, and the task writing them in batches.
pub(super) struct DecisionLog {
    pub(super) sender: Mutex<Option<mpsc::UnboundedSender<DecisionRecord>>>,
    pub(super) task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl AuthzService {
    /// Decisions answered since the start (each queued for the log).
    pub fn answered(&self) -> u64 {
        self.answered.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Queues a decision for the log (written in batches by a background task).
    pub(super) fn log(&self, record: DecisionRecord) {
        self.answered
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut sender = lock(&self.log.sender);
        let live = match sender.as_ref() {
            Some(s) if !s.is_closed() => s.clone(),
            _ => {
                let (tx, rx) = mpsc::unbounded_channel();
                let task = tokio::spawn(write_decisions(self.store.clone(), rx));
                *lock(&self.log.task) = Some(task);
                *sender = Some(tx.clone());
                tx
            }
        };
        if live.send(record).is_err() {
            tracing::error!("the decision log is closed; a decision was not logged");
        }
    }

    /// Writes every queued decision and stops the log writer (graceful shutdown).
    pub async fn flush(&self) {
        let sender = lock(&self.log.sender).take();
        drop(sender);
        let task = lock(&self.log.task).take();
        if let Some(task) = task {
            if let Err(error) = task.await {
                tracing::error!(%error, "the decision log writer failed");
            }
        }
    }
}

async fn write_decisions(store: Store, mut queue: mpsc::UnboundedReceiver<DecisionRecord>) {
    // When each identity's "last used" was last written: at most once a minute each,
    // so an agent deciding all day costs one small write a minute, off the request path.
    let mut touched: std::collections::HashMap<Uuid, chrono::DateTime<Utc>> =
        std::collections::HashMap::new();
    while let Some(first) = queue.recv().await {
        // Under load, waiting a moment gathers many decisions into one transaction
        // instead of many small ones competing with the requests for the database.
        if queue.is_empty() {
            tokio::time::sleep(LOG_LINGER).await;
        }
        let mut batch = vec![first];
        while batch.len() < LOG_BATCH {
            match queue.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        // A failed write is retried a few times; the decisions were already answered.
        let mut attempt = 0;
        while let Err(error) = store.insert_decisions(&batch).await {
            attempt += 1;
            tracing::error!(%error, attempt, "writing the decision log failed");
            if attempt == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
        }
        let used = used_since(&mut touched, &batch);
        if !used.is_empty() {
            if let Err(error) = store.touch_identities(&used).await {
                tracing::warn!(%error, "noting when identities were last used failed");
            }
        }
        if touched.len() > 100_000 {
            touched.clear();
        }
    }
}

/// The identities that acted in `batch` whose "last used" was not written in the last
/// minute, with when they last acted; `touched` remembers the writes.
fn used_since(
    touched: &mut std::collections::HashMap<Uuid, chrono::DateTime<Utc>>,
    batch: &[DecisionRecord],
) -> Vec<(Uuid, chrono::DateTime<Utc>)> {
    let mut latest: std::collections::HashMap<Uuid, chrono::DateTime<Utc>> =
        std::collections::HashMap::new();
    for decision in batch {
        let at = latest.entry(decision.identity_id).or_insert(decision.at);
        *at = (*at).max(decision.at);
    }
    let mut used: Vec<(Uuid, chrono::DateTime<Utc>)> = latest
        .into_iter()
        .filter(|(id, at)| {
            touched
                .get(id)
                .is_none_or(|written| *at - *written >= chrono::Duration::minutes(1))
        })
        .collect();
    used.sort();
    for (id, at) in &used {
        touched.insert(*id, *at);
    }
    used
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn last_used_is_written_at_most_once_a_minute_per_identity() {
        let t0 = Utc::now();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let decision = |identity_id, seconds| DecisionRecord {
            id: Uuid::new_v4(),
            at: t0 + chrono::Duration::seconds(seconds),
            identity_id,
            action: "call_tool".into(),
            resource: "Tool::\"x\"".into(),
            decision: steward_domain::authz::Decision::Allow,
            reasons: vec![],
            diagnostics: vec![],
            session_id: None,
            task: String::new(),
            environment: String::new(),
            delegation_chain: vec![],
            credential: String::new(),
            drift: None,
            would_deny: None,
        };
        let mut touched = std::collections::HashMap::new();
        let first = used_since(
            &mut touched,
            &[decision(a, 0), decision(a, 5), decision(b, 1)],
        );
        assert_eq!(
            first,
            vec![
                (a, t0 + chrono::Duration::seconds(5)),
                (b, t0 + chrono::Duration::seconds(1))
            ]
        );
        assert!(used_since(&mut touched, &[decision(a, 30)]).is_empty());
        assert_eq!(used_since(&mut touched, &[decision(a, 70)]).len(), 1);
    }
}
