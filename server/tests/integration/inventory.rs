//! The register (issue 4): sorting and facets, creating and editing identities,
//! credentials, entitlements, delegations, ownership assignments and answers, the
//! orphan queue, lifecycle and export — every rule on each database.

use crate::common::{assert_problem, email_of, for_each_store, Auth, TestApp};
use axum::http::{header, StatusCode};
use chrono::{Duration, DurationRound, Utc};
use serde_json::json;
use steward_domain::auth::{Role, Scope};
use steward_domain::delegation::{DelegationKind, NewDelegation};
use steward_domain::identity::{
    CredentialKind, GrantType, IdentityDraft, LifecycleRequest, NewCredential, NewEntitlement,
    OwnershipState, Privilege, RetireRequest,
};
use steward_domain::inventory::{IdentityKind, IdentityQuery, IdentityStatus, IdentitySummary};
use steward_domain::ownership::{
    AnswerRequest, AssignRequest, AssignmentRole, AssignmentState, BulkAssignRequest,
    DeactivateRequest,
};
use steward_domain::DomainError;
use steward_server::store::inventory::NewIdentity;
use steward_server::store::ownership::people::NewPerson;
use steward_server::store::write::{Statement, WriteError};
use steward_server::store::Store;
use uuid::Uuid;

fn draft(name: &str, kind: IdentityKind, days: i64) -> IdentityDraft {
    IdentityDraft {
        name: name.into(),
        kind,
        external_id: None,
        environment: "prod".into(),
        team: Some("Payments".into()),
        purpose: Some("settles card payments".into()),
        autonomy: None,
        sensitivity_ceiling: None,
        spiffe_id: Some(format!("spiffe://prod.example.com/ns/pay/sa/{name}")),
        revocation_path: Some("https://runbooks.example.com/revoke".into()),
        expires_at: Some(Utc::now() + Duration::days(days)),
    }
}

async fn all_pages(app: &TestApp, base: &str) -> Vec<IdentitySummary> {
    let principal = app.principal(Role::Viewer).await;
    let mut query = IdentityQuery::from_query_string(base).unwrap();
    let mut rows = Vec::new();
    loop {
        let page = app
            .services
            .ports()
            .inventory
            .list_identities(Some(&principal), &query)
            .await
            .unwrap();
        rows.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query = query.with_cursor(&cursor).unwrap(),
            None => return rows,
        }
    }
}

/// 37 identities with distinct, partly missing, times.
/// The facet counts of each filter agree with the listing of that filter: total,
/// orphaned, expired and the per-class split — whichever way the counts are computed
/// (the counts table for class/kind/source/environment/status/orphaned filters, a
/// grouped pass for the others).
async fn assert_facets_match_listings(app: &TestApp, filters: &[&str]) {
    let viewer = app.principal(Role::Viewer).await;
    for filter in filters {
        let facets = app
            .services
            .ports()
            .inventory
            .facets(
                Some(&viewer),
                &IdentityQuery::from_query_string(filter).unwrap(),
            )
            .await
            .unwrap();
        let with = |extra: &str| {
            if filter.is_empty() {
                extra.to_owned()
            } else if filter.contains(extra) {
                filter.to_string()
            } else {
                format!("{filter}&{extra}")
            }
        };
        let listed = all_pages(app, filter).await;
        assert_eq!(facets.total, listed.len() as u64, "total of '{filter}'");
        let orphaned = all_pages(app, &with("orphaned=true")).await.len() as u64;
        assert_eq!(facets.orphaned, orphaned, "orphaned of '{filter}'");
        let expired = all_pages(app, &with("expired=true")).await.len() as u64;
        assert_eq!(facets.expired, expired, "expired of '{filter}'");
        let ai = listed
            .iter()
            .filter(|i| i.kind == IdentityKind::Agent)
            .count() as u64;
        assert_eq!(
            steward_domain::inventory::Facets::count(&facets.actor_class, "ai"),
            ai,
            "AI identities in '{filter}'"
        );
    }
}

async fn sortable_register(store: &Store) -> Vec<NewIdentity> {
    let base = Utc::now().duration_trunc(Duration::seconds(1)).unwrap();
    let identities: Vec<NewIdentity> = (0..37)
        .map(|i: i64| NewIdentity {
            created_at: base - Duration::days(i * 7 % 37),
            // Ties on purpose: several identities share a time.
            last_used_at: (i % 4 != 0).then(|| base - Duration::hours(i % 9)),
            expires_at: (i % 5 != 0).then(|| base + Duration::days(i % 11)),
            team: Some(if i % 2 == 0 { "Payments" } else { "Platform" }.into()),
            spiffe_id: (i == 7).then(|| "spiffe://prod.example.com/ns/pay/sa/needle".into()),
            ..NewIdentity::new(
                &format!("id-{:02}", (i * 13) % 37),
                if i % 3 == 0 {
                    IdentityKind::Agent
                } else {
                    IdentityKind::Workload
                },
                if i % 2 == 0 { "prod" } else { "dev" },
                base,
            )
        })
        .collect();
    store.insert_identities(&identities).await.unwrap();
    identities
}

