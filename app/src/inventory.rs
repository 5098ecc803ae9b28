//! The Inventory page: every machine and AI identity — filtered, searched, sorted,
//! keyset-paginated, counted per facet and exported, with all state in the URL; and,
//! for admins, bulk assignment of an owner or sponsor to the current filter.

use chrono::{DateTime, Utc};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde::{Deserialize, Serialize};
use steward_domain::inventory::{
    ActorClass, Facets, FindingFilter, IdentityKind, IdentityQuery, IdentityStatus,
    IdentitySummary, Page, SortKey, Source,
};
use steward_domain::ownership::BulkAssignResult;

use crate::error::AppError;
use crate::format;
use crate::toast::Toast;

/// One page of the inventory as the server saw it at `as_of` (the page judges expiry
/// against the server's clock, so server and browser render the same thing), and
/// what the caller may do from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryListing {
    pub page: Page<IdentitySummary>,
    pub as_of: DateTime<Utc>,
    pub can_create: bool,
    pub can_assign: bool,
}

/// Lists identities for the query string of the inventory URL.
#[server(prefix = "/rpc", endpoint = "inventory/list_identities")]
pub async fn list_identities(query: String) -> Result<InventoryListing, AppError> {
    use steward_domain::auth::Action;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let query = IdentityQuery::from_query_string(&query)?;
    let page = ports
        .inventory
        .list_identities(principal.as_ref(), &query)
        .await?;
    let can = |action| principal.as_ref().is_some_and(|p| p.can(action));
    Ok(InventoryListing {
        page,
        as_of: Utc::now(),
        can_create: can(Action::ManageIdentities),
        can_assign: can(Action::AssignOwnership),
    })
}

/// Counts per facet for the filters of the inventory URL.
#[server(prefix = "/rpc", endpoint = "inventory/facets")]
pub async fn identity_facets(query: String) -> Result<Facets, AppError> {
    let ports = crate::session::ports()?;
    let query = IdentityQuery::from_query_string(&query)?;
    Ok(ports
        .inventory
        .facets(crate::session::principal().as_ref(), &query)
        .await?)
}

/// The same counts when they are quick to compute; `None` when the URL searches for a
/// common term, whose counts group every match: the page then shows its rows first
/// and asks [`identity_facets`] from the browser.
#[server(prefix = "/rpc", endpoint = "inventory/quick_facets")]
pub async fn quick_identity_facets(query: String) -> Result<Option<Facets>, AppError> {
    let ports = crate::session::ports()?;
    let query = IdentityQuery::from_query_string(&query)?;
    Ok(ports
        .inventory
        .quick_facets(crate::session::principal().as_ref(), &query)
        .await?)
}

/// Assigns an owner or sponsor to every identity of `filter` (admins).
#[server(prefix = "/rpc", endpoint = "inventory/bulk_assign")]
pub async fn bulk_assign(
    filter: String,
    role: String,
    person: String,
    reason: String,
    expected_count: u64,
) -> Result<BulkAssignResult, AppError> {
    use steward_domain::ownership::BulkAssignRequest;
    let ports = crate::session::ports()?;
    let request = BulkAssignRequest {
        filter,
        role: role.parse()?,
        person,
        reason,
        expected_count: Some(expected_count),
    };
    Ok(ports
        .ownership
        .bulk_assign(crate::session::principal().as_ref(), &request)
        .await?)
}

