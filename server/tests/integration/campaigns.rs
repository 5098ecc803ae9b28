//! Access review campaigns (issue 7): launch snapshots, the reviewer rule, decisions
//! carried out through the inventory, permissions, the one-winner race, reminders and
//! escalation with an injected clock, the close policy, recurrence, the evidence pack
//! and signed webhooks — on each database.

use std::sync::{Arc, Mutex};

use crate::common::{email_of, for_each_store, notifications_of, scalar, Auth, TestApp};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use steward_domain::auth::{Role, Scope};
use steward_domain::campaigns::{
    CampaignDraft, CampaignState, CloseOutcome, ClosePolicy, CreateCampaign, Decision, Escalation,
    ItemFilter, Recurrence, Remediation, ReviewItem, Reviewed, ReviewerKind,
};
use steward_domain::identity::{IdentityDraft, NewEntitlement, Privilege};
use steward_domain::inventory::IdentityKind;
use steward_domain::ownership::{AssignRequest, AssignmentRole};
use steward_domain::DomainError;
use steward_server::services::notify::{signature, WebhookConfig, WebhookFormat};
use uuid::Uuid;

fn account(name: &str) -> IdentityDraft {
    IdentityDraft {
        name: name.into(),
        kind: IdentityKind::ServiceAccount,
        external_id: None,
        environment: "prod".into(),
        team: Some("Payments".into()),
        purpose: Some("nightly billing export".into()),
        autonomy: None,
        sensitivity_ceiling: None,
        spiffe_id: None,
        revocation_path: Some("delete the service account".into()),
        expires_at: Some(Utc::now() + Duration::days(200)),
    }
}

/// Creates a service account with a standing admin entitlement, owned (and sponsored)
/// by the given test users. Returns its id and the entitlement's id.
async fn owned_account(
    app: &TestApp,
    name: &str,
    owner: Option<Role>,
    sponsor: Option<Role>,
) -> (Uuid, Uuid) {
    let admin = app.principal(Role::Admin).await;
    let ports = &app.services.ports();
    let id = ports
        .inventory
        .create_identity(Some(&admin), &account(name))
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
                resource: format!("{name}-db"),
                action: "admin".into(),
                privilege: Privilege::Admin,
                grant_type: steward_domain::identity::GrantType::Standing,
            },
        )
        .await
        .unwrap()
        .id;
    for (role, who) in [
        (AssignmentRole::Owner, owner),
        (AssignmentRole::Sponsor, sponsor),
    ] {
        if let Some(who) = who {
            ports
                .ownership
                .assign(
                    Some(&admin),
                    id,
                    &AssignRequest {
                        role,
                        person: email_of(who),
                        reason: "test".into(),
                    },
                )
                .await
                .unwrap();
        }
    }
    (id, entitlement)
}

fn draft(name: &str, starts_at: DateTime<Utc>, close_policy: ClosePolicy) -> CampaignDraft {
    CampaignDraft {
        name: name.into(),
        scope: "status=active&finding=admin-entitlement".into(),
        controls: vec!["NHI5".into(), "PR.AA-05".into()],
        reviewed: Reviewed {
            ownership: false,
            entitlements: true,
            credentials: false,
        },
        starts_at,
        due_at: starts_at + Duration::days(14),
        remind_every_days: 7,
        escalation: Escalation::Sponsor,
        close_policy,
        recurrence: Recurrence::Quarterly,
    }
}

async fn items_of(app: &TestApp, campaign: Uuid) -> Vec<ReviewItem> {
    let viewer = app.principal(Role::Viewer).await;
    app.services
        .ports()
        .campaigns
        .items(Some(&viewer), campaign, ItemFilter::All, 0, 200)
        .await
        .unwrap()
        .items
}

fn item_for(items: &[ReviewItem], identity: Uuid) -> ReviewItem {
    items
        .iter()
        .find(|i| i.identity_id == identity)
        .cloned()
        .unwrap_or_else(|| panic!("no item for {identity}"))
}

async fn active_entitlements(app: &TestApp, identity: Uuid) -> Vec<Uuid> {
    app.services
        .store
        .entitlements_of(identity)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.removed_at.is_none())
        .map(|e| e.id)
        .collect()
}

