//! The Audit page (admins and auditors): the tamper-evident trail, filtered, paged,
//! exported as CSV, and verified on demand.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use steward_domain::audit::{AuditPage, AuditQuery, ChainReport};

use crate::error::{AppError, ErrorNotice};

#[server(prefix = "/rpc", endpoint = "audit/list")]
pub async fn list_audit(query: String) -> Result<AuditPage, AppError> {
    let ports = crate::session::ports()?;
    let query = AuditQuery::from_query_string(&query)?;
    Ok(ports
        .audit
        .list(crate::session::principal().as_ref(), &query)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "audit/verify")]
pub async fn verify_audit() -> Result<ChainReport, AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .audit
        .verify(crate::session::principal().as_ref())
        .await?)
}

/// Link to the audit page (or its CSV export) for `query`.
pub fn audit_href(base: &str, query: &AuditQuery) -> String {
    let qs = query.to_query_string();
    if qs.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{qs}")
    }
}

/// The sentence the verify button shows.
pub fn describe_report(report: &ChainReport) -> String {
    match &report.first_broken {
        None => format!(
            "The audit trail is intact: {} events checked.",
            report.checked
        ),
        Some(broken) => format!(
            "The audit trail is BROKEN at event {}: {}.",
            broken.seq, broken.reason
        ),
    }
}

#[component]
pub fn AuditPageView() -> impl IntoView {
    let query_map = use_query_map();
    let query_string = Memo::new(move |_| {
        query_map.with(|map| map.to_query_string().trim_start_matches('?').to_owned())
    });
    let query = Memo::new(move |_| {
        AuditQuery::from_query_string(&query_string.get()).unwrap_or_else(|_| AuditQuery::new())
    });
    let events = Resource::new(move || query_string.get(), list_audit);
    let verify = Action::new(|_: &()| verify_audit());
    let field = move |name: &'static str| {
        move || {
            let q = query.get();
            match name {
                "actor" => q.actor,
                "action" => q.action,
                "target" => q.target,
                "since" => q.since.map(|t| t.format("%Y-%m-%d").to_string()),
                _ => q.until.map(|t| t.format("%Y-%m-%d").to_string()),
            }
            .unwrap_or_default()
        }
    };
    view! {
        <Title text="Audit trail" />
        <h1>"Audit trail"</h1>
        <p class="lede">"Every change and sign-in, hash-chained so tampering shows."</p>
        <form method="get" action="/audit" class="filters">
            <label>
                "Actor"
                <input
                    type="text"
                    name="actor"
                    placeholder="user:ada@example.com"
                    value=field("actor")
                    prop:value=field("actor")
                />
            </label>
            // Suggested from the domain's closed list; still free text, so actions an
            // earlier version wrote stay searchable.
            <label>
                "Action"
                <input
                    type="text"
                    name="action"
                    list="audit-actions"
                    placeholder="auth.login_failed"
                    value=field("action")
                    prop:value=field("action")
                />
            </label>
            <datalist id="audit-actions">
                {steward_domain::audit::AuditAction::ALL
                    .iter()
                    .map(|a| view! { <option value=a.as_str()></option> })
                    .collect_view()}
            </datalist>
            <label>
                "Target"
                <input type="text" name="target" value=field("target") prop:value=field("target") />
            </label>
            <label>
                "Since"
                <input type="date" name="since" value=field("since") prop:value=field("since") />
            </label>
            <label>
                "Until"
                <input type="date" name="until" value=field("until") prop:value=field("until") />
            </label>
            <button type="submit">"Filter"</button>
            <a href="/audit">"Clear"</a>
        </form>
        <div class="toolbar">
            <a
                href=move || audit_href(
                    "/api/v1/audit/export.csv",
                    &AuditQuery {
                        before: None,
                        ..query.get()
                    },
                )
                download="steward-audit.csv"
            >
                "Export CSV"
            </a>
            <button
                type="button"
                on:click=move |_| {
                    verify.dispatch(());
                }
            >
                "Verify chain"
            </button>
            <span role="status" id="verify-result">
                {move || {
                    verify
                        .value()
                        .get()
                        .map(|result| match result {
                            Ok(report) => describe_report(&report),
                            Err(error) => error.to_string(),
                        })
                }}
            </span>
        </div>
        <Transition fallback=|| {
            view! { <p class="loading">"Loading events…"</p> }
        }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(page) => view! { <AuditTable page query=query.get_untracked() /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditTable(page: AuditPage, query: AuditQuery) -> impl IntoView {
    if page.events.is_empty() {
        return view! {
            <div class="empty-state">
                <p>"No audit events match these filters."</p>
            </div>
        }
        .into_any();
    }
    let older = page.next_before.map(|before| {
        audit_href(
            "/audit",
            &AuditQuery {
                before: Some(before),
                ..query.clone()
            },
        )
    });
    let rows = page
        .events
        .into_iter()
        .map(|event| {
            view! {
                <tr>
                    <td>{event.seq}</td>
                    <td>{event.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                    <td>{event.actor}</td>
                    <td>
                        <code>{event.action}</code>
                    </td>
                    <td>{event.target}</td>
                    <td>
                        <code class="details">{event.details.to_string()}</code>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data-table" id="audit-events">
                <caption class="visually-hidden">"Audit events, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {(query.before.is_some())
                .then(|| {
                    view! {
                        <a href=audit_href(
                            "/audit",
                            &AuditQuery {
                                before: None,
                                ..query.clone()
                            },
                        )>"« Newest"</a>
                    }
                })}
            {older
                .map(|href| {
                    view! {
                        <a href=href rel="next">
                            "Older events »"
                        </a>
                    }
                })}
        </nav>
    }
    .into_any()
}
