//! One campaign's page: progress by reviewer and team, its items and closing it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use steward_domain::campaigns::{CampaignDetail, CampaignState, ItemFilter, Remediation};

use crate::error::ErrorNotice;
use crate::format;
use crate::toast::Toast;

use super::parts::{chart_view, overdue_table, progress_table, remediation_badge, state_badge};
use super::{
    campaign_page, items_href, outcome_text, progress_text, CampaignPageData, CloseCampaign,
    RetryItem,
};

#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let filter = Memo::new(move |_| query.with(|q| q.get("filter").unwrap_or_default()));
    let offset = Memo::new(move |_| {
        query.with(|q| {
            q.get("offset")
                .and_then(|o| o.parse::<u64>().ok())
                .unwrap_or(0)
        })
    });
    let close = ServerAction::<CloseCampaign>::new();
    let retry = ServerAction::<RetryItem>::new();
    let data = Resource::new(
        move || {
            (
                id.get(),
                filter.get(),
                offset.get(),
                close.version().get(),
                retry.version().get(),
            )
        },
        |(id, filter, offset, _, _)| campaign_page(id, filter, offset),
    );
    let outcome = move || {
        let closed = close.value().get().map(|r| {
            r.map(|c| {
                format!(
                    "Campaign \"{}\" is closed; its evidence pack is final.",
                    c.draft.name
                )
            })
        });
        let retried = retry
            .value()
            .get()
            .map(|r| r.map(|i| format!("{}: remediation {}.", i.snapshot.name, i.remediation)));
        closed.or(retried).map(|r| match r {
            Ok(message) => view! { <Toast message /> }.into_any(),
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <Title text="Campaign" />
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading the campaign…"</p> }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <CampaignView data close retry /> }.into_any(),
                    Err(error) => {
                        view! {
                            <h1>"Campaign"</h1>
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
fn CampaignView(
    data: CampaignPageData,
    close: ServerAction<CloseCampaign>,
    retry: ServerAction<RetryItem>,
) -> impl IntoView {
    let CampaignPageData {
        detail,
        items,
        filter,
        charts,
        can_manage,
        can_export,
    } = data;
    let CampaignDetail {
        campaign,
        by_reviewer,
        by_team,
        overdue,
    } = detail;
    let id = campaign.id;
    let draft = campaign.draft.clone();
    let undecided = campaign.items - campaign.decided;
    let reviewed: Vec<&str> = [
        (draft.reviewed.ownership, "ownership"),
        (draft.reviewed.entitlements, "entitlements"),
        (draft.reviewed.credentials, "credentials"),
    ]
    .into_iter()
    .filter_map(|(on, what)| on.then_some(what))
    .collect();
    let name = draft.name.clone();
    let close_form = (can_manage && campaign.state == CampaignState::Open).then(|| {
        let consequence = match draft.close_policy {
            steward_domain::campaigns::ClosePolicy::Keep => {
                format!("the {undecided} undecided items keep their access (listed as exceptions)")
            }
            steward_domain::campaigns::ClosePolicy::Revoke => {
                format!("the access of the {undecided} undecided items is revoked")
            }
        };
        view! {
            <details class="card danger-zone">
                <summary>"Close the campaign…"</summary>
                <ActionForm action=close>
                    <input type="hidden" name="id" value=id.to_string() />
                    <label class="check">
                        <input type="checkbox" name="confirm" value="yes" required=true />
                        {format!("I confirm: close \"{name}\" now; {consequence}.")}
                    </label>
                    <button type="submit" class="danger">
                        "Close campaign"
                    </button>
                </ActionForm>
            </details>
        }
    });
    let evidence = can_export.then(|| {
        view! {
            <p class="actions">
                <a class="button" href=format!("/campaigns/{id}/evidence")>
                    "Evidence report"
                </a>
                " "
                <a
                    class="button secondary"
                    href=format!("/api/v1/campaigns/{id}/evidence.csv")
                    download=format!("steward-evidence-{id}.csv")
                >
                    "Evidence (CSV)"
                </a>
            </p>
        }
    });
    let tabs = ItemFilter::ALL
        .iter()
        .map(|f| {
            let current = *f == filter;
            view! {
                <a href=items_href(id, *f, 0) aria-current=current.then_some("page")>
                    {f.as_str()}
                </a>
            }
        })
        .collect_view();
    let pager = {
        let prev = (items.offset > 0).then(|| {
            view! {
                <a href=items_href(
                    id,
                    filter,
                    items.offset.saturating_sub(items.limit),
                )>"← Previous"</a>
            }
        });
        let next = (items.offset + items.limit < items.total).then(
            || view! { <a href=items_href(id, filter, items.offset + items.limit)>"Next →"</a> },
        );
        view! {
            <nav class="pager" aria-label="Item pages">
                {prev}
                <span>
                    {format!(
                        "{}–{} of {}",
                        if items.total == 0 { 0 } else { items.offset + 1 },
                        (items.offset + items.limit).min(items.total),
                        format::count(items.total),
                    )}
                </span>
                {next}
            </nav>
        }
    };
    let item_rows = if items.items.is_empty() {
        view! { <p class="muted">"No items here."</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="items">
                    <thead>
                        <tr>
                            <th scope="col">"Identity"</th>
                            <th scope="col">"Reviewer"</th>
                            <th scope="col">"Outcome"</th>
                            <th scope="col">"Decided"</th>
                            <th scope="col">"Change"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {items
                            .items
                            .into_iter()
                            .map(|i| {
                                let retry_label = format!(
                                    "Retry the change for {}",
                                    i.snapshot.name,
                                );
                                let retry_label = format!("Retry: {retry_label}");
                                let retry_form = (can_manage
                                    && matches!(
                                        i.remediation,
                                        Remediation::Failed | Remediation::Pending
                                    ))
                                    .then(|| {
                                        view! {
                                            <ActionForm action=retry>
                                                <input type="hidden" name="id" value=i.id.to_string() />
                                                <button
                                                    type="submit"
                                                    class="secondary small"
                                                    aria-label=retry_label
                                                >
                                                    "Retry"
                                                </button>
                                            </ActionForm>
                                        }
                                    });
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <a href=format!(
                                                "/identities/{}",
                                                i.identity_id,
                                            )>{i.snapshot.name.clone()}</a>
                                            <span class="sub">
                                                {format!(
                                                    "{} · {}",
                                                    i.snapshot.kind.label(),
                                                    i.snapshot.environment,
                                                )}
                                            </span>
                                        </th>
                                        <td>
                                            {i.reviewer.label()}
                                            {i
                                                .previous_reviewer
                                                .clone()
                                                .map(|p| {
                                                    view! { <span class="sub">{format!("before: {p}")}</span> }
                                                })}
                                        </td>
                                        <td>{outcome_text(&i)}</td>
                                        <td>
                                            {i.decided_by.clone().unwrap_or_default()}
                                            <span class="sub">
                                                {i
                                                    .decided_at
                                                    .map(|t| format::date(Some(t)))
                                                    .unwrap_or_default()}
                                            </span>
                                        </td>
                                        <td>
                                            {remediation_badge(i.remediation)}
                                            {i
                                                .remediation_note
                                                .clone()
                                                .map(|n| view! { <span class="sub">{n}</span> })}
                                            {retry_form}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <Title text=draft.name.clone() />
        <h1>{draft.name.clone()}" "{state_badge(campaign.state)}</h1>
        <dl class="facts">
            <dt>"Scope"</dt>
            <dd>
                <a href=format!(
                    "/inventory?{}",
                    draft.scope,
                )>
                    {if draft.scope.is_empty() {
                        "every identity".to_owned()
                    } else {
                        draft.scope.clone()
                    }}
                </a>
            </dd>
            <dt>"Controls"</dt>
            <dd>{draft.controls.join(", ")}</dd>
            <dt>"Reviewed"</dt>
            <dd>{reviewed.join(", ")}</dd>
            <dt>"Runs"</dt>
            <dd>
                {format!(
                    "{} to {}",
                    format::date(Some(draft.starts_at)),
                    format::date(Some(draft.due_at)),
                )}
            </dd>
            <dt>"Reminders"</dt>
            <dd>
                {format!(
                    "every {} days; after the due date: {}",
                    draft.remind_every_days,
                    draft.escalation,
                )}
            </dd>
            <dt>"Undecided at close"</dt>
            <dd>{draft.close_policy.to_string()}</dd>
            <dt>"Recurrence"</dt>
            <dd>{draft.recurrence.to_string()}</dd>
            <dt>"Progress"</dt>
            <dd id="campaign-progress">{progress_text(&campaign.progress())}</dd>
            <dt>"Changes pending"</dt>
            <dd>{format::count(campaign.remediation_open)}</dd>
            {campaign
                .closed_at
                .map(|t| {
                    view! {
                        <dt>"Closed"</dt>
                        <dd>{format::date(Some(t))}</dd>
                    }
                })}
        </dl>
        {evidence}
        {close_form}
        <div class="chart-grid">{charts.into_iter().map(chart_view).collect_view()}</div>
        <details>
            <summary>"Progress in numbers"</summary>
            {progress_table("progress-by-reviewer", "By reviewer", by_reviewer)}
            {progress_table("progress-by-team", "By team", by_team)}
        </details>
        <section>
            <h2>"Overdue"</h2>
            {overdue_table(overdue)}
        </section>
        <section id="items">
            <h2>"Items"</h2>
            <nav class="tabs" aria-label="Which items">
                {tabs}
            </nav>
            {item_rows}
            {pager}
        </section>
    }
    .into_any()
}
