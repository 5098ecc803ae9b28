//! The Import page (admins): choose a file exported by a source system, preview what it
//! would change, then apply it — one transaction, one audit event.

use leptos::prelude::*;
use leptos_meta::Title;
use steward_domain::imports::{ImportFormat, ImportReport};

use crate::error::AppError;
use crate::toast::Toast;

/// Runs an import (`dry_run`: only report). The file travels as text: every format
/// Steward imports is text (CSV or JSON).
#[server(prefix = "/rpc", endpoint = "imports/run")]
pub async fn run_import(
    format: String,
    environment: String,
    trust_domain: String,
    full: bool,
    dry_run: bool,
    file_name: String,
    content: String,
) -> Result<ImportReport, AppError> {
    let ports = crate::session::ports()?;
    let format: ImportFormat = format.parse()?;
    let request = steward_domain::imports::ImportRequest {
        format,
        file_name: if file_name.trim().is_empty() {
            "upload".into()
        } else {
            file_name
        },
        environment,
        trust_domain: Some(trust_domain).filter(|t| !t.trim().is_empty()),
        full,
        dry_run,
    };
    Ok(ports
        .imports
        .import(
            crate::session::principal().as_ref(),
            &request,
            content.into_bytes(),
        )
        .await?)
}

/// What each format is, for the picker.
pub fn format_label(format: ImportFormat) -> &'static str {
    match format {
        ImportFormat::AwsCredentialReport => "AWS IAM credential report (CSV)",
        ImportFormat::K8sServiceAccounts => "Kubernetes service accounts (kubectl … -o json)",
        ImportFormat::GithubPats => "GitHub fine-grained personal access tokens (JSON)",
        ImportFormat::GithubInstallations => "GitHub App installations (JSON)",
        ImportFormat::GcpServiceAccounts => "Google Cloud service accounts (gcloud JSON)",
        ImportFormat::GcpKeys => "Google Cloud service account keys (gcloud JSON)",
        ImportFormat::EntraServicePrincipals => "Entra ID service principals (Graph JSON)",
        ImportFormat::StewardCsv => "Steward CSV (the inventory export)",
        ImportFormat::StewardJson => "Steward JSON",
    }
}

/// One line summing up a report.
pub fn report_summary(report: &ImportReport) -> String {
    format!(
        "{} records: {} to create, {} to update, {} unchanged, {} not seen, {} skipped; {} credentials, {} delegations, {} signals.",
        report.records,
        report.created,
        report.updated,
        report.unchanged,
        report.not_seen,
        report.skipped,
        report.credentials,
        report.delegations,
        report.signals
    )
}

