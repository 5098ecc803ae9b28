//! `/api/v1/tokens`: API tokens for automation.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::Json;
use steward_domain::tokens::{CreatedToken, NewTokenRequest, TokenInfo};
use steward_domain::DomainError;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Api, ApiError, ApiJson, Problem};

/// List API tokens: all of them for admins, their own for owners.
#[utoipa::path(get, path = "/tokens", tag = "tokens",
    responses(
        (status = 200, description = "Tokens, newest first (never their secrets)", body = Vec<TokenInfo>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_tokens(api: Api) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Ok(Json(api.services().tokens.list(api.caller()).await?))
}

/// Create an API token acting as the caller, limited to its scopes. The secret is in
/// the response and never shown again.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = NewTokenRequest,
    responses(
        (status = 201, description = "The token; store `token` now", body = CreatedToken),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    api: Api,
    ApiJson(request): ApiJson<NewTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let created = api.services().tokens.create(api.caller(), &request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revoke an API token: admins any, owners their own. Its identity is retired.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens",
    params(("id" = Uuid, Path, description = "Token id")),
    responses(
        (status = 200, description = "The revoked token", body = TokenInfo),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_token(api: Api, Path(id): Path<String>) -> Result<Json<TokenInfo>, ApiError> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| DomainError::invalid("id", format!("'{id}' is not a token id")))?;
    Ok(Json(api.services().tokens.revoke(api.caller(), id).await?))
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}
