//! `steward-bench --scenarios soak`: a bounded soak on loopback. The whole application
//! is served in this process and `wrk` sends one mixed load — signed-in pages, REST
//! reads, identity creations and `/api/v1/authorize` decisions — first for a short
//! reference run, then for the soak (10 minutes by default). The soak passes when its
//! p99 stays within twice the reference run's, no request fails, every answered
//! decision is in the log, and resident memory stays flat after the warm-up.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use steward_domain::auth::Scope;
use uuid::Uuid;

use crate::authz::{authorize_requests, run_wrk, WrkRun};
use crate::http::get;
use steward_server::services::Services;
use steward_server::store::Store;

/// Concurrent connections of both runs.
const CONNECTIONS: u32 = 8;
/// Agents asking for decisions, and identities whose pages are read.
const AGENTS: usize = 60;
/// Seconds between two memory samples.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// How long to soak, from the environment (documented in docs/benchmarks.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoakConfig {
    /// `STEWARD_SOAK_SECONDS` (default 600).
    pub seconds: u32,
    /// `STEWARD_SOAK_REFERENCE_SECONDS` (default 60): the short run the soak's p99 is
    /// compared with.
    pub reference_seconds: u32,
    /// `STEWARD_SOAK_WRITE` (default 1): one request in twenty creates an identity.
    pub write: bool,
}

impl SoakConfig {
    pub fn from_env() -> anyhow::Result<SoakConfig> {
        let number = |name: &str, default: u32| -> anyhow::Result<u32> {
            match std::env::var(name) {
                Ok(text) => text
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n >= 5)
                    .with_context(|| {
                        format!("{name} must be a whole number of seconds ≥ 5 (got '{text}')")
                    }),
                Err(_) => Ok(default),
            }
        };
        Ok(SoakConfig {
            seconds: number("STEWARD_SOAK_SECONDS", 600)?,
            reference_seconds: number("STEWARD_SOAK_REFERENCE_SECONDS", 60)?,
            write: std::env::var("STEWARD_SOAK_WRITE").map_or(true, |v| v.trim() != "0"),
        })
    }
}

/// The process's anonymous resident memory (heap and stacks: what a leak grows) and
/// its whole resident memory, which also counts the pages of the database file that
/// SQLite maps into memory — those grow with the file the soak writes to, and the
/// kernel drops them under pressure — in MiB; zeros where `/proc` is missing.
pub(crate) fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("RssAnon:"), field("VmRSS:"))
}

/// Memory over the soak: (seconds into the soak, anonymous resident MiB), and the whole
/// resident memory at the same moments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryTrace {
    pub samples: Vec<(f64, f64)>,
    pub resident: Vec<f64>,
}

/// What the trace says about flatness.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryVerdict {
    /// The highest sample of the first third after the warm-up, and of the last third.
    pub early_max: f64,
    pub late_max: f64,
    /// `late_max - early_max` (negative when memory went down).
    pub growth: f64,
    pub lowest: f64,
    pub highest: f64,
    pub flat: bool,
}

impl MemoryTrace {
    /// Memory is flat when the highest sample of the last third of the soak is no more
    /// than 10 % (at least 32 MiB: allocator noise) above the highest of the first third
    /// after the warm-up (the first fifth: caches and pools filling). A leak of a few
    /// hundred bytes per request over 10 minutes at hundreds of requests a second
    /// crosses that.
    pub fn verdict(&self) -> Option<MemoryVerdict> {
        let warm = self.samples.len() / 5;
        let steady: Vec<f64> = self.samples[warm..].iter().map(|s| s.1).collect();
        if steady.len() < 3 {
            return None;
        }
        let third = steady.len() / 3;
        let max = |xs: &[f64]| xs.iter().copied().fold(f64::MIN, f64::max);
        let early_max = max(&steady[..third]);
        let late_max = max(&steady[steady.len() - third..]);
        let growth = late_max - early_max;
        Some(MemoryVerdict {
            early_max,
            late_max,
            growth,
            lowest: self.samples.iter().map(|s| s.1).fold(f64::MAX, f64::min),
            highest: max(&self.samples.iter().map(|s| s.1).collect::<Vec<_>>()),
            flat: growth <= (early_max * 0.10).max(32.0),
        })
    }
}

