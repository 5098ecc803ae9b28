//! `/api/v1/identities`: the register — listing, facets, export, one identity in
//! full, creating and editing, credentials, entitlements, delegations and lifecycle.

use axum::body::Body;
use axum::extract::RawQuery;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use steward_domain::delegation::NewDelegation;
use steward_domain::identity::{
    CredentialInfo, Entitlement, IdentityDetail, IdentityDraft, LifecycleRequest, NewCredential,
    NewEntitlement, RetireRequest, RetirementReport,
};
use steward_domain::inventory::{
    inventory_csv_header, inventory_csv_line, Facets, IdentityQuery, IdentitySummary, Page,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Api, ApiError, ApiJson, ApiPath, Problem};

/// List identities, in the chosen order, one page at a time.
#[utoipa::path(
    get,
    path = "/identities",
    tag = "inventory",
    params(
        ("class" = Option<String>, Query, description = "Actor class: `machine` or `ai`"),
        ("kind" = Option<String>, Query, description = "Kind, e.g. `service_account`, `ci_runner`, `agent`, `assistant_session`"),
        ("source" = Option<String>, Query, description = "Source: `aws`, `gcp`, `azure`, `kubernetes`, `github`, `manual`, `steward`"),
        ("env" = Option<String>, Query, description = "Environment, e.g. `prod`"),
        ("status" = Option<String>, Query, description = "`active`, `suspended` or `retired`"),
        ("owner" = Option<String>, Query, description = "Owner's email"),
        ("team" = Option<String>, Query, description = "Team name"),
        ("orphaned" = Option<bool>, Query, description = "Only identities with no owner, or an owner who has left"),
        ("expired" = Option<bool>, Query, description = "Only identities whose expiry has passed"),
        ("expiring" = Option<u32>, Query, description = "Only identities expiring within this many days (1–3650)"),
        ("stale" = Option<u32>, Query, description = "Only identities unused for this many days, or never used (1–3650)"),
        ("q" = Option<String>, Query, description = "Case-insensitive text in the name, external id or SPIFFE ID (at most 200 characters)"),
        ("sort" = Option<String>, Query, description = "`name` (default), `created`, `last_used` or `expires`; prefix `-` for descending. Identities without the value come last."),
        ("limit" = Option<u32>, Query, description = "Page size, 1–500 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page (same sort)"),
    ),
    responses(
        (status = 200, description = "One page of identities", body = Page<IdentitySummary>),
        (status = 400, description = "A filter, sort, limit or cursor is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not read the inventory", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_identities(
    api: Api,
    RawQuery(query): RawQuery,
) -> Result<Json<Page<IdentitySummary>>, ApiError> {
    let query = IdentityQuery::from_query_string(query.as_deref().unwrap_or_default())?;
    Ok(Json(
        api.ports()
            .inventory
            .list_identities(api.caller(), &query)
            .await?,
    ))
}

/// Counts per actor class, kind, source, environment and status for the same filters
/// as the listing (sort, cursor and limit are ignored).
#[utoipa::path(get, path = "/identities/facets", tag = "inventory",
    responses(
        (status = 200, body = Facets),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn facets(api: Api, RawQuery(query): RawQuery) -> Result<Json<Facets>, ApiError> {
    let query = IdentityQuery::from_query_string(query.as_deref().unwrap_or_default())?;
    Ok(Json(
        api.ports().inventory.facets(api.caller(), &query).await?,
    ))
}

/// Every identity matching the filters, in the chosen order, as CSV — streamed, so
/// a million rows do not sit in memory. The export is recorded in the audit trail.
#[utoipa::path(get, path = "/identities/export.csv", tag = "inventory",
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "Columns: id, name, actor_class, kind, source, external_id, environment, status, owner_email, owner_name, orphaned, team, spiffe_id, expires_at, created_at, last_used_at"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_identities(api: Api, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let mut query = IdentityQuery::from_query_string(query.as_deref().unwrap_or_default())?;
    query.cursor = None;
    query.limit = IdentityQuery::MAX_LIMIT;
    let inventory = api.ports().inventory.clone();
    let principal = api.caller().cloned();
    inventory.begin_export(principal.as_ref(), &query).await?;
    // The first page is read before answering, so a refusal is a proper error response.
    let first = inventory
        .list_identities(principal.as_ref(), &query)
        .await?;
    let stream = futures_util::stream::unfold(
        (Some(first), query, inventory, principal, true),
        |(page, query, inventory, principal, header)| async move {
            let page = page?;
            let mut chunk = String::new();
            if header {
                chunk.push_str(&inventory_csv_header());
            }
            for row in &page.items {
                chunk.push_str(&inventory_csv_line(row));
            }
            let next = match page.next_cursor.as_deref().map(|c| query.with_cursor(c)) {
                None => None,
                Some(Ok(next_query)) => {
                    match inventory
                        .list_identities(principal.as_ref(), &next_query)
                        .await
                    {
                        Ok(next) => Some(next),
                        Err(error) => {
                            // Breaking the stream makes the client see a failed download
                            // rather than a file that looks complete.
                            tracing::error!(%error, "inventory export failed");
                            return Some((
                                Err(std::io::Error::other("inventory export failed")),
                                (None, query, inventory, principal, false),
                            ));
                        }
                    }
                }
                Some(Err(_)) => None,
            };
            Some((Ok(chunk), (next, query, inventory, principal, false)))
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"steward-inventory.csv\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// One identity in full: attributes, owner and sponsor, credentials, entitlements,
/// its delegation graph and its timeline.
#[utoipa::path(get, path = "/identities/{id}", tag = "inventory",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = IdentityDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_identity(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<IdentityDetail>, ApiError> {
    Ok(Json(
        api.ports().inventory.get_identity(api.caller(), id).await?,
    ))
}

/// Create an identity (admins). Expiry and revocation path are required; the expiry
/// is bounded by the policy for its actor class.
#[utoipa::path(post, path = "/identities", tag = "inventory",
    request_body = IdentityDraft,
    responses(
        (status = 201, body = IdentityDetail),
        (status = 400, description = "A field is invalid; the problem names it", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_identity(
    api: Api,
    ApiJson(draft): ApiJson<IdentityDraft>,
) -> Result<(StatusCode, Json<IdentityDetail>), ApiError> {
    let created = api
        .ports()
        .inventory
        .create_identity(api.caller(), &draft)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Replace an identity's attributes (admins). Owner and sponsor change through
/// assignments.
#[utoipa::path(put, path = "/identities/{id}", tag = "inventory",
    params(("id" = Uuid, Path)),
    request_body = IdentityDraft,
    responses(
        (status = 200, body = IdentityDetail),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Retired", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_identity(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<IdentityDraft>,
) -> Result<Json<IdentityDetail>, ApiError> {
    Ok(Json(
        api.ports()
            .inventory
            .update_identity(api.caller(), id, &draft)
            .await?,
    ))
}

/// Record a credential's metadata (never the secret).
#[utoipa::path(post, path = "/identities/{id}/credentials", tag = "inventory",
    params(("id" = Uuid, Path)), request_body = NewCredential,
    responses(
        (status = 201, body = CredentialInfo),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_credential(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(credential): ApiJson<NewCredential>,
) -> Result<(StatusCode, Json<CredentialInfo>), ApiError> {
    let added = api
        .ports()
        .inventory
        .add_credential(api.caller(), id, &credential)
        .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Revoke a credential (it stays on record).
#[utoipa::path(delete, path = "/identities/{id}/credentials/{credential_id}", tag = "inventory",
    params(("id" = Uuid, Path), ("credential_id" = Uuid, Path)),
    responses(
        (status = 200, body = CredentialInfo),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_credential(
    api: Api,
    ApiPath((id, credential_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<CredentialInfo>, ApiError> {
    Ok(Json(
        api.ports()
            .inventory
            .revoke_credential(api.caller(), id, credential_id)
            .await?,
    ))
}

/// Grant an entitlement.
#[utoipa::path(post, path = "/identities/{id}/entitlements", tag = "inventory",
    params(("id" = Uuid, Path)), request_body = NewEntitlement,
    responses(
        (status = 201, body = Entitlement),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_entitlement(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(entitlement): ApiJson<NewEntitlement>,
) -> Result<(StatusCode, Json<Entitlement>), ApiError> {
    let added = api
        .ports()
        .inventory
        .add_entitlement(api.caller(), id, &entitlement)
        .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Remove an entitlement (it stays on record as removed).
#[utoipa::path(delete, path = "/identities/{id}/entitlements/{entitlement_id}", tag = "inventory",
    params(("id" = Uuid, Path), ("entitlement_id" = Uuid, Path)),
    responses(
        (status = 200, body = Entitlement),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_entitlement(
    api: Api,
    ApiPath((id, entitlement_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<Entitlement>, ApiError> {
    Ok(Json(
        api.ports()
            .inventory
            .remove_entitlement(api.caller(), id, entitlement_id)
            .await?,
    ))
}

/// Add a delegation edge from this identity (`acts_as`: AI → machine execution
/// identity; `sub_agent`: AI → AI). Refused if it would close a cycle.
#[utoipa::path(post, path = "/identities/{id}/delegations", tag = "inventory",
    params(("id" = Uuid, Path)), request_body = NewDelegation,
    responses(
        (status = 204),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Exists already, or would close a cycle", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_delegation(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(delegation): ApiJson<NewDelegation>,
) -> Result<StatusCode, ApiError> {
    api.ports()
        .inventory
        .add_delegation(api.caller(), id, &delegation)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove the delegation edge from this identity to `to`.
#[utoipa::path(delete, path = "/identities/{id}/delegations/{to}", tag = "inventory",
    params(("id" = Uuid, Path), ("to" = Uuid, Path)),
    responses(
        (status = 204),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_delegation(
    api: Api,
    ApiPath((id, to)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    api.ports()
        .inventory
        .remove_delegation(api.caller(), id, to)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Suspend an identity — the kill switch: its API tokens stop at once and every later
/// authorization decision denies it. Admins, or the identity's owner.
#[utoipa::path(post, path = "/identities/{id}/suspend", tag = "lifecycle",
    params(("id" = Uuid, Path)), request_body = LifecycleRequest,
    responses(
        (status = 200, body = IdentityDetail),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not active", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn suspend(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<LifecycleRequest>,
) -> Result<Json<IdentityDetail>, ApiError> {
    Ok(Json(
        api.ports()
            .inventory
            .suspend(api.caller(), id, &request)
            .await?,
    ))
}

/// Reactivate a suspended identity (admins).
#[utoipa::path(post, path = "/identities/{id}/reactivate", tag = "lifecycle",
    params(("id" = Uuid, Path)), request_body = LifecycleRequest,
    responses(
        (status = 200, body = IdentityDetail),
        (status = 409, description = "Not suspended", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reactivate(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<LifecycleRequest>,
) -> Result<Json<IdentityDetail>, ApiError> {
    Ok(Json(
        api.ports()
            .inventory
            .reactivate(api.caller(), id, &request)
            .await?,
    ))
}

/// Retire an identity with offboarding evidence: credentials revoked, entitlements
/// and delegations removed, all in one transaction. The identity is kept, read-only.
#[utoipa::path(post, path = "/identities/{id}/retire", tag = "lifecycle",
    params(("id" = Uuid, Path)), request_body = RetireRequest,
    responses(
        (status = 200, body = RetirementReport),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already retired", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retire(
    api: Api,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RetireRequest>,
) -> Result<Json<RetirementReport>, ApiError> {
    Ok(Json(
        api.ports()
            .inventory
            .retire(api.caller(), id, &request)
            .await?,
    ))
}

/// This capability's routes (relative to `/api/v1`), each registered with its OpenAPI
/// operation from the handler's `#[utoipa::path]`: the router and the document cannot
/// disagree.
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_identities, create_identity))
        .routes(routes!(facets))
        .routes(routes!(export_identities))
        .routes(routes!(get_identity, update_identity))
        .routes(routes!(add_credential))
        .routes(routes!(revoke_credential))
        .routes(routes!(add_entitlement))
        .routes(routes!(remove_entitlement))
        .routes(routes!(add_delegation))
        .routes(routes!(remove_delegation))
        .routes(routes!(suspend))
        .routes(routes!(reactivate))
        .routes(routes!(retire))
}
