//! The sections of an identity's page: the lifecycle form, credentials, entitlements,
//! the delegation diagram and the timeline.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use steward_domain::delegation::DelegationGraph;

use crate::format;

use super::ChangeLifecycle;

/// One lifecycle change behind a disclosure, with a required reason and an explicit
/// confirmation (these are consequential; nothing happens on a single click).
#[component]
pub(super) fn LifecycleForm(
    lifecycle: ServerAction<ChangeLifecycle>,
    id: String,
    change: &'static str,
    label: &'static str,
    field: &'static str,
    confirm: &'static str,
) -> impl IntoView {
    view! {
        <details class="panel" id=format!("lifecycle-{change}")>
            <summary>{label}"…"</summary>
            <ActionForm action=lifecycle>
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="change" value=change />
                <label class="wide">
                    {field}<input type="text" name="reason" required=true maxlength="2000" />
                </label>
                <label class="check">
                    <input type="checkbox" name="confirm" required=true value="yes" />
                    {confirm}
                </label>
                <button type="submit" class="danger">
                    {label}
                </button>
            </ActionForm>
        </details>
    }
}

#[component]
pub(super) fn CredentialTable(
    credentials: Vec<steward_domain::identity::CredentialInfo>,
    as_of: DateTime<Utc>,
) -> impl IntoView {
    if credentials.is_empty() {
        return view! { <p class="muted">"No credentials recorded."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" id="credentials">
                <thead>
                    <tr>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Key id / fingerprint"</th>
                        <th scope="col">"Age (days)"</th>
                        <th scope="col">"Rotation"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Last used"</th>
                    </tr>
                </thead>
                <tbody>
                    {credentials
                        .into_iter()
                        .map(|c| {
                            let state = c.rotation_state(as_of);
                            let policy = c
                                .rotation_days
                                .map_or(String::new(), |d| format!(" (every {d} days)"));
                            view! {
                                <tr>
                                    <td>{c.kind.to_string()}</td>
                                    <td>
                                        <code>{c.key_id.clone()}</code>
                                    </td>
                                    <td>{c.age_days(as_of)}</td>
                                    <td>
                                        <span class=format!(
                                            "badge rotation-{}",
                                            format::rotation_class(state),
                                        )>{state.label()}</span>
                                        {policy}
                                    </td>
                                    <td>{format::date(c.expires_at)}</td>
                                    <td>
                                        {c
                                            .last_used_at
                                            .map_or("never".to_owned(), |t| format::date(Some(t)))}
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

#[component]
pub(super) fn EntitlementTable(
    entitlements: Vec<steward_domain::identity::Entitlement>,
) -> impl IntoView {
    if entitlements.is_empty() {
        return view! { <p class="muted">"No entitlements recorded."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" id="entitlements">
                <thead>
                    <tr>
                        <th scope="col">"Resource"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Privilege"</th>
                        <th scope="col">"Grant"</th>
                        <th scope="col">"Since"</th>
                        <th scope="col">"Removed"</th>
                    </tr>
                </thead>
                <tbody>
                    {entitlements
                        .into_iter()
                        .map(|e| {
                            view! {
                                <tr class=if e.removed_at.is_some() { "removed" } else { "" }>
                                    <td>{e.resource.clone()}</td>
                                    <td>{e.action.clone()}</td>
                                    <td>
                                        {if e.privilege
                                            == steward_domain::identity::Privilege::Admin
                                        {
                                            view! { <span class="badge danger">"admin"</span> }
                                                .into_any()
                                        } else {
                                            view! { <span>{e.privilege.to_string()}</span> }.into_any()
                                        }}
                                    </td>
                                    <td>{e.grant_type.to_string()}</td>
                                    <td>{format::date(Some(e.created_at))}</td>
                                    <td>{format::date(e.removed_at)}</td>
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

/// The delegation DAG as SVG: columns by delegation depth, arrows from delegator to
/// delegate, and under each name the permissions it can exercise through the chain.
#[component]
pub fn DelegationDiagram(graph: DelegationGraph) -> impl IntoView {
    if graph.edges.is_empty() {
        return view! { <p class="muted">"This identity neither delegates nor is delegated to."</p> }.into_any();
    }
    let layout = format::diagram_layout(&graph);
    let description = format::describe_delegation(&graph);
    view! {
        <figure class="delegation">
            <svg
                id="delegation-diagram"
                role="img"
                aria-labelledby="delegation-title delegation-desc"
                viewBox=format!("0 0 {} {}", layout.width, layout.height)
                width=layout.width
                height=layout.height
            >
                <title id="delegation-title">"Delegation diagram"</title>
                <desc id="delegation-desc">{description.clone()}</desc>
                <defs>
                    <marker
                        id="arrow"
                        viewBox="0 0 10 10"
                        refX="10"
                        refY="5"
                        markerWidth="8"
                        markerHeight="8"
                        orient="auto-start-reverse"
                    >
                        <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                    </marker>
                </defs>
                {layout
                    .edges
                    .into_iter()
                    .map(|e| {
                        view! {
                            <line
                                x1=e.x1
                                y1=e.y1
                                x2=e.x2
                                y2=e.y2
                                class="edge"
                                marker-end="url(#arrow)"
                            />
                            <text
                                x=(e.x1 + e.x2) / 2.0
                                y=(e.y1 + e.y2) / 2.0 - 4.0
                                class="edge-label"
                            >
                                {e.label}
                            </text>
                        }
                    })
                    .collect_view()}
                {layout
                    .nodes
                    .into_iter()
                    .map(|n| {
                        view! {
                            <g class=if n.focus { "node focus" } else { "node" }>
                                <title>{n.full_name}</title>
                                <rect x=n.x y=n.y width=n.w height=n.h rx="6" />
                                <text x=n.x + 8.0 y=n.y + 18.0 class="node-name">
                                    {n.name}
                                </text>
                                <text x=n.x + 8.0 y=n.y + 34.0 class="node-kind">
                                    {n.kind}
                                </text>
                                {n
                                    .lines
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, line)| {
                                        view! {
                                            <text
                                                x=n.x + 8.0
                                                y=n.y + 52.0 + 14.0 * i as f64
                                                class="node-perm"
                                            >
                                                {line}
                                            </text>
                                        }
                                    })
                                    .collect_view()}
                            </g>
                        }
                    })
                    .collect_view()}
            </svg>
            <figcaption class="muted">{description}</figcaption>
        </figure>
    }
    .into_any()
}

#[component]
pub(super) fn Timeline(events: Vec<steward_domain::audit::AuditEvent>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted">"No recorded changes yet."</p> }.into_any();
    }
    view! {
        <ol class="timeline" id="timeline">
            {events
                .into_iter()
                .map(|e| {
                    view! {
                        <li>
                            <time datetime=e
                                .at
                                .to_rfc3339()>{e.at.format("%Y-%m-%d %H:%M UTC").to_string()}</time>
                            " "
                            <strong>{format::describe_event(&e.action)}</strong>
                            " "
                            <span class="muted">{format!("by {}", e.actor)}</span>
                            {format::event_summary(&e.details)
                                .map(|s| view! { <div class="muted">{s}</div> })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}
