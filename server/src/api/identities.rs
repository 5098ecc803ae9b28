//! `/api/v1/identities`: the inventory.

use axum::extract::{RawQuery, State};
use axum::Json;
use steward_domain::inventory::{IdentityQuery, IdentitySummary, Page};

use super::{ApiError, ApiState, Caller, Problem};

/// List identities, ordered by name, one page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/identities",
    tag = "inventory",
    params(
        ("class" = Option<String>, Query, description = "Actor class: `machine` or `ai`"),
        ("kind" = Option<String>, Query, description = "Kind, e.g. `service_account`, `ci_runner`, `agent`, `assistant_session`"),
        ("source" = Option<String>, Query, description = "Source: `aws`, `gcp`, `azure`, `kubernetes`, `github`, `manual`, `steward`"),
        ("env" = Option<String>, Query, description = "Environment, e.g. `prod`"),
        ("status" = Option<String>, Query, description = "`active`, `suspended` or `retired`"),
        ("owner" = Option<String>, Query, description = "Owner's email"),
        ("orphaned" = Option<bool>, Query, description = "Only identities with no owner, or an owner who has left"),
        ("expired" = Option<bool>, Query, description = "Only identities whose expiry has passed"),
        ("expiring" = Option<u32>, Query, description = "Only identities expiring within this many days (1–3650)"),
        ("stale" = Option<u32>, Query, description = "Only identities unused for this many days, or never used (1–3650)"),
        ("q" = Option<String>, Query, description = "Case-insensitive text in the name or external id (at most 200 characters)"),
        ("limit" = Option<u32>, Query, description = "Page size, 1–500 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of identities", body = Page<IdentitySummary>),
        (status = 400, description = "A filter, limit or cursor is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not read the inventory", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_identities(
    State(state): State<ApiState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Page<IdentitySummary>>, ApiError> {
    let query = IdentityQuery::from_query_string(query.as_deref().unwrap_or_default())?;
    Ok(Json(
        state
            .services
            .ports
            .inventory
            .list_identities(caller.principal(), &query)
            .await?,
    ))
}
