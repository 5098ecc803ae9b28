//! Browser sessions: `tower-sessions` stored in Steward's own database (SQLite or
//! PostgreSQL), with an idle timeout enforced by the cookie and the store, and an
//! absolute lifetime enforced by [`SessionAuth`].

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};
use uuid::Uuid;

use crate::store::Store;

/// The session cookie's name over plain http (loopback development).
pub const COOKIE_NAME: &str = "steward_session";
/// Its name when cookies are Secure: the `__Host-` prefix makes browsers refuse it
/// unless it is Secure, for this host only (no `Domain`) and for every path, so a
/// sibling subdomain cannot plant or shadow it.
pub const SECURE_COOKIE_NAME: &str = "__Host-steward_session";

/// Key of the signed-in user's data in the session.
pub const AUTH_KEY: &str = "auth";

/// Who signed in to this session, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: Uuid,
    pub login_at: DateTime<Utc>,
    /// When the session was last saved to slide its idle timeout (absent in sessions
    /// signed in before this field existed: they are touched on their next request).
    #[serde(default)]
    pub touched_at: Option<DateTime<Utc>>,
}

impl SessionAuth {
    /// A session signed in at `now`.
    pub fn new(user_id: Uuid, now: DateTime<Utc>) -> Self {
        Self {
            user_id,
            login_at: now,
            touched_at: Some(now),
        }
    }

    /// True once the session is older than `max_age` since sign-in, however active.
    pub fn expired(&self, max_age: Duration, now: DateTime<Utc>) -> bool {
        now - self.login_at >= max_age
    }

    /// True when this request should save the session again so that its idle timeout
    /// slides: once per [`touch_interval`], not on every request. Every save is a write
    /// to the database, and on SQLite a write makes every reader connection drop its
    /// memory map of the file and fault the pages of its next large read back in.
    pub fn needs_touch(&self, idle: Duration, now: DateTime<Utc>) -> bool {
        self.touched_at
            .is_none_or(|touched| now - touched >= touch_interval(idle))
    }
}

/// How often an active session is saved: a thirtieth of the idle timeout, at most a
/// minute. A session therefore ends between `idle - idle/30` and `idle` after the last
/// request (29–30 minutes with the default 30).
pub fn touch_interval(idle: Duration) -> Duration {
    (idle / 30).min(Duration::minutes(1))
}

/// The session store of whichever database Steward runs on.
#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Sessions {
    /// Sessions live in tables created by Steward's migrations.
    pub fn new(store: &Store) -> Self {
        match store {
            Store::Sqlite(s) => Sessions::Sqlite(SqliteStore::new(s.writer.clone())),
            Store::Postgres(s) => Sessions::Postgres(PostgresStore::new(s.writer.clone())),
        }
    }
}

/// The id a session is stored under: a SHA-256 of the id in the cookie (its first 128
/// bits). Whoever reads the sessions table (a backup, a replica, a leaked dump) learns
/// no cookie that would sign them in.
pub fn stored_id(id: &Id) -> Id {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(id.0.to_le_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(bytes))
}

impl Sessions {
    async fn save_stored(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.save(record).await,
            Sessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn load_stored(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s) => s.load(id).await,
            Sessions::Postgres(s) => s.load(id).await,
        }
    }
}

/// Every record goes to the database under [`stored_id`] of its id and comes back
/// under the id the browser holds.
#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random id until its stored form is free (a collision of 128 random
        // bits does not happen, but the store's contract asks for the check).
        while self.load_stored(&stored_id(&record.id)).await?.is_some() {
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let stored = Record {
            id: stored_id(&record.id),
            ..record.clone()
        };
        self.save_stored(&stored).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self
            .load_stored(&stored_id(id))
            .await?
            .map(|record| Record { id: *id, ..record }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let stored = stored_id(id);
        match self {
            Sessions::Sqlite(s) => s.delete(&stored).await,
            Sessions::Postgres(s) => s.delete(&stored).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete_expired().await,
            Sessions::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_lifetime_counts_from_sign_in() {
        let login_at = Utc::now();
        let auth = SessionAuth::new(Uuid::nil(), login_at);
        let max = Duration::hours(12);
        assert!(!auth.expired(max, login_at + Duration::hours(11)));
        assert!(auth.expired(max, login_at + Duration::hours(12)));
    }

    #[test]
    fn an_active_session_is_saved_once_per_touch_interval() {
        assert_eq!(touch_interval(Duration::minutes(30)), Duration::minutes(1));
        assert_eq!(touch_interval(Duration::hours(8)), Duration::minutes(1));
        assert_eq!(
            touch_interval(Duration::seconds(3)),
            Duration::milliseconds(100)
        );
        let now = Utc::now();
        let idle = Duration::minutes(30);
        let auth = SessionAuth::new(Uuid::nil(), now);
        assert!(!auth.needs_touch(idle, now));
        assert!(!auth.needs_touch(idle, now + Duration::seconds(59)));
        assert!(auth.needs_touch(idle, now + Duration::seconds(60)));
        // A session saved before touches were recorded is touched at once.
        let old: SessionAuth = serde_json::from_value(serde_json::json!({
            "user_id": Uuid::nil(),
            "login_at": now,
        }))
        .unwrap();
        assert!(old.needs_touch(idle, now));
    }
}
