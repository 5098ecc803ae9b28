//! The managers' dashboard page: headline numbers, charts (each element a link to the
//! inventory behind it) and the numbers as tables.

use leptos::prelude::*;
use leptos_meta::Title;
use steward_domain::posture::dashboard::Snapshot;
use steward_domain::posture::findings::EvaluationReport;

use crate::error::{AppError, ErrorNotice};
use crate::toast::Toast;

use super::{evaluate_now, get_dashboard, percent, DashboardView};

/// `/posture`
#[component]
pub fn DashboardPage() -> impl IntoView {
    let evaluate = Action::new(|_: &()| evaluate_now());
    let dashboard = Resource::new(move || evaluate.version().get(), |_| get_dashboard());
    view! {
        <Title text="Posture" />
        <h1>"Compliance posture"</h1>
        <p class="lede">
            "How the programme stands against OWASP NHI, OWASP Agentic and NIST. Click any bar or cell to see the identities behind it."
        </p>
        <Transition fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading the posture…"
                </p>
            }
        }>
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
        <button
            type="button"
            id="evaluate-now"
            on:click=move |_| {
                evaluate.dispatch(());
            }
            disabled=move || evaluate.pending().get()
        >
            {move || if evaluate.pending().get() { "Evaluating…" } else { "Evaluate now" }}
        </button>
        {move || {
            evaluate
                .value()
                .get()
                .map(|result| match result {
                    Ok(r) => {
                        view! {
                            <Toast
                                id="evaluate-result"
                                message=format!(
                                    "Evaluated {} identities: {} findings open, {} opened, {} resolved.",
                                    r.identities,
                                    r.open,
                                    r.opened,
                                    r.resolved,
                                )
                            />
                        }
                            .into_any()
                    }
                    Err(error) => {
                        view! {
                            <p class="notice error" role="alert" id="evaluate-result">
                                {error.to_string()}
                            </p>
                        }
                            .into_any()
                    }
                })
        }}
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
                    {has_rows
                        .then(|| {
                            view! {
                                <details>
                                    <summary>"The numbers"</summary>
                                    <table class="data-table">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Item"</th>
                                                <th scope="col">"Value"</th>
                                                <th scope="col">"Inventory"</th>
                                            </tr>
                                        </thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </details>
                            }
                        })}
                </section>
            }
            .into_any()
        })
        .collect_view();
    view! {
        <div class="toolbar">
            <span class="muted" id="posture-as-of">
                {format!(
                    "As of the evaluation at {}",
                    snapshot.taken_at.format("%Y-%m-%d %H:%M UTC"),
                )}
            </span>
            <a href="/api/v1/posture/dashboard.csv" download="steward-posture.csv">
                "Download CSV"
            </a>
            <a href=format!("/posture/report?day={today}")>"Printable report"</a>
            <a href="/controls">"All controls"</a>
            {can_evaluate.then(|| view! { <EvaluateButton evaluate /> })}
        </div>
        {headline}
        <div class="chart-grid">{charts}</div>
    }
    .into_any()
}

pub(super) fn headline(snapshot: &Snapshot) -> AnyView {
    use steward_domain::inventory::ActorClass;
    view! {
        <div class="headline" id="posture-headline">
            <div class="stat">
                <span class="stat-value">{percent(snapshot.governed_percent(None))}</span>
                <span class="stat-label">"governed (owner, expiry and revocation path)"</span>
            </div>
            <div class="stat">
                <span class="stat-value">
                    {percent(snapshot.governed_percent(Some(ActorClass::Machine)))}
                </span>
                <span class="stat-label">
                    {format!("of {} machine identities", snapshot.identities.machine)}
                </span>
            </div>
            <div class="stat">
                <span class="stat-value">
                    {percent(snapshot.governed_percent(Some(ActorClass::Ai)))}
                </span>
                <span class="stat-label">
                    {format!("of {} AI identities", snapshot.identities.ai)}
                </span>
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
