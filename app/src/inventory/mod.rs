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

mod filters;
mod table;
pub use filters::*;
pub use table::*;

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
                    listing
                        .await
                        .ok()
                        .filter(|l| l.can_create)
                        .map(|_| {
                            view! {
                                <a class="button primary" href="/identities/new">
                                    "New identity"
                                </a>
                            }
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
            <a
                id="export-csv"
                href=move || format::export_href(&query.get())
                download="steward-inventory.csv"
            >
                "Export CSV"
            </a>
        </div>
        {move || view! { <FilterForm query=query.get() /> }}
        <Suspense fallback=|| {
            view! { <p class="loading">"Counting…"</p> }
        }>
            {move || Suspend::new(async move {
                let can_assign = listing.await.is_ok_and(|l| l.can_assign);
                let query = query.get_untracked();
                match facets.await {
                    Ok(Some(facets)) => {
                        Some(view! { <Counts facets query can_assign assign /> }.into_any())
                    }
                    Ok(None) => Some(view! { <LaterCounts query can_assign assign /> }.into_any()),
                    Err(_) => None,
                }
            })}
        </Suspense>
        <Transition fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading identities…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match listing.await {
                    Ok(listing) => {
                        view! { <IdentityTable listing query=query.get_untracked() /> }.into_any()
                    }
                    Err(error) => view! { <ListingError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
