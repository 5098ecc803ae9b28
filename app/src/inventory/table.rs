//! The inventory's table of identities, bulk assignment, and what an empty or failed listing shows.

use super::*;

/// Admins: give every identity of the current filter an owner or sponsor, after
/// confirming how many will change.
#[component]
pub(crate) fn BulkAssignPanel(
    query: IdentityQuery,
    total: u64,
    assign: ServerAction<BulkAssign>,
) -> impl IntoView {
    let filter = query.filter_only().to_query_string();
    let result = move || {
        assign.value().get().map(|result| match result {
            Ok(done) => view! {
                <Toast message=format!(
                    "Assigned {} of {} identities; the assignee sees them in their inbox.",
                    done.assigned,
                    done.matched,
                ) />
            }
            .into_any(),
            Err(error) => view! {
                <p class="notice error" role="alert">
                    {error.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <details class="panel" id="bulk-assign">
            <summary>
                {format!(
                    "Assign an owner or sponsor to these {} identities…",
                    format::count(total),
                )}
            </summary>
            <ActionForm action=assign>
                <input type="hidden" name="filter" value=filter />
                <input type="hidden" name="expected_count" value=total.to_string() />
                <div class="form-grid">
                    <label>
                        "Responsibility" <select name="role">
                            <option value="owner" selected=true>
                                "Owner"
                            </option>
                            <option value="sponsor">"Sponsor (backup owner)"</option>
                        </select>
                    </label>
                    <label>
                        "Person (email)"
                        <input type="email" name="person" required=true autocomplete="off" />
                    </label>
                    <label class="wide">
                        "Reason"
                        <input
                            type="text"
                            name="reason"
                            required=true
                            maxlength="2000"
                            placeholder="e.g. team reorganisation, ticket SEC-123"
                        />
                    </label>
                    <label class="check wide">
                        <input type="checkbox" name="confirm" required=true value="yes" />
                        {format!(
                            "I confirm: assign all {} identities matching this filter",
                            format::count(total),
                        )}
                    </label>
                </div>
                <button type="submit">"Assign"</button>
            </ActionForm>
            {result}
        </details>
    }
}

#[component]
pub(crate) fn ListingError(error: AppError) -> impl IntoView {
    if let AppError::Domain(domain) = &error {
        crate::response::set_status(domain.http_status());
    }
    view! {
        <div class="notice error" role="alert">
            <p>
                <strong>"This list cannot be shown. "</strong>
                {error.to_string()}
            </p>
            <p>
                <a href="/inventory">"Show the whole inventory"</a>
            </p>
        </div>
    }
}

/// The first run, on an empty register: the three steps from nothing to a posture,
/// each with the page that does it.
#[component]
pub(crate) fn FirstRun(
    /// Whether the caller may import and create identities (the security team).
    can_create: bool,
) -> impl IntoView {
    let bring = if can_create {
        view! {
            "Import what your platforms already know — an AWS credential report, Kubernetes service accounts, GitHub apps, \
             Google Cloud or Entra ID exports, or a Steward CSV — on the "
            <a href="/import">"Import page"</a>
            ", or "
            <a href="/identities/new">"create an identity"</a>
            " by hand. \
            To look around first, "
            <code>"steward demo"</code>
            " loads demo identities."
        }
        .into_any()
    } else {
        view! {
            "The security team imports them from AWS, Kubernetes, GitHub, Google Cloud or Entra ID, or creates them; \
             ask them to start."
        }
        .into_any()
    };
    view! {
        <section class="card first-run" id="first-run" aria-labelledby="first-run-h">
            <h2 id="first-run-h">"Get started: from an empty register to your posture"</h2>
            <p class="muted">
                "The register is empty. Three steps give every machine and AI identity an owner and show where you stand."
            </p>
            <ol class="steps">
                <li>
                    <strong>"Bring in your identities. "</strong>
                    {bring}
                </li>
                <li>
                    <strong>"Give every identity an owner. "</strong>
                    "Identities without one wait in the "
                    <a href="/ownership">"orphan queue"</a>
                    "; assign owners there, or in bulk from this page's filters. Owners accept in their inbox."
                </li>
                <li>
                    <strong>"See the posture. "</strong>
                    "The "
                    <a href="/posture">"posture dashboard"</a>
                    " shows the findings per control (OWASP NHI and Agentic, NIST) \
                    and how they move as owners, expiry dates and short-lived access are put in place."
                </li>
            </ol>
        </section>
    }
}

#[component]
pub(crate) fn IdentityTable(listing: InventoryListing, query: IdentityQuery) -> impl IntoView {
    let InventoryListing {
        page,
        as_of,
        can_create,
        ..
    } = listing;
    if page.items.is_empty() {
        if !query.is_filtered() {
            return view! { <FirstRun can_create /> }.into_any();
        }
        return view! {
            <div class="empty-state">
                <p>"No identities match these filters."</p>
                <p>
                    <a href="/inventory">"Clear filters"</a>
                </p>
            </div>
        }
        .into_any();
    }
    let next_href = page
        .next_cursor
        .as_deref()
        .and_then(|cursor| query.with_cursor(cursor).ok())
        .map(|next| format::inventory_href(&next));
    let first_href = query
        .cursor
        .is_some()
        .then(|| format::inventory_href(&query.first_page()));
    let count = page.items.len();
    let header = |label: &'static str, key: Option<SortKey>| match key {
        None => view! { <th scope="col">{label}</th> }.into_any(),
        Some(key) => {
            let (href, state) = format::sort_header(&query, key);
            view! {
                <th scope="col" aria-sort=state>
                    <a href=href class="sort">
                        {label}
                        {format::sort_arrow(state)}
                    </a>
                </th>
            }
            .into_any()
        }
    };
    let rows = page
        .items
        .into_iter()
        .map(|identity| view! { <IdentityRow identity as_of /> })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data-table" id="identities">
                <caption class="visually-hidden">"Identities"</caption>
                <thead>
                    <tr>
                        {header("Name", Some(SortKey::Name))} {header("Class", None)}
                        {header("Kind", None)} {header("Source", None)}
                        {header("Environment", None)} {header("Status", None)}
                        {header("Owner", None)} {header("Created", Some(SortKey::Created))}
                        {header("Last used", Some(SortKey::LastUsed))}
                        {header("Expires", Some(SortKey::Expires))}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <span class="muted">{format!("Showing {count} identities")}</span>
            {first_href.map(|href| view! { <a href=href>"« First page"</a> })}
            {next_href
                .map(|href| {
                    view! {
                        <a href=href rel="next">
                            "Next page »"
                        </a>
                    }
                })}
        </nav>
    }
    .into_any()
}

#[component]
pub(crate) fn IdentityRow(identity: IdentitySummary, as_of: DateTime<Utc>) -> impl IntoView {
    let expired = identity.is_expired(as_of);
    let owner = match (&identity.owner, identity.is_orphaned()) {
        (Some(owner), false) => {
            view! { <span title=owner.email.clone()>{owner.display_name.clone()}</span> }.into_any()
        }
        (Some(owner), true) => view! {
            <span title=owner.email.clone()>{owner.display_name.clone()}</span>
            " "
            <span class="badge warn">"Orphaned: owner left"</span>
        }
        .into_any(),
        (None, _) => view! { <span class="badge warn">"Orphaned"</span> }.into_any(),
    };
    view! {
        <tr>
            <th scope="row">
                <a class="identity-name" href=format!("/identities/{}", identity.id)>
                    {identity.name.clone()}
                </a>
                {identity.external_id.clone().map(|id| view! { <span class="sub">{id}</span> })}
            </th>
            <td>
                <span class=format!(
                    "badge class-{}",
                    identity.actor_class,
                )>{identity.actor_class.label()}</span>
            </td>
            <td>{identity.kind.label()}</td>
            <td>{identity.source.as_str()}</td>
            <td>{identity.environment.clone()}</td>
            <td>
                <span class=format!(
                    "badge status-{}",
                    identity.status,
                )>{identity.status.as_str()}</span>
            </td>
            <td>{owner}</td>
            <td>{format::date(Some(identity.created_at))}</td>
            <td>
                {identity
                    .last_used_at
                    .map_or_else(|| "never".to_owned(), |t| format::date(Some(t)))}
            </td>
            <td>
                {format::date(identity.expires_at)}
                {expired
                    .then(|| {
                        view! {
                            " "
                            <span class="badge danger">"Expired"</span>
                        }
                    })}
            </td>
        </tr>
    }
}
