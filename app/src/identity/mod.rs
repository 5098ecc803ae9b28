//! One identity's page — attributes, owner and sponsor, credentials with their
//! rotation state, entitlements, the delegation diagram and the lifecycle timeline —
//! with the actions the caller may take; and the create / edit form (admins).

// The form's server function takes one argument per form field (that is how an
// `ActionForm` posts), and the macro generates the browser side of it too.
#![allow(clippy::too_many_arguments)]

use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde::{Deserialize, Serialize};
use steward_domain::delegation::DelegationGraph;
use steward_domain::identity::{Autonomy, IdentityDetail, IdentityDraft, Sensitivity};
use steward_domain::inventory::{IdentityKind, IdentityStatus};
use steward_domain::ownership::Assignment;

use crate::authz::AuthzSection;
use crate::error::AppError;
use crate::format;
use crate::grants::JitSection;
use crate::posture::FindingsSection;
use crate::toast::Toast;

/// An identity as its page shows it, with what the caller may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityView {
    pub detail: IdentityDetail,
    pub as_of: DateTime<Utc>,
    pub can_manage: bool,
    pub can_assign: bool,
    pub can_suspend: bool,
    pub findings: Vec<steward_domain::posture::findings::Finding>,
    /// May accept risks of findings (and reopen them).
    pub can_accept: bool,
    /// Just-in-time entitlements a policy makes requestable, with their open grants.
    pub eligible: Vec<steward_domain::grants::EligibleEntitlement>,
}

#[server(prefix = "/rpc", endpoint = "identity/get")]
pub async fn get_identity(id: String) -> Result<IdentityView, AppError> {
    use steward_domain::auth::{Action, Role};
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let detail = ports
        .inventory
        .get_identity(
            principal.as_ref(),
            crate::error::parse_uuid("identity", &id)?,
        )
        .await?;
    let can = |action| principal.as_ref().is_some_and(|p| p.can(action));
    let owns = principal.as_ref().is_some_and(|p| {
        p.role == Role::Admin
            || detail
                .summary
                .owner
                .as_ref()
                .is_some_and(|o| o.id == p.person_id)
    });
    let findings = ports
        .posture
        .findings_of(principal.as_ref(), detail.summary.id)
        .await?;
    let eligible = ports
        .grants
        .eligible(principal.as_ref(), detail.summary.id)
        .await?;
    Ok(IdentityView {
        as_of: Utc::now(),
        eligible,
        findings,
        can_accept: can(Action::ManagePosture),
        can_manage: can(Action::ManageIdentities),
        can_assign: can(Action::AssignOwnership),
        can_suspend: can(Action::SuspendIdentity) && owns,
        detail,
    })
}

#[server(prefix = "/rpc", endpoint = "identity/assign")]
pub async fn assign_identity(
    id: String,
    role: String,
    person: String,
    reason: String,
) -> Result<Assignment, AppError> {
    use steward_domain::ownership::AssignRequest;
    let ports = crate::session::ports()?;
    let request = AssignRequest {
        role: role.parse()?,
        person,
        reason,
    };
    Ok(ports
        .ownership
        .assign(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("identity", &id)?,
            &request,
        )
        .await?)
}

/// Suspends, reactivates or retires (`change` = `suspend`, `reactivate`, `retire`).
#[server(prefix = "/rpc", endpoint = "identity/lifecycle")]
pub async fn change_lifecycle(
    id: String,
    change: String,
    reason: String,
) -> Result<String, AppError> {
    use steward_domain::identity::{LifecycleRequest, RetireRequest};
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let id = crate::error::parse_uuid("identity", &id)?;
    let request = LifecycleRequest {
        reason: reason.clone(),
    };
    match change.as_str() {
        "suspend" => {
            ports
                .inventory
                .suspend(principal.as_ref(), id, &request)
                .await?;
            Ok("Suspended: its credentials stop working now.".into())
        }
        "reactivate" => {
            ports
                .inventory
                .reactivate(principal.as_ref(), id, &request)
                .await?;
            Ok("Reactivated.".into())
        }
        "retire" => {
            let report = ports
                .inventory
                .retire(principal.as_ref(), id, &RetireRequest { evidence: reason })
                .await?;
            Ok(format!(
                "Retired: {} credentials revoked, {} entitlements removed, {} delegations removed.",
                report.credentials_revoked, report.entitlements_removed, report.delegations_removed
            ))
        }
        other => Err(steward_domain::DomainError::invalid(
            "change",
            format!("unknown change '{other}'"),
        )
        .into()),
    }
}

