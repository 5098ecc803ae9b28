//! Ownership pages: the signed-in person's inbox (answer assignments, read
//! notifications) and the security team's view (orphan queue, disputes, people who
//! leave).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use steward_domain::ownership::{Assignment, Inbox, OrphanEntry, PersonInfo};

use crate::error::AppError;
use crate::format;
use crate::toast::Toast;

#[server(prefix = "/rpc", endpoint = "ownership/inbox")]
pub async fn my_inbox() -> Result<Inbox, AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .ownership
        .inbox(crate::session::principal().as_ref())
        .await?)
}

/// Accepts (`accept = true`) or disputes an assignment.
#[server(prefix = "/rpc", endpoint = "ownership/answer")]
pub async fn answer_assignment(
    id: String,
    accept: bool,
    note: Option<String>,
) -> Result<Assignment, AppError> {
    use steward_domain::ownership::AnswerRequest;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let id = crate::error::parse_uuid("assignment", &id)?;
    let answer = AnswerRequest {
        note: note.filter(|n| !n.trim().is_empty()),
    };
    Ok(if accept {
        ports
            .ownership
            .accept(principal.as_ref(), id, &answer)
            .await?
    } else {
        ports
            .ownership
            .dispute(principal.as_ref(), id, &answer)
            .await?
    })
}

/// What the ownership page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipData {
    pub orphans: Vec<OrphanEntry>,
    pub disputes: Vec<Assignment>,
    pub people: Vec<PersonInfo>,
    pub can_deactivate: bool,
    pub can_assign: bool,
}

#[server(prefix = "/rpc", endpoint = "ownership/overview")]
pub async fn ownership_overview(people: String) -> Result<OwnershipData, AppError> {
    use steward_domain::auth::Action;
    use steward_domain::ownership::AssignmentState;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let can = |action| principal.as_ref().is_some_and(|p| p.can(action));
    Ok(OwnershipData {
        orphans: ports.ownership.orphan_queue(principal.as_ref()).await?,
        disputes: ports
            .ownership
            .list_assignments(principal.as_ref(), Some(AssignmentState::Disputed))
            .await?,
        people: ports.ownership.people(principal.as_ref(), &people).await?,
        can_deactivate: can(Action::DeactivatePerson),
        can_assign: can(Action::AssignOwnership),
    })
}

