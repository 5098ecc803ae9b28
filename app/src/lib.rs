//! Steward's user interface: the app shell, the pages and their thin server functions.
//!
//! Pages hold no business rules: server functions read the ports from context, call
//! them and map the error; formatting and link building are plain functions in
//! [`format`] so they are unit-tested without a browser.

// Deeply nested views have deep types: the browser build computes their layout
// through more query levels than the default limit of 128 allows.
#![recursion_limit = "256"]

pub mod audit;
pub mod authz;
pub mod campaigns;
#[cfg(feature = "ssr")]
pub mod charts;
pub mod csp;
pub mod error;
pub mod federation;
pub mod format;
pub mod grants;
pub mod home;
pub mod identity;
pub mod imports;
pub mod inventory;
pub mod login;
pub mod nav;
pub mod ownership;
pub mod posture;
pub mod response;
pub mod search;
pub mod sensitivity;
pub mod session;
pub mod theme;
pub mod toast;

use leptos::lazy;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, Lazy, LazyRoute, SsrMode};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // A chosen theme is rendered in from the first byte; none: the system's.
    let theme = theme::chosen().map(theme::Theme::as_str);
    #[cfg(feature = "ssr")]
    csp::send_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the page as hydrated, which the
    // browser tests (and anyone debugging) can wait for.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    search::focus_search_on_slash();
    // Who is signed in: read by the header and by toasts (whether to link the trail).
    provide_context(toast::Me(Resource::new(|| (), |_| session::whoami())));
    view! {
        <Stylesheet id="steward" href="/pkg/steward.css" />
        <Title formatter=|page: String| format!("{page} · Steward") />
        <Router>
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <session::SiteHeader />
            <main id="main" tabindex="-1">
                <nav::Breadcrumbs />
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=home::HomePage ssr=SsrMode::Async />
                    // Async: the page is sent once its data is there, so it reads complete without
                    // JavaScript and carries the right HTTP status.
                    <Route
                        path=path!("/inventory")
                        view={Lazy::<InventoryRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/identities/new")
                        view={Lazy::<IdentityFormRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/identities/:id")
                        view={Lazy::<IdentityRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/identities/:id/edit")
                        view={Lazy::<IdentityFormRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/import")
                        view={Lazy::<ImportRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/inbox")
                        view={Lazy::<InboxRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/ownership")
                        view={Lazy::<OwnershipRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/login") view=login::LoginPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/audit")
                        view={Lazy::<AuditRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/posture")
                        view={Lazy::<DashboardRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/posture/report")
                        view={Lazy::<ReportRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/controls")
                        view={Lazy::<ControlsRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/reviews")
                        view={Lazy::<ReviewsRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/grants")
                        view={Lazy::<GrantsRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/grants/policies")
                        view={Lazy::<PoliciesRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/authz/policies")
                        view={Lazy::<AgentPoliciesRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/authz/trust")
                        view={Lazy::<TrustRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/search")
                        view={Lazy::<SearchRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/grants/:id")
                        view={Lazy::<GrantRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/campaigns")
                        view={Lazy::<CampaignsRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/campaigns/:id")
                        view={Lazy::<CampaignRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/campaigns/:id/evidence")
                        view={Lazy::<EvidenceRoute>::new()}
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// The pages in five groups, each loaded lazily: built with `cargo leptos --split` (as
/// `make build` does), a group's code is split out of the main WASM and fetched when one
/// of its pages is first shown (before hydration, see `load_page_code`). Five groups
/// rather than a split per page: every split point multiplies the chunks of code shared
/// between them (a split per page made 500 chunks, 333 of them for the identity page
/// alone), and each chunk is a request. The sign-in and home pages, where people
/// arrive, stay in the main bundle.
///
/// One lazily loaded group: an enum of its pages and the `#[lazy]` function that renders
/// them (its code is what the split moves out of the main bundle).
macro_rules! page_group {
    ($group:ident, $pages:ident { $($page:ident => $component:path),* $(,)? }) => {
        #[derive(Clone, Copy)]
        enum $pages {
            $($page),*
        }

        #[lazy]
        fn $group(page: $pages) -> AnyView {
            match page {
                $($pages::$page => $component().into_any()),*
            }
        }
    };
}

page_group!(register_pages, RegisterPage {
    Inventory => inventory::InventoryPage,
    Import => imports::ImportPage,
    Search => search::SearchPage,
});

page_group!(identity_pages, IdentityPage {
    Identity => identity::IdentityPage,
    Form => identity::IdentityFormPage,
});

page_group!(review_pages, ReviewPage {
    Inbox => ownership::InboxPage,
    Ownership => ownership::OwnershipPage,
    Reviews => campaigns::ReviewsPage,
    Campaigns => campaigns::CampaignsPage,
    Campaign => campaigns::CampaignPage,
    Evidence => campaigns::EvidencePage,
});

page_group!(access_pages, AccessPage {
    Grants => grants::GrantsPage,
    Grant => grants::GrantPage,
    GrantPolicies => grants::PoliciesPage,
    AgentPolicies => authz::AgentPoliciesPage,
    Trust => federation::TrustPage,
});

page_group!(posture_pages, PosturePage {
    Dashboard => posture::DashboardPage,
    Report => posture::ReportPage,
    Controls => posture::ControlsPage,
    Audit => audit::AuditPageView,
});

/// The lazily loaded groups of pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageGroup {
    Register,
    Identity,
    Review,
    Access,
    Posture,
}

/// The group whose code shows the page at `path` (none: the page is in the main bundle,
/// or there is no such page). Kept next to the route table, and a test checks the two
/// agree.
pub fn page_group(path: &str) -> Option<PageGroup> {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    match first {
        "inventory" | "import" | "search" => Some(PageGroup::Register),
        "identities" => Some(PageGroup::Identity),
        "inbox" | "ownership" | "reviews" | "campaigns" => Some(PageGroup::Review),
        "grants" | "authz" => Some(PageGroup::Access),
        "posture" | "controls" | "audit" => Some(PageGroup::Posture),
        _ => None,
    }
}

/// Loads the code of the page at `path` before the browser hydrates it. Hydration then
/// runs in one synchronous pass, as it does for pages in the main bundle: a lazy route
/// hydrated while its code was still being fetched was rendered a second time below the
/// server's HTML, because the rest of the page had moved on in the meantime.
#[cfg(feature = "hydrate")]
pub async fn load_page_code(path: &str) {
    match page_group(path) {
        Some(PageGroup::Register) => __preload_register_pages().await,
        Some(PageGroup::Identity) => __preload_identity_pages().await,
        Some(PageGroup::Review) => __preload_review_pages().await,
        Some(PageGroup::Access) => __preload_access_pages().await,
        Some(PageGroup::Posture) => __preload_posture_pages().await,
        None => {}
    }
}

/// One route type per lazy page: the router asks it for the page's view, which waits
/// for the page's group to be loaded.
macro_rules! lazy_routes {
    ($($route:ident => $group:ident($page:expr)),* $(,)?) => {$(
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_route: Self) -> impl std::future::Future<Output = AnyView> {
                $group($page)
            }
        }
    )*};
}

lazy_routes! {
    InventoryRoute => register_pages(RegisterPage::Inventory),
    IdentityRoute => identity_pages(IdentityPage::Identity),
    IdentityFormRoute => identity_pages(IdentityPage::Form),
    ImportRoute => register_pages(RegisterPage::Import),
    SearchRoute => register_pages(RegisterPage::Search),
    InboxRoute => review_pages(ReviewPage::Inbox),
    OwnershipRoute => review_pages(ReviewPage::Ownership),
    ReviewsRoute => review_pages(ReviewPage::Reviews),
    CampaignsRoute => review_pages(ReviewPage::Campaigns),
    CampaignRoute => review_pages(ReviewPage::Campaign),
    EvidenceRoute => review_pages(ReviewPage::Evidence),
    GrantsRoute => access_pages(AccessPage::Grants),
    GrantRoute => access_pages(AccessPage::Grant),
    PoliciesRoute => access_pages(AccessPage::GrantPolicies),
    AgentPoliciesRoute => access_pages(AccessPage::AgentPolicies),
    TrustRoute => access_pages(AccessPage::Trust),
    DashboardRoute => posture_pages(PosturePage::Dashboard),
    ReportRoute => posture_pages(PosturePage::Report),
    ControlsRoute => posture_pages(PosturePage::Controls),
    AuditRoute => posture_pages(PosturePage::Audit),
}

#[component]
fn NotFound() -> impl IntoView {
    response::set_status(404);
    view! {
        <Title text="Page not found" />
        <h1>"Page not found"</h1>
        <div class="error-page">
            <p>
                "There is nothing at this address: the link may be mistyped, or what it named was deleted."
            </p>
            <p>
                <a href="/">"Go to the home page"</a>
                ", or find it with the search box in the header (press "
                <kbd>"/"</kbd>
                ")."
            </p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every lazy route's path (from the route table in this file) maps to the group of
    /// the function that renders it: the browser loads that group before hydrating.
    #[test]
    fn each_lazy_route_path_maps_to_the_group_that_renders_it() {
        let source = include_str!("lib.rs");
        let group_of_route = |route: &str| -> PageGroup {
            let line = source
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{route} => ")))
                .unwrap_or_else(|| panic!("{route} is not in lazy_routes!"));
            match line.split("=> ").nth(1).and_then(|r| r.split('(').next()) {
                Some("register_pages") => PageGroup::Register,
                Some("identity_pages") => PageGroup::Identity,
                Some("review_pages") => PageGroup::Review,
                Some("access_pages") => PageGroup::Access,
                Some("posture_pages") => PageGroup::Posture,
                other => panic!("{route} renders through an unknown group: {other:?}"),
            }
        };
        let mut checked = 0;
        // One `<Route … />` element at a time, however the formatter spread it over lines.
        for line in source
            .split("<Route")
            .skip(1)
            .map(|element| element.split("/>").next().unwrap_or_default())
            .filter(|element| element.contains("path=path!(\""))
        {
            let path = line
                .split("path!(\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let sample = path.replace(":id", "019b76da-a820-7e73-b120-d0a24e9668ba");
            match line.split("Lazy::<").nth(1) {
                Some(rest) => {
                    let route = rest.split('>').next().unwrap();
                    assert_eq!(page_group(&sample), Some(group_of_route(route)), "{path}");
                    checked += 1;
                }
                None => assert_eq!(page_group(&sample), None, "{path} is in the main bundle"),
            }
        }
        assert_eq!(checked, 21, "every lazy route was checked");
        assert_eq!(page_group("/no-such-page"), None);
    }
}
