//! The agent policies page: Cedar policies written by the security team, listed, edited and deleted.

use super::*;

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
            Err(e) => view! {
                <pre class="notice error" role="alert" id="policy-error">
                    {e.to_string()}
                </pre>
            }
            .into_any(),
        })
    };
    view! {
        <Title text="Agent policies" />
        <h1>"Agent policies"</h1>
        <p class="lede">
            "How agents are authorized at runtime: Cedar policies, default deny, a forbid always wins. \
            Each agent's limits (set on its page) compile to policies of their own; the ones here are written by admins \
            and apply to the identity they name, or to every identity. Try a request with the test bench on an agent's page."
        </p>
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading policies…"</p> }
        }>
            {move || Suspend::new(async move {
                match policies.await {
                    Ok((list, can_manage)) => {
                        view! { <PolicyList list can_manage save delete /> }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        <SensitivityRegister />
        <section class="card">
            <h2>"Built-in policies"</h2>
            <p class="muted">"Always in force, for every identity."</p>
            <ul class="policy-list">
                {BUILT_IN_POLICIES
                    .iter()
                    .map(|(id, text)| {
                        view! {
                            <li>
                                <code>{*id}</code>
                                <pre>{*text}</pre>
                            </li>
                        }
                    })
                    .collect_view()}
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
            <div class="empty-state">
                <p>
                    "No admin policy yet: agents are decided by their own limits, \
                    entitlements, delegations and the built-in policies."
                </p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="authz-policies">
                    <thead>
                        <tr>
                            <th scope="col">"Policy"</th>
                            <th scope="col">"Applies to"</th>
                            <th scope="col">"State"</th>
                            <th scope="col">"Changed"</th>
                            <th scope="col">"Text"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .into_iter()
                            .map(|p| {
                                let applies = match p.principal_id {
                                    Some(id) => {
                                        view! {
                                            <a href=format!("/identities/{id}")>"one identity"</a>
                                        }
                                            .into_any()
                                    }
                                    None => view! { "every identity" }.into_any(),
                                };
                                let manage = can_manage
                                    .then(|| {
                                        view! {
                                            <details>
                                                <summary>"Edit…"</summary>
                                                <PolicyForm save policy=Some(p.clone()) />
                                            </details>
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
                                                        "I confirm: decisions stop using this policy"
                                                    </label>
                                                    <button type="submit" class="danger">
                                                        "Delete"
                                                    </button>
                                                </ActionForm>
                                            </details>
                                        }
                                    });
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <code>{p.cedar_id()}</code>
                                            {(!p.draft.description.is_empty())
                                                .then(|| {
                                                    view! {
                                                        <span class="sub">{p.draft.description.clone()}</span>
                                                    }
                                                })}
                                        </th>
                                        <td>{applies}</td>
                                        <td>
                                            {if p.draft.enabled { "in force" } else { "disabled" }}
                                        </td>
                                        <td>
                                            {format!(
                                                "{} by {}",
                                                p.updated_at.format("%Y-%m-%d %H:%M UTC"),
                                                p.updated_by,
                                            )}
                                        </td>
                                        <td>
                                            <pre>{p.draft.body.clone()}</pre>
                                            {manage}
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
        {table}
        {can_manage
            .then(|| {
                view! {
                    <section class="card">
                        <h2>"New policy"</h2>
                        <PolicyForm save policy=None />
                    </section>
                }
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
            <label>
                "Name (lower-case letters, digits and -; decisions name it custom-<name>)"
                <input
                    type="text"
                    name="name"
                    required=true
                    maxlength="64"
                    pattern="[a-z0-9-]+"
                    value=draft.name
                />
            </label>
            <label>
                "What it is for"
                <input type="text" name="description" maxlength="500" value=draft.description />
            </label>
            <label>
                "Cedar policy (one permit or forbid)"
                <textarea name="body" rows="8" class="code" spellcheck="false" required=true>
                    {draft.body}
                </textarea>
            </label>
            <label class="check">
                <input type="checkbox" name="enabled" value="on" checked=draft.enabled />
                "In force"
            </label>
            <button type="submit">"Check and save"</button>
        </ActionForm>
    }
    .into_any()
}
