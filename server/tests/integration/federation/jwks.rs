//! Issue 31, item 8: JWKS fetching cannot be turned against Steward's network, and a
//! storm of tokens naming unknown keys is not a storm of fetches.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use jsonwebtoken::{Algorithm, Header};
use serde_json::Value;
use steward_domain::auth::Role;
use steward_domain::federation::{EnforcementMode, TrustConfigDraft, TrustKind};
use steward_domain::inventory::IdentityKind;
use steward_server::services::Services;

use super::{identity, k8s_claims, rule, Issuer, AUDIENCE, K8S_ISSUER};
use crate::common::{for_each_store, TestApp};

/// Serves the issuer's JWKS at `/jwks` (counting fetches), a redirect to it at
/// `/redirect` and an oversized document at `/huge`.
async fn serve(jwks: Value, fetches: Arc<AtomicUsize>) -> String {
    let router = axum::Router::new()
        .route(
            "/jwks",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                let fetches = fetches.clone();
                async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    axum::Json(jwks)
                }
            }),
        )
        .route(
            "/redirect",
            axum::routing::get(|| async { axum::response::Redirect::temporary("/jwks") }),
        )
        .route(
            "/huge",
            axum::routing::get(|| async { "x".repeat(300 * 1024) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

fn config(jwks_url: &str, rules: Vec<steward_domain::federation::ClaimRule>) -> TrustConfigDraft {
    TrustConfigDraft {
        name: format!("cluster {}", uuid::Uuid::new_v4().simple()),
        kind: TrustKind::Kubernetes,
        issuer: K8S_ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks_url: Some(jwks_url.into()),
        jwks: None,
        rules,
        mode: EnforcementMode::Enforce,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_urls_must_be_https_to_public_addresses_without_redirects_or_huge_bodies() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let deployer = identity(&app, "jwks-deployer", IdentityKind::Workload).await;
        let rules = || {
            vec![rule(
                deployer,
                Some("system:serviceaccount:payments:deployer"),
                &[],
            )]
        };
        let base = serve(Issuer::new().jwks, Arc::new(AtomicUsize::new(0))).await;

        // Without the test switch, as in production.
        let strict = Services::new(store.clone());
        for (url, expected) in [
            (format!("{base}/jwks"), "must use https"),
            ("https://127.0.0.1:9/jwks".to_owned(), "loopback"),
            (
                "https://169.254.169.254/latest/meta-data/jwks".to_owned(),
                "link-local",
            ),
            ("https://10.0.0.8/jwks".to_owned(), "private"),
        ] {
            let error = strict
                .ports()
                .federation
                .save_trust_config(Some(&admin), None, &config(&url, rules()))
                .await
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{url}: {error}");
        }

        // With the switch (loopback over http) the other rules still hold.
        let federation = &app.services.ports().federation;
        for (path, expected) in [
            ("/redirect", "redirects are not followed"),
            ("/huge", "larger than"),
        ] {
            let error = federation
                .save_trust_config(
                    Some(&admin),
                    None,
                    &config(&format!("{base}{path}"), rules()),
                )
                .await
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{path}: {error}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_unknown_key_ids_fetches_the_jwks_once() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let deployer = identity(&app, "storm-deployer", IdentityKind::Workload).await;
        let issuer = Issuer::new();
        let fetches = Arc::new(AtomicUsize::new(0));
        let base = serve(issuer.jwks.clone(), fetches.clone()).await;
        app.services
            .ports()
            .federation
            .save_trust_config(
                Some(&admin),
                None,
                &config(
                    &format!("{base}/jwks"),
                    vec![rule(
                        deployer,
                        Some("system:serviceaccount:payments:deployer"),
                        &[],
                    )],
                ),
            )
            .await
            .unwrap();
        let before = fetches.load(Ordering::SeqCst);
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rotated-away".into());
        let token = jsonwebtoken::encode(&header, &k8s_claims("deployer"), &issuer.rsa).unwrap();
        for _ in 0..2 {
            let storm = (0..25).map(|_| app.services.federation.verify(&token));
            let outcomes = futures_util::future::join_all(storm).await;
            assert!(
                outcomes.iter().all(Result::is_err),
                "an unknown key was accepted"
            );
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst) - before,
            1,
            "fifty tokens naming an unknown key made more than one fetch"
        );
    })
    .await;
}