#[server(prefix = "/rpc", endpoint = "ownership/deactivate")]
pub async fn deactivate_person(id: String, reason: String) -> Result<String, AppError> {
    use steward_domain::ownership::DeactivateRequest;
    let ports = crate::session::ports()?;
    let result = ports
        .ownership
        .deactivate_person(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("person", &id)?,
            &DeactivateRequest { reason },
        )
        .await?;
    Ok(format!(
        "{} is deactivated: {} identities moved to the orphan queue, {} suspended under the leaver policy, {} sponsors told.",
        result.person.display_name, result.orphaned, result.suspended, result.sponsors_notified
    ))
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let answer = ServerAction::<AnswerAssignment>::new();
    let inbox = Resource::new(move || answer.version().get(), |_| my_inbox());
    let outcome = move || {
        answer.value().get().map(|r| match r {
            Ok(a) => view! {
                <Toast message=format!(
                    "You {} {} of {}.",
                    if a.state == steward_domain::ownership::AssignmentState::Accepted {
                        "accepted"
                    } else {
                        "disputed"
                    },
                    a.role,
                    a.identity.name,
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
    view! {
        <Title text="Inbox" />
        <h1>"Inbox"</h1>
        <p class="lede">
            "Identities you were made responsible for: accept them, or dispute with a note."
        </p>
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading your inbox…"</p> }
        }>
            {move || Suspend::new(async move {
                match inbox.await {
                    Ok(inbox) => view! { <InboxView inbox answer /> }.into_any(),
                    Err(e) => {
                        if let AppError::Domain(d) = &e {
                            crate::response::set_status(d.http_status());
                        }
                        view! {
                            <div class="notice error" role="alert">
                                <p>{e.to_string()}</p>
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn InboxView(inbox: Inbox, answer: ServerAction<AnswerAssignment>) -> impl IntoView {
    let notifications = (!inbox.notifications.is_empty()).then(|| {
        view! {
            <section class="card">
                <h2>"Notifications"</h2>
                <ul class="notifications">
                    {inbox
                        .notifications
                        .into_iter()
                        .map(|n| {
                            view! {
                                <li>
                                    <time datetime=n
                                        .created_at
                                        .to_rfc3339()>{format::date(Some(n.created_at))}</time>
                                    " "
                                    {n.message}
                                    {n
                                        .identity_id
                                        .map(|id| {
                                            view! {
                                                " "
                                                <a href=format!("/identities/{id}")>"Open"</a>
                                            }
                                        })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    });
    let assignments = if inbox.assignments.is_empty() {
        view! {
            <div class="empty-state">
                <p>"Nothing waiting for your answer."</p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="assignments">
                    <caption class="visually-hidden">"Assignments waiting for your answer"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Identity"</th>
                            <th scope="col">"As"</th>
                            <th scope="col">"Reason"</th>
                            <th scope="col">"By"</th>
                            <th scope="col">"When"</th>
                            <th scope="col">"Answer"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {inbox
                            .assignments
                            .into_iter()
                            .map(|a| {
                                let (accept_id, dispute_id) = (a.id.to_string(), a.id.to_string());
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <a href=format!(
                                                "/identities/{}",
                                                a.identity.id,
                                            )>{a.identity.name.clone()}</a>
                                            <span class="sub">
                                                {format!(
                                                    "{} · {}",
                                                    a.identity.kind.label(),
                                                    a.identity.environment,
                                                )}
                                            </span>
                                        </th>
                                        <td>{a.role.to_string()}</td>
                                        <td>{a.reason.clone()}</td>
                                        <td>{a.assigned_by.clone()}</td>
                                        <td>{format::date(Some(a.assigned_at))}</td>
                                        <td class="answer">
                                            <ActionForm action=answer>
                                                <input type="hidden" name="id" value=accept_id />
                                                <input type="hidden" name="accept" value="true" />
                                                <button
                                                    type="submit"
                                                    aria-label=format!("Accept {}", a.identity.name)
                                                >
                                                    "Accept"
                                                </button>
                                            </ActionForm>
                                            <details>
                                                <summary>"Dispute…"</summary>
                                                <ActionForm action=answer>
                                                    <input type="hidden" name="id" value=dispute_id />
                                                    <input type="hidden" name="accept" value="false" />
                                                    <label>
                                                        "Why (who should own it?)"
                                                        <input
                                                            type="text"
                                                            name="note"
                                                            required=true
                                                            maxlength="2000"
                                                        />
                                                    </label>
                                                    <button type="submit" class="secondary">
                                                        "Dispute"
                                                    </button>
                                                </ActionForm>
                                            </details>
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
        {notifications}
        <section>
            <h2>"Waiting for your answer"</h2>
            {assignments}
        </section>
    }
}

#[component]
pub fn OwnershipPage() -> impl IntoView {
    let query = use_query_map();
    let search = Memo::new(move |_| query.with(|q| q.get("people").unwrap_or_default()));
    let deactivate = ServerAction::<DeactivatePerson>::new();
    let overview = Resource::new(
        move || (search.get(), deactivate.version().get()),
        |(s, _)| ownership_overview(s),
    );
    let outcome = move || {
        deactivate.value().get().map(|r| match r {
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
        <Title text="Ownership" />
        <h1>"Ownership"</h1>
        <p class="lede">
            "Identities nobody answers for, disputed assignments, and the people who own identities."
        </p>
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => {
                        view! {
                            <OwnershipView overview search=search.get_untracked() deactivate />
                        }
                            .into_any()
                    }
                    Err(e) => {
                        if let AppError::Domain(d) = &e {
                            crate::response::set_status(d.http_status());
                        }
                        view! {
                            <div class="notice error" role="alert">
                                <p>{e.to_string()}</p>
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn OwnershipView(
    overview: OwnershipData,
    search: String,
    deactivate: ServerAction<DeactivatePerson>,
) -> impl IntoView {
    let OwnershipData {
        orphans,
        disputes,
        people,
        can_deactivate,
        can_assign,
    } = overview;
    let orphan_table = if orphans.is_empty() {
        view! {
            <div class="empty-state">
                <p>"The orphan queue is empty: every identity whose owner left has a new owner."</p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="orphan-queue">
                    <thead>
                        <tr>
                            <th scope="col">"Identity"</th>
                            <th scope="col">"Owner who left"</th>
                            <th scope="col">"Should pick it up"</th>
                            <th scope="col">"Queued"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {orphans
                            .into_iter()
                            .map(|o| {
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <a href=format!(
                                                "/identities/{}",
                                                o.identity.id,
                                            )>{o.identity.name.clone()}</a>
                                            <span class="sub">
                                                {format!(
                                                    "{} · {}",
                                                    o.identity.kind.label(),
                                                    o.identity.environment,
                                                )}
                                            </span>
                                        </th>
                                        <td>{o.former_owner.display_name.clone()}</td>
                                        <td>
                                            {o
                                                .suggested
                                                .as_ref()
                                                .map_or(
                                                    "—".to_owned(),
                                                    |p| format!("{} <{}>", p.display_name, p.email),
                                                )} <span class="sub">{o.suggested_reason.clone()}</span>
                                        </td>
                                        <td>{format::date(Some(o.queued_at))}</td>
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
    let dispute_table = if disputes.is_empty() {
        view! { <p class="muted">"No disputed assignments."</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="disputes">
                    <thead>
                        <tr>
                            <th scope="col">"Identity"</th>
                            <th scope="col">"Disputed by"</th>
                            <th scope="col">"As"</th>
                            <th scope="col">"Note"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {disputes
                            .into_iter()
                            .map(|a| {
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <a href=format!(
                                                "/identities/{}",
                                                a.identity.id,
                                            )>{a.identity.name.clone()}</a>
                                        </th>
                                        <td>{a.person.display_name.clone()}</td>
                                        <td>{a.role.to_string()}</td>
                                        <td>{a.answer_note.clone().unwrap_or_default()}</td>
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
        <section>
            <h2>"Orphan queue"</h2>
            {can_assign
                .then(|| {
                    view! {
                        <p class="muted">
                            "Open an identity to assign its new owner; it leaves the queue at once."
                        </p>
                    }
                })}
            {orphan_table}
        </section>
        <section>
            <h2>"Disputed assignments"</h2>
            {dispute_table}
        </section>
        <section>
            <h2>"People"</h2>
            <form method="get" action="/ownership" class="filters" role="search">
                <label>"Name or email" <input type="search" name="people" value=search /></label>
                <button type="submit">"Search"</button>
            </form>
            <div class="table-wrap">
                <table class="data-table" id="people">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Team"</th>
                            <th scope="col">"Owns"</th>
                            <th scope="col">"Status"</th>
                            {can_deactivate.then(|| view! { <th scope="col">"Offboard"</th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {people
                            .into_iter()
                            .map(|p| {
                                let owned_href = format::inventory_href(
                                    &steward_domain::inventory::IdentityQuery {
                                        owner: Some(p.email.clone()),
                                        ..steward_domain::inventory::IdentityQuery::new()
                                    },
                                );
                                view! {
                                    <tr>
                                        <th scope="row">
                                            {p.display_name.clone()}
                                            <span class="sub">{p.email.clone()}</span>
                                        </th>
                                        <td>{p.team.clone().unwrap_or_default()}</td>
                                        <td>
                                            <a href=owned_href>{format::count(p.owned)}</a>
                                        </td>
                                        <td>
                                            {if p.active {
                                                view! { <span class="badge status-active">"active"</span> }
                                                    .into_any()
                                            } else {
                                                view! { <span class="badge status-retired">"left"</span> }
                                                    .into_any()
                                            }}
                                        </td>
                                        {(can_deactivate && p.active)
                                            .then(|| {
                                                view! {
                                                    <td>
                                                        <details>
                                                            <summary>"Deactivate…"</summary>
                                                            <ActionForm action=deactivate>
                                                                <input type="hidden" name="id" value=p.id.to_string() />
                                                                <label>
                                                                    "Reason"
                                                                    <input
                                                                        type="text"
                                                                        name="reason"
                                                                        required=true
                                                                        placeholder="left the company (HR ticket)"
                                                                    />
                                                                </label>
                                                                <label class="check">
                                                                    <input
                                                                        type="checkbox"
                                                                        name="confirm"
                                                                        value="yes"
                                                                        required=true
                                                                    />
                                                                    {format!(
                                                                        "I confirm: {} has left; move their {} identities to the orphan queue and suspend those the leaver policy names",
                                                                        p.display_name,
                                                                        p.owned,
                                                                    )}
                                                                </label>
                                                                <button type="submit" class="danger">
                                                                    "Deactivate"
                                                                </button>
                                                            </ActionForm>
                                                        </details>
                                                    </td>
                                                }
                                            })}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
