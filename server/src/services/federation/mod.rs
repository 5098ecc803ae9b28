//! Workload identity federation: trust configurations (admin), verification of the
//! tokens a workload's platform issued (SPIFFE JWT-SVIDs, Kubernetes service-account
//! tokens, GitHub Actions OIDC tokens), and RFC 8693 token exchange for a just-in-time
//! grant's credential.
//!
//! A token is accepted only when every check passes: an asymmetric algorithm (no
//! `none`, no HMAC — so a public key can never be used as a shared secret), a key of
//! the configuration's JWKS, the exact issuer and audience, `exp` and `nbf` (with 30 s
//! of clock skew), and exactly one claim rule. Each refusal says which check failed.
//!
//! Configurations are cached and kept current by the change feed (a trigger on
//! `trust_configs` marks everything stale). Keys from a JWKS URL are fetched on save and
//! again when a token names a key not seen yet (at most once a minute per
//! configuration); they are kept in memory only. One fetch per configuration runs at a
//! time and a failure is remembered as long as a success would be, so a storm of
//! tokens naming unknown keys never becomes a storm of fetches. Where keys may be
//! fetched from is [`jwks`]'s business.

pub mod jwks;

use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Map, Value};
use steward_domain::audit::NewAuditEvent;
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::federation::{
    match_rule, EnforcementMode, FederatedMatch, ModeChange, ProofOfIdentity, TokenCheck,
    TrustConfig, TrustConfigDraft,
};
use steward_domain::grants::IssuedCredential;
use steward_domain::ports::{Federation, TokenExchange};
use steward_domain::DomainError;
use uuid::Uuid;

use super::feed::{ChangeFeed, Mark};
use super::grants::GrantService;
use super::inventory::write_error;
use super::lock;
use super::posture::PostureService;
use crate::store::write::Statement;
use crate::store::Store;

/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;
/// How often a configuration's JWKS URL may be fetched again for an unknown key.
const REFETCH_EVERY: StdDuration = StdDuration::from_secs(60);
/// The longest token accepted (bytes).
const MAX_TOKEN: usize = 16 * 1024;

/// RFC 8693 names.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A configuration ready to verify with: its decoded keys by key id.
struct Loaded {
    config: TrustConfig,
    keys: Mutex<Keys>,
    /// Held while the JWKS URL is fetched: concurrent verifications wait for that one
    /// fetch instead of starting their own.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Keys {
    decoded: Vec<KnownKey>,
    /// When the JWKS URL was last tried, and why it failed if it did.
    fetched_at: Option<Instant>,
    failure: Option<String>,
}

/// One public key of an issuer.
struct KnownKey {
    /// Empty for a key published without a `kid`.
    kid: String,
    /// The algorithm the JWKS pins it to, if any.
    algorithm: Option<Algorithm>,
    key: Arc<DecodingKey>,
}

/// A JOSE header or a JWT's claims, as JSON.
type JsonObject = Map<String, Value>;

/// The configurations as of a feed mark.
struct Cached {
    mark: Mark,
    configs: Vec<Arc<Loaded>>,
}

pub struct FederationService {
    store: Store,
    feed: Arc<ChangeFeed>,
    grants: Arc<GrantService>,
    /// Re-evaluates the findings of the identities a change names.
    posture: Arc<PostureService>,
    jwks: Mutex<jwks::JwksFetcher>,
    cache: Mutex<Option<Arc<Cached>>>,
    /// Held while the configurations are read again: a burst of verifications after a
    /// change waits for one reload instead of each building (and fetching) its own.
    reloading: tokio::sync::Mutex<()>,
}

/// Why a federated token was refused (shown to the caller).
fn refused(reason: impl Into<String>) -> DomainError {
    DomainError::CredentialRefused {
        reason: reason.into(),
    }
}

/// The usable keys of a JWKS document: asymmetric keys only.
fn decode_keys(set: &JwkSet) -> Result<Vec<KnownKey>, String> {
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            return Err(
                "the JWKS holds a symmetric (oct) key: only public keys are accepted".into(),
            );
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("a key cannot be read: {e}"))?;
        let algorithm = jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<Algorithm>().ok());
        keys.push(KnownKey {
            kid: jwk.common.key_id.clone().unwrap_or_default(),
            algorithm,
            key: Arc::new(key),
        });
    }
    if keys.is_empty() {
        return Err("the JWKS holds no keys".into());
    }
    Ok(keys)
}

