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
pub mod error;
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
pub mod session;
pub mod theme;
pub mod toast;
pub mod trust;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // A chosen theme is rendered in from the first byte; none: the system's.
    let theme = theme::chosen().map(theme::Theme::as_str);
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
            <a class="skip-link" href="#main">"Skip to content"</a>
            <session::SiteHeader />
            <main id="main" tabindex="-1">
                <nav::Breadcrumbs />
                <Routes fallback=NotFound>
                    <Route path=path!("/") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async />
                    // Async: the page is sent once its data is there, so it reads complete without
                    // JavaScript and carries the right HTTP status.
                    <Route path=path!("/inventory") view={Lazy::<InventoryRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/identities/new") view={Lazy::<IdentityFormRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/identities/:id") view={Lazy::<IdentityRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/identities/:id/edit") view={Lazy::<IdentityFormRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/import") view={Lazy::<ImportRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/inbox") view={Lazy::<InboxRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/ownership") view={Lazy::<OwnershipRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/posture") view={Lazy::<DashboardRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/posture/report") view={Lazy::<ReportRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/controls") view={Lazy::<ControlsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/reviews") view={Lazy::<ReviewsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/grants") view={Lazy::<GrantsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/grants/policies") view={Lazy::<PoliciesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/authz/policies") view={Lazy::<AgentPoliciesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/authz/trust") view={Lazy::<TrustRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/search") view={Lazy::<SearchRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/grants/:id") view={Lazy::<GrantRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/campaigns") view={Lazy::<CampaignsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/campaigns/:id") view={Lazy::<CampaignRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/campaigns/:id/evidence") view={Lazy::<EvidenceRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// Every page is a lazy route. Built with `cargo leptos --split` (as `make build` does),
/// each page's code is its own WASM chunk, fetched when the page is first shown — the
/// server names the chunks a page needs in `modulepreload` links — so the first
/// download holds the shell and the current page, not all twenty-two pages.
macro_rules! lazy_pages {
    ($($route:ident => $page:path),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_route: Self) -> AnyView {
                $page().into_any()
            }
        }
    )*};
}

lazy_pages! {
    HomeRoute => home::HomePage,
    InventoryRoute => inventory::InventoryPage,
    IdentityFormRoute => identity::IdentityFormPage,
    IdentityRoute => identity::IdentityPage,
    ImportRoute => imports::ImportPage,
    InboxRoute => ownership::InboxPage,
    OwnershipRoute => ownership::OwnershipPage,
    LoginRoute => login::LoginPage,
    AuditRoute => audit::AuditPageView,
    DashboardRoute => posture::DashboardPage,
    ReportRoute => posture::ReportPage,
    ControlsRoute => posture::ControlsPage,
    ReviewsRoute => campaigns::ReviewsPage,
    GrantsRoute => grants::GrantsPage,
    PoliciesRoute => grants::PoliciesPage,
    AgentPoliciesRoute => authz::AgentPoliciesPage,
    TrustRoute => trust::TrustPage,
    SearchRoute => search::SearchPage,
    GrantRoute => grants::GrantPage,
    CampaignsRoute => campaigns::CampaignsPage,
    CampaignRoute => campaigns::CampaignPage,
    EvidenceRoute => campaigns::EvidencePage,
}

#[component]
fn NotFound() -> impl IntoView {
    response::set_status(404);
    view! {
        <Title text="Page not found" />
        <h1>"Page not found"</h1>
        <div class="error-page">
            <p>"There is nothing at this address: the link may be mistyped, or what it named was deleted."</p>
            <p><a href="/">"Go to the home page"</a>", or find it with the search box in the header (press "<kbd>"/"</kbd>")."</p>
        </div>
    }
}
