//! The schema's history: from 0021 on both dialects give a step the same number and
//! name, a released step is never edited (a database that applied it would refuse to
//! start), and a database made by an earlier release upgrades with its data kept.

use std::borrow::Cow;
use std::str::FromStr;

use sqlx::migrate::Migrator;
use steward_server::store::Store;
use uuid::Uuid;

use crate::common::{on, postgres_skipped, scalar, FreshPostgres};

/// The first step both dialects number alike. Before it the numbers meant different
/// steps from 0004 on (SQLite had a search step of its own, PostgreSQL some steps
/// SQLite did not need); those stay as released.
const AGREE_FROM: i64 = 21;

fn sqlite_migrator() -> Migrator {
    sqlx::migrate!("../migrations/sqlite")
}

fn postgres_migrator() -> Migrator {
    sqlx::migrate!("../migrations/postgres")
}

/// (version, the first 16 hex digits of its SHA-384): every step released before
/// the numbers agreed. Editing one breaks every database that applied it.
const RELEASED_SQLITE: &[(i64, &str)] = &[
    (1, "ea34cb7c6ff77f0d"),
    (2, "41bb7657b1d87917"),
    (3, "001249a1a4a8bd70"),
    (4, "7fd0d9ce92cf6162"),
    (5, "c9d8b8318c77d7f5"),
    (6, "787d5add53990259"),
    (7, "f1692640cf5b6e31"),
    (8, "c545de57a5fc0e02"),
    (9, "af707869e7b5574c"),
    (10, "1a6d7fa3f3848fc3"),
    (11, "b6fc325fe7bfb448"),
    (12, "733b345390f98f13"),
    (13, "2b6a5bf5437f2b1b"),
    (14, "52f2020d130122fd"),
    (16, "146acee7b53d3b0f"),
    (17, "37ffb6f3ffc3d94f"),
    (19, "0b80d64d88ab6bfd"),
    (20, "b6ee5d8ecf8969b8"),
];

const RELEASED_POSTGRES: &[(i64, &str)] = &[
    (1, "504a89e742651324"),
    (2, "af3adcc5c6282478"),
    (3, "6acc8e2304293dbe"),
    (4, "f547924dc73be716"),
    (5, "35ab1d6c3c11342e"),
    (6, "37a8fc1611671f46"),
    (7, "27d642174596766f"),
    (8, "9f29ac6a5742918e"),
    (9, "a59b63593a52a960"),
    (10, "f54f06a86a3cf645"),
    (11, "6202ec6bc6791d06"),
    (12, "15017c413a6f2468"),
    (13, "5d2c352688a96494"),
    (14, "9ab2b0590b01db66"),
    (15, "dd21feb24b03dc12"),
    (16, "641d9c3b43ca3c28"),
    (17, "f1201eafc407c363"),
    (18, "daafd6ca269e472d"),
    (19, "5abe7db5285985c8"),
    (20, "96b77df4c40b75ca"),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn from_0021_on_both_dialects_number_the_same_steps_alike() {
    let sqlite = sqlite_migrator();
    let postgres = postgres_migrator();
    let steps = |m: &Migrator| -> Vec<(i64, String)> {
        m.iter()
            .filter(|s| s.version >= AGREE_FROM)
            .map(|s| (s.version, s.description.to_string()))
            .collect()
    };
    assert_eq!(
        steps(&sqlite),
        steps(&postgres),
        "from {AGREE_FROM:04} on, a migration has the same number and name in \
         migrations/sqlite and migrations/postgres (a step one dialect does not need is \
         an empty file with a comment saying why)"
    );
}

#[test]
fn a_released_migration_is_never_edited_or_renumbered() {
    for (dialect, migrator, released) in [
        ("sqlite", sqlite_migrator(), RELEASED_SQLITE),
        ("postgres", postgres_migrator(), RELEASED_POSTGRES),
    ] {
        let before: Vec<(i64, String)> = migrator
            .iter()
            .filter(|s| s.version < AGREE_FROM)
            .map(|s| (s.version, hex(&s.checksum)[..16].to_owned()))
            .collect();
        let expected: Vec<(i64, String)> = released
            .iter()
            .map(|(v, h)| (*v, (*h).to_owned()))
            .collect();
        assert_eq!(
            before, expected,
            "migrations/{dialect}: a released step was edited, added or removed below \
             {AGREE_FROM:04}; add a new step instead"
        );
    }
}

/// The last step of the release this test was written against: a database made then is
/// migrated to it, given data, and opened by today's code.
const BASELINE: i64 = 19;

fn up_to(mut migrator: Migrator, version: i64) -> Migrator {
    migrator.migrations = Cow::Owned(
        migrator
            .iter()
            .filter(|s| s.version <= version)
            .cloned()
            .collect(),
    );
    migrator
}

const PERSON: &str =
    "INSERT INTO people (id, display_name, email, team, active, created_at) VALUES ($1, 'Old Timer', 'old.timer@example.com', 'platform', TRUE, $2)";
const USER: &str =
    "INSERT INTO users (id, person_id, email, role, password_hash, active, created_at) VALUES ($1, $2, 'old.timer@example.com', 'admin', NULL, TRUE, $3)";

/// The newest step of a dialect.
fn latest(migrator: &Migrator) -> i64 {
    migrator.iter().map(|s| s.version).max().unwrap_or_default()
}

/// The upgraded database has the old rows, every step up to `latest`, and a working
/// store.
async fn upgraded_keeps_its_data(url: &str, latest: i64) {
    let store = Store::open(url, 2)
        .await
        .expect("today's code opens the old database");
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM people WHERE email = 'old.timer@example.com'",
            &[]
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM users WHERE role = 'admin'",
            &[]
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &store,
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
            &[]
        )
        .await,
        latest,
        "every step up to the newest is applied"
    );
    // A table of a later step is there and usable.
    assert_eq!(
        scalar(&store, "SELECT COUNT(*) FROM user_totp", &[]).await,
        0
    );
    let services = steward_server::services::Services::new(store.clone());
    let user = services
        .auth
        .principal_by_email("old.timer@example.com")
        .await
        .expect("the old account signs in through today's code");
    assert_eq!(user.role, steward_domain::auth::Role::Admin);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_made_by_an_earlier_release_upgrades_and_keeps_its_data() {
    let now = chrono::Utc::now();
    let (person, user) = (Uuid::new_v4(), Uuid::new_v4());

    on("SQLite", async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/old.db", dir.path().display());
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        up_to(sqlite_migrator(), BASELINE).run(&pool).await.unwrap();
        sqlx::query(PERSON)
            .bind(person)
            .bind(now)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(USER)
            .bind(user)
            .bind(person)
            .bind(now)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        upgraded_keeps_its_data(&url, latest(&sqlite_migrator())).await;
    })
    .await;

    match FreshPostgres::create().await {
        Some(pg) => {
            on("PostgreSQL", async {
                let pool = sqlx::PgPool::connect(&pg.url).await.unwrap();
                up_to(postgres_migrator(), BASELINE)
                    .run(&pool)
                    .await
                    .unwrap();
                sqlx::query(PERSON)
                    .bind(person)
                    .bind(now)
                    .execute(&pool)
                    .await
                    .unwrap();
                sqlx::query(USER)
                    .bind(user)
                    .bind(person)
                    .bind(now)
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                upgraded_keeps_its_data(&pg.url, latest(&postgres_migrator())).await;
            })
            .await;
            pg.drop_database().await;
        }
        None => postgres_skipped(),
    }
}
