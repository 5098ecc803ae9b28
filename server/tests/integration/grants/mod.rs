//! Just-in-time grants (issue 8): eligibility policies, requests under each approval
//! mode, the clock starting at approval, extension within the maximum, revocation,
//! and expiry exactly once (with an injected clock, and with two workers at once) —
//! on each database.

mod kill_switch;
mod policies;

use crate::common::{email_of, for_each_store, scalar, Auth, TestApp};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::json;
use steward_domain::auth::{Role, Scope};
use steward_domain::grants::{
    ApprovalMode, EndRequest, ExtendRequest, GrantList, GrantRequest, GrantState, PolicyDraft,
    Requesters,
};
use steward_domain::identity::{GrantType, IdentityDraft, NewEntitlement, Privilege};
use steward_domain::inventory::IdentityKind;
use steward_domain::ownership::{AssignRequest, AssignmentRole};
use steward_domain::DomainError;
use uuid::Uuid;

/// A service account owned by the owner test user with a just-in-time admin
/// entitlement on `resource`. Returns the identity and the entitlement.
async fn account_with_jit(app: &TestApp, name: &str, resource: &str) -> (Uuid, Uuid) {
    identity_with_jit(app, name, resource, IdentityKind::ServiceAccount).await
}

/// An identity of `kind` owned by the owner test user, with a just-in-time admin
/// entitlement on `resource`: (identity, entitlement).
async fn identity_with_jit(
    app: &TestApp,
    name: &str,
    resource: &str,
    kind: IdentityKind,
) -> (Uuid, Uuid) {
    let admin = app.principal(Role::Admin).await;
    let ports = &app.services.ports();
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
                purpose: None,
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
    let entitlement = ports
        .inventory
        .add_entitlement(
            Some(&admin),
            id,
            &NewEntitlement {
                resource: resource.into(),
                action: "admin".into(),
                privilege: Privilege::Admin,
                grant_type: GrantType::JustInTime,
            },
        )
        .await
        .unwrap()
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
    (id, entitlement)
}

fn policy(
    name: &str,
    resource: &str,
    approval: ApprovalMode,
    requesters: Requesters,
) -> PolicyDraft {
    PolicyDraft {
        name: name.into(),
        resource: resource.into(),
        action: "admin".into(),
        scope: "env=prod".into(),
        requesters,
        approval,
        max_minutes: 120,
        reason_required: true,
        windows: vec![],
    }
}

