//! HTTP tests through the whole router: REST API, health probes, server-rendered pages
//! and server functions, on each database.

use crate::common::{assert_problem, for_each_store, Auth, TestApp};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::Utc;
use steward_domain::auth::{Role, Scope};
use steward_server::demo;
use steward_server::store::Store;

async fn seeded(store: &Store) {
    demo::seed(store, 120, 11, Utc::now(), |_| {})
        .await
        .unwrap();
}

async fn reader(app: &TestApp) -> Auth {
    Auth::Bearer(app.token(Role::Owner, &[Scope::InventoryRead]).await)
}

#[tokio::test]
async fn identities_api_pages_with_cursors_and_filters() {
    for_each_store(|store| async move {
        seeded(&store).await;
        let app = TestApp::new(&store).await;
        let auth = reader(&app).await;

        let first = app.get("/api/v1/identities?limit=50", &auth).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(first.content_type, "application/json");
        let first = first.json();
        assert_eq!(first["items"].as_array().unwrap().len(), 50);
        let item = &first["items"][0];
        for field in [
            "id",
            "name",
            "actor_class",
            "kind",
            "source",
            "environment",
            "status",
            "created_at",
        ] {
            assert!(!item[field].is_null(), "missing {field} in {item}");
        }

        let mut all = Vec::new();
        let mut uri = "/api/v1/identities?limit=50&class=machine".to_owned();
        loop {
            let page = app.get(&uri, &auth).await.json();
            all.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["actor_class"].clone()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    uri = format!("/api/v1/identities?limit=50&class=machine&cursor={cursor}")
                }
                None => break,
            }
        }
        // The demo's machine identities, plus one api_client per test token.
        assert!(all.len() > 50);
        assert!(all.iter().all(|c| c == "machine"));
        let total = store.count_identities().await.unwrap();
        let ai = app
            .get("/api/v1/identities?class=ai&limit=500", &auth)
            .await
            .json();
        let ai = ai["items"].as_array().unwrap();
        assert!(ai.iter().all(|i| i["actor_class"] == "ai"));
        assert_eq!(all.len() + ai.len(), total as usize);
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_a_problem_naming_the_parameter() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let auth = reader(&app).await;
        let reply = app.get("/api/v1/identities?class=robot", &auth).await;
        assert_problem(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid actor class: unknown value 'robot'; expected one of: machine, ai",
        );
        assert_eq!(reply.json()["field"], "actor class");

        let reply = app.get("/api/v1/identities?cursor=garbage", &auth).await;
        assert_problem(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid cursor: malformed cursor; pass back the next_cursor value of a previous page unchanged",
        );
        let reply = app.get("/api/v1/identities?limit=100000", &auth).await;
        assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid limit: '100000' is not a whole number from 1 to 500");
        let reply = app.get("/api/v1/identities?order=name", &auth).await;
        assert_problem(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid query parameter: unknown parameter 'order'; accepted: class, kind, source, env, status, owner, team, orphaned, expired, expiring, stale, ungoverned, q, finding, control, cred_age, sort, cursor, limit",
        );
        let reply = app.get("/api/v1/no-such-thing", &auth).await;
        assert_problem(&reply, StatusCode::NOT_FOUND, "API endpoint not found");
        let reply = app
            .send(auth.apply(Request::put("/api/v1/identities")).body(Body::empty()).unwrap())
            .await;
        assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED, "this endpoint does not accept that HTTP method");
        let reply = app
            .send(
                auth.apply(Request::post("/api/v1/tokens"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{\"name\": 5}"))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_eq!(reply.json()["field"], "body");
    })
    .await;
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let reply = app.get("/api/v1/openapi.json", &Auth::None).await;
        assert_eq!(reply.status, StatusCode::OK);
        let doc = reply.json();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let list = &doc["paths"]["/api/v1/identities"]["get"];
        let params: Vec<&str> = list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            params,
            [
                "class", "kind", "source", "env", "status", "owner", "team", "orphaned", "expired",
                "expiring", "stale", "q", "sort", "limit", "cursor"
            ]
        );
        assert!(list["responses"]["400"]["content"]["application/problem+json"].is_object());
        assert!(doc["components"]["schemas"]["IdentitySummary"].is_object());
        assert!(doc["components"]["schemas"]["Problem"].is_object());
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        // The document lists the routes the router serves: it is built from the same
        // registrations (`api::routes()` reads it back, the matrix test sends them all).
        let routes = steward_server::api::routes();
        for (method, path) in &routes {
            assert!(
                doc["paths"][path][method.to_lowercase()].is_object(),
                "{method} {path} is missing from the OpenAPI document"
            );
        }
        assert!(doc["paths"]["/api/v1/openapi.json"]["get"].is_object());
    })
    .await;
}

