//! Who may do what: the authorization matrix, sessions, CSRF, throttling, API tokens
//! and the tamper-evident audit trail — on each database.

mod second_factor;
mod sessions;
mod sso;
mod tokens;
mod web;

use std::collections::BTreeSet;

use crate::common::{
    assert_problem, email_of, for_each_store, security, session_cookie, Auth, TestApp, ORIGIN,
    PASSWORD,
};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use steward_domain::auth::{Role, Scope};
use steward_server::store::Store;

/// Who calls in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    ExpiredToken,
    Session(Role),
    Token(Role),
}

/// The expected status of each route for each caller: the one place that says who
/// may do what over HTTP. A route missing here fails `every_route_is_in_the_matrix`.
fn expected(method: &str, path: &str, who: Who) -> StatusCode {
    use Role::*;
    let role = match who {
        Who::Anonymous | Who::ExpiredToken => None,
        Who::Session(role) | Who::Token(role) => Some(role),
    };
    let allow = |roles: &[Role], ok: StatusCode| match role {
        // Anonymous and expired-token callers alike.
        None => StatusCode::UNAUTHORIZED,
        Some(r) if roles.contains(&r) => ok,
        Some(_) => StatusCode::FORBIDDEN,
    };
    match (method, path) {
        ("GET", "/api/v1/openapi.json") => match who {
            Who::ExpiredToken => StatusCode::UNAUTHORIZED,
            _ => StatusCode::OK,
        },
        ("GET", "/api/v1/identities")
        | ("GET", "/api/v1/identities/facets")
        | ("GET", "/api/v1/identities/export.csv")
        | ("GET", "/api/v1/inbox")
        | ("GET", "/api/v1/assignments")
        | ("GET", "/api/v1/orphans")
        | ("GET", "/api/v1/people") => allow(&[Admin, Owner, Viewer, Auditor], StatusCode::OK),
        // The ids in the paths do not exist: allowed callers learn that.
        ("GET", "/api/v1/identities/{id}") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::NOT_FOUND)
        }
        ("POST", "/api/v1/identities") => allow(&[Admin], StatusCode::CREATED),
        ("POST", "/api/v1/identities/assign") => allow(&[Admin], StatusCode::OK),
        // A dry run (see `route_uri`): the report, nothing written.
        ("POST", "/api/v1/imports") => allow(&[Admin], StatusCode::OK),
        ("PUT", "/api/v1/identities/{id}")
        | ("POST", "/api/v1/identities/{id}/credentials")
        | ("DELETE", "/api/v1/identities/{id}/credentials/{credential_id}")
        | ("POST", "/api/v1/identities/{id}/entitlements")
        | ("DELETE", "/api/v1/identities/{id}/entitlements/{entitlement_id}")
        | ("POST", "/api/v1/identities/{id}/delegations")
        | ("DELETE", "/api/v1/identities/{id}/delegations/{to}")
        | ("POST", "/api/v1/identities/{id}/assignments")
        | ("POST", "/api/v1/identities/{id}/reactivate")
        | ("POST", "/api/v1/identities/{id}/retire")
        | ("POST", "/api/v1/people/{id}/deactivate") => allow(&[Admin], StatusCode::NOT_FOUND),
        ("POST", "/api/v1/identities/{id}/suspend") => {
            allow(&[Admin, Owner], StatusCode::NOT_FOUND)
        }
        ("POST", "/api/v1/assignments/{id}/accept" | "/api/v1/assignments/{id}/dispute") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::NOT_FOUND)
        }
        ("GET", "/api/v1/tokens") => allow(&[Admin, Owner], StatusCode::OK),
        ("POST", "/api/v1/tokens") => allow(&[Admin, Owner], StatusCode::CREATED),
        // Revoking an unknown token id: allowed roles learn it does not exist.
        ("DELETE", "/api/v1/tokens/{id}") => allow(&[Admin, Owner], StatusCode::NOT_FOUND),
        ("GET", "/api/v1/audit" | "/api/v1/audit/verify" | "/api/v1/audit/export.csv") => {
            allow(&[Admin, Auditor], StatusCode::OK)
        }
        ("GET", "/api/v1/identities/{id}/findings") | ("GET", "/api/v1/posture/reports/{day}") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::NOT_FOUND)
        }
        ("GET", "/api/v1/posture/dashboard")
        | ("GET", "/api/v1/posture/dashboard.csv")
        | ("GET", "/api/v1/posture/controls") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::OK)
        }
        ("POST", "/api/v1/identities/{id}/findings/{check}/accept")
        | ("POST", "/api/v1/identities/{id}/findings/{check}/reopen") => {
            allow(&[Admin], StatusCode::NOT_FOUND)
        }
        ("POST", "/api/v1/posture/evaluate") => allow(&[Admin], StatusCode::OK),
        ("GET", "/api/v1/campaigns" | "/api/v1/reviews") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::OK)
        }
        ("POST", "/api/v1/campaigns" | "/api/v1/campaigns/from-template/{template}") => {
            allow(&[Admin], StatusCode::CREATED)
        }
        ("GET", "/api/v1/campaigns/{id}" | "/api/v1/campaigns/{id}/items") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::NOT_FOUND)
        }
        ("POST", "/api/v1/campaigns/{id}/close") | ("POST", "/api/v1/reviews/{id}/retry") => {
            allow(&[Admin], StatusCode::NOT_FOUND)
        }
        ("GET", "/api/v1/campaigns/{id}/evidence" | "/api/v1/campaigns/{id}/evidence.csv") => {
            allow(&[Admin, Auditor], StatusCode::NOT_FOUND)
        }
        // An unknown item: refused in the outcome, the request itself succeeds.
        ("POST", "/api/v1/reviews/bulk") => allow(&[Admin, Owner, Viewer, Auditor], StatusCode::OK),
        ("POST", "/api/v1/reviews/{id}/decision") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::NOT_FOUND)
        }
        ("GET", "/api/v1/grant-policies") | ("GET", "/api/v1/grants") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::OK)
        }
        ("POST", "/api/v1/grant-policies") => allow(&[Admin], StatusCode::CREATED),
        // An unknown token: inactive (introspection), nothing to revoke (RFC 7009).
        ("POST", "/api/v1/oauth/introspect" | "/api/v1/oauth/revoke") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::OK)
        }
        ("PUT" | "DELETE", "/api/v1/grant-policies/{id}") => allow(&[Admin], StatusCode::NOT_FOUND),
        ("GET", "/api/v1/identities/{id}/eligible" | "/api/v1/grants/{id}")
        | ("POST", "/api/v1/grants")
        | (
            "POST",
            "/api/v1/grants/{id}/approve"
            | "/api/v1/grants/{id}/deny"
            | "/api/v1/grants/{id}/cancel"
            | "/api/v1/grants/{id}/extend"
            | "/api/v1/grants/{id}/revoke"
            | "/api/v1/grants/{id}/credential",
        ) => allow(&[Admin, Owner, Viewer, Auditor], StatusCode::NOT_FOUND),
        // Decisions are asked only with a token made for the agent: no caller here has one.
        ("POST", "/api/v1/authorize") => match who {
            Who::Anonymous | Who::ExpiredToken => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        },
        ("POST", "/api/v1/authz/test-bench")
        | ("GET", "/api/v1/identities/{id}/limits")
        | ("GET", "/api/v1/identities/{id}/authz-policies")
        | ("GET", "/api/v1/identities/{id}/decisions") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::NOT_FOUND)
        }
        ("PUT", "/api/v1/identities/{id}/limits") => allow(&[Admin], StatusCode::NOT_FOUND),
        ("GET", "/api/v1/authz-policies") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::OK)
        }
        ("POST", "/api/v1/authz-policies") => allow(&[Admin], StatusCode::CREATED),
        ("PUT" | "DELETE", "/api/v1/authz-policies/{id}") => allow(&[Admin], StatusCode::NOT_FOUND),
        ("GET", "/api/v1/sensitivities") => allow(&[Admin, Owner, Viewer, Auditor], StatusCode::OK),
        ("PUT", "/api/v1/sensitivities") => allow(&[Admin], StatusCode::OK),
        ("POST", "/api/v1/sensitivities/import") => allow(&[Admin], StatusCode::OK),
        ("DELETE", "/api/v1/sensitivities/{scope}/{id}") => allow(&[Admin], StatusCode::NOT_FOUND),
        ("GET", "/api/v1/identities/{id}/monitor" | "/api/v1/identities/{id}/proof") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::NOT_FOUND)
        }
        ("PUT", "/api/v1/identities/{id}/authz-mode" | "/api/v1/trust-configs/{id}/mode")
        | ("DELETE", "/api/v1/trust-configs/{id}") => allow(&[Admin], StatusCode::NOT_FOUND),
        ("GET", "/api/v1/trust-configs") | ("POST", "/api/v1/trust-configs/check") => {
            allow(&[Admin, Owner, Viewer, Auditor], StatusCode::OK)
        }
        // The body's keys and identity do not exist: checked before anything is found.
        ("POST", "/api/v1/trust-configs") | ("PUT", "/api/v1/trust-configs/{id}") => {
            allow(&[Admin], StatusCode::BAD_REQUEST)
        }
        // Token exchange needs no caller: the subject token is the credential. An expired
        // bearer is still refused first.
        ("POST", "/api/v1/token") => match who {
            Who::ExpiredToken => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        },
        other => panic!("{other:?} is not in the authorization matrix"),
    }
}

