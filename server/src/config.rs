//! Configuration from environment variables (and the matching CLI flags), with defaults
//! that run Steward on one machine with no setup.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Where the database lives; `DATABASE_URL` picks the implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path/to/file.db` (the embedded default).
    Sqlite { path: PathBuf },
    /// `postgres://user:password@host:port/database`.
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(
                    "DATABASE_URL: a SQLite database needs a file path, e.g. sqlite://data/steward.db"
                        .into(),
                );
            }
            return Ok(DatabaseUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres { url: url.into() });
        }
        Err(format!(
            "DATABASE_URL must start with sqlite:// or postgres:// (got '{}')",
            redact(url)
        ))
    }

    /// The URL with any password hidden, for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => redact(url),
        }
    }
}

/// Hides the password of `scheme://user:password@host…`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.chars().take(40).collect();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_owned(),
    }
}

/// Settings shared by every command that opens the database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database to use: sqlite://path (created if missing) or postgres://…
    /// (its value, which may hold a password, is never printed in --help).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/steward.db",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub database_url: String,
    /// Maximum connections in the pool (the SQLite reader pool; SQLite always has
    /// exactly one writer connection).
    #[arg(long, env = "STEWARD_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,
}

/// Limits on one import (the web page, the API and `steward import`).
#[derive(Debug, Clone, Copy, Args)]
pub struct ImportConfig {
    /// Largest import file, in bytes.
    #[arg(long, env = "STEWARD_IMPORT_MAX_BYTES", default_value_t = 64 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub import_max_bytes: u64,
    /// Most records (identities) one import may hold.
    #[arg(long, env = "STEWARD_IMPORT_MAX_RECORDS", default_value_t = 500_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub import_max_records: u64,
}

impl ImportConfig {
    pub fn limits(&self) -> steward_domain::imports::ImportLimits {
        steward_domain::imports::ImportLimits {
            max_bytes: self.import_max_bytes,
            max_records: self.import_max_records,
        }
    }
}

/// Settings of `steward serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address and port to listen on.
    #[arg(long, env = "STEWARD_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Folder with the compiled browser bundle (WASM, JS, CSS) built by cargo-leptos.
    #[arg(long, env = "STEWARD_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// When the register is empty at start, fill it with this many demo identities
    /// (0 = never). `make run` sets it so a first run has something to show.
    #[arg(long, env = "STEWARD_DEMO_IF_EMPTY", default_value_t = 0)]
    pub demo_if_empty: u64,
    /// The URL people use to reach Steward (scheme, host, port), e.g.
    /// https://steward.example.com. Default: http:// and the listen address.
    #[arg(long, env = "STEWARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Minutes without activity after which a browser session ends.
    #[arg(long, env = "STEWARD_SESSION_IDLE_MINUTES", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub session_idle_minutes: u32,
    /// Hours after sign-in after which a browser session ends, however active.
    #[arg(long, env = "STEWARD_SESSION_MAX_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(1..=720))]
    pub session_max_hours: u32,
    /// Longest lifetime (days from now) a machine identity may be given when created
    /// or edited.
    #[arg(long, env = "STEWARD_MAX_EXPIRY_DAYS_MACHINE", default_value_t = 365,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub max_expiry_days_machine: u32,
    /// Longest lifetime (days from now) an AI identity may be given.
    #[arg(long, env = "STEWARD_MAX_EXPIRY_DAYS_AI", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub max_expiry_days_ai: u32,
    /// Which identities are suspended (their grants revoked) when the person who owns
    /// them is deactivated: `none`, `ai` (agents, orchestrators, LLM apps, assistant
    /// sessions: they act for their owner) or `all`. They go to the orphan queue
    /// either way.
    #[arg(long, env = "STEWARD_SUSPEND_WHEN_OWNER_LEAVES", default_value = "ai")]
    pub suspend_when_owner_leaves: steward_domain::identity::LeaverPolicy,
    /// Minutes between full posture evaluations (the first runs when the server
    /// starts); 0 turns the schedule off. Changes made through Steward re-evaluate the
    /// identities they touch at once either way.
    #[arg(long, env = "STEWARD_POSTURE_INTERVAL_MINUTES", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(0..=10080))]
    pub posture_interval_minutes: u32,
    /// Minutes between runs of the campaign scheduler (launch campaigns whose start
    /// came, remind reviewers, escalate overdue items, send webhooks); 0 turns it off.
    #[arg(long, env = "STEWARD_CAMPAIGN_INTERVAL_MINUTES", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(0..=1440))]
    pub campaign_interval_minutes: u32,
    /// Seconds between runs of the grant expiry worker; 0 turns it off (grants past
    /// their expiry are refused either way).
    #[arg(long, env = "STEWARD_GRANT_EXPIRY_SECONDS", default_value_t = 15,
          value_parser = clap::value_parser!(u32).range(0..=3600))]
    pub grant_expiry_seconds: u32,
    /// Where the private keys that sign grant credentials are kept (created on first
    /// start, directory mode 0700, files 0600). Share it between replicas.
    #[arg(long, env = "STEWARD_SIGNING_KEY_DIR", default_value = "data/keys")]
    pub signing_key_dir: std::path::PathBuf,
    /// Hours a replaced signing key still verifies after `steward keys rotate`.
    #[arg(long, env = "STEWARD_SIGNING_KEY_OVERLAP_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u32).range(1..=720))]
    pub signing_key_overlap_hours: u32,
    /// Roles that must sign in with a second factor (an authenticator app's codes) after
    /// their password, comma-separated, or `none`. Anyone enrolled is asked anyway.
    /// Single sign-on users get theirs from the identity provider.
    #[arg(long, env = "STEWARD_SECOND_FACTOR_ROLES", default_value = "admin,auditor",
          value_parser = parse_second_factor_roles)]
    pub second_factor_roles: SecondFactorRoles,
    #[command(flatten)]
    pub imports: ImportConfig,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub oidc: OidcArgs,
}

