//! The `steward` binary: commands, configuration errors and the serve lifecycle.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn steward() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    command
        .env_remove("DATABASE_URL")
        .env("STEWARD_LOG", "warn")
        // These tests sign in with passwords many times a minute; the second factor
        // has its own tests (auth::second_factor, and Chromium's).
        .env("STEWARD_SECOND_FACTOR_ROLES", "none");
    command
}

#[test]
fn a_bad_database_url_stops_with_a_readable_message() {
    let output = steward()
        .args(["migrate"])
        .env("DATABASE_URL", "mysql://root:hunter2@db/steward")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "error: DATABASE_URL must start with sqlite:// or postgres:// (got 'mysql://root:***@db/steward')"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"));
    assert!(!stderr.contains("panicked"));
}

#[test]
fn migrate_then_demo_then_refuse_a_second_demo() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/steward.db", dir.path().display());
    let migrate = steward()
        .args(["migrate"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("schema is up to date"));

    let demo = steward()
        .args(["demo", "--identities", "1200"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(demo.status.success(), "{demo:?}");
    let out = String::from_utf8_lossy(&demo.stdout);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("Added 1200 demo identities and 30 people.")
    );
    // A random password, printed once, for one account per role.
    let banner = lines.next().unwrap();
    let password = banner
        .strip_prefix("Demo sign-in accounts (one per role), all with the password ")
        .and_then(|rest| rest.strip_suffix(':'))
        .unwrap();
    assert_eq!(password.len(), 16);
    assert_eq!(lines.count(), 4);

    // Users: add one (password from stdin), refuse a duplicate and a short password.
    let add = |email: &str, password: &str| {
        use std::io::Write;
        let mut child = steward()
            .args(["user", "add", "--email", email, "--role", "auditor"])
            .env("DATABASE_URL", &url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let added = add("Erin@Example.com", "long enough password");
    assert!(added.status.success(), "{added:?}");
    assert_eq!(
        String::from_utf8_lossy(&added.stdout).trim(),
        "Added erin@example.com as auditor."
    );
    let again = add("erin@example.com", "long enough password");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr)
        .contains("a user with the email erin@example.com already exists"));
    let short = add("frank@example.com", "short");
    assert!(String::from_utf8_lossy(&short.stderr)
        .contains("invalid password: a password needs at least 12 characters (this one has 5)"));

    let verify = steward()
        .args(["audit", "verify"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    // Four demo accounts; the demo admin signing in to add the tour's grant policy,
    // agent (with the findings it opens) and entitlement; and Erin: ten events.
    assert_eq!(
        String::from_utf8_lossy(&verify.stdout).trim(),
        "The audit trail is intact: 10 events checked."
    );

    let again = steward()
        .args(["demo", "--identities", "5"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr)
        .contains("error: the register already holds 1201 identities"));

    let zero = steward()
        .args(["demo", "--identities", "0"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(
        zero.status.code(),
        Some(2),
        "clap refuses out-of-range counts"
    );
}

#[test]
fn serve_seeds_an_empty_database_prints_its_url_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/steward.db", dir.path().display());
    let child = steward()
        .env("DATABASE_URL", &url)
        .env("STEWARD_ADDR", "127.0.0.1:0")
        .env("STEWARD_DEMO_IF_EMPTY", "25")
        .env("STEWARD_DEMO_PASSWORD", "demo password for the test")
        .env("STEWARD_SIGNING_KEY_DIR", dir.path().join("keys"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("Steward is running at http://127.0.0.1:"),
        "{line}"
    );
    let addr = line
        .trim_start_matches("Steward is running at http://")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();

    let mut banner = String::new();
    for _ in 0..5 {
        stdout.read_line(&mut banner).unwrap();
    }
    assert!(
        banner.starts_with("Demo sign-in accounts (one per role), all with the password demo password for the test:"),
        "{banner}"
    );
    for email in [
        "admin@steward.local",
        "owner@steward.local",
        "viewer@steward.local",
        "auditor@steward.local",
    ] {
        assert!(banner.contains(email), "{banner}");
    }

    assert_eq!(http_get(&addr, "/healthz"), (200, "ok".to_owned()));
    // The API is closed to anonymous callers.
    let (status, body) = http_get(&addr, "/api/v1/identities?limit=100");
    assert_eq!(status, 401, "{body}");

    // Graceful shutdown on SIGTERM: the process exits by itself, successfully.
    stop(child);
}

/// Kills the server if the test fails before stopping it.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal HTTP/1.1 GET over a TCP socket, returning the status and body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

#[test]
fn import_previews_applies_and_names_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/steward.db", dir.path().display());
    let fixture = format!(
        "{}/tests/fixtures/imports/aws-credential-report.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = |extra: &[&str], file: &str| {
        steward()
            .args(["import", "--format", "aws-credential-report"])
            .args(extra)
            .arg(file)
            .env("DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let dry = run(&["--dry-run"], &fixture);
    assert!(dry.status.success(), "{dry:?}");
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        out.starts_with("Dry run of aws-credential-report.csv (aws-credential-report, sha256 "),
        "{out}"
    );
    assert!(
        out.contains("5 records — 4 created, 0 updated, 0 unchanged, 0 not seen, 1 skipped"),
        "{out}"
    );
    assert!(
        out.contains("  create   github-deploy (arn:aws:iam::123456789012:user/ci/github-deploy)"),
        "{out}"
    );
    assert!(out.contains("Nothing was written."), "{out}");

    let applied = run(&[], &fixture);
    assert!(applied.status.success(), "{applied:?}");
    assert!(
        String::from_utf8_lossy(&applied.stdout).starts_with("Imported aws-credential-report.csv")
    );
    let again = run(&[], &fixture);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 created, 0 updated, 4 unchanged"));

    let bad = dir.path().join("bad.csv");
    let text =
        std::fs::read_to_string(&fixture)
            .unwrap()
            .replacen("2020-03-03T00:00:00+00:00", "soon", 1);
    std::fs::write(&bad, text).unwrap();
    let refused = run(&[], bad.to_str().unwrap());
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).trim(),
        "steward import: invalid file: bad.csv: line 5, field user_creation_time: 'soon' is not an ISO 8601 time (like 2026-01-31T12:00:00Z)"
    );
}

#[test]
fn rotating_the_signing_key_adds_a_private_key_file_only_its_owner_reads() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    for expected in [2, 3] {
        let out = steward()
            .args(["rotate-signing-key", "--dir"])
            .arg(&keys)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("New signing key "));
        // The first run also creates the initial key. (The folder also holds the
        // `.lock` file replicas take while loading it.)
        let files: Vec<_> = std::fs::read_dir(&keys)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pk8"))
            .collect();
        assert_eq!(files.len(), expected, "{files:?}");
        #[cfg(unix)]
        for file in files {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
                0o600,
                "{file:?}"
            );
        }
    }
}

