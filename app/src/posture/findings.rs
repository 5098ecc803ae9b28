//! An identity's findings, with accepting a risk and reopening it.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use steward_domain::posture::findings::{Finding, FindingState};

use crate::toast::Toast;

use super::{default_acceptance_end, AcceptFinding, ReopenFinding};

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
                Err(error) => view! {
                    <p class="notice error" role="alert">
                        {error.to_string()}
                    </p>
                }
                .into_any(),
            })
    };
    if findings.is_empty() {
        return view! {
            <p class="muted" id="findings-none">
                "No findings: every check passes (or no evaluation has reached this identity yet)."
            </p>
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
                    f.resolved_at
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_default()
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
                            <label class="wide">
                                "Justification"
                                <textarea
                                    name="justification"
                                    required=true
                                    minlength="10"
                                    maxlength="2000"
                                ></textarea>
                            </label>
                            <label>
                                "Accepted until"
                                <input type="date" name="until" required=true value=until />
                            </label>
                            <button type="submit">"Accept risk"</button>
                        </ActionForm>
                    </details>
                }
                .into_any(),
                FindingState::Accepted => view! {
                    <details class="inline-form">
                        <summary>"Reopen…"</summary>
                        <ActionForm action=reopen>
                            <input type="hidden" name="id" value=id />
                            <input type="hidden" name="check" value=check />
                            <label class="wide">
                                "Reason"
                                <input type="text" name="reason" required=true maxlength="2000" />
                            </label>
                            <button type="submit">"Reopen"</button>
                        </ActionForm>
                    </details>
                }
                .into_any(),
                FindingState::Resolved => ().into_any(),
            });
            let severity = f.severity.as_str();
            view! {
                <tr class=format!("finding {}", f.state.as_str()) data-check=f.check.clone()>
                    <td>
                        <span class=format!("badge severity-{severity}")>{severity}</span>
                    </td>
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
