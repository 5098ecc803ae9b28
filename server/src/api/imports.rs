//! `POST /api/v1/imports`: an inventory file in, a report of what changed (or would).

use axum::body::Body;

use axum::http::StatusCode;
use axum::Json;
use steward_domain::imports::{ImportReport, ImportRequest};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Api, ApiError, ApiQuery, Problem};

/// Import an inventory file (the request body, exactly as the source system wrote it).
/// With `dry_run=true` nothing is written and the report says what would change;
/// otherwise the import is applied in one transaction and recorded as one audit event
/// with its counts and the file's SHA-256.
#[utoipa::path(post, path = "/imports", tag = "imports",
    params(ImportRequest),
    request_body(content = String, description = "The file, as exported by its source", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Dry run: what would change", body = ImportReport),
        (status = 201, description = "Applied", body = ImportReport),
        (status = 400, description = "The file or an option is wrong (names line/record, field and problem)", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import(
    api: Api,
    ApiQuery(request): ApiQuery<ImportRequest>,
    body: Body,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    // Who may import is settled before a byte of the file is read: an anonymous or
    // unauthorised caller cannot make the server buffer up to the size limit.
    steward_domain::auth::authorize(api.caller(), steward_domain::auth::Action::ManageIdentities)?;
    let limit = api.services().import_limits.max_bytes;
    let file = super::capped_body(body, usize::try_from(limit).unwrap_or(usize::MAX), || {
        format!("the file is larger than the limit of {limit} bytes (STEWARD_IMPORT_MAX_BYTES)")
    })
    .await?;
    let report = api
        .ports()
        .imports
        .import(api.caller(), &request, file.into())
        .await?;
    let status = if report.dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(report)))
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        // The import reads its own body, capped by the import limit (not axum's default).
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}
