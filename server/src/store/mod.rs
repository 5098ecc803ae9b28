//! The store: one interface over two databases. SQLite is the embedded default (WAL,
//! foreign keys, busy timeout, one writer connection and a pool of readers);
//! PostgreSQL is the scale path. The implementation is chosen at startup from
//! `DATABASE_URL`. Query code is written once and run against either pool by
//! [`db_run!`]; only SQL text that differs between the dialects is kept per dialect.

pub mod accounts;
pub mod audit;
pub mod authz;
pub mod campaigns;
pub mod federation;
pub mod grants;
pub mod group;
pub mod imports;
pub mod inventory;
pub mod notify;
pub mod ownership;
pub mod posture;
pub mod write;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use steward_domain::DomainError;

use crate::config::DatabaseUrl;

/// Write transactions this process has committed, on any store, that may have added
/// rows to the change feed. The feed's readers compare it to know that a change may
/// have been made here since their last read (changes through other processes are
/// bounded by time, or notified). Writes to tables no feed trigger watches (the
/// decision log, session call numbers, pruning the feed) are not counted: they would
/// only force needless reads.
static LOCAL_COMMITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many write transactions this process has committed.
pub fn local_commits() -> u64 {
    LOCAL_COMMITS.load(std::sync::atomic::Ordering::SeqCst)
}

/// Counts a committed write transaction.
pub(crate) fn note_commit() {
    LOCAL_COMMITS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// The advice [`Store::cache_advice`] gives for PostgreSQL's `shared_buffers` of
/// `buffers` bytes and an identities table of `table` bytes.
fn cache_advice(buffers: u64, table: u64) -> Option<String> {
    const MIB: u64 = 1 << 20;
    (buffers < table).then(|| {
        format!(
            "PostgreSQL's shared_buffers ({} MiB) is smaller than the identities table ({} MiB): \
             counting a common search will read the table from the operating system every time; \
             set shared_buffers to about {} MiB or more (docs/operations/postgresql.md, Sizing)",
            buffers / MIB,
            table / MIB,
            // The table with room for its name index and the rest of the working set.
            (table * 5 / 2).div_ceil(MIB),
        )
    })
}

/// Rows a SQLite connection's worker thread may read ahead of the task consuming them
/// (sqlx's default is 50). Each row crosses from the worker thread to the task through
/// a channel; a full channel stops the worker until the task wakes it, which in long
/// reads (a full posture evaluation reads every identity and finding) made thread
/// wake-ups and lock waits a large share of the time.
const SQLITE_ROW_BUFFER: usize = 2048;

/// How much of a SQLite file reader connections map into memory (the pages are the
/// operating system's file cache, shared by every connection).
const SQLITE_READER_MMAP_BYTES: u64 = 4 << 30;

/// Failures of the store. The detail is for the log; callers see [`DomainError::Internal`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Config(String),
    /// A grouped change was not written because the transaction it shared failed.
    #[error("{0}")]
    GroupCommit(String),
}

impl From<StoreError> for DomainError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = %error, "store failure");
        DomainError::Internal
    }
}

/// Turns a stored value the domain refuses into a store error naming `what`.
pub(crate) fn corrupt(what: &str) -> impl Fn(steward_domain::DomainError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

/// The two SQL dialects Steward speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Either database, as functions that build queries see it: generic over this instead
/// of relying on names a macro defines at the call site. The value types a builder binds
/// are named in each function's bounds (both databases encode them all).
pub(crate) trait Backend: sqlx::Database {
    const DIALECT: Dialect;
}

impl Backend for sqlx::Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
}

impl Backend for sqlx::Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
}

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: SQLite allows one writer at a time, and queueing in the
    /// pool is cheaper and fairer than `SQLITE_BUSY` retries.
    pub writer: SqlitePool,
    pub reader: SqlitePool,
    /// Changes waiting for a group commit ([`group`]).
    pub group: std::sync::Arc<group::GroupQueue>,
}

#[derive(Debug, Clone)]
pub struct PgStore {
    pub writer: PgPool,
    pub reader: PgPool,
    /// Changes waiting for a group commit ([`group`]).
    pub group: std::sync::Arc<group::GroupQueue>,
}

