//! Identities in the store: keyset-paginated listing and batched inserts.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use steward_domain::identity::{Autonomy, OwnershipState, Sensitivity};
use steward_domain::inventory::{
    page_from_overfetch, Facets, FindingFilter, IdentityKind, IdentityQuery, IdentityStatus,
    IdentitySummary, Page, PersonRef, SortKey, Source,
};
use steward_domain::posture::catalog::Catalog;
use uuid::Uuid;

use super::write::WriteError;
use super::{db_run, Dialect, Store, StoreError};

pub mod writes;

/// A new identity as written to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIdentity {
    pub id: Uuid,
    pub name: String,
    pub kind: IdentityKind,
    pub source: Source,
    pub external_id: Option<String>,
    pub environment: String,
    pub status: IdentityStatus,
    /// Why the identity is in its status (an import's "disabled at the source").
    pub status_reason: Option<String>,
    pub owner_id: Option<Uuid>,
    pub sponsor_id: Option<Uuid>,
    pub team: Option<String>,
    pub purpose: Option<String>,
    pub autonomy: Option<Autonomy>,
    pub sensitivity_ceiling: Option<Sensitivity>,
    pub spiffe_id: Option<String>,
    pub revocation_path: Option<String>,
    pub ownership_state: Option<OwnershipState>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// When a person or an import last changed it (empty for bulk loads and tokens).
    pub updated_at: Option<DateTime<Utc>>,
}

