//! Runtime authorization of agents, on SQLite and (when configured) PostgreSQL: limits
//! and admin Cedar policies, the test bench, the decision API with the agent's own
//! token, session limits, the kill switch, delegation attenuation, just-in-time grants
//! and the decision log.

mod decisions;
mod last_used;

use crate::common::{agent_token, draft, email_of, for_each_store, Auth, TestApp};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::json;
use steward_domain::auth::{Role, Scope};
use steward_domain::authz::{
    AgentCaller, AgentLimits, AuthorizeRequest, AuthzPolicyDraft, Decision, RequestContext,
    ResourceRef,
};
use steward_domain::delegation::{DelegationKind, NewDelegation};
use steward_domain::grants::{
    ApprovalMode, EndRequest, Grant, GrantRequest, PolicyDraft, Requesters,
};
use steward_domain::identity::{
    GrantType, IdentityDraft, LifecycleRequest, NewEntitlement, Privilege,
};
use steward_domain::inventory::IdentityKind;
use steward_domain::posture::findings::FindingState;
use steward_domain::DomainError;
use uuid::Uuid;

/// An active identity of `kind` owned by the owner test user.
async fn identity(app: &TestApp, name: &str, kind: IdentityKind) -> Uuid {
    let draft = IdentityDraft {
        team: Some("Payments".into()),
        purpose: Some("triage incidents".into()),
        ..draft(name, kind)
    };
    crate::common::owned_identity(app, &draft).await
}

