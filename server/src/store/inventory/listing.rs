//! The inventory listing: keyset pages in any sort order, with the search served by a
//! window of the sort order, a walk of the name index or the search index, whichever
//! is cheapest for the term.

// Everything of the parent: the filter macros name its helpers and imports.
use super::filters::*;
use super::*;

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
                push_key_bound(&mut sql, "i.name", op, after);
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
                    push_search_text(&mut sql, "i", search);
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
                        push_key_bound(&mut sql, column, op, after);
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
                    push_filters(&mut sql, query, now, walk && DIALECT == Dialect::Sqlite);
                    sql.push(&order).push(" LIMIT ").push_bind(limit);
                }
                Scan::Window(window) => {
                    // The window walks the sort order's index; the filters (the search
                    // as a plain substring test) then look only at its rows.
                    sql.push(&order).push(" LIMIT ").push_bind(*window);
                    sql.push(") i").push(OWNER_JOIN).push(" WHERE 1 = 1");
                    push_filters(&mut sql, query, now, DIALECT == Dialect::Sqlite);
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
                    push_search_text_like(&mut sql, "w.search_text", pattern);
                    sql.push(format_args!(" ORDER BY w.name{dir}, w.id{dir} LIMIT "))
                        .push_bind(limit)
                        .push(")")
                        .push(&order);
                }
                Scan::NameWalk(end) => {
                    if let Some(end) = end {
                        let op = if sort.descending { " >= " } else { " <= " };
                        push_key_bound(&mut sql, "i.name", op, end);
                    }
                    // Walking: the search is one substring test of the searched text
                    // the index entry holds (lower-cased, tested with the lower-cased
                    // term), and the other filters are kept off their own indexes.
                    let others = IdentityQuery {
                        search: None,
                        ..query.clone()
                    };
                    push_filters(&mut sql, &others, now, true);
                    if let Some(search) = &query.search {
                        push_search_text_like(
                            &mut sql,
                            SQLITE_SEARCH_TEXT,
                            search_text_pattern(search),
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
            push_filters(&mut sql, &dims, Utc::now(), false);
            sql.build_query_as().fetch_one(pool).await?
        });
        Ok(total > 0 && matching * 200 >= total)
    }
}
