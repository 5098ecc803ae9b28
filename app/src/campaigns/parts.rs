//! Small pieces the campaign pages share: texts of progress, decisions and outcomes,
//! item links, badges, charts and tables.

use leptos::prelude::*;
use steward_domain::campaigns::{
    CampaignState, CloseOutcome, Decision, ItemFilter, Progress, Remediation, ReviewItem,
};

use crate::format;

use super::ProgressChart;

/// `3 of 10 decided (30%)`.
pub fn progress_text(progress: &Progress) -> String {
    format!(
        "{} of {} decided ({}%)",
        format::count(progress.decided),
        format::count(progress.total),
        progress.percent()
    )
}

/// A decision as a sentence: `Revoke — not needed since the migration`.
pub fn decision_text(decision: &Decision) -> String {
    let name = match decision {
        Decision::Certify { .. } => "Certified".to_owned(),
        Decision::Revoke { .. } => "Revoked".to_owned(),
        Decision::Reduce { entitlements, .. } => {
            format!("Reduced ({} entitlements removed)", entitlements.len())
        }
        Decision::Reassign { to, .. } => format!("Reassigned to {to}"),
        Decision::Expire { at, .. } => format!("Expires {}", at.format("%Y-%m-%d")),
    };
    match decision.comment() {
        Some(comment) => format!("{name} — {comment}"),
        None => name,
    }
}

/// An item's outcome as shown in tables.
pub fn outcome_text(item: &ReviewItem) -> String {
    match (&item.decision, item.close_outcome) {
        (Some(decision), _) => decision_text(decision),
        (None, Some(CloseOutcome::Kept)) => "Kept at close (undecided)".to_owned(),
        (None, Some(CloseOutcome::Revoked)) => "Revoked at close (undecided)".to_owned(),
        (None, None) => "Undecided".to_owned(),
    }
}

/// The link to a page of a campaign's items.
pub fn items_href(campaign: uuid::Uuid, filter: ItemFilter, offset: u64) -> String {
    let mut href = format!("/campaigns/{campaign}?filter={filter}");
    if offset > 0 {
        href.push_str(&format!("&offset={offset}"));
    }
    href.push_str("#items");
    href
}

pub(super) fn state_badge(state: CampaignState) -> impl IntoView {
    view! { <span class=format!("badge campaign-{state}")>{state.as_str()}</span> }
}

pub(super) fn remediation_badge(remediation: Remediation) -> impl IntoView {
    let label = match remediation {
        Remediation::NotNeeded => "—",
        Remediation::Pending => "pending",
        Remediation::Done => "done",
        Remediation::Failed => "failed",
    };
    view! { <span class=format!("badge remediation-{remediation}")>{label}</span> }
}

pub(super) fn chart_view(chart: ProgressChart) -> impl IntoView {
    view! {
        <section class="card chart-card" aria-labelledby=format!("{}-h", chart.id)>
            <h2 id=format!("{}-h", chart.id)>{chart.title.clone()}</h2>
            <p class="muted">{chart.description.clone()}</p>
            <div class="chart-frame" id=chart.id.clone() inner_html=chart.svg></div>
        </section>
    }
}

pub(super) fn progress_table(
    id: &'static str,
    caption: &'static str,
    rows: Vec<Progress>,
) -> impl IntoView {
    view! {
        <table class="data-table" id=id>
            <caption>{caption}</caption>
            <thead>
                <tr>
                    <th scope="col">"Who"</th>
                    <th scope="col">"Decided"</th>
                    <th scope="col">"Items"</th>
                    <th scope="col">"Done"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|p| {
                        view! {
                            <tr>
                                <th scope="row">{p.label.clone()}</th>
                                <td>{format::count(p.decided)}</td>
                                <td>{format::count(p.total)}</td>
                                <td>
                                    <progress max="100" value=p.percent().to_string()></progress>
                                    " "
                                    {format!("{}%", p.percent())}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

pub(super) fn overdue_table(items: Vec<ReviewItem>) -> AnyView {
    if items.is_empty() {
        return view! { <p class="muted">"Nothing is overdue."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" id="overdue">
                <thead>
                    <tr>
                        <th scope="col">"Identity"</th>
                        <th scope="col">"Campaign"</th>
                        <th scope="col">"Reviewer"</th>
                        <th scope="col">"Due"</th>
                        <th scope="col">"Escalated"</th>
                    </tr>
                </thead>
                <tbody>
                    {items
                        .into_iter()
                        .map(|i| {
                            view! {
                                <tr>
                                    <th scope="row">
                                        <a href=format!(
                                            "/identities/{}",
                                            i.identity_id,
                                        )>{i.snapshot.name.clone()}</a>
                                    </th>
                                    <td>
                                        <a href=format!(
                                            "/campaigns/{}",
                                            i.campaign_id,
                                        )>{i.campaign_name.clone()}</a>
                                    </td>
                                    <td>{i.reviewer.label()}</td>
                                    <td>{format::date(Some(i.due_at))}</td>
                                    <td>
                                        {i
                                            .escalated_at
                                            .map_or_else(
                                                || "no".to_owned(),
                                                |t| format!("yes, {}", format::date(Some(t))),
                                            )}
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
}