#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Runs the same query code against whichever database the store holds. Inside the
/// body, `Db` is the sqlx database type, `DIALECT` the [`Dialect`], and the named
/// pool is the reader or writer pool as asked.
macro_rules! db_run {
    // Work on the writer is counted as a local commit once it succeeded (an error
    // returns early through `?`).
    ($store:expr, writer, |$pool:ident| $body:expr) => {{
        let done = $crate::store::db_run!(@run $store, writer, |$pool| $body);
        $crate::store::note_commit();
        done
    }};
    // Work on the writer touching no table the change feed watches: not counted.
    ($store:expr, writer_outside_feed, |$pool:ident| $body:expr) => {
        $crate::store::db_run!(@run $store, writer, |$pool| $body)
    };
    ($store:expr, $role:ident, |$pool:ident| $body:expr) => {
        $crate::store::db_run!(@run $store, $role, |$pool| $body)
    };
    (@run $store:expr, $role:ident, |$pool:ident| $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(store) => {
                #[allow(dead_code)]
                type Db = sqlx::Sqlite;
                #[allow(dead_code)]
                const DIALECT: $crate::store::Dialect = $crate::store::Dialect::Sqlite;
                let $pool = &store.$role;
                $body
            }
            $crate::store::Store::Postgres(store) => {
                #[allow(dead_code)]
                type Db = sqlx::Postgres;
                #[allow(dead_code)]
                const DIALECT: $crate::store::Dialect = $crate::store::Dialect::Postgres;
                let $pool = &store.$role;
                $body
            }
        }
    };
}
pub(crate) use db_run;

/// Creates a SQLite database file that only its owner may read (0600), in a folder
/// created only for its owner (0700), when they are missing. The file holds sessions,
/// token hashes and the audit trail; SQLite gives its WAL and shared-memory files the
/// database file's mode. Existing files and folders keep theirs.
fn create_private_file(path: &std::path::Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        folder.mode(0o700);
        folder.create(dir).map_err(|e| {
            StoreError::Config(format!(
                "cannot create the database folder {}: {e}",
                dir.display()
            ))
        })?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    file.mode(0o600);
    match file.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Config(format!(
            "cannot create the database file {}: {e}",
            path.display()
        ))),
    }
}

