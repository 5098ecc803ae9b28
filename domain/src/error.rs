//! The one error type of the domain and service layer.

use serde::{Deserialize, Serialize};

/// What went wrong in a use case, phrased for the person who caused it.
///
/// Internal failures (database down, a bug) carry no detail here: the server logs the
/// detail and the caller only learns that something failed on our side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DomainError {
    /// A value supplied by the caller is not acceptable; `field` names which one.
    #[error("invalid {field}: {message}")]
    InvalidInput { field: String, message: String },
    /// The thing asked for does not exist (or the caller may not know it exists).
    #[error("{what} not found")]
    NotFound { what: String },
    /// The caller is not signed in.
    #[error("sign-in required")]
    Unauthenticated,
    /// A credential was presented and refused; `reason` says which check failed (an
    /// expired token, a wrong audience, no matching claim rule …).
    #[error("{reason}")]
    CredentialRefused { reason: String },
    /// The caller is signed in but may not do this.
    #[error("not allowed: {reason}")]
    Forbidden { reason: String },
    /// The request conflicts with the current state (e.g. a duplicate).
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// Something failed on Steward's side; details are in the server log.
    #[error("internal error; the details are in the server log")]
    Internal,
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        DomainError::NotFound { what: what.into() }
    }

    /// An unknown value for a closed vocabulary, listing what is accepted.
    pub fn unknown_value(what: &str, got: &str, accepted: &[&str]) -> Self {
        DomainError::invalid(
            what,
            format!(
                "unknown value '{got}'; expected one of: {}",
                accepted.join(", ")
            ),
        )
    }

    /// The HTTP status this error maps to (kept here so the API and the UI agree).
    pub fn http_status(&self) -> u16 {
        match self {
            DomainError::InvalidInput { .. } => 400,
            DomainError::Unauthenticated | DomainError::CredentialRefused { .. } => 401,
            DomainError::Forbidden { .. } => 403,
            DomainError::NotFound { .. } => 404,
            DomainError::Conflict { .. } => 409,
            DomainError::Internal => 500,
        }
    }

    /// A short title for the error class (the `title` of an RFC 9457 problem).
    pub fn title(&self) -> &'static str {
        match self {
            DomainError::InvalidInput { .. } => "Invalid input",
            DomainError::Unauthenticated => "Authentication required",
            DomainError::CredentialRefused { .. } => "Credential refused",
            DomainError::Forbidden { .. } => "Forbidden",
            DomainError::NotFound { .. } => "Not found",
            DomainError::Conflict { .. } => "Conflict",
            DomainError::Internal => "Internal error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_value_lists_accepted_values() {
        let err = DomainError::unknown_value("actor class", "robot", &["machine", "ai"]);
        assert_eq!(
            err.to_string(),
            "invalid actor class: unknown value 'robot'; expected one of: machine, ai"
        );
        assert_eq!(err.http_status(), 400);
    }

    #[test]
    fn internal_error_reveals_nothing() {
        assert_eq!(
            DomainError::Internal.to_string(),
            "internal error; the details are in the server log"
        );
        assert_eq!(DomainError::Internal.http_status(), 500);
    }
}
