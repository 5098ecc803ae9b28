//! HTTP tests through the whole router: REST API, health probes, server-rendered pages
//! and server functions, on each database.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::Utc;
use common::for_each_store;
use http_body_util::BodyExt;
use serde_json::Value;
use steward_server::store::Store;
use steward_server::{demo, services, web};
use tower::ServiceExt;

fn app(store: &Store) -> Router {
    let options = web::leptos_options("127.0.0.1:0".parse().unwrap(), "target/site".as_ref());
    web::router(store.clone(), services::ports(store.clone()), options)
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn seeded(store: &Store) {
    demo::seed(store, 120, 11, Utc::now(), |_| {})
        .await
        .unwrap();
}

fn assert_problem(reply: &Reply, status: StatusCode, detail: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    let problem = reply.json();
    assert_eq!(problem["status"], status.as_u16());
    assert_eq!(problem["type"], "about:blank");
    assert_eq!(problem["detail"], detail);
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
}

#[tokio::test]
async fn identities_api_pages_with_cursors_and_filters() {
    for_each_store(|store| async move {
        seeded(&store).await;
        let app = app(&store);

        let first = get(&app, "/api/v1/identities?limit=50").await;
        assert_eq!(first.status, StatusCode::OK);
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
        let mut uri = "/api/v1/identities?limit=50".to_owned();
        loop {
            let page = get(&app, &uri).await.json();
            all.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].clone()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => uri = format!("/api/v1/identities?limit=50&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(all.len(), 120);

        let ai = get(&app, "/api/v1/identities?class=ai&limit=500")
            .await
            .json();
        let items = ai["items"].as_array().unwrap();
        assert!(!items.is_empty());
        assert!(items.iter().all(|i| i["actor_class"] == "ai"));
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_a_problem_naming_the_parameter() {
    for_each_store(|store| async move {
        let app = app(&store);
        let reply = get(&app, "/api/v1/identities?class=robot").await;
        assert_problem(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid actor class: unknown value 'robot'; expected one of: machine, ai",
        );
        assert_eq!(reply.json()["field"], "actor class");

        let reply = get(&app, "/api/v1/identities?cursor=garbage").await;
        assert_problem(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid cursor: malformed cursor; pass back the next_cursor value of a previous page unchanged",
        );
        let reply = get(&app, "/api/v1/identities?limit=100000").await;
        assert_problem(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid limit: '100000' is not a whole number from 1 to 500",
        );
        let reply = get(&app, "/api/v1/identities?sort=name").await;
        assert_problem(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid query parameter: unknown parameter 'sort'; accepted: class, q, cursor, limit",
        );
        let reply = get(&app, "/api/v1/no-such-thing").await;
        assert_problem(&reply, StatusCode::NOT_FOUND, "API endpoint not found");
        let reply = send(
            &app,
            Request::delete("/api/v1/identities").body(Body::empty()).unwrap(),
        )
        .await;
        assert_problem(
            &reply,
            StatusCode::METHOD_NOT_ALLOWED,
            "this endpoint does not accept that HTTP method",
        );
    })
    .await;
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    for_each_store(|store| async move {
        let reply = get(&app(&store), "/api/v1/openapi.json").await;
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
        assert_eq!(params, ["class", "q", "limit", "cursor"]);
        assert!(list["responses"]["400"]["content"]["application/problem+json"].is_object());
        assert!(doc["components"]["schemas"]["IdentitySummary"].is_object());
        assert!(doc["components"]["schemas"]["Problem"].is_object());
    })
    .await;
}

#[tokio::test]
async fn health_and_readiness() {
    for_each_store(|store| async move {
        let app = app(&store);
        assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
        assert_eq!(get(&app, "/readyz").await.status, StatusCode::OK);
        store.close().await;
        assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
        let reply = get(&app, "/readyz").await;
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
        let app = app(&store);
        let reply = get(&app, "/inventory?class=ai").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.content_type.starts_with("text/html"));
        let html = &reply.body;
        assert!(html.contains("<h1>Inventory</h1>"));
        let rows = html.matches("<tr>").count() - 1; // minus the header row
        assert!(rows > 0);
        assert_eq!(html.matches("badge class-ai").count(), rows);
        assert!(!html.contains("badge class-machine"));
        assert!(html.contains(r#"aria-current="page""#));

        let reply = get(&app, "/inventory?class=robot").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply
            .body
            .contains("invalid actor class: unknown value &#x27;robot&#x27;; expected one of: machine, ai")
            || reply
                .body
                .contains("invalid actor class: unknown value 'robot'; expected one of: machine, ai"));

        let reply = get(&app, "/").await;
        assert!(reply.status.is_redirection() || reply.body.contains("/inventory"));
        let reply = get(&app, "/no-such-page").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(reply.body.contains("Page not found"));
    })
    .await;
}

#[tokio::test]
async fn server_function_lists_with_the_same_rules() {
    for_each_store(|store| async move {
        seeded(&store).await;
        let app = app(&store);
        let call = |query: &str| {
            Request::post("/rpc/inventory/list_identities")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(
                    serde_urlencoded::to_string([("query", query)]).unwrap(),
                ))
                .unwrap()
        };
        let reply = send(&app, call("class=machine&limit=5")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let listing = reply.json();
        let items = listing["page"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 5);
        assert!(items.iter().all(|i| i["actor_class"] == "machine"));
        assert!(listing["as_of"].is_string());

        let reply = send(&app, call("class=robot")).await;
        assert!(reply.status.is_client_error() || reply.status.is_server_error());
        assert!(
            reply.body.contains("unknown value 'robot'"),
            "{}",
            reply.body
        );
    })
    .await;
}