/// An automatically approved grant of `entitlement` (on the `ledger` dataset) for
/// `identity`, under a policy made for it.
async fn ledger_grant(app: &TestApp, identity: Uuid, entitlement: Uuid) -> Grant {
    let admin = app.principal(Role::Admin).await;
    let owner = app.principal(Role::Owner).await;
    let grants = &app.services.ports().grants;
    grants
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
    grants
        .request(
            Some(&owner),
            &GrantRequest {
                identity_id: identity,
                entitlement_id: entitlement,
                minutes: Some(30),
                reason: None,
            },
        )
        .await
        .unwrap()
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
        let authz = &app.services.ports().authz;
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
            .ports()
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
        let authz = &app.services.ports().authz;
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
            .ports()
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
        let (status, body) = ask(&app, &token, &call_tool(agent, "jira.search", Some("s-3"))).await;
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
        let ports = &app.services.ports();
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
        let grant = ledger_grant(&app, sub, entitlement).await;
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
        let authz = &app.services.ports().authz;
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

/// A decision asked of another replica's services (its own caches and change feed),
/// the way its HTTP layer would: authenticate the token, then decide.
async fn ask_replica(
    replica: &steward_server::services::Services,
    token: &str,
    request: &AuthorizeRequest,
) -> Result<steward_domain::authz::AuthorizeResponse, DomainError> {
    let principal = replica.tokens.authenticate(token).await?;
    replica
        .ports()
        .authz
        .authorize(AgentCaller::Token(Some(&principal)), request)
        .await
}

#[tokio::test]
async fn replicas_share_session_limits_and_see_changes_from_the_next_request() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let a = &app.services;
        let b = steward_server::services::Services::new(store.clone());
        let agent = identity(&app, "busy-bot", IdentityKind::Agent).await;
        a.ports()
            .authz
            .set_limits(
                Some(&admin),
                agent,
                &AgentLimits {
                    tools: vec!["jira.search".into()],
                    max_calls: Some(5),
                    ..AgentLimits::default()
                },
            )
            .await
            .unwrap();
        let token = agent_token(&app, agent).await;
        let request = call_tool(agent, "jira.search", Some("shared"));

        // One session spread over two replicas: five calls in all, never more.
        let mut allowed = 0;
        for i in 0..12 {
            let replica = if i % 2 == 0 { a } else { &b };
            if ask_replica(replica, &token, &request)
                .await
                .unwrap()
                .decision
                == Decision::Allow
            {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5, "the limit holds across replicas");
        // A session without a limit takes call numbers in growing leases: far fewer
        // database writes than calls, and every number handed out once.
        let unlimited = identity(&app, "chatty-bot", IdentityKind::Agent).await;
        a.ports()
            .authz
            .set_limits(
                Some(&admin),
                unlimited,
                &AgentLimits {
                    tools: vec!["jira.search".into()],
                    ..AgentLimits::default()
                },
            )
            .await
            .unwrap();
        let chatty = agent_token(&app, unlimited).await;
        let many = call_tool(unlimited, "jira.search", Some("long"));
        for _ in 0..100 {
            let answer = ask_replica(&b, &chatty, &many).await.unwrap();
            assert_eq!(answer.decision, Decision::Allow);
        }
        let (_, taken) = store
            .lease_session_calls(unlimited, "long", Utc::now(), 0)
            .await
            .unwrap();
        assert!((100..100 + 64).contains(&taken), "numbers taken: {taken}");

        // Replica b has the agent and its token cached; changes made through a reach it
        // on the very next request.
        assert_eq!(
            ask_replica(&b, &token, &call_tool(agent, "jira.search", Some("after")))
                .await
                .unwrap()
                .decision,
            Decision::Allow
        );
        a.ports()
            .authz
            .set_limits(
                Some(&admin),
                agent,
                &AgentLimits {
                    tools: vec!["github.create_pr".into()],
                    ..AgentLimits::default()
                },
            )
            .await
            .unwrap();
        let narrowed = ask_replica(&b, &token, &call_tool(agent, "jira.search", Some("after")))
            .await
            .unwrap();
        assert_eq!(narrowed.decision, Decision::Deny, "new limits hold at once");
        a.ports()
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
        let killed = ask_replica(
            &b,
            &token,
            &call_tool(agent, "github.create_pr", Some("after")),
        )
        .await
        .unwrap();
        assert_eq!(killed.reasons, vec!["steward-active-only".to_owned()]);

        // A token revoked through a is refused by b from the next request.
        let listed = a.tokens.list(Some(&admin)).await.unwrap();
        let chatty_id = listed
            .iter()
            .find(|t| t.name == format!("agent-{unlimited}"))
            .unwrap()
            .id;
        b.tokens.authenticate(&chatty).await.unwrap();
        a.tokens.revoke(Some(&admin), chatty_id).await.unwrap();
        assert!(matches!(
            b.tokens.authenticate(&chatty).await,
            Err(DomainError::Unauthenticated)
        ));
        // So is a token whose user lost access.
        let owner_token = app.token(Role::Owner, &[Scope::InventoryRead]).await;
        b.tokens.authenticate(&owner_token).await.unwrap();
        store
            .write(
                &[steward_server::store::write::Statement::new(
                    "UPDATE users SET active = FALSE WHERE email = $1",
                )
                .bind(email_of(Role::Owner))],
                |_| Vec::new(),
            )
            .await
            .unwrap();
        assert!(matches!(
            b.tokens.authenticate(&owner_token).await,
            Err(DomainError::Unauthenticated)
        ));
        a.authz.flush().await;
        b.authz.flush().await;
    })
    .await;
}

