//! The versioned REST API under `/api/v1`. Conventions every endpoint follows:
//! JSON bodies, cursor pagination (`cursor`/`before` in, `next_cursor`/`next_before`
//! out), errors as `application/problem+json` (RFC 9457) naming what is wrong,
//! `Authorization: Bearer <token>` for automation, and an OpenAPI 3 document generated
//! from this code at `/api/v1/openapi.json`.

pub mod audit;
pub mod identities;
pub mod problem;
pub mod tokens;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use steward_domain::auth::{CurrentPrincipal, Principal};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub use problem::{ApiError, Problem};

use crate::services::Services;

#[derive(Clone)]
pub struct ApiState {
    pub services: Services,
}

/// The caller of an API request (`None`: anonymous), as resolved by the auth layer.
pub struct Caller(pub Option<Principal>);

impl Caller {
    pub fn principal(&self) -> Option<&Principal> {
        self.0.as_ref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller(
            parts
                .extensions
                .get::<CurrentPrincipal>()
                .and_then(|p| p.0.clone()),
        ))
    }
}

/// A JSON body whose rejections are problem documents naming what is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::from(steward_domain::DomainError::invalid(
                "body",
                rejection.body_text(),
            ))),
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward API",
        version = "1",
        description = "Governance of machine and AI identities: inventory, ownership, reviews, just-in-time grants and runtime authorization. Authenticate with `Authorization: Bearer <API token>`."
    ),
    paths(
        identities::list_identities,
        tokens::list_tokens,
        tokens::create_token,
        tokens::revoke_token,
        audit::list_audit,
        audit::verify_audit,
        audit::export_audit,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "inventory", description = "The register of machine and AI identities"),
        (name = "tokens", description = "API tokens for automation"),
        (name = "audit", description = "The tamper-evident audit trail"),
    )
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

/// Every API route as (method, path): the authorization matrix test checks that each
/// one is covered.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/identities"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"),
    ("GET", "/api/v1/audit/export.csv"),
    ("GET", "/api/v1/openapi.json"),
];

/// Routes relative to `/api/v1`.
pub fn router<S>(services: Services) -> Router<S> {
    Router::new()
        .route("/identities", get(identities::list_identities))
        .route(
            "/tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route("/tokens/{id}", delete(tokens::revoke_token))
        .route("/audit", get(audit::list_audit))
        .route("/audit/verify", get(audit::verify_audit))
        .route("/audit/export.csv", get(audit::export_audit))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ApiState { services })
}
