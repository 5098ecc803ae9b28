//! `steward serve`: the web app, the REST API and the background workers, configured
//! from flags and the environment.

use super::open;
use crate::config::{public_origin, DatabaseConfig, ServeConfig};
use crate::services::Services;
use crate::store::Store;
use crate::web::auth::WebSecurity;
use crate::workers::{Schedule, Workers};
use crate::{demo, web};

pub(super) async fn run(database: DatabaseConfig, serve: ServeConfig) -> anyhow::Result<()> {
    let public_url = serve
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", serve.addr));
    let (origin, secure_cookies) = public_origin(&public_url).map_err(anyhow::Error::msg)?;
    if secure_cookies && origin.starts_with("http://") {
        tracing::warn!(
            "STEWARD_PUBLIC_URL is plain http on a non-loopback host: session cookies are Secure, so browsers will not sign in until Steward is served over https"
        );
    }
    let store = open(&database).await?;
    // Advisory only: a server that cannot be asked (permissions) still serves.
    if let Ok(Some(advice)) = store.cache_advice().await {
        tracing::warn!("{advice}");
    }
    let mut services = Services::with_policy(store.clone(), serve.lifecycle_policy())
        .with_import_limits(serve.imports.limits())
        .with_webhooks(
            serve
                .webhooks
                .config(Some(public_url.clone()))
                .map_err(anyhow::Error::msg)?,
        )
        .with_credentials(
            std::sync::Arc::new(crate::adapters::keys::SigningKeys::load(
                &serve.signing_key_dir,
                chrono::Duration::hours(i64::from(serve.signing_key_overlap_hours)),
            )?),
            public_url.trim_end_matches('/').to_owned(),
        );
    services = services
        .allowing_loopback_jwks(serve.limits.jwks_allow_loopback_http)
        .with_second_factor(
            crate::services::accounts::second_factor::Sealer::new(
                &crate::adapters::keys::load_sealing_key(&serve.signing_key_dir)?,
            )?,
            serve.second_factor_roles.0.clone(),
        );
    if let Some(oidc) = oidc_service(&serve.oidc, &origin, &store)? {
        services = services.with_oidc(oidc);
    }
    let mut banner = None;
    if serve.demo_if_empty > 0 && store.count_identities().await? == 0 {
        tracing::info!(
            identities = serve.demo_if_empty,
            "empty register: adding demo data"
        );
        demo::seed(
            &store,
            serve.demo_if_empty,
            2026,
            chrono::Utc::now(),
            |_| {},
        )
        .await?;
        let password = demo::demo_password(std::env::var("STEWARD_DEMO_PASSWORD").ok())?;
        let created = demo::seed_users(&services.auth, &password).await?;
        demo::seed_tour(&services, &password).await?;
        banner = Some(demo::credentials_banner(&created, &password));
    }
    let bundle = serve.site_root.join("pkg").join("steward.wasm");
    if !bundle.exists() {
        tracing::warn!(
            "no browser bundle at {}: pages render but stay static; build it with `make build`",
            bundle.display()
        );
    }
    let security = WebSecurity {
        public_origin: origin,
        secure_cookies,
        session_idle: chrono::Duration::minutes(i64::from(serve.session_idle_minutes)),
        session_max_age: chrono::Duration::hours(i64::from(serve.session_max_hours)),
        limits: serve.limits.limits(),
    };
    let options = web::leptos_options(serve.addr, &serve.site_root);
    let workers = Workers::start(&services, &Schedule::from_config(&serve));
    tracing::info!(workers = ?workers.names(), "background work started");
    let app = web::router(services, security, options);
    let listener = tokio::net::TcpListener::bind(serve.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", serve.addr))?;
    let addr = listener.local_addr()?;
    let serving = web::serve(listener, app);
    println!("Steward is running at http://{addr}  (Ctrl-C to stop)");
    match banner {
        Some(banner) => print!("{banner}"),
        None => println!(
            "Sign in with an account made by `steward demo` or `steward user add --email … --role admin`."
        ),
    }
    serving.await?;
    // Every decision answered is in the log before the database closes.
    workers.stop().await;
    store.close().await;
    Ok(())
}

/// The SSO service when `STEWARD_OIDC_ISSUER` is set; a half-configured SSO stops
/// Steward at start with a message naming what is missing.
fn oidc_service(
    args: &crate::config::OidcArgs,
    public_origin: &str,
    store: &Store,
) -> anyhow::Result<Option<crate::adapters::oidc::OidcService>> {
    use crate::adapters::oidc::{parse_role_map, OidcConfig, OidcService};
    let Some(issuer) = args.issuer.clone().filter(|i| !i.trim().is_empty()) else {
        return Ok(None);
    };
    let missing = |name: &str| anyhow::anyhow!("STEWARD_OIDC_ISSUER is set but {name} is not");
    let config = OidcConfig {
        issuer,
        client_id: args
            .client_id
            .clone()
            .ok_or_else(|| missing("STEWARD_OIDC_CLIENT_ID"))?,
        client_secret: args
            .client_secret
            .clone()
            .ok_or_else(|| missing("STEWARD_OIDC_CLIENT_SECRET"))?,
        redirect_url: args
            .redirect_url
            .clone()
            .unwrap_or_else(|| format!("{public_origin}/auth/oidc/callback")),
        role_claim: args.role_claim.clone(),
        role_map: parse_role_map(&args.role_map).map_err(anyhow::Error::msg)?,
    };
    tracing::info!(issuer = %config.issuer, redirect = %config.redirect_url, "single sign-on enabled");
    Ok(Some(
        OidcService::new(config, store.clone()).map_err(anyhow::Error::msg)?,
    ))
}
