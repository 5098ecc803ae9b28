//! `steward bench --scenarios authz`: runtime authorization with 10,000 agents loaded.
//! In-process decisions (the service's cached path: cache lookup, change-feed check,
//! Cedar) and bare Cedar evaluation of the same requests, then `POST
//! /api/v1/authorize` over loopback under `wrk` at several concurrencies, with the
//! decision log on and checked complete afterwards.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use steward_domain::auth::Scope;
use steward_domain::cedar::EvalContext;
use steward_domain::policy::{AuthorizeRequest, AuthzAction, RequestContext, ResourceRef};
use steward_domain::tokens::NewTokenRequest;
use uuid::Uuid;

use crate::bench::nearest_rank as percentile;
use crate::services::Services;
use crate::store::write::Statement;
use crate::store::Store;

/// Agents asking over HTTP (each with its own token and session).
const HTTP_AGENTS: usize = 200;
/// Tools of the benchmark agents' allowlists; requests ask for these and one more.
const TOOLS: [&str; 2] = ["jira.search", "github.create_pr"];

/// One `wrk` run.
#[derive(Debug, Clone)]
pub struct WrkRun {
    pub connections: u32,
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Responses that were not 200.
    pub errors: u64,
}

/// What the authorization benchmark measured.
#[derive(Debug, Clone)]
pub struct AuthzTimings {
    pub agents: usize,
    /// Building every agent's decision state from the store.
    pub warm: Duration,
    /// Per-decision times, sorted: the service's cached path, and bare Cedar.
    pub decide: Vec<Duration>,
    pub bare: Vec<Duration>,
    pub http: Vec<WrkRun>,
    /// Decisions the server answered over HTTP and decisions found in the log after
    /// the flush.
    pub answered: u64,
    pub logged: u64,
    /// Resident memory of the process at the end, in MiB.
    pub rss_mib: f64,
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The `n`th benchmark request of an agent.
pub(crate) fn request(agent: Uuid, environment: &str, n: usize) -> AuthorizeRequest {
    // Two in three ask for a tool on the allowlist; the rest are denied by default.
    let tool = if n % 3 == 2 {
        "shell.exec"
    } else {
        TOOLS[n % 2]
    };
    AuthorizeRequest {
        principal: agent,
        action: "call_tool".into(),
        resource: ResourceRef {
            resource_type: "Tool".into(),
            id: tool.into(),
        },
        context: RequestContext {
            task: "benchmark".into(),
            environment: environment.into(),
            session_id: Some(format!("bench-{}", n % 50)),
            ..RequestContext::default()
        },
    }
}

/// The benchmark's agents, with limits set (written directly: set-up, not measured).
pub(crate) async fn agents(store: &Store, count: usize) -> anyhow::Result<Vec<(Uuid, String)>> {
    let agents = store.bench_agents(count as i64).await?;
    let now = Utc::now();
    for chunk in agents.chunks(500) {
        let rows =
            vec!["(?, ?, '[]', 600, 10000000, 8, 'system:bench', ?)"; chunk.len()].join(", ");
        let mut statement = Statement::positional(format!(
            "INSERT INTO agent_limits (identity_id, tools, environments, max_session_minutes, \
             max_calls, max_delegation_depth, updated_by, updated_at) VALUES {rows} \
             ON CONFLICT (identity_id) DO NOTHING"
        ));
        let tools = serde_json::to_string(&TOOLS)?;
        for (id, _) in chunk {
            statement = statement.bind(*id).bind(tools.clone()).bind(now);
        }
        store
            .write(&[statement], |_| Vec::new())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(agents)
}

/// Three `POST /api/v1/authorize` requests of each agent as `wrk.format(…)` Lua
/// expressions, each agent with a token of its own (made now).
pub(crate) async fn authorize_requests(
    services: &Services,
    admin: &steward_domain::auth::Principal,
    agents: &[(Uuid, String)],
) -> anyhow::Result<Vec<String>> {
    let mut calls = Vec::with_capacity(agents.len() * 3);
    for (n, (id, environment)) in agents.iter().enumerate() {
        let token = services
            .tokens
            .create(
                Some(admin),
                &NewTokenRequest {
                    name: format!("bench-authz-{}", Uuid::now_v7()),
                    scopes: vec![Scope::AuthzDecide],
                    expires_in_days: 1,
                    agent_id: Some(*id),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .token;
        for k in 0..3 {
            let body = serde_json::to_string(&request(*id, environment, n * 3 + k))?;
            calls.push(format!(
                "wrk.format(\"POST\", \"/api/v1/authorize\", \
                 {{[\"Authorization\"] = \"Bearer {token}\", [\"Content-Type\"] = \"application/json\"}}, {body:?})"
            ));
        }
    }
    Ok(calls)
}

/// One `wrk -t1 --latency` run of `script` against `addr`.
pub(crate) async fn run_wrk(
    script: &std::path::Path,
    addr: std::net::SocketAddr,
    connections: u32,
    seconds: u32,
) -> anyhow::Result<WrkRun> {
    let output = tokio::process::Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://{addr}"))
        .output()
        .await
        .context("running wrk (install it: apt-get install wrk)")?;
    anyhow::ensure!(
        output.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_wrk(connections, &String::from_utf8_lossy(&output.stdout))
}

/// Parses `wrk --latency` output.
fn parse_wrk(connections: u32, output: &str) -> anyhow::Result<WrkRun> {
    let duration_ms = |text: &str| -> Option<f64> {
        let text = text.trim();
        let split = text.find(|c: char| c.is_ascii_alphabetic())?;
        let (number, unit) = text.split_at(split);
        let number: f64 = number.parse().ok()?;
        Some(match unit {
            "us" => number / 1000.0,
            "ms" => number,
            "s" => number * 1000.0,
            "m" => number * 60_000.0,
            _ => return None,
        })
    };
    let mut run = WrkRun {
        connections,
        requests: 0,
        per_second: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        errors: 0,
    };
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => run.p50_ms = duration_ms(value).context("wrk p50")?,
            ["99%", value] => run.p99_ms = duration_ms(value).context("wrk p99")?,
            ["Requests/sec:", value] => run.per_second = value.parse()?,
            [count, "requests", "in", ..] => run.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => run.errors += count.parse::<u64>()?,
            ["Socket", "errors:", ..] => {
                run.errors += words
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            _ => {}
        }
    }
    anyhow::ensure!(run.requests > 0, "wrk printed no result:\n{output}");
    Ok(run)
}

pub async fn measure_authz(
    store: &Store,
    services: &Services,
    agent_count: usize,
    decisions: usize,
    http_seconds: u32,
) -> anyhow::Result<AuthzTimings> {
    let authz = services.authz.clone();
    let agents = agents(store, agent_count).await?;
    anyhow::ensure!(!agents.is_empty(), "the register holds no active agent");

    // 1. Every agent's decision state, built from the store.
    services.feed.catch_up().await?;
    let started = Instant::now();
    let mut states = Vec::with_capacity(agents.len());
    for (id, _) in &agents {
        states.push(authz.state(*id).await?);
    }
    let warm = started.elapsed();

    // 2. In-process decisions and bare Cedar, the same requests.
    eprintln!(
        "bench: {} decision states loaded in {:.1} s; timing decisions",
        states.len(),
        warm.as_secs_f64()
    );
    let requests: Vec<AuthorizeRequest> = (0..decisions)
        .map(|n| {
            let (id, environment) = &agents[(n * 7919) % agents.len()];
            request(*id, environment, n)
        })
        .collect();
    let now = Utc::now();
    let mut decide = Vec::with_capacity(decisions);
    for (n, r) in requests.iter().enumerate() {
        let started = Instant::now();
        let decided = authz.decide(r, (60, (n % 1000) as i64 + 1), now).await?;
        decide.push(started.elapsed());
        std::hint::black_box(decided.evaluation.decision);
    }
    let engine = authz.engine();
    let mut bare = Vec::with_capacity(decisions);
    for (n, r) in requests.iter().enumerate() {
        let state = &states[(n * 7919) % agents.len()];
        let resource = format!("Tool::\"{}\"", r.resource.id);
        let context = EvalContext::of_request(r, (60, (n % 1000) as i64 + 1), now);
        let started = Instant::now();
        let evaluation = engine.evaluate(
            &state.policies,
            &state.entities,
            &state.facts,
            AuthzAction::CallTool,
            &resource,
            &context,
        )?;
        bare.push(started.elapsed());
        std::hint::black_box(evaluation.decision);
    }
    decide.sort();
    bare.sort();

    // 3. Over HTTP: tokens for some agents, and `wrk` cycling through their requests.
    let admin = crate::bench_grants::bench_admin(store, services).await?;
    let mut script = String::from("local requests = {}\n");
    for call in
        authorize_requests(services, &admin, &agents[..agents.len().min(HTTP_AGENTS)]).await?
    {
        writeln!(script, "requests[#requests + 1] = {call}")?;
    }
    script.push_str(
        "local i = 0\nrequest = function()\n  i = i + 1\n  return requests[(i % #requests) + 1]\nend\n",
    );
    std::fs::create_dir_all("target/bench")?;
    let script_path = std::path::Path::new("target/bench/authorize.lua");
    std::fs::write(script_path, script)?;

    let (addr, server) = crate::bench_grants::serve_loopback(services).await?;
    let before = (store.count_decisions().await?, authz.answered());
    let mut http = Vec::new();
    // A short warm-up, then one run per concurrency.
    for connections in [4_u32, 4, 8, 16, 32] {
        let seconds = if http.is_empty() { 2 } else { http_seconds };
        http.push(run_wrk(script_path, addr, connections, seconds).await?);
    }
    // Requests wrk left in flight when a run ended are still being answered: let them
    // finish before the log is flushed and counted.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.abort();
    authz.flush().await;
    // wrk does not count the requests still in flight when a run ends: the server's
    // own count is compared with the log.
    let answered = authz.answered() - before.1;
    let logged = u64::try_from(store.count_decisions().await? - before.0).unwrap_or(0);
    // The warm-up run is not reported.
    http.remove(0);
    Ok(AuthzTimings {
        agents: agents.len(),
        warm,
        decide,
        bare,
        http,
        answered,
        logged,
        rss_mib: rss_mib(),
    })
}

/// The authorization benchmark's Markdown.
pub fn authz_markdown(database: &str, identities: i64, t: &AuthzTimings) -> String {
    let mark = |ok: bool| if ok { "✅" } else { "❌" };
    let (decide50, decide99) = (percentile(&t.decide, 50.0), percentile(&t.decide, 99.0));
    let (bare50, bare99) = (percentile(&t.bare, 50.0), percentile(&t.bare, 99.0));
    let mut out = format!(
        "#### {database} — {identities} identities, {} agents with limits loaded\n\n\
         | Scenario | p50 | p99 | goal | |\n|---|---:|---:|---:|---|\n",
        t.agents
    );
    out.push_str(&format!(
        "| loading every agent's decision state from the store | {:.2} s total | | | |\n",
        t.warm.as_secs_f64()
    ));
    out.push_str(&format!(
        "| in-process decision ({} requests: cache, change-feed check, Cedar) | {:.1} µs | {:.1} µs | p50 < 50 µs | {} |\n",
        t.decide.len(),
        micros(decide50),
        micros(decide99),
        mark(micros(decide50) < 50.0)
    ));
    out.push_str(&format!(
        "| bare Cedar evaluation of the same requests | {:.1} µs | {:.1} µs | | |\n\n",
        micros(bare50),
        micros(bare99)
    ));
    out.push_str(
        "`POST /api/v1/authorize` on loopback (`wrk -t1`, one run per concurrency; token authentication, \
         session call numbers, decision and log):\n\n\
         | connections | requests | requests/s | p50 | p99 | errors | overhead over bare Cedar (p50) | goal: p99 < 5 ms at ≥ 5,000/s |\n\
         |---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for run in &t.http {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {} | {:.0}× | {} |\n",
            run.connections,
            run.requests,
            run.per_second,
            run.p50_ms,
            run.p99_ms,
            run.errors,
            run.p50_ms * 1000.0 / micros(bare50).max(0.001),
            mark(run.errors == 0 && run.per_second >= 5000.0 && run.p99_ms < 5.0)
        ));
    }
    out.push_str(&format!(
        "\nDecision log: {} of {} answered decisions written after the flush {}. Server memory at the end: {:.0} MiB resident.\n",
        t.logged,
        t.answered,
        mark(t.logged == t.answered),
        t.rss_mib
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let output = "Running 10s test @ http://127.0.0.1:1234\n  1 threads and 8 connections\n\
            Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency     1.20ms  300.00us   9.00ms   90.00%\n\
            Latency Distribution\n     50%  1.10ms\n     75%    1.30ms\n     90%    1.60ms\n     99%  850.00us\n\
            61234 requests in 10.00s, 12.00MB read\n  Non-2xx or 3xx responses: 3\nRequests/sec:   6123.40\n";
        let run = parse_wrk(8, output).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.requests, 61234);
        assert!((run.per_second - 6123.4).abs() < 1e-9);
        assert!((run.p50_ms - 1.1).abs() < 1e-9);
        assert!((run.p99_ms - 0.85).abs() < 1e-9);
        assert_eq!(run.errors, 3);
        assert!(parse_wrk(8, "nothing").is_err());
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&sorted, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_micros(99));
        assert_eq!(percentile::<Duration>(&[], 50.0), Duration::ZERO);
    }
}
