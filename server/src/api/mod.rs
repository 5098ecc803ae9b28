//! The versioned REST API under `/api/v1`. Conventions every endpoint follows:
//! JSON bodies, cursor pagination (`cursor`/`before` in, `next_cursor`/`next_before`
//! out), errors as `application/problem+json` (RFC 9457) naming what is wrong,
//! `Authorization: Bearer <token>` for automation, and an OpenAPI 3 document generated
//! from this code at `/api/v1/openapi.json`.

pub mod audit;
pub mod authz;
pub mod campaigns;
pub mod federation;
pub mod grants;
pub mod identities;
pub mod imports;
pub mod ownership;
pub mod posture;
pub mod problem;
pub mod tokens;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use steward_domain::auth::{CurrentPrincipal, Principal};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub use problem::{ApiError, Problem};

use crate::services::Services;

#[derive(Clone)]
pub struct ApiState {
    /// Shared: the state is cloned for every request.
    pub services: std::sync::Arc<Services>,
}

/// The caller of an API request (`None`: anonymous), as resolved by the auth layer.
pub struct Caller(pub Option<Principal>);

impl Caller {
    pub fn principal(&self) -> Option<&Principal> {
        self.0.as_ref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller(
            parts
                .extensions
                .get::<CurrentPrincipal>()
                .and_then(|p| p.0.clone()),
        ))
    }
}

/// A JSON body whose rejections are problem documents naming what is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::from(steward_domain::DomainError::invalid(
                "body",
                rejection.body_text(),
            ))),
        }
    }
}

/// A path parameter whose rejections (e.g. an id that is not a UUID) are problem
/// documents naming what is wrong.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::from(steward_domain::DomainError::invalid(
                "path",
                rejection.body_text(),
            ))),
        }
    }
}

/// A request body of at most `limit` bytes, read in chunks and given up at the limit
/// (413 with `too_large`), never buffered beyond it. Callers authorise first: nothing is
/// read for a caller who may not send it.
pub(crate) async fn capped_body(
    body: axum::body::Body,
    limit: usize,
    too_large: impl FnOnce() -> String,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, too_large()))
}

/// Query parameters whose rejections are problem documents.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::from(steward_domain::DomainError::invalid(
                "query string",
                rejection.body_text(),
            ))),
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward API",
        version = "1",
        description = "Governance of machine and AI identities: inventory, ownership, reviews, just-in-time grants and runtime authorization. Authenticate with `Authorization: Bearer <API token>`."
    ),
    paths(
        identities::list_identities,
        identities::facets,
        identities::export_identities,
        identities::get_identity,
        identities::create_identity,
        identities::update_identity,
        identities::add_credential,
        identities::revoke_credential,
        identities::add_entitlement,
        identities::remove_entitlement,
        identities::add_delegation,
        identities::remove_delegation,
        identities::suspend,
        identities::reactivate,
        identities::retire,
        imports::import,
        ownership::assign,
        ownership::bulk_assign,
        ownership::inbox,
        ownership::list_assignments,
        ownership::accept,
        ownership::dispute,
        ownership::orphans,
        ownership::people,
        ownership::deactivate,
        tokens::list_tokens,
        tokens::create_token,
        tokens::revoke_token,
        audit::list_audit,
        audit::verify_audit,
        audit::export_audit,
        posture::findings_of,
        posture::accept_risk,
        posture::reopen,
        posture::evaluate,
        posture::dashboard,
        posture::dashboard_csv,
        posture::controls,
        posture::report,
        campaigns::overview,
        campaigns::create,
        campaigns::from_template,
        campaigns::detail,
        campaigns::items,
        campaigns::close,
        campaigns::evidence,
        campaigns::evidence_csv_file,
        campaigns::my_reviews,
        campaigns::decide,
        campaigns::decide_many,
        campaigns::retry,
        grants::policies,
        grants::create_policy,
        grants::update_policy,
        grants::delete_policy,
        grants::eligible,
        grants::list,
        grants::request,
        grants::view,
        grants::approve,
        grants::deny,
        grants::cancel,
        grants::extend,
        grants::revoke,
        grants::credential,
        grants::introspect,
        grants::revoke_credential,
        authz::authorize,
        authz::test_bench,
        authz::limits,
        authz::set_limits,
        authz::compiled,
        authz::decisions,
        authz::policies,
        authz::create_policy,
        authz::update_policy,
        authz::delete_policy,
        authz::monitored,
        authz::set_mode,
        authz::sensitivities,
        authz::set_sensitivity,
        authz::import_sensitivities,
        authz::delete_sensitivity,
        federation::list,
        federation::create,
        federation::update,
        federation::delete,
        federation::set_mode,
        federation::check,
        federation::proof,
        federation::exchange,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "inventory", description = "The register of machine and AI identities"),
        (name = "lifecycle", description = "Suspend (the kill switch), reactivate and retire identities"),
        (name = "imports", description = "Importing inventories: AWS, Kubernetes, GitHub, Google Cloud, Entra ID, Steward CSV/JSON"),
        (name = "ownership", description = "Owners, sponsors, the owner's inbox, the orphan queue and people"),
        (name = "tokens", description = "API tokens for automation"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "posture", description = "Findings, risk acceptance, controls and the compliance dashboard"),
        (name = "campaigns", description = "Access review campaigns, review decisions and evidence packs"),
        (name = "grants", description = "Just-in-time grants and their eligibility policies"),
        (name = "authorization", description = "Runtime authorization of agents: decisions, limits, Cedar policies and the decision log"),
        (name = "federation", description = "Workload identity federation: trust configurations and RFC 8693 token exchange"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}

