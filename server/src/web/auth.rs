//! Who is calling: sessions and bearer tokens resolved into a principal for every
//! request, the sign-in and sign-out endpoints, the CSRF guard and the redirect of
//! anonymous page views to the sign-in page.

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{Duration, Utc};
use serde::Deserialize;
use steward_domain::auth::CurrentPrincipal;
use steward_domain::DomainError;
use tower_sessions::Session;

use super::session::{SessionAuth, AUTH_KEY};
use crate::api::ApiError;
use crate::services::accounts::auth::LoginError;
use crate::services::Services;

/// Settings of the web layer's security.
#[derive(Debug, Clone)]
pub struct WebSecurity {
    /// `scheme://host[:port]` browsers use to reach Steward; state-changing requests
    /// must come from it.
    pub public_origin: String,
    /// Session cookies carry `Secure` (everything but plain http on loopback).
    pub secure_cookies: bool,
    pub session_idle: Duration,
    pub session_max_age: Duration,
    /// Rate limits, timeouts and trusted proxies.
    pub limits: super::limits::RequestLimits,
}

#[derive(Clone)]
pub struct AuthState {
    /// Shared: the state is cloned for every request.
    pub services: std::sync::Arc<Services>,
    pub security: WebSecurity,
    /// Sign-in attempts per client address and per account.
    pub logins: std::sync::Arc<super::limits::LoginLimiter>,
}

pub(crate) fn session_error(error: tower_sessions::session::Error) -> Response {
    tracing::error!(%error, "session store failure");
    ApiError::from(DomainError::Internal).into_response()
}

/// The decision endpoint, the one place a JWT (a just-in-time grant credential, or a
/// workload's federated token) is accepted as the bearer instead of an API token.
pub const AUTHORIZE_PATH: &str = "/api/v1/authorize";

/// A bearer that is not an API token, presented to [`AUTHORIZE_PATH`]: a JWT the
/// decision itself verifies.
#[derive(Debug, Clone)]
pub struct JwtBearer(pub String);

/// Resolves the caller from `Authorization: Bearer` or the session and puts a
/// [`CurrentPrincipal`] into the request for the services to authorize against.
pub async fn resolve_principal(
    State(state): State<AuthState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned());
    let principal = if let Some(bearer) = bearer {
        if request.uri().path() == AUTHORIZE_PATH
            && !bearer.starts_with(crate::services::accounts::tokens::TOKEN_PREFIX)
        {
            // A just-in-time credential or a federated token: checked by the decision.
            request.extensions_mut().insert(JwtBearer(bearer.clone()));
            request.extensions_mut().insert(CurrentPrincipal(None));
            return next.run(request).await;
        }
        match state.services.tokens.authenticate(&bearer).await {
            Ok(principal) => Some(principal),
            Err(DomainError::Unauthenticated) => {
                return unauthenticated("the API token is invalid, expired or revoked");
            }
            Err(error) => return ApiError::from(error).into_response(),
        }
    } else {
        match session.get::<SessionAuth>(AUTH_KEY).await {
            Ok(Some(auth)) if auth.expired(state.security.session_max_age, Utc::now()) => {
                if let Err(error) = session.flush().await {
                    return session_error(error);
                }
                None
            }
            Ok(Some(auth)) => match state
                .services
                .auth
                .session_principal(auth.user_id, auth.login_at)
                .await
            {
                Ok(Some(principal)) => {
                    let now = Utc::now();
                    if auth.needs_touch(state.security.session_idle, now) {
                        // Modifying the session makes the session layer save it and
                        // renew the cookie: the idle timeout slides.
                        let touched = SessionAuth {
                            touched_at: Some(now),
                            ..auth
                        };
                        if let Err(error) = session.insert(AUTH_KEY, &touched).await {
                            return session_error(error);
                        }
                    }
                    Some(principal)
                }
                Ok(None) => {
                    // The user was removed or deactivated: end the session.
                    if let Err(error) = session.flush().await {
                        return session_error(error);
                    }
                    None
                }
                Err(error) => return ApiError::from(error).into_response(),
            },
            Ok(None) => None,
            Err(error) => return session_error(error),
        }
    };
    request.extensions_mut().insert(CurrentPrincipal(principal));
    next.run(request).await
}

/// Token exchange (RFC 8693): its credential is the subject token in the form body,
/// never a cookie, so a cross-site request gains nothing there.
pub const TOKEN_EXCHANGE_PATH: &str = "/api/v1/token";

