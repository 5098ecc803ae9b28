//! Compliance posture in the browser: the managers' dashboard (charts drawn on the
//! server, each element a link to the inventory behind it, the numbers as tables and
//! CSV), the Controls page, the printable report of a day, and an identity's findings
//! with risk acceptance.

// Form server functions take one argument per form field.
#![allow(clippy::too_many_arguments)]

use chrono::{DateTime, Duration, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use steward_domain::posture::dashboard::{
    ControlState, ControlStatus, Dashboard, Figure, PostureReport, Snapshot,
};
use steward_domain::posture::findings::{EvaluationReport, Finding, FindingState};

use crate::error::{AppError, ErrorNotice};
use crate::toast::Toast;

/// One chart, drawn on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub svg: String,
    /// Which figures (by `chart`) the chart's table lists.
    pub figures: String,
}

/// The dashboard as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    pub dashboard: Dashboard,
    pub charts: Vec<ChartView>,
    pub figures: Vec<Figure>,
    pub can_evaluate: bool,
}

/// Every chart of the dashboard and the figures behind them (server only: the
/// benchmark times them with the dashboard).
#[cfg(feature = "ssr")]
pub use imp::charts as dashboard_charts;

#[cfg(feature = "ssr")]
mod imp {
    use steward_domain::posture::catalog::Catalog;
    use steward_domain::posture::dashboard::{figures, Dashboard, Figure};

    use super::ChartView;
    use crate::charts::{bar_chart, heat_map, line_chart, Datum};

    fn data(figures: &[Figure], chart: &str) -> Vec<Datum> {
        figures
            .iter()
            .filter(|f| f.chart == chart)
            .map(|f| Datum {
                label: f.label.clone(),
                value: f.value,
                href: f.drill_down.as_ref().map(|q| format!("/inventory?{q}")),
            })
            .collect()
    }

    /// Every chart of the dashboard, and the figures behind them.
    pub fn charts(dashboard: &Dashboard) -> (Vec<ChartView>, Vec<Figure>) {
        let catalog = Catalog::shipped();
        let Some(snapshot) = &dashboard.snapshot else {
            return (Vec::new(), Vec::new());
        };
        let all = figures(snapshot, catalog);
        let mut charts = Vec::new();
        let mut chart = |id: &str, title: &str, description: String, svg: String, figures: &str| {
            charts.push(ChartView {
                id: id.into(),
                title: title.into(),
                description,
                svg,
                figures: figures.into(),
            })
        };

        // A bar leads to the identities of its class that are not governed.
        let governed: Vec<Datum> = data(&all, "governed")
            .into_iter()
            .filter(|d| d.label.ends_with("(%)"))
            .collect();
        let description = format!(
            "{:.1}% of machine and {:.1}% of AI identities have an active owner, an expiry and a revocation path.",
            snapshot.governed_percent(Some(steward_domain::inventory::ActorClass::Machine)),
            snapshot.governed_percent(Some(steward_domain::inventory::ActorClass::Ai))
        );
        chart(
            "chart-governed",
            "Governed identities: owner, expiry and revocation path",
            description.clone(),
            bar_chart(
                "chart-governed",
                "Governed identities",
                &description,
                &governed,
                "%",
            ),
            "governed",
        );

        let rows: Vec<(String, Vec<Datum>)> = catalog
            .frameworks
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    data(&all, &format!("controls:{}", f.framework)),
                )
            })
            .filter(|(_, cells)| !cells.is_empty())
            .collect();
        let worst = all
            .iter()
            .filter(|f| f.chart.starts_with("controls:"))
            .max_by(|a, b| a.value.total_cmp(&b.value));
        let description = match worst {
            Some(w) if w.value > 0.0 => format!(
                "Open findings per control covered by a check; {} has the most ({}).",
                w.label, w.value
            ),
            _ => "No open findings against any control.".into(),
        };
        chart(
            "chart-controls",
            "Open findings by framework and control",
            description.clone(),
            heat_map(
                "chart-controls",
                "Open findings by control",
                &description,
                &rows,
            ),
            "controls:",
        );

        for (id, title, source, empty) in [
            (
                "chart-checks",
                "Open findings by check",
                "checks",
                "No open findings.",
            ),
            (
                "chart-teams",
                "Open findings by team",
                "teams",
                "No team has open findings.",
            ),
            (
                "chart-owners",
                "Open findings by owner",
                "owners",
                "No owner has open findings.",
            ),
        ] {
            let mut bars = data(&all, source);
            if source == "checks" {
                bars.retain(|d| d.value > 0.0);
                bars.sort_by(|a, b| b.value.total_cmp(&a.value));
            }
            let description = match bars.first() {
                Some(top) => format!(
                    "{} bars; the largest is {} ({}).",
                    bars.len(),
                    top.label,
                    top.value
                ),
                None => empty.to_owned(),
            };
            let svg = bar_chart(&format!("{id}-svg"), title, &description, &bars, "");
            chart(id, title, description, svg, source);
        }

        let ages = data(&all, "credential_age");
        let description = format!(
            "Active credentials by days since their secret was last set: {}.",
            ages.iter()
                .map(|d| format!("{} {}", d.label, d.value))
                .collect::<Vec<_>>()
                .join(", ")
        );
        chart(
            "chart-credential-age",
            "Credential age",
            description.clone(),
            bar_chart(
                "chart-credential-age-svg",
                "Credential age",
                &description,
                &ages,
                "",
            ),
            "credential_age",
        );

        let stale = data(&all, "stale");
        let description = format!(
            "Identities unused for 90 days or more: {}.",
            stale
                .iter()
                .map(|d| format!("{} {}", d.label, d.value))
                .collect::<Vec<_>>()
                .join(", ")
        );
        chart(
            "chart-stale",
            "Stale identities",
            description.clone(),
            bar_chart(
                "chart-stale-svg",
                "Stale identities",
                &description,
                &stale,
                "",
            ),
            "stale",
        );

        let points: Vec<Datum> = dashboard
            .trend
            .iter()
            .map(|p| Datum {
                label: p.day.format("%m-%d").to_string(),
                value: p.open.map_or(f64::NAN, |o| o as f64),
                href: p.open.map(|_| format!("/posture/report?day={}", p.day)),
            })
            .collect();
        let known: Vec<u64> = dashboard.trend.iter().filter_map(|p| p.open).collect();
        let description = match (known.first(), known.last()) {
            (Some(first), Some(last)) => format!(
                "Open findings per day over the last {} days, from {first} to {last}; days without an evaluation are gaps.",
                dashboard.trend.len()
            ),
            _ => "No daily snapshots yet.".into(),
        };
        chart(
            "chart-trend",
            "Open findings over time",
            description.clone(),
            line_chart(
                "chart-trend-svg",
                "Open findings over time",
                &description,
                &points,
            ),
            "trend",
        );
        (charts, all)
    }
}

