//! Ownership endpoints: assignments (one identity or a filter), the caller's inbox and
//! answers, the orphan queue, and people.

use utoipa_axum::{router::OpenApiRouter, routes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use steward_domain::ownership::{
    AnswerRequest, AssignRequest, Assignment, AssignmentState, BulkAssignRequest, BulkAssignResult,
    DeactivateRequest, DeactivationResult, Inbox, OrphanEntry, PersonInfo,
};
use uuid::Uuid;

use super::{ApiError, ApiJson, ApiPath, ApiQuery, ApiState, Caller, Problem};

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
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<AssignRequest>,
) -> Result<(StatusCode, Json<Assignment>), ApiError> {
    let made = state
        .services
        .ports
        .ownership
        .assign(caller.principal(), id, &request)
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
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(request): ApiJson<BulkAssignRequest>,
) -> Result<Json<BulkAssignResult>, ApiError> {
    Ok(Json(
        state
            .services
            .ports
            .ownership
            .bulk_assign(caller.principal(), &request)
            .await?,
    ))
}

/// The caller's pending assignments and notifications.
#[utoipa::path(get, path = "/inbox", tag = "ownership",
    responses((status = 200, body = Inbox), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn inbox(State(state): State<ApiState>, caller: Caller) -> Result<Json<Inbox>, ApiError> {
    Ok(Json(
        state
            .services
            .ports
            .ownership
            .inbox(caller.principal())
            .await?,
    ))
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
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<AssignmentFilter>,
) -> Result<Json<Vec<Assignment>>, ApiError> {
    let wanted = filter
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(str::parse::<AssignmentState>)
        .transpose()?;
    Ok(Json(
        state
            .services
            .ports
            .ownership
            .list_assignments(caller.principal(), wanted)
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
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(answer): ApiJson<AnswerRequest>,
) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(
        state
            .services
            .ports
            .ownership
            .accept(caller.principal(), id, &answer)
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
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(answer): ApiJson<AnswerRequest>,
) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(
        state
            .services
            .ports
            .ownership
            .dispute(caller.principal(), id, &answer)
            .await?,
    ))
}

/// Identities whose owner left, oldest first, with who should pick each up.
#[utoipa::path(get, path = "/orphans", tag = "ownership",
    responses((status = 200, body = Vec<OrphanEntry>)))]
pub async fn orphans(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<OrphanEntry>>, ApiError> {
    Ok(Json(
        state
            .services
            .ports
            .ownership
            .orphan_queue(caller.principal())
            .await?,
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
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<PeopleFilter>,
) -> Result<Json<Vec<PersonInfo>>, ApiError> {
    Ok(Json(
        state
            .services
            .ports
            .ownership
            .people(caller.principal(), filter.q.as_deref().unwrap_or_default())
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
    State(state): State<ApiState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<DeactivateRequest>,
) -> Result<Json<DeactivationResult>, ApiError> {
    Ok(Json(
        state
            .services
            .ports
            .ownership
            .deactivate_person(caller.principal(), id, &request)
            .await?,
    ))
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<ApiState> {
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
