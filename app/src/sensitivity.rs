//! The data sensitivity register on the agent policies page: what decisions take as a
//! dataset's or tool's sensitivity, whatever the agent's request says (it may only say
//! higher). Admins register, change and remove entries; everyone else reads them.

use leptos::prelude::*;
use steward_domain::identity::Sensitivity;
use steward_domain::sensitivity::{RegisteredSensitivity, SensitivityScope};

use crate::error::{AppError, ErrorNotice};
use crate::toast::Toast;

/// The register, and whether the caller may change it.
#[server(prefix = "/rpc", endpoint = "authz/sensitivities")]
pub async fn sensitivities() -> Result<(Vec<RegisteredSensitivity>, bool), AppError> {
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let list = ports.authz.sensitivities(principal.as_ref()).await?;
    Ok((
        list,
        principal.is_some_and(|p| p.can(steward_domain::auth::Action::ManageIdentities)),
    ))
}

#[server(prefix = "/rpc", endpoint = "authz/set_sensitivity")]
pub async fn set_sensitivity(
    scope: String,
    id: String,
    sensitivity: String,
) -> Result<RegisteredSensitivity, AppError> {
    let ports = crate::session::ports()?;
    let draft = steward_domain::sensitivity::SensitivityDraft {
        scope: scope.parse()?,
        id,
        sensitivity: sensitivity.parse()?,
    };
    Ok(ports
        .authz
        .set_sensitivity(crate::session::principal().as_ref(), &draft)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "authz/delete_sensitivity")]
pub async fn delete_sensitivity(
    scope: String,
    id: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    let ports = crate::session::ports()?;
    if confirm.as_deref() != Some("yes") {
        return Err(steward_domain::DomainError::invalid(
            "confirm",
            "tick the box to confirm removing the entry",
        )
        .into());
    }
    Ok(ports
        .authz
        .delete_sensitivity(crate::session::principal().as_ref(), scope.parse()?, &id)
        .await?)
}

/// Imports a sensitivity file pasted as CSV (`scope,id,sensitivity`); a dry run only
/// reports what would change.
#[server(prefix = "/rpc", endpoint = "authz/import_sensitivities")]
pub async fn import_sensitivities(
    csv: String,
    dry_run: Option<String>,
) -> Result<String, AppError> {
    let ports = crate::session::ports()?;
    let dry_run = dry_run.as_deref() == Some("yes");
    let plan = ports
        .authz
        .import_sensitivities(crate::session::principal().as_ref(), &csv, dry_run)
        .await?;
    Ok(format!(
        "{}: {} new, {} changed, {} unchanged.",
        if plan.dry_run {
            "Dry run, nothing written"
        } else {
            "Imported"
        },
        plan.created,
        plan.changed,
        plan.unchanged
    ))
}

/// The register with its form (for admins).
#[component]
pub fn SensitivityRegister() -> impl IntoView {
    let set = ServerAction::<SetSensitivity>::new();
    let delete = ServerAction::<DeleteSensitivity>::new();
    let import = ServerAction::<ImportSensitivities>::new();
    let list = Resource::new(
        move || {
            (
                set.version().get(),
                delete.version().get(),
                import.version().get(),
            )
        },
        |_| sensitivities(),
    );
    let outcome = move || {
        let saved = set.value().get().map(|r| {
            r.map(|e| {
                format!(
                    "{} {} is {} from the next decision.",
                    e.scope, e.id, e.sensitivity
                )
            })
        });
        let removed = delete
            .value()
            .get()
            .map(|r| r.map(|()| "Entry removed.".to_owned()));
        let imported = import.value().get();
        saved.or(removed).or(imported).map(|r| match r {
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
        <section class="card" id="sensitivities">
            <h2>"Data sensitivity"</h2>
            <p class="muted">
                "Decisions take a dataset's or tool's sensitivity from here, not from the agent's request \
                (a request may only say higher). Without an entry, the environment's default applies; without that, restricted."
            </p>
            {outcome}
            <Transition fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok((entries, can_manage)) => {
                            view! {
                                <Entries entries can_manage delete />
                                {can_manage
                                    .then(|| {
                                        view! {
                                            <NewEntry set />
                                            <ImportFile import />
                                        }
                                    })}
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Entries(
    entries: Vec<RegisteredSensitivity>,
    can_manage: bool,
    delete: ServerAction<DeleteSensitivity>,
) -> impl IntoView {
    if entries.is_empty() {
        return view! {
            <p class="empty-state">
                "Nothing registered: every dataset and tool counts as restricted."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" id="sensitivity-table">
                <thead>
                    <tr>
                        <th scope="col">"Of"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Sensitivity"</th>
                        <th scope="col">"Set by"</th>
                        <th scope="col">"Remove"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|e| {
                            view! {
                                <tr>
                                    <td>{e.scope.to_string()}</td>
                                    <th scope="row">
                                        <code>{e.id.clone()}</code>
                                    </th>
                                    <td>{e.sensitivity.to_string()}</td>
                                    <td>{e.updated_by.clone()}</td>
                                    <td>
                                        {can_manage
                                            .then(|| {
                                                view! {
                                                    <details>
                                                        <summary>"Remove…"</summary>
                                                        <ActionForm action=delete>
                                                            <input
                                                                type="hidden"
                                                                name="scope"
                                                                value=e.scope.to_string()
                                                            />
                                                            <input type="hidden" name="id" value=e.id.clone() />
                                                            <label class="check">
                                                                <input
                                                                    type="checkbox"
                                                                    name="confirm"
                                                                    value="yes"
                                                                    required=true
                                                                />
                                                                "I confirm"
                                                            </label>
                                                            <button type="submit" class="danger">
                                                                "Remove"
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
    }
    .into_any()
}

#[component]
fn NewEntry(set: ServerAction<SetSensitivity>) -> impl IntoView {
    view! {
        <ActionForm action=set attr:class="stacked" attr:id="new-sensitivity">
            <label>
                "Of"
                <select name="scope">
                    {SensitivityScope::ALL
                        .iter()
                        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Name (the dataset's or tool's id as decisions name it, or the environment)"
                <input type="text" name="id" required=true maxlength="200" />
            </label>
            <label>
                "Sensitivity"
                <select name="sensitivity">
                    {Sensitivity::ALL
                        .iter()
                        .map(|s| {
                            view! {
                                <option value=s.as_str() selected=*s == Sensitivity::Restricted>
                                    {s.as_str()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit">"Register"</button>
        </ActionForm>
    }
}

/// Pasting a register exported from a data catalogue: checked whole, written in one go.
#[component]
fn ImportFile(import: ServerAction<ImportSensitivities>) -> impl IntoView {
    view! {
        <details class="import-sensitivities">
            <summary>"Import a file…"</summary>
            <ActionForm action=import attr:class="stacked" attr:id="import-sensitivities">
                <label>
                    "CSV with the columns scope, id and sensitivity (other columns are ignored)"
                    <textarea
                        name="csv"
                        rows="6"
                        required=true
                        placeholder="scope,id,sensitivity\ndataset,ledger,confidential\ntool,github.create_pr,internal"
                    ></textarea>
                </label>
                <label class="check">
                    <input type="checkbox" name="dry_run" value="yes" checked=true />
                    " Dry run: only show what would change"
                </label>
                <button type="submit">"Import"</button>
            </ActionForm>
        </details>
    }
}