#[tokio::test]
async fn a_campaign_runs_from_launch_through_reminders_and_escalation_to_its_evidence() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let owner = app.principal(Role::Owner).await;
        let viewer = app.principal(Role::Viewer).await;
        let auditor = app.principal(Role::Auditor).await;
        let ports = &app.services.ports();

        // Three accounts with admin entitlements: one the owner owns, one the viewer
        // owns with the auditor as sponsor, one nobody owns.
        let (billing, billing_admin) = owned_account(&app, "billing-sync", Some(Role::Owner), None).await;
        let (reports, _) =
            owned_account(&app, "report-export", Some(Role::Viewer), Some(Role::Auditor)).await;
        let (orphan, orphan_admin) = owned_account(&app, "legacy-cron", None, None).await;
        // Out of scope: no admin entitlement.
        let quiet = ports
            .inventory
            .create_identity(Some(&admin), &account("quiet-reader"))
            .await
            .unwrap()
            .summary
            .id;

        // Only the security team creates campaigns; bad drafts name the field.
        let start = Utc::now();
        let request = CreateCampaign {
            draft: draft("Q4 privileged review", start, ClosePolicy::Revoke),
            template: Some("privileged-entitlements".into()),
        };
        assert!(matches!(
            ports.campaigns.create(Some(&owner), &request).await,
            Err(DomainError::Forbidden { .. })
        ));
        let mut bad = request.clone();
        bad.draft.controls = vec!["NHI42".into()];
        assert!(matches!(
            ports.campaigns.create(Some(&admin), &bad).await,
            Err(DomainError::InvalidInput { field, .. }) if field == "controls"
        ));
        let campaign = ports.campaigns.create(Some(&admin), &request).await.unwrap();
        assert_eq!(campaign.state, CampaignState::Open);
        assert_eq!(campaign.items, 3, "the scope at launch: three admin holders");

        // The reviewer rule: owner, else sponsor, else the security team.
        let items = items_of(&app, campaign.id).await;
        assert!(items.iter().all(|i| i.identity_id != quiet));
        let billing_item = item_for(&items, billing);
        assert_eq!(billing_item.reviewer.kind, ReviewerKind::Owner);
        assert_eq!(billing_item.reviewer.person.as_ref().unwrap().email, email_of(Role::Owner));
        assert_eq!(item_for(&items, reports).reviewer.kind, ReviewerKind::Owner);
        let orphan_item = item_for(&items, orphan);
        assert_eq!(orphan_item.reviewer.kind, ReviewerKind::SecurityTeam);
        // The snapshot holds the context to decide.
        assert_eq!(billing_item.snapshot.entitlements.len(), 1);
        assert!(billing_item.snapshot.findings.iter().any(|f| f.check == "admin-entitlement"));
        assert_eq!(billing_item.snapshot.purpose.as_deref(), Some("nightly billing export"));

        // Later changes to the register do not change the open campaign.
        ports
            .inventory
            .add_entitlement(
                Some(&admin),
                billing,
                &NewEntitlement {
                    resource: "ledger".into(),
                    action: "read".into(),
                    privilege: Privilege::Read,
                    grant_type: steward_domain::identity::GrantType::Standing,
                },
            )
            .await
            .unwrap();
        owned_account(&app, "new-admin", Some(Role::Owner), None).await;
        let items = items_of(&app, campaign.id).await;
        assert_eq!(items.len(), 3);
        assert_eq!(item_for(&items, billing).snapshot.entitlements.len(), 1);

        // The owner's inbox holds their item only; the viewer's theirs; admins the team's.
        let mine = ports.campaigns.my_reviews(Some(&owner)).await.unwrap();
        assert_eq!(mine.iter().map(|i| i.identity_id).collect::<Vec<_>>(), vec![billing]);
        let team = ports.campaigns.my_reviews(Some(&admin)).await.unwrap();
        assert_eq!(team.iter().map(|i| i.identity_id).collect::<Vec<_>>(), vec![orphan]);

        // An owner decides only their own items.
        let refused = ports
            .campaigns
            .decide(Some(&owner), orphan_item.id, &Decision::Certify { comment: Some("x".into()) })
            .await;
        assert!(matches!(refused, Err(DomainError::Forbidden { .. })), "{refused:?}");
        let refused = ports
            .campaigns
            .decide(Some(&viewer), billing_item.id, &Decision::Certify { comment: Some("x".into()) })
            .await;
        assert!(matches!(refused, Err(DomainError::Forbidden { .. })), "{refused:?}");
        // Certifying a high-severity finding needs a comment.
        let refused = ports
            .campaigns
            .decide(Some(&owner), billing_item.id, &Decision::Certify { comment: None })
            .await;
        assert!(
            matches!(&refused, Err(DomainError::InvalidInput { field, .. }) if field == "comment"),
            "{refused:?}"
        );

        // Revoking takes effect through the inventory, audited as the reviewer's.
        let decided = ports
            .campaigns
            .decide(
                Some(&owner),
                billing_item.id,
                &Decision::Reduce {
                    entitlements: vec![billing_admin],
                    comment: Some("the export runs read-only now".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(decided.remediation, Remediation::Done, "{:?}", decided.remediation_note);
        assert!(!active_entitlements(&app, billing).await.contains(&billing_admin));
        let removal = scalar(
            &store,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'entitlement.remove' AND actor = $1",
            &[&format!("user:{} (review campaign:{})", email_of(Role::Owner), campaign.id)],
        )
        .await;
        assert_eq!(removal, 1);
        // A decided item cannot be decided again.
        let again = ports
            .campaigns
            .decide(Some(&owner), billing_item.id, &Decision::Certify { comment: Some("x".into()) })
            .await;
        assert!(
            matches!(&again, Err(DomainError::Conflict { message }) if message.contains("already decided")),
            "{again:?}"
        );

        // Reminders: a week in, each reviewer with undecided items once; not again the same day.
        let service = &app.services.campaigns;
        let week = start + Duration::days(7) + Duration::minutes(1);
        let before = notifications_of(&store, Role::Viewer).await;
        let report = service.tick(week).await.unwrap();
        assert_eq!(report.reminded, 2, "{report:?}: the viewer and the security team");
        assert_eq!(notifications_of(&store, Role::Viewer).await, before + 1);
        assert_eq!(service.tick(week + Duration::hours(12)).await.unwrap().reminded, 0);
        assert_eq!(service.tick(week + Duration::days(3)).await.unwrap().reminded, 0);
        assert_eq!(service.tick(week + Duration::days(6)).await.unwrap().reminded, 0);

        // After the due date the undecided items escalate: the report's to its sponsor.
        let overdue = campaign.draft.due_at + Duration::hours(1);
        let report = service.tick(overdue).await.unwrap();
        assert_eq!(report.escalated, 2, "{report:?}");
        let items = items_of(&app, campaign.id).await;
        let escalated = item_for(&items, reports);
        assert_eq!(escalated.reviewer.kind, ReviewerKind::Sponsor);
        assert_eq!(escalated.reviewer.person.as_ref().unwrap().email, email_of(Role::Auditor));
        assert!(escalated.escalated_at.is_some());
        assert!(escalated.previous_reviewer.as_deref().unwrap().contains(&email_of(Role::Viewer)));
        assert_eq!(service.tick(overdue + Duration::hours(1)).await.unwrap().escalated, 0);
        let overview = ports.campaigns.overview(Some(&viewer)).await.unwrap();
        // Not overdue by the real clock yet; by the injected one, both undecided items are.
        assert!(overview.overdue.is_empty());
        let late = app.services.store.overdue_items(Some(campaign.id), overdue, 100).await.unwrap();
        assert_eq!(late.len(), 2);
        assert!(overview.by_control.iter().any(|p| p.label.starts_with("NHI5") && p.total == 3 && p.decided == 1));
        // The viewer no longer decides it; the sponsor (auditor) does.
        assert!(ports.campaigns.my_reviews(Some(&viewer)).await.unwrap().is_empty());
        ports
            .campaigns
            .decide(
                Some(&auditor),
                escalated.id,
                &Decision::Certify { comment: Some("still exports the monthly report".into()) },
            )
            .await
            .unwrap();

        // Closing applies the close policy: the orphan's access is revoked.
        assert!(matches!(
            ports.campaigns.close(Some(&owner), campaign.id).await,
            Err(DomainError::Forbidden { .. })
        ));
        let closed = ports.campaigns.close(Some(&admin), campaign.id).await.unwrap();
        assert_eq!(closed.state, CampaignState::Closed);
        assert_eq!(closed.decided, 3);
        assert_eq!(closed.remediation_open, 0);
        assert!(!active_entitlements(&app, orphan).await.contains(&orphan_admin));
        let items = items_of(&app, campaign.id).await;
        let closed_orphan = item_for(&items, orphan);
        assert_eq!(closed_orphan.close_outcome, Some(CloseOutcome::Revoked));
        assert_eq!(closed_orphan.remediation, Remediation::Done);
        assert!(matches!(
            ports.campaigns.close(Some(&admin), campaign.id).await,
            Err(DomainError::Conflict { .. })
        ));

        // The evidence pack: every item, its outcome and the hash of the audit event that
        // recorded it; auditors may read it, owners may not.
        assert!(matches!(
            ports.campaigns.evidence(Some(&owner), campaign.id).await,
            Err(DomainError::Forbidden { .. })
        ));
        let evidence = ports.campaigns.evidence(Some(&auditor), campaign.id).await.unwrap();
        assert_eq!(evidence.rows.len(), 3);
        for row in &evidence.rows {
            let hash = row.audit_hash.clone().unwrap();
            let action = if row.item.decision.is_some() { "campaign.decide" } else { "campaign.close" };
            let matching = scalar(
                &store,
                &format!("SELECT COUNT(*) FROM audit_events WHERE hash = $1 AND action = '{action}'"),
                &[&hash],
            )
            .await;
            assert_eq!(matching, 1, "{}: {hash}", row.item.snapshot.name);
        }
        let csv = steward_domain::campaigns::evidence_csv(&evidence);
        assert!(csv.contains("billing-sync"));
        assert!(csv.contains(",reduce,the export runs read-only now,billing-sync-db:admin,"), "{csv}");
        assert!(csv.contains(",revoked,done,"), "{csv}");
        assert!(evidence.controls.iter().any(|(id, title)| id == "NHI5" && !title.is_empty()));
        assert_eq!(app.services.ports().audit.verify(Some(&admin)).await.unwrap().first_broken, None);

        // Recurrence: the next quarter's campaign was scheduled at launch and launches
        // when its start comes.
        let all = ports.campaigns.overview(Some(&admin)).await.unwrap().campaigns;
        let next = all.iter().find(|c| c.previous_id == Some(campaign.id)).unwrap();
        assert_eq!(next.state, CampaignState::Scheduled);
        assert_eq!(next.draft.starts_at, campaign.draft.starts_at.checked_add_months(chrono::Months::new(3)).unwrap());
        let report = service.tick(next.draft.starts_at + Duration::minutes(1)).await.unwrap();
        assert_eq!(report.launched, 1);
        let relaunched = ports.campaigns.detail(Some(&admin), next.id).await.unwrap().campaign;
        assert_eq!(relaunched.state, CampaignState::Open);
        assert!(relaunched.items >= 2, "the new scope: {}", relaunched.items);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_decisions_on_one_item_at_once_one_wins_and_the_other_is_told() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let ports = app.services.ports().clone();
        let mut identities = Vec::new();
        for n in 0..4 {
            identities.push(owned_account(&app, &format!("race-{n}"), Some(Role::Owner), None).await.0);
        }
        let campaign = ports
            .campaigns
            .create(
                Some(&admin),
                &CreateCampaign {
                    draft: draft("race", Utc::now(), ClosePolicy::Keep),
                    template: None,
                },
            )
            .await
            .unwrap();
        // The owner in two sessions (two tabs, or a colleague with a reassigned copy).
        let first = app.principal(Role::Owner).await;
        let second = app.principal(Role::Owner).await;
        for item in items_of(&app, campaign.id).await {
            let certify = Decision::Certify { comment: Some("needed".into()) };
            let revoke = Decision::Revoke { comment: "not needed".into() };
            let (a, b) = tokio::join!(
                ports.campaigns.decide(Some(&first), item.id, &certify),
                ports.campaigns.decide(Some(&second), item.id, &revoke),
            );
            let (won, lost) = match (&a, &b) {
                (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won.clone(), lost.clone()),
                other => panic!("exactly one decision must win: {other:?}"),
            };
            match lost {
                DomainError::Conflict { message } => {
                    assert!(message.contains("already decided this item"), "{message}");
                    assert!(message.contains("your decision was not recorded"), "{message}");
                }
                other => panic!("{other:?}"),
            }
            let decisions = scalar(
                &store,
                "SELECT COUNT(*) FROM audit_events WHERE action = 'campaign.decide' AND details LIKE $1",
                &[&format!("%{}%", item.id)],
            )
            .await;
            assert_eq!(decisions, 1, "one decision recorded");
            let stored = items_of(&app, campaign.id).await.into_iter().find(|i| i.id == item.id).unwrap();
            assert_eq!(stored.decision, won.decision);
            // The revoke won: its change was made once; the certify won: nothing changed.
            let active = active_entitlements(&app, item.identity_id).await.len();
            match won.decision.unwrap() {
                Decision::Revoke { .. } => assert_eq!(active, 0),
                _ => assert_eq!(active, 1),
            }
        }
        assert_eq!(app.services.ports().audit.verify(Some(&admin)).await.unwrap().first_broken, None);
    })
    .await;
}

