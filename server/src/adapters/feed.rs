//! The change feed that keeps every replica's in-memory caches (decision state, API
//! tokens) current: database triggers append one row per change to `authz_changes`,
//! naming the identity it concerns (or no one: everything is stale), and each request
//! that answers from a cache first catches up with the feed.
//!
//! Three things make this correct and cheap:
//!
//! * **Catching up is shared and bounded.** A request is answered after a read of the
//!   feed that started after every change this process committed before the request,
//!   and at most [`REMOTE_CHANGE_BOUND`] (1 ms) before the request: a change through
//!   this replica holds from the next request, one through another replica for every
//!   request arriving 1 ms after it committed. Concurrent requests share reads, so
//!   under load the feed is read at most about a thousand times a second.
//! * **On PostgreSQL, notifications replace most reads.** Every new feed row sends a
//!   notification (`NOTIFY`, delivered when its transaction commits). While this
//!   process is subscribed and no notification arrived since the last read started,
//!   that read serves requests for up to [`NOTIFIED_BOUND`]: a change through another
//!   replica then holds from the first request after its notification arrives (well
//!   under a millisecond on a healthy connection), and within [`NOTIFIED_BOUND`] even if
//!   the notification is lost with its connection. Without a live subscription the
//!   1 ms bound applies.
//! * **Gaps are waited for.** PostgreSQL hands out sequence numbers when a row is
//!   written, not when its transaction commits, so a change with a lower number can
//!   become visible after one with a higher number. The feed remembers the numbers it
//!   has not seen below the highest it has, reads them again on every catch-up, and
//!   gives one up only after [`GAP_WAIT`] (a rolled-back transaction leaves a number
//!   that never appears).
//! * **Cache entries carry a [`Mark`]:** the feed position they were built at, taken
//!   before their reads. An entry is current while no change naming its identity has
//!   a number above the position (everything at or below it was visible when the entry
//!   was built). An entry built concurrently with a change therefore never outlives it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chrono::Utc;
use uuid::Uuid;

use crate::services::lock;
use crate::store::{Store, StoreError};

/// Rows read per catch-up; a longer backlog starts the caches over.
const BATCH: i64 = 1000;
/// How long a missing sequence number is waited for.
pub const GAP_WAIT: Duration = Duration::from_secs(60);
/// Missing numbers remembered at most (the oldest are given up first).
const MAX_GAPS: usize = 1000;
/// Identities with a remembered change at most, before the caches start over.
const MAX_CHANGED: usize = 100_000;
/// A feed not read for this long starts over: rows it has not read may have been pruned.
pub const IDLE: Duration = Duration::from_secs(10 * 60);
/// How long the feed's rows are kept (well beyond [`IDLE`]).
pub const KEPT: chrono::Duration = chrono::Duration::hours(1);

/// Where the feed stood when a cache entry was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    epoch: u64,
    position: i64,
}

/// What the feed has seen, as a plain state machine (no I/O, unit-tested).
#[derive(Debug, Default)]
pub struct FeedState {
    /// Bumped when everything cached becomes stale.
    epoch: u64,
    /// Whether the feed has been read since it (re)started.
    initialised: bool,
    /// The highest sequence number seen; `None` while the feed has shown no row.
    top: Option<i64>,
    /// Numbers at or below `top` not seen yet, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
    /// The highest number of a change naming each identity.
    changed: HashMap<Uuid, i64>,
    read_at: Option<Instant>,
}

impl FeedState {
    /// Every number at or below this has been seen (or given up).
    fn position(&self) -> i64 {
        let top = self.top.unwrap_or(0);
        self.gaps.keys().next().map_or(top, |gap| gap - 1)
    }

    pub fn mark(&self) -> Mark {
        Mark {
            epoch: self.epoch,
            position: self.position(),
        }
    }

    /// Whether an entry about `identity` built at `mark` is still current.
    pub fn is_current(&self, identity: Uuid, mark: Mark) -> bool {
        mark.epoch == self.epoch
            && self
                .changed
                .get(&identity)
                .is_none_or(|seq| *seq <= mark.position)
    }

    fn everything_stale(&mut self) {
        self.epoch += 1;
        self.changed.clear();
    }

    fn record(&mut self, seq: i64, identity: Option<Uuid>) {
        match identity {
            None => self.everything_stale(),
            Some(id) => {
                let newest = self.changed.entry(id).or_insert(seq);
                *newest = (*newest).max(seq);
                if self.changed.len() > MAX_CHANGED {
                    self.everything_stale();
                }
            }
        }
    }

    /// Whether the feed must start over instead of reading on.
    pub fn needs_reset(&self, now: Instant) -> bool {
        !self.initialised || self.read_at.is_none_or(|at| now - at > IDLE)
    }

