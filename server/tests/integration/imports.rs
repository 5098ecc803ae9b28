//! Imports (issue 5): real files in, the register compared and changed in one
//! transaction, idempotent, not-seen marking, secrets never kept, errors that name the
//! place — on each database, through the service and over HTTP.

use crate::common::{for_each_store, Auth, TestApp, ORIGIN};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use steward_domain::auth::Role;
use steward_domain::imports::{ImportAction, ImportFormat, ImportLimits, ImportRequest};
use steward_domain::inventory::IdentityQuery;
use steward_domain::DomainError;
use steward_server::store::audit::AuditFilter;
use steward_server::store::Store;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/imports/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn request(format: ImportFormat, file: &str) -> ImportRequest {
    ImportRequest::new(format, file)
}

async fn count(app: &TestApp, filter: &str) -> u64 {
    let admin = app.principal(Role::Admin).await;
    app.services
        .ports()
        .inventory
        .facets(
            Some(&admin),
            &IdentityQuery::from_query_string(filter).unwrap(),
        )
        .await
        .unwrap()
        .total
}

/// The first page of the inventory for `filter`, as an admin sees it.
async fn listed(app: &TestApp, filter: &str) -> Vec<steward_domain::inventory::IdentitySummary> {
    let admin = app.principal(Role::Admin).await;
    app.services
        .ports()
        .inventory
        .list_identities(
            Some(&admin),
            &IdentityQuery::from_query_string(filter).unwrap(),
        )
        .await
        .unwrap()
        .items
}

