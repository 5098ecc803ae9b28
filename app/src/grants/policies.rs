//! Grant policies: the list, the form that writes one and deleting it.

use super::*;

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
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <Title text="Grant policies" />
        <h1>"Eligibility policies"</h1>
        <p class="lede">
            "Who may request which just-in-time entitlements, for which identities, for how long, approved how and when."
        </p>
        <p class="muted">
            "Where several policies cover an entitlement, the most specific governs (an exact resource before a pattern, a longer pattern before a shorter, an exact action before *, a narrower scope before a broader); among equally specific ones the strictest (more approvals, fewer requesters, a shorter maximum). Each identity's page shows the policy governing each of its entitlements."
        </p>
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading policies…"</p> }
        }>
            {move || Suspend::new(async move {
                match policies.await {
                    Ok((list, can_manage)) if list.is_empty() => {
                        view! {
                            <div class="empty-state">
                                <p>
                                    "No policies yet: no just-in-time entitlement can be requested."
                                </p>
                            </div>
                            {can_manage.then(|| view! { <NewPolicyForm create /> })}
                        }
                            .into_any()
                    }
                    Ok((list, can_manage)) => {
                        view! {
                            <div class="table-wrap">
                                <table class="data-table" id="policies">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Policy"</th>
                                            <th scope="col">"Entitlements"</th>
                                            <th scope="col">"Identities"</th>
                                            <th scope="col">"Who requests"</th>
                                            <th scope="col">"Approval"</th>
                                            <th scope="col">"Longest"</th>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"Delete"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|p| {
                                                view! {
                                                    <tr>
                                                        <th scope="row">
                                                            {p.draft.name.clone()}
                                                            {p
                                                                .draft
                                                                .reason_required
                                                                .then(|| {
                                                                    view! { <span class="sub">"reason required"</span> }
                                                                })}
                                                            {p
                                                                .shadowed_by
                                                                .clone()
                                                                .map(|by| {
                                                                    view! {
                                                                        <span class="sub warning" role="note">
                                                                            {format!("Shadowed by '{by}': never applies")}
                                                                        </span>
                                                                    }
                                                                })}
                                                        </th>
                                                        <td>
                                                            <code>
                                                                {format!("{}:{}", p.draft.resource, p.draft.action)}
                                                            </code>
                                                        </td>
                                                        <td>
                                                            {if p.draft.scope.is_empty() {
                                                                "all".to_owned()
                                                            } else {
                                                                p.draft.scope.clone()
                                                            }}
                                                        </td>
                                                        <td>{p.draft.requesters.to_string()}</td>
                                                        <td>{p.draft.approval.to_string()}</td>
                                                        <td>{format!("{} min", p.draft.max_minutes)}</td>
                                                        <td>
                                                            {if p.draft.windows.is_empty() {
                                                                "any time".to_owned()
                                                            } else {
                                                                p.draft.windows.join("; ")
                                                            }}
                                                        </td>
                                                        <td>
                                                            {can_manage
                                                                .then(|| {
                                                                    view! {
                                                                        <details>
                                                                            <summary>"Delete…"</summary>
                                                                            <ActionForm action=delete>
                                                                                <input type="hidden" name="id" value=p.id.to_string() />
                                                                                <label class="check">
                                                                                    <input
                                                                                        type="checkbox"
                                                                                        name="confirm"
                                                                                        value="yes"
                                                                                        required=true
                                                                                    />
                                                                                    "I confirm: no new requests under this policy"
                                                                                </label>
                                                                                <button type="submit" class="danger">
                                                                                    "Delete"
                                                                                </button>
                                                                            </ActionForm>
                                                                        </details>
                                                                    }
                                                                })}
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            {can_manage.then(|| view! { <NewPolicyForm create /> })}
                        }
                            .into_any()
                    }
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
                <label>
                    "Resource (or a prefix ending in *)"
                    <input type="text" name="resource" required=true placeholder="payments-*" />
                </label>
                <label>
                    "Action (or *)" <input type="text" name="action" required=true value="admin" />
                </label>
                <label>
                    "Identities (an inventory filter; empty: all)"
                    <input type="text" name="scope" placeholder="env=prod&team=payments" />
                </label>
                <label>
                    "Who may request" <select name="requesters">
                        <option value="owners">"The identity's owner or sponsor"</option>
                        <option value="team">"Its team"</option>
                        <option value="anyone">"Anyone signed in"</option>
                    </select>
                </label>
                <label>
                    "Approval" <select name="approval">
                        <option value="automatic">"Automatic"</option>
                        <option value="owner" selected=true>
                            "The identity's owner or sponsor"
                        </option>
                        <option value="security_team">"The security team"</option>
                        <option value="two_approvers">
                            "Two approvers: owner and security team"
                        </option>
                    </select>
                </label>
                <label>
                    "Longest grant (minutes)"
                    <input
                        type="number"
                        name="max_minutes"
                        min="1"
                        max="10080"
                        value="60"
                        required=true
                    />
                </label>
                <label class="check">
                    <input type="checkbox" name="reason_required" value="on" checked=true />
                    "A reason is required"
                </label>
                <label>
                    "When (UTC; empty: any time; several separated by ;)"
                    <input type="text" name="windows" placeholder="mon-fri 08:00-18:00" />
                </label>
                <button type="submit">"Create policy"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}
