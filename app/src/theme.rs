//! Light and dark themes: Steward follows the operating system's setting unless the
//! person chose one, which is kept in a cookie (`steward_theme`) so that the server
//! renders the page in it from the first byte (no flash, and no script needed). The
//! header's buttons post the choice to `/theme`.

/// The cookie holding the chosen theme.
pub const COOKIE: &str = "steward_theme";

/// A theme someone chose (none chosen: follow the system).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// `light` or `dark`; anything else is not a theme.
    pub fn parse(value: &str) -> Option<Theme> {
        match value {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    /// The theme chosen in a `Cookie` header, if any.
    pub fn from_cookie_header(header: &str) -> Option<Theme> {
        cookie_value(header, COOKIE).and_then(|value| Theme::parse(value.trim()))
    }
}

/// The value of the cookie `name` in a `Cookie` header (or `document.cookie`).
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value)
}

#[cfg(feature = "ssr")]
mod imp {
    use leptos::prelude::use_context;

    use super::Theme;

    /// The theme the request's cookie chose (rendering on the server).
    pub fn chosen() -> Option<Theme> {
        from_headers(&use_context::<http::request::Parts>()?.headers)
    }

    /// The theme chosen in a request's `Cookie` headers, if any (also read by the
    /// server's own error page, which is rendered outside the app).
    pub fn from_headers(headers: &http::HeaderMap) -> Option<Theme> {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(Theme::from_cookie_header)
    }
}

#[cfg(not(feature = "ssr"))]
mod imp {
    use super::Theme;

    /// In the browser the page already carries the theme it was rendered with.
    pub fn chosen() -> Option<Theme> {
        None
    }
}

pub use imp::chosen;
#[cfg(feature = "ssr")]
pub use imp::from_headers;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_theme_comes_from_its_cookie_only() {
        assert_eq!(
            Theme::from_cookie_header("steward_session=abc; steward_theme=dark"),
            Some(Theme::Dark)
        );
        assert_eq!(
            Theme::from_cookie_header("steward_theme=light"),
            Some(Theme::Light)
        );
        assert_eq!(Theme::from_cookie_header("steward_theme=purple"), None);
        assert_eq!(Theme::from_cookie_header("other_theme=dark"), None);
        assert_eq!(Theme::from_cookie_header(""), None);
    }
}
