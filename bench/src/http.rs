//! The inventory benchmark's second half: the pages people open, over HTTP on loopback.
//! The whole application is served in this process, the benchmark admin signs in with
//! the sign-in form, and `wrk` asks for one kind of page at a time from one connection
//! (latency as one user sees it: routing, session, the data, server-side rendering),
//! cycling through different identities. The REST reads behind the same pages are
//! measured the same way with an API token. Afterwards the process's memory is read:
//! it is the server's, holding everything the runs loaded.

use std::fmt::Write as _;

use steward_domain::auth::Scope;
use steward_domain::inventory::IdentityQuery;
use uuid::Uuid;

use crate::authz::{run_wrk, WrkRun};
use steward_server::services::Services;
use steward_server::store::Store;

/// Seconds each page is asked for in one round.
const SECONDS: u32 = 10;
/// Rounds over every page. A page's numbers are the medians of its rounds: one run's
/// p99 on a shared two-core machine can differ from the next by more than a change
/// being measured. The rounds go page after page, so a slow minute of the machine
/// lands in one round of several pages, not in every round of one page.
const ROUNDS: usize = 3;
/// Different identities whose pages are cycled through.
const IDENTITIES: i64 = 200;
/// The goal of a page's p99 over HTTP, in milliseconds (the identity page's goal).
pub const GOAL_MS: f64 = 50.0;
/// The goal of the counts the browser asks for after the page, in milliseconds (the
/// service layer's facet goal).
pub const COUNTS_GOAL_MS: f64 = 200.0;

/// One page measured over HTTP.
#[derive(Debug, Clone)]
pub struct PageRun {
    pub page: String,
    pub goal_ms: f64,
    /// The medians of the rounds (requests and errors: their sums).
    pub run: WrkRun,
    /// The lowest and highest p99 of the rounds.
    pub p99_range_ms: (f64, f64),
}

/// The median of `values` (the mean of the middle two for an even count; 0 for none).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// One page's rounds as one result: the median rate and latencies, every request and
/// error counted, and the spread of the p99s.
fn combine(rounds: &[WrkRun]) -> (WrkRun, (f64, f64)) {
    let of = |f: fn(&WrkRun) -> f64| median(rounds.iter().map(f).collect());
    let p99s = rounds.iter().map(|r| r.p99_ms);
    let range = (
        p99s.clone().fold(f64::INFINITY, f64::min),
        p99s.fold(f64::NEG_INFINITY, f64::max),
    );
    let run = WrkRun {
        connections: rounds.first().map_or(1, |r| r.connections),
        requests: rounds.iter().map(|r| r.requests).sum(),
        per_second: of(|r| r.per_second),
        p50_ms: of(|r| r.p50_ms),
        p99_ms: of(|r| r.p99_ms),
        errors: rounds.iter().map(|r| r.errors).sum(),
    };
    (run, if rounds.is_empty() { (0.0, 0.0) } else { range })
}

impl PageRun {
    pub fn meets_goal(&self) -> bool {
        self.run.errors == 0 && self.run.p99_ms <= self.goal_ms
    }
}

/// What the HTTP half measured.
#[derive(Debug, Clone)]
pub struct HttpTimings {
    pub pages: Vec<PageRun>,
    /// The process's anonymous and whole resident memory after the runs, in MiB.
    pub memory_mib: (f64, f64),
}

/// A Lua script for `wrk` that cycles through `requests` (each a `wrk.format(…)` call).
pub(crate) fn cycling_script(requests: &[String]) -> String {
    let mut out = String::from("local requests = {}\n");
    for request in requests {
        let _ = writeln!(out, "requests[#requests + 1] = {request}");
    }
    out.push_str(
        "local i = 0\n\
         request = function()\n\
         \x20 i = i + 1\n\
         \x20 return requests[(i % #requests) + 1]\n\
         end\n",
    );
    out
}

/// `wrk.format(…)` of a GET with one header.
pub(crate) fn get(path: &str, header: &str, value: &str) -> String {
    format!("wrk.format(\"GET\", {path:?}, {{[{header:?}] = {value:?}}})")
}

/// `wrk.format(…)` of a form POST from the app's own page (a server function call).
pub(crate) fn post_form(path: &str, cookie: &str, origin: &str, body: &str) -> String {
    format!(
        "wrk.format(\"POST\", {path:?}, {{[\"Cookie\"] = {cookie:?}, [\"Origin\"] = {origin:?}, \
         [\"Content-Type\"] = \"application/x-www-form-urlencoded\"}}, {body:?})"
    )
}

