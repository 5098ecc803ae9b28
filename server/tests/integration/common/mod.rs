//! Test harness: every store test runs against a fresh SQLite database always, and
//! against a fresh PostgreSQL database when `STEWARD_TEST_PG_URL` is set. Without it
//! the suite says so on stderr (or fails, when `STEWARD_TEST_REQUIRE_PG` is set, as
//! CI does), so PostgreSQL is never skipped silently.
#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::sync::Once;

use futures_util::FutureExt;
use sqlx::Connection;
use steward_server::store::Store;

/// Runs `test` once per available database, each time on a new, empty, migrated one.
/// A failure names the database it happened on.
pub async fn for_each_store<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/steward-test.db", dir.path().display());
    let store = Store::open(&url, 4).await.expect("open SQLite");
    on("SQLite", test(store.clone())).await;
    store.close().await;

    match FreshPostgres::create().await {
        Some(pg) => {
            let store = Store::open(&pg.url, 4).await.expect("open PostgreSQL");
            on("PostgreSQL", test(store.clone())).await;
            store.close().await;
            pg.drop_database().await;
        }
        None => postgres_skipped(),
    }
}

/// Runs one database's pass; a panic is passed on after saying where it happened.
pub async fn on(database: &str, pass: impl Future<Output = ()>) {
    if let Err(panic) = AssertUnwindSafe(pass).catch_unwind().await {
        eprintln!("^ this failure happened on {database}");
        std::panic::resume_unwind(panic);
    }
}

/// Says once per run, past the test harness's output capture, that PostgreSQL was not
/// tested; fails instead when the run requires it.
pub fn postgres_skipped() {
    assert!(
        std::env::var_os("STEWARD_TEST_REQUIRE_PG").is_none(),
        "STEWARD_TEST_REQUIRE_PG is set but STEWARD_TEST_PG_URL is not: PostgreSQL cannot be tested"
    );
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "warning: STEWARD_TEST_PG_URL is unset, so the store tests ran on SQLite only"
        );
    });
}

/// A new database on the server named by `STEWARD_TEST_PG_URL`.
pub struct FreshPostgres {
    admin_url: String,
    name: String,
    pub url: String,
}

impl FreshPostgres {
    pub async fn create() -> Option<FreshPostgres> {
        let admin_url = std::env::var("STEWARD_TEST_PG_URL").ok()?;
        let name = format!("steward_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to STEWARD_TEST_PG_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        Some(FreshPostgres {
            admin_url,
            name,
            url,
        })
    }

    pub async fn drop_database(self) {
        let mut admin = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .expect("connect to STEWARD_TEST_PG_URL");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .expect("drop test database");
    }
}

/// `postgres://u@h:p/db?x` with `db` replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "y"),
        "postgres://u:p@h/y?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "z"), "postgres://h/z");
}

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use steward_domain::auth::{Principal, Role, Scope};
use steward_domain::tokens::NewTokenRequest;
use steward_server::services::Services;
use steward_server::web::{self, auth::WebSecurity};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// The whole router over `store`, with one user per role (password [`PASSWORD`]).
pub struct TestApp {
    pub router: Router,
    pub services: Services,
}

pub fn security() -> WebSecurity {
    WebSecurity {
        public_origin: ORIGIN.into(),
        secure_cookies: false,
        session_idle: chrono::Duration::minutes(30),
        session_max_age: chrono::Duration::hours(12),
        limits: Default::default(),
    }
}

pub fn email_of(role: Role) -> String {
    format!("{role}@test.example")
}

impl TestApp {
    pub async fn new(store: &Store) -> TestApp {
        Self::with_security(store, security()).await
    }

    pub async fn with_security(store: &Store, security: WebSecurity) -> TestApp {
        Self::build(store, security, |services| services).await
    }

