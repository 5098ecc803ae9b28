//! The signed-in caller, as the server resolved it for this request (from the session
//! cookie or a bearer token), and what the header shows about them.

use leptos::prelude::*;
use leptos_router::components::A;
use steward_domain::auth::{Role, UserInfo};

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

/// The Audit link, for the roles that may read the trail.
#[component]
pub fn AuditLink() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let show = matches!(me.await, Ok(Some(user)) if matches!(user.role, Role::Admin | Role::Auditor));
                show.then(|| view! { <A href="/audit">"Audit"</A> })
            })}
        </Suspense>
    }
}

/// The header's account area: who is signed in and a sign-out button, or a sign-in link.
#[component]
pub fn AccountArea() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <div class="user-area" aria-label="Account">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(user)) => view! {
                            <span class="user-name">{user.display_name}</span>
                            <span class="badge role">{user.role.as_str()}</span>
                            <form method="post" action="/auth/logout" class="inline">
                                <button type="submit" class="link-button">"Sign out"</button>
                            </form>
                        }
                        .into_any(),
                        _ => view! { <a href="/login">"Sign in"</a> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