#[component]
pub fn InventoryPage() -> impl IntoView {
    let query_map = use_query_map();
    let query_string = Memo::new(move |_| {
        query_map.with(|map| map.to_query_string().trim_start_matches('?').to_owned())
    });
    // What the filter controls show: the parsed query, or the defaults when it is bad
    // (the error itself is reported by the listing below).
    let query = Memo::new(move |_| {
        IdentityQuery::from_query_string(&query_string.get())
            .unwrap_or_else(|_| IdentityQuery::new())
    });
    let assign = ServerAction::<BulkAssign>::new();
    let listing = Resource::new(
        move || (query_string.get(), assign.version().get()),
        |(q, _)| list_identities(q),
    );
    let facets = Resource::new(
        move || (query_string.get(), assign.version().get()),
        |(q, _)| quick_identity_facets(q),
    );

    view! {
        <Title text="Inventory" />
        <div class="page-head">
            <div>
                <h1>"Inventory"</h1>
                <p class="lede">"Every machine and AI identity Steward knows about."</p>
            </div>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    listing.await.ok().filter(|l| l.can_create).map(|_| view! {
                        <a class="button primary" href="/identities/new">"New identity"</a>
                    })
                })}
            </Suspense>
        </div>
        <div class="toolbar">
            <nav class="tabs" aria-label="Actor class">
                {move || {
                    format::class_tabs(&query.get())
                        .into_iter()
                        .map(|(label, href, current)| {
                            view! {
                                <a href=href class="tab" aria-current=if current { Some("page") } else { None }>
                                    {label}
                                </a>
                            }
                        })
                        .collect_view()
                }}
            </nav>
            <a id="export-csv" href=move || format::export_href(&query.get()) download="steward-inventory.csv">
                "Export CSV"
            </a>
        </div>
        {move || view! { <FilterForm query=query.get() /> }}
        <Suspense fallback=|| view! { <p class="loading">"Counting…"</p> }>
            {move || Suspend::new(async move {
                let can_assign = listing.await.is_ok_and(|l| l.can_assign);
                let query = query.get_untracked();
                match facets.await {
                    Ok(Some(facets)) => Some(view! { <Counts facets query can_assign assign /> }.into_any()),
                    Ok(None) => Some(view! { <LaterCounts query can_assign assign /> }.into_any()),
                    Err(_) => None,
                }
            })}
        </Suspense>
        <Transition fallback=|| view! { <p class="loading" aria-busy="true">"Loading identities…"</p> }>
            {move || Suspend::new(async move {
                match listing.await {
                    Ok(listing) => view! { <IdentityTable listing query=query.get_untracked() /> }.into_any(),
                    Err(error) => view! { <ListingError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The filter form: a GET form, so it works without JavaScript; with it, submitting
/// navigates in the app to the clean URL of the chosen filters (blank fields dropped).
#[component]
fn FilterForm(query: IdentityQuery) -> impl IntoView {
    let navigate = use_navigate();
    let on_submit = move |event: SubmitEvent| {
        use leptos::wasm_bindgen::JsCast;
        use leptos::web_sys::{FormData, HtmlFormElement, UrlSearchParams};
        let Some(form) = event
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        let Some(params) = FormData::new_with_form(&form)
            .ok()
            .and_then(|data| UrlSearchParams::new_with_str_sequence_sequence(&data).ok())
        else {
            return;
        };
        event.prevent_default();
        let submitted: String = params.to_string().into();
        // A bad value still navigates, so the page reports it.
        let href = IdentityQuery::from_query_string(&submitted)
            .map(|q| format::inventory_href(&q))
            .unwrap_or_else(|_| format!("/inventory?{submitted}"));
        navigate(&href, Default::default());
    };
    let option = |value: &'static str, label: &'static str, current: bool| {
        view! { <option value=value selected=current>{label}</option> }
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let days = |v: Option<u32>| v.map(|d| d.to_string()).unwrap_or_default();
    view! {
        <form method="get" action="/inventory" on:submit=on_submit>
            <div class="filters" role="search" aria-label="Filter identities">
                <label>"Search"
                    <input type="search" name="q" id="inventory-search" placeholder="Name, external id or SPIFFE ID"
                        maxlength=IdentityQuery::MAX_SEARCH_LEN value=text(&query.search) />
                </label>
                <label>"Class"
                    <select name="class">
                        {option("", "Any", query.actor_class.is_none())}
                        {ActorClass::ALL.iter().map(|c| option(c.as_str(), c.label(), query.actor_class == Some(*c))).collect_view()}
                    </select>
                </label>
                <label>"Kind"
                    <select name="kind">
                        {option("", "Any", query.kind.is_none())}
                        {IdentityKind::ALL.iter().map(|k| option(k.as_str(), k.label(), query.kind == Some(*k))).collect_view()}
                    </select>
                </label>
                <label>"Source"
                    <select name="source">
                        {option("", "Any", query.source.is_none())}
                        {Source::ALL.iter().map(|s| option(s.as_str(), s.as_str(), query.source == Some(*s))).collect_view()}
                    </select>
                </label>
                <label>"Status"
                    <select name="status">
                        {option("", "Any", query.status.is_none())}
                        {IdentityStatus::ALL.iter().map(|s| option(s.as_str(), s.as_str(), query.status == Some(*s))).collect_view()}
                    </select>
                </label>
                <label>"Environment" <input type="text" name="env" size="8" placeholder="prod" value=text(&query.environment) /></label>
                <label>"Team" <input type="text" name="team" size="10" value=text(&query.team) /></label>
                <label>"Owner" <input type="text" name="owner" size="16" placeholder="email" value=text(&query.owner) /></label>
                <label>"Expiring within (days)" <input type="number" name="expiring" min="1" max="3650" value=days(query.expiring_days) /></label>
                <label>"Unused for (days)" <input type="number" name="stale" min="1" max="3650" value=days(query.stale_days) /></label>
                <label>"Finding"
                    <select name="finding">
                        {option("", "Any or none", query.finding.is_none())}
                        {option("any", "Any open finding", query.finding == Some(FindingFilter::Any))}
                        {format::finding_options().into_iter().map(|(value, label)| {
                            let current = query.finding == Some(FindingFilter::Check(value.clone()));
                            view! { <option value=value.clone() selected=current>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Control"
                    <select name="control">
                        {option("", "Any", query.control.is_none())}
                        {format::control_options().into_iter().map(|(value, label)| {
                            let current = query.control.as_deref() == Some(value.as_str());
                            view! { <option value=value.clone() selected=current>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Credential age"
                    <select name="cred_age">
                        {option("", "Any", query.credential_age.is_none())}
                        {format::credential_age_options().into_iter().map(|(value, label, range)| {
                            let current = query.credential_age == Some(range);
                            view! { <option value=value selected=current>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="check"><input type="checkbox" name="orphaned" value="true" checked=query.orphaned />"Orphaned"</label>
                <label class="check"><input type="checkbox" name="expired" value="true" checked=query.expired />"Expired"</label>
                <label class="check" title="No active owner, no expiry or no revocation path"><input type="checkbox" name="ungoverned" value="true" checked=query.ungoverned />"Not governed"</label>
                <label>"Sort"
                    <select name="sort">
                        {format::sort_options().into_iter().map(|(value, label)| {
                            let current = query.sort.as_param() == value;
                            view! { <option value=value.clone() selected=current>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit">"Apply"</button>
                <a href="/inventory">"Clear"</a>
            </div>
        </form>
    }
}

/// The counts of the current filter and, for those who may assign, the bulk
/// assignment of an owner or sponsor to every identity they count.
#[component]
fn Counts(
    facets: Facets,
    query: IdentityQuery,
    can_assign: bool,
    assign: ServerAction<BulkAssign>,
) -> impl IntoView {
    let total = facets.total;
    let bulk = (can_assign && query.is_filtered() && total > 0)
        .then(|| view! { <BulkAssignPanel query=query.clone() total assign /> });
    view! {
        <FacetBar facets query />
        {bulk}
    }
}

/// The counts of a common search, asked for by the browser once the page is shown
/// (the server renders the rows without waiting for them; without JavaScript the
/// note stays). A plain signal filled by an effect, not a nested `Suspense`: effects
/// run only in the browser, after hydration, so server and browser first render the
/// same note.
#[component]
fn LaterCounts(
    query: IdentityQuery,
    can_assign: bool,
    assign: ServerAction<BulkAssign>,
) -> impl IntoView {
    let filter = query.filter_only().to_query_string();
    let counts = RwSignal::new(None::<Result<Facets, AppError>>);
    Effect::new(move |_| {
        let filter = filter.clone();
        leptos::task::spawn_local(async move {
            // The page may have moved on (another search) by the time they come.
            let _ = counts.try_set(Some(identity_facets(filter).await));
        });
    });
    let note = "Counting the matches of this search…";
    move || match counts.get() {
        None => view! { <p class="loading" id="counting" aria-busy="true">{note}</p> }.into_any(),
        Some(Ok(facets)) => {
            view! { <Counts facets query=query.clone() can_assign assign /> }.into_any()
        }
        Some(Err(error)) => {
            let message = format!("Could not count the matches: {error}");
            view! { <p class="notice error" role="alert">{message}</p> }.into_any()
        }
    }
}

/// How many identities of the current filter have each value; each count links to
/// the filter narrowed to it.
#[component]
fn FacetBar(facets: Facets, query: IdentityQuery) -> impl IntoView {
    let total = facets.total;
    let groups = format::facet_groups(&facets, &query);
    view! {
        <section class="facets" aria-label="Counts">
            <p class="facet-total"><strong id="match-count">{format::count(total)}</strong>" identities match"</p>
            {groups.into_iter().map(|(title, items)| view! {
                <div class="facet-group">
                    <span class="facet-title">{title}</span>
                    {items.into_iter().map(|(label, count, href)| view! {
                        <a class="facet" href=href>{label}" "<span class="count">{format::count(count)}</span></a>
                    }).collect_view()}
                </div>
            }).collect_view()}
        </section>
    }
}

/// Admins: give every identity of the current filter an owner or sponsor, after
/// confirming how many will change.
#[component]
fn BulkAssignPanel(
    query: IdentityQuery,
    total: u64,
    assign: ServerAction<BulkAssign>,
) -> impl IntoView {
    let filter = query.filter_only().to_query_string();
    let result = move || {
        assign.value().get().map(|result| match result {
            Ok(done) => view! {
                <Toast message=format!("Assigned {} of {} identities; the assignee sees them in their inbox.", done.assigned, done.matched) />
            }.into_any(),
            Err(error) => view! { <p class="notice error" role="alert">{error.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <details class="panel" id="bulk-assign">
            <summary>{format!("Assign an owner or sponsor to these {} identities…", format::count(total))}</summary>
            <ActionForm action=assign>
                <input type="hidden" name="filter" value=filter />
                <input type="hidden" name="expected_count" value=total.to_string() />
                <div class="form-grid">
                    <label>"Responsibility"
                        <select name="role">
                            <option value="owner" selected=true>"Owner"</option>
                            <option value="sponsor">"Sponsor (backup owner)"</option>
                        </select>
                    </label>
                    <label>"Person (email)" <input type="email" name="person" required=true autocomplete="off" /></label>
                    <label class="wide">"Reason" <input type="text" name="reason" required=true maxlength="2000" placeholder="e.g. team reorganisation, ticket SEC-123" /></label>
                    <label class="check wide">
                        <input type="checkbox" name="confirm" required=true value="yes" />
                        {format!("I confirm: assign all {} identities matching this filter", format::count(total))}
                    </label>
                </div>
                <button type="submit">"Assign"</button>
            </ActionForm>
            {result}
        </details>
    }
}

#[component]
fn ListingError(error: AppError) -> impl IntoView {
    if let AppError::Domain(domain) = &error {
        crate::response::set_status(domain.http_status());
    }
    view! {
        <div class="notice error" role="alert">
            <p><strong>"This list cannot be shown. "</strong>{error.to_string()}</p>
            <p><a href="/inventory">"Show the whole inventory"</a></p>
        </div>
    }
}

/// The first run, on an empty register: the three steps from nothing to a posture,
/// each with the page that does it.
#[component]
fn FirstRun(
    /// Whether the caller may import and create identities (the security team).
    can_create: bool,
) -> impl IntoView {
    let bring = if can_create {
        view! {
            "Import what your platforms already know — an AWS credential report, Kubernetes service accounts, GitHub apps, \
             Google Cloud or Entra ID exports, or a Steward CSV — on the "<a href="/import">"Import page"</a>
            ", or "<a href="/identities/new">"create an identity"</a>" by hand. \
             To look around first, "<code>"steward demo"</code>" loads demo identities."
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
            <p class="muted">"The register is empty. Three steps give every machine and AI identity an owner and show where you stand."</p>
            <ol class="steps">
                <li>
                    <strong>"Bring in your identities. "</strong>
                    {bring}
                </li>
                <li>
                    <strong>"Give every identity an owner. "</strong>
                    "Identities without one wait in the "<a href="/ownership">"orphan queue"</a>
                    "; assign owners there, or in bulk from this page's filters. Owners accept in their inbox."
                </li>
                <li>
                    <strong>"See the posture. "</strong>
                    "The "<a href="/posture">"posture dashboard"</a>" shows the findings per control (OWASP NHI and Agentic, NIST) \
                     and how they move as owners, expiry dates and short-lived access are put in place."
                </li>
            </ol>
        </section>
    }
}

#[component]
fn IdentityTable(listing: InventoryListing, query: IdentityQuery) -> impl IntoView {
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
                <p><a href="/inventory">"Clear filters"</a></p>
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
                    <a href=href class="sort">{label}{format::sort_arrow(state)}</a>
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
                        {header("Name", Some(SortKey::Name))}
                        {header("Class", None)}
                        {header("Kind", None)}
                        {header("Source", None)}
                        {header("Environment", None)}
                        {header("Status", None)}
                        {header("Owner", None)}
                        {header("Created", Some(SortKey::Created))}
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
            {next_href.map(|href| view! { <a href=href rel="next">"Next page »"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn IdentityRow(identity: IdentitySummary, as_of: DateTime<Utc>) -> impl IntoView {
    let expired = identity.is_expired(as_of);
    let owner = match (&identity.owner, identity.is_orphaned()) {
        (Some(owner), false) => {
            view! { <span title=owner.email.clone()>{owner.display_name.clone()}</span> }.into_any()
        }
        (Some(owner), true) => view! {
            <span title=owner.email.clone()>{owner.display_name.clone()}</span>
            " " <span class="badge warn">"Orphaned: owner left"</span>
        }
        .into_any(),
        (None, _) => view! { <span class="badge warn">"Orphaned"</span> }.into_any(),
    };
    view! {
        <tr>
            <th scope="row">
                <a class="identity-name" href=format!("/identities/{}", identity.id)>{identity.name.clone()}</a>
                {identity.external_id.clone().map(|id| view! { <span class="sub">{id}</span> })}
            </th>
            <td><span class=format!("badge class-{}", identity.actor_class)>{identity.actor_class.label()}</span></td>
            <td>{identity.kind.label()}</td>
            <td>{identity.source.as_str()}</td>
            <td>{identity.environment.clone()}</td>
            <td><span class=format!("badge status-{}", identity.status)>{identity.status.as_str()}</span></td>
            <td>{owner}</td>
            <td>{format::date(Some(identity.created_at))}</td>
            <td>{identity.last_used_at.map_or_else(|| "never".to_owned(), |t| format::date(Some(t)))}</td>
            <td>
                {format::date(identity.expires_at)}
                {expired.then(|| view! { " " <span class="badge danger">"Expired"</span> })}
            </td>
        </tr>
    }
}
