//! Where a page sits: the breadcrumb trail above every page, worked out from the path
//! alone (a plain function, unit-tested), so no page can forget its own.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// One step of the trail: a link to a parent page, or the page itself (no link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crumb {
    pub label: &'static str,
    pub href: Option<String>,
}

fn link(label: &'static str, href: impl Into<String>) -> Crumb {
    Crumb {
        label,
        href: Some(href.into()),
    }
}

fn here(label: &'static str) -> Crumb {
    Crumb { label, href: None }
}

/// The trail from the home page to `path` (a path without query). Empty where a trail
/// would say nothing: the home page itself and the sign-in page.
pub fn trail(path: &str) -> Vec<Crumb> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut crumbs = match segments.as_slice() {
        [] | ["login"] => return Vec::new(),
        ["inventory"] => vec![here("Inventory")],
        ["identities", "new"] => vec![link("Inventory", "/inventory"), here("New identity")],
        ["identities", _] => vec![link("Inventory", "/inventory"), here("Identity")],
        ["identities", id, "edit"] => vec![
            link("Inventory", "/inventory"),
            link("Identity", format!("/identities/{id}")),
            here("Edit"),
        ],
        ["import"] => vec![link("Inventory", "/inventory"), here("Import")],
        ["inbox"] => vec![here("Inbox")],
        ["ownership"] => vec![here("Ownership")],
        ["reviews"] => vec![here("Reviews")],
        ["campaigns"] => vec![here("Campaigns")],
        ["campaigns", _] => vec![link("Campaigns", "/campaigns"), here("Campaign")],
        ["campaigns", id, "evidence"] => vec![
            link("Campaigns", "/campaigns"),
            link("Campaign", format!("/campaigns/{id}")),
            here("Evidence"),
        ],
        ["grants"] => vec![here("Grants")],
        ["grants", "policies"] => vec![link("Grants", "/grants"), here("Policies")],
        ["grants", _] => vec![link("Grants", "/grants"), here("Grant")],
        ["authz", "policies"] => vec![here("Agent policies")],
        ["authz", "trust"] => vec![here("Workload trust")],
        ["posture"] => vec![here("Posture")],
        ["posture", "report"] => vec![link("Posture", "/posture"), here("Report")],
        ["controls"] => vec![link("Posture", "/posture"), here("Controls")],
        ["audit"] => vec![here("Audit trail")],
        ["search"] => vec![here("Search")],
        _ => vec![here("Page not found")],
    };
    crumbs.insert(0, link("Home", "/"));
    crumbs
}

/// The breadcrumb trail of the current page, as an ordered list in a labelled
/// navigation landmark; the last step is marked as the current page.
#[component]
pub fn Breadcrumbs() -> impl IntoView {
    let location = use_location();
    move || {
        let crumbs = trail(&location.pathname.get());
        (!crumbs.is_empty()).then(|| {
            view! {
                <nav class="breadcrumbs no-print" aria-label="Breadcrumb">
                    <ol>
                        {crumbs
                            .into_iter()
                            .map(|crumb| match crumb.href {
                                Some(href) => {
                                    view! {
                                        <li>
                                            <a href=href>{crumb.label}</a>
                                        </li>
                                    }
                                        .into_any()
                                }
                                None => {
                                    view! { <li aria-current="page">{crumb.label}</li> }.into_any()
                                }
                            })
                            .collect_view()}
                    </ol>
                </nav>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(path: &str) -> Vec<(&'static str, Option<String>)> {
        trail(path).into_iter().map(|c| (c.label, c.href)).collect()
    }

    #[test]
    fn top_level_pages_sit_under_home() {
        assert_eq!(
            labels("/inventory"),
            vec![("Home", Some("/".into())), ("Inventory", None)]
        );
        assert_eq!(
            labels("/authz/trust/"),
            vec![("Home", Some("/".into())), ("Workload trust", None)]
        );
    }

    #[test]
    fn detail_pages_link_back_to_their_list_and_parent() {
        assert_eq!(
            labels("/campaigns/c1/evidence"),
            vec![
                ("Home", Some("/".into())),
                ("Campaigns", Some("/campaigns".into())),
                ("Campaign", Some("/campaigns/c1".into())),
                ("Evidence", None),
            ]
        );
        assert_eq!(
            labels("/identities/abc/edit")[2],
            ("Identity", Some("/identities/abc".into()))
        );
        // "new" and "policies" are pages, not ids.
        assert_eq!(labels("/identities/new")[2], ("New identity", None));
        assert_eq!(labels("/grants/policies")[2], ("Policies", None));
        assert_eq!(labels("/grants/g1")[2], ("Grant", None));
    }

    #[test]
    fn home_and_sign_in_have_no_trail_and_unknown_paths_say_so() {
        assert!(trail("/").is_empty());
        assert!(trail("/login").is_empty());
        assert_eq!(labels("/nowhere/at/all")[1], ("Page not found", None));
    }

    #[test]
    fn every_trail_ends_at_the_current_page_and_links_everything_before() {
        for path in [
            "/inventory",
            "/identities/x",
            "/import",
            "/inbox",
            "/ownership",
            "/reviews",
            "/campaigns/x",
            "/grants/x",
            "/authz/policies",
            "/posture/report",
            "/controls",
            "/audit",
            "/search",
        ] {
            let crumbs = trail(path);
            let (last, before) = crumbs.split_last().expect("a trail");
            assert!(last.href.is_none(), "{path}");
            assert!(before.iter().all(|c| c.href.is_some()), "{path}");
        }
    }
}
