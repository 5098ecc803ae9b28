//! The printable evidence report of a campaign.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use steward_domain::campaigns::{CampaignState, Evidence};

use crate::error::ErrorNotice;
use crate::format;

use super::{campaign_evidence, outcome_text, progress_text};

#[component]
pub fn EvidencePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let evidence = Resource::new(move || id.get(), campaign_evidence);
    view! {
        <Title text="Evidence report" />
        <Transition fallback=|| {
            view! { <p class="loading">"Loading the evidence…"</p> }
        }>
            {move || Suspend::new(async move {
                match evidence.await {
                    Ok(evidence) => view! { <EvidenceView evidence /> }.into_any(),
                    Err(error) => {
                        view! {
                            <h1>"Evidence report"</h1>
                            <ErrorNotice error />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn EvidenceView(evidence: Evidence) -> impl IntoView {
    let campaign = &evidence.campaign;
    let draft = campaign.draft.clone();
    let progress = campaign.progress();
    let counts = evidence.outcome_counts();
    let exceptions: Vec<_> = evidence.exceptions().cloned().collect();
    let row = |r: steward_domain::campaigns::EvidenceRow| {
        let i = r.item;
        view! {
            <tr>
                <th scope="row">
                    {i.snapshot.name.clone()}
                    <span class="sub">
                        {format!("{} · {}", i.snapshot.kind.label(), i.snapshot.environment)}
                    </span>
                </th>
                <td>{i.reviewer.label()}</td>
                <td>{outcome_text(&i)}</td>
                <td>
                    {i.decided_by.clone().unwrap_or_default()}
                    <span class="sub">
                        {i
                            .decided_at
                            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                            .unwrap_or_default()}
                    </span>
                </td>
                <td>
                    {i.remediation.to_string()}
                    {i.remediation_note.clone().map(|n| view! { <span class="sub">{n}</span> })}
                </td>
                <td class="hash">
                    {r.audit_seq.map(|s| format!("#{s} ")).unwrap_or_default()}
                    <code>{r.audit_hash.clone().unwrap_or_default()}</code>
                </td>
            </tr>
        }
    };
    let head = || {
        view! {
            <thead>
                <tr>
                    <th scope="col">"Identity"</th>
                    <th scope="col">"Reviewer"</th>
                    <th scope="col">"Outcome"</th>
                    <th scope="col">"Decided by"</th>
                    <th scope="col">"Change"</th>
                    <th scope="col">"Audit event"</th>
                </tr>
            </thead>
        }
    };
    view! {
        <article class="evidence-report">
            <h1>{format!("Evidence: {}", draft.name)}</h1>
            <p class="muted">
                {format!(
                    "Generated {} · campaign {} · {}",
                    evidence.generated_at.format("%Y-%m-%d %H:%M UTC"),
                    campaign.id,
                    campaign.state,
                )}
                {(campaign.state != CampaignState::Closed)
                    .then_some(" · the campaign is not closed: this is an interim report")}
            </p>
            <p class="no-print">
                <a href=format!(
                    "/api/v1/campaigns/{}/evidence.csv",
                    campaign.id,
                )>"Download the CSV"</a>
                " · print this page for a PDF."
            </p>
            <section>
                <h2>"Scope and controls"</h2>
                <dl class="facts">
                    <dt>"Scope"</dt>
                    <dd>
                        {if draft.scope.is_empty() {
                            "every identity".to_owned()
                        } else {
                            draft.scope.clone()
                        }}
                    </dd>
                    <dt>"Ran"</dt>
                    <dd>
                        {format!(
                            "{} to {} (due {})",
                            format::date(campaign.launched_at),
                            campaign
                                .closed_at
                                .map_or_else(|| "still open".to_owned(), |t| format::date(Some(t))),
                            format::date(Some(draft.due_at)),
                        )}
                    </dd>
                    <dt>"Created by"</dt>
                    <dd>{campaign.created_by.clone()}</dd>
                    <dt>"Undecided at close"</dt>
                    <dd>{draft.close_policy.to_string()}</dd>
                </dl>
                <ul class="controls">
                    {evidence
                        .controls
                        .iter()
                        .map(|(id, title)| {
                            view! {
                                <li>
                                    <strong>{id.clone()}</strong>
                                    " "
                                    {title.clone()}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
            <section>
                <h2>"Completion"</h2>
                <p id="evidence-completion">{progress_text(&progress)}</p>
                <table class="data-table" id="outcomes">
                    <thead>
                        <tr>
                            <th scope="col">"Outcome"</th>
                            <th scope="col">"Items"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {counts
                            .into_iter()
                            .map(|(k, n)| {
                                view! {
                                    <tr>
                                        <th scope="row">{k}</th>
                                        <td>{format::count(n)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </section>
            <section>
                <h2>"Exceptions"</h2>
                {if exceptions.is_empty() {
                    view! { <p class="muted">"None: every item was certified."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table class="data-table" id="exceptions">
                                {head()}
                                <tbody>{exceptions.into_iter().map(row).collect_view()}</tbody>
                            </table>
                        </div>
                    }
                        .into_any()
                }}
            </section>
            <section>
                <h2>"Every item"</h2>
                <div class="table-wrap">
                    <table class="data-table" id="evidence-items">
                        {head()}
                        <tbody>{evidence.rows.clone().into_iter().map(row).collect_view()}</tbody>
                    </table>
                </div>
            </section>
        </article>
    }
    .into_any()
}
