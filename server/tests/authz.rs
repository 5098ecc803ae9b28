//! Runtime authorization of agents, on SQLite and (when configured) PostgreSQL: limits
//! and admin Cedar policies, the test bench, the decision API with the agent's own
//! token, session limits, the kill switch, delegation attenuation, just-in-time grants
//! and the decision log.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{email_of, for_each_store, Auth, TestApp};
use serde_json::json;
use steward_domain::auth::{Role, Scope};
use steward_domain::delegation::{DelegationKind, NewDelegation};
use steward_domain::grants::{ApprovalMode, EndRequest, GrantRequest, PolicyDraft, Requesters};
use steward_domain::identity::{
    GrantType, IdentityDraft, LifecycleRequest, NewEntitlement, Privilege,
};
use steward_domain::inventory::IdentityKind;
use steward_domain::ownership::{AssignRequest, AssignmentRole};
use steward_domain::policy::{
    AgentLimits, AuthorizeRequest, AuthzPolicyDraft, Decision, RequestContext, ResourceRef,
};
use steward_domain::tokens::NewTokenRequest;
use steward_domain::DomainError;
use uuid::Uuid;

/// An active identity of `kind` owned by the owner test user.
async fn identity(app: &TestApp, name: &str, kind: IdentityKind) -> Uuid {
    let admin = app.principal(Role::Admin).await;
    let ports = &app.services.ports;
    let id = ports
        .inventory
        .create_identity(
            Some(&admin),
            &IdentityDraft {
                name: name.into(),
                kind,
                external_id: None,
                environment: "prod".into(),
                team: Some("Payments".into()),
                purpose: Some("triage incidents".into()),
                autonomy: None,
                sensitivity_ceiling: None,
                spiffe_id: None,
                revocation_path: Some("runbook".into()),
                expires_at: Some(Utc::now() + Duration::days(60)),
            },
        )
        .await
        .unwrap()
        .summary
        .id;
    ports
        .ownership
        .assign(
            Some(&admin),
            id,
            &AssignRequest {
                role: AssignmentRole::Owner,
                person: email_of(Role::Owner),
                reason: "test".into(),
            },
        )
        .await
        .unwrap();
    id
}

/// A token that acts for `agent` at runtime.
async fn agent_token(app: &TestApp, agent: Uuid) -> String {
    let admin = app.principal(Role::Admin).await;
    app.services
        .tokens
        .create(
            Some(&admin),
            &NewTokenRequest {
                name: format!("agent-{agent}"),
                scopes: vec![Scope::AuthzDecide],
                expires_in_days: 1,
                agent_id: Some(agent),
            },
        )
        .await
        .unwrap()
        .token
}

fn call_tool(agent: Uuid, tool: &str, session: Option<&str>) -> AuthorizeRequest {
    AuthorizeRequest {
        principal: agent,
        action: "call_tool".into(),
        resource: ResourceRef {
            resource_type: "Tool".into(),
            id: tool.into(),
        },
        context: RequestContext {
            task: "triage".into(),
            environment: "prod".into(),
            session_id: session.map(str::to_owned),
            ..RequestContext::default()
        },
    }
}

async fn ask(
    app: &TestApp,
    token: &str,
    request: &AuthorizeRequest,
) -> (StatusCode, serde_json::Value) {
    let reply = app
        .send_json(
            "POST",
            "/api/v1/authorize",
            &Auth::Bearer(token.into()),
            &serde_json::to_value(request).unwrap(),
        )
        .await;
    (
        reply.status,
        serde_json::from_str(&reply.body).unwrap_or(json!(reply.body)),
    )
}

