//! Issue 31, items 11 and 12: overlapping grant policies have a defined precedence
//! whatever the order they were created in, a shadowed policy is reported, and a grant
//! that needed approval is not extended by its requester alone.

use steward_domain::auth::Role;
use steward_domain::grants::{ApprovalMode, ExtendRequest, GrantRequest, GrantState, Requesters};
use steward_domain::DomainError;

use super::{account_with_jit, policy};
use crate::common::{for_each_store, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_strictest_of_overlapping_policies_governs_in_either_order_of_creation() {
    for strict_first in [true, false] {
        for_each_store(|store| async move {
            let app = TestApp::new(&store).await;
            let admin = app.principal(Role::Admin).await;
            let viewer = app.principal(Role::Viewer).await;
            let ports = &app.services.ports();
            let strict = policy(
                "owners only",
                "ledger-db",
                ApprovalMode::Owner,
                Requesters::Owners,
            );
            let lax = policy(
                "anyone, automatic",
                "ledger-db",
                ApprovalMode::Automatic,
                Requesters::Anyone,
            );
            let order = if strict_first {
                [&strict, &lax]
            } else {
                [&lax, &strict]
            };
            let mut saved = Vec::new();
            for draft in order {
                saved.push(
                    ports
                        .grants
                        .create_policy(Some(&admin), draft)
                        .await
                        .unwrap(),
                );
            }
            // The save that made the lax one dead says so, whichever came first.
            let listed = ports.grants.policies(Some(&admin)).await.unwrap();
            let lax_listed = listed.iter().find(|p| p.draft.name == lax.name).unwrap();
            assert_eq!(lax_listed.shadowed_by.as_deref(), Some("owners only"));
            let strict_listed = listed.iter().find(|p| p.draft.name == strict.name).unwrap();
            assert_eq!(strict_listed.shadowed_by, None);
            if !strict_first {
                assert_eq!(saved[1].shadowed_by, None);
            } else {
                assert_eq!(saved[1].shadowed_by.as_deref(), Some("owners only"));
            }

            let (id, entitlement) = account_with_jit(&app, "ledger-sync", "ledger-db").await;
            let eligible = ports.grants.eligible(Some(&admin), id).await.unwrap();
            assert_eq!(eligible[0].policy.draft.name, "owners only");
            // A viewer (anyone) is refused: the owners-only policy governs.
            let refused = ports
                .grants
                .request(
                    Some(&viewer),
                    &GrantRequest {
                        identity_id: id,
                        entitlement_id: entitlement,
                        minutes: Some(10),
                        reason: Some("x".into()),
                    },
                )
                .await;
            assert!(
                matches!(refused, Err(DomainError::Forbidden { .. })),
                "{refused:?}"
            );
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_cannot_extend_a_grant_that_needed_approval() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let ports = &app.services.ports();
        ports
            .grants
            .create_policy(
                Some(&admin),
                &policy("security approves", "vault-*", ApprovalMode::SecurityTeam, Requesters::Owners),
            )
            .await
            .unwrap();
        let (id, entitlement) = account_with_jit(&app, "vault-sync", "vault-root").await;
        let grant = ports
            .grants
            .request(
                Some(&owner),
                &GrantRequest {
                    identity_id: id,
                    entitlement_id: entitlement,
                    minutes: Some(10),
                    reason: Some("rotate".into()),
                },
            )
            .await
            .unwrap();
        let grant = ports.grants.approve(Some(&admin), grant.id).await.unwrap();
        assert_eq!(grant.state, GrantState::Active);
        let more = ExtendRequest { minutes: 20 };
        let refused = ports.grants.extend(Some(&owner), grant.id, &more).await;
        assert!(
            matches!(&refused, Err(DomainError::Forbidden { reason }) if reason.contains("request it again")),
            "{refused:?}"
        );
        // The security team, who approved it, may.
        let extended = ports.grants.extend(Some(&admin), grant.id, &more).await.unwrap();
        assert!(extended.expires_at > grant.expires_at);
    })
    .await;
}
