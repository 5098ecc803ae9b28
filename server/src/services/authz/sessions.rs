//! Agent sessions: call-number leases taken from the database, and the maintenance
//! task that forgets idle sessions.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use steward_domain::DomainError;
use uuid::Uuid;

use super::AuthzService;
use crate::services::lock;

/// Call numbers of one session this replica has taken and not yet handed out.
pub(super) struct Lease {
    started_at: DateTime<Utc>,
    next: i64,
    last: i64,
    size: i64,
    used: std::time::Instant,
}

/// The most call numbers taken at once.
const MAX_LEASE: i64 = 64;
/// Sessions idle this long are forgotten (their unused numbers are lost).
const SESSION_IDLE: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// How many numbers to take next: doubling while the session is busy, but at most a
/// quarter of what its limit leaves, so replicas strand few numbers near the limit.
fn lease_size(previous: Option<&Lease>, max_calls: Option<u32>) -> i64 {
    let grown = previous.map_or(1, |lease| (lease.size * 2).min(MAX_LEASE));
    match max_calls {
        Some(max) => {
            let left = i64::from(max) - previous.map_or(0, |lease| lease.last);
            grown.min((left / 4).max(1))
        }
        None => grown,
    }
}

pub(super) type SessionSlot = Arc<tokio::sync::Mutex<Option<Lease>>>;

impl AuthzService {
    /// Takes the next call number of a session: (when it started, this call's number).
    pub(super) async fn session_call(
        &self,
        identity: Uuid,
        session: &str,
        max_calls: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, i64), DomainError> {
        let slot = lock(&self.sessions)
            .entry((identity, session.to_owned()))
            .or_default()
            .clone();
        let mut lease = slot.lock().await;
        if let Some(held) = lease.as_mut() {
            held.used = std::time::Instant::now();
            if held.next <= held.last {
                held.next += 1;
                return Ok((held.started_at, held.next - 1));
            }
            if max_calls.is_some_and(|max| held.last >= i64::from(max)) {
                // Past the limit: every further call is denied, no number is needed.
                return Ok((held.started_at, held.last + 1));
            }
        }
        let size = lease_size(lease.as_ref(), max_calls);
        let (started_at, last) = self
            .store
            .lease_session_calls(identity, session, now, size)
            .await?;
        let first = last - size + 1;
        *lease = Some(Lease {
            started_at,
            next: first + 1,
            last,
            size,
            used: std::time::Instant::now(),
        });
        Ok((started_at, first))
    }

    /// Forgets sessions idle for [`SESSION_IDLE`].
    fn forget_idle_sessions(&self) -> usize {
        let mut sessions = lock(&self.sessions);
        let before = sessions.len();
        sessions.retain(|_, slot| match slot.try_lock() {
            Ok(lease) => lease
                .as_ref()
                .is_some_and(|lease| lease.used.elapsed() < SESSION_IDLE),
            Err(_) => true,
        });
        before - sessions.len()
    }

    /// Upkeep (the workers run it every 10 minutes): prunes the change feed and
    /// forgets idle sessions; returns how many sessions it forgot.
    pub async fn upkeep(&self) -> usize {
        self.feed.prune().await;
        self.forget_idle_sessions()
    }
}