/// `/import`
#[component]
pub fn ImportPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::session::whoami());
    view! {
        <Title text="Import" />
        <h1>"Import identities"</h1>
        <p class="lede">
            "Bring in the files your systems export. Identities are matched on source and external id: importing the same file again changes nothing. Nothing is written until you confirm the preview."
        </p>
        <Transition fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(
                        Some(user),
                    ) if steward_domain::auth::Action::ManageIdentities
                        .roles()
                        .contains(&user.role) => view! { <ImportForm /> }.into_any(),
                    Ok(Some(user)) => {
                        crate::response::set_status(403);
                        view! {
                            <div class="notice error" role="alert">
                                <p>
                                    {format!(
                                        "forbidden: the {} role cannot import identities",
                                        user.role,
                                    )}
                                </p>
                            </div>
                        }
                            .into_any()
                    }
                    _ => {
                        crate::response::set_status(401);
                        view! {
                            <div class="notice error" role="alert">
                                <p>"Sign in to import identities."</p>
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
fn ImportForm() -> impl IntoView {
    let format = RwSignal::new(ImportFormat::AwsCredentialReport.as_str().to_owned());
    let environment = RwSignal::new("prod".to_owned());
    let trust_domain = RwSignal::new(String::new());
    let full = RwSignal::new(false);
    let file_name = RwSignal::new(String::new());
    let content = RwSignal::new(String::new());
    let read_error = RwSignal::new(None::<String>);
    let preview = ServerAction::<RunImport>::new();
    let apply = ServerAction::<RunImport>::new();

    let on_file = move |ev: leptos::ev::Event| {
        let input: leptos::web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        let name = file.name();
        read_error.set(None);
        preview.clear();
        apply.clear();
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(text) => {
                    content.set(text.as_string().unwrap_or_default());
                    file_name.set(name);
                }
                Err(_) => read_error.set(Some(format!("{name} could not be read"))),
            }
        });
    };
    let run = move |dry_run: bool| RunImport {
        format: format.get_untracked(),
        environment: environment.get_untracked(),
        trust_domain: trust_domain.get_untracked(),
        full: full.get_untracked(),
        dry_run,
        file_name: file_name.get_untracked(),
        content: content.get_untracked(),
    };
    let on_preview = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        apply.clear();
        if content.with_untracked(String::is_empty) {
            read_error.set(Some("choose a file first".into()));
            return;
        }
        preview.dispatch(run(true));
    };
    let changed = move || {
        apply.clear();
        preview.clear();
    };
    let preview_view = move || {
        preview.value().get().map(|result| match result {
            Err(e) => view! {
                <div class="notice error" role="alert">
                    <p>{e.to_string()}</p>
                </div>
            }.into_any(),
            Ok(report) => {
                let changes = report.changes.clone();
                let writes = report.created + report.updated + report.not_seen;
                view! {
                    <section class="card" aria-labelledby="preview-title">
                        <h2 id="preview-title">"Preview of " {report.file_name.clone()}</h2>
                        <p class="preview-summary" role="status">
                            {report_summary(&report)}
                        </p>
                        <p class="muted">"SHA-256 " <code>{report.sha256.clone()}</code></p>
                        {(!changes.is_empty())
                            .then(|| {
                                view! {
                                    <table class="data">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Change"</th>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"External id"</th>
                                                <th scope="col">"Detail"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {changes
                                                .into_iter()
                                                .map(|c| {
                                                    view! {
                                                        <tr>
                                                            <td>
                                                                <span class="badge">{c.action.label()}</span>
                                                            </td>
                                                            <td>{c.name}</td>
                                                            <td>
                                                                <code>{c.external_id}</code>
                                                            </td>
                                                            <td>{c.detail}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                }
                            })}
                        <p>
                            <button
                                type="button"
                                class="primary"
                                disabled=move || apply.pending().get()
                                on:click=move |_| {
                                    apply.dispatch(run(false));
                                }
                            >
                                {if writes == 0 {
                                    "Record this import (no changes)".to_owned()
                                } else {
                                    format!("Apply {writes} changes")
                                }}
                            </button>
                            " "
                            <button
                                type="button"
                                on:click=move |_| {
                                    preview.clear();
                                }
                            >
                                "Cancel"
                            </button>
                        </p>
                    </section>
                }.into_any()
            }
        })
    };
    let applied_view = move || {
        apply.value().get().map(|result| match result {
            Err(e) => view! {
                <div class="notice error" role="alert">
                    <p>{format!("Nothing was imported: {e}")}</p>
                </div>
            }
            .into_any(),
            Ok(report) => view! {
                <Toast message=format!(
                    "Imported {}. {} ",
                    report.file_name,
                    report_summary(&report),
                )>
                    <a href="/inventory">"See the inventory"</a>
                    "."
                </Toast>
            }
            .into_any(),
        })
    };
    view! {
        <form class="card form-grid" on:submit=on_preview>
            <label class="wide">
                "Format"
                <select
                    name="format"
                    on:change=move |ev| {
                        format.set(event_target_value(&ev));
                        changed();
                    }
                >
                    {ImportFormat::ALL
                        .iter()
                        .map(|f| view! { <option value=f.as_str()>{format_label(*f)}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="wide">
                "File"
                <input
                    type="file"
                    name="file"
                    accept=".csv,.json,text/csv,application/json"
                    on:change=on_file
                />
            </label>
            <label>
                "Environment"
                <input
                    type="text"
                    name="environment"
                    prop:value=environment
                    on:input=move |ev| {
                        environment.set(event_target_value(&ev));
                        changed();
                    }
                />
            </label>
            <label>
                "SPIFFE trust domain (Kubernetes)"
                <input
                    type="text"
                    name="trust_domain"
                    placeholder="cluster.local"
                    prop:value=trust_domain
                    on:input=move |ev| {
                        trust_domain.set(event_target_value(&ev));
                        changed();
                    }
                />
            </label>
            <label class="wide checkbox">
                <input
                    type="checkbox"
                    name="full"
                    prop:checked=full
                    on:change=move |ev| {
                        full.set(event_target_checked(&ev));
                        changed();
                    }
                />
                " This file is a full export: identities of this source and environment missing from it are marked not seen (never deleted)"
            </label>
            {move || {
                read_error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="notice error wide" role="alert">
                                {e}
                            </p>
                        }
                    })
            }}
            <p class="wide">
                <button type="submit" class="primary" disabled=move || preview.pending().get()>
                    "Preview"
                </button>
            </p>
        </form>
        {preview_view}
        {applied_view}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_a_label_and_summaries_count_everything() {
        for format in ImportFormat::ALL {
            assert!(!format_label(*format).is_empty());
        }
        let report = ImportReport {
            format: ImportFormat::StewardCsv,
            file_name: "x.csv".into(),
            sha256: String::new(),
            dry_run: true,
            records: 5,
            created: 1,
            updated: 2,
            unchanged: 1,
            not_seen: 3,
            skipped: 1,
            credentials: 4,
            delegations: 0,
            signals: 1,
            changes: vec![],
        };
        assert_eq!(
            report_summary(&report),
            "5 records: 1 to create, 2 to update, 1 unchanged, 3 not seen, 1 skipped; 4 credentials, 0 delegations, 1 signals."
        );
    }
}
