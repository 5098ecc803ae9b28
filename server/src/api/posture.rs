//! `/api/v1/posture` and an identity's findings: the dashboard's numbers (JSON and
//! CSV), the controls, the report of a day, running an evaluation, and accepting or
//! reopening the risk of a finding.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use steward_domain::posture::catalog::Catalog;
use steward_domain::posture::dashboard::{
    figures_csv, parse_day, ControlStatus, Dashboard, PostureReport, FIGURES_CSV_HEADER,
};
use steward_domain::posture::findings::{
    AcceptRiskRequest, EvaluationReport, Finding, ReopenRequest,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Api, ApiError, ApiJson, ApiPath, Problem};

/// Every finding of an identity (resolved ones too), open first.
#[utoipa::path(get, path = "/identities/{id}/findings", tag = "posture",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<Finding>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn findings_of(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<Finding>>, ApiError> {
    Ok(Json(
        api.ports().posture.findings_of(api.caller(), id).await?,
    ))
}

/// Accept the risk of an open finding until a date (security team).
#[utoipa::path(post, path = "/identities/{id}/findings/{check}/accept", tag = "posture",
    params(("id" = Uuid, Path), ("check" = String, Path, description = "Check id, e.g. `no-expiry`")),
    request_body = AcceptRiskRequest,
    responses(
        (status = 200, body = Finding),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept_risk(
    api: Api,
    ApiPath((id, check)): ApiPath<(Uuid, String)>,
    ApiJson(request): ApiJson<AcceptRiskRequest>,
) -> Result<Json<Finding>, ApiError> {
    Ok(Json(
        api.ports()
            .posture
            .accept_risk(api.caller(), id, &check, &request)
            .await?,
    ))
}

/// End a risk acceptance early: the finding is open again.
#[utoipa::path(post, path = "/identities/{id}/findings/{check}/reopen", tag = "posture",
    params(("id" = Uuid, Path), ("check" = String, Path)),
    request_body = ReopenRequest,
    responses(
        (status = 200, body = Finding),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reopen(
    api: Api,
    ApiPath((id, check)): ApiPath<(Uuid, String)>,
    ApiJson(request): ApiJson<ReopenRequest>,
) -> Result<Json<Finding>, ApiError> {
    Ok(Json(
        api.ports()
            .posture
            .reopen(api.caller(), id, &check, &request)
            .await?,
    ))
}

/// Evaluate every identity now and take the day's snapshot (security team).
#[utoipa::path(post, path = "/posture/evaluate", tag = "posture",
    responses(
        (status = 200, body = EvaluationReport),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn evaluate(api: Api) -> Result<Json<EvaluationReport>, ApiError> {
    Ok(Json(api.ports().posture.evaluate(api.caller()).await?))
}

/// The latest snapshot, the 30-day trend and every control's status.
#[utoipa::path(get, path = "/posture/dashboard", tag = "posture",
    responses(
        (status = 200, body = Dashboard),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn dashboard(api: Api) -> Result<Json<Dashboard>, ApiError> {
    Ok(Json(api.ports().posture.dashboard(api.caller()).await?))
}

/// Every number of the latest snapshot as CSV, with the inventory filter behind it.
#[utoipa::path(get, path = "/posture/dashboard.csv", tag = "posture",
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn dashboard_csv(api: Api) -> Result<Response, ApiError> {
    let dashboard = api.ports().posture.dashboard(api.caller()).await?;
    // Before the first evaluation there are no numbers: the header row alone.
    let (day, csv) = match &dashboard.snapshot {
        Some(snapshot) => (
            snapshot.taken_at.format("%Y-%m-%d").to_string(),
            figures_csv(snapshot, Catalog::shipped()),
        ),
        None => ("none".to_owned(), FIGURES_CSV_HEADER.to_owned()),
    };
    let name = format!("attachment; filename=\"steward-posture-{day}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        csv,
    )
        .into_response())
}

/// Every control of the catalog with the checks covering it and its status.
#[utoipa::path(get, path = "/posture/controls", tag = "posture",
    responses(
        (status = 200, body = Vec<ControlStatus>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn controls(api: Api) -> Result<Json<Vec<ControlStatus>>, ApiError> {
    Ok(Json(
        api.ports().posture.dashboard(api.caller()).await?.controls,
    ))
}

/// The posture as the snapshot of one day recorded it.
#[utoipa::path(get, path = "/posture/reports/{day}", tag = "posture",
    params(("day" = String, Path, description = "YYYY-MM-DD")),
    responses(
        (status = 200, body = PostureReport),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn report(
    api: Api,
    ApiPath(day): ApiPath<String>,
) -> Result<Json<PostureReport>, ApiError> {
    let day = parse_day(&day)?;
    Ok(Json(api.ports().posture.report(api.caller(), day).await?))
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(findings_of))
        .routes(routes!(accept_risk))
        .routes(routes!(reopen))
        .routes(routes!(evaluate))
        .routes(routes!(dashboard))
        .routes(routes!(dashboard_csv))
        .routes(routes!(controls))
        .routes(routes!(report))
}
