//! The HTTP server: health probes, the REST API and the server-rendered web app in one
//! router, with sessions, a tracing span per request and graceful shutdown.

pub mod auth;
mod error_page;
pub mod limits;
pub mod second_factor;
pub mod session;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::{HeaderName, Request, StatusCode};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use steward_app::{shell, App};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::api;
use crate::services::Services;
use crate::store::Store;
use auth::{AuthState, WebSecurity};
use session::Sessions;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Leptos settings for a site whose compiled bundle lives in `site_root`.
pub fn leptos_options(addr: SocketAddr, site_root: &Path) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("steward")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(Env::PROD)
        .build()
}

#[derive(Clone)]
struct Health {
    store: Store,
    grants: std::sync::Arc<dyn steward_domain::ports::Grants>,
}

async fn healthz() -> &'static str {
    "ok"
}

/// The public keys of grant credentials (JWKS), cacheable for a few minutes.
async fn jwks(State(health): State<Health>) -> impl IntoResponse {
    (
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(health.grants.jwks()),
    )
}

async fn readyz(State(health): State<Health>) -> impl IntoResponse {
    match health.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            api::ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is not reachable",
            )
            .into_response()
        }
    }
}

/// Marks a response whose request is logged at debug level only: the decision
/// endpoint, asked thousands of times a second, whose decision log already records
/// every request durably.
#[derive(Debug, Clone, Copy)]
pub struct QuietLog;

/// The whole application router.
pub fn router(services: Services, security: WebSecurity, options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let ports = services.ports();
    let sso = steward_app::session::SsoConfigured(services.oidc.is_some());
    let health = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(auth::JWKS_PATH, get(jwks))
        .with_state(Health {
            store: services.store.clone(),
            grants: services.grants.clone(),
        });
    let auth_state = AuthState {
        services: std::sync::Arc::new(services.clone()),
        security: security.clone(),
        logins: std::sync::Arc::new(limits::LoginLimiter::new(&security.limits)),
    };
    let auth_routes = Router::new()
        .route("/auth/login", post(auth::login))
        .route(
            second_factor::CHALLENGE_PAGE,
            get(second_factor::challenge_page),
        )
        .route(second_factor::SETUP_PAGE, get(second_factor::setup_page))
        .route("/auth/second-factor", post(second_factor::challenge))
        .route("/auth/second-factor/setup", post(second_factor::setup))
        .route("/auth/logout", post(auth::logout))
        .route("/theme", post(auth::set_theme))
        .route("/auth/oidc/login", get(auth::sso_login))
        .route("/auth/oidc/callback", get(auth::sso_callback))
        .with_state(auth_state.clone());
    let sessions = SessionManagerLayer::new(Sessions::new(&services.store))
        .with_name(if security.secure_cookies {
            session::SECURE_COOKIE_NAME
        } else {
            session::COOKIE_NAME
        })
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(security.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::seconds(security.session_idle.num_seconds()),
        ))
        // Not saved on every request: `resolve_principal` touches an active session
        // once per `session::touch_interval`, which slides the idle timeout.
        .with_always_save(false);
    Router::new()
        .merge(health)
        .merge(auth_routes)
        .nest("/api/v1", api::router(services.clone()))
        .leptos_routes_with_context(
            &options,
            routes,
            move || {
                provide_context(ports.clone());
                provide_context(sso);
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .layer(middleware::from_fn(render_pages_with_retry))
        .layer(middleware::from_fn_with_state(
            security.secure_cookies,
            send_audit_receipt,
        ))
        .layer(middleware::from_fn(auth::login_redirect))
        .layer(middleware::from_fn(auth::require_api_credential))
        .layer(middleware::from_fn_with_state(
            auth_state.clone(),
            auth::resolve_principal,
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(auth_state, auth::csrf_guard))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error_page::panic_to_500,
        ))
        // No request runs for ever, and no more than so many run at once (the rest
        // wait their turn within the timeout).
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            security.limits.request_timeout,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            security.limits.max_concurrent_requests.max(1),
        ))
        .layer(middleware::from_fn(error_page::designed_server_errors))
        .layer(
            TraceLayer::new_for_http()
                .on_response(
                    |response: &axum::response::Response, latency: Duration, _: &tracing::Span| {
                        let (status, latency_ms) =
                            (response.status().as_u16(), latency.as_millis());
                        if response.extensions().get::<QuietLog>().is_some() {
                            tracing::debug!(status, latency_ms, "finished processing request");
                        } else {
                            tracing::info!(status, latency_ms, "finished processing request");
                        }
                    },
                )
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    // Decisions are logged durably; their request spans are debug only.
                    if request.uri().path() == auth::AUTHORIZE_PATH {
                        tracing::debug_span!("request", path = auth::AUTHORIZE_PATH, request_id)
                    } else {
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id,
                        )
                    }
                }),
        )
        .layer(middleware::from_fn_with_state(
            security.secure_cookies,
            harden,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::from_fn_with_state(
            std::sync::Arc::new(security.limits.trusted_proxies.clone()),
            limits::client_address,
        ))
}

