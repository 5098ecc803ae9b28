//! Issue 31, item 14: sessions end everywhere on a password or role change, are stored
//! under a hash of their id, and the SQLite database is its owner's alone.

use axum::http::StatusCode;
use steward_domain::auth::Role;
use steward_server::store::Store;

use crate::common::{email_of, for_each_store, Auth, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_or_role_change_signs_the_user_out_everywhere() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let signed_in = |cookie: String| {
            let app = &app;
            async move {
                app.get("/api/v1/identities", &Auth::Cookie(cookie))
                    .await
                    .status
            }
        };
        let viewer = app.login(Role::Viewer).await;
        assert_eq!(signed_in(viewer.clone()).await, StatusCode::OK);
        app.services
            .auth
            .set_role("system:test", &email_of(Role::Viewer), Role::Auditor)
            .await
            .unwrap();
        assert_eq!(signed_in(viewer).await, StatusCode::UNAUTHORIZED);
        // Signing in again works, with the new role.
        let again = app.login(Role::Viewer).await;
        assert_eq!(signed_in(again.clone()).await, StatusCode::OK);

        let owner = app.login(Role::Owner).await;
        app.services
            .auth
            .set_password(
                "system:test",
                &email_of(Role::Owner),
                "another correct horse battery",
            )
            .await
            .unwrap();
        assert_eq!(signed_in(owner).await, StatusCode::UNAUTHORIZED);
        assert_eq!(
            signed_in(again).await,
            StatusCode::OK,
            "other users stay signed in"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ids_are_stored_only_as_hashes() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let cookie = app.login(Role::Admin).await;
        let id_text = cookie.split_once('=').unwrap().1.to_owned();
        let id: tower_sessions::session::Id = id_text.parse().unwrap();
        let stored: Vec<String> = match &store {
            Store::Sqlite(s) => sqlx::query_scalar("SELECT id FROM tower_sessions")
                .fetch_all(&s.reader)
                .await
                .unwrap(),
            Store::Postgres(s) => sqlx::query_scalar("SELECT id FROM tower_sessions.session")
                .fetch_all(&s.reader)
                .await
                .unwrap(),
        };
        assert!(
            !stored.contains(&id_text),
            "the cookie's session id is in the table"
        );
        assert!(stored.contains(&steward_server::web::session::stored_id(&id).to_string()));
        // And the session still works.
        assert_eq!(
            app.get("/api/v1/identities", &Auth::Cookie(cookie))
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_sqlite_database_and_its_folder_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("steward.db");
    let store = Store::open(&format!("sqlite://{}", path.display()), 2)
        .await
        .unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&path), 0o600);
    let wal = path.with_extension("db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
    store.close().await;
}