#[tokio::test]
async fn every_sort_pages_through_everything_once_with_missing_values_last() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let register = sortable_register(&store).await;
        for sort in [
            "name",
            "-name",
            "created",
            "-created",
            "last_used",
            "-last_used",
            "expires",
            "-expires",
        ] {
            let rows = all_pages(&app, &format!("sort={sort}&limit=4")).await;
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                register.len(),
                "{sort}: every identity exactly once"
            );
            assert_eq!(ids.len(), register.len(), "{sort}");

            // The expected order: by value (missing last), ties by id, in the direction asked.
            let descending = sort.starts_with('-');
            let key = |r: &IdentitySummary| -> Option<String> {
                match sort.trim_start_matches('-') {
                    "name" => Some(r.name.clone()),
                    "created" => Some(r.created_at.to_rfc3339()),
                    "last_used" => r.last_used_at.map(|t| t.to_rfc3339()),
                    _ => r.expires_at.map(|t| t.to_rfc3339()),
                }
            };
            let mut expected = rows.clone();
            expected.sort_by(|a, b| match (key(a), key(b)) {
                (Some(x), Some(y)) => {
                    let order = x.cmp(&y).then(a.id.cmp(&b.id));
                    if descending {
                        order.reverse()
                    } else {
                        order
                    }
                }
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => {
                    let order = a.id.cmp(&b.id);
                    if descending {
                        order.reverse()
                    } else {
                        order
                    }
                }
            });
            let expected: Vec<Uuid> = expected.iter().map(|r| r.id).collect();
            assert_eq!(ids, expected, "{sort}");

            // A search keeps the order. `ID-1` is common here: most pages fill from the
            // rows in sort order (walking the sort index), the last from the search
            // index; the result is the same either way.
            let found = all_pages(&app, &format!("q=ID-1&sort={sort}&limit=3")).await;
            let found: Vec<Uuid> = found.iter().map(|r| r.id).collect();
            let names: std::collections::HashMap<Uuid, &str> =
                rows.iter().map(|r| (r.id, r.name.as_str())).collect();
            let expected_found: Vec<Uuid> = expected
                .iter()
                .copied()
                .filter(|id| names[id].contains("id-1"))
                .collect();
            assert_eq!(expected_found.len(), 10);
            assert_eq!(found, expected_found, "q=ID-1&sort={sort}");
        }

        // Filters combine with sorts; search finds SPIFFE IDs; team filters.
        let prod_by_expiry = all_pages(&app, "env=prod&sort=-expires&limit=3").await;
        assert_eq!(
            prod_by_expiry.len(),
            register.iter().filter(|i| i.environment == "prod").count()
        );
        assert!(prod_by_expiry.iter().all(|r| r.environment == "prod"));
        let needle = all_pages(&app, "q=sa/NEEDLE").await;
        assert_eq!(needle.len(), 1);
        assert_eq!(
            needle[0].spiffe_id.as_deref(),
            Some("spiffe://prod.example.com/ns/pay/sa/needle")
        );
        let platform = all_pages(&app, "team=Platform").await;
        assert_eq!(platform.len(), 18);
    })
    .await;
}

