//! Test harness: every store test runs against a fresh SQLite database always, and
//! against a fresh PostgreSQL database when `STEWARD_TEST_PG_URL` is set.
#![allow(dead_code)]

use std::future::Future;

use sqlx::Connection;
use steward_server::store::Store;

/// Runs `test` once per available database, each time on a new, empty, migrated one.
pub async fn for_each_store<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/steward-test.db", dir.path().display());
    let store = Store::open(&url, 4).await.expect("open SQLite");
    test(store.clone()).await;
    store.close().await;

    if let Some(pg) = FreshPostgres::create().await {
        let store = Store::open(&pg.url, 4).await.expect("open PostgreSQL");
        test(store.clone()).await;
        store.close().await;
        pg.drop_database().await;
    }
}

/// A new database on the server named by `STEWARD_TEST_PG_URL`.
pub struct FreshPostgres {
    admin_url: String,
    name: String,
    pub url: String,
}

impl FreshPostgres {
    pub async fn create() -> Option<FreshPostgres> {
        let admin_url = std::env::var("STEWARD_TEST_PG_URL").ok()?;
        let name = format!("steward_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to STEWARD_TEST_PG_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        Some(FreshPostgres {
            admin_url,
            name,
            url,
        })
    }

    pub async fn drop_database(self) {
        let mut admin = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .expect("connect to STEWARD_TEST_PG_URL");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .expect("drop test database");
    }
}

/// `postgres://u@h:p/db?x` with `db` replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "y"),
        "postgres://u:p@h/y?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "z"), "postgres://h/z");
}
