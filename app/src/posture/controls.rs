//! The **Controls** page: each catalog control with its state.

use leptos::prelude::*;
use leptos_meta::Title;
use steward_domain::posture::dashboard::ControlStatus;

use crate::error::ErrorNotice;

use super::get_controls;
use super::labels::state_label;

/// `/controls`
#[component]
pub fn ControlsPage() -> impl IntoView {
    let controls = Resource::new(|| (), |_| get_controls());
    view! {
        <Title text="Controls" />
        <h1>"Controls"</h1>
        <p class="lede">
            "Every control of the frameworks Steward maps to, the checks that cover it, and how it stands at the latest evaluation."
        </p>
        <Transition fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading the controls…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match controls.await {
                    Ok((as_of, controls)) => {
                        view! {
                            <p class="muted">
                                {match as_of {
                                    Some(at) => {
                                        format!(
                                            "As of the evaluation at {}.",
                                            at.format("%Y-%m-%d %H:%M UTC"),
                                        )
                                    }
                                    None => {
                                        "No evaluation has run yet: covered controls show as met until one does."
                                            .into()
                                    }
                                }}
                            </p>
                            <ControlTables controls link=true />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One table per framework.
#[component]
pub(super) fn ControlTables(controls: Vec<ControlStatus>, link: bool) -> impl IntoView {
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
                            <th scope="row">
                                <code>{c.id.clone()}</code>
                            </th>
                            <td>
                                {c.title.clone()}<br />
                                <span class="muted small">{c.summary.clone()}</span>
                            </td>
                            <td>
                                {if c.checks.is_empty() {
                                    "—".to_owned()
                                } else {
                                    c.checks.join(", ")
                                }}
                            </td>
                            <td class="num">{open}</td>
                            <td class="num">{c.accepted}</td>
                            <td>
                                <span class=format!("badge {class}")>{label}</span>
                            </td>
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
