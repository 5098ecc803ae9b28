//! Issue 31, items 5, 6, 7, 10 and 14–15 over HTTP: where sign-in sends the browser,
//! how sign-in attempts are counted and limited, that nothing is read before the
//! caller is known, and the headers every response carries.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use futures_util::StreamExt;
use steward_domain::auth::{Role, Scope};

use crate::common::{
    email_of, for_each_store, security, session_cookie, Auth, TestApp, ORIGIN, PASSWORD,
};

/// The test security settings with these sign-in allowances a minute.
fn limited(per_ip: u32, per_account: u32) -> steward_server::web::auth::WebSecurity {
    steward_server::web::auth::WebSecurity {
        limits: steward_server::web::limits::RequestLimits {
            logins_per_ip_per_minute: per_ip,
            logins_per_account_per_minute: per_account,
            ..Default::default()
        },
        ..security()
    }
}

fn login_form(email: &str, password: &str, next: &str) -> String {
    serde_urlencoded::to_string([("email", email), ("password", password), ("next", next)]).unwrap()
}

fn login_request(body: String, peer: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, ORIGIN);
    if let Some(peer) = peer {
        request = request.extension(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    }
    request.body(Body::from(body)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_never_sends_the_browser_to_another_site() {
    for_each_store(|store| async move {
        // Sixteen sign-ins of one account: past the default rate limit.
        let app = TestApp::with_security(&store, limited(100, 100)).await;
        for next in [
            "/\t/evil.example",
            "/\r/evil.example",
            "/\n/evil.example",
            "/%09/evil.example",
            "/\\evil.example",
            "/%5C/evil.example",
            "//evil.example",
            "https://evil.example",
        ] {
            let reply = app
                .send(login_request(
                    login_form(&email_of(Role::Viewer), PASSWORD, next),
                    None,
                ))
                .await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{next:?}");
            assert_eq!(reply.location, "/", "{next:?} was followed");
            // A wrong password keeps `next` only as a safe path as well.
            let reply = app
                .send(login_request(
                    login_form(&email_of(Role::Viewer), "wrong password here", next),
                    None,
                ))
                .await;
            assert_eq!(
                reply.location, "/login?error=bad_credentials&next=%2F",
                "{next:?}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failed_sign_ins_are_all_counted_and_audited_in_aggregate() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let email = email_of(Role::Owner);
        let attempts = (0..8).map(|_| {
            app.services
                .auth
                .login_local(&email, "wrong password, surely")
        });
        let results = futures_util::future::join_all(attempts).await;
        let locked = results
            .iter()
            .filter(|r| {
                matches!(
                    r,
                    Err(steward_server::services::accounts::auth::LoginError::Locked(_))
                )
            })
            .count();
        let state = store.throttle_state(&email).await.unwrap().unwrap();
        assert_eq!(
            state.failures as usize + locked,
            8,
            "failures were lost: {} counted, {locked} refused as locked",
            state.failures
        );
        assert!(
            state.locked_until.is_some(),
            "eight failures did not lock the account"
        );
        let events = store
            .list_audit(&steward_server::store::audit::AuditFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let failures: Vec<_> = events
            .iter()
            .filter(|e| e.action == "auth.login_failed" && e.target == format!("user:{email}"))
            .collect();
        assert_eq!(
            failures.len(),
            2,
            "the first failure and the lockout, not one row each"
        );
        assert!(failures
            .iter()
            .any(|e| e.details["locked_until"].is_string()));
        assert!(
            events
                .iter()
                .filter(|e| e.action == "auth.login_refused")
                .count()
                <= 1,
            "refusals while locked are audited once"
        );

        // Old failures are purged.
        let purged = store
            .purge_login_throttle(chrono::Utc::now() + chrono::Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(purged, 1);
        assert!(store.throttle_state(&email).await.unwrap().is_none());
    })
    .await;
}

/// The median time of `n` runs of `f`.
async fn median_time<F, Fut>(n: usize, f: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future,
{
    let mut times = Vec::new();
    for _ in 0..n {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed());
    }
    times.sort();
    times[n / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_account_costs_a_password_check_like_a_known_one() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let auth = &app.services.auth;
        // Five attempts each: the lockout starts only after the fifth failure.
        let viewer = email_of(Role::Viewer);
        let known = median_time(5, || auth.login_local(&viewer, "not the password")).await;
        let unknown = median_time(5, || {
            auth.login_local("nobody@test.example", "not the password")
        })
        .await;
        // Without the decoy run an unknown account answered in about a millisecond,
        // against tens for argon2; a quarter leaves room for a busy machine.
        assert!(
            unknown * 4 >= known,
            "unknown accounts answer faster ({unknown:?}) than known ones ({known:?})"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_beyond_the_limits_get_429_with_retry_after() {
    for_each_store(|store| async move {
        // Small allowances, so that the allowance refilled while the attempts run (the
        // limiter refills continuously) cannot hide the limit.
        let app = TestApp::with_security(&store, limited(3, 2)).await;
        // Per account, from changing addresses.
        let mut statuses = Vec::new();
        for n in 0..3 {
            let peer = format!("192.0.2.{}:5000", n + 1);
            let reply = app
                .send(login_request(
                    login_form(&email_of(Role::Viewer), "wrong", "/"),
                    Some(&peer),
                ))
                .await;
            statuses.push(reply.status);
            if reply.status == StatusCode::TOO_MANY_REQUESTS {
                let wait: u64 = reply.headers[header::RETRY_AFTER]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&wait), "Retry-After {wait}");
            }
        }
        assert_eq!(statuses[..2], [StatusCode::SEE_OTHER; 2]);
        assert_eq!(statuses[2], StatusCode::TOO_MANY_REQUESTS);

        // Per address, whatever the accounts.
        let mut last = StatusCode::OK;
        for n in 0..4 {
            let reply = app
                .send(login_request(
                    login_form(&format!("user{n}@test.example"), "wrong", "/"),
                    Some("198.51.100.7:4000"),
                ))
                .await;
            last = reply.status;
            if n < 3 {
                assert_eq!(reply.status, StatusCode::SEE_OTHER, "attempt {n}");
            }
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
        // Another address is not held back.
        let reply = app
            .send(login_request(
                login_form(&email_of(Role::Admin), PASSWORD, "/"),
                Some("198.51.100.8:4000"),
            ))
            .await;
        assert!(session_cookie(&reply).is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_credential_is_refused_before_its_body_is_read() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        // No credential and a bad body: 401 with a challenge, not 400; no CSRF 403 either
        // (no Origin header at all).
        let reply = app
            .send(
                Request::post("/api/v1/identities")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{not json"))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert_eq!(
            reply.headers[header::WWW_AUTHENTICATE],
            "Bearer realm=\"steward\""
        );
        assert_eq!(reply.content_type, "application/problem+json");

        // An import whose body never ends: answered at once, never read.
        let endless = || {
            let stream = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"name,kind\n"))
            })
            .chain(futures_util::stream::pending());
            Body::from_stream(stream)
        };
        for auth in [
            Auth::None,
            Auth::Bearer(app.token(Role::Owner, &[Scope::InventoryRead]).await),
        ] {
            let request = auth
                .apply(Request::post(
                    "/api/v1/imports?format=steward-csv&dry_run=true",
                ))
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(endless())
                .unwrap();
            let reply = tokio::time::timeout(Duration::from_secs(10), app.send(request))
                .await
                .expect("the import waited for the body before checking the caller");
            assert!(
                matches!(
                    reply.status,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                ),
                "{}: {}",
                reply.status,
                reply.body
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_hardening_headers() {
    for_each_store(|store| async move {
        let secure = TestApp::with_security(
            &store,
            steward_server::web::auth::WebSecurity {
                secure_cookies: true,
                ..security()
            },
        )
        .await;
        let page = secure.get("/login", &Auth::None).await;
        assert_eq!(page.status, StatusCode::OK);
        let csp = page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce in the page's policy");
        assert!(
            page.body.contains(&format!("nonce=\"{nonce}\"")),
            "the page's scripts do not carry the policy's nonce"
        );
        for directive in [
            "object-src 'none'",
            "base-uri 'none'",
            "'wasm-unsafe-eval'",
            "connect-src 'self'",
            "img-src 'self' data:",
        ] {
            assert!(csp.contains(directive), "{directive} missing: {csp}");
        }
        let again = secure.get("/login", &Auth::None).await;
        assert!(
            !again.headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains(nonce),
            "the nonce is reused"
        );
        assert!(page.headers[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .unwrap()
            .starts_with("max-age="));
        assert_eq!(page.headers["cross-origin-opener-policy"], "same-origin");
        assert_eq!(page.headers["cross-origin-resource-policy"], "same-origin");

        // Secrets are never cached.
        let token = Auth::Bearer(secure.token(Role::Admin, &[Scope::TokensWrite]).await);
        let created = secure
            .send(
                token
                    .apply(Request::post("/api/v1/tokens"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        r#"{"name":"x","scopes":["tokens:write"],"expires_in_days":1}"#,
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
        assert!(created.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'none'"));

        // Secure cookies get the __Host- prefix.
        let reply = secure
            .send(login_request(
                login_form(&email_of(Role::Viewer), PASSWORD, "/"),
                None,
            ))
            .await;
        assert!(
            reply
                .set_cookie
                .iter()
                .any(|c| c.starts_with("__Host-steward_session=")
                    && c.contains("Secure")
                    && c.contains("Path=/")),
            "{:?}",
            reply.set_cookie
        );

        // Plain http on loopback: no HSTS.
        let plain = TestApp {
            router: steward_server::web::router(
                secure.services.clone(),
                security(),
                steward_server::web::leptos_options(
                    "127.0.0.1:0".parse().unwrap(),
                    "target/site".as_ref(),
                ),
            ),
            services: secure.services.clone(),
        };
        let page = plain.get("/login", &Auth::None).await;
        assert!(page
            .headers
            .get(header::STRICT_TRANSPORT_SECURITY)
            .is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_own_request_id_is_replaced_and_a_huge_offset_is_a_400() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let reply = app
            .send(
                Request::get("/healthz")
                    .header("x-request-id", "forged-request-id")
                    .extension(ConnectInfo("203.0.113.5:1".parse::<SocketAddr>().unwrap()))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let id = reply.headers["x-request-id"].to_str().unwrap();
        assert_ne!(id, "forged-request-id");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

        let reader = Auth::Bearer(app.token(Role::Admin, Scope::ALL).await);
        let reply = app
            .get(
                "/api/v1/campaigns/00000000-0000-4000-8000-000000000000/items?offset=18446744073709551615",
                &reader,
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        let reply = app
            .get(
                "/api/v1/campaigns/00000000-0000-4000-8000-000000000000/items?offset=-1",
                &reader,
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    })
    .await;
}