/// How much one client may ask of the server.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Sign-in attempts a minute from one client address (then 429 with Retry-After).
    #[arg(long, env = "STEWARD_LOGINS_PER_IP_PER_MINUTE", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub logins_per_ip_per_minute: u32,
    /// Sign-in attempts a minute for one account, from anywhere.
    #[arg(long, env = "STEWARD_LOGINS_PER_ACCOUNT_PER_MINUTE", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub logins_per_account_per_minute: u32,
    /// Requests handled at once; more wait their turn.
    #[arg(long, env = "STEWARD_MAX_CONCURRENT_REQUESTS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_requests: u32,
    /// Seconds a request may take, body included, before it is answered 408.
    #[arg(long, env = "STEWARD_REQUEST_TIMEOUT_SECONDS", default_value_t = 120,
          value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub request_timeout_seconds: u32,
    /// Let trust configurations fetch their JWKS over plain http from loopback
    /// addresses. For tests and local development only: in production JWKS URLs are
    /// https to public addresses.
    #[arg(long, env = "STEWARD_JWKS_ALLOW_LOOPBACK_HTTP")]
    pub jwks_allow_loopback_http: bool,
    /// Addresses of reverse proxies in front of Steward (comma-separated): only their
    /// X-Forwarded-For and X-Request-Id are believed.
    #[arg(long, env = "STEWARD_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl LimitArgs {
    pub fn limits(&self) -> crate::web::limits::RequestLimits {
        crate::web::limits::RequestLimits {
            logins_per_ip_per_minute: self.logins_per_ip_per_minute,
            logins_per_account_per_minute: self.logins_per_account_per_minute,
            max_concurrent_requests: self.max_concurrent_requests as usize,
            request_timeout: std::time::Duration::from_secs(u64::from(
                self.request_timeout_seconds,
            )),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

/// Where campaign reminders, escalations and reassignments are announced.
#[derive(Debug, Clone, clap::Args)]
pub struct WebhookArgs {
    /// Receives every announcement as Steward's JSON (`event`, `id`, `text`, `data`).
    #[arg(long = "webhook-url", env = "STEWARD_WEBHOOK_URL")]
    pub json_url: Option<String>,
    /// Receives every announcement as a Slack incoming-webhook payload.
    #[arg(long = "slack-webhook-url", env = "STEWARD_SLACK_WEBHOOK_URL")]
    pub slack_url: Option<String>,
    /// Signs every delivery (HMAC-SHA256); required when a webhook URL is set.
    #[arg(
        long = "webhook-secret",
        env = "STEWARD_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<String>,
}

impl WebhookArgs {
    pub fn config(
        &self,
        public_url: Option<String>,
    ) -> Result<crate::services::notify::WebhookConfig, String> {
        use crate::services::notify::{WebhookConfig, WebhookFormat};
        let mut targets = Vec::new();
        if let Some(url) = self.json_url.clone().filter(|u| !u.trim().is_empty()) {
            targets.push((WebhookFormat::Json, url));
        }
        if let Some(url) = self.slack_url.clone().filter(|u| !u.trim().is_empty()) {
            targets.push((WebhookFormat::Slack, url));
        }
        WebhookConfig {
            targets,
            secret: self.secret.clone().filter(|s| !s.is_empty()),
            public_url,
        }
        .validated()
    }
}

/// The roles that must use a second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorRoles(pub Vec<steward_domain::auth::Role>);

fn parse_second_factor_roles(text: &str) -> Result<SecondFactorRoles, String> {
    steward_domain::second_factor::parse_roles(text)
        .map(SecondFactorRoles)
        .map_err(|e| e.to_string())
}

impl ServeConfig {
    pub fn lifecycle_policy(&self) -> steward_domain::identity::LifecyclePolicy {
        steward_domain::identity::LifecyclePolicy {
            machine_max_days: self.max_expiry_days_machine,
            ai_max_days: self.max_expiry_days_ai,
            leaver: self.suspend_when_owner_leaves,
        }
    }
}

/// Single sign-on with an OpenID Connect provider (off unless the issuer is set).
#[derive(Debug, Clone, Args)]
pub struct OidcArgs {
    /// Issuer URL, exactly as the provider's discovery document states it.
    #[arg(long = "oidc-issuer", env = "STEWARD_OIDC_ISSUER")]
    pub issuer: Option<String>,
    #[arg(long = "oidc-client-id", env = "STEWARD_OIDC_CLIENT_ID")]
    pub client_id: Option<String>,
    #[arg(
        long = "oidc-client-secret",
        env = "STEWARD_OIDC_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// Callback URL registered at the provider. Default: the public URL + /auth/oidc/callback.
    #[arg(long = "oidc-redirect-url", env = "STEWARD_OIDC_REDIRECT_URL")]
    pub redirect_url: Option<String>,
    /// ID-token claim holding groups or roles.
    #[arg(
        long = "oidc-role-claim",
        env = "STEWARD_OIDC_ROLE_CLAIM",
        default_value = "groups"
    )]
    pub role_claim: String,
    /// Claim value → role, comma-separated `value=role` pairs.
    #[arg(
        long = "oidc-role-map",
        env = "STEWARD_OIDC_ROLE_MAP",
        default_value = "steward-admins=admin,steward-owners=owner,steward-viewers=viewer,steward-auditors=auditor"
    )]
    pub role_map: String,
}

