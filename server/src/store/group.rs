//! Group commit: small register changes made at the same moment share one transaction.
//!
//! Every change holds the register's write lock (one SQLite writer; an advisory lock on
//! PostgreSQL) and the audit trail's hash chain from its first statement to its commit,
//! so changes are applied one after another, each paying a whole commit. Under load
//! (many grant requests at once) that serial commit, not the work, limits the rate.
//! Here a writer task takes every change waiting in its queue, runs them one after
//! another in one transaction, appends their audit events in order and commits once.
//!
//! Each change keeps its own all-or-nothing guarantee. When a change's statement fails
//! (a precondition, a duplicate key) the transaction is rolled back and the batch is run
//! again with each change in its own savepoint: the failing one is undone alone and its
//! caller gets the error, while the others go on. (Savepoints cost round trips, so the
//! first run, which almost always succeeds, goes without them.) A caller is answered only after the commit, so an
//! answered change is durable. When the shared commit itself fails, every change in it
//! gets the error and none is written.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use steward_domain::audit::NewAuditEvent;
use tokio::sync::{mpsc, oneshot};

use super::write::{Statement, WriteError};
use super::{Store, StoreError};

/// Changes per shared transaction at most: bounds how long the locks are held and how
/// long the first caller of a batch waits for the last.
const MAX_BATCH: usize = 256;

/// One caller's change.
struct Job {
    statements: Vec<Statement>,
    events: Vec<NewAuditEvent>,
    reply: oneshot::Sender<Result<Vec<u64>, WriteError>>,
}

/// The queue of a store's writer task, started on first use (in the runtime of the
/// first caller) and started again if that runtime has gone.
#[derive(Default)]
pub struct GroupQueue {
    sender: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    /// Shared transactions run, and changes in them (for tests and tracing).
    stats: Arc<GroupStats>,
}

#[derive(Debug, Default)]
pub struct GroupStats {
    pub transactions: AtomicU64,
    pub changes: AtomicU64,
}

impl std::fmt::Debug for GroupQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupQueue")
    }
}

impl GroupQueue {
    pub fn new() -> Arc<Self> {
        Arc::new(GroupQueue::default())
    }

    /// (shared transactions, changes) so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.stats.transactions.load(Ordering::Relaxed),
            self.stats.changes.load(Ordering::Relaxed),
        )
    }
}

impl Store {
    pub fn group_queue(&self) -> &GroupQueue {
        match self {
            Store::Sqlite(s) => &s.group,
            Store::Postgres(s) => &s.group,
        }
    }

    /// A copy of this store whose writer task is not this one's: the task holds it, and
    /// must not keep its own queue alive.
    fn for_writer_task(&self) -> Store {
        match self {
            Store::Sqlite(s) => {
                let mut s = s.clone();
                s.group = GroupQueue::new();
                Store::Sqlite(s)
            }
            Store::Postgres(s) => {
                let mut s = s.clone();
                s.group = GroupQueue::new();
                Store::Postgres(s)
            }
        }
    }

    /// Runs `statements` and appends `events`, all or nothing, sharing the transaction
    /// with the changes queued at the same moment (see the module). Returns the rows
    /// each statement touched. Same guarantees as [`Store::write`], for changes whose
    /// audit events do not depend on the counts.
    pub async fn write_grouped(
        &self,
        statements: Vec<Statement>,
        events: Vec<NewAuditEvent>,
    ) -> Result<Vec<u64>, WriteError> {
        let (reply, answer) = oneshot::channel();
        {
            let mut job = Job {
                statements,
                events,
                reply,
            };
            let mut sender = self
                .group_queue()
                .sender
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for _ in 0..2 {
                let live = match sender.as_ref() {
                    Some(s) if !s.is_closed() => s.clone(),
                    _ => {
                        let (tx, rx) = mpsc::unbounded_channel();
                        let stats = self.group_queue().stats.clone();
                        tokio::spawn(run_writer(self.for_writer_task(), rx, stats));
                        *sender = Some(tx.clone());
                        tx
                    }
                };
                match live.send(job) {
                    Ok(()) => break,
                    // The task's runtime has gone: start another one in this runtime.
                    Err(mpsc::error::SendError(back)) => {
                        job = back;
                        *sender = None;
                    }
                }
            }
        }
        answer.await.unwrap_or_else(|_| {
            Err(WriteError::Store(StoreError::GroupCommit(
                "the register's writer stopped before answering".into(),
            )))
        })
    }
}

async fn run_writer(store: Store, mut queue: mpsc::UnboundedReceiver<Job>, stats: Arc<GroupStats>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        stats.transactions.fetch_add(1, Ordering::Relaxed);
        stats
            .changes
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        run_batch(&store, batch).await;
    }
}