/// Runs `test` (a database URL and a scratch folder) on a new SQLite file, then on a new
/// PostgreSQL database when `STEWARD_TEST_PG_URL` is set.
async fn on_each_database<F, Fut>(test: F)
where
    F: Fn(String, std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/steward.db", dir.path().display());
    crate::common::on("SQLite", test(sqlite, dir.path().to_owned())).await;
    match crate::common::FreshPostgres::create().await {
        Some(pg) => {
            crate::common::on("PostgreSQL", test(pg.url.clone(), dir.path().to_owned())).await;
            pg.drop_database().await;
        }
        None => crate::common::postgres_skipped(),
    }
}

/// Starts `steward serve` on `url` with the grant expiry worker running every second;
/// returns once it listens, with its address.
fn serve_replica(url: &str, keys: &Path) -> (KillOnDrop, String) {
    listening(spawn_replica(url, keys, &[]))
}

/// Two replicas on one database and key folder, started at the same moment (so their
/// start-up work — the first signing key, the first scheduler runs — races); returns
/// once both listen.
fn two_replicas(
    url: &str,
    keys: &Path,
    env: &[(&str, &str)],
) -> ((KillOnDrop, String), (KillOnDrop, String)) {
    let (a, b) = (spawn_replica(url, keys, env), spawn_replica(url, keys, env));
    (listening(a), listening(b))
}