impl NewIdentity {
    /// An identity of `kind` with every optional attribute empty.
    pub fn new(
        name: &str,
        kind: IdentityKind,
        environment: &str,
        created_at: DateTime<Utc>,
    ) -> Self {
        NewIdentity {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            kind,
            source: Source::Manual,
            external_id: None,
            environment: environment.to_owned(),
            status: IdentityStatus::Active,
            status_reason: None,
            owner_id: None,
            sponsor_id: None,
            team: None,
            purpose: None,
            autonomy: None,
            sensitivity_ceiling: None,
            spiffe_id: None,
            revocation_path: None,
            ownership_state: None,
            expires_at: None,
            created_at,
            last_used_at: None,
            updated_at: None,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IdentityRow {
    id: Uuid,
    name: String,
    actor_class: String,
    kind: String,
    source: String,
    external_id: Option<String>,
    environment: String,
    status: String,
    team: Option<String>,
    spiffe_id: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    owner_id: Option<Uuid>,
    owner_name: Option<String>,
    owner_email: Option<String>,
    owner_active: Option<bool>,
}

impl TryFrom<IdentityRow> for IdentitySummary {
    type Error = StoreError;

    fn try_from(row: IdentityRow) -> Result<Self, StoreError> {
        let corrupt = |e: steward_domain::DomainError| {
            StoreError::Corrupt(format!("identity {}: {e}", row.id))
        };
        let owner = match (row.owner_id, row.owner_name, row.owner_email) {
            (Some(id), Some(display_name), Some(email)) => Some(PersonRef {
                id,
                display_name,
                email,
            }),
            _ => None,
        };
        Ok(IdentitySummary {
            id: row.id,
            actor_class: row.actor_class.parse().map_err(corrupt)?,
            kind: row.kind.parse().map_err(corrupt)?,
            source: row.source.parse().map_err(corrupt)?,
            status: row.status.parse().map_err(corrupt)?,
            name: row.name,
            external_id: row.external_id,
            environment: row.environment,
            owner_active: owner.is_some() && row.owner_active.unwrap_or(false),
            owner,
            team: row.team,
            spiffe_id: row.spiffe_id,
            expires_at: row.expires_at,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        })
    }
}

/// The columns of an [`IdentityRow`], from identities `i` joined to their owner `p`
/// ([`OWNER_JOIN`]).
pub(crate) const SUMMARY_COLUMNS: &str =
    "SELECT i.id, i.name, i.actor_class, i.kind, i.source, i.external_id, \
     i.environment, i.status, i.team, i.spiffe_id, i.expires_at, i.created_at, i.last_used_at, \
     p.id AS owner_id, p.display_name AS owner_name, p.email AS owner_email, \
     p.active AS owner_active";

/// Joins identities `i` to their owner `p`.
pub(crate) const OWNER_JOIN: &str = " LEFT JOIN people p ON p.id = i.owner_id";

/// How many rows, in sort order, a search first looks through before asking the search
/// index. A term in at least one row of ~40, spread through the order, fills a page
/// from this window (walking the sort index, cheap); other terms go to the index, which
/// finds few rows fast. Without the window a common term makes the index return tens
/// of thousands of rows that must all be fetched and sorted to show the first page.
/// Kept small: a rare term pays for the window before the index is asked.
const SEARCH_WINDOW: i64 = 2_000;

/// Matches up to which a search term counts as rare: the search index then finds them
/// all and sorting them is cheap. A term with more is common.
const RARE_MATCHES: i64 = 5_000;

/// How many entries of the name order a common term's search walks (through the
/// covering index of name, id, external id and SPIFFE ID, testing the text on the
/// index entries alone, reading only matching rows) before giving up and asking the
/// search index. Names that share a word sit together in the name order, so a common
/// term's matches are often one cluster far from the start: the walk reaches it where
/// a small window would not, and stops as soon as the page is full.
const NAME_WALK: i64 = 100_000;

/// Escapes `%`, `_` and `\` so user text matches literally inside a LIKE pattern.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The planner's row estimate in the top line of a PostgreSQL `EXPLAIN` plan
/// (`… (cost=0.00..1.00 rows=123 width=4)`).
fn estimated_rows(line: &str) -> Option<i64> {
    let rest = &line[line.find(" rows=")? + " rows=".len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// An identity with its owner and sponsor.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Holders {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub sponsor_id: Option<Uuid>,
    pub status: String,
}

/// The text as one FTS5 phrase: with the trigram tokenizer it matches exactly the
/// rows containing it, case-insensitively, in one column.
pub fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Rows per multi-row INSERT: well inside SQLite's and PostgreSQL's bind limits.
const INSERT_BATCH: usize = 1000;

/// Appends ` AND <text> LIKE <pattern> ESCAPE '\'`: the searched text (PostgreSQL's
/// `search_text` column or SQLite's [`SQLITE_SEARCH_TEXT`]) tested with a pattern from
/// [`search_text_pattern`].
macro_rules! push_search_text_like {
    ($sql:expr, $text:expr, $pattern:expr) => {{
        $sql.push(format_args!(" AND {} LIKE ", $text))
            .push_bind($pattern)
            .push(" ESCAPE '\\'");
    }};
}

/// Appends ` AND (…)`: `search` as a substring of the name, external id or SPIFFE ID
/// of the rows aliased `$alias`, ignoring ASCII case, tested on the text itself.
/// SQLite's LIKE ignores ASCII case; PostgreSQL tests the row's `search_text` (the
/// three joined and lower-cased, served by its trigram index) with the term
/// lower-cased the same way.
macro_rules! push_search_text {
    ($sql:expr, $alias:expr, $search:expr) => {{
        let alias: &str = $alias;
        match DIALECT {
            Dialect::Sqlite => {
                let pattern = like_pattern($search);
                $sql.push(format_args!(" AND ({alias}.name LIKE "))
                    .push_bind(pattern.clone())
                    .push(format_args!(" ESCAPE '\\' OR {alias}.external_id LIKE "))
                    .push_bind(pattern.clone())
                    .push(format_args!(" ESCAPE '\\' OR {alias}.spiffe_id LIKE "))
                    .push_bind(pattern)
                    .push(" ESCAPE '\\')");
            }
            Dialect::Postgres => {
                push_search_text_like!(
                    $sql,
                    format_args!("{alias}.search_text"),
                    search_text_pattern($search)
                );
            }
        }
    }};
}

/// SQLite's searched text of the identity `i`, as the name order's index holds it
/// (migration 0017): the same text as PostgreSQL's `search_text` column. A query that
/// tests exactly this expression reads its value from the index entry.
const SQLITE_SEARCH_TEXT: &str = "lower(i.name || char(1) || COALESCE(i.external_id, '') || \
     char(1) || COALESCE(i.spiffe_id, ''))";

/// A LIKE pattern for the searched text (PostgreSQL's `search_text`, SQLite's
/// [`SQLITE_SEARCH_TEXT`]): lower-cased as that text is. PostgreSQL's `lower()` runs in
/// the names' "C" collation and SQLite's folds ASCII only, so the term is folded the
/// same way (an "É" stays as written on both sides).
fn search_text_pattern(search: &str) -> String {
    like_pattern(&search.to_ascii_lowercase())
}

/// Appends ` AND ($column, i.id) $op (…)`: the rows after (or, with `<=`/`>=`, up to)
/// a key of a listing's order, `$key` being a `&(CursorValue, Uuid)`.
macro_rules! push_key_bound {
    ($sql:expr, $column:expr, $op:expr, $key:expr) => {{
        let (value, id): &(CursorValue, Uuid) = $key;
        $sql.push(format_args!(" AND ({}, i.id){}(", $column, $op));
        match value {
            CursorValue::Text(text) => $sql.push_bind(text.clone()),
            CursorValue::Time(at) => $sql.push_bind(*at),
        };
        $sql.push(", ").push_bind(*id).push(")");
    }};
}

/// Whether the trigram search indexes can find the rows containing `search`: trigrams
/// need three characters or more.
fn search_index_serves(search: &str) -> bool {
    search.chars().count() >= 3
}

/// Appends ` AND i.rowid IN (…)`: the rows SQLite's search index finds for `$search`,
/// with `$range` (`Some((from, to))`) only those whose rowid is in `[from, to)` — the
/// index seeks to `from` and stops at `to`, so it reads only that share of the matches.
macro_rules! push_search_index_match {
    ($sql:expr, $search:expr, $range:expr) => {{
        let range: Option<(i64, i64)> = $range;
        $sql.push(
            " AND i.rowid IN (SELECT rowid FROM identity_search WHERE identity_search MATCH ",
        )
        .push_bind(fts_phrase($search));
        if let Some((from, to)) = range {
            $sql.push(" AND rowid >= ")
                .push_bind(from)
                .push(" AND rowid < ")
                .push_bind(to);
        }
        $sql.push(")");
    }};
}

/// Appends the filters of an inventory query (`AND …` clauses on the alias `i`) to a
/// query builder of either database. None of them needs a join, so counts and bulk
/// selections read only the identities table and its indexes.
///
/// With `walk` (SQLite only), the broad filters are written `+column`, which keeps
/// SQLite from answering them through their own indexes: the listing then walks the
/// sort order's index and stops after one page, instead of collecting every match
/// and sorting it. The caller asks for this when the filter is not selective.
macro_rules! push_filters {
    ($sql:expr, $query:expr, $now:expr) => {
        push_filters!($sql, $query, $now, false)
    };
    ($sql:expr, $query:expr, $now:expr, $walk:expr) => {{
        let sql = $sql;
        let query: &IdentityQuery = $query;
        let now: DateTime<Utc> = $now;
        let p = if $walk { "+" } else { "" };
        if let Some(class) = query.actor_class {
            sql.push(format_args!(" AND {p}i.actor_class = ")).push_bind(class.as_str());
        }
        if let Some(kind) = query.kind {
            sql.push(format_args!(" AND {p}i.kind = ")).push_bind(kind.as_str());
        }
        if let Some(source) = query.source {
            sql.push(format_args!(" AND {p}i.source = ")).push_bind(source.as_str());
        }
        if let Some(environment) = &query.environment {
            sql.push(format_args!(" AND {p}i.environment = ")).push_bind(environment.clone());
        }
        if let Some(status) = query.status {
            sql.push(format_args!(" AND {p}i.status = ")).push_bind(status.as_str());
        }
        if let Some(owner) = &query.owner {
            sql.push(" AND i.owner_id = (SELECT id FROM people WHERE email = ")
                .push_bind(owner.clone())
                .push(")");
        }
        if let Some(team) = &query.team {
            sql.push(format_args!(" AND {p}i.team = ")).push_bind(team.clone());
        }
        if query.orphaned {
            // Nobody answers for it: no owner, or an owner who has left.
            sql.push(format_args!(" AND ({})", orphaned_condition(p)));
        }
        if query.expired {
            sql.push(format_args!(" AND {p}i.expires_at <= ")).push_bind(now);
        }
        if let Some(days) = query.expiring_days {
            sql.push(format_args!(" AND {p}i.expires_at > "))
                .push_bind(now)
                .push(format_args!(" AND {p}i.expires_at <= "))
                .push_bind(now + chrono::Duration::days(i64::from(days)));
        }
        if let Some(days) = query.stale_days {
            sql.push(format_args!(" AND ({p}i.last_used_at IS NULL OR {p}i.last_used_at < "))
                .push_bind(now - chrono::Duration::days(i64::from(days)))
                .push(")");
        }
        if query.ungoverned {
            // What the dashboard's governed share counts, negated.
            sql.push(format_args!(
                " AND ({} OR {p}i.expires_at IS NULL OR {p}i.revocation_path IS NULL \
                 OR trim({p}i.revocation_path) = '')",
                orphaned_condition(p)
            ));
        }
        if let Some(finding) = &query.finding {
            match finding {
                FindingFilter::Any => {
                    sql.push(" AND EXISTS (SELECT 1 FROM findings f WHERE f.identity_id = i.id AND f.state = 'open')");
                }
                FindingFilter::Check(check) => {
                    sql.push(" AND i.id IN (SELECT f.identity_id FROM findings f WHERE f.check_id = ")
                        .push_bind(check.clone())
                        .push(" AND f.state = 'open')");
                }
            }
        }
        if let Some(control) = &query.control {
            let checks: Vec<String> = Catalog::shipped()
                .checks_for(control)
                .map(|c| c.id.clone())
                .collect();
            if checks.is_empty() {
                // No check covers the control: nothing can be found against it.
                sql.push(" AND 1 = 0");
            } else {
                sql.push(" AND i.id IN (SELECT f.identity_id FROM findings f WHERE f.state = 'open' AND f.check_id IN (");
                let mut list = sql.separated(", ");
                for check in checks {
                    list.push_bind(check);
                }
                sql.push("))");
            }
        }
        if let Some((from, to)) = query.credential_age {
            // Active credentials whose secret was last set within the age range.
            sql.push(" AND EXISTS (SELECT 1 FROM credentials c WHERE c.identity_id = i.id \
                      AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > ")
                .push_bind(now)
                .push(") AND COALESCE(c.last_rotated_at, c.created_at) <= ")
                .push_bind(now - chrono::Duration::days(i64::from(from)));
            if let Some(to) = to {
                sql.push(" AND COALESCE(c.last_rotated_at, c.created_at) > ")
                    .push_bind(now - chrono::Duration::days(i64::from(to)));
            }
            sql.push(")");
        }
        if let Some(search) = &query.search {
            match DIALECT {
                // Three characters or more: the trigram index finds the rows.
                // Walking (a search window) tests the text itself instead.
                Dialect::Sqlite if search_index_serves(search) && !$walk => {
                    push_search_index_match!(sql, search, None);
                }
                _ => push_search_text!(sql, "i", search),
            }
        }
    }};
}

/// How many parts a SQLite search's counts are split into: one per core, at most
/// [`MAX_COUNT_PARTS`] so one request does not take every reader connection.
fn count_parts() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get())
        .min(MAX_COUNT_PARTS)
}

/// The most parts a SQLite search's counts are split into.
const MAX_COUNT_PARTS: usize = 4;

/// `parts` half-open rowid ranges `[from, to)` of about equal width covering
/// `first..=last` (one range when `parts` is 0 or 1).
fn rowid_parts(first: i64, last: i64, parts: usize) -> Vec<(i64, i64)> {
    let parts = parts.max(1) as i64;
    let end = last.saturating_add(1);
    let width = (end - first).max(0) / parts;
    (0..parts)
        .map(|n| {
            let from = first + n * width;
            let to = if n == parts - 1 { end } else { from + width };
            (from, to)
        })
        .collect()
}

/// Nobody answers for the identity `i`: no owner, or an owner who has left (`p`: the
/// prefix that keeps the condition off an index while walking).
fn orphaned_condition(p: &str) -> String {
    format!(
        "{p}i.owner_id IS NULL OR {p}i.owner_id IN (SELECT id FROM people WHERE active = FALSE)"
    )
}

/// The column a sort orders by.
fn sort_column(key: SortKey) -> &'static str {
    match key {
        SortKey::Name => "i.name",
        SortKey::Created => "i.created_at",
        SortKey::LastUsed => "i.last_used_at",
        SortKey::Expires => "i.expires_at",
    }
}

/// Which part of a listing a query reads, and where in it: the rows with a sort value
/// after key `K` (or from the start), or the rows without one (nullable sorts only)
/// after an id (or from the start).
#[derive(Clone, Copy)]
enum Part<K> {
    Valued(Option<K>),
    Null(Option<Uuid>),
}

impl<K> Part<K> {
    fn as_ref(&self) -> Part<&K> {
        match self {
            Part::Valued(after) => Part::Valued(after.as_ref()),
            Part::Null(after) => Part::Null(*after),
        }
    }
}

/// How a part of a listing reads the register.
enum Scan {
    /// Through the filters' indexes (for a search, the search index).
    Indexes,
    /// The first rows in sort order from the position, then filtered: the search as a
    /// substring test on them.
    Window(i64),
    /// The name order through its covering index up to a key (inclusive; `None`: to
    /// the end; PostgreSQL counts [`NAME_WALK`] entries instead), the search tested on
    /// the index entries (name order only).
    NameWalk(Option<(CursorValue, Uuid)>),
}

enum CursorValue {
    Text(String),
    Time(DateTime<Utc>),
}

impl Store {
    pub async fn list_identities(
        &self,
        query: &IdentityQuery,
    ) -> Result<Page<IdentitySummary>, StoreError> {
        self.list_identities_at(query, Utc::now()).await
    }