fn parse_jwks(text: &str) -> Result<JwkSet, String> {
    serde_json::from_str::<JwkSet>(text).map_err(|e| {
        format!("not a JWKS document ({{\"keys\": [...]}} of RSA, EC or OKP public keys): {e}")
    })
}

/// The JOSE header and the claims of a compact JWT, not yet verified.
fn unverified(token: &str) -> Result<(JsonObject, JsonObject), String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("the token is not a signed JWT (three dot-separated parts)".into());
    }
    let part = |text: &str, what: &str| -> Result<Map<String, Value>, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| format!("the token's {what} is not base64url"))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(format!("the token's {what} is not a JSON object")),
        }
    };
    Ok((part(parts[0], "header")?, part(parts[1], "claims")?))
}

/// The algorithm a header names, refusing unsigned and symmetric tokens.
fn algorithm(header: &Map<String, Value>) -> Result<Algorithm, String> {
    let name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    match name {
        "" => Err("the token names no signing algorithm".into()),
        "none" | "None" | "NONE" => {
            Err("the token is unsigned (alg none): federated tokens must be signed".into())
        }
        "HS256" | "HS384" | "HS512" => Err(format!(
            "the token is signed with {name}, a shared-secret algorithm: federated tokens \
             must be signed with the issuer's private key (RS256, ES256, EdDSA …)"
        )),
        other => other
            .parse::<Algorithm>()
            .map_err(|_| format!("the signing algorithm {other} is not supported")),
    }
}

fn explain(error: &jsonwebtoken::errors::Error, config: &TrustConfig) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf is in the future)".into(),
        ErrorKind::InvalidAudience => format!(
            "the token's audience is not '{}' (trust configuration {})",
            config.draft.audience, config.draft.name
        ),
        ErrorKind::InvalidIssuer => format!("the token's issuer is not '{}'", config.draft.issuer),
        ErrorKind::InvalidSignature => format!(
            "the signature does not verify with the keys of trust configuration {}",
            config.draft.name
        ),
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not fit the issuer's key".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no '{claim}' claim"),
        other => format!("the token cannot be verified: {other:?}"),
    }
}

