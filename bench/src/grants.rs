//! Just-in-time grant benchmarks (`steward-bench --scenarios grants`): a burst of
//! grants that all expire at the same moment, and grant requests through the HTTP API
//! on loopback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use steward_domain::auth::{Role, Scope};
use steward_domain::grants::{ApprovalMode, PolicyDraft, Requesters};
use steward_domain::tokens::NewTokenRequest;
use uuid::Uuid;

use steward_server::services::Services;
use steward_server::store::write::Statement;
use steward_server::store::Store;

pub(crate) const BENCH_ADMIN: &str = "bench-admin@steward.local";
pub(crate) const BENCH_PASSWORD: &str = "grant benchmark password";
/// Concurrent API clients.
pub const CONCURRENCY: usize = 32;

/// What the grant benchmark measured.
#[derive(Debug, Clone)]
pub struct GrantTimings {
    pub burst: u64,
    pub expired: u64,
    pub expire_took: Duration,
    pub requests: u64,
    pub request_errors: u64,
    pub requests_took: Duration,
}

impl GrantTimings {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.requests_took.as_secs_f64().max(f64::EPSILON)
    }
}

fn store_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The benchmarks' own admin (created on first use), signed in.
pub(crate) async fn bench_admin(
    store: &Store,
    services: &Services,
) -> anyhow::Result<steward_domain::auth::Principal> {
    if store.find_user_by_email(BENCH_ADMIN).await?.is_none() {
        services
            .auth
            .add_user(
                "system:bench",
                BENCH_ADMIN,
                Some("Bench Admin"),
                Role::Admin,
                BENCH_PASSWORD,
            )
            .await
            .map_err(store_error)?;
    }
    services
        .auth
        .login_local(BENCH_ADMIN, BENCH_PASSWORD)
        .await
        .map_err(store_error)
}

/// A one-day API token of the benchmark admin with `scopes`, named after the benchmark.
pub(crate) async fn bench_token(
    services: &Services,
    admin: &steward_domain::auth::Principal,
    name: &str,
    scopes: Vec<Scope>,
) -> anyhow::Result<String> {
    Ok(services
        .tokens
        .create(
            Some(admin),
            &NewTokenRequest {
                name: format!("{name}-{}", Uuid::now_v7()),
                scopes,
                expires_in_days: 1,
                agent_id: None,
                environment: None,
            },
        )
        .await
        .map_err(store_error)?
        .token)
}

/// The whole application served on a free loopback port, until the handle is aborted.
pub(crate) async fn serve_loopback(
    services: &Services,
) -> anyhow::Result<(
    std::net::SocketAddr,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let security = steward_server::web::auth::WebSecurity {
        public_origin: format!("http://{addr}"),
        secure_cookies: false,
        session_idle: chrono::Duration::minutes(30),
        session_max_age: chrono::Duration::hours(12),
        limits: steward_server::web::limits::RequestLimits {
            logins_per_ip_per_minute: 1_000_000,
            ..steward_server::web::limits::RequestLimits::default()
        },
    };
    let options = steward_server::web::leptos_options(addr, std::path::Path::new("target/site"));
    let app = steward_server::web::router(services.clone(), security, options);
    Ok((
        addr,
        tokio::spawn(async move { steward_server::web::serve(listener, app).await }),
    ))
}

/// The first entitlement of each of the first `limit` identities with entitlements (by
/// id), made a just-in-time `bench-db:admin` entitlement (so one policy covers them
/// all), with whether the identity is active (only active identities get grants). Only
/// those are rewritten, so a large register shared with other benchmarks keeps the rest
/// of its entitlements as seeded.
async fn bench_entitlements(
    store: &Store,
    limit: usize,
) -> anyhow::Result<Vec<(Uuid, Uuid, bool)>> {
    // A read only the benchmark needs: through the store's reader pool, not a store
    // method, so that the product carries no benchmark queries.
    const ENTITLEMENTS: &str = "SELECT e.identity_id, e.id, i.status FROM entitlements e \
         JOIN identities i ON i.id = e.identity_id \
         WHERE e.removed_at IS NULL ORDER BY e.identity_id, e.id";
    let all: Vec<(Uuid, Uuid, String)> = match store {
        Store::Sqlite(s) => sqlx::query_as(ENTITLEMENTS).fetch_all(&s.reader).await?,
        Store::Postgres(s) => sqlx::query_as(ENTITLEMENTS).fetch_all(&s.reader).await?,
    };
    let mut pairs: Vec<(Uuid, Uuid, bool)> = Vec::new();
    for (identity, entitlement, status) in all {
        if pairs.last().is_none_or(|(last, _, _)| *last != identity) {
            pairs.push((identity, entitlement, status == "active"));
        }
    }
    pairs.truncate(limit);
    for chunk in pairs.chunks(1000) {
        let list = vec!["?"; chunk.len()].join(", ");
        let mut statement = Statement::positional(format!(
            "UPDATE entitlements SET resource = 'bench-db', action = 'admin', \
             grant_type = 'just_in_time' WHERE id IN ({list})"
        ));
        for (_, entitlement, _) in chunk {
            statement = statement.bind(*entitlement);
        }
        store
            .write(&[statement], |_| Vec::new())
            .await
            .map_err(store_error)?;
    }
    Ok(pairs)
}