/// A well-formed body for each route that takes one, so the matrix tests who may call
/// it rather than what the body says.
fn valid_body(method: &str, path: &str) -> Option<String> {
    let expires = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let body = match (method, path) {
        ("POST", "/api/v1/tokens") => {
            r#"{"name":"matrix","scopes":["inventory:read"],"expires_in_days":1}"#.to_owned()
        }
        ("POST", "/api/v1/identities") | ("PUT", "/api/v1/identities/{id}") => format!(
            r#"{{"name":"matrix","kind":"workload","environment":"prod","revocation_path":"runbook","expires_at":"{expires}"}}"#
        ),
        ("POST", "/api/v1/identities/assign") => format!(
            r#"{{"filter":"q=matches-nothing","role":"owner","person":"{}","reason":"matrix"}}"#,
            email_of(Role::Owner)
        ),
        ("POST", "/api/v1/identities/{id}/assignments") => format!(
            r#"{{"role":"owner","person":"{}","reason":"matrix"}}"#,
            email_of(Role::Owner)
        ),
        ("POST", "/api/v1/identities/{id}/credentials") => {
            r#"{"kind":"access_key","key_id":"AKIAEXAMPLE"}"#.to_owned()
        }
        ("POST", "/api/v1/identities/{id}/entitlements") => {
            r#"{"resource":"db","action":"read","privilege":"read"}"#.to_owned()
        }
        ("POST", "/api/v1/identities/{id}/delegations") => {
            r#"{"to":"00000000-0000-4000-8000-000000000001","kind":"acts_as"}"#.to_owned()
        }
        ("POST", "/api/v1/identities/{id}/suspend" | "/api/v1/identities/{id}/reactivate")
        | ("POST", "/api/v1/people/{id}/deactivate") => r#"{"reason":"matrix"}"#.to_owned(),
        ("POST", "/api/v1/identities/{id}/retire") => r#"{"evidence":"CHG-1"}"#.to_owned(),
        ("POST", "/api/v1/imports") => {
            "name,kind,environment,external_id\nmatrix,workload,prod,matrix-1\n".to_owned()
        }
        ("POST", "/api/v1/sensitivities/import") => {
            "scope,id,sensitivity\ndataset,matrix-ledger,internal\n".to_owned()
        }
        ("POST", "/api/v1/assignments/{id}/accept" | "/api/v1/assignments/{id}/dispute") => {
            r#"{"note":"matrix"}"#.to_owned()
        }
        ("POST", "/api/v1/identities/{id}/findings/{check}/accept") => format!(
            r#"{{"justification":"matrix: compensating control","expires_at":"{expires}"}}"#
        ),
        ("POST", "/api/v1/identities/{id}/findings/{check}/reopen") => {
            r#"{"reason":"matrix"}"#.to_owned()
        }
        ("POST", "/api/v1/campaigns") => {
            let now = chrono::Utc::now();
            format!(
                r#"{{"name":"matrix","scope":"q=matches-nothing","controls":["NHI1"],"reviewed":{{"ownership":true,"entitlements":false,"credentials":false}},"starts_at":"{}","due_at":"{}","remind_every_days":7,"escalation":"sponsor","close_policy":"keep","recurrence":"once"}}"#,
                now.to_rfc3339(),
                (now + chrono::Duration::days(14)).to_rfc3339()
            )
        }
        ("POST", "/api/v1/reviews/bulk") => {
            r#"{"items":["00000000-0000-4000-8000-000000000000"],"decision":"certify","confirm":true}"#
                .to_owned()
        }
        ("POST", "/api/v1/reviews/{id}/decision") => r#"{"decision":"certify"}"#.to_owned(),
        ("POST", "/api/v1/grant-policies") | ("PUT", "/api/v1/grant-policies/{id}") => {
            r#"{"name":"matrix","resource":"matrix-db","action":"admin","requesters":"owners","approval":"owner","max_minutes":60}"#.to_owned()
        }
        ("POST", "/api/v1/grants") => {
            r#"{"identity_id":"00000000-0000-4000-8000-000000000000","entitlement_id":"00000000-0000-4000-8000-000000000000"}"#.to_owned()
        }
        ("POST", "/api/v1/grants/{id}/deny" | "/api/v1/grants/{id}/revoke") => {
            r#"{"reason":"matrix"}"#.to_owned()
        }
        ("POST", "/api/v1/grants/{id}/extend") => r#"{"minutes":5}"#.to_owned(),
        ("POST", "/api/v1/authorize" | "/api/v1/authz/test-bench") => {
            r#"{"principal":"00000000-0000-4000-8000-000000000000","action":"call_tool","resource":{"type":"Tool","id":"matrix"}}"#.to_owned()
        }
        ("PUT", "/api/v1/identities/{id}/limits") => r#"{"tools":["matrix.tool"]}"#.to_owned(),
        ("PUT", "/api/v1/identities/{id}/authz-mode" | "/api/v1/trust-configs/{id}/mode") => {
            r#"{"mode":"monitor","reason":"matrix"}"#.to_owned()
        }
        ("POST", "/api/v1/trust-configs") | ("PUT", "/api/v1/trust-configs/{id}") => {
            r#"{"name":"matrix","kind":"spiffe","issuer":"https://matrix.example","audience":"steward","jwks":"{\"keys\":[]}","rules":[{"identity_id":"00000000-0000-4000-8000-000000000000","subject":"spiffe://matrix.example/a"}]}"#.to_owned()
        }
        ("POST", "/api/v1/trust-configs/check") => r#"{"token":"a.b.c"}"#.to_owned(),
        ("PUT", "/api/v1/sensitivities") => {
            r#"{"scope":"dataset","id":"matrix-ledger","sensitivity":"confidential"}"#.to_owned()
        }
        // Names are unique: each call its own.
        ("POST", "/api/v1/authz-policies") | ("PUT", "/api/v1/authz-policies/{id}") => format!(
            r#"{{"name":"matrix-{}","body":"forbid(principal, action, resource) when {{ context.task == \"matrix\" }};"}}"#,
            uuid::Uuid::new_v4().simple()
        ),
        _ => return None,
    };
    Some(body)
}