/// Browser hardening for every response: no framing (clickjacking), no MIME sniffing,
/// no full URLs leaked to other sites, no other origin's window or no-cors load
/// sharing ours; a Content Security Policy (pages send their own, with the render's
/// nonce); HSTS whenever cookies are Secure (so Steward is served over https); and
/// `Cache-Control: no-store` on API, sign-in and server-function answers, which carry
/// tokens, credentials and introspection results.
async fn harden(
    State(secure): State<bool>,
    request: Request<axum::body::Body>,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::http::header;
    let private = ["/api/", "/auth/", "/rpc/"]
        .iter()
        .any(|prefix| request.uri().path().starts_with(prefix));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(steward_app::csp::OTHER_POLICY),
        );
    }
    if secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if private && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// How long one attempt to render a page may take before it is taken for stalled. A
/// page renders in milliseconds; this only matters for the stall described below.
const PAGE_ATTEMPT_LIMIT: Duration = Duration::from_secs(8);
const PAGE_ATTEMPTS: usize = 3;

/// Whether a request is for a server-rendered page (not the API, sign-in endpoints,
/// server functions, static files or probes).
fn is_page_request(request: &Request<axum::body::Body>) -> bool {
    let path = request.uri().path();
    request.method() == axum::http::Method::GET
        && ![
            "/api/",
            "/auth/",
            "/rpc/",
            "/pkg/",
            "/healthz",
            "/readyz",
            "/.well-known/",
        ]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// Renders a page, and renders it again if an attempt stalls.
///
/// Leptos 0.8's server rendering now and then never completes a page whose suspense
/// boundaries resolve in a particular order (seen about once in several hundred renders
/// when many run at once; upstream leptos-rs/leptos#4851 fixed one such race, another
/// remains in 0.8.23). Rendering a page only reads, so a stalled attempt is dropped and
/// the page rendered afresh; after [`PAGE_ATTEMPTS`] the browser gets a 503 with a
/// clear message instead of waiting forever.
async fn render_pages_with_retry(
    request: Request<axum::body::Body>,
    next: middleware::Next,
) -> axum::response::Response {
    if !is_page_request(&request) {
        return next.run(request).await;
    }
    let (parts, _) = request.into_parts();
    for attempt in 1..=PAGE_ATTEMPTS {
        let request = Request::from_parts(parts.clone(), axum::body::Body::empty());
        match tokio::time::timeout(PAGE_ATTEMPT_LIMIT, next.clone().run(request)).await {
            Ok(response) => return response,
            Err(_) => tracing::warn!(attempt, "page rendering stalled; rendering it again"),
        }
    }
    tracing::error!("page rendering stalled {PAGE_ATTEMPTS} times");
    api::ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the page could not be rendered in time; please reload it",
    )
    .into_response()
}

