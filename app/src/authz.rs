//! Runtime authorization in the UI. The identity page's section: the agent's limits
//! (the security team edits them), a test bench that evaluates a hypothetical request
//! and names the policies that decided, the policies in force, and the agent's recent
//! decisions with the drift they showed. The agent policies page: the built-in
//! policies, the Cedar policies admins write (checked against the schema on save, the
//! problems named by line and column) and the schema itself.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use steward_domain::authz::{
    AgentLimits, AuthorizeResponse, AuthzAction, AuthzPolicy, AuthzPolicyDraft, CompiledPolicy,
    Decision, DecisionRecord, DriftKind, MonitorReport, ResourceType, BUILT_IN_POLICIES, SCHEMA,
};
use steward_domain::federation::{EnforcementMode, ProofOfIdentity};

use crate::error::{AppError, ErrorNotice};
use crate::sensitivity::SensitivityRegister;
use crate::toast::Toast;

/// What the section shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthzData {
    pub limits: AgentLimits,
    pub policies: Vec<CompiledPolicy>,
    pub decisions: Vec<DecisionRecord>,
    pub can_manage: bool,
    /// How it proves what it is (federated token, static secret, none).
    pub proof: ProofOfIdentity,
    /// Its policy set's mode and what enforcing would have denied lately.
    pub monitor: MonitorReport,
}

/// How many days of decisions the monitor summary covers.
pub const MONITOR_DAYS: u32 = 7;

/// The sentence summarising a monitor report.
pub fn monitor_text(report: &MonitorReport) -> String {
    let mode = match report.mode {
        EnforcementMode::Enforce => "Enforced: denied requests are refused.",
        EnforcementMode::Monitor => "Monitor mode: requests are allowed, denials are only logged.",
    };
    format!(
        "{mode} In the last {} days enforcing would have denied {} of {} decision{}.",
        report.days,
        report.would_deny,
        report.decisions,
        if report.decisions == 1 { "" } else { "s" }
    )
}

/// What a `would_deny` note means.
pub fn would_deny_text(note: &str) -> String {
    match note.strip_prefix("static_secret:") {
        Some(config) => {
            format!("a static token, where trust configuration {config} asks for a federated one")
        }
        None if note == "policy" => "the agent's policies".to_owned(),
        None => note.to_owned(),
    }
}

/// Items of a list typed into a text field: separated by commas, spaces or new lines.
pub fn parse_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An optional whole number typed into a field; empty means none.
pub fn parse_limit(
    field: &'static str,
    text: &str,
) -> Result<Option<u32>, steward_domain::DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        steward_domain::DomainError::invalid(field, format!("'{text}' is not a whole number"))
    })
}

/// The resource type an action is on, as the decision API names it.
pub fn resource_type_of(action: AuthzAction) -> &'static str {
    match action.resource_type() {
        ResourceType::Identity => "Identity",
        other => other.as_str(),
    }
}

#[server(prefix = "/rpc", endpoint = "authz/overview")]
pub async fn authz_overview(identity_id: String) -> Result<AuthzData, AppError> {
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let id = crate::error::parse_uuid("identity", &identity_id)?;
    let limits = ports.authz.limits(principal.as_ref(), id).await?;
    let policies = ports.authz.compiled(principal.as_ref(), id).await?;
    let decisions = ports.authz.decisions(principal.as_ref(), id, None).await?;
    let proof = ports.federation.proof_of(principal.as_ref(), id).await?;
    let monitor = ports
        .authz
        .monitored(principal.as_ref(), id, MONITOR_DAYS)
        .await?;
    Ok(AuthzData {
        limits,
        policies,
        decisions,
        can_manage: principal
            .is_some_and(|p| p.can(steward_domain::auth::Action::ManageIdentities)),
        proof,
        monitor,
    })
}

/// Switches the agent's policy set between monitor and enforce.
#[server(prefix = "/rpc", endpoint = "authz/set_mode")]
pub async fn set_authz_mode(
    identity_id: String,
    mode: String,
    reason: String,
) -> Result<MonitorReport, AppError> {
    let ports = crate::session::ports()?;
    let id = crate::error::parse_uuid("identity", &identity_id)?;
    let change = steward_domain::federation::ModeChange {
        mode: mode.parse()?,
        reason,
    };
    Ok(ports
        .authz
        .set_mode(crate::session::principal().as_ref(), id, &change)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "authz/save_limits")]