/// The error every caller of a failed shared transaction gets (the cause is logged once).
fn shared_failure(error: &dyn std::fmt::Display) -> WriteError {
    WriteError::Store(StoreError::GroupCommit(format!(
        "the shared write transaction failed: {error}"
    )))
}

/// How a batch run without savepoints ended.
enum Straight {
    /// Committed; the rows each change's statements touched.
    Committed(Vec<Vec<u64>>),
    /// A change failed; nothing was written (the transaction is rolled back).
    ChangeFailed(usize, WriteError),
    /// The shared transaction failed (opening, the audit append, the commit).
    Shared(WriteError),
}

/// Runs every change of the batch straight, one after another, and commits — the fast
/// path, taken when no change fails (the usual case).
async fn run_straight(store: &Store, batch: &[Job]) -> Straight {
    let mut tx = match store.begin_write().await {
        Ok(tx) => tx,
        Err(error) => return Straight::Shared(error),
    };
    let mut counts = Vec::with_capacity(batch.len());
    for (index, job) in batch.iter().enumerate() {
        match tx.run(&job.statements).await {
            Ok(c) => counts.push(c),
            Err(error) => return Straight::ChangeFailed(index, error),
        }
    }
    let events: Vec<NewAuditEvent> = batch
        .iter()
        .flat_map(|job| job.events.iter().cloned())
        .collect();
    match tx.commit(&events).await {
        Ok(()) => Straight::Committed(counts),
        Err(error) => Straight::Shared(error),
    }
}

async fn run_batch(store: &Store, batch: Vec<Job>) {
    // A caller that stopped waiting (its request was cancelled) gets nothing written,
    // as when its own transaction would have been dropped.
    let mut batch: Vec<Job> = batch.into_iter().filter(|j| !j.reply.is_closed()).collect();
    if batch.is_empty() {
        return;
    }
    match run_straight(store, &batch).await {
        Straight::Committed(counts) => {
            for (job, counts) in batch.into_iter().zip(counts) {
                let _ = job.reply.send(Ok(counts));
            }
        }
        Straight::ChangeFailed(index, error) if batch.len() == 1 => {
            let _ = batch.swap_remove(index).reply.send(Err(error));
        }
        // Which changes can be written is known only by isolating each: run the batch
        // again, each change in its own savepoint.
        Straight::ChangeFailed(..) => run_isolated(store, batch).await,
        Straight::Shared(error) => {
            tracing::error!(%error, "the shared write transaction failed");
            for job in batch {
                let _ = job.reply.send(Err(shared_failure(&error)));
            }
        }
    }
}

/// Runs each change of the batch in its own savepoint: a failing change is undone alone
/// and its caller told; the others are committed together.
async fn run_isolated(store: &Store, batch: Vec<Job>) {
    let mut tx = match store.begin_write().await {
        Ok(tx) => tx,
        Err(error) => {
            tracing::error!(%error, "cannot open the shared write transaction");
            for job in batch {
                let _ = job.reply.send(Err(shared_failure(&error)));
            }
            return;
        }
    };
    let mut written: Vec<(Job, Vec<u64>)> = Vec::with_capacity(batch.len());
    let mut rest = batch.into_iter();
    while let Some(job) = rest.next() {
        let outcome = match tx.savepoint().await {
            Ok(()) => tx.run(&job.statements).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(counts) => match tx.release_savepoint().await {
                Ok(()) => written.push((job, counts)),
                Err(error) => {
                    abandon(error, job, written, rest);
                    return;
                }
            },
            Err(error) => match tx.rollback_to_savepoint().await {
                // This change alone is undone; the others go on.
                Ok(()) => {
                    let _ = job.reply.send(Err(error));
                }
                Err(rollback) => {
                    tracing::error!(%error, "a grouped write failed");
                    abandon(rollback, job, written, rest);
                    return;
                }
            },
        }
    }
    let events: Vec<NewAuditEvent> = written
        .iter()
        .flat_map(|(job, _)| job.events.iter().cloned())
        .collect();
    match tx.commit(&events).await {
        Ok(()) => {
            for (job, counts) in written {
                let _ = job.reply.send(Ok(counts));
            }
        }
        Err(error) => {
            tracing::error!(%error, "the shared write transaction did not commit");
            for (job, _) in written {
                let _ = job.reply.send(Err(shared_failure(&error)));
            }
        }
    }
}

/// The transaction is unusable: every change in it (written so far, the current one and
/// those not yet run) gets the error, and the transaction is rolled back when dropped.
fn abandon(
    error: WriteError,
    current: Job,
    written: Vec<(Job, Vec<u64>)>,
    rest: impl Iterator<Item = Job>,
) {
    tracing::error!(%error, "the shared write transaction failed");
    let jobs = std::iter::once(current)
        .chain(written.into_iter().map(|(job, _)| job))
        .chain(rest);
    for job in jobs {
        let _ = job.reply.send(Err(shared_failure(&error)));
    }
}
