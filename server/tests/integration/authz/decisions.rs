//! Issue 31, item 4: decisions take what Steward knows (a resource's sensitivity, the
//! credential's environment, the agent's session limits) from its records, not from
//! what the agent asserts.

use serde_json::json;
use steward_domain::auth::{Role, Scope};
use steward_domain::authz::{AgentLimits, AuthorizeRequest, RequestContext, ResourceRef};
use steward_domain::identity::{GrantType, IdentityDraft, NewEntitlement, Privilege, Sensitivity};
use steward_domain::inventory::IdentityKind;
use steward_domain::sensitivity::{SensitivityDraft, SensitivityScope};
use steward_domain::tokens::NewTokenRequest;

use super::{ask, call_tool, identity};
use crate::common::{agent_token, draft, for_each_store, owned_identity, TestApp};

fn read(agent: uuid::Uuid, dataset: &str, asserted: Option<Sensitivity>) -> AuthorizeRequest {
    AuthorizeRequest {
        principal: agent,
        action: "read_data".into(),
        resource: ResourceRef {
            resource_type: "Dataset".into(),
            id: dataset.into(),
        },
        context: RequestContext {
            environment: "prod".into(),
            data_sensitivity: asserted,
            ..RequestContext::default()
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_datasets_sensitivity_comes_from_the_register_and_a_request_cannot_lower_it() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let authz = &app.services.ports().authz;
        let agent = owned_identity(
            &app,
            &IdentityDraft {
                sensitivity_ceiling: Some(Sensitivity::Internal),
                ..draft("reporting-agent", IdentityKind::Agent)
            },
        )
        .await;
        for dataset in ["ledger", "hr"] {
            app.services
                .ports()
                .inventory
                .add_entitlement(
                    Some(&admin),
                    agent,
                    &NewEntitlement {
                        resource: dataset.into(),
                        action: "read".into(),
                        privilege: Privilege::Read,
                        grant_type: GrantType::Standing,
                    },
                )
                .await
                .unwrap();
        }
        let token = agent_token(&app, agent).await;
        let decide = |request: AuthorizeRequest| {
            let (app, token) = (&app, token.clone());
            async move { ask(app, &token, &request).await.1["decision"].clone() }
        };
        // Unregistered: restricted, whatever the agent says (omitted once meant public).
        assert_eq!(decide(read(agent, "ledger", None)).await, json!("deny"));
        assert_eq!(
            decide(read(agent, "ledger", Some(Sensitivity::Public))).await,
            json!("deny")
        );

        let register = |scope, id: &str, sensitivity| SensitivityDraft {
            scope,
            id: id.into(),
            sensitivity,
        };
        authz
            .set_sensitivity(
                Some(&admin),
                &register(SensitivityScope::Dataset, "ledger", Sensitivity::Internal),
            )
            .await
            .unwrap();
        assert_eq!(decide(read(agent, "ledger", None)).await, json!("allow"));
        // The request may raise it…
        assert_eq!(
            decide(read(agent, "ledger", Some(Sensitivity::Restricted))).await,
            json!("deny")
        );
        // …but never lower it.
        authz
            .set_sensitivity(
                Some(&admin),
                &register(
                    SensitivityScope::Dataset,
                    "ledger",
                    Sensitivity::Confidential,
                ),
            )
            .await
            .unwrap();
        assert_eq!(
            decide(read(agent, "ledger", Some(Sensitivity::Public))).await,
            json!("deny")
        );

        // An environment's default covers its unregistered datasets.
        assert_eq!(decide(read(agent, "hr", None)).await, json!("deny"));
        authz
            .set_sensitivity(
                Some(&admin),
                &register(SensitivityScope::Environment, "prod", Sensitivity::Internal),
            )
            .await
            .unwrap();
        assert_eq!(decide(read(agent, "hr", None)).await, json!("allow"));
        // Removing an entry falls back to the default; owners cannot change the register.
        let owner = app.principal(Role::Owner).await;
        assert!(authz
            .set_sensitivity(
                Some(&owner),
                &register(SensitivityScope::Dataset, "hr", Sensitivity::Public)
            )
            .await
            .is_err());
        authz
            .delete_sensitivity(Some(&admin), SensitivityScope::Dataset, "ledger")
            .await
            .unwrap();
        assert_eq!(decide(read(agent, "ledger", None)).await, json!("allow"));
        let listed = authz.sensitivities(Some(&owner)).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].scope, SensitivityScope::Environment);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_session_limits_is_denied_without_a_session() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let agent = identity(&app, "limited-bot", IdentityKind::Agent).await;
        app.services
            .ports()
            .authz
            .set_limits(
                Some(&admin),
                agent,
                &AgentLimits {
                    tools: vec!["jira.search".into()],
                    max_calls: Some(2),
                    ..AgentLimits::default()
                },
            )
            .await
            .unwrap();
        let token = agent_token(&app, agent).await;
        // Without a session every call would be a session of one: never past the limit.
        for _ in 0..3 {
            let (_, body) = ask(&app, &token, &call_tool(agent, "jira.search", None)).await;
            assert_eq!(body["decision"], "deny", "{body}");
            assert_eq!(body["reasons"], json!(["steward-session-required"]));
        }
        let (_, body) = ask(&app, &token, &call_tool(agent, "jira.search", Some("s-1"))).await;
        assert_eq!(body["decision"], "allow", "{body}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_bound_to_an_environment_acts_only_there() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let agent = identity(&app, "prod-bot", IdentityKind::Agent).await;
        app.services
            .ports()
            .authz
            .set_limits(
                Some(&admin),
                agent,
                &AgentLimits {
                    tools: vec!["jira.search".into()],
                    ..AgentLimits::default()
                },
            )
            .await
            .unwrap();
        let token = app
            .services
            .tokens
            .create(
                Some(&admin),
                &NewTokenRequest {
                    name: "prod-bot-runtime".into(),
                    scopes: vec![Scope::AuthzDecide],
                    expires_in_days: 1,
                    agent_id: Some(agent),
                    environment: Some("prod".into()),
                },
            )
            .await
            .unwrap()
            .token;
        let with_environment = |environment: &str| {
            let mut request = call_tool(agent, "jira.search", None);
            request.context.environment = environment.into();
            request
        };
        let (_, lied) = ask(&app, &token, &with_environment("dev")).await;
        assert_eq!(lied["decision"], "deny", "{lied}");
        assert_eq!(lied["reasons"], json!(["steward-credential-environment"]));
        for environment in ["prod", ""] {
            let (_, body) = ask(&app, &token, &with_environment(environment)).await;
            assert_eq!(body["decision"], "allow", "{environment:?}: {body}");
        }
        app.services.authz.flush().await;
        let logged = app
            .services
            .ports()
            .authz
            .decisions(Some(&admin), agent, None)
            .await
            .unwrap();
        assert!(logged.iter().all(
            |d| d.decision == steward_domain::authz::Decision::Deny || d.environment == "prod"
        ));
        // Only an agent token is bound to an environment.
        let refused = app
            .services
            .tokens
            .create(
                Some(&admin),
                &NewTokenRequest {
                    name: "not-an-agent".into(),
                    scopes: vec![Scope::InventoryRead],
                    expires_in_days: 1,
                    agent_id: None,
                    environment: Some("prod".into()),
                },
            )
            .await;
        assert!(refused.is_err());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sensitivity_file_is_imported_whole_or_not_at_all_and_decisions_use_it() {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let authz = &app.services.ports().authz;
        let agent = owned_identity(
            &app,
            &IdentityDraft {
                sensitivity_ceiling: Some(Sensitivity::Internal),
                ..draft("catalogue-agent", IdentityKind::Agent)
            },
        )
        .await;
        app.services
            .ports()
            .inventory
            .add_entitlement(
                Some(&admin),
                agent,
                &NewEntitlement {
                    resource: "orders".into(),
                    action: "read".into(),
                    privilege: Privilege::Read,
                    grant_type: GrantType::Standing,
                },
            )
            .await
            .unwrap();
        let token = agent_token(&app, agent).await;
        let decide = |request: AuthorizeRequest| {
            let (app, token) = (&app, token.clone());
            async move { ask(app, &token, &request).await.1["decision"].clone() }
        };
        assert_eq!(decide(read(agent, "orders", None)).await, json!("deny"));

        let post = |auth: crate::common::Auth, query: &'static str, file: &'static str| {
            let app = &app;
            async move {
                app.send(
                    auth.apply(Request::post(format!(
                        "/api/v1/sensitivities/import{query}"
                    )))
                    .header(header::CONTENT_TYPE, "text/csv")
                    .body(Body::from(file))
                    .unwrap(),
                )
                .await
            }
        };
        let admin_token = app.token(Role::Admin, Scope::ALL).await;
        let admin_auth = || crate::common::Auth::Bearer(admin_token.clone());
        let file = "scope,id,sensitivity\ndataset,orders,internal\ntool,search,public\n";
        // A bad line anywhere: nothing is written, and the error names the line.
        let bad = post(
            admin_auth(),
            "",
            "scope,id,sensitivity\ndataset,orders,internal\ndataset,refunds,secret\n",
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
        assert!(bad.body.contains("line 3"), "{}", bad.body);
        assert!(authz.sensitivities(Some(&admin)).await.unwrap().is_empty());
        // A dry run reports and writes nothing.
        let dry = post(admin_auth(), "?dry_run=true", file).await;
        assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
        assert_eq!(dry.json()["created"], 2);
        assert!(authz.sensitivities(Some(&admin)).await.unwrap().is_empty());
        // An owner's token may not import.
        let owner_token = app.token(Role::Owner, &[Scope::InventoryWrite]).await;
        let refused = post(crate::common::Auth::Bearer(owner_token), "", file).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

        let applied = post(admin_auth(), "", file).await;
        assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.body);
        assert_eq!(authz.sensitivities(Some(&admin)).await.unwrap().len(), 2);
        assert_eq!(decide(read(agent, "orders", None)).await, json!("allow"));
        let again = post(admin_auth(), "", file).await;
        assert_eq!(
            (
                again.json()["unchanged"].clone(),
                again.json()["created"].clone()
            ),
            (json!(2), json!(0))
        );
        let events = store
            .list_audit(&steward_server::store::audit::AuditFilter {
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap();
        let imported: Vec<_> = events
            .iter()
            .filter(|e| e.action == "authz.sensitivity_import")
            .collect();
        assert_eq!(imported.len(), 2, "one audit event per applied import");
        assert!(imported.iter().any(|e| e.details["created"] == 2));
    })
    .await;
}
