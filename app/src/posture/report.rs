//! The printable posture report of a day.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use steward_domain::posture::dashboard::PostureReport;

use crate::error::AppError;

use super::controls::ControlTables;
use super::dashboard::headline;
use super::get_report;

/// `/posture/report?day=YYYY-MM-DD`: the posture of one day, laid out for printing.
#[component]
pub fn ReportPage() -> impl IntoView {
    let query = use_query_map();
    let day = Memo::new(move |_| query.with(|q| q.get("day")).unwrap_or_default());
    let report = Resource::new(move || day.get(), get_report);
    view! {
        <Title text="Posture report" />
        <Transition fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading the report…"
                </p>
            }
        }>
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
                                <form
                                    method="get"
                                    action="/posture/report"
                                    class="filters no-print"
                                >
                                    <label>
                                        "Another day" <input type="date" name="day" required=true />
                                    </label>
                                    <button type="submit">"Show"</button>
                                </form>
                            </div>
                        }
                            .into_any()
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
                <p class="muted">
                    {format!(
                        "Evaluation of {} at {} · catalog {}",
                        report.day,
                        s.taken_at.format("%H:%M UTC"),
                        s.catalog_version,
                    )}
                </p>
                <p class="no-print">
                    <button type="button" onclick="window.print()">
                        "Print"
                    </button>
                    " "
                    <a href="/posture">"Back to the dashboard"</a>
                </p>
            </header>
            <section>
                <h2>"Summary"</h2>
                {headline(&s)}
                <p>
                    {format!(
                        "{} identities were unused for 90 days or more ({} machine, {} AI).",
                        s.stale.total(),
                        s.stale.machine,
                        s.stale.ai,
                    )}
                </p>
            </section>
            <section>
                <h2>"Findings by check"</h2>
                <table class="data-table">
                    <thead>
                        <tr>
                            <th scope="col">"Check"</th>
                            <th scope="col">"Severity"</th>
                            <th scope="col">"Controls"</th>
                            <th scope="col">"Open"</th>
                            <th scope="col">"Accepted"</th>
                        </tr>
                    </thead>
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