/// A page or read measured: its label, the requests to cycle through, its p99 goal.
type Measured = (String, Vec<String>, f64);

/// The pages and REST reads measured.
fn pages(identities: &[Uuid], cookie: &str, bearer: &str, origin: &str) -> Vec<Measured> {
    let each = |f: &dyn Fn(&Uuid) -> String| identities.iter().map(f).collect::<Vec<_>>();
    let page = |path: &str| vec![get(path, "Cookie", cookie)];
    let measured: Vec<(String, Vec<String>)> = vec![
        (
            "identity page `/identities/<agent>` (signed in, server-rendered)".into(),
            each(&|id| get(&format!("/identities/{id}"), "Cookie", cookie)),
        ),
        ("inventory page `/inventory`".into(), page("/inventory")),
        (
            "inventory page `/inventory?class=ai&sort=expires`".into(),
            page("/inventory?class=ai&sort=expires"),
        ),
        (
            "inventory search `/inventory?q=billing` (a common term: rows now, counts after)"
                .into(),
            page("/inventory?q=billing"),
        ),
        ("posture dashboard `/posture`".into(), page("/posture")),
        (
            "REST `GET /api/v1/identities/<agent>`".into(),
            each(&|id| get(&format!("/api/v1/identities/{id}"), "Authorization", bearer)),
        ),
        (
            "REST `GET /api/v1/identities?q=billing&limit=50`".into(),
            vec![get(
                "/api/v1/identities?q=billing&limit=50",
                "Authorization",
                bearer,
            )],
        ),
    ];
    let mut measured: Vec<Measured> = measured
        .into_iter()
        .map(|(label, requests)| (label, requests, GOAL_MS))
        .collect();
    // What the browser asks for once the searched page is shown.
    measured.push((
        "its counts, asked by the browser: `POST /rpc/inventory/facets` (`q=billing`)".into(),
        vec![post_form(
            "/rpc/inventory/facets",
            cookie,
            origin,
            "query=q%3Dbilling",
        )],
        COUNTS_GOAL_MS,
    ));
    measured
}

pub async fn measure_http(store: &Store, services: &Services) -> anyhow::Result<HttpTimings> {
    let identities: Vec<Uuid> = store
        .identity_holders_matching(
            &IdentityQuery::from_query_string("kind=agent")?,
            chrono::Utc::now(),
            IDENTITIES,
        )
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    anyhow::ensure!(!identities.is_empty(), "the register holds no agent");
    let admin = crate::grants::bench_admin(store, services).await?;
    let token =
        crate::grants::bench_token(services, &admin, "bench-pages", vec![Scope::InventoryRead])
            .await?;
    let (addr, server) = crate::grants::serve_loopback(services).await?;
    let cookie = crate::soak::browser_session(addr).await?;
    std::fs::create_dir_all("target/bench")?;
    let script = std::path::Path::new("target/bench/pages.lua");
    let origin = format!("http://{addr}");
    let measured = pages(&identities, &cookie, &format!("Bearer {token}"), &origin);
    let mut rounds: Vec<Vec<WrkRun>> = vec![Vec::new(); measured.len()];
    for round in 1..=ROUNDS {
        for ((page, requests, _), runs) in measured.iter().zip(rounds.iter_mut()) {
            eprintln!("bench: round {round} of {ROUNDS}: {page}, {SECONDS} s");
            std::fs::write(script, cycling_script(requests))?;
            // A short warm-up fills the caches a running server has. Its numbers are
            // not used: a first request slower than the warm-up (cold pages of the
            // file) leaves wrk without a result, which is no reason to stop.
            if let Err(error) = run_wrk(script, addr, 1, 1).await {
                eprintln!("bench: warm-up of {page} gave no numbers ({error}); measuring anyway");
            }
            runs.push(run_wrk(script, addr, 1, SECONDS).await?);
        }
    }
    let runs = measured
        .into_iter()
        .zip(rounds)
        .map(|((page, _, goal_ms), rounds)| {
            let (run, p99_range_ms) = combine(&rounds);
            PageRun {
                page,
                goal_ms,
                run,
                p99_range_ms,
            }
        })
        .collect();
    let memory_mib = crate::soak::memory_mib();
    server.abort();
    Ok(HttpTimings {
        pages: runs,
        memory_mib,
    })
}