/// Creates (no `id`) or updates an identity from the form; returns its id.
#[server(prefix = "/rpc", endpoint = "identity/save")]
pub async fn save_identity(
    id: Option<String>,
    name: String,
    kind: String,
    external_id: Option<String>,
    environment: String,
    team: Option<String>,
    purpose: Option<String>,
    autonomy: Option<String>,
    sensitivity_ceiling: Option<String>,
    spiffe_id: Option<String>,
    revocation_path: Option<String>,
    expires_on: Option<String>,
) -> Result<String, AppError> {
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let draft = draft_from_form(DraftForm {
        name,
        kind,
        external_id,
        environment,
        team,
        purpose,
        autonomy,
        sensitivity_ceiling,
        spiffe_id,
        revocation_path,
        expires_on,
    })?;
    let saved = match id.filter(|i| !i.is_empty()) {
        None => {
            ports
                .inventory
                .create_identity(principal.as_ref(), &draft)
                .await?
        }
        Some(id) => {
            ports
                .inventory
                .update_identity(
                    principal.as_ref(),
                    crate::error::parse_uuid("identity", &id)?,
                    &draft,
                )
                .await?
        }
    };
    Ok(saved.summary.id.to_string())
}

/// The create / edit form's fields as submitted (all text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftForm {
    pub name: String,
    pub kind: String,
    pub external_id: Option<String>,
    pub environment: String,
    pub team: Option<String>,
    pub purpose: Option<String>,
    pub autonomy: Option<String>,
    pub sensitivity_ceiling: Option<String>,
    pub spiffe_id: Option<String>,
    pub revocation_path: Option<String>,
    pub expires_on: Option<String>,
}

/// Turns the form into a draft: the expiry is a day (end of that day, UTC); blank
/// choices are "none". The service then checks every rule.
pub fn draft_from_form(form: DraftForm) -> Result<IdentityDraft, steward_domain::DomainError> {
    use steward_domain::DomainError;
    let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let expires_at = match blank(form.expires_on) {
        None => None,
        Some(day) => Some(
            NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
                .map_err(|_| {
                    DomainError::invalid(
                        "expires_at",
                        format!("'{day}' is not a date (YYYY-MM-DD)"),
                    )
                })?
                .and_hms_opt(23, 59, 59)
                .map(|t| t.and_utc())
                .ok_or_else(|| DomainError::invalid("expires_at", "not a valid day"))?,
        ),
    };
    Ok(IdentityDraft {
        name: form.name,
        kind: form.kind.parse()?,
        external_id: blank(form.external_id),
        environment: form.environment,
        team: blank(form.team),
        purpose: blank(form.purpose),
        autonomy: blank(form.autonomy)
            .map(|a| a.parse::<Autonomy>())
            .transpose()?,
        sensitivity_ceiling: blank(form.sensitivity_ceiling)
            .map(|s| s.parse::<Sensitivity>())
            .transpose()?,
        spiffe_id: blank(form.spiffe_id),
        revocation_path: blank(form.revocation_path),
        expires_at,
    })
}

