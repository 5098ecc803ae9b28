//! Issue 31, item 3: suspending or retiring an identity reaches its grants and their
//! credentials in the same transaction, and reactivating revives nothing.

use axum::http::StatusCode;
use serde_json::json;
use steward_domain::auth::{Role, Scope};
use steward_domain::grants::{ApprovalMode, GrantRequest, GrantState, Requesters};
use steward_domain::identity::{LifecycleRequest, RetireRequest};
use steward_domain::inventory::{IdentityKind, IdentityStatus};
use steward_domain::ownership::DeactivateRequest;

use super::{account_with_jit, form, identity_with_jit, policy};
use crate::common::{for_each_store, Auth, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspending_an_identity_revokes_its_grants_and_their_credentials_at_once() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let ports = &app.services.ports();
        for (name, resource, approval) in [
            ("auto", "ledger-*", ApprovalMode::Automatic),
            ("owners", "payments-*", ApprovalMode::Owner),
        ] {
            ports
                .grants
                .create_policy(
                    Some(&admin),
                    &policy(name, resource, approval, Requesters::Owners),
                )
                .await
                .unwrap();
        }
        let (id, ledger) = account_with_jit(&app, "kill-sync", "ledger-db").await;
        let payments = ports
            .inventory
            .add_entitlement(
                Some(&admin),
                id,
                &steward_domain::identity::NewEntitlement {
                    resource: "payments-db".into(),
                    action: "admin".into(),
                    privilege: steward_domain::identity::Privilege::Admin,
                    grant_type: steward_domain::identity::GrantType::JustInTime,
                },
            )
            .await
            .unwrap()
            .id;
        let ask = |entitlement| GrantRequest {
            identity_id: id,
            entitlement_id: entitlement,
            minutes: Some(30),
            reason: Some("incident 42".into()),
        };
        let active = ports
            .grants
            .request(Some(&owner), &ask(ledger))
            .await
            .unwrap();
        let pending = ports
            .grants
            .request(Some(&owner), &ask(payments))
            .await
            .unwrap();
        assert_eq!(active.state, GrantState::Active);
        assert_eq!(pending.state, GrantState::Pending);
        let credential = ports
            .grants
            .credential(Some(&owner), active.id)
            .await
            .unwrap();
        let reader = Auth::Bearer(
            app.token(Role::Admin, &[Scope::InventoryRead, Scope::GrantsWrite])
                .await,
        );
        let introspect = || async {
            form(
                &app,
                "/api/v1/oauth/introspect",
                &reader,
                &format!("token={}", credential.access_token),
            )
            .await
            .json()["active"]
                .clone()
        };
        assert_eq!(introspect().await, json!(true));

        ports
            .inventory
            .suspend(
                Some(&owner),
                id,
                &LifecycleRequest {
                    reason: "leaked key".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            introspect().await,
            json!(false),
            "the suspended identity's credential still introspects as active"
        );
        for grant in [&active, &pending] {
            let ended = ports
                .grants
                .view(Some(&admin), grant.id)
                .await
                .unwrap()
                .grant;
            assert_eq!(ended.state, GrantState::Revoked, "{:?}", grant.state);
            assert!(ended.end_reason.unwrap().contains("identity.suspend"));
        }
        // The revocations are audited as caused by the suspension.
        let events = store
            .list_audit(&steward_server::store::audit::AuditFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        for grant in [&active, &pending] {
            let revoked = events
                .iter()
                .find(|e| e.action == "grant.revoke" && e.target == format!("grant:{}", grant.id))
                .expect("a grant.revoke event for each open grant");
            assert_eq!(revoked.details["cause"], "identity.suspend");
        }

        // No new credential for it (409), over HTTP as the probe did.
        let owner_auth = Auth::Bearer(
            app.token(Role::Owner, &[Scope::InventoryRead, Scope::GrantsWrite])
                .await,
        );
        let reply = app
            .send_json(
                "POST",
                &format!("/api/v1/grants/{}/credential", active.id),
                &owner_auth,
                &json!({}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);

        // Reactivating does not revive the revoked grants.
        ports
            .inventory
            .reactivate(
                Some(&admin),
                id,
                &LifecycleRequest {
                    reason: "key rotated".into(),
                },
            )
            .await
            .unwrap();
        let after = ports
            .grants
            .view(Some(&admin), active.id)
            .await
            .unwrap()
            .grant;
        assert_eq!(after.state, GrantState::Revoked);
        assert_eq!(introspect().await, json!(false));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retiring_an_identity_revokes_its_grants_in_the_same_transaction() {
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
        let (id, ledger) = account_with_jit(&app, "retire-sync", "ledger-db").await;
        let grant = ports
            .grants
            .request(
                Some(&owner),
                &GrantRequest {
                    identity_id: id,
                    entitlement_id: ledger,
                    minutes: Some(30),
                    reason: Some("x".into()),
                },
            )
            .await
            .unwrap();
        let credential = ports
            .grants
            .credential(Some(&owner), grant.id)
            .await
            .unwrap();
        ports
            .inventory
            .retire(
                Some(&admin),
                id,
                &RetireRequest {
                    evidence: "CHG-1".into(),
                },
            )
            .await
            .unwrap();
        let introspected = ports
            .grants
            .introspect(Some(&admin), &credential.access_token)
            .await
            .unwrap();
        assert!(!introspected.active);
        let ended = ports
            .grants
            .view(Some(&admin), grant.id)
            .await
            .unwrap()
            .grant;
        assert_eq!(ended.state, GrantState::Revoked);
        assert!(ports
            .grants
            .credential(Some(&owner), grant.id)
            .await
            .is_err());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_a_leaver_suspends_their_agents_and_revokes_the_agents_grants() {
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
        let (agent, agent_jit) =
            identity_with_jit(&app, "leaver-agent", "ledger-a", IdentityKind::Agent).await;
        let (workload, workload_jit) =
            identity_with_jit(&app, "leaver-workload", "ledger-w", IdentityKind::Workload).await;
        let mut grants = Vec::new();
        for (identity, entitlement) in [(agent, agent_jit), (workload, workload_jit)] {
            let grant = ports
                .grants
                .request(
                    Some(&owner),
                    &GrantRequest {
                        identity_id: identity,
                        entitlement_id: entitlement,
                        minutes: Some(30),
                        reason: Some("batch run".into()),
                    },
                )
                .await
                .unwrap();
            assert_eq!(grant.state, GrantState::Active);
            grants.push(grant.id);
        }

        let result = ports
            .ownership
            .deactivate_person(
                Some(&admin),
                owner.person_id,
                &DeactivateRequest {
                    reason: "left the company".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!((result.orphaned, result.suspended), (2, 1));

        let admin = &admin;
        let status = |id| async move {
            ports
                .inventory
                .get_identity(Some(admin), id)
                .await
                .unwrap()
                .summary
                .status
        };
        assert_eq!(status(agent).await, IdentityStatus::Suspended);
        assert_eq!(
            status(workload).await,
            IdentityStatus::Active,
            "the default leaver policy suspends AI-connected identities only"
        );
        let state = |id| async move {
            ports
                .grants
                .view(Some(admin), id)
                .await
                .unwrap()
                .grant
                .state
        };
        assert_eq!(state(grants[0]).await, GrantState::Revoked);
        assert_eq!(state(grants[1]).await, GrantState::Active);
        let events = store
            .list_audit(&steward_server::store::audit::AuditFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let suspension = events
            .iter()
            .find(|e| e.action == "identity.suspend")
            .expect("the leaver's agent suspension is audited");
        assert_eq!(suspension.target, format!("identity:{agent}"));
        assert_eq!(suspension.details["cause"], "person.deactivate");
        assert_eq!(suspension.details["leaver_policy"], "ai");
        assert_eq!(suspension.details["grants_revoked"], 1);
    })
    .await;
}