/// What the soak measured.
#[derive(Debug, Clone)]
pub struct SoakReport {
    pub config: SoakConfig,
    pub reference: WrkRun,
    pub soak: WrkRun,
    pub memory: MemoryTrace,
    /// Decisions answered over HTTP, and found in the log after the flush.
    pub answered: u64,
    pub logged: u64,
}

impl SoakReport {
    /// The soak's p99 within twice the reference run's.
    pub fn p99_holds(&self) -> bool {
        self.soak.p99_ms <= 2.0 * self.reference.p99_ms
    }

    pub fn passed(&self) -> bool {
        self.p99_holds()
            && self.reference.errors == 0
            && self.soak.errors == 0
            && self.answered == self.logged
            && self.memory.verdict().is_some_and(|v| v.flat)
    }
}

/// A signed-in browser session of the benchmark admin, by the sign-in form.
pub(crate) async fn browser_session(addr: std::net::SocketAddr) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let reply = client
        .post(format!("http://{addr}/auth/login"))
        .header("origin", format!("http://{addr}"))
        .form(&[
            ("email", crate::grants::BENCH_ADMIN),
            ("password", crate::grants::BENCH_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await?;
    reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("steward_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .with_context(|| format!("signing in gave no session ({})", reply.status()))
}

/// The load's Lua script: blocks of twenty requests — twelve decisions, four REST reads
/// and four pages — cycling through the agents; with writes, every twentieth request
/// creates an identity instead (a new name each time).
fn script(
    decisions: &[String],
    identities: &[Uuid],
    cookie: &str,
    api_token: &str,
    write: bool,
) -> String {
    let bearer = format!("Bearer {api_token}");
    let mut out = String::from("local requests = {}\n");
    let mut decision = decisions.iter().cycle();
    for (n, id) in identities.iter().enumerate() {
        let mut block = Vec::with_capacity(20);
        block.extend(decision.by_ref().take(12).cloned());
        block.push(get(
            &format!("/api/v1/identities/{id}"),
            "Authorization",
            &bearer,
        ));
        block.push(get(
            "/api/v1/identities?limit=50&sort=-created",
            "Authorization",
            &bearer,
        ));
        block.push(get(
            &format!("/api/v1/identities/{id}/findings"),
            "Authorization",
            &bearer,
        ));
        block.push(get("/api/v1/posture/dashboard", "Authorization", &bearer));
        block.push(get(&format!("/identities/{id}"), "Cookie", cookie));
        block.push(get(
            if n % 2 == 0 {
                "/inventory"
            } else {
                "/inventory?class=ai"
            },
            "Cookie",
            cookie,
        ));
        block.push(get("/", "Cookie", cookie));
        block.push(get("/grants", "Cookie", cookie));
        for request in block {
            let _ = writeln!(out, "requests[#requests + 1] = {request}");
        }
    }
    let _ = writeln!(
        out,
        "local write = {write}\nlocal run = {:?}\nlocal expires = {:?}\nlocal headers = {{[\"Authorization\"] = {bearer:?}, [\"Content-Type\"] = \"application/json\"}}",
        Uuid::now_v7().simple().to_string(),
        // Within the machine-identity expiry policy.
        (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    out.push_str(
        "local i = 0\n\
         request = function()\n\
         \x20 i = i + 1\n\
         \x20 if write and i % 20 == 0 then\n\
         \x20   local body = string.format('{\"name\":\"soak-%s-%d\",\"kind\":\"service_account\",\"environment\":\"dev\",\"revocation_path\":\"delete it\",\"expires_at\":\"%s\"}', run, i, expires)\n\
         \x20   return wrk.format(\"POST\", \"/api/v1/identities\", headers, body)\n\
         \x20 end\n\
         \x20 return requests[(i % #requests) + 1]\n\
         end\n",
    );
    out
}

pub async fn measure_soak(
    store: &Store,
    services: &Services,
    config: SoakConfig,
) -> anyhow::Result<SoakReport> {
    let agents = crate::authz::agents(store, AGENTS).await?;
    anyhow::ensure!(!agents.is_empty(), "the register holds no active agent");
    let admin = crate::grants::bench_admin(store, services).await?;
    let decisions = authorize_requests(services, &admin, &agents).await?;
    let api_token = crate::grants::bench_token(
        services,
        &admin,
        "bench-soak",
        vec![Scope::InventoryRead, Scope::InventoryWrite],
    )
    .await?;

    let (addr, server) = crate::grants::serve_loopback(services).await?;
    let cookie = browser_session(addr).await?;
    let identities: Vec<Uuid> = agents.iter().map(|(id, _)| *id).collect();
    std::fs::create_dir_all("target/bench")?;
    let script_path = std::path::Path::new("target/bench/soak.lua");
    std::fs::write(
        script_path,
        script(&decisions, &identities, &cookie, &api_token, config.write),
    )?;

    let authz = services.authz.clone();
    let before = (store.count_decisions().await?, authz.answered());
    eprintln!("bench: soak reference run, {} s", config.reference_seconds);
    let reference = run_wrk(script_path, addr, CONNECTIONS, config.reference_seconds).await?;
    eprintln!("bench: soak, {} s", config.seconds);
    let started = Instant::now();
    let sampler = tokio::spawn(async move {
        let mut trace = MemoryTrace::default();
        let mut ticks = tokio::time::interval(SAMPLE_EVERY);
        loop {
            ticks.tick().await;
            let (anonymous, resident) = memory_mib();
            trace
                .samples
                .push((started.elapsed().as_secs_f64(), anonymous));
            trace.resident.push(resident);
            if started.elapsed().as_secs() >= u64::from(config.seconds) {
                return trace;
            }
        }
    });
    let soak = run_wrk(script_path, addr, CONNECTIONS, config.seconds).await?;
    let memory = sampler.await?;
    // Requests in flight when wrk stopped are still being answered.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.abort();
    authz.flush().await;
    let answered = authz.answered() - before.1;
    let logged = u64::try_from(store.count_decisions().await? - before.0).unwrap_or(0);
    Ok(SoakReport {
        config,
        reference,
        soak,
        memory,
        answered,
        logged,
    })
}

/// The soak's Markdown.
pub fn soak_markdown(database: &str, identities: i64, r: &SoakReport) -> String {
    let mark = |ok: bool| if ok { "✅" } else { "❌" };
    let mut out = format!(
        "#### {database} — {identities} identities, {CONNECTIONS} connections{}\n\n\
         | run | seconds | requests | requests/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|---:|\n",
        if r.config.write { "" } else { ", reads only" }
    );
    for (name, seconds, run) in [
        ("reference", r.config.reference_seconds, &r.reference),
        ("soak", r.config.seconds, &r.soak),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {seconds} | {} | {:.0} | {:.1} ms | {:.1} ms | {} |",
            run.requests, run.per_second, run.p50_ms, run.p99_ms, run.errors
        );
    }
    let _ = writeln!(
        out,
        "\n- p99 of the soak within 2× the reference run's ({:.1} ms ≤ {:.1} ms): {}",
        r.soak.p99_ms,
        2.0 * r.reference.p99_ms,
        mark(r.p99_holds())
    );
    let _ = writeln!(
        out,
        "- no failed request: {}",
        mark(r.reference.errors == 0 && r.soak.errors == 0)
    );
    let _ = writeln!(
        out,
        "- decision log: {} of {} answered decisions written after the flush {}",
        r.logged,
        r.answered,
        mark(r.logged == r.answered)
    );
    match r.memory.verdict() {
        Some(v) => {
            let _ = writeln!(
                out,
                "- anonymous resident memory (heap; {} samples, every {} s): between {:.0} and {:.0} MiB; highest in the first third after the warm-up {:.0} MiB, in the last third {:.0} MiB ({:+.0} MiB): {}",
                r.memory.samples.len(),
                SAMPLE_EVERY.as_secs(),
                v.lowest,
                v.highest,
                v.early_max,
                v.late_max,
                v.growth,
                mark(v.flat)
            );
            let resident = |pick: fn(f64, f64) -> f64, start: f64| {
                r.memory.resident.iter().copied().fold(start, pick)
            };
            let _ = writeln!(
                out,
                "- whole resident memory (on SQLite with the database pages it maps, which grow with the file): between {:.0} and {:.0} MiB, {:.0} MiB at the end",
                resident(f64::min, f64::MAX),
                resident(f64::max, 0.0),
                r.memory.resident.last().copied().unwrap_or_default()
            );
        }
        None => {
            let _ = writeln!(out, "- resident memory: too few samples to judge ❌");
        }
    }
    let _ = writeln!(
        out,
        "\n**{}**",
        if r.passed() { "Passed." } else { "Failed." }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(mib: &[f64]) -> MemoryTrace {
        MemoryTrace {
            resident: mib.iter().map(|m| m + 100.0).collect(),
            samples: mib
                .iter()
                .enumerate()
                .map(|(n, m)| (n as f64 * 5.0, *m))
                .collect(),
        }
    }

    #[test]
    fn memory_is_flat_when_the_last_third_stays_near_the_first() {
        // A warm-up climb, then noise: flat.
        let flat = trace(&[
            100.0, 250.0, 300.0, 310.0, 305.0, 320.0, 300.0, 315.0, 330.0, 310.0,
        ]);
        let v = flat.verdict().unwrap();
        assert!(v.flat, "{v:?}");
        assert_eq!(v.lowest, 100.0);
        assert_eq!(v.highest, 330.0);
        // A steady climb after the warm-up: a leak.
        let leak = trace(&[
            100.0, 300.0, 320.0, 340.0, 360.0, 380.0, 400.0, 420.0, 440.0, 460.0,
        ]);
        let v = leak.verdict().unwrap();
        assert!(!v.flat, "{v:?}");
        assert!((v.growth - 120.0).abs() < 1e-9, "{v:?}");
        // Small processes get 32 MiB of slack.
        assert!(
            trace(&[10.0, 20.0, 20.0, 20.0, 50.0, 50.0])
                .verdict()
                .unwrap()
                .flat
        );
        assert_eq!(trace(&[1.0, 2.0]).verdict(), None, "too few samples");
    }

    fn run(p99_ms: f64, errors: u64) -> WrkRun {
        WrkRun {
            connections: CONNECTIONS,
            requests: 1000,
            per_second: 100.0,
            p50_ms: 1.0,
            p99_ms,
            errors,
        }
    }

    #[test]
    fn the_soak_passes_only_when_every_check_does() {
        let good = SoakReport {
            config: SoakConfig {
                seconds: 600,
                reference_seconds: 60,
                write: true,
            },
            reference: run(10.0, 0),
            soak: run(19.0, 0),
            memory: trace(&[100.0, 200.0, 200.0, 210.0, 205.0, 200.0]),
            answered: 10,
            logged: 10,
        };
        assert!(good.passed());
        let markdown = soak_markdown("SQLite", 1000, &good);
        assert!(markdown.contains("**Passed.**"), "{markdown}");
        assert!(
            !SoakReport {
                soak: run(21.0, 0),
                ..good.clone()
            }
            .passed(),
            "p99 above 2×"
        );
        assert!(
            !SoakReport {
                soak: run(10.0, 1),
                ..good.clone()
            }
            .passed(),
            "an error"
        );
        assert!(
            !SoakReport {
                logged: 9,
                ..good.clone()
            }
            .passed(),
            "a lost decision"
        );
        let leak = SoakReport {
            memory: trace(&[100.0, 200.0, 200.0, 300.0, 400.0, 500.0]),
            ..good.clone()
        };
        assert!(!leak.passed(), "memory grew");
        assert!(soak_markdown("SQLite", 1000, &leak).contains("**Failed.**"));
    }

    #[test]
    fn the_script_mixes_pages_reads_decisions_and_writes() {
        let decisions = vec!["wrk.format(\"POST\", \"/api/v1/authorize\")".to_owned(); 3];
        let ids = [Uuid::nil(), Uuid::max()];
        let lua = script(&decisions, &ids, "steward_session=abc", "tok", true);
        assert_eq!(lua.matches("requests[#requests + 1] =").count(), 40);
        assert_eq!(lua.matches("/api/v1/authorize").count(), 24);
        assert!(lua.contains(&format!("\"/identities/{}\"", Uuid::max())));
        assert!(lua.contains("[\"Cookie\"] = \"steward_session=abc\""));
        assert!(lua.contains("local write = true"));
        assert!(
            lua.contains("\"expires_at\":\"%s\"}', run, i, expires)"),
            "{lua}"
        );
        assert!(script(&decisions, &ids, "c", "t", false).contains("local write = false"));
    }
}
