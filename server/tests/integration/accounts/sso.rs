//! Issue 31, item 1: single sign-on never takes over an account by its email.

use steward_domain::auth::Role;
use steward_server::adapters::oidc::{OidcConfig, OidcService, SsoError, VerifiedLogin};

use crate::common::{email_of, for_each_store, TestApp};

const ISSUER: &str = "https://idp.example";

fn sso(app: &TestApp) -> OidcService {
    OidcService::new(
        OidcConfig {
            issuer: ISSUER.into(),
            client_id: "steward".into(),
            client_secret: "secret".into(),
            redirect_url: "http://127.0.0.1:3000/auth/oidc/callback".into(),
            role_claim: "groups".into(),
            role_map: vec![
                ("staff".into(), Role::Viewer),
                ("admins".into(), Role::Admin),
            ],
        },
        app.services.store.clone(),
    )
    .unwrap()
}

fn login(subject: &str, email: &str, email_verified: bool) -> VerifiedLogin {
    VerifiedLogin {
        subject: subject.into(),
        email: email.into(),
        email_verified,
        name: Some("Mallory".into()),
        role_values: vec!["admins".into()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sso_account_with_an_existing_users_email_is_refused_and_nothing_is_rebound() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let sso = sso(&app);
        let victim = email_of(Role::Owner);
        // Unverified (absent or false) email: refused, whatever the account.
        for verified in [false] {
            let refused = sso.provision(&login("mallory", &victim, verified)).await;
            assert!(
                matches!(refused, Err(SsoError::LinkRefused(_))),
                "{refused:?}"
            );
        }
        // Verified, but the Steward account signs in with a local password: refused too.
        let refused = sso.provision(&login("mallory", &victim, true)).await;
        assert!(
            matches!(refused, Err(SsoError::LinkRefused(_))),
            "{refused:?}"
        );
        let user = store.find_user_by_email(&victim).await.unwrap().unwrap();
        assert_eq!(
            user.sso, None,
            "the local account was bound to the IdP account"
        );
        assert_eq!(user.role, Role::Owner, "the IdP's role was applied");

        // A user SSO created, bound to one subject, is not rebound to another subject
        // with the same (verified) email.
        let first = sso
            .provision(&login("alice-1", "alice@corp.example", true))
            .await
            .unwrap();
        let refused = sso
            .provision(&login("alice-2", "alice@corp.example", true))
            .await;
        assert!(
            matches!(refused, Err(SsoError::LinkRefused(_))),
            "{refused:?}"
        );
        let alice = store.find_user(first.user_id).await.unwrap().unwrap();
        assert_eq!(alice.sso, Some((ISSUER.to_owned(), "alice-1".to_owned())));

        // The refusals are audited.
        let events = store
            .list_audit(&steward_server::store::audit::AuditFilter {
                limit: 200,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            events
                .iter()
                .filter(|e| e.action == "auth.login_failed"
                    && e.details["reason"]
                        .as_str()
                        .is_some_and(|r| r.starts_with("not linked by email")))
                .count()
                >= 3
        );

        // An admin links the local account explicitly (audited); then SSO signs it in.
        app.services
            .auth
            .link_sso("user:admin@test.example", &victim, ISSUER, "owner-at-idp")
            .await
            .unwrap();
        let signed_in = sso
            .provision(&login("owner-at-idp", &victim, false))
            .await
            .unwrap();
        assert_eq!(signed_in.email, victim);
        let events = store
            .list_audit(&steward_server::store::audit::AuditFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(events.iter().any(|e| e.action == "user.link_sso"));
        // Two users cannot hold one subject.
        assert!(app
            .services
            .auth
            .link_sso(
                "user:admin@test.example",
                &email_of(Role::Viewer),
                ISSUER,
                "owner-at-idp"
            )
            .await
            .is_err());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sso_bound_user_signs_in_with_a_password_only_when_marked_break_glass() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let email = email_of(Role::Auditor);
        app.services
            .auth
            .link_sso("system:test", &email, ISSUER, "auditor-at-idp")
            .await
            .unwrap();
        let reply = app.login_with(&email, crate::common::PASSWORD, None).await;
        assert_eq!(
            reply.location,
            "/login?error=bad_credentials&next=%2Finventory"
        );
        app.services
            .auth
            .set_break_glass("system:test", &email, true)
            .await
            .unwrap();
        let reply = app.login_with(&email, crate::common::PASSWORD, None).await;
        assert_eq!(reply.status, axum::http::StatusCode::SEE_OTHER);
        assert_eq!(reply.location, "/inventory");
    })
    .await;
}
