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

/// Key of the signed-in user's data in the session.
pub const AUTH_KEY: &str = "auth";

/// Who signed in to this session, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: Uuid,
    pub login_at: DateTime<Utc>,
}

impl SessionAuth {
    /// True once the session is older than `max_age` since sign-in, however active.
    pub fn expired(&self, max_age: Duration, now: DateTime<Utc>) -> bool {
        now - self.login_at >= max_age
    }
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

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.create(record).await,
            Sessions::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.save(record).await,
            Sessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s) => s.load(id).await,
            Sessions::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete(id).await,
            Sessions::Postgres(s) => s.delete(id).await,
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
        let auth = SessionAuth {
            user_id: Uuid::nil(),
            login_at,
        };
        let max = Duration::hours(12);
        assert!(!auth.expired(max, login_at + Duration::hours(11)));
        assert!(auth.expired(max, login_at + Duration::hours(12)));
    }
}