#[tokio::test]
async fn limits_policies_and_the_test_bench() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let authz = &app.services.ports.authz;
        let agent = identity(&app, "triage-bot", IdentityKind::Agent).await;

        // Limits: the security team's, checked, audited.
        let limits = AgentLimits {
            tools: vec!["github.create_pr".into(), "jira.search".into()],
            max_calls: Some(3),
            ..AgentLimits::default()
        };
        assert!(matches!(
            authz.set_limits(Some(&owner), agent, &limits).await,
            Err(DomainError::Forbidden { .. })
        ));
        let bad = AgentLimits { tools: vec!["rm -rf /".into()], ..AgentLimits::default() };
        assert!(matches!(
            authz.set_limits(Some(&admin), agent, &bad).await,
            Err(DomainError::InvalidInput { field, .. }) if field == "tools"
        ));
        authz.set_limits(Some(&admin), agent, &limits).await.unwrap();
        assert_eq!(authz.limits(Some(&owner), agent).await.unwrap(), limits);
        let compiled = authz.compiled(Some(&owner), agent).await.unwrap();
        assert!(compiled.iter().any(|p| p.id == format!("agent-{agent}-tools")));
        assert!(compiled.iter().any(|p| p.id == "steward-active-only"));

        // The test bench: the allowlist allows, anything else is denied by default.
        let allowed = authz.test_bench(Some(&owner), &call_tool(agent, "jira.search", None)).await.unwrap();
        assert_eq!(allowed.decision, Decision::Allow);
        assert_eq!(allowed.reasons, vec![format!("agent-{agent}-tools")]);
        let denied = authz.test_bench(Some(&owner), &call_tool(agent, "shell.exec", None)).await.unwrap();
        assert_eq!(denied.decision, Decision::Deny);
        assert!(denied.reasons.is_empty());
        assert!(denied.diagnostics[0].contains("no policy permits triage-bot"), "{:?}", denied.diagnostics);

        // Admin policies: validated against the schema with the place of the problem.
        let broken = AuthzPolicyDraft {
            name: "no-prod-deletes".into(),
            description: String::new(),
            body: "forbid(principal, action, resource) when { context.tsak like \"*delete*\" };".into(),
            enabled: true,
        };
        let Err(DomainError::InvalidInput { field, message }) = authz.save_policy(Some(&admin), None, &broken).await else {
            panic!("an unknown attribute must be refused");
        };
        assert_eq!(field, "body");
        assert!(message.contains("tsak"), "{message}");
        let fixed = AuthzPolicyDraft {
            body: "forbid(principal, action, resource) when { context.environment == \"prod\" && context.task like \"*delete*\" };".into(),
            ..broken
        };
        assert!(matches!(authz.save_policy(Some(&owner), None, &fixed).await, Err(DomainError::Forbidden { .. })));
        let saved = authz.save_policy(Some(&admin), None, &fixed).await.unwrap();
        let mut deleting = call_tool(agent, "jira.search", None);
        deleting.context.task = "delete old tickets".into();
        let forbidden = authz.test_bench(Some(&owner), &deleting).await.unwrap();
        assert_eq!(forbidden.decision, Decision::Deny);
        assert_eq!(forbidden.reasons, vec!["custom-no-prod-deletes".to_owned()]);
        authz.delete_policy(Some(&admin), saved.id).await.unwrap();
        assert_eq!(authz.test_bench(Some(&owner), &deleting).await.unwrap().decision, Decision::Allow);

        let actions: Vec<String> = app
            .services
            .ports
            .audit
            .list(Some(&admin), &steward_domain::audit::AuditQuery::new())
            .await
            .unwrap()
            .events
            .into_iter()
            .map(|e| e.action)
            .collect();
        for action in ["authz.limits", "authz.policy_create", "authz.policy_delete"] {
            assert!(actions.iter().any(|a| a == action), "{action} audited");
        }
    })
    .await;
}

