//! `/api/v1/grants` and `/api/v1/grant-policies`: just-in-time grants for people,
//! agents and pipelines (with their own API token), and their eligibility policies.

use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use steward_domain::grants::{
    EligibleEntitlement, EndRequest, ExtendRequest, Grant, GrantList, GrantRequest, GrantView,
    Introspection, IssuedCredential, Policy, PolicyDraft,
};
use steward_domain::DomainError;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Api, ApiError, ApiJson, ApiPath, ApiQuery, Problem};

/// Active eligibility policies.
#[utoipa::path(get, path = "/grant-policies", tag = "grants",
    responses((status = 200, body = Vec<Policy>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn policies(api: Api) -> Result<Json<Vec<Policy>>, ApiError> {
    Ok(Json(api.ports().grants.policies(api.caller()).await?))
}

/// Create an eligibility policy (security team).
#[utoipa::path(post, path = "/grant-policies", tag = "grants", request_body = PolicyDraft,
    responses((status = 201, body = Policy), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn create_policy(
    api: Api,
    ApiJson(draft): ApiJson<PolicyDraft>,
) -> Result<(StatusCode, Json<Policy>), ApiError> {
    let created = api
        .ports()
        .grants
        .create_policy(api.caller(), &draft)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Replace a policy (security team).
#[utoipa::path(put, path = "/grant-policies/{id}", tag = "grants", params(("id" = Uuid, Path)), request_body = PolicyDraft,
    responses((status = 200, body = Policy), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn update_policy(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<PolicyDraft>,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(
        api.ports()
            .grants
            .update_policy(api.caller(), id, &draft)
            .await?,
    ))
}

/// Delete a policy: no new requests under it (its grants are kept).
#[utoipa::path(delete, path = "/grant-policies/{id}", tag = "grants", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_policy(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    api.ports().grants.delete_policy(api.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The identity's just-in-time entitlements a policy makes requestable.
#[utoipa::path(get, path = "/identities/{id}/eligible", tag = "grants", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<EligibleEntitlement>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn eligible(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<EligibleEntitlement>>, ApiError> {
    Ok(Json(api.ports().grants.eligible(api.caller(), id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GrantsQuery {
    /// `active` (default), `mine` or `to_approve`.
    pub list: Option<String>,
    /// Active grants of this identity.
    pub identity: Option<Uuid>,
    /// Active grants of identities this person (email) owns or sponsors.
    pub owner: Option<String>,
    /// Active grants expiring within this many minutes.
    pub expiring_minutes: Option<u32>,
}

/// Grants: the active ones (filtered), the caller's requests, or those the caller can approve.
#[utoipa::path(get, path = "/grants", tag = "grants", params(GrantsQuery),
    responses((status = 200, body = Vec<Grant>), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    api: Api,
    ApiQuery(query): ApiQuery<GrantsQuery>,
) -> Result<Json<Vec<Grant>>, ApiError> {
    let list = match query.list.as_deref().unwrap_or("active") {
        "active" => GrantList::Active {
            identity: query.identity,
            owner: query.owner,
            expiring_minutes: query.expiring_minutes,
        },
        "mine" => GrantList::Mine,
        "to_approve" => GrantList::ToApprove,
        other => {
            return Err(DomainError::unknown_value(
                "list",
                other,
                &["active", "mine", "to_approve"],
            )
            .into())
        }
    };
    Ok(Json(api.ports().grants.list(api.caller(), list).await?))
}

/// Request a grant of a just-in-time entitlement; `201` with the grant, active at once
/// when its policy approves automatically.
#[utoipa::path(post, path = "/grants", tag = "grants", request_body = GrantRequest,
    responses((status = 201, body = Grant), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn request(
    api: Api,
    ApiJson(request): ApiJson<GrantRequest>,
) -> Result<(StatusCode, Json<Grant>), ApiError> {
    let grant = api.ports().grants.request(api.caller(), &request).await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// One grant with its timeline.
#[utoipa::path(get, path = "/grants/{id}", tag = "grants", params(("id" = Uuid, Path)),
    responses((status = 200, body = GrantView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn view(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<Json<GrantView>, ApiError> {
    Ok(Json(api.ports().grants.view(api.caller(), id).await?))
}

/// Approve a pending grant.
#[utoipa::path(post, path = "/grants/{id}/approve", tag = "grants", params(("id" = Uuid, Path)),
    responses((status = 200, body = Grant), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn approve(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Grant>, ApiError> {
    Ok(Json(api.ports().grants.approve(api.caller(), id).await?))
}

/// Deny a pending grant, with the reason.
#[utoipa::path(post, path = "/grants/{id}/deny", tag = "grants", params(("id" = Uuid, Path)), request_body = EndRequest,
    responses((status = 200, body = Grant), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn deny(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<EndRequest>,
) -> Result<Json<Grant>, ApiError> {
    Ok(Json(
        api.ports().grants.deny(api.caller(), id, &request).await?,
    ))
}

/// Withdraw one's own pending request.
#[utoipa::path(post, path = "/grants/{id}/cancel", tag = "grants", params(("id" = Uuid, Path)),
    responses((status = 200, body = Grant), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn cancel(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Grant>, ApiError> {
    Ok(Json(api.ports().grants.cancel(api.caller(), id).await?))
}

/// Give an active grant more minutes, within its policy's maximum from approval.
#[utoipa::path(post, path = "/grants/{id}/extend", tag = "grants", params(("id" = Uuid, Path)), request_body = ExtendRequest,
    responses((status = 200, body = Grant), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn extend(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<ExtendRequest>,
) -> Result<Json<Grant>, ApiError> {
    Ok(Json(
        api.ports()
            .grants
            .extend(api.caller(), id, &request)
            .await?,
    ))
}

/// End an active grant now, with the reason.
#[utoipa::path(post, path = "/grants/{id}/revoke", tag = "grants", params(("id" = Uuid, Path)), request_body = EndRequest,
    responses((status = 200, body = Grant), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<EndRequest>,
) -> Result<Json<Grant>, ApiError> {
    Ok(Json(
        api.ports()
            .grants
            .revoke(api.caller(), id, &request)
            .await?,
    ))
}

/// A signed short-lived credential (EdDSA JWT) for an active grant: `sub` is the
/// identity's SPIFFE ID (or `steward:identity:<id>`), `scope` the entitlement, `exp` at
/// most 15 minutes away and never after the grant ends. Verify it with
/// `/.well-known/jwks.json`.
#[utoipa::path(post, path = "/grants/{id}/credential", tag = "grants", params(("id" = Uuid, Path)),
    responses((status = 201, body = IssuedCredential), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn credential(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<IssuedCredential>), ApiError> {
    let issued = api.ports().grants.credential(api.caller(), id).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// A form with the token (RFC 7662 and RFC 7009 requests).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    pub token: String,
    /// Accepted and ignored (there is one kind of token).
    pub token_type_hint: Option<String>,
}

/// Token introspection (RFC 7662): `{"active": true, …}` while the credential's grant is
/// active and the credential was not revoked; `{"active": false}` otherwise.
#[utoipa::path(post, path = "/oauth/introspect", tag = "grants",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Introspection), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn introspect(
    api: Api,
    form: Result<axum::Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<Json<Introspection>, ApiError> {
    let axum::Form(form) = form.map_err(|e| DomainError::invalid("token", e.body_text()))?;
    Ok(Json(
        api.ports()
            .grants
            .introspect(api.caller(), &form.token)
            .await?,
    ))
}

/// Token revocation (RFC 7009): the credential is inactive at once. Unknown tokens are
/// not an error.
#[utoipa::path(post, path = "/oauth/revoke", tag = "grants",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_credential(
    api: Api,
    form: Result<axum::Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<StatusCode, ApiError> {
    let axum::Form(form) = form.map_err(|e| DomainError::invalid("token", e.body_text()))?;
    api.ports()
        .grants
        .revoke_credential(api.caller(), &form.token)
        .await?;
    Ok(StatusCode::OK)
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(policies, create_policy))
        .routes(routes!(update_policy, delete_policy))
        .routes(routes!(eligible))
        .routes(routes!(list, request))
        .routes(routes!(view))
        .routes(routes!(approve))
        .routes(routes!(deny))
        .routes(routes!(cancel))
        .routes(routes!(extend))
        .routes(routes!(revoke))
        .routes(routes!(credential))
        .routes(routes!(introspect))
        .routes(routes!(revoke_credential))
}
