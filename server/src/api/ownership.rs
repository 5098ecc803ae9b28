//! Ownership endpoints: assignments (one identity or a filter), the caller's inbox and
//! answers, the orphan queue, and people.

use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use steward_domain::ownership::{
    AnswerRequest, AssignRequest, Assignment, AssignmentState, BulkAssignRequest, BulkAssignResult,
    DeactivateRequest, DeactivationResult, Inbox, OrphanEntry, PersonInfo,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Api, ApiError, ApiJson, ApiPath, ApiQuery, Problem};

/// Assign an owner or sponsor to one identity, with a reason. The assignee answers in
/// their inbox.
#[utoipa::path(post, path = "/identities/{id}/assignments", tag = "ownership",
    params(("id" = Uuid, Path)), request_body = AssignRequest,
    responses(
        (status = 201, body = Assignment),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already assigned to this person, or retired", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn assign(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<AssignRequest>,
) -> Result<(StatusCode, Json<Assignment>), ApiError> {
    let made = api
        .ports()
        .ownership
        .assign(api.caller(), id, &request)
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Assign an owner or sponsor to every identity of an inventory filter (at most
/// 10 000), in one transaction. Give `expected_count` to refuse the change when the
/// filter no longer matches what you reviewed.
#[utoipa::path(post, path = "/identities/assign", tag = "ownership",
    request_body = BulkAssignRequest,
    responses(
        (status = 200, body = BulkAssignResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The filter's count changed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bulk_assign(
    api: Api,
    ApiJson(request): ApiJson<BulkAssignRequest>,
) -> Result<Json<BulkAssignResult>, ApiError> {
    Ok(Json(
        api.ports()
            .ownership
            .bulk_assign(api.caller(), &request)
            .await?,
    ))
}

/// The caller's pending assignments and notifications.
#[utoipa::path(get, path = "/inbox", tag = "ownership",
    responses((status = 200, body = Inbox), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn inbox(api: Api) -> Result<Json<Inbox>, ApiError> {
    Ok(Json(api.ports().ownership.inbox(api.caller()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentFilter {
    state: Option<String>,
}

/// Assignments, newest first (admins: everyone's; others: their own).
#[utoipa::path(get, path = "/assignments", tag = "ownership",
    params(("state" = Option<String>, Query, description = "`pending`, `accepted`, `disputed` or `superseded`")),
    responses((status = 200, body = Vec<Assignment>), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_assignments(
    api: Api,
    ApiQuery(filter): ApiQuery<AssignmentFilter>,
) -> Result<Json<Vec<Assignment>>, ApiError> {
    let wanted = filter
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(str::parse::<AssignmentState>)
        .transpose()?;
    Ok(Json(
        api.ports()
            .ownership
            .list_assignments(api.caller(), wanted)
            .await?,
    ))
}

/// Accept an assignment made to the caller.
#[utoipa::path(post, path = "/assignments/{id}/accept", tag = "ownership",
    params(("id" = Uuid, Path)), request_body = AnswerRequest,
    responses(
        (status = 200, body = Assignment),
        (status = 403, description = "Not the assignee", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered or replaced", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(answer): ApiJson<AnswerRequest>,
) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(
        api.ports()
            .ownership
            .accept(api.caller(), id, &answer)
            .await?,
    ))
}

/// Dispute an assignment made to the caller; a note saying why is required.
#[utoipa::path(post, path = "/assignments/{id}/dispute", tag = "ownership",
    params(("id" = Uuid, Path)), request_body = AnswerRequest,
    responses(
        (status = 200, body = Assignment),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn dispute(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(answer): ApiJson<AnswerRequest>,
) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(
        api.ports()
            .ownership
            .dispute(api.caller(), id, &answer)
            .await?,
    ))
}

/// Identities whose owner left, oldest first, with who should pick each up.
#[utoipa::path(get, path = "/orphans", tag = "ownership",
    responses((status = 200, body = Vec<OrphanEntry>)))]
pub async fn orphans(api: Api) -> Result<Json<Vec<OrphanEntry>>, ApiError> {
    Ok(Json(
        api.ports().ownership.orphan_queue(api.caller()).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeopleFilter {
    q: Option<String>,
}

/// People whose name or email contains `q`, with how many identities they own.
#[utoipa::path(get, path = "/people", tag = "ownership",
    params(("q" = Option<String>, Query)),
    responses((status = 200, body = Vec<PersonInfo>)))]
pub async fn people(
    api: Api,
    ApiQuery(filter): ApiQuery<PeopleFilter>,
) -> Result<Json<Vec<PersonInfo>>, ApiError> {
    Ok(Json(
        api.ports()
            .ownership
            .people(api.caller(), filter.q.as_deref().unwrap_or_default())
            .await?,
    ))
}

/// Deactivate a person who has left (admins, or a token with `people:write`): they can
/// no longer sign in, what they own goes to the orphan queue, their sponsors are told.
#[utoipa::path(post, path = "/people/{id}/deactivate", tag = "ownership",
    params(("id" = Uuid, Path)), request_body = DeactivateRequest,
    responses(
        (status = 200, body = DeactivationResult),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already deactivated", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn deactivate(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<DeactivateRequest>,
) -> Result<Json<DeactivationResult>, ApiError> {
    Ok(Json(
        api.ports()
            .ownership
            .deactivate_person(api.caller(), id, &request)
            .await?,
    ))
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(bulk_assign))
        .routes(routes!(assign))
        .routes(routes!(inbox))
        .routes(routes!(list_assignments))
        .routes(routes!(accept))
        .routes(routes!(dispute))
        .routes(routes!(orphans))
        .routes(routes!(people))
        .routes(routes!(deactivate))
}
