//! The inventory's query-building: the filters of an [`IdentityQuery`], text search,
//! keyset bounds — functions generic over the database ([`Backend`]), used by the
//! listing, the facet counts and the exports alike.

use chrono::{DateTime, Utc};
use sqlx::{Encode, QueryBuilder, Type};
use steward_domain::inventory::{FindingFilter, IdentityQuery};
use steward_domain::posture::catalog::Catalog;
use uuid::Uuid;

use super::{fts_phrase, like_pattern, orphaned_condition, CursorValue};
use crate::store::{Backend, Dialect};

/// Appends ` AND <text> LIKE <pattern> ESCAPE '\'`: the searched text (PostgreSQL's
/// `search_text` column or SQLite's [`SQLITE_SEARCH_TEXT`]) tested with a pattern from
/// [`search_text_pattern`].
pub(super) fn push_search_text_like<'args, DB>(
    sql: &mut QueryBuilder<'args, DB>,
    text: impl std::fmt::Display,
    pattern: String,
) where
    DB: Backend,
    &'static str: Encode<'args, DB> + Type<DB>,
    String: Encode<'args, DB> + Type<DB>,
    DateTime<Utc>: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
    Uuid: Encode<'args, DB> + Type<DB>,
{
    sql.push(format_args!(" AND {text} LIKE "))
        .push_bind(pattern)
        .push(" ESCAPE '\\'");
}

/// Appends ` AND (…)`: `search` as a substring of the name, external id or SPIFFE ID
/// of the rows aliased `alias`, ignoring ASCII case, tested on the text itself.
/// SQLite's LIKE ignores ASCII case; PostgreSQL tests the row's `search_text` (the
/// three joined and lower-cased, served by its trigram index) with the term
/// lower-cased the same way.
pub(super) fn push_search_text<'args, DB>(
    sql: &mut QueryBuilder<'args, DB>,
    alias: &str,
    search: &str,
) where
    DB: Backend,
    &'static str: Encode<'args, DB> + Type<DB>,
    String: Encode<'args, DB> + Type<DB>,
    DateTime<Utc>: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
    Uuid: Encode<'args, DB> + Type<DB>,
{
    match DB::DIALECT {
        Dialect::Sqlite => {
            let pattern = like_pattern(search);
            sql.push(format_args!(" AND ({alias}.name LIKE "))
                .push_bind(pattern.clone())
                .push(format_args!(" ESCAPE '\\' OR {alias}.external_id LIKE "))
                .push_bind(pattern.clone())
                .push(format_args!(" ESCAPE '\\' OR {alias}.spiffe_id LIKE "))
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        Dialect::Postgres => {
            push_search_text_like(
                sql,
                format_args!("{alias}.search_text"),
                search_text_pattern(search),
            );
        }
    }
}

/// SQLite's searched text of the identity `i`, as the name order's index holds it
/// (migration 0017): the same text as PostgreSQL's `search_text` column. A query that
/// tests exactly this expression reads its value from the index entry.
pub(super) const SQLITE_SEARCH_TEXT: &str =
    "lower(i.name || char(1) || COALESCE(i.external_id, '') || \
     char(1) || COALESCE(i.spiffe_id, ''))";

/// A LIKE pattern for the searched text (PostgreSQL's `search_text`, SQLite's
/// [`SQLITE_SEARCH_TEXT`]): lower-cased as that text is. PostgreSQL's `lower()` runs in
/// the names' "C" collation and SQLite's folds ASCII only, so the term is folded the
/// same way (an "É" stays as written on both sides).
pub(super) fn search_text_pattern(search: &str) -> String {
    like_pattern(&search.to_ascii_lowercase())
}

/// Appends ` AND (column, i.id) op (…)`: the rows after (or, with `<=`/`>=`, up to)
/// a key of a listing's order.
pub(super) fn push_key_bound<'args, DB>(
    sql: &mut QueryBuilder<'args, DB>,
    column: &str,
    op: &str,
    (value, id): &(CursorValue, Uuid),
) where
    DB: Backend,
    &'static str: Encode<'args, DB> + Type<DB>,
    String: Encode<'args, DB> + Type<DB>,
    DateTime<Utc>: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
    Uuid: Encode<'args, DB> + Type<DB>,
{
    sql.push(format_args!(" AND ({column}, i.id){op}("));
    match value {
        CursorValue::Text(text) => sql.push_bind(text.clone()),
        CursorValue::Time(at) => sql.push_bind(*at),
    };
    sql.push(", ").push_bind(*id).push(")");
}

