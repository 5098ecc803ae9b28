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
                <Toast message=format!("Granted: {} is active until {}. ", g.scope(), g.expires_at.map(|t| t.format("%H:%M UTC").to_string()).unwrap_or_default())>
                    <a href=format!("/grants/{}", g.id)>"See the grant"</a>"."</Toast>
            }
            .into_any(),
            Ok(g) => view! {
                <Toast message=format!("Requested: {} waits for approval ({}). ", g.scope(), g.approval_mode)>
                    <a href=format!("/grants/{}", g.id)>"See the request"</a>"."</Toast>
            }
            .into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    if eligible.is_empty() {
        return view! {
            <p class="muted">"No just-in-time entitlement of this identity is covered by a grant policy."</p>
            {result}
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" id="eligible">
                <thead><tr><th scope="col">"Entitlement"</th><th scope="col">"Policy"</th><th scope="col">"Grant"</th></tr></thead>
                <tbody>
                    {eligible.into_iter().map(|e| {
                        let permission = e.entitlement.permission();
                        let grant_label = format!("Grant {permission}");
                        let entitlement_id = e.entitlement.id.to_string();
                        let privilege = e.entitlement.privilege;
                        let policy = e.policy.draft.clone();
                        let action = match (&e.current, e.may_request, e.open_now) {
                            (Some(g), _, _) => view! {
                                <span>{state_badge(g.state)}" "<a href=format!("/grants/{}", g.id)>{remaining(g, now)}</a></span>
                            }.into_any(),
                            (None, false, _) => view! { <span class="muted">"You may not request this"</span> }.into_any(),
                            (None, true, false) => view! { <span class="muted">{format!("Requests only {}", policy.windows.join(" or "))}</span> }.into_any(),
                            (None, true, true) => view! {
                                <ActionForm action=request attr:class="grant-form">
                                    <input type="hidden" name="identity_id" value=identity_id.to_string() />
                                    <input type="hidden" name="entitlement_id" value=entitlement_id />
                                    <label>"Minutes" <input type="number" name="minutes" min="1" max=policy.max_minutes.to_string() value=policy.max_minutes.to_string() /></label>
                                    {policy.reason_required.then(|| view! {
                                        <label>"Reason" <input type="text" name="reason" required=true maxlength="2000" /></label>
                                    })}
                                    <button type="submit" aria-label=grant_label>"Grant"</button>
                                </ActionForm>
                            }.into_any(),
                        };
                        view! {
                            <tr>
                                <th scope="row"><code>{permission.clone()}</code>" "<span class=format!("badge privilege-{privilege}")>{privilege.to_string()}</span></th>
                                <td>{policy.name.clone()}<span class="sub">{format!("up to {} min · approval: {}", policy.max_minutes, policy.approval)}</span></td>
                                <td>{action}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {result}
    }
    .into_any()
}

#[component]
pub fn GrantsPage() -> impl IntoView {
    let query = use_query_map();
    let list = Memo::new(move |_| query.with(|q| q.get("list").unwrap_or_default()));
    let owner = Memo::new(move |_| query.with(|q| q.get("owner").unwrap_or_default()));
    let expiring = Memo::new(move |_| query.with(|q| q.get("expiring").unwrap_or_default()));
    let change = ServerAction::<ChangeGrant>::new();
    let data = Resource::new(
        move || {
            (
                list.get(),
                owner.get(),
                expiring.get(),
                change.version().get(),
            )
        },
        |(l, o, e, _)| grants_page(l, o, e),
    );
    let outcome = move || {
        change.value().get().map(|r| match r {
            Ok(g) => view! { <Toast message=format!("{} of {}: {}.", g.scope(), g.identity_name, g.state) /> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <Title text="Grants" />
        <h1>"Just-in-time grants"</h1>
        <p class="lede">"Short-lived access, approved and expiring on its own. Request it from an identity's page."</p>
        {outcome}
        <Transition fallback=|| view! { <p class="loading">"Loading grants…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <GrantsView data change owner=owner.get_untracked() expiring=expiring.get_untracked() /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GrantsView(
    data: GrantsData,
    change: ServerAction<ChangeGrant>,
    owner: String,
    expiring: String,
) -> impl IntoView {
    let GrantsData {
        list,
        grants,
        now,
        can_manage_policies,
    } = data;
    let tabs = [("active", "Active"), ("mine", "My requests"), ("to_approve", "To approve")]
        .into_iter()
        .map(|(key, label)| {
            let current = list == key;
            view! { <a class="tab" href=format!("/grants?list={key}") aria-current=current.then_some("page")>{label}</a> }
        })
        .collect_view();
    let approving = list == "to_approve";
    let filters = (list == "active").then(|| view! {
        <form method="get" action="/grants" class="filters" role="search">
            <input type="hidden" name="list" value="active" />
            <label>"Owner (email)" <input type="email" name="owner" value=owner /></label>
            <label>"Expiring within (minutes)" <input type="number" name="expiring" min="1" value=expiring /></label>
            <button type="submit">"Filter"</button>
        </form>
    });
    let table = if grants.is_empty() {
        view! {
            <div class="empty-state"><p>{match list.as_str() {
                "to_approve" => "Nothing waits for your approval.",
                "mine" => "You have not requested any grant yet. Open an identity and use its Grant button.",
                _ => "No active grants.",
            }}</p></div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="grants">
                    <thead><tr><th scope="col">"Grant"</th><th scope="col">"Identity"</th><th scope="col">"Requested by"</th>
                        <th scope="col">"State"</th><th scope="col">"Time"</th>{approving.then(|| view! { <th scope="col">"Decide"</th> })}</tr></thead>
                    <tbody>
                        {grants.into_iter().map(|g| {
                            let id = g.id.to_string();
                            let approve_label = format!("Approve {} for {}", g.scope(), g.identity_name);
                            let decide = approving.then(|| {
                                let (approve_id, deny_id) = (id.clone(), id.clone());
                                view! {
                                    <td class="answer">
                                        <ActionForm action=change>
                                            <input type="hidden" name="id" value=approve_id />
                                            <input type="hidden" name="change" value="approve" />
                                            <button type="submit" aria-label=approve_label>"Approve"</button>
                                        </ActionForm>
                                        <details>
                                            <summary>"Deny…"</summary>
                                            <ActionForm action=change>
                                                <input type="hidden" name="id" value=deny_id />
                                                <input type="hidden" name="change" value="deny" />
                                                <label>"Why" <input type="text" name="reason" required=true maxlength="2000" /></label>
                                                <button type="submit" class="secondary">"Deny"</button>
                                            </ActionForm>
                                        </details>
                                    </td>
                                }
                            });
                            view! {
                                <tr>
                                    <th scope="row"><a href=format!("/grants/{id}")><code>{g.scope()}</code></a>
                                        <span class="sub">{g.reason.clone().unwrap_or_default()}</span></th>
                                    <td><a href=format!("/identities/{}", g.identity_id)>{g.identity_name.clone()}</a></td>
                                    <td>{g.requested_by.clone()}<span class="sub">{format::date(Some(g.requested_at))}</span></td>
                                    <td>{state_badge(g.state)}</td>
                                    <td>{if g.state == GrantState::Pending { format!("{} min once approved", g.minutes) } else { remaining(&g, now) }}</td>
                                    {decide}
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <nav class="tabs" aria-label="Which grants">{tabs}</nav>
        {can_manage_policies.then(|| view! { <p><a href="/grants/policies">"Eligibility policies"</a></p> })}
        {filters}
        {table}
    }
    .into_any()
}

#[component]
pub fn GrantPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let change = ServerAction::<ChangeGrant>::new();
    let view_data = Resource::new(
        move || (id.get(), change.version().get()),
        |(id, _)| get_grant(id),
    );
    let outcome = move || {
        change.value().get().map(|r| match r {
            Ok(g) => view! { <Toast message=format!("The grant is {}.", g.state) /> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <Title text="Grant" />
        {outcome}
        <Transition fallback=|| view! { <p class="loading">"Loading the grant…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(v) => view! { <GrantDetail view=v change /> }.into_any(),
                    Err(error) => view! { <h1>"Grant"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GrantDetail(view: GrantView, change: ServerAction<ChangeGrant>) -> impl IntoView {
    let g = view.grant;
    let id = g.id.to_string();
    let form = |label: &'static str,
                change_name: &'static str,
                field: Option<(&'static str, &'static str)>| {
        let id = id.clone();
        view! {
            <details class="panel">
                <summary>{format!("{label}…")}</summary>
                <ActionForm action=change>
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="change" value=change_name />
                    {field.map(|(name, text)| view! { <label>{text}" "<input type=if name == "minutes" { "number" } else { "text" } name=name required=true /></label> })}
                    <button type="submit">{label}</button>
                </ActionForm>
            </details>
        }
    };
    let actions = match g.state {
        GrantState::Pending => view! {
            {form("Approve", "approve", None)}
            {form("Deny", "deny", Some(("reason", "Why")))}
            {form("Withdraw the request", "cancel", None)}
        }
        .into_any(),
        GrantState::Active => view! {
            {form("Extend", "extend", Some(("minutes", "More minutes")))}
            {form("Revoke now", "revoke", Some(("reason", "Why")))}
        }
        .into_any(),
        _ => view! { <p class="muted">"This grant has ended; its record is kept."</p> }.into_any(),
    };
    view! {
        <h1>{format!("{} on {}", g.scope(), g.identity_name)}" "{state_badge(g.state)}</h1>
        <dl class="facts" id="grant-facts">
            <dt>"Identity"</dt><dd><a href=format!("/identities/{}", g.identity_id)>{g.identity_name.clone()}</a></dd>
            <dt>"Requested by"</dt><dd>{format!("{} at {}", g.requested_by, g.requested_at.format("%Y-%m-%d %H:%M UTC"))}</dd>
            <dt>"Reason"</dt><dd>{g.reason.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Duration"</dt><dd>{format!("{} minutes from approval", g.minutes)}</dd>
            <dt>"Approval"</dt><dd>{format!("{} — {}", g.approval_mode, if g.approvals.is_empty() { "none yet".to_owned() } else { g.approvals.iter().map(|a| format!("{} ({})", a.by, a.capacity)).collect::<Vec<_>>().join(", ") })}</dd>
            <dt>"Active"</dt><dd>{match (g.starts_at, g.expires_at) { (Some(s), Some(e)) => format!("{} to {}", s.format("%Y-%m-%d %H:%M UTC"), e.format("%Y-%m-%d %H:%M UTC")), _ => "not yet".to_owned() }}</dd>
            {g.ended_by.clone().map(|by| view! { <dt>"Ended by"</dt><dd>{format!("{by}{}", g.end_reason.clone().map(|r| format!(": {r}")).unwrap_or_default())}</dd> })}
        </dl>
        <section class="card"><h2>"Actions"</h2>{actions}</section>
        <section class="card">
            <h2>"Timeline"</h2>
            <ol class="timeline" id="timeline">
                {view.timeline.into_iter().map(|e| view! {
                    <li><time datetime=e.at.to_rfc3339()>{e.at.format("%Y-%m-%d %H:%M UTC").to_string()}</time>" "{e.action.clone()}" by "{e.actor.clone()}</li>
                }).collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

/// The eligibility policies page's data: the policies, and whether the caller manages them.
#[server(prefix = "/rpc", endpoint = "grants/policies")]
pub async fn grant_policies() -> Result<(Vec<Policy>, bool), AppError> {
    use steward_domain::auth::Action;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    Ok((
        ports.grants.policies(principal.as_ref()).await?,
        principal
            .as_ref()
            .is_some_and(|p| p.can(Action::ManageGrantPolicies)),
    ))
}

mod policy_form {
    //! The policy form's server function: one argument per field of the form.
    #![allow(clippy::too_many_arguments)]
    use leptos::prelude::*;
    use steward_domain::grants::Policy;

    use crate::error::AppError;

    #[server(prefix = "/rpc", endpoint = "grants/policy_create")]
    pub async fn create_grant_policy(
        name: String,
        resource: String,
        action: String,
        scope: String,
        requesters: String,
        approval: String,
        max_minutes: String,
        reason_required: Option<String>,
        windows: String,
    ) -> Result<Policy, AppError> {
        use steward_domain::grants::PolicyDraft;
        use steward_domain::DomainError;
        let ports = crate::session::ports()?;
        let draft = PolicyDraft {
            name,
            resource,
            action,
            scope,
            requesters: requesters.parse()?,
            approval: approval.parse()?,
            max_minutes: max_minutes
                .trim()
                .parse()
                .map_err(|_| DomainError::invalid("max_minutes", "a whole number of minutes"))?,
            reason_required: reason_required.is_some(),
            windows: windows
                .split(';')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        Ok(ports
            .grants
            .create_policy(crate::session::principal().as_ref(), &draft)
            .await?)
    }
}

pub use policy_form::{create_grant_policy, CreateGrantPolicy};

#[server(prefix = "/rpc", endpoint = "grants/policy_delete")]
pub async fn delete_grant_policy(id: String) -> Result<(), AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .grants
        .delete_policy(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("grant policy", &id)?,
        )
        .await?)
}

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let create = ServerAction::<CreateGrantPolicy>::new();
    let delete = ServerAction::<DeleteGrantPolicy>::new();
    let policies = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| grant_policies(),
    );
    let outcome = move || {
        let created = create
            .value()
            .get()
            .map(|r| {
                r.map(|p| match p.shadowed_by {
                    Some(by) => format!(
                        "Policy '{}' created, but it never applies: '{by}' covers the same entitlements and scope and is stricter.",
                        p.draft.name
                    ),
                    None => format!("Policy '{}' created.", p.draft.name),
                })
            });
        let deleted = delete
            .value()
            .get()
            .map(|r| r.map(|()| "Policy deleted; its grants are kept.".to_owned()));
        created.or(deleted).map(|r| match r {
            Ok(message) => view! { <Toast message /> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <Title text="Grant policies" />
        <h1>"Eligibility policies"</h1>
        <p class="lede">"Who may request which just-in-time entitlements, for which identities, for how long, approved how and when."</p>
        <p class="muted">"Where several policies cover an entitlement, the most specific governs (an exact resource before a pattern, a longer pattern before a shorter, an exact action before *, a narrower scope before a broader); among equally specific ones the strictest (more approvals, fewer requesters, a shorter maximum). Each identity's page shows the policy governing each of its entitlements."</p>
        {outcome}
        <Transition fallback=|| view! { <p class="loading">"Loading policies…"</p> }>
            {move || Suspend::new(async move {
                match policies.await {
                    Ok((list, can_manage)) if list.is_empty() => view! {
                        <div class="empty-state"><p>"No policies yet: no just-in-time entitlement can be requested."</p></div>
                        {can_manage.then(|| view! { <NewPolicyForm create /> })}
                    }.into_any(),
                    Ok((list, can_manage)) => view! {
                        <div class="table-wrap">
                            <table class="data-table" id="policies">
                                <thead><tr><th scope="col">"Policy"</th><th scope="col">"Entitlements"</th><th scope="col">"Identities"</th>
                                    <th scope="col">"Who requests"</th><th scope="col">"Approval"</th><th scope="col">"Longest"</th><th scope="col">"When"</th><th scope="col">"Delete"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|p| view! {
                                        <tr>
                                            <th scope="row">{p.draft.name.clone()}{p.draft.reason_required.then(|| view! { <span class="sub">"reason required"</span> })}
                                                {p.shadowed_by.clone().map(|by| view! { <span class="sub warning" role="note">{format!("Shadowed by '{by}': never applies")}</span> })}</th>
                                            <td><code>{format!("{}:{}", p.draft.resource, p.draft.action)}</code></td>
                                            <td>{if p.draft.scope.is_empty() { "all".to_owned() } else { p.draft.scope.clone() }}</td>
                                            <td>{p.draft.requesters.to_string()}</td>
                                            <td>{p.draft.approval.to_string()}</td>
                                            <td>{format!("{} min", p.draft.max_minutes)}</td>
                                            <td>{if p.draft.windows.is_empty() { "any time".to_owned() } else { p.draft.windows.join("; ") }}</td>
                                            <td>
                                                {can_manage.then(|| view! { <details>
                                                    <summary>"Delete…"</summary>
                                                    <ActionForm action=delete>
                                                        <input type="hidden" name="id" value=p.id.to_string() />
                                                        <label class="check"><input type="checkbox" name="confirm" value="yes" required=true />"I confirm: no new requests under this policy"</label>
                                                        <button type="submit" class="danger">"Delete"</button>
                                                    </ActionForm>
                                                </details> })}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {can_manage.then(|| view! { <NewPolicyForm create /> })}
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NewPolicyForm(create: ServerAction<CreateGrantPolicy>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"New policy"</h2>
            <ActionForm action=create attr:class="stacked" attr:id="new-policy">
                <label>"Name" <input type="text" name="name" required=true /></label>
                <label>"Resource (or a prefix ending in *)" <input type="text" name="resource" required=true placeholder="payments-*" /></label>
                <label>"Action (or *)" <input type="text" name="action" required=true value="admin" /></label>
                <label>"Identities (an inventory filter; empty: all)" <input type="text" name="scope" placeholder="env=prod&team=payments" /></label>
                <label>"Who may request"
                    <select name="requesters">
                        <option value="owners">"The identity's owner or sponsor"</option>
                        <option value="team">"Its team"</option>
                        <option value="anyone">"Anyone signed in"</option>
                    </select></label>
                <label>"Approval"
                    <select name="approval">
                        <option value="automatic">"Automatic"</option>
                        <option value="owner" selected=true>"The identity's owner or sponsor"</option>
                        <option value="security_team">"The security team"</option>
                        <option value="two_approvers">"Two approvers: owner and security team"</option>
                    </select></label>
                <label>"Longest grant (minutes)" <input type="number" name="max_minutes" min="1" max="10080" value="60" required=true /></label>
                <label class="check"><input type="checkbox" name="reason_required" value="on" checked=true />"A reason is required"</label>
                <label>"When (UTC; empty: any time; several separated by ;)" <input type="text" name="windows" placeholder="mon-fri 08:00-18:00" /></label>
                <button type="submit">"Create policy"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}
