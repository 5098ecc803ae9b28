//! Issue 31, item 9: admins and auditors sign in with a second factor (RFC 6238 codes,
//! recovery codes); no session exists between the password and the code; a code is
//! accepted once; wrong codes lock the account like wrong passwords.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use steward_domain::auth::Role;

use crate::common::{
    email_of, for_each_store, session_cookie, Auth, Reply, TestApp, ORIGIN, PASSWORD,
};

/// The code an authenticator app with `secret` (base32) shows now.
fn code_now(secret: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name("test")
        .build()
        .unwrap();
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    totp.generate(now).to_string()
}

/// A six-digit code that is not `code`.
fn another(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

async fn post_code(app: &TestApp, path: &str, cookie: &str, code: &str) -> Reply {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, ORIGIN)
            .header(header::COOKIE, cookie)
            .body(Body::from(format!("code={}", code.replace(' ', "+"))))
            .unwrap(),
    )
    .await
}

/// The secret shown on the setup page.
fn secret_on(page: &str) -> String {
    page.split("data-secret=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the setup page shows the key")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_a_second_factor_before_any_session_and_codes_work_once() {
    for_each_store(|store| async move {
        let app = TestApp::with_second_factor(&store, vec![Role::Admin, Role::Auditor]).await;
        let admin = email_of(Role::Admin);

        // The password alone leads to the setup page, and to no session.
        let password = app.login_with(&admin, PASSWORD, None).await;
        assert_eq!(password.status, StatusCode::SEE_OTHER, "{}", password.body);
        assert_eq!(password.location, "/login/second-factor/setup");
        let pending = session_cookie(&password).expect("a session for the pending sign-in");
        let api = app
            .get("/api/v1/identities", &Auth::Cookie(pending.clone()))
            .await;
        assert_eq!(
            api.status,
            StatusCode::UNAUTHORIZED,
            "a password alone opened the API"
        );
        let page = app.get("/inventory", &Auth::Cookie(pending.clone())).await;
        assert!(page.location.starts_with("/login?"), "{}", page.location);

        let setup = app
            .get("/login/second-factor/setup", &Auth::Cookie(pending.clone()))
            .await;
        assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
        assert_eq!(setup.headers[header::CACHE_CONTROL], "no-store");
        assert!(setup.body.contains("<svg"), "no QR code");
        let secret = secret_on(&setup.body);
        // The same secret on a second visit, and the database holds it sealed only.
        let again = app
            .get("/login/second-factor/setup", &Auth::Cookie(pending.clone()))
            .await;
        assert_eq!(secret_on(&again.body), secret);
        let admin_id = store.find_user_by_email(&admin).await.unwrap().unwrap().id;
        let sealed = store
            .totp_of(admin_id)
            .await
            .unwrap()
            .unwrap()
            .secret_sealed;
        assert!(
            !sealed.contains(&secret),
            "the secret is stored in the clear"
        );

        let code = code_now(&secret);
        let wrong = post_code(&app, "/auth/second-factor/setup", &pending, &another(&code)).await;
        assert_eq!(wrong.location, "/login/second-factor/setup?error=wrong");
        let confirmed = post_code(&app, "/auth/second-factor/setup", &pending, &code).await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
        let recovery: Vec<String> = confirmed
            .body
            .split("<li><code>")
            .skip(1)
            .map(|rest| rest.split('<').next().unwrap().to_owned())
            .collect();
        assert_eq!(recovery.len(), 10, "{}", confirmed.body);
        let session = session_cookie(&confirmed).expect("signed in after setup");
        let api = app.get("/api/v1/identities", &Auth::Cookie(session)).await;
        assert_eq!(api.status, StatusCode::OK);

        // Next sign-in: the code form; the code just used is refused (a replay).
        let password = app.login_with(&admin, PASSWORD, None).await;
        assert_eq!(password.location, "/login/second-factor");
        let pending = session_cookie(&password).unwrap();
        let replay = post_code(&app, "/auth/second-factor", &pending, &code).await;
        assert_eq!(replay.location, "/login/second-factor?error=replayed");
        // A recovery code works once.
        let used = post_code(&app, "/auth/second-factor", &pending, &recovery[0]).await;
        assert_eq!(used.status, StatusCode::SEE_OTHER, "{}", used.body);
        assert_eq!(used.location, "/inventory");
        let session = session_cookie(&used).unwrap();
        assert_eq!(
            app.get("/api/v1/identities", &Auth::Cookie(session))
                .await
                .status,
            StatusCode::OK
        );
        let password = app.login_with(&admin, PASSWORD, None).await;
        let pending = session_cookie(&password).unwrap();
        let reused = post_code(&app, "/auth/second-factor", &pending, &recovery[0]).await;
        assert_eq!(reused.location, "/login/second-factor?error=wrong");

        // Roles that need none sign in with the password.
        let owner = app.login_with(&email_of(Role::Owner), PASSWORD, None).await;
        assert_eq!(owner.location, "/inventory");

        let events = store
            .list_audit(&steward_server::store::audit::AuditFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let methods: Vec<String> = events
            .iter()
            .filter(|e| e.action == "auth.login" && e.target == format!("user:{admin}"))
            .map(|e| e.details["method"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(methods.contains(&"password+totp".to_owned()), "{methods:?}");
        assert!(
            methods.contains(&"password+recovery_code".to_owned()),
            "{methods:?}"
        );
        assert!(!methods.contains(&"password".to_owned()), "{methods:?}");
        assert!(events
            .iter()
            .any(|e| e.action == "auth.second_factor_enrolled"));
        assert!(events.iter().any(|e| e.action == "auth.recovery_code_used"));

        // An operator's reset: the next sign-in sets up a new authenticator.
        app.services
            .second_factor
            .reset("system:test", admin_id, &admin)
            .await
            .unwrap();
        let password = app.login_with(&admin, PASSWORD, None).await;
        assert_eq!(password.location, "/login/second-factor/setup");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_second_factors_lock_the_account_and_a_password_cannot_reset_the_count() {
    for_each_store(|store| async move {
        let app = TestApp::with_second_factor(&store, vec![Role::Auditor]).await;
        let auditor = email_of(Role::Auditor);
        let password = app.login_with(&auditor, PASSWORD, None).await;
        let pending = session_cookie(&password).unwrap();
        let setup = app
            .get("/login/second-factor/setup", &Auth::Cookie(pending.clone()))
            .await;
        let code = code_now(&secret_on(&setup.body));
        let confirmed = post_code(&app, "/auth/second-factor/setup", &pending, &code).await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);

        // Four wrong codes, then the password again (which must not clear the count),
        // then one more wrong code: locked.
        let password = app.login_with(&auditor, PASSWORD, None).await;
        let pending = session_cookie(&password).unwrap();
        for _ in 0..4 {
            let wrong = post_code(&app, "/auth/second-factor", &pending, &another(&code)).await;
            assert_eq!(wrong.location, "/login/second-factor?error=wrong");
        }
        let password = app.login_with(&auditor, PASSWORD, None).await;
        assert_eq!(password.location, "/login/second-factor");
        let pending = session_cookie(&password).unwrap();
        let fifth = post_code(&app, "/auth/second-factor", &pending, "999999x").await;
        assert_eq!(fifth.location, "/login/second-factor?error=wrong");
        let locked = post_code(&app, "/auth/second-factor", &pending, &code).await;
        assert_eq!(locked.location, "/login?error=locked");
        // The password is refused too while locked (checked past the per-account rate
        // limit, which this many attempts in a minute reaches).
        assert!(matches!(
            app.services.auth.check_password(&auditor, PASSWORD).await,
            Err(steward_server::services::accounts::auth::LoginError::Locked(_))
        ));
    })
    .await;
}