impl Store {
    /// Opens the database named by `url` (creating a SQLite file and its folder if
    /// missing) and brings its schema up to date.
    pub async fn open(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let parsed = DatabaseUrl::parse(url).map_err(StoreError::Config)?;
        let store = match &parsed {
            DatabaseUrl::Sqlite { path } => {
                create_private_file(path)?;
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .row_buffer_size(SQLITE_ROW_BUFFER)
                    .pragma("temp_store", "memory");
                let connect_error = |source| StoreError::Connect {
                    url: parsed.redacted(),
                    source,
                };
                // The one writer gets a large page cache: bulk writes (imports, demo
                // data) touch many pages of the search and sort indexes, and with
                // SQLite's default 2 MB they would be read back from disk again and again.
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options.clone().pragma("cache_size", "-131072"))
                    .await
                    .map_err(connect_error)?;
                // Readers are opened after the writer has created the file. They read
                // the file through a memory map: a long read (an export, a full posture
                // evaluation) then costs no system call per page.
                let reader = SqlitePoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .connect_with(
                        options
                            .read_only(true)
                            .pragma("mmap_size", SQLITE_READER_MMAP_BYTES.to_string()),
                    )
                    .await
                    .map_err(connect_error)?;
                Store::Sqlite(SqliteStore {
                    writer,
                    reader,
                    group: group::GroupQueue::new(),
                })
            }
            DatabaseUrl::Postgres { url } => {
                let options =
                    PgConnectOptions::from_str(url).map_err(|source| StoreError::Connect {
                        url: parsed.redacted(),
                        source,
                    })?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|source| StoreError::Connect {
                        url: parsed.redacted(),
                        source,
                    })?;
                Store::Postgres(PgStore {
                    writer: pool.clone(),
                    reader: pool,
                    group: group::GroupQueue::new(),
                })
            }
        };
        store.migrate().await?;
        if let Store::Sqlite(s) = &store {
            // Gathers statistics for tables that lack them or changed a lot (cheap when
            // nothing is needed), so plans stay good on a long-lived database.
            sqlx::query("PRAGMA optimize=0x10002")
                .execute(&s.writer)
                .await?;
        }
        Ok(store)
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Store::Sqlite(_) => Dialect::Sqlite,
            Store::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Applies pending migrations of this dialect.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlx::migrate!("../migrations/sqlite")
                    .run(&s.writer)
                    .await?
            }
            Store::Postgres(s) => {
                let migrator = sqlx::migrate!("../migrations/postgres");
                // A schema already up to date is left alone without asking for the
                // migration lock or creating anything: the server may run as a role
                // that cannot (docs/postgres-runtime-role.sql).
                let applied: Vec<i64> =
                    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                        .fetch_all(&s.writer)
                        .await
                        .unwrap_or_default();
                let current = migrator
                    .iter()
                    .filter(|m| !m.migration_type.is_down_migration())
                    .all(|m| applied.contains(&m.version));
                if !current {
                    migrator.run(&s.writer).await?;
                }
            }
        }
        Ok(())
    }

    /// Refreshes the query planner's statistics. Run after bulk loads (demo data,
    /// imports): with them SQLite and PostgreSQL choose between walking a sort index
    /// and using a filter's index by how selective the filter really is.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlx::query("ANALYZE").execute(&s.writer).await?;
            }
            Store::Postgres(s) => {
                // VACUUM also marks pages all-visible, so counts can be answered from
                // indexes alone after a bulk load.
                sqlx::query("VACUUM (ANALYZE)").execute(&s.writer).await?;
            }
        }
        Ok(())
    }

    /// The database engine's version and, for PostgreSQL, the server settings that
    /// decide how much of a large register stays in its memory: what a benchmark's
    /// numbers depend on besides the machine.
    pub async fn describe_server(&self) -> Result<String, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => {
                let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(&s.reader)
                    .await?;
                format!("SQLite {version}")
            }
            Store::Postgres(s) => {
                let (version, buffers, work_mem): (String, String, String) = sqlx::query_as(
                    "SELECT current_setting('server_version'), \
                     current_setting('shared_buffers'), current_setting('work_mem')",
                )
                .fetch_one(&s.reader)
                .await?;
                format!("PostgreSQL {version}, shared_buffers {buffers}, work_mem {work_mem}")
            }
        })
    }

    /// Advice when PostgreSQL's `shared_buffers` cannot hold the identities table:
    /// then every count of a common search reads the table's pages from the operating
    /// system again (docs/operations/postgresql.md, *Sizing*). `None` when it fits, and on
    /// SQLite, which reads through the operating system's cache and a memory map.
    pub async fn cache_advice(&self) -> Result<Option<String>, StoreError> {
        Ok(match self {
            Store::Sqlite(_) => None,
            Store::Postgres(s) => {
                let (buffers, table): (i64, i64) = sqlx::query_as(
                    "SELECT pg_size_bytes(current_setting('shared_buffers')), \
                     pg_table_size('identities')",
                )
                .fetch_one(&s.reader)
                .await?;
                cache_advice(buffers.unsigned_abs(), table.unsigned_abs())
            }
        })
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        db_run!(self, reader, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => {
                s.reader.close().await;
                s.writer.close().await;
            }
            Store::Postgres(s) => s.writer.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cache_advice;

    #[test]
    fn shared_buffers_smaller_than_the_identities_table_get_advice() {
        const MIB: u64 = 1 << 20;
        let advice = cache_advice(128 * MIB, 400 * MIB).unwrap_or_default();
        assert!(advice.contains("shared_buffers (128 MiB)"), "{advice}");
        assert!(advice.contains("identities table (400 MiB)"), "{advice}");
        assert!(advice.contains("about 1000 MiB"), "{advice}");
        assert_eq!(cache_advice(1024 * MIB, 400 * MIB), None);
        assert_eq!(cache_advice(128 * MIB, 128 * MIB), None);
    }
}
