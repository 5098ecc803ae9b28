//! Compliance posture (issue 6): findings follow changes to the register, their
//! lifecycle (open, accepted with justification and expiry, lapsed, resolved, reopened),
//! the inventory's finding filters, full evaluations with their daily snapshot, the
//! dashboard's API and pages — on each database.

use crate::common::{email_of, for_each_store, Auth, TestApp};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::json;
use steward_domain::auth::Role;
use steward_domain::identity::IdentityDraft;
use steward_domain::inventory::{IdentityKind, IdentityQuery};
use steward_domain::ownership::{AssignRequest, AssignmentRole};
use steward_domain::posture::findings::{AcceptRiskRequest, FindingState, ReopenRequest};
use steward_domain::DomainError;
use steward_server::store::write::Statement;
use steward_server::store::Store;
use uuid::Uuid;

fn agent(name: &str) -> IdentityDraft {
    IdentityDraft {
        name: name.into(),
        kind: IdentityKind::Agent,
        external_id: None,
        environment: "prod".into(),
        team: Some("Support".into()),
        purpose: Some("answers support tickets".into()),
        autonomy: None,
        sensitivity_ceiling: None,
        spiffe_id: None,
        revocation_path: Some("disable the agent in the console".into()),
        expires_at: Some(Utc::now() + Duration::days(30)),
    }
}

async fn states(app: &TestApp, id: Uuid) -> Vec<(String, FindingState)> {
    let viewer = app.principal(Role::Viewer).await;
    let mut found: Vec<(String, FindingState)> = app
        .services
        .ports()
        .posture
        .findings_of(Some(&viewer), id)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.check, f.state))
        .collect();
    found.sort();
    found
}

async fn listed(app: &TestApp, filter: &str) -> Vec<Uuid> {
    let viewer = app.principal(Role::Viewer).await;
    let mut query = IdentityQuery::from_query_string(filter).unwrap();
    query.limit = IdentityQuery::MAX_LIMIT;
    let page = app
        .services
        .ports()
        .inventory
        .list_identities(Some(&viewer), &query)
        .await
        .unwrap();
    assert!(page.next_cursor.is_none(), "{filter}: more than one page");
    let mut ids: Vec<Uuid> = page.items.into_iter().map(|i| i.id).collect();
    ids.sort();
    ids
}

async fn count_audit(store: &Store, action: &str, target: &str) -> i64 {
    crate::common::scalar(
        store,
        "SELECT COUNT(*) FROM audit_events WHERE action = $1 AND target = $2",
        &[action, target],
    )
    .await
}

