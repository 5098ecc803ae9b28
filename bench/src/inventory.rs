//! `steward-bench --scenarios inventory`: server-side timings of the inventory on a large demo
//! register — every filter with the default order, every order, combinations, a deep
//! page, facet counts and identity pages — measured through the service layer (what a
//! request costs the server, without HTTP), as a Markdown table.

use std::time::{Duration, Instant};

use steward_domain::auth::{Credential, Principal, Role};
use steward_domain::inventory::IdentityQuery;
use steward_domain::ports::Ports;
use uuid::Uuid;

use steward_server::store::Store;

/// One measured scenario.
#[derive(Debug, Clone)]
pub struct Timing {
    pub scenario: String,
    pub goal_ms: f64,
    pub samples: Vec<Duration>,
}

/// The nearest-rank percentile `p` (0–100) of `sorted` (ascending); the default value
/// (zero) for no samples. Shared by every benchmark that reports percentiles.
pub(crate) fn nearest_rank<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Timing {
    fn percentile(&self, p: f64) -> f64 {
        let mut ms: Vec<f64> = self
            .samples
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(|a, b| a.total_cmp(b));
        nearest_rank(&ms, p)
    }

    pub fn p50(&self) -> f64 {
        self.percentile(50.0)
    }

    pub fn p95(&self) -> f64 {
        self.percentile(95.0)
    }

    pub fn max(&self) -> f64 {
        self.percentile(100.0)
    }

    pub fn meets_goal(&self) -> bool {
        self.p95() <= self.goal_ms
    }
}

/// A reader principal for the measurements (reads need only the viewer role).
fn reader() -> Principal {
    Principal {
        user_id: Uuid::nil(),
        person_id: Uuid::nil(),
        email: "bench@steward.local".into(),
        display_name: "Benchmark".into(),
        role: Role::Viewer,
        credential: Credential::Session,
    }
}

/// The list scenarios: every filter (default order), every order, combinations.
fn list_scenarios(owner: &str, search: &str) -> Vec<(String, String)> {
    let mut scenarios: Vec<(String, String)> = [
        "",
        "class=ai",
        "kind=agent",
        "source=aws",
        "env=prod",
        "status=suspended",
        "team=payments",
        "orphaned=true",
        "expired=true",
        "expiring=30",
        "stale=90",
        "q=billing",
        "sort=-created",
        "sort=last_used",
        "sort=-last_used",
        "sort=expires",
        "sort=-expires",
        "class=ai&sort=expires",
        "env=prod&sort=-last_used",
        "orphaned=true&sort=-created",
        "kind=agent&stale=90&sort=expires",
    ]
    .iter()
    .map(|q| {
        (
            format!("list `{}`", if q.is_empty() { "(no filter)" } else { q }),
            q.to_string(),
        )
    })
    .collect();
    let owner_q = format!("owner={owner}");
    scenarios.push(("list `owner=<an owner>`".into(), owner_q));
    let exact = format!("q={search}");
    scenarios.push(("list `q=<an external id>`".into(), exact));
    scenarios
}

