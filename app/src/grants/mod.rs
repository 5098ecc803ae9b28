//! Just-in-time grant pages: the identity page's **Grant** buttons, the grants page
//! (active grants with filters, my requests, the approvals inbox), one grant with its
//! timeline and actions, and the eligibility policies (admins).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};
use steward_domain::grants::{EligibleEntitlement, Grant, GrantState, GrantView, Policy};

use crate::error::{AppError, ErrorNotice};
use crate::format;
use crate::toast::Toast;

mod list;
mod policies;
pub use list::*;
pub use policies::*;

/// Requests a grant of one just-in-time entitlement (the identity page's Grant button).
#[server(prefix = "/rpc", endpoint = "grants/request")]
pub async fn request_grant(
    identity_id: String,
    entitlement_id: String,
    minutes: Option<String>,
    reason: Option<String>,
) -> Result<Grant, AppError> {
    use steward_domain::grants::GrantRequest;
    use steward_domain::DomainError;
    let ports = crate::session::ports()?;
    let minutes = match minutes.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => Some(
            m.parse()
                .map_err(|_| DomainError::invalid("minutes", "a whole number of minutes"))?,
        ),
        None => None,
    };
    let request = GrantRequest {
        identity_id: crate::error::parse_uuid("identity", &identity_id)?,
        entitlement_id: crate::error::parse_uuid("entitlement", &entitlement_id)?,
        minutes,
        reason,
    };
    Ok(ports
        .grants
        .request(crate::session::principal().as_ref(), &request)
        .await?)
}

/// Approves (`change = approve`), denies, cancels, extends or revokes a grant.
#[server(prefix = "/rpc", endpoint = "grants/change")]
pub async fn change_grant(
    id: String,
    change: String,
    reason: Option<String>,
    minutes: Option<String>,
) -> Result<Grant, AppError> {
    use steward_domain::grants::{EndRequest, ExtendRequest};
    use steward_domain::DomainError;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let id = crate::error::parse_uuid("grant", &id)?;
    let end = || EndRequest {
        reason: reason.clone().unwrap_or_default(),
    };
    Ok(match change.as_str() {
        "approve" => ports.grants.approve(principal.as_ref(), id).await?,
        "deny" => ports.grants.deny(principal.as_ref(), id, &end()).await?,
        "cancel" => ports.grants.cancel(principal.as_ref(), id).await?,
        "revoke" => ports.grants.revoke(principal.as_ref(), id, &end()).await?,
        "extend" => {
            let minutes = minutes
                .as_deref()
                .map(str::trim)
                .and_then(|m| m.parse().ok())
                .ok_or_else(|| DomainError::invalid("minutes", "a whole number of minutes"))?;
            ports
                .grants
                .extend(principal.as_ref(), id, &ExtendRequest { minutes })
                .await?
        }
        other => {
            return Err(DomainError::unknown_value(
                "change",
                other,
                &["approve", "deny", "cancel", "extend", "revoke"],
            )
            .into())
        }
    })
}

/// What the grants page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantsData {
    pub list: String,
    pub grants: Vec<Grant>,
    pub now: chrono::DateTime<chrono::Utc>,
    pub can_manage_policies: bool,
}

#[server(prefix = "/rpc", endpoint = "grants/list")]
pub async fn grants_page(
    list: String,
    owner: String,
    expiring: String,
) -> Result<GrantsData, AppError> {
    use steward_domain::auth::Action;
    use steward_domain::grants::GrantList;
    use steward_domain::DomainError;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let which =
        match list.as_str() {
            "" | "active" => GrantList::Active {
                identity: None,
                owner: Some(owner.trim().to_owned()).filter(|o| !o.is_empty()),
                expiring_minutes: match expiring.trim() {
                    "" => None,
                    m => Some(m.parse().map_err(|_| {
                        DomainError::invalid("expiring", "a whole number of minutes")
                    })?),
                },
            },
            "mine" => GrantList::Mine,
            "to_approve" => GrantList::ToApprove,
            other => {
                return Err(DomainError::unknown_value(
                    "list",
                    other,
                    &["active", "mine", "to_approve"],
                )
                .into())
            }
        };
    Ok(GrantsData {
        list: if list.is_empty() {
            "active".into()
        } else {
            list
        },
        grants: ports.grants.list(principal.as_ref(), which).await?,
        now: chrono::Utc::now(),
        can_manage_policies: principal
            .as_ref()
            .is_some_and(|p| p.can(Action::ManageGrantPolicies)),
    })
}

#[server(prefix = "/rpc", endpoint = "grants/view")]
pub async fn get_grant(id: String) -> Result<GrantView, AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .grants
        .view(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("grant", &id)?,
        )
        .await?)
}