fn callers() -> Vec<Who> {
    let mut who = vec![Who::Anonymous, Who::ExpiredToken];
    for role in Role::ALL {
        who.push(Who::Session(*role));
    }
    // Only admins and owners can hold tokens.
    who.push(Who::Token(Role::Admin));
    who.push(Who::Token(Role::Owner));
    who
}

/// Scopes a token of this role can hold: all those its role can use.
fn scopes_for(role: Role) -> Vec<Scope> {
    match role {
        Role::Admin => Scope::ALL.to_vec(),
        Role::Owner => vec![
            Scope::InventoryRead,
            Scope::TokensWrite,
            Scope::InventoryWrite,
            Scope::ReviewsWrite,
            Scope::GrantsWrite,
            Scope::AuthzDecide,
        ],
        Role::Viewer | Role::Auditor => unreachable!("only admins and owners hold tokens"),
    }
}

async fn expired_token(app: &TestApp, store: &Store) -> String {
    let token = app.token(Role::Admin, Scope::ALL).await;
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    match store {
        Store::Sqlite(s) => {
            sqlx::query("UPDATE api_tokens SET expires_at = $1")
                .bind(past)
                .execute(&s.writer)
                .await
                .unwrap();
        }
        Store::Postgres(s) => {
            sqlx::query("UPDATE api_tokens SET expires_at = $1")
                .bind(past)
                .execute(&s.writer)
                .await
                .unwrap();
        }
    }
    token
}

