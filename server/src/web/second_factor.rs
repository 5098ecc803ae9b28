//! The second step of a password sign-in: a code from the user's authenticator app (or
//! a recovery code), and, for a role that must have one and has none yet, setting it
//! up. Between the password and the code the session holds a [`PendingSignIn`] only —
//! no principal — for [`PENDING_MINUTES`]; the session id is cycled at both steps.
//!
//! The pages are plain HTML forms served here (no WASM: like the sign-in form, they
//! work without JavaScript and the code never passes through the app).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::second_factor::PENDING_MINUTES;
use tower_sessions::Session;

use super::auth::{session_error, start_session, too_many_attempts, AuthState};
use super::session::{SessionAuth, AUTH_KEY};
use crate::services::accounts::auth::PasswordChecked;
use crate::services::accounts::second_factor::{SecondFactorError, Standing};

/// The session key of a sign-in waiting for its second factor.
const PENDING_KEY: &str = "pending_sign_in";
pub const CHALLENGE_PAGE: &str = "/login/second-factor";
pub const SETUP_PAGE: &str = "/login/second-factor/setup";

/// A password that checked out, waiting for the second factor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSignIn {
    checked: PasswordChecked,
    started_at: DateTime<Utc>,
    /// Where to go once signed in (already made safe).
    next: String,
    /// Whether the user must first set up an authenticator.
    enrol: bool,
}

/// After the password: on to the second factor (the session holds the pending sign-in
/// under a new id), or `None` when none is needed.
pub async fn after_password(
    state: &AuthState,
    session: &Session,
    checked: &PasswordChecked,
    next: &str,
) -> Option<Response> {
    let enrol = match state
        .services
        .second_factor
        .standing(&checked.principal)
        .await
    {
        Ok(Standing::NotNeeded) => return None,
        Ok(Standing::Enrolled) => false,
        Ok(Standing::MustEnrol) => true,
        Err(error) => return Some(crate::api::ApiError::from(error).into_response()),
    };
    let pending = PendingSignIn {
        checked: checked.clone(),
        started_at: Utc::now(),
        next: next.to_owned(),
        enrol,
    };
    if let Err(error) = session.cycle_id().await {
        return Some(session_error(error));
    }
    // Whoever was signed in to this browser before is not while the new sign-in waits.
    if let Err(error) = session.remove::<SessionAuth>(AUTH_KEY).await {
        return Some(session_error(error));
    }
    if let Err(error) = session.insert(PENDING_KEY, &pending).await {
        return Some(session_error(error));
    }
    Some(Redirect::to(if enrol { SETUP_PAGE } else { CHALLENGE_PAGE }).into_response())
}

/// The pending sign-in of this session, if it is still fresh.
async fn pending(session: &Session) -> Option<PendingSignIn> {
    let pending: PendingSignIn = session.get(PENDING_KEY).await.ok().flatten()?;
    let fresh = Utc::now() - pending.started_at < chrono::Duration::minutes(PENDING_MINUTES);
    if !fresh {
        let _ = session.remove::<PendingSignIn>(PENDING_KEY).await;
    }
    fresh.then_some(pending)
}

/// Back to the sign-in page with `error`, the pending sign-in dropped.
async fn start_over(session: &Session, error: &str) -> Response {
    let _ = session.remove::<PendingSignIn>(PENDING_KEY).await;
    Redirect::to(&format!("/login?error={error}")).into_response()
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: String,
}

fn message(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "wrong" => Some("That code is not right. Check the app shows Steward for this account."),
        "replayed" => Some("That code was just used. Wait for the next one (every 30 seconds)."),
        "malformed" => Some("Enter the 6 digits the app shows, or a recovery code."),
        _ => None,
    }
}

/// A small page in Steward's style.
fn page(title: &str, body: &str) -> Response {
    let mut response = Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Steward</title><link rel=\"stylesheet\" href=\"/pkg/steward.css\"></head>\
         <body><main id=\"main\"><section class=\"login-card\">{body}</section></main></body></html>"
    ))
    .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

