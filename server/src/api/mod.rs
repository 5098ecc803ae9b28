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
pub mod imports;
pub mod inventory;
pub mod ownership;
pub mod posture;
pub mod problem;
pub mod tokens;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use steward_domain::auth::{CurrentPrincipal, Principal};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

pub use problem::{ApiError, Problem};

use crate::services::Services;

#[derive(Clone)]
pub struct ApiState {
    /// Shared: the state is cloned for every request.
    pub services: std::sync::Arc<Services>,
    /// The services' ports, built once.
    pub ports: std::sync::Arc<steward_domain::ports::Ports>,
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

/// What every handler needs: the caller of the request (resolved by the auth layer,
/// `None` for anonymous) and the services it calls. Handlers take this one extractor
/// instead of the state and the caller apart.
pub struct Api {
    services: std::sync::Arc<Services>,
    ports: std::sync::Arc<steward_domain::ports::Ports>,
    caller: Option<Principal>,
}

impl Api {
    /// The caller, as the ports take it.
    pub fn caller(&self) -> Option<&Principal> {
        self.caller.as_ref()
    }

    /// The use cases the UI and the API share (`steward_domain::ports`).
    pub fn ports(&self) -> &steward_domain::ports::Ports {
        &self.ports
    }

    /// The services themselves, for what is not a port (limits, configuration).
    pub fn services(&self) -> &Services {
        &self.services
    }
}

impl FromRequestParts<ApiState> for Api {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let Caller(caller) = Caller::from_request_parts(parts, state).await?;
        Ok(Api {
            services: state.services.clone(),
            ports: state.ports.clone(),
            caller,
        })
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

/// Every route of the API and its OpenAPI document, built from one list: each
/// capability's `routes()` registers its handlers together with their `#[utoipa::path]`
/// operations (paths relative to `/api/v1`, where `web` nests this router).
fn api() -> (Router<ApiState>, utoipa::openapi::OpenApi) {
    let (router, paths) = OpenApiRouter::new()
        .merge(inventory::routes())
        .merge(imports::routes())
        .merge(ownership::routes())
        .merge(tokens::routes())
        .merge(audit::routes())
        .merge(posture::routes())
        .merge(campaigns::routes())
        .merge(grants::routes())
        .merge(authz::routes())
        .merge(federation::routes())
        .split_for_parts();
    // The document's own route, listed like the others.
    let mut paths = paths;
    paths.paths.paths.insert(
        OPENAPI_PATH.to_owned(),
        utoipa::openapi::path::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .summary(Some("This OpenAPI document"))
                .response(
                    "200",
                    utoipa::openapi::ResponseBuilder::new()
                        .description("The OpenAPI 3 document")
                        .content(
                            "application/json",
                            utoipa::openapi::content::ContentBuilder::new()
                                .schema(Some(utoipa::openapi::schema::Object::new()))
                                .build(),
                        ),
                ),
        ),
    );
    (router, ApiDoc::openapi().nest("/api/v1", paths))
}

const OPENAPI_PATH: &str = "/openapi.json";

/// The document, built once: by [`router`] with the routes, or on first use.
static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();

fn document() -> &'static utoipa::openapi::OpenApi {
    DOCUMENT.get_or_init(|| api().1)
}

/// The OpenAPI document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    document().clone()
}

async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}

async fn not_found() -> ApiError {
    ApiError::from(steward_domain::DomainError::not_found("API endpoint"))
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Every API route as (method, path), read from the router's own OpenAPI document: the
/// authorization matrix test walks this list, so a route cannot escape it.
pub fn routes() -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = document()
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(move |(method, _)| (method.to_owned(), path.clone()))
        })
        .collect();
    routes.sort();
    routes
}

/// Routes relative to `/api/v1`.
pub fn router<S>(services: Services) -> Router<S> {
    let (router, document) = api();
    // The same registrations made the document: keep it rather than build it again.
    let _ = DOCUMENT.set(document);
    router
        .route(OPENAPI_PATH, get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ApiState {
            ports: std::sync::Arc::new(services.ports()),
            services: std::sync::Arc::new(services),
        })
}
