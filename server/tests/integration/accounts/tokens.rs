//! Issue 31, item 2: a token mints only what it holds, its children die with it, and
//! an agent token stops when its creator no longer owns the agent.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{DateTime, Utc};
use steward_domain::auth::{Role, Scope};
use steward_domain::inventory::IdentityKind;
use steward_domain::ownership::{AssignRequest, AssignmentRole};

use crate::common::{
    agent_token, assert_problem, draft, email_of, for_each_store, owned_identity, Auth, TestApp,
};

fn create(auth: &Auth, body: serde_json::Value) -> Request<Body> {
    auth.apply(Request::post("/api/v1/tokens"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_cannot_mint_a_token_with_more_scopes_or_a_longer_life_than_its_own() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        // The probe of the review: an admin's token holding only tokens:write.
        let minter = Auth::Bearer(app.token(Role::Admin, &[Scope::TokensWrite]).await);
        let reply = app
            .send(create(
                &minter,
                serde_json::json!({ "name": "escalated", "expires_in_days": 30,
                    "scopes": ["inventory:write", "people:write", "grants:admin"] }),
            ))
            .await;
        assert_problem(
            &reply,
            StatusCode::FORBIDDEN,
            "not allowed: a token can only create tokens within its own scopes, and this one does not hold inventory:write",
        );

        // Within its scopes it may, but the child lives no longer than the parent (1 day).
        let reply = app
            .send(create(
                &minter,
                serde_json::json!({ "name": "child", "expires_in_days": 30, "scopes": ["tokens:write"] }),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let child = reply.json();
        let parent_id = child["info"]["parent_id"].as_str().unwrap().to_owned();
        let parent = app
            .services
            .store
            .find_token(parent_id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(time(&child["info"]["expires_at"]) <= parent.expires_at);
        let child_auth = Auth::Bearer(child["token"].as_str().unwrap().to_owned());

        // A grandchild, then revoking the parent revokes the whole family at once.
        let reply = app
            .send(create(
                &child_auth,
                serde_json::json!({ "name": "grandchild", "expires_in_days": 1, "scopes": ["tokens:write"] }),
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let grandchild = Auth::Bearer(reply.json()["token"].as_str().unwrap().to_owned());
        assert_eq!(
            app.get("/api/v1/tokens", &grandchild).await.status,
            StatusCode::OK
        );
        let admin = Auth::Bearer(app.token(Role::Admin, Scope::ALL).await);
        let reply = app
            .delete(&format!("/api/v1/tokens/{parent_id}"), &admin)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        for auth in [&minter, &child_auth, &grandchild] {
            assert_problem(
                &app.get("/api/v1/tokens", auth).await,
                StatusCode::UNAUTHORIZED,
                "the API token is invalid, expired or revoked",
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_token_stops_when_its_creator_no_longer_owns_the_agent() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let agent = owned_identity(&app, &draft("billing-agent", IdentityKind::Agent)).await;
        let owner = app.principal(Role::Owner).await;
        let token = app
            .services
            .tokens
            .create(
                Some(&owner),
                &steward_domain::tokens::NewTokenRequest {
                    name: "billing-agent-runtime".into(),
                    scopes: vec![Scope::AuthzDecide],
                    expires_in_days: 1,
                    agent_id: Some(agent),
                    environment: None,
                },
            )
            .await
            .unwrap()
            .token;
        assert!(app.services.tokens.authenticate(&token).await.is_ok());
        // An admin's agent token keeps working: the security team makes them for any agent.
        let admins = agent_token(&app, agent).await;

        let admin = app.principal(Role::Admin).await;
        app.services
            .ports()
            .ownership
            .assign(
                Some(&admin),
                agent,
                &AssignRequest {
                    role: AssignmentRole::Owner,
                    person: email_of(Role::Auditor),
                    reason: "the billing team took it over".into(),
                },
            )
            .await
            .unwrap();
        assert!(
            app.services.tokens.authenticate(&token).await.is_err(),
            "the former owner's agent token still works"
        );
        assert!(app.services.tokens.authenticate(&admins).await.is_ok());
    })
    .await;
}