    /// The app with the second factor required of `roles` (the default test app
    /// requires it of nobody: most tests sign in with a password alone).
    pub async fn with_second_factor(store: &Store, roles: Vec<Role>) -> TestApp {
        Self::build(store, security(), |services| {
            services.with_second_factor(
                steward_server::services::accounts::second_factor::Sealer::ephemeral().unwrap(),
                roles,
            )
        })
        .await
    }

    async fn build(
        store: &Store,
        security: WebSecurity,
        customize: impl FnOnce(Services) -> Services,
    ) -> TestApp {
        // `RUST_LOG=…` shows the server's logs with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        // The federation tests serve their issuers' JWKS on loopback over plain http.
        let services = customize(Services::new(store.clone()).allowing_loopback_jwks(true));
        for role in Role::ALL {
            services
                .auth
                .add_user("system:test", &email_of(*role), None, *role, PASSWORD)
                .await
                .expect("add test user");
        }
        let options = web::leptos_options("127.0.0.1:0".parse().unwrap(), "target/site".as_ref());
        TestApp {
            router: web::router(services.clone(), security, options),
            services,
        }
    }

    /// A session principal of the test user with this role.
    pub async fn principal(&self, role: Role) -> Principal {
        self.services
            .auth
            .login_local(&email_of(role), PASSWORD)
            .await
            .expect("test user signs in")
    }

    /// A bearer token of the test user with this role.
    pub async fn token(&self, role: Role, scopes: &[Scope]) -> String {
        let principal = self.principal(role).await;
        self.services
            .tokens
            .create(
                Some(&principal),
                &NewTokenRequest {
                    name: format!("test-{role}"),
                    scopes: scopes.to_vec(),
                    expires_in_days: 1,
                    agent_id: None,
                    environment: None,
                },
            )
            .await
            .expect("create test token")
            .token
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let what = format!("{} {}", request.method(), request.uri());
        // A request that never answers fails its test, naming itself, instead of
        // stalling the whole suite.
        tokio::time::timeout(std::time::Duration::from_secs(60), self.send_inner(request))
            .await
            .unwrap_or_else(|_| panic!("{what} did not answer within 60 s"))
    }

