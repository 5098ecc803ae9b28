//! Workload identity federation: trust configurations (security team), a token check,
//! how an identity proves itself, and RFC 8693 token exchange at `POST /api/v1/token`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use steward_domain::federation::{
    ModeChange, ProofOfIdentity, TokenCheck, TrustConfig, TrustConfigDraft,
};
use steward_domain::ports::TokenExchange;
use steward_domain::DomainError;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Api, ApiError, ApiJson, ApiPath, Problem};
use crate::services::federation::JWT_TOKEN_TYPE;

/// Trust configurations, by name.
#[utoipa::path(get, path = "/trust-configs", tag = "federation",
    responses((status = 200, body = Vec<TrustConfig>)))]
pub async fn list(api: Api) -> Result<Json<Vec<TrustConfig>>, ApiError> {
    Ok(Json(
        api.ports().federation.trust_configs(api.caller()).await?,
    ))
}

/// Add a trust configuration (security team): its claim rules are validated (explicit,
/// no wildcards; a CI rule names its repository and a branch or environment), its keys
/// fetched or parsed and the identities it maps to checked.
#[utoipa::path(post, path = "/trust-configs", tag = "federation", request_body = TrustConfigDraft,
    responses((status = 201, body = TrustConfig), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    api: Api,
    ApiJson(draft): ApiJson<TrustConfigDraft>,
) -> Result<(StatusCode, Json<TrustConfig>), ApiError> {
    let created = api
        .ports()
        .federation
        .save_trust_config(api.caller(), None, &draft)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Replace a trust configuration (security team).
#[utoipa::path(put, path = "/trust-configs/{id}", tag = "federation", params(("id" = Uuid, Path)), request_body = TrustConfigDraft,
    responses((status = 200, body = TrustConfig), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<TrustConfigDraft>,
) -> Result<Json<TrustConfig>, ApiError> {
    Ok(Json(
        api.ports()
            .federation
            .save_trust_config(api.caller(), Some(id), &draft)
            .await?,
    ))
}

/// Delete a trust configuration (security team).
#[utoipa::path(delete, path = "/trust-configs/{id}", tag = "federation", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    api.ports()
        .federation
        .delete_trust_config(api.caller(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Switch a trust configuration between `monitor` (static secrets of the identities
/// it covers still work, logged as would-deny) and `enforce` (they are refused).
#[utoipa::path(put, path = "/trust-configs/{id}/mode", tag = "federation", params(("id" = Uuid, Path)), request_body = ModeChange,
    responses((status = 200, body = TrustConfig), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn set_mode(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(change): ApiJson<ModeChange>,
) -> Result<Json<TrustConfig>, ApiError> {
    Ok(Json(
        api.ports()
            .federation
            .set_trust_mode(api.caller(), id, &change)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub token: String,
}

/// Which identity a workload token proves, or exactly why it is refused. Nothing is
/// logged or kept.
#[utoipa::path(post, path = "/trust-configs/check", tag = "federation", request_body = CheckRequest,
    responses((status = 200, body = TokenCheck)))]
pub async fn check(
    api: Api,
    ApiJson(request): ApiJson<CheckRequest>,
) -> Result<Json<TokenCheck>, ApiError> {
    Ok(Json(
        api.ports()
            .federation
            .check_token(api.caller(), &request.token)
            .await?,
    ))
}

/// How an identity proves what it is: the trust configurations covering it, and the
/// static secrets it still holds.
#[utoipa::path(get, path = "/identities/{id}/proof", tag = "federation", params(("id" = Uuid, Path)),
    responses((status = 200, body = ProofOfIdentity)))]
pub async fn proof(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ProofOfIdentity>, ApiError> {
    Ok(Json(
        api.ports().federation.proof_of(api.caller(), id).await?,
    ))
}

/// The answer of a successful exchange (RFC 8693 §2.2.1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExchangeResponse {
    pub access_token: String,
    pub issued_token_type: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
}

/// An OAuth error (RFC 6749 §5.2) in a problem document: `error` and
/// `error_description` as OAuth clients read them, `detail` as the rest of the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthProblem {
    #[serde(flatten)]
    pub problem: Problem,
    pub error: String,
    pub error_description: String,
}

fn oauth_error(error: DomainError) -> Response {
    let code = match &error {
        DomainError::InvalidInput { field, .. } if field == "grant_type" => {
            "unsupported_grant_type"
        }
        DomainError::InvalidInput { .. } => "invalid_request",
        DomainError::CredentialRefused { .. }
        | DomainError::Conflict { .. }
        | DomainError::NotFound { .. } => "invalid_grant",
        DomainError::Forbidden { .. } => "invalid_target",
        DomainError::Unauthenticated => "invalid_client",
        DomainError::Internal => "server_error",
    };
    // A refused subject token is a bad grant in OAuth's terms: 400, not 401.
    let status = match &error {
        DomainError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut problem = ApiError::from(error).problem().clone();
    problem.status = status.as_u16();
    problem.title = status.canonical_reason().unwrap_or("Error").into();
    let body = OAuthProblem {
        error: code.into(),
        error_description: problem.detail.clone(),
        problem,
    };
    (
        status,
        [
            (axum::http::header::CONTENT_TYPE, "application/problem+json"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        serde_json::to_string(&body).unwrap_or_default(),
    )
        .into_response()
}

/// RFC 8693 token exchange: a workload presents the token its platform issued
/// (`subject_token`, a JWT a trust configuration accepts) and receives a short-lived
/// Steward credential for its active just-in-time grant (`resource` =
/// `urn:steward:grant:<id>`, or its only active grant). Form-encoded; no other
/// authentication. Errors are RFC 6749 `error` codes inside a problem document.
#[utoipa::path(post, path = "/token", tag = "federation",
    request_body(content = TokenExchange, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = ExchangeResponse),
        (status = 400, body = OAuthProblem, content_type = "application/problem+json")))]
pub async fn exchange(
    api: Api,
    form: Result<axum::Form<TokenExchange>, axum::extract::rejection::FormRejection>,
) -> Response {
    let request = match form {
        Ok(axum::Form(request)) => request,
        Err(rejection) => {
            return oauth_error(DomainError::invalid("request", rejection.body_text()));
        }
    };
    match api.ports().federation.exchange(&request).await {
        Ok(issued) => (
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            Json(ExchangeResponse {
                access_token: issued.access_token,
                issued_token_type: JWT_TOKEN_TYPE.into(),
                token_type: issued.token_type,
                expires_in: issued.expires_in,
                scope: issued.scope,
            }),
        )
            .into_response(),
        Err(error) => oauth_error(error),
    }
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(check))
        .routes(routes!(update, delete))
        .routes(routes!(set_mode))
        .routes(routes!(proof))
        .routes(routes!(exchange))
}
