//! One way to change the register: a list of statements and the audit events that
//! record them, applied in one transaction. Either every statement and every event is
//! written, or nothing is. A statement can demand how many rows it must touch; when it
//! touches another number (the row is gone, or someone changed it first) the whole
//! transaction is rolled back and the caller gets [`WriteError::Precondition`].

use chrono::{DateTime, NaiveDate, Utc};
use steward_domain::audit::NewAuditEvent;
use uuid::Uuid;

use super::audit::AuditTx;
use super::{Dialect, Store, StoreError};

/// A value bound to a statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    Date(NaiveDate),
    /// A list, bound as one array parameter on PostgreSQL (`$1::uuid[]`, for
    /// `UNNEST`) and as one JSON array text on SQLite (for `json_each`). On SQLite the
    /// UUIDs are hyphenated text there, while UUID columns hold 16-byte blobs: compare
    /// them through a conversion. (Only PostgreSQL statements use `UuidList` today.)
    UuidList(Vec<Uuid>),
    TextList(Vec<String>),
}

impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Arg::Uuid(v)
    }
}
impl From<Option<Uuid>> for Arg {
    fn from(v: Option<Uuid>) -> Self {
        Arg::OptUuid(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_owned))
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Time(v)
    }
}
impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Arg::OptTime(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<NaiveDate> for Arg {
    fn from(v: NaiveDate) -> Self {
        Arg::Date(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// How many rows a statement must touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Any,
    Exactly(u64),
}

/// One SQL statement with `$1, $2, …` placeholders (both databases accept them), or
/// with `?` placeholders bound in order ([`Statement::positional`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub args: Vec<Arg>,
    pub expect: Expect,
    /// Said to the caller when `expect` is not met.
    pub precondition: &'static str,
    /// `?` placeholders, numbered for PostgreSQL when run.
    pub positional: bool,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Self {
        Statement {
            sql: sql.into(),
            args: Vec::new(),
            expect: Expect::Any,
            precondition: "",
            positional: false,
        }
    }

    /// A statement whose placeholders are plain `?`, bound in order — for statements
    /// with thousands of parameters (multi-row inserts): SQLite binds those without
    /// looking each `$n` up by name, which grows with the square of their number. The
    /// SQL must have no `?` other than placeholders.
    pub fn positional(sql: impl Into<String>) -> Self {
        Statement {
            positional: true,
            ..Statement::new(sql)
        }
    }

    pub fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Demands that the statement touch exactly `rows` rows, or the transaction fails with `message`.
    pub fn must_touch(mut self, rows: u64, message: &'static str) -> Self {
        self.expect = Expect::Exactly(rows);
        self.precondition = message;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A statement touched another number of rows than demanded; nothing was written.
    #[error("{0}")]
    Precondition(&'static str),
    /// A unique key already exists; nothing was written.
    #[error("duplicate key")]
    Duplicate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WriteError {
    /// The store error of a write that demands no row count and meets no duplicate key
    /// (a bulk load, an upsert, a new token): anything but a store failure means the
    /// data is not what the write assumed.
    pub fn into_store_error(self) -> StoreError {
        match self {
            WriteError::Store(error) => error,
            other => StoreError::Corrupt(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Store(StoreError::Sqlx(e))
    }
}

/// `$first, $first+1, …` for `n` parameters: an `IN (…)` list or a row of a
/// multi-row insert in a statement built for a number of rows known only at run time.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `?, ?, …` as `$1, $2, …` (PostgreSQL has no `?` placeholders).
fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + sql.len() / 2);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// `(?, …, ?), (?, …)`: the `VALUES` lists of a multi-row [`Statement::positional`]
/// insert of `rows` rows of `columns` placeholders each.
pub fn positional_rows(rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

/// Binds a list argument the way its database takes a list.
trait BindList<'q>: sqlx::Database + Sized {
    fn bind_uuids(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>,
        list: &[Uuid],
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>;
    fn bind_texts(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>,
        list: &[String],
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>;
}

impl<'q> BindList<'q> for sqlx::Postgres {
    fn bind_uuids(
        query: sqlx::query::Query<'q, Self, sqlx::postgres::PgArguments>,
        list: &[Uuid],
    ) -> sqlx::query::Query<'q, Self, sqlx::postgres::PgArguments> {
        query.bind(list.to_vec())
    }
    fn bind_texts(
        query: sqlx::query::Query<'q, Self, sqlx::postgres::PgArguments>,
        list: &[String],
    ) -> sqlx::query::Query<'q, Self, sqlx::postgres::PgArguments> {
        query.bind(list.to_vec())
    }
}

impl<'q> BindList<'q> for sqlx::Sqlite {
    fn bind_uuids(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>,
        list: &[Uuid],
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>> {
        query.bind(serde_json::Value::from_iter(list.iter().map(|id| id.to_string())).to_string())
    }
    fn bind_texts(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>,
        list: &[String],
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>> {
        query.bind(serde_json::Value::from_iter(list.iter().cloned()).to_string())
    }
}

/// Binds `args` to `query` in order, each the way its database takes it.
fn bind_args<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    args: &[Arg],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: BindList<'q>,
    Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Uuid>: sqlx::Encode<'q, DB>,
    Option<String>: sqlx::Encode<'q, DB>,
    Option<DateTime<Utc>>: sqlx::Encode<'q, DB>,
    Option<i64>: sqlx::Encode<'q, DB>,
{
    for arg in args {
        query = match arg {
            Arg::UuidList(v) => DB::bind_uuids(query, v),
            Arg::TextList(v) => DB::bind_texts(query, v),
            Arg::Uuid(v) => query.bind(*v),
            Arg::OptUuid(v) => query.bind(*v),
            Arg::Text(v) => query.bind(v.clone()),
            Arg::OptText(v) => query.bind(v.clone()),
            Arg::Time(v) => query.bind(*v),
            Arg::OptTime(v) => query.bind(*v),
            Arg::Int(v) => query.bind(*v),
            Arg::OptInt(v) => query.bind(*v),
            Arg::Bool(v) => query.bind(*v),
            Arg::Date(v) => query.bind(*v),
        };
    }
    query
}

/// A write transaction held open across several batches of statements — for a change
/// too large to plan in memory at once (an import of a hundred thousand records). Dropped
/// without [`commit`](WriteTx::commit) (or after any error) it is rolled back: nothing
/// is written.
pub enum WriteTx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same code against whichever transaction a [`WriteTx`] holds, with `Db` and
/// `DIALECT` as in `db_run!`.
macro_rules! tx_run {
    ($write:expr, |$tx:ident| $body:expr) => {
        match $write {
            WriteTx::Sqlite($tx) => {
                #[allow(dead_code)]
                type Db = sqlx::Sqlite;
                #[allow(dead_code)]
                const DIALECT: Dialect = Dialect::Sqlite;
                $body
            }
            WriteTx::Postgres($tx) => {
                #[allow(dead_code)]
                type Db = sqlx::Postgres;
                #[allow(dead_code)]
                const DIALECT: Dialect = Dialect::Postgres;
                $body
            }
        }
    };
}

impl WriteTx {
    /// Runs `statements` in order; returns the rows each touched. On an error the
    /// transaction must be dropped (it is rolled back).
    pub async fn run(&mut self, statements: &[Statement]) -> Result<Vec<u64>, WriteError> {
        tx_run!(self, |tx| {
            let mut counts = Vec::with_capacity(statements.len());
            for statement in statements {
                let numbered;
                let sql = if statement.positional && DIALECT == Dialect::Postgres {
                    numbered = number_placeholders(&statement.sql);
                    &numbered
                } else {
                    &statement.sql
                };
                let query = bind_args(sqlx::query::<Db>(sql), &statement.args);
                let touched = match query.execute(&mut **tx).await {
                    Ok(done) => done.rows_affected(),
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        return Err(WriteError::Duplicate);
                    }
                    Err(e) => return Err(e.into()),
                };
                if let Expect::Exactly(rows) = statement.expect {
                    if touched != rows {
                        return Err(WriteError::Precondition(statement.precondition));
                    }
                }
                counts.push(touched);
            }
            Ok(counts)
        })
    }

    /// Marks where [`rollback_to_savepoint`](WriteTx::rollback_to_savepoint) returns to
    /// (one level: the group commit's per-change savepoint).
    pub async fn savepoint(&mut self) -> Result<(), WriteError> {
        self.execute("SAVEPOINT steward_change").await
    }

    pub async fn release_savepoint(&mut self) -> Result<(), WriteError> {
        self.execute("RELEASE SAVEPOINT steward_change").await
    }

    /// Undoes everything since [`savepoint`](WriteTx::savepoint); the transaction goes on.
    pub async fn rollback_to_savepoint(&mut self) -> Result<(), WriteError> {
        self.execute("ROLLBACK TO SAVEPOINT steward_change").await?;
        self.release_savepoint().await
    }

    async fn execute(&mut self, sql: &'static str) -> Result<(), WriteError> {
        tx_run!(self, |tx| {
            sqlx::query::<Db>(sql).execute(&mut **tx).await?;
            Ok(())
        })
    }

    /// Appends `events` to the audit trail and commits everything.
    pub async fn commit(self, events: &[NewAuditEvent]) -> Result<(), WriteError> {
        tx_run!(self, |tx| {
            let mut tx = tx;
            tx.append_audit_many(events).await?;
            tx.commit().await?;
            super::note_commit();
            Ok(())
        })
    }
}

impl Store {
    /// Opens a write transaction (on PostgreSQL holding the register's lock, so changes
    /// that check a graph or a count before writing are serialised across replicas).
    pub async fn begin_write(&self) -> Result<WriteTx, WriteError> {
        Ok(match self {
            Store::Sqlite(s) => WriteTx::Sqlite(s.writer.begin().await?),
            Store::Postgres(s) => {
                let mut tx = s.writer.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(7406)")
                    .execute(&mut *tx)
                    .await?;
                WriteTx::Postgres(tx)
            }
        })
    }

    /// Runs `statements` in order and appends the audit events that `audit` makes from
    /// the rows each statement touched — all in one transaction. Returns the counts.
    pub async fn write<F>(&self, statements: &[Statement], audit: F) -> Result<Vec<u64>, WriteError>
    where
        F: FnOnce(&[u64]) -> Vec<NewAuditEvent> + Send,
    {
        let mut tx = self.begin_write().await?;
        let counts = tx.run(statements).await?;
        tx.commit(&audit(&counts)).await?;
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::number_placeholders;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            number_placeholders("INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