    async fn send_inner(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let header_of = |name| {
            response
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let content_type = header_of(header::CONTENT_TYPE).join("");
        let location = header_of(header::LOCATION).join("");
        let set_cookie = header_of(header::SET_COOKIE);
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let mut body = String::from_utf8_lossy(&bytes).into_owned();
        if content_type.starts_with("text/html") {
            // Type-erased views (`erase_components`) put empty comments, `<!>`, after
            // text and between siblings as hydration markers. They are not content:
            // the assertions read the page as a browser shows it.
            body = body.replace("<!>", "");
        }
        Reply {
            status,
            content_type,
            location,
            set_cookie,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str, auth: &Auth) -> Reply {
        self.send(auth.apply(Request::get(uri)).body(Body::empty()).unwrap())
            .await
    }

    pub async fn delete(&self, uri: &str, auth: &Auth) -> Reply {
        self.send(
            auth.apply(Request::delete(uri))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Sends a JSON body (`POST`, `PUT`, …) from the app's own origin.
    pub async fn send_json(
        &self,
        method: &str,
        uri: &str,
        auth: &Auth,
        body: &serde_json::Value,
    ) -> Reply {
        self.send(
            auth.apply(Request::builder().method(method).uri(uri))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ORIGIN, ORIGIN)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// Signs in through the login form; returns the session cookie (`name=value`).
    pub async fn login(&self, role: Role) -> String {
        let reply = self.login_with(&email_of(role), PASSWORD, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        session_cookie(&reply).expect("a session cookie after sign-in")
    }

    pub async fn login_with(&self, email: &str, password: &str, cookie: Option<&str>) -> Reply {
        let form = serde_urlencoded::to_string([
            ("email", email),
            ("password", password),
            ("next", "/inventory"),
        ])
        .unwrap();
        let mut request = Request::post("/auth/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, ORIGIN);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(form)).unwrap()).await
    }
}

/// How a test request authenticates.
#[derive(Clone)]
pub enum Auth {
    None,
    Cookie(String),
    Bearer(String),
}

impl Auth {
    pub fn apply(&self, builder: axum::http::request::Builder) -> axum::http::request::Builder {
        match self {
            Auth::None => builder,
            Auth::Cookie(cookie) => builder.header(header::COOKIE, cookie),
            Auth::Bearer(token) => builder.header(header::AUTHORIZATION, format!("Bearer {token}")),
        }
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub location: String,
    pub set_cookie: Vec<String>,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// `steward_session=<id>` from a reply's Set-Cookie, if it sets one.
pub fn session_cookie(reply: &Reply) -> Option<String> {
    reply
        .set_cookie
        .iter()
        .find(|c| c.starts_with("steward_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

pub fn assert_problem(reply: &Reply, status: StatusCode, detail: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    let problem = reply.json();
    assert_eq!(problem["status"], status.as_u16());
    assert_eq!(problem["type"], "about:blank");
    assert_eq!(problem["detail"], detail);
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
}

/// A new identity of `kind` in production, with a revocation path and a lifetime
/// within policy; tests change what they need.
pub fn draft(
    name: &str,
    kind: steward_domain::inventory::IdentityKind,
) -> steward_domain::identity::IdentityDraft {
    steward_domain::identity::IdentityDraft {
        name: name.into(),
        kind,
        external_id: None,
        environment: "prod".into(),
        team: None,
        purpose: None,
        autonomy: None,
        sensitivity_ceiling: None,
        spiffe_id: None,
        revocation_path: Some("runbook".into()),
        expires_at: Some(chrono::Utc::now() + chrono::Duration::days(30)),
    }
}

/// Creates an identity from `draft` (as an admin) and makes the owner test user its
/// owner; returns its id.
pub async fn owned_identity(
    app: &TestApp,
    draft: &steward_domain::identity::IdentityDraft,
) -> uuid::Uuid {
    let admin = app.principal(Role::Admin).await;
    let ports = &app.services.ports();
    let id = ports
        .inventory
        .create_identity(Some(&admin), draft)
        .await
        .expect("create the test identity")
        .summary
        .id;
    ports
        .ownership
        .assign(
            Some(&admin),
            id,
            &steward_domain::ownership::AssignRequest {
                role: steward_domain::ownership::AssignmentRole::Owner,
                person: email_of(Role::Owner),
                reason: "test".into(),
            },
        )
        .await
        .expect("assign the test identity's owner");
    id
}

/// A token that acts for `agent` at runtime.
pub async fn agent_token(app: &TestApp, agent: uuid::Uuid) -> String {
    let admin = app.principal(Role::Admin).await;
    app.services
        .tokens
        .create(
            Some(&admin),
            &steward_domain::tokens::NewTokenRequest {
                name: format!("agent-{agent}"),
                scopes: vec![steward_domain::auth::Scope::AuthzDecide],
                expires_in_days: 1,
                agent_id: Some(agent),
                environment: None,
            },
        )
        .await
        .expect("create the agent's token")
        .token
}

/// The one number `sql` answers, on either database, with `binds` as its text
/// parameters (`$1`, `$2`, …).
pub async fn scalar(store: &Store, sql: &str, binds: &[&str]) -> i64 {
    match store {
        Store::Sqlite(s) => binds
            .iter()
            .fold(sqlx::query_scalar(sql), |query, bind| query.bind(*bind))
            .fetch_one(&s.reader)
            .await
            .unwrap(),
        Store::Postgres(s) => binds
            .iter()
            .fold(sqlx::query_scalar(sql), |query, bind| query.bind(*bind))
            .fetch_one(&s.reader)
            .await
            .unwrap(),
    }
}

/// How many in-app notifications the test user of `role` has.
pub async fn notifications_of(store: &Store, role: Role) -> i64 {
    scalar(
        store,
        "SELECT COUNT(*) FROM notifications n JOIN people p ON p.id = n.person_id WHERE p.email = $1",
        &[&email_of(role)],
    )
    .await
}
