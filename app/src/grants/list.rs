//! The grants list and one grant's page, with its actions (approve, deny, extend, revoke).

use super::*;

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
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }.into_any(),
        })
    };
    view! {
        <Title text="Grants" />
        <h1>"Just-in-time grants"</h1>
        <p class="lede">
            "Short-lived access, approved and expiring on its own. Request it from an identity's page."
        </p>
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading grants…"</p> }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => {
                        view! {
                            <GrantsView
                                data
                                change
                                owner=owner.get_untracked()
                                expiring=expiring.get_untracked()
                            />
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
    let tabs = [
        ("active", "Active"),
        ("mine", "My requests"),
        ("to_approve", "To approve"),
    ]
    .into_iter()
    .map(|(key, label)| {
        let current = list == key;
        view! {
            <a
                class="tab"
                href=format!("/grants?list={key}")
                aria-current=current.then_some("page")
            >
                {label}
            </a>
        }
    })
    .collect_view();
    let approving = list == "to_approve";
    let filters = (list == "active").then(|| {
        view! {
            <form method="get" action="/grants" class="filters" role="search">
                <input type="hidden" name="list" value="active" />
                <label>"Owner (email)" <input type="email" name="owner" value=owner /></label>
                <label>
                    "Expiring within (minutes)"
                    <input type="number" name="expiring" min="1" value=expiring />
                </label>
                <button type="submit">"Filter"</button>
            </form>
        }
    });
    let table = if grants.is_empty() {
        view! {
            <div class="empty-state">
                <p>
                    {match list.as_str() {
                        "to_approve" => "Nothing waits for your approval.",
                        "mine" => {
                            "You have not requested any grant yet. Open an identity and use its Grant button."
                        }
                        _ => "No active grants.",
                    }}
                </p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="grants">
                    <thead>
                        <tr>
                            <th scope="col">"Grant"</th>
                            <th scope="col">"Identity"</th>
                            <th scope="col">"Requested by"</th>
                            <th scope="col">"State"</th>
                            <th scope="col">"Time"</th>
                            {approving.then(|| view! { <th scope="col">"Decide"</th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {grants
                            .into_iter()
                            .map(|g| {
                                let id = g.id.to_string();
                                let approve_label = format!(
                                    "Approve {} for {}",
                                    g.scope(),
                                    g.identity_name,
                                );
                                let decide = approving
                                    .then(|| {
                                        let (approve_id, deny_id) = (id.clone(), id.clone());
                                        view! {
                                            <td class="answer">
                                                <ActionForm action=change>
                                                    <input type="hidden" name="id" value=approve_id />
                                                    <input type="hidden" name="change" value="approve" />
                                                    <button type="submit" aria-label=approve_label>
                                                        "Approve"
                                                    </button>
                                                </ActionForm>
                                                <details>
                                                    <summary>"Deny…"</summary>
                                                    <ActionForm action=change>
                                                        <input type="hidden" name="id" value=deny_id />
                                                        <input type="hidden" name="change" value="deny" />
                                                        <label>
                                                            "Why"
                                                            <input
                                                                type="text"
                                                                name="reason"
                                                                required=true
                                                                maxlength="2000"
                                                            />
                                                        </label>
                                                        <button type="submit" class="secondary">
                                                            "Deny"
                                                        </button>
                                                    </ActionForm>
                                                </details>
                                            </td>
                                        }
                                    });
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <a href=format!("/grants/{id}")>
                                                <code>{g.scope()}</code>
                                            </a>
                                            <span class="sub">
                                                {g.reason.clone().unwrap_or_default()}
                                            </span>
                                        </th>
                                        <td>
                                            <a href=format!(
                                                "/identities/{}",
                                                g.identity_id,
                                            )>{g.identity_name.clone()}</a>
                                        </td>
                                        <td>
                                            {g.requested_by.clone()}
                                            <span class="sub">
                                                {format::date(Some(g.requested_at))}
                                            </span>
                                        </td>
                                        <td>{state_badge(g.state)}</td>
                                        <td>
                                            {if g.state == GrantState::Pending {
                                                format!("{} min once approved", g.minutes)
                                            } else {
                                                remaining(&g, now)
                                            }}
                                        </td>
                                        {decide}
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
        <nav class="tabs" aria-label="Which grants">
            {tabs}
        </nav>
        {can_manage_policies
            .then(|| {
                view! {
                    <p>
                        <a href="/grants/policies">"Eligibility policies"</a>
                    </p>
                }
            })}
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
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <Title text="Grant" />
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading the grant…"</p> }
        }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(v) => view! { <GrantDetail view=v change /> }.into_any(),
                    Err(error) => {
                        view! {
                            <h1>"Grant"</h1>
                            <ErrorNotice error />
                        }
                            .into_any()
                    }
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
                    {field
                        .map(|(name, text)| {
                            view! {
                                <label>
                                    {text}" "
                                    <input
                                        type=if name == "minutes" { "number" } else { "text" }
                                        name=name
                                        required=true
                                    />
                                </label>
                            }
                        })}
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
            <dt>"Identity"</dt>
            <dd>
                <a href=format!("/identities/{}", g.identity_id)>{g.identity_name.clone()}</a>
            </dd>
            <dt>"Requested by"</dt>
            <dd>
                {format!("{} at {}", g.requested_by, g.requested_at.format("%Y-%m-%d %H:%M UTC"))}
            </dd>
            <dt>"Reason"</dt>
            <dd>{g.reason.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Duration"</dt>
            <dd>{format!("{} minutes from approval", g.minutes)}</dd>
            <dt>"Approval"</dt>
            <dd>
                {format!(
                    "{} — {}",
                    g.approval_mode,
                    if g.approvals.is_empty() {
                        "none yet".to_owned()
                    } else {
                        g.approvals
                            .iter()
                            .map(|a| format!("{} ({})", a.by, a.capacity))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                )}
            </dd>
            <dt>"Active"</dt>
            <dd>
                {match (g.starts_at, g.expires_at) {
                    (Some(s), Some(e)) => {
                        format!(
                            "{} to {}",
                            s.format("%Y-%m-%d %H:%M UTC"),
                            e.format("%Y-%m-%d %H:%M UTC"),
                        )
                    }
                    _ => "not yet".to_owned(),
                }}
            </dd>
            {g
                .ended_by
                .clone()
                .map(|by| {
                    view! {
                        <dt>"Ended by"</dt>
                        <dd>
                            {format!(
                                "{by}{}",
                                g.end_reason.clone().map(|r| format!(": {r}")).unwrap_or_default(),
                            )}
                        </dd>
                    }
                })}
        </dl>
        <section class="card">
            <h2>"Actions"</h2>
            {actions}
        </section>
        <section class="card">
            <h2>"Timeline"</h2>
            <ol class="timeline" id="timeline">
                {view
                    .timeline
                    .into_iter()
                    .map(|e| {
                        view! {
                            <li>
                                <time datetime=e
                                    .at
                                    .to_rfc3339()>
                                    {e.at.format("%Y-%m-%d %H:%M UTC").to_string()}
                                </time>
                                " "
                                {e.action.clone()}
                                " by "
                                {e.actor.clone()}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
    .into_any()
}