/// Tells the browser which audit events a server function call appended, in the
/// cookie the page's toast reads (`first-last`). It lives a minute: long enough for the
/// page to show the toast (also after navigating to the changed item), short enough
/// not to outlive the change it names.
///
/// Only server-function calls from the pages are followed: the REST API is for
/// automation, which reads the trail itself. The cookie is readable by the page's
/// script (it is an event number, not a secret) and short-lived.
async fn send_audit_receipt(
    State(secure): State<bool>,
    request: Request<axum::body::Body>,
    next: middleware::Next,
) -> axum::response::Response {
    if request.method() != axum::http::Method::POST || !request.uri().path().starts_with("/rpc/") {
        return next.run(request).await;
    }
    let (mut response, appended) = crate::store::audit::receipt::collect(next.run(request)).await;
    let answered = response.status().is_success() || response.status().is_redirection();
    if let (Some((first, last)), true) = (appended, answered) {
        let secure = if secure { "; Secure" } else { "" };
        let cookie = format!(
            "{}={first}-{last}; Path=/; Max-Age=60; SameSite=Strict{secure}",
            steward_app::toast::CHANGE_COOKIE
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, value);
        }
    }
    response
}

/// How long a client may take to send a request's headers: a client that trickles
/// them (slowloris) is disconnected instead of holding a connection for ever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepares an accepted connection: it sends at once (`TCP_NODELAY`). A server-rendered
/// page is streamed in several writes, and with Nagle's algorithm a small write after
/// the first waits for the client's delayed ACK (40 ms on Linux): the benchmark caught
/// identity pages handled in 10 ms at p99 answered in 50 ms.
fn accepted(stream: &tokio::net::TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::warn!(%error, "cannot set TCP_NODELAY on a connection");
    }
}

/// Serves until Ctrl-C or SIGTERM, then lets in-flight requests finish. Each request
/// carries its peer's address (`ConnectInfo`); HTTP/1 headers must arrive within
/// [`HEADER_READ_TIMEOUT`] (axum's own `serve` sets no timer, so hyper would wait for
/// ever).
pub fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
) -> impl std::future::Future<Output = std::io::Result<()>> + Send {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;
    // The SIGTERM handler is installed now, before the caller says the server runs:
    // installed on the shutdown future's first poll, a SIGTERM sent right after start
    // could come first and kill the process without a graceful stop.
    let shutdown = shutdown_signal();
    async move {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                next = listener.accept() => match next {
                    Ok(next) => next,
                    Err(error) => {
                        // Out of file descriptors and the like: wait, then go on.
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            accepted(&stream);
            let app = app.clone();
            let service =
                hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    app.clone().oneshot(request.map(axum::body::Body::new))
                });
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::trace!(%error, "connection ended with an error");
                }
            });
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
    }
}

fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async move {
            match terminate {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
        // Give a stuck request at most this long before the process exits anyway.
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(20)).await;
            tracing::warn!("requests still running after 20 s; exiting");
            std::process::exit(0);
        });
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn accepted_connections_send_without_waiting_for_acks() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (accepted, client) =
            tokio::join!(listener.accept(), tokio::net::TcpStream::connect(addr));
        let (stream, _) = accepted.unwrap();
        super::accepted(&stream);
        assert!(client.is_ok());
        assert!(
            stream.nodelay().unwrap(),
            "TCP_NODELAY is not set on the accepted connection"
        );
    }

    #[tokio::test]
    async fn a_client_that_trickles_its_headers_is_disconnected() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let server = tokio::spawn(super::serve(listener, app));
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        // Never the blank line that ends the headers: past the timeout, hyper answers
        // 408 or closes; either way the read ends instead of waiting for ever.
        let mut answer = Vec::new();
        let read = tokio::time::timeout(
            super::HEADER_READ_TIMEOUT + std::time::Duration::from_secs(10),
            client.read_to_end(&mut answer),
        )
        .await;
        assert!(
            read.is_ok(),
            "the connection was still open after the header-read timeout"
        );
        server.abort();
    }
}