impl FederationService {
    pub fn new(
        store: Store,
        feed: Arc<ChangeFeed>,
        grants: Arc<GrantService>,
        posture: Arc<PostureService>,
    ) -> Self {
        FederationService {
            store,
            feed,
            grants,
            posture,
            jwks: Mutex::new(jwks::JwksFetcher::new(false)),
            cache: Mutex::new(None),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// Lets JWKS URLs be plain `http` to loopback addresses: a switch for tests and
    /// local development only (`STEWARD_JWKS_ALLOW_LOOPBACK_HTTP`).
    pub fn allow_loopback_jwks(&self, allow: bool) {
        *lock(&self.jwks) = jwks::JwksFetcher::new(allow);
    }

    async fn fetch_jwks(&self, url: &str) -> Result<JwkSet, String> {
        let fetcher = lock(&self.jwks).clone();
        parse_jwks(&fetcher.fetch(url).await?)
    }

    /// The configurations, current with the change feed.
    async fn configs(&self) -> Result<Vec<Arc<Loaded>>, DomainError> {
        self.feed.catch_up().await?;
        let current = || {
            lock(&self.cache)
                .clone()
                .filter(|cached| self.feed.is_current(Uuid::nil(), cached.mark))
        };
        if let Some(cached) = current() {
            return Ok(cached.configs.clone());
        }
        let _reloading = self.reloading.lock().await;
        if let Some(cached) = current() {
            return Ok(cached.configs.clone());
        }
        let previous = lock(&self.cache).clone();
        let mark = self.feed.mark();
        let stored = self.store.trust_configs().await?;
        let mut configs = Vec::with_capacity(stored.len());
        for config in stored {
            // An unchanged configuration keeps its keys fetched so far (and its fetch
            // in flight): the feed marks everything stale for changes elsewhere too.
            let unchanged = previous
                .as_ref()
                .and_then(|cached| cached.configs.iter().find(|l| l.config == config));
            if let Some(loaded) = unchanged {
                configs.push(loaded.clone());
                continue;
            }
            let mut keys = Keys::default();
            if let Some(text) = config.draft.jwks.as_deref() {
                match parse_jwks(text).and_then(|set| decode_keys(&set)) {
                    Ok(decoded) => keys.decoded = decoded,
                    Err(error) => {
                        tracing::error!(config = %config.draft.name, %error, "stored JWKS unusable")
                    }
                }
            }
            configs.push(Arc::new(Loaded {
                config,
                keys: Mutex::new(keys),
                fetching: tokio::sync::Mutex::new(()),
            }));
        }
        *lock(&self.cache) = Some(Arc::new(Cached {
            mark,
            configs: configs.clone(),
        }));
        Ok(configs)
    }

    /// The keys of `loaded` that may have signed a token with `kid`, fetching the JWKS
    /// URL when none is known yet (or the key id is new, at most once a minute).
    async fn keys_for(
        &self,
        loaded: &Loaded,
        kid: &str,
    ) -> Result<Vec<(Option<Algorithm>, Arc<DecodingKey>)>, String> {
        let pick = |keys: &Keys| -> Vec<(Option<Algorithm>, Arc<DecodingKey>)> {
            keys.decoded
                .iter()
                .filter(|k| kid.is_empty() || k.kid.is_empty() || k.kid == kid)
                .map(|k| (k.algorithm, k.key.clone()))
                .collect()
        };
        let recently = |keys: &Keys| {
            keys.fetched_at
                .is_some_and(|at| at.elapsed() <= REFETCH_EVERY)
        };
        let found = pick(&lock(&loaded.keys));
        let Some(url) = loaded.config.draft.jwks_url.as_deref() else {
            return Ok(found);
        };
        if !found.is_empty() || recently(&lock(&loaded.keys)) {
            return Ok(found);
        }
        // One fetch at a time; whoever waited for it uses its outcome.
        let _fetching = loaded.fetching.lock().await;
        {
            let keys = lock(&loaded.keys);
            if recently(&keys) {
                return match (&keys.failure, pick(&keys)) {
                    (Some(failure), found) if found.is_empty() => Err(failure.clone()),
                    (_, found) => Ok(found),
                };
            }
        }
        let fetched = match self.fetch_jwks(url).await {
            Ok(set) => decode_keys(&set),
            Err(error) => Err(error),
        };
        let mut keys = lock(&loaded.keys);
        keys.fetched_at = Some(Instant::now());
        match fetched {
            Ok(decoded) => {
                keys.decoded = decoded;
                keys.failure = None;
                Ok(pick(&keys))
            }
            Err(error) => {
                keys.failure = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Verifies a federated token: which configuration and rule it satisfies, or why
    /// it is refused.
    pub async fn verify(
        &self,
        token: &str,
    ) -> Result<(FederatedMatch, EnforcementMode), DomainError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN {
            return Err(refused("the token is too long"));
        }
        let (header, claims) = unverified(token).map_err(refused)?;
        let alg = algorithm(&header).map_err(refused)?;
        let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if issuer.is_empty() {
            return Err(refused("the token names no issuer (iss)"));
        }
        let configs = self.configs().await?;
        let candidates: Vec<&Arc<Loaded>> = configs
            .iter()
            .filter(|l| l.config.draft.issuer == issuer)
            .collect();
        if candidates.is_empty() {
            return Err(refused(format!(
                "no trust configuration accepts tokens from the issuer '{issuer}'"
            )));
        }
        let kid = header.get("kid").and_then(Value::as_str).unwrap_or("");
        // Several configurations may share an issuer (one per repository, say): each is
        // tried, and a refusal by a configuration whose checks the token passed up to
        // its claim rules is the one reported.
        let mut last = String::new();
        let mut by_rules: Option<String> = None;
        for loaded in candidates {
            let config = &loaded.config;
            let keys = match self.keys_for(loaded, kid).await {
                Ok(keys) => keys,
                Err(error) => {
                    last = error;
                    continue;
                }
            };
            if keys.is_empty() {
                last = format!(
                    "trust configuration {} has no key with the id '{kid}'",
                    config.draft.name
                );
                continue;
            }
            let mut validation = Validation::new(alg);
            validation.set_issuer(&[&config.draft.issuer]);
            validation.set_audience(&[&config.draft.audience]);
            validation.validate_nbf = true;
            validation.leeway = LEEWAY_SECONDS;
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            let mut verified = None;
            for (key_alg, key) in keys {
                if key_alg.is_some_and(|a| a != alg) {
                    last = format!(
                        "the token is signed with {alg:?} but the issuer's key is for {:?}",
                        key_alg.unwrap_or(alg)
                    );
                    continue;
                }
                match jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation) {
                    Ok(data) => {
                        verified = Some(data.claims);
                        break;
                    }
                    Err(error) => last = explain(&error, config),
                }
            }
            let Some(verified) = verified else {
                continue;
            };
            let rule = match match_rule(&config.draft.rules, &verified) {
                Ok(rule) => rule,
                Err(reason) => {
                    by_rules.get_or_insert(format!(
                        "trust configuration {}: {reason}",
                        config.draft.name
                    ));
                    continue;
                }
            };
            let subject = verified
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            return Ok((
                FederatedMatch {
                    trust_config_id: config.id,
                    trust_config: config.draft.name.clone(),
                    identity_id: rule.identity_id,
                    subject,
                    environment: rule.environment.clone(),
                },
                config.draft.mode,
            ));
        }
        Err(refused(by_rules.unwrap_or(last)))
    }

    /// Checks a draft against what needs I/O: its keys and the identities it names.
    async fn checked(&self, draft: &TrustConfigDraft) -> Result<TrustConfigDraft, DomainError> {
        draft.validate()?;
        let mut draft = draft.clone();
        draft.jwks_url = draft
            .jwks_url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        draft.jwks = draft
            .jwks
            .map(|j| j.trim().to_owned())
            .filter(|j| !j.is_empty());
        for rule in &mut draft.rules {
            rule.subject = rule
                .subject
                .take()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
        }
        let set = match (&draft.jwks_url, &draft.jwks) {
            (Some(url), _) => self
                .fetch_jwks(url)
                .await
                .map_err(|e| DomainError::invalid("jwks_url", e))?,
            (None, Some(text)) => parse_jwks(text).map_err(|e| DomainError::invalid("jwks", e))?,
            (None, None) => {
                return Err(DomainError::invalid("jwks", "the issuer's keys are needed"))
            }
        };
        decode_keys(&set).map_err(|e| {
            DomainError::invalid(
                if draft.jwks_url.is_some() {
                    "jwks_url"
                } else {
                    "jwks"
                },
                e,
            )
        })?;
        for (n, rule) in draft.rules.iter().enumerate() {
            if self.store.find_identity(rule.identity_id).await?.is_none() {
                return Err(DomainError::invalid(
                    format!("rules[{}].identity_id", n + 1),
                    format!("there is no identity {}", rule.identity_id),
                ));
            }
        }
        Ok(draft)
    }

    fn rule_identity_statements(id: Uuid, draft: &TrustConfigDraft) -> Vec<Statement> {
        let mut statements =
            vec![
                Statement::new("DELETE FROM trust_rule_identities WHERE trust_config_id = $1")
                    .bind(id),
            ];
        let mut seen = std::collections::HashSet::new();
        for rule in &draft.rules {
            if seen.insert(rule.identity_id) {
                statements.push(
                    Statement::new(
                        "INSERT INTO trust_rule_identities (trust_config_id, identity_id) VALUES ($1, $2)",
                    )
                    .bind(id)
                    .bind(rule.identity_id),
                );
            }
        }
        statements
    }

    async fn find(&self, id: Uuid) -> Result<TrustConfig, DomainError> {
        self.store
            .find_trust_config(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("trust configuration {id}")))
    }
}

#[async_trait]
impl Federation for FederationService {
    async fn trust_configs(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<TrustConfig>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(self.store.trust_configs().await?)
    }

    async fn save_trust_config(
        &self,
        principal: Option<&Principal>,
        id: Option<Uuid>,
        draft: &TrustConfigDraft,
    ) -> Result<TrustConfig, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let draft = self.checked(draft).await?;
        let before = match id {
            Some(id) => Some(self.find(id).await?),
            None => None,
        };
        let id = id.unwrap_or_else(Uuid::now_v7);
        let now = Utc::now();
        let rules = serde_json::to_string(&draft.rules).map_err(|_| DomainError::Internal)?;
        let statement = match &before {
            None => Statement::new(
                "INSERT INTO trust_configs (id, name, kind, issuer, audience, jwks_url, jwks, rules, mode, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            ),
            Some(_) => Statement::new(
                "UPDATE trust_configs SET name = $2, kind = $3, issuer = $4, audience = $5, jwks_url = $6, \
                 jwks = $7, rules = $8, mode = $9, updated_by = $10, updated_at = $11 WHERE id = $1",
            )
            .must_touch(1, "the trust configuration was deleted meanwhile"),
        }
        .bind(id)
        .bind(draft.name.clone())
        .bind(draft.kind.as_str())
        .bind(draft.issuer.clone())
        .bind(draft.audience.clone())
        .bind(draft.jwks_url.clone())
        .bind(draft.jwks.clone())
        .bind(rules)
        .bind(draft.mode.as_str())
        .bind(principal.audit_actor())
        .bind(now);
        let mut statements = vec![statement];
        statements.extend(Self::rule_identity_statements(id, &draft));
        let mut events = vec![NewAuditEvent::new(
            principal.audit_actor(),
            if before.is_some() {
                "trust.update"
            } else {
                "trust.create"
            },
            format!("trust-config:{id}"),
            json!({ "before": before.as_ref().map(|b| &b.draft), "after": &draft }),
        )];
        if let Some(before) = before.as_ref().filter(|b| b.draft.mode != draft.mode) {
            events.push(NewAuditEvent::new(
                principal.audit_actor(),
                "trust.mode_change",
                format!("trust-config:{id}"),
                json!({ "from": before.draft.mode, "to": draft.mode, "reason": "changed with the configuration" }),
            ));
        }
        self.store
            .write(&statements, |_| events)
            .await
            .map_err(|e| write_error(e, "a trust configuration with this name already exists"))?;
        let mut touched: Vec<Uuid> = draft.rules.iter().map(|r| r.identity_id).collect();
        touched.extend(
            before
                .iter()
                .flat_map(|b| b.draft.rules.iter().map(|r| r.identity_id)),
        );
        self.posture.after_change(&touched).await;
        self.find(id).await
    }

    async fn delete_trust_config(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let before = self.find(id).await?;
        let statements = [
            Statement::new("DELETE FROM trust_rule_identities WHERE trust_config_id = $1").bind(id),
            Statement::new("DELETE FROM trust_configs WHERE id = $1")
                .bind(id)
                .must_touch(1, "the trust configuration was deleted meanwhile"),
        ];
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "trust.delete",
            format!("trust-config:{id}"),
            json!({ "before": before.draft }),
        );
        self.store
            .write(&statements, |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        let touched: Vec<Uuid> = before.draft.rules.iter().map(|r| r.identity_id).collect();
        self.posture.after_change(&touched).await;
        Ok(())
    }

    async fn set_trust_mode(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        change: &ModeChange,
    ) -> Result<TrustConfig, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = change.reason()?;
        let before = self.find(id).await?;
        if before.draft.mode == change.mode {
            return Ok(before);
        }
        let statement = Statement::new(
            "UPDATE trust_configs SET mode = $2, updated_by = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(change.mode.as_str())
        .bind(principal.audit_actor())
        .bind(Utc::now())
        .must_touch(1, "the trust configuration was deleted meanwhile");
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "trust.mode_change",
            format!("trust-config:{id}"),
            json!({ "from": before.draft.mode, "to": change.mode, "reason": reason }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.find(id).await
    }

    async fn check_token(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<TokenCheck, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(match self.verify(token).await {
            Ok((matched, _)) => TokenCheck {
                matched: Some(matched),
                refusal: None,
            },
            Err(DomainError::CredentialRefused { reason }) => TokenCheck {
                matched: None,
                refusal: Some(reason),
            },
            Err(other) => return Err(other),
        })
    }

    async fn exchange(&self, request: &TokenExchange) -> Result<IssuedCredential, DomainError> {
        if request.grant_type != TOKEN_EXCHANGE_GRANT {
            return Err(DomainError::invalid(
                "grant_type",
                format!("only {TOKEN_EXCHANGE_GRANT} is supported"),
            ));
        }
        if request.subject_token.trim().is_empty() {
            return Err(DomainError::invalid(
                "subject_token",
                "the workload's token is required",
            ));
        }
        if ![JWT_TOKEN_TYPE, ID_TOKEN_TYPE, ACCESS_TOKEN_TYPE]
            .contains(&request.subject_token_type.as_str())
        {
            return Err(DomainError::invalid(
                "subject_token_type",
                format!(
                    "'{}' is not a JWT token type ({JWT_TOKEN_TYPE})",
                    request.subject_token_type
                ),
            ));
        }
        if let Some(wanted) = request.requested_token_type.as_deref() {
            if wanted != JWT_TOKEN_TYPE && wanted != ACCESS_TOKEN_TYPE {
                return Err(DomainError::invalid(
                    "requested_token_type",
                    format!("Steward issues {JWT_TOKEN_TYPE} credentials only"),
                ));
            }
        }
        let (matched, _) = self.verify(&request.subject_token).await?;
        let wanted = match request
            .resource
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            Some(resource) => Some(
                resource
                    .strip_prefix("urn:steward:grant:")
                    .unwrap_or(resource)
                    .parse::<Uuid>()
                    .map_err(|_| {
                        DomainError::invalid(
                            "resource",
                            format!("'{resource}' is not a grant (urn:steward:grant:<id>)"),
                        )
                    })?,
            ),
            None => None,
        };
        let actor = format!("trust:{} ({})", matched.trust_config, matched.credential());
        self.grants
            .exchange_credential(matched.identity_id, wanted, &actor)
            .await
    }

    async fn proof_of(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<ProofOfIdentity, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        Ok(ProofOfIdentity {
            federated: self.store.trust_coverage(identity_id).await?,
            static_secrets: self.store.static_secrets_of(identity_id).await?,
        })
    }
}

/// The trust configurations' keys cannot be fetched in a unit test; the pure parts are.
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn header(alg: &str) -> Map<String, Value> {
        json!({ "alg": alg }).as_object().unwrap().clone()
    }

    #[test]
    fn unsigned_and_symmetric_tokens_are_refused_by_name() {
        assert!(algorithm(&header("none")).unwrap_err().contains("unsigned"));
        assert!(algorithm(&header("HS256"))
            .unwrap_err()
            .contains("shared-secret"));
        assert!(algorithm(&Map::new())
            .unwrap_err()
            .contains("no signing algorithm"));
        assert_eq!(algorithm(&header("RS256")).unwrap(), Algorithm::RS256);
        assert_eq!(algorithm(&header("ES256")).unwrap(), Algorithm::ES256);
    }

    #[test]
    fn a_token_is_three_base64url_json_parts() {
        let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let token = format!(
            "{}.{}.sig",
            part(json!({"alg": "RS256"})),
            part(json!({"iss": "x"}))
        );
        let (h, c) = unverified(&token).unwrap();
        assert_eq!(h["alg"], "RS256");
        assert_eq!(c["iss"], "x");
        assert!(unverified("a.b").unwrap_err().contains("three"));
        assert!(unverified("!!.b.c").unwrap_err().contains("base64url"));
    }

    #[test]
    fn a_jwks_with_a_symmetric_key_or_no_key_is_refused() {
        let oct = parse_jwks(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#).unwrap();
        assert!(decode_keys(&oct)
            .map(|_| ())
            .unwrap_err()
            .contains("symmetric"));
        let empty = parse_jwks(r#"{"keys":[]}"#).unwrap();
        assert!(decode_keys(&empty)
            .map(|_| ())
            .unwrap_err()
            .contains("no keys"));
        assert!(parse_jwks("[]").unwrap_err().contains("not a JWKS"));
    }
}