#[tokio::test]
async fn the_decision_api_sessions_kill_switch_and_log() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let authz = &app.services.ports.authz;
        let agent = identity(&app, "triage-bot", IdentityKind::Agent).await;
        let other = identity(&app, "other-bot", IdentityKind::Agent).await;
        authz
            .set_limits(
                Some(&admin),
                agent,
                &AgentLimits {
                    tools: vec!["jira.search".into()],
                    max_calls: Some(3),
                    ..AgentLimits::default()
                },
            )
            .await
            .unwrap();
        let token = agent_token(&app, agent).await;

        // Only the agent's own token, for itself.
        let (status, body) = ask(&app, &token, &call_tool(other, "jira.search", None)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let user_token = app.token(Role::Admin, &[Scope::AuthzDecide]).await;
        let (status, _) = ask(&app, &user_token, &call_tool(agent, "jira.search", None)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = ask(
            &app,
            "stw_not_a_token",
            &call_tool(agent, "jira.search", None),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let mut wrong = call_tool(agent, "jira.search", None);
        wrong.resource.resource_type = "Dataset".into();
        let (status, body) = ask(&app, &token, &wrong).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("call_tool is on a Tool"),
            "{body}"
        );

        // Allowed, then denied on the fourth call of a session.
        for _ in 0..3 {
            let (status, body) =
                ask(&app, &token, &call_tool(agent, "jira.search", Some("s-1"))).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body["decision"], "allow", "{body}");
        }
        let (_, fourth) = ask(&app, &token, &call_tool(agent, "jira.search", Some("s-1"))).await;
        assert_eq!(fourth["decision"], "deny");
        assert_eq!(
            fourth["reasons"],
            json!([format!("agent-{agent}-session-calls")])
        );
        // Another session starts from zero.
        let (_, fresh) = ask(&app, &token, &call_tool(agent, "jira.search", Some("s-2"))).await;
        assert_eq!(fresh["decision"], "allow");

        // The kill switch: suspended, the very next request is denied.
        app.services
            .ports
            .inventory
            .suspend(
                Some(&admin),
                agent,
                &LifecycleRequest {
                    reason: "incident".into(),
                },
            )
            .await
            .unwrap();
        let (status, body) = ask(&app, &token, &call_tool(agent, "jira.search", None)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["decision"], "deny");
        assert_eq!(body["reasons"], json!(["steward-active-only"]));

        // Every decision is in the log once the writer has flushed.
        app.services.authz.flush().await;
        let decisions = authz.decisions(Some(&admin), agent, None).await.unwrap();
        assert_eq!(decisions.len(), 6, "{decisions:?}");
        assert_eq!(decisions[0].decision, Decision::Deny);
        assert_eq!(decisions[0].reasons, vec!["steward-active-only".to_owned()]);
        assert!(decisions.iter().all(|d| d.credential.starts_with("token:")));
    })
    .await;
}

