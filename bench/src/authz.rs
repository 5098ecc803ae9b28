//! `steward-bench --scenarios authz`: runtime authorization with 10,000 agents loaded.
//! In-process decisions (the service's cached path: cache lookup, change-feed check,
//! Cedar) and bare Cedar evaluation of the same requests, then `POST
//! /api/v1/authorize` over loopback under `wrk` at several concurrencies, with the
//! decision log on and checked complete afterwards. Every timing is repeated (rounds)
//! and the report shows the median round beside every round's result.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use steward_domain::audit::AuditAction;
use steward_domain::auth::Scope;
use steward_domain::authz::cedar::EvalContext;
use steward_domain::authz::{AuthorizeRequest, AuthzAction, RequestContext, ResourceRef};
use steward_domain::tokens::NewTokenRequest;
use uuid::Uuid;

use crate::inventory::nearest_rank as percentile;
use steward_server::services::Services;
use steward_server::store::write::Statement;
use steward_server::store::Store;

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
    /// Per-decision times of each round, sorted: the service's cached path, and bare
    /// Cedar.
    pub decide: Vec<Vec<Duration>>,
    pub bare: Vec<Vec<Duration>>,
    /// Every timed `wrk` run, round after round (each round runs every concurrency).
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
    // The tools' data sensitivity is registered (unregistered ones count as restricted,
    // which every agent with a lower ceiling would be denied): the decisions measured
    // stay those of the allowlist.
    for tool in TOOLS.iter().chain(["shell.exec"].iter()) {
        let draft = steward_domain::sensitivity::SensitivityDraft {
            scope: steward_domain::sensitivity::SensitivityScope::Tool,
            id: (*tool).to_owned(),
            sensitivity: steward_domain::identity::Sensitivity::Public,
        };
        let event = steward_domain::audit::NewAuditEvent::new(
            "system:bench",
            AuditAction::AuthzSensitivitySet,
            format!("tool:{tool}"),
            serde_json::json!({ "after": "public" }),
        );
        store
            .set_sensitivity(&draft, "system:bench", now, &event)
            .await?;
    }
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
                    environment: None,
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

/// Concurrencies of the HTTP runs.
const CONNECTIONS: [u32; 4] = [4, 8, 16, 32];

/// The round whose `key` is the median (the upper one of an even count); `None` for
/// no rounds.
fn median_by<T>(rounds: &[T], key: impl Fn(&T) -> f64) -> Option<&T> {
    let mut ordered: Vec<&T> = rounds.iter().collect();
    ordered.sort_by(|a, b| key(a).total_cmp(&key(b)));
    ordered.get(ordered.len() / 2).copied()
}