#[tokio::test]
async fn facet_counts_match_the_filter() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let register = sortable_register(&store).await;
        let viewer = app.principal(Role::Viewer).await;
        let inventory = &app.services.ports().inventory;
        let facets = inventory
            .facets(
                Some(&viewer),
                &IdentityQuery::from_query_string("env=prod").unwrap(),
            )
            .await
            .unwrap();
        let prod: Vec<&NewIdentity> = register
            .iter()
            .filter(|i| i.environment == "prod")
            .collect();
        assert_eq!(facets.total, prod.len() as u64);
        let agents = prod
            .iter()
            .filter(|i| i.kind == IdentityKind::Agent)
            .count() as u64;
        assert_eq!(
            steward_domain::inventory::Facets::count(&facets.kind, "agent"),
            agents
        );
        assert_eq!(
            steward_domain::inventory::Facets::count(&facets.actor_class, "ai"),
            agents
        );
        assert_eq!(facets.environment.len(), 1);
        // No identity has an owner: all are orphaned.
        let now = Utc::now();
        let expired = prod
            .iter()
            .filter(|i| i.expires_at.is_some_and(|at| at <= now))
            .count() as u64;
        assert!(expired > 0);
        assert_eq!(
            (facets.orphaned, facets.expired),
            (prod.len() as u64, expired)
        );

        // Other filters count the matching rows themselves; both ways agree.
        let team = inventory
            .facets(
                Some(&viewer),
                &IdentityQuery::from_query_string("team=Platform&env=dev").unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(team.total, 18);
        assert_eq!(
            steward_domain::inventory::Facets::count(&team.environment, "dev"),
            18
        );
        // The counts follow changes: retiring an identity moves it to `retired`.
        let admin = app.principal(Role::Admin).await;
        let one = all_pages(&app, "env=prod&limit=1").await[0].id;
        inventory
            .retire(
                Some(&admin),
                one,
                &RetireRequest {
                    evidence: "test".into(),
                },
            )
            .await
            .unwrap();
        let after = inventory
            .facets(
                Some(&viewer),
                &IdentityQuery::from_query_string("env=prod").unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            steward_domain::inventory::Facets::count(&after.status, "retired"),
            1
        );
        assert_eq!(after.total, facets.total);

        // Over HTTP, with the same parser as the listing.
        let reply = app
            .get(
                "/api/v1/identities/facets?class=ai",
                &Auth::Cookie(app.login(Role::Viewer).await),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.json()["total"],
            register
                .iter()
                .filter(|i| i.kind == IdentityKind::Agent)
                .count()
        );
        let reply = app
            .get(
                "/api/v1/identities/facets?sort=nope",
                &Auth::Cookie(app.login(Role::Viewer).await),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[tokio::test]
async fn the_inventory_page_counts_a_common_search_after_showing_its_rows() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let register = sortable_register(&store).await;
        let viewer = app.principal(Role::Viewer).await;
        let inventory = &app.services.ports().inventory;
        let query = |s: &str| IdentityQuery::from_query_string(s).unwrap();
        // The quick counts are the counts: without a search, with other filters, with
        // a rare term.
        for filter in [
            "",
            "env=prod",
            "team=Platform&env=dev",
            "q=id-0",
            "q=needle&env=prod",
        ] {
            let quick = inventory
                .quick_facets(Some(&viewer), &query(filter))
                .await
                .unwrap();
            let full = inventory
                .facets(Some(&viewer), &query(filter))
                .await
                .unwrap();
            assert_eq!(quick, Some(full), "quick counts of '{filter}'");
        }
        // A term too short for the search index is common: counting it groups every
        // match, so there are no quick counts (the exact ones are still there).
        assert_eq!(
            inventory
                .quick_facets(Some(&viewer), &query("q=id"))
                .await
                .unwrap(),
            None
        );
        let all = inventory
            .facets(Some(&viewer), &query("q=id"))
            .await
            .unwrap();
        assert_eq!(all.total, register.len() as u64);
        assert!(matches!(
            inventory.quick_facets(None, &query("")).await,
            Err(DomainError::Unauthenticated)
        ));

        // The page renders the rows of a common search at once and says the counts
        // are coming (the browser asks for them); other pages carry their counts.
        let auth = Auth::Cookie(app.login(Role::Viewer).await);
        let common = app.get("/inventory?q=id", &auth).await;
        assert_eq!(common.status, StatusCode::OK);
        assert!(common.body.contains(r#"id="counting""#), "{}", common.body);
        assert!(!common.body.contains(r#"id="match-count""#));
        assert!(common.body.contains(">id-00<") && common.body.contains(">id-36<"));
        let rare = app.get("/inventory?q=id-0", &auth).await.body;
        assert!(
            rare.contains(r#"<strong id="match-count">10</strong>"#),
            "{rare}"
        );
        assert!(!rare.contains(r#"id="counting""#));
        // The browser's request for the counts of the common search.
        let reply = app
            .send(
                auth.apply(axum::http::Request::post("/rpc/inventory/facets"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ORIGIN, crate::common::ORIGIN)
                    .body(axum::body::Body::from("query=q%3Did"))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json()["total"], register.len());
    })
    .await;
}

#[tokio::test]
async fn creating_and_editing_identities_follows_the_rules() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = Auth::Cookie(app.login(Role::Admin).await);

        // Bad input names its field; nothing is written.
        let cases = [
            (json!({"kind": "agent", "expires_at": (Utc::now() + Duration::days(120)).to_rfc3339()}),
             "invalid expires_at: the expiry is beyond policy: AI identities may live at most 90 days"),
            (json!({"expires_at": null}),
             "invalid expires_at: an expiry is required (Machine identities: at most 365 days ahead)"),
            (json!({"revocation_path": " "}),
             "invalid revocation_path: a revocation path is required: how to cut this identity off in an emergency"),
            (json!({"spiffe_id": "spiffe://Prod/x"}),
             "invalid spiffe_id: 'spiffe://Prod/x' is not a SPIFFE ID: the trust domain may only have lower-case letters, digits, '.', '-' and '_'"),
        ];
        for (change, detail) in cases {
            let mut body = serde_json::to_value(draft("payments-api", IdentityKind::Workload, 30)).unwrap();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let reply = app.send_json("POST", "/api/v1/identities", &admin, &body).await;
            assert_problem(&reply, StatusCode::BAD_REQUEST, detail);
        }
        let reply = app
            .send_json("POST", "/api/v1/identities", &admin, &json!({"name": "x", "kind": "robot"}))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.json()["detail"].as_str().unwrap().contains("expected one of"), "{}", reply.body);
        assert_eq!(store.count_identities().await.unwrap(), 0);

        // A valid identity is created, audited, and shows in full.
        let reply = app
            .send_json("POST", "/api/v1/identities", &admin, &serde_json::to_value(draft("payments-api", IdentityKind::Workload, 30)).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let created = reply.json();
        let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(created["source"], "manual");
        assert_eq!(created["team"], "Payments");
        // (the engine's findings.update for the new identity comes right after)
        assert_eq!(created["timeline"][1]["action"], "identity.create");
        assert_eq!(created["timeline"][0]["action"], "findings.update");

        // Editing records what changed.
        let mut edit = draft("payments-api", IdentityKind::Workload, 60);
        edit.environment = "staging".into();
        let reply = app
            .send_json("PUT", &format!("/api/v1/identities/{id}"), &admin, &serde_json::to_value(&edit).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let detail = reply.json();
        assert_eq!(detail["environment"], "staging");
        let update = &detail["timeline"][0];
        assert_eq!(update["action"], "identity.update");
        assert_eq!(update["details"]["changes"]["environment"]["before"], "prod");
        assert_eq!(update["details"]["changes"]["environment"]["after"], "staging");
        assert!(update["details"]["changes"].get("name").is_none());

        // Viewers read it but cannot change it.
        let viewer = Auth::Cookie(app.login(Role::Viewer).await);
        assert_eq!(app.get(&format!("/api/v1/identities/{id}"), &viewer).await.status, StatusCode::OK);
        let reply = app
            .send_json("PUT", &format!("/api/v1/identities/{id}"), &viewer, &serde_json::to_value(&edit).unwrap())
            .await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "not allowed: the viewer role cannot create, edit or retire identities");
        let reply = app.get("/api/v1/identities/not-a-uuid", &viewer).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.content_type, "application/problem+json");
    })
    .await;
}

#[tokio::test]
async fn credentials_entitlements_and_delegations() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let inv = &app.services.ports().inventory;
        let create = |name: &'static str, kind| {
            let admin = admin.clone();
            async move { inv.create_identity(Some(&admin), &draft(name, kind, 30)).await.unwrap().summary.id }
        };
        let orchestrator = create("triage-orchestrator", IdentityKind::Orchestrator).await;
        let agent = create("triage-agent", IdentityKind::Agent).await;
        let account = create("crm-sa", IdentityKind::ServiceAccount).await;

        // Credentials: metadata only, never secrets; revoked stays on record.
        let secret = NewCredential { kind: CredentialKind::ClientSecret, key_id: "ghp_secretvalue".into(), expires_at: None, rotation_days: None };
        assert!(matches!(inv.add_credential(Some(&admin), account, &secret).await, Err(DomainError::InvalidInput { .. })));
        let key = NewCredential { kind: CredentialKind::AccessKey, key_id: "AKIAIOSFODNN7EXAMPLE".into(), expires_at: None, rotation_days: Some(90) };
        let cred = inv.add_credential(Some(&admin), account, &key).await.unwrap();
        assert!(matches!(inv.add_credential(Some(&admin), account, &key).await, Err(DomainError::Conflict { .. })));
        let revoked = inv.revoke_credential(Some(&admin), account, cred.id).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert!(matches!(inv.revoke_credential(Some(&admin), account, cred.id).await, Err(DomainError::Conflict { .. })));

        // Entitlements.
        let grant = |identity, resource: &str, action: &str| {
            let admin = admin.clone();
            let e = NewEntitlement { resource: resource.into(), action: action.into(), privilege: Privilege::Read, grant_type: GrantType::Standing };
            async move { inv.add_entitlement(Some(&admin), identity, &e).await }
        };
        grant(orchestrator, "crm", "read").await.unwrap();
        grant(orchestrator, "tickets", "write").await.unwrap();
        grant(agent, "crm", "read").await.unwrap();
        grant(agent, "mail", "send").await.unwrap();
        grant(account, "crm", "read").await.unwrap();
        let delete = grant(account, "crm", "delete").await.unwrap();
        assert!(matches!(grant(account, "crm", "delete").await, Err(DomainError::Conflict { .. })));

        // Delegations: kinds must fit, no cycles.
        let acts = NewDelegation { to: account, kind: DelegationKind::ActsAs };
        inv.add_delegation(Some(&admin), agent, &acts).await.unwrap();
        let sub = NewDelegation { to: agent, kind: DelegationKind::SubAgent };
        inv.add_delegation(Some(&admin), orchestrator, &sub).await.unwrap();
        assert!(matches!(inv.add_delegation(Some(&admin), orchestrator, &sub).await, Err(DomainError::Conflict { .. })));
        let back = NewDelegation { to: orchestrator, kind: DelegationKind::SubAgent };
        let err = inv.add_delegation(Some(&admin), agent, &back).await.unwrap_err();
        assert_eq!(err.to_string(), "conflict: this delegation would close a cycle: the target already delegates, directly or not, to this identity");
        let wrong = NewDelegation { to: agent, kind: DelegationKind::ActsAs };
        assert!(matches!(inv.add_delegation(Some(&admin), account, &wrong).await, Err(DomainError::InvalidInput { .. })));

        // The agent's page shows the whole chain; permissions narrow along it.
        let detail = inv.get_identity(Some(&admin), agent).await.unwrap();
        assert_eq!(detail.delegation.nodes.len(), 3);
        assert_eq!(detail.delegation.edges.len(), 2);
        let effective = detail.delegation.effective_permissions();
        assert_eq!(effective[&account].iter().collect::<Vec<_>>(), ["crm:read"]);
        assert_eq!(effective[&agent].iter().collect::<Vec<_>>(), ["crm:read"]);
        // A removed entitlement no longer counts.
        inv.remove_entitlement(Some(&admin), account, delete.id).await.unwrap();
        let detail = inv.get_identity(Some(&admin), account).await.unwrap();
        let node = detail.delegation.nodes.iter().find(|n| n.id == account).unwrap();
        assert_eq!(node.permissions, ["crm:read"]);
        assert_eq!(detail.entitlements.iter().filter(|e| e.removed_at.is_some()).count(), 1);
        assert_eq!(detail.credentials.len(), 1);

        inv.remove_delegation(Some(&admin), agent, account).await.unwrap();
        assert!(matches!(inv.remove_delegation(Some(&admin), agent, account).await, Err(DomainError::NotFound { .. })));
    })
    .await;
}