pub async fn save_limits(
    identity_id: String,
    tools: String,
    environments: String,
    max_session_minutes: String,
    max_calls: String,
    max_delegation_depth: String,
) -> Result<AgentLimits, AppError> {
    let ports = crate::session::ports()?;
    let id = crate::error::parse_uuid("identity", &identity_id)?;
    let limits = AgentLimits {
        tools: parse_list(&tools),
        environments: parse_list(&environments),
        max_session_minutes: parse_limit("max_session_minutes", &max_session_minutes)?,
        max_calls: parse_limit("max_calls", &max_calls)?,
        max_delegation_depth: parse_limit("max_delegation_depth", &max_delegation_depth)?,
    };
    Ok(ports
        .authz
        .set_limits(crate::session::principal().as_ref(), id, &limits)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "authz/test")]
pub async fn test_authz(
    identity_id: String,
    action: String,
    resource: String,
    environment: String,
    task: String,
    data_sensitivity: String,
) -> Result<AuthorizeResponse, AppError> {
    use steward_domain::authz::{AuthorizeRequest, RequestContext, ResourceRef};
    use steward_domain::DomainError;
    let ports = crate::session::ports()?;
    let id = crate::error::parse_uuid("identity", &identity_id)?;
    let parsed: AuthzAction = action
        .parse()
        .map_err(|_| DomainError::invalid("action", format!("'{action}' is not an action")))?;
    let data_sensitivity = match data_sensitivity.trim() {
        "" => None,
        s => Some(s.parse().map_err(|_| {
            DomainError::invalid("data_sensitivity", format!("'{s}' is not a sensitivity"))
        })?),
    };
    let request = AuthorizeRequest {
        principal: id,
        action: parsed.as_str().to_owned(),
        resource: ResourceRef {
            resource_type: resource_type_of(parsed).to_owned(),
            id: resource.trim().to_owned(),
        },
        context: RequestContext {
            task,
            environment,
            data_sensitivity,
            ..RequestContext::default()
        },
    };
    Ok(ports
        .authz
        .test_bench(crate::session::principal().as_ref(), &request)
        .await?)
}

/// How a drift reads in the decision log.
pub fn drift_text(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::ToolOutsideAllowlist => "tool outside its allowlist",
        DriftKind::UnregisteredDelegation => "unregistered delegation",
        DriftKind::BeyondApprovalThroughDelegation => {
            "beyond its approval, through another identity"
        }
    }
}

/// The agent policies page's data: the admin policies and whether the caller may
/// change them.
#[server(prefix = "/rpc", endpoint = "authz/policies")]
pub async fn authz_policies() -> Result<(Vec<AuthzPolicy>, bool), AppError> {
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let list = ports.authz.policies(principal.as_ref()).await?;
    Ok((
        list,
        principal.is_some_and(|p| p.can(steward_domain::auth::Action::ManageIdentities)),
    ))
}

/// Creates (no `id`) or replaces an admin policy.
#[server(prefix = "/rpc", endpoint = "authz/save_policy")]
pub async fn save_authz_policy(
    id: Option<String>,
    name: String,
    description: String,
    body: String,
    enabled: Option<String>,
) -> Result<AuthzPolicy, AppError> {
    let ports = crate::session::ports()?;
    let id = match id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => Some(crate::error::parse_uuid("policy", id)?),
        None => None,
    };
    let draft = AuthzPolicyDraft {
        name,
        description,
        body,
        enabled: enabled.is_some(),
    };
    Ok(ports
        .authz
        .save_policy(crate::session::principal().as_ref(), id, &draft)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "authz/delete_policy")]
pub async fn delete_authz_policy(id: String, confirm: Option<String>) -> Result<(), AppError> {
    let ports = crate::session::ports()?;
    if confirm.as_deref() != Some("yes") {
        return Err(steward_domain::DomainError::invalid(
            "confirm",
            "tick the box to confirm deleting the policy",
        )
        .into());
    }
    let id = crate::error::parse_uuid("policy", &id)?;
    Ok(ports
        .authz
        .delete_policy(crate::session::principal().as_ref(), id)
        .await?)
}