#[tokio::test]
async fn each_approval_mode_and_the_life_of_a_grant() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let viewer = app.principal(Role::Viewer).await;
        let ports = &app.services.ports();
        let (auto_id, auto_ent) = account_with_jit(&app, "auto-sync", "ledger-db").await;
        let (owner_id, owner_ent) = account_with_jit(&app, "owner-sync", "payments-db").await;
        let (two_id, two_ent) = account_with_jit(&app, "two-sync", "vault-root").await;

        // Policies are the security team's, validated and audited.
        let draft = policy("ledger self-service", "ledger-*", ApprovalMode::Automatic, Requesters::Owners);
        assert!(matches!(
            ports.grants.create_policy(Some(&owner), &draft).await,
            Err(DomainError::Forbidden { .. })
        ));
        let bad = PolicyDraft { windows: vec!["someday".into()], ..draft.clone() };
        assert!(matches!(
            ports.grants.create_policy(Some(&admin), &bad).await,
            Err(DomainError::InvalidInput { field, .. }) if field == "windows"
        ));
        ports.grants.create_policy(Some(&admin), &draft).await.unwrap();
        ports
            .grants
            .create_policy(Some(&admin), &policy("payments", "payments-db", ApprovalMode::Owner, Requesters::Anyone))
            .await
            .unwrap();
        ports
            .grants
            .create_policy(Some(&admin), &policy("vault", "vault-*", ApprovalMode::TwoApprovers, Requesters::Anyone))
            .await
            .unwrap();

        // The identity page's eligible entitlements.
        let eligible = ports.grants.eligible(Some(&owner), auto_id).await.unwrap();
        assert_eq!(eligible.len(), 1);
        assert!(eligible[0].may_request && eligible[0].open_now);
        assert!(!ports.grants.eligible(Some(&viewer), auto_id).await.unwrap()[0].may_request, "owners only");

        // Automatic: active at once, for the minutes asked, the requester told.
        let request = |identity, entitlement, minutes| GrantRequest {
            identity_id: identity,
            entitlement_id: entitlement,
            minutes: Some(minutes),
            reason: Some("incident 42".into()),
        };
        assert!(matches!(
            ports.grants.request(Some(&viewer), &request(auto_id, auto_ent, 30)).await,
            Err(DomainError::Forbidden { .. })
        ));
        let no_reason = GrantRequest { reason: None, ..request(auto_id, auto_ent, 30) };
        assert!(matches!(
            ports.grants.request(Some(&owner), &no_reason).await,
            Err(DomainError::InvalidInput { field, .. }) if field == "reason"
        ));
        let auto = ports.grants.request(Some(&owner), &request(auto_id, auto_ent, 30)).await.unwrap();
        assert_eq!(auto.state, GrantState::Active);
        assert_eq!(Some(&auto), store.find_grant(auto.id).await.unwrap().as_ref(), "the grant returned is the one stored");
        let starts = auto.starts_at.unwrap();
        assert_eq!(auto.expires_at.unwrap() - starts, Duration::minutes(30));
        // One open grant per entitlement.
        assert!(matches!(
            ports.grants.request(Some(&owner), &request(auto_id, auto_ent, 30)).await,
            Err(DomainError::Conflict { .. })
        ));

        // Owner approval: pending until the owner approves; the clock starts then.
        let pending = ports.grants.request(Some(&viewer), &request(owner_id, owner_ent, 60)).await.unwrap();
        assert_eq!(pending.state, GrantState::Pending);
        assert!(pending.expires_at.is_none());
        let inbox = ports.grants.list(Some(&owner), GrantList::ToApprove).await.unwrap();
        assert!(inbox.iter().any(|g| g.id == pending.id));
        assert!(matches!(
            ports.grants.approve(Some(&admin), pending.id).await,
            Err(DomainError::Forbidden { .. })
        ), "the security team does not stand in for the owner");
        let approved = ports.grants.approve(Some(&owner), pending.id).await.unwrap();
        assert_eq!(approved.state, GrantState::Active);
        assert!(approved.starts_at.unwrap() >= pending.requested_at);
        assert_eq!(approved.expires_at.unwrap() - approved.starts_at.unwrap(), Duration::minutes(60));
        assert!(matches!(
            ports.grants.approve(Some(&owner), pending.id).await,
            Err(DomainError::Conflict { .. })
        ));
        let told = scalar(&store, "SELECT COUNT(*) FROM notifications n JOIN people p ON p.id = n.person_id WHERE p.email = 'viewer@test.example' AND n.message LIKE '%was approved%'", &[]).await;
        assert_eq!(told, 1, "the requester is told");

        // Two approvers: the owner and the security team, two different people.
        let two = ports.grants.request(Some(&viewer), &request(two_id, two_ent, 45)).await.unwrap();
        let first = ports.grants.approve(Some(&owner), two.id).await.unwrap();
        assert_eq!(first.state, GrantState::Pending);
        assert_eq!(first.approvals.len(), 1);
        let both = ports.grants.approve(Some(&admin), two.id).await.unwrap();
        assert_eq!(both.state, GrantState::Active);

        // Extend within the maximum from approval; revoke; deny.
        let extended = ports
            .grants
            .extend(Some(&owner), approved.id, &ExtendRequest { minutes: 60 })
            .await
            .unwrap();
        assert_eq!(extended.expires_at.unwrap() - extended.starts_at.unwrap(), Duration::minutes(120));
        assert!(matches!(
            ports.grants.extend(Some(&owner), approved.id, &ExtendRequest { minutes: 1 }).await,
            Err(DomainError::InvalidInput { .. })
        ));
        let revoked = ports
            .grants
            .revoke(Some(&admin), both.id, &EndRequest { reason: "done early".into() })
            .await
            .unwrap();
        assert_eq!(revoked.state, GrantState::Revoked);
        let again = ports.grants.request(Some(&viewer), &request(two_id, two_ent, 10)).await.unwrap();
        let denied = ports
            .grants
            .deny(Some(&admin), again.id, &EndRequest { reason: "use the read role".into() })
            .await
            .unwrap();
        assert_eq!(denied.state, GrantState::Denied);

        // A policy open to the identity's team: its members may request, others not.
        let (team_id, team_ent) = account_with_jit(&app, "team-sync", "team-db").await;
        ports
            .grants
            .create_policy(Some(&admin), &policy("team", "team-db", ApprovalMode::Automatic, Requesters::Team))
            .await
            .unwrap();
        assert!(matches!(
            ports.grants.request(Some(&viewer), &request(team_id, team_ent, 10)).await,
            Err(DomainError::Forbidden { .. })
        ), "not in the team");
        let auditor = app.principal(Role::Auditor).await;
        assert!(matches!(
            ports.grants.request(Some(&auditor), &request(team_id, team_ent, 10)).await,
            Err(DomainError::Forbidden { .. })
        ));
        store
            .write(
                &[steward_server::store::write::Statement::new("UPDATE people SET team = 'Payments' WHERE email = $1")
                    .bind(email_of(Role::Viewer))],
                |_| Vec::new(),
            )
            .await
            .unwrap();
        let by_team = ports.grants.request(Some(&viewer), &request(team_id, team_ent, 10)).await.unwrap();
        assert_eq!(by_team.state, GrantState::Active);
        ports
            .grants
            .revoke(Some(&viewer), by_team.id, &EndRequest { reason: "done".into() })
            .await
            .unwrap();

        // Expiry with an injected clock: exactly the grants whose time ran out, once.
        let service = &app.services.grants;
        assert_eq!(service.expire_due(starts + Duration::minutes(29)).await.unwrap(), 0);
        assert_eq!(service.expire_due(starts + Duration::minutes(31)).await.unwrap(), 1);
        assert_eq!(service.expire_due(starts + Duration::minutes(31)).await.unwrap(), 0);
        let view = ports.grants.view(Some(&viewer), auto.id).await.unwrap();
        assert_eq!(view.grant.state, GrantState::Expired);
        let actions: Vec<&str> = view.timeline.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, vec!["grant.expire", "grant.activate"]);
        assert_eq!(service.expire_due(Utc::now() + Duration::hours(3)).await.unwrap(), 1, "the extended one");
        // History is kept: every grant is still there.
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM grants", &[]).await, 5);
        assert_eq!(app.services.ports().audit.verify(Some(&admin)).await.unwrap().first_broken, None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_expire_each_grant_exactly_once() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let ports = &app.services.ports();
        ports
            .grants
            .create_policy(
                Some(&admin),
                &policy(
                    "auto",
                    "burst-*",
                    ApprovalMode::Automatic,
                    Requesters::Owners,
                ),
            )
            .await
            .unwrap();
        for n in 0..40 {
            let (id, ent) =
                account_with_jit(&app, &format!("burst-{n}"), &format!("burst-{n}")).await;
            ports
                .grants
                .request(
                    Some(&owner),
                    &GrantRequest {
                        identity_id: id,
                        entitlement_id: ent,
                        minutes: Some(5),
                        reason: Some("load".into()),
                    },
                )
                .await
                .unwrap();
        }
        // A second service over the same database, as a second replica would be.
        let other = steward_server::services::Services::new(store.clone());
        let later = Utc::now() + Duration::minutes(10);
        let (a, b) = tokio::join!(
            app.services.grants.expire_due(later),
            other.grants.expire_due(later)
        );
        assert_eq!(a.unwrap() + b.unwrap(), 40);
        assert_eq!(
            scalar(
                &store,
                "SELECT COUNT(*) FROM audit_events WHERE action = 'grant.expire'",
                &[],
            )
            .await,
            40
        );
        assert_eq!(
            scalar(
                &store,
                "SELECT COUNT(*) FROM grants WHERE state = 'expired'",
                &[],
            )
            .await,
            40
        );
    })
    .await;
}

