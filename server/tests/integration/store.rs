//! The store suite: the same assertions on SQLite and (when configured) PostgreSQL.

use crate::common::for_each_store;
use chrono::Utc;
use steward_domain::inventory::{ActorClass, IdentityKind, IdentityQuery, IdentityStatus, Source};
use steward_server::demo;
use steward_server::store::inventory::NewIdentity;
use steward_server::store::{Dialect, Store};
use uuid::Uuid;

async fn seeded(store: &Store, identities: u64) {
    demo::seed(store, identities, 7, Utc::now(), |_| {})
        .await
        .expect("seed demo data");
}

fn query(text: &str) -> IdentityQuery {
    IdentityQuery::from_query_string(text).expect("valid query")
}

/// Follows `next_cursor` to the end, returning every row's (name, id).
async fn walk(store: &Store, mut q: IdentityQuery) -> Vec<(String, Uuid)> {
    let mut seen = Vec::new();
    loop {
        let page = store.list_identities(&q).await.expect("list");
        assert!(page.items.len() <= q.limit as usize);
        seen.extend(page.items.iter().map(|i| (i.name.clone(), i.id)));
        match page.next_cursor {
            Some(cursor) => q = q.with_cursor(&cursor).expect("cursor from the store"),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn a_new_database_is_migrated_and_empty() {
    for_each_store(|store| async move {
        store.ping().await.expect("ping");
        store.migrate().await.expect("migrating twice is a no-op");
        assert_eq!(store.count_identities().await.unwrap(), 0);
        // The sizing check asks the server; an empty register fits any cache.
        assert_eq!(store.cache_advice().await.unwrap(), None);
        let server = store.describe_server().await.unwrap();
        assert!(
            server.starts_with("SQLite 3.") || server.contains("shared_buffers"),
            "{server}"
        );
        let page = store.list_identities(&IdentityQuery::new()).await.unwrap();
        assert!(page.items.is_empty());
        assert_eq!(page.next_cursor, None);
    })
    .await;
}

#[tokio::test]
async fn keyset_pagination_visits_every_identity_once_in_name_order() {
    for_each_store(|store| async move {
        seeded(&store, 250).await;
        assert_eq!(store.count_identities().await.unwrap(), 250);
        assert_eq!(store.count_people().await.unwrap(), 10);

        let rows = walk(&store, query("limit=40")).await;
        assert_eq!(rows.len(), 250);
        let mut sorted = rows.clone();
        sorted.sort();
        assert_eq!(rows, sorted, "pages come in (name, id) order");
        sorted.dedup();
        assert_eq!(sorted.len(), 250, "no row appears twice");
    })
    .await;
}

#[tokio::test]
async fn actor_class_filter_partitions_the_register() {
    for_each_store(|store| async move {
        seeded(&store, 300).await;
        let ai = walk(&store, query("class=ai&limit=500")).await;
        let machine = walk(&store, query("class=machine&limit=500")).await;
        assert!(!ai.is_empty() && !machine.is_empty());
        assert_eq!(ai.len() + machine.len(), 300);

        let page = store
            .list_identities(&query("class=ai&limit=500"))
            .await
            .unwrap();
        for identity in &page.items {
            assert_eq!(identity.actor_class, ActorClass::Ai);
            assert_eq!(identity.kind.actor_class(), ActorClass::Ai);
        }
        // Pagination keeps the filter.
        let paged = walk(&store, query("class=ai&limit=7")).await;
        assert_eq!(paged, ai);
    })
    .await;
}

#[tokio::test]
async fn search_is_case_insensitive_literal_and_covers_external_ids() {
    for_each_store(|store| async move {
        seeded(&store, 300).await;
        let agents = store
            .list_identities(&query("q=AGENT&limit=500"))
            .await
            .unwrap();
        assert!(!agents.items.is_empty());
        assert!(agents.items.iter().all(|i| i.name.contains("agent")));

        let k8s = store
            .list_identities(&query("q=system:serviceaccount:&limit=500"))
            .await
            .unwrap();
        assert!(!k8s.items.is_empty());
        assert!(k8s.items.iter().all(|i| i.source == Source::Kubernetes));

        // Letters outside ASCII match as written, ASCII case still ignored around them,
        // in the name and in the external id, on the search index (rare term) alike.
        let now = Utc::now();
        store
            .insert_identities(&[NewIdentity {
                external_id: Some("urn:Zürich:Übung".into()),
                ..NewIdentity::new("Zürich-Pipeline", IdentityKind::Workload, "prod", now)
            }])
            .await
            .unwrap();
        for term in ["ZüRICH-PIPE", "zürich", "URN:zürich:Übung"] {
            let page = store
                .list_identities(&query(&format!("q={term}&limit=50")))
                .await
                .unwrap();
            let names: Vec<&str> = page.items.iter().map(|i| i.name.as_str()).collect();
            assert_eq!(
                names,
                ["Zürich-Pipeline"],
                "q={term} on {:?}",
                store.dialect()
            );
        }

        // LIKE wildcards in the search text match only themselves.
        for text in ["%25", "_", "%5C"] {
            let page = store
                .list_identities(&query(&format!("q={text}&limit=500")))
                .await
                .unwrap();
            assert!(
                page.items.is_empty(),
                "search for {text} matched {:?}",
                page.items.first()
            );
        }
    })
    .await;
}

#[tokio::test]
async fn owners_are_joined_and_orphans_have_none() {
    for_each_store(|store| async move {
        seeded(&store, 300).await;
        let page = store.list_identities(&query("limit=500")).await.unwrap();
        let orphans = page.items.iter().filter(|i| i.is_orphaned()).count();
        assert!(orphans > 0 && orphans < 100, "orphans: {orphans}");
        let owned = page.items.iter().find(|i| i.owner.is_some()).unwrap();
        let owner = owned.owner.as_ref().unwrap();
        assert!(owner.email.ends_with("@example.com"));
        assert!(!owner.display_name.is_empty());
    })
    .await;
}

#[tokio::test]
async fn demo_data_goes_only_into_an_empty_register() {
    for_each_store(|store| async move {
        seeded(&store, 20).await;
        let error = demo::seed(&store, 20, 7, Utc::now(), |_| {})
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the register already holds 20 identities"),
            "{error}"
        );
        assert_eq!(store.count_identities().await.unwrap(), 20);
    })
    .await;
}

#[tokio::test]
async fn a_failing_batch_writes_nothing() {
    for_each_store(|store| async move {
        let now = Utc::now();
        let identity = |name: &str, external_id: &str| NewIdentity {
            external_id: Some(external_id.into()),
            purpose: Some("test".into()),
            expires_at: Some(now),
            ..NewIdentity::new(name, IdentityKind::Agent, "prod", now)
        };
        // The third row repeats (source, external_id) of the first: the whole batch fails.
        let batch = vec![
            identity("a", "ext-1"),
            identity("b", "ext-2"),
            identity("c", "ext-1"),
        ];
        assert!(store.insert_identities(&batch).await.is_err());
        assert_eq!(store.count_identities().await.unwrap(), 0);

        // An owner that does not exist is refused by the foreign key.
        let mut orphan_ref = identity("d", "ext-4");
        orphan_ref.owner_id = Some(Uuid::new_v4());
        assert!(store.insert_identities(&[orphan_ref]).await.is_err());
        assert_eq!(store.count_identities().await.unwrap(), 0);

        store
            .insert_identities(&[identity("a", "ext-1"), identity("b", "ext-2")])
            .await
            .unwrap();
        assert_eq!(store.count_identities().await.unwrap(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_bad_database_url_is_a_clear_error() {
    let error = Store::open("mysql://root:hunter2@db/steward", 1)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "DATABASE_URL must start with sqlite:// or postgres:// (got 'mysql://root:***@db/steward')"
    );
    let error = Store::open("sqlite:///proc/no/such/dir/x.db", 1)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot create the database folder /proc/no/such/dir"),
        "{error}"
    );
}

#[tokio::test]
async fn lifecycle_and_ownership_filters_match_their_definitions() {
    for_each_store(|store| async move {
        seeded(&store, 400).await;
        let now = Utc::now();
        let all = store
            .list_identities_at(&query("limit=500"), now)
            .await
            .unwrap()
            .items;
        let run = |text: &'static str| {
            let store = store.clone();
            async move {
                store
                    .list_identities_at(&query(text), now)
                    .await
                    .unwrap()
                    .items
            }
        };
        let ids = |items: &[steward_domain::inventory::IdentitySummary]| {
            items.iter().map(|i| i.id).collect::<Vec<_>>()
        };
        let expect = |pred: &dyn Fn(&steward_domain::inventory::IdentitySummary) -> bool| {
            all.iter()
                .filter(|i| pred(i))
                .map(|i| i.id)
                .collect::<Vec<_>>()
        };

        let expired = run("expired=true&limit=500").await;
        assert!(!expired.is_empty());
        assert_eq!(
            ids(&expired),
            expect(&|i| i.expires_at.is_some_and(|at| at <= now))
        );

        let soon = run("expiring=30&limit=500").await;
        assert!(!soon.is_empty());
        assert_eq!(
            ids(&soon),
            expect(&|i| i
                .expires_at
                .is_some_and(|at| at > now && at <= now + chrono::Duration::days(30)))
        );

        let stale = run("stale=365&limit=500").await;
        assert_eq!(
            ids(&stale),
            expect(&|i| i
                .last_used_at
                .is_none_or(|at| at < now - chrono::Duration::days(365)))
        );

        // Orphaned: no owner, or an owner who has left (demo data has both).
        let orphans = run("orphaned=true&limit=500").await;
        assert!(orphans.iter().any(|i| i.owner.is_none()));
        assert!(
            orphans.len() > all.iter().filter(|i| i.owner.is_none()).count(),
            "owners who left count too"
        );

        let agents = run("kind=agent&env=prod&status=active&limit=500").await;
        assert!(!agents.is_empty());
        assert!(agents.iter().all(|i| i.kind == IdentityKind::Agent
            && i.environment == "prod"
            && i.status == IdentityStatus::Active));

        let owner = all.iter().find_map(|i| i.owner.clone()).unwrap();
        let owned = store
            .list_identities_at(&query(&format!("owner={}&limit=500", owner.email)), now)
            .await
            .unwrap()
            .items;
        assert_eq!(
            ids(&owned),
            expect(&|i| i.owner.as_ref().is_some_and(|o| o.email == owner.email))
        );

        let github = run("source=github&limit=500").await;
        assert!(!github.is_empty() && github.iter().all(|i| i.source == Source::Github));
    })
    .await;
}

#[tokio::test]
async fn every_search_path_finds_exactly_the_matching_rows_in_order() {
    for_each_store(|store| async move {
        // Enough identities that some terms are common (more than the search index is
        // asked for) and walk the name order, while rare ones use the search index.
        seeded(&store, 12_000).await;
        // Every order visits every identity once, also where many share a time (the
        // demo data's times repeat; a cursor keeps the time to the nanosecond).
        for sort in ["created", "last_used", "-last_used", "expires", "-expires"] {
            let everything = walk(&store, query(&format!("sort={sort}&limit=500"))).await;
            let unique: std::collections::HashSet<_> = everything.iter().map(|(_, id)| id).collect();
            assert_eq!((everything.len(), unique.len()), (12_000, 12_000), "sort={sort}");
        }
        for sort in ["name", "-name", "-created"] {
            let everything = walk(&store, query(&format!("sort={sort}&limit=500"))).await;
            assert_eq!(everything.len(), 12_000, "sort={sort}");
            let mut by_id = std::collections::HashMap::new();
            let mut q = query(&format!("sort={sort}&limit=500"));
            loop {
                let page = store.list_identities(&q).await.unwrap();
                for item in &page.items {
                    by_id.insert(item.id, item.clone());
                }
                match page.next_cursor {
                    Some(cursor) => q = q.with_cursor(&cursor).unwrap(),
                    None => break,
                }
            }
            for term in ["-", "E", "sa-1", "ing", "billing", "SYSTEM:service", "nothing-like-this"] {
                let needle = term.to_lowercase();
                let expected: Vec<(String, Uuid)> = everything
                    .iter()
                    .filter(|(_, id)| {
                        let item = &by_id[id];
                        [Some(&item.name), item.external_id.as_ref(), item.spiffe_id.as_ref()]
                            .into_iter()
                            .flatten()
                            .any(|text| text.to_lowercase().contains(&needle))
                    })
                    .cloned()
                    .collect();
                // Whether the inventory page defers the counts of this search: on
                // SQLite the search index counts the matches (more than 5,000 is
                // common); PostgreSQL's planner estimates, so only clear cases hold.
                if sort == "name" {
                    let costly = store.facets_are_costly(&query(&format!("q={term}"))).await.unwrap();
                    let common = term.chars().count() < 3 || expected.len() > 5_000;
                    if store.dialect() == Dialect::Sqlite || term.chars().count() < 3 || expected.is_empty() {
                        assert_eq!(costly, common, "q={term} ({} matches) on {:?}", expected.len(), store.dialect());
                    }
                }
                let found = walk(&store, query(&format!("q={term}&sort={sort}&limit=50"))).await;
                if found != expected {
                    let missing: Vec<_> = expected.iter().filter(|e| !found.contains(e)).take(3).collect();
                    panic!(
                        "q={term} sort={sort} on {:?}: {} rows where {} match; first missing {missing:?}",
                        store.dialect(),
                        found.len(),
                        expected.len()
                    );
                }
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_search_counted_in_parts_has_the_counts_of_one_pass() {
    for_each_store(|store| async move {
        seeded(&store, 3_000).await;
        let now = Utc::now();
        for filter in [
            "q=ing",
            "q=billing",
            "q=SA-1&env=prod",
            "q=ing&orphaned=true",
            "q=nothing-like-this",
        ] {
            let q = query(filter);
            let whole = store.identity_facets_in_parts(&q, now, 1).await.unwrap();
            // The parts add up to what the listing holds.
            let listed = walk(&store, query(&format!("{filter}&limit=500"))).await;
            assert_eq!(whole.total, listed.len() as u64, "{filter}");
            for parts in [2, 3, 7] {
                let split = store
                    .identity_facets_in_parts(&q, now, parts)
                    .await
                    .unwrap();
                assert_eq!(
                    split,
                    whole,
                    "{filter} in {parts} parts on {:?}",
                    store.dialect()
                );
            }
        }
        assert!(
            store
                .identity_facets_in_parts(&query("q=ing"), now, 2)
                .await
                .unwrap()
                .total
                > 0
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_changes_share_commits_and_each_stays_all_or_nothing() {
    use steward_domain::audit::{AuditAction, NewAuditEvent};
    use steward_server::store::audit::AuditFilter;
    use steward_server::store::write::{Statement, WriteError};

    for_each_store(|store| async move {
        let now = Utc::now();
        let person = |name: String, email: String| {
            Statement::new(
                "INSERT INTO people (id, display_name, email, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(Uuid::now_v7())
            .bind(name)
            .bind(email)
            .bind(now)
        };
        // 120 changes at once, each adding two people. Every fifth repeats, in its second
        // statement, the email change 0 added (a duplicate key); every seventh also demands
        // a person who does not exist (a failed precondition). Those must leave nothing
        // behind, not even their first person, and must not disturb the others.
        let fails_duplicate = |i: usize| i % 5 == 4;
        let fails_precondition = |i: usize| i % 7 == 6;
        let changes = (0..120usize).map(|i| {
            let second = if fails_duplicate(i) {
                "p0-a@example.test".to_owned()
            } else {
                format!("p{i}-b@example.test")
            };
            let mut statements = vec![
                person(format!("A {i}"), format!("p{i}-a@example.test")),
                person(format!("B {i}"), second),
            ];
            if fails_precondition(i) {
                statements.push(
                    Statement::new("UPDATE people SET team = 'x' WHERE email = $1")
                        .bind("nobody@example.test")
                        .must_touch(1, "no such person"),
                );
            }
            let events = vec![NewAuditEvent::new(
                "test",
                AuditAction::IdentityUpdate,
                format!("change:{i}"),
                serde_json::json!({ "i": i }),
            )];
            let store = store.clone();
            async move { store.write_grouped(statements, events).await }
        });
        let results = futures_util::future::join_all(changes).await;

        let mut written = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(counts) => {
                    assert!(
                        !fails_duplicate(i) && !fails_precondition(i),
                        "change {i} was written"
                    );
                    assert_eq!(counts, vec![1, 1]);
                    written.push(format!("change:{i}"));
                }
                Err(WriteError::Duplicate) => assert!(fails_duplicate(i), "change {i}: duplicate"),
                Err(WriteError::Precondition(message)) => {
                    assert!(fails_precondition(i) && !fails_duplicate(i), "change {i}");
                    assert_eq!(message, "no such person");
                }
                Err(other) => panic!("change {i}: {other}"),
            }
        }
        let expected = (0..120)
            .filter(|i| !fails_duplicate(*i) && !fails_precondition(*i))
            .count();
        assert_eq!(written.len(), expected);
        assert_eq!(store.count_people().await.unwrap(), 2 * expected as i64);

        // One audit event per written change, none for the others; the chain holds.
        let mut audited: Vec<String> = store
            .list_audit(&AuditFilter {
                action: Some(AuditAction::IdentityUpdate.as_str().into()),
                limit: 1000,
                ..AuditFilter::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.target)
            .collect();
        audited.sort();
        written.sort();
        assert_eq!(audited, written);
        let report = store.verify_audit().await.unwrap();
        assert_eq!(report.first_broken, None);

        // The changes shared commits.
        let (transactions, changes) = store.group_queue().counts();
        assert_eq!(changes, 120);
        assert!(
            transactions < changes,
            "{transactions} transactions for {changes} changes"
        );
    })
    .await;
}

/// Facet combinations whose kept count (`identity_counts`, maintained by triggers)
/// differs from counting the identities themselves; 0 when the triggers are right.
async fn kept_counts_off(store: &Store) -> i64 {
    const KEPT: &str = "SELECT actor_class, kind, source, environment, status, \
         CASE WHEN orphaned THEN 1 ELSE 0 END AS orphaned, n FROM identity_counts WHERE n <> 0";
    const COUNTED: &str = "SELECT i.actor_class, i.kind, i.source, i.environment, i.status, \
         CASE WHEN COALESCE(p.active, FALSE) THEN 0 ELSE 1 END AS orphaned, COUNT(*) AS n \
         FROM identities i LEFT JOIN people p ON p.id = i.owner_id GROUP BY 1, 2, 3, 4, 5, 6";
    crate::common::scalar(
        store,
        &format!(
            "SELECT (SELECT COUNT(*) FROM ({KEPT} EXCEPT {COUNTED}) extra) \
             + (SELECT COUNT(*) FROM ({COUNTED} EXCEPT {KEPT}) missing)"
        ),
        &[],
    )
    .await
}

/// Runs one statement straight on the database (what the triggers must keep up with).
async fn execute(store: &Store, sql: &str) -> u64 {
    match store {
        Store::Sqlite(s) => sqlx::query(sql)
            .execute(&s.writer)
            .await
            .unwrap()
            .rows_affected(),
        Store::Postgres(s) => sqlx::query(sql)
            .execute(&s.writer)
            .await
            .unwrap()
            .rows_affected(),
    }
}

#[tokio::test]
async fn kept_facet_counts_match_the_rows_after_bulk_changes() {
    for_each_store(|store| async move {
        // Demo seeding inserts many identities per statement.
        seeded(&store, 600).await;
        assert_eq!(kept_counts_off(&store).await, 0, "after seeding");

        let now = Utc::now();
        let batch: Vec<NewIdentity> = (0..300)
            .map(|n| NewIdentity {
                external_id: Some(format!("bulk-{n}")),
                expires_at: Some(now),
                ..NewIdentity::new(
                    &format!("bulk-{n}"),
                    if n % 3 == 0 {
                        IdentityKind::Agent
                    } else {
                        IdentityKind::ServiceAccount
                    },
                    if n % 2 == 0 { "prod" } else { "dev" },
                    now,
                )
            })
            .collect();
        store.insert_identities(&batch).await.unwrap();
        assert_eq!(kept_counts_off(&store).await, 0, "after a 300-row insert");

        // Each statement changes many rows at once; every kind of change the counts follow.
        for (change, sql) in [
            (
                "owners given",
                "UPDATE identities SET owner_id = (SELECT id FROM people ORDER BY email LIMIT 1) \
                 WHERE name LIKE 'bulk-1%'",
            ),
            (
                "status",
                "UPDATE identities SET status = 'suspended' WHERE environment = 'dev'",
            ),
            (
                "no counted column",
                "UPDATE identities SET last_used_at = created_at",
            ),
            (
                "a move and an owner removed at once",
                "UPDATE identities SET environment = 'staging', owner_id = NULL \
                 WHERE name LIKE 'bulk-2%' OR kind = 'agent'",
            ),
            (
                "owners leave",
                "UPDATE people SET active = NOT active WHERE email < 'm'",
            ),
            ("deleted", "DELETE FROM identities WHERE name LIKE 'bulk-%'"),
        ] {
            assert!(execute(&store, sql).await > 0, "{change} changed nothing");
            assert_eq!(kept_counts_off(&store).await, 0, "after: {change}");
        }
        assert_eq!(store.count_identities().await.unwrap(), 600);
    })
    .await;
}

#[tokio::test]
async fn a_list_is_bound_as_one_parameter_on_either_database() {
    use steward_server::store::write::{Arg, Statement};
    for_each_store(|store| async move {
        let sql = match store.dialect() {
            Dialect::Postgres => {
                "INSERT INTO posture_snapshots (day, taken_at, data) \
                 SELECT DATE '2026-01-01' + (u.n::int - 1), $2, u.t \
                 FROM UNNEST($1::text[]) WITH ORDINALITY AS u (t, n)"
            }
            Dialect::Sqlite => {
                "INSERT INTO posture_snapshots (day, taken_at, data) \
                 SELECT date('2026-01-01', '+' || key || ' days'), $2, value FROM json_each($1)"
            }
        };
        // Quotes, commas and braces must arrive as they are, one element each.
        let listed = vec![
            "first".to_owned(),
            "it's \"quoted\", {braced}".to_owned(),
            String::new(),
        ];
        let touched = store
            .write(
                &[Statement::new(sql)
                    .bind(Arg::TextList(listed.clone()))
                    .bind(Utc::now())],
                |_| Vec::new(),
            )
            .await
            .unwrap();
        assert_eq!(touched, vec![3]);
        let query = "SELECT data FROM posture_snapshots ORDER BY day";
        let stored: Vec<String> = match &store {
            Store::Sqlite(s) => sqlx::query_scalar(query).fetch_all(&s.reader).await,
            Store::Postgres(s) => sqlx::query_scalar(query).fetch_all(&s.reader).await,
        }
        .unwrap();
        assert_eq!(stored, listed);
    })
    .await;
}