    /// Lists identities, judging expiry and staleness against `now`.
    ///
    /// Keyset pagination on `(sort column, id)`. Identities without a value for the
    /// sort (never used, no expiry) come last in both directions: the page is read
    /// from the valued rows first and topped up from the others, each with a query
    /// an index on `(column, id)` serves.
    pub async fn list_identities_at(
        &self,
        query: &IdentityQuery,
        now: DateTime<Utc>,
    ) -> Result<Page<IdentitySummary>, StoreError> {
        let sort = query.sort;
        let nullable = matches!(sort.key, SortKey::LastUsed | SortKey::Expires);
        let bad_cursor = |_| StoreError::Corrupt("cursor".into());
        let position = match &query.cursor {
            None => Part::Valued(None),
            Some(cursor) => match (&cursor.after_value, sort.key) {
                (None, _) if nullable => Part::Null(Some(cursor.after_id)),
                (Some(name), SortKey::Name) => {
                    Part::Valued(Some((CursorValue::Text(name.clone()), cursor.after_id)))
                }
                (Some(_), _) => match cursor.after_time().map_err(bad_cursor)? {
                    Some(at) => Part::Valued(Some((CursorValue::Time(at), cursor.after_id))),
                    None => Part::Valued(None),
                },
                (None, _) => Part::Valued(None),
            },
        };
        let want = i64::from(query.limit) + 1;
        let walk = self.walk_sort_index(query).await?;
        let mut rows: Vec<IdentityRow> = Vec::new();
        if let Part::Valued(_) = position {
            rows = self
                .list_part_searching(query, now, walk, position.as_ref(), want)
                .await?;
        }
        if nullable && (rows.len() as i64) < want {
            let after_id = match &position {
                Part::Null(after) => *after,
                Part::Valued(_) => None,
            };
            let part = Part::Null(after_id);
            let more = self
                .list_part_searching(query, now, walk, part, want - rows.len() as i64)
                .await?;
            rows.extend(more);
        }
        let items = rows
            .into_iter()
            .map(IdentitySummary::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_from_overfetch(items, query.limit, sort))
    }

