//! The Inventory page: every machine and AI identity, filtered by actor class and
//! searched by name, keyset-paginated, with all state in the URL.

use chrono::{DateTime, Utc};
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde::{Deserialize, Serialize};
use steward_domain::inventory::{IdentityQuery, IdentitySummary, Page};

use crate::error::AppError;
use crate::format;

/// One page of the inventory as the server saw it at `as_of` (the page judges expiry
/// against the server's clock, so server and browser render the same thing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryListing {
    pub page: Page<IdentitySummary>,
    pub as_of: DateTime<Utc>,
}

/// Lists identities for the query string of the inventory URL.
#[server(prefix = "/rpc", endpoint = "inventory/list_identities")]
pub async fn list_identities(query: String) -> Result<InventoryListing, AppError> {
    let ports = crate::session::ports()?;
    let query = IdentityQuery::from_query_string(&query)?;
    let page = ports
        .inventory
        .list_identities(crate::session::principal().as_ref(), &query)
        .await?;
    Ok(InventoryListing {
        page,
        as_of: Utc::now(),
    })
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
    let listing = Resource::new(move || query_string.get(), list_identities);

    // Without JavaScript the search form is a plain GET; once hydrated, submitting
    // navigates in the app so only the table's data is fetched.
    let search_input = NodeRef::<Input>::new();
    let navigate = use_navigate();
    let on_search = move |event: SubmitEvent| {
        event.prevent_default();
        let text = search_input
            .get()
            .map(|input| input.value())
            .unwrap_or_default();
        let target = query.get_untracked().with_search(&text);
        navigate(&format::inventory_href(&target), Default::default());
    };

    view! {
        <Title text="Inventory" />
        <h1>"Inventory"</h1>
        <p class="lede">"Every machine and AI identity Steward knows about."</p>
        <div class="toolbar">
            <nav class="tabs" aria-label="Actor class">
                {move || {
                    format::class_tabs(&query.get())
                        .into_iter()
                        .map(|(label, href, current)| {
                            view! {
                                <a
                                    href=href
                                    class="tab"
                                    aria-current=if current { Some("page") } else { None }
                                >
                                    {label}
                                </a>
                            }
                        })
                        .collect_view()
                }}
            </nav>
            <form method="get" action="/inventory" on:submit=on_search>
                <div class="search" role="search">
                    {move || {
                        query
                            .get()
                            .actor_class
                            .map(|class| {
                                view! { <input type="hidden" name="class" value=class.as_str() /> }
                            })
                    }}
                    <label for="inventory-search" class="visually-hidden">
                        "Search by name or external id"
                    </label>
                    <input
                        id="inventory-search"
                        type="search"
                        name="q"
                        placeholder="Search name or external id"
                        maxlength=IdentityQuery::MAX_SEARCH_LEN
                        node_ref=search_input
                        value=move || query.get().search.unwrap_or_default()
                        prop:value=move || query.get().search.unwrap_or_default()
                    />
                    <button type="submit">"Search"</button>
                </div>
            </form>
        </div>
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

#[component]
fn IdentityTable(listing: InventoryListing, query: IdentityQuery) -> impl IntoView {
    let InventoryListing { page, as_of } = listing;
    if page.items.is_empty() {
        let filtered = query != IdentityQuery::new();
        return view! {
            <div class="empty-state">
                <p>
                    {if filtered {
                        "No identities match these filters."
                    } else {
                        "The inventory is empty. Run `steward demo` to load demo identities."
                    }}
                </p>
                {filtered.then(|| view! { <p><a href="/inventory">"Clear filters"</a></p> })}
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
                        <th scope="col">"Name"</th>
                        <th scope="col">"Class"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Source"</th>
                        <th scope="col">"Environment"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Owner"</th>
                        <th scope="col">"Expires"</th>
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
    let owner = match &identity.owner {
        Some(owner) => {
            view! { <span title=owner.email.clone()>{owner.display_name.clone()}</span> }.into_any()
        }
        None => view! { <span class="badge warn">"Orphaned"</span> }.into_any(),
    };
    view! {
        <tr>
            <th scope="row">
                <span class="identity-name">{identity.name.clone()}</span>
                {identity.external_id.clone().map(|id| view! { <span class="sub">{id}</span> })}
            </th>
            <td><span class=format!("badge class-{}", identity.actor_class)>{identity.actor_class.label()}</span></td>
            <td>{identity.kind.label()}</td>
            <td>{identity.source.as_str()}</td>
            <td>{identity.environment.clone()}</td>
            <td><span class=format!("badge status-{}", identity.status)>{identity.status.as_str()}</span></td>
            <td>{owner}</td>
            <td>
                {format::date(identity.expires_at)}
                {expired.then(|| view! { " " <span class="badge danger">"Expired"</span> })}
            </td>
        </tr>
    }
}