/// Receives webhooks on loopback and keeps what came.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<(HeaderMap, String)>>>) {
    let received: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_decides_reviews_and_reminders_reach_signed_webhooks() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let (url, received) = webhook_receiver().await;
        let secret = "a-shared-secret-of-some-length";
        let services = app.services.clone().with_webhooks(WebhookConfig {
            targets: vec![(WebhookFormat::Json, url.clone()), (WebhookFormat::Slack, url)],
            secret: Some(secret.into()),
            public_url: Some("https://steward.example.com".into()),
        });
        let (billing, billing_admin) = owned_account(&app, "billing-sync", Some(Role::Owner), None).await;
        let (other, _) = owned_account(&app, "other-sync", Some(Role::Owner), None).await;

        // A template launched over the API.
        let admin_token = app.token(Role::Admin, Scope::ALL).await;
        let reply = app
            .send_json(
                "POST",
                "/api/v1/campaigns/from-template/privileged-entitlements",
                &Auth::Bearer(admin_token.clone()),
                &json!({}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let campaign: Uuid = reply.json()["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(reply.json()["items"], 2);
        let unknown = app
            .send_json("POST", "/api/v1/campaigns/from-template/nope", &Auth::Bearer(admin_token.clone()), &json!({}))
            .await;
        crate::common::assert_problem(&unknown, StatusCode::NOT_FOUND, "campaign template nope not found");

        // The owner's token needs the reviews:write scope to see and decide reviews.
        let reader = app.token(Role::Owner, &[Scope::InventoryRead]).await;
        assert_eq!(app.get("/api/v1/reviews", &Auth::Bearer(reader)).await.status, StatusCode::FORBIDDEN);
        let reviewer = Auth::Bearer(app.token(Role::Owner, &[Scope::ReviewsWrite]).await);
        let inbox = app.get("/api/v1/reviews", &reviewer).await;
        assert_eq!(inbox.status, StatusCode::OK);
        let items = inbox.json();
        assert_eq!(items.as_array().unwrap().len(), 2);
        let billing_item = items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["identity_id"] == billing.to_string())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // A bad decision names the field; a good one is carried out.
        let bad = app
            .send_json("POST", &format!("/api/v1/reviews/{billing_item}/decision"), &reviewer, &json!({"decision": "revoke", "comment": " "}))
            .await;
        crate::common::assert_problem(&bad, StatusCode::BAD_REQUEST, "invalid comment: say why");
        let done = app
            .send_json("POST", &format!("/api/v1/reviews/{billing_item}/decision"), &reviewer, &json!({"decision": "revoke", "comment": "decommissioned"}))
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(done.json()["remediation"], "done");
        assert!(!active_entitlements(&app, billing).await.contains(&billing_admin));
        let again = app
            .send_json("POST", &format!("/api/v1/reviews/{billing_item}/decision"), &reviewer, &json!({"decision": "certify", "comment": "x"}))
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);

        // Bulk decisions must be confirmed.
        let other_item = items.as_array().unwrap().iter().find(|i| i["identity_id"] == other.to_string()).unwrap()["id"].clone();
        let unconfirmed = app
            .send_json("POST", "/api/v1/reviews/bulk", &reviewer, &json!({"items": [other_item], "decision": "certify", "comment": "fine", "confirm": false}))
            .await;
        assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST, "{}", unconfirmed.body);

        // A week in, the owner is reminded: in the app and at both webhooks, signed.
        let report = services
            .campaigns
            .tick(Utc::now() + Duration::days(7) + Duration::minutes(1))
            .await
            .unwrap();
        assert_eq!(report.reminded, 1, "{report:?}");
        assert_eq!(report.webhooks_delivered, 2, "{report:?}");
        let got = received.lock().unwrap().clone();
        assert_eq!(got.len(), 2);
        for (headers, body) in &got {
            let timestamp: i64 = headers["x-steward-timestamp"].to_str().unwrap().parse().unwrap();
            assert_eq!(
                headers["x-steward-signature"].to_str().unwrap(),
                signature(secret, timestamp, body),
                "the signature verifies"
            );
            assert_eq!(headers["x-steward-event"], "campaign.reminder");
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            assert!(json["text"].as_str().unwrap().contains("1 access review in \"Privileged entitlement review\" waits"), "{body}");
        }
        let generic = got.iter().map(|(_, b)| serde_json::from_str::<serde_json::Value>(b).unwrap()).find(|j| j.get("event").is_some()).unwrap();
        assert_eq!(generic["data"]["pending"], 1);
        assert_eq!(generic["data"]["url"], "https://steward.example.com/reviews");
        // Delivered once: another run sends nothing more.
        assert_eq!(services.campaigns.tick(Utc::now() + Duration::days(7) + Duration::hours(2)).await.unwrap().webhooks_delivered, 0);

        // The evidence CSV: auditors yes, owners no.
        let auditor = Auth::Cookie(app.login(Role::Auditor).await);
        let csv = app.get(&format!("/api/v1/campaigns/{campaign}/evidence.csv"), &auditor).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.content_type.starts_with("text/csv"));
        assert!(csv.body.starts_with("campaign_id,campaign,item_id"));
        assert!(csv.body.contains(",revoke,decommissioned,"), "{}", csv.body);
        let owner = Auth::Cookie(app.login(Role::Owner).await);
        assert_eq!(app.get(&format!("/api/v1/campaigns/{campaign}/evidence.csv"), &owner).await.status, StatusCode::FORBIDDEN);

        // The pages render for reviewers and the security team.
        let reviews = app.get("/reviews", &owner).await;
        assert_eq!(reviews.status, StatusCode::OK);
        assert!(reviews.body.contains("other-sync"), "the owner's undecided item is listed");
        // The forms the item's checkboxes belong to (by their `form` attribute) exist.
        assert!(reviews.body.contains(r#"id="bulk-form""#), "{}", reviews.body);
        let other_form = format!(r#"id="decide-{}""#, other_item.as_str().unwrap());
        assert!(reviews.body.contains(&other_form), "{}", reviews.body);
        let page = app.get(&format!("/campaigns/{campaign}"), &Auth::Cookie(app.login(Role::Admin).await)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("1 of 2 decided (50%)"), "{}", page.body);
        let report = app.get(&format!("/campaigns/{campaign}/evidence"), &auditor).await;
        assert_eq!(report.status, StatusCode::OK);
        assert!(report.body.contains("billing-sync"));
        assert_eq!(app.get(&format!("/campaigns/{campaign}/evidence"), &owner).await.status, StatusCode::FORBIDDEN);
    })
    .await;
}
