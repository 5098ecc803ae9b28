//! The toast after a change: what was done, and the audit events that record it.
//!
//! The server tells the page which events a change appended in a short-lived cookie
//! (`steward_change=first-last`, set on the server-function response, replaced by the
//! next change); the toast reads it and links to exactly those events (as text for
//! roles that may not read the trail). It is read, not cleared: a page that re-renders
//! after the change (with the changed data) renders its toast again, which must find
//! it again. A toast stays where the change was made until dismissed: no
//! timer takes it away before it is read.

use leptos::prelude::*;
use steward_domain::auth::{Action, UserInfo};

use crate::error::AppError;

/// The name of the cookie (set by the server's `web::send_audit_receipt`).
pub const CHANGE_COOKIE: &str = "steward_change";

/// The range of audit events named by a `Cookie` string, if it has a valid one.
pub fn change_from_cookies(cookies: &str) -> Option<(i64, i64)> {
    let value = crate::theme::cookie_value(cookies, CHANGE_COOKIE)?;
    let (first, last) = value.split_once('-')?;
    let (first, last) = (first.parse::<i64>().ok()?, last.parse::<i64>().ok()?);
    (0 < first && first <= last).then_some((first, last))
}

/// The audit page showing exactly the events `first..=last` (newest first).
pub fn audit_events_href((first, last): (i64, i64)) -> String {
    use steward_domain::audit::AuditQuery;
    // The audit page shows at most 1,000 events at once; a larger change starts there.
    let count = (last - first + 1).min(i64::from(AuditQuery::MAX_LIMIT));
    let query = AuditQuery {
        before: Some(last + 1),
        limit: count as u32,
        ..AuditQuery::new()
    };
    crate::audit::audit_href("/audit", &query)
}

/// How the events are named: "audit event #7" or "audit events #7–#9".
pub fn describe_events((first, last): (i64, i64)) -> String {
    if first == last {
        format!("audit event #{first}")
    } else {
        format!("audit events #{first}–#{last}")
    }
}

/// Who is signed in, loaded once by the app and shared (the header and toasts).
#[derive(Clone, Copy)]
pub struct Me(pub Resource<Result<Option<UserInfo>, AppError>>);

/// Reads the change cookie (in the browser; the server never renders a toast's link,
/// it appears once the page runs).
fn read_change() -> Option<(i64, i64)> {
    use leptos::wasm_bindgen::JsCast;
    let document = document().dyn_into::<web_sys::HtmlDocument>().ok()?;
    change_from_cookies(&document.cookie().ok()?)
}

/// A change's confirmation: the message (and any links passed as children), a link
/// to its audit events, and a button to dismiss it.
#[component]
pub fn Toast(
    #[prop(into)] message: String,
    #[prop(optional)] children: Option<Children>,
    #[prop(optional, into)] id: Option<String>,
) -> impl IntoView {
    let change = RwSignal::new(None::<(i64, i64)>);
    let open = RwSignal::new(true);
    // Effects run in the browser only, after the toast is on the page.
    Effect::new(move |_| change.set(read_change()));
    let reads_audit = move || {
        use_context::<Me>()
            .and_then(|me| me.0.get())
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|user| Action::ReadAudit.roles().contains(&user.role))
    };
    let audit = move || {
        change.get().map(|events| {
            if reads_audit() {
                view! {
                    " "
                    <a class="toast-audit" href=audit_events_href(events)>
                        {format!("See {}", describe_events(events))}
                    </a>
                }.into_any()
            } else {
                view! { <span class="toast-audit">{format!(" Recorded as {}.", describe_events(events))}</span> }.into_any()
            }
        })
    };
    view! {
        <div class="toast" role="status" id=id hidden=move || !open.get()>
            <p>
                <span class="toast-mark" aria-hidden="true">
                    "✓"
                </span>
                " "
                {message}
                {children.map(|links| links())}
                {audit}
            </p>
            <button
                type="button"
                class="link-button toast-close"
                aria-label="Dismiss this message"
                on:click=move |_| open.set(false)
            >
                "×"
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_cookie_is_found_among_others_and_checked() {
        assert_eq!(
            change_from_cookies("steward_theme=dark; steward_change=12-14"),
            Some((12, 14))
        );
        assert_eq!(change_from_cookies("steward_change=7-7"), Some((7, 7)));
        assert_eq!(change_from_cookies("steward_theme=dark"), None);
        assert_eq!(change_from_cookies("steward_change="), None);
        assert_eq!(change_from_cookies("steward_change=9-3"), None);
        assert_eq!(change_from_cookies("steward_change=0-3"), None);
        assert_eq!(change_from_cookies("steward_change=a-b"), None);
        assert_eq!(change_from_cookies("xsteward_change=1-2"), None);
    }

    #[test]
    fn the_link_shows_exactly_the_changes_events() {
        assert_eq!(audit_events_href((7, 7)), "/audit?limit=1&before=8");
        assert_eq!(audit_events_href((7, 9)), "/audit?limit=3&before=10");
        assert_eq!(
            audit_events_href((1, 5000)),
            "/audit?limit=1000&before=5001"
        );
        assert_eq!(describe_events((7, 7)), "audit event #7");
        assert_eq!(describe_events((7, 9)), "audit events #7–#9");
    }
}
