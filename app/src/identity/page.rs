//! An identity's page: attributes, owner and sponsor, the actions the caller may take,
//! and the sections below.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use steward_domain::inventory::IdentityStatus;

use crate::authz::AuthzSection;
use crate::error::AppError;
use crate::format;
use crate::grants::JitSection;
use crate::posture::FindingsSection;
use crate::toast::Toast;

use super::sections::{CredentialTable, EntitlementTable, LifecycleForm, Timeline};
use super::{get_identity, AssignIdentity, ChangeLifecycle, DelegationDiagram, IdentityView};

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
        <Transition fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading the identity…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match identity.await {
                    Ok(view) => {
                        view! { <IdentityDetailView view assign lifecycle accept reopen request /> }
                            .into_any()
                    }
                    Err(error) => {
                        if let AppError::Domain(domain) = &error {
                            crate::response::set_status(domain.http_status());
                        }
                        view! {
                            <Title text="Identity" />
                            <h1>"Identity"</h1>
                            <div class="notice error" role="alert">
                                <p>{error.to_string()}</p>
                                <p>
                                    <a href="/inventory">"Back to the inventory"</a>
                                </p>
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
    let person = |p: &Option<steward_domain::inventory::PersonRef>| match p {
        Some(p) => view! {
            <span>
                {p.display_name.clone()}" "<span class="muted">{format!("<{}>", p.email)}</span>
            </span>
        }
        .into_any(),
        None => view! { <span class="badge warn">"None"</span> }.into_any(),
    };
    let owner_note = if s.owner.is_some() && !s.owner_active {
        Some(view! {
            " "
            <span class="badge warn">"Orphaned: owner left"</span>
        })
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
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    let assign_result = move || {
        assign.value().get().map(|r| match r {
            Ok(a) => view! {
                <Toast message=format!(
                    "{} is now {} (waiting for their answer).",
                    a.person.display_name,
                    a.role,
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
        <Title text=s.name.clone() />
        <div class="page-head">
            <div>
                <h1>{s.name.clone()}</h1>
                <p class="lede">
                    <span class=format!(
                        "badge class-{}",
                        s.actor_class,
                    )>{s.actor_class.label()}</span>
                    " "
                    <span class=format!("badge status-{}", s.status) id="identity-status">
                        {s.status.as_str()}
                    </span>
                    " "
                    {s
                        .is_expired(as_of)
                        .then(|| view! { <span class="badge danger">"Expired"</span> })}
                    {detail
                        .status_reason
                        .clone()
                        .map(|r| {
                            view! {
                                " "
                                <span class="muted">{format!("({r})")}</span>
                            }
                        })}
                </p>
            </div>
            {(can_manage && !retired)
                .then(|| {
                    view! {
                        <a class="button" href=format!("/identities/{}/edit", s.id)>
                            "Edit"
                        </a>
                    }
                })}
        </div>

        <section class="card">
            <h2>"Ownership"</h2>
            <dl class="attributes">
                <dt>"Owner"</dt>
                <dd id="owner">{person(&s.owner)}{owner_note}</dd>
                <dt>"Sponsor (backup owner)"</dt>
                <dd id="sponsor">{person(&detail.sponsor)}</dd>
            </dl>
            {(can_assign && !retired)
                .then(|| {
                    view! {
                        <details class="panel">
                            <summary>"Assign an owner or sponsor…"</summary>
                            <ActionForm action=assign>
                                <input type="hidden" name="id" value=assign_id />
                                <div class="form-grid">
                                    <label>
                                        "Responsibility" <select name="role">
                                            <option value="owner">"Owner"</option>
                                            <option value="sponsor">"Sponsor"</option>
                                        </select>
                                    </label>
                                    <label>
                                        "Person (email)"
                                        <input type="email" name="person" required=true />
                                    </label>
                                    <label class="wide">
                                        "Reason"
                                        <input
                                            type="text"
                                            name="reason"
                                            required=true
                                            maxlength="2000"
                                        />
                                    </label>
                                </div>
                                <button type="submit">"Assign"</button>
                            </ActionForm>
                            {assign_result}
                        </details>
                    }
                })}
        </section>

        <section class="card">
            <h2>"Attributes"</h2>
            <dl class="attributes">
                {attributes
                    .into_iter()
                    .map(|(k, v)| {
                        view! {
                            <dt>{k}</dt>
                            <dd>{v}</dd>
                        }
                    })
                    .collect_view()}
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

        {(!retired && (can_suspend || can_manage))
            .then(|| {
                view! {
                    <section class="card danger-zone">
                        <h2>"Lifecycle"</h2>
                        {(s.status == IdentityStatus::Active && can_suspend)
                            .then(|| {
                                view! {
                                    <LifecycleForm
                                        lifecycle
                                        id=suspend_id
                                        change="suspend"
                                        label="Suspend (kill switch)"
                                        field="Reason"
                                        confirm="I confirm: suspend now; its tokens stop working and later authorization decisions deny it"
                                    />
                                }
                            })}
                        {(s.status == IdentityStatus::Suspended && can_manage)
                            .then(|| {
                                view! {
                                    <LifecycleForm
                                        lifecycle
                                        id=reactivate_id
                                        change="reactivate"
                                        label="Reactivate"
                                        field="Reason"
                                        confirm="I confirm: reactivate this identity"
                                    />
                                }
                            })}
                        {can_manage
                            .then(|| {
                                view! {
                                    <LifecycleForm
                                        lifecycle
                                        id=retire_id
                                        change="retire"
                                        label="Retire (offboard)"
                                        field="Evidence (ticket, change record)"
                                        confirm="I confirm: revoke every credential, remove every entitlement and delegation, and retire it for good"
                                    />
                                }
                            })}
                        {lifecycle_result}
                    </section>
                }
            })}

        <section class="card">
            <h2>"Timeline"</h2>
            <Timeline events=detail.timeline.clone() />
        </section>
    }
}
