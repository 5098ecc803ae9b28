//! Identities in the store: the row types, the query filters shared by the listing
//! ([`listing`]) and the counts ([`facets`]), bulk loads, and the statements that
//! change the register ([`writes`]).

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use steward_domain::identity::{Autonomy, OwnershipState, Sensitivity};
use steward_domain::inventory::{
    page_from_overfetch, Facets, FindingFilter, IdentityKind, IdentityQuery, IdentityStatus,
    IdentitySummary, Page, PersonRef, SortKey, Source,
};
use uuid::Uuid;

use super::{db_run, Dialect, Store, StoreError};

pub mod bulk;
pub mod detail;
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

pub(super) enum CursorValue {
    Text(String),
    Time(DateTime<Utc>),
}

mod facets;
mod filters;
mod listing;

impl Store {
    pub async fn count_identities(&self) -> Result<i64, StoreError> {
        let count: i64 = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM identities")
                .fetch_one(pool)
                .await?
        });
        Ok(count)
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
        let unqualified = super::filters::SQLITE_SEARCH_TEXT
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