    /// The missing numbers to look for again.
    pub fn gaps(&self) -> Vec<i64> {
        self.gaps.keys().copied().collect()
    }

    pub fn top(&self) -> i64 {
        self.top.unwrap_or(0)
    }

    /// Starts over: everything cached is stale. `window` is the tail of the feed, the
    /// rows after `low`; numbers in it that are missing may still commit.
    pub fn reset(&mut self, low: i64, window: &[(i64, Option<Uuid>)], now: Instant) {
        self.everything_stale();
        self.gaps.clear();
        self.read_at = Some(now);
        self.initialised = true;
        let Some(top) = window.last().map(|row| row.0) else {
            // An empty feed: its next row sets the position, with nothing missing.
            self.top = None;
            return;
        };
        let seen: std::collections::HashSet<i64> = window.iter().map(|row| row.0).collect();
        for seq in (low + 1).max(top - MAX_GAPS as i64)..top {
            if !seen.contains(&seq) {
                self.gaps.insert(seq, now);
            }
        }
        self.top = Some(top);
    }

    /// Applies a catch-up: `filled`, rows that were missing and have appeared, and
    /// `newer`, rows above `top` in order. Returns false when `newer` was a full batch
    /// (the backlog is longer; the caller starts over).
    pub fn apply(
        &mut self,
        filled: &[(i64, Option<Uuid>)],
        newer: &[(i64, Option<Uuid>)],
        now: Instant,
    ) -> bool {
        self.read_at = Some(now);
        for (seq, identity) in filled {
            if self.gaps.remove(seq).is_some() {
                self.record(*seq, *identity);
            }
        }
        for (seq, identity) in newer {
            let top = self.top.unwrap_or(seq - 1);
            if *seq <= top {
                continue;
            }
            for missing in (top + 1).max(seq - MAX_GAPS as i64)..*seq {
                self.gaps.insert(missing, now);
            }
            self.record(*seq, *identity);
            self.top = Some(*seq);
        }
        self.gaps.retain(|_, noticed| now - *noticed < GAP_WAIT);
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
        newer.len() < BATCH as usize
    }
}

/// The feed, shared by the caches of one process.
pub struct ChangeFeed {
    store: Store,
    /// One read of the feed at a time.
    gate: tokio::sync::Mutex<()>,
    /// Reads started, and the number of the newest finished one.
    started: AtomicU64,
    finished: AtomicU64,
    state: Mutex<FeedState>,
    /// The newest finished read.
    last_read: Mutex<Option<ReadStart>>,
    /// Notifications of new rows (PostgreSQL only; see [`listen`]).
    notices: Arc<Notices>,
    /// Whether the subscription has been started (it starts with the first catch-up).
    listening: AtomicBool,
}

/// What was known when a read of the feed started.
#[derive(Debug, Clone, Copy)]
struct ReadStart {
    at: Instant,
    /// This process's commit count.
    commits: u64,
    /// The notification count.
    notices: u64,
}

/// Notifications that the feed has new rows, counted by the subscription task.
#[derive(Debug, Default)]
struct Notices {
    /// Bumped for every notification and every new subscription.
    count: AtomicU64,
    /// Whether a subscription is in place; false while (re)connecting.
    live: AtomicBool,
}

/// The notification channel the feed's trigger (PostgreSQL migration 0015) sends on.
const CHANNEL: &str = "steward_authz_changes";

/// How long a read serves requests while subscribed and nothing was notified: the
/// bound for a change whose notification is lost (a broken connection is noticed and
/// re-subscribed; a notification in flight when it broke is never delivered).
pub const NOTIFIED_BOUND: Duration = Duration::from_millis(100);

/// How old a finished read may be and still serve a request when this process has
/// committed nothing since it started: a change made through another replica holds for
/// every request arriving this long after its commit. (A change made through this
/// process holds from the very next request: it forces a fresh read.)
pub const REMOTE_CHANGE_BOUND: Duration = Duration::from_millis(1);

impl ChangeFeed {
    pub fn new(store: Store) -> Self {
        ChangeFeed {
            store,
            gate: tokio::sync::Mutex::new(()),
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            state: Mutex::new(FeedState::default()),
            last_read: Mutex::new(None),
            notices: Arc::new(Notices::default()),
            listening: AtomicBool::new(false),
        }
    }