/// The expiry burst the goal names: one grant for each of this many identities, also
/// on a larger register.
pub const BURST: u64 = 100_000;

/// Measures expiring `burst` grants at once, then `requests` grant requests through
/// the API (each for another identity).
pub async fn measure_grants(
    store: &Store,
    services: &Services,
    burst: u64,
    requests: u64,
) -> anyhow::Result<GrantTimings> {
    // The benchmark's own admin and policy.
    let admin = bench_admin(store, services).await?;
    let policies = services
        .ports()
        .grants
        .policies(Some(&admin))
        .await
        .map_err(store_error)?;
    let policy = match policies
        .into_iter()
        .find(|p| p.draft.resource == "bench-db")
    {
        Some(p) => p,
        None => services
            .ports()
            .grants
            .create_policy(
                Some(&admin),
                &PolicyDraft {
                    name: "benchmark".into(),
                    resource: "bench-db".into(),
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
            .map_err(store_error)?,
    };
    // A previous run's grants are ended, so every entitlement is free to request.
    store
        .write(
            &[Statement::new(
                "UPDATE grants SET state = 'expired', ended_at = $1 WHERE state IN ('pending', 'active')",
            )
            .bind(Utc::now())],
            |_| Vec::new(),
        )
        .await
        .map_err(store_error)?;
    let pairs = bench_entitlements(store, usize::try_from(burst).unwrap_or(usize::MAX)).await?;
    let active: Vec<(Uuid, Uuid)> = pairs
        .iter()
        .filter(|(_, _, active)| *active)
        .map(|(i, e, _)| (*i, *e))
        .collect();
    let burst = burst.min(pairs.len() as u64);
    let requests = requests.min(active.len() as u64);

    // 1. The burst: active grants all expiring at the same moment, written directly.
    let at = Utc::now() - chrono::Duration::seconds(1);
    for chunk in pairs[..burst as usize].chunks(500) {
        let rows = vec!["(?, ?, ?, ?, 'bench-db', 'admin', 'admin', 'automatic', 1, 'system:bench', ?, 'active', ?, ?)"; chunk.len()].join(", ");
        let mut statement = Statement::positional(format!(
            "INSERT INTO grants (id, identity_id, entitlement_id, policy_id, resource, action, privilege, \
             approval_mode, minutes, requested_by, requested_at, state, starts_at, expires_at) VALUES {rows}"
        ));
        for (identity, entitlement, _) in chunk {
            statement = statement
                .bind(Uuid::now_v7())
                .bind(*identity)
                .bind(*entitlement)
                .bind(policy.id)
                .bind(at - chrono::Duration::minutes(1))
                .bind(at - chrono::Duration::minutes(1))
                .bind(at);
        }
        store
            .write(&[statement], |_| Vec::new())
            .await
            .map_err(store_error)?;
    }
    store.analyze().await?;
    let started = Instant::now();
    let expired = services
        .grants
        .expire_due(Utc::now())
        .await
        .map_err(store_error)?;
    let expire_took = started.elapsed();

    // 2. Requests through the API on loopback, CONCURRENCY at a time.
    let token = bench_token(services, &admin, "bench", Scope::ALL.to_vec()).await?;
    let (addr, server) = serve_loopback(services).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()?;
    let url = format!("http://{addr}/api/v1/grants");
    let work: Arc<Vec<(Uuid, Uuid)>> = Arc::new(active[..requests as usize].to_vec());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, token, work, next, errors) = (
            client.clone(),
            url.clone(),
            token.clone(),
            work.clone(),
            next.clone(),
            errors.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((identity, entitlement)) = work.get(i) else { break };
                let body = format!(
                    r#"{{"identity_id":"{identity}","entitlement_id":"{entitlement}","minutes":30}}"#
                );
                let ok = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED);
                if !ok {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for worker in workers {
        worker.await?;
    }
    let requests_took = started.elapsed();
    server.abort();
    Ok(GrantTimings {
        burst,
        expired,
        expire_took,
        requests,
        request_errors: errors.load(std::sync::atomic::Ordering::Relaxed),
        requests_took,
    })
}

/// The grant benchmark's Markdown table.
pub fn grants_markdown(database: &str, identities: i64, t: &GrantTimings) -> String {
    let mark = |ok: bool| if ok { "✅" } else { "❌" };
    let mut out = format!(
        "#### {database} — {identities} identities\n\n\
         | Scenario | result | goal | |\n|---|---:|---:|---|\n"
    );
    out.push_str(&format!(
        "| expiry burst: {} grants expiring at the same moment ({} expired, each with its audit event) | {:.2} s | 10 s | {} |\n",
        t.burst,
        t.expired,
        t.expire_took.as_secs_f64(),
        mark(t.expired == t.burst && t.expire_took.as_secs_f64() < 10.0)
    ));
    out.push_str(&format!(
        "| grant requests through the API on loopback ({} requests, {CONCURRENCY} clients, automatic approval, {} errors) | {:.0} /s | 1,000 /s | {} |\n",
        t.requests,
        t.request_errors,
        t.requests_per_second(),
        mark(t.request_errors == 0 && t.requests_per_second() >= 1000.0)
    ));
    out
}
