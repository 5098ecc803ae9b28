//! Errors as RFC 9457 problem details.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use steward_domain::DomainError;
use utoipa::ToSchema;

/// An RFC 9457 problem document, served as `application/problem+json`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and title say what kind of problem it is.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, phrased for the person who sent the request.
    pub detail: String,
    /// For invalid input: which parameter or field is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error leaving the API.
#[derive(Debug)]
pub struct ApiError(Problem);

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError(Problem {
            problem_type: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
        })
    }

    pub fn method_not_allowed() -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "this endpoint does not accept that HTTP method",
        )
    }

    pub fn problem(&self) -> &Problem {
        &self.0
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let field = match &error {
            DomainError::InvalidInput { field, .. } => Some(field.clone()),
            _ => None,
        };
        ApiError(Problem {
            problem_type: "about:blank".into(),
            title: error.title().into(),
            status: error.http_status(),
            detail: error.to_string(),
            field,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            serde_json::to_string(&self.0).unwrap_or_default(),
        )
            .into_response()
    }
}
