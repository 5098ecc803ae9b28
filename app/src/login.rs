//! The sign-in page: a plain HTML form posted to `/auth/login` (it works without
//! JavaScript, and the password never passes through the WASM app).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The message for an `error` code the sign-in endpoint sends back.
pub fn login_error_message(code: &str) -> Option<&'static str> {
    match code {
        "bad_credentials" => Some("Wrong email or password."),
        "sso_state" => Some(
            "That sign-in link was already used or does not belong to this browser. Start again.",
        ),
        "sso_no_role" => Some(
            "Your account has no Steward role. Ask the security team to add you to a Steward group.",
        ),
        "sso_deactivated" => Some("Your Steward account is deactivated."),
        "sso_link_refused" => Some(
            "A Steward account with your email exists, but it is not linked to this single sign-on account. Ask the security team to link it.",
        ),
        "sso_local_account" => Some(
            "This account is linked to single sign-on: sign in with single sign-on.",
        ),
        "sso_failed" => Some("Single sign-on failed. Try again; if it keeps failing, tell the security team."),
        "second_factor_expired" => Some(
            "The second step of that sign-in timed out or was already used. Sign in again.",
        ),
        "locked" => Some(
            "Too many failed sign-ins for this account. Try again in 15 minutes, or ask an admin to reset the password.",
        ),
        _ => None,
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.with(|q| q.get("error").and_then(|c| login_error_message(&c)));
    let signed_out = move || query.with(|q| q.get("signed_out").is_some());
    let next = move || query.with(|q| q.get("next").unwrap_or_else(|| "/".to_owned()));
    let sso = Resource::new(|| (), |_| crate::session::sso_enabled());
    let sso_href = move || format!("/auth/oidc/login?{}", serde_urlencoded_next(&next()));
    view! {
        <Title text="Sign in" />
        <section class="login-card">
            <h1>"Sign in to Steward"</h1>
            {move || {
                signed_out()
                    .then(|| {
                        view! {
                            <p class="notice" role="status">
                                "You are signed out."
                            </p>
                        }
                    })
            }}
            {move || {
                error()
                    .map(|message| {
                        view! {
                            <p class="notice error" role="alert">
                                {message}
                            </p>
                        }
                    })
            }}
            <form method="post" action="/auth/login" class="stacked">
                <input type="hidden" name="next" value=next />
                <label for="login-email">"Email"</label>
                <input
                    id="login-email"
                    type="email"
                    name="email"
                    autocomplete="username"
                    required
                    autofocus
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    type="password"
                    name="password"
                    autocomplete="current-password"
                    required
                />
                <button type="submit">"Sign in"</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    matches!(sso.await, Ok(true))
                        .then(|| {
                            view! {
                                <p class="sso">
                                    <a class="button" href=sso_href rel="external">
                                        "Sign in with single sign-on"
                                    </a>
                                </p>
                            }
                        })
                })}
            </Suspense>
        </section>
    }
}

/// `next=<path>` for the SSO link.
fn serde_urlencoded_next(next: &str) -> String {
    let mut out = String::from("next=");
    for byte in next.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_codes_have_messages() {
        assert_eq!(
            login_error_message("bad_credentials"),
            Some("Wrong email or password.")
        );
        assert!(login_error_message("locked").is_some());
        assert_eq!(login_error_message("<script>"), None);
        assert_eq!(
            serde_urlencoded_next("/inventory?class=ai"),
            "next=/inventory%3Fclass%3Dai"
        );
    }
}
