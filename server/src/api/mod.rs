//! The versioned REST API under `/api/v1`. Conventions every endpoint follows:
//! JSON bodies, cursor pagination (`cursor` in, `next_cursor` out), errors as
//! `application/problem+json` (RFC 9457) naming what is wrong, and an OpenAPI 3
//! document generated from this code at `/api/v1/openapi.json`.

pub mod identities;
pub mod problem;

use axum::routing::get;
use axum::{Json, Router};
use steward_domain::ports::Ports;
use utoipa::OpenApi;

pub use problem::{ApiError, Problem};

#[derive(Clone)]
pub struct ApiState {
    pub ports: Ports,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward API",
        version = "1",
        description = "Governance of machine and AI identities: inventory, ownership, reviews, just-in-time grants and runtime authorization."
    ),
    paths(identities::list_identities),
    components(schemas(Problem)),
    tags((name = "inventory", description = "The register of machine and AI identities"))
)]
pub struct ApiDoc;

/// The OpenAPI document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}

async fn not_found() -> ApiError {
    ApiError::from(steward_domain::DomainError::not_found("API endpoint"))
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Routes relative to `/api/v1`.
pub fn router<S>(ports: Ports) -> Router<S> {
    Router::new()
        .route("/identities", get(identities::list_identities))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ApiState { ports })
}