async fn imports_audited(store: &Store) -> Vec<steward_domain::audit::AuditEvent> {
    store
        .list_audit(&AuditFilter {
            action: Some("import.apply".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_report_imports_once_and_marks_what_disappears() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let imports = &app.services.ports().imports;
        let file = fixture("aws-credential-report.csv");

        // A dry run reports and writes nothing.
        let dry = ImportRequest {
            dry_run: true,
            ..request(ImportFormat::AwsCredentialReport, "report.csv")
        };
        let report = imports
            .import(Some(&admin), &dry, file.clone())
            .await
            .unwrap();
        assert!(report.dry_run);
        assert_eq!(
            (report.records, report.created, report.skipped),
            (5, 4, 1),
            "root is skipped"
        );
        assert_eq!(report.sha256.len(), 64);
        assert_eq!(count(&app, "source=aws").await, 0);
        assert!(imports_audited(&store).await.is_empty());

        // Applied: identities, credentials and the human-use signal; one audit event.
        let applied = imports
            .import(
                Some(&admin),
                &request(ImportFormat::AwsCredentialReport, "report.csv"),
                file.clone(),
            )
            .await
            .unwrap();
        assert!(!applied.dry_run);
        assert_eq!(
            (applied.created, applied.credentials, applied.signals),
            (4, 6, 1)
        );
        assert_eq!(count(&app, "source=aws").await, 4);
        assert_eq!(count(&app, "source=aws&kind=ci_runner").await, 1);
        let events = imports_audited(&store).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].details["sha256"], applied.sha256);
        assert_eq!(events[0].details["created"], 4);
        let billing = listed(&app, "q=billing-export").await;
        let detail = app
            .services
            .ports()
            .inventory
            .get_identity(Some(&admin), billing[0].id)
            .await
            .unwrap();
        assert_eq!(detail.credentials.len(), 2);
        assert_eq!(
            detail.summary.last_used_at.unwrap().to_rfc3339(),
            "2026-11-25T14:00:00+00:00",
            "last use is the latest of password and keys"
        );

        // The same file again changes nothing.
        let again = imports
            .import(
                Some(&admin),
                &request(ImportFormat::AwsCredentialReport, "report.csv"),
                file.clone(),
            )
            .await
            .unwrap();
        assert_eq!(
            (
                again.created,
                again.updated,
                again.unchanged,
                again.credentials,
                again.signals
            ),
            (0, 0, 4, 0, 0)
        );
        assert!(again.changes.iter().all(|c| c.action == ImportAction::Skip));

        // A full re-import without old-sync marks it not seen, and keeps it.
        let text = String::from_utf8(file.clone()).unwrap();
        let without: String = text
            .lines()
            .filter(|l| !l.starts_with("old-sync,"))
            .map(|l| format!("{l}\n"))
            .collect();
        let full = ImportRequest {
            full: true,
            ..request(ImportFormat::AwsCredentialReport, "report-2.csv")
        };
        let marked = imports
            .import(Some(&admin), &full, without.as_bytes().to_vec())
            .await
            .unwrap();
        assert_eq!((marked.unchanged, marked.not_seen), (3, 1));
        let gone = marked
            .changes
            .iter()
            .find(|c| c.action == ImportAction::NotSeen)
            .unwrap();
        assert_eq!(gone.name, "old-sync");
        assert_eq!(count(&app, "source=aws").await, 4, "never deleted");
        // Seen again in the next full import.
        let back = imports
            .import(
                Some(&admin),
                &ImportRequest {
                    full: true,
                    ..request(ImportFormat::AwsCredentialReport, "report.csv")
                },
                file.clone(),
            )
            .await
            .unwrap();
        assert_eq!((back.updated, back.not_seen), (1, 0));
        assert_eq!(
            back.changes
                .iter()
                .find(|c| c.action == ImportAction::Update)
                .unwrap()
                .detail,
            "seen again"
        );
        assert!(store.verify_audit().await.unwrap().first_broken.is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_the_problem_and_writes_nothing() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let imports = &app.services.ports().imports;
        let file = String::from_utf8(fixture("aws-credential-report.csv")).unwrap();
        let refuse = |text: String, format: ImportFormat| {
            let app = &app;
            let admin = admin.clone();
            async move {
                match app.services.ports().imports.import(Some(&admin), &request(format, "bad.csv"), text.as_bytes().to_vec()).await {
                    Err(DomainError::InvalidInput { field, message }) => format!("{field}: {message}"),
                    other => panic!("expected a refusal, got {other:?}"),
                }
            }
        };
        // A good line before the bad one: still nothing is written.
        let bad_time = file.replacen("2020-03-03T00:00:00+00:00", "03/03/2020", 1);
        assert_eq!(
            refuse(bad_time, ImportFormat::AwsCredentialReport).await,
            "file: bad.csv: line 5, field user_creation_time: '03/03/2020' is not an ISO 8601 time (like 2026-01-31T12:00:00Z)"
        );
        let wrong_header = file.replacen("arn,", "ARN,", 1);
        assert!(refuse(wrong_header, ImportFormat::AwsCredentialReport).await.contains("line 1: is not an AWS credential report header: column 2 is 'ARN'"));
        let duplicate = format!("{file}{}\n", file.lines().nth(2).unwrap());
        assert_eq!(
            refuse(duplicate, ImportFormat::AwsCredentialReport).await,
            "file: bad.csv: line 7: repeats the key aws arn:aws:iam::123456789012:user/ci/github-deploy of line 3; each identity may appear once"
        );
        assert_eq!(
            refuse("name,kind,environment,external_id\nx,robot,prod,1\n".into(), ImportFormat::StewardCsv).await,
            "file: bad.csv: line 2, field kind: unknown value 'robot'; expected one of: service_account, workload, ci_runner, integration, api_client, agent, orchestrator, llm_app, assistant_session"
        );
        assert_eq!(count(&app, "").await, 0, "nothing half-written");
        assert!(imports_audited(&store).await.is_empty());

        // Limits on size and records.
        let small = app.services.clone().with_import_limits(ImportLimits { max_bytes: 100, max_records: 2 });
        match small.ports().imports.import(Some(&admin), &request(ImportFormat::AwsCredentialReport, "big.csv"), file.as_bytes().to_vec()).await {
            Err(DomainError::InvalidInput { message, .. }) => assert!(message.starts_with("big.csv is 1"), "{message}"),
            other => panic!("{other:?}"),
        }
        let few = app.services.clone().with_import_limits(ImportLimits { max_bytes: 1 << 20, max_records: 2 });
        match few.ports().imports.import(Some(&admin), &request(ImportFormat::AwsCredentialReport, "many.csv"), file.as_bytes().to_vec()).await {
            Err(DomainError::InvalidInput { message, .. }) => {
                assert_eq!(message, "many.csv: line 4: is past the limit of 2 records per import")
            }
            other => panic!("{other:?}"),
        }
        // Only admins import.
        let owner = app.principal(Role::Owner).await;
        assert!(matches!(
            imports.import(Some(&owner), &request(ImportFormat::AwsCredentialReport, "x.csv"), file.as_bytes().to_vec()).await,
            Err(DomainError::Forbidden { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_bindings_become_delegations_and_key_files_are_never_kept() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let imports = &app.services.ports().imports;
        let accounts = imports
            .import(
                Some(&admin),
                &request(ImportFormat::GcpServiceAccounts, "sa.json"),
                fixture("gcp-service-accounts.json"),
            )
            .await
            .unwrap();
        assert_eq!(accounts.created, 2);
        assert_eq!(
            count(&app, "source=gcp&status=suspended").await,
            1,
            "disabled at the source"
        );
        let k8s = ImportRequest {
            trust_domain: Some("prod.acme.example".into()),
            ..request(ImportFormat::K8sServiceAccounts, "sa.json")
        };
        let report = imports
            .import(Some(&admin), &k8s, fixture("k8s-serviceaccounts.json"))
            .await
            .unwrap();
        assert_eq!(
            (report.created, report.delegations, report.credentials),
            (2, 1, 1)
        );
        let pod = listed(&app, "q=finance/billing").await;
        assert_eq!(
            pod[0].spiffe_id.as_deref(),
            Some("spiffe://prod.acme.example/ns/finance/sa/billing-exporter")
        );
        let detail = app
            .services
            .ports()
            .inventory
            .get_identity(Some(&admin), pod[0].id)
            .await
            .unwrap();
        assert_eq!(
            detail.delegation.edges.len(),
            1,
            "the pod acts as the Google service account"
        );

        // A key file: recognised, reported, its private key nowhere.
        let key = fixture("gcp-key-file.json");
        let report = imports
            .import(
                Some(&admin),
                &request(ImportFormat::GcpKeys, "key.json"),
                key,
            )
            .await
            .unwrap();
        assert_eq!((report.updated, report.signals), (1, 1));
        let dump = database_text(&store).await;
        assert!(
            !dump.contains("PRIVATE KEY") && !dump.contains("MIIEvQ"),
            "a secret was stored"
        );
        assert!(dump.contains("secret_uploaded"));
    })
    .await;
}

/// Every text value in the tables an import writes, for looking for secrets.
async fn database_text(store: &Store) -> String {
    let queries = [
        "SELECT COALESCE(name, '') || COALESCE(purpose, '') || COALESCE(external_id, '') FROM identities",
        "SELECT key_id FROM credentials",
        "SELECT signal || detail FROM identity_signals",
        "SELECT CAST(details AS TEXT) FROM audit_events",
    ];
    let mut text = String::new();
    for sql in queries {
        let rows: Vec<String> = match store {
            Store::Sqlite(s) => sqlx::query_scalar(sql).fetch_all(&s.reader).await.unwrap(),
            Store::Postgres(s) => sqlx::query_scalar(sql).fetch_all(&s.reader).await.unwrap(),
        };
        text.push_str(&rows.join("\n"));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imports_back_unchanged_over_http() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = Auth::Cookie(app.login(Role::Admin).await);
        let upload = |query: &str, body: Vec<u8>, auth: &Auth| {
            auth.apply(Request::post(format!("/api/v1/imports?{query}")))
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(body))
                .unwrap()
        };
        let reply = app
            .send(upload(
                "format=aws-credential-report&file_name=report.csv",
                fixture("aws-credential-report.csv"),
                &admin,
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.json()["created"], 4);

        let export = app.get("/api/v1/identities/export.csv", &admin).await;
        assert_eq!(export.status, StatusCode::OK);
        let reply = app
            .send(upload(
                "format=steward-csv&dry_run=true",
                export.body.into_bytes(),
                &admin,
            ))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let report = reply.json();
        assert_eq!(
            (
                report["records"].as_u64(),
                report["unchanged"].as_u64(),
                report["created"].as_u64()
            ),
            (Some(4), Some(4), Some(0))
        );

        let reply = app.send(upload("format=nope", b"x".to_vec(), &admin)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.content_type, "application/problem+json");
        let reply = app
            .send(upload(
                "format=steward-csv",
                b"name,kind\n".to_vec(),
                &admin,
            ))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(
            reply
                .body
                .contains("line 1, field environment: is a required column and is missing"),
            "{}",
            reply.body
        );
        let viewer = Auth::Cookie(app.login(Role::Viewer).await);
        let reply = app
            .send(upload(
                "format=steward-csv",
                b"name,kind,environment\n".to_vec(),
                &viewer,
            ))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    })
    .await;
}

/// A Steward CSV of `rows` service accounts in `prod` (external ids `sa-0`, `sa-1`, …).
fn many_accounts(rows: usize) -> String {
    let mut file = String::from("name,kind,environment,external_id\n");
    for i in 0..rows {
        file.push_str(&format!("account-{i},service_account,prod,sa-{i}\n"));
    }
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_of_many_chunks_is_still_one_transaction() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = app.principal(Role::Admin).await;
        let imports = &app.services.ports().imports;
        let csv = |dry_run: bool, full: bool| {
            let mut request = request(ImportFormat::StewardCsv, "accounts.csv");
            request.dry_run = dry_run;
            request.full = full;
            request.environment = "prod".into();
            request
        };

        // Records are compared and written 5,000 at a time; a bad last line after
        // two full chunks of good ones still leaves nothing behind.
        let bad = format!("{}broken,robot,prod,sa-x\n", many_accounts(11_000));
        match imports.import(Some(&admin), &csv(false, false), bad.into_bytes()).await {
            Err(DomainError::InvalidInput { message, .. }) => {
                assert!(message.starts_with("accounts.csv: line 11002, field kind: unknown value 'robot'"), "{message}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(count(&app, "").await, 0, "nothing half-written");
        assert!(imports_audited(&store).await.is_empty());

        // A key repeated two chunks apart is found too.
        let repeated = format!("{}again,service_account,prod,sa-7\n", many_accounts(11_000));
        match imports.import(Some(&admin), &csv(false, false), repeated.into_bytes()).await {
            Err(DomainError::InvalidInput { message, .. }) => assert_eq!(
                message,
                "accounts.csv: line 11002: repeats the key manual sa-7 of line 9; each identity may appear once"
            ),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(count(&app, "").await, 0);

        // The dry run counts every chunk but previews only the first changes.
        let file = many_accounts(11_000).into_bytes();
        let preview = imports.import(Some(&admin), &csv(true, false), file.clone()).await.unwrap();
        assert_eq!((preview.records, preview.created), (11_000, 11_000));
        assert_eq!(preview.changes.len(), steward_domain::imports::PREVIEW_CHANGES);
        assert_eq!(preview.changes[0].external_id, "sa-0");
        assert_eq!(count(&app, "").await, 0, "a dry run writes nothing");

        let applied = imports.import(Some(&admin), &csv(false, false), file.clone()).await.unwrap();
        assert_eq!(applied.created, 11_000);
        assert_eq!(count(&app, "").await, 11_000);
        let again = imports.import(Some(&admin), &csv(false, false), file).await.unwrap();
        assert_eq!((again.unchanged, again.created, again.updated), (11_000, 0, 0));

        // A full import without the last 5,000: those are marked not seen, in one go.
        let fewer = imports
            .import(Some(&admin), &csv(false, true), many_accounts(6_000).into_bytes())
            .await
            .unwrap();
        assert_eq!((fewer.unchanged, fewer.not_seen), (6_000, 5_000));
        let audited = imports_audited(&store).await;
        assert_eq!(audited.len(), 3, "one event per applied import");
        assert_eq!(audited[0].details["not_seen"], 5_000);
    })
    .await;
}