fn notice(error: Option<&str>) -> String {
    message(error)
        .map(|m| format!("<p class=\"notice error\" role=\"alert\">{m}</p>"))
        .unwrap_or_default()
}

/// `GET /login/second-factor`: the code form.
pub async fn challenge_page(session: Session, Query(query): Query<PageQuery>) -> Response {
    let Some(pending) = pending(&session).await else {
        return Redirect::to("/login").into_response();
    };
    if pending.enrol {
        return Redirect::to(SETUP_PAGE).into_response();
    }
    page(
        "Second step",
        &format!(
            "<h1>Enter your code</h1>{}\
             <p>Open your authenticator app and enter the 6-digit code for Steward, \
             or one of your recovery codes.</p>\
             <form method=\"post\" action=\"/auth/second-factor\" class=\"stacked\">\
             <label for=\"code\">Code</label>\
             <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
             required autofocus maxlength=\"20\">\
             <button type=\"submit\">Sign in</button></form>\
             <p><a href=\"/login\">Start again</a></p>",
            notice(query.error.as_deref())
        ),
    )
}

/// `POST /auth/second-factor`: checks the code and signs in.
pub async fn challenge(
    State(state): State<AuthState>,
    session: Session,
    client: Option<axum::Extension<super::limits::ClientIp>>,
    Form(form): Form<CodeForm>,
) -> Response {
    let pending = match attempt(&state, &session, client, false).await {
        Ok(pending) => pending,
        Err(answer) => return answer,
    };
    let principal = &pending.checked.principal;
    match state
        .services
        .second_factor
        .verify(principal, &form.code)
        .await
    {
        Ok(method) => finish(&state, &session, &pending, method).await,
        Err(error) => refused(&session, error, CHALLENGE_PAGE).await,
    }
}

/// The pending sign-in a code is posted for (`enrol`: the setup step's, else the code
/// step's), once the sign-in rate limits and the account's lockout allow another
/// attempt; else what to answer.
async fn attempt(
    state: &AuthState,
    session: &Session,
    client: Option<axum::Extension<super::limits::ClientIp>>,
    enrol: bool,
) -> Result<PendingSignIn, Response> {
    let Some(pending) = pending(session).await.filter(|p| p.enrol == enrol) else {
        return Err(start_over(session, "second_factor_expired").await);
    };
    let email = &pending.checked.principal.email;
    if let Err(wait) = state.logins.check(client.map(|c| c.0 .0), email) {
        return Err(too_many_attempts(wait));
    }
    match state.services.auth.locked(email).await {
        Ok(false) => Ok(pending),
        Ok(true) => Err(start_over(session, "locked").await),
        Err(error) => Err(crate::api::ApiError::from(error).into_response()),
    }
}

/// Where a refused code leads.
async fn refused(session: &Session, error: SecondFactorError, back: &str) -> Response {
    let code = match error {
        SecondFactorError::Wrong => "wrong",
        SecondFactorError::Replayed => "replayed",
        SecondFactorError::NoEnrolment => {
            return start_over(session, "second_factor_expired").await
        }
        SecondFactorError::Domain(steward_domain::DomainError::InvalidInput { .. }) => "malformed",
        SecondFactorError::Domain(error) => {
            return crate::api::ApiError::from(error).into_response()
        }
    };
    Redirect::to(&format!("{back}?error={code}")).into_response()
}

/// Records the sign-in and starts the session.
async fn finish(
    state: &AuthState,
    session: &Session,
    pending: &PendingSignIn,
    method: &str,
) -> Response {
    if let Err(error) = state
        .services
        .auth
        .finish_login(&pending.checked, method)
        .await
    {
        return crate::api::ApiError::from(error).into_response();
    }
    if let Err(error) = session.remove::<PendingSignIn>(PENDING_KEY).await {
        return session_error(error);
    }
    start_session(session, &pending.checked.principal, &pending.next).await
}