#[server(prefix = "/rpc", endpoint = "posture/dashboard")]
pub async fn get_dashboard() -> Result<DashboardView, AppError> {
    use steward_domain::auth::Action;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let dashboard = ports.posture.dashboard(principal.as_ref()).await?;
    let (charts, figures) = imp::charts(&dashboard);
    Ok(DashboardView {
        dashboard,
        charts,
        figures,
        can_evaluate: principal
            .as_ref()
            .is_some_and(|p| p.can(Action::ManagePosture)),
    })
}

/// Every control's status, as of the latest evaluation (when one has run) — the
/// dashboard's data without its charts.
#[server(prefix = "/rpc", endpoint = "posture/controls")]
pub async fn get_controls() -> Result<(Option<DateTime<Utc>>, Vec<ControlStatus>), AppError> {
    let ports = crate::session::ports()?;
    let dashboard = ports
        .posture
        .dashboard(crate::session::principal().as_ref())
        .await?;
    Ok((dashboard.snapshot.map(|s| s.taken_at), dashboard.controls))
}

#[server(prefix = "/rpc", endpoint = "posture/evaluate")]
pub async fn evaluate_now() -> Result<EvaluationReport, AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .posture
        .evaluate(crate::session::principal().as_ref())
        .await?)
}

#[server(prefix = "/rpc", endpoint = "posture/report")]
pub async fn get_report(day: String) -> Result<PostureReport, AppError> {
    let ports = crate::session::ports()?;
    // No day: today, by the server's clock (the browser build has none).
    let day = match day.trim() {
        "" => Utc::now().date_naive(),
        day => steward_domain::posture::dashboard::parse_day(day)?,
    };
    Ok(ports
        .posture
        .report(crate::session::principal().as_ref(), day)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "posture/accept")]