/// Whether the trigram search indexes can find the rows containing `search`: trigrams
/// need three characters or more.
pub(super) fn search_index_serves(search: &str) -> bool {
    search.chars().count() >= 3
}

/// Appends ` AND i.rowid IN (…)`: the rows SQLite's search index finds for `search`,
/// with `range` (`Some((from, to))`) only those whose rowid is in `[from, to)` — the
/// index seeks to `from` and stops at `to`, so it reads only that share of the matches.
pub(super) fn push_search_index_match<'args, DB>(
    sql: &mut QueryBuilder<'args, DB>,
    search: &str,
    range: Option<(i64, i64)>,
) where
    DB: Backend,
    &'static str: Encode<'args, DB> + Type<DB>,
    String: Encode<'args, DB> + Type<DB>,
    DateTime<Utc>: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
    Uuid: Encode<'args, DB> + Type<DB>,
{
    sql.push(" AND i.rowid IN (SELECT rowid FROM identity_search WHERE identity_search MATCH ")
        .push_bind(fts_phrase(search));
    if let Some((from, to)) = range {
        sql.push(" AND rowid >= ")
            .push_bind(from)
            .push(" AND rowid < ")
            .push_bind(to);
    }
    sql.push(")");
}

/// Appends the filters of an inventory query (`AND …` clauses on the alias `i`) to a
/// query builder of either database. None of them needs a join, so counts and bulk
/// selections read only the identities table and its indexes.
///
/// With `walk` (SQLite only), the broad filters are written `+column`, which keeps
/// SQLite from answering them through their own indexes: the listing then walks the
/// sort order's index and stops after one page, instead of collecting every match
/// and sorting it. The caller asks for this when the filter is not selective.
pub(super) fn push_filters<'args, DB>(
    sql: &mut QueryBuilder<'args, DB>,
    query: &IdentityQuery,
    now: DateTime<Utc>,
    walk: bool,
) where
    DB: Backend,
    &'static str: Encode<'args, DB> + Type<DB>,
    String: Encode<'args, DB> + Type<DB>,
    DateTime<Utc>: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
    Uuid: Encode<'args, DB> + Type<DB>,
{
    let p = if walk { "+" } else { "" };
    if let Some(class) = query.actor_class {
        sql.push(format_args!(" AND {p}i.actor_class = "))
            .push_bind(class.as_str());
    }
    if let Some(kind) = query.kind {
        sql.push(format_args!(" AND {p}i.kind = "))
            .push_bind(kind.as_str());
    }
    if let Some(source) = query.source {
        sql.push(format_args!(" AND {p}i.source = "))
            .push_bind(source.as_str());
    }
    if let Some(environment) = &query.environment {
        sql.push(format_args!(" AND {p}i.environment = "))
            .push_bind(environment.clone());
    }
    if let Some(status) = query.status {
        sql.push(format_args!(" AND {p}i.status = "))
            .push_bind(status.as_str());
    }
    if let Some(owner) = &query.owner {
        sql.push(" AND i.owner_id = (SELECT id FROM people WHERE email = ")
            .push_bind(owner.clone())
            .push(")");
    }
    if let Some(team) = &query.team {
        sql.push(format_args!(" AND {p}i.team = "))
            .push_bind(team.clone());
    }
    if query.orphaned {
        // Nobody answers for it: no owner, or an owner who has left.
        sql.push(format_args!(" AND ({})", orphaned_condition(p)));
    }
    if query.expired {
        sql.push(format_args!(" AND {p}i.expires_at <= "))
            .push_bind(now);
    }
    if let Some(days) = query.expiring_days {
        sql.push(format_args!(" AND {p}i.expires_at > "))
            .push_bind(now)
            .push(format_args!(" AND {p}i.expires_at <= "))
            .push_bind(now + chrono::Duration::days(i64::from(days)));
    }
    if let Some(days) = query.stale_days {
        sql.push(format_args!(
            " AND ({p}i.last_used_at IS NULL OR {p}i.last_used_at < "
        ))
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
        sql.push(
            " AND EXISTS (SELECT 1 FROM credentials c WHERE c.identity_id = i.id \
                  AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > ",
        )
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
        match DB::DIALECT {
            // Three characters or more: the trigram index finds the rows.
            // Walking (a search window) tests the text itself instead.
            Dialect::Sqlite if search_index_serves(search) && !walk => {
                push_search_index_match(sql, search, None);
            }
            _ => push_search_text(sql, "i", search),
        }
    }
}
