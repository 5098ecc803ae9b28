//! Global search (`/search?q=`, the box in the header; `/` focuses it from anywhere):
//! identities, people, campaigns and active grants whose names contain the words, each
//! section limited to what the caller may see.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use steward_domain::grants::Grant;
use steward_domain::inventory::IdentitySummary;
use steward_domain::ownership::PersonInfo;
use uuid::Uuid;

use crate::error::{AppError, ErrorNotice};

/// How many of each kind a search shows.
pub const PER_SECTION: usize = 10;
/// The longest search accepted.
pub const MAX_SEARCH: usize = 100;

/// What a search found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchResults {
    pub identities: Vec<IdentitySummary>,
    /// More identities match than are shown (the inventory lists them all).
    pub more_identities: bool,
    pub people: Vec<PersonInfo>,
    /// Campaigns: id, name, state.
    pub campaigns: Vec<(Uuid, String, String)>,
    pub grants: Vec<Grant>,
}

impl SearchResults {
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
            && self.people.is_empty()
            && self.campaigns.is_empty()
            && self.grants.is_empty()
    }
}

/// Whether `text` contains `search`, ignoring case.
pub fn contains(text: &str, search: &str) -> bool {
    text.to_lowercase().contains(&search.to_lowercase())
}

/// The inventory address listing every identity matching `search`.
pub fn inventory_href(search: &str) -> String {
    let mut query = steward_domain::inventory::IdentityQuery::new();
    query.search = Some(search.to_owned());
    crate::format::inventory_href(&query)
}

#[server(prefix = "/rpc", endpoint = "search/all")]
pub async fn search_all(q: String) -> Result<SearchResults, AppError> {
    use steward_domain::grants::GrantList;
    use steward_domain::DomainError;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    if principal.is_none() {
        return Err(DomainError::Unauthenticated.into());
    }
    let q = q.trim().to_owned();
    if q.is_empty() {
        return Ok(SearchResults::default());
    }
    if q.chars().count() > MAX_SEARCH {
        return Err(DomainError::invalid("q", format!("at most {MAX_SEARCH} characters")).into());
    }
    // A section the caller may not see is left empty rather than failing the search.
    fn visible<T: Default>(result: Result<T, DomainError>) -> Result<T, DomainError> {
        match result {
            Err(DomainError::Forbidden { .. }) => Ok(T::default()),
            other => other,
        }
    }
    let mut query = steward_domain::inventory::IdentityQuery::new();
    query.search = Some(q.clone());
    query.limit = PER_SECTION as u32;
    let page = ports
        .inventory
        .list_identities(principal.as_ref(), &query)
        .await?;
    let mut people = visible(ports.ownership.people(principal.as_ref(), &q).await)?;
    people.truncate(PER_SECTION);
    let campaigns = visible(
        ports
            .campaigns
            .overview(principal.as_ref())
            .await
            .map(|o| o.campaigns),
    )?
    .into_iter()
    .filter(|c| contains(&c.draft.name, &q))
    .take(PER_SECTION)
    .map(|c| (c.id, c.draft.name, c.state.to_string()))
    .collect();
    let grants = visible(
        ports
            .grants
            .list(
                principal.as_ref(),
                GrantList::Active {
                    identity: None,
                    owner: None,
                    expiring_minutes: None,
                },
            )
            .await,
    )?
    .into_iter()
    .filter(|g| contains(&g.identity_name, &q) || contains(&g.resource, &q))
    .take(PER_SECTION)
    .collect();
    Ok(SearchResults {
        more_identities: page.next_cursor.is_some(),
        identities: page.items,
        people,
        campaigns,
        grants,
    })
}

