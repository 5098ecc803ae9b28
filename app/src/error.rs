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

/// What someone can do about `error`, beside what happened (none where the message
/// already says it, such as a field to correct).
pub fn next_step(error: &AppError) -> Option<&'static str> {
    match error {
        AppError::Domain(DomainError::Internal) => Some(
            "This failed on Steward's side, not because of anything you did. Reload the page in \
             a minute; if it keeps failing, tell your Steward administrator the time it happened.",
        ),
        AppError::Domain(DomainError::Unauthenticated) => {
            Some("Your session has ended. Sign in again to continue.")
        }
        AppError::Domain(DomainError::Forbidden { .. }) => {
            Some("Your role does not allow this. Ask a Steward administrator if you need it.")
        }
        AppError::Domain(DomainError::NotFound { .. }) => {
            Some("It may have been deleted, or the link is wrong. Search for it from the header.")
        }
        AppError::Transport(_) => {
            Some("Check your connection and reload the page; nothing was changed.")
        }
        AppError::Domain(_) => None,
    }
}

/// A page whose data failed to load: what happened and what to do, as an alert; on the
/// server the response carries the error's HTTP status.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    if let AppError::Domain(domain) = &error {
        crate::response::set_status(domain.http_status());
    }
    let step = next_step(&error);
    view! {
        <div class="notice error" role="alert">
            <p>{error.to_string()}</p>
            {step.map(|step| view! { <p class="next-step">{step}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_say_what_to_do_and_input_errors_speak_for_themselves() {
        assert!(next_step(&AppError::Domain(DomainError::Internal))
            .unwrap()
            .contains("Reload"));
        assert!(next_step(&AppError::Transport("offline".into()))
            .unwrap()
            .contains("nothing was changed"));
        assert!(next_step(&AppError::Domain(DomainError::Unauthenticated))
            .unwrap()
            .contains("Sign in"));
        assert_eq!(
            next_step(&AppError::Domain(DomainError::invalid("name", "is empty"))),
            None
        );
    }
}