/// Gives `agent_count` agents limits and loads their decision states (once), times
/// `decisions` requests through the service and through bare Cedar in each of
/// `rounds` rounds (at least 1), then runs `POST /api/v1/authorize` under `wrk` for
/// `http_seconds` at every concurrency in each round.
pub async fn measure_authz(
    store: &Store,
    services: &Services,
    agent_count: usize,
    decisions: usize,
    http_seconds: u32,
    rounds: usize,
) -> anyhow::Result<AuthzTimings> {
    let rounds = rounds.max(1);
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
    let engine = authz.engine();
    let (mut decide, mut bare) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        let mut times = Vec::with_capacity(decisions);
        for (n, r) in requests.iter().enumerate() {
            let started = Instant::now();
            let decided = authz.decide(r, (60, (n % 1000) as i64 + 1), now).await?;
            times.push(started.elapsed());
            std::hint::black_box(decided.evaluation.decision);
        }
        times.sort();
        decide.push(times);
        let mut times = Vec::with_capacity(decisions);
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
            times.push(started.elapsed());
            std::hint::black_box(evaluation.decision);
        }
        times.sort();
        bare.push(times);
    }

    // 3. Over HTTP: tokens for some agents, and `wrk` cycling through their requests.
    let admin = crate::grants::bench_admin(store, services).await?;
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

    let (addr, server) = crate::grants::serve_loopback(services).await?;
    let before = (store.count_decisions().await?, authz.answered());
    // A short warm-up (not reported), then rounds of one run per concurrency: a slow
    // stretch of the machine then touches one run of each, not every run of one.
    run_wrk(script_path, addr, CONNECTIONS[0], 2).await?;
    let mut http = Vec::with_capacity(rounds * CONNECTIONS.len());
    for round in 1..=rounds {
        eprintln!("bench: authorize over HTTP, round {round} of {rounds}");
        for connections in CONNECTIONS {
            http.push(run_wrk(script_path, addr, connections, http_seconds).await?);
        }
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

/// Every round's value, as `cell` writes it, separated by commas.
fn listed<T>(rounds: &[T], cell: impl Fn(&T) -> String) -> String {
    rounds.iter().map(cell).collect::<Vec<_>>().join(", ")
}

/// The authorization benchmark's Markdown: for each timing, the median round (its
/// p50 for decisions, its p99 for HTTP runs: the number the goal is about) and every
/// round's value beside it.
pub fn authz_markdown(database: &str, identities: i64, t: &AuthzTimings) -> String {
    let mark = |ok: bool| if ok { "✅" } else { "❌" };
    let p50 = |times: &Vec<Duration>| micros(percentile(times, 50.0));
    let every = |rounds: &[Vec<Duration>]| listed(rounds, |times| format!("{:.1}", p50(times)));
    let (Some(decide), Some(bare)) = (median_by(&t.decide, p50), median_by(&t.bare, p50)) else {
        return format!("#### {database} — no decision was timed\n");
    };
    let (decide50, decide99) = (p50(decide), micros(percentile(decide, 99.0)));
    let (bare50, bare99) = (p50(bare), micros(percentile(bare, 99.0)));
    let rounds = t.decide.len();
    let mut out = format!(
        "#### {database} — {identities} identities, {} agents with limits loaded\n\n\
         | Scenario | p50 (median round) | p99 | p50 of each of {rounds} rounds | goal | |\n\
         |---|---:|---:|---:|---:|---|\n",
        t.agents
    );
    out.push_str(&format!(
        "| loading every agent's decision state from the store (once) | {:.2} s total | | | | |\n",
        t.warm.as_secs_f64()
    ));
    out.push_str(&format!(
        "| in-process decision ({} requests: cache, change-feed check, Cedar) | {decide50:.1} µs | {decide99:.1} µs | {} µs | p50 < 50 µs | {} |\n",
        decide.len(),
        every(&t.decide),
        mark(decide50 < 50.0)
    ));
    out.push_str(&format!(
        "| bare Cedar evaluation of the same requests | {bare50:.1} µs | {bare99:.1} µs | {} µs | | |\n\n",
        every(&t.bare)
    ));
    out.push_str(&format!(
        "`POST /api/v1/authorize` on loopback (`wrk -t1`, {rounds} rounds of one run per concurrency; \
         each row is the round with the median p99; token authentication, session call numbers, \
         decision and log):\n\n\
         | connections | requests | requests/s | p50 | p99 (median round) | p99 of each round; requests/s | errors (all rounds) | overhead over bare Cedar (p50) | goal: p99 < 5 ms at ≥ 5,000/s |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    ));
    for connections in CONNECTIONS {
        let runs: Vec<&WrkRun> = t
            .http
            .iter()
            .filter(|run| run.connections == connections)
            .collect();
        let Some(run) = median_by(&runs, |run| run.p99_ms) else {
            continue;
        };
        let errors: u64 = runs.iter().map(|run| run.errors).sum();
        let p99s = listed(&runs, |run| format!("{:.2}", run.p99_ms));
        let rates = listed(&runs, |run| format!("{:.0}", run.per_second));
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {p99s} ms; {rates}/s | {errors} | {:.0}× | {} |\n",
            run.connections,
            run.requests,
            run.per_second,
            run.p50_ms,
            run.p99_ms,
            run.p50_ms * 1000.0 / bare50.max(0.001),
            mark(errors == 0 && run.per_second >= 5000.0 && run.p99_ms < 5.0)
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

    fn wrk_run(connections: u32, p99_ms: f64, per_second: f64) -> WrkRun {
        WrkRun {
            connections,
            requests: (per_second * 10.0) as u64,
            per_second,
            p50_ms: p99_ms / 5.0,
            p99_ms,
            errors: 0,
        }
    }

    #[test]
    fn the_median_round_is_the_middle_one_by_its_key() {
        let rounds = [3.0, 1.0, 2.0];
        assert_eq!(median_by(&rounds, |r| *r), Some(&2.0));
        assert_eq!(median_by(&[1.0, 4.0], |r: &f64| *r), Some(&4.0));
        assert_eq!(median_by(&[] as &[f64], |r| *r), None);
    }

    #[test]
    fn the_report_shows_each_concurrencys_median_round_and_every_round() {
        let times = |micros: u64| vec![Duration::from_micros(micros); 10];
        let timings = AuthzTimings {
            agents: 10,
            warm: Duration::from_secs(2),
            decide: vec![times(40), times(60), times(30)],
            bare: vec![times(20), times(25), times(21)],
            // Two rounds: the second is slower at 4 connections, the first at 8.
            http: vec![
                wrk_run(4, 3.0, 7000.0),
                wrk_run(8, 9.0, 6000.0),
                wrk_run(4, 4.5, 6500.0),
                wrk_run(8, 4.0, 8000.0),
            ],
            answered: 5,
            logged: 5,
            rss_mib: 100.0,
        };
        let report = authz_markdown("SQLite", 100, &timings);
        assert!(
            report.contains("| 40.0 µs | 40.0 µs | 40.0, 60.0, 30.0 µs | p50 < 50 µs | ✅ |"),
            "{report}"
        );
        assert!(
            report.contains("| 21.0 µs | 21.0 µs | 20.0, 25.0, 21.0 µs |"),
            "{report}"
        );
        // Of two rounds the upper one is the median: a run over the goal shows as one.
        assert!(
            report.contains(
                "| 4 | 65000 | 6500 | 0.90 ms | 4.50 ms | 3.00, 4.50 ms; 7000, 6500/s | 0 |"
            ),
            "{report}"
        );
        assert!(report.contains("| 8 | 60000 | 6000 | 1.80 ms | 9.00 ms | 9.00, 4.00 ms; 6000, 8000/s | 0 | 86× | ❌ |"), "{report}");
        assert!(!report.contains("| 16 |"), "{report}");
        assert!(
            report.contains("5 of 5 answered decisions written after the flush ✅"),
            "{report}"
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&sorted, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_micros(99));
        assert_eq!(percentile::<Duration>(&[], 50.0), Duration::ZERO);
    }
}
