//! Counts of the identities matching a query per dimension (the inventory's facets),
//! and the identities a bulk assignment works on.

// Everything of the parent: the filter macros name its helpers and imports.
use super::filters::*;
use super::*;

impl Store {
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
                push_filters(&mut sql, &dimensions, now, false);
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
                push_filters(&mut sql, &expired_filter, now, false);
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
                            push_filters(
                                &mut sql,
                                &IdentityQuery {
                                    search: None,
                                    ..query.clone()
                                },
                                now,
                                false,
                            );
                            push_search_index_match(&mut sql, search, Some(range));
                        }
                        _ => push_filters(&mut sql, query, now, false),
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
            push_filters(&mut sql, query, now, false);
            sql.push(" ORDER BY i.id LIMIT ").push_bind(limit);
            sql.build_query_as().fetch_all(pool).await?
        }))
    }
}