#[tokio::test]
async fn delegation_attenuates_and_just_in_time_needs_an_active_grant() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let ports = &app.services.ports;
        let authz = &ports.authz;
        let orchestrator = identity(&app, "planner", IdentityKind::Orchestrator).await;
        let sub = identity(&app, "coder", IdentityKind::Agent).await;
        let stranger = identity(&app, "stranger", IdentityKind::Agent).await;
        let tools = |t: &[&str]| AgentLimits {
            tools: t.iter().map(|s| s.to_string()).collect(),
            ..AgentLimits::default()
        };
        authz
            .set_limits(
                Some(&admin),
                orchestrator,
                &tools(&["github.create_pr", "shell.exec"]),
            )
            .await
            .unwrap();
        authz
            .set_limits(Some(&admin), sub, &tools(&["github.create_pr"]))
            .await
            .unwrap();
        authz
            .set_limits(Some(&admin), stranger, &tools(&["shell.exec"]))
            .await
            .unwrap();
        ports
            .inventory
            .add_delegation(
                Some(&admin),
                orchestrator,
                &NewDelegation {
                    to: sub,
                    kind: DelegationKind::SubAgent,
                },
            )
            .await
            .unwrap();
        let through = |tool: &str, principal: Uuid, chain: Vec<Uuid>| {
            let mut request = call_tool(principal, tool, None);
            request.context.delegation_chain = chain;
            request
        };
        // Both hold github.create_pr: allowed through the chain.
        let ok = authz
            .test_bench(
                Some(&owner),
                &through("github.create_pr", sub, vec![orchestrator]),
            )
            .await
            .unwrap();
        assert_eq!(ok.decision, Decision::Allow);
        // The orchestrator's shell.exec does not flow to the sub-agent…
        let narrowed = authz
            .test_bench(
                Some(&owner),
                &through("shell.exec", sub, vec![orchestrator]),
            )
            .await
            .unwrap();
        assert_eq!(narrowed.decision, Decision::Deny);
        // …and a sub-agent holding it does not get it through an orchestrator lacking it.
        let reversed = authz
            .test_bench(Some(&owner), &through("shell.exec", stranger, vec![sub]))
            .await
            .unwrap();
        assert_eq!(reversed.decision, Decision::Deny);
        assert_eq!(
            reversed.reasons,
            vec!["steward-registered-delegation".to_owned()],
            "not a registered delegation"
        );
        // Spawning: only the registered sub-agent.
        let spawn = |to: Uuid| AuthorizeRequest {
            principal: orchestrator,
            action: "spawn_subagent".into(),
            resource: ResourceRef {
                resource_type: "Identity".into(),
                id: to.to_string(),
            },
            context: RequestContext::default(),
        };
        assert_eq!(
            authz
                .test_bench(Some(&owner), &spawn(sub))
                .await
                .unwrap()
                .decision,
            Decision::Allow
        );
        assert_eq!(
            authz
                .test_bench(Some(&owner), &spawn(stranger))
                .await
                .unwrap()
                .decision,
            Decision::Deny
        );

        // Just in time: writing the ledger needs an active grant.
        let entitlement = ports
            .inventory
            .add_entitlement(
                Some(&admin),
                sub,
                &NewEntitlement {
                    resource: "ledger".into(),
                    action: "write".into(),
                    privilege: Privilege::Write,
                    grant_type: GrantType::JustInTime,
                },
            )
            .await
            .unwrap()
            .id;
        let write = AuthorizeRequest {
            principal: sub,
            action: "write_data".into(),
            resource: ResourceRef {
                resource_type: "Dataset".into(),
                id: "ledger".into(),
            },
            context: RequestContext {
                environment: "prod".into(),
                ..RequestContext::default()
            },
        };
        let token = agent_token(&app, sub).await;
        let (_, before) = ask(&app, &token, &write).await;
        assert_eq!(before["decision"], "deny");
        assert_eq!(before["reasons"], json!(["steward-just-in-time"]));
        ports
            .grants
            .create_policy(
                Some(&admin),
                &PolicyDraft {
                    name: "ledger".into(),
                    resource: "ledger".into(),
                    action: "*".into(),
                    scope: String::new(),
                    requesters: Requesters::Owners,
                    approval: ApprovalMode::Automatic,
                    max_minutes: 60,
                    reason_required: false,
                    windows: Vec::new(),
                },
            )
            .await
            .unwrap();
        let grant = ports
            .grants
            .request(
                Some(&owner),
                &GrantRequest {
                    identity_id: sub,
                    entitlement_id: entitlement,
                    minutes: Some(30),
                    reason: None,
                },
            )
            .await
            .unwrap();
        let (_, during) = ask(&app, &token, &write).await;
        assert_eq!(during["decision"], "allow", "{during}");
        assert_eq!(
            during["reasons"],
            json!([format!("entitlement-{entitlement}")])
        );
        ports
            .grants
            .revoke(
                Some(&owner),
                grant.id,
                &EndRequest {
                    reason: "done".into(),
                },
            )
            .await
            .unwrap();
        let (_, after) = ask(&app, &token, &write).await;
        assert_eq!(
            after["decision"], "deny",
            "revocation holds from the next request"
        );
        app.services.authz.flush().await;
    })
    .await;
}

#[tokio::test]
async fn the_change_feed_is_pruned_by_age() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let authz = &app.services.ports.authz;
        let agent = identity(&app, "pruned-bot", IdentityKind::Agent).await;
        let limits = AgentLimits {
            tools: vec!["jira.search".into()],
            ..AgentLimits::default()
        };
        authz
            .set_limits(Some(&admin), agent, &limits)
            .await
            .unwrap();
        // Recent rows are kept; rows older than the cutoff go.
        assert_eq!(
            store
                .prune_authz_changes(Utc::now() - Duration::hours(1))
                .await
                .unwrap(),
            0
        );
        assert!(
            !store.authz_changes_since(0, 100).await.unwrap().is_empty(),
            "the limits wrote a row"
        );
        assert!(
            store
                .prune_authz_changes(Utc::now() + Duration::minutes(1))
                .await
                .unwrap()
                >= 1
        );
        assert!(store.authz_changes_since(0, 100).await.unwrap().is_empty());
        // Decisions go on after the feed was emptied.
        let decided = authz
            .test_bench(Some(&admin), &call_tool(agent, "jira.search", None))
            .await
            .unwrap();
        assert_eq!(decided.decision, Decision::Allow);
    })
    .await;
}