pub async fn accept_finding(
    id: String,
    check: String,
    justification: String,
    until: String,
) -> Result<String, AppError> {
    use steward_domain::posture::findings::AcceptRiskRequest;
    let ports = crate::session::ports()?;
    let until = steward_domain::posture::dashboard::parse_day(&until).map_err(|_| {
        steward_domain::DomainError::invalid("until", "choose the date the acceptance ends")
    })?;
    let finding = ports
        .posture
        .accept_risk(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("identity", &id)?,
            &check,
            &AcceptRiskRequest {
                justification,
                expires_at: end_of_day(until),
            },
        )
        .await?;
    Ok(format!(
        "Risk accepted for “{}” until {}.",
        finding.title,
        until.format("%Y-%m-%d")
    ))
}

#[server(prefix = "/rpc", endpoint = "posture/reopen")]
pub async fn reopen_finding(id: String, check: String, reason: String) -> Result<String, AppError> {
    use steward_domain::posture::findings::ReopenRequest;
    let ports = crate::session::ports()?;
    let finding = ports
        .posture
        .reopen(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("identity", &id)?,
            &check,
            &ReopenRequest { reason },
        )
        .await?;
    Ok(format!("“{}” is open again.", finding.title))
}

/// The last second of a day (UTC): an acceptance "until the 5th" lasts through it.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(23, 59, 59)
        .map(|t| t.and_utc())
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// The default end of a new risk acceptance: 90 days from `now`.
pub fn default_acceptance_end(now: DateTime<Utc>) -> String {
    (now + Duration::days(90)).format("%Y-%m-%d").to_string()
}

/// A percentage as shown in headlines.
pub fn percent(value: f64) -> String {
    format!("{value:.1}%")
}

fn state_label(state: ControlState) -> (&'static str, &'static str) {
    match state {
        ControlState::Met => ("ok", "met"),
        ControlState::Attention => ("danger", "needs attention"),
        ControlState::NotCovered => ("muted", "not covered"),
    }
}