/// Refuses state-changing requests that a browser sent from another site. Requests
/// with a bearer token are exempt: browsers never attach those by themselves; so is
/// token exchange, which uses no ambient credential.
pub async fn csrf_guard(State(state): State<AuthState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // CSRF is about ambient credentials: an API request with no credential at all
    // (no bearer, no session cookie) is let through to be refused with 401.
    let api_without_credential =
        request.uri().path().starts_with("/api/") && !has_session_cookie(request.headers());
    if safe
        || request.headers().contains_key(header::AUTHORIZATION)
        || request.uri().path() == TOKEN_EXCHANGE_PATH
        || api_without_credential
    {
        return next.run(request).await;
    }
    if let Err(reason) = same_origin(&request, &state.security.public_origin) {
        tracing::warn!(reason, path = %request.uri().path(), "cross-site request refused");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!("cross-site request refused: {reason}"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Whether the request carries a session cookie (an ambient credential).
fn has_session_cookie(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|c| {
            let name = c.trim().split('=').next().unwrap_or_default();
            name == super::session::COOKIE_NAME || name == super::session::SECURE_COOKIE_NAME
        })
}

/// API paths anyone may call without a credential: the OpenAPI document and token
/// exchange (its credential is the subject token in the body).
fn is_public_api_path(path: &str) -> bool {
    path == "/api/v1/openapi.json" || path == TOKEN_EXCHANGE_PATH
}

/// Refuses an API request that carries no credential before any handler reads its
/// body: 401 with `WWW-Authenticate`. Also logs every 401 and 403 the API answers,
/// naming the caller and the client address.
pub async fn require_api_credential(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !path.starts_with("/api/") {
        return next.run(request).await;
    }
    let caller = request
        .extensions()
        .get::<CurrentPrincipal>()
        .and_then(|p| p.0.as_ref())
        .map(|p| p.audit_actor());
    let client = request
        .extensions()
        .get::<super::limits::ClientIp>()
        .map(|ip| ip.0.to_string())
        .unwrap_or_default();
    let jwt = request.extensions().get::<JwtBearer>().is_some();
    if caller.is_none() && !jwt && !is_public_api_path(&path) {
        tracing::warn!(%path, client, status = 401, "API request without a credential refused");
        return unauthenticated(
            "this endpoint needs a credential: send Authorization: Bearer <token>",
        );
    }
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let caller = caller
            .as_deref()
            .unwrap_or(if jwt { "jwt-bearer" } else { "anonymous" });
        tracing::warn!(%method, %path, caller, client, status = status.as_u16(), "API request refused");
    }
    response
}

/// A 401 problem with the `WWW-Authenticate` challenge RFC 9110 asks for.
pub fn unauthenticated(detail: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, detail).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer realm=\"steward\""),
    );
    response
}

/// Whether a request comes from Steward's own pages: `Sec-Fetch-Site` when the
/// browser sends it, otherwise `Origin` compared with the public origin or the Host.
pub fn same_origin(request: &Request, public_origin: &str) -> Result<(), String> {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" | "none" => Ok(()),
            other => Err(format!("the request came from a {other} page")),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Err("the request has no Origin header".into());
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let from_host = host.is_some_and(|host| {
        origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
    });
    if origin.eq_ignore_ascii_case(public_origin) || from_host {
        Ok(())
    } else {
        Err(format!("the request came from {origin}"))
    }
}

/// Paths anyone may open without signing in.
/// Where the public keys of grant credentials are published (anyone may read them).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

fn is_public_path(path: &str) -> bool {
    path == "/login"
        || path == super::second_factor::CHALLENGE_PAGE
        || path == super::second_factor::SETUP_PAGE
        || path == "/healthz"
        || path == "/readyz"
        || path == "/favicon.ico"
        || path == JWKS_PATH
        || ["/auth/", "/api/", "/rpc/", "/pkg/"]
            .iter()
            .any(|p| path.starts_with(p))
}

/// Sends anonymous page views to the sign-in page, remembering where they were going.
pub async fn login_redirect(request: Request, next: Next) -> Response {
    let anonymous = request
        .extensions()
        .get::<CurrentPrincipal>()
        .is_none_or(|p| p.0.is_none());
    let page_view = matches!(*request.method(), Method::GET | Method::HEAD);
    let path = request.uri().path();
    if anonymous && page_view && !is_public_path(path) {
        let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let query = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
        return Redirect::to(&format!("/login?{query}")).into_response();
    }
    next.run(request).await
}