    /// One part of a listing. Without a search, through the filters' indexes. With one:
    /// in the name order, a common term walks the name index ([`NAME_WALK`]) and a rare
    /// one asks the search index; in other orders a small window of rows comes first
    /// ([`SEARCH_WINDOW`]), then the search index.
    async fn list_part_searching(
        &self,
        query: &IdentityQuery,
        now: DateTime<Utc>,
        walk: bool,
        part: Part<&(CursorValue, Uuid)>,
        limit: i64,
    ) -> Result<Vec<IdentityRow>, StoreError> {
        let Some(search) = &query.search else {
            return self
                .list_part(query, now, walk, Scan::Indexes, part, limit)
                .await;
        };
        // PostgreSQL walks only for the search alone: its walk reads index entries
        // without the rows, which other filters would need.
        let walkable = match self.dialect() {
            Dialect::Sqlite => true,
            Dialect::Postgres => !IdentityQuery {
                search: None,
                ..query.clone()
            }
            .is_filtered(),
        };
        let first = if query.sort.key == SortKey::Name && walkable {
            if !self.search_is_common(search).await? {
                return self
                    .list_part(query, now, walk, Scan::Indexes, part, limit)
                    .await;
            }
            let end = match self.dialect() {
                Dialect::Sqlite => self.name_walk_end(part, query.sort.descending).await?,
                Dialect::Postgres => None,
            };
            Scan::NameWalk(end)
        } else {
            Scan::Window(SEARCH_WINDOW)
        };
        let rows = self.list_part(query, now, walk, first, part, limit).await?;
        // A full page from the walk or window is the right page: every row after it
        // comes later in the order.
        if rows.len() as i64 >= limit {
            return Ok(rows);
        }
        self.list_part(query, now, walk, Scan::Indexes, part, limit)
            .await
    }