async fn not_found() -> ApiError {
    ApiError::from(steward_domain::DomainError::not_found("API endpoint"))
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Every API route as (method, path): the authorization matrix test checks that each
/// one is covered.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/identities"),
    ("POST", "/api/v1/identities"),
    ("GET", "/api/v1/identities/facets"),
    ("GET", "/api/v1/identities/export.csv"),
    ("POST", "/api/v1/identities/assign"),
    ("GET", "/api/v1/identities/{id}"),
    ("PUT", "/api/v1/identities/{id}"),
    ("POST", "/api/v1/identities/{id}/credentials"),
    (
        "DELETE",
        "/api/v1/identities/{id}/credentials/{credential_id}",
    ),
    ("POST", "/api/v1/identities/{id}/entitlements"),
    (
        "DELETE",
        "/api/v1/identities/{id}/entitlements/{entitlement_id}",
    ),
    ("POST", "/api/v1/identities/{id}/delegations"),
    ("DELETE", "/api/v1/identities/{id}/delegations/{to}"),
    ("POST", "/api/v1/identities/{id}/assignments"),
    ("POST", "/api/v1/identities/{id}/suspend"),
    ("POST", "/api/v1/identities/{id}/reactivate"),
    ("POST", "/api/v1/identities/{id}/retire"),
    ("POST", "/api/v1/imports"),
    ("GET", "/api/v1/inbox"),
    ("GET", "/api/v1/assignments"),
    ("POST", "/api/v1/assignments/{id}/accept"),
    ("POST", "/api/v1/assignments/{id}/dispute"),
    ("GET", "/api/v1/orphans"),
    ("GET", "/api/v1/people"),
    ("GET", "/api/v1/identities/{id}/findings"),
    ("POST", "/api/v1/identities/{id}/findings/{check}/accept"),
    ("POST", "/api/v1/identities/{id}/findings/{check}/reopen"),
    ("POST", "/api/v1/posture/evaluate"),
    ("GET", "/api/v1/posture/dashboard"),
    ("GET", "/api/v1/posture/dashboard.csv"),
    ("GET", "/api/v1/posture/controls"),
    ("GET", "/api/v1/posture/reports/{day}"),
    ("GET", "/api/v1/campaigns"),
    ("POST", "/api/v1/campaigns"),
    ("POST", "/api/v1/campaigns/from-template/{template}"),
    ("GET", "/api/v1/campaigns/{id}"),
    ("GET", "/api/v1/campaigns/{id}/items"),
    ("POST", "/api/v1/campaigns/{id}/close"),
    ("GET", "/api/v1/campaigns/{id}/evidence"),
    ("GET", "/api/v1/campaigns/{id}/evidence.csv"),
    ("GET", "/api/v1/reviews"),
    ("POST", "/api/v1/reviews/bulk"),
    ("POST", "/api/v1/reviews/{id}/decision"),
    ("POST", "/api/v1/reviews/{id}/retry"),
    ("GET", "/api/v1/grant-policies"),
    ("POST", "/api/v1/grant-policies"),
    ("PUT", "/api/v1/grant-policies/{id}"),
    ("DELETE", "/api/v1/grant-policies/{id}"),
    ("GET", "/api/v1/identities/{id}/eligible"),
    ("GET", "/api/v1/grants"),
    ("POST", "/api/v1/grants"),
    ("GET", "/api/v1/grants/{id}"),
    ("POST", "/api/v1/grants/{id}/approve"),
    ("POST", "/api/v1/grants/{id}/deny"),
    ("POST", "/api/v1/grants/{id}/cancel"),
    ("POST", "/api/v1/grants/{id}/extend"),
    ("POST", "/api/v1/grants/{id}/revoke"),
    ("POST", "/api/v1/grants/{id}/credential"),
    ("POST", "/api/v1/oauth/introspect"),
    ("POST", "/api/v1/oauth/revoke"),
    ("POST", "/api/v1/people/{id}/deactivate"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"),
    ("GET", "/api/v1/audit/export.csv"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/authorize"),
    ("POST", "/api/v1/authz/test-bench"),
    ("GET", "/api/v1/identities/{id}/limits"),
    ("PUT", "/api/v1/identities/{id}/limits"),
    ("GET", "/api/v1/identities/{id}/authz-policies"),
    ("GET", "/api/v1/identities/{id}/decisions"),
    ("GET", "/api/v1/authz-policies"),
    ("POST", "/api/v1/authz-policies"),
    ("PUT", "/api/v1/authz-policies/{id}"),
    ("DELETE", "/api/v1/authz-policies/{id}"),
    ("GET", "/api/v1/identities/{id}/monitor"),
    ("PUT", "/api/v1/identities/{id}/authz-mode"),
    ("GET", "/api/v1/sensitivities"),
    ("PUT", "/api/v1/sensitivities"),
    ("POST", "/api/v1/sensitivities/import"),
    ("DELETE", "/api/v1/sensitivities/{scope}/{id}"),
    ("GET", "/api/v1/trust-configs"),
    ("POST", "/api/v1/trust-configs"),
    ("PUT", "/api/v1/trust-configs/{id}"),
    ("DELETE", "/api/v1/trust-configs/{id}"),
    ("PUT", "/api/v1/trust-configs/{id}/mode"),
    ("POST", "/api/v1/trust-configs/check"),
    ("GET", "/api/v1/identities/{id}/proof"),
    ("POST", "/api/v1/token"),
];

/// Routes relative to `/api/v1`.
pub fn router<S>(services: Services) -> Router<S> {
    Router::new()
        .route(
            "/identities",
            get(identities::list_identities).post(identities::create_identity),
        )
        .route("/identities/facets", get(identities::facets))
        .route("/identities/export.csv", get(identities::export_identities))
        .route("/identities/assign", post(ownership::bulk_assign))
        .route(
            "/identities/{id}",
            get(identities::get_identity).put(identities::update_identity),
        )
        .route(
            "/identities/{id}/credentials",
            post(identities::add_credential),
        )
        .route(
            "/identities/{id}/credentials/{credential_id}",
            delete(identities::revoke_credential),
        )
        .route(
            "/identities/{id}/entitlements",
            post(identities::add_entitlement),
        )
        .route(
            "/identities/{id}/entitlements/{entitlement_id}",
            delete(identities::remove_entitlement),
        )
        .route(
            "/identities/{id}/delegations",
            post(identities::add_delegation),
        )
        .route(
            "/identities/{id}/delegations/{to}",
            delete(identities::remove_delegation),
        )
        .route("/identities/{id}/assignments", post(ownership::assign))
        .route("/identities/{id}/suspend", post(identities::suspend))
        .route("/identities/{id}/reactivate", post(identities::reactivate))
        .route("/identities/{id}/retire", post(identities::retire))
        .route(
            "/imports",
            post(imports::import).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/inbox", get(ownership::inbox))
        .route("/assignments", get(ownership::list_assignments))
        .route("/assignments/{id}/accept", post(ownership::accept))
        .route("/assignments/{id}/dispute", post(ownership::dispute))
        .route("/orphans", get(ownership::orphans))
        .route("/people", get(ownership::people))
        .route("/people/{id}/deactivate", post(ownership::deactivate))
        .route(
            "/tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route("/tokens/{id}", delete(tokens::revoke_token))
        .route("/audit", get(audit::list_audit))
        .route("/audit/verify", get(audit::verify_audit))
        .route("/audit/export.csv", get(audit::export_audit))
        .route("/identities/{id}/findings", get(posture::findings_of))
        .route(
            "/identities/{id}/findings/{check}/accept",
            post(posture::accept_risk),
        )
        .route(
            "/identities/{id}/findings/{check}/reopen",
            post(posture::reopen),
        )
        .route("/posture/evaluate", post(posture::evaluate))
        .route("/posture/dashboard", get(posture::dashboard))
        .route("/posture/dashboard.csv", get(posture::dashboard_csv))
        .route("/posture/controls", get(posture::controls))
        .route("/posture/reports/{day}", get(posture::report))
        .route(
            "/campaigns",
            get(campaigns::overview).post(campaigns::create),
        )
        .route(
            "/campaigns/from-template/{template}",
            post(campaigns::from_template),
        )
        .route("/campaigns/{id}", get(campaigns::detail))
        .route("/campaigns/{id}/items", get(campaigns::items))
        .route("/campaigns/{id}/close", post(campaigns::close))
        .route("/campaigns/{id}/evidence", get(campaigns::evidence))
        .route(
            "/campaigns/{id}/evidence.csv",
            get(campaigns::evidence_csv_file),
        )
        .route("/reviews", get(campaigns::my_reviews))
        .route("/reviews/bulk", post(campaigns::decide_many))
        .route("/reviews/{id}/decision", post(campaigns::decide))
        .route("/reviews/{id}/retry", post(campaigns::retry))
        .route(
            "/grant-policies",
            get(grants::policies).post(grants::create_policy),
        )
        .route(
            "/grant-policies/{id}",
            put(grants::update_policy).delete(grants::delete_policy),
        )
        .route("/identities/{id}/eligible", get(grants::eligible))
        .route("/grants", get(grants::list).post(grants::request))
        .route("/grants/{id}", get(grants::view))
        .route("/grants/{id}/approve", post(grants::approve))
        .route("/grants/{id}/deny", post(grants::deny))
        .route("/grants/{id}/cancel", post(grants::cancel))
        .route("/grants/{id}/extend", post(grants::extend))
        .route("/grants/{id}/revoke", post(grants::revoke))
        .route("/grants/{id}/credential", post(grants::credential))
        .route("/oauth/introspect", post(grants::introspect))
        .route("/oauth/revoke", post(grants::revoke_credential))
        .route("/authorize", post(authz::authorize))
        .route("/authz/test-bench", post(authz::test_bench))
        .route(
            "/identities/{id}/limits",
            get(authz::limits).put(authz::set_limits),
        )
        .route("/identities/{id}/authz-policies", get(authz::compiled))
        .route("/identities/{id}/decisions", get(authz::decisions))
        .route(
            "/authz-policies",
            get(authz::policies).post(authz::create_policy),
        )
        .route(
            "/authz-policies/{id}",
            put(authz::update_policy).delete(authz::delete_policy),
        )
        .route("/identities/{id}/monitor", get(authz::monitored))
        .route("/identities/{id}/authz-mode", put(authz::set_mode))
        .route(
            "/sensitivities",
            get(authz::sensitivities).put(authz::set_sensitivity),
        )
        .route("/sensitivities/import", post(authz::import_sensitivities))
        .route(
            "/sensitivities/{scope}/{id}",
            delete(authz::delete_sensitivity),
        )
        .route(
            "/trust-configs",
            get(federation::list).post(federation::create),
        )
        .route("/trust-configs/check", post(federation::check))
        .route(
            "/trust-configs/{id}",
            put(federation::update).delete(federation::delete),
        )
        .route("/trust-configs/{id}/mode", put(federation::set_mode))
        .route("/identities/{id}/proof", get(federation::proof))
        .route("/token", post(federation::exchange))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ApiState {
            services: std::sync::Arc::new(services),
        })
}