/// Where to go after sign-in: `next` resolved against Steward's own origin by a URL
/// parser, kept only when it stays on that origin; anything else goes to `/`. Control
/// characters and backslashes are refused outright, raw or percent-encoded: browsers
/// strip TAB, CR and LF from URLs and read `\` as `/`, so `/\t/evil.example` would
/// leave the site.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/";
    let Some(next) = next else {
        return HOME.to_owned();
    };
    let hostile = |text: &str| text.chars().any(|c| c.is_control() || c == '\\');
    let decoded = percent_encoding::percent_decode_str(next).decode_utf8_lossy();
    if !next.starts_with('/') || hostile(next) || hostile(&decoded) || decoded.starts_with("//") {
        return HOME.to_owned();
    }
    let Ok(base) = url::Url::parse("http://steward.invalid/") else {
        return HOME.to_owned();
    };
    match base.join(next) {
        Ok(resolved) if resolved.origin() == base.origin() => {
            resolved[url::Position::BeforePath..].to_owned()
        }
        _ => HOME.to_owned(),
    }
}

/// Signs `principal` in to this browser: a new session id (so a planted id is
/// useless), the sign-in time for the absolute lifetime, then on to `next`.
pub(crate) async fn start_session(
    session: &Session,
    principal: &steward_domain::auth::Principal,
    next: &str,
) -> Response {
    let auth = SessionAuth::new(principal.user_id, Utc::now());
    if let Err(error) = session.cycle_id().await {
        return session_error(error);
    }
    if let Err(error) = session.insert(AUTH_KEY, &auth).await {
        return session_error(error);
    }
    Redirect::to(next).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

fn login_page_with(error: &str, next: &str) -> Redirect {
    let query = serde_urlencoded::to_string([("error", error), ("next", next)]).unwrap_or_default();
    Redirect::to(&format!("/login?{query}"))
}

/// `POST /auth/login`: checks the password, starts a fresh session (new id, so a
/// planted session id is useless) and goes on to where the user was going. Attempts
/// beyond the allowance per client address or per account get 429 with `Retry-After`,
/// before any password is checked.
pub async fn login(
    State(state): State<AuthState>,
    session: Session,
    client: Option<axum::Extension<super::limits::ClientIp>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let ip = client.map(|c| c.0 .0);
    if let Err(wait) = state.logins.check(ip, &form.email) {
        tracing::warn!(client = ?ip, "sign-in attempts over the limit");
        return too_many_attempts(wait);
    }
    match state
        .services
        .auth
        .check_password(&form.email, &form.password)
        .await
    {
        Ok(checked) => {
            if let Some(second_step) =
                super::second_factor::after_password(&state, &session, &checked, &next).await
            {
                return second_step;
            }
            if let Err(error) = state.services.auth.finish_login(&checked, "password").await {
                return ApiError::from(error).into_response();
            }
            start_session(&session, &checked.principal, &next).await
        }
        Err(LoginError::BadCredentials) => {
            login_page_with("bad_credentials", &next).into_response()
        }
        Err(LoginError::Locked(_)) => login_page_with("locked", &next).into_response(),
        Err(LoginError::Domain(error)) => ApiError::from(error).into_response(),
    }
}

/// The answer to sign-in attempts beyond the allowance: 429 with `Retry-After`.
pub(crate) fn too_many_attempts(wait: std::time::Duration) -> Response {
    let seconds = super::limits::retry_after_seconds(wait);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::response::Html(format!(
            "<!doctype html><title>Too many sign-in attempts</title>\
             <p role=\"alert\">Too many sign-in attempts. Try again in {seconds} seconds.</p>\
             <p><a href=\"/login\">Back to sign-in</a></p>"
        )),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
    response
}

/// The SSO service, or the 404 problem that says single sign-on is not configured.
fn configured_sso(state: &AuthState) -> Result<&crate::adapters::oidc::OidcService, ApiError> {
    state.services.oidc.as_ref().ok_or_else(|| {
        ApiError::from(DomainError::not_found(
            "single sign-on (it is not configured)",
        ))
    })
}

#[derive(Debug, Deserialize)]
pub struct SsoStart {
    #[serde(default)]
    pub next: Option<String>,
}

const PENDING_SSO_KEY: &str = "oidc_pending";

/// `GET /auth/oidc/login`: remembers state, nonce and PKCE verifier in the session and
/// sends the browser to the identity provider.
pub async fn sso_login(
    State(state): State<AuthState>,
    session: Session,
    axum::extract::Query(start): axum::extract::Query<SsoStart>,
) -> Response {
    let oidc = match configured_sso(&state) {
        Ok(oidc) => oidc,
        Err(error) => return error.into_response(),
    };
    match oidc.begin(safe_next(start.next.as_deref())).await {
        Ok((url, pending)) => {
            if let Err(error) = session.insert(PENDING_SSO_KEY, &pending).await {
                return session_error(error);
            }
            Redirect::to(&url).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "single sign-on could not start");
            login_page_with(error.code(), "/").into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SsoCallback {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// `GET /auth/oidc/callback`: the provider sends the browser back here. The pending
/// login is taken out of the session first, so a code or state can be used only once.
pub async fn sso_callback(
    State(state): State<AuthState>,
    session: Session,
    axum::extract::Query(callback): axum::extract::Query<SsoCallback>,
) -> Response {
    let oidc = match configured_sso(&state) {
        Ok(oidc) => oidc,
        Err(error) => return error.into_response(),
    };
    let pending = match session
        .remove::<crate::adapters::oidc::PendingLogin>(PENDING_SSO_KEY)
        .await
    {
        Ok(pending) => pending,
        Err(error) => return session_error(error),
    };
    let (Some(code), Some(returned_state)) = (callback.code, callback.state) else {
        tracing::warn!(error = ?callback.error, "identity provider returned no code");
        return login_page_with("sso_failed", "/").into_response();
    };
    match oidc.complete(pending, &code, &returned_state).await {
        Ok((principal, next)) => start_session(&session, &principal, &next).await,
        Err(error) => {
            tracing::warn!(%error, "single sign-on refused");
            if matches!(error, crate::adapters::oidc::SsoError::State) {
                let audit = steward_domain::audit::NewAuditEvent::new(
                    "anonymous",
                    steward_domain::audit::AuditAction::AuthLoginFailed,
                    "sso",
                    serde_json::json!({ "method": "oidc", "reason": error.to_string() }),
                );
                if let Err(error) = state.services.store.append_audit(&audit).await {
                    return ApiError::from(DomainError::from(error)).into_response();
                }
            }
            login_page_with(error.code(), "/").into_response()
        }
    }
}

/// `POST /auth/logout`: ends the session on the server, not just in the browser.
pub async fn logout(
    State(state): State<AuthState>,
    session: Session,
    request: Request,
) -> Response {
    if let Some(principal) = request
        .extensions()
        .get::<CurrentPrincipal>()
        .and_then(|p| p.0.as_ref())
    {
        if let Err(error) = state.services.auth.logout(principal).await {
            return ApiError::from(error).into_response();
        }
    }
    if let Err(error) = session.flush().await {
        return session_error(error);
    }
    Redirect::to("/login?signed_out=1").into_response()
}

#[derive(Debug, Deserialize)]
pub struct ThemeForm {
    theme: String,
}

/// Keeps the theme a person chose (`light`, `dark`) in a cookie for a year, or forgets
/// it (`system`: follow the operating system), and goes back to the page they were on.
/// The cookie is read when pages are rendered; it holds no secret.
pub async fn set_theme(
    headers: axum::http::HeaderMap,
    form: Result<Form<ThemeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    use steward_app::theme::{Theme, COOKIE};
    let Ok(Form(form)) = form else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "choose a theme: light, dark or system",
        )
        .into_response();
    };
    let cookie = match form.theme.as_str() {
        "system" => format!("{COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"),
        other => match Theme::parse(other) {
            Some(theme) => format!(
                "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                theme.as_str()
            ),
            None => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("'{other}' is not a theme: choose light, dark or system"),
                )
                .into_response()
            }
        },
    };
    // Back to the page the buttons were on: the path of the Referer, never another site.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .map(|referer| match referer.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => referer,
        });
    let mut response = Redirect::to(&safe_next(back)).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = axum::http::Request::post("/auth/login");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn same_origin_rules() {
        let origin = "https://steward.example.com";
        assert!(same_origin(&request(&[("sec-fetch-site", "same-origin")]), origin).is_ok());
        assert!(same_origin(&request(&[("sec-fetch-site", "cross-site")]), origin).is_err());
        assert!(same_origin(&request(&[("sec-fetch-site", "same-site")]), origin).is_err());
        assert!(same_origin(&request(&[("origin", origin)]), origin).is_ok());
        assert!(same_origin(&request(&[("origin", "https://evil.example")]), origin).is_err());
        assert!(same_origin(
            &request(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ]),
            origin
        )
        .is_ok());
        assert_eq!(
            same_origin(&request(&[]), origin),
            Err("the request has no Origin header".into())
        );
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/inventory?class=ai")),
            "/inventory?class=ai"
        );
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn a_next_that_a_browser_would_take_off_site_goes_home() {
        for hostile in [
            "/\t/evil.example",
            "/\r/evil.example",
            "/\n/evil.example",
            "/%09/evil.example",
            "/%0d/evil.example",
            "/%0A/evil.example",
            "/%5C/evil.example",
            "/%5c%5cevil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "\\/evil.example",
            "/\\/evil.example",
            "//evil.example",
            "///evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            " /inventory",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(Some("/grants?tab=mine#x")), "/grants?tab=mine#x");
        assert_eq!(safe_next(Some("/a/../inventory")), "/inventory");
    }
}