    /// The key [`NAME_WALK`] entries on from the position in the name order (`None`
    /// when fewer remain): where a name walk stops. Skipping entries of the index is
    /// cheap; bounding the walk by a key, not by a row count in a subquery, lets the
    /// walk test each index entry in place.
    async fn name_walk_end(
        &self,
        part: Part<&(CursorValue, Uuid)>,
        descending: bool,
    ) -> Result<Option<(CursorValue, Uuid)>, StoreError> {
        let (op, dir) = if descending {
            (" < ", " DESC")
        } else {
            (" > ", " ASC")
        };
        Ok(db_run!(self, reader, |pool| {
            let mut sql =
                QueryBuilder::<Db>::new("SELECT i.name, i.id FROM identities i WHERE 1 = 1");
            if let Part::Valued(Some(after)) = part {
                push_key_bound!(sql, "i.name", op, after);
            }
            sql.push(format_args!(
                " ORDER BY i.name{dir}, i.id{dir} LIMIT 1 OFFSET "
            ))
            .push_bind(NAME_WALK - 1);
            let end: Option<(String, Uuid)> = sql.build_query_as().fetch_optional(pool).await?;
            end.map(|(name, id)| (CursorValue::Text(name), id))
        }))
    }

    /// Whether counting the facets of `query` means grouping more than
    /// [`RARE_MATCHES`] rows found by a search (a common term): those counts take longer
    /// than a page should wait, so the inventory page asks for them after it is shown.
    /// Every other facet count is answered from kept counts or one indexed pass.
    pub async fn facets_are_costly(&self, query: &IdentityQuery) -> Result<bool, StoreError> {
        match &query.search {
            Some(search) => self.search_is_common(search).await,
            None => Ok(false),
        }
    }

    /// Whether more than [`RARE_MATCHES`] identities match `search`. SQLite counts
    /// through the search index, stopping there; PostgreSQL's trigram indexes can only
    /// return every match, so its planner's estimate is asked instead (from the column
    /// statistics, without reading rows). Terms too short for an index count as common.
    async fn search_is_common(&self, search: &str) -> Result<bool, StoreError> {
        if !search_index_serves(search) {
            return Ok(true);
        }
        let matches: i64 = db_run!(self, reader, |pool| {
            match DIALECT {
                Dialect::Sqlite => {
                    let mut sql = QueryBuilder::<Db>::new(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM identity_search WHERE identity_search MATCH ",
                    );
                    sql.push_bind(fts_phrase(search))
                        .push(" LIMIT ")
                        .push_bind(RARE_MATCHES + 1)
                        .push(") m");
                    sql.build_query_scalar().fetch_one(pool).await?
                }
                Dialect::Postgres => {
                    let mut sql =
                        QueryBuilder::<Db>::new("EXPLAIN SELECT 1 FROM identities i WHERE 1 = 1");
                    push_search_text!(sql, "i", search);
                    let plan: Vec<String> = sql.build_query_scalar().fetch_all(pool).await?;
                    plan.first()
                        .and_then(|line| estimated_rows(line))
                        .unwrap_or(0)
                }
            }
        });
        Ok(matches > RARE_MATCHES)
    }