#[component]
pub fn IdentityPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let assign = ServerAction::<AssignIdentity>::new();
    let lifecycle = ServerAction::<ChangeLifecycle>::new();
    let accept = ServerAction::<crate::posture::AcceptFinding>::new();
    let reopen = ServerAction::<crate::posture::ReopenFinding>::new();
    let request = ServerAction::<crate::grants::RequestGrant>::new();
    // Set by the edit form after a save: the change is confirmed here.
    let query = use_query_map();
    let saved = move || {
        query.with(|q| match q.get("done").as_deref() {
            Some("created") => Some("Identity created."),
            Some("updated") => Some("Changes saved."),
            _ => None,
        })
    };
    let identity = Resource::new(
        move || {
            (
                id.get(),
                request.version().get(),
                assign.version().get(),
                lifecycle.version().get(),
                accept.version().get(),
                reopen.version().get(),
            )
        },
        |(id, ..)| get_identity(id),
    );
    view! {
        {move || saved().map(|message| view! { <Toast message /> })}
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading the identity…"</p> }>
            {move || Suspend::new(async move {
                match identity.await {
                    Ok(view) => view! { <IdentityDetailView view assign lifecycle accept reopen request /> }.into_any(),
                    Err(error) => {
                        if let AppError::Domain(domain) = &error {
                            crate::response::set_status(domain.http_status());
                        }
                        view! {
                            <Title text="Identity" />
                            <h1>"Identity"</h1>
                            <div class="notice error" role="alert">
                                <p>{error.to_string()}</p>
                                <p><a href="/inventory">"Back to the inventory"</a></p>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn IdentityDetailView(
    view: IdentityView,
    assign: ServerAction<AssignIdentity>,
    lifecycle: ServerAction<ChangeLifecycle>,
    accept: ServerAction<crate::posture::AcceptFinding>,
    reopen: ServerAction<crate::posture::ReopenFinding>,
    request: ServerAction<crate::grants::RequestGrant>,
) -> impl IntoView {
    let IdentityView {
        eligible,
        detail,
        as_of,
        can_manage,
        can_assign,
        can_suspend,
        findings,
        can_accept,
    } = view;
    let findings_id = detail.summary.id.to_string();
    let s = detail.summary.clone();
    let assign_id = s.id.to_string();
    let (suspend_id, reactivate_id, retire_id) =
        (s.id.to_string(), s.id.to_string(), s.id.to_string());
    let person = |p: &Option<steward_domain::inventory::PersonRef>| {
        match p {
        Some(p) => view! { <span>{p.display_name.clone()}" "<span class="muted">{format!("<{}>", p.email)}</span></span> }.into_any(),
        None => view! { <span class="badge warn">"None"</span> }.into_any(),
    }
    };
    let owner_note = if s.owner.is_some() && !s.owner_active {
        Some(view! { " " <span class="badge warn">"Orphaned: owner left"</span> })
    } else {
        None
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
    let attributes = vec![
        ("Class", s.actor_class.label().to_owned()),
        ("Kind", s.kind.label().to_owned()),
        ("Source", s.source.to_string()),
        ("External id", text(&s.external_id)),
        ("Environment", s.environment.clone()),
        ("Team", text(&s.team)),
        ("Purpose", text(&detail.purpose)),
        (
            "Autonomy",
            detail.autonomy.map_or("—".to_owned(), |a| a.to_string()),
        ),
        (
            "Data sensitivity ceiling",
            detail
                .sensitivity_ceiling
                .map_or("—".to_owned(), |x| x.to_string()),
        ),
        ("Workload identity (SPIFFE ID)", text(&s.spiffe_id)),
        ("Revocation path", text(&detail.revocation_path)),
        ("Expires", format::date(s.expires_at)),
        ("Created", format::date(Some(s.created_at))),
        (
            "Last used",
            s.last_used_at
                .map_or("never".to_owned(), |t| format::date(Some(t))),
        ),
        (
            "Ownership",
            detail
                .ownership_state
                .map_or("never assigned".to_owned(), |o| o.to_string()),
        ),
    ];
    let retired = s.status == IdentityStatus::Retired;
    let lifecycle_result = move || {
        lifecycle.value().get().map(|r| match r {
            Ok(message) => view! { <Toast message /> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    let assign_result = move || {
        assign.value().get().map(|r| match r {
            Ok(a) => view! { <Toast message=format!("{} is now {} (waiting for their answer).", a.person.display_name, a.role) /> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <Title text=s.name.clone() />
        <div class="page-head">
            <div>
                <h1>{s.name.clone()}</h1>
                <p class="lede">
                    <span class=format!("badge class-{}", s.actor_class)>{s.actor_class.label()}</span>" "
                    <span class=format!("badge status-{}", s.status) id="identity-status">{s.status.as_str()}</span>" "
                    {s.is_expired(as_of).then(|| view! { <span class="badge danger">"Expired"</span> })}
                    {detail.status_reason.clone().map(|r| view! { " " <span class="muted">{format!("({r})")}</span> })}
                </p>
            </div>
            {(can_manage && !retired).then(|| view! { <a class="button" href=format!("/identities/{}/edit", s.id)>"Edit"</a> })}
        </div>

        <section class="card">
            <h2>"Ownership"</h2>
            <dl class="attributes">
                <dt>"Owner"</dt><dd id="owner">{person(&s.owner)}{owner_note}</dd>
                <dt>"Sponsor (backup owner)"</dt><dd id="sponsor">{person(&detail.sponsor)}</dd>
            </dl>
            {(can_assign && !retired).then(|| view! {
                <details class="panel">
                    <summary>"Assign an owner or sponsor…"</summary>
                    <ActionForm action=assign>
                        <input type="hidden" name="id" value=assign_id />
                        <div class="form-grid">
                            <label>"Responsibility"
                                <select name="role"><option value="owner">"Owner"</option><option value="sponsor">"Sponsor"</option></select>
                            </label>
                            <label>"Person (email)" <input type="email" name="person" required=true /></label>
                            <label class="wide">"Reason" <input type="text" name="reason" required=true maxlength="2000" /></label>
                        </div>
                        <button type="submit">"Assign"</button>
                    </ActionForm>
                    {assign_result}
                </details>
            })}
        </section>

        <section class="card">
            <h2>"Attributes"</h2>
            <dl class="attributes">
                {attributes.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
        </section>

        <section class="card" id="findings-section">
            <h2>"Findings"</h2>
            <FindingsSection id=findings_id findings can_accept as_of accept reopen />
        </section>

        <section class="card">
            <h2>"Credentials"</h2>
            <CredentialTable credentials=detail.credentials.clone() as_of />
        </section>

        <section class="card">
            <h2>"Entitlements"</h2>
            <EntitlementTable entitlements=detail.entitlements.clone() />
        </section>

        <section class="card" id="jit">
            <h2>"Just-in-time access"</h2>
            <JitSection identity_id=s.id eligible request now=as_of />
        </section>

        <section class="card">
            <h2>"Delegation"</h2>
            <DelegationDiagram graph=detail.delegation.clone() />
        </section>

        <section class="card" id="runtime">
            <h2>"Runtime authorization"</h2>
            <AuthzSection identity_id=s.id environment=s.environment.clone() />
        </section>

        {(!retired && (can_suspend || can_manage)).then(|| view! {
            <section class="card danger-zone">
                <h2>"Lifecycle"</h2>
                {(s.status == IdentityStatus::Active && can_suspend).then(|| view! {
                    <LifecycleForm lifecycle id=suspend_id change="suspend" label="Suspend (kill switch)"
                        field="Reason" confirm="I confirm: suspend now; its tokens stop working and later authorization decisions deny it" />
                })}
                {(s.status == IdentityStatus::Suspended && can_manage).then(|| view! {
                    <LifecycleForm lifecycle id=reactivate_id change="reactivate" label="Reactivate"
                        field="Reason" confirm="I confirm: reactivate this identity" />
                })}
                {can_manage.then(|| view! {
                    <LifecycleForm lifecycle id=retire_id change="retire" label="Retire (offboard)"
                        field="Evidence (ticket, change record)" confirm="I confirm: revoke every credential, remove every entitlement and delegation, and retire it for good" />
                })}
                {lifecycle_result}
            </section>
        })}

        <section class="card">
            <h2>"Timeline"</h2>
            <Timeline events=detail.timeline.clone() />
        </section>
    }
}

/// One lifecycle change behind a disclosure, with a required reason and an explicit
/// confirmation (these are consequential; nothing happens on a single click).
#[component]
fn LifecycleForm(
    lifecycle: ServerAction<ChangeLifecycle>,
    id: String,
    change: &'static str,
    label: &'static str,
    field: &'static str,
    confirm: &'static str,
) -> impl IntoView {
    view! {
        <details class="panel" id=format!("lifecycle-{change}")>
            <summary>{label}"…"</summary>
            <ActionForm action=lifecycle>
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="change" value=change />
                <label class="wide">{field}<input type="text" name="reason" required=true maxlength="2000" /></label>
                <label class="check"><input type="checkbox" name="confirm" required=true value="yes" />{confirm}</label>
                <button type="submit" class="danger">{label}</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn CredentialTable(
    credentials: Vec<steward_domain::identity::CredentialInfo>,
    as_of: DateTime<Utc>,
) -> impl IntoView {
    if credentials.is_empty() {
        return view! { <p class="muted">"No credentials recorded."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" id="credentials">
                <thead><tr>
                    <th scope="col">"Kind"</th><th scope="col">"Key id / fingerprint"</th><th scope="col">"Age (days)"</th>
                    <th scope="col">"Rotation"</th><th scope="col">"Expires"</th><th scope="col">"Last used"</th>
                </tr></thead>
                <tbody>
                    {credentials.into_iter().map(|c| {
                        let state = c.rotation_state(as_of);
                        let policy = c.rotation_days.map_or(String::new(), |d| format!(" (every {d} days)"));
                        view! {
                            <tr>
                                <td>{c.kind.to_string()}</td>
                                <td><code>{c.key_id.clone()}</code></td>
                                <td>{c.age_days(as_of)}</td>
                                <td><span class=format!("badge rotation-{}", format::rotation_class(state))>{state.label()}</span>{policy}</td>
                                <td>{format::date(c.expires_at)}</td>
                                <td>{c.last_used_at.map_or("never".to_owned(), |t| format::date(Some(t)))}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn EntitlementTable(entitlements: Vec<steward_domain::identity::Entitlement>) -> impl IntoView {
    if entitlements.is_empty() {
        return view! { <p class="muted">"No entitlements recorded."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" id="entitlements">
                <thead><tr>
                    <th scope="col">"Resource"</th><th scope="col">"Action"</th><th scope="col">"Privilege"</th>
                    <th scope="col">"Grant"</th><th scope="col">"Since"</th><th scope="col">"Removed"</th>
                </tr></thead>
                <tbody>
                    {entitlements.into_iter().map(|e| view! {
                        <tr class=if e.removed_at.is_some() { "removed" } else { "" }>
                            <td>{e.resource.clone()}</td>
                            <td>{e.action.clone()}</td>
                            <td>{if e.privilege == steward_domain::identity::Privilege::Admin {
                                view! { <span class="badge danger">"admin"</span> }.into_any()
                            } else {
                                view! { <span>{e.privilege.to_string()}</span> }.into_any()
                            }}</td>
                            <td>{e.grant_type.to_string()}</td>
                            <td>{format::date(Some(e.created_at))}</td>
                            <td>{format::date(e.removed_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The delegation DAG as SVG: columns by delegation depth, arrows from delegator to
/// delegate, and under each name the permissions it can exercise through the chain.
#[component]
pub fn DelegationDiagram(graph: DelegationGraph) -> impl IntoView {
    if graph.edges.is_empty() {
        return view! { <p class="muted">"This identity neither delegates nor is delegated to."</p> }.into_any();
    }
    let layout = format::diagram_layout(&graph);
    let description = format::describe_delegation(&graph);
    view! {
        <figure class="delegation">
            <svg id="delegation-diagram" role="img" aria-labelledby="delegation-title delegation-desc"
                viewBox=format!("0 0 {} {}", layout.width, layout.height) width=layout.width height=layout.height>
                <title id="delegation-title">"Delegation diagram"</title>
                <desc id="delegation-desc">{description.clone()}</desc>
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                    </marker>
                </defs>
                {layout.edges.into_iter().map(|e| view! {
                    <line x1=e.x1 y1=e.y1 x2=e.x2 y2=e.y2 class="edge" marker-end="url(#arrow)" />
                    <text x=(e.x1 + e.x2) / 2.0 y=(e.y1 + e.y2) / 2.0 - 4.0 class="edge-label">{e.label}</text>
                }).collect_view()}
                {layout.nodes.into_iter().map(|n| view! {
                    <g class=if n.focus { "node focus" } else { "node" }>
                        <title>{n.full_name}</title>
                        <rect x=n.x y=n.y width=n.w height=n.h rx="6" />
                        <text x=n.x + 8.0 y=n.y + 18.0 class="node-name">{n.name}</text>
                        <text x=n.x + 8.0 y=n.y + 34.0 class="node-kind">{n.kind}</text>
                        {n.lines.into_iter().enumerate().map(|(i, line)| view! {
                            <text x=n.x + 8.0 y=n.y + 52.0 + 14.0 * i as f64 class="node-perm">{line}</text>
                        }).collect_view()}
                    </g>
                }).collect_view()}
            </svg>
            <figcaption class="muted">{description}</figcaption>
        </figure>
    }
    .into_any()
}

#[component]
fn Timeline(events: Vec<steward_domain::audit::AuditEvent>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted">"No recorded changes yet."</p> }.into_any();
    }
    view! {
        <ol class="timeline" id="timeline">
            {events.into_iter().map(|e| view! {
                <li>
                    <time datetime=e.at.to_rfc3339()>{e.at.format("%Y-%m-%d %H:%M UTC").to_string()}</time>
                    " " <strong>{format::describe_event(&e.action)}</strong>
                    " " <span class="muted">{format!("by {}", e.actor)}</span>
                    {format::event_summary(&e.details).map(|s| view! { <div class="muted">{s}</div> })}
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// `/identities/new` and `/identities/:id/edit` (admins).
#[component]
pub fn IdentityFormPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id")));
    let existing = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                None => {
                    // Only admins may create identities; say so at once rather than on save.
                    use steward_domain::auth::Action;
                    match crate::session::whoami().await? {
                        Some(me) if Action::ManageIdentities.roles().contains(&me.role) => Ok(None),
                        Some(me) => Err(AppError::Domain(steward_domain::DomainError::Forbidden {
                            reason: format!("the {} role cannot create identities", me.role),
                        })),
                        None => Err(AppError::Domain(
                            steward_domain::DomainError::Unauthenticated,
                        )),
                    }
                }
                Some(id) => {
                    let view = get_identity(id).await?;
                    if view.can_manage {
                        Ok(Some(view))
                    } else {
                        Err(AppError::Domain(steward_domain::DomainError::Forbidden {
                            reason: "only admins can edit identities".into(),
                        }))
                    }
                }
            }
        },
    );
    let save = ServerAction::<SaveIdentity>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            // The identity page confirms the change with its toast.
            let done = if id.get_untracked().is_some() {
                "updated"
            } else {
                "created"
            };
            navigate(
                &format!("/identities/{saved}?done={done}"),
                Default::default(),
            );
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match existing.await {
                    Ok(found) => view! { <IdentityForm existing=found.map(|v| v.detail) save /> }.into_any(),
                    Err(error) => {
                        if let AppError::Domain(domain) = &error {
                            crate::response::set_status(domain.http_status());
                        }
                        view! { <div class="notice error" role="alert"><p>{error.to_string()}</p></div> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn IdentityForm(
    existing: Option<IdentityDetail>,
    save: ServerAction<SaveIdentity>,
) -> impl IntoView {
    let title = if existing.is_some() {
        "Edit identity"
    } else {
        "New identity"
    };
    let f = form_values(existing.as_ref());
    let kind = f.kind;
    let option = |value: &'static str, label: &'static str, current: bool| view! { <option value=value selected=current>{label}</option> };
    let error = move || {
        save.value().get().and_then(|r| r.err()).map(|e| {
            let field = match &e {
                AppError::Domain(steward_domain::DomainError::InvalidInput { field, .. }) => {
                    Some(field.clone())
                }
                _ => None,
            };
            view! { <p class="notice error" role="alert" data-field=field>{e.to_string()}</p> }
        })
    };
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <p class="lede">"Every identity needs an expiry within policy and a revocation path. Owners are assigned on the identity's page."</p>
        {error}
        <ActionForm action=save>
            <input type="hidden" name="id" value=f.id.clone() />
            <div class="form-grid card">
                <label>"Name" <input type="text" name="name" required=true maxlength="200" value=f.name /></label>
                <label>"Kind"
                    <select name="kind">
                        {IdentityKind::ALL.iter().map(|k| option(k.as_str(), k.label(), *k == kind)).collect_view()}
                    </select>
                </label>
                <label>"Environment" <input type="text" name="environment" required=true placeholder="prod" value=f.environment /></label>
                <label>"Team" <input type="text" name="team" value=f.team /></label>
                <label>"External id" <input type="text" name="external_id" value=f.external_id /></label>
                <label>"Expires on" <input type="date" name="expires_on" required=true value=f.expires_on /></label>
                <label class="wide">"Revocation path (runbook URL or procedure)" <input type="text" name="revocation_path" required=true value=f.revocation_path /></label>
                <label class="wide">"SPIFFE ID" <input type="text" name="spiffe_id" placeholder="spiffe://trust-domain/path" value=f.spiffe_id /></label>
                <label class="wide">"Purpose (for AI: its task)" <input type="text" name="purpose" value=f.purpose /></label>
                <label>"Autonomy"
                    <select name="autonomy">
                        {option("", "—", f.autonomy.is_none())}
                        {Autonomy::ALL.iter().map(|a| option(a.as_str(), a.as_str(), f.autonomy == Some(*a))).collect_view()}
                    </select>
                </label>
                <label>"Data sensitivity ceiling"
                    <select name="sensitivity_ceiling">
                        {option("", "—", f.sensitivity_ceiling.is_none())}
                        {Sensitivity::ALL.iter().map(|x| option(x.as_str(), x.as_str(), f.sensitivity_ceiling == Some(*x))).collect_view()}
                    </select>
                </label>
            </div>
            <button type="submit">"Save"</button>
            " " <a href=f.cancel>"Cancel"</a>
        </ActionForm>
    }
}

/// What the form's fields start with: the identity's values, or blanks.
struct FormValues {
    id: String,
    name: String,
    kind: IdentityKind,
    environment: String,
    team: String,
    external_id: String,
    expires_on: String,
    revocation_path: String,
    spiffe_id: String,
    purpose: String,
    autonomy: Option<Autonomy>,
    sensitivity_ceiling: Option<Sensitivity>,
    cancel: String,
}

fn form_values(existing: Option<&IdentityDetail>) -> FormValues {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    match existing {
        None => FormValues {
            id: String::new(),
            name: String::new(),
            kind: IdentityKind::Workload,
            environment: String::new(),
            team: String::new(),
            external_id: String::new(),
            expires_on: String::new(),
            revocation_path: String::new(),
            spiffe_id: String::new(),
            purpose: String::new(),
            autonomy: None,
            sensitivity_ceiling: None,
            cancel: "/inventory".to_owned(),
        },
        Some(d) => FormValues {
            id: d.summary.id.to_string(),
            name: d.summary.name.clone(),
            kind: d.summary.kind,
            environment: d.summary.environment.clone(),
            team: text(&d.summary.team),
            external_id: text(&d.summary.external_id),
            expires_on: d
                .summary
                .expires_at
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            revocation_path: text(&d.revocation_path),
            spiffe_id: text(&d.summary.spiffe_id),
            purpose: text(&d.purpose),
            autonomy: d.autonomy,
            sensitivity_ceiling: d.sensitivity_ceiling,
            cancel: format!("/identities/{}", d.summary.id),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_become_a_draft() {
        let draft = draft_from_form(DraftForm {
            name: "x".into(),
            kind: "agent".into(),
            environment: "prod".into(),
            team: Some(" ".into()),
            autonomy: Some("supervised".into()),
            sensitivity_ceiling: Some(String::new()),
            expires_on: Some("2026-12-31".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(draft.kind, IdentityKind::Agent);
        assert_eq!(draft.team, None);
        assert_eq!(draft.autonomy, Some(Autonomy::Supervised));
        assert_eq!(draft.sensitivity_ceiling, None);
        assert_eq!(
            draft.expires_at.unwrap().to_rfc3339(),
            "2026-12-31T23:59:59+00:00"
        );
        let bad = draft_from_form(DraftForm {
            kind: "agent".into(),
            expires_on: Some("31/12/2026".into()),
            ..Default::default()
        });
        assert_eq!(
            bad.unwrap_err().to_string(),
            "invalid expires_at: '31/12/2026' is not a date (YYYY-MM-DD)"
        );
    }
}
