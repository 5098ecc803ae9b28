//! The page a browser gets when Steward fails on its side (a 5xx): in the app's design,
//! saying what happened and what to do, with the request's reference for the
//! administrator (who finds it in the server log). Pages that fail to load their data
//! show the error inside the page; this covers everything that fails before or around
//! a page: a panic, the database gone while the session is read, a stalled render.

use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use steward_app::theme::Theme;

use super::REQUEST_ID;

/// The page for `status`, in `theme` (none: the system's), naming `reference`.
pub fn render(status: StatusCode, reference: &str, theme: Option<Theme>) -> String {
    let (title, what) = if status == StatusCode::SERVICE_UNAVAILABLE {
        (
            "Steward is busy or starting",
            "Steward could not answer in time. This is usually brief.",
        )
    } else {
        (
            "Something went wrong",
            "Steward failed on its side while preparing this page. Nothing you did caused \
             it, and no change was half-made: a change is saved completely or not at all.",
        )
    };
    let theme = theme
        .map(|t| format!(r#" data-theme="{}""#, t.as_str()))
        .unwrap_or_default();
    let code = status.as_u16();
    // The reference comes from a request header.
    let reference = steward_app::format::escape_html(reference);
    format!(
        r##"<!DOCTYPE html>
<html lang="en"{theme}>
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" type="image/svg+xml" href="/favicon.svg">
<link rel="stylesheet" href="/pkg/steward.css">
<title>{title} · Steward</title>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="app-header"><a class="brand" href="/">Steward</a></header>
<main id="main" tabindex="-1">
<section class="error-page card" aria-labelledby="error-title">
<h1 id="error-title">{title}</h1>
<p>{what}</p>
<h2>What you can do</h2>
<ul>
<li>Reload the page in a minute.</li>
<li>If it keeps failing, tell your Steward administrator and give them this reference
(it finds the details in the server log): <span class="reference" id="error-reference">{reference}</span>.</li>
</ul>
<p><a href="/">Go to the home page</a> · <a href="/readyz">Check whether Steward can reach its database</a></p>
<p class="muted">HTTP status {code}</p>
</section>
</main>
</body>
</html>
"##
    )
}

/// Whether the request accepts HTML (a browser, not an API client).
fn wants_html(request: &Request<axum::body::Body>) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Turns a server failure answered to a page request into the designed page (the
/// status is kept). API clients, which do not ask for HTML, keep their problem+json.
pub async fn designed_server_errors(
    request: Request<axum::body::Body>,
    next: middleware::Next,
) -> Response {
    let page = wants_html(&request) && super::is_page_request(&request);
    let reference = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    let theme = steward_app::theme::from_headers(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if !page || !status.is_server_error() || is_html {
        return response;
    }
    let mut designed = (status, Html(render(status, &reference, theme))).into_response();
    designed
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    designed
}

/// A panic while answering becomes a plain 500 (which the layer above dresses as the
/// designed page for browsers), not a dropped connection.
pub fn panic_to_500(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    crate::api::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_reference_escaped_and_keeps_the_theme() {
        let page = render(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<script>x</script>",
            Some(Theme::Dark),
        );
        assert!(page.contains(r#"<html lang="en" data-theme="dark">"#));
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!page.contains("<script>x"));
        assert!(page.contains("Something went wrong"));
        assert!(page.contains("/pkg/steward.css"));
        let busy = render(StatusCode::SERVICE_UNAVAILABLE, "r1", None);
        assert!(busy.contains("Steward is busy or starting"));
        assert!(busy.contains(r#"<html lang="en">"#));
    }
}