#[tokio::test]
async fn findings_follow_changes_and_risk_acceptances_have_a_lifecycle() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let viewer = app.principal(Role::Viewer).await;
        let ports = &app.services.ports();

        // A new agent without an owner, sponsor, SPIFFE ID or limits: its findings are
        // there as soon as it is created.
        let created = ports
            .inventory
            .create_identity(Some(&admin), &agent("ticket-bot"))
            .await
            .unwrap();
        let id = created.summary.id;
        let open = |checks: &[&str]| -> Vec<(String, FindingState)> {
            let mut v: Vec<(String, FindingState)> = checks
                .iter()
                .map(|c| ((*c).to_owned(), FindingState::Open))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            states(&app, id).await,
            open(&[
                "no-owner",
                "no-workload-binding",
                "agent-no-tool-allowlist",
                "agent-no-session-limits",
                "agent-no-sponsor",
            ])
        );
        assert_eq!(count_audit(&store, "findings.update", &format!("identity:{id}")).await, 1);

        // A well-kept service account next to it has none.
        let mut account = agent("billing-sync");
        account.kind = IdentityKind::ServiceAccount;
        let account = ports
            .inventory
            .create_identity(Some(&admin), &account)
            .await
            .unwrap()
            .summary
            .id;
        ports
            .ownership
            .assign(
                Some(&admin),
                account,
                &AssignRequest {
                    role: AssignmentRole::Owner,
                    person: email_of(Role::Owner),
                    reason: "runs billing".into(),
                },
            )
            .await
            .unwrap();
        // (it had no owner for a moment, between its creation and the assignment)
        assert_eq!(
            states(&app, account).await,
            vec![("no-owner".to_owned(), FindingState::Resolved)]
        );

        // Assigning an owner resolves "no owner" at once.
        ports
            .ownership
            .assign(
                Some(&admin),
                id,
                &AssignRequest {
                    role: AssignmentRole::Owner,
                    person: email_of(Role::Owner),
                    reason: "support team runs it".into(),
                },
            )
            .await
            .unwrap();
        let now = states(&app, id).await;
        assert!(now.contains(&("no-owner".into(), FindingState::Resolved)), "{now:?}");

        // The inventory filters on open findings of a check, a control, or any.
        assert_eq!(listed(&app, "finding=no-workload-binding").await, vec![id]);
        assert_eq!(listed(&app, "control=ASI02").await, vec![id]);
        assert_eq!(listed(&app, "finding=any").await, vec![id]);
        assert_eq!(listed(&app, "finding=no-owner").await, Vec::<Uuid>::new());
        assert_eq!(listed(&app, "control=NHI10").await, Vec::<Uuid>::new());

        // Accepting a risk: security team only, with a justification and an end.
        let request = AcceptRiskRequest {
            justification: "runs in an isolated namespace until the SPIRE rollout".into(),
            expires_at: Utc::now() + Duration::days(30),
        };
        let refused = ports
            .posture
            .accept_risk(Some(&viewer), id, "no-workload-binding", &request)
            .await;
        assert!(matches!(refused, Err(DomainError::Forbidden { .. })), "{refused:?}");
        let short = ports
            .posture
            .accept_risk(
                Some(&admin),
                id,
                "no-workload-binding",
                &AcceptRiskRequest {
                    justification: "ok".into(),
                    ..request.clone()
                },
            )
            .await;
        assert!(
            matches!(&short, Err(DomainError::InvalidInput { field, .. }) if field == "justification"),
            "{short:?}"
        );
        let missing = ports
            .posture
            .accept_risk(Some(&admin), id, "human-use", &request)
            .await;
        assert!(matches!(missing, Err(DomainError::NotFound { .. })), "{missing:?}");
        let accepted = ports
            .posture
            .accept_risk(Some(&admin), id, "no-workload-binding", &request)
            .await
            .unwrap();
        assert_eq!(accepted.state, FindingState::Accepted);
        let acceptance = accepted.acceptance.unwrap();
        assert_eq!(acceptance.approver, format!("user:{}", email_of(Role::Admin)));
        assert_eq!(acceptance.justification, request.justification);
        let again = ports
            .posture
            .accept_risk(Some(&admin), id, "no-workload-binding", &request)
            .await;
        assert!(matches!(again, Err(DomainError::Conflict { .. })), "{again:?}");
        // Accepted findings are no longer open ones.
        assert_eq!(listed(&app, "finding=no-workload-binding").await, Vec::<Uuid>::new());
        assert_eq!(count_audit(&store, "finding.accept_risk", &format!("identity:{id}")).await, 1);

        // A change to the identity keeps the acceptance while it lasts …
        ports
            .posture
            .reopen(Some(&admin), id, "no-workload-binding", &ReopenRequest { reason: "".into() })
            .await
            .unwrap_err();
        app.services.posture.evaluate_identities(&[id]).await.unwrap();
        assert!(states(&app, id)
            .await
            .contains(&("no-workload-binding".into(), FindingState::Accepted)));
        // … and when it has lapsed the finding is open again, on record.
        store
            .write(
                &[Statement::new(
                    "UPDATE findings SET accepted_until = $2 WHERE identity_id = $1 AND check_id = 'no-workload-binding'",
                )
                .bind(id)
                .bind(Utc::now() - Duration::minutes(1))],
                |_| vec![],
            )
            .await
            .unwrap();
        app.services.posture.evaluate_identities(&[id]).await.unwrap();
        let lapsed = ports
            .posture
            .findings_of(Some(&viewer), id)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.check == "no-workload-binding")
            .unwrap();
        assert_eq!(lapsed.state, FindingState::Open);
        assert!(lapsed.acceptance.is_some(), "the lapsed acceptance stays on record");
        assert_eq!(listed(&app, "finding=no-workload-binding").await, vec![id]);

        // Accept again and end it early: open again, audited.
        ports
            .posture
            .accept_risk(Some(&admin), id, "no-workload-binding", &request)
            .await
            .unwrap();
        let reopened = ports
            .posture
            .reopen(
                Some(&admin),
                id,
                "no-workload-binding",
                &ReopenRequest {
                    reason: "the namespace is shared now".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(reopened.state, FindingState::Open);
        assert_eq!(count_audit(&store, "finding.reopen", &format!("identity:{id}")).await, 1);

        // Giving it a SPIFFE ID resolves the finding.
        let mut bound = agent("ticket-bot");
        bound.spiffe_id = Some("spiffe://prod.example.com/agents/ticket-bot".into());
        ports
            .inventory
            .update_identity(Some(&admin), id, &bound)
            .await
            .unwrap();
        assert!(states(&app, id)
            .await
            .contains(&("no-workload-binding".into(), FindingState::Resolved)));
        assert_eq!(listed(&app, "finding=no-workload-binding").await, Vec::<Uuid>::new());
    })
    .await;
}