    /// Whether the newest read still serves a request that arrived at `arrived`, when
    /// this process had committed `commits` write transactions.
    fn fresh_enough(&self, arrived: Instant, commits: u64) -> bool {
        let Some(read) = *lock(&self.last_read) else {
            return false;
        };
        if read.commits != commits {
            return false;
        }
        let age = arrived.saturating_duration_since(read.at);
        age <= REMOTE_CHANGE_BOUND
            || (age <= NOTIFIED_BOUND
                && self.notices.live.load(Ordering::SeqCst)
                && self.notices.count.load(Ordering::SeqCst) == read.notices)
    }

    /// Starts the PostgreSQL subscription once (SQLite has no notifications: another
    /// process writing the same file is bounded by time alone).
    fn start_listening(&self) {
        let Store::Postgres(pg) = &self.store else {
            return;
        };
        if self.listening.swap(true, Ordering::SeqCst) {
            return;
        }
        // A connection of its own, outside the pools the requests use.
        let options = pg.reader.connect_options().as_ref().clone();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        tokio::spawn(listen(pool, Arc::downgrade(&self.notices)));
    }

    /// Returns once the feed has been read by a read that started after every change
    /// this process committed before the call, and at most [`REMOTE_CHANGE_BOUND`]
    /// before the call: every such change is then reflected in [`Self::is_current`].
    pub async fn catch_up(&self) -> Result<(), StoreError> {
        let (arrived, commits) = (Instant::now(), crate::store::local_commits());
        if self.fresh_enough(arrived, commits) {
            return Ok(());
        }
        self.start_listening();
        let needed = self.started.load(Ordering::SeqCst) + 1;
        let _gate = self.gate.lock().await;
        if self.finished.load(Ordering::SeqCst) >= needed {
            return Ok(());
        }
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let began = ReadStart {
            at: Instant::now(),
            commits: crate::store::local_commits(),
            notices: self.notices.count.load(Ordering::SeqCst),
        };
        self.read().await?;
        self.finished.store(number, Ordering::SeqCst);
        *lock(&self.last_read) = Some(began);
        Ok(())
    }

    async fn read(&self) -> Result<(), StoreError> {
        let (reset, top, gaps) = {
            let state = lock(&self.state);
            (state.needs_reset(Instant::now()), state.top(), state.gaps())
        };
        if !reset {
            let filled = if gaps.is_empty() {
                Vec::new()
            } else {
                self.store.authz_changes_among(&gaps).await?
            };
            let newer = self.store.authz_changes_since(top, BATCH).await?;
            if lock(&self.state).apply(&filled, &newer, Instant::now()) {
                return Ok(());
            }
        }
        let (low, window) = self.store.authz_changes_tail(BATCH).await?;
        lock(&self.state).reset(low, &window, Instant::now());
        Ok(())
    }

    /// How many reads of the feed have finished (for tests and metrics).
    pub fn reads(&self) -> u64 {
        self.finished.load(Ordering::SeqCst)
    }

    /// Whether a PostgreSQL subscription is in place, and the notifications counted.
    pub fn notifications(&self) -> (bool, u64) {
        (
            self.notices.live.load(Ordering::SeqCst),
            self.notices.count.load(Ordering::SeqCst),
        )
    }

    /// The mark to build a cache entry with: take it after [`Self::catch_up`] and
    /// before reading what the entry holds.
    pub fn mark(&self) -> Mark {
        lock(&self.state).mark()
    }

    pub fn is_current(&self, identity: Uuid, mark: Mark) -> bool {
        lock(&self.state).is_current(identity, mark)
    }

    /// Deletes the rows older than [`KEPT`].
    pub async fn prune(&self) {
        match self.store.prune_authz_changes(Utc::now() - KEPT).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "change feed pruned"),
            Err(error) => tracing::error!(%error, "pruning the change feed failed"),
        }
    }
}