/// `12 min left`, `expired`, or the state of a grant that is not active.
pub fn remaining(grant: &Grant, now: chrono::DateTime<chrono::Utc>) -> String {
    match (grant.state, grant.expires_at) {
        (GrantState::Active, Some(expires)) if expires > now => {
            let minutes = (expires - now).num_minutes();
            if minutes >= 120 {
                format!("{} h {} min left", minutes / 60, minutes % 60)
            } else {
                format!("{} min left", minutes.max(1))
            }
        }
        (GrantState::Active, _) => "expiring".to_owned(),
        (state, _) => state.to_string(),
    }
}

fn state_badge(state: GrantState) -> impl IntoView {
    view! { <span class=format!("badge grant-{state}")>{state.as_str()}</span> }
}

/// The identity page's just-in-time section: each eligible entitlement with its Grant
/// button (and a reason field where its policy asks for one), or its open grant.
#[component]
pub fn JitSection(
    identity_id: uuid::Uuid,
    eligible: Vec<EligibleEntitlement>,
    request: ServerAction<RequestGrant>,
    now: chrono::DateTime<chrono::Utc>,
) -> impl IntoView {
    let result = move || {
        request.value().get().map(|r| match r {
            Ok(g) if g.state == GrantState::Active => view! {
                <Toast message=format!(
                    "Granted: {} is active until {}. ",
                    g.scope(),
                    g.expires_at.map(|t| t.format("%H:%M UTC").to_string()).unwrap_or_default(),
                )>
                    <a href=format!("/grants/{}", g.id)>"See the grant"</a>
                    "."
                </Toast>
            }
            .into_any(),
            Ok(g) => view! {
                <Toast message=format!(
                    "Requested: {} waits for approval ({}). ",
                    g.scope(),
                    g.approval_mode,
                )>
                    <a href=format!("/grants/{}", g.id)>"See the request"</a>
                    "."
                </Toast>
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
    if eligible.is_empty() {
        return view! {
            <p class="muted">
                "No just-in-time entitlement of this identity is covered by a grant policy."
            </p>
            {result}
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" id="eligible">
                <thead>
                    <tr>
                        <th scope="col">"Entitlement"</th>
                        <th scope="col">"Policy"</th>
                        <th scope="col">"Grant"</th>
                    </tr>
                </thead>
                <tbody>
                    {eligible
                        .into_iter()
                        .map(|e| {
                            let permission = e.entitlement.permission();
                            let grant_label = format!("Grant {permission}");
                            let entitlement_id = e.entitlement.id.to_string();
                            let privilege = e.entitlement.privilege;
                            let policy = e.policy.draft.clone();
                            let action = match (&e.current, e.may_request, e.open_now) {
                                (Some(g), _, _) => {
                                    view! {
                                        <span>
                                            {state_badge(g.state)}" "
                                            <a href=format!("/grants/{}", g.id)>{remaining(g, now)}</a>
                                        </span>
                                    }
                                        .into_any()
                                }
                                (None, false, _) => {
                                    view! { <span class="muted">"You may not request this"</span> }
                                        .into_any()
                                }
                                (None, true, false) => {
                                    view! {
                                        <span class="muted">
                                            {format!("Requests only {}", policy.windows.join(" or "))}
                                        </span>
                                    }
                                        .into_any()
                                }
                                (None, true, true) => {
                                    view! {
                                        <ActionForm action=request attr:class="grant-form">
                                            <input
                                                type="hidden"
                                                name="identity_id"
                                                value=identity_id.to_string()
                                            />
                                            <input
                                                type="hidden"
                                                name="entitlement_id"
                                                value=entitlement_id
                                            />
                                            <label>
                                                "Minutes"
                                                <input
                                                    type="number"
                                                    name="minutes"
                                                    min="1"
                                                    max=policy.max_minutes.to_string()
                                                    value=policy.max_minutes.to_string()
                                                />
                                            </label>
                                            {policy
                                                .reason_required
                                                .then(|| {
                                                    view! {
                                                        <label>
                                                            "Reason"
                                                            <input
                                                                type="text"
                                                                name="reason"
                                                                required=true
                                                                maxlength="2000"
                                                            />
                                                        </label>
                                                    }
                                                })}
                                            <button type="submit" aria-label=grant_label>
                                                "Grant"
                                            </button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                }
                            };
                            view! {
                                <tr>
                                    <th scope="row">
                                        <code>{permission.clone()}</code>
                                        " "
                                        <span class=format!(
                                            "badge privilege-{privilege}",
                                        )>{privilege.to_string()}</span>
                                    </th>
                                    <td>
                                        {policy.name.clone()}
                                        <span class="sub">
                                            {format!(
                                                "up to {} min · approval: {}",
                                                policy.max_minutes,
                                                policy.approval,
                                            )}
                                        </span>
                                    </td>
                                    <td>{action}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {result}
    }
    .into_any()
}
