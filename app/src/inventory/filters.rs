//! The inventory's filter form, its counts and the facet bar.

use super::*;

/// The filter form: a GET form, so it works without JavaScript; with it, submitting
/// navigates in the app to the clean URL of the chosen filters (blank fields dropped).
#[component]
pub(crate) fn FilterForm(query: IdentityQuery) -> impl IntoView {
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
        view! {
            <option value=value selected=current>
                {label}
            </option>
        }
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let days = |v: Option<u32>| v.map(|d| d.to_string()).unwrap_or_default();
    view! {
        <form method="get" action="/inventory" on:submit=on_submit>
            <div class="filters" role="search" aria-label="Filter identities">
                <label>
                    "Search"
                    <input
                        type="search"
                        name="q"
                        id="inventory-search"
                        placeholder="Name, external id or SPIFFE ID"
                        maxlength=IdentityQuery::MAX_SEARCH_LEN
                        value=text(&query.search)
                    />
                </label>
                <label>
                    "Class"
                    <select name="class">
                        {option("", "Any", query.actor_class.is_none())}
                        {ActorClass::ALL
                            .iter()
                            .map(|c| option(c.as_str(), c.label(), query.actor_class == Some(*c)))
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Kind"
                    <select name="kind">
                        {option("", "Any", query.kind.is_none())}
                        {IdentityKind::ALL
                            .iter()
                            .map(|k| option(k.as_str(), k.label(), query.kind == Some(*k)))
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Source"
                    <select name="source">
                        {option("", "Any", query.source.is_none())}
                        {Source::ALL
                            .iter()
                            .map(|s| option(s.as_str(), s.as_str(), query.source == Some(*s)))
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Status"
                    <select name="status">
                        {option("", "Any", query.status.is_none())}
                        {IdentityStatus::ALL
                            .iter()
                            .map(|s| option(s.as_str(), s.as_str(), query.status == Some(*s)))
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Environment"
                    <input
                        type="text"
                        name="env"
                        size="8"
                        placeholder="prod"
                        value=text(&query.environment)
                    />
                </label>
                <label>
                    "Team" <input type="text" name="team" size="10" value=text(&query.team) />
                </label>
                <label>
                    "Owner"
                    <input
                        type="text"
                        name="owner"
                        size="16"
                        placeholder="email"
                        value=text(&query.owner)
                    />
                </label>
                <label>
                    "Expiring within (days)"
                    <input
                        type="number"
                        name="expiring"
                        min="1"
                        max="3650"
                        value=days(query.expiring_days)
                    />
                </label>
                <label>
                    "Unused for (days)"
                    <input
                        type="number"
                        name="stale"
                        min="1"
                        max="3650"
                        value=days(query.stale_days)
                    />
                </label>
                <label>
                    "Finding"
                    <select name="finding">
                        {option("", "Any or none", query.finding.is_none())}
                        {option(
                            "any",
                            "Any open finding",
                            query.finding == Some(FindingFilter::Any),
                        )}
                        {format::finding_options()
                            .into_iter()
                            .map(|(value, label)| {
                                let current = query.finding
                                    == Some(FindingFilter::Check(value.clone()));
                                view! {
                                    <option value=value.clone() selected=current>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Control"
                    <select name="control">
                        {option("", "Any", query.control.is_none())}
                        {format::control_options()
                            .into_iter()
                            .map(|(value, label)| {
                                let current = query.control.as_deref() == Some(value.as_str());
                                view! {
                                    <option value=value.clone() selected=current>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Credential age"
                    <select name="cred_age">
                        {option("", "Any", query.credential_age.is_none())}
                        {format::credential_age_options()
                            .into_iter()
                            .map(|(value, label, range)| {
                                let current = query.credential_age == Some(range);
                                view! {
                                    <option value=value selected=current>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" name="orphaned" value="true" checked=query.orphaned />
                    "Orphaned"
                </label>
                <label class="check">
                    <input type="checkbox" name="expired" value="true" checked=query.expired />
                    "Expired"
                </label>
                <label class="check" title="No active owner, no expiry or no revocation path">
                    <input
                        type="checkbox"
                        name="ungoverned"
                        value="true"
                        checked=query.ungoverned
                    />
                    "Not governed"
                </label>
                <label>
                    "Sort"
                    <select name="sort">
                        {format::sort_options()
                            .into_iter()
                            .map(|(value, label)| {
                                let current = query.sort.as_param() == value;
                                view! {
                                    <option value=value.clone() selected=current>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
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
pub(crate) fn Counts(
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
pub(crate) fn LaterCounts(
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
        None => view! {
            <p class="loading" id="counting" aria-busy="true">
                {note}
            </p>
        }
        .into_any(),
        Some(Ok(facets)) => {
            view! { <Counts facets query=query.clone() can_assign assign /> }.into_any()
        }
        Some(Err(error)) => {
            let message = format!("Could not count the matches: {error}");
            view! {
                <p class="notice error" role="alert">
                    {message}
                </p>
            }
            .into_any()
        }
    }
}

/// How many identities of the current filter have each value; each count links to
/// the filter narrowed to it.
#[component]
pub(crate) fn FacetBar(facets: Facets, query: IdentityQuery) -> impl IntoView {
    let total = facets.total;
    let groups = format::facet_groups(&facets, &query);
    view! {
        <section class="facets" aria-label="Counts">
            <p class="facet-total">
                <strong id="match-count">{format::count(total)}</strong>
                " identities match"
            </p>
            {groups
                .into_iter()
                .map(|(title, items)| {
                    view! {
                        <div class="facet-group">
                            <span class="facet-title">{title}</span>
                            {items
                                .into_iter()
                                .map(|(label, count, href)| {
                                    view! {
                                        <a class="facet" href=href>
                                            {label}
                                            " "
                                            <span class="count">{format::count(count)}</span>
                                        </a>
                                    }
                                })
                                .collect_view()}
                        </div>
                    }
                })
                .collect_view()}
        </section>
    }
}