#[tokio::test]
async fn owners_answer_assignments_in_their_inbox() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let viewer = app.principal(Role::Viewer).await;
        let (inv, own) = (
            &app.services.ports().inventory,
            &app.services.ports().ownership,
        );
        let id = inv
            .create_identity(
                Some(&admin),
                &draft("billing-sa", IdentityKind::ServiceAccount, 30),
            )
            .await
            .unwrap()
            .summary
            .id;

        let request = AssignRequest {
            role: AssignmentRole::Owner,
            person: email_of(Role::Owner),
            reason: "team moved".into(),
        };
        let assignment = own.assign(Some(&admin), id, &request).await.unwrap();
        assert_eq!(
            (assignment.state, assignment.previous.clone()),
            (AssignmentState::Pending, None)
        );
        assert!(matches!(
            own.assign(Some(&admin), id, &request).await,
            Err(DomainError::Conflict { .. })
        ));
        let nobody = AssignRequest {
            person: "nobody@example.com".into(),
            ..request.clone()
        };
        assert_eq!(
            own.assign(Some(&admin), id, &nobody)
                .await
                .unwrap_err()
                .to_string(),
            "invalid person: nobody with the email nobody@example.com is known to Steward"
        );
        assert!(matches!(
            own.assign(Some(&owner), id, &request).await,
            Err(DomainError::Forbidden { .. })
        ));
        let detail = inv.get_identity(Some(&admin), id).await.unwrap();
        assert_eq!(detail.summary.owner.unwrap().email, email_of(Role::Owner));
        assert_eq!(detail.ownership_state, Some(OwnershipState::Pending));

        // The owner sees it; nobody else can answer it.
        let inbox = own.inbox(Some(&owner)).await.unwrap();
        assert_eq!(inbox.assignments.len(), 1);
        assert!(own
            .inbox(Some(&viewer))
            .await
            .unwrap()
            .assignments
            .is_empty());
        assert!(matches!(
            own.accept(Some(&admin), assignment.id, &AnswerRequest::default())
                .await,
            Err(DomainError::Forbidden { .. })
        ));
        assert_eq!(
            own.dispute(Some(&owner), assignment.id, &AnswerRequest::default())
                .await
                .unwrap_err()
                .to_string(),
            "invalid note: a dispute needs a note saying why (e.g. who should own it instead)"
        );
        let accepted = own
            .accept(Some(&owner), assignment.id, &AnswerRequest::default())
            .await
            .unwrap();
        assert_eq!(accepted.state, AssignmentState::Accepted);
        assert!(matches!(
            own.accept(Some(&owner), assignment.id, &AnswerRequest::default())
                .await,
            Err(DomainError::Conflict { .. })
        ));
        assert_eq!(
            inv.get_identity(Some(&admin), id)
                .await
                .unwrap()
                .ownership_state,
            Some(OwnershipState::Accepted)
        );
        assert!(own
            .inbox(Some(&owner))
            .await
            .unwrap()
            .assignments
            .is_empty());

        // A sponsor cannot be the owner; a new sponsor can dispute with a note.
        let same = AssignRequest {
            role: AssignmentRole::Sponsor,
            ..request.clone()
        };
        assert!(matches!(
            own.assign(Some(&admin), id, &same).await,
            Err(DomainError::InvalidInput { .. })
        ));
        let sponsor = AssignRequest {
            role: AssignmentRole::Sponsor,
            person: email_of(Role::Viewer),
            reason: "backup".into(),
        };
        let made = own.assign(Some(&admin), id, &sponsor).await.unwrap();
        let disputed = own
            .dispute(
                Some(&viewer),
                made.id,
                &AnswerRequest {
                    note: Some("I am not on this team".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            disputed.answer_note.as_deref(),
            Some("I am not on this team")
        );
        // The security team sees disputes; the owner's answer stands.
        let disputes = own
            .list_assignments(Some(&admin), Some(AssignmentState::Disputed))
            .await
            .unwrap();
        assert_eq!(disputes.len(), 1);
        assert!(own
            .list_assignments(Some(&owner), Some(AssignmentState::Disputed))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            inv.get_identity(Some(&admin), id)
                .await
                .unwrap()
                .ownership_state,
            Some(OwnershipState::Accepted)
        );

        // Every step is in the identity's timeline.
        let actions: Vec<String> = inv
            .get_identity(Some(&admin), id)
            .await
            .unwrap()
            .timeline
            .iter()
            .map(|e| e.action.clone())
            .filter(|action| action != "findings.update")
            .collect();
        assert_eq!(
            actions,
            [
                "identity.assignment_dispute",
                "identity.assign_sponsor",
                "identity.assignment_accept",
                "identity.assign_owner",
                "identity.create"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn bulk_assignment_applies_to_the_filter_in_one_transaction() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        sortable_register(&store).await;
        let admin = app.principal(Role::Admin).await;
        let own = &app.services.ports().ownership;
        let request = |filter: &str, expected: Option<u64>| BulkAssignRequest {
            filter: filter.into(),
            role: AssignmentRole::Owner,
            person: email_of(Role::Owner),
            reason: "quarterly clean-up".into(),
            expected_count: expected,
        };
        assert_eq!(
            own.bulk_assign(Some(&admin), &request("", None)).await.unwrap_err().to_string(),
            "invalid filter: a bulk assignment needs a filter; it never applies to the whole inventory at once"
        );
        assert_eq!(
            own.bulk_assign(Some(&admin), &request("env=Prod!", None)).await.unwrap_err().to_string(),
            "invalid filter: env: 'Prod!' is not an environment name (lower-case letters, digits, '-', '_')"
        );
        // The count the admin saw no longer matches: nothing changes.
        let err = own.bulk_assign(Some(&admin), &request("orphaned=true&env=prod", Some(3))).await.unwrap_err();
        assert_eq!(err.to_string(), "conflict: the filter now matches 19 identities, not 3 as shown; nothing was changed — review the list and try again");
        assert_eq!(store.list_assignments(None, None, None, 100).await.unwrap().len(), 0);

        let done = own.bulk_assign(Some(&admin), &request("orphaned=true&env=prod", Some(19))).await.unwrap();
        assert_eq!((done.matched, done.assigned), (19, 19));
        assert_facets_match_listings(&app, &["", "env=prod", "orphaned=true", "env=prod&orphaned=true", "team=Platform"]).await;
        let owner = app.principal(Role::Owner).await;
        assert_eq!(own.inbox(Some(&owner)).await.unwrap().assignments.len(), 19);
        let mine = all_pages(&app, &format!("owner={}", email_of(Role::Owner))).await;
        assert_eq!(mine.len(), 19);
        assert!(mine.iter().all(|r| r.environment == "prod"));
        // Again: already theirs, nothing to change.
        let again = own.bulk_assign(Some(&admin), &request("env=prod", None)).await.unwrap();
        assert_eq!((again.matched, again.assigned), (19, 0));
        // One audit event per identity changed.
        let events = store
            .list_audit(&steward_server::store::audit::AuditFilter { action: Some("identity.assign_owner".into()), limit: 1000, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(events.len(), 19);
        assert!(events.iter().all(|e| e.details["bulk"] == true));
        assert!(store.verify_audit().await.unwrap().first_broken.is_none());
    })
    .await;
}

#[tokio::test]
async fn a_person_who_leaves_hands_their_identities_to_the_orphan_queue() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let now = Utc::now();
        let person = |name: &str, team: &str| NewPerson {
            id: Uuid::new_v4(),
            display_name: name.into(),
            email: format!("{}@example.com", name.to_lowercase()),
            team: Some(team.into()),
            active: true,
            created_at: now,
        };
        let (leaver, sponsor, colleague) = (
            person("Lee", "Payments"),
            person("Sam", "Risk"),
            person("Cora", "Payments"),
        );
        store
            .insert_people(&[leaver.clone(), sponsor.clone(), colleague.clone()])
            .await
            .unwrap();
        let identity = |name: &str, team: &str, sponsor_id: Option<Uuid>| NewIdentity {
            owner_id: Some(leaver.id),
            sponsor_id,
            team: Some(team.into()),
            ..NewIdentity::new(name, IdentityKind::Agent, "prod", now)
        };
        let with_sponsor = identity("a-sponsored", "Payments", Some(sponsor.id));
        let with_team = identity("b-team", "Payments", None);
        let alone = identity("c-alone", "Nowhere", None);
        store
            .insert_identities(&[with_sponsor.clone(), with_team.clone(), alone.clone()])
            .await
            .unwrap();

        let admin = app.principal(Role::Admin).await;
        let own = &app.services.ports().ownership;
        let reason = DeactivateRequest {
            reason: "left the company (HR-4711)".into(),
        };
        assert!(matches!(
            own.deactivate_person(Some(&app.principal(Role::Owner).await), leaver.id, &reason)
                .await,
            Err(DomainError::Forbidden { .. })
        ));
        let result = own
            .deactivate_person(Some(&admin), leaver.id, &reason)
            .await
            .unwrap();
        assert_eq!((result.orphaned, result.sponsors_notified), (3, 1));
        // Agents act for their owner: the default leaver policy suspends them.
        assert_eq!(result.suspended, 3);
        // The leaver's identities count as orphaned in every view at once.
        assert_facets_match_listings(
            &app,
            &[
                "",
                "env=prod",
                "class=ai&orphaned=true",
                "team=Payments",
                "q=e",
                "q=pay&env=prod",
            ],
        )
        .await;
        assert_eq!(
            app.services
                .ports()
                .inventory
                .facets(
                    Some(&admin),
                    &IdentityQuery::from_query_string("orphaned=true").unwrap()
                )
                .await
                .unwrap()
                .total,
            3
        );
        assert!(matches!(
            own.deactivate_person(Some(&admin), leaver.id, &reason)
                .await,
            Err(DomainError::Conflict { .. })
        ));
        assert_eq!(
            own.deactivate_person(Some(&admin), admin.person_id, &reason)
                .await
                .unwrap_err()
                .to_string(),
            "invalid person: you cannot deactivate yourself"
        );

        let queue = own.orphan_queue(Some(&admin)).await.unwrap();
        let entry = |id: Uuid| queue.iter().find(|e| e.identity.id == id).unwrap();
        assert_eq!(queue.len(), 3);
        assert_eq!(
            entry(with_sponsor.id).suggested.as_ref().unwrap().id,
            sponsor.id
        );
        assert_eq!(entry(with_sponsor.id).suggested_reason, "the sponsor");
        assert_eq!(
            entry(with_team.id).suggested.as_ref().unwrap().id,
            colleague.id
        );
        assert!(entry(alone.id).suggested.is_none());
        assert!(queue.iter().all(|e| e.former_owner.id == leaver.id));

        // The inventory shows them as orphaned; the sponsor is told.
        assert_eq!(all_pages(&app, "orphaned=true").await.len(), 3);
        let messages = store.notifications_for(sponsor.id, 10).await.unwrap();
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0]
                .message
                .starts_with("Lee has left. You sponsor a-sponsored"),
            "{}",
            messages[0].message
        );
        // A leaver can no longer be assigned anything.
        let to_leaver = AssignRequest {
            role: AssignmentRole::Owner,
            person: leaver.email.clone(),
            reason: "x".into(),
        };
        assert_eq!(
            own.assign(Some(&admin), alone.id, &to_leaver)
                .await
                .unwrap_err()
                .to_string(),
            "invalid person: Lee has left; choose someone who is still here"
        );
        // Giving an orphan a new owner takes it off the queue.
        let pick_up = AssignRequest {
            role: AssignmentRole::Owner,
            person: sponsor.email.clone(),
            reason: "sponsor takes over".into(),
        };
        own.assign(Some(&admin), with_sponsor.id, &pick_up)
            .await
            .unwrap();
        let promoted = app
            .services
            .ports()
            .inventory
            .get_identity(Some(&admin), with_sponsor.id)
            .await
            .unwrap();
        assert_eq!(promoted.summary.owner.unwrap().id, sponsor.id);
        assert_eq!(promoted.sponsor, None);
        assert_eq!(own.orphan_queue(Some(&admin)).await.unwrap().len(), 2);
        assert_eq!(all_pages(&app, "orphaned=true").await.len(), 2);

        // A user who leaves loses their session at the next request.
        let cookie = Auth::Cookie(app.login(Role::Viewer).await);
        assert_eq!(
            app.get("/api/v1/identities", &cookie).await.status,
            StatusCode::OK
        );
        let viewer = app.principal(Role::Viewer).await;
        own.deactivate_person(Some(&admin), viewer.person_id, &reason)
            .await
            .unwrap();
        assert_eq!(
            app.get("/api/v1/identities", &cookie).await.status,
            StatusCode::UNAUTHORIZED
        );
        let again = app
            .login_with(&email_of(Role::Viewer), crate::common::PASSWORD, None)
            .await;
        assert!(
            again.location.starts_with("/login?error="),
            "{}",
            again.location
        );
    })
    .await;
}

