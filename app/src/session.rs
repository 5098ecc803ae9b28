//! The signed-in caller, as the server resolved it for this request (from the session
//! cookie or a bearer token), and what the header shows about them.

use leptos::prelude::*;
use leptos_router::components::A;
use steward_domain::auth::{Action, Role, UserInfo};

use crate::error::AppError;

#[cfg(feature = "ssr")]
mod imp {
    use leptos::prelude::use_context;
    use steward_domain::auth::{CurrentPrincipal, Principal};

    /// The caller of the request being served, if signed in.
    pub fn principal() -> Option<Principal> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<CurrentPrincipal>().cloned())
            .and_then(|current| current.0)
    }

    /// The ports the server put into context.
    pub fn ports() -> Result<steward_domain::ports::Ports, steward_domain::DomainError> {
        use_context::<steward_domain::ports::Ports>().ok_or(steward_domain::DomainError::Internal)
    }
}

#[cfg(feature = "ssr")]
pub use imp::{ports, principal};

/// Whether single sign-on is configured (provided by the server in context).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsoConfigured(pub bool);

/// Whether the sign-in page offers single sign-on.
#[server(prefix = "/rpc", endpoint = "session/sso_enabled")]
pub async fn sso_enabled() -> Result<bool, AppError> {
    Ok(use_context::<SsoConfigured>().is_some_and(|s| s.0))
}

/// Who is signed in (`None`: nobody).
#[server(prefix = "/rpc", endpoint = "session/whoami")]
pub async fn whoami() -> Result<Option<UserInfo>, AppError> {
    Ok(principal().as_ref().map(UserInfo::from))
}

/// The site header: the main navigation (with the Audit link for the roles that may
/// read the trail) and who is signed in with a sign-out button, or a sign-in link.
///
/// One resource and one suspense boundary for the whole header: every boundary a page
/// has is one more the server must wait on, and fewer concurrent boundaries per page
/// keep server rendering clear of the reactive scheduler's races between them.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let me = expect_context::<crate::toast::Me>().0;
    let nav = |audit: bool, admin: bool| {
        view! {
            <nav aria-label="Main">
                <A href="/inventory">"Inventory"</A>
                <A href="/inbox">"Inbox"</A>
                <A href="/reviews">"Reviews"</A>
                <A href="/campaigns">"Campaigns"</A>
                <A href="/grants">"Grants"</A>
                <A href="/authz/policies">"Agent policies"</A>
                <A href="/authz/trust">"Workload trust"</A>
                <A href="/ownership">"Ownership"</A>
                <A href="/posture">"Posture"</A>
                <A href="/controls">"Controls"</A>
                {admin.then(|| view! { <A href="/import">"Import"</A> })}
                {audit.then(|| view! { <A href="/audit">"Audit"</A> })}
            </nav>
        }
    };
    view! {
        <header class="app-header">
            <a class="brand" href="/">
                "Steward"
            </a>
            <form method="get" action="/search" role="search" class="global-search">
                <label for="global-q" class="visually-hidden">
                    "Search identities, people, campaigns and grants"
                </label>
                <input
                    id="global-q"
                    type="search"
                    name="q"
                    maxlength="100"
                    placeholder="Search (press /)"
                    aria-keyshortcuts="/"
                />
            </form>
            <Suspense fallback=move || nav(
                false,
                false,
            )>
                {move || Suspend::new(async move {
                    let user = me.await.ok().flatten();
                    let audit = matches!(
                        &user,
                        Some(u)
                        if Action::ReadAudit.roles().contains(&u.role)
                    );
                    let admin = matches!(&user, Some(u) if u.role == Role::Admin);
                    let account = match user {
                        Some(user) => {
                            view! {
                                <span class="user-name">{user.display_name}</span>
                                <span class="badge role">{user.role.as_str()}</span>
                                <form method="post" action="/auth/logout" class="inline">
                                    <button type="submit" class="link-button">
                                        "Sign out"
                                    </button>
                                </form>
                            }
                                .into_any()
                        }
                        None => view! { <a href="/login">"Sign in"</a> }.into_any(),
                    };
                    view! {
                        {nav(audit, admin)}
                        <div class="user-area" aria-label="Account">
                            {account}
                        </div>
                        <form
                            method="post"
                            action="/theme"
                            class="inline theme-form"
                            aria-label="Theme"
                        >
                            <span class="muted">"Theme:"</span>
                            <button type="submit" name="theme" value="light" class="link-button">
                                "Light"
                            </button>
                            <button type="submit" name="theme" value="dark" class="link-button">
                                "Dark"
                            </button>
                            <button type="submit" name="theme" value="system" class="link-button">
                                "System"
                            </button>
                        </form>
                    }
                })}
            </Suspense>
        </header>
    }
}
