//! The typed error of Steward's server functions.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use steward_domain::DomainError;

/// What a page learns when a server function fails: either the domain's own error
/// (already phrased for people) or a transport failure (network, decoding).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error(transparent)]
    Domain(DomainError),
    #[error("could not reach Steward: {0}")]
    Transport(String),
}

impl From<DomainError> for AppError {
    /// On the server this also gives the response the error's HTTP status (a server
    /// function refusing bad input answers 400, not 500).
    fn from(error: DomainError) -> Self {
        crate::response::set_status(error.http_status());
        AppError::Domain(error)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

/// An id from a URL or form: a UUID, or "not found" naming `what` (a malformed id
/// names nothing that exists).
pub fn parse_uuid(what: &str, id: &str) -> Result<uuid::Uuid, AppError> {
    id.trim()
        .parse()
        .map_err(|_| DomainError::not_found(format!("{what} {id}")).into())
}

/// A page whose data failed to load: the error as an alert, and (on the server) the
/// response carries the error's HTTP status.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    if let AppError::Domain(domain) = &error {
        crate::response::set_status(domain.http_status());
    }
    view! { <div class="notice error" role="alert"><p>{error.to_string()}</p></div> }
}
