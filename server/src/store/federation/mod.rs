//! Trust configurations for workload identity federation, and the static secrets an
//! identity still holds.

use chrono::{DateTime, Utc};
use steward_domain::federation::{TrustConfig, TrustConfigDraft};
use uuid::Uuid;

use super::{db_run, Store, StoreError};

pub mod writes;

#[derive(sqlx::FromRow)]
struct TrustRow {
    id: Uuid,
    name: String,
    kind: String,
    issuer: String,
    audience: String,
    jwks_url: Option<String>,
    jwks: Option<String>,
    rules: String,
    mode: String,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

impl TryFrom<TrustRow> for TrustConfig {
    type Error = StoreError;

    fn try_from(r: TrustRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("trust configuration {what}: {e}"))
        };
        Ok(TrustConfig {
            id: r.id,
            draft: TrustConfigDraft {
                name: r.name,
                kind: r.kind.parse().map_err(|e| corrupt("kind", &e))?,
                issuer: r.issuer,
                audience: r.audience,
                jwks_url: r.jwks_url,
                jwks: r.jwks,
                rules: serde_json::from_str(&r.rules).map_err(|e| corrupt("rules", &e))?,
                mode: r.mode.parse().map_err(|e| corrupt("mode", &e))?,
            },
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        })
    }
}

const TRUST_COLUMNS: &str = "SELECT id, name, kind, issuer, audience, jwks_url, jwks, rules, \
     mode, updated_by, updated_at FROM trust_configs";

/// Credential kinds that are secrets someone holds (a certificate's private key and a
/// federated token are not shared secrets Steward or a vault hands out).
pub const STATIC_SECRET_KINDS: &str = "'access_key', 'client_secret', 'ssh_key', 'api_token'";

impl Store {
    /// Every trust configuration, by name.
    pub async fn trust_configs(&self) -> Result<Vec<TrustConfig>, StoreError> {
        let rows: Vec<TrustRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{TRUST_COLUMNS} ORDER BY name"))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(TrustConfig::try_from).collect()
    }

    pub async fn find_trust_config(&self, id: Uuid) -> Result<Option<TrustConfig>, StoreError> {
        let row: Option<TrustRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{TRUST_COLUMNS} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(TrustConfig::try_from).transpose()
    }

    /// The static secrets `identity` holds now: live credentials of a secret kind in
    /// the register, and live Steward API tokens made to act for it.
    pub async fn static_secrets_of(&self, identity: Uuid) -> Result<i64, StoreError> {
        let now = Utc::now();
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_scalar::<Db, i64>(&format!(
                "SELECT (SELECT COUNT(*) FROM credentials WHERE identity_id = $1 \
                   AND kind IN ({STATIC_SECRET_KINDS}) AND revoked_at IS NULL \
                   AND (expires_at IS NULL OR expires_at > $2)) \
                 + (SELECT COUNT(*) FROM api_tokens WHERE agent_id = $1 \
                   AND revoked_at IS NULL AND expires_at > $2)"
            ))
            .bind(identity)
            .bind(now)
            .fetch_one(pool)
            .await?
        }))
    }

    /// The identities some trust configuration has a rule for (for the posture
    /// engine): each with the configurations' names.
    pub async fn federated_identities(&self) -> Result<Vec<(Uuid, String)>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as::<Db, (Uuid, String)>(
                "SELECT r.identity_id, t.name FROM trust_rule_identities r \
                 JOIN trust_configs t ON t.id = r.trust_config_id ORDER BY t.name",
            )
            .fetch_all(pool)
            .await?
        }))
    }
}