fn all_events() -> steward_server::store::audit::AuditFilter {
    steward_server::store::audit::AuditFilter {
        limit: 10_000,
        ..Default::default()
    }
}

#[test]
fn every_route_is_in_the_matrix() {
    let routes = steward_server::api::routes();
    // The list is the router's own; a sanity floor catches it coming back empty.
    assert!(routes.len() > 90, "only {} routes", routes.len());
    for (method, path) in &routes {
        for who in callers() {
            expected(method, path, who); // panics for a route the matrix does not know
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_authorization_matrix() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let expired = expired_token(&app, &store).await;
        for who in callers() {
            let auth = match who {
                Who::Anonymous => Auth::None,
                Who::ExpiredToken => Auth::Bearer(expired.clone()),
                Who::Session(role) => Auth::Cookie(app.login(role).await),
                Who::Token(role) => {
                    let token = app.token(role, &scopes_for(role)).await;
                    Auth::Bearer(token)
                }
            };
            for (method, path) in &steward_server::api::routes() {
                let (method, path) = (method.as_str(), path.as_str());
                let mut uri = ["{id}", "{credential_id}", "{entitlement_id}", "{to}"]
                    .iter()
                    .fold(path.to_string(), |uri, name| {
                        uri.replace(name, "00000000-0000-4000-8000-000000000000")
                    })
                    .replace("{check}", "no-owner")
                    .replace("{scope}", "dataset")
                    .replace("{template}", "quarterly-ownership")
                    .replace("{day}", "2000-01-01");
                if path == "/api/v1/imports" {
                    uri.push_str("?format=steward-csv&dry_run=true");
                }
                if path == "/api/v1/sensitivities/import" {
                    uri.push_str("?dry_run=true");
                }
                let mut request = auth.apply(Request::builder().method(method).uri(&uri));
                request = request.header(header::ORIGIN, ORIGIN);
                let body = match valid_body(method, path) {
                    // The OAuth endpoints take forms (RFC 7662, RFC 7009).
                    Some(_) | None if path.starts_with("/api/v1/oauth/") => {
                        request = request
                            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                        Body::from("token=unknown")
                    }
                    Some(json) => {
                        request = request.header(header::CONTENT_TYPE, "application/json");
                        Body::from(json)
                    }
                    None => Body::empty(),
                };
                let reply = app.send(request.body(body).unwrap()).await;
                assert_eq!(
                    reply.status,
                    expected(method, path, who),
                    "{who:?} {method} {path}: {}",
                    reply.body
                );
                // A route in the document that the router lacks would fall through to
                // the API's own 404.
                assert!(
                    !reply.body.contains("API endpoint"),
                    "{who:?} {method} {path} is documented but not routed: {}",
                    reply.body
                );
                if !reply.status.is_success() && reply.status != StatusCode::NOT_FOUND {
                    assert_eq!(
                        reply.content_type, "application/problem+json",
                        "{who:?} {method} {path}"
                    );
                }
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_server_functions_by_role() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        // Pages: anonymous visitors are sent to sign in; the audit page is for admins and auditors.
        let reply = app.get("/inventory?class=ai", &Auth::None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.location, "/login?next=%2Finventory%3Fclass%3Dai");
        assert_eq!(app.get("/login", &Auth::None).await.status, StatusCode::OK);
        for role in Role::ALL {
            let auth = Auth::Cookie(app.login(*role).await);
            assert_eq!(
                app.get("/inventory", &auth).await.status,
                StatusCode::OK,
                "{role}"
            );
            let audit = app.get("/audit", &auth).await;
            let allowed = matches!(role, Role::Admin | Role::Auditor);
            assert_eq!(
                audit.status,
                if allowed {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                },
                "{role}"
            );
            let inventory = app.get("/inventory", &auth).await;
            assert_eq!(
                inventory.body.contains(r#"href="/audit""#),
                allowed,
                "{role}: Audit link shown to the right roles"
            );
            assert_eq!(
                inventory.body.contains(r#"href="/identities/new""#),
                *role == Role::Admin,
                "{role}: only admins are offered New identity"
            );
            for page in [
                "/inbox",
                "/ownership",
                "/reviews",
                "/campaigns",
                "/grants",
                "/grants/policies",
                "/authz/policies",
                "/authz/trust",
                "/search?q=a",
                "/",
            ] {
                assert_eq!(
                    app.get(page, &auth).await.status,
                    StatusCode::OK,
                    "{role} {page}"
                );
            }
            let import = app.get("/import", &auth).await;
            assert_eq!(
                import.status,
                if *role == Role::Admin {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                },
                "{role} /import"
            );
            assert_eq!(
                inventory.body.contains(r#"href="/import""#),
                *role == Role::Admin,
                "{role}: only admins are offered Import"
            );
            let new = app.get("/identities/new", &auth).await;
            assert_eq!(
                new.status,
                if *role == Role::Admin {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                },
                "{role} /identities/new"
            );
            let unknown = app
                .get("/identities/00000000-0000-4000-8000-000000000000", &auth)
                .await;
            assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{role}");
        }
        // Every server function refuses anonymous callers (but the two the sign-in page
        // needs), given well-formed arguments so that the refusal is the caller's.
        let id = "id=00000000-0000-4000-8000-000000000000";
        let arguments = |path: &str| -> String {
            match path {
                "/rpc/inventory/bulk_assign" => {
                    "filter=env%3Dprod&role=owner&person=a%40b.example&reason=x&expected_count=1"
                        .into()
                }
                "/rpc/identity/get" => id.into(),
                "/rpc/identity/assign" => format!("{id}&role=owner&person=a%40b.example&reason=x"),
                "/rpc/identity/lifecycle" => format!("{id}&change=suspend&reason=x"),
                "/rpc/identity/save" => "name=x&kind=agent&environment=prod".into(),
                "/rpc/ownership/inbox" => String::new(),
                "/rpc/ownership/answer" => format!("{id}&accept=true"),
                "/rpc/ownership/overview" => "people=".into(),
                "/rpc/ownership/deactivate" => format!("{id}&reason=x"),
                "/rpc/posture/accept" => {
                    format!("{id}&check=no-owner&justification=compensating+control&until=2030-01-01")
                }
                "/rpc/posture/reopen" => format!("{id}&check=no-owner&reason=x"),
                "/rpc/posture/report" => "day=2026-01-01".into(),
                "/rpc/posture/dashboard" | "/rpc/posture/evaluate" | "/rpc/posture/controls" => {
                    String::new()
                }
                "/rpc/campaigns/overview" | "/rpc/reviews/mine" | "/rpc/grants/policies" => String::new(),
                "/rpc/grants/request" => "identity_id=00000000-0000-4000-8000-000000000000&entitlement_id=00000000-0000-4000-8000-000000000000".into(),
                "/rpc/grants/change" => format!("{id}&change=approve"),
                "/rpc/grants/list" => "list=&owner=&expiring=".into(),
                "/rpc/grants/view" | "/rpc/grants/policy_delete" => id.into(),
                "/rpc/grants/policy_create" => "name=x&resource=x-db&action=admin&scope=&requesters=owners&approval=owner&max_minutes=60&windows=".into(),
                "/rpc/campaigns/launch" => "template=quarterly-ownership".into(),
                "/rpc/campaigns/create" => "name=x&scope=env%3Dprod&controls=NHI1&starts_on=2030-01-01&due_on=2030-01-20&remind_every_days=7&escalation=sponsor&close_policy=keep&recurrence=once&review_ownership=on".into(),
                "/rpc/campaigns/detail" => format!("{id}&filter=&offset=0"),
                "/rpc/campaigns/close" | "/rpc/campaigns/retry" | "/rpc/campaigns/evidence" => id.into(),
                "/rpc/reviews/decide" => format!("{id}&decision=certify"),
                "/rpc/reviews/bulk" => "decision=certify&items%5B%5D=00000000-0000-4000-8000-000000000000&confirm=yes".into(),
                "/rpc/authz/overview" => "identity_id=00000000-0000-4000-8000-000000000000".into(),
                "/rpc/authz/policies" => String::new(),
                "/rpc/authz/save_policy" => "id=&name=x&description=&body=permit(principal%2C+action%2C+resource)%3B&enabled=on".into(),
                "/rpc/authz/delete_policy" => format!("{id}&confirm=yes"),
                "/rpc/authz/save_limits" => "identity_id=00000000-0000-4000-8000-000000000000&tools=&environments=&max_session_minutes=&max_calls=&max_delegation_depth=".into(),
                "/rpc/authz/test" => "identity_id=00000000-0000-4000-8000-000000000000&action=call_tool&resource=x&environment=prod&task=&data_sensitivity=".into(),
                "/rpc/authz/set_mode" => "identity_id=00000000-0000-4000-8000-000000000000&mode=monitor&reason=x".into(),
                "/rpc/authz/sensitivities" => String::new(),
                "/rpc/authz/set_sensitivity" => "scope=dataset&id=x&sensitivity=internal".into(),
                "/rpc/authz/import_sensitivities" => "csv=scope%2Cid%2Csensitivity%0Adataset%2Cx%2Cinternal&dry_run=yes".into(),
                "/rpc/authz/delete_sensitivity" => "scope=dataset&id=x&confirm=yes".into(),
                "/rpc/trust/list" => String::new(),
                "/rpc/trust/save" => "id=&name=x&kind=spiffe&issuer=https%3A%2F%2Fx.example&audience=steward&jwks_url=&jwks=%7B%7D&rules=00000000-0000-4000-8000-000000000000+sub%3Dspiffe%3A%2F%2Fx%2Fa&mode=monitor".into(),
                "/rpc/trust/delete" => format!("{id}&confirm=yes"),
                "/rpc/trust/mode" => format!("{id}&mode=monitor&reason=x"),
                "/rpc/trust/check" => "token=a.b.c".into(),
                "/rpc/search/all" => "q=a".into(),
                "/rpc/home/summary" => String::new(),
                "/rpc/imports/run" => "format=steward-csv&environment=prod&trust_domain=&full=false&dry_run=true&file_name=x.csv&content=".into(),
                _ => "query=".into(),
            }
        };
        let mut seen = BTreeSet::new();
        for (path, _method) in leptos::server_fn::axum::server_fn_paths() {
            seen.insert(path.to_owned());
            let reply = app
                .send(
                    Request::post(path)
                        .header(header::ORIGIN, ORIGIN)
                        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(Body::from(arguments(path)))
                        .unwrap(),
                )
                .await;
            if path == "/rpc/session/whoami" {
                assert_eq!(reply.status, StatusCode::OK);
                assert_eq!(reply.body, "null");
            } else if path == "/rpc/session/sso_enabled" {
                // The sign-in page needs it before anyone signs in; it reveals only a flag.
                assert_eq!(reply.status, StatusCode::OK);
                assert_eq!(reply.body, "false");
            } else {
                assert!(
                    !reply.status.is_success(),
                    "{path} answered an anonymous caller: {}",
                    reply.body
                );
                assert!(
                    reply.body.contains("unauthenticated"),
                    "{path}: {}",
                    reply.body
                );
            }
        }
        let known: BTreeSet<String> = [
            "/rpc/audit/list",
            "/rpc/audit/verify",
            "/rpc/authz/delete_policy",
            "/rpc/authz/delete_sensitivity",
            "/rpc/authz/import_sensitivities",
            "/rpc/authz/overview",
            "/rpc/authz/policies",
            "/rpc/authz/save_limits",
            "/rpc/authz/save_policy",
            "/rpc/authz/sensitivities",
            "/rpc/authz/set_mode",
            "/rpc/authz/set_sensitivity",
            "/rpc/authz/test",
            "/rpc/campaigns/close",
            "/rpc/campaigns/create",
            "/rpc/campaigns/detail",
            "/rpc/campaigns/evidence",
            "/rpc/campaigns/launch",
            "/rpc/campaigns/overview",
            "/rpc/campaigns/retry",
            "/rpc/grants/change",
            "/rpc/grants/list",
            "/rpc/grants/policies",
            "/rpc/grants/policy_create",
            "/rpc/grants/policy_delete",
            "/rpc/grants/request",
            "/rpc/grants/view",
            "/rpc/home/summary",
            "/rpc/identity/assign",
            "/rpc/identity/get",
            "/rpc/identity/lifecycle",
            "/rpc/identity/save",
            "/rpc/imports/run",
            "/rpc/inventory/bulk_assign",
            "/rpc/inventory/facets",
            "/rpc/inventory/list_identities",
            "/rpc/inventory/quick_facets",
            "/rpc/ownership/answer",
            "/rpc/ownership/deactivate",
            "/rpc/ownership/inbox",
            "/rpc/ownership/overview",
            "/rpc/posture/accept",
            "/rpc/posture/controls",
            "/rpc/posture/dashboard",
            "/rpc/posture/evaluate",
            "/rpc/posture/reopen",
            "/rpc/posture/report",
            "/rpc/reviews/bulk",
            "/rpc/reviews/decide",
            "/rpc/reviews/mine",
            "/rpc/search/all",
            "/rpc/session/sso_enabled",
            "/rpc/session/whoami",
            "/rpc/trust/check",
            "/rpc/trust/delete",
            "/rpc/trust/list",
            "/rpc/trust/mode",
            "/rpc/trust/save",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            seen, known,
            "a new server function must be added to this test"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_cycles_the_session_id_and_sign_out_ends_it() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let first = app.login(Role::Viewer).await;
        // Signing in again from a session gets a new id; the old one is gone.
        let reply = app
            .login_with(&email_of(Role::Admin), PASSWORD, Some(&first))
            .await;
        let second = session_cookie(&reply).unwrap();
        assert_ne!(first, second);
        assert_eq!(
            app.get("/inventory", &Auth::Cookie(first)).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            app.get("/inventory", &Auth::Cookie(second.clone()))
                .await
                .status,
            StatusCode::OK
        );
        let cookie_line = reply
            .set_cookie
            .iter()
            .find(|c| c.starts_with("steward_session="))
            .unwrap();
        assert!(cookie_line.contains("HttpOnly"), "{cookie_line}");
        assert!(cookie_line.contains("SameSite=Lax"), "{cookie_line}");

        let logout = app
            .send(
                Request::post("/auth/logout")
                    .header(header::COOKIE, &second)
                    .header(header::ORIGIN, ORIGIN)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(logout.status, StatusCode::SEE_OTHER);
        assert_eq!(logout.location, "/login?signed_out=1");
        assert_eq!(
            app.get("/inventory", &Auth::Cookie(second)).await.status,
            StatusCode::SEE_OTHER
        );

        let events = store.list_audit(&all_events()).await.unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert!(actions.contains(&"auth.logout"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_their_absolute_lifetime() {
    for_each_store(|store| async move {
        let mut short = security();
        short.session_max_age = chrono::Duration::zero();
        let app = TestApp::with_security(&store, short).await;
        let cookie = app.login(Role::Admin).await;
        assert_eq!(
            app.get("/inventory", &Auth::Cookie(cookie)).await.status,
            StatusCode::SEE_OTHER
        );
    })
    .await;
}

/// Many page requests at once, as a busy server sees them: every one is answered (a
/// request that never answers fails the test after 60 s). Server rendering once hung
/// now and then when several pages rendered at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_under_concurrent_requests() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = Auth::Cookie(app.login(Role::Admin).await);
        let viewer = Auth::Cookie(app.login(Role::Viewer).await);
        let mut requests = Vec::new();
        for round in 0..30 {
            for page in [
                "/inventory?env=prod",
                "/inbox",
                "/ownership",
                "/audit",
                "/identities/new",
            ] {
                let auth = if round % 2 == 0 { &admin } else { &viewer };
                let app = &app;
                requests.push(async move { (page, app.get(page, auth).await.status) });
            }
        }
        let mut answered = 0;
        for (page, status) in futures_util::future::join_all(requests).await {
            assert!(
                matches!(status, StatusCode::OK | StatusCode::FORBIDDEN),
                "{page}: {status}"
            );
            answered += 1;
        }
        assert_eq!(answered, 150);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_the_idle_timeout_and_activity_extends_them() {
    for_each_store(|store| async move {
        let mut short = security();
        // Whole seconds: the SQLite session store keeps expiry times in seconds.
        short.session_idle = chrono::Duration::seconds(4);
        let app = TestApp::with_security(&store, short).await;
        let cookie = Auth::Cookie(app.login(Role::Viewer).await);
        // Activity within the idle window keeps the session alive...
        for _ in 0..3 {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            let reply = app.get("/inventory", &cookie).await;
            assert_eq!(reply.status, StatusCode::OK);
            // Longer than the touch interval (a thirtieth of the idle timeout) since
            // the last save: the session is saved again and its cookie renewed.
            assert!(
                reply
                    .set_cookie
                    .iter()
                    .any(|c| c.starts_with("steward_session=")),
                "the session was not renewed: {:?}",
                reply.set_cookie
            );
        }
        // ...and a pause longer than the window ends it.
        tokio::time::sleep(std::time::Duration::from_millis(6000)).await;
        assert_eq!(
            app.get("/inventory", &cookie).await.status,
            StatusCode::SEE_OTHER
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_session_is_saved_once_a_minute_not_on_every_request() {
    for_each_store(|store| async move {
        // The default 30-minute idle timeout: an active session is saved once a minute.
        let app = TestApp::new(&store).await;
        let cookie = Auth::Cookie(app.login(Role::Viewer).await);
        for path in [
            "/inventory",
            "/api/v1/identities",
            "/inventory?q=billing",
            "/ownership",
        ] {
            let reply = app.get(path, &cookie).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            // No save, so no new cookie: a page view writes nothing to the database.
            assert!(
                reply.set_cookie.is_empty(),
                "{path} saved the session again: {:?}",
                reply.set_cookie
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_are_refused() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let cookie = app.login(Role::Admin).await;
        let post = |origin: Option<&str>, fetch_site: Option<&str>| {
            let mut request = Request::post("/api/v1/tokens")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/json");
            if let Some(origin) = origin {
                request = request.header(header::ORIGIN, origin);
            }
            if let Some(site) = fetch_site {
                request = request.header("sec-fetch-site", site);
            }
            request
                .body(Body::from(
                    r#"{"name":"x","scopes":["inventory:read"],"expires_in_days":1}"#,
                ))
                .unwrap()
        };
        let reply = app.send(post(Some("https://evil.example"), None)).await;
        assert_problem(
            &reply,
            StatusCode::FORBIDDEN,
            "cross-site request refused: the request came from https://evil.example",
        );
        let reply = app.send(post(Some(ORIGIN), Some("cross-site"))).await;
        assert_problem(
            &reply,
            StatusCode::FORBIDDEN,
            "cross-site request refused: the request came from a cross-site page",
        );
        let reply = app.send(post(None, None)).await;
        assert_problem(
            &reply,
            StatusCode::FORBIDDEN,
            "cross-site request refused: the request has no Origin header",
        );
        assert_eq!(
            app.send(post(Some(ORIGIN), Some("same-origin")))
                .await
                .status,
            StatusCode::CREATED
        );

        // Login CSRF too: a sign-in form on another site cannot sign a victim in.
        let reply = app
            .send(
                Request::post("/auth/login")
                    .header(header::ORIGIN, "https://evil.example")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("email=admin%40test.example&password=x"))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_lock_the_account_and_are_audited() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let email = email_of(Role::Owner);
        for _ in 0..5 {
            let reply = app.login_with(&email, "wrong password, surely", None).await;
            assert_eq!(
                reply.location,
                "/login?error=bad_credentials&next=%2Finventory"
            );
        }
        // Even the right password is refused while locked.
        let reply = app.login_with(&email, PASSWORD, None).await;
        assert_eq!(reply.location, "/login?error=locked&next=%2Finventory");
        assert!(session_cookie(&reply).is_none());
        // An unknown account gets the same answer as a wrong password.
        let reply = app.login_with("nobody@test.example", PASSWORD, None).await;
        assert_eq!(
            reply.location,
            "/login?error=bad_credentials&next=%2Finventory"
        );

        let events = store.list_audit(&all_events()).await.unwrap();
        // Aggregated: the first failure of the window and the lockout, with the count.
        let failures: Vec<_> = events
            .iter()
            .filter(|e| e.action == "auth.login_failed" && e.target == format!("user:{email}"))
            .collect();
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].details["failures"], 5);
        assert!(failures[0].details["locked_until"].is_string());
        assert_eq!(failures[1].details["failures"], 1);
        let refused = events
            .iter()
            .find(|e| e.action == "auth.login_refused")
            .unwrap();
        assert_eq!(refused.details["reason"], "locked");
        // No password is ever written to the trail.
        assert!(events
            .iter()
            .all(|e| !e.details.to_string().contains("surely")));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_are_hashed_registered_scoped_and_revocable() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let admin = Auth::Bearer(app.token(Role::Admin, Scope::ALL).await);
        let create = |auth: &Auth, body: &str| {
            auth.apply(Request::post("/api/v1/tokens"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_owned()))
                .unwrap()
        };
        let reply = app
            .send(create(
                &admin,
                r#"{"name":"ci-sync","scopes":["inventory:read"],"expires_in_days":30}"#,
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let created = reply.json();
        let secret = created["token"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("stw_"));
        let id = created["info"]["id"].as_str().unwrap().to_owned();
        let identity_id = created["info"]["identity_id"].as_str().unwrap().to_owned();

        // Only the hash is stored.
        let stored: Vec<String> = match &store {
            Store::Sqlite(s) => sqlx::query_scalar("SELECT token_hash FROM api_tokens")
                .fetch_all(&s.reader)
                .await
                .unwrap(),
            Store::Postgres(s) => sqlx::query_scalar("SELECT token_hash FROM api_tokens")
                .fetch_all(&s.reader)
                .await
                .unwrap(),
        };
        assert!(stored
            .iter()
            .all(|h| !h.contains(&secret[4..]) && h.len() == 64));
        assert!(
            stored.contains(&steward_server::services::accounts::tokens::token_hash(
                &secret
            ))
        );

        // The token is an api_client identity in the register, owned by its creator.
        let token_auth = Auth::Bearer(secret.clone());
        let listed = app
            .get("/api/v1/identities?q=steward-token-ci-sync", &token_auth)
            .await
            .json();
        let identity = &listed["items"][0];
        assert_eq!(identity["id"], identity_id);
        assert_eq!(identity["kind"], "api_client");
        assert_eq!(identity["source"], "steward");
        assert_eq!(identity["owner"]["email"], email_of(Role::Admin));
        assert!(identity["expires_at"].is_string());

        // Its scope limits it, whatever its creator may do.
        let reply = app.get("/api/v1/audit", &token_auth).await;
        assert_problem(
            &reply,
            StatusCode::FORBIDDEN,
            "not allowed: this API token lacks the scope audit:read",
        );

        // Bad requests name the problem.
        let reply = app
            .send(create(
                &admin,
                r#"{"name":"x","scopes":["inventory:read"],"expires_in_days":0}"#,
            ))
            .await;
        assert_problem(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid expires_in_days: a token must expire within 1 to 365 days",
        );
        let owner = Auth::Bearer(app.token(Role::Owner, &[Scope::TokensWrite]).await);
        let reply = app
            .send(create(
                &owner,
                r#"{"name":"x","scopes":["audit:read"],"expires_in_days":5}"#,
            ))
            .await;
        assert_problem(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid scopes: the owner role cannot use the scope audit:read",
        );
        // Owners cannot revoke other people's tokens (nor learn they exist).
        let reply = app.delete(&format!("/api/v1/tokens/{id}"), &owner).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);

        // Revocation: the token stops working at once and its identity is retired.
        let reply = app.delete(&format!("/api/v1/tokens/{id}"), &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.json()["revoked_at"].is_string());
        let reply = app.get("/api/v1/identities", &token_auth).await;
        assert_problem(
            &reply,
            StatusCode::UNAUTHORIZED,
            "the API token is invalid, expired or revoked",
        );
        let reply = app.delete(&format!("/api/v1/tokens/{id}"), &admin).await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        let retired = app
            .get("/api/v1/identities?q=steward-token-ci-sync", &admin)
            .await
            .json();
        assert_eq!(retired["items"][0]["status"], "retired");

        let events = store.list_audit(&all_events()).await.unwrap();
        let target = format!("token:{id}");
        let mine: Vec<&str> = events
            .iter()
            .filter(|e| e.target == target)
            .map(|e| e.action.as_str())
            .collect();
        assert_eq!(mine, ["token.revoke", "token.create"]);
        assert!(events
            .iter()
            .all(|e| !e.details.to_string().contains(&secret[4..])));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_is_append_only_and_tampering_is_named() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        for role in Role::ALL {
            app.login(*role).await;
        }
        let auditor = Auth::Cookie(app.login(Role::Auditor).await);
        let report = app.get("/api/v1/audit/verify", &auditor).await.json();
        assert!(report["first_broken"].is_null(), "{report}");
        let checked = report["checked"].as_u64().unwrap();
        assert!(checked >= 9);

        // The database refuses changes through the normal path.
        let update = "UPDATE audit_events SET actor = 'user:mallory@evil.example' WHERE seq = 3";
        let refused = match &store {
            Store::Sqlite(s) => sqlx::query(update).execute(&s.writer).await.is_err(),
            Store::Postgres(s) => sqlx::query(update).execute(&s.writer).await.is_err(),
        };
        assert!(refused, "the audit table must refuse UPDATE");

        // Someone with raw access disables the guard and edits event 3.
        match &store {
            Store::Sqlite(s) => {
                sqlx::query("DROP TRIGGER audit_events_no_update")
                    .execute(&s.writer)
                    .await
                    .unwrap();
                sqlx::query(update).execute(&s.writer).await.unwrap();
            }
            Store::Postgres(s) => {
                sqlx::query(
                    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
                )
                .execute(&s.writer)
                .await
                .unwrap();
                sqlx::query(update).execute(&s.writer).await.unwrap();
            }
        }
        let report = app.get("/api/v1/audit/verify", &auditor).await.json();
        assert_eq!(report["first_broken"]["seq"], 3, "{report}");
        assert_eq!(report["checked"], 2);
        assert!(report["first_broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("altered"));

        // The CSV export carries the same events.
        let csv = app
            .get("/api/v1/audit/export.csv?action=auth.login", &auditor)
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.content_type.starts_with("text/csv"));
        let mut lines = csv.body.lines();
        assert_eq!(
            lines.next(),
            Some("seq,at,actor,action,target,details,prev_hash,hash")
        );
        assert_eq!(
            lines.filter(|l| l.contains(",auth.login,")).count(),
            4 + 1 /* the auditor for its token */
        );
    })
    .await;
}