/// `GET /login/second-factor/setup`: the secret to add to an authenticator app, and
/// the form to confirm it with a first code.
pub async fn setup_page(
    State(state): State<AuthState>,
    session: Session,
    Query(query): Query<PageQuery>,
) -> Response {
    let Some(pending) = pending(&session).await else {
        return Redirect::to("/login").into_response();
    };
    if !pending.enrol {
        return Redirect::to(CHALLENGE_PAGE).into_response();
    }
    let enrolment = match state
        .services
        .second_factor
        .enrolment(&pending.checked.principal)
        .await
    {
        Ok(enrolment) => enrolment,
        Err(error) => return crate::api::ApiError::from(error).into_response(),
    };
    let qr = qrcode::QrCode::new(enrolment.url.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .build()
        })
        .unwrap_or_default();
    let grouped: Vec<String> = enrolment
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    page(
        "Set up your second factor",
        &format!(
            "<h1>Set up your second factor</h1>{notice}\
             <p>Your role signs in with a code from an authenticator app as well as the \
             password. Scan this with the app (or add the key by hand), then enter the \
             code it shows.</p>\
             <figure class=\"qr\" aria-label=\"QR code of the key\">{qr}</figure>\
             <p>Key: <code id=\"totp-secret\" data-secret=\"{secret}\">{grouped}</code></p>\
             <p><a href=\"{url}\">Open in an authenticator app on this device</a></p>\
             <form method=\"post\" action=\"/auth/second-factor/setup\" class=\"stacked\">\
             <label for=\"code\">Code from the app</label>\
             <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
             required autofocus maxlength=\"20\">\
             <button type=\"submit\">Confirm and sign in</button></form>",
            notice = notice(query.error.as_deref()),
            secret = enrolment.secret,
            grouped = grouped.join(" "),
            url = enrolment.url.replace('&', "&amp;").replace('"', "&quot;"),
        ),
    )
}

/// `POST /auth/second-factor/setup`: confirms the authenticator with a first code,
/// signs in, and shows the recovery codes — once; only their hashes are kept.
pub async fn setup(
    State(state): State<AuthState>,
    session: Session,
    client: Option<axum::Extension<super::limits::ClientIp>>,
    Form(form): Form<CodeForm>,
) -> Response {
    let pending = match attempt(&state, &session, client, true).await {
        Ok(pending) => pending,
        Err(answer) => return answer,
    };
    let principal = &pending.checked.principal;
    let codes = match state
        .services
        .second_factor
        .confirm(principal, &form.code)
        .await
    {
        Ok(codes) => codes,
        Err(error) => return refused(&session, error, SETUP_PAGE).await,
    };
    // The session layer adds the new session's cookie to whatever answers.
    let signed_in = finish(&state, &session, &pending, "password+totp").await;
    if !signed_in.status().is_redirection() {
        return signed_in;
    }
    page(
        "Your recovery codes",
        &format!(
            "<h1>Your recovery codes</h1>\
             <p class=\"notice\" role=\"status\">Your second factor is set up and you are signed in.</p>\
             <p>If you lose your phone, each of these codes signs you in once instead of a \
             code from the app. Keep them somewhere safe now: Steward shows them only this \
             once.</p><ul id=\"recovery-codes\" class=\"codes\">{}</ul>\
             <p><a class=\"button\" href=\"{}\">Continue</a></p>",
            codes
                .iter()
                .map(|c| format!("<li><code>{c}</code></li>"))
                .collect::<String>(),
            pending.next.replace('&', "&amp;").replace('"', "&quot;"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_codes_have_messages() {
        assert!(message(Some("wrong")).is_some());
        assert!(message(Some("replayed")).is_some());
        assert_eq!(message(Some("<script>")), None);
        assert_eq!(message(None), None);
    }
}
