//! The runtime-authorization section of an identity's page: limits, enforcement mode, the test bench, compiled policies and recent decisions.

use super::*;

fn decision_badge(decision: Decision) -> impl IntoView {
    view! { <span class=format!("badge decision-{decision}")>{decision.as_str()}</span> }
}

/// The identity page's runtime authorization section.
#[component]
pub fn AuthzSection(identity_id: uuid::Uuid, environment: String) -> impl IntoView {
    let save = ServerAction::<SaveLimits>::new();
    let test = ServerAction::<TestAuthz>::new();
    let mode = ServerAction::<SetAuthzMode>::new();
    let id = identity_id.to_string();
    let data = Resource::new(
        move || (save.version().get(), mode.version().get()),
        move |_| authz_overview(identity_id.to_string()),
    );
    let switched = move || {
        mode.value().get().map(|r| match r {
            Ok(report) => view! {
                <Toast message=format!(
                    "Now in {} mode; it applies from the next decision.",
                    report.mode,
                ) />
            }
            .into_any(),
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    let saved = move || {
        save.value().get().map(|r| match r {
            Ok(_) => view! { <Toast message="Limits saved; they apply from the next decision." /> }
                .into_any(),
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    let tested = move || {
        test.value().get().map(|r| match r {
            Ok(answer) => view! {
                <div class="notice" role="status" id="bench-result">
                    <p>"Decision: "{decision_badge(answer.decision)}</p>
                    <p>
                        {if answer.reasons.is_empty() {
                            "Decided by: no policy (default deny)".to_owned()
                        } else {
                            format!("Decided by: {}", answer.reasons.join(", "))
                        }}
                    </p>
                    {(!answer.diagnostics.is_empty())
                        .then(|| {
                            view! {
                                <ul>
                                    {answer
                                        .diagnostics
                                        .into_iter()
                                        .map(|d| view! { <li>{d}</li> })
                                        .collect_view()}
                                </ul>
                            }
                        })}
                </div>
            }
            .into_any(),
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <Transition fallback=|| {
            view! { <p class="loading">"Loading runtime authorization…"</p> }
        }>
            {move || {
                let id = id.clone();
                let environment = environment.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(overview) => {
                            view! { <AuthzView overview id environment save test mode /> }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })
            }}
        </Transition>
        {saved}
        {tested}
        {switched}
    }
}

#[component]
fn AuthzView(
    overview: AuthzData,
    id: String,
    environment: String,
    save: ServerAction<SaveLimits>,
    test: ServerAction<TestAuthz>,
    mode: ServerAction<SetAuthzMode>,
) -> impl IntoView {
    let AuthzData {
        limits,
        policies,
        decisions,
        can_manage,
        proof,
        monitor,
    } = overview;
    let proof_view = view! {
        <p id="proof">
            <strong>"Proves itself with: "</strong>
            {proof.summary()}
            {(!proof.federated.is_empty())
                .then(|| {
                    view! {
                        " — "
                        {proof
                            .federated
                            .iter()
                            .map(|(name, mode)| format!("{name} ({mode})"))
                            .collect::<Vec<_>>()
                            .join(", ")}
                    }
                })}
            {(proof.static_secrets > 0)
                .then(|| {
                    view! {
                        <span class="sub">
                            {format!(
                                "{} live static secret{} (credentials and API tokens)",
                                proof.static_secrets,
                                if proof.static_secrets == 1 { "" } else { "s" },
                            )}
                        </span>
                    }
                })}
            " "
            <a href="/authz/trust">"Workload trust…"</a>
        </p>
    };
    let other_mode = match monitor.mode {
        EnforcementMode::Monitor => EnforcementMode::Enforce,
        EnforcementMode::Enforce => EnforcementMode::Monitor,
    };
    let mode_id = id.clone();
    let monitor_view = view! {
        <div id="monitor">
            <h3>"Enforcement"</h3>
            <p>{crate::federation::mode_badge(monitor.mode)}" "{monitor_text(&monitor)}</p>
            {(!monitor.recent.is_empty())
                .then(|| {
                    view! {
                        <div class="table-wrap">
                            <table class="data-table" id="would-deny">
                                <caption>"What enforcing would have denied"</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"When"</th>
                                        <th scope="col">"Action"</th>
                                        <th scope="col">"Resource"</th>
                                        <th scope="col">"Would be denied by"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {monitor
                                        .recent
                                        .iter()
                                        .map(|d| {
                                            view! {
                                                <tr>
                                                    <td>{d.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                                                    <td>{d.action.clone()}</td>
                                                    <td>
                                                        <code>{d.resource.clone()}</code>
                                                    </td>
                                                    <td>
                                                        {d
                                                            .would_deny
                                                            .as_deref()
                                                            .map(would_deny_text)
                                                            .unwrap_or_default()}
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                })}
            {can_manage
                .then(|| {
                    view! {
                        <details>
                            <summary>{format!("Switch to {other_mode}…")}</summary>
                            <ActionForm action=mode attr:class="stacked" attr:id="mode-form">
                                <input type="hidden" name="identity_id" value=mode_id />
                                <input type="hidden" name="mode" value=other_mode.as_str() />
                                <label>
                                    "Why (kept in the audit trail)"
                                    <input
                                        type="text"
                                        name="reason"
                                        required=true
                                        maxlength="500"
                                    />
                                </label>
                                <button type="submit">{format!("Switch to {other_mode}")}</button>
                            </ActionForm>
                        </details>
                    }
                })}
        </div>
    };
    let number = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    let tools_text = limits.tools.join(", ");
    let summary_text = if limits.tools.is_empty() {
        "No tool allowlist: the agent may call no tool.".to_owned()
    } else {
        format!("Tools: {tools_text}")
    };
    let form_id = id.clone();
    let limits_form = can_manage.then(move || {
        view! {
            <ActionForm action=save attr:class="limits-form" attr:id="limits-form">
                <input type="hidden" name="identity_id" value=form_id />
                <label>
                    "Tool allowlist (comma or space separated)" <textarea name="tools" rows="2">
                        {tools_text}
                    </textarea>
                </label>
                <label>
                    "Allowed environments (empty: any)"
                    <input type="text" name="environments" value=limits.environments.join(", ") />
                </label>
                <label>
                    "Longest session (minutes)"
                    <input
                        type="number"
                        min="1"
                        name="max_session_minutes"
                        value=number(limits.max_session_minutes)
                    />
                </label>
                <label>
                    "Most calls per session"
                    <input type="number" min="1" name="max_calls" value=number(limits.max_calls) />
                </label>
                <label>
                    "Longest delegation chain"
                    <input
                        type="number"
                        min="1"
                        max="10"
                        name="max_delegation_depth"
                        value=number(limits.max_delegation_depth)
                    />
                </label>
                <button type="submit">"Save limits"</button>
            </ActionForm>
        }
    });
    let summary = (!can_manage).then(move || view! { <p>{summary_text}</p> });
    view! {
        {proof_view}
        {monitor_view}
        <h3>"Limits"</h3>
        {limits_form}
        {summary}
        <h3>"Test bench"</h3>
        <p class="muted">
            "Evaluate a hypothetical request with the policies in force; nothing is counted or logged."
        </p>
        <ActionForm action=test attr:class="bench-form" attr:id="bench-form">
            <input type="hidden" name="identity_id" value=id />
            <label>
                "Action"
                <select name="action">
                    {AuthzAction::ALL
                        .iter()
                        .map(|a| view! { <option value=a.as_str()>{a.as_str()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Resource id (tool, dataset or identity id)"
                <input type="text" name="resource" required=true maxlength="200" />
            </label>
            <label>"Environment" <input type="text" name="environment" value=environment /></label>
            <label>"Task" <input type="text" name="task" maxlength="500" /></label>
            <label>
                "Data sensitivity" <select name="data_sensitivity">
                    <option value="">"(none)"</option>
                    {steward_domain::identity::Sensitivity::ALL
                        .iter()
                        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
                        .collect_view()}
                </select>
            </label>
            <button type="submit">"Evaluate"</button>
        </ActionForm>
        <details>
            <summary>{format!("Policies in force ({})", policies.len())}</summary>
            <ul class="policy-list">
                {policies
                    .into_iter()
                    .map(|p| {
                        view! {
                            <li>
                                <code>{p.id}</code>
                                <pre>{p.text}</pre>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </details>
        <h3>"Recent decisions"</h3>
        {if decisions.is_empty() {
            view! {
                <p class="muted">
                    "No decision asked yet. Agents ask with POST /api/v1/authorize and a token made for them."
                </p>
            }
                .into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="data-table" id="decisions">
                        <thead>
                            <tr>
                                <th scope="col">"When"</th>
                                <th scope="col">"Action"</th>
                                <th scope="col">"Resource"</th>
                                <th scope="col">"Decision"</th>
                                <th scope="col">"Why"</th>
                                <th scope="col">"Drift"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {decisions
                                .into_iter()
                                .map(|d| {
                                    view! {
                                        <tr>
                                            <td>{d.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                                            <td>{d.action}</td>
                                            <td>
                                                <code>{d.resource}</code>
                                            </td>
                                            <td>
                                                {decision_badge(d.decision)}
                                                {d
                                                    .would_deny
                                                    .as_deref()
                                                    .map(|note| {
                                                        view! {
                                                            <span class="sub">
                                                                {format!("monitor: would deny ({})", would_deny_text(note))}
                                                            </span>
                                                        }
                                                    })}
                                            </td>
                                            <td>
                                                {if d.reasons.is_empty() {
                                                    "default deny".to_owned()
                                                } else {
                                                    d.reasons.join(", ")
                                                }}
                                            </td>
                                            <td>
                                                {d.drift.map(|drift| drift_text(drift.kind)).unwrap_or("")}
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
        }}
    }
    .into_any()
}