/// Polls `done` every few milliseconds for up to five seconds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn on_postgresql_replicas_read_the_feed_when_notified() {
    for_each_store(|store| async move {
        let steward_server::store::Store::Postgres(pg) = &store else {
            return; // SQLite has no notifications: the 1 ms bound applies.
        };
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let services = &app.services;
        let agent = identity(&app, "watched-bot", IdentityKind::Agent).await;
        services
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
        let token = agent_token(&app, agent).await;
        let request = call_tool(agent, "jira.search", Some("watched"));
        let answer = ask_replica(services, &token, &request).await.unwrap();
        assert_eq!(answer.decision, Decision::Allow);
        eventually("the subscription", || services.feed.notifications().0).await;

        // Nothing changes anywhere: requests more than the 1 ms bound apart are answered
        // without reading the feed again (the decision log's writes do not count).
        let reads = services.feed.reads();
        for _ in 0..20 {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            let answer = ask_replica(services, &token, &request).await.unwrap();
            assert_eq!(answer.decision, Decision::Allow);
        }
        let extra = services.feed.reads() - reads;
        assert!(
            extra < 10,
            "{extra} reads for 20 requests while nothing changed"
        );

        // Another process suspends the agent (a plain connection: nothing this process
        // counts as its own commit). Once its notification is in, the very next request
        // is denied.
        let (_, before) = services.feed.notifications();
        sqlx::query("UPDATE identities SET status = 'suspended' WHERE id = $1")
            .bind(agent)
            .execute(&pg.writer)
            .await
            .unwrap();
        eventually("the notification", || {
            services.feed.notifications().1 > before
        })
        .await;
        let killed = ask_replica(services, &token, &request).await.unwrap();
        assert_eq!(killed.reasons, vec!["steward-active-only".to_owned()]);
        services.authz.flush().await;
    })
    .await;
}