#[tokio::test]
async fn the_grants_api() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let (id, ent) = account_with_jit(&app, "api-sync", "ledger-db").await;
        let admin = Auth::Bearer(app.token(Role::Admin, Scope::ALL).await);
        let created = app
            .send_json("POST", "/api/v1/grant-policies", &admin, &json!({
                "name": "ledger", "resource": "ledger-*", "action": "admin", "scope": "env=prod",
                "requesters": "owners", "approval": "automatic", "max_minutes": 60, "reason_required": false
            }))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let owner = Auth::Bearer(app.token(Role::Owner, &[Scope::InventoryRead, Scope::GrantsWrite]).await);
        let granted = app
            .send_json("POST", "/api/v1/grants", &owner, &json!({ "identity_id": id, "entitlement_id": ent, "minutes": 15 }))
            .await;
        assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.body);
        assert_eq!(granted.json()["state"], "active");
        let too_long = app
            .send_json("POST", "/api/v1/grants", &owner, &json!({ "identity_id": id, "entitlement_id": ent, "minutes": 90 }))
            .await;
        crate::common::assert_problem(&too_long, StatusCode::BAD_REQUEST, "invalid minutes: between 1 and 60 minutes under 'ledger'");
        let twice = app
            .send_json("POST", "/api/v1/grants", &owner, &json!({ "identity_id": id, "entitlement_id": ent, "minutes": 30 }))
            .await;
        crate::common::assert_problem(&twice, StatusCode::CONFLICT, "conflict: this entitlement already has an open grant");
        // A viewer's token without grants:write cannot request.
        let reader = Auth::Bearer(app.token(Role::Owner, &[Scope::InventoryRead]).await);
        let refused = app
            .send_json("POST", "/api/v1/grants", &reader, &json!({ "identity_id": id, "entitlement_id": ent }))
            .await;
        crate::common::assert_problem(&refused, StatusCode::FORBIDDEN, "not allowed: this API token lacks the scope grants:write");
        let list = app.get("/api/v1/grants?list=mine", &owner).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.json().as_array().unwrap().len(), 1);
    })
    .await;
}