/// Counts notifications until the feed is dropped. A subscription is counted as a
/// notification when it starts (rows may have been missed without one), and is marked
/// down while it reconnects so that readers fall back to the time bound meanwhile.
async fn listen(pool: sqlx::PgPool, notices: Weak<Notices>) {
    use sqlx::postgres::PgListener;
    let mut retry = Duration::from_millis(100);
    loop {
        let Some(shared) = notices.upgrade() else {
            return;
        };
        shared.live.store(false, Ordering::SeqCst);
        let subscribed = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        let mut listener = match subscribed {
            Ok(listener) => listener,
            Err(error) => {
                drop(shared);
                tracing::warn!(%error, "change-feed notifications unavailable; reading the feed every millisecond");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        retry = Duration::from_millis(100);
        shared.count.fetch_add(1, Ordering::SeqCst);
        shared.live.store(true, Ordering::SeqCst);
        drop(shared);
        loop {
            // Wakes now and then to end with the feed.
            let notified =
                match tokio::time::timeout(Duration::from_secs(1), listener.try_recv()).await {
                    Err(_elapsed) => false,
                    Ok(Ok(Some(_))) => true,
                    // The connection was lost: notifications may have been missed.
                    Ok(Ok(None)) | Ok(Err(_)) => break,
                };
            let Some(shared) = notices.upgrade() else {
                return;
            };
            if notified {
                shared.count.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn started(now: Instant) -> FeedState {
        let mut state = FeedState::default();
        state.reset(0, &[(1, Some(id(1))), (2, Some(id(2)))], now);
        state
    }

    #[test]
    fn an_entry_stays_current_until_a_change_names_its_identity() {
        let now = Instant::now();
        let mut state = started(now);
        let mark = state.mark();
        assert!(state.is_current(id(1), mark));
        assert!(state.apply(&[], &[(3, Some(id(1)))], now));
        assert!(
            !state.is_current(id(1), mark),
            "changed after the entry was built"
        );
        assert!(
            state.is_current(id(2), mark),
            "another identity is untouched"
        );
        // Rebuilt after the change: current again.
        assert!(state.is_current(id(1), state.mark()));
    }

    #[test]
    fn a_change_naming_no_one_makes_everything_stale() {
        let now = Instant::now();
        let mut state = started(now);
        let mark = state.mark();
        state.apply(&[], &[(3, None)], now);
        assert!(!state.is_current(id(2), mark));
        assert!(state.is_current(id(2), state.mark()));
    }

    #[test]
    fn a_number_committed_late_still_invalidates_entries_built_before_it_appeared() {
        let now = Instant::now();
        let mut state = started(now);
        // 3 is written but not committed yet; 4 is visible.
        state.apply(&[], &[(4, Some(id(2)))], now);
        assert_eq!(state.gaps(), vec![3]);
        let built_meanwhile = state.mark();
        assert!(state.is_current(id(1), built_meanwhile));
        // 3 commits: a change of identity 1 with a number below the highest seen.
        state.apply(&[(3, Some(id(1)))], &[], now);
        assert!(state.gaps().is_empty());
        assert!(!state.is_current(id(1), built_meanwhile));
        assert!(state.is_current(id(1), state.mark()));
    }

    #[test]
    fn a_number_that_never_appears_is_given_up_after_the_wait() {
        let now = Instant::now();
        let mut state = started(now);
        state.apply(&[], &[(4, Some(id(2)))], now);
        assert_eq!(state.mark().position, 2, "held below the gap");
        state.apply(&[], &[], now + GAP_WAIT / 2);
        assert_eq!(state.gaps(), vec![3]);
        state.apply(&[], &[], now + GAP_WAIT);
        assert!(state.gaps().is_empty());
        assert_eq!(state.mark().position, 4);
    }

    #[test]
    fn rows_already_seen_are_not_applied_twice() {
        let now = Instant::now();
        let mut state = started(now);
        state.apply(&[], &[(3, Some(id(1)))], now);
        let mark = state.mark();
        // A gap row that was never missing, and an old row, change nothing.
        state.apply(&[(3, Some(id(1)))], &[(2, Some(id(1)))], now);
        assert!(state.is_current(id(1), mark));
    }

    #[test]
    fn starting_over_makes_everything_stale_and_waits_for_numbers_missing_in_the_tail() {
        let now = Instant::now();
        let mut state = started(now);
        let mark = state.mark();
        state.reset(10, &[(11, Some(id(1))), (13, None)], now);
        assert!(!state.is_current(id(2), mark));
        assert_eq!(state.gaps(), vec![12]);
        let after = state.mark();
        assert!(
            state.is_current(id(1), after),
            "rows of the tail were visible at the reset"
        );
        state.apply(&[(12, Some(id(1)))], &[], now);
        assert!(!state.is_current(id(1), after));
        assert!(state.is_current(id(2), after));
    }

    #[test]
    fn an_idle_or_unread_feed_starts_over_and_a_full_batch_asks_to() {
        let now = Instant::now();
        assert!(FeedState::default().needs_reset(now));
        let mut state = started(now);
        assert!(!state.needs_reset(now + IDLE / 2));
        assert!(state.needs_reset(now + IDLE + Duration::from_secs(1)));
        let full: Vec<(i64, Option<Uuid>)> = (3..3 + BATCH).map(|s| (s, Some(id(1)))).collect();
        assert!(!state.apply(&[], &full, now));
    }

    #[test]
    fn an_empty_feed_takes_its_first_row_without_inventing_gaps() {
        let now = Instant::now();
        let mut state = FeedState::default();
        state.reset(0, &[], now);
        state.apply(&[], &[(5000, Some(id(1)))], now);
        assert!(state.gaps().is_empty());
        assert_eq!(state.mark().position, 5000);
    }
}