#[tokio::test]
async fn health_and_readiness() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        assert_eq!(
            app.get("/healthz", &Auth::None).await.status,
            StatusCode::OK
        );
        assert_eq!(app.get("/readyz", &Auth::None).await.status, StatusCode::OK);
        store.close().await;
        assert_eq!(
            app.get("/healthz", &Auth::None).await.status,
            StatusCode::OK
        );
        let reply = app.get("/readyz", &Auth::None).await;
        assert_problem(
            &reply,
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is not reachable",
        );
    })
    .await;
}

#[tokio::test]
async fn inventory_page_is_server_rendered_with_filters_from_the_url() {
    for_each_store(|store| async move {
        seeded(&store).await;
        let app = TestApp::new(&store).await;
        let auth = Auth::Cookie(app.login(Role::Viewer).await);
        let reply = app.get("/inventory?class=ai", &auth).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.content_type.starts_with("text/html"));
        let html = &reply.body;
        assert!(html.contains("<h1>Inventory</h1>"));
        let rows = html.matches("<tr>").count() - 1; // minus the header row
        assert!(rows > 0);
        assert_eq!(html.matches("badge class-ai").count(), rows);
        assert!(!html.contains("badge class-machine"));
        assert!(html.contains(r#"aria-current="page""#));
        assert!(
            html.contains("Vera") || html.contains("viewer"),
            "the header names the user"
        );

        let reply = app.get("/inventory?class=robot", &auth).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.body.contains("invalid actor class: unknown value"));

        let reply = app.get("/no-such-page", &auth).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(reply.body.contains("Page not found"));
    })
    .await;
}