/// The search results page.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.with(|q| q.get("q")).unwrap_or_default());
    let results = Resource::new(move || q.get(), search_all);
    view! {
        <Title text="Search" />
        <h1>"Search"</h1>
        <form method="get" action="/search" role="search" class="filters">
            <label>
                "Identities, people, campaigns and grants"
                <input type="search" name="q" maxlength="100" value=move || q.get() />
            </label>
            <button type="submit">"Search"</button>
        </form>
        <Transition fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Searching…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                let text = q.get_untracked();
                match results.await {
                    Ok(found) if text.trim().is_empty() => {
                        let _ = found;
                        view! {
                            <p class="muted">
                                "Type a name, an email, a team or a resource. Press / anywhere to search."
                            </p>
                        }
                            .into_any()
                    }
                    Ok(found) if found.is_empty() => {
                        view! {
                            <div class="empty-state" id="search-results">
                                <p>{format!("Nothing matches “{}”.", text.trim())}</p>
                                <p>
                                    "Search looks at identity names, external ids and SPIFFE IDs, people's names and emails, campaign names, and the identities and resources of active grants."
                                </p>
                            </div>
                        }
                            .into_any()
                    }
                    Ok(found) => view! { <Results found text /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Results(found: SearchResults, text: String) -> impl IntoView {
    let SearchResults {
        identities,
        more_identities,
        people,
        campaigns,
        grants,
    } = found;
    let all_href = inventory_href(text.trim());
    view! {
        <div id="search-results">
            {(!identities.is_empty())
                .then(|| {
                    view! {
                        <section class="card" aria-labelledby="found-identities">
                            <h2 id="found-identities">
                                {format!(
                                    "Identities ({}{})",
                                    identities.len(),
                                    if more_identities { "+" } else { "" },
                                )}
                            </h2>
                            <ul class="plain">
                                {identities
                                    .into_iter()
                                    .map(|i| {
                                        view! {
                                            <li>
                                                <a href=format!("/identities/{}", i.id)>{i.name.clone()}</a>
                                                " "
                                                <span class=format!(
                                                    "badge class-{}",
                                                    i.actor_class,
                                                )>{i.kind.label()}</span>
                                                " "
                                                <span class="muted">{i.environment.clone()}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            {more_identities
                                .then(|| {
                                    view! {
                                        <p>
                                            <a href=all_href
                                                .clone()>"All matching identities in the inventory"</a>
                                        </p>
                                    }
                                })}
                        </section>
                    }
                })}
            {(!people.is_empty())
                .then(|| {
                    view! {
                        <section class="card" aria-labelledby="found-people">
                            <h2 id="found-people">{format!("People ({})", people.len())}</h2>
                            <ul class="plain">
                                {people
                                    .into_iter()
                                    .map(|p| {
                                        view! {
                                            <li>
                                                {p.display_name.clone()}" "
                                                <span class="muted">{p.email.clone()}</span> " — "
                                                {format!("owns {}", p.owned)}
                                                {(!p.active).then_some(" (has left)")}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <p>
                                <a href="/ownership">"Ownership and the orphan queue"</a>
                            </p>
                        </section>
                    }
                })}
            {(!campaigns.is_empty())
                .then(|| {
                    view! {
                        <section class="card" aria-labelledby="found-campaigns">
                            <h2 id="found-campaigns">
                                {format!("Campaigns ({})", campaigns.len())}
                            </h2>
                            <ul class="plain">
                                {campaigns
                                    .into_iter()
                                    .map(|(id, name, state)| {
                                        view! {
                                            <li>
                                                <a href=format!("/campaigns/{id}")>{name}</a>
                                                " "
                                                <span class="muted">{state}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </section>
                    }
                })}
            {(!grants.is_empty())
                .then(|| {
                    view! {
                        <section class="card" aria-labelledby="found-grants">
                            <h2 id="found-grants">{format!("Active grants ({})", grants.len())}</h2>
                            <ul class="plain">
                                {grants
                                    .into_iter()
                                    .map(|g| {
                                        view! {
                                            <li>
                                                <a href=format!(
                                                    "/grants/{}",
                                                    g.id,
                                                )>{format!("{} on {}", g.action, g.resource)}</a>
                                                " for "
                                                {g.identity_name.clone()}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </section>
                    }
                })}
        </div>
    }
}

/// Focuses the header's search box when `/` is pressed outside a text field (in the
/// browser only: effects do not run on the server).
pub fn focus_search_on_slash() {
    Effect::new(|_| {
        let handle = window_event_listener(leptos::ev::keydown, |ev| {
            use leptos::wasm_bindgen::JsCast;
            if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                        || el.has_attribute("contenteditable")
                });
            if typing {
                return;
            }
            if let Some(input) = document()
                .get_element_by_id("global-q")
                .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
            {
                ev.prevent_default();
                let _ = input.focus();
            }
        });
        on_cleanup(move || handle.remove());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_ignores_case_and_links_the_inventory() {
        assert!(contains("Payments-Deployer", "deploy"));
        assert!(!contains("billing", "deploy"));
        assert!(inventory_href("deploy bot").starts_with("/inventory?"));
        assert!(inventory_href("deploy bot").contains("q=deploy"));
        assert!(SearchResults::default().is_empty());
    }
}