#[tokio::test]
async fn a_just_in_time_credential_asks_for_its_agent() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let ports = &app.services.ports();
        let agent = identity(&app, "jit-bot", IdentityKind::Agent).await;
        let other = identity(&app, "other-bot", IdentityKind::Agent).await;
        let entitlement = ports
            .inventory
            .add_entitlement(
                Some(&admin),
                agent,
                &NewEntitlement {
                    resource: "ledger".into(),
                    action: "read".into(),
                    privilege: Privilege::Read,
                    grant_type: GrantType::JustInTime,
                },
            )
            .await
            .unwrap()
            .id;
        let grant = ledger_grant(&app, agent, entitlement).await;
        let jwt = ports
            .grants
            .credential(Some(&owner), grant.id)
            .await
            .unwrap()
            .access_token;
        let read = |principal: Uuid| AuthorizeRequest {
            principal,
            action: "read_data".into(),
            resource: ResourceRef {
                resource_type: "Dataset".into(),
                id: "ledger".into(),
            },
            context: RequestContext {
                environment: "prod".into(),
                ..RequestContext::default()
            },
        };
        let (status, body) = ask(&app, &jwt, &read(agent)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["decision"], "allow", "{body}");
        // Only for its own agent.
        let (status, body) = ask(&app, &jwt, &read(other)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        // A forged or altered credential is refused with a reason.
        let mut forged = jwt.clone();
        forged.pop();
        forged.push(if jwt.ends_with('A') { 'B' } else { 'A' });
        let (status, body) = ask(&app, &forged, &read(agent)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("just-in-time credential"),
            "{body}"
        );
        // Elsewhere a credential is not an API token.
        let reply = app
            .get("/api/v1/identities", &Auth::Bearer(jwt.clone()))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        // Once its grant ends the credential stops working.
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
        let (status, _) = ask(&app, &jwt, &read(agent)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        app.services.authz.flush().await;
        let logged = ports
            .authz
            .decisions(Some(&admin), agent, None)
            .await
            .unwrap();
        assert_eq!(logged.len(), 1);
        assert_eq!(
            logged[0].credential,
            format!("grant:{} jti:{}", grant.id, {
                let claims: Vec<&str> = jwt.split('.').collect();
                let payload = base64::Engine::decode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    claims[1],
                )
                .unwrap();
                serde_json::from_slice::<serde_json::Value>(&payload).unwrap()["jti"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
        );
    })
    .await;
}

#[tokio::test]
async fn drift_from_approvals_becomes_findings() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let viewer = app.principal(Role::Viewer).await;
        let ports = &app.services.ports();
        let agent = identity(&app, "drifting-bot", IdentityKind::Agent).await;
        let account = identity(&app, "billing-sa", IdentityKind::ServiceAccount).await;
        let stranger = identity(&app, "unknown-bot", IdentityKind::Agent).await;
        ports
            .authz
            .set_limits(
                Some(&admin),
                agent,
                &AgentLimits {
                    tools: vec!["jira.search".into()],
                    max_session_minutes: Some(60),
                    ..AgentLimits::default()
                },
            )
            .await
            .unwrap();
        // The agent acts through the service account, which may read the ledger; the
        // agent itself was never approved for it.
        ports
            .inventory
            .add_delegation(
                Some(&admin),
                agent,
                &NewDelegation {
                    to: account,
                    kind: DelegationKind::ActsAs,
                },
            )
            .await
            .unwrap();
        ports
            .inventory
            .add_entitlement(
                Some(&admin),
                account,
                &NewEntitlement {
                    resource: "ledger".into(),
                    action: "read".into(),
                    privilege: Privilege::Read,
                    grant_type: GrantType::Standing,
                },
            )
            .await
            .unwrap();
        let agent_token = agent_token(&app, agent).await;
        let account_token = self::agent_token(&app, account).await;

        // A tool outside the allowlist.
        let (_, tool) = ask(&app, &agent_token, &call_tool(agent, "shell.exec", None)).await;
        assert_eq!(tool["decision"], "deny");
        // Spawning an identity it has no registered delegation to.
        let spawn = AuthorizeRequest {
            principal: agent,
            action: "spawn_subagent".into(),
            resource: ResourceRef {
                resource_type: "Identity".into(),
                id: stranger.to_string(),
            },
            context: RequestContext::default(),
        };
        let (_, spawned) = ask(&app, &agent_token, &spawn).await;
        assert_eq!(spawned["decision"], "deny");
        // Through the service account, beyond its own approval.
        let mut through = AuthorizeRequest {
            principal: account,
            action: "read_data".into(),
            resource: ResourceRef {
                resource_type: "Dataset".into(),
                id: "ledger".into(),
            },
            context: RequestContext {
                environment: "prod".into(),
                ..RequestContext::default()
            },
        };
        let (_, alone) = ask(&app, &account_token, &through).await;
        assert_eq!(
            alone["decision"], "allow",
            "the account itself may: {alone}"
        );
        through.context.delegation_chain = vec![agent];
        let (_, chained) = ask(&app, &account_token, &through).await;
        assert_eq!(chained["decision"], "deny", "{chained}");
        app.services.authz.flush().await;

        let drift: Vec<_> = ports
            .authz
            .decisions(Some(&admin), agent, None)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|d| d.drift.map(|d| d.kind))
            .collect();
        assert_eq!(drift.len(), 2, "{drift:?}");
        app.services
            .posture
            .evaluate_identities(&[agent, account])
            .await
            .unwrap();
        let checks: Vec<(String, String)> = ports
            .posture
            .findings_of(Some(&viewer), agent)
            .await
            .unwrap()
            .into_iter()
            .filter(|f| f.state == FindingState::Open)
            .map(|f| (f.check, f.detail))
            .collect();
        let detail = |check: &str| {
            checks
                .iter()
                .find(|(c, _)| c == check)
                .map(|(_, d)| d.clone())
                .unwrap_or_else(|| panic!("{check} missing from {checks:?}"))
        };
        assert!(detail("agent-tool-outside-allowlist").contains("Tool::shell.exec"));
        assert!(detail("unregistered-delegation-at-runtime").contains(&stranger.to_string()));
        assert!(detail("agent-beyond-approval-through-delegation").contains("ledger"));
        // Limits set on the agent count: it has an allowlist and a session limit now.
        assert!(!checks.iter().any(|(c, _)| c == "agent-no-tool-allowlist"));
        assert!(!checks.iter().any(|(c, _)| c == "agent-no-session-limits"));
        // The service account only did what it may: no drift finding about it.
        let about_account = ports
            .posture
            .findings_of(Some(&viewer), account)
            .await
            .unwrap();
        assert!(about_account
            .iter()
            .all(|f| !f.check.contains("delegation-at-runtime")));
    })
    .await;
}