async fn form(app: &TestApp, uri: &str, auth: &Auth, body: &str) -> crate::common::Reply {
    use axum::body::Body;
    use axum::http::{header, Request};
    app.send(
        auth.apply(Request::post(uri))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, crate::common::ORIGIN)
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn credentials_are_signed_published_introspected_and_revoked() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let ports = &app.services.ports();
        ports
            .grants
            .create_policy(
                Some(&admin),
                &policy(
                    "auto",
                    "ledger-*",
                    ApprovalMode::Automatic,
                    Requesters::Owners,
                ),
            )
            .await
            .unwrap();
        let (id, ent) = account_with_jit(&app, "jwt-sync", "ledger-db").await;
        let grant = ports
            .grants
            .request(
                Some(&owner),
                &GrantRequest {
                    identity_id: id,
                    entitlement_id: ent,
                    minutes: Some(5),
                    reason: Some("x".into()),
                },
            )
            .await
            .unwrap();
        let owner_auth = Auth::Bearer(
            app.token(Role::Owner, &[Scope::InventoryRead, Scope::GrantsWrite])
                .await,
        );
        let issued = app
            .send_json(
                "POST",
                &format!("/api/v1/grants/{}/credential", grant.id),
                &owner_auth,
                &json!({}),
            )
            .await;
        assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
        let issued = issued.json();
        let token = issued["access_token"].as_str().unwrap().to_owned();
        assert_eq!(issued["scope"], "ledger-db:admin");
        assert!(
            issued["expires_in"].as_i64().unwrap() <= 300,
            "never beyond the grant"
        );
        // Its id is recorded (never the token).
        assert_eq!(
            scalar(&store, "SELECT COUNT(*) FROM grant_credentials", &[]).await,
            1
        );

        // The public keys are published to anyone.
        let jwks = app.get("/.well-known/jwks.json", &Auth::None).await;
        assert_eq!(jwks.status, StatusCode::OK);
        let key = &jwks.json()["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");

        // Introspection: active, with its claims, while the grant is active.
        let reader = Auth::Bearer(
            app.token(Role::Admin, &[Scope::InventoryRead, Scope::GrantsWrite])
                .await,
        );
        let active = form(
            &app,
            "/api/v1/oauth/introspect",
            &reader,
            &format!("token={token}"),
        )
        .await;
        assert_eq!(active.status, StatusCode::OK, "{}", active.body);
        let active = active.json();
        assert_eq!(active["active"], true);
        assert_eq!(active["scope"], "ledger-db:admin");
        assert_eq!(active["sub"], format!("steward:identity:{id}"));
        assert_eq!(active["grant_id"], grant.id.to_string());
        let junk = form(&app, "/api/v1/oauth/introspect", &reader, "token=not-a-jwt").await;
        assert_eq!(junk.json(), json!({ "active": false }));
        assert_eq!(
            form(
                &app,
                "/api/v1/oauth/introspect",
                &Auth::None,
                &format!("token={token}")
            )
            .await
            .status,
            StatusCode::UNAUTHORIZED
        );

        // Revoking the credential: inactive at once; a new one for the same grant works.
        let revoked = form(
            &app,
            "/api/v1/oauth/revoke",
            &owner_auth,
            &format!("token={token}"),
        )
        .await;
        assert_eq!(revoked.status, StatusCode::OK);
        assert_eq!(
            form(
                &app,
                "/api/v1/oauth/introspect",
                &reader,
                &format!("token={token}")
            )
            .await
            .json()["active"],
            false
        );
        let second = ports
            .grants
            .credential(Some(&owner), grant.id)
            .await
            .unwrap();
        assert!(
            ports
                .grants
                .introspect(Some(&admin), &second.access_token)
                .await
                .unwrap()
                .active
        );
        // Revoking the grant ends every credential of it at once.
        ports
            .grants
            .revoke(
                Some(&admin),
                grant.id,
                &EndRequest {
                    reason: "incident over".into(),
                },
            )
            .await
            .unwrap();
        assert!(
            !ports
                .grants
                .introspect(Some(&admin), &second.access_token)
                .await
                .unwrap()
                .active
        );
        assert!(matches!(
            ports.grants.credential(Some(&owner), grant.id).await,
            Err(DomainError::Conflict { .. })
        ));
        // Only the requester, the owner or the security team takes a credential.
        let viewer = app.principal(Role::Viewer).await;
        let (id2, ent2) = account_with_jit(&app, "jwt-sync-2", "ledger-db2").await;
        let other = ports
            .grants
            .request(
                Some(&owner),
                &GrantRequest {
                    identity_id: id2,
                    entitlement_id: ent2,
                    minutes: Some(5),
                    reason: Some("x".into()),
                },
            )
            .await
            .unwrap();
        assert!(matches!(
            ports.grants.credential(Some(&viewer), other.id).await,
            Err(DomainError::Forbidden { .. })
        ));
    })
    .await;
}