#[tokio::test]
async fn a_full_evaluation_matches_the_register_and_is_idempotent() {
    for_each_store(|store| async move {
        steward_server::demo::seed(&store, 400, 7, Utc::now(), |_| {})
            .await
            .unwrap();
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let viewer = app.principal(Role::Viewer).await;
        let ports = &app.services.ports();

        let empty = ports.posture.dashboard(Some(&viewer)).await.unwrap();
        assert!(empty.snapshot.is_none());

        let denied = ports.posture.evaluate(Some(&viewer)).await;
        assert!(matches!(denied, Err(DomainError::Forbidden { .. })));
        let first = ports.posture.evaluate(Some(&admin)).await.unwrap();
        assert!(first.identities >= 400, "{first:?}");
        assert!(first.opened > 0 && first.open == first.opened, "{first:?}");

        // What the snapshot counts is what the findings table holds.
        let dashboard = ports.posture.dashboard(Some(&viewer)).await.unwrap();
        let snapshot = dashboard.snapshot.unwrap();
        assert_eq!(snapshot.open(), first.open);
        let stored: i64 = match &store {
            Store::Sqlite(s) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE state = 'open'")
                    .fetch_one(&s.reader)
                    .await
                    .unwrap()
            }
            Store::Postgres(s) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE state = 'open'")
                    .fetch_one(&s.reader)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(stored as u64, first.open);
        // Each check's bar lists exactly as many identities as it counts.
        for (check, count) in &snapshot.open_by_check {
            let viewer_query = IdentityQuery {
                finding: Some(steward_domain::inventory::FindingFilter::Check(
                    check.clone(),
                )),
                ..IdentityQuery::new()
            };
            let facets = ports
                .inventory
                .facets(Some(&viewer), &viewer_query)
                .await
                .unwrap();
            assert_eq!(facets.total, *count, "{check}");
        }
        assert_eq!(dashboard.trend.last().unwrap().open, Some(first.open));
        assert!(dashboard
            .controls
            .iter()
            .any(|c| c.id == "NHI1" && c.open > 0));
        // The governed share's drill-down lists exactly the identities it does not count.
        for class in ["machine", "ai"] {
            let class: steward_domain::inventory::ActorClass = class.parse().unwrap();
            let all = IdentityQuery {
                actor_class: Some(class),
                status: None,
                ..IdentityQuery::new()
            };
            let ungoverned = IdentityQuery {
                ungoverned: true,
                ..all.clone()
            };
            let total = ports.inventory.facets(Some(&viewer), &all).await.unwrap();
            let retired = total
                .status
                .iter()
                .find(|f| f.value == "retired")
                .map_or(0, |f| f.count);
            let missing = ports
                .inventory
                .facets(Some(&viewer), &ungoverned)
                .await
                .unwrap();
            let retired_missing = missing
                .status
                .iter()
                .find(|f| f.value == "retired")
                .map_or(0, |f| f.count);
            assert_eq!(
                (total.total - retired) - (missing.total - retired_missing),
                snapshot.governed.get(class),
                "{class}"
            );
        }

        // Nothing changed: a second run writes nothing.
        let second = ports.posture.evaluate(Some(&admin)).await.unwrap();
        assert_eq!(
            (second.opened, second.resolved, second.lapsed),
            (0, 0, 0),
            "{second:?}"
        );
        assert_eq!(second.open, first.open);
        assert_eq!(count_audit(&store, "posture.evaluate", "posture").await, 2);

        // The day's report, and none for a day without an evaluation.
        let today = Utc::now().date_naive();
        let report = ports.posture.report(Some(&viewer), today).await.unwrap();
        assert_eq!(report.snapshot.open(), second.open);
        let none = ports
            .posture
            .report(Some(&viewer), today - Duration::days(400))
            .await;
        assert!(matches!(none, Err(DomainError::NotFound { .. })));
    })
    .await;
}