async fn time<F, Fut, T>(runs: usize, mut f: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, steward_domain::DomainError>>,
{
    f().await.map_err(|e| anyhow::anyhow!("{e}"))?; // warm-up
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// What `steward-bench --scenarios posture` measured.
pub struct PostureTimings {
    pub first: steward_domain::posture::findings::EvaluationReport,
    pub first_took: Duration,
    pub again: steward_domain::posture::findings::EvaluationReport,
    pub again_took: Duration,
    pub dashboard: Timing,
}

/// A full evaluation from no findings at all (every finding written), another one
/// right after (nothing changed: only reads and checks), then the dashboard — its
/// data and every chart drawn — `runs` times.
pub async fn measure_posture(
    store: &Store,
    services: &steward_server::services::Services,
    runs: usize,
) -> anyhow::Result<PostureTimings> {
    store.forget_findings().await?;
    let started = Instant::now();
    let first = services.posture.evaluate_all("system:bench").await?;
    let first_took = started.elapsed();
    let started = Instant::now();
    let again = services.posture.evaluate_all("system:bench").await?;
    let again_took = started.elapsed();
    let principal = reader();
    let posture = services.ports().posture.clone();
    let samples = time(runs, || {
        let posture = posture.clone();
        let principal = principal.clone();
        async move {
            let dashboard = posture.dashboard(Some(&principal)).await?;
            let (charts, _) = steward_app::posture::dashboard_charts(&dashboard);
            if charts.is_empty() {
                return Err(steward_domain::DomainError::Internal);
            }
            Ok(())
        }
    })
    .await?;
    Ok(PostureTimings {
        first,
        first_took,
        again,
        again_took,
        dashboard: Timing {
            scenario: "dashboard: snapshot, trend, controls and every chart drawn".into(),
            goal_ms: 200.0,
            samples,
        },
    })
}

/// The posture timings as Markdown.
pub fn posture_markdown(
    database: &str,
    identities: i64,
    runs: usize,
    t: &PostureTimings,
) -> String {
    let mark = |ok: bool| if ok { "✅" } else { "❌" };
    let mut out = format!(
        "#### {database} — {identities} identities\n\n\
         | Scenario | result | goal | |\n|---|---:|---:|---|\n"
    );
    out.push_str(&format!(
        "| full evaluation, no findings before ({} identities, {} findings opened) | {:.1} s | 60 s | {} |\n",
        t.first.identities,
        t.first.opened,
        t.first_took.as_secs_f64(),
        mark(t.first_took.as_secs_f64() < 60.0)
    ));
    out.push_str(&format!(
        "| full evaluation again, nothing changed ({} open, {} opened, {} resolved) | {:.1} s | 60 s | {} |\n",
        t.again.open,
        t.again.opened,
        t.again.resolved,
        t.again_took.as_secs_f64(),
        mark(t.again_took.as_secs_f64() < 60.0)
    ));
    out.push_str(&format!(
        "| {} ({runs} runs) | p50 {:.1} ms, p95 {:.1} ms | 200 ms | {} |\n",
        t.dashboard.scenario,
        t.dashboard.p50(),
        t.dashboard.p95(),
        mark(t.dashboard.meets_goal())
    ));
    out
}

/// Runs every scenario `runs` times against the register in `store`.
pub async fn measure_inventory(
    store: &Store,
    ports: &Ports,
    runs: usize,
) -> anyhow::Result<Vec<Timing>> {
    let principal = reader();
    let p = Some(&principal);
    let inventory = ports.inventory.clone();
    let first = inventory.list_identities(p, &IdentityQuery::new()).await?;
    let sample = first
        .items
        .first()
        .ok_or_else(|| anyhow::anyhow!("the register is empty"))?;
    let owner = first
        .items
        .iter()
        .find_map(|i| i.owner.as_ref().map(|o| o.email.clone()))
        .unwrap_or_else(|| "nobody@example.com".into());
    let search = first
        .items
        .iter()
        .find_map(|i| i.external_id.clone())
        .map(|id| {
            id.chars()
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>()
        })
        .unwrap_or_else(|| sample.name.clone());
    let mut timings = Vec::new();
    for (scenario, qs) in list_scenarios(&owner, &search) {
        let query = IdentityQuery::from_query_string(&qs)?;
        let samples = time(runs, || inventory.list_identities(p, &query)).await?;
        timings.push(Timing {
            scenario,
            goal_ms: 50.0,
            samples,
        });
    }
    // A deep page: the 20th page of the default order.
    let mut deep = IdentityQuery::new();
    for _ in 0..19 {
        let page = inventory.list_identities(p, &deep).await?;
        match page.next_cursor {
            Some(cursor) => deep = deep.with_cursor(&cursor)?,
            None => break,
        }
    }
    let samples = time(runs, || inventory.list_identities(p, &deep)).await?;
    timings.push(Timing {
        scenario: "list page 20 (cursor)".into(),
        goal_ms: 50.0,
        samples,
    });

    // A search's facets count every match (the inventory page shows them with its list).
    for qs in [
        "",
        "class=ai",
        "env=prod&status=active",
        "orphaned=true",
        "q=billing",
    ] {
        let query = IdentityQuery::from_query_string(qs)?;
        let samples = time(runs, || inventory.facets(p, &query)).await?;
        let label = if qs.is_empty() { "(no filter)" } else { qs };
        timings.push(Timing {
            scenario: format!("facets `{label}`"),
            goal_ms: 200.0,
            samples,
        });
    }

    // What the inventory page itself waits for: a common search's counts are left
    // to the browser, so the page waits only for the check that the term is common.
    let searched = IdentityQuery::from_query_string("q=billing")?;
    let deferred = inventory.quick_facets(p, &searched).await?.is_none();
    let samples = time(runs, || inventory.quick_facets(p, &searched)).await?;
    timings.push(Timing {
        scenario: format!(
            "the page's counts `q=billing` ({})",
            if deferred {
                "a common term: left to the browser"
            } else {
                "counted with the page"
            }
        ),
        goal_ms: 50.0,
        samples,
    });

    // Identity pages of different identities (with their graph and timeline).
    let ids: Vec<Uuid> = store
        .identity_holders_matching(
            &IdentityQuery::from_query_string("kind=agent")?,
            chrono::Utc::now(),
            runs as i64 + 1,
        )
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    let mut next = ids.iter().cycle();
    let samples = time(runs, || {
        let id = *next.next().unwrap_or(&sample.id);
        let inventory = inventory.clone();
        let principal = principal.clone();
        async move { inventory.get_identity(Some(&principal), id).await }
    })
    .await?;
    timings.push(Timing {
        scenario: "identity page (agent, with delegation graph)".into(),
        goal_ms: 50.0,
        samples,
    });
    Ok(timings)
}

/// The Markdown table of a run.
pub fn markdown(database: &str, identities: i64, runs: usize, timings: &[Timing]) -> String {
    let mut out = format!(
        "#### {database} — {identities} identities, {runs} runs per scenario\n\n\
         | Scenario | p50 ms | p95 ms | max ms | goal (p95) | |\n|---|---:|---:|---:|---:|---|\n"
    );
    for t in timings {
        out.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.0} | {} |\n",
            t.scenario,
            t.p50(),
            t.p95(),
            t.max(),
            t.goal_ms,
            if t.meets_goal() { "✅" } else { "❌" }
        ));
    }
    let missed = timings.iter().filter(|t| !t.meets_goal()).count();
    out.push_str(&format!(
        "\n{} of {} scenarios meet their goal.\n",
        timings.len() - missed,
        timings.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let t = Timing {
            scenario: "x".into(),
            goal_ms: 50.0,
            samples: (1..=20).map(Duration::from_millis).collect(),
        };
        assert_eq!((t.p50(), t.p95(), t.max()), (10.0, 19.0, 20.0));
        assert!(t.meets_goal());
        let table = markdown("SQLite", 5, 20, &[t]);
        assert!(
            table.contains("| x | 10.0 | 19.0 | 20.0 | 50 | ✅ |"),
            "{table}"
        );
        assert!(table.ends_with("1 of 1 scenarios meet their goal.\n"));
    }
}