/// Starts `steward serve` with the grant expiry worker running every second, and
/// `env` (say, the public URL a load balancer serves); does not wait for it.
fn spawn_replica(url: &str, keys: &Path, env: &[(&str, &str)]) -> KillOnDrop {
    KillOnDrop(
        steward()
            .env("STEWARD_GRANT_EXPIRY_SECONDS", "1")
            .envs(env.iter().copied())
            .env("DATABASE_URL", url)
            .env("STEWARD_ADDR", "127.0.0.1:0")
            .env("STEWARD_SIGNING_KEY_DIR", keys)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// Waits until a started server listens; returns it with its address.
fn listening(mut child: KillOnDrop) -> (KillOnDrop, String) {
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("Steward is running at "), "{line}");
    let addr = line
        .trim_start_matches("Steward is running at http://")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    // The rest is read (and dropped) so the server never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, addr)
}

/// Stops a server with SIGTERM and waits for its graceful exit.
fn stop(mut child: KillOnDrop) {
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            return;
        }
        assert!(std::time::Instant::now() < deadline, "steward did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `count` identities, each with an active just-in-time grant (their audit targets).
async fn active_grants(app: &crate::common::TestApp, count: usize) -> Vec<String> {
    use steward_domain::auth::Role;
    use steward_domain::grants::{ApprovalMode, GrantRequest, GrantState, PolicyDraft, Requesters};
    use steward_domain::identity::{GrantType, NewEntitlement, Privilege};
    use steward_domain::inventory::IdentityKind;

    let admin = app.principal(Role::Admin).await;
    let ports = &app.services.ports();
    ports
        .grants
        .create_policy(
            Some(&admin),
            &PolicyDraft {
                name: "replicas".into(),
                resource: "replica-*".into(),
                action: "admin".into(),
                scope: String::new(),
                requesters: Requesters::Anyone,
                approval: ApprovalMode::Automatic,
                max_minutes: 60,
                reason_required: false,
                windows: Vec::new(),
            },
        )
        .await
        .unwrap();
    let mut grants = Vec::new();
    for n in 0..count {
        let id = ports
            .inventory
            .create_identity(
                Some(&admin),
                &crate::common::draft(&format!("replica-{n}"), IdentityKind::ServiceAccount),
            )
            .await
            .unwrap()
            .summary
            .id;
        let entitlement = ports
            .inventory
            .add_entitlement(
                Some(&admin),
                id,
                &NewEntitlement {
                    resource: format!("replica-{n}"),
                    action: "admin".into(),
                    privilege: Privilege::Admin,
                    grant_type: GrantType::JustInTime,
                },
            )
            .await
            .unwrap()
            .id;
        let grant = ports
            .grants
            .request(
                Some(&admin),
                &GrantRequest {
                    identity_id: id,
                    entitlement_id: entitlement,
                    minutes: Some(30),
                    reason: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(grant.state, GrantState::Active);
        grants.push(format!("grant:{}", grant.id));
    }
    grants.sort();
    grants
}

/// Every active grant runs out `seconds` from now.
async fn expire_all_in(store: &steward_server::store::Store, seconds: i64) {
    use steward_server::store::write::Statement;
    store
        .write(
            &[
                Statement::new("UPDATE grants SET expires_at = $1 WHERE state = 'active'")
                    .bind(chrono::Utc::now() + chrono::Duration::seconds(seconds)),
            ],
            |_| Vec::new(),
        )
        .await
        .unwrap();
}

/// Waits until no grant is active any more (the state column, not the listing, which
/// hides run-out grants at once).
async fn until_none_active(store: &steward_server::store::Store) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let active = crate::common::scalar(
            store,
            "SELECT COUNT(*) FROM grants WHERE state = 'active'",
            &[],
        )
        .await;
        if active == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{active} grants never expired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The targets of every `grant.expire` event, sorted.
async fn expiry_events(store: &steward_server::store::Store) -> Vec<String> {
    use steward_server::store::audit::AuditFilter;
    let mut expired: Vec<String> = store
        .list_audit(&AuditFilter {
            action: Some("grant.expire".into()),
            limit: 10_000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.target)
        .collect();
    expired.sort();
    expired
}

/// Two `steward serve` processes on one database, both running the expiry worker every
/// second: every grant expires, each exactly once (one state change, one audit event).
async fn two_replicas_expire_grants_once(url: &str, dir: &Path) {
    use steward_server::store::Store;

    const GRANTS: usize = 60;
    let store = Store::open(url, 4).await.unwrap();
    let app = crate::common::TestApp::new(&store).await;
    let grants = active_grants(&app, GRANTS).await;

    let ((first, _), (second, _)) = two_replicas(url, &dir.join("keys"), &[]);
    // Both workers are running: every grant now runs out at the same moment.
    expire_all_in(&store, 2).await;
    until_none_active(&store).await;
    // Another second of both workers running finds nothing more to do.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop(first);
    stop(second);
    assert_eq!(
        expiry_events(&store).await,
        grants,
        "one expiry event per grant"
    );
    assert_eq!(store.verify_audit().await.unwrap().first_broken, None);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_expire_each_grant_exactly_once() {
    on_each_database(|url, dir| async move { two_replicas_expire_grants_once(&url, &dir).await })
        .await;
}

/// A real server answers a burst of decisions and is stopped with SIGTERM at once: every
/// decision it answered is in the log afterwards (the queue is written out on the way
/// down).
async fn decisions_survive_a_graceful_stop(url: &str, dir: &Path) {
    use steward_domain::auth::{Role, Scope};
    use steward_domain::authz::AgentLimits;
    use steward_domain::inventory::IdentityKind;
    use steward_domain::tokens::NewTokenRequest;
    use steward_server::store::Store;

    const DECISIONS: usize = 400;
    let store = Store::open(url, 4).await.unwrap();
    let app = crate::common::TestApp::new(&store).await;
    let admin = app.principal(Role::Admin).await;
    let ports = &app.services.ports();
    let agent = ports
        .inventory
        .create_identity(
            Some(&admin),
            &crate::common::draft("logged-bot", IdentityKind::Agent),
        )
        .await
        .unwrap()
        .summary
        .id;
    ports
        .authz
        .set_limits(
            Some(&admin),
            agent,
            &AgentLimits {
                tools: vec!["jira.search".into()],
                ..AgentLimits::default()
            },
        )
        .await
        .unwrap();
    let token = app
        .services
        .tokens
        .create(
            Some(&admin),
            &NewTokenRequest {
                name: "logged-bot".into(),
                scopes: vec![Scope::AuthzDecide],
                expires_in_days: 1,
                agent_id: Some(agent),
                environment: None,
            },
        )
        .await
        .unwrap()
        .token;

    let (server, addr) = serve_replica(url, &dir.join("keys"));
    let client = reqwest::Client::new();
    let mut asks = Vec::new();
    for n in 0..DECISIONS {
        let (client, token, addr) = (client.clone(), token.clone(), addr.clone());
        asks.push(tokio::spawn(async move {
            let tool = if n % 2 == 0 {
                "jira.search"
            } else {
                "shell.exec"
            };
            client
                .post(format!("http://{addr}/api/v1/authorize"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(
                    serde_json::json!({
                        "principal": agent,
                        "action": "call_tool",
                        "resource": { "type": "Tool", "id": tool },
                        "context": { "environment": "prod", "session_id": format!("s-{}", n % 7) },
                    })
                    .to_string(),
                )
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }));
    }
    let mut answered = 0;
    for ask in asks {
        if ask.await.unwrap() == 200 {
            answered += 1;
        }
    }
    assert_eq!(answered, DECISIONS, "every decision answered");
    stop(server);
    let logged = store.count_decisions().await.unwrap();
    assert_eq!(
        logged, DECISIONS as i64,
        "every answered decision is in the log after the stop"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_has_logged_every_decision_it_answered() {
    on_each_database(|url, dir| async move { decisions_survive_a_graceful_stop(&url, &dir).await })
        .await;
}

/// An AWS credential report of `users` service users, one active key each.
fn credential_report(users: usize) -> String {
    let mut text = String::from(
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n",
    );
    for n in 0..users {
        text.push_str(&format!(
            "svc-{n},arn:aws:iam::123456789012:user/svc/svc-{n},2023-05-10T12:00:00+00:00,false,N/A,N/A,N/A,false,true,2023-05-10T12:00:00+00:00,2026-11-20T03:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        ));
    }
    text
}

/// `kill -9` of the server while it applies a large import (sent through the API):
/// after a restart nothing of the import is there — no identity, no credential, no
/// audit event — the audit trail verifies, and the same file then imports whole.
async fn an_import_killed_midway_leaves_nothing(url: &str, dir: &Path) {
    use std::io::{Read, Write};
    use steward_domain::auth::{Role, Scope};
    use steward_server::store::audit::AuditFilter;
    use steward_server::store::Store;

    // Large enough that applying it takes seconds (about 2 s here in release).
    const USERS: usize = 40_000;
    let store = Store::open(url, 4).await.unwrap();
    let app = crate::common::TestApp::new(&store).await;
    let token = app
        .token(Role::Admin, &[Scope::InventoryRead, Scope::InventoryWrite])
        .await;
    let identities_before = store.count_identities().await.unwrap();
    let report = credential_report(USERS);

    let keys = dir.join("keys");
    let (mut server, addr) = serve_replica(url, &keys);
    let (sent, sent_rx) = std::sync::mpsc::channel();
    let (answered, answered_rx) = std::sync::mpsc::channel();
    let upload = {
        let (addr, body) = (addr.clone(), report.clone());
        std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(&addr).unwrap();
            write!(
                stream,
                "POST /api/v1/imports?format=aws-credential-report&file_name=big.csv HTTP/1.1\r\n\
                 Host: {addr}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            stream.write_all(body.as_bytes()).unwrap();
            sent.send(()).unwrap();
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            let _ = answered.send(response);
        })
    };
    sent_rx.recv().unwrap();
    // The whole file is in: the server is parsing, comparing and writing it now.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let early = answered_rx.try_recv().ok().filter(|r| !r.is_empty());
    assert!(
        early.is_none(),
        "the import finished before the kill ({early:?}): raise USERS"
    );
    server.0.kill().unwrap(); // SIGKILL: no graceful anything
    server.0.wait().unwrap();
    upload.join().unwrap();
    let reply = answered_rx.recv().unwrap();
    assert!(reply.is_empty(), "the killed server answered: {reply}");

    // A restart finds a consistent database: nothing of the import.
    let (restarted, addr) = serve_replica(url, &keys);
    assert_eq!(http_get(&addr, "/readyz").0, 200);
    stop(restarted);
    assert_eq!(store.count_identities().await.unwrap(), identities_before);
    assert_eq!(store.verify_audit().await.unwrap().first_broken, None);
    // (The servers' own start-up evaluations are in the trail; the import is not.)
    let applied = store
        .list_audit(&AuditFilter {
            action: Some("import.apply".into()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(applied.is_empty(), "{applied:?}");
    store.close().await;

    // The same file then imports whole.
    let file = dir.join("big.csv");
    std::fs::write(&file, &report).unwrap();
    let again = steward()
        .args(["import", "--format", "aws-credential-report"])
        .arg(&file)
        .env("DATABASE_URL", url)
        .output()
        .unwrap();
    assert!(again.status.success(), "{again:?}");
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(
        out.contains(&format!("{USERS} records — {USERS} created")),
        "{out}"
    );
    let store = Store::open(url, 4).await.unwrap();
    assert_eq!(
        store.count_identities().await.unwrap(),
        identities_before + USERS as i64
    );
    assert_eq!(store.verify_audit().await.unwrap().first_broken, None);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_import_applies_nothing() {
    on_each_database(
        |url, dir| async move { an_import_killed_midway_leaves_nothing(&url, &dir).await },
    )
    .await;
}

/// `kill -9` of the server in the middle of a grant-expiry burst: after a restart every
/// grant has ended exactly once (one state change, one audit event), none is left
/// active, and the audit trail verifies.
async fn an_expiry_burst_survives_a_kill(url: &str, dir: &Path) {
    use steward_server::store::Store;

    const GRANTS: usize = 400;
    let store = Store::open(url, 4).await.unwrap();
    let app = crate::common::TestApp::new(&store).await;
    let grants = active_grants(&app, GRANTS).await;

    let keys = dir.join("keys");
    let (mut server, _) = serve_replica(url, &keys);
    expire_all_in(&store, 1).await;
    // The worker runs every second: the kill lands around its first run on the burst.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    // A batch (up to 5,000 grants) ends in one transaction: whole, or not at all.
    let ended_at_kill = expiry_events(&store).await.len();
    eprintln!("expiry burst: {ended_at_kill} of {GRANTS} grants had ended at the kill");
    assert!(
        ended_at_kill == 0 || ended_at_kill == GRANTS,
        "half a batch was applied: {ended_at_kill} of {GRANTS}"
    );

    let (restarted, _) = serve_replica(url, &keys);
    until_none_active(&store).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop(restarted);
    assert_eq!(
        expiry_events(&store).await,
        grants,
        "one expiry event per grant ({ended_at_kill} had ended when the server was killed)"
    );
    assert_eq!(store.verify_audit().await.unwrap().first_broken, None);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_expiry_burst_ends_each_grant_once() {
    on_each_database(|url, dir| async move { an_expiry_burst_survives_a_kill(&url, &dir).await })
        .await;
}

/// One raw HTTP/1.1 exchange: the status and the response head (the body is dropped).
fn http_head(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    let head = response.split_once("\r\n\r\n").unwrap().0.to_owned();
    (head[9..12].parse().unwrap(), head)
}

/// Two replicas behind one public address with no sticky routing: a session made on
/// one is good on the other, and signing out on either ends it on both.
async fn sessions_work_on_either_replica(url: &str, dir: &Path) {
    use steward_domain::auth::Role;
    use steward_server::store::Store;

    const PUBLIC: &str = "http://steward.test";
    let store = Store::open(url, 4).await.unwrap();
    let _users = crate::common::TestApp::new(&store).await;
    let ((a, at_a), (b, at_b)) =
        two_replicas(url, &dir.join("keys"), &[("STEWARD_PUBLIC_URL", PUBLIC)]);
    let form = serde_urlencoded::to_string([
        ("email", crate::common::email_of(Role::Admin).as_str()),
        ("password", crate::common::PASSWORD),
        ("next", "/inventory"),
    ])
    .unwrap();
    let (status, head) = http_head(
        &at_a,
        "POST",
        "/auth/login",
        &[
            ("Origin", PUBLIC),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &form,
    );
    assert_eq!(status, 303, "{head}");
    // Behind a public https URL the cookie is Secure, hence `__Host-` prefixed.
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: __Host-steward_session="))
        .map(|rest| format!("__Host-steward_session={}", rest.split(';').next().unwrap()))
        .unwrap_or_else(|| panic!("no session cookie: {head}"));

    let page = |addr: &str| http_head(addr, "GET", "/inventory", &[("Cookie", &cookie)], "");
    assert_eq!(page(&at_a).0, 200);
    assert_eq!(page(&at_b).0, 200, "the other replica knows the session");
    let anonymous = http_head(&at_b, "GET", "/inventory", &[], "");
    assert_eq!(anonymous.0, 303, "without it: {}", anonymous.1);

    let (status, head) = http_head(
        &at_b,
        "POST",
        "/auth/logout",
        &[("Origin", PUBLIC), ("Cookie", &cookie)],
        "",
    );
    assert_eq!(status, 303, "{head}");
    let (status, head) = page(&at_a);
    assert_eq!(status, 303, "signed out on B, still in on A: {head}");
    assert!(head.contains("location: /login"), "{head}");
    stop(a);
    stop(b);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_work_on_either_of_two_replicas() {
    on_each_database(|url, dir| async move { sessions_work_on_either_replica(&url, &dir).await })
        .await;
}

/// Two replicas answer `/authorize` for one agent whose sessions allow 5 calls, with
/// requests spread over both and sent at once: exactly 5 calls of each session are
/// allowed, however the requests fall on the replicas.
async fn session_limits_hold_across_replicas(url: &str, dir: &Path) {
    use steward_domain::auth::Role;
    use steward_domain::authz::AgentLimits;
    use steward_domain::inventory::IdentityKind;
    use steward_server::store::Store;

    const LIMIT: u32 = 5;
    const SESSIONS: usize = 4;
    const CALLS: usize = 24; // per session, 12 on each replica
    let store = Store::open(url, 4).await.unwrap();
    let app = crate::common::TestApp::new(&store).await;
    let admin = app.principal(Role::Admin).await;
    let agent = crate::common::owned_identity(
        &app,
        &crate::common::draft("limited-bot", IdentityKind::Agent),
    )
    .await;
    app.services
        .ports()
        .authz
        .set_limits(
            Some(&admin),
            agent,
            &AgentLimits {
                tools: vec!["jira.search".into()],
                max_calls: Some(LIMIT),
                ..AgentLimits::default()
            },
        )
        .await
        .unwrap();
    let token = crate::common::agent_token(&app, agent).await;

    let ((a, at_a), (b, at_b)) = two_replicas(url, &dir.join("keys"), &[]);
    let client = reqwest::Client::new();
    let mut asks = Vec::new();
    for n in 0..SESSIONS * CALLS {
        let addr = if n % 2 == 0 {
            at_a.clone()
        } else {
            at_b.clone()
        };
        let (client, token) = (client.clone(), token.clone());
        let session = format!("session-{}", n % SESSIONS);
        asks.push(tokio::spawn(async move {
            let reply = client
                .post(format!("http://{addr}/api/v1/authorize"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(
                    serde_json::json!({
                    "principal": agent,
                    "action": "call_tool",
                    "resource": { "type": "Tool", "id": "jira.search" },
                    "context": { "environment": "prod", "session_id": session },
                    })
                    .to_string(),
                )
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
            (session, reply["decision"] == "allow")
        }));
    }
    let mut allowed = std::collections::BTreeMap::<String, u32>::new();
    for ask in asks {
        let (session, allow) = ask.await.unwrap();
        *allowed.entry(session).or_default() += u32::from(allow);
    }
    stop(a);
    stop(b);
    assert_eq!(allowed.len(), SESSIONS);
    assert!(
        allowed.values().all(|n| *n == LIMIT),
        "allowed calls per session: {allowed:?}"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_session_limits_hold_across_two_replicas() {
    on_each_database(
        |url, dir| async move { session_limits_hold_across_replicas(&url, &dir).await },
    )
    .await;
}

/// `count` service accounts with a standing admin entitlement (so a campaign on the
/// `admin-entitlement` finding reviews them), owned in turn by the test users of
/// `owners` (none: the security team reviews them). Returns their ids.
async fn admin_holders(
    app: &crate::common::TestApp,
    prefix: &str,
    count: usize,
    owners: &[steward_domain::auth::Role],
) -> Vec<uuid::Uuid> {
    use steward_domain::auth::Role;
    use steward_domain::identity::{GrantType, NewEntitlement, Privilege};
    use steward_domain::inventory::IdentityKind;
    use steward_domain::ownership::{AssignRequest, AssignmentRole};

    let admin = app.principal(Role::Admin).await;
    let ports = &app.services.ports();
    let mut ids = Vec::new();
    for n in 0..count {
        let id = ports
            .inventory
            .create_identity(
                Some(&admin),
                &crate::common::draft(&format!("{prefix}-{n}"), IdentityKind::ServiceAccount),
            )
            .await
            .unwrap()
            .summary
            .id;
        ports
            .inventory
            .add_entitlement(
                Some(&admin),
                id,
                &NewEntitlement {
                    resource: format!("{prefix}-db-{n}"),
                    action: "admin".into(),
                    privilege: Privilege::Admin,
                    grant_type: GrantType::Standing,
                },
            )
            .await
            .unwrap();
        if let Some(owner) = owners.get(n % owners.len().max(1)) {
            ports
                .ownership
                .assign(
                    Some(&admin),
                    id,
                    &AssignRequest {
                        role: AssignmentRole::Owner,
                        person: crate::common::email_of(*owner),
                        reason: "test".into(),
                    },
                )
                .await
                .unwrap();
        }
        ids.push(id);
    }
    ids
}

/// A campaign reviewing the entitlements of every admin holder, open from now until
/// `due`.
async fn open_campaign(
    app: &crate::common::TestApp,
    name: &str,
    due: chrono::DateTime<chrono::Utc>,
    close_policy: steward_domain::campaigns::ClosePolicy,
) -> steward_domain::campaigns::Campaign {
    use steward_domain::auth::Role;
    use steward_domain::campaigns::{
        CampaignDraft, CampaignState, CreateCampaign, Escalation, Recurrence, Reviewed,
    };

    let admin = app.principal(Role::Admin).await;
    let campaign = app
        .services
        .ports()
        .campaigns
        .create(
            Some(&admin),
            &CreateCampaign {
                draft: CampaignDraft {
                    name: name.into(),
                    scope: "status=active&finding=admin-entitlement".into(),
                    controls: vec!["NHI5".into()],
                    reviewed: Reviewed {
                        ownership: false,
                        entitlements: true,
                        credentials: false,
                    },
                    starts_at: chrono::Utc::now(),
                    due_at: due,
                    remind_every_days: 7,
                    escalation: Escalation::SecurityTeam,
                    close_policy,
                    recurrence: Recurrence::Once,
                },
                template: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(campaign.state, CampaignState::Open);
    campaign
}

/// How many audit events have `action`.
async fn audit_count(store: &steward_server::store::Store, action: &str) -> usize {
    use steward_server::store::audit::AuditFilter;
    store
        .list_audit(&AuditFilter {
            action: Some(action.into()),
            limit: 10_000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .len()
}

/// Two replicas start at the same moment over six campaigns whose reminders are due,
/// each with three reviewers: both schedulers run at once, and each reviewer of each
/// campaign is reminded exactly once (one audit event, one notification).
async fn two_replicas_remind_each_reviewer_once(url: &str, dir: &Path) {
    use steward_domain::auth::Role;
    use steward_domain::campaigns::ClosePolicy;
    use steward_server::store::Store;

    const CAMPAIGNS: usize = 6;
    const REVIEWERS: [Role; 3] = [Role::Owner, Role::Viewer, Role::Auditor];
    let store = Store::open(url, 4).await.unwrap();
    let app = crate::common::TestApp::new(&store).await;
    admin_holders(&app, "reviewed", REVIEWERS.len(), &REVIEWERS).await;
    // Due within a day: the reminder is due as soon as the campaign opens.
    let due = chrono::Utc::now() + chrono::Duration::hours(12);
    for n in 0..CAMPAIGNS {
        let campaign = open_campaign(&app, &format!("review {n}"), due, ClosePolicy::Keep).await;
        assert_eq!(campaign.items, REVIEWERS.len() as u64);
    }
    let mut before = Vec::new();
    for role in REVIEWERS {
        before.push(crate::common::notifications_of(&store, role).await);
    }
    assert_eq!(audit_count(&store, "campaign.remind").await, 0);

    // Each scheduler runs once as its replica starts (then not for a minute).
    let ((a, _), (b, _)) = two_replicas(
        url,
        &dir.join("keys"),
        &[("STEWARD_CAMPAIGN_INTERVAL_MINUTES", "1")],
    );
    let expected = CAMPAIGNS * REVIEWERS.len();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while audit_count(&store, "campaign.remind").await < expected {
        assert!(
            std::time::Instant::now() < deadline,
            "reminders never all went out"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The slower replica's run finishes meanwhile; a second reminder would show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop(a);
    stop(b);
    assert_eq!(audit_count(&store, "campaign.remind").await, expected);
    for (role, before) in REVIEWERS.into_iter().zip(before) {
        assert_eq!(
            crate::common::notifications_of(&store, role).await - before,
            CAMPAIGNS as i64,
            "{role:?} has one reminder per campaign"
        );
    }
    assert_eq!(store.verify_audit().await.unwrap().first_broken, None);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_send_each_reminder_once() {
    on_each_database(
        |url, dir| async move { two_replicas_remind_each_reviewer_once(&url, &dir).await },
    )
    .await;
}

/// `kill -9` of the server while it carries out a campaign close that revokes 300
/// undecided items: the close itself is whole (every item has its outcome), no item is
/// marked done with its entitlement still there, and after a restart the scheduler
/// finishes the rest — every entitlement removed exactly once, one remediation event per
/// item, and the audit trail verifies.
async fn a_campaign_close_killed_midway_finishes_once(url: &str, dir: &Path) {
    use std::io::{Read, Write};
    use steward_domain::auth::{Role, Scope};
    use steward_domain::campaigns::{CampaignState, CloseOutcome, ClosePolicy, Remediation};
    use steward_server::store::Store;

    const ITEMS: usize = 300;
    let store = Store::open(url, 4).await.unwrap();
    let app = crate::common::TestApp::new(&store).await;
    let holders = admin_holders(&app, "closing", ITEMS, &[]).await;
    let due = chrono::Utc::now() + chrono::Duration::days(14);
    let campaign = open_campaign(&app, "closing review", due, ClosePolicy::Revoke).await;
    assert_eq!(campaign.items, ITEMS as u64);
    let token = app.token(Role::Admin, &[Scope::CampaignsWrite]).await;
    let removals_before = audit_count(&store, "entitlement.remove").await;

    let keys = dir.join("keys");
    let (mut server, addr) = serve_replica(url, &keys);
    let close = {
        let path = format!("/api/v1/campaigns/{}/close", campaign.id);
        std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(&addr).unwrap();
            write!(
                stream,
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            response
        })
    };
    // The close commits first, then carries out the revocations one item at a time.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let state = store
            .find_campaign(campaign.id)
            .await
            .unwrap()
            .unwrap()
            .state;
        if state == CampaignState::Closed {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the close never committed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    let reply = close.join().unwrap();
    assert!(
        reply.is_empty(),
        "the close finished before the kill: raise ITEMS ({reply})"
    );

    let items = store.all_campaign_items(campaign.id).await.unwrap();
    assert_eq!(items.len(), ITEMS);
    assert!(
        items
            .iter()
            .all(|i| i.close_outcome == Some(CloseOutcome::Revoked)),
        "the close is whole: every undecided item has its outcome"
    );
    let pending = items
        .iter()
        .filter(|i| i.remediation == Remediation::Pending)
        .count();
    eprintln!(
        "campaign close: {} of {ITEMS} items carried out at the kill",
        ITEMS - pending
    );
    assert!(
        pending > 0,
        "every item was carried out before the kill: raise ITEMS"
    );
    for item in items.iter().filter(|i| i.remediation == Remediation::Done) {
        let left = store.entitlements_of(item.identity_id).await.unwrap();
        assert!(
            left.iter().all(|e| e.removed_at.is_some()),
            "item {} is done but its entitlement is still there",
            item.id
        );
    }

    // A restarted server starts on this database.
    let (restarted, addr) = serve_replica(url, &keys);
    assert_eq!(http_get(&addr, "/readyz").0, 200);
    stop(restarted);
    // The scheduler carries out what a close left pending once it is ten minutes old.
    let later = chrono::Utc::now() + chrono::Duration::minutes(11);
    while app.services.campaigns.tick(later).await.unwrap().remediated > 0 {}

    let items = store.all_campaign_items(campaign.id).await.unwrap();
    assert!(
        items.iter().all(|i| i.remediation == Remediation::Done),
        "{:?}",
        items
            .iter()
            .filter(|i| i.remediation != Remediation::Done)
            .map(|i| (&i.remediation, &i.remediation_note))
            .collect::<Vec<_>>()
    );
    for id in &holders {
        let left = store.entitlements_of(*id).await.unwrap();
        assert!(
            left.iter().all(|e| e.removed_at.is_some()),
            "{id} kept its entitlement"
        );
    }
    assert_eq!(
        audit_count(&store, "entitlement.remove").await - removals_before,
        ITEMS,
        "each entitlement removed once"
    );
    assert_eq!(
        audit_count(&store, "campaign.remediate").await,
        ITEMS,
        "one remediation event per item"
    );
    assert_eq!(store.verify_audit().await.unwrap().first_broken, None);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_campaign_close_leaves_nothing_half_done() {
    on_each_database(|url, dir| async move {
        a_campaign_close_killed_midway_finishes_once(&url, &dir).await
    })
    .await;
}

/// Deletes the newest `n` audit events as someone with the database's keys could: the
/// append-only triggers dropped first.
async fn cut_off_newest_events(url: &str, n: i64) {
    let store = steward_server::store::Store::open(url, 2).await.unwrap();
    match &store {
        steward_server::store::Store::Sqlite(s) => {
            for sql in [
                "DROP TRIGGER audit_events_no_delete".to_owned(),
                format!("DELETE FROM audit_events WHERE seq > (SELECT MAX(seq) - {n} FROM audit_events)"),
            ] {
                sqlx::query(&sql).execute(&s.writer).await.unwrap();
            }
        }
        steward_server::store::Store::Postgres(s) => {
            for sql in [
                "DROP TRIGGER audit_events_no_update_delete ON audit_events".to_owned(),
                format!("DELETE FROM audit_events WHERE seq > (SELECT MAX(seq) - {n} FROM audit_events)"),
            ] {
                sqlx::query(&sql).execute(&s.writer).await.unwrap();
            }
        }
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_checkpoint_shows_the_newest_audit_events_cut_off() {
    on_each_database(|url, dir| async move {
        let keys = dir.join(format!("keys-{}", uuid::Uuid::new_v4().simple()));
        let run = |args: &[&str]| {
            steward()
                .args(args)
                .env("DATABASE_URL", &url)
                .env("STEWARD_SIGNING_KEY_DIR", &keys)
                .output()
                .unwrap()
        };
        assert!(run(&["migrate"]).status.success());
        let add = steward()
            .args(["demo", "--identities", "3"])
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(add.status.success(), "{add:?}");
        let file = dir.join("checkpoint.json");
        let taken = run(&["audit", "checkpoint", "--out", file.to_str().unwrap()]);
        assert!(taken.status.success(), "{taken:?}");
        let checkpoint: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert!(checkpoint["signature"].as_str().unwrap().split('.').count() == 3);

        let verify = || run(&["audit", "verify", "--checkpoint", file.to_str().unwrap()]);
        let intact = verify();
        assert!(intact.status.success(), "{intact:?}");
        assert!(String::from_utf8_lossy(&intact.stdout).contains("still holds checkpoint event"));

        // A forged checkpoint (its text changed) is refused.
        let mut forged = checkpoint.clone();
        forged["seq"] = serde_json::json!(1);
        let forged_file = dir.join("forged.json");
        std::fs::write(&forged_file, forged.to_string()).unwrap();
        let refused = run(&[
            "audit",
            "verify",
            "--checkpoint",
            forged_file.to_str().unwrap(),
        ]);
        assert_eq!(refused.status.code(), Some(1));

        // The newest two events cut off: the chain alone still verifies, the
        // checkpoint does not.
        cut_off_newest_events(&url, 2).await;
        let chain_only = run(&["audit", "verify"]);
        assert!(chain_only.status.success(), "{chain_only:?}");
        let caught = verify();
        assert_eq!(caught.status.code(), Some(1), "{caught:?}");
        assert!(
            String::from_utf8_lossy(&caught.stdout).contains("truncated"),
            "{}",
            String::from_utf8_lossy(&caught.stdout)
        );
    })
    .await;
}

/// The runtime role of docs/postgres-runtime-role.sql, applied to a fresh database: it
/// may append to the audit trail and read it, and nothing more there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_postgres_runtime_role_only_appends_to_the_audit_trail() {
    use sqlx::{Connection, Executor};
    let Some(pg) = crate::common::FreshPostgres::create().await else {
        crate::common::postgres_skipped();
        return;
    };
    let store = steward_server::store::Store::open(&pg.url, 2)
        .await
        .unwrap();
    store.close().await;
    let role = format!("steward_rt_{}", uuid::Uuid::new_v4().simple());
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/postgres-runtime-role.sql"
    ))
    .unwrap()
    .replace("steward_runtime", &role);
    let mut admin = sqlx::PgConnection::connect(&pg.url).await.unwrap();
    admin.execute(sqlx::raw_sql(&script)).await.unwrap();
    admin
        .execute(format!("ALTER ROLE {role} LOGIN").as_str())
        .await
        .unwrap();
    let as_runtime = {
        let (base, _) = pg.url.split_once("://").unwrap();
        let rest = pg
            .url
            .split_once('@')
            .map_or(pg.url.split_once("://").unwrap().1, |(_, r)| r);
        format!("{base}://{role}@{rest}")
    };
    let store = steward_server::store::Store::open(&as_runtime, 2)
        .await
        .unwrap();
    // It works as Steward does: an event appended and read back.
    let event = steward_domain::audit::NewAuditEvent::new(
        "system:test",
        steward_domain::audit::AuditAction::IdentityUpdate,
        "x",
        serde_json::json!({}),
    );
    let appended = store.append_audit(&event).await.unwrap();
    assert!(store.audit_event(appended.seq).await.unwrap().is_some());
    store.close().await;
    // Even with the triggers gone, it cannot change or delete events.
    admin
        .execute("DROP TRIGGER audit_events_no_update_delete ON audit_events")
        .await
        .unwrap();
    let mut runtime = sqlx::PgConnection::connect(&as_runtime).await.unwrap();
    for sql in [
        "UPDATE audit_events SET actor = 'someone else'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let error = runtime.execute(sql).await.unwrap_err().to_string();
        assert!(error.contains("permission denied"), "{sql}: {error}");
    }
    runtime.close().await.unwrap();
    admin
        .execute(format!("DROP OWNED BY {role}; ").as_str())
        .await
        .unwrap();
    admin.close().await.unwrap();
    pg.drop_database().await;
    let mut cluster = sqlx::PgConnection::connect(&std::env::var("STEWARD_TEST_PG_URL").unwrap())
        .await
        .unwrap();
    cluster
        .execute(format!("DROP ROLE IF EXISTS {role}").as_str())
        .await
        .unwrap();
}

#[test]
fn help_never_prints_the_database_urls_password() {
    let output = steward()
        .args(["serve", "--help"])
        .env(
            "DATABASE_URL",
            "postgres://steward:hunter2@db.internal/steward",
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--database-url"), "{help}");
    assert!(!help.contains("hunter2"), "{help}");
}
