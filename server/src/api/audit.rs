//! `/api/v1/audit`: the audit trail, its verification and CSV export.

use axum::body::Body;
use axum::extract::RawQuery;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use steward_domain::audit::{audit_csv_header, audit_csv_line, AuditPage, AuditQuery, ChainReport};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Api, ApiError, Problem};

/// Audit events, newest first, filtered.
#[utoipa::path(get, path = "/audit", tag = "audit",
    params(
        ("actor" = Option<String>, Query, description = "Exact actor, e.g. `user:ada@example.com`"),
        ("action" = Option<String>, Query, description = "Exact action, e.g. `auth.login_failed`"),
        ("target" = Option<String>, Query, description = "Exact target, e.g. `token:<id>`"),
        ("since" = Option<String>, Query, description = "From this time (RFC 3339 or YYYY-MM-DD)"),
        ("until" = Option<String>, Query, description = "Before this time"),
        ("before" = Option<i64>, Query, description = "The `next_before` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1–1000 (default 100)"),
    ),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_audit(api: Api, RawQuery(query): RawQuery) -> Result<Json<AuditPage>, ApiError> {
    let query = AuditQuery::from_query_string(query.as_deref().unwrap_or_default())?;
    Ok(Json(api.ports().audit.list(api.caller(), &query).await?))
}

/// Re-check the hash chain; `first_broken` names the first event that does not fit.
#[utoipa::path(get, path = "/audit/verify", tag = "audit",
    responses(
        (status = 200, body = ChainReport),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_audit(api: Api) -> Result<Json<ChainReport>, ApiError> {
    Ok(Json(api.ports().audit.verify(api.caller()).await?))
}

/// Every event matching the filters (all pages) as CSV, streamed.
#[utoipa::path(get, path = "/audit/export.csv", tag = "audit",
    params(
        ("actor" = Option<String>, Query), ("action" = Option<String>, Query),
        ("target" = Option<String>, Query), ("since" = Option<String>, Query),
        ("until" = Option<String>, Query),
    ),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_audit(api: Api, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let mut query = AuditQuery::from_query_string(query.as_deref().unwrap_or_default())?;
    query.limit = AuditQuery::MAX_LIMIT;
    let audit = api.ports().audit.clone();
    let principal = api.caller().cloned();
    // The first page is read before answering, so a refusal is a proper error response.
    let first = audit.list(principal.as_ref(), &query).await?;
    let stream = futures_util::stream::unfold(
        (Some(first), query, audit, principal, true),
        |(page, mut query, audit, principal, header)| async move {
            let page = page?;
            let mut chunk = String::new();
            if header {
                chunk.push_str(audit_csv_header());
            }
            for event in &page.events {
                chunk.push_str(&audit_csv_line(event));
            }
            let next = match page.next_before {
                Some(before) => {
                    query.before = Some(before);
                    match audit.list(principal.as_ref(), &query).await {
                        Ok(next) => Some(next),
                        Err(error) => {
                            tracing::error!(%error, "audit export stopped early");
                            None
                        }
                    }
                }
                None => None,
            };
            Some((
                Ok::<_, std::io::Error>(chunk),
                (next, query, audit, principal, false),
            ))
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"steward-audit.csv\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
        .routes(routes!(export_audit))
}