/// The text a new policy starts from: a commented example an admin edits.
pub const POLICY_EXAMPLE: &str = "// Example: an agent writes data only for a stated task.\n\
forbid(principal is Agent, action == Action::\"write_data\", resource)\n  \
when { context.task == \"\" };";

/// The agent policies page.
#[component]
pub fn AgentPoliciesPage() -> impl IntoView {
    let save = ServerAction::<SaveAuthzPolicy>::new();
    let delete = ServerAction::<DeleteAuthzPolicy>::new();
    let policies = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| authz_policies(),
    );
    let outcome = move || {
        let saved = save.value().get().map(|r| {
            r.map(|p| {
                format!(
                    "Policy '{}' saved ({}); it applies from the next decision.",
                    p.draft.name,
                    if p.draft.enabled {
                        "in force"
                    } else {
                        "disabled"
                    }
                )
            })
        });
        let deleted = delete
            .value()
            .get()
            .map(|r| r.map(|()| "Policy deleted.".to_owned()));
        saved.or(deleted).map(|r| match r {
            Ok(message) => view! { <Toast message /> }.into_any(),
            // Schema problems come one per line, each with its line and column.
            Err(e) => view! { <pre class="notice error" role="alert" id="policy-error">{e.to_string()}</pre> }.into_any(),
        })
    };
    view! {
        <Title text="Agent policies" />
        <h1>"Agent policies"</h1>
        <p class="lede">"How agents are authorized at runtime: Cedar policies, default deny, a forbid always wins. \
            Each agent's limits (set on its page) compile to policies of their own; the ones here are written by admins \
            and apply to the identity they name, or to every identity. Try a request with the test bench on an agent's page."</p>
        {outcome}
        <Transition fallback=|| view! { <p class="loading">"Loading policies…"</p> }>
            {move || Suspend::new(async move {
                match policies.await {
                    Ok((list, can_manage)) => view! { <PolicyList list can_manage save delete /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        <SensitivityRegister />
        <section class="card">
            <h2>"Built-in policies"</h2>
            <p class="muted">"Always in force, for every identity."</p>
            <ul class="policy-list">
                {BUILT_IN_POLICIES.iter().map(|(id, text)| view! { <li><code>{*id}</code><pre>{*text}</pre></li> }).collect_view()}
            </ul>
        </section>
        <details class="card" id="schema">
            <summary>"The schema policies are checked against"</summary>
            <pre class="schema">{SCHEMA}</pre>
        </details>
    }
}

#[component]
fn PolicyList(
    list: Vec<AuthzPolicy>,
    can_manage: bool,
    save: ServerAction<SaveAuthzPolicy>,
    delete: ServerAction<DeleteAuthzPolicy>,
) -> impl IntoView {
    let table = if list.is_empty() {
        view! {
            <div class="empty-state"><p>"No admin policy yet: agents are decided by their own limits, \
                entitlements, delegations and the built-in policies."</p></div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="authz-policies">
                    <thead><tr><th scope="col">"Policy"</th><th scope="col">"Applies to"</th><th scope="col">"State"</th>
                        <th scope="col">"Changed"</th><th scope="col">"Text"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|p| {
                            let applies = match p.principal_id {
                                Some(id) => view! { <a href=format!("/identities/{id}")>"one identity"</a> }.into_any(),
                                None => view! { "every identity" }.into_any(),
                            };
                            let manage = can_manage.then(|| view! {
                                <details>
                                    <summary>"Edit…"</summary>
                                    <PolicyForm save policy=Some(p.clone()) />
                                </details>
                                <details>
                                    <summary>"Delete…"</summary>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="id" value=p.id.to_string() />
                                        <label class="check"><input type="checkbox" name="confirm" value="yes" required=true />"I confirm: decisions stop using this policy"</label>
                                        <button type="submit" class="danger">"Delete"</button>
                                    </ActionForm>
                                </details>
                            });
                            view! {
                                <tr>
                                    <th scope="row"><code>{p.cedar_id()}</code>
                                        {(!p.draft.description.is_empty()).then(|| view! { <span class="sub">{p.draft.description.clone()}</span> })}</th>
                                    <td>{applies}</td>
                                    <td>{if p.draft.enabled { "in force" } else { "disabled" }}</td>
                                    <td>{format!("{} by {}", p.updated_at.format("%Y-%m-%d %H:%M UTC"), p.updated_by)}</td>
                                    <td><pre>{p.draft.body.clone()}</pre>{manage}</td>
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
        {table}
        {can_manage.then(|| view! {
            <section class="card">
                <h2>"New policy"</h2>
                <PolicyForm save policy=None />
            </section>
        })}
    }
    .into_any()
}

/// The form creating a policy (`policy` none) or editing one.
#[component]
fn PolicyForm(save: ServerAction<SaveAuthzPolicy>, policy: Option<AuthzPolicy>) -> impl IntoView {
    let form_id = if policy.is_some() {
        "edit-policy"
    } else {
        "new-policy"
    };
    let (id, draft) = match policy {
        Some(p) => (p.id.to_string(), p.draft),
        None => (
            String::new(),
            AuthzPolicyDraft {
                name: String::new(),
                description: String::new(),
                body: POLICY_EXAMPLE.to_owned(),
                enabled: true,
            },
        ),
    };
    view! {
        <ActionForm action=save attr:class="stacked policy-form" attr:id=form_id>
            <input type="hidden" name="id" value=id />
            <label>"Name (lower-case letters, digits and -; decisions name it custom-<name>)"
                <input type="text" name="name" required=true maxlength="64" pattern="[a-z0-9-]+" value=draft.name /></label>
            <label>"What it is for" <input type="text" name="description" maxlength="500" value=draft.description /></label>
            <label>"Cedar policy (one permit or forbid)"
                <textarea name="body" rows="8" class="code" spellcheck="false" required=true>{draft.body}</textarea></label>
            <label class="check"><input type="checkbox" name="enabled" value="on" checked=draft.enabled />"In force"</label>
            <button type="submit">"Check and save"</button>
        </ActionForm>
    }
    .into_any()
}

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
            Ok(report) => view! { <Toast message=format!("Now in {} mode; it applies from the next decision.", report.mode) /> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    let saved = move || {
        save.value().get().map(|r| match r {
            Ok(_) => view! { <Toast message="Limits saved; they apply from the next decision." /> }
                .into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    let tested = move || {
        test.value().get().map(|r| match r {
            Ok(answer) => view! {
                <div class="notice" role="status" id="bench-result">
                    <p>"Decision: "{decision_badge(answer.decision)}</p>
                    <p>{if answer.reasons.is_empty() { "Decided by: no policy (default deny)".to_owned() } else { format!("Decided by: {}", answer.reasons.join(", ")) }}</p>
                    {(!answer.diagnostics.is_empty()).then(|| view! {
                        <ul>{answer.diagnostics.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul>
                    })}
                </div>
            }
            .into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading runtime authorization…"</p> }>
            {move || {
                let id = id.clone();
                let environment = environment.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(overview) => view! { <AuthzView overview id environment save test mode /> }.into_any(),
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
        <p id="proof"><strong>"Proves itself with: "</strong>{proof.summary()}
            {(!proof.federated.is_empty()).then(|| view! {
                " — "{proof.federated.iter().map(|(name, mode)| format!("{name} ({mode})")).collect::<Vec<_>>().join(", ")}
            })}
            {(proof.static_secrets > 0).then(|| view! {
                <span class="sub">{format!("{} live static secret{} (credentials and API tokens)", proof.static_secrets, if proof.static_secrets == 1 { "" } else { "s" })}</span>
            })}
            " "<a href="/authz/trust">"Workload trust…"</a>
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
            {(!monitor.recent.is_empty()).then(|| view! {
                <div class="table-wrap">
                    <table class="data-table" id="would-deny">
                        <caption>"What enforcing would have denied"</caption>
                        <thead><tr><th scope="col">"When"</th><th scope="col">"Action"</th><th scope="col">"Resource"</th><th scope="col">"Would be denied by"</th></tr></thead>
                        <tbody>
                            {monitor.recent.iter().map(|d| view! {
                                <tr>
                                    <td>{d.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                                    <td>{d.action.clone()}</td>
                                    <td><code>{d.resource.clone()}</code></td>
                                    <td>{d.would_deny.as_deref().map(would_deny_text).unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
            {can_manage.then(|| view! {
                <details>
                    <summary>{format!("Switch to {other_mode}…")}</summary>
                    <ActionForm action=mode attr:class="stacked" attr:id="mode-form">
                        <input type="hidden" name="identity_id" value=mode_id />
                        <input type="hidden" name="mode" value=other_mode.as_str() />
                        <label>"Why (kept in the audit trail)" <input type="text" name="reason" required=true maxlength="500" /></label>
                        <button type="submit">{format!("Switch to {other_mode}")}</button>
                    </ActionForm>
                </details>
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
                <label>"Tool allowlist (comma or space separated)"
                    <textarea name="tools" rows="2">{tools_text}</textarea></label>
                <label>"Allowed environments (empty: any)"
                    <input type="text" name="environments" value=limits.environments.join(", ") /></label>
                <label>"Longest session (minutes)"
                    <input type="number" min="1" name="max_session_minutes" value=number(limits.max_session_minutes) /></label>
                <label>"Most calls per session"
                    <input type="number" min="1" name="max_calls" value=number(limits.max_calls) /></label>
                <label>"Longest delegation chain"
                    <input type="number" min="1" max="10" name="max_delegation_depth" value=number(limits.max_delegation_depth) /></label>
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
        <p class="muted">"Evaluate a hypothetical request with the policies in force; nothing is counted or logged."</p>
        <ActionForm action=test attr:class="bench-form" attr:id="bench-form">
            <input type="hidden" name="identity_id" value=id />
            <label>"Action"
                <select name="action">
                    {AuthzAction::ALL.iter().map(|a| view! { <option value=a.as_str()>{a.as_str()}</option> }).collect_view()}
                </select></label>
            <label>"Resource id (tool, dataset or identity id)" <input type="text" name="resource" required=true maxlength="200" /></label>
            <label>"Environment" <input type="text" name="environment" value=environment /></label>
            <label>"Task" <input type="text" name="task" maxlength="500" /></label>
            <label>"Data sensitivity"
                <select name="data_sensitivity">
                    <option value="">"(none)"</option>
                    {steward_domain::identity::Sensitivity::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                </select></label>
            <button type="submit">"Evaluate"</button>
        </ActionForm>
        <details>
            <summary>{format!("Policies in force ({})", policies.len())}</summary>
            <ul class="policy-list">
                {policies.into_iter().map(|p| view! { <li><code>{p.id}</code><pre>{p.text}</pre></li> }).collect_view()}
            </ul>
        </details>
        <h3>"Recent decisions"</h3>
        {if decisions.is_empty() {
            view! { <p class="muted">"No decision asked yet. Agents ask with POST /api/v1/authorize and a token made for them."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="data-table" id="decisions">
                        <thead><tr><th scope="col">"When"</th><th scope="col">"Action"</th><th scope="col">"Resource"</th><th scope="col">"Decision"</th><th scope="col">"Why"</th><th scope="col">"Drift"</th></tr></thead>
                        <tbody>
                            {decisions.into_iter().map(|d| view! {
                                <tr>
                                    <td>{d.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                                    <td>{d.action}</td>
                                    <td><code>{d.resource}</code></td>
                                    <td>{decision_badge(d.decision)}
                                        {d.would_deny.as_deref().map(|note| view! { <span class="sub">{format!("monitor: would deny ({})", would_deny_text(note))}</span> })}</td>
                                    <td>{if d.reasons.is_empty() { "default deny".to_owned() } else { d.reasons.join(", ") }}</td>
                                    <td>{d.drift.map(|drift| drift_text(drift.kind)).unwrap_or("")}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_limits_parse_from_form_fields() {
        assert_eq!(
            parse_list(" github.create_pr, jira.search\nslack.post "),
            vec!["github.create_pr", "jira.search", "slack.post"]
        );
        assert!(parse_list(" , ").is_empty());
        assert_eq!(parse_limit("max_calls", " 50 ").unwrap(), Some(50));
        assert_eq!(parse_limit("max_calls", "").unwrap(), None);
        assert!(parse_limit("max_calls", "many").is_err());
        assert_eq!(resource_type_of(AuthzAction::CallTool), "Tool");
        assert_eq!(resource_type_of(AuthzAction::SpawnSubagent), "Identity");
    }
}