#[tokio::test]
async fn an_empty_register_shows_the_first_run_path() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let auth = Auth::Cookie(app.login(Role::Admin).await);
        let html = app.get("/inventory", &auth).await.body;
        assert!(html.contains(r#"id="first-run""#), "{html}");
        for step in [
            r#"href="/import""#,
            r#"href="/identities/new""#,
            r#"href="/ownership""#,
            r#"href="/posture""#,
        ] {
            assert!(html.contains(step), "the first run links {step}");
        }
        // A filter that matches nothing is not the first run.
        let html = app.get("/inventory?env=nowhere", &auth).await.body;
        assert!(!html.contains(r#"id="first-run""#));
        assert!(html.contains("No identities match these filters."));
        // Nor is a register with identities in it.
        seeded(&store).await;
        let html = app.get("/inventory", &auth).await.body;
        assert!(!html.contains(r#"id="first-run""#));
    })
    .await;
}

#[tokio::test]
async fn the_home_page_shows_each_role_what_needs_its_attention() {
    for_each_store(|store| async move {
        seeded(&store).await;
        let app = TestApp::new(&store).await;
        let expect = [
            (
                Role::Admin,
                "What needs action today",
                &[
                    "home-orphaned",
                    "home-expired",
                    "home-expiring",
                    "home-approvals",
                    "home-overdue",
                    "home-disputed",
                ][..],
            ),
            (
                Role::Owner,
                "Your identities, approvals and reviews",
                &["home-mine", "home-inbox", "home-approvals", "home-reviews"][..],
            ),
            (
                Role::Viewer,
                "Compliance posture",
                &["home-posture", "home-orphaned", "home-controls"][..],
            ),
            (
                Role::Auditor,
                "Evidence",
                &["home-audit", "home-campaigns", "home-report"][..],
            ),
        ];
        for (role, heading, cards) in expect {
            let auth = Auth::Cookie(app.login(role).await);
            let reply = app.get("/", &auth).await;
            assert_eq!(reply.status, StatusCode::OK, "{role}");
            assert!(
                reply.body.contains(&format!("<h1>{heading}</h1>")),
                "{role}: {}",
                reply.body
            );
            for card in cards {
                assert!(
                    reply.body.contains(&format!(r#"id="{card}""#)),
                    "{role}: {card}"
                );
            }
        }
        // The admin's orphan count is the inventory's.
        let auth = Auth::Cookie(app.login(Role::Admin).await);
        let facets = app
            .get("/api/v1/identities/facets?orphaned=true", &auth)
            .await
            .json();
        let html = app.get("/", &auth).await.body;
        let card = &html[html.find(r#"id="home-orphaned""#).unwrap()..];
        assert!(
            card.contains(&format!(r#"<p class="home-count">{}</p>"#, facets["total"])),
            "{card}"
        );
        // Signed out: the sign-in page.
        let reply = app.get("/", &Auth::None).await;
        assert!(reply.status.is_redirection() || reply.body.contains("Sign in"));
    })
    .await;
}

#[tokio::test]
async fn a_chosen_theme_is_rendered_from_its_cookie() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let cookie = app.login(Role::Viewer).await;
        let choose = |theme: &str| {
            Request::post("/theme")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, crate::common::ORIGIN)
                .header(
                    header::REFERER,
                    format!("{}/posture?x=1", crate::common::ORIGIN),
                )
                .header(header::COOKIE, cookie.clone())
                .body(Body::from(format!("theme={theme}")))
                .unwrap()
        };
        let reply = app.send(choose("dark")).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(
            reply.location, "/posture?x=1",
            "back to the page it was chosen on"
        );
        let set = reply.set_cookie.join(";");
        assert!(
            set.contains("steward_theme=dark") && set.contains("Max-Age=31536000"),
            "{set}"
        );
        let page = app
            .get(
                "/posture",
                &Auth::Cookie(format!("{cookie}; steward_theme=dark")),
            )
            .await
            .body;
        assert!(
            page.contains(r#"<html lang="en" data-theme="dark""#),
            "{}",
            &page[..200]
        );
        // Following the system: the cookie is cleared and the page carries no theme.
        let reply = app.send(choose("system")).await;
        assert!(reply
            .set_cookie
            .join(";")
            .contains("steward_theme=; Path=/; Max-Age=0"));
        let page = app
            .get("/posture", &Auth::Cookie(cookie.clone()))
            .await
            .body;
        assert!(!page.contains("data-theme"));
        // Anything else is refused, by name.
        let reply = app.send(choose("purple")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.body.contains("'purple' is not a theme"));
        // A Referer of another site is not followed.
        let reply = app
            .send(
                Request::post("/theme")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ORIGIN, crate::common::ORIGIN)
                    .header(header::REFERER, "//evil.example/x")
                    .body(Body::from("theme=light"))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.location, "/");
    })
    .await;
}

#[tokio::test]
async fn server_function_lists_with_the_same_rules() {
    for_each_store(|store| async move {
        seeded(&store).await;
        let app = TestApp::new(&store).await;
        let cookie = app.login(Role::Owner).await;
        let call = |query: &str, cookie: Option<&str>| {
            let mut request = Request::post("/rpc/inventory/list_identities")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, crate::common::ORIGIN);
            if let Some(cookie) = cookie {
                request = request.header(header::COOKIE, cookie);
            }
            request
                .body(Body::from(
                    serde_urlencoded::to_string([("query", query)]).unwrap(),
                ))
                .unwrap()
        };
        let reply = app.send(call("class=machine&limit=5", Some(&cookie))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let listing = reply.json();
        let items = listing["page"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 5);
        assert!(items.iter().all(|i| i["actor_class"] == "machine"));
        assert!(listing["as_of"].is_string());

        let reply = app.send(call("class=robot", Some(&cookie))).await;
        assert!(reply.status.is_client_error() || reply.status.is_server_error());
        assert!(
            reply.body.contains("unknown value 'robot'"),
            "{}",
            reply.body
        );

        // Without a session the service refuses, whatever the UI would have shown.
        let reply = app.send(call("", None)).await;
        assert!(!reply.status.is_success());
        assert!(
            reply.body.contains("unauthenticated") || reply.body.contains("sign-in required"),
            "{}",
            reply.body
        );
    })
    .await;
}

/// Calls a server function from the app's origin with a form body.
async fn call_server_fn(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> crate::common::Reply {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, crate::common::ORIGIN)
            .header(header::COOKIE, cookie)
            .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
            .unwrap(),
    )
    .await
}

/// `first-last` from a reply's `steward_change` cookie, if it sets one.
fn change_cookie(reply: &crate::common::Reply) -> Option<(i64, i64)> {
    let value = reply
        .set_cookie
        .iter()
        .find_map(|c| c.strip_prefix("steward_change="))?;
    let value = value.split(';').next()?;
    let (first, last) = value.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?))
}

#[tokio::test]
async fn a_change_from_the_pages_names_its_audit_events_for_the_toast() {
    for_each_store(|store| async move {
        seeded(&store).await;
        let app = TestApp::new(&store).await;
        let cookie = app.login(Role::Admin).await;
        let listing = app
            .get(
                "/api/v1/identities?status=active&limit=1",
                &reader(&app).await,
            )
            .await
            .json();
        let id = listing["items"][0]["id"].as_str().unwrap().to_owned();

        let reply = call_server_fn(
            &app,
            "/rpc/identity/lifecycle",
            &cookie,
            &[
                ("id", &id),
                ("change", "suspend"),
                ("reason", "toast check"),
            ],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let (first, last) = change_cookie(&reply).expect("a change cookie");
        assert!(first <= last);
        let cookie_line = reply
            .set_cookie
            .iter()
            .find(|c| c.starts_with("steward_change="))
            .unwrap();
        assert!(cookie_line.contains("SameSite=Strict") && cookie_line.contains("Max-Age="));

        // The toast's link shows exactly the events of this suspension: the admin's,
        // and among them the suspension with its reason.
        let audit = Auth::Bearer(app.token(Role::Admin, &[Scope::AuditRead]).await);
        let listed = app
            .get(
                &format!(
                    "/api/v1/audit?before={}&limit={}",
                    last + 1,
                    last - first + 1
                ),
                &audit,
            )
            .await
            .json();
        let events = listed["events"]
            .as_array()
            .unwrap_or_else(|| panic!("{listed}"));
        assert_eq!(events.len() as i64, last - first + 1, "{listed}");
        assert_eq!(events[0]["seq"], last, "{listed}");
        assert_eq!(events.last().unwrap()["seq"], first, "{listed}");
        let suspension = events
            .iter()
            .find(|e| {
                e["target"] == format!("identity:{id}")
                    && e["action"].as_str().unwrap().contains("suspend")
            })
            .unwrap_or_else(|| panic!("no suspension among {listed}"));
        assert_eq!(suspension["details"]["reason"], "toast check");

        // Reading, and a refused change, name nothing.
        let read = call_server_fn(&app, "/rpc/identity/get", &cookie, &[("id", &id)]).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        assert_eq!(change_cookie(&read), None);
        let refused = call_server_fn(
            &app,
            "/rpc/identity/lifecycle",
            &cookie,
            &[("id", &id), ("change", "explode"), ("reason", "x")],
        )
        .await;
        assert!(refused.status.is_client_error(), "{}", refused.status);
        assert_eq!(change_cookie(&refused), None);
        // The REST API is for automation, which reads the trail itself.
        let admin = Auth::Bearer(app.token(Role::Admin, Scope::ALL).await);
        let api = app
            .send_json(
                "POST",
                &format!("/api/v1/identities/{id}/reactivate"),
                &admin,
                &serde_json::json!({ "reason": "back" }),
            )
            .await;
        assert_eq!(change_cookie(&api), None, "{}", api.body);
    })
    .await;
}

#[tokio::test]
async fn a_server_failure_gets_the_designed_page_in_browsers_and_problem_json_in_the_api() {
    for_each_store(|store| async move {
        seeded(&store).await;
        let app = TestApp::new(&store).await;
        let cookie = app.login(Role::Admin).await;
        let token = app.token(Role::Admin, &[Scope::InventoryRead]).await;
        // The database goes away under a running server.
        store.close().await;

        let page = app
            .send(
                Request::get("/inventory")
                    .header(header::ACCEPT, "text/html,application/xhtml+xml")
                    .header(header::COOKIE, format!("{cookie}; steward_theme=dark"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(page.status.is_server_error(), "{}", page.status);
        assert!(
            page.content_type.starts_with("text/html"),
            "{}",
            page.content_type
        );
        assert!(page.body.contains("Something went wrong"), "{}", page.body);
        assert!(page.body.contains(r#"data-theme="dark""#));
        assert!(page.body.contains("/pkg/steward.css"));
        let reference = page.headers["x-request-id"].to_str().unwrap();
        assert!(
            page.body
                .contains(&format!(r#"id="error-reference">{reference}<"#)),
            "the page names the request's reference"
        );

        let api = app.get("/api/v1/identities", &Auth::Bearer(token)).await;
        assert!(api.status.is_server_error(), "{}", api.status);
        assert_eq!(api.content_type, "application/problem+json");
    })
    .await;
}