/// The origin (`scheme://host[:port]`) of a public URL, and whether session cookies
/// must be `Secure`: always, except for plain http on a loopback address.
pub fn public_origin(public_url: &str) -> Result<(String, bool), String> {
    let url = public_url.trim().trim_end_matches('/');
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        format!("STEWARD_PUBLIC_URL '{url}' needs a scheme, e.g. https://steward.example.com")
    })?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "STEWARD_PUBLIC_URL must use http or https (got '{scheme}')"
        ));
    }
    let authority = rest
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if authority.is_empty() {
        return Err(format!("STEWARD_PUBLIC_URL '{url}' has no host"));
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default().to_owned(),
        None => authority.split(':').next().unwrap_or_default().to_owned(),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let secure = !(scheme == "http" && loopback);
    Ok((format!("{scheme}://{authority}"), secure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_except_on_plain_http_loopback() {
        assert_eq!(
            public_origin("http://127.0.0.1:3000/").unwrap(),
            ("http://127.0.0.1:3000".into(), false)
        );
        assert!(!public_origin("http://localhost:3000").unwrap().1);
        assert!(!public_origin("http://[::1]:3000").unwrap().1);
        assert!(public_origin("http://steward.internal:3000").unwrap().1);
        assert_eq!(
            public_origin("https://Steward.Example.com/app").unwrap(),
            ("https://steward.example.com".into(), true)
        );
        assert!(public_origin("steward.example.com").is_err());
        assert!(public_origin("ftp://x").is_err());
    }

    #[test]
    fn parses_both_dialects() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/steward.db").unwrap(),
            DatabaseUrl::Sqlite {
                path: "data/steward.db".into()
            }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:/tmp/x.db?mode=rwc").unwrap(),
            DatabaseUrl::Sqlite {
                path: "/tmp/x.db".into()
            }
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres { .. }
        ));
    }

    #[test]
    fn bad_urls_get_a_clear_error_without_the_password() {
        let err = DatabaseUrl::parse("mysql://root:hunter2@db/steward").unwrap_err();
        assert_eq!(
            err,
            "DATABASE_URL must start with sqlite:// or postgres:// (got 'mysql://root:***@db/steward')"
        );
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
        assert_eq!(
            DatabaseUrl::parse("postgres://steward:s3cret@db:5432/steward")
                .unwrap()
                .redacted(),
            "postgres://steward:***@db:5432/steward"
        );
    }
}
