//! The Content Security Policy of Steward's pages. Each page response gets a fresh
//! nonce (Leptos makes one per server render); only scripts carrying it, and scripts
//! from Steward's own origin, run. WebAssembly may be compiled (`'wasm-unsafe-eval'`),
//! nothing else is evaluated; no plugins, no `<base>`, no framing, no requests or
//! forms to other origins.

/// The policy of a page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; object-src 'none'; base-uri 'none'; connect-src 'self'; \
         img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy of every other response (API answers, files, error documents): nothing
/// in them may run.
pub const OTHER_POLICY: &str = "default-src 'self'; script-src 'none'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Sends the page's policy with the response being rendered (server only).
#[cfg(feature = "ssr")]
pub fn send_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&page_policy(&nonce.to_string())) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_runs_only_its_own_and_nonced_scripts() {
        let policy = page_policy("abc123");
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
        ] {
            assert!(
                policy.contains(directive),
                "{directive} missing in {policy}"
            );
        }
        assert!(!policy.contains("unsafe-inline"));
        assert!(OTHER_POLICY.contains("script-src 'none'"));
    }
}