/// The HTTP half's Markdown, under the service-layer table.
pub fn http_markdown(t: &HttpTimings) -> String {
    let mut out = format!(
        "\nOver HTTP on loopback (`wrk -t1 -c1`, {ROUNDS} rounds over every page, {SECONDS} s \
         per page and round after a 1 s warm-up; the medians of the rounds, with the lowest \
         and highest p99; the whole request — session, data, server-side rendering — as one \
         user sees it; identity pages cycle through {IDENTITIES} agents):\n\n\
         | Page | requests | requests/s | p50 ms | p99 ms | p99 of the rounds | errors | goal (p99) | |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|\n"
    );
    for p in &t.pages {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.1}–{:.1} | {} | {:.0} | {} |",
            p.page,
            p.run.requests,
            p.run.per_second,
            p.run.p50_ms,
            p.run.p99_ms,
            p.p99_range_ms.0,
            p.p99_range_ms.1,
            p.run.errors,
            p.goal_ms,
            if p.meets_goal() { "✅" } else { "❌" }
        );
    }
    let _ = writeln!(
        out,
        "\nServer memory after the HTTP runs (the process serving them): {:.0} MiB anonymous \
         (heap), {:.0} MiB resident in all (which also counts the database pages SQLite maps \
         into the process; PostgreSQL keeps its own in its server processes).",
        t.memory_mib.0, t.memory_mib.1
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p99_ms: f64, errors: u64) -> WrkRun {
        WrkRun {
            connections: 1,
            requests: 100,
            per_second: 10.0,
            p50_ms: 1.0,
            p99_ms,
            errors,
        }
    }

    #[test]
    fn a_page_meets_its_goal_only_fast_and_without_errors() {
        let page = |run| PageRun {
            page: "x".into(),
            goal_ms: GOAL_MS,
            run,
            p99_range_ms: (0.0, 0.0),
        };
        assert!(page(run(GOAL_MS, 0)).meets_goal());
        assert!(!page(run(GOAL_MS + 0.1, 0)).meets_goal());
        assert!(!page(run(1.0, 1)).meets_goal());
        let counts = PageRun {
            goal_ms: COUNTS_GOAL_MS,
            ..page(run(GOAL_MS + 0.1, 0))
        };
        assert!(counts.meets_goal());
    }

    #[test]
    fn rounds_combine_into_their_medians_with_every_request_and_error() {
        let round = |per_second, p50_ms, p99_ms, errors| WrkRun {
            connections: 1,
            requests: 100,
            per_second,
            p50_ms,
            p99_ms,
            errors,
        };
        let (run, range) = combine(&[
            round(30.0, 9.0, 80.0, 0),
            round(50.0, 5.0, 40.0, 1),
            round(40.0, 7.0, 45.0, 0),
        ]);
        assert_eq!(run.requests, 300);
        assert_eq!(run.errors, 1);
        assert_eq!(run.per_second, 40.0);
        assert_eq!(run.p50_ms, 7.0);
        // One slow round does not decide the page; the table still shows it.
        assert_eq!(run.p99_ms, 45.0);
        assert_eq!(range, (40.0, 80.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
        assert_eq!(combine(&[]).1, (0.0, 0.0));
    }

    #[test]
    fn the_script_cycles_through_every_request() {
        let id = Uuid::nil();
        let measured = pages(&[id], "c=1", "Bearer t", "http://127.0.0.1:9");
        let script = cycling_script(&measured[0].1);
        assert!(script.contains(&format!("\"/identities/{id}\"")));
        assert!(script.contains("[\"Cookie\"] = \"c=1\""));
        assert!(script.contains("requests[(i % #requests) + 1]"));
        // The browser's call for a search's counts: a form POST from the app's origin.
        let (_, counts, goal) = measured.last().unwrap();
        assert_eq!(*goal, COUNTS_GOAL_MS);
        assert_eq!(
            counts[0],
            "wrk.format(\"POST\", \"/rpc/inventory/facets\", {[\"Cookie\"] = \"c=1\", \
             [\"Origin\"] = \"http://127.0.0.1:9\", [\"Content-Type\"] = \
             \"application/x-www-form-urlencoded\"}, \"query=q%3Dbilling\")"
        );
    }
}
