//! Runtime authorization: `POST /api/v1/authorize` for agents (with their own API
//! token), agent limits, admin Cedar policies, the test bench and the decision log.

use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use steward_domain::authz::{
    AgentCaller, AgentLimits, AuthorizeRequest, AuthorizeResponse, AuthzPolicy, AuthzPolicyDraft,
    CompiledPolicy, DecisionRecord, MonitorReport,
};
use steward_domain::federation::ModeChange;
use steward_domain::sensitivity::{
    RegisteredSensitivity, SensitivityDraft, SensitivityImport, SensitivityScope,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::web::auth::JwtBearer;
use crate::web::QuietLog;

use super::{Api, ApiError, ApiJson, ApiPath, ApiQuery, Problem};

/// Decide whether an agent may do something now. Ask with a token made for the agent
/// (scope `authz:decide`), the agent's just-in-time grant credential (the JWT from
/// `/api/v1/grants/{id}/credential`) or a token its platform issued that a trust
/// configuration accepts; `principal` must be that agent. A refused credential gets
/// 401 naming the check that failed.
#[utoipa::path(post, path = "/authorize", tag = "authorization", request_body = AuthorizeRequest,
    responses((status = 200, body = AuthorizeResponse), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn authorize(
    api: Api,
    credential: Option<Extension<JwtBearer>>,
    ApiJson(request): ApiJson<AuthorizeRequest>,
) -> Result<(Extension<QuietLog>, Json<AuthorizeResponse>), ApiError> {
    let agent = match &credential {
        Some(Extension(JwtBearer(jwt))) => AgentCaller::Jwt(jwt),
        None => AgentCaller::Token(api.caller()),
    };
    let decided = api.ports().authz.authorize(agent, &request).await?;
    Ok((Extension(QuietLog), Json(decided)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MonitorQuery {
    /// How many days back (1–90, default 7).
    pub days: Option<u32>,
}

/// What enforcing an agent's policy set (and the trust configurations covering it)
/// would have denied over the last days.
#[utoipa::path(get, path = "/identities/{id}/monitor", tag = "authorization", params(("id" = Uuid, Path), MonitorQuery),
    responses((status = 200, body = MonitorReport), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn monitored(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<MonitorQuery>,
) -> Result<Json<MonitorReport>, ApiError> {
    Ok(Json(
        api.ports()
            .authz
            .monitored(api.caller(), id, query.days.unwrap_or(7))
            .await?,
    ))
}

/// Switch an agent's policy set between `monitor` (decisions logged as would-deny,
/// requests allowed) and `enforce` (security team); audited with the reason.
#[utoipa::path(put, path = "/identities/{id}/authz-mode", tag = "authorization", params(("id" = Uuid, Path)), request_body = ModeChange,
    responses((status = 200, body = MonitorReport), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn set_mode(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(change): ApiJson<ModeChange>,
) -> Result<Json<MonitorReport>, ApiError> {
    Ok(Json(
        api.ports()
            .authz
            .set_mode(api.caller(), id, &change)
            .await?,
    ))
}

/// Evaluate a hypothetical request without counting or logging it.
#[utoipa::path(post, path = "/authz/test-bench", tag = "authorization", request_body = AuthorizeRequest,
    responses((status = 200, body = AuthorizeResponse), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn test_bench(
    api: Api,
    ApiJson(request): ApiJson<AuthorizeRequest>,
) -> Result<Json<AuthorizeResponse>, ApiError> {
    Ok(Json(
        api.ports().authz.test_bench(api.caller(), &request).await?,
    ))
}

/// The limits set on an identity.
#[utoipa::path(get, path = "/identities/{id}/limits", tag = "authorization", params(("id" = Uuid, Path)),
    responses((status = 200, body = AgentLimits), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn limits(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<Json<AgentLimits>, ApiError> {
    Ok(Json(api.ports().authz.limits(api.caller(), id).await?))
}

/// Replace the limits of an identity (security team).
#[utoipa::path(put, path = "/identities/{id}/limits", tag = "authorization", params(("id" = Uuid, Path)), request_body = AgentLimits,
    responses((status = 200, body = AgentLimits), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn set_limits(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(limits): ApiJson<AgentLimits>,
) -> Result<Json<AgentLimits>, ApiError> {
    Ok(Json(
        api.ports()
            .authz
            .set_limits(api.caller(), id, &limits)
            .await?,
    ))
}

/// Every policy an identity is decided with: built-in, compiled from its limits,
/// entitlements and delegations, and the admin policies that apply to it.
#[utoipa::path(get, path = "/identities/{id}/authz-policies", tag = "authorization", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<CompiledPolicy>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn compiled(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<CompiledPolicy>>, ApiError> {
    Ok(Json(api.ports().authz.compiled(api.caller(), id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DecisionsQuery {
    /// Only decisions before this time (the next page).
    pub before: Option<DateTime<Utc>>,
}

/// An identity's decisions, newest first (100 a page).
#[utoipa::path(get, path = "/identities/{id}/decisions", tag = "authorization", params(("id" = Uuid, Path), DecisionsQuery),
    responses((status = 200, body = Vec<DecisionRecord>)))]
pub async fn decisions(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DecisionsQuery>,
) -> Result<Json<Vec<DecisionRecord>>, ApiError> {
    Ok(Json(
        api.ports()
            .authz
            .decisions(api.caller(), id, query.before)
            .await?,
    ))
}

/// Admin Cedar policies.
#[utoipa::path(get, path = "/authz-policies", tag = "authorization",
    responses((status = 200, body = Vec<AuthzPolicy>)))]
pub async fn policies(api: Api) -> Result<Json<Vec<AuthzPolicy>>, ApiError> {
    Ok(Json(api.ports().authz.policies(api.caller()).await?))
}

/// Add a Cedar policy (security team); validated against the schema.
#[utoipa::path(post, path = "/authz-policies", tag = "authorization", request_body = AuthzPolicyDraft,
    responses((status = 201, body = AuthzPolicy), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_policy(
    api: Api,
    ApiJson(draft): ApiJson<AuthzPolicyDraft>,
) -> Result<(StatusCode, Json<AuthzPolicy>), ApiError> {
    let created = api
        .ports()
        .authz
        .save_policy(api.caller(), None, &draft)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Replace a Cedar policy (security team).
#[utoipa::path(put, path = "/authz-policies/{id}", tag = "authorization", params(("id" = Uuid, Path)), request_body = AuthzPolicyDraft,
    responses((status = 200, body = AuthzPolicy), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn update_policy(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<AuthzPolicyDraft>,
) -> Result<Json<AuthzPolicy>, ApiError> {
    Ok(Json(
        api.ports()
            .authz
            .save_policy(api.caller(), Some(id), &draft)
            .await?,
    ))
}

/// Delete a Cedar policy (security team).
#[utoipa::path(delete, path = "/authz-policies/{id}", tag = "authorization", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_policy(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    api.ports().authz.delete_policy(api.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The registered data sensitivities of datasets, tools and environments (an
/// environment's applies to its datasets and tools that have none; a resource with
/// neither counts as `restricted`).
#[utoipa::path(get, path = "/sensitivities", tag = "authorization",
    responses((status = 200, body = Vec<RegisteredSensitivity>)))]
pub async fn sensitivities(api: Api) -> Result<Json<Vec<RegisteredSensitivity>>, ApiError> {
    Ok(Json(api.ports().authz.sensitivities(api.caller()).await?))
}

/// Register (or change) the data sensitivity of a dataset, tool or environment
/// (security team); decisions use it whatever the request says, unless the request
/// says higher.
#[utoipa::path(put, path = "/sensitivities", tag = "authorization", request_body = SensitivityDraft,
    responses((status = 200, body = RegisteredSensitivity), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn set_sensitivity(
    api: Api,
    ApiJson(draft): ApiJson<SensitivityDraft>,
) -> Result<Json<RegisteredSensitivity>, ApiError> {
    Ok(Json(
        api.ports()
            .authz
            .set_sensitivity(api.caller(), &draft)
            .await?,
    ))
}

/// Options of a sensitivity import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SensitivityImportQuery {
    /// Only report what would change.
    #[serde(default)]
    pub dry_run: bool,
}

/// The largest sensitivity file accepted (bytes): 10,000 entries fit easily.
const MAX_SENSITIVITY_FILE: usize = 2 * 1024 * 1024;

/// Import a sensitivity register (CSV with the columns `scope,id,sensitivity`, as a data
/// catalogue exports it; security team). Every entry is checked first (an error names
/// its line), then all are written in one transaction with one audit event.
#[utoipa::path(post, path = "/sensitivities/import", tag = "authorization",
    params(SensitivityImportQuery),
    request_body(content = String, description = "The CSV file", content_type = "text/csv"),
    responses((status = 200, description = "Dry run: what would change", body = SensitivityImport),
        (status = 201, description = "Applied", body = SensitivityImport),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json")))]
pub async fn import_sensitivities(
    api: Api,
    ApiQuery(query): ApiQuery<SensitivityImportQuery>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<SensitivityImport>), ApiError> {
    // Authorised before a byte of the body is read.
    steward_domain::auth::authorize(api.caller(), steward_domain::auth::Action::ManageIdentities)?;
    let file = super::capped_body(body, MAX_SENSITIVITY_FILE, || {
        format!("the file is larger than {MAX_SENSITIVITY_FILE} bytes")
    })
    .await?;
    let text = std::str::from_utf8(&file).map_err(|_| {
        ApiError::from(steward_domain::DomainError::invalid(
            "file",
            "the file is not UTF-8 text",
        ))
    })?;
    let plan = api
        .ports()
        .authz
        .import_sensitivities(api.caller(), text, query.dry_run)
        .await?;
    let status = if plan.dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(plan)))
}

/// Remove a registered sensitivity (security team).
#[utoipa::path(delete, path = "/sensitivities/{scope}/{id}", tag = "authorization",
    params(("scope" = String, Path, description = "dataset, tool or environment"), ("id" = String, Path)),
    responses((status = 204), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_sensitivity(
    api: Api,
    ApiPath((scope, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope: SensitivityScope = scope.parse()?;
    api.ports()
        .authz
        .delete_sensitivity(api.caller(), scope, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(authorize))
        .routes(routes!(test_bench))
        .routes(routes!(limits, set_limits))
        .routes(routes!(compiled))
        .routes(routes!(decisions))
        .routes(routes!(policies, create_policy))
        .routes(routes!(update_policy, delete_policy))
        .routes(routes!(monitored))
        .routes(routes!(set_mode))
        .routes(routes!(sensitivities, set_sensitivity))
        .routes(routes!(import_sensitivities))
        .routes(routes!(delete_sensitivity))
}