#[tokio::test]
async fn suspending_is_a_kill_switch_and_retiring_offboards_with_evidence() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        // An API token is an api_client identity owned by its creator.
        let token = app
            .token(Role::Owner, &[Scope::InventoryRead, Scope::InventoryWrite])
            .await;
        let bearer = Auth::Bearer(token);
        assert_eq!(
            app.get("/api/v1/identities", &bearer).await.status,
            StatusCode::OK
        );
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let viewer = app.principal(Role::Viewer).await;
        let inv = &app.services.ports().inventory;
        let token_identity = all_pages(&app, "kind=api_client").await[0].id;

        // Owners may suspend what they own — here, their own token: it stops at once.
        let reason = LifecycleRequest {
            reason: "suspected leak".into(),
        };
        let reply = app
            .send_json(
                "POST",
                &format!("/api/v1/identities/{token_identity}/suspend"),
                &bearer,
                &json!({"reason": "suspected leak"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            app.get("/api/v1/identities", &bearer).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert!(matches!(
            inv.suspend(Some(&owner), token_identity, &reason).await,
            Err(DomainError::Conflict { .. })
        ));

        // …but not what others own.
        let other = inv
            .create_identity(
                Some(&admin),
                &draft("someone-elses", IdentityKind::Agent, 30),
            )
            .await
            .unwrap()
            .summary
            .id;
        assert_eq!(
            inv.suspend(Some(&owner), other, &reason)
                .await
                .unwrap_err()
                .to_string(),
            "not allowed: owners can suspend only the identities they own"
        );
        assert!(matches!(
            inv.suspend(Some(&viewer), other, &reason).await,
            Err(DomainError::Forbidden { .. })
        ));
        let blank = LifecycleRequest { reason: " ".into() };
        assert_eq!(
            inv.suspend(Some(&admin), other, &blank)
                .await
                .unwrap_err()
                .to_string(),
            "invalid reason: a reason is required"
        );

        // Reactivating brings the token back.
        assert!(matches!(
            inv.reactivate(Some(&admin), other, &reason).await,
            Err(DomainError::Conflict { .. })
        ));
        let back = inv
            .reactivate(
                Some(&admin),
                token_identity,
                &LifecycleRequest {
                    reason: "rotated, false alarm".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(back.summary.status, IdentityStatus::Active);
        assert_eq!(
            app.get("/api/v1/identities", &bearer).await.status,
            StatusCode::OK
        );

        // Retiring: the checklist in one transaction, evidence kept, nothing deleted.
        let e = NewEntitlement {
            resource: "db".into(),
            action: "read".into(),
            privilege: Privilege::Read,
            grant_type: GrantType::Standing,
        };
        inv.add_entitlement(Some(&admin), token_identity, &e)
            .await
            .unwrap();
        assert!(matches!(
            inv.retire(
                Some(&admin),
                token_identity,
                &RetireRequest {
                    evidence: "".into()
                }
            )
            .await,
            Err(DomainError::InvalidInput { .. })
        ));
        let report = inv
            .retire(
                Some(&admin),
                token_identity,
                &RetireRequest {
                    evidence: "CHG-1234: token no longer needed".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (report.credentials_revoked, report.entitlements_removed),
            (1, 1)
        );
        assert_eq!(
            app.get("/api/v1/identities", &bearer).await.status,
            StatusCode::UNAUTHORIZED
        );
        let retired = inv
            .get_identity(Some(&admin), token_identity)
            .await
            .unwrap();
        assert_eq!(retired.summary.status, IdentityStatus::Retired);
        assert_eq!(
            retired.status_reason.as_deref(),
            Some("CHG-1234: token no longer needed")
        );
        // Retiring resolves its findings, recorded right after the retirement.
        assert_eq!(retired.timeline[0].action, "findings.update");
        assert_eq!(retired.timeline[1].action, "identity.retire");
        assert_eq!(
            retired.timeline[1].details["checklist"]["entitlements_removed"],
            1
        );
        assert_eq!(
            inv.retire(
                Some(&admin),
                token_identity,
                &RetireRequest {
                    evidence: "again".into()
                }
            )
            .await
            .unwrap_err()
            .to_string(),
            format!(
                "conflict: {} is retired; retired identities cannot be changed",
                retired.summary.name
            )
        );
        assert!(matches!(
            inv.reactivate(Some(&admin), token_identity, &reason).await,
            Err(DomainError::Conflict { .. })
        ));
        assert!(store.verify_audit().await.unwrap().first_broken.is_none());
    })
    .await;
}

#[tokio::test]
async fn a_write_that_fails_its_precondition_leaves_nothing_behind() {
    for_each_store(|store| async move {
        let id = Uuid::new_v4();
        let statements = [
            Statement::new("INSERT INTO teams (name, created_at) VALUES ($1, $2)")
                .bind("Ghosts")
                .bind(Utc::now()),
            Statement::new("UPDATE identities SET status = 'retired' WHERE id = $1")
                .bind(id)
                .must_touch(1, "no such identity"),
        ];
        let event = steward_domain::audit::NewAuditEvent::new(
            "test",
            steward_domain::audit::AuditAction::IdentityUpdate,
            "x",
            json!({}),
        );
        let err = store.write(&statements, |_| vec![event]).await.unwrap_err();
        assert!(matches!(err, WriteError::Precondition("no such identity")));
        assert!(!store.team_exists("Ghosts").await.unwrap());
        assert!(store
            .list_audit(&steward_server::store::audit::AuditFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_export_streams_the_filter_as_csv_and_is_audited() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let register = sortable_register(&store).await;
        let auditor = Auth::Cookie(app.login(Role::Auditor).await);
        let reply = app
            .get(
                "/api/v1/identities/export.csv?env=dev&sort=-created",
                &auditor,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.content_type, "text/csv; charset=utf-8");
        let lines: Vec<&str> = reply.body.lines().collect();
        assert!(lines[0].starts_with("id,name,actor_class,kind,source"));
        let dev = register.iter().filter(|i| i.environment == "dev").count();
        assert_eq!(lines.len(), dev + 1);
        assert!(lines[1..].iter().all(|l| l.contains(",dev,")));
        let events = store
            .list_audit(&steward_server::store::audit::AuditFilter {
                action: Some("inventory.export".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].details["filter"], "env=dev");
        let reply = app
            .get("/api/v1/identities/export.csv?env=BAD", &auditor)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    })
    .await;
}
