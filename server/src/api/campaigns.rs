//! `/api/v1/campaigns` and `/api/v1/reviews`: running access review campaigns,
//! deciding review items, and the evidence pack (JSON and CSV).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use steward_domain::campaigns::{
    evidence_csv, BulkDecision, BulkOutcome, Campaign, CampaignDetail, CampaignOverview,
    CreateCampaign, Decision, Evidence, ItemFilter, ItemPage, ReviewItem, TEMPLATES,
};
use steward_domain::DomainError;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Api, ApiError, ApiJson, ApiPath, ApiQuery, Problem};

/// Every campaign (newest first), progress per control over the open ones, and the
/// overdue items.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns",
    responses(
        (status = 200, body = CampaignOverview),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn overview(api: Api) -> Result<Json<CampaignOverview>, ApiError> {
    Ok(Json(api.ports().campaigns.overview(api.caller()).await?))
}

/// Create a campaign (security team). One whose start has come is launched at once:
/// its scope is snapshotted into review items.
#[utoipa::path(post, path = "/campaigns", tag = "campaigns",
    request_body = CreateCampaign,
    responses(
        (status = 201, body = Campaign),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    api: Api,
    ApiJson(request): ApiJson<CreateCampaign>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let created = api.ports().campaigns.create(api.caller(), &request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Launch a template now, with its defaults (see docs/guide/campaigns.md for the templates).
#[utoipa::path(post, path = "/campaigns/from-template/{template}", tag = "campaigns",
    params(("template" = String, Path, description = "`quarterly-ownership`, `privileged-entitlements`, `agent-tools-delegation` or `long-lived-secrets`")),
    responses(
        (status = 201, body = Campaign),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn from_template(
    api: Api,
    ApiPath(template): ApiPath<String>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let found = TEMPLATES
        .iter()
        .find(|t| t.id == template)
        .ok_or_else(|| DomainError::not_found(format!("campaign template {template}")))?;
    let request = CreateCampaign {
        draft: found.draft(Utc::now()),
        template: Some(found.id.to_owned()),
    };
    let created = api.ports().campaigns.create(api.caller(), &request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One campaign with its progress by reviewer and by team, and its overdue items.
#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CampaignDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn detail(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CampaignDetail>, ApiError> {
    Ok(Json(api.ports().campaigns.detail(api.caller(), id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ItemsQuery {
    /// `all` (default), `undecided`, `decided` or `remediation`.
    pub filter: Option<String>,
    pub offset: Option<u64>,
    /// 1–200, default 50.
    pub limit: Option<u64>,
}

/// A page of a campaign's items, in identity-name order.
#[utoipa::path(get, path = "/campaigns/{id}/items", tag = "campaigns",
    params(("id" = Uuid, Path), ItemsQuery),
    responses(
        (status = 200, body = ItemPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn items(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ItemsQuery>,
) -> Result<Json<ItemPage>, ApiError> {
    let filter: ItemFilter = match query.filter.as_deref() {
        None | Some("") => ItemFilter::default(),
        Some(f) => f.parse()?,
    };
    Ok(Json(
        api.ports()
            .campaigns
            .items(
                api.caller(),
                id,
                filter,
                query.offset.unwrap_or(0),
                query.limit.unwrap_or(50),
            )
            .await?,
    ))
}

/// Close an open campaign: undecided items are kept or revoked as its close policy says.
#[utoipa::path(post, path = "/campaigns/{id}/close", tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Campaign),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn close(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(api.ports().campaigns.close(api.caller(), id).await?))
}

/// The evidence pack: every item with its decision, decider, time and audit hash.
#[utoipa::path(get, path = "/campaigns/{id}/evidence", tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Evidence),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn evidence(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Evidence>, ApiError> {
    Ok(Json(
        api.ports().campaigns.evidence(api.caller(), id).await?,
    ))
}

/// The evidence pack as CSV (one line per item).
#[utoipa::path(get, path = "/campaigns/{id}/evidence.csv", tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn evidence_csv_file(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<Response, ApiError> {
    let evidence = api.ports().campaigns.evidence(api.caller(), id).await?;
    Ok(evidence_response(&evidence))
}

/// The CSV download of an evidence pack (also served to the browser at
/// `/campaigns/{id}/evidence.csv`).
pub fn evidence_response(evidence: &Evidence) -> Response {
    let name = format!(
        "attachment; filename=\"steward-evidence-{}.csv\"",
        evidence.campaign.id
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        evidence_csv(evidence),
    )
        .into_response()
}

/// The caller's undecided items in open campaigns, the soonest due first.
#[utoipa::path(get, path = "/reviews", tag = "campaigns",
    responses(
        (status = 200, body = Vec<ReviewItem>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_reviews(api: Api) -> Result<Json<Vec<ReviewItem>>, ApiError> {
    Ok(Json(api.ports().campaigns.my_reviews(api.caller()).await?))
}

/// Decide one item: certify, revoke, reduce, reassign or expire. What it asks for is
/// carried out at once; `remediation` says whether that worked. 409 when another
/// reviewer decided it first.
#[utoipa::path(post, path = "/reviews/{id}/decision", tag = "campaigns",
    params(("id" = Uuid, Path)),
    request_body = Decision,
    responses(
        (status = 200, body = ReviewItem),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(decision): ApiJson<Decision>,
) -> Result<Json<ReviewItem>, ApiError> {
    Ok(Json(
        api.ports()
            .campaigns
            .decide(api.caller(), id, &decision)
            .await?,
    ))
}

/// The same decision for several items (`confirm` must be true); each is decided on
/// its own and refusals are listed.
#[utoipa::path(post, path = "/reviews/bulk", tag = "campaigns",
    request_body = BulkDecision,
    responses(
        (status = 200, body = BulkOutcome),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide_many(
    api: Api,
    ApiJson(request): ApiJson<BulkDecision>,
) -> Result<Json<BulkOutcome>, ApiError> {
    Ok(Json(
        api.ports()
            .campaigns
            .decide_many(api.caller(), &request)
            .await?,
    ))
}

/// Carry out again a decided item whose change failed (security team).
#[utoipa::path(post, path = "/reviews/{id}/retry", tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ReviewItem),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retry(api: Api, ApiPath(id): ApiPath<Uuid>) -> Result<Json<ReviewItem>, ApiError> {
    Ok(Json(
        api.ports()
            .campaigns
            .retry_remediation(api.caller(), id)
            .await?,
    ))
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(overview, create))
        .routes(routes!(from_template))
        .routes(routes!(detail))
        .routes(routes!(items))
        .routes(routes!(close))
        .routes(routes!(evidence))
        .routes(routes!(evidence_csv_file))
        .routes(routes!(my_reviews))
        .routes(routes!(decide_many))
        .routes(routes!(decide))
        .routes(routes!(retry))
}
