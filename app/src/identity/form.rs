//! The create / edit form (admins): the form's fields, turning them into a draft, and the
//! page that shows the form.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use steward_domain::identity::{Autonomy, IdentityDetail, IdentityDraft, Sensitivity};
use steward_domain::inventory::IdentityKind;

use crate::error::AppError;

use super::{get_identity, SaveIdentity};

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
        <Transition fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match existing.await {
                    Ok(found) => {
                        view! { <IdentityForm existing=found.map(|v| v.detail) save /> }.into_any()
                    }
                    Err(error) => {
                        if let AppError::Domain(domain) = &error {
                            crate::response::set_status(domain.http_status());
                        }
                        view! {
                            <div class="notice error" role="alert">
                                <p>{error.to_string()}</p>
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
    let option = |value: &'static str, label: &'static str, current: bool| {
        view! {
            <option value=value selected=current>
                {label}
            </option>
        }
    };
    let error = move || {
        save.value().get().and_then(|r| r.err()).map(|e| {
            let field = match &e {
                AppError::Domain(steward_domain::DomainError::InvalidInput { field, .. }) => {
                    Some(field.clone())
                }
                _ => None,
            };
            view! {
                <p class="notice error" role="alert" data-field=field>
                    {e.to_string()}
                </p>
            }
        })
    };
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <p class="lede">
            "Every identity needs an expiry within policy and a revocation path. Owners are assigned on the identity's page."
        </p>
        {error}
        <ActionForm action=save>
            <input type="hidden" name="id" value=f.id.clone() />
            <div class="form-grid card">
                <label>
                    "Name"
                    <input type="text" name="name" required=true maxlength="200" value=f.name />
                </label>
                <label>
                    "Kind"
                    <select name="kind">
                        {IdentityKind::ALL
                            .iter()
                            .map(|k| option(k.as_str(), k.label(), *k == kind))
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Environment"
                    <input
                        type="text"
                        name="environment"
                        required=true
                        placeholder="prod"
                        value=f.environment
                    />
                </label>
                <label>"Team" <input type="text" name="team" value=f.team /></label>
                <label>
                    "External id" <input type="text" name="external_id" value=f.external_id />
                </label>
                <label>
                    "Expires on"
                    <input type="date" name="expires_on" required=true value=f.expires_on />
                </label>
                <label class="wide">
                    "Revocation path (runbook URL or procedure)"
                    <input
                        type="text"
                        name="revocation_path"
                        required=true
                        value=f.revocation_path
                    />
                </label>
                <label class="wide">
                    "SPIFFE ID"
                    <input
                        type="text"
                        name="spiffe_id"
                        placeholder="spiffe://trust-domain/path"
                        value=f.spiffe_id
                    />
                </label>
                <label class="wide">
                    "Purpose (for AI: its task)"
                    <input type="text" name="purpose" value=f.purpose />
                </label>
                <label>
                    "Autonomy"
                    <select name="autonomy">
                        {option("", "—", f.autonomy.is_none())}
                        {Autonomy::ALL
                            .iter()
                            .map(|a| option(a.as_str(), a.as_str(), f.autonomy == Some(*a)))
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Data sensitivity ceiling"
                    <select name="sensitivity_ceiling">
                        {option("", "—", f.sensitivity_ceiling.is_none())}
                        {Sensitivity::ALL
                            .iter()
                            .map(|x| option(
                                x.as_str(),
                                x.as_str(),
                                f.sensitivity_ceiling == Some(*x),
                            ))
                            .collect_view()}
                    </select>
                </label>
            </div>
            <button type="submit">"Save"</button>
            " "
            <a href=f.cancel>"Cancel"</a>
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