#[tokio::test]
async fn the_dashboard_api_and_pages_show_the_posture_with_drill_downs() {
    for_each_store(|store| async move {
        steward_server::demo::seed(&store, 150, 11, Utc::now(), |_| {})
            .await
            .unwrap();
        let app = TestApp::new(&store).await;
        let admin = Auth::Cookie(app.login(Role::Admin).await);
        let viewer = Auth::Cookie(app.login(Role::Viewer).await);

        // Before any evaluation: an empty state, and a CSV with its header only.
        let page = app.get("/posture", &viewer).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("No evaluation has run yet"),
            "{}",
            page.body
        );
        let csv = app.get("/api/v1/posture/dashboard.csv", &viewer).await;
        assert_eq!(csv.body, "taken_at,chart,label,value,drill_down\n");

        let run = app
            .send_json("POST", "/api/v1/posture/evaluate", &admin, &json!({}))
            .await;
        assert_eq!(run.status, StatusCode::OK, "{}", run.body);
        let open = run.json()["open"].as_u64().unwrap();
        assert!(open > 0);

        let page = app.get("/posture", &viewer).await;
        assert_eq!(page.status, StatusCode::OK);
        for chart in [
            "chart-governed",
            "chart-controls",
            "chart-teams",
            "chart-owners",
            "chart-credential-age",
            "chart-stale",
            "chart-trend",
        ] {
            assert!(
                page.body.contains(&format!("id=\"{chart}\"")),
                "{chart} missing"
            );
        }
        assert!(page.body.contains("href=\"/inventory?control=NHI1\""));
        assert!(page.body.contains("<title id=\"chart-controls-title\">"));
        // The viewer may not evaluate; the admin's page offers it.
        assert!(!page.body.contains("id=\"evaluate-now\""));
        assert!(app
            .get("/posture", &admin)
            .await
            .body
            .contains("id=\"evaluate-now\""));

        let csv = app.get("/api/v1/posture/dashboard.csv", &viewer).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.content_type.starts_with("text/csv"));
        assert!(
            csv.body.contains(",controls:owasp-nhi,NHI1,"),
            "{}",
            csv.body
        );
        assert!(csv.body.contains("/inventory?control=NHI1"));

        let controls = app.get("/controls", &viewer).await;
        assert_eq!(controls.status, StatusCode::OK);
        assert!(controls.body.contains("control-NHI1"));
        assert!(controls.body.contains("not covered"));

        let day = Utc::now().format("%Y-%m-%d");
        let report = app
            .get(&format!("/posture/report?day={day}"), &viewer)
            .await;
        assert_eq!(report.status, StatusCode::OK);
        assert!(report.body.contains(&format!("Posture report — {day}")));
        let missing = app.get("/posture/report?day=2001-01-01", &viewer).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);

        let api = app
            .get(&format!("/api/v1/posture/reports/{day}"), &viewer)
            .await;
        assert_eq!(api.status, StatusCode::OK);
        assert_eq!(
            api.json()["snapshot"]["open_by_check"]
                .as_object()
                .map(|m| m.values().filter_map(|v| v.as_u64()).sum::<u64>()),
            Some(open)
        );
        let bad = app.get("/api/v1/posture/reports/yesterday", &viewer).await;
        crate::common::assert_problem(
            &bad,
            StatusCode::BAD_REQUEST,
            "invalid day: 'yesterday' is not a date (YYYY-MM-DD)",
        );

        // An identity's findings through the API and on its page.
        let with_findings = app
            .get("/api/v1/identities?finding=any&limit=1", &viewer)
            .await;
        let id = with_findings.json()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let findings = app
            .get(&format!("/api/v1/identities/{id}/findings"), &viewer)
            .await;
        assert_eq!(findings.status, StatusCode::OK);
        let first = &findings.json()[0];
        assert_eq!(first["state"], "open");
        assert!(first["controls"].as_array().is_some_and(|c| !c.is_empty()));
        let page = app.get(&format!("/identities/{id}"), &admin).await;
        assert!(page.body.contains("id=\"findings\""));
        assert!(page.body.contains("Accept risk"));
        let page = app.get(&format!("/identities/{id}"), &viewer).await;
        assert!(!page.body.contains("Accept risk"));
    })
    .await;
}

#[tokio::test]
async fn retiring_an_identity_re_evaluates_those_that_acted_through_it() {
    use steward_domain::delegation::{DelegationKind, NewDelegation};
    use steward_domain::identity::{GrantType, NewEntitlement, Privilege, RetireRequest};
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let inventory = &app.services.ports().inventory;
        let agent_id = inventory
            .create_identity(Some(&admin), &agent("report-bot"))
            .await
            .unwrap()
            .summary
            .id;
        let mut account = agent("reporting-sa");
        account.kind = IdentityKind::ServiceAccount;
        let account_id = inventory
            .create_identity(Some(&admin), &account)
            .await
            .unwrap()
            .summary
            .id;
        inventory
            .add_entitlement(
                Some(&admin),
                account_id,
                &NewEntitlement {
                    resource: "warehouse".into(),
                    action: "write".into(),
                    privilege: Privilege::Write,
                    grant_type: GrantType::Standing,
                },
            )
            .await
            .unwrap();
        inventory
            .add_delegation(
                Some(&admin),
                agent_id,
                &NewDelegation {
                    to: account_id,
                    kind: DelegationKind::ActsAs,
                },
            )
            .await
            .unwrap();
        let through = (
            "agent-privilege-through-delegation".to_owned(),
            FindingState::Open,
        );
        assert!(states(&app, agent_id).await.contains(&through));

        inventory
            .retire(
                Some(&admin),
                account_id,
                &RetireRequest {
                    evidence: "CHG-7: reporting moved".into(),
                },
            )
            .await
            .unwrap();
        assert!(states(&app, agent_id).await.contains(&(
            "agent-privilege-through-delegation".to_owned(),
            FindingState::Resolved
        )));
    })
    .await;
}