/// `/posture`
#[component]
pub fn DashboardPage() -> impl IntoView {
    let evaluate = Action::new(|_: &()| evaluate_now());
    let dashboard = Resource::new(move || evaluate.version().get(), |_| get_dashboard());
    view! {
        <Title text="Posture" />
        <h1>"Compliance posture"</h1>
        <p class="lede">"How the programme stands against OWASP NHI, OWASP Agentic and NIST. Click any bar or cell to see the identities behind it."</p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the posture…"</p> }>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Ok(view) => view! { <DashboardBody view evaluate /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EvaluateButton(evaluate: Action<(), Result<EvaluationReport, AppError>>) -> impl IntoView {
    view! {
        <button type="button" id="evaluate-now" on:click=move |_| { evaluate.dispatch(()); }
            disabled=move || evaluate.pending().get()>
            {move || if evaluate.pending().get() { "Evaluating…" } else { "Evaluate now" }}
        </button>
        {move || evaluate.value().get().map(|result| match result {
            Ok(r) => view! { <Toast id="evaluate-result" message=format!("Evaluated {} identities: {} findings open, {} opened, {} resolved.", r.identities, r.open, r.opened, r.resolved) /> }.into_any(),
            Err(error) => view! { <p class="notice error" role="alert" id="evaluate-result">{error.to_string()}</p> }.into_any(),
        })}
    }
}

#[component]
fn DashboardBody(
    view: DashboardView,
    evaluate: Action<(), Result<EvaluationReport, AppError>>,
) -> impl IntoView {
    let DashboardView {
        dashboard,
        charts,
        figures,
        can_evaluate,
    } = view;
    let Some(snapshot) = dashboard.snapshot.clone() else {
        return view! {
            <div class="empty-state" id="posture-empty">
                <p>"No evaluation has run yet, so there is nothing to show."</p>
                <p>"Steward evaluates every identity when it starts and then every hour."</p>
                {can_evaluate.then(|| view! { <EvaluateButton evaluate /> })}
            </div>
        }
        .into_any();
    };
    let today = snapshot.taken_at.format("%Y-%m-%d").to_string();
    let headline = headline(&snapshot);
    let charts = charts
        .into_iter()
        .map(|chart| {
            let rows = figures
                .iter()
                .filter(|f| {
                    if chart.figures.ends_with(':') {
                        f.chart.starts_with(&chart.figures)
                    } else {
                        f.chart == chart.figures
                    }
                })
                .map(|f| {
                    let value = crate::format::number_text(f.value);
                    let link = f.drill_down.clone().map(|q| format!("/inventory?{q}"));
                    view! {
                        <tr>
                            <td>{f.label.clone()}</td>
                            <td class="num">{value}</td>
                            <td>{link.map(|href| view! { <a href=href>"Show identities"</a> })}</td>
                        </tr>
                    }
                })
                .collect_view();
            let has_rows = chart.figures != "trend";
            view! {
                <section class="card chart-card" aria-labelledby=format!("{}-h", chart.id)>
                    <h2 id=format!("{}-h", chart.id)>{chart.title.clone()}</h2>
                    <p class="muted">{chart.description.clone()}</p>
                    <div class="chart-frame" id=chart.id.clone() inner_html=chart.svg.clone()></div>
                    {has_rows.then(|| view! {
                        <details>
                            <summary>"The numbers"</summary>
                            <table class="data-table">
                                <thead><tr><th scope="col">"Item"</th><th scope="col">"Value"</th><th scope="col">"Inventory"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </details>
                    })}
                </section>
            }
            .into_any()
        })
        .collect_view();
    view! {
        <div class="toolbar">
            <span class="muted" id="posture-as-of">{format!("As of the evaluation at {}", snapshot.taken_at.format("%Y-%m-%d %H:%M UTC"))}</span>
            <a href="/api/v1/posture/dashboard.csv" download="steward-posture.csv">"Download CSV"</a>
            <a href=format!("/posture/report?day={today}")>"Printable report"</a>
            <a href="/controls">"All controls"</a>
            {can_evaluate.then(|| view! { <EvaluateButton evaluate /> })}
        </div>
        {headline}
        <div class="chart-grid">{charts}</div>
    }
    .into_any()
}

fn headline(snapshot: &Snapshot) -> AnyView {
    use steward_domain::inventory::ActorClass;
    view! {
        <div class="headline" id="posture-headline">
            <div class="stat">
                <span class="stat-value">{percent(snapshot.governed_percent(None))}</span>
                <span class="stat-label">"governed (owner, expiry and revocation path)"</span>
            </div>
            <div class="stat">
                <span class="stat-value">{percent(snapshot.governed_percent(Some(ActorClass::Machine)))}</span>
                <span class="stat-label">{format!("of {} machine identities", snapshot.identities.machine)}</span>
            </div>
            <div class="stat">
                <span class="stat-value">{percent(snapshot.governed_percent(Some(ActorClass::Ai)))}</span>
                <span class="stat-label">{format!("of {} AI identities", snapshot.identities.ai)}</span>
            </div>
            <a class="stat" href="/inventory?finding=any">
                <span class="stat-value">{snapshot.open()}</span>
                <span class="stat-label">"open findings"</span>
            </a>
            <div class="stat">
                <span class="stat-value">{snapshot.accepted()}</span>
                <span class="stat-label">"risk-accepted"</span>
            </div>
        </div>
    }
    .into_any()
}

/// `/controls`
#[component]
pub fn ControlsPage() -> impl IntoView {
    let controls = Resource::new(|| (), |_| get_controls());
    view! {
        <Title text="Controls" />
        <h1>"Controls"</h1>
        <p class="lede">"Every control of the frameworks Steward maps to, the checks that cover it, and how it stands at the latest evaluation."</p>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the controls…"</p> }>
            {move || Suspend::new(async move {
                match controls.await {
                    Ok((as_of, controls)) => {
                        view! {
                            <p class="muted">{match as_of {
                                Some(at) => format!("As of the evaluation at {}.", at.format("%Y-%m-%d %H:%M UTC")),
                                None => "No evaluation has run yet: covered controls show as met until one does.".into(),
                            }}</p>
                            <ControlTables controls link=true />
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One table per framework.
#[component]
fn ControlTables(controls: Vec<ControlStatus>, link: bool) -> impl IntoView {
    let mut frameworks: Vec<(String, String)> = Vec::new();
    for c in &controls {
        if !frameworks.iter().any(|(f, _)| f == &c.framework) {
            frameworks.push((c.framework.clone(), c.framework_name.clone()));
        }
    }
    frameworks
        .into_iter()
        .map(|(framework, name)| {
            let rows = controls
                .iter()
                .filter(|c| c.framework == framework)
                .map(|c| {
                    let (class, label) = state_label(c.state);
                    let open: AnyView = if link && c.open > 0 {
                        let href = format!(
                            "/inventory?{}",
                            steward_domain::inventory::IdentityQuery {
                                control: Some(c.id.clone()),
                                ..steward_domain::inventory::IdentityQuery::new()
                            }
                            .to_query_string()
                        );
                        view! { <a href=href>{c.open}</a> }.into_any()
                    } else {
                        view! { <span>{c.open}</span> }.into_any()
                    };
                    view! {
                        <tr id=format!("control-{}", c.id.replace([' ', '.', '(', ')'], "-"))>
                            <th scope="row"><code>{c.id.clone()}</code></th>
                            <td>{c.title.clone()}<br /><span class="muted small">{c.summary.clone()}</span></td>
                            <td>{if c.checks.is_empty() { "—".to_owned() } else { c.checks.join(", ") }}</td>
                            <td class="num">{open}</td>
                            <td class="num">{c.accepted}</td>
                            <td><span class=format!("badge {class}")>{label}</span></td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section class="card">
                    <h2>{name}</h2>
                    <div class="table-wrap">
                        <table class="data-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Control"</th>
                                    <th scope="col">"Title"</th>
                                    <th scope="col">"Checks"</th>
                                    <th scope="col">"Open findings"</th>
                                    <th scope="col">"Accepted"</th>
                                    <th scope="col">"Status"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </section>
            }
        })
        .collect_view()
}

/// `/posture/report?day=YYYY-MM-DD`: the posture of one day, laid out for printing.
#[component]
pub fn ReportPage() -> impl IntoView {
    let query = use_query_map();
    let day = Memo::new(move |_| query.with(|q| q.get("day")).unwrap_or_default());
    let report = Resource::new(move || day.get(), get_report);
    view! {
        <Title text="Posture report" />
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the report…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) => view! { <ReportBody report /> }.into_any(),
                    Err(error) => {
                        if let AppError::Domain(domain) = &error {
                            crate::response::set_status(domain.http_status());
                        }
                        view! {
                            <h1>"Posture report"</h1>
                            <div class="notice error" role="alert">
                                <p>{error.to_string()}</p>
                                <form method="get" action="/posture/report" class="filters no-print">
                                    <label>"Another day" <input type="date" name="day" required=true /></label>
                                    <button type="submit">"Show"</button>
                                </form>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn ReportBody(report: PostureReport) -> impl IntoView {
    let s = report.snapshot.clone();
    let checks = steward_domain::posture::catalog::Catalog::shipped()
        .checks
        .iter()
        .map(|check| {
            let open = s.open_by_check.get(&check.id).copied().unwrap_or(0);
            let accepted = s.accepted_by_check.get(&check.id).copied().unwrap_or(0);
            view! {
                <tr>
                    <th scope="row">{check.title.clone()}</th>
                    <td>{check.severity.as_str()}</td>
                    <td>{check.controls.join(", ")}</td>
                    <td class="num">{open}</td>
                    <td class="num">{accepted}</td>
                </tr>
            }
        })
        .collect_view();
    let teams = s
        .open_by_team
        .iter()
        .map(|(team, n)| view! { <li>{if team.is_empty() { "(no team)".to_owned() } else { team.clone() }}": "{*n}</li> })
        .collect_view();
    let ages = steward_domain::posture::dashboard::AGE_BUCKETS
        .iter()
        .zip(&s.credential_age)
        .map(|(bucket, n)| view! { <li>{steward_domain::posture::dashboard::age_bucket_label(*bucket)}": "{*n}</li> })
        .collect_view();
    view! {
        <article class="report" id="posture-report">
            <header>
                <h1>{format!("Posture report — {}", report.day)}</h1>
                <p class="muted">{format!("Evaluation of {} at {} · catalog {}", report.day, s.taken_at.format("%H:%M UTC"), s.catalog_version)}</p>
                <p class="no-print">
                    <button type="button" onclick="window.print()">"Print"</button>
                    " "
                    <a href="/posture">"Back to the dashboard"</a>
                </p>
            </header>
            <section>
                <h2>"Summary"</h2>
                {headline(&s)}
                <p>{format!("{} identities were unused for 90 days or more ({} machine, {} AI).", s.stale.total(), s.stale.machine, s.stale.ai)}</p>
            </section>
            <section>
                <h2>"Findings by check"</h2>
                <table class="data-table">
                    <thead><tr><th scope="col">"Check"</th><th scope="col">"Severity"</th><th scope="col">"Controls"</th><th scope="col">"Open"</th><th scope="col">"Accepted"</th></tr></thead>
                    <tbody>{checks}</tbody>
                </table>
            </section>
            <section>
                <h2>"Teams with the most open findings"</h2>
                <ul>{teams}</ul>
                <h2>"Credential age"</h2>
                <ul>{ages}</ul>
            </section>
            <section>
                <h2>"Controls"</h2>
                <ControlTables controls=report.controls link=false />
            </section>
        </article>
    }
}

/// An identity's findings, with risk acceptance for the security team.
#[component]
pub fn FindingsSection(
    id: String,
    findings: Vec<Finding>,
    can_accept: bool,
    as_of: DateTime<Utc>,
    accept: ServerAction<AcceptFinding>,
    reopen: ServerAction<ReopenFinding>,
) -> impl IntoView {
    let open = findings
        .iter()
        .filter(|f| f.state == FindingState::Open)
        .count();
    let message = move || {
        accept
            .value()
            .get()
            .or_else(|| reopen.value().get())
            .map(|result| match result {
                Ok(text) => view! { <Toast message=text /> }.into_any(),
                Err(error) => {
                    view! { <p class="notice error" role="alert">{error.to_string()}</p> }
                        .into_any()
                }
            })
    };
    if findings.is_empty() {
        return view! {
            <p class="muted" id="findings-none">"No findings: every check passes (or no evaluation has reached this identity yet)."</p>
            {message}
        }
        .into_any();
    }
    let until = default_acceptance_end(as_of);
    let rows = findings
        .into_iter()
        .map(|f| {
            let state = match (&f.state, &f.acceptance) {
                (FindingState::Accepted, Some(a)) => format!(
                    "accepted until {} by {}: {}",
                    a.expires_at.format("%Y-%m-%d"),
                    a.approver,
                    a.justification
                ),
                (FindingState::Resolved, _) => format!(
                    "resolved {}",
                    f.resolved_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
                ),
                (state, _) => state.as_str().to_owned(),
            };
            let (id, until, check) = (id.clone(), until.clone(), f.check.clone());
            let actions = can_accept.then(move || match f.state {
                FindingState::Open => view! {
                    <details class="inline-form">
                        <summary>"Accept risk…"</summary>
                        <ActionForm action=accept>
                            <input type="hidden" name="id" value=id />
                            <input type="hidden" name="check" value=check />
                            <label class="wide">"Justification"<textarea name="justification" required=true minlength="10" maxlength="2000"></textarea></label>
                            <label>"Accepted until"<input type="date" name="until" required=true value=until /></label>
                            <button type="submit">"Accept risk"</button>
                        </ActionForm>
                    </details>
                }.into_any(),
                FindingState::Accepted => view! {
                    <details class="inline-form">
                        <summary>"Reopen…"</summary>
                        <ActionForm action=reopen>
                            <input type="hidden" name="id" value=id />
                            <input type="hidden" name="check" value=check />
                            <label class="wide">"Reason"<input type="text" name="reason" required=true maxlength="2000" /></label>
                            <button type="submit">"Reopen"</button>
                        </ActionForm>
                    </details>
                }.into_any(),
                FindingState::Resolved => ().into_any(),
            });
            let severity = f.severity.as_str();
            view! {
                <tr class=format!("finding {}", f.state.as_str()) data-check=f.check.clone()>
                    <td><span class=format!("badge severity-{severity}")>{severity}</span></td>
                    <th scope="row">{f.title.clone()}</th>
                    <td>{f.detail.clone()}</td>
                    <td>{f.controls.join(", ")}</td>
                    <td>{state}</td>
                    <td>{f.opened_at.format("%Y-%m-%d").to_string()}</td>
                    {can_accept.then(|| view! { <td>{actions}</td> })}
                </tr>
            }
        })
        .collect_view();
    view! {
        <p>{format!("{open} open.")}</p>
        {message}
        <div class="table-wrap">
            <table class="data-table" id="findings">
                <thead>
                    <tr>
                        <th scope="col">"Severity"</th>
                        <th scope="col">"Check"</th>
                        <th scope="col">"What is wrong"</th>
                        <th scope="col">"Controls"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Opened"</th>
                        {can_accept.then(|| view! { <th scope="col">"Action"</th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_acceptance_lasts_through_its_last_day_and_defaults_to_ninety_days() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(end_of_day(day).to_rfc3339(), "2026-12-05T23:59:59+00:00");
        let now: DateTime<Utc> = "2026-11-29T10:00:00Z".parse().unwrap();
        assert_eq!(default_acceptance_end(now), "2027-02-27");
        assert!(steward_domain::posture::dashboard::parse_day("2026-13-01").is_err());
        assert_eq!(percent(66.666), "66.7%");
    }
}