    /// One part of a listing: the rows with a sort value after a key (or from the
    /// start), or the rows without one after an id, read as `scan` says.
    async fn list_part(
        &self,
        query: &IdentityQuery,
        now: DateTime<Utc>,
        walk: bool,
        scan: Scan,
        part: Part<&(CursorValue, Uuid)>,
        limit: i64,
    ) -> Result<Vec<IdentityRow>, StoreError> {
        let sort = query.sort;
        let column = sort_column(sort.key);
        let nullable = matches!(sort.key, SortKey::LastUsed | SortKey::Expires);
        let (op, dir) = if sort.descending {
            (" < ", " DESC")
        } else {
            (" > ", " ASC")
        };
        let order = match part {
            Part::Valued(_) => format!(" ORDER BY {column}{dir}, i.id{dir}"),
            Part::Null(_) => format!(" ORDER BY i.id{dir}"),
        };
        let rows: Vec<IdentityRow> = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new("");
            match &scan {
                Scan::Indexes => {
                    sql.push(SUMMARY_COLUMNS)
                        .push(" FROM identities i")
                        .push(OWNER_JOIN)
                        .push(" WHERE 1 = 1");
                }
                Scan::Window(_) => {
                    sql.push(SUMMARY_COLUMNS)
                        .push(" FROM (SELECT i.* FROM identities i WHERE 1 = 1");
                }
                Scan::NameWalk(_) => {
                    sql.push(SUMMARY_COLUMNS)
                        .push(" FROM identities i")
                        .push(OWNER_JOIN)
                        .push(" WHERE 1 = 1");
                    // PostgreSQL tests index entries only in an index-only scan, which
                    // cannot return the other columns: the walk finds the ids first.
                    if DIALECT == Dialect::Postgres {
                        sql.push(
                            " AND i.id IN (SELECT w.id FROM (SELECT i.id, i.name, i.search_text \
                             FROM identities i WHERE 1 = 1",
                        );
                    }
                }
            }
            match part {
                Part::Valued(after) => {
                    if nullable {
                        sql.push(format_args!(" AND {column} IS NOT NULL"));
                    }
                    if let Some(after) = after {
                        push_key_bound!(sql, column, op, after);
                    }
                }
                Part::Null(after) => {
                    sql.push(format_args!(" AND {column} IS NULL"));
                    if let Some(id) = after {
                        sql.push(format_args!(" AND i.id{op}")).push_bind(id);
                    }
                }
            }
            match &scan {
                Scan::Indexes => {
                    push_filters!(&mut sql, query, now, walk && DIALECT == Dialect::Sqlite);
                    sql.push(&order).push(" LIMIT ").push_bind(limit);
                }
                Scan::Window(window) => {
                    // The window walks the sort order's index; the filters (the search
                    // as a plain substring test) then look only at its rows.
                    sql.push(&order).push(" LIMIT ").push_bind(*window);
                    sql.push(") i").push(OWNER_JOIN).push(" WHERE 1 = 1");
                    push_filters!(&mut sql, query, now, DIALECT == Dialect::Sqlite);
                    sql.push(&order).push(" LIMIT ").push_bind(limit);
                }
                Scan::NameWalk(_) if DIALECT == Dialect::Postgres => {
                    // One pass over at most NAME_WALK index entries, stopping at the
                    // page's last match. Each entry holds the three searched columns
                    // joined and lower-cased (`search_text`, migration 0009): a plain
                    // LIKE of the lower-cased term is a byte search, far cheaper than
                    // ILIKE lower-casing every entry.
                    let pattern = query
                        .search
                        .as_deref()
                        .map(search_text_pattern)
                        .unwrap_or_default();
                    sql.push(&order)
                        .push(" LIMIT ")
                        .push_bind(NAME_WALK)
                        .push(") w WHERE 1 = 1");
                    push_search_text_like!(sql, "w.search_text", pattern);
                    sql.push(format_args!(" ORDER BY w.name{dir}, w.id{dir} LIMIT "))
                        .push_bind(limit)
                        .push(")")
                        .push(&order);
                }
                Scan::NameWalk(end) => {
                    if let Some(end) = end {
                        let op = if sort.descending { " >= " } else { " <= " };
                        push_key_bound!(sql, "i.name", op, end);
                    }
                    // Walking: the search is one substring test of the searched text
                    // the index entry holds (lower-cased, tested with the lower-cased
                    // term), and the other filters are kept off their own indexes.
                    let others = IdentityQuery {
                        search: None,
                        ..query.clone()
                    };
                    push_filters!(&mut sql, &others, now, true);
                    if let Some(search) = &query.search {
                        push_search_text_like!(
                            sql,
                            SQLITE_SEARCH_TEXT,
                            search_text_pattern(search)
                        );
                    }
                    sql.push(&order).push(" LIMIT ").push_bind(limit);
                }
            }
            sql.build_query_as().fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Whether a SQLite listing should walk its sort index rather than let the filters
    /// pick their indexes: yes unless the filter is selective — an owner, a search, or
    /// class/kind/source/environment/status values that together hold less than 0.5 %
    /// of the register (known exactly from `identity_counts`). PostgreSQL's planner
    /// makes this choice well by itself.
    async fn walk_sort_index(&self, query: &IdentityQuery) -> Result<bool, StoreError> {
        // A finding of one check or control is usually rare enough to start from the
        // findings index.
        let findings_first =
            matches!(query.finding, Some(FindingFilter::Check(_))) || query.control.is_some();
        if self.dialect() != Dialect::Sqlite
            || query.owner.is_some()
            || query.search.is_some()
            || findings_first
        {
            return Ok(false);
        }
        let dims = query.dimensions_only();
        if !dims.is_filtered() {
            return Ok(true);
        }
        let (matching, total): (i64, i64) = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT COALESCE(SUM(i.n), 0), (SELECT COALESCE(SUM(n), 0) FROM identity_counts) \
                 FROM identity_counts i WHERE 1 = 1",
            );
            push_filters!(&mut sql, &dims, Utc::now());
            sql.build_query_as().fetch_one(pool).await?
        });
        Ok(total > 0 && matching * 200 >= total)
    }

    /// Counts per dimension of the identities matching the query's filters, with how
    /// many of them are orphaned and expired.
    ///
    /// A filter on class, kind, source, environment, status and orphaned only is
    /// answered from the trigger-maintained `identity_counts` (which keeps the orphaned
    /// split) and a range of the expiry index; any other filter counts the matching rows
    /// in one grouped pass.
    pub async fn identity_facets(
        &self,
        query: &IdentityQuery,
        now: DateTime<Utc>,
    ) -> Result<Facets, StoreError> {
        self.identity_facets_in_parts(query, now, count_parts())
            .await
    }

    /// [`Store::identity_facets`] with a SQLite search's rows counted in `parts` parts
    /// (the same counts whatever the number; tests compare them).
    pub async fn identity_facets_in_parts(
        &self,
        query: &IdentityQuery,
        now: DateTime<Utc>,
        parts: usize,
    ) -> Result<Facets, StoreError> {
        type Group = (String, String, String, String, String, i64, i64, i64);
        let dimensions = query.dimensions_only();
        let counted = IdentityQuery {
            orphaned: query.orphaned,
            ..dimensions.clone()
        } == query.filter_only();
        let groups: Vec<Group> = db_run!(self, reader, |pool| {
            if counted {
                let mut sql = QueryBuilder::<Db>::new(
                    "SELECT i.actor_class, i.kind, i.source, i.environment, i.status, \
                     CAST(SUM(i.n) AS BIGINT), \
                     CAST(SUM(CASE WHEN i.orphaned THEN i.n ELSE 0 END) AS BIGINT), \
                     CAST(0 AS BIGINT) \
                     FROM identity_counts i WHERE i.n > 0",
                );
                push_filters!(&mut sql, &dimensions, now);
                if query.orphaned {
                    sql.push(" AND i.orphaned");
                }
                sql.push(" GROUP BY i.actor_class, i.kind, i.source, i.environment, i.status");
                let groups: Vec<Group> = sql.build_query_as().fetch_all(pool).await?;
                // Expired rows are a prefix of the expiry index, which also holds every
                // column these filters test: one range read, whatever the filter.
                let mut sql = QueryBuilder::<Db>::new(match DIALECT {
                    Dialect::Sqlite => {
                        "SELECT COUNT(*) FROM identities i INDEXED BY identities_expiry_facets \
                         WHERE 1 = 1"
                    }
                    Dialect::Postgres => "SELECT COUNT(*) FROM identities i WHERE 1 = 1",
                });
                let expired_filter = IdentityQuery {
                    expired: true,
                    ..query.filter_only()
                };
                push_filters!(&mut sql, &expired_filter, now);
                let expired: i64 = sql.build_query_scalar().fetch_one(pool).await?;
                // Carried on one group row; the fold only adds it up.
                let mut groups = groups;
                if let Some(first) = groups.first_mut() {
                    first.7 = expired;
                }
                groups
            } else {
                // One grouped pass over the matching rows, or over each part of them.
                // A kind has one class, so grouping by the kind groups the classes too;
                // one text column less to sort cut SQLite's counts of a common search's
                // 40,000 matches by about a tenth.
                let grouped = |part: Option<(i64, i64)>| {
                    let mut sql = QueryBuilder::<Db>::new(format!(
                        "SELECT MIN(i.actor_class), i.kind, i.source, i.environment, i.status, \
                         COUNT(*), SUM(CASE WHEN {} THEN 1 ELSE 0 END), \
                         SUM(CASE WHEN i.expires_at <= ",
                        orphaned_condition("")
                    ));
                    sql.push_bind(now)
                        .push(" THEN 1 ELSE 0 END) FROM identities i WHERE 1 = 1");
                    match (part, &query.search) {
                        (Some(range), Some(search)) => {
                            push_filters!(
                                &mut sql,
                                &IdentityQuery {
                                    search: None,
                                    ..query.clone()
                                },
                                now
                            );
                            push_search_index_match!(sql, search, Some(range));
                        }
                        _ => push_filters!(&mut sql, query, now),
                    }
                    sql.push(" GROUP BY i.kind, i.source, i.environment, i.status");
                    sql
                };
                let ranges = match (DIALECT, &query.search) {
                    // One part needs no ranges (nor the query for the rowids' ends).
                    (Dialect::Sqlite, Some(search)) if parts > 1 && search_index_serves(search) => {
                        let (first, last): (Option<i64>, Option<i64>) = sqlx::query_as(
                            "SELECT (SELECT MIN(rowid) FROM identities), \
                             (SELECT MAX(rowid) FROM identities)",
                        )
                        .fetch_one(pool)
                        .await?;
                        match (first, last) {
                            (Some(first), Some(last)) => rowid_parts(first, last, parts),
                            _ => Vec::new(),
                        }
                    }
                    _ => Vec::new(),
                };
                if ranges.len() > 1 {
                    // SQLite answers one query on one core: a common term's counts (tens
                    // of thousands of rows found, read and grouped) are split into parts
                    // counted at once on separate reader connections, then added up.
                    let counted = futures_util::future::try_join_all(ranges.into_iter().map(
                        |part| async move {
                            grouped(Some(part))
                                .build_query_as::<Group>()
                                .fetch_all(pool)
                                .await
                        },
                    ))
                    .await?;
                    counted.into_iter().flatten().collect()
                } else {
                    grouped(None).build_query_as().fetch_all(pool).await?
                }
            }
        });
        let count = |n: i64| n.max(0) as u64;
        let orphaned = groups.iter().map(|g| count(g.6)).sum();
        let expired = groups.iter().map(|g| count(g.7)).sum();
        let groups: Vec<([String; 5], u64)> = groups
            .into_iter()
            .map(|(a, b, c, d, e, n, _, _)| ([a, b, c, d, e], count(n)))
            .collect();
        Ok(Facets::from_groups(&groups, orphaned, expired))
    }

    /// The identities matching the query's filters (at most `limit`, by id) with who
    /// owns and sponsors them: what a bulk assignment works on.
    pub async fn identity_holders_matching(
        &self,
        query: &IdentityQuery,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Holders>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(
                "SELECT i.id, i.owner_id, i.sponsor_id, i.status FROM identities i WHERE 1 = 1",
            );
            push_filters!(&mut sql, query, now);
            sql.push(" ORDER BY i.id LIMIT ").push_bind(limit);
            sql.build_query_as().fetch_all(pool).await?
        }))
    }

    pub async fn count_identities(&self) -> Result<i64, StoreError> {
        let count: i64 = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM identities")
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }

    /// Inserts identities in multi-row statements inside one transaction: all of them
    /// or none (no audit: for bulk loads of demo and test data).
    pub async fn insert_identities(&self, identities: &[NewIdentity]) -> Result<(), StoreError> {
        let loaded: Result<(), WriteError> = async {
            let mut tx = self.begin_write().await?;
            for chunk in identities.chunks(INSERT_BATCH) {
                tx.run(&[writes::insert_identities(chunk)]).await?;
            }
            tx.commit(&[]).await
        }
        .await;
        loaded.map_err(|e| match e {
            WriteError::Store(e) => e,
            other => StoreError::Corrupt(other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn rowid_parts_cover_every_rowid_once() {
        for (first, last, parts) in [
            (1, 1_000_000, 2),
            (1, 10, 3),
            (5, 5, 4),
            (1, 3, 4),
            (-3, 7, 1),
        ] {
            let ranges = super::rowid_parts(first, last, parts);
            assert_eq!(ranges.len(), parts);
            assert_eq!(ranges[0].0, first);
            assert_eq!(ranges[parts - 1].1, last + 1);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1, pair[1].0, "{ranges:?}");
            }
            assert!(ranges.iter().all(|(from, to)| from <= to), "{ranges:?}");
        }
        assert_eq!(super::rowid_parts(1, 4, 2), vec![(1, 3), (3, 5)]);
        assert_eq!(super::rowid_parts(1, 4, 0), vec![(1, 5)]);
    }

    #[test]
    fn the_planners_row_estimate_is_read_from_the_plan() {
        let line = "Bitmap Heap Scan on identities i  (cost=1219.87..42600.66 rows=100718 width=4)";
        assert_eq!(super::estimated_rows(line), Some(100_718));
        assert_eq!(
            super::estimated_rows("Result  (cost=0.00..0.01 rows=1 width=4)"),
            Some(1)
        );
        assert_eq!(super::estimated_rows("no estimate here"), None);
    }

    #[test]
    fn the_sqlite_name_index_holds_the_searched_text_the_walk_tests() {
        // SQLite reads an indexed expression from the index only when the query repeats
        // it exactly (column qualifiers aside).
        let migration = include_str!("../../../../migrations/sqlite/0017_search_text_index.sql");
        let unqualified = super::SQLITE_SEARCH_TEXT
            .replace("i.", "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let index = migration.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            index.contains(&format!("name, id, {unqualified} );")),
            "{unqualified}"
        );
    }

    #[test]
    fn fts_phrases_quote_the_text() {
        assert_eq!(
            super::fts_phrase(r#"say "hi" OR x"#),
            r#""say ""hi"" OR x""#
        );
    }

    #[test]
    fn like_patterns_match_text_literally() {
        assert_eq!(like_pattern("ci"), "%ci%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
